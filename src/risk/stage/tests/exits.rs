//! The risk stage's own exits end to end: targets booked in part by real orders,
//! trailing stops, time stops, refused exits retried with backoff while ticks flow, the
//! index-fall flatten and the shutdown policy.

use std::sync::atomic::AtomicBool;

use super::*;
use crate::risk::{ExitPlan, PartialState, ShutdownPolicy};

fn signal_with_target(
    id: u32,
    strategy: u16,
    direction: Direction,
    price: &str,
    stop: &str,
    target: &str,
    ts: UnixNanos,
) -> RiskInput {
    let RiskInput::Signal(s) = signal(id, strategy, direction, price, stop, ts) else {
        unreachable!()
    };
    RiskInput::Signal(Signal {
        target: px(target),
        ..s
    })
}

/// Opens a long of 6996 S0 at 100.05 (stop 98, target `target`) and returns the rig.
///
/// The entry is priced at the ask it pays, 100.05, since the entry limits priced entries
/// at the touch: the 70% exposure cap of ₹10 lakh is ₹7 lakh / 100.05 = 6996.5 → 6996
/// (7000 when entries were sized at the signal's 100). The figures below follow from it.
fn long_s0(config: &RiskConfig, target: &str) -> Alone {
    let mut rig = alone(config, true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal_with_target(0, 0, Long, "100", "98", target, at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    assert_eq!(entry.qty, Qty::new(6996));
    rig.fill(&entry, "100.05");
    rig.run();
    rig
}

/// The intents among `inputs`' outputs after pushing them one at a time.
fn step(rig: &mut Alone, input: RiskInput) -> Vec<OrderIntent> {
    rig.push(&[input]);
    intents(&rig.run())
}

fn forced(report: &StageReport) -> Vec<(&'static str, u64)> {
    report
        .detail::<TradingSummary>()
        .unwrap()
        .forced_exits
        .iter()
        .copied()
        .filter(|&(_, n)| n > 0)
        .collect()
}

#[test]
fn a_partial_exit_that_gets_a_partial_fill_leaves_the_rest_trailing() {
    let mut rig = long_s0(&uncapped(), "102");
    let s0 = InstrumentId(0);
    assert!(step(&mut rig, tick(0, at(10, 1, 0), "101.95", "101.90", "102")).is_empty());
    let target = step(&mut rig, tick(0, at(10, 2, 0), "102", "101.95", "102.05"));
    assert_eq!(target.len(), 1);
    assert_eq!(
        (target[0].side, target[0].qty, target[0].reason),
        (Side::Sell, Qty::new(3498), IntentReason::Target),
        "a real exit order for half the position"
    );
    assert_eq!(
        rig.risk.book().position(s0).net(),
        6996,
        "nothing booked yet"
    );
    assert_eq!(rig.risk.exits().plan(s0).partial, PartialState::Working);
    // 1200 of the 3498 (half of 6996) fill; the venue cancels the rest.
    rig.answer(&target[0], ExecKind::Accepted, 0, "0");
    rig.answer(&target[0], ExecKind::PartialFill, 1200, "101.95");
    rig.answer(&target[0], ExecKind::Cancelled, 0, "0");
    rig.run();
    let p = *rig.risk.book().position(s0);
    assert_eq!(p.net(), 5796, "reduced by its fills only");
    assert_eq!(p.stop(), px("100.05"), "the rest's stop at break-even");
    assert_eq!(rig.risk.exits().plan(s0).partial, PartialState::Booked);
    assert!(rig.risk.exits().plan(s0).trailing);
    assert!(
        !rig.risk.exits().retry.is_pending(s0),
        "a booked part is not retried"
    );
    // The rest trails 1% behind the best mark and is not booked again at the target.
    assert!(step(&mut rig, tick(0, at(10, 3, 0), "103", "102.95", "103.05")).is_empty());
    assert_eq!(rig.risk.book().position(s0).stop(), px("101.97"));
    assert!(step(
        &mut rig,
        tick(0, at(10, 4, 0), "102.50", "102.45", "102.55")
    )
    .is_empty());
    assert_eq!(rig.risk.book().position(s0).stop(), px("101.97"));
    let exit = step(&mut rig, tick(0, at(10, 5, 0), "101.95", "101.90", "102"));
    assert_eq!(
        (exit[0].qty, exit[0].reason),
        (Qty::new(5796), IntentReason::TrailingStop)
    );
    rig.fill(&exit[0], "101.90");
    rig.run();
    assert!(!rig.risk.book().position(s0).is_open());
    assert_eq!(rig.risk.exits().plan(s0), ExitPlan::default());
    let report = rig.risk.finish();
    assert_eq!(forced(&report), [("trailing_stop", 1), ("target", 1)]);
    let trading = report.detail::<TradingSummary>().unwrap();
    // 1200 × 1.90 + 5796 × 1.85 = 2280 + 10 722.60
    assert_eq!(trading.realized, money("13002.60"));
}

#[test]
fn a_target_of_one_lot_exits_everything_and_a_wrong_side_target_is_ignored() {
    let config = RiskConfig {
        partial_exit_pct: Money::from_rupees(10),
        max_exposure_pct: Money::from_rupees(500),
        ..uncapped()
    };
    let mut rig = alone(&config, true);
    rig.push(&[
        tick(FUTURE, at(10, 0, 0), "24000", "23999", "24001"),
        // 20 000 / 100 = 200 units: two lots of 75 = 150; 10% of 150 is no lot at all.
        signal_with_target(FUTURE, 0, Long, "24000", "23900", "24200", at(10, 0, 0)),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        signal_with_target(1, 1, Long, "50", "49", "49.50", at(10, 0, 1)),
    ]);
    let entry = intents(&rig.run())[0];
    assert_eq!(entry.qty, Qty::new(150));
    rig.fill(&entry, "24001");
    let entry = intents(&rig.run())[0];
    rig.fill(&entry, "50.05");
    rig.run();
    assert_eq!(
        rig.risk.exits().plan(InstrumentId(1)).target,
        Price::ZERO,
        "a long's target below its entry would book at once"
    );
    let exit = step(
        &mut rig,
        tick(FUTURE, at(10, 1, 0), "24200", "24199", "24201"),
    );
    assert_eq!(
        (exit[0].qty, exit[0].reason),
        (Qty::new(150), IntentReason::Target)
    );
}

#[test]
fn a_trailing_stop_ratchets_and_never_loosens() {
    let mut rig = long_s0(&uncapped(), "0");
    let s0 = InstrumentId(0);
    let mut stops = Vec::new();
    for (i, last) in ["101", "102.10", "101.50", "105", "104", "103.96"]
        .into_iter()
        .enumerate()
    {
        let sent = step(&mut rig, tick(0, at(10, 1, i as u64), last, last, last));
        assert!(sent.is_empty(), "no exit at {last}");
        stops.push(rig.risk.book().position(s0).stop());
    }
    // Active from +2% of 100.05 (102.051): 1% behind the best mark, only upwards.
    assert_eq!(
        stops,
        [
            px("98"),
            px("101.079"),
            px("101.079"),
            px("103.95"),
            px("103.95"),
            px("103.95")
        ]
    );
    let exit = step(&mut rig, tick(0, at(10, 2, 0), "103.95", "103.90", "104"));
    assert_eq!(exit[0].reason, IntentReason::TrailingStop);
    assert_eq!(exit[0].qty, Qty::new(6996));
}

#[test]
fn a_time_stop_closes_the_strategys_position_after_its_minutes() {
    let mut config = uncapped();
    config.time_stop.insert("scalper".into(), 10);
    let mut rig = alone(&config, true);
    *rig.risk =
        std::mem::replace(&mut *rig.risk, idle_stage()).with_strategy_names(&["trend", "scalper"]);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        // At the ask: 20 000 / 10.05 = 1990 shares, ₹2 lakh; then at the bid 20 000 / 1.05
        // = 19 047, cut to the room left (about ₹5 lakh / 49.95).
        signal(0, 0, Long, "100", "90", at(10, 0, 0)),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        signal(1, 1, Short, "50", "51", at(10, 0, 1)),
    ]);
    let entry = intents(&rig.run())[0];
    rig.fill(&entry, "100.05");
    let entry = intents(&rig.run())[0];
    rig.fill(&entry, "49.95");
    rig.run();
    assert!(step(&mut rig, tick(1, at(10, 9, 59), "50", "49.95", "50.05")).is_empty());
    assert!(step(&mut rig, tick(0, at(10, 30, 0), "100", "99.95", "100.05")).is_empty());
    let exit = step(&mut rig, tick(1, at(10, 10, 1), "50", "49.95", "50.05"));
    assert_eq!(
        (exit[0].instrument, exit[0].side, exit[0].reason),
        (InstrumentId(1), Side::Buy, IntentReason::TimeStop)
    );
}

/// A stage with nothing wired, to swap out of a rig while rebuilding its stage.
fn idle_stage() -> RiskStage {
    let (_feed, input) = channel(64);
    let (_answers, reports) = channel(64);
    let (out, _rx) = channel(64);
    RiskStage::new(
        &uncapped(),
        &table(),
        2,
        input,
        reports,
        Outbox::new(out),
        LatencyClock::new(),
        Arc::new(Telemetry::default()),
        true,
    )
}

#[test]
fn a_rejected_exit_is_retried_with_backoff_while_ticks_keep_flowing() {
    let config = RiskConfig {
        exit_retry_ms: 1_000,
        exit_retry_max_ms: 4_000,
        exit_max_attempts: 3,
        ..uncapped()
    };
    let mut rig = long_s0(&config, "0");
    let s0 = InstrumentId(0);
    let ms = |h, m, s: u64, ms: u64| at(h, m, s).add_nanos(ms * 1_000_000);
    let stop = step(&mut rig, tick(0, at(11, 0, 0), "97.90", "97.85", "97.95"));
    assert_eq!(stop[0].reason, IntentReason::StopLoss);
    rig.answer(&stop[0], ExecKind::Rejected, 0, "0");
    assert!(intents(&rig.run()).is_empty(), "never back to back");
    let mut attempts = vec![stop[0]];
    // Due after 1 s, then 2 s, then 4 s (the cap), then 4 s; ticks of both instruments
    // are read and forwarded meanwhile.
    for (waited_ms, due_ms) in [
        (999, 1_000),
        (2_999, 3_000),
        (6_999, 7_000),
        (10_999, 11_000),
    ] {
        rig.push(&[
            tick(1, ms(11, 0, 0, waited_ms), "50", "49.95", "50.05"),
            tick(0, ms(11, 0, 0, waited_ms), "97.80", "97.75", "97.85"),
        ]);
        let out = rig.run();
        assert_eq!(out.len(), 2, "two quotes, no intent: {out:?}");
        let again = step(
            &mut rig,
            tick(0, ms(11, 0, 0, due_ms), "97.80", "97.75", "97.85"),
        );
        assert_eq!(again.len(), 1, "retry due at {due_ms} ms");
        assert_eq!(
            (again[0].reason, again[0].qty, again[0].side),
            (IntentReason::StopLoss, Qty::new(6996), Side::Sell)
        );
        attempts.push(again[0]);
        if attempts.len() < 5 {
            rig.answer(&again[0], ExecKind::Rejected, 0, "0");
            rig.run();
        }
        let flagged = rig.risk.exits().retry.is_flagged(s0);
        assert_eq!(
            flagged,
            attempts.len() >= 3,
            "after {} attempts",
            attempts.len()
        );
    }
    assert_eq!(rig.risk.exits().retry.attempts(s0), 4);
    rig.fill(attempts.last().unwrap(), "97.75");
    rig.run();
    assert!(!rig.risk.book().position(s0).is_open());
    assert!(!rig.risk.exits().retry.is_flagged(s0));
    let report = rig.risk.finish();
    assert_eq!(report.counter("exit_retries"), 4);
    assert_eq!(report.counter("exits_failed"), 1);
    assert_eq!(
        forced(&report),
        [("stop_loss", 1)],
        "one decision, four retries"
    );
}

#[test]
fn a_rejected_square_off_waits_for_its_retry() {
    let mut rig = long_s0(&uncapped(), "0");
    let off = step(&mut rig, tick(1, at(15, 15, 0), "50", "49.95", "50.05"));
    assert_eq!(off[0].reason, IntentReason::SquareOff);
    rig.answer(&off[0], ExecKind::Rejected, 0, "0");
    assert!(intents(&rig.run()).is_empty());
    let half = at(15, 15, 0).add_nanos(400_000_000);
    assert!(step(&mut rig, tick(0, half, "100", "99.95", "100.05")).is_empty());
    let again = step(&mut rig, tick(0, at(15, 15, 1), "100", "99.95", "100.05"));
    assert_eq!(again[0].reason, IntentReason::SquareOff);
    rig.fill(&again[0], "99.95");
    rig.run();
    let report = rig.risk.finish();
    assert_eq!(forced(&report), [("square_off", 1)]);
    assert_eq!(report.counter("exit_retries"), 1);
}

#[test]
fn a_fast_index_fall_flattens_and_halts() {
    let mut rig = long_s0(&uncapped(), "0");
    rig.push(&[
        tick(INDEX, at(10, 1, 0), "24000", "0", "0"),
        tick(INDEX, at(10, 4, 0), "23600", "0", "0"),
    ]);
    assert!(intents(&rig.run()).is_empty(), "1.7% is within the limit");
    let exit = step(&mut rig, tick(INDEX, at(10, 5, 59), "23500", "0", "0"));
    assert_eq!(
        (exit[0].instrument, exit[0].reason, exit[0].qty),
        (InstrumentId(0), IntentReason::Emergency, Qty::new(6996))
    );
    assert_eq!(rig.risk.trading_state(), TradingState::Halted);
    rig.fill(&exit[0], "99.95");
    rig.run();
    assert!(step(&mut rig, signal(1, 0, Long, "50", "49", at(10, 6, 0))).is_empty());
    assert_eq!(rig.risk.refusals(Refusal::Halted), 1);
    let report = rig.risk.finish();
    assert_eq!(forced(&report), [("emergency", 1)]);
}

#[test]
fn a_shutdown_flattens_before_the_stage_finishes_or_leaves_positions_as_told() {
    for policy in [ShutdownPolicy::Flatten, ShutdownPolicy::Leave] {
        let config = RiskConfig {
            on_shutdown: policy,
            ..uncapped()
        };
        let stop = Arc::new(AtomicBool::new(false));
        let mut rig = alone(&config, true);
        *rig.risk = std::mem::replace(&mut *rig.risk, idle_stage()).with_stop(stop.clone());
        rig.push(&[
            tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
            signal(0, 0, Long, "100", "98", at(10, 0, 0)),
        ]);
        let entry = intents(&rig.run())[0];
        rig.fill(&entry, "100.05");
        rig.run();
        stop.store(true, Ordering::Relaxed);
        rig.feed = None;
        let out = intents(&rig.run());
        match policy {
            ShutdownPolicy::Flatten => {
                assert_eq!(
                    (out[0].reason, out[0].qty),
                    (IntentReason::Emergency, Qty::new(6996))
                );
                assert_eq!(rig.risk.poll(), Poll::Idle, "waits for the exit's answer");
                rig.fill(&out[0], "99.95");
                rig.run();
                assert_eq!(rig.risk.book().open_positions(), 0);
            }
            ShutdownPolicy::Leave => {
                assert!(out.is_empty());
                assert_eq!(rig.risk.poll(), Poll::Done);
                assert_eq!(rig.risk.book().open_positions(), 1);
            }
        }
    }
}

/// An entry still in flight when the shutdown flatten is decided is closed once it
/// fills: the flatten covers what the run will hold, not only what it holds now.
#[test]
fn a_shutdown_flatten_closes_an_entry_that_fills_after_it() {
    // Live (no market-time sync): answers come when the broker sends them, so the
    // flatten can be decided between an entry's order and its fill.
    let stop = Arc::new(AtomicBool::new(false));
    let mut rig = alone(&uncapped(), false);
    *rig.risk = std::mem::replace(&mut *rig.risk, idle_stage()).with_stop(stop.clone());
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
        signal(1, 1, Long, "50", "49", at(10, 0, 0)),
    ]);
    let entries = intents(&rig.run());
    assert_eq!(entries.len(), 2);
    rig.fill(&entries[0], "100.05");
    rig.run();
    stop.store(true, Ordering::Relaxed);
    rig.feed = None;
    let first = intents(&rig.run());
    assert_eq!(
        first.len(),
        1,
        "only the open position is closed now: {first:?}"
    );
    assert_eq!(first[0].instrument, entries[0].instrument);
    rig.fill(&first[0], "99.95");
    rig.fill(&entries[1], "50.05");
    let late = intents(&rig.run());
    assert_eq!(
        late.len(),
        1,
        "the late entry's position is closed: {late:?}"
    );
    assert_eq!(
        (late[0].instrument, late[0].qty),
        (entries[1].instrument, entries[1].qty)
    );
    assert_ne!(rig.risk.poll(), Poll::Done, "waits for the exit's answer");
    rig.fill(&late[0], "49.95");
    rig.run();
    assert_eq!(rig.risk.book().open_positions(), 0);
}

/// A broker gateway's confirmed differences reach the book one position at a time
/// through the order stage's ring, and a halt notice halts entries as the operator's
/// `halt` does; one alert per difference, none where the book already agrees.
#[test]
fn broker_notices_adopt_into_the_book_and_halt_entries() {
    use crate::{
        control::{Incoming, StageId, StageLink},
        model::{BrokerNotice, BrokerPosition, ControlReply, StateReason},
        risk::ReconcilePolicy,
    };
    let config = RiskConfig {
        reconcile: ReconcilePolicy::Adopt,
        ..uncapped()
    };
    let mut rig = long_s0(&config, "0");
    let (port, mut link) = StageLink::pair(StageId::Risk, 16);
    *rig.risk = rig.risk.with_control(port);
    let mut alerts = |rig: &mut Alone| {
        rig.run();
        std::iter::from_fn(|| link.poll())
            .filter_map(|i| match i {
                Incoming::Unasked(ControlReply::Alert(a)) => Some((a.kind, a.instrument)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let notify = |rig: &mut Alone, notice: BrokerNotice| {
        rig.answers
            .as_mut()
            .unwrap()
            .try_push(OrderOutput::Broker(notice))
            .unwrap();
    };
    // The book's own position, as the broker rounds it: no difference, no alert.
    notify(
        &mut rig,
        BrokerNotice::Position(BrokerPosition {
            instrument: InstrumentId(0),
            net: 6996,
            avg_price: px("100.05"),
        }),
    );
    assert!(alerts(&mut rig).is_empty());
    // A position the book does not know of: alerted once, and the book takes it.
    notify(
        &mut rig,
        BrokerNotice::Position(BrokerPosition {
            instrument: InstrumentId(1),
            net: -40,
            avg_price: px("50.10"),
        }),
    );
    assert_eq!(
        alerts(&mut rig),
        [("reconcile_mismatch", Some(InstrumentId(1)))]
    );
    let s1 = *rig.risk.book().position(InstrumentId(1));
    assert_eq!((s1.net(), s1.avg_price()), (-40, px("50.10")));
    assert_eq!(rig.risk.trading_state(), TradingState::Active);
    // The halt: the operator's halt, with its alert; entries are refused after it.
    notify(&mut rig, BrokerNotice::Halt);
    // As with the operator's halt, the positions left open are pointed out too.
    assert_eq!(
        alerts(&mut rig),
        [("trading_halted", None), ("halted_with_positions", None)]
    );
    assert_eq!(rig.risk.trading_state(), TradingState::Halted);
    assert_eq!(rig.risk.state_reason(), StateReason::Operator);
    let out = step(&mut rig, tick(2, at(10, 2, 0), "80", "79.95", "80.05"));
    assert!(out.is_empty());
    let out = step(&mut rig, signal(2, 1, Long, "80", "78", at(10, 2, 0)));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(rig.risk.refusals(Refusal::Halted), 1);
    // A second halt changes nothing and says nothing.
    notify(&mut rig, BrokerNotice::Halt);
    assert!(alerts(&mut rig).is_empty());
}

/// While a resumed day is being rebuilt, the broker's notices wait: the book is not
/// yet the book of now, and a halt journaled mid-replay would not be the journaled day.
/// They apply once the journal's records have all been made again.
#[test]
fn broker_notices_wait_until_a_resumed_day_is_rebuilt() {
    use crate::{
        journal::{Journal, JournalConfig, Seq},
        model::{BrokerNotice, BrokerPosition, StateReason},
        risk::ReconcilePolicy,
    };
    let config = RiskConfig {
        reconcile: ReconcilePolicy::Adopt,
        ..uncapped()
    };
    let mut rig = long_s0(&config, "0");
    let dir = std::env::temp_dir().join(format!("tickpipe-risk-broker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    // Journaled before the restart: the operator's reduce at 10:05.
    let reduce = ControlCommand::SetState(TradingState::Reducing);
    let t = at(10, 5, 0);
    let writer = journal.resume_writer("risk", Seq(2)).unwrap();
    *rig.risk = rig.risk.with_journal(JournalTap::resume(
        writer,
        vec![(t, Record::Control(reduce))],
    ));
    for notice in [
        BrokerNotice::Position(BrokerPosition {
            instrument: InstrumentId(1),
            net: -40,
            avg_price: px("50.10"),
        }),
        BrokerNotice::Halt,
    ] {
        rig.answers
            .as_mut()
            .unwrap()
            .try_push(OrderOutput::Broker(notice))
            .unwrap();
    }
    rig.run();
    assert_eq!(rig.risk.book().position(InstrumentId(1)).net(), 0, "waits");
    assert_eq!(rig.risk.trading_state(), TradingState::Active, "waits");
    // The replay makes the journaled command again: the day is rebuilt.
    rig.push(&[RiskInput::Control(ScheduledCommand {
        exchange_ts: t,
        ingress: Stamp(0),
        command: reduce,
    })]);
    rig.run();
    let s1 = *rig.risk.book().position(InstrumentId(1));
    assert_eq!((s1.net(), s1.avg_price()), (-40, px("50.10")));
    assert_eq!(rig.risk.trading_state(), TradingState::Halted);
    assert_eq!(
        rig.risk.state_reason(),
        StateReason::Operator,
        "not a journal divergence"
    );
    drop(rig);
    journal.shutdown().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reconciliation_alerts_adopts_or_flattens_by_policy() {
    use crate::risk::{BrokerPosition, ReconcilePolicy};
    for policy in [
        ReconcilePolicy::Alert,
        ReconcilePolicy::Adopt,
        ReconcilePolicy::Flatten,
    ] {
        let config = RiskConfig {
            reconcile: policy,
            ..uncapped()
        };
        let mut rig = long_s0(&config, "0");
        rig.push(&[tick(1, at(10, 1, 0), "50", "49.95", "50.05")]);
        rig.run();
        let broker = [
            // The book's 6996 at 100.05, as the broker rounds it: no difference.
            BrokerPosition {
                instrument: InstrumentId(0),
                net: 6996,
                avg_price: px("100.05"),
            },
            // A position the book does not know of.
            BrokerPosition {
                instrument: InstrumentId(1),
                net: -40,
                avg_price: px("50.10"),
            },
        ];
        assert!(rig.risk.reconcile(&broker[..1]).is_empty());
        let diff = rig.risk.reconcile(&broker);
        assert_eq!(diff.len(), 1);
        assert_eq!(
            (diff[0].instrument, diff[0].book_net, diff[0].broker_net),
            (InstrumentId(1), 0, -40)
        );
        assert!(diff[0].qty_differs());
        let s1 = *rig.risk.book().position(InstrumentId(1));
        let out = intents(&rig.run());
        match policy {
            ReconcilePolicy::Alert => {
                assert_eq!(s1.net(), 0, "the book stays as it was");
                assert!(out.is_empty());
            }
            ReconcilePolicy::Adopt => {
                assert_eq!((s1.net(), s1.avg_price()), (-40, px("50.10")));
                assert!(out.is_empty());
            }
            ReconcilePolicy::Flatten => {
                assert_eq!(s1.net(), -40);
                assert_eq!(
                    (out[0].instrument, out[0].side, out[0].qty),
                    (InstrumentId(1), Side::Buy, Qty::new(40))
                );
            }
        }
        // Missing at the broker: the book's long is reported against zero.
        let diff = rig.risk.reconcile(&[]);
        assert!(diff
            .iter()
            .any(|m| m.instrument == InstrumentId(0) && m.broker_net == 0));
    }
}

/// The intents a market-time flatten sends for two longs (S0 and S1), in the order
/// sent, with `prefill` quotes the order stage has not read yet in the ring to it; the
/// order stage answers S0's exit as soon as it reads it.
fn flatten_exits(prefill: u64) -> Vec<(InstrumentId, IntentId)> {
    // Wide stops: each position risks its budget on a small part of the capital.
    let mut rig = alone(&uncapped(), true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        signal(0, 0, Long, "100", "90", at(10, 0, 0)),
        signal(1, 1, Long, "50", "45", at(10, 0, 0)),
    ]);
    // With market-time sync, each entry waits for the one before it to be answered.
    for price in ["100.05", "50.05"] {
        let entry = intents(&rig.run());
        assert_eq!(entry.len(), 1, "{entry:?}");
        rig.fill(&entry[0], price);
    }
    rig.push(&[tick(INDEX, at(10, 1, 0), "24000", "0", "0")]);
    rig.run();
    assert_eq!(rig.risk.book().open_positions(), 2);
    // Quotes of an instrument without a position, left unread by the order stage.
    for k in 0..prefill {
        let ts = UnixNanos(at(10, 1, 1).0 + k * 1_000_000);
        rig.push(&[tick(2, ts, "20", "19.95", "20.05")]);
        while matches!(rig.risk.poll(), Poll::Work(_)) {}
    }
    // A 2.1 % fall of the index within five minutes: the emergency flatten.
    rig.push(&[tick(INDEX, at(10, 5, 59), "23500", "0", "0")]);
    let mut sent = Vec::new();
    let mut answered = false;
    for _ in 0..100 {
        for _ in 0..100 {
            if !matches!(rig.risk.poll(), Poll::Work(_)) {
                break;
            }
        }
        let out: Vec<OrderInput> = std::iter::from_fn(|| rig.out.try_pop().ok()).collect();
        if out.is_empty() {
            break;
        }
        for intent in intents(&out) {
            sent.push((intent.instrument, intent.id));
            if !answered && intent.instrument == InstrumentId(0) {
                answered = true;
                rig.fill(&intent, "99.95");
            }
        }
    }
    sent
}

/// A flatten's exits take the same in-flight slots (so the same intent and client order
/// ids) however full the ring to the order stage is when it is decided. Cut where the
/// ring filled, the rest went after the answers to the first exits had freed their
/// slots: on a thread layout whose order stage lagged, other ids than on one thread.
#[test]
fn a_flatten_takes_the_same_slots_however_full_the_ring_is() {
    let calm = flatten_exits(0);
    assert_eq!(
        calm.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [InstrumentId(0), InstrumentId(1)],
        "{calm:?}"
    );
    // The ring holds 256: from 255 unread quotes on, the flatten is decided with room
    // for at most its first exit.
    for prefill in 240..=300 {
        assert_eq!(flatten_exits(prefill), calm, "{prefill} quotes unread");
    }
}
