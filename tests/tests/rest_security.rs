//! REST security against a real worker process on the embedded broker: an https listener with a
//! certificate made here, basic authentication (credentials file and Kafka's JAAS file through
//! `KAFKA_OPTS`), a separate admin listener, CORS, and refusal to start on bad TLS settings.

use base64::Engine;
use kconnect_tests::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BASIC_AUTH: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";

/// A CA and a server certificate for `localhost`/`127.0.0.1` signed by it, in PEM.
struct Certificates {
    ca_der: Vec<u8>,
    server_chain_pem: String,
    server_key_pem: String,
}

fn make_certificates(ca_name: &str) -> Certificates {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = params.signed_by(&server_key, &ca, &ca_key).unwrap();
    Certificates {
        ca_der: ca.der().to_vec(),
        // The chain holds the server certificate then its issuer, as Kafka's PEM keystores do.
        server_chain_pem: format!("{}{}", server.pem(), ca.pem()),
        server_key_pem: server_key.serialize_pem(),
    }
}

/// An HTTP client that trusts only `ca_der` for https.
fn agent_trusting(ca_der: &[u8]) -> ureq::Agent {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ca_der.to_vec()))
        .unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(tls))
        .timeout(Duration::from_secs(10))
        .build()
}

/// One answer; `Err` only when no HTTP answer came (connection or TLS failure).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, wanted: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_str())
    }
}

fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Answer, String> {
    let mut request = agent.request(method, url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let result = match body {
        Some(body) => request
            .set("Content-Type", "application/json")
            .send_string(body),
        None => request.call(),
    };
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => return Err(error.to_string()),
    };
    let status = response.status();
    let names = response.headers_names();
    let headers: Vec<(String, String)> = names
        .iter()
        .filter_map(|name| {
            response
                .header(name)
                .map(|value| (name.to_ascii_lowercase(), value.to_string()))
        })
        .collect();
    let body = response.into_string().unwrap_or_default();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Waits until `url` answers 200 with credentials (the harness's `wait_ready` sends none).
fn wait_ready_with(
    agent: &ureq::Agent,
    url: &str,
    authorization: &str,
    exited: &mut dyn FnMut() -> Option<String>,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(why) = exited() {
            panic!("worker exited during startup: {why}");
        }
        if let Ok(answer) = send(agent, "GET", url, &[("Authorization", authorization)], None) {
            if answer.status == 200 {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} did not answer 200 within 60s");
}

fn assert_unauthorized(answer: &Answer) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error_code": 401, "message": "User cannot access the resource."})
    );
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
}

#[test]
fn https_basic_auth_and_admin_listener_on_a_running_worker() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = make_certificates("kconnect e2e CA");
    let keystore = write_file(
        dir.path(),
        "rest-keystore.pem",
        &format!(
            "{}{}",
            certificates.server_key_pem, certificates.server_chain_pem
        ),
    );
    let users = write_file(
        dir.path(),
        "rest-users.properties",
        "admin: pa ss:word\nops: other\n",
    );
    let https_port = free_port();
    let admin_port = free_port();
    let worker_config = worker_properties(
        dir.path(),
        "embedded",
        https_port,
        &format!(
            "listeners=https://127.0.0.1:{https_port}\n\
             listeners.https.ssl.keystore.type=PEM\n\
             listeners.https.ssl.keystore.location={}\n\
             admin.listeners=http://127.0.0.1:{admin_port}\n\
             rest.extension.classes={BASIC_AUTH}\n\
             rest.basic.auth.credentials.file={}\n\
             access.control.allow.origin=https://ui.example.com\n\
             access.control.allow.methods=GET,POST,PUT,DELETE\n",
            keystore.display(),
            users.display()
        ),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[], https_port);
    let agent = agent_trusting(&certificates.ca_der);
    let main = |path: &str| format!("https://localhost:{https_port}{path}");
    let admin = |path: &str| format!("http://127.0.0.1:{admin_port}{path}");
    let good = basic("admin", "pa ss:word");
    let auth = [("Authorization", good.as_str())];
    wait_ready_with(&agent, &main("/health"), &good, &mut || {
        worker
            .try_exit()
            .map(|status| format!("{status}\n{}", worker.logs()))
    });

    // The TLS handshake succeeds for a client trusting the test CA and serves the API.
    let root = send(&agent, "GET", &main("/"), &auth, None).unwrap();
    assert_eq!(root.status, 200, "{}", root.body);
    let info: serde_json::Value = serde_json::from_str(&root.body).unwrap();
    assert!(info["version"].is_string(), "{info}");
    // A client trusting another CA fails the handshake; plain HTTP gets no HTTP answer.
    let stranger = agent_trusting(&make_certificates("other CA").ca_der);
    assert!(send(&stranger, "GET", &main("/"), &auth, None).is_err());
    let plain = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(5))
        .build();
    assert!(send(
        &plain,
        "GET",
        &format!("http://127.0.0.1:{https_port}/"),
        &auth,
        None
    )
    .is_err());

    // Basic authentication: 401 without or with wrong credentials, on /health too.
    for path in ["/connectors", "/health"] {
        assert_unauthorized(&send(&agent, "GET", &main(path), &[], None).unwrap());
        let wrong = basic("admin", "pa ss");
        assert_unauthorized(
            &send(
                &agent,
                "GET",
                &main(path),
                &[("Authorization", &wrong)],
                None,
            )
            .unwrap(),
        );
    }
    let created = send(
        &agent,
        "POST",
        &main("/connectors"),
        &auth,
        Some(&format!(
            r#"{{"name":"sink","config":{{"connector.class":"FileStreamSink","topics":"t","file":"{}"}}}}"#,
            dir.path().join("sink.txt").display()
        )),
    )
    .unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.header("location").unwrap_or_default();
    assert!(location.starts_with("https://"), "{location}");
    let other_user = basic("ops", "other");
    let listed = send(
        &agent,
        "GET",
        &main("/connectors"),
        &[("Authorization", &other_user)],
        None,
    )
    .unwrap();
    assert_eq!(listed.status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&listed.body).unwrap(),
        serde_json::json!(["sink"])
    );

    // KIP-495: /admin only on the admin listener, which also requires credentials.
    let on_main = send(&agent, "GET", &main("/admin/loggers"), &auth, None).unwrap();
    assert_eq!(on_main.status, 404, "{}", on_main.body);
    let on_admin = send(&plain, "GET", &admin("/admin/loggers"), &auth, None).unwrap();
    assert_eq!(on_admin.status, 200, "{}", on_admin.body);
    assert!(serde_json::from_str::<serde_json::Value>(&on_admin.body)
        .unwrap()
        .is_object());
    assert_unauthorized(&send(&plain, "GET", &admin("/admin/loggers"), &[], None).unwrap());
    assert_eq!(
        send(&plain, "GET", &admin("/connectors"), &auth, None)
            .unwrap()
            .status,
        404
    );

    // CORS preflight over TLS, answered without credentials as browsers send it.
    let preflight = send(
        &agent,
        "OPTIONS",
        &main("/connectors/sink/config"),
        &[
            ("Origin", "https://ui.example.com"),
            ("Access-Control-Request-Method", "PUT"),
            (
                "Access-Control-Request-Headers",
                "content-type,authorization",
            ),
        ],
        None,
    )
    .unwrap();
    assert_eq!(preflight.status, 204, "{}", preflight.body);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://ui.example.com")
    );
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET,POST,PUT,DELETE")
    );
    assert!(
        worker.try_exit().is_none(),
        "worker died:\n{}",
        worker.logs()
    );
    assert!(
        !worker.logs().contains("pa ss:word"),
        "a password reached the log"
    );
}

#[test]
fn cors_headers_and_disabled_admin_endpoints_on_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(
        dir.path(),
        "embedded",
        rest_port,
        "admin.listeners=\naccess.control.allow.origin=*\n",
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[], rest_port);
    worker.wait_ready();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();

    let preflight = send(
        &agent,
        "OPTIONS",
        &worker.url("/connectors"),
        &[
            ("Origin", "http://dashboard.local:3000"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(preflight.status, 204, "{}", preflight.body);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://dashboard.local:3000")
    );
    // access.control.allow.methods unset: Jetty's default, as Kafka.
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET,POST,HEAD")
    );
    assert_eq!(preflight.header("access-control-max-age"), Some("1800"));
    let refused = send(
        &agent,
        "OPTIONS",
        &worker.url("/connectors"),
        &[
            ("Origin", "http://dashboard.local:3000"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
        None,
    )
    .unwrap();
    assert!(refused.header("access-control-allow-origin").is_none());

    let simple = send(
        &agent,
        "GET",
        &worker.url("/connectors"),
        &[("Origin", "http://dashboard.local:3000")],
        None,
    )
    .unwrap();
    assert_eq!(simple.status, 200);
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("http://dashboard.local:3000")
    );
    assert_eq!(
        simple.header("access-control-allow-credentials"),
        Some("true")
    );

    // admin.listeners set to empty: admin endpoints are off.
    let loggers = send(&agent, "GET", &worker.url("/admin/loggers"), &[], None).unwrap();
    assert_eq!(loggers.status, 404, "{}", loggers.body);
    assert!(
        worker.try_exit().is_none(),
        "worker died:\n{}",
        worker.logs()
    );
}

/// A worker process started with extra environment; killed when dropped.
struct EnvWorker {
    child: Child,
    log: std::path::PathBuf,
}

impl EnvWorker {
    fn start(dir: &Path, worker_config: &Path, env: &[(&str, String)]) -> EnvWorker {
        let log = dir.join("env-worker.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(&build().kconnect);
        command
            .arg("standalone")
            .arg(worker_config)
            .current_dir(dir)
            .env("KCONNECT_LOG", "info")
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        for (name, value) in env {
            command.env(name, value);
        }
        EnvWorker {
            child: command.spawn().expect("kconnect starts"),
            log,
        }
    }

    fn exited(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        Some(format!(
            "{status}\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        ))
    }
}

impl Drop for EnvWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn basic_auth_credentials_from_a_jaas_file_named_in_kafka_opts() {
    let dir = tempfile::tempdir().unwrap();
    let users = write_file(dir.path(), "connect.password", "kafka: kafka-secret\n");
    let jaas = write_file(
        dir.path(),
        "connect_jaas.conf",
        &format!(
            "KafkaConnect {{\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\"{}\";\n}};\n",
            users.display()
        ),
    );
    let rest_port = free_port();
    let worker_config = worker_properties(
        dir.path(),
        "embedded",
        rest_port,
        &format!("rest.extension.classes={BASIC_AUTH}\n"),
    );
    let mut worker = EnvWorker::start(
        dir.path(),
        &worker_config,
        &[(
            "KAFKA_OPTS",
            format!(
                "-Xmx512m -Djava.security.auth.login.config={}",
                jaas.display()
            ),
        )],
    );
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let url = format!("http://127.0.0.1:{rest_port}/connectors");
    let good = basic("kafka", "kafka-secret");
    wait_ready_with(&agent, &url, &good, &mut || worker.exited());
    assert_unauthorized(&send(&agent, "GET", &url, &[], None).unwrap());
    let wrong = basic("kafka", "kafka-secreT");
    assert_unauthorized(&send(&agent, "GET", &url, &[("Authorization", &wrong)], None).unwrap());
    assert_eq!(
        send(&agent, "GET", &url, &[("Authorization", &good)], None)
            .unwrap()
            .status,
        200
    );
}

#[test]
fn worker_refuses_to_start_with_unusable_rest_security_settings() {
    let cases = [
        (
            "listeners=https://127.0.0.1:{port}\nlisteners.https.ssl.keystore.location={dir}/missing.pem\n",
            "listeners.https.ssl.keystore.location",
        ),
        (
            "listeners=https://127.0.0.1:{port}\nssl.keystore.type=JKS\nssl.keystore.location={dir}/store.jks\n",
            "ssl.keystore.type",
        ),
        (
            "rest.extension.classes=com.example.TokenAuthExtension\n",
            "rest.extension.classes",
        ),
        (
            "rest.basic.auth.credentials.file={dir}/users\n",
            "rest.basic.auth.credentials.file",
        ),
    ];
    for (extra, key) in cases {
        let dir = tempfile::tempdir().unwrap();
        let rest_port = free_port();
        let extra = extra
            .replace("{port}", &rest_port.to_string())
            .replace("{dir}", &dir.path().display().to_string());
        let worker_config = worker_properties(dir.path(), "embedded", rest_port, &extra);
        let mut worker = Worker::standalone(dir.path(), &worker_config, &[], rest_port);
        let status = worker.wait(Duration::from_secs(60));
        assert!(!status.success(), "started with {extra:?}");
        assert!(
            worker.logs().contains(key),
            "the error should name {key}:\n{}",
            worker.logs()
        );
    }
}
