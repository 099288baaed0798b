//! Wiring: rings between the stages, stages into thread groups, and the run.

use std::{
    collections::BTreeMap,
    sync::{atomic::AtomicBool, Arc},
    time::{Duration, Instant},
};

use tickpipe_ringbuf::{channel, wait::Waker};

use super::{
    Group, GroupReport, LatencyClock, Layout, Outbox, Stage, StageKind, StageReport, Telemetry,
};
use crate::{
    config::{EngineConfig, GatewayKind},
    feed::{FeedStage, MarketSource},
    model::{InstrumentTable, UnixNanos},
    order::{OrderStage, PaperGateway},
    risk::RiskStage,
    signal::{build_strategies, SignalStage},
};

/// The four stages, built and wired, not yet running.
pub struct Pipeline {
    stages: BTreeMap<StageKind, Box<dyn Stage>>,
    telemetry: Arc<Telemetry>,
    strategy_names: Vec<&'static str>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("stages", &self.stages.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Everything a finished run measured.
#[derive(Debug)]
pub struct RunReport {
    /// Each group's report (stages inside).
    pub groups: Vec<GroupReport>,
    /// Wall time of the whole run.
    pub wall: Duration,
    /// Strategy names by `StrategyId`.
    pub strategy_names: Vec<&'static str>,
    /// The layout that ran, described.
    pub layout: String,
}

impl RunReport {
    /// A stage's report by name.
    pub fn stage(&self, name: &str) -> Option<&StageReport> {
        self.groups
            .iter()
            .flat_map(|g| &g.stages)
            .find(|s| s.name == name)
    }

    /// Every stage's report in pipeline order.
    pub fn stages(&self) -> Vec<&StageReport> {
        StageKind::ALL
            .iter()
            .filter_map(|k| self.stage(k.name()))
            .collect()
    }

    /// The first error a stage stopped with, if any.
    pub fn error(&self) -> Option<(&'static str, &str)> {
        self.stages()
            .into_iter()
            .find_map(|s| s.error.as_deref().map(|e| (s.name, e)))
    }
}

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A group thread could not be started.
    #[error("cannot start thread group `{group}`: {source}")]
    Spawn {
        /// The group.
        group: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A group thread failed (could not pin, or panicked).
    #[error("thread group failed: {0}")]
    Group(String),
}

impl Pipeline {
    /// Builds the four stages for `config`, reading market data from `source`.
    ///
    /// `until` stops the feed at that market time; `stop` stops it when set (Ctrl-C).
    ///
    /// # Errors
    /// The config's problems, when the strategies cannot be built from it.
    pub fn build(
        config: &EngineConfig,
        instruments: &InstrumentTable,
        source: Box<dyn MarketSource>,
        until: Option<UnixNanos>,
        stop: Arc<AtomicBool>,
    ) -> Result<Pipeline, crate::config::ConfigError> {
        let telemetry = Arc::new(Telemetry::default());
        let clock = LatencyClock::new();
        let capacity = config.runtime.ring_capacity;
        let pacing = config
            .feed
            .pacing()
            .map_err(|e| crate::config::ConfigError {
                origin: "configuration".to_owned(),
                issues: vec![crate::config::ConfigIssue::new("feed.speed", e)],
            })?;
        let strategies = build_strategies(&config.strategy, instruments).map_err(|issues| {
            crate::config::ConfigError {
                origin: "configuration".to_owned(),
                issues,
            }
        })?;
        let strategy_names: Vec<&'static str> = strategies.iter().map(|s| s.name()).collect();
        let strategy_count = strategies.len();

        let (market_tx, market_rx) = channel(capacity);
        let (risk_tx, risk_rx) = channel(capacity);
        let (order_tx, order_rx) = channel(capacity);
        let (exec_tx, exec_rx) = channel(capacity);

        let feed = FeedStage::new(
            source,
            Outbox::new(market_tx),
            clock.clone(),
            telemetry.clone(),
            pacing,
            stop,
            until,
        );
        let signal = SignalStage::new(
            instruments,
            strategies,
            config.strategy.bar_secs(),
            market_rx,
            Outbox::new(risk_tx),
            clock.clone(),
            telemetry.clone(),
        );
        let gateway = match config.order.gateway {
            GatewayKind::Paper => Box::new(PaperGateway::new(instruments)),
        };
        // The paper gateway answers every order at once, so risk can wait for each answer
        // before reading on: fills then do not depend on thread timing.
        let lockstep = matches!(config.order.gateway, GatewayKind::Paper);
        let risk = RiskStage::new(
            &config.risk,
            instruments,
            strategy_count,
            risk_rx,
            exec_rx,
            Outbox::new(order_tx),
            clock.clone(),
            telemetry.clone(),
            lockstep,
        );
        let order = OrderStage::new(
            order_rx,
            Outbox::new(exec_tx),
            gateway,
            instruments,
            clock,
            telemetry.clone(),
        );
        let mut stages: BTreeMap<StageKind, Box<dyn Stage>> = BTreeMap::new();
        stages.insert(StageKind::Feed, Box::new(feed));
        stages.insert(StageKind::Signal, Box::new(signal));
        stages.insert(StageKind::Risk, Box::new(risk));
        stages.insert(StageKind::Order, Box::new(order));
        Ok(Pipeline {
            stages,
            telemetry,
            strategy_names,
        })
    }

    /// The gauges the stages publish, for a status line.
    pub fn telemetry(&self) -> Arc<Telemetry> {
        self.telemetry.clone()
    }

    /// Strategy names by `StrategyId`.
    pub fn strategy_names(&self) -> &[&'static str] {
        &self.strategy_names
    }

    /// All four stages as one group on the calling thread (for tests and stepping).
    pub fn into_single_group(mut self) -> Group {
        let stages = StageKind::ALL
            .iter()
            .filter_map(|k| self.stages.remove(k))
            .collect();
        Group::new(
            "pipeline".to_owned(),
            None,
            stages,
            tickpipe_ringbuf::wait::WaitKind::BusySpin.build().0,
        )
    }

    /// Runs the pipeline in `layout` until every stage is done, calling `status` every
    /// `interval` on the calling thread meanwhile.
    ///
    /// # Errors
    /// When a group thread cannot start, cannot pin, or fails.
    pub fn run(
        mut self,
        layout: &Layout,
        interval: Duration,
        mut status: impl FnMut(&Telemetry),
    ) -> Result<RunReport, RunError> {
        let started = Instant::now();
        let mut groups = Vec::with_capacity(layout.groups.len());
        let mut wakers: Vec<Option<Waker>> = Vec::with_capacity(layout.groups.len());
        for spec in &layout.groups {
            let stages = spec
                .stages
                .iter()
                .filter_map(|k| self.stages.remove(k))
                .collect();
            let (wait, waker) = spec.wait.build();
            wakers.push(waker);
            groups.push(Group::new(spec.name.clone(), spec.core, stages, wait));
        }
        // Each group wakes every other group after a round with work: with at most four
        // groups this is cheaper than tracking which ring feeds which thread.
        for (i, group) in groups.iter_mut().enumerate() {
            let others = wakers
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, w)| w.clone())
                .collect();
            group.wake_after_work(others);
        }
        let mut handles = Vec::with_capacity(groups.len());
        for group in groups {
            let name = format!("{group:?}");
            let handle = group.spawn().map_err(|source| RunError::Spawn {
                group: name,
                source,
            })?;
            handles.push(handle);
        }
        let tick = if interval.is_zero() {
            Duration::from_millis(20)
        } else {
            interval.min(Duration::from_millis(20))
        };
        let mut next_status = Instant::now() + interval;
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(tick);
            if !interval.is_zero() && Instant::now() >= next_status {
                status(&self.telemetry);
                next_status += interval;
            }
        }
        let mut reports = Vec::with_capacity(handles.len());
        for handle in handles {
            match handle.join() {
                Ok(Ok(report)) => reports.push(report),
                Ok(Err(e)) => return Err(RunError::Group(e)),
                Err(_) => return Err(RunError::Group("a stage thread panicked".to_owned())),
            }
        }
        Ok(RunReport {
            groups: reports,
            wall: started.elapsed(),
            strategy_names: self.strategy_names,
            layout: layout.describe(),
        })
    }

    /// Runs all stages on the calling thread, unpinned, until done.
    pub fn run_inline(self) -> RunReport {
        let started = Instant::now();
        let names = self.strategy_names.clone();
        let report = self.into_single_group().run_here();
        RunReport {
            groups: vec![report],
            wall: started.elapsed(),
            strategy_names: names,
            layout: "pipeline[feed+signal+risk+order] calling thread".to_owned(),
        }
    }
}

/// Sets `stop` on the first SIGINT/SIGTERM; a second one ends the process at once.
///
/// # Errors
/// When the handlers cannot be installed.
pub fn stop_on_signals(stop: &Arc<AtomicBool>) -> std::io::Result<()> {
    use signal_hook::{
        consts::{SIGINT, SIGTERM},
        flag,
    };
    for sig in [SIGINT, SIGTERM] {
        // Order matters: the conditional shutdown sees the flag set by an earlier signal.
        flag::register_conditional_shutdown(sig, 130, stop.clone())?;
        flag::register(sig, stop.clone())?;
    }
    Ok(())
}
