//! A run journals its day: every signal, intent, exec report and booked fill, the
//! commands applied and the state changes, in one directory per trading day.

mod common;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant},
};

use common::{config, fills, run_threaded};
use tickpipe::{
    control::ScheduleEntry,
    engine::{EngineConfig, Pipeline, RunReport},
    feed::{FeedError, MarketSource, SourcePoll, StaleFeedFlag},
    journal::{verify, JournalReader, Record},
    model::{
        ControlCommand, ExecKind, MarketEvent, StateReason, TimeOfDay, TradingState, UnixNanos,
    },
    risk::ShutdownPolicy,
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

/// Where [`StaleSpell`] is in its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spell {
    Before,
    /// Holding everything back until the engine's stale flag is up.
    Waiting,
    /// Passing the day on while it still says stale (a backlog it cannot vouch for).
    Backlog,
    After,
    /// Past `stop_at`: the run was asked to stop; nothing more comes.
    Stopped,
}

/// The synthetic day as a live source whose link goes stale at `from` (market time): it
/// holds everything back until the engine's stale flag is up (the `stale_feed` alert,
/// after `feed.stale_alert_secs` of wall time), then passes the day on while still
/// saying stale until `to`, where it is fresh again. Strategies trade on the backlog,
/// so its entries meet the stale flag. At `stop_at` it asks the run to stop and holds
/// the rest back, so the day is left mid-way, to be resumed. No event is lost or
/// changed: the same day read plainly is the same stream.
struct StaleSpell {
    inner: Box<dyn MarketSource>,
    held: Option<MarketEvent>,
    spell: Spell,
    from: UnixNanos,
    to: UnixNanos,
    stop_at: UnixNanos,
    flag: Arc<OnceLock<Arc<StaleFeedFlag>>>,
    stop: Arc<AtomicBool>,
    /// Gives up waiting for the flag (the checks below then fail) after a minute.
    deadline: Option<Instant>,
}

impl MarketSource for StaleSpell {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        loop {
            match self.spell {
                Spell::Stopped => return Ok(SourcePoll::Pending),
                Spell::Waiting => {
                    let up = self.flag.get().is_some_and(|f| f.is_stale());
                    let deadline = *self
                        .deadline
                        .get_or_insert_with(|| Instant::now() + Duration::from_secs(60));
                    if !up && Instant::now() < deadline {
                        return Ok(SourcePoll::Pending);
                    }
                    self.spell = Spell::Backlog;
                }
                _ => {}
            }
            let event = match self.held.take() {
                Some(e) => e,
                None => match self.inner.poll_event()? {
                    SourcePoll::Event(e) => e,
                    other => return Ok(other),
                },
            };
            let ts = event.exchange_ts();
            if ts >= self.stop_at {
                self.held = Some(event);
                self.spell = Spell::Stopped;
                self.stop.store(true, Ordering::Relaxed);
                return Ok(SourcePoll::Pending);
            }
            match self.spell {
                Spell::Before if ts >= self.from => {
                    self.held = Some(event);
                    self.spell = Spell::Waiting;
                    continue;
                }
                Spell::Backlog if ts >= self.to => self.spell = Spell::After,
                _ => {}
            }
            return Ok(SourcePoll::Event(event));
        }
    }

    fn is_stale(&self) -> bool {
        matches!(self.spell, Spell::Waiting | Spell::Backlog)
    }
}

/// Runs `config`'s day, through `spell` when given (else the plain source).
fn run_day(config: &EngineConfig, spell: Option<(u32, u32, u32)>) -> RunReport {
    let opened = config.feed.open().expect("source opens");
    let until = config.feed.until(opened.start).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::new(OnceLock::new());
    let date = opened.start.ist_date();
    let source: Box<dyn MarketSource> = match spell {
        Some((from, to, stop_at)) => {
            let at = |m: u32| UnixNanos::from_ist(date, TimeOfDay::hm(m / 60, m % 60));
            Box::new(StaleSpell {
                inner: opened.source,
                held: None,
                spell: Spell::Before,
                from: at(from),
                to: at(to),
                stop_at: at(stop_at),
                flag: flag.clone(),
                stop: stop.clone(),
                deadline: None,
            })
        }
        None => opened.source,
    };
    let pipeline = Pipeline::build(
        config,
        &opened.instruments,
        source,
        opened.start,
        until,
        stop,
    )
    .expect("pipeline builds");
    let _ = flag.set(pipeline.feed_stale());
    let layout = config.layout().expect("layout");
    pipeline
        .run(&layout, Duration::ZERO, |_| {})
        .expect("run completes")
}

/// The feed-stale changes the risk writer journaled, with their times.
fn stale_changes(dir: &Path) -> Vec<(UnixNanos, bool)> {
    let reader = JournalReader::open(dir).expect("the journal opens");
    let mut out = Vec::new();
    for entry in reader.records() {
        let entry = entry.expect("every record is intact");
        if let ("risk", Record::Control(ControlCommand::FeedStale(stale))) =
            (entry.writer, entry.record)
        {
            out.push((entry.ts, stale));
        }
    }
    out
}

/// A stale spell is journaled where risk applied it; the day, stopped after it and
/// resumed from a source that is never stale (as a replay of the day's ticks is), gets
/// the spell back from the journal at the same place and refuses the same entries, so
/// every record is made again exactly (a different decision would stop the day).
#[test]
fn a_stale_feed_is_journaled_and_a_resumed_day_refuses_the_same_entries() {
    let root = root("stale");
    let mut c = journaled(&root, "3h");
    c.feed.stale_alert_secs = 1;
    // Stopped mid-day, the positions stay open and the day unfinished.
    c.risk.on_shutdown = ShutdownPolicy::Leave;
    // Stale from 10:00 to 10:30 of market time; stopped at 11:00.
    let first = run_day(&c, Some((600, 630, 660)));
    assert!(first.error().is_none(), "{:?}", first.error());
    let outcome = first.journal.as_ref().unwrap();
    assert!(!outcome.ended, "stopped mid-day: left to be resumed");
    let refused = |r: &RunReport| r.stage("risk").unwrap().counter("refused_stale_feed");
    let refused_first = refused(&first);
    assert!(
        refused_first > 0,
        "the backlog's entries met the stale flag"
    );
    let spell = stale_changes(&outcome.dir);
    assert_eq!(
        spell.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [true, false],
        "{spell:?}"
    );
    let at = |h, m| UnixNanos::from_ist(spell[0].0.ist_date(), TimeOfDay::hm(h, m));
    assert!(
        spell[0].0 < at(10, 0) && spell[1].0 >= at(10, 30),
        "{spell:?}"
    );

    let resumed = run_day(&c, None);
    assert!(resumed.error().is_none(), "{:?}", resumed.error());
    let outcome = resumed.journal.as_ref().unwrap();
    let summary = outcome.resumed.as_ref().expect("the day was resumed");
    assert_eq!(summary.replayed, 2, "the spell's two changes were replayed");
    for stage in ["signal", "risk", "order"] {
        assert_eq!(
            resumed.stage(stage).unwrap().counter("journal_failures"),
            0,
            "{stage}: a record differed from the journaled day"
        );
    }
    assert_eq!(
        refused(&resumed),
        refused_first,
        "the same entries refused, and none after the spell"
    );
    assert_eq!(stale_changes(&outcome.dir), spell, "nothing written twice");
    assert!(outcome.ended, "the resumed day ran to its end");
    std::fs::remove_dir_all(&root).unwrap();
}
