//! An instrument's position belongs to the strategy that opened it.

use super::{CheckContext, Proposal, Refusal, RiskCheck};

/// Refuses any order (entry or exit) on an instrument whose position, or entry in
/// flight, belongs to another strategy, so one strategy never closes or reverses
/// another's trade.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ownership;

impl RiskCheck for Ownership {
    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        match ctx.position.owner() {
            Some(owner) if owner != proposal.strategy => Err(Refusal::OwnedByOther),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{IntentReason, Side, StrategyId},
        risk::{check::tests::*, position::Position},
    };

    #[test]
    fn only_the_owner_may_trade() {
        let mut held = Position::default();
        held.set_owner(Some(StrategyId(1)));
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(
            Ownership.check(&mut p, &context(&held)),
            Err(Refusal::OwnedByOther)
        );
        p.reason = IntentReason::Exit;
        assert_eq!(
            Ownership.check(&mut p, &context(&held)),
            Err(Refusal::OwnedByOther)
        );
        p.strategy = StrategyId(1);
        assert_eq!(Ownership.check(&mut p, &context(&held)), Ok(()));
        assert_eq!(
            Ownership.check(&mut p, &context(&Position::default())),
            Ok(())
        );
    }
}
