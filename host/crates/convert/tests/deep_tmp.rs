use kconnect_convert::{Converter, JsonConverter};
fn run(depth: usize) {
    let mut schema = String::new();
    for _ in 0..depth { schema.push_str(r#"{"type":"array","items":"#); }
    schema.push_str(r#"{"type":"int8"}"#);
    for _ in 0..depth { schema.push('}'); }
    let mut payload = "[".repeat(depth);
    payload.push_str(&"]".repeat(depth));
    let json = format!(r#"{{"schema":{schema},"payload":{payload}}}"#);
    let mut c = JsonConverter::default();
    let (s, v) = c.to_connect("t", Some(json.as_bytes())).unwrap();
    let out = c.from_connect("t", s.as_ref(), &v).unwrap().unwrap();
    assert!(out.len() > json.len());
}
#[test]
fn deep_schema() {
    let kb: usize = std::env::var("STACK_KB").unwrap().parse().unwrap();
    std::thread::Builder::new().stack_size(kb * 1024).spawn(|| run(998)).unwrap().join().unwrap();
}
