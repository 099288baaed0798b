//! Duplicate prevention: one entry per instrument per cooldown, across strategies.

use super::{CheckContext, Proposal, Refusal, RiskCheck};
use crate::risk::config::RiskConfig;

/// Refuses an entry while less than `secs` of market time have passed since the last
/// fill on the instrument, whichever strategy (or the operator, or a stop) traded it.
/// Two strategies seeing the same move, or one strategy flipping on noise, then open at
/// most one position per cooldown. Exits always pass.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::*};
/// let cooldown = Cooldown::new(120);
/// let (flat, limits) = (Position::default(), LimitState::empty());
/// let at = |s: u64| UnixNanos(s * 1_000_000_000);
/// let ctx = CheckContext { now: at(1_100), last_order: at(1_000),
///     ..CheckContext::new(&flat, &limits) };
/// let mut p = Proposal { instrument: InstrumentId(0), strategy: StrategyId(0),
///     side: Side::Buy, reason: IntentReason::Entry, reference: "250".parse().unwrap(),
///     stop: Price::ZERO, qty: Qty::ZERO, weight_pct: 100 };
/// assert_eq!(cooldown.check(&mut p, &ctx), Err(Refusal::Cooldown));
/// let later = CheckContext { now: at(1_120), ..ctx };
/// assert_eq!(cooldown.check(&mut p, &later), Ok(()));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Cooldown {
    nanos: u64,
}

impl Cooldown {
    /// A cooldown of `secs` seconds of market time (0: none).
    pub fn new(secs: u32) -> Cooldown {
        Cooldown {
            nanos: u64::from(secs) * 1_000_000_000,
        }
    }

    /// `cooldown_secs` of `config`.
    pub fn from_config(config: &RiskConfig) -> Cooldown {
        Cooldown::new(config.cooldown_secs)
    }
}

impl RiskCheck for Cooldown {
    fn configure(&mut self, config: &RiskConfig) {
        *self = Cooldown::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if self.nanos == 0 || !proposal.is_entry() || ctx.last_order.0 == 0 {
            return Ok(());
        }
        if ctx.now.0.saturating_sub(ctx.last_order.0) < self.nanos {
            return Err(Refusal::Cooldown);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{IntentReason, Side, UnixNanos},
        risk::{check::tests::*, position::Position},
    };

    #[test]
    fn entries_wait_out_the_cooldown_exits_never_do() {
        let flat = Position::default();
        let secs = |s: u64| UnixNanos(s * 1_000_000_000);
        let ctx = CheckContext {
            now: secs(500),
            last_order: secs(450),
            ..context(&flat)
        };
        let mut entry = entry(Side::Buy, "100", "99");
        assert_eq!(
            Cooldown::new(60).check(&mut entry, &ctx),
            Err(Refusal::Cooldown)
        );
        assert_eq!(Cooldown::new(50).check(&mut entry, &ctx), Ok(()));
        assert_eq!(Cooldown::new(0).check(&mut entry, &ctx), Ok(()));
        let never = CheckContext {
            last_order: UnixNanos(0),
            ..ctx
        };
        assert_eq!(Cooldown::new(60).check(&mut entry, &never), Ok(()));
        entry.reason = IntentReason::Exit;
        assert_eq!(Cooldown::new(60).check(&mut entry, &ctx), Ok(()));
    }
}
