//! Wiring: the four stages, the rings between them, the control rings, and the run.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{atomic::AtomicBool, Arc},
    time::{Duration, Instant},
};

use tickpipe_ringbuf::channel;

use crate::{
    charges::{ChargeModel, Charger},
    config::{ConfigError, ConfigIssue},
    control::{
        AlertCommandReport, Catalog, ControlConfig, ControlPlane, ControlServer, EngineInfo,
        ServerReport, StageId, StageLink,
    },
    engine::{
        recovery::{self, OpenedDay, ResumeSummary},
        EngineConfig, GatewayKind,
    },
    feed::{FeedStage, MarketSource, Pacing, StaleFeedFlag},
    journal::{
        Journal, JournalTap, JournalWriter, Record, Seq, SessionKind, SessionMark, ENGINE_WRITER,
    },
    metrics::Telemetry,
    model::{InstrumentTable, ScheduledCommand, Stamp, UnixNanos},
    order::{
        Gateway, KiteGateway, OrderSetup, OrderStage, PaperGateway, MAX_WORKING_ROWS, RECENT_ORDERS,
    },
    risk::{ReviewDesk, RiskStage, TradingSummary},
    runtime::{
        GroupReport, Groups, LatencyClock, Layout, Outbox, Rehearsal, RunError, Stage, StageKind,
        StageReport,
    },
    signal::{
        allocation::Allocator,
        build_strategies,
        filter::{DayHistory, FilterChain},
        indicator::IndicatorBank,
        market_regime::build_market_regime,
        SignalConfig, SignalStage,
    },
};

/// The four stages, built and wired, not yet running.
pub struct Pipeline {
    stages: BTreeMap<StageKind, Box<dyn Stage>>,
    telemetry: Arc<Telemetry>,
    strategy_names: Vec<&'static str>,
    /// The control thread's setup: always there until [`Pipeline::run`] starts the
    /// thread (which serves the socket only with `control.enabled`) or a caller takes it.
    control: Option<(ControlConfig, ControlPlane)>,
    /// The run's journal (its flusher thread); the stages hold its writers.
    journal: Option<Journal>,
    /// The engine's own writer: the session marks.
    session: Option<(JournalWriter, SessionMark)>,
    /// What resuming the day found, when the run resumed one.
    resumed: Option<ResumeSummary>,
    /// The stop flag, and whether a stopped run flattens (and so ends the day).
    stop: Arc<AtomicBool>,
    flatten_on_stop: bool,
    /// Up while the live feed is stale past `feed.stale_alert_secs` (entries refused).
    feed_stale: Arc<StaleFeedFlag>,
    /// Whether the run measures its latencies.
    timing: Timing,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("stages", &self.stages.keys().collect::<Vec<_>>())
            .field("control", &self.control.is_some())
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
    /// What the control socket served, when it was served.
    pub control: Option<ServerReport>,
    /// What the alert command did, when one is configured (with or without the socket).
    pub alert_command: Option<AlertCommandReport>,
    /// Where the run was journaled, when it was.
    pub journal: Option<JournalOutcome>,
}

/// Where a run's journal went and how it ended.
#[derive(Debug, Clone)]
pub struct JournalOutcome {
    /// The day's directory the run wrote.
    pub dir: PathBuf,
    /// The flush policy, as configured.
    pub flush: String,
    /// The flusher's first error (a segment it could not create or `msync`), if any.
    pub error: Option<String>,
    /// The run resumed a day that had stopped mid-day: what it rebuilt.
    pub resumed: Option<ResumeSummary>,
    /// The run ended the day cleanly (its journal's end mark is written): the next start
    /// of the day begins a fresh journal. False after a stop that left positions open
    /// or a stage's error: the next start resumes this one.
    pub ended: bool,
}

impl JournalOutcome {
    /// Stops the flusher after its last pass and notes how it ended.
    fn close(journal: Journal, resumed: Option<ResumeSummary>, ended: bool) -> JournalOutcome {
        let dir = journal.dir().to_owned();
        let flush = journal.config().flush.to_string();
        JournalOutcome {
            dir,
            flush,
            error: journal.shutdown().err().map(|e| e.to_string()),
            resumed,
            ended,
        }
    }
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

    /// The error the run stopped with, if any: the first a stage stopped with, in
    /// pipeline order, except that the risk stage's [`ORDER_STAGE_GONE`] only echoes
    /// the order stage's own error, which is the one returned when there is one.
    ///
    /// [`ORDER_STAGE_GONE`]: crate::risk::ORDER_STAGE_GONE
    pub fn error(&self) -> Option<(&'static str, &crate::runtime::StageError)> {
        let errors: Vec<_> = self
            .stages()
            .into_iter()
            .filter_map(|s| s.error.as_ref().map(|e| (s.name, e)))
            .collect();
        errors
            .iter()
            .find(|(_, e)| e.what != crate::risk::ORDER_STAGE_GONE)
            .or(errors.first())
            .copied()
    }

    /// The risk stage's book at the end: positions, P&L, the day's fills.
    pub fn trading(&self) -> Option<&TradingSummary> {
        self.stage("risk")?.detail::<TradingSummary>()
    }

    /// Execution quality per strategy, from the order stage.
    pub fn execution(&self) -> Option<&crate::order::ExecutionSummary> {
        self.stage("order")?
            .detail::<crate::order::ExecutionSummary>()
    }

    /// What each strategy signalled, from the signal stage.
    pub fn signals(&self) -> Option<&crate::signal::SignalSummary> {
        self.stage("signal")?
            .detail::<crate::signal::SignalSummary>()
    }
}

/// Whether a run measures its latencies ([`Pipeline::build_unmeasured`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// Stamps, service times, histograms, rehearsals: a live or paper run.
    Measured,
    /// None of them: a backtest.
    Unmeasured,
}

/// Rows one control answer may need: a position, its exits and its charges per
/// instrument, two rows per strategy (P&L and charges), the working and recent orders,
/// and room for the small answers.
fn answer_room(instruments: usize, strategies: usize) -> usize {
    3 * instruments + 2 * strategies + MAX_WORKING_ROWS + RECENT_ORDERS + 64
}

impl Pipeline {
    /// Builds the four stages for `config`, reading market data from `source`.
    ///
    /// `until` stops the feed at that market time; `stop` stops it when set (Ctrl-C, or
    /// a stage's fatal error). The control rings are wired for the control thread
    /// [`Pipeline::run`] starts, which serves the socket with `control.enabled`.
    ///
    /// # Errors
    /// The config's problems, when the strategies or the control schedule cannot be
    /// built from it.
    pub fn build(
        config: &EngineConfig,
        instruments: &InstrumentTable,
        source: Box<dyn MarketSource>,
        start: UnixNanos,
        until: Option<UnixNanos>,
        stop: Arc<AtomicBool>,
    ) -> Result<Pipeline, ConfigError> {
        Pipeline::build_with_postbacks(config, instruments, source, start, until, stop, None)
    }

    /// As [`Pipeline::build`], handing a Kite Ticker feed's order `postbacks`
    /// ([`OpenedSource::postbacks`](crate::feed::OpenedSource::postbacks)) to the Kite
    /// Connect gateway, which acts on them before its poll sees the same; with the paper
    /// gateway they are dropped, and the ticker stops passing them on.
    ///
    /// # Errors
    /// As [`Pipeline::build`].
    pub fn build_with_postbacks(
        config: &EngineConfig,
        instruments: &InstrumentTable,
        source: Box<dyn MarketSource>,
        start: UnixNanos,
        until: Option<UnixNanos>,
        stop: Arc<AtomicBool>,
        postbacks: Option<crate::feed::kite::Postbacks>,
    ) -> Result<Pipeline, ConfigError> {
        Pipeline::build_with_timing(
            config,
            instruments,
            source,
            (start, until),
            stop,
            postbacks,
            Timing::Measured,
        )
    }

    /// As [`Pipeline::build`], for a backtest: no latency is measured. The stages share
    /// a clock that is [off](LatencyClock::off), so no event is stamped, no service time
    /// sampled and no latency histogram fed, and no idle stage rehearses its order path
    /// (`[runtime] rehearse_every_us`: a warm-up for the next live order, of no use on
    /// one thread in market time). None of it decides anything, so the trades are those
    /// of [`Pipeline::build`]; only the run's latency figures are empty. A paced feed
    /// (`[feed] speed` other than `"max"`) releases events by the wall clock, so it
    /// keeps the clock.
    ///
    /// # Errors
    /// As [`Pipeline::build`].
    pub fn build_unmeasured(
        config: &EngineConfig,
        instruments: &InstrumentTable,
        source: Box<dyn MarketSource>,
        start: UnixNanos,
        until: Option<UnixNanos>,
        stop: Arc<AtomicBool>,
    ) -> Result<Pipeline, ConfigError> {
        Pipeline::build_with_timing(
            config,
            instruments,
            source,
            (start, until),
            stop,
            None,
            Timing::Unmeasured,
        )
    }

    /// The build of [`Pipeline::build_with_postbacks`] and [`Pipeline::build_unmeasured`].
    fn build_with_timing(
        config: &EngineConfig,
        instruments: &InstrumentTable,
        source: Box<dyn MarketSource>,
        (start, until): (UnixNanos, Option<UnixNanos>),
        stop: Arc<AtomicBool>,
        postbacks: Option<crate::feed::kite::Postbacks>,
        timing: Timing,
    ) -> Result<Pipeline, ConfigError> {
        let problem = |issues: Vec<ConfigIssue>| ConfigError {
            origin: "configuration".to_owned(),
            issues,
        };
        let hash = recovery::config_hash(config);
        let (journal, mut resuming) =
            match open_journal(config, start).map_err(|e| problem(vec![e]))? {
                Some(OpenedDay { journal, resume }) => (Some(journal), resume),
                None => (None, None),
            };
        if let Some(journal) = &journal {
            let names = crate::signal::strategy_names(&config.strategy);
            crate::journal::Manifest::new(hash, &names, instruments, config.risk.capital)
                .write(journal.dir())
                .map_err(|e| {
                    problem(vec![ConfigIssue::new(
                        "journal.dir",
                        format!(
                            "cannot write {} in {}: {e}",
                            crate::journal::MANIFEST_FILE,
                            journal.dir().display()
                        ),
                    )])
                })?;
        }
        let tap = |resuming: &mut Option<recovery::Resuming>,
                   name: &str|
         -> Result<JournalTap, ConfigError> {
            match (&journal, resuming.as_mut()) {
                (Some(j), Some(r)) => r.tap(j, name).map_err(|e| problem(vec![e])),
                (Some(j), None) => j
                    .writer(name)
                    .map(JournalTap::new)
                    .map_err(|e| problem(vec![ConfigIssue::new("journal.dir", e.to_string())])),
                (None, _) => Ok(JournalTap::off()),
            }
        };
        let telemetry = Arc::new(Telemetry::default());
        let capacity = config.runtime.ring_capacity;
        let pacing = config
            .feed
            .pacing()
            .map_err(|e| problem(vec![ConfigIssue::new("feed.speed", e)]))?;
        let clock = match (timing, pacing) {
            (Timing::Unmeasured, Pacing::Max) => LatencyClock::off(),
            _ => LatencyClock::new(),
        };
        let mut indicators = IndicatorBank::new(instruments.len());
        let strategy_config = SignalConfig {
            targets_to_risk: config.risk.partial_exit,
            ..config.strategy.clone()
        };
        let strategies =
            build_strategies(&strategy_config, instruments, &mut indicators).map_err(problem)?;
        let strategy_names: Vec<&'static str> = strategies.iter().map(|s| s.name()).collect();
        let strategy_count = strategies.len();
        let regime =
            build_market_regime(&config.strategy, instruments, &strategy_names).map_err(problem)?;
        let catalog = Catalog::new(instruments, &strategy_names);
        let schedule = schedule(&config.control, &catalog, config).map_err(problem)?;
        let history = match &config.filters.history_file {
            Some(path) => DayHistory::load(path, instruments)
                .map_err(|e| problem(vec![ConfigIssue::new("filters.history_file", e)]))?,
            None => DayHistory::empty(instruments.len()),
        };

        let (market_tx, market_rx) = channel(capacity);
        let (risk_tx, risk_rx) = channel(capacity);
        let (order_tx, order_rx) = channel(capacity);
        let (exec_tx, exec_rx) = channel(capacity);
        // Allocation reviews: risk answers with a row per strategy and an end marker.
        let review = config.signal.allocation.enabled.then(|| {
            let (answer_tx, answer_rx) = channel((strategy_count + 1).next_power_of_two());
            let desk = ReviewDesk::new(strategy_count, instruments.len(), Outbox::new(answer_tx));
            let allocator = Allocator::new(
                &config.signal.allocation,
                strategy_names.clone(),
                instruments.len(),
                answer_rx,
            );
            (desk, allocator)
        });
        let (desk, allocator) = match review {
            Some((desk, allocator)) => (Some(desk), Some(allocator)),
            None => (None, None),
        };

        let room = answer_room(instruments.len(), strategy_count);
        let (feed_port, feed_link) = StageLink::pair(StageId::Feed, room);
        let (signal_port, signal_link) = StageLink::pair(StageId::Signal, room);
        let (risk_port, risk_link) = StageLink::pair(StageId::Risk, room);
        let (order_port, order_link) = StageLink::pair(StageId::Order, room);

        let replayed = resuming
            .as_ref()
            .map(|r| r.replayed_commands(&schedule, start.ist_date()));
        let feed_replayed = replayed.as_ref().map_or(0, Vec::len);
        let feed = FeedStage::new(
            source,
            Outbox::new(market_tx),
            clock.clone(),
            telemetry.clone(),
            pacing,
            stop.clone(),
            until,
        )
        .with_schedule(schedule);
        let feed = match (&resuming, replayed) {
            (Some(r), Some(replayed)) => feed.resuming(r.summary.caught_up_to, replayed),
            _ => feed,
        };
        // Raised by the feed stage while its source is stale past `feed.stale_alert_secs`,
        // for `status`; the risk stage learns the same from the stream and refuses
        // entries meanwhile.
        let feed_stale = Arc::new(StaleFeedFlag::default());
        let feed = feed
            .with_control(feed_port)
            .with_stale_flag(feed_stale.clone())
            .with_stale_alert(
                (config.feed.stale_alert_secs > 0)
                    .then(|| Duration::from_secs(u64::from(config.feed.stale_alert_secs))),
            )
            .with_journal(if config.journal.ticks {
                tap(&mut resuming, "feed")?
            } else {
                JournalTap::off()
            });
        let signal = SignalStage::new(
            instruments,
            strategies,
            &config.strategy.bar_lengths(),
            market_rx,
            Outbox::new(risk_tx),
            clock.clone(),
            telemetry.clone(),
        )
        .with_indicators(indicators)
        .with_regime(regime)
        .with_allocation(allocator)
        .with_filters(FilterChain::from_config(
            &config.filters,
            instruments,
            &history,
            session_date(config),
        ))
        .with_control(signal_port)
        .with_journal(tap(&mut resuming, "signal")?);
        let mut broker_health = None;
        let gateway = match config.order.gateway {
            GatewayKind::Paper => {
                Box::new(PaperGateway::with_config(instruments, &config.paper)) as Box<dyn Gateway>
            }
            GatewayKind::Kite => {
                // A resumed day: the broker holds what the journal shows booked before
                // the restart, so the gateway counts from there (read before the risk
                // tap below takes those records).
                let holds = crate::order::kite::EngineHoldings {
                    net: resuming
                        .as_ref()
                        .map(|r| r.booked_net(instruments.len()))
                        .unwrap_or_default(),
                    book_follows_broker: config.risk.reconcile
                        != crate::risk::ReconcilePolicy::Alert,
                    take_over: resuming
                        .as_ref()
                        .map(|r| r.working_orders())
                        .unwrap_or_default(),
                };
                let kite = KiteGateway::start_with(&config.order, instruments, postbacks, holds)
                    .map_err(|e| problem(vec![ConfigIssue::new("order.kite", e)]))?;
                broker_health = Some(kite.health());
                Box::new(kite)
            }
        };
        // The paper gateway answers in market time, so risk syncs with the order stage
        // while orders are out: fills then do not depend on thread timing.
        let market_sync = matches!(config.order.gateway, GatewayKind::Paper);
        let rehearsal = match timing {
            Timing::Measured => Rehearsal::every_micros(config.runtime.rehearse_every_us),
            Timing::Unmeasured => Rehearsal::OFF,
        };
        let risk = RiskStage::new(
            &config.risk,
            instruments,
            strategy_count,
            risk_rx,
            exec_rx,
            Outbox::new(order_tx),
            clock.clone(),
            telemetry.clone(),
            market_sync,
        )
        .with_control(risk_port)
        .with_journal(tap(&mut resuming, "risk")?)
        .with_stop(stop.clone())
        .with_strategy_names(&strategy_names)
        .with_charges(Charger::new(ChargeModel::new(&config.charges), instruments))
        .with_protective_stops(config.order.protective_stop)
        .with_rehearsal(rehearsal);
        let book_capacity = risk.in_flight_capacity();
        let risk = match desk {
            Some(desk) => risk.with_review(desk),
            None => risk,
        };
        let order = OrderStage::new(
            order_rx,
            Outbox::new(exec_tx),
            gateway,
            instruments,
            OrderSetup {
                config: &config.order,
                // The order book stores orders under risk's intent ids: as many slots as
                // risk's in-flight table, entries plus its exit reserve.
                capacity: book_capacity,
                strategies: strategy_count,
            },
            clock,
            telemetry.clone(),
        )
        .with_control(order_port)
        .with_journal(tap(&mut resuming, "order")?)
        .with_stop(stop.clone())
        .with_rehearsal(rehearsal);
        let mark = SessionMark {
            kind: SessionKind::Start,
            config: hash,
            strategies: strategy_count as u32,
            instruments: instruments.len() as u32,
        };
        let mut resumed = None;
        let session = match &journal {
            Some(j) => {
                let opened = match &mut resuming {
                    Some(r) => {
                        let engine = r.day.take_records(ENGINE_WRITER);
                        r.summary.replayed = feed_replayed;
                        let kind = if r.begun {
                            resumed = Some(r.summary.clone());
                            SessionKind::Resume
                        } else {
                            SessionKind::Start
                        };
                        j.resume_writer(ENGINE_WRITER, Seq(engine.len() as u64 + 1))
                            .map(|w| (w, kind))
                    }
                    None => j.writer(ENGINE_WRITER).map(|w| (w, SessionKind::Start)),
                };
                let (mut writer, kind) = opened
                    .map_err(|e| problem(vec![ConfigIssue::new("journal.dir", e.to_string())]))?;
                writer
                    .append(start, &Record::Session(SessionMark { kind, ..mark }))
                    .map_err(|e| problem(vec![ConfigIssue::new("journal.dir", e.to_string())]))?;
                Some((writer, mark))
            }
            None => None,
        };
        let mut stages: BTreeMap<StageKind, Box<dyn Stage>> = BTreeMap::new();
        stages.insert(StageKind::Feed, Box::new(feed));
        stages.insert(StageKind::Signal, Box::new(signal));
        stages.insert(StageKind::Risk, Box::new(risk));
        stages.insert(StageKind::Order, Box::new(order));
        // The control thread runs with the socket off too: it logs the stages' alerts
        // and runs the alert command.
        let control = Some((
            config.control.clone(),
            ControlPlane {
                links: vec![feed_link, signal_link, risk_link, order_link],
                catalog,
                info: EngineInfo {
                    mode: match config.order.gateway {
                        GatewayKind::Paper => "paper",
                        GatewayKind::Kite => "kite",
                    },
                    source: config.feed.source.name().to_owned(),
                    feed_link: None,
                    broker: broker_health,
                    feed_stale: Some(feed_stale.clone()),
                },
                limits: config.risk.clone(),
            },
        ));
        Ok(Pipeline {
            stages,
            telemetry,
            strategy_names,
            control,
            journal,
            session,
            resumed,
            stop,
            flatten_on_stop: config.risk.on_shutdown == crate::risk::ShutdownPolicy::Flatten,
            feed_stale,
            timing,
        })
    }

    /// Lets the control socket's `status` show a live feed's link state (`feed_link`).
    pub fn set_feed_link(&mut self, health: Arc<crate::feed::kite::TickerHealth>) {
        if let Some((_, plane)) = &mut self.control {
            plane.info.feed_link = Some(health);
        }
    }

    /// Where the run journals, and what resuming the day found when it resumed one
    /// (the start or resume mark is in the journal by now).
    pub fn journal_status(&self) -> Option<(&std::path::Path, Option<&ResumeSummary>)> {
        self.journal
            .as_ref()
            .map(|j| (j.dir(), self.resumed.as_ref()))
    }

    /// The gauges the stages publish, for a status line.
    pub fn telemetry(&self) -> Arc<Telemetry> {
        self.telemetry.clone()
    }

    /// The flag the feed stage raises while its source is stale past
    /// `feed.stale_alert_secs` (the risk stage refuses entries meanwhile), for a status
    /// line or a test that watches it.
    pub fn feed_stale(&self) -> Arc<StaleFeedFlag> {
        self.feed_stale.clone()
    }

    /// Strategy names by `StrategyId`.
    pub fn strategy_names(&self) -> &[&'static str] {
        &self.strategy_names
    }

    /// Takes the control thread's ends of the stages' control rings, for a caller that
    /// drives the control plane itself, as the allocation test does. [`Pipeline::run`]
    /// then starts no control thread: no socket, and the alerts are the caller's.
    pub fn take_control(&mut self) -> Option<ControlPlane> {
        self.control.take().map(|(_, plane)| plane)
    }

    /// Takes the run's journal (its flusher), for a caller that drives the stages itself
    /// with [`Pipeline::into_single_group`]: keep it alive while they run, since the
    /// flusher prepares the segments their writers roll into, then
    /// [`Journal::shutdown`] it.
    pub fn take_journal(&mut self) -> Option<Journal> {
        self.journal.take()
    }

    /// All four stages as one group on the calling thread (for tests and stepping). No
    /// control socket is served; a journal not taken with [`Pipeline::take_journal`] is
    /// closed here, and the stages' writers fail at their next segment roll.
    pub fn into_single_group(mut self) -> crate::runtime::Group {
        let stages = StageKind::ALL
            .iter()
            .filter_map(|k| self.stages.remove(k))
            .collect();
        crate::runtime::Group::new(
            "pipeline".to_owned(),
            None,
            stages,
            tickpipe_ringbuf::wait::WaitKind::BusySpin.build().0,
        )
    }

    /// Runs the pipeline in `layout` until every stage is done, with the control thread
    /// beside it (serving the socket when enabled; logging the alerts and running the
    /// alert command either way), calling `status` every `interval` on the calling thread.
    ///
    /// The socket is bound before any stage starts, so a socket another engine serves
    /// stops the run before it trades.
    ///
    /// # Errors
    /// When the control socket cannot start, or a group thread cannot start, pin, or
    /// fails.
    pub fn run(
        mut self,
        layout: &Layout,
        interval: Duration,
        mut status: impl FnMut(&Telemetry),
    ) -> Result<RunReport, RunError> {
        let started = Instant::now();
        let groups = Groups::new(std::mem::take(&mut self.stages), layout);
        let server = match self.control.take() {
            Some((config, plane)) => Some(
                ControlServer::start(&config, plane, groups.wakers()).map_err(|e| {
                    RunError::Side {
                        what: if config.enabled {
                            "control socket"
                        } else {
                            "control thread"
                        },
                        source: std::io::Error::other(e.to_string()),
                    }
                })?,
            ),
            None => None,
        };
        let running = groups.spawn();
        let running = match running {
            Ok(r) => r,
            Err(e) => {
                if let Some(server) = server {
                    server.stop();
                }
                return Err(e);
            }
        };
        let tick = if interval.is_zero() {
            Duration::from_millis(20)
        } else {
            interval.min(Duration::from_millis(20))
        };
        let mut next_status = Instant::now() + interval;
        while !running.is_finished() {
            std::thread::sleep(tick);
            if !interval.is_zero() && Instant::now() >= next_status {
                status(&self.telemetry);
                next_status += interval;
            }
        }
        let reports = running.join();
        let (control, alert_command) = match server {
            Some(server) => {
                let served = server.socket().is_some();
                let report = server.stop();
                (served.then_some(report), report.alert_command)
            }
            None => (None, None),
        };
        let groups = reports?;
        // Every stage has finished and dropped its writer: the flusher's last pass
        // covers every record.
        let journal = self.close_journal(&groups);
        Ok(RunReport {
            groups,
            wall: started.elapsed(),
            strategy_names: self.strategy_names,
            layout: layout.describe(),
            control,
            alert_command,
            journal,
        })
    }

    /// Runs all stages on the calling thread, unpinned, until done (no control thread:
    /// no socket, and the stages' alerts are not logged). A pipeline built
    /// [unmeasured](Pipeline::build_unmeasured) reports no CPU time either.
    pub fn run_inline(mut self) -> RunReport {
        let started = Instant::now();
        let names = self.strategy_names.clone();
        let journal = self.journal.take();
        let session = self.session.take();
        let resumed = self.resumed.take();
        let stop = self.stop.clone();
        let flatten_on_stop = self.flatten_on_stop;
        let telemetry = self.telemetry.clone();
        let feed_stale = self.feed_stale.clone();
        let timing = self.timing;
        let group = match timing {
            Timing::Measured => self.into_single_group(),
            // Its CPU time is measured neither.
            Timing::Unmeasured => self.into_single_group().without_cpu_time(),
        };
        let groups = vec![group.run_here()];
        let mut rest = Pipeline {
            stages: BTreeMap::new(),
            telemetry,
            strategy_names: Vec::new(),
            control: None,
            journal,
            session,
            resumed,
            stop,
            flatten_on_stop,
            feed_stale,
            timing,
        };
        let journal = rest.close_journal(&groups);
        RunReport {
            groups,
            wall: started.elapsed(),
            strategy_names: names,
            layout: "pipeline[feed+signal+risk+order] calling thread".to_owned(),
            control: None,
            alert_command: None,
            journal,
        }
    }

    /// Marks the day's end in the journal when the run ended it cleanly (the feed ran
    /// out, or a stop flattened every position, and no stage failed), then closes the
    /// journal. A run killed, failed, or stopped leaving positions open writes no end
    /// mark, so the next start of the day resumes it.
    fn close_journal(&mut self, groups: &[GroupReport]) -> Option<JournalOutcome> {
        let journal = self.journal.take()?;
        // Relaxed: every stage thread has been joined.
        let stopped = self.stop.load(std::sync::atomic::Ordering::Relaxed);
        let failed = groups
            .iter()
            .flat_map(|g| &g.stages)
            .any(|s| s.error.is_some() || s.counter("journal_failures") > 0);
        let ends_day = !failed && (!stopped || self.flatten_on_stop);
        let mut ended = false;
        if let Some((mut writer, mark)) = self.session.take() {
            if ends_day {
                let ts = UnixNanos(self.telemetry.feed.market_time.get());
                let end = SessionMark {
                    kind: SessionKind::End,
                    ..mark
                };
                ended = writer.append(ts, &Record::Session(end)).is_ok();
            }
        }
        Some(JournalOutcome::close(journal, self.resumed.take(), ended))
    }
}

/// Opens the run's journal (`[journal]`), in the directory of the IST day `start`
/// falls on, resuming the day when its last run stopped mid-day; `None` when
/// journaling is off.
fn open_journal(config: &EngineConfig, start: UnixNanos) -> Result<Option<OpenedDay>, ConfigIssue> {
    let settings = &config.journal;
    if !settings.enabled {
        return Ok(None);
    }
    let journal_config = settings
        .journal_config()
        .map_err(|e| ConfigIssue::new("journal.flush", e))?;
    recovery::open_day(
        settings,
        journal_config,
        start.ist_date(),
        recovery::config_hash(config),
    )
    .map(Some)
}

/// The day being traded, for day-level history: the synthetic session's date; for a
/// replay (whose date is in the file), the far future, so every recorded day counts; for
/// a live feed, today in IST.
fn session_date(config: &EngineConfig) -> crate::model::Date {
    match config.feed.source {
        crate::feed::SourceKind::Synthetic => {
            crate::model::Date::parse(&config.feed.synthetic.date)
                .unwrap_or(crate::model::Date::new(9999, 12, 31))
        }
        crate::feed::SourceKind::Replay => crate::model::Date::new(9999, 12, 31),
        crate::feed::SourceKind::Kite | crate::feed::SourceKind::Truedata => {
            crate::feed::kite::system_clock().ist_date()
        }
    }
}

/// The `[[control.schedule]]` entries as commands at times of day, checked against the
/// engine's instruments, strategies and limits. Each command's market time holds only
/// its time of day; the feed stage dates it by the session's first event.
fn schedule(
    control: &ControlConfig,
    catalog: &Catalog,
    config: &EngineConfig,
) -> Result<Vec<ScheduledCommand>, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let mut out = Vec::with_capacity(control.schedule.len());
    for (i, entry) in control.schedule.iter().enumerate() {
        let key = format!("control.schedule[{i}]");
        match entry.parsed() {
            Ok((at, request)) => match catalog.resolve(&request, &config.risk) {
                Ok(command) => out.push(ScheduledCommand {
                    exchange_ts: UnixNanos(u64::from(at.secs()) * 1_000_000_000),
                    ingress: Stamp(0),
                    command,
                }),
                Err(e) => issues.push(ConfigIssue::new(key, e.message)),
            },
            Err(e) => issues.push(ConfigIssue::new(key, e)),
        }
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}
