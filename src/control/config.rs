//! The `[control]` section: the control socket, its bounds, scheduled commands, and the
//! alert command (`[control.alerts]`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::{
    config::ConfigIssue,
    control::{parse, Request},
    model::{AlertLevel, TimeOfDay},
};

/// The control socket and the commands scheduled at market times, section `[control]`.
///
/// # Examples
/// ```
/// use tickpipe::control::ControlConfig;
/// let cfg: ControlConfig = toml::from_str(r#"
///     run_dir = "var/desk"
///     [[schedule]]
///     at = "10:30"
///     command = "halt"
/// "#).unwrap();
/// let mut issues = Vec::new();
/// cfg.validate("control", &mut issues);
/// assert!(issues.is_empty());
/// assert_eq!(cfg.socket_path().to_str(), Some("var/desk/tickpipe.sock"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// Serve the control socket while trading.
    pub enabled: bool,
    /// Folder of the socket (created if missing), `var` by default.
    pub run_dir: PathBuf,
    /// Also listen on this TCP address (`127.0.0.1:7700`); served only over TLS with a
    /// token. Empty: no TCP listener.
    pub tcp: String,
    /// PEM certificate chain for the TCP listener.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for the TCP listener.
    pub tls_key: Option<PathBuf>,
    /// File holding the token TCP clients must send with `auth` (its first line).
    pub token_file: Option<PathBuf>,
    /// Connections served at once; more are refused with `busy`.
    pub max_connections: usize,
    /// Commands one connection may send per second (a burst of this many is allowed).
    pub commands_per_sec: u32,
    /// Reply bytes that may wait for a slow client; past this the connection is cut off.
    pub max_pending_bytes: usize,
    /// How long the control thread waits for a stage to answer, in milliseconds.
    pub answer_timeout_ms: u64,
    /// Pin the control thread to this core (a housekeeping core, away from the stage
    /// groups); unset leaves it to the OS.
    pub core: Option<usize>,
    /// Commands carried out at market times, in stream order (drills and tests).
    pub schedule: Vec<ScheduleEntry>,
    /// `[control.alerts]`: a program run for each serious alert.
    pub alerts: AlertsConfig,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            enabled: true,
            run_dir: PathBuf::from("var"),
            tcp: String::new(),
            tls_cert: None,
            tls_key: None,
            token_file: None,
            max_connections: 16,
            commands_per_sec: 50,
            max_pending_bytes: 1 << 20,
            answer_timeout_ms: 2_000,
            core: None,
            schedule: Vec::new(),
            alerts: AlertsConfig::default(),
        }
    }
}

/// `[control.alerts]`: a program the control thread runs for each alert of at least
/// `min_level` (a script that posts to a chat, pages someone), with the alert's JSON line
/// on its standard input. It runs off the stages' threads, never waited for, killed after
/// `timeout_ms`, and at most once per alert kind every `min_interval_secs`; what the
/// limit holds back is counted into the next run of that kind. The control thread runs
/// it whether or not it serves the socket (`control.enabled`).
///
/// # Examples
/// ```
/// use tickpipe::control::AlertsConfig;
/// let cfg: AlertsConfig = toml::from_str(r#"
///     command = ["/usr/local/bin/notify", "--channel", "trading"]
///     min_level = "warning"
/// "#).unwrap();
/// let mut issues = Vec::new();
/// cfg.validate("control.alerts", &mut issues);
/// assert!(issues.is_empty());
/// assert!(cfg.min_level().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// The program and its arguments (no shell: `["/bin/sh", "-c", "..."]` for one);
    /// empty runs nothing.
    pub command: Vec<String>,
    /// The least level that runs the command: `info`, `warning` or `critical`.
    pub min_level: String,
    /// At most one run per alert kind in this many seconds; 0 runs one per alert.
    pub min_interval_secs: u64,
    /// A run still going after this many milliseconds is killed and counted as timed out.
    pub timeout_ms: u64,
    /// Runs at once; an alert that finds them all busy waits (held like a rate-limited
    /// one) until one ends.
    pub max_running: usize,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            command: Vec::new(),
            min_level: "critical".to_owned(),
            min_interval_secs: 60,
            timeout_ms: 10_000,
            max_running: 4,
        }
    }
}

impl AlertsConfig {
    /// `min_level` as a level; `None` when it names none.
    pub fn min_level(&self) -> Option<AlertLevel> {
        match self.min_level.as_str() {
            "info" => Some(AlertLevel::Info),
            "warning" => Some(AlertLevel::Warning),
            "critical" => Some(AlertLevel::Critical),
            _ => None,
        }
    }

    /// Pushes one issue per invalid key, each named `{prefix}.key`. Whether the program
    /// exists is for `tickpipe config check`: it depends on the machine, not the text.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if let Some(program) = self.command.first() {
            if program.is_empty() {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.command"),
                    "starts with an empty program name; give a path such as \
                     \"/usr/local/bin/notify\"",
                ));
            }
        }
        if self.min_level().is_none() {
            issues.push(ConfigIssue::new(
                format!("{prefix}.min_level"),
                format!(
                    "unknown level `{}`, expected info, warning or critical",
                    self.min_level
                ),
            ));
        }
        let ranges = [
            ("min_interval_secs", self.min_interval_secs, 0, 86_400),
            ("timeout_ms", self.timeout_ms, 100, 600_000),
            ("max_running", self.max_running as u64, 1, 64),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {value}, must be from {min} to {max}"),
                ));
            }
        }
    }
}

/// One `[[control.schedule]]` entry: a command line and the market time to run it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntry {
    /// IST time of day of the session, `HH:MM` or `HH:MM:SS`.
    pub at: String,
    /// A state-changing command as typed at the socket (`pause sma_cross`, `halt`,
    /// `close SBIN`, `set max_exposure_pct 50`, ...).
    pub command: String,
}

impl ScheduleEntry {
    /// The time and the parsed command.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub fn parsed(&self) -> Result<(TimeOfDay, Request), String> {
        let at = TimeOfDay::parse(&self.at).ok_or_else(|| {
            format!(
                "`{}` is not a time of day; write HH:MM or HH:MM:SS (IST)",
                self.at
            )
        })?;
        let request = parse(&self.command).map_err(|e| e.message)?;
        if !request.changes_state() {
            return Err(format!(
                "`{}` changes nothing; a schedule holds pause, resume, close, flatten, \
                 halt, reduce, activate or set",
                request.word()
            ));
        }
        Ok((at, request))
    }
}

impl ControlConfig {
    /// Where the Unix socket lives.
    pub fn socket_path(&self) -> PathBuf {
        self.run_dir.join("tickpipe.sock")
    }

    /// Pushes one issue per invalid key, each named `{prefix}.key`. Names in scheduled
    /// commands (symbols, strategies) are checked when the engine is built.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if self.run_dir.as_os_str().is_empty() {
            issues.push(ConfigIssue::new(
                format!("{prefix}.run_dir"),
                "is empty; name a folder such as \"var\"",
            ));
        }
        if !self.tcp.is_empty() {
            if self.tcp.parse::<std::net::SocketAddr>().is_err() {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.tcp"),
                    format!(
                        "`{}` is not an address such as \"127.0.0.1:7700\"",
                        self.tcp
                    ),
                ));
            }
            if self.tls_cert.is_none() || self.tls_key.is_none() {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.tcp"),
                    "the TCP listener is served only over TLS: set tls_cert and tls_key \
                     (PEM files), or leave tcp empty",
                ));
            }
            if self.token_file.is_none() {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.tcp"),
                    "the TCP listener needs a token: set token_file, or leave tcp empty",
                ));
            }
        }
        let ranges = [
            ("max_connections", self.max_connections as u64, 1, 1024),
            (
                "commands_per_sec",
                u64::from(self.commands_per_sec),
                1,
                10_000,
            ),
            (
                "max_pending_bytes",
                self.max_pending_bytes as u64,
                4096,
                1 << 30,
            ),
            ("answer_timeout_ms", self.answer_timeout_ms, 10, 60_000),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {value}, must be from {min} to {max}"),
                ));
            }
        }
        for (i, entry) in self.schedule.iter().enumerate() {
            if let Err(e) = entry.parsed() {
                issues.push(ConfigIssue::new(format!("{prefix}.schedule[{i}]"), e));
            }
        }
        self.alerts.validate(&format!("{prefix}.alerts"), issues);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(text: &str) -> Vec<String> {
        let cfg: ControlConfig = toml::from_str(text).unwrap();
        let mut issues = Vec::new();
        cfg.validate("control", &mut issues);
        issues.into_iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn tcp_needs_tls_and_a_token() {
        let found = issues(r#"tcp = "127.0.0.1:7700""#);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("only over TLS"), "{found:?}");
        assert!(issues(r#"tcp = "localhost""#)[0].contains("not an address"));
    }

    #[test]
    fn the_alert_command_is_checked() {
        assert!(issues("[alerts]\ncommand = [\"/bin/true\"]\n").is_empty());
        let found = issues(
            "enabled = false\n[alerts]\ncommand = [\"\"]\nmin_level = \"loud\"\n\
             timeout_ms = 0\nmax_running = 0\nmin_interval_secs = 100000\n",
        );
        let keys: Vec<&str> = found.iter().map(|i| i.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "control.alerts.command",
                "control.alerts.min_level",
                "control.alerts.min_interval_secs",
                "control.alerts.timeout_ms",
                "control.alerts.max_running",
            ],
            "{found:?}"
        );
        assert!(found[0].contains("empty program name"), "{found:?}");
        assert!(found[1].contains("`loud`"), "{found:?}");
        // The command runs with the socket off too.
        assert!(issues("enabled = false\n[alerts]\ncommand = [\"/bin/true\"]\n").is_empty());
    }

    #[test]
    fn schedule_entries_are_checked() {
        let found = issues(
            r#"
            [[schedule]]
            at = "25:00"
            command = "halt"
            [[schedule]]
            at = "10:30"
            command = "status"
            [[schedule]]
            at = "10:30"
            command = "pause"
            "#,
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("control.schedule[0]: `25:00`"));
        assert!(found[1].contains("changes nothing"));
        assert!(found[2].contains("usage: pause <strategy>"));
    }
}
