//! No entries for the rest of the day once the daily loss limit was hit.

use super::{CheckContext, Proposal, Refusal, RiskCheck};

/// Refuses entries while the day's loss latch of
/// [`DayGuard`](crate::risk::DayGuard) is set (the day's net loss reached
/// `daily_loss_pct` of start-of-day equity). It holds whatever the trading state: an
/// operator's `activate` does not lift it, a new day or a raised `daily_loss_pct` does.
/// Exits pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct DailyLossGate;

impl RiskCheck for DailyLossGate {
    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if proposal.is_entry() && ctx.limits.day.loss_limit_hit() {
            return Err(Refusal::DailyLossLimit);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Date, IntentReason, Money, Side, TimeOfDay, UnixNanos},
        risk::{check::tests::*, limits::LimitState, position::Position},
    };

    #[test]
    fn entries_stop_at_the_limit_exits_do_not() {
        let mut limits = LimitState::empty();
        let t = UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(11, 0));
        limits.day.on_equity(t, Money::from_rupees(1_000_000));
        let flat = Position::default();
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(
            DailyLossGate.check(&mut p, &CheckContext::new(&flat, &limits)),
            Ok(())
        );
        limits.day.on_equity(t, Money::from_rupees(949_999));
        let ctx = CheckContext::new(&flat, &limits);
        assert_eq!(
            DailyLossGate.check(&mut p, &ctx),
            Err(Refusal::DailyLossLimit)
        );
        p.reason = IntentReason::Exit;
        assert_eq!(DailyLossGate.check(&mut p, &ctx), Ok(()));
    }
}
