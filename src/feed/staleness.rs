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
//!
//! The same condition blocks new entries: with the `stale_feed` alert the feed stage
//! puts [`ControlCommand::FeedStale`](crate::model::ControlCommand::FeedStale)`(true)`
//! into the stream, and `FeedStale(false)` with `feed_recovered`; the risk stage refuses
//! every entry in between (`stale_feed`). The change travels with the market data rather
//! than through shared memory, so where it falls between two events does not depend on
//! when another thread looks, and the risk stage journals it for a resumed day. The
//! feed stage also raises a [`StaleFeedFlag`] for the control plane's `status`. Only a
//! live source is ever stale, so replays, backtests and the synthetic day never see
//! either move.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

/// Whether the whole feed is stale now, shared by the feed stage (its only writer) and
/// the control plane's `status` (`entries_blocked_by`), which shows it.
///
/// Created where the pipeline is built and handed to each by `Arc`. Relaxed ordering
/// throughout: the flag publishes no other memory, and a display a little late is
/// harmless. Nothing that trades reads it: the risk stage learns the same change from
/// the stream ([`ControlCommand::FeedStale`](crate::model::ControlCommand::FeedStale)),
/// where it is ordered with the market data. It is not the trading state: an
/// operator's halt and resume are independent of it, and a recovery resumes nothing.
///
/// # Examples
/// ```
/// use tickpipe::feed::StaleFeedFlag;
/// let flag = StaleFeedFlag::default();
/// assert!(!flag.is_stale());
/// flag.set(true);
/// assert!(flag.is_stale());
/// ```
#[derive(Debug, Default)]
pub struct StaleFeedFlag(AtomicBool);

impl StaleFeedFlag {
    /// Raises (`true`) or lowers the flag. The feed stage's alone to call.
    pub fn set(&self, stale: bool) {
        self.0.store(stale, Ordering::Relaxed);
    }

    /// True while the feed is stale past `feed.stale_alert_secs`.
    #[inline]
    pub fn is_stale(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

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

    /// A busy poll: events moved. Outside a stale spell (the common case) nothing is
    /// read. Inside one, the spell ends only if the source vouches for its data again
    /// (`stale` reads its flag): news let in while market data is silent, or a live
    /// source's backlog from before its link dropped, moves events but no fresh prices.
    #[inline]
    pub(crate) fn moved(
        &mut self,
        stale: impl FnOnce() -> bool,
        now: impl FnOnce() -> Instant,
    ) -> Option<StaleChange> {
        self.since?;
        if stale() {
            return self.idle(true, now);
        }
        self.flowing()
    }

    /// Data moved: a stale spell, if any, is over.
    #[inline]
    fn flowing(&mut self) -> Option<StaleChange> {
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
    fn events_from_a_source_still_stale_do_not_end_the_spell() {
        let t0 = Instant::now();
        let at = |s: u64| move || t0 + Duration::from_secs(s);
        let mut w = StaleWatch::new(Some(Duration::from_secs(30)));
        assert_eq!(
            w.moved(|| unreachable!("read outside a spell"), at(0)),
            None,
            "no spell: nothing to end, nothing read"
        );
        assert_eq!(w.idle(true, at(0)), None);
        // News trickles in while the market data is silent: the spell goes on, and
        // still alerts at the threshold.
        assert_eq!(w.moved(|| true, at(10)), None);
        assert_eq!(w.moved(|| true, at(30)), Some(StaleChange::Stale));
        assert_eq!(w.moved(|| true, at(40)), None);
        // The source is fresh again: recovered.
        assert_eq!(w.moved(|| false, at(50)), Some(StaleChange::Recovered));
        assert_eq!(w.moved(|| unreachable!(), at(60)), None);
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
