//! The `[strategy.sma_cross]` section.

use serde::Deserialize;

use crate::config::ConfigIssue;

/// Largest SMA window accepted, in bars (a full NSE session is 375 one-minute bars).
const MAX_PERIOD: usize = 1000;
/// Largest protective stop accepted, in percent of the entry price.
const MAX_STOP_PCT: f64 = 20.0;

/// Settings of the SMA crossover strategy, `[strategy.sma_cross]`.
///
/// ```toml
/// [strategy.sma_cross]
/// enabled = true
/// fast = 5            # bars
/// slow = 20           # bars
/// bar_secs = 60
/// stop_pct = 1.0      # plain number, percent below (above, for a short) the close
/// allow_short = false
/// symbols = []        # empty: every equity in the instrument table
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmaCrossConfig {
    /// Run the strategy.
    pub enabled: bool,
    /// Window of the fast average, in bars.
    pub fast: usize,
    /// Window of the slow average, in bars; larger than `fast`.
    pub slow: usize,
    /// Bar length in seconds; divides 3600 so bars line up with clock minutes and hours.
    pub bar_secs: u32,
    /// Protective stop distance in percent of the close the entry was decided on, a plain
    /// number in (0, 20] with at most two decimals (kept exactly as hundredths of a
    /// percent).
    pub stop_pct: f64,
    /// On a down-cross, go short (true) or only flat (false, the default: cash equity
    /// shorts are intraday-only).
    pub allow_short: bool,
    /// Trading symbols to trade; empty means every equity in the instrument table.
    pub symbols: Vec<String>,
}

impl Default for SmaCrossConfig {
    fn default() -> Self {
        SmaCrossConfig {
            enabled: false,
            fast: 5,
            slow: 20,
            bar_secs: 60,
            stop_pct: 1.0,
            allow_short: false,
            symbols: Vec::new(),
        }
    }
}

impl SmaCrossConfig {
    /// Pushes one issue per invalid key, each keyed `{prefix}.key`.
    ///
    /// Whether the listed symbols exist is checked against the instrument table when the
    /// strategy is built ([`build_strategies`](crate::signal::build_strategies)).
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let period_range = format!("between 1 and {MAX_PERIOD} bars");
        if !(1..=MAX_PERIOD).contains(&self.fast) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.fast"),
                format!("is {}, must be {period_range}", self.fast),
            ));
        }
        if !(1..=MAX_PERIOD).contains(&self.slow) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.slow"),
                format!("is {}, must be {period_range}", self.slow),
            ));
        }
        if self.fast >= self.slow {
            issues.push(ConfigIssue::new(
                format!("{prefix}.fast"),
                format!(
                    "is {}, must be smaller than slow ({})",
                    self.fast, self.slow
                ),
            ));
        }
        if let Some(reason) = super::super::checks::bar_secs(self.bar_secs) {
            issues.push(ConfigIssue::new(format!("{prefix}.bar_secs"), reason));
        }
        if !(self.stop_pct > 0.0 && self.stop_pct <= MAX_STOP_PCT) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.stop_pct"),
                format!(
                    "is {}, must be above 0 and at most {MAX_STOP_PCT} (percent)",
                    self.stop_pct
                ),
            ));
        } else if (self.stop_pct * 100.0 - (self.stop_pct * 100.0).round()).abs() > 1e-6 {
            issues.push(ConfigIssue::new(
                format!("{prefix}.stop_pct"),
                format!(
                    "is {}, must have at most two decimals (hundredths of a percent)",
                    self.stop_pct
                ),
            ));
        }
        for reason in super::super::checks::symbol_list(&self.symbols) {
            issues.push(ConfigIssue::new(format!("{prefix}.symbols"), reason));
        }
    }

    /// The stop distance in hundredths of a percent (1.0 % → 100). Meaningful once
    /// [`SmaCrossConfig::validate`] passed.
    pub fn stop_bps(&self) -> u32 {
        (self.stop_pct * 100.0).round() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues_of(config: &SmaCrossConfig) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        config.validate("strategy.sma_cross", &mut issues);
        issues
    }

    fn keys(issues: &[ConfigIssue]) -> Vec<&str> {
        issues.iter().map(|i| i.key.as_str()).collect()
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let config = SmaCrossConfig::default();
        assert!(issues_of(&config).is_empty());
        assert_eq!((config.fast, config.slow, config.bar_secs), (5, 20, 60));
        assert_eq!(config.stop_bps(), 100);
        // The example strategy: off unless a file turns it on, as config/default.toml says.
        assert!(!config.enabled && !config.allow_short && config.symbols.is_empty());
    }

    #[test]
    fn parses_from_toml_and_rejects_unknown_keys() {
        let config: SmaCrossConfig =
            toml::from_str("fast = 3\nslow = 8\nstop_pct = 0.75\nsymbols = [\"SBIN\"]").unwrap();
        assert_eq!((config.fast, config.slow, config.stop_bps()), (3, 8, 75));
        assert_eq!(config.bar_secs, 60);
        assert!(issues_of(&config).is_empty());
        let err = toml::from_str::<SmaCrossConfig>("fats = 3").unwrap_err();
        assert!(err.to_string().contains("fats"), "{err}");
    }

    #[test]
    fn every_bad_value_is_named() {
        let config = SmaCrossConfig {
            enabled: true,
            fast: 0,
            slow: 5000,
            bar_secs: 7,
            stop_pct: 25.0,
            allow_short: false,
            symbols: vec!["SBIN".into(), " ".into(), "SBIN".into()],
        };
        let issues = issues_of(&config);
        assert_eq!(
            keys(&issues),
            [
                "strategy.sma_cross.fast",
                "strategy.sma_cross.slow",
                "strategy.sma_cross.bar_secs",
                "strategy.sma_cross.stop_pct",
                "strategy.sma_cross.symbols",
                "strategy.sma_cross.symbols",
            ]
        );
        assert!(issues[4].reason.contains("entry 2 is empty"));
        assert!(issues[5].reason.contains("SBIN is listed twice"));
    }

    #[test]
    fn fast_must_be_below_slow_and_stop_in_range() {
        let base = SmaCrossConfig::default();
        let issues = issues_of(&SmaCrossConfig {
            fast: 20,
            ..base.clone()
        });
        assert_eq!(keys(&issues), ["strategy.sma_cross.fast"]);
        assert!(issues[0].reason.contains("smaller than slow (20)"));
        for bad in [0.0, -1.0, 20.01, f64::NAN, f64::INFINITY] {
            let issues = issues_of(&SmaCrossConfig {
                stop_pct: bad,
                ..base.clone()
            });
            assert_eq!(keys(&issues), ["strategy.sma_cross.stop_pct"], "{bad}");
        }
        let issues = issues_of(&SmaCrossConfig {
            stop_pct: 1.005,
            ..base.clone()
        });
        assert!(issues[0].reason.contains("two decimals"));
        for good in [0.01, 0.5, 1.25, 20.0] {
            assert!(issues_of(&SmaCrossConfig {
                stop_pct: good,
                ..base.clone()
            })
            .is_empty());
        }
    }
}
