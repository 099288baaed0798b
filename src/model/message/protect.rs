use crate::model::{
    InstrumentId, IntentId, IntentReason, OrderIntent, Price, Qty, Side, Stamp, StrategyId,
    UnixNanos,
};

/// The risk stage's word about one position's broker-side protective stop
/// (`[order] protective_stop`): the order stage keeps one stop-market (SL-M) order at the
/// venue on the closing side for `qty` units, triggered at `trigger`, so a position stays
/// protected even when the engine is gone.
///
/// The risk stage owns positions and their stops, so it says what the protection should
/// be; the order stage owns the venue order, so it decides how to get there (place,
/// modify within the modification budget, cancel and re-place, cancel).
///
/// - `intent` is an exit slot the risk stage reserved in its in-flight table for this
///   protective order: the order stage reports the order's fills under it, so risk books
///   a triggered stop as any other exit of reason `stop_loss`, exactly once. One id
///   serves one protective order from placement to its final report (re-placements after
///   the modification budget are children of it).
/// - `qty` zero ends the protection: the position went flat, or the engine is about to
///   send its own exit. `booked` then says how many units of this protective order risk
///   has booked so far; units it filled beyond that reached risk too late to shape the
///   exit that follows, so the order stage takes them off that exit (never a double exit,
///   never a reversal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct ProtectStop {
    /// The protective order's intent id (risk's exit slot).
    pub intent: IntentId,
    /// Market time of the change.
    pub exchange_ts: UnixNanos,
    /// The engine's stop for the position (the order stage puts it on the tick grid).
    pub trigger: Price,
    /// Units to protect: the open position; zero to cancel.
    pub qty: Qty,
    /// Units of this protective order risk has booked so far.
    pub booked: Qty,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The position's owner, for the reports.
    pub strategy: StrategyId,
    /// The closing side: sell for a long, buy for a short.
    pub side: Side,
    /// With zero units: the risk stage's own exit of the instrument comes next, so units
    /// the protective order filled beyond `booked` come off it.
    pub exit_follows: bool,
}

const _: () = assert!(std::mem::size_of::<ProtectStop>() <= 48);

impl ProtectStop {
    /// The protective order as the order stage's book holds it: a stop-loss exit of
    /// `qty` units under risk's reserved id, referenced at `reference` (the trigger the
    /// venue order carries).
    pub fn intent(&self, reference: Price) -> OrderIntent {
        OrderIntent {
            id: self.intent,
            exchange_ts: self.exchange_ts,
            ingress: Stamp(0),
            limit: Price::ZERO,
            qty: self.qty,
            instrument: self.instrument,
            strategy: self.strategy,
            side: self.side,
            reason: IntentReason::StopLoss,
            reference,
        }
    }
}
