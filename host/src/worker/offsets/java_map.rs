//! Kafka's standalone offset file: one `java.util.HashMap<byte[], byte[]>` written by Java's
//! `ObjectOutputStream` (Kafka's `FileOffsetBackingStore`), keys and values being the JSON bytes
//! of the offset topic's keys and values. Reading and writing this format is what lets a
//! standalone worker move between kconnect and Apache Kafka Connect with its offsets.
//!
//! Only the shape Kafka writes is understood: the stream header, one `HashMap` object (its class
//! descriptor, the `loadFactor`/`threshold` fields, then the block with capacity and size), and
//! `size` key/value pairs, each a `byte[]` or null. Anything else is an error naming the byte
//! offset where it went wrong: the file is never read as empty by mistake.

/// One entry: key bytes and value bytes, each possibly null.
pub type Entry = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The first two bytes of every Java serialization stream.
pub const STREAM_MAGIC: [u8; 2] = [0xAC, 0xED];
const STREAM_VERSION: [u8; 2] = [0x00, 0x05];

const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_ARRAY: u8 = 0x75;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
/// Handles are numbered from here in the order objects appear in the stream.
const BASE_HANDLE: u32 = 0x7E_0000;

const HASH_MAP: &str = "java.util.HashMap";
const HASH_MAP_UID: u64 = 0x0507_DAC1_C316_60D1;
const BYTE_ARRAY: &str = "[B";
const BYTE_ARRAY_UID: u64 = 0xACF3_17F8_0608_54E0;
/// `SC_WRITE_METHOD | SC_SERIALIZABLE`: HashMap writes its entries itself.
const HASH_MAP_FLAGS: u8 = 0x03;
/// `SC_SERIALIZABLE`.
const ARRAY_FLAGS: u8 = 0x02;

/// Why a file is not Kafka's offset file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Java-serialized HashMap<byte[], byte[]> at byte {at}: {what}")]
pub struct FormatError {
    pub at: usize,
    pub what: String,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// What each handle stands for: `Some(class name)` for class descriptors.
    handles: Vec<Option<String>>,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, what: impl Into<String>) -> Result<T, FormatError> {
        Err(FormatError {
            at: self.at,
            what: what.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.bytes.len() - self.at < n {
            return self.fail(format!("{n} more bytes expected, the file ends"));
        }
        let slice = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn i32(&mut self) -> Result<i32, FormatError> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn utf(&mut self) -> Result<String, FormatError> {
        let len = self.u16()? as usize;
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(_) => self.fail("a name that is not UTF-8"),
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), FormatError> {
        let at = self.at;
        let got = self.u8()?;
        if got != byte {
            return Err(FormatError {
                at,
                what: format!("{what} expected (0x{byte:02x}), found 0x{got:02x}"),
            });
        }
        Ok(())
    }

    fn handle(&mut self, class: Option<String>) {
        self.handles.push(class);
    }

    /// A class descriptor, new or by reference; returns its class name.
    fn class_desc(&mut self) -> Result<String, FormatError> {
        match self.u8()? {
            TC_CLASSDESC => {
                let name = self.utf()?;
                let _uid = self.u64()?;
                self.handle(Some(name.clone()));
                let _flags = self.u8()?;
                let fields = self.u16()?;
                for _ in 0..fields {
                    let code = self.u8()?;
                    let _field = self.utf()?;
                    if matches!(code, b'L' | b'[') {
                        // The field's type name: a string, new or by reference.
                        match self.u8()? {
                            0x74 => {
                                let _ = self.utf()?;
                                self.handle(None);
                            }
                            TC_REFERENCE => {
                                let _ = self.u32_handle()?;
                            }
                            other => return self.fail(format!("a field type 0x{other:02x}")),
                        }
                    }
                }
                self.expect(TC_ENDBLOCKDATA, "the end of the class annotation")?;
                match self.u8()? {
                    TC_NULL => {}
                    other => {
                        return self.fail(format!(
                            "{name} has a superclass (0x{other:02x}); HashMap's has none"
                        ))
                    }
                }
                Ok(name)
            }
            TC_REFERENCE => {
                let handle = self.u32_handle()?;
                match self.handles.get(handle) {
                    Some(Some(name)) => Ok(name.clone()),
                    _ => self.fail(format!("a reference to handle {handle}, not a class")),
                }
            }
            other => self.fail(format!("a class descriptor, found 0x{other:02x}")),
        }
    }

    fn u32_handle(&mut self) -> Result<usize, FormatError> {
        let raw = self.i32()? as u32;
        match raw.checked_sub(BASE_HANDLE) {
            Some(handle) => Ok(handle as usize),
            None => self.fail(format!("a handle 0x{raw:08x} below 0x{BASE_HANDLE:08x}")),
        }
    }

    /// A `byte[]` or null.
    fn byte_array(&mut self) -> Result<Option<Vec<u8>>, FormatError> {
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_ARRAY => {
                let class = self.class_desc()?;
                if class != BYTE_ARRAY {
                    return self.fail(format!("an array of {class}, not byte[]"));
                }
                self.handle(None);
                let len = self.i32()?;
                let Ok(len) = usize::try_from(len) else {
                    return self.fail(format!("an array length of {len}"));
                };
                Ok(Some(self.take(len)?.to_vec()))
            }
            other => self.fail(format!("a byte[] or null, found 0x{other:02x}")),
        }
    }
}

/// Reads Kafka's offset file.
pub fn decode(bytes: &[u8]) -> Result<Vec<Entry>, FormatError> {
    let mut reader = Reader {
        bytes,
        at: 0,
        handles: Vec::new(),
    };
    if reader.take(2)? != STREAM_MAGIC || reader.take(2)? != STREAM_VERSION {
        return Err(FormatError {
            at: 0,
            what: "no Java serialization header (AC ED 00 05)".to_string(),
        });
    }
    reader.expect(TC_OBJECT, "an object")?;
    let class = reader.class_desc()?;
    if class != HASH_MAP {
        return reader.fail(format!("a {class}, not a {HASH_MAP}"));
    }
    reader.handle(None);
    let _load_factor = reader.take(4)?;
    let _threshold = reader.i32()?;
    reader.expect(TC_BLOCKDATA, "HashMap's block of capacity and size")?;
    if reader.u8()? != 8 {
        return reader.fail("a block of 8 bytes (capacity and size)");
    }
    let _capacity = reader.i32()?;
    let size = reader.i32()?;
    let Ok(size) = usize::try_from(size) else {
        return reader.fail(format!("a map size of {size}"));
    };
    let mut entries = Vec::with_capacity(size.min(1 << 16));
    for _ in 0..size {
        let key = reader.byte_array()?;
        let value = reader.byte_array()?;
        entries.push((key, value));
    }
    reader.expect(TC_ENDBLOCKDATA, "the end of the map")?;
    if reader.at != bytes.len() {
        return reader.fail("more bytes after the map");
    }
    Ok(entries)
}

fn put_utf(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// Writes entries as Java's `ObjectOutputStream` writes a `HashMap<byte[], byte[]>` holding them
/// (the same capacity and threshold a map filled by `put` has), so Kafka reads the file back.
pub fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        128 + entries
            .iter()
            .map(|(k, v)| 8 + k.as_ref().map_or(0, Vec::len) + v.as_ref().map_or(0, Vec::len))
            .sum::<usize>(),
    );
    out.extend_from_slice(&STREAM_MAGIC);
    out.extend_from_slice(&STREAM_VERSION);
    out.push(TC_OBJECT);
    out.push(TC_CLASSDESC);
    put_utf(&mut out, HASH_MAP);
    out.extend_from_slice(&HASH_MAP_UID.to_be_bytes());
    out.push(HASH_MAP_FLAGS);
    out.extend_from_slice(&2u16.to_be_bytes());
    out.push(b'F');
    put_utf(&mut out, "loadFactor");
    out.push(b'I');
    put_utf(&mut out, "threshold");
    out.push(TC_ENDBLOCKDATA);
    out.push(TC_NULL);
    // Handles: 0 the HashMap class, 1 the map, 2 the byte[] class (when an array is written).
    let mut capacity: i32 = 16;
    while entries.len() as f64 > f64::from(capacity) * 0.75 {
        capacity *= 2;
    }
    let threshold = if entries.is_empty() {
        0
    } else {
        capacity / 4 * 3
    };
    out.extend_from_slice(&0.75f32.to_be_bytes());
    out.extend_from_slice(&threshold.to_be_bytes());
    out.push(TC_BLOCKDATA);
    out.push(8);
    out.extend_from_slice(&capacity.to_be_bytes());
    out.extend_from_slice(&(entries.len() as i32).to_be_bytes());
    let mut array_class_written = false;
    let mut write_array = |out: &mut Vec<u8>, bytes: &Option<Vec<u8>>| match bytes {
        None => out.push(TC_NULL),
        Some(bytes) => {
            out.push(TC_ARRAY);
            if array_class_written {
                out.push(TC_REFERENCE);
                out.extend_from_slice(&(BASE_HANDLE + 2).to_be_bytes());
            } else {
                out.push(TC_CLASSDESC);
                put_utf(out, BYTE_ARRAY);
                out.extend_from_slice(&BYTE_ARRAY_UID.to_be_bytes());
                out.push(ARRAY_FLAGS);
                out.extend_from_slice(&0u16.to_be_bytes());
                out.push(TC_ENDBLOCKDATA);
                out.push(TC_NULL);
                array_class_written = true;
            }
            out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
    };
    for (key, value) in entries {
        write_array(&mut out, key);
        write_array(&mut out, value);
    }
    out.push(TC_ENDBLOCKDATA);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: Option<&str>) -> Entry {
        (
            Some(key.as_bytes().to_vec()),
            value.map(|v| v.as_bytes().to_vec()),
        )
    }

    #[test]
    fn what_is_written_reads_back() {
        let entries = vec![
            entry(r#"["c",{"filename":"/x"}]"#, Some(r#"{"position":42}"#)),
            entry(r#"["d",{"filename":"/y"}]"#, None),
            entry(r#"["e",{"filename":"/z"}]"#, Some("")),
        ];
        assert_eq!(decode(&encode(&entries)).unwrap(), entries);
        assert_eq!(decode(&encode(&[])).unwrap(), Vec::<Entry>::new());
    }

    #[test]
    fn a_map_that_grew_keeps_capacity_and_threshold_consistent() {
        let entries: Vec<Entry> = (0..13)
            .map(|i| entry(&format!("[\"c\",{{\"p\":{i}}}]"), Some("{}")))
            .collect();
        let bytes = encode(&entries);
        // loadFactor (4 bytes) then threshold right after the class descriptor's TC_NULL.
        let fields = bytes
            .windows(2)
            .position(|w| w == [TC_ENDBLOCKDATA, TC_NULL])
            .unwrap()
            + 2;
        let threshold = i32::from_be_bytes(bytes[fields + 4..fields + 8].try_into().unwrap());
        let capacity = i32::from_be_bytes(bytes[fields + 10..fields + 14].try_into().unwrap());
        assert_eq!((capacity, threshold), (32, 24));
        assert_eq!(decode(&bytes).unwrap(), entries);
    }

    #[test]
    fn anything_else_is_an_error_that_says_where() {
        let good = encode(&[entry("[]", Some("{}"))]);
        assert!(decode(b"[]").unwrap_err().what.contains("AC ED"));
        let cut = decode(&good[..good.len() - 3]).unwrap_err();
        assert!(
            cut.what.contains("the file ends") || cut.what.contains("expected"),
            "{cut}"
        );
        let mut extra = good.clone();
        extra.push(0);
        assert!(decode(&extra).unwrap_err().what.contains("more bytes"));
        let mut not_a_map = good.clone();
        not_a_map[10 + 8] = b'X'; // "java.util.HashMap" → "java.util.XashMap"
        assert!(decode(&not_a_map).unwrap_err().what.contains("XashMap"));
    }
}
