//! Total gross exposure at most a fraction of capital.

use super::{whole_lots, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{model::Money, risk::config::RiskConfig};

/// Shrinks an entry so that committed exposure (open positions at their marks plus
/// entries in flight at their reference prices) plus the entry at its reference price
/// stays within `limit`, in whole lots; refuses it when not even one lot fits. Exits
/// pass: they only reduce exposure.
#[derive(Debug, Clone, Copy)]
pub struct ExposureCap {
    limit: Money,
}

impl ExposureCap {
    /// A cap of `limit` rupees.
    pub fn new(limit: Money) -> ExposureCap {
        ExposureCap { limit }
    }

    /// `max_exposure_pct` of `capital`.
    ///
    /// # Panics
    /// If the product overflows (impossible for a validated config).
    pub fn from_config(config: &RiskConfig) -> ExposureCap {
        ExposureCap::new(
            config
                .capital
                .percent(config.max_exposure_pct)
                .expect("validated capital × percent fits"),
        )
    }
}

impl RiskCheck for ExposureCap {
    fn configure(&mut self, config: &RiskConfig) {
        if let Ok(limit) = config.capital.percent(config.max_exposure_pct) {
            self.limit = limit;
        }
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() {
            return Ok(());
        }
        let room = self.limit.raw() - ctx.exposure.raw();
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
    }
}
