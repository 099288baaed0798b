//! The `[risk]` keys of the exits: target booking, trailing stop, time stops, exit
//! retry, the emergency flatten, the shutdown and reconciliation policies.
//!
//! The keys live in [`RiskConfig`] (one flat `[risk]` table, plus the `[risk.time_stop]`
//! and `[risk.emergency]` sub-tables); this file holds their types and their checks.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{config::decimal, config::ConfigIssue, model::Money, risk::config::RiskConfig};

/// What `SIGTERM` or Ctrl-C does to open positions (`risk.on_shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownPolicy {
    /// Stop the feed, send a market exit for every open position through the risk
    /// stage, and stop once they are answered.
    #[default]
    Flatten,
    /// Stop the feed and leave positions open, naming each on standard error.
    Leave,
}

/// What a difference between the broker's positions and the book leads to
/// (`risk.reconcile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcilePolicy {
    /// Report each difference as an alert; the book stays as it is.
    #[default]
    Alert,
    /// Take the broker's quantity and average price into the book.
    Adopt,
    /// Close every position whose quantity differs, at market.
    Flatten,
}

/// What still exits while trading is halted (`risk.halt_exits`).
///
/// A halt is the kill switch: the engine stops trading on its own. `Manual` takes that
/// literally, so nothing leaves but what the operator asks for (and the emergency
/// flatten, which halts because it closes everything); positions left open keep only
/// the broker-side protective stops (`order.protective_stop`), and a critical alert
/// says so when a halt leaves positions open. `Protective` keeps the stage's own stops,
/// targets, time stops and square-off running through a halt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HaltExits {
    /// Nothing but manual exits (`close`, `flatten`) and the emergency flatten.
    #[default]
    Manual,
    /// The risk stage's own exits keep running, besides manual ones.
    Protective,
}

impl HaltExits {
    /// True when an exit for `reason` may be sent while halted.
    pub fn allows(self, reason: crate::model::IntentReason) -> bool {
        use crate::model::IntentReason as R;
        match self {
            HaltExits::Protective => true,
            HaltExits::Manual => matches!(reason, R::Manual | R::Emergency),
        }
    }
}

/// `[risk.emergency]`: flatten everything and halt when the index falls fast.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmergencyConfig {
    /// The index watched, as the instrument table spells it.
    pub index: String,
    /// A fall of more than this, in percent of the highest index print within the
    /// window, triggers the flatten; 0 turns it off.
    #[serde(deserialize_with = "decimal")]
    pub drop_pct: Money,
    /// The window the fall is measured over, in minutes of market time.
    pub window_minutes: u32,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        EmergencyConfig {
            index: "NIFTY 50".to_owned(),
            drop_pct: Money::from_rupees(2),
            window_minutes: 5,
        }
    }
}

/// Longest window of the index-fall watch: one trading session (09:15–15:30).
pub const MAX_WINDOW_MINUTES: u32 = 375;
/// Most adds to one position (`risk.scale_in_max`).
pub const MAX_SCALE_INS: u32 = 10;
/// Most attempts at one exit before its position is flagged.
pub const MAX_EXIT_ATTEMPTS: u32 = 100;
/// Longest retry delay, ten minutes of market time.
pub const MAX_RETRY_MS: u32 = 600_000;

/// Per strategy name, minutes of market time a position may stay open
/// (`[risk.time_stop]`).
pub type TimeStops = BTreeMap<String, u32>;

/// Pushes one issue per invalid exit key of `cfg`, each named `{prefix}.key`; the
/// strategy names of `[risk.time_stop]` are checked by [`validate_time_stop_names`].
pub fn validate(cfg: &RiskConfig, prefix: &str, issues: &mut Vec<ConfigIssue>) {
    let hundred = Money::from_rupees(100);
    let pct =
        |key: &str, value: Money, zero_ok: bool, max: Money, issues: &mut Vec<ConfigIssue>| {
            let low_ok = if zero_ok {
                value >= Money::ZERO
            } else {
                value > Money::ZERO
            };
            if !low_ok || value > max {
                let low = if zero_ok { "from 0" } else { "above 0 and" };
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {value}, must be {low} at most {max} (percent)"),
                ));
            }
        };
    pct(
        "partial_exit_pct",
        cfg.partial_exit_pct,
        false,
        hundred,
        issues,
    );
    pct(
        "scale_in_at_pct",
        cfg.scale_in_at_pct,
        false,
        Money::from_rupees(50),
        issues,
    );
    pct("scale_in_pct", cfg.scale_in_pct, false, hundred, issues);
    if cfg.scale_in_max == 0 || cfg.scale_in_max > MAX_SCALE_INS {
        issues.push(ConfigIssue::new(
            format!("{prefix}.scale_in_max"),
            format!(
                "is {}, must be from 1 to {MAX_SCALE_INS} (adds per position)",
                cfg.scale_in_max
            ),
        ));
    }
    pct(
        "scale_out_at_pct",
        cfg.scale_out_at_pct,
        false,
        Money::from_rupees(50),
        issues,
    );
    if cfg.scale_out_pct <= Money::ZERO || cfg.scale_out_pct >= hundred {
        issues.push(ConfigIssue::new(
            format!("{prefix}.scale_out_pct"),
            format!(
                "is {}, must be above 0 and below 100 (percent; the stop closes the rest)",
                cfg.scale_out_pct
            ),
        ));
    }
    pct(
        "trail_activate_pct",
        cfg.trail_activate_pct,
        true,
        hundred,
        issues,
    );
    pct(
        "trail_pct",
        cfg.trail_pct,
        false,
        Money::from_rupees(50),
        issues,
    );
    if cfg.trail_atr < Money::ZERO || cfg.trail_atr > Money::from_rupees(20) {
        issues.push(ConfigIssue::new(
            format!("{prefix}.trail_atr"),
            format!(
                "is {}, must be from 0 (trail by trail_pct) to 20 (stop distances)",
                cfg.trail_atr
            ),
        ));
    }
    for (name, &minutes) in &cfg.time_stop {
        if minutes == 0 || minutes > MAX_WINDOW_MINUTES {
            issues.push(ConfigIssue::new(
                format!("{prefix}.time_stop.{name}"),
                format!("is {minutes}, must be from 1 to {MAX_WINDOW_MINUTES} (minutes)"),
            ));
        }
    }
    if cfg.exit_retry_ms == 0 || cfg.exit_retry_ms > MAX_RETRY_MS {
        issues.push(ConfigIssue::new(
            format!("{prefix}.exit_retry_ms"),
            format!(
                "is {}, must be from 1 to {MAX_RETRY_MS} (milliseconds)",
                cfg.exit_retry_ms
            ),
        ));
    }
    if cfg.exit_retry_max_ms < cfg.exit_retry_ms || cfg.exit_retry_max_ms > MAX_RETRY_MS {
        issues.push(ConfigIssue::new(
            format!("{prefix}.exit_retry_max_ms"),
            format!(
                "is {}, must be from {prefix}.exit_retry_ms ({}) to {MAX_RETRY_MS} (milliseconds)",
                cfg.exit_retry_max_ms, cfg.exit_retry_ms
            ),
        ));
    }
    if cfg.exit_max_attempts == 0 || cfg.exit_max_attempts > MAX_EXIT_ATTEMPTS {
        issues.push(ConfigIssue::new(
            format!("{prefix}.exit_max_attempts"),
            format!(
                "is {}, must be from 1 to {MAX_EXIT_ATTEMPTS}",
                cfg.exit_max_attempts
            ),
        ));
    }
    let e = &cfg.emergency;
    pct("emergency.drop_pct", e.drop_pct, true, hundred, issues);
    if e.window_minutes == 0 || e.window_minutes > MAX_WINDOW_MINUTES {
        issues.push(ConfigIssue::new(
            format!("{prefix}.emergency.window_minutes"),
            format!(
                "is {}, must be from 1 to {MAX_WINDOW_MINUTES}",
                e.window_minutes
            ),
        ));
    }
    if e.drop_pct > Money::ZERO && e.index.trim().is_empty() {
        issues.push(ConfigIssue::new(
            format!("{prefix}.emergency.index"),
            "is empty; name the index to watch (\"NIFTY 50\") or set drop_pct = 0",
        ));
    }
}

/// Pushes one issue per `[risk.time_stop]` key that names no strategy in `strategies`
/// (the engine's catalogue: the composition root knows it, the risk stage does not).
pub fn validate_time_stop_names(
    cfg: &RiskConfig,
    prefix: &str,
    strategies: &[&str],
    issues: &mut Vec<ConfigIssue>,
) {
    for name in cfg.time_stop.keys() {
        if !strategies.contains(&name.as_str()) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.time_stop.{name}"),
                format!(
                    "no strategy is called `{name}`; known: {}",
                    strategies.join(", ")
                ),
            ));
        }
    }
}

/// A percentage as hundredths of a percent (basis points), truncated beyond 0.01%.
pub fn to_bps(pct: Money) -> i64 {
    (pct.raw() / (Money::from_rupees(1).raw() / 100)).clamp(0, i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(cfg: &RiskConfig) -> Vec<String> {
        let mut issues = Vec::new();
        validate(cfg, "risk", &mut issues);
        validate_time_stop_names(
            cfg,
            "risk",
            &["momentum_surfer", "volume_scalper"],
            &mut issues,
        );
        issues.into_iter().map(|i| i.key).collect()
    }

    #[test]
    fn the_default_is_valid_and_reads_from_toml() {
        assert!(issues(&RiskConfig::default()).is_empty());
        let cfg: RiskConfig = toml::from_str(
            r#"
            partial_exit_pct = 40
            trail_atr = "1.5"
            on_shutdown = "leave"
            reconcile = "adopt"
            [time_stop]
            volume_scalper = 10
            [emergency]
            drop_pct = 1.5
            window_minutes = 3
            "#,
        )
        .unwrap();
        assert!(issues(&cfg).is_empty());
        assert_eq!(to_bps(cfg.partial_exit_pct), 4000);
        assert_eq!(to_bps(cfg.trail_atr), 150);
        assert_eq!(cfg.on_shutdown, ShutdownPolicy::Leave);
        assert_eq!(cfg.reconcile, ReconcilePolicy::Adopt);
        assert_eq!(cfg.time_stop["volume_scalper"], 10);
        assert_eq!(to_bps(cfg.emergency.drop_pct), 150);
        assert_eq!(cfg.emergency.index, "NIFTY 50");
        assert!(toml::from_str::<RiskConfig>("on_shutdown = \"panic\"").is_err());
        assert!(toml::from_str::<RiskConfig>("[emergency]\nfall = 2").is_err());
    }

    #[test]
    fn every_bad_value_is_named_by_its_key() {
        let mut cfg = RiskConfig {
            partial_exit_pct: Money::ZERO,
            trail_activate_pct: Money::from_rupees(-1),
            trail_pct: Money::from_rupees(51),
            trail_atr: Money::from_rupees(21),
            exit_retry_ms: 0,
            exit_retry_max_ms: MAX_RETRY_MS + 1,
            exit_max_attempts: 0,
            ..RiskConfig::default()
        };
        cfg.time_stop.insert("volume_scalper".into(), 0);
        cfg.time_stop.insert("scalpr".into(), 5);
        cfg.emergency = EmergencyConfig {
            index: " ".into(),
            drop_pct: Money::from_rupees(101),
            window_minutes: 0,
        };
        assert_eq!(
            issues(&cfg),
            [
                "risk.partial_exit_pct",
                "risk.trail_activate_pct",
                "risk.trail_pct",
                "risk.trail_atr",
                "risk.time_stop.volume_scalper",
                "risk.exit_retry_ms",
                "risk.exit_retry_max_ms",
                "risk.exit_max_attempts",
                "risk.emergency.drop_pct",
                "risk.emergency.window_minutes",
                "risk.emergency.index",
                "risk.time_stop.scalpr",
            ]
        );
    }
}
