//! RFC 5545 §3.3.10 combination rules.

use crate::error::RuleError;
use crate::parts::{
    Frequency, PartRange, RuleParts, BYHOUR, BYMINUTE, BYMONTH, BYMONTHDAY, BYSECOND, BYSETPOS,
    BYWEEKNO, BYYEARDAY,
};

/// Checks the combination rules of RFC 5545 §3.3.10 and the value ranges of every part.
pub fn validate(p: &RuleParts) -> Result<(), RuleError> {
    check_counts(p)?;
    check_ranges(p)?;
    check_combinations(p)
}

/// `INTERVAL` and `COUNT` are positive; `COUNT` and `UNTIL` exclude each other.
fn check_counts(p: &RuleParts) -> Result<(), RuleError> {
    if p.interval == 0 {
        return Err(RuleError::InvalidInterval);
    }
    if p.count == Some(0) {
        return Err(RuleError::InvalidCount);
    }
    if p.count.is_some() && p.until.is_some() {
        return Err(RuleError::CountAndUntil);
    }
    Ok(())
}

/// Every `BYxxx` value within its range (§3.3.10's `byseclist` … `bysplist`).
fn check_ranges(p: &RuleParts) -> Result<(), RuleError> {
    check_range(BYSECOND, p.by_second.iter().map(|v| i32::from(*v)))?;
    check_range(BYMINUTE, p.by_minute.iter().map(|v| i32::from(*v)))?;
    check_range(BYHOUR, p.by_hour.iter().map(|v| i32::from(*v)))?;
    check_range(BYMONTH, p.by_month.iter().map(|v| i32::from(*v)))?;
    check_range(BYMONTHDAY, p.by_month_day.iter().map(|v| i32::from(*v)))?;
    check_range(BYYEARDAY, p.by_year_day.iter().map(|v| i32::from(*v)))?;
    check_range(BYWEEKNO, p.by_week_no.iter().map(|v| i32::from(*v)))?;
    check_range(BYSETPOS, p.by_set_pos.iter().map(|v| i32::from(*v)))?;
    for d in &p.by_day {
        if let Some(n) = d.ordinal {
            if n == 0 || !(-53..=53).contains(&n) {
                return Err(RuleError::OutOfRange {
                    part: "BYDAY",
                    value: d.to_string(),
                    range: "weekdays with an optional number from 1 to 53 or -53 to -1",
                });
            }
        }
    }
    Ok(())
}

/// The parts that §3.3.10 allows only with some frequencies or with other parts.
fn check_combinations(p: &RuleParts) -> Result<(), RuleError> {
    if !p.by_week_no.is_empty() && p.freq != Frequency::Yearly {
        return Err(RuleError::ByWeekNoNotYearly);
    }
    if !p.by_year_day.is_empty()
        && matches!(
            p.freq,
            Frequency::Daily | Frequency::Weekly | Frequency::Monthly
        )
    {
        return Err(RuleError::ByYearDayWithFreq(p.freq));
    }
    if !p.by_month_day.is_empty() && p.freq == Frequency::Weekly {
        return Err(RuleError::ByMonthDayWeekly);
    }
    if let Some(d) = p.by_day.iter().find(|d| d.ordinal.is_some()) {
        if !matches!(p.freq, Frequency::Monthly | Frequency::Yearly) {
            return Err(RuleError::NumericByDay {
                value: d.to_string(),
                freq: p.freq,
            });
        }
        if p.freq == Frequency::Yearly && !p.by_week_no.is_empty() {
            return Err(RuleError::NumericByDayWithWeekNo(d.to_string()));
        }
    }
    if !p.by_set_pos.is_empty() && !p.has_by_parts() {
        return Err(RuleError::BySetPosAlone);
    }
    Ok(())
}

fn check_range(range: PartRange, mut values: impl Iterator<Item = i32>) -> Result<(), RuleError> {
    match values.find(|v| !range.allows(*v)) {
        Some(v) => Err(RuleError::OutOfRange {
            part: range.name,
            value: v.to_string(),
            range: range.text,
        }),
        None => Ok(()),
    }
}
