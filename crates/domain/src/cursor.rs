//! Opaque keyset-pagination cursors: the (created_at, task_id) of the last row of a page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::types::TaskId;

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `created_at` of the last row, microseconds since the epoch.
    pub created_micros: i64,
    /// `task_id` of the last row.
    pub task_id: TaskId,
}

impl Cursor {
    /// Encodes the cursor as URL-safe text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_micros, self.task_id.as_str()))
    }

    /// Decodes a cursor produced by [`Cursor::encode`].
    pub fn decode(text: &str) -> Option<Self> {
        let raw = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (micros, id) = raw.split_once(':')?;
        Some(Self {
            created_micros: micros.parse().ok()?,
            task_id: TaskId::parse(id)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let c = Cursor {
            created_micros: 1_795_000_000_123_456,
            task_id: TaskId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id"),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in ["", "!!", "bm9wZQ", "MTIzOm5vdC1hbi1pZA"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
