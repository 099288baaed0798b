//! One measured run: the engine (or the empty-stage pipeline) in one layout at one rate.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use tickpipe::{
    engine::{EngineConfig, Pipeline},
    feed::{FeedStage, Pacing},
    metrics::Telemetry,
    model::{InstrumentTable, MarketEvent},
    runtime::{
        Group, GroupReport, LatencyClock, Layout, Outbox, Preset, Stage, StageKind, StageReport,
    },
};
use tickpipe_ringbuf::{channel, wait::WaitKind};

use super::{
    control::{self, ControlMode, ControlOutcome},
    passthrough::{PassThrough, Sink},
    schedule::{Rate, Schedule},
    source::{LagSlot, OpenLoopSource, Stamping},
    stall::{self, StallReport},
};

/// What runs between the rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The real stages and strategies with the paper gateway.
    Real,
    /// The real feed stage, then stages that only move messages (harness overhead).
    Empty,
}

/// Which strategy settings the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategies {
    /// The shipped configuration: the four strategies (momentum_surfer, volume_scalper,
    /// news_impact_scalper, regime_adaptive), a few hundred orders a day.
    Default,
    /// The shipped strategies plus sma_cross 1/2 on 5 s bars on every stock, long and
    /// short, with the gates that would refuse most of its signals opened (see
    /// [`ACTIVE_OVERLAY`]): tens of thousands of orders a day, so `tick_to_intent` gets
    /// enough samples to mean something. A load setting, not a trading one.
    Active,
}

/// What `active` changes in the shipped configuration, as a partial config file.
///
/// sma_cross 1/2 alone emits a signal on most 5 s bars, but the shipped risk and signal
/// gates turn almost all of them away (filters, the regime gate, cooldowns, allocation
/// shadowing, the day's loss limit, Kite's order caps): with only `sma_cross` switched
/// on, 98 orders came out of the first million events. Opening those gates gives about
/// 48,000 orders over the whole default day, each through the same checks, sizing and
/// order path as a shipped order; the exposure caps still hold.
pub const ACTIVE_OVERLAY: &str = r#"
[strategy.sma_cross]
enabled = true
fast = 1
slow = 2
bar_secs = 5
allow_short = true
[strategy.regime_adaptive.allow]
volume_scalper = ["range", "high_volatility"]
[filters]
market_bias = false
relative_strength = false
overbought_oversold = false
[signal.allocation]
enabled = false
[risk]
cooldown_secs = 0
correlation_window = 0
daily_loss_pct = 90
drawdown_warn_pct = 80
drawdown_halt_pct = 90
[order]
per_second = 1000
per_minute = 60000
per_day = 1000000
"#;

impl Strategies {
    /// Parses `default` or `active`.
    pub fn parse(text: &str) -> Result<Strategies, String> {
        match text {
            "default" => Ok(Strategies::Default),
            "active" => Ok(Strategies::Active),
            other => Err(format!(
                "unknown strategy set `{other}`, expected default or active"
            )),
        }
    }

    /// The name in labels.
    pub fn name(self) -> &'static str {
        match self {
            Strategies::Default => "default",
            Strategies::Active => "active",
        }
    }

    /// The engine configuration: the shipped one, with the strategy changed for `Active`.
    pub fn config(self) -> EngineConfig {
        let mut config = match self {
            Strategies::Default => EngineConfig::embedded_default(),
            Strategies::Active => EngineConfig::from_toml(ACTIVE_OVERLAY, "the `active` setting")
                .expect("the `active` overlay is a valid configuration"),
        };
        // Runs measure the pipeline; the socket is served only when `--control` asks
        // for it (see `control::configure`).
        config.control.enabled = false;
        // The journal has its own scenario (`journal`); pipeline runs measure without it
        // unless `--journal` asks (see [`JournalMode::configure`]).
        config.journal.enabled = false;
        config
    }
}

/// Whether a run journals, so tick→intent can be compared with journaling on and off in
/// the same script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalMode {
    /// No journal (the pipeline runs' default).
    Off,
    /// The trading records, as shipped (`[journal]` defaults: flush every 10 ms).
    On,
    /// The trading records and every market tick (`ticks = true`): about one record per
    /// event, so segments fill and roll during the run.
    Ticks,
}

impl JournalMode {
    /// Parses `off`, `on` or `ticks`.
    pub fn parse(text: &str) -> Result<JournalMode, String> {
        match text {
            "off" => Ok(JournalMode::Off),
            "on" => Ok(JournalMode::On),
            "ticks" => Ok(JournalMode::Ticks),
            other => Err(format!(
                "unknown journal mode `{other}`, expected off, on or ticks"
            )),
        }
    }

    /// The name in labels.
    pub fn name(self) -> &'static str {
        match self {
            JournalMode::Off => "off",
            JournalMode::On => "on",
            JournalMode::Ticks => "ticks",
        }
    }

    /// Turns journaling on in `config` for this mode, into a fresh directory that is
    /// removed when the returned guard drops (`None` when the mode is off).
    fn configure(
        self,
        config: &mut EngineConfig,
        cores: &[usize],
    ) -> Result<Option<JournalDir>, String> {
        if self == JournalMode::Off {
            return Ok(None);
        }
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tickpipe-bench-journal-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the journal directory {}: {e}", dir.display()))?;
        config.journal.enabled = true;
        config.journal.dir = dir.clone();
        config.journal.ticks = self == JournalMode::Ticks;
        // Each run writes a day of its own; nothing is resumed.
        config.journal.resume = false;
        // The flusher goes to the last listed core: with one group on the first, that
        // keeps it off the pipeline's core (unpinned, the scheduler put it there now
        // and then; latency-reports/journal-wiring.md).
        if cores.len() > 1 {
            config.journal.core = cores.last().copied();
        }
        Ok(Some(JournalDir(dir)))
    }
}

/// A run's journal directory, removed when the run is over.
struct JournalDir(std::path::PathBuf);

impl Drop for JournalDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Real or empty stages.
    pub engine: Engine,
    /// The strategy settings (ignored by the empty stages).
    pub strategies: Strategies,
    /// Offered rate.
    pub rate: Rate,
    /// Intended or actual send time in the ingress stamp.
    pub stamping: Stamping,
    /// Thread layout.
    pub layout: Preset,
    /// Idle wait strategy of every group.
    pub wait: WaitKind,
    /// Cores the groups are pinned to in turn (empty: unpinned).
    pub cores: Vec<usize>,
    /// Core for a stall monitor running alongside, when one is free.
    pub monitor_core: Option<usize>,
    /// `[runtime] rehearse_every_us` for the engine (`None`: as configured).
    pub rehearse_every_us: Option<u64>,
    /// What the control plane does during the run (always off for the empty stages,
    /// which have no control rings).
    pub control: ControlMode,
    /// Whether the engine journals (always off for the empty stages).
    pub journal: JournalMode,
}

impl RunSpec {
    /// A short name, also the stem of the run's files:
    /// `engine-one_group-busy_spin-100k-intended`, with `-control_idle` or
    /// `-control_pnl10hz` after the engine part when the socket is served (control off
    /// keeps the names runs had before the option, so older reports stay comparable),
    /// and `-journal_on` or `-journal_ticks` likewise.
    pub fn slug(&self) -> String {
        let engine = match self.engine {
            Engine::Real => "engine",
            Engine::Empty => "empty",
        };
        let rate = match self.rate {
            Rate::Max => "max".to_owned(),
            Rate::PerSecond(_) => self.rate.label().trim_end_matches("/s").to_owned(),
        };
        let stamp = match self.stamping {
            Stamping::Intended => "intended",
            Stamping::Actual => "actual",
        };
        let strategies = match (self.engine, self.strategies) {
            (Engine::Real, Strategies::Active) => "-active",
            _ => "",
        };
        let control = match self.control {
            ControlMode::Off => String::new(),
            mode => format!("-control_{}", mode.name()),
        };
        let journal = match (self.engine, self.journal) {
            (Engine::Real, JournalMode::On | JournalMode::Ticks) => {
                format!("-journal_{}", self.journal.name())
            }
            _ => String::new(),
        };
        format!(
            "{engine}{strategies}{control}{journal}-{}-{}-{rate}-{stamp}",
            self.layout.name(),
            self.wait
        )
    }
}

/// Everything one run measured.
#[derive(Debug)]
pub struct RunResult {
    /// The settings.
    pub spec: RunSpec,
    /// The layout as it ran.
    pub layout: String,
    /// The stage groups' reports.
    pub groups: Vec<GroupReport>,
    /// Events the feed moved.
    pub events: u64,
    /// Wall time of the longest-running group.
    pub wall: Duration,
    /// How late the generator released events (paced runs).
    pub send_lag: Option<Histogram<u64>>,
    /// The stall monitor that ran alongside, when a core was free for it.
    pub stalls: Option<StallReport>,
    /// Why a stage stopped early, if one did.
    pub error: Option<String>,
    /// What the control socket and its client did, when the socket was served.
    pub control: Option<ControlOutcome>,
}

impl RunResult {
    /// Stage reports in pipeline order.
    pub fn stages(&self) -> Vec<&StageReport> {
        StageKind::ALL
            .iter()
            .filter_map(|k| {
                self.groups
                    .iter()
                    .flat_map(|g| &g.stages)
                    .find(|s| s.name == k.name())
            })
            .collect()
    }

    /// A latency histogram any stage reported, by name.
    pub fn latency(&self, name: &str) -> Option<&Histogram<u64>> {
        self.stages()
            .into_iter()
            .find_map(|s| s.latency(name))
            .map(|h| h.histogram())
    }

    /// Events per second through the whole run.
    pub fn throughput(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Sum of a counter over all stages.
    pub fn counter(&self, name: &str) -> u64 {
        self.stages().iter().map(|s| s.counter(name)).sum()
    }
}

/// Runs `spec` over `events`.
///
/// # Errors
/// When the pipeline cannot be built, a thread cannot start, or the control side did
/// not do what `spec.control` asks (see [`control::check`]).
pub fn run(
    spec: &RunSpec,
    instruments: &InstrumentTable,
    events: &Arc<[MarketEvent]>,
) -> Result<RunResult, String> {
    let mut config = spec.strategies.config();
    if let Some(us) = spec.rehearse_every_us {
        config.runtime.rehearse_every_us = us;
    }
    let mode = match spec.engine {
        Engine::Real => spec.control,
        Engine::Empty => ControlMode::Off,
    };
    // Held until the run is over: dropping it removes the socket's directory.
    let _run_dir = control::configure(mode, &mut config.control)?;
    let journal = match spec.engine {
        Engine::Real => spec.journal,
        Engine::Empty => JournalMode::Off,
    };
    // Held until the run is over, like the socket's directory.
    let _journal_dir = journal.configure(&mut config, &spec.cores)?;
    // The journal names its day from the session start: the first event's market time.
    let start = events
        .first()
        .map_or(tickpipe::model::UnixNanos(0), |e| e.exchange_ts());
    let clock = LatencyClock::new();
    let lag = LagSlot::default();
    let schedule = match spec.rate {
        Rate::PerSecond(r) => Some(Schedule::new(r)),
        Rate::Max => None,
    };
    let source = OpenLoopSource::new(
        events.clone(),
        schedule,
        spec.stamping,
        clock.clone(),
        lag.clone(),
    );
    let layout = Layout {
        groups: spec.layout.groups(&spec.cores, spec.wait),
    };
    let stop_monitor = Arc::new(AtomicBool::new(false));
    let monitor = match spec.monitor_core {
        Some(core) => Some(
            stall::spawn(
                format!("core {core}, during the run"),
                Some(core),
                clock.clone(),
                stop_monitor.clone(),
            )
            .map_err(|e| format!("cannot start the stall monitor: {e}"))?,
        ),
        None => None,
    };
    let (groups, outcome) = match spec.engine {
        Engine::Real => {
            let pipeline = Pipeline::build(
                &config,
                instruments,
                Box::new(source),
                start,
                None,
                Arc::new(AtomicBool::new(false)),
            )
            .map_err(|e| e.to_string())?;
            // Started before the run so it is waiting when `run` binds the socket.
            let client = match mode {
                ControlMode::Pnl10Hz => {
                    Some(control::spawn_pnl_client(config.control.socket_path())?)
                }
                ControlMode::Off | ControlMode::Idle => None,
            };
            let report = pipeline
                .run(&layout, Duration::ZERO, |_| {})
                .map_err(|e| e.to_string())?;
            let client = client
                .map(|h| {
                    h.join()
                        .map_err(|_| "the pnl client thread panicked".to_owned())?
                })
                .transpose()?;
            let outcome = report
                .control
                .map(|server| ControlOutcome { server, client });
            (report.groups, outcome)
        }
        Engine::Empty => (
            run_empty(&layout, source, clock, config.runtime.ring_capacity)?,
            None,
        ),
    };
    stop_monitor.store(true, Ordering::Relaxed);
    let stalls = monitor.and_then(|h| h.join().ok());
    let wall = groups.iter().map(|g| g.wall).max().unwrap_or_default();
    control::check(mode, outcome.as_ref(), wall)?;
    let events = groups
        .iter()
        .flat_map(|g| &g.stages)
        .find(|s| s.name == "feed")
        .map_or(0, |s| s.counter("events"));
    let error = groups
        .iter()
        .flat_map(|g| &g.stages)
        .find_map(|s| s.error.clone().map(|e| format!("{}: {e}", s.name)));
    let send_lag = lag
        .lock()
        .ok()
        .and_then(|mut slot| slot.take())
        .filter(|h| !h.is_empty())
        .map(|h| h.histogram().clone());
    Ok(RunResult {
        spec: spec.clone(),
        layout: layout.describe(),
        groups,
        events,
        wall,
        send_lag,
        stalls,
        error,
        control: outcome,
    })
}

/// The empty-stage pipeline: the real feed stage, pass-through signal and risk stages,
/// and a sink as the order stage, on the same rings and groups as the engine.
fn run_empty(
    layout: &Layout,
    source: OpenLoopSource,
    clock: LatencyClock,
    capacity: usize,
) -> Result<Vec<GroupReport>, String> {
    let (market_tx, market_rx) = channel(capacity);
    let (risk_tx, risk_rx) = channel(capacity);
    let (order_tx, order_rx) = channel(capacity);
    let mut stages: BTreeMap<StageKind, Box<dyn Stage>> = BTreeMap::new();
    stages.insert(
        StageKind::Feed,
        Box::new(FeedStage::new(
            Box::new(source),
            Outbox::new(market_tx),
            clock.clone(),
            Arc::new(Telemetry::default()),
            Pacing::Max,
            Arc::new(AtomicBool::new(false)),
            None,
        )),
    );
    stages.insert(
        StageKind::Signal,
        Box::new(PassThrough::new("signal", market_rx, Outbox::new(risk_tx))),
    );
    stages.insert(
        StageKind::Risk,
        Box::new(PassThrough::new("risk", risk_rx, Outbox::new(order_tx))),
    );
    stages.insert(
        StageKind::Order,
        Box::new(Sink::new("order", order_rx, clock)),
    );
    let mut handles = Vec::new();
    for spec in &layout.groups {
        let group_stages = spec
            .stages
            .iter()
            .filter_map(|k| stages.remove(k))
            .collect();
        let group = Group::new(
            spec.name.clone(),
            spec.core,
            group_stages,
            spec.wait.build().0,
        );
        handles.push(
            group
                .spawn()
                .map_err(|e| format!("cannot start group {}: {e}", spec.name))?,
        );
    }
    let mut reports = Vec::new();
    for handle in handles {
        match handle.join() {
            Ok(Ok(report)) => reports.push(report),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("an empty-stage thread panicked".to_owned()),
        }
    }
    Ok(reports)
}
