//! Decoding of the `pgoutput` logical replication messages (protocol version 1) that carry
//! changes: Relation, Insert, Update, Delete, Truncate (and Type/Origin, which are skipped).
//!
//! Begin and Commit are decoded by `pgwire-replication` itself and reach the task as events of
//! their own; everything else arrives here as the payload of an XLogData message.
//!
//! Invariants: decoding is pure (bytes in, a [`Message`] out) and never panics on malformed
//! input: a short or unknown message is a [`DecodeError`] naming what was wrong. Column values
//! stay in PostgreSQL's text output format; [`crate::types`] turns them into Connect values, the
//! same way for streamed changes and for snapshot rows.

use bytes::Bytes;

/// A pgoutput message that the task acts on.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// The description of a table, sent before the first change of a table in a session and
    /// again after its schema changed.
    Relation(Relation),
    Insert {
        relation_id: u32,
        new: Tuple,
    },
    Update {
        relation_id: u32,
        /// The old key (`K`, REPLICA IDENTITY DEFAULT/INDEX when the key changed) or the whole
        /// old row (`O`, REPLICA IDENTITY FULL); `None` when the key did not change.
        old: Option<Tuple>,
        new: Tuple,
    },
    Delete {
        relation_id: u32,
        /// The old key or the whole old row, as for updates.
        old: Tuple,
    },
    Truncate {
        relation_ids: Vec<u32>,
    },
    /// A message the connector does not act on (Type, Origin, …).
    Ignored(u8),
}

/// A table as pgoutput describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    pub id: u32,
    pub schema: String,
    pub table: String,
    /// `d` default, `n` nothing, `f` full, `i` index.
    pub replica_identity: u8,
    pub columns: Vec<RelationColumn>,
}

/// One column of a [`Relation`].
#[derive(Clone, Debug, PartialEq)]
pub struct RelationColumn {
    /// Part of the replica identity (the primary key with REPLICA IDENTITY DEFAULT).
    pub is_key: bool,
    pub name: String,
    pub type_oid: u32,
    /// `atttypmod`: -1 when the type has no modifier.
    pub type_modifier: i32,
}

/// The column values of one row, in the relation's column order.
pub type Tuple = Vec<ColumnValue>;

/// One column value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnValue {
    Null,
    /// A TOASTed value that did not change: pgoutput does not send it again.
    UnchangedToast,
    /// The value in PostgreSQL's text output format.
    Text(Bytes),
}

/// Why a pgoutput message could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("pgoutput message is empty")]
    Empty,
    #[error("pgoutput message '{tag}' ends early: {what} is missing")]
    Truncated { tag: char, what: &'static str },
    #[error("pgoutput message '{tag}' has an unexpected marker {marker:?} where {expected} was expected")]
    UnexpectedMarker {
        tag: char,
        marker: char,
        expected: &'static str,
    },
    #[error(
        "pgoutput message '{tag}' holds a column in binary format; the connector asks for text"
    )]
    BinaryColumn { tag: char },
    #[error("pgoutput message '{tag}' holds a string that is not UTF-8")]
    NotUtf8 { tag: char },
}

/// Reads a message field by field.
struct Reader {
    tag: char,
    data: Bytes,
}

impl Reader {
    fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        if self.data.len() < n {
            return Err(DecodeError::Truncated {
                tag: self.tag,
                what,
            });
        }
        Ok(self.data.split_to(n))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    fn i16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(self.i32(what)? as u32)
    }

    /// A NUL-terminated string.
    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .ok_or(DecodeError::Truncated {
                tag: self.tag,
                what,
            })?;
        let bytes = self.data.split_to(end);
        self.data.advance_one();
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::NotUtf8 { tag: self.tag })
    }

    fn tuple(&mut self) -> Result<Tuple, DecodeError> {
        let count = self.i16("the column count of a tuple")?.max(0) as usize;
        let mut values = Vec::with_capacity(count);
        for _ in 0..count {
            let value = match self.u8("a column kind")? {
                b'n' => ColumnValue::Null,
                b'u' => ColumnValue::UnchangedToast,
                b't' => {
                    let len = self.i32("a column length")?.max(0) as usize;
                    ColumnValue::Text(self.take(len, "a column value")?)
                }
                b'b' => return Err(DecodeError::BinaryColumn { tag: self.tag }),
                other => {
                    return Err(DecodeError::UnexpectedMarker {
                        tag: self.tag,
                        marker: other as char,
                        expected: "a column kind (n, u, t)",
                    })
                }
            };
            values.push(value);
        }
        Ok(values)
    }
}

trait AdvanceOne {
    fn advance_one(&mut self);
}

impl AdvanceOne for Bytes {
    fn advance_one(&mut self) {
        let _ = self.split_to(1.min(self.len()));
    }
}

/// Decodes one pgoutput message (the payload of an XLogData message).
pub fn decode(data: Bytes) -> Result<Message, DecodeError> {
    let Some(&tag) = data.first() else {
        return Err(DecodeError::Empty);
    };
    let mut r = Reader {
        tag: tag as char,
        data: data.slice(1..),
    };
    match tag {
        b'R' => {
            let id = r.u32("the relation id")?;
            let schema = r.string("the schema name")?;
            let table = r.string("the table name")?;
            let replica_identity = r.u8("the replica identity")?;
            let count = r.i16("the column count")?.max(0) as usize;
            let mut columns = Vec::with_capacity(count);
            for _ in 0..count {
                let flags = r.u8("the column flags")?;
                let name = r.string("a column name")?;
                let type_oid = r.u32("a column type")?;
                let type_modifier = r.i32("a column type modifier")?;
                columns.push(RelationColumn {
                    is_key: flags & 1 == 1,
                    name,
                    type_oid,
                    type_modifier,
                });
            }
            Ok(Message::Relation(Relation {
                id,
                schema,
                table,
                replica_identity,
                columns,
            }))
        }
        b'I' => {
            let relation_id = r.u32("the relation id")?;
            expect(&mut r, b"N", "N (new tuple)")?;
            Ok(Message::Insert {
                relation_id,
                new: r.tuple()?,
            })
        }
        b'U' => {
            let relation_id = r.u32("the relation id")?;
            let marker = expect(&mut r, b"KON", "K, O or N")?;
            let old = if marker == b'N' {
                None
            } else {
                let old = r.tuple()?;
                expect(&mut r, b"N", "N (new tuple)")?;
                Some(old)
            };
            Ok(Message::Update {
                relation_id,
                old,
                new: r.tuple()?,
            })
        }
        b'D' => {
            let relation_id = r.u32("the relation id")?;
            expect(&mut r, b"KO", "K or O (old tuple)")?;
            Ok(Message::Delete {
                relation_id,
                old: r.tuple()?,
            })
        }
        b'T' => {
            let count = r.u32("the relation count")? as usize;
            let _options = r.u8("the truncate options")?;
            let relation_ids = (0..count)
                .map(|_| r.u32("a relation id"))
                .collect::<Result<_, _>>()?;
            Ok(Message::Truncate { relation_ids })
        }
        other => Ok(Message::Ignored(other)),
    }
}

fn expect(r: &mut Reader, allowed: &[u8], expected: &'static str) -> Result<u8, DecodeError> {
    let marker = r.u8(expected)?;
    if allowed.contains(&marker) {
        Ok(marker)
    } else {
        Err(DecodeError::UnexpectedMarker {
            tag: r.tag,
            marker: marker as char,
            expected,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes a tuple the way pgoutput does (text values only).
    pub(crate) fn encode_tuple(out: &mut Vec<u8>, values: &[Option<&str>]) {
        out.extend_from_slice(&(values.len() as i16).to_be_bytes());
        for v in values {
            match v {
                None => out.push(b'n'),
                Some(text) => {
                    out.push(b't');
                    out.extend_from_slice(&(text.len() as i32).to_be_bytes());
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
    }

    fn relation_message() -> Vec<u8> {
        let mut m = vec![b'R'];
        m.extend_from_slice(&16384u32.to_be_bytes());
        m.extend_from_slice(b"public\0items\0d");
        m.extend_from_slice(&2i16.to_be_bytes());
        m.push(1);
        m.extend_from_slice(b"id\0");
        m.extend_from_slice(&23u32.to_be_bytes());
        m.extend_from_slice(&(-1i32).to_be_bytes());
        m.push(0);
        m.extend_from_slice(b"price\0");
        m.extend_from_slice(&1700u32.to_be_bytes());
        m.extend_from_slice(&(((10 << 16) | 2) + 4i32).to_be_bytes());
        m
    }

    #[test]
    fn decodes_a_relation() {
        let Message::Relation(r) = decode(Bytes::from(relation_message())).unwrap() else {
            panic!("not a relation");
        };
        assert_eq!(
            (r.id, r.schema.as_str(), r.table.as_str()),
            (16384, "public", "items")
        );
        assert_eq!(r.replica_identity, b'd');
        assert!(r.columns[0].is_key && !r.columns[1].is_key);
        assert_eq!(r.columns[1].name, "price");
        assert_eq!(r.columns[1].type_oid, 1700);
        assert_eq!(r.columns[1].type_modifier, (10 << 16) + 6);
    }

    #[test]
    fn decodes_insert_update_with_old_key_and_delete() {
        let mut insert = vec![b'I'];
        insert.extend_from_slice(&7u32.to_be_bytes());
        insert.push(b'N');
        encode_tuple(&mut insert, &[Some("1"), None]);
        assert_eq!(
            decode(Bytes::from(insert)).unwrap(),
            Message::Insert {
                relation_id: 7,
                new: vec![
                    ColumnValue::Text(Bytes::from_static(b"1")),
                    ColumnValue::Null
                ],
            }
        );

        let mut update = vec![b'U'];
        update.extend_from_slice(&7u32.to_be_bytes());
        update.push(b'K');
        encode_tuple(&mut update, &[Some("1"), None]);
        update.push(b'N');
        encode_tuple(&mut update, &[Some("2"), Some("x")]);
        let Message::Update { old, new, .. } = decode(Bytes::from(update)).unwrap() else {
            panic!("not an update");
        };
        assert_eq!(old.unwrap()[0], ColumnValue::Text(Bytes::from_static(b"1")));
        assert_eq!(new[1], ColumnValue::Text(Bytes::from_static(b"x")));

        let mut delete = vec![b'D'];
        delete.extend_from_slice(&7u32.to_be_bytes());
        delete.push(b'K');
        encode_tuple(&mut delete, &[Some("2"), None]);
        assert!(matches!(
            decode(Bytes::from(delete)).unwrap(),
            Message::Delete { relation_id: 7, .. }
        ));
    }

    #[test]
    fn decodes_a_truncate_of_two_tables() {
        let mut m = vec![b'T'];
        m.extend_from_slice(&2u32.to_be_bytes());
        m.push(0);
        m.extend_from_slice(&5u32.to_be_bytes());
        m.extend_from_slice(&6u32.to_be_bytes());
        assert_eq!(
            decode(Bytes::from(m)).unwrap(),
            Message::Truncate {
                relation_ids: vec![5, 6]
            }
        );
    }

    #[test]
    fn malformed_messages_are_errors_naming_what_is_missing() {
        assert_eq!(decode(Bytes::new()), Err(DecodeError::Empty));
        let short = relation_message()[..12].to_vec();
        assert!(matches!(
            decode(Bytes::from(short)),
            Err(DecodeError::Truncated { tag: 'R', .. })
        ));
        let mut bad = vec![b'I'];
        bad.extend_from_slice(&7u32.to_be_bytes());
        bad.push(b'X');
        assert!(decode(Bytes::from(bad))
            .unwrap_err()
            .to_string()
            .contains("unexpected marker 'X'"));
    }

    #[test]
    fn type_and_origin_messages_are_ignored() {
        assert_eq!(
            decode(Bytes::from_static(b"Y\0\0\0\x01")).unwrap(),
            Message::Ignored(b'Y')
        );
    }
}
