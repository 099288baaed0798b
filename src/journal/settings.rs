//! The `[journal]` section: whether a run journals, where, and how often it flushes.

use std::path::PathBuf;

use serde::Deserialize;

use super::{
    day_dir,
    flusher::{FlushPolicy, JournalConfig},
};
use crate::{config::ConfigIssue, model::Date};

/// The `[journal]` section.
///
/// On by default: the journal, not the engine's memory, is the record of the day. Each
/// run writes one directory per trading day under `dir` (`dir/YYYY-MM-DD`); see
/// [`JournalSettings::claim_run_dir`] for a day that already has one.
///
/// # Examples
/// ```
/// use tickpipe::journal::JournalSettings;
/// let s: JournalSettings = toml::from_str("flush = \"every_record\"\nsegment_mib = 8").unwrap();
/// assert!(s.enabled);
/// let mut issues = Vec::new();
/// s.validate("journal", &mut issues);
/// assert!(issues.is_empty());
/// assert_eq!(s.journal_config().unwrap().segment_bytes, 8 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalSettings {
    /// Journal the run.
    pub enabled: bool,
    /// Root directory; each trading day gets its own directory under it.
    pub dir: PathBuf,
    /// When the flusher `msync`s: `never`, `every_ms=N` or `every_record` (what each
    /// loses on a crash and on power loss: README, "The journal").
    pub flush: String,
    /// Size of each segment file in MiB (1 to 4095).
    pub segment_mib: u32,
    /// Segments kept prepared ahead of each stage's writer (1 to 16), so that a stage
    /// that fills its segment never waits for the next to be created: each costs
    /// `segment_mib` of disk and page cache per writer while it waits
    /// ([`JournalConfig::segments_ahead`]).
    pub segments_ahead: usize,
    /// Journal every market tick too (a tick journal is a valid replay input), not
    /// only the trading records.
    pub ticks: bool,
    /// Resume the day when its journal belongs to a run that stopped mid-day (killed,
    /// crashed, or stopped leaving positions open): rebuild its positions, orders, P&L
    /// and state before trading on. Off: such a day starts a fresh journal of its own.
    pub resume: bool,
    /// The core the flusher thread is pinned to (a housekeeping core, not a stage's);
    /// unset: the scheduler places it.
    pub core: Option<usize>,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            enabled: true,
            dir: PathBuf::from("var/journal"),
            flush: "every_ms=10".to_owned(),
            segment_mib: 64,
            segments_ahead: JournalConfig::DEFAULT.segments_ahead,
            ticks: false,
            resume: true,
            core: None,
        }
    }
}

impl JournalSettings {
    /// Checks the section; problems are added to `issues` under `prefix`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if let Err(e) = self.flush.parse::<FlushPolicy>() {
            issues.push(ConfigIssue::new(format!("{prefix}.flush"), e));
        }
        if !(1..4096).contains(&self.segment_mib) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.segment_mib"),
                format!("{} MiB: expected 1 to 4095", self.segment_mib),
            ));
        }
        if !(1..=JournalConfig::MAX_SEGMENTS_AHEAD).contains(&self.segments_ahead) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.segments_ahead"),
                format!(
                    "{}: expected 1 to {}",
                    self.segments_ahead,
                    JournalConfig::MAX_SEGMENTS_AHEAD
                ),
            ));
        }
        if self.enabled && self.dir.as_os_str().is_empty() {
            issues.push(ConfigIssue::new(
                format!("{prefix}.dir"),
                "empty: name the directory the journal goes under",
            ));
        }
    }

    /// The journal's configuration.
    ///
    /// # Errors
    /// The flush policy's parse error.
    pub fn journal_config(&self) -> Result<JournalConfig, String> {
        Ok(JournalConfig {
            segment_bytes: (self.segment_mib as usize) << 20,
            flush: self.flush.parse()?,
            segments_ahead: self.segments_ahead,
        })
    }

    /// Claims the directory this run journals `day` into: `dir/YYYY-MM-DD`, or, when
    /// that exists (an earlier run of the same day), the first of
    /// `dir/YYYY-MM-DD.run2`, `.run3`, … that does not: a day whose last run ended
    /// cleanly (or that is not resumed) gets a journal of its own and the earlier one is
    /// kept as it was. The directory is created here, one `mkdir` that fails when it
    /// exists, so two engines started at once never share one.
    ///
    /// # Errors
    /// When `dir` or the day's directory cannot be created.
    pub fn claim_run_dir(&self, day: Date) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let candidates = std::iter::once(day_dir(&self.dir, day))
            .chain((2u32..).map(|n| self.dir.join(format!("{day}.run{n}"))));
        for dir in candidates {
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("the run numbers never run out")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_are_named() {
        let s = JournalSettings {
            flush: "sometimes".to_owned(),
            segment_mib: 0,
            segments_ahead: 0,
            dir: PathBuf::new(),
            ..JournalSettings::default()
        };
        let mut issues = Vec::new();
        s.validate("journal", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "journal.flush",
                "journal.segment_mib",
                "journal.segments_ahead",
                "journal.dir"
            ]
        );
        assert!(
            issues[0].reason.contains("every_ms=N"),
            "{}",
            issues[0].reason
        );
    }

    #[test]
    fn a_day_with_a_journal_gets_a_run_directory_of_its_own() {
        let root = std::env::temp_dir().join(format!("tickpipe-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let s = JournalSettings {
            dir: root.clone(),
            ..JournalSettings::default()
        };
        let day = Date::new(2026, 11, 25);
        assert_eq!(s.claim_run_dir(day).unwrap(), root.join("2026-11-25"));
        assert!(root.join("2026-11-25").is_dir(), "claimed by creating it");
        assert_eq!(s.claim_run_dir(day).unwrap(), root.join("2026-11-25.run2"));
        assert_eq!(s.claim_run_dir(day).unwrap(), root.join("2026-11-25.run3"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
