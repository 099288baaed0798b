//! Replays a tick file as a [`MarketSource`].

use std::{
    fs::File,
    io::BufReader,
    path::{Path, PathBuf},
};

use super::format::{self, Record, RECORD_SIZE};
use crate::{
    feed::{FeedError, MarketSource, SourcePoll},
    model::InstrumentTable,
};

/// Reads a [tick file](super::format) back, event by event.
///
/// Opening reads and checks the header and instrument table; each
/// [`poll_event`](MarketSource::poll_event) then reads one 64-byte record through a
/// 64 KiB buffer into a stack array, so replay allocates nothing per event. Every record
/// is checked (CRC, kind, instrument number, time order); the first problem ends the
/// replay with an error naming the byte offset, and later polls return
/// [`SourcePoll::End`].
#[derive(Debug)]
pub struct ReplaySource {
    reader: BufReader<File>,
    path: PathBuf,
    offset: u64,
    instruments: u32,
    last_ts: u64,
    records: u64,
    done: bool,
}

impl ReplaySource {
    /// Opens `path`, returning the file's instrument table and the source.
    ///
    /// # Errors
    /// [`FeedError::Io`] when the file cannot be opened or read, and the header errors of
    /// [`format::read_header`] (bad magic, unsupported version, truncation, CRC).
    ///
    /// # Examples
    /// ```no_run
    /// use tickpipe::feed::{MarketSource, ReplaySource, SourcePoll};
    /// let (table, mut replay) = ReplaySource::open("day.ticks".as_ref())?;
    /// let mut n = 0;
    /// while let SourcePoll::Event(_) = replay.poll_event()? {
    ///     n += 1;
    /// }
    /// println!("{n} events over {} instruments", table.len());
    /// # Ok::<(), tickpipe::feed::FeedError>(())
    /// ```
    pub fn open(path: &Path) -> Result<(InstrumentTable, ReplaySource), FeedError> {
        let file = File::open(path).map_err(|e| FeedError::io(path, 0, e))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let (table, offset) = format::read_header(&mut reader, path)?;
        let source = ReplaySource {
            reader,
            path: path.to_owned(),
            offset,
            instruments: table.len() as u32,
            last_ts: 0,
            records: 0,
            done: false,
        };
        Ok((table, source))
    }

    /// Events replayed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Byte offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn next(&mut self) -> Result<SourcePoll, FeedError> {
        let mut buf = [0u8; RECORD_SIZE];
        let got = format::read_full(&mut self.reader, &mut buf, &self.path, self.offset)?;
        if got == 0 {
            return Err(FeedError::MissingEnd {
                offset: self.offset,
            });
        }
        if got < RECORD_SIZE {
            return Err(FeedError::TruncatedRecord {
                offset: self.offset,
                got,
                size: RECORD_SIZE,
            });
        }
        match format::decode_record(&buf, self.offset, self.instruments)? {
            Record::End(stated) => {
                if stated != self.records {
                    return Err(FeedError::CountMismatch {
                        offset: self.offset,
                        stated,
                        found: self.records,
                    });
                }
                let end = self.offset + RECORD_SIZE as u64;
                let mut extra = [0u8; 1];
                if format::read_full(&mut self.reader, &mut extra, &self.path, end)? != 0 {
                    return Err(FeedError::TrailingData { offset: end });
                }
                self.offset = end;
                self.done = true;
                Ok(SourcePoll::End)
            }
            Record::Event(event) => {
                let ts = event.exchange_ts().0;
                if ts < self.last_ts {
                    return Err(FeedError::TimeBackwards {
                        offset: self.offset,
                        previous_nanos: self.last_ts,
                        ts_nanos: ts,
                    });
                }
                self.last_ts = ts;
                self.offset += RECORD_SIZE as u64;
                self.records += 1;
                Ok(SourcePoll::Event(event))
            }
        }
    }
}

impl MarketSource for ReplaySource {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        if self.done {
            return Ok(SourcePoll::End);
        }
        let result = self.next();
        if result.is_err() {
            self.done = true;
        }
        result
    }
}
