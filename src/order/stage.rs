//! The order stage: carries out approved intents through a gateway and reports back.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use tickpipe_ringbuf::Consumer;

use crate::{
    metrics::{LatencyHistogram, Telemetry},
    model::{
        Alert, AlertLevel, ClientOrderId, ControlCommand, ControlReply, ExecKind, ExecReport,
        InstrumentTable, IntentId, Money, OrderInput, OrderIntent, OrderOutput, Price, Qty,
        RejectReason, Stamp, TradeId, TradingState, UnixNanos,
    },
    order::{
        book::{Order, OrderBook},
        gateway::Gateway,
        state::{OrderEvent, OrderState},
        venue::{OrderType, Product, VenueEvent, VenueOrder, VenueReport},
    },
    runtime::{
        ControlPort, LatencyClock, Outbox, Poll, ServiceTimer, Stage, StageError, StageReport,
        COMMANDS_PER_POLL,
    },
};

/// Most input messages handled per `poll()`: twice the risk stage's batch, so a backlog
/// in the ring from it drains (see [`EVENTS_PER_POLL`](crate::signal::EVENTS_PER_POLL)).
const BATCH: usize = 512;

/// Finished orders the stage remembers for `orders` on the control socket.
pub const RECENT_ORDERS: usize = 32;

/// Most working orders one `orders` answer lists (the count is always exact).
pub const MAX_WORKING_ROWS: usize = 256;

/// Live orders the book holds at once. Intents wait in the ring, not here, so this only
/// bounds orders a slow venue has not answered yet.
pub const ORDER_BOOK_CAPACITY: usize = 4096;

/// Market protection on market orders, in basis points: exchanges refuse market orders
/// without it.
const MARKET_PROTECTION_BPS: u16 = 300;

/// What the stage counts, reported by [`Stage::finish`].
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    quotes: u64,
    intents: u64,
    orders: u64,
    fills: u64,
    rejects: u64,
    unknown_reports: u64,
    invalid_reports: u64,
}

/// The live orders and the way back to the risk stage: every gateway report passes
/// through here.
#[derive(Debug)]
struct Desk {
    book: OrderBook,
    out: Outbox<OrderOutput>,
    counters: Counters,
    error: Option<&'static str>,
    recent: Recent,
}

/// The last [`RECENT_ORDERS`] finished orders, overwritten oldest first.
#[derive(Debug)]
struct Recent {
    orders: [Option<Order>; RECENT_ORDERS],
    next: usize,
}

impl Recent {
    fn push(&mut self, order: Order) {
        self.orders[self.next] = Some(order);
        self.next = (self.next + 1) % RECENT_ORDERS;
    }

    /// Newest first.
    fn iter(&self) -> impl Iterator<Item = &Order> {
        (1..=RECENT_ORDERS)
            .map(move |back| (self.next + RECENT_ORDERS - back) % RECENT_ORDERS)
            .filter_map(move |i| self.orders[i].as_ref())
    }
}

impl Desk {
    /// Checks a venue report against its order's state machine and quantities, updates
    /// the order, and forwards what it means to risk as an [`ExecReport`] with the order's
    /// own accounting.
    ///
    /// A report for no live order, or one the state machine refuses (a duplicate, an
    /// answer after the final one), is counted and dropped. Fills beyond the order
    /// quantity mean the gateway and the book disagree about money: the stage records the
    /// error and stops.
    fn route(&mut self, report: VenueReport) {
        let id = IntentId(report.order.0);
        let Some(order) = self.book.get_mut(id) else {
            self.counters.unknown_reports += 1;
            return;
        };
        let mut cum_qty = order.cum_qty;
        let kind = match report.event {
            VenueEvent::Accepted => ExecKind::Accepted,
            VenueEvent::Fill => {
                let cum = order.cum_qty.checked_add(report.last_qty).ok();
                match cum {
                    Some(cum) if !report.last_qty.is_zero() && cum <= order.intent.qty => {
                        cum_qty = cum;
                        if cum == order.intent.qty {
                            ExecKind::Filled
                        } else {
                            ExecKind::PartialFill
                        }
                    }
                    _ => {
                        self.counters.invalid_reports += 1;
                        self.error.get_or_insert(
                            "the gateway reported fills that do not add up to the order",
                        );
                        return;
                    }
                }
            }
            VenueEvent::Rejected => ExecKind::Rejected,
            VenueEvent::Cancelled => ExecKind::Cancelled,
            VenueEvent::Expired => ExecKind::Expired,
            VenueEvent::Modified | VenueEvent::ModifyRejected | VenueEvent::CancelRejected => {
                // Nothing changes for risk until the order fills or ends.
                return;
            }
        };
        let Ok(next) = order.state.on(OrderEvent::from(kind)) else {
            self.counters.invalid_reports += 1;
            return;
        };
        if matches!(kind, ExecKind::PartialFill | ExecKind::Filled) {
            order.cum_qty = cum_qty;
            order.filled_value = order
                .filled_value
                .saturating_add(report.last_price.notional(report.last_qty));
            self.counters.fills += 1;
        }
        if kind == ExecKind::Rejected {
            self.counters.rejects += 1;
        }
        order.state = next;
        let out = ExecReport {
            intent: id,
            exchange_ts: report.exchange_ts,
            ingress: order.intent.ingress,
            last_price: report.last_price,
            instrument: order.intent.instrument,
            last_qty: report.last_qty,
            cum_qty: order.cum_qty,
            leaves_qty: order.leaves_qty(),
            strategy: order.intent.strategy,
            side: order.intent.side,
            kind,
            reject: report.reject,
            trade: report.trade,
        };
        if next.is_terminal() {
            if let Some(done) = self.book.remove(id) {
                self.recent.push(done);
            }
        }
        self.out.push(OrderOutput::Report(out));
    }

    /// Answers an intent the stage cannot place, without the gateway.
    fn reject(&mut self, intent: &OrderIntent, reason: RejectReason) {
        self.counters.rejects += 1;
        self.recent.push(Order {
            intent: *intent,
            state: OrderState::Rejected,
            cum_qty: Qty::ZERO,
            filled_value: Money::ZERO,
        });
        self.out.push(OrderOutput::Report(ExecReport {
            intent: intent.id,
            exchange_ts: intent.exchange_ts,
            ingress: intent.ingress,
            last_price: Price::ZERO,
            instrument: intent.instrument,
            last_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            leaves_qty: Qty::ZERO,
            strategy: intent.strategy,
            side: intent.side,
            kind: ExecKind::Rejected,
            reject: reason,
            trade: TradeId(0),
        }));
    }
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
    instrument_count: usize,
    clock: LatencyClock,
    telemetry: Arc<Telemetry>,
    service: ServiceTimer,
    tick_to_intent: LatencyHistogram,
    control: ControlPort,
    stop: Option<Arc<AtomicBool>>,
    /// Reports refused so far that an alert has told the operator about.
    refused_reports_alerted: u64,
    fatal_alerted: bool,
    /// The latest market time seen (quotes, intents, syncs).
    market_time: UnixNanos,
    /// True once the gateway was told no more input will come.
    session_ended: bool,
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
    /// An order stage sending to `gateway`, reporting to risk through `reports`.
    pub fn new(
        input: Consumer<OrderInput>,
        reports: Outbox<OrderOutput>,
        gateway: Box<dyn Gateway>,
        instruments: &InstrumentTable,
        clock: LatencyClock,
        telemetry: Arc<Telemetry>,
    ) -> OrderStage {
        OrderStage {
            input,
            gateway,
            desk: Desk {
                book: OrderBook::new(ORDER_BOOK_CAPACITY),
                out: reports,
                counters: Counters::default(),
                error: None,
                recent: Recent {
                    orders: [None; RECENT_ORDERS],
                    next: 0,
                },
            },
            instrument_count: instruments.len(),
            clock,
            telemetry,
            service: ServiceTimer::new(),
            tick_to_intent: LatencyHistogram::new(),
            control: ControlPort::detached(),
            stop: None,
            refused_reports_alerted: 0,
            fatal_alerted: false,
            market_time: UnixNanos(0),
            session_ended: false,
        }
    }

    /// Tells the operator about errors: refused gateway reports (recoverable: counted,
    /// trading goes on) and a fatal disagreement with the gateway (the run stops).
    fn alert_errors(&mut self) {
        let c = self.desk.counters;
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

    /// The same stage answering the control plane through `port`.
    pub fn with_control(mut self, port: ControlPort) -> OrderStage {
        self.control = port;
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

    fn counter_list(&self) -> [(&'static str, u64); 10] {
        let c = self.desk.counters;
        [
            ("quotes", c.quotes),
            ("intents", c.intents),
            ("orders", c.orders),
            ("fills", c.fills),
            ("rejects", c.rejects),
            ("ring_full", self.desk.out.stalls()),
            ("unknown_reports", c.unknown_reports),
            ("invalid_reports", c.invalid_reports),
            ("live_orders", self.desk.book.len() as u64),
            ("alerts_dropped", self.control.dropped()),
        ]
    }

    /// Live orders.
    pub fn live_orders(&self) -> usize {
        self.desk.book.len()
    }

    fn on_intent(&mut self, intent: &OrderIntent) {
        self.desk.counters.intents += 1;
        if intent.instrument.index() >= self.instrument_count {
            self.desk.reject(intent, RejectReason::UnknownInstrument);
            return;
        }
        let Ok(order) = self.desk.book.insert(*intent) else {
            self.desk.reject(intent, RejectReason::Throttled);
            return;
        };
        order.state = OrderState::Sent;
        if intent.ingress != Stamp(0) {
            self.tick_to_intent
                .record(self.clock.nanos_since(intent.ingress));
        }
        self.desk.counters.orders += 1;
        let order = VenueOrder {
            id: ClientOrderId(intent.id.0),
            sent_ts: intent.exchange_ts,
            limit: intent.limit,
            trigger: Price::ZERO,
            qty: intent.qty,
            instrument: intent.instrument,
            protection_bps: MARKET_PROTECTION_BPS,
            side: intent.side,
            kind: if intent.is_market() {
                OrderType::Market
            } else {
                OrderType::Limit
            },
            product: Product::Mis,
        };
        self.market_time = self.market_time.max(intent.exchange_ts);
        let desk = &mut self.desk;
        self.gateway.submit(&order, &mut |r| desk.route(r));
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
                    self.market_time = self.market_time.max(tick.exchange_ts);
                    let desk = &mut self.desk;
                    self.gateway.on_quote(&tick, &mut |r| desk.route(r));
                }
                OrderInput::Intent(approved) => self.on_intent(approved.intent()),
                OrderInput::Sync(now) => {
                    self.market_time = self.market_time.max(now);
                    let desk = &mut self.desk;
                    self.gateway.advance(now, &mut |r| desk.route(r));
                    self.desk.out.push(OrderOutput::Synced(now));
                }
                OrderInput::EndSession(now) => {
                    self.market_time = self.market_time.max(now);
                    self.end_session();
                }
            }
            self.service.stop(&self.clock, start);
            n += 1;
        }
        n
    }

    /// Tells the gateway the session is over, once.
    fn end_session(&mut self) {
        if self.session_ended {
            return;
        }
        self.session_ended = true;
        let desk = &mut self.desk;
        self.gateway
            .end_session(self.market_time, &mut |r| desk.route(r));
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
        let desk = &mut self.desk;
        let mut work = self.gateway.poll(&mut |r| desk.route(r));
        work += self.read_inputs();
        if work > 0 {
            self.publish();
            return Poll::Work(work);
        }
        if self.input.is_finished() {
            if !self.session_ended {
                // Nothing more will come: the venue ends the session (a paper exchange
                // expires what still works) and the answers go back to risk.
                self.end_session();
                return Poll::Work(1);
            }
            if self.desk.book.is_empty() {
                return Poll::Done;
            }
        }
        Poll::Idle
    }

    fn finish(self: Box<Self>) -> StageReport {
        let stage = *self;
        let mut report = StageReport::new("order");
        report.counters = stage.counter_list().to_vec();
        report.service = stage.service.into_histogram();
        report.latencies = vec![("tick_to_intent", stage.tick_to_intent)];
        report.error = stage
            .desk
            .error
            .map(|what| StageError::fatal("order", what));
        report
    }
}

#[cfg(test)]
mod tests;
