//! Fat-finger check: the value of one entry order.

use super::{shrink_to_room, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{model::Money, risk::config::RiskConfig};

/// Cuts an entry to whole lots worth at most `max_order_value` rupees at its price, and
/// refuses it when not one lot fits: a hard ceiling on one order whatever the sizing
/// and the equity say. Exits pass.
#[derive(Debug, Clone, Copy)]
pub struct MaxOrderValue {
    limit: Money,
}

impl MaxOrderValue {
    /// A ceiling of `limit` rupees per entry order.
    pub fn new(limit: Money) -> MaxOrderValue {
        MaxOrderValue { limit }
    }

    /// `max_order_value` of `config`.
    pub fn from_config(config: &RiskConfig) -> MaxOrderValue {
        MaxOrderValue::new(config.max_order_value)
    }
}

impl RiskCheck for MaxOrderValue {
    fn configure(&mut self, config: &RiskConfig) {
        *self = MaxOrderValue::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() {
            return Ok(());
        }
        shrink_to_room(proposal, self.limit, ctx.lot_size(), Refusal::MaxOrderValue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{IntentReason, Qty, Side},
        risk::{check::tests::*, position::Position},
    };

    #[test]
    fn cuts_to_the_ceiling_then_refuses() {
        let flat = Position::default();
        let cap = MaxOrderValue::new(Money::from_rupees(100_000));
        let mut p = entry(Side::Buy, "3000", "2990");
        p.qty = Qty::new(50);
        cap.check(&mut p, &context(&flat)).unwrap();
        assert_eq!(p.qty, Qty::new(33));
        let mut p = entry(Side::Buy, "100000.05", "99000");
        p.qty = Qty::new(1);
        assert_eq!(
            cap.check(&mut p, &context(&flat)),
            Err(Refusal::MaxOrderValue)
        );
        p.reason = IntentReason::Exit;
        assert_eq!(cap.check(&mut p, &context(&flat)), Ok(()));
    }
}
