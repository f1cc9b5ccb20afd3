//! Server settings and Kafka-style listener URLs (`listeners=http://:8083,http://127.0.0.1:0`).
//!
//! Only `http` listeners are served: an `https` listener is refused at start with
//! [`RestError::UnsupportedScheme`] rather than silently served in clear text.

use crate::error::RestError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// How the REST server listens and behaves.
#[derive(Clone, Debug)]
pub struct RestConfig {
    /// Kafka's `listeners`: `http://host:port`, several allowed. An empty host
    /// (`http://:8083`) listens on all interfaces; port 0 picks a free port.
    pub listeners: Vec<String>,
    /// Request bodies larger than this are refused with 413.
    pub max_body_bytes: usize,
    /// The URL other workers and clients should use for this one (Kafka's
    /// `rest.advertised.*`); derived from the first listener when `None`.
    pub advertised_url: Option<String>,
    /// HTTP worker threads.
    pub workers: usize,
    /// Longest wait for one herder call before answering 500 "Request timed out"
    /// (Kafka: 90 s).
    pub request_timeout: Duration,
    /// Longest wait for the herder's health answer (Kafka: 10 s).
    pub health_check_timeout: Duration,
    /// How long `stop` lets in-flight requests finish.
    pub shutdown_timeout: Duration,
}

impl Default for RestConfig {
    fn default() -> RestConfig {
        RestConfig {
            listeners: vec!["http://:8083".to_string()],
            max_body_bytes: 1024 * 1024,
            advertised_url: None,
            workers: 2,
            request_timeout: Duration::from_secs(90),
            health_check_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// One parsed listener: the address to bind and the host as written (empty for all interfaces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listener {
    pub(crate) host: String,
    pub(crate) address: SocketAddr,
}

/// Parses `http://host:port`, `http://:port`, `http://[::1]:port`. The scheme is case-insensitive,
/// a trailing `/` is allowed. A host name binds its first address, preferring IPv4, so that
/// `localhost:0` gives one port rather than one per address family.
pub(crate) fn parse_listener(url: &str) -> Result<Listener, RestError> {
    let invalid = |reason: &str| RestError::InvalidListener {
        listener: url.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = url.trim();
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| invalid("expected scheme://host:port"))?;
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(RestError::UnsupportedScheme {
            listener: url.to_string(),
            scheme: scheme.to_string(),
        });
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('/') {
        return Err(invalid("a listener cannot have a path"));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("unclosed '[' in IPv6 host"))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| invalid("missing port"))?;
        (host, port)
    } else {
        authority
            .rsplit_once(':')
            .ok_or_else(|| invalid("missing port"))?
    };
    let port: u16 = port
        .parse()
        .map_err(|_| invalid(&format!("port '{port}' is not a number from 0 to 65535")))?;
    let address = if host.is_empty() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        SocketAddr::new(ip, port)
    } else {
        let resolved: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| invalid(&format!("cannot resolve host '{host}': {e}")))?
            .collect();
        resolved
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| resolved.first())
            .copied()
            .ok_or_else(|| invalid(&format!("host '{host}' has no address")))?
    };
    Ok(Listener {
        host: host.to_string(),
        address,
    })
}

/// The URL this worker advertises: the configured one, else the first listener with its bound
/// port and, for an all-interfaces listener, the machine's host name.
pub(crate) fn advertised_url(
    config: &RestConfig,
    first_host: &str,
    first_bound: SocketAddr,
) -> String {
    if let Some(url) = &config.advertised_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = if first_host.is_empty() || first_bound.ip().is_unspecified() {
        machine_host_name()
    } else if first_host.contains(':') {
        format!("[{first_host}]")
    } else {
        first_host.to_string()
    };
    format!("http://{host}:{}", first_bound.port())
}

fn machine_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_host_listens_everywhere() {
        let listener = parse_listener("http://:8083").unwrap();
        assert_eq!(listener.address, "0.0.0.0:8083".parse().unwrap());
        assert_eq!(listener.host, "");
    }

    #[test]
    fn explicit_addresses_and_names_parse() {
        assert_eq!(
            parse_listener("HTTP://127.0.0.1:0/").unwrap().address,
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            parse_listener("http://[::1]:9000").unwrap().address,
            "[::1]:9000".parse().unwrap()
        );
        let local = parse_listener("http://localhost:0").unwrap();
        assert!(local.address.ip().is_loopback());
        assert_eq!(local.host, "localhost");
    }

    #[test]
    fn bad_listeners_are_named_in_the_error() {
        for bad in [
            "8083",
            "http://host",
            "http://:99999",
            "http://:80/x",
            "http://[::1:80",
        ] {
            let error = parse_listener(bad).unwrap_err();
            assert!(
                matches!(error, RestError::InvalidListener { .. }),
                "{bad}: {error}"
            );
            assert!(error.to_string().contains(bad), "{error}");
        }
        assert!(matches!(
            parse_listener("https://:8443"),
            Err(RestError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn advertised_url_prefers_configuration_then_listener() {
        let mut config = RestConfig::default();
        let bound: SocketAddr = "127.0.0.1:4242".parse().unwrap();
        assert_eq!(
            advertised_url(&config, "127.0.0.1", bound),
            "http://127.0.0.1:4242"
        );
        config.advertised_url = Some("http://connect-1:8083/".into());
        assert_eq!(
            advertised_url(&config, "127.0.0.1", bound),
            "http://connect-1:8083"
        );
    }
}
