//! The journal's file format, version 1: a segment header and the record frame.
//!
//! All integers are little-endian; CRCs are CRC-32 (IEEE, as zlib and `crc32fast`
//! compute it). A segment file is pre-allocated to its capacity: a header, then frames
//! back to back, then zeros up to the capacity. A frame length of zero marks the end of
//! the data.
//!
//! # Segment header (64 bytes)
//!
//! ```text
//! offset  size  field
//! 0       8     magic "TPJOURNL"
//! 8       2     format version (1)
//! 10      2     header size (64)
//! 12      4     zero
//! 16      8     capacity: the file's length as written, in bytes
//! 24      8     first sequence of the segment; 0 while the segment is prepared but unused
//! 32      24    writer name, UTF-8, zero-padded
//! 56      4     zero
//! 60      4     CRC-32 of bytes 0..60
//! ```
//!
//! The version is checked before the CRC, so a file from a newer format (whose header may
//! differ) is refused by its version, never misread.
//!
//! # Record frame (8-byte aligned, 32 to 96 bytes)
//!
//! ```text
//! offset  size  field
//! 0       4     frame length L, a multiple of 8 (header, payload, padding and CRC)
//! 4       1     record type (see [`RecordType`])
//! 5       1     layout version of that type's payload (1 for every type today)
//! 6       2     payload length P
//! 8       8     sequence number, per writer, from 1, +1 per record
//! 16      8     timestamp: market time, nanoseconds since the Unix epoch
//! 24      P     payload (see `record.rs`)
//! 24+P    ..    zero padding up to L-4
//! L-4     4     CRC-32 of bytes 0..L-4
//! ```
//!
//! A 32-byte payload (a [`Signal`](crate::model::Signal)) makes a 64-byte frame.

use std::fmt;

/// The first eight bytes of every segment file.
pub const MAGIC: [u8; 8] = *b"TPJOURNL";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of the segment header, where the first frame starts.
pub const HEADER_SIZE: usize = 64;
/// Bytes of a frame before its payload.
pub const FRAME_HEADER: usize = 24;
/// Bytes of the CRC that ends a frame.
pub const FRAME_CRC: usize = 4;
/// Frames start and end on multiples of this.
pub const FRAME_ALIGN: usize = 8;
/// The largest payload of any record type.
pub const MAX_PAYLOAD: usize = 64;
/// The largest frame: header, the largest payload and the CRC, rounded up.
pub const MAX_FRAME: usize = frame_len(MAX_PAYLOAD);
/// The smallest frame a reader accepts.
pub const MIN_FRAME: usize = frame_len(0);
/// The longest writer name, in bytes.
pub const MAX_NAME: usize = 24;
/// Extension of segment files.
pub const SEGMENT_EXTENSION: &str = "tpj";

/// A writer's sequence number: its first record is 1, each record the one before + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Seq(pub u64);

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The length of the frame holding a payload of `payload` bytes.
pub const fn frame_len(payload: usize) -> usize {
    let raw = FRAME_HEADER + payload + FRAME_CRC;
    raw.div_ceil(FRAME_ALIGN) * FRAME_ALIGN
}

/// What a record holds, as its type byte says.
///
/// A new type takes the next code and leaves the file format's version alone: a build
/// that meets a code it does not know refuses the record as corruption in the middle,
/// named with file and offset (never skipped, never cut as a torn tail), so a journal
/// holding records of a newer build is refused by an older one, never misread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordType {
    /// An [`OrderIntent`](crate::model::OrderIntent) the risk stage approved.
    Intent = 1,
    /// An [`ExecReport`](crate::model::ExecReport): ack, fill, reject, cancel, expiry.
    Exec = 2,
    /// A [`FillRecord`](crate::model::FillRecord) the risk stage booked.
    Fill = 3,
    /// A [`ControlCommand`](crate::model::ControlCommand) a stage applied.
    Control = 4,
    /// The trading state changed.
    RiskState = 5,
    /// A risk limit changed.
    Limit = 6,
    /// A strategy's [`Signal`](crate::model::Signal).
    Signal = 7,
    /// An instrument's mark for the day.
    DailyMark = 8,
    /// A market [`Tick`](crate::model::Tick).
    Tick = 9,
    /// The engine started, resumed or ended the day (see
    /// [`SessionMark`](super::SessionMark)).
    Session = 10,
    /// The risk stage took a broker's position into its book (see
    /// [`Adoption`](super::Adoption)).
    Adopt = 11,
    /// A broker acknowledged one of the order stage's child orders, under its own order
    /// id (see [`Placement`](super::Placement)).
    Placed = 12,
}

impl RecordType {
    /// Every type, in code order.
    pub const ALL: [RecordType; 12] = [
        RecordType::Intent,
        RecordType::Exec,
        RecordType::Fill,
        RecordType::Control,
        RecordType::RiskState,
        RecordType::Limit,
        RecordType::Signal,
        RecordType::DailyMark,
        RecordType::Tick,
        RecordType::Session,
        RecordType::Adopt,
        RecordType::Placed,
    ];

    /// The type with this code.
    pub fn from_code(code: u8) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| *t as u8 == code)
    }

    /// The lowercase name `journal inspect --type` takes and prints.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordType::Intent => "intent",
            RecordType::Exec => "exec",
            RecordType::Fill => "fill",
            RecordType::Control => "control",
            RecordType::RiskState => "risk_state",
            RecordType::Limit => "limit",
            RecordType::Signal => "signal",
            RecordType::DailyMark => "daily_mark",
            RecordType::Tick => "tick",
            RecordType::Session => "session",
            RecordType::Adopt => "adopt",
            RecordType::Placed => "placed",
        }
    }

    /// The type named `name`, if any.
    pub fn from_name(name: &str) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The layout version this build writes for the type's payload.
    pub const fn layout_version(self) -> u8 {
        1
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A segment header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The file's length as written.
    pub capacity: u64,
    /// The segment's first sequence; `None` for a prepared segment never used.
    pub first_seq: Option<Seq>,
    /// The writer that owns it.
    pub writer: String,
}

/// Why a header could not be read; the reader adds the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Shorter than a header.
    Truncated {
        /// Bytes found.
        len: usize,
    },
    /// Not a journal segment.
    BadMagic,
    /// Another format version.
    Version {
        /// The version in the file.
        found: u16,
    },
    /// The header's CRC does not match.
    Crc,
    /// A field makes no sense.
    Field(&'static str),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Truncated { len } => write!(
                f,
                "header truncated: {len} bytes, a segment header has {HEADER_SIZE}"
            ),
            HeaderError::BadMagic => f.write_str("not a journal segment (bad magic)"),
            HeaderError::Version { found } => write!(
                f,
                "journal format version {found}, this build reads version {FORMAT_VERSION}"
            ),
            HeaderError::Crc => f.write_str("segment header CRC mismatch"),
            HeaderError::Field(what) => write!(f, "segment header: {what}"),
        }
    }
}

/// Encodes a segment header.
///
/// # Panics
/// If `writer` is longer than [`MAX_NAME`] (names are checked when a writer is made).
pub fn encode_header(capacity: u64, first_seq: Option<Seq>, writer: &str) -> [u8; HEADER_SIZE] {
    assert!(writer.len() <= MAX_NAME, "writer name too long");
    let mut h = [0u8; HEADER_SIZE];
    h[0..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[10..12].copy_from_slice(&(HEADER_SIZE as u16).to_le_bytes());
    h[16..24].copy_from_slice(&capacity.to_le_bytes());
    h[24..32].copy_from_slice(&first_seq.map_or(0, |s| s.0).to_le_bytes());
    h[32..32 + writer.len()].copy_from_slice(writer.as_bytes());
    seal_header(&mut h);
    h
}

/// Sets the first sequence of an encoded header and its CRC again.
pub fn set_header_first_seq(h: &mut [u8; HEADER_SIZE], first: Seq) {
    h[24..32].copy_from_slice(&first.0.to_le_bytes());
    seal_header(h);
}

fn seal_header(h: &mut [u8; HEADER_SIZE]) {
    let crc = crc32fast::hash(&h[..60]);
    h[60..64].copy_from_slice(&crc.to_le_bytes());
}

/// Decodes and checks a segment header from the start of a file.
///
/// # Errors
/// [`HeaderError`]: checked in the order magic, version, CRC, fields.
pub fn decode_header(bytes: &[u8]) -> Result<SegmentHeader, HeaderError> {
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(HeaderError::BadMagic);
    }
    if bytes.len() >= 10 {
        let found = u16::from_le_bytes([bytes[8], bytes[9]]);
        if found != FORMAT_VERSION {
            return Err(HeaderError::Version { found });
        }
    }
    if bytes.len() < HEADER_SIZE {
        return Err(HeaderError::Truncated { len: bytes.len() });
    }
    let crc = u32_at(bytes, 60);
    if crc32fast::hash(&bytes[..60]) != crc {
        return Err(HeaderError::Crc);
    }
    if usize::from(u16::from_le_bytes([bytes[10], bytes[11]])) != HEADER_SIZE {
        return Err(HeaderError::Field("header size is not 64"));
    }
    let capacity = u64_at(bytes, 16);
    let first = u64_at(bytes, 24);
    let name = &bytes[32..32 + MAX_NAME];
    let end = name.iter().position(|&b| b == 0).unwrap_or(MAX_NAME);
    let writer = std::str::from_utf8(&name[..end])
        .map_err(|_| HeaderError::Field("writer name is not UTF-8"))?;
    if writer.is_empty() {
        return Err(HeaderError::Field("writer name is empty"));
    }
    Ok(SegmentHeader {
        capacity,
        first_seq: (first != 0).then_some(Seq(first)),
        writer: writer.to_owned(),
    })
}

/// The fixed fields of a frame, as read before its CRC is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Frame length.
    pub len: usize,
    /// Type code (not yet checked against [`RecordType`]).
    pub ty: u8,
    /// Payload layout version.
    pub version: u8,
    /// Payload length.
    pub payload_len: usize,
    /// Sequence.
    pub seq: Seq,
    /// Market time, nanoseconds since the epoch.
    pub ts: u64,
}

/// Why the bytes at an offset are not a whole, intact frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The length field is zero: no frame here (the end of the data).
    End,
    /// Fewer bytes remain than a frame needs (the file ends inside it).
    Short,
    /// The length field is impossible (not a multiple of 8, too small or too large, or
    /// not matching the payload length).
    BadLength,
    /// The CRC does not match.
    Crc,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameError::End => "end of data",
            FrameError::Short => "the file ends inside the record",
            FrameError::BadLength => "impossible record length",
            FrameError::Crc => "record CRC mismatch",
        })
    }
}

/// Reads and checks the frame that starts at `bytes[0]`: length, then CRC.
///
/// # Errors
/// [`FrameError`].
pub fn check_frame(bytes: &[u8]) -> Result<FrameHeader, FrameError> {
    if bytes.len() < 4 {
        return if bytes.iter().all(|&b| b == 0) {
            Err(FrameError::End)
        } else {
            Err(FrameError::Short)
        };
    }
    let len = u32_at(bytes, 0) as usize;
    if len == 0 {
        return Err(FrameError::End);
    }
    if len % FRAME_ALIGN != 0 || !(MIN_FRAME..=MAX_FRAME).contains(&len) {
        return Err(FrameError::BadLength);
    }
    if bytes.len() < len {
        return Err(FrameError::Short);
    }
    let payload_len = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    if frame_len(payload_len) != len {
        return Err(FrameError::BadLength);
    }
    if crc32fast::hash(&bytes[..len - FRAME_CRC]) != u32_at(bytes, len - FRAME_CRC) {
        return Err(FrameError::Crc);
    }
    Ok(FrameHeader {
        len,
        ty: bytes[4],
        version: bytes[5],
        payload_len,
        seq: Seq(u64_at(bytes, 8)),
        ts: u64_at(bytes, 16),
    })
}

/// Writes a frame's header fields, zero padding and CRC around a payload already in
/// `out[FRAME_HEADER..FRAME_HEADER + payload_len]`; returns the frame length.
#[inline]
pub fn seal_frame(
    out: &mut [u8; MAX_FRAME],
    ty: RecordType,
    payload_len: usize,
    seq: Seq,
    ts: u64,
) -> usize {
    let len = frame_len(payload_len);
    out[0..4].copy_from_slice(&(len as u32).to_le_bytes());
    out[4] = ty as u8;
    out[5] = ty.layout_version();
    out[6..8].copy_from_slice(&(payload_len as u16).to_le_bytes());
    out[8..16].copy_from_slice(&seq.0.to_le_bytes());
    out[16..24].copy_from_slice(&ts.to_le_bytes());
    out[FRAME_HEADER + payload_len..len - FRAME_CRC].fill(0);
    let crc = crc32fast::hash(&out[..len - FRAME_CRC]);
    out[len - FRAME_CRC..len].copy_from_slice(&crc.to_le_bytes());
    len
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths_round_up_to_eight() {
        assert_eq!(MIN_FRAME, 32);
        assert_eq!(frame_len(32), 64);
        assert_eq!(frame_len(45), 80);
        assert_eq!(MAX_FRAME, 96);
    }

    #[test]
    fn headers_round_trip_and_refuse_other_versions() {
        let h = encode_header(4096, Some(Seq(7)), "risk");
        let d = decode_header(&h).unwrap();
        assert_eq!(d.first_seq, Some(Seq(7)));
        assert_eq!(d.writer, "risk");
        let mut v2 = h;
        v2[8] = 2;
        assert_eq!(decode_header(&v2), Err(HeaderError::Version { found: 2 }));
        let mut flipped = h;
        flipped[40] ^= 1;
        assert_eq!(decode_header(&flipped), Err(HeaderError::Crc));
    }

    #[test]
    fn a_frame_with_a_flipped_bit_fails_its_crc() {
        let mut buf = [0u8; MAX_FRAME];
        buf[FRAME_HEADER] = 9;
        let len = seal_frame(&mut buf, RecordType::Signal, 32, Seq(3), 42);
        assert_eq!(len, 64);
        let h = check_frame(&buf[..len]).unwrap();
        assert_eq!((h.seq, h.ts, h.payload_len), (Seq(3), 42, 32));
        buf[30] ^= 0x10;
        assert_eq!(check_frame(&buf[..len]), Err(FrameError::Crc));
        assert_eq!(check_frame(&buf[..40]), Err(FrameError::Short));
        assert_eq!(check_frame(&[0u8; 16]), Err(FrameError::End));
    }
}
