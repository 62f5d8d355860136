//! A completion guard for statements run through the Dapr `PostgreSQL` binding's `query`
//! operation.
//!
//! That binding (`bindings.postgresql`, components-contrib 1.18) reads the rows of a pgx `Query`
//! but never consults `rows.Err()`. A statement that fails while it executes (a constraint, a
//! division by zero, the connection lost because the server died) therefore answers HTTP 200
//! with the rows read so far, usually `[]`, indistinguishable from "no rows". Only errors the
//! server reports before execution (syntax, unknown table) come back as errors.
//!
//! [`guard`] rewrites a statement so that its answer proves it ran to completion: the statement
//! becomes the last common table expression `__done`, and the outer query answers each of its rows
//! as two columns: their count (`count(*) over ()`, computed only once every row exists, so no row
//! leaves the server before the statement has finished) and the row as one JSON object keyed by
//! column name (`row_to_json`), or one row of NULLs when there are none. [`verify`] then insists
//! on that shape (no rows at all, or fewer rows than counted, means the statement did not
//! complete) and answers the objects, which the caller decodes by column name into the row type
//! of its [`Query`](crate::Query): a reordered column changes nothing, a renamed one fails to
//! decode.

use serde_json::{Map, Value};

/// Why a statement could not be guarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// A parenthesis, quote or comment is not closed.
    #[error("unbalanced SQL near byte {0}")]
    Unbalanced(usize),
    /// A `WITH` list that is not `name [(columns)] AS [[NOT] MATERIALIZED] (...)`.
    #[error("unexpected WITH clause near byte {0}")]
    With(usize),
}

/// Why an answer does not prove the statement completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Incomplete {
    /// Not even the completion row arrived.
    #[error("no completion row: the statement failed while executing or its connection was lost")]
    NoCompletionRow,
    /// Rows are missing or malformed.
    #[error("{got} rows arrived of {counted} counted: the answer was cut short")]
    CutShort {
        /// Rows received.
        got: usize,
        /// Rows the server counted.
        counted: String,
    },
    /// A row is not the JSON object of its columns.
    #[error("row {0} is not a JSON object of named columns")]
    NotAnObject(usize),
}

/// One row of a guarded statement: its columns by name.
pub type Row = Map<String, Value>;

/// Name of the common table expression that holds the guarded statement.
const DONE: &str = "__done";

/// The outer query: the statement's rows, each led by their count, or one row of NULLs.
const TAIL: &str = "select __row.__rows, __row.__columns from (select 1) __one left join \
                    (select count(*) over () as __rows, row_to_json(__done)::text as __columns \
                    from __done) __row on true";

/// Rewrites `sql` (one statement that answers rows: a `SELECT`, or a data-modifying statement
/// with `RETURNING`, each possibly with its own `WITH` list) so that its answer carries its
/// completion; decode the answer with [`verify`].
pub fn guard(sql: &str) -> Result<String, ShapeError> {
    let body = sql.trim().trim_end_matches(';').trim_end();
    let b = body.as_bytes();
    if !keyword_at(b, 0, "with") {
        return Ok(format!("with {DONE} as ({body}) {TAIL}"));
    }
    let mut i = skip_ws(b, 4);
    if keyword_at(b, i, "recursive") {
        i = skip_ws(b, i + "recursive".len());
    }
    loop {
        i = skip_name(b, i)?;
        i = skip_ws(b, i);
        if b.get(i) == Some(&b'(') {
            i = skip_ws(b, close_of(b, i)? + 1);
        }
        if !keyword_at(b, i, "as") {
            return Err(ShapeError::With(i));
        }
        i = skip_ws(b, i + 2);
        if keyword_at(b, i, "not") {
            i = skip_ws(b, i + 3);
        }
        if keyword_at(b, i, "materialized") {
            i = skip_ws(b, i + "materialized".len());
        }
        if b.get(i) != Some(&b'(') {
            return Err(ShapeError::With(i));
        }
        let end = close_of(b, i)? + 1;
        i = skip_ws(b, end);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
            continue;
        }
        if i >= b.len() {
            return Err(ShapeError::With(i));
        }
        return Ok(format!(
            "{}, {DONE} as ({}) {TAIL}",
            &body[..end],
            &body[i..]
        ));
    }
}

/// The statement's own rows, by column name, from the answer of a [`guard`]ed statement (rows of
/// `[count, columns]`), or why that answer does not prove the statement completed.
pub fn verify(rows: Vec<Vec<Value>>) -> Result<Vec<Row>, Incomplete> {
    let Some(first) = rows.first() else {
        return Err(Incomplete::NoCompletionRow);
    };
    let counted = first.first().cloned().unwrap_or(Value::Null);
    if counted.is_null() {
        return if rows.len() == 1 {
            Ok(Vec::new())
        } else {
            Err(Incomplete::CutShort {
                got: rows.len(),
                counted: "none".into(),
            })
        };
    }
    let complete = counted.as_u64() == Some(rows.len() as u64)
        && rows.iter().all(|r| r.first() == Some(&counted));
    if !complete {
        return Err(Incomplete::CutShort {
            got: rows.len(),
            counted: counted.to_string(),
        });
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| columns(r.get(1)).ok_or(Incomplete::NotAnObject(i)))
        .collect()
}

/// The `row_to_json` column: an object, or the text of one.
fn columns(v: Option<&Value>) -> Option<Row> {
    match v? {
        Value::Object(m) => Some(m.clone()),
        Value::String(t) => match serde_json::from_str(t) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        },
        _ => None,
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// True if the keyword `kw` (lower case) starts at `i` as a whole word.
fn keyword_at(b: &[u8], i: usize, kw: &str) -> bool {
    let end = i + kw.len();
    end <= b.len()
        && b[i..end].eq_ignore_ascii_case(kw.as_bytes())
        && (i == 0 || !is_ident(b[i - 1]))
        && b.get(end).is_none_or(|c| !is_ident(*c))
}

/// Past a plain or double-quoted identifier starting at `i`.
fn skip_name(b: &[u8], i: usize) -> Result<usize, ShapeError> {
    if b.get(i) == Some(&b'"') {
        return quoted_end(b, i, b'"');
    }
    let mut j = i;
    while j < b.len() && is_ident(b[j]) {
        j += 1;
    }
    if j == i {
        Err(ShapeError::With(i))
    } else {
        Ok(j)
    }
}

/// Past the literal or quoted identifier opened by `q` at `i` (a doubled `q` is an escape).
fn quoted_end(b: &[u8], i: usize, q: u8) -> Result<usize, ShapeError> {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return Ok(j + 1);
        }
        j += 1;
    }
    Err(ShapeError::Unbalanced(i))
}

/// Index of the parenthesis closing the one at `open`, skipping literals, quoted identifiers,
/// dollar-quoted strings and comments.
fn close_of(b: &[u8], open: usize) -> Result<usize, ShapeError> {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            q @ (b'\'' | b'"') => {
                i = quoted_end(b, i, q)?;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let rest = &b[i + 2..];
                let end = rest
                    .windows(2)
                    .position(|w| w == b"*/")
                    .ok_or(ShapeError::Unbalanced(i))?;
                i += 2 + end + 2;
                continue;
            }
            b'$' if i == 0 || !is_ident(b[i - 1]) => {
                if let Some(end) = dollar_end(b, i) {
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(ShapeError::Unbalanced(open))
}

/// Past a dollar-quoted string (`$$...$$`, `$tag$...$tag$`) starting at `i`; None when `$` at
/// `i` is a placeholder like `$1`.
fn dollar_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_') {
        j += 1;
    }
    if b.get(j) != Some(&b'$') {
        return None;
    }
    let tag = &b[i..=j];
    let body = &b[j + 1..];
    body.windows(tag.len())
        .position(|w| w == tag)
        .map(|p| j + 1 + p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plain_statement_becomes_the_done_expression() {
        let g = guard("select a, b from t where c = $1 order by a;").unwrap();
        assert_eq!(
            g,
            format!("with __done as (select a, b from t where c = $1 order by a) {TAIL}")
        );
    }

    #[test]
    fn a_with_list_is_extended_not_nested() {
        let sql = "WITH fresh AS (select 1 where not exists (select 1 from x where id = $1)), \
                   bump (seq) as materialized (insert into c values ($2) returning seq) \
                   insert into x select $1, seq from bump returning seq";
        let g = guard(sql).unwrap();
        assert!(g.starts_with(
            "WITH fresh AS (select 1 where not exists (select 1 from x where id = $1)), \
             bump (seq) as materialized (insert into c values ($2) returning seq), __done as (insert into x"
        ), "{g}");
        assert!(g.ends_with(TAIL));
    }

    #[test]
    fn parentheses_inside_literals_comments_and_dollar_quotes_do_not_count() {
        let sql = "with \"odd name\" as not materialized (select ')' as p, \"x)\" -- )\n \
                   /* ) */ , $q$ ) $q$ from t where a = $1) select * from \"odd name\"";
        let g = guard(sql).unwrap();
        assert!(
            g.contains("$q$ from t where a = $1), __done as (select * from \"odd name\")"),
            "{g}"
        );
        let r = guard("with recursive n (i) as (select 1 union all select i + 1 from n where i < 3) select i from n").unwrap();
        assert!(
            r.contains("where i < 3), __done as (select i from n)"),
            "{r}"
        );
    }

    #[test]
    fn malformed_with_lists_are_refused() {
        assert_eq!(
            guard("with a as (select 1"),
            Err(ShapeError::Unbalanced(10))
        );
        assert!(matches!(
            guard("with a (select 1) select 1"),
            Err(ShapeError::With(_))
        ));
        assert!(matches!(
            guard("with a as (select 1)"),
            Err(ShapeError::With(_))
        ));
        assert!(matches!(
            guard("with a as (select 'x) select 1"),
            Err(ShapeError::Unbalanced(_))
        ));
    }

    #[test]
    fn a_word_starting_with_with_is_not_a_with_list() {
        let g = guard("without_rows()").unwrap();
        assert!(g.starts_with("with __done as (without_rows())"));
    }

    #[test]
    fn verify_answers_the_rows_by_column_name_without_their_count() {
        let rows = vec![
            vec![json!(2), json!(r#"{"name": "a", "n": 1}"#)],
            vec![json!(2), json!({"name": "b", "n": null})],
        ];
        let got: Vec<Value> = verify(rows)
            .unwrap()
            .into_iter()
            .map(Value::Object)
            .collect();
        assert_eq!(
            got,
            vec![
                json!({"name": "a", "n": 1}),
                json!({"name": "b", "n": null})
            ]
        );
        assert_eq!(
            verify(vec![vec![json!(null), json!(null)]]).unwrap(),
            Vec::<Row>::new()
        );
    }

    #[test]
    fn verify_refuses_answers_that_do_not_prove_completion() {
        assert_eq!(verify(Vec::new()), Err(Incomplete::NoCompletionRow));
        assert!(matches!(
            verify(vec![vec![json!(3), json!("a")], vec![json!(3), json!("b")]]),
            Err(Incomplete::CutShort { got: 2, .. })
        ));
        assert!(matches!(
            verify(vec![vec![json!(null)], vec![json!(null)]]),
            Err(Incomplete::CutShort { got: 2, .. })
        ));
        assert!(matches!(
            verify(vec![vec![json!(1), json!("a")], vec![json!(2), json!("b")]]),
            Err(Incomplete::CutShort { .. })
        ));
        assert_eq!(
            verify(vec![vec![json!(1), json!("[1, 2]")]]),
            Err(Incomplete::NotAnObject(0))
        );
    }
}
