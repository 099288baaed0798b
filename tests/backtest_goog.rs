//! `tickpipe backtest` against backtesting.py 0.6.6 (`tests/fixtures/backtest/`): the
//! library's SmaCross 10/20 on GOOG, cash 10 000, no commission, next-open fills,
//! all-in sizing, with and without `finalize_trades`.
//!
//! The trade list (size, entry and exit bar) must match exactly, prices, P&L and
//! equity within the README's relative 1e-9 (they are in fact equal to the bit), and
//! the final equity to the cent. Then: the same input gives byte-identical files, a
//! nonzero commission follows the README's rule, and bad input is named precisely.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

const TOLERANCE: f64 = 1e-9;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-backtest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `tickpipe backtest` on `data` with the validation flags and `extra`; returns
/// success, stdout and stderr.
fn backtest(data: &Path, out: &Path, extra: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .arg("backtest")
        .arg("--data")
        .arg(data)
        .args([
            "--strategy",
            "sma_cross",
            "--param",
            "fast=10",
            "--param",
            "slow=20",
        ])
        .args([
            "--cash",
            "10000",
            "--sizing",
            "equity",
            "--fill",
            "next-open",
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("tickpipe runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A CSV as rows of named cells (neither side quotes anything).
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("a header")
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}: `{}` is not a number", row[key]))
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= TOLERANCE * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

fn stats(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("stats.json")).expect("stats.json");
    serde_json::from_str(&text).expect("stats.json is JSON")
}

/// Checks `dir` (our outputs) against the fixture folder `case`.
fn matches_fixture(dir: &Path, case: &str) {
    let want = rows(&fixture(&format!("backtest/{case}/trades.csv")));
    let got = rows(&dir.join("trades.csv"));
    assert_eq!(got.len(), want.len(), "{case}: closed trades");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let what = format!("{case} trade {i}");
        assert_eq!(
            (&g["qty"], &g["entry_bar"], &g["exit_bar"]),
            (&w["Size"], &w["EntryBar"], &w["ExitBar"]),
            "{what}: size, entry bar, exit bar"
        );
        for (ours, theirs) in [
            ("entry_price", "EntryPrice"),
            ("exit_price", "ExitPrice"),
            ("pnl", "PnL"),
            ("commission", "Commission"),
            ("return_pct", "ReturnPct"),
        ] {
            close(num(g, ours), num(w, theirs), &format!("{what}: {ours}"));
        }
        // The times are the data file's, the library writes them as ISO timestamps.
        assert!(
            w["EntryTime"].starts_with(&g["entry_time"]),
            "{what}: entry time"
        );
        assert!(
            w["ExitTime"].starts_with(&g["exit_time"]),
            "{what}: exit time"
        );
    }
    let want = rows(&fixture(&format!("backtest/{case}/equity.csv")));
    let got = rows(&dir.join("equity.csv"));
    assert_eq!(got.len(), want.len(), "{case}: equity rows");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g["bar"], w["bar"]);
        let what = format!("{case} bar {}", g["bar"]);
        close(
            num(g, "equity"),
            num(w, "equity"),
            &format!("{what}: equity"),
        );
        close(
            num(g, "drawdown_pct"),
            num(w, "drawdown_pct"),
            &format!("{what}: drawdown"),
        );
    }
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("backtest/{case}/stats.json"))).unwrap(),
    )
    .unwrap();
    let ours = stats(dir);
    let cents = |x: &serde_json::Value| (x.as_f64().expect("a number") * 100.0).round() as i64;
    assert_eq!(
        cents(&ours["final_equity"]),
        cents(&reference["stats"]["Equity Final [$]"]),
        "{case}: final equity to the cent"
    );
    assert_eq!(
        ours["trades"], reference["stats"]["# Trades"],
        "{case}: trades"
    );
    close(
        ours["exposure"].as_f64().unwrap() * 100.0,
        reference["stats"]["Exposure Time [%]"].as_f64().unwrap(),
        "exposure",
    );
    close(
        ours["win_rate"].as_f64().unwrap() * 100.0,
        reference["stats"]["Win Rate [%]"].as_f64().unwrap(),
        "win rate",
    );
    assert_eq!(ours["risk_profile"], "none");
}

#[test]
fn goog_sma_cross_10_20_matches_backtesting_py() {
    let out = out_dir("goog");
    let (ok, stdout, stderr) = backtest(&fixture("ohlc/GOOG.csv"), &out, &["--commission", "0"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("93 closed trade(s) and 1 open"), "{stdout}");
    matches_fixture(&out, "goog-smacross-10-20");
    // The trade the library leaves open: in the equity, not among the trades.
    let open = &stats(&out)["open_trade_at_end"];
    assert_eq!(open["qty"], 101);
    assert_eq!(open["entry_bar"], 2087);
    close(
        open["unrealised_pnl"].as_f64().unwrap(),
        10_498.95,
        "unrealised",
    );
    for file in ["report.md", "equity.svg", "drawdown.svg", "strategies.svg"] {
        assert!(out.join(file).is_file(), "{file} written");
    }
}

#[test]
fn goog_sma_cross_10_20_finalize_matches_backtesting_py() {
    let out = out_dir("goog-finalize");
    let (ok, _, stderr) = backtest(
        &fixture("ohlc/GOOG.csv"),
        &out,
        &["--commission", "0", "--finalize"],
    );
    assert!(ok, "{stderr}");
    matches_fixture(&out, "goog-smacross-10-20-finalize");
    assert!(stats(&out)["open_trade_at_end"].is_null());
}

#[test]
fn the_same_input_gives_byte_identical_outputs() {
    let (a, b) = (out_dir("same-a"), out_dir("same-b"));
    for dir in [&a, &b] {
        let (ok, _, stderr) = backtest(&fixture("ohlc/GOOG.csv"), dir, &["--commission", "0.001"]);
        assert!(ok, "{stderr}");
    }
    let mut names: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 7, "{names:?}");
    for name in names {
        assert_eq!(
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
            "{name:?} differs between two runs"
        );
    }
}

/// The README's commission rule on every trade of a real run: `|size|·entry·rate` at
/// entry plus `|size|·exit·rate` at exit, `PnL = size·(exit − entry) − commission`, and
/// the final equity is the cash plus every trade's P&L, less the open trade's entry
/// commission, plus its mark.
#[test]
fn a_nonzero_commission_follows_the_readme_rule() {
    let rate = 0.002;
    let out = out_dir("commission");
    let (ok, _, stderr) = backtest(&fixture("ohlc/GOOG.csv"), &out, &["--commission", "0.002"]);
    assert!(ok, "{stderr}");
    let trades = rows(&out.join("trades.csv"));
    assert!(!trades.is_empty());
    let mut total = 0.0;
    for t in &trades {
        let (qty, entry, exit) = (num(t, "qty"), num(t, "entry_price"), num(t, "exit_price"));
        let commission = qty.abs() * exit * rate + qty.abs() * entry * rate;
        close(num(t, "commission"), commission, "commission");
        close(num(t, "pnl"), qty * (exit - entry) - commission, "pnl");
        total += num(t, "pnl");
    }
    let s = stats(&out);
    let mut expected = 10_000.0 + total;
    if let Some(open) = s["open_trade_at_end"].as_object() {
        let qty = open["qty"].as_f64().unwrap();
        let entry = open["entry_price"].as_f64().unwrap();
        expected += open["unrealised_pnl"].as_f64().unwrap() - qty.abs() * entry * rate;
    }
    close(
        s["final_equity"].as_f64().unwrap(),
        expected,
        "final equity",
    );
    close(
        s["charges"].as_f64().unwrap(),
        trades.iter().map(|t| num(t, "commission")).sum(),
        "charges",
    );
    // By hand, the first trade: short 59 at 169.02 (10 000/(169.02·1.002) = 59.05…),
    // covered at 179.13. Commission 59·179.13·0.002 + 59·169.02·0.002 = 21.13734 +
    // 19.94436 = 41.0817; P&L −59·10.11 − 41.0817 = −637.5717.
    let first = &trades[0];
    assert_eq!(
        (first["entry_bar"].as_str(), first["qty"].as_str()),
        ("63", "-59")
    );
    close(num(first, "commission"), 41.0817, "first commission");
    close(num(first, "pnl"), -637.5717, "first pnl");
}

fn bad_data(name: &str, text: &str) -> String {
    let dir = out_dir(&format!("bad-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join(format!("{name}.csv"));
    std::fs::write(&data, text).unwrap();
    let (ok, _, stderr) = backtest(&data, &dir.join("out"), &[]);
    assert!(!ok, "{name}: bad data must fail");
    assert!(!dir.join("out").exists(), "{name}: nothing written");
    assert!(stderr.contains(&format!("{name}.csv")), "{name}: {stderr}");
    stderr
}

#[test]
fn bad_input_is_named_by_file_line_and_column() {
    let stderr = bad_data("missing", "Date,Open,High,Low,Volume\n2004-08-19,1,1,1,1\n");
    assert!(stderr.contains("line 1: no `Close` column"), "{stderr}");
    let stderr = bad_data(
        "nonnumeric",
        "Date,Open,High,Low,Close,Volume\n2004-08-19,1,1,1,1,1\n2004-08-20,1,1,1,n/a,1\n",
    );
    assert!(
        stderr.contains("line 3, column `Close`: `n/a` is not a positive number"),
        "{stderr}"
    );
    let stderr = bad_data(
        "order",
        "Date,Open,High,Low,Close,Volume\n2004-08-20,1,1,1,1,1\n2004-08-19,1,1,1,1,1\n",
    );
    assert!(
        stderr.contains("line 3, column `Date`: `2004-08-19` does not come after `2004-08-20`"),
        "{stderr}"
    );
}
