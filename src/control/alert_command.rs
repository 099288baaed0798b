//! The alert command (`[control.alerts]`): a program run for each serious alert, so a
//! halt or a daily loss limit reaches someone who is not watching the socket.
//!
//! It lives on the control thread, which already turns the stages' alerts into stream
//! events: the stages pay nothing for it. A run is spawned with the alert's JSON line
//! on its standard input and its kind, level, source and message in environment
//! variables, and is never waited for: each pass of the control loop reaps the runs
//! that ended ([`Child::try_wait`]) and kills those past the timeout. A command that
//! cannot start, fails or hangs is counted and logged, never fatal.
//! Runs are rate-limited per alert kind ([`KindLimiter`]); the number held back is in
//! the `suppressed` field of the next run's line.
//!
//! What a run prints (standard output and standard error) is captured
//! ([`Output`]), never passed through to the engine's own standard error, where it would
//! break a JSON log: when the run ends it is logged as the `output` field of one line,
//! at `warn` with the failure of a run that failed or timed out, at `debug` otherwise.

use std::{
    io::Write,
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::{
    control::{alert_limit::KindLimiter, alert_output::Output, config::AlertsConfig},
    logging::LogLimiter,
    model::AlertLevel,
};

/// How often the control loop looks at running commands (they are reaped by polling).
const REAP_EVERY: Duration = Duration::from_millis(20);
/// How long a killed run may take to be reaped before it is given up on (a process in
/// uninterruptible sleep outlives `SIGKILL` until its I/O returns).
const KILL_GRACE: Duration = Duration::from_secs(1);

/// What the alert command did, for `status`, `metrics` and the run's report. The run
/// outcomes are disjoint: each run counts once, in `ok`, `failed` or `timed_out`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertCommandReport {
    /// Runs that exited with status 0.
    pub ok: u64,
    /// Runs that could not start, or exited with another status or by a signal.
    pub failed: u64,
    /// Runs killed at `timeout_ms`.
    pub timed_out: u64,
    /// Alerts the rate limit held back and replaced by a newer one of their kind; each
    /// is counted in the `suppressed` field of a later run's line.
    pub suppressed: u64,
}

/// One run in progress.
#[derive(Debug)]
struct Running {
    child: Child,
    kind: &'static str,
    deadline: Instant,
    killed: bool,
    /// What it has printed so far.
    output: Output,
}

/// The configured command, its rate limit and its runs in progress.
#[derive(Debug)]
pub struct AlertCommand {
    argv: Vec<String>,
    min_level: AlertLevel,
    timeout: Duration,
    max_running: usize,
    limit: KindLimiter<Value>,
    running: Vec<Running>,
    report: AlertCommandReport,
    /// Bounds the lines a command that keeps failing writes.
    log_limit: LogLimiter,
}

impl AlertCommand {
    /// The command of `config`; `None` when none is configured. `config` was validated
    /// (an unknown `min_level` falls back to `critical`).
    pub fn new(config: &AlertsConfig) -> Option<AlertCommand> {
        if config.command.is_empty() {
            return None;
        }
        Some(AlertCommand {
            argv: config.command.clone(),
            min_level: config.min_level().unwrap_or(AlertLevel::Critical),
            timeout: Duration::from_millis(config.timeout_ms),
            max_running: config.max_running.max(1),
            limit: KindLimiter::new(Duration::from_secs(config.min_interval_secs)),
            running: Vec::new(),
            report: AlertCommandReport::default(),
            log_limit: LogLimiter::new("alert command"),
        })
    }

    /// Whether an alert of `level` runs the command (it is at least `min_level`).
    pub fn wants(&self, level: AlertLevel) -> bool {
        level >= self.min_level
    }

    /// An alert the stages raised, as its stream event: run the command for it now,
    /// hold it for its kind's interval, or ignore it (below `min_level`).
    pub fn offer(&mut self, level: AlertLevel, kind: &'static str, event: Value, now: Instant) {
        if level < self.min_level {
            return;
        }
        if self.running.len() >= self.max_running {
            self.limit.hold(kind, event);
        } else if let Some((kind, event, suppressed)) = self.limit.offer(kind, event, now) {
            self.spawn(kind, event, suppressed, now);
        }
        self.report.suppressed = self.limit.suppressed_total();
    }

    /// One pass of the control loop: reaps the runs that ended, kills those past their
    /// deadline, and runs what the rate limit held once it is due and a run is free.
    pub fn tick(&mut self, now: Instant) {
        self.reap(now);
        let room = self.max_running.saturating_sub(self.running.len());
        for (kind, event, suppressed) in self.limit.due(now, room) {
            self.spawn(kind, event, suppressed, now);
        }
        self.report.suppressed = self.limit.suppressed_total();
    }

    /// How long the control loop may sleep before [`AlertCommand::tick`] has work:
    /// briefly while runs are in progress, else until the next held alert is due.
    pub fn next_wake(&self, now: Instant) -> Option<Duration> {
        if !self.running.is_empty() {
            return Some(REAP_EVERY);
        }
        self.limit
            .next_due(now)
            .map(|due| due.saturating_duration_since(now))
    }

    /// The session is over: runs what is still held (without waiting for its interval)
    /// and waits for every run to end or be killed at its deadline, so the report is
    /// complete. Bounded by the timeout, once per `max_running` held kinds.
    pub fn finish(&mut self) -> AlertCommandReport {
        self.limit.release_all();
        loop {
            self.tick(Instant::now());
            if self.running.is_empty() && !self.limit.has_held() {
                return self.report;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The `alert_command` object of the `status` reply.
    pub fn status(&self) -> Value {
        let r = self.report;
        json!({
            "command": self.argv[0],
            "ok": r.ok,
            "failed": r.failed,
            "timed_out": r.timed_out,
            "suppressed": r.suppressed,
            "running": self.running.len(),
        })
    }

    /// The alert command's families in the Prometheus text of `metrics`.
    pub fn metrics(&self) -> String {
        let r = self.report;
        let mut out = String::new();
        out.push_str(
            "# HELP tickpipe_alert_command_runs_total runs of the alert command by outcome: \
             ok (exit 0), failed (could not start, other exit status, signal), timed_out \
             (killed at control.alerts.timeout_ms)\n\
             # TYPE tickpipe_alert_command_runs_total counter\n",
        );
        for (outcome, n) in [
            ("ok", r.ok),
            ("failed", r.failed),
            ("timed_out", r.timed_out),
        ] {
            out.push_str(&format!(
                "tickpipe_alert_command_runs_total{{outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "# HELP tickpipe_alert_command_suppressed_total alerts the per-kind rate limit \
             replaced by a newer one of their kind\n\
             # TYPE tickpipe_alert_command_suppressed_total counter\n\
             tickpipe_alert_command_suppressed_total {}\n\
             # HELP tickpipe_alert_command_running runs of the alert command in progress\n\
             # TYPE tickpipe_alert_command_running gauge\n\
             tickpipe_alert_command_running {}\n",
            r.suppressed,
            self.running.len()
        ));
        out
    }

    /// Starts one run with `event` (plus its `suppressed` count) on its standard input.
    fn spawn(&mut self, kind: &'static str, mut event: Value, suppressed: u64, now: Instant) {
        event["suppressed"] = json!(suppressed);
        let field = |name: &str| event[name].as_str().unwrap_or("").to_owned();
        let started = Output::pipe().and_then(|(output, stdout, stderr)| {
            let mut command = Command::new(&self.argv[0]);
            command
                .args(&self.argv[1..])
                .env("TICKPIPE_ALERT_KIND", kind)
                .env("TICKPIPE_ALERT_LEVEL", field("level"))
                .env("TICKPIPE_ALERT_SOURCE", field("source"))
                .env("TICKPIPE_ALERT_MESSAGE", field("message"))
                .env("TICKPIPE_ALERT_SUPPRESSED", suppressed.to_string())
                .stdin(Stdio::piped())
                // Neither the engine's standard output (the run's summary) nor its
                // standard error (the log): captured, and logged as one field.
                .stdout(stdout)
                .stderr(stderr)
                // Its own process group: a Ctrl-C at the engine's terminal stops the
                // engine (which then flushes what it holds), not the alert about it
                // half-sent.
                .process_group(0);
            // `command` is dropped on return, and with it the engine's copies of the
            // pipe's write end: the pipe ends when the run's copies close.
            command.spawn().map(|child| (child, output))
        });
        let (mut child, output) = match started {
            Ok(started) => started,
            Err(e) => {
                self.report.failed += 1;
                if self.log_limit.admit("cannot_start") {
                    tracing::warn!(
                        command = self.argv[0].as_str(),
                        alert = kind,
                        error = %e,
                        "alert command: cannot start it"
                    );
                }
                return;
            }
        };
        if let Some(mut stdin) = child.stdin.take() {
            let line = format!("{event}\n");
            // NB: a new pipe holds 64 KiB on Linux and an alert line is a few hundred
            // bytes, so this write never blocks the control thread. A command that does
            // not read its input (or has already exited) makes it fail; that is its
            // business, and its exit status tells.
            let _ = stdin.write_all(line.as_bytes());
            // Dropping `stdin` closes the pipe: the command reads to the end.
        }
        self.running.push(Running {
            child,
            kind,
            deadline: now + self.timeout,
            killed: false,
            output,
        });
    }

    /// Counts the runs that ended, and kills the ones past their deadline; reads what
    /// every run printed meanwhile, and logs it once the run has ended.
    fn reap(&mut self, now: Instant) {
        let program = self.argv[0].as_str();
        let report = &mut self.report;
        let log_limit = &mut self.log_limit;
        self.running.retain_mut(|run| {
            let kind = run.kind;
            // Before `try_wait`: a run that has just exited has written all it will.
            run.output.drain();
            let output = &run.output;
            match run.child.try_wait() {
                Ok(Some(status)) => {
                    if run.killed {
                        // Counted as timed out when it was killed.
                        log_output(log_limit, program, kind, output, true);
                    } else if status.success() {
                        report.ok += 1;
                        log_output(log_limit, program, kind, output, false);
                    } else {
                        report.failed += 1;
                        if log_limit.admit("failed") {
                            tracing::warn!(
                                command = program,
                                alert = kind,
                                status = %status,
                                output = output.text().as_str(),
                                output_dropped = output.dropped(),
                                "alert command: it failed"
                            );
                        }
                    }
                    false
                }
                Ok(None) if !run.killed && now >= run.deadline => {
                    // Kills the command itself, not programs it started: a script
                    // should `exec` its last program.
                    let _ = run.child.kill();
                    run.killed = true;
                    report.timed_out += 1;
                    if log_limit.admit("timed_out") {
                        tracing::warn!(
                            command = program,
                            alert = kind,
                            "alert command: still running at control.alerts.timeout_ms; killed"
                        );
                    }
                    true
                }
                Ok(None) => !(run.killed && now >= run.deadline + KILL_GRACE),
                Err(e) => {
                    if !run.killed {
                        report.failed += 1;
                    }
                    if log_limit.admit("cannot_wait") {
                        tracing::warn!(
                            command = program,
                            alert = kind,
                            error = %e,
                            output = output.text().as_str(),
                            output_dropped = output.dropped(),
                            "alert command: cannot wait for it"
                        );
                    }
                    false
                }
            }
        });
    }
}

/// Logs what a run that ended printed, if anything: at `warn` after a run killed at its
/// deadline (its last words say where it hung), at `debug` after one that went well (a
/// notifier's chatter). A failed run's output goes with its failure line instead.
fn log_output(
    limit: &mut LogLimiter,
    program: &str,
    kind: &'static str,
    output: &Output,
    killed: bool,
) {
    if output.is_empty() {
        return;
    }
    if killed {
        if limit.admit("killed_output") {
            tracing::warn!(
                command = program,
                alert = kind,
                output = output.text().as_str(),
                output_dropped = output.dropped(),
                "alert command: what it printed before it was killed"
            );
        }
    } else if tracing::enabled!(tracing::Level::DEBUG) && limit.admit("output") {
        tracing::debug!(
            command = program,
            alert = kind,
            output = output.text().as_str(),
            output_dropped = output.dropped(),
            "alert command: what it printed"
        );
    }
}

#[cfg(test)]
mod tests {
    //! Real processes (`/bin/sh`), with time passed in: the outcomes are decided by the
    //! commands' exit statuses and by the deadlines given, never by how fast this host is.

    use super::*;

    fn config(command: &[&str]) -> AlertsConfig {
        AlertsConfig {
            command: command.iter().map(|s| (*s).to_owned()).collect(),
            min_level: "warning".into(),
            ..AlertsConfig::default()
        }
    }

    fn event(kind: &str, level: &str) -> Value {
        json!({"event": "alert", "level": level, "source": "risk", "kind": kind, "message": "m"})
    }

    /// Ticks until no run is in progress (each ends on its own: no deadline passes,
    /// since the time given stays `now`).
    fn settle(cmd: &mut AlertCommand, now: Instant) {
        while !cmd.running.is_empty() {
            cmd.tick(now);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_run_gets_the_line_on_stdin_and_the_alert_in_its_environment() {
        let dir = std::env::temp_dir().join(format!("tickpipe-alert-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("line");
        let script = format!(
            "cat > {out:?}; printf '%s %s %s' \"$TICKPIPE_ALERT_KIND\" \"$TICKPIPE_ALERT_LEVEL\" \
             \"$TICKPIPE_ALERT_SUPPRESSED\" > {env:?}",
            env = dir.join("env"),
        );
        let mut cmd = AlertCommand::new(&config(&["/bin/sh", "-c", &script])).unwrap();
        let now = Instant::now();
        cmd.offer(
            AlertLevel::Critical,
            "trading_halted",
            event("trading_halted", "critical"),
            now,
        );
        settle(&mut cmd, now);
        assert_eq!(cmd.report.ok, 1, "{:?}", cmd.report);
        let line = std::fs::read_to_string(&out).unwrap();
        assert!(line.ends_with('\n'), "{line:?}");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["kind"], "trading_halted");
        assert_eq!(v["suppressed"], 0);
        assert_eq!(
            std::fs::read_to_string(dir.join("env")).unwrap(),
            "trading_halted critical 0"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn alerts_below_the_level_run_nothing() {
        let mut cmd = AlertCommand::new(&config(&["/bin/true"])).unwrap();
        let now = Instant::now();
        cmd.offer(AlertLevel::Info, "strategy_paused", event("x", "info"), now);
        assert!(cmd.running.is_empty());
        assert_eq!(cmd.report, AlertCommandReport::default());
        assert!(AlertCommand::new(&AlertsConfig::default()).is_none());
    }

    #[test]
    fn failures_are_counted_never_fatal() {
        let now = Instant::now();
        let mut cmd = AlertCommand::new(&config(&["/bin/sh", "-c", "exit 3"])).unwrap();
        cmd.offer(AlertLevel::Critical, "a", event("a", "critical"), now);
        settle(&mut cmd, now);
        let mut missing = AlertCommand::new(&config(&["/nonexistent/tickpipe-notify"])).unwrap();
        missing.offer(AlertLevel::Critical, "a", event("a", "critical"), now);
        for c in [&cmd, &missing] {
            assert_eq!(
                c.report,
                AlertCommandReport {
                    failed: 1,
                    ..AlertCommandReport::default()
                }
            );
        }
        assert_eq!(cmd.status()["failed"], 1);
        assert!(cmd
            .metrics()
            .contains("tickpipe_alert_command_runs_total{outcome=\"failed\"} 1\n"));
    }

    #[test]
    fn a_run_past_its_deadline_is_killed() {
        let mut cmd = AlertCommand::new(&config(&["/bin/sleep", "600"])).unwrap();
        let now = Instant::now();
        cmd.offer(AlertLevel::Critical, "a", event("a", "critical"), now);
        assert_eq!(cmd.running.len(), 1);
        cmd.tick(now);
        assert_eq!(cmd.running.len(), 1, "before its deadline it runs on");
        let late = now + Duration::from_millis(AlertsConfig::default().timeout_ms);
        cmd.tick(late);
        assert_eq!(cmd.report.timed_out, 1);
        // Reaped once the kill lands.
        settle(&mut cmd, late);
        assert_eq!(
            cmd.report,
            AlertCommandReport {
                timed_out: 1,
                ..AlertCommandReport::default()
            }
        );
    }

    #[test]
    fn a_burst_is_one_run_and_the_rest_go_with_their_count_at_the_end() {
        let dir = std::env::temp_dir().join(format!("tickpipe-alert-burst-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = format!("cat >> {:?}", dir.join("lines"));
        let mut cmd = AlertCommand::new(&config(&["/bin/sh", "-c", &script])).unwrap();
        let now = Instant::now();
        for _ in 0..5 {
            cmd.offer(
                AlertLevel::Warning,
                "order_rejected",
                event("order_rejected", "warning"),
                now,
            );
        }
        settle(&mut cmd, now);
        assert_eq!(cmd.report.ok, 1);
        assert_eq!(cmd.report.suppressed, 3);
        // The session ends within the interval: the held alert goes anyway.
        let report = cmd.finish();
        assert_eq!(report.ok, 2);
        let lines: Vec<Value> = std::fs::read_to_string(dir.join("lines"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let counts: Vec<&Value> = lines.iter().map(|v| &v["suppressed"]).collect();
        assert_eq!(counts, [&json!(0), &json!(3)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
