//! A cluster of instruments that move together counts as one concentrated position.

use super::{shrink_to_room, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{
    model::{InstrumentId, Money},
    risk::config::RiskConfig,
};

/// The correlated-cluster limit.
///
/// The candidate's cluster is the candidate plus every instrument held or with an entry
/// in flight whose one-minute returns correlate with the candidate's at least
/// `correlation_threshold` over the rolling window
/// ([`ReturnCorrelation`](crate::risk::ReturnCorrelation)). Such a cluster is one bet
/// however many names it spans, so it is limited as one: an entry is refused when the
/// cluster would hold more than `max_cluster_positions` positions, and, when the
/// cluster holds anything besides the candidate, shrunk (whole lots) so that its
/// combined exposure stays within `max_cluster_pct` of equity. A pair counts whatever the directions of its positions (a conservative
/// reading: a long and a short in two such names is counted, not netted). Pairs
/// without enough returns yet are uncorrelated. Exits pass; `correlation_window = 0`
/// turns the check off.
///
/// Cost: O(instruments × window) on an entry decision, nothing per tick (the returns
/// are updated once a minute by the stage).
#[derive(Debug, Clone, Copy)]
pub struct CorrelationCap {
    enabled: bool,
    threshold: f64,
    max_positions: u32,
    pct: Money,
}

impl CorrelationCap {
    /// The limit with `config`'s threshold, position count and exposure share.
    pub fn from_config(config: &RiskConfig) -> CorrelationCap {
        CorrelationCap {
            enabled: config.correlation_window > 0,
            threshold: config.correlation_threshold.to_f64(),
            max_positions: config.max_cluster_positions,
            pct: config.max_cluster_pct,
        }
    }
}

impl RiskCheck for CorrelationCap {
    fn configure(&mut self, config: &RiskConfig) {
        *self = CorrelationCap::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !self.enabled || !proposal.is_entry() {
            return Ok(());
        }
        let exposure = &ctx.limits.exposure;
        let candidate = proposal.instrument;
        let mut members = 1u32;
        let mut committed = exposure
            .instrument(candidate)
            .saturating_add(ctx.freed.neg())
            .max(Money::ZERO);
        for j in 0..exposure.instruments() {
            let other = InstrumentId(j as u32);
            let held = exposure.instrument(other);
            if other == candidate || held <= Money::ZERO {
                continue;
            }
            let correlated = ctx
                .limits
                .correlation
                .correlation(candidate, other)
                .is_some_and(|rho| rho >= self.threshold);
            if correlated {
                members += 1;
                committed = committed.saturating_add(held);
            }
        }
        if members > self.max_positions {
            return Err(Refusal::CorrelatedCluster);
        }
        if members == 1 {
            // A cluster of one is a single position: `max_position_pct` governs it.
            return Ok(());
        }
        let room = ctx
            .share_of_equity(self.pct)
            .saturating_add(committed.neg());
        shrink_to_room(proposal, room, ctx.lot_size(), Refusal::CorrelatedCluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Price, Qty, Side, UnixNanos},
        risk::{
            check::tests::*,
            limits::{InstrumentSpec, LimitState},
            position::Position,
        },
    };

    /// Four shares: 0, 1 and 2 move together, 3 on its own; an hour of minutes.
    fn limits(config: &RiskConfig) -> LimitState {
        let mut l = LimitState::with_specs(vec![InstrumentSpec::equity(); 4], 1, config);
        for m in 0..61u64 {
            l.correlation.on_time(UnixNanos(m * 60_000_000_000));
            let common = 1000 + (m * 7919 % 17) as i64 * 10;
            let own = 500 + (m * 104_729 % 11) as i64 * 5 + (m % 2) as i64 * 7;
            for (i, paise) in [common * 10, common * 20 + 5, common * 5, own * 10]
                .into_iter()
                .enumerate()
            {
                l.correlation
                    .on_price(InstrumentId(i as u32), Price::from_paise(paise));
            }
        }
        l
    }

    #[test]
    fn a_correlated_cluster_counts_once() {
        let config = RiskConfig {
            max_cluster_positions: 2,
            ..RiskConfig::default()
        };
        let mut l = limits(&config);
        assert!(
            l.correlation
                .correlation(InstrumentId(0), InstrumentId(1))
                .unwrap()
                > 0.99
        );
        assert!(
            l.correlation
                .correlation(InstrumentId(0), InstrumentId(3))
                .unwrap()
                < 0.5
        );
        let cap = CorrelationCap::from_config(&config);
        let flat = Position::default();
        // Hold 0 and 1 (₹50 000 each): together one cluster of two, already full.
        l.exposure
            .set_position(InstrumentId(0), Money::from_rupees(50_000));
        l.exposure
            .set_position(InstrumentId(1), Money::from_rupees(50_000));
        let ctx = CheckContext::new(&flat, &l);
        let mut p = entry(Side::Buy, "100", "99");
        p.instrument = InstrumentId(2);
        p.qty = Qty::new(100);
        assert_eq!(cap.check(&mut p, &ctx), Err(Refusal::CorrelatedCluster));
        // The uncorrelated name is a cluster of one: it passes.
        p.instrument = InstrumentId(3);
        assert_eq!(cap.check(&mut p, &ctx), Ok(()));
        assert_eq!(p.qty, Qty::new(100));
        // With room for three members, the cluster's exposure caps the entry: 40% of
        // ₹10 lakh less ₹1 lakh held = ₹3 lakh.
        let roomy = CorrelationCap::from_config(&RiskConfig::default());
        p.instrument = InstrumentId(2);
        p.qty = Qty::new(5000);
        roomy.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(3000));
        // Off with a zero window.
        let off = CorrelationCap::from_config(&RiskConfig {
            correlation_window: 0,
            max_cluster_positions: 1,
            ..RiskConfig::default()
        });
        p.qty = Qty::new(5000);
        assert_eq!(off.check(&mut p, &ctx), Ok(()));
    }
}
