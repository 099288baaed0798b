//! The order stage with real rings, the paper gateway and scripted gateways.

use tickpipe_ringbuf::{channel, Producer};

use super::*;
use crate::model::{
    Instrument, InstrumentId, IntentId, IntentReason, SectorId, Side, StrategyId, Tick, TickKind,
    UnixNanos,
};

fn table() -> InstrumentTable {
    let mut t = InstrumentTable::new();
    t.push(Instrument::nse_equity("HDFCBANK", SectorId(0)))
        .unwrap();
    t
}

fn quote(bid: &str, ask: &str) -> OrderInput {
    OrderInput::Quote(Tick {
        exchange_ts: UnixNanos(1_000),
        ingress: Stamp(0),
        last: bid.parse().unwrap(),
        bid: bid.parse().unwrap(),
        ask: ask.parse().unwrap(),
        instrument: InstrumentId(0),
        volume: 0,
        last_qty: 0,
        bid_qty: 1,
        ask_qty: 1,
        kind: TickKind::Quote,
    })
}

fn intent(id: u64, instrument: u32, side: Side, qty: u32, ingress: Stamp) -> OrderInput {
    OrderInput::Intent(crate::risk::RiskApproved::for_tests(OrderIntent {
        id: IntentId(id),
        exchange_ts: UnixNanos(900),
        ingress,
        limit: Price::ZERO,
        qty: Qty::new(qty),
        instrument: InstrumentId(instrument),
        strategy: StrategyId(1),
        side,
        reason: IntentReason::Entry,
    }))
}

struct Rig {
    stage: Box<OrderStage>,
    input: Option<Producer<OrderInput>>,
    reports: Consumer<OrderOutput>,
    telemetry: Arc<Telemetry>,
}

fn rig(gateway: Box<dyn Gateway>, report_slots: usize) -> Rig {
    let (input, input_rx) = channel(64);
    let (reports_tx, reports) = channel(report_slots);
    let telemetry = Arc::new(Telemetry::default());
    let stage = Box::new(OrderStage::new(
        input_rx,
        Outbox::new(reports_tx),
        gateway,
        &table(),
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

impl Rig {
    fn send(&mut self, msg: OrderInput) {
        self.input.as_mut().unwrap().try_push(msg).unwrap();
    }

    fn reports(&mut self) -> Vec<ExecReport> {
        std::iter::from_fn(|| self.reports.try_pop().ok())
            .filter_map(|o| match o {
                OrderOutput::Report(r) => Some(r),
                OrderOutput::Synced(_) => None,
            })
            .collect()
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
        .map(|r| (r.intent.0, r.kind, r.reject))
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
    assert_eq!(reports[1].last_price, "10.05".parse().unwrap());
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
}

#[test]
fn a_full_report_ring_holds_input_back() {
    let mut rig = rig(Box::new(crate::order::PaperGateway::new(&table())), 2);
    rig.send(quote("10.00", "10.05"));
    for id in 1..=3 {
        rig.send(intent(id, 0, Side::Buy, 1, Stamp(0)));
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

/// A gateway that answers later, with scripted (possibly wrong) reports.
struct Scripted {
    later: Vec<VenueReport>,
}

impl Gateway for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn on_quote(&mut self, _quote: &Tick, _reports: crate::order::Reports<'_>) {}
    fn advance(&mut self, _now: UnixNanos, _reports: crate::order::Reports<'_>) {}
    fn submit(&mut self, _order: &VenueOrder, _reports: crate::order::Reports<'_>) {}
    fn modify(
        &mut self,
        _order: ClientOrderId,
        _amend: &crate::order::Amend,
        _reports: crate::order::Reports<'_>,
    ) {
    }
    fn cancel(&mut self, _order: ClientOrderId, _reports: crate::order::Reports<'_>) {}
    fn poll(&mut self, reports: crate::order::Reports<'_>) -> usize {
        let n = self.later.len();
        for r in self.later.drain(..) {
            reports(r);
        }
        n
    }
    fn end_session(&mut self, _now: UnixNanos, _reports: crate::order::Reports<'_>) {}
}

fn answer(id: u64, event: VenueEvent, last_qty: u32) -> VenueReport {
    VenueReport {
        last_price: Price::from_paise(1000),
        last_qty: Qty::new(last_qty),
        trade: TradeId(u64::from(last_qty)),
        ..VenueReport::new(ClientOrderId(id), UnixNanos(1), event)
    }
}

#[test]
fn late_answers_pass_the_state_machine() {
    let script = vec![
        answer(1, VenueEvent::Accepted, 0),
        answer(1, VenueEvent::Accepted, 0), // duplicate: dropped
        answer(1, VenueEvent::Fill, 4),
        answer(9, VenueEvent::Fill, 1), // unknown order: dropped
        answer(1, VenueEvent::Fill, 6),
        answer(1, VenueEvent::Fill, 6), // after the end: unknown now
    ];
    let mut rig = rig(Box::new(Scripted { later: Vec::new() }), 64);
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    assert_eq!(rig.stage.poll(), Poll::Work(1));
    assert!(rig.reports().is_empty());
    assert_eq!(rig.stage.live_orders(), 1);
    rig.input = None;
    assert_eq!(rig.stage.poll(), Poll::Work(1), "the session ends");
    assert_eq!(rig.stage.poll(), Poll::Idle, "an order is live");
    let stage: &mut OrderStage = &mut rig.stage;
    let gateway = Scripted { later: script };
    stage.gateway = Box::new(gateway);
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
    assert_eq!(report.counter("invalid_reports"), 1);
    assert_eq!(report.counter("unknown_reports"), 2);
    assert!(report.error.is_none());
}

#[test]
fn an_overfill_stops_the_stage() {
    let mut rig = rig(Box::new(Scripted { later: Vec::new() }), 64);
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.send(intent(2, 0, Side::Buy, 10, Stamp(0)));
    rig.stage.poll();
    rig.stage.gateway = Box::new(Scripted {
        later: vec![answer(1, VenueEvent::Fill, 11)],
    });
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
