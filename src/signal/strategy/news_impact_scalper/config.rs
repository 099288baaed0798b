//! The `[strategy.news_impact_scalper]` section.

use serde::Deserialize;

use crate::{
    config::ConfigIssue,
    model::{Price, TimeOfDay},
};

/// Largest strike offset accepted: beyond a few strikes in the money the option is mostly
/// intrinsic value, and the premium stop no longer bounds a news trade's risk well.
const MAX_STRIKE_OFFSET: u32 = 5;
/// Largest `min_days_to_expiry` accepted (NSE lists index options about a quarter out).
const MAX_DAYS_TO_EXPIRY: u32 = 90;
/// Largest premium stop accepted, in percent of the entry premium.
const MAX_STOP_PCT: f64 = 90.0;
/// Largest premium target accepted, in percent of the entry premium.
const MAX_TARGET_PCT: f64 = 1000.0;
/// Longest holding time accepted: the strategy is an intraday scalper.
const MAX_HOLD_SECS: u32 = 6 * 3600;
/// Longest cooldown accepted: one trading day.
const MAX_COOLDOWN_SECS: u32 = 86_400;
/// Largest `min_premium` accepted, in rupees.
const MAX_MIN_PREMIUM: f64 = 100_000.0;

/// Settings of the news impact scalper, `[strategy.news_impact_scalper]`.
///
/// ```toml
/// [strategy.news_impact_scalper]
/// enabled = true
/// min_sentiment = 500        # per mille, of 1000
/// strike_offset = 0          # 0: at the money; 1: one strike in the money
/// min_days_to_expiry = 1     # 0 allows a contract that expires today
/// premium_stop_pct = 20.0    # percent of the entry premium
/// premium_target_pct = 30.0  # percent of the entry premium
/// hold_secs = 300            # time stop
/// cooldown_secs = 300        # between trades on one underlying
/// last_entry = "15:00"       # IST
/// min_premium = 20.0         # rupees
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewsImpactScalperConfig {
    /// Run the strategy.
    pub enabled: bool,
    /// Smallest |sentiment| that triggers an entry, in per mille (news carries
    /// −1000..=1000); 1 to 1000.
    pub min_sentiment: u16,
    /// Strikes in the money from the at-the-money strike: 0 buys the strike nearest to
    /// spot, 1 the next lower strike for a call (higher for a put), up to 5.
    pub strike_offset: u32,
    /// Fewest calendar days from today (IST) to the expiry of the contract bought. The
    /// default 1 skips a contract on its expiry day, whose premium decays to intrinsic
    /// value by the close and whose gamma makes a tight premium stop pure noise; 0
    /// allows it.
    pub min_days_to_expiry: u32,
    /// Protective stop distance below the entry premium, in percent (0, 90], at most two
    /// decimals; the stop is rounded down to the option's tick. The risk stage enforces
    /// it and sizes the entry from it.
    pub premium_stop_pct: f64,
    /// Profit target above the entry premium, in percent (0, 1000], at most two
    /// decimals: the strategy exits when the option's bid reaches it.
    pub premium_target_pct: f64,
    /// Time stop: the strategy exits this many seconds of market time after the entry
    /// (1 to 21600).
    pub hold_secs: u32,
    /// Seconds of market time after a position on an underlying ended (exit signalled,
    /// or its stop seen) before the next entry on that underlying; 0 to 86400.
    pub cooldown_secs: u32,
    /// No entries at or after this IST time of day, `HH:MM` or `HH:MM:SS`.
    pub last_entry: String,
    /// Smallest premium bought, in rupees (at most two decimals): cheaper options are
    /// mostly spread and ticks.
    pub min_premium: f64,
}

impl Default for NewsImpactScalperConfig {
    fn default() -> Self {
        NewsImpactScalperConfig {
            enabled: true,
            min_sentiment: 500,
            strike_offset: 0,
            min_days_to_expiry: 1,
            premium_stop_pct: 20.0,
            premium_target_pct: 30.0,
            hold_secs: 300,
            cooldown_secs: 300,
            last_entry: "15:00".to_owned(),
            min_premium: 20.0,
        }
    }
}

impl NewsImpactScalperConfig {
    /// Pushes one issue per invalid key, each keyed `{prefix}.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        if !(1..=1000).contains(&self.min_sentiment) {
            issue(
                "min_sentiment",
                format!(
                    "is {}, must be between 1 and 1000 (per mille)",
                    self.min_sentiment
                ),
            );
        }
        if self.strike_offset > MAX_STRIKE_OFFSET {
            issue(
                "strike_offset",
                format!(
                    "is {}, must be between 0 (at the money) and {MAX_STRIKE_OFFSET} strikes",
                    self.strike_offset
                ),
            );
        }
        if self.min_days_to_expiry > MAX_DAYS_TO_EXPIRY {
            issue(
                "min_days_to_expiry",
                format!(
                    "is {}, must be between 0 and {MAX_DAYS_TO_EXPIRY} days",
                    self.min_days_to_expiry
                ),
            );
        }
        if let Some(reason) = percent_issue(self.premium_stop_pct, MAX_STOP_PCT) {
            issue("premium_stop_pct", reason);
        }
        if let Some(reason) = percent_issue(self.premium_target_pct, MAX_TARGET_PCT) {
            issue("premium_target_pct", reason);
        }
        if !(1..=MAX_HOLD_SECS).contains(&self.hold_secs) {
            issue(
                "hold_secs",
                format!(
                    "is {}, must be between 1 and {MAX_HOLD_SECS} seconds",
                    self.hold_secs
                ),
            );
        }
        if self.cooldown_secs > MAX_COOLDOWN_SECS {
            issue(
                "cooldown_secs",
                format!(
                    "is {}, must be between 0 and {MAX_COOLDOWN_SECS} seconds",
                    self.cooldown_secs
                ),
            );
        }
        if TimeOfDay::parse(&self.last_entry).is_none() {
            issue(
                "last_entry",
                format!(
                    "`{}` is not a time of day; write \"HH:MM\" or \"HH:MM:SS\" (IST)",
                    self.last_entry
                ),
            );
        }
        if !(self.min_premium.is_finite() && (0.0..=MAX_MIN_PREMIUM).contains(&self.min_premium)) {
            issue(
                "min_premium",
                format!(
                    "is {}, must be between 0 and {MAX_MIN_PREMIUM} (rupees)",
                    self.min_premium
                ),
            );
        } else if !has_two_decimals(self.min_premium) {
            issue(
                "min_premium",
                format!(
                    "is {}, must have at most two decimals (paise)",
                    self.min_premium
                ),
            );
        }
    }

    /// The premium stop in hundredths of a percent (20.0 % → 2000). Meaningful once
    /// [`NewsImpactScalperConfig::validate`] passed.
    pub fn stop_bps(&self) -> u32 {
        (self.premium_stop_pct * 100.0).round() as u32
    }

    /// The premium target in hundredths of a percent. Meaningful once validated.
    pub fn target_bps(&self) -> u32 {
        (self.premium_target_pct * 100.0).round() as u32
    }

    /// `last_entry` parsed; meaningful once validated (15:00 otherwise).
    pub fn last_entry_time(&self) -> TimeOfDay {
        TimeOfDay::parse(&self.last_entry).unwrap_or(TimeOfDay::hm(15, 0))
    }

    /// `min_premium` as an exact price. Meaningful once validated.
    pub fn min_premium_price(&self) -> Price {
        Price::from_paise((self.min_premium * 100.0).round() as i64)
    }
}

/// Why a percentage in (0, `max`] with at most two decimals is not one, if it is not.
fn percent_issue(value: f64, max: f64) -> Option<String> {
    if !(value > 0.0 && value <= max) {
        Some(format!(
            "is {value}, must be above 0 and at most {max} (percent)"
        ))
    } else if !has_two_decimals(value) {
        Some(format!(
            "is {value}, must have at most two decimals (hundredths of a percent)"
        ))
    } else {
        None
    }
}

/// True when `value` is a whole number of hundredths (up to float noise), so it converts
/// exactly to paise or hundredths of a percent.
fn has_two_decimals(value: f64) -> bool {
    (value * 100.0 - (value * 100.0).round()).abs() <= 1e-6
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "strategy.news_impact_scalper";

    fn issues_of(config: &NewsImpactScalperConfig) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        config.validate(PREFIX, &mut issues);
        issues
    }

    fn keys(issues: &[ConfigIssue]) -> Vec<&str> {
        issues.iter().map(|i| i.key.as_str()).collect()
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let config = NewsImpactScalperConfig::default();
        assert!(issues_of(&config).is_empty());
        assert!(config.enabled, "on, as in config/default.toml");
        assert_eq!(
            (
                config.min_sentiment,
                config.strike_offset,
                config.min_days_to_expiry
            ),
            (500, 0, 1)
        );
        assert_eq!((config.stop_bps(), config.target_bps()), (2000, 3000));
        assert_eq!((config.hold_secs, config.cooldown_secs), (300, 300));
        assert_eq!(config.last_entry_time(), TimeOfDay::hm(15, 0));
        assert_eq!(config.min_premium_price(), Price::from_paise(2000));
    }

    #[test]
    fn parses_from_toml_and_rejects_unknown_keys() {
        let config: NewsImpactScalperConfig = toml::from_str(
            "min_sentiment = 700\nstrike_offset = 1\npremium_stop_pct = 12.5\n\
             last_entry = \"14:30\"\nmin_premium = 7.35\n",
        )
        .unwrap();
        assert!(issues_of(&config).is_empty());
        assert_eq!((config.min_sentiment, config.strike_offset), (700, 1));
        assert_eq!(config.stop_bps(), 1250);
        assert_eq!(config.last_entry_time(), TimeOfDay::hm(14, 30));
        assert_eq!(config.min_premium_price(), Price::from_paise(735));
        assert_eq!(config.hold_secs, 300);
        let err = toml::from_str::<NewsImpactScalperConfig>("hold_sec = 3").unwrap_err();
        assert!(err.to_string().contains("hold_sec"), "{err}");
    }

    #[test]
    fn every_bad_value_is_named() {
        let config = NewsImpactScalperConfig {
            enabled: true,
            min_sentiment: 0,
            strike_offset: 6,
            min_days_to_expiry: 91,
            premium_stop_pct: 95.0,
            premium_target_pct: 0.0,
            hold_secs: 0,
            cooldown_secs: 86_401,
            last_entry: "3pm".into(),
            min_premium: -1.0,
        };
        let issues = issues_of(&config);
        let key = |k: &str| format!("{PREFIX}.{k}");
        assert_eq!(
            keys(&issues),
            [
                key("min_sentiment"),
                key("strike_offset"),
                key("min_days_to_expiry"),
                key("premium_stop_pct"),
                key("premium_target_pct"),
                key("hold_secs"),
                key("cooldown_secs"),
                key("last_entry"),
                key("min_premium"),
            ]
        );
        assert!(issues[7].reason.contains("`3pm` is not a time of day"));
    }

    #[test]
    fn ranges_and_decimals() {
        let base = NewsImpactScalperConfig::default();
        for bad in [0.0, -5.0, 90.01, f64::NAN, f64::INFINITY] {
            let issues = issues_of(&NewsImpactScalperConfig {
                premium_stop_pct: bad,
                ..base.clone()
            });
            assert_eq!(
                keys(&issues),
                [format!("{PREFIX}.premium_stop_pct")],
                "{bad}"
            );
        }
        let issues = issues_of(&NewsImpactScalperConfig {
            premium_target_pct: 25.005,
            min_premium: 10.001,
            ..base.clone()
        });
        assert_eq!(
            keys(&issues),
            [
                format!("{PREFIX}.premium_target_pct"),
                format!("{PREFIX}.min_premium")
            ]
        );
        assert!(issues.iter().all(|i| i.reason.contains("two decimals")));
        for good in [
            NewsImpactScalperConfig {
                min_sentiment: 1000,
                strike_offset: 5,
                min_days_to_expiry: 0,
                premium_stop_pct: 90.0,
                premium_target_pct: 1000.0,
                hold_secs: 21_600,
                cooldown_secs: 0,
                last_entry: "09:15:30".into(),
                min_premium: 0.0,
                ..base.clone()
            },
            NewsImpactScalperConfig {
                min_sentiment: 1,
                premium_stop_pct: 0.01,
                premium_target_pct: 0.01,
                hold_secs: 1,
                cooldown_secs: 86_400,
                min_premium: 100_000.0,
                ..base.clone()
            },
        ] {
            assert!(issues_of(&good).is_empty(), "{good:?}");
        }
    }
}
