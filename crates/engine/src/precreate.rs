//! Pre-creation of fixed-grid instances by Dapr jobs: how far ahead, and under which job name.

use chrono::{DateTime, Utc};

use domain::SeriesId;

use crate::Poison;

/// How long before an occurrence's due time its instance is pre-created (at least).
pub const PRECREATE_LEAD_SECS: i64 = 15 * 60;

/// How long before its largest reminder an instance is pre-created: reminders are planned when
/// the instance exists, so one whose time had already passed would be recorded as missed.
pub const REMINDER_MARGIN_SECS: i64 = 5 * 60;

/// The pre-creation lead of an occurrence whose instance gets reminders with the largest offset
/// `max_reminder_secs`: [`PRECREATE_LEAD_SECS`], or that offset plus [`REMINDER_MARGIN_SECS`]
/// when longer, so every reminder of the instance is still ahead when it is created.
#[must_use]
pub fn precreate_lead_secs(max_reminder_secs: Option<i64>) -> i64 {
    max_reminder_secs.map_or(PRECREATE_LEAD_SECS, |o| {
        (o.max(0) + REMINDER_MARGIN_SECS).max(PRECREATE_LEAD_SECS)
    })
}

/// Default width of the herd window: pre-creation jobs are spread over the 10 minutes before
/// the lead (the seed's 23:55–00:05 is such a 10-minute window).
pub const DEFAULT_HERD_WINDOW_SECS: u32 = 600;

/// The `processed_events.consumer` of pre-creation job triggers (the event id is the job name).
pub const PRECREATE_CONSUMER: &str = "recurrence-engine/precreate";

/// One occurrence of a series to pre-create with a Dapr job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precreate {
    /// The series.
    pub series_id: SeriesId,
    /// The occurrence (its due date and recurrence id).
    pub occurrence: DateTime<Utc>,
}

impl Precreate {
    /// The job name, deterministic in series and occurrence, so scheduling the same occurrence
    /// again overwrites the job instead of adding one.
    #[must_use]
    pub fn job_name(&self) -> String {
        format!(
            "precreate-{}-{}",
            self.series_id.as_str(),
            self.occurrence.format("%Y%m%dT%H%M%SZ")
        )
    }

    /// This series' deterministic place in a herd window of `window_secs`: an offset in
    /// `[0, window_secs)` from the series id (its 128 bits modulo the window), so the jobs of
    /// many series due at the same instant are spread evenly across the window, and a series
    /// always lands on the same second.
    #[must_use]
    pub fn herd_offset(&self, window_secs: u32) -> i64 {
        if window_secs == 0 {
            return 0;
        }
        let bits = u128::from_str_radix(&self.series_id.as_str().replace('-', ""), 16).unwrap_or(0);
        i64::try_from(bits % u128::from(window_secs)).unwrap_or(0)
    }

    /// When the job fires: `lead_secs` ([`precreate_lead_secs`]) before the occurrence, moved
    /// earlier by the series' [`Self::herd_offset`] in a window of `window_secs` (so the
    /// instance always exists at least the lead time before it is due).
    #[must_use]
    pub fn fire_at(&self, lead_secs: i64, window_secs: u32) -> DateTime<Utc> {
        self.occurrence - chrono::TimeDelta::seconds(lead_secs + self.herd_offset(window_secs))
    }

    /// The Jobs API body: one shot at [`Self::fire_at`] (in one second if that has passed),
    /// `overwrite`, constant failure policy 5 s × 3, data naming series and occurrence. The
    /// name does not depend on the lead: a re-schedule with other reminders moves the same job.
    #[must_use]
    pub fn job(&self, now: DateTime<Utc>, lead_secs: i64, window_secs: u32) -> serde_json::Value {
        let fire = self.fire_at(lead_secs, window_secs);
        let due = if fire > now {
            fire.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        } else {
            "1s".to_string()
        };
        serde_json::json!({
            "dueTime": due,
            "overwrite": true,
            "failure_policy": {"constant": {"interval": "5s", "max_retries": 3}},
            "data": {
                "series_id": self.series_id.as_str(),
                "occurrence": self.occurrence.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        })
    }

    /// Reads a job trigger: the body is the job's `data`; it must match the job name.
    pub fn from_trigger(name: &str, body: &[u8]) -> Result<Self, Poison> {
        let bad = |reason: String| Poison::Data {
            event_id: name.to_string(),
            reason,
        };
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| bad(format!("job data: {e}")))?;
        let series_id = v
            .get("series_id")
            .and_then(serde_json::Value::as_str)
            .and_then(SeriesId::parse)
            .ok_or_else(|| bad("job data needs a series_id UUID".into()))?;
        let occurrence = v
            .get("occurrence")
            .and_then(serde_json::Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| bad("job data needs an RFC 3339 occurrence".into()))?
            .with_timezone(&Utc);
        let p = Self {
            series_id,
            occurrence,
        };
        if p.job_name() != name {
            return Err(bad(format!("job data names {}", p.job_name())));
        }
        Ok(p)
    }
}
