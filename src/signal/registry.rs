//! The strategies the engine knows, and the fixed order that numbers them.

use super::{
    indicator::IndicatorBank, MomentumSurfer, NewsImpactScalper, RegimeAdaptive, SignalConfig,
    SmaCross, Strategy, VolumeScalper,
};
use crate::{config::ConfigIssue, model::InstrumentTable};

/// Builds one strategy from its section, keying issues under the given prefix; the
/// strategy requests the indicators it reads from the bank.
type Build = fn(
    &SignalConfig,
    &InstrumentTable,
    &str,
    &mut IndicatorBank,
) -> Result<Box<dyn Strategy>, Vec<ConfigIssue>>;

/// One strategy the engine can run.
struct Entry {
    name: &'static str,
    enabled: fn(&SignalConfig) -> bool,
    set_enabled: fn(&mut SignalConfig, bool),
    build: Build,
}

/// Every strategy, in the order that assigns [`StrategyId`](crate::model::StrategyId)s
/// to the enabled ones. New strategies are appended, so existing ids stay stable.
const CATALOGUE: &[Entry] = &[
    Entry {
        name: SmaCross::NAME,
        enabled: |config| config.sma_cross.enabled,
        set_enabled: |config, on| config.sma_cross.enabled = on,
        build: |config, instruments, prefix, _indicators| {
            Ok(Box::new(SmaCross::new(
                &config.sma_cross,
                instruments,
                prefix,
            )?))
        },
    },
    Entry {
        name: MomentumSurfer::NAME,
        enabled: |config| config.momentum_surfer.enabled,
        set_enabled: |config, on| config.momentum_surfer.enabled = on,
        build: |config, instruments, prefix, indicators| {
            Ok(Box::new(
                MomentumSurfer::new(&config.momentum_surfer, instruments, prefix, indicators)?
                    .with_targets_to_risk(config.targets_to_risk),
            ))
        },
    },
    Entry {
        name: VolumeScalper::NAME,
        enabled: |config| config.volume_scalper.enabled,
        set_enabled: |config, on| config.volume_scalper.enabled = on,
        build: |config, instruments, prefix, indicators| {
            Ok(Box::new(
                VolumeScalper::new(&config.volume_scalper, instruments, prefix, indicators)?
                    .with_targets_to_risk(config.targets_to_risk),
            ))
        },
    },
    Entry {
        name: NewsImpactScalper::NAME,
        enabled: |config| config.news_impact_scalper.enabled,
        set_enabled: |config, on| config.news_impact_scalper.enabled = on,
        build: |config, instruments, prefix, _indicators| {
            Ok(Box::new(
                NewsImpactScalper::new(&config.news_impact_scalper, instruments, prefix)?
                    .with_targets_to_risk(config.targets_to_risk),
            ))
        },
    },
    Entry {
        name: RegimeAdaptive::NAME,
        enabled: |config| config.regime_adaptive.enabled,
        set_enabled: |config, on| config.regime_adaptive.enabled = on,
        build: |config, instruments, prefix, _indicators| {
            Ok(Box::new(RegimeAdaptive::new(
                &config.regime_adaptive,
                instruments,
                prefix,
                &catalogue_names(),
            )?))
        },
    },
];

/// The name of every strategy the engine knows, enabled or not, in catalogue order:
/// what configuration tables that name strategies (the regime gate's) may name.
pub fn catalogue_names() -> Vec<&'static str> {
    CATALOGUE.iter().map(|e| e.name).collect()
}

/// Builds the strategies `config` enables, in a fixed order; a strategy's
/// [`StrategyId`](crate::model::StrategyId) is its index in the result. Their indicator
/// requests land in `indicators`, which then goes to the stage
/// ([`SignalStage::with_indicators`](super::SignalStage::with_indicators)).
///
/// # Errors
/// Every problem of every enabled strategy's section (invalid values, symbols not in
/// `instruments`), each keyed `strategy.<name>.key`.
pub fn build_strategies(
    config: &SignalConfig,
    instruments: &InstrumentTable,
    indicators: &mut IndicatorBank,
) -> Result<Vec<Box<dyn Strategy>>, Vec<ConfigIssue>> {
    let mut strategies = Vec::new();
    let mut issues = Vec::new();
    for entry in CATALOGUE.iter().filter(|e| (e.enabled)(config)) {
        let prefix = format!("{}.{}", SignalConfig::SECTION, entry.name);
        match (entry.build)(config, instruments, &prefix, indicators) {
            Ok(strategy) => {
                debug_assert_eq!(strategy.name(), entry.name);
                strategies.push(strategy);
            }
            Err(mut found) => issues.append(&mut found),
        }
    }
    if issues.is_empty() {
        Ok(strategies)
    } else {
        Err(issues)
    }
}

/// The names of the strategies `config` enables, indexed by
/// [`StrategyId`](crate::model::StrategyId): the same order as [`build_strategies`], so
/// reports can name a strategy by id.
pub fn strategy_names(config: &SignalConfig) -> Vec<&'static str> {
    CATALOGUE
        .iter()
        .filter(|e| (e.enabled)(config))
        .map(|e| e.name)
        .collect()
}

/// Enables `name` and disables every other strategy in `config`, so it runs alone (as
/// a backtest's `--compare` runs each); false when the engine knows no such strategy.
/// Turning `regime_adaptive` off also lifts its gate over the others.
pub fn enable_only(config: &mut SignalConfig, name: &str) -> bool {
    if !CATALOGUE.iter().any(|e| e.name == name) {
        return false;
    }
    for entry in CATALOGUE {
        (entry.set_enabled)(config, entry.name == name);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::test_support::{sma_cross_only, table};

    #[test]
    fn builds_enabled_strategies_in_catalogue_order() {
        let config = sma_cross_only();
        let strategies = build_strategies(&config, &table(), &mut IndicatorBank::new(5)).unwrap();
        let built: Vec<_> = strategies.iter().map(|s| s.name()).collect();
        assert_eq!(built, ["sma_cross"]);
        assert_eq!(strategy_names(&config), built);
    }

    #[test]
    fn enable_only_leaves_one_strategy() {
        let mut config = sma_cross_only();
        config.momentum_surfer.enabled = true;
        assert!(enable_only(&mut config, VolumeScalper::NAME));
        assert_eq!(strategy_names(&config), [VolumeScalper::NAME]);
        assert!(!enable_only(&mut config, "no_such_strategy"));
        assert_eq!(strategy_names(&config), [VolumeScalper::NAME]);
    }

    #[test]
    fn momentum_surfer_comes_after_sma_cross_and_reads_the_bank() {
        let mut config = sma_cross_only();
        config.momentum_surfer.enabled = true;
        let mut bank = IndicatorBank::new(5);
        let strategies = build_strategies(&config, &table(), &mut bank).unwrap();
        let built: Vec<_> = strategies.iter().map(|s| s.name()).collect();
        assert_eq!(built, ["sma_cross", "momentum_surfer"]);
        assert_eq!(strategy_names(&config), built);
        assert_eq!(bank.specs(), 4, "VWAP, EMA, ATR, volume z-score");
        config.momentum_surfer.stop_atr = 5.0;
        let issues = match build_strategies(&config, &table(), &mut IndicatorBank::new(5)) {
            Err(issues) => issues,
            Ok(_) => panic!("an invalid section must not build"),
        };
        assert_eq!(issues[0].key, "strategy.momentum_surfer.stop_atr");
    }

    #[test]
    fn the_volume_scalper_follows_sma_cross_and_requests_its_volume_z_score() {
        let mut config = sma_cross_only();
        config.volume_scalper.enabled = true;
        let mut bank = IndicatorBank::new(5);
        let strategies = build_strategies(&config, &table(), &mut bank).unwrap();
        let built: Vec<_> = strategies.iter().map(|s| s.name()).collect();
        assert_eq!(built, ["sma_cross", "volume_scalper"]);
        assert_eq!(strategy_names(&config), built);
        // One z-score series for the three equities, on one-minute bars.
        assert_eq!((bank.specs(), bank.instances()), (1, 3));
        assert_eq!(bank.bar_lengths(), [60]);
    }

    #[test]
    fn the_news_scalper_comes_after_sma_cross_and_keys_its_issues() {
        let mut config = sma_cross_only();
        config.news_impact_scalper.enabled = true;
        let strategies = build_strategies(&config, &table(), &mut IndicatorBank::new(5)).unwrap();
        let built: Vec<_> = strategies.iter().map(|s| s.name()).collect();
        assert_eq!(built, ["sma_cross", "news_impact_scalper"]);
        assert_eq!(strategy_names(&config), built);
        config.news_impact_scalper.hold_secs = 0;
        let issues = match build_strategies(&config, &table(), &mut IndicatorBank::new(5)) {
            Err(issues) => issues,
            Ok(_) => panic!("an invalid section must not build"),
        };
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["strategy.news_impact_scalper.hold_secs"]);
    }

    #[test]
    fn regime_adaptive_follows_sma_cross_and_every_name_is_in_the_catalogue() {
        let mut config = sma_cross_only();
        config.regime_adaptive.enabled = true;
        config.regime_adaptive.symbol = "TCS".into();
        let strategies = build_strategies(&config, &table(), &mut IndicatorBank::new(5)).unwrap();
        let built: Vec<_> = strategies.iter().map(|s| s.name()).collect();
        assert_eq!(built, ["sma_cross", "regime_adaptive"]);
        assert_eq!(strategy_names(&config), built);
        config.sma_cross.enabled = false;
        assert_eq!(strategy_names(&config), ["regime_adaptive"]);
        assert_eq!(
            catalogue_names(),
            [
                "sma_cross",
                "momentum_surfer",
                "volume_scalper",
                "news_impact_scalper",
                "regime_adaptive"
            ]
        );
    }

    #[test]
    fn disabled_strategies_are_neither_built_nor_named() {
        let mut config = sma_cross_only();
        config.sma_cross.enabled = false;
        config.sma_cross.fast = 0; // not built, so not checked here
        assert!(
            build_strategies(&config, &table(), &mut IndicatorBank::new(5))
                .unwrap()
                .is_empty()
        );
        assert!(strategy_names(&config).is_empty());
    }

    #[test]
    fn issues_are_keyed_under_the_strategy_section() {
        let mut config = sma_cross_only();
        config.sma_cross.symbols = vec!["NOPE".into()];
        config.sma_cross.stop_pct = 0.0;
        let issues = match build_strategies(&config, &table(), &mut IndicatorBank::new(5)) {
            Err(issues) => issues,
            Ok(_) => panic!("an invalid section must not build"),
        };
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["strategy.sma_cross.stop_pct", "strategy.sma_cross.symbols"]
        );
    }
}
