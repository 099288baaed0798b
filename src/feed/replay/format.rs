//! The tick file format, version 1: a self-contained recording of market events.
//!
//! A tick file holds the instrument table of the run that recorded it and then the
//! events, so a replay needs nothing else. All integers are little-endian; CRCs are
//! CRC-32 (IEEE, as zlib and `crc32fast` compute it).
//!
//! # Layout
//!
//! ```text
//! offset      size  field
//! 0           8     magic "TPTICKS\0"
//! 8           2     version (1)
//! 10          2     record size (64)
//! 12          4     instrument count N
//! 16          4     sector count S
//! 20          4     definitions length L, in bytes
//! 24          4     CRC-32 of bytes 0..24
//! 28          L     definitions: S sectors, then N instruments (below)
//! 28+L        4     CRC-32 of the L definition bytes
//! 32+L        64·k  records, then one end record
//! ```
//!
//! A **sector** is `u16` name length then the UTF-8 name. An **instrument**, numbered
//! from 0 in file order (the number is its [`InstrumentId`]):
//!
//! ```text
//! size  field
//! 2     symbol length, then the UTF-8 symbol
//! 1     exchange: 1 NSE, 2 BSE
//! 1     segment: 1 cash, 2 F&O, 3 currency, 4 indices
//! 1     kind: 1 equity, 2 index, 3 option, 4 future
//! 1     option type: 0 none, 1 call, 2 put
//! 4     underlying instrument number, 0xFFFF_FFFF for none
//! 4     expiry, days since 1970-01-01 (i32), i32::MIN for none
//! 8     strike, raw price units of 10^-8 (i64), i64::MIN for none
//! 4     lot size
//! 8     tick size, raw price units
//! 4     freeze quantity (0: none)
//! 2     sector number
//! ```
//!
//! A **record** is 64 bytes:
//!
//! ```text
//! offset  size  field
//! 0       1     kind: 1 trade tick, 2 quote tick, 3 news, 255 end
//! 1       3     zero
//! 4       4     instrument number (u32)
//! 8       8     exchange time, nanoseconds since the Unix epoch (u64); the end record
//!               holds the number of records before it here instead
//! 16      8     last price, raw (i64)
//! 24      8     bid, raw (i64)
//! 32      8     ask, raw (i64)
//! 40      4     cumulative volume (u32)
//! 44      4     last quantity (u32)
//! 48      4     bid quantity (u32)
//! 52      4     ask quantity (u32)
//! 56      2     news sentiment in per-mille (i16), zero for ticks
//! 58      2     zero
//! 60      4     CRC-32 of bytes 0..60
//! ```
//!
//! News records use only kind, instrument, time and sentiment. The ingress stamp is not
//! recorded: it belongs to the run that stamps it. Records are in non-decreasing
//! exchange time. A finished file ends with exactly one end record; a file without it
//! was cut short (the writer crashed, or the copy is incomplete) and is rejected rather
//! than silently replayed in part.
//!
//! # Errors a reader reports
//!
//! Each with the byte offset where it starts: bad magic, unsupported version, a
//! truncated header or record, a header field out of range, a CRC mismatch, an unknown
//! record kind, an instrument number out of range, time going backwards, a missing end
//! record, and data after the end record.

use std::io::Read;

use crate::{
    feed::FeedError,
    model::{
        Date, Exchange, Instrument, InstrumentId, InstrumentKind, InstrumentTable, MarketEvent,
        News, OptionType, Price, SectorId, Segment, Stamp, Tick, TickKind, UnixNanos,
    },
};

/// The first eight bytes of every tick file.
pub const MAGIC: [u8; 8] = *b"TPTICKS\0";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// Bytes per record.
pub const RECORD_SIZE: usize = 64;
/// Bytes of the fixed header, before the definitions.
pub const HEADER_SIZE: usize = 28;
/// The largest definitions section a reader accepts (64 MiB), so a corrupt length
/// cannot make it allocate without bound.
pub const MAX_DEFINITIONS: u32 = 64 << 20;

const KIND_TRADE: u8 = 1;
const KIND_QUOTE: u8 = 2;
const KIND_NEWS: u8 = 3;
const KIND_END: u8 = 255;
const NONE_U32: u32 = u32::MAX;
const NONE_DAYS: i32 = i32::MIN;
const NONE_STRIKE: i64 = i64::MIN;
/// Fixed bytes of an instrument entry besides its symbol.
const INSTRUMENT_FIXED: usize = 2 + 1 + 1 + 1 + 1 + 4 + 4 + 8 + 4 + 8 + 4 + 2;

/// One decoded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A market event (ingress unset).
    Event(MarketEvent),
    /// The end record, with the number of records before it.
    End(u64),
}

/// The header and definitions of a file for `table`, ready to write.
///
/// # Errors
/// [`FeedError::Unrecordable`] when a symbol or sector name is longer than 65 535 bytes
/// or the table is too large for the format.
pub fn encode_header(table: &InstrumentTable) -> Result<Vec<u8>, FeedError> {
    let mut defs = Vec::new();
    for name in table.sectors() {
        put_str(&mut defs, name)?;
    }
    for i in table.iter() {
        put_str(&mut defs, &i.symbol)?;
        defs.push(exchange_code(i.exchange));
        defs.push(segment_code(i.segment));
        defs.push(kind_code(i.kind));
        defs.push(match i.option_type {
            None => 0,
            Some(OptionType::Call) => 1,
            Some(OptionType::Put) => 2,
        });
        defs.extend_from_slice(&i.underlying.map_or(NONE_U32, |u| u.0).to_le_bytes());
        let days = match i.expiry {
            Some(d) => i32::try_from(d.days_since_epoch())
                .map_err(|_| FeedError::Unrecordable("expiry date out of range"))?,
            None => NONE_DAYS,
        };
        defs.extend_from_slice(&days.to_le_bytes());
        defs.extend_from_slice(&i.strike.map_or(NONE_STRIKE, Price::raw).to_le_bytes());
        defs.extend_from_slice(&i.lot_size.to_le_bytes());
        defs.extend_from_slice(&i.tick_size.raw().to_le_bytes());
        defs.extend_from_slice(&i.freeze_qty.to_le_bytes());
        defs.extend_from_slice(&i.sector.0.to_le_bytes());
    }
    let too_big = |_| FeedError::Unrecordable("instrument table too large for the format");
    let n = u32::try_from(table.len()).map_err(too_big)?;
    let s = u32::try_from(table.sectors().len()).map_err(too_big)?;
    let l = u32::try_from(defs.len()).map_err(too_big)?;
    if l > MAX_DEFINITIONS {
        return Err(FeedError::Unrecordable(
            "instrument table too large for the format",
        ));
    }
    let mut out = Vec::with_capacity(HEADER_SIZE + defs.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(RECORD_SIZE as u16).to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&s.to_le_bytes());
    out.extend_from_slice(&l.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&defs);
    out.extend_from_slice(&crc32fast::hash(&defs).to_le_bytes());
    Ok(out)
}

fn put_str(out: &mut Vec<u8>, s: &str) -> Result<(), FeedError> {
    let len = u16::try_from(s.len()).map_err(|_| FeedError::Unrecordable("name too long"))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Reads and checks the header and definitions from the start of a file; returns the
/// instrument table and the byte offset of the first record.
///
/// `path` names the file in I/O errors.
///
/// # Errors
/// [`FeedError`] with the byte offset: bad magic, unsupported version, truncation, a
/// CRC mismatch, or a definition that makes no sense.
pub fn read_header<R: Read>(
    reader: &mut R,
    path: &std::path::Path,
) -> Result<(InstrumentTable, u64), FeedError> {
    let mut fixed = [0u8; HEADER_SIZE];
    let got = read_full(reader, &mut fixed, path, 0)?;
    let magic_len = got.min(MAGIC.len());
    if fixed[..magic_len] != MAGIC[..magic_len] {
        return Err(FeedError::BadMagic { offset: 0 });
    }
    if got < HEADER_SIZE {
        return Err(FeedError::TruncatedHeader {
            offset: got as u64,
            what: "fixed header",
            needed: HEADER_SIZE as u64,
        });
    }
    let version = u16_at(&fixed, 8);
    if version != VERSION {
        return Err(FeedError::UnsupportedVersion {
            offset: 8,
            version,
            supported: VERSION,
        });
    }
    let stored = u32_at(&fixed, 24);
    let computed = crc32fast::hash(&fixed[..24]);
    if stored != computed {
        return Err(FeedError::CrcMismatch {
            offset: 0,
            stored,
            computed,
        });
    }
    if usize::from(u16_at(&fixed, 10)) != RECORD_SIZE {
        return Err(FeedError::BadHeader {
            offset: 10,
            reason: "record size is not 64",
        });
    }
    let n = u32_at(&fixed, 12);
    let s = u32_at(&fixed, 16);
    let l = u32_at(&fixed, 20);
    if l > MAX_DEFINITIONS {
        return Err(FeedError::BadHeader {
            offset: 20,
            reason: "definitions length above the 64 MiB limit",
        });
    }
    let minimum = u64::from(s) * 2 + u64::from(n) * INSTRUMENT_FIXED as u64;
    if minimum > u64::from(l) {
        return Err(FeedError::BadHeader {
            offset: 12,
            reason: "instrument and sector counts do not fit the definitions length",
        });
    }
    let mut defs = vec![0u8; l as usize + 4];
    let got = read_full(reader, &mut defs, path, HEADER_SIZE as u64)?;
    if got < defs.len() {
        return Err(FeedError::TruncatedHeader {
            offset: (HEADER_SIZE + got) as u64,
            what: "instrument definitions",
            needed: (HEADER_SIZE + defs.len()) as u64,
        });
    }
    let (body, crc) = defs.split_at(l as usize);
    let stored = u32_at(crc, 0);
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(FeedError::CrcMismatch {
            offset: HEADER_SIZE as u64,
            stored,
            computed,
        });
    }
    let table = decode_definitions(body, n, s)?;
    Ok((table, (HEADER_SIZE + defs.len()) as u64))
}

/// Parses the definitions section (already CRC-checked).
fn decode_definitions(body: &[u8], n: u32, s: u32) -> Result<InstrumentTable, FeedError> {
    let mut cur = Cursor {
        bytes: body,
        pos: 0,
    };
    let mut table = InstrumentTable::new();
    for k in 0..s {
        let at = cur.offset();
        let name = cur.str()?;
        if table.sector(name).0 as u32 != k {
            return Err(FeedError::BadHeader {
                offset: at,
                reason: "sector name repeated",
            });
        }
    }
    for k in 0..n {
        let at = cur.offset();
        let symbol = cur.str()?.to_owned();
        let exchange = match cur.u8()? {
            1 => Exchange::Nse,
            2 => Exchange::Bse,
            _ => return Err(cur.bad(1, "unknown exchange code")),
        };
        let segment = match cur.u8()? {
            1 => Segment::Cash,
            2 => Segment::Fno,
            3 => Segment::Currency,
            4 => Segment::Indices,
            _ => return Err(cur.bad(1, "unknown segment code")),
        };
        let kind = match cur.u8()? {
            1 => InstrumentKind::Equity,
            2 => InstrumentKind::Index,
            3 => InstrumentKind::Option,
            4 => InstrumentKind::Future,
            _ => return Err(cur.bad(1, "unknown instrument kind code")),
        };
        let option_type = match cur.u8()? {
            0 => None,
            1 => Some(OptionType::Call),
            2 => Some(OptionType::Put),
            _ => return Err(cur.bad(1, "unknown option type code")),
        };
        let underlying = match cur.u32()? {
            NONE_U32 => None,
            u if u < n && u != k => Some(InstrumentId(u)),
            _ => return Err(cur.bad(4, "underlying instrument number out of range")),
        };
        let expiry = match cur.i32()? {
            NONE_DAYS => None,
            days => Some(Date::from_days_since_epoch(i64::from(days))),
        };
        let strike = match cur.i64()? {
            NONE_STRIKE => None,
            raw => Some(Price::from_raw(raw)),
        };
        let lot_size = cur.u32()?;
        let tick_size = Price::from_raw(cur.i64()?);
        if tick_size.raw() < 0 {
            return Err(cur.bad(8, "negative tick size"));
        }
        let freeze_qty = cur.u32()?;
        let sector = cur.u16()?;
        // Sector 0 is allowed in a table without sector names (the default id).
        if u32::from(sector) >= s.max(1) {
            return Err(cur.bad(2, "sector number out of range"));
        }
        let instrument = Instrument {
            id: InstrumentId(k),
            symbol,
            exchange,
            segment,
            kind,
            underlying,
            expiry,
            strike,
            option_type,
            lot_size,
            tick_size,
            freeze_qty,
            sector: SectorId(sector),
        };
        table.push(instrument).map_err(|_| FeedError::BadHeader {
            offset: at,
            reason: "symbol repeated",
        })?;
    }
    if cur.pos != body.len() {
        return Err(FeedError::BadHeader {
            offset: cur.offset(),
            reason: "unused bytes at the end of the definitions",
        });
    }
    Ok(table)
}

/// A little-endian reader over the definitions, reporting file offsets.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn offset(&self) -> u64 {
        (HEADER_SIZE + self.pos) as u64
    }

    /// An error about the field of `width` bytes just read.
    fn bad(&self, width: usize, reason: &'static str) -> FeedError {
        FeedError::BadHeader {
            offset: (HEADER_SIZE + self.pos - width) as u64,
            reason,
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], FeedError> {
        if self.bytes.len() - self.pos < n {
            return Err(FeedError::BadHeader {
                offset: self.offset(),
                reason: "definition runs past the definitions length",
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, FeedError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FeedError> {
        Ok(u16_at(self.take(2)?, 0))
    }

    fn u32(&mut self) -> Result<u32, FeedError> {
        Ok(u32_at(self.take(4)?, 0))
    }

    fn i32(&mut self) -> Result<i32, FeedError> {
        Ok(self.u32()? as i32)
    }

    fn i64(&mut self) -> Result<i64, FeedError> {
        Ok(i64_at(self.take(8)?, 0))
    }

    fn str(&mut self) -> Result<&str, FeedError> {
        let len = usize::from(self.u16()?);
        let at = self.offset();
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| FeedError::BadHeader {
            offset: at,
            reason: "name is not UTF-8",
        })
    }
}

/// Fills `buf` from `reader` as far as the data goes; returns the bytes read (fewer than
/// `buf.len()` only at end of file).
pub(crate) fn read_full<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    path: &std::path::Path,
    offset: u64,
) -> Result<usize, FeedError> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FeedError::io(path, offset + got as u64, e)),
        }
    }
    Ok(got)
}

/// The record of one event. A scheduled control command is not market data and has no
/// record: it encodes with kind 0, which no reader accepts, and the writer skips it.
pub fn encode_event(event: &MarketEvent) -> [u8; RECORD_SIZE] {
    let mut r = [0u8; RECORD_SIZE];
    match event {
        MarketEvent::Tick(t) => {
            r[0] = match t.kind {
                TickKind::Trade => KIND_TRADE,
                TickKind::Quote => KIND_QUOTE,
            };
            r[4..8].copy_from_slice(&t.instrument.0.to_le_bytes());
            r[8..16].copy_from_slice(&t.exchange_ts.0.to_le_bytes());
            r[16..24].copy_from_slice(&t.last.raw().to_le_bytes());
            r[24..32].copy_from_slice(&t.bid.raw().to_le_bytes());
            r[32..40].copy_from_slice(&t.ask.raw().to_le_bytes());
            r[40..44].copy_from_slice(&t.volume.to_le_bytes());
            r[44..48].copy_from_slice(&t.last_qty.to_le_bytes());
            r[48..52].copy_from_slice(&t.bid_qty.to_le_bytes());
            r[52..56].copy_from_slice(&t.ask_qty.to_le_bytes());
        }
        MarketEvent::News(n) => {
            r[0] = KIND_NEWS;
            r[4..8].copy_from_slice(&n.instrument.0.to_le_bytes());
            r[8..16].copy_from_slice(&n.exchange_ts.0.to_le_bytes());
            r[56..58].copy_from_slice(&n.sentiment_milli.to_le_bytes());
        }
        MarketEvent::Control(_) => {}
    }
    seal(&mut r);
    r
}

/// The end record after `count` records.
pub fn encode_end(count: u64) -> [u8; RECORD_SIZE] {
    let mut r = [0u8; RECORD_SIZE];
    r[0] = KIND_END;
    r[8..16].copy_from_slice(&count.to_le_bytes());
    seal(&mut r);
    r
}

fn seal(r: &mut [u8; RECORD_SIZE]) {
    let crc = crc32fast::hash(&r[..60]);
    r[60..64].copy_from_slice(&crc.to_le_bytes());
}

/// Decodes the record at byte `offset` of a file with `instruments` instruments.
///
/// Checks the CRC, the kind and the instrument number; the caller checks time order.
///
/// # Errors
/// [`FeedError::CrcMismatch`], [`FeedError::UnknownRecordKind`] or
/// [`FeedError::InstrumentOutOfRange`], each with `offset`.
pub fn decode_record(
    r: &[u8; RECORD_SIZE],
    offset: u64,
    instruments: u32,
) -> Result<Record, FeedError> {
    let stored = u32_at(r, 60);
    let computed = crc32fast::hash(&r[..60]);
    if stored != computed {
        return Err(FeedError::CrcMismatch {
            offset,
            stored,
            computed,
        });
    }
    let kind = r[0];
    if kind == KIND_END {
        return Ok(Record::End(u64_at(r, 8)));
    }
    if !matches!(kind, KIND_TRADE | KIND_QUOTE | KIND_NEWS) {
        return Err(FeedError::UnknownRecordKind { offset, kind });
    }
    let index = u32_at(r, 4);
    if index >= instruments {
        return Err(FeedError::InstrumentOutOfRange {
            offset,
            index,
            count: instruments,
        });
    }
    let instrument = InstrumentId(index);
    let exchange_ts = UnixNanos(u64_at(r, 8));
    let event = if kind == KIND_NEWS {
        MarketEvent::News(News {
            exchange_ts,
            ingress: Stamp::default(),
            instrument,
            sentiment_milli: i16::from_le_bytes([r[56], r[57]]),
        })
    } else {
        MarketEvent::Tick(Tick {
            exchange_ts,
            ingress: Stamp::default(),
            last: Price::from_raw(i64_at(r, 16)),
            bid: Price::from_raw(i64_at(r, 24)),
            ask: Price::from_raw(i64_at(r, 32)),
            instrument,
            volume: u32_at(r, 40),
            last_qty: u32_at(r, 44),
            bid_qty: u32_at(r, 48),
            ask_qty: u32_at(r, 52),
            kind: if kind == KIND_TRADE {
                TickKind::Trade
            } else {
                TickKind::Quote
            },
        })
    };
    Ok(Record::Event(event))
}

fn exchange_code(e: Exchange) -> u8 {
    match e {
        Exchange::Nse => 1,
        Exchange::Bse => 2,
    }
}

fn segment_code(s: Segment) -> u8 {
    match s {
        Segment::Cash => 1,
        Segment::Fno => 2,
        Segment::Currency => 3,
        Segment::Indices => 4,
    }
}

fn kind_code(k: InstrumentKind) -> u8 {
    match k {
        InstrumentKind::Equity => 1,
        InstrumentKind::Index => 2,
        InstrumentKind::Option => 3,
        InstrumentKind::Future => 4,
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    u64_at(b, at) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::universe;

    #[test]
    fn header_round_trip_keeps_every_field() {
        let u = universe::load_default().unwrap();
        let (mut table, index, _) = u.into_parts();
        let sector = table.get(index.id).sector;
        crate::feed::synthetic::chain::add_chain(
            &mut table,
            &index,
            sector,
            Date::new(2026, 12, 1),
            26_000,
            2,
            50,
        )
        .unwrap();
        let bytes = encode_header(&table).unwrap();
        let (back, start) = read_header(&mut &bytes[..], "t".as_ref()).unwrap();
        assert_eq!(start, bytes.len() as u64);
        assert_eq!(back.len(), table.len());
        assert_eq!(back.sectors(), table.sectors());
        for (a, b) in table.iter().zip(back.iter()) {
            assert_eq!(a, b);
        }
    }

    #[test]
    fn records_round_trip_and_are_checked() {
        let tick = MarketEvent::Tick(Tick {
            exchange_ts: UnixNanos(1_764_000_000_123_456_789),
            ingress: Stamp::default(),
            last: Price::from_paise(99_005),
            bid: Price::from_paise(99_000),
            ask: Price::from_paise(99_010),
            instrument: InstrumentId(7),
            volume: 123_456,
            last_qty: 40,
            bid_qty: 300,
            ask_qty: 250,
            kind: TickKind::Quote,
        });
        let news = MarketEvent::News(News {
            exchange_ts: UnixNanos(5),
            ingress: Stamp::default(),
            instrument: InstrumentId(3),
            sentiment_milli: -750,
        });
        for e in [tick, news] {
            let r = encode_event(&e);
            assert_eq!(decode_record(&r, 0, 8).unwrap(), Record::Event(e));
            assert!(matches!(
                decode_record(&r, 64, 3),
                Err(FeedError::InstrumentOutOfRange { offset: 64, .. })
            ));
        }
        assert_eq!(decode_record(&encode_end(9), 0, 1).unwrap(), Record::End(9));
        let mut r = encode_event(&news);
        r[0] = 9;
        seal(&mut r);
        assert!(matches!(
            decode_record(&r, 128, 8),
            Err(FeedError::UnknownRecordKind {
                offset: 128,
                kind: 9
            })
        ));
        r[1] ^= 1;
        assert!(matches!(
            decode_record(&r, 192, 8),
            Err(FeedError::CrcMismatch { offset: 192, .. })
        ));
    }
}
