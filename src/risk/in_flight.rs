//! Intents sent to the order stage that await their final exec report.

use crate::{
    charges::OrderCharges,
    model::{InstrumentId, IntentId, IntentReason, Money, Price, Qty, Side, StrategyId},
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

/// A fixed-capacity table of in-flight intents keyed by [`IntentId`].
///
/// Intent ids are consecutive, so `id % capacity` is a slot no other live intent uses
/// unless `capacity` intents are outstanding; then [`InFlightTable::insert`] refuses.
/// No allocation after construction.
#[derive(Debug, Clone)]
pub struct InFlightTable {
    slots: Vec<Option<InFlight>>,
    len: usize,
}

impl InFlightTable {
    /// Room for `capacity` intents (at least one).
    pub fn new(capacity: usize) -> InFlightTable {
        InFlightTable {
            slots: vec![None; capacity.max(1)],
            len: 0,
        }
    }

    fn slot(&self, id: IntentId) -> usize {
        (id.0 % self.slots.len() as u64) as usize
    }

    /// Adds an intent.
    ///
    /// # Errors
    /// The entry back when its slot holds another live intent.
    pub fn insert(&mut self, entry: InFlight) -> Result<(), InFlight> {
        let slot = self.slot(entry.id);
        if self.slots[slot].is_some() {
            return Err(entry);
        }
        self.slots[slot] = Some(entry);
        self.len += 1;
        Ok(())
    }

    /// The live intent `id`.
    pub fn get_mut(&mut self, id: IntentId) -> Option<&mut InFlight> {
        let slot = self.slot(id);
        self.slots[slot].as_mut().filter(|e| e.id == id)
    }

    /// Removes and returns the live intent `id`.
    pub fn remove(&mut self, id: IntentId) -> Option<InFlight> {
        let slot = self.slot(id);
        if self.slots[slot].is_some_and(|e| e.id == id) {
            self.len -= 1;
            return self.slots[slot].take();
        }
        None
    }

    /// Intents in flight.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64) -> InFlight {
        InFlight {
            id: IntentId(id),
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
    fn slots_by_id() {
        let mut t = InFlightTable::new(4);
        for id in 1..=4 {
            t.insert(entry(id)).unwrap();
        }
        assert_eq!(t.len(), 4);
        assert!(t.insert(entry(5)).is_err(), "slot of #1 is taken");
        assert!(t.get_mut(IntentId(5)).is_none());
        assert!(t.remove(IntentId(5)).is_none());
        assert_eq!(t.remove(IntentId(1)).map(|e| e.id), Some(IntentId(1)));
        t.insert(entry(5)).unwrap();
        t.get_mut(IntentId(5)).unwrap().filled = Qty::new(1);
        assert_eq!(t.remove(IntentId(5)).unwrap().filled, Qty::new(1));
        for id in 2..=4 {
            t.remove(IntentId(id)).unwrap();
        }
        assert!(t.is_empty());
    }
}
