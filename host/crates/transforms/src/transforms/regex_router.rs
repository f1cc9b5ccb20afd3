//! `RegexRouter`: when the whole topic matches `regex`, the topic becomes
//! `Matcher.replaceFirst(replacement)` (Java's `$1` / `${name}` syntax; see [`crate::java`]).

use super::prelude::*;
use crate::java::{compile_full_match, compile_regex, JavaReplacement};
use regex::Regex;

pub(crate) const DOC: &str =
    "Update the record topic using the configured regular expression and replacement string.";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required(
            "regex",
            ConfigType::String,
            "Regular expression to use for matching.",
        )
        .importance(Importance::High),
        Spec::required("replacement", ConfigType::String, "Replacement string.")
            .importance(Importance::High),
    ]
}

pub(crate) fn configure(settings: &Settings) -> Result<Box<dyn Transformation>, TransformError> {
    let pattern = settings.string("regex")?;
    let invalid = |e: String| settings.invalid("regex", &pattern, &format!("Invalid regex: {e}"));
    let full_match = compile_full_match(&pattern).map_err(invalid)?;
    let search = compile_regex(&pattern).map_err(invalid)?;
    let text = settings.string("replacement")?;
    let replacement = JavaReplacement::parse(&text, &search)
        .map_err(|e| settings.invalid("replacement", &text, &e))?;
    Ok(Box::new(RegexRouter {
        full_match,
        search,
        replacement,
    }))
}

struct RegexRouter {
    full_match: Regex,
    search: Regex,
    replacement: JavaReplacement,
}

impl Transformation for RegexRouter {
    fn apply(&mut self, mut record: ConnectRecord) -> TransformResult {
        if self.full_match.is_match(&record.topic) {
            let topic = self.replacement.replace_first(&self.search, &record.topic);
            log::trace!(
                "Rerouting from topic '{}' to new topic '{topic}'",
                record.topic
            );
            record.topic = topic.into();
        }
        Ok(Some(record))
    }
}
