//! A stage's hold on its journal writer: journaling on or off behind one branch, and
//! failures counted instead of stopping the stage.

use super::{record::Record, writer::JournalWriter};
use crate::model::UnixNanos;

/// What a stage journals through.
///
/// Off (no journal configured, or a test rig) it costs one branch per record. On, an
/// append is a store into a mapped page (see [`JournalWriter::append`]): no allocation,
/// lock or system call, so stages call it on their hot path. An append can fail only
/// when a segment is full and the flusher could not prepare the next; the tap counts
/// the failure and the stage decides what that means for trading (the risk stage halts
/// entries: a day it cannot record is a day it cannot rebuild).
#[derive(Debug, Default)]
pub struct JournalTap {
    writer: Option<JournalWriter>,
    records: u64,
    failures: u64,
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
            records: 0,
            failures: 0,
        }
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
}
