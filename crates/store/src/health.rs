//! The readiness probe's statement.

use serde::Deserialize;

use crate::statement::*;

/// Readiness probe of the database through the binding.
pub fn ping() -> Statement {
    Statement {
        sql: "select 1".into(),
        params: Vec::new(),
    }
}
