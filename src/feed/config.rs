//! `[feed]`: which market source to run and how fast.

use std::path::PathBuf;

use super::{FeedError, MarketSource, Pacing, ReplaySource, SyntheticConfig, SyntheticSession};
use crate::{config::ConfigIssue, model::InstrumentTable};

/// Where market events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The synthetic NSE session of `[feed.synthetic]`.
    Synthetic,
    /// A recorded tick file (`feed.replay`).
    Replay,
}

/// Configuration of the feed stage (TOML section `[feed]`).
///
/// ```toml
/// [feed]
/// source = "replay"
/// replay = "var/2026-11-25.ticks"
/// speed = 10.0        # ten times real time; 0 = as fast as possible
/// ```
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedConfig {
    /// The source: `"synthetic"` (default) or `"replay"`.
    pub source: SourceKind,
    /// The tick file to replay when `source = "replay"`.
    pub replay: Option<PathBuf>,
    /// Pacing as a multiple of real time; 0 (default) releases events as fast as the
    /// pipeline takes them.
    pub speed: f64,
    /// The synthetic session.
    pub synthetic: SyntheticConfig,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            source: SourceKind::Synthetic,
            replay: None,
            speed: 0.0,
            synthetic: SyntheticConfig::default(),
        }
    }
}

impl FeedConfig {
    /// Pushes one issue per invalid field, keys prefixed with `prefix` (e.g. `feed`).
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if !(self.speed.is_finite() && (0.0..=1_000_000.0).contains(&self.speed)) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.speed"),
                format!(
                    "{} is out of range; accepted 0 (as fast as possible) to 1000000 (times real time)",
                    self.speed
                ),
            ));
        }
        match (&self.source, &self.replay) {
            (SourceKind::Replay, None) => issues.push(ConfigIssue::new(
                format!("{prefix}.replay"),
                "source = \"replay\" needs the path of a tick file",
            )),
            (_, Some(path)) if path.as_os_str().is_empty() => {
                issues.push(ConfigIssue::new(format!("{prefix}.replay"), "empty path"))
            }
            _ => {}
        }
        if self.source == SourceKind::Synthetic {
            self.synthetic
                .validate(&format!("{prefix}.synthetic"), issues);
        }
    }

    /// The pacing the feed stage runs at.
    pub fn pacing(&self) -> Pacing {
        if self.speed > 0.0 {
            Pacing::Speed(self.speed)
        } else {
            Pacing::Max
        }
    }

    /// Builds the configured source and the instrument table its events refer to.
    ///
    /// # Errors
    /// The source's [`FeedError`]: an invalid synthetic configuration, an unreadable
    /// universe, a missing or corrupt tick file.
    pub fn open(&self) -> Result<(InstrumentTable, Box<dyn MarketSource>), FeedError> {
        match self.source {
            SourceKind::Synthetic => {
                let session = SyntheticSession::new(&self.synthetic)?;
                Ok((session.instruments().clone(), Box::new(session)))
            }
            SourceKind::Replay => {
                let path = self.replay.as_deref().ok_or_else(|| {
                    FeedError::Config("source = \"replay\" needs feed.replay".to_owned())
                })?;
                let (table, source) = ReplaySource::open(path)?;
                Ok((table, Box::new(source)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_runs_the_synthetic_day_at_full_speed() {
        let cfg = FeedConfig::default();
        let mut issues = Vec::new();
        cfg.validate("feed", &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(cfg.pacing(), Pacing::Max);
        let (table, _source) = cfg.open().unwrap();
        assert_eq!(table.len(), 51 + 42);
    }

    #[test]
    fn toml_section_and_its_issues() {
        let cfg: FeedConfig =
            toml::from_str("source = \"replay\"\nspeed = -1\n[synthetic]\nstrikes = 99\n").unwrap();
        let mut issues = Vec::new();
        cfg.validate("feed", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        // The synthetic section is not checked when it is not the source.
        assert_eq!(keys, ["feed.speed", "feed.replay"]);
        assert!(cfg.open().is_err());

        let cfg: FeedConfig = toml::from_str("speed = 10\n[synthetic]\nstrikes = 99\n").unwrap();
        assert_eq!(cfg.pacing(), Pacing::Speed(10.0));
        let mut issues = Vec::new();
        cfg.validate("feed", &mut issues);
        assert_eq!(issues[0].key, "feed.synthetic.strikes");
        assert!(toml::from_str::<FeedConfig>("sorce = \"replay\"\n").is_err());
        assert!(toml::from_str::<FeedConfig>("source = \"kite\"\n").is_err());
    }
}
