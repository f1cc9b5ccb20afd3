//! Arbitrary-precision decimals, just enough for Connect's `Decimal`: the value is the unscaled
//! integer as big-endian two's-complement bytes (Java's `BigInteger.toByteArray`) plus a scale.
//!
//! [`BigDecimal`] keeps the unscaled integer as a sign and ASCII decimal digits without leading
//! zeros ("0" for zero), which is what both the text and the byte forms are converted through.

/// Longest unscaled integer accepted from text, in digits. Guards against inputs like `1e999999999`
/// turning into gigabytes of zeros.
const MAX_DIGITS: usize = 10_000;

/// A decimal number: `(-1)^negative * digits * 10^-scale`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BigDecimal {
    pub negative: bool,
    /// ASCII digits, no leading zeros; "0" for zero (then `negative` is false).
    pub digits: String,
    pub scale: i64,
}

impl BigDecimal {
    /// Parses Java's `BigDecimal` syntax: `[+-]digits[.digits][(e|E)[+-]digits]`, with digits on at
    /// least one side of the point. JSON numbers are a subset.
    pub fn parse(text: &str) -> Option<BigDecimal> {
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut negative = false;
        if let Some(&sign) = bytes.first() {
            if sign == b'-' || sign == b'+' {
                negative = sign == b'-';
                pos = 1;
            }
        }
        let mut digits = String::new();
        let mut fraction_digits: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while pos < bytes.len() {
            let b = bytes[pos];
            if b.is_ascii_digit() {
                seen_digit = true;
                if !(digits.is_empty() && b == b'0') {
                    digits.push(b as char);
                }
                if seen_point {
                    fraction_digits += 1;
                }
            } else if b == b'.' && !seen_point {
                seen_point = true;
            } else {
                break;
            }
            pos += 1;
        }
        if !seen_digit {
            return None;
        }
        let mut exponent: i64 = 0;
        if pos < bytes.len() {
            if bytes[pos] != b'e' && bytes[pos] != b'E' {
                return None;
            }
            let exponent_text = &text[pos + 1..];
            let unsigned = exponent_text
                .strip_prefix('+')
                .or_else(|| exponent_text.strip_prefix('-'))
                .unwrap_or(exponent_text);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Java limits the scale to an int; anything this large is out of range anyway.
            exponent = exponent_text.parse::<i64>().ok()?;
            if exponent.unsigned_abs() > i32::MAX as u64 {
                return None;
            }
        }
        if digits.len() > MAX_DIGITS {
            return None;
        }
        let zero = digits.is_empty();
        if zero {
            digits.push('0');
        }
        Some(BigDecimal {
            negative: negative && !zero,
            digits,
            scale: fraction_digits - exponent,
        })
    }

    /// The unscaled integer of a Connect `Decimal` (two's-complement big-endian bytes).
    pub fn from_unscaled_bytes(bytes: &[u8], scale: i64) -> BigDecimal {
        let (negative, digits) = twos_complement_to_decimal(bytes);
        BigDecimal {
            negative,
            digits,
            scale,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.digits == "0"
    }

    /// The same number with another scale, if no non-zero digit is lost.
    pub fn with_scale(&self, scale: i64) -> Option<BigDecimal> {
        if scale == self.scale || self.is_zero() {
            return Some(BigDecimal {
                scale,
                ..self.clone()
            });
        }
        if scale > self.scale {
            let extra = usize::try_from(scale - self.scale).ok()?;
            if self.digits.len() + extra > MAX_DIGITS {
                return None;
            }
            let mut digits = self.digits.clone();
            digits.push_str(&"0".repeat(extra));
            Some(BigDecimal {
                negative: self.negative,
                digits,
                scale,
            })
        } else {
            let drop = usize::try_from(self.scale - scale).ok()?;
            if drop > self.digits.len() {
                return None;
            }
            let (kept, dropped) = self.digits.split_at(self.digits.len() - drop);
            if !dropped.bytes().all(|b| b == b'0') || kept.is_empty() {
                return None;
            }
            Some(BigDecimal {
                negative: self.negative,
                digits: kept.to_string(),
                scale,
            })
        }
    }

    /// The integer value if the number has no fractional part and fits an `i64`.
    pub fn to_exact_i64(&self) -> Option<i64> {
        let integral = self.with_scale(0)?;
        let magnitude: i128 = if integral.digits.len() > 20 {
            return None;
        } else {
            integral.digits.parse::<i128>().ok()?
        };
        let signed = if integral.negative {
            -magnitude
        } else {
            magnitude
        };
        i64::try_from(signed).ok()
    }

    /// The unscaled integer as minimal two's-complement big-endian bytes.
    pub fn unscaled_bytes(&self) -> Vec<u8> {
        decimal_to_twos_complement(self.negative, &self.digits)
    }

    /// Java's `BigDecimal.toString()`: plain notation unless the scale is negative or the number is
    /// very small, then scientific notation with `E`.
    pub fn to_java_string(&self) -> String {
        let mut out = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        let digit_count = self.digits.len() as i64;
        let adjusted = -self.scale + (digit_count - 1);
        if self.scale >= 0 && adjusted >= -6 {
            if self.scale == 0 {
                out.push_str(&self.digits);
            } else if digit_count > self.scale {
                let point = (digit_count - self.scale) as usize;
                out.push_str(&self.digits[..point]);
                out.push('.');
                out.push_str(&self.digits[point..]);
            } else {
                out.push_str("0.");
                for _ in 0..(self.scale - digit_count) {
                    out.push('0');
                }
                out.push_str(&self.digits);
            }
        } else {
            out.push_str(&self.digits[..1]);
            if digit_count > 1 {
                out.push('.');
                out.push_str(&self.digits[1..]);
            }
            out.push('E');
            if adjusted > 0 {
                out.push('+');
            }
            out.push_str(&adjusted.to_string());
        }
        out
    }
}

/// Drops redundant sign bytes, as `BigInteger.toByteArray` would not write them.
pub(crate) fn minimal_twos_complement(bytes: &[u8]) -> &[u8] {
    let mut start = 0;
    while start + 1 < bytes.len() {
        let (first, next) = (bytes[start], bytes[start + 1]);
        let redundant = (first == 0x00 && next & 0x80 == 0) || (first == 0xFF && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    &bytes[start..]
}

/// Little-endian base-2^32 limbs of a magnitude.
type Limbs = Vec<u32>;

fn limbs_from_be_bytes(bytes: &[u8]) -> Limbs {
    let mut limbs = Vec::with_capacity(bytes.len() / 4 + 1);
    for chunk in bytes.rchunks(4) {
        let mut limb = 0u32;
        for &b in chunk {
            limb = (limb << 8) | b as u32;
        }
        limbs.push(limb);
    }
    trim(&mut limbs);
    limbs
}

fn trim(limbs: &mut Limbs) {
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
}

/// Divides in place, returning the remainder.
fn div_small(limbs: &mut Limbs, divisor: u32) -> u32 {
    let mut remainder: u64 = 0;
    for limb in limbs.iter_mut().rev() {
        let current = (remainder << 32) | *limb as u64;
        *limb = (current / divisor as u64) as u32;
        remainder = current % divisor as u64;
    }
    trim(limbs);
    remainder as u32
}

fn mul_add_small(limbs: &mut Limbs, multiplier: u32, addend: u32) {
    let mut carry = addend as u64;
    for limb in limbs.iter_mut() {
        let current = *limb as u64 * multiplier as u64 + carry;
        *limb = current as u32;
        carry = current >> 32;
    }
    if carry > 0 {
        limbs.push(carry as u32);
    }
}

/// Sign and decimal digits of a two's-complement big-endian integer (empty bytes are zero).
pub(crate) fn twos_complement_to_decimal(bytes: &[u8]) -> (bool, String) {
    let bytes = minimal_twos_complement(bytes);
    if bytes.is_empty() {
        return (false, "0".to_string());
    }
    if bytes.len() <= 16 {
        let fill = if bytes[0] & 0x80 != 0 { 0xFF } else { 0x00 };
        let mut wide = [fill; 16];
        wide[16 - bytes.len()..].copy_from_slice(bytes);
        let value = i128::from_be_bytes(wide);
        return (value < 0, value.unsigned_abs().to_string());
    }
    let negative = bytes[0] & 0x80 != 0;
    let magnitude_bytes: Vec<u8> = if negative {
        negate_be(bytes)
    } else {
        bytes.to_vec()
    };
    let mut limbs = limbs_from_be_bytes(&magnitude_bytes);
    let mut groups = Vec::new();
    while !limbs.is_empty() {
        groups.push(div_small(&mut limbs, 1_000_000_000));
    }
    let mut digits = String::new();
    for (i, group) in groups.iter().rev().enumerate() {
        if i == 0 {
            digits.push_str(&group.to_string());
        } else {
            digits.push_str(&format!("{group:09}"));
        }
    }
    if digits.is_empty() {
        digits.push('0');
    }
    (negative, digits)
}

/// Two's-complement negation of a big-endian number of fixed width.
fn negate_be(bytes: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = bytes.iter().map(|b| !b).collect();
    for byte in out.iter_mut().rev() {
        let (sum, overflow) = byte.overflowing_add(1);
        *byte = sum;
        if !overflow {
            break;
        }
    }
    out
}

/// Minimal two's-complement big-endian bytes of `±digits` (`BigInteger.toByteArray`).
pub(crate) fn decimal_to_twos_complement(negative: bool, digits: &str) -> Vec<u8> {
    if digits.len() <= 38 {
        if let Ok(magnitude) = digits.parse::<i128>() {
            let value = if negative { -magnitude } else { magnitude };
            return minimal_twos_complement(&value.to_be_bytes()).to_vec();
        }
    }
    let mut limbs: Limbs = Vec::new();
    for chunk in digits.as_bytes().chunks(9) {
        let mut group = 0u32;
        for &d in chunk {
            group = group * 10 + (d - b'0') as u32;
        }
        mul_add_small(&mut limbs, 10u32.pow(chunk.len() as u32), group);
    }
    trim(&mut limbs);
    let mut magnitude: Vec<u8> = limbs.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    let first_non_zero = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    magnitude.drain(..first_non_zero);
    if magnitude.is_empty() {
        return vec![0];
    }
    // One spare byte leaves room for the sign bit; the minimal form is cut out afterwards.
    magnitude.insert(0, 0);
    let bytes = if negative {
        negate_be(&magnitude)
    } else {
        magnitude
    };
    minimal_twos_complement(&bytes).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twos_complement_round_trips_through_decimal_text() {
        for value in [
            0i128,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            -256,
            i64::MIN as i128,
        ] {
            let bytes = decimal_to_twos_complement(value < 0, &value.unsigned_abs().to_string());
            assert_eq!(bytes, minimal_twos_complement(&value.to_be_bytes()));
            let (negative, digits) = twos_complement_to_decimal(&bytes);
            assert_eq!(
                (negative, digits),
                (value < 0, value.unsigned_abs().to_string())
            );
        }
    }

    #[test]
    fn wide_integers_use_the_limb_path() {
        let digits = "123456789012345678901234567890123456789012345678901234567890";
        for negative in [false, true] {
            let bytes = decimal_to_twos_complement(negative, digits);
            assert!(bytes.len() > 16);
            assert_eq!(
                twos_complement_to_decimal(&bytes),
                (negative, digits.to_string())
            );
        }
        // -2^135 needs exactly 17 bytes: 0x80 followed by zeros.
        let mut min = vec![0x80u8];
        min.extend([0u8; 16]);
        let (negative, digits) = twos_complement_to_decimal(&min);
        assert!(negative);
        assert_eq!(decimal_to_twos_complement(true, &digits), min);
    }

    #[test]
    fn java_big_decimal_strings() {
        let cases = [
            ("123", 0, "123"),
            ("12345", 2, "123.45"),
            ("5", 3, "0.005"),
            ("0", 2, "0.00"),
            ("0", -2, "0E+2"),
            ("123", -2, "1.23E+4"),
            ("1", 10, "1E-10"),
            ("1", 6, "0.000001"),
            ("1", 7, "1E-7"),
        ];
        for (digits, scale, expected) in cases {
            let d = BigDecimal {
                negative: false,
                digits: digits.to_string(),
                scale,
            };
            assert_eq!(d.to_java_string(), expected, "{digits} scale {scale}");
        }
        let negative = BigDecimal::parse("-1.50").unwrap();
        assert_eq!(negative.to_java_string(), "-1.50");
    }

    #[test]
    fn parsing_and_rescaling() {
        let d = BigDecimal::parse("12.5e1").unwrap();
        assert_eq!((d.digits.as_str(), d.scale), ("125", 0));
        assert_eq!(d.with_scale(2).unwrap().digits, "12500");
        assert_eq!(BigDecimal::parse("1.25").unwrap().with_scale(1), None);
        assert_eq!(BigDecimal::parse("1.0").unwrap().to_exact_i64(), Some(1));
        assert!(!BigDecimal::parse("-0.00").unwrap().negative);
        assert_eq!(
            BigDecimal::parse("9223372036854775808")
                .unwrap()
                .to_exact_i64(),
            None
        );
        for bad in ["", "-", ".", "1e", "1e+", "abc", "1.2.3", "1x"] {
            assert_eq!(BigDecimal::parse(bad), None, "{bad}");
        }
    }
}
