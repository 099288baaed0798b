//! The `[signal.allocation]` section.

use serde::Deserialize;

use crate::config::ConfigIssue;

/// Adaptive allocation: how often strategies are reviewed, how their rolling record is
/// kept, and the rules that scale and shadow them (section `[signal.allocation]`; the
/// rules are spelled out on [`Allocator`](super::Allocator)).
///
/// # Examples
/// ```
/// use tickpipe::signal::allocation::AllocationConfig;
/// let cfg: AllocationConfig = toml::from_str("review_minutes = 30\nmin_trades = 3").unwrap();
/// assert_eq!((cfg.review_minutes, cfg.window), (30, 20));
/// let mut issues = Vec::new();
/// cfg.validate("signal.allocation", &mut issues);
/// assert!(issues.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllocationConfig {
    /// Hold reviews: scale entries by each strategy's record and shadow the losers.
    pub enabled: bool,
    /// Minutes of market time between reviews, counted from midnight IST (15: 09:30,
    /// 09:45, ...).
    pub review_minutes: u32,
    /// Round trips the rolling record covers (in whole reviews: see
    /// [`RollingRecord`](super::RollingRecord)).
    pub window: u32,
    /// Round trips a record must hold before it is judged at all.
    pub min_trades: u32,
    /// How hard a losing record cuts the weight: weight = 100 % × (1 + slope ×
    /// expectancy / average loss) while the expectancy is negative.
    pub weight_slope: f64,
    /// The least weight, percent of the risk budget.
    pub min_weight_pct: u8,
    /// Profit factor below which a losing record (net P&L below zero) sends the
    /// strategy to shadow.
    pub shadow_below: f64,
    /// Profit factor the shadow record (with net P&L above zero) must reach for the
    /// strategy to trade again.
    pub recover_above: f64,
    /// Rupees of notional the shadow book puts in each paper position.
    pub shadow_notional: f64,
}

impl Default for AllocationConfig {
    fn default() -> Self {
        AllocationConfig {
            enabled: true,
            review_minutes: 15,
            window: 20,
            min_trades: 5,
            weight_slope: 1.0,
            min_weight_pct: 25,
            shadow_below: 0.8,
            recover_above: 1.2,
            shadow_notional: 100_000.0,
        }
    }
}

impl AllocationConfig {
    /// Pushes one issue per invalid key, named `{prefix}.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        if !(1..=375).contains(&self.review_minutes) {
            issue(
                "review_minutes",
                format!(
                    "is {}, must be from 1 to 375 minutes (the length of an NSE session)",
                    self.review_minutes
                ),
            );
        }
        if !(1..=1000).contains(&self.window) {
            issue(
                "window",
                format!("is {}, must be from 1 to 1000 round trips", self.window),
            );
        }
        if self.min_trades == 0 || self.min_trades > self.window.max(1) {
            issue(
                "min_trades",
                format!(
                    "is {}, must be from 1 to `window` ({}) round trips",
                    self.min_trades, self.window
                ),
            );
        }
        if !(self.weight_slope.is_finite() && (0.0..=100.0).contains(&self.weight_slope)) {
            issue(
                "weight_slope",
                format!("is {}, must be from 0 to 100", self.weight_slope),
            );
        }
        if !(1..=100).contains(&self.min_weight_pct) {
            issue(
                "min_weight_pct",
                format!("is {}, must be from 1 to 100 percent", self.min_weight_pct),
            );
        }
        let factor_ok = |f: f64| f.is_finite() && f > 0.0 && f <= 100.0;
        if !factor_ok(self.shadow_below) {
            issue(
                "shadow_below",
                format!(
                    "is {}, must be a profit factor above 0 and at most 100",
                    self.shadow_below
                ),
            );
        }
        if !factor_ok(self.recover_above) {
            issue(
                "recover_above",
                format!(
                    "is {}, must be a profit factor above 0 and at most 100",
                    self.recover_above
                ),
            );
        } else if factor_ok(self.shadow_below) && self.recover_above < self.shadow_below {
            issue(
                "recover_above",
                format!(
                    "is {}, below shadow_below ({}): a strategy would leave shadow on a worse record than sent it there",
                    self.recover_above, self.shadow_below
                ),
            );
        }
        if !(self.shadow_notional.is_finite() && (1.0..=1e10).contains(&self.shadow_notional)) {
            issue(
                "shadow_notional",
                format!(
                    "is {}, must be from 1 to 10000000000 rupees",
                    self.shadow_notional
                ),
            );
        }
    }

    /// Nanoseconds between reviews.
    pub fn review_nanos(&self) -> u64 {
        u64::from(self.review_minutes) * 60 * 1_000_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_key_is_named() {
        let cfg = AllocationConfig {
            review_minutes: 0,
            window: 3,
            min_trades: 4,
            weight_slope: -1.0,
            min_weight_pct: 0,
            shadow_below: 1.5,
            recover_above: 1.0,
            shadow_notional: f64::NAN,
            ..AllocationConfig::default()
        };
        let mut issues = Vec::new();
        cfg.validate("signal.allocation", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "signal.allocation.review_minutes",
                "signal.allocation.min_trades",
                "signal.allocation.weight_slope",
                "signal.allocation.min_weight_pct",
                "signal.allocation.recover_above",
                "signal.allocation.shadow_notional",
            ]
        );
        assert!(
            issues[4].reason.contains("below shadow_below"),
            "{issues:?}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<AllocationConfig>("windows = 3").unwrap_err();
        assert!(err.to_string().contains("windows"), "{err}");
    }
}
