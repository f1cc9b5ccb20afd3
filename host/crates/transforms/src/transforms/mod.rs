//! The built-in transformations, one module each, named and configured as Kafka's.

pub(crate) mod cast;
pub(crate) mod drop_headers;
pub(crate) mod extract_field;
pub(crate) mod filter;
pub(crate) mod flatten;
pub(crate) mod header_from;
pub(crate) mod hoist_field;
pub(crate) mod insert_field;
pub(crate) mod insert_header;
pub(crate) mod mask_field;
pub(crate) mod regex_router;
pub(crate) mod replace_field;
pub(crate) mod set_schema_metadata;
pub(crate) mod timestamp_converter;
pub(crate) mod timestamp_router;
pub(crate) mod value_to_key;

/// What every built-in module uses.
pub(crate) mod prelude {
    pub(crate) use crate::config::{replace_null_with_default_spec, Settings, Spec};
    pub(crate) use crate::error::TransformError;
    pub(crate) use crate::util::*;
    pub(crate) use crate::{TransformResult, Transformation, Verdict};
    pub(crate) use kconnect_plugin_api::abi_stable::std_types::{
        RBox, ROption, RString, RVec, Tuple2,
    };
    pub(crate) use kconnect_plugin_api::{
        ConfigType, ConnectRecord, Header, Importance, Schema, SchemaBuilder, SchemaRef,
        SchemaType, Struct, Validator, Value,
    };
}
