//! Broker-side protective stops: placed, moved in steps within the modification
//! budget, cancelled and placed again once the budget is spent, cancelled when the
//! position goes flat, and never at the venue together with the engine's own exit.

use super::*;
use crate::{model::ProtectStop, order::PaperGateway};

fn protecting(max_modifications: u32) -> OrderConfig {
    OrderConfig {
        protective_stop: true,
        protective_stop_step_ticks: 20,
        max_modifications,
        ..OrderConfig::default()
    }
}

/// Risk's word about the protective stop of instrument 0, a long of `qty` units.
fn protect(seq: u64, qty: u32, trigger: &str) -> OrderInput {
    OrderInput::Protect(ProtectStop {
        intent: id(seq),
        exchange_ts: UnixNanos(1_000),
        trigger: if trigger.is_empty() {
            Price::ZERO
        } else {
            p(trigger)
        },
        qty: Qty::new(qty),
        booked: Qty::ZERO,
        instrument: InstrumentId(0),
        strategy: StrategyId(1),
        side: Side::Sell,
        exit_follows: false,
    })
}

/// The engine's own exit ahead: zero units, `booked` of them seen by risk.
fn unprotect_for_exit(seq: u64, booked: u32) -> OrderInput {
    match protect(seq, 0, "") {
        OrderInput::Protect(p) => OrderInput::Protect(ProtectStop {
            booked: Qty::new(booked),
            exit_follows: true,
            ..p
        }),
        _ => unreachable!(),
    }
}

fn exit(seq: u64, qty: u32) -> OrderInput {
    approved(OrderIntent {
        reason: IntentReason::StopLoss,
        ..order_intent(seq, 0, Side::Sell, qty)
    })
}

fn trade(ts: u64, last: &str, qty: u32) -> OrderInput {
    OrderInput::Quote(Tick {
        exchange_ts: UnixNanos(ts),
        ingress: Stamp(0),
        last: p(last),
        bid: p(last),
        ask: Price::from_raw(p(last).raw() + Price::from_paise(5).raw()),
        instrument: InstrumentId(0),
        volume: qty,
        last_qty: qty,
        bid_qty: 1_000,
        ask_qty: 1_000,
        kind: TickKind::Trade,
    })
}

fn asked(script: &Arc<Mutex<Script>>) -> Vec<Asked> {
    script.lock().unwrap().asked.clone()
}

#[test]
fn placed_as_sl_m_moved_only_by_whole_steps_and_cancelled_when_flat() {
    let config = protecting(25);
    let (gateway, script) = Scripted::new();
    let mut rig = rig_with(gateway, 64, &config);
    rig.send(quote("100.00", "100.05"));
    // 98.03 goes on the grid away from the market: 98.00.
    rig.send(protect(1, 10, "98.03"));
    rig.settle();
    let Asked::Submit(order) = asked(&script)[0] else {
        panic!("a placement first: {:?}", asked(&script));
    };
    assert_eq!(order.kind, OrderType::StopMarket);
    assert_eq!(order.side, Side::Sell);
    assert_eq!(order.qty, Qty::new(10));
    assert_eq!(order.trigger, p("98.00"));
    assert_eq!(order.limit, Price::ZERO);
    assert_eq!(
        order.protection_bps, config.protection_bps,
        "market protection"
    );
    let c = order.id;
    script.lock().unwrap().later =
        vec![VenueReport::new(c, UnixNanos(1_000), VenueEvent::Accepted)];
    rig.settle();
    // Less than 20 ticks (1.00) from what the venue works: no modification.
    rig.send(protect(1, 10, "98.95"));
    rig.settle();
    assert_eq!(asked(&script).len(), 1);
    // A whole step: the trigger follows.
    rig.send(protect(1, 10, "99.00"));
    rig.settle();
    let a = asked(&script);
    assert_eq!(a.len(), 2);
    let Asked::Modify(m, amend) = a[1] else {
        panic!("a modification: {a:?}");
    };
    assert_eq!((m, amend.trigger, amend.qty), (c, p("99.00"), Qty::new(10)));
    script.lock().unwrap().later =
        vec![VenueReport::new(c, UnixNanos(2_000), VenueEvent::Modified)];
    rig.settle();
    // Flat: cancelled, and risk hears the protective order's end.
    rig.send(protect(1, 0, ""));
    rig.settle();
    assert_eq!(asked(&script).last(), Some(&Asked::Cancel(c)));
    script.lock().unwrap().later =
        vec![VenueReport::new(c, UnixNanos(3_000), VenueEvent::Cancelled)];
    rig.settle();
    let reports = rig.reports();
    let kinds: Vec<_> = reports.iter().map(|r| (r.intent, r.kind)).collect();
    assert_eq!(
        kinds,
        [(id(1), ExecKind::Accepted), (id(1), ExecKind::Cancelled)]
    );
    let counters = rig.stage.desk.counters;
    assert_eq!(
        (
            counters.protect_placed,
            counters.protect_modified,
            counters.protect_replaced,
            counters.protect_cancelled,
            counters.protect_triggered
        ),
        (1, 1, 0, 1, 0)
    );
    assert_eq!(rig.stage.live_orders(), 0);
}

/// With the venue's budget at two modifications, the third move cancels and places the
/// stop again at the new trigger; the new child then triggers on a trade and fills.
#[test]
fn past_the_modification_budget_the_stop_is_replaced_and_still_protects() {
    let config = protecting(2);
    let mut rig = rig_with(Box::new(PaperGateway::new(&table())), 64, &config);
    rig.send(trade(1_000, "100.00", 1));
    rig.send(protect(1, 10, "95.00"));
    rig.settle();
    for trigger in ["96.00", "97.00", "98.00"] {
        rig.send(protect(1, 10, trigger));
        rig.settle();
    }
    let c = rig.stage.desk.counters;
    assert_eq!(
        (c.protect_placed, c.protect_modified, c.protect_replaced),
        (1, 2, 1)
    );
    assert_eq!(c.orders, 2, "the first stop and its replacement");
    assert_eq!(rig.stage.live_orders(), 1);
    // A trade above the new trigger leaves it waiting; one at it triggers it.
    rig.send(trade(2_000, "98.05", 1));
    rig.settle();
    assert_eq!(rig.stage.desk.counters.fills, 0);
    rig.send(trade(3_000, "98.00", 1));
    rig.send(trade(4_000, "97.95", 1));
    rig.settle();
    let reports = rig.reports();
    let last = reports.last().expect("reports");
    assert_eq!((last.intent, last.kind), (id(1), ExecKind::Filled));
    assert_eq!(last.cum_qty, Qty::new(10));
    assert_eq!(rig.stage.desk.counters.protect_triggered, 1);
    assert_eq!(
        reports.iter().filter(|r| r.kind.is_terminal()).count(),
        1,
        "one final report for the protective order: {reports:?}"
    );
}

/// The engine's exit waits for the protective stop's cancel, and goes less what the stop
/// filled meanwhile.
#[test]
fn an_exit_waits_for_the_cancel_and_is_cut_by_what_the_stop_filled() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig_with(gateway, 64, &protecting(25));
    rig.send(quote("100.00", "100.05"));
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    rig.send(protect(1, 10, "99.00"));
    rig.settle();
    let c = ClientOrderId::new(id(1), 0);
    rig.send(unprotect_for_exit(1, 0));
    rig.send(exit(2, 10));
    rig.settle();
    assert_eq!(asked(&script).last(), Some(&Asked::Cancel(c)));
    assert_eq!(
        asked(&script).len(),
        2,
        "the exit is held: {:?}",
        asked(&script)
    );
    // The stop triggered before the cancel reached the venue: 4 units filled.
    script.lock().unwrap().later = vec![
        VenueReport::fill(c, UnixNanos(2_000), p("98.95"), Qty::new(4), TradeId(9)),
        VenueReport::new(c, UnixNanos(2_000), VenueEvent::Cancelled),
    ];
    rig.settle();
    let a = asked(&script);
    let Some(Asked::Submit(sent)) = a.last() else {
        panic!("the exit goes after the cancel: {a:?}");
    };
    assert_eq!((sent.id.intent(), sent.qty), (id(2), Qty::new(6)));
    let kinds: Vec<_> = rig
        .reports()
        .iter()
        .map(|r| (r.intent.sequence(), r.kind, r.last_qty.get()))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, ExecKind::Accepted, 0),
            (1, ExecKind::PartialFill, 4),
            (1, ExecKind::Cancelled, 0),
        ]
    );
    assert_eq!(rig.stage.desk.counters.exits_reduced, 1);
}

/// A gap through the stop: the stop filled in full before risk's exit arrived, so the
/// exit is answered `cancelled` without reaching the venue.
#[test]
fn an_exit_behind_a_stop_that_filled_in_full_never_reaches_the_venue() {
    let mut rig = rig_with(Box::new(PaperGateway::new(&table())), 64, &protecting(25));
    rig.send(trade(1_000, "100.00", 1));
    rig.send(protect(1, 10, "99.00"));
    rig.settle();
    rig.send(trade(2_000, "97.00", 1));
    rig.send(unprotect_for_exit(1, 0));
    rig.send(exit(2, 10));
    rig.settle();
    let reports = rig.reports();
    let kinds: Vec<_> = reports
        .iter()
        .map(|r| (r.intent.sequence(), r.kind, r.last_qty.get()))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, ExecKind::Accepted, 0),
            (1, ExecKind::Filled, 10),
            (2, ExecKind::Cancelled, 0),
        ]
    );
    assert_eq!(rig.stage.desk.counters.orders, 1, "only the stop went");
    assert_eq!(rig.stage.live_orders(), 0);
}

/// The end of the session from risk, then risk gone (it finished: `leave` keeps the
/// position open, so only the protective stop was still out).
fn end_then_risk_gone(rig: &mut Rig) {
    rig.send(OrderInput::EndSession(UnixNanos(5_000)));
    rig.settle();
    let synced = std::iter::from_fn(|| rig.reports.try_pop().ok())
        .any(|o| matches!(o, OrderOutput::Synced(_)));
    assert!(synced, "the end is answered, after its reports");
    rig.input = None;
}

/// `risk.on_shutdown = "leave"` at a broker: the position stays open, so its
/// protective stop stays at the broker too. It must not hold the run open, and the
/// operator is told it was left (an alert, the counter, the summary's list).
#[test]
fn a_resting_stop_is_left_at_the_broker_and_does_not_hold_the_end() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig_with(gateway, 64, &protecting(25));
    let (_commands, commands_rx) = channel::<crate::model::ControlCommand>(4);
    let (replies_tx, mut replies) = channel(16);
    rig.stage = Box::new((*rig.stage).with_control(crate::runtime::ControlPort::new(
        commands_rx,
        replies_tx,
        4,
    )));
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    rig.send(quote("100.00", "100.05"));
    rig.send(protect(1, 10, "98.03"));
    rig.settle();
    end_then_risk_gone(&mut rig);
    assert_eq!(
        rig.stage.poll(),
        Poll::Done,
        "nothing else is out: the stop is left resting"
    );
    assert_eq!(
        asked(&script).len(),
        1,
        "placed once, never cancelled: {:?}",
        asked(&script)
    );
    let Ok(crate::model::ControlReply::Alert(alert)) = replies.try_pop() else {
        panic!("the operator is told");
    };
    assert_eq!(
        (alert.kind, alert.level, alert.instrument),
        (
            "protective_stop_left",
            crate::model::AlertLevel::Warning,
            Some(InstrumentId(0))
        )
    );
    let report = rig.stage.finish();
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.counter("protect_left"), 1);
    assert_eq!(report.counter("protect_expired"), 0);
    let left = &report.detail::<ExecutionSummary>().unwrap().protective_left;
    assert_eq!(
        left.as_slice(),
        [crate::order::LeftStop {
            instrument: InstrumentId(0),
            symbol: "HDFCBANK".to_owned(),
            side: Side::Sell,
            qty: Qty::new(10),
            trigger: p("98.00"),
            venue_order_id: None,
        }]
    );
}

/// Under `leave` at a broker, a stop whose modification budget ran out was cancelled to
/// be placed again at the new trigger when the session ended: the cancel's answer after
/// the end still places the new child, and the run ends with it resting there, so the
/// position left open stays guarded.
#[test]
fn a_stop_in_cancel_and_replace_at_the_end_is_placed_again_and_left() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig_with(gateway, 64, &protecting(0));
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    rig.send(quote("100.00", "100.05"));
    rig.send(protect(1, 10, "95.00"));
    rig.settle();
    // No modification allowed: the move cancels the stop, to place it again.
    rig.send(protect(1, 10, "97.00"));
    rig.settle();
    let first = ClientOrderId::new(id(1), 0);
    assert_eq!(asked(&script).last(), Some(&Asked::Cancel(first)));
    end_then_risk_gone(&mut rig);
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    script.lock().unwrap().later = vec![VenueReport::new(
        first,
        UnixNanos(6_000),
        VenueEvent::Cancelled,
    )];
    // The rate limit runs on the wall clock after the end: poll until the stage is done.
    let mut polls = 0;
    while rig.stage.poll() != Poll::Done {
        polls += 1;
        assert!(polls < 1_000_000, "asked {:?}", asked(&script));
        std::thread::yield_now();
    }
    let a = asked(&script);
    let Some(Asked::Submit(again)) = a.last() else {
        panic!("placed again after the end: {a:?}");
    };
    assert_eq!(
        (again.id, again.kind, again.trigger, again.qty),
        (
            ClientOrderId::new(id(1), 1),
            OrderType::StopMarket,
            p("97.00"),
            Qty::new(10)
        )
    );
    assert!(
        rig.reports().iter().all(|r| !r.kind.is_terminal()),
        "the stop never ended for risk"
    );
    let report = rig.stage.finish();
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.counter("protect_left"), 1);
    let left = &report.detail::<ExecutionSummary>().unwrap().protective_left;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].trigger, p("97.00"));
}

/// A stop whose placement the broker has not confirmed yet is waited for: it is left
/// only once it rests there.
#[test]
fn a_stop_not_confirmed_yet_is_waited_for_before_it_is_left() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig_with(gateway, 64, &protecting(25));
    rig.send(quote("100.00", "100.05"));
    rig.send(protect(1, 10, "98.00"));
    rig.settle();
    end_then_risk_gone(&mut rig);
    assert_eq!(rig.stage.poll(), Poll::Idle, "its placement is unanswered");
    script.lock().unwrap().later = vec![VenueReport::new(
        ClientOrderId::new(id(1), 0),
        UnixNanos(6_000),
        VenueEvent::Accepted,
    )];
    rig.settle();
    assert_eq!(rig.stage.poll(), Poll::Done);
    assert_eq!(rig.stage.finish().counter("protect_left"), 1);
}

/// The paper exchange expires every order at its end, protective stops too: they are
/// counted as expired, never as left at a broker.
#[test]
fn the_paper_exchange_expires_its_stops_and_none_is_left() {
    let mut rig = rig_with(Box::new(PaperGateway::new(&table())), 64, &protecting(25));
    rig.send(trade(1_000, "100.00", 1));
    rig.send(protect(1, 10, "95.00"));
    rig.settle();
    assert_eq!(rig.stage.live_orders(), 1);
    rig.send(OrderInput::EndSession(UnixNanos(5_000)));
    rig.settle();
    let kinds: Vec<_> = rig.reports().iter().map(|r| (r.intent, r.kind)).collect();
    assert_eq!(
        kinds,
        [(id(1), ExecKind::Accepted), (id(1), ExecKind::Expired)]
    );
    rig.input = None;
    assert_eq!(rig.stage.poll(), Poll::Done);
    let report = rig.stage.finish();
    assert_eq!(
        (
            report.counter("protect_placed"),
            report.counter("protect_expired"),
            report.counter("protect_left")
        ),
        (1, 1, 0)
    );
    assert!(report
        .detail::<ExecutionSummary>()
        .unwrap()
        .protective_left
        .is_empty());
}

/// The shutdown flatten (`risk.on_shutdown = "flatten"`) sends the cancel of the
/// protective stop, the exit, and the end of the session back to back: the exit waits
/// for the cancel, and goes once it is answered, after the end.
#[test]
fn the_flattening_exit_held_behind_the_cancel_goes_after_the_end() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig_with(gateway, 64, &protecting(25));
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    rig.send(quote("100.00", "100.05"));
    rig.send(protect(1, 10, "98.00"));
    rig.settle();
    let c = ClientOrderId::new(id(1), 0);
    rig.send(unprotect_for_exit(1, 0));
    rig.send(exit(2, 10));
    rig.send(OrderInput::EndSession(UnixNanos(5_000)));
    rig.settle();
    assert_eq!(asked(&script).last(), Some(&Asked::Cancel(c)));
    script.lock().unwrap().later =
        vec![VenueReport::new(c, UnixNanos(6_000), VenueEvent::Cancelled)];
    rig.settle();
    let a = asked(&script);
    let Some(Asked::Submit(sent)) = a.last() else {
        panic!("the exit goes after the cancel: {a:?}");
    };
    assert_eq!((sent.id.intent(), sent.qty), (id(2), Qty::new(10)));
    script.lock().unwrap().later = vec![answer(2, VenueEvent::Fill, 10)];
    rig.settle();
    let kinds: Vec<_> = rig
        .reports()
        .iter()
        .map(|r| (r.intent.sequence(), r.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, ExecKind::Accepted),
            (1, ExecKind::Cancelled),
            (2, ExecKind::Filled)
        ]
    );
    rig.input = None;
    assert_eq!(rig.stage.poll(), Poll::Done);
    assert_eq!(rig.stage.finish().counter("protect_left"), 0);
}
