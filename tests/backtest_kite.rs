//! Kite Connect's historical candles as backtest data (`tests/fixtures/kite/`): the
//! JSON answer as Kite sends it, and the same candles as CSV
//! (`date,open,high,low,close,volume[,oi]`), read to the same bars and backtested to the
//! same files; and bad candles named precisely.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use tickpipe::backtest::{read_kite_candles, read_ohlcv};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kite")
        .join(name)
}

mod common;

/// A scratch directory of this test, removed when the test passes.
fn temp_dir(name: &str) -> common::Scratch {
    common::Scratch::new("backtest-kite", name)
}

/// The candles of a Kite JSON answer written as Kite-style CSV, by hand from the JSON
/// text (not through our reader).
fn as_csv(json: &Path, dir: &Path, with_oi: bool) -> PathBuf {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let mut text = String::from(if with_oi {
        "date,open,high,low,close,volume,oi\n"
    } else {
        "date,open,high,low,close,volume\n"
    });
    for candle in doc["data"]["candles"].as_array().unwrap() {
        let cells: Vec<String> = candle
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    let path = dir.join(format!(
        "{}.csv",
        json.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn kite_json_reads_every_candle_exactly() {
    let bars = read_kite_candles(&fixture("historical_minute.json")).unwrap();
    assert_eq!(bars.len(), 6);
    let first = &bars[0];
    assert_eq!(first.time, "2017-12-15T09:15:00+0530");
    let price = |s: &str| s.parse::<tickpipe::model::Price>().unwrap();
    assert_eq!(
        [first.open, first.high, first.low, first.close],
        [
            price("1704.5"),
            price("1705"),
            price("1699.25"),
            price("1702.8")
        ]
    );
    assert_eq!(first.volume, 2499);
    assert_eq!(first.date, tickpipe::model::Date::new(2017, 12, 15));
    // 09:15 IST is 03:45 UTC.
    assert_eq!(
        first.at.0 % 86_400_000_000_000,
        (3 * 3600 + 45 * 60) * 1_000_000_000
    );
    assert!(bars
        .windows(2)
        .all(|w| w[1].at.0 - w[0].at.0 == 60_000_000_000));
    assert_eq!(bars[5].close_f64(), 1696.9);

    // With open interest, the seventh field is read past.
    let oi = read_kite_candles(&fixture("historical_oi.json")).unwrap();
    assert_eq!(oi.len(), 6);
    assert_eq!(oi[0].close_f64(), 12001.5);
    assert_eq!(oi[0].volume, 163_275);
}

#[test]
fn kite_csv_reads_to_the_same_bars_as_the_json() {
    let dir = temp_dir("same-bars");
    for (name, with_oi) in [
        ("historical_minute.json", false),
        ("historical_oi.json", true),
    ] {
        let json = read_kite_candles(&fixture(name)).unwrap();
        let csv = read_ohlcv(&as_csv(&fixture(name), &dir, with_oi)).unwrap();
        assert_eq!(csv, json, "{name}");
    }
}

/// `--risk none`: these minute candles would run through the pipeline by default, and
/// what is checked here is that both formats read to the same bars, which the all-in
/// account's per-bar `equity.csv` shows directly.
fn backtest(data: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .arg("backtest")
        .arg("--data")
        .arg(data)
        .args(["--risk", "none"])
        .args(["--param", "fast=2", "--param", "slow=3", "--cash", "100000"])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn json_and_csv_backtest_to_the_same_files() {
    let dir = temp_dir("same-files");
    let csv = as_csv(&fixture("historical_oi.json"), &dir, true);
    let (a, b) = (dir.join("json"), dir.join("csv"));
    for (data, out) in [(fixture("historical_oi.json"), &a), (csv, &b)] {
        let run = backtest(&data, out);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(String::from_utf8_lossy(&run.stdout).contains("6 bars"));
    }
    for file in ["trades.csv", "equity.csv"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    let equity = std::fs::read_to_string(a.join("equity.csv")).unwrap();
    assert_eq!(equity.lines().count(), 7);
    assert!(
        equity.contains("\n5,2019-12-04T09:20:00+0530,11999.6,"),
        "{equity}"
    );
}

fn bad_json(name: &str, text: &str) -> String {
    let dir = temp_dir(&format!("bad-{name}"));
    let data = dir.join(format!("{name}.json"));
    std::fs::write(&data, text).unwrap();
    let run = backtest(&data, &dir.join("out"));
    assert!(!run.status.success(), "{name} must fail");
    assert!(!dir.join("out").exists(), "{name}: nothing written");
    let err = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(err.contains(&format!("{name}.json")), "{err}");
    err
}

#[test]
fn bad_kite_json_is_named_by_candle_and_field() {
    let err = bad_json(
        "error",
        r#"{"status":"error","message":"Invalid token","error_type":"InputException"}"#,
    );
    assert!(
        err.contains("Kite answered an error: Invalid token"),
        "{err}"
    );
    let err = bad_json(
        "syntax",
        "{\n\"status\": \"success\",\n\"data\": {\"candles\": [\n]",
    );
    assert!(
        err.contains("line 4") && err.contains("not Kite candles JSON"),
        "{err}"
    );
    let err = bad_json(
        "price",
        r#"{"status":"success","data":{"candles":[["2017-12-15T09:15:00+0530",1,1,1,1,5],["2017-12-15T09:16:00+0530",1,"x",1,1,5]]}}"#,
    );
    assert!(
        err.contains("data.candles[1] high") && err.contains("`\"x\"` is not a positive number"),
        "{err}"
    );
    let err = bad_json(
        "short",
        r#"{"status":"success","data":{"candles":[["2017-12-15T09:15:00+0530",1,1,1,1]]}}"#,
    );
    assert!(err.contains("data.candles[0]"), "{err}");
    let err = bad_json(
        "order",
        r#"{"status":"success","data":{"candles":[["2017-12-15T09:16:00+0530",1,1,1,1,5],["2017-12-15T09:15:00+0530",1,1,1,1,5]]}}"#,
    );
    assert!(err.contains("does not come after"), "{err}");
    let err = bad_json("empty", r#"{"status":"success","data":{"candles":[]}}"#);
    assert!(err.contains("no candles"), "{err}");
}
