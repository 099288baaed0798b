//! What a broker's reconciliation tells the risk stage.

use crate::model::{InstrumentId, Price};

/// One position as the broker reports it (Kite's positions: quantity and average price
/// per instrument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct BrokerPosition {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Signed units: positive long, negative short.
    pub net: i64,
    /// Average price of the open units.
    pub avg_price: Price,
}

const _: () = assert!(std::mem::size_of::<BrokerPosition>() <= 32);

/// A confirmed difference a broker gateway's reconciliation found, on its way to the
/// risk stage through the order stage ([`OrderOutput::Broker`](super::OrderOutput)).
///
/// The gateway compares the broker with the fills it reported; the risk stage holds the
/// book and the trading state, so it is the one that acts: it compares the broker's
/// position with the book and applies `risk.reconcile` to it, and it halts new entries
/// when the gateway's policy says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerNotice {
    /// The broker's position of an instrument differs from the fills reported: the
    /// broker's quantity and average price.
    Position(BrokerPosition),
    /// A confirmed difference under a halting policy (`[order.kite] reconcile =
    /// "halt"`): new entries halt, as with the operator's `halt`.
    Halt,
}
