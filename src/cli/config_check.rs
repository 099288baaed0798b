//! `tickpipe config`: the embedded default configuration, and `tickpipe config check`,
//! which checks configuration files against this machine before a session depends on
//! them.
//!
//! `run` stops at the first section that cannot be built (a missing universe file is
//! found only after the feed is opened); `check` instead reports every problem of every
//! file at once, one per line, so a config can be fixed in one pass before the open.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};

use crate::{
    config::ConfigIssue,
    engine::{EngineConfig, DEFAULT_TOML},
    feed::SourceKind,
    model::TimeOfDay,
    order::Product,
};

/// Options of `tickpipe config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Without a subcommand: print the embedded default configuration.
    #[command(subcommand)]
    command: Option<ConfigCommand>,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate configuration files: every key, then what needs this machine (cores,
    /// readable files, writable directories). Prints `FILE: key: why` per problem, or
    /// `FILE: ok (...)`; exits 1 when any file has a problem.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Configuration files (TOML) to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Zerodha squares off open MIS equity positions from 15:20 IST (and charges for it), so
/// an engine that squares off later leaves its exits to the broker.
const BROKER_MIS_SQUARE_OFF: TimeOfDay = TimeOfDay::hm(15, 20);

/// Runs `tickpipe config`.
pub(super) fn config(args: &ConfigArgs) -> Result<(), String> {
    match &args.command {
        None => {
            print!("{DEFAULT_TOML}");
            Ok(())
        }
        Some(ConfigCommand::Check(check)) => check_files(&check.files),
    }
}

/// Checks every file, printing its problems (or `ok`) as it goes.
fn check_files(files: &[PathBuf]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    let mut problems = 0;
    let mut bad_files = 0;
    for file in files {
        let shown = file.display();
        let written = match check_file(file) {
            Ok(summary) => writeln!(out, "{shown}: ok ({summary})"),
            Err(issues) => {
                problems += issues.len();
                bad_files += 1;
                issues
                    .iter()
                    .try_for_each(|i| writeln!(out, "{shown}: {}: {}", i.key, i.reason))
            }
        };
        written.map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    if problems == 0 {
        Ok(())
    } else {
        Err(format!(
            "{problems} problem{} in {bad_files} of {} file{}",
            if problems == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
        ))
    }
}

/// One file: its summary line when it is usable here, else every problem found.
fn check_file(path: &Path) -> Result<String, Vec<ConfigIssue>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![ConfigIssue::new("(file)", format!("cannot read: {e}"))])?;
    // A file that does not parse has no values to check further.
    let config = EngineConfig::parse_toml(&text, &origin).map_err(|e| e.issues)?;
    let mut issues = match config.validate(&origin) {
        Ok(()) => Vec::new(),
        Err(e) => e.issues,
    };
    machine_issues(&config, &mut issues);
    consistency_issues(&config, &mut issues);
    if !issues.is_empty() {
        return Err(issues);
    }
    let layout = match &config.runtime.groups {
        Some(groups) => format!("{} explicit groups", groups.len()),
        None => config.runtime.layout.clone(),
    };
    Ok(format!(
        "{} strategies on, source {}, layout {layout}",
        crate::signal::strategy_names(&config.strategy).len(),
        config.feed.source.name(),
    ))
}

/// What `validate` cannot see from the text alone: the files the configuration names
/// must be readable and its directories creatable, from the working directory a run
/// would start in. Cores are checked by `validate` itself.
fn machine_issues(config: &EngineConfig, issues: &mut Vec<ConfigIssue>) {
    let feed = &config.feed;
    match feed.source {
        SourceKind::Replay => {
            if let Some(path) = &feed.replay_file {
                readable_file("feed.replay_file", path, issues);
            }
        }
        SourceKind::Synthetic => {
            if let Some(path) = &feed.synthetic.universe {
                readable_file("feed.synthetic.universe", path, issues);
            }
        }
        SourceKind::Kite => {
            let kite = &feed.kite;
            for (key, path) in [
                ("feed.kite.universe", &kite.universe),
                ("feed.kite.instruments", &kite.instruments),
                ("feed.kite.ca_file", &kite.ca_file),
            ] {
                if let Some(path) = path {
                    readable_file(key, path, issues);
                }
            }
            // The token is checked as the run would read it (its text is never shown).
            if let Some(path) = kite
                .access_token_file
                .as_ref()
                .filter(|p| !p.as_os_str().is_empty())
            {
                if let Err(why) = crate::feed::kite::read_access_token(path) {
                    issues.push(ConfigIssue::new("feed.kite.access_token_file", why));
                }
            }
        }
        SourceKind::Truedata => {
            let truedata = &feed.truedata;
            for (key, path) in [
                ("feed.truedata.universe", &truedata.universe),
                ("feed.truedata.ca_file", &truedata.ca_file),
            ] {
                if let Some(path) = path {
                    readable_file(key, path, issues);
                }
            }
            // The login is read as the run would read it (its values are never shown).
            if let Err(why) = truedata.credentials().read() {
                let key = if truedata.credentials_file.is_some() {
                    "feed.truedata.credentials_file"
                } else {
                    "feed.truedata.user_env"
                };
                issues.push(ConfigIssue::new(key, why));
            }
        }
    }
    // A news file that does not exist yet is waited for; one that exists must be readable.
    if let Some(path) = feed.news_file.as_ref().filter(|p| p.exists()) {
        readable_file("feed.news_file", path, issues);
    }
    let regime = &config.strategy.regime_adaptive;
    if regime.enabled {
        if let Some(path) = &regime.model_file {
            readable_file("strategy.regime_adaptive.model_file", path, issues);
        }
    }
    // The day history is read if present and appended to after the run.
    if let Some(path) = &config.filters.history_file {
        if path.exists() {
            readable_file("filters.history_file", path, issues);
        } else {
            creatable("filters.history_file", path, issues);
        }
    }
    let control = &config.control;
    if control.enabled {
        creatable("control.run_dir", &control.run_dir, issues);
        for (key, path) in [
            ("control.tls_cert", &control.tls_cert),
            ("control.tls_key", &control.tls_key),
            ("control.token_file", &control.token_file),
        ] {
            if let Some(path) = path {
                readable_file(key, path, issues);
            }
        }
        if let Some(program) = control.alerts.command.first() {
            executable("control.alerts.command", program, issues);
        }
    }
    if config.journal.enabled {
        creatable("journal.dir", &config.journal.dir, issues);
    }
    let log = &config.log.file;
    if log.is_file() {
        if let Err(e) = std::fs::OpenOptions::new().append(true).open(log) {
            let shown = log.display();
            issues.push(ConfigIssue::new(
                "log.file",
                format!("cannot append to {shown}: {e}"),
            ));
        }
    } else {
        // Not there yet: its nearest existing ancestor must be a writable directory.
        creatable("log.file", log, issues);
    }
}

/// Rules across sections that no one section's `validate` can see.
pub(crate) fn consistency_issues(config: &EngineConfig, issues: &mut Vec<ConfigIssue>) {
    let square_off = config.risk.square_off;
    if config.order.product_equity == Product::Mis && square_off >= BROKER_MIS_SQUARE_OFF {
        issues.push(ConfigIssue::new(
            "risk.square_off",
            format!(
                "is {square_off}, not before {BROKER_MIS_SQUARE_OFF}, when the broker squares \
                 off MIS equity positions (order.product_equity = \"MIS\")"
            ),
        ));
    }
}

/// `program` names a file the engine could run: a path (with a `/`) as it stands, from
/// the working directory, and a bare name as this process's `PATH` finds it. Execute
/// permission is read from the mode bits, which is what a run will meet unless ACLs or
/// a `noexec` mount say otherwise. An empty name is `validate`'s to report.
fn executable(key: &str, program: &str, issues: &mut Vec<ConfigIssue>) {
    use std::os::unix::fs::PermissionsExt as _;
    if program.is_empty() {
        return;
    }
    let path = if program.contains('/') {
        PathBuf::from(program)
    } else {
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        });
        let Some(path) = found else {
            issues.push(ConfigIssue::new(
                key,
                format!(
                    "`{program}` is not found in PATH; give its full path (a service's PATH \
                     is not a login shell's)"
                ),
            ));
            return;
        };
        path
    };
    let shown = path.display();
    match std::fs::metadata(&path) {
        Err(e) => issues.push(ConfigIssue::new(key, format!("cannot run {shown}: {e}"))),
        Ok(meta) if !meta.is_file() => {
            issues.push(ConfigIssue::new(key, format!("{shown} is not a file")));
        }
        Ok(meta) if meta.permissions().mode() & 0o111 == 0 => issues.push(ConfigIssue::new(
            key,
            format!(
                "{shown} is not executable (mode {:o}); `chmod +x` it",
                meta.permissions().mode() & 0o7777
            ),
        )),
        Ok(_) => {}
    }
}

/// `path` opens for reading and is a file. An empty path is `validate`'s to report.
fn readable_file(key: &str, path: &Path, issues: &mut Vec<ConfigIssue>) {
    if path.as_os_str().is_empty() {
        return;
    }
    let shown = path.display();
    match std::fs::File::open(path).and_then(|f| f.metadata()) {
        Ok(meta) if meta.is_dir() => {
            issues.push(ConfigIssue::new(
                key,
                format!("{shown} is a directory, not a file"),
            ));
        }
        Ok(_) => {}
        Err(e) => issues.push(ConfigIssue::new(key, format!("cannot read {shown}: {e}"))),
    }
}

/// `path` (a file or a directory) exists, or can be created: its nearest existing
/// ancestor is a directory this process can write. Writing is tried with a probe file,
/// removed at once, because permission bits do not tell (root, ACLs, read-only mounts).
fn creatable(key: &str, path: &Path, issues: &mut Vec<ConfigIssue>) {
    let shown = path.display();
    if path.as_os_str().is_empty() {
        return;
    }
    if path.is_dir() {
        if let Err(e) = probe_write(path) {
            issues.push(ConfigIssue::new(
                key,
                format!("cannot write in {shown}: {e}"),
            ));
        }
        return;
    }
    if path.exists() {
        // An existing file (a news or history file) is checked by `readable_file`.
        return;
    }
    let mut ancestor = path.parent();
    while let Some(dir) = ancestor {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if dir.exists() {
            let problem = if dir.is_dir() {
                probe_write(dir)
                    .err()
                    .map(|e| format!("cannot write in {}: {e}", dir.display()))
            } else {
                Some(format!("{} is not a directory", dir.display()))
            };
            if let Some(why) = problem {
                issues.push(ConfigIssue::new(
                    key,
                    format!("cannot create {shown}: {why}"),
                ));
            }
            return;
        }
        ancestor = dir.parent();
    }
}

/// Creates and removes a uniquely named empty file in `dir`.
fn probe_write(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".tickpipe-config-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of the test's own.
    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tickpipe-config-check-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A config file in `dir(name)`, its run and journal directories inside it.
    fn file(name: &str, top: &str, alerts: &str) -> PathBuf {
        let dir = dir(name);
        let path = dir.join("c.toml");
        let text = format!(
            "{top}\n[runtime]\ncores = []\n[control]\nrun_dir = {run:?}\n\
             [control.alerts]\n{alerts}\n[journal]\ndir = {journal:?}\n",
            run = dir.join("run"),
            journal = dir.join("journal"),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn keys(issues: &[ConfigIssue]) -> Vec<&str> {
        issues.iter().map(|i| i.key.as_str()).collect()
    }

    fn clean(files: &[PathBuf]) {
        for f in files {
            let _ = std::fs::remove_dir_all(f.parent().unwrap());
        }
    }

    #[test]
    fn the_config_version_is_reported_as_run_reports_it() {
        let current = file("v1", "config_version = 1", "");
        assert!(check_file(&current).is_ok(), "{:?}", check_file(&current));
        let missing = file("v-none", "", "");
        assert!(check_file(&missing).is_ok(), "{:?}", check_file(&missing));
        // A newer file is refused for its version alone, not for the key it adds.
        let newer = file("v7", "config_version = 7", "brand_new_key = 1");
        let issues = check_file(&newer).unwrap_err();
        assert_eq!(keys(&issues), ["config_version"], "{issues:?}");
        assert!(
            issues[0].reason.starts_with("is 7, but this build"),
            "{issues:?}"
        );
        let text = file("v-text", "config_version = \"2\"", "");
        let issues = check_file(&text).unwrap_err();
        assert_eq!(keys(&issues), ["config_version"], "{issues:?}");
        assert!(issues[0].reason.contains("whole number"), "{issues:?}");
        clean(&[current, missing, newer, text]);
    }

    #[test]
    fn the_alert_command_must_exist_and_be_executable() {
        let good = file("cmd-ok", "", "command = [\"/bin/sh\", \"-c\", \"cat\"]");
        assert!(check_file(&good).is_ok(), "{:?}", check_file(&good));
        let missing = file(
            "cmd-missing",
            "",
            "command = [\"/nonexistent/tickpipe-notify\"]",
        );
        let issues = check_file(&missing).unwrap_err();
        assert_eq!(keys(&issues), ["control.alerts.command"], "{issues:?}");
        assert!(
            issues[0].reason.contains("/nonexistent/tickpipe-notify"),
            "{issues:?}"
        );
        let unknown = file(
            "cmd-unknown",
            "",
            "command = [\"tickpipe-no-such-notifier\"]",
        );
        let issues = check_file(&unknown).unwrap_err();
        assert!(issues[0].reason.contains("not found in PATH"), "{issues:?}");
        // A file without execute permission.
        let script = dir("cmd-plain").join("notify.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let plain = file("cmd-plain", "", &format!("command = [{script:?}]"));
        let issues = check_file(&plain).unwrap_err();
        assert_eq!(keys(&issues), ["control.alerts.command"], "{issues:?}");
        assert!(
            issues[0].reason.contains("is not executable (mode 6"),
            "{issues:?}"
        );
        clean(&[good, missing, unknown, plain]);
    }

    #[test]
    fn the_log_file_must_be_appendable_or_creatable() {
        let base = dir("log-ok");
        let log = base.join("log/tickpipe.log");
        let good = file("log-ok", &format!("[log]\nfile = {log:?}"), "");
        assert!(check_file(&good).is_ok(), "{:?}", check_file(&good));
        // Under a regular file, no directory can be made.
        let blocker = dir("log-bad").join("plain");
        std::fs::write(&blocker, "").unwrap();
        let bad = file(
            "log-bad",
            &format!("[log]\nfile = {:?}", blocker.join("tickpipe.log")),
            "",
        );
        let issues = check_file(&bad).unwrap_err();
        assert_eq!(keys(&issues), ["log.file"], "{issues:?}");
        clean(&[good, bad]);
    }
}
