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
    fn take_over(&mut self, order: &crate::order::TakeOver, reports: crate::order::Reports<'_>) {
        self.0.take_over(order, reports);
    }
    fn end_session(&mut self, now: UnixNanos, reports: crate::order::Reports<'_>) {
        self.0.end_session(now, reports);
    }
}

/// The order stage's journal record of a broker's acceptance of child `child` of
/// intent `seq` (instrument 0, 10 units), under the broker's order id `venue_id`.
fn placed(
    seq: u64,
    child: u8,
    side: Side,
    limit: &str,
    trigger: &str,
    venue_id: u64,
) -> (UnixNanos, Record) {
    let price = |s: &str| if s.is_empty() { Price::ZERO } else { p(s) };
    (
        UnixNanos(900),
        Record::Placed(crate::journal::Placement {
            order: ClientOrderId::new(id(seq), child),
            venue_id,
            limit: price(limit),
            trigger: price(trigger),
            qty: Qty::new(10),
            prior: Qty::ZERO,
            instrument: InstrumentId(0),
            slice: 0,
            side,
        }),
    )
}

/// The report on intent `seq` (instrument 0, a buy of 10) the journal holds.
fn journaled(seq: u64, kind: ExecKind, cum: u32, ts: u64) -> (UnixNanos, Record) {
    // A part fill is the intent's first: its units are the cumulative ones.
    let fill = matches!(kind, ExecKind::PartialFill | ExecKind::Filled);
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
/// engine stopped (the order stage journaled the broker's order id and the acceptance).
/// While the resumed day catches up, risk asks for the stop again (the same intent id:
/// its slots are rebuilt as they were taken). The broker holds that stop already:
/// placing another would leave two SL-M orders on one position, which could both
/// trigger and reverse it. Risk does not journal protective stops as intents, so the
/// stage knows the stop from its own journal. It takes the broker's order over and
/// works it: risk's next moves modify it, and its cancel cancels it.
#[test]
fn a_resumed_day_does_not_place_a_resting_protective_stop_again() {
    let dir = temp("resume-protective");
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let (gateway, script) = Scripted::new();
    script.lock().unwrap().on_submit = vec![vec![VenueEvent::Accepted]];
    let config = OrderConfig {
        protective_stop: true,
        protective_stop_step_ticks: 20,
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
    let before = vec![
        placed(1, 0, Side::Sell, "", "98.00", 251_125_000_000_001),
        (UnixNanos(1_000), Record::Exec(accepted)),
    ];
    let writer = journal.resume_writer("order", Seq(3)).unwrap();
    let tap = JournalTap::resume(writer, before).with_earlier_intents(vec![id(9)]);
    let mut rig = Rig {
        stage: Box::new((*rig.stage).with_journal(tap)),
        ..rig
    };
    let protect = |trigger: &str, qty: u32| {
        OrderInput::Protect(crate::model::ProtectStop {
            intent: id(1),
            exchange_ts: UnixNanos(1_000),
            trigger: if qty == 0 { Price::ZERO } else { p(trigger) },
            qty: Qty::new(qty),
            booked: Qty::ZERO,
            instrument: InstrumentId(0),
            strategy: StrategyId(1),
            side: Side::Sell,
            exit_follows: false,
        })
    };
    rig.send(quote("100.00", "100.05"));
    rig.send(protect("98.00", 10));
    rig.settle();
    let asked = script.lock().unwrap().asked.clone();
    assert!(
        !asked.iter().any(|a| matches!(a, Asked::Submit(_))),
        "the broker holds the stop already; placed again: {asked:?}"
    );
    let stop = ClientOrderId::new(id(1), 0);
    let [Asked::TakeOver(taken)] = asked[..] else {
        panic!("the broker's stop is taken over: {asked:?}");
    };
    assert_eq!(
        (
            taken.order.id,
            taken.venue_id,
            taken.order.kind,
            taken.order.trigger,
            taken.order.qty,
            taken.filled
        ),
        (
            stop,
            251_125_000_000_001,
            OrderType::StopMarket,
            p("98.00"),
            Qty::new(10),
            Qty::ZERO
        )
    );
    assert_eq!(
        rig.reports()
            .iter()
            .map(|r| (r.intent, r.kind))
            .collect::<Vec<_>>(),
        [(id(1), ExecKind::Accepted)],
        "risk hears the journaled acceptance, and no end: the stop works on"
    );
    assert_eq!(rig.stage.live_orders(), 1);
    // A move of a whole step (20 ticks) modifies the broker's stop; flat cancels it.
    rig.send(protect("99.00", 10));
    rig.settle();
    rig.send(protect("", 0));
    rig.settle();
    let asked = script.lock().unwrap().asked.clone();
    assert!(
        matches!(asked[1..], [Asked::Modify(m, amend), Asked::Cancel(c)]
            if m == stop && amend.trigger == p("99.00") && c == stop),
        "{asked:?}"
    );
    script.lock().unwrap().later = vec![VenueReport::new(
        stop,
        UnixNanos(2_000),
        VenueEvent::Cancelled,
    )];
    rig.settle();
    assert_eq!(
        rig.reports()
            .iter()
            .map(|r| (r.intent, r.kind))
            .collect::<Vec<_>>(),
        [(id(1), ExecKind::Cancelled)]
    );
    let report = rig.stage.finish();
    assert_eq!(report.counter("journal_failures"), 0);
    assert_eq!(report.counter("taken_over"), 1);
    assert_eq!(report.counter("protect_placed"), 0);
    journal.shutdown().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A limit entry resting at the broker when the engine stopped, 4 of its 10 units
/// filled: the resumed day takes it over instead of closing it. A fill the broker
/// reports again (the same trade id) is booked once, a new one is booked, and the end
/// of the session cancels it like any resting entry.
#[test]
fn a_resumed_day_takes_over_an_entry_still_working_at_the_broker() {
    let dir = temp("resume-entry");
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let (gateway, script) = Scripted::new();
    let rig = rig(Box::new(Holding(gateway)), 64);
    let before = vec![
        placed(1, 0, Side::Buy, "10.00", "", 7_001),
        journaled(1, ExecKind::Accepted, 0, 901),
        journaled(1, ExecKind::PartialFill, 4, 902),
    ];
    let mut rig = resumed(rig, &journal, before);
    rig.send(quote("10.00", "10.05"));
    rig.send(approved(OrderIntent {
        limit: p("10.00"),
        ..order_intent(1, 0, Side::Buy, 10)
    }));
    rig.settle();
    let got = rig.reports();
    assert_eq!(
        got.iter()
            .map(|r| (r.kind, r.cum_qty.get()))
            .collect::<Vec<_>>(),
        [(ExecKind::Accepted, 0), (ExecKind::PartialFill, 4)],
        "the journaled reports, and no end: {got:#?}"
    );
    let entry = ClientOrderId::new(id(1), 0);
    let asked = script.lock().unwrap().asked.clone();
    let [Asked::TakeOver(taken)] = asked[..] else {
        panic!("taken over, not placed: {asked:?}");
    };
    assert_eq!(
        (
            taken.order.id,
            taken.venue_id,
            taken.order.kind,
            taken.order.limit,
            taken.filled,
            taken.avg_price
        ),
        (
            entry,
            7_001,
            OrderType::Limit,
            p("10.00"),
            Qty::new(4),
            p("10.05")
        )
    );
    // The broker tells the journaled trade again, then a new one.
    script.lock().unwrap().later = vec![
        VenueReport::fill(entry, UnixNanos(950), p("10.05"), Qty::new(4), TradeId(77)),
        VenueReport::fill(entry, UnixNanos(960), p("10.00"), Qty::new(2), TradeId(78)),
    ];
    rig.settle();
    let got = rig.reports();
    assert_eq!(
        got.iter()
            .map(|r| (r.kind, r.last_qty.get(), r.cum_qty.get(), r.trade))
            .collect::<Vec<_>>(),
        [(ExecKind::PartialFill, 2, 6, TradeId(78))]
    );
    // The end of the session cancels it at the broker; the cancel ends it for risk.
    rig.input = None;
    rig.settle();
    assert_eq!(
        script.lock().unwrap().asked.last(),
        Some(&Asked::Cancel(entry))
    );
    script.lock().unwrap().later = vec![VenueReport::new(
        entry,
        UnixNanos(990),
        VenueEvent::Cancelled,
    )];
    rig.settle();
    let got = rig.reports();
    assert_eq!(
        got.iter()
            .map(|r| (r.kind, r.cum_qty.get()))
            .collect::<Vec<_>>(),
        [(ExecKind::Cancelled, 6)]
    );
    assert_eq!(rig.stage.poll(), Poll::Done);
    let report = rig.stage.finish();
    assert_eq!(report.counter("journal_failures"), 0);
    assert_eq!(report.counter("duplicate_fills"), 1);
    assert_eq!(report.counter("orders"), 0, "nothing placed");
    assert_eq!(report.counter("taken_over"), 1);
    journal.shutdown().unwrap();
    // The new reports follow the journaled ones.
    let reader = JournalReader::open(&dir).unwrap();
    let kinds: Vec<_> = reader
        .records_of("order")
        .map(|e| match e.unwrap().record {
            Record::Exec(r) => r.kind,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, [ExecKind::PartialFill, ExecKind::Cancelled]);
    std::fs::remove_dir_all(&dir).unwrap();
}
