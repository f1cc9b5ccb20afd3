//! Measures how fast one datagen task generates records in fast mode, per shape.
//!
//! `cargo run --release -p kconnect-datagen-plugin --example throughput [seconds per shape] [batch.size]`

use kconnect_datagen_plugin::{
    DatagenConnector, Quickstart, BATCH_SIZE_CONFIG, MAX_INTERVAL_CONFIG, QUICKSTART_CONFIG,
    RANDOM_SEED_CONFIG, TOPIC_CONFIG,
};
use kconnect_plugin_api::context::DetachedContext;
use kconnect_plugin_api::testkit::config_from;
use kconnect_plugin_api::{ConnectResult, Connector, SourceTask};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() -> ConnectResult<()> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let batch_size = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "1000".to_string());
    for quickstart in Quickstart::ALL {
        let config = config_from([
            (TOPIC_CONFIG, "bench"),
            (QUICKSTART_CONFIG, quickstart.name()),
            (MAX_INTERVAL_CONFIG, "0"),
            (RANDOM_SEED_CONFIG, "1"),
            (BATCH_SIZE_CONFIG, batch_size.as_str()),
        ]);
        let mut connector = DatagenConnector::default();
        connector.start(config, DetachedContext::connector_context())?;
        let task_config = connector.task_configs(1)?.remove(0);
        let mut task = kconnect_datagen_plugin::DatagenTask::default();
        task.start(task_config, DetachedContext::task_context())?;

        let budget = Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let mut records = 0u64;
        while started.elapsed() < budget {
            // Dropping the batch is part of the cost the worker pays too.
            let batch = task.poll(Duration::from_millis(100))?;
            records += black_box(batch).len() as u64;
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "{:<10} {:>12.0} records/s ({records} records in {elapsed:.2} s)",
            quickstart.name(),
            records as f64 / elapsed
        );
        task.stop()?;
        connector.stop()?;
    }
    Ok(())
}
