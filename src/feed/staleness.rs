//! The whole feed stale for longer than `feed.stale_alert_secs`: an alert, and another
//! when data flows again.
//!
//! A live source knows when it cannot vouch for its data (reconnecting, or silent past
//! its own staleness window: [`MarketSource::is_stale`](super::MarketSource::is_stale)).
//! A blip is normal; a feed that stays stale needs an operator, because every strategy
//! is trading on old prices or not at all. The watch runs only on the feed stage's idle
//! polls (no data moved, so nothing on the hot path waits for it) and reads the wall
//! clock only while the source says it is stale: staleness is about the wall clock,
//! since market time stands still when no data comes.

use std::time::{Duration, Instant};

/// What the watch saw change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaleChange {
    /// Stale for the whole threshold: alert.
    Stale,
    /// Data flows again after an alert.
    Recovered,
}

/// Tracks how long the source has been stale.
#[derive(Debug, Clone, Default)]
pub(crate) struct StaleWatch {
    /// The threshold; `None` watches nothing.
    after: Option<Duration>,
    /// When the source was first seen stale, while it is.
    since: Option<Instant>,
    /// The alert for this stale spell went out.
    alerted: bool,
}

impl StaleWatch {
    /// A watch alerting after `after` of continuous staleness; `None` watches nothing.
    pub(crate) fn new(after: Option<Duration>) -> StaleWatch {
        StaleWatch {
            after,
            ..StaleWatch::default()
        }
    }

    /// An idle poll: `stale` is the source's flag, `now` reads the clock (called only
    /// while stale).
    pub(crate) fn idle(
        &mut self,
        stale: bool,
        now: impl FnOnce() -> Instant,
    ) -> Option<StaleChange> {
        let after = self.after?;
        if !stale {
            return self.flowing();
        }
        let now = now();
        let since = *self.since.get_or_insert(now);
        if !self.alerted && now.saturating_duration_since(since) >= after {
            self.alerted = true;
            return Some(StaleChange::Stale);
        }
        None
    }

    /// Data moved: a stale spell, if any, is over.
    #[inline]
    pub(crate) fn flowing(&mut self) -> Option<StaleChange> {
        self.since?;
        self.since = None;
        std::mem::take(&mut self.alerted).then_some(StaleChange::Recovered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spell_longer_than_the_threshold_alerts_once_and_recovers_once() {
        let t0 = Instant::now();
        let at = |s: u64| move || t0 + Duration::from_secs(s);
        let mut w = StaleWatch::new(Some(Duration::from_secs(30)));
        assert_eq!(w.idle(true, at(0)), None);
        assert_eq!(w.idle(true, at(29)), None);
        assert_eq!(w.idle(true, at(30)), Some(StaleChange::Stale));
        assert_eq!(w.idle(true, at(90)), None, "once per spell");
        assert_eq!(w.flowing(), Some(StaleChange::Recovered));
        assert_eq!(w.flowing(), None);
        // A short blip says nothing, going or coming back.
        assert_eq!(w.idle(true, at(100)), None);
        assert_eq!(w.idle(false, at(101)), None);
        assert_eq!(w.idle(true, at(120)), None, "the spell starts over");
        assert_eq!(w.idle(true, at(149)), None);
        assert_eq!(w.idle(true, at(150)), Some(StaleChange::Stale));
    }

    #[test]
    fn off_never_reads_the_clock() {
        let mut w = StaleWatch::new(None);
        assert_eq!(
            w.idle(true, || unreachable!("the clock is read while off")),
            None
        );
        assert_eq!(w.flowing(), None);
    }
}
