//! From a batch of records to HTTP requests. Pure: nothing is sent here.
//!
//! Invariants: every record of the batch is in exactly one request, or skipped by
//! `behavior.on.null.values=ignore`; records of one request share its URL (the template filled
//! for each record); within a request they keep their batch order.

use crate::config::{BodyFormat, HttpSinkConfig, NullBehavior};
use crate::json::write_json;
use crate::HttpSinkError;
use kconnect_plugin_api::{SinkRecord, Value};
use std::collections::HashMap;
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    /// `None` sends a DELETE without a body.
    pub body: Option<String>,
    /// Indices of the records in the batch.
    pub records: Vec<usize>,
}

/// The URL of a record: `${topic}` and `${key}` filled in.
pub fn render_url(template: &str, record: &SinkRecord, out: &mut String) {
    out.clear();
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(tail) = after.strip_prefix("${topic}") {
            percent_encode(&record.record.topic, out);
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${key}") {
            let mut key = String::new();
            match &record.record.key {
                Value::String(s) => key.push_str(s),
                other => write_json(other, &mut key),
            }
            percent_encode(&key, out);
            rest = tail;
        } else {
            out.push_str("${");
            rest = &after[2..];
        }
    }
    out.push_str(rest);
}

fn percent_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn write_value(config: &HttpSinkConfig, value: &Value, out: &mut String) {
    match (config.body_format, value) {
        (BodyFormat::String, Value::String(s)) => out.push_str(s),
        _ => write_json(value, out),
    }
}

/// Groups `records` into requests of at most `batch.max.size` records per URL.
pub fn build_requests(
    config: &HttpSinkConfig,
    records: &[SinkRecord],
) -> Result<Vec<Request>, HttpSinkError> {
    let mut requests: Vec<Request> = Vec::new();
    // The request still accepting records, per URL.
    let mut open: HashMap<String, usize> = HashMap::new();
    let mut url = String::new();
    for (index, record) in records.iter().enumerate() {
        render_url(&config.url, record, &mut url);
        if record.record.value.is_null() {
            match config.on_null {
                NullBehavior::Ignore => continue,
                NullBehavior::Fail => {
                    return Err(HttpSinkError::NullValue {
                        topic: record.record.topic.to_string(),
                        partition: record.kafka_partition(),
                        offset: record.kafka_offset,
                    })
                }
                NullBehavior::Delete => {
                    requests.push(Request {
                        url: url.clone(),
                        body: None,
                        records: vec![index],
                    });
                    continue;
                }
            }
        }
        let slot = open
            .get(url.as_str())
            .copied()
            .filter(|&i| requests[i].records.len() < config.batch_max_size);
        let request = match slot {
            Some(i) => {
                let request = &mut requests[i];
                request
                    .body
                    .as_mut()
                    .expect("open requests have bodies")
                    .push_str(&config.batch_separator);
                request
            }
            None => {
                let mut body = String::new();
                if config.batch_max_size > 1 {
                    body.push_str(&config.batch_prefix);
                }
                requests.push(Request {
                    url: url.clone(),
                    body: Some(body),
                    records: Vec::new(),
                });
                open.insert(url.clone(), requests.len() - 1);
                requests.last_mut().expect("just pushed")
            }
        };
        write_value(
            config,
            &record.record.value,
            request.body.as_mut().expect("open requests have bodies"),
        );
        request.records.push(index);
    }
    if config.batch_max_size > 1 {
        for request in &mut requests {
            if let Some(body) = request.body.as_mut() {
                body.push_str(&config.batch_suffix);
            }
        }
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HTTP_API_URL;
    use kconnect_plugin_api::testkit::{config_from, sink_record};

    fn config(url: &str, extra: &[(&str, &str)]) -> HttpSinkConfig {
        let mut c = config_from([(HTTP_API_URL, url)]);
        c.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        HttpSinkConfig::parse(&c).unwrap()
    }

    fn keyed(key: &str, offset: i64, value: Value) -> SinkRecord {
        let mut r = sink_record("orders.eu", 0, offset, value);
        r.record.key = Value::from(key);
        r
    }

    #[test]
    fn urls_take_topic_and_encoded_key() {
        let mut url = String::new();
        render_url(
            "http://h/${topic}/items/${key}?x=${other}",
            &keyed("a b/c", 0, Value::Null),
            &mut url,
        );
        assert_eq!(url, "http://h/orders.eu/items/a%20b%2Fc?x=${other}");
    }

    #[test]
    fn batches_per_url_with_prefix_suffix_and_separator() {
        let c = config(
            "http://h/${key}",
            &[("batch.max.size", "2"), ("batch.json.as.array", "true")],
        );
        let batch = [
            keyed("a", 0, Value::Int32(1)),
            keyed("b", 1, Value::Int32(2)),
            keyed("a", 2, Value::Int32(3)),
            keyed("a", 3, Value::Int32(4)),
        ];
        let requests = build_requests(&c, &batch).unwrap();
        let summary: Vec<(&str, Option<&str>, &[usize])> = requests
            .iter()
            .map(|r| (r.url.as_str(), r.body.as_deref(), r.records.as_slice()))
            .collect();
        assert_eq!(
            summary,
            [
                ("http://h/a", Some("[1,3]"), &[0, 2][..]),
                ("http://h/b", Some("[2]"), &[1][..]),
                ("http://h/a", Some("[4]"), &[3][..])
            ]
        );
        let ndjson = config(
            "http://h/",
            &[
                ("batch.max.size", "10"),
                ("batch.separator", "\\n"),
                ("request.body.format", "string"),
            ],
        );
        let requests = build_requests(
            &ndjson,
            &[
                keyed("a", 0, Value::from("{\"x\":1}")),
                keyed("a", 1, Value::from("{\"x\":2}")),
            ],
        )
        .unwrap();
        assert_eq!(requests[0].body.as_deref(), Some("{\"x\":1}\n{\"x\":2}"));
    }

    #[test]
    fn single_records_have_no_prefix_and_nulls_follow_the_behavior() {
        let c = config("http://h/", &[("batch.prefix", "[")]);
        let batch = [keyed("a", 0, Value::from("s")), keyed("a", 1, Value::Null)];
        let requests = build_requests(&c, &batch).unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].body.as_deref(), Some("\"s\""));
        let delete = config("http://h/${key}", &[("behavior.on.null.values", "delete")]);
        let requests = build_requests(&delete, &batch).unwrap();
        assert_eq!(
            requests[1],
            Request {
                url: "http://h/a".into(),
                body: None,
                records: vec![1]
            }
        );
        let fail = config("http://h/", &[("behavior.on.null.values", "fail")]);
        let message = build_requests(&fail, &batch).unwrap_err().to_string();
        assert!(
            message.contains("topic orders.eu partition 0 offset 1"),
            "{message}"
        );
    }
}
