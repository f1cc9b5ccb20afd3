//! The distributed offset store: source offsets in `offset.storage.topic`, in Kafka Connect's
//! format (key `["<connector>",{partition}]`, value the offset object, both schemaless JSON;
//! a null value deletes), so a task moved to another worker resumes where the old one stopped.
//!
//! Invariants: every worker reads the whole topic into memory and keeps reading it; a task
//! starting on this worker first waits for [`TopicOffsetStore::catch_up`], so it sees every
//! offset flushed anywhere before it started. Offsets put but not yet flushed win over what
//! the topic says, and stay pending until a flush was acknowledged.

use super::{json_to_source_map, key_connector, offset_key, source_map_to_json};
use crate::error::Result;
use crate::kafka::topic_log::{LogRecord, TopicReader, TopicWriter};
use crate::kafka::ClientSettings;
use kconnect_plugin_api::record::SourceMap;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Key text → (key, offset).
type Offsets = BTreeMap<String, (Json, Json)>;
/// Key text → (key, offset or deletion), not yet acknowledged by the broker.
type Pending = BTreeMap<String, (Json, Option<Json>)>;

pub struct TopicOffsetStore {
    topic: String,
    writer: TopicWriter,
    stored: Arc<Mutex<Offsets>>,
    pending: Mutex<Pending>,
    reader: TopicReader,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Applies one record of the offset topic; records that are not Kafka Connect offsets are
/// skipped with a debug line (another tool may share the topic).
fn apply(stored: &Mutex<Offsets>, record: LogRecord<'_>) {
    let Some(key) = record
        .key
        .and_then(|k| serde_json::from_slice::<Json>(k).ok())
    else {
        log::debug!("offset topic: skipping a record without a JSON key");
        return;
    };
    let text = key.to_string();
    match record.value.map(serde_json::from_slice::<Json>) {
        None => {
            lock(stored).remove(&text);
        }
        Some(Ok(offset)) => {
            lock(stored).insert(text, (key, offset));
        }
        Some(Err(e)) => log::debug!("offset topic: skipping an offset that is not JSON: {e}"),
    }
}

impl TopicOffsetStore {
    /// Starts reading the offset topic (which must exist); with `read_committed`, offsets
    /// written in transactions count once committed (exactly-once source tasks).
    pub fn start(
        settings: &ClientSettings,
        topic: &str,
        writer: TopicWriter,
        client_id: &str,
        read_committed: bool,
    ) -> Result<TopicOffsetStore> {
        let stored = Arc::new(Mutex::new(Offsets::new()));
        let applying = stored.clone();
        let reader = TopicReader::start_with(
            settings,
            topic,
            &format!("{client_id}-offsets"),
            read_committed,
            move |record| apply(&applying, record),
            || {},
        )?;
        Ok(TopicOffsetStore {
            topic: topic.to_string(),
            writer,
            stored,
            pending: Mutex::new(Pending::new()),
            reader,
        })
    }

    /// Waits until every offset written before this call is known here.
    pub fn catch_up(&self, timeout: Duration) -> Result<()> {
        self.reader.catch_up(timeout)
    }

    pub fn get(&self, connector: &str, partition: &SourceMap) -> Option<SourceMap> {
        let text = offset_key(connector, partition).0;
        if let Some((_, pending)) = lock(&self.pending).get(&text) {
            return pending.as_ref().and_then(json_to_source_map);
        }
        lock(&self.stored)
            .get(&text)
            .and_then(|(_, offset)| json_to_source_map(offset))
    }

    pub fn put(
        &self,
        connector: &str,
        offsets: impl IntoIterator<Item = (SourceMap, Option<SourceMap>)>,
    ) {
        let mut pending = lock(&self.pending);
        for (partition, offset) in offsets {
            let (text, key) = offset_key(connector, &partition);
            pending.insert(text, (key, offset.as_ref().map(source_map_to_json)));
        }
    }

    /// Writes the pending offsets and waits for the broker; on failure they stay pending.
    pub fn flush(&self) -> Result<()> {
        let batch = std::mem::take(&mut *lock(&self.pending));
        if batch.is_empty() {
            return Ok(());
        }
        let records: Vec<(String, Option<Vec<u8>>)> = batch
            .iter()
            .map(|(text, (_, offset))| {
                (
                    text.clone(),
                    offset.as_ref().map(|o| o.to_string().into_bytes()),
                )
            })
            .collect();
        match self.writer.send_all_blocking(&self.topic, &records) {
            Ok(()) => {
                let mut stored = lock(&self.stored);
                for (text, (key, offset)) in batch {
                    match offset {
                        Some(offset) => stored.insert(text, (key, offset)),
                        None => stored.remove(&text),
                    };
                }
                Ok(())
            }
            Err(e) => {
                let mut pending = lock(&self.pending);
                for (text, entry) in batch {
                    // Offsets put meanwhile are newer.
                    pending.entry(text).or_insert(entry);
                }
                Err(e)
            }
        }
    }

    pub fn needs_flush(&self) -> bool {
        !lock(&self.pending).is_empty()
    }

    pub fn connector_offsets(&self, connector: &str) -> Vec<(Json, Json)> {
        let mut merged: BTreeMap<String, (Json, Option<Json>)> = lock(&self.stored)
            .iter()
            .filter(|(_, (key, _))| key_connector(key) == Some(connector))
            .map(|(text, (key, offset))| (text.clone(), (key.clone(), Some(offset.clone()))))
            .collect();
        for (text, entry) in lock(&self.pending).iter() {
            if key_connector(&entry.0) == Some(connector) {
                merged.insert(text.clone(), entry.clone());
            }
        }
        merged
            .into_values()
            .filter_map(|(key, offset)| Some((key.get(1).cloned().unwrap_or(Json::Null), offset?)))
            .collect()
    }

    /// Marks every offset of a connector for deletion (tombstones on the next flush).
    pub fn remove_connector(&self, connector: &str) {
        let keys: Vec<(String, Json)> = lock(&self.stored)
            .iter()
            .filter(|(_, (key, _))| key_connector(key) == Some(connector))
            .map(|(text, (key, _))| (text.clone(), key.clone()))
            .collect();
        let mut pending = lock(&self.pending);
        for (text, key) in keys {
            pending.insert(text, (key, None));
        }
        for (_, (key, offset)) in pending.iter_mut() {
            if key_connector(key) == Some(connector) {
                *offset = None;
            }
        }
    }
}
