//! `[log]`: how much the engine logs, in which format, and where.

use std::{path::PathBuf, str::FromStr};

use serde::Deserialize;
use tracing_subscriber::filter::LevelFilter;

use crate::config::ConfigIssue;

/// `[log]` of the configuration file. `tickpipe run --log-level/--log-format/--log-file`
/// override it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// The quietest level written: `error`, `warn`, `info`, `debug`, `trace`, or `off`.
    pub level: String,
    /// `text` (a line a person reads) or `json` (one JSON object per line).
    pub format: String,
    /// The file lines are appended to; empty: standard error (a terminal, or journald
    /// under systemd).
    pub file: PathBuf,
    /// Lines of one kind (a reconnection attempt, a bad line of the news file, an alert
    /// kind) written per minute; further ones are counted and reported in one
    /// `suppressed` line. 1 to 10000.
    pub per_kind_per_minute: u32,
    /// Lines the writer thread holds while standard error or the disk is slow; past
    /// that, new lines are dropped and counted rather than blocking the thread that
    /// logs. 64 to 1048576.
    pub buffer_lines: usize,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: "info".to_owned(),
            format: "text".to_owned(),
            file: PathBuf::new(),
            per_kind_per_minute: 20,
            buffer_lines: 16_384,
        }
    }
}

/// The two formats of `log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `tickpipe: [level: ]message key=value ...`, with a timestamp first in a file.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `threadName` and
    /// `fields` (the `message` and the event's fields).
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown format `{other}`, expected text or json")),
        }
    }
}

/// Parses `log.level`.
///
/// # Errors
/// The accepted names, when `s` is none of them.
pub fn parse_level(s: &str) -> Result<LevelFilter, String> {
    match s {
        "off" => Ok(LevelFilter::OFF),
        "error" => Ok(LevelFilter::ERROR),
        "warn" | "warning" => Ok(LevelFilter::WARN),
        "info" => Ok(LevelFilter::INFO),
        "debug" => Ok(LevelFilter::DEBUG),
        "trace" => Ok(LevelFilter::TRACE),
        other => Err(format!(
            "unknown level `{other}`, expected error, warn, info, debug, trace or off"
        )),
    }
}

impl LogSettings {
    /// Checks the section; problems are added to `issues` under `prefix`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if let Err(e) = parse_level(&self.level) {
            issues.push(ConfigIssue::new(format!("{prefix}.level"), e));
        }
        if let Err(e) = self.format.parse::<LogFormat>() {
            issues.push(ConfigIssue::new(format!("{prefix}.format"), e));
        }
        if !(1..=10_000).contains(&self.per_kind_per_minute) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.per_kind_per_minute"),
                format!("{}: expected 1 to 10000", self.per_kind_per_minute),
            ));
        }
        if !(64..=1 << 20).contains(&self.buffer_lines) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.buffer_lines"),
                format!("{}: expected 64 to 1048576", self.buffer_lines),
            ));
        }
        if self.file.is_dir() {
            issues.push(ConfigIssue::new(
                format!("{prefix}.file"),
                format!(
                    "{} is a directory: name a file to append to",
                    self.file.display()
                ),
            ));
        }
    }

    /// The level filter. `self` was validated (an unknown level falls back to `info`).
    pub fn level_filter(&self) -> LevelFilter {
        parse_level(&self.level).unwrap_or(LevelFilter::INFO)
    }

    /// The format. `self` was validated (an unknown format falls back to text).
    pub fn log_format(&self) -> LogFormat {
        self.format.parse().unwrap_or(LogFormat::Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(toml_text: &str) -> Vec<String> {
        let settings: LogSettings = toml::from_str(toml_text).unwrap();
        let mut issues = Vec::new();
        settings.validate("log", &mut issues);
        issues.into_iter().map(|i| i.key).collect()
    }

    #[test]
    fn the_defaults_are_valid_and_write_info_text_to_stderr() {
        let d = LogSettings::default();
        assert!(issues("").is_empty());
        assert_eq!(d.level_filter(), LevelFilter::INFO);
        assert_eq!(d.log_format(), LogFormat::Text);
        assert!(d.file.as_os_str().is_empty());
    }

    #[test]
    fn every_bad_key_is_named() {
        assert_eq!(
            issues(
                "level = \"loud\"\nformat = \"xml\"\nper_kind_per_minute = 0\nbuffer_lines = 8\n"
            ),
            [
                "log.level",
                "log.format",
                "log.per_kind_per_minute",
                "log.buffer_lines"
            ]
        );
        let dir = std::env::temp_dir();
        assert_eq!(
            issues(&format!("file = {:?}\n", dir.display().to_string())),
            ["log.file"]
        );
    }

    #[test]
    fn levels_and_formats_parse() {
        for (name, level) in [
            ("off", LevelFilter::OFF),
            ("error", LevelFilter::ERROR),
            ("warn", LevelFilter::WARN),
            ("warning", LevelFilter::WARN),
            ("info", LevelFilter::INFO),
            ("debug", LevelFilter::DEBUG),
            ("trace", LevelFilter::TRACE),
        ] {
            assert_eq!(parse_level(name), Ok(level), "{name}");
        }
        assert!(parse_level("INFO")
            .unwrap_err()
            .contains("expected error, warn"));
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert!("JSON".parse::<LogFormat>().is_err());
    }

    #[test]
    fn an_unknown_key_is_refused() {
        assert!(toml::from_str::<LogSettings>("levle = \"info\"\n").is_err());
    }
}
