//! The readiness probe's statement.

use serde::Deserialize;

use crate::statement::{Query, Statement};

/// The answer of [`ping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pong {
    /// Always 1.
    pub ok: i64,
}

/// Readiness probe of the database through the binding.
#[must_use]
pub fn ping() -> Query<Pong> {
    Query::new(Statement {
        sql: "select 1 as ok".into(),
        params: Vec::new(),
    })
}
