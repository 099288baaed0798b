//! The `[filters]` section.

use serde::Deserialize;

use crate::config::ConfigIssue;

/// Which orchestration filters run, with their parameters (section `[filters]`).
///
/// # Examples
/// ```
/// use tickpipe::signal::filter::FilterConfig;
/// let cfg: FilterConfig = toml::from_str("relative_strength = false").unwrap();
/// assert!(cfg.market_bias && !cfg.relative_strength);
/// let mut issues = Vec::new();
/// cfg.validate("filters", &mut issues);
/// assert!(issues.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// No longs while the index trends down, no shorts while it trends up.
    pub market_bias: bool,
    /// Bars of the index's moving average that defines the trend.
    pub bias_bars: usize,
    /// How far (percent) the index must stand from its average to count as trending.
    pub bias_band_pct: f64,
    /// Longs only in stocks stronger than the index over the lookback, shorts only in
    /// weaker ones.
    pub relative_strength: bool,
    /// Bars of the relative-strength lookback.
    pub relative_strength_bars: usize,
    /// No longs after `obos_days` up days in a row or a 3-day rise above
    /// `obos_move_pct` percent (mirror for shorts), from the history file.
    pub overbought_oversold: bool,
    /// Consecutive up (down) days that make an instrument overbought (oversold).
    pub obos_days: u32,
    /// 3-day move, percent, that makes it overbought (oversold).
    pub obos_move_pct: f64,
    /// Previous days' closes (`symbol,date,close`); every run appends its own closes,
    /// so day-level state carries across sessions. Unset: no history, and the
    /// overbought/oversold filter passes everything.
    pub history_file: Option<std::path::PathBuf>,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            market_bias: true,
            bias_bars: 20,
            bias_band_pct: 0.05,
            relative_strength: true,
            relative_strength_bars: 30,
            overbought_oversold: true,
            obos_days: 3,
            obos_move_pct: 5.0,
            history_file: None,
        }
    }
}

impl FilterConfig {
    /// Pushes one issue per invalid key, named `{prefix}.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        for (key, bars) in [
            ("bias_bars", self.bias_bars),
            ("relative_strength_bars", self.relative_strength_bars),
        ] {
            if !(1..=10_000).contains(&bars) {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {bars}, must be from 1 to 10000 bars"),
                ));
            }
        }
        if self.obos_days == 0 {
            issues.push(ConfigIssue::new(
                format!("{prefix}.obos_days"),
                "is 0, must be at least 1 day",
            ));
        }
        if !(self.obos_move_pct.is_finite() && self.obos_move_pct > 0.0) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.obos_move_pct"),
                format!("is {}, must be above 0 (percent)", self.obos_move_pct),
            ));
        }
        if !(self.bias_band_pct.is_finite() && (0.0..=10.0).contains(&self.bias_band_pct)) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.bias_band_pct"),
                format!("is {}, must be from 0 to 10 (percent)", self.bias_band_pct),
            ));
        }
    }
}
