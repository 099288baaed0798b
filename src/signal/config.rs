//! The `[strategy]` table: one section per strategy.

use serde::Deserialize;

use super::{
    allocation::AllocationConfig, registry, MomentumSurferConfig, NewsImpactScalperConfig,
    RegimeAdaptiveConfig, SmaCrossConfig, VolumeScalperConfig,
};
use crate::config::ConfigIssue;

/// Bar length used when no enabled strategy asks for one.
const DEFAULT_BAR_SECS: u32 = 60;

/// The signal stage's configuration: the `[strategy.*]` sections.
///
/// ```toml
/// [strategy.sma_cross]
/// fast = 5
/// slow = 20
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalConfig {
    /// `[strategy.sma_cross]`.
    pub sma_cross: SmaCrossConfig,
    /// `[strategy.momentum_surfer]`.
    pub momentum_surfer: MomentumSurferConfig,
    /// `[strategy.volume_scalper]`.
    pub volume_scalper: VolumeScalperConfig,
    /// `[strategy.news_impact_scalper]`.
    pub news_impact_scalper: NewsImpactScalperConfig,
    /// `[strategy.regime_adaptive]`: the regime model, the gate over the other
    /// strategies and the index-ETF strategy.
    pub regime_adaptive: RegimeAdaptiveConfig,
    /// Not a key of its own: set from `risk.partial_exit` when the engine is built.
    /// True when the risk stage books profit targets, so the strategies that have one
    /// pass it in their entry signals and no longer exit there themselves.
    #[serde(skip)]
    pub targets_to_risk: bool,
}

/// The `[signal]` table: settings of the signal stage itself rather than of one
/// strategy.
///
/// ```toml
/// [signal.allocation]
/// review_minutes = 30
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalSection {
    /// `[signal.allocation]`: reviews of each strategy's record, weights and shadow.
    pub allocation: AllocationConfig,
}

impl SignalSection {
    /// Pushes one issue per invalid key, each keyed `{prefix}.allocation.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        self.allocation
            .validate(&format!("{prefix}.allocation"), issues);
    }
}

impl SignalConfig {
    /// The TOML table this configuration is read from.
    pub const SECTION: &'static str = "strategy";

    /// Pushes one issue per invalid key of every section (enabled or not), each keyed
    /// `{prefix}.<strategy>.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        self.sma_cross
            .validate(&format!("{prefix}.sma_cross"), issues);
        self.momentum_surfer
            .validate(&format!("{prefix}.momentum_surfer"), issues);
        self.volume_scalper
            .validate(&format!("{prefix}.volume_scalper"), issues);
        self.news_impact_scalper
            .validate(&format!("{prefix}.news_impact_scalper"), issues);
        self.regime_adaptive.validate(
            &format!("{prefix}.regime_adaptive"),
            &registry::catalogue_names(),
            issues,
        );
    }

    /// The primary bar length, in seconds: the one the orchestration filters watch and
    /// the day's closes are read from (60; `sma_cross`'s when it runs, as before the
    /// other strategies existed).
    pub fn bar_secs(&self) -> u32 {
        if self.sma_cross.enabled {
            self.sma_cross.bar_secs
        } else {
            DEFAULT_BAR_SECS
        }
    }

    /// The bar lengths the stage builds for strategies that keep their own bar state,
    /// primary first ([`SignalConfig::bar_secs`]). Lengths of shared indicators are
    /// added from the [`IndicatorBank`](super::indicator::IndicatorBank). Pass it to
    /// [`SignalStage::new`](super::SignalStage::new).
    pub fn bar_lengths(&self) -> Vec<u32> {
        let mut lengths = vec![self.bar_secs()];
        // The regime tracker reads index bars of its own length.
        if self.regime_adaptive.enabled && !lengths.contains(&self.regime_adaptive.bar_secs) {
            lengths.push(self.regime_adaptive.bar_secs);
        }
        lengths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        strategy: SignalConfig,
    }

    #[test]
    fn reads_the_strategy_table() {
        let file: File = toml::from_str(
            "[strategy.sma_cross]\nenabled = true\nfast = 3\nslow = 9\nbar_secs = 300\n",
        )
        .unwrap();
        assert_eq!(file.strategy.sma_cross.fast, 3);
        assert_eq!(file.strategy.bar_secs(), 300);
        let file: File = toml::from_str("").unwrap();
        assert_eq!(file.strategy, SignalConfig::default());
        assert_eq!(file.strategy.bar_secs(), 60);
    }

    #[test]
    fn rejects_unknown_strategies_and_names_bad_keys() {
        let err = toml::from_str::<File>("[strategy.sma_crossing]\nfast = 3\n").unwrap_err();
        assert!(err.to_string().contains("sma_crossing"), "{err}");
        let file: File = toml::from_str("[strategy.sma_cross]\nslow = 0\n").unwrap();
        let mut issues = Vec::new();
        file.strategy.validate(SignalConfig::SECTION, &mut issues);
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["strategy.sma_cross.slow", "strategy.sma_cross.fast"]);
    }

    #[test]
    fn reads_and_validates_the_momentum_surfer_section() {
        let file: File =
            toml::from_str("[strategy.momentum_surfer]\nenabled = true\ntarget_atr = 1.0\n")
                .unwrap();
        assert!(file.strategy.momentum_surfer.enabled);
        let mut issues = Vec::new();
        file.strategy.validate(SignalConfig::SECTION, &mut issues);
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["strategy.momentum_surfer.stop_atr"]);
    }

    #[test]
    fn reads_and_validates_the_news_scalper_section() {
        let file: File = toml::from_str(
            "[strategy.news_impact_scalper]\nenabled = true\nstrike_offset = 1\nlast_entry = \"25:00\"\n",
        )
        .unwrap();
        let section = &file.strategy.news_impact_scalper;
        assert!(section.enabled);
        assert_eq!(section.strike_offset, 1);
        let mut issues = Vec::new();
        file.strategy.validate(SignalConfig::SECTION, &mut issues);
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["strategy.news_impact_scalper.last_entry"]);
    }

    #[test]
    fn the_regime_tracker_adds_its_bar_length_when_enabled() {
        let mut config = crate::signal::test_support::sma_cross_only();
        config.regime_adaptive.bar_secs = 300;
        assert_eq!(config.bar_lengths(), [60]);
        config.regime_adaptive.enabled = true;
        assert_eq!(config.bar_lengths(), [60, 300]);
        config.regime_adaptive.bar_secs = 60;
        assert_eq!(config.bar_lengths(), [60]);
    }

    #[test]
    fn the_gate_tables_name_strategies_of_the_catalogue() {
        let file: File = toml::from_str(
            "[strategy.regime_adaptive.allow]\nsma_cross = [\"range\"]\nmomentum_rider = [\"range\"]\n",
        )
        .unwrap();
        let mut issues = Vec::new();
        file.strategy.validate(SignalConfig::SECTION, &mut issues);
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["strategy.regime_adaptive.allow.momentum_rider"]);
        assert!(
            issues[0].reason.contains(
                "known: sma_cross, momentum_surfer, volume_scalper, news_impact_scalper, regime_adaptive"
            ),
            "{}",
            issues[0].reason
        );
    }

    #[test]
    fn a_disabled_strategy_leaves_the_default_bar_length() {
        let mut config = crate::signal::test_support::sma_cross_only();
        config.sma_cross.bar_secs = 15;
        assert_eq!(config.bar_secs(), 15);
        config.sma_cross.enabled = false;
        assert_eq!(config.bar_secs(), 60);
    }
}
