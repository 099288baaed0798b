//! The command line: `tickpipe run` (the default), `tickpipe record`, `tickpipe config`
//! (the embedded default, or `config check FILE...`),
//! `tickpipe ctl` (the control socket's client), `tickpipe indicators` (TA-Lib's
//! indicators over an OHLCV CSV), `tickpipe regime` (market regimes of a return series),
//! `tickpipe report` (performance statistics of an equity curve, or the trade report of a
//! journal), `tickpipe journal` (verify, inspect, export or archive a journal directory),
//! `tickpipe backtest` (a strategy over historical bars, with its report),
//! `tickpipe feed decode` (captured Kite Ticker messages as JSON), `tickpipe kite login`
//! (the day's Kite Connect session), `tickpipe instruments fetch` (Kite's instrument master).

mod backtest;
pub(crate) mod config_check;
pub mod ctl;
mod feed;
pub mod format;
mod indicators;
mod journal;
mod kite;
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
    /// Print the embedded default configuration, or with `check FILE...` validate
    /// configuration files against this machine and list every problem.
    Config(config_check::ConfigArgs),
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
    /// Kite Connect: `kite login` prints the login URL; `kite login --request-token T`
    /// stores the day's access token (mode 0600).
    Kite(kite::KiteArgs),
    /// The instrument master: `instruments fetch --out FILE` downloads Kite's, checked.
    Instruments(kite::InstrumentsArgs),
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
    /// A saved Kite instrument master (Kite's `instruments` CSV): the universe's shares
    /// and index take their tick size and token from its NSE rows of the same symbol
    /// (`[feed.synthetic] instruments`; with `source = "kite"`, the tokens subscribed,
    /// `[feed.kite] instruments`).
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
    /// Log level: error, warn, info, debug, trace or off (`log.level`).
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Log format: `text`, or `json` for one JSON object per line (`log.format`).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Append the log to FILE rather than write it to standard error (`log.file`).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

impl Command {
    /// The subcommand as typed, for messages about options placed before it.
    const fn name(&self) -> &'static str {
        match self {
            Command::Run(_) => "run",
            Command::Record(_) => "record",
            Command::Config(_) => "config",
            Command::Ctl(_) => "ctl",
            Command::Indicators(_) => "indicators",
            Command::Regime(_) => "regime",
            Command::Report(_) => "report",
            Command::Backtest(_) => "backtest",
            Command::Journal(_) => "journal",
            Command::Feed(_) => "feed",
            Command::Kite(_) => "kite",
            Command::Instruments(_) => "instruments",
        }
    }
}

/// Entry point of the `tickpipe` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match dispatch(cli) {
        Dispatch::Done(result) => result,
        Dispatch::Exit(code) => return code,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Empty: the command has said why in its log already.
        Err(message) if message.is_empty() => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("tickpipe: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What a command line came to: a result to report, or an exit code the command chose.
enum Dispatch {
    Done(Result<(), String>),
    Exit(ExitCode),
}

/// Runs the subcommand. Run options given before the subcommand (`tickpipe -c FILE run`)
/// are never dropped: `run` and `record` take them as if typed after the subcommand,
/// every other subcommand refuses them, since it would otherwise ignore them silently.
fn dispatch(cli: Cli) -> Dispatch {
    let Some(command) = cli.command else {
        return Dispatch::Done(run::run(&cli.run));
    };
    let given = cli.run.given();
    if !given.is_empty() && !matches!(command, Command::Run(_) | Command::Record(_)) {
        let name = command.name();
        return Dispatch::Done(Err(format!(
            "{} before `{name}`, which takes no run options: options of `run` and `record` go \
             after the subcommand, as in `tickpipe run --config FILE`",
            given.join(", "),
        )));
    }
    Dispatch::Done(match command {
        Command::Ctl(args) => return Dispatch::Exit(ctl::main(&args)),
        Command::Run(args) => cli.run.merged_with(&args, "run").and_then(|a| run::run(&a)),
        Command::Record(mut args) => match cli.run.merged_with(&args.run, "record") {
            Ok(run) => {
                args.run = run;
                record::record(&args)
            }
            Err(e) => Err(e),
        },
        Command::Indicators(args) => indicators::indicators(&args),
        Command::Regime(args) => regime::regime(&args),
        Command::Report(args) => report::report(&args),
        Command::Journal(args) => journal::journal(&args),
        Command::Backtest(args) => backtest::backtest(&args),
        Command::Feed(args) => feed::feed(&args),
        Command::Kite(args) => kite::kite(&args),
        Command::Instruments(args) => kite::instruments(&args),
        Command::Config(args) => config_check::config(&args),
    })
}

impl RunArgs {
    /// The options given, as typed (`--config`, ...): empty when none was.
    fn given(&self) -> Vec<&'static str> {
        let options: [(&'static str, bool); 18] = [
            ("--config", self.config.is_some()),
            ("--speed", self.speed.is_some()),
            ("--seed", self.seed.is_some()),
            ("--duration", self.duration.is_some()),
            ("--instruments", self.instruments.is_some()),
            ("--layout", self.layout.is_some()),
            ("--wait", self.wait.is_some()),
            ("--run-dir", self.run_dir.is_some()),
            ("--no-control", self.no_control),
            ("--journal", self.journal.is_some()),
            ("--no-journal", self.no_journal),
            ("--no-resume", self.no_resume),
            ("--summary-json", self.summary_json.is_some()),
            ("--report", self.report.is_some()),
            ("--quiet", self.quiet),
            ("--log-level", self.log_level.is_some()),
            ("--log-format", self.log_format.is_some()),
            ("--log-file", self.log_file.is_some()),
        ];
        options
            .into_iter()
            .filter_map(|(name, given)| given.then_some(name))
            .collect()
    }

    /// These options (typed before the subcommand) joined with `after` (typed after
    /// `subcommand`). A flag may appear on both sides; an option with a value may not,
    /// since which one was meant cannot be known.
    ///
    /// # Errors
    /// Every option given on both sides, with both values; or `--journal`/`--no-resume`
    /// on one side with `--no-journal` on the other (clap catches them on one side).
    fn merged_with(&self, after: &RunArgs, subcommand: &str) -> Result<RunArgs, String> {
        fn pick<T: Clone + std::fmt::Debug>(
            name: &str,
            before: &Option<T>,
            after: &Option<T>,
            subcommand: &str,
            errors: &mut Vec<String>,
        ) -> Option<T> {
            match (before, after) {
                (Some(b), Some(a)) => {
                    errors.push(format!(
                        "{name} is given twice, {b:?} before `{subcommand}` and {a:?} after it; \
                         give it once"
                    ));
                    None
                }
                (Some(v), None) | (None, Some(v)) => Some(v.clone()),
                (None, None) => None,
            }
        }
        let mut errors = Vec::new();
        let e = &mut errors;
        let merged = RunArgs {
            config: pick("--config", &self.config, &after.config, subcommand, e),
            speed: pick("--speed", &self.speed, &after.speed, subcommand, e),
            seed: pick("--seed", &self.seed, &after.seed, subcommand, e),
            duration: pick("--duration", &self.duration, &after.duration, subcommand, e),
            instruments: pick(
                "--instruments",
                &self.instruments,
                &after.instruments,
                subcommand,
                e,
            ),
            layout: pick("--layout", &self.layout, &after.layout, subcommand, e),
            wait: pick("--wait", &self.wait, &after.wait, subcommand, e),
            run_dir: pick("--run-dir", &self.run_dir, &after.run_dir, subcommand, e),
            no_control: self.no_control || after.no_control,
            journal: pick("--journal", &self.journal, &after.journal, subcommand, e),
            no_journal: self.no_journal || after.no_journal,
            no_resume: self.no_resume || after.no_resume,
            summary_json: pick(
                "--summary-json",
                &self.summary_json,
                &after.summary_json,
                subcommand,
                e,
            ),
            report: pick("--report", &self.report, &after.report, subcommand, e),
            quiet: self.quiet || after.quiet,
            log_level: pick(
                "--log-level",
                &self.log_level,
                &after.log_level,
                subcommand,
                e,
            ),
            log_format: pick(
                "--log-format",
                &self.log_format,
                &after.log_format,
                subcommand,
                e,
            ),
            log_file: pick("--log-file", &self.log_file, &after.log_file, subcommand, e),
        };
        if merged.no_journal && (merged.journal.is_some() || merged.no_resume) {
            let other = if merged.journal.is_some() {
                "--journal"
            } else {
                "--no-resume"
            };
            errors.push(format!("--no-journal cannot be used with {other}"));
        }
        if errors.is_empty() {
            Ok(merged)
        } else {
            Err(errors.join("\n"))
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
        match config.feed.source {
            crate::feed::SourceKind::Synthetic => {
                config.feed.synthetic.instruments = Some(path.clone());
            }
            crate::feed::SourceKind::Kite => config.feed.kite.instruments = Some(path.clone()),
            crate::feed::SourceKind::Replay => {
                return Err(
                    "--instruments applies to the synthetic and kite sources; this run's source \
                     is replay (a tick file carries its own instruments)"
                        .to_owned(),
                )
            }
            crate::feed::SourceKind::Truedata => {
                return Err(
                    "--instruments applies to the synthetic and kite sources; TrueData \
                     subscribes by symbol name (feed.truedata.universe)"
                        .to_owned(),
                )
            }
        }
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
    if let Some(level) = &args.log_level {
        config.log.level = level.clone();
    }
    if let Some(format) = &args.log_format {
        config.log.format = format.clone();
    }
    if let Some(file) = &args.log_file {
        config.log.file = file.clone();
    }
    let described = format!("{origin} + command line");
    config.validate(&described).map_err(|e| e.to_string())?;
    Ok((config, origin))
}
