//! The order state machine.

use std::fmt;

use crate::model::ExecKind;
pub use crate::model::OrderState;

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderEvent {
    /// The order stage hands it to the gateway.
    Send,
    /// The venue accepted it.
    Accept,
    /// Part of it filled, and some is still open.
    PartialFill,
    /// The last units filled.
    Fill,
    /// It was refused.
    Reject,
    /// It was cancelled.
    Cancel,
    /// The venue ended it at its validity's end.
    Expire,
}

impl From<ExecKind> for OrderEvent {
    fn from(kind: ExecKind) -> OrderEvent {
        match kind {
            ExecKind::Accepted => OrderEvent::Accept,
            ExecKind::PartialFill => OrderEvent::PartialFill,
            ExecKind::Filled => OrderEvent::Fill,
            ExecKind::Rejected => OrderEvent::Reject,
            ExecKind::Cancelled => OrderEvent::Cancel,
            ExecKind::Expired => OrderEvent::Expire,
        }
    }
}

/// An event that is not allowed in the order's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    /// The state the order was in.
    pub from: OrderState,
    /// The event that does not apply there.
    pub event: OrderEvent,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not allowed in state {:?}",
            self.event, self.from
        )
    }
}

impl std::error::Error for InvalidTransition {}

impl OrderState {
    /// The state after `event`.
    ///
    /// # Errors
    /// [`InvalidTransition`] when `event` cannot happen in this state.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::order::{OrderEvent, OrderState};
    /// let s = OrderState::New.on(OrderEvent::Send).unwrap();
    /// assert_eq!(s.on(OrderEvent::Fill), Ok(OrderState::Filled));
    /// assert!(OrderState::Filled.on(OrderEvent::Fill).is_err());
    /// ```
    pub fn on(self, event: OrderEvent) -> Result<OrderState, InvalidTransition> {
        use OrderEvent as E;
        use OrderState as S;
        let next = match (self, event) {
            (S::New, E::Send) => S::Sent,
            (S::New | S::Sent, E::Reject) => S::Rejected,
            (S::Sent, E::Accept) => S::Accepted,
            (S::Sent | S::Accepted | S::PartiallyFilled, E::PartialFill) => S::PartiallyFilled,
            (S::Sent | S::Accepted | S::PartiallyFilled, E::Fill) => S::Filled,
            (S::Sent | S::Accepted | S::PartiallyFilled, E::Cancel) => S::Cancelled,
            (S::Sent | S::Accepted | S::PartiallyFilled, E::Expire) => S::Expired,
            (from, event) => return Err(InvalidTransition { from, event }),
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [OrderState; 8] = [
        OrderState::New,
        OrderState::Sent,
        OrderState::Accepted,
        OrderState::PartiallyFilled,
        OrderState::Filled,
        OrderState::Rejected,
        OrderState::Cancelled,
        OrderState::Expired,
    ];
    const EVENTS: [OrderEvent; 7] = [
        OrderEvent::Send,
        OrderEvent::Accept,
        OrderEvent::PartialFill,
        OrderEvent::Fill,
        OrderEvent::Reject,
        OrderEvent::Cancel,
        OrderEvent::Expire,
    ];

    /// The whole table: row = state, column = event (in `EVENTS` order), `-` = invalid.
    #[test]
    fn transition_table() {
        use OrderState::*;
        let table: [(OrderState, [Option<OrderState>; 7]); 8] = [
            // Send, Accept, PartialFill, Fill, Reject, Cancel, Expire
            (
                New,
                [Some(Sent), None, None, None, Some(Rejected), None, None],
            ),
            (
                Sent,
                [
                    None,
                    Some(Accepted),
                    Some(PartiallyFilled),
                    Some(Filled),
                    Some(Rejected),
                    Some(Cancelled),
                    Some(Expired),
                ],
            ),
            (
                Accepted,
                [
                    None,
                    None,
                    Some(PartiallyFilled),
                    Some(Filled),
                    None,
                    Some(Cancelled),
                    Some(Expired),
                ],
            ),
            (
                PartiallyFilled,
                [
                    None,
                    None,
                    Some(PartiallyFilled),
                    Some(Filled),
                    None,
                    Some(Cancelled),
                    Some(Expired),
                ],
            ),
            (Filled, [None; 7]),
            (Rejected, [None; 7]),
            (Cancelled, [None; 7]),
            (Expired, [None; 7]),
        ];
        assert_eq!(table.map(|(s, _)| s), STATES);
        for (state, row) in table {
            for (event, expected) in EVENTS.into_iter().zip(row) {
                let got = state.on(event);
                match expected {
                    Some(next) => assert_eq!(got, Ok(next), "{state:?} + {event:?}"),
                    None => assert_eq!(
                        got,
                        Err(InvalidTransition { from: state, event }),
                        "{state:?} + {event:?}"
                    ),
                }
            }
            assert_eq!(
                state.is_terminal(),
                row.iter().all(Option::is_none),
                "{state:?}"
            );
        }
    }

    #[test]
    fn exec_kinds_map_to_events() {
        assert_eq!(OrderEvent::from(ExecKind::Filled), OrderEvent::Fill);
        assert_eq!(OrderEvent::from(ExecKind::Cancelled), OrderEvent::Cancel);
        let e = OrderState::Filled.on(OrderEvent::Fill).unwrap_err();
        assert_eq!(e.to_string(), "Fill is not allowed in state Filled");
    }
}
