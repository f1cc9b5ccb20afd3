//! `Filter`: drops every record it is applied to; meant to be used with a predicate.

use super::prelude::*;

pub(crate) const DOC: &str = "Drops all records, filtering them from subsequent transformations in the chain. This is intended to be used conditionally to filter out records matching (or not matching) a particular Predicate.";

pub(crate) fn specs() -> Vec<Spec> {
    Vec::new()
}

pub(crate) fn configure(_settings: &Settings) -> Result<Box<dyn Transformation>, TransformError> {
    Ok(Box::new(Filter))
}

struct Filter;

impl Transformation for Filter {
    fn apply(&mut self, _record: &mut ConnectRecord) -> TransformResult {
        Ok(Verdict::Discard)
    }
}
