//! No entries while trading is halted.

use super::{CheckContext, Proposal, Refusal, RiskCheck};

/// Refuses entries while [`CheckContext::halted`] is set; exits always pass, so a halt
/// never traps a position.
#[derive(Debug, Clone, Copy, Default)]
pub struct Halted;

impl RiskCheck for Halted {
    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if ctx.halted && proposal.is_entry() {
            return Err(Refusal::HALTED);
        }
        Ok(())
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
        let ctx = CheckContext {
            halted: true,
            ..context(&flat)
        };
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(Halted.check(&mut p, &ctx), Err(Refusal::HALTED));
        p.reason = IntentReason::Exit;
        assert_eq!(Halted.check(&mut p, &ctx), Ok(()));
        p.reason = IntentReason::Entry;
        assert_eq!(Halted.check(&mut p, &context(&flat)), Ok(()));
    }
}
