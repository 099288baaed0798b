//! Stale market data end to end: an instrument that stops ticking takes no entry while
//! another trades on, and a stale feed (the feed stage's `FeedStale` in the stream)
//! blocks every entry from its place in the stream to the recovery, without touching
//! the trading state, and is journaled so a resumed day refuses the same entries.

use super::*;
use crate::model::LimitValue;

/// The test limits with the stale-quote check at the shipped minute.
fn minute() -> RiskConfig {
    RiskConfig {
        stale_quote_secs: 60,
        ..uncapped()
    }
}

fn step(rig: &mut Alone, inputs: &[RiskInput]) -> Vec<OrderIntent> {
    rig.push(inputs);
    intents(&rig.run())
}

#[test]
fn an_instrument_that_stops_ticking_takes_no_entry_while_the_other_trades() {
    let mut rig = alone(&minute(), true);
    let (s0, s1, s3) = (InstrumentId(0), InstrumentId(1), InstrumentId(3));
    // S0, S1 and S3 tick at 10:00; only S0 goes on ticking.
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        tick(3, at(10, 0, 0), "20", "19.95", "20.05"),
        tick(0, at(10, 0, 30), "100.10", "100.05", "100.15"),
    ]);
    // S3's quote is 30 s old: still fresh.
    let held = step(&mut rig, &[signal(3, 1, Long, "20", "19", at(10, 0, 30))]);
    assert_eq!(held.len(), 1, "a quote within the minute trades");
    rig.fill(&held[0], "20.05");
    rig.run();
    // S0 ticks on to 10:05; S1 and S3 are silent.
    for m in 1..=5 {
        rig.push(&[tick(0, at(10, m, 0), "100.20", "100.15", "100.25")]);
    }
    rig.run();
    // An entry on S1, its last tick 5 minutes old: refused; on S0: sent.
    assert!(step(&mut rig, &[signal(1, 0, Long, "50", "49", at(10, 5, 0))]).is_empty());
    assert_eq!(rig.risk.refusals(Refusal::StaleQuote), 1);
    let s0_entry = step(&mut rig, &[signal(0, 0, Long, "100", "99", at(10, 5, 0))]);
    assert_eq!(
        s0_entry.iter().map(|i| i.instrument).collect::<Vec<_>>(),
        [s0]
    );
    rig.fill(&s0_entry[0], "100.25");
    rig.run();
    // S2 has never ticked: refused although the signal carries a price.
    assert!(step(&mut rig, &[signal(2, 1, Long, "20", "19", at(10, 5, 0))]).is_empty());
    assert_eq!(rig.risk.refusals(Refusal::StaleQuote), 2);
    // The exit of the position held in silent S3 goes, however old its quote.
    let exit = step(&mut rig, &[signal(3, 1, Flat, "20", "0", at(10, 5, 1))]);
    assert_eq!(
        exit.iter()
            .map(|i| (i.instrument, i.side, i.reason))
            .collect::<Vec<_>>(),
        [(s3, Side::Sell, IntentReason::Exit)]
    );
    assert_eq!(
        rig.risk.refusals(Refusal::StaleQuote),
        2,
        "exits are not refused"
    );
    rig.fill(&exit[0], "20");
    rig.run();
    // S1 ticks again: entries on it are possible again.
    rig.push(&[tick(1, at(10, 6, 0), "50.10", "50.05", "50.15")]);
    let again = step(&mut rig, &[signal(1, 1, Long, "50.10", "49", at(10, 6, 0))]);
    assert_eq!(again.iter().map(|i| i.instrument).collect::<Vec<_>>(), [s1]);
    assert_eq!(rig.risk.trading_state(), TradingState::Active);
}

#[test]
fn off_the_stale_quote_check_lets_an_old_quote_trade() {
    let mut rig = alone(&uncapped(), true);
    rig.push(&[tick(1, at(10, 0, 0), "50", "49.95", "50.05")]);
    let entry = step(&mut rig, &[signal(1, 0, Long, "50", "49", at(11, 0, 0))]);
    assert_eq!(entry.len(), 1);
    assert_eq!(rig.risk.refusals(Refusal::StaleQuote), 0);
}

/// The feed stage's stale-feed change, as it arrives in the stream.
fn feed_stale(ts: UnixNanos, stale: bool) -> RiskInput {
    scheduled(ts, ControlCommand::FeedStale(stale))
}

#[test]
fn a_stale_feed_refuses_entries_until_it_recovers_and_never_changes_the_trading_state() {
    let mut rig = alone(&minute(), true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
    ]);
    let held = step(&mut rig, &[signal(1, 1, Long, "50", "49", at(10, 0, 0))]);
    rig.fill(&held[0], "50.05");
    rig.run();

    rig.push(&[feed_stale(at(10, 0, 0), true)]);
    // Every entry is refused, on fresh quotes too; the exit goes.
    assert!(step(&mut rig, &[signal(0, 0, Long, "100", "99", at(10, 0, 1))]).is_empty());
    assert_eq!(rig.risk.refusals(Refusal::FeedStale), 1);
    assert_eq!(rig.risk.trading_state(), TradingState::Active, "not a halt");
    let exit = step(&mut rig, &[signal(1, 1, Flat, "50", "0", at(10, 0, 1))]);
    assert_eq!(exit.len(), 1, "exits flow while the feed is stale");
    rig.fill(&exit[0], "50");
    rig.run();

    rig.push(&[feed_stale(at(10, 0, 1), false)]);
    let entry = step(&mut rig, &[signal(0, 0, Long, "100", "99", at(10, 0, 2))]);
    assert_eq!(entry.len(), 1, "entries again once the feed recovered");
    rig.fill(&entry[0], "100.05");
    rig.run();

    // An operator's halt during a stale spell outlives the recovery.
    rig.push(&[
        feed_stale(at(10, 0, 2), true),
        scheduled(at(10, 0, 3), ControlCommand::SetState(TradingState::Halted)),
        feed_stale(at(10, 0, 3), false),
    ]);
    rig.run();
    assert!(step(&mut rig, &[signal(1, 1, Long, "50", "49", at(10, 0, 4))]).is_empty());
    assert_eq!(rig.risk.trading_state(), TradingState::Halted);
    assert_eq!(rig.risk.refusals(Refusal::Halted), 1);
    assert_eq!(rig.risk.refusals(Refusal::FeedStale), 1);
}

/// The stream of [`the_stale_flag_takes_effect_at_its_place_in_the_stream`]: three
/// entries on three instruments, the middle one inside a stale spell, all read in one
/// go (no market-time sync, so nothing waits for an answer between them).
fn spell() -> Vec<RiskInput> {
    vec![
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        tick(3, at(10, 0, 0), "20", "19.95", "20.05"),
        signal(0, 0, Long, "100", "99", at(10, 0, 0)),
        feed_stale(at(10, 0, 0), true),
        signal(1, 0, Long, "50", "49", at(10, 0, 1)),
        feed_stale(at(10, 0, 1), false),
        signal(3, 1, Long, "20", "19", at(10, 0, 2)),
    ]
}

#[test]
fn the_stale_flag_takes_effect_at_its_place_in_the_stream() {
    let mut rig = alone(&minute(), false);
    let sent = step(&mut rig, &spell());
    assert_eq!(
        sent.iter().map(|i| i.instrument).collect::<Vec<_>>(),
        [InstrumentId(0), InstrumentId(3)],
        "the entry before the spell and the one after it go; the one inside does not"
    );
    assert_eq!(rig.risk.refusals(Refusal::FeedStale), 1);
    assert_eq!(rig.risk.trading_state(), TradingState::Active);
}

/// Risk journals each change where it applied it, and a resumed day whose replay puts
/// the journaled changes back at their market times (as the feed stage releases a
/// resumed day's commands) makes every record again: the same refusals, the same
/// intents, nothing written twice.
#[test]
fn stale_changes_are_journaled_and_a_resumed_day_refuses_the_same_entries() {
    use crate::journal::{Journal, JournalConfig, JournalReader, Seq};
    let dir = std::env::temp_dir().join(format!("tickpipe-risk-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let mut rig = alone(&minute(), false);
    *rig.risk = std::mem::replace(&mut rig.risk, alone(&minute(), false).risk)
        .with_journal(JournalTap::new(journal.writer("risk").unwrap()));
    let first = step(&mut rig, &spell());
    assert_eq!(first.len(), 2);
    drop(rig);
    journal.shutdown().unwrap();
    let journaled: Vec<(UnixNanos, Record)> = JournalReader::open(&dir)
        .unwrap()
        .records()
        .map(|e| e.map(|e| (e.ts, e.record)))
        .collect::<Result<_, _>>()
        .unwrap();
    let controls: Vec<_> = journaled
        .iter()
        .filter(|(_, r)| matches!(r, Record::Control(_)))
        .copied()
        .collect();
    assert_eq!(
        controls,
        [
            (
                at(10, 0, 0),
                Record::Control(ControlCommand::FeedStale(true))
            ),
            (
                at(10, 0, 1),
                Record::Control(ControlCommand::FeedStale(false))
            ),
        ]
    );

    // The resumed day: every record is expected again, in order.
    let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
    let writer = journal
        .resume_writer("risk", Seq(journaled.len() as u64 + 1))
        .unwrap();
    let mut rig = alone(&minute(), false);
    *rig.risk = std::mem::replace(&mut rig.risk, alone(&minute(), false).risk)
        .with_journal(JournalTap::resume(writer, journaled.clone()));
    let again = step(&mut rig, &spell());
    assert_eq!(again, first, "the same intents");
    assert_eq!(rig.risk.refusals(Refusal::FeedStale), 1);
    assert_eq!(
        rig.risk.journal.replay_pending(),
        0,
        "every record made again"
    );
    assert!(!rig.risk.journal.diverged());
    assert_eq!(rig.risk.journal.counters()[1].1, 0, "no journal failure");
    drop(rig);
    journal.shutdown().unwrap();
    let after = JournalReader::open(&dir).unwrap().records().count();
    assert_eq!(after, journaled.len(), "nothing written twice");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stale_refusals_are_counted_by_reason_in_the_report() {
    let mut w = wired(&minute());
    w.send(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        tick(0, at(10, 2, 0), "100", "99.95", "100.05"),
        signal(1, 0, Long, "50", "49", at(10, 2, 0)),
        signal(3, 1, Long, "20", "19", at(10, 2, 0)),
    ]);
    let (risk, _) = w.finish();
    assert_eq!(risk.counter("refused_stale_quote"), 2);
    assert_eq!(risk.counter("refused_stale_feed"), 0);
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    assert_eq!(trading.refusals, [("stale_quote", 2)]);
    assert_eq!(trading.refusals_by_strategy[0], [("stale_quote", 1)]);
}

#[test]
fn stale_quote_secs_set_while_trading_applies_to_the_next_entry() {
    let mut rig = alone(&minute(), true);
    let set = |secs: i64| {
        scheduled(
            at(10, 2, 0),
            ControlCommand::SetLimit {
                key: LimitKey::StaleQuoteSecs,
                value: LimitValue(secs),
            },
        )
    };
    // S1 ticks at 10:00 and falls silent; S0 carries market time to 10:02.
    rig.push(&[
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        tick(0, at(10, 2, 0), "100", "99.95", "100.05"),
    ]);
    rig.run();
    assert!(step(&mut rig, &[signal(1, 0, Long, "50", "49", at(10, 2, 0))]).is_empty());
    assert_eq!(rig.risk.refusals(Refusal::StaleQuote), 1);
    // Five minutes: a two-minute-old quote trades.
    rig.push(&[set(300)]);
    rig.run();
    assert_eq!(
        rig.risk.config.limit(LimitKey::StaleQuoteSecs),
        LimitValue(300)
    );
    let entry = step(&mut rig, &[signal(1, 0, Long, "50", "49", at(10, 2, 0))]);
    assert_eq!(entry.len(), 1, "the new limit let the entry through");
    rig.fill(&entry[0], "50.05");
    rig.run();
    // Ten seconds: S0's quote, two minutes old by 10:04, is refused again.
    rig.push(&[set(10), tick(1, at(10, 4, 0), "50", "49.95", "50.05")]);
    rig.run();
    assert!(step(&mut rig, &[signal(0, 1, Long, "100", "99", at(10, 4, 0))]).is_empty());
    assert_eq!(rig.risk.refusals(Refusal::StaleQuote), 2);
}
