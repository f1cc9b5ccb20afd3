//! Sending requests: one HTTP agent per task (connection reuse, timeouts, TLS roots), retries
//! with backoff for the configured status codes and for I/O errors, and at most
//! `max.in.flight.requests` requests outstanding.
//!
//! Invariant: [`Service::send_all`] returns only when every request has its final outcome, so
//! a `put` that returned has nothing left in flight.

use crate::config::{Auth, HttpSinkConfig};
use crate::request::Request;
use crate::HttpSinkError;
use base64::Engine;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a request was given up on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The last response status; `None` when no response came (connection refused, timeout…).
    pub status: Option<u16>,
    /// The response body (cut to 1 000 characters) or the I/O error.
    pub detail: String,
    pub attempts: u32,
}

pub struct Service {
    agent: ureq::Agent,
    config: Arc<HttpSinkConfig>,
    authorization: Option<String>,
}

fn tls_config(ca_file: &str) -> Result<Arc<rustls::ClientConfig>, HttpSinkError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let bad = |why: String| HttpSinkError::Config(format!("tls.ca.file {ca_file}: {why}"));
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| bad(e.to_string()))?;
    for cert in certs {
        roots
            .add(cert.map_err(|e| bad(e.to_string()))?)
            .map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("holds no certificate".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Service {
    pub fn new(config: Arc<HttpSinkConfig>) -> Result<Service, HttpSinkError> {
        let mut builder = ureq::AgentBuilder::new()
            .timeout_connect(config.connect_timeout)
            .timeout(config.request_timeout)
            .max_idle_connections_per_host(config.max_in_flight.max(1));
        if let Some(ca_file) = &config.tls_ca_file {
            builder = builder.tls_config(tls_config(ca_file)?);
        }
        let authorization = match &config.auth {
            Auth::None => None,
            Auth::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
        };
        Ok(Service {
            agent: builder.build(),
            config,
            authorization,
        })
    }

    /// Sends one request until it succeeds, fails for good, or has used its retries.
    pub fn send(&self, request: &Request) -> Result<(), Failure> {
        let config = &self.config;
        let mut backoff = config.retry_backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let method = if request.body.is_some() {
                config.method.as_str()
            } else {
                "DELETE"
            };
            let mut call = self
                .agent
                .request(method, &request.url)
                .set("Content-Type", "application/json");
            for (name, value) in &config.headers {
                call = call.set(name, value);
            }
            if let Some(authorization) = &self.authorization {
                call = call.set("Authorization", authorization);
            }
            let outcome = match &request.body {
                Some(body) => call.send_string(body),
                None => call.call(),
            };
            let (failure, retry) = match outcome {
                Ok(_) => return Ok(()),
                Err(ureq::Error::Status(status, response)) => {
                    let mut detail = response.into_string().unwrap_or_default();
                    if let Some((cut, _)) = detail.char_indices().nth(1000) {
                        detail.truncate(cut);
                    }
                    (
                        Failure {
                            status: Some(status),
                            detail,
                            attempts,
                        },
                        config.retry_on.contains(status),
                    )
                }
                Err(ureq::Error::Transport(e)) => (
                    Failure {
                        status: None,
                        detail: e.to_string(),
                        attempts,
                    },
                    true,
                ),
            };
            if !retry || attempts > config.max_retries {
                return Err(failure);
            }
            log::warn!(
                "{method} {} failed ({}), retry {attempts}/{} in {backoff:?}",
                request.url,
                failure
                    .status
                    .map_or_else(|| failure.detail.clone(), |s| format!("status {s}")),
                config.max_retries
            );
            std::thread::sleep(backoff);
            backoff = (backoff * 2)
                .min(config.retry_backoff * 10)
                .max(Duration::from_millis(1));
        }
    }

    /// Sends every request, at most `max.in.flight.requests` at a time; outcomes in order.
    pub fn send_all(&self, requests: &[Request]) -> Vec<Result<(), Failure>> {
        let workers = self.config.max_in_flight.min(requests.len());
        if workers <= 1 {
            return requests.iter().map(|r| self.send(r)).collect();
        }
        let next = AtomicUsize::new(0);
        let outcomes: Vec<Mutex<Option<Result<(), Failure>>>> =
            requests.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        break;
                    };
                    let outcome = self.send(request);
                    *outcomes[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
                });
            }
        });
        outcomes
            .into_iter()
            .map(|o| {
                o.into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .expect("every request was sent")
            })
            .collect()
    }
}
