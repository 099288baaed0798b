//! Intents sent to the order stage that await their final exec report.

use crate::{
    charges::OrderCharges,
    model::{InstrumentId, IntentId, IntentReason, Money, Price, Qty, Side, StrategyId},
    runtime::{Key, Slab, SLOT_BITS},
};

/// What the risk stage remembers about an intent until its final report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    /// The intent.
    pub id: IntentId,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The strategy the position belongs to.
    pub strategy: StrategyId,
    /// Buy or sell.
    pub side: Side,
    /// Why it was sent.
    pub reason: IntentReason,
    /// Units ordered.
    pub qty: Qty,
    /// Units filled so far.
    pub filled: Qty,
    /// Reference price the entry was sized and reserved at.
    pub reference: Price,
    /// Protective stop of an entry (zero for exits).
    pub stop: Price,
    /// Profit target of an entry from its signal (zero: none, and for exits).
    pub target: Price,
    /// Exposure still reserved for the unfilled units of an entry.
    pub reserved: Money,
    /// What the order's fills have paid so far (brokerage is per order).
    pub charges: OrderCharges,
}

/// Why [`InFlightTable::insert`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlightFull {
    /// True for the first refusal since the table last had room: the one to alert on.
    pub first: bool,
}

// The ids the table issues are its slab keys.
const _: () = assert!(IntentId::SLOT_BITS == SLOT_BITS);

/// The intents in flight, in a [`Slab`] whose keys are the [`IntentId`]s.
///
/// - The id an intent gets *is* its record's key (`sequence << SLOT_BITS | slot`), so
///   a report finds its intent in O(1), ids increase, and a report about a finished
///   intent never reaches the record that reuses its slot.
/// - One intent that is never answered costs one slot and nothing more: new intents take
///   whichever slot is free.
/// - `max_in_flight` slots are for entries; `exit_reserve` more are kept for exits, which
///   [`InFlightTable::insert`] refuses only when every slot is taken. The risk stage sends
///   at most one order per instrument at a time, so a reserve of one slot per instrument
///   means an exit is never refused for lack of a slot.
///
/// No allocation after construction.
#[derive(Debug, Clone)]
pub struct InFlightTable {
    slab: Slab<InFlight>,
    reserve: usize,
    full: bool,
}

impl InFlightTable {
    /// Room for `max_in_flight` entries (at least one) and `exit_reserve` more exits.
    pub fn new(max_in_flight: usize, exit_reserve: usize) -> InFlightTable {
        InFlightTable {
            slab: Slab::with_capacity(max_in_flight.max(1) + exit_reserve),
            reserve: exit_reserve,
            full: false,
        }
    }

    /// Slots in all (entries and the exit reserve).
    pub fn capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// The id the next intent will get, if it is admitted.
    pub fn next_id(&self) -> IntentId {
        self.slab
            .next_key()
            .map_or(IntentId(0), |k| IntentId(k.to_u64()))
    }

    /// Adds an intent under a new id, written into `entry.id` and returned. An entry
    /// (`exit == false`) may not use the exit reserve.
    ///
    /// # Errors
    /// `InFlightFull` when no slot is left for it.
    pub fn insert(&mut self, mut entry: InFlight, exit: bool) -> Result<IntentId, InFlightFull> {
        let reserve = if exit { 0 } else { self.reserve };
        let Some(key) = self
            .slab
            .next_key()
            .filter(|_| self.slab.free_slots() > reserve)
        else {
            let first = !self.full;
            self.full = true;
            return Err(InFlightFull { first });
        };
        entry.id = IntentId(key.to_u64());
        let inserted = self.slab.insert_keeping(entry, reserve);
        debug_assert_eq!(inserted.ok(), Some(key));
        self.full = false;
        Ok(entry.id)
    }

    /// The live intent `id`.
    pub fn get_mut(&mut self, id: IntentId) -> Option<&mut InFlight> {
        self.slab.get_mut(Key::from_u64(id.0))
    }

    /// Removes and returns the live intent `id`.
    pub fn remove(&mut self, id: IntentId) -> Option<InFlight> {
        self.slab.remove(Key::from_u64(id.0))
    }

    /// Intents in flight.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> InFlight {
        InFlight {
            id: IntentId(0),
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            side: Side::Buy,
            reason: IntentReason::Entry,
            qty: Qty::new(1),
            filled: Qty::ZERO,
            reference: Price::ZERO,
            stop: Price::ZERO,
            target: Price::ZERO,
            reserved: Money::ZERO,
            charges: OrderCharges::default(),
        }
    }

    #[test]
    fn ids_are_keys_and_finished_ids_go_stale() {
        let mut t = InFlightTable::new(4, 0);
        let ids: Vec<IntentId> = (0..4).map(|_| t.insert(entry(), false).unwrap()).collect();
        assert_eq!(ids[0], IntentId::new(1, 0));
        assert_eq!(ids[3], IntentId::new(4, 3));
        assert_eq!(t.insert(entry(), false), Err(InFlightFull { first: true }));
        assert_eq!(t.insert(entry(), true), Err(InFlightFull { first: false }));
        assert_eq!(t.remove(ids[1]).map(|e| e.id), Some(ids[1]));
        assert!(t.remove(ids[1]).is_none());
        assert_eq!(t.next_id(), IntentId::new(5, 1));
        let id = t.insert(entry(), false).unwrap();
        assert_eq!(id, IntentId::new(5, 1));
        assert!(
            t.get_mut(ids[1]).is_none(),
            "the old id does not see the new intent"
        );
        t.get_mut(id).unwrap().filled = Qty::new(1);
        assert_eq!(t.remove(id).unwrap().filled, Qty::new(1));
    }

    /// An intent left unanswered forever, and thousands of later intents still go.
    #[test]
    fn the_table_never_jams() {
        let mut t = InFlightTable::new(4, 2);
        let stuck = t.insert(entry(), false).unwrap();
        for _ in 0..10_000 {
            let id = t.insert(entry(), false).unwrap();
            assert!(id > stuck);
            t.remove(id).unwrap();
        }
        assert_eq!(t.get_mut(stuck).map(|e| e.id), Some(stuck));
        // Entries fill their share; exits still find the reserve.
        for _ in 0..3 {
            t.insert(entry(), false).unwrap();
        }
        assert!(
            t.insert(entry(), false).is_err(),
            "entries stop at the reserve"
        );
        t.insert(entry(), true).unwrap();
        t.insert(entry(), true).unwrap();
        assert!(t.insert(entry(), true).is_err(), "every slot taken");
        assert_eq!(t.len(), 6);
    }
}
