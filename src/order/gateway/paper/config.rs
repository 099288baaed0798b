//! The `[paper]` section: how the paper exchange answers, which exchange rules it
//! enforces, and which faults it injects.
//!
//! Every default leaves the paper exchange answering at once and in full, as it did
//! before latency and depth were modelled, so the default day does not change.

use serde::Deserialize;

use crate::{
    config::{decimal, ConfigIssue},
    model::{Money, TimeOfDay},
};

/// How a latency is drawn around its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyModel {
    /// Exactly the base latency.
    #[default]
    Fixed,
    /// The base plus a uniform draw from 0 to `jitter_ms`.
    Uniform,
    /// The base plus `jitter_ms` times a lognormal draw (median 1, σ 0.5, capped at
    /// 20): mostly near the median with the occasional long tail a broker shows.
    Lognormal,
}

/// `[paper.latency]`: market time from sending an order to the venue's answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyConfig {
    /// How latencies are drawn (`fixed`, `uniform`, `lognormal`).
    pub model: LatencyModel,
    /// Milliseconds from sending an order (or a modify or cancel) to the venue's answer
    /// (ack, modification, cancellation or refusal).
    pub ack_ms: u64,
    /// Milliseconds from sending an order until it can trade (never before its ack).
    pub fill_ms: u64,
    /// Spread of the random part (`uniform`, `lognormal`), milliseconds.
    pub jitter_ms: u64,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            model: LatencyModel::Fixed,
            ack_ms: 0,
            fill_ms: 0,
            jitter_ms: 0,
        }
    }
}

/// `[paper.rules]`: the exchange's (and broker's) rules the paper exchange enforces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Price band of equities (and ETFs), percent either side of the day's reference
    /// price (the first trade or quote seen); 0 = none.
    #[serde(deserialize_with = "decimal")]
    pub equity_band_pct: Money,
    /// Price band of futures, percent; 0 = none (NSE's F&O bands are dynamic).
    #[serde(deserialize_with = "decimal")]
    pub future_band_pct: Money,
    /// Price band of options, percent; 0 = none.
    #[serde(deserialize_with = "decimal")]
    pub option_band_pct: Money,
    /// Refuse orders above the instrument's freeze quantity (`freeze_qty`), as the
    /// exchange does. On by default: the order stage slices intents at the freeze
    /// quantity, so a refusal here shows an order that escaped slicing.
    pub freeze_qty: bool,
    /// Modifications one order may have (Kite: 25); further ones are refused.
    pub max_modifications: u32,
    /// Orders the venue accepts per second of market time; 0 = no limit (Kite: 10).
    pub orders_per_sec: u32,
    /// Cancel working MIS orders at the broker's square-off times below.
    pub mis_square_off: bool,
    /// IST time the broker cancels working MIS equity orders.
    pub equity_square_off: String,
    /// IST time the broker cancels working MIS futures and options orders.
    pub fno_square_off: String,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            equity_band_pct: Money::from_rupees(20),
            future_band_pct: Money::ZERO,
            option_band_pct: Money::ZERO,
            freeze_qty: true,
            max_modifications: 25,
            orders_per_sec: 0,
            mis_square_off: true,
            equity_square_off: "15:20".to_owned(),
            fno_square_off: "15:25".to_owned(),
        }
    }
}

/// `[paper.faults]`: failures injected on purpose, for tests and drills. Every rate is a
/// probability from 0 to 1, drawn from the seeded generator, so a drill repeats.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultConfig {
    /// Share of orders refused on arrival with a retriable reason (`network` or
    /// `rate_limited`, drawn evenly).
    pub reject_rate: f64,
    /// Share of orders the venue does not answer in time.
    pub timeout_rate: f64,
    /// How late a timed-out order is answered, milliseconds; 0 = never, until the
    /// session ends (then it expires).
    pub timeout_ms: u64,
    /// Share of fills reported twice (the same trade id).
    pub duplicate_rate: f64,
    /// Share of orders whose ack is reported after their first fill.
    pub reorder_rate: f64,
    /// IST time a disconnection starts (`"HH:MM"` or `"HH:MM:SS"`); empty = none.
    pub disconnect_at: String,
    /// How long the disconnection lasts, seconds: every order, modify and cancel sent
    /// in that window is refused with `network`.
    pub disconnect_secs: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            reject_rate: 0.0,
            timeout_rate: 0.0,
            timeout_ms: 0,
            duplicate_rate: 0.0,
            reorder_rate: 0.0,
            disconnect_at: String::new(),
            disconnect_secs: 0,
        }
    }
}

/// The paper exchange's configuration, section `[paper]`.
///
/// # Examples
/// ```
/// use tickpipe::order::PaperConfig;
/// let cfg: PaperConfig = toml::from_str("partial_fills = true\n[latency]\nack_ms = 200\nfill_ms = 300\n").unwrap();
/// assert_eq!(cfg.latency.fill_ms, 300);
/// let mut issues = Vec::new();
/// cfg.validate("paper", &mut issues);
/// assert!(issues.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Seed of the latency draws and the faults: same seed, same answers.
    pub seed: u64,
    /// Fill no more than the quantity the quote displays at the touch (the rest on later
    /// quotes); `false` fills every marketable order in full at the touch.
    pub partial_fills: bool,
    /// Answers that may wait for their due time at once (preallocated).
    pub pending_capacity: usize,
    /// Orders the paper exchange works at once (preallocated).
    pub max_orders: usize,
    /// `[paper.latency]`.
    pub latency: LatencyConfig,
    /// `[paper.rules]`.
    pub rules: RulesConfig,
    /// `[paper.faults]`.
    pub faults: FaultConfig,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            seed: 1,
            partial_fills: false,
            pending_capacity: 4096,
            max_orders: 4096,
            latency: LatencyConfig::default(),
            rules: RulesConfig::default(),
            faults: FaultConfig::default(),
        }
    }
}

/// Largest preallocated capacity accepted (a typo should not reserve gigabytes).
const MAX_CAPACITY: usize = 1 << 20;

/// Longest latency accepted, milliseconds (one trading day).
const MAX_LATENCY_MS: u64 = 24 * 3600 * 1000;

impl PaperConfig {
    /// Checks every key, naming each bad one under `prefix`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        for (key, value) in [
            ("pending_capacity", self.pending_capacity),
            ("max_orders", self.max_orders),
        ] {
            if value == 0 || value > MAX_CAPACITY {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {value}, must be from 1 to {MAX_CAPACITY}"),
                ));
            }
        }
        let l = &self.latency;
        for (key, value) in [
            ("ack_ms", l.ack_ms),
            ("fill_ms", l.fill_ms),
            ("jitter_ms", l.jitter_ms),
        ] {
            if value > MAX_LATENCY_MS {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.latency.{key}"),
                    format!("is {value}, must be at most {MAX_LATENCY_MS} (one day)"),
                ));
            }
        }
        if l.model == LatencyModel::Fixed && l.jitter_ms > 0 {
            issues.push(ConfigIssue::new(
                format!("{prefix}.latency.jitter_ms"),
                "has no effect with model = \"fixed\"; choose \"uniform\" or \"lognormal\"",
            ));
        }
        let r = &self.rules;
        for (key, value) in [
            ("equity_band_pct", r.equity_band_pct),
            ("future_band_pct", r.future_band_pct),
            ("option_band_pct", r.option_band_pct),
        ] {
            if value < Money::ZERO || value > Money::from_rupees(100) {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.rules.{key}"),
                    format!("is {value}, must be from 0 to 100 (percent; 0 = no band)"),
                ));
            }
        }
        for (key, value) in [
            ("equity_square_off", &r.equity_square_off),
            ("fno_square_off", &r.fno_square_off),
        ] {
            if TimeOfDay::parse(value).is_none() {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.rules.{key}"),
                    format!("`{value}` is not a time; write HH:MM (IST)"),
                ));
            }
        }
        let f = &self.faults;
        for (key, value) in [
            ("reject_rate", f.reject_rate),
            ("timeout_rate", f.timeout_rate),
            ("duplicate_rate", f.duplicate_rate),
            ("reorder_rate", f.reorder_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.faults.{key}"),
                    format!("is {value}, must be a probability from 0 to 1"),
                ));
            }
        }
        if f.timeout_ms > MAX_LATENCY_MS {
            issues.push(ConfigIssue::new(
                format!("{prefix}.faults.timeout_ms"),
                format!("is {}, must be at most {MAX_LATENCY_MS}", f.timeout_ms),
            ));
        }
        if !f.disconnect_at.is_empty() && TimeOfDay::parse(&f.disconnect_at).is_none() {
            issues.push(ConfigIssue::new(
                format!("{prefix}.faults.disconnect_at"),
                format!(
                    "`{}` is not a time; write HH:MM (IST), or leave it empty",
                    f.disconnect_at
                ),
            ));
        }
        if f.disconnect_at.is_empty() && f.disconnect_secs > 0 {
            issues.push(ConfigIssue::new(
                format!("{prefix}.faults.disconnect_secs"),
                "is set but disconnect_at is empty; name when the disconnection starts",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_answer_at_once() {
        let c = PaperConfig::default();
        let mut issues = Vec::new();
        c.validate("paper", &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!((c.latency.ack_ms, c.latency.fill_ms), (0, 0));
        assert!(!c.partial_fills);
    }

    #[test]
    fn every_bad_key_is_named() {
        let c: PaperConfig = toml::from_str(
            "max_orders = 0\n[latency]\njitter_ms = 5\n[rules]\nequity_band_pct = 120\nfno_square_off = \"25:99\"\n[faults]\nreject_rate = 1.5\ndisconnect_secs = 3\n",
        )
        .unwrap();
        let mut issues = Vec::new();
        c.validate("paper", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "paper.max_orders",
                "paper.latency.jitter_ms",
                "paper.rules.equity_band_pct",
                "paper.rules.fno_square_off",
                "paper.faults.reject_rate",
                "paper.faults.disconnect_secs",
            ]
        );
        assert!(toml::from_str::<PaperConfig>("[latency]\nack = 1\n").is_err());
        let exact: PaperConfig = toml::from_str("[rules]\nequity_band_pct = \"9.95\"\n").unwrap();
        assert_eq!(exact.rules.equity_band_pct, "9.95".parse().unwrap());
    }
}
