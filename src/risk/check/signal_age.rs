//! Stale signals are dropped.

use super::{CheckContext, Proposal, Refusal, RiskCheck};
use crate::risk::config::RiskConfig;

/// Refuses any order (entry or exit) from a signal more than `signal_expiry_secs` of
/// market time older than the latest event the risk stage has handled: a signal that
/// waited in a backed-up ring decided on prices that are gone. Zero turns it off.
#[derive(Debug, Clone, Copy)]
pub struct SignalAge {
    nanos: u64,
}

impl SignalAge {
    /// Signals older than `secs` seconds of market time are refused (0: none is).
    pub fn new(secs: u32) -> SignalAge {
        SignalAge {
            nanos: u64::from(secs) * 1_000_000_000,
        }
    }

    /// `signal_expiry_secs` of `config`.
    pub fn from_config(config: &RiskConfig) -> SignalAge {
        SignalAge::new(config.signal_expiry_secs)
    }
}

impl RiskCheck for SignalAge {
    fn configure(&mut self, config: &RiskConfig) {
        *self = SignalAge::from_config(config);
    }

    fn check(&self, _proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if self.nanos > 0 && ctx.market_time.0.saturating_sub(ctx.now.0) > self.nanos {
            return Err(Refusal::SignalExpired);
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
    fn older_than_the_expiry_is_refused_entries_and_exits_alike() {
        let flat = Position::default();
        let secs = |s: u64| UnixNanos(s * 1_000_000_000);
        let ctx = |market: u64| CheckContext {
            now: secs(1_000),
            market_time: secs(market),
            ..context(&flat)
        };
        let age = SignalAge::new(120);
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(age.check(&mut p, &ctx(1_120)), Ok(()), "exactly the expiry");
        assert_eq!(age.check(&mut p, &ctx(1_121)), Err(Refusal::SignalExpired));
        p.reason = IntentReason::Exit;
        assert_eq!(age.check(&mut p, &ctx(1_121)), Err(Refusal::SignalExpired));
        assert_eq!(SignalAge::new(0).check(&mut p, &ctx(9_999)), Ok(()));
    }
}
