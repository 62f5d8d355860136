//! SQL text with bound parameters, and the typed rows a query answers.

use std::marker::PhantomData;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::guard::Row;

/// A row that does not have the columns of its query's row type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {index} does not decode as {row_type}: {reason}")]
pub struct RowError {
    /// The row's position in the answer.
    pub index: usize,
    /// The row type expected.
    pub row_type: &'static str,
    /// What is wrong (a missing, unknown or mistyped column).
    pub reason: String,
}

/// Decodes the rows of a query by column name into its row type.
pub fn decode_rows<R: DeserializeOwned>(rows: Vec<Row>) -> Result<Vec<R>, RowError> {
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| {
            serde_json::from_value(Value::Object(row)).map_err(|e| RowError {
                index,
                row_type: std::any::type_name::<R>(),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// SQL text and its bound parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL with `$1`, `$2`, … placeholders.
    pub sql: String,
    /// The values, in placeholder order.
    pub params: Vec<Value>,
}

impl Statement {
    /// The parameters as the JSON text the Dapr `PostgreSQL` binding expects in `params`.
    #[must_use]
    pub fn params_json(&self) -> String {
        Value::Array(self.params.clone()).to_string()
    }
}

/// Collects bound values and hands out their placeholders (every statement builder of the
/// platform uses it, so values are never interpolated into SQL).
#[derive(Default)]
pub struct Binder(Vec<Value>);

impl Binder {
    /// Binds a value; answers its placeholder (`$1`, `$2`, …).
    pub fn bind(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }

    /// The statement of `sql` with the values bound so far.
    #[must_use]
    pub fn finish(self, sql: String) -> Statement {
        Statement {
            sql,
            params: self.0,
        }
    }

    /// The query of `sql` with the values bound so far, answering rows of type `R`.
    #[must_use]
    pub fn finish_query<R>(self, sql: String) -> Query<R> {
        Query::new(self.finish(sql))
    }
}

/// A statement that answers rows, each decoded by column name into `R` (a struct whose fields
/// are the statement's column names: the builder's return type names the row it answers, and a
/// renamed or missing column fails to decode instead of shifting the others).
#[derive(Debug, Clone, PartialEq)]
pub struct Query<R> {
    /// The statement.
    pub statement: Statement,
    rows: PhantomData<fn() -> R>,
}

impl<R> Query<R> {
    /// Types the rows of `statement`.
    #[must_use]
    pub fn new(statement: Statement) -> Self {
        Query {
            statement,
            rows: PhantomData,
        }
    }
}

impl<R> From<Query<R>> for Statement {
    fn from(q: Query<R>) -> Statement {
        q.statement
    }
}

/// Checks that the placeholders a statement uses are exactly `$1` … `$n` for its `n` bound values
/// (an unused value has no type `PostgreSQL` can infer; a missing one fails at run time).
#[cfg(test)]
pub(crate) fn assert_placeholders(s: &Statement) {
    let bytes = s.sql.as_bytes();
    let mut used = std::collections::BTreeSet::new();
    for (i, _) in s.sql.match_indices('$') {
        let digits: String = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|b| char::from(*b))
            .collect();
        if let Ok(n) = digits.parse::<usize>() {
            used.insert(n);
        }
    }
    let bound: std::collections::BTreeSet<usize> = (1..=s.params.len()).collect();
    assert_eq!(used, bound, "placeholders used vs bound in {}", s.sql);
}

/// A `Vec<Statement>` of statements and queries (for checks over every builder).
#[cfg(test)]
macro_rules! statements {
    ($($e:expr),* $(,)?) => { vec![$($crate::Statement::from($e)),*] };
}
#[cfg(test)]
pub(crate) use statements;

impl<R> std::ops::Deref for Query<R> {
    type Target = Statement;

    fn deref(&self) -> &Statement {
        &self.statement
    }
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map(rfc3339).map_or(Value::Null, Value::String)
}

/// A timestamptz as RFC 3339 UTC text (seconds).
pub(crate) fn ts(expr: &str) -> String {
    format!(r#"to_char({expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#)
}

/// A timestamptz as RFC 3339 UTC text (milliseconds).
pub(crate) fn ts_ms(expr: &str) -> String {
    format!(r#"to_char({expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#)
}

pub(crate) fn opt_text(v: Option<&str>) -> Value {
    v.map_or(Value::Null, Value::from)
}
