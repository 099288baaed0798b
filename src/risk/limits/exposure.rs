//! Committed exposure split the ways the limits cap it: per instrument, per sector, and
//! options in total.

use crate::{
    model::{InstrumentId, Money},
    risk::limits::InstrumentSpec,
};

/// Committed exposure (open position at its mark plus entries in flight at the price
/// they were approved at) per instrument, summed per sector and over options.
///
/// The risk stage reports every change of one instrument's position exposure or
/// reservation; each report moves the sums by the difference, so a check reads a sum
/// in O(1) and a tick costs a subtraction and two additions. Sized at construction.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::{ExposureBuckets, InstrumentSpec}};
/// let option = InstrumentSpec { kind: InstrumentKind::Option, sector: SectorId(1),
///     ..InstrumentSpec::equity() };
/// let mut e = ExposureBuckets::new(&[InstrumentSpec::equity(), option], 2);
/// e.set_position(InstrumentId(0), Money::from_rupees(1_000));
/// e.reserve(InstrumentId(1), Money::from_rupees(300));
/// assert_eq!(e.sector(SectorId(0)), Money::from_rupees(1_000));
/// assert_eq!(e.options(), Money::from_rupees(300));
/// e.release(InstrumentId(1), Money::from_rupees(300));
/// assert_eq!(e.options(), Money::ZERO);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ExposureBuckets {
    specs: Vec<InstrumentSpec>,
    position: Vec<Money>,
    reserved: Vec<Money>,
    sectors: Vec<Money>,
    options: Money,
}

impl ExposureBuckets {
    /// Nothing committed, for instruments described by `specs` in `sectors` sectors.
    pub fn new(specs: &[InstrumentSpec], sectors: usize) -> ExposureBuckets {
        let sectors = specs
            .iter()
            .map(|s| usize::from(s.sector.0) + 1)
            .max()
            .unwrap_or(0)
            .max(sectors);
        ExposureBuckets {
            specs: specs.to_vec(),
            position: vec![Money::ZERO; specs.len()],
            reserved: vec![Money::ZERO; specs.len()],
            sectors: vec![Money::ZERO; sectors],
            options: Money::ZERO,
        }
    }

    /// The position in `id` is now worth `exposure` at its mark.
    pub fn set_position(&mut self, id: InstrumentId, exposure: Money) {
        if let Some(slot) = self.position.get_mut(id.index()) {
            let change = exposure.saturating_add(slot.neg());
            *slot = exposure;
            self.shift(id, change);
        }
    }

    /// An entry in `id` was approved for `amount`.
    pub fn reserve(&mut self, id: InstrumentId, amount: Money) {
        if let Some(slot) = self.reserved.get_mut(id.index()) {
            *slot = slot.saturating_add(amount);
            self.shift(id, amount);
        }
    }

    /// `amount` of an entry's reservation in `id` is released (filled or finished);
    /// never below zero.
    pub fn release(&mut self, id: InstrumentId, amount: Money) {
        if let Some(slot) = self.reserved.get_mut(id.index()) {
            let amount = amount.min(*slot).max(Money::ZERO);
            *slot = slot.saturating_add(amount.neg());
            self.shift(id, amount.neg());
        }
    }

    fn shift(&mut self, id: InstrumentId, change: Money) {
        let spec = self.specs[id.index()];
        if let Some(sector) = self.sectors.get_mut(usize::from(spec.sector.0)) {
            *sector = sector.saturating_add(change);
        }
        if spec.is_option() {
            self.options = self.options.saturating_add(change);
        }
    }

    /// Committed exposure in one instrument.
    pub fn instrument(&self, id: InstrumentId) -> Money {
        let at = |v: &Vec<Money>| v.get(id.index()).copied().unwrap_or(Money::ZERO);
        at(&self.position).saturating_add(at(&self.reserved))
    }

    /// Committed exposure in one sector.
    pub fn sector(&self, sector: crate::model::SectorId) -> Money {
        self.sectors
            .get(usize::from(sector.0))
            .copied()
            .unwrap_or(Money::ZERO)
    }

    /// Committed exposure in options, all underlyings together.
    pub fn options(&self) -> Money {
        self.options
    }

    /// Number of instruments tracked.
    pub fn instruments(&self) -> usize {
        self.position.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentKind, SectorId};

    #[test]
    fn sums_follow_every_change_and_match_a_recount() {
        let bank = |s| InstrumentSpec {
            sector: SectorId(s),
            ..InstrumentSpec::equity()
        };
        let option = InstrumentSpec {
            kind: InstrumentKind::Option,
            sector: SectorId(2),
            ..InstrumentSpec::equity()
        };
        let specs = [bank(0), bank(0), bank(1), option];
        let mut e = ExposureBuckets::new(&specs, 3);
        let r = Money::from_rupees;
        e.set_position(InstrumentId(0), r(100));
        e.set_position(InstrumentId(1), r(50));
        e.reserve(InstrumentId(1), r(20));
        e.set_position(InstrumentId(0), r(90));
        e.set_position(InstrumentId(3), r(40));
        e.reserve(InstrumentId(3), r(10));
        e.release(InstrumentId(3), r(25)); // more than reserved: only 10 goes
        assert_eq!(e.sector(SectorId(0)), r(160));
        assert_eq!(e.sector(SectorId(1)), Money::ZERO);
        assert_eq!(e.sector(SectorId(2)), r(40));
        assert_eq!(e.options(), r(40));
        assert_eq!(e.instrument(InstrumentId(1)), r(70));
        assert_eq!(e.instrument(InstrumentId(9)), Money::ZERO);
        let recount: Money = (0..2).fold(Money::ZERO, |s, i| {
            s.saturating_add(e.instrument(InstrumentId(i)))
        });
        assert_eq!(recount, e.sector(SectorId(0)));
    }
}
