//! The built-in predicates: `TopicNameMatches`, `HasHeaderKey` and `RecordIsTombstone`.

use crate::config::{Settings, Spec};
use crate::error::TransformError;
use crate::java::compile_full_match;
use crate::Predicate;
use kconnect_plugin_api::{ConfigType, ConnectRecord, Validator};
use regex::Regex;

pub(crate) mod topic_name_matches {
    use super::*;

    pub(crate) const DOC: &str = "A predicate which is true for records with a topic name that matches the configured regular expression.";

    pub(crate) fn specs() -> Vec<Spec> {
        vec![Spec::required(
            "pattern",
            ConfigType::String,
            "A Java regular expression for matching against the name of a topic.",
        )
        .validator(Validator::NonEmptyString)]
    }

    pub(crate) fn configure(settings: &Settings) -> Result<Box<dyn Predicate>, TransformError> {
        let pattern = settings.string("pattern")?;
        let regex = compile_full_match(&pattern)
            .map_err(|e| settings.invalid("pattern", &pattern, &format!("Invalid regex: {e}")))?;
        Ok(Box::new(TopicNameMatches { regex }))
    }

    struct TopicNameMatches {
        regex: Regex,
    }

    impl Predicate for TopicNameMatches {
        fn test(&mut self, record: &ConnectRecord) -> Result<bool, TransformError> {
            Ok(self.regex.is_match(&record.topic))
        }
    }
}

pub(crate) mod has_header_key {
    use super::*;

    pub(crate) const DOC: &str =
        "A predicate which is true for records with at least one header with the configured name.";

    pub(crate) fn specs() -> Vec<Spec> {
        vec![
            Spec::required("name", ConfigType::String, "The header name.")
                .validator(Validator::NonEmptyString),
        ]
    }

    pub(crate) fn configure(settings: &Settings) -> Result<Box<dyn Predicate>, TransformError> {
        Ok(Box::new(HasHeaderKey {
            name: settings.string("name")?,
        }))
    }

    struct HasHeaderKey {
        name: String,
    }

    impl Predicate for HasHeaderKey {
        fn test(&mut self, record: &ConnectRecord) -> Result<bool, TransformError> {
            Ok(record.headers.iter().any(|h| *h.key == *self.name))
        }
    }
}

pub(crate) mod record_is_tombstone {
    use super::*;

    pub(crate) const DOC: &str =
        "A predicate which is true for records which are tombstones (i.e. have null value).";

    pub(crate) fn specs() -> Vec<Spec> {
        Vec::new()
    }

    pub(crate) fn configure(_settings: &Settings) -> Result<Box<dyn Predicate>, TransformError> {
        Ok(Box::new(RecordIsTombstone))
    }

    struct RecordIsTombstone;

    impl Predicate for RecordIsTombstone {
        fn test(&mut self, record: &ConnectRecord) -> Result<bool, TransformError> {
            Ok(record.value.is_null())
        }
    }
}
