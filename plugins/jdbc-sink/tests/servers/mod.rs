//! PostgreSQL and MariaDB servers for tests, from the distribution's packages (Debian:
//! `postgresql`, `mariadb-server`): each in its own temporary folder, on a free loopback port,
//! killed and removed on drop. Tables are read back with the packages' command-line clients,
//! so the tests need no database driver of their own.
//!
//! Also included by `tests/tests/jdbc_sink.rs` (through `#[path]`).

#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what} not ready after {timeout:?}");
}

fn run(command: &mut Command) -> String {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// uid and gid of a system user, from /etc/passwd.
fn user_ids(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&name))
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))?
    })
}

fn is_root() -> bool {
    user_ids("root").is_some()
        && std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false)
}

/// Installs a Debian package when `present` says it is missing (CI starts on a fresh machine);
/// one test at a time, so parallel tests do not race on dpkg's lock.
fn ensure_package(package: &str, present: impl Fn() -> bool) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if present() {
        return;
    }
    let sudo = !is_root();
    let apt = |args: &[&str]| {
        let mut command = if sudo {
            let mut c = Command::new("sudo");
            c.arg("-n").arg("apt-get");
            c
        } else {
            Command::new("apt-get")
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command);
    };
    apt(&["update", "-q"]);
    apt(&["install", "-y", "-q", "--no-install-recommends", package]);
    assert!(
        present(),
        "{package} installed but its programs are not found"
    );
}

fn has_postgres() -> bool {
    std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.path().join("bin/initdb").exists())
        })
        .unwrap_or(false)
}

fn has_mariadb() -> bool {
    [
        "/usr/sbin/mariadbd",
        "/usr/bin/mariadb-install-db",
        "/usr/bin/mariadb",
    ]
    .iter()
    .all(|p| std::path::Path::new(p).exists())
}

fn postgres_bin() -> PathBuf {
    ensure_package("postgresql", has_postgres);
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (apt-get install postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// A PostgreSQL server with a database `sink` (trust authentication, user `postgres`).
pub struct Postgres {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        // initdb and postgres refuse to run as root: run them as the package's user.
        let ids = if is_root() {
            user_ids("postgres")
        } else {
            None
        };
        if let Some((uid, gid)) = ids {
            chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let as_owner = |c: &mut Command| {
            if let Some((uid, gid)) = ids {
                c.uid(uid).gid(gid);
            }
        };
        let mut initdb = Command::new(postgres_bin().join("initdb"));
        initdb.args(["-D"]).arg(dir.path().join("data")).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        as_owner(&mut initdb);
        run(&mut initdb);
        let mut server = Postgres {
            dir,
            port: free_port(),
            child: None,
        };
        server.launch();
        run(server
            .psql_command("postgres")
            .args(["-c", "CREATE DATABASE sink"]));
        server
    }

    fn launch(&mut self) {
        let ids = if is_root() {
            user_ids("postgres")
        } else {
            None
        };
        let mut command = Command::new(postgres_bin().join("postgres"));
        command
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args([
                "-p",
                &self.port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=50",
            ])
            .arg("-k")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("postgres.log")).unwrap());
        if let Some((uid, gid)) = ids {
            command.uid(uid).gid(gid);
        }
        self.child = Some(command.spawn().expect("postgres starts"));
        let port = self.port;
        wait_for("PostgreSQL", Duration::from_secs(60), || {
            Command::new(postgres_bin().join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    fn psql_command(&self, database: &str) -> Command {
        let mut c = Command::new(postgres_bin().join("psql"));
        c.args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-F",
            "|",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-p",
            &self.port.to_string(),
            "-d",
            database,
        ]);
        c
    }

    pub fn url(&self) -> String {
        format!("jdbc:postgresql://127.0.0.1:{}/sink", self.port)
    }

    /// Rows of a query, columns joined by `|`.
    pub fn query(&self, sql: &str) -> Vec<String> {
        run(self.psql_command("sink").args(["-c", sql]))
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and data.
    pub fn crash_and_restart(&mut self) {
        self.kill();
        self.launch();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A MariaDB server with a database `sink` and a user `sink`/`sinkpw` allowed from 127.0.0.1.
pub struct MariaDb {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl MariaDb {
    pub fn start() -> MariaDb {
        ensure_package("mariadb-server", has_mariadb);
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        run(Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
                "--user=root",
            ])
            .arg(format!("--datadir={}", data.display())));
        let mut server = MariaDb {
            dir,
            port: free_port(),
            child: None,
        };
        server.launch();
        run(server.client("").args([
            "-e",
            "CREATE DATABASE IF NOT EXISTS sink; CREATE USER IF NOT EXISTS 'sink'@'127.0.0.1' IDENTIFIED BY 'sinkpw'; GRANT ALL ON sink.* TO 'sink'@'127.0.0.1';",
        ]));
        server
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("mariadb.sock")
    }

    fn launch(&mut self) {
        let data = self.dir.path().join("data");
        let mut command = Command::new("mariadbd");
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--port={}", self.port))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("mariadb.pid").display()
            ))
            .args([
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=2",
                "--skip-name-resolve",
            ])
            .arg(format!(
                "--log-error={}",
                self.dir.path().join("mariadb.log").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(command.spawn().expect("mariadbd starts"));
        let socket = self.socket();
        wait_for("MariaDB", Duration::from_secs(60), || {
            Command::new("mariadb-admin")
                .arg(format!("--socket={}", socket.display()))
                .args(["-uroot", "ping"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    fn client(&self, database: &str) -> Command {
        let mut c = Command::new("mariadb");
        c.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket().display()))
            .args(["-uroot", "-N", "-B"]);
        if !database.is_empty() {
            c.arg(database);
        }
        c
    }

    pub fn url(&self) -> String {
        format!("jdbc:mariadb://127.0.0.1:{}/sink", self.port)
    }

    /// Rows of a query, columns joined by `|` (NULL as `NULL`).
    pub fn query(&self, sql: &str) -> Vec<String> {
        run(self.client("sink").args(["-e", sql]))
            .lines()
            .map(|l| l.replace('\t', "|"))
            .collect()
    }

    pub fn crash_and_restart(&mut self) {
        self.kill();
        self.launch();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mariadb.log")).unwrap_or_default()
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.kill();
    }
}
