//! The structured log as an operator meets it: `tickpipe run --log-format json` writes
//! nothing but JSON lines, to standard error or to `log.file`, with the fields a log
//! shipper indexes, the alert command's own output included; alerts are in it, with or
//! without the control socket; a bad `[log]` key is named.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

mod common;

/// A scratch directory of this test, removed when the test passes.
fn dir(name: &str) -> common::Scratch {
    common::Scratch::new("logs", name)
}

/// `tickpipe run` on a short synthetic day with its own run directory and journal.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .arg("run")
        .arg("--run-dir")
        .arg(dir)
        .arg("--journal")
        .arg(dir.join("journal"))
        .args(["--duration", "30m", "--seed", "7"])
        .args(args)
        .output()
        .unwrap()
}

/// Every line of `text` as JSON, each checked for the fields every line has.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\n{text}"));
            for key in ["timestamp", "level", "target", "fields"] {
                assert!(!v[key].is_null(), "no `{key}` in {line}");
            }
            assert!(v["fields"]["message"].is_string(), "{line}");
            v
        })
        .collect()
}

fn message(v: &Value) -> &str {
    v["fields"]["message"].as_str().unwrap_or("")
}

#[test]
fn json_on_stderr_is_only_json_lines_status_line_included() {
    let d = dir("stderr");
    // No --quiet: the status gauges must come as JSON events too.
    let out = run(&d, &["--log-format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = json_lines(&stderr);
    let opened = lines
        .iter()
        .find(|v| message(v).starts_with("journal opened"))
        .unwrap_or_else(|| panic!("no journal line:\n{stderr}"));
    assert_eq!(opened["level"], "INFO");
    assert!(
        opened["fields"]["dir"]
            .as_str()
            .unwrap()
            .contains("journal"),
        "{opened}"
    );
    let start = lines
        .iter()
        .find(|v| message(v) == "session starts")
        .unwrap();
    assert!(start["fields"]["layout"].is_string(), "{start}");
    // The summary is output, not log: it stays on standard output.
    assert!(String::from_utf8_lossy(&out.stdout).contains("run summary"));
}

#[test]
fn a_log_file_gets_the_lines_and_stderr_stays_clear() {
    let d = dir("file");
    let file = d.join("log/tickpipe.log");
    let args = [
        "--quiet",
        "--log-format",
        "json",
        "--log-file",
        file.to_str().unwrap(),
    ];
    let out = run(&d, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let first = json_lines(&std::fs::read_to_string(&file).unwrap());
    assert!(first
        .iter()
        .any(|v| message(v).starts_with("journal opened")));
    // A second run appends.
    let out = run(&d, &args);
    assert!(out.status.success());
    let both = json_lines(&std::fs::read_to_string(&file).unwrap());
    assert!(
        both.len() > first.len(),
        "{} then {}",
        first.len(),
        both.len()
    );
}

#[test]
fn alerts_are_logged_at_their_level_with_their_fields() {
    let d = dir("alerts");
    let config = d.join("halt.toml");
    std::fs::write(
        &config,
        "[[control.schedule]]\nat = \"09:30\"\ncommand = \"halt\"\n\n[log]\nformat = \"json\"\n",
    )
    .unwrap();
    let out = run(&d, &["--quiet", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = json_lines(&stderr);
    let halted = lines
        .iter()
        .find(|v| v["fields"]["kind"] == "trading_halted")
        .unwrap_or_else(|| panic!("no trading_halted alert in the log:\n{stderr}"));
    assert_eq!(halted["level"], "ERROR", "critical is logged as an error");
    let f = &halted["fields"];
    assert_eq!(f["source"], "risk");
    assert_eq!(f["state"], "halted");
    assert!(
        message(halted).starts_with("alert: trading halted"),
        "{halted}"
    );
    assert!(f["market_time"].as_str().unwrap().contains("09:30"), "{f}");
}

/// A configuration that halts at 09:30, logs JSON, and runs `/bin/sh -c script` for
/// every critical alert.
fn halt_with_command(dir: &Path, script: &str) -> PathBuf {
    let config = dir.join("halt-command.toml");
    std::fs::write(
        &config,
        format!(
            "[[control.schedule]]\nat = \"09:30\"\ncommand = \"halt\"\n\n\
             [control.alerts]\ncommand = [\"/bin/sh\", \"-c\", {script:?}]\n\
             min_interval_secs = 0\n\n[log]\nformat = \"json\"\n"
        ),
    )
    .unwrap();
    config
}

#[test]
fn without_the_control_socket_alerts_still_reach_the_log_and_the_command() {
    let d = dir("no-socket");
    let received = d.join("received.jsonl");
    let config = halt_with_command(&d, &format!("cat >> '{}'", received.display()));
    let out = run(
        &d,
        &[
            "--quiet",
            "--no-control",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.lines().any(|l| l.starts_with("control ")),
        "no socket was served:\n{stdout}"
    );
    let lines = json_lines(&stderr);
    let halted = lines
        .iter()
        .find(|v| v["fields"]["kind"] == "trading_halted")
        .unwrap_or_else(|| panic!("no trading_halted alert in the log:\n{stderr}"));
    assert_eq!(halted["level"], "ERROR", "{halted}");
    assert_eq!(halted["fields"]["source"], "risk", "{halted}");
    // The command got the alert's line on its standard input.
    let text = std::fs::read_to_string(&received)
        .unwrap_or_else(|e| panic!("the alert command never ran ({e}):\n{stderr}"));
    let sent: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let halt = sent
        .iter()
        .find(|v| v["kind"] == "trading_halted")
        .unwrap_or_else(|| panic!("no trading_halted line for the command: {text}"));
    assert_eq!(halt["level"], "critical", "{halt}");
    assert!(
        halt["market_time"].as_str().unwrap().contains("09:30"),
        "{halt}"
    );
}

#[test]
fn what_the_alert_command_prints_is_a_field_of_a_json_line() {
    let d = dir("command-output");
    // A notifier that talks on both streams and fails, as one whose webhook is down.
    let config = halt_with_command(
        &d,
        "echo 'notify: posting to the desk channel'; \
         echo 'curl: (6) Could not resolve host' >&2; exit 7",
    );
    let out = run(&d, &["--quiet", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Every line is JSON: the command's text did not land among them.
    let lines = json_lines(&stderr);
    let failed = lines
        .iter()
        .find(|v| {
            message(v) == "alert command: it failed" && v["fields"]["alert"] == "trading_halted"
        })
        .unwrap_or_else(|| panic!("no failure line for the halt's run:\n{stderr}"));
    assert_eq!(failed["level"], "WARN", "{failed}");
    let f = &failed["fields"];
    assert_eq!(
        f["output"], "notify: posting to the desk channel\ncurl: (6) Could not resolve host",
        "{failed}"
    );
    assert_eq!(f["output_dropped"], 0, "{failed}");
    assert!(f["status"].as_str().unwrap().contains('7'), "{failed}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("notify:"),
        "nor on standard output"
    );
}

#[test]
fn text_is_the_default_and_speaks_as_tickpipe() {
    let d = dir("text");
    let out = run(&d, &["--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("tickpipe: journal opened: the day begins dir=")),
        "{stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.starts_with("tickpipe: ")),
        "{stderr}"
    );
}

#[test]
fn a_bad_log_setting_is_refused_naming_the_key() {
    let d = dir("bad");
    let out = run(
        &d,
        &["--quiet", "--log-format", "xml", "--log-level", "loud"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("log.format"), "{stderr}");
    assert!(stderr.contains("unknown format `xml`"), "{stderr}");
    assert!(stderr.contains("log.level"), "{stderr}");
}

#[test]
fn a_failure_after_the_log_is_up_is_one_json_line() {
    let d = dir("fail");
    // A replay file that does not exist: found when the feed opens, after the log is up.
    let config = d.join("replay.toml");
    std::fs::write(
        &config,
        format!(
            "[feed]\nsource = \"replay\"\nreplay_file = {:?}\n",
            d.join("missing.ticks").display().to_string()
        ),
    )
    .unwrap();
    let out = run(
        &d,
        &[
            "--quiet",
            "--log-format",
            "json",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let lines = json_lines(&stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "ERROR", "{stderr}");
    assert!(message(last).contains("missing.ticks"), "{stderr}");
}
