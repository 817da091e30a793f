//! Time bins as pmacct 1.7 computes them (`*_history`, `*_history_roundoff`, `*_refresh_time`).
//!
//! Ported from pmacct's `P_init_historical_acct`, `P_eval_historical_acct`,
//! `P_init_refresh_deadline` (src/plugin_common.c), `roundoff_time`, `calc_monthly_timeslot`
//! (src/util.c) and `parse_time` (src/cfg_handlers.c). Times are Unix seconds; calendar
//! arithmetic happens in local time unless `timestamps_utc` is set, as in pmacct.

use chrono::{
    DateTime, Datelike, Duration, Local, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
};

/// Unit of a `*_history` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
}

/// A parsed `*_history` value such as `5m`, `1h`, `1d`, `1w`, `1M` (bare seconds such as `300`
/// are accepted when they are whole minutes, as pmacct does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct History {
    pub unit: HistoryUnit,
    pub howmany: u32,
}

/// Error for a `*_history` or `*_history_roundoff` value pmacct would reject.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeBinError {
    #[error("invalid history value '{0}' (expected e.g. 5m, 1h, 1d, 1w, 1M)")]
    History(String),
    #[error("invalid history roundoff '{0}' (any of m, h, d, w, M; 'w' excludes 'd' and 'M')")]
    Roundoff(String),
}

impl History {
    /// Parses pmacct's `parse_time` syntax: digits then one unit letter (`s`, `m`, `h`, `d`,
    /// `w`, `M`); no unit means seconds, which must be a multiple of 60.
    pub fn parse(value: &str) -> Result<History, TimeBinError> {
        let bad = || TimeBinError::History(value.to_string());
        let v = value.trim();
        let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
        let (digits, unit) = v.split_at(split);
        let n: u32 = digits.parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(bad());
        }
        let (unit, howmany) = match unit {
            "" | "s" => {
                if !n.is_multiple_of(60) {
                    return Err(bad());
                }
                (HistoryUnit::Minutes, n / 60)
            }
            "m" => (HistoryUnit::Minutes, n),
            "h" => (HistoryUnit::Hours, n),
            "d" => (HistoryUnit::Days, n),
            "w" => (HistoryUnit::Weeks, n),
            "M" => (HistoryUnit::Months, n),
            _ => return Err(bad()),
        };
        Ok(History { unit, howmany })
    }

    /// Fixed slot length in seconds; `None` for months (variable length).
    pub fn fixed_secs(self) -> Option<i64> {
        let n = i64::from(self.howmany);
        match self.unit {
            HistoryUnit::Minutes => Some(n * 60),
            HistoryUnit::Hours => Some(n * 3600),
            HistoryUnit::Days => Some(n * 86_400),
            HistoryUnit::Weeks => Some(n * 86_400 * 7),
            HistoryUnit::Months => None,
        }
    }
}

/// Validates a roundoff string as pmacct's `cfg_key_sql_history_roundoff` does (and rejects
/// letters pmacct would only warn about).
pub fn validate_roundoff(value: &str) -> Result<(), TimeBinError> {
    if value.chars().any(|c| !matches!(c, 'm' | 'h' | 'd' | 'w' | 'M')) {
        return Err(TimeBinError::Roundoff(value.to_string()));
    }
    if value.contains('w') && (value.contains('d') || value.contains('M')) {
        return Err(TimeBinError::Roundoff(value.to_string()));
    }
    Ok(())
}

/// Broken-down time as C's `struct tm` (fields may go out of range; [`from_tm`] normalises
/// like `mktime`).
#[derive(Clone, Copy, Debug)]
struct Tm {
    year: i32,
    mon0: i32,
    mday: i32,
    hour: u32,
    min: u32,
    sec: u32,
    wday: u32,
}

fn to_tm(t: i64, utc: bool) -> Tm {
    let naive: NaiveDateTime = if utc {
        DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default().naive_utc()
    } else {
        Local.timestamp_opt(t, 0).earliest().map(|d| d.naive_local()).unwrap_or_default()
    };
    Tm {
        year: naive.year(),
        mon0: naive.month0() as i32,
        mday: naive.day() as i32,
        hour: naive.hour(),
        min: naive.minute(),
        sec: naive.second(),
        wday: naive.weekday().num_days_from_sunday(),
    }
}

/// `mktime`: normalises month overflow and out-of-range days.
fn from_tm(tm: Tm, utc: bool) -> i64 {
    let year = tm.year + tm.mon0.div_euclid(12);
    let mon0 = tm.mon0.rem_euclid(12);
    let first = NaiveDate::from_ymd_opt(year, mon0 as u32 + 1, 1).unwrap_or_default();
    let date = first + Duration::days(i64::from(tm.mday) - 1);
    let naive = date.and_hms_opt(tm.hour, tm.min, tm.sec).unwrap_or_default();
    if utc {
        naive.and_utc().timestamp()
    } else {
        match Local.from_local_datetime(&naive).earliest() {
            Some(d) => d.timestamp(),
            // In a DST gap: mktime moves forward; approximate with the UTC reading shifted by
            // the offset an hour later.
            None => Local
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .map(|d| d.timestamp() - 3600)
                .unwrap_or_else(|| naive.and_utc().timestamp()),
        }
    }
}

/// pmacct's `roundoff_time`: always zeroes seconds, then for each letter: `m` zeroes minutes,
/// `h` also hours, `d` also resets the day of month to 1, `w` goes back to Monday (Sunday stays),
/// `M` also resets the month to January. (The letters name what is aligned, as pmacct's code
/// does it.)
pub fn roundoff_time(t: i64, value: &str, utc: bool) -> i64 {
    let mut tm = to_tm(t, utc);
    tm.sec = 0;
    for c in value.chars() {
        match c {
            'm' => tm.min = 0,
            'h' => {
                tm.min = 0;
                tm.hour = 0;
            }
            'd' => {
                tm.min = 0;
                tm.hour = 0;
                tm.mday = 1;
            }
            'w' => {
                tm.min = 0;
                tm.hour = 0;
                while tm.wday > 1 {
                    tm.mday -= 1;
                    tm.wday -= 1;
                }
            }
            'M' => {
                tm.min = 0;
                tm.hour = 0;
                tm.mday = 1;
                tm.mon0 = 0;
            }
            _ => {}
        }
    }
    from_tm(tm, utc)
}

/// pmacct's `calc_monthly_timeslot`: seconds from `t` to the first of the month `howmany`
/// months later (`add`) or earlier (negative result made positive, as pmacct subtracts it).
fn monthly_timeslot(t: i64, howmany: u32, add: bool, utc: bool) -> i64 {
    let mut tm = to_tm(t, utc);
    tm.mday = 1;
    let n = howmany as i32;
    tm.mon0 += if add { n } else { -n };
    let d = from_tm(tm, utc) - t;
    if add { d } else { -d }
}

/// The bin layout of one plugin: its history, roundoff and the anchor all bins align to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeBins {
    history: History,
    roundoff: String,
    utc: bool,
    /// Start of the bin holding the plugin start time (pmacct's initial `basetime`).
    anchor: i64,
}

impl TimeBins {
    /// Bins as pmacct's `P_init_historical_acct` lays them out when the plugin starts at `now`.
    pub fn new(history: History, roundoff: &str, now: i64, utc: bool) -> TimeBins {
        let mut base = now;
        let mut slot;
        match history.fixed_secs() {
            Some(s) => slot = s,
            None => {
                base = roundoff_time(base, "d", utc);
                slot = monthly_timeslot(base, history.howmany, true, utc);
            }
        }
        let mut t = roundoff_time(base, roundoff, utc);
        while t + slot < base {
            t += slot;
            if history.unit == HistoryUnit::Months {
                slot = monthly_timeslot(t, history.howmany, true, utc);
            }
        }
        TimeBins { history, roundoff: roundoff.to_string(), utc, anchor: t }
    }

    pub fn history(&self) -> History {
        self.history
    }

    /// Start of the bin that holds `stamp` (pmacct's `P_eval_historical_acct`).
    pub fn bin_start(&self, stamp: i64) -> i64 {
        match self.history.fixed_secs() {
            Some(slot) => {
                let residual = if self.anchor > stamp {
                    // pmacct: `timeslot - r` even when r == 0, so a stamp exactly on a bin
                    // boundary before the base time lands in the bin before (checked side by
                    // side with nfacctd 1.7.7 in tests/pro_rating.rs).
                    slot - (self.anchor - stamp) % slot
                } else {
                    (stamp - self.anchor) % slot
                };
                stamp - residual
            }
            None => {
                let n = self.history.howmany;
                let mut base = self.anchor;
                while base > stamp {
                    base -= monthly_timeslot(base, n, false, self.utc);
                }
                let mut slot = monthly_timeslot(base, n, true, self.utc);
                while base + slot <= stamp {
                    base += slot;
                    slot = monthly_timeslot(base, n, true, self.utc);
                }
                base
            }
        }
    }

    /// Start of the bin after the one starting at `start`.
    pub fn next_start(&self, start: i64) -> i64 {
        match self.history.fixed_secs() {
            Some(slot) => start + slot,
            None => start + monthly_timeslot(start, self.history.howmany, true, self.utc),
        }
    }

    /// The roundoff string in use.
    pub fn roundoff(&self) -> &str {
        &self.roundoff
    }
}

/// First flush deadline (pmacct's `P_init_refresh_deadline`): `now` rounded off (seconds always
/// zeroed), advanced by `refresh` steps to the last step not after `now`, plus one `refresh`.
pub fn initial_deadline(now: i64, refresh: i64, roundoff: &str, utc: bool) -> i64 {
    let refresh = refresh.max(1);
    let mut t = roundoff_time(now, roundoff, utc);
    while t + refresh < now {
        t += refresh;
    }
    t + refresh
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap().and_utc().timestamp()
    }

    #[test]
    fn parse_history() {
        assert_eq!(History::parse("5m"), Ok(History { unit: HistoryUnit::Minutes, howmany: 5 }));
        assert_eq!(History::parse("1M").unwrap().unit, HistoryUnit::Months);
        assert_eq!(
            History::parse("300").unwrap(),
            History { unit: HistoryUnit::Minutes, howmany: 5 }
        );
        assert!(History::parse("0m").is_err());
        assert!(History::parse("5x").is_err());
        assert!(History::parse("90").is_err());
        assert!(History::parse("").is_err());
    }

    #[test]
    fn roundoff_letters() {
        let t = ts("2026-01-15 13:47:29"); // Thursday
        assert_eq!(roundoff_time(t, "", true), ts("2026-01-15 13:47:00"));
        assert_eq!(roundoff_time(t, "m", true), ts("2026-01-15 13:00:00"));
        assert_eq!(roundoff_time(t, "h", true), ts("2026-01-15 00:00:00"));
        assert_eq!(roundoff_time(t, "d", true), ts("2026-01-01 00:00:00"));
        assert_eq!(roundoff_time(t, "w", true), ts("2026-01-12 00:00:00"));
        assert_eq!(roundoff_time(t, "M", true), ts("2026-01-01 00:00:00"));
        assert_eq!(roundoff_time(ts("2026-03-15 13:47:29"), "M", true), ts("2026-01-01 00:00:00"));
        // Sunday stays Sunday (pmacct loops while tm_wday > 1).
        assert_eq!(roundoff_time(ts("2026-01-18 10:00:00"), "w", true), ts("2026-01-18 00:00:00"));
        assert!(validate_roundoff("mh").is_ok());
        assert!(validate_roundoff("wd").is_err());
        assert!(validate_roundoff("x").is_err());
    }

    #[test]
    fn five_minute_bins_with_roundoff() {
        let h = History::parse("5m").unwrap();
        let bins = TimeBins::new(h, "m", ts("2026-01-01 00:03:10"), true);
        assert_eq!(bins.bin_start(ts("2025-12-31 23:58:59")), ts("2025-12-31 23:55:00"));
        assert_eq!(bins.bin_start(ts("2026-01-01 00:00:00")), ts("2026-01-01 00:00:00"));
        assert_eq!(bins.bin_start(ts("2026-01-01 00:14:59")), ts("2026-01-01 00:10:00"));
        // On a boundary before the base time: the bin before, as pmacct computes it.
        assert_eq!(bins.bin_start(ts("2025-12-31 23:50:00")), ts("2025-12-31 23:45:00"));
        assert_eq!(bins.bin_start(ts("2025-12-31 23:50:01")), ts("2025-12-31 23:50:00"));
    }

    #[test]
    fn bins_without_roundoff_align_to_start_minute() {
        let h = History::parse("5m").unwrap();
        let bins = TimeBins::new(h, "", ts("2026-01-01 00:03:10"), true);
        assert_eq!(bins.bin_start(ts("2026-01-01 00:07:00")), ts("2026-01-01 00:03:00"));
        assert_eq!(bins.bin_start(ts("2026-01-01 00:02:59")), ts("2025-12-31 23:58:00"));
    }

    #[test]
    fn hourly_daily_weekly_monthly() {
        let now = ts("2026-01-15 13:47:29");
        let b = TimeBins::new(History::parse("1h").unwrap(), "m", now, true);
        assert_eq!(b.bin_start(ts("2026-01-10 04:59:59")), ts("2026-01-10 04:00:00"));
        let b = TimeBins::new(History::parse("1d").unwrap(), "h", now, true);
        assert_eq!(b.bin_start(ts("2026-01-10 04:59:59")), ts("2026-01-10 00:00:00"));
        let b = TimeBins::new(History::parse("1w").unwrap(), "w", now, true);
        assert_eq!(b.bin_start(ts("2026-01-21 04:59:59")), ts("2026-01-19 00:00:00"));
        let b = TimeBins::new(History::parse("1M").unwrap(), "d", now, true);
        assert_eq!(b.bin_start(ts("2026-03-10 04:59:59")), ts("2026-03-01 00:00:00"));
        assert_eq!(b.bin_start(ts("2025-11-30 23:59:59")), ts("2025-11-01 00:00:00"));
    }

    #[test]
    fn refresh_deadline() {
        let now = ts("2026-01-15 13:47:29");
        assert_eq!(initial_deadline(now, 60, "", true), ts("2026-01-15 13:48:00"));
        assert_eq!(initial_deadline(now, 300, "m", true), ts("2026-01-15 13:50:00"));
    }
}
