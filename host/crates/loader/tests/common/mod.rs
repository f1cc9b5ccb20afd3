//! Shared by the loader's integration tests: real plugin libraries built by cargo, and a logger
//! that keeps what it is given.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The shared libraries the tests load.
pub struct BuiltPlugins {
    pub testing: PathBuf,
    pub old_abi: PathBuf,
    pub file: PathBuf,
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Where cargo puts artifacts: `CARGO_TARGET_DIR` when set (relative to the workspace, as cargo
/// takes it when run there), else the workspace's `target`.
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn library_file(profile_dir: &Path, crate_name: &str) -> PathBuf {
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        crate_name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    profile_dir.join(file)
}

/// Builds the plugin crates once per test binary (debug profile) and returns their libraries.
pub fn built_plugins() -> &'static BuiltPlugins {
    static BUILT: OnceLock<BuiltPlugins> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let crates = [
            "kconnect-testing-plugin",
            "kconnect-testing-old-abi-plugin",
            "kconnect-file-plugin",
        ];
        let mut command = Command::new(cargo);
        command.current_dir(workspace_root()).arg("build");
        for name in crates {
            command.args(["-p", name]);
        }
        let output = command
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "building the plugin libraries failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let debug = target_dir().join("debug");
        let built = BuiltPlugins {
            testing: library_file(&debug, crates[0]),
            old_abi: library_file(&debug, crates[1]),
            file: library_file(&debug, crates[2]),
        };
        for library in [&built.testing, &built.old_abi, &built.file] {
            assert!(library.is_file(), "{} was not built", library.display());
        }
        built
    })
}

/// One log record as the worker's logger saw it.
#[derive(Clone, Debug)]
pub struct Captured {
    pub level: log::Level,
    pub target: String,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// Keeps every record up to `Debug` (`Trace` is refused, so tests can check that a plugin asks
/// before formatting).
pub struct CapturingLogger {
    records: Mutex<Vec<Captured>>,
}

impl log::Log for CapturingLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Debug
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let captured = Captured {
            level: record.level(),
            target: record.target().to_string(),
            message: record.args().to_string(),
            file: record.file().map(str::to_string),
            line: record.line(),
        };
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(captured);
    }

    fn flush(&self) {}
}

impl CapturingLogger {
    /// The records that satisfy `keep`, in arrival order.
    pub fn records(&self, keep: impl Fn(&Captured) -> bool) -> Vec<Captured> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }
}

/// Installs the capturing logger as this process's logger (once) and returns it.
pub fn capture_logs() -> &'static CapturingLogger {
    static LOGGER: OnceLock<&'static CapturingLogger> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let logger: &'static CapturingLogger = Box::leak(Box::new(CapturingLogger {
            records: Mutex::new(Vec::new()),
        }));
        log::set_logger(logger).expect("no other logger is installed in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
        logger
    })
}
