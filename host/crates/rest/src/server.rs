//! Starting and stopping the HTTP server.
//!
//! The app answers only with JSON: body-parsing, path and query failures go through error
//! handlers that build an [`ApiError`], unknown paths get a JSON 404 and known paths with the
//! wrong method a JSON 405 with an `Allow` header. Trailing slashes are trimmed before routing
//! (`/connectors/` is `/connectors`, as in Kafka).

use crate::config::{advertised_url, parse_listener, RestConfig};
use crate::error::{ApiError, RestError};
use crate::herder::{Herder, LogControl};
use crate::routes::{method_not_allowed, not_found, AppState, ROUTES};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::middleware::{Logger, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpRequest, HttpServer};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// A running REST server. Dropping it leaves the server running until the runtime ends;
/// call [`RestServer::stop`] to shut it down.
pub struct RestServer {
    local_addrs: Vec<SocketAddr>,
    advertised_url: String,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
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
        let mut sockets = Vec::with_capacity(config.listeners.len());
        let mut local_addrs = Vec::with_capacity(config.listeners.len());
        let mut first_host = None;
        for url in &config.listeners {
            let listener = parse_listener(url)?;
            let bind_error = |source| RestError::Bind {
                listener: url.clone(),
                address: listener.address,
                source,
            };
            let socket = TcpListener::bind(listener.address).map_err(bind_error)?;
            socket.set_nonblocking(true).map_err(bind_error)?;
            let local = socket.local_addr().map_err(bind_error)?;
            first_host.get_or_insert(listener.host);
            local_addrs.push(local);
            sockets.push(socket);
        }
        let advertised =
            advertised_url(&config, first_host.as_deref().unwrap_or(""), local_addrs[0]);

        let state = web::Data::new(AppState {
            herder,
            logs,
            request_timeout: config.request_timeout,
            health_check_timeout: config.health_check_timeout,
        });
        let max_body_bytes = config.max_body_bytes;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(max_body_bytes)
                        .error_handler(move |error, _| json_error(error, max_body_bytes)),
                )
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                // One line per request, as Kafka's request log: peer, request line, status,
                // bytes, milliseconds.
                .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
                .configure(register_routes)
                .default_service(web::to(not_found))
        })
        .workers(config.workers.max(1))
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout.as_secs());
        for socket in sockets {
            server = server.listen(socket).map_err(RestError::Server)?;
        }
        let server = server.run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        log::info!("REST server listening on {local_addrs:?}, advertised as {advertised}");
        Ok(RestServer {
            local_addrs,
            advertised_url: advertised,
            handle,
            task,
        })
    }

    /// The bound addresses, in listener order (useful with port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The URL to advertise for this worker, e.g. `http://host:8083` (no trailing slash).
    pub fn advertised_url(&self) -> &str {
        &self.advertised_url
    }

    /// Stops accepting, lets in-flight requests finish (up to the shutdown timeout), and waits.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        if let Err(error) = self.task.await {
            log::warn!("REST server task ended abnormally: {error}");
        }
    }
}

/// Registers [`ROUTES`]: one resource per distinct path, each answering 405 to other methods.
fn register_routes(config: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in ROUTES {
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
