//! A resumed day at a live broker: the intents made before the restart are answered
//! from the journal and never sent to the broker again; a paper exchange gets them
//! again to rebuild its book.

use super::*;
use crate::journal::{Journal, JournalConfig, JournalReader, Record, Seq};

/// A [`Scripted`] gateway that, like a broker, holds the orders of the run before a
/// restart.
struct Holding(Box<Scripted>);

impl Gateway for Holding {
    fn name(&self) -> &'static str {
        "holding"
    }
    fn on_quote(&mut self, quote: &Tick, reports: crate::order::Reports<'_>) {
        self.0.on_quote(quote, reports);
    }
    fn advance(&mut self, now: UnixNanos, reports: crate::order::Reports<'_>) {
        self.0.advance(now, reports);
    }
    fn submit(&mut self, order: &VenueOrder, reports: crate::order::Reports<'_>) {
        self.0.submit(order, reports);
    }
    fn modify(&mut self, order: ClientOrderId, amend: &Amend, reports: crate::order::Reports<'_>) {
        self.0.modify(order, amend, reports);
    }
    fn cancel(&mut self, order: ClientOrderId, reports: crate::order::Reports<'_>) {
        self.0.cancel(order, reports);
    }
    fn poll(&mut self, reports: crate::order::Reports<'_>) -> usize {
        self.0.poll(reports)
    }
    fn rebuilds_from_replay(&self) -> bool {
        false
    }
    fn end_session(&mut self, now: UnixNanos, reports: crate::order::Reports<'_>) {
        self.0.end_session(now, reports);
    }
}

/// The report on intent `seq` (instrument 0, a buy of 10) the journal holds.
fn journaled(seq: u64, kind: ExecKind, cum: u32, ts: u64) -> (UnixNanos, Record) {
    let fill = kind == ExecKind::Filled;
    let report = ExecReport {
        intent: id(seq),
        exchange_ts: UnixNanos(ts),
        ingress: Stamp(0),
        last_price: if fill { p("10.05") } else { Price::ZERO },
        instrument: InstrumentId(0),
        last_qty: Qty::new(if fill { cum } else { 0 }),
        cum_qty: Qty::new(cum),
        leaves_qty: Qty::new(if kind.is_terminal() { 0 } else { 10 - cum }),
        strategy: StrategyId(1),
        side: Side::Buy,
        kind,
        reject: RejectReason::None,
        trade: TradeId(if fill { 77 } else { 0 }),
    };
    (UnixNanos(ts), Record::Exec(report))
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-order-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `rig` resumed: the order writer journaled `before`, the risk stage intents 1 to 3.
fn resumed(rig: Rig, journal: &Journal, before: Vec<(UnixNanos, Record)>) -> Rig {
    let writer = journal
        .resume_writer("order", Seq(before.len() as u64 + 1))
        .unwrap();
    let tap = JournalTap::resume(writer, before).with_earlier_intents(vec![id(3), id(1), id(2)]);
    Rig {
        stage: Box::new((*rig.stage).with_journal(tap)),
        ..rig
    }
}

#[test]
fn a_broker_is_not_sent_the_intents_made_before_a_restart_again() {
    let dir = temp("resume-broker");
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let (gateway, script) = Scripted::new();
    let rig = rig(Box::new(Holding(gateway)), 64);
    // Before the restart: #1 and #2 accepted, #1 filled; #3 made by risk but not
    // answered by the time the engine stopped. #2 and #3 were working at the broker.
    let before = vec![
        journaled(1, ExecKind::Accepted, 0, 901),
        journaled(2, ExecKind::Accepted, 0, 902),
        journaled(1, ExecKind::Filled, 10, 903),
    ];
    let mut rig = resumed(rig, &journal, before.clone());
    let as_report = |r: &(UnixNanos, Record)| match r.1 {
        Record::Exec(e) => e,
        ref other => panic!("{other:?}"),
    };

    rig.send(quote("10.00", "10.05"));
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    assert_eq!(
        rig.reports(),
        [as_report(&before[0])],
        "#1's reports up to the first of an intent not made again yet"
    );
    rig.send(intent(2, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    let got = rig.reports();
    assert_eq!(got[..2], [as_report(&before[1]), as_report(&before[2])]);
    // The journaled reports are used up: #2, working when the engine stopped, is
    // closed with what it filled (nothing), in market time.
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(
        (
            got[2].intent,
            got[2].kind,
            got[2].cum_qty,
            got[2].leaves_qty
        ),
        (id(2), ExecKind::Cancelled, Qty::ZERO, Qty::ZERO)
    );
    // #3 has no journaled report at all: closed as it arrives.
    rig.send(intent(3, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    let got = rig.reports();
    assert_eq!(
        got.iter().map(|r| (r.intent, r.kind)).collect::<Vec<_>>(),
        [(id(3), ExecKind::Cancelled)]
    );
    assert!(
        script.lock().unwrap().asked.is_empty(),
        "nothing made before the restart went to the broker"
    );
    // A new intent goes out.
    rig.send(intent(4, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    let asked = script.lock().unwrap().asked.clone();
    assert!(
        matches!(asked[..], [Asked::Submit(o)] if o.id.intent() == id(4)),
        "{asked:?}"
    );
    let report = rig.stage.finish();
    assert_eq!(report.counter("journal_failures"), 0);
    assert_eq!(report.counter("orders"), 1);
    journal.shutdown().unwrap();
    // The journaled reports were checked, not written again: the two closings follow
    // them (the series starts at 4: this test never wrote the first three).
    let reader = JournalReader::open(&dir).unwrap();
    let order: Vec<_> = reader.records_of("order").map(|e| e.unwrap()).collect();
    assert_eq!(
        order
            .iter()
            .map(|e| match e.record {
                Record::Exec(r) => (e.seq.0, r.intent, r.kind),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>(),
        [
            (4, id(2), ExecKind::Cancelled),
            (5, id(3), ExecKind::Cancelled)
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_paper_exchange_is_sent_them_again_to_rebuild_its_book() {
    let dir = temp("resume-paper");
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let (gateway, script) = Scripted::new();
    let rig = rig(gateway, 64);
    let mut rig = resumed(
        rig,
        &journal,
        vec![journaled(1, ExecKind::Accepted, 0, 1_000)],
    );
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    rig.send(quote("10.00", "10.05"));
    rig.send(intent(1, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    let asked = script.lock().unwrap().asked.clone();
    assert!(
        matches!(asked[..], [Asked::Submit(o)] if o.id.intent() == id(1)),
        "{asked:?}"
    );
    assert_eq!(
        rig.reports()
            .iter()
            .map(|r| (r.intent, r.kind))
            .collect::<Vec<_>>(),
        [(id(1), ExecKind::Accepted)]
    );
    drop(rig);
    journal.shutdown().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn after_a_difference_from_the_journal_nothing_is_answered_from_it() {
    let dir = temp("resume-diverged");
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let (gateway, script) = Scripted::new();
    let rig = rig(Box::new(Holding(gateway)), 64);
    let mut rig = resumed(
        rig,
        &journal,
        vec![journaled(2, ExecKind::Accepted, 0, 1_000)],
    );
    // An intent made after the restart is answered before #2 is made again: the
    // journal held #2's report there, so the day differs from it.
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    rig.send(quote("10.00", "10.05"));
    rig.send(intent(4, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    assert_eq!(rig.reports().len(), 1);
    rig.send(intent(2, 0, Side::Buy, 10, Stamp(0)));
    rig.settle();
    assert_eq!(
        rig.reports(),
        [],
        "the journal's reports are not sent once the day differs from it"
    );
    let report = rig.stage.finish();
    assert!(report.counter("journal_failures") > 0);
    journal.shutdown().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The broker-side protective stop of a position was resting at the broker when the
/// engine stopped (the order stage journaled its acceptance). While the resumed day
/// catches up, risk asks for the stop again (the same intent id: its slots are
/// rebuilt as they were taken). The broker holds that stop already: placing another
/// would leave two SL-M orders on one position, which could both trigger and reverse
/// it. Risk does not journal protective stops as intents, so the tap does not count
/// it among the intents made before the restart.
#[test]
#[ignore = "issue 14, open: a resumed day at a broker places a resting protective stop \
            again; the fix needs the gateway to take over the broker's order (its id is \
            not journaled) before the stage can answer the stop from the journal"]
fn a_resumed_day_does_not_place_a_resting_protective_stop_again() {
    let dir = temp("resume-protective");
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let (gateway, script) = Scripted::new();
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    let config = OrderConfig {
        protective_stop: true,
        ..OrderConfig::default()
    };
    let rig = rig_with(Box::new(Holding(gateway)), 64, &config);
    let accepted = ExecReport {
        side: Side::Sell,
        ..match journaled(1, ExecKind::Accepted, 0, 1_000).1 {
            Record::Exec(r) => r,
            _ => unreachable!(),
        }
    };
    let before = vec![(UnixNanos(1_000), Record::Exec(accepted))];
    let writer = journal.resume_writer("order", Seq(2)).unwrap();
    let tap = JournalTap::resume(writer, before).with_earlier_intents(vec![id(9)]);
    let mut rig = Rig {
        stage: Box::new((*rig.stage).with_journal(tap)),
        ..rig
    };
    rig.send(quote("100.00", "100.05"));
    rig.send(OrderInput::Protect(crate::model::ProtectStop {
        intent: id(1),
        exchange_ts: UnixNanos(1_000),
        trigger: p("98.00"),
        qty: Qty::new(10),
        booked: Qty::ZERO,
        instrument: InstrumentId(0),
        strategy: StrategyId(1),
        side: Side::Sell,
        exit_follows: false,
    }));
    rig.settle();
    let asked = script.lock().unwrap().asked.clone();
    assert!(
        !asked.iter().any(|a| matches!(a, Asked::Submit(_))),
        "the broker holds the stop already; placed again: {asked:?}"
    );
    drop(rig);
    journal.shutdown().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
