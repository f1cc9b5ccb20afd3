//! Config providers (Kafka's KIP-297): a config value such as `${file:/run/db.properties:password}`,
//! `${dir:/run/secrets:db-password}` or `${env:DB_HOST}` is replaced by what the named provider
//! returns for that path and key, so secrets need not be written into connector configs.
//!
//! Worker settings, as in Kafka:
//! - `config.providers=file,dir,env` names the providers;
//! - `config.providers.<name>.class` is Kafka's class name (`org.apache.kafka.common.config.provider.`
//!   `FileConfigProvider`, `DirectoryConfigProvider`, `EnvVarConfigProvider`), its simple name, or
//!   `file`, `dir`/`directory`, `env`;
//! - `config.providers.<name>.param.allowed.paths` (file and dir, KIP-993): comma-separated absolute,
//!   existing paths; a placeholder's path must lie under one of them once `.` and `..` are
//!   resolved lexically. Unset means every path is allowed;
//! - `config.providers.<name>.param.allowlist.pattern` (env, KIP-887): a regular expression the
//!   whole variable name must match. Unset means every variable is allowed.
//!
//! Placeholders follow Kafka's `ConfigTransformer`: `${provider:[path:]key}` where no part contains
//! `}`; the provider name ends at the first `:`, the path (if any) at the second, and the key takes
//! the rest. Like Kafka:
//! - a placeholder naming a provider that is not configured is left as written (values may contain
//!   `${…}` for unrelated reasons);
//! - a key the provider does not have (no such property, file in the directory, or environment
//!   variable; a variable outside the allowlist; no path for file/dir) is left as written, with a
//!   warning naming the key;
//! - the file provider reads a Java properties file as UTF-8; a file that cannot be read is an error;
//! - the dir provider returns a file's content exactly as stored (a trailing newline is kept) and
//!   follows symbolic links (Kubernetes mounts secrets that way);
//! - the env provider takes no path: `${env:VAR}` (or `${env::VAR}`); a path is an error;
//! - substitution is a single pass: resolved values are never scanned for placeholders.
//!
//! Deliberately stricter than Kafka: a path outside `allowed.paths` is an error (Kafka logs a warning
//! and leaves the placeholder, which would then be used as the secret), so is a `dir` key that is not
//! a plain file name, a listed provider without a `class`, and a provider name containing `:` or `}`.
//! One limitation: characters outside the Basic Multilingual Plane (e.g. emoji) in a properties file
//! read by the file provider are rejected, as the properties reader cannot represent them.
//!
//! Invariant: resolved values appear only in the map `resolve` returns — never in errors, logs or
//! `Debug` output, and `ConfigProviders` keeps none of them between calls.

use super::Properties;
use regex::Regex;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

/// The worker key listing provider names.
pub const CONFIG_PROVIDERS: &str = "config.providers";

const FILE_CLASS: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";
const DIRECTORY_CLASS: &str = "org.apache.kafka.common.config.provider.DirectoryConfigProvider";
const ENV_VAR_CLASS: &str = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
const ALLOWED_PATHS: &str = "allowed.paths";
const ALLOWLIST_PATTERN: &str = "allowlist.pattern";

/// Why providers could not be configured or a placeholder could not be resolved. Messages name the
/// config key, the provider and the path, never a resolved value.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A worker setting under `config.providers` is missing or invalid.
    #[error("{key}: {message}")]
    InvalidSetting { key: String, message: String },
    /// A placeholder's path lies outside the provider's `allowed.paths`.
    #[error(
        "{config_key}: config provider \"{provider}\" may not access \"{path}\": \
         it is outside the provider's allowed.paths"
    )]
    PathNotAllowed {
        config_key: String,
        provider: String,
        /// The path after `.` and `..` are resolved.
        path: String,
    },
    /// A placeholder does not fit its provider (a path for `env`, a `dir` key that is not a file name).
    #[error("{config_key}: config provider \"{provider}\": {message}")]
    InvalidPlaceholder {
        config_key: String,
        provider: String,
        message: String,
    },
    /// The provider's source exists but could not be read.
    #[error("{config_key}: config provider \"{provider}\" cannot read \"{path}\": {reason}")]
    Unreadable {
        config_key: String,
        provider: String,
        path: String,
        reason: String,
    },
}

fn invalid_setting(key: &str, message: impl Into<String>) -> ProviderError {
    ProviderError::InvalidSetting {
        key: key.to_string(),
        message: message.into(),
    }
}

/// One `${provider:[path:]key}` occurrence in a value; `span` is its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder<'a> {
    pub span: Range<usize>,
    pub provider: &'a str,
    /// Empty when the placeholder has no path.
    pub path: &'a str,
    pub key: &'a str,
}

/// Kafka's placeholder grammar; lazy groups give the same split on colons as Java's matcher.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}").expect("constant pattern compiles")
});

/// The placeholders in `value`, left to right, not overlapping.
pub(crate) fn placeholders(value: &str) -> impl Iterator<Item = Placeholder<'_>> {
    PLACEHOLDER.captures_iter(value).filter_map(|captures| {
        Some(Placeholder {
            span: captures.get(0)?.range(),
            provider: captures.get(1)?.as_str(),
            path: captures.get(2).map_or("", |m| m.as_str()),
            key: captures.get(3)?.as_str(),
        })
    })
}

/// The configured providers, by name. Holds settings only, never looked-up values.
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    providers: BTreeMap<String, Provider>,
}

#[derive(Debug, Clone)]
enum Provider {
    File(AllowedPaths),
    Directory(AllowedPaths),
    EnvVar { allowlist: Option<Regex> },
}

/// Parsed properties files, by the path read, kept for one `resolve` call so each file is read once.
type FileCache = HashMap<PathBuf, HashMap<String, String>>;

impl ConfigProviders {
    /// Reads `config.providers` and each listed provider's `class` and `param.*` keys.
    pub fn from_worker_config(worker: &Properties) -> Result<ConfigProviders, ProviderError> {
        let mut providers = BTreeMap::new();
        let Some(names) = worker.get(CONFIG_PROVIDERS) else {
            return Ok(ConfigProviders::default());
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.contains([':', '}']) {
                return Err(invalid_setting(
                    CONFIG_PROVIDERS,
                    format!(
                        "provider name \"{name}\" contains ':' or '}}', so no placeholder could name it"
                    ),
                ));
            }
            let class_key = format!("{CONFIG_PROVIDERS}.{name}.class");
            let class = worker
                .get(&class_key)
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    invalid_setting(
                        &class_key,
                        format!("missing; provider \"{name}\" is listed in {CONFIG_PROVIDERS}"),
                    )
                })?;
            let param_prefix = format!("{CONFIG_PROVIDERS}.{name}.param.");
            let params: BTreeMap<&str, &str> = worker
                .range(param_prefix.clone()..)
                .take_while(|(key, _)| key.starts_with(&param_prefix))
                .map(|(key, value)| (&key[param_prefix.len()..], value.as_str()))
                .collect();
            let provider = Provider::configure(class, &class_key, &param_prefix, &params)?;
            providers.insert(name.to_string(), provider);
        }
        Ok(ConfigProviders { providers })
    }

    /// True when no provider is configured, so `resolve` would return its input unchanged.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Returns a copy of `config` with every placeholder resolved. Never logs resolved values.
    pub fn resolve(&self, config: &Properties) -> Result<Properties, ProviderError> {
        let mut files = FileCache::new();
        config
            .iter()
            .map(|(key, value)| Ok((key.clone(), self.resolve_value(key, value, &mut files)?)))
            .collect()
    }

    /// True if any value contains a placeholder of a configured provider.
    pub fn has_placeholders(&self, config: &Properties) -> bool {
        config.values().any(|value| {
            placeholders(value).any(|placeholder| self.providers.contains_key(placeholder.provider))
        })
    }

    fn resolve_value(
        &self,
        config_key: &str,
        value: &str,
        files: &mut FileCache,
    ) -> Result<String, ProviderError> {
        let mut resolved = String::with_capacity(value.len());
        let mut copied_up_to = 0;
        for placeholder in placeholders(value) {
            let Some(provider) = self.providers.get(placeholder.provider) else {
                continue;
            };
            let Some(replacement) = provider.lookup(config_key, &placeholder, files)? else {
                log::warn!(
                    "{config_key}: config provider \"{}\" has no key \"{}\" at path \"{}\"; \
                     the placeholder is left as written",
                    placeholder.provider,
                    placeholder.key,
                    placeholder.path
                );
                continue;
            };
            resolved.push_str(&value[copied_up_to..placeholder.span.start]);
            resolved.push_str(&replacement);
            copied_up_to = placeholder.span.end;
        }
        resolved.push_str(&value[copied_up_to..]);
        Ok(resolved)
    }
}

impl Provider {
    fn configure(
        class: &str,
        class_key: &str,
        param_prefix: &str,
        params: &BTreeMap<&str, &str>,
    ) -> Result<Provider, ProviderError> {
        let allowed_paths_key = format!("{param_prefix}{ALLOWED_PATHS}");
        let (provider, known_param) = match class {
            FILE_CLASS | "FileConfigProvider" | "file" => (
                Provider::File(AllowedPaths::parse(
                    &allowed_paths_key,
                    params.get(ALLOWED_PATHS).copied(),
                )?),
                ALLOWED_PATHS,
            ),
            DIRECTORY_CLASS | "DirectoryConfigProvider" | "directory" | "dir" => (
                Provider::Directory(AllowedPaths::parse(
                    &allowed_paths_key,
                    params.get(ALLOWED_PATHS).copied(),
                )?),
                ALLOWED_PATHS,
            ),
            ENV_VAR_CLASS | "EnvVarConfigProvider" | "env" => {
                let key = format!("{param_prefix}{ALLOWLIST_PATTERN}");
                let allowlist = params
                    .get(ALLOWLIST_PATTERN)
                    .map(|pattern| {
                        // Kafka requires the whole name to match (Java's `Matcher.matches`).
                        Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                            invalid_setting(&key, format!("invalid regular expression: {e}"))
                        })
                    })
                    .transpose()?;
                (Provider::EnvVar { allowlist }, ALLOWLIST_PATTERN)
            }
            other => {
                return Err(invalid_setting(
                    class_key,
                    format!(
                        "unknown config provider class \"{other}\"; expected {FILE_CLASS}, \
                         {DIRECTORY_CLASS} or {ENV_VAR_CLASS} (or file, dir, env)"
                    ),
                ))
            }
        };
        for param in params.keys().filter(|param| **param != known_param) {
            log::warn!("{param_prefix}{param}: not a setting of this config provider; ignored");
        }
        Ok(provider)
    }

    /// The value for `placeholder`, or `None` when the provider has no such key.
    fn lookup(
        &self,
        config_key: &str,
        placeholder: &Placeholder<'_>,
        files: &mut FileCache,
    ) -> Result<Option<String>, ProviderError> {
        let unreadable = |path: &Path, reason: String| ProviderError::Unreadable {
            config_key: config_key.to_string(),
            provider: placeholder.provider.to_string(),
            path: path.display().to_string(),
            reason,
        };
        let invalid_placeholder = |message: String| ProviderError::InvalidPlaceholder {
            config_key: config_key.to_string(),
            provider: placeholder.provider.to_string(),
            message,
        };
        let not_allowed = |path: PathBuf| ProviderError::PathNotAllowed {
            config_key: config_key.to_string(),
            provider: placeholder.provider.to_string(),
            path: path.display().to_string(),
        };
        match self {
            Provider::File(allowed) => {
                if placeholder.path.is_empty() {
                    return Ok(None);
                }
                let path = allowed.check(placeholder.path).map_err(not_allowed)?;
                let properties = match files.entry(path) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => {
                        let properties = read_properties_file(entry.key())
                            .map_err(|reason| unreadable(entry.key(), reason))?;
                        entry.insert(properties)
                    }
                };
                Ok(properties.get(placeholder.key).cloned())
            }
            Provider::Directory(allowed) => {
                if placeholder.path.is_empty() {
                    return Ok(None);
                }
                let directory = allowed.check(placeholder.path).map_err(not_allowed)?;
                if !is_plain_file_name(placeholder.key) {
                    return Err(invalid_placeholder(format!(
                        "key \"{}\" is not a file name in directory \"{}\"",
                        placeholder.key, placeholder.path
                    )));
                }
                let file = directory.join(placeholder.key);
                // Like Kafka's `Files.isRegularFile`: follows links, and anything else is no key.
                if !file.is_file() {
                    return Ok(None);
                }
                std::fs::read_to_string(&file)
                    .map(Some)
                    .map_err(|e| unreadable(&file, e.to_string()))
            }
            Provider::EnvVar { allowlist } => {
                if !placeholder.path.is_empty() {
                    return Err(invalid_placeholder(format!(
                        "environment variables take no path, but the placeholder has \"{}\"; \
                         write ${{{}:{}}}",
                        placeholder.path, placeholder.provider, placeholder.key
                    )));
                }
                let name = placeholder.key;
                // No platform can hold such a name; asking the OS would only yield an error.
                if name.is_empty() || name.contains(['=', '\0']) {
                    return Ok(None);
                }
                if allowlist
                    .as_ref()
                    .is_some_and(|pattern| !pattern.is_match(name))
                {
                    return Ok(None);
                }
                match std::env::var(name) {
                    Ok(value) => Ok(Some(value)),
                    Err(std::env::VarError::NotPresent) => Ok(None),
                    Err(std::env::VarError::NotUnicode(_)) => Err(invalid_placeholder(format!(
                        "environment variable \"{name}\" is not valid UTF-8"
                    ))),
                }
            }
        }
    }
}

/// The paths a file or dir provider may read; `None` allows every path, as Kafka does when
/// `allowed.paths` is unset or empty.
#[derive(Debug, Clone, Default)]
struct AllowedPaths(Option<Vec<PathBuf>>);

impl AllowedPaths {
    fn parse(key: &str, value: Option<&str>) -> Result<AllowedPaths, ProviderError> {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            return Ok(AllowedPaths(None));
        };
        let mut roots = Vec::new();
        for entry in value.split(',').map(str::trim) {
            let root = normalise(Path::new(entry));
            if !root.is_absolute() || !root.exists() {
                return Err(invalid_setting(
                    key,
                    format!(
                        "path \"{}\" is not valid: it must be absolute and exist",
                        root.display()
                    ),
                ));
            }
            roots.push(root);
        }
        Ok(AllowedPaths(Some(roots)))
    }

    /// The path to open, or the normalised path that lies outside every allowed root.
    fn check(&self, path: &str) -> Result<PathBuf, PathBuf> {
        let Some(roots) = &self.0 else {
            return Ok(PathBuf::from(path));
        };
        // The normalised path is both checked and opened, so `..` cannot differ between the two.
        let normalised = normalise(Path::new(path));
        if roots.iter().any(|root| normalised.starts_with(root)) {
            Ok(normalised)
        } else {
            Err(normalised)
        }
    }
}

/// Resolves `.` and `..` without touching the file system, as Java's `Path.normalize` does;
/// `..` at the root stays at the root, leading `..` of a relative path are kept.
fn normalise(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(component),
            },
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

/// True for a name that stays inside the directory it is joined to.
fn is_plain_file_name(key: &str) -> bool {
    !key.is_empty()
        && key != "."
        && key != ".."
        && !key.contains('\0')
        && !key.chars().any(std::path::is_separator)
}

/// Reads a Java properties file as UTF-8, as Kafka's FileConfigProvider does. Errors never quote
/// the file's content.
fn read_properties_file(path: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let ascii = escape_non_ascii(&text)?;
    java_properties::read(ascii.as_bytes()).map_err(|e| match e.line_number() {
        Some(line) => format!("invalid properties syntax on line {line}"),
        None => "invalid properties syntax".to_string(),
    })
}

/// Rewrites non-ASCII characters as `\uXXXX` escapes: the properties reader decodes bytes as
/// Windows-1252, while Kafka reads these files as UTF-8, and an escape means the same character
/// to both.
fn escape_non_ascii(text: &str) -> Result<String, String> {
    let mut escaped = String::with_capacity(text.len());
    let mut backslashes_before = 0usize;
    let mut line = 1usize;
    for c in text.chars() {
        if c.is_ascii() {
            backslashes_before = if c == '\\' { backslashes_before + 1 } else { 0 };
            line += usize::from(c == '\n');
            escaped.push(c);
            continue;
        }
        // `\é` means `é`; the escaping backslash must go, or it would escape the new `\u`.
        if backslashes_before % 2 == 1 {
            escaped.pop();
        }
        backslashes_before = 0;
        let mut units = [0u16; 2];
        match c.encode_utf16(&mut units) {
            [unit] => {
                let _ = write!(escaped, "\\u{unit:04x}");
            }
            _ => {
                return Err(format!(
                    "line {line} has a character outside the Basic Multilingual Plane, \
                     which kconnect cannot read from a properties file"
                ))
            }
        }
    }
    Ok(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fs;

    fn properties(pairs: &[(&str, &str)]) -> Properties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn providers(pairs: &[(&str, &str)]) -> ConfigProviders {
        ConfigProviders::from_worker_config(&properties(pairs)).expect("valid provider settings")
    }

    fn all_three() -> ConfigProviders {
        providers(&[
            ("config.providers", "file, dir,env"),
            ("config.providers.file.class", FILE_CLASS),
            ("config.providers.dir.class", DIRECTORY_CLASS),
            ("config.providers.env.class", ENV_VAR_CLASS),
        ])
    }

    fn resolve_one(providers: &ConfigProviders, value: &str) -> Result<String, ProviderError> {
        let resolved = providers.resolve(&properties(&[("connection.password", value)]))?;
        Ok(resolved["connection.password"].clone())
    }

    fn assert_no_secret(error: &ProviderError, secret: &str) {
        assert!(
            !error.to_string().contains(secret),
            "Display leaks: {error}"
        );
        assert!(
            !format!("{error:?}").contains(secret),
            "Debug leaks: {error:?}"
        );
    }

    #[test]
    fn file_provider_reads_a_key_of_a_utf8_properties_file() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("creds.properties");
        fs::write(
            &creds,
            "# comment\nuser = alice\npassword=s3cr\\u00e9t-\u{e9}\\\u{e8}\\\\\u{fc}\nmultiline=a\\\n   b\n",
        )
        .unwrap();
        let file = creds.display();
        let providers = all_three();
        assert_eq!(
            resolve_one(&providers, &format!("${{file:{file}:password}}")).unwrap(),
            "s3cr\u{e9}t-\u{e9}\u{e8}\\\u{fc}"
        );
        assert_eq!(
            resolve_one(&providers, &format!("${{file:{file}:user}}")).unwrap(),
            "alice"
        );
        assert_eq!(
            resolve_one(&providers, &format!("${{file:{file}:multiline}}")).unwrap(),
            "ab"
        );
    }

    #[test]
    fn dir_provider_returns_file_content_as_stored() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("db-password"), "hunter2\n").unwrap();
        let value = format!("${{dir:{}:db-password}}", dir.path().display());
        assert_eq!(resolve_one(&all_three(), &value).unwrap(), "hunter2\n");
    }

    #[cfg(unix)]
    #[test]
    fn dir_provider_follows_symbolic_links_like_kubernetes_secret_mounts() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("..data")).unwrap();
        fs::write(dir.path().join("..data/token"), "abc").unwrap();
        std::os::unix::fs::symlink("..data/token", dir.path().join("token")).unwrap();
        let value = format!("${{dir:{}:token}}", dir.path().display());
        assert_eq!(resolve_one(&all_three(), &value).unwrap(), "abc");
    }

    #[test]
    fn env_provider_reads_a_variable_and_rejects_a_path() {
        std::env::set_var("KCONNECT_PROVIDERS_TEST_ENV_USER", "bob");
        let providers = all_three();
        assert_eq!(
            resolve_one(&providers, "${env:KCONNECT_PROVIDERS_TEST_ENV_USER}").unwrap(),
            "bob"
        );
        assert_eq!(
            resolve_one(&providers, "${env::KCONNECT_PROVIDERS_TEST_ENV_USER}").unwrap(),
            "bob"
        );
        let error =
            resolve_one(&providers, "${env:/etc:KCONNECT_PROVIDERS_TEST_ENV_USER}").unwrap_err();
        assert!(matches!(error, ProviderError::InvalidPlaceholder { .. }));
        assert!(error.to_string().contains("connection.password"), "{error}");
        assert!(error.to_string().contains("\"/etc\""), "{error}");
    }

    #[test]
    fn several_placeholders_in_one_value_are_all_resolved() {
        std::env::set_var("KCONNECT_PROVIDERS_TEST_DB_HOST", "db.example");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.properties");
        fs::write(&file, "port=5432\n").unwrap();
        let value = format!(
            "jdbc:${{env:KCONNECT_PROVIDERS_TEST_DB_HOST}}:${{file:{}:port}}/${{env:KCONNECT_PROVIDERS_TEST_DB_HOST}}",
            file.display()
        );
        assert_eq!(
            resolve_one(&all_three(), &value).unwrap(),
            "jdbc:db.example:5432/db.example"
        );
    }

    #[test]
    fn placeholders_of_unknown_providers_are_left_as_written() {
        std::env::set_var("KCONNECT_PROVIDERS_TEST_KNOWN", "known");
        let providers = all_three();
        let value = "${vault:secret/db:password}-${env:KCONNECT_PROVIDERS_TEST_KNOWN}-${unknown}";
        assert_eq!(
            resolve_one(&providers, value).unwrap(),
            "${vault:secret/db:password}-known-${unknown}"
        );
        let unknown_only = properties(&[("a", "${vault:secret/db:password}"), ("b", "plain")]);
        assert!(!providers.has_placeholders(&unknown_only));
        assert!(providers.has_placeholders(&properties(&[("a", "x"), ("b", "${env:X}")])));
        assert_eq!(providers.resolve(&unknown_only).unwrap(), unknown_only);
    }

    #[test]
    fn missing_keys_are_left_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("creds.properties");
        fs::write(&file, "user=alice\n").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        let providers = all_three();
        for value in [
            format!("${{file:{}:password}}", file.display()),
            format!("${{dir:{}:absent}}", dir.path().display()),
            format!("${{dir:{}:sub}}", dir.path().display()),
            format!("${{dir:{}/no-such-dir:key}}", dir.path().display()),
            "${file:password}".to_string(),
            "${env:KCONNECT_PROVIDERS_TEST_NEVER_SET}".to_string(),
        ] {
            assert_eq!(resolve_one(&providers, &value).unwrap(), value);
        }
    }

    #[test]
    fn an_unreadable_properties_file_is_an_error_naming_key_provider_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.properties");
        let error =
            resolve_one(&all_three(), &format!("${{file:{}:k}}", missing.display())).unwrap_err();
        assert!(matches!(error, ProviderError::Unreadable { .. }));
        let message = error.to_string();
        assert!(message.contains("connection.password"), "{message}");
        assert!(message.contains("\"file\""), "{message}");
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn errors_about_a_secret_file_do_not_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("broken.properties");
        fs::write(&broken, "password=hunter2-topsecret\nbad=\\uZZZZ\n").unwrap();
        let error = resolve_one(
            &all_three(),
            &format!("${{file:{}:password}}", broken.display()),
        )
        .unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
        assert_no_secret(&error, "hunter2-topsecret");

        let emoji = dir.path().join("emoji.properties");
        fs::write(&emoji, "password=hunter2-topsecret-\u{1f600}\n").unwrap();
        let error = resolve_one(
            &all_three(),
            &format!("${{file:{}:password}}", emoji.display()),
        )
        .unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        assert_no_secret(&error, "hunter2-topsecret");
    }

    #[test]
    fn allowed_paths_confine_file_and_dir_providers() {
        let root = tempfile::tempdir().unwrap();
        let allowed = root.path().join("allowed");
        let sibling = root.path().join("allowed-not");
        fs::create_dir(&allowed).unwrap();
        fs::create_dir(&sibling).unwrap();
        fs::write(allowed.join("ok.properties"), "password=fine\n").unwrap();
        fs::write(allowed.join("token"), "allowed-token").unwrap();
        fs::write(sibling.join("creds.properties"), "password=topsecret\n").unwrap();
        fs::write(sibling.join("token"), "topsecret").unwrap();
        let allowed_setting = allowed.display().to_string();
        let providers = providers(&[
            ("config.providers", "file,dir"),
            ("config.providers.file.class", "FileConfigProvider"),
            (
                "config.providers.file.param.allowed.paths",
                &allowed_setting,
            ),
            ("config.providers.dir.class", "directory"),
            ("config.providers.dir.param.allowed.paths", &allowed_setting),
        ]);
        let inside = format!(
            "${{file:{a}/./ok.properties:password}}/${{dir:{a}:token}}",
            a = allowed.display()
        );
        assert_eq!(
            resolve_one(&providers, &inside).unwrap(),
            "fine/allowed-token"
        );

        let escapes = [
            (
                format!(
                    "${{file:{}/../allowed-not/creds.properties:password}}",
                    allowed.display()
                ),
                sibling.join("creds.properties"),
            ),
            (
                format!("${{file:{}/creds.properties:password}}", sibling.display()),
                sibling.join("creds.properties"),
            ),
            (
                format!("${{dir:{}/..:allowed-not}}", allowed.display()),
                root.path().to_path_buf(),
            ),
            (
                format!("${{dir:{}:token}}", sibling.display()),
                sibling.clone(),
            ),
            (
                "${file:relative/creds.properties:password}".to_string(),
                PathBuf::from("relative/creds.properties"),
            ),
        ];
        for (value, normalised) in escapes {
            let error = resolve_one(&providers, &value).unwrap_err();
            match &error {
                ProviderError::PathNotAllowed { path, .. } => {
                    assert_eq!(path, &normalised.display().to_string())
                }
                other => panic!("expected PathNotAllowed for {value}, got {other}"),
            }
            assert!(error.to_string().contains("connection.password"), "{error}");
            assert_no_secret(&error, "topsecret");
        }
    }

    #[test]
    fn dir_keys_cannot_leave_the_directory() {
        let root = tempfile::tempdir().unwrap();
        let secrets = root.path().join("secrets");
        fs::create_dir(&secrets).unwrap();
        fs::write(root.path().join("outside"), "topsecret").unwrap();
        let providers = all_three();
        for key in ["../outside", "..", ".", "sub/../../outside", "/outside"] {
            let value = format!("${{dir:{}:{key}}}", secrets.display());
            let error = resolve_one(&providers, &value).unwrap_err();
            assert!(
                matches!(error, ProviderError::InvalidPlaceholder { .. }),
                "{key}: {error}"
            );
            assert_no_secret(&error, "topsecret");
        }
    }

    #[test]
    fn env_allowlist_hides_other_variables() {
        std::env::set_var("KCONNECT_PROVIDERS_TEST_ALLOWED", "yes");
        std::env::set_var("KCONNECT_PROVIDERS_TEST_HIDDEN", "no");
        let providers = providers(&[
            ("config.providers", "env"),
            ("config.providers.env.class", "EnvVarConfigProvider"),
            (
                "config.providers.env.param.allowlist.pattern",
                "KCONNECT_PROVIDERS_TEST_ALLOW.*",
            ),
        ]);
        assert_eq!(
            resolve_one(&providers, "${env:KCONNECT_PROVIDERS_TEST_ALLOWED}").unwrap(),
            "yes"
        );
        // The pattern must match the whole name, as in Kafka.
        assert_eq!(
            resolve_one(&providers, "${env:XKCONNECT_PROVIDERS_TEST_ALLOWED}").unwrap(),
            "${env:XKCONNECT_PROVIDERS_TEST_ALLOWED}"
        );
        assert_eq!(
            resolve_one(&providers, "${env:KCONNECT_PROVIDERS_TEST_HIDDEN}").unwrap(),
            "${env:KCONNECT_PROVIDERS_TEST_HIDDEN}"
        );
    }

    #[test]
    fn without_providers_nothing_changes() {
        let none = ConfigProviders::from_worker_config(&properties(&[("group.id", "g")])).unwrap();
        assert!(none.is_empty());
        let config = properties(&[("a", "${env:HOME}"), ("b", "${file:/etc/hosts:x}")]);
        assert!(!none.has_placeholders(&config));
        assert_eq!(none.resolve(&config).unwrap(), config);
        assert!(!all_three().is_empty());
    }

    #[test]
    fn invalid_worker_settings_name_their_key() {
        let existing = tempfile::tempdir().unwrap();
        let existing = existing.path().display().to_string();
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                vec![("config.providers", "file")],
                "config.providers.file.class",
            ),
            (
                vec![
                    ("config.providers", "vault"),
                    (
                        "config.providers.vault.class",
                        "com.example.VaultConfigProvider",
                    ),
                ],
                "config.providers.vault.class",
            ),
            (
                vec![
                    ("config.providers", "file"),
                    ("config.providers.file.class", "file"),
                    ("config.providers.file.param.allowed.paths", "relative/dir"),
                ],
                "config.providers.file.param.allowed.paths",
            ),
            (
                vec![
                    ("config.providers", "dir"),
                    ("config.providers.dir.class", "dir"),
                    (
                        "config.providers.dir.param.allowed.paths",
                        "/no/such/kconnect/dir",
                    ),
                ],
                "config.providers.dir.param.allowed.paths",
            ),
            (
                vec![
                    ("config.providers", "env"),
                    ("config.providers.env.class", "env"),
                    ("config.providers.env.param.allowlist.pattern", "(unclosed"),
                ],
                "config.providers.env.param.allowlist.pattern",
            ),
            (vec![("config.providers", "a:b")], "config.providers"),
        ];
        for (settings, key) in cases {
            let error = ConfigProviders::from_worker_config(&properties(&settings)).unwrap_err();
            match &error {
                ProviderError::InvalidSetting { key: named, .. } => assert_eq!(named, key),
                other => panic!("expected InvalidSetting for {key}, got {other}"),
            }
            assert!(error.to_string().starts_with(key), "{error}");
        }
        let valid = ConfigProviders::from_worker_config(&properties(&[
            ("config.providers", "file"),
            ("config.providers.file.class", "file"),
            (
                "config.providers.file.param.allowed.paths",
                &format!("{existing}, /tmp/../tmp"),
            ),
        ]));
        assert!(valid.is_ok(), "{valid:?}");
    }

    #[test]
    fn debug_output_of_providers_holds_no_resolved_value() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("token"), "topsecret").unwrap();
        let providers = all_three();
        let value = format!("${{dir:{}:token}}", dir.path().display());
        assert_eq!(resolve_one(&providers, &value).unwrap(), "topsecret");
        assert!(!format!("{providers:?}").contains("topsecret"));
    }

    #[test]
    fn placeholder_split_follows_kafka() {
        let found: Vec<_> = placeholders("x${a:b:c:d}y${env:V}${p::k}${nocolon}").collect();
        assert_eq!(
            found,
            vec![
                Placeholder {
                    span: 1..11,
                    provider: "a",
                    path: "b",
                    key: "c:d"
                },
                Placeholder {
                    span: 12..20,
                    provider: "env",
                    path: "",
                    key: "V"
                },
                Placeholder {
                    span: 20..27,
                    provider: "p",
                    path: "",
                    key: "k"
                },
            ]
        );
    }

    #[test]
    fn normalise_resolves_dots_lexically() {
        assert_eq!(normalise(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalise(Path::new("/../etc")), PathBuf::from("/etc"));
        assert_eq!(
            normalise(Path::new("../a/../../b")),
            PathBuf::from("../../b")
        );
    }

    proptest! {
        #[test]
        fn parser_never_panics_and_spans_are_placeholders(
            value in prop_oneof![any::<String>(), "[${}:a-z/. \\\\\u{e9}]{0,60}"]
        ) {
            let mut previous_end = 0;
            for placeholder in placeholders(&value) {
                let text = value.get(placeholder.span.clone());
                prop_assert!(text.is_some());
                let text = text.unwrap_or_default();
                prop_assert!(text.starts_with("${") && text.ends_with('}'), "span {:?}", text);
                prop_assert!(placeholder.span.start >= previous_end);
                prop_assert!(
                    !placeholder.provider.contains([':', '}']),
                    "provider {:?}", placeholder.provider
                );
                prop_assert!(
                    !placeholder.path.contains('}') && !placeholder.key.contains('}'),
                    "path {:?}, key {:?}", placeholder.path, placeholder.key
                );
                previous_end = placeholder.span.end;
            }
        }

        #[test]
        fn a_written_placeholder_parses_back(
            prefix in "[^$]{0,20}",
            provider in "[a-z]{1,8}",
            path in "[a-zA-Z0-9/._ -]{0,20}",
            key in "[a-zA-Z0-9._-]{1,20}",
            suffix in ".{0,20}",
        ) {
            let value = format!("{prefix}${{{provider}:{path}:{key}}}{suffix}");
            let first = placeholders(&value).next();
            let end = prefix.len() + provider.len() + path.len() + key.len() + 5;
            prop_assert_eq!(
                first,
                Some(Placeholder { span: prefix.len()..end, provider: &provider, path: &path, key: &key })
            );
        }

        #[test]
        fn resolve_never_panics_and_keeps_text_without_placeholders(
            value in "[${}:=a-zA-Z_\\x00 ]{0,40}"
        ) {
            let providers = providers(&[
                ("config.providers", "env"),
                ("config.providers.env.class", "env"),
                ("config.providers.env.param.allowlist.pattern", "KCONNECT_PROVIDERS_PROPTEST_.*"),
            ]);
            let config = properties(&[("k", &value)]);
            match providers.resolve(&config) {
                Ok(resolved) => {
                    if !providers.has_placeholders(&config) {
                        prop_assert_eq!(&resolved["k"], &value);
                    }
                }
                Err(error) => prop_assert!(
                    matches!(error, ProviderError::InvalidPlaceholder { .. }),
                    "unexpected error {}", error
                ),
            }
        }
    }
}
