//! SQL text per dialect: identifiers, column types, DDL and the multi-row DML statements.
//! Pure functions of their inputs, so every statement shape is unit-tested without a database.

use crate::config::{Dialect, InsertMode};
use crate::layout::{Column, Layout};
use crate::values::ColumnKind;
use std::fmt::Write;

/// Most parameters one statement may carry: both protocols count them in 16 bits.
pub const MAX_PARAMETERS: usize = 65_535;

#[derive(Clone, Copy, Debug)]
pub struct SqlDialect {
    pub dialect: Dialect,
    pub quote: bool,
}

impl SqlDialect {
    pub fn ident(&self, name: &str, out: &mut String) {
        if !self.quote {
            out.push_str(name);
            return;
        }
        let q = match self.dialect {
            Dialect::Postgres => '"',
            Dialect::MySql => '`',
        };
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
    }

    fn placeholder(&self, n: usize, out: &mut String) {
        match self.dialect {
            Dialect::Postgres => {
                let _ = write!(out, "${n}");
            }
            Dialect::MySql => out.push('?'),
        }
    }

    /// The column type for `kind`; key columns on MariaDB need bounded lengths.
    pub fn column_type(&self, kind: ColumnKind, in_key: bool) -> String {
        use ColumnKind::*;
        match (self.dialect, kind) {
            (Dialect::Postgres, Int8 | Int16) => "SMALLINT".into(),
            (Dialect::Postgres, Int32) => "INTEGER".into(),
            (Dialect::Postgres, Int64) => "BIGINT".into(),
            (Dialect::Postgres, Float32) => "REAL".into(),
            (Dialect::Postgres, Float64) => "DOUBLE PRECISION".into(),
            (Dialect::Postgres, Boolean) => "BOOLEAN".into(),
            (Dialect::Postgres, Text) => "TEXT".into(),
            (Dialect::Postgres, Bytes) => "BYTEA".into(),
            (Dialect::Postgres, Decimal { .. }) => "NUMERIC".into(),
            (Dialect::Postgres, Date) => "DATE".into(),
            (Dialect::Postgres, Time) => "TIME(6)".into(),
            (Dialect::Postgres, Timestamp) => "TIMESTAMP(6)".into(),
            (Dialect::Postgres, ZonedTimestamp) => "TIMESTAMPTZ".into(),
            (Dialect::Postgres, ZonedTime) => "TIMETZ".into(),
            (Dialect::Postgres, Json) => "JSONB".into(),
            (Dialect::MySql, Int8) => "TINYINT".into(),
            (Dialect::MySql, Int16) => "SMALLINT".into(),
            (Dialect::MySql, Int32) => "INT".into(),
            (Dialect::MySql, Int64) => "BIGINT".into(),
            (Dialect::MySql, Float32) => "FLOAT".into(),
            (Dialect::MySql, Float64) => "DOUBLE".into(),
            (Dialect::MySql, Boolean) => "BOOLEAN".into(),
            (Dialect::MySql, Text) if in_key => "VARCHAR(255)".into(),
            (Dialect::MySql, Text) => "LONGTEXT".into(),
            (Dialect::MySql, Bytes) if in_key => "VARBINARY(255)".into(),
            (Dialect::MySql, Bytes) => "LONGBLOB".into(),
            (Dialect::MySql, Decimal { scale }) => format!("DECIMAL(65,{})", scale.clamp(0, 30)),
            (Dialect::MySql, Date) => "DATE".into(),
            (Dialect::MySql, Time) => "TIME(6)".into(),
            (Dialect::MySql, Timestamp) => "DATETIME(6)".into(),
            // MariaDB has no zoned types: the ISO text is kept as it came.
            (Dialect::MySql, ZonedTimestamp | ZonedTime) => "VARCHAR(64)".into(),
            (Dialect::MySql, Json) => "JSON".into(),
        }
    }

    fn column_list(&self, columns: &[Column], out: &mut String) {
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.ident(&c.name, out);
        }
    }

    pub fn create_table(&self, table: &str, layout: &Layout) -> String {
        let mut sql = String::from("CREATE TABLE ");
        self.ident(table, &mut sql);
        sql.push_str(" (");
        for (i, c) in layout.columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            self.ident(&c.name, &mut sql);
            sql.push(' ');
            let in_key = i < layout.pk_len;
            sql.push_str(&self.column_type(c.ty.kind, in_key));
            if in_key || !c.optional {
                sql.push_str(" NOT NULL");
            } else {
                sql.push_str(" NULL");
            }
        }
        if layout.pk_len > 0 {
            sql.push_str(", PRIMARY KEY (");
            self.column_list(layout.pk(), &mut sql);
            sql.push(')');
        }
        sql.push(')');
        sql
    }

    /// Adds a column to an existing table; always nullable, since the rows already there have no
    /// value for it.
    pub fn add_column(&self, table: &str, column: &Column) -> String {
        let mut sql = String::from("ALTER TABLE ");
        self.ident(table, &mut sql);
        sql.push_str(" ADD COLUMN ");
        self.ident(&column.name, &mut sql);
        sql.push(' ');
        sql.push_str(&self.column_type(column.ty.kind, false));
        sql.push_str(" NULL");
        sql
    }

    /// The query listing a table's column names; its one parameter is the table name.
    pub fn columns_query(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
            Dialect::MySql => "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
        }
    }

    /// The table name as the catalog stores it (PostgreSQL folds unquoted names to lower case).
    pub fn catalog_name(&self, name: &str) -> String {
        if self.dialect == Dialect::Postgres && !self.quote {
            name.to_lowercase()
        } else {
            name.to_string()
        }
    }

    fn values_rows(&self, width: usize, rows: usize, sql: &mut String) {
        let mut n = 0;
        for r in 0..rows {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                self.placeholder(n, sql);
            }
            sql.push(')');
        }
    }

    /// A multi-row INSERT of `rows` rows; in upsert mode rows whose key exists replace it.
    pub fn insert(&self, table: &str, layout: &Layout, rows: usize, mode: InsertMode) -> String {
        let mut sql = String::from("INSERT INTO ");
        self.ident(table, &mut sql);
        sql.push_str(" (");
        self.column_list(&layout.columns, &mut sql);
        sql.push_str(") VALUES ");
        self.values_rows(layout.columns.len(), rows, &mut sql);
        if mode == InsertMode::Upsert && layout.pk_len > 0 {
            let rest = &layout.columns[layout.pk_len..];
            match self.dialect {
                Dialect::Postgres => {
                    sql.push_str(" ON CONFLICT (");
                    self.column_list(layout.pk(), &mut sql);
                    if rest.is_empty() {
                        sql.push_str(") DO NOTHING");
                    } else {
                        sql.push_str(") DO UPDATE SET ");
                        for (i, c) in rest.iter().enumerate() {
                            if i > 0 {
                                sql.push_str(", ");
                            }
                            self.ident(&c.name, &mut sql);
                            sql.push_str(" = EXCLUDED.");
                            self.ident(&c.name, &mut sql);
                        }
                    }
                }
                Dialect::MySql => {
                    sql.push_str(" ON DUPLICATE KEY UPDATE ");
                    // With key columns only, assigning the key to itself makes the duplicate a no-op.
                    let targets = if rest.is_empty() { layout.pk() } else { rest };
                    for (i, c) in targets.iter().enumerate() {
                        if i > 0 {
                            sql.push_str(", ");
                        }
                        self.ident(&c.name, &mut sql);
                        sql.push_str(" = VALUES(");
                        self.ident(&c.name, &mut sql);
                        sql.push(')');
                    }
                }
            }
        }
        sql
    }

    /// An UPDATE of one row by key; parameters are the row's values in layout order (key first).
    pub fn update(&self, table: &str, layout: &Layout) -> String {
        let mut sql = String::from("UPDATE ");
        self.ident(table, &mut sql);
        sql.push_str(" SET ");
        let n = layout.columns.len();
        // Parameters arrive key first; PostgreSQL numbers them, MariaDB takes them in text order,
        // so the executor reorders them for MariaDB (see `update_parameter_order`).
        for (i, c) in layout.columns[layout.pk_len..].iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            self.ident(&c.name, &mut sql);
            sql.push_str(" = ");
            self.placeholder(layout.pk_len + i + 1, &mut sql);
        }
        sql.push_str(" WHERE ");
        for (i, c) in layout.pk().iter().enumerate() {
            if i > 0 {
                sql.push_str(" AND ");
            }
            self.ident(&c.name, &mut sql);
            sql.push_str(" = ");
            self.placeholder(i + 1, &mut sql);
        }
        debug_assert!(n > layout.pk_len);
        sql
    }

    /// Positions of a row's values in the order the UPDATE statement's placeholders appear.
    pub fn update_parameter_order(&self, layout: &Layout) -> Vec<usize> {
        let n = layout.columns.len();
        match self.dialect {
            Dialect::Postgres => (0..n).collect(),
            Dialect::MySql => (layout.pk_len..n).chain(0..layout.pk_len).collect(),
        }
    }

    /// A DELETE of `rows` keys.
    pub fn delete(&self, table: &str, layout: &Layout, rows: usize) -> String {
        let mut sql = String::from("DELETE FROM ");
        self.ident(table, &mut sql);
        sql.push_str(" WHERE (");
        self.column_list(layout.pk(), &mut sql);
        sql.push_str(") IN (");
        self.values_rows(layout.pk_len, rows, &mut sql);
        sql.push(')');
        sql
    }

    /// How many rows of `width` values one statement may carry.
    pub fn rows_per_statement(width: usize, batch_size: usize) -> usize {
        (MAX_PARAMETERS / width.max(1)).clamp(1, batch_size.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Source;
    use crate::values::{FieldType, TimeUnit};

    fn layout(pk: &[&str], rest: &[&str]) -> Layout {
        let col = |name: &&str, kind| Column {
            name: name.to_string(),
            ty: FieldType {
                kind,
                unit: TimeUnit::Millis,
            },
            optional: true,
            source: Source::ValueField(0),
        };
        let mut columns: Vec<Column> = pk.iter().map(|n| col(n, ColumnKind::Int64)).collect();
        columns.extend(rest.iter().map(|n| col(n, ColumnKind::Text)));
        Layout {
            columns,
            pk_len: pk.len(),
        }
    }

    const PG: SqlDialect = SqlDialect {
        dialect: Dialect::Postgres,
        quote: true,
    };
    const MY: SqlDialect = SqlDialect {
        dialect: Dialect::MySql,
        quote: true,
    };

    #[test]
    fn upserts_per_dialect() {
        let l = layout(&["id"], &["name", "email"]);
        assert_eq!(
            PG.insert("users", &l, 2, InsertMode::Upsert),
            r#"INSERT INTO "users" ("id", "name", "email") VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "email" = EXCLUDED."email""#
        );
        assert_eq!(
            MY.insert("users", &l, 1, InsertMode::Upsert),
            "INSERT INTO `users` (`id`, `name`, `email`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `email` = VALUES(`email`)"
        );
        let keys_only = layout(&["a", "b"], &[]);
        assert!(PG
            .insert("t", &keys_only, 1, InsertMode::Upsert)
            .ends_with(r#"ON CONFLICT ("a", "b") DO NOTHING"#));
        assert!(MY
            .insert("t", &keys_only, 1, InsertMode::Upsert)
            .ends_with("ON DUPLICATE KEY UPDATE `a` = VALUES(`a`), `b` = VALUES(`b`)"));
        assert_eq!(
            PG.insert("t", &l, 1, InsertMode::Insert),
            r#"INSERT INTO "t" ("id", "name", "email") VALUES ($1, $2, $3)"#
        );
    }

    #[test]
    fn updates_deletes_and_ddl() {
        let l = layout(&["id"], &["name"]);
        assert_eq!(
            PG.update("t", &l),
            r#"UPDATE "t" SET "name" = $2 WHERE "id" = $1"#
        );
        assert_eq!(
            MY.update("t", &l),
            "UPDATE `t` SET `name` = ? WHERE `id` = ?"
        );
        assert_eq!(MY.update_parameter_order(&l), [1, 0]);
        assert_eq!(
            PG.delete("t", &l, 2),
            r#"DELETE FROM "t" WHERE ("id") IN (($1), ($2))"#
        );
        assert_eq!(
            PG.create_table("t", &l),
            r#"CREATE TABLE "t" ("id" BIGINT NOT NULL, "name" TEXT NULL, PRIMARY KEY ("id"))"#
        );
        let text_key = Layout {
            columns: vec![Column {
                ty: FieldType {
                    kind: ColumnKind::Text,
                    unit: TimeUnit::Millis,
                },
                ..l.columns[0].clone()
            }],
            pk_len: 1,
        };
        assert!(MY
            .create_table("t", &text_key)
            .contains("`id` VARCHAR(255) NOT NULL"));
        assert_eq!(
            MY.add_column("t", &l.columns[1]),
            "ALTER TABLE `t` ADD COLUMN `name` LONGTEXT NULL"
        );
    }

    #[test]
    fn identifiers_quote_and_escape() {
        let mut s = String::new();
        PG.ident("we\"ird", &mut s);
        assert_eq!(s, r#""we""ird""#);
        let plain = SqlDialect {
            dialect: Dialect::Postgres,
            quote: false,
        };
        assert_eq!(plain.catalog_name("Users"), "users");
        assert_eq!(PG.catalog_name("Users"), "Users");
        assert_eq!(
            MY.column_type(ColumnKind::Decimal { scale: 4 }, false),
            "DECIMAL(65,4)"
        );
    }

    #[test]
    fn statements_stay_under_the_parameter_limit() {
        assert_eq!(SqlDialect::rows_per_statement(10, 500), 500);
        assert_eq!(SqlDialect::rows_per_statement(200, 5000), 327);
        assert_eq!(SqlDialect::rows_per_statement(100_000, 5), 1);
    }
}
