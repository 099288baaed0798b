use crate::model::{InstrumentId, IntentId, Price, Qty, Side, Stamp, StrategyId, UnixNanos};

/// Why the risk stage issued an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum IntentReason {
    /// Opening a position on a strategy's signal.
    Entry = 1,
    /// Closing on a strategy's signal.
    Exit = 2,
    /// Closing because the mark crossed the protective stop.
    StopLoss = 3,
    /// Closing at the engine's square-off time.
    SquareOff = 4,
    /// Closing on an operator's command.
    Manual = 5,
    /// Closing because the mark crossed a stop the risk stage moved in the position's
    /// favour (the trailing stop, or break-even after a booked target).
    TrailingStop = 6,
    /// Booking profit at the signal's target: part of the position, or all of it when
    /// the part is less than a lot.
    Target = 7,
    /// Closing because the position outlived its strategy's time stop.
    TimeStop = 8,
    /// Closing everything on an emergency (the index fell too fast, or a shutdown).
    Emergency = 9,
    /// Cutting part of a losing position before its stop (`risk.scale_out`).
    Reduce = 10,
}

impl IntentReason {
    /// A short lowercase name for reports and answers.
    pub const fn as_str(self) -> &'static str {
        match self {
            IntentReason::Entry => "entry",
            IntentReason::Exit => "exit",
            IntentReason::StopLoss => "stop_loss",
            IntentReason::SquareOff => "square_off",
            IntentReason::Manual => "manual",
            IntentReason::TrailingStop => "trailing_stop",
            IntentReason::Target => "target",
            IntentReason::TimeStop => "time_stop",
            IntentReason::Emergency => "emergency",
            IntentReason::Reduce => "reduce",
        }
    }
}

/// An order the risk stage approved and sized. The order stage accepts nothing else, so
/// every order the engine sends passed risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct OrderIntent {
    /// Identity, increasing; exec reports name it.
    pub id: IntentId,
    /// Market time of the event that caused it.
    pub exchange_ts: UnixNanos,
    /// Ingress stamp of the tick that caused it.
    pub ingress: Stamp,
    /// Limit price; zero for a market order.
    pub limit: Price,
    /// Units to trade.
    pub qty: Qty,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The strategy the position belongs to.
    pub strategy: StrategyId,
    /// Buy or sell.
    pub side: Side,
    /// Why.
    pub reason: IntentReason,
    /// The price the decision was made at (the signal's reference, the mark for exits):
    /// execution quality (slippage) is measured against it.
    pub reference: Price,
}

const _: () = assert!(std::mem::size_of::<OrderIntent>() <= 56);

impl OrderIntent {
    /// True for a market order.
    pub fn is_market(&self) -> bool {
        !self.limit.is_positive()
    }
}
