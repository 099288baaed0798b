//! The signal stage: market events in, marks and signals out.

use std::{fmt, sync::Arc};

use tickpipe_ringbuf::Consumer;

use super::{
    allocation::{AllocationReport, Allocator, ReviewProgress},
    filter::{FilterChain, FilterRefusal},
    indicator::IndicatorBank,
    market_regime::MarketRegime,
    subscriptions::Subscriptions,
    tick_watch::{each_watcher, TickWatch},
    Bar, BarBuilder, SignalBatch, Strategy,
};
use crate::{
    journal::{JournalTap, Record},
    metrics::{LatencyHistogram, Telemetry},
    model::{
        Alert, AlertLevel, ControlCommand, ControlRefusal, ControlReply, Direction,
        InstrumentTable, MarketEvent, News, RiskInput, ScheduledCommand, Signal, Stamp, StrategyId,
        Tick, TradingState, UnixNanos,
    },
    runtime::{
        ControlPort, LatencyClock, Outbox, Poll, ServiceTimer, Stage, StageError, StageReport,
        COMMANDS_PER_POLL,
    },
};

/// Most distinct bar lengths one stage builds (configuration validation keeps within it).
pub const MAX_BAR_LENGTHS: usize = 4;

/// Most market events handled per [`Stage::poll`], so a stage sharing a thread yields
/// the thread regularly.
///
/// Twice the feed's batch: a stage that takes no more per poll than its producer gives
/// keeps any backlog it once gathered (after one stalled round) for the rest of the
/// run, and every later tick waits behind it. Taking more lets a backlog drain.
pub const EVENTS_PER_POLL: usize = 128;

/// Stage 2: turns [`MarketEvent`]s into [`RiskInput`]s.
///
/// For each tick, in this order:
/// 1. the tick goes to the risk stage as [`RiskInput::Tick`] (risk marks positions with
///    it, the order stage quotes the paper exchange with it);
/// 2. the [`BarBuilder`] folds it in, which may close the instrument's bar;
/// 3. each subscribed strategy, in [`StrategyId`] order, sees the closed bar
///    ([`Strategy::on_bar`]) and then the tick ([`Strategy::on_tick`]);
/// 4. every signal they emitted follows as [`RiskInput::Signal`], stamped with the
///    tick's market time and ingress stamp.
///
/// So risk always holds the mark before the signal it caused, and the output is a pure
/// function of the input sequence, whatever the thread layout. News goes to the
/// subscribed strategies' [`Strategy::on_news`] and is not forwarded. Events about
/// instruments outside the table are dropped and counted (`unknown`), since no later
/// stage could resolve them.
///
/// **Control.** Between market events the stage answers commands from its
/// [`ControlPort`]: `Status` (a row per strategy), `Pause`/`Resume`, `Latency` and
/// `Counters`. A command scheduled at a market time arrives in the market stream
/// ([`MarketEvent::Control`]): pause and resume are applied here at that point of the
/// stream, everything else goes on to risk as [`RiskInput::Control`] in stream order, so
/// a schedule has the same effect on every layout. The feed stage's stale-feed changes
/// ([`ControlCommand::FeedStale`]) travel the same way.
///
/// A paused strategy's entries ([`Direction::Long`], [`Direction::Short`]) are dropped
/// and counted (`suppressed`); its exits ([`Direction::Flat`]) still flow, and its
/// indicators keep updating so it resumes with warm state.
///
/// **Regimes.** With a [`MarketRegime`] ([`SignalStage::with_regime`]), each closed
/// index bar moves the regime tracker on right after the shared indicators, before any
/// strategy sees the bar, and every strategy reads it
/// ([`StrategyContext::regime`](super::StrategyContext::regime)). Its gate then sees
/// each signal before the filters: an entry of a strategy not allowed in the current
/// regime is refused and counted as the filter refusal `regime_disabled`, and one that
/// passes leaves with the strategy's weight for the regime
/// ([`Signal::weight_pct`]), which the risk stage sizes by.
///
/// The stage reads a new event only while its outbox is clear, so a full ring to risk
/// holds the feed back (counted as `ring_full`) and nothing is ever dropped. Nothing in
/// [`Stage::poll`] allocates: bars, subscriptions, the signal buffer and the histogram
/// are sized at construction.
pub struct SignalStage {
    strategies: Vec<Box<dyn Strategy>>,
    paused: Vec<bool>,
    /// Signals sent, per strategy.
    signals_of: Vec<u64>,
    /// Entry signals sent, per strategy.
    entries_of: Vec<u64>,
    /// Entries dropped while paused, per strategy.
    suppressed_of: Vec<u64>,
    subscriptions: Subscriptions,
    /// One builder per bar length; the first is the primary length the filters watch.
    bars: Vec<BarBuilder>,
    /// Indicators the strategies share, updated on every closed bar before they see it.
    indicators: IndicatorBank,
    batch: SignalBatch,
    input: Consumer<MarketEvent>,
    out: Outbox<RiskInput>,
    clock: LatencyClock,
    telemetry: Arc<Telemetry>,
    service: ServiceTimer,
    /// From the causing event's ingress stamp to each signal leaving for risk: the
    /// first hop of `tick_to_intent` (bars closing, indicators, strategies, filters).
    tick_to_signal: LatencyHistogram,
    counts: Counts,
    control: ControlPort,
    /// Signals sent and strategy pauses applied go to the journal.
    journal: JournalTap,
    /// Instruments in the table.
    instruments: usize,
    filters: FilterChain,
    /// The regime tracker and gate, when a regime model runs.
    regime: Option<MarketRegime>,
    /// Adaptive allocation (reviews, weights, shadow), when enabled.
    allocation: Option<Allocator>,
    /// Entries refused by a filter, per strategy and [`FilterRefusal`] slot.
    filtered_of: Vec<[u64; FilterRefusal::ALL.len()]>,
    /// Market time of the last event handled, for alerts.
    market_time: UnixNanos,
    error: Option<StageError>,
}

/// What each strategy sent, in the signal stage's end-of-run report
/// ([`StageReport::detail`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalSummary {
    /// Per strategy, indexed by [`StrategyId`].
    pub strategies: Vec<StrategySignals>,
    /// The last traded price of every instrument that traded: the day's close, for the
    /// day-level history of the next session.
    pub closes: Vec<(crate::model::InstrumentId, crate::model::Price)>,
    /// Where the market regime ended, when a regime model ran.
    pub regime: Option<RegimeSummary>,
    /// Each strategy's allocation at the end, when allocation reviews ran.
    pub allocation: Option<AllocationReport>,
}

/// The market regime over the run, from the stage's
/// [`RegimeTracker`](super::market_regime::RegimeTracker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegimeSummary {
    /// The most likely regime after the last index bar, and its probability in
    /// thousandths; `None` when no index bar closed.
    pub last: Option<(String, u16)>,
    /// Index bars taken.
    pub bars: u64,
    /// Changes of the most likely regime.
    pub switches: u64,
    /// Per regime label, in state order: index bars after which it was the most likely.
    pub bars_by_regime: Vec<(String, u64)>,
}

/// One strategy's signals over the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategySignals {
    /// Its name.
    pub name: &'static str,
    /// Signals sent to risk.
    pub signals: u64,
    /// Of those, entries.
    pub entries: u64,
    /// Entries dropped while paused.
    pub suppressed: u64,
    /// Entries the orchestration filters refused, by reason.
    pub filtered: Vec<(&'static str, u64)>,
    /// Paused at the end of the run.
    pub paused: bool,
}

/// What the stage counts, reported at the end.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    ticks: u64,
    news: u64,
    bars: u64,
    signals: u64,
    suppressed: u64,
    filtered: u64,
    unknown: u64,
    commands: u64,
}

impl SignalStage {
    /// A stage running `strategies` (their [`StrategyId`] is their index) over the
    /// instruments of `instruments`, building bars of each of `bar_lengths` seconds
    /// ([`SignalConfig::bar_lengths`](super::SignalConfig::bar_lengths)); the first is
    /// the primary length, the one the filters watch. Lengths the indicator bank needs
    /// are added by [`SignalStage::with_indicators`].
    ///
    /// Every strategy is asked once per instrument whether it subscribes.
    ///
    /// # Panics
    /// If `bar_lengths` is empty, holds a zero or more than [`MAX_BAR_LENGTHS`] distinct
    /// lengths, or there are more than [`TickWatch::MAX_STRATEGIES`] strategies (the
    /// configuration can enable each of the catalogue's few strategies once).
    pub fn new(
        instruments: &InstrumentTable,
        strategies: Vec<Box<dyn Strategy>>,
        bar_lengths: &[u32],
        input: Consumer<MarketEvent>,
        out: Outbox<RiskInput>,
        clock: LatencyClock,
        telemetry: Arc<Telemetry>,
    ) -> SignalStage {
        let strategies_len = strategies.len();
        assert!(!bar_lengths.is_empty(), "the stage needs a bar length");
        // Minimal when the clock is off (a backtest): nothing will be measured.
        let (service, tick_to_signal) = (ServiceTimer::for_clock(&clock), clock.histogram());
        let mut stage = SignalStage {
            paused: vec![false; strategies.len()],
            signals_of: vec![0; strategies.len()],
            entries_of: vec![0; strategies.len()],
            suppressed_of: vec![0; strategies.len()],
            subscriptions: Subscriptions::new(instruments, &strategies),
            batch: SignalBatch::new().with_watch(tick_watch(instruments, &strategies)),
            strategies,
            bars: Vec::with_capacity(MAX_BAR_LENGTHS),
            indicators: IndicatorBank::new(instruments.len()),
            input,
            out,
            clock,
            telemetry,
            service,
            tick_to_signal,
            counts: Counts::default(),
            control: ControlPort::detached(),
            journal: JournalTap::off(),
            instruments: instruments.len(),
            filters: FilterChain::none(),
            regime: None,
            allocation: None,
            filtered_of: vec![[0; FilterRefusal::ALL.len()]; strategies_len],
            market_time: UnixNanos(0),
            error: None,
        };
        for &secs in bar_lengths {
            stage.add_bar_length(secs);
        }
        stage
    }

    /// The same stage keeping `indicators` (the bank the strategies requested from while
    /// they were built) and building the bar lengths it needs.
    ///
    /// # Panics
    /// If that makes more than [`MAX_BAR_LENGTHS`] distinct lengths.
    pub fn with_indicators(mut self, indicators: IndicatorBank) -> SignalStage {
        for secs in indicators.bar_lengths() {
            self.add_bar_length(secs);
        }
        self.indicators = indicators;
        self
    }

    fn add_bar_length(&mut self, secs: u32) {
        if self.bars.iter().any(|b| b.secs() == secs) {
            return;
        }
        assert!(
            self.bars.len() < MAX_BAR_LENGTHS,
            "at most {MAX_BAR_LENGTHS} bar lengths"
        );
        self.bars.push(BarBuilder::new(self.instruments, secs));
    }

    /// The same stage applying `filters` to every strategy's entries.
    pub fn with_filters(mut self, filters: FilterChain) -> SignalStage {
        self.filters = filters;
        self
    }

    /// The same stage tracking the market regime and gating strategies by it
    /// ([`build_market_regime`](super::market_regime::build_market_regime)); `None`
    /// leaves the stage without regimes. Builds the tracker's bar length.
    ///
    /// # Panics
    /// If that makes more than [`MAX_BAR_LENGTHS`] distinct lengths.
    pub fn with_regime(mut self, regime: Option<MarketRegime>) -> SignalStage {
        if let Some(regime) = &regime {
            self.add_bar_length(regime.tracker.bar_secs());
        }
        self.regime = regime;
        self
    }

    /// The same stage reviewing and scaling its strategies through `allocation`
    /// (see [`Allocator`]); `None` leaves every strategy at full weight.
    pub fn with_allocation(mut self, allocation: Option<Allocator>) -> SignalStage {
        self.allocation = allocation;
        self
    }

    /// The allocation, if the stage has one.
    pub fn allocation(&self) -> Option<&Allocator> {
        self.allocation.as_ref()
    }

    /// The regime tracker and gate, if the stage has them.
    pub fn regime(&self) -> Option<&MarketRegime> {
        self.regime.as_ref()
    }

    /// The same stage answering the control plane through `port`.
    pub fn with_control(mut self, port: ControlPort) -> SignalStage {
        self.control = port;
        self
    }

    /// The same stage journaling every signal it sends and every pause or resume it
    /// applies through `journal`.
    pub fn with_journal(mut self, journal: JournalTap) -> SignalStage {
        self.journal = journal;
        self
    }

    /// Pauses (true) or resumes (false) a strategy's entries; false when there is no
    /// such strategy.
    pub fn set_paused(&mut self, strategy: StrategyId, paused: bool) -> bool {
        match self.paused.get_mut(strategy.index()) {
            Some(flag) => {
                *flag = paused;
                true
            }
            None => false,
        }
    }

    /// True while `strategy`'s entries are suppressed.
    pub fn is_paused(&self, strategy: StrategyId) -> bool {
        self.paused.get(strategy.index()).copied().unwrap_or(false)
    }

    /// The names of the strategies, indexed by [`StrategyId`].
    pub fn strategy_names(&self) -> Vec<&'static str> {
        self.strategies.iter().map(|s| s.name()).collect()
    }

    /// Applies `command`, answering through the control port (an answer to a scheduled
    /// command is read by nobody and dropped).
    fn on_command(&mut self, command: ControlCommand) {
        self.counts.commands += 1;
        match command {
            ControlCommand::Status => {
                for i in 0..self.strategies.len() {
                    let id = StrategyId(i as u16);
                    self.reply_strategy(id, false);
                    if let Some(row) = self.allocation.as_ref().and_then(|a| a.status(id)) {
                        self.control.reply(row);
                    }
                }
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::News {
                instrument,
                sentiment_milli,
            } => {
                // An input like a tick: a resumed day puts it back where it was applied.
                self.journal
                    .record(self.market_time, &Record::Control(command));
                self.on_news(News {
                    exchange_ts: self.market_time,
                    ingress: self.clock.stamp(),
                    instrument,
                    sentiment_milli,
                });
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::Pause(id) | ControlCommand::Resume(id) => {
                let pause = matches!(command, ControlCommand::Pause(_));
                let was = self.is_paused(id);
                if !self.set_paused(id, pause) {
                    self.control
                        .reply(ControlReply::Refused(ControlRefusal::UnknownStrategy));
                    return;
                }
                self.reply_strategy(id, was != pause);
                self.control.reply(ControlReply::Done);
                if was != pause {
                    self.journal
                        .record(self.market_time, &Record::Control(command));
                    self.control.alert(Alert {
                        exchange_ts: self.market_time,
                        kind: if pause {
                            "strategy_paused"
                        } else {
                            "strategy_resumed"
                        },
                        instrument: None,
                        level: AlertLevel::Info,
                        state: TradingState::Active,
                        detail: self.strategies[id.index()].name(),
                    });
                }
            }
            other => {
                let counters = self.counters();
                let service = self.service.histogram();
                self.control
                    .reply_common(other, &[("service", service)], &counters);
            }
        }
    }

    fn subscriptions_len(&self) -> usize {
        self.instruments
    }

    fn reply_strategy(&mut self, id: StrategyId, changed: bool) {
        self.control.reply(ControlReply::Strategy {
            strategy: id,
            paused: self.is_paused(id),
            changed,
            signals: self.signals_of[id.index()],
            entries: self.entries_of[id.index()],
            suppressed: self.suppressed_of[id.index()],
        });
    }

    fn on_scheduled(&mut self, scheduled: ScheduledCommand) {
        self.market_time = scheduled.exchange_ts;
        if scheduled.command.is_for_signal() {
            // Nobody asked: the rows of the answer would be read as someone else's.
            self.control.set_answering(false);
            self.on_command(scheduled.command);
            self.control.set_answering(true);
        } else {
            self.out.push(RiskInput::Control(scheduled));
        }
    }

    fn counters(&self) -> [(&'static str, u64); 14] {
        let c = self.counts;
        let [journaled, journal_failures] = self.journal.counters();
        [
            ("ticks", c.ticks),
            ("news", c.news),
            ("bars", c.bars),
            ("signals", c.signals),
            ("suppressed", c.suppressed),
            ("filtered", c.filtered),
            ("overflow", self.batch.overflow()),
            ("unknown", c.unknown),
            ("ring_full", self.out.stalls()),
            ("commands", c.commands),
            ("alerts_dropped", self.control.alerts_dropped()),
            ("control_rows_dropped", self.control.stream_dropped()),
            journaled,
            journal_failures,
        ]
    }

    /// Always inlined into [`SignalStage::dispatch`], its one caller: as a call it cost
    /// about 16 instructions a tick of register saves and restores.
    #[inline(always)]
    fn on_tick(&mut self, tick: Tick) {
        if !self.subscriptions.knows(tick.instrument) {
            self.counts.unknown += 1;
            return;
        }
        self.counts.ticks += 1;
        self.market_time = tick.exchange_ts;
        self.out.push(RiskInput::Tick(tick));
        // Bars this tick closed, in the builders' order: each goes to the shared
        // indicators, then the filters (primary length only), then the strategies,
        // all before any strategy sees the tick itself.
        for b in 0..self.bars.len() {
            if let Some(bar) = self.bars[b].update(&tick) {
                self.on_bar(&bar, b == 0, tick.ingress);
            }
        }
        for id in each_watcher(self.batch.watch().watchers(tick.instrument)) {
            let mut ctx = self
                .batch
                .context(id, tick.exchange_ts, tick.ingress)
                .with_indicators(&self.indicators)
                .with_regime(self.regime.as_ref().map(|r| &r.tracker));
            self.strategies[id.index()].on_tick(&tick, &mut ctx);
        }
        self.send_signals();
    }

    /// A closed bar; `primary` when it is of the length the filters watch. Signals it
    /// causes carry the closing tick's market time (the bar's end) and ingress stamp.
    fn on_bar(&mut self, bar: &Bar, primary: bool, ingress: Stamp) {
        self.counts.bars += 1;
        self.indicators.on_bar(bar);
        if primary {
            self.filters.on_bar(bar);
        }
        if let Some(regime) = self.regime.as_mut() {
            regime.tracker.on_bar(bar);
        }
        for &id in self.subscriptions.of(bar.instrument) {
            let mut ctx = self
                .batch
                .context(id, self.market_time, ingress)
                .with_indicators(&self.indicators)
                .with_regime(self.regime.as_ref().map(|r| &r.tracker));
            self.strategies[id.index()].on_bar(bar, &mut ctx);
        }
    }

    fn on_news(&mut self, news: News) {
        if !self.subscriptions.knows(news.instrument) {
            self.counts.unknown += 1;
            return;
        }
        self.counts.news += 1;
        for &id in self.subscriptions.of(news.instrument) {
            let mut ctx = self
                .batch
                .context(id, news.exchange_ts, news.ingress)
                .with_indicators(&self.indicators)
                .with_regime(self.regime.as_ref().map(|r| &r.tracker));
            self.strategies[id.index()].on_news(&news, &mut ctx);
        }
        self.send_signals();
    }

    /// Moves the batch's signals to the outbox, dropping paused strategies' entries and
    /// those the regime gate or a filter refuses, and weighting the rest by regime.
    ///
    /// Most events yield no signal: that case is one inlined length check, and the
    /// filtering and counting stay out of the per-tick path.
    #[inline]
    fn send_signals(&mut self) {
        if !self.batch.signals().is_empty() {
            self.send_batch();
        }
    }

    #[inline(never)]
    fn send_batch(&mut self) {
        for signal in self.batch.signals() {
            let s = signal.strategy.index();
            if self.paused[s] && signal.direction != Direction::Flat {
                self.counts.suppressed += 1;
                self.suppressed_of[s] += 1;
                continue;
            }
            // The regime gate first (its weight rides on the signal), then the filters.
            let gated = match &self.regime {
                Some(regime) => regime.gate.check(signal, regime.tracker.state()),
                None => Ok(Signal::FULL_WEIGHT),
            };
            match gated.and_then(|weight| self.filters.check(signal).map(|()| weight)) {
                Err(refusal) => {
                    self.counts.filtered += 1;
                    self.filtered_of[s][refusal.slot()] += 1;
                }
                Ok(weight_pct) => {
                    let routed = match self.allocation.as_mut() {
                        Some(allocation) => allocation.route(signal, weight_pct),
                        None => Some(Signal {
                            weight_pct,
                            ..*signal
                        }),
                    };
                    let Some(routed) = routed else {
                        continue; // kept on paper: the strategy is in shadow
                    };
                    self.counts.signals += 1;
                    self.signals_of[s] += 1;
                    self.entries_of[s] += u64::from(routed.direction != Direction::Flat);
                    self.journal
                        .record(routed.exchange_ts, &Record::Signal(routed));
                    // Timed before the push, recorded after it: the histogram's bucket
                    // is cold when signals are rare, and is not the signal's business.
                    let since = (routed.ingress != Stamp(0))
                        .then(|| self.clock.nanos_since(routed.ingress));
                    self.out.push(RiskInput::Signal(routed));
                    if let Some(since) = since {
                        self.tick_to_signal.record(since);
                    }
                }
            }
        }
        self.batch.clear();
    }
}

impl SignalStage {
    /// Handles one market event. Always inlined into the poll loop: as a call it cost
    /// about 16 instructions a tick of register saves and restores, and a copy of the
    /// event.
    #[inline(always)]
    fn dispatch(&mut self, event: MarketEvent) {
        let start = self.service.start(&self.clock);
        match event {
            MarketEvent::Tick(tick) => self.on_tick(tick),
            MarketEvent::News(news) => self.on_news(news),
            MarketEvent::Control(scheduled) => self.on_scheduled(scheduled),
        }
        self.service.stop(&self.clock, start);
    }

    /// A review is under way: applies risk's answer once it is in and handles the
    /// event held back for it. `None` while the answer is still out (nothing may be
    /// read meanwhile); otherwise the events handled.
    #[cold]
    fn finish_review(&mut self) -> Option<usize> {
        let allocation = self.allocation.as_mut()?;
        match allocation.poll_answers(&mut self.control) {
            ReviewProgress::Waiting => return None,
            ReviewProgress::Idle | ReviewProgress::Complete | ReviewProgress::RiskGone => {}
        }
        let held = allocation.take_held()?;
        self.dispatch(held);
        Some(1)
    }
}

impl Stage for SignalStage {
    fn name(&self) -> &'static str {
        "signal"
    }

    fn poll(&mut self) -> Poll {
        if !self.out.flush() {
            if self.out.is_abandoned() {
                // Risk is gone (it stopped on a fatal error): nothing sent can be read.
                return Poll::Done;
            }
            return Poll::Idle;
        }
        let mut handled = 0;
        while handled < COMMANDS_PER_POLL {
            let Some(command) = self.control.take_command() else {
                break;
            };
            self.on_command(command);
            handled += 1;
        }
        if self.allocation.as_ref().is_some_and(Allocator::is_busy) {
            match self.finish_review() {
                Some(n) => handled += n,
                None if handled > 0 => return Poll::Work(handled),
                None => return Poll::Idle,
            }
        }
        while handled < EVENTS_PER_POLL && self.out.is_clear() {
            let Ok(event) = self.input.try_pop() else {
                break;
            };
            if let Some(allocation) = self.allocation.as_mut() {
                if allocation.is_due(event.exchange_ts()) {
                    // Risk must answer before this event is handled: see `Allocator`.
                    let request = allocation.begin(event);
                    self.out.push(RiskInput::Review(request));
                    handled += 1;
                    break;
                }
            }
            self.dispatch(event);
            handled += 1;
        }
        if self.out.overflowed() > 0 && self.error.is_none() {
            self.error = Some(StageError::fatal(
                "signal",
                "the outbox to risk overflowed and lost messages",
            ));
        }
        if handled > 0 {
            self.telemetry.signal.signals.set(self.counts.signals);
            return Poll::Work(handled);
        }
        if self.input.is_finished() && self.out.is_clear() {
            return Poll::Done;
        }
        Poll::Idle
    }

    fn finish(self: Box<Self>) -> StageReport {
        let mut report = StageReport::new("signal");
        report.counters = self.counters().to_vec();
        let closes = (0..self.subscriptions_len())
            .filter_map(|i| {
                let id = crate::model::InstrumentId(i as u32);
                self.bars[0].forming(id).map(|bar| (id, bar.close))
            })
            .collect();
        let regime = self.regime.as_ref().map(|r| {
            let t = &r.tracker;
            RegimeSummary {
                last: t
                    .label_now()
                    .map(|l| (l.to_owned(), (t.probability() * 1000.0).round() as u16)),
                bars: t.bars(),
                switches: t.switches(),
                bars_by_regime: t
                    .labels()
                    .iter()
                    .cloned()
                    .zip(t.bars_as_likeliest().iter().copied())
                    .collect(),
            }
        });
        let allocation = self.allocation.as_ref().map(Allocator::report);
        report.detail = Some(Box::new(SignalSummary {
            closes,
            regime,
            allocation,
            strategies: (0..self.strategies.len())
                .map(|i| StrategySignals {
                    name: self.strategies[i].name(),
                    signals: self.signals_of[i],
                    entries: self.entries_of[i],
                    suppressed: self.suppressed_of[i],
                    filtered: FilterRefusal::ALL
                        .iter()
                        .zip(self.filtered_of[i])
                        .filter(|(_, n)| *n > 0)
                        .map(|(r, n)| (r.0, n))
                        .collect(),
                    paused: self.paused[i],
                })
                .collect(),
        }));
        report.error = self.error;
        report.service = self.service.into_histogram();
        report.latencies = vec![("tick_to_signal", self.tick_to_signal)];
        report
    }
}

impl fmt::Debug for SignalStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalStage")
            .field("strategies", &self.strategy_names())
            .field("paused", &self.paused)
            .field(
                "bar_secs",
                &self.bars.iter().map(BarBuilder::secs).collect::<Vec<_>>(),
            )
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

/// The tick watches the stage starts with: each strategy watches the subscribed
/// instruments it [wants ticks of](Strategy::wants_ticks).
fn tick_watch(instruments: &InstrumentTable, strategies: &[Box<dyn Strategy>]) -> TickWatch {
    let table: Vec<_> = instruments.iter().collect();
    TickWatch::new(
        table.len(),
        strategies.len(),
        |i, s| strategies[s].subscribes(table[i]),
        |i, s| strategies[s].wants_ticks(table[i]),
    )
}

#[cfg(test)]
mod allocation_tests;
#[cfg(test)]
mod tests;
