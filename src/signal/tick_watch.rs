//! Which strategies want the ticks of which instrument at this moment.
//!
//! Most strategies decide on closed bars and need an instrument's ticks only while they
//! hold a trade in it (to see a target or a time stop as soon as it is reached). Calling
//! every subscribed strategy on every tick costs a context and an indirect call each,
//! which, with several strategies over fifty instruments, was a third of the signal
//! stage's work per tick. The stage therefore calls `on_tick` only for the strategies
//! whose bit is set here: set at construction for the instruments a strategy
//! [wants ticks of](super::Strategy::wants_ticks), by every entry signal the strategy
//! emits, and by [`StrategyContext::watch_ticks`](super::StrategyContext::watch_ticks);
//! cleared by [`StrategyContext::unwatch_ticks`](super::StrategyContext::unwatch_ticks).

use crate::model::{InstrumentId, StrategyId};

/// Per instrument, a bit per strategy: subscribed, and watching ticks now.
///
/// One `u64` per instrument and per question, so a strategy id must be below
/// [`TickWatch::MAX_STRATEGIES`]; the catalogue of strategies is far smaller.
#[derive(Debug, Clone, Default)]
pub struct TickWatch {
    /// Strategies subscribed to each instrument: a watch is never set outside these.
    subscribed: Vec<u64>,
    /// Strategies to call with each instrument's ticks.
    watching: Vec<u64>,
}

impl TickWatch {
    /// Strategies a stage can watch ticks for: the bits of a `u64`.
    pub const MAX_STRATEGIES: usize = 64;

    /// No instrument, nobody watching (strategy unit tests, where watches do nothing).
    pub const EMPTY: TickWatch = TickWatch {
        subscribed: Vec::new(),
        watching: Vec::new(),
    };

    /// For `instruments` instruments, with `subscribed(i, s)` and `watching(i, s)`
    /// asked once for every instrument index `i` and strategy index `s < strategies`.
    ///
    /// # Panics
    /// If `strategies` exceeds [`TickWatch::MAX_STRATEGIES`].
    pub fn new(
        instruments: usize,
        strategies: usize,
        subscribed: impl Fn(usize, usize) -> bool,
        watching: impl Fn(usize, usize) -> bool,
    ) -> TickWatch {
        assert!(
            strategies <= Self::MAX_STRATEGIES,
            "tick watches hold at most {} strategies",
            Self::MAX_STRATEGIES
        );
        let mask = |f: &dyn Fn(usize, usize) -> bool, i: usize| {
            (0..strategies)
                .filter(|&s| f(i, s))
                .fold(0u64, |m, s| m | 1 << s)
        };
        let subscribed: Vec<u64> = (0..instruments).map(|i| mask(&subscribed, i)).collect();
        let watching = (0..instruments)
            .map(|i| mask(&watching, i) & subscribed[i])
            .collect();
        TickWatch {
            subscribed,
            watching,
        }
    }

    /// The strategies to call with a tick of `instrument`, a bit per strategy index.
    #[inline]
    pub fn watchers(&self, instrument: InstrumentId) -> u64 {
        self.watching.get(instrument.index()).copied().unwrap_or(0)
    }

    /// `strategy` receives `instrument`'s ticks from the next one on, if it subscribed
    /// to the instrument.
    #[inline]
    pub fn watch(&mut self, instrument: InstrumentId, strategy: StrategyId) {
        let i = instrument.index();
        if let (Some(w), Some(&s)) = (self.watching.get_mut(i), self.subscribed.get(i)) {
            *w |= bit(strategy) & s;
        }
    }

    /// `strategy` receives no more of `instrument`'s ticks until it watches again.
    #[inline]
    pub fn unwatch(&mut self, instrument: InstrumentId, strategy: StrategyId) {
        if let Some(w) = self.watching.get_mut(instrument.index()) {
            *w &= !bit(strategy);
        }
    }
}

/// `strategy`'s bit; none for an id past the mask (never watched).
#[inline]
fn bit(strategy: StrategyId) -> u64 {
    1u64.checked_shl(u32::from(strategy.0)).unwrap_or(0)
}

/// The strategy indices of a watcher mask, lowest (first in [`StrategyId`] order) first.
#[inline]
pub fn each_watcher(mut mask: u64) -> impl Iterator<Item = StrategyId> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let s = mask.trailing_zeros() as u16;
        mask &= mask - 1;
        Some(StrategyId(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch() -> TickWatch {
        // Instrument 0: strategies 0 and 1 subscribed, only 0 watching from the start.
        // Instrument 1: strategy 1 subscribed, not watching.
        TickWatch::new(2, 2, |i, s| i == 0 || s == 1, |i, s| i == 0 && s == 0)
    }

    #[test]
    fn starts_with_the_strategies_that_want_ticks_and_subscribed() {
        let w = watch();
        assert_eq!(w.watchers(InstrumentId(0)), 0b01);
        assert_eq!(w.watchers(InstrumentId(1)), 0);
        assert_eq!(w.watchers(InstrumentId(7)), 0, "unknown instrument");
        let w = TickWatch::new(1, 2, |_, s| s == 0, |_, _| true);
        assert_eq!(
            w.watchers(InstrumentId(0)),
            0b01,
            "not subscribed, not watching"
        );
    }

    #[test]
    fn watch_and_unwatch_toggle_one_strategy_within_its_subscriptions() {
        let mut w = watch();
        w.watch(InstrumentId(1), StrategyId(1));
        assert_eq!(w.watchers(InstrumentId(1)), 0b10);
        w.watch(InstrumentId(1), StrategyId(0));
        assert_eq!(
            w.watchers(InstrumentId(1)),
            0b10,
            "0 is not subscribed to 1"
        );
        w.unwatch(InstrumentId(0), StrategyId(0));
        assert_eq!(w.watchers(InstrumentId(0)), 0);
        w.watch(InstrumentId(9), StrategyId(0));
        w.unwatch(InstrumentId(9), StrategyId(0));
        w.watch(InstrumentId(0), StrategyId(200));
        assert_eq!(
            w.watchers(InstrumentId(0)),
            0,
            "an id past the mask is ignored"
        );
    }

    #[test]
    fn watchers_come_out_in_id_order() {
        let ids: Vec<u16> = each_watcher(0b1010_0101).map(|s| s.0).collect();
        assert_eq!(ids, [0, 2, 5, 7]);
        assert_eq!(each_watcher(0).count(), 0);
        assert_eq!(each_watcher(1 << 63).map(|s| s.0).collect::<Vec<_>>(), [63]);
    }

    #[test]
    #[should_panic(expected = "at most 64")]
    fn more_strategies_than_bits_is_refused() {
        let _ = TickWatch::new(1, 65, |_, _| true, |_, _| true);
    }
}
