//! No entries unless trading is active.

use super::{CheckContext, Proposal, Refusal, RiskCheck};
use crate::model::TradingState;

/// Refuses entries unless [`CheckContext::trading`] is [`TradingState::Active`]; exits
/// pass here, so neither a halt nor reduce-only ever traps a position. (A halt also
/// stops strategies' exit signals; the risk stage refuses those before the checks run.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Halted;

impl RiskCheck for Halted {
    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() {
            return Ok(());
        }
        match ctx.trading {
            TradingState::Active => Ok(()),
            TradingState::Reducing => Err(Refusal::ReduceOnly),
            TradingState::Halted => Err(Refusal::Halted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{IntentReason, Side},
        risk::{check::tests::*, position::Position},
    };

    #[test]
    fn entries_refused_exits_pass() {
        let flat = Position::default();
        for (state, refusal) in [
            (TradingState::Halted, Refusal::Halted),
            (TradingState::Reducing, Refusal::ReduceOnly),
        ] {
            let ctx = CheckContext {
                trading: state,
                ..context(&flat)
            };
            let mut p = entry(Side::Buy, "100", "99");
            assert_eq!(Halted.check(&mut p, &ctx), Err(refusal));
            p.reason = IntentReason::Exit;
            assert_eq!(Halted.check(&mut p, &ctx), Ok(()));
        }
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(Halted.check(&mut p, &context(&flat)), Ok(()));
    }
}
