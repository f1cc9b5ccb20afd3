//! The database connection of one task and the one transaction a batch runs in.
//!
//! Invariant: [`Connection::run`] returns `Ok` only after COMMIT succeeded, so offsets the
//! worker commits afterwards never run ahead of the table. Errors are sorted into transient
//! ones (connection lost, deadlock, server shutting down: worth a reconnect and a retry) and
//! permanent ones (the statement itself is wrong for this data).

use crate::config::{Dialect, SinkConfig};
use crate::values::SqlValue;
use crate::JdbcSinkError;
use bytes::BytesMut;
use postgres::types::{Format, IsNull, ToSql, Type};
use std::collections::HashMap;

/// One statement of a batch with its parameters.
pub struct Exec<'a> {
    pub sql: String,
    pub params: Vec<SqlValue<'a>>,
    /// Indices of the first and last record the statement carries, for error messages.
    pub records: (usize, usize),
}

#[derive(Debug)]
pub enum DbError {
    Transient(String),
    /// A statement failed; `exec` is its index when it was a batch statement.
    Permanent {
        exec: Option<usize>,
        message: String,
    },
}

pub enum Connection {
    /// Boxed: the client is large, and a task holds one connection either way.
    Postgres(Box<PostgresSession>),
    MySql(mysql::Conn),
}

/// A PostgreSQL client and the statements it prepared, by SQL text.
pub struct PostgresSession {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

// PostgreSQL gets every parameter as text (bytes as binary), which its input functions parse
// into the column's type: NUMERIC, DATE, TIMESTAMP… need no binary encoders here.
impl ToSql for SqlValue<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Null => return Ok(IsNull::Yes),
            SqlValue::Bytes(b) => out.extend_from_slice(b),
            v => v.write_text(out)?,
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        match self {
            SqlValue::Bytes(_) => Format::Binary,
            _ => Format::Text,
        }
    }

    postgres::types::to_sql_checked!();
}

fn mysql_value(v: &SqlValue) -> mysql::Value {
    match *v {
        SqlValue::Null => mysql::Value::NULL,
        SqlValue::Bool(b) => mysql::Value::Int(b as i64),
        SqlValue::Int(i) => mysql::Value::Int(i),
        SqlValue::Float(f) => mysql::Value::Double(f),
        SqlValue::Text(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        SqlValue::Bytes(b) => mysql::Value::Bytes(b.to_vec()),
        other => {
            let mut text = String::new();
            let _ = other.write_text(&mut text);
            mysql::Value::Bytes(text.into_bytes())
        }
    }
}

fn pg_error(e: postgres::Error, exec: Option<usize>) -> DbError {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            let transient = code.starts_with("08")
                || code.starts_with("57P")
                || matches!(code, "40001" | "40P01" | "53300");
            let message = format!("{}: {} (SQLSTATE {code})", db.severity(), db.message());
            if transient {
                DbError::Transient(message)
            } else {
                DbError::Permanent { exec, message }
            }
        }
        None => DbError::Transient(e.to_string()),
    }
}

fn mysql_error(e: mysql::Error, exec: Option<usize>) -> DbError {
    match e {
        mysql::Error::MySqlError(ref m)
            if !matches!(m.code, 1040 | 1205 | 1213 | 1927 | 2006 | 2013) =>
        {
            DbError::Permanent {
                exec,
                message: format!("{} (error {}, SQLSTATE {})", m.message, m.code, m.state),
            }
        }
        mysql::Error::IoError(_)
        | mysql::Error::DriverError(_)
        | mysql::Error::CodecError(_)
        | mysql::Error::MySqlError(_) => DbError::Transient(e.to_string()),
        other => DbError::Permanent {
            exec,
            message: other.to_string(),
        },
    }
}

impl Connection {
    pub fn connect(config: &SinkConfig) -> Result<Connection, DbError> {
        let t = &config.target;
        match t.dialect {
            Dialect::Postgres => {
                let client = postgres::Config::new()
                    .host(&t.host)
                    .port(t.port)
                    .dbname(&t.database)
                    .user(&config.user)
                    .password(&config.password)
                    .application_name("kconnect-jdbc-sink")
                    .connect(postgres::NoTls)
                    .map_err(|e| pg_error(e, None))?;
                Ok(Connection::Postgres(Box::new(PostgresSession {
                    client,
                    statements: HashMap::new(),
                })))
            }
            Dialect::MySql => {
                let opts = mysql::OptsBuilder::new()
                    .ip_or_hostname(Some(t.host.clone()))
                    .tcp_port(t.port)
                    .db_name(Some(t.database.clone()))
                    .user(Some(config.user.clone()).filter(|u| !u.is_empty()))
                    .pass(Some(config.password.clone()).filter(|p| !p.is_empty()))
                    .prefer_socket(false)
                    .stmt_cache_size(Some(256));
                mysql::Conn::new(opts)
                    .map(Connection::MySql)
                    .map_err(|e| mysql_error(e, None))
            }
        }
    }

    /// The column names of `table` as the catalog has them; empty when there is no such table.
    pub fn table_columns(&mut self, query: &str, table: &str) -> Result<Vec<String>, DbError> {
        use mysql::prelude::Queryable;
        match self {
            Connection::Postgres(session) => Ok(session
                .client
                .query(query, &[&table])
                .map_err(|e| pg_error(e, None))?
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect()),
            Connection::MySql(conn) => conn.exec(query, (table,)).map_err(|e| mysql_error(e, None)),
        }
    }

    /// Runs a DDL statement on its own (MariaDB commits DDL implicitly anyway).
    pub fn ddl(&mut self, sql: &str) -> Result<(), DbError> {
        use mysql::prelude::Queryable;
        log::info!("{sql}");
        match self {
            Connection::Postgres(session) => session
                .client
                .batch_execute(sql)
                .map_err(|e| pg_error(e, None)),
            Connection::MySql(conn) => conn.query_drop(sql).map_err(|e| mysql_error(e, None)),
        }
    }

    /// Runs every statement in one transaction and commits it.
    pub fn run(&mut self, execs: &[Exec]) -> Result<(), DbError> {
        use mysql::prelude::Queryable;
        match self {
            Connection::Postgres(session) => {
                let PostgresSession { client, statements } = &mut **session;
                let mut tx = client.transaction().map_err(|e| pg_error(e, None))?;
                let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::new();
                for (i, exec) in execs.iter().enumerate() {
                    let statement = match statements.get(&exec.sql) {
                        Some(s) => s.clone(),
                        None => {
                            let s = tx.prepare(&exec.sql).map_err(|e| pg_error(e, Some(i)))?;
                            statements.insert(exec.sql.clone(), s.clone());
                            s
                        }
                    };
                    refs.clear();
                    refs.extend(exec.params.iter().map(|p| p as &(dyn ToSql + Sync)));
                    tx.execute(&statement, &refs)
                        .map_err(|e| pg_error(e, Some(i)))?;
                }
                tx.commit().map_err(|e| pg_error(e, None))
            }
            Connection::MySql(conn) => {
                let mut tx = conn
                    .start_transaction(mysql::TxOpts::default())
                    .map_err(|e| mysql_error(e, None))?;
                for (i, exec) in execs.iter().enumerate() {
                    let params: Vec<mysql::Value> = exec.params.iter().map(mysql_value).collect();
                    tx.exec_drop(&exec.sql, mysql::Params::Positional(params))
                        .map_err(|e| mysql_error(e, Some(i)))?;
                }
                tx.commit().map_err(|e| mysql_error(e, None))
            }
        }
    }
}

impl From<DbError> for JdbcSinkError {
    fn from(e: DbError) -> JdbcSinkError {
        match e {
            DbError::Transient(message) => JdbcSinkError::Unavailable(message),
            DbError::Permanent { message, .. } => JdbcSinkError::Statement(message),
        }
    }
}
