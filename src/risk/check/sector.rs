//! Exposure per sector at most a share of equity.

use super::{shrink_to_room, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{model::Money, risk::config::RiskConfig};

/// Shrinks an entry so that its sector's committed exposure (the sectors of the
/// universe file: every instrument of the sector, held or in flight), plus the entry,
/// stays within `max_sector_pct` of equity, in whole lots; refuses it when not one lot
/// fits. Instruments on a whole index (index options, the index ETF) are diversified by
/// construction and pass, as do exits.
#[derive(Debug, Clone, Copy)]
pub struct SectorCap {
    pct: Money,
}

impl SectorCap {
    /// A cap of `pct` percent of equity per sector.
    pub fn new(pct: Money) -> SectorCap {
        SectorCap { pct }
    }

    /// `max_sector_pct` of equity.
    pub fn from_config(config: &RiskConfig) -> SectorCap {
        SectorCap::new(config.max_sector_pct)
    }
}

impl RiskCheck for SectorCap {
    fn configure(&mut self, config: &RiskConfig) {
        *self = SectorCap::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() || !ctx.instrument.sector_capped {
            return Ok(());
        }
        let committed = ctx
            .limits
            .exposure
            .sector(ctx.instrument.sector)
            .saturating_add(ctx.freed.neg());
        let room = ctx
            .share_of_equity(self.pct)
            .saturating_add(committed.neg());
        shrink_to_room(proposal, room, ctx.lot_size(), Refusal::SectorLimit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{InstrumentId, Qty, SectorId, Side},
        risk::{
            check::tests::*,
            limits::{InstrumentSpec, LimitState},
            position::Position,
        },
    };

    #[test]
    fn a_sector_fills_up_others_and_index_instruments_do_not() {
        let bank = InstrumentSpec {
            sector: SectorId(0),
            ..InstrumentSpec::equity()
        };
        let it = InstrumentSpec {
            sector: SectorId(1),
            ..InstrumentSpec::equity()
        };
        let index_option = InstrumentSpec {
            sector: SectorId(0),
            sector_capped: false,
            ..InstrumentSpec::equity()
        };
        let mut limits = LimitState::with_specs(vec![bank, bank, it], 2, &RiskConfig::default());
        limits
            .exposure
            .set_position(InstrumentId(0), Money::from_rupees(200_000));
        limits
            .exposure
            .reserve(InstrumentId(1), Money::from_rupees(40_000));
        let flat = Position::default();
        let cap = SectorCap::from_config(&RiskConfig::default()); // 25%: ₹2.5 lakh
        let ctx = |spec| CheckContext {
            instrument: spec,
            ..CheckContext::new(&flat, &limits)
        };
        let mut p = entry(Side::Buy, "1000", "990");
        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx(bank)).unwrap();
        assert_eq!(p.qty, Qty::new(10), "₹10 000 left in the sector");
        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx(it)).unwrap();
        assert_eq!(p.qty, Qty::new(100), "another sector is empty");
        p.qty = Qty::new(1000);
        cap.check(&mut p, &ctx(index_option)).unwrap();
        assert_eq!(p.qty, Qty::new(1000), "index instruments are exempt");
        let mut big = entry(Side::Buy, "10001", "9990");
        big.qty = Qty::new(5);
        assert_eq!(cap.check(&mut big, &ctx(bank)), Err(Refusal::SectorLimit));
    }
}
