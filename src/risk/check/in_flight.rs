//! One order per instrument at a time.

use super::{CheckContext, Proposal, Refusal, RiskCheck};

/// Refuses a signal's order while an earlier order on the same instrument awaits its
/// final report: the position it would act on is about to change. (The stage sends an
/// exit and the reversing entry together, after both passed.)
#[derive(Debug, Clone, Copy, Default)]
pub struct OneOrderAtATime;

impl RiskCheck for OneOrderAtATime {
    fn check(&self, _proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if ctx.position.orders_in_flight() > 0 {
            return Err(Refusal::OrderInFlight);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::Side,
        risk::{check::tests::*, position::Position},
    };

    #[test]
    fn refused_while_an_order_is_out() {
        let mut busy = Position::default();
        busy.order_sent();
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(
            OneOrderAtATime.check(&mut p, &context(&busy)),
            Err(Refusal::OrderInFlight)
        );
        busy.order_done();
        assert_eq!(OneOrderAtATime.check(&mut p, &context(&busy)), Ok(()));
    }
}
