//! `DatagenTask`: generates a task's records at the configured pace.
//!
//! Invariants of a running task: `next_iteration` is the number of records the task has
//! generated over its whole life (the stored offset it resumed from plus this run's), and in
//! paced mode `next_due` is the instant the record `next_iteration` is due.

use crate::quickstart::{partition_of_task, Generator, OFFSET_ITERATION_FIELD};
use crate::{DatagenError, Pace, TaskSettings};
use kconnect_plugin_api::{
    Config, ConnectResult, SourceMap, SourceRecord, SourceTask, TaskContext,
};
use std::time::{Duration, Instant};

/// The task of [`DatagenConnector`](crate::DatagenConnector).
#[derive(Default)]
pub struct DatagenTask {
    running: Option<RunningTask>,
}

impl DatagenTask {
    /// How many records the task has generated over its life (restarts included); 0 before
    /// `start`.
    pub fn generated(&self) -> u64 {
        self.running.as_ref().map_or(0, |r| r.next_iteration)
    }
}

impl SourceTask for DatagenTask {
    fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
        self.running = Some(RunningTask::start(&config, &context)?);
        Ok(())
    }

    fn poll(&mut self, timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
        let running = self
            .running
            .as_mut()
            .ok_or(DatagenError::NotStarted("poll"))?;
        Ok(running.poll(timeout))
    }

    fn stop(&mut self) -> ConnectResult<()> {
        if let Some(running) = self.running.take() {
            log::info!(
                "datagen task {} stopped after {} records",
                running.task_id,
                running.next_iteration
            );
        }
        Ok(())
    }
}

/// When the next records are due.
enum Pacer {
    Fast,
    Paced {
        interval: Duration,
        next_due: Instant,
    },
}

impl Pacer {
    /// How many records (at most `limit`, at least 1) may go now, waiting up to `timeout` for the
    /// first; 0 when none is due within `timeout`.
    fn take(&mut self, limit: usize, timeout: Duration) -> usize {
        let Pacer::Paced { interval, next_due } = self else {
            return limit;
        };
        let now = Instant::now();
        if *next_due > now {
            let wait = *next_due - now;
            if wait > timeout {
                std::thread::sleep(timeout);
                return 0;
            }
            std::thread::sleep(wait);
        }
        let now = Instant::now().max(*next_due);
        // `interval` is never zero: a zero interval is Pace::Fast.
        let due = 1 + (now - *next_due).as_nanos() / interval.as_nanos().max(1);
        if due > limit as u128 {
            // More than a batch behind: forget the backlog rather than burst past the rate.
            *next_due = now + *interval;
            return limit;
        }
        let count = due as usize;
        let ahead =
            Duration::from_nanos(u64::try_from(interval.as_nanos() * due).unwrap_or(u64::MAX));
        *next_due = next_due.checked_add(ahead).unwrap_or(now + *interval);
        count
    }
}

struct RunningTask {
    generator: Generator,
    task_id: u32,
    next_iteration: u64,
    iterations: Option<u64>,
    batch_size: usize,
    pacer: Pacer,
    told_finished: bool,
}

impl RunningTask {
    fn start(config: &Config, context: &TaskContext) -> Result<RunningTask, DatagenError> {
        let TaskSettings {
            settings,
            task_id,
            task_count,
        } = TaskSettings::parse(config)?;
        // The connector always fixes the seed; a task started without one still works.
        let seed = settings.seed.unwrap_or_default();
        let next_iteration =
            stored_iteration(task_id, context.offset(&partition_of_task(task_id)))?;
        log::info!(
            "datagen task {task_id} starts at iteration {next_iteration}: {} records to {}",
            settings.quickstart.name(),
            settings.topic
        );
        let pacer = match settings.pace {
            Pace::Fast => Pacer::Fast,
            Pace::Every(interval) => Pacer::Paced {
                interval,
                next_due: Instant::now(),
            },
        };
        Ok(RunningTask {
            generator: Generator::new(
                settings.quickstart,
                &settings.topic,
                seed,
                task_id,
                task_count,
            ),
            task_id,
            next_iteration,
            iterations: settings.iterations,
            batch_size: settings.batch_size,
            pacer,
            told_finished: false,
        })
    }

    fn poll(&mut self, timeout: Duration) -> Vec<SourceRecord> {
        let remaining = self
            .iterations
            .map_or(u64::MAX, |total| total.saturating_sub(self.next_iteration));
        let limit = usize::try_from(remaining).map_or(self.batch_size, |r| r.min(self.batch_size));
        if limit == 0 {
            if !std::mem::replace(&mut self.told_finished, true) {
                log::info!(
                    "datagen task {} generated its {} records; it stays idle",
                    self.task_id,
                    self.next_iteration
                );
            }
            std::thread::sleep(timeout);
            return Vec::new();
        }
        let count = self.pacer.take(limit, timeout);
        let first = self.next_iteration;
        let records: Vec<SourceRecord> = (first..first + count as u64)
            .map(|iteration| self.generator.record(iteration))
            .collect();
        self.next_iteration += count as u64;
        records
    }
}

/// The iteration to resume at, from the stored offset `{"iteration": n}`.
fn stored_iteration(task: u32, stored: Option<SourceMap>) -> Result<u64, DatagenError> {
    let Some(offset) = stored else {
        return Ok(0);
    };
    offset
        .get(OFFSET_ITERATION_FIELD)
        .and_then(|value| value.as_i64())
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| DatagenError::StoredOffset {
            task,
            found: describe(&offset),
        })
}

/// `{key=value, …}`, for messages.
fn describe(map: &SourceMap) -> String {
    let entries: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", entries.join(", "))
}
