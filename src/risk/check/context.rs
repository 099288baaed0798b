//! What a check may read about the moment.

use crate::{
    model::{Money, TimeOfDay, TradingState, UnixNanos},
    risk::{
        limits::{InstrumentSpec, LimitState, Quote},
        position::Position,
    },
};

/// What a check may read about the moment: the proposal's instrument and position, the
/// time, the trading state, how fresh the data is, and the stage's [`LimitState`].
///
/// [`CheckContext::new`] gives a quiet moment (10:00 IST, trading active, nothing
/// committed, a cash share with no quote); tests and examples change what they need
/// with struct update syntax.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The position in the proposal's instrument.
    pub position: &'a Position,
    /// What the instrument is: kind, lot and tick size, sector.
    pub instrument: InstrumentSpec,
    /// The instrument's latest bid, ask and last trade.
    pub quote: Quote,
    /// IST time of day of the signal, in market time.
    pub time: TimeOfDay,
    /// Whether strategies may open positions.
    pub trading: TradingState,
    /// Exposure already committed: open positions at their marks plus entries in flight,
    /// less the position an exit sent with this entry is closing.
    pub exposure: Money,
    /// Exposure an exit sent with this entry frees in the proposal's own instrument (so
    /// in its sector and kind too); zero when there is none.
    pub freed: Money,
    /// Market time of the signal.
    pub now: UnixNanos,
    /// Market time of the latest event the stage has handled (at least `now`).
    pub market_time: UnixNanos,
    /// Market time of the last fill on the instrument, from any strategy (zero: none).
    pub last_order: UnixNanos,
    /// Market time of the instrument's last tick; `None` while it has not ticked.
    pub last_tick: Option<UnixNanos>,
    /// The whole live feed is stale now (the `stale_feed` alert is up).
    pub feed_stale: bool,
    /// What the per-position risk and exposure caps are percentages of: equity
    /// (capital + realised P&L net of charges + unrealised P&L) or the fixed capital, as
    /// `risk.sizing_basis` says; read it through [`CheckContext::equity`].
    pub equity: Money,
    /// The stage's limit state: exposure buckets, correlations, the day's loss.
    pub limits: &'a LimitState,
}

impl<'a> CheckContext<'a> {
    /// A quiet moment for `position`: 10:00 IST (market time zero), trading active,
    /// nothing committed, equity ₹10 lakh, a cash share of lot 1 with no quote, its
    /// last tick at market time zero (fresh), the feed fresh.
    pub fn new(position: &'a Position, limits: &'a LimitState) -> CheckContext<'a> {
        CheckContext {
            position,
            instrument: InstrumentSpec::equity(),
            quote: Quote::default(),
            time: TimeOfDay::hm(10, 0),
            trading: TradingState::Active,
            exposure: Money::ZERO,
            freed: Money::ZERO,
            now: UnixNanos(0),
            market_time: UnixNanos(0),
            last_order: UnixNanos(0),
            last_tick: Some(UnixNanos(0)),
            feed_stale: false,
            equity: Money::from_rupees(1_000_000),
            limits,
        }
    }

    /// The rupees the sizing and exposure percentages of `[risk]` are taken of: equity
    /// ([`Book::equity`](crate::risk::Book::equity)) or the fixed capital, by
    /// `risk.sizing_basis`, as the stage computed it for this decision. Every limit that
    /// is a share of equity reads it here.
    pub fn equity(&self) -> Money {
        self.equity
    }

    /// Units per lot of the instrument (zero: not tradable).
    pub fn lot_size(&self) -> u32 {
        self.instrument.lot_size
    }

    /// `pct` percent of equity, floored at zero (a blown account has no room).
    pub fn share_of_equity(&self, pct: Money) -> Money {
        self.equity
            .percent(pct)
            .unwrap_or(Money::ZERO)
            .max(Money::ZERO)
    }
}
