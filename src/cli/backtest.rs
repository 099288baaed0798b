//! `tickpipe backtest`: a strategy over an OHLCV CSV, or synthetic days through the
//! whole pipeline (`--synthetic`, in `backtest/synthetic.rs`), with the report files in
//! `--out`. Bars run under one of two risk profiles: `configured`
//! (`backtest/configured.rs`: the bars through the whole pipeline, the configured risk
//! stage and the paper exchange; the default over intraday bars) or `none` (the
//! strategy's signals go straight to an all-in account; asked for with `--risk none`,
//! implied by `--sizing equity`, and the default over daily bars, which have no
//! intraday path for the risk stage to trade). A flag of one profile given while the
//! other runs is refused, never ignored: `--commission` on intraday bars without
//! `--risk none` is an error that says to add it.
//!
//! The validation interface of issue 13, against backtesting.py:
//! `tickpipe backtest --data GOOG.csv --strategy sma_cross --param fast=10 --param slow=20
//! --cash 10000 --commission 0 --sizing equity --fill next-open [--finalize] --out DIR`.

mod configured;
mod progress;
mod sweep;
mod synthetic;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::{
    backtest::{
        self, EquityCsv, FillAt, RunInfo, Settings, Sizing, Staging, StrategyDriver, STRATEGIES,
    },
    signal::{SmaCross, SmaCrossConfig},
};

/// Options of `tickpipe backtest`.
// NB: `requires = "data"` alone lets `--synthetic` through: clap does not demand an
// argument that conflicts with one given, and the two inputs exclude each other. So a
// flag of one input also `conflicts_with` the other, or it would be silently ignored.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["data", "synthetic"])))]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BacktestArgs {
    /// `merge`: combine `--shard` outputs.
    #[command(subcommand)]
    pub command: Option<BacktestCommand>,
    /// Bars: an OHLCV CSV (the first column is the time, any name or none, then Open,
    /// High, Low, Close and Volume in any order and case; Kite's
    /// `date,open,high,low,close,volume[,oi]` with `2017-12-15T09:15:00+0530` times is
    /// one such), streamed row by row; or, ending in `.json`, Kite Connect's historical
    /// candles answer.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Trade synthetic NSE days through the whole pipeline (feed, signal, risk and order
    /// stages, the paper exchange, the charges) on one thread, with the configured
    /// strategies and risk profile: weekdays from `[feed.synthetic] date`, the first on
    /// the configured seed, each later one on a seed derived from it.
    #[arg(long)]
    pub synthetic: bool,
    /// How many synthetic trading days (with --synthetic).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        requires = "synthetic",
        conflicts_with = "data"
    )]
    pub days: u32,
    /// Configuration file (TOML) of the synthetic days (strategies, risk, charges, the
    /// first date and seed) or of `--risk configured` over bars (its risk, charges, order
    /// and paper-exchange sections, and the universe); the embedded default when absent.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// With --risk configured: the universe instrument the data file holds (its tick
    /// size, lot and sector come from the instrument table); by default the file's name
    /// up to the first dot, in capitals (`SBIN.csv` is SBIN).
    #[arg(
        long,
        value_name = "NAME",
        requires = "data",
        conflicts_with = "synthetic"
    )]
    pub symbol: Option<String>,
    /// Run each configured strategy alone and all of them together over the same days,
    /// and print (and write compare.md and compare.csv) a side-by-side table; the report
    /// files are those of all together.
    #[arg(long, requires = "synthetic", conflicts_with = "data")]
    pub compare: bool,
    /// Walk forward over the --days: fit the regime model and the strategy weights on
    /// `train` days, trade the next `test` days with them, roll on by `test` days; the
    /// report is of the test days only (`fit=K`: Baum-Welch iterations, 20 by default).
    #[arg(
        long,
        value_name = "train=N,test=M",
        requires = "synthetic",
        conflicts_with_all = ["compare", "data"]
    )]
    pub walk_forward: Option<crate::backtest::WalkForward>,
    /// The strategy to run (so far: sma_cross).
    #[arg(long, value_name = "NAME", default_value = SmaCross::NAME, conflicts_with = "synthetic")]
    pub strategy: String,
    /// A strategy setting, `key=value`, as in its config section (sma_cross: fast, slow,
    /// stop_pct, allow_short; allow_short is true here: close and reverse on each cross).
    #[arg(long = "param", value_name = "K=V", conflicts_with = "synthetic")]
    pub params: Vec<String>,
    /// Starting cash (--risk none; 100000 when absent). On intraday bars, which run
    /// --risk configured by default, give --risk none with it: configured risk refuses
    /// it and takes the capital from `[risk] capital`.
    #[arg(long, value_name = "C", conflicts_with = "synthetic")]
    pub cash: Option<f64>,
    /// Commission as a fraction of each fill's notional, charged on entry and on exit
    /// (0.001 is 0.1 %; --risk none, 0 when absent). On intraday bars, which run --risk
    /// configured by default, give --risk none with it: configured risk refuses it, its
    /// fills paying the Indian charges of `[charges]`.
    #[arg(long, value_name = "RATE", conflicts_with = "synthetic")]
    pub commission: Option<f64>,
    /// Sizing: `equity` (all of the equity in whole units, backtesting.py's default, and
    /// the default); it implies --risk none.
    #[arg(long, value_name = "POLICY", conflicts_with = "synthetic")]
    pub sizing: Option<String>,
    /// Market order fills: `next-open` (the next bar's open, the default) or `close`
    /// (this bar's); --risk none only. On intraday bars, which run --risk configured by
    /// default, give --risk none with it: configured risk refuses it, the paper exchange
    /// filling the orders.
    #[arg(long, value_name = "RULE", conflicts_with = "synthetic")]
    pub fill: Option<String>,
    /// Risk profile: `configured` (the bars through the whole pipeline: the configured
    /// risk stage's sizing, caps, stops and square-off, the paper exchange filling the
    /// orders; intraday bars only, and their default) or `none` (no risk stage, all-in
    /// sizing, as other tools size; implied by --sizing, and the default for daily bars).
    #[arg(long, value_name = "PROFILE", conflicts_with = "synthetic")]
    pub risk: Option<String>,
    /// Close a trade still open at the end, at the last bar's open.
    #[arg(long, conflicts_with = "synthetic")]
    pub finalize: bool,
    /// Sweep a strategy setting over `a..b` (inclusive) in steps of `step`, as
    /// `fast=5..20:5`; repeat for more settings: the grid is their product, each point
    /// a whole backtest of the data, run over the cores. Writes sweep.csv, sweep.md and
    /// sweep.json to --out instead of one run's files.
    #[arg(
        long = "sweep",
        value_name = "K=A..B:STEP",
        requires = "data",
        conflicts_with = "synthetic"
    )]
    pub sweep: Vec<String>,
    /// Run only the K-th of N deterministic shares of the sweep's grid (point p when
    /// p mod N = K − 1), for a scheduler's array job; `tickpipe backtest merge`
    /// combines the shards' folders.
    #[arg(
        long,
        value_name = "K/N",
        requires = "sweep",
        conflicts_with = "synthetic"
    )]
    pub shard: Option<String>,
    /// Threads for independent runs (`--compare` variants, `--sweep` points); with
    /// `--synthetic` alone, two or more generate each next day while a day is traded
    /// (holding two days' market events, about 130 MB each). Every core by default. The
    /// outputs do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Where to write trades.csv, equity.csv, stats.json, report.md and the plots.
    #[arg(long, value_name = "DIR", default_value = "backtest")]
    pub out: PathBuf,
}

/// Subcommands of `tickpipe backtest`.
#[derive(Debug, Clone, Subcommand)]
pub enum BacktestCommand {
    /// Combine the output folders of `--sweep … --shard K/N` runs into the table of the
    /// whole grid (the same files one unsharded run writes).
    Merge {
        /// The shards' output folders.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Where to write the merged sweep.csv, sweep.md and sweep.json.
        #[arg(long, value_name = "DIR", default_value = "sweep")]
        out: PathBuf,
    },
}

impl BacktestArgs {
    /// `--jobs`, or every core.
    fn jobs(&self) -> usize {
        self.jobs
            .map_or_else(backtest::available_jobs, |n| n as usize)
    }
}

/// Runs the synthetic days, or reads the data, runs, writes the outputs, prints one line.
pub(super) fn backtest(args: &BacktestArgs) -> Result<(), String> {
    if let Some(BacktestCommand::Merge { dirs, out }) = &args.command {
        return sweep::merge(dirs, out);
    }
    let Some(data_file) = &args.data else {
        return synthetic::backtest(args);
    };
    let (profile, reason) = risk_profile(args, data_file)?;
    if profile == RiskProfile::Configured {
        if !args.sweep.is_empty() {
            return sweep::sweep_configured(args, data_file, reason);
        }
        return configured::backtest(args, data_file, reason);
    }
    for (flag, given) in [
        ("--config", args.config.is_some()),
        ("--symbol", args.symbol.is_some()),
    ] {
        if given {
            return Err(match reason {
                Reason::Daily => format!(
                    "{flag}: read by --risk configured, which trades intraday bars only; {} has daily bars (no two on one date), which run --risk none with its settings from the flags",
                    data_file.display()
                ),
                _ => format!(
                    "{flag}: read with --risk configured (or --synthetic); --risk none takes its settings from the flags"
                ),
            });
        }
    }
    if !args.sweep.is_empty() {
        return sweep::sweep(args, data_file, reason);
    }
    let settings = settings(args)?;
    if args.strategy != SmaCross::NAME {
        return Err(format!(
            "--strategy {}: backtests run {} so far",
            args.strategy,
            STRATEGIES.join(", ")
        ));
    }
    let params = params(&args.params)?;
    let config = sma_cross_config(&params)?;
    let mut driver = StrategyDriver::sma_cross(&config, "DATA")?;
    let mut reader = backtest::BarSource::open(data_file).map_err(|e| e.to_string())?;
    // Everything goes into a hidden sibling of --out first, so bad data found halfway
    // through a long file leaves no half-written outputs.
    let staging = Staging::new(&args.out)?;
    let equity_path = staging.path().join("equity.csv");
    let equity_file = std::fs::File::create(&equity_path)
        .map_err(|e| format!("{}: {e}", equity_path.display()))?;
    let mut equity = EquityCsv::new(std::io::BufWriter::with_capacity(1 << 16, equity_file))
        .map_err(|e| format!("{}: {e}", equity_path.display()))?;
    let mut rows = progress::Progressed::new(&mut reader, data_file);
    let outcome = backtest::run_stream(&mut rows, &mut driver, &settings, &mut equity);
    rows.finish();
    let outcome = outcome.map_err(|e| e.to_string())?;
    equity
        .finish()
        .map_err(|e| format!("{}: {e}", equity_path.display()))?;
    let data = file_name(data_file);
    let pairs: Vec<(&str, String)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let run = RunInfo {
        data: &data,
        strategy: driver.name(),
        params: &pairs,
        risk_profile: RiskProfile::None.name(),
        risk_reason: reason.text(RiskProfile::None),
    };
    backtest::write_outputs(staging.path(), &run, &outcome, &settings)?;
    let written = staging.commit()?;
    let final_equity = outcome.curve.last;
    println!(
        "{} on {}: {} bars, {} closed trade(s){}, final equity {final_equity:.2}; risk none ({}); wrote {} files to {}",
        driver.name(),
        data,
        outcome.bars,
        outcome.trades.len(),
        if outcome.open_at_end.is_some() { " and 1 open" } else { "" },
        reason.text(RiskProfile::None),
        written.len(),
        args.out.display()
    );
    Ok(())
}

/// A bar backtest's risk profile (`--risk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RiskProfile {
    /// No risk stage: the signals go straight to the all-in account.
    None,
    /// The whole pipeline with the configured risk stage and the paper exchange.
    Configured,
}

impl RiskProfile {
    /// The name on the command line and in the outputs.
    fn name(self) -> &'static str {
        match self {
            RiskProfile::None => "none",
            RiskProfile::Configured => backtest::CONFIGURED_RISK,
        }
    }
}

/// Why a bar backtest runs the profile it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// `--risk` named it.
    Asked,
    /// `--sizing` implies `none`.
    Sizing,
    /// Neither was given and the data are intraday bars: `configured`.
    Intraday,
    /// Neither was given and the data are daily (or coarser) bars: `none`.
    Daily,
}

impl Reason {
    /// One short clause for the outputs.
    fn text(self, profile: RiskProfile) -> &'static str {
        match (self, profile) {
            (Reason::Asked, RiskProfile::None) => "asked for with --risk none",
            (Reason::Asked, RiskProfile::Configured) => "asked for with --risk configured",
            (Reason::Sizing, _) => "implied by --sizing",
            (Reason::Intraday, _) => "the default for intraday bars",
            (Reason::Daily, _) => "daily bars: the configured risk stage trades intraday bars only",
        }
    }
}

/// The profile `--risk` names; absent, `none` when `--sizing` is given (it implies
/// `none`), else `configured` when `data_file` holds intraday bars and `none` when its
/// bars are daily (the first rows tell, [`backtest::holds_intraday_bars`]).
fn risk_profile(args: &BacktestArgs, data_file: &Path) -> Result<(RiskProfile, Reason), String> {
    let profile = match (args.risk.as_deref(), &args.sizing) {
        (Some("none"), _) => (RiskProfile::None, Reason::Asked),
        (Some("configured"), _) => (RiskProfile::Configured, Reason::Asked),
        (Some(other), _) => {
            return Err(format!(
                "--risk {other}: the profiles are `none` (no risk stage, all-in sizing) and `configured` (the configured risk stage and the paper exchange)"
            ))
        }
        (None, Some(_)) => (RiskProfile::None, Reason::Sizing),
        (None, None) => {
            if backtest::holds_intraday_bars(data_file).map_err(|e| e.to_string())? {
                (RiskProfile::Configured, Reason::Intraday)
            } else {
                (RiskProfile::None, Reason::Daily)
            }
        }
    };
    if profile.0 == RiskProfile::Configured {
        if let Some(sizing) = &args.sizing {
            return Err(format!(
                "--sizing {sizing} implies --risk none: under --risk configured the risk stage sizes, as [risk] in --config says"
            ));
        }
    }
    Ok(profile)
}

/// The settings of `--risk none` from the flags, each checked (the caller has chosen
/// that profile).
fn settings(args: &BacktestArgs) -> Result<Settings, String> {
    let cash = args.cash.unwrap_or(100_000.0);
    if !(cash.is_finite() && cash > 0.0) {
        return Err(format!("--cash {cash}: must be a positive amount"));
    }
    let commission = args.commission.unwrap_or(0.0);
    if !(commission.is_finite() && (0.0..1.0).contains(&commission)) {
        return Err(format!(
            "--commission {commission}: must be a fraction of notional in [0, 1)"
        ));
    }
    let sizing: Sizing = args
        .sizing
        .as_deref()
        .unwrap_or("equity")
        .parse()
        .map_err(|e| format!("--sizing {e}"))?;
    let fill: FillAt = args
        .fill
        .as_deref()
        .unwrap_or("next-open")
        .parse()
        .map_err(|e| format!("--fill {e}"))?;
    Ok(Settings {
        cash,
        commission,
        sizing,
        fill,
        finalize: args.finalize,
    })
}

/// `key=value` pairs, in order; a key given twice is an error.
fn params(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in raw {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!("--param {pair}: expected key=value"));
        };
        let (key, value) = (key.trim(), value.trim());
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!("--param {key}: given twice"));
        }
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

/// The settings `--param` and `--sweep` take for `sma_cross`.
const SMA_CROSS_KEYS: [&str; 4] = ["fast", "slow", "stop_pct", "allow_short"];

/// `sma_cross`'s config from the params: always in the market (`allow_short`, so each
/// cross closes the position and opens the other side) unless told otherwise.
fn sma_cross_config(params: &[(String, String)]) -> Result<SmaCrossConfig, String> {
    let mut config = SmaCrossConfig {
        allow_short: true,
        ..SmaCrossConfig::default()
    };
    for (key, value) in params {
        let bad = |what: &str| format!("--param {key}={value}: {what}");
        match key.as_str() {
            "fast" => config.fast = value.parse().map_err(|_| bad("not a whole number"))?,
            "slow" => config.slow = value.parse().map_err(|_| bad("not a whole number"))?,
            "stop_pct" => config.stop_pct = value.parse().map_err(|_| bad("not a number"))?,
            "allow_short" => {
                config.allow_short = value.parse().map_err(|_| bad("not true or false"))?;
            }
            _ => {
                return Err(format!(
                    "--param {key}: sma_cross takes {}",
                    SMA_CROSS_KEYS.join(", ")
                ))
            }
        }
    }
    Ok(config)
}

/// The file's name alone, so outputs do not depend on where the data lies.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
