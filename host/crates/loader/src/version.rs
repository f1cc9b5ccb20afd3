//! Plugin versions: ordering, and the requirements a config may pin (Kafka's KIP-891
//! `connector.plugin.version`, `*.plugin.version`).
//!
//! Ordering is semver-like without being strict about it, because plugin authors write what they
//! write: the part before the first `-` is split on `.` and compared segment by segment, numbers
//! numerically and missing segments as 0 (so `1.0` equals `1.0.0`); a version with a `-`
//! qualifier comes before the same version without one (`1.0-rc1` < `1.0`); qualifiers compare
//! segment by segment the same way, words with numbers in them by those numbers (`rc2` < `rc10`).
//! Build metadata after `+` is ignored.

use crate::error::LoaderError;
use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Number(u64),
    Text(&'a str),
}

impl Ord for Segment<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Segment::Number(a), Segment::Number(b)) => a.cmp(b),
            (Segment::Text(a), Segment::Text(b)) => natural_order(a, b),
            // A number outranks a word in the same position: `1.1` > `1.beta`.
            (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
            (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
        }
    }
}

impl PartialOrd for Segment<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares words with embedded numbers by those numbers: `rc2` < `rc10`.
fn natural_order(a: &str, b: &str) -> Ordering {
    fn runs(text: &str) -> Vec<&str> {
        let mut runs = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices().skip(1) {
            let previous = text[..i]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_ascii_digit());
            if previous != c.is_ascii_digit() {
                runs.push(&text[start..i]);
                start = i;
            }
        }
        runs.push(&text[start..]);
        runs
    }
    let (a_runs, b_runs) = (runs(a), runs(b));
    for (x, y) in a_runs.iter().zip(&b_runs) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a_runs.len().cmp(&b_runs.len())
}

fn segments(part: &str) -> Vec<Segment<'_>> {
    part.split('.')
        .map(|s| match s.parse::<u64>() {
            Ok(n) => Segment::Number(n),
            Err(_) => Segment::Text(s),
        })
        .collect()
}

fn compare_segments(a: &[Segment<'_>], b: &[Segment<'_>]) -> Ordering {
    let zero = Segment::Number(0);
    for i in 0..a.len().max(b.len()) {
        let left = a.get(i).unwrap_or(&zero);
        let right = b.get(i).unwrap_or(&zero);
        match left.cmp(right) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

/// Orders two plugin versions (see the module docs).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let strip = |v: &'_ str| -> (String, Option<String>) {
        let v = v.trim();
        let v = v.split('+').next().unwrap_or(v);
        match v.split_once('-') {
            Some((release, qualifier)) => (release.to_string(), Some(qualifier.to_string())),
            None => (v.to_string(), None),
        }
    };
    let (a_release, a_qualifier) = strip(a);
    let (b_release, b_qualifier) = strip(b);
    compare_segments(&segments(&a_release), &segments(&b_release)).then_with(|| {
        match (&a_qualifier, &b_qualifier) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => compare_segments(&segments(a), &segments(b)),
        }
    })
}

/// One end of a version range.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bound {
    version: String,
    inclusive: bool,
}

/// What a pinned version accepts: one version, or a Maven-style range as Kafka takes them
/// (`[1.0,2.0)`, `[1.0,)`, `(,2.0]`, `[1.0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequirement {
    lower: Option<Bound>,
    upper: Option<Bound>,
}

impl VersionRequirement {
    /// Parses a version or a range.
    pub fn parse(spec: &str) -> Result<VersionRequirement, LoaderError> {
        let invalid = |reason: &str| LoaderError::InvalidVersion {
            requested: spec.to_string(),
            reason: reason.to_string(),
        };
        let text = spec.trim();
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        let opens = text.starts_with('[') || text.starts_with('(');
        let closes = text.ends_with(']') || text.ends_with(')');
        if !opens && !closes {
            let exact = Bound {
                version: text.to_string(),
                inclusive: true,
            };
            return Ok(VersionRequirement {
                lower: Some(exact.clone()),
                upper: Some(exact),
            });
        }
        if !(opens && closes) || text.len() < 2 {
            return Err(invalid("a range starts with [ or ( and ends with ] or )"));
        }
        let lower_inclusive = text.starts_with('[');
        let upper_inclusive = text.ends_with(']');
        let inner = &text[1..text.len() - 1];
        let bound = |version: &str, inclusive: bool| {
            let version = version.trim();
            (!version.is_empty()).then(|| Bound {
                version: version.to_string(),
                inclusive,
            })
        };
        match inner.split_once(',') {
            None => {
                if !(lower_inclusive && upper_inclusive) || inner.trim().is_empty() {
                    return Err(invalid("a single version in a range is written [1.0]"));
                }
                let exact = bound(inner, true);
                Ok(VersionRequirement {
                    lower: exact.clone(),
                    upper: exact,
                })
            }
            Some((low, high)) => {
                if high.contains(',') {
                    return Err(invalid("only one range is supported"));
                }
                let requirement = VersionRequirement {
                    lower: bound(low, lower_inclusive),
                    upper: bound(high, upper_inclusive),
                };
                if requirement.lower.is_none() && requirement.upper.is_none() {
                    return Err(invalid("a range needs at least one bound"));
                }
                Ok(requirement)
            }
        }
    }

    /// Whether `version` satisfies the requirement.
    pub fn matches(&self, version: &str) -> bool {
        let above_lower = match &self.lower {
            None => true,
            Some(bound) => match compare_versions(version, &bound.version) {
                Ordering::Greater => true,
                Ordering::Equal => bound.inclusive,
                Ordering::Less => false,
            },
        };
        let below_upper = match &self.upper {
            None => true,
            Some(bound) => match compare_versions(version, &bound.version) {
                Ordering::Less => true,
                Ordering::Equal => bound.inclusive,
                Ordering::Greater => false,
            },
        };
        above_lower && below_upper
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_segments_compare_as_numbers() {
        assert_eq!(compare_versions("1.10.0", "1.9.3"), Ordering::Greater);
        assert_eq!(compare_versions("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("2", "10"), Ordering::Less);
        assert_eq!(compare_versions("1.0.0+build.7", "1.0.0"), Ordering::Equal);
    }

    #[test]
    fn a_qualified_version_precedes_its_release() {
        assert_eq!(compare_versions("1.0-rc1", "1.0"), Ordering::Less);
        assert_eq!(compare_versions("1.0-rc2", "1.0-rc10"), Ordering::Less);
        assert_eq!(compare_versions("1.1-SNAPSHOT", "1.0"), Ordering::Greater);
    }

    #[test]
    fn a_plain_version_pins_exactly() {
        let requirement = VersionRequirement::parse("1.2").unwrap();
        assert!(requirement.matches("1.2.0"));
        assert!(!requirement.matches("1.2.1"));
    }

    #[test]
    fn ranges_honour_their_brackets() {
        let half_open = VersionRequirement::parse("[1.0,2.0)").unwrap();
        assert!(half_open.matches("1.0"));
        assert!(half_open.matches("1.9.9"));
        assert!(!half_open.matches("2.0"));
        let at_most = VersionRequirement::parse("(,1.5]").unwrap();
        assert!(at_most.matches("0.1"));
        assert!(at_most.matches("1.5"));
        assert!(!at_most.matches("1.6"));
        let exact = VersionRequirement::parse("[3.1]").unwrap();
        assert!(exact.matches("3.1.0") && !exact.matches("3.2"));
    }

    #[test]
    fn malformed_requirements_are_rejected_with_a_reason() {
        for bad in ["", "[1.0", "1.0)", "(1.0)", "[,]", "[1,2],[3,4]"] {
            let error = VersionRequirement::parse(bad).unwrap_err();
            assert!(
                matches!(error, crate::LoaderError::InvalidVersion { .. }),
                "{bad}: {error}"
            );
        }
    }
}
