//! Fat-finger check: the price to pay near the last trade.

use super::{CheckContext, Proposal, Refusal, RiskCheck};
use crate::{
    model::{Money, Price},
    risk::config::RiskConfig,
};

/// Refuses an entry whose price to pay (set by [`RiskSizing`](super::RiskSizing): the
/// ask for a buy, the bid for a sell) lies more than `price_band_pct` from the
/// instrument's last trade: a quote that far off is a broken book or a bad tick, not a
/// price to open at. With no last trade known it passes. Exits pass: closing risk is
/// never held back by a price check.
#[derive(Debug, Clone, Copy)]
pub struct PriceBand {
    pct: Money,
}

impl PriceBand {
    /// A band of `pct` percent around the last trade.
    pub fn new(pct: Money) -> PriceBand {
        PriceBand { pct }
    }

    /// `price_band_pct` of `config`.
    pub fn from_config(config: &RiskConfig) -> PriceBand {
        PriceBand::new(config.price_band_pct)
    }
}

impl RiskCheck for PriceBand {
    fn configure(&mut self, config: &RiskConfig) {
        *self = PriceBand::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        let last = ctx.quote.last;
        if !proposal.is_entry() || !last.is_positive() {
            return Ok(());
        }
        let band = Money::from_raw(i128::from(last.raw()))
            .percent(self.pct)
            .map_or(Money::ZERO, |m| m);
        let off = Money::from_raw(i128::from(proposal.reference.abs_diff(last).raw()));
        if off > band || proposal.reference == Price::ZERO {
            return Err(Refusal::PriceBand);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{IntentReason, Side},
        risk::{check::tests::*, limits::Quote, position::Position},
    };

    #[test]
    fn the_band_is_inclusive_around_the_last_trade() {
        let flat = Position::default();
        let ctx = CheckContext {
            quote: Quote {
                last: "100".parse().unwrap(),
                ..Quote::default()
            },
            ..context(&flat)
        };
        let band = PriceBand::new(Money::from_rupees(10));
        let mut p = entry(Side::Buy, "110", "100");
        assert_eq!(band.check(&mut p, &ctx), Ok(()));
        let mut p = entry(Side::Buy, "110.05", "100");
        assert_eq!(band.check(&mut p, &ctx), Err(Refusal::PriceBand));
        let mut p = entry(Side::Sell, "89.95", "95");
        assert_eq!(band.check(&mut p, &ctx), Err(Refusal::PriceBand));
        p.reason = IntentReason::Exit;
        assert_eq!(band.check(&mut p, &ctx), Ok(()));
        let mut p = entry(Side::Buy, "500", "490");
        assert_eq!(band.check(&mut p, &context(&flat)), Ok(()), "no last trade");
    }
}
