//! `DropHeaders`: removes every header whose key is listed.

use super::prelude::*;
use std::collections::HashSet;

pub(crate) const DOC: &str = "Removes one or more headers from each record.";

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec::required(
        "headers",
        ConfigType::List,
        "The name of the headers to be removed.",
    )
    .importance(Importance::High)
    .non_empty_list()]
}

pub(crate) fn configure(settings: &Settings) -> Result<Box<dyn Transformation>, TransformError> {
    Ok(Box::new(DropHeaders {
        headers: settings.list("headers")?.into_iter().collect(),
    }))
}

struct DropHeaders {
    headers: HashSet<String>,
}

impl Transformation for DropHeaders {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        record
            .headers
            .retain(|h| !self.headers.contains(h.key.as_str()));
        Ok(Verdict::Keep)
    }
}
