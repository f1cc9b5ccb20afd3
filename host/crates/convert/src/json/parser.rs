//! A JSON reader that builds a borrowed tree, accepting what Jackson's `ObjectMapper.readTree`
//! accepts with Kafka's settings: strict RFC 8259 values (no comments, no single quotes, no leading
//! zeros, no NaN), a UTF-8 BOM skipped, nesting up to 1000 levels, duplicate object keys resolved to
//! the last value (kept at the first key's position), and anything after the first complete root
//! value ignored, as Jackson does without `FAIL_ON_TRAILING_TOKENS`.
//!
//! Numbers keep their text so integers of any size and decimals convert exactly.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// Jackson's default `StreamReadConstraints.maxNestingDepth`.
const MAX_DEPTH: usize = crate::MAX_NESTING;

/// Objects with this many members get a key index for the duplicate-key check.
const INDEX_FROM: usize = 16;

/// A parsed JSON value borrowing from the input where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number<'a>),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members in first-seen key order, keys unique.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// A JSON number as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Number<'a> {
    pub text: &'a str,
    /// No fraction and no exponent, as Jackson's `isIntegralNumber`.
    pub integral: bool,
}

impl<'a> Node<'a> {
    /// Jackson's `JsonNodeType` name, used in Kafka's error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "NULL",
            Node::Bool(_) => "BOOLEAN",
            Node::Number(_) => "NUMBER",
            Node::String(_) => "STRING",
            Node::Array(_) => "ARRAY",
            Node::Object(_) => "OBJECT",
        }
    }

    /// The member `key` of an object; `None` for other nodes.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A parsed document.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    /// `None` when the input held nothing but whitespace (Jackson's `MissingNode`).
    pub root: Option<Node<'a>>,
    /// For a root object: the byte range of each member's value, in member order.
    pub root_member_spans: Vec<Range<usize>>,
}

/// Parses `bytes` as one JSON document.
pub(crate) fn parse(bytes: &[u8]) -> Result<Document<'_>, String> {
    parse_with_lazy_member(bytes, None)
}

/// Parses the text of a value that sits `enclosing` containers deep in a larger document, so
/// that the nesting limit counts from that document's root.
pub(crate) fn parse_enclosed(bytes: &[u8], enclosing: usize) -> Result<Document<'_>, String> {
    let mut parser = Parser::new(bytes, None)?;
    parser.base_depth = enclosing;
    parser.document()
}

/// Parses `bytes` as one JSON document, except that the value of the root object's member named
/// `lazy_member` is only delimited: it appears as [`Node::Null`] and its text is found through
/// [`Document::root_member_spans`]. The caller must parse that text itself unless it knows it to
/// be valid (e.g. identical to text it parsed before).
pub(crate) fn parse_with_lazy_member<'a>(
    bytes: &'a [u8],
    lazy_member: Option<&str>,
) -> Result<Document<'a>, String> {
    Parser::new(bytes, lazy_member)?.document()
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

struct Parser<'a, 'l> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    root_member_spans: Vec<Range<usize>>,
    lazy_member: Option<&'l str>,
    /// Containers around the parsed text, counted towards the nesting limit.
    base_depth: usize,
}

impl<'a, 'l> Parser<'a, 'l> {
    fn new(bytes: &'a [u8], lazy_member: Option<&'l str>) -> Result<Parser<'a, 'l>, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            format!(
                "Invalid UTF-8 start byte or sequence at offset {}",
                e.valid_up_to()
            )
        })?;
        Ok(Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            root_member_spans: Vec::new(),
            lazy_member,
            base_depth: 0,
        })
    }

    fn document(mut self) -> Result<Document<'a>, String> {
        if self.bytes.starts_with(b"\xEF\xBB\xBF") {
            self.pos = 3;
        }
        self.skip_whitespace();
        if self.pos == self.bytes.len() {
            return Ok(Document {
                root: None,
                root_member_spans: Vec::new(),
            });
        }
        let root = self.value(0)?;
        if matches!(root, Node::Number(_)) {
            if let Some(&next) = self.bytes.get(self.pos) {
                if !is_whitespace(next) {
                    return Err(self.unexpected("expected space separating root-level values"));
                }
            }
        }
        Ok(Document {
            root: Some(root),
            root_member_spans: self.root_member_spans,
        })
    }
    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !is_whitespace(b) {
                break;
            }
            self.pos += 1;
        }
    }

    fn unexpected(&self, expectation: &str) -> String {
        match self.text[self.pos.min(self.text.len())..].chars().next() {
            Some(c) => format!(
                "Unexpected character ('{}' (code {})) at offset {}: {expectation}",
                c.escape_debug(),
                c as u32,
                self.pos
            ),
            None => format!(
                "Unexpected end-of-input at offset {}: {expectation}",
                self.pos
            ),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, String> {
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected(
                "expected a JSON value (String, Number, Array, Object or token 'null', 'true' or 'false')",
            )),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), String> {
        let depth = depth + self.base_depth;
        if depth > MAX_DEPTH {
            Err(format!(
                "Document nesting depth ({depth}) exceeds the maximum allowed ({MAX_DEPTH})"
            ))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node<'a>, String> {
        self.check_depth(depth)?;
        let record_spans = depth == 1;
        self.pos += 1;
        let mut members: Vec<(Cow<'a, str>, Node<'a>)> = Vec::new();
        let mut index: HashMap<Cow<'a, str>, usize> = HashMap::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Node::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected("was expecting double-quote to start field name"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(
                    self.unexpected("was expecting a colon to separate field name and value")
                );
            }
            self.pos += 1;
            self.skip_whitespace();
            let start = self.pos;
            let value = if record_spans && self.lazy_member == Some(key.as_ref()) {
                self.skip_value()?;
                Node::Null
            } else {
                self.value(depth)?
            };
            let span = start..self.pos;
            // Small objects are searched directly; large ones through an index, so that many keys
            // cannot make this quadratic.
            if members.len() == INDEX_FROM {
                index = members
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect();
            }
            let existing = if members.len() < INDEX_FROM {
                members.iter().position(|(k, _)| *k == key)
            } else {
                index.get(&key).copied()
            };
            if existing.is_none() && members.len() >= INDEX_FROM {
                index.insert(key.clone(), members.len());
            }
            match existing {
                Some(existing) => {
                    members[existing].1 = value;
                    if record_spans {
                        self.root_member_spans[existing] = span;
                    }
                }
                None => {
                    members.push((key, value));
                    if record_spans {
                        self.root_member_spans.push(span);
                    }
                }
            }
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::Object(members));
                }
                _ => return Err(self.unexpected("was expecting comma to separate Object entries")),
            }
        }
    }

    /// Moves past one value without building it, checking only that brackets and strings close.
    fn skip_value(&mut self) -> Result<(), String> {
        let bytes = self.bytes;
        let mut depth = 0usize;
        loop {
            let Some(&b) = bytes.get(self.pos) else {
                return Err(self.unexpected("was expecting the end of a value"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    loop {
                        match bytes.get(self.pos) {
                            Some(b'"') => break,
                            Some(b'\\') => self.pos += 2,
                            Some(_) => self.pos += 1,
                            None => {
                                return Err(self
                                    .unexpected("was expecting closing quote for a string value"))
                            }
                        }
                    }
                    self.pos += 1;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' => {
                    if depth == 0 {
                        return Err(self.unexpected("expected a JSON value"));
                    }
                    depth -= 1;
                    self.pos += 1;
                }
                b',' | b' ' | b'\t' | b'\n' | b'\r' | b':' if depth > 0 => self.pos += 1,
                _ if depth == 0 => {
                    // A scalar: up to the next delimiter.
                    let start = self.pos;
                    while let Some(&c) = bytes.get(self.pos) {
                        if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                            break;
                        }
                        self.pos += 1;
                    }
                    if self.pos == start {
                        return Err(self.unexpected("expected a JSON value"));
                    }
                }
                _ => self.pos += 1,
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node<'a>, String> {
        self.check_depth(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                _ => return Err(self.unexpected("was expecting comma to separate Array entries")),
            }
        }
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Result<Node<'a>, String> {
        let end = self.pos + word.len();
        let matches = self.bytes.get(self.pos..end) == Some(word.as_bytes());
        let followed_by_identifier = self
            .bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$');
        if !matches || followed_by_identifier {
            let token_end = self.bytes[self.pos..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$'))
                .map_or(self.bytes.len(), |n| self.pos + n);
            return Err(format!(
                "Unrecognized token '{}' at offset {}: was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
                &self.text[self.pos..token_end.max(self.pos + 1).min(self.text.len())],
                self.pos
            ));
        }
        self.pos = end;
        Ok(node)
    }

    fn number(&mut self) -> Result<Node<'a>, String> {
        let start = self.pos;
        let bytes = self.bytes;
        let mut pos = self.pos;
        if bytes[pos] == b'-' {
            pos += 1;
        }
        let int_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_len = pos - int_start;
        if int_len == 0 {
            self.pos = pos;
            return Err(self
                .unexpected("expected digit (0-9) to follow minus sign, for valid numeric value"));
        }
        if int_len > 1 && bytes[int_start] == b'0' {
            return Err(format!(
                "Invalid numeric value at offset {start}: Leading zeroes not allowed"
            ));
        }
        let mut integral = true;
        if bytes.get(pos) == Some(&b'.') {
            integral = false;
            pos += 1;
            let fraction_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos == fraction_start {
                self.pos = pos;
                return Err(self.unexpected("Decimal point not followed by a digit"));
            }
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            integral = false;
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            let exponent_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos == exponent_start {
                self.pos = pos;
                return Err(self.unexpected("Exponent indicator not followed by a digit"));
            }
        }
        self.pos = pos;
        Ok(Node::Number(Number {
            text: &self.text[start..pos],
            integral,
        }))
    }

    /// Reads a string starting at the opening quote.
    fn string(&mut self) -> Result<Cow<'a, str>, String> {
        self.pos += 1;
        let start = self.pos;
        let bytes = self.bytes;
        let mut pos = start;
        while pos < bytes.len() {
            match bytes[pos] {
                b'"' => {
                    self.pos = pos + 1;
                    return Ok(Cow::Borrowed(&self.text[start..pos]));
                }
                b'\\' => break,
                b if b < 0x20 => {
                    self.pos = pos;
                    return Err(self.unexpected(
                        "Illegal unquoted character: has to be escaped using backslash to be included in string value",
                    ));
                }
                _ => pos += 1,
            }
        }
        let mut owned = String::with_capacity(pos - start + 16);
        owned.push_str(&self.text[start..pos]);
        loop {
            let Some(&b) = bytes.get(pos) else {
                self.pos = pos;
                return Err(self.unexpected("was expecting closing quote for a string value"));
            };
            match b {
                b'"' => {
                    self.pos = pos + 1;
                    return Ok(Cow::Owned(owned));
                }
                b'\\' => {
                    pos += 1;
                    let Some(&escape) = bytes.get(pos) else {
                        self.pos = pos;
                        return Err(self.unexpected("unfinished escape sequence"));
                    };
                    pos += 1;
                    match escape {
                        b'"' => owned.push('"'),
                        b'\\' => owned.push('\\'),
                        b'/' => owned.push('/'),
                        b'b' => owned.push('\u{8}'),
                        b'f' => owned.push('\u{c}'),
                        b'n' => owned.push('\n'),
                        b'r' => owned.push('\r'),
                        b't' => owned.push('\t'),
                        b'u' => {
                            let high = self.hex4(pos)?;
                            pos += 4;
                            let c = if (0xD800..0xDC00).contains(&high)
                                && bytes.get(pos) == Some(&b'\\')
                                && bytes.get(pos + 1) == Some(&b'u')
                            {
                                let low = self.hex4(pos + 2)?;
                                if (0xDC00..0xE000).contains(&low) {
                                    pos += 6;
                                    char::from_u32(
                                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00),
                                    )
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(high)
                            };
                            // A lone surrogate has no UTF-8 form; the replacement character stands in.
                            owned.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.pos = pos - 1;
                            return Err(self.unexpected("Unrecognized character escape"));
                        }
                    }
                }
                b if b < 0x20 => {
                    self.pos = pos;
                    return Err(self.unexpected(
                        "Illegal unquoted character: has to be escaped using backslash to be included in string value",
                    ));
                }
                _ => {
                    let run_end = bytes[pos..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                        .map_or(bytes.len(), |n| pos + n);
                    owned.push_str(&self.text[pos..run_end]);
                    pos = run_end;
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(at..at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        match digits {
            Some(d) => u32::from_str_radix(d, 16).map_err(|e| e.to_string()),
            None => Err(format!(
                "Unexpected character at offset {at}: expected a hex-digit for character escape sequence"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(json: &str) -> Node<'_> {
        parse(json.as_bytes()).unwrap().root.unwrap()
    }

    #[test]
    fn parses_nested_values_and_keeps_number_text() {
        let node = root(r#" {"a":[1,-2.5e3,true,null],"b":{"c":"d\u00e9\n"}} trailing"#);
        let a = node.get("a").unwrap();
        assert_eq!(
            a,
            &Node::Array(vec![
                Node::Number(Number {
                    text: "1",
                    integral: true
                }),
                Node::Number(Number {
                    text: "-2.5e3",
                    integral: false
                }),
                Node::Bool(true),
                Node::Null,
            ])
        );
        assert_eq!(
            node.get("b").unwrap().get("c"),
            Some(&Node::String("dé\n".into()))
        );
    }

    #[test]
    fn records_root_member_spans_and_last_duplicate_wins() {
        let text = r#"{"schema": {"type":"int32"} , "payload":1,"schema":null}"#;
        let doc = parse(text.as_bytes()).unwrap();
        assert_eq!(&text[doc.root_member_spans[0].clone()], "null");
        assert_eq!(&text[doc.root_member_spans[1].clone()], "1");
        assert_eq!(doc.root.unwrap().get("schema"), Some(&Node::Null));
    }

    #[test]
    fn duplicate_keys_resolve_the_same_in_large_objects() {
        let mut json = String::from("{");
        for i in 0..40 {
            json.push_str(&format!("\"k{i}\":{i},"));
        }
        json.push_str("\"k3\":\"last\",\"k39\":null}");
        let node = root(&json);
        let Node::Object(members) = &node else {
            panic!("object expected")
        };
        assert_eq!(members.len(), 40);
        assert_eq!(members[3], ("k3".into(), Node::String("last".into())));
        assert_eq!(members[39].1, Node::Null);
    }

    #[test]
    fn surrogate_pairs_decode_and_lone_surrogates_are_replaced() {
        assert_eq!(root(r#""\ud83d\ude00""#), Node::String("😀".into()));
        assert_eq!(root(r#""\ud83d!""#), Node::String("\u{FFFD}!".into()));
    }

    #[test]
    fn rejects_what_jackson_rejects() {
        for bad in [
            "{",
            "[1,]",
            "01",
            "1.",
            "-",
            "+1",
            "NaN",
            "'a'",
            "{\"a\" 1}",
            "\"a\nb\"",
            "tru",
            "truex",
            "123abc",
            "[1 2]",
            "\"\\x\"",
            "{a:1}",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"\xff").is_err());
    }

    #[test]
    fn empty_input_is_missing_and_bom_is_skipped() {
        assert_eq!(parse(b"  \n").unwrap().root, None);
        assert_eq!(
            parse(b"\xEF\xBB\xBF7").unwrap().root,
            Some(Node::Number(Number {
                text: "7",
                integral: true
            }))
        );
    }

    #[test]
    fn nesting_is_limited() {
        let deep = "[".repeat(1001) + &"]".repeat(1001);
        assert!(parse(deep.as_bytes())
            .unwrap_err()
            .contains("nesting depth"));
        let ok = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse(ok.as_bytes()).is_ok());
    }
}
