//! The `[strategy.momentum_surfer]` section.

use serde::Deserialize;

use crate::{config::ConfigIssue, model::TimeOfDay};

/// Largest indicator period or window accepted, in bars (a full NSE session is 375
/// one-minute bars, and the bank's periods are `u16`).
const MAX_PERIOD: usize = 1000;
/// Largest EMA slope threshold accepted, in basis points over `slope_bars`: 10 % is
/// far beyond any intraday trend, so a larger value can only be a units mistake.
const MAX_SLOPE_BPS: f64 = 1000.0;
/// Largest volume z-score threshold accepted: a bar ten deviations above the norm is
/// already a rare event.
const MAX_VOLUME_Z: f64 = 10.0;
/// Largest stop or target distance accepted, in ATRs.
const MAX_ATR_MULTIPLE: f64 = 50.0;

/// Settings of the intraday momentum strategy, `[strategy.momentum_surfer]`.
///
/// ```toml
/// [strategy.momentum_surfer]
/// enabled = true
/// bar_secs = 60
/// ema_period = 20       # bars
/// slope_bars = 5        # bars the EMA slope is measured over
/// min_slope_bps = 5.0   # basis points the EMA must rise (fall) over slope_bars
/// range_bars = 20       # bars whose high (low) the close must break
/// volume_bars = 20      # bars the breakout bar's volume is scored against
/// volume_z = 1.5        # z-score the breakout bar's volume must reach
/// atr_period = 14
/// stop_atr = 1.5        # protective stop, ATRs from the entry
/// target_atr = 3.0      # profit target, ATRs from the entry
/// max_hold_bars = 60    # 0: no time stop
/// reentry_bars = 10
/// warmup_bars = 15
/// last_entry = "14:45"  # IST
/// allow_short = true
/// symbols = []
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MomentumSurferConfig {
    /// Run the strategy.
    pub enabled: bool,
    /// Bar length in seconds; divides 3600 so bars line up with clock minutes and hours.
    pub bar_secs: u32,
    /// Period of the EMA of closes whose slope defines the trend, in bars.
    pub ema_period: usize,
    /// The slope is the EMA's change from `slope_bars` bars ago to now.
    pub slope_bars: usize,
    /// Least rise of the EMA over `slope_bars` for a long (least fall for a short), in
    /// basis points of its earlier value; the EMA must move strictly even at 0.
    pub min_slope_bps: f64,
    /// The close must break the highest high (lowest low) of this many previous bars of
    /// the day.
    pub range_bars: usize,
    /// The breakout bar's volume is scored against this many bars before it.
    pub volume_bars: usize,
    /// Least z-score of the breakout bar's volume.
    pub volume_z: f64,
    /// Period of the Wilder ATR the stop and target are measured in, in bars.
    pub atr_period: usize,
    /// Protective stop distance from the entry, in ATRs; below `target_atr`.
    pub stop_atr: f64,
    /// Profit target distance from the entry, in ATRs.
    pub target_atr: f64,
    /// Exit a trade this many bars after its entry bar; 0 turns the time stop off.
    pub max_hold_bars: usize,
    /// After an exit, no entry in the same direction on that instrument for this many
    /// bars.
    pub reentry_bars: usize,
    /// No entries on the first this many bars of each day.
    pub warmup_bars: usize,
    /// No entries after this IST time of day (`"HH:MM"` or `"HH:MM:SS"`).
    pub last_entry: String,
    /// Trade the mirror-image short breakouts too (intraday shorts in cash equities).
    pub allow_short: bool,
    /// Trading symbols to trade; empty means every equity in the instrument table.
    pub symbols: Vec<String>,
}

impl Default for MomentumSurferConfig {
    fn default() -> Self {
        MomentumSurferConfig {
            enabled: true,
            bar_secs: 60,
            ema_period: 20,
            slope_bars: 5,
            min_slope_bps: 5.0,
            range_bars: 20,
            volume_bars: 20,
            volume_z: 1.5,
            atr_period: 14,
            stop_atr: 1.5,
            target_atr: 3.0,
            max_hold_bars: 60,
            reentry_bars: 10,
            warmup_bars: 15,
            last_entry: "14:45".to_owned(),
            allow_short: true,
            symbols: Vec::new(),
        }
    }
}

impl MomentumSurferConfig {
    /// Pushes one issue per invalid key, each keyed `{prefix}.key`.
    ///
    /// Whether the listed symbols exist is checked against the instrument table when the
    /// strategy is built ([`build_strategies`](crate::signal::build_strategies)).
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        if let Some(reason) = super::super::checks::bar_secs(self.bar_secs) {
            issue("bar_secs", reason);
        }
        for (key, value) in [
            ("ema_period", self.ema_period),
            ("slope_bars", self.slope_bars),
            ("range_bars", self.range_bars),
            ("volume_bars", self.volume_bars),
            ("atr_period", self.atr_period),
        ] {
            if !(1..=MAX_PERIOD).contains(&value) {
                issue(
                    key,
                    format!("is {value}, must be between 1 and {MAX_PERIOD} bars"),
                );
            }
        }
        if !(0.0..=MAX_SLOPE_BPS).contains(&self.min_slope_bps) {
            issue(
                "min_slope_bps",
                format!(
                    "is {}, must be between 0 and {MAX_SLOPE_BPS} (basis points)",
                    self.min_slope_bps
                ),
            );
        }
        if !(0.0..=MAX_VOLUME_Z).contains(&self.volume_z) {
            issue(
                "volume_z",
                format!(
                    "is {}, must be between 0 and {MAX_VOLUME_Z} (deviations)",
                    self.volume_z
                ),
            );
        }
        let multiple_ok = |m: f64| m > 0.0 && m <= MAX_ATR_MULTIPLE;
        if !multiple_ok(self.stop_atr) {
            issue(
                "stop_atr",
                format!(
                    "is {}, must be above 0 and at most {MAX_ATR_MULTIPLE} (ATRs)",
                    self.stop_atr
                ),
            );
        }
        if !multiple_ok(self.target_atr) {
            issue(
                "target_atr",
                format!(
                    "is {}, must be above 0 and at most {MAX_ATR_MULTIPLE} (ATRs)",
                    self.target_atr
                ),
            );
        } else if multiple_ok(self.stop_atr) && self.stop_atr >= self.target_atr {
            issue(
                "stop_atr",
                format!(
                    "is {}, must be smaller than target_atr ({}): a trend trade risks less than it aims for",
                    self.stop_atr, self.target_atr
                ),
            );
        }
        for (key, value) in [
            ("max_hold_bars", self.max_hold_bars),
            ("reentry_bars", self.reentry_bars),
            ("warmup_bars", self.warmup_bars),
        ] {
            if value > MAX_PERIOD {
                issue(
                    key,
                    format!("is {value}, must be at most {MAX_PERIOD} bars"),
                );
            }
        }
        if self.last_entry_time().is_none() {
            issue(
                "last_entry",
                format!(
                    "is {:?}, must be a time of day, \"HH:MM\" or \"HH:MM:SS\" (IST)",
                    self.last_entry
                ),
            );
        }
        for reason in super::super::checks::symbol_list(&self.symbols) {
            issue("symbols", reason);
        }
    }

    /// [`last_entry`](MomentumSurferConfig::last_entry) as a time of day, `None` when it
    /// does not parse (which [`MomentumSurferConfig::validate`] reports).
    pub fn last_entry_time(&self) -> Option<TimeOfDay> {
        TimeOfDay::parse(&self.last_entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues_of(config: &MomentumSurferConfig) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        config.validate("strategy.momentum_surfer", &mut issues);
        issues
    }

    fn keys(issues: &[ConfigIssue]) -> Vec<&str> {
        issues.iter().map(|i| i.key.as_str()).collect()
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let config = MomentumSurferConfig::default();
        assert!(issues_of(&config).is_empty());
        assert!(config.enabled, "on, as in config/default.toml");
        assert_eq!(config.bar_secs, 60);
        assert_eq!(config.last_entry_time(), Some(TimeOfDay::hm(14, 45)));
        assert!(config.stop_atr < config.target_atr);
        // The doc example is the default section.
        let documented: MomentumSurferConfig = toml::from_str(
            r#"
            enabled = true
            bar_secs = 60
            ema_period = 20
            slope_bars = 5
            min_slope_bps = 5.0
            range_bars = 20
            volume_bars = 20
            volume_z = 1.5
            atr_period = 14
            stop_atr = 1.5
            target_atr = 3.0
            max_hold_bars = 60
            reentry_bars = 10
            warmup_bars = 15
            last_entry = "14:45"
            allow_short = true
            symbols = []
            "#,
        )
        .unwrap();
        assert_eq!(documented, config);
    }

    #[test]
    fn parses_from_toml_and_rejects_unknown_keys() {
        let config: MomentumSurferConfig =
            toml::from_str("range_bars = 30\nlast_entry = \"14:00\"\nsymbols = [\"SBIN\"]")
                .unwrap();
        assert_eq!(config.range_bars, 30);
        assert_eq!(config.last_entry_time(), Some(TimeOfDay::hm(14, 0)));
        assert_eq!(config.ema_period, 20);
        assert!(issues_of(&config).is_empty());
        let err = toml::from_str::<MomentumSurferConfig>("range = 3").unwrap_err();
        assert!(err.to_string().contains("range"), "{err}");
    }

    #[test]
    fn every_bad_value_is_named() {
        let config = MomentumSurferConfig {
            enabled: true,
            bar_secs: 7,
            ema_period: 0,
            slope_bars: 1001,
            min_slope_bps: -1.0,
            range_bars: 0,
            volume_bars: 0,
            volume_z: f64::NAN,
            atr_period: 0,
            stop_atr: 0.0,
            target_atr: 51.0,
            max_hold_bars: 1001,
            reentry_bars: 1001,
            warmup_bars: 1001,
            last_entry: "2:45 pm".into(),
            allow_short: false,
            symbols: vec!["SBIN".into(), " ".into(), "SBIN".into()],
        };
        let issues = issues_of(&config);
        assert_eq!(
            keys(&issues),
            [
                "strategy.momentum_surfer.bar_secs",
                "strategy.momentum_surfer.ema_period",
                "strategy.momentum_surfer.slope_bars",
                "strategy.momentum_surfer.range_bars",
                "strategy.momentum_surfer.volume_bars",
                "strategy.momentum_surfer.atr_period",
                "strategy.momentum_surfer.min_slope_bps",
                "strategy.momentum_surfer.volume_z",
                "strategy.momentum_surfer.stop_atr",
                "strategy.momentum_surfer.target_atr",
                "strategy.momentum_surfer.max_hold_bars",
                "strategy.momentum_surfer.reentry_bars",
                "strategy.momentum_surfer.warmup_bars",
                "strategy.momentum_surfer.last_entry",
                "strategy.momentum_surfer.symbols",
                "strategy.momentum_surfer.symbols",
            ]
        );
        assert!(issues[13].reason.contains("\"2:45 pm\""), "{}", issues[13]);
        assert!(issues[14].reason.contains("entry 2 is empty"));
        assert!(issues[15].reason.contains("SBIN is listed twice"));
    }

    #[test]
    fn the_stop_must_be_closer_than_the_target() {
        let base = MomentumSurferConfig::default();
        for (stop_atr, target_atr) in [(3.0, 3.0), (4.0, 2.0)] {
            let issues = issues_of(&MomentumSurferConfig {
                stop_atr,
                target_atr,
                ..base.clone()
            });
            assert_eq!(keys(&issues), ["strategy.momentum_surfer.stop_atr"]);
            assert!(issues[0].reason.contains("smaller than target_atr"));
        }
        for bad in [0.0, -1.0, 50.5, f64::NAN, f64::INFINITY] {
            let issues = issues_of(&MomentumSurferConfig {
                stop_atr: bad,
                ..base.clone()
            });
            assert_eq!(
                keys(&issues),
                ["strategy.momentum_surfer.stop_atr"],
                "{bad}"
            );
        }
        assert!(issues_of(&MomentumSurferConfig {
            stop_atr: 0.5,
            target_atr: 0.75,
            ..base.clone()
        })
        .is_empty());
    }

    #[test]
    fn thresholds_and_switches_at_their_edges() {
        let base = MomentumSurferConfig::default();
        let ok = |config: MomentumSurferConfig| issues_of(&config).is_empty();
        assert!(ok(MomentumSurferConfig {
            min_slope_bps: 0.0,
            volume_z: 0.0,
            max_hold_bars: 0,
            reentry_bars: 0,
            warmup_bars: 0,
            ..base.clone()
        }));
        assert!(ok(MomentumSurferConfig {
            min_slope_bps: MAX_SLOPE_BPS,
            volume_z: MAX_VOLUME_Z,
            last_entry: "15:29:59".into(),
            ..base.clone()
        }));
        let issues = issues_of(&MomentumSurferConfig {
            min_slope_bps: f64::INFINITY,
            volume_z: 10.5,
            last_entry: "24:00".into(),
            ..base
        });
        assert_eq!(
            keys(&issues),
            [
                "strategy.momentum_surfer.min_slope_bps",
                "strategy.momentum_surfer.volume_z",
                "strategy.momentum_surfer.last_entry",
            ]
        );
    }
}
