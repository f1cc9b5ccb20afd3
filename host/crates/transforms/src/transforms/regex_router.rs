//! `RegexRouter`: when the whole topic matches `regex`, the topic becomes
//! `Matcher.replaceFirst(replacement)` (Java's `$1` / `${name}` syntax; see the `java` module).

use super::prelude::*;
use crate::java::{compile_full_match, compile_regex, JavaReplacement};
use regex::Regex;
use std::collections::HashMap;

/// How many topics' routes are remembered: a connector sees few topics, and matching a regex per
/// record costs more than the rest of the chain.
const ROUTE_CACHE_SIZE: usize = 1024;

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
        routes: HashMap::new(),
        last: None,
    }))
}

struct RegexRouter {
    full_match: Regex,
    search: Regex,
    replacement: JavaReplacement,
    /// Topic → new topic (`None`: not rerouted).
    routes: HashMap<String, Option<RString>>,
    /// The last topic seen and its route: consecutive records usually share a topic.
    last: Option<(RString, Option<RString>)>,
}

impl RegexRouter {
    fn route(&self, topic: &str) -> Option<RString> {
        if self.full_match.is_match(topic) {
            let routed = self.replacement.replace_first(&self.search, topic);
            log::trace!("Rerouting from topic '{topic}' to new topic '{routed}'");
            Some(routed.into())
        } else {
            None
        }
    }
}

impl Transformation for RegexRouter {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        if let Some((topic, routed)) = &self.last {
            if *topic == record.topic {
                if let Some(routed) = routed {
                    // Rewritten in place: the record's own buffer usually fits the new name, so
                    // no allocation is needed.
                    record.topic.clear();
                    record.topic.push_str(routed);
                }
                return Ok(Verdict::Keep);
            }
        }
        let routed = match self.routes.get(record.topic.as_str()) {
            Some(routed) => routed.clone(),
            None => {
                let routed = self.route(&record.topic);
                if self.routes.len() >= ROUTE_CACHE_SIZE {
                    self.routes.clear();
                }
                self.routes.insert(record.topic.to_string(), routed.clone());
                routed
            }
        };
        let original = match routed.clone() {
            Some(topic) => std::mem::replace(&mut record.topic, topic),
            None => record.topic.clone(),
        };
        self.last = Some((original, routed));
        Ok(Verdict::Keep)
    }
}
