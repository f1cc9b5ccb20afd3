//! Settings of the Kafka clients the worker creates, built the way Kafka Connect layers them:
//! worker defaults, then the worker's `producer.*`/`consumer.*`/`admin.*` keys, then a connector's
//! `*.override.*` keys when the override policy allows. Keys that only exist in the Java client
//! are dropped with a debug line; a key librdkafka refuses is an error naming it.

use crate::config::worker::{strip_prefix, OverridePolicy};
use crate::config::{Properties, WorkerConfig};
use crate::error::{Result, WorkerError};
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;

/// Java client keys with no librdkafka equivalent, or that the worker handles itself.
const JAVA_ONLY_KEYS: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "buffer.memory",
    "max.block.ms",
    "max.request.size",
    "interceptor.classes",
    "max.poll.records",
    "metric.reporters",
    "metrics.sample.window.ms",
    "metrics.num.samples",
    "metrics.recording.level",
    "reconnect.backoff.max.ms",
    "default.api.timeout.ms",
    "exclude.internal.topics",
    "partitioner.class",
    "allow.auto.create.topics",
    "delivery.timeout.ms",
];

/// Top-level worker keys that also apply to every client (security settings).
fn is_shared_security_key(key: &str) -> bool {
    key == "security.protocol"
        || key.starts_with("ssl.")
        || key.starts_with("sasl.")
        || key == "client.dns.lookup"
}

/// Builds client configs for one worker.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    bootstrap: String,
    shared: Properties,
    producer: Properties,
    consumer: Properties,
    admin: Properties,
    policy: OverridePolicy,
}

impl ClientSettings {
    /// `bootstrap` is the resolved address list (the embedded broker's when `embedded`).
    pub fn new(worker: &WorkerConfig, bootstrap: &str) -> ClientSettings {
        ClientSettings {
            bootstrap: bootstrap.to_string(),
            shared: worker
                .raw
                .iter()
                .filter(|(k, _)| is_shared_security_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            producer: worker.prefixed("producer."),
            consumer: worker.prefixed("consumer."),
            admin: worker.prefixed("admin."),
            policy: worker.client_override_policy,
        }
    }

    fn build(
        &self,
        defaults: &[(&str, String)],
        worker_keys: &Properties,
        overrides: &Properties,
        origin: &str,
    ) -> Result<ClientConfig> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        for (k, v) in &self.shared {
            config.set(k, v);
        }
        for (k, v) in defaults {
            config.set(*k, v);
        }
        let mut layers = vec![(worker_keys, origin.to_string())];
        if !overrides.is_empty() {
            if self.policy == OverridePolicy::None {
                let key = overrides.keys().next().cloned().unwrap_or_default();
                return Err(WorkerError::key(
                    &format!("{origin}.override.{key}"),
                    "client config overrides are not allowed: connector.client.config.override.policy=None",
                ));
            }
            layers.push((overrides, format!("{origin}.override")));
        }
        for (layer, prefix) in layers {
            for (k, v) in layer {
                if JAVA_ONLY_KEYS.contains(&k.as_str()) {
                    log::debug!("ignoring Java-only client setting {prefix}.{k}");
                    continue;
                }
                if self.policy == OverridePolicy::Principal
                    && prefix.ends_with(".override")
                    && !(k.starts_with("sasl.") || k == "security.protocol")
                {
                    return Err(WorkerError::key(
                        &format!("{prefix}.{k}"),
                        "only sasl.* and security.protocol may be overridden with connector.client.config.override.policy=Principal",
                    ));
                }
                let mut probe = ClientConfig::new();
                probe.set(k, v);
                if let Err(KafkaError::ClientConfig(_, description, _, _)) =
                    probe.create_native_config()
                {
                    return Err(WorkerError::key(&format!("{prefix}.{k}"), description));
                }
                config.set(k, v);
            }
        }
        Ok(config)
    }

    /// A producer for a source task (or a DLQ): acks from all replicas, ordered retries.
    /// `bootstrap.servers` as the clients use it (the embedded broker's address included).
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The worker's `security.protocol` (PLAINTEXT when unset).
    pub fn security_protocol(&self) -> String {
        self.shared
            .get("security.protocol")
            .map_or("PLAINTEXT".to_string(), |p| p.trim().to_ascii_uppercase())
    }

    pub fn producer(&self, overrides: &Properties, client_id: &str) -> Result<ClientConfig> {
        self.build(
            &[
                ("client.id", client_id.to_string()),
                ("acks", "all".to_string()),
                ("enable.idempotence", "true".to_string()),
                ("max.in.flight.requests.per.connection", "5".to_string()),
                ("linger.ms", "5".to_string()),
                ("batch.num.messages", "10000".to_string()),
                ("queue.buffering.max.kbytes", "65536".to_string()),
                // Keyed records go where Java's producer puts them (murmur2 of the key bytes):
                // librdkafka's own default hashes with CRC32.
                ("partitioner", "murmur2_random".to_string()),
            ],
            &self.producer,
            overrides,
            "producer",
        )
    }

    /// A consumer for a sink task in group `group`.
    pub fn consumer(
        &self,
        overrides: &Properties,
        group: &str,
        client_id: &str,
    ) -> Result<ClientConfig> {
        self.build(
            &[
                ("client.id", client_id.to_string()),
                ("group.id", group.to_string()),
                ("enable.auto.commit", "false".to_string()),
                ("enable.auto.offset.store", "false".to_string()),
                ("auto.offset.reset", "earliest".to_string()),
                // A sink whose topic does not exist yet should see it soon after it appears.
                ("topic.metadata.refresh.interval.ms", "2000".to_string()),
                // Sink consumers are static members; a task that is gone for good frees its
                // partitions after this long.
                ("session.timeout.ms", "10000".to_string()),
                ("queued.max.messages.kbytes", "16384".to_string()),
            ],
            &self.consumer,
            overrides,
            "consumer",
        )
    }

    /// A client of the worker's own topics (config, offsets, status, membership in distributed
    /// mode): bootstrap and security settings, then `defaults`; `producer.*`/`consumer.*` keys are
    /// for connectors' clients and do not apply, as in Kafka.
    pub fn internal(&self, defaults: &[(&str, String)]) -> Result<ClientConfig> {
        self.build(defaults, &Properties::new(), &Properties::new(), "worker")
    }

    /// An admin client.
    pub fn admin(&self, overrides: &Properties) -> Result<ClientConfig> {
        self.build(
            &[
                ("client.id", "kconnect-admin".to_string()),
                // librdkafka's metadata requests from a producer-type handle (which the admin
                // client is) let a broker with auto.create.topics.enable create the topic they
                // ask about: checking whether a topic exists would create it, with the broker's
                // defaults instead of the worker's (compaction, partitions, KIP-158 settings).
                ("allow.auto.create.topics", "false".to_string()),
            ],
            &self.admin,
            overrides,
            "admin",
        )
    }

    /// The `producer.override.*` (or `consumer.override.*`, `admin.override.*`) keys of a connector.
    pub fn connector_overrides(connector: &Properties, client: &str) -> Properties {
        strip_prefix(connector, &format!("{client}.override."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(pairs: &[(&str, &str)]) -> WorkerConfig {
        let mut raw: Properties = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        raw.insert("key.converter".into(), "StringConverter".into());
        raw.insert("value.converter".into(), "StringConverter".into());
        WorkerConfig::from_properties(raw).unwrap()
    }

    #[test]
    fn layers_apply_in_kafkas_order() {
        let settings = ClientSettings::new(
            &worker(&[
                ("producer.linger.ms", "20"),
                ("producer.buffer.memory", "1"),
            ]),
            "h:1",
        );
        let overrides: Properties = [("compression.type".to_string(), "lz4".to_string())].into();
        let c = settings.producer(&overrides, "p").unwrap();
        assert_eq!(c.get("linger.ms"), Some("20"));
        assert_eq!(c.get("compression.type"), Some("lz4"));
        assert_eq!(c.get("buffer.memory"), None);
        assert_eq!(c.get("bootstrap.servers"), Some("h:1"));
    }

    #[test]
    fn security_settings_reach_every_client() {
        let settings = ClientSettings::new(
            &worker(&[
                ("security.protocol", "SASL_SSL"),
                ("sasl.mechanism", "SCRAM-SHA-256"),
                ("sasl.username", "connect"),
                ("sasl.password", "secret"),
                ("ssl.endpoint.identification.algorithm", "https"),
            ]),
            "h:1",
        );
        let none = Properties::new();
        for config in [
            settings.producer(&none, "p").unwrap(),
            settings.consumer(&none, "g", "c").unwrap(),
            settings.admin(&none).unwrap(),
        ] {
            assert_eq!(config.get("security.protocol"), Some("SASL_SSL"));
            assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-256"));
            // librdkafka accepts them: it was built with TLS support.
            config.create_native_config().unwrap();
        }
        // A connector may override its own credentials under the Principal policy.
        let principal = ClientSettings::new(
            &worker(&[("connector.client.config.override.policy", "Principal")]),
            "h:1",
        );
        let own: Properties = [("sasl.username".to_string(), "other".to_string())].into();
        assert_eq!(
            principal.producer(&own, "p").unwrap().get("sasl.username"),
            Some("other")
        );
        let not_principal: Properties = [("acks".to_string(), "1".to_string())].into();
        assert!(principal.producer(&not_principal, "p").is_err());
    }

    #[test]
    fn a_key_librdkafka_refuses_is_named() {
        let settings = ClientSettings::new(&worker(&[("consumer.no.such.thing", "1")]), "h:1");
        let e = settings.consumer(&Properties::new(), "g", "c").unwrap_err();
        assert!(e.to_string().starts_with("consumer.no.such.thing:"), "{e}");
        let settings = ClientSettings::new(
            &worker(&[("connector.client.config.override.policy", "None")]),
            "h:1",
        );
        let overrides: Properties = [("acks".to_string(), "1".to_string())].into();
        let e = settings.producer(&overrides, "p").unwrap_err();
        assert!(e.to_string().contains("producer.override.acks"), "{e}");
    }
}
