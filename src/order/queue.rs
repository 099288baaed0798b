//! Order requests waiting for the rate limit: exits first, and no exit is ever dropped.

use std::collections::VecDeque;

use crate::order::action::Action;

/// Two FIFO queues of `Action`s: exits (and every request about an exit) go before any
/// entry.
///
/// The exit queue is sized for one request per child order the book can hold, and every
/// child has at most one request waiting, so it never fills: an exit waits for the rate
/// limit, never refused. The entry queue holds `entry_capacity` requests; beyond that an
/// entry is refused (`throttled`). Both are allocated in [`SendQueue::new`] and never grow.
#[derive(Debug)]
pub struct SendQueue {
    exits: VecDeque<Action>,
    entries: VecDeque<Action>,
    entry_capacity: usize,
}

impl SendQueue {
    /// Queues for `exit_capacity` exit requests and `entry_capacity` entry requests.
    pub fn new(exit_capacity: usize, entry_capacity: usize) -> SendQueue {
        SendQueue {
            exits: VecDeque::with_capacity(exit_capacity),
            entries: VecDeque::with_capacity(entry_capacity),
            entry_capacity,
        }
    }

    /// Room for `n` more entry requests.
    pub fn entry_room(&self, n: usize) -> bool {
        self.entries.len() + n <= self.entry_capacity
    }

    /// Queues a request; `exit` requests go to the exit queue.
    ///
    /// # Errors
    /// The request back when it is an entry's and the entry queue is full.
    pub fn push(&mut self, action: Action, exit: bool) -> Result<(), Action> {
        if exit {
            debug_assert!(self.exits.len() < self.exits.capacity());
            // Never dropped: sized so it cannot fill (see the type's docs).
            self.exits.push_back(action);
            return Ok(());
        }
        if self.entries.len() >= self.entry_capacity {
            return Err(action);
        }
        self.entries.push_back(action);
        Ok(())
    }

    /// The next request: the oldest exit's, else the oldest entry's.
    pub fn peek(&self) -> Option<&Action> {
        self.exits.front().or_else(|| self.entries.front())
    }

    /// Takes the request [`SendQueue::peek`] showed.
    pub fn pop(&mut self) -> Option<Action> {
        self.exits.pop_front().or_else(|| self.entries.pop_front())
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.exits.len() + self.entries.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.exits.is_empty() && self.entries.is_empty()
    }

    /// Drops every waiting request (the session ended).
    pub fn clear(&mut self) {
        self.exits.clear();
        self.entries.clear();
    }
}
