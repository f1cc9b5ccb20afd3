//! The worker's logger: Kafka-style lines on stderr, levels per target changeable at run time.
//!
//! Line format follows Kafka's default log4j pattern, `[time] LEVEL message (target)`, without
//! colours, so journald and existing log tooling read it as they read Kafka Connect's.
//!
//! Levels: a logger name is a target prefix (`kconnect::worker` covers
//! `kconnect::worker::source`); the longest configured prefix wins, then `root`. Plugins log
//! through the same logger (their `log` records are forwarded), so changes apply to them too.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{OnceLock, RwLock};

/// The root logger's name, as in log4j and Kafka's `/admin/loggers`.
pub const ROOT: &str = "root";

#[derive(Clone, Debug, PartialEq)]
pub struct LoggerSetting {
    pub level: LevelFilter,
    /// Milliseconds since the epoch of the last change through [`WorkerLogger::set_level`].
    pub last_modified: Option<i64>,
}

pub struct WorkerLogger {
    levels: RwLock<BTreeMap<String, LoggerSetting>>,
}

static LOGGER: OnceLock<WorkerLogger> = OnceLock::new();

/// Parses a level name the way log4j spells them (`DEBUG`, `warn`, `OFF`…; `FATAL` = error).
pub fn parse_level(name: &str) -> Option<LevelFilter> {
    match name.trim().to_ascii_uppercase().as_str() {
        "OFF" => Some(LevelFilter::Off),
        "FATAL" | "ERROR" => Some(LevelFilter::Error),
        "WARN" => Some(LevelFilter::Warn),
        "INFO" => Some(LevelFilter::Info),
        "DEBUG" => Some(LevelFilter::Debug),
        "TRACE" | "ALL" => Some(LevelFilter::Trace),
        _ => None,
    }
}

/// log4j's upper-case spelling of a level.
pub fn level_name(level: LevelFilter) -> &'static str {
    match level {
        LevelFilter::Off => "OFF",
        LevelFilter::Error => "ERROR",
        LevelFilter::Warn => "WARN",
        LevelFilter::Info => "INFO",
        LevelFilter::Debug => "DEBUG",
        LevelFilter::Trace => "TRACE",
    }
}

impl WorkerLogger {
    /// Installs the logger once; `spec` is `RUST_LOG`-like: `info,kconnect::worker=debug`.
    pub fn install(spec: &str) -> &'static WorkerLogger {
        let logger = LOGGER.get_or_init(|| {
            let mut levels = BTreeMap::new();
            levels.insert(
                ROOT.to_string(),
                LoggerSetting {
                    level: LevelFilter::Info,
                    last_modified: None,
                },
            );
            for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.split_once('=') {
                    Some((target, level)) => {
                        if let Some(level) = parse_level(level) {
                            levels.insert(
                                target.trim().to_string(),
                                LoggerSetting {
                                    level,
                                    last_modified: None,
                                },
                            );
                        }
                    }
                    None => {
                        if let Some(level) = parse_level(part) {
                            levels.insert(
                                ROOT.to_string(),
                                LoggerSetting {
                                    level,
                                    last_modified: None,
                                },
                            );
                        }
                    }
                }
            }
            WorkerLogger {
                levels: RwLock::new(levels),
            }
        });
        if log::set_logger(logger).is_ok() {
            log::set_max_level(logger.max_level());
        }
        logger
    }

    /// The installed logger, if any.
    pub fn get() -> Option<&'static WorkerLogger> {
        LOGGER.get()
    }

    fn max_level(&self) -> LevelFilter {
        let levels = self.levels.read().unwrap_or_else(|e| e.into_inner());
        levels
            .values()
            .map(|s| s.level)
            .max()
            .unwrap_or(LevelFilter::Info)
    }

    fn level_for(&self, target: &str) -> LevelFilter {
        let levels = self.levels.read().unwrap_or_else(|e| e.into_inner());
        let mut best: Option<(&str, LevelFilter)> = None;
        for (name, setting) in levels.iter() {
            if name == ROOT {
                continue;
            }
            let matches = target == name
                || target
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with("::") || rest.starts_with('.'));
            if matches && best.is_none_or(|(b, _)| name.len() > b.len()) {
                best = Some((name, setting.level));
            }
        }
        best.map(|(_, l)| l)
            .or_else(|| levels.get(ROOT).map(|s| s.level))
            .unwrap_or(LevelFilter::Info)
    }

    /// Every configured logger and its level.
    pub fn loggers(&self) -> BTreeMap<String, LoggerSetting> {
        self.levels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The effective level of a logger name (its own, or the closest configured parent's).
    pub fn effective(&self, name: &str) -> LoggerSetting {
        let levels = self.levels.read().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = levels.get(name) {
            return s.clone();
        }
        drop(levels);
        LoggerSetting {
            level: self.level_for(name),
            last_modified: None,
        }
    }

    /// Sets a logger's level; returns the names whose effective level it changed (itself and the
    /// configured loggers below it, which Kafka resets along with their parent).
    pub fn set_level(&self, name: &str, level: LevelFilter) -> Vec<String> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut levels = self.levels.write().unwrap_or_else(|e| e.into_inner());
        let children: Vec<String> = levels
            .keys()
            .filter(|k| {
                name == ROOT
                    || k.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with("::") || rest.starts_with('.'))
            })
            .filter(|k| k.as_str() != name)
            .cloned()
            .collect();
        let mut changed = vec![name.to_string()];
        for child in children {
            levels.insert(
                child.clone(),
                LoggerSetting {
                    level,
                    last_modified: Some(now),
                },
            );
            changed.push(child);
        }
        levels.insert(
            name.to_string(),
            LoggerSetting {
                level,
                last_modified: Some(now),
            },
        );
        let max = levels
            .values()
            .map(|s| s.level)
            .max()
            .unwrap_or(LevelFilter::Info);
        drop(levels);
        log::set_max_level(max);
        changed.sort();
        changed
    }
}

impl Log for WorkerLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level_for(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S,%3f");
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        // One write per line so lines from task threads never interleave.
        let line = format!("[{now}] {level} {} ({})\n", record.args(), record.target());
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logger(spec: &[(&str, LevelFilter)]) -> WorkerLogger {
        WorkerLogger {
            levels: RwLock::new(
                spec.iter()
                    .map(|(k, l)| {
                        (
                            k.to_string(),
                            LoggerSetting {
                                level: *l,
                                last_modified: None,
                            },
                        )
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn longest_prefix_wins_then_root() {
        let l = logger(&[
            (ROOT, LevelFilter::Info),
            ("kconnect", LevelFilter::Warn),
            ("kconnect::worker", LevelFilter::Trace),
        ]);
        assert_eq!(l.level_for("kconnect::worker::source"), LevelFilter::Trace);
        assert_eq!(l.level_for("kconnect::rest"), LevelFilter::Warn);
        assert_eq!(l.level_for("kconnectx"), LevelFilter::Info);
        assert_eq!(l.level_for("rdkafka"), LevelFilter::Info);
    }

    #[test]
    fn setting_a_parent_resets_its_children() {
        let l = logger(&[(ROOT, LevelFilter::Info), ("a::b", LevelFilter::Trace)]);
        let changed = l.set_level("a", LevelFilter::Error);
        assert_eq!(changed, vec!["a".to_string(), "a::b".to_string()]);
        assert_eq!(l.level_for("a::b::c"), LevelFilter::Error);
        assert!(l.loggers()["a"].last_modified.is_some());
        assert_eq!(parse_level("warn"), Some(LevelFilter::Warn));
        assert_eq!(parse_level("loud"), None);
    }
}
