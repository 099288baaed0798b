//! The order stage with real rings, the paper gateway and scripted gateways.

use std::sync::Mutex;

use tickpipe_ringbuf::{channel, Producer};

use super::*;
use crate::{
    model::{
        ClientOrderId, ExecKind, ExecReport, Instrument, InstrumentId, IntentId, IntentReason,
        Price, Qty, RejectReason, SectorId, Side, StrategyId, Tick, TickKind, TradeId,
    },
    order::{Amend, OrderType, VenueEvent, VenueOrder, VenueReport},
};

mod end_session;
mod lifecycle;
mod protect;
mod resume;

const SEC: u64 = 1_000_000_000;

fn table() -> InstrumentTable {
    let mut t = InstrumentTable::new();
    t.push(Instrument::nse_equity("HDFCBANK", SectorId(0)))
        .unwrap();
    // An instrument with a freeze quantity of 1800 in lots of 75 (NIFTY options).
    let mut fo = Instrument::nse_equity("NIFTYOPT", SectorId(0));
    fo.lot_size = 75;
    fo.freeze_qty = 1800;
    t.push(fo).unwrap();
    t
}

fn p(s: &str) -> Price {
    s.parse().unwrap()
}

fn quote_at(ts: u64, bid: &str, ask: &str) -> OrderInput {
    OrderInput::Quote(Tick {
        exchange_ts: UnixNanos(ts),
        ingress: Stamp(0),
        last: p(bid),
        bid: p(bid),
        ask: p(ask),
        instrument: InstrumentId(0),
        volume: 0,
        last_qty: 0,
        bid_qty: 1,
        ask_qty: 1,
        kind: TickKind::Quote,
    })
}

fn quote(bid: &str, ask: &str) -> OrderInput {
    quote_at(1_000, bid, ask)
}

/// Intent number `seq` in slot `seq` (as risk issues them while nothing ends).
fn id(seq: u64) -> IntentId {
    IntentId::new(seq, seq as u32)
}

fn order_intent(seq: u64, instrument: u32, side: Side, qty: u32) -> OrderIntent {
    OrderIntent {
        id: id(seq),
        exchange_ts: UnixNanos(900),
        ingress: Stamp(0),
        limit: Price::ZERO,
        qty: Qty::new(qty),
        instrument: InstrumentId(instrument),
        strategy: StrategyId(1),
        side,
        reason: IntentReason::Entry,
        reference: Price::ZERO,
    }
}

fn approved(intent: OrderIntent) -> OrderInput {
    OrderInput::Intent(crate::risk::RiskApproved::for_tests(intent))
}

fn intent(seq: u64, instrument: u32, side: Side, qty: u32, ingress: Stamp) -> OrderInput {
    approved(OrderIntent {
        ingress,
        ..order_intent(seq, instrument, side, qty)
    })
}

struct Rig {
    stage: Box<OrderStage>,
    input: Option<Producer<OrderInput>>,
    reports: Consumer<OrderOutput>,
    telemetry: Arc<Telemetry>,
}

fn rig_with(gateway: Box<dyn Gateway>, report_slots: usize, config: &OrderConfig) -> Rig {
    let (input, input_rx) = channel(256);
    let (reports_tx, reports) = channel(report_slots);
    let telemetry = Arc::new(Telemetry::default());
    let stage = Box::new(OrderStage::new(
        input_rx,
        Outbox::new(reports_tx),
        gateway,
        &table(),
        OrderSetup {
            config,
            capacity: 64,
            strategies: 2,
        },
        LatencyClock::new(),
        telemetry.clone(),
    ));
    Rig {
        stage,
        input: Some(input),
        reports,
        telemetry,
    }
}

fn rig(gateway: Box<dyn Gateway>, report_slots: usize) -> Rig {
    rig_with(gateway, report_slots, &OrderConfig::default())
}

impl Rig {
    fn send(&mut self, msg: OrderInput) {
        self.input.as_mut().unwrap().try_push(msg).unwrap();
    }

    fn reports(&mut self) -> Vec<ExecReport> {
        std::iter::from_fn(|| self.reports.try_pop().ok())
            .filter_map(|o| match o {
                OrderOutput::Report(r) => Some(r),
                OrderOutput::Synced(_) | OrderOutput::Broker(_) => None,
            })
            .collect()
    }

    /// Polls until the stage has nothing more to do now.
    fn settle(&mut self) {
        for _ in 0..100 {
            if matches!(self.stage.poll(), Poll::Idle | Poll::Done) {
                return;
            }
        }
        panic!("the stage never settled");
    }
}

#[test]
fn fills_route_back_and_finish() {
    let clock = LatencyClock::new();
    let mut rig = rig(Box::new(crate::order::PaperGateway::new(&table())), 64);
    rig.send(quote("10.00", "10.05"));
    rig.send(intent(1, 0, Side::Buy, 7, clock.stamp()));
    rig.send(intent(2, 0, Side::Sell, 0, Stamp(0)));
    rig.send(intent(3, 5, Side::Sell, 1, Stamp(0)));
    assert_eq!(rig.stage.poll(), Poll::Work(4));
    let reports = rig.reports();
    let kinds: Vec<_> = reports
        .iter()
        .map(|r| (r.intent.sequence(), r.kind, r.reject))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, ExecKind::Accepted, RejectReason::None),
            (1, ExecKind::Filled, RejectReason::None),
            (2, ExecKind::Rejected, RejectReason::ZeroQty),
            (3, ExecKind::Rejected, RejectReason::UnknownInstrument),
        ]
    );
    assert_eq!(reports[1].last_price, p("10.05"));
    assert_eq!(rig.stage.live_orders(), 0);
    assert_eq!(rig.telemetry.order.orders.get(), 2);
    assert_eq!(rig.telemetry.order.fills.get(), 1);
    assert_eq!(rig.stage.poll(), Poll::Idle, "input still connected");
    rig.input = None;
    assert_eq!(rig.stage.poll(), Poll::Work(1), "the session ends");
    assert_eq!(rig.stage.poll(), Poll::Done);
    let report = rig.stage.finish();
    assert_eq!(report.name, "order");
    assert_eq!(report.counter("quotes"), 1);
    assert_eq!(report.counter("intents"), 3);
    assert_eq!(report.counter("orders"), 2);
    assert_eq!(report.counter("fills"), 1);
    assert_eq!(report.counter("rejects"), 2);
    assert_eq!(report.latency("tick_to_intent").unwrap().len(), 1);
    // One message in every 16 is timed, the first of them included.
    assert_eq!(report.service.len(), 4_u64.div_ceil(16));
    assert!(report.error.is_none());
    assert!(report.detail::<ExecutionSummary>().is_some());
}

#[test]
fn a_full_report_ring_holds_input_back() {
    let mut rig = rig(Box::new(crate::order::PaperGateway::new(&table())), 2);
    rig.send(quote("10.00", "10.05"));
    for seq in 1..=3 {
        rig.send(intent(seq, 0, Side::Buy, 1, Stamp(0)));
    }
    // Intent 1 fills the ring (2 reports); intent 2's reports are stashed and stop
    // the reading, so intent 3 waits in the input ring.
    assert_eq!(rig.stage.poll(), Poll::Work(3));
    assert_eq!(rig.stage.poll(), Poll::Idle);
    assert_eq!(rig.reports().len(), 2);
    assert!(matches!(rig.stage.poll(), Poll::Work(1)));
    assert_eq!(rig.reports().len(), 2, "intent 2 flushed, intent 3 stashed");
    rig.input = None;
    let mut polls = 0;
    let mut seen = 0;
    while rig.stage.poll() != Poll::Done {
        seen += rig.reports().len();
        polls += 1;
        assert!(polls < 10);
    }
    assert_eq!(seen + rig.reports().len(), 2);
    assert_eq!(rig.stage.finish().counter("ring_full"), 2);
}

/// What a [`Scripted`] gateway was asked, in order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Asked {
    Submit(VenueOrder),
    Modify(ClientOrderId, Amend),
    Cancel(ClientOrderId),
    TakeOver(crate::order::TakeOver),
}

/// The shared side of a [`Scripted`] gateway: what it was asked, and answers to hand
/// over at the next `poll`.
#[derive(Default)]
struct Script {
    asked: Vec<Asked>,
    later: Vec<VenueReport>,
    /// Answers to the next submits, one list per submit, in order; an empty list (or
    /// none left): no answer.
    on_submit: Vec<Vec<VenueEvent>>,
}

/// A gateway that answers as scripted.
struct Scripted {
    script: Arc<Mutex<Script>>,
}

impl Scripted {
    fn new() -> (Box<Scripted>, Arc<Mutex<Script>>) {
        let script = Arc::new(Mutex::new(Script::default()));
        (
            Box::new(Scripted {
                script: script.clone(),
            }),
            script,
        )
    }
}

impl Gateway for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn on_quote(&mut self, _quote: &Tick, _reports: crate::order::Reports<'_>) {}
    fn advance(&mut self, _now: UnixNanos, _reports: crate::order::Reports<'_>) {}
    fn submit(&mut self, order: &VenueOrder, reports: crate::order::Reports<'_>) {
        let answers = {
            let mut s = self.script.lock().unwrap();
            s.asked.push(Asked::Submit(*order));
            if s.on_submit.is_empty() {
                Vec::new()
            } else {
                s.on_submit.remove(0)
            }
        };
        for (n, event) in answers.into_iter().enumerate() {
            let r = match event {
                VenueEvent::Fill => VenueReport::fill(
                    order.id,
                    order.sent_ts,
                    p("10.05"),
                    order.qty,
                    TradeId(order.id.0 * 16 + n as u64),
                ),
                VenueEvent::Rejected => {
                    VenueReport::rejected(order.id, order.sent_ts, RejectReason::Network)
                }
                other => VenueReport::new(order.id, order.sent_ts, other),
            };
            reports(r);
        }
    }
    fn modify(
        &mut self,
        order: ClientOrderId,
        amend: &crate::order::Amend,
        _reports: crate::order::Reports<'_>,
    ) {
        self.script
            .lock()
            .unwrap()
            .asked
            .push(Asked::Modify(order, *amend));
    }
    fn cancel(&mut self, order: ClientOrderId, _reports: crate::order::Reports<'_>) {
        self.script.lock().unwrap().asked.push(Asked::Cancel(order));
    }
    fn poll(&mut self, reports: crate::order::Reports<'_>) -> usize {
        let later: Vec<VenueReport> = self.script.lock().unwrap().later.drain(..).collect();
        let n = later.len();
        for r in later {
            reports(r);
        }
        n
    }
    fn take_over(&mut self, order: &crate::order::TakeOver, _reports: crate::order::Reports<'_>) {
        self.script
            .lock()
            .unwrap()
            .asked
            .push(Asked::TakeOver(*order));
    }
    fn end_session(&mut self, _now: UnixNanos, _reports: crate::order::Reports<'_>) {}
}

/// An answer about child 0 of intent `seq`.
fn answer(seq: u64, event: VenueEvent, last_qty: u32) -> VenueReport {
    VenueReport {
        last_price: Price::from_paise(1000),
        last_qty: Qty::new(last_qty),
        trade: TradeId(u64::from(last_qty)),
        ..VenueReport::new(ClientOrderId::new(id(seq), 0), UnixNanos(1), event)
    }
}

#[test]
fn late_answers_pass_the_state_machine() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    assert_eq!(rig.stage.poll(), Poll::Work(1));
    assert!(rig.reports().is_empty());
    assert_eq!(rig.stage.live_orders(), 1);
    rig.input = None;
    assert_eq!(rig.stage.poll(), Poll::Work(1), "the session ends");
    assert_eq!(rig.stage.poll(), Poll::Idle, "an order is live");
    script.lock().unwrap().later = vec![
        answer(1, VenueEvent::Accepted, 0),
        answer(1, VenueEvent::Accepted, 0), // again: a late ack, dropped quietly
        answer(1, VenueEvent::Fill, 4),
        answer(9, VenueEvent::Fill, 1), // unknown order: dropped
        answer(1, VenueEvent::Fill, 6),
        answer(1, VenueEvent::Fill, 5), // after the end: unknown now
    ];
    assert_eq!(rig.stage.poll(), Poll::Work(6));
    let got: Vec<_> = rig
        .reports()
        .iter()
        .map(|r| (r.kind, r.cum_qty.get(), r.leaves_qty.get(), r.strategy))
        .collect();
    assert_eq!(
        got,
        [
            (ExecKind::Accepted, 0, 10, StrategyId(1)),
            (ExecKind::PartialFill, 4, 6, StrategyId(1)),
            (ExecKind::Filled, 10, 0, StrategyId(1)),
        ]
    );
    assert_eq!(rig.stage.poll(), Poll::Done);
    let report = rig.stage.finish();
    assert_eq!(report.counter("late_acks"), 1);
    assert_eq!(report.counter("invalid_reports"), 0);
    assert_eq!(report.counter("unknown_reports"), 2);
    assert!(report.error.is_none());
}

#[test]
fn an_overfill_stops_the_stage() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.send(intent(2, 0, Side::Buy, 10, Stamp(0)));
    rig.stage.poll();
    script.lock().unwrap().later = vec![answer(1, VenueEvent::Fill, 11)];
    rig.stage.poll();
    assert!(rig.reports().is_empty());
    assert_eq!(
        rig.stage.poll(),
        Poll::Done,
        "fail-stop with input connected"
    );
    let report = rig.stage.finish();
    assert!(report.error.unwrap().to_string().contains("do not add up"));
}

/// A gateway that takes every request silently and speaks up only from its own checks
/// (a broker's reconciliation, say): `alerts` for the control plane and `notices` for
/// the risk stage, each handed over once.
#[derive(Default)]
struct Reconciling {
    alerts: Vec<crate::model::Alert>,
    notices: Vec<crate::model::BrokerNotice>,
}

impl Gateway for Reconciling {
    fn name(&self) -> &'static str {
        "reconciling"
    }
    fn on_quote(&mut self, _: &Tick, _: crate::order::Reports<'_>) {}
    fn advance(&mut self, _: UnixNanos, _: crate::order::Reports<'_>) {}
    fn submit(&mut self, _: &VenueOrder, _: crate::order::Reports<'_>) {}
    fn modify(&mut self, _: ClientOrderId, _: &Amend, _: crate::order::Reports<'_>) {}
    fn cancel(&mut self, _: ClientOrderId, _: crate::order::Reports<'_>) {}
    fn poll(&mut self, _: crate::order::Reports<'_>) -> usize {
        0
    }
    fn alerts(&mut self, alerts: &mut dyn FnMut(crate::model::Alert)) {
        for a in self.alerts.drain(..) {
            alerts(a);
        }
    }
    fn broker_notices(&mut self, notices: &mut dyn FnMut(crate::model::BrokerNotice)) {
        for n in self.notices.drain(..) {
            notices(n);
        }
    }
    fn end_session(&mut self, _: UnixNanos, _: crate::order::Reports<'_>) {}
}

#[test]
fn a_gateways_alerts_reach_the_control_plane() {
    use crate::model::{Alert, AlertLevel, ControlReply, TradingState};
    let alert = Alert {
        exchange_ts: UnixNanos(5),
        kind: "reconcile_mismatch",
        instrument: Some(InstrumentId(0)),
        level: AlertLevel::Critical,
        state: TradingState::Active,
        detail: "the broker's day position differs from the fills the engine was told of",
    };
    let (_commands, commands_rx) = channel(8);
    let (replies_tx, mut replies) = channel(64);
    let (_input, input_rx) = channel(8);
    let (reports_tx, _reports) = channel(8);
    let config = OrderConfig::default();
    let mut stage = OrderStage::new(
        input_rx,
        Outbox::new(reports_tx),
        Box::new(Reconciling {
            alerts: vec![alert],
            ..Reconciling::default()
        }),
        &table(),
        OrderSetup {
            config: &config,
            capacity: 4,
            strategies: 1,
        },
        LatencyClock::new(),
        Arc::new(Telemetry::default()),
    )
    .with_control(crate::runtime::ControlPort::new(commands_rx, replies_tx, 4));
    stage.poll();
    assert_eq!(replies.try_pop(), Ok(ControlReply::Alert(alert)));
    stage.poll();
    assert!(replies.try_pop().is_err(), "each alert once");
}

#[test]
fn a_gateways_broker_notices_go_to_risk_in_order_once() {
    use crate::model::{BrokerNotice, BrokerPosition};
    let position = BrokerNotice::Position(BrokerPosition {
        instrument: InstrumentId(1),
        net: -40,
        avg_price: Price::from_paise(5_010),
    });
    let gateway = Reconciling {
        notices: vec![position, BrokerNotice::Halt],
        ..Reconciling::default()
    };
    let mut rig = rig(Box::new(gateway), 8);
    rig.stage.poll();
    rig.stage.poll();
    let out: Vec<OrderOutput> = std::iter::from_fn(|| rig.reports.try_pop().ok()).collect();
    assert_eq!(
        out,
        [
            OrderOutput::Broker(position),
            OrderOutput::Broker(BrokerNotice::Halt)
        ]
    );
}
