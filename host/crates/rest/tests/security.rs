//! TLS listeners, client certificates, basic authentication, admin listeners and CORS over real
//! sockets, with certificates made in the test and settings read from Kafka's worker keys.

mod support;

use kconnect_rest::auth::{BASIC_AUTH_EXTENSION_CLASS, UNAUTHORIZED_MESSAGE};
use kconnect_rest::{RestConfig, RestError, RestSecurity, RestServer};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use reqwest::Method;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::{MapHerder, MapLogs, Reply};

/// A certificate authority made for one test.
struct TestCa {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate and its key, in PEM.
struct Issued {
    certificate_pem: String,
    key_pem: String,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let certificate = params.self_signed(&key).unwrap();
        TestCa { certificate, key }
    }

    fn pem(&self) -> String {
        self.certificate.pem()
    }

    fn issue(&self, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> Issued {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(
            names
                .iter()
                .map(|name| name.to_string())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![purpose];
        let certificate = params
            .signed_by(&key, &self.certificate, &self.key)
            .unwrap();
        Issued {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn server(&self) -> Issued {
        self.issue(
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    fn client(&self, name: &str) -> Issued {
        self.issue(&[name], ExtendedKeyUsagePurpose::ClientAuth)
    }
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// A server configured from worker keys, as the worker does it.
async fn start(listeners: &[&str], pairs: &[(&str, &str)]) -> Result<RestServer, RestError> {
    let listeners: Vec<String> = listeners.iter().map(|l| l.to_string()).collect();
    let security = RestSecurity::from_worker_properties(&listeners, &props(pairs), None)?;
    RestServer::start(
        RestConfig {
            listeners,
            security,
            ..support::test_config()
        },
        Arc::new(MapHerder::default()),
        Arc::new(MapLogs::default()),
    )
    .await
}

fn https_client(ca: &TestCa, identity: Option<&Issued>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap());
    if let Some(identity) = identity {
        let pem = format!("{}{}", identity.certificate_pem, identity.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

fn https_url(address: SocketAddr, path: &str) -> String {
    format!("https://localhost:{}{path}", address.port())
}

fn http_url(address: SocketAddr, path: &str) -> String {
    format!("http://{address}{path}")
}

async fn get(client: &reqwest::Client, url: &str) -> Result<Reply, reqwest::Error> {
    Ok(Reply::from(client.get(url).send().await?).await)
}

/// A worker config's TLS keys for a PEM keystore holding the chain and the key.
fn keystore_keys(dir: &Path, prefix: &str, issued: &Issued) -> Vec<(String, String)> {
    let keystore = write(
        dir,
        &format!("{prefix}keystore.pem"),
        &format!("{}{}", issued.key_pem, issued.certificate_pem),
    );
    vec![
        (format!("{prefix}ssl.keystore.location"), keystore),
        (format!("{prefix}ssl.keystore.type"), "PEM".to_string()),
    ]
}

fn as_pairs(owned: &[(String, String)]) -> Vec<(&str, &str)> {
    owned
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect()
}

#[tokio::test]
async fn https_listener_serves_clients_that_trust_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test CA");
    let keys = keystore_keys(dir.path(), "listeners.https.", &ca.server());
    let server = start(&["https://127.0.0.1:0"], &as_pairs(&keys))
        .await
        .unwrap();
    let address = server.local_addrs()[0];
    assert_eq!(
        server.advertised_url(),
        format!("https://127.0.0.1:{}", address.port())
    );

    let reply = get(&https_client(&ca, None), &https_url(address, "/connectors"))
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json(), serde_json::json!([]));

    // A client that trusts another CA refuses the certificate.
    let stranger = https_client(&TestCa::new("other CA"), None);
    let refused = get(&stranger, &https_url(address, "/connectors")).await;
    assert!(
        refused.is_err(),
        "handshake with an untrusted certificate succeeded"
    );

    // Clear-text HTTP on the TLS port gets no HTTP answer.
    let plain = get(&reqwest::Client::new(), &http_url(address, "/connectors")).await;
    assert!(
        plain.is_err(),
        "plain HTTP was answered on an https listener"
    );
    server.stop().await;
}

#[tokio::test]
async fn certificate_and_key_in_separate_files_with_plain_ssl_keys() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test CA");
    let issued = ca.server();
    let certificate = write(dir.path(), "cert.pem", &issued.certificate_pem);
    let key = write(dir.path(), "key.pem", &issued.key_pem);
    let server = start(
        &["http://127.0.0.1:0", "https://127.0.0.1:0"],
        &[
            ("ssl.certificate.location", &certificate),
            ("ssl.key.location", &key),
        ],
    )
    .await
    .unwrap();
    let [http, https] = server.local_addrs() else {
        panic!("two listeners expected")
    };
    // As Kafka, the http listener is advertised when there is one.
    assert_eq!(
        server.advertised_url(),
        format!("http://127.0.0.1:{}", http.port())
    );
    let over_http = get(&reqwest::Client::new(), &http_url(*http, "/"))
        .await
        .unwrap();
    assert_eq!(over_http.status, 200);
    let over_https = get(&https_client(&ca, None), &https_url(*https, "/"))
        .await
        .unwrap();
    assert_eq!(over_https.status, 200);
    assert_eq!(over_http.json(), over_https.json());

    // The Location of a connector created over TLS is an https URL.
    let created = https_client(&ca, None)
        .post(https_url(*https, "/connectors"))
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({"name": "c", "config": {"connector.class": "FileStreamSink"}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("https://"), "{location}");
    server.stop().await;
}

#[tokio::test]
async fn required_client_certificates_must_chain_to_the_truststore() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("server and client CA");
    let mut keys = keystore_keys(dir.path(), "listeners.https.", &ca.server());
    keys.push(("listeners.https.ssl.client.auth".into(), "required".into()));
    keys.push((
        "listeners.https.ssl.truststore.location".into(),
        write(dir.path(), "truststore.pem", &ca.pem()),
    ));
    let server = start(&["https://127.0.0.1:0"], &as_pairs(&keys))
        .await
        .unwrap();
    let url = https_url(server.local_addrs()[0], "/connectors");

    let with_certificate = get(&https_client(&ca, Some(&ca.client("alice"))), &url)
        .await
        .unwrap();
    assert_eq!(with_certificate.status, 200);
    assert!(
        get(&https_client(&ca, None), &url).await.is_err(),
        "served a client without a certificate"
    );
    let foreign = TestCa::new("foreign CA").client("mallory");
    assert!(
        get(&https_client(&ca, Some(&foreign)), &url).await.is_err(),
        "served a client whose certificate the truststore does not sign"
    );
    server.stop().await;
}

#[tokio::test]
async fn requested_client_certificates_are_optional_but_checked() {
    let ca = TestCa::new("test CA");
    let issued = ca.server();
    let server = start(
        &["https://127.0.0.1:0"],
        &[
            ("ssl.keystore.certificate.chain", &issued.certificate_pem),
            ("ssl.keystore.key", &issued.key_pem),
            ("ssl.client.auth", "requested"),
            ("ssl.truststore.certificates", &ca.pem()),
        ],
    )
    .await
    .unwrap();
    let url = https_url(server.local_addrs()[0], "/");
    assert_eq!(
        get(&https_client(&ca, None), &url).await.unwrap().status,
        200
    );
    assert_eq!(
        get(&https_client(&ca, Some(&ca.client("alice"))), &url)
            .await
            .unwrap()
            .status,
        200
    );
    let foreign = TestCa::new("foreign CA").client("mallory");
    assert!(get(&https_client(&ca, Some(&foreign)), &url).await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn enabled_protocols_limit_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test CA");
    let mut keys = keystore_keys(dir.path(), "", &ca.server());
    keys.push(("ssl.enabled.protocols".into(), "TLSv1.3".into()));
    let server = start(&["https://127.0.0.1:0"], &as_pairs(&keys))
        .await
        .unwrap();
    let url = https_url(server.local_addrs()[0], "/");
    assert_eq!(
        get(&https_client(&ca, None), &url).await.unwrap().status,
        200
    );
    let tls12_only = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    assert!(
        get(&tls12_only, &url).await.is_err(),
        "TLS 1.2 was accepted"
    );
    server.stop().await;
}

#[tokio::test]
async fn unusable_tls_material_is_refused_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test CA");
    let issued = ca.server();
    let other = ca.server();
    let certificate = write(dir.path(), "cert.pem", &issued.certificate_pem);
    let wrong_key = write(dir.path(), "other-key.pem", &other.key_pem);
    let encrypted = write(
        dir.path(),
        "encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let not_pem = write(dir.path(), "store.jks", "\u{feed}\u{feed} binary keystore");
    // (worker keys, the key the error must name, what it must say)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("listeners.https.ssl.certificate.location", &certificate),
                ("listeners.https.ssl.key.location", &wrong_key),
            ],
            "listeners.https.ssl.key.location",
            "does not fit",
        ),
        (
            vec![
                ("listeners.https.ssl.certificate.location", &certificate),
                ("listeners.https.ssl.key.location", &encrypted),
            ],
            "listeners.https.ssl.key.location",
            "encrypted",
        ),
        (
            vec![("listeners.https.ssl.keystore.location", &not_pem)],
            "listeners.https.ssl.keystore.location",
            "CERTIFICATE",
        ),
        (
            vec![
                ("listeners.https.ssl.keystore.location", &certificate),
                ("listeners.https.ssl.client.auth", "required"),
            ],
            "listeners.https.ssl.truststore.location",
            "CA certificates",
        ),
        (
            vec![
                ("listeners.https.ssl.keystore.location", &certificate),
                ("listeners.https.ssl.enabled.protocols", "TLSv1.1"),
            ],
            "listeners.https.ssl.enabled.protocols",
            "neither",
        ),
        (
            vec![
                ("listeners.https.ssl.keystore.location", &certificate),
                (
                    "listeners.https.ssl.cipher.suites",
                    "TLS_RSA_WITH_RC4_128_MD5",
                ),
            ],
            "listeners.https.ssl.cipher.suites",
            "TLS_RSA_WITH_RC4_128_MD5",
        ),
    ];
    for (pairs, named, says) in cases {
        let listeners = vec!["https://127.0.0.1:0".to_string()];
        let error = RestSecurity::from_worker_properties(&listeners, &props(&pairs), None)
            .expect_err(named);
        let message = error.to_string();
        assert!(message.starts_with(&format!("{named}:")), "{message}");
        assert!(message.contains(says), "{message}");
    }
    // The keystore case above lacks its key: a keystore with the key and a cipher suite
    // Kafka users list by its IANA name is accepted.
    let keystore = write(
        dir.path(),
        "keystore.pem",
        &format!("{}{}", issued.certificate_pem, issued.key_pem),
    );
    let server = start(
        &["https://127.0.0.1:0"],
        &[
            ("ssl.keystore.location", &keystore),
            (
                "ssl.cipher.suites",
                "TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            ),
        ],
    )
    .await
    .unwrap();
    let url = https_url(server.local_addrs()[0], "/");
    assert_eq!(
        get(&https_client(&ca, None), &url).await.unwrap().status,
        200
    );
    server.stop().await;
}

fn credentials_keys(dir: &Path) -> Vec<(String, String)> {
    let file = write(
        dir,
        "users.properties",
        "# Kafka's PropertyFileLoginModule format\nalice: wonder land\nbob=builder\n",
    );
    vec![
        (
            "rest.extension.classes".to_string(),
            BASIC_AUTH_EXTENSION_CLASS.to_string(),
        ),
        ("rest.basic.auth.credentials.file".to_string(), file),
    ]
}

async fn send_as(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    credentials: Option<(&str, &str)>,
) -> Reply {
    let mut request = client.request(method, url);
    if let Some((user, password)) = credentials {
        request = request.basic_auth(user, Some(password));
    }
    Reply::from(request.send().await.unwrap()).await
}

#[tokio::test]
async fn basic_auth_refuses_requests_without_valid_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let keys = credentials_keys(dir.path());
    let server = start(&["http://127.0.0.1:0"], &as_pairs(&keys))
        .await
        .unwrap();
    let address = server.local_addrs()[0];
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/connectors",
        "/health",
        "/admin/loggers",
        "/no/such/path",
    ] {
        for credentials in [
            None,
            Some(("alice", "wonder")),
            Some(("alice", "wonder land ")),
            Some(("carol", "wonder land")),
            Some(("", "builder")),
        ] {
            let reply = send_as(&client, Method::GET, &http_url(address, path), credentials).await;
            assert_eq!(
                reply.assert_error(401),
                UNAUTHORIZED_MESSAGE,
                "{path} {credentials:?}"
            );
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Basic realm=\"Kafka Connect\", charset=\"UTF-8\"")
            );
        }
    }
    let unknown = send_as(
        &client,
        Method::GET,
        &http_url(address, "/no/such/path"),
        Some(("bob", "builder")),
    )
    .await;
    assert_eq!(unknown.assert_error(404), "HTTP 404 Not Found");
    for (user, password) in [("alice", "wonder land"), ("bob", "builder")] {
        let reply = send_as(
            &client,
            Method::GET,
            &http_url(address, "/connectors"),
            Some((user, password)),
        )
        .await;
        assert_eq!(reply.status, 200, "{user}: {}", reply.text);
        assert!(reply.header("www-authenticate").is_none());
    }
    // Nothing reached the herder without credentials.
    let refused = client
        .post(http_url(address, "/connectors"))
        .header("Content-Type", "application/json")
        .body(r#"{"name":"c","config":{"connector.class":"FileStreamSink"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let listed = send_as(
        &client,
        Method::GET,
        &http_url(address, "/connectors"),
        Some(("bob", "builder")),
    )
    .await;
    assert_eq!(listed.json(), serde_json::json!([]));
    server.stop().await;
}

#[tokio::test]
async fn admin_listeners_serve_admin_endpoints_only_there() {
    let server = start(
        &["http://127.0.0.1:0"],
        &[("admin.listeners", "http://127.0.0.1:0")],
    )
    .await
    .unwrap();
    let regular = server.local_addrs()[0];
    let [admin] = server.admin_addrs() else {
        panic!("one admin listener expected")
    };
    let client = reqwest::Client::new();
    let on = |address: SocketAddr, path: &str| {
        let client = client.clone();
        let url = http_url(address, path);
        async move { Reply::from(client.get(url).send().await.unwrap()).await }
    };
    for path in ["/admin/loggers", "/admin/loggers/root"] {
        assert_eq!(
            on(regular, path).await.assert_error(404),
            "HTTP 404 Not Found"
        );
        assert_eq!(on(*admin, path).await.status, 200, "{path}");
    }
    for path in ["/connectors", "/", "/health", "/openapi.json"] {
        assert_eq!(on(regular, path).await.status, 200, "{path}");
        on(*admin, path).await.assert_error(404);
    }
    let wrong_method = Reply::from(
        client
            .post(http_url(*admin, "/admin/loggers/root"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    wrong_method.assert_error(405);
    assert_eq!(wrong_method.header("allow"), Some("GET, PUT"));
    server.stop().await;
}

#[tokio::test]
async fn empty_admin_listeners_disable_admin_endpoints() {
    let server = start(&["http://127.0.0.1:0"], &[("admin.listeners", "")])
        .await
        .unwrap();
    assert!(server.admin_addrs().is_empty());
    let client = reqwest::Client::new();
    let address = server.local_addrs()[0];
    let loggers = get(&client, &http_url(address, "/admin/loggers"))
        .await
        .unwrap();
    loggers.assert_error(404);
    let connectors = get(&client, &http_url(address, "/connectors"))
        .await
        .unwrap();
    assert_eq!(connectors.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn admin_listener_on_a_regular_listeners_port_is_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = start(
        &[&format!("http://127.0.0.1:{port}")],
        &[("admin.listeners", &format!("http://0.0.0.0:{port}"))],
    )
    .await
    .err()
    .expect("overlapping admin listener refused");
    assert!(
        matches!(error, RestError::OverlappingAdminListener { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn https_admin_listener_with_its_own_certificate_and_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let admin_ca = TestCa::new("admin CA");
    let mut keys = keystore_keys(dir.path(), "admin.listeners.https.", &admin_ca.server());
    keys.extend(credentials_keys(dir.path()));
    keys.push(("admin.listeners".into(), "https://127.0.0.1:0".into()));
    let server = start(&["http://127.0.0.1:0"], &as_pairs(&keys))
        .await
        .unwrap();
    let admin = server.admin_addrs()[0];
    let client = https_client(&admin_ca, None);
    let url = https_url(admin, "/admin/loggers");
    send_as(&client, Method::GET, &url, None)
        .await
        .assert_error(401);
    let reply = send_as(&client, Method::GET, &url, Some(("alice", "wonder land"))).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    server.stop().await;
}

async fn preflight(
    client: &reqwest::Client,
    url: &str,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> Reply {
    let mut request = client
        .request(Method::OPTIONS, url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method);
    if let Some(headers) = headers {
        request = request.header("Access-Control-Request-Headers", headers);
    }
    Reply::from(request.send().await.unwrap()).await
}

#[tokio::test]
async fn cors_preflight_and_simple_requests_as_jetty() {
    let server = start(
        &["http://127.0.0.1:0"],
        &[
            (
                "access.control.allow.origin",
                "https://ui.example.com,http://*.test",
            ),
            ("access.control.allow.methods", "GET,POST,PUT,DELETE"),
        ],
    )
    .await
    .unwrap();
    let address = server.local_addrs()[0];
    let client = reqwest::Client::new();
    let url = http_url(address, "/connectors/c/config");

    let allowed = preflight(
        &client,
        &url,
        "https://ui.example.com",
        "PUT",
        Some("content-type"),
    )
    .await;
    assert_eq!(allowed.status, 204, "{}", allowed.text);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://ui.example.com")
    );
    assert_eq!(
        allowed.header("access-control-allow-methods"),
        Some("GET,POST,PUT,DELETE")
    );
    let allowed_headers = allowed.header("access-control-allow-headers").unwrap();
    assert!(
        allowed_headers.contains("Content-Type"),
        "{allowed_headers}"
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(allowed.header("access-control-max-age"), Some("1800"));
    assert_eq!(allowed.header("vary"), Some("Origin"));

    let by_pattern = preflight(&client, &url, "http://a.b.test", "GET", None).await;
    assert_eq!(
        by_pattern.header("access-control-allow-origin"),
        Some("http://a.b.test")
    );

    // Not allowed: another origin, a method not listed, a header not listed. Routing answers.
    for (origin, method, headers) in [
        ("https://evil.example.com", "PUT", None),
        ("https://ui.example.com", "PATCH", None),
        ("https://ui.example.com", "PUT", Some("x-custom")),
    ] {
        let refused = preflight(&client, &url, origin, method, headers).await;
        refused.assert_error(405);
        assert!(
            refused.header("access-control-allow-origin").is_none(),
            "{origin} {method} {headers:?}"
        );
    }

    let simple = Reply::from(
        client
            .get(http_url(address, "/connectors"))
            .header("Origin", "https://ui.example.com")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(simple.status, 200);
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://ui.example.com")
    );
    assert_eq!(
        simple.header("access-control-allow-credentials"),
        Some("true")
    );
    let foreign = Reply::from(
        client
            .get(http_url(address, "/connectors"))
            .header("Origin", "https://evil.example.com")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(foreign.status, 200);
    assert!(foreign.header("access-control-allow-origin").is_none());
    server.stop().await;
}

#[tokio::test]
async fn cors_off_sends_no_cors_headers() {
    let server = start(&["http://127.0.0.1:0"], &[]).await.unwrap();
    let client = reqwest::Client::new();
    let url = http_url(server.local_addrs()[0], "/connectors");
    let reply = preflight(&client, &url, "https://ui.example.com", "GET", None).await;
    reply.assert_error(405);
    assert!(reply.header("access-control-allow-origin").is_none());
    let simple = Reply::from(
        client
            .get(&url)
            .header("Origin", "https://ui.example.com")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(simple.header("access-control-allow-origin").is_none());
    server.stop().await;
}

#[tokio::test]
async fn cors_preflight_needs_no_credentials_and_401s_carry_cors_headers() {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = credentials_keys(dir.path());
    keys.push(("access.control.allow.origin".into(), "*".into()));
    let server = start(&["http://127.0.0.1:0"], &as_pairs(&keys))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let url = http_url(server.local_addrs()[0], "/connectors");
    let allowed = preflight(
        &client,
        &url,
        "http://any.origin",
        "GET",
        Some("authorization"),
    )
    .await;
    assert_eq!(allowed.status, 204);
    // With `*`, the request's origin is echoed, as Jetty does.
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://any.origin")
    );
    let unauthorized = Reply::from(
        client
            .get(&url)
            .header("Origin", "http://any.origin")
            .send()
            .await
            .unwrap(),
    )
    .await;
    unauthorized.assert_error(401);
    assert_eq!(
        unauthorized.header("access-control-allow-origin"),
        Some("http://any.origin")
    );
    server.stop().await;
}
