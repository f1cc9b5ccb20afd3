//! Schema caches, bounded by `schemas.cache.size` like Kafka's LRU caches. When a cache is full it
//! is emptied whole: schemas rarely change within a task, so this is rare and keeps lookups cheap.
//!
//! - [`SchemaJsonCache`]: schema → its JSON text. Records of a batch usually share one `RArc`, so
//!   the schema's address finds it; an equal schema behind another `RArc` is found by a structural
//!   hash. Every address used as a key is pinned by a clone of its `RArc`, so it cannot be reused
//!   by another schema while cached.
//! - [`SchemaParseCache`]: the exact bytes of an envelope's `"schema"` → the parsed schema, so the
//!   records read from one topic share one `SchemaRef`.

use kconnect_plugin_api::abi_stable::std_types::RArc;
use kconnect_plugin_api::{Schema, SchemaRef, Value};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

pub(crate) struct SchemaJsonCache {
    capacity: usize,
    last: Option<(usize, usize)>,
    by_address: HashMap<usize, usize>,
    by_hash: HashMap<u64, Vec<usize>>,
    entries: Vec<(SchemaRef, Vec<u8>)>,
    pinned: Vec<SchemaRef>,
}

fn address(schema: &SchemaRef) -> usize {
    &**schema as *const Schema as usize
}

impl SchemaJsonCache {
    pub fn new(capacity: usize) -> SchemaJsonCache {
        SchemaJsonCache {
            capacity,
            last: None,
            by_address: HashMap::new(),
            by_hash: HashMap::new(),
            entries: Vec::new(),
            pinned: Vec::new(),
        }
    }

    /// Appends the JSON of `schema` to `out`, rendering it with `render` on a miss.
    pub fn write<E>(
        &mut self,
        out: &mut Vec<u8>,
        schema: &SchemaRef,
        render: impl FnOnce(&mut Vec<u8>, &Schema) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.capacity == 0 {
            return render(out, schema);
        }
        let key = address(schema);
        if let Some((last_key, index)) = self.last {
            if last_key == key {
                out.extend_from_slice(&self.entries[index].1);
                return Ok(());
            }
        }
        if let Some(&index) = self.by_address.get(&key) {
            self.last = Some((key, index));
            out.extend_from_slice(&self.entries[index].1);
            return Ok(());
        }
        if self.pinned.len() >= self.capacity.saturating_mul(4) {
            // Many distinct `RArc`s of the same few schemas: start over rather than pin them all.
            self.clear();
        }
        let hash = structural_hash(schema);
        let found = self.by_hash.get(&hash).and_then(|candidates| {
            candidates
                .iter()
                .copied()
                .find(|&i| *self.entries[i].0 == **schema)
        });
        let index = match found {
            Some(index) => index,
            None => {
                let mut json = Vec::new();
                render(&mut json, schema)?;
                if self.entries.len() >= self.capacity {
                    self.clear();
                }
                self.entries.push((RArc::clone(schema), json));
                let index = self.entries.len() - 1;
                self.by_hash.entry(hash).or_default().push(index);
                index
            }
        };
        self.pinned.push(RArc::clone(schema));
        self.by_address.insert(key, index);
        self.last = Some((key, index));
        out.extend_from_slice(&self.entries[index].1);
        Ok(())
    }

    fn clear(&mut self) {
        self.last = None;
        self.by_address.clear();
        self.by_hash.clear();
        self.entries.clear();
        self.pinned.clear();
    }
}

fn structural_hash(schema: &Schema) -> u64 {
    let mut hasher = DefaultHasher::new();
    hash_schema(schema, &mut hasher);
    hasher.finish()
}

fn hash_schema(schema: &Schema, h: &mut DefaultHasher) {
    schema.schema_type.hash(h);
    schema.optional.hash(h);
    schema.name().hash(h);
    schema.version.into_option().hash(h);
    schema
        .doc
        .as_ref()
        .map(|d| d.as_str())
        .into_option()
        .hash(h);
    for parameter in schema.parameters.iter() {
        parameter.0.as_str().hash(h);
        parameter.1.as_str().hash(h);
    }
    if let Some(default) = schema.default_value() {
        hash_value(default, h);
    }
    for field in schema.fields.iter() {
        field.name.as_str().hash(h);
        hash_schema(&field.schema, h);
    }
    if let Some(key) = schema.key_schema() {
        hash_schema(key, h);
    }
    if let Some(value) = schema.value_schema() {
        hash_schema(value, h);
    }
}

fn hash_value(value: &Value, h: &mut DefaultHasher) {
    std::mem::discriminant(value).hash(h);
    match value {
        Value::Null => {}
        Value::Boolean(v) => v.hash(h),
        Value::Int8(v) => v.hash(h),
        Value::Int16(v) => v.hash(h),
        Value::Int32(v) => v.hash(h),
        Value::Int64(v) => v.hash(h),
        Value::Float32(v) => v.to_bits().hash(h),
        Value::Float64(v) => v.to_bits().hash(h),
        Value::String(v) => v.as_str().hash(h),
        Value::Bytes(v) => v.as_slice().hash(h),
        Value::Array(items) => items.iter().for_each(|item| hash_value(item, h)),
        Value::Map(entries) => entries.iter().for_each(|e| {
            hash_value(&e.0, h);
            hash_value(&e.1, h);
        }),
        Value::Struct(s) => s.values.iter().for_each(|v| hash_value(v, h)),
    }
}

pub(crate) struct SchemaParseCache {
    capacity: usize,
    last: Option<(Box<[u8]>, SchemaRef)>,
    entries: HashMap<Box<[u8]>, SchemaRef>,
}

impl SchemaParseCache {
    pub fn new(capacity: usize) -> SchemaParseCache {
        SchemaParseCache {
            capacity,
            last: None,
            entries: HashMap::new(),
        }
    }

    pub fn get(&mut self, json: &[u8]) -> Option<SchemaRef> {
        if let Some((last_json, schema)) = &self.last {
            if **last_json == *json {
                return Some(RArc::clone(schema));
            }
        }
        let schema = self.entries.get(json)?;
        self.last = Some((json.into(), RArc::clone(schema)));
        Some(RArc::clone(schema))
    }

    pub fn insert(&mut self, json: &[u8], schema: &SchemaRef) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            self.entries.clear();
        }
        self.entries.insert(json.into(), RArc::clone(schema));
        self.last = Some((json.into(), RArc::clone(schema)));
    }
}
