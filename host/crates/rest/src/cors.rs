//! Cross-origin resource sharing, as Kafka's Jetty `CrossOriginFilter` set up from
//! `access.control.allow.origin` and `access.control.allow.methods`.
//!
//! Invariants:
//! - without `access.control.allow.origin` no CORS header is ever sent;
//! - an allowed `Origin` is echoed back (also for `*`) with `Access-Control-Allow-Credentials:
//!   true` and `Vary: Origin`, on every answer, error answers included;
//! - a preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin that
//!   asks for an allowed method and allowed headers is answered here with 204 and the
//!   `Access-Control-Allow-*` headers, before authentication (browsers send preflights without
//!   credentials); any other preflight gets no CORS header and goes on to routing;
//! - a request from an origin that is not allowed is served as if CORS were off.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::HttpResponse;

/// Jetty's default `allowedMethods`, which Kafka keeps when `access.control.allow.methods` is
/// empty.
pub const DEFAULT_ALLOWED_METHODS: [&str; 3] = ["GET", "POST", "HEAD"];

/// Jetty's default `allowedHeaders`, plus `Authorization` so that browsers can send basic-auth
/// credentials.
pub const DEFAULT_ALLOWED_HEADERS: [&str; 5] = [
    "X-Requested-With",
    "Content-Type",
    "Accept",
    "Origin",
    "Authorization",
];

/// Jetty's default `preflightMaxAge`, in seconds.
pub const DEFAULT_MAX_AGE_SECONDS: u32 = 1800;

/// Which cross-origin requests browsers may make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsConfig {
    /// Exact origins (`https://ui.example.com`), `*` for any, or patterns where `*` stands for
    /// any characters (`https://*.example.com`).
    pub allowed_origins: Vec<String>,
    /// Methods a preflight may ask for; compared case-sensitively, as Jetty does.
    pub allowed_methods: Vec<String>,
    /// Request headers a preflight may ask for; compared case-insensitively.
    pub allowed_headers: Vec<String>,
    pub max_age_seconds: u32,
}

impl CorsConfig {
    /// From Kafka's keys: `None` when `allow_origin` is blank (CORS off); an empty `allow_methods`
    /// means [`DEFAULT_ALLOWED_METHODS`].
    pub fn from_kafka(allow_origin: &str, allow_methods: Option<&str>) -> Option<CorsConfig> {
        let allowed_origins = split_list(allow_origin);
        if allowed_origins.is_empty() {
            return None;
        }
        let mut allowed_methods = allow_methods.map(split_list).unwrap_or_default();
        if allowed_methods.is_empty() {
            allowed_methods = DEFAULT_ALLOWED_METHODS.map(String::from).to_vec();
        }
        Some(CorsConfig {
            allowed_origins,
            allowed_methods,
            allowed_headers: DEFAULT_ALLOWED_HEADERS.map(String::from).to_vec(),
            max_age_seconds: DEFAULT_MAX_AGE_SECONDS,
        })
    }

    /// True when `origin` (one origin, or several separated by spaces, all of which must match)
    /// is allowed.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self.allowed_origins.iter().any(|allowed| allowed == "*") {
            return true;
        }
        let mut origins = origin.split_whitespace().peekable();
        origins.peek().is_some()
            && origins.all(|one| {
                self.allowed_origins
                    .iter()
                    .any(|allowed| wildcard_match(allowed, one))
            })
    }

    fn preflight_allowed(&self, method: &str, requested_headers: &[String]) -> bool {
        self.allowed_methods.iter().any(|allowed| allowed == method)
            && requested_headers.iter().all(|requested| {
                self.allowed_headers
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(requested))
            })
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// `pattern` with `*` matching any run of characters (none included), the rest literally.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut middle = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match middle.find(part) {
            Some(found) => middle = &middle[found + part.len()..],
            None => return false,
        }
    }
    true
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn add_simple_headers(headers: &mut HeaderMap, origin: &str) {
    set(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    set(headers, header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Middleware: adds CORS headers and answers preflights, when CORS is configured.
pub(crate) async fn cross_origin(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A clone of the `Data` (an `Arc`), not of the lists.
    let cors_data = request.app_data::<Data<Option<CorsConfig>>>().cloned();
    let cors = cors_data.as_ref().and_then(|cors| cors.as_ref().as_ref());
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok())
        .map(str::to_string);
    let (cors, origin) = match (cors, origin) {
        (Some(cors), Some(origin)) if cors.origin_allowed(&origin) => (cors, origin),
        _ => {
            return next
                .call(request)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
    };
    let requested_method = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|method| method.to_str().ok())
        .map(str::to_string);
    if let (true, Some(method)) = (request.method() == Method::OPTIONS, requested_method) {
        let requested_headers: Vec<String> = request
            .headers()
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .filter_map(|value| value.to_str().ok())
            .flat_map(split_list)
            .collect();
        if !cors.preflight_allowed(method.trim(), &requested_headers) {
            log::debug!("Refusing CORS preflight from {origin} for {method} {requested_headers:?}");
            return next
                .call(request)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
        let mut response = HttpResponse::NoContent().finish();
        let headers = response.headers_mut();
        add_simple_headers(headers, &origin);
        set(
            headers,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            &cors.allowed_methods.join(","),
        );
        set(
            headers,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            &cors.allowed_headers.join(","),
        );
        set(
            headers,
            header::ACCESS_CONTROL_MAX_AGE,
            &cors.max_age_seconds.to_string(),
        );
        return Ok(request.into_response(response).map_into_right_body());
    }
    let mut response = next.call(request).await?;
    add_simple_headers(response.headers_mut(), &origin);
    Ok(response.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_origin_setting_turns_cors_off() {
        assert_eq!(CorsConfig::from_kafka("", Some("GET")), None);
        assert_eq!(CorsConfig::from_kafka(" , ", None), None);
    }

    #[test]
    fn methods_default_to_jettys() {
        let cors = CorsConfig::from_kafka("*", Some("")).unwrap();
        assert_eq!(cors.allowed_methods, vec!["GET", "POST", "HEAD"]);
        let cors = CorsConfig::from_kafka("*", Some("PUT, DELETE")).unwrap();
        assert_eq!(cors.allowed_methods, vec!["PUT", "DELETE"]);
    }

    #[test]
    fn origins_match_exactly_by_wildcard_or_any() {
        let cors =
            CorsConfig::from_kafka("https://ui.example.com, http://*.test:8080", None).unwrap();
        assert!(cors.origin_allowed("https://ui.example.com"));
        assert!(!cors.origin_allowed("https://ui.example.com.evil"));
        assert!(!cors.origin_allowed("http://ui.example.com"));
        assert!(cors.origin_allowed("http://a.b.test:8080"));
        assert!(!cors.origin_allowed("http://a.test:8081"));
        assert!(!cors.origin_allowed("http://test:8080"));
        assert!(cors.origin_allowed("https://ui.example.com http://x.test:8080"));
        assert!(!cors.origin_allowed("https://ui.example.com http://evil"));
        assert!(!cors.origin_allowed(""));
        let any = CorsConfig::from_kafka("*", None).unwrap();
        assert!(any.origin_allowed("http://anything"));
    }

    #[test]
    fn wildcards_match_runs_of_characters() {
        assert!(wildcard_match("a*c", "ac"));
        assert!(wildcard_match("a*c", "abbc"));
        assert!(wildcard_match("*.x", "y.x"));
        assert!(wildcard_match("a*b*c", "a1b2c"));
        assert!(!wildcard_match("a*b*c", "a1c"));
        assert!(!wildcard_match("ab*ba", "aba"));
    }

    #[test]
    fn preflight_checks_method_and_headers() {
        let cors = CorsConfig::from_kafka("*", Some("GET,PUT")).unwrap();
        assert!(cors.preflight_allowed("PUT", &[]));
        assert!(!cors.preflight_allowed("put", &[]));
        assert!(!cors.preflight_allowed("DELETE", &[]));
        assert!(cors.preflight_allowed("GET", &["content-type".into(), "Authorization".into()]));
        assert!(!cors.preflight_allowed("GET", &["x-custom".into()]));
    }
}
