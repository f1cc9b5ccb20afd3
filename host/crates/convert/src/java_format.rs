//! Text forms that must match what the JVM prints, because Kafka's converters write them:
//! `Double.toString`/`Float.toString` (shortest round-tripping digits, `1.0E10` style exponents),
//! `java.util.Date.toString` and the ISO-8601 patterns of Kafka's `Values`.
//!
//! Dates use the proleptic Gregorian calendar in UTC; the JVM switches to the Julian calendar
//! before 1582-10-15 and uses its default time zone, which for a Connect worker is normally UTC.

pub(crate) const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// Java's `Double.toString(value)`.
pub(crate) fn java_double_string(value: f64) -> String {
    let mut out = Vec::new();
    push_java_double(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

/// Java's `Float.toString(value)`.
pub(crate) fn java_float_string(value: f32) -> String {
    let mut out = Vec::new();
    push_java_float(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends Java's `Double.toString(value)`.
pub(crate) fn push_java_double(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() || value == 0.0 {
        out.extend_from_slice(
            non_finite_or_zero(value.is_nan(), value.is_sign_negative(), value == 0.0).as_bytes(),
        );
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value);
    let mut decimal = ShortestDecimal::parse(shortest);
    if decimal.digits.len() == 1 && value.is_subnormal() {
        // Java prints at least two significant digits and picks the closest such decimal, which
        // for the least precise subnormals differs from the one-digit shortest form.
        decimal = ShortestDecimal::parse(&format!("{value:.1e}"));
    }
    decimal.push_java(out);
}

/// Appends Java's `Float.toString(value)`.
pub(crate) fn push_java_float(out: &mut Vec<u8>, value: f32) {
    if !value.is_finite() || value == 0.0 {
        out.extend_from_slice(
            non_finite_or_zero(value.is_nan(), value.is_sign_negative(), value == 0.0).as_bytes(),
        );
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value);
    let mut decimal = ShortestDecimal::parse(shortest);
    if decimal.digits.len() == 1 && value.is_subnormal() {
        decimal = ShortestDecimal::parse(&format!("{value:.1e}"));
    }
    decimal.push_java(out);
}

fn non_finite_or_zero(nan: bool, negative: bool, zero: bool) -> &'static str {
    match (nan, negative, zero) {
        (true, _, _) => "NaN",
        (false, false, true) => "0.0",
        (false, true, true) => "-0.0",
        (false, false, false) => "Infinity",
        (false, true, false) => "-Infinity",
    }
}

/// `±0.d1d2…dn × 10^point`, digits without leading or trailing zeros.
struct ShortestDecimal {
    negative: bool,
    digits: Vec<u8>,
    point: i32,
}

impl ShortestDecimal {
    /// Reads any plain or `e`-exponent rendering of a finite, non-zero number.
    fn parse(text: &str) -> ShortestDecimal {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (
                &unsigned[..at],
                unsigned[at + 1..].parse::<i32>().unwrap_or(0),
            ),
            None => (unsigned, 0),
        };
        let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let mut digits: Vec<u8> = integer.bytes().chain(fraction.bytes()).collect();
        let mut point = integer.len() as i32 + exponent;
        let leading_zeros = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading_zeros);
        point -= leading_zeros as i32;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            digits.push(b'0');
        }
        ShortestDecimal {
            negative,
            digits,
            point,
        }
    }

    fn push_java(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        let digits = self.digits.as_slice();
        let count = digits.len() as i32;
        let exponent = self.point - 1;
        if (-3..7).contains(&exponent) {
            if self.point <= 0 {
                out.extend_from_slice(b"0.");
                out.extend(std::iter::repeat_n(b'0', (-self.point) as usize));
                out.extend_from_slice(digits);
            } else if self.point >= count {
                out.extend_from_slice(digits);
                out.extend(std::iter::repeat_n(b'0', (self.point - count) as usize));
                out.extend_from_slice(b".0");
            } else {
                let split = self.point as usize;
                out.extend_from_slice(&digits[..split]);
                out.push(b'.');
                out.extend_from_slice(&digits[split..]);
            }
        } else {
            out.push(digits[0]);
            out.push(b'.');
            if count > 1 {
                out.extend_from_slice(&digits[1..]);
            } else {
                out.push(b'0');
            }
            out.push(b'E');
            out.extend_from_slice(itoa::Buffer::new().format(exponent).as_bytes());
        }
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) to days since 1970-01-01; months outside 1-12 and days outside the month
/// roll over, as `SimpleDateFormat`'s lenient parsing does.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = year + (month - 1).div_euclid(12);
    let month = (month - 1).rem_euclid(12) + 1;
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468 + (day - 1)
}

struct DateTime {
    year: i64,
    month: u32,
    day: u32,
    weekday: usize,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
}

fn date_time(epoch_millis: i64) -> DateTime {
    let days = epoch_millis.div_euclid(MILLIS_PER_DAY);
    let in_day = epoch_millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    DateTime {
        year,
        month,
        day,
        // 1970-01-01 was a Thursday; index 0 is Sunday.
        weekday: (days + 4).rem_euclid(7) as usize,
        hour: in_day / 3_600_000,
        minute: in_day / 60_000 % 60,
        second: in_day / 1000 % 60,
        millis: in_day % 1000,
    }
}

/// Java's `java.util.Date.toString()` in UTC, e.g. `Thu Jan 01 00:00:00 UTC 1970`.
pub(crate) fn java_date_to_string(epoch_millis: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = date_time(epoch_millis);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[t.weekday],
        MONTHS[(t.month - 1) as usize],
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.year
    )
}

/// Kafka's `Values.dateFormatFor(date).format(date)`: a time before one day past the epoch, a date
/// at a midnight, a timestamp otherwise.
pub(crate) fn values_date_format(epoch_millis: i64) -> String {
    let t = date_time(epoch_millis);
    if epoch_millis < MILLIS_PER_DAY {
        format!(
            "{:02}:{:02}:{:02}.{:03}Z",
            t.hour, t.minute, t.second, t.millis
        )
    } else if epoch_millis % MILLIS_PER_DAY == 0 {
        format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)
    } else {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(v: f64) -> String {
        java_double_string(v)
    }

    fn float(v: f32) -> String {
        java_float_string(v)
    }

    #[test]
    fn doubles_print_as_the_jvm_prints_them() {
        let cases = [
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1.0e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (1.0e23, "1.0E23"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "4.9E-324"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (100.0, "100.0"),
            (std::f64::consts::PI, "3.141592653589793"),
        ];
        for (value, expected) in cases {
            assert_eq!(double(value), expected, "{value:e}");
        }
    }

    #[test]
    fn floats_print_as_the_jvm_prints_them() {
        let cases = [
            (1.0f32, "1.0"),
            (0.1f32, "0.1"),
            (3.4028235e38f32, "3.4028235E38"),
            (1.4e-45f32, "1.4E-45"),
            (1.0e7f32, "1.0E7"),
            (123.456f32, "123.456"),
        ];
        for (value, expected) in cases {
            assert_eq!(float(value), expected, "{value:e}");
        }
    }

    #[test]
    fn calendar_conversions_agree() {
        for days in [-719_468i64, -1, 0, 1, 11_016, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m as i64, d as i64), days);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(days_from_civil(2023, 13, 1), days_from_civil(2024, 1, 1));
    }

    #[test]
    fn dates_print_as_java_and_kafka_values_do() {
        assert_eq!(java_date_to_string(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            java_date_to_string(1_704_164_645_123),
            "Tue Jan 02 03:04:05 UTC 2024"
        );
        assert_eq!(values_date_format(0), "00:00:00.000Z");
        assert_eq!(values_date_format(45_296_789), "12:34:56.789Z");
        assert_eq!(values_date_format(19_723 * MILLIS_PER_DAY), "2024-01-01");
        assert_eq!(
            values_date_format(1_704_164_645_123),
            "2024-01-02T03:04:05.123Z"
        );
    }
}
