use crate::model::{InstrumentId, IntentId, IntentReason, Price, Qty, Side, StrategyId, UnixNanos};

/// One fill as the risk stage booked it: kept in its day log and streamed to
/// `subscribe fills` clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillRecord {
    /// The intent it answers.
    pub intent: IntentId,
    /// Market time of the fill.
    pub exchange_ts: UnixNanos,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The strategy the position belongs to.
    pub strategy: StrategyId,
    /// Buy or sell.
    pub side: Side,
    /// Units filled.
    pub qty: Qty,
    /// Fill price.
    pub price: Price,
    /// Why the order was sent.
    pub reason: IntentReason,
}

const _: () = assert!(std::mem::size_of::<FillRecord>() <= 48);
