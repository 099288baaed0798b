//! What a strategy sees of the stage while it handles one event: the clock of that event
//! and a place to put signals.

use super::{indicator::IndicatorBank, market_regime::RegimeTracker, tick_watch::TickWatch};
use crate::{
    model::{Direction, InstrumentId, Price, Signal, Stamp, StrategyId, UnixNanos},
    runtime::STASH_CAPACITY,
};

/// Most signals one market event may cause, across all strategies.
///
/// The stage forwards the tick and then every signal it caused before reading the next
/// event, and its outbox holds at most [`STASH_CAPACITY`] messages when the ring is
/// full: one tick plus this many signals. Signals past the limit are dropped and
/// counted ([`SignalBatch::overflow`]); no strategy comes near it in practice (one
/// signal per instrument per bar).
pub const MAX_SIGNALS_PER_EVENT: usize = STASH_CAPACITY - 1;

/// The signals caused by one market event, in a buffer allocated once.
///
/// The stage owns one, hands each strategy a [`StrategyContext`] over it, then drains it
/// into the ring.
#[derive(Debug)]
pub struct SignalBatch {
    signals: Vec<Signal>,
    overflow: u64,
    /// Who receives which instrument's ticks; strategies change it through the context.
    watch: TickWatch,
}

impl SignalBatch {
    /// An empty batch with room for [`MAX_SIGNALS_PER_EVENT`] signals.
    pub fn new() -> SignalBatch {
        SignalBatch {
            signals: Vec::with_capacity(MAX_SIGNALS_PER_EVENT),
            overflow: 0,
            watch: TickWatch::EMPTY,
        }
    }

    /// The same batch keeping `watch`, the stage's tick watches, for strategies to
    /// change while they handle events.
    pub fn with_watch(self, watch: TickWatch) -> SignalBatch {
        SignalBatch { watch, ..self }
    }

    /// The tick watches, as strategies left them.
    pub fn watch(&self) -> &TickWatch {
        &self.watch
    }

    /// A context for `strategy` handling an event stamped `exchange_ts` (market time)
    /// and `ingress` (latency stamp); every signal it emits carries those three.
    pub fn context(
        &mut self,
        strategy: StrategyId,
        exchange_ts: UnixNanos,
        ingress: Stamp,
    ) -> StrategyContext<'_> {
        StrategyContext {
            batch: self,
            indicators: &NO_INDICATORS,
            regime: None,
            strategy,
            exchange_ts,
            ingress,
        }
    }

    /// The signals collected since the last [`SignalBatch::clear`], in emission order.
    pub fn signals(&self) -> &[Signal] {
        &self.signals
    }

    /// Empties the batch, keeping its allocation.
    pub fn clear(&mut self) {
        self.signals.clear();
    }

    /// Signals dropped because an event caused more than [`MAX_SIGNALS_PER_EVENT`].
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
}

impl Default for SignalBatch {
    fn default() -> Self {
        SignalBatch::new()
    }
}

/// What a context reads when nobody gave it a bank (unit tests of strategies that use
/// none).
static NO_INDICATORS: IndicatorBank = IndicatorBank::EMPTY;

/// A strategy's handle on the stage during one callback.
///
/// It tells the strategy the market time of the event being handled (strategies never
/// read the wall clock) and takes its signals. The stage stamps each signal with the
/// strategy's id and the triggering event's market time and ingress stamp, so a strategy
/// states only what it wants: instrument, direction, reference price and stop.
#[derive(Debug)]
pub struct StrategyContext<'a> {
    batch: &'a mut SignalBatch,
    indicators: &'a IndicatorBank,
    regime: Option<&'a RegimeTracker>,
    strategy: StrategyId,
    exchange_ts: UnixNanos,
    ingress: Stamp,
}

impl<'a> StrategyContext<'a> {
    /// The same context reading `indicators` (a context made by
    /// [`SignalBatch::context`] reads an empty bank).
    pub fn with_indicators(self, indicators: &'a IndicatorBank) -> StrategyContext<'a> {
        StrategyContext { indicators, ..self }
    }

    /// The shared indicators, already updated with the bar being handled.
    pub fn indicators(&self) -> &IndicatorBank {
        self.indicators
    }

    /// The same context reading the stage's regime tracker (a context made by
    /// [`SignalBatch::context`] has none).
    pub fn with_regime(self, regime: Option<&'a RegimeTracker>) -> StrategyContext<'a> {
        StrategyContext { regime, ..self }
    }

    /// The market regime, already updated with the index bar being handled; `None`
    /// when no regime model runs (`regime_adaptive` disabled).
    pub fn regime(&self) -> Option<&RegimeTracker> {
        self.regime
    }

    /// The id of the strategy being called.
    pub fn strategy(&self) -> StrategyId {
        self.strategy
    }

    /// Market time of the event being handled.
    pub fn now(&self) -> UnixNanos {
        self.exchange_ts
    }

    /// From the next tick of `instrument` on, this strategy's `on_tick` is called with
    /// its ticks (if it subscribed to the instrument). Every entry signal does this for
    /// its instrument.
    #[inline]
    pub fn watch_ticks(&mut self, instrument: InstrumentId) {
        self.batch.watch.watch(instrument, self.strategy);
    }

    /// This strategy's `on_tick` is no longer called with `instrument`'s ticks, until it
    /// watches them again (or emits an entry in it). A strategy that needs ticks only
    /// while it holds a trade says so on the first tick it has nothing to do with.
    #[inline]
    pub fn unwatch_ticks(&mut self, instrument: InstrumentId) {
        self.batch.watch.unwatch(instrument, self.strategy);
    }

    /// Emits "be `direction` in `instrument`", decided at reference `price`, with a
    /// protective `stop` for an entry (zero: none, the risk stage applies its default).
    /// An entry (`Long` or `Short`) also [watches](StrategyContext::watch_ticks) the
    /// instrument's ticks for this strategy.
    ///
    /// Never allocates. Returns false, and counts the signal as overflow, when the event
    /// already caused [`MAX_SIGNALS_PER_EVENT`] signals.
    #[inline]
    pub fn emit(
        &mut self,
        instrument: InstrumentId,
        direction: Direction,
        price: Price,
        stop: Price,
    ) -> bool {
        self.emit_with_target(instrument, direction, price, stop, Price::ZERO)
    }

    /// As [`StrategyContext::emit`], with a profit `target` for an entry (zero: none).
    /// The risk stage books part of the position there when `risk.partial_exit` is on
    /// (a strategy that passes its target then leaves the target exit to risk).
    #[inline]
    pub fn emit_with_target(
        &mut self,
        instrument: InstrumentId,
        direction: Direction,
        price: Price,
        stop: Price,
        target: Price,
    ) -> bool {
        if self.batch.signals.len() >= MAX_SIGNALS_PER_EVENT {
            self.batch.overflow += 1;
            return false;
        }
        self.batch.signals.push(Signal {
            exchange_ts: self.exchange_ts,
            ingress: self.ingress,
            price,
            stop,
            target,
            instrument,
            strategy: self.strategy,
            direction,
            weight_pct: Signal::FULL_WEIGHT,
        });
        if direction != Direction::Flat {
            self.watch_ticks(instrument);
        }
        true
    }
}

#[cfg(test)]
// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    #[test]
    fn signals_carry_the_event_stamps_and_strategy() {
        let mut batch = SignalBatch::new();
        let mut ctx = batch.context(StrategyId(2), UnixNanos(77), Stamp(5));
        assert_eq!(ctx.now(), UnixNanos(77));
        assert_eq!(ctx.strategy(), StrategyId(2));
        assert!(ctx.emit(
            InstrumentId(9),
            Direction::Long,
            Price::from_paise(100_00),
            Price::from_paise(99_00)
        ));
        assert_eq!(
            batch.signals(),
            &[Signal {
                exchange_ts: UnixNanos(77),
                ingress: Stamp(5),
                price: Price::from_paise(100_00),
                stop: Price::from_paise(99_00),
                target: Price::ZERO,
                instrument: InstrumentId(9),
                strategy: StrategyId(2),
                direction: Direction::Long,
                weight_pct: Signal::FULL_WEIGHT,
            }]
        );
        batch.clear();
        assert!(batch.signals().is_empty());
        let mut ctx = batch.context(StrategyId(1), UnixNanos(78), Stamp(6));
        assert!(ctx.emit_with_target(
            InstrumentId(3),
            Direction::Short,
            Price::from_paise(100_00),
            Price::from_paise(101_00),
            Price::from_paise(98_00)
        ));
        assert_eq!(batch.signals()[0].target, Price::from_paise(98_00));
    }

    #[test]
    fn overflow_is_dropped_and_counted_without_growing() {
        let mut batch = SignalBatch::new();
        let capacity = batch.signals.capacity();
        let mut ctx = batch.context(StrategyId(0), UnixNanos(1), Stamp(1));
        for i in 0..MAX_SIGNALS_PER_EVENT + 3 {
            let accepted = ctx.emit(
                InstrumentId(0),
                Direction::Flat,
                Price::from_paise(1),
                Price::ZERO,
            );
            assert_eq!(accepted, i < MAX_SIGNALS_PER_EVENT);
        }
        assert_eq!(batch.signals().len(), MAX_SIGNALS_PER_EVENT);
        assert_eq!(batch.overflow(), 3);
        assert_eq!(batch.signals.capacity(), capacity);
    }
}
