//! Hot loading: a thread that rescans `plugin.path` every so often.
//!
//! Polling rather than file-system events: it sees files however they arrive (copied, renamed,
//! written slowly, on network file systems) and the readiness rule in [`crate::files`] needs
//! repeated looks anyway. A rescan of unchanged folders costs a listing and a `stat` per file.

use crate::registry::{PluginRegistry, RescanReport};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The interval the worker uses: with [`crate::files::SETTLE`], a complete file is loaded within
/// about two intervals of its last write.
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Rescans a registry's `plugin.path` on its own thread until stopped or dropped.
#[derive(Debug)]
pub struct PluginWatcher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PluginWatcher {
    /// Starts rescanning `registry` every `interval`; `on_change` is called after each rescan
    /// that loaded or refused something (to count failures, for instance).
    pub fn start(
        registry: Arc<PluginRegistry>,
        interval: Duration,
        mut on_change: impl FnMut(&RescanReport) + Send + 'static,
    ) -> std::io::Result<PluginWatcher> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("plugin-watcher".to_string())
            .spawn(move || {
                log::info!(
                    "watching plugin.path for new plugins every {} ms",
                    interval.as_millis()
                );
                loop {
                    match stopped.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        // A stop request, or the watcher is gone.
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let report = registry.rescan();
                    if !report.is_quiet() {
                        on_change(&report);
                    }
                }
            })?;
        Ok(PluginWatcher {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the thread, after the rescan it may be in.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PluginWatcher {
    fn drop(&mut self) {
        self.shut_down();
    }
}
