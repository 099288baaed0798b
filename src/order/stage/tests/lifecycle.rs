//! An order's life beyond one fill: partial fills and remainders, retries, duplicates,
//! out-of-order answers, the rate limit, slicing, stuck orders, modification budgets
//! and slippage.

use super::*;
use crate::runtime::Slab;

fn submits(script: &Arc<Mutex<Script>>) -> Vec<VenueOrder> {
    script
        .lock()
        .unwrap()
        .asked
        .iter()
        .filter_map(|a| match a {
            Asked::Submit(o) => Some(*o),
            _ => None,
        })
        .collect()
}

fn fill(order: ClientOrderId, ts: u64, qty: u32, trade: u64) -> VenueReport {
    VenueReport::fill(
        order,
        UnixNanos(ts),
        p("10.05"),
        Qty::new(qty),
        TradeId(trade),
    )
}

fn kinds(reports: &[ExecReport]) -> Vec<(ExecKind, u32, u32, u32)> {
    reports
        .iter()
        .map(|r| {
            (
                r.kind,
                r.last_qty.get(),
                r.cum_qty.get(),
                r.leaves_qty.get(),
            )
        })
        .collect()
}

#[test]
fn a_partial_fill_reaches_risk_and_the_rest_is_cancelled_after_the_timeout() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(intent(1, 0, Side::Buy, 475, Stamp(0)));
    rig.settle();
    let c = ClientOrderId::new(id(1), 0);
    // The answers arrive once market time is at 2_000 (timers run from there).
    rig.send(OrderInput::Sync(UnixNanos(2_000)));
    rig.settle();
    script.lock().unwrap().later = vec![
        VenueReport::new(c, UnixNanos(1_000), VenueEvent::Accepted),
        fill(c, 2_000, 200, 7),
    ];
    rig.settle();
    assert_eq!(
        kinds(&rig.reports()),
        [
            (ExecKind::Accepted, 0, 0, 475),
            (ExecKind::PartialFill, 200, 200, 275),
        ]
    );
    // Entries: `cancel` once 5 s of market time pass without a fill.
    rig.send(OrderInput::Sync(UnixNanos(2_000 + 5 * SEC - 1)));
    rig.settle();
    assert!(!script
        .lock()
        .unwrap()
        .asked
        .iter()
        .any(|a| matches!(a, Asked::Cancel(_))));
    rig.send(OrderInput::Sync(UnixNanos(2_000 + 5 * SEC)));
    rig.settle();
    assert_eq!(script.lock().unwrap().asked.last(), Some(&Asked::Cancel(c)));
    script.lock().unwrap().later = vec![VenueReport::new(
        c,
        UnixNanos(3 * SEC),
        VenueEvent::Cancelled,
    )];
    rig.settle();
    assert_eq!(
        kinds(&rig.reports()),
        [(ExecKind::Cancelled, 0, 200, 0)],
        "one terminal report with what filled"
    );
    assert_eq!(rig.stage.live_orders(), 0);
}

/// A partly filled entry whose answers a broker stamped `stamp` (its own clock) while
/// market time stood at `market`: the remainder's cancel goes exactly 5 s of market
/// time after the answers arrived, whatever the stamp says.
fn remainder_runs_on_market_time(market: u64, stamp: u64) {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(intent(1, 0, Side::Buy, 475, Stamp(0)));
    rig.send(OrderInput::Sync(UnixNanos(market)));
    rig.settle();
    let c = ClientOrderId::new(id(1), 0);
    script.lock().unwrap().later = vec![
        VenueReport::new(c, UnixNanos(stamp), VenueEvent::Accepted),
        fill(c, stamp, 200, 7),
    ];
    rig.settle();
    let cancelled = |script: &Arc<Mutex<Script>>| {
        script
            .lock()
            .unwrap()
            .asked
            .iter()
            .any(|a| matches!(a, Asked::Cancel(_)))
    };
    assert!(!cancelled(&script), "stamp {stamp}: fired on arrival");
    rig.send(OrderInput::Sync(UnixNanos(market + 5 * SEC - 1)));
    rig.settle();
    assert!(!cancelled(&script), "stamp {stamp}: fired early");
    rig.send(OrderInput::Sync(UnixNanos(market + 5 * SEC)));
    rig.settle();
    assert_eq!(
        script.lock().unwrap().asked.last(),
        Some(&Asked::Cancel(c)),
        "stamp {stamp}: not fired when due in market time"
    );
    let fill = rig
        .reports()
        .into_iter()
        .find(|r| r.kind == ExecKind::PartialFill)
        .expect("the fill reached risk");
    assert_eq!(
        fill.exchange_ts,
        UnixNanos(stamp),
        "the venue's time is kept"
    );
}

#[test]
fn a_brokers_clock_neither_fires_nor_postpones_a_remainder_timer() {
    // Market time on 2026-12-03 around 10:00 IST.
    let market = 1_796_270_400 * SEC;
    // A fixture broker's day in 2021: behind market time by years.
    remainder_runs_on_market_time(market, 1_625_112_000 * SEC);
    // A broker clock an hour ahead of the feed's.
    remainder_runs_on_market_time(market, market + 3_600 * SEC);
    // A broker clock one second behind (whole-second stamps).
    remainder_runs_on_market_time(market, market - SEC);
}

#[test]
fn an_exit_remainder_goes_to_market() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(approved(OrderIntent {
        reason: IntentReason::StopLoss,
        limit: p("10.00"),
        ..order_intent(1, 0, Side::Sell, 475)
    }));
    rig.settle();
    let c = ClientOrderId::new(id(1), 0);
    rig.send(OrderInput::Sync(UnixNanos(1_000)));
    rig.settle();
    script.lock().unwrap().later = vec![fill(c, 1_000, 200, 1)];
    rig.settle();
    rig.send(OrderInput::Sync(UnixNanos(1_000 + 5 * SEC)));
    rig.settle();
    script.lock().unwrap().later = vec![VenueReport::new(
        c,
        UnixNanos(6 * SEC),
        VenueEvent::Cancelled,
    )];
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Fill]];
    rig.settle();
    let sent = submits(&script);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].id, ClientOrderId::new(id(1), 1), "a new child");
    assert_eq!(
        (sent[1].kind, sent[1].qty, sent[1].protection_bps),
        (OrderType::Market, Qty::new(275), 300)
    );
    assert_eq!(
        kinds(&rig.reports()),
        [
            (ExecKind::PartialFill, 200, 200, 275),
            (ExecKind::Filled, 275, 475, 0)
        ]
    );
}

#[test]
fn a_retriable_reject_is_retried_after_a_backoff_and_fills() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    script.lock().unwrap().on_submit = vec![
        vec![VenueEvent::Rejected], // network: retriable
        vec![VenueEvent::Accepted, VenueEvent::Fill],
    ];
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    assert!(rig.reports().is_empty(), "risk hears nothing of the retry");
    assert_eq!(submits(&script).len(), 1);
    // 250 ms of market time later the slice goes again, as child 1.
    rig.send(OrderInput::Sync(UnixNanos(900 + 250_000_000 - 1)));
    rig.settle();
    assert_eq!(submits(&script).len(), 1, "still backing off");
    rig.send(OrderInput::Sync(UnixNanos(900 + 250_000_000)));
    rig.settle();
    let sent = submits(&script);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].id, ClientOrderId::new(id(1), 1));
    assert_eq!(
        kinds(&rig.reports()),
        [
            (ExecKind::Accepted, 0, 0, 10),
            (ExecKind::Filled, 10, 10, 0)
        ]
    );
    let report = rig.stage.finish();
    assert_eq!(report.counter("retries"), 1);
    let exec = report.detail::<ExecutionSummary>().unwrap();
    assert_eq!(exec.strategies[1].rejects, [("network", 1)]);
}

#[test]
fn a_non_retriable_reject_goes_back_to_risk_with_its_reason() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    let c = ClientOrderId::new(id(1), 0);
    script.lock().unwrap().later = vec![VenueReport::rejected(
        c,
        UnixNanos(1_000),
        RejectReason::Margin,
    )];
    rig.settle();
    rig.send(OrderInput::Sync(UnixNanos(60 * SEC)));
    rig.settle();
    let reports = rig.reports();
    assert_eq!(
        reports
            .iter()
            .map(|r| (r.kind, r.reject))
            .collect::<Vec<_>>(),
        [(ExecKind::Rejected, RejectReason::Margin)]
    );
    assert_eq!(submits(&script).len(), 1, "not retried");
}

#[test]
fn retries_stop_after_the_cap() {
    let (gateway, script) = Scripted::new();
    let config = OrderConfig {
        retry_max_attempts: 2,
        ..OrderConfig::default()
    };
    let mut rig = rig_with(gateway, 64, &config);
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Rejected]; 5];
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    for s in 1..=10 {
        rig.send(OrderInput::Sync(UnixNanos(s * SEC)));
        rig.settle();
    }
    assert_eq!(submits(&script).len(), 3, "the first try and two retries");
    let reports = rig.reports();
    assert_eq!(
        reports
            .iter()
            .map(|r| (r.kind, r.reject))
            .collect::<Vec<_>>(),
        [(ExecKind::Rejected, RejectReason::Network)]
    );
}

#[test]
fn a_duplicate_fill_is_booked_once() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.send(intent(2, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    let (a, b) = (ClientOrderId::new(id(1), 0), ClientOrderId::new(id(2), 0));
    script.lock().unwrap().later = vec![
        fill(a, 1, 4, 100),
        fill(a, 1, 4, 100), // the same trade again
        fill(a, 2, 6, 101),
        fill(a, 2, 6, 101), // again, after the order ended
        fill(b, 3, 10, 102),
    ];
    rig.settle();
    assert_eq!(
        kinds(&rig.reports()),
        [
            (ExecKind::PartialFill, 4, 4, 6),
            (ExecKind::Filled, 6, 10, 0),
            (ExecKind::Filled, 10, 10, 0),
        ]
    );
    let report = rig.stage.finish();
    assert_eq!(report.counter("duplicate_fills"), 2);
    assert_eq!(report.counter("invalid_reports"), 0);
    assert!(report.error.is_none());
}

#[test]
fn a_fill_before_its_ack_is_fine_and_the_late_ack_is_ignored() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.send(intent(2, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    let (a, b) = (ClientOrderId::new(id(1), 0), ClientOrderId::new(id(2), 0));
    script.lock().unwrap().later = vec![
        fill(a, 1, 3, 1),
        VenueReport::new(a, UnixNanos(1), VenueEvent::Accepted),
        fill(a, 2, 7, 2),
        fill(b, 2, 10, 3),
        VenueReport::new(b, UnixNanos(2), VenueEvent::Accepted), // after the end
    ];
    rig.settle();
    assert_eq!(
        kinds(&rig.reports()),
        [
            (ExecKind::PartialFill, 3, 3, 7),
            (ExecKind::Filled, 7, 10, 0),
            (ExecKind::Filled, 10, 10, 0),
        ]
    );
    let report = rig.stage.finish();
    assert_eq!(report.counter("late_acks"), 2);
    assert_eq!(report.counter("invalid_reports"), 0);
    assert_eq!(report.counter("unknown_reports"), 0);
}

#[test]
fn exits_go_first_under_the_rate_limit_and_are_never_refused() {
    let (gateway, script) = Scripted::new();
    let config = OrderConfig {
        per_second: 2,
        queue_capacity: 4,
        ..OrderConfig::default()
    };
    let mut rig = rig_with(gateway, 64, &config);
    for seq in 1..=8 {
        rig.send(intent(seq, 0, Side::Buy, 1, Stamp(0)));
    }
    for seq in 9..=12 {
        rig.send(approved(OrderIntent {
            reason: IntentReason::StopLoss,
            ..order_intent(seq, 0, Side::Sell, 1)
        }));
    }
    rig.settle();
    // Two entries went at once; four wait; two were refused; all four exits wait.
    let sent: Vec<u64> = submits(&script)
        .iter()
        .map(|o| o.id.intent().sequence())
        .collect();
    assert_eq!(sent, [1, 2]);
    let refused: Vec<(u64, RejectReason)> = rig
        .reports()
        .iter()
        .map(|r| (r.intent.sequence(), r.reject))
        .collect();
    assert_eq!(
        refused,
        [(7, RejectReason::Throttled), (8, RejectReason::Throttled)]
    );
    for s in 1..=4 {
        rig.send(OrderInput::Sync(UnixNanos(900 + s * SEC)));
        rig.settle();
    }
    let sent: Vec<u64> = submits(&script)
        .iter()
        .map(|o| o.id.intent().sequence())
        .collect();
    assert_eq!(sent, [1, 2, 9, 10, 11, 12, 3, 4, 5, 6], "exits first");
    assert!(rig.stage.finish().counter("rate_waits") > 0);
}

#[test]
fn an_intent_above_the_freeze_quantity_goes_in_slices() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    script.lock().unwrap().on_submit = vec![
        vec![VenueEvent::Accepted, VenueEvent::Fill],
        vec![VenueEvent::Fill],
        vec![VenueEvent::Accepted, VenueEvent::Fill],
    ];
    // Freeze 1800 = 24 lots of 75: 4000 goes as 1800 + 1800 + 400.
    rig.send(intent(1, 1, Side::Buy, 4000, Stamp(0)));
    // 25 lots over the freeze × 10 slices: refused.
    rig.send(intent(2, 1, Side::Buy, 18_075, Stamp(0)));
    rig.settle();
    let sent = submits(&script);
    assert_eq!(
        sent.iter().map(|o| (o.id, o.qty.get())).collect::<Vec<_>>(),
        [
            (ClientOrderId::new(id(1), 0), 1800),
            (ClientOrderId::new(id(1), 1), 1800),
            (ClientOrderId::new(id(1), 2), 400),
        ]
    );
    let reports = rig.reports();
    assert_eq!(
        kinds(&reports[..4]),
        [
            (ExecKind::Accepted, 0, 0, 4000),
            (ExecKind::PartialFill, 1800, 1800, 2200),
            (ExecKind::PartialFill, 1800, 3600, 400),
            (ExecKind::Filled, 400, 4000, 0),
        ],
        "one accept and one terminal report for the intent"
    );
    assert_eq!(
        (reports[4].intent, reports[4].kind, reports[4].reject),
        (id(2), ExecKind::Rejected, RejectReason::FreezeQty)
    );
    assert_eq!(reports.len(), 5);
}

#[test]
fn a_stuck_order_blocks_neither_entries_nor_exits() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 256);
    // Risk's table issues the ids: a slab as large as the book.
    let mut risk = Slab::with_capacity(64);
    let key = risk.insert(()).unwrap();
    let stuck = IntentId(key.to_u64());
    rig.send(approved(OrderIntent {
        id: stuck,
        ..order_intent(0, 0, Side::Buy, 1)
    }));
    rig.settle();
    for n in 0..2_000_u64 {
        let key = risk.insert(()).unwrap();
        let reason = if n % 2 == 0 {
            IntentReason::Entry
        } else {
            IntentReason::StopLoss
        };
        script.lock().unwrap().on_submit = vec![vec![VenueEvent::Fill]];
        rig.send(approved(OrderIntent {
            id: IntentId(key.to_u64()),
            reason,
            exchange_ts: UnixNanos(n * SEC),
            ..order_intent(0, 0, Side::Buy, 1)
        }));
        rig.settle();
        let reports = rig.reports();
        assert_eq!(reports.len(), 1, "intent {n}");
        assert_eq!(reports[0].kind, ExecKind::Filled);
        risk.remove(key).unwrap();
    }
    assert_eq!(rig.stage.live_orders(), 1, "the stuck order holds one slot");
    assert_eq!(submits(&script).len(), 2_001);
}

#[test]
fn the_modification_budget_turns_into_cancel_and_replace() {
    let (gateway, script) = Scripted::new();
    let config = OrderConfig {
        entry_remainder: crate::order::RemainderPolicy::Reprice,
        max_modifications: 1,
        ..OrderConfig::default()
    };
    let mut rig = rig_with(gateway, 64, &config);
    rig.send(quote_at(800, "9.95", "10.00"));
    rig.send(approved(OrderIntent {
        limit: p("9.90"),
        ..order_intent(1, 0, Side::Buy, 10)
    }));
    rig.settle();
    let c0 = ClientOrderId::new(id(1), 0);
    script.lock().unwrap().later = vec![VenueReport::new(c0, UnixNanos(900), VenueEvent::Accepted)];
    rig.settle();
    // No fill for 5 s: the limit moves to the touch (one modification).
    rig.send(quote_at(900 + 5 * SEC, "10.00", "10.05"));
    rig.settle();
    assert_eq!(
        script.lock().unwrap().asked.last(),
        Some(&Asked::Modify(
            c0,
            Amend {
                qty: Qty::new(10),
                limit: p("10.05"),
                trigger: Price::ZERO
            }
        ))
    );
    script.lock().unwrap().later = vec![VenueReport::new(
        c0,
        UnixNanos(6 * SEC),
        VenueEvent::Modified,
    )];
    rig.settle();
    // 5 s more: the budget is spent, so cancel and place again at the touch.
    rig.send(quote_at(11 * SEC, "10.05", "10.10"));
    rig.settle();
    assert_eq!(
        script.lock().unwrap().asked.last(),
        Some(&Asked::Cancel(c0))
    );
    script.lock().unwrap().later = vec![VenueReport::new(
        c0,
        UnixNanos(11 * SEC),
        VenueEvent::Cancelled,
    )];
    rig.settle();
    let sent = submits(&script);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (sent[1].id, sent[1].kind, sent[1].limit, sent[1].qty),
        (
            ClientOrderId::new(id(1), 1),
            OrderType::Limit,
            p("10.10"),
            Qty::new(10)
        )
    );
    let report = rig.stage.finish();
    assert_eq!(report.counter("modifications"), 1);
    assert_eq!(report.counter("replaced"), 1);
}

#[test]
fn slippage_on_known_fills() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    // Bought at 10.05 against a reference of 10.00: 5 paise × 100 = ₹5, 50 bps worse.
    rig.send(approved(OrderIntent {
        reference: p("10.00"),
        ..order_intent(1, 0, Side::Buy, 100)
    }));
    // Sold at 10.05 against 10.10: 5 paise × 100 worse, 49.50 bps of 10.10.
    rig.send(approved(OrderIntent {
        reference: p("10.10"),
        reason: IntentReason::Exit,
        ..order_intent(2, 0, Side::Sell, 100)
    }));
    script.lock().unwrap().on_submit = vec![
        vec![VenueEvent::Accepted, VenueEvent::Fill],
        vec![VenueEvent::Accepted, VenueEvent::Fill],
    ];
    rig.settle();
    let exec = rig.stage.execution();
    let s = &exec.strategies[1];
    assert_eq!(s.fills, 2);
    assert_eq!(s.slippage, crate::model::Money::from_rupees(10));
    assert_eq!(s.avg_centi_bps, (5_000 + 4_950) / 2);
    assert_eq!(s.p95_bps, 50);
    assert_eq!((s.intents, s.filled), (2, 2));
    assert_eq!(s.fill_rate_pct(), 100.0);
    assert!(s.rejects.is_empty());
}
