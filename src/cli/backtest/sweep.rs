//! `tickpipe backtest --data FILE --sweep k=a..b:step … [--shard K/N]` and
//! `tickpipe backtest merge DIR… --out DIR`: a grid of strategy settings over one data
//! file, run over the cores, and its results table.
//!
//! A sweep runs the profile a single backtest of the same flags would run: each point
//! is a whole backtest of the data under `--risk none` ([`sweep`]) or through the
//! pipeline with the configured risk stage ([`sweep_configured`]: the file read once,
//! each point its own pipeline, day by day). Either way the points are independent and
//! their rows come back in grid order, so the files do not depend on `--jobs`, and
//! shards merged give the files of one unsharded run.

use std::path::{Path, PathBuf};

use super::{
    configured::{instrument, refuse_none_flags},
    file_name, params, settings, sma_cross_config,
    synthetic::load,
    BacktestArgs, Reason, RiskProfile, SMA_CROSS_KEYS,
};
use crate::{
    backtest::{
        self, bar_config, figure_cells, grid, parallel_map, read_sweep, run_bar_days,
        session_figure_cells, write_sweep, BarDays, BarSource, NoEquityRows, SessionStats, Shard,
        Stats, StrategyDriver, SweepAxis, SweepRow, STRATEGIES,
    },
    engine::{EngineConfig, DEFAULT_TOML},
    model::{InstrumentId, InstrumentTable},
    signal::SmaCross,
};

/// What every sweep reads from the flags: the fixed params, the axes, the whole grid
/// and this run's share of it.
struct Plan {
    base: Vec<(String, String)>,
    axes: Vec<SweepAxis>,
    points: Vec<Vec<(String, String)>>,
    shard: Option<Shard>,
}

impl Plan {
    /// Checks the strategy and the axes (each a setting of the strategy, none also a
    /// `--param`) and builds the grid.
    fn of(args: &BacktestArgs) -> Result<Plan, String> {
        if args.strategy != SmaCross::NAME {
            return Err(format!(
                "--strategy {}: backtests run {} so far",
                args.strategy,
                STRATEGIES.join(", ")
            ));
        }
        let base = params(&args.params)?;
        let axes = args
            .sweep
            .iter()
            .map(|s| s.parse::<SweepAxis>())
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(axis) = axes
            .iter()
            .find(|a| !SMA_CROSS_KEYS.contains(&a.key.as_str()))
        {
            return Err(format!(
                "--sweep {}: `{}` is not a setting of sma_cross, which takes {} (the risk stage's settings come from --config)",
                axis.spec,
                axis.key,
                SMA_CROSS_KEYS.join(", ")
            ));
        }
        if let Some(axis) = axes.iter().find(|a| base.iter().any(|(k, _)| *k == a.key)) {
            return Err(format!(
                "--sweep {}: `{}` is also a --param; give it one way",
                axis.spec, axis.key
            ));
        }
        let points = grid(&axes)?;
        let shard = args.shard.as_deref().map(str::parse::<Shard>).transpose()?;
        Ok(Plan {
            base,
            axes,
            points,
            shard,
        })
    }

    /// This shard's points, with their numbers in the grid.
    fn mine(&self) -> Vec<(usize, &[(String, String)])> {
        self.points
            .iter()
            .enumerate()
            .filter(|(p, _)| self.shard.unwrap_or(Shard::ALL).takes(*p))
            .map(|(p, point)| (p, point.as_slice()))
            .collect()
    }

    /// The params every point shares, as `, fixed k=v, …` (empty without any).
    fn fixed(&self) -> String {
        if self.base.is_empty() {
            return String::new();
        }
        let fixed: Vec<String> = self.base.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(", fixed {}", fixed.join(", "))
    }

    /// A point's values, in the axes' order.
    fn values(point: &[(String, String)]) -> Vec<String> {
        point.iter().map(|(_, v)| v.clone()).collect()
    }

    /// The fixed params and the point's, in that order.
    fn all(&self, point: &[(String, String)]) -> Vec<(String, String)> {
        self.base.iter().chain(point).cloned().collect()
    }

    /// Writes the table and prints one line.
    fn finish(
        &self,
        args: &BacktestArgs,
        data_file: &Path,
        (profile, reason): (RiskProfile, Reason),
        described: &str,
        rows: &[SweepRow],
    ) -> Result<(), String> {
        let risk = (profile.name(), reason.text(profile));
        let info = backtest::sweep_info(
            &file_name(data_file),
            SmaCross::NAME,
            &self.axes,
            self.points.len(),
            risk,
            described,
            self.shard,
        );
        let keys: Vec<String> = self.axes.iter().map(|a| a.key.clone()).collect();
        write_sweep(&args.out, &info, &keys, rows)?;
        let failed = rows.iter().filter(|r| r.figures.is_err()).count();
        println!(
            "sweep of {} on {}: {} of {} point(s){}{}, risk {} ({}); wrote sweep.csv, sweep.md and sweep.json to {}",
            SmaCross::NAME,
            file_name(data_file),
            rows.len(),
            self.points.len(),
            self.shard
                .map_or_else(String::new, |s| format!(" (shard {s})")),
            if failed > 0 {
                format!(", {failed} not run (see the note column)")
            } else {
                String::new()
            },
            risk.0,
            risk.1,
            args.out.display()
        );
        Ok(())
    }
}

/// Runs this shard's points of the grid under `--risk none` and writes the table.
pub(super) fn sweep(args: &BacktestArgs, data_file: &Path, reason: Reason) -> Result<(), String> {
    let settings = settings(args)?;
    let plan = Plan::of(args)?;
    // The header now, so a bad file stops before any thread starts.
    BarSource::open(data_file).map_err(|e| e.to_string())?;
    let results = parallel_map(&plan.mine(), args.jobs(), |_, &(p, point)| {
        run_point(data_file, &plan, p, point, &settings)
    });
    let rows = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let described = format!(
        "cash {}, commission {} of notional per fill, sizing {}, fills {}, risk profile none{}{}",
        settings.cash,
        settings.commission,
        settings.sizing,
        settings.fill,
        if settings.finalize { ", finalize" } else { "" },
        plan.fixed()
    );
    plan.finish(
        args,
        data_file,
        (RiskProfile::None, reason),
        &described,
        &rows,
    )
}

/// One point: its settings over the whole file. A setting the strategy rejects is the
/// row's note; bad data stops the sweep.
fn run_point(
    data_file: &Path,
    plan: &Plan,
    p: usize,
    point: &[(String, String)],
    settings: &backtest::Settings,
) -> Result<SweepRow, String> {
    let values = Plan::values(point);
    let driver =
        sma_cross_config(&plan.all(point)).and_then(|c| StrategyDriver::sma_cross(&c, "DATA"));
    let mut driver = match driver {
        Ok(d) => d,
        Err(note) => {
            return Ok(SweepRow {
                point: p,
                values,
                figures: Err(one_line(&note)),
            })
        }
    };
    let mut reader = BarSource::open(data_file).map_err(|e| e.to_string())?;
    let outcome = backtest::run_stream(&mut reader, &mut driver, settings, &mut NoEquityRows)
        .map_err(|e| e.to_string())?;
    Ok(SweepRow {
        point: p,
        values,
        figures: Ok(figure_cells(&Stats::of(&outcome))),
    })
}

/// A note on one line, so the table keeps one row per point (the config check lists
/// its issues one a line).
fn one_line(note: &str) -> String {
    let parts: Vec<&str> = note
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join(" ")
}

/// What every point of a configured sweep shares: the config, the bars (read once) and
/// the instrument they are of.
struct Bars {
    config: EngineConfig,
    data: BarDays,
    table: InstrumentTable,
    instrument: InstrumentId,
    symbol: String,
    name: String,
}

/// Runs this shard's points of the grid through the pipeline with the configured risk
/// profile, each point a whole bar backtest ([`run_bar_days`]) on its own thread, and
/// writes the table.
pub(super) fn sweep_configured(
    args: &BacktestArgs,
    data_file: &Path,
    reason: Reason,
) -> Result<(), String> {
    refuse_none_flags(args, reason)?;
    let plan = Plan::of(args)?;
    let config = load(args.config.as_ref())?;
    // The config's text, so shards run with different files are told apart at merge.
    let (config_name, config_text) = match &args.config {
        Some(path) => (
            file_name(path),
            std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => (
            "the embedded default config".to_owned(),
            DEFAULT_TOML.as_bytes().to_vec(),
        ),
    };
    // Read whole once, before any thread starts: bad data stops here.
    let data = BarDays::read(data_file)?;
    let (table, instrument) = instrument(&config, args.symbol.as_deref(), data_file)?;
    let bars = Bars {
        symbol: table.get(instrument).symbol.clone(),
        config,
        data,
        table,
        instrument,
        name: file_name(data_file),
    };
    let results = parallel_map(&plan.mine(), args.jobs(), |_, &(p, point)| {
        run_configured_point(&bars, &plan, p, point)
    });
    let rows = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let described = format!(
        "risk profile configured: [risk], [charges], [order] and [paper] of {config_name} (crc32 {:08x}); {}, {} {}-second bars over {} day(s){}",
        crc32fast::hash(&config_text),
        bars.symbol,
        bars.data.bars(),
        bars.data.bar_secs(),
        bars.data.dates().count(),
        plan.fixed()
    );
    plan.finish(
        args,
        data_file,
        (RiskProfile::Configured, reason),
        &described,
        &rows,
    )
}

/// One point through the pipeline. A setting the strategy or the config check rejects
/// is the row's note; a pipeline that fails stops the sweep, naming the point.
fn run_configured_point(
    bars: &Bars,
    plan: &Plan,
    p: usize,
    point: &[(String, String)],
) -> Result<SweepRow, String> {
    let values = Plan::values(point);
    let config = sma_cross_config(&plan.all(point)).and_then(|strategy| {
        bar_config(&bars.config, &strategy, &bars.symbol, bars.data.bar_secs())
    });
    let config = match config {
        Ok(c) => c,
        Err(note) => {
            return Ok(SweepRow {
                point: p,
                values,
                figures: Err(one_line(&note)),
            })
        }
    };
    let outcome = run_bar_days(
        &config,
        &bars.table,
        bars.instrument,
        &bars.data,
        &bars.name,
        |_, _, _| {},
    )
    .map_err(|e| {
        let at: Vec<String> = point.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("--sweep point {p} ({}): {e}", at.join(", "))
    })?;
    let stats = SessionStats::of(&outcome);
    Ok(SweepRow {
        point: p,
        values,
        figures: Ok(session_figure_cells(
            &stats,
            bars.data.exposure(outcome.trades()),
        )),
    })
}

/// Reads every shard folder, merges, writes.
pub(super) fn merge(dirs: &[PathBuf], out: &Path) -> Result<(), String> {
    let shards = dirs
        .iter()
        .map(|d| {
            let (info, keys, rows) = read_sweep(d)?;
            Ok((d.display().to_string(), info, keys, rows))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (info, keys, rows) = backtest::merge(&shards)?;
    write_sweep(out, &info, &keys, &rows)?;
    println!(
        "merged {} shard folder(s): {} points; wrote sweep.csv, sweep.md and sweep.json to {}",
        dirs.len(),
        rows.len(),
        out.display()
    );
    Ok(())
}
