//! Cron expressions: the schedules of the CronJobs (`scheduler.schedule`, `quota.schedule`) and
//! the `cron` annotations of actions.
//!
//! Five fields (minute, hour, day of month, month, day of week; Vixie-cron semantics: a day
//! matches when either day field does) or an alias (`@hourly`, `@daily`, …), evaluated in UTC
//! with minute resolution — what a Kubernetes CronJob accepts, and what the original's
//! `croniter` read for five fields. Six-field patterns (seconds) are refused.

use chrono::{DateTime, Duration, DurationRound, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    text: String,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.text == other.text
    }
}

impl Schedule {
    /// Parses `text`; the error says why, in a short phrase.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("empty cron expression".to_owned());
        }
        if trimmed.split_whitespace().count() > 5 {
            return Err(format!(
                "{trimmed:?} has more than five fields (minute hour day-of-month month day-of-week)"
            ));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser
            .parse(trimmed)
            .map_err(|e| format!("{trimmed:?} is not a cron expression: {e}"))?;
        Ok(Schedule {
            cron,
            text: trimmed.to_owned(),
        })
    }

    /// The expression as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The latest time at or before `at` (truncated to the minute) when the schedule fires.
    pub fn latest_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&minute_of(at), true)
            .ok()
    }

    /// The interval between the two fires that follow `at`: how often the schedule runs.
    pub fn interval_after(&self, at: DateTime<Utc>) -> Option<Duration> {
        let first = self.cron.find_next_occurrence(&minute_of(at), false).ok()?;
        let second = self.cron.find_next_occurrence(&first, false).ok()?;
        Some(second - first)
    }
}

/// `at` truncated to its minute (cron's resolution).
pub fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::minutes(1)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 6, h, m, s).unwrap()
    }

    #[test]
    fn latest_fire_and_interval() {
        let every_five = Schedule::parse("*/5 * * * *").unwrap();
        assert_eq!(
            every_five.latest_at_or_before(at(16, 3, 0)),
            Some(at(16, 0, 0))
        );
        assert_eq!(
            every_five.latest_at_or_before(at(16, 10, 42)),
            Some(at(16, 10, 0))
        );
        assert_eq!(
            every_five.interval_after(at(16, 3, 0)),
            Some(Duration::minutes(5))
        );
        let every_minute = Schedule::parse("* * * * *").unwrap();
        assert_eq!(
            every_minute.interval_after(at(0, 0, 0)),
            Some(Duration::minutes(1))
        );
        let hourly = Schedule::parse("@hourly").unwrap();
        assert_eq!(
            hourly.latest_at_or_before(at(16, 59, 59)),
            Some(at(16, 0, 0))
        );
    }

    #[test]
    fn vixie_day_semantics() {
        // the 13th or any Friday: 2026-08-07 is a Friday
        let s = Schedule::parse("0 12 13 * 5").unwrap();
        assert_eq!(
            s.latest_at_or_before(Utc.with_ymd_and_hms(2026, 8, 8, 0, 0, 0).unwrap()),
            Some(Utc.with_ymd_and_hms(2026, 8, 7, 12, 0, 0).unwrap())
        );
    }

    #[test]
    fn bad_expressions_are_refused_with_a_reason() {
        for bad in [
            "",
            "   ",
            "once",
            "* * * *",
            "61 * * * *",
            "0 0 * * * *",
            "*/0 * * * *",
            "a b c d e",
            "@sometimes",
        ] {
            let err = Schedule::parse(bad).expect_err(bad);
            assert!(!err.is_empty());
        }
    }
}
