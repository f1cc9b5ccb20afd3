//! KIP-507: the session key with which workers sign internal requests under the `sessioned`
//! subprotocol. The leader writes a key to the config topic (`session-key`, in Kafka's form:
//! `{"key": <base64>, "algorithm": …, "creation-timestamp": <ms>}`) when there is none or the
//! last one is older than `inter.worker.key.ttl.ms`; every worker reads it. A follower (Java's,
//! here) signs the body of `POST /connectors/{c}/tasks` with HMAC under the current key
//! (`X-Connect-Authorization`, base64), and the leader verifies it before writing anything.
//!
//! Only `HmacSHA256`, Kafka's default for every `inter.worker.*.algorithm` key, is supported;
//! a worker configured for another refuses to start, naming the key.

use crate::config::Properties;
use crate::error::{Result, WorkerError};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value as Json};
use sha2::Sha256;
use std::time::Duration;

/// The record key of session keys in the config topic.
pub const RECORD_KEY: &str = "session-key";
/// The one algorithm kconnect signs, verifies and generates keys for.
pub const HMAC_SHA256: &str = "HmacSHA256";
/// A generated key's length: 256 bits, as Java's `KeyGenerator` makes for HmacSHA256.
const KEY_BYTES: usize = 32;
/// Kafka's `inter.worker.key.ttl.ms` default: one hour.
const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// A session key as the config topic holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub key: Vec<u8>,
    pub algorithm: String,
    pub created_ms: i64,
}

impl std::fmt::Debug for SessionKey {
    // The key is a secret: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("algorithm", &self.algorithm)
            .field("created_ms", &self.created_ms)
            .finish_non_exhaustive()
    }
}

impl SessionKey {
    /// A new random key created at `now_ms`.
    pub fn generate(now_ms: i64) -> std::io::Result<SessionKey> {
        let mut key = vec![0u8; KEY_BYTES];
        getrandom::getrandom(&mut key).map_err(std::io::Error::other)?;
        Ok(SessionKey {
            key,
            algorithm: HMAC_SHA256.to_string(),
            created_ms: now_ms,
        })
    }

    /// Reads the value of a `session-key` record.
    pub fn parse(value: &Json) -> Option<SessionKey> {
        let key = base64::engine::general_purpose::STANDARD
            .decode(value.get("key")?.as_str()?)
            .ok()?;
        Some(SessionKey {
            key,
            algorithm: value.get("algorithm")?.as_str()?.to_string(),
            created_ms: value.get("creation-timestamp")?.as_i64()?,
        })
    }

    /// The `session-key` record's value.
    pub fn to_json(&self) -> Json {
        json!({
            "key": base64::engine::general_purpose::STANDARD.encode(&self.key),
            "algorithm": self.algorithm,
            "creation-timestamp": self.created_ms,
        })
    }

    /// Whether the leader writes a new key now: there is none, or it expired.
    pub fn due(current: Option<&SessionKey>, now_ms: i64, ttl: Duration) -> bool {
        current.is_none_or(|key| now_ms >= key.created_ms.saturating_add(ttl.as_millis() as i64))
    }

    /// The base64 signature of `body` under this key, as `X-Connect-Authorization` carries it.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// Checks a request's signature (constant-time comparison of the MACs).
    pub fn verify(&self, algorithm: &str, body: &[u8], signature: &str) -> Signature {
        if algorithm != HMAC_SHA256 {
            return Signature::UnsupportedAlgorithm;
        }
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature.trim())
        else {
            return Signature::Invalid;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(body);
        match mac.verify_slice(&signature) {
            Ok(()) => Signature::Valid,
            Err(_) => Signature::Invalid,
        }
    }
}

/// The outcome of checking a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    Valid,
    Invalid,
    UnsupportedAlgorithm,
}

/// The worker's `inter.worker.*` keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyConfig {
    /// `inter.worker.key.ttl.ms`.
    pub ttl: Duration,
}

impl KeyConfig {
    pub fn from_properties(raw: &Properties) -> Result<KeyConfig> {
        for key in [
            "inter.worker.key.generation.algorithm",
            "inter.worker.signature.algorithm",
        ] {
            if let Some(value) = raw.get(key).map(|v| v.trim()) {
                if value != HMAC_SHA256 {
                    return Err(WorkerError::key(
                        key,
                        format!("{value}: kconnect supports {HMAC_SHA256} only"),
                    ));
                }
            }
        }
        if let Some(value) = raw.get("inter.worker.verification.algorithms") {
            if !value.split(',').any(|a| a.trim() == HMAC_SHA256) {
                return Err(WorkerError::key(
                    "inter.worker.verification.algorithms",
                    format!("{value}: must include {HMAC_SHA256}, the one kconnect verifies"),
                ));
            }
        }
        if let Some(value) = raw.get("inter.worker.key.size").map(|v| v.trim()) {
            if !value.is_empty() && value != "256" {
                return Err(WorkerError::key(
                    "inter.worker.key.size",
                    format!("{value}: kconnect generates 256-bit keys"),
                ));
            }
        }
        let ttl = match raw.get("inter.worker.key.ttl.ms") {
            None => DEFAULT_TTL,
            Some(value) => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis)
                .ok_or_else(|| {
                    WorkerError::key(
                        "inter.worker.key.ttl.ms",
                        format!("{value}: a positive number of milliseconds"),
                    )
                })?,
        };
        Ok(KeyConfig { ttl })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey {
            key: (0u8..32).collect(),
            algorithm: HMAC_SHA256.to_string(),
            created_ms: 1_000,
        }
    }

    #[test]
    fn a_key_is_due_when_missing_or_expired() {
        let ttl = Duration::from_millis(500);
        assert!(SessionKey::due(None, 0, ttl));
        assert!(!SessionKey::due(Some(&key()), 1_499, ttl));
        assert!(SessionKey::due(Some(&key()), 1_500, ttl));
    }

    #[test]
    fn records_read_back_in_kafkas_field_names() {
        let json = key().to_json();
        assert_eq!(json["algorithm"], HMAC_SHA256);
        assert_eq!(json["creation-timestamp"], 1_000);
        assert_eq!(SessionKey::parse(&json), Some(key()));
        assert_eq!(SessionKey::parse(&json!({"key": "??"})), None);
        assert!(
            !format!("{:?}", key()).contains("key: ["),
            "no secret in Debug"
        );
    }

    #[test]
    fn a_signature_verifies_only_for_the_same_key_body_and_algorithm() {
        let body = br#"[{"task.class":"x"}]"#;
        let signature = key().sign(body);
        assert_eq!(
            key().verify(HMAC_SHA256, body, &signature),
            Signature::Valid
        );
        assert_eq!(
            key().verify(HMAC_SHA256, b"[]", &signature),
            Signature::Invalid
        );
        let other = SessionKey {
            key: vec![7; 32],
            ..key()
        };
        assert_eq!(
            other.verify(HMAC_SHA256, body, &signature),
            Signature::Invalid
        );
        assert_eq!(
            key().verify("HmacSHA1", body, &signature),
            Signature::UnsupportedAlgorithm
        );
        assert_eq!(
            key().verify(HMAC_SHA256, body, "not base64!"),
            Signature::Invalid
        );
    }

    #[test]
    fn hmac_sha256_matches_the_rfc_4231_vector() {
        // RFC 4231, test case 2: key "Jefe".
        let jefe = SessionKey {
            key: b"Jefe".to_vec(),
            ..key()
        };
        let mac = base64::engine::general_purpose::STANDARD
            .decode(jefe.sign(b"what do ya want for nothing?"))
            .unwrap();
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_hmac_sha256_is_accepted() {
        let mut raw = Properties::new();
        assert_eq!(
            KeyConfig::from_properties(&raw).unwrap().ttl,
            Duration::from_secs(3600)
        );
        raw.insert("inter.worker.key.ttl.ms".into(), "60000".into());
        assert_eq!(
            KeyConfig::from_properties(&raw).unwrap().ttl,
            Duration::from_secs(60)
        );
        raw.insert(
            "inter.worker.signature.algorithm".into(),
            "HmacSHA512".into(),
        );
        let e = KeyConfig::from_properties(&raw).unwrap_err().to_string();
        assert!(e.contains("inter.worker.signature.algorithm"), "{e}");
    }
}
