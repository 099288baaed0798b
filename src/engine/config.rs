//! The engine's TOML configuration, validated once and completely at start.
//!
//! Each stage owns the struct of its own section; this module composes them, rejects
//! unknown keys, and collects every problem before reporting, so a user fixes a config
//! in one pass.

use std::str::FromStr;

use serde::Deserialize;
use tickpipe_ringbuf::wait::WaitKind;

pub use crate::order::{GatewayKind, OrderConfig};
use crate::{
    charges::ChargesConfig,
    config::{ConfigError, ConfigIssue, ConfigVersion},
    control::ControlConfig,
    feed::FeedConfig,
    journal::JournalSettings,
    order::PaperConfig,
    risk::RiskConfig,
    runtime::{available_cores, check_core, GroupSpec, Layout, Preset},
    signal::{filter::FilterConfig, SignalConfig, SignalSection},
};

/// The configuration `cargo run --release` uses when no `--config` is given: a synthetic
/// NSE day traded on the paper gateway. Embedded so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// `config_version`: the format the file is written in, checked before the rest is
    /// read (1 when absent).
    pub config_version: ConfigVersion,
    /// `[feed]`: where market data comes from and how fast it is played.
    pub feed: FeedConfig,
    /// `[strategy.*]`: which strategies run, with their parameters.
    pub strategy: SignalConfig,
    /// `[signal]`: the signal stage's own settings (adaptive allocation).
    pub signal: SignalSection,
    /// `[filters]`: orchestration filters over every strategy's entries.
    pub filters: FilterConfig,
    /// `[risk]`: capital and limits.
    pub risk: RiskConfig,
    /// `[charges]`: brokerage, taxes and fees on every fill.
    pub charges: ChargesConfig,
    /// `[order]`: the gateway, rate limits, retries, remainders, product, protection.
    pub order: OrderConfig,
    /// `[paper]`: the paper exchange's latency, depth, rules and injected faults.
    pub paper: PaperConfig,
    /// `[runtime]`: threads, cores, rings.
    pub runtime: RuntimeConfig,
    /// `[control]`: the control socket and scheduled commands.
    pub control: ControlConfig,
    /// `[journal]`: the run's journal: on or off, where, how often it is flushed.
    pub journal: JournalSettings,
    /// `[log]`: the structured log's level, format and destination.
    pub log: crate::logging::LogSettings,
}

/// `[runtime]`: how stages map to threads and cores.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// A preset: `one_group`, `two_groups` or `per_stage`. Ignored when `groups` is given.
    pub layout: String,
    /// Cores the preset's groups are pinned to, round-robin; empty leaves them unpinned.
    pub cores: Vec<usize>,
    /// Wait strategy of the preset's groups: `busy_spin`, `spin_then_yield`, `spin_then_park`.
    pub wait: String,
    /// An explicit layout (`[[runtime.groups]]`), overriding the preset.
    pub groups: Option<Vec<GroupSpec>>,
    /// How often the status line is refreshed, in milliseconds; 0 turns it off.
    pub status_interval_ms: u64,
    /// Slots in every ring (a power of two). Deeper rings absorb longer bursts; at
    /// `speed = "max"` they also hold more queued ticks, which tick-to-intent then counts.
    pub ring_capacity: usize,
    /// How often, in microseconds of wall time, an idle risk or order stage rehearses
    /// its order path on a made-up order, so that a rare real one finds it in cache
    /// (see `runtime::Rehearsal`); 0 turns rehearsals off.
    pub rehearse_every_us: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            layout: "two_groups".to_owned(),
            cores: vec![0, 1],
            wait: "spin_then_yield".to_owned(),
            groups: None,
            status_interval_ms: 500,
            ring_capacity: 1024,
            rehearse_every_us: 100,
        }
    }
}

impl EngineConfig {
    /// The embedded default configuration.
    ///
    /// # Panics
    /// Never in a released build: a test parses and validates the embedded file.
    pub fn embedded_default() -> EngineConfig {
        EngineConfig::from_toml(DEFAULT_TOML, "embedded default")
            .expect("embedded default config is valid")
    }

    /// Parses and validates TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem: syntax (with line and column), unknown
    /// keys, and values out of range.
    pub fn from_toml(text: &str, origin: &str) -> Result<EngineConfig, ConfigError> {
        let config = EngineConfig::parse_toml(text, origin)?;
        config.validate(origin)?;
        Ok(config)
    }

    /// Parses TOML text without validating it, so a caller (`tickpipe config check`)
    /// can add its own checks to the issues of [`EngineConfig::validate`] and report
    /// them together. Keys the text leaves out take the values of `config/default.toml`.
    ///
    /// The format (`config_version`) is checked first, so a file written for a newer
    /// release is refused as such, not for the keys this build does not know.
    ///
    /// # Errors
    /// A [`ConfigError`] with the syntax or type error, at its line and column, or with
    /// the `config_version` this build cannot read.
    pub fn parse_toml(text: &str, origin: &str) -> Result<EngineConfig, ConfigError> {
        // Text that is not TOML has no version to read; the typed parse below reports
        // where it breaks.
        if let Ok(table) = text.parse::<toml::Table>() {
            ConfigVersion::of(&table).map_err(|issue| ConfigError {
                origin: origin.to_owned(),
                issues: vec![issue],
            })?;
        }
        toml::from_str(text).map_err(|e| ConfigError {
            origin: origin.to_owned(),
            issues: vec![toml_issue(&e, text)],
        })
    }

    /// Reads, parses and validates a file.
    ///
    /// # Errors
    /// As [`EngineConfig::from_toml`], or the file cannot be read.
    pub fn from_file(path: &std::path::Path) -> Result<EngineConfig, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: origin.clone(),
            issues: vec![ConfigIssue::new("(file)", format!("cannot read: {e}"))],
        })?;
        EngineConfig::from_toml(&text, &origin)
    }

    /// Checks every section and collects every problem.
    ///
    /// # Errors
    /// A [`ConfigError`] when anything is wrong.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let mut issues = Vec::new();
        self.feed.validate("feed", &mut issues);
        if !self.runtime.ring_capacity.is_power_of_two() || self.runtime.ring_capacity < 64 {
            issues.push(ConfigIssue::new(
                "runtime.ring_capacity",
                format!(
                    "must be a power of two of at least 64, got {}",
                    self.runtime.ring_capacity
                ),
            ));
        }
        self.strategy.validate("strategy", &mut issues);
        self.signal.validate("signal", &mut issues);
        self.filters.validate("filters", &mut issues);
        self.risk.validate("risk", &mut issues);
        crate::risk::validate_time_stop_names(
            &self.risk,
            "risk",
            &crate::signal::catalogue_names(),
            &mut issues,
        );
        self.charges.validate("charges", &mut issues);
        self.order.validate("order", &mut issues);
        self.paper.validate("paper", &mut issues);
        self.control.validate("control", &mut issues);
        self.journal.validate("journal", &mut issues);
        self.log.validate("log", &mut issues);
        let available = available_cores();
        for (key, core) in [
            ("control.core", self.control.core),
            ("journal.core", self.journal.core),
        ] {
            if let Some(core) = core {
                check_core(key, core, &available, &mut issues);
            }
        }
        match self.layout() {
            Ok(layout) if self.runtime.groups.is_some() => {
                layout.validate("runtime.groups", &available, &mut issues);
            }
            // A preset covers every stage by construction and takes its cores round-robin
            // from the list, so each core is named by its place in that list.
            Ok(_) => {
                for (i, &core) in self.runtime.cores.iter().enumerate() {
                    check_core(
                        &format!("runtime.cores[{i}]"),
                        core,
                        &available,
                        &mut issues,
                    );
                }
            }
            Err(issue) => issues.push(issue),
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                origin: origin.to_owned(),
                issues,
            })
        }
    }

    /// The thread layout from `[runtime]`.
    ///
    /// # Errors
    /// An issue when the preset or wait strategy is unknown.
    pub fn layout(&self) -> Result<Layout, ConfigIssue> {
        if let Some(groups) = &self.runtime.groups {
            return Ok(Layout {
                groups: groups.clone(),
            });
        }
        let preset = Preset::from_str(&self.runtime.layout)
            .map_err(|e| ConfigIssue::new("runtime.layout", e))?;
        let wait = WaitKind::from_str(&self.runtime.wait).map_err(|_| {
            ConfigIssue::new(
                "runtime.wait",
                format!(
                    "unknown wait strategy `{}`, expected busy_spin, spin_then_yield or spin_then_park",
                    self.runtime.wait
                ),
            )
        })?;
        Ok(Layout {
            groups: preset.groups(&self.runtime.cores, wait),
        })
    }
}

/// One issue for a TOML error, on one line: the key (or `(syntax)`) with the line and
/// column it is at, and the parser's reason.
fn toml_issue(e: &toml::de::Error, text: &str) -> ConfigIssue {
    let key = e
        .span()
        .and_then(|span| key_at(text, span.start))
        .unwrap_or_else(|| "(syntax)".to_owned());
    let location = e.span().map_or(String::new(), |span| {
        let before = text.get(..span.start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(" (line {line}, column {column})")
    });
    let mut reason = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if reason.is_empty() {
        // NB: the TOML parser gives no message for an error at the very end of the
        // text (`speed =` as the last line); found by the `config` fuzz target.
        let at_end = e
            .span()
            .is_some_and(|span| span.start >= text.trim_end().len());
        reason = if at_end {
            "the file ends too early: a value, a closing bracket or a closing quote is missing"
        } else {
            "not valid TOML here"
        }
        .to_owned();
    }
    ConfigIssue::new(format!("{key}{location}"), reason)
}

/// The dotted key of the `key = value` line holding byte `offset`, with the table header
/// above it (`risk.capitol`); `None` on a header, a continued array or anything else
/// that is not such a line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next().unwrap_or("");
    let (name, _) = line.split_once('=')?;
    let name = name.trim();
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if !plain(name) {
        return None;
    }
    let table = text.get(..line_start)?.lines().rev().find_map(|l| {
        let header = l.trim().strip_prefix('[')?;
        let header = header.strip_prefix('[').unwrap_or(header);
        let (header, _) = header.split_once(']')?;
        plain(header.trim()).then(|| header.trim().to_owned())
    });
    Some(match table {
        Some(table) => format!("{table}.{name}"),
        None => name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let c = EngineConfig::from_toml(DEFAULT_TOML, "default").unwrap();
        assert_eq!(c.feed.pacing(), Ok(crate::feed::Pacing::Max));
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = EngineConfig::from_toml("[risk]\ncapitol = 5\n", "x.toml").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("x.toml"), "{text}");
        assert!(text.contains("capitol"), "{text}");
    }

    #[test]
    fn a_file_states_only_what_it_changes() {
        // Every key left out takes config/default.toml's value: the code's defaults are
        // the shipped file's.
        let shipped = format!("{:?}", EngineConfig::embedded_default());
        let empty = EngineConfig::from_toml("", "empty.toml").unwrap();
        assert_eq!(format!("{empty:?}"), shipped);
        assert_eq!(format!("{:?}", EngineConfig::default()), shipped);
        let partial =
            EngineConfig::from_toml("[risk]\nmax_position_pct = 10\n", "partial.toml").unwrap();
        assert_eq!(
            crate::signal::strategy_names(&partial.strategy),
            [
                "momentum_surfer",
                "volume_scalper",
                "news_impact_scalper",
                "regime_adaptive"
            ]
        );
    }

    #[test]
    fn a_bad_file_names_the_key_line_and_column() {
        let err =
            EngineConfig::from_toml("[feed]\n\n[risk]\n  capitol = 5\n", "x.toml").unwrap_err();
        assert_eq!(err.issues.len(), 1, "{err}");
        assert_eq!(
            err.issues[0].key, "risk.capitol (line 4, column 3)",
            "{err}"
        );
        assert!(err.issues[0].reason.contains("unknown field"), "{err}");
        let err = EngineConfig::from_toml("[risk]\nlast_entry = \"3pm\"\n", "x.toml").unwrap_err();
        assert!(
            err.issues[0]
                .key
                .starts_with("risk.last_entry (line 2, column"),
            "{err}"
        );
        let err = EngineConfig::from_toml("[risk\n", "x.toml").unwrap_err();
        assert!(
            err.issues[0].key.starts_with("(syntax) (line 1, column"),
            "{err}"
        );
    }

    #[test]
    fn a_file_for_a_newer_format_is_refused_before_its_keys_are_read() {
        // The unknown section would be an error too; the version is what explains it.
        let err = EngineConfig::from_toml(
            "config_version = 2\n[alerts]\ncommand = []\n",
            "future.toml",
        )
        .unwrap_err();
        assert_eq!(err.issues.len(), 1, "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with("invalid configuration in future.toml:"),
            "{text}"
        );
        assert!(
            text.contains(
                "config_version: is 2, but this build of tickpipe reads configuration format 1"
            ),
            "{text}"
        );
        let err = EngineConfig::from_toml("config_version = \"one\"\n", "v.toml").unwrap_err();
        assert_eq!(err.issues[0].key, "config_version", "{err}");
        let c = EngineConfig::from_toml("config_version = 1\n", "v.toml").unwrap();
        assert_eq!(c.config_version, ConfigVersion::CURRENT);
        assert_eq!(
            EngineConfig::from_toml("", "v.toml")
                .unwrap()
                .config_version,
            ConfigVersion(1)
        );
    }

    #[test]
    fn a_file_ending_after_an_equals_sign_says_so() {
        // Found by the `config` fuzz target: the parser's own message is empty here.
        for (text, column) in [("[feed]\nspeed =", 8), ("[feed]\nspeed = ", 9)] {
            let err = EngineConfig::from_toml(text, "x.toml").unwrap_err();
            assert_eq!(err.issues.len(), 1, "{err}");
            assert_eq!(
                err.issues[0].key,
                format!("feed.speed (line 2, column {column})"),
                "{err}"
            );
            assert!(
                err.issues[0].reason.contains("ends too early"),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn every_bad_value_is_listed() {
        let err = EngineConfig::from_toml(
            "[feed]\nspeed = \"fast\"\n[runtime]\nring_capacity = 100\nlayout = \"three\"\n",
            "bad.toml",
        )
        .unwrap_err();
        let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
        assert!(keys.contains(&"feed.speed"), "{keys:?}");
        assert!(keys.contains(&"runtime.ring_capacity"), "{keys:?}");
        assert!(keys.contains(&"runtime.layout"), "{keys:?}");
    }

    #[test]
    fn the_allocation_section_is_read_and_validated() {
        let c = EngineConfig::from_toml("[signal.allocation]\nreview_minutes = 30\n", "a.toml")
            .unwrap();
        assert_eq!(c.signal.allocation.review_minutes, 30);
        assert!(EngineConfig::embedded_default().signal.allocation.enabled);
        let err = EngineConfig::from_toml(
            "[signal.allocation]\nmin_trades = 0\nshadow_below = 0\n",
            "a.toml",
        )
        .unwrap_err();
        let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "signal.allocation.min_trades",
                "signal.allocation.shadow_below"
            ]
        );
        let err = EngineConfig::from_toml("[signal.allocations]\n", "a.toml").unwrap_err();
        assert!(err.to_string().contains("allocations"), "{err}");
    }
}
