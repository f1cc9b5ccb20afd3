use kconnect_convert::{Converter, JsonConverter};
fn docs(depth: usize) -> (String, String) {
    let mut schema = String::new();
    for _ in 0..depth {
        schema.push_str(r#"{"type":"array","items":"#);
    }
    schema.push_str(r#"{"type":"int8"}"#);
    for _ in 0..depth {
        schema.push('}');
    }
    let mut payload = "[".repeat(depth);
    payload.push_str(&"]".repeat(depth));
    (schema, payload)
}
fn stack<F: FnOnce() + Send + 'static>(f: F) {
    let kb: usize = std::env::var("STACK_KB").unwrap().parse().unwrap();
    std::thread::Builder::new()
        .stack_size(kb * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}
#[test]
fn schema_only() {
    stack(|| {
        let (s, _) = docs(998);
        let mut c = JsonConverter::default();
        c.schema_from_json(s.as_bytes()).unwrap();
    });
}
#[test]
fn schemaless_payload() {
    stack(|| {
        let (_, p) = docs(998);
        let mut c = JsonConverter::default();
        let cfg = [("schemas.enable".to_string(), "false".to_string())]
            .into_iter()
            .collect();
        Converter::configure(&mut c, &cfg, false).unwrap();
        let (_, v) = c.to_connect("t", Some(p.as_bytes())).unwrap();
        c.from_connect("t", None, &v).unwrap();
    });
}
#[test]
fn full() {
    stack(|| {
        let (s, p) = docs(998);
        let json = format!(r#"{{"schema":{s},"payload":{p}}}"#);
        let mut c = JsonConverter::default();
        let (s, v) = c.to_connect("t", Some(json.as_bytes())).unwrap();
        c.from_connect("t", s.as_ref(), &v).unwrap();
    });
}
#[test]
fn objects_schemaless() {
    stack(|| {
        let mut p = r#"{"a":"#.repeat(998);
        p.push('1');
        p.push_str(&"}".repeat(998));
        let mut c = JsonConverter::default();
        let cfg = [("schemas.enable".to_string(), "false".to_string())]
            .into_iter()
            .collect();
        Converter::configure(&mut c, &cfg, false).unwrap();
        let (_, v) = c.to_connect("t", Some(p.as_bytes())).unwrap();
        c.from_connect("t", None, &v).unwrap();
    });
}
