//! `tickpipe backtest --data FILE --risk configured`: intraday bars through the whole
//! pipeline with the configured risk stage and the paper exchange. The configured
//! position cap shapes every trade (far below the all-in size `--risk none` takes on the
//! same bars), every output says which profile ran, the same input gives byte-identical
//! files, and bad input is refused by name. Without `--risk`, intraday bars run this
//! profile and daily bars `none`, saying why; a `--risk none` flag given to the default
//! profile is refused, not ignored. A `--sweep` runs the configured profile too: the
//! same table whatever `--jobs`, and shards merged give one unsharded run's files.

use std::{
    collections::BTreeMap,
    ffi::OsStr,
    path::{Path, PathBuf},
    process::Command,
};

mod common;

/// A scratch directory of this test, removed when the test passes.
fn temp_dir(name: &str) -> common::Scratch {
    common::Scratch::new("backtest-bars-risk", name)
}

fn rupees(paise: i64) -> String {
    format!("{}.{:02}", paise / 100, paise % 100)
}

/// Two days of SBIN one-minute bars, 09:15 to 15:29: a saw-tooth of 45-minute legs
/// (so a 5/20 average crosses every leg) with a little noise, prices on the 5-paise
/// grid (prices in paise). `bad_high` replaces one row's high with text.
fn minute_bars(dir: &Path, name: &str, bad_high: Option<usize>) -> PathBuf {
    let mut text = String::from("date,open,high,low,close,volume\n");
    let mut row = 0;
    for day in ["2026-11-24", "2026-11-25"] {
        let mut prev: i64 = 80_000;
        for m in 0..375_i64 {
            let minutes = 9 * 60 + 15 + m;
            let leg = m % 90;
            let saw = if leg < 45 { leg } else { 90 - leg };
            let close = 80_000 + saw * 40 + (m % 7) * 5;
            let high = prev.max(close) + 25;
            let low = prev.min(close) - 25;
            let high = if bad_high == Some(row) {
                "abc".to_owned()
            } else {
                rupees(high)
            };
            text.push_str(&format!(
                "{day} {:02}:{:02},{},{high},{},{},{}\n",
                minutes / 60,
                minutes % 60,
                rupees(prev),
                rupees(low),
                rupees(close),
                1000 + m
            ));
            prev = close;
            row += 1;
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The default config with one position capped at 10 % of equity.
fn capped_config(dir: &Path) -> PathBuf {
    let text = tickpipe::engine::DEFAULT_TOML.replacen(
        "max_position_pct = 20 ",
        "max_position_pct = 10 ",
        1,
    );
    assert_ne!(text, tickpipe::engine::DEFAULT_TOML);
    let path = dir.join("capped.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn backtest(args: &[&OsStr]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .arg("backtest")
        .args(args)
        .output()
        .expect("tickpipe runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `--risk configured` over `data` with the capped config into `out`.
fn configured(data: &Path, config: &Path, out: &Path) -> (bool, String, String) {
    backtest(&[
        "--data".as_ref(),
        data.as_os_str(),
        "--risk".as_ref(),
        "configured".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--param".as_ref(),
        "fast=5".as_ref(),
        "--param".as_ref(),
        "slow=20".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
}

/// A CSV as rows of named cells (nothing in these files is quoted).
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            header
                .iter()
                .map(|h| (*h).to_owned())
                .zip(line.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn number(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?}", row[key]))
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_configured_cap_sizes_every_trade_and_every_output_says_configured() {
    let dir = temp_dir("cap");
    let data = minute_bars(&dir, "SBIN.csv", None);
    let config = capped_config(&dir);
    let out = dir.join("out");
    let (ok, stdout, stderr) = configured(&data, &config, &out);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("risk configured"), "{stdout}");

    let trades = rows(&out.join("trades.csv"));
    assert!(
        trades.len() >= 4,
        "the saw-tooth must trade for the cap to mean anything: {trades:?}"
    );
    let equity = rows(&out.join("equity.csv"));
    let peak = equity
        .iter()
        .map(|r| number(r, "equity"))
        .fold(f64::MIN, f64::max);
    let capital = 1_000_000.0;
    for t in &trades {
        assert_eq!(t["instrument"], "SBIN");
        assert_eq!(t["strategy"], "sma_cross");
        let notional = number(t, "qty") * number(t, "entry_price");
        // 10 % of equity at entry; equity never rose past the best day's close by more
        // than a day's gains, which the 2 % margin covers.
        assert!(
            notional <= 0.10 * peak * 1.02,
            "trade {} worth {notional} breaks the 10 % cap of {peak}",
            t["trade"]
        );
        assert!(
            notional >= 0.05 * capital,
            "trade {} worth {notional}: sized by something other than the cap",
            t["trade"]
        );
    }
    // The last position of each day is closed by the configured square-off.
    assert!(
        trades.iter().any(|t| t["exit_reason"] == "square_off"),
        "{trades:?}"
    );

    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["risk_profile"], "configured");
    assert_eq!(stats["symbol"], "SBIN");
    assert_eq!(stats["data"], "SBIN.csv");
    assert_eq!(stats["bar_secs"], 60);
    assert_eq!(stats["bars"], 750);
    assert_eq!(stats["trades"].as_u64(), Some(trades.len() as u64));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("risk: configured"), "{report}");
    assert!(report.contains("Risk profile: configured"), "{report}");
    for file in ["equity.svg", "drawdown.svg", "report.json", "daily.csv"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }

    // The same bars under --risk none go all in: each entry is worth nearly the equity,
    // many times what the configured cap allowed.
    let none_out = dir.join("none");
    let (ok, _, stderr) = backtest(&[
        "--data".as_ref(),
        data.as_os_str(),
        "--risk".as_ref(),
        "none".as_ref(),
        "--param".as_ref(),
        "fast=5".as_ref(),
        "--param".as_ref(),
        "slow=20".as_ref(),
        "--cash".as_ref(),
        "1000000".as_ref(),
        "--out".as_ref(),
        none_out.as_os_str(),
    ]);
    assert!(ok, "{stderr}");
    let all_in = rows(&none_out.join("trades.csv"));
    assert!(!all_in.is_empty());
    for t in &all_in {
        let notional = number(t, "qty").abs() * number(t, "entry_price");
        assert!(
            notional >= 0.5 * capital,
            "all in, yet worth {notional}: {t:?}"
        );
    }
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(none_out.join("stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["risk_profile"], "none");
    assert_eq!(stats["risk_profile_reason"], "asked for with --risk none");
}

#[test]
fn two_runs_write_byte_identical_files() {
    let dir = temp_dir("twice");
    let data = minute_bars(&dir, "SBIN.csv", None);
    let config = capped_config(&dir);
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        let (ok, _, stderr) = configured(&data, &config, out);
        assert!(ok, "{stderr}");
    }
    let (first, second) = (files(&a), files(&b));
    assert!(first.len() >= 8, "{:?}", first.keys());
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &first {
        assert!(&second[name] == bytes, "{name} differs between two runs");
    }
}

/// Runs `tickpipe backtest --data DATA FLAGS --out OUT` and expects it refused: it
/// fails, its message holds every one of `needles`, and nothing is written to `out`.
fn expect_refusal(data: &Path, flags: &[&str], out: &Path, needles: &[&str]) {
    let mut args: Vec<&OsStr> = vec!["--data".as_ref(), data.as_os_str()];
    args.extend(flags.iter().map(OsStr::new));
    args.extend(["--out".as_ref(), out.as_os_str()]);
    let (ok, stdout, stderr) = backtest(&args);
    assert!(!ok, "{args:?} was not refused:\n{stdout}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: no {needle:?} in\n{stderr}"
        );
    }
    assert!(!out.exists(), "{args:?}: a refused run writes nothing");
}

#[test]
fn bad_profiles_instruments_and_rows_are_refused_by_name() {
    let dir = temp_dir("refused");
    let data = minute_bars(&dir, "SBIN.csv", None);
    let config = capped_config(&dir);
    let config = config.to_str().expect("a UTF-8 temporary path");
    let out = dir.join("out");

    expect_refusal(
        &data,
        &["--risk", "bogus"],
        &out,
        &["--risk bogus", "`none`", "`configured`"],
    );

    // An instrument the universe does not know, from the file name.
    let unknown = minute_bars(&dir, "NOSUCH.csv", None);
    expect_refusal(
        &unknown,
        &["--risk", "configured", "--config", config],
        &out,
        &["NOSUCH.csv", "`NOSUCH`", "--symbol"],
    );

    // A bad cell: the file, the line (the header is line 1) and the column.
    let bad = minute_bars(&dir, "SBIN-bad.csv", Some(10));
    let sbin = ["--risk", "configured", "--symbol", "SBIN"];
    expect_refusal(&bad, &sbin, &out, &["SBIN-bad.csv: line 12, column `High`"]);

    // Daily bars have no intraday path: refused, pointing at --risk none.
    let goog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ohlc/GOOG.csv");
    expect_refusal(&goog, &sbin, &out, &["GOOG.csv", "--risk none"]);

    // --sizing equity implies --risk none.
    expect_refusal(
        &data,
        &["--risk", "configured", "--sizing", "equity"],
        &out,
        &["implies --risk none"],
    );
}

/// `tickpipe backtest` with `args`, expected to succeed; its standard output.
fn ok(args: &[&OsStr]) -> String {
    let (ok, stdout, stderr) = backtest(args);
    assert!(ok, "{args:?}:\n{stderr}");
    stdout
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn intraday_bars_run_configured_by_default_and_daily_bars_none() {
    let dir = temp_dir("default");
    let data = minute_bars(&dir, "SBIN.csv", None);
    let config = capped_config(&dir);
    let strategy: [&OsStr; 4] = [
        "--param".as_ref(),
        "fast=5".as_ref(),
        "--param".as_ref(),
        "slow=20".as_ref(),
    ];

    // No --risk: intraday bars go through the pipeline, the very run --risk configured
    // makes, and the summary says the profile came by default.
    let default = dir.join("default");
    let mut args: Vec<&OsStr> = vec![
        "--data".as_ref(),
        data.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
    ];
    args.extend(strategy);
    args.extend(["--out".as_ref(), default.as_os_str()]);
    let stdout = ok(&args);
    assert!(
        stdout.contains("risk configured (the default for intraday bars"),
        "{stdout}"
    );
    let asked = dir.join("asked");
    let (done, _, stderr) = configured(&data, &config, &asked);
    assert!(done, "{stderr}");
    let (by_default, by_flag) = (files(&default), files(&asked));
    assert_eq!(
        by_default.keys().collect::<Vec<_>>(),
        by_flag.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &by_default {
        assert!(
            &by_flag[name] == bytes,
            "{name}: default and --risk configured differ"
        );
    }
    assert_eq!(
        json(&default.join("stats.json"))["risk_profile"],
        "configured"
    );

    // Daily bars cannot run the intraday risk stage: `none`, and every output says why.
    let goog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ohlc/GOOG.csv");
    let daily = dir.join("daily");
    let mut args: Vec<&OsStr> = vec!["--data".as_ref(), goog.as_os_str()];
    args.extend(strategy);
    args.extend(["--out".as_ref(), daily.as_os_str()]);
    let stdout = ok(&args);
    assert!(
        stdout.contains(
            "risk none (daily bars: the configured risk stage trades intraday bars only)"
        ),
        "{stdout}"
    );
    let stats = json(&daily.join("stats.json"));
    assert_eq!(stats["risk_profile"], "none");
    assert_eq!(
        stats["risk_profile_reason"],
        "daily bars: the configured risk stage trades intraday bars only"
    );
    let report = std::fs::read_to_string(daily.join("report.md")).unwrap();
    assert!(
        report.contains("- Risk profile: none (daily bars: "),
        "{report}"
    );
    // ... and a config for the risk stage is refused there, saying why.
    let config_str = config.to_str().expect("a UTF-8 temporary path");
    expect_refusal(
        &goog,
        &["--config", config_str],
        &dir.join("refused-daily"),
        &["--config", "daily bars", "--risk none"],
    );

    // A --risk none setting on intraday bars without --risk is refused (the default
    // profile cannot honour it), pointing at --risk none; with it, it runs.
    for flags in [
        &["--commission", "0.001"][..],
        &["--cash", "500000"],
        &["--fill", "close"],
        &["--finalize"],
    ] {
        let mut with_config = vec!["--config", config_str];
        with_config.extend(flags);
        expect_refusal(
            &data,
            &with_config,
            &dir.join("refused"),
            &[flags[0], "by default", "add --risk none"],
        );
    }
    let none = dir.join("none");
    let mut args: Vec<&OsStr> = vec![
        "--data".as_ref(),
        data.as_os_str(),
        "--commission".as_ref(),
        "0.001".as_ref(),
        "--risk".as_ref(),
        "none".as_ref(),
    ];
    args.extend(strategy);
    args.extend(["--out".as_ref(), none.as_os_str()]);
    let stdout = ok(&args);
    assert!(
        stdout.contains("risk none (asked for with --risk none)"),
        "{stdout}"
    );
    let stats = json(&none.join("stats.json"));
    assert_eq!(stats["risk_profile"], "none");
    assert_eq!(stats["commission"], 0.001);
}

/// `--sweep fast=4..6:1 --sweep slow=5..20:15` over the minute bars with the capped
/// config, no --risk (so configured), and `extra`.
fn configured_sweep(data: &Path, config: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args: Vec<&OsStr> = vec![
        "--data".as_ref(),
        data.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
        "--sweep".as_ref(),
        "fast=4..6:1".as_ref(),
        "--sweep".as_ref(),
        "slow=5..20:15".as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    args.extend(["--out".as_ref(), out.as_os_str()]);
    ok(&args)
}

#[test]
fn a_configured_sweep_is_one_table_whatever_the_jobs_and_shards() {
    let dir = temp_dir("sweep");
    let data = minute_bars(&dir, "SBIN.csv", None);
    let config = capped_config(&dir);

    let serial = dir.join("serial");
    let stdout = configured_sweep(&data, &config, &serial, &["--jobs", "1"]);
    assert!(stdout.contains("6 of 6 point(s), 2 not run"), "{stdout}");
    assert!(
        stdout.contains("risk configured (the default for intraday bars)"),
        "{stdout}"
    );
    let table = quoted_rows(&serial.join("sweep.csv"));
    assert_eq!(table.len(), 6);
    let mut ran = 0;
    for row in &table {
        let (fast, slow): (u32, u32) = (row["fast"].parse().unwrap(), row["slow"].parse().unwrap());
        if fast >= slow {
            // The config check refuses the strategy's settings: a note on one line, no
            // figures.
            assert!(
                row["note"].contains("fast: is") && !row["note"].contains('\n'),
                "{row:?}"
            );
            assert!(row["trades"].is_empty(), "{row:?}");
            continue;
        }
        ran += 1;
        assert!(row["note"].is_empty(), "{row:?}");
        assert!(number(row, "trades") >= 4.0, "{row:?}");
        // No per-bar equity through the pipeline: that column stays empty.
        assert!(row["max_drawdown_bars"].is_empty(), "{row:?}");
        let exposure = number(row, "exposure");
        assert!(exposure > 0.0 && exposure <= 1.0, "{row:?}");
        let final_equity = number(row, "final_equity");
        let total_return = number(row, "total_return");
        assert!(
            (final_equity / 1_000_000.0 - 1.0 - total_return).abs() < 1e-6,
            "{row:?}"
        );
    }
    assert_eq!(ran, 4);
    let info = json(&serial.join("sweep.json"));
    assert_eq!(info["risk_profile"], "configured");
    assert_eq!(info["risk_profile_reason"], "the default for intraday bars");
    let settings = info["settings"].as_str().unwrap();
    assert!(
        settings.contains("capped.toml (crc32 ")
            && settings.contains("SBIN, 750 60-second bars over 2 day(s)"),
        "{settings}"
    );
    let markdown = std::fs::read_to_string(serial.join("sweep.md")).unwrap();
    assert!(
        markdown.contains("- Risk profile: configured (the default for intraday bars)"),
        "{markdown}"
    );

    // Over two threads, the same files byte for byte.
    let parallel = dir.join("parallel");
    configured_sweep(&data, &config, &parallel, &["--jobs", "2"]);
    assert_eq!(files(&parallel), files(&serial));

    // Two shards, merged: the files of the unsharded run.
    let mut shards = Vec::new();
    for k in 1..=2 {
        let shard = dir.join(format!("shard{k}"));
        let stdout = configured_sweep(&data, &config, &shard, &["--shard", &format!("{k}/2")]);
        assert!(stdout.contains("3 of 6 point(s) (shard"), "{stdout}");
        shards.push(shard);
    }
    let merged = dir.join("merged");
    let (done, stdout, stderr) = merge(&[&shards[1], &shards[0]], &merged);
    assert!(done, "{stderr}");
    assert!(stdout.contains("6 points"), "{stdout}");
    assert_eq!(files(&merged), files(&serial));

    // A shard run with another config is another sweep: refused at merge.
    let other_config = dir.join("other.toml");
    std::fs::write(
        &other_config,
        std::fs::read_to_string(&config).unwrap().replacen(
            "max_position_pct = 10 ",
            "max_position_pct = 12 ",
            1,
        ),
    )
    .unwrap();
    let other = dir.join("other");
    configured_sweep(&data, &other_config, &other, &["--shard", "2/2"]);
    let (done, _, stderr) = merge(&[&shards[0], &other], &dir.join("mixed"));
    assert!(!done && stderr.contains("is a different sweep"), "{stderr}");

    // A point's row holds what one configured backtest with its settings reports.
    let single = dir.join("single");
    let mut args: Vec<&OsStr> = vec![
        "--data".as_ref(),
        data.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
        "--param".as_ref(),
        "fast=4".as_ref(),
        "--param".as_ref(),
        "slow=20".as_ref(),
    ];
    args.extend(["--out".as_ref(), single.as_os_str()]);
    ok(&args);
    let stats = json(&single.join("stats.json"));
    let row = table
        .iter()
        .find(|r| r["fast"] == "4" && r["slow"] == "20")
        .expect("the point fast=4, slow=20");
    assert_eq!(row["trades"], stats["trades"].to_string());
    let rupees = |v: &serde_json::Value| format!("{:.2}", v.as_f64().unwrap());
    assert_eq!(row["final_equity"], rupees(&stats["final_equity"]));
    assert_eq!(row["net"], rupees(&stats["net"]));
}

/// A CSV whose cells may be quoted (a sweep's notes hold commas), as rows of named cells.
fn quoted_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// `tickpipe backtest merge DIRS… --out OUT`.
fn merge(dirs: &[&Path], out: &Path) -> (bool, String, String) {
    let mut args: Vec<&OsStr> = vec!["merge".as_ref()];
    args.extend(dirs.iter().map(|d| d.as_os_str()));
    args.extend(["--out".as_ref(), out.as_os_str()]);
    backtest(&args)
}

#[test]
fn configured_sweeps_refuse_what_cannot_work() {
    let dir = temp_dir("sweep-refused");
    let data = minute_bars(&dir, "SBIN.csv", None);
    let out = dir.join("out");
    // A risk setting is not a strategy setting: it comes from --config.
    expect_refusal(
        &data,
        &["--sweep", "max_position_pct=5..10:5"],
        &out,
        &[
            "--sweep max_position_pct=5..10:5",
            "not a setting of sma_cross",
            "--config",
        ],
    );
    // --risk none's settings under the default profile, as for a single run.
    expect_refusal(
        &data,
        &["--sweep", "fast=4..5:1", "--finalize"],
        &out,
        &["--finalize", "add --risk none"],
    );
}

/// `--help` says of each `--risk none` flag that intraday bars need `--risk none` with
/// it, since the configured profile they run by default refuses it.
#[test]
fn the_help_of_the_all_in_flags_says_intraday_bars_need_risk_none() {
    let (ok, help, stderr) = backtest(&["--help".as_ref()]);
    assert!(ok, "{stderr}");
    // Each option's paragraph: from its line to the next option's, on one line.
    let paragraph = |flag: &str| -> String {
        let mut lines = help
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(&format!("{flag} ")));
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("no {flag} in\n{help}"));
        // An option's line is indented less than its description's.
        let rest = lines.take_while(|l| {
            let indent = l.len() - l.trim_start().len();
            !(indent < 8 && l.trim_start().starts_with('-'))
        });
        std::iter::once(first)
            .chain(rest)
            .flat_map(str::split_whitespace)
            .collect::<Vec<_>>()
            .join(" ")
    };
    for flag in ["--cash", "--commission", "--fill"] {
        let text = paragraph(flag);
        assert!(
            text.contains("On intraday bars, which run --risk configured by default, give --risk none with it: configured risk refuses it"),
            "{flag}: {text}"
        );
    }
}
