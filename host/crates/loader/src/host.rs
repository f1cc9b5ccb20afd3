//! The services the worker offers every plugin: logging into the worker's `log` logger.
//!
//! Invariants:
//! - One [`HostServicesRef`] exists per process, created on first use and never freed.
//! - The entry points never unwind into the plugin: a panicking host logger is swallowed.
//! - A plugin linked into the worker itself (see
//!   [`PluginRegistry::add_native`](crate::PluginRegistry::add_native)) shares the worker's `log`
//!   crate; if it installed its forwarding logger as the process logger, forwarding would call
//!   itself. A per-thread guard drops such re-entrant records instead of recursing.

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::RStr;
use kconnect_plugin_api::ffi::{HostServices, HostServicesRef};
use kconnect_plugin_api::logging::LogRecord;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

thread_local! {
    static FORWARDING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` unless this thread is already forwarding a plugin log call.
fn once_per_thread<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    if FORWARDING.with(|busy| busy.replace(true)) {
        return fallback;
    }
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback);
    FORWARDING.with(|busy| busy.set(false));
    result
}

fn level_from_abi(level: u8) -> Option<log::Level> {
    match level {
        1 => Some(log::Level::Error),
        2 => Some(log::Level::Warn),
        3 => Some(log::Level::Info),
        4 => Some(log::Level::Debug),
        5 => Some(log::Level::Trace),
        _ => None,
    }
}

extern "C" fn log_enabled(level: u8, target: RStr<'_>) -> bool {
    let Some(level) = level_from_abi(level) else {
        return false;
    };
    if level > log::max_level() {
        return false;
    }
    once_per_thread(false, || {
        log::logger().enabled(
            &log::Metadata::builder()
                .level(level)
                .target(target.as_str())
                .build(),
        )
    })
}

extern "C" fn log_record(record: &LogRecord<'_>) {
    let Some(level) = level_from_abi(record.level) else {
        return;
    };
    if level > log::max_level() {
        return;
    }
    once_per_thread((), || {
        let file = record.file.as_str();
        log::logger().log(
            &log::Record::builder()
                .level(level)
                .target(record.target.as_str())
                .args(format_args!("{}", record.message.as_str()))
                .file(Some(file).filter(|f| !f.is_empty()))
                .line(Some(record.line).filter(|line| *line > 0))
                .build(),
        )
    })
}

/// The worker's services, created once.
pub fn host_services() -> HostServicesRef {
    static SERVICES: OnceLock<HostServicesRef> = OnceLock::new();
    *SERVICES.get_or_init(|| {
        HostServices {
            log_enabled,
            log: log_record,
        }
        .leak_into_prefix()
    })
}
