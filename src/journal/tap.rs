//! A stage's hold on its journal writer: journaling on or off behind one branch, and
//! failures counted instead of stopping the stage; after a restart, the records the
//! stage journaled before are checked as it makes them again rather than written twice.

use super::{format::Seq, record::Record, writer::JournalWriter};
use crate::model::{IntentId, Stamp, UnixNanos};

/// What a stage journals through.
///
/// Off (no journal configured, or a test rig) it costs one branch per record. On, an
/// append is a store into a mapped page (see [`JournalWriter::append`]): no allocation,
/// lock or system call, so stages call it on their hot path. An append can fail only
/// when a segment is full and the flusher could not prepare the next; the tap counts
/// the failure and the stage decides what that means for trading (the risk stage halts
/// entries: a day it cannot record is a day it cannot rebuild).
///
/// **Resuming a day.** A tap made with [`JournalTap::resume`] holds the records its
/// writer journaled before the engine stopped. The engine replays the day from its
/// start (see `engine::recovery`), so the stage makes those records again, in order;
/// each is compared with the journaled one (market time and every journaled field) and
/// not appended again. Once they are used up, records are appended after them. A record
/// that differs means the replay is not rebuilding the day that was journaled: the tap
/// reports the first difference once on stderr (a fatal, one-time path), counts it as a
/// failure and appends nothing more, and the stage treats it like a failed append.
/// Daily marks journaled when a stopped run ended are snapshots, not events: they are
/// passed over when the replay goes on past them.
#[derive(Debug, Default)]
pub struct JournalTap {
    writer: Option<JournalWriter>,
    records: u64,
    failures: u64,
    /// Records journaled before a restart, still to be made again, with their times.
    expected: Vec<(UnixNanos, Record)>,
    /// The next of `expected` to be made.
    next_expected: usize,
    /// A record differed from the journaled one: nothing more is appended.
    diverged: bool,
    /// The intents the day's journal shows made before the restart, in sequence (see
    /// [`JournalTap::with_earlier_intents`]); empty unless resuming.
    earlier_intents: Vec<IntentId>,
}

impl JournalTap {
    /// A tap that journals nothing.
    pub fn off() -> JournalTap {
        JournalTap::default()
    }

    /// A tap appending to `writer`.
    pub fn new(writer: JournalWriter) -> JournalTap {
        JournalTap {
            writer: Some(writer),
            ..JournalTap::default()
        }
    }

    /// A tap resuming a day: `expected` are the writer's records up to the restart, in
    /// sequence, and `writer` continues the series after them.
    pub fn resume(writer: JournalWriter, expected: Vec<(UnixNanos, Record)>) -> JournalTap {
        debug_assert_eq!(writer.next_seq().0, expected.len() as u64 + 1);
        JournalTap {
            writer: Some(writer),
            expected,
            ..JournalTap::default()
        }
    }

    /// Records journaled before the restart that the stage has not made again yet.
    pub fn replay_pending(&self) -> usize {
        self.expected.len() - self.next_expected
    }

    /// The same tap knowing `intents`, the intents the day's journal shows made before
    /// the restart (the risk stage's), for the order stage: each of them reached the
    /// venue already, so a broker holds its order and must not be sent it again.
    pub fn with_earlier_intents(mut self, mut intents: Vec<IntentId>) -> JournalTap {
        intents.sort_unstable_by_key(|id| id.sequence());
        self.earlier_intents = intents;
        self
    }

    /// True when `intent` was made before the restart (see
    /// [`JournalTap::with_earlier_intents`]). One branch unless a day is resuming.
    #[inline]
    pub fn made_before(&self, intent: IntentId) -> bool {
        !self.earlier_intents.is_empty() && self.earlier_made(intent)
    }

    /// True when the tap knows intents made before the restart.
    pub fn made_before_any(&self) -> bool {
        !self.earlier_intents.is_empty()
    }

    #[cold]
    fn earlier_made(&self, intent: IntentId) -> bool {
        self.earlier_intents
            .binary_search_by_key(&intent.sequence(), |id| id.sequence())
            .is_ok()
    }

    /// The next record journaled before the restart that the stage has not made again
    /// yet, with its market time (daily marks a stopped run wrote at its end included);
    /// `None` once a record differed, since nothing is checked after that.
    pub fn next_pending(&self) -> Option<&(UnixNanos, Record)> {
        if self.diverged {
            return None;
        }
        self.expected.get(self.next_expected)
    }

    /// Every record journaled before the restart that the stage has not made again yet,
    /// in sequence, with its market time (daily marks a stopped run wrote at its end
    /// included); empty once a record differed. A stage that takes something from
    /// outside the replayed stream (the risk stage's adoptions of a broker's position)
    /// reads here what it took before, and where.
    pub fn pending(&self) -> &[(UnixNanos, Record)] {
        if self.diverged {
            return &[];
        }
        &self.expected[self.next_expected..]
    }

    /// True once a record differed from the journaled one.
    pub fn diverged(&self) -> bool {
        self.diverged
    }

    /// True when records go somewhere.
    pub fn is_on(&self) -> bool {
        self.writer.is_some()
    }

    /// Journals `record` at market time `ts`; false when the append failed (counted).
    #[inline]
    pub fn record(&mut self, ts: UnixNanos, record: &Record) -> bool {
        let Some(writer) = self.writer.as_mut() else {
            return true;
        };
        if self.next_expected < self.expected.len() || self.diverged {
            return self.check_replayed(ts, record);
        }
        match writer.append(ts, record) {
            Ok(_) => {
                self.records += 1;
                true
            }
            Err(_) => {
                self.failures += 1;
                false
            }
        }
    }

    /// Compares a record made again while resuming with the journaled one. Cold: only
    /// while a restarted engine catches up.
    #[cold]
    fn check_replayed(&mut self, ts: UnixNanos, record: &Record) -> bool {
        if self.diverged {
            self.failures += 1;
            return false;
        }
        let made = (ts, journaled_form(record));
        while let Some(&(_, Record::DailyMark(_))) = self.expected.get(self.next_expected) {
            if matches!(record, Record::DailyMark(_)) {
                break;
            }
            self.next_expected += 1;
        }
        match self.expected.get(self.next_expected) {
            Some(&expected) if expected == made => {
                self.next_expected += 1;
                self.records += 1;
                true
            }
            Some(&(expected_ts, expected)) => {
                self.diverged = true;
                self.failures += 1;
                let name = self.writer.as_ref().map_or("?", |w| w.name());
                // Once a run, while a resumed day catches up (the `diverged` flag):
                // the one line a stage thread ever logs, and it is not on the hot path.
                tracing::error!(
                    stage = name,
                    seq = %Seq(self.next_expected as u64 + 1),
                    journaled = ?expected,
                    journaled_at = %expected_ts,
                    made_again = ?record,
                    made_again_at = %ts,
                    "resuming the day: a stage's record differs from the journal's; \
                     nothing more is journaled"
                );
                false
            }
            // Only passed-over daily marks were left: the rest is new.
            None => self.record(ts, record),
        }
    }

    /// True when the journal is in trouble: an append of this tap failed, or the
    /// journal's flusher failed (see [`JournalWriter::journal_failed`]). Off, never.
    #[inline]
    pub fn in_trouble(&self) -> bool {
        self.failures > 0
            || self
                .writer
                .as_ref()
                .is_some_and(JournalWriter::journal_failed)
    }

    /// Records appended.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends that failed.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// The counters a stage adds to its report: `journal_records`, `journal_failures`.
    pub fn counters(&self) -> [(&'static str, u64); 2] {
        [
            ("journal_records", self.records),
            ("journal_failures", self.failures),
        ]
    }
}

/// `record` as the journal stores and reads it back: without the ingress stamp, which
/// belongs to the run that took it.
fn journaled_form(record: &Record) -> Record {
    let mut r = *record;
    match &mut r {
        Record::Intent(m) => m.ingress = Stamp(0),
        Record::Exec(m) => m.ingress = Stamp(0),
        Record::Signal(m) => m.ingress = Stamp(0),
        Record::Tick(m) => m.ingress = Stamp(0),
        Record::Fill(_)
        | Record::Control(_)
        | Record::RiskState(_)
        | Record::Limit(_)
        | Record::DailyMark(_)
        | Record::Session(_)
        | Record::Adopt(_)
        | Record::Placed(_) => {}
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        journal::{Journal, JournalConfig, JournalReader},
        model::{Date, InstrumentId, Price, TimeOfDay},
    };

    #[test]
    fn off_records_nothing_and_on_appends_and_counts() {
        let mut off = JournalTap::off();
        let ts = UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(9, 30));
        let mark = Record::DailyMark(crate::journal::DailyMark {
            instrument: InstrumentId(2),
            mark: Price::from_paise(12_345),
        });
        assert!(off.record(ts, &mark));
        assert_eq!((off.is_on(), off.records(), off.failures()), (false, 0, 0));

        let dir = std::env::temp_dir().join(format!("tickpipe-tap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut on = JournalTap::new(journal.writer("risk").unwrap());
        assert!(on.record(ts, &mark));
        assert!(on.record(ts, &mark));
        assert_eq!(
            on.counters(),
            [("journal_records", 2), ("journal_failures", 0)]
        );
        drop(on);
        journal.shutdown().unwrap();
        let read = JournalReader::open(&dir).unwrap().records().count();
        assert_eq!(read, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_resumed_tap_checks_what_was_journaled_then_appends_and_stops_at_a_difference() {
        let day = Date::new(2026, 11, 25);
        let at = |m| UnixNanos::from_ist(day, TimeOfDay::hm(9, m));
        let mark = |paise| {
            Record::DailyMark(crate::journal::DailyMark {
                instrument: InstrumentId(2),
                mark: Price::from_paise(paise),
            })
        };
        let state = |state| {
            Record::RiskState(crate::journal::RiskStateChange {
                state,
                previous: crate::model::TradingState::Active,
                reason: crate::model::StateReason::Operator,
            })
        };
        let dir = std::env::temp_dir().join(format!("tickpipe-tap-resume-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let halted = state(crate::model::TradingState::Halted);
        let reducing = state(crate::model::TradingState::Reducing);
        // Journaled before the restart: a state change, then the marks a stopped run
        // wrote at its end.
        let before = vec![(at(20), halted), (at(21), mark(100)), (at(21), mark(200))];
        let writer = journal
            .resume_writer("risk", crate::journal::Seq(4))
            .unwrap();
        let mut tap = JournalTap::resume(writer, before.clone());
        assert_eq!(tap.replay_pending(), 3);
        assert_eq!(tap.pending(), &before[..]);
        assert_eq!(tap.next_pending(), Some(&(at(20), halted)));
        assert!(
            tap.record(at(20), &halted),
            "made again: checked, not written"
        );
        assert_eq!(tap.next_pending(), Some(&(at(21), mark(100))));
        assert_eq!(tap.pending(), &before[1..]);
        // The day goes on past the stopped run's end: its marks are passed over.
        assert!(tap.record(at(25), &reducing));
        assert_eq!(tap.replay_pending(), 0);
        assert_eq!(tap.counters()[1], ("journal_failures", 0));
        drop(tap);

        // A restart that makes something else than the journal holds.
        let writer = journal
            .resume_writer("order", crate::journal::Seq(2))
            .unwrap();
        let mut tap = JournalTap::resume(writer, vec![(at(20), halted)]);
        assert!(!tap.record(at(20), &reducing), "differs from the journal");
        assert!(tap.diverged());
        assert_eq!(
            tap.next_pending(),
            None,
            "nothing is checked after a difference"
        );
        assert!(tap.pending().is_empty());
        assert!(
            !tap.record(at(30), &mark(5)),
            "nothing more after a difference"
        );
        assert_eq!(tap.failures(), 2);
        drop(tap);
        journal.shutdown().unwrap();

        // Only the new record was appended, after the three journaled before (which
        // this test never wrote, so the reader sees the series start at 4).
        let reader = JournalReader::open(&dir).unwrap();
        let risk: Vec<_> = reader.records_of("risk").map(|e| e.unwrap()).collect();
        assert_eq!(risk.len(), 1);
        assert_eq!((risk[0].seq.0, risk[0].record), (4, reducing));
        assert_eq!(reader.records_of("order").count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
