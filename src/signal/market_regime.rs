//! The market regime across the signal stage: one tracker every strategy reads, and the
//! gate that enables and weights strategies per regime.
//!
//! The stage owns a [`MarketRegime`] when `[strategy.regime_adaptive]` is enabled. On
//! every closed index bar the [`RegimeTracker`] moves the regime model's filter on,
//! before any strategy sees the bar; strategies read it through
//! [`StrategyContext::regime`](super::StrategyContext::regime), and the [`RegimeGate`]
//! passes, refuses or weights each strategy's entries by the regime before the
//! orchestration filters run.
//!
//! | item | file | what |
//! | --- | --- | --- |
//! | [`RegimeTracker`] | `market_regime/tracker.rs` | the filtered posterior over regimes, the most likely one and its probability |
//! | [`RegimeGate`] | `market_regime/gate.rs` | per strategy: regimes its entries are allowed in, and its weight in each |
//! | [`build_market_regime`] | here | both, from the configuration |

mod gate;
mod tracker;

use std::path::Path;

pub use gate::RegimeGate;
pub use tracker::RegimeTracker;

use super::{
    regime::{GaussianHmm, HmmParams},
    strategy::{first_index, RegimeAdaptiveConfig},
    SignalConfig,
};
use crate::{config::ConfigIssue, model::InstrumentTable};

/// The regime state of the signal stage: the tracker and the gate built on it.
#[derive(Debug, Clone)]
pub struct MarketRegime {
    /// The regime now.
    pub tracker: RegimeTracker,
    /// What each strategy may do in it.
    pub gate: RegimeGate,
}

/// The stage's regime state for `config`, when `regime_adaptive` is enabled (`None`
/// otherwise: no tracker, and every strategy ungated), gating the running strategies
/// `names` (indexed by [`StrategyId`](crate::model::StrategyId)).
///
/// Reads the model file, if one is configured.
///
/// # Errors
/// Keyed under `strategy.regime_adaptive`: a model file that cannot be read or is not
/// a valid model, a model whose size differs from the number of `states` labels, and a
/// table without an index.
pub fn build_market_regime(
    config: &SignalConfig,
    instruments: &InstrumentTable,
    names: &[&str],
) -> Result<Option<MarketRegime>, Vec<ConfigIssue>> {
    let section = &config.regime_adaptive;
    if !section.enabled {
        return Ok(None);
    }
    let prefix = format!("{}.regime_adaptive", SignalConfig::SECTION);
    let model = load_model(section, &prefix)?;
    let mut issues = Vec::new();
    if model.n_states() != section.states.len() {
        issues.push(ConfigIssue::new(
            format!("{prefix}.states"),
            format!(
                "has {} labels, but the model has {} states: label every state, in order",
                section.states.len(),
                model.n_states()
            ),
        ));
    }
    let index = first_index(instruments);
    if index.is_none() {
        issues.push(ConfigIssue::new(
            prefix,
            "the instrument table has no index to read regimes from",
        ));
    }
    let (Some(index), true) = (index, issues.is_empty()) else {
        return Err(issues);
    };
    Ok(Some(MarketRegime {
        tracker: RegimeTracker::new(&model, section.states.clone(), index, section.bar_secs),
        gate: RegimeGate::new(names, &section.states, &section.allow, &section.weight),
    }))
}

/// The model of `model_file`, or the inline one.
pub(crate) fn load_model(
    config: &RegimeAdaptiveConfig,
    prefix: &str,
) -> Result<GaussianHmm, Vec<ConfigIssue>> {
    let Some(path) = &config.model_file else {
        return GaussianHmm::new(config.model.clone()).map_err(|e| {
            e.problems()
                .iter()
                .map(|p| ConfigIssue::new(format!("{prefix}.model"), p.clone()))
                .collect()
        });
    };
    read_model_file(path)
        .map_err(|reason| vec![ConfigIssue::new(format!("{prefix}.model_file"), reason)])
}

/// Parses and validates a model file (hmmlearn's names, unknown keys refused).
fn read_model_file(path: &Path) -> Result<GaussianHmm, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let params: HmmParams = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{name}: not a model file ({e}); expected \
             {{\"startprob\":[…],\"transmat\":[[…]],\"means\":[…],\"variances\":[…]}}"
        )
    })?;
    GaussianHmm::new(params).map_err(|e| format!("{name}: invalid model: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::test_support::table;

    fn enabled() -> SignalConfig {
        let mut config = crate::signal::test_support::sma_cross_only();
        config.regime_adaptive.enabled = true;
        config
    }

    fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tickpipe-market-regime-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn nothing_unless_the_strategy_is_enabled() {
        let built = build_market_regime(
            &crate::signal::test_support::sma_cross_only(),
            &table(),
            &["sma_cross"],
        );
        assert!(built.unwrap().is_none());
    }

    #[test]
    fn tracks_the_first_index_with_the_inline_model_and_gates_by_name() {
        let regime = build_market_regime(&enabled(), &table(), &["sma_cross", "regime_adaptive"])
            .unwrap()
            .unwrap();
        assert_eq!(regime.tracker.index(), crate::model::InstrumentId(2));
        assert_eq!(regime.tracker.bar_secs(), 60);
        assert_eq!(
            regime.tracker.labels(),
            RegimeAdaptiveConfig::default().states
        );
        assert!(
            !regime.gate.is_open(),
            "the default allow row gates sma_cross"
        );
    }

    #[test]
    fn reads_a_model_file_and_checks_its_size_against_the_labels() {
        let mut config = enabled();
        config.regime_adaptive.model_file = Some(temp_file(
            "two.json",
            r#"{"startprob":[0.5,0.5],"transmat":[[0.9,0.1],[0.1,0.9]],"means":[0.0,0.0],"variances":[1e-8,1e-6]}"#,
        ));
        let issues = build_market_regime(&config, &table(), &[]).unwrap_err();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].key, "strategy.regime_adaptive.states");
        assert!(issues[0]
            .reason
            .contains("4 labels, but the model has 2 states"));
        config.regime_adaptive.states = vec!["calm".into(), "stormy".into()];
        let regime = build_market_regime(&config, &table(), &[])
            .unwrap()
            .unwrap();
        assert_eq!(regime.tracker.n_states(), 2);

        config.regime_adaptive.model_file = Some(temp_file("bad.json", r#"{"startprob":[1.5]}"#));
        let issues = build_market_regime(&config, &table(), &[]).unwrap_err();
        assert_eq!(issues[0].key, "strategy.regime_adaptive.model_file");
        assert!(
            issues[0].reason.contains("not a model file"),
            "{}",
            issues[0]
        );
        config.regime_adaptive.model_file = Some("no/such/model.json".into());
        let issues = build_market_regime(&config, &table(), &[]).unwrap_err();
        assert!(issues[0].reason.contains("cannot read"), "{}", issues[0]);
    }

    #[test]
    fn a_table_without_an_index_is_an_issue() {
        let mut t = InstrumentTable::new();
        t.push(crate::model::Instrument::nse_equity(
            "SBIN",
            crate::model::SectorId(0),
        ))
        .unwrap();
        let issues = build_market_regime(&enabled(), &t, &[]).unwrap_err();
        assert_eq!(issues[0].key, "strategy.regime_adaptive");
    }
}
