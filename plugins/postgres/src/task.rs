//! `PostgresSourceTask`: the snapshot, then the change stream, and the slot's confirmed LSN.
//!
//! The task owns a tokio runtime (one worker thread, so the replication client keeps answering
//! the server's keepalives between polls) and blocks on it in each call: nothing async crosses
//! the plugin boundary.
//!
//! Phases: `Snapshot` (rows of the exported snapshot; the replication session waits, gated,
//! holding the slot's start point) → `Streaming` (changes from the slot) or, with
//! `snapshot.mode=initial_only`, `Idle`.
//!
//! Invariants:
//! - records of a transaction carry that transaction's position; a transaction is handed to
//!   the [`AckTracker`] when its Commit arrives, so the slot is confirmed only up to the end of
//!   transactions whose records (and all earlier records) the worker stored offsets for;
//! - on resume, changes at or before the stored offset are skipped
//!   ([`StoredOffset::already_delivered`]), so a replayed transaction yields only what was not
//!   acknowledged;
//! - a keepalive confirms the server's position only when nothing read is unacknowledged and
//!   no transaction is open.

use crate::config::{PostgresSettings, SnapshotMode};
use crate::offsets::{self, AckTracker, StoredOffset, StreamPosition, Transaction};
use crate::pgoutput::{self, Message, Relation, Tuple};
use crate::records::{
    ChangeSource, ColumnDefinition, Operation, RecordBuilder, SnapshotMarker, TableSchema,
};
use crate::session::{self, create_slot, SqlSession};
use crate::snapshot::SnapshotReader;
use crate::PostgresError;
use kconnect_plugin_api::{
    Config, ConnectResult, SourceMap, SourceRecord, SourceTask, TaskContext,
};
use pgwire_replication::{Lsn, ReplicationClient, ReplicationEvent};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The task of [`PostgresConnector`](crate::PostgresConnector).
#[derive(Default)]
pub struct PostgresSourceTask {
    running: Option<Running>,
}

impl SourceTask for PostgresSourceTask {
    fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
        let settings = PostgresSettings::parse(&config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kconnect-postgres")
            .enable_all()
            .build()
            .map_err(PostgresError::Runtime)?;
        let state = runtime.block_on(State::start(settings, &context))?;
        self.running = Some(Running {
            runtime,
            context,
            state,
        });
        Ok(())
    }

    fn poll(&mut self, timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
        let running = self
            .running
            .as_mut()
            .ok_or(PostgresError::NotStarted("poll"))?;
        Ok(running.runtime.block_on(running.state.poll(timeout))?)
    }

    fn commit(&mut self) -> ConnectResult<()> {
        let Some(running) = self.running.as_mut() else {
            return Ok(());
        };
        let stored = running.context.offset(&running.state.partition);
        let stored = StoredOffset::parse(stored.as_ref()).map_err(PostgresError::from)?;
        running.state.acknowledged(&stored);
        Ok(())
    }

    fn stop(&mut self) -> ConnectResult<()> {
        if let Some(running) = self.running.take() {
            let Running { runtime, state, .. } = running;
            let result = runtime.block_on(state.stop());
            runtime.shutdown_timeout(Duration::from_secs(5));
            result?;
        }
        Ok(())
    }
}

struct Running {
    runtime: tokio::runtime::Runtime,
    context: TaskContext,
    state: State,
}

/// The snapshot being read: its rows are stamped with the slot's start point and the time the
/// snapshot began.
struct SnapshotPhase {
    reader: SnapshotReader,
    schemas: Vec<TableSchema>,
    lsn: u64,
    ts_us: i64,
}

enum Phase {
    Snapshot(Box<SnapshotPhase>),
    Streaming,
    Idle,
}

/// The transaction being read.
struct OpenTransaction {
    tx: Transaction,
    /// The end of the commit before it (its offsets' `lsn_commit`).
    previous_commit_end: u64,
    commit_time_us: i64,
    last_record_lsn: Option<u64>,
}

struct State {
    settings: PostgresSettings,
    builder: RecordBuilder,
    partition: SourceMap,
    /// Catalog queries while streaming.
    sql: SqlSession,
    stream: ReplicationClient,
    started: bool,
    phase: Phase,
    /// Relation id → the table's schemas, `None` for a table that is not captured.
    relations: HashMap<u32, Option<TableSchema>>,
    stored: StoredOffset,
    acks: AckTracker,
    open: Option<OpenTransaction>,
    /// The end of the last commit read in this session (Debezium's `sequence` names it).
    last_commit_lsn: Option<u64>,
    /// Where this session's stream starts (the slot's confirmed or consistent point): the
    /// `lsn_commit` of transactions before the session read a commit.
    stream_start: u64,
    server_position: u64,
    last_heartbeat: Instant,
}

impl State {
    async fn start(
        settings: PostgresSettings,
        context: &TaskContext,
    ) -> Result<State, PostgresError> {
        let partition = offsets::partition(&settings.topic_prefix);
        let mut stored = StoredOffset::parse(context.offset(&partition).as_ref())?;
        let mut sql = SqlSession::connect(&settings).await?;
        let catalog = sql.tables(&settings, None).await?;
        sql.ensure_publication(&settings, &catalog).await?;
        let mut slot = sql.slot(&settings).await?;

        let snapshot_needed = match settings.snapshot_mode {
            SnapshotMode::NoData => false,
            SnapshotMode::Always => true,
            SnapshotMode::Initial | SnapshotMode::InitialOnly => {
                matches!(
                    stored,
                    StoredOffset::None | StoredOffset::SnapshotIncomplete
                )
            }
            SnapshotMode::WhenNeeded => {
                matches!(
                    stored,
                    StoredOffset::None | StoredOffset::SnapshotIncomplete
                ) || slot.is_none()
            }
        };
        if snapshot_needed && stored == StoredOffset::SnapshotIncomplete && slot.is_some() {
            // Nothing was streamed from this slot yet: recreating it gives the redone
            // snapshot an exported start point again.
            log::info!(
                "the previous snapshot did not complete: dropping slot {} to redo it",
                settings.slot_name
            );
            sql.drop_slot(&settings.slot_name).await?;
            slot = None;
        }
        if snapshot_needed {
            // The snapshot's records supersede what was stored.
            stored = StoredOffset::None;
        }

        let mut stream = ReplicationClient::connect_gated(session::replication_config(&settings)?)
            .await
            .map_err(|e| PostgresError::connect(&settings.hostname, e))?;
        let (start_lsn, exported) = match slot {
            Some(confirmed) => (confirmed.as_u64(), None),
            None => {
                let created = create_slot(&mut stream, &settings.slot_name).await?;
                log::info!(
                    "created replication slot {} at {}",
                    settings.slot_name,
                    created.consistent_point
                );
                (
                    created.consistent_point.as_u64(),
                    Some(created.snapshot_name),
                )
            }
        };
        let builder = RecordBuilder::new(
            &settings.topic_prefix,
            &settings.dbname,
            settings.tombstones_on_delete,
        );

        let phase = if snapshot_needed {
            let tables: Vec<(String, String)> = catalog.keys().cloned().collect();
            let schemas = schemas_of(&settings, &builder, &catalog);
            let snapshot_session = SqlSession::connect(&settings).await?;
            let reader = SnapshotReader::begin(
                snapshot_session,
                tables,
                exported.as_deref(),
                settings.snapshot_fetch_size,
            )
            .await?;
            Phase::Snapshot(Box::new(SnapshotPhase {
                reader,
                schemas,
                lsn: start_lsn,
                ts_us: now_us(),
            }))
        } else if settings.snapshot_mode == SnapshotMode::InitialOnly {
            Phase::Idle
        } else {
            Phase::Streaming
        };
        let mut state = State {
            builder,
            partition,
            sql,
            stream,
            started: false,
            phase,
            relations: HashMap::new(),
            stored,
            acks: AckTracker::default(),
            open: None,
            last_commit_lsn: None,
            stream_start: start_lsn,
            server_position: start_lsn,
            last_heartbeat: Instant::now(),
            settings,
        };
        if matches!(state.phase, Phase::Streaming) {
            state.start_streaming().await?;
        }
        log::info!(
            "PostgreSQL source {} started (slot {}, publication {}, resuming from {:?})",
            state.settings.topic_prefix,
            state.settings.slot_name,
            state.settings.publication_name,
            state.stored
        );
        Ok(state)
    }

    async fn start_streaming(&mut self) -> Result<(), PostgresError> {
        self.stream.start().await.map_err(PostgresError::stream)?;
        self.stream
            .wait_started()
            .await
            .map_err(PostgresError::stream)?;
        self.started = true;
        self.phase = Phase::Streaming;
        log::info!("streaming changes from slot {}", self.settings.slot_name);
        Ok(())
    }

    async fn poll(&mut self, timeout: Duration) -> Result<Vec<SourceRecord>, PostgresError> {
        match &mut self.phase {
            Phase::Snapshot(_) => self.poll_snapshot().await,
            Phase::Streaming => self.poll_stream(timeout).await,
            Phase::Idle => {
                tokio::time::sleep(timeout.min(Duration::from_secs(1))).await;
                Ok(Vec::new())
            }
        }
    }

    async fn poll_snapshot(&mut self) -> Result<Vec<SourceRecord>, PostgresError> {
        let Phase::Snapshot(snapshot) = &mut self.phase else {
            return Ok(Vec::new());
        };
        let SnapshotPhase {
            reader,
            schemas,
            lsn,
            ts_us,
        } = snapshot.as_mut();
        let rows = reader.next_rows(self.settings.max_batch_size).await?;
        let mut records = Vec::with_capacity(rows.len());
        let now = now_us();
        for row in rows {
            let table = &schemas[row.table];
            let at = ChangeSource {
                ts_us: *ts_us,
                tx_id: Some(reader.tx_id),
                lsn: Some(*lsn),
                sequence: None,
                snapshot: row.marker,
                offset: offsets::snapshot_offset(
                    *lsn,
                    reader.tx_id,
                    *ts_us,
                    row.marker == SnapshotMarker::Last,
                ),
                processed_us: now,
            };
            self.builder
                .change(
                    table,
                    Operation::Read,
                    None,
                    Some(&row.tuple),
                    &at,
                    &mut records,
                )
                .map_err(|e| PostgresError::value(table, e))?;
        }
        if reader.done() {
            log::info!("snapshot complete");
            let lsn = *lsn;
            self.stored = StoredOffset::SnapshotComplete { lsn };
            if self.settings.snapshot_mode == SnapshotMode::InitialOnly {
                self.phase = Phase::Idle;
            } else {
                self.start_streaming().await?;
            }
        }
        Ok(records)
    }

    async fn poll_stream(&mut self, timeout: Duration) -> Result<Vec<SourceRecord>, PostgresError> {
        let mut records = Vec::new();
        let wait = self.settings.poll_interval.min(timeout);
        let mut deadline = tokio::time::Instant::now() + wait;
        while records.len() < self.settings.max_batch_size {
            let event = match tokio::time::timeout_at(deadline, self.stream.recv()).await {
                Err(_elapsed) => break,
                Ok(Ok(Some(event))) => event,
                Ok(Ok(None)) => {
                    return Err(PostgresError::Stream(
                        "the server ended the replication stream".into(),
                    ))
                }
                Ok(Err(e)) => return Err(PostgresError::stream(e)),
            };
            let before = records.len();
            self.handle(event, &mut records).await?;
            if records.len() > before {
                // Something to hand out: take what is already buffered, wait no longer.
                deadline = tokio::time::Instant::now();
            }
        }
        self.maybe_heartbeat(&mut records);
        Ok(records)
    }

    async fn handle(
        &mut self,
        event: ReplicationEvent,
        out: &mut Vec<SourceRecord>,
    ) -> Result<(), PostgresError> {
        match event {
            ReplicationEvent::Begin {
                final_lsn,
                xid,
                commit_time_micros,
            } => {
                self.open = Some(OpenTransaction {
                    tx: Transaction {
                        final_lsn: final_lsn.as_u64(),
                        xid,
                    },
                    previous_commit_end: self.last_commit_lsn.unwrap_or(self.stream_start),
                    commit_time_us: commit_time_micros + PG_EPOCH_OFFSET_US,
                    last_record_lsn: None,
                });
            }
            ReplicationEvent::Commit { end_lsn, .. } => {
                if let Some(tx) = self.open.take() {
                    self.acks
                        .transaction_done(tx.tx, tx.last_record_lsn, end_lsn.as_u64());
                }
                // Debezium's `sequence` names the end of the previous commit.
                self.last_commit_lsn = Some(end_lsn.as_u64());
                self.server_position = self.server_position.max(end_lsn.as_u64());
            }
            ReplicationEvent::XLogData {
                wal_start, data, ..
            } => {
                let message = pgoutput::decode(data)?;
                self.change(wal_start.as_u64(), message, out).await?;
            }
            ReplicationEvent::KeepAlive { wal_end, .. } => {
                self.server_position = self.server_position.max(wal_end.as_u64());
                if self.open.is_none()
                    && self.acks.is_idle()
                    && wal_end.as_u64() > self.acks.confirmed()
                {
                    // Everything read was acknowledged: the server's position is safe.
                    self.stream.update_applied_lsn(wal_end);
                }
            }
            ReplicationEvent::Message { .. } | ReplicationEvent::StoppedAt { .. } => {}
        }
        Ok(())
    }

    async fn change(
        &mut self,
        lsn: u64,
        message: Message,
        out: &mut Vec<SourceRecord>,
    ) -> Result<(), PostgresError> {
        let (relation_id, op, before, after): (u32, Operation, Option<Tuple>, Option<Tuple>) =
            match message {
                Message::Relation(relation) => {
                    let schema = self.table_schema(&relation).await?;
                    self.relations.insert(relation.id, schema);
                    return Ok(());
                }
                Message::Insert { relation_id, new } => {
                    (relation_id, Operation::Create, None, Some(new))
                }
                Message::Update {
                    relation_id,
                    old,
                    new,
                } => (relation_id, Operation::Update, old, Some(new)),
                Message::Delete { relation_id, old } => {
                    (relation_id, Operation::Delete, Some(old), None)
                }
                Message::Truncate { relation_ids } => {
                    for relation_id in relation_ids {
                        self.emit(lsn, relation_id, Operation::Truncate, None, None, out)?;
                    }
                    return Ok(());
                }
                Message::Ignored(_) => return Ok(()),
            };
        self.emit(lsn, relation_id, op, before.as_ref(), after.as_ref(), out)
    }

    fn emit(
        &mut self,
        lsn: u64,
        relation_id: u32,
        op: Operation,
        before: Option<&Tuple>,
        after: Option<&Tuple>,
        out: &mut Vec<SourceRecord>,
    ) -> Result<(), PostgresError> {
        let emitted = &self.settings.emitted;
        let wanted = match op {
            Operation::Create => emitted.create,
            Operation::Update => emitted.update,
            Operation::Delete => emitted.delete,
            Operation::Truncate => emitted.truncate,
            Operation::Read => true,
        };
        let Some(tx) = self.open.as_mut() else {
            return Err(PostgresError::Stream(format!(
                "a change at {} outside a transaction",
                Lsn(lsn)
            )));
        };
        let table = match self.relations.get(&relation_id) {
            Some(Some(table)) => table,
            Some(None) => return Ok(()),
            None => {
                return Err(PostgresError::Stream(format!(
                    "a change of relation {relation_id} before its Relation message"
                )))
            }
        };
        if !wanted || self.stored.already_delivered(tx.tx, lsn) {
            return Ok(());
        }
        let position = StreamPosition {
            lsn,
            lsn_commit: tx.previous_commit_end,
            tx_id: tx.tx.xid,
            commit_time_us: tx.commit_time_us,
        };
        let at = ChangeSource {
            ts_us: tx.commit_time_us,
            tx_id: Some(tx.tx.xid as i64),
            lsn: Some(lsn),
            sequence: Some(format!(
                "[{},\"{lsn}\"]",
                self.last_commit_lsn
                    .map_or("null".to_string(), |l| format!("\"{l}\""))
            )),
            snapshot: SnapshotMarker::False,
            offset: offsets::streaming_offset(&position, op.message_type()),
            processed_us: now_us(),
        };
        self.builder
            .change(table, op, before, after, &at, out)
            .map_err(|e| PostgresError::value(table, e))?;
        tx.last_record_lsn = Some(lsn);
        Ok(())
    }

    /// The schemas of a table pgoutput described, with nullability and the primary key from
    /// the catalog (pgoutput's key flags are the replica identity, all columns under FULL).
    async fn table_schema(
        &mut self,
        relation: &Relation,
    ) -> Result<Option<TableSchema>, PostgresError> {
        if !self
            .settings
            .tables
            .includes(&relation.schema, &relation.table)
        {
            return Ok(None);
        }
        let catalog = self
            .sql
            .tables(&self.settings, Some((&relation.schema, &relation.table)))
            .await?;
        let columns: Vec<ColumnDefinition> = catalog.into_values().next().unwrap_or_default();
        let by_name: HashMap<&str, &ColumnDefinition> =
            columns.iter().map(|c| (c.name.as_str(), c)).collect();
        let mut relation = relation.clone();
        let has_primary_key = columns.iter().any(|c| c.is_key);
        for column in &mut relation.columns {
            if let Some(known) = by_name.get(column.name.as_str()) {
                if has_primary_key {
                    column.is_key = known.is_key;
                }
            }
        }
        Ok(Some(TableSchema::from_relation(
            &self.settings.topic_prefix,
            &relation,
            &|name| by_name.get(name).map(|c| (*c).clone()),
            &|column| {
                self.settings
                    .tables
                    .includes_column(&relation.schema, &relation.table, column)
            },
            &self.settings.types,
            &self.builder.source_schema,
        )))
    }

    fn maybe_heartbeat(&mut self, out: &mut Vec<SourceRecord>) {
        let Some(interval) = self.settings.heartbeat_interval else {
            return;
        };
        if self.open.is_some()
            || self.last_heartbeat.elapsed() < interval
            || self.server_position == 0
        {
            return;
        }
        self.last_heartbeat = Instant::now();
        let lsn = self.server_position;
        let position = StreamPosition {
            lsn,
            lsn_commit: lsn,
            tx_id: 0,
            commit_time_us: now_us(),
        };
        let mut offset = offsets::streaming_offset(&position, "HEARTBEAT");
        offset.insert(offsets::TX_ID, kconnect_plugin_api::Value::Null);
        self.acks.transaction_done(
            Transaction {
                final_lsn: lsn,
                xid: 0,
            },
            Some(lsn),
            lsn,
        );
        out.push(
            self.builder
                .heartbeat(&self.settings.heartbeat_topic, offset, now_us() / 1000),
        );
    }

    fn acknowledged(&mut self, stored: &StoredOffset) {
        if let Some(lsn) = self.acks.acknowledged(stored) {
            log::debug!(
                "confirming {} to slot {}",
                Lsn(lsn),
                self.settings.slot_name
            );
            self.stream.update_applied_lsn(Lsn(lsn));
        }
    }

    async fn stop(mut self) -> Result<(), PostgresError> {
        if let Phase::Snapshot(snapshot) = std::mem::replace(&mut self.phase, Phase::Idle) {
            drop(snapshot.reader.into_session().await);
        }
        if self.started {
            let shutdown =
                tokio::time::timeout(Duration::from_secs(10), self.stream.shutdown()).await;
            if !matches!(shutdown, Ok(Ok(()))) {
                self.stream.abort();
            }
        }
        drop(self.stream);
        if self.settings.slot_drop_on_stop {
            // The walsender lets go of the slot shortly after the stream ends.
            for attempt in 0..20 {
                match self.sql.drop_slot(&self.settings.slot_name).await {
                    Ok(()) => break,
                    Err(e) if attempt == 19 => return Err(e),
                    Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
            log::info!("dropped slot {}", self.settings.slot_name);
        }
        Ok(())
    }
}

/// The schemas of the catalog's tables, in the catalog's order.
fn schemas_of(
    settings: &PostgresSettings,
    builder: &RecordBuilder,
    catalog: &BTreeMap<(String, String), Vec<ColumnDefinition>>,
) -> Vec<TableSchema> {
    catalog
        .iter()
        .map(|((schema, table), columns)| {
            TableSchema::new(
                &settings.topic_prefix,
                schema,
                table,
                columns,
                &|column| settings.tables.includes_column(schema, table, column),
                &settings.types,
                &builder.source_schema,
            )
        })
        .collect()
}
