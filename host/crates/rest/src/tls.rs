//! TLS for `https` listeners: PEM certificates and keys, served through rustls (ring provider).
//!
//! Kafka reads `listeners.https.ssl.*` for the REST listeners (`admin.listeners.https.ssl.*` for
//! admin listeners) and, only when no key has that prefix, the plain `ssl.*` keys: all or
//! nothing, never a mix. [`TlsSettings::from_properties`] follows that rule.
//!
//! Invariants:
//! - everything is read and checked when the settings are built ([`TlsSettings::build`]): a
//!   missing file, a non-PEM keystore, an encrypted key, a key that does not fit its
//!   certificate or an unknown protocol is an error naming the worker key, never a listener
//!   that fails at its first handshake;
//! - only PEM is read: JKS and PKCS12 keystores are refused with a hint to convert them;
//! - private keys never appear in `Debug` output or in logs.

use crate::error::RestError;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Whether clients must present a certificate (Kafka's `ssl.client.auth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No certificate is asked for (Kafka's default).
    #[default]
    None,
    /// A certificate is asked for and checked when given; clients without one are served.
    Requested,
    /// Clients without a certificate signed by the truststore are refused at the handshake.
    Required,
}

impl ClientAuth {
    /// Parses Kafka's values `required`, `requested`, `none` (any case).
    pub fn parse(value: &str) -> Option<ClientAuth> {
        match value.trim().to_ascii_lowercase().as_str() {
            "none" => Some(ClientAuth::None),
            "requested" => Some(ClientAuth::Requested),
            "required" => Some(ClientAuth::Required),
            _ => None,
        }
    }
}

/// Where PEM text comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PemLocation {
    File(PathBuf),
    /// The PEM text itself (Kafka's `ssl.keystore.key`, `ssl.keystore.certificate.chain`,
    /// `ssl.truststore.certificates`).
    Inline(String),
}

/// PEM text and the worker key that named it, so that errors can name the key.
#[derive(Clone, PartialEq, Eq)]
pub struct PemSource {
    pub key: String,
    pub location: PemLocation,
}

impl PemSource {
    pub fn file(key: impl Into<String>, path: impl Into<PathBuf>) -> PemSource {
        PemSource {
            key: key.into(),
            location: PemLocation::File(path.into()),
        }
    }

    pub fn inline(key: impl Into<String>, pem: impl Into<String>) -> PemSource {
        PemSource {
            key: key.into(),
            location: PemLocation::Inline(pem.into()),
        }
    }

    fn read(&self) -> Result<Vec<u8>, RestError> {
        match &self.location {
            PemLocation::File(path) => std::fs::read(path).map_err(|error| {
                invalid(
                    &self.key,
                    format!("cannot read {}: {error}", path.display()),
                )
            }),
            PemLocation::Inline(pem) => Ok(pem.as_bytes().to_vec()),
        }
    }

    fn certificates(&self) -> Result<Vec<CertificateDer<'static>>, RestError> {
        let pem = self.read()?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| invalid(&self.key, format!("{self:?} is not valid PEM: {error}")))?;
        if certificates.is_empty() {
            return Err(invalid(
                &self.key,
                format!(
                    "{self:?} holds no CERTIFICATE block (kconnect reads PEM only; convert a JKS or PKCS12 store with keytool or openssl)"
                ),
            ));
        }
        Ok(certificates)
    }

    fn private_key(&self) -> Result<PrivateKeyDer<'static>, RestError> {
        let pem = self.read()?;
        if contains(&pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(invalid(
                &self.key,
                format!(
                    "the private key in {self:?} is encrypted, which kconnect cannot read: store it unencrypted (openssl pkcs8 -topk8 -nocrypt) in a file only the worker can read"
                ),
            ));
        }
        PrivateKeyDer::from_pem_slice(&pem).map_err(|error| {
            invalid(
                &self.key,
                format!("{self:?} holds no usable PRIVATE KEY block: {error}"),
            )
        })
    }
}

impl fmt::Debug for PemLocation {
    // Inline text may be a private key: show only its size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemLocation::File(path) => write!(f, "File({})", path.display()),
            PemLocation::Inline(pem) => write!(f, "Inline({} bytes)", pem.len()),
        }
    }
}

impl fmt::Debug for PemSource {
    // Inline text may be a private key: show only its size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            PemLocation::File(path) => write!(f, "file {}", path.display()),
            PemLocation::Inline(pem) => {
                write!(f, "the inline value of {} ({} bytes)", self.key, pem.len())
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn invalid(key: &str, message: impl Into<String>) -> RestError {
    RestError::InvalidConfig {
        key: key.to_string(),
        message: message.into(),
    }
}

/// TLS settings as written in a worker config, before anything is read.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    /// The prefix the keys were read under (`listeners.https.`, `admin.listeners.https.` or
    /// empty for plain `ssl.*`), used to name keys in errors.
    pub key_prefix: String,
    /// The server certificate, then its intermediates.
    pub certificate_chain: PemSource,
    pub private_key: PemSource,
    pub client_auth: ClientAuth,
    /// CA certificates that client certificates must chain to.
    pub truststore: Option<PemSource>,
    /// Kafka's `ssl.enabled.protocols` (`TLSv1.2`, `TLSv1.3`); empty means both.
    pub enabled_protocols: Vec<String>,
    /// Kafka's `ssl.cipher.suites` as IANA names; empty means rustls' defaults.
    pub cipher_suites: Vec<String>,
}

impl TlsSettings {
    /// Settings from a server certificate chain and key in PEM files, without client auth.
    pub fn pem_files(
        certificate_chain: impl Into<PathBuf>,
        private_key: impl Into<PathBuf>,
    ) -> TlsSettings {
        TlsSettings {
            key_prefix: String::new(),
            certificate_chain: PemSource::file("ssl.certificate.location", certificate_chain),
            private_key: PemSource::file("ssl.key.location", private_key),
            client_auth: ClientAuth::None,
            truststore: None,
            enabled_protocols: Vec::new(),
            cipher_suites: Vec::new(),
        }
    }

    /// Reads Kafka's TLS keys under `prefix` (e.g. `listeners.https.`) or, when no key has that
    /// prefix, the plain `ssl.*` keys. `Ok(None)` when no certificate is configured at all.
    ///
    /// The certificate comes from exactly one of: `ssl.certificate.location` with
    /// `ssl.key.location` (kconnect's); `ssl.keystore.location` holding the key and the chain
    /// (with `ssl.keystore.type=PEM`); or the inline `ssl.keystore.certificate.chain` with
    /// `ssl.keystore.key`.
    pub fn from_properties(
        props: &BTreeMap<String, String>,
        prefix: &str,
    ) -> Result<Option<TlsSettings>, RestError> {
        let uses_prefix = !prefix.is_empty() && props.keys().any(|key| key.starts_with(prefix));
        let key_prefix = if uses_prefix { prefix } else { "" };
        let key = |name: &str| format!("{key_prefix}{name}");
        let get = |name: &str| {
            props
                .get(&key(name))
                .map(|value| value.trim())
                .filter(|value| !value.is_empty())
        };

        for store in ["ssl.keystore.type", "ssl.truststore.type"] {
            if let Some(store_type) = get(store) {
                if !store_type.eq_ignore_ascii_case("PEM") {
                    return Err(invalid(
                        &key(store),
                        format!(
                            "kconnect reads PEM stores only, not {store_type}: convert it (openssl pkcs12 -in store.p12 -nodes -out store.pem, or keytool -importkeystore to PKCS12 first) and set {}=PEM",
                            key(store)
                        ),
                    ));
                }
            }
        }

        let pair = |first: &str, second: &str| -> Result<Option<(String, String)>, RestError> {
            match (get(first), get(second)) {
                (Some(a), Some(b)) => Ok(Some((a.to_string(), b.to_string()))),
                (None, None) => Ok(None),
                (Some(_), None) => Err(invalid(
                    &key(second),
                    format!("is required with {}", key(first)),
                )),
                (None, Some(_)) => Err(invalid(
                    &key(first),
                    format!("is required with {}", key(second)),
                )),
            }
        };
        let separate_files = pair("ssl.certificate.location", "ssl.key.location")?;
        let keystore = get("ssl.keystore.location").map(str::to_string);
        let inline = pair("ssl.keystore.certificate.chain", "ssl.keystore.key")?;
        let given = [
            separate_files.is_some(),
            keystore.is_some(),
            inline.is_some(),
        ]
        .iter()
        .filter(|given| **given)
        .count();
        if given > 1 {
            return Err(invalid(
                &key("ssl.keystore.location"),
                format!(
                    "give the certificate once: either {}, or {} and {}, or {} and {}",
                    key("ssl.keystore.location"),
                    key("ssl.certificate.location"),
                    key("ssl.key.location"),
                    key("ssl.keystore.certificate.chain"),
                    key("ssl.keystore.key")
                ),
            ));
        }
        let (certificate_chain, private_key) =
            if let Some((certificate, private_key)) = separate_files {
                (
                    PemSource::file(key("ssl.certificate.location"), certificate),
                    PemSource::file(key("ssl.key.location"), private_key),
                )
            } else if let Some(keystore) = keystore {
                (
                    PemSource::file(key("ssl.keystore.location"), &keystore),
                    PemSource::file(key("ssl.keystore.location"), &keystore),
                )
            } else if let Some((chain, private_key)) = inline {
                (
                    PemSource::inline(key("ssl.keystore.certificate.chain"), chain),
                    PemSource::inline(key("ssl.keystore.key"), private_key),
                )
            } else {
                return Ok(None);
            };

        let client_auth = match get("ssl.client.auth") {
            None => ClientAuth::None,
            Some(value) => ClientAuth::parse(value).ok_or_else(|| {
                invalid(
                    &key("ssl.client.auth"),
                    format!("\"{value}\" is not one of required, requested, none"),
                )
            })?,
        };
        let truststore = match (
            get("ssl.truststore.location"),
            get("ssl.truststore.certificates"),
        ) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &key("ssl.truststore.location"),
                    format!(
                        "give either it or {}, not both",
                        key("ssl.truststore.certificates")
                    ),
                ))
            }
            (Some(path), None) => Some(PemSource::file(key("ssl.truststore.location"), path)),
            (None, Some(pem)) => Some(PemSource::inline(key("ssl.truststore.certificates"), pem)),
            (None, None) => None,
        };
        let list = |name: &str| {
            get(name)
                .map(kconnect_plugin_api::config::parse_list)
                .unwrap_or_default()
        };
        Ok(Some(TlsSettings {
            key_prefix: key_prefix.to_string(),
            certificate_chain,
            private_key,
            client_auth,
            truststore,
            enabled_protocols: list("ssl.enabled.protocols"),
            cipher_suites: list("ssl.cipher.suites"),
        }))
    }

    /// Reads the PEM material and builds the rustls server configuration.
    pub fn build(&self) -> Result<TlsConfig, RestError> {
        let key = |name: &str| format!("{}{name}", self.key_prefix);
        let versions = self.protocol_versions(&key("ssl.enabled.protocols"))?;
        let provider = Arc::new(self.crypto_provider(&key("ssl.cipher.suites"))?);
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|error| {
                invalid(
                    &key("ssl.cipher.suites"),
                    format!("no cipher suite fits the enabled protocols: {error}"),
                )
            })?;
        let builder = match self.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Requested | ClientAuth::Required => {
                let truststore = self.truststore.as_ref().ok_or_else(|| {
                    invalid(
                        &key("ssl.truststore.location"),
                        format!(
                            "{}={:?} needs the PEM CA certificates that sign client certificates",
                            key("ssl.client.auth"),
                            self.client_auth
                        ),
                    )
                })?;
                let mut roots = RootCertStore::empty();
                for certificate in truststore.certificates()? {
                    roots.add(certificate).map_err(|error| {
                        invalid(
                            &truststore.key,
                            format!("{truststore:?} holds an unusable CA certificate: {error}"),
                        )
                    })?;
                }
                let mut verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                if self.client_auth == ClientAuth::Requested {
                    verifier = verifier.allow_unauthenticated();
                }
                let verifier = verifier.build().map_err(|error| {
                    invalid(
                        &truststore.key,
                        format!("cannot verify clients with {truststore:?}: {error}"),
                    )
                })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let chain = self.certificate_chain.certificates()?;
        let private_key = self.private_key.private_key()?;
        let server = builder
            .with_single_cert(chain, private_key)
            .map_err(|error| {
                invalid(
                    &self.private_key.key,
                    format!(
                        "the private key in {:?} does not fit the certificate in {:?}: {error}",
                        self.private_key, self.certificate_chain
                    ),
                )
            })?;
        let trusted = match &self.truststore {
            Some(truststore) => truststore.certificates()?,
            None => Vec::new(),
        };
        Ok(TlsConfig {
            certificate: format!("{:?}", self.certificate_chain),
            client_auth: self.client_auth,
            server: Arc::new(server),
            trusted,
        })
    }

    fn protocol_versions(
        &self,
        key: &str,
    ) -> Result<Vec<&'static SupportedProtocolVersion>, RestError> {
        if self.enabled_protocols.is_empty() {
            return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
        }
        let mut versions = Vec::new();
        for protocol in &self.enabled_protocols {
            match protocol.as_str() {
                "TLSv1.3" => versions.push(&rustls::version::TLS13),
                "TLSv1.2" => versions.push(&rustls::version::TLS12),
                "TLSv1.1" | "TLSv1" | "SSLv3" => {
                    log::warn!("{key}: {protocol} is insecure and not offered by kconnect; ignored")
                }
                other => {
                    return Err(invalid(
                        key,
                        format!("unknown protocol \"{other}\": expected TLSv1.2 or TLSv1.3"),
                    ))
                }
            }
        }
        if versions.is_empty() {
            return Err(invalid(key, "enables neither TLSv1.2 nor TLSv1.3"));
        }
        Ok(versions)
    }

    fn crypto_provider(&self, key: &str) -> Result<CryptoProvider, RestError> {
        let mut provider = rustls::crypto::ring::default_provider();
        if self.cipher_suites.is_empty() {
            return Ok(provider);
        }
        let iana_name = |suite: &rustls::SupportedCipherSuite| {
            let name = suite.suite().as_str().unwrap_or_default();
            // rustls names TLS 1.3 suites "TLS13_…"; IANA and Java name them "TLS_…".
            match name.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => name.to_string(),
            }
        };
        let mut selected = Vec::new();
        for wanted in &self.cipher_suites {
            let found = provider
                .cipher_suites
                .iter()
                .find(|suite| iana_name(suite).eq_ignore_ascii_case(wanted));
            match found {
                Some(suite) => selected.push(*suite),
                None => {
                    let known: Vec<String> = provider.cipher_suites.iter().map(iana_name).collect();
                    return Err(invalid(
                        key,
                        format!(
                            "unsupported cipher suite \"{wanted}\"; supported: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        provider.cipher_suites = selected;
        Ok(provider)
    }
}

/// Built TLS settings of a listener kind, ready to serve.
#[derive(Clone)]
pub struct TlsConfig {
    certificate: String,
    client_auth: ClientAuth,
    server: Arc<ServerConfig>,
    /// The truststore's CA certificates: besides the public roots, what the worker trusts
    /// when it forwards a request to another worker's `https` URL.
    trusted: Vec<CertificateDer<'static>>,
}

impl TlsConfig {
    pub fn client_auth(&self) -> ClientAuth {
        self.client_auth
    }

    /// The truststore's CA certificates (DER), empty without a truststore.
    pub(crate) fn trusted(&self) -> &[CertificateDer<'static>] {
        &self.trusted
    }

    /// A fresh rustls configuration for one listener (actix sets its ALPN protocols on it).
    pub(crate) fn server_config(&self) -> ServerConfig {
        (*self.server).clone()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("certificate", &self.certificate)
            .field("client_auth", &self.client_auth)
            .finish_non_exhaustive()
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

    #[test]
    fn prefixed_keys_hide_plain_ones() {
        let settings = TlsSettings::from_properties(
            &props(&[
                ("ssl.keystore.location", "/clients.pem"),
                ("ssl.keystore.type", "JKS"),
                ("listeners.https.ssl.keystore.location", "/rest.pem"),
                ("listeners.https.ssl.keystore.type", "PEM"),
                ("listeners.https.ssl.client.auth", "REQUIRED"),
                ("listeners.https.ssl.truststore.location", "/ca.pem"),
            ]),
            "listeners.https.",
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.key_prefix, "listeners.https.");
        assert_eq!(
            settings.certificate_chain,
            PemSource::file("listeners.https.ssl.keystore.location", "/rest.pem")
        );
        assert_eq!(
            settings.private_key.location,
            PemLocation::File("/rest.pem".into())
        );
        assert_eq!(settings.client_auth, ClientAuth::Required);
        assert_eq!(
            settings.truststore,
            Some(PemSource::file(
                "listeners.https.ssl.truststore.location",
                "/ca.pem"
            ))
        );
    }

    #[test]
    fn plain_ssl_keys_are_the_fallback() {
        let settings = TlsSettings::from_properties(
            &props(&[
                ("ssl.certificate.location", "/cert.pem"),
                ("ssl.key.location", "/key.pem"),
                ("ssl.enabled.protocols", "TLSv1.3"),
            ]),
            "listeners.https.",
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.key_prefix, "");
        assert_eq!(settings.certificate_chain.key, "ssl.certificate.location");
        assert_eq!(
            settings.private_key,
            PemSource::file("ssl.key.location", "/key.pem")
        );
        assert_eq!(settings.enabled_protocols, vec!["TLSv1.3"]);
        assert_eq!(settings.client_auth, ClientAuth::None);
    }

    #[test]
    fn no_certificate_keys_means_no_settings() {
        let none = TlsSettings::from_properties(
            &props(&[("ssl.client.auth", "required")]),
            "listeners.https.",
        )
        .unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn bad_keys_are_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    ("listeners.https.ssl.keystore.type", "PKCS12"),
                    ("listeners.https.ssl.keystore.location", "/a"),
                ],
                "listeners.https.ssl.keystore.type",
            ),
            (&[("ssl.certificate.location", "/c")], "ssl.key.location"),
            (
                &[("ssl.keystore.key", "-----")],
                "ssl.keystore.certificate.chain",
            ),
            (
                &[
                    ("ssl.keystore.location", "/a"),
                    ("ssl.certificate.location", "/c"),
                    ("ssl.key.location", "/k"),
                ],
                "ssl.keystore.location",
            ),
            (
                &[
                    ("ssl.keystore.location", "/a"),
                    ("ssl.client.auth", "maybe"),
                ],
                "ssl.client.auth",
            ),
        ];
        for (pairs, named) in cases {
            let error =
                TlsSettings::from_properties(&props(pairs), "listeners.https.").unwrap_err();
            assert!(
                matches!(&error, RestError::InvalidConfig { key, .. } if key == named),
                "{pairs:?}: {error}"
            );
        }
    }

    #[test]
    fn client_auth_values_parse_as_kafka() {
        assert_eq!(ClientAuth::parse("Required"), Some(ClientAuth::Required));
        assert_eq!(
            ClientAuth::parse(" requested "),
            Some(ClientAuth::Requested)
        );
        assert_eq!(ClientAuth::parse("none"), Some(ClientAuth::None));
        assert_eq!(ClientAuth::parse("want"), None);
    }

    #[test]
    fn inline_pem_is_not_shown_in_debug() {
        let source = PemSource::inline("ssl.keystore.key", "-----BEGIN PRIVATE KEY-----\nsecret\n");
        let shown = format!("{source:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("ssl.keystore.key"), "{shown}");
    }
}
