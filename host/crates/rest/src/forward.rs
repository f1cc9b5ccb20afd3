//! Forwarding between the workers of a cluster, as Kafka Connect's `HerderRequestHandler`
//! does: a write the herder will not serve here ([`HerderError::ServedElsewhere`]: only the
//! leader writes configs, only the owner restarts a task) is sent on to the worker it names,
//! and that worker's answer is this one's.
//!
//! Invariants:
//! - at most two hops, with Kafka's `forward` query parameter: a client's request (no
//!   `forward`) goes on with `forward=true`, which the next worker may forward once more with
//!   `forward=false`; a worker that cannot serve a `forward=false` request answers 409;
//! - the body is forwarded byte for byte, with `Content-Type`, `Authorization` and the KIP-507
//!   signature headers, so a signed internal request verifies at the next worker too;
//! - the answer keeps the status, body and content type the serving worker gave; a `Location`
//!   names this worker, which the client asked (Kafka's is relative to the receiving worker);
//! - reads (`GET`) are never forwarded: every worker answers them from the topics it read.
//!
//! [`HerderError::ServedElsewhere`]: crate::herder::HerderError::ServedElsewhere

use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use std::time::Duration;

/// The request headers that travel with a forwarded request.
const FORWARDED_HEADERS: [&str; 4] = [
    "content-type",
    "authorization",
    crate::routes::SIGNATURE_HEADER,
    crate::routes::SIGNATURE_ALGORITHM_HEADER,
];

/// Kafka's answer when the second hop did not reach a worker that serves the request either.
const TOO_MANY_HOPS: &str =
    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)";
/// Kafka's answer when the request belongs to the leader and none is known.
const NO_LEADER: &str = "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";

/// The HTTP client requests are forwarded with, shared by every handler.
pub(crate) struct Forwarder {
    client: reqwest::Client,
    max_body_bytes: usize,
}

impl Forwarder {
    /// A client that gives up after `timeout` and trusts, besides the public roots, the CA
    /// certificates of the `https` listeners' truststore (the other workers' certificates
    /// are usually signed by it).
    pub(crate) fn new(
        timeout: Duration,
        max_body_bytes: usize,
        tls: Option<&crate::tls::TlsConfig>,
    ) -> Result<Forwarder, crate::error::RestError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            // Kafka's client does not follow redirects either: a 3xx is an answer.
            .redirect(reqwest::redirect::Policy::none());
        for certificate in tls.map(|tls| tls.trusted()).unwrap_or_default() {
            let certificate = reqwest::Certificate::from_der(certificate).map_err(|e| {
                crate::error::RestError::InvalidConfig {
                    key: "listeners.https.ssl.truststore.location".to_string(),
                    message: format!("unusable CA certificate for forwarding requests: {e}"),
                }
            })?;
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder
            .build()
            .map_err(|e| crate::error::RestError::InvalidConfig {
                key: "listeners".to_string(),
                message: format!("cannot build the HTTP client that forwards requests: {e}"),
            })?;
        Ok(Forwarder {
            client,
            max_body_bytes,
        })
    }
}

/// Kafka's `forward` query parameter: absent on a client's request.
fn forward_flag(query: &str) -> Option<bool> {
    form_pairs(query)
        .find(|(key, _)| key == "forward")
        .and_then(|(_, value)| match value.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
}

/// Where the request goes next: `base` + the path as received + its query without `forward`,
/// then `forward=<next>`.
pub(crate) fn forwarded_url(base: &str, path: &str, query: &str, next_forward: bool) -> String {
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            key != "forward"
        })
        .collect();
    let flag = format!("forward={next_forward}");
    kept.push(&flag);
    format!("{}{}?{}", base.trim_end_matches('/'), path, kept.join("&"))
}

/// The middleware: serves the request here, and when the herder named another worker,
/// forwards it there.
pub(crate) async fn forward_elsewhere(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = request.method().clone();
    let forwarder = request.app_data::<Data<Forwarder>>().cloned();
    let (Some(forwarder), false) = (forwarder, method == Method::GET || method == Method::HEAD)
    else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    // Kept for a possible forward; the handler reads the same bytes.
    let body = match read_body(&mut request, forwarder.max_body_bytes).await {
        Ok(body) => body,
        Err(too_large) => return Ok(request.error_response(too_large)),
    };
    request.set_payload(Payload::from(body.clone()));
    let headers: Vec<(String, Vec<u8>)> = FORWARDED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = request.headers().get(*name)?;
            Some((name.to_string(), value.as_bytes().to_vec()))
        })
        .collect();
    let forward = forward_flag(request.query_string());
    let response = next.call(request).await?;
    let target = response
        .response()
        .error()
        .and_then(|error| error.as_error::<ApiError>())
        .and_then(|error| error.served_elsewhere.clone());
    let Some(target) = target else {
        return Ok(response.map_into_boxed_body());
    };
    let (http_request, _) = response.into_parts();
    let answer = match (forward, target.url) {
        (Some(false), _) => {
            log::error!(
                "Request '{method} {}' failed because it couldn't find the target Connect worker within two hops (between workers).",
                http_request.path()
            );
            ApiError::new(409, TOO_MANY_HOPS).error_response()
        }
        (_, None) => ApiError::new(409, NO_LEADER).error_response(),
        (_, Some(url)) => {
            let next_url = forwarded_url(
                &url,
                http_request.path(),
                http_request.query_string(),
                forward.is_none(),
            );
            log::debug!("Forwarding request {method} {next_url}");
            match send(&forwarder.client, method, &next_url, headers, body).await {
                Ok(answer) => with_local_location(answer, &http_request),
                Err(error) => ApiError::new(
                    500,
                    format!("IO Error trying to forward REST request: {error}"),
                )
                .error_response(),
            }
        }
    };
    Ok(ServiceResponse::new(http_request, answer))
}

/// The request body, up to `limit` bytes (the JSON handlers' own limit answers 413 the same).
async fn read_body(request: &mut ServiceRequest, limit: usize) -> Result<Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut payload = request.take_payload();
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(format!("Cannot read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                413,
                format!("Request body is larger than the limit of {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// One forwarded request; the serving worker's answer as an actix response.
async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
) -> Result<HttpResponse, reqwest::Error> {
    let method =
        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut forwarded = client.request(method, url);
    for (name, value) in headers {
        forwarded = forwarded.header(name, value);
    }
    if !body.is_empty() {
        forwarded = forwarded.body(body.to_vec());
    }
    let answer = forwarded.send().await?;
    let status =
        StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for name in [header::CONTENT_TYPE, header::LOCATION] {
        if let Some(value) = answer.headers().get(name.as_str()) {
            response.insert_header((name, value.as_bytes()));
        }
    }
    let body = answer.bytes().await?;
    Ok(response.body(body.to_vec()))
}

/// A `Location` from the serving worker, made to name this worker (same path and query).
fn with_local_location(
    mut response: HttpResponse,
    request: &actix_web::HttpRequest,
) -> HttpResponse {
    let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<actix_web::http::Uri>().ok())
    else {
        return response;
    };
    let Some(path) = location.path_and_query() else {
        return response;
    };
    let info = request.connection_info();
    let local = format!("{}://{}{}", info.scheme(), info.host(), path);
    if let Ok(value) = header::HeaderValue::from_str(&local) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_hop_allows_one_more_and_the_second_none() {
        assert_eq!(
            forwarded_url(
                "http://leader:8083/",
                "/connectors/a/restart",
                "includeTasks=true",
                true
            ),
            "http://leader:8083/connectors/a/restart?includeTasks=true&forward=true"
        );
        assert_eq!(
            forwarded_url("http://leader:8083", "/connectors/a", "forward=true", false),
            "http://leader:8083/connectors/a?forward=false"
        );
        assert_eq!(
            forwarded_url("https://w:1", "/connectors/a%2Fb/config", "", true),
            "https://w:1/connectors/a%2Fb/config?forward=true"
        );
    }

    #[test]
    fn the_forward_flag_is_read_as_kafka_reads_a_boolean() {
        assert_eq!(forward_flag(""), None);
        assert_eq!(forward_flag("includeTasks=true"), None);
        assert_eq!(forward_flag("forward=true"), Some(true));
        assert_eq!(forward_flag("onlyFailed=false&forward=FALSE"), Some(false));
        assert_eq!(forward_flag("forward=maybe"), None);
    }
}
