//! Server settings and Kafka-style listener URLs (`listeners=http://:8083,https://127.0.0.1:0`).
//!
//! `http` and `https` listeners are served, mixed as wished; an `https` listener needs TLS
//! settings ([`RestSecurity::tls`] / [`RestSecurity::admin_tls`]) and is refused at start with
//! [`RestError::MissingTls`] otherwise, never served in clear text. Other schemes are refused
//! with [`RestError::UnsupportedScheme`].

use crate::error::RestError;
use crate::security::RestSecurity;
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
    /// TLS, basic authentication, admin listeners and CORS.
    pub security: RestSecurity,
    /// Serve the web console at `/ui/` (`rest.ui.enable`, default true).
    pub ui_enabled: bool,
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
            security: RestSecurity::default(),
            ui_enabled: true,
        }
    }
}

/// One parsed listener: the address to bind, the host as written (empty for all interfaces) and
/// whether it speaks TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listener {
    pub(crate) host: String,
    pub(crate) address: SocketAddr,
    pub(crate) https: bool,
}

/// Parses `http://host:port`, `https://:port`, `http://[::1]:port`. The scheme is case-insensitive,
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
    let https = scheme.eq_ignore_ascii_case("https");
    if !https && !scheme.eq_ignore_ascii_case("http") {
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
        https,
    })
}

/// The URL this worker advertises: the configured one, else, as Kafka, the first `http`
/// listener (the first `https` one when there is no `http` one) with its bound port and, for an
/// all-interfaces listener, the machine's host name. `bound` pairs each regular listener with
/// its bound address, in order; it is never empty.
pub(crate) fn advertised_url(config: &RestConfig, bound: &[(Listener, SocketAddr)]) -> String {
    if let Some(url) = &config.advertised_url {
        return url.trim_end_matches('/').to_string();
    }
    let Some((listener, address)) = bound
        .iter()
        .find(|(listener, _)| !listener.https)
        .or_else(|| bound.first())
    else {
        return "http://localhost:8083".to_string();
    };
    let host = if listener.host.is_empty() || address.ip().is_unspecified() {
        machine_host_name()
    } else if listener.host.contains(':') {
        format!("[{}]", listener.host)
    } else {
        listener.host.clone()
    };
    let scheme = if listener.https { "https" } else { "http" };
    format!("{scheme}://{host}:{}", address.port())
}

/// The URL [`RestServer::start`](crate::RestServer::start) will advertise, known before it binds;
/// a listener on port 0 advertises port 0 here. A distributed worker names itself with it
/// before serving.
pub fn planned_advertised_url(config: &RestConfig) -> Result<String, RestError> {
    let bound = config
        .listeners
        .iter()
        .map(|url| parse_listener(url).map(|l| (l.clone(), l.address)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(advertised_url(config, &bound))
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
            parse_listener("ftp://:8443"),
            Err(RestError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn https_listeners_parse() {
        let listener = parse_listener("HTTPS://127.0.0.1:8443").unwrap();
        assert!(listener.https);
        assert_eq!(listener.address, "127.0.0.1:8443".parse().unwrap());
        assert!(!parse_listener("http://127.0.0.1:8443").unwrap().https);
    }

    fn bound(listener: &str, port: u16) -> (Listener, SocketAddr) {
        let listener = parse_listener(listener).unwrap();
        let address = SocketAddr::new(listener.address.ip(), port);
        (listener, address)
    }

    #[test]
    fn advertised_url_prefers_configuration_then_listener() {
        let mut config = RestConfig::default();
        let listeners = [bound("http://127.0.0.1:0", 4242)];
        assert_eq!(advertised_url(&config, &listeners), "http://127.0.0.1:4242");
        config.advertised_url = Some("http://connect-1:8083/".into());
        assert_eq!(advertised_url(&config, &listeners), "http://connect-1:8083");
    }

    #[test]
    fn advertised_url_prefers_http_then_https_as_kafka() {
        let config = RestConfig::default();
        let mixed = [
            bound("https://127.0.0.1:0", 8443),
            bound("http://[::1]:0", 8083),
        ];
        assert_eq!(advertised_url(&config, &mixed), "http://[::1]:8083");
        let tls_only = [bound("https://127.0.0.1:0", 8443)];
        assert_eq!(advertised_url(&config, &tls_only), "https://127.0.0.1:8443");
    }
}
