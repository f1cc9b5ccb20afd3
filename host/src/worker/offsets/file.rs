//! The standalone offset store: source offsets in `offset.storage.file.filename`, and beside it the
//! connectors created through REST (`<file>.connectors.json`), so they survive a restart.
//!
//! Invariants: a flush writes the whole file to a temporary sibling, syncs it and renames it over
//! the old one, so a crash never leaves a half-written file. Keys have the shape of Kafka's offset
//! topic keys, `["<connector>", {<source partition>}]`, so stores can move to distributed mode.

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

impl FileOffsetStore {
    /// Opens (or starts) the store; an unreadable or corrupt file is an error, never silently empty.
    pub fn open(path: &Path) -> Result<FileOffsetStore> {
        let offsets = match std::fs::read(path) {
            Ok(bytes) if bytes.is_empty() => BTreeMap::new(),
            Ok(bytes) => {
                let entries: Vec<(Json, Json)> = serde_json::from_slice(&bytes)
                    .map_err(|e| store_error(path, format!("not a kconnect offset file: {e}")))?;
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
            let entries: Vec<&(Json, Json)> = map.values().collect();
            serde_json::to_vec(&entries).map_err(|e| store_error(&self.path, e.to_string()))?
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
        assert!(e.to_string().contains("not a kconnect offset file"), "{e}");
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
