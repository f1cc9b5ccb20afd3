//! Whether a worker has finished starting: plugins loaded, connectors read (standalone: started
//! from their files; distributed: an assignment that includes this worker).
//!
//! Invariant: it only ever goes from "starting" to "started". Until then the REST layer holds
//! requests that would otherwise get answers made from half-loaded state (an unknown plugin, an
//! empty connector list), so a script that waits for `GET /` and then creates a connector never
//! gets a false 400 or 404.

use tokio::sync::watch;

pub struct Readiness {
    started: watch::Sender<bool>,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness {
            started: watch::Sender::new(false),
        }
    }
}

impl Readiness {
    /// Marks startup finished and wakes every request waiting for it.
    pub fn set_started(&self) {
        self.started.send_replace(true);
    }

    pub fn is_started(&self) -> bool {
        *self.started.borrow()
    }

    /// Completes once startup has finished (at once if it has).
    pub async fn started(&self) {
        let mut receiver = self.started.subscribe();
        // The sender lives as long as `self`, so waiting can only end by the flag turning true.
        let _ = receiver.wait_for(|started| *started).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn waiters_are_released_when_started() {
        let readiness = Arc::new(Readiness::default());
        assert!(!readiness.is_started());
        let waiter = tokio::spawn({
            let readiness = readiness.clone();
            async move { readiness.started().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiter.is_finished(),
            "nobody is released before startup ends"
        );
        readiness.set_started();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("released")
            .expect("no panic");
        assert!(readiness.is_started());
        tokio::time::timeout(Duration::from_secs(1), readiness.started())
            .await
            .expect("a late waiter passes at once");
    }
}
