//! HTTP basic authentication, as Kafka's `BasicAuthSecurityRestExtension`.
//!
//! Kafka checks every request against a JAAS `KafkaConnect` login context whose
//! `PropertyFileLoginModule` reads a properties file of `user: password` lines. kconnect reads
//! the same file, named either by the worker key `rest.basic.auth.credentials.file` or by the
//! JAAS file that `KAFKA_OPTS` points to with `-Djava.security.auth.login.config=...`.
//!
//! Invariants:
//! - every request on every listener needs valid credentials, `/health` included (in Kafka the
//!   filter covers all JAX-RS resources, the health check among them); CORS preflights are
//!   answered before this check (see [`crate::cors`]);
//! - a failed check is a 401 with `WWW-Authenticate: Basic realm="..."` and Kafka's JSON error
//!   body; the handler is never reached;
//! - credentials are compared in time that depends only on the lengths of the strings, and
//!   every configured user is compared, so timing tells nothing about which part was wrong;
//! - passwords never appear in `Debug` output or logs; failures are logged at debug level
//!   without the credentials.

use crate::error::{ApiError, RestError};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use base64::Engine;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Kafka's class name of the basic-auth REST extension, as given in `rest.extension.classes`.
pub const BASIC_AUTH_EXTENSION_CLASS: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";

/// The JAAS login module whose `file` option names the credentials file.
pub const PROPERTY_FILE_LOGIN_MODULE: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule";

/// The message of the 401 body; Kafka's wording.
pub const UNAUTHORIZED_MESSAGE: &str = "User cannot access the resource.";

/// The realm announced in `WWW-Authenticate`.
pub const DEFAULT_REALM: &str = "Kafka Connect";

/// Users and passwords that may use the API.
#[derive(Clone)]
pub struct BasicAuth {
    realm: String,
    users: Arc<Vec<(String, String)>>,
}

impl BasicAuth {
    /// Credentials given directly. At least one user is required: an empty list would either
    /// lock everyone out or, as Kafka does with an empty file, let everyone in.
    pub fn new(users: impl IntoIterator<Item = (String, String)>) -> Result<BasicAuth, RestError> {
        let users: Vec<(String, String)> = users.into_iter().collect();
        if users.is_empty() {
            return Err(RestError::InvalidConfig {
                key: "rest.extension.classes".to_string(),
                message: "basic authentication is enabled but no user is configured".to_string(),
            });
        }
        if let Some((user, _)) = users
            .iter()
            .find(|(user, _)| user.is_empty() || user.contains(':'))
        {
            return Err(RestError::InvalidConfig {
                key: "rest.extension.classes".to_string(),
                message: format!("user name \"{user}\" cannot be used with basic authentication (empty or containing ':')"),
            });
        }
        Ok(BasicAuth {
            realm: DEFAULT_REALM.to_string(),
            users: Arc::new(users),
        })
    }

    /// Reads a Java properties file of `user: password` (or `user=password`) lines, the format
    /// of Kafka's `PropertyFileLoginModule`. `key` names the setting that gave the path.
    pub fn from_properties_file(key: &str, path: &Path) -> Result<BasicAuth, RestError> {
        let invalid = |message: String| RestError::InvalidConfig {
            key: key.to_string(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|error| {
            invalid(format!(
                "cannot read credentials file {}: {error}",
                path.display()
            ))
        })?;
        let users = java_properties::read(std::io::BufReader::new(file)).map_err(|error| {
            invalid(format!(
                "credentials file {} is not a properties file: {error}",
                path.display()
            ))
        })?;
        if users.is_empty() {
            // Kafka lets every request through in this case; refusing to start is safer.
            return Err(invalid(format!(
                "credentials file {} has no user: add lines of the form 'user: password'",
                path.display()
            )));
        }
        BasicAuth::new(users).map_err(|error| match error {
            RestError::InvalidConfig { message, .. } => {
                invalid(format!("{}: {message}", path.display()))
            }
            other => other,
        })
    }

    pub fn with_realm(mut self, realm: impl Into<String>) -> BasicAuth {
        self.realm = realm.into();
        self
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// True when the `Authorization` header value carries the credentials of a known user.
    pub fn allows(&self, authorization: Option<&[u8]>) -> bool {
        let Some((user, password)) = authorization.and_then(decode_basic) else {
            return false;
        };
        let mut allowed = false;
        for (known_user, known_password) in self.users.iter() {
            // `&` rather than `&&`, and no early return: every user costs the same time.
            allowed |= constant_time_eq(user.as_bytes(), known_user.as_bytes())
                & constant_time_eq(password.as_bytes(), known_password.as_bytes());
        }
        allowed
    }

    fn challenge(&self) -> String {
        let realm = self.realm.replace(['\\', '"'], "");
        format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("realm", &self.realm)
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

/// `Basic base64(user:password)` → `(user, password)`, as Kafka's `BasicAuthCallBackHandler`:
/// the scheme in any case, the user before the first colon and not empty.
fn decode_basic(header: &[u8]) -> Option<(String, String)> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if user.is_empty() {
        return None;
    }
    Some((user.to_string(), password.to_string()))
}

/// Compares in time that depends only on the longer length, not on where the bytes differ.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for index in 0..given.len().max(expected.len()) {
        let a = given.get(index).copied().unwrap_or(0);
        let b = expected.get(index).copied().unwrap_or(0);
        difference |= usize::from(a ^ b);
    }
    std::hint::black_box(difference) == 0
}

/// The credentials file named by a JAAS configuration's `KafkaConnect` section, e.g.
///
/// ```text
/// KafkaConnect {
///   org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
///   file="/etc/kafka/connect.password";
/// };
/// ```
pub fn jaas_credentials_file(jaas: &str) -> Result<PathBuf, String> {
    let text = strip_jaas_comments(jaas);
    let section =
        find_jaas_section(&text, "KafkaConnect").ok_or("no KafkaConnect { ... }; section")?;
    let mut modules = Vec::new();
    for entry in section
        .split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let class = entry.split_whitespace().next().unwrap_or_default();
        modules.push(class.to_string());
        let simple_name = class.rsplit('.').next().unwrap_or(class);
        if simple_name != "PropertyFileLoginModule" {
            continue;
        }
        return jaas_option(entry, "file")
            .map(PathBuf::from)
            .ok_or_else(|| format!("{class} has no file=\"...\" option"));
    }
    Err(format!(
        "the KafkaConnect section uses {modules:?}; kconnect supports only {PROPERTY_FILE_LOGIN_MODULE}"
    ))
}

/// The path in `-Djava.security.auth.login.config=PATH` among JVM options (`KAFKA_OPTS`).
pub fn jaas_path_from_jvm_options(options: &str) -> Option<PathBuf> {
    options.split_whitespace().find_map(|option| {
        let value = option.strip_prefix("-Djava.security.auth.login.config=")?;
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        (!value.is_empty()).then(|| PathBuf::from(value))
    })
}

fn strip_jaas_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut in_quotes = false;
    while let Some(c) = rest.chars().next() {
        if !in_quotes && rest.starts_with("//") {
            rest = rest.find('\n').map_or("", |end| &rest[end..]);
        } else if !in_quotes && rest.starts_with("/*") {
            rest = rest.find("*/").map_or("", |end| &rest[end + 2..]);
            out.push(' ');
        } else {
            if c == '"' {
                in_quotes = !in_quotes;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The text between the braces of `name { ... };`.
fn find_jaas_section<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find(name) {
        let start = search_from + found;
        let before_ok = match text[..start].chars().next_back() {
            None => true,
            Some(c) => c.is_whitespace() || c == ';' || c == '}',
        };
        let after = text[start + name.len()..].trim_start();
        if before_ok && after.starts_with('{') {
            let body_start = text.len() - after.len() + 1;
            let body_end = text[body_start..].find('}')? + body_start;
            return Some(&text[body_start..body_end]);
        }
        search_from = start + name.len();
    }
    None
}

/// The value of `name=value` or `name="value"` in one login module entry.
fn jaas_option(entry: &str, name: &str) -> Option<String> {
    let mut rest = entry;
    while let Some(found) = rest.find(name) {
        let before_ok = match rest[..found].chars().next_back() {
            None => true,
            Some(c) => c.is_whitespace(),
        };
        let after = rest[found + name.len()..].trim_start();
        if let (true, Some(value)) = (before_ok, after.strip_prefix('=')) {
            let value = value.trim_start();
            if let Some(quoted) = value.strip_prefix('"') {
                return quoted.find('"').map(|end| quoted[..end].to_string());
            }
            return value.split_whitespace().next().map(str::to_string);
        }
        rest = &rest[found + name.len()..];
    }
    None
}

/// Middleware: refuses requests without valid credentials when basic auth is configured.
pub(crate) async fn require_credentials(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A clone of the `Data` (an `Arc`), not of the credentials.
    let auth = request.app_data::<Data<Option<BasicAuth>>>().cloned();
    if let Some(auth) = auth.as_ref().and_then(|auth| auth.as_ref().as_ref()) {
        let header = request
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if !auth.allows(header) {
            log::debug!(
                "Request failed authentication: {} {}",
                request.method(),
                request.path()
            );
            let mut response =
                actix_web::ResponseError::error_response(&ApiError::new(401, UNAUTHORIZED_MESSAGE));
            if let Ok(challenge) = HeaderValue::from_str(&auth.challenge()) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge);
            }
            return Ok(request.into_response(response).map_into_right_body());
        }
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_and_password: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_and_password)
        )
        .into_bytes()
    }

    fn auth() -> BasicAuth {
        BasicAuth::new([
            ("alice".to_string(), "s3cret: with colon".to_string()),
            ("bob".to_string(), "".to_string()),
        ])
        .unwrap()
    }

    #[test]
    fn known_users_with_their_passwords_are_allowed() {
        let auth = auth();
        assert!(auth.allows(Some(&basic("alice:s3cret: with colon"))));
        assert!(auth.allows(Some(&basic("bob:"))));
        assert!(auth.allows(Some(
            format!(
                "bAsIc {}",
                base64::engine::general_purpose::STANDARD.encode("bob:")
            )
            .as_bytes()
        )));
    }

    #[test]
    fn anything_else_is_refused() {
        let auth = auth();
        for refused in [
            basic("alice:wrong"),
            basic("alice:s3cret: with colo"),
            basic("alice:s3cret: with colonx"),
            basic("carol:s3cret: with colon"),
            basic(":s3cret: with colon"),
            basic("alice"),
            b"Bearer abc".to_vec(),
            b"Basic !!!not-base64".to_vec(),
            b"Basic".to_vec(),
            vec![0xff, 0xfe],
        ] {
            assert!(
                !auth.allows(Some(&refused)),
                "{:?}",
                String::from_utf8_lossy(&refused)
            );
        }
        assert!(!auth.allows(None));
    }

    #[test]
    fn comparison_needs_equal_length_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abc\0"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn no_user_or_bad_user_names_are_refused() {
        assert!(BasicAuth::new(Vec::new()).is_err());
        assert!(BasicAuth::new([("a:b".to_string(), "p".to_string())]).is_err());
        assert!(BasicAuth::new([(String::new(), "p".to_string())]).is_err());
    }

    #[test]
    fn debug_output_has_no_password() {
        let shown = format!("{:?}", auth());
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("alice"), "{shown}");
        assert!(shown.contains("users: 2"), "{shown}");
    }

    #[test]
    fn credentials_file_is_a_properties_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.properties");
        std::fs::write(&path, "# users\nalice: pw1\nbob=pw2\n  carol   pw 3\n").unwrap();
        let auth =
            BasicAuth::from_properties_file("rest.basic.auth.credentials.file", &path).unwrap();
        assert_eq!(auth.user_count(), 3);
        assert!(auth.allows(Some(&basic("alice:pw1"))));
        assert!(auth.allows(Some(&basic("bob:pw2"))));
        assert!(auth.allows(Some(&basic("carol:pw 3"))));

        std::fs::write(&path, "# nobody\n").unwrap();
        let error =
            BasicAuth::from_properties_file("rest.basic.auth.credentials.file", &path).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("rest.basic.auth.credentials.file:"),
            "{error}"
        );
        let missing = dir.path().join("missing");
        let error = BasicAuth::from_properties_file("k", &missing).unwrap_err();
        assert!(error.to_string().contains("missing"), "{error}");
    }

    #[test]
    fn jaas_file_names_the_credentials_file() {
        let jaas = r#"
            // the worker's REST users
            KafkaClient { org.apache.kafka.common.security.plain.PlainLoginModule required username="x" password="y"; };
            KafkaConnect {
              /* Kafka's module */
              org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
              debug=true
              file="/etc/kafka/connect // users.properties";
            };
        "#;
        assert_eq!(
            jaas_credentials_file(jaas).unwrap(),
            PathBuf::from("/etc/kafka/connect // users.properties")
        );
        let unquoted = "KafkaConnect{PropertyFileLoginModule required file=/a/b;};";
        assert_eq!(
            jaas_credentials_file(unquoted).unwrap(),
            PathBuf::from("/a/b")
        );
    }

    #[test]
    fn unusable_jaas_files_are_explained() {
        assert!(jaas_credentials_file("KafkaClient { x required; };")
            .unwrap_err()
            .contains("KafkaConnect"));
        let ldap = "KafkaConnect { com.example.LdapLoginModule required url=\"ldap://x\"; };";
        assert!(jaas_credentials_file(ldap)
            .unwrap_err()
            .contains("com.example.LdapLoginModule"));
        let without_file = "KafkaConnect { PropertyFileLoginModule required; };";
        assert!(jaas_credentials_file(without_file)
            .unwrap_err()
            .contains("file="));
    }

    #[test]
    fn jaas_path_is_found_among_jvm_options() {
        assert_eq!(
            jaas_path_from_jvm_options(
                "-Xmx1g -Djava.security.auth.login.config=/etc/jaas.conf -Dx=y"
            ),
            Some(PathBuf::from("/etc/jaas.conf"))
        );
        assert_eq!(
            jaas_path_from_jvm_options("-Djava.security.auth.login.config='/q.conf'"),
            Some(PathBuf::from("/q.conf"))
        );
        assert_eq!(jaas_path_from_jvm_options("-Xmx1g"), None);
    }
}
