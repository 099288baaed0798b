//! Answers waiting for their due market time: a binary heap preallocated once.

use std::{cmp::Ordering, collections::BinaryHeap};

use crate::{
    model::{ClientOrderId, UnixNanos},
    order::venue::Amend,
};

/// What the paper exchange does when an entry falls due. Each names its order by slot
/// and id, so an entry for an order that ended (and whose slot was reused) finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// The order reaches the venue: checked, then acked or refused.
    Arrive(u32, ClientOrderId),
    /// The order can trade from now on.
    Match(u32, ClientOrderId),
    /// A modification reaches the venue.
    Amend(u32, ClientOrderId, Amend),
    /// A cancel request reaches the venue.
    Cancel(u32, ClientOrderId),
    /// An order the venue never answered (a timeout fault): it expires when the session
    /// ends.
    Lost(u32, ClientOrderId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    due: UnixNanos,
    seq: u64,
    action: Action,
}

impl Ord for Entry {
    /// Reversed, so the max-heap pops the earliest due time first, and among equal due
    /// times the one pushed first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The due market time that means "when the session ends".
pub(super) const AT_SESSION_END: UnixNanos = UnixNanos(u64::MAX);

/// Actions waiting for their due time, released in due-time order, ties in the order they
/// were pushed. Holds at most the capacity it was built with and never grows, so pushing
/// never allocates.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    heap: BinaryHeap<Entry>,
    capacity: usize,
    seq: u64,
}

impl Pending {
    pub(super) fn new(capacity: usize) -> Pending {
        Pending {
            heap: BinaryHeap::with_capacity(capacity),
            capacity,
            seq: 0,
        }
    }

    /// Queues `action` for `due`.
    ///
    /// # Errors
    /// The action back when the queue is full.
    pub(super) fn push(&mut self, due: UnixNanos, action: Action) -> Result<(), Action> {
        if self.heap.len() >= self.capacity {
            return Err(action);
        }
        self.seq += 1;
        self.heap.push(Entry {
            due,
            seq: self.seq,
            action,
        });
        Ok(())
    }

    /// The earliest action due at or before `now`.
    pub(super) fn pop_due(&mut self, now: UnixNanos) -> Option<(UnixNanos, Action)> {
        if self.heap.peek()?.due > now {
            return None;
        }
        self.heap.pop().map(|e| (e.due, e.action))
    }

    /// The earliest action, whenever it is due.
    pub(super) fn pop(&mut self) -> Option<(UnixNanos, Action)> {
        self.heap.pop().map(|e| (e.due, e.action))
    }

    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_due_order_ties_in_push_order_and_refuses_when_full() {
        let mut p = Pending::new(4);
        let a = |n| Action::Arrive(n, ClientOrderId(u64::from(n)));
        p.push(UnixNanos(30), a(1)).unwrap();
        p.push(UnixNanos(10), a(2)).unwrap();
        p.push(UnixNanos(30), a(3)).unwrap();
        p.push(UnixNanos(20), a(4)).unwrap();
        assert_eq!(p.push(UnixNanos(1), a(5)), Err(a(5)), "full");
        assert_eq!(p.pop_due(UnixNanos(5)), None);
        assert_eq!(p.pop_due(UnixNanos(25)), Some((UnixNanos(10), a(2))));
        assert_eq!(p.pop_due(UnixNanos(25)), Some((UnixNanos(20), a(4))));
        assert_eq!(p.pop_due(UnixNanos(25)), None);
        assert_eq!(p.pop(), Some((UnixNanos(30), a(1))), "tie: first pushed");
        assert_eq!(p.pop(), Some((UnixNanos(30), a(3))));
        assert_eq!((p.pop(), p.len()), (None, 0));
    }
}
