//! The `[strategy.regime_adaptive]` section: the regime model, the gate over the other
//! strategies, and the strategy's own index-ETF trading.

use std::{collections::BTreeMap, path::PathBuf};

use serde::Deserialize;

use crate::{
    config::ConfigIssue,
    model::TimeOfDay,
    signal::regime::{GaussianHmm, HmmParams},
};

/// Largest protective stop accepted, in percent of the entry price.
const MAX_STOP_PCT: f64 = 20.0;
/// Most bars an entry may wait for confirmation (a session of one-minute bars is 375).
const MAX_CONFIRM_BARS: u32 = 1000;

/// Settings of the regime model, the regime gate and the `regime_adaptive` strategy,
/// `[strategy.regime_adaptive]`.
///
/// The model is the hmmlearn-named Gaussian HMM of `model_file`, or the inline
/// `[strategy.regime_adaptive.model]`; `states` labels its states in order. The
/// `allow` and `weight` tables name other strategies and the regimes (labels) where
/// they may enter and the share of the risk budget they get there.
///
/// ```toml
/// [strategy.regime_adaptive]
/// enabled = true
/// states = ["range", "trend_up", "trend_down", "high_volatility"]
/// long_regimes = ["trend_up"]
/// [strategy.regime_adaptive.allow]
/// sma_cross = ["trend_up", "range"]
/// [strategy.regime_adaptive.weight]
/// sma_cross = { range = 50 }
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegimeAdaptiveConfig {
    /// Run the strategy, and with it the regime tracker and the gate.
    pub enabled: bool,
    /// The instrument it trades: the index ETF.
    pub symbol: String,
    /// Length of the index bars whose returns the model reads, in seconds; divides 3600.
    pub bar_secs: u32,
    /// A model file (JSON with hmmlearn's names, as `tickpipe regime --model` reads);
    /// unset: the inline `model`.
    pub model_file: Option<PathBuf>,
    /// The inline model, used when `model_file` is unset.
    pub model: HmmParams,
    /// A label per state of the model, in state order (`trend_up`, `range`, …).
    pub states: Vec<String>,
    /// Regimes in which the strategy holds the ETF long.
    pub long_regimes: Vec<String>,
    /// Regimes in which it holds the ETF short (with `allow_short`).
    pub short_regimes: Vec<String>,
    /// Go short in `short_regimes` (true) or stay flat there (false).
    pub allow_short: bool,
    /// Probability the most likely regime needs, on each of `confirm_bars` bars in a
    /// row, for an entry; in (0, 1].
    pub enter_prob: f64,
    /// A position is held while its regime stays the most likely with at least this
    /// probability; in [0, enter_prob].
    pub exit_prob: f64,
    /// Bars in a row the entry condition must hold before the entry.
    pub confirm_bars: u32,
    /// Protective stop distance in percent of the entry price, in (0, 20], at most two
    /// decimals.
    pub stop_pct: f64,
    /// No entry before this IST time of day (`HH:MM`).
    pub first_entry: String,
    /// No entry at or after this IST time of day (`HH:MM`).
    pub last_entry: String,
    /// Per strategy name, the regimes where its entries are allowed; strategies not
    /// listed are not gated.
    pub allow: BTreeMap<String, Vec<String>>,
    /// Per strategy name, its weight (percent of the risk budget, 1–100) in each
    /// regime; regimes not listed, and strategies not listed, get 100.
    pub weight: BTreeMap<String, BTreeMap<String, u8>>,
}

impl Default for RegimeAdaptiveConfig {
    fn default() -> Self {
        RegimeAdaptiveConfig {
            enabled: true,
            symbol: "NIFTYBEES".to_owned(),
            bar_secs: 60,
            model_file: None,
            model: default_model(),
            states: labels(&["range", "trend_up", "trend_down", "high_volatility"]),
            long_regimes: labels(&["trend_up"]),
            short_regimes: labels(&["trend_down"]),
            allow_short: true,
            enter_prob: 0.6,
            exit_prob: 0.5,
            confirm_bars: 3,
            stop_pct: 1.0,
            first_entry: "09:30".to_owned(),
            last_entry: "14:45".to_owned(),
            allow: BTreeMap::from([
                ("sma_cross".to_owned(), labels(&["trend_up", "range"])),
                (
                    "volume_scalper".to_owned(),
                    labels(&["range", "high_volatility"]),
                ),
            ]),
            weight: BTreeMap::from([(
                "sma_cross".to_owned(),
                BTreeMap::from([("range".to_owned(), 50)]),
            )]),
        }
    }
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|&n| n.to_owned()).collect()
}

/// The shipped model: four states fitted by Baum–Welch (`tickpipe regime --fit 300`)
/// to the log returns of the NIFTY 50's one-minute bars on the synthetic days of seeds
/// 1 to 20 (7 480 returns; each day's first bar measured from its open), then rounded
/// (transitions to four decimals and floored at 0.001, so no switch is impossible) with
/// a uniform start, since a series fitted as one run says nothing about π.
///
/// By mean and volatility per minute the states read as: 0 range (−0.0006 %, 0.028 %),
/// 1 trend up (+0.0060 %, 0.038 %), 2 trend down (−0.0061 %, 0.050 %), 3 high volatility
/// (−0.0007 %, 0.089 %). On the days of seeds 21 to 40 the filter's most likely state
/// was the generator's regime on 58 % (range), 50 % (trend up), 68 % (trend down) and
/// 67 % (high volatility) of the bars.
fn default_model() -> HmmParams {
    HmmParams {
        startprob: vec![0.25, 0.25, 0.25, 0.25],
        transmat: vec![
            vec![0.9653, 0.0128, 0.0131, 0.0088],
            vec![0.0130, 0.9685, 0.0175, 0.0010],
            vec![0.0126, 0.0063, 0.9616, 0.0195],
            vec![0.0076, 0.0190, 0.0445, 0.9289],
        ],
        means: vec![-6.443e-6, 6.010e-5, -6.071e-5, -7.389e-6],
        variances: vec![7.6976e-8, 1.4445e-7, 2.5445e-7, 7.8987e-7],
    }
}

impl RegimeAdaptiveConfig {
    /// Pushes one issue per invalid key, each keyed `{prefix}.key`; `strategies` are the
    /// names the `allow` and `weight` tables may use (every strategy the engine knows).
    ///
    /// The model file is read, and its size checked against `states`, when the tracker
    /// is built ([`build_market_regime`](crate::signal::market_regime::build_market_regime)).
    pub fn validate(&self, prefix: &str, strategies: &[&str], issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        if self.symbol.trim().is_empty() {
            issue(
                "symbol",
                "is empty, must be the trading symbol of the index ETF".into(),
            );
        }
        if let Some(reason) = super::super::checks::bar_secs(self.bar_secs) {
            issue("bar_secs", reason);
        }
        match &self.model_file {
            Some(path) if path.as_os_str().is_empty() => {
                issue(
                    "model_file",
                    "is empty: name a model file, or leave it unset for the inline model".into(),
                );
            }
            Some(_) => {}
            None => match GaussianHmm::new(self.model.clone()) {
                Err(e) => {
                    for problem in e.problems() {
                        issue("model", problem.clone());
                    }
                }
                Ok(model) if model.n_states() != self.states.len() => issue(
                    "states",
                    format!(
                        "has {} labels, but the model has {} states: label every state, in order",
                        self.states.len(),
                        model.n_states()
                    ),
                ),
                Ok(_) => {}
            },
        }
        for (i, label) in self.states.iter().enumerate() {
            if label.trim().is_empty() {
                issue("states", format!("label {} is empty", i + 1));
            } else if self.states[..i].contains(label) {
                issue("states", format!("{label} is listed twice"));
            }
        }
        let known = |label: &String| self.states.contains(label);
        for (key, listed) in [
            ("long_regimes", &self.long_regimes),
            ("short_regimes", &self.short_regimes),
        ] {
            for label in listed.iter().filter(|l| !known(l)) {
                issue(
                    key,
                    format!("{label} is not one of the states {:?}", self.states),
                );
            }
        }
        for label in self
            .long_regimes
            .iter()
            .filter(|l| self.short_regimes.contains(l))
        {
            issue(
                "short_regimes",
                format!("{label} is also in long_regimes: a regime means one direction"),
            );
        }
        let shorts = self.allow_short && !self.short_regimes.is_empty();
        if self.long_regimes.is_empty() && !shorts {
            issue(
                "long_regimes",
                "is empty and no short regime is allowed: the strategy would never trade".into(),
            );
        }
        if !(self.enter_prob > 0.0 && self.enter_prob <= 1.0) {
            issue(
                "enter_prob",
                format!("is {}, must be above 0 and at most 1", self.enter_prob),
            );
        }
        if !(self.exit_prob >= 0.0 && self.exit_prob <= self.enter_prob.min(1.0)) {
            issue(
                "exit_prob",
                format!(
                    "is {}, must be from 0 to enter_prob ({})",
                    self.exit_prob, self.enter_prob
                ),
            );
        }
        if !(1..=MAX_CONFIRM_BARS).contains(&self.confirm_bars) {
            issue(
                "confirm_bars",
                format!(
                    "is {}, must be from 1 to {MAX_CONFIRM_BARS} bars",
                    self.confirm_bars
                ),
            );
        }
        if !(self.stop_pct > 0.0 && self.stop_pct <= MAX_STOP_PCT) {
            issue(
                "stop_pct",
                format!(
                    "is {}, must be above 0 and at most {MAX_STOP_PCT} (percent)",
                    self.stop_pct
                ),
            );
        } else if (self.stop_pct * 100.0 - (self.stop_pct * 100.0).round()).abs() > 1e-6 {
            issue(
                "stop_pct",
                format!(
                    "is {}, must have at most two decimals (hundredths of a percent)",
                    self.stop_pct
                ),
            );
        }
        let first = TimeOfDay::parse(&self.first_entry);
        let last = TimeOfDay::parse(&self.last_entry);
        for (key, text, parsed) in [
            ("first_entry", &self.first_entry, first),
            ("last_entry", &self.last_entry, last),
        ] {
            if parsed.is_none() {
                issue(
                    key,
                    format!("{text:?} is not a time of day; write \"HH:MM\" (IST)"),
                );
            }
        }
        if let (Some(first), Some(last)) = (first, last) {
            if first >= last {
                issue(
                    "first_entry",
                    format!("is {first}, must be before last_entry ({last})"),
                );
            }
        }
        for (name, listed) in &self.allow {
            if !strategies.contains(&name.as_str()) {
                issue(
                    &format!("allow.{name}"),
                    format!("{name} is not a strategy; known: {}", strategies.join(", ")),
                );
            }
            for label in listed.iter().filter(|l| !known(l)) {
                issue(
                    &format!("allow.{name}"),
                    format!("{label} is not one of the states {:?}", self.states),
                );
            }
        }
        for (name, row) in &self.weight {
            if !strategies.contains(&name.as_str()) {
                issue(
                    &format!("weight.{name}"),
                    format!("{name} is not a strategy; known: {}", strategies.join(", ")),
                );
            }
            for (label, &pct) in row {
                if !known(label) {
                    issue(
                        &format!("weight.{name}.{label}"),
                        format!("{label} is not one of the states {:?}", self.states),
                    );
                } else if !(1..=100).contains(&pct) {
                    issue(
                        &format!("weight.{name}.{label}"),
                        format!("is {pct}, must be from 1 to 100 (percent of the risk budget)"),
                    );
                }
            }
        }
    }

    /// The stop distance in hundredths of a percent (1.0 % → 100). Meaningful once
    /// [`RegimeAdaptiveConfig::validate`] passed.
    pub fn stop_bps(&self) -> u32 {
        (self.stop_pct * 100.0).round() as u32
    }

    /// The entry window `[first_entry, last_entry)`. Meaningful once
    /// [`RegimeAdaptiveConfig::validate`] passed.
    pub fn entry_window(&self) -> (TimeOfDay, TimeOfDay) {
        let parse = |text: &str| TimeOfDay::parse(text).unwrap_or(TimeOfDay::hm(0, 0));
        (parse(&self.first_entry), parse(&self.last_entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["sma_cross", "volume_scalper", "regime_adaptive"];

    fn issues_of(config: &RegimeAdaptiveConfig) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        config.validate("strategy.regime_adaptive", KNOWN, &mut issues);
        issues
    }

    fn keys(issues: &[ConfigIssue]) -> Vec<&str> {
        issues.iter().map(|i| i.key.as_str()).collect()
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let config = RegimeAdaptiveConfig::default();
        assert_eq!(issues_of(&config), []);
        assert!(config.enabled, "on, as in config/default.toml");
        assert_eq!((config.symbol.as_str(), config.bar_secs), ("NIFTYBEES", 60));
        assert_eq!(config.states.len(), config.model.startprob.len());
        assert_eq!(config.stop_bps(), 100);
        assert_eq!(
            config.entry_window(),
            (TimeOfDay::hm(9, 30), TimeOfDay::hm(14, 45))
        );
    }

    #[test]
    fn the_shipped_configuration_file_shows_the_defaults() {
        // A file that leaves the section out gets what the shipped file shows.
        let shipped = crate::engine::EngineConfig::embedded_default()
            .strategy
            .regime_adaptive;
        assert!(shipped.enabled);
        assert!(shipped.allow.contains_key("volume_scalper"));
        assert_eq!(shipped, RegimeAdaptiveConfig::default());
    }

    #[test]
    fn reads_the_tables_from_toml_and_rejects_unknown_keys() {
        let config: RegimeAdaptiveConfig = toml::from_str(
            r#"
            enabled = true
            states = ["a", "b"]
            long_regimes = ["a"]
            short_regimes = []
            [model]
            startprob = [0.5, 0.5]
            transmat = [[0.9, 0.1], [0.2, 0.8]]
            means = [0.001, -0.001]
            variances = [1e-6, 4e-6]
            [allow]
            sma_cross = ["a"]
            [weight]
            sma_cross = { a = 40 }
            "#,
        )
        .unwrap();
        assert_eq!(issues_of(&config), []);
        assert_eq!(config.weight["sma_cross"]["a"], 40);
        assert_eq!(config.allow["sma_cross"], ["a"]);
        let err = toml::from_str::<RegimeAdaptiveConfig>("enter_probability = 0.9").unwrap_err();
        assert!(err.to_string().contains("enter_probability"), "{err}");
        let err = toml::from_str::<RegimeAdaptiveConfig>("[model]\nmeans = [0.0]\n").unwrap_err();
        assert!(
            err.to_string().contains("startprob"),
            "a partial model: {err}"
        );
    }

    #[test]
    fn unknown_strategy_names_and_labels_in_the_tables_are_issues() {
        let mut config = RegimeAdaptiveConfig::default();
        config
            .allow
            .insert("volume_scalpr".into(), vec!["range".into(), "calm".into()]);
        config.weight.insert(
            "sma_cross".into(),
            BTreeMap::from([
                ("range".into(), 0),
                ("sideways".into(), 50),
                ("trend_up".into(), 100),
            ]),
        );
        config.weight.insert("nope".into(), BTreeMap::new());
        let issues = issues_of(&config);
        assert_eq!(
            keys(&issues),
            [
                "strategy.regime_adaptive.allow.volume_scalpr",
                "strategy.regime_adaptive.allow.volume_scalpr",
                "strategy.regime_adaptive.weight.nope",
                "strategy.regime_adaptive.weight.sma_cross.range",
                "strategy.regime_adaptive.weight.sma_cross.sideways",
            ]
        );
        assert!(
            issues[0]
                .reason
                .contains("known: sma_cross, volume_scalper, regime_adaptive"),
            "{}",
            issues[0]
        );
        assert!(issues[1]
            .reason
            .starts_with("calm is not one of the states"));
        assert!(issues[3].reason.contains("from 1 to 100"));
    }

    #[test]
    fn labels_must_match_the_model_and_be_distinct() {
        let mut config = RegimeAdaptiveConfig {
            states: labels(&["range", "trend_up", "range"]),
            // Gate rows that name only these labels, so the states alone are at issue.
            allow: BTreeMap::from([("sma_cross".into(), labels(&["trend_up", "range"]))]),
            ..RegimeAdaptiveConfig::default()
        };
        let issues = issues_of(&config);
        assert_eq!(
            keys(&issues),
            [
                "strategy.regime_adaptive.states",
                "strategy.regime_adaptive.states",
                "strategy.regime_adaptive.short_regimes",
            ]
        );
        assert!(issues[0]
            .reason
            .contains("3 labels, but the model has 4 states"));
        assert!(issues[1].reason.contains("range is listed twice"));
        // With a model file the count is checked when the file is read.
        config.model_file = Some("models/day.json".into());
        config.states = labels(&["range", "trend_up", "trend_down"]);
        assert_eq!(issues_of(&config), []);
        config.model_file = Some(PathBuf::new());
        assert_eq!(
            keys(&issues_of(&config)),
            ["strategy.regime_adaptive.model_file"]
        );
    }

    #[test]
    fn an_invalid_inline_model_names_each_problem() {
        let mut config = RegimeAdaptiveConfig::default();
        config.model.transmat[0] = vec![0.5, 0.5, 0.5, 0.5];
        config.model.variances[3] = -1.0;
        let issues = issues_of(&config);
        assert_eq!(
            keys(&issues),
            [
                "strategy.regime_adaptive.model",
                "strategy.regime_adaptive.model"
            ]
        );
        assert!(
            issues[0].reason.contains("transmat[0] sums to 2"),
            "{}",
            issues[0]
        );
        assert!(issues[1].reason.contains("variances[3]"), "{}", issues[1]);
    }

    #[test]
    fn probabilities_windows_and_stops_are_checked() {
        let base = RegimeAdaptiveConfig::default();
        for (enter, exit, bad) in [
            (0.0, 0.0, vec!["enter_prob"]),
            (1.2, 0.5, vec!["enter_prob"]),
            (f64::NAN, 0.5, vec!["enter_prob"]),
            (0.7, 0.8, vec!["exit_prob"]),
            (0.7, -0.1, vec!["exit_prob"]),
            (1.0, 1.0, vec![]),
            (0.6, 0.0, vec![]),
        ] {
            let config = RegimeAdaptiveConfig {
                enter_prob: enter,
                exit_prob: exit,
                ..base.clone()
            };
            let found: Vec<String> = issues_of(&config)
                .into_iter()
                .map(|i| {
                    i.key
                        .trim_start_matches("strategy.regime_adaptive.")
                        .to_owned()
                })
                .collect();
            assert_eq!(found, bad, "enter {enter}, exit {exit}");
        }
        let config = RegimeAdaptiveConfig {
            first_entry: "14:45".into(),
            last_entry: "9:30".into(),
            confirm_bars: 0,
            stop_pct: 1.005,
            bar_secs: 7,
            symbol: " ".into(),
            ..base.clone()
        };
        assert_eq!(
            keys(&issues_of(&config)),
            [
                "strategy.regime_adaptive.symbol",
                "strategy.regime_adaptive.bar_secs",
                "strategy.regime_adaptive.confirm_bars",
                "strategy.regime_adaptive.stop_pct",
                "strategy.regime_adaptive.first_entry",
            ]
        );
        let config = RegimeAdaptiveConfig {
            last_entry: "25:00".into(),
            long_regimes: vec![],
            allow_short: false,
            ..base.clone()
        };
        assert_eq!(
            keys(&issues_of(&config)),
            [
                "strategy.regime_adaptive.long_regimes",
                "strategy.regime_adaptive.last_entry"
            ]
        );
        // Shorts alone are a strategy too.
        let config = RegimeAdaptiveConfig {
            long_regimes: vec![],
            allow_short: true,
            ..base
        };
        assert_eq!(issues_of(&config), []);
    }
}
