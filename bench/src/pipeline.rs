//! The `pipeline` scenario: the whole engine (real stages, the configured strategies, the
//! paper gateway) fed by an open-loop generator at a fixed offered rate or at saturation.
//!
//! Latency starts at each event's *intended* send time (`k / rate` after the first), so a
//! stall delays the measurement of every event behind it instead of hiding them
//! (coordinated omission); each paced run is repeated with the stamp at the actual send
//! time, the uncorrected figure, for comparison. Every invocation also runs the same
//! rings and groups with empty stages (the harness's own overhead) and watches the host
//! for stalls with a thread that only reads the clock. `--control` adds the control
//! plane as a dimension: no socket, a socket nobody uses, or a client streaming P&L.

mod control;
pub mod figures;
mod passthrough;
mod report;
mod run;
mod schedule;
mod source;
mod stall;

use std::{fs, path::PathBuf, sync::Arc, time::Duration};

use clap::Args;
use tickpipe::{
    engine::EngineConfig,
    feed::SourcePoll,
    model::MarketEvent,
    runtime::{LatencyClock, Preset},
};
use tickpipe_ringbuf::wait::WaitKind;

use self::{
    control::ControlMode,
    run::{Engine, JournalMode, RunSpec, Strategies},
    schedule::Rate,
    source::Stamping,
};
use crate::report::Provenance;

/// Options of the `pipeline` scenario.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Offered rates, comma-separated: events per second (`100k`, `1M`) or `max`.
    #[arg(long, value_delimiter = ',', default_value = "100k")]
    rate: Vec<String>,
    /// Layouts, comma-separated: one_group, two_groups, per_stage.
    #[arg(long, value_delimiter = ',', default_value = "one_group")]
    layout: Vec<String>,
    /// Wait strategies, comma-separated: busy_spin, spin_then_yield, spin_then_park.
    #[arg(long, value_delimiter = ',', default_value = "busy_spin")]
    wait: Vec<String>,
    /// The baseline comparison: rates 100k and max × layouts one_group and two_groups
    /// (overrides --rate and --layout).
    #[arg(long)]
    compare: bool,
    /// Events per run, taken from the start of the synthetic NSE day.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Strategy settings, comma-separated: `default` (as shipped) and/or `active`
    /// (sma_cross 1/2 on 5 s bars, long and short, gates opened: many orders, so
    /// tick→intent has samples).
    #[arg(long, value_delimiter = ',', default_value = "default")]
    strategies: Vec<String>,
    /// Overrides `[runtime] rehearse_every_us` (how often an idle risk or order stage
    /// dry-runs its order path; 0 = never), to measure the cold order path with and
    /// without it.
    #[arg(long)]
    rehearse_every_us: Option<u64>,
    /// Control plane, comma-separated: `off` (no control socket), `idle` (the socket
    /// served, no client) and/or `pnl10hz` (a client streaming `subscribe pnl 100`).
    /// Applies to the engine runs; the empty stages have no control rings.
    #[arg(long, value_delimiter = ',', default_value = "off")]
    control: Vec<String>,
    /// Journaling, comma-separated: `off`, `on` (the trading records, as shipped) and/or
    /// `ticks` (every market tick too, so segments roll during the run). Applies to the
    /// engine runs; each journaled run writes a fresh temporary directory, removed after.
    #[arg(long, value_delimiter = ',', default_value = "off")]
    journal: Vec<String>,
    /// Cores the groups are pinned to in turn; empty (`--cores ''`) leaves them unpinned.
    #[arg(long, value_delimiter = ',', default_value = "0,1")]
    cores: Vec<String>,
    /// Skip the uncorrected (actual-send-time) repeat of each paced run.
    #[arg(long)]
    no_uncorrected: bool,
    /// Skip the empty-stage (harness overhead) runs.
    #[arg(long)]
    no_empty: bool,
    /// Seconds the host stall baseline watches the cores before and after the runs.
    #[arg(long, default_value_t = 1.0)]
    stall_secs: f64,
    /// Write summary.md, .hgrm and .svg files into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs the scenario.
pub fn run(args: &PipelineArgs) -> Result<(), Box<dyn std::error::Error>> {
    let provenance = Provenance::collect();
    let rates: Vec<Rate> = if args.compare {
        vec![Rate::PerSecond(100_000), Rate::Max]
    } else {
        args.rate
            .iter()
            .map(|r| Rate::parse(r))
            .collect::<Result<_, _>>()?
    };
    let layouts: Vec<Preset> = if args.compare {
        vec![Preset::OneGroup, Preset::TwoGroups]
    } else {
        args.layout
            .iter()
            .map(|l| l.parse())
            .collect::<Result<_, _>>()?
    };
    let waits: Vec<WaitKind> = args
        .wait
        .iter()
        .map(|w| {
            w.parse::<WaitKind>()
                .map_err(|_| format!("unknown wait strategy `{w}`"))
        })
        .collect::<Result<_, _>>()?;
    let strategy_sets: Vec<Strategies> = args
        .strategies
        .iter()
        .map(|s| Strategies::parse(s))
        .collect::<Result<_, _>>()?;
    let controls: Vec<ControlMode> = args
        .control
        .iter()
        .map(|c| ControlMode::parse(c))
        .collect::<Result<_, _>>()?;
    let journals: Vec<JournalMode> = args
        .journal
        .iter()
        .map(|j| JournalMode::parse(j))
        .collect::<Result<_, _>>()?;
    let cores: Vec<usize> = args
        .cores
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| c.parse().map_err(|_| format!("core `{c}` is not a number")))
        .collect::<Result<_, _>>()?;
    if args.events == 0 {
        return Err("--events must be at least 1".into());
    }

    let config = EngineConfig::embedded_default();
    for set in &strategy_sets {
        set.config()
            .validate("strategy settings")
            .map_err(|e| e.to_string())?;
    }
    let opened = config.feed.open()?;
    eprintln!(
        "pipeline: generating {} events of {}",
        args.events, opened.description
    );
    let events = pregenerate(opened.source, args.events)?;
    let instruments = opened.instruments;

    let clock = LatencyClock::new();
    let watch = Duration::from_secs_f64(args.stall_secs.max(0.0));
    let monitor_cores: Vec<Option<usize>> = if cores.is_empty() {
        vec![None]
    } else {
        cores.iter().map(|c| Some(*c)).collect()
    };
    let mut baselines = Vec::new();
    if !watch.is_zero() {
        baselines.extend(stall::baseline(
            "before the runs",
            &monitor_cores,
            watch,
            &clock,
        )?);
    }

    let mut specs = Vec::new();
    for &layout in &layouts {
        for &wait in &waits {
            for &rate in &rates {
                for (i, &strategies) in strategy_sets.iter().enumerate() {
                    let base = RunSpec {
                        engine: Engine::Real,
                        strategies,
                        rate,
                        stamping: match rate {
                            Rate::Max => Stamping::Actual,
                            Rate::PerSecond(_) => Stamping::Intended,
                        },
                        layout,
                        wait,
                        cores: cores.clone(),
                        monitor_core: free_core(layout, &cores),
                        rehearse_every_us: args.rehearse_every_us,
                        control: ControlMode::Off,
                        journal: JournalMode::Off,
                    };
                    // The control modes of one setting run back to back, so a drift of
                    // the host between them is as small as the run order can make it.
                    // So are the journal modes.
                    for &control in &controls {
                        for &journal in &journals {
                            let spec = RunSpec {
                                control,
                                journal,
                                ..base.clone()
                            };
                            specs.push(spec.clone());
                            if matches!(rate, Rate::PerSecond(_)) && !args.no_uncorrected {
                                specs.push(RunSpec {
                                    stamping: Stamping::Actual,
                                    ..spec
                                });
                            }
                        }
                    }
                    if !args.no_empty && i == 0 {
                        specs.push(RunSpec {
                            engine: Engine::Empty,
                            ..base
                        });
                    }
                }
            }
        }
    }
    let mut results = Vec::new();
    for spec in &specs {
        eprintln!("pipeline: {}", spec.slug());
        let result = run::run(spec, &instruments, &events)?;
        if let Some(e) = &result.error {
            return Err(format!("run {} stopped early: {e}", spec.slug()).into());
        }
        results.push(result);
    }
    if !watch.is_zero() {
        baselines.extend(stall::baseline(
            "after the runs",
            &monitor_cores,
            watch,
            &clock,
        )?);
    }

    let context = report::Context {
        provenance: &provenance,
        events: args.events,
        strategies: &strategy_sets,
    };
    let summary = report::summary(&context, &results, &baselines);
    print!("{summary}");
    if let Some(dir) = &args.out {
        fs::create_dir_all(dir)?;
        fs::write(dir.join("summary.md"), &summary)?;
        for result in &results {
            for (name, contents) in report::files(result, &provenance) {
                fs::write(dir.join(name), contents)?;
            }
        }
        let stall_files = report::stall_files(&baselines, &provenance);
        for (name, contents) in stall_files {
            fs::write(dir.join(name), contents)?;
        }
        eprintln!("pipeline: wrote {}", dir.display());
    }
    Ok(())
}

/// A core the layout leaves free, for a stall monitor to watch during the run.
fn free_core(layout: Preset, cores: &[usize]) -> Option<usize> {
    let used = match layout {
        Preset::OneGroup => 1,
        Preset::TwoGroups => 2,
        Preset::PerStage => 4,
    };
    cores.get(used).copied()
}

/// Reads up to `count` events from `source` into memory, so generating them is not part
/// of any measured time.
fn pregenerate(
    mut source: Box<dyn tickpipe::feed::MarketSource>,
    count: usize,
) -> Result<Arc<[MarketEvent]>, String> {
    let mut events = Vec::with_capacity(count);
    while events.len() < count {
        match source.poll_event().map_err(|e| e.to_string())? {
            SourcePoll::Event(e) => events.push(e),
            SourcePoll::Pending => std::thread::yield_now(),
            SourcePoll::End => break,
        }
    }
    Ok(events.into())
}
