//! Writes market events to a tick file.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use super::format::{self, RECORD_SIZE};
use crate::{
    feed::FeedError,
    model::{InstrumentTable, MarketEvent},
};

/// Records market events to a [tick file](super::format).
///
/// Buffered: a `write` copies 64 bytes into a buffer and allocates nothing. Only
/// [`TickFileWriter::finish`] makes a complete file (it appends the end record and
/// syncs); a writer dropped without `finish` leaves a file that readers reject as cut
/// short.
///
/// # Examples
/// ```no_run
/// use tickpipe::feed::{MarketSource, SourcePoll, SyntheticConfig, SyntheticSession, TickFileWriter};
/// let mut session = SyntheticSession::new(&SyntheticConfig::default())?;
/// let mut writer = TickFileWriter::create("day.ticks".as_ref(), session.instruments())?;
/// while let SourcePoll::Event(e) = session.poll_event()? {
///     writer.write(&e)?;
/// }
/// writer.finish()?;
/// # Ok::<(), tickpipe::feed::FeedError>(())
/// ```
#[derive(Debug)]
pub struct TickFileWriter {
    out: BufWriter<File>,
    path: PathBuf,
    offset: u64,
    instruments: u32,
    last_ts: u64,
    records: u64,
}

impl TickFileWriter {
    /// Creates (or truncates) `path` and writes the header with `table`.
    ///
    /// # Errors
    /// [`FeedError::Io`] when the file cannot be created or written;
    /// [`FeedError::Unrecordable`] when the table does not fit the format.
    pub fn create(path: &Path, table: &InstrumentTable) -> Result<TickFileWriter, FeedError> {
        let header = format::encode_header(table)?;
        let file = File::create(path).map_err(|e| FeedError::io(path, 0, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(&header)
            .map_err(|e| FeedError::io(path, 0, e))?;
        Ok(TickFileWriter {
            out,
            path: path.to_owned(),
            offset: header.len() as u64,
            instruments: table.len() as u32,
            last_ts: 0,
            records: 0,
        })
    }

    /// Appends one event. A scheduled control command is not market data: it is skipped
    /// (a replay takes its schedule from the configuration, as the recorded run did).
    ///
    /// # Errors
    /// [`FeedError::Unrecordable`] when the event names an instrument outside the table
    /// or is older than the previous event; [`FeedError::Io`] on a write failure.
    pub fn write(&mut self, event: &MarketEvent) -> Result<(), FeedError> {
        let instrument = match event {
            MarketEvent::Tick(t) => t.instrument,
            MarketEvent::News(n) => n.instrument,
            MarketEvent::Control(_) => return Ok(()),
        };
        if instrument.0 >= self.instruments {
            return Err(FeedError::Unrecordable(
                "instrument is not in the file's table",
            ));
        }
        let ts = event.exchange_ts().0;
        if ts < self.last_ts {
            return Err(FeedError::Unrecordable(
                "event is older than the previous one",
            ));
        }
        self.put(&format::encode_event(event))?;
        self.last_ts = ts;
        self.records += 1;
        Ok(())
    }

    /// Events written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends the end record, flushes and syncs the file; returns the number of events.
    ///
    /// # Errors
    /// [`FeedError::Io`] when writing or syncing fails.
    pub fn finish(mut self) -> Result<u64, FeedError> {
        self.put(&format::encode_end(self.records))?;
        let offset = self.offset;
        let path = self.path.clone();
        let file = self
            .out
            .into_inner()
            .map_err(|e| FeedError::io(&path, offset, e.into_error()))?;
        file.sync_all()
            .map_err(|e| FeedError::io(&path, offset, e))?;
        Ok(self.records)
    }

    fn put(&mut self, record: &[u8; RECORD_SIZE]) -> Result<(), FeedError> {
        self.out
            .write_all(record)
            .map_err(|e| FeedError::io(&self.path, self.offset, e))?;
        self.offset += RECORD_SIZE as u64;
        Ok(())
    }
}
