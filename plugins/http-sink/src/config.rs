//! The connector's settings: the [`ConfigDef`] users see (keys as Confluent's HTTP sink spells
//! them where it has one) and [`HttpSinkConfig`], the typed form. Parsing is pure.

use crate::HttpSinkError;
use kconnect_plugin_api::{Config, ConfigDef, ConfigKey, ConfigType, Importance};
use std::time::Duration;

pub const HTTP_API_URL: &str = "http.api.url";
pub const REQUEST_METHOD: &str = "request.method";
pub const HEADERS: &str = "headers";
pub const HEADER_SEPARATOR: &str = "header.separator";
pub const AUTH_TYPE: &str = "auth.type";
pub const CONNECTION_USER: &str = "connection.user";
pub const CONNECTION_PASSWORD: &str = "connection.password";
pub const BEARER_TOKEN: &str = "bearer.token";
pub const TLS_CA_FILE: &str = "tls.ca.file";
pub const CONNECT_TIMEOUT_MS: &str = "http.connect.timeout.ms";
pub const REQUEST_TIMEOUT_MS: &str = "http.request.timeout.ms";
pub const REQUEST_BODY_FORMAT: &str = "request.body.format";
pub const BATCH_MAX_SIZE: &str = "batch.max.size";
pub const BATCH_PREFIX: &str = "batch.prefix";
pub const BATCH_SUFFIX: &str = "batch.suffix";
pub const BATCH_SEPARATOR: &str = "batch.separator";
pub const BATCH_JSON_AS_ARRAY: &str = "batch.json.as.array";
pub const RETRY_ON_STATUS_CODES: &str = "retry.on.status.codes";
pub const MAX_RETRIES: &str = "max.retries";
pub const RETRY_BACKOFF_MS: &str = "retry.backoff.ms";
pub const BEHAVIOR_ON_NULL_VALUES: &str = "behavior.on.null.values";
pub const BEHAVIOR_ON_ERROR: &str = "behavior.on.error";
pub const MAX_IN_FLIGHT_REQUESTS: &str = "max.in.flight.requests";

pub fn config_def() -> ConfigDef {
    let key = |name: &str, ty: ConfigType, default: &str, doc: &str| {
        ConfigKey::optional(name, ty, default, doc).group("HTTP sink", -1)
    };
    ConfigDef::new()
        .define(ConfigKey::required(HTTP_API_URL, ConfigType::String,
            "Where records go, http:// or https://. ${topic} is replaced by the record's topic and ${key} by its key (as text, percent-encoded); with ${key}, records are batched per key.")
            .importance(Importance::High))
        .define(key(REQUEST_METHOD, ConfigType::String, "POST", "The HTTP method of the requests: POST, PUT or PATCH.").recommended(&["POST", "PUT", "PATCH"]))
        .define(key(HEADERS, ConfigType::String, "", "Extra request headers as Name:Value pairs separated by header.separator, e.g. X-Source:kafka|X-Env:test."))
        .define(key(HEADER_SEPARATOR, ConfigType::String, "|", "The separator between the pairs of `headers`."))
        .define(key(AUTH_TYPE, ConfigType::String, "NONE",
            "NONE, BASIC (connection.user, connection.password) or BEARER (bearer.token). Secrets may come from config providers (${file:…}, ${env:…}): the worker resolves them before the connector sees the config.")
            .recommended(&["NONE", "BASIC", "BEARER"]))
        .define(key(CONNECTION_USER, ConfigType::String, "", "User of BASIC authentication."))
        .define(key(CONNECTION_PASSWORD, ConfigType::Password, "", "Password of BASIC authentication."))
        .define(key(BEARER_TOKEN, ConfigType::Password, "", "Token of BEARER authentication, sent as Authorization: Bearer <token>."))
        .define(key(TLS_CA_FILE, ConfigType::String, "",
            "PEM file of the certificate authorities trusted for https:// URLs, instead of the built-in web roots."))
        .define(key(CONNECT_TIMEOUT_MS, ConfigType::Int, "30000", "Timeout of establishing a connection, in milliseconds."))
        .define(key(REQUEST_TIMEOUT_MS, ConfigType::Int, "30000", "Timeout of a whole request and its response, in milliseconds."))
        .define(key(REQUEST_BODY_FORMAT, ConfigType::String, "json",
            "json: each value as JSON (structs and maps as objects, bytes as base64); string: STRING values as they are (e.g. JSON text read with the StringConverter), other values as JSON.")
            .recommended(&["json", "string"]))
        .define(key(BATCH_MAX_SIZE, ConfigType::Int, "1", "Most records in one request; 1 sends a request per record."))
        .define(key(BATCH_PREFIX, ConfigType::String, "", "Written before the records of a batched request."))
        .define(key(BATCH_SUFFIX, ConfigType::String, "", "Written after the records of a batched request."))
        .define(key(BATCH_SEPARATOR, ConfigType::String, ",", "Written between the records of a batched request; \\n gives newline-delimited JSON."))
        .define(key(BATCH_JSON_AS_ARRAY, ConfigType::Boolean, "false", "Send batches as a JSON array: prefix [, suffix ], separator , (overriding those keys)."))
        .define(key(RETRY_ON_STATUS_CODES, ConfigType::String, "429,500-",
            "Response status codes retried: codes and ranges, e.g. 408,429,500-599 or 500- (500 and above). Other codes from 300 up fail the request."))
        .define(key(MAX_RETRIES, ConfigType::Int, "10", "Retries of a request after a retried status code or an I/O error."))
        .define(key(RETRY_BACKOFF_MS, ConfigType::Long, "3000", "Wait before the first retry, doubled for each further one up to 10 times this value."))
        .define(key(BEHAVIOR_ON_NULL_VALUES, ConfigType::String, "ignore",
            "What a record with a null value does: ignore (skipped), delete (a DELETE request to its URL) or fail (the task fails).")
            .recommended(&["ignore", "delete", "fail"]))
        .define(key(BEHAVIOR_ON_ERROR, ConfigType::String, "fail",
            "When a request fails for good (a status not retried, or retries used up): fail the task naming the records, the status and the response, log that and go on, or ignore it.")
            .recommended(&["fail", "log", "ignore"]))
        .define(key(MAX_IN_FLIGHT_REQUESTS, ConfigType::Int, "4",
            "Most requests a task has outstanding at once. Above 1 requests of one batch may complete out of order."))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic { user: String, password: String },
    Bearer(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullBehavior {
    Ignore,
    Delete,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorBehavior {
    Fail,
    Log,
    Ignore,
}

/// Status codes to retry: inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusCodes(pub Vec<(u16, u16)>);

impl StatusCodes {
    /// Parses `429,500-599,503` and open ranges `500-`.
    pub fn parse(spec: &str) -> Result<StatusCodes, String> {
        let code = |s: &str| {
            s.trim()
                .parse::<u16>()
                .map_err(|_| format!("{s:?} is not a status code"))
        };
        let mut ranges = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let range = match part.split_once('-') {
                Some((from, "")) => (code(from)?, u16::MAX),
                Some((from, to)) => (code(from)?, code(to)?),
                None => (code(part)?, code(part)?),
            };
            if range.0 > range.1 {
                return Err(format!("range {part:?} is empty"));
            }
            ranges.push(range);
        }
        Ok(StatusCodes(ranges))
    }

    pub fn contains(&self, status: u16) -> bool {
        self.0
            .iter()
            .any(|(from, to)| (*from..=*to).contains(&status))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpSinkConfig {
    pub url: String,
    pub method: Method,
    pub headers: Vec<(String, String)>,
    pub auth: Auth,
    pub tls_ca_file: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub body_format: BodyFormat,
    pub batch_max_size: usize,
    pub batch_prefix: String,
    pub batch_suffix: String,
    pub batch_separator: String,
    pub retry_on: StatusCodes,
    pub max_retries: u32,
    pub retry_backoff: Duration,
    pub on_null: NullBehavior,
    pub on_error: ErrorBehavior,
    pub max_in_flight: usize,
}

fn invalid(key: &str, value: &str, why: &str) -> HttpSinkError {
    HttpSinkError::Config(format!(
        "Invalid value {value} for configuration {key}: {why}"
    ))
}

fn one_of<T: Copy>(key: &str, raw: &str, choices: &[(&str, T)]) -> Result<T, HttpSinkError> {
    choices
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(raw.trim()))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            invalid(
                key,
                raw,
                &format!(
                    "expected one of {}",
                    choices.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
                ),
            )
        })
}

/// Turns the two-character escapes `\n`, `\r`, `\t` of a properties value into the characters
/// (properties files already do this; REST configs do not).
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
}

impl HttpSinkConfig {
    pub fn parse(config: &Config) -> Result<HttpSinkConfig, HttpSinkError> {
        let p = config_def().parse(config).map_err(HttpSinkError::Config)?;
        let url = p.string(HTTP_API_URL).to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(
                HTTP_API_URL,
                &url,
                "must start with http:// or https://",
            ));
        }
        let method = one_of(
            REQUEST_METHOD,
            p.string(REQUEST_METHOD),
            &[
                ("POST", Method::Post),
                ("PUT", Method::Put),
                ("PATCH", Method::Patch),
            ],
        )?;
        let separator = p.string(HEADER_SEPARATOR);
        let mut headers = Vec::new();
        if !separator.is_empty() {
            for pair in p
                .string(HEADERS)
                .split(separator)
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let (name, value) = pair
                    .split_once(':')
                    .ok_or_else(|| invalid(HEADERS, pair, "expected Name:Value"))?;
                if name.trim().is_empty() {
                    return Err(invalid(HEADERS, pair, "the header name is empty"));
                }
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        let auth = match one_of(
            AUTH_TYPE,
            p.string(AUTH_TYPE),
            &[("NONE", 0), ("BASIC", 1), ("BEARER", 2)],
        )? {
            0 => Auth::None,
            1 => {
                let user = p.string(CONNECTION_USER).to_string();
                if user.is_empty() {
                    return Err(HttpSinkError::Config(format!(
                        "{AUTH_TYPE}=BASIC needs {CONNECTION_USER}"
                    )));
                }
                Auth::Basic {
                    user,
                    password: p.string(CONNECTION_PASSWORD).to_string(),
                }
            }
            _ => {
                let token = p.string(BEARER_TOKEN).trim().to_string();
                if token.is_empty() {
                    return Err(HttpSinkError::Config(format!(
                        "{AUTH_TYPE}=BEARER needs {BEARER_TOKEN}"
                    )));
                }
                Auth::Bearer(token)
            }
        };
        let positive = |k: &str| -> Result<i64, HttpSinkError> {
            let v = p.int(k);
            if v < 1 {
                return Err(invalid(k, &v.to_string(), "must be at least 1"));
            }
            Ok(v)
        };
        let (prefix, suffix, sep) = if p.boolean(BATCH_JSON_AS_ARRAY) {
            ("[".to_string(), "]".to_string(), ",".to_string())
        } else {
            (
                unescape(p.string(BATCH_PREFIX)),
                unescape(p.string(BATCH_SUFFIX)),
                unescape(
                    &config
                        .get(BATCH_SEPARATOR)
                        .cloned()
                        .unwrap_or_else(|| ",".into()),
                ),
            )
        };
        let retry_spec = p.string(RETRY_ON_STATUS_CODES);
        Ok(HttpSinkConfig {
            url,
            method,
            headers,
            auth,
            tls_ca_file: p.non_empty_string(TLS_CA_FILE).map(str::to_string),
            connect_timeout: Duration::from_millis(positive(CONNECT_TIMEOUT_MS)? as u64),
            request_timeout: Duration::from_millis(positive(REQUEST_TIMEOUT_MS)? as u64),
            body_format: one_of(
                REQUEST_BODY_FORMAT,
                p.string(REQUEST_BODY_FORMAT),
                &[("json", BodyFormat::Json), ("string", BodyFormat::String)],
            )?,
            batch_max_size: positive(BATCH_MAX_SIZE)? as usize,
            batch_prefix: prefix,
            batch_suffix: suffix,
            batch_separator: sep,
            retry_on: StatusCodes::parse(retry_spec)
                .map_err(|why| invalid(RETRY_ON_STATUS_CODES, retry_spec, &why))?,
            max_retries: p.int(MAX_RETRIES).max(0) as u32,
            retry_backoff: Duration::from_millis(p.int(RETRY_BACKOFF_MS).max(0) as u64),
            on_null: one_of(
                BEHAVIOR_ON_NULL_VALUES,
                p.string(BEHAVIOR_ON_NULL_VALUES),
                &[
                    ("ignore", NullBehavior::Ignore),
                    ("delete", NullBehavior::Delete),
                    ("fail", NullBehavior::Fail),
                ],
            )?,
            on_error: one_of(
                BEHAVIOR_ON_ERROR,
                p.string(BEHAVIOR_ON_ERROR),
                &[
                    ("fail", ErrorBehavior::Fail),
                    ("log", ErrorBehavior::Log),
                    ("ignore", ErrorBehavior::Ignore),
                ],
            )?,
            max_in_flight: positive(MAX_IN_FLIGHT_REQUESTS)? as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::testkit::config_from;

    fn parse(extra: &[(&str, &str)]) -> Result<HttpSinkConfig, HttpSinkError> {
        let mut c = config_from([(HTTP_API_URL, "http://127.0.0.1:8080/api/${topic}")]);
        c.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        HttpSinkConfig::parse(&c)
    }

    #[test]
    fn status_code_specs() {
        let codes = StatusCodes::parse("408, 429,500-").unwrap();
        assert!(
            codes.contains(408)
                && codes.contains(429)
                && codes.contains(503)
                && codes.contains(599)
        );
        assert!(!codes.contains(400) && !codes.contains(404));
        assert!(StatusCodes::parse("500-499").unwrap_err().contains("empty"));
        assert!(StatusCodes::parse("5xx")
            .unwrap_err()
            .contains("not a status code"));
    }

    #[test]
    fn defaults_and_settings() {
        let c = parse(&[]).unwrap();
        assert_eq!(
            (
                c.method,
                c.batch_max_size,
                c.on_null,
                c.on_error,
                c.auth.clone()
            ),
            (
                Method::Post,
                1,
                NullBehavior::Ignore,
                ErrorBehavior::Fail,
                Auth::None
            )
        );
        let c = parse(&[
            (HEADERS, "X-A: 1|X-B:two"),
            (AUTH_TYPE, "bearer"),
            (BEARER_TOKEN, "tok"),
            (BATCH_JSON_AS_ARRAY, "true"),
            (REQUEST_METHOD, "put"),
        ])
        .unwrap();
        assert_eq!(
            c.headers,
            [
                ("X-A".to_string(), "1".to_string()),
                ("X-B".to_string(), "two".to_string())
            ]
        );
        assert_eq!(c.auth, Auth::Bearer("tok".into()));
        assert_eq!(
            (
                c.batch_prefix.as_str(),
                c.batch_suffix.as_str(),
                c.batch_separator.as_str()
            ),
            ("[", "]", ",")
        );
        assert_eq!(c.method, Method::Put);
        let c = parse(&[(BATCH_SEPARATOR, "\\n")]).unwrap();
        assert_eq!(c.batch_separator, "\n");
    }

    #[test]
    fn bad_settings_name_the_key() {
        for (extra, why) in [
            (
                vec![(REQUEST_METHOD, "GET")],
                "Invalid value GET for configuration request.method",
            ),
            (
                vec![(AUTH_TYPE, "BASIC")],
                "auth.type=BASIC needs connection.user",
            ),
            (vec![(AUTH_TYPE, "BEARER")], "needs bearer.token"),
            (
                vec![(HEADERS, "nocolon")],
                "configuration headers: expected Name:Value",
            ),
            (
                vec![(RETRY_ON_STATUS_CODES, "abc")],
                "retry.on.status.codes",
            ),
            (vec![(BATCH_MAX_SIZE, "0")], "batch.max.size"),
            (
                vec![(BEHAVIOR_ON_NULL_VALUES, "explode")],
                "behavior.on.null.values",
            ),
        ] {
            let message = parse(&extra).unwrap_err().to_string();
            assert!(message.contains(why), "{extra:?}: {message}");
        }
        let mut c = config_from([(HTTP_API_URL, "ftp://x")]);
        c.insert("x".into(), "y".into());
        assert!(HttpSinkConfig::parse(&c)
            .unwrap_err()
            .to_string()
            .contains("must start with http://"));
    }
}
