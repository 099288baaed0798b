//! Parameter sweeps and runs over cores: `--sweep` over GOOG, split into shards and
//! merged back, gives the very files of one unsharded run; each point's figures are
//! those of a single backtest with its settings; and `--compare` run over cores writes
//! the files a serial run writes, byte for byte.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn tickpipe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
}

fn goog() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ohlc/GOOG.csv")
}

mod common;

/// A scratch directory of this test, removed when the test passes.
fn temp_dir(name: &str) -> common::Scratch {
    common::Scratch::new("backtest-sweep", name)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tickpipe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tickpipe runs");
    assert!(!out.status.success(), "must fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `backtest --data GOOG.csv --sweep fast=5..15:5 --sweep slow=20..40:10` and `extra`.
fn sweep(out: &Path, extra: &[&str]) -> Command {
    let mut cmd = tickpipe();
    cmd.arg("backtest")
        .arg("--data")
        .arg(goog())
        .args(["--cash", "10000", "--commission", "0.001"])
        .args(["--sweep", "fast=5..15:5", "--sweep", "slow=10..30:10"])
        .args(extra)
        .arg("--out")
        .arg(out);
    cmd
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["sweep.csv", "sweep.md", "sweep.json"]
        .iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            ((*f).to_owned(), bytes)
        })
        .collect()
}

#[test]
fn shards_merged_equal_one_unsharded_run() {
    let dir = temp_dir("shards");
    let whole = dir.join("whole");
    let stdout = run(&mut sweep(&whole, &["--jobs", "2"]));
    assert!(stdout.contains("9 of 9 point(s)"), "{stdout}");
    let table = std::fs::read_to_string(whole.join("sweep.csv")).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(
        rows[0],
        "point,fast,slow,trades,final_equity,total_return,win_rate,profit_factor,net,max_drawdown_bars,exposure,note"
    );
    assert_eq!(rows.len(), 10, "{table}");
    // GOOG's bars are daily: the sweep runs `none`, and its files say so and why.
    assert!(
        stdout.contains(
            "risk none (daily bars: the configured risk stage trades intraday bars only)"
        ),
        "{stdout}"
    );
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(info["risk_profile"], "none");
    let markdown = std::fs::read_to_string(whole.join("sweep.md")).unwrap();
    assert!(
        markdown.contains("- Risk profile: none (daily bars: "),
        "{markdown}"
    );
    // fast 10 and 15 with slow 10 cannot run: the strategy wants fast below slow.
    let noted = rows[1..].iter().filter(|r| !r.ends_with(',')).count();
    assert_eq!(noted, 2, "{table}");
    assert!(rows[1].starts_with("0,5,10,"), "{table}");

    // Three shards, each on one thread, then merged (given out of order).
    let mut shard_dirs = Vec::new();
    for k in 1..=3 {
        let shard = dir.join(format!("shard{k}"));
        let stdout = run(&mut sweep(
            &shard,
            &["--shard", &format!("{k}/3"), "--jobs", "1"],
        ));
        assert!(stdout.contains("3 of 9 point(s) (shard"), "{stdout}");
        shard_dirs.push(shard);
    }
    let merged = dir.join("merged");
    let stdout = run(tickpipe()
        .args(["backtest", "merge"])
        .arg(&shard_dirs[2])
        .arg(&shard_dirs[0])
        .arg(&shard_dirs[1])
        .arg("--out")
        .arg(&merged));
    assert!(stdout.contains("9 points"), "{stdout}");
    assert_eq!(files(&merged), files(&whole));

    // A missing shard and a shard of another sweep are refused, by name.
    let err = fails(
        tickpipe()
            .args(["backtest", "merge"])
            .arg(&shard_dirs[0])
            .arg(&shard_dirs[1])
            .arg("--out")
            .arg(dir.join("partial")),
    );
    assert!(err.contains("3 of 9 points are in no shard"), "{err}");
    let other = dir.join("other");
    run(sweep(&other, &["--shard", "3/3"]).args(["--fill", "close"]));
    let err = fails(
        tickpipe()
            .args(["backtest", "merge"])
            .arg(&shard_dirs[0])
            .arg(&shard_dirs[1])
            .arg(&other)
            .arg("--out")
            .arg(dir.join("mixed")),
    );
    assert!(err.contains("is a different sweep"), "{err}");
}

/// A point's row holds what one plain backtest with its settings reports.
#[test]
fn a_point_is_a_plain_backtest() {
    let dir = temp_dir("point");
    run(&mut sweep(&dir.join("sweep"), &[]));
    let single = dir.join("single");
    run(tickpipe()
        .arg("backtest")
        .arg("--data")
        .arg(goog())
        .args(["--cash", "10000", "--commission", "0.001"])
        .args(["--param", "fast=5", "--param", "slow=20"])
        .arg("--out")
        .arg(&single));
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(single.join("stats.json")).unwrap()).unwrap();
    let table = std::fs::read_to_string(dir.join("sweep/sweep.csv")).unwrap();
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("1,5,20,"))
        .expect("point 1 is fast=5, slow=20")
        .split(',')
        .collect();
    assert_eq!(row[3], stats["trades"].to_string());
    assert_eq!(
        row[4],
        format!("{:.2}", stats["final_equity"].as_f64().unwrap())
    );
}

#[test]
fn bad_sweeps_are_named() {
    let dir = temp_dir("bad");
    let err = fails(
        tickpipe()
            .arg("backtest")
            .arg("--data")
            .arg(goog())
            .args(["--sweep", "fast=20..5:5"])
            .arg("--out")
            .arg(dir.join("a")),
    );
    assert!(
        err.contains("--sweep fast=20..5:5") && err.contains("a ≤ b"),
        "{err}"
    );
    let err = fails(
        tickpipe()
            .arg("backtest")
            .arg("--data")
            .arg(goog())
            .args(["--sweep", "fast=5..6:1", "--param", "fast=3"])
            .arg("--out")
            .arg(dir.join("b")),
    );
    assert!(err.contains("also a --param"), "{err}");
    let err = fails(
        tickpipe()
            .arg("backtest")
            .arg("--data")
            .arg(goog())
            .args(["--sweep", "fast=5..6:1", "--shard", "4/3"])
            .arg("--out")
            .arg(dir.join("c")),
    );
    assert!(err.contains("--shard 4/3"), "{err}");
}

/// `--compare` runs its variants over cores; the files are those of a serial run.
#[test]
fn compare_over_cores_writes_what_a_serial_run_writes() {
    let dir = temp_dir("compare");
    let config = dir.join("config.toml");
    let text = tickpipe::engine::DEFAULT_TOML.replacen("duration = \"\"", "duration = \"60m\"", 1);
    std::fs::write(&config, text).unwrap();
    let mut outputs = Vec::new();
    for jobs in ["1", "3"] {
        let out = dir.join(format!("jobs{jobs}"));
        let stdout = run(tickpipe()
            .args([
                "backtest",
                "--synthetic",
                "--days",
                "2",
                "--compare",
                "--jobs",
                jobs,
            ])
            .arg("--config")
            .arg(&config)
            .arg("--out")
            .arg(&out));
        let mut names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        let files: Vec<_> = names
            .iter()
            .map(|n| (n.clone(), std::fs::read(out.join(n)).unwrap()))
            .collect();
        // The last line names the folder, which differs.
        let table: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("wrote")).collect();
        outputs.push((files, table.join("\n")));
    }
    assert!(outputs[0].0.len() >= 10, "{:?}", outputs[0].0.len());
    assert_eq!(outputs[0], outputs[1]);
}
