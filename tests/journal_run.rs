//! A run journals its day: every signal, intent, exec report and booked fill, the
//! commands applied and the state changes, in one directory per trading day.

mod common;

use std::path::{Path, PathBuf};

use common::{config, fills, run_threaded};
use tickpipe::{
    control::ScheduleEntry,
    engine::EngineConfig,
    journal::{verify, JournalReader, Record},
    model::{ControlCommand, ExecKind, StateReason, TradingState},
};

fn root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tickpipe-journal-run-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn journaled(root: &Path, duration: &str) -> EngineConfig {
    let mut c = config(
        EngineConfig::embedded_default().feed.synthetic.seed,
        duration,
    );
    c.journal.enabled = true;
    c.journal.dir = root.to_owned();
    c.journal.segment_mib = 1;
    c
}

fn records(dir: &Path, writer: &str) -> Vec<Record> {
    let reader = JournalReader::open(dir).expect("the journal opens");
    let mut out = Vec::new();
    for entry in reader.records() {
        let entry = entry.expect("every record is intact");
        if entry.writer == writer {
            out.push(entry.record);
        }
    }
    out
}

#[test]
fn the_default_day_is_journaled_record_for_record() {
    let root = root("day");
    let report = run_threaded(&journaled(&root, ""));
    assert!(report.error().is_none(), "{:?}", report.error());
    let outcome = report.journal.as_ref().expect("the run was journaled");
    assert_eq!(outcome.dir, root.join("2026-11-25"));
    assert!(outcome.error.is_none(), "{:?}", outcome.error);

    let checked = verify(&outcome.dir).expect("the journal verifies");
    assert!(checked.torn_tails.is_empty(), "{:?}", checked.torn_tails);
    let mut names: Vec<&str> = checked.writers.iter().map(|w| w.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["engine", "order", "risk", "signal"],
        "ticks are off by default"
    );
    // The engine marks the day's start and, as the feed ran out, its end.
    let sessions: Vec<_> = records(&outcome.dir, "engine")
        .into_iter()
        .map(|r| match r {
            Record::Session(m) => m.kind,
            other => panic!("the engine writer holds only session marks: {other:?}"),
        })
        .collect();
    assert_eq!(
        sessions,
        [
            tickpipe::journal::SessionKind::Start,
            tickpipe::journal::SessionKind::End
        ]
    );
    assert!(outcome.ended);

    let stage = |name: &str, key: &str| report.stage(name).unwrap().counter(key);
    let risk = records(&outcome.dir, "risk");
    let booked: Vec<_> = risk
        .iter()
        .filter_map(|r| match r {
            Record::Fill(f) => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(
        booked,
        fills(&report),
        "the journal holds every booked fill"
    );
    let intents = risk
        .iter()
        .filter(|r| matches!(r, Record::Intent(_)))
        .count();
    assert_eq!(intents as u64, stage("risk", "intents"));
    // The day ends with each instrument's last mark: the 50 stocks, the index, the ETF
    // and the options that traded.
    let marks = risk
        .iter()
        .rev()
        .take_while(|r| matches!(r, Record::DailyMark(_)))
        .count();
    assert!(marks >= 52, "{marks} daily marks at the end");
    assert_eq!(stage("risk", "journal_records"), risk.len() as u64);
    assert_eq!(stage("risk", "journal_failures"), 0);

    let order = records(&outcome.dir, "order");
    let fills_reported = order
        .iter()
        .filter(|r| {
            matches!(r, Record::Exec(e) if matches!(e.kind, ExecKind::PartialFill | ExecKind::Filled))
        })
        .count();
    assert_eq!(fills_reported as u64, stage("order", "fills"));
    assert!(order.iter().all(|r| matches!(r, Record::Exec(_))));

    let signals = records(&outcome.dir, "signal");
    assert_eq!(signals.len() as u64, stage("signal", "signals"));
    assert!(signals.iter().all(|r| matches!(r, Record::Signal(_))));

    // A second run of the same day keeps the first journal and writes its own.
    let again = run_threaded(&journaled(&root, "30m"));
    assert_eq!(
        again.journal.as_ref().unwrap().dir,
        root.join("2026-11-25.run2")
    );
    assert_eq!(
        records(&outcome.dir, "risk"),
        risk,
        "the first is untouched"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn commands_and_state_changes_are_journaled_and_ticks_on_request() {
    let root = root("commands");
    let mut c = journaled(&root, "75m");
    c.journal.ticks = true;
    c.control.schedule.push(ScheduleEntry {
        at: "10:00".to_owned(),
        command: "halt".to_owned(),
    });
    let report = run_threaded(&c);
    assert!(report.error().is_none(), "{:?}", report.error());
    let dir = &report.journal.as_ref().unwrap().dir;
    let risk = records(dir, "risk");
    let halt = risk
        .iter()
        .position(|r| *r == Record::Control(ControlCommand::SetState(TradingState::Halted)))
        .expect("the halt command is journaled");
    assert!(
        matches!(risk[halt + 1], Record::RiskState(s)
            if s.state == TradingState::Halted && s.reason == StateReason::Operator),
        "then the state change it made: {:?}",
        risk[halt + 1]
    );
    let ticks = records(dir, "feed");
    assert!(ticks.iter().all(|r| matches!(r, Record::Tick(_))));
    assert_eq!(
        ticks.len() as u64,
        report.stage("feed").unwrap().counter("ticks")
    );
    std::fs::remove_dir_all(&root).unwrap();
}
