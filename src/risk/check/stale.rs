//! No entries on stale market data: an instrument whose quote stopped, or a whole live
//! feed that went quiet.
//!
//! Both checks refuse entries only (a scale-in add is an entry). An exit closes risk, and
//! an exit the stage cannot price well is still better sent than held, so exits pass.

use super::{CheckContext, Proposal, Refusal, RiskCheck};
use crate::risk::config::RiskConfig;

/// Refuses an entry on an instrument whose last tick is more than `stale_quote_secs` of
/// market time older than the latest event the risk stage has handled, or that has not
/// ticked at all; 0 turns it off.
///
/// The signal may be fresh while the instrument's quote is not: an option chosen from the
/// index's moves when its own quotes stopped, or the first signals after a stall, taken
/// on instruments that have not ticked since. Sizing and the price band read that quote,
/// so an entry on it pays a price nobody is quoting. Market time makes it deterministic:
/// a replay and a backtest refuse exactly what the live run did.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::*};
/// let (flat, limits) = (Position::default(), LimitState::empty());
/// let secs = |s: u64| UnixNanos(s * 1_000_000_000);
/// let ctx = CheckContext { market_time: secs(1_100), last_tick: Some(secs(1_000)),
///                          ..CheckContext::new(&flat, &limits) };
/// let mut entry = Proposal { instrument: InstrumentId(0), strategy: StrategyId(0),
///     side: Side::Buy, reason: IntentReason::Entry, reference: "100".parse().unwrap(),
///     stop: Price::ZERO, qty: Qty::ZERO, weight_pct: 100 };
/// assert_eq!(QuoteAge::new(60).check(&mut entry, &ctx), Err(Refusal::StaleQuote));
/// assert_eq!(QuoteAge::new(120).check(&mut entry, &ctx), Ok(()));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct QuoteAge {
    nanos: u64,
}

impl QuoteAge {
    /// Entries on quotes older than `secs` seconds of market time are refused (0: none
    /// is, and an instrument that never ticked is not refused either).
    pub fn new(secs: u32) -> QuoteAge {
        QuoteAge {
            nanos: u64::from(secs) * 1_000_000_000,
        }
    }

    /// `stale_quote_secs` of `config`.
    pub fn from_config(config: &RiskConfig) -> QuoteAge {
        QuoteAge::new(config.stale_quote_secs)
    }
}

impl RiskCheck for QuoteAge {
    fn configure(&mut self, config: &RiskConfig) {
        *self = QuoteAge::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if self.nanos == 0 || !proposal.is_entry() {
            return Ok(());
        }
        match ctx.last_tick {
            Some(at) if ctx.market_time.0.saturating_sub(at.0) <= self.nanos => Ok(()),
            _ => Err(Refusal::StaleQuote),
        }
    }
}

/// Refuses every entry while the whole live feed is stale: from the feed stage's
/// `stale_feed` alert to its `feed_recovered` (the stage learns both as
/// [`ControlCommand::FeedStale`](crate::model::ControlCommand::FeedStale) in its input).
///
/// No strategy sees new prices then, so whatever signal still reaches risk was decided
/// on a market that may have moved anywhere since. This is not a halt: the trading state
/// does not change, exits flow, and entries are allowed again as soon as data does.
/// Files and the synthetic day are never stale, so replays and backtests never meet it.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeedFresh;

impl RiskCheck for FeedFresh {
    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if ctx.feed_stale && proposal.is_entry() {
            return Err(Refusal::FeedStale);
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

    fn secs(s: u64) -> UnixNanos {
        UnixNanos(s * 1_000_000_000)
    }

    #[test]
    fn a_fresh_quote_passes_up_to_the_limit_and_an_older_one_is_refused() {
        let flat = Position::default();
        let ctx = |last: u64| CheckContext {
            market_time: secs(1_000),
            last_tick: Some(secs(last)),
            ..context(&flat)
        };
        let age = QuoteAge::new(60);
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(age.check(&mut p, &ctx(1_000)), Ok(()), "ticked just now");
        assert_eq!(age.check(&mut p, &ctx(940)), Ok(()), "exactly the limit");
        assert_eq!(age.check(&mut p, &ctx(939)), Err(Refusal::StaleQuote));
        assert_eq!(age.check(&mut p, &ctx(0)), Err(Refusal::StaleQuote));
    }

    #[test]
    fn an_instrument_that_never_ticked_is_refused() {
        let flat = Position::default();
        let never = CheckContext {
            market_time: secs(1_000),
            last_tick: None,
            ..context(&flat)
        };
        let mut p = entry(Side::Sell, "100", "101");
        assert_eq!(
            QuoteAge::new(60).check(&mut p, &never),
            Err(Refusal::StaleQuote)
        );
    }

    #[test]
    fn exits_pass_however_old_the_quote() {
        let flat = Position::default();
        let old = CheckContext {
            market_time: secs(10_000),
            last_tick: None,
            feed_stale: true,
            ..context(&flat)
        };
        let mut p = entry(Side::Sell, "100", "0");
        p.reason = IntentReason::Exit;
        assert_eq!(QuoteAge::new(60).check(&mut p, &old), Ok(()));
        assert_eq!(FeedFresh.check(&mut p, &old), Ok(()));
    }

    #[test]
    fn zero_turns_the_quote_check_off() {
        let flat = Position::default();
        let old = CheckContext {
            market_time: secs(10_000),
            last_tick: None,
            ..context(&flat)
        };
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(QuoteAge::new(0).check(&mut p, &old), Ok(()));
        let mut configured = QuoteAge::new(60);
        configured.configure(&RiskConfig {
            stale_quote_secs: 0,
            ..RiskConfig::default()
        });
        assert_eq!(configured.check(&mut p, &old), Ok(()));
    }

    #[test]
    fn a_stale_feed_refuses_entries_until_it_is_fresh() {
        let flat = Position::default();
        let stale = CheckContext {
            feed_stale: true,
            ..context(&flat)
        };
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(FeedFresh.check(&mut p, &stale), Err(Refusal::FeedStale));
        assert_eq!(FeedFresh.check(&mut p, &context(&flat)), Ok(()));
    }
}
