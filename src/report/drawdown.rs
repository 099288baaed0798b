//! Drawdown episodes: how deep, how long, and how long to recover.
//!
//! The running peak starts at the first row. A row is under water when its equity is
//! below the peak (strictly: equal to the peak counts as recovered). An episode is a
//! maximal run of under-water rows; its peak is the row just before the run, its trough
//! the lowest row of the run (the first if tied), its recovery the first row after the
//! run, if the curve gets there.

use serde::Serialize;

use crate::{model::Date, report::EquityCurve};

/// One drawdown episode. Rows ("bars") are indexes into the curve; calendar days are
/// between the rows' dates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Episode {
    /// The last row at the running high before the fall.
    pub peak_bar: usize,
    /// Its date.
    pub peak_date: String,
    /// The lowest row of the episode (the first if tied).
    pub trough_bar: usize,
    /// Its date.
    pub trough_date: String,
    /// The first row back at or above the peak; `None` if the curve ends under water.
    pub recovery_bar: Option<usize>,
    /// Its date.
    pub recovery_date: Option<String>,
    /// True when the curve got back to the peak.
    pub recovered: bool,
    /// `trough / peak − 1`, a negative fraction.
    pub depth: f64,
    /// Rows from the peak to the recovery (or to the last row).
    pub duration_bars: usize,
    /// Calendar days from the peak to the recovery (or to the last row).
    pub duration_calendar_days: i64,
    /// Rows from the peak to the trough.
    pub decline_bars: usize,
    /// Rows from the trough to the recovery; `None` if never recovered.
    pub recovery_bars: Option<usize>,
    /// Calendar days from the trough to the recovery; `None` if never recovered.
    pub recovery_calendar_days: Option<i64>,
}

/// Every episode of a curve and the summary figures over them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drawdowns {
    /// The longest episode's rows, peak to recovery (an unfinished last one included).
    pub longest_drawdown_duration_bars: usize,
    /// The longest calendar span of any episode (possibly another episode).
    pub longest_drawdown_duration_calendar_days: i64,
    /// The longest episode by rows (the first if tied).
    pub longest_drawdown: Option<Episode>,
    /// The deepest episode (the first if tied).
    pub max_drawdown_episode: Option<Episode>,
    /// Its trough-to-recovery rows; `None` if it never recovered.
    pub max_drawdown_recovery_bars: Option<usize>,
    /// Its trough-to-recovery calendar days; `None` if it never recovered.
    pub max_drawdown_recovery_calendar_days: Option<i64>,
    /// How many episodes.
    pub n_episodes: usize,
    /// Every episode, in time order.
    pub episodes: Vec<Episode>,
}

impl Drawdowns {
    /// The episodes of `curve`.
    pub fn of(curve: &EquityCurve) -> Drawdowns {
        let (dates, equity) = (curve.dates(), curve.equity());
        let mut episodes = Vec::new();
        let mut peak_bar = 0;
        let mut open: Option<usize> = None; // trough of the episode under way
        for (t, &value) in equity.iter().enumerate() {
            let peak = equity[peak_bar];
            if value < peak {
                let trough = open.get_or_insert(t);
                if value < equity[*trough] {
                    *trough = t;
                }
                continue;
            }
            if let Some(trough) = open.take() {
                episodes.push(episode(dates, equity, peak_bar, trough, Some(t)));
            }
            peak_bar = t;
        }
        if let Some(trough) = open {
            episodes.push(episode(dates, equity, peak_bar, trough, None));
        }
        let longest = first_max_by_key(&episodes, |e| e.duration_bars as f64);
        let deepest = first_max_by_key(&episodes, |e| -e.depth);
        Drawdowns {
            longest_drawdown_duration_bars: longest.map_or(0, |e| e.duration_bars),
            longest_drawdown_duration_calendar_days: episodes
                .iter()
                .map(|e| e.duration_calendar_days)
                .max()
                .unwrap_or(0),
            longest_drawdown: longest.cloned(),
            max_drawdown_recovery_bars: deepest.and_then(|e| e.recovery_bars),
            max_drawdown_recovery_calendar_days: deepest.and_then(|e| e.recovery_calendar_days),
            max_drawdown_episode: deepest.cloned(),
            n_episodes: episodes.len(),
            episodes,
        }
    }
}

/// The first element with the largest key.
fn first_max_by_key<T>(items: &[T], key: impl Fn(&T) -> f64) -> Option<&T> {
    let mut best: Option<(&T, f64)> = None;
    for item in items {
        let k = key(item);
        if best.map_or(true, |(_, b)| k > b) {
            best = Some((item, k));
        }
    }
    best.map(|(item, _)| item)
}

fn episode(
    dates: &[Date],
    equity: &[f64],
    peak: usize,
    trough: usize,
    recovery: Option<usize>,
) -> Episode {
    let end = recovery.unwrap_or(equity.len() - 1);
    let days =
        |from: usize, to: usize| dates[to].days_since_epoch() - dates[from].days_since_epoch();
    Episode {
        peak_bar: peak,
        peak_date: dates[peak].to_string(),
        trough_bar: trough,
        trough_date: dates[trough].to_string(),
        recovery_bar: recovery,
        recovery_date: recovery.map(|r| dates[r].to_string()),
        recovered: recovery.is_some(),
        depth: equity[trough] / equity[peak] - 1.0,
        duration_bars: end - peak,
        duration_calendar_days: days(peak, end),
        decline_bars: trough - peak,
        recovery_bars: recovery.map(|r| r - trough),
        recovery_calendar_days: recovery.map(|r| days(trough, r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(values: &[f64]) -> EquityCurve {
        let start = Date::new(2026, 1, 1);
        EquityCurve::new(
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| (start.add_days(i as i64), v))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn episodes_ties_and_an_unfinished_end() {
        // peak 0 (100); under water 1..=2, trough 1 (tied at 2); back to exactly 100 at 3
        // (equal counts as recovered); new high 4; under water to the end, trough 6.
        let d = Drawdowns::of(&curve(&[
            100.0, 90.0, 90.0, 100.0, 120.0, 110.0, 60.0, 70.0,
        ]));
        assert_eq!(d.n_episodes, 2);
        let first = &d.episodes[0];
        assert_eq!(
            (first.peak_bar, first.trough_bar, first.recovery_bar),
            (0, 1, Some(3))
        );
        assert_eq!(
            (first.duration_bars, first.decline_bars, first.recovery_bars),
            (3, 1, Some(2))
        );
        assert!((first.depth + 0.1).abs() < 1e-12);
        let last = &d.episodes[1];
        assert_eq!(
            (last.peak_bar, last.trough_bar, last.recovery_bar),
            (4, 6, None)
        );
        assert!(!last.recovered);
        assert_eq!(last.duration_bars, 3, "to the last row");
        assert_eq!(last.recovery_calendar_days, None);
        assert_eq!(d.max_drawdown_episode.as_ref(), Some(last));
        assert_eq!(
            d.longest_drawdown.as_ref(),
            Some(first),
            "3 bars each: the first"
        );
        assert_eq!(d.max_drawdown_recovery_bars, None);
    }

    #[test]
    fn no_drawdown() {
        let d = Drawdowns::of(&curve(&[1.0, 2.0, 2.0, 3.0]));
        assert_eq!(d.n_episodes, 0);
        assert_eq!(d.longest_drawdown_duration_bars, 0);
        assert!(d.longest_drawdown.is_none() && d.max_drawdown_episode.is_none());
    }
}
