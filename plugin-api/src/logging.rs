//! Plugin logging: a plugin's `log` records go to the worker's logger.
//!
//! Every cdylib carries its own copy of the `log` crate and so its own global logger. The export
//! glue installs [`ForwardingLogger`] in the plugin's copy when the worker initialises the plugin;
//! it asks the worker whether a level is enabled for a target (so runtime level changes apply to
//! plugins too) and only then formats the message and hands it over.

use crate::ffi::HostServicesRef;
use abi_stable::std_types::RStr;
use abi_stable::StableAbi;
use std::sync::OnceLock;

/// A log record as it crosses into the worker.
#[repr(C)]
#[derive(StableAbi)]
pub struct LogRecord<'a> {
    /// `log::Level` as a number: 1 = error … 5 = trace.
    pub level: u8,
    pub target: RStr<'a>,
    pub message: RStr<'a>,
    pub file: RStr<'a>,
    pub line: u32,
}

static HOST: OnceLock<HostServicesRef> = OnceLock::new();

/// Forwards the plugin's `log` records to the worker.
pub struct ForwardingLogger;

impl log::Log for ForwardingLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        match HOST.get() {
            Some(host) => (host.log_enabled())(metadata.level() as u8, metadata.target().into()),
            None => false,
        }
    }

    fn log(&self, record: &log::Record<'_>) {
        let Some(host) = HOST.get() else { return };
        let level = record.level() as u8;
        if !(host.log_enabled())(level, record.target().into()) {
            return;
        }
        let message = record.args().to_string();
        (host.log())(&LogRecord {
            level,
            target: record.target().into(),
            message: message.as_str().into(),
            file: record.file().unwrap_or("").into(),
            line: record.line().unwrap_or(0),
        });
    }

    fn flush(&self) {}
}

/// Installs the forwarding logger in this plugin. Repeated calls keep the first host.
pub(crate) fn install(host: HostServicesRef) {
    let _ = HOST.set(host);
    if log::set_logger(&ForwardingLogger).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}
