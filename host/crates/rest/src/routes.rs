//! The route table and its handlers.
//!
//! [`ROUTES`] is the single list of `(method, path)` pairs: the server registers exactly these
//! (one actix resource per distinct path, so a known path with another method answers 405),
//! and the tests check the OpenAPI document against it in both directions.
//!
//! Connector names (decided here, documented in the crate docs): a name given in a path is
//! percent-decoded and passed to the herder as is, so an unknown one is simply a 404. A new
//! name (POST /connectors, PUT .../config) must be non-empty and free of control characters
//! (as Kafka's `NonEmptyStringWithoutControlChars`), must not contain `/`, and must not be
//! `.` or `..` (those could not be addressed through a path afterwards): all refused with 400.

use crate::entities::{
    ActiveTopicsInfo, ConnectorOffsets, CreateConnectorRequest, Health, NullableStringMap,
    StringMap, WorkerStatus,
};
use crate::error::ApiError;
use crate::herder::{Herder, HerderError, LogControl};
use actix_web::http::header::{self, ContentType};
use actix_web::http::{Method, StatusCode};
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    /// The upper-case name, as in an `Allow` header.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// The lower-case name, as an OpenAPI operation key.
    pub fn openapi_key(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Post => "post",
            HttpMethod::Put => "put",
            HttpMethod::Patch => "patch",
            HttpMethod::Delete => "delete",
        }
    }

    pub(crate) fn to_actix(self) -> Method {
        match self {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Patch => Method::PATCH,
            HttpMethod::Delete => Method::DELETE,
        }
    }
}

/// One route: its method, its path template (`{name}` for a path parameter, the same syntax
/// in actix and OpenAPI) and how its handler is attached.
pub struct RouteSpec {
    pub method: HttpMethod,
    pub path: &'static str,
    pub summary: &'static str,
    pub(crate) attach: fn(actix_web::Route) -> actix_web::Route,
}

/// Every route the server answers.
pub static ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: HttpMethod::Get,
        path: "/",
        summary: "Worker version, commit and Kafka cluster id",
        attach: |route| route.to(server_info),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/health",
        summary: "Worker health (KIP-1017)",
        attach: |route| route.to(health),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/metrics",
        summary: "Worker, connector and task metrics in Prometheus text format",
        attach: |route| route.to(metrics),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/openapi.json",
        summary: "This API's OpenAPI document",
        attach: |route| route.to(openapi),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors",
        summary: "List connectors, optionally expanded with status and info",
        attach: |route| route.to(list_connectors),
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/connectors",
        summary: "Create a connector",
        attach: |route| route.to(create_connector),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors/{connector}",
        summary: "A connector's config and tasks",
        attach: |route| route.to(get_connector),
    },
    RouteSpec {
        method: HttpMethod::Delete,
        path: "/connectors/{connector}",
        summary: "Delete a connector",
        attach: |route| route.to(delete_connector),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors/{connector}/config",
        summary: "A connector's config",
        attach: |route| route.to(get_connector_config),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/connectors/{connector}/config",
        summary: "Create or replace a connector's config",
        attach: |route| route.to(put_connector_config),
    },
    RouteSpec {
        method: HttpMethod::Patch,
        path: "/connectors/{connector}/config",
        summary: "Patch a connector's config; null deletes a key (KIP-477)",
        attach: |route| route.to(patch_connector_config),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors/{connector}/status",
        summary: "A connector's and its tasks' states",
        attach: |route| route.to(connector_status),
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/connectors/{connector}/restart",
        summary: "Restart a connector and optionally its tasks (KIP-745)",
        attach: |route| route.to(restart_connector),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/connectors/{connector}/pause",
        summary: "Pause a connector and its tasks",
        attach: |route| route.to(pause_connector),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/connectors/{connector}/resume",
        summary: "Resume a paused or stopped connector",
        attach: |route| route.to(resume_connector),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/connectors/{connector}/stop",
        summary: "Stop a connector and shut its tasks down (KIP-875)",
        attach: |route| route.to(stop_connector),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors/{connector}/tasks",
        summary: "A connector's task configs",
        attach: |route| route.to(task_configs),
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/connectors/{connector}/tasks",
        summary: "Internal: a follower hands a connector's task configs to the leader",
        attach: |route| route.to(put_task_configs),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/connectors/{connector}/fence",
        summary: "Internal: a worker asks the leader to fence a source connector's older task producers (KIP-618)",
        attach: |route| route.to(fence_zombies),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors/{connector}/tasks/{task}/status",
        summary: "One task's state",
        attach: |route| route.to(task_status),
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/connectors/{connector}/tasks/{task}/restart",
        summary: "Restart one task",
        attach: |route| route.to(restart_task),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors/{connector}/offsets",
        summary: "A connector's committed offsets (KIP-875)",
        attach: |route| route.to(get_offsets),
    },
    RouteSpec {
        method: HttpMethod::Patch,
        path: "/connectors/{connector}/offsets",
        summary: "Alter a stopped connector's offsets",
        attach: |route| route.to(alter_offsets),
    },
    RouteSpec {
        method: HttpMethod::Delete,
        path: "/connectors/{connector}/offsets",
        summary: "Reset a stopped connector's offsets",
        attach: |route| route.to(reset_offsets),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connectors/{connector}/topics",
        summary: "Topics a connector has used (KIP-558)",
        attach: |route| route.to(active_topics),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/connectors/{connector}/topics/reset",
        summary: "Forget the topics a connector has used",
        attach: |route| route.to(reset_active_topics),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connector-plugins",
        summary: "Installed plugins",
        attach: |route| route.to(list_plugins),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/connector-plugins/{plugin}/config",
        summary: "A plugin's config definition",
        attach: |route| route.to(plugin_config),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/connector-plugins/{plugin}/config/validate",
        summary: "Validate a connector config",
        attach: |route| route.to(validate_config),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/admin/loggers",
        summary: "Loggers with an explicit level (KIP-495)",
        attach: |route| route.to(list_loggers),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/admin/loggers/{logger}",
        summary: "One logger's level",
        attach: |route| route.to(get_logger),
    },
    RouteSpec {
        method: HttpMethod::Put,
        path: "/admin/loggers/{logger}",
        summary: "Set a logger's level on this worker or the cluster",
        attach: |route| route.to(set_logger_level),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/kconnect/cluster",
        summary: "kconnect: this worker, its group and its plugin load failures",
        attach: |route| route.to(crate::console::cluster),
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/kconnect/preview",
        summary: "kconnect: sample records through a config's converters and transformations",
        attach: |route| route.to(crate::console::preview),
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/kconnect/connectors/{connector}/history",
        summary: "kconnect: every version of a connector's config",
        attach: |route| route.to(crate::console::config_history),
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/kconnect/connectors/{connector}/history/{version}/rollback",
        summary: "kconnect: write an earlier version of a connector's config",
        attach: |route| route.to(crate::console::rollback),
    },
];

/// The OpenAPI 3 document served at `/openapi.json`.
pub const OPENAPI_DOCUMENT: &str = include_str!("openapi.json");

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) herder: Arc<dyn Herder>,
    pub(crate) logs: Arc<dyn LogControl>,
    pub(crate) request_timeout: Duration,
    pub(crate) health_check_timeout: Duration,
}

impl AppState {
    /// Awaits a herder call once the worker has started, giving up after the request timeout:
    /// 503 while the worker is still starting, 500 when the call itself took too long.
    pub(crate) async fn call<T>(&self, call: impl Future<Output = T>) -> Result<T, ApiError> {
        let deadline = tokio::time::Instant::now() + self.request_timeout;
        tokio::time::timeout_at(deadline, self.herder.started())
            .await
            .map_err(|_| ApiError::still_starting())?;
        tokio::time::timeout_at(deadline, call)
            .await
            .map_err(|_| ApiError::timed_out())
    }

    /// Awaits a herder call that is right at any time (`GET /`, `/metrics`), giving up after the
    /// request timeout.
    async fn call_while_starting<T>(&self, call: impl Future<Output = T>) -> Result<T, ApiError> {
        tokio::time::timeout(self.request_timeout, call)
            .await
            .map_err(|_| ApiError::timed_out())
    }

    /// Awaits a fallible herder call; its error becomes the answer.
    pub(crate) async fn run<T>(
        &self,
        call: impl Future<Output = Result<T, HerderError>>,
    ) -> Result<T, ApiError> {
        Ok(self.call(call).await??)
    }
}

type Answer = Result<HttpResponse, ApiError>;

fn json(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

/// Query parameters in order, repeated keys kept.
type QueryPairs = Query<Vec<(String, String)>>;

fn query_values<'a>(query: &'a QueryPairs, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    query
        .iter()
        .filter(move |(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// A boolean query parameter: `true`/`false` in any case; absent or empty gives the default.
fn query_flag(query: &QueryPairs, key: &str, default: bool) -> Result<bool, ApiError> {
    match query_values(query, key).next() {
        None | Some("") => Ok(default),
        Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
        Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
        Some(value) => Err(ApiError::bad_request(format!(
            "Invalid value '{value}' for query parameter '{key}': expected true or false"
        ))),
    }
}

/// As Kafka: the config's `name` must equal the connector name, and is filled in when absent.
fn check_and_put_name(name: &str, config: &mut BTreeMap<String, String>) -> Result<(), ApiError> {
    match config.get("name") {
        Some(included) if included != name => Err(ApiError::bad_request(format!(
            "Connector name configuration ({included}) doesn't match connector name in the URL ({name})"
        ))),
        Some(_) => Ok(()),
        None => {
            config.insert("name".to_string(), name.to_string());
            Ok(())
        }
    }
}

/// The rules for a name a connector is created under; see the module docs.
fn check_new_connector_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("Connector name must not be empty"));
    }
    if let Some(control) = name.chars().find(|c| c.is_control()) {
        return Err(ApiError::bad_request(format!(
            "Connector name may not contain control characters, found U+{:04X}",
            u32::from(control)
        )));
    }
    if name.contains('/') {
        return Err(ApiError::bad_request(format!(
            "Connector name '{name}' may not contain '/': the connector could not be addressed in REST paths"
        )));
    }
    if name == "." || name == ".." {
        return Err(ApiError::bad_request(format!(
            "Connector name may not be '{name}': HTTP clients rewrite such path segments"
        )));
    }
    Ok(())
}

/// Percent-encodes one path segment, keeping RFC 3986 unreserved characters and sub-delimiters.
fn encode_path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte);
        if keep {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// An absolute `Location` for a connector, as JAX-RS makes from Kafka's relative one.
fn connector_location(request: &HttpRequest, name: &str) -> String {
    let info = request.connection_info();
    format!(
        "{}://{}/connectors/{}",
        info.scheme(),
        info.host(),
        encode_path_segment(name)
    )
}

/// Task ids are non-negative integers; anything else names no task.
fn parse_task_id(connector: &str, task: &str) -> Result<u32, ApiError> {
    task.parse().map_err(|_| {
        ApiError::not_found(format!(
            "Unknown task '{task}' of connector {connector}: a task id is a non-negative integer"
        ))
    })
}

async fn server_info(state: Data<AppState>) -> Answer {
    let info = state
        .call_while_starting(state.herder.server_info())
        .await?;
    Ok(json(StatusCode::OK, &info))
}

async fn health(state: Data<AppState>) -> Answer {
    let health = tokio::time::timeout(state.health_check_timeout, state.herder.health())
        .await
        .unwrap_or_else(|_| Health::Unhealthy(Some("The health check timed out.".to_string())));
    let status = match health {
        Health::Healthy => StatusCode::OK,
        Health::Starting(_) => StatusCode::SERVICE_UNAVAILABLE,
        Health::Unhealthy(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Ok(json(status, &WorkerStatus::from_health(&health)))
}

async fn metrics(state: Data<AppState>) -> Answer {
    let text = state.call_while_starting(state.herder.metrics()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(OPENAPI_DOCUMENT)
}

async fn list_connectors(state: Data<AppState>, query: QueryPairs) -> Answer {
    if query_values(&query, "expand").next().is_none() {
        let names = state.call(state.herder.connectors()).await?;
        return Ok(json(StatusCode::OK, &names));
    }
    let mut status = false;
    let mut info = false;
    for expansion in query_values(&query, "expand") {
        match expansion {
            "status" => status = true,
            "info" => info = true,
            unknown => log::debug!("Ignoring unknown expansion type {unknown}"),
        }
    }
    let expanded = state
        .run(state.herder.connectors_expanded(status, info))
        .await?;
    Ok(json(StatusCode::OK, &expanded))
}

async fn create_connector(
    state: Data<AppState>,
    request: HttpRequest,
    body: Json<CreateConnectorRequest>,
) -> Answer {
    let body = body.into_inner();
    let name = body.name.as_deref().map(str::trim).ok_or_else(|| {
        ApiError::bad_request("Connector name is required: give \"name\" in the request body")
    })?;
    let mut config = body.config.ok_or_else(|| {
        ApiError::bad_request("Connector config is required: give \"config\" in the request body")
    })?;
    check_and_put_name(name, &mut config)?;
    check_new_connector_name(name)?;
    let (_, info) = state
        .run(
            state
                .herder
                .put_connector_config(name, config, false, body.initial_state),
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, connector_location(&request, name)))
        .json(info))
}

async fn get_connector(state: Data<AppState>, name: Path<String>) -> Answer {
    let info = state.run(state.herder.connector_info(&name)).await?;
    Ok(json(StatusCode::OK, &info))
}

async fn delete_connector(state: Data<AppState>, name: Path<String>) -> Answer {
    state.run(state.herder.delete_connector(&name)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn get_connector_config(state: Data<AppState>, name: Path<String>) -> Answer {
    let config = state.run(state.herder.connector_config(&name)).await?;
    Ok(json(StatusCode::OK, &config))
}

async fn put_connector_config(
    state: Data<AppState>,
    request: HttpRequest,
    name: Path<String>,
    body: Json<StringMap>,
) -> Answer {
    let mut config = body.into_inner().0;
    check_and_put_name(&name, &mut config)?;
    check_new_connector_name(&name)?;
    let (created, info) = state
        .run(state.herder.put_connector_config(&name, config, true, None))
        .await?;
    if created {
        Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, connector_location(&request, &name)))
            .json(info))
    } else {
        Ok(json(StatusCode::OK, &info))
    }
}

async fn patch_connector_config(
    state: Data<AppState>,
    name: Path<String>,
    body: Json<NullableStringMap>,
) -> Answer {
    let patch = body.into_inner().0;
    if let Some(Some(included)) = patch.get("name") {
        if included != name.as_str() {
            return Err(ApiError::bad_request(format!(
                "Connector name configuration ({included}) doesn't match connector name in the URL ({name})"
            )));
        }
    }
    let info = state
        .run(state.herder.patch_connector_config(&name, patch))
        .await?;
    Ok(json(StatusCode::OK, &info))
}

async fn connector_status(state: Data<AppState>, name: Path<String>) -> Answer {
    let status = state.run(state.herder.connector_status(&name)).await?;
    Ok(json(StatusCode::OK, &status))
}

async fn restart_connector(state: Data<AppState>, name: Path<String>, query: QueryPairs) -> Answer {
    let include_tasks = query_flag(&query, "includeTasks", false)?;
    let only_failed = query_flag(&query, "onlyFailed", false)?;
    let restarted = state
        .run(
            state
                .herder
                .restart_connector(&name, include_tasks, only_failed),
        )
        .await?;
    if !include_tasks && !only_failed {
        return Ok(HttpResponse::NoContent().finish());
    }
    let status = match restarted {
        Some(status) => status,
        None => state.run(state.herder.connector_status(&name)).await?,
    };
    Ok(json(StatusCode::ACCEPTED, &status))
}

async fn pause_connector(state: Data<AppState>, name: Path<String>) -> Answer {
    state.run(state.herder.pause_connector(&name)).await?;
    Ok(HttpResponse::Accepted().finish())
}

async fn resume_connector(state: Data<AppState>, name: Path<String>) -> Answer {
    state.run(state.herder.resume_connector(&name)).await?;
    Ok(HttpResponse::Accepted().finish())
}

async fn stop_connector(state: Data<AppState>, name: Path<String>) -> Answer {
    state.run(state.herder.stop_connector(&name)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn task_configs(state: Data<AppState>, name: Path<String>) -> Answer {
    let tasks = state.run(state.herder.task_configs(&name)).await?;
    Ok(json(StatusCode::OK, &tasks))
}

/// Kafka's headers of a signed internal request (KIP-507).
pub(crate) const SIGNATURE_ALGORITHM_HEADER: &str = "X-Connect-Request-Signature-Algorithm";
pub(crate) const SIGNATURE_HEADER: &str = "X-Connect-Authorization";

/// The body is taken as bytes: a signature covers exactly the bytes sent.
async fn put_task_configs(
    state: Data<AppState>,
    request: HttpRequest,
    name: Path<String>,
    body: actix_web::web::Bytes,
) -> Answer {
    let configs: Vec<BTreeMap<String, String>> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "Task configs must be a JSON list of string maps: {e}"
        ))
    })?;
    let signature = internal_signature(&request, &body);
    state
        .run(state.herder.put_task_configs(&name, configs, signature))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The KIP-507 signature an internal request carries, with the body bytes it signs.
fn internal_signature(
    request: &HttpRequest,
    body: &[u8],
) -> Option<crate::herder::InternalRequestSignature> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    match (header(SIGNATURE_ALGORITHM_HEADER), header(SIGNATURE_HEADER)) {
        (Some(algorithm), Some(signature)) => Some(crate::herder::InternalRequestSignature {
            algorithm,
            signature,
            body: body.to_vec(),
        }),
        _ => None,
    }
}

/// The body is whatever the asking worker sent (Kafka sends none); only its signature counts.
async fn fence_zombies(
    state: Data<AppState>,
    request: HttpRequest,
    name: Path<String>,
    body: actix_web::web::Bytes,
) -> Answer {
    let signature = internal_signature(&request, &body);
    state
        .run(state.herder.fence_zombies(&name, signature))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn task_status(state: Data<AppState>, path: Path<(String, String)>) -> Answer {
    let (name, task) = path.into_inner();
    let task = parse_task_id(&name, &task)?;
    let status = state.run(state.herder.task_status(&name, task)).await?;
    Ok(json(StatusCode::OK, &status))
}

async fn restart_task(state: Data<AppState>, path: Path<(String, String)>) -> Answer {
    let (name, task) = path.into_inner();
    let task = parse_task_id(&name, &task)?;
    state.run(state.herder.restart_task(&name, task)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn get_offsets(state: Data<AppState>, name: Path<String>) -> Answer {
    let offsets = state.run(state.herder.connector_offsets(&name)).await?;
    Ok(json(StatusCode::OK, &offsets))
}

async fn alter_offsets(
    state: Data<AppState>,
    name: Path<String>,
    body: Json<ConnectorOffsets>,
) -> Answer {
    let offsets = body.into_inner();
    if offsets.offsets.is_empty() {
        return Err(ApiError::bad_request(
            "Partitions / offsets need to be provided for an alter offsets request",
        ));
    }
    let message = state
        .run(state.herder.alter_connector_offsets(&name, offsets))
        .await?;
    Ok(json(StatusCode::OK, &message))
}

async fn reset_offsets(state: Data<AppState>, name: Path<String>) -> Answer {
    let message = state
        .run(state.herder.reset_connector_offsets(&name))
        .await?;
    Ok(json(StatusCode::OK, &message))
}

async fn active_topics(state: Data<AppState>, name: Path<String>) -> Answer {
    let topics = state.run(state.herder.active_topics(&name)).await?;
    let body = BTreeMap::from([(name.into_inner(), ActiveTopicsInfo { topics })]);
    Ok(json(StatusCode::OK, &body))
}

async fn reset_active_topics(state: Data<AppState>, name: Path<String>) -> Answer {
    state.run(state.herder.reset_active_topics(&name)).await?;
    Ok(HttpResponse::Accepted().finish())
}

async fn list_plugins(state: Data<AppState>, query: QueryPairs) -> Answer {
    let connectors_only = query_flag(&query, "connectorsOnly", true)?;
    let mut plugins = state.call(state.herder.plugins(connectors_only)).await?;
    if connectors_only {
        plugins.retain(|plugin| plugin.plugin_type.is_connector());
    }
    Ok(json(StatusCode::OK, &plugins))
}

async fn plugin_config(state: Data<AppState>, plugin: Path<String>) -> Answer {
    let keys = state.run(state.herder.plugin_config(&plugin)).await?;
    Ok(json(StatusCode::OK, &keys))
}

/// A class name's alias: the simple or full name without a trailing `Connector`.
fn without_connector_suffix(name: &str) -> &str {
    match name.strip_suffix("Connector") {
        Some(alias) if !alias.is_empty() => alias,
        _ => name,
    }
}

/// As Kafka: `connector.class` matches the plugin in the path when, both without a
/// `Connector` suffix, the class ends with the plugin name (full name, simple name or alias).
fn connector_class_matches(connector_class: &str, plugin: &str) -> bool {
    without_connector_suffix(connector_class).ends_with(without_connector_suffix(plugin))
}

async fn validate_config(
    state: Data<AppState>,
    plugin: Path<String>,
    body: Json<StringMap>,
) -> Answer {
    let config = body.into_inner().0;
    if let Some(connector_class) = config.get("connector.class") {
        if !connector_class_matches(connector_class, &plugin) {
            return Err(ApiError::bad_request(format!(
                "Included connector type {connector_class} does not match request type {plugin}"
            )));
        }
    }
    let infos = state
        .run(state.herder.validate_config(&plugin, config))
        .await?;
    Ok(json(StatusCode::OK, &infos))
}

/// log4j's level names, which Kafka accepts in any case.
const LOG_LEVELS: [&str; 8] = [
    "OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL",
];

async fn list_loggers(state: Data<AppState>) -> Answer {
    Ok(json(StatusCode::OK, &state.logs.loggers()))
}

async fn get_logger(state: Data<AppState>, logger: Path<String>) -> Answer {
    match state.logs.logger(&logger) {
        Some(level) => Ok(json(StatusCode::OK, &level)),
        None => Err(ApiError::not_found(format!("Logger {logger} not found."))),
    }
}

async fn set_logger_level(
    state: Data<AppState>,
    logger: Path<String>,
    query: QueryPairs,
    body: Json<NullableStringMap>,
) -> Answer {
    let requested = body
        .into_inner()
        .0
        .remove("level")
        .flatten()
        .ok_or_else(|| {
            ApiError::bad_request("Desired 'level' parameter was not specified in request.")
        })?;
    let level = requested.to_ascii_uppercase();
    if !LOG_LEVELS.contains(&level.as_str()) {
        // Kafka answers 404 here, not 400.
        return Err(ApiError::not_found(format!(
            "invalid log level '{requested}'."
        )));
    }
    let scope = query_values(&query, "scope").next().unwrap_or("worker");
    if scope.eq_ignore_ascii_case("cluster") {
        state.logs.set_cluster_level(&logger, &level)?;
        return Ok(HttpResponse::NoContent().finish());
    }
    if !scope.eq_ignore_ascii_case("worker") {
        log::warn!(
            "Received invalid scope '{scope}' in request to adjust logging level; will default to worker"
        );
    }
    let changed = state.logs.set_level(&logger, &level)?;
    Ok(json(StatusCode::OK, &changed))
}

/// Answer for a known path with a method it does not serve.
pub(crate) async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    let allowed: Vec<&str> = match request.match_pattern() {
        Some(pattern) => ROUTES
            .iter()
            .filter(|route| route.path == pattern)
            .map(|route| route.method.as_str())
            .collect(),
        None => Vec::new(),
    };
    let mut response = actix_web::ResponseError::error_response(&ApiError::new(
        405,
        "HTTP 405 Method Not Allowed",
    ));
    if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Answer for a path no route has.
pub(crate) async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("HTTP 404 Not Found"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn routes_are_unique() {
        let mut seen = HashSet::new();
        for route in ROUTES {
            assert!(
                seen.insert((route.method, route.path)),
                "{} {} listed twice",
                route.method.as_str(),
                route.path
            );
        }
    }

    #[test]
    fn connector_class_matches_by_full_name_simple_name_or_alias() {
        let class = "org.apache.kafka.connect.file.FileStreamSinkConnector";
        assert!(connector_class_matches(class, "FileStreamSinkConnector"));
        assert!(connector_class_matches(class, "FileStreamSink"));
        assert!(connector_class_matches(class, class));
        assert!(connector_class_matches(
            "FileStreamSink",
            "FileStreamSinkConnector"
        ));
        assert!(!connector_class_matches(class, "FileStreamSource"));
        assert!(!connector_class_matches("Connector", "FileStreamSink"));
    }

    #[test]
    fn new_connector_names_are_checked() {
        assert!(check_new_connector_name("my-connector.v2 (prod)").is_ok());
        for bad in ["", "a/b", ".", "..", "a\nb", "tab\there", "nul\0"] {
            let error = check_new_connector_name(bad).unwrap_err();
            assert_eq!(error.status, 400, "{bad:?}");
        }
        assert!(check_new_connector_name("a\u{7}")
            .unwrap_err()
            .message
            .contains("U+0007"));
    }

    #[test]
    fn config_name_is_filled_in_or_must_match() {
        let mut config = BTreeMap::new();
        check_and_put_name("c", &mut config).unwrap();
        assert_eq!(config["name"], "c");
        config.insert("name".into(), "other".into());
        let error = check_and_put_name("c", &mut config).unwrap_err();
        assert_eq!(
            error.message,
            "Connector name configuration (other) doesn't match connector name in the URL (c)"
        );
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_path_segment("a b/c%é"), "a%20b%2Fc%25%C3%A9");
        assert_eq!(encode_path_segment("plain-name_1.x"), "plain-name_1.x");
    }

    #[test]
    fn task_ids_must_be_non_negative_integers() {
        assert_eq!(parse_task_id("c", "3").unwrap(), 3);
        for bad in ["-1", "x", "", "1.5", "99999999999"] {
            assert_eq!(parse_task_id("c", bad).unwrap_err().status, 404, "{bad}");
        }
    }
}
