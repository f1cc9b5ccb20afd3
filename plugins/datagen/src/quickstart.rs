//! The built-in record shapes and the generator that fills them.
//!
//! Invariants: a [`Generator`] builds its schemas and string pools once; every record it returns
//! points at the same value and key schemas (`RArc` clones), and record `n` depends only on the
//! seed, the task and `n`: a restarted task continues the same sequence.

use crate::rng::{record_seed, task_seed, SplitMix64};
use kconnect_plugin_api::abi_stable::std_types::{ROption, RString, RVec, Tuple2};
use kconnect_plugin_api::{
    ConnectRecord, Schema, SchemaBuilder, SchemaRef, SchemaType, SourceMap, SourceRecord, Struct,
    Value,
};

/// Earliest and latest `registertime` / `ordertime` (Feb 2017 – Feb 2018, Confluent's ranges).
const TIME_RANGE: (i64, i64) = (1_487_715_775_521, 1_519_273_364_600);
/// `viewtime` of a task's first pageview, and the step between two pageviews.
const VIEWTIME_START: i64 = 1;
const VIEWTIME_STEP: i64 = 10;

/// Key of the source partition: the task id.
pub const PARTITION_TASK_FIELD: &str = "task";
/// Key of the source offset: how many records the task has generated, this one included.
pub const OFFSET_ITERATION_FIELD: &str = "iteration";

/// A built-in shape, chosen with `quickstart`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quickstart {
    /// `ksql.users`: registertime INT64, userid STRING, regionid STRING, gender STRING; keyed by
    /// userid.
    Users,
    /// `ksql.orders`: ordertime INT64, orderid INT32, itemid STRING, orderunits FLOAT64,
    /// address STRUCT{city STRING, state STRING, zipcode INT64}; keyed by orderid.
    Orders,
    /// `ksql.pageviews`: viewtime INT64, userid STRING, pageid STRING; keyed by pageid.
    Pageviews,
}

impl Quickstart {
    /// Every shape, in the order the names are documented.
    pub const ALL: [Quickstart; 3] = [Quickstart::Users, Quickstart::Orders, Quickstart::Pageviews];

    /// The name written in `quickstart`.
    pub fn name(self) -> &'static str {
        match self {
            Quickstart::Users => "users",
            Quickstart::Orders => "orders",
            Quickstart::Pageviews => "pageviews",
        }
    }

    /// Parses a `quickstart` value, ignoring case and surrounding blanks.
    pub fn parse(name: &str) -> Option<Quickstart> {
        let name = name.trim();
        Quickstart::ALL
            .into_iter()
            .find(|q| q.name().eq_ignore_ascii_case(name))
    }

    /// The value field whose value, as a string, is the record key.
    pub fn key_field(self) -> &'static str {
        match self {
            Quickstart::Users => "userid",
            Quickstart::Orders => "orderid",
            Quickstart::Pageviews => "pageid",
        }
    }

    /// The value schema, named like Confluent's Avro schemas (`ksql.users`…).
    pub fn value_schema(self) -> SchemaRef {
        let int64 = || SchemaRef::new(Schema::primitive(SchemaType::Int64));
        let string = || SchemaRef::new(Schema::primitive(SchemaType::String));
        match self {
            Quickstart::Users => SchemaBuilder::struct_()
                .name("ksql.users")
                .field("registertime", int64())
                .field("userid", string())
                .field("regionid", string())
                .field("gender", string())
                .build_ref(),
            Quickstart::Orders => SchemaBuilder::struct_()
                .name("ksql.orders")
                .field("ordertime", int64())
                .field(
                    "orderid",
                    SchemaRef::new(Schema::primitive(SchemaType::Int32)),
                )
                .field("itemid", string())
                .field(
                    "orderunits",
                    SchemaRef::new(Schema::primitive(SchemaType::Float64)),
                )
                .field(
                    "address",
                    SchemaBuilder::struct_()
                        .name("ksql.address")
                        .field("city", string())
                        .field("state", string())
                        .field("zipcode", int64())
                        .build_ref(),
                )
                .build_ref(),
            Quickstart::Pageviews => SchemaBuilder::struct_()
                .name("ksql.pageviews")
                .field("viewtime", int64())
                .field("userid", string())
                .field("pageid", string())
                .build_ref(),
        }
    }
}

/// `prefix_1` … `prefix_count`, built once so that a record only clones them.
fn numbered(prefix: &str, count: u32) -> Vec<RString> {
    (1..=count)
        .map(|n| RString::from(format!("{prefix}_{n}")))
        .collect()
}

/// Picks one of `pool` (never empty: pools are built with a fixed positive size).
fn pick(rng: &mut SplitMix64, pool: &[RString]) -> RString {
    pool[rng.below(pool.len() as u64) as usize].clone()
}

/// The decimal text of `n`, without going through `fmt`.
fn decimal(n: i32) -> RString {
    let mut digits = [0u8; 11];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    // Only ASCII digits and '-' were written.
    RString::from(std::str::from_utf8(&digits[at..]).unwrap_or_default())
}

/// What a shape picks its values from, built once per task.
enum Shape {
    Users {
        users: Vec<RString>,
        regions: Vec<RString>,
        genders: Vec<RString>,
    },
    Orders {
        address_schema: SchemaRef,
        items: Vec<RString>,
        cities: Vec<RString>,
        states: Vec<RString>,
    },
    Pageviews {
        users: Vec<RString>,
        pages: Vec<RString>,
    },
}

impl Shape {
    fn new(quickstart: Quickstart, value_schema: &Schema) -> Shape {
        match quickstart {
            Quickstart::Users => Shape::Users {
                users: numbered("User", 9),
                regions: numbered("Region", 9),
                genders: ["MALE", "FEMALE", "OTHER"].map(RString::from).to_vec(),
            },
            Quickstart::Orders => Shape::Orders {
                address_schema: value_schema
                    .field("address")
                    .map(|field| field.schema.clone())
                    .unwrap_or_else(|| SchemaBuilder::struct_().build_ref()),
                items: numbered("Item", 999),
                cities: numbered("City", 99),
                states: numbered("State", 99),
            },
            Quickstart::Pageviews => Shape::Pageviews {
                users: numbered("User", 9),
                pages: numbered("Page", 99),
            },
        }
    }
}

/// Generates the records of one task.
pub struct Generator {
    shape: Shape,
    value_schema: SchemaRef,
    key_schema: SchemaRef,
    topic: RString,
    partition: SourceMap,
    offset_key: RString,
    task_seed: u64,
    task_id: u32,
    task_count: u32,
}

impl Generator {
    /// The generator of task `task_id` of `task_count` for the connector seed `seed`: the same
    /// arguments give the same records.
    pub fn new(
        quickstart: Quickstart,
        topic: &str,
        seed: u64,
        task_id: u32,
        task_count: u32,
    ) -> Generator {
        let value_schema = quickstart.value_schema();
        Generator {
            shape: Shape::new(quickstart, &value_schema),
            value_schema,
            key_schema: SchemaRef::new(Schema::primitive(SchemaType::String)),
            topic: topic.into(),
            // Shared: every record clones a reference to it.
            partition: partition_of_task(task_id).shared(),
            offset_key: OFFSET_ITERATION_FIELD.into(),
            task_seed: task_seed(seed, task_id),
            task_id,
            task_count: task_count.max(1),
        }
    }

    /// The source partition of this task's records.
    pub fn partition(&self) -> &SourceMap {
        &self.partition
    }

    /// The record at `iteration` (0-based) of this task.
    pub fn record(&self, iteration: u64) -> SourceRecord {
        let mut rng = SplitMix64::new(record_seed(self.task_seed, iteration));
        let (key, values) = match &self.shape {
            Shape::Users {
                users,
                regions,
                genders,
            } => {
                let userid = pick(&mut rng, users);
                let mut values = Struct::values_for(4);
                values.push(Value::Int64(rng.between(TIME_RANGE.0, TIME_RANGE.1)));
                values.push(Value::String(userid.clone()));
                values.push(Value::String(pick(&mut rng, regions)));
                values.push(Value::String(pick(&mut rng, genders)));
                (userid, values)
            }
            Shape::Orders {
                address_schema,
                items,
                cities,
                states,
            } => {
                let orderid = self.order_id(iteration);
                let mut address = Struct::values_for(3);
                address.push(Value::String(pick(&mut rng, cities)));
                address.push(Value::String(pick(&mut rng, states)));
                address.push(Value::Int64(rng.between(10_000, 99_999)));
                let mut values = Struct::values_for(5);
                values.push(Value::Int64(rng.between(TIME_RANGE.0, TIME_RANGE.1)));
                values.push(Value::Int32(orderid));
                values.push(Value::String(pick(&mut rng, items)));
                values.push(Value::Float64(0.1 + rng.unit_f64() * 9.9));
                values.push(Value::Struct(Struct {
                    schema: address_schema.clone(),
                    values: address,
                }));
                (decimal(orderid), values)
            }
            Shape::Pageviews { users, pages } => {
                let pageid = pick(&mut rng, pages);
                let viewtime = (iteration.min(i64::MAX as u64) as i64)
                    .saturating_mul(VIEWTIME_STEP)
                    .saturating_add(VIEWTIME_START);
                let mut values = Struct::values_for(3);
                values.push(Value::Int64(viewtime));
                values.push(Value::String(pick(&mut rng, users)));
                values.push(Value::String(pageid.clone()));
                (pageid, values)
            }
        };
        let mut offset = RVec::with_capacity(1);
        offset.push(Tuple2(
            self.offset_key.clone(),
            Value::Int64(iteration.saturating_add(1).min(i64::MAX as u64) as i64),
        ));
        SourceRecord {
            source_partition: self.partition.clone(),
            source_offset: SourceMap::from_entries(offset),
            record: ConnectRecord {
                topic: self.topic.clone(),
                kafka_partition: ROption::RNone,
                key_schema: ROption::RSome(self.key_schema.clone()),
                key: Value::String(key),
                value_schema: ROption::RSome(self.value_schema.clone()),
                value: Value::Struct(Struct {
                    schema: self.value_schema.clone(),
                    values,
                }),
                timestamp: ROption::RNone,
                headers: RVec::new(),
            },
        }
    }

    /// Tasks interleave their order ids, so ids stay distinct across tasks until they wrap.
    fn order_id(&self, iteration: u64) -> i32 {
        let sequence = iteration
            .wrapping_mul(u64::from(self.task_count))
            .wrapping_add(u64::from(self.task_id));
        (sequence % (i32::MAX as u64 + 1)) as i32
    }
}

/// `{"task": id}`: the source partition of a task.
pub fn partition_of_task(task_id: u32) -> SourceMap {
    SourceMap::new().with(PARTITION_TASK_FIELD, Value::Int32(task_id as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_like_display() {
        for n in [0, 7, -7, 10, 1234567, i32::MAX, i32::MIN] {
            assert_eq!(decimal(n).as_str(), n.to_string());
        }
    }

    #[test]
    fn names_parse_back_ignoring_case() {
        for q in Quickstart::ALL {
            assert_eq!(Quickstart::parse(q.name()), Some(q));
            assert_eq!(
                Quickstart::parse(&format!(" {} ", q.name().to_uppercase())),
                Some(q)
            );
        }
        assert_eq!(Quickstart::parse("clicks"), None);
    }

    #[test]
    fn key_field_exists_in_every_schema() {
        for q in Quickstart::ALL {
            assert!(q.value_schema().field(q.key_field()).is_some(), "{q:?}");
        }
    }
}
