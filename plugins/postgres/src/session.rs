//! Connections to PostgreSQL and the SQL the connector runs: the catalog of captured tables,
//! the publication, the replication slot.
//!
//! Every connection is a `replication=database` session of `pgwire-replication`: before
//! `START_REPLICATION` such a session runs plain SQL (simple query protocol, text results) as
//! well as replication commands, so one client gives the connector SQL, snapshots and the
//! change stream, with the same TLS and SCRAM code. A session fixes the output formats the
//! value parsers rely on ([`SESSION_OPTIONS`]).
//!
//! Invariant: names that reach SQL text are quoted ([`quote_ident`], [`quote_literal`]).

use crate::config::{AutocreateMode, PostgresSettings};
use crate::records::ColumnDefinition;
use crate::types::CatalogType;
use crate::PostgresError;
use pgwire_replication::{Lsn, QueryRow, ReplicationClient, ReplicationConfig, TlsConfig};
use std::collections::BTreeMap;
use std::time::Duration;

/// Output formats the text parsers of [`crate::types`] expect, for every session.
pub const SESSION_OPTIONS: &str =
    "-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex";

/// `"name"` with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The client config of a session on the configured database.
pub fn replication_config(settings: &PostgresSettings) -> Result<ReplicationConfig, PostgresError> {
    let tls = match settings.sslmode.as_str() {
        "disable" => TlsConfig::disabled(),
        "require" | "prefer" => TlsConfig::require(),
        "verify-ca" => TlsConfig::verify_ca(settings.sslrootcert.clone().map(Into::into)),
        _ => TlsConfig::verify_full(settings.sslrootcert.clone().map(Into::into)),
    };
    Ok(ReplicationConfig::new(
        settings.hostname.clone(),
        settings.user.clone(),
        settings.password.clone(),
        settings.dbname.clone(),
        settings.slot_name.clone(),
        settings.publication_name.clone(),
    )
    .with_port(settings.port)
    .with_tls(tls)
    .with_options(SESSION_OPTIONS)
    .with_application_name("kconnect-postgres")
    .with_buffer_size(settings.max_queue_size)
    .with_status_interval(settings.status_update_interval)
    .with_wakeup_interval(Duration::from_secs(10)))
}

/// A session that runs SQL (it never starts replication).
pub struct SqlSession {
    client: ReplicationClient,
    what: String,
}

/// The text of column `i` of a row ("" for NULL).
pub fn text(row: &QueryRow, i: usize) -> String {
    row.get(i)
        .and_then(|v| v.as_ref())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// The text of column `i` of a row, `None` for NULL.
pub fn optional_text(row: &QueryRow, i: usize) -> Option<String> {
    row.get(i)
        .and_then(|v| v.as_ref())
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

impl SqlSession {
    pub async fn connect(settings: &PostgresSettings) -> Result<SqlSession, PostgresError> {
        let what = format!(
            "{}@{}:{}/{}",
            settings.user, settings.hostname, settings.port, settings.dbname
        );
        let client = ReplicationClient::connect_gated(replication_config(settings)?)
            .await
            .map_err(|e| PostgresError::connect(&what, e))?;
        let mut session = SqlSession { client, what };
        // The client connects in the background: the first query tells whether the server can
        // be reached and accepts the login.
        if let Err(e) = session.client.simple_query("SELECT 1").await {
            return Err(PostgresError::connect(&session.what, e));
        }
        Ok(session)
    }

    pub async fn query(&mut self, sql: &str) -> Result<Vec<QueryRow>, PostgresError> {
        self.client
            .simple_query(sql)
            .await
            .map_err(|e| PostgresError::Sql {
                sql: sql.chars().take(200).collect(),
                on: self.what.clone(),
                error: e.to_string(),
            })
    }

    /// Captured tables and their columns (in column order), keyed by `(schema, table)`.
    pub async fn tables(
        &mut self,
        settings: &PostgresSettings,
        only: Option<(&str, &str)>,
    ) -> Result<BTreeMap<(String, String), Vec<ColumnDefinition>>, PostgresError> {
        let filter = match only {
            Some((schema, table)) => format!(
                " AND n.nspname = {} AND c.relname = {}",
                quote_literal(schema),
                quote_literal(table)
            ),
            None => String::new(),
        };
        let rows = self
            .query(&format!(
                "SELECT n.nspname, c.relname, a.attname, a.atttypid, a.atttypmod, a.attnotnull, \
                 COALESCE(a.attnum = ANY(i.indkey), false), pg_get_expr(d.adbin, d.adrelid), \
                 CASE WHEN t.typcategory = 'A' THEN t.typelem END, \
                 (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) \
                  FROM pg_enum e WHERE e.enumtypid = a.atttypid) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                 LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary \
                 LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
                 JOIN pg_type t ON t.oid = a.atttypid \
                 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                 AND n.nspname NOT LIKE 'pg_toast%'{filter} \
                 ORDER BY n.nspname, c.relname, a.attnum"
            ))
            .await?;
        let mut tables: BTreeMap<(String, String), Vec<ColumnDefinition>> = BTreeMap::new();
        for row in &rows {
            let (schema, table) = (text(row, 0), text(row, 1));
            if !settings.tables.includes(&schema, &table) {
                continue;
            }
            tables
                .entry((schema, table))
                .or_default()
                .push(ColumnDefinition {
                    name: text(row, 2),
                    type_oid: text(row, 3).parse().unwrap_or(0),
                    type_modifier: text(row, 4).parse().unwrap_or(-1),
                    not_null: text(row, 5) == "t",
                    is_key: text(row, 6) == "t",
                    default_expr: optional_text(row, 7),
                    catalog_type: CatalogType {
                        element_oid: optional_text(row, 8).and_then(|t| t.parse().ok()),
                        enum_labels: optional_text(row, 9),
                    },
                });
        }
        Ok(tables)
    }

    /// Makes sure the publication exists (and, in `filtered` mode, publishes exactly the
    /// captured tables).
    pub async fn ensure_publication(
        &mut self,
        settings: &PostgresSettings,
        tables: &BTreeMap<(String, String), Vec<ColumnDefinition>>,
    ) -> Result<(), PostgresError> {
        let name = &settings.publication_name;
        let exists = !self
            .query(&format!(
                "SELECT 1 FROM pg_publication WHERE pubname = {}",
                quote_literal(name)
            ))
            .await?
            .is_empty();
        let table_list = || {
            tables
                .keys()
                .map(|(s, t)| format!("{}.{}", quote_ident(s), quote_ident(t)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match settings.publication_autocreate {
            AutocreateMode::Disabled if !exists => Err(PostgresError::MissingPublication {
                publication: name.clone(),
            }),
            AutocreateMode::Disabled => Ok(()),
            AutocreateMode::AllTables if exists => Ok(()),
            AutocreateMode::AllTables => {
                log::info!("creating publication {name} FOR ALL TABLES");
                self.query(&format!(
                    "CREATE PUBLICATION {} FOR ALL TABLES",
                    quote_ident(name)
                ))
                .await
                .map(drop)
            }
            AutocreateMode::Filtered if tables.is_empty() => Err(PostgresError::NoTables),
            AutocreateMode::Filtered => {
                let verb = if exists {
                    "ALTER PUBLICATION {} SET TABLE"
                } else {
                    "CREATE PUBLICATION {} FOR TABLE"
                };
                let sql = format!(
                    "{} {}",
                    verb.replace("{}", &quote_ident(name)),
                    table_list()
                );
                log::info!("{sql}");
                self.query(&sql).await.map(drop)
            }
        }
    }

    /// The slot's confirmed flush LSN, or `None` when the slot does not exist.
    pub async fn slot(
        &mut self,
        settings: &PostgresSettings,
    ) -> Result<Option<Lsn>, PostgresError> {
        let rows = self
            .query(&format!(
                "SELECT confirmed_flush_lsn, plugin, database FROM pg_replication_slots WHERE slot_name = {}",
                quote_literal(&settings.slot_name)
            ))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let (plugin, database) = (text(row, 1), text(row, 2));
        if plugin != "pgoutput" || database != settings.dbname {
            return Err(PostgresError::ForeignSlot {
                slot: settings.slot_name.clone(),
                plugin,
                database,
            });
        }
        Ok(Some(Lsn::parse(&text(row, 0)).unwrap_or(Lsn::ZERO)))
    }

    pub async fn drop_slot(&mut self, slot: &str) -> Result<(), PostgresError> {
        self.query(&format!(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = {}",
            quote_literal(slot)
        ))
        .await
        .map(drop)
    }
}

/// What `CREATE_REPLICATION_SLOT … EXPORT_SNAPSHOT` answered.
#[derive(Clone, Debug)]
pub struct CreatedSlot {
    pub consistent_point: Lsn,
    pub snapshot_name: String,
}

/// Creates the slot on the (gated, not started) replication session, exporting a snapshot
/// that stays valid while that session runs no other command.
pub async fn create_slot(
    stream: &mut ReplicationClient,
    slot: &str,
) -> Result<CreatedSlot, PostgresError> {
    let sql = format!(
        "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput EXPORT_SNAPSHOT",
        quote_ident(slot)
    );
    let rows = stream
        .simple_query(&sql)
        .await
        .map_err(|e| PostgresError::Sql {
            sql: sql.clone(),
            on: "the replication session".into(),
            error: e.to_string(),
        })?;
    let row = rows.first().ok_or_else(|| PostgresError::Sql {
        sql: sql.clone(),
        on: "the replication session".into(),
        error: "no row returned".into(),
    })?;
    Ok(CreatedSlot {
        consistent_point: Lsn::parse(&text(row, 1)).map_err(|e| PostgresError::Sql {
            sql,
            on: "the replication session".into(),
            error: format!("bad consistent point: {e}"),
        })?,
        snapshot_name: text(row, 2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
