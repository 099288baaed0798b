//! The `backtest` scenario: how fast backtests run and how much memory they take.
//!
//! - **Bars.** A deterministic synthetic data set (by default a year of 1-minute NSE
//!   bars, 250 days × 375 bars, for each of 50 instruments: 4.69 M bars in 50 CSV files
//!   in a temporary folder) backtested with `sma_cross` alone, one instrument after
//!   another on one thread. The time is split by stage, each timed on its own so the
//!   rows add up to where it goes: reading the CSV (the `csv` crate and our cell
//!   parsing), the strategy alone on bars in memory, the strategy and the account on
//!   bars in memory, and the whole streamed run (read, strategy, account, no output);
//!   then the same bars through every stage (`--risk configured`: the feed, signal, risk
//!   and order stages and the paper exchange, one thread), from memory and with the file
//!   read first.
//! - **Memory.** Peak RSS (`VmHWM`) of a child process running the whole streamed bar
//!   backtest, `equity.csv` included, over 1× and 10× the data, and for comparison of a
//!   child that loads the file whole first.
//! - **Synthetic days.** `backtest --synthetic` (every stage, all configured
//!   strategies, the paper exchange) in days per second, and the comparison
//!   `backtest --synthetic --compare` (each strategy alone, then all together, each day
//!   generated once for all of them, over every core) in seconds, wall and CPU.
//!
//! Each figure is the median of `--reps` runs, with the slowest and fastest beside it.

use std::{
    error::Error,
    fmt::Write as _,
    fs,
    io::{BufWriter, Write as _},
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use clap::Args;
use tickpipe::{
    backtest::{
        self, available_jobs, bar_config, run_bar_days, run_session, run_shared_days, variants,
        BarDays, EquityCsv, FillAt, NoEquityRows, OhlcvReader, Settings, Sizing, StrategyDriver,
    },
    engine::EngineConfig,
    model::Date,
    signal::SmaCrossConfig,
};

use crate::{
    report::{Provenance, Table},
    stats::median,
};

/// Options of the `backtest` scenario.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Instruments in the bar data set (one CSV file each).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    instruments: u32,
    /// Trading days of 375 one-minute bars per instrument.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..))]
    days: u32,
    /// Repetitions of every measurement; the report gives the median.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// Bars of the 1× memory file (10× is ten times as many).
    #[arg(long, default_value_t = 200_000)]
    rss_bars: u64,
    /// Synthetic days per run of the synthetic-days measurement (0 skips it).
    #[arg(long, default_value_t = 3)]
    synthetic_days: u32,
    /// Synthetic days of the comparison measurement (0 skips it).
    #[arg(long, default_value_t = 20)]
    compare_days: u32,
    /// Where to write `backtest.md` (also printed).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Internal: run one streamed backtest of this file and print the peak RSS.
    #[arg(long, hide = true)]
    child_rss: Option<PathBuf>,
    /// Internal, with --child-rss: load the file whole before running.
    #[arg(long, hide = true)]
    load_whole: bool,
}

/// Bars per trading day: 09:15 to 15:29, one a minute.
const BARS_PER_DAY: u64 = 375;

/// The universe instrument the bar files play through every stage.
const PIPELINE_SYMBOL: &str = "SBIN";

/// The strategy measured: `sma_cross` 10/30, always in the market.
fn sma_config() -> SmaCrossConfig {
    SmaCrossConfig {
        fast: 10,
        slow: 30,
        allow_short: true,
        ..SmaCrossConfig::default()
    }
}

fn settings() -> Settings {
    Settings {
        cash: 1_000_000.0,
        commission: 0.0,
        sizing: Sizing::Equity,
        fill: FillAt::NextOpen,
        finalize: false,
    }
}

/// Writes `bars` one-minute bars of a random walk (seeded by `seed`) on 0.05 ticks.
fn write_bars(path: &Path, bars: u64, seed: u64) -> Result<(), Box<dyn Error>> {
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    writeln!(out, "date,open,high,low,close,volume")?;
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Prices in paise, multiples of 5 (the 0.05 tick).
    let mut close: i64 = 50_000 + (seed as i64 % 50) * 1_000;
    let mut date = Date::new(2024, 1, 1);
    let mut minute = BARS_PER_DAY;
    let rupees = |p: i64| format!("{}.{:02}", p / 100, p % 100);
    for _ in 0..bars {
        if minute == BARS_PER_DAY {
            minute = 0;
            date = date.add_days(1);
            while date.weekday() >= 5 {
                date = date.add_days(1);
            }
        }
        let r = next();
        let open = close;
        close = (open + ((r % 9) as i64 - 4) * 5).max(500);
        let high = open.max(close) + ((r >> 8) % 3) as i64 * 5;
        let low = (open.min(close) - ((r >> 16) % 3) as i64 * 5).max(5);
        let t = 9 * 60 + 15 + minute;
        writeln!(
            out,
            "{date} {:02}:{:02}:00,{},{},{},{},{}",
            t / 60,
            t % 60,
            rupees(open),
            rupees(high),
            rupees(low),
            rupees(close),
            (r >> 24) % 100_000
        )?;
        minute += 1;
    }
    out.flush()?;
    Ok(())
}

/// Median, slowest and fastest of per-rep rates, formatted.
fn rate_cells(rates: &[f64], unit: f64) -> [String; 3] {
    let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = rates.iter().copied().fold(0.0, f64::max);
    [
        format!("{:.2}", median(rates) / unit),
        format!("{:.2}", min / unit),
        format!("{:.2}", max / unit),
    ]
}

/// CPU time this process has used so far (user + system, every thread), in seconds,
/// from `/proc/self/stat`.
fn process_cpu_secs() -> Result<f64, Box<dyn Error>> {
    let stat = fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15,
    // in clock ticks (USER_HZ, 100 on Linux).
    let rest = stat
        .rsplit_once(')')
        .ok_or("no command name in /proc/self/stat")?
        .1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> Result<f64, Box<dyn Error>> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/self/stat")?
            .parse::<u64>()? as f64
            / 100.0)
    };
    Ok(tick(11)? + tick(12)?)
}

/// The peak RSS of this process in kB (`VmHWM` in `/proc/self/status`).
fn peak_rss_kb() -> Result<u64, Box<dyn Error>> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".into())
}

/// The child's work: one whole backtest of `file`, `equity.csv` written beside it;
/// prints `bars peak_kb`.
fn child(file: &Path, load_whole: bool) -> Result<(), Box<dyn Error>> {
    let mut driver = StrategyDriver::sma_cross(&sma_config(), "BENCH")?;
    let equity_path = file.with_extension("equity.csv");
    let outcome = if load_whole {
        let bars = backtest::read_ohlcv(file)?;
        let outcome = backtest::run(&bars, &mut driver, &settings());
        let mut sink = EquityCsv::new(BufWriter::new(fs::File::create(&equity_path)?))?;
        // The in-memory run keeps no rows; write the equity file's worth of text anyway
        // so both children write the same amount.
        for (i, bar) in bars.iter().enumerate() {
            use tickpipe::backtest::EquitySink;
            sink.row(i as u64, &bar.time, bar.close_f64(), 0.0, 0.0)?;
        }
        sink.finish()?;
        outcome
    } else {
        let mut reader = OhlcvReader::open(file)?;
        let mut sink = EquityCsv::new(BufWriter::new(fs::File::create(&equity_path)?))?;
        let outcome = backtest::run_stream(&mut reader, &mut driver, &settings(), &mut sink)?;
        sink.finish()?;
        outcome
    };
    let _ = fs::remove_file(&equity_path);
    println!("{} {}", outcome.bars, peak_rss_kb()?);
    Ok(())
}

/// Runs this binary as a child on `file`; its bars and peak RSS in kB.
fn rss_of(file: &Path, load_whole: bool) -> Result<(u64, u64), Box<dyn Error>> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("backtest").arg("--child-rss").arg(file);
    if load_whole {
        cmd.arg("--load-whole");
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!("child: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(bars)), Some(Ok(kb))) => Ok((bars, kb)),
        _ => Err(format!("child printed `{}`", text.trim()).into()),
    }
}

/// Runs the scenario and prints (and with `--out`, writes) the report.
///
/// # Errors
/// The data or the report cannot be written, or a run fails.
pub fn run(args: &BacktestArgs) -> Result<(), Box<dyn Error>> {
    if let Some(file) = &args.child_rss {
        return child(file, args.load_whole);
    }
    let provenance = Provenance::collect();
    let dir = std::env::temp_dir().join(format!("tickpipe-bench-backtest-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let result = measure(args, &dir, &provenance);
    let _ = fs::remove_dir_all(&dir);
    let report = result?;
    print!("{report}");
    if let Some(out) = &args.out {
        fs::create_dir_all(out)?;
        fs::write(out.join("backtest.md"), &report)?;
    }
    Ok(())
}

fn measure(
    args: &BacktestArgs,
    dir: &Path,
    provenance: &Provenance,
) -> Result<String, Box<dyn Error>> {
    let per_instrument = u64::from(args.days) * BARS_PER_DAY;
    let files: Vec<PathBuf> = (0..args.instruments)
        .map(|i| dir.join(format!("INSTR{i:02}.csv")))
        .collect();
    for (i, file) in files.iter().enumerate() {
        write_bars(file, per_instrument, i as u64 + 1)?;
    }
    let total_bars = per_instrument * u64::from(args.instruments);
    let bytes: u64 = files
        .iter()
        .map(|f| fs::metadata(f).map_or(0, |m| m.len()))
        .sum();

    // Through every stage: the configured risk profile over the same bars, each file
    // as one universe instrument's (its tick size and lot; the data say nothing of
    // which instrument they are).
    let config = EngineConfig::embedded_default();
    let universe = tickpipe::feed::universe::load_default()?;
    let instruments = universe.table().clone();
    let instrument = instruments
        .find(PIPELINE_SYMBOL)
        .ok_or("the embedded universe has no SBIN")?;
    let piped = bar_config(&config, &sma_config(), PIPELINE_SYMBOL, 60)?;

    // [stage] -> per-rep bars/s.
    let stages = [
        "read the CSV (csv crate + cell parsing)",
        "sma_cross alone, bars in memory",
        "sma_cross + account, bars in memory",
        "whole streamed run: read + sma_cross + account",
        "through every stage (configured risk, paper exchange), bars in memory",
        "through every stage, read + pipeline",
    ];
    let mut rates = vec![Vec::new(); stages.len()];
    let mut trades = 0usize;
    let mut piped_trades = 0usize;
    for _ in 0..args.reps {
        let mut secs = [0.0f64; 6];
        for file in &files {
            // Stage 0: the reader alone, which also loads the bars for stages 1 and 2.
            let t = Instant::now();
            let mut reader = OhlcvReader::open(file)?;
            let mut n = 0u64;
            while reader.read_next()? {
                n += 1;
            }
            secs[0] += t.elapsed().as_secs_f64();
            std::hint::black_box(n);
            let bars = backtest::read_ohlcv(file)?;

            let mut driver = StrategyDriver::sma_cross(&sma_config(), "BENCH")?;
            let t = Instant::now();
            let mut signals = 0u64;
            for bar in &bars {
                signals += u64::from(driver.on_bar(bar).is_some());
            }
            secs[1] += t.elapsed().as_secs_f64();
            std::hint::black_box(signals);

            let mut driver = StrategyDriver::sma_cross(&sma_config(), "BENCH")?;
            let t = Instant::now();
            let outcome = backtest::run(&bars, &mut driver, &settings());
            secs[2] += t.elapsed().as_secs_f64();
            std::hint::black_box(&outcome);
            drop(bars);

            let mut driver = StrategyDriver::sma_cross(&sma_config(), "BENCH")?;
            let t = Instant::now();
            let mut reader = OhlcvReader::open(file)?;
            let outcome =
                backtest::run_stream(&mut reader, &mut driver, &settings(), &mut NoEquityRows)?;
            secs[3] += t.elapsed().as_secs_f64();
            trades += outcome.trades.len();

            // Stages 4 and 5: every stage on one thread, day by day, from the bars in
            // memory, then with the file read first.
            let days = BarDays::read(file)?;
            let t = Instant::now();
            let outcome = run_bar_days(
                &piped,
                &instruments,
                instrument,
                &days,
                "BENCH",
                |_, _, _| {},
            )?;
            secs[4] += t.elapsed().as_secs_f64();
            piped_trades += outcome.book.trades.len();
            drop(days);
            let t = Instant::now();
            let days = BarDays::read(file)?;
            let outcome = run_bar_days(
                &piped,
                &instruments,
                instrument,
                &days,
                "BENCH",
                |_, _, _| {},
            )?;
            secs[5] += t.elapsed().as_secs_f64();
            std::hint::black_box(outcome);
        }
        for (r, s) in rates.iter_mut().zip(secs) {
            r.push(total_bars as f64 / s);
        }
    }
    trades /= args.reps as usize;
    piped_trades /= args.reps as usize;

    // Memory: 1× and 10×, streamed and loaded whole.
    let mut memory = Vec::new();
    for scale in [1u64, 10] {
        let file = dir.join(format!("rss-{scale}x.csv"));
        write_bars(&file, args.rss_bars * scale, 99)?;
        let (bars, streamed) = rss_of(&file, false)?;
        let (_, whole) = rss_of(&file, true)?;
        let size = fs::metadata(&file).map_or(0, |m| m.len());
        memory.push((scale, bars, size, streamed, whole));
        let _ = fs::remove_file(&file);
    }

    // Synthetic days through the whole pipeline, all configured strategies.
    let mut days_rates = Vec::new();
    let mut strategies = String::new();
    if args.synthetic_days > 0 {
        let config = EngineConfig::embedded_default();
        for _ in 0..args.reps {
            let t = Instant::now();
            let outcome = run_session(&config, args.synthetic_days, |_, _, _| {})?;
            days_rates.push(f64::from(args.synthetic_days) / t.elapsed().as_secs_f64());
            strategies = outcome.strategy_names.join(", ");
        }
    }

    // The comparison: four strategies alone and all together over the same days.
    let mut compare_runs: Vec<(f64, f64)> = Vec::new();
    if args.compare_days > 0 {
        let config = EngineConfig::embedded_default();
        let runs = variants(&config)?;
        for _ in 0..args.reps {
            let cpu = process_cpu_secs()?;
            let t = Instant::now();
            let outcomes =
                run_shared_days(&runs, args.compare_days, available_jobs(), |_, _, _, _| {})?;
            compare_runs.push((t.elapsed().as_secs_f64(), process_cpu_secs()? - cpu));
            std::hint::black_box(outcomes);
        }
    }

    let mut out = String::new();
    let _ = writeln!(out, "# Backtest throughput and memory\n");
    out.push_str(&provenance.to_markdown());
    let _ = writeln!(
        out,
        "\n## Bars: `sma_cross` 10/30 alone, one thread\n\n{} instruments × {} days × {BARS_PER_DAY} one-minute bars = {total_bars} bars ({:.0} MB of CSV); always in the market, all-in sizing, next-open fills; {trades} closed trades per pass. M bars/s, median of {} runs (slowest, fastest):\n",
        args.instruments,
        args.days,
        bytes as f64 / 1e6,
        args.reps
    );
    let mut table = Table::new(&["stage", "M bars/s", "slowest", "fastest", "ns/bar"]);
    for (stage, r) in stages.iter().zip(&rates) {
        let [m, lo, hi] = rate_cells(r, 1e6);
        table.row(vec![
            (*stage).to_owned(),
            m,
            lo,
            hi,
            format!("{:.0}", 1e9 / median(r)),
        ]);
    }
    out.push_str(&table.render());
    let _ = writeln!(
        out,
        "\nThrough every stage: the same bars as `tickpipe backtest --data FILE --risk configured` plays them (four trade ticks a bar, one pipeline run per day through the feed, signal, risk and order stages and the paper exchange, latencies unmeasured), each file as {PIPELINE_SYMBOL}'s, with the embedded default config's risk, charges and order sections; {piped_trades} round trips per pass."
    );
    let _ = writeln!(
        out,
        "\n## Memory: peak RSS of one whole bar backtest (`equity.csv` written)\n"
    );
    let mut table = Table::new(&[
        "data",
        "bars",
        "CSV MB",
        "streamed: peak RSS MB",
        "loaded whole: peak RSS MB",
    ]);
    for (scale, bars, size, streamed, whole) in &memory {
        table.row(vec![
            format!("{scale}×"),
            bars.to_string(),
            format!("{:.1}", *size as f64 / 1e6),
            format!("{:.1}", *streamed as f64 / 1024.0),
            format!("{:.1}", *whole as f64 / 1024.0),
        ]);
    }
    out.push_str(&table.render());
    if let [(_, _, _, s1, w1), (_, _, _, s10, w10)] = memory[..] {
        let _ = writeln!(
            out,
            "\n10× the data costs the streamed run {:.2}× the peak memory; loaded whole, {:.2}×.",
            s10 as f64 / s1 as f64,
            w10 as f64 / w1 as f64
        );
    }
    if !days_rates.is_empty() {
        let [m, lo, hi] = rate_cells(&days_rates, 1.0);
        let _ = writeln!(
            out,
            "\n## Synthetic days through the whole pipeline\n\n`backtest --synthetic --days {}` on the embedded default config (strategies {strategies}), one thread: **{m} days/s** (slowest {lo}, fastest {hi}; median of {} runs).",
            args.synthetic_days, args.reps
        );
    }
    if !compare_runs.is_empty() {
        let walls: Vec<f64> = compare_runs.iter().map(|r| r.0).collect();
        let cpus: Vec<f64> = compare_runs.iter().map(|r| r.1).collect();
        let slowest = walls.iter().copied().fold(0.0, f64::max);
        let fastest = walls.iter().copied().fold(f64::INFINITY, f64::min);
        let _ = writeln!(
            out,
            "\n`backtest --synthetic --days {} --compare` (each strategy alone, then all together; each day generated once for the five runs) on {} thread(s): **{:.1} s** wall (slowest {slowest:.1}, fastest {fastest:.1}), {:.1} s CPU; median of {} runs.",
            args.compare_days,
            available_jobs(),
            median(&walls),
            median(&cpus),
            args.reps
        );
    }
    Ok(out)
}
