//! Config providers (KIP-297): placeholders are resolved when tasks start and never stored
//! resolved or returned by REST.

use kconnect_tests::*;
use std::time::Duration;

#[test]
fn placeholders_resolve_at_start_and_stay_placeholders_everywhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let output = dir.path().join("resolved-sink.txt");
    // The sink's file name is the "secret": a file provider entry and a dir provider file.
    write_file(
        &secrets,
        "creds.properties",
        &format!("sink.file={}\n", output.display()),
    );
    write_file(&secrets, "topic", "secret-topic");
    let rest_port = free_port();
    let worker_config = worker_properties(
        dir.path(),
        "embedded",
        rest_port,
        &format!(
            "config.providers=file,dir\nconfig.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\nconfig.providers.file.param.allowed.paths={0}\nconfig.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider\nconfig.providers.dir.param.allowed.paths={0}\n",
            secrets.display()
        ),
    );
    let input = dir.path().join("in.txt");
    append_lines(&input, &["hello".to_string()]);
    let file_placeholder = format!(
        "${{file:{}:sink.file}}",
        secrets.join("creds.properties").display()
    );
    let topic_placeholder = format!("${{dir:{}:topic}}", secrets.display());
    let source = write_file(
        dir.path(),
        "source.properties",
        &format!(
            "name=src\nconnector.class=FileStreamSource\nfile={}\ntopic={topic_placeholder}\n",
            input.display()
        ),
    );
    let sink = write_file(
        dir.path(),
        "sink.properties",
        &format!("name=snk\nconnector.class=FileStreamSink\nfile={file_placeholder}\ntopics={topic_placeholder}\n"),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    wait_until(
        Duration::from_secs(60),
        "the record in the resolved sink file",
        || read_lines(&output) == ["hello".to_string()],
    );

    let get = |path: &str| {
        ureq::get(&worker.url(path))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    };
    for path in [
        "/connectors/snk/config",
        "/connectors/snk",
        "/connectors/snk/tasks",
        "/connectors?expand=info",
    ] {
        let body = get(path);
        assert!(
            body.contains("${file:"),
            "{path} shows the placeholder: {body}"
        );
        assert!(
            !body.contains("resolved-sink.txt"),
            "{path} leaks the secret: {body}"
        );
        assert!(
            !body.contains("secret-topic"),
            "{path} leaks the secret: {body}"
        );
    }
    let stored =
        std::fs::read_to_string(dir.path().join("connect.offsets.connectors.json")).unwrap();
    assert!(
        !stored.contains("resolved-sink.txt") && stored.contains("${file:"),
        "{stored}"
    );
    assert!(
        !worker.logs().contains("resolved-sink.txt"),
        "the secret is not logged"
    );
}
