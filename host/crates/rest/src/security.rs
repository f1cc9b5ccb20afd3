//! The REST server's security settings and how they are read from Kafka's worker keys.
//!
//! | key | meaning |
//! | --- | --- |
//! | `listeners=https://host:port` | TLS listener; certificate from the keys below |
//! | `listeners.https.ssl.*`, else `ssl.*` | TLS of `listeners` (all or nothing, as Kafka) |
//! | `admin.listeners` | KIP-495: unset, /admin on `listeners`; empty, /admin off; else only there |
//! | `admin.listeners.https.ssl.*`, else `ssl.*` | TLS of https admin listeners |
//! | `rest.extension.classes` | `…BasicAuthSecurityRestExtension` turns on basic auth |
//! | `rest.basic.auth.credentials.file` | kconnect's: `user: password` properties file |
//! | `KAFKA_OPTS` `-Djava.security.auth.login.config=` | Kafka's: JAAS file naming that file |
//! | `access.control.allow.origin`, `access.control.allow.methods` | CORS |
//!
//! Invariants: TLS material and credentials are read and checked here, once, so that a bad
//! setting stops the worker at start with the key named; settings that would leave the API open
//! by mistake (a credentials file without the extension, an empty credentials file, an unknown
//! extension class) are errors, not warnings.

use crate::auth::{
    jaas_credentials_file, jaas_path_from_jvm_options, BasicAuth, BASIC_AUTH_EXTENSION_CLASS,
};
use crate::cors::CorsConfig;
use crate::error::RestError;
use crate::tls::{TlsConfig, TlsSettings};
use std::collections::BTreeMap;
use std::path::Path;

/// kconnect's key for the basic-auth credentials file.
pub const CREDENTIALS_FILE_KEY: &str = "rest.basic.auth.credentials.file";

/// Prefix of the TLS keys of `listeners` (Kafka's `listeners.https.`).
pub const LISTENERS_TLS_PREFIX: &str = "listeners.https.";

/// Prefix of the TLS keys of `admin.listeners` (Kafka's `admin.listeners.https.`).
pub const ADMIN_LISTENERS_TLS_PREFIX: &str = "admin.listeners.https.";

/// TLS, authentication, admin-listener and CORS settings of the REST server.
#[derive(Clone, Debug, Default)]
pub struct RestSecurity {
    /// KIP-495 `admin.listeners`: `None` serves `/admin/*` on the regular listeners, an empty
    /// list serves it nowhere, otherwise only these listeners serve it (and nothing else).
    pub admin_listeners: Option<Vec<String>>,
    /// TLS of the `https` regular listeners.
    pub tls: Option<TlsConfig>,
    /// TLS of the `https` admin listeners.
    pub admin_tls: Option<TlsConfig>,
    /// Credentials every request must carry, on every listener.
    pub basic_auth: Option<BasicAuth>,
    pub cors: Option<CorsConfig>,
}

fn is_https(listener: &str) -> bool {
    listener
        .trim()
        .split_once("://")
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("https"))
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// TLS for `listeners` when one of them is https.
fn tls_for(
    listeners: &[String],
    props: &BTreeMap<String, String>,
    prefix: &str,
) -> Result<Option<TlsConfig>, RestError> {
    let Some(https) = listeners.iter().find(|listener| is_https(listener)) else {
        return Ok(None);
    };
    match TlsSettings::from_properties(props, prefix)? {
        Some(settings) => Ok(Some(settings.build()?)),
        None => Err(RestError::MissingTls {
            listener: https.clone(),
            prefix: prefix.to_string(),
        }),
    }
}

fn basic_auth(
    props: &BTreeMap<String, String>,
    kafka_opts: Option<&str>,
) -> Result<Option<BasicAuth>, RestError> {
    let mut enabled = false;
    for class in list(
        props
            .get("rest.extension.classes")
            .map_or("", String::as_str),
    ) {
        if class == BASIC_AUTH_EXTENSION_CLASS || class == "BasicAuthSecurityRestExtension" {
            enabled = true;
        } else {
            return Err(RestError::InvalidConfig {
                key: "rest.extension.classes".to_string(),
                message: format!(
                    "unknown REST extension {class}: kconnect provides only {BASIC_AUTH_EXTENSION_CLASS}"
                ),
            });
        }
    }
    let credentials_file = props
        .get(CREDENTIALS_FILE_KEY)
        .map(|path| path.trim())
        .filter(|path| !path.is_empty());
    if !enabled {
        if credentials_file.is_some() {
            return Err(RestError::InvalidConfig {
                key: CREDENTIALS_FILE_KEY.to_string(),
                message: format!(
                    "is set but basic authentication is off: add {BASIC_AUTH_EXTENSION_CLASS} to rest.extension.classes"
                ),
            });
        }
        return Ok(None);
    }
    if let Some(path) = credentials_file {
        return BasicAuth::from_properties_file(CREDENTIALS_FILE_KEY, Path::new(path)).map(Some);
    }
    if let Some(jaas_path) = kafka_opts.and_then(jaas_path_from_jvm_options) {
        let invalid = |message: String| RestError::InvalidConfig {
            key: "KAFKA_OPTS".to_string(),
            message,
        };
        let jaas = std::fs::read_to_string(&jaas_path).map_err(|error| {
            invalid(format!(
                "cannot read JAAS file {}: {error}",
                jaas_path.display()
            ))
        })?;
        let credentials = jaas_credentials_file(&jaas)
            .map_err(|message| invalid(format!("JAAS file {}: {message}", jaas_path.display())))?;
        return BasicAuth::from_properties_file("KAFKA_OPTS", &credentials).map(Some);
    }
    Err(RestError::InvalidConfig {
        key: "rest.extension.classes".to_string(),
        message: format!(
            "BasicAuthSecurityRestExtension needs credentials: set {CREDENTIALS_FILE_KEY} to a properties file of 'user: password' lines, or KAFKA_OPTS=-Djava.security.auth.login.config=<JAAS file with a KafkaConnect PropertyFileLoginModule>"
        ),
    })
}

impl RestSecurity {
    /// Reads the keys in the module table from a worker's properties. `listeners` are the
    /// worker's regular listeners (after defaults); `kafka_opts` is the `KAFKA_OPTS`
    /// environment variable, if any.
    pub fn from_worker_properties(
        listeners: &[String],
        props: &BTreeMap<String, String>,
        kafka_opts: Option<&str>,
    ) -> Result<RestSecurity, RestError> {
        let admin_listeners = props.get("admin.listeners").map(|value| list(value));
        let tls = tls_for(listeners, props, LISTENERS_TLS_PREFIX)?;
        let admin_tls = match &admin_listeners {
            Some(admin) => tls_for(admin, props, ADMIN_LISTENERS_TLS_PREFIX)?,
            None => None,
        };
        let cors = CorsConfig::from_kafka(
            props
                .get("access.control.allow.origin")
                .map_or("", String::as_str),
            props
                .get("access.control.allow.methods")
                .map(String::as_str),
        );
        Ok(RestSecurity {
            admin_listeners,
            tls,
            admin_tls,
            basic_auth: basic_auth(props, kafka_opts)?,
            cors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn http() -> Vec<String> {
        vec!["http://:8083".to_string()]
    }

    #[test]
    fn nothing_configured_means_nothing_on() {
        let security = RestSecurity::from_worker_properties(
            &http(),
            // Client TLS keys of a worker that talks to Kafka over TLS do not matter here.
            &props(&[
                ("ssl.keystore.type", "JKS"),
                ("ssl.keystore.location", "/x.jks"),
            ]),
            None,
        )
        .unwrap();
        assert!(security.admin_listeners.is_none());
        assert!(security.tls.is_none() && security.admin_tls.is_none());
        assert!(security.basic_auth.is_none());
        assert!(security.cors.is_none());
    }

    #[test]
    fn admin_listeners_unset_empty_or_listed() {
        let parse = |value: &str| {
            RestSecurity::from_worker_properties(
                &http(),
                &props(&[("admin.listeners", value)]),
                None,
            )
            .unwrap()
            .admin_listeners
        };
        assert_eq!(parse(""), Some(vec![]));
        assert_eq!(
            parse("http://127.0.0.1:9093, http://[::1]:9094"),
            Some(vec![
                "http://127.0.0.1:9093".to_string(),
                "http://[::1]:9094".to_string()
            ])
        );
    }

    #[test]
    fn https_listener_without_certificate_is_refused() {
        let error =
            RestSecurity::from_worker_properties(&["https://:8443".to_string()], &props(&[]), None)
                .unwrap_err();
        assert!(matches!(error, RestError::MissingTls { .. }), "{error}");
        assert!(
            error
                .to_string()
                .contains("listeners.https.ssl.keystore.location"),
            "{error}"
        );

        let error = RestSecurity::from_worker_properties(
            &http(),
            &props(&[("admin.listeners", "https://:9443")]),
            None,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("admin.listeners.https."),
            "{error}"
        );
    }

    #[test]
    fn https_listener_with_missing_files_names_the_key() {
        let error = RestSecurity::from_worker_properties(
            &["https://:8443".to_string()],
            &props(&[
                (
                    "listeners.https.ssl.keystore.location",
                    "/nonexistent/rest.pem",
                ),
                ("listeners.https.ssl.keystore.type", "PEM"),
            ]),
            None,
        )
        .unwrap_err();
        assert!(
            error.to_string().starts_with(
                "listeners.https.ssl.keystore.location: cannot read /nonexistent/rest.pem"
            ),
            "{error}"
        );
    }

    #[test]
    fn basic_auth_needs_the_extension_and_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users");
        std::fs::write(&file, "admin: pw\n").unwrap();
        let file = file.to_str().unwrap();

        let enabled = RestSecurity::from_worker_properties(
            &http(),
            &props(&[
                ("rest.extension.classes", BASIC_AUTH_EXTENSION_CLASS),
                (CREDENTIALS_FILE_KEY, file),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(enabled.basic_auth.unwrap().user_count(), 1);

        let without_extension = RestSecurity::from_worker_properties(
            &http(),
            &props(&[(CREDENTIALS_FILE_KEY, file)]),
            None,
        )
        .unwrap_err();
        assert!(
            without_extension
                .to_string()
                .starts_with(CREDENTIALS_FILE_KEY),
            "{without_extension}"
        );

        let without_credentials = RestSecurity::from_worker_properties(
            &http(),
            &props(&[("rest.extension.classes", "BasicAuthSecurityRestExtension")]),
            Some("-Xmx1g"),
        )
        .unwrap_err();
        assert!(
            without_credentials
                .to_string()
                .contains(CREDENTIALS_FILE_KEY),
            "{without_credentials}"
        );

        let unknown = RestSecurity::from_worker_properties(
            &http(),
            &props(&[("rest.extension.classes", "com.example.MyExtension")]),
            None,
        )
        .unwrap_err();
        assert!(
            unknown.to_string().contains("com.example.MyExtension"),
            "{unknown}"
        );
    }

    #[test]
    fn basic_auth_credentials_through_a_jaas_file_in_kafka_opts() {
        let dir = tempfile::tempdir().unwrap();
        let users = dir.path().join("users.properties");
        std::fs::write(&users, "alice: one\nbob: two\n").unwrap();
        let jaas = dir.path().join("connect_jaas.conf");
        std::fs::write(
            &jaas,
            format!(
                "KafkaConnect {{\n  {} required\n  file=\"{}\";\n}};\n",
                crate::auth::PROPERTY_FILE_LOGIN_MODULE,
                users.display()
            ),
        )
        .unwrap();
        let kafka_opts = format!(
            "-Xms256m -Djava.security.auth.login.config={}",
            jaas.display()
        );
        let security = RestSecurity::from_worker_properties(
            &http(),
            &props(&[("rest.extension.classes", BASIC_AUTH_EXTENSION_CLASS)]),
            Some(&kafka_opts),
        )
        .unwrap();
        assert_eq!(security.basic_auth.unwrap().user_count(), 2);

        let missing = format!(
            "-Djava.security.auth.login.config={}",
            dir.path().join("nope").display()
        );
        let error = RestSecurity::from_worker_properties(
            &http(),
            &props(&[("rest.extension.classes", BASIC_AUTH_EXTENSION_CLASS)]),
            Some(&missing),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("KAFKA_OPTS: cannot read JAAS file"),
            "{error}"
        );
    }

    #[test]
    fn cors_from_kafka_keys() {
        let security = RestSecurity::from_worker_properties(
            &http(),
            &props(&[
                ("access.control.allow.origin", "https://ui.example.com"),
                ("access.control.allow.methods", "GET,PUT"),
            ]),
            None,
        )
        .unwrap();
        let cors = security.cors.unwrap();
        assert_eq!(cors.allowed_origins, vec!["https://ui.example.com"]);
        assert_eq!(cors.allowed_methods, vec!["GET", "PUT"]);
    }
}
