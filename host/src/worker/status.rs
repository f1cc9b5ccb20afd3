//! Connector and task states as Kafka Connect reports them, shared between a task's thread and
//! the REST handlers. A task thread is the only writer of its own state while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Stopped => "STOPPED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub state: State,
    /// Set when FAILED: the error and its trace.
    pub trace: Option<String>,
    /// A problem the task is riding out without failing (broker unreachable, offsets not
    /// writable), shown in the status trace while it lasts.
    pub warning: Option<String>,
}

/// A state shared between its owner thread and readers.
#[derive(Clone, Debug)]
pub struct StatusCell(Arc<Mutex<Status>>);

impl StatusCell {
    pub fn new(state: State) -> StatusCell {
        StatusCell(Arc::new(Mutex::new(Status {
            state,
            trace: None,
            warning: None,
        })))
    }

    pub fn get(&self) -> Status {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, state: State) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.state = state;
        s.trace = None;
    }

    /// Sets or clears the current warning; logs when it appears or goes.
    pub fn warn(&self, warning: Option<String>) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.warning == warning {
            return;
        }
        match (&s.warning, &warning) {
            (_, Some(w)) => log::warn!("{w}"),
            (Some(old), None) => log::info!("resolved: {old}"),
            (None, None) => {}
        }
        s.warning = warning;
    }

    pub fn fail(&self, trace: String) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.state = State::Failed;
        s.trace = Some(trace);
    }
}

/// Flags a task's thread checks between batches.
#[derive(Debug, Default)]
pub struct TaskControl {
    stop: AtomicBool,
    paused: AtomicBool,
}

impl TaskControl {
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }
}

/// The text shown as `trace` for a plugin error: its message, then its trace if any.
pub fn error_trace(error: &kconnect_plugin_api::ConnectError) -> String {
    if error.trace.is_empty() {
        error.message.to_string()
    } else {
        format!("{}\n{}", error.message, error.trace)
    }
}
