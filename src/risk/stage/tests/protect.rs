//! Broker-side protective stops end to end, with the paper exchange: a gap through the
//! stop closes the position once, at the venue's stop, booked as `stop_loss`; the
//! engine's own exits cancel the protective stop first; a trailing stop moves it.

use super::*;

/// A long of 3960 at 100.10 with its stop at 95.05, protected at the broker.
fn long_protected() -> Wired {
    let mut w = wired_with(&uncapped(), true);
    w.send(&[
        tick(0, at(10, 0, 0), "100.05", "100.00", "100.10"),
        signal(0, 0, Long, "100.05", "95.05", at(10, 0, 0)),
        tick(0, at(10, 0, 1), "100.05", "100.00", "100.10"),
    ]);
    assert_eq!(w.risk().book().position(InstrumentId(0)).net(), 3960);
    w
}

#[test]
fn a_gap_through_the_stop_fills_the_broker_stop_once_as_a_stop_loss() {
    let mut w = long_protected();
    assert_eq!(
        w.risk().in_flight(),
        1,
        "the protective stop holds its slot"
    );
    // The market gaps from 100 to 90 between two ticks.
    w.send(&[tick(0, at(10, 5, 0), "90.00", "89.95", "90.05")]);
    assert_eq!(w.risk().book().position(InstrumentId(0)).net(), 0);
    assert_eq!(w.risk().in_flight(), 0);
    w.send(&[tick(0, at(10, 6, 0), "89.00", "88.95", "89.05")]);
    assert_eq!(
        w.risk().book().position(InstrumentId(0)).net(),
        0,
        "never reversed"
    );
    let (risk, order) = w.finish();
    assert_eq!(
        fills_of(&risk),
        [
            (1, 0, Side::Buy, 3960, px("100.10"), IntentReason::Entry),
            (2, 0, Side::Sell, 3960, px("89.95"), IntentReason::StopLoss),
        ]
    );
    assert_eq!(order.counter("protect_placed"), 1);
    assert_eq!(order.counter("protect_triggered"), 1);
    assert_eq!(
        order.counter("exits_reduced"),
        1,
        "the engine's own stop exit was dropped"
    );
    assert_eq!(order.counter("orders"), 2, "the entry and the broker stop");
    assert_eq!(risk.counter("unknown_reports"), 0);
    assert!(risk.error.is_none() && order.error.is_none());
}

#[test]
fn the_engine_s_own_exit_cancels_the_broker_stop_first() {
    let mut w = long_protected();
    // 10% up: the trailing stop starts at 1% below the best mark and the broker stop
    // follows it (a move of many steps).
    w.send(&[tick(0, at(10, 30, 0), "110.00", "109.95", "110.05")]);
    assert_eq!(
        w.risk().book().position(InstrumentId(0)).stop(),
        px("108.90")
    );
    // The square-off closes the position; the broker stop goes first.
    w.send(&[tick(0, at(15, 15, 0), "109.50", "109.45", "109.55")]);
    assert_eq!(w.risk().book().position(InstrumentId(0)).net(), 0);
    w.send(&[tick(0, at(15, 16, 0), "100.00", "99.95", "100.05")]);
    let (risk, order) = w.finish();
    assert_eq!(
        fills_of(&risk),
        [
            (1, 0, Side::Buy, 3960, px("100.10"), IntentReason::Entry),
            (
                3,
                0,
                Side::Sell,
                3960,
                px("109.45"),
                IntentReason::SquareOff
            ),
        ]
    );
    assert_eq!(order.counter("protect_placed"), 1);
    assert_eq!(order.counter("protect_modified"), 1);
    assert_eq!(order.counter("protect_cancelled"), 1);
    assert_eq!(order.counter("protect_triggered"), 0);
    assert_eq!(order.counter("exits_reduced"), 0);
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    assert!(trading.positions.iter().all(|p| p.net == 0));
    assert!(risk.error.is_none() && order.error.is_none());
}

#[test]
fn without_the_option_no_broker_stop_is_placed() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "100.05", "100.00", "100.10"),
        signal(0, 0, Long, "100.05", "95.05", at(10, 0, 0)),
        tick(0, at(10, 5, 0), "90.00", "89.95", "90.05"),
    ]);
    let (risk, order) = w.finish();
    assert_eq!(order.counter("protect_placed"), 0);
    assert_eq!(
        fills_of(&risk)[1],
        (2, 0, Side::Sell, 3960, px("89.95"), IntentReason::StopLoss)
    );
}

/// With market-time sync, the protective stop goes out only once the order stage has
/// confirmed every answer due: a fill read before the confirmation must not place it,
/// or the moment it goes (and the in-flight slot it takes) would depend on how the
/// threads happened to interleave.
#[test]
fn the_protective_stop_waits_for_the_sync_answer() {
    let mut rig = alone(&uncapped(), true);
    let risk = std::mem::replace(&mut rig.risk, alone(&uncapped(), true).risk);
    *rig.risk = (*risk).with_protective_stops(true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100.05", "100.00", "100.10"),
        signal(0, 0, Long, "100.05", "95.05", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    let answers = rig.answers.as_mut().unwrap();
    for (kind, qty) in [(ExecKind::Accepted, 0), (ExecKind::Filled, entry.qty.get())] {
        let mut report = ExecReport {
            intent: entry.id,
            exchange_ts: entry.exchange_ts,
            ingress: entry.ingress,
            last_price: px("100.10"),
            instrument: entry.instrument,
            last_qty: Qty::new(qty),
            cum_qty: Qty::new(qty),
            leaves_qty: Qty::ZERO,
            strategy: entry.strategy,
            side: entry.side,
            kind,
            reject: RejectReason::None,
            trade: crate::model::TradeId(0),
        };
        if qty == 0 {
            report.last_price = Price::ZERO;
        }
        answers.try_push(OrderOutput::Report(report)).unwrap();
    }
    let before = rig.run();
    assert_eq!(rig.risk.book().position(InstrumentId(0)).net(), 3960);
    assert!(
        !before.iter().any(|o| matches!(o, OrderInput::Protect(_))),
        "no stop before the sync is answered: {before:?}"
    );
    rig.answers
        .as_mut()
        .unwrap()
        .try_push(OrderOutput::Synced(at(10, 0, 0)))
        .unwrap();
    let after = rig.run();
    assert!(
        matches!(after[..], [OrderInput::Protect(p)] if p.trigger == px("95.05")),
        "{after:?}"
    );
}

/// `risk.on_shutdown = "leave"` at a broker (live, no market-time sync): the position
/// stays open and so does its protective stop, which is not cancelled. The stage ends
/// the session and finishes once the order stage has answered the end, without waiting
/// for the stop's final answer, which would never come.
#[test]
fn under_leave_a_resting_protective_stop_does_not_keep_the_stage_from_finishing() {
    let config = RiskConfig {
        on_shutdown: ShutdownPolicy::Leave,
        ..uncapped()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut rig = alone(&config, false);
    let risk = std::mem::replace(&mut rig.risk, alone(&config, false).risk);
    *rig.risk = (*risk).with_protective_stops(true).with_stop(stop.clone());
    rig.push(&[
        tick(0, at(10, 0, 0), "100.05", "100.00", "100.10"),
        signal(0, 0, Long, "100.05", "95.05", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    rig.fill(&entry, "100.10");
    let out = rig.run();
    let [OrderInput::Protect(guard)] = out[..] else {
        panic!("the protective stop goes: {out:?}");
    };
    assert_eq!(guard.qty, entry.qty);
    let accepted = OrderIntent {
        id: guard.intent,
        exchange_ts: guard.exchange_ts,
        ingress: Stamp(0),
        limit: Price::ZERO,
        qty: guard.qty,
        instrument: guard.instrument,
        strategy: guard.strategy,
        side: guard.side,
        reason: IntentReason::StopLoss,
        reference: guard.trigger,
    };
    rig.answer(&accepted, ExecKind::Accepted, 0, "0");
    assert_eq!(rig.run(), []);
    // The run stops: nothing is closed, the stop is not cancelled, the session ends.
    stop.store(true, Ordering::Relaxed);
    rig.feed = None;
    for _ in 0..100 {
        if rig.risk.poll() == Poll::Idle {
            break;
        }
    }
    let sent: Vec<_> = std::iter::from_fn(|| rig.out.try_pop().ok()).collect();
    assert!(
        matches!(sent[..], [OrderInput::EndSession(_)]),
        "only the end of the session: {sent:?}"
    );
    assert_eq!(rig.risk.poll(), Poll::Idle, "the end is not answered yet");
    rig.answers
        .as_mut()
        .unwrap()
        .try_push(OrderOutput::Synced(at(10, 0, 0)))
        .unwrap();
    let end = (0..10)
        .map(|_| rig.risk.poll())
        .find(|p| !matches!(p, Poll::Work(_)));
    assert_eq!(end, Some(Poll::Done));
    assert_eq!(rig.risk.book().open_positions(), 1);
    assert_eq!(rig.risk.in_flight(), 1, "the stop rests at the broker");
}
