//! The regime gate: which strategies may enter in which regime, and at what size.

use std::collections::BTreeMap;

use crate::{
    model::{Direction, Signal},
    signal::filter::FilterRefusal,
};

/// Per strategy, the regimes where its entries are allowed and the share of the risk
/// budget its entries get in each (`[strategy.regime_adaptive.allow]` and
/// `[strategy.regime_adaptive.weight]`).
///
/// The signal stage asks the gate about every signal before the orchestration filters,
/// with the tracker's most likely regime:
///
/// - exits (`Flat`) always pass, at full weight: a gate never traps a position;
/// - a strategy named in neither table passes at full weight ([`Signal::FULL_WEIGHT`]);
/// - a strategy named in `allow` enters only in its listed regimes, and is refused
///   ([`FilterRefusal::REGIME_DISABLED`]) in the others and while the regime is still
///   unknown (before the first index bar);
/// - an entry that passes carries the strategy's weight for the regime (100 for a
///   regime its `weight` row does not list, and while the regime is unknown).
///
/// Tables are resolved to state numbers and strategy ids at construction; a check is
/// two slice lookups and never allocates.
///
/// # Examples
/// ```
/// use std::collections::BTreeMap;
/// use tickpipe::{model::*, signal::{filter::FilterRefusal, market_regime::RegimeGate}};
/// let labels = ["trend".to_owned(), "range".to_owned()];
/// let allow = BTreeMap::from([("sma_cross".to_owned(), vec!["trend".to_owned()])]);
/// let weight = BTreeMap::from([(
///     "sma_cross".to_owned(),
///     BTreeMap::from([("trend".to_owned(), 60u8)]),
/// )]);
/// let gate = RegimeGate::new(&["sma_cross", "other"], &labels, &allow, &weight);
/// let mut signal = Signal {
///     exchange_ts: UnixNanos(0), ingress: Stamp(0), price: Price::from_paise(100_00),
///     stop: Price::ZERO, target: Price::ZERO, instrument: InstrumentId(0), strategy: StrategyId(0),
///     direction: Direction::Long, weight_pct: Signal::FULL_WEIGHT,
/// };
/// assert_eq!(gate.check(&signal, Some(0)), Ok(60));
/// assert_eq!(gate.check(&signal, Some(1)), Err(FilterRefusal::REGIME_DISABLED));
/// signal.strategy = StrategyId(1); // not in the tables
/// assert_eq!(gate.check(&signal, Some(1)), Ok(100));
/// ```
#[derive(Debug, Clone, Default)]
pub struct RegimeGate {
    /// By [`StrategyId`](crate::model::StrategyId); `None` when ungated.
    rules: Vec<Option<Rule>>,
}

/// One strategy's row, by state.
#[derive(Debug, Clone)]
struct Rule {
    /// Entries allowed in each state; `None` when the strategy is only weighted.
    allowed: Option<Vec<bool>>,
    /// Weight in percent in each state.
    weights: Vec<u8>,
}

impl RegimeGate {
    /// A gate that passes every signal at full weight.
    pub fn open() -> RegimeGate {
        RegimeGate::default()
    }

    /// The gate for the running strategies `names` (indexed by
    /// [`StrategyId`](crate::model::StrategyId)) over regimes labelled `labels`, from
    /// the `allow` and `weight` tables keyed by strategy name.
    ///
    /// Rows naming a strategy that is not running, and labels that are not in
    /// `labels`, are ignored: configuration validation reports unknown names, and a
    /// strategy that is merely disabled today leaves nothing to gate.
    pub fn new(
        names: &[&str],
        labels: &[String],
        allow: &BTreeMap<String, Vec<String>>,
        weight: &BTreeMap<String, BTreeMap<String, u8>>,
    ) -> RegimeGate {
        let state_of = |label: &str| labels.iter().position(|l| l == label);
        let rules = names
            .iter()
            .map(|&name| {
                let allowed = allow.get(name).map(|listed| {
                    let mut allowed = vec![false; labels.len()];
                    for k in listed.iter().filter_map(|l| state_of(l)) {
                        allowed[k] = true;
                    }
                    allowed
                });
                let row = weight.get(name);
                if allowed.is_none() && row.is_none() {
                    return None;
                }
                let mut weights = vec![Signal::FULL_WEIGHT; labels.len()];
                for (label, &pct) in row.into_iter().flatten() {
                    if let Some(k) = state_of(label) {
                        weights[k] = pct;
                    }
                }
                Some(Rule { allowed, weights })
            })
            .collect();
        RegimeGate { rules }
    }

    /// Passes `signal` with the weight to size it by, or refuses it, when the most
    /// likely regime is `state` (`None`: not known yet).
    ///
    /// # Errors
    /// [`FilterRefusal::REGIME_DISABLED`] for an entry of a strategy not allowed in
    /// `state`.
    #[inline]
    pub fn check(&self, signal: &Signal, state: Option<usize>) -> Result<u8, FilterRefusal> {
        if signal.direction == Direction::Flat {
            return Ok(Signal::FULL_WEIGHT);
        }
        let Some(Some(rule)) = self.rules.get(signal.strategy.index()) else {
            return Ok(Signal::FULL_WEIGHT);
        };
        let Some(state) = state else {
            return match rule.allowed {
                Some(_) => Err(FilterRefusal::REGIME_DISABLED),
                None => Ok(Signal::FULL_WEIGHT),
            };
        };
        match &rule.allowed {
            Some(allowed) if !allowed.get(state).copied().unwrap_or(false) => {
                Err(FilterRefusal::REGIME_DISABLED)
            }
            _ => Ok(rule
                .weights
                .get(state)
                .copied()
                .unwrap_or(Signal::FULL_WEIGHT)),
        }
    }

    /// True when no strategy is gated or weighted.
    pub fn is_open(&self) -> bool {
        self.rules.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, Price, Stamp, StrategyId, UnixNanos};

    const TREND_UP: usize = 0;
    const RANGE: usize = 1;
    const STRESS: usize = 2;

    fn labels() -> Vec<String> {
        vec!["trend_up".into(), "range".into(), "stress".into()]
    }

    fn signal(strategy: u16, direction: Direction) -> Signal {
        Signal {
            exchange_ts: UnixNanos(0),
            ingress: Stamp(0),
            price: Price::from_paise(10_000),
            stop: Price::ZERO,
            target: Price::ZERO,
            instrument: InstrumentId(0),
            strategy: StrategyId(strategy),
            direction,
            weight_pct: Signal::FULL_WEIGHT,
        }
    }

    /// `scalper` (0) enters in range and stress, at half size in stress; `trend` (1) is
    /// only weighted; `free` (2) is named nowhere.
    fn gate() -> RegimeGate {
        let allow = BTreeMap::from([(
            "scalper".to_owned(),
            vec!["range".to_owned(), "stress".to_owned()],
        )]);
        let weight = BTreeMap::from([
            (
                "scalper".to_owned(),
                BTreeMap::from([("stress".to_owned(), 50)]),
            ),
            (
                "trend".to_owned(),
                BTreeMap::from([("range".to_owned(), 25), ("stress".to_owned(), 10)]),
            ),
            (
                "stopped_today".to_owned(),
                BTreeMap::from([("range".to_owned(), 5)]),
            ),
        ]);
        RegimeGate::new(&["scalper", "trend", "free"], &labels(), &allow, &weight)
    }

    #[test]
    fn entries_pass_only_in_allowed_regimes_with_their_weight() {
        let g = gate();
        let refused = Err(FilterRefusal::REGIME_DISABLED);
        for direction in [Direction::Long, Direction::Short] {
            let s = signal(0, direction);
            assert_eq!(g.check(&s, Some(TREND_UP)), refused);
            assert_eq!(g.check(&s, Some(RANGE)), Ok(100));
            assert_eq!(g.check(&s, Some(STRESS)), Ok(50));
            assert_eq!(g.check(&s, None), refused, "regime not known yet");
        }
    }

    #[test]
    fn exits_always_pass_at_full_weight() {
        let g = gate();
        for state in [None, Some(TREND_UP), Some(RANGE), Some(STRESS)] {
            for strategy in 0..3 {
                assert_eq!(g.check(&signal(strategy, Direction::Flat), state), Ok(100));
            }
        }
    }

    #[test]
    fn weighted_only_and_unnamed_strategies_are_never_refused() {
        let g = gate();
        let trend = signal(1, Direction::Long);
        assert_eq!(g.check(&trend, None), Ok(100));
        assert_eq!(g.check(&trend, Some(TREND_UP)), Ok(100));
        assert_eq!(g.check(&trend, Some(RANGE)), Ok(25));
        assert_eq!(g.check(&trend, Some(STRESS)), Ok(10));
        for state in [None, Some(TREND_UP), Some(STRESS)] {
            assert_eq!(g.check(&signal(2, Direction::Short), state), Ok(100));
            assert_eq!(
                g.check(&signal(7, Direction::Long), state),
                Ok(100),
                "no such id"
            );
        }
        assert!(!g.is_open());
        assert!(RegimeGate::open().is_open());
        let unused = RegimeGate::new(&["free"], &labels(), &BTreeMap::new(), &BTreeMap::new());
        assert!(unused.is_open());
    }
}
