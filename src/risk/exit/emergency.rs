//! The index-fall watch behind the automatic emergency flatten.

use std::collections::VecDeque;

use crate::{
    model::{InstrumentId, Price, UnixNanos},
    risk::exit::config::{to_bps, EmergencyConfig},
};

/// Trips when the watched index trades more than `drop_pct` below its highest print of
/// the last `window_minutes` of market time.
///
/// The highest print of the window comes from a monotonic queue of per-second highs
/// (each second's high is dropped once a later, higher print arrives, or once it leaves
/// the window), so each index tick costs O(1) amortised; the queue holds at most one
/// entry per second of the window and is allocated at construction. It trips once per
/// run: the stage halts, and trading resumes only on the operator's word.
#[derive(Debug, Clone)]
pub struct IndexFallWatch {
    index: Option<InstrumentId>,
    drop_bps: i64,
    window_secs: u64,
    highs: VecDeque<(u64, Price)>,
    tripped: bool,
}

impl IndexFallWatch {
    /// Watches `index` (none: never trips) by `config`; a zero `drop_pct` turns it off.
    pub fn new(index: Option<InstrumentId>, config: &EmergencyConfig) -> IndexFallWatch {
        let window_secs = u64::from(config.window_minutes.max(1)) * 60;
        let drop_bps = to_bps(config.drop_pct);
        IndexFallWatch {
            index: index.filter(|_| drop_bps > 0),
            drop_bps,
            window_secs,
            highs: VecDeque::with_capacity(window_secs as usize + 1),
            tripped: false,
        }
    }

    /// The instrument watched, if the watch is on.
    pub fn index(&self) -> Option<InstrumentId> {
        self.index
    }

    /// Reads one print; true exactly once, when the fall first exceeds the limit.
    pub fn on_tick(&mut self, instrument: InstrumentId, ts: UnixNanos, last: Price) -> bool {
        if self.index != Some(instrument) || self.tripped || !last.is_positive() {
            return false;
        }
        let now = ts.secs();
        while self
            .highs
            .front()
            .is_some_and(|&(sec, _)| sec + self.window_secs <= now)
        {
            self.highs.pop_front();
        }
        while self.highs.back().is_some_and(|&(_, high)| high <= last) {
            self.highs.pop_back();
        }
        match self.highs.back() {
            Some(&(sec, _)) if sec == now => {}
            // At most one entry per second of the window lives here: never past capacity.
            _ if self.highs.len() < self.highs.capacity() => self.highs.push_back((now, last)),
            _ => {}
        }
        let Some(&(_, high)) = self.highs.front() else {
            return false;
        };
        let fall = i128::from(high.raw()) - i128::from(last.raw());
        if fall * 10_000 > i128::from(high.raw()) * i128::from(self.drop_bps) {
            self.tripped = true;
        }
        self.tripped
    }

    /// True once it tripped.
    pub fn tripped(&self) -> bool {
        self.tripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Money;

    fn watch() -> IndexFallWatch {
        let config = EmergencyConfig {
            index: "NIFTY 50".into(),
            drop_pct: Money::from_rupees(2),
            window_minutes: 5,
        };
        IndexFallWatch::new(Some(InstrumentId(4)), &config)
    }

    fn at(secs: u64) -> UnixNanos {
        UnixNanos(secs * 1_000_000_000)
    }

    fn px(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn a_slow_fall_passes_and_a_fast_one_trips_once() {
        let mut w = watch();
        assert!(!w.on_tick(InstrumentId(4), at(0), px("24000")));
        // 2% exactly within the window is not "more than 2%".
        assert!(!w.on_tick(InstrumentId(4), at(240), px("23520")));
        // The 24000 high leaves the window at 300 s: 23 400 against 23 520 is 0.5%.
        assert!(!w.on_tick(InstrumentId(4), at(300), px("23400")));
        assert!(
            !w.on_tick(InstrumentId(3), at(301), px("1")),
            "other instruments"
        );
        assert!(!w.on_tick(InstrumentId(4), at(302), px("23700")));
        assert!(
            w.on_tick(InstrumentId(4), at(400), px("23220")),
            "2.03% below 23 700"
        );
        assert!(!w.on_tick(InstrumentId(4), at(401), px("20000")), "once");
        assert!(w.tripped());
    }

    #[test]
    fn off_without_an_index_or_a_drop() {
        let mut off = IndexFallWatch::new(None, &EmergencyConfig::default());
        assert!(!off.on_tick(InstrumentId(0), at(0), px("100")));
        let zero = EmergencyConfig {
            drop_pct: Money::ZERO,
            ..EmergencyConfig::default()
        };
        let mut off = IndexFallWatch::new(Some(InstrumentId(0)), &zero);
        assert_eq!(off.index(), None);
        off.on_tick(InstrumentId(0), at(0), px("100"));
        assert!(!off.on_tick(InstrumentId(0), at(1), px("1")));
    }
}
