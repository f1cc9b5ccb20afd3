//! The standalone offset store: source offsets in `offset.storage.file.filename`, and beside it the
//! connectors created through REST (`<file>.connectors.json`), so they survive a restart.
//!
//! The offset file is Kafka's own (a Java-serialized `HashMap<byte[], byte[]>` of offset-topic
//! JSON keys and values, see [`super::java_map`]), so a standalone worker moves between kconnect
//! and Apache Kafka Connect with its offsets, both ways. Files of kconnect before 0.2 (a JSON
//! list of `[key, offset]` pairs) are still read, and written in Kafka's format from then on.
//!
//! Invariants: a flush writes the whole file to a temporary sibling, syncs it and renames it over
//! the old one, so a crash never leaves a half-written file. Keys have the shape of Kafka's offset
//! topic keys, `["<connector>", {<source partition>}]`, so stores can move to distributed mode.
//! An entry that is not such a key and a JSON offset (or a null one, which Kafka writes for a
//! deleted offset) is an error at open, naming the file: nothing is dropped silently.

use super::java_map;
use super::{json_to_source_map, key_connector, offset_key, source_map_to_json};
use crate::error::{Result, WorkerError};
use kconnect_plugin_api::record::SourceMap;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A stored connector: its config and target state.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct StoredConnector {
    pub config: BTreeMap<String, String>,
    pub target_state: String,
}

pub struct FileOffsetStore {
    path: PathBuf,
    /// Key text → (key, offset), so a flush writes the parsed key without parsing it again.
    offsets: Mutex<BTreeMap<String, (Json, Json)>>,
    /// Set by `put`, cleared by a successful `flush`: offsets a failed flush left unwritten.
    dirty: AtomicBool,
}

fn store_error(path: &Path, message: impl Into<String>) -> WorkerError {
    WorkerError::Store {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}tmp",
        path.extension()
            .map(|e| format!("{}.", e.to_string_lossy()))
            .unwrap_or_default()
    ));
    let result = (|| -> std::io::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        store_error(path, format!("cannot write: {e}"))
    })
}

/// The entries of Kafka's offset file, keyed by their key text as Kafka wrote it. A null offset
/// (Kafka's record of a deleted one) is no offset.
fn kafka_entries(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, (Json, Json)>> {
    let entries = java_map::decode(bytes)
        .map_err(|e| store_error(path, format!("Kafka's offset file: {e}")))?;
    let mut offsets = BTreeMap::new();
    for (i, (key, offset)) in entries.into_iter().enumerate() {
        let json = |bytes: &[u8], what: &str| {
            serde_json::from_slice::<Json>(bytes)
                .map_err(|e| store_error(path, format!("entry {i}: the {what} is not JSON: {e}")))
        };
        let Some(key) = key else {
            return Err(store_error(path, format!("entry {i} has a null key")));
        };
        let key = json(&key, "key")?;
        if key_connector(&key).is_none() {
            return Err(store_error(
                path,
                format!("entry {i}: the key {key} is not [\"<connector>\", {{<partition>}}]"),
            ));
        }
        if let Some(offset) = offset {
            let offset = json(&offset, "offset")?;
            offsets.insert(key.to_string(), (key, offset));
        }
    }
    Ok(offsets)
}

impl FileOffsetStore {
    /// Opens (or starts) the store; an unreadable or corrupt file is an error, never silently empty.
    pub fn open(path: &Path) -> Result<FileOffsetStore> {
        let offsets = match std::fs::read(path) {
            Ok(bytes) if bytes.is_empty() => BTreeMap::new(),
            Ok(bytes) if bytes.starts_with(&java_map::STREAM_MAGIC) => kafka_entries(path, &bytes)?,
            Ok(bytes) => {
                let entries: Vec<(Json, Json)> = serde_json::from_slice(&bytes).map_err(|e| {
                    store_error(
                        path,
                        format!("neither Kafka's offset file nor kconnect's older JSON one: {e}"),
                    )
                })?;
                entries
                    .into_iter()
                    .map(|(key, offset)| (key.to_string(), (key, offset)))
                    .collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(store_error(path, format!("cannot read: {e}"))),
        };
        Ok(FileOffsetStore {
            path: path.to_path_buf(),
            offsets: Mutex::new(offsets),
            dirty: AtomicBool::new(false),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (Json, Json)>> {
        self.offsets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored offset of a connector's source partition.
    pub fn get(&self, connector: &str, partition: &SourceMap) -> Option<SourceMap> {
        self.lock()
            .get(&offset_key(connector, partition).0)
            .and_then(|(_, offset)| json_to_source_map(offset))
    }

    /// Records offsets in memory; [`FileOffsetStore::flush`] makes them durable. `None` deletes.
    pub fn put(
        &self,
        connector: &str,
        offsets: impl IntoIterator<Item = (SourceMap, Option<SourceMap>)>,
    ) {
        self.dirty.store(true, Ordering::Release);
        let mut map = self.lock();
        for (partition, offset) in offsets {
            let (text, key) = offset_key(connector, &partition);
            match offset {
                Some(offset) => map.insert(text, (key, source_map_to_json(&offset))),
                None => map.remove(&text),
            };
        }
    }

    /// Every stored `(partition, offset)` of a connector.
    pub fn connector_offsets(&self, connector: &str) -> Vec<(Json, Json)> {
        self.lock()
            .values()
            .filter(|(key, _)| key_connector(key) == Some(connector))
            .map(|(key, offset)| (key.get(1).cloned().unwrap_or(Json::Null), offset.clone()))
            .collect()
    }

    /// Drops every offset of a connector (KIP-875 reset).
    pub fn remove_connector(&self, connector: &str) {
        self.lock()
            .retain(|_, (key, _)| key_connector(key) != Some(connector));
    }

    /// Writes everything to disk atomically.
    pub fn flush(&self) -> Result<()> {
        // Cleared first: a `put` racing with this flush marks the store dirty again.
        self.dirty.store(false, Ordering::Release);
        let bytes = {
            let map = self.lock();
            let entries: Vec<java_map::Entry> = map
                .iter()
                .map(|(key, (_, offset))| {
                    (
                        Some(key.as_bytes().to_vec()),
                        Some(offset.to_string().into_bytes()),
                    )
                })
                .collect();
            java_map::encode(&entries)
        };
        let written = write_atomically(&self.path, &bytes);
        if written.is_err() {
            self.dirty.store(true, Ordering::Release);
        }
        written
    }

    /// True when offsets were recorded but not yet written (e.g. after a failed flush).
    pub fn needs_flush(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// The file holding connectors created through REST.
    fn connectors_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".connectors.json");
        self.path.with_file_name(name)
    }

    /// Connectors stored by earlier runs.
    pub fn load_connectors(&self) -> Result<BTreeMap<String, StoredConnector>> {
        let path = self.connectors_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| store_error(&path, format!("not a kconnect connector file: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(store_error(&path, format!("cannot read: {e}"))),
        }
    }

    /// Replaces the stored connectors.
    pub fn save_connectors(&self, connectors: &BTreeMap<String, StoredConnector>) -> Result<()> {
        let path = self.connectors_path();
        let bytes =
            serde_json::to_vec_pretty(connectors).map_err(|e| store_error(&path, e.to_string()))?;
        write_atomically(&path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::data::Value;

    #[test]
    fn offsets_survive_a_reopen_and_reset_is_per_connector() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        let store = FileOffsetStore::open(&path).unwrap();
        let partition = SourceMap::new().with("filename", "/tmp/a.txt");
        store.put(
            "src",
            [(
                partition.clone(),
                Some(SourceMap::new().with("position", 42i64)),
            )],
        );
        store.put(
            "src2",
            [(
                partition.clone(),
                Some(SourceMap::new().with("position", 7i64)),
            )],
        );
        store.flush().unwrap();
        let reopened = FileOffsetStore::open(&path).unwrap();
        assert_eq!(
            reopened.get("src", &partition).unwrap().get("position"),
            Some(&Value::Int64(42))
        );
        reopened.remove_connector("src");
        assert!(reopened.get("src", &partition).is_none());
        assert!(reopened.get("src2", &partition).is_some());
        assert_eq!(reopened.connector_offsets("src2").len(), 1);
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        std::fs::write(&path, b"{half").unwrap();
        let e = FileOffsetStore::open(&path).err().unwrap();
        assert!(e.to_string().contains("neither Kafka's offset file"), "{e}");
        // Kafka's format cut short, and one whose entry is not an offset-topic key.
        let good = java_map::encode(&[(
            Some(br#"["src",{"filename":"/a"}]"#.to_vec()),
            Some(br#"{"position":1}"#.to_vec()),
        )]);
        std::fs::write(&path, &good[..good.len() - 2]).unwrap();
        let e = FileOffsetStore::open(&path).err().unwrap();
        assert!(e.to_string().contains("Kafka's offset file"), "{e}");
        std::fs::write(&path, java_map::encode(&[(Some(b"{}".to_vec()), None)])).unwrap();
        let e = FileOffsetStore::open(&path).err().unwrap();
        assert!(e.to_string().contains("entry 0: the key {}"), "{e}");
    }

    /// Bytes Java 17's `ObjectOutputStream` wrote for a `HashMap<byte[], byte[]>` holding one
    /// offset and one null (deleted) offset, as Kafka's `FileOffsetBackingStore` saves them.
    const JAVA_WRITTEN: &str = "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f724900097468726573686f6c6478703f4000000000000c77080000001000000002757200025b42acf317f8060854e00200007870000000175b2263222c7b2266696c656e616d65223a222f78227d5d7571007e00020000000f7b22706f736974696f6e223a34327d7571007e0002000000175b2264222c7b2266696c656e616d65223a222f79227d5d7078";

    #[test]
    fn kafkas_offset_file_is_read_and_written_in_its_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        let bytes: Vec<u8> = (0..JAVA_WRITTEN.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&JAVA_WRITTEN[i..i + 2], 16).unwrap())
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let store = FileOffsetStore::open(&path).unwrap();
        let x = SourceMap::new().with("filename", "/x");
        assert_eq!(
            store.get("c", &x),
            Some(SourceMap::new().with("position", 42i64))
        );
        assert_eq!(
            store.get("d", &SourceMap::new().with("filename", "/y")),
            None
        );
        store.put(
            "c",
            [(x.clone(), Some(SourceMap::new().with("position", 43i64)))],
        );
        store.flush().unwrap();
        let written = std::fs::read(&path).unwrap();
        assert!(written.starts_with(&java_map::STREAM_MAGIC));
        assert_eq!(
            java_map::decode(&written).unwrap(),
            vec![(
                Some(br#"["c",{"filename":"/x"}]"#.to_vec()),
                Some(br#"{"position":43}"#.to_vec())
            )]
        );
    }

    #[test]
    fn an_older_kconnect_json_file_is_read_then_written_in_kafkas_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        std::fs::write(&path, br#"[[["src",{"filename":"/a"}],{"position":7}]]"#).unwrap();
        let store = FileOffsetStore::open(&path).unwrap();
        let a = SourceMap::new().with("filename", "/a");
        assert_eq!(
            store.get("src", &a),
            Some(SourceMap::new().with("position", 7i64))
        );
        store.put(
            "src",
            [(a.clone(), Some(SourceMap::new().with("position", 8i64)))],
        );
        store.flush().unwrap();
        let reopened = FileOffsetStore::open(&path).unwrap();
        assert_eq!(
            reopened.get("src", &a),
            Some(SourceMap::new().with("position", 8i64))
        );
        assert!(std::fs::read(&path)
            .unwrap()
            .starts_with(&java_map::STREAM_MAGIC));
    }

    #[test]
    fn connectors_are_stored_beside_the_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileOffsetStore::open(&dir.path().join("o")).unwrap();
        let mut connectors = BTreeMap::new();
        connectors.insert(
            "c".to_string(),
            StoredConnector {
                config: [("a".to_string(), "b".to_string())].into(),
                target_state: "RUNNING".into(),
            },
        );
        store.save_connectors(&connectors).unwrap();
        assert!(dir.path().join("o.connectors.json").exists());
        assert_eq!(store.load_connectors().unwrap(), connectors);
    }
}
