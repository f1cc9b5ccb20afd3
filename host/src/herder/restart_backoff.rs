//! Automatic restarts of FAILED tasks (`errors.task.restart.enable`, beyond Kafka), one rule for
//! both herders: the n-th restart in a row waits 1 s, 2 s, 4 s… capped by
//! `errors.task.restart.backoff.max.ms`, counted from when the failure was first seen.
//!
//! Invariant: the count only grows while the task keeps failing. A task seen running for
//! [`RECOVERED_AFTER`] since its last restart has recovered, and its next failure starts again
//! at 1 s; a task that fails again sooner keeps backing off, so a task that dies right after
//! each start cannot restart in a tight loop.

use std::time::{Duration, Instant};

/// How long a restarted task must run without failing to count as recovered.
pub const RECOVERED_AFTER: Duration = Duration::from_secs(60);
/// The first wait.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// One task's automatic restarts.
#[derive(Debug, Default, Clone)]
pub struct RestartBackoff {
    /// Restarts in a row so far (reset on recovery).
    attempts: u32,
    /// When the current failure's restart is due (set when the failure is first seen).
    due: Option<Instant>,
    /// When the last restart happened.
    restarted_at: Option<Instant>,
}

impl RestartBackoff {
    /// The task was seen FAILED at `now`: whether to restart it now. On `true` the caller
    /// restarts it, and the next failure waits twice as long.
    pub fn failed(&mut self, now: Instant, max_backoff: Duration) -> bool {
        let wait = FIRST_BACKOFF
            .saturating_mul(1u32 << self.attempts.min(20))
            .min(max_backoff);
        let due = *self.due.get_or_insert(now + wait);
        if now < due {
            return false;
        }
        self.attempts += 1;
        self.due = None;
        self.restarted_at = Some(now);
        true
    }

    /// The task was seen not FAILED at `now`: after [`RECOVERED_AFTER`] since the last restart,
    /// the count starts over.
    pub fn running(&mut self, now: Instant) {
        self.due = None;
        if self
            .restarted_at
            .is_some_and(|at| now.saturating_duration_since(at) >= RECOVERED_AFTER)
        {
            *self = RestartBackoff::default();
        }
    }

    /// Restarts in a row so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(60);

    /// Fails the task at `t` (seconds after `start`) and says whether it restarted.
    fn fail(backoff: &mut RestartBackoff, start: Instant, t: f64) -> bool {
        backoff.failed(start + Duration::from_secs_f64(t), MAX)
    }

    #[test]
    fn waits_double_while_the_task_keeps_failing() {
        let start = Instant::now();
        let mut b = RestartBackoff::default();
        assert!(!fail(&mut b, start, 0.0), "the first failure waits 1 s");
        assert!(fail(&mut b, start, 1.0));
        // Fails again at once after the restart: now 2 s.
        b.running(start + Duration::from_secs_f64(1.5));
        assert!(!fail(&mut b, start, 2.0));
        assert!(!fail(&mut b, start, 3.9));
        assert!(fail(&mut b, start, 4.0));
        assert!(!fail(&mut b, start, 5.0));
        assert!(fail(&mut b, start, 9.0), "then 4 s");
        assert_eq!(b.attempts(), 3);
    }

    #[test]
    fn is_capped_by_the_maximum() {
        let start = Instant::now();
        let mut b = RestartBackoff::default();
        let max = Duration::from_secs(5);
        let mut t = start;
        for _ in 0..10 {
            while !b.failed(t, max) {
                t += Duration::from_millis(100);
            }
        }
        let since = t;
        assert!(!b.failed(since, max));
        assert!(!b.failed(since + Duration::from_millis(4900), max));
        assert!(
            b.failed(since + Duration::from_secs(5), max),
            "never more than 5 s"
        );
    }

    #[test]
    fn starts_over_once_the_task_ran_for_a_minute() {
        let start = Instant::now();
        let mut b = RestartBackoff::default();
        for t in [0.0, 1.0, 1.0, 3.0, 3.0, 7.0] {
            fail(&mut b, start, t);
        }
        assert_eq!(b.attempts(), 3, "1 s, 2 s, 4 s");
        // Runs 59 s: not yet recovered, the next failure waits 8 s.
        b.running(start + Duration::from_secs(66));
        assert_eq!(b.attempts(), 3);
        // Runs a full minute: recovered.
        b.running(start + Duration::from_secs(67));
        assert_eq!(b.attempts(), 0);
        assert!(!fail(&mut b, start, 100.0));
        assert!(fail(&mut b, start, 101.0), "back to 1 s");
    }
}
