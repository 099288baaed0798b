//! The risk stage's side of the broker-side protective stops (`[order] protective_stop`).
//!
//! The risk stage owns positions and their stops, so it decides what each position's
//! protection should be: a stop-market order on the closing side for the open units at
//! the position's stop. It says so to the order stage, which owns the venue order, with
//! a [`ProtectStop`](crate::model::ProtectStop) whenever that changes, and zero units to end it.
//!
//! **Why the protective order holds an in-flight slot.** A protective stop that triggers
//! is an exit the engine did not send at that moment, yet its fills must be booked once,
//! with their charges, as any exit's are. Reserving an exit slot in the
//! [`InFlightTable`](crate::risk::InFlightTable) for each protective order (reason
//! `stop_loss`) gives it an [`IntentId`] the order stage reports under, so its fills take
//! the same path as every other fill: no second booking path, no special report. The slot
//! is held until the order's final report (filled, cancelled, refused or expired), and
//! while it is held, market-time sync runs as for any order out, since the stop may
//! trigger on any trade. It is *not* counted as an order in flight on the position: the
//! engine's own stops, targets and square-off keep working, and the order stage cancels
//! the protective order before any of their exits reaches the venue.
//!
//! **When it changes.** Only while the position has no order of the engine out: an
//! entry's or exit's final answer re-decides it (the order stage cancelled the
//! protective order before the exit went), and so does every move of the stop between
//! them. A change of units or side cancels the order and places a new one once the
//! cancel is answered; a move of the stop is passed on and the order stage decides
//! whether it is worth a modification.

use crate::model::{IntentId, Price, Qty, Side};

/// What one protection asks for: the closing side, the units and the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wanted {
    /// Sell for a long, buy for a short.
    pub side: Option<Side>,
    /// The open units.
    pub qty: Qty,
    /// The position's stop.
    pub trigger: Price,
}

/// The protective order of one instrument as the risk stage last described it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Guard {
    /// Its intent id while it awaits its final report (`None`: no protective order).
    pub intent: Option<IntentId>,
    /// Zero units were sent: the order is being cancelled.
    pub closing: bool,
    /// What was last sent for it.
    pub sent: Wanted,
    /// What the venue refused last: not asked again until the wish changes, so a stop the
    /// market has already passed is not placed again on every event.
    pub refused: Option<Wanted>,
}

/// Per-instrument protective stops, and which instruments need another look.
#[derive(Debug, Clone)]
pub struct Protection {
    enabled: bool,
    guards: Vec<Guard>,
    /// Instruments to look at once the outbox has room, in the order they changed.
    dirty: Vec<u32>,
    marked: Vec<bool>,
}

impl Protection {
    /// Protection for `instruments`, on when `enabled`. Preallocated: marking and
    /// taking never allocate.
    pub fn new(instruments: usize, enabled: bool) -> Protection {
        Protection {
            enabled,
            guards: vec![Guard::default(); if enabled { instruments } else { 0 }],
            dirty: Vec::with_capacity(if enabled { instruments } else { 0 }),
            marked: vec![false; if enabled { instruments } else { 0 }],
        }
    }

    /// True when protective stops are kept.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// True when an instrument waits to be looked at: the one check the risk stage makes
    /// on every input, inline, before it calls out to bring protections up to date.
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.enabled && !self.dirty.is_empty()
    }

    /// The guard of instrument `i`.
    pub fn guard(&self, i: usize) -> Option<&Guard> {
        self.guards.get(i)
    }

    /// The guard of instrument `i`, mutably.
    pub fn guard_mut(&mut self, i: usize) -> Option<&mut Guard> {
        self.guards.get_mut(i)
    }

    /// True when `intent` is instrument `i`'s protective order.
    pub fn is_protective(&self, i: usize, intent: IntentId) -> bool {
        self.guards.get(i).is_some_and(|g| g.intent == Some(intent))
    }

    /// Protective orders out and not being cancelled. Off the hot path: O(instruments).
    pub fn resting(&self) -> usize {
        self.guards
            .iter()
            .filter(|g| g.intent.is_some() && !g.closing)
            .count()
    }

    /// Asks for another look at instrument `i` (its position or stop changed).
    pub fn mark(&mut self, i: usize) {
        if let Some(m) = self.marked.get_mut(i) {
            if !*m {
                *m = true;
                self.dirty.push(i as u32);
            }
        }
    }

    /// The next instrument to look at.
    pub fn take(&mut self) -> Option<usize> {
        if self.dirty.is_empty() {
            return None;
        }
        let i = self.dirty.remove(0) as usize;
        self.marked[i] = false;
        Some(i)
    }

    /// The protective order of instrument `i` got its final report; `refused` when the
    /// venue refused it.
    pub fn ended(&mut self, i: usize, refused: bool) {
        if let Some(g) = self.guards.get_mut(i) {
            g.refused = refused.then_some(g.sent);
            g.intent = None;
            g.closing = false;
            g.sent = Wanted::default();
        }
        self.mark(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_taken_once_in_order() {
        let mut p = Protection::new(3, true);
        p.mark(2);
        p.mark(0);
        p.mark(2);
        assert_eq!(p.take(), Some(2));
        assert_eq!(p.take(), Some(0));
        assert_eq!(p.take(), None);
        let mut off = Protection::new(3, false);
        off.mark(1);
        assert_eq!(off.take(), None);
    }

    #[test]
    fn a_refusal_is_remembered_until_the_next_order() {
        let mut p = Protection::new(1, true);
        let g = p.guard_mut(0).unwrap();
        g.intent = Some(IntentId::new(1, 0));
        g.sent = Wanted {
            side: Some(Side::Sell),
            qty: Qty::new(10),
            trigger: Price::from_paise(9_900),
        };
        assert!(p.is_protective(0, IntentId::new(1, 0)));
        p.ended(0, true);
        let g = p.guard(0).unwrap();
        assert!(g.intent.is_none());
        assert_eq!(g.refused.map(|w| w.qty), Some(Qty::new(10)));
        assert_eq!(p.take(), Some(0));
    }
}
