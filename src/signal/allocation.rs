//! Adaptive allocation: each strategy's realised record scales its entries, and a
//! strategy that keeps losing trades on paper only (shadow) until its paper record
//! recovers.
//!
//! | item | what |
//! | --- | --- |
//! | [`Allocator`] | the signal stage's part: review times, the answers, the routing of signals |
//! | [`AllocationConfig`] | the `[signal.allocation]` section |
//! | [`RollingRecord`] | a strategy's most recent round trips, in whole reviews |
//! | [`rules`] | the weight rule and the shadow and recovery rules |
//! | [`ShadowBook`] | a shadowed strategy's paper positions |
//!
//! The risk stage's side, which counts real round trips from fills, is
//! [`ReviewDesk`](crate::risk::ReviewDesk).

mod config;
mod record;
pub mod rules;
mod shadow;

pub use config::AllocationConfig;
pub use record::RollingRecord;
pub use shadow::ShadowBook;
use tickpipe_ringbuf::Consumer;

use crate::{
    model::{
        Alert, AlertLevel, ControlReply, Direction, MarketEvent, Money, ReviewAnswer,
        ReviewRequest, RoundTrips, Signal, StrategyId, TradingState, UnixNanos,
    },
    runtime::ControlPort,
};

/// IST is UTC + 5:30; review times are counted from midnight IST.
const IST_OFFSET_NANOS: u64 = 19_800 * 1_000_000_000;

/// Where a strategy stands.
#[derive(Debug, Clone)]
struct StrategyAllocation {
    /// Trades on paper only.
    shadow: bool,
    /// Percent of the risk budget its entries get.
    weight_pct: u8,
    /// Its real round trips, as the risk stage reported them.
    live: RollingRecord,
    /// Its paper round trips since it last went to shadow.
    shadow_record: RollingRecord,
    /// Paper round trips since the last review.
    shadow_since: RoundTrips,
    /// Paper round trips over the run.
    shadow_total: RoundTrips,
    /// Entries held back from risk while in shadow.
    shadowed: u32,
    /// Switches to and from shadow.
    switches: u32,
}

/// How an allocation review stands, for the signal stage's `poll`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewProgress {
    /// No review is waiting for an answer.
    Idle,
    /// The risk stage has not answered yet.
    Waiting,
    /// The answer is in and applied: the held event may be handled.
    Complete,
    /// The risk stage is gone; the review is dropped and trading goes on as it was.
    RiskGone,
}

/// One strategy's allocation at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationSummary {
    /// Its name.
    pub name: &'static str,
    /// Percent of its risk budget at the end.
    pub weight_pct: u8,
    /// In shadow at the end.
    pub shadow: bool,
    /// Switches to and from shadow.
    pub switches: u32,
    /// Entries held back from risk while in shadow.
    pub shadowed: u32,
    /// Its rolling record of real round trips at the end.
    pub live: RoundTrips,
    /// Its paper round trips over the run.
    pub shadow_trips: RoundTrips,
}

/// The allocation summary of a run: reviews held and a row per strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationReport {
    /// Reviews completed.
    pub reviews: u32,
    /// Minutes between reviews.
    pub review_minutes: u32,
    /// Per strategy, by [`StrategyId`].
    pub strategies: Vec<AllocationSummary>,
}

/// The signal stage's allocation: review times, the answers, each strategy's record,
/// weight and shadow state, and the routing of its signals.
///
/// **Reviews.** Reviews fall every `review_minutes` of market time from midnight IST.
/// The first market event at or after a review time is held back
/// ([`Allocator::begin`]); the stage sends [`ReviewRequest`] to risk in its place and
/// reads no market input until risk has answered ([`Allocator::poll_answers`]), then
/// handles the held event. The stage never blocks: it returns from `poll` and tries
/// again. So the review happens at the same point of the stream on every layout, and
/// risk answers from a book holding the fills of every order sent before it. Between
/// reviews the cost is one compare of the event's market time per event.
///
/// **Rules at a review**, per strategy, on its rolling record ([`RollingRecord`], at
/// most `window` recent round trips in whole reviews):
/// 1. the risk stage's round trips since the last review join the record; a shadowed
///    strategy's paper round trips join its shadow record;
/// 2. an active strategy with at least `min_trades` round trips, a net loss and a
///    profit factor below `shadow_below` goes to shadow (its shadow record starts
///    empty);
/// 3. a shadowed strategy whose shadow record has at least `min_trades` round trips, a
///    net gain and a profit factor of at least `recover_above` trades again; its
///    rolling record restarts from the shadow record, the evidence that brought it
///    back, so the old losses do not send it straight back;
/// 4. its weight is [`rules::weight_pct`] of its rolling record.
///
/// An alert (`strategy_shadowed`, warning; `strategy_restored`, info) names the
/// strategy on each switch.
///
/// **Signals** ([`Allocator::route`]), after the pause check, the regime gate and the
/// filters: an active strategy's signals leave with their weight multiplied by its
/// allocation weight ([`rules::combine`]). A shadowed strategy's signals are booked on
/// its [`ShadowBook`] and not sent, except what closes a real position it asked for
/// before it went to shadow: its `Flat` there goes to risk, and an entry against such a
/// position goes to risk as `Flat`. Entries held back are counted (`shadowed`).
#[derive(Debug)]
pub struct Allocator {
    config: AllocationConfig,
    names: Vec<&'static str>,
    strategies: Vec<StrategyAllocation>,
    book: ShadowBook,
    /// Per strategy and instrument: the position last asked of risk (`None`: flat).
    live_wanted: Vec<Option<Direction>>,
    instruments: usize,
    answers: Consumer<ReviewAnswer>,
    /// The received answer rows of the review in progress, per strategy.
    received: Vec<RoundTrips>,
    /// Market time of the next review; zero until the first event sets it.
    next_review: UnixNanos,
    period: u64,
    /// Reviews asked.
    seq: u32,
    /// Reviews completed.
    reviews: u32,
    awaiting: bool,
    held: Option<MarketEvent>,
}

impl Allocator {
    /// The allocation of `names` (the strategies, by [`StrategyId`]) over `instruments`
    /// instruments, reading risk's answers from `answers`. `config` is validated.
    pub fn new(
        config: &AllocationConfig,
        names: Vec<&'static str>,
        instruments: usize,
        answers: Consumer<ReviewAnswer>,
    ) -> Allocator {
        let strategies = (0..names.len())
            .map(|i| {
                let id = StrategyId(i as u16);
                StrategyAllocation {
                    shadow: false,
                    weight_pct: Signal::FULL_WEIGHT,
                    live: RollingRecord::new(id, config.window),
                    shadow_record: RollingRecord::new(id, config.window),
                    shadow_since: RoundTrips::empty(id),
                    shadow_total: RoundTrips::empty(id),
                    shadowed: 0,
                    switches: 0,
                }
            })
            .collect();
        Allocator {
            book: ShadowBook::new(names.len(), instruments, config.shadow_notional),
            live_wanted: vec![None; names.len() * instruments],
            instruments,
            received: (0..names.len())
                .map(|i| RoundTrips::empty(StrategyId(i as u16)))
                .collect(),
            strategies,
            names,
            config: config.clone(),
            answers,
            next_review: UnixNanos(0),
            period: config.review_nanos().max(1),
            seq: 0,
            reviews: 0,
            awaiting: false,
            held: None,
        }
    }

    /// True when the event at market time `ts` must wait for a review. The first event
    /// only sets the first review time.
    #[inline]
    pub fn is_due(&mut self, ts: UnixNanos) -> bool {
        if ts < self.next_review {
            return false;
        }
        self.due_slow(ts)
    }

    #[cold]
    fn due_slow(&mut self, ts: UnixNanos) -> bool {
        let first = self.next_review == UnixNanos(0);
        self.next_review = self.review_after(ts);
        !first
    }

    /// The first review time strictly after `ts`.
    fn review_after(&self, ts: UnixNanos) -> UnixNanos {
        let local = ts.0.saturating_add(IST_OFFSET_NANOS);
        let next = (local / self.period + 1).saturating_mul(self.period);
        UnixNanos(next.saturating_sub(IST_OFFSET_NANOS))
    }

    /// Starts a review: holds `event` (the first at or after the review time) until
    /// the answer is in, and returns the request to send to risk in its place.
    pub fn begin(&mut self, event: MarketEvent) -> ReviewRequest {
        self.held = Some(event);
        self.awaiting = true;
        self.seq += 1;
        for (i, r) in self.received.iter_mut().enumerate() {
            *r = RoundTrips::empty(StrategyId(i as u16));
        }
        ReviewRequest {
            exchange_ts: event.exchange_ts(),
            seq: self.seq,
        }
    }

    /// True while a review waits for its answer or its held event.
    #[inline]
    pub fn is_busy(&self) -> bool {
        self.awaiting || self.held.is_some()
    }

    /// Reads risk's answer so far; on its end marker applies the review (alerts go out
    /// on `control`, at `market_time`).
    pub fn poll_answers(&mut self, control: &mut ControlPort) -> ReviewProgress {
        if !self.awaiting {
            return ReviewProgress::Idle;
        }
        while let Ok(answer) = self.answers.try_pop() {
            match answer {
                ReviewAnswer::Strategy(trips) => {
                    if let Some(slot) = self.received.get_mut(trips.strategy.index()) {
                        slot.add(&trips);
                    }
                }
                ReviewAnswer::End { seq } if seq == self.seq => {
                    self.awaiting = false;
                    self.conclude(control);
                    return ReviewProgress::Complete;
                }
                ReviewAnswer::End { .. } => {}
            }
        }
        if self.answers.is_finished() {
            self.awaiting = false;
            return ReviewProgress::RiskGone;
        }
        ReviewProgress::Waiting
    }

    /// The event held back by the review, once the review is over.
    pub fn take_held(&mut self) -> Option<MarketEvent> {
        if self.awaiting {
            return None;
        }
        self.held.take()
    }

    /// Applies the rules to every strategy (see [`Allocator`]).
    fn conclude(&mut self, control: &mut ControlPort) {
        self.reviews += 1;
        let at = self
            .held
            .as_ref()
            .map_or(self.next_review, MarketEvent::exchange_ts);
        for i in 0..self.strategies.len() {
            let id = StrategyId(i as u16);
            let s = &mut self.strategies[i];
            s.live.push(&self.received[i]);
            if s.shadow {
                s.shadow_record.push(&s.shadow_since);
            }
            s.shadow_since = RoundTrips::empty(id);
            let switched = if !s.shadow && rules::should_shadow(s.live.totals(), &self.config) {
                s.shadow = true;
                s.shadow_record.clear();
                Some(("strategy_shadowed", AlertLevel::Warning))
            } else if s.shadow && rules::should_recover(s.shadow_record.totals(), &self.config) {
                s.shadow = false;
                s.live.copy_from(&s.shadow_record);
                Some(("strategy_restored", AlertLevel::Info))
            } else {
                None
            };
            s.weight_pct = rules::weight_pct(s.live.totals(), &self.config);
            if let Some((kind, level)) = switched {
                s.switches += 1;
                self.book.clear(id);
                control.alert(Alert {
                    exchange_ts: at,
                    kind,
                    instrument: None,
                    level,
                    state: TradingState::Active,
                    detail: self.names[i],
                });
            }
        }
    }

    /// Routes a signal that passed the pause check, the regime gate and the filters,
    /// with the regime weight `regime_pct`: the signal to send to risk, or `None` when
    /// it stays on paper (see [`Allocator`]).
    pub fn route(&mut self, signal: &Signal, regime_pct: u8) -> Option<Signal> {
        let s = signal.strategy.index();
        let i = signal.instrument.index();
        let strategy = self.strategies.get_mut(s)?;
        let slot = s * self.instruments + i;
        let live = self.live_wanted.get(slot).copied().flatten();
        if !strategy.shadow {
            if let Some(wanted) = self.live_wanted.get_mut(slot) {
                *wanted = match signal.direction {
                    Direction::Flat => None,
                    d => Some(d),
                };
            }
            return Some(Signal {
                weight_pct: rules::combine(regime_pct, strategy.weight_pct),
                ..*signal
            });
        }
        if let Some(pnl) = self.book.on_signal(signal) {
            strategy.shadow_since.record(pnl);
            strategy.shadow_total.record(pnl);
        }
        let is_entry = signal.direction != Direction::Flat;
        if is_entry {
            strategy.shadowed = strategy.shadowed.saturating_add(1);
        }
        match live {
            // A real position from before the switch: this signal closes it.
            Some(held) if held != signal.direction => {
                self.live_wanted[slot] = None;
                Some(Signal {
                    direction: Direction::Flat,
                    weight_pct: Signal::FULL_WEIGHT,
                    ..*signal
                })
            }
            _ => None,
        }
    }

    /// The control row of `strategy`.
    pub fn status(&self, strategy: StrategyId) -> Option<ControlReply> {
        let s = self.strategies.get(strategy.index())?;
        let live = s.live.totals();
        let factor = live.profit_factor();
        Some(ControlReply::Allocation {
            strategy,
            shadow: s.shadow,
            weight_pct: s.weight_pct,
            reviews: self.reviews,
            shadowed: s.shadowed,
            live_trips: live.trips,
            live_wins: live.wins,
            live_profit_factor_centi: if factor.is_finite() {
                (factor * 100.0).round().min(f64::from(u32::MAX - 1)) as u32
            } else {
                u32::MAX
            },
            live_net: live.net,
            shadow_trips: s.shadow_record.totals().trips,
            shadow_net: s.shadow_record.totals().net,
        })
    }

    /// True while `strategy` trades on paper only.
    pub fn is_shadow(&self, strategy: StrategyId) -> bool {
        self.strategies
            .get(strategy.index())
            .is_some_and(|s| s.shadow)
    }

    /// `strategy`'s allocation weight, percent.
    pub fn weight_pct(&self, strategy: StrategyId) -> u8 {
        self.strategies
            .get(strategy.index())
            .map_or(Signal::FULL_WEIGHT, |s| s.weight_pct)
    }

    /// Reviews completed.
    pub fn reviews(&self) -> u32 {
        self.reviews
    }

    /// What the run did, per strategy.
    pub fn report(&self) -> AllocationReport {
        AllocationReport {
            reviews: self.reviews,
            review_minutes: self.config.review_minutes,
            strategies: self
                .strategies
                .iter()
                .enumerate()
                .map(|(i, s)| AllocationSummary {
                    name: self.names[i],
                    weight_pct: s.weight_pct,
                    shadow: s.shadow,
                    switches: s.switches,
                    shadowed: s.shadowed,
                    live: *s.live.totals(),
                    shadow_trips: s.shadow_total,
                })
                .collect(),
        }
    }

    /// Shadow P&L over the run of `strategy` (booked paper round trips).
    pub fn shadow_pnl(&self, strategy: StrategyId) -> Money {
        self.strategies
            .get(strategy.index())
            .map_or(Money::ZERO, |s| s.shadow_total.net)
    }
}

#[cfg(test)]
mod tests;
