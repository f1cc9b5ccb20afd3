//! Faults with counts (issue #9): the worker killed with SIGKILL mid-stream and restarted, three
//! times; every source line must reach the sink, duplicates counted and bounded.
//! Run with `--nocapture` to see the counts.

use kconnect_tests::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LINES: usize = 6000;
const PER_TICK: usize = 100;
const TICK: Duration = Duration::from_millis(100);

fn connectors(dir: &Path, topic: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let source = write_file(
        dir,
        "source.properties",
        &format!(
            "name=src\nconnector.class=FileStreamSource\nfile={}\ntopic={topic}\n",
            dir.join("in.txt").display()
        ),
    );
    let sink = write_file(
        dir,
        "sink.properties",
        &format!(
            "name=snk\nconnector.class=FileStreamSink\nfile={}\ntopics={topic}\n",
            dir.join("out.txt").display()
        ),
    );
    (source, sink)
}

/// Appends LINES lines, PER_TICK every TICK, on its own thread.
fn writer(input: std::path::PathBuf, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for chunk in 0..LINES / PER_TICK {
            let lines: Vec<String> = (chunk * PER_TICK..(chunk + 1) * PER_TICK)
                .map(|i| format!("line {i:05}"))
                .collect();
            append_lines(&input, &lines);
            std::thread::sleep(TICK);
        }
        done.store(true, Ordering::Release);
    })
}

#[test]
fn three_kill_9s_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), &broker.bootstrap(), rest_port, "");
    let (source, sink) = connectors(dir.path(), "kill9");
    let output = dir.path().join("out.txt");
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let feeder = writer(dir.path().join("in.txt"), done.clone());

    for kill in 1..=3 {
        let mut worker =
            Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
        worker.wait_ready();
        std::thread::sleep(Duration::from_millis(1500));
        let before = read_lines(&output).len();
        worker.signal(libc::SIGKILL);
        worker.wait(Duration::from_secs(10));
        eprintln!(
            "kill -9 #{kill} at {:?}: {before} lines in the sink",
            started.elapsed()
        );
    }
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    feeder.join().unwrap();
    assert!(done.load(Ordering::Acquire));
    let expected: Vec<String> = (0..LINES).map(|i| format!("line {i:05}")).collect();
    let wanted: HashSet<&String> = expected.iter().collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got: HashSet<String> = read_lines(&output).into_iter().collect();
        if wanted.iter().all(|l| got.contains(*l)) {
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "{} of {LINES} lines in the sink after 120 s; worker log:\n{}",
                got.len(),
                worker.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let recovered = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let got = read_lines(&output);
    let unique: HashSet<&String> = got.iter().collect();
    let duplicates = got.len() - unique.len();
    assert!(
        got.iter().all(|l| wanted.contains(l)),
        "nothing but source lines"
    );
    // First occurrences keep the source order.
    let mut seen = HashSet::new();
    let firsts: Vec<&String> = got.iter().filter(|l| seen.insert(*l)).collect();
    assert_eq!(firsts, expected.iter().collect::<Vec<_>>(), "in order");
    // A kill loses at most what was not yet committed: about one offset flush interval (1 s)
    // of flow, plus the second the restart takes, on each side (source and sink).
    let rate = PER_TICK as f64 / TICK.as_secs_f64();
    let bound = (3.0 * 2.0 * 2.0 * rate) as usize;
    eprintln!(
        "kill -9 x3: sent {LINES}, received {} ({} unique), duplicates {duplicates} (bound {bound}), all in after {recovered:?}",
        got.len(),
        unique.len()
    );
    assert!(
        duplicates <= bound,
        "{duplicates} duplicates exceed {bound}"
    );
}

fn task_trace(worker: &Worker, connector: &str) -> String {
    ureq::get(&worker.url(&format!("/connectors/{connector}/status")))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
        .and_then(|v| v["tasks"][0]["trace"].as_str().map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn a_broker_down_for_30_seconds_is_ridden_out_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start();
    let rest_port = free_port();
    // Producer idempotence stays on (librdkafka's default for kconnect): the broker keeps its log
    // folder across the restart, and with it the producer ids, as a real broker does.
    let worker_config = worker_properties(dir.path(), &broker.bootstrap(), rest_port, "");
    let (source, sink) = connectors(dir.path(), "outage");
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    let before: Vec<String> = (0..100).map(|i| format!("before {i}")).collect();
    append_lines(&input, &before);
    wait_until(Duration::from_secs(60), "the first lines", || {
        read_lines(&output).len() >= 100
    });

    let outage = Duration::from_secs(30);
    broker.stop();
    let down_at = Instant::now();
    let during: Vec<String> = (0..100).map(|i| format!("during {i}")).collect();
    append_lines(&input, &during);
    // The outage shows in the status while it lasts; the tasks stay RUNNING.
    wait_until(
        Duration::from_secs(25),
        "the outage in the source status",
        || task_trace(&worker, "src").contains("unreachable"),
    );
    eprintln!(
        "outage visible in status after {:?}: {}",
        down_at.elapsed(),
        task_trace(&worker, "src")
    );
    std::thread::sleep(outage.saturating_sub(down_at.elapsed()));

    broker.restart();
    let up_at = Instant::now();
    let after: Vec<String> = (0..100).map(|i| format!("after {i}")).collect();
    append_lines(&input, &after);
    let all: HashSet<String> = before
        .iter()
        .chain(&during)
        .chain(&after)
        .cloned()
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got: HashSet<String> = read_lines(&output).into_iter().collect();
        if all.iter().all(|l| got.contains(l)) {
            break;
        }
        if Instant::now() > deadline {
            let missing = all.iter().filter(|l| !got.contains(*l)).count();
            panic!(
                "{missing} lines missing 120 s after the broker came back; log:\n{}",
                worker.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let got = read_lines(&output);
    let unique: HashSet<&String> = got.iter().collect();
    eprintln!(
        "broker outage {outage:?}: sent {}, received {} ({} unique, {} duplicates), recovered {:?} after the broker came back",
        all.len(),
        got.len(),
        unique.len(),
        got.len() - unique.len(),
        up_at.elapsed()
    );
    assert!(
        !task_trace(&worker, "src").contains("unreachable"),
        "the warning clears"
    );
    assert!(worker.try_exit().is_none(), "no restart was needed");
}

#[test]
fn unwritable_offsets_show_in_status_and_are_flushed_once_writable_again() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let (source, sink) = connectors(dir.path(), "offsets-unwritable");
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let offsets = dir.path().join("connect.offsets");
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    append_lines(&input, &["one".to_string()]);
    wait_until(Duration::from_secs(30), "the first offsets", || {
        std::fs::read(&offsets)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .is_ok_and(|o| o.contains("\"position\":4"))
    });

    // Running as root, permissions do not stop writes: a folder where the store writes its
    // temporary file does (the store writes to `<file>.tmp`, then renames).
    let blocker = dir.path().join("connect.offsets.tmp");
    std::fs::create_dir(&blocker).unwrap();
    append_lines(&input, &["two".to_string()]);
    wait_until(Duration::from_secs(30), "the line in the sink", || {
        read_lines(&output).len() == 2
    });
    wait_until(Duration::from_secs(30), "the problem in the status", || {
        task_trace(&worker, "src").contains("offsets cannot be stored")
    });
    assert!(
        worker.logs().contains("source offsets cannot be stored"),
        "and in the log"
    );
    let stored = std::fs::read(&offsets)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap();
    assert!(
        stored.contains("\"position\":4"),
        "the old file is intact: {stored}"
    );
    assert!(worker.try_exit().is_none(), "the worker keeps running");

    std::fs::remove_dir(&blocker).unwrap();
    wait_until(
        Duration::from_secs(30),
        "the offsets flushed once writable",
        || {
            std::fs::read(&offsets)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .is_ok_and(|o| o.contains("\"position\":8"))
        },
    );
    wait_until(Duration::from_secs(10), "the warning to clear", || {
        !task_trace(&worker, "src").contains("offsets cannot be stored")
    });
}
