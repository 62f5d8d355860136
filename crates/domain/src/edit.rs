//! Editing a series' rule (`PATCH ?scope=all|following` with recurrence, tzid, mode or end
//! date): the new series, and what happens to each pending instance the edit applies to.
//!
//! On the fixed grid, a pending instance that is not an exception stays if its occurrence is
//! still one of the new rule's, and is otherwise removed; the edited instance (or, if nothing
//! else remains, the earliest one) moves to the next free occurrence instead, so the series
//! keeps its next instance. Completed instances and exceptions stay as they are. In
//! `from_completion` mode due dates are counted from completions, so pending instances keep
//! their due dates and the new rule applies from the next completion.
//!
//! A split ("this and following") cuts the stored series with [`recurrence::Series::split_at`]:
//! the old series keeps the earlier occurrences (its rule gets `UNTIL` just before the split,
//! or the smaller `COUNT`), and the new one, unless the patch gives it a rule of its own, goes
//! on with the remaining `COUNT`, so a `COUNT=5` series split at its 4th occurrence still has 5.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use recurrence::tz::{to_instant, to_local};
use recurrence::{Rule, Series};

use crate::input::PatchTask;
use crate::schedule::{self, NextInstance, SeriesPlan, LOCAL_FORMAT};
use crate::types::{FieldError, Mode, Status};

/// Most occurrences searched for a free slot.
const MAX_SLOT_SEARCH: usize = 1000;

/// A series as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSeries {
    /// Canonical RRULE text.
    pub rule: String,
    /// DTSTART as local wall time (`LOCAL_FORMAT`).
    pub dtstart_local: String,
    /// IANA zone name.
    pub tzid: String,
    /// End date, if any.
    pub end_date: Option<DateTime<Utc>>,
    /// fixed or from_completion.
    pub mode: Mode,
}

/// An instance of the series as stored (pending ones, and recent ones of any status).
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    /// Task id.
    pub task_id: String,
    /// Its occurrence (also its due date unless it is an exception).
    pub recurrence_id: Option<DateTime<Utc>>,
    /// Status.
    pub status: Status,
    /// Moved or edited on its own.
    pub is_exception: bool,
}

/// What happens to one pending instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Stays at its occurrence.
    Keep,
    /// Moves to this occurrence (new due date and recurrence id).
    Move(DateTime<Utc>),
    /// No longer an occurrence: removed (status deleted).
    Delete,
}

/// The plan for one pending instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Task id.
    pub task_id: String,
    /// Keep, move or delete.
    pub action: Action,
    /// The occurrence after its (new) due date.
    pub upcoming: Option<DateTime<Utc>>,
}

/// The resolved new series and the plan of its pending instances.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesEdit {
    /// The new series values (for a split: the new series).
    pub plan: SeriesPlan,
    /// True for `following` when earlier instances exist: a new series starts at the edited
    /// occurrence and the old one ends just before it.
    pub split: bool,
    /// True when the rule, zone, mode or end date differs from the stored series.
    pub rule_changed: bool,
    /// On a split: the old series' rule, cut just before the edited occurrence (`None`: keep
    /// the stored rule, which its end date then cuts).
    pub old_rule: Option<String>,
    /// Pending instances in scope.
    pub instances: Vec<Planned>,
    /// An instance to create when none would be pending otherwise.
    pub create: Option<NextInstance>,
}

fn rebuild(plan: &SeriesPlan) -> Option<Series> {
    schedule::stored_series(
        &plan.rule,
        &plan.dtstart_local.format(LOCAL_FORMAT).to_string(),
        &plan.tzid,
        plan.end_date,
        plan.mode,
    )
}

fn stored(stored: &StoredSeries) -> Option<Series> {
    schedule::stored_series(
        &stored.rule,
        &stored.dtstart_local,
        &stored.tzid,
        stored.end_date,
        stored.mode,
    )
}

/// The two rules of a series split at the occurrence `at` ([`Series::split_at`]): the old
/// series' (`None` if no occurrence is left before `at`) and the new series'.
pub fn split_rules(stored: &StoredSeries, at: DateTime<Utc>) -> Option<(Option<String>, String)> {
    let series = self::stored(stored)?;
    let (old, new) = series.split_at(to_local(at, series.tz)).ok()?;
    let text = |s: &Series| s.rule.as_ref().map(Rule::to_canonical_string);
    Some((text(&old), text(&new)?))
}

/// True if the patch's `recurrence` is absent or names the stored rule again.
fn keeps_rule(patch: &PatchTask, stored: &StoredSeries) -> bool {
    let Some(text) = patch.recurrence.as_deref().map(str::trim) else {
        return true;
    };
    let body = text
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("RRULE:"))
        .map_or(text, |_| &text[6..]);
    recurrence::preset(text)
        .or_else(|| Rule::parse(body).ok())
        .is_some_and(|r| r.to_canonical_string() == stored.rule)
}

/// Resolves the edited series: the patch's fields over the stored ones. DTSTART keeps its wall
/// time (in the new zone): the series' own for `all`, the edited occurrence's for a split,
/// where the stored rule goes on with what [`split_rules`] leaves of it.
pub fn resolve_series(
    stored: &StoredSeries,
    patch: &PatchTask,
    split_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<SeriesPlan, FieldError> {
    let old = self::stored(stored)
        .ok_or_else(|| FieldError::new("recurrence", "the stored series cannot be read"))?;
    let tzid = patch.tzid.as_deref().unwrap_or(&stored.tzid);
    let zone = schedule::parse_zone(tzid)?;
    let anchor_local = match split_at {
        Some(at) => to_local(at, old.tz),
        None => old.dtstart,
    };
    let anchor = to_instant(anchor_local, zone);
    let remainder = split_at
        .filter(|_| keeps_rule(patch, stored))
        .and_then(|at| split_rules(stored, at))
        .map(|(_, new)| new);
    let text = match (&remainder, patch.recurrence.as_deref()) {
        (Some(rest), _) => rest.as_str(),
        (None, Some(given)) => given,
        (None, None) => &stored.rule,
    };
    let end = patch.end_date.unwrap_or(stored.end_date);
    let mode = patch.mode.unwrap_or(stored.mode);
    schedule::resolve(text, tzid, Some(anchor), end, mode, now)
}

/// The fixed-grid plan of the regular pending instances: each still an occurrence of the new
/// series stays; of the others, the edited one (or, when none stays, the first) moves to a free
/// occurrence and the rest are deleted. Answers the plan and how many instances it deletes.
fn plan_fixed(
    series: &Series,
    regular: &[&Known],
    edited: &str,
    taken: &HashSet<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (Vec<Planned>, usize) {
    let valid = |k: &Known| {
        k.recurrence_id.is_some_and(|r| {
            series.is_occurrence(to_local(r, series.tz)) && series.end_date.is_none_or(|e| r <= e)
        })
    };
    let (keep, invalid): (Vec<&Known>, Vec<&Known>) =
        regular.iter().copied().partition(|k| valid(k));
    let mover = invalid
        .iter()
        .find(|k| k.task_id == edited)
        .or_else(|| keep.is_empty().then(|| invalid.first()).flatten())
        .map(|k| k.task_id.clone());
    let mut instances = Vec::new();
    for k in keep {
        let upcoming = k.recurrence_id.and_then(|r| series.next_after(r));
        instances.push(Planned {
            task_id: k.task_id.clone(),
            action: Action::Keep,
            upcoming,
        });
    }
    let mut deleted = 0;
    for k in invalid {
        let slot = (mover.as_deref() == Some(k.task_id.as_str()))
            .then(|| free_slot(series, taken, now))
            .flatten();
        let (action, upcoming) = match slot {
            Some(due) => (Action::Move(due), series.next_after(due)),
            None => {
                deleted += 1;
                (Action::Delete, None)
            }
        };
        instances.push(Planned {
            task_id: k.task_id.clone(),
            action,
            upcoming,
        });
    }
    (instances, deleted)
}

/// Plans an edit of a series whose pending instances in scope are `known` filtered by
/// `cutoff` (`None` for `all`; the edited occurrence for `following`).
#[allow(clippy::too_many_arguments)]
pub fn plan_edit(
    stored: &StoredSeries,
    plan: SeriesPlan,
    known: &[Known],
    edited: &str,
    cutoff: Option<DateTime<Utc>>,
    split: bool,
    can_create: bool,
    now: DateTime<Utc>,
) -> Option<SeriesEdit> {
    let series = rebuild(&plan)?;
    let old_rule = cutoff
        .filter(|_| split)
        .and_then(|at| split_rules(stored, at))
        .and_then(|(old, _)| old);
    let rule_changed = plan.rule != stored.rule
        || plan.tzid != stored.tzid
        || plan.mode != stored.mode
        || plan.end_date != stored.end_date;
    let in_scope = |k: &&Known| {
        k.task_id == edited || cutoff.is_none_or(|c| k.recurrence_id.is_some_and(|r| r >= c))
    };
    let mut pending: Vec<&Known> = known
        .iter()
        .filter(|k| k.status == Status::Pending)
        .filter(in_scope)
        .collect();
    pending.sort_by_key(|k| k.recurrence_id);
    // Occurrences that are taken: a split's new series holds only the instances that move to it.
    let taken: HashSet<DateTime<Utc>> = if split {
        pending.iter().filter_map(|k| k.recurrence_id).collect()
    } else {
        known.iter().filter_map(|k| k.recurrence_id).collect()
    };
    let regular: Vec<&Known> = pending
        .iter()
        .copied()
        .filter(|k| !k.is_exception)
        .collect();
    let mut instances = Vec::new();
    let mut remaining = pending.len();
    if plan.mode == Mode::FromCompletion {
        instances.extend(regular.iter().map(|k| Planned {
            task_id: k.task_id.clone(),
            action: Action::Keep,
            upcoming: None,
        }));
    } else {
        let (planned, deleted) = plan_fixed(&series, &regular, edited, &taken, now);
        instances = planned;
        remaining -= deleted;
    }
    let create = if remaining == 0 && can_create {
        free_slot(&series, &taken, now).map(|due| NextInstance {
            due,
            upcoming: series.next_after(due),
        })
    } else {
        None
    };
    Some(SeriesEdit {
        plan,
        split,
        rule_changed,
        old_rule,
        instances,
        create,
    })
}

/// The first occurrence after `now` that no instance holds yet.
fn free_slot(
    series: &Series,
    taken: &HashSet<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    series
        .next_n_after(now, MAX_SLOT_SEARCH)
        .into_iter()
        .find(|t| !taken.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_patch;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn daily() -> StoredSeries {
        StoredSeries {
            rule: "FREQ=DAILY".into(),
            dtstart_local: "2026-12-01T09:00:00".into(),
            tzid: "UTC".into(),
            end_date: None,
            mode: Mode::Fixed,
        }
    }

    fn known(id: &str, day: u32, status: Status) -> Known {
        Known {
            task_id: id.into(),
            recurrence_id: Some(at(day, 9)),
            status,
            is_exception: false,
        }
    }

    #[test]
    fn a_new_rule_keeps_valid_instances_and_moves_the_edited_one() {
        let now = at(2, 12);
        let stored = daily();
        // 2026-12-07 is a Monday.
        let patch = parse_patch(&json!({"recurrence": "FREQ=WEEKLY;BYDAY=MO"}), false).expect("p");
        let plan = resolve_series(&stored, &patch, None, now).expect("plan");
        let known = [
            known("done", 2, Status::Completed),
            known("a", 3, Status::Pending),
            known("b", 7, Status::Pending),
            known("c", 8, Status::Pending),
        ];
        let e = plan_edit(&stored, plan, &known, "a", None, false, true, now).expect("edit");
        assert!(e.rule_changed && !e.split && e.create.is_none());
        let action = |id: &str| {
            e.instances
                .iter()
                .find(|p| p.task_id == id)
                .map(|p| p.action)
        };
        assert_eq!(action("b"), Some(Action::Keep));
        // The edited instance moves to the first free Monday; 7 December is held by b.
        assert_eq!(action("a"), Some(Action::Move(at(14, 9))));
        assert_eq!(action("c"), Some(Action::Delete));
        assert_eq!(action("done"), None);
    }

    #[test]
    fn a_split_starts_at_the_edited_occurrence_in_the_new_zone() {
        let now = at(2, 12);
        let stored = daily();
        let patch = parse_patch(&json!({"tzid": "Europe/Berlin"}), false).expect("p");
        let plan = resolve_series(&stored, &patch, Some(at(5, 9)), now).expect("plan");
        // 09:00 wall time is kept: 08:00Z in Berlin's winter.
        assert_eq!(plan.first_due, at(5, 8));
        let known = [
            known("e", 5, Status::Pending),
            known("f", 6, Status::Pending),
        ];
        let e =
            plan_edit(&stored, plan, &known, "e", Some(at(5, 9)), true, true, now).expect("edit");
        assert!(e.rule_changed && e.split);
        assert_eq!(
            e.instances.iter().map(|p| p.action).collect::<Vec<_>>(),
            [Action::Move(at(5, 8)), Action::Delete]
        );
    }

    #[test]
    fn a_split_count_series_keeps_its_total_count() {
        let now = at(2, 12);
        let stored = StoredSeries {
            rule: "FREQ=DAILY;COUNT=5".into(),
            ..daily()
        };
        // Split at the 4th occurrence (4 December), changing only the title or the zone.
        for body in [
            json!({"title": "standup v2"}),
            json!({"tzid": "Europe/Berlin"}),
            json!({"recurrence": "RRULE:FREQ=DAILY;COUNT=5"}),
        ] {
            let patch = parse_patch(&body, false).expect("p");
            let plan = resolve_series(&stored, &patch, Some(at(4, 9)), now).expect("plan");
            assert_eq!(plan.rule, "FREQ=DAILY;COUNT=2", "{body}");
            let known = [
                known("done", 1, Status::Completed),
                known("d", 4, Status::Pending),
            ];
            let e = plan_edit(&stored, plan, &known, "d", Some(at(4, 9)), true, true, now)
                .expect("edit");
            assert_eq!(e.old_rule.as_deref(), Some("FREQ=DAILY;COUNT=3"));
            let old = schedule::stored_series(
                e.old_rule.as_deref().unwrap_or_default(),
                &stored.dtstart_local,
                &stored.tzid,
                None,
                Mode::Fixed,
            )
            .expect("old");
            let new = rebuild(&e.plan).expect("new");
            let total = old.take(10).len() + new.take(10).len();
            assert_eq!(total, 5, "{body}");
        }
        // A rule of its own starts its own count.
        let patch = parse_patch(&json!({"recurrence": "FREQ=DAILY;COUNT=3"}), false).expect("p");
        let plan = resolve_series(&stored, &patch, Some(at(4, 9)), now).expect("plan");
        assert_eq!(plan.rule, "FREQ=DAILY;COUNT=3");
        // Without COUNT, the old series ends just before the split occurrence.
        let patch = parse_patch(&json!({"title": "x"}), false).expect("p");
        let plan = resolve_series(&daily(), &patch, Some(at(4, 9)), now).expect("plan");
        assert_eq!(plan.rule, "FREQ=DAILY");
        let e = plan_edit(&daily(), plan, &[], "x", Some(at(4, 9)), true, true, now).expect("e");
        assert_eq!(
            e.old_rule.as_deref(),
            Some("FREQ=DAILY;UNTIL=20261204T085959Z")
        );
    }

    #[test]
    fn nothing_pending_creates_the_next_instance_and_past_end_dates_are_refused() {
        let now = at(2, 12);
        let stored = daily();
        let patch = parse_patch(&json!({"recurrence": "FREQ=DAILY;INTERVAL=2"}), false).expect("p");
        let plan = resolve_series(&stored, &patch, None, now).expect("plan");
        let known = [known("done", 3, Status::Completed)];
        let e = plan_edit(&stored, plan, &known, "done", None, false, true, now).expect("edit");
        // Every other day from 1 December: the 3rd is taken by the completed one.
        assert_eq!(e.create.map(|c| c.due), Some(at(5, 9)));
        let patch = parse_patch(
            &json!({"recurrence_end_date": "2026-12-01T00:00:00Z"}),
            false,
        )
        .expect("p");
        let err = resolve_series(&stored, &patch, None, now).unwrap_err();
        assert_eq!(err.message, "End date must be in the future");
    }
}
