use std::fmt;

/// Index of a strategy in the signal stage's strategy list (dense, so per-strategy state is
/// a `Vec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct StrategyId(pub u16);

impl StrategyId {
    /// The id as an index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identity of an order intent, assigned by the risk stage in increasing order; exec
/// reports name the intent they answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct IntentId(pub u64);

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The order stage's own id of one order at the venue (a broker's "tag" or client order
/// id). An intent may become several venue orders: freeze-quantity slices, and re-placed
/// orders after a cancel. Deterministic from the intent id, so a restarted engine that
/// replays its day sends no order under a new name twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct ClientOrderId(pub u64);

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// The venue's id of one trade (one fill). Zero means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct TradeId(pub u64);
