//! Starting and stopping the HTTP server.
//!
//! The app answers only with JSON: body-parsing, path and query failures go through error
//! handlers that build an [`ApiError`], unknown paths get a JSON 404 and known paths with the
//! wrong method a JSON 405 with an `Allow` header. Trailing slashes are trimmed before routing
//! (`/connectors/` is `/connectors`, as in Kafka).
//!
//! Listeners and what they serve (KIP-495): the regular listeners serve every route, `/admin/*`
//! included only while `admin.listeners` is unset; admin listeners form a second server that
//! serves `/admin/*` only. A path a listener does not serve is a JSON 404 there.
//!
//! Layers, outermost first: request log, CORS (answers preflights), basic authentication, path
//! normalisation, routes (the API's, then the console's files at `/ui/`). So a 401 is logged and carries CORS headers, and a preflight never
//! needs credentials.

use crate::auth::require_credentials;
use crate::config::{advertised_url, parse_listener, Listener, RestConfig};
use crate::cors::cross_origin;
use crate::error::{ApiError, RestError};
use crate::herder::{Herder, LogControl};
use crate::routes::{method_not_allowed, not_found, AppState, RouteSpec, ROUTES};
use crate::tls::TlsConfig;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::middleware::{from_fn, Logger, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpRequest, HttpServer};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// Which routes a server serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The regular listeners; `/admin/*` too when `with_admin`.
    Regular { with_admin: bool },
    /// `admin.listeners`: `/admin/*` only.
    Admin,
}

impl Role {
    fn serves(self, route: &RouteSpec) -> bool {
        let admin_route = route.path.starts_with("/admin/");
        match self {
            Role::Regular { with_admin } => with_admin || !admin_route,
            Role::Admin => admin_route,
        }
    }
}

/// One running actix server (the regular one or the admin one).
struct Running {
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A running REST server. Dropping it leaves the server running until the runtime ends;
/// call [`RestServer::stop`] to shut it down.
pub struct RestServer {
    local_addrs: Vec<SocketAddr>,
    admin_addrs: Vec<SocketAddr>,
    advertised_url: String,
    running: Vec<Running>,
}

/// Binds every listener of a list, in order.
fn bind_all(
    urls: &[String],
    tls: Option<&TlsConfig>,
    tls_prefix: &str,
) -> Result<Vec<(Listener, TcpListener, SocketAddr)>, RestError> {
    let mut bound = Vec::with_capacity(urls.len());
    for url in urls {
        let listener = parse_listener(url)?;
        if listener.https && tls.is_none() {
            return Err(RestError::MissingTls {
                listener: url.clone(),
                prefix: tls_prefix.to_string(),
            });
        }
        let bind_error = |source| RestError::Bind {
            listener: url.clone(),
            address: listener.address,
            source,
        };
        let socket = TcpListener::bind(listener.address).map_err(bind_error)?;
        socket.set_nonblocking(true).map_err(bind_error)?;
        let local = socket.local_addr().map_err(bind_error)?;
        bound.push((listener, socket, local));
    }
    Ok(bound)
}

/// Attaches bound sockets (TLS ones through rustls) to a new server and runs it. A macro
/// because actix's server type carries the app factory's unnameable closure type.
macro_rules! serve {
    ($factory:expr, $config:expr, $sockets:expr, $tls:expr) => {{
        let tls: Option<&TlsConfig> = $tls;
        let attach = || -> Result<Running, RestError> {
            let mut server = HttpServer::new($factory)
                .workers($config.workers.max(1))
                .disable_signals()
                .shutdown_timeout($config.shutdown_timeout.as_secs());
            for (listener, socket, _) in $sockets {
                server = match (listener.https, tls) {
                    (true, Some(tls)) => server
                        .listen_rustls_0_23(socket, tls.server_config())
                        .map_err(RestError::Server)?,
                    _ => server.listen(socket).map_err(RestError::Server)?,
                };
            }
            let server = server.run();
            let handle = server.handle();
            let task = tokio::spawn(server);
            Ok(Running { handle, task })
        };
        attach()
    }};
}

/// True when two listener addresses would take the same port on some interface.
fn same_socket(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

impl RestServer {
    /// Binds every listener, then serves the API. Must be called within a Tokio runtime.
    pub async fn start(
        config: RestConfig,
        herder: Arc<dyn Herder>,
        logs: Arc<dyn LogControl>,
    ) -> Result<RestServer, RestError> {
        if config.listeners.is_empty() {
            return Err(RestError::NoListeners);
        }
        let security = &config.security;
        let admin_urls = security.admin_listeners.clone().unwrap_or_default();
        for admin in &admin_urls {
            let admin_address = parse_listener(admin)?.address;
            for regular in &config.listeners {
                if same_socket(admin_address, parse_listener(regular)?.address) {
                    return Err(RestError::OverlappingAdminListener {
                        admin: admin.clone(),
                        listener: regular.clone(),
                    });
                }
            }
        }
        let regular = bind_all(
            &config.listeners,
            security.tls.as_ref(),
            crate::security::LISTENERS_TLS_PREFIX,
        )?;
        let admin = bind_all(
            &admin_urls,
            security.admin_tls.as_ref(),
            crate::security::ADMIN_LISTENERS_TLS_PREFIX,
        )?;
        let local_addrs: Vec<SocketAddr> = regular.iter().map(|(_, _, local)| *local).collect();
        let admin_addrs: Vec<SocketAddr> = admin.iter().map(|(_, _, local)| *local).collect();
        let advertised = advertised_url(
            &config,
            &regular
                .iter()
                .map(|(listener, _, local)| (listener.clone(), *local))
                .collect::<Vec<_>>(),
        );

        let state = web::Data::new(AppState {
            herder,
            logs,
            request_timeout: config.request_timeout,
            health_check_timeout: config.health_check_timeout,
        });
        let forwarder = web::Data::new(crate::forward::Forwarder::new(
            config.request_timeout,
            config.max_body_bytes,
            security.tls.as_ref(),
        )?);
        let basic_auth = web::Data::new(security.basic_auth.clone());
        let cors = web::Data::new(security.cors.clone());
        let max_body_bytes = config.max_body_bytes;
        let ui_enabled = config.ui_enabled;
        let app_factory = |role: Role| {
            let state = state.clone();
            let forwarder = forwarder.clone();
            let basic_auth = basic_auth.clone();
            let cors = cors.clone();
            move || {
                App::new()
                    .app_data(state.clone())
                    .app_data(forwarder.clone())
                    .app_data(basic_auth.clone())
                    .app_data(cors.clone())
                    .app_data(
                        web::JsonConfig::default()
                            .limit(max_body_bytes)
                            .error_handler(move |error, _| json_error(error, max_body_bytes)),
                    )
                    .app_data(web::PathConfig::default().error_handler(path_error))
                    .app_data(web::QueryConfig::default().error_handler(query_error))
                    .configure(|routes| register_routes(routes, role))
                    .configure(|routes| {
                        if ui_enabled && role != Role::Admin {
                            register_console(routes)
                        }
                    })
                    .default_service(web::to(not_found))
                    .wrap(from_fn(crate::forward::forward_elsewhere))
                    .wrap(NormalizePath::new(TrailingSlash::Trim))
                    .wrap(from_fn(crate::console::note_ui_slash))
                    .wrap(from_fn(require_credentials))
                    .wrap(from_fn(cross_origin))
                    // One line per request, as Kafka's request log: peer, request line, status,
                    // bytes, milliseconds. Never headers, so never credentials.
                    .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
            }
        };

        let with_admin = security.admin_listeners.is_none();
        let mut running = Vec::with_capacity(2);
        let regular_server = serve!(
            app_factory(Role::Regular { with_admin }),
            config,
            regular,
            security.tls.as_ref()
        )?;
        running.push(regular_server);
        if !admin.is_empty() {
            match serve!(
                app_factory(Role::Admin),
                config,
                admin,
                security.admin_tls.as_ref()
            ) {
                Ok(admin_server) => running.push(admin_server),
                Err(error) => {
                    for server in running {
                        server.handle.stop(false).await;
                    }
                    return Err(error);
                }
            }
        }
        log::info!(
            "REST server listening on {local_addrs:?}, advertised as {advertised}{}{}",
            match &security.admin_listeners {
                None => String::new(),
                Some(admin) if admin.is_empty() => "; admin endpoints disabled".to_string(),
                Some(_) => format!("; admin endpoints only on {admin_addrs:?}"),
            },
            if security.basic_auth.is_some() {
                "; basic authentication required"
            } else {
                ""
            }
        );
        Ok(RestServer {
            local_addrs,
            admin_addrs,
            advertised_url: advertised,
            running,
        })
    }

    /// The bound addresses of the regular listeners, in listener order (useful with port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The bound addresses of the admin listeners (`admin.listeners`), in order; empty unless
    /// admin listeners are configured.
    pub fn admin_addrs(&self) -> &[SocketAddr] {
        &self.admin_addrs
    }

    /// The URL to advertise for this worker, e.g. `http://host:8083` (no trailing slash).
    pub fn advertised_url(&self) -> &str {
        &self.advertised_url
    }

    /// Stops accepting, lets in-flight requests finish (up to the shutdown timeout), and waits.
    pub async fn stop(self) {
        for server in &self.running {
            server.handle.stop(true).await;
        }
        for server in self.running {
            if let Err(error) = server.task.await {
                log::warn!("REST server task ended abnormally: {error}");
            }
        }
    }
}

/// Registers the [`ROUTES`] `role` serves: one resource per distinct path, each answering 405
/// to other methods.
fn register_routes(config: &mut web::ServiceConfig, role: Role) {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in ROUTES.iter().filter(|route| role.serves(route)) {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path).default_service(web::to(method_not_allowed));
        for route in ROUTES.iter().filter(|route| route.path == path) {
            resource = resource.route((route.attach)(web::method(route.method.to_actix())));
        }
        config.service(resource);
    }
}

/// The console's files: GET (and HEAD, which actix answers from GET) at `/ui` and below.
fn register_console(config: &mut web::ServiceConfig) {
    for path in ["/ui", "/ui/{file:.*}"] {
        config.service(
            web::resource(path)
                .default_service(web::to(crate::console::ui_method_not_allowed))
                .route(web::get().to(crate::console::ui_file)),
        );
    }
}

/// Maps body errors to Kafka-style answers; `limit` is the configured body limit.
fn json_error(error: JsonPayloadError, limit: usize) -> actix_web::Error {
    let too_large = || {
        ApiError::new(
            413,
            format!("Request body is larger than the limit of {limit} bytes"),
        )
    };
    let api_error = match error {
        JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::new(
            413,
            format!("Request body of {length} bytes is larger than the limit of {limit} bytes"),
        ),
        JsonPayloadError::Overflow { .. } => too_large(),
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => too_large(),
        JsonPayloadError::ContentType => ApiError::new(
            415,
            "HTTP 415 Unsupported Media Type: send the request body as JSON with 'Content-Type: application/json'",
        ),
        JsonPayloadError::Deserialize(error) if error.is_data() => {
            ApiError::bad_request(format!("Invalid request body: {error}"))
        }
        JsonPayloadError::Deserialize(error) => {
            ApiError::bad_request(format!("Request body is not valid JSON: {error}"))
        }
        JsonPayloadError::Payload(error) => {
            ApiError::bad_request(format!("Cannot read the request body: {error}"))
        }
        other => ApiError::bad_request(format!("Invalid request body: {other}")),
    };
    api_error.into()
}

fn path_error(error: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(format!("HTTP 404 Not Found: {error}")).into()
}

fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(format!("Invalid query string: {error}")).into()
}
