//! Sink connector offsets in Kafka's REST shape (KIP-875): partitions are
//! `{"kafka_topic": …, "kafka_partition": …}` and offsets `{"kafka_offset": …}`.

use crate::kafka::group_offsets::GroupOffset;
use kconnect_herder_api::entities::{ConnectorOffset, ConnectorOffsets};
use kconnect_herder_api::HerderError;
use serde_json::{json, Map, Value as Json};

const TOPIC: &str = "kafka_topic";
const PARTITION: &str = "kafka_partition";
const OFFSET: &str = "kafka_offset";

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

/// Committed group offsets as the REST API shows them.
pub fn to_rest(offsets: Vec<GroupOffset>) -> ConnectorOffsets {
    ConnectorOffsets {
        offsets: offsets
            .into_iter()
            .map(|o| ConnectorOffset {
                partition: object(json!({ TOPIC: o.topic, PARTITION: o.partition })),
                offset: Some(object(json!({ OFFSET: o.offset }))),
            })
            .collect(),
    }
}

/// An alter request's entries as `(topic, partition, offset or reset)`.
pub fn from_rest(
    offsets: ConnectorOffsets,
) -> Result<Vec<(String, i32, Option<i64>)>, HerderError> {
    let bad = |m: &str| HerderError::Invalid(m.to_string());
    offsets
        .offsets
        .into_iter()
        .map(|entry| {
            let topic = entry
                .partition
                .get(TOPIC)
                .and_then(Json::as_str)
                .ok_or_else(|| bad("Partition for a sink connector must have a 'kafka_topic' key with a string value"))?;
            let partition = entry
                .partition
                .get(PARTITION)
                .and_then(Json::as_i64)
                .and_then(|p| i32::try_from(p).ok())
                .filter(|p| *p >= 0)
                .ok_or_else(|| bad("Partition for a sink connector must have a 'kafka_partition' key with a non-negative integer value"))?;
            let offset = match entry.offset {
                None => None,
                Some(offset) => Some(
                    offset
                        .get(OFFSET)
                        .and_then(Json::as_i64)
                        .filter(|o| *o >= 0)
                        .ok_or_else(|| bad("Offset for a sink connector must have a 'kafka_offset' key with a non-negative integer value"))?,
                ),
            };
            Ok((topic.to_string(), partition, offset))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let rest = to_rest(vec![GroupOffset {
            topic: "t".into(),
            partition: 2,
            offset: 7,
        }]);
        let text = serde_json::to_string(&rest).unwrap();
        assert_eq!(
            text,
            r#"{"offsets":[{"partition":{"kafka_partition":2,"kafka_topic":"t"},"offset":{"kafka_offset":7}}]}"#
        );
        assert_eq!(
            from_rest(rest).unwrap(),
            vec![("t".to_string(), 2, Some(7))]
        );
        let reset: ConnectorOffsets = serde_json::from_str(
            r#"{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":null}]}"#,
        )
        .unwrap();
        assert_eq!(from_rest(reset).unwrap(), vec![("t".to_string(), 0, None)]);
        let bad: ConnectorOffsets = serde_json::from_str(
            r#"{"offsets":[{"partition":{"kafka_topic":"t"},"offset":null}]}"#,
        )
        .unwrap();
        assert!(from_rest(bad).is_err());
    }
}
