//! Each connector's config history, for the console's history view and rollback: every version a
//! connector's config went through, with its time, kept apart from Kafka Connect's own state.
//!
//! Where it is kept:
//! - standalone: JSON lines in `<offset.storage.file.filename>.history`, beside the offset file;
//! - distributed: the topic `kconnect.config.history.topic` (delete policy, no retention limit),
//!   written by the worker that accepted the change and read by every worker.
//!
//! Both hold the same [`HistoryRecord`]s. [`ConfigHistory`] is what they add up to, a pure
//! function of the records in order. Invariants:
//! - a record equal to the connector's latest version is not a new version (a PUT of the same
//!   config, the same file at the next start, two workers racing to write one change);
//! - versions count from 1 per connector and never change once given;
//! - passwords are kept as written (a rollback needs them) and masked in every answer.

use super::validation::mask;
use crate::config::Properties;
use kconnect_herder_api::{ConfigChange, ConfigVersion, HerderError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One change, as stored. `config: None` is a deletion.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HistoryRecord {
    pub connector: String,
    /// Milliseconds since the epoch.
    pub time: i64,
    pub config: Option<Properties>,
}

impl HistoryRecord {
    pub fn now(connector: &str, config: Option<Properties>) -> HistoryRecord {
        HistoryRecord {
            connector: connector.to_string(),
            time: chrono::Utc::now().timestamp_millis(),
            config,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    time: i64,
    config: Option<Properties>,
}

/// Every connector's versions, oldest first.
#[derive(Clone, Debug, Default)]
pub struct ConfigHistory {
    connectors: BTreeMap<String, Vec<Version>>,
}

impl ConfigHistory {
    /// True when `config` would be a new version of `connector` (it differs from the latest).
    pub fn is_change(&self, connector: &str, config: Option<&Properties>) -> bool {
        let latest = self
            .connectors
            .get(connector)
            .and_then(|versions| versions.last());
        match latest {
            Some(version) => version.config.as_ref() != config,
            // A connector nobody recorded yet: its first config is a change, a deletion is not.
            None => config.is_some(),
        }
    }

    /// Adds a record unless it repeats the latest version; true when it was added.
    pub fn apply(&mut self, record: HistoryRecord) -> bool {
        if !self.is_change(&record.connector, record.config.as_ref()) {
            return false;
        }
        self.connectors
            .entry(record.connector)
            .or_default()
            .push(Version {
                time: record.time,
                config: record.config,
            });
        true
    }

    /// The records that make the history match `current` (name → config): a version for each
    /// connector whose config changed or is new, a deletion for each recorded one that is gone.
    pub fn changes_towards(&self, current: &BTreeMap<String, Properties>) -> Vec<HistoryRecord> {
        let changed = current
            .iter()
            .filter(|(name, config)| self.is_change(name, Some(config)))
            .map(|(name, config)| HistoryRecord::now(name, Some(config.clone())));
        let deleted = self
            .connectors
            .keys()
            .filter(|name| !current.contains_key(*name) && self.is_change(name, None))
            .map(|name| HistoryRecord::now(name, None));
        changed.chain(deleted).collect()
    }

    /// Whether anything was ever recorded for `connector`.
    pub fn knows(&self, connector: &str) -> bool {
        self.connectors.contains_key(connector)
    }

    /// The versions of `connector`, oldest first, with `password_keys` masked.
    pub fn versions(
        &self,
        connector: &str,
        password_keys: &BTreeSet<String>,
    ) -> Vec<ConfigVersion> {
        let Some(versions) = self.connectors.get(connector) else {
            return Vec::new();
        };
        let mut previous: Option<&Properties> = None;
        let mut answer = Vec::with_capacity(versions.len());
        for (index, version) in versions.iter().enumerate() {
            let config = version.config.as_ref();
            answer.push(ConfigVersion {
                version: index as u32 + 1,
                time: version.time,
                config: config.map(|c| mask(c, password_keys)),
                changes: diff(previous, config, password_keys),
            });
            previous = config;
        }
        answer
    }

    /// The config of `version` as written (passwords in clear), to write it back. `None` for
    /// an unknown version; `Some(None)` for a version that is a deletion.
    pub fn config_of(&self, connector: &str, version: u32) -> Option<Option<&Properties>> {
        let index = usize::try_from(version.checked_sub(1)?).ok()?;
        let version = self.connectors.get(connector)?.get(index)?;
        Some(version.config.as_ref())
    }
}

impl ConfigHistory {
    /// The history answer for `connector`: `NotFound` when it has neither a config (`exists`)
    /// nor a recorded version.
    pub fn answer(
        &self,
        connector: &str,
        exists: bool,
        password_keys: &BTreeSet<String>,
    ) -> Result<Vec<ConfigVersion>, HerderError> {
        if !exists && !self.knows(connector) {
            return Err(HerderError::NotFound(format!(
                "Connector {connector} not found"
            )));
        }
        Ok(self.versions(connector, password_keys))
    }

    /// The config a rollback of `connector` to `version` writes.
    pub fn rollback_config(
        &self,
        connector: &str,
        version: u32,
    ) -> Result<Properties, HerderError> {
        match self.config_of(connector, version) {
            None => Err(HerderError::NotFound(format!(
                "Connector {connector} has no config version {version}"
            ))),
            Some(None) => Err(HerderError::Invalid(format!(
                "Version {version} of connector {connector} is its deletion: there is no config to roll back to"
            ))),
            Some(Some(config)) => Ok(config.clone()),
        }
    }

    /// Every config `connector` ever had, for finding which keys are passwords.
    pub fn configs(&self, connector: &str) -> impl Iterator<Item = &Properties> {
        self.connectors
            .get(connector)
            .into_iter()
            .flatten()
            .filter_map(|version| version.config.as_ref())
    }
}

/// Keys added, removed or changed from `before` to `after`, in key order; a password's values
/// are masked, though its change is shown.
fn diff(
    before: Option<&Properties>,
    after: Option<&Properties>,
    password_keys: &BTreeSet<String>,
) -> Vec<ConfigChange> {
    let empty = Properties::new();
    let (before, after) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let shown = |key: &str, value: Option<&String>| {
        value.map(|v| {
            if password_keys.contains(key) {
                super::validation::HIDDEN.to_string()
            } else {
                v.clone()
            }
        })
    };
    keys.into_iter()
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|key| ConfigChange {
            key: key.clone(),
            before: shown(key, before.get(key)),
            after: shown(key, after.get(key)),
        })
        .collect()
}

/// Standalone: the history as JSON lines beside the offset file, appended to on each change.
pub struct FileHistory {
    path: PathBuf,
    history: Mutex<ConfigHistory>,
}

impl FileHistory {
    /// The history file of an offset file.
    pub fn beside(offset_file: &Path) -> PathBuf {
        let mut name = offset_file
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".history");
        offset_file.with_file_name(name)
    }

    /// Reads the file; a missing one is an empty history. A line that cannot be read is
    /// skipped with a warning naming it, so one damaged line costs one version, not all.
    pub fn open(path: PathBuf) -> FileHistory {
        let mut history = ConfigHistory::default();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for (number, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<HistoryRecord>(line) {
                        Ok(record) => {
                            history.apply(record);
                        }
                        Err(e) => log::warn!(
                            "config history {}: line {} skipped: {e}",
                            path.display(),
                            number + 1
                        ),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("config history {} cannot be read: {e}", path.display()),
        }
        FileHistory {
            path,
            history: Mutex::new(history),
        }
    }

    /// Records whatever changed towards `current` (every connector's config).
    pub fn observe(&self, current: &BTreeMap<String, Properties>) {
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let records = history.changes_towards(current);
        if records.is_empty() {
            return;
        }
        if let Err(e) = self.append(&records) {
            log::error!(
                "cannot append to the config history {}: {e}",
                self.path.display()
            );
        }
        for record in records {
            history.apply(record);
        }
    }

    fn append(&self, records: &[HistoryRecord]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        for record in records {
            serde_json::to_writer(&mut lines, record)?;
            lines.push(b'\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&lines)?;
        file.sync_data()
    }

    /// Reads the history under its lock.
    pub fn with<R>(&self, question: impl FnOnce(&ConfigHistory) -> R) -> R {
        question(&self.history.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Properties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn record(name: &str, time: i64, config: Option<Properties>) -> HistoryRecord {
        HistoryRecord {
            connector: name.to_string(),
            time,
            config,
        }
    }

    #[test]
    fn versions_count_from_one_and_repeats_are_not_versions() {
        let mut history = ConfigHistory::default();
        assert!(history.apply(record("a", 1, Some(config(&[("topic", "t1")])))));
        assert!(!history.apply(record("a", 2, Some(config(&[("topic", "t1")])))));
        assert!(history.apply(record("a", 3, Some(config(&[("topic", "t2")])))));
        assert!(history.apply(record("a", 4, None)));
        assert!(!history.apply(record("a", 5, None)));
        let versions = history.versions("a", &BTreeSet::new());
        let numbers: Vec<(u32, i64)> = versions.iter().map(|v| (v.version, v.time)).collect();
        assert_eq!(numbers, vec![(1, 1), (2, 3), (3, 4)]);
        assert_eq!(versions[2].config, None);
    }

    #[test]
    fn changes_are_against_the_previous_version() {
        let mut history = ConfigHistory::default();
        history.apply(record(
            "a",
            1,
            Some(config(&[("topic", "t1"), ("file", "f")])),
        ));
        history.apply(record(
            "a",
            2,
            Some(config(&[("topic", "t2"), ("tasks.max", "2")])),
        ));
        let versions = history.versions("a", &BTreeSet::new());
        assert_eq!(
            versions[0].changes.len(),
            2,
            "the first version adds every key"
        );
        let second: Vec<(String, Option<String>, Option<String>)> = versions[1]
            .changes
            .iter()
            .map(|c| (c.key.clone(), c.before.clone(), c.after.clone()))
            .collect();
        assert_eq!(
            second,
            vec![
                ("file".into(), Some("f".into()), None),
                ("tasks.max".into(), None, Some("2".into())),
                ("topic".into(), Some("t1".into()), Some("t2".into())),
            ]
        );
    }

    #[test]
    fn passwords_are_masked_in_answers_and_kept_for_rollback() {
        let mut history = ConfigHistory::default();
        history.apply(record(
            "db",
            1,
            Some(config(&[("connection.password", "s1")])),
        ));
        history.apply(record(
            "db",
            2,
            Some(config(&[("connection.password", "s2")])),
        ));
        let passwords = BTreeSet::from(["connection.password".to_string()]);
        let versions = history.versions("db", &passwords);
        let shown = &versions[1];
        assert_eq!(
            shown.config.as_ref().unwrap()["connection.password"],
            "[hidden]"
        );
        assert_eq!(shown.changes.len(), 1, "the change is shown");
        assert_eq!(shown.changes[0].before.as_deref(), Some("[hidden]"));
        let kept = history.config_of("db", 1).unwrap().unwrap();
        assert_eq!(kept["connection.password"], "s1");
        assert_eq!(history.config_of("db", 3), None);
        assert_eq!(history.config_of("db", 0), None);
    }

    #[test]
    fn the_current_configs_give_new_versions_and_deletions() {
        let mut history = ConfigHistory::default();
        history.apply(record("kept", 1, Some(config(&[("a", "1")]))));
        history.apply(record("changed", 1, Some(config(&[("a", "1")]))));
        history.apply(record("gone", 1, Some(config(&[("a", "1")]))));
        let current = BTreeMap::from([
            ("kept".to_string(), config(&[("a", "1")])),
            ("changed".to_string(), config(&[("a", "2")])),
            ("new".to_string(), config(&[("a", "1")])),
        ]);
        let mut changes: Vec<(String, bool)> = history
            .changes_towards(&current)
            .into_iter()
            .map(|r| (r.connector, r.config.is_some()))
            .collect();
        changes.sort();
        assert_eq!(
            changes,
            vec![
                ("changed".into(), true),
                ("gone".into(), false),
                ("new".into(), true)
            ]
        );
    }

    #[test]
    fn the_file_survives_a_reopen_and_a_damaged_line_costs_one_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = FileHistory::beside(&dir.path().join("connect.offsets"));
        assert!(path.ends_with("connect.offsets.history"));
        let file = FileHistory::open(path.clone());
        file.observe(&BTreeMap::from([("a".to_string(), config(&[("x", "1")]))]));
        file.observe(&BTreeMap::from([("a".to_string(), config(&[("x", "2")]))]));
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("not json\n");
        std::fs::write(&path, text).unwrap();
        let reopened = FileHistory::open(path);
        let versions = reopened.with(|h| h.versions("a", &BTreeSet::new()));
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1].config.as_ref().unwrap()["x"], "2");
    }
}
