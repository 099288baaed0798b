//! `tickpipe backtest --data FILE --sweep k=a..b:step … [--shard K/N]` and
//! `tickpipe backtest merge DIR… --out DIR`: a grid of strategy settings over one data
//! file, run over the cores, and its results table.

use std::path::{Path, PathBuf};

use super::{file_name, params, settings, sma_cross_config, BacktestArgs};
use crate::{
    backtest::{
        self, figure_cells, grid, parallel_map, read_sweep, write_sweep, BarSource, NoEquityRows,
        Shard, Stats, StrategyDriver, SweepAxis, SweepRow, STRATEGIES,
    },
    signal::SmaCross,
};

/// Runs this shard's points of the grid and writes the table.
pub(super) fn sweep(args: &BacktestArgs, data_file: &Path) -> Result<(), String> {
    let settings = settings(args)?;
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
    if let Some(axis) = axes.iter().find(|a| base.iter().any(|(k, _)| *k == a.key)) {
        return Err(format!(
            "--sweep {}: `{}` is also a --param; give it one way",
            axis.spec, axis.key
        ));
    }
    let points = grid(&axes)?;
    let shard = args.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    // The header now, so a bad file stops before any thread starts.
    BarSource::open(data_file).map_err(|e| e.to_string())?;
    let mine: Vec<(usize, &Vec<(String, String)>)> = points
        .iter()
        .enumerate()
        .filter(|(p, _)| shard.unwrap_or(Shard::ALL).takes(*p))
        .collect();
    let results = parallel_map(&mine, args.jobs(), |_, &(p, point)| {
        run_point(data_file, &base, p, point, &settings)
    });
    let rows = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let fixed: Vec<String> = base.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let described = format!(
        "cash {}, commission {} of notional per fill, sizing {}, fills {}, risk profile none{}{}",
        settings.cash,
        settings.commission,
        settings.sizing,
        settings.fill,
        if settings.finalize { ", finalize" } else { "" },
        if fixed.is_empty() {
            String::new()
        } else {
            format!(", fixed {}", fixed.join(", "))
        }
    );
    let info = backtest::sweep_info(
        &file_name(data_file),
        SmaCross::NAME,
        &axes,
        points.len(),
        &described,
        shard,
    );
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    write_sweep(&args.out, &info, &keys, &rows)?;
    let failed = rows.iter().filter(|r| r.figures.is_err()).count();
    println!(
        "sweep of {} on {}: {} of {} point(s){}{}; wrote sweep.csv, sweep.md and sweep.json to {}",
        SmaCross::NAME,
        file_name(data_file),
        rows.len(),
        points.len(),
        shard.map_or_else(String::new, |s| format!(" (shard {s})")),
        if failed > 0 {
            format!(", {failed} not run (see the note column)")
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(())
}

/// One point: its settings over the whole file. A setting the strategy rejects is the
/// row's note; bad data stops the sweep.
fn run_point(
    data_file: &Path,
    base: &[(String, String)],
    p: usize,
    point: &[(String, String)],
    settings: &backtest::Settings,
) -> Result<SweepRow, String> {
    let values = point.iter().map(|(_, v)| v.clone()).collect();
    let all: Vec<(String, String)> = base.iter().chain(point).cloned().collect();
    let driver = sma_cross_config(&all).and_then(|c| StrategyDriver::sma_cross(&c, "DATA"));
    let mut driver = match driver {
        Ok(d) => d,
        Err(note) => {
            return Ok(SweepRow {
                point: p,
                values,
                figures: Err(note),
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
