//! The indicators against TA-Lib: `tickpipe indicators` on GOOG daily must reproduce the
//! TA-Lib fixture cell for cell, and on EUR/USD hourly (checked against TA-Lib by a hidden
//! reference) a plain batch re-implementation of TA-Lib's rules, written here as loops
//! over the whole series. The session and rolling statistics that have no TA-Lib
//! counterpart are checked against batch recomputations too.
//!
//! Tolerance, from `tests/fixtures/indicators/README.md`: `|got − want| ≤ 1e-9·max(1, |want|)`
//! on every cell, and warm-up (empty) cells in exactly the same places.

use std::{path::PathBuf, process::Command};

use tickpipe::signal::indicator::{ReturnVolatility, RollingMeanStd, Vwap, ZScore};

const TOLERANCE: f64 = 1e-9;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// A CSV as its header and rows of cells (no quoting: neither file needs it).
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let split = |l: &str| l.split(',').map(str::to_owned).collect::<Vec<_>>();
    let header = split(lines.next().expect("a header"));
    (header, lines.map(split).collect())
}

fn cell(text: &str) -> Option<f64> {
    (!text.is_empty()).then(|| text.parse().expect("a number"))
}

fn within(got: f64, want: f64) -> bool {
    (got - want).abs() <= TOLERANCE * want.abs().max(1.0)
}

/// Runs `tickpipe indicators` on an OHLC fixture and parses what it prints.
fn run_indicators(ohlc: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let out = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .arg("indicators")
        .arg("--data")
        .arg(fixture(ohlc))
        .output()
        .expect("tickpipe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_csv(&String::from_utf8(out.stdout).expect("UTF-8 output"))
}

/// Compares two tables cell by cell; returns the largest relative error of each column.
fn assert_tables_match(
    header: &[String],
    got: &[Vec<String>],
    want: &[Vec<Option<f64>>],
    first_float: usize,
) -> Vec<(String, f64)> {
    assert_eq!(got.len(), want.len(), "row count");
    let mut worst = vec![0.0f64; header.len()];
    for (bar, (got_row, want_row)) in got.iter().zip(want).enumerate() {
        assert_eq!(got_row.len(), header.len(), "bar {bar}: cells");
        for col in first_float..header.len() {
            let (g, w) = (cell(&got_row[col]), want_row[col]);
            match (g, w) {
                (None, None) => {}
                (Some(g), Some(w)) => {
                    assert!(
                        within(g, w),
                        "bar {bar}, {}: got {g:?}, want {w:?}",
                        header[col]
                    );
                    worst[col] = worst[col].max((g - w).abs() / w.abs().max(1.0));
                }
                _ => panic!(
                    "bar {bar}, {}: got {g:?}, want {w:?} (warm-up differs)",
                    header[col]
                ),
            }
        }
    }
    header
        .iter()
        .cloned()
        .zip(worst)
        .skip(first_float)
        .collect()
}

#[test]
fn goog_matches_talib() {
    let (header, got) = run_indicators("ohlc/GOOG.csv");
    let text = std::fs::read_to_string(fixture("indicators/goog-talib.csv")).unwrap();
    let (want_header, want) = parse_csv(&text);
    assert_eq!(header, want_header);
    assert_eq!(want.len(), 2148);
    for (bar, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g[..2], w[..2], "bar {bar}: bar number and time");
    }
    let want: Vec<Vec<Option<f64>>> = want
        .iter()
        .map(|row| {
            // The bar number and time were compared as text above.
            let floats = row[2..].iter().map(|c| cell(c));
            [None, None].into_iter().chain(floats).collect()
        })
        .collect();
    // Column 2 on: open..volume, then every indicator.
    for (column, err) in assert_tables_match(&header, &got, &want, 2) {
        eprintln!("GOOG {column:22} max relative error {err:.3e}");
    }
}

/// One OHLCV series, read independently of the command.
struct Series {
    time: Vec<String>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

fn read_series(path: &str) -> Series {
    let text = std::fs::read_to_string(fixture(path)).unwrap();
    let (header, rows) = parse_csv(&text);
    assert_eq!(header, ["", "Open", "High", "Low", "Close", "Volume"]);
    let col = |i: usize| -> Vec<f64> { rows.iter().map(|r| r[i].parse().unwrap()).collect() };
    Series {
        time: rows.iter().map(|r| r[0].clone()).collect(),
        high: col(2),
        low: col(3),
        close: col(4),
        volume: col(5),
    }
}

/// Batch re-implementations of TA-Lib's rules (the fixture README's), as plain loops.
// Indexed loops on purpose: they read like the README's formulas (`c[i] − c[i−1]`).
#[allow(clippy::needless_range_loop)]
mod batch {
    pub fn sma(x: &[f64], n: usize) -> Vec<Option<f64>> {
        (0..x.len())
            .map(|i| (i + 1 >= n).then(|| x[i + 1 - n..=i].iter().sum::<f64>() / n as f64))
            .collect()
    }

    /// EMA(n) of `x` started at bar `start`: seeded with mean(x[start..start + n]).
    pub fn ema_from(x: &[f64], n: usize, start: usize) -> Vec<Option<f64>> {
        let k = 2.0 / (n as f64 + 1.0);
        let mut out = vec![None; x.len()];
        let seed_bar = start + n - 1;
        if seed_bar >= x.len() {
            return out;
        }
        let mut ema = x[start..=seed_bar].iter().sum::<f64>() / n as f64;
        out[seed_bar] = Some(ema);
        for i in seed_bar + 1..x.len() {
            ema = (x[i] - ema) * k + ema;
            out[i] = Some(ema);
        }
        out
    }

    pub fn rsi(c: &[f64], n: usize) -> Vec<Option<f64>> {
        let mut out = vec![None; c.len()];
        let (mut gain, mut loss) = (0.0, 0.0);
        for i in 1..c.len() {
            let d = c[i] - c[i - 1];
            let (up, down) = if d < 0.0 { (0.0, -d) } else { (d, 0.0) };
            if i <= n {
                gain += up;
                loss += down;
                if i < n {
                    continue;
                }
                gain /= n as f64;
                loss /= n as f64;
            } else {
                gain = (gain * (n - 1) as f64 + up) / n as f64;
                loss = (loss * (n - 1) as f64 + down) / n as f64;
            }
            let total = gain + loss;
            out[i] = Some(if total.abs() < 1e-14 {
                0.0
            } else {
                100.0 * gain / total
            });
        }
        out
    }

    pub fn true_range(h: &[f64], l: &[f64], c: &[f64], i: usize) -> f64 {
        (h[i] - l[i])
            .max((h[i] - c[i - 1]).abs())
            .max((l[i] - c[i - 1]).abs())
    }

    pub fn atr(h: &[f64], l: &[f64], c: &[f64], n: usize) -> Vec<Option<f64>> {
        let mut out = vec![None; c.len()];
        if c.len() <= n {
            return out;
        }
        let mut atr = (1..=n).map(|i| true_range(h, l, c, i)).sum::<f64>() / n as f64;
        out[n] = Some(atr);
        for i in n + 1..c.len() {
            atr = (atr * (n - 1) as f64 + true_range(h, l, c, i)) / n as f64;
            out[i] = Some(atr);
        }
        out
    }

    /// MACD line, signal and histogram, all from bar `slow + signal − 2`.
    pub fn macd(c: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<Option<f64>>; 3] {
        let slow_ema = ema_from(c, slow, 0);
        let fast_ema = ema_from(c, fast, slow - fast);
        let first = slow - 1;
        let line: Vec<f64> = (first..c.len())
            .map(|i| fast_ema[i].unwrap() - slow_ema[i].unwrap())
            .collect();
        let signal_ema = ema_from(&line, signal, 0);
        let mut out = [
            vec![None; c.len()],
            vec![None; c.len()],
            vec![None; c.len()],
        ];
        for (j, s) in signal_ema.iter().enumerate() {
            if let Some(s) = *s {
                out[0][first + j] = Some(line[j]);
                out[1][first + j] = Some(s);
                out[2][first + j] = Some(line[j] - s);
            }
        }
        out
    }

    /// Upper, middle, lower, with a two-pass population deviation.
    pub fn bbands(c: &[f64], n: usize, k: f64) -> [Vec<Option<f64>>; 3] {
        let mut out = [
            vec![None; c.len()],
            vec![None; c.len()],
            vec![None; c.len()],
        ];
        for i in n - 1..c.len() {
            let w = &c[i + 1 - n..=i];
            let mean = w.iter().sum::<f64>() / n as f64;
            let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            let width = k * var.sqrt();
            out[0][i] = Some(mean + width);
            out[1][i] = Some(mean);
            out[2][i] = Some(mean - width);
        }
        out
    }

    pub fn adx(h: &[f64], l: &[f64], c: &[f64], n: usize) -> Vec<Option<f64>> {
        let len = c.len();
        let nf = n as f64;
        let mut out = vec![None; len];
        let (mut plus, mut minus, mut tr) = (0.0, 0.0, 0.0);
        let mut dx_sum = 0.0;
        let mut adx = 0.0;
        for i in 1..len {
            let up = h[i] - h[i - 1];
            let dn = l[i - 1] - l[i];
            let (pdm, mdm) = if dn > 0.0 && up < dn {
                (0.0, dn)
            } else if up > 0.0 && up > dn {
                (up, 0.0)
            } else {
                (0.0, 0.0)
            };
            let today_tr = true_range(h, l, c, i);
            if i < n {
                plus += pdm;
                minus += mdm;
                tr += today_tr;
                continue;
            }
            plus = plus - plus / nf + pdm;
            minus = minus - minus / nf + mdm;
            tr = tr - tr / nf + today_tr;
            let dx = if tr.abs() < 1e-14 {
                None
            } else {
                let (pdi, mdi) = (100.0 * plus / tr, 100.0 * minus / tr);
                let sum = pdi + mdi;
                (sum.abs() >= 1e-14).then(|| 100.0 * (mdi - pdi).abs() / sum)
            };
            if i < 2 * n - 1 {
                dx_sum += dx.unwrap_or(0.0);
            } else if i == 2 * n - 1 {
                adx = (dx_sum + dx.unwrap_or(0.0)) / nf;
                out[i] = Some(adx);
            } else {
                if let Some(dx) = dx {
                    adx = (adx * (nf - 1.0) + dx) / nf;
                }
                out[i] = Some(adx);
            }
        }
        out
    }

    pub fn obv(c: &[f64], v: &[f64]) -> Vec<Option<f64>> {
        let mut out = Vec::with_capacity(c.len());
        let mut obv = v[0];
        out.push(Some(obv));
        for i in 1..c.len() {
            if c[i] > c[i - 1] {
                obv += v[i];
            } else if c[i] < c[i - 1] {
                obv -= v[i];
            }
            out.push(Some(obv));
        }
        out
    }

    /// Mean and (population, sample) deviation of `x[i + 1 − n..=i]`, two passes.
    pub fn mean_std(w: &[f64]) -> (f64, f64, f64) {
        let n = w.len() as f64;
        let mean = w.iter().sum::<f64>() / n;
        let m2 = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
        (mean, (m2 / n).sqrt(), (m2 / (n - 1.0)).sqrt())
    }
}

#[test]
fn eurusd_matches_a_batch_talib() {
    let s = read_series("ohlc/EURUSD.csv");
    assert_eq!(s.close.len(), 5000);
    let (header, got) = run_indicators("ohlc/EURUSD.csv");
    let (h, l, c) = (&s.high[..], &s.low[..], &s.close[..]);
    let [macd, signal, hist] = batch::macd(c, 12, 26, 9);
    let [upper, middle, lower] = batch::bbands(c, 20, 2.0);
    let columns: Vec<Vec<Option<f64>>> = vec![
        batch::sma(c, 10),
        batch::sma(c, 20),
        batch::ema_from(c, 10, 0),
        batch::ema_from(c, 20, 0),
        batch::rsi(c, 14),
        batch::atr(h, l, c, 14),
        macd,
        signal,
        hist,
        upper,
        middle,
        lower,
        batch::adx(h, l, c, 14),
        batch::obv(c, &s.volume),
    ];
    // The command's columns 7.. are the indicators; compare just those.
    let want: Vec<Vec<Option<f64>>> = (0..c.len())
        .map(|i| {
            let mut row = vec![None; 7];
            row.extend(columns.iter().map(|col| col[i]));
            row
        })
        .collect();
    for (bar, row) in got.iter().enumerate() {
        assert_eq!(row[1], s.time[bar], "bar {bar}: time");
    }
    for (column, err) in assert_tables_match(&header, &got, &want, 7) {
        eprintln!("EURUSD {column:22} max relative error vs batch {err:.3e}");
    }

    // The band width relative to itself, not to the price level: hourly FX has a
    // deviation ~1e-3 of a level ~1.1, so a one-pass `E[x²] − mean²` deviation is off by
    // ~1e-8 of the width while the bands themselves stay within the tolerance.
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (upper_col, middle_col) = (at("bb_upper_20_2"), at("bb_middle_20_2"));
    let mut worst = 0.0f64;
    for (bar, row) in got.iter().enumerate().skip(19) {
        let width = cell(&row[upper_col]).unwrap() - cell(&row[middle_col]).unwrap();
        let want = want[bar][upper_col].unwrap() - want[bar][middle_col].unwrap();
        let err = (width - want).abs() / want;
        assert!(
            err <= TOLERANCE,
            "bar {bar}: band width {width:?}, want {want:?}"
        );
        worst = worst.max(err);
    }
    eprintln!("EURUSD band width            max relative error vs batch {worst:.3e}");
}

/// A pair of series matches: same warm-up, values within the tolerance.
fn assert_series_match(name: &str, got: &[Option<f64>], want: &[Option<f64>]) {
    assert_eq!(got.len(), want.len());
    for (bar, (g, w)) in got.iter().zip(want).enumerate() {
        match (g, w) {
            (None, None) => {}
            (Some(g), Some(w)) => assert!(within(*g, *w), "{name} bar {bar}: {g:?} vs {w:?}"),
            _ => panic!("{name} bar {bar}: {g:?} vs {w:?} (warm-up differs)"),
        }
    }
}

#[test]
fn session_vwap_matches_batch() {
    let s = read_series("ohlc/EURUSD.csv");
    let typical: Vec<f64> = (0..s.close.len())
        .map(|i| (s.high[i] + s.low[i] + s.close[i]) / 3.0)
        .collect();
    let day = |i: usize| &s.time[i][..10];
    let mut vwap = Vwap::new();
    let mut got = Vec::new();
    let mut want = Vec::new();
    for i in 0..s.close.len() {
        if i > 0 && day(i) != day(i - 1) {
            vwap.reset();
        }
        got.push(vwap.update(typical[i], s.volume[i]));
        let open = (0..=i)
            .rev()
            .take_while(|&j| day(j) == day(i))
            .last()
            .unwrap();
        let notional: f64 = (open..=i).map(|j| typical[j] * s.volume[j]).sum();
        let volume: f64 = s.volume[open..=i].iter().sum();
        want.push((volume > 0.0).then(|| notional / volume));
    }
    assert_series_match("vwap", &got, &want);
}

#[test]
fn rolling_statistics_match_batch() {
    let s = read_series("ohlc/EURUSD.csv");
    let n = 20;
    let len = s.close.len();

    // Mean and deviation of the close: the spread (~1e-3) is small next to the level
    // (~1.1), where a sliding update would show drift. Checked relative to the deviation
    // itself, much tighter than the fixture tolerance.
    let mut stats = RollingMeanStd::new(n);
    for i in 0..len {
        let got = stats.update(s.close[i]);
        if i + 1 < n {
            assert_eq!(got, None, "bar {i}");
            continue;
        }
        let (mean, std, sample_std) = batch::mean_std(&s.close[i + 1 - n..=i]);
        let got = got.unwrap();
        assert!(within(got.mean, mean), "mean bar {i}");
        assert!((got.std - std).abs() <= TOLERANCE * std, "std bar {i}");
        assert!(
            (got.sample_std - sample_std).abs() <= TOLERANCE * sample_std,
            "sample std bar {i}"
        );
    }

    // Volume z-score against the previous n bars.
    let mut z = ZScore::new(n);
    let got: Vec<_> = s.volume.iter().map(|&v| z.update(v)).collect();
    let want: Vec<_> = (0..len)
        .map(|i| {
            (i >= n).then(|| {
                let (mean, std, _) = batch::mean_std(&s.volume[i - n..i]);
                (s.volume[i] - mean) / std
            })
        })
        .collect();
    assert_series_match("volume z", &got, &want);

    // Return volatility: sample deviation of the last n log returns.
    let mut vol = ReturnVolatility::new(n);
    let got: Vec<_> = s.close.iter().map(|&p| vol.update(p)).collect();
    let returns: Vec<f64> = (1..len)
        .map(|i| (s.close[i] / s.close[i - 1]).ln())
        .collect();
    let want: Vec<_> = (0..len)
        .map(|i| (i >= n).then(|| batch::mean_std(&returns[i - n..i]).2))
        .collect();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        match (g, w) {
            (None, None) => {}
            (Some(g), Some(w)) => assert!((g - w).abs() <= TOLERANCE * w, "vol bar {i}"),
            _ => panic!("vol bar {i}: {g:?} vs {w:?}"),
        }
    }
}

#[test]
fn bad_input_names_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("tickpipe-indicators-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |name: &str, contents: Option<&str>| {
        let path = dir.join(name);
        if let Some(contents) = contents {
            std::fs::write(&path, contents).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
            .arg("indicators")
            .arg("--data")
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name} should fail");
        assert!(out.stdout.is_empty(), "{name}: wrote output");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("missing.csv", None);
    assert!(err.contains("missing.csv"), "{err}");
    let err = run(
        "cell.csv",
        Some("Date,Open,High,Low,Close,Volume\n2024-01-01,1,2,1,1.5,10\n2024-01-02,1,2,1,abc,10\n"),
    );
    assert!(
        err.contains("cell.csv: line 3, column `Close`: `abc`"),
        "{err}"
    );
    let err = run("header.csv", Some("Date,Open,High,Low,Volume\n"));
    assert!(
        err.contains("header.csv: line 1: no `Close` column"),
        "{err}"
    );
}
