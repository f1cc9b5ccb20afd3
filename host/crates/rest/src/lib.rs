//! Kafka Connect's REST API, wire-compatible with Apache Kafka 3.9/4.x, served by actix-web.
//!
//! The worker implements `kconnect_herder_api`'s `Herder` (connectors, tasks, plugins, offsets)
//! and `LogControl` (KIP-495 loggers) and starts a [`RestServer`] with a [`RestConfig`]. This
//! crate only translates: HTTP in, herder calls, Kafka's JSON out; the herder's domain errors
//! become HTTP statuses in one place ([`error`]).
//!
//! Invariants:
//! - every route is listed once in [`ROUTES`]; the server registers exactly those, and
//!   `/openapi.json` ([`OPENAPI_DOCUMENT`]) describes exactly those (checked by the tests);
//! - every error answer has Kafka's body `{"error_code": <status>, "message": "..."}`:
//!   404 unknown path, connector, task, plugin or logger; 405 known path with another method;
//!   415 a body that is not declared as JSON; 400 malformed JSON or a body of the wrong shape;
//!   413 a body larger than [`RestConfig::max_body_bytes`]; 500 only for herder failures and
//!   timeouts, never for bad input;
//! - request JSON is parsed by `serde_json` with its nesting limit of 128, so deeply nested
//!   bodies are a 400, not a stack overflow;
//! - connector names: see [`routes`] — a new name must be non-empty, without control
//!   characters, without `/`, and not `.` or `..` (400 otherwise); names in paths are
//!   percent-decoded and looked up as is (404 when unknown).
//!
//!
//! Security ([`security`] reads Kafka's worker keys into [`RestSecurity`]): `https` listeners
//! with PEM certificates and optional client certificates ([`tls`]); HTTP basic
//! authentication as Kafka's `BasicAuthSecurityRestExtension` ([`auth`]); KIP-495
//! `admin.listeners`; CORS as Kafka's Jetty filter ([`cors`]).
//!
//! Internal inter-worker endpoints: `POST /connectors/{c}/tasks` (a follower's task configs
//! for the leader to write) and `PUT /connectors/{c}/fence` (exactly-once sources) are served,
//! their bodies handed over as sent with Kafka's signature headers so the herder verifies them
//! under `sessioned` (KIP-507). A write the herder sends to another worker (the leader, a
//! task's owner) is forwarded there (module `forward`, Kafka's `?forward=`, at most two hops).
//! Not served: the deprecated `GET /connectors/{c}/tasks-config` (gone in Kafka 4.0), and
//! REST extensions other than basic authentication.

// The contract this crate serves, under the names its modules use.
use kconnect_herder_api::{entities, herder};

pub mod auth;
pub mod config;
mod console;
pub mod cors;
pub mod error;
mod forward;
pub mod routes;
pub mod security;
pub mod server;
pub mod tls;

pub use auth::BasicAuth;
pub use config::{planned_advertised_url, RestConfig};
pub use cors::CorsConfig;
pub use error::{ApiError, RestError};
pub use routes::{HttpMethod, RouteSpec, OPENAPI_DOCUMENT, ROUTES};
pub use security::RestSecurity;
pub use server::RestServer;
pub use tls::{ClientAuth, PemSource, TlsConfig, TlsSettings};
