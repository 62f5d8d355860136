//! RFC 5545 §3.3.10 combination rules.

use crate::error::RuleError;
use crate::parts::{Frequency, RuleParts};

/// Checks the combination rules of RFC 5545 §3.3.10 and the value ranges of every part.
pub fn validate(p: &RuleParts) -> Result<(), RuleError> {
    if p.interval == 0 {
        return Err(RuleError::InvalidInterval);
    }
    if p.count == Some(0) {
        return Err(RuleError::InvalidCount);
    }
    if p.count.is_some() && p.until.is_some() {
        return Err(RuleError::CountAndUntil);
    }
    check_range(
        "BYSECOND",
        p.by_second.iter().map(|v| i32::from(*v)),
        0,
        60,
        false,
        "0 to 60",
    )?;
    check_range(
        "BYMINUTE",
        p.by_minute.iter().map(|v| i32::from(*v)),
        0,
        59,
        false,
        "0 to 59",
    )?;
    check_range(
        "BYHOUR",
        p.by_hour.iter().map(|v| i32::from(*v)),
        0,
        23,
        false,
        "0 to 23",
    )?;
    check_range(
        "BYMONTH",
        p.by_month.iter().map(|v| i32::from(*v)),
        1,
        12,
        false,
        "1 to 12",
    )?;
    check_range(
        "BYMONTHDAY",
        p.by_month_day.iter().map(|v| i32::from(*v)),
        -31,
        31,
        true,
        "1 to 31 or -31 to -1",
    )?;
    check_range(
        "BYYEARDAY",
        p.by_year_day.iter().map(|v| i32::from(*v)),
        -366,
        366,
        true,
        "1 to 366 or -366 to -1",
    )?;
    check_range(
        "BYWEEKNO",
        p.by_week_no.iter().map(|v| i32::from(*v)),
        -53,
        53,
        true,
        "1 to 53 or -53 to -1",
    )?;
    check_range(
        "BYSETPOS",
        p.by_set_pos.iter().map(|v| i32::from(*v)),
        -366,
        366,
        true,
        "1 to 366 or -366 to -1",
    )?;
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

fn check_range(
    part: &'static str,
    values: impl Iterator<Item = i32>,
    min: i32,
    max: i32,
    nonzero: bool,
    range: &'static str,
) -> Result<(), RuleError> {
    for v in values {
        if v < min || v > max || (nonzero && v == 0) {
            return Err(RuleError::OutOfRange {
                part,
                value: v.to_string(),
                range,
            });
        }
    }
    Ok(())
}
