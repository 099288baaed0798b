//! The end of the session at a venue that keeps orders working (a broker): entries are
//! cancelled, fills that cross the cancels are booked, exits are worked until done, and
//! a venue that never confirms is left behind after `order.end_cancel_secs`.

use std::time::{Duration, Instant};

use super::*;
use crate::model::{AlertLevel, ControlCommand, ControlReply};

/// Entry `seq`: a limit buy of 10 at 10.00.
fn limit_entry(seq: u64) -> OrderInput {
    approved(OrderIntent {
        limit: p("10.00"),
        ..order_intent(seq, 0, Side::Buy, 10)
    })
}

/// Exit `seq` (the shutdown flatten's): a market sell of 10.
fn exit(seq: u64) -> OrderInput {
    approved(OrderIntent {
        reason: IntentReason::Emergency,
        ..order_intent(seq, 0, Side::Sell, 10)
    })
}

fn cancels(script: &Arc<Mutex<Script>>) -> Vec<ClientOrderId> {
    script
        .lock()
        .unwrap()
        .asked
        .iter()
        .filter_map(|a| match a {
            Asked::Cancel(id) => Some(*id),
            _ => None,
        })
        .collect()
}

fn child(seq: u64) -> ClientOrderId {
    ClientOrderId::new(id(seq), 0)
}

fn ended(reports: &[ExecReport]) -> Vec<(u64, ExecKind, u32)> {
    reports
        .iter()
        .filter(|r| r.kind != ExecKind::Accepted)
        .map(|r| (r.intent.sequence(), r.kind, r.cum_qty.get()))
        .collect()
}

/// A scripted broker that accepts the next `n` placements and answers nothing else.
fn accepting(n: usize) -> (Box<Scripted>, Arc<Mutex<Script>>) {
    let (gateway, script) = Scripted::new();
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]; n];
    (gateway, script)
}

#[test]
fn a_resting_entry_is_cancelled_at_the_end_and_an_exit_is_worked_until_done() {
    let (gateway, script) = accepting(2);
    let mut rig = rig(gateway, 64);
    rig.send(limit_entry(1));
    rig.send(exit(2));
    rig.settle();
    assert_eq!(rig.stage.live_orders(), 2);
    rig.input = None;
    rig.settle();
    assert_eq!(cancels(&script), [child(1)], "the entry only");
    assert_eq!(rig.stage.poll(), Poll::Idle, "both still work");
    script.lock().unwrap().later = vec![answer(1, VenueEvent::Cancelled, 0)];
    rig.settle();
    assert_eq!(rig.stage.poll(), Poll::Idle, "the exit still works");
    script.lock().unwrap().later = vec![answer(2, VenueEvent::Fill, 10)];
    rig.settle();
    assert_eq!(
        ended(&rig.reports()),
        [(1, ExecKind::Cancelled, 0), (2, ExecKind::Filled, 10)]
    );
    assert_eq!(rig.stage.poll(), Poll::Done);
    let report = rig.stage.finish();
    assert_eq!(report.counter("cancels"), 1);
    assert!(report.error.is_none());
}

#[test]
fn a_fill_that_crosses_the_cancel_is_booked() {
    let (gateway, script) = accepting(1);
    let mut rig = rig(gateway, 64);
    rig.send(limit_entry(1));
    rig.settle();
    rig.input = None;
    rig.settle();
    assert_eq!(cancels(&script), [child(1)]);
    // The venue filled part before the cancel reached it, then cancelled the rest.
    script.lock().unwrap().later = vec![
        answer(1, VenueEvent::Fill, 4),
        answer(1, VenueEvent::Cancelled, 0),
    ];
    rig.settle();
    assert_eq!(
        ended(&rig.reports()),
        [(1, ExecKind::PartialFill, 4), (1, ExecKind::Cancelled, 4)]
    );
    assert_eq!(rig.stage.poll(), Poll::Done);
    assert_eq!(
        rig.stage.finish().counter("replaced"),
        0,
        "nothing placed again"
    );
}

#[test]
fn an_entry_the_venue_accepts_after_the_end_is_cancelled_then() {
    let (gateway, script) = Scripted::new();
    let mut rig = rig(gateway, 64);
    rig.send(limit_entry(1));
    rig.settle();
    rig.input = None;
    rig.settle();
    assert!(cancels(&script).is_empty(), "not known at the venue yet");
    script.lock().unwrap().later = vec![answer(1, VenueEvent::Accepted, 0)];
    rig.settle();
    assert_eq!(cancels(&script), [child(1)]);
    // The venue filled it in full before the cancel: the cancel's refusal is late.
    script.lock().unwrap().later = vec![
        answer(1, VenueEvent::Fill, 10),
        answer(1, VenueEvent::CancelRejected, 0),
    ];
    rig.settle();
    assert_eq!(ended(&rig.reports()), [(1, ExecKind::Filled, 10)]);
    assert_eq!(rig.stage.poll(), Poll::Done);
    let report = rig.stage.finish();
    assert_eq!(report.counter("late_acks"), 1);
    assert!(report.error.is_none());
}

#[test]
fn the_paper_exchange_expires_its_orders_and_nothing_is_cancelled() {
    let mut rig = rig(Box::new(crate::order::PaperGateway::new(&table())), 64);
    rig.send(quote("10.10", "10.15"));
    rig.send(limit_entry(1));
    rig.settle();
    assert_eq!(rig.stage.live_orders(), 1, "resting below the touch");
    rig.input = None;
    rig.settle();
    assert_eq!(ended(&rig.reports()), [(1, ExecKind::Expired, 0)]);
    assert_eq!(rig.stage.poll(), Poll::Done);
    assert_eq!(rig.stage.finish().counter("cancels"), 0);
}

/// The control plane's ends of a stage's control rings.
type ControlEnds = (Producer<ControlCommand>, Consumer<ControlReply>);

/// An accepted limit entry and an accepted exit, the session ended by risk (whose ring
/// stays open), `order.end_cancel_secs = 1`, a venue that answers nothing, and polls
/// until the bound passed and its alert came; the control plane's ends are returned
/// with the rig.
fn past_the_bound() -> (Rig, Arc<Mutex<Script>>, ControlEnds) {
    let (gateway, script) = accepting(2);
    let (commands, commands_rx) = channel(8);
    let (replies_tx, mut replies) = channel(64);
    let config = OrderConfig {
        end_cancel_secs: 1,
        ..OrderConfig::default()
    };
    let mut rig = rig_with(gateway, 64, &config);
    let stage = *rig.stage;
    rig.stage =
        Box::new(stage.with_control(crate::runtime::ControlPort::new(commands_rx, replies_tx, 4)));
    rig.send(limit_entry(1));
    rig.send(exit(2));
    rig.settle();
    // Risk still waits for the answers: its ring to the stage stays open.
    rig.send(OrderInput::EndSession(UnixNanos(2_000)));
    rig.settle();
    assert_eq!(cancels(&script), [child(1)]);
    // The venue never answers the cancel. Once the bound passed, a critical alert says
    // so; the exit is still worked on.
    let start = Instant::now();
    let alert = loop {
        assert_eq!(rig.stage.poll(), Poll::Idle, "the exit holds the stage");
        if let Ok(ControlReply::Alert(a)) = replies.try_pop() {
            break a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no end_cancel_timeout alert"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(
        (alert.kind, alert.level),
        ("end_cancel_timeout", AlertLevel::Critical)
    );
    assert_eq!(rig.stage.poll(), Poll::Idle, "the exit holds the stage");
    (rig, script, (commands, replies))
}

#[test]
fn a_venue_that_never_confirms_the_cancel_is_left_behind_after_the_bound() {
    let (mut rig, script, (_commands, mut replies)) = past_the_bound();
    script.lock().unwrap().later = vec![answer(2, VenueEvent::Fill, 10)];
    assert_eq!(rig.stage.poll(), Poll::Work(1));
    assert_eq!(
        rig.stage.poll(),
        Poll::Done,
        "only the entry left behind is live"
    );
    assert!(replies.try_pop().is_err(), "the alert once");
    let report = rig.stage.finish();
    let error = report.error.expect("an error names what is left working");
    assert!(error.is_fatal());
    let text = error.to_string();
    assert!(text.contains("order.end_cancel_secs"), "{text}");
    assert!(text.contains("intent 1 HDFCBANK Buy 0/10 filled"), "{text}");
}

#[test]
fn a_cancel_confirmed_after_the_bound_still_ends_the_run_cleanly() {
    let (mut rig, script, _control) = past_the_bound();
    script.lock().unwrap().later = vec![
        answer(1, VenueEvent::Cancelled, 0),
        answer(2, VenueEvent::Fill, 10),
    ];
    rig.settle();
    assert_eq!(rig.stage.live_orders(), 0);
    rig.input = None;
    assert_eq!(rig.stage.poll(), Poll::Done);
    assert!(
        rig.stage.finish().error.is_none(),
        "nothing was left behind"
    );
}
