//! The `[strategy.volume_scalper]` section.

use serde::Deserialize;

use crate::{config::ConfigIssue, model::TimeOfDay};

/// NSE's continuous session opens at 09:15 IST; the opening window counts from here.
pub(super) const SESSION_OPEN: TimeOfDay = TimeOfDay::hm(9, 15);
/// Longest volume lookback accepted, in bars (a full NSE session is 375 one-minute bars).
const MAX_LOOKBACK: u32 = 1000;
/// Highest z-score threshold accepted: beyond it no realistic bar would ever qualify.
const MAX_Z: f64 = 50.0;
/// Largest price move or stop distance accepted, in basis points (20 %, NSE's widest
/// daily price band for cash equities).
const MAX_BPS: u32 = 2000;
/// Largest stop buffer accepted, in ticks.
const MAX_BUFFER_TICKS: u32 = 100;
/// Largest profit target accepted, in multiples of the risk.
const MAX_TARGET_R: f64 = 20.0;
/// Longest holding time and opening window accepted: one NSE session (09:15–15:30).
const SESSION_SECS: u32 = 375 * 60;

/// Settings of the volume-spike scalper, `[strategy.volume_scalper]`.
///
/// ```toml
/// [strategy.volume_scalper]
/// enabled = true
/// bar_secs = 60
/// lookback_bars = 20      # volume z-score against this many bars before
/// min_z = 3.0
/// close_position = 0.3    # close in the top (bottom, for a short) 30 % of the range
/// min_move_bps = 10       # open → close, basis points of the open
/// allow_short = true
/// stop_buffer_ticks = 1   # stop one tick beyond the spike bar's low (high)
/// max_stop_bps = 50
/// target_r = 1.5          # 0: no target, the time stop exits
/// hold_secs = 300
/// cooldown_bars = 3
/// skip_open_mins = 15
/// last_entry = "15:00"
/// symbols = []
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeScalperConfig {
    /// Run the strategy.
    pub enabled: bool,
    /// Bar length in seconds; divides 3600 so bars line up with clock minutes and hours.
    pub bar_secs: u32,
    /// Bars before the current one that its volume is scored against (the shared
    /// `VolumeZ` indicator), 2 to 1000.
    pub lookback_bars: u32,
    /// Least volume z-score (standard deviations above the lookback mean) that counts as
    /// a spike; above 0, at most 50.
    pub min_z: f64,
    /// Where in its range the spike bar must close: a long needs the close within this
    /// fraction of the range below the high (a short, above the low). A plain number in
    /// (0, 1] with at most two decimals; 1 accepts any close on the right side of the
    /// open.
    pub close_position: f64,
    /// Least open-to-close move of the spike bar, in basis points of its open (0 to
    /// 2000; 0: any move in the right direction).
    pub min_move_bps: u32,
    /// Trade downside spikes short (true, the default: scalps go both ways) or ignore
    /// them.
    pub allow_short: bool,
    /// How far beyond the spike bar's low (high, for a short) the protective stop sits,
    /// in ticks of the instrument (0 to 100).
    pub stop_buffer_ticks: u32,
    /// Farthest the stop may be from the entry, in basis points of the entry price (1 to
    /// 2000); a wider spike bar gets its stop pulled in to this distance.
    pub max_stop_bps: u32,
    /// Profit target in multiples of the risk (entry to stop distance): 0 for none,
    /// else above 0 and at most 20, with at most two decimals.
    pub target_r: f64,
    /// Time stop: seconds of market time after the entry at which the strategy exits
    /// whatever the price (1 to 22 500, one session).
    pub hold_secs: u32,
    /// After an exit, no new entry on the same instrument for this many bar lengths of
    /// market time (0 to 375).
    pub cooldown_bars: u32,
    /// No entries on bars starting within this many minutes after the 09:15 IST open (0
    /// to 375): the opening auction and the first minutes' volume are not spikes.
    pub skip_open_mins: u32,
    /// No entries at or after this IST time, `"HH:MM"` or `"HH:MM:SS"`.
    pub last_entry: String,
    /// Trading symbols to trade; empty means every equity in the instrument table.
    pub symbols: Vec<String>,
}

impl Default for VolumeScalperConfig {
    fn default() -> Self {
        VolumeScalperConfig {
            enabled: true,
            bar_secs: 60,
            lookback_bars: 20,
            min_z: 3.0,
            close_position: 0.3,
            min_move_bps: 10,
            allow_short: true,
            stop_buffer_ticks: 1,
            max_stop_bps: 50,
            target_r: 1.5,
            hold_secs: 300,
            cooldown_bars: 3,
            skip_open_mins: 15,
            last_entry: "15:00".into(),
            symbols: Vec::new(),
        }
    }
}

impl VolumeScalperConfig {
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
        if !(2..=MAX_LOOKBACK).contains(&self.lookback_bars) {
            issue(
                "lookback_bars",
                format!(
                    "is {}, must be between 2 and {MAX_LOOKBACK} bars",
                    self.lookback_bars
                ),
            );
        }
        if !(self.min_z > 0.0 && self.min_z <= MAX_Z) {
            issue(
                "min_z",
                format!(
                    "is {}, must be above 0 and at most {MAX_Z} (standard deviations)",
                    self.min_z
                ),
            );
        }
        if !(self.close_position > 0.0 && self.close_position <= 1.0) {
            issue(
                "close_position",
                format!(
                    "is {}, must be above 0 and at most 1 (a fraction of the bar's range)",
                    self.close_position
                ),
            );
        } else if !has_two_decimals(self.close_position) {
            issue(
                "close_position",
                format!(
                    "is {}, must have at most two decimals (hundredths of the range)",
                    self.close_position
                ),
            );
        }
        if self.min_move_bps > MAX_BPS {
            issue(
                "min_move_bps",
                format!(
                    "is {}, must be at most {MAX_BPS} (basis points)",
                    self.min_move_bps
                ),
            );
        }
        if self.stop_buffer_ticks > MAX_BUFFER_TICKS {
            issue(
                "stop_buffer_ticks",
                format!(
                    "is {}, must be at most {MAX_BUFFER_TICKS} ticks",
                    self.stop_buffer_ticks
                ),
            );
        }
        if !(1..=MAX_BPS).contains(&self.max_stop_bps) {
            issue(
                "max_stop_bps",
                format!(
                    "is {}, must be between 1 and {MAX_BPS} (basis points)",
                    self.max_stop_bps
                ),
            );
        }
        if !(self.target_r >= 0.0 && self.target_r <= MAX_TARGET_R) {
            issue(
                "target_r",
                format!(
                    "is {}, must be 0 (no target) or above 0 and at most {MAX_TARGET_R} (multiples of the risk)",
                    self.target_r
                ),
            );
        } else if !has_two_decimals(self.target_r) {
            issue(
                "target_r",
                format!("is {}, must have at most two decimals", self.target_r),
            );
        }
        if !(1..=SESSION_SECS).contains(&self.hold_secs) {
            issue(
                "hold_secs",
                format!(
                    "is {}, must be between 1 and {SESSION_SECS} seconds (one session)",
                    self.hold_secs
                ),
            );
        }
        if self.cooldown_bars > SESSION_SECS / 60 {
            issue(
                "cooldown_bars",
                format!(
                    "is {}, must be at most {} bars",
                    self.cooldown_bars,
                    SESSION_SECS / 60
                ),
            );
        }
        let skip_ok = self.skip_open_mins <= SESSION_SECS / 60;
        if !skip_ok {
            issue(
                "skip_open_mins",
                format!(
                    "is {}, must be at most {} minutes (one session)",
                    self.skip_open_mins,
                    SESSION_SECS / 60
                ),
            );
        }
        match TimeOfDay::parse(&self.last_entry) {
            None => issue(
                "last_entry",
                format!(
                    "is {:?}, must be an IST time \"HH:MM\" or \"HH:MM:SS\"",
                    self.last_entry
                ),
            ),
            Some(last) if skip_ok && last <= self.first_entry() => issue(
                "last_entry",
                format!(
                    "is {last}, must be after the end of the opening window ({}), or no entry could ever be taken",
                    self.first_entry()
                ),
            ),
            Some(_) => {}
        }
        for reason in super::super::checks::symbol_list(&self.symbols) {
            issue("symbols", reason);
        }
    }

    /// The earliest IST time a spike bar may start: the open plus the opening window.
    pub fn first_entry(&self) -> TimeOfDay {
        TimeOfDay::from_secs(SESSION_OPEN.secs() + self.skip_open_mins.min(SESSION_SECS / 60) * 60)
    }

    /// [`VolumeScalperConfig::last_entry`] as a time of day. Meaningful once
    /// [`VolumeScalperConfig::validate`] passed (an unparsable value reads as 15:00).
    pub fn last_entry_time(&self) -> TimeOfDay {
        TimeOfDay::parse(&self.last_entry).unwrap_or(TimeOfDay::hm(15, 0))
    }

    /// [`VolumeScalperConfig::close_position`] in hundredths of the range (0.3 → 30).
    pub fn close_position_pct(&self) -> u32 {
        hundredths(self.close_position)
    }

    /// [`VolumeScalperConfig::target_r`] in hundredths of the risk (1.5 → 150; 0: none).
    pub fn target_r_pct(&self) -> u32 {
        hundredths(self.target_r)
    }
}

/// True when `value` is a whole number of hundredths (up to binary rounding).
fn has_two_decimals(value: f64) -> bool {
    (value * 100.0 - (value * 100.0).round()).abs() <= 1e-6
}

/// `value` in hundredths, for a validated value in `[0, 20]`.
fn hundredths(value: f64) -> u32 {
    (value * 100.0).round().clamp(0.0, f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "strategy.volume_scalper";

    fn issues_of(config: &VolumeScalperConfig) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        config.validate(PREFIX, &mut issues);
        issues
    }

    fn keys(issues: &[ConfigIssue]) -> Vec<&str> {
        issues.iter().map(|i| i.key.as_str()).collect()
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let config = VolumeScalperConfig::default();
        assert!(issues_of(&config).is_empty(), "{:?}", issues_of(&config));
        assert!(config.enabled, "on, as in config/default.toml");
        assert_eq!((config.bar_secs, config.lookback_bars), (60, 20));
        assert_eq!(config.min_z, 3.0);
        assert_eq!(config.close_position_pct(), 30);
        assert_eq!(config.target_r_pct(), 150);
        assert_eq!((config.min_move_bps, config.max_stop_bps), (10, 50));
        assert_eq!((config.hold_secs, config.cooldown_bars), (300, 3));
        assert_eq!(config.first_entry(), TimeOfDay::hm(9, 30));
        assert_eq!(config.last_entry_time(), TimeOfDay::hm(15, 0));
        assert!(config.allow_short && config.symbols.is_empty());
    }

    #[test]
    fn the_shipped_default_file_says_what_the_code_does() {
        // A file that leaves the section out gets what the shipped file shows.
        let file = crate::engine::EngineConfig::embedded_default();
        assert!(file.strategy.volume_scalper.enabled);
        assert_eq!(file.strategy.volume_scalper, VolumeScalperConfig::default());
    }

    #[test]
    fn parses_from_toml_and_rejects_unknown_keys() {
        let config: VolumeScalperConfig = toml::from_str(
            "enabled = true\nmin_z = 2.5\nclose_position = 0.25\ntarget_r = 0\n\
             last_entry = \"14:30\"\nsymbols = [\"SBIN\"]",
        )
        .unwrap();
        assert!(issues_of(&config).is_empty());
        assert_eq!(config.min_z, 2.5);
        assert_eq!(
            (config.close_position_pct(), config.target_r_pct()),
            (25, 0)
        );
        assert_eq!(config.last_entry_time(), TimeOfDay::hm(14, 30));
        assert_eq!(config.hold_secs, 300);
        let err = toml::from_str::<VolumeScalperConfig>("min_zscore = 3").unwrap_err();
        assert!(err.to_string().contains("min_zscore"), "{err}");
    }

    #[test]
    fn every_bad_value_is_named() {
        let config = VolumeScalperConfig {
            enabled: true,
            bar_secs: 7,
            lookback_bars: 1,
            min_z: 0.0,
            close_position: 1.5,
            min_move_bps: 2001,
            allow_short: true,
            stop_buffer_ticks: 101,
            max_stop_bps: 0,
            target_r: -1.0,
            hold_secs: 0,
            cooldown_bars: 376,
            skip_open_mins: 400,
            last_entry: "3pm".into(),
            symbols: vec!["SBIN".into(), " ".into(), "SBIN".into()],
        };
        let issues = issues_of(&config);
        assert_eq!(
            keys(&issues),
            [
                "strategy.volume_scalper.bar_secs",
                "strategy.volume_scalper.lookback_bars",
                "strategy.volume_scalper.min_z",
                "strategy.volume_scalper.close_position",
                "strategy.volume_scalper.min_move_bps",
                "strategy.volume_scalper.stop_buffer_ticks",
                "strategy.volume_scalper.max_stop_bps",
                "strategy.volume_scalper.target_r",
                "strategy.volume_scalper.hold_secs",
                "strategy.volume_scalper.cooldown_bars",
                "strategy.volume_scalper.skip_open_mins",
                "strategy.volume_scalper.last_entry",
                "strategy.volume_scalper.symbols",
                "strategy.volume_scalper.symbols",
            ]
        );
        assert!(issues[11].reason.contains("\"HH:MM\""), "{}", issues[11]);
        assert!(issues[12].reason.contains("entry 2 is empty"));
        assert!(issues[13].reason.contains("SBIN is listed twice"));
    }

    #[test]
    fn fractions_need_two_decimals_and_non_finite_values_are_refused() {
        let base = VolumeScalperConfig::default();
        for (config, key) in [
            (
                VolumeScalperConfig {
                    close_position: 0.333,
                    ..base.clone()
                },
                "close_position",
            ),
            (
                VolumeScalperConfig {
                    target_r: 1.255,
                    ..base.clone()
                },
                "target_r",
            ),
            (
                VolumeScalperConfig {
                    min_z: f64::NAN,
                    ..base.clone()
                },
                "min_z",
            ),
            (
                VolumeScalperConfig {
                    min_z: 51.0,
                    ..base.clone()
                },
                "min_z",
            ),
            (
                VolumeScalperConfig {
                    target_r: f64::INFINITY,
                    ..base.clone()
                },
                "target_r",
            ),
            (
                VolumeScalperConfig {
                    close_position: 0.0,
                    ..base.clone()
                },
                "close_position",
            ),
        ] {
            assert_eq!(keys(&issues_of(&config)), [format!("{PREFIX}.{key}")]);
        }
        let ok = VolumeScalperConfig {
            close_position: 1.0,
            target_r: 0.0,
            min_move_bps: 0,
            stop_buffer_ticks: 0,
            cooldown_bars: 0,
            skip_open_mins: 0,
            ..base
        };
        assert!(issues_of(&ok).is_empty());
        assert_eq!(ok.first_entry(), SESSION_OPEN);
    }

    #[test]
    fn last_entry_must_leave_room_after_the_opening_window() {
        let config = VolumeScalperConfig {
            skip_open_mins: 30,
            last_entry: "09:45".into(),
            ..VolumeScalperConfig::default()
        };
        let issues = issues_of(&config);
        assert_eq!(keys(&issues), [format!("{PREFIX}.last_entry")]);
        assert!(
            issues[0].reason.contains("opening window (09:45:00)"),
            "{}",
            issues[0]
        );
        let config = VolumeScalperConfig {
            last_entry: "09:45:01".into(),
            ..config
        };
        assert!(issues_of(&config).is_empty());
    }
}
