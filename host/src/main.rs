//! The `kconnect` command: a thin CLI over the `kconnect` library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use kconnect::distributed::Distributed;
use kconnect::logging::WorkerLogger;
use kconnect::standalone::Standalone;
use kconnect_loader::PluginRegistry;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kconnect",
    version,
    about = "A Kafka Connect worker with native plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a standalone worker: offsets in a file, connectors from files and REST.
    Standalone {
        /// The worker's .properties (or .json/.toml) file.
        worker_config: PathBuf,
        /// Connector configs (.properties, .json or .toml), started at once.
        connector_configs: Vec<PathBuf>,
    },
    /// Runs a distributed worker (configs, offsets and status in Kafka topics).
    Distributed {
        /// The worker's .properties file.
        worker_config: PathBuf,
    },
    /// Lists the plugin classes found in plugin.path folders and the files rejected.
    Plugins {
        /// Comma-separated folders, as `plugin.path`.
        #[arg(long = "plugin-path", value_delimiter = ',', required = true)]
        plugin_path: Vec<PathBuf>,
        /// Prints JSON for machines.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    WorkerLogger::install(&std::env::var("KCONNECT_LOG").unwrap_or_else(|_| "info".to_string()));
    let result = match cli.command {
        Command::Standalone {
            worker_config,
            connector_configs,
        } => run_worker(async {
            Standalone::start(worker_config, connector_configs)
                .await
                .map(Running::Standalone)
        }),
        Command::Distributed { worker_config } => run_worker(async {
            Distributed::start(worker_config)
                .await
                .map(Running::Distributed)
        }),
        Command::Plugins { plugin_path, json } => list_plugins(&plugin_path, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e:#}");
            eprintln!("kconnect: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// A started worker of either mode.
enum Running {
    Standalone(Standalone),
    Distributed(Distributed),
}

impl Running {
    fn rest(&self) -> &kconnect_rest::RestServer {
        match self {
            Running::Standalone(w) => &w.rest,
            Running::Distributed(w) => &w.rest,
        }
    }

    async fn stop(self) {
        match self {
            Running::Standalone(w) => w.stop().await,
            Running::Distributed(w) => w.stop().await,
        }
    }
}

/// Starts a worker, serves until SIGTERM/SIGINT, then stops it gracefully (a second signal exits
/// at once).
fn run_worker(
    start: impl std::future::Future<Output = Result<Running, kconnect::error::WorkerError>>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("kconnect")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let worker = start.await.map_err(|e| anyhow::anyhow!("{e}"))?;
        notify_systemd_ready(worker.rest());
        wait_for_signal().await;
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        log::info!(
            "stopping: finishing tasks and flushing offsets (a second signal exits at once)"
        );
        tokio::spawn(async {
            wait_for_signal().await;
            log::warn!("second signal: exiting now");
            std::process::exit(130);
        });
        worker.stop().await;
        log::info!("kconnect stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    // Abandoned plugin threads must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(())
}

/// Tells systemd (`Type=notify`) the worker is ready — the REST listener is up and plugins and
/// connectors are loaded — and, under `WatchdogSec`, keeps pinging it from the async runtime, so a
/// stuck runtime gets the service restarted. Without `NOTIFY_SOCKET` this does nothing.
fn notify_systemd_ready(rest: &kconnect_rest::RestServer) {
    let status = format!("REST API on {:?}", rest.local_addrs());
    if let Err(e) = sd_notify::notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&status),
    ]) {
        log::warn!("cannot notify systemd: {e}");
    }
    if let Some(interval) = sd_notify::watchdog_enabled() {
        log::info!("systemd watchdog every {interval:?}");
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval / 2);
            loop {
                tick.tick().await;
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        });
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn list_plugins(dirs: &[PathBuf], json: bool) -> anyhow::Result<()> {
    let registry = PluginRegistry::scan(dirs);
    if json {
        let classes: Vec<serde_json::Value> = registry
            .classes()
            .iter()
            .map(|c| {
                serde_json::json!({
                    "class": c.class, "type": c.kind.name(), "version": c.version,
                    "aliases": c.aliases, "file": c.file,
                })
            })
            .collect();
        let failures: Vec<serde_json::Value> = registry
            .failures()
            .iter()
            .map(|f| serde_json::json!({"file": f.path, "reason": f.reason}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"classes": classes, "rejected": failures})
            )?
        );
        return Ok(());
    }
    println!(
        "{:<60} {:<15} {:<10} {:<40} FILE",
        "CLASS", "TYPE", "VERSION", "ALIASES"
    );
    for c in registry.classes() {
        println!(
            "{:<60} {:<15} {:<10} {:<40} {}",
            c.class,
            c.kind.name(),
            c.version,
            c.aliases.join(","),
            c.file.display()
        );
    }
    if !registry.failures().is_empty() {
        println!("\nREJECTED");
        for f in registry.failures() {
            println!("{}: {}", f.path.display(), f.reason);
        }
    }
    Ok(())
}
