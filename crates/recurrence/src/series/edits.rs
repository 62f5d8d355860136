//! Changing a series: deleting or editing one instance, splitting it ("this and following").

use chrono::{Duration, NaiveDateTime};

use super::{Override, Series};
use crate::error::SeriesError;
use crate::expand::RuleIter;
use crate::parts::{RuleParts, Until};
use crate::rule::Rule;
use crate::tz::{to_instant, Zone};

impl Series {
    /// Deletes one instance (adds an EXDATE, drops any override for it).
    pub fn delete_instance(&mut self, recurrence_id: NaiveDateTime) -> Result<(), SeriesError> {
        self.check_occurrence(recurrence_id)?;
        self.overrides.retain(|o| o.recurrence_id != recurrence_id);
        if let Err(pos) = self.exdates.binary_search(&recurrence_id) {
            self.exdates.insert(pos, recurrence_id);
        }
        Ok(())
    }

    /// Edits one instance: moves it to `new_start` and/or gives it a new title.
    pub fn edit_instance(
        &mut self,
        recurrence_id: NaiveDateTime,
        new_start: Option<NaiveDateTime>,
        title: Option<String>,
    ) -> Result<(), SeriesError> {
        self.check_occurrence(recurrence_id)?;
        let start = new_start.unwrap_or(recurrence_id);
        match self
            .overrides
            .iter_mut()
            .find(|o| o.recurrence_id == recurrence_id)
        {
            Some(o) => {
                o.start = start;
                if title.is_some() {
                    o.title = title;
                }
            }
            None => {
                self.overrides.push(Override {
                    recurrence_id,
                    start,
                    title,
                    properties: Vec::new(),
                });
                self.overrides.sort_by_key(|o| o.recurrence_id);
            }
        }
        Ok(())
    }

    /// "This and following": splits the series at an instance. The first series keeps the
    /// instances before it (it gets an UNTIL, or a smaller COUNT); the second starts at it
    /// (DTSTART = the instance) and is the one to edit. Exceptions go to the side they belong to.
    pub fn split_at(&self, recurrence_id: NaiveDateTime) -> Result<(Series, Series), SeriesError> {
        self.check_occurrence(recurrence_id)?;
        let mut old = self.clone();
        let mut new = self.clone();
        new.dtstart = recurrence_id;
        if let Some(rule) = &self.rule {
            // COUNT counts what the rule generates (EXDATE removes afterwards, RDATE adds
            // apart), so count the rule's own occurrences; without COUNT only whether one lies
            // before the split matters, so a dense or old series is not walked to it.
            let mut generated = RuleIter::new(rule, self.dtstart);
            let before = if rule.count().is_some() {
                generated.take_while(|l| *l < recurrence_id).count()
            } else {
                usize::from(generated.next().is_some_and(|l| l < recurrence_id))
            };
            let mut old_parts: RuleParts = rule.parts().clone();
            let mut new_parts: RuleParts = rule.parts().clone();
            if let Some(count) = rule.count() {
                let before = u32::try_from(before).unwrap_or(u32::MAX);
                old_parts.count = Some(before.max(1));
                new_parts.count = Some(count.saturating_sub(before).max(1));
            } else {
                let cut = recurrence_id - Duration::seconds(1);
                old_parts.until = Some(match self.tz {
                    Zone::Floating => Until::Local(cut),
                    Zone::Tz(_) => Until::Utc(
                        (to_instant(recurrence_id, self.tz) - Duration::seconds(1)).naive_utc(),
                    ),
                });
            }
            old.rule = if before == 0 {
                None
            } else {
                Some(Rule::from_parts(old_parts)?)
            };
            new.rule = Some(Rule::from_parts(new_parts)?);
        }
        old.rdates.retain(|d| *d < recurrence_id);
        old.exdates.retain(|d| *d < recurrence_id);
        old.overrides.retain(|o| o.recurrence_id < recurrence_id);
        new.rdates.retain(|d| *d >= recurrence_id);
        new.exdates.retain(|d| *d >= recurrence_id);
        new.overrides.retain(|o| o.recurrence_id >= recurrence_id);
        Ok((old, new))
    }
}
