//! The order stage: carries out approved intents through a gateway and reports back.
//!
//! **A resumed day at a live broker.** While a resumed day catches up, the risk stage
//! makes its intents again. A paper exchange rebuilds its book from them
//! ([`Gateway::rebuilds_from_replay`]); a broker holds the orders of the run before the
//! restart already, so an intent the journal shows made before the restart
//! ([`JournalTap::made_before`]) is not sent to it again. The stage answers such an
//! intent with the reports it journaled for it, in the journal's order (each checked
//! against the journal by the tap as any other). An intent whose journaled reports end
//! before its order ended (the engine stopped in between) is closed once the journaled
//! reports are used up. When the journal shows the broker working it then (a
//! [`Placement`](crate::journal::Placement) names each of its children and its reports
//! end with an acceptance or a part fill, see [`crate::order::takeover`]), the stage
//! takes it over: the desk holds it as working again, and the gateway follows the
//! broker's order under the same client id ([`Gateway::take_over`]), placing nothing.
//! Its fills from then on reach risk once each, it is cancelled at the end of the
//! session like any resting entry, and an exit's remainder policy works it. Otherwise
//! it is closed as cancelled with what it filled: the gateway no longer follows that
//! order, and its reconciliation at start and after reports what the broker did with
//! it (a position difference goes to risk, which applies `risk.reconcile`).
//!
//! A broker-side protective stop is no intent of risk's journal: the stage knows the
//! stops it journaled reports of, and answers risk's word about one of them
//! (`OrderInput::Protect`) from the journal the same way, never placing it again. A stop
//! the broker still works is taken over with its guard, and risk's latest word about it
//! while the day caught up is applied then: a trigger that moved by a step or more is
//! modified at the broker, a cancel is sent.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use tickpipe_ringbuf::Consumer;

use crate::{
    journal::{JournalTap, Record},
    metrics::{LatencyHistogram, Telemetry},
    model::{
        Alert, AlertLevel, ControlCommand, ControlReply, ExecKind, ExecReport, InstrumentId,
        InstrumentTable, IntentId, OrderInput, OrderIntent, OrderOutput, Price, ProtectStop, Qty,
        RejectReason, Stamp, TradeId, TradingState, UnixNanos,
    },
    order::{
        book::Order,
        config::OrderConfig,
        desk::{Desk, DryRun, Prepared, Taken},
        execution::{ExecutionSummary, LeftStop},
        gateway::Gateway,
        reject_storm::RejectStorm,
        takeover::{venue_order, working_at_restart, Working},
        venue::TakeOver,
    },
    runtime::{
        ControlPort, LatencyClock, Outbox, Poll, Rehearsal, ServiceTimer, Stage, StageError,
        StageReport, COMMANDS_PER_POLL,
    },
};

pub use crate::order::desk::RECENT_ORDERS;

/// Most input messages handled per `poll()`: twice the risk stage's batch, so a backlog
/// in the ring from it drains (see [`EVENTS_PER_POLL`](crate::signal::EVENTS_PER_POLL)).
const BATCH: usize = 512;

/// Most working orders one `orders` answer lists (the count is always exact).
pub const MAX_WORKING_ROWS: usize = 256;

/// Intents the book holds at once unless [`OrderSetup::capacity`] says otherwise. The
/// engine sizes the book as the risk stage's in-flight table, whose ids it mirrors.
pub const ORDER_BOOK_CAPACITY: usize = 4096;

/// How an [`OrderStage`] is sized and what it works by.
#[derive(Debug, Clone, Copy)]
pub struct OrderSetup<'a> {
    /// The `[order]` section.
    pub config: &'a OrderConfig,
    /// Intents live at once: the risk stage's in-flight table capacity (entries and the
    /// exit reserve), since the book stores orders under risk's slots.
    pub capacity: usize,
    /// Strategies, for the per-strategy execution metrics.
    pub strategies: usize,
}

/// One order as a control-plane row.
fn order_row(order: &Order, finished: bool) -> ControlReply {
    ControlReply::Order {
        intent: order.intent.id,
        exchange_ts: order.intent.exchange_ts,
        avg_price: order.avg_price(),
        instrument: order.intent.instrument,
        qty: order.intent.qty,
        filled: order.cum_qty,
        strategy: order.intent.strategy,
        side: order.intent.side,
        reason: order.intent.reason,
        state: order.state,
        finished,
    }
}

/// An order the journal shows working at the broker when the engine stopped, waiting
/// for risk to make its intent again (see the module doc).
#[derive(Debug)]
struct Pending {
    working: Working,
    /// The intent, once risk made it again (a protective stop's, from risk's first word
    /// about it).
    intent: Option<OrderIntent>,
    /// A protective stop: risk's latest word about it while the day caught up.
    protect: Option<ProtectStop>,
}

/// Stage 4: owns the live orders, sends each approved intent to the [`Gateway`], checks
/// every answer against the order state machine, and reports back to the risk stage.
///
/// Reads [`OrderInput`] from the risk stage: quotes go to the gateway (the paper
/// exchange fills against them), intents become orders. Just before an order goes to the
/// gateway (order-stage egress) it records the *tick-to-intent* latency, from the
/// ingress stamp of the tick that caused it, in the `tick_to_intent` histogram.
///
/// Everything is preallocated in [`OrderStage::new`]; `poll()` does not allocate.
pub struct OrderStage {
    input: Consumer<OrderInput>,
    gateway: Box<dyn Gateway>,
    desk: Desk,
    /// The algo id every order is tagged with (a broker gateway reads it from here).
    algo_id: String,
    clock: LatencyClock,
    telemetry: Arc<Telemetry>,
    service: ServiceTimer,
    tick_to_intent: LatencyHistogram,
    /// Ingress of the causing tick to the intent's arrival here: `tick_to_intent` less
    /// the order stage's own share (slicing, the queue, the rate limit, the request).
    tick_to_order_stage: LatencyHistogram,
    /// When an idle poll dry-runs a placement, and on which instrument next.
    rehearsal: Rehearsal,
    rehearse_at: u32,
    control: ControlPort,
    stop: Option<Arc<AtomicBool>>,
    /// Reports refused so far that an alert has told the operator about.
    refused_reports_alerted: u64,
    /// Intents refused for room (queue or book) that an alert has told about.
    throttled_alerted: u64,
    fatal_alerted: bool,
    /// Refusals already fed to the reject-storm watch.
    rejects_watched: u64,
    /// The reject-storm watch (`order.reject_storm_count` within `reject_storm_secs`).
    reject_storm: RejectStorm,
    /// The end of the session, once it came: market time then, and the clock's stamp.
    ended: Option<(UnixNanos, Stamp)>,
    /// Wall time the venue has after the end to confirm the entries' cancels
    /// (`order.end_cancel_secs`), in nanoseconds.
    end_cancel: u64,
    /// The venue let `end_cancel` pass with entries still working: they are left behind.
    left_behind: bool,
    /// Instrument symbols by id, to name what is left behind.
    symbols: Vec<String>,
    /// Intents made before a restart that a broker holds already, answered from the
    /// journal (see the module doc): the highest sequence of one received so far.
    answered_upto: u64,
    /// Those still open by their journaled reports: the last report of each (or a
    /// working one, when none was journaled).
    answered_open: Vec<ExecReport>,
    /// The protective stops the run ended with, resting at the venue (said once, as
    /// the stage finishes).
    left_stops: Option<Vec<LeftStop>>,
    /// The order path run on a desk of its own while idle (with rehearsals on).
    dry_run: Option<Box<DryRun>>,
    /// Orders the journal shows working at the broker when the engine stopped, to take
    /// over once their intents are answered from the journal (see the module doc).
    takeovers: Vec<Pending>,
    /// The protective stops the journal holds reports of, by sequence, each with
    /// whether risk has spoken of it again: answered from the journal while resuming.
    journaled_stops: Vec<(IntentId, bool)>,
}

impl std::fmt::Debug for OrderStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderStage")
            .field("gateway", &self.gateway.name())
            .field("live_orders", &self.desk.book.len())
            .finish_non_exhaustive()
    }
}

impl OrderStage {
    /// An order stage sending to `gateway`, reporting to risk through `reports`, sized
    /// and configured by `setup`. Everything `poll()` needs is allocated here.
    pub fn new(
        input: Consumer<OrderInput>,
        reports: Outbox<OrderOutput>,
        gateway: Box<dyn Gateway>,
        instruments: &InstrumentTable,
        setup: OrderSetup<'_>,
        clock: LatencyClock,
        telemetry: Arc<Telemetry>,
    ) -> OrderStage {
        let mut desk = Desk::new(
            instruments,
            setup.capacity,
            setup.strategies,
            setup.config,
            reports,
        );
        if !gateway.answers_in_market_time() {
            desk.metrics.time_by(clock.clone());
        }
        // Minimal when the clock is off (a backtest): nothing will be measured.
        let (service, tick_to_intent, tick_to_order_stage) = (
            ServiceTimer::for_clock(&clock),
            clock.histogram(),
            clock.histogram(),
        );
        OrderStage {
            input,
            gateway,
            desk,
            algo_id: setup.config.algo_id.clone(),
            clock,
            telemetry,
            service,
            tick_to_intent,
            tick_to_order_stage,
            rehearsal: Rehearsal::OFF,
            rehearse_at: 0,
            control: ControlPort::detached(),
            stop: None,
            refused_reports_alerted: 0,
            throttled_alerted: 0,
            fatal_alerted: false,
            rejects_watched: 0,
            reject_storm: RejectStorm::new(
                setup.config.reject_storm_count,
                setup.config.reject_storm_secs,
            ),
            ended: None,
            end_cancel: u64::from(setup.config.end_cancel_secs).saturating_mul(1_000_000_000),
            left_behind: false,
            symbols: instruments.iter().map(|i| i.symbol.clone()).collect(),
            answered_upto: 0,
            answered_open: Vec::new(),
            left_stops: None,
            dry_run: None,
            takeovers: Vec::new(),
            journaled_stops: Vec::new(),
        }
    }

    /// The algo id every order carries (`[order] algo_id`; empty: none).
    pub fn algo_id(&self) -> &str {
        &self.algo_id
    }

    /// The execution figures so far, per strategy.
    pub fn execution(&self) -> ExecutionSummary {
        self.desk.metrics.summary()
    }

    /// Tells the operator about errors: refused gateway reports (recoverable: counted,
    /// trading goes on) and a fatal disagreement with the gateway (the run stops).
    fn alert_errors(&mut self) {
        let c = self.desk.counters;
        // Refusals since the last poll, each at the market time of now (a poll's
        // handful share it): a storm is many within a window, so that is close enough.
        while self.rejects_watched < c.rejects {
            self.rejects_watched += 1;
            if self.reject_storm.note(self.desk.now) {
                self.control.alert(Alert {
                    exchange_ts: self.desk.now,
                    kind: "reject_storm",
                    instrument: None,
                    level: AlertLevel::Critical,
                    state: TradingState::Active,
                    detail: "order.reject_storm_count refusals within order.reject_storm_secs",
                });
            }
        }
        let refused = c.unknown_reports + c.invalid_reports;
        if refused > self.refused_reports_alerted {
            self.refused_reports_alerted = refused;
            self.control.alert(Alert {
                exchange_ts: UnixNanos(0),
                kind: "exec_report_refused",
                instrument: None,
                level: AlertLevel::Warning,
                state: TradingState::Active,
                detail: "a gateway report matched no live order or broke the order state machine; counted and dropped",
            });
        }
        let throttled = c.throttled + c.book_full;
        if throttled > self.throttled_alerted {
            self.throttled_alerted = throttled;
            self.control.alert(Alert {
                exchange_ts: self.desk.now,
                kind: "order_queue_full",
                instrument: None,
                level: AlertLevel::Warning,
                state: TradingState::Active,
                detail: "entries were refused as throttled: the rate-limit queue (order.queue_capacity) or the order book was full; exits are never refused",
            });
        }
        if let (Some(what), false) = (self.desk.error, self.fatal_alerted) {
            self.fatal_alerted = true;
            self.control.alert(Alert {
                exchange_ts: UnixNanos(0),
                kind: "fatal_error",
                instrument: None,
                level: AlertLevel::Critical,
                state: TradingState::Halted,
                detail: what,
            });
        }
    }

    /// The same stage journaling every report it sends risk through `journal`.
    pub fn with_journal(mut self, journal: JournalTap) -> OrderStage {
        if journal.replay_pending() > 0 || journal.made_before_any() {
            // Room for every intent the book can hold to be open at once, so answering
            // from the journal never allocates in `poll`.
            self.answered_open.reserve(self.desk.book.capacity());
        }
        if journal.replay_pending() > 0 && !self.gateway.rebuilds_from_replay() {
            self.takeovers = working_at_restart(journal.pending())
                .into_iter()
                .map(|working| Pending {
                    working,
                    intent: None,
                    protect: None,
                })
                .collect();
            let mut stops: Vec<IntentId> = journal
                .pending()
                .iter()
                .filter_map(|(_, r)| match r {
                    Record::Exec(e) if !journal.made_before(e.intent) => Some(e.intent),
                    _ => None,
                })
                .collect();
            stops.sort_unstable_by_key(|id| id.sequence());
            stops.dedup();
            self.journaled_stops = stops.into_iter().map(|id| (id, false)).collect();
        }
        self.desk.journal = journal;
        self
    }

    /// The same stage answering the control plane through `port`.
    pub fn with_control(mut self, port: ControlPort) -> OrderStage {
        self.control = port;
        self
    }

    /// The same stage rehearsing a placement in idle polls as `rehearsal` says: a read
    /// of the desk's data (`Desk::rehearse`) and a dry run of the order path on a desk
    /// of its own (`order::desk::DryRun`).
    pub fn with_rehearsal(mut self, rehearsal: Rehearsal) -> OrderStage {
        self.rehearsal = rehearsal;
        self.dry_run = rehearsal.is_on().then(|| Box::new(DryRun::new(&self.desk)));
        self
    }

    /// The same stage setting `stop` when it meets a fatal error, so the whole run ends.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> OrderStage {
        self.stop = Some(stop);
        self
    }

    fn on_command(&mut self, command: ControlCommand) {
        match command {
            ControlCommand::Status => {
                self.reply_counts();
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::Orders => {
                for order in self.desk.book.iter().take(MAX_WORKING_ROWS) {
                    self.control.reply(order_row(order, false));
                }
                for order in self.desk.recent.iter() {
                    self.control.reply(order_row(order, true));
                }
                self.reply_counts();
                self.control.reply(ControlReply::Done);
            }
            other => {
                let counters = self.counter_list();
                let latencies = [
                    ("service", self.service.histogram()),
                    ("tick_to_intent", &self.tick_to_intent),
                ];
                self.control.reply_common(other, &latencies, &counters);
            }
        }
    }

    fn reply_counts(&mut self) {
        let c = self.desk.counters;
        self.control.reply(ControlReply::Orders {
            sent: c.orders,
            fills: c.fills,
            rejects: c.rejects,
            working: self.desk.book.len() as u32,
        });
    }

    fn counter_list(&self) -> [(&'static str, u64); 35] {
        let c = self.desk.counters;
        let [journaled, journal_failures] = self.desk.journal.counters();
        [
            ("quotes", c.quotes),
            ("intents", c.intents),
            ("orders", c.orders),
            ("fills", c.fills),
            ("rejects", c.rejects),
            ("ring_full", self.desk.out.stalls()),
            ("unknown_reports", c.unknown_reports),
            ("invalid_reports", c.invalid_reports),
            ("duplicate_fills", c.duplicate_fills),
            ("late_acks", c.late_acks),
            ("sliced", c.sliced),
            ("retries", c.retries),
            ("modifications", c.modifications),
            ("cancels", c.cancels),
            ("replaced", c.replaced),
            ("throttled", c.throttled),
            ("book_full", c.book_full),
            ("rate_waits", self.desk.rate.refused()),
            ("queued", self.desk.queue.len() as u64),
            ("live_orders", self.desk.book.len() as u64),
            ("unmeasured", self.desk.metrics.unmeasured()),
            ("alerts_dropped", self.control.alerts_dropped()),
            ("control_rows_dropped", self.control.stream_dropped()),
            ("book_capacity", self.desk.book.capacity() as u64),
            ("protect_placed", c.protect_placed),
            ("protect_modified", c.protect_modified),
            ("protect_replaced", c.protect_replaced),
            ("protect_cancelled", c.protect_cancelled),
            ("protect_triggered", c.protect_triggered),
            ("protect_expired", c.protect_expired),
            ("protect_left", c.protect_left),
            ("exits_reduced", c.exits_reduced),
            ("taken_over", c.taken_over),
            journaled,
            journal_failures,
        ]
    }

    /// Live orders.
    pub fn live_orders(&self) -> usize {
        self.desk.book.len()
    }

    /// A dry run of a placement on the next instrument: the desk's data read
    /// ([`Desk::rehearse`]), the order path run on the dry run's desk ([`DryRun`]).
    #[inline(never)]
    fn rehearse(&mut self) {
        let instruments = self.desk.instruments() as u32;
        if instruments == 0 {
            return;
        }
        self.rehearse_at = (self.rehearse_at + 1) % instruments;
        let instrument = InstrumentId(self.rehearse_at);
        std::hint::black_box(self.desk.rehearse(instrument));
        if let Some(dry_run) = &mut self.dry_run {
            std::hint::black_box(dry_run.run(&self.desk, instrument));
        }
    }

    fn on_intent(&mut self, intent: &OrderIntent) {
        self.desk.advance(intent.exchange_ts);
        if self.desk.journal.made_before(intent.id) && !self.gateway.rebuilds_from_replay() {
            self.answer_from_journal(intent);
            return;
        }
        self.desk.on_intent(intent);
    }

    /// An intent made before the restart that the broker holds already: answered with
    /// its journaled reports, never sent again (see the module doc). Cold: only while a
    /// resumed day catches up.
    #[cold]
    #[inline(never)]
    fn answer_from_journal(&mut self, intent: &OrderIntent) {
        self.answered_upto = self.answered_upto.max(intent.id.sequence());
        if let Some(t) = self
            .takeovers
            .iter_mut()
            .find(|t| t.working.intent == intent.id)
        {
            t.intent = Some(*intent);
        }
        if self.answered_open.len() < self.answered_open.capacity() {
            self.answered_open.push(ExecReport {
                intent: intent.id,
                exchange_ts: intent.exchange_ts,
                ingress: Stamp(0),
                last_price: Price::ZERO,
                instrument: intent.instrument,
                last_qty: Qty::ZERO,
                cum_qty: Qty::ZERO,
                leaves_qty: intent.qty,
                strategy: intent.strategy,
                side: intent.side,
                kind: ExecKind::Accepted,
                reject: RejectReason::None,
                trade: TradeId(0),
            });
        }
        self.release_journaled();
    }

    /// Sends risk the journaled reports of the intents answered from the journal, in
    /// the journal's order, up to the first of an intent not received yet; once the
    /// journaled reports are used up, closes those still open (see the module doc).
    #[cold]
    #[inline(never)]
    fn release_journaled(&mut self) {
        while self.desk.out.is_clear() {
            let report = match self.desk.journal.next_pending() {
                Some(&(ts, Record::Placed(placed))) => {
                    // A broker's order id: made again (checked), nothing to tell risk.
                    if placed.order.intent().sequence() > self.answered_upto {
                        return;
                    }
                    self.desk.journal.record(ts, &Record::Placed(placed));
                    continue;
                }
                Some(&(ts, Record::Exec(report))) => (ts, report),
                _ => break,
            };
            let (ts, report) = report;
            if report.intent.sequence() > self.answered_upto {
                return;
            }
            self.desk.journal.record(ts, &Record::Exec(report));
            self.desk.out.push(OrderOutput::Report(report));
            if let Some(i) = self
                .answered_open
                .iter()
                .position(|r| r.intent == report.intent)
            {
                if report.kind.is_terminal() {
                    self.answered_open.swap_remove(i);
                } else {
                    self.answered_open[i] = report;
                }
            }
        }
        if self.desk.journal.replay_pending() > 0 {
            return;
        }
        while self.desk.out.is_clear() {
            let Some(last) = self.answered_open.pop() else {
                break;
            };
            if self.take_over(last.intent) {
                continue;
            }
            let closed = ExecReport {
                exchange_ts: self.desk.now.max(last.exchange_ts),
                last_price: Price::ZERO,
                last_qty: Qty::ZERO,
                leaves_qty: Qty::ZERO,
                kind: ExecKind::Cancelled,
                trade: TradeId(0),
                ..last
            };
            self.desk
                .journal
                .record(closed.exchange_ts, &Record::Exec(closed));
            self.desk.out.push(OrderOutput::Report(closed));
        }
    }

    /// Risk's word about a protective stop the journal holds reports of, while the day
    /// catches up: answered from the journal like an intent made before the restart
    /// (see the module doc), the latest word kept for the takeover. False when the
    /// stop is not one of them, or the desk works it again (taken over): the desk
    /// takes the word. Cold: only while a resumed day catches up.
    #[cold]
    #[inline(never)]
    fn protect_from_journal(&mut self, p: &ProtectStop) -> bool {
        let Ok(k) = self
            .journaled_stops
            .binary_search_by_key(&p.intent.sequence(), |(id, _)| id.sequence())
        else {
            return false;
        };
        if self.desk.book.get(p.intent).is_some() {
            return false;
        }
        let first = !self.journaled_stops[k].1;
        let pending = self
            .takeovers
            .iter_mut()
            .find(|t| t.working.intent == p.intent);
        match &pending {
            // Taken over (and ended since, or it would be in the book): the desk owns it.
            Some(t) if !first && t.intent.is_none() => return false,
            // Ended by its journaled reports, or closed: answered from the journal while
            // it lasts; after that the desk takes the word as it took it then.
            None if !first => return self.desk.journal.replay_pending() > 0,
            _ => {}
        }
        if let Some(t) = pending {
            if first {
                t.intent = Some(p.intent(t.working.children[0].0.trigger));
            }
            t.protect = Some(*p);
        }
        if first {
            self.journaled_stops[k].1 = true;
            self.answered_upto = self.answered_upto.max(p.intent.sequence());
            if self.answered_open.len() < self.answered_open.capacity() {
                self.answered_open.push(ExecReport {
                    intent: p.intent,
                    exchange_ts: p.exchange_ts,
                    ingress: Stamp(0),
                    last_price: Price::ZERO,
                    instrument: p.instrument,
                    last_qty: Qty::ZERO,
                    cum_qty: Qty::ZERO,
                    leaves_qty: p.qty,
                    strategy: p.strategy,
                    side: p.side,
                    kind: ExecKind::Accepted,
                    reject: RejectReason::None,
                    trade: TradeId(0),
                });
            }
        }
        self.release_journaled();
        true
    }

    /// Takes over intent `id`, still open when its journaled reports ran out, when the
    /// journal shows the broker working it (see the module doc): the desk holds it as
    /// working, the gateway follows each child, and a protective stop gets risk's latest
    /// word. False when there is nothing to take over (the caller closes the intent).
    #[cold]
    #[inline(never)]
    fn take_over(&mut self, id: IntentId) -> bool {
        let Some(k) = self.takeovers.iter().position(|t| t.working.intent == id) else {
            return false;
        };
        let Some(intent) = self.takeovers[k].intent else {
            return false;
        };
        let protect = self.takeovers[k].protect;
        let working = &self.takeovers[k].working;
        if !self.desk.take_over(&intent, protect.is_some(), working) {
            tracing::warn!(
                intent = id.sequence(),
                "resuming the day: an order the broker works could not be taken over; \
                 closed as cancelled, reconciliation reports the broker's order"
            );
            return false;
        }
        let avg_price = working.avg_price();
        let children: Vec<TakeOver> = working
            .children
            .iter()
            .map(|(p, filled)| TakeOver {
                order: venue_order(p),
                venue_id: p.venue_id,
                filled: *filled,
                avg_price,
            })
            .collect();
        // Taken: the intent field says so to `protect_from_journal`.
        self.takeovers[k].intent = None;
        let desk = &mut self.desk;
        for child in &children {
            self.gateway.take_over(child, &mut |r| desk.route(r));
        }
        if let Some(latest) = protect {
            self.desk.on_protect(&latest);
        }
        true
    }

    /// Sends what the queue holds, oldest exit first, while the rate limit and the
    /// outbox to risk allow; fires due timers first. Requests that no longer apply are
    /// dropped without using the rate limit.
    ///
    /// Called after every input; on almost every quote no timer is due and nothing
    /// waits, which is one inlined check here, while the loop stays out of line (the
    /// call alone cost about 20 instructions a tick).
    #[inline]
    fn pump(&mut self) -> usize {
        if self.desk.nothing_to_send() {
            return 0;
        }
        self.pump_queue()
    }

    /// [`OrderStage::pump`] once a timer is due or a request waits.
    #[inline(never)]
    fn pump_queue(&mut self) -> usize {
        self.desk.run_timers();
        let mut sent = 0;
        while self.desk.out.is_clear() && self.desk.error.is_none() {
            let (action, request) = match self.desk.take_request() {
                Taken::Nothing => break,
                Taken::Skipped => continue,
                Taken::Request(action, request) => (action, request),
            };
            let desk = &mut self.desk;
            match request {
                Prepared::Submit(order) => {
                    let since = desk
                        .book
                        .get(action.intent)
                        .map(|o| o.intent.ingress)
                        .filter(|&ingress| order.id.child() == 0 && ingress != Stamp(0))
                        .map(|ingress| self.clock.nanos_since(ingress));
                    self.gateway.submit(&order, &mut |r| desk.route(r));
                    if let Some(since) = since {
                        self.tick_to_intent.record(since);
                    }
                }
                Prepared::Modify(id, amend) => {
                    self.gateway.modify(id, &amend, &mut |r| desk.route(r));
                }
                Prepared::Cancel(id) => self.gateway.cancel(id, &mut |r| desk.route(r)),
            }
            sent += 1;
        }
        sent
    }

    fn read_inputs(&mut self) -> usize {
        let mut n = 0;
        while n < BATCH && self.desk.out.is_clear() && self.desk.error.is_none() {
            let Ok(input) = self.input.try_pop() else {
                break;
            };
            let start = self.service.start(&self.clock);
            match input {
                OrderInput::Quote(tick) => {
                    self.desk.counters.quotes += 1;
                    self.desk.advance(tick.exchange_ts);
                    self.desk
                        .on_quote(tick.instrument.index(), tick.bid, tick.ask);
                    let desk = &mut self.desk;
                    self.gateway.on_quote(&tick, &mut |r| desk.route(r));
                    self.pump();
                }
                OrderInput::Intent(approved) => {
                    // Timed on arrival, recorded once the intent is sent: the histogram
                    // is cold when intents are rare and the request need not wait for it.
                    let ingress = approved.intent().ingress;
                    let since = (ingress != Stamp(0)).then(|| self.clock.nanos_since(ingress));
                    self.on_intent(approved.intent());
                    self.pump();
                    if let Some(since) = since {
                        self.tick_to_order_stage.record(since);
                    }
                }
                OrderInput::Sync(now) => {
                    self.desk.advance(now);
                    let desk = &mut self.desk;
                    self.gateway.advance(now, &mut |r| desk.route(r));
                    self.pump();
                    self.desk.out.push(OrderOutput::Synced(now));
                }
                OrderInput::EndSession(now) => {
                    self.desk.advance(now);
                    self.end_session();
                    // After the answers the end gave (a paper exchange's expiries): risk
                    // then knows every order the end ended, and that the rest is
                    // worked on, or rests at the venue by design (protective stops).
                    self.desk.out.push(OrderOutput::Synced(self.desk.now));
                }
                OrderInput::Protect(protect) => {
                    if self.journaled_stops.is_empty() || !self.protect_from_journal(&protect) {
                        self.desk.on_protect(&protect);
                    }
                    self.pump();
                }
            }
            self.service.stop(&self.clock, start);
            n += 1;
        }
        n
    }

    /// Tells the gateway the session is over, once, ends what never reached it, and
    /// cancels the entries a broker still works ([`Desk::end_session`]).
    fn end_session(&mut self) {
        if self.desk.session_ended {
            return;
        }
        self.desk.session_ended = true;
        let desk = &mut self.desk;
        self.gateway.end_session(desk.now, &mut |r| desk.route(r));
        // A broker keeps its orders after the session; a paper exchange ended them.
        self.desk.end_session(!self.gateway.rebuilds_from_replay());
        self.ended = Some((self.desk.now, self.clock.stamp()));
    }

    /// After the session, while orders are still live (only at a broker: a paper
    /// exchange ended them all): market time no longer moves, so the desk's time follows
    /// the wall clock from the end. The broker's rate limits run in real time, and the
    /// cancels at the end must pass them.
    #[cold]
    #[inline(never)]
    fn follow_wall_clock(&mut self) {
        if let Some((market, stamp)) = self.ended {
            let since = self.clock.nanos_since(stamp);
            self.desk.advance(UnixNanos(market.0.saturating_add(since)));
        }
    }

    /// True when the stage may finish with orders live: the venue let
    /// `order.end_cancel_secs` of wall time pass after the end without confirming the
    /// entries' cancels (a critical `end_cancel_timeout` alert says so, once), and only
    /// those entries are left, besides protective stops at rest (which are left, see
    /// [`OrderStage::leave_stops`]). Exits are worked on until done.
    #[cold]
    #[inline(never)]
    fn end_overdue(&mut self) -> bool {
        let Some((_, stamp)) = self.ended else {
            return false;
        };
        if !self.left_behind {
            if !self.desk.entries_live() || self.clock.nanos_since(stamp) < self.end_cancel {
                return false;
            }
            self.left_behind = true;
            self.control.alert(Alert {
                exchange_ts: self.desk.now,
                kind: "end_cancel_timeout",
                instrument: None,
                level: AlertLevel::Critical,
                state: TradingState::Active,
                detail: "entries still work at the broker order.end_cancel_secs after the \
                         session ended: the run ends without their final answers; cancel \
                         them at the broker",
            });
            for row in self.left_working() {
                tracing::error!(order = row.as_str(), "left working at the broker");
            }
        }
        self.desk.only_entries_or_resting_stops()
    }

    /// The run ends with protective stops resting at the venue (the risk stage left
    /// their positions open: `risk.on_shutdown = "leave"`, or exits that did not fill):
    /// they stay there, so the positions stay protected after the engine is gone. Each
    /// is counted (`protect_left`), named in a log line with the venue's order id, and
    /// told to the control plane as a warning (`protective_stop_left`), once; the
    /// summary lists them. Cold: the end of a run.
    #[cold]
    #[inline(never)]
    fn leave_stops(&mut self) {
        if self.left_stops.is_some() {
            return;
        }
        let mut left = Vec::new();
        for stop in self.desk.resting_stops() {
            let i = stop.instrument.index();
            let row = LeftStop {
                instrument: stop.instrument,
                symbol: self.symbols.get(i).cloned().unwrap_or_default(),
                side: stop.side,
                qty: stop.qty,
                trigger: stop.trigger,
                venue_order_id: self.gateway.venue_order_id(stop.order),
            };
            tracing::warn!(
                instrument = row.symbol.as_str(),
                side = ?row.side,
                units = row.qty.get(),
                trigger = %row.trigger,
                order_id = row.venue_order_id.as_deref().unwrap_or("unknown"),
                "protective stop left resting at the broker: it still guards the \
                 position; cancel it there once the position is closed"
            );
            self.control.alert(Alert {
                exchange_ts: self.desk.now,
                kind: "protective_stop_left",
                instrument: Some(stop.instrument),
                level: AlertLevel::Warning,
                state: TradingState::Active,
                detail: "the run ended with this position's protective stop (SL-M) resting \
                         at the broker; cancel it there once the position is closed",
            });
            left.push(row);
        }
        self.desk.counters.protect_left = left.len() as u64;
        self.left_stops = Some(left);
    }

    /// Each live order but the protective stops (named apart, see
    /// [`OrderStage::leave_stops`]), one line: intent, instrument, side, units filled of
    /// the intent's. Off the hot path (the end of a run).
    fn left_working(&self) -> Vec<String> {
        self.desk
            .book
            .iter()
            .filter(|o| !o.protective)
            .map(|o| {
                let i = o.intent.instrument.index();
                format!(
                    "intent {} {} {:?} {}/{} filled",
                    o.intent.id.sequence(),
                    self.symbols.get(i).map_or("?", String::as_str),
                    o.intent.side,
                    o.cum_qty.get(),
                    o.intent.qty.get(),
                )
            })
            .collect()
    }

    fn publish(&self) {
        let gauges = &self.telemetry.order;
        gauges.orders.set(self.desk.counters.orders);
        gauges.fills.set(self.desk.counters.fills);
    }
}

impl Stage for OrderStage {
    fn name(&self) -> &'static str {
        "order"
    }

    fn poll(&mut self) -> Poll {
        for _ in 0..COMMANDS_PER_POLL {
            let Some(command) = self.control.take_command() else {
                break;
            };
            self.on_command(command);
        }
        if self.desk.out.overflowed() > 0 {
            self.desk
                .error
                .get_or_insert("the outbox to risk overflowed and lost an execution report");
        }
        self.alert_errors();
        if self.desk.error.is_some() {
            if let Some(stop) = &self.stop {
                // Relaxed: the flag carries no data (the feed polls it).
                stop.store(true, Ordering::Relaxed);
            }
        }
        if !self.desk.out.flush() {
            return Poll::Idle;
        }
        if self.desk.error.is_some() {
            // Fail-stop: with the book and the venue in disagreement, sending more orders
            // would trade on a wrong picture.
            return Poll::Done;
        }
        if self.desk.session_ended && !self.desk.book.is_empty() {
            self.follow_wall_clock();
        }
        let desk = &mut self.desk;
        let mut work = self.gateway.poll(&mut |r| desk.route(r));
        let control = &mut self.control;
        self.gateway.alerts(&mut |a| control.alert(a));
        let out = &mut self.desk.out;
        self.gateway
            .broker_notices(&mut |n| out.push(OrderOutput::Broker(n)));
        if self.desk.has_pending() {
            work += self.pump();
        }
        if self.answered_upto > 0 && !self.answered_open.is_empty() {
            // Journaled reports the outbox had no room for at the intent's arrival.
            self.release_journaled();
        }
        work += self.read_inputs();
        if work > 0 {
            self.publish();
            return Poll::Work(work);
        }
        if self.rehearsal.due(&self.clock) {
            self.rehearse();
        }
        if self.input.is_finished() {
            if !self.desk.session_ended {
                // Nothing more will come: the venue ends the session (a paper exchange
                // expires what still works) and the answers go back to risk.
                self.end_session();
                return Poll::Work(1);
            }
            if self.desk.book.is_empty() {
                return Poll::Done;
            }
            if self.desk.session_ended && self.desk.only_resting_stops() {
                // Risk has finished: what rests at the venue is left there.
                self.leave_stops();
                return Poll::Done;
            }
        }
        if self.desk.session_ended && !self.desk.book.is_empty() && self.end_overdue() {
            // Risk waits for answers that will not come now: it sees the stage gone.
            self.leave_stops();
            return Poll::Done;
        }
        Poll::Idle
    }

    fn finish(self: Box<Self>) -> StageReport {
        let mut stage = *self;
        let left_stops = stage.left_stops.take().unwrap_or_default();
        // The entries left behind, unless the venue ended them after all.
        let left_working = (stage.left_behind && stage.desk.entries_live())
            .then(|| stage.left_working().join("; "));
        let mut report = StageReport::new("order");
        report.counters = stage.counter_list().to_vec();
        report.service = stage.service.into_histogram();
        report.latencies = vec![
            ("tick_to_order_stage", stage.tick_to_order_stage),
            ("tick_to_intent", stage.tick_to_intent),
        ];
        let mut summary = stage.desk.metrics.summary();
        summary.protective_left = left_stops;
        report.detail = Some(Box::new(summary));
        report.error = stage
            .desk
            .error
            .map(|what| StageError::fatal("order", what));
        if let (Some(orders), None) = (left_working, &report.error) {
            report.error = Some(
                StageError::fatal(
                    "order",
                    "entries still worked at the broker order.end_cancel_secs after the session \
                     ended; cancel them at the broker",
                )
                .with_detail(orders),
            );
        }
        report
    }
}

#[cfg(test)]
mod tests;
