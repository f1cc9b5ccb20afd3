//! The initial snapshot: every row of the captured tables, as of the replication slot's start
//! point, read in batches.
//!
//! The slot is created with `EXPORT_SNAPSHOT`; this reader imports that snapshot into a
//! `REPEATABLE READ` transaction on its own session (`SET TRANSACTION SNAPSHOT`), so the rows
//! it reads are exactly the database at the slot's consistent point: the stream that follows
//! starts with the first transaction that committed after them. Without an exported snapshot
//! (the slot existed already, `snapshot.mode=always`) the snapshot is the database at the time
//! it starts, and changes between the slot's position and then arrive twice (at-least-once).
//!
//! Tables are read one at a time through a cursor, `snapshot.fetch.size` rows per `FETCH`.
//! One row is held back so that its Debezium marker (`last_in_data_collection`, `last`) is
//! known before it is handed out.
//!
//! Invariant: rows come out in table order, each exactly once, and the last one returned is
//! marked [`SnapshotMarker::Last`] (with `done()` true from then on).

use crate::pgoutput::{ColumnValue, Tuple};
use crate::records::SnapshotMarker;
use crate::session::{quote_ident, quote_literal, text, SqlSession};
use crate::PostgresError;

const CURSOR: &str = "kconnect_snapshot";

/// A row read by the snapshot.
#[derive(Debug)]
pub struct SnapshotRow {
    /// Index of the table in the reader's table list.
    pub table: usize,
    pub tuple: Tuple,
    pub marker: SnapshotMarker,
}

struct HeldRow {
    table: usize,
    tuple: Tuple,
    first_overall: bool,
    first_in_table: bool,
    last_in_table: bool,
}

impl HeldRow {
    fn resolve(self, last_overall: bool) -> SnapshotRow {
        SnapshotRow {
            table: self.table,
            marker: SnapshotMarker::of_snapshot_row(
                self.first_overall,
                last_overall,
                self.first_in_table,
                self.last_in_table || last_overall,
            ),
            tuple: self.tuple,
        }
    }
}

/// Reads the snapshot of a list of tables.
pub struct SnapshotReader {
    session: SqlSession,
    /// `(schema, table)` in reading order.
    tables: Vec<(String, String)>,
    current: usize,
    cursor_open: bool,
    fetch_size: usize,
    held: Option<HeldRow>,
    any_row: bool,
    next_is_first_in_table: bool,
    done: bool,
    /// The transaction id of the snapshot transaction.
    pub tx_id: i64,
}

fn to_tuple(row: Vec<Option<bytes::Bytes>>) -> Tuple {
    row.into_iter()
        .map(|v| v.map_or(ColumnValue::Null, ColumnValue::Text))
        .collect()
}

impl SnapshotReader {
    /// Opens the snapshot transaction, importing `exported` when given.
    pub async fn begin(
        mut session: SqlSession,
        tables: Vec<(String, String)>,
        exported: Option<&str>,
        fetch_size: usize,
    ) -> Result<SnapshotReader, PostgresError> {
        let import = exported
            .map(|name| format!("; SET TRANSACTION SNAPSHOT {}", quote_literal(name)))
            .unwrap_or_default();
        session
            .query(&format!("BEGIN ISOLATION LEVEL REPEATABLE READ{import}"))
            .await?;
        let rows = session.query("SELECT txid_current()").await?;
        let tx_id = rows
            .first()
            .map(|r| text(r, 0))
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        log::info!(
            "snapshot of {} table(s) in transaction {tx_id}{}",
            tables.len(),
            if exported.is_some() {
                " from the slot's exported snapshot"
            } else {
                ""
            }
        );
        Ok(SnapshotReader {
            session,
            tables,
            current: 0,
            cursor_open: false,
            fetch_size,
            held: None,
            any_row: false,
            next_is_first_in_table: true,
            done: false,
            tx_id,
        })
    }

    /// Whether every row was returned.
    pub fn done(&self) -> bool {
        self.done
    }

    /// The next rows, about `limit` of them; empty once [`done`](Self::done).
    pub async fn next_rows(&mut self, limit: usize) -> Result<Vec<SnapshotRow>, PostgresError> {
        let mut out = Vec::with_capacity(limit);
        while out.len() < limit && !self.done {
            if self.current >= self.tables.len() {
                if let Some(held) = self.held.take() {
                    out.push(held.resolve(true));
                }
                self.session.query("COMMIT").await?;
                self.done = true;
                break;
            }
            if !self.cursor_open {
                let (schema, table) = &self.tables[self.current];
                self.session
                    .query(&format!(
                        "DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT * FROM {}.{}",
                        quote_ident(schema),
                        quote_ident(table)
                    ))
                    .await?;
                self.cursor_open = true;
                self.next_is_first_in_table = true;
            }
            let want = self.fetch_size.min(limit.max(1));
            let rows = self
                .session
                .query(&format!("FETCH FORWARD {want} FROM {CURSOR}"))
                .await?;
            let table_ended = rows.len() < want;
            for row in rows {
                if let Some(held) = self.held.take() {
                    out.push(held.resolve(false));
                }
                self.held = Some(HeldRow {
                    table: self.current,
                    tuple: to_tuple(row),
                    first_overall: !self.any_row,
                    first_in_table: self.next_is_first_in_table,
                    last_in_table: false,
                });
                self.any_row = true;
                self.next_is_first_in_table = false;
            }
            if table_ended {
                if let Some(held) = self.held.as_mut().filter(|h| h.table == self.current) {
                    held.last_in_table = true;
                }
                self.session.query(&format!("CLOSE {CURSOR}")).await?;
                self.cursor_open = false;
                self.current += 1;
            }
        }
        Ok(out)
    }

    /// Ends the snapshot transaction early and gives the session back.
    pub async fn into_session(mut self) -> Result<SqlSession, PostgresError> {
        if !self.done {
            self.session.query("ROLLBACK").await?;
        }
        Ok(self.session)
    }
}
