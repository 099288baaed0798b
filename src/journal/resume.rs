//! A day's journal read back whole so a restarted engine can resume the day.
//!
//! The engine writes one directory per trading day. Its own writer, `engine`, marks
//! each run's start, resumption and clean end ([`SessionMark`]); a directory whose last
//! mark is not an end belongs to a run that stopped mid-day (killed, crashed, or stopped
//! leaving positions open), and the next start of the same day resumes it. This module
//! reads such a directory: every writer's records in sequence, every torn tail found
//! (and, once the caller decides to resume, cut), and the session marks. Corruption in
//! the middle of a writer's series is an error, never skipped: the day cannot be rebuilt
//! from a journal with a hole in it.

use std::path::{Path, PathBuf};

use super::{
    error::{JournalError, TornTail},
    reader::{truncate_torn_tail, JournalReader},
    record::{Record, SessionKind, SessionMark},
};
use crate::model::UnixNanos;

/// The writer the engine's main thread journals its session marks through.
pub const ENGINE_WRITER: &str = "engine";

/// A day's journal, every record in memory.
#[derive(Debug)]
pub struct DayJournal {
    dir: PathBuf,
    writers: Vec<(String, Vec<(UnixNanos, Record)>)>,
    torn: Vec<TornTail>,
}

impl DayJournal {
    /// Reads every record of every writer in `dir`, checking each.
    ///
    /// # Errors
    /// What [`JournalReader`] finds that is not a torn tail: an unreadable segment, a
    /// header of another format version, corruption in the middle of a series (named
    /// with file and offset, and the hint to run `tickpipe journal verify`).
    pub fn read(dir: &Path) -> Result<DayJournal, JournalError> {
        let reader = JournalReader::open(dir)?;
        let mut writers: Vec<(String, Vec<(UnixNanos, Record)>)> = reader
            .writers()
            .map(|w| (w.to_owned(), Vec::new()))
            .collect();
        let mut records = reader.records();
        for entry in &mut records {
            let entry = entry?;
            if let Some((_, list)) = writers.iter_mut().find(|(w, _)| w == entry.writer) {
                list.push((entry.ts, entry.record));
            }
        }
        Ok(DayJournal {
            dir: dir.to_owned(),
            writers,
            torn: records.torn_tails().to_vec(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The torn tails found (a record cut short when the process or machine stopped).
    pub fn torn_tails(&self) -> &[TornTail] {
        &self.torn
    }

    /// Cuts every torn tail found, keeping the records before it.
    ///
    /// # Errors
    /// [`JournalError::Io`].
    pub fn cut_torn_tails(&self) -> Result<(), JournalError> {
        self.torn.iter().try_for_each(truncate_torn_tail)
    }

    /// `writer`'s records in sequence, with their market times (empty when it has
    /// none).
    pub fn records_of(&self, writer: &str) -> &[(UnixNanos, Record)] {
        self.writers
            .iter()
            .find(|(w, _)| w == writer)
            .map_or(&[], |(_, r)| r.as_slice())
    }

    /// Takes `writer`'s records out (for the tap that checks them as they are made
    /// again).
    pub fn take_records(&mut self, writer: &str) -> Vec<(UnixNanos, Record)> {
        self.writers
            .iter_mut()
            .find(|(w, _)| w == writer)
            .map(|(_, r)| std::mem::take(r))
            .unwrap_or_default()
    }

    /// The writers' names.
    pub fn writers(&self) -> impl Iterator<Item = &str> {
        self.writers.iter().map(|(w, _)| w.as_str())
    }

    /// Every record of every writer.
    pub fn record_count(&self) -> usize {
        self.writers.iter().map(|(_, r)| r.len()).sum()
    }

    /// The latest market time any record carries.
    pub fn last_market_time(&self) -> Option<UnixNanos> {
        self.writers
            .iter()
            .flat_map(|(_, r)| r.iter().map(|(ts, _)| *ts))
            .max()
    }

    /// The engine's session marks, in order.
    pub fn sessions(&self) -> impl Iterator<Item = SessionMark> + '_ {
        self.records_of(ENGINE_WRITER)
            .iter()
            .filter_map(|(_, r)| match r {
                Record::Session(m) => Some(*m),
                _ => None,
            })
    }

    /// The mark of the run that began the day, if the engine marked one.
    pub fn start(&self) -> Option<SessionMark> {
        self.sessions().find(|m| m.kind == SessionKind::Start)
    }

    /// True when the last run of the day ended cleanly (or no engine ever marked the
    /// day, as in journals older than session marks, which are never resumed).
    pub fn ended(&self) -> bool {
        self.sessions()
            .last()
            .map_or(true, |m| m.kind == SessionKind::End)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        journal::{
            flusher::next_path, segment::Segment, DailyMark, FlushPolicy, Journal, JournalConfig,
            Seq,
        },
        model::{InstrumentId, Price},
    };

    fn mark(paise: i64) -> Record {
        Record::DailyMark(DailyMark {
            instrument: InstrumentId(1),
            mark: Price::from_paise(paise),
        })
    }

    fn session(kind: SessionKind) -> Record {
        Record::Session(SessionMark {
            kind,
            config: 7,
            strategies: 4,
            instruments: 20,
        })
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    const SMALL: JournalConfig = JournalConfig {
        segment_bytes: 8192,
        flush: FlushPolicy::Never,
        segments_ahead: 2,
    };

    #[test]
    fn a_resumed_writer_continues_its_series_across_runs_and_segments() {
        let dir = temp("resume-series");
        let journal = Journal::open(&dir, SMALL).unwrap();
        let mut w = journal.writer("risk").unwrap();
        let mut engine = journal.writer(ENGINE_WRITER).unwrap();
        engine
            .append(UnixNanos(1), &session(SessionKind::Start))
            .unwrap();
        // 8 KiB segments hold about a hundred 40-byte marks: roll a few times.
        for i in 0..250 {
            w.append(UnixNanos(10 + i), &mark(i as i64)).unwrap();
        }
        drop((w, engine));
        // A crash, as the files show it: no end mark, and a prepared next segment left
        // behind. The flusher is stopped first: left running (the journal forgotten),
        // it went on renaming and removing segments while the day was being resumed,
        // and failed the test on a loaded host.
        drop(journal);
        drop(
            Segment::create(
                &next_path(&dir, "risk", 99),
                SMALL.segment_bytes,
                99,
                "risk",
                None,
            )
            .unwrap(),
        );

        let day = DayJournal::read(&dir).unwrap();
        assert!(!day.ended(), "no end mark: the day is resumed");
        assert_eq!(day.start().unwrap().config, 7);
        assert_eq!(day.records_of("risk").len(), 250);
        assert_eq!(day.last_market_time(), Some(UnixNanos(259)));

        let journal = Journal::open(&dir, SMALL).unwrap();
        let mut w = journal.resume_writer("risk", Seq(251)).unwrap();
        let mut engine = journal.resume_writer(ENGINE_WRITER, Seq(2)).unwrap();
        engine
            .append(UnixNanos(2), &session(SessionKind::Resume))
            .unwrap();
        for i in 250..400 {
            assert_eq!(
                w.append(UnixNanos(10 + i), &mark(i as i64)).unwrap(),
                Seq(i + 1)
            );
        }
        engine
            .append(UnixNanos(3), &session(SessionKind::End))
            .unwrap();
        drop((w, engine));
        journal.shutdown().unwrap();

        let day = DayJournal::read(&dir).unwrap();
        assert!(day.torn_tails().is_empty());
        assert!(day.ended());
        let marks: Vec<i64> = day
            .records_of("risk")
            .iter()
            .map(|(_, r)| match r {
                Record::DailyMark(m) => m.mark.raw() / 1_000_000,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(marks, (0..400).collect::<Vec<i64>>());
        let kinds: Vec<SessionKind> = day.sessions().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [SessionKind::Start, SessionKind::Resume, SessionKind::End]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_writer_resumes_after_the_last_intact_record() {
        let dir = temp("resume-torn");
        let journal = Journal::open(&dir, SMALL).unwrap();
        let mut w = journal.writer("order").unwrap();
        for i in 0..5 {
            w.append(UnixNanos(i + 1), &mark(i as i64)).unwrap();
        }
        drop(w);
        journal.shutdown().unwrap();
        // Tear the last record: flip a byte of its payload.
        let segment = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("order-0"))
            .unwrap();
        let mut bytes = std::fs::read(&segment).unwrap();
        let last = crate::journal::HEADER_SIZE + 4 * 40;
        bytes[last + 20] ^= 0xff;
        std::fs::write(&segment, &bytes).unwrap();

        let day = DayJournal::read(&dir).unwrap();
        assert_eq!(day.records_of("order").len(), 4);
        assert_eq!(day.torn_tails().len(), 1);
        assert_eq!(day.torn_tails()[0].offset, last as u64);
        day.cut_torn_tails().unwrap();

        let journal = Journal::open(&dir, SMALL).unwrap();
        let mut w = journal.resume_writer("order", Seq(5)).unwrap();
        w.append(UnixNanos(9), &mark(99)).unwrap();
        drop(w);
        journal.shutdown().unwrap();
        let day = DayJournal::read(&dir).unwrap();
        assert!(day.torn_tails().is_empty(), "{:?}", day.torn_tails());
        assert_eq!(day.records_of("order").len(), 5);
        assert_eq!(day.records_of("order")[4], (UnixNanos(9), mark(99)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
