//! A request to the venue waiting for the rate limit.

use crate::model::IntentId;

/// What to ask the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Place the slice's current child order.
    Place,
    /// Move the child's limit to the touch.
    Reprice,
    /// Cancel the child (and, when the slice says so, place the rest again).
    Cancel,
    /// Move a protective stop's trigger to the slice's trigger (a modification, or a
    /// cancel and re-place once the modification budget is spent).
    Retrigger,
}

/// One waiting request about one child order: which intent, which slice, which child
/// (so a request about a child that has since been replaced is dropped, not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// The intent.
    pub intent: IntentId,
    /// Index of the slice in the order.
    pub slice: u8,
    /// The child number the request is about.
    pub child: u8,
    /// What to ask.
    pub request: Request,
}

impl Action {
    /// A request about child `child` of slice `slice` of `intent`.
    pub fn about(intent: IntentId, slice: usize, child: u8, request: Request) -> Action {
        Action {
            intent,
            slice: slice as u8,
            child,
            request,
        }
    }
}
