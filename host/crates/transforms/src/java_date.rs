//! The subset of Java's `SimpleDateFormat` that Kafka's transforms are configured with, always in
//! UTC (as `TimestampConverter` and `TimestampRouter` set it).
//!
//! Supported letters: `y` (any count but 2), `M`/`L` (numbers, `MMM` short and `MMMM` full English
//! names), `d`, `H`, `h`, `m`, `s`, `S` (milliseconds, as Java counts them), `a`, `E`, `Z` and
//! `X`/`XX`/`XXX`, plus quoted text (`'T'`, `''`) and any non-letter. Other Java letters (`G`,
//! `Y`, `w`, `W`, `D`, `F`, `u`, `k`, `K`, `z`, `yy`) are refused when the pattern is compiled,
//! naming the pattern and the letter.
//!
//! Parsing follows Java's defaults: lenient (month 13 rolls into the next year), fields missing
//! from the pattern are taken from 1970-01-01T00:00:00.000Z, text after the pattern is ignored, and
//! adjacent numeric fields (`yyyyMMdd`) take exactly their letter count of digits.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Literal(String),
    Field(char, usize),
}

/// A compiled `SimpleDateFormat` pattern.
#[derive(Clone, Debug)]
pub struct JavaDateFormat {
    pattern: String,
    items: Vec<Item>,
}

fn is_numeric_field(item: &Item) -> bool {
    match item {
        Item::Field('M' | 'L', count) => *count <= 2,
        Item::Field(c, _) => matches!(c, 'y' | 'd' | 'H' | 'h' | 'm' | 's' | 'S'),
        Item::Literal(_) => false,
    }
}

impl JavaDateFormat {
    /// Compiles a pattern; the error names the pattern and what is wrong with it.
    pub fn compile(pattern: &str) -> Result<JavaDateFormat, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items: Vec<Item> = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(format!("Unterminated quote in pattern '{pattern}'")),
                        Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                            literal.push('\'');
                            j += 2;
                        }
                        Some('\'') => break,
                        Some(&other) => {
                            literal.push(other);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
                continue;
            }
            if !c.is_ascii_alphabetic() {
                literal.push(c);
                i += 1;
                continue;
            }
            let mut count = 1;
            while chars.get(i + count) == Some(&c) {
                count += 1;
            }
            let unsupported = |what: &str| {
                Err(format!(
                    "pattern '{pattern}' uses '{}' ({what}), which kconnect does not support",
                    c.to_string().repeat(count)
                ))
            };
            match c {
                'y' if count == 2 => return unsupported("two-digit year"),
                'y' | 'M' | 'L' | 'd' | 'H' | 'h' | 'm' | 's' | 'S' | 'a' | 'E' | 'Z' => {}
                'X' if count <= 3 => {}
                'X' => {
                    return Err(format!(
                        "invalid ISO 8601 format in pattern '{pattern}': length={count}"
                    ))
                }
                'G' => return unsupported("era"),
                'Y' => return unsupported("week year"),
                'w' | 'W' => return unsupported("week number"),
                'D' => return unsupported("day in year"),
                'F' | 'u' => return unsupported("day of week number"),
                'k' | 'K' => return unsupported("hour variant"),
                'z' => return unsupported("time zone name"),
                _ => {
                    return Err(format!(
                        "Illegal pattern character '{c}' in pattern '{pattern}'"
                    ))
                }
            }
            if !literal.is_empty() {
                items.push(Item::Literal(std::mem::take(&mut literal)));
            }
            items.push(Item::Field(c, count));
            i += count;
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(JavaDateFormat {
            pattern: pattern.to_string(),
            items,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Formats milliseconds since the epoch, in UTC.
    pub fn format(&self, epoch_millis: i64) -> String {
        let time = DateTime::<Utc>::from_timestamp_millis(epoch_millis)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .naive_utc();
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Literal(text) => out.push_str(text),
                Item::Field(c, count) => {
                    let count = *count;
                    match c {
                        'y' => {
                            // Java prints the year of era: 1 BC is year 1.
                            let year = time.year();
                            let year = if year > 0 { year } else { 1 - year };
                            push_padded(&mut out, year as i64, count);
                        }
                        'M' | 'L' => match count {
                            1 | 2 => push_padded(&mut out, time.month() as i64, count),
                            3 => out.push_str(&MONTHS[time.month0() as usize][..3]),
                            _ => out.push_str(MONTHS[time.month0() as usize]),
                        },
                        'd' => push_padded(&mut out, time.day() as i64, count),
                        'H' => push_padded(&mut out, time.hour() as i64, count),
                        'h' => {
                            let hour = time.hour() % 12;
                            push_padded(&mut out, if hour == 0 { 12 } else { hour } as i64, count)
                        }
                        'm' => push_padded(&mut out, time.minute() as i64, count),
                        's' => push_padded(&mut out, time.second() as i64, count),
                        'S' => push_padded(
                            &mut out,
                            (time.nanosecond() / 1_000_000).min(999) as i64,
                            count,
                        ),
                        'a' => out.push_str(if time.hour() < 12 { "AM" } else { "PM" }),
                        'E' => {
                            let day = DAYS[time.weekday().num_days_from_monday() as usize];
                            out.push_str(if count <= 3 { &day[..3] } else { day });
                        }
                        'Z' => out.push_str("+0000"),
                        'X' => out.push('Z'),
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// Parses text into milliseconds since the epoch.
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        let fail = |at: usize| {
            format!(
                "value ({text}) does not match pattern ({}) at position {at}",
                self.pattern
            )
        };
        let bytes: Vec<char> = text.chars().collect();
        let mut pos = 0usize;
        let mut year: i64 = 1970;
        let mut month: i64 = 1;
        let mut day: i64 = 1;
        let mut hour: i64 = 0;
        let mut hour12: Option<i64> = None;
        let mut pm: Option<bool> = None;
        let mut minute: i64 = 0;
        let mut second: i64 = 0;
        let mut millis: i64 = 0;
        let mut offset_seconds: i64 = 0;
        for (index, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(expected) => {
                    for e in expected.chars() {
                        if bytes.get(pos) != Some(&e) {
                            return Err(fail(pos));
                        }
                        pos += 1;
                    }
                }
                Item::Field(c, count) if is_numeric_field(item) => {
                    let abutting = self.items.get(index + 1).is_some_and(is_numeric_field);
                    let max = if abutting { *count } else { usize::MAX };
                    let start = pos;
                    let mut number: i64 = 0;
                    while pos < bytes.len() && pos - start < max && bytes[pos].is_ascii_digit() {
                        number = number
                            .saturating_mul(10)
                            .saturating_add(bytes[pos].to_digit(10).unwrap_or(0) as i64);
                        pos += 1;
                    }
                    if pos == start {
                        return Err(fail(pos));
                    }
                    match c {
                        'y' => year = number,
                        'M' | 'L' => month = number,
                        'd' => day = number,
                        'H' => hour = number,
                        'h' => hour12 = Some(number),
                        'm' => minute = number,
                        's' => second = number,
                        'S' => millis = number,
                        _ => {}
                    }
                }
                Item::Field('M' | 'L', _) => {
                    let rest: String = bytes[pos..].iter().collect();
                    let found = MONTHS.iter().enumerate().find_map(|(i, name)| {
                        [*name, &name[..3]]
                            .into_iter()
                            .find(|candidate| starts_with_ignore_case(&rest, candidate))
                            .map(|candidate| (i, candidate.chars().count()))
                    });
                    let (i, len) = found.ok_or_else(|| fail(pos))?;
                    month = i as i64 + 1;
                    pos += len;
                }
                Item::Field('E', _) => {
                    let rest: String = bytes[pos..].iter().collect();
                    let len = DAYS
                        .iter()
                        .flat_map(|name| [*name, &name[..3]])
                        .find(|candidate| starts_with_ignore_case(&rest, candidate))
                        .map(|candidate| candidate.chars().count())
                        .ok_or_else(|| fail(pos))?;
                    pos += len;
                }
                Item::Field('a', _) => {
                    let rest: String = bytes[pos..].iter().collect();
                    if starts_with_ignore_case(&rest, "AM") {
                        pm = Some(false);
                    } else if starts_with_ignore_case(&rest, "PM") {
                        pm = Some(true);
                    } else {
                        return Err(fail(pos));
                    }
                    pos += 2;
                }
                Item::Field('Z' | 'X', _) => {
                    let (seconds, len) = parse_offset(&bytes[pos..]).ok_or_else(|| fail(pos))?;
                    offset_seconds = seconds;
                    pos += len;
                }
                Item::Field(..) => return Err(fail(pos)),
            }
        }
        if let Some(h) = hour12 {
            hour = h % 12 + if pm == Some(true) { 12 } else { 0 };
        } else if pm == Some(true) && hour < 12 {
            hour += 12;
        }
        lenient_epoch_millis(
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
            offset_seconds,
        )
        .ok_or_else(|| {
            format!(
                "value ({text}) is out of range for pattern ({})",
                self.pattern
            )
        })
    }
}

fn push_padded(out: &mut String, value: i64, width: usize) {
    let digits = value.to_string();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// `Z`, `UTC`, `GMT`, `+hh`, `+hhmm` or `+hh:mm`; returns the offset in seconds and the length.
fn parse_offset(text: &[char]) -> Option<(i64, usize)> {
    let s: String = text.iter().take(6).collect();
    if s.starts_with('Z') {
        return Some((0, 1));
    }
    if s.starts_with("UTC") || s.starts_with("GMT") {
        return Some((0, 3));
    }
    let sign = match text.first()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digit = |i: usize| text.get(i).and_then(|c| c.to_digit(10)).map(|d| d as i64);
    let hours = digit(1)? * 10 + digit(2)?;
    let (minutes, len) = match (text.get(3), digit(3)) {
        (Some(':'), _) => (digit(4)? * 10 + digit(5)?, 6),
        (_, Some(d)) => (d * 10 + digit(4)?, 5),
        _ => (0, 3),
    };
    Some((sign * (hours * 3600 + minutes * 60), len))
}

/// Java's lenient calendar: out-of-range fields roll over into the next larger one.
#[allow(clippy::too_many_arguments)]
fn lenient_epoch_millis(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
    offset_seconds: i64,
) -> Option<i64> {
    let months = year.checked_mul(12)?.checked_add(month - 1)?;
    let (year, month0) = (months.div_euclid(12), months.rem_euclid(12));
    let first = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month0 as u32 + 1, 1)?;
    let date = first.checked_add_signed(Duration::try_days(day - 1)?)?;
    let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    let seconds = hour
        .checked_mul(3600)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)?
        .checked_sub(offset_seconds)?;
    midnight
        .checked_add(seconds.checked_mul(1000)?)?
        .checked_add(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MILLIS_2024_03_05_07_08_09_010: i64 = 1_709_622_489_010;

    #[test]
    fn formats_common_patterns_in_utc() {
        let cases = [
            ("yyyyMMdd", "20240305"),
            ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2024-03-05T07:08:09.010+0000"),
            ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-03-05T07:08:09.010Z"),
            ("dd MMM yyyy hh:mm a", "05 Mar 2024 07:08 AM"),
            ("EEEE, MMMM d", "Tuesday, March 5"),
            ("'at' HH''mm", "at 07'08"),
            ("S", "10"),
        ];
        for (pattern, expected) in cases {
            let format = JavaDateFormat::compile(pattern).unwrap();
            assert_eq!(
                format.format(MILLIS_2024_03_05_07_08_09_010),
                expected,
                "{pattern}"
            );
        }
    }

    #[test]
    fn parses_what_it_formats_and_java_leniency() {
        let format = JavaDateFormat::compile("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap();
        assert_eq!(
            format.parse("2024-03-05T07:08:09.010Z").unwrap(),
            MILLIS_2024_03_05_07_08_09_010
        );
        assert_eq!(
            format.parse("2024-03-05T09:08:09.010+02:00").unwrap(),
            MILLIS_2024_03_05_07_08_09_010
        );
        let abutting = JavaDateFormat::compile("yyyyMMddHHmmss").unwrap();
        assert_eq!(
            abutting.parse("20240305070809").unwrap(),
            MILLIS_2024_03_05_07_08_09_010 - 10
        );
        // Month 13 of 2023 is January 2024; trailing text is ignored, as Java does.
        let lenient = JavaDateFormat::compile("yyyy-MM-dd").unwrap();
        assert_eq!(
            lenient.parse("2023-13-01 trailing").unwrap(),
            lenient.parse("2024-01-01").unwrap()
        );
        assert!(lenient.parse("2024/01/01").is_err());
    }

    #[test]
    fn unsupported_letters_are_refused_naming_the_pattern() {
        let error = JavaDateFormat::compile("yy-DDD").unwrap_err();
        assert!(
            error.contains("'yy-DDD'") && error.contains("'yy'"),
            "{error}"
        );
        let error = JavaDateFormat::compile("yyyy-DDD").unwrap_err();
        assert!(error.contains("'DDD'"), "{error}");
        assert!(JavaDateFormat::compile("yyyy-bb")
            .unwrap_err()
            .contains("Illegal pattern character 'b'"));
        assert!(JavaDateFormat::compile("yyyy'T")
            .unwrap_err()
            .contains("Unterminated quote"));
    }
}
