//! A throw-away PostgreSQL server for tests: Debian's binaries (`/usr/lib/postgresql/<ver>/bin`,
//! from the `postgresql` package), `initdb` in a temp dir, `wal_level=logical`, a free loopback
//! port, SCRAM-SHA-256 passwords on TCP. Stopped (immediate mode) and removed on drop.
//!
//! Also included by `tests/tests/postgres_cdc.rs` (`#[path]`), so it depends on `std` only.
//! Initdb refuses to run as root: as root the server runs as the `postgres` user the package
//! creates.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SUPERUSER: &str = "postgres";
pub const PASSWORD: &str = "kconnect-secret";

pub struct Postgres {
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    run_as: Option<String>,
}

/// The newest installed PostgreSQL's bin directory.
pub fn postgres_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): apt-get install -y postgresql",
                root.display()
            )
        })
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("no PostgreSQL server under /usr/lib/postgresql: apt-get install -y postgresql")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn check(what: &str, output: Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl Postgres {
    /// Initializes and starts a server with database `db`.
    pub fn start(db: &str) -> Postgres {
        let bin = postgres_bin();
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let base = std::env::temp_dir().join(format!(
            "kconnect-pg-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let run_as = is_root().then(|| SUPERUSER.to_string());
        if let Some(user) = &run_as {
            check(
                "chown",
                Command::new("chown")
                    .args([user, base.to_str().unwrap()])
                    .output()
                    .unwrap(),
            );
        }
        let pg = Postgres {
            dir: base,
            port: free_port(),
            bin,
            run_as,
        };
        std::fs::write(pg.dir.join("pwfile"), PASSWORD).unwrap();
        if let Some(user) = &pg.run_as {
            check(
                "chown",
                Command::new("chown")
                    .args([user, pg.dir.join("pwfile").to_str().unwrap()])
                    .output()
                    .unwrap(),
            );
        }
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                SUPERUSER,
                "--pwfile",
                pg.dir.join("pwfile").to_str().unwrap(),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nwal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\nmax_connections = 40\n",
            pg.port,
            pg.dir.display()
        );
        let mut existing = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        existing.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), existing).unwrap();
        pg.pg_ctl_start();
        pg.psql("postgres", &format!("CREATE DATABASE {db}"));
        pg
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> String {
        let output = self
            .command(program)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap();
        check(program, output)
    }

    fn pg_ctl_start(&self) {
        let data = self.dir.join("data");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                self.dir.join("server.log").to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server (fast mode: connections end, the WAL is flushed) and starts it again.
    pub fn restart(&self) {
        let data = self.dir.join("data");
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
        self.pg_ctl_start();
    }

    /// Turns TLS on with a certificate for localhost and 127.0.0.1 signed by a CA of its own
    /// (made with `openssl`) and
    /// refuses TCP logins without it; returns the certificate, the CA clients verify against.
    pub fn require_tls(&self) -> PathBuf {
        let data = self.dir.join("data");
        let (cert, key) = (data.join("server.crt"), data.join("server.key"));
        let (ca, ca_key) = (self.dir.join("ca.crt"), self.dir.join("ca.key"));
        let csr = self.dir.join("server.csr");
        let extensions = self.dir.join("server.ext");
        std::fs::write(
            &extensions,
            "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        let path = |p: &PathBuf| p.to_str().unwrap().to_string();
        // A CA, then a server certificate it signs (webpki refuses a CA as the server's).
        let steps: [Vec<String>; 3] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
            ]
            .map(String::from)
            .into_iter()
            .chain([
                "/CN=kconnect test CA".into(),
                "-keyout".into(),
                path(&ca_key),
            ])
            .chain(["-out".into(), path(&ca)])
            .collect(),
            [
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
            ]
            .map(String::from)
            .into_iter()
            .chain([path(&key), "-out".into(), path(&csr)])
            .collect(),
            ["x509", "-req", "-days", "1", "-CAcreateserial", "-in"]
                .map(String::from)
                .into_iter()
                .chain([
                    path(&csr),
                    "-CA".into(),
                    path(&ca),
                    "-CAkey".into(),
                    path(&ca_key),
                ])
                .chain([
                    "-extfile".into(),
                    path(&extensions),
                    "-out".into(),
                    path(&cert),
                ])
                .collect(),
        ];
        for args in steps {
            let output = Command::new("openssl")
                .args(&args)
                .current_dir(&self.dir)
                .output()
                .expect("openssl runs (apt-get install -y openssl)");
            check(&format!("openssl {}", args[0]), output);
        }
        for file in [&cert, &key] {
            if let Some(user) = &self.run_as {
                check(
                    "chown",
                    Command::new("chown")
                        .args([user, file.to_str().unwrap()])
                        .output()
                        .unwrap(),
                );
            }
        }
        check(
            "chmod",
            Command::new("chmod")
                .args(["600", key.to_str().unwrap()])
                .output()
                .unwrap(),
        );
        let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(data.join("postgresql.conf"), conf).unwrap();
        let hba = std::fs::read_to_string(data.join("pg_hba.conf")).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            format!("hostnossl all all 127.0.0.1/32 reject\n{hba}"),
        )
        .unwrap();
        self.restart();
        ca
    }

    /// Runs SQL with psql over TCP as the superuser (SCRAM); returns the unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .env("PGPASSWORD", PASSWORD)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                db,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c", sql])
            .output()
            .unwrap();
        check(&format!("psql {sql:?}"), output)
            .trim_end()
            .to_string()
    }

    /// The slot's confirmed flush LSN as a number, `None` when the slot does not exist.
    pub fn confirmed_flush_lsn(&self, db: &str, slot: &str) -> Option<u64> {
        let out = self.psql(
            db,
            &format!("SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = '{slot}'"),
        );
        let text = out.trim();
        (!text.is_empty()).then(|| text.parse::<f64>().map(|v| v as u64).unwrap_or(0))
    }

    /// The server's current WAL position as a number.
    pub fn current_lsn(&self, db: &str) -> u64 {
        self.psql(db, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
            .trim()
            .parse::<f64>()
            .unwrap() as u64
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Connector settings for this server.
    pub fn connector_config(&self, db: &str, prefix: &str, slot: &str) -> Vec<(String, String)> {
        [
            ("database.hostname", "127.0.0.1".to_string()),
            ("database.port", self.port.to_string()),
            ("database.user", SUPERUSER.to_string()),
            ("database.password", PASSWORD.to_string()),
            ("database.dbname", db.to_string()),
            ("topic.prefix", prefix.to_string()),
            ("slot.name", slot.to_string()),
            ("publication.name", format!("{slot}_publication")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
