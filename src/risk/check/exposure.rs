//! Total gross exposure at most a fraction of equity (or capital).

use super::{whole_lots, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{model::Money, risk::config::RiskConfig};

/// Shrinks an entry so that committed exposure (open positions at their marks plus
/// entries in flight at their reference prices) plus the entry at its reference price
/// stays within `pct` percent of [`CheckContext::equity`] (equity or the fixed capital,
/// by `risk.sizing_basis`: the cap shrinks after losses), in whole lots; refuses it when
/// not even one lot fits. Exits pass: they only reduce exposure.
#[derive(Debug, Clone, Copy)]
pub struct ExposureCap {
    pct: Money,
}

impl ExposureCap {
    /// A cap of `pct` percent of equity.
    pub fn new(pct: Money) -> ExposureCap {
        ExposureCap { pct }
    }

    /// `max_exposure_pct` of equity.
    pub fn from_config(config: &RiskConfig) -> ExposureCap {
        ExposureCap::new(config.max_exposure_pct)
    }
}

impl RiskCheck for ExposureCap {
    fn configure(&mut self, config: &RiskConfig) {
        self.pct = config.max_exposure_pct;
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() {
            return Ok(());
        }
        let limit = ctx
            .equity()
            .percent(self.pct)
            .map_err(|_| Refusal::EXPOSURE_LIMIT)?;
        let room = limit.raw() - ctx.exposure.raw();
        let price = i128::from(proposal.reference.raw());
        if room <= 0 || price <= 0 {
            return Err(Refusal::EXPOSURE_LIMIT);
        }
        // Money and Price share the 10^-8 unit, so raw / raw counts units.
        let fits = whole_lots(
            (room / price).clamp(0, i128::from(u64::MAX)) as u64,
            ctx.lot_size,
        );
        let qty = proposal.qty.min(fits);
        if qty.is_zero() {
            return Err(Refusal::EXPOSURE_LIMIT);
        }
        proposal.qty = qty;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Qty, Side},
        risk::{check::tests::*, position::Position},
    };

    #[test]
    fn shrinks_to_fit_then_refuses() {
        let cap = ExposureCap::from_config(&RiskConfig::default()); // 7 lakh
        let flat = Position::default();
        let mut ctx = CheckContext {
            exposure: "650000".parse().unwrap(),
            lot_size: 25,
            ..context(&flat)
        };
        let mut p = entry(Side::Buy, "400", "390");
        p.qty = Qty::new(2000);
        cap.check(&mut p, &ctx).unwrap();
        // 50 000 room / 400 = 125 units = 5 lots
        assert_eq!(p.qty, Qty::new(125));

        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(100), "fits: unchanged");

        ctx.exposure = "690000".parse().unwrap(); // room for exactly one lot
        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(25));

        ctx.exposure = "690000.01".parse().unwrap(); // 24.99 units: not one lot
        p.qty = Qty::new(100);
        assert_eq!(cap.check(&mut p, &ctx), Err(Refusal::EXPOSURE_LIMIT));
        ctx.exposure = "700000.01".parse().unwrap();
        assert_eq!(cap.check(&mut p, &ctx), Err(Refusal::EXPOSURE_LIMIT));

        // After a ₹1 lakh loss the cap is 70 % of ₹9 lakh = ₹6.3 lakh: ₹6.2 lakh
        // committed leaves ₹10 000, 25 units at ₹400, one lot.
        ctx.equity = "900000".parse().unwrap();
        ctx.exposure = "620000".parse().unwrap();
        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(25));
        ctx.exposure = "630000".parse().unwrap();
        assert_eq!(cap.check(&mut p, &ctx), Err(Refusal::EXPOSURE_LIMIT));
    }
}
