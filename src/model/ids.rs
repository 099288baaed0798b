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

/// Identity of an order intent, assigned by the risk stage; exec reports name the intent
/// they answer.
///
/// The id is the key of the intent's record in the risk stage's in-flight table:
/// `sequence << SLOT_BITS | slot`. The sequence counts the day's intents from 1, so ids
/// increase and never repeat; the slot lets the stages that keep a record per intent find
/// it in O(1) (see [`crate::runtime::Slab`]). It prints as `#sequence`.
///
/// # Examples
/// ```
/// use tickpipe::model::IntentId;
/// let id = IntentId::new(12, 3);
/// assert_eq!((id.sequence(), id.slot()), (12, 3));
/// assert_eq!(id.to_string(), "#12");
/// assert!(IntentId::new(13, 0) > id);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct IntentId(pub u64);

impl IntentId {
    /// Bits of the id that hold the slot (the same split as the slab keys the risk
    /// stage issues ids from).
    pub const SLOT_BITS: u32 = 20;

    /// The id of the `sequence`-th intent of the day, kept in `slot`.
    pub const fn new(sequence: u64, slot: u32) -> IntentId {
        IntentId(sequence << Self::SLOT_BITS | (slot as u64 & ((1 << Self::SLOT_BITS) - 1)))
    }

    /// The intent's number in the day (from 1).
    pub const fn sequence(self) -> u64 {
        self.0 >> Self::SLOT_BITS
    }

    /// The slot of the intent's record.
    pub const fn slot(self) -> u32 {
        (self.0 & ((1 << Self::SLOT_BITS) - 1)) as u32
    }
}

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.sequence())
    }
}

/// The order stage's own id of one order at the venue (a broker's "tag" or client order
/// id). An intent may become several venue orders (children): freeze-quantity slices,
/// retries after a refusal, re-placed orders after a cancel.
///
/// It is `intent << CHILD_BITS | child`: a pure function of the [`IntentId`] and the
/// child number, so a restarted engine that replays its day names every order exactly as
/// before and never sends one twice under two names, and unique for the day because
/// intent ids are. The intent id inside carries its slot, so the order stage finds the
/// order an answer is about in O(1).
///
/// # Examples
/// ```
/// use tickpipe::model::{ClientOrderId, IntentId};
/// let id = ClientOrderId::new(IntentId::new(12, 3), 5);
/// assert_eq!((id.intent(), id.child()), (IntentId::new(12, 3), 5));
/// assert_eq!(id.to_string(), "c12.5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct ClientOrderId(pub u64);

impl ClientOrderId {
    /// Bits of the id that hold the child number: at most 256 venue orders per intent.
    pub const CHILD_BITS: u32 = 8;

    /// The id of child `child` of `intent`. An intent's sequence keeps its low
    /// `64 - SLOT_BITS - CHILD_BITS` = 36 bits (68 billion intents a day).
    pub const fn new(intent: IntentId, child: u8) -> ClientOrderId {
        ClientOrderId(intent.0 << Self::CHILD_BITS | child as u64)
    }

    /// The intent it carries out.
    pub const fn intent(self) -> IntentId {
        IntentId(self.0 >> Self::CHILD_BITS)
    }

    /// Which of the intent's venue orders it is.
    pub const fn child(self) -> u8 {
        (self.0 & ((1 << Self::CHILD_BITS) - 1)) as u8
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}.{}", self.intent().sequence(), self.child())
    }
}

/// The venue's id of one trade (one fill). Zero means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct TradeId(pub u64);
