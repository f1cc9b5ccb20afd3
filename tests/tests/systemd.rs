//! The systemd unit as shipped: its ExecStart line run as systemd would run it, with the notify
//! protocol checked through a NOTIFY_SOCKET this test listens on (systemd itself is not needed).

use kconnect_tests::*;
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

fn unit(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join("config").join(name)).unwrap()
}

fn exec_start(unit: &str) -> Vec<String> {
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    line.split_whitespace().map(str::to_string).collect()
}

fn receive(socket: &UnixDatagram, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        if let Ok(n) = socket.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
    }
    messages
}

#[test]
fn the_units_exec_start_speaks_the_notify_protocol_and_stops_on_sigterm() {
    let unit = unit("kconnect.service");
    for needed in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ReadWritePaths=",
    ] {
        assert!(unit.contains(needed), "the unit sets {needed}");
    }
    let args = exec_start(&unit);
    assert_eq!(args[0], "/usr/local/bin/kconnect");
    assert_eq!(args[1], "standalone");

    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let log = std::fs::File::create(dir.path().join("worker.log")).unwrap();
    // The unit's command line, with the installed paths swapped for this build's.
    let mut child = Command::new(&build().kconnect)
        .arg(&args[1])
        .arg(&worker_config)
        .args(&args[3..])
        .current_dir(dir.path())
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .stderr(log)
        .spawn()
        .unwrap();

    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !messages.iter().any(|m: &String| m.contains("READY=1")) {
        assert!(Instant::now() < deadline, "no READY=1 from the worker");
        messages.extend(receive(&socket, Duration::from_millis(200)));
    }
    // READY means ready: the REST listener answers at once.
    let health = ureq::get(&format!("http://127.0.0.1:{rest_port}/health"))
        .call()
        .unwrap();
    assert_eq!(health.status(), 200);
    let later = receive(&socket, Duration::from_secs(1));
    assert!(
        later.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 2,
        "watchdog pings: {later:?}"
    );

    // SAFETY: signalling the worker process this test spawned and has not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let stopping = receive(&socket, Duration::from_secs(1));
    assert!(
        stopping.iter().any(|m| m.contains("STOPPING=1")),
        "{stopping:?}"
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}

#[test]
fn systemd_analyze_verify_accepts_both_units() {
    // Not skipped when missing: a test that passes without checking anything is no test
    // (`.ci/run` installs Debian's systemd package, which has systemd-analyze).
    assert!(
        Command::new("systemd-analyze")
            .arg("--version")
            .output()
            .is_ok(),
        "systemd-analyze is not installed (apt-get install systemd)"
    );
    let dir = tempfile::tempdir().unwrap();
    let kconnect = build().kconnect.display().to_string();
    for name in ["kconnect.service", "kconnect-distributed.service"] {
        // verify checks that the binary exists: point ExecStart at this build.
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            unit(name).replace("/usr/local/bin/kconnect", &kconnect),
        )
        .unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
