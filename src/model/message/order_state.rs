/// Where an order is in its life: the order stage's state machine (`order::state`) moves
/// it; the control plane reports it.
///
/// | from \ event | send | accept | partial fill | fill | reject | cancel | expire |
/// | --- | --- | --- | --- | --- | --- | --- | --- |
/// | New | Sent | | | | Rejected | | |
/// | Sent | | Accepted | PartiallyFilled | Filled | Rejected | Cancelled | Expired |
/// | Accepted | | | PartiallyFilled | Filled | | Cancelled | Expired |
/// | PartiallyFilled | | | PartiallyFilled | Filled | | Cancelled | Expired |
///
/// A fill may come before the acknowledgement (a broker's order update and its trade
/// travel separately), so `Sent` takes fills directly. `Filled`, `Rejected`, `Cancelled`
/// and `Expired` are terminal. Every other move is an
/// `InvalidTransition` (in the order stage), so a duplicated or out-of-order report cannot double-book a
/// fill or revive a finished order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderState {
    /// Created from an intent, not yet handed to the gateway.
    New,
    /// Handed to the gateway; no answer yet.
    Sent,
    /// The venue accepted it; it is working.
    Accepted,
    /// Part of it filled; more may follow.
    PartiallyFilled,
    /// Completely filled (terminal).
    Filled,
    /// Refused (terminal).
    Rejected,
    /// Cancelled with units unfilled (terminal).
    Cancelled,
    /// Ended by the venue at its validity's end with units unfilled (terminal).
    Expired,
}

impl OrderState {
    /// True once no further event may come.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Rejected | OrderState::Cancelled | OrderState::Expired
        )
    }

    /// The lowercase name reports and the control socket use.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderState::New => "new",
            OrderState::Sent => "sent",
            OrderState::Accepted => "accepted",
            OrderState::PartiallyFilled => "partially_filled",
            OrderState::Filled => "filled",
            OrderState::Rejected => "rejected",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
        }
    }
}
