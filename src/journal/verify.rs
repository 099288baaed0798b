//! `journal verify`: read every record of every writer, checking each CRC, length, type
//! and sequence, and sum up what is there.

use std::path::Path;

use super::{
    error::{JournalError, TornTail},
    format::{RecordType, Seq},
    reader::JournalReader,
};
use crate::model::UnixNanos;

/// What one writer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterSummary {
    /// The writer.
    pub name: String,
    /// Segment files (used ones).
    pub segments: usize,
    /// Intact records.
    pub records: u64,
    /// First and last sequence (`None` when empty).
    pub seqs: Option<(Seq, Seq)>,
    /// First and last market time.
    pub times: Option<(UnixNanos, UnixNanos)>,
    /// Records per type, in [`RecordType::ALL`] order.
    pub per_type: [u64; RecordType::ALL.len()],
}

/// The result of a verification that found no corruption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Every writer, by name.
    pub writers: Vec<WriterSummary>,
    /// Torn tails (at most one per writer); the records before them are counted.
    pub torn_tails: Vec<TornTail>,
}

/// Reads the whole journal in `dir`, checking every record.
///
/// # Errors
/// The first [`JournalError`]: a header this build does not read, corruption in the
/// middle (file, offset, sequence), a missing segment, or an I/O error.
pub fn verify(dir: &Path) -> Result<VerifyReport, JournalError> {
    let reader = JournalReader::open(dir)?;
    let mut writers = Vec::new();
    let mut torn_tails = Vec::new();
    for name in reader.writers() {
        let mut s = WriterSummary {
            name: name.to_owned(),
            segments: reader.segments_of(name).len(),
            records: 0,
            seqs: None,
            times: None,
            per_type: [0; RecordType::ALL.len()],
        };
        let mut records = reader.records_of(name);
        for entry in &mut records {
            let e = entry?;
            s.records += 1;
            s.seqs = Some((s.seqs.map_or(e.seq, |(first, _)| first), e.seq));
            s.times = Some((
                s.times.map_or(e.ts, |(first, _)| first.min(e.ts)),
                s.times.map_or(e.ts, |(_, last)| last.max(e.ts)),
            ));
            let ty = e.record.record_type();
            if let Some(i) = RecordType::ALL.iter().position(|t| *t == ty) {
                s.per_type[i] += 1;
            }
        }
        torn_tails.extend_from_slice(records.torn_tails());
        writers.push(s);
    }
    Ok(VerifyReport {
        writers,
        torn_tails,
    })
}
