//! The command line: `tickpipe run` (the default), `tickpipe record`, `tickpipe config`,
//! `tickpipe ctl` (the control socket's client), `tickpipe indicators` (TA-Lib's
//! indicators over an OHLCV CSV), `tickpipe regime` (market regimes of a return series),
//! `tickpipe report` (performance statistics of an equity curve, or the trade report of a
//! journal), `tickpipe journal` (verify, inspect, export or archive a journal directory),
//! `tickpipe backtest` (a strategy over historical bars, with its report),
//! `tickpipe feed decode` (captured Kite Ticker messages as JSON).

mod backtest;
pub mod ctl;
mod feed;
pub mod format;
mod indicators;
mod journal;
mod record;
mod regime;
mod report;
mod run;
mod status;
pub mod summary;

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};

/// tickpipe: a low-latency automated trading engine for NSE/BSE.
#[derive(Debug, Parser)]
#[command(name = "tickpipe", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Trade a session: the synthetic NSE day on the paper gateway by default.
    Run(RunArgs),
    /// Write the synthetic session (or a part of it) to a tick file for replay.
    Record(record::RecordArgs),
    /// Print the embedded default configuration.
    Config,
    /// Talk to a running engine over its control socket: one command, a prompt, or `top`.
    Ctl(ctl::CtlArgs),
    /// Compute TA-Lib's indicators over an OHLCV CSV file and write them as CSV.
    Indicators(indicators::IndicatorsArgs),
    /// Market regimes of a return series under a Gaussian hidden Markov model, fitted
    /// first with --fit N.
    Regime(regime::RegimeArgs),
    /// Performance statistics of a daily equity curve (Sharpe, Sortino, drawdowns, CAGR
    /// and the rest, as empyrical defines them), or with --journal the trade report of a
    /// journal directory (tables, JSON and SVG plots).
    Report(report::ReportArgs),
    /// Run a strategy over historical OHLCV bars and write its trades, equity,
    /// statistics, report and plots (--out DIR).
    Backtest(backtest::BacktestArgs),
    /// Check a journal directory, print its records, export its trades as CSV or its
    /// history as SQLite, or archive its sealed segments.
    Journal(journal::JournalArgs),
    /// Work with captured market data: `feed decode --format kite FILE` prints each
    /// binary message of a capture as JSON.
    Feed(feed::FeedArgs),
}

/// Options of `tickpipe run` (also accepted with no subcommand).
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `max` to play as fast as the pipeline goes, or N for N× real time.
    #[arg(long, value_name = "max|N")]
    pub speed: Option<String>,
    /// Seed of the synthetic market.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Market time to play from the session start, e.g. `90m`.
    #[arg(long, value_name = "T")]
    pub duration: Option<String>,
    /// A saved Kite instrument master (Kite's `instruments` CSV): the synthetic
    /// universe's shares and index take their tick size and token from its NSE rows of
    /// the same symbol (`[feed.synthetic] instruments`).
    #[arg(long, value_name = "FILE")]
    pub instruments: Option<PathBuf>,
    /// Thread layout preset: one_group, two_groups or per_stage.
    #[arg(long, value_name = "PRESET")]
    pub layout: Option<String>,
    /// Wait strategy of the preset's groups: busy_spin, spin_then_yield, spin_then_park.
    #[arg(long, value_name = "KIND")]
    pub wait: Option<String>,
    /// Folder for the control socket (`tickpipe.sock`); `var` by default.
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Do not serve the control socket.
    #[arg(long)]
    pub no_control: bool,
    /// Journal under DIR (one directory per trading day); `var/journal` by default.
    #[arg(long, value_name = "DIR", conflicts_with = "no_journal")]
    pub journal: Option<PathBuf>,
    /// Do not journal the run.
    #[arg(long)]
    pub no_journal: bool,
    /// Start a fresh journal for the day even when its last run stopped mid-day
    /// (without this, that day is rebuilt from its journal and trading goes on).
    #[arg(long, conflicts_with = "no_journal")]
    pub no_resume: bool,
    /// Also write the summary as one JSON object to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Also write the trade report into DIR: every round trip, the strategies side by
    /// side and the days (`trades.csv`, `strategies.csv`, `daily.csv`, `report.md`).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// No live status line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Entry point of the `tickpipe` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Ctl(args)) => return ctl::main(&args),
        None => run::run(&cli.run),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Record(args)) => record::record(&args),
        Some(Command::Indicators(args)) => indicators::indicators(&args),
        Some(Command::Regime(args)) => regime::regime(&args),
        Some(Command::Report(args)) => report::report(&args),
        Some(Command::Journal(args)) => journal::journal(&args),
        Some(Command::Backtest(args)) => backtest::backtest(&args),
        Some(Command::Feed(args)) => feed::feed(&args),
        Some(Command::Config) => {
            print!("{}", crate::engine::DEFAULT_TOML);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tickpipe: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the config named by `--config` (or the embedded default) and applies the
/// command-line overrides, then validates the result once more.
fn load_config(args: &RunArgs) -> Result<(crate::engine::EngineConfig, String), String> {
    use crate::engine::EngineConfig;
    let (mut config, origin) = match &args.config {
        Some(path) => (
            EngineConfig::from_file(path).map_err(|e| e.to_string())?,
            path.display().to_string(),
        ),
        None => (
            EngineConfig::embedded_default(),
            "embedded default".to_owned(),
        ),
    };
    if let Some(speed) = &args.speed {
        config.feed.speed = speed.clone();
    }
    if let Some(seed) = args.seed {
        config.feed.synthetic.seed = seed;
    }
    if let Some(path) = &args.instruments {
        if config.feed.source != crate::feed::SourceKind::Synthetic {
            return Err(format!(
                "--instruments applies to the synthetic source; this run's source is {} (a tick file carries its own instruments)",
                config.feed.source.name()
            ));
        }
        config.feed.synthetic.instruments = Some(path.clone());
    }
    if let Some(duration) = &args.duration {
        config.feed.duration = duration.clone();
    }
    if let Some(layout) = &args.layout {
        config.runtime.layout = layout.clone();
        config.runtime.groups = None;
    }
    if let Some(wait) = &args.wait {
        config.runtime.wait = wait.clone();
    }
    if let Some(dir) = &args.run_dir {
        config.control.run_dir = dir.clone();
    }
    if args.no_control {
        config.control.enabled = false;
    }
    if let Some(dir) = &args.journal {
        config.journal.dir = dir.clone();
        config.journal.enabled = true;
    }
    if args.no_journal {
        config.journal.enabled = false;
    }
    if args.no_resume {
        config.journal.resume = false;
    }
    let described = format!("{origin} + command line");
    config.validate(&described).map_err(|e| e.to_string())?;
    Ok((config, origin))
}
