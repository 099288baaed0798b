//! The alert command (`[control.alerts]`) on a running engine: a synthetic day trades in
//! the background, operator commands raise alerts through the real socket, and a small
//! shell script stands in for the chat notifier.

mod common;

use std::path::PathBuf;

use serde_json::Value;

use common::control::{busy_config, market_time, run_dir, Engine};

/// A directory of the test's own, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = run_dir(&format!("{name}-scratch"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_halt_runs_the_command_with_the_alert_line_and_the_rate_limit_counts_the_rest() {
    let dir = scratch("alert-cmd");
    let script = dir.join("notify.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         cat >> \"$1\"\n\
         printf '%s %s %s\\n' \"$TICKPIPE_ALERT_KIND\" \"$TICKPIPE_ALERT_LEVEL\" \
         \"$TICKPIPE_ALERT_SUPPRESSED\" >> \"$2\"\n",
    )
    .unwrap();
    let lines = dir.join("lines.jsonl");
    let env = dir.join("env.txt");
    let mut config = busy_config("alert-cmd", 150);
    let alerts = &mut config.control.alerts;
    alerts.command = vec!["/bin/sh".to_owned()];
    alerts
        .command
        .extend([&script, &lines, &env].map(|p| p.display().to_string()));
    alerts.min_level = "critical".into();
    alerts.min_interval_secs = 3600;
    let engine = Engine::start(config);
    let mut c = engine.client();
    c.ok("subscribe alerts");

    c.ok("halt");
    let streamed = c.wait_event("the halt alert", |e| e["kind"] == "trading_halted");
    let status = c.wait_for("status", "the alert command to finish", |v| {
        v["alert_command"]["ok"].as_u64() >= Some(1)
    });
    assert_eq!(status["alert_command"]["failed"], 0, "{status}");
    let first: Vec<Value> = std::fs::read_to_string(&lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["kind"] == "trading_halted")
        .collect();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["event"], "alert");
    assert_eq!(first[0]["level"], "critical");
    assert_eq!(first[0]["source"], "risk");
    assert_eq!(first[0]["suppressed"], 0);
    // The same event the socket streams, plus the count.
    assert_eq!(first[0]["message"], streamed["message"]);
    assert_eq!(first[0]["market_time"], streamed["market_time"]);

    // Two more halts within the interval: held, the second replacing the first. The
    // activations between them are info alerts, below min_level.
    for _ in 0..2 {
        c.ok("activate");
        c.ok("halt");
        c.wait_event("a halt alert", |e| e["kind"] == "trading_halted");
    }
    // (Other kinds could add to the totals on a day that hits a limit; this one does
    // not, but the halts' own counts below are per kind.)
    let status = c.ok("status");
    assert!(
        status["alert_command"]["suppressed"].as_u64() >= Some(1),
        "{status}"
    );

    // At the end of the session the held one is run anyway, with its count.
    let report = engine.finish();
    let run = report.control.unwrap().alert_command.unwrap();
    let all: Vec<Value> = std::fs::read_to_string(&lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!((run.failed, run.timed_out), (0, 0), "{run:?}");
    assert_eq!(run.ok, all.len() as u64, "one line per run: {all:?}");
    assert!(all.iter().all(|v| v["level"] == "critical"), "{all:?}");
    let halts: Vec<&Value> = all
        .iter()
        .filter(|v| v["kind"] == "trading_halted")
        .collect();
    let counts: Vec<u64> = halts
        .iter()
        .map(|v| v["suppressed"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [0, 1]);
    let env = std::fs::read_to_string(&env).unwrap();
    let halt_env: Vec<&str> = env
        .lines()
        .filter(|l| l.starts_with("trading_halted "))
        .collect();
    assert_eq!(
        halt_env,
        ["trading_halted critical 0", "trading_halted critical 1"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hanging_command_is_killed_and_the_engine_trades_on() {
    let mut config = busy_config("alert-hang", 150);
    config.control.alerts.command = vec!["/bin/sleep".into(), "600".into()];
    config.control.alerts.timeout_ms = 100;
    let engine = Engine::start(config);
    let mut c = engine.client();
    c.ok("halt");
    let killed = c.wait_for("status", "the hanging command to be killed", |v| {
        v["alert_command"]["timed_out"].as_u64() >= Some(1) && v["alert_command"]["running"] == 0
    });
    assert_eq!(killed["alert_command"]["ok"], 0, "{killed}");
    // The engine answered throughout, and the market moves on.
    let t = market_time(&killed);
    c.wait_for("status", "the market to move on", |v| market_time(v) > t);
    let metrics = c.ok("metrics");
    let text = metrics["text"].as_str().unwrap();
    let in_metrics: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tickpipe_alert_command_runs_total{outcome=\"timed_out\"} "))
        .unwrap_or_else(|| panic!("no timed_out count in:\n{text}"))
        .parse()
        .unwrap();
    assert!(
        in_metrics >= killed["alert_command"]["timed_out"].as_u64().unwrap(),
        "{text}"
    );
    let report = engine.finish();
    let run = report.control.unwrap().alert_command.unwrap();
    assert_eq!((run.ok, run.failed), (0, 0), "{run:?}");
    assert!(run.timed_out >= 1, "{run:?}");
}
