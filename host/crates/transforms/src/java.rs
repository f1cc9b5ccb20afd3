//! Java behaviours the built-ins reproduce: `Double.toString`, `java.util.regex` patterns run on
//! the `regex` crate, and `Matcher.replaceFirst`'s replacement syntax.
//!
//! ## Regex differences
//! Patterns are compiled with the `regex` crate. It has no look-around, back-references,
//! possessive quantifiers or atomic groups: such patterns are refused at configure time with the
//! regex crate's message. `\Q…\E` quoting is translated. Classes such as `\w` and `\d` are
//! Unicode-aware in the `regex` crate but ASCII-only in Java; topic names are ASCII, so this does
//! not change what Kafka's routing and predicates match.

use regex::Regex;

/// `Double.toString`: shortest digits, plain notation for 10⁻³ ≤ |x| < 10⁷, else `d.dddE±n`.
pub(crate) fn double_to_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_decimal_text(format!("{value:e}"), value == 0.0, value.abs())
}

/// `Float.toString`, the same rules with `float` precision.
pub(crate) fn float_to_string(value: f32) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_decimal_text(format!("{value:e}"), value == 0.0, value.abs() as f64)
}

/// Rewrites Rust's shortest scientific text (`-1.25e3`) in Java's notation.
fn java_decimal_text(scientific: String, is_zero: bool, magnitude: f64) -> String {
    let (negative, body) = match scientific.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, scientific.as_str()),
    };
    let sign = if negative { "-" } else { "" };
    if is_zero {
        return format!("{sign}0.0");
    }
    let (mantissa, exponent) = body.split_once('e').unwrap_or((body, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (1e-3..1e7).contains(&magnitude) {
        if exponent >= 0 {
            let point = exponent as usize + 1;
            let (int_part, frac_part) = if digits.len() > point {
                (digits[..point].to_string(), digits[point..].to_string())
            } else {
                (
                    format!("{digits}{}", "0".repeat(point - digits.len())),
                    "0".to_string(),
                )
            };
            format!("{sign}{int_part}.{frac_part}")
        } else {
            let zeros = "0".repeat((-exponent - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// Compiles a Java regex for `find`-style use; the error is the regex crate's explanation.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&translate_quoting(pattern)).map_err(|e| e.to_string())
}

/// Compiles a Java regex for `Matcher.matches()` (the whole input must match).
pub(crate) fn compile_full_match(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{})$", translate_quoting(pattern))).map_err(|e| e.to_string())
}

/// Replaces Java's `\Q…\E` literal sections by escaped text.
fn translate_quoting(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("\\Q") {
        // A `\\Q` is an escaped backslash followed by Q, not a quote start.
        let backslashes = rest[..start]
            .chars()
            .rev()
            .take_while(|c| *c == '\\')
            .count();
        if backslashes % 2 == 1 {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let quoted = &rest[start + 2..];
        let (literal, after) = match quoted.find("\\E") {
            Some(end) => (&quoted[..end], &quoted[end + 2..]),
            None => (quoted, ""),
        };
        out.push_str(&regex::escape(literal));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One piece of a Java replacement string.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Group(usize),
    Named(String),
}

/// A `Matcher.replaceFirst` replacement, checked against the regex it is used with.
#[derive(Clone, Debug)]
pub(crate) struct JavaReplacement {
    pieces: Vec<Piece>,
}

impl JavaReplacement {
    /// Parses `$n`, `${name}` and `\x` the way Java does. Java reports a bad group reference
    /// only when a topic first matches; here it is a configure-time error.
    pub fn parse(replacement: &str, regex: &Regex) -> Result<JavaReplacement, String> {
        let group_count = regex.captures_len() - 1;
        let chars: Vec<char> = replacement.chars().collect();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\\' => {
                    let escaped = chars
                        .get(i + 1)
                        .ok_or("character to be escaped is missing")?;
                    text.push(*escaped);
                    i += 2;
                }
                '$' => {
                    let next = chars
                        .get(i + 1)
                        .ok_or("Illegal group reference: group index is missing")?;
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    if *next == '{' {
                        let close = chars[i + 2..]
                            .iter()
                            .position(|c| *c == '}')
                            .ok_or("named capturing group is missing trailing '}'")?;
                        let name: String = chars[i + 2..i + 2 + close].iter().collect();
                        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                            && name.chars().all(|c| c.is_ascii_alphanumeric());
                        if !valid {
                            return Err(format!(
                                "named capturing group has 0 length name or an illegal character: {name}"
                            ));
                        }
                        if !regex.capture_names().flatten().any(|n| n == name) {
                            return Err(format!("No group with name {{{name}}}"));
                        }
                        pieces.push(Piece::Named(name));
                        i += 3 + close;
                    } else if let Some(first) = next.to_digit(10) {
                        let mut number = first as usize;
                        i += 2;
                        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                            let longer = number * 10 + d as usize;
                            if longer > group_count {
                                break;
                            }
                            number = longer;
                            i += 1;
                        }
                        if number > group_count {
                            return Err(format!("No group {number}"));
                        }
                        pieces.push(Piece::Group(number));
                    } else {
                        return Err("Illegal group reference".into());
                    }
                }
                c => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(JavaReplacement { pieces })
    }

    /// `Matcher.replaceFirst`: replaces the first match of `regex` in `input`.
    pub fn replace_first(&self, regex: &Regex, input: &str) -> String {
        let Some(captures) = regex.captures(input) else {
            return input.to_string();
        };
        let whole = captures.get(0).map(|m| m.range()).unwrap_or(0..0);
        let mut out = String::with_capacity(input.len() + 16);
        out.push_str(&input[..whole.start]);
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Group(n) => {
                    if let Some(m) = captures.get(*n) {
                        out.push_str(m.as_str());
                    }
                }
                Piece::Named(name) => {
                    if let Some(m) = captures.name(name) {
                        out.push_str(m.as_str());
                    }
                }
            }
        }
        out.push_str(&input[whole.end..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        let cases = [
            (1.0, "1.0"),
            (-0.5, "-0.5"),
            (123456.789, "123456.789"),
            (1.0e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (0.0, "0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(double_to_string(value), expected);
        }
        assert_eq!(float_to_string(3.4), "3.4");
        assert_eq!(float_to_string(1.0e10), "1.0E10");
    }

    #[test]
    fn replacement_follows_java_group_syntax() {
        let regex = compile_regex("(?<db>[a-z]+)\\.(\\w+)").unwrap();
        let cases = [
            ("$2-$1", "users-app"),
            ("${db}_$2", "app_users"),
            ("\\$1", "$1"),
            ("$10", "app0"), // Java reads the longest group number that exists
        ];
        for (replacement, expected) in cases {
            let parsed = JavaReplacement::parse(replacement, &regex).unwrap();
            assert_eq!(parsed.replace_first(&regex, "app.users"), expected);
        }
        assert_eq!(
            JavaReplacement::parse("$3", &regex).unwrap_err(),
            "No group 3"
        );
        assert!(JavaReplacement::parse("x$", &regex).is_err());
        assert!(JavaReplacement::parse("${nope}", &regex).is_err());
    }

    #[test]
    fn quoted_sections_are_literal() {
        let regex = compile_full_match("\\Qa.b\\E-(.*)").unwrap();
        assert!(regex.is_match("a.b-x"));
        assert!(!regex.is_match("axb-x"));
    }
}
