//! The order in which a `java.util.HashMap` iterates its entries, for maps Kafka's code builds
//! as `HashMap`s (JsonConverter reading a JSON object or a map, most transformations).
//!
//! kconnect's maps keep their entries in order; where Kafka would hold a `HashMap`, the entries
//! are put in the order Java iterates them, so that everything written from the map afterwards —
//! a JSON object, a `toString()` line of a FileStreamSink or a StringConverter — has Java's
//! order too.
//!
//! The model, as in OpenJDK's `HashMap` (8 and later): an entry's bucket is
//! `(h ^ (h >>> 16)) & (capacity - 1)` for the key's `hashCode()` `h`; iteration goes through the
//! buckets in index order and through each bucket in insertion order (a resize splits a bucket
//! in two and keeps that order). The table starts at the capacity its constructor gives and
//! doubles when the size passes 3/4 of it, or when a bucket grows past 8 entries in a table of
//! fewer than 64 buckets. Beyond that Java turns a long bucket into a tree, whose order this
//! does not model: such maps keep their order as given.
//!
//! Keys whose Java hash code cannot be known (byte arrays hash by identity, structs and logical
//! types are not modelled) leave the map in the order given.

use kconnect_plugin_api::abi_stable::std_types::Tuple2;
use kconnect_plugin_api::Value;

const DEFAULT_CAPACITY: usize = 16;
const TREEIFY_THRESHOLD: usize = 8;
const MIN_TREEIFY_CAPACITY: usize = 64;

/// How the Java code creates the map, which decides its first table size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashMapOrigin {
    /// `new HashMap<>()`, then one `put` per entry (JsonConverter).
    Empty,
    /// `new HashMap<>(other)` of a map of this many entries, then `put`s: the copied entries come
    /// first (transformations that change a copy of the value).
    CopyOf(usize),
    /// `new HashMap<>(initialCapacity)`, then one `put` per entry.
    WithCapacity(usize),
}

/// Java's `hashCode()` of the object Kafka holds for a schemaless or primitive-keyed value.
pub fn java_hash_code(value: &Value) -> Option<i32> {
    Some(match value {
        Value::Null => 0,
        Value::Boolean(b) => {
            if *b {
                1231
            } else {
                1237
            }
        }
        Value::Int8(v) => i32::from(*v),
        Value::Int16(v) => i32::from(*v),
        Value::Int32(v) => *v,
        Value::Int64(v) => long_hash(*v as u64),
        Value::Float32(v) => {
            // floatToIntBits: every NaN is the canonical one.
            let bits = if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() };
            bits as i32
        }
        Value::Float64(v) => {
            let bits = if v.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                v.to_bits()
            };
            long_hash(bits)
        }
        Value::String(s) => s.encode_utf16().fold(0i32, |h, unit| {
            h.wrapping_mul(31).wrapping_add(i32::from(unit))
        }),
        Value::Bytes(_) | Value::Array(_) | Value::Map(_) | Value::Struct(_) => return None,
    })
}

/// `Long.hashCode`.
fn long_hash(bits: u64) -> i32 {
    (bits ^ (bits >> 32)) as u32 as i32
}

/// `HashMap.hash`: the high half folded into the low one.
fn spread(hash_code: i32) -> usize {
    let h = hash_code as u32;
    (h ^ (h >> 16)) as usize
}

/// `HashMap.tableSizeFor`: the smallest power of two at least `wanted` (at least 1).
fn table_size_for(wanted: usize) -> usize {
    wanted.max(1).next_power_of_two()
}

/// The table size Java has once `keys` (distinct, in insertion order) are in the map, or `None`
/// when a bucket would become a tree.
fn final_capacity(hashes: &[usize], origin: HashMapOrigin) -> Option<usize> {
    let mut capacity = match origin {
        HashMapOrigin::Empty => DEFAULT_CAPACITY,
        // putMapEntries: threshold = tableSizeFor(size / 0.75 + 1), the first table's size.
        HashMapOrigin::CopyOf(0) => DEFAULT_CAPACITY,
        HashMapOrigin::CopyOf(size) => table_size_for((size as f64 / 0.75 + 1.0) as usize),
        HashMapOrigin::WithCapacity(wanted) => table_size_for(wanted),
    };
    let mut bucket_sizes = vec![0usize; capacity];
    for (size, hash) in hashes.iter().enumerate() {
        let bucket = hash & (capacity - 1);
        bucket_sizes[bucket] += 1;
        // putVal: a bucket longer than 8 becomes a tree, or doubles a table of under 64.
        if bucket_sizes[bucket] > TREEIFY_THRESHOLD {
            if capacity >= MIN_TREEIFY_CAPACITY {
                return None;
            }
            capacity *= 2;
            bucket_sizes = bucket_sizes_at(&hashes[..=size], capacity);
        }
        // Then `++size > threshold`, the threshold being `(int) (capacity * 0.75)`.
        if size + 1 > capacity * 3 / 4 {
            capacity *= 2;
            bucket_sizes = bucket_sizes_at(&hashes[..=size], capacity);
        }
    }
    Some(capacity)
}

fn bucket_sizes_at(hashes: &[usize], capacity: usize) -> Vec<usize> {
    let mut sizes = vec![0; capacity];
    for hash in hashes {
        sizes[hash & (capacity - 1)] += 1;
    }
    sizes
}

/// Puts `entries` (distinct keys, in insertion order) in the order a Java `HashMap` built from
/// them iterates; leaves them as they are where that order cannot be known.
pub fn to_java_hash_map_order(entries: &mut [Tuple2<Value, Value>], origin: HashMapOrigin) {
    if entries.len() < 2 {
        return;
    }
    let Some(hashes) = entries
        .iter()
        .map(|entry| java_hash_code(&entry.0).map(spread))
        .collect::<Option<Vec<usize>>>()
    else {
        return;
    };
    let Some(capacity) = final_capacity(&hashes, origin) else {
        return;
    };
    let mut order: Vec<(usize, usize)> = hashes
        .iter()
        .enumerate()
        .map(|(at, hash)| (hash & (capacity - 1), at))
        .collect();
    if order.windows(2).all(|pair| pair[0] <= pair[1]) {
        return;
    }
    order.sort_unstable();
    let mut taken: Vec<Option<Tuple2<Value, Value>>> = entries
        .iter_mut()
        .map(|entry| Some(std::mem::replace(entry, Tuple2(Value::Null, Value::Null))))
        .collect();
    for (slot, (_, from)) in entries.iter_mut().zip(order) {
        *slot = taken[from].take().expect("each entry moves once");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_in_java_order(keys: Vec<Value>, origin: HashMapOrigin) -> Vec<String> {
        let mut entries: Vec<Tuple2<Value, Value>> = keys
            .into_iter()
            .map(|k| Tuple2(k, Value::Int32(1)))
            .collect();
        to_java_hash_map_order(&mut entries, origin);
        entries
            .iter()
            .map(|entry| match &entry.0 {
                Value::String(s) => s.to_string(),
                Value::Null => "null".to_string(),
                other => format!("{other}"),
            })
            .collect()
    }

    fn strings(keys: &[&str]) -> Vec<Value> {
        keys.iter().map(|k| Value::from(*k)).collect()
    }

    // Each expected order was printed by `HashMap.keySet()` in jshell (OpenJDK 17).

    #[test]
    fn string_keys_iterate_as_in_java() {
        let keys = strings(&[
            "zeta",
            "alpha",
            "line",
            "topic",
            "b",
            "a",
            "δέλτα",
            "Aa",
            "BB",
        ]);
        assert_eq!(
            keys_in_java_order(keys, HashMapOrigin::Empty),
            [
                "zeta",
                "Aa",
                "BB",
                "a",
                "b",
                "line",
                "δέλτα",
                "alpha",
                "topic"
            ]
        );
    }

    #[test]
    fn a_map_that_outgrows_its_table_is_ordered_by_the_larger_one() {
        let keys: Vec<String> = (0..14).map(|i| format!("key{i}")).collect();
        let keys = strings(&keys.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(
            keys_in_java_order(keys, HashMapOrigin::Empty),
            [
                "key1", "key2", "key0", "key5", "key6", "key3", "key4", "key9", "key7", "key8",
                "key11", "key10", "key13", "key12"
            ]
        );
    }

    #[test]
    fn a_long_bucket_in_a_small_table_doubles_the_table() {
        let keys = [0, 16, 32, 48, 64, 80, 96, 112, 128, 1, 17]
            .into_iter()
            .map(Value::Int32)
            .collect();
        assert_eq!(
            keys_in_java_order(keys, HashMapOrigin::Empty),
            ["0", "32", "64", "96", "128", "1", "16", "48", "80", "112", "17"]
        );
    }

    #[test]
    fn numbers_booleans_and_null_hash_as_their_boxes() {
        let keys = vec![Value::Int64(-1), Value::Int64(4294967296), Value::Int64(3)]
            .into_iter()
            .chain([Value::Int64(100000000000)])
            .collect();
        assert_eq!(
            keys_in_java_order(keys, HashMapOrigin::Empty),
            ["-1", "4294967296", "100000000000", "3"]
        );
        let keys = vec![
            Value::Float64(1.5),
            Value::Float64(-0.0),
            Value::Float64(0.0),
            Value::Float64(2.0),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::Null,
            Value::Int16(7),
            Value::Int8(-3),
            Value::Float32(2.5),
        ];
        assert_eq!(
            keys_in_java_order(keys, HashMapOrigin::Empty),
            ["-0", "0", "2", "null", "2.5", "-3", "false", "7", "1.5", "true"]
        );
    }

    #[test]
    fn a_copy_starts_from_a_table_sized_for_the_original() {
        // new HashMap<>(one entry) has two buckets, then grows to four.
        assert_eq!(
            keys_in_java_order(strings(&["line", "topic", "ts"]), HashMapOrigin::CopyOf(1)),
            ["topic", "line", "ts"]
        );
    }

    #[test]
    fn keys_without_a_known_hash_keep_their_order() {
        let keys = vec![
            Value::from("b"),
            Value::Bytes(vec![1].into()),
            Value::from("a"),
        ];
        assert_eq!(
            keys_in_java_order(keys, HashMapOrigin::Empty),
            ["b", "[1]", "a"]
        );
    }
}
