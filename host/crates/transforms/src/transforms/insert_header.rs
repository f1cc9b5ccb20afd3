//! `InsertHeader`: adds a header whose value is a literal, typed as Kafka's `Values.parseString`
//! types it (`1234` is an INT16, `true` a BOOLEAN, other text a STRING; see the `values` module).

use super::prelude::*;
use crate::values::parse_string;

pub(crate) const DOC: &str = "Add a header to each record.";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required("header", ConfigType::String, "The name of the header.")
            .importance(Importance::High)
            .validator(Validator::NonNull),
        Spec::required(
            "value.literal",
            ConfigType::String,
            "The literal value that is to be set as the header value on all records.",
        )
        .importance(Importance::High)
        .validator(Validator::NonNull),
    ]
}

pub(crate) fn configure(settings: &Settings) -> Result<Box<dyn Transformation>, TransformError> {
    let (schema, value) = parse_string(&settings.string("value.literal")?);
    Ok(Box::new(InsertHeader {
        header: Header::new(&settings.string("header")?, schema, value),
    }))
}

struct InsertHeader {
    header: Header,
}

impl Transformation for InsertHeader {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        record.headers.push(self.header.clone());
        Ok(Verdict::Keep)
    }
}
