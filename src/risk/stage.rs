//! The risk stage: turns signals into sized intents, books fills, and closes positions
//! at their stops and at the daily square-off.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use tickpipe_ringbuf::Consumer;

use crate::{
    charges::{ChargeBreakdown, Charger, OrderCharges},
    journal::{Adoption, DailyMark, JournalTap, LimitChange, Record, RiskStateChange},
    metrics::{LatencyHistogram, Telemetry},
    model::{
        Alert, AlertLevel, BrokerNotice, ControlCommand, ControlRefusal, ControlReply, Direction,
        ExecKind, ExecReport, InstrumentId, InstrumentKind, InstrumentTable, IntentId,
        IntentReason, LimitKey, Money, OrderInput, OrderIntent, OrderOutput, Price, ProtectStop,
        Qty, RiskInput, ScheduledCommand, Side, Signal, Stamp, StateReason, StrategyId, Tick,
        TradingState, UnixNanos, ValueError,
    },
    risk::{
        approved::RiskApproved,
        book::Book,
        check::{CheckChain, CheckContext, OneOrderAtATime, Ownership, Proposal, RiskCheck},
        config::{FatalPolicy, RiskConfig, SizingBasis},
        exit::{
            ist_day_and_time, mismatch, reconcile, BrokerPosition, EmergencyConfig, ExitDesk,
            HaltExits, Mismatch, ReconcilePolicy, ShutdownPolicy, SquareOff, SquareOffDue,
            TimeStops,
        },
        in_flight::{InFlight, InFlightTable},
        limits::{round_limit, DayEvent, LimitState, Quote, RiskEvents, StateChange},
        position::Position,
        protect::{Protection, Wanted},
        refusals::{Refusal, RefusalCounts},
        review::ReviewDesk,
        summary::{FillRecord, RiskEventSummary, TradingSummary},
    },
    runtime::{
        ControlPort, LatencyClock, Outbox, Poll, Rehearsal, ServiceTimer, Stage, StageError,
        StageReport, COMMANDS_PER_POLL,
    },
};

/// Most messages of one kind (inputs, or exec reports) handled per `poll()`: twice the
/// signal stage's batch, so a backlog in the ring from it drains (see
/// [`EVENTS_PER_POLL`](crate::signal::EVENTS_PER_POLL)).
const BATCH: usize = 256;

/// Most exits the stage sends at once of its own (a flatten, the square-off queue)
/// before it syncs with the order stage. A fixed count, never "while the ring has room":
/// how full the ring is depends on how far the order stage has read, so a batch cut
/// there would take the rest after the answers to the first part were booked on one
/// thread layout and before them on another, and give their exits other in-flight slots
/// (other intent ids). Sixteen exits fit the outbox's stash, with room to spare, when
/// the ring is full.
const EXITS_PER_BATCH: usize = 16;

/// What the stage counts, reported by [`Stage::finish`].
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    marks: u64,
    signals: u64,
    intents: u64,
    fills: u64,
    reports: u64,
    unknown_reports: u64,
    bad_ticks: u64,
    exits_deferred: u64,
    exits_held_by_halt: u64,
    scale_ins: u64,
    scale_ins_refused: u64,
    commands: u64,
    manual_exits: u64,
}

/// The risk stage's error when the order stage ended while orders were still in flight
/// or positions open. It only echoes the order stage's own error, when that has one:
/// [`RunReport::error`](crate::engine::RunReport::error) reports that one instead.
pub const ORDER_STAGE_GONE: &str = "the order stage stopped before the risk stage";

/// Stage 3: the single owner of positions, P&L and limits.
///
/// Reads [`RiskInput`] from the signal stage and [`ExecReport`]s from the order stage,
/// and writes [`OrderInput`] to the order stage: every tick as a
/// [`OrderInput::Quote`], and before any intent that tick causes; every approved order as
/// an [`OrderInput::Intent`].
///
/// - A signal to `Long`/`Short` when flat is an entry; `Flat` when holding is an exit; the
///   opposite direction when holding is an exit then an entry. Each order passes the
///   [`CheckChain`] (halted, entry window, ownership, one order at a time, risk sizing,
///   exposure cap); a refusal is counted by reason.
/// - A tick moves the mark; a long whose mark falls to its stop (a short whose mark
///   rises to it) is closed at market. At the square-off time every open position is
///   closed at market.
/// - Fills update the position (average price, realised P&L, reversal) and pay their
///   charges ([`RiskStage::with_charges`]; brokerage once per order however it fills);
///   the final report of an intent releases its exposure reservation.
/// - Sizing and the exposure cap are percentages of equity (capital + realised P&L net
///   of charges + unrealised P&L) or of the fixed capital, by `risk.sizing_basis`.
///
/// **Control.** Between events the stage answers the control plane from its own state
/// (`Status`, `Positions`, `Pnl`, `Limits`, `Latency`, `Counters`) and carries out
/// `Close`, `Flatten`, `SetState` (halt, reduce-only, active) and `SetLimit`. The same
/// commands scheduled at a market time arrive in the input stream
/// ([`RiskInput::Control`]) and are applied at exactly that point; so is the feed
/// stage's [`ControlCommand::FeedStale`], which refuses every entry while the whole feed
/// is stale (journaled like the operator's commands, so a resumed day replays it at the
/// same place). Every booked fill and every change of trading state is also said
/// unasked on the control port, for `subscribe fills` and `subscribe alerts`.
///
/// **Broker reconciliation.** A broker's position that differs from the book (a live
/// gateway's [`BrokerNotice`], or [`RiskStage::reconcile`]) is alerted and, under
/// `risk.reconcile` = `adopt` or `flatten`, taken into the book. The book then holds
/// something no fill brought, so each adoption is journaled ([`Adoption`]: the broker's
/// units and average, the book's before, the market time), and a resumed day applies it
/// again at the same point of the replay (see [`RiskStage::with_journal`]); a broker's
/// halt is journaled as the operator's `halt`.
///
/// **Trading state.** [`TradingState::Active`] trades normally; `Reducing` refuses
/// entries but acts on strategies' exits; `Halted` refuses every strategy signal. The
/// stage's own exits (stops, square-off), `close` and `flatten` flow in every state.
///
/// **Fatal errors** (its arithmetic overflowed, its outbox lost a message): the stage
/// halts, applies [`RiskConfig::on_fatal`] (by default it flattens every open position),
/// asks the run to stop, and reports the error when it finishes.
///
/// **Market-time sync.** With `market_sync` set (paper and backtest runs), after any
/// input that leaves orders out the stage sends [`OrderInput::Sync`] with the market time
/// and reads no further input until the order stage answers
/// [`OrderOutput::Synced`]. The paper exchange answers
/// in market time, so by then every answer due by that instant has been booked: each
/// decision sees exactly the fills that happened before it in market time, and the trades
/// are the same whatever thread layout runs the stages. Live, orders are answered when
/// the broker answers and the stage never waits.
///
/// Latencies reported: `tick_to_risk`, from each tick's ingress stamp to the end of its
/// handling here (every tick gets a sample, so its tail is measurable even on a day with
/// few orders).
///
/// Everything is preallocated in [`RiskStage::new`]; `poll()` does not allocate.
pub struct RiskStage {
    input: Consumer<RiskInput>,
    reports: Consumer<OrderOutput>,
    out: Outbox<OrderInput>,
    clock: LatencyClock,
    telemetry: Arc<Telemetry>,
    market_sync: bool,
    /// A [`OrderInput::Sync`] is out and its answer has not come back.
    awaiting_sync: bool,
    /// Market time of the last [`OrderInput::Sync`] sent.
    synced_to: UnixNanos,
    /// Something went to the order stage after the last [`OrderInput::Sync`]: a quote
    /// or an order may have made new answers due, so the next sync is not a repeat.
    sent_since_sync: bool,
    /// [`OrderInput::EndSession`] has been sent.
    session_ended: bool,
    /// The order stage answered [`OrderInput::EndSession`] (with
    /// [`OrderOutput::Synced`], after the reports the end gave): what is still in
    /// flight now is worked on at the venue, or rests there by design.
    end_answered: bool,
    /// Equity may have moved without an open position's mark moving (a fill, its
    /// charges, a new capital): the next tick hands it to the day guard whatever it marks.
    equity_moved: bool,
    /// Units per lot per instrument; zero for instruments that cannot be traded.
    lots: Vec<u32>,
    strategy_count: usize,
    book: Book,
    checks: CheckChain,
    in_flight: InFlightTable,
    square_off: SquareOff,
    /// The day's fills, preallocated to `fill_log_limit`.
    fills: Vec<FillRecord>,
    fill_log_limit: usize,
    fills_not_logged: u64,
    refusals: RefusalCounts,
    counters: Counters,
    service: ServiceTimer,
    /// Ingress of each tick to the end of its handling here: every tick gets a sample,
    /// unlike `tick_to_intent`, which only ticks that cause an order get.
    tick_to_risk: LatencyHistogram,
    /// Ingress of the causing tick to each approved intent leaving for the order stage:
    /// `tick_to_intent` less the order stage's share.
    tick_to_approval: LatencyHistogram,
    /// When an idle poll dry-runs an entry's checks, and on which instrument next.
    rehearsal: Rehearsal,
    rehearse_at: usize,
    state: TradingState,
    error: Option<&'static str>,
    /// The limits in force (the configuration, as changed by `set`).
    config: RiskConfig,
    control: ControlPort,
    /// Intents, booked fills, state and limit changes, adoptions of a broker's position
    /// and the commands applied go to the journal, the record the day is rebuilt from.
    journal: JournalTap,
    /// Adoptions the day's journal holds from before a restart that the replay has not
    /// applied again yet (see [`RiskStage::with_journal`]); zero unless a day resumes,
    /// so the input loop pays one compare for them.
    adoptions_to_replay: usize,
    /// Instruments a `flatten` found busy: closed once their order is answered.
    close_when_answered: Vec<bool>,
    /// Broker notices that arrived while a resumed day was still being rebuilt from its
    /// journal, applied once it is: the broker's account is of now, and the book is of
    /// now only then (and a halt journaled mid-replay would not be the day journaled).
    /// One per instrument (the latest) and one halt at most, so it never grows past
    /// the capacity reserved at construction.
    broker_waiting: Vec<BrokerNotice>,
    /// Set on a fatal error to stop the run (the feed watches it).
    stop: Option<Arc<AtomicBool>>,
    /// Market time of the latest event handled, for alerts, commands and signal expiry.
    market_time: UnixNanos,
    /// Market time of the last fill on each instrument (cooldown): a rejected order
    /// traded nothing and holds nobody back.
    last_order: Vec<UnixNanos>,
    /// Market time of each instrument's last tick (zero: none yet), for the stale-quote
    /// check: one store per tick into a preallocated slot.
    last_tick: Vec<UnixNanos>,
    /// The whole feed is stale: set and cleared by [`ControlCommand::FeedStale`] at its
    /// place in the input stream (the feed stage's `stale_feed` to its
    /// `feed_recovered`), never read across threads, so the same input refuses the same
    /// entries on every thread layout and in a resumed day. Entries are refused while it
    /// is set.
    feed_stale: bool,
    /// Refused signals by reason, per strategy.
    refusals_by_strategy: Vec<RefusalCounts>,
    /// Why the trading state is what it is.
    state_reason: StateReason,
    /// Limit state beside the book: quotes, exposure buckets, correlations, the day.
    limits: LimitState,
    /// State changes, limit hits and forced exits, for the report.
    events: RiskEvents,
    /// Targets, trailing stops, time stops, exit retries and the index watch.
    exits: ExitDesk,
    /// What each fill costs (free unless [`RiskStage::with_charges`]).
    charger: Charger,
    /// Answers the signal stage's allocation reviews, when it holds them.
    review: Option<ReviewDesk>,
    /// The broker-side protective stops (off unless [`RiskStage::with_protective_stops`]).
    protection: Protection,
}

impl std::fmt::Debug for RiskStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskStage")
            .field("market_sync", &self.market_sync)
            .field("in_flight", &self.in_flight.len())
            .field("open_positions", &self.book.open_positions())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl RiskStage {
    /// A risk stage for `instruments` and `strategy_count` strategies, trading by
    /// `config` (validated beforehand) with the standard checks.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &RiskConfig,
        instruments: &InstrumentTable,
        strategy_count: usize,
        input: Consumer<RiskInput>,
        reports: Consumer<OrderOutput>,
        out: Outbox<OrderInput>,
        clock: LatencyClock,
        telemetry: Arc<Telemetry>,
        market_sync: bool,
    ) -> RiskStage {
        RiskStage::with_checks(
            config,
            CheckChain::standard(config),
            instruments,
            strategy_count,
            input,
            reports,
            out,
            clock,
            telemetry,
            market_sync,
        )
    }

    /// As [`RiskStage::new`], with a chain of checks of the caller's choosing.
    #[allow(clippy::too_many_arguments)]
    pub fn with_checks(
        config: &RiskConfig,
        checks: CheckChain,
        instruments: &InstrumentTable,
        strategy_count: usize,
        input: Consumer<RiskInput>,
        reports: Consumer<OrderOutput>,
        out: Outbox<OrderInput>,
        clock: LatencyClock,
        telemetry: Arc<Telemetry>,
        market_sync: bool,
    ) -> RiskStage {
        let lots = instruments
            .iter()
            .map(|i| match i.kind {
                InstrumentKind::Index => 0,
                _ => i.lot_size.max(1),
            })
            .collect::<Vec<_>>();
        let n = lots.len();
        // Minimal when the clock is off (a backtest): nothing will be measured.
        let (service, tick_to_risk, tick_to_approval) = (
            ServiceTimer::for_clock(&clock),
            clock.histogram(),
            clock.histogram(),
        );
        RiskStage {
            input,
            reports,
            out,
            clock,
            telemetry,
            market_sync,
            awaiting_sync: false,
            synced_to: UnixNanos(0),
            sent_since_sync: false,
            session_ended: false,
            end_answered: false,
            equity_moved: true,
            lots,
            strategy_count,
            book: Book::new(n, strategy_count),
            checks,
            in_flight: InFlightTable::new(config.max_in_flight, n),
            square_off: SquareOff::new(config.square_off, n),
            fills: Vec::with_capacity(config.fill_log_capacity),
            fill_log_limit: config.fill_log_capacity,
            fills_not_logged: 0,
            refusals: RefusalCounts::new(),
            counters: Counters::default(),
            service,
            tick_to_risk,
            tick_to_approval,
            rehearsal: Rehearsal::OFF,
            rehearse_at: 0,
            state: TradingState::Active,
            error: None,
            config: RiskConfig {
                // Read once, into the exit desk: without them the stage's copy clones
                // without allocating when an operator's `set` changes a limit.
                time_stop: TimeStops::new(),
                emergency: EmergencyConfig {
                    index: String::new(),
                    ..config.emergency.clone()
                },
                ..config.clone()
            },
            control: ControlPort::detached(),
            journal: JournalTap::off(),
            adoptions_to_replay: 0,
            close_when_answered: vec![false; n],
            broker_waiting: Vec::with_capacity(n + 1),
            stop: None,
            market_time: UnixNanos(0),
            last_order: vec![UnixNanos(0); n],
            last_tick: vec![UnixNanos(0); n],
            feed_stale: false,
            refusals_by_strategy: vec![RefusalCounts::new(); strategy_count],
            state_reason: StateReason::Start,
            limits: LimitState::new(instruments, config),
            events: RiskEvents::new(),
            exits: ExitDesk::new(config, instruments, strategy_count),
            charger: Charger::free(n),
            review: None,
            protection: Protection::new(n, false),
        }
    }

    /// The same stage keeping a broker-side protective stop on every open position
    /// (`[order] protective_stop`, see [`ProtectStop`]). Each protective order holds an
    /// exit slot, so the in-flight table keeps two per instrument: the protective order
    /// and the exit that replaces it while its cancel is answered. Call before the run.
    pub fn with_protective_stops(mut self, enabled: bool) -> RiskStage {
        let n = self.book.instruments();
        self.protection = Protection::new(n, enabled);
        if enabled {
            self.in_flight = InFlightTable::new(self.config.max_in_flight, 2 * n);
        }
        self
    }

    /// Slots of the in-flight table (entries and the exit reserve): the order stage's
    /// book mirrors it.
    pub fn in_flight_capacity(&self) -> usize {
        self.in_flight.capacity()
    }

    /// The same stage charging every fill it books by `charger`.
    pub fn with_charges(mut self, charger: Charger) -> RiskStage {
        self.charger = charger;
        self
    }

    /// What the sizing and exposure percentages are taken of now: equity, or the
    /// fixed capital (`risk.sizing_basis`).
    fn sizing_base(&self) -> Money {
        match self.config.sizing_basis {
            SizingBasis::Equity => self.book.equity(self.config.capital),
            SizingBasis::Capital => self.config.capital,
        }
    }

    /// The same stage rehearsing an entry's checks in idle polls as `rehearsal` says.
    pub fn with_rehearsal(mut self, rehearsal: Rehearsal) -> RiskStage {
        self.rehearsal = rehearsal;
        self
    }

    /// The same stage knowing the strategies' names (by id), for `[risk.time_stop]`.
    pub fn with_strategy_names(mut self, names: &[&str]) -> RiskStage {
        self.exits.set_time_stops(names);
        self
    }

    /// The exit state (plans, retries, forced exits), for inspection between polls.
    pub fn exits(&self) -> &ExitDesk {
        &self.exits
    }

    /// The reconciliation hook: compares the book with a broker position `snapshot`,
    /// alerts each difference (`reconcile_mismatch`, critical) and applies
    /// `risk.reconcile`: `alert` changes nothing; `adopt` takes the broker's quantity and
    /// average price into the book; `flatten` takes them too, then closes each such
    /// position at market (once its order in flight, if any, is answered). Returns the
    /// differences.
    ///
    /// Runs between polls on the stage's thread (it allocates the list: off the hot
    /// path). A live broker gateway hands its confirmed differences in one position at
    /// a time instead ([`BrokerNotice`], through the order stage's reports), which
    /// [`RiskStage::reconcile_position`] applies the same way.
    pub fn reconcile(&mut self, snapshot: &[BrokerPosition]) -> Vec<Mismatch> {
        let differences = reconcile(&self.book, snapshot);
        for m in &differences {
            self.apply_mismatch(m);
        }
        differences
    }

    /// As [`RiskStage::reconcile`] for the broker's position of one instrument: what a
    /// broker gateway's reconciliation found differing from the fills it reported. The
    /// book decides: a position the book already holds as the broker does is no
    /// difference (nothing is alerted); any other is alerted and `risk.reconcile`
    /// applies. Returns the difference, if any.
    pub fn reconcile_position(&mut self, broker: &BrokerPosition) -> Option<Mismatch> {
        let m = mismatch(&self.book, broker)?;
        self.apply_mismatch(&m);
        Some(m)
    }

    /// Alerts one difference with the book and applies `risk.reconcile` to it.
    fn apply_mismatch(&mut self, m: &Mismatch) {
        let policy = self.config.reconcile;
        self.control.alert(Alert {
            exchange_ts: self.market_time,
            kind: "reconcile_mismatch",
            instrument: Some(m.instrument),
            level: AlertLevel::Critical,
            state: self.state,
            detail: match policy {
                ReconcilePolicy::Alert => "the broker's position differs from the book",
                ReconcilePolicy::Adopt => "the broker's position differs; the book took it",
                ReconcilePolicy::Flatten => "the broker's position differs; closing it",
            },
        });
        let id = m.instrument;
        if policy == ReconcilePolicy::Alert || id.index() >= self.book.instruments() {
            return;
        }
        let adopted = self.book.adopt(id, m.broker_net, m.broker_avg);
        // Journaled whether or not the book could take it, after the book has it: a
        // resumed day applies it again here (and meets the same overflow), and a journal
        // that cannot take it flattens the book with the adopted position in it.
        self.journal_record(
            self.market_time,
            &Record::Adopt(Adoption {
                instrument: id,
                broker_net: m.broker_net,
                broker_avg: m.broker_avg,
                book_net: m.book_net,
                book_avg: m.book_avg,
            }),
        );
        if adopted.is_err() {
            self.fail("position arithmetic overflowed; new entries halted");
            return;
        }
        if m.broker_net == 0 {
            self.exits.closed(id);
        }
        self.protection.mark(id.index());
        let position = *self.book.position(id);
        if policy != ReconcilePolicy::Flatten || !position.is_open() {
            return;
        }
        if position.orders_in_flight() > 0 {
            self.close_when_answered[id.index()] = true;
        } else {
            self.square_off.enqueue(SquareOffDue {
                instrument: id,
                exchange_ts: self.market_time,
                ingress: Stamp(0),
                reason: IntentReason::Manual,
            });
        }
    }

    /// Applies the broker notices that waited for the day to be rebuilt, once it is.
    fn apply_waiting_broker(&mut self) -> usize {
        if self.broker_waiting.is_empty() || self.journal.replay_pending() > 0 {
            return 0;
        }
        let mut n = 0;
        while n < self.broker_waiting.len() {
            let notice = self.broker_waiting[n];
            self.on_broker(notice);
            n += 1;
        }
        self.broker_waiting.clear();
        n
    }

    /// Acts on what a broker gateway's reconciliation confirmed (see [`BrokerNotice`]).
    /// While a resumed day is still being rebuilt, it waits until it is.
    ///
    /// `Halt` halts new entries exactly as the operator's `halt` does, and is journaled
    /// as that command: resuming the day puts it back into the stream at its market time,
    /// so the rebuilt day halts where this one did (the gateway's `reconcile_mismatch`
    /// alert, or this stage's, says why).
    fn on_broker(&mut self, notice: BrokerNotice) {
        if self.journal.replay_pending() > 0 {
            let same = self.broker_waiting.iter().position(|w| match (w, &notice) {
                (BrokerNotice::Position(a), BrokerNotice::Position(b)) => {
                    a.instrument == b.instrument
                }
                (BrokerNotice::Halt, BrokerNotice::Halt) => true,
                _ => false,
            });
            match same {
                Some(i) => self.broker_waiting[i] = notice,
                // Bounded: positions of the book's instruments, and one halt (a position
                // outside the table only alerts, and is dropped when there is no room).
                None if self.broker_waiting.len() < self.broker_waiting.capacity() => {
                    self.broker_waiting.push(notice);
                }
                None => {}
            }
            return;
        }
        match notice {
            BrokerNotice::Position(broker) => {
                self.reconcile_position(&broker);
            }
            BrokerNotice::Halt => {
                if self.state == TradingState::Halted {
                    return;
                }
                let command = ControlCommand::SetState(TradingState::Halted);
                self.journal_record(self.market_time, &Record::Control(command));
                self.set_state(
                    TradingState::Halted,
                    "trading_halted",
                    StateReason::Operator,
                );
            }
        }
    }

    /// The same stage answering the signal stage's allocation reviews through `desk`
    /// (see [`ReviewDesk`]); without one, review requests are ignored.
    pub fn with_review(mut self, desk: ReviewDesk) -> RiskStage {
        self.review = Some(desk);
        self
    }

    /// The same stage journaling its intents, booked fills, state and limit changes,
    /// adoptions and the commands it applies through `journal`.
    ///
    /// A tap resuming a day ([`JournalTap::resume`]) holds the records journaled before
    /// the restart, and the replay makes them again from the same inputs, all but the
    /// adoptions: a broker's position came from outside the stream, and the broker
    /// does not send it again (its reconciliation at the restart compares with a book
    /// that holds it already). So the stage applies each journaled adoption again
    /// itself, when it is the next record the journal holds and the replay reaches its
    /// market time: before the first input later than it, or before a command at it
    /// (commands replayed at a market time come after its events, and the journal's
    /// order then decides between them); once the input has ended, at once. The
    /// adoption made again is checked like any record, the book's side included, so a
    /// rebuilt book that did not hold what the journaled one did stops the day.
    pub fn with_journal(mut self, journal: JournalTap) -> RiskStage {
        self.adoptions_to_replay = journal
            .pending()
            .iter()
            .filter(|(_, r)| matches!(r, Record::Adopt(_)))
            .count();
        self.journal = journal;
        self
    }

    /// Applies the adoption the journal holds next again, if the replay has reached it
    /// (see [`RiskStage::with_journal`]); true when it did. Cold: only while a resumed
    /// day catches up.
    #[cold]
    fn replay_adoption(&mut self) -> bool {
        let next = self
            .journal
            .pending()
            .iter()
            .find(|(_, r)| !matches!(r, Record::DailyMark(_)));
        let Some(&(ts, record)) = next else {
            // Every journaled record made again (or the replay differed): none is left.
            self.adoptions_to_replay = 0;
            return false;
        };
        let Record::Adopt(a) = record else {
            return false;
        };
        let due = match self.input.peek() {
            Some(input) => {
                let (at, command) = match input {
                    RiskInput::Tick(t) => (t.exchange_ts, false),
                    RiskInput::Signal(s) => (s.exchange_ts, false),
                    RiskInput::Review(r) => (r.exchange_ts, false),
                    RiskInput::Control(c) => (c.exchange_ts, true),
                };
                at > ts || (command && at >= ts)
            }
            None => self.input.is_finished(),
        };
        if !due {
            return false;
        }
        self.adoptions_to_replay -= 1;
        self.market_time = self.market_time.max(ts);
        // The book's side as it is now: the record made again carries it, and the tap
        // compares it with the journaled one. (An instrument outside the table was never
        // adopted: nothing is made again, and the tap names the difference.)
        let (book_net, book_avg) = if a.instrument.index() < self.book.instruments() {
            let p = self.book.position(a.instrument);
            (p.net(), p.avg_price())
        } else {
            (0, Price::ZERO)
        };
        self.apply_mismatch(&Mismatch {
            instrument: a.instrument,
            book_net,
            book_avg,
            broker_net: a.broker_net,
            broker_avg: a.broker_avg,
        });
        true
    }

    /// The same stage answering the control plane through `port`.
    pub fn with_control(mut self, port: ControlPort) -> RiskStage {
        self.control = port;
        self
    }

    /// The same stage setting `stop` when it meets a fatal error, so the whole run ends.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> RiskStage {
        self.stop = Some(stop);
        self
    }

    /// The book, for inspection between polls.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Intents awaiting their final report.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Refusals of one reason so far.
    pub fn refusals(&self, refusal: Refusal) -> u64 {
        self.refusals.get(refusal)
    }

    /// Whether strategies may trade now.
    pub fn trading_state(&self) -> TradingState {
        self.state
    }

    /// The limits in force.
    pub fn limits(&self) -> &RiskConfig {
        &self.config
    }

    /// Why the trading state is what it is.
    pub fn state_reason(&self) -> StateReason {
        self.state_reason
    }

    /// The limit state: exposure buckets, correlations, the day's loss and drawdown.
    pub fn limit_state(&self) -> &LimitState {
        &self.limits
    }

    /// Equity now: capital plus realised P&L net of charges plus unrealised P&L
    /// ([`Book::equity`]), whatever `risk.sizing_basis` says. The day's loss limit and
    /// drawdown watch it; the checks size on [`RiskStage::sizing_base`].
    fn equity(&self) -> Money {
        self.book.equity(self.config.capital)
    }

    /// A fatal error: halts, applies the fatal policy, asks the run to stop, and keeps
    /// the first reason for the report.
    fn fail(&mut self, why: &'static str) {
        if self.error.is_some() {
            return;
        }
        self.error = Some(why);
        // The fatal policy decides what happens to positions; the shutdown policy does not
        // apply on top of it.
        self.exits.shutdown_flattened = true;
        self.set_state(TradingState::Halted, "fatal_error", StateReason::FatalError);
        if self.config.on_fatal == FatalPolicy::Flatten {
            let answering = self.control.set_answering(false);
            self.flatten();
            self.control.set_answering(answering);
        }
        if let Some(stop) = &self.stop {
            // Relaxed: the flag carries no data (the feed polls it).
            stop.store(true, Ordering::Relaxed);
        }
    }

    /// Moves to `state` for `reason`; a change is logged for the report and said as an
    /// alert of `kind` whose detail is the reason.
    fn set_state(
        &mut self,
        state: TradingState,
        kind: &'static str,
        reason: StateReason,
    ) -> TradingState {
        let previous = self.state;
        self.state = state;
        if previous != state {
            self.journal_record(
                self.market_time,
                &Record::RiskState(RiskStateChange {
                    state,
                    previous,
                    reason,
                }),
            );
            self.state_reason = reason;
            self.events.state_changed(StateChange {
                at: self.market_time,
                from: previous,
                to: state,
                reason,
            });
        }
        if previous != state || kind == "fatal_error" {
            self.control.alert(Alert {
                exchange_ts: self.market_time,
                kind,
                instrument: None,
                level: match state {
                    TradingState::Active => AlertLevel::Info,
                    TradingState::Reducing => AlertLevel::Warning,
                    TradingState::Halted => AlertLevel::Critical,
                },
                state,
                detail: self.error.unwrap_or(reason.as_str()),
            });
        }
        let leaves_positions = !matches!(reason, StateReason::Emergency | StateReason::FatalError);
        if previous != state
            && state == TradingState::Halted
            && self.exits.halt_exits == HaltExits::Manual
            && leaves_positions
            && self.book.open_positions() > 0
        {
            self.control.alert(Alert {
                exchange_ts: self.market_time,
                kind: "halted_with_positions",
                instrument: None,
                level: AlertLevel::Critical,
                state,
                detail: "halted with open positions and risk.halt_exits = \"manual\": the engine's stops, targets and square-off wait; close them (close, flatten) or resume",
            });
        }
        previous
    }

    /// True when an exit for `reason` may go out in the current trading state: always,
    /// unless halted under `risk.halt_exits = "manual"` and it is not a manual or
    /// emergency exit.
    fn exit_allowed(&self, reason: IntentReason) -> bool {
        self.state != TradingState::Halted || self.exits.halt_exits.allows(reason)
    }

    /// Acts on what a move of equity crossed (see [`DayGuard`](crate::risk::DayGuard)).
    fn on_day_event(&mut self, event: DayEvent) {
        let alert = |kind, level| Alert {
            exchange_ts: self.market_time,
            kind,
            instrument: None,
            level,
            state: self.state,
            detail: "",
        };
        match event {
            DayEvent::NewDay => {
                // The previous day's loss or drawdown state ends with it; an operator's
                // halt or reduce stays until the operator lifts it.
                if matches!(
                    self.state_reason,
                    StateReason::DailyLossLimit | StateReason::DrawdownHalt
                ) && self.error.is_none()
                {
                    self.set_state(TradingState::Active, "trading_active", StateReason::NewDay);
                }
            }
            DayEvent::DailyLossHit => {
                self.events.daily_loss_hits += 1;
                self.control
                    .alert(alert("daily_loss_limit", AlertLevel::Critical));
                if self.state == TradingState::Active {
                    self.set_state(
                        TradingState::Reducing,
                        "trading_reduce_only",
                        StateReason::DailyLossLimit,
                    );
                }
                if self.config.daily_loss_flatten {
                    let answering = self.control.set_answering(false);
                    self.flatten();
                    self.control.set_answering(answering);
                }
            }
            DayEvent::DrawdownWarning => {
                self.events.drawdown_warnings += 1;
                self.control
                    .alert(alert("drawdown_warning", AlertLevel::Warning));
            }
            DayEvent::DrawdownHalt => {
                self.events.drawdown_halts += 1;
                self.control
                    .alert(alert("drawdown_halt", AlertLevel::Critical));
                self.set_state(
                    TradingState::Halted,
                    "trading_halted",
                    StateReason::DrawdownHalt,
                );
            }
        }
    }

    // ----- control ----------------------------------------------------------------------

    /// Carries out `command`, answering on the control port.
    fn on_command(&mut self, command: ControlCommand) {
        self.counters.commands += 1;
        if matches!(
            command,
            ControlCommand::Close { .. }
                | ControlCommand::Flatten
                | ControlCommand::SetState(_)
                | ControlCommand::SetLimit { .. }
                | ControlCommand::FeedStale(_)
        ) {
            self.journal_record(self.market_time, &Record::Control(command));
        }
        match command {
            ControlCommand::Status => {
                self.control.reply(ControlReply::Risk {
                    market_time: self.market_time,
                    state: self.state,
                    reason: self.state_reason,
                    open_positions: self.book.open_positions() as u32,
                    realized: self.book.realized(),
                    unrealized: self.book.unrealized(),
                });
                self.control.reply(ControlReply::Equity {
                    charges: self.book.charges().total(),
                    equity: self.book.equity(self.config.capital),
                });
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::Positions => {
                for i in 0..self.book.instruments() {
                    let id = InstrumentId(i as u32);
                    let p = self.book.position(id);
                    if p.is_open() {
                        self.control.reply(ControlReply::Position {
                            instrument: id,
                            owner: p.owner(),
                            net: p.net(),
                            avg_price: p.avg_price(),
                            mark: p.mark(),
                            stop: p.stop(),
                            realized: p.realized(),
                        });
                        let plan = self.exits.plan(id);
                        self.control.reply(ControlReply::PositionExits {
                            instrument: id,
                            target: plan.target,
                            exit_attempts: self.exits.retry.attempts(id),
                            partial: plan.partial as u8,
                            trailing: plan.trailing,
                            exit_failed: self.exits.retry.is_flagged(id),
                        });
                        self.control.reply(ControlReply::PositionCharges {
                            instrument: id,
                            charges: p.charges(),
                        });
                    }
                }
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::Pnl => {
                for i in 0..self.strategy_count {
                    let s = self.book.strategy_pnl(StrategyId(i as u16));
                    self.control.reply(ControlReply::StrategyPnl {
                        strategy: s.strategy,
                        realized: s.realized,
                        unrealized: s.unrealized,
                        fills: s.fills.min(u64::from(u32::MAX)) as u32,
                        round_trips: s.round_trips.min(u64::from(u32::MAX)) as u32,
                    });
                    self.control.reply(ControlReply::StrategyCharges {
                        strategy: s.strategy,
                        charges: s.charges,
                    });
                }
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::Limits => {
                for key in LimitKey::ALL {
                    let value = self.config.limit(key);
                    self.control.reply(ControlReply::Limit {
                        key,
                        value,
                        previous: value,
                    });
                }
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::Close { instrument, qty } => match self.close(instrument, qty) {
                Ok(reply) => {
                    self.control.reply(reply);
                    self.control.reply(ControlReply::Done);
                }
                Err(refusal) => self.control.reply(ControlReply::Refused(refusal)),
            },
            ControlCommand::Flatten => {
                self.flatten();
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::FeedStale(stale) => {
                // Entries only: the trading state does not change, so an operator's halt
                // stays a halt after the feed recovers, and a stale feed is not shown as
                // halted.
                self.feed_stale = stale;
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::SetState(state) => {
                let kind = match state {
                    TradingState::Active => "trading_active",
                    TradingState::Reducing => "trading_reduce_only",
                    TradingState::Halted => "trading_halted",
                };
                let previous = self.set_state(state, kind, StateReason::Operator);
                self.control.reply(ControlReply::State { state, previous });
                self.control.reply(ControlReply::Done);
            }
            ControlCommand::SetLimit { key, value } => {
                let next = self.config.with_limit(key, value);
                // The control thread validated the value as the configuration would; this
                // keeps only what the stage itself relies on.
                if next.last_entry >= next.square_off || next.capital <= Money::ZERO {
                    self.control
                        .reply(ControlReply::Refused(ControlRefusal::BadValue));
                    return;
                }
                let previous = self.config.limit(key);
                self.journal_record(
                    self.market_time,
                    &Record::Limit(LimitChange {
                        key,
                        value,
                        previous,
                    }),
                );
                self.checks.configure(&next);
                self.limits.configure(&next);
                self.square_off.set_at(next.square_off);
                self.config = next;
                self.equity_moved = true;
                self.control.reply(ControlReply::Limit {
                    key,
                    value,
                    previous,
                });
                self.control.reply(ControlReply::Done);
                self.control.alert(Alert {
                    exchange_ts: self.market_time,
                    kind: "limit_changed",
                    instrument: None,
                    level: AlertLevel::Info,
                    state: self.state,
                    detail: key.as_str(),
                });
            }
            other => {
                let counters = self.counter_list();
                let latencies = [
                    ("service", self.service.histogram()),
                    ("tick_to_risk", &self.tick_to_risk),
                ];
                self.control.reply_common(other, &latencies, &counters);
            }
        }
    }

    /// A command scheduled at a market time, applied at its place in the stream.
    fn on_scheduled(&mut self, scheduled: &ScheduledCommand) {
        self.market_time = scheduled.exchange_ts;
        // Nobody asked: the rows of the answer would be read as someone else's.
        self.control.set_answering(false);
        self.on_command(scheduled.command);
        self.control.set_answering(true);
    }

    /// `close`: a market order for `qty` units (zero: all) of the open position, for
    /// its owner. Entry limits do not apply: closing risk is always allowed.
    fn close(&mut self, id: InstrumentId, qty: Qty) -> Result<ControlReply, ControlRefusal> {
        let lot = *self
            .lots
            .get(id.index())
            .filter(|&&lot| lot > 0)
            .ok_or(ControlRefusal::UnknownInstrument)?;
        let position = *self.book.position(id);
        let Some(side) = position.closing_side() else {
            return Err(ControlRefusal::NoPosition);
        };
        if position.orders_in_flight() > 0 {
            return Err(ControlRefusal::OrderInFlight);
        }
        let open = position.open_qty();
        let qty = if qty.is_zero() { open } else { qty };
        if qty > open || (qty != open && qty.get() % lot != 0) {
            return Err(ControlRefusal::BadQty);
        }
        let exit = Proposal {
            instrument: id,
            strategy: position.owner().unwrap_or_default(),
            side,
            reason: IntentReason::Manual,
            reference: position.mark(),
            stop: Price::ZERO,
            qty,
            weight_pct: Signal::FULL_WEIGHT,
        };
        let intent = self.in_flight.next_id();
        self.send(&exit, Price::ZERO, self.market_time, Stamp(0))
            .map_err(|_| ControlRefusal::InFlightFull)?;
        self.counters.manual_exits += 1;
        Ok(ControlReply::ExitSent {
            instrument: id,
            side,
            qty,
            intent,
        })
    }

    /// `flatten` (or the fatal policy): a market exit for every open position, answered
    /// row by row when `answer` is set. Instruments with an order in flight, an entry
    /// on a flat one included, are closed when it is answered (an entry that fills after
    /// the flatten would otherwise stay open); exits that do not fit the outbox now wait
    /// in the exit queue.
    fn flatten(&mut self) {
        self.flatten_for(IntentReason::Manual);
    }

    /// [`RiskStage::flatten`] for `reason`: [`IntentReason::Manual`] for the operator
    /// and the fatal policy, [`IntentReason::Emergency`] for the index fall and the
    /// shutdown.
    fn flatten_for(&mut self, reason: IntentReason) {
        // Sent now only from a clear outbox, and at most a batch (see `EXITS_PER_BATCH`);
        // the rest queue for the square-off's drain after the next sync.
        let mut budget = if self.out.is_clear() {
            EXITS_PER_BATCH
        } else {
            0
        };
        for i in 0..self.book.instruments() {
            let id = InstrumentId(i as u32);
            let position = *self.book.position(id);
            if position.orders_in_flight() > 0 {
                self.close_when_answered[i] = true;
                self.control
                    .reply(ControlReply::Deferred { instrument: id });
                continue;
            }
            if !position.is_open() {
                continue;
            }
            if budget > 0 && self.square_off.is_idle() {
                let intent = self.in_flight.next_id();
                let open = position.open_qty();
                if self
                    .force_exit(id, reason, open, self.market_time, Stamp(0))
                    .is_ok()
                {
                    budget -= 1;
                    self.counters.manual_exits += u64::from(reason == IntentReason::Manual);
                    self.control.reply(ControlReply::ExitSent {
                        instrument: id,
                        side: position.closing_side().unwrap_or(Side::Sell),
                        qty: position.open_qty(),
                        intent,
                    });
                    continue;
                }
            }
            self.square_off.enqueue(SquareOffDue {
                instrument: id,
                exchange_ts: self.market_time,
                ingress: Stamp(0),
                reason,
            });
            self.control
                .reply(ControlReply::Deferred { instrument: id });
        }
    }

    /// The index fell more than `risk.emergency.drop_pct` within the window: halt, say
    /// so, and close every position (entries in flight are closed once answered).
    fn emergency(&mut self, exchange_ts: UnixNanos) {
        self.control.alert(Alert {
            exchange_ts,
            kind: "emergency_flatten",
            instrument: self.exits.watch.index(),
            level: AlertLevel::Critical,
            state: TradingState::Halted,
            detail: "the index fell more than risk.emergency.drop_pct within risk.emergency.window_minutes",
        });
        self.set_state(
            TradingState::Halted,
            "trading_halted",
            StateReason::Emergency,
        );
        let answering = self.control.set_answering(false);
        self.flatten_for(IntentReason::Emergency);
        self.control.set_answering(answering);
    }

    /// With `risk.on_shutdown = "flatten"`, once the run is stopping (the stop flag is
    /// set and the input has ended) and positions are open: a market exit for each, sent
    /// once; the stage then finishes only when they are answered.
    fn shutdown_flatten(&mut self) -> usize {
        let stopping = self
            .stop
            .as_ref()
            // Relaxed: the flag carries no data.
            .is_some_and(|stop| stop.load(Ordering::Relaxed));
        if self.exits.shutdown_flattened
            || self.exits.on_shutdown != ShutdownPolicy::Flatten
            || !stopping
            || self.book.open_positions() == 0
            || !self.input.is_finished()
        {
            return 0;
        }
        self.exits.shutdown_flattened = true;
        self.control.alert(Alert {
            exchange_ts: self.market_time,
            kind: "shutdown_flatten",
            instrument: None,
            level: AlertLevel::Warning,
            state: self.state,
            detail:
                "stopping: every open position is closed at market (risk.on_shutdown = flatten)",
        });
        let answering = self.control.set_answering(false);
        self.flatten_for(IntentReason::Emergency);
        self.control.set_answering(answering);
        1
    }

    // ----- exec reports ---------------------------------------------------------------

    fn drain_reports(&mut self) -> usize {
        let mut n = 0;
        while n < BATCH {
            let Ok(report) = self.reports.try_pop() else {
                break;
            };
            match report {
                OrderOutput::Report(report) => {
                    let start = self.service.start(&self.clock);
                    self.on_report(&report);
                    self.service.stop(&self.clock, start);
                }
                OrderOutput::Synced(_) => {
                    // No sync is out when the end is sent: a `Synced` after it answers it.
                    self.end_answered = self.session_ended;
                    self.awaiting_sync = false;
                }
                OrderOutput::Broker(notice) => self.on_broker(notice),
            }
            n += 1;
        }
        n
    }

    /// Books a report. Never sends an order itself (so draining reports works even when
    /// the outbox is backed up); a position that must close is queued instead.
    fn on_report(&mut self, r: &ExecReport) {
        self.counters.reports += 1;
        let Some(flight) = self.in_flight.get_mut(r.intent) else {
            self.counters.unknown_reports += 1;
            return;
        };
        let protective = self
            .protection
            .is_protective(flight.instrument.index(), r.intent);
        let is_fill =
            matches!(r.kind, ExecKind::PartialFill | ExecKind::Filled) && !r.last_qty.is_zero();
        if is_fill {
            // The filled units now count at their mark; release their reservation.
            let release = flight.reference.notional(r.last_qty).min(flight.reserved);
            flight.reserved = flight.reserved.checked_sub(release).unwrap_or(Money::ZERO);
            flight.filled = flight.filled.checked_add(r.last_qty).unwrap_or(flight.qty);
            self.book.release(release);
            self.limits.exposure.release(flight.instrument, release);
        }
        let charges = if is_fill {
            self.charger.fill(
                flight.instrument,
                flight.side,
                r.last_qty,
                r.last_price,
                &mut flight.charges,
            )
        } else {
            Ok(ChargeBreakdown::ZERO)
        };
        let flight = *flight;
        if is_fill {
            self.book_fill(&flight, r, charges);
        }
        if r.kind == ExecKind::Rejected {
            self.control.alert(Alert {
                exchange_ts: r.exchange_ts,
                kind: "order_rejected",
                instrument: Some(flight.instrument),
                level: if flight.reason == IntentReason::Entry {
                    AlertLevel::Warning
                } else {
                    // A refused exit leaves risk on the book.
                    AlertLevel::Critical
                },
                state: self.state,
                detail: r.reject.as_str(),
            });
        }
        if is_fill || r.kind.is_terminal() {
            self.protection.mark(flight.instrument.index());
        }
        if r.kind.is_terminal() && protective {
            // Not an order of the position's (see `risk::protect`): only its slot ends.
            self.in_flight.remove(r.intent);
            self.protection
                .ended(flight.instrument.index(), r.kind == ExecKind::Rejected);
            return;
        }
        if r.kind.is_terminal() {
            self.in_flight.remove(r.intent);
            self.book.release(flight.reserved);
            self.limits
                .exposure
                .release(flight.instrument, flight.reserved);
            self.book.order_done(flight.instrument);
            self.exit_answered(&flight, r);
            // A refused exit waits for its retry: queueing it again here would send it
            // back to back with no tick read in between.
            let retrying = self.exits.retry.is_pending(flight.instrument);
            let position = self.book.position(flight.instrument);
            let waiting = &mut self.close_when_answered[flight.instrument.index()];
            if *waiting && position.orders_in_flight() == 0 && !retrying {
                *waiting = false;
                if position.is_open() {
                    self.square_off.enqueue(SquareOffDue {
                        instrument: flight.instrument,
                        exchange_ts: r.exchange_ts,
                        ingress: r.ingress,
                        reason: IntentReason::Manual,
                    });
                }
            }
            if self.square_off.is_active()
                && position.is_open()
                && position.orders_in_flight() == 0
                && !retrying
            {
                self.square_off.enqueue(SquareOffDue {
                    instrument: flight.instrument,
                    exchange_ts: r.exchange_ts,
                    ingress: r.ingress,
                    reason: IntentReason::SquareOff,
                });
            }
        }
    }

    /// Books one fill and its charges (computed by the caller, which holds the order's
    /// [`OrderCharges`]) to the position, the strategy and the totals.
    fn book_fill(
        &mut self,
        flight: &InFlight,
        r: &ExecReport,
        charges: Result<ChargeBreakdown, ValueError>,
    ) {
        let id = flight.instrument;
        self.last_order[id.index()] = r.exchange_ts;
        self.equity_moved = true;
        let before = *self.book.position(id);
        let was_open = before.is_open();
        // An entry on the side the position already has adds to it (`risk.scale_in`).
        let adding = was_open && before.opening_side() == Some(flight.side);
        match self
            .book
            .fill(id, flight.strategy, flight.side, r.last_qty, r.last_price)
            .and_then(|effect| {
                self.book
                    .charge(id, flight.strategy, &charges?)
                    .map(|()| effect)
            }) {
            Ok(effect) => {
                if let Some(review) = self.review.as_mut() {
                    review.on_fill(id, flight.strategy, effect);
                }
                if flight.reason == IntentReason::Entry {
                    // An add to a held position keeps the stop in force when that is
                    // tighter (the trail may have moved it since the add was sent).
                    let stop = match (adding, flight.side) {
                        (true, Side::Buy) => flight.stop.max(before.stop()),
                        (true, Side::Sell) if before.stop().is_positive() => {
                            flight.stop.min(before.stop())
                        }
                        _ => flight.stop,
                    };
                    self.book.set_stop(id, stop);
                    if !was_open {
                        self.exits.opened(
                            id,
                            r.exchange_ts,
                            flight.target,
                            flight.reference,
                            flight.stop,
                        );
                    }
                } else if self.book.position(id).is_open() {
                    // An exit that trades is progress: its failures so far are forgiven.
                    self.exits.retry.clear(id);
                } else {
                    self.exits.closed(id);
                }
                self.limits
                    .exposure
                    .set_position(id, self.book.position(id).exposure());
            }
            Err(_) => self.fail("position arithmetic overflowed; new entries halted"),
        }
        self.counters.fills += 1;
        let fill = FillRecord {
            intent: flight.id,
            exchange_ts: r.exchange_ts,
            instrument: id,
            strategy: flight.strategy,
            side: flight.side,
            qty: r.last_qty,
            price: r.last_price,
            reason: flight.reason,
        };
        self.journal_record(fill.exchange_ts, &Record::Fill(fill));
        self.control.say(ControlReply::Fill(fill));
        if flight.reason == IntentReason::StopLoss {
            self.control.alert(Alert {
                exchange_ts: r.exchange_ts,
                kind: "stop_loss",
                instrument: Some(id),
                level: AlertLevel::Warning,
                state: self.state,
                detail: "",
            });
        }
        if self.fills.len() < self.fill_log_limit {
            self.fills.push(fill);
        } else {
            self.fills_not_logged += 1;
        }
    }

    // ----- inputs ---------------------------------------------------------------------

    /// True when the next input may be read: the outbox has room, no square-off exit
    /// waits, and (with market-time sync) no sync awaits its answer.
    fn may_read(&self) -> bool {
        let review_clear = !self.review.as_ref().is_some_and(ReviewDesk::is_waiting);
        !self.awaiting_sync && review_clear && self.out.is_clear() && self.square_off.is_idle()
    }

    /// With market-time sync, asks the order stage to confirm it has answered everything
    /// due by now when orders are out (see the type's docs). Called after every input and
    /// command that may have sent an order. Always inlined: it is a few loads and
    /// compares on almost every call, and a call cost more than the checks.
    ///
    /// A sync that would repeat the last one (nothing sent since, market time unmoved) is
    /// not sent: its answer could bring nothing new, and a stage that is holding its
    /// input (an allocation review waiting for `awaiting_sync` to clear) would otherwise
    /// ask again after every answer and never read on.
    #[inline(always)]
    fn request_sync(&mut self) {
        if self.market_sync
            && !self.awaiting_sync
            && !self.in_flight.is_empty()
            && (self.sent_since_sync || self.market_time > self.synced_to)
        {
            self.awaiting_sync = true;
            self.sent_since_sync = false;
            self.synced_to = self.market_time;
            self.out.push(OrderInput::Sync(self.market_time));
        }
    }

    /// Sends `input` to the order stage, noting that the next sync has news to confirm.
    #[inline]
    fn dispatch(&mut self, input: OrderInput) {
        self.sent_since_sync = true;
        self.out.push(input);
    }

    fn read_inputs(&mut self) -> usize {
        let mut n = 0;
        while n < BATCH && self.may_read() {
            if self.adoptions_to_replay > 0 && self.replay_adoption() {
                // What it calls for goes before the next input, as it did when the
                // broker's notice was applied between two inputs: `flatten`'s exit, a
                // protective stop.
                self.drain_square_off();
                self.send_protection();
                self.request_sync();
                n += 1;
                continue;
            }
            let Ok(input) = self.input.try_pop() else {
                break;
            };
            let start = self.service.start(&self.clock);
            match input {
                RiskInput::Tick(tick) => {
                    self.on_tick(&tick);
                    let end = self.clock.stamp();
                    self.service.stop_at(&self.clock, start, end);
                    if tick.ingress != Stamp(0) {
                        self.tick_to_risk
                            .record(self.clock.nanos_between(tick.ingress, end));
                    }
                }
                RiskInput::Signal(signal) => {
                    self.market_time = self.market_time.max(signal.exchange_ts);
                    self.on_signal(&signal);
                    self.service.stop(&self.clock, start);
                }
                RiskInput::Control(scheduled) => self.on_scheduled(&scheduled),
                RiskInput::Review(request) => {
                    if let Some(review) = self.review.as_mut() {
                        review.on_request(request);
                    }
                }
            }
            self.send_protection();
            self.request_sync();
            n += 1;
        }
        n
    }

    fn on_tick(&mut self, tick: &Tick) {
        self.counters.marks += 1;
        self.market_time = tick.exchange_ts;
        let id = tick.instrument;
        if id.index() >= self.book.instruments() {
            self.counters.bad_ticks += 1;
            return;
        }
        self.last_tick[id.index()] = tick.exchange_ts;
        if self.book.mark(id, tick.last).is_err() {
            self.fail("position arithmetic overflowed; new entries halted");
        }
        self.dispatch(OrderInput::Quote(*tick));
        self.on_mark(tick);
        if self.exits.watch.on_tick(id, tick.exchange_ts, tick.last) {
            self.emergency(tick.exchange_ts);
        }
        self.send_due_retries(tick.exchange_ts, tick.ingress);
        if self.square_off.due(tick.exchange_ts) {
            self.control.alert(Alert {
                exchange_ts: tick.exchange_ts,
                kind: "square_off",
                instrument: None,
                level: AlertLevel::Info,
                state: self.state,
                detail: "",
            });
            for i in 0..self.book.instruments() {
                let instrument = InstrumentId(i as u32);
                if self.book.position(instrument).is_open() {
                    self.square_off.enqueue(SquareOffDue {
                        instrument,
                        exchange_ts: tick.exchange_ts,
                        ingress: tick.ingress,
                        reason: IntentReason::SquareOff,
                    });
                }
            }
            self.drain_square_off();
            return;
        }
        // Most ticks are of an instrument without a position: decided on a reference
        // before the position is copied (the copy is only needed past this point).
        let position = self.book.position(id);
        if !position.is_open() || position.orders_in_flight() > 0 || self.exits.retry.is_pending(id)
        {
            return;
        }
        let position = *position;
        if self.square_off.is_active() {
            self.square_off.enqueue(SquareOffDue {
                instrument: id,
                exchange_ts: tick.exchange_ts,
                ingress: tick.ingress,
                reason: IntentReason::SquareOff,
            });
            self.drain_square_off();
            return;
        }
        let lot = self.lots[id.index()];
        let (stop, exit) = self.exits.on_mark(id, &position, lot, tick.exchange_ts);
        if stop != position.stop() {
            self.book.set_stop(id, stop);
            self.protection.mark(id.index());
        }
        let Some(exit) = exit else {
            if self.state == TradingState::Active {
                self.scale_in(id, lot, tick);
            }
            return;
        };
        if !self.exit_allowed(exit.reason) {
            // Halted with manual exits only: decided again on each mark, sent once
            // trading resumes.
            self.exits.not_sent(id, exit);
            self.counters.exits_held_by_halt += 1;
            return;
        }
        let sent = self.force_exit(id, exit.reason, exit.qty, tick.exchange_ts, tick.ingress);
        if sent.is_err() {
            // No free in-flight slot: the next tick decides again.
            self.exits.not_sent(id, exit);
            self.counters.exits_deferred += 1;
        }
    }

    /// Adds to the winner held in `id` (lots of `lot`) when `risk.scale_in` says one is
    /// due on this mark: an entry for the owner, at the position's stop, through every
    /// entry check; [`RiskSizing`](crate::risk::RiskSizing) sizes it on the whole
    /// position.
    fn scale_in(&mut self, id: InstrumentId, lot: u32, tick: &Tick) {
        if !self.exits.scaling.scale_in {
            // Off (the default): no position copy on the ticks of held instruments.
            return;
        }
        let position = *self.book.position(id);
        let Some(qty) = self.exits.add_due(id, &position, lot) else {
            return;
        };
        let (Some(side), Some(owner)) = (position.opening_side(), position.owner()) else {
            return;
        };
        let mut add = Proposal {
            instrument: id,
            strategy: owner,
            side,
            reason: IntentReason::Entry,
            reference: position.mark(),
            stop: position.stop(),
            qty,
            weight_pct: Signal::FULL_WEIGHT,
        };
        let ctx = self.check_context(id, &position, tick.exchange_ts);
        let checked = self.checks.run(&mut add, &ctx);
        let sent =
            checked.and_then(|()| self.send(&add, Price::ZERO, tick.exchange_ts, tick.ingress));
        match sent {
            Ok(()) => {
                self.exits.added(id);
                self.counters.scale_ins += 1;
            }
            Err(_) => self.counters.scale_ins_refused += 1,
        }
    }

    /// Feeds a tick to the limit state: the quote, the return series, the open
    /// position's exposure, and equity to the daily loss and drawdown watch. O(1), except
    /// once a minute when every instrument's return is taken.
    fn on_mark(&mut self, tick: &Tick) {
        let id = tick.instrument;
        self.limits.quotes[id.index()] = Quote::of(tick);
        self.limits.correlation.on_time(tick.exchange_ts);
        self.limits.correlation.on_price(id, tick.last);
        let position = self.book.position(id);
        let open = position.is_open();
        if open {
            let exposure = position.exposure();
            self.limits.exposure.set_position(id, exposure);
        }
        // Equity moves only with an open position's mark, a fill or the capital, so the
        // day guard needs it only then, and at the first tick of a new day.
        if open || self.equity_moved || self.limits.day.day_over(tick.exchange_ts) {
            self.equity_moved = false;
            let equity = self.equity();
            if let Some(event) = self.limits.day.on_equity(tick.exchange_ts, equity) {
                self.on_day_event(event);
            }
        }
    }

    /// Sends the queued square-off exits from a clear outbox, at most
    /// [`EXITS_PER_BATCH`] before the next sync.
    fn drain_square_off(&mut self) -> usize {
        if !self.out.is_clear() {
            return 0;
        }
        let mut n = 0;
        while n < EXITS_PER_BATCH {
            let Some(due) = self.square_off.peek() else {
                break;
            };
            let position = *self.book.position(due.instrument);
            // The square-off leaves a refused exit to its retry; the operator's flatten
            // and the emergency go at once.
            let retrying = due.reason == IntentReason::SquareOff
                && self.exits.retry.is_pending(due.instrument);
            if !self.exit_allowed(due.reason) {
                // Halted with manual exits only: the square-off waits. The square-off
                // stays active for the day, so a resume closes the position on its next
                // tick.
                self.counters.exits_held_by_halt += 1;
            } else if position.is_open() && position.orders_in_flight() == 0 && !retrying {
                let qty = position.open_qty();
                let sent = self.force_exit(
                    due.instrument,
                    due.reason,
                    qty,
                    due.exchange_ts,
                    due.ingress,
                );
                if sent.is_err() {
                    // No free in-flight slot: keep it queued until an answer frees one.
                    self.counters.exits_deferred += 1;
                    break;
                }
                n += 1;
            }
            // A position with orders in flight is queued again by their final report.
            self.square_off.pop();
        }
        n
    }

    fn on_signal(&mut self, signal: &Signal) {
        self.counters.signals += 1;
        if let Err(refusal) = self.decide(signal) {
            self.refusals.count(refusal);
            if let Some(counts) = self.refusals_by_strategy.get_mut(signal.strategy.index()) {
                counts.count(refusal);
            }
        }
    }

    /// Turns a signal into an exit, an entry, or both, through the checks.
    /// What the checks see of instrument `id` (holding `position`) for a signal of
    /// market time `now`.
    fn check_context<'a>(
        &'a self,
        id: InstrumentId,
        position: &'a Position,
        now: UnixNanos,
    ) -> CheckContext<'a> {
        let (_, time) = ist_day_and_time(now);
        CheckContext {
            position,
            instrument: self.limits.specs[id.index()],
            quote: self.limits.quotes[id.index()],
            time,
            trading: self.state,
            exposure: self.book.committed_exposure(),
            freed: Money::ZERO,
            now,
            market_time: self.market_time,
            last_order: self.last_order[id.index()],
            last_tick: Some(self.last_tick[id.index()]).filter(|t| t.0 > 0),
            feed_stale: self.feed_stale,
            equity: self.sizing_base(),
            limits: &self.limits,
        }
    }

    /// A dry run of an entry's checks and sizing on the next instrument with a quote, as
    /// a long of the first strategy at the ask: the path a real signal takes through
    /// [`RiskStage::decide`], minus the sending. Changes nothing but the instrument
    /// cursor; the result is thrown away (see `runtime::Rehearsal`).
    #[inline(never)]
    fn rehearse(&mut self) {
        let instruments = self.book.instruments();
        if instruments == 0 {
            return;
        }
        self.rehearse_at = (self.rehearse_at + 1) % instruments;
        let id = InstrumentId(self.rehearse_at as u32);
        let ask = self.limits.quotes[id.index()].ask;
        if !ask.is_positive() {
            return;
        }
        let position = *self.book.position(id);
        let ctx = self.check_context(id, &position, self.market_time);
        let mut entry = Proposal {
            instrument: id,
            strategy: StrategyId(0),
            side: Side::Buy,
            reason: IntentReason::Entry,
            reference: ask,
            stop: Price::ZERO,
            qty: Qty::ZERO,
            weight_pct: Signal::FULL_WEIGHT,
        };
        let checked = self.checks.run(&mut entry, &ctx);
        let _ = std::hint::black_box((checked, entry));
    }

    fn decide(&mut self, signal: &Signal) -> Result<(), Refusal> {
        let id = signal.instrument;
        let lot_size = *self
            .lots
            .get(id.index())
            .ok_or(Refusal::UnknownInstrument)?;
        if signal.strategy.index() >= self.strategy_count {
            return Err(Refusal::UnknownStrategy);
        }
        if lot_size == 0 {
            return Err(Refusal::NotTradable);
        }
        if self.state == TradingState::Halted {
            // The kill switch: strategies trade nothing, exits included; the stage's own
            // exits and the operator's closes still flow.
            return Err(Refusal::Halted);
        }
        let position = *self.book.position(id);
        let entry_side = match signal.direction {
            Direction::Long => Some(Side::Buy),
            Direction::Short => Some(Side::Sell),
            Direction::Flat => None,
        };
        let exit_side = position.closing_side();
        let ctx = self.check_context(id, &position, signal.exchange_ts);
        // What every order of this signal shares; on its own, a probe that sends nothing.
        let base = Proposal {
            instrument: id,
            strategy: signal.strategy,
            side: Side::Buy,
            reason: IntentReason::Exit,
            reference: signal.price,
            stop: Price::ZERO,
            qty: Qty::ZERO,
            weight_pct: signal.weight_pct,
        };
        let mut exit = exit_side.map(|side| Proposal {
            side,
            qty: position.open_qty(),
            ..base
        });
        let mut entry = entry_side.map(|side| Proposal {
            side,
            reason: IntentReason::Entry,
            stop: signal.stop,
            ..base
        });
        let holding_wanted = match (exit_side, entry_side) {
            (None, None) => true,
            (Some(exit), Some(entry)) => exit != entry,
            _ => false,
        };
        if holding_wanted {
            // Already where the strategy wants to be: nothing to send. Another strategy's
            // ownership or an order in flight is the better reason, when there is one.
            let mut probe = base;
            Ownership.check(&mut probe, &ctx)?;
            OneOrderAtATime.check(&mut probe, &ctx)?;
            return Err(if exit_side.is_some() {
                Refusal::AlreadyInPosition
            } else {
                Refusal::AlreadyFlat
            });
        }
        if let Some(exit) = exit.as_mut() {
            self.checks.run(exit, &ctx)?;
        }
        let entry_checked = match entry.as_mut() {
            Some(entry) => {
                // The exit sent with this entry frees the exposure of the position it closes.
                let freed = if exit.is_some() {
                    position.exposure()
                } else {
                    Money::ZERO
                };
                let ctx = CheckContext {
                    exposure: ctx.exposure.saturating_add(freed.neg()),
                    freed,
                    ..ctx
                };
                self.checks.run(entry, &ctx)
            }
            None => Ok(()),
        };
        if let Some(exit) = exit {
            self.send(&exit, Price::ZERO, signal.exchange_ts, signal.ingress)?;
        }
        entry_checked?;
        if let Some(entry) = entry {
            // A target on the wrong side of the entry would book at once: ignored.
            let target = match entry.side {
                Side::Buy if signal.target > entry.reference => signal.target,
                Side::Sell if signal.target.is_positive() && signal.target < entry.reference => {
                    signal.target
                }
                _ => Price::ZERO,
            };
            self.send(&entry, target, signal.exchange_ts, signal.ingress)?;
        }
        Ok(())
    }

    /// Sends a market exit of `qty` units (at most the open position), for its owner,
    /// referenced at the latest mark, and counts it as a forced exit of its kind.
    fn force_exit(
        &mut self,
        id: InstrumentId,
        reason: IntentReason,
        qty: Qty,
        exchange_ts: UnixNanos,
        ingress: Stamp,
    ) -> Result<(), Refusal> {
        self.send_exit(id, reason, qty, exchange_ts, ingress)?;
        self.exits.forced.count(reason);
        Ok(())
    }

    /// Sends a market exit of `qty` units (at most the open position), for its owner,
    /// referenced at the latest mark.
    fn send_exit(
        &mut self,
        id: InstrumentId,
        reason: IntentReason,
        qty: Qty,
        exchange_ts: UnixNanos,
        ingress: Stamp,
    ) -> Result<(), Refusal> {
        let position = *self.book.position(id);
        let Some(side) = position.closing_side() else {
            return Ok(());
        };
        let exit = Proposal {
            instrument: id,
            strategy: position.owner().unwrap_or_default(),
            side,
            reason,
            reference: position.mark(),
            stop: Price::ZERO,
            qty: qty.min(position.open_qty()),
            weight_pct: Signal::FULL_WEIGHT,
        };
        self.send(&exit, Price::ZERO, exchange_ts, ingress)
    }

    /// Sends the refused exits whose retry is due at `now` while the outbox has room,
    /// re-priced at the latest mark (they are market orders: the venue fills them at
    /// its touch). A retry of a position now flat, or with another order out, is
    /// dropped: that order's answer decides what comes next.
    fn send_due_retries(&mut self, now: UnixNanos, ingress: Stamp) {
        while self.out.is_clear() {
            let Some((id, due)) = self.exits.retry.take_due(now) else {
                break;
            };
            let position = *self.book.position(id);
            if !position.is_open() {
                self.exits.closed(id);
                continue;
            }
            if position.orders_in_flight() > 0 {
                continue;
            }
            if !self.exit_allowed(due.reason) {
                // Halted with manual exits only: the retry is dropped; the stage's exit
                // rules decide again once trading resumes.
                self.counters.exits_held_by_halt += 1;
                continue;
            }
            if self
                .send_exit(id, due.reason, due.qty, now, ingress)
                .is_err()
            {
                // No free in-flight slot: due again on the next event.
                self.exits.retry.put_back(id, due);
                self.counters.exits_deferred += 1;
                break;
            }
        }
    }

    /// The final answer to an exit: a booked target moves the stop to at least
    /// break-even; units left unfilled (refused, or cancelled) wait for a retry with
    /// backoff, and the position is flagged, with a critical alert, once its exit has
    /// failed `risk.exit_max_attempts` times.
    fn exit_answered(&mut self, flight: &InFlight, r: &ExecReport) {
        if flight.reason == IntentReason::Entry {
            return;
        }
        let id = flight.instrument;
        let position = *self.book.position(id);
        if !position.is_open() {
            self.exits.closed(id);
            return;
        }
        if flight.reason == IntentReason::Target && !flight.filled.is_zero() {
            let stop = self.exits.target_answered(id, &position, flight.filled);
            self.book.set_stop(id, stop);
            return;
        }
        let unfilled = Qty::new(flight.qty.get().saturating_sub(flight.filled.get()));
        if unfilled.is_zero() {
            return;
        }
        if self
            .exits
            .retry
            .failed(id, r.exchange_ts, flight.reason, unfilled)
        {
            self.control.alert(Alert {
                exchange_ts: r.exchange_ts,
                kind: "exit_failed",
                instrument: Some(id),
                level: AlertLevel::Critical,
                state: self.state,
                detail: "an exit failed risk.exit_max_attempts times; the position stays open and retries go on",
            });
        }
    }

    /// Records a proposal as in flight, reserves an entry's exposure and ownership, and
    /// pushes the intent.
    fn send(
        &mut self,
        p: &Proposal,
        target: Price,
        exchange_ts: UnixNanos,
        ingress: Stamp,
    ) -> Result<(), Refusal> {
        let reserved = if p.is_entry() {
            p.reference.notional(p.qty)
        } else {
            Money::ZERO
        };
        let inserted = self.in_flight.insert(
            InFlight {
                id: IntentId(0),
                instrument: p.instrument,
                strategy: p.strategy,
                side: p.side,
                reason: p.reason,
                qty: p.qty,
                filled: Qty::ZERO,
                reference: p.reference,
                stop: p.stop,
                target,
                reserved,
                charges: OrderCharges::default(),
            },
            !p.is_entry(),
        );
        let id = match inserted {
            Ok(id) => id,
            Err(full) => {
                if full.first {
                    self.control.alert(Alert {
                        exchange_ts,
                        kind: "in_flight_full",
                        instrument: Some(p.instrument),
                        level: AlertLevel::Critical,
                        state: self.state,
                        detail: "every in-flight slot for entries is taken by unanswered orders; entries are refused (risk.max_in_flight)",
                    });
                }
                return Err(Refusal::InFlightFull);
            }
        };
        self.book.order_sent(p.instrument);
        if !p.is_entry() {
            self.unprotect(p.instrument.index(), true);
        }
        if p.is_entry() {
            self.book.reserve(reserved);
            self.limits.exposure.reserve(p.instrument, reserved);
            self.book.set_owner(p.instrument, Some(p.strategy));
        }
        self.events.exit_sent(p.reason);
        // Market orders today; a limit, once orders carry one, goes on the tick grid
        // where it cannot trade worse than approved.
        let tick_size = self.limits.specs[p.instrument.index()].tick_size;
        let intent = OrderIntent {
            id,
            exchange_ts,
            ingress,
            limit: round_limit(p.side, Price::ZERO, tick_size),
            qty: p.qty,
            instrument: p.instrument,
            strategy: p.strategy,
            side: p.side,
            reason: p.reason,
            reference: p.reference,
        };
        self.journal_record(exchange_ts, &Record::Intent(intent));
        // Timed before the intent leaves, recorded after (see `SignalStage`'s signals).
        let since = (ingress != Stamp(0)).then(|| self.clock.nanos_since(ingress));
        self.dispatch(OrderInput::Intent(RiskApproved::new(intent)));
        if let Some(since) = since {
            self.tick_to_approval.record(since);
        }
        self.counters.intents += 1;
        Ok(())
    }

    // ----- protective stops --------------------------------------------------------------

    /// Brings the protective stops of the instruments whose position or stop changed up
    /// to date, while the outbox has room (see `risk::protect`).
    ///
    /// Called after every input, and nothing waits on almost all of them: that case is one
    /// inlined check, and the loop stays out of line (a call on every tick cost about 18
    /// instructions of register saves and restores).
    #[inline]
    fn send_protection(&mut self) -> usize {
        if !self.protection.has_pending() {
            return 0;
        }
        self.send_pending_protection()
    }

    /// The loop of [`RiskStage::send_protection`], once an instrument waits.
    #[inline(never)]
    fn send_pending_protection(&mut self) -> usize {
        let mut n = 0;
        while self.protection.is_enabled() && self.out.is_clear() {
            let Some(i) = self.protection.take() else {
                break;
            };
            n += self.protect(i);
        }
        n
    }

    /// Places, moves or ends instrument `i`'s protective stop to match its position.
    /// Waits while an order of the engine is out (its final answer looks again), while a
    /// cancel is answered, and once the square-off has begun.
    fn protect(&mut self, i: usize) -> usize {
        let id = InstrumentId(i as u32);
        let position = *self.book.position(id);
        let Some(guard) = self.protection.guard(i).copied() else {
            return 0;
        };
        if guard.closing || position.orders_in_flight() > 0 || self.square_off.is_active() {
            return 0;
        }
        let wanted = match position.closing_side() {
            Some(side) if position.stop().is_positive() => Some(Wanted {
                side: Some(side),
                qty: position.open_qty(),
                trigger: position.stop(),
            }),
            _ => None,
        };
        match (guard.intent, wanted) {
            (None, None) => 0,
            (None, Some(w)) => {
                if guard.refused == Some(w) || self.session_ended {
                    return 0;
                }
                let Some(side) = w.side else {
                    return 0;
                };
                let strategy = position.owner().unwrap_or_default();
                let Ok(intent) = self.in_flight.insert(
                    InFlight {
                        id: IntentId(0),
                        instrument: id,
                        strategy,
                        side,
                        reason: IntentReason::StopLoss,
                        qty: w.qty,
                        filled: Qty::ZERO,
                        reference: w.trigger,
                        stop: Price::ZERO,
                        target: Price::ZERO,
                        reserved: Money::ZERO,
                        charges: OrderCharges::default(),
                    },
                    true,
                ) else {
                    // No slot: the next change of the position or its stop tries again.
                    return 0;
                };
                if let Some(g) = self.protection.guard_mut(i) {
                    g.intent = Some(intent);
                    g.sent = w;
                    g.refused = None;
                }
                self.send_protect(intent, id, strategy, side, w.qty, w.trigger, false);
                1
            }
            (Some(_), None) => self.unprotect(i, false),
            (Some(intent), Some(w)) => {
                let Some(flight) = self.in_flight.get_mut(intent).copied() else {
                    return 0;
                };
                let remaining = flight.qty.saturating_sub(flight.filled);
                if w.side != guard.sent.side || w.qty != remaining {
                    // Other units: cancel, and place anew once the cancel is answered.
                    return self.unprotect(i, false);
                }
                if w.trigger == guard.sent.trigger {
                    return 0;
                }
                if let Some(g) = self.protection.guard_mut(i) {
                    g.sent.trigger = w.trigger;
                }
                let side = flight.side;
                self.send_protect(
                    intent,
                    id,
                    flight.strategy,
                    side,
                    remaining,
                    w.trigger,
                    false,
                );
                1
            }
        }
    }

    /// Ends instrument `i`'s protective stop, if it has one: zero units, with what risk
    /// booked of it so far. `exit_follows` when the stage's own exit is the next message,
    /// so the order stage takes units the stop filled unseen off that exit.
    fn unprotect(&mut self, i: usize, exit_follows: bool) -> usize {
        let Some(guard) = self.protection.guard_mut(i) else {
            return 0;
        };
        let Some(intent) = guard.intent else {
            return 0;
        };
        guard.closing = true;
        let Some(flight) = self.in_flight.get_mut(intent).copied() else {
            return 0;
        };
        self.send_protect(
            intent,
            flight.instrument,
            flight.strategy,
            flight.side,
            Qty::ZERO,
            Price::ZERO,
            exit_follows,
        );
        1
    }

    #[allow(clippy::too_many_arguments)]
    fn send_protect(
        &mut self,
        intent: IntentId,
        instrument: InstrumentId,
        strategy: StrategyId,
        side: Side,
        qty: Qty,
        trigger: Price,
        exit_follows: bool,
    ) {
        let booked = self
            .in_flight
            .get_mut(intent)
            .map_or(Qty::ZERO, |f| f.filled);
        self.dispatch(OrderInput::Protect(ProtectStop {
            intent,
            exchange_ts: self.market_time,
            trigger,
            qty,
            booked,
            instrument,
            strategy,
            side,
            exit_follows,
        }));
    }

    // ----- lifecycle --------------------------------------------------------------------

    fn counter_list(&self) -> [(&'static str, u64); 25] {
        let c = self.counters;
        let [journaled, journal_failures] = self.journal.counters();
        [
            ("marks", c.marks),
            ("signals", c.signals),
            ("intents", c.intents),
            ("refused", self.refusals.total()),
            (
                "refused_stale_quote",
                self.refusals.get(Refusal::StaleQuote),
            ),
            ("refused_stale_feed", self.refusals.get(Refusal::FeedStale)),
            ("fills", c.fills),
            ("reports", c.reports),
            ("ring_full", self.out.stalls()),
            ("unknown_reports", c.unknown_reports),
            ("bad_ticks", c.bad_ticks),
            ("exits_deferred", c.exits_deferred),
            ("exits_held_by_halt", c.exits_held_by_halt),
            ("scale_ins", c.scale_ins),
            ("scale_ins_refused", c.scale_ins_refused),
            ("fills_not_logged", self.fills_not_logged),
            ("commands", c.commands),
            ("manual_exits", c.manual_exits),
            ("open_positions", self.book.open_positions() as u64),
            ("alerts_dropped", self.control.alerts_dropped()),
            ("control_rows_dropped", self.control.stream_dropped()),
            ("exit_retries", self.exits.retry.retries()),
            ("exits_failed", self.exits.retry.failed_exits()),
            journaled,
            journal_failures,
        ]
    }

    /// Journals `record`. A record the journal cannot take is fatal: a day that is not
    /// recorded cannot be rebuilt after a crash, so the stage stops trading it.
    #[inline]
    fn journal_record(&mut self, ts: UnixNanos, record: &Record) {
        if !self.journal.record(ts, record) {
            self.journal_trouble(
                "the journal could not take a record; the day could not be rebuilt",
            );
        }
    }

    /// The journal cannot keep the day any more: a `journal` alert (critical), then the
    /// fatal path, so new entries halt rather than trade on unrecorded. Cold: once.
    #[cold]
    fn journal_trouble(&mut self, why: &'static str) {
        if self.error.is_some() {
            return;
        }
        self.control.alert(Alert {
            exchange_ts: self.market_time,
            kind: "journal",
            instrument: None,
            level: AlertLevel::Critical,
            state: self.state,
            detail: why,
        });
        self.fail(why);
    }

    fn publish(&self) {
        let gauges = &self.telemetry.risk;
        gauges.intents.set(self.counters.intents);
        gauges.open_positions.set(self.book.open_positions() as u64);
        gauges.pnl_paise.set(
            self.book
                .realized()
                .saturating_add(self.book.unrealized())
                .to_paise_saturating(),
        );
    }

    fn is_done(&mut self) -> bool {
        self.out.is_clear()
            && (self.in_flight.is_empty() || (self.end_answered && self.only_stops_rest()))
            && self.square_off.is_idle()
            && self.input.is_finished()
    }

    /// True once the session has ended and the only orders still out are protective
    /// stops resting at the venue, none being cancelled: the positions they guard were
    /// left open (`risk.on_shutdown = "leave"`, or an exit that did not fill), and the
    /// stops stay at the broker to guard them after the run (see `risk::protect`), so
    /// their final answers are not waited for. Cold: only once the session ended and
    /// the order stage answered the end.
    #[cold]
    fn only_stops_rest(&self) -> bool {
        self.in_flight.len() == self.protection.resting()
    }

    /// Once the input has ended and nothing else is left to send, orders still out get
    /// their final answers by ending the venue's session ([`OrderInput::EndSession`]).
    fn end_session(&mut self) -> usize {
        if self.session_ended
            || self.in_flight.is_empty()
            || !self.out.is_clear()
            || !self.square_off.is_idle()
            || !self.input.is_finished()
            || self.awaiting_sync
        {
            return 0;
        }
        self.session_ended = true;
        self.dispatch(OrderInput::EndSession(self.market_time));
        1
    }

    /// True when the order stage is gone: no answer can come any more.
    fn order_stage_gone(&mut self) -> bool {
        self.reports.is_finished()
    }
}

impl Stage for RiskStage {
    fn name(&self) -> &'static str {
        "risk"
    }

    fn poll(&mut self) -> Poll {
        let clear = self.out.flush();
        // Reports are drained even when the outbox is backed up: the order stage may be
        // waiting for room in this direction before it reads more intents.
        let mut work = self.drain_reports();
        work += self.apply_waiting_broker();
        if clear {
            // Commands first: `close` and `flatten` send orders, so they wait, like
            // inputs, for a clear outbox.
            for _ in 0..COMMANDS_PER_POLL {
                let Some(command) = self.control.take_command() else {
                    break;
                };
                self.on_command(command);
                work += 1;
            }
            // With market-time sync, the stage's own orders (protective stops, the
            // square-off, the shutdown flatten) go only once every answer due has been
            // booked: before that, which reports have arrived depends on thread timing,
            // and so would the decisions and the in-flight slots they take.
            if !self.awaiting_sync {
                work += self.send_protection();
                work += self.drain_square_off();
            }
            work += self.read_inputs();
            if !self.awaiting_sync {
                work += self.shutdown_flatten();
            }
            self.request_sync();
            work += self.end_session();
        }
        if let Some(review) = self.review.as_mut() {
            // Every answer due before the request is booked once no sync is out (live,
            // answers come when the broker sends them and nothing is waited for).
            work += review.answer(!self.awaiting_sync);
            if review.overflowed() > 0 {
                self.fail("the answer to an allocation review overflowed its ring");
            }
        }
        if self.out.overflowed() > 0 {
            self.fail("the outbox to the order stage overflowed and lost an order");
        }
        if self.error.is_none() && self.journal.in_trouble() {
            self.journal_trouble(
                "the journal failed (disk full, unwritable or an msync error); the day \
                 could not be rebuilt",
            );
        }
        if work > 0 {
            self.publish();
            return Poll::Work(work);
        }
        if self.order_stage_gone() {
            if !self.in_flight.is_empty() || !self.is_done() {
                self.error.get_or_insert(ORDER_STAGE_GONE);
            }
            return Poll::Done;
        }
        if clear && self.is_done() {
            return Poll::Done;
        }
        if self.rehearsal.due(&self.clock) {
            self.rehearse();
        }
        Poll::Idle
    }

    fn finish(mut self: Box<Self>) -> StageReport {
        self.journal_daily_marks();
        build_report(*self)
    }
}

impl RiskStage {
    /// Journals each instrument's last mark: the prices the day's open positions and
    /// unrealised P&L were valued at. Once, at the end (counted if it fails: the day's
    /// trading is over, nothing is left to halt).
    fn journal_daily_marks(&mut self) {
        if !self.journal.is_on() {
            return;
        }
        for i in 0..self.book.instruments() {
            let instrument = InstrumentId(i as u32);
            let mark = self.book.position(instrument).mark();
            if mark > Price::ZERO {
                self.journal.record(
                    self.market_time,
                    &Record::DailyMark(DailyMark { instrument, mark }),
                );
            }
        }
    }
}

/// Builds the stage report (off the hot path).
fn build_report(stage: RiskStage) -> StageReport {
    let mut report = StageReport::new("risk");
    report.counters = stage.counter_list().to_vec();
    report.latencies = vec![
        ("tick_to_risk", stage.tick_to_risk),
        ("tick_to_approval", stage.tick_to_approval),
    ];
    report.detail = Some(Box::new(TradingSummary {
        fills: stage.fills,
        fills_not_logged: stage.fills_not_logged,
        positions: stage.book.snapshot_positions(),
        strategies: stage.book.snapshot_strategies(),
        realized: stage.book.realized(),
        charges: *stage.book.charges(),
        equity: stage.book.equity(stage.config.capital),
        unrealized: stage.book.unrealized(),
        refusals: stage.refusals.to_vec(),
        refusals_by_strategy: stage
            .refusals_by_strategy
            .iter()
            .map(RefusalCounts::to_vec)
            .collect(),
        risk_events: RiskEventSummary::of(
            &stage.events,
            &stage.exits.forced,
            stage.state,
            stage.state_reason,
        ),
        forced_exits: stage.exits.forced.to_vec(),
        exit_retries: stage.exits.retry.retries(),
        exits_failed: stage.exits.retry.failed_exits(),
        exits_held_by_halt: stage.counters.exits_held_by_halt,
        scale_ins: stage.counters.scale_ins,
        scale_ins_refused: stage.counters.scale_ins_refused,
    }));
    report.service = stage.service.into_histogram();
    report.error = stage.error.map(|what| StageError::fatal("risk", what));
    report
}

#[cfg(test)]
mod tests;
