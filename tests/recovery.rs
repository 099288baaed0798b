//! Crash recovery as an operator meets it: the engine is killed (`SIGKILL`, no chance to
//! clean up) at random points of a synthetic day, started again with the same command,
//! and must finish the day with the same positions, P&L and orders as a run that was
//! never interrupted.
//!
//! The kill points are random on purpose (a seed printed on failure repeats them:
//! `TICKPIPE_KILL_SEED=N`). The day is paced (`--speed`) so that it lasts several
//! seconds of wall time and every kill lands while the engine is trading; what is
//! compared is market-time behaviour only, never wall-clock figures.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

/// 6 h 15 min of market time in about 7.5 s of wall time.
const SPEED: &str = "3000";

/// The summary sections that describe the day's trading (everything but wall-clock
/// figures and where the journal went).
const TRADING: [&str; 10] = [
    "market",
    "flow",
    "protective_stops",
    "regime",
    "pnl",
    "strategies",
    "refusals",
    "risk_events",
    "forced_exits",
    "instruments",
];

fn tickpipe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-recovery-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `tickpipe run` journaling under `dir/journal`, its control socket in `dir`.
fn run_cmd(dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = tickpipe();
    cmd.arg("run")
        .arg("--quiet")
        .arg("--run-dir")
        .arg(dir)
        .arg("--journal")
        .arg(dir.join("journal"))
        .args(extra);
    cmd
}

/// Runs the day to its end; returns the JSON summary and stdout.
fn finish(dir: &Path, extra: &[&str]) -> (Value, String) {
    let json = dir.join("summary.json");
    let out = run_cmd(dir, extra)
        .arg("--summary-json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (v, stdout)
}

/// Starts the day, waits until the engine says on stderr that its journal is open and
/// its start (or resumption) is marked, so a slow start-up on a busy machine does not
/// eat the delay, and kills it with `SIGKILL` `after` that.
fn start_and_kill(dir: &Path, after: Duration) {
    use std::io::{BufRead, BufReader};
    let mut child = run_cmd(dir, &["--speed", SPEED])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("tickpipe: journal "));
    assert!(ready, "the engine stopped before it opened its journal");
    // Keep reading stderr so the engine never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.for_each(drop));
    std::thread::sleep(after);
    // SIGKILL: the process gets no chance to flush, close or mark anything.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drain.join().unwrap();
    assert!(
        status.code().is_none(),
        "the engine finished before it was killed ({status}): slow the day down"
    );
}

/// A small xorshift generator: the kill points need to be spread, not cryptographic.
struct Points(u64);

impl Points {
    fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo)
    }
}

fn seed() -> u64 {
    std::env::var("TICKPIPE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

fn trading(v: &Value) -> Vec<(&'static str, &Value)> {
    TRADING.iter().map(|k| (*k, &v[*k])).collect()
}

#[test]
fn a_day_killed_at_random_points_and_restarted_ends_as_if_never_interrupted() {
    let seed = seed();
    let mut points = Points(seed);
    let base = scratch("baseline");
    let (expected, _) = finish(&base, &[]);
    assert!(
        expected["flow"]["fills"].as_u64().unwrap_or(0) > 0 || expected["pnl"].is_object(),
        "the baseline day traded: {expected}"
    );

    for trial in 0..3 {
        let dir = scratch(&format!("trial{trial}"));
        // Kill once; on the last trial kill the restarted engine again while it
        // catches up or trades on.
        let kills = if trial == 2 { 2 } else { 1 };
        let mut at = Vec::new();
        for k in 0..kills {
            // The day lasts about 7.5 s of wall time from its start; a second kill
            // lands early in what is left of it.
            let ms = if k == 0 {
                points.next_ms(100, 5_000)
            } else {
                points.next_ms(50, 1_000)
            };
            at.push(ms);
            start_and_kill(&dir, Duration::from_millis(ms));
        }
        let (got, stdout) = finish(&dir, &["--speed", SPEED]);
        let context =
            format!("seed {seed} (TICKPIPE_KILL_SEED), trial {trial}, killed after {at:?} ms");
        assert_eq!(
            trading(&got),
            trading(&expected),
            "{context}: the resumed day differs from the uninterrupted one\n{stdout}"
        );
        assert_eq!(got["journal"]["failures"].as_u64(), Some(0), "{context}");
        assert_eq!(got["journal"]["ended"], Value::Bool(true), "{context}");
        let journal_dir = PathBuf::from(got["journal"]["dir"].as_str().unwrap());
        assert!(
            journal_dir.ends_with("journal/2026-11-25"),
            "{context}: the restart resumed the day's journal, not a new one: {}",
            journal_dir.display()
        );
        // One journal for the day, whole: every record once, every CRC good, and the
        // same records as the uninterrupted day's.
        assert_eq!(
            got["journal"]["records"], expected["journal"]["records"],
            "{context}"
        );
        let out = tickpipe()
            .args(["journal", "verify"])
            .arg(&journal_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{context}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_day_that_ended_is_not_resumed_and_a_changed_configuration_is_refused() {
    let dir = scratch("ended");
    let (first, _) = finish(&dir, &["--duration", "1h"]);
    assert_eq!(first["journal"]["ended"], Value::Bool(true));
    // The day ended: a second run gets a journal of its own.
    let (second, _) = finish(&dir, &["--duration", "1h"]);
    assert!(
        second["journal"]["dir"]
            .as_str()
            .unwrap()
            .ends_with("2026-11-25.run2"),
        "{}",
        second["journal"]
    );
    assert_eq!(second["journal"]["resumed"], Value::Null);

    // A day killed mid-way is not resumed with another configuration.
    start_and_kill(&dir, Duration::from_millis(500));
    let config = dir.join("other.toml");
    std::fs::write(&config, "[risk]\nmax_position_pct = 10\n").unwrap();
    let out = run_cmd(&dir, &["--config"]).arg(&config).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("another configuration"), "{err}");
    assert!(err.contains("--no-resume"), "{err}");
    // --no-resume starts the day afresh and keeps the killed run's journal.
    let (fresh, _) = finish(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--no-resume",
            "--duration",
            "1h",
        ],
    );
    assert!(
        fresh["journal"]["dir"]
            .as_str()
            .unwrap()
            .ends_with("2026-11-25.run4"),
        "{}",
        fresh["journal"]
    );
    assert!(dir.join("journal/2026-11-25.run3").is_dir());
    let _ = std::fs::remove_dir_all(&dir);
}
