//! An order the risk stage approved: the only kind of order the order stage accepts.

use crate::model::OrderIntent;

/// An [`OrderIntent`] that passed the risk stage's checks (or is one of its own exits).
///
/// Only code in `crate::risk` can make one (its constructor is private to the module),
/// and the ring to the order stage carries nothing else
/// ([`OrderInput::Intent`](crate::model::OrderInput::Intent)), so no other code path can
/// put an unchecked order on the order ring. In the spirit of barter-rs's
/// `RiskApproved<T>`; `Copy` and the size of the intent, so the ring message stays one
/// cache line.
///
/// NB: the ring message in `model` names this `risk` type, one upward reference in the
/// otherwise downward layering: Rust confines a constructor to a module subtree only,
/// so the type that only risk may build has to live in risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct RiskApproved(OrderIntent);

impl RiskApproved {
    /// Approves `intent`: the risk stage's alone.
    pub(super) const fn new(intent: OrderIntent) -> RiskApproved {
        RiskApproved(intent)
    }

    /// The approved order.
    pub const fn intent(&self) -> &OrderIntent {
        &self.0
    }

    /// An approval made by a test of another stage (never compiled into the engine).
    #[cfg(test)]
    pub(crate) const fn for_tests(intent: OrderIntent) -> RiskApproved {
        RiskApproved(intent)
    }
}

const _: () = assert!(std::mem::size_of::<RiskApproved>() == std::mem::size_of::<OrderIntent>());
