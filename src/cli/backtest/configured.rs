//! `tickpipe backtest --data FILE [--risk configured]`: one instrument's intraday bars
//! through the whole pipeline (feed, signal, risk and order stages, the paper exchange,
//! the Indian charges) with the configured risk profile, day by day
//! ([`run_bar_days`]), and the files a synthetic session writes. It is what intraday
//! bars run unless `--risk none` (or `--sizing`) is given.
//!
//! The strategy is the one the flags give (`--strategy`, `--param`), exactly as under
//! `--risk none`, so the two profiles compare the same strategy; the config (`--config`,
//! or the embedded default) gives everything around it: the risk stage, the charges, the
//! order stage and the paper exchange, and the universe the instrument is looked up in.

use std::path::Path;

use super::{file_name, params, sma_cross_config, synthetic::load, BacktestArgs, Reason};
use crate::{
    backtest::{
        bar_config, run_bar_days, write_session, BarDays, SessionStats, Staging, CONFIGURED_RISK,
        STRATEGIES,
    },
    engine::EngineConfig,
    feed::universe,
    model::{InstrumentId, InstrumentTable},
    report::paise,
    signal::SmaCross,
};

/// Refuses the flags of `--risk none` (never ignores them), saying what the pipeline
/// takes instead and, when the profile came by default, how to ask for `none`.
pub(super) fn refuse_none_flags(args: &BacktestArgs, reason: Reason) -> Result<(), String> {
    for (flag, given, instead) in [
        ("--cash", args.cash.is_some(), "[risk] capital"),
        (
            "--commission",
            args.commission.is_some(),
            "the Indian charges of [charges]",
        ),
        ("--fill", args.fill.is_some(), "the paper exchange's fills"),
        (
            "--finalize",
            args.finalize,
            "the square-off of [risk] square_off",
        ),
    ] {
        if !given {
            continue;
        }
        return Err(if reason == Reason::Intraday {
            format!(
                "{flag}: a --risk none setting, and intraday bars run --risk configured by default, which takes {instead} from --config; add --risk none to run the all-in account with {flag}"
            )
        } else {
            format!(
                "{flag}: a --risk none setting; under --risk configured the run takes {instead} from --config"
            )
        });
    }
    Ok(())
}

/// Reads the bars, runs them through the pipeline, writes the files, prints a summary.
pub(super) fn backtest(
    args: &BacktestArgs,
    data_file: &Path,
    reason: Reason,
) -> Result<(), String> {
    refuse_none_flags(args, reason)?;
    if args.strategy != SmaCross::NAME {
        return Err(format!(
            "--strategy {}: backtests run {} so far",
            args.strategy,
            STRATEGIES.join(", ")
        ));
    }
    let config = load(args.config.as_ref())?;
    let strategy = sma_cross_config(&params(&args.params)?)?;
    let data = BarDays::read(data_file)?;
    let (table, instrument) = instrument(&config, args.symbol.as_deref(), data_file)?;
    let symbol = table.get(instrument).symbol.clone();
    let config = bar_config(&config, &strategy, &symbol, data.bar_secs())?;
    let name = file_name(data_file);
    let outcome = run_bar_days(&config, &table, instrument, &data, &name, |_, _, _| {})?;
    let stats = SessionStats::of(&outcome);
    // As under --risk none: into a hidden sibling of --out first, so a failure leaves no
    // half-written outputs.
    let staging = Staging::new(&args.out)?;
    write_session(staging.path(), &outcome, &stats)?;
    let written = staging.commit()?;
    println!(
        "{} on {name} ({symbol}): {} {}-second bars over {} day(s), {} round trip(s), net ₹{}, final equity ₹{}; risk {CONFIGURED_RISK}{}; wrote {} files to {}",
        SmaCross::NAME,
        data.bars(),
        data.bar_secs(),
        outcome.days.len(),
        stats.trades,
        paise(stats.net()),
        paise(stats.final_equity),
        if reason == Reason::Intraday {
            " (the default for intraday bars; --risk none sizes all in)"
        } else {
            ""
        },
        written.len(),
        args.out.display()
    );
    Ok(())
}

/// The universe's table (`[feed.synthetic] universe`, or the embedded NIFTY 50) and the
/// instrument the data file holds: `--symbol`, or the file's name up to the first dot.
pub(super) fn instrument(
    config: &EngineConfig,
    symbol: Option<&str>,
    data_file: &Path,
) -> Result<(InstrumentTable, InstrumentId), String> {
    let (universe, origin) = match &config.feed.synthetic.universe {
        Some(path) => (universe::load(path), path.display().to_string()),
        None => (universe::load_default(), "the embedded NIFTY 50".to_owned()),
    };
    let table = universe.map_err(|e| e.to_string())?.table().clone();
    let (name, from) = match symbol {
        Some(s) => (s.to_owned(), "--symbol"),
        None => {
            let stem = file_name(data_file);
            let stem = stem.split('.').next().unwrap_or_default().to_uppercase();
            (stem, "its file name")
        }
    };
    let id = table.find(&name).ok_or_else(|| {
        let known: Vec<&str> = table.iter().take(5).map(|i| i.symbol.as_str()).collect();
        format!(
            "{}: instrument `{name}` (from {from}) is not in the universe ({origin}), which --risk configured needs for its tick size, lot and sector; name the file's instrument with --symbol, e.g. {}, …, or run --risk none (no risk stage, all-in sizing)",
            data_file.display(),
            known.join(", ")
        )
    })?;
    Ok((table, id))
}
