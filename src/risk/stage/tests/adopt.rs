//! A broker's position taken into the book (`risk.reconcile` = `adopt` or `flatten`) is
//! journaled where it was applied, and a day cut after it and resumed applies it again at
//! the same point of the replay: the resumed day ends with the uninterrupted day's book
//! and journal, and a broker that reports the same position again at the restart finds
//! nothing to adopt.

use super::*;
use crate::{
    journal::{Journal, JournalConfig, JournalReader, Seq},
    model::{BrokerNotice, BrokerPosition},
    risk::ReconcilePolicy,
};

const S1: InstrumentId = InstrumentId(1);

/// The short on S1 the broker's reconciliation reports and the book does not know of.
const BROKER_S1: BrokerPosition = BrokerPosition {
    instrument: S1,
    net: -40,
    avg_price: Price::from_paise(5_010),
};

/// The risk stage alone under `policy`, without market-time sync (as a live broker
/// runs it), journaling through `tap`.
fn journaled(policy: ReconcilePolicy, tap: JournalTap) -> Alone {
    let config = RiskConfig {
        reconcile: policy,
        ..uncapped()
    };
    let mut rig = alone(&config, false);
    *rig.risk = std::mem::replace(&mut rig.risk, alone(&config, false).risk).with_journal(tap);
    rig
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tickpipe-risk-adopt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every record in `dir`, with its market time.
fn read(dir: &std::path::Path) -> Vec<(UnixNanos, Record)> {
    JournalReader::open(dir)
        .unwrap()
        .records()
        .map(|e| e.map(|e| (e.ts, e.record)))
        .collect::<Result<_, _>>()
        .unwrap()
}

fn notify(rig: &mut Alone, broker: BrokerPosition) -> Vec<OrderInput> {
    rig.answers
        .as_mut()
        .unwrap()
        .try_push(OrderOutput::Broker(BrokerNotice::Position(broker)))
        .unwrap();
    rig.run()
}

/// Pushes `inputs`, then fills every intent they lead to at `price`; returns the
/// intents.
fn trade(rig: &mut Alone, inputs: &[RiskInput], price: &str) -> Vec<OrderIntent> {
    rig.push(inputs);
    let out = rig.run();
    fill_all(rig, &out, price)
}

fn fill_all(rig: &mut Alone, out: &[OrderInput], price: &str) -> Vec<OrderIntent> {
    let sent = intents(out);
    for intent in &sent {
        rig.fill(intent, price);
    }
    assert!(intents(&rig.run()).is_empty());
    sent
}

/// The day up to the cut: S0 bought at 10:00; S1 ticks at 10:01, when the broker's
/// reconciliation reports its short (`live`: the notice arrives, as on the day itself;
/// a resumed day gets none, its journal holds the adoption); S1 ticks again at 10:02.
/// Under `flatten` the adopted short is bought back at 49.60.
fn morning(rig: &mut Alone, live: bool) -> Vec<OrderIntent> {
    let entry = trade(
        rig,
        &[
            tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
            signal(0, 0, Long, "100", "98", at(10, 0, 0)),
        ],
        "100.05",
    );
    assert_eq!(entry.len(), 1);
    let mut exits = trade(
        rig,
        &[tick(1, at(10, 1, 0), "50", "49.95", "50.05")],
        "49.60",
    );
    if live {
        let out = notify(rig, BROKER_S1);
        exits.extend(fill_all(rig, &out, "49.60"));
    }
    exits.extend(trade(
        rig,
        &[tick(1, at(10, 2, 0), "49.50", "49.45", "49.55")],
        "49.60",
    ));
    exits
}

/// The rest of the day: the operator's `close S1` at 10:04 (under `adopt` it buys the
/// short back at 49.60; under `flatten` it is flat already), S0 ticks at 10:05.
fn afternoon(rig: &mut Alone) -> Vec<OrderIntent> {
    let close = ControlCommand::Close {
        instrument: S1,
        qty: Qty::ZERO,
    };
    let mut exits = trade(rig, &[scheduled(at(10, 4, 0), close)], "49.60");
    exits.extend(trade(
        rig,
        &[tick(0, at(10, 5, 0), "101", "100.95", "101.05")],
        "101",
    ));
    exits
}

/// The book's figures a resumed day must rebuild.
fn book_of(rig: &Alone) -> (Vec<PositionSnapshot>, Money, Money) {
    let book = rig.risk.book();
    (
        book.snapshot_positions(),
        book.realized(),
        book.unrealized(),
    )
}

#[test]
fn an_adoption_is_journaled_with_the_broker_and_the_book_before() {
    for policy in [
        ReconcilePolicy::Alert,
        ReconcilePolicy::Adopt,
        ReconcilePolicy::Flatten,
    ] {
        let dir = temp(&format!("journaled-{policy:?}"));
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut rig = journaled(policy, JournalTap::new(journal.writer("risk").unwrap()));
        let exits = morning(&mut rig, true);
        drop(rig);
        journal.shutdown().unwrap();
        let records = read(&dir);
        let adoptions: Vec<_> = records
            .iter()
            .filter(|(_, r)| matches!(r, Record::Adopt(_)))
            .collect();
        if policy == ReconcilePolicy::Alert {
            assert!(adoptions.is_empty(), "alert leaves the book: {records:?}");
            assert!(exits.is_empty());
            std::fs::remove_dir_all(&dir).unwrap();
            continue;
        }
        // At the market time the stage had when the notice came (S1's 10:01 tick), the
        // broker's short against the book's flat.
        assert_eq!(
            adoptions,
            [&(
                at(10, 1, 0),
                Record::Adopt(Adoption {
                    instrument: S1,
                    broker_net: -40,
                    broker_avg: px("50.10"),
                    book_net: 0,
                    book_avg: Price::ZERO,
                })
            )],
            "{policy:?}"
        );
        // `flatten` closes what it took: its exit follows the adoption in the journal.
        let at_adoption = records
            .iter()
            .position(|(_, r)| matches!(r, Record::Adopt(_)))
            .unwrap();
        match (policy, records.get(at_adoption + 1)) {
            (ReconcilePolicy::Flatten, Some((_, Record::Intent(exit)))) => {
                assert_eq!(
                    (exit.instrument, exit.side, exit.qty, exit.reason),
                    (S1, Side::Buy, Qty::new(40), IntentReason::Manual)
                );
                assert_eq!(exits.len(), 1);
            }
            (ReconcilePolicy::Adopt, next) => {
                assert_eq!(next, None, "adopt sends nothing");
                assert!(exits.is_empty());
            }
            (_, next) => panic!("{policy:?}: after the adoption {next:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The uninterrupted day, and the same day cut right after the adoption (the process
/// killed: nothing more is journaled) and resumed: the replay makes every journaled
/// record again, the adoption among them at its place, and the day ends with the same
/// book and the same journal. A broker reporting the same position at the restart (its
/// reconciliation at start) changes nothing.
#[test]
fn a_day_cut_after_an_adoption_resumes_to_the_uninterrupted_book() {
    for policy in [ReconcilePolicy::Adopt, ReconcilePolicy::Flatten] {
        let whole_dir = temp(&format!("whole-{policy:?}"));
        let journal = Journal::open(&whole_dir, JournalConfig::DEFAULT).unwrap();
        let mut rig = journaled(policy, JournalTap::new(journal.writer("risk").unwrap()));
        let mut whole_exits = morning(&mut rig, true);
        whole_exits.extend(afternoon(&mut rig));
        let whole_book = book_of(&rig);
        drop(rig);
        journal.shutdown().unwrap();
        let whole = read(&whole_dir);
        // The day traded S1 only because of the adoption: bought back at 49.60.
        let s1 = whole_book.0.iter().find(|p| p.instrument == S1).unwrap();
        assert_eq!((s1.net, s1.realized), (0, money("20")), "{policy:?}");
        assert_eq!(whole_exits.len(), 1, "{policy:?}: {whole_exits:?}");

        // Cut after the morning.
        let dir = temp(&format!("cut-{policy:?}"));
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut rig = journaled(policy, JournalTap::new(journal.writer("risk").unwrap()));
        morning(&mut rig, true);
        drop(rig);
        journal.shutdown().unwrap();
        let cut = read(&dir);
        assert_eq!(
            cut[..],
            whole[..cut.len()],
            "{policy:?}: the cut day's journal"
        );
        assert!(cut.iter().any(|(_, r)| matches!(r, Record::Adopt(_))));

        // Resumed: the same inputs from the start; no notice, the journal has it.
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let writer = journal
            .resume_writer("risk", Seq(cut.len() as u64 + 1))
            .unwrap();
        let mut rig = journaled(policy, JournalTap::resume(writer, cut.clone()));
        let mut exits = morning(&mut rig, false);
        assert_eq!(
            rig.risk.journal.replay_pending(),
            0,
            "{policy:?}: caught up"
        );
        assert!(!rig.risk.journal.diverged(), "{policy:?}");
        let position = *rig.risk.book().position(S1);
        if policy == ReconcilePolicy::Adopt {
            assert_eq!((position.net(), position.avg_price()), (-40, px("50.10")));
        }
        // The broker's reconciliation at the restart reports the same position: the
        // book holds it already, so nothing is adopted (or sent) twice.
        let broker_now = BrokerPosition {
            net: position.net(),
            ..BROKER_S1
        };
        let records = rig.risk.journal.records();
        assert!(intents(&notify(&mut rig, broker_now)).is_empty());
        assert_eq!(rig.risk.journal.records(), records, "{policy:?}: no record");
        assert_eq!(*rig.risk.book().position(S1), position);

        exits.extend(afternoon(&mut rig));
        assert_eq!(exits, whole_exits, "{policy:?}: the same exits");
        assert_eq!(book_of(&rig), whole_book, "{policy:?}: the same book");
        assert_eq!(rig.risk.journal.counters()[1].1, 0, "no journal failure");
        drop(rig);
        journal.shutdown().unwrap();
        assert_eq!(
            read(&dir),
            whole,
            "{policy:?}: the same journal, nothing twice"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&whole_dir).unwrap();
    }
}

/// A resumed day whose journal ends with the adoption, and whose input ends at its
/// market time: the adoption is applied once the input has ended.
#[test]
fn an_adoption_journaled_last_is_applied_when_the_input_ends() {
    let dir = temp("last");
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let mut rig = journaled(
        ReconcilePolicy::Adopt,
        JournalTap::new(journal.writer("risk").unwrap()),
    );
    rig.push(&[tick(1, at(10, 1, 0), "50", "49.95", "50.05")]);
    rig.run();
    notify(&mut rig, BROKER_S1);
    drop(rig);
    journal.shutdown().unwrap();
    let cut = read(&dir);
    assert_eq!(cut.len(), 1);

    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let writer = journal.resume_writer("risk", Seq(2)).unwrap();
    let mut rig = journaled(ReconcilePolicy::Adopt, JournalTap::resume(writer, cut));
    rig.push(&[tick(1, at(10, 1, 0), "50", "49.95", "50.05")]);
    rig.run();
    assert_eq!(rig.risk.book().position(S1).net(), 0, "not before its time");
    rig.feed = None;
    rig.run();
    let s1 = *rig.risk.book().position(S1);
    assert_eq!((s1.net(), s1.avg_price()), (-40, px("50.10")));
    assert_eq!(rig.risk.journal.replay_pending(), 0);
    assert!(!rig.risk.journal.diverged());
    drop(rig);
    journal.shutdown().unwrap();
    assert_eq!(read(&dir).len(), 1, "made again, not written twice");
    std::fs::remove_dir_all(&dir).unwrap();
}
