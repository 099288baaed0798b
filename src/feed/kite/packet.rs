//! One tick packet: its layout (from its length alone) and its fields.
//!
//! Byte offsets (all big-endian; PROTOCOLS.md §1.6, checked against the official
//! client's decode of every fixture frame):
//!
//! | layout | length | fields |
//! | --- | --- | --- |
//! | LTP | 8 | token @0, last price @4 |
//! | index quote | 28 | + high @8, low @12, open @16, close @20 (note H, L, O, C); bytes 24..28 (the exchange's "change") are ignored |
//! | index full | 32 | + exchange timestamp @28 |
//! | quote | 44 | token @0, last price @4, last qty @8, average price @12, volume @16, total buy qty @20, total sell qty @24, open @28, high @32, low @36, close @40 |
//! | full | 184 | + last trade time @44, OI @48, OI day high @52, OI day low @56, exchange timestamp @60, depth @64 (see [`Depth`](super::Depth)) |
//!
//! Prices are signed 32-bit counts of `1 / divisor` rupees (see [`SegmentCode`]); every
//! other field is unsigned, as the official clients read them.

use super::{DecodeError, SegmentCode};
use crate::model::Price;

/// The subscription mode a packet belongs to, named as Kite names it (also the
/// `mode` key of `[feed.kite]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Last traded price only.
    Ltp,
    /// Price, volume and OHLC.
    Quote,
    /// Everything, with timestamps, open interest and five levels of depth.
    Full,
}

impl Mode {
    /// Kite's name: `ltp`, `quote` or `full`.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Ltp => "ltp",
            Mode::Quote => "quote",
            Mode::Full => "full",
        }
    }
}

/// The five packet layouts, told apart only by length (the official clients do the
/// same: an NSE token in a 28-byte packet is read with the index layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// 8 bytes: token and last price.
    Ltp,
    /// 28 bytes: an index in quote mode.
    IndexQuote,
    /// 32 bytes: an index in full mode.
    IndexFull,
    /// 44 bytes: an instrument in quote mode.
    Quote,
    /// 184 bytes: an instrument in full mode, with depth.
    Full,
}

impl Layout {
    /// The layout of a packet of `len` bytes, if Kite has one.
    pub const fn of_len(len: usize) -> Option<Layout> {
        match len {
            8 => Some(Layout::Ltp),
            28 => Some(Layout::IndexQuote),
            32 => Some(Layout::IndexFull),
            44 => Some(Layout::Quote),
            184 => Some(Layout::Full),
            _ => None,
        }
    }

    /// The packet length of this layout.
    pub const fn packet_len(self) -> usize {
        match self {
            Layout::Ltp => 8,
            Layout::IndexQuote => 28,
            Layout::IndexFull => 32,
            Layout::Quote => 44,
            Layout::Full => 184,
        }
    }

    /// The mode the layout belongs to.
    pub const fn mode(self) -> Mode {
        match self {
            Layout::Ltp => Mode::Ltp,
            Layout::IndexQuote | Layout::Quote => Mode::Quote,
            Layout::IndexFull | Layout::Full => Mode::Full,
        }
    }

    /// True for the two index layouts (28 and 32 bytes).
    pub const fn is_index(self) -> bool {
        matches!(self, Layout::IndexQuote | Layout::IndexFull)
    }
}

/// The day's open, high and low, and the previous day's close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ohlc {
    /// Day open.
    pub open: Price,
    /// Day high.
    pub high: Price,
    /// Day low.
    pub low: Price,
    /// Previous day's close.
    pub close: Price,
}

/// Every field of one packet except depth, decoded without allocation.
///
/// Fields the packet's [`Layout`] does not carry are zero. Names follow the official
/// Python client's keys. Timestamps are Unix epoch seconds as sent (0 means absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// Which layout the packet had.
    pub layout: Layout,
    /// Kite's instrument token; its low byte is the [`SegmentCode`].
    pub instrument_token: u32,
    /// Last traded price.
    pub last_price: Price,
    /// Quantity of the last trade (quote and full).
    pub last_traded_quantity: u32,
    /// Volume-weighted average price of the day (quote and full).
    pub average_traded_price: Price,
    /// Day volume (quote and full).
    pub volume_traded: u32,
    /// Total quantity bid (quote and full).
    pub total_buy_quantity: u32,
    /// Total quantity offered (quote and full).
    pub total_sell_quantity: u32,
    /// Open, high, low and previous close (every layout but LTP).
    pub ohlc: Ohlc,
    /// Time of the last trade (full).
    pub last_trade_time: u32,
    /// Open interest (full).
    pub oi: u32,
    /// Day's highest open interest (full).
    pub oi_day_high: u32,
    /// Day's lowest open interest (full).
    pub oi_day_low: u32,
    /// Exchange time of the update (index full and full).
    pub exchange_timestamp: u32,
}

impl Packet {
    /// Decodes one packet (without its length prefix).
    ///
    /// # Errors
    /// [`DecodeError::TooShort`] below 4 bytes, [`DecodeError::UnknownLength`] for a
    /// length that is none of the five layouts.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::feed::kite::{Mode, Packet};
    /// let ltp = [0x00, 0x0d, 0x80, 0x01, 0x00, 0x00, 0x99, 0x7f];
    /// let p = Packet::decode(&ltp).unwrap();
    /// assert_eq!(p.instrument_token, 884_737);
    /// assert_eq!(p.last_price.to_string(), "392.95");
    /// assert_eq!(p.mode(), Mode::Ltp);
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        if bytes.len() < 4 {
            return Err(DecodeError::TooShort { len });
        }
        let layout = Layout::of_len(bytes.len()).ok_or(DecodeError::UnknownLength { len })?;
        let token = be_u32(bytes, 0);
        let seg = SegmentCode::of_token(token);
        let price = |at: usize| seg.price(be_i32(bytes, at));
        let mut p = Packet {
            layout,
            instrument_token: token,
            last_price: price(4),
            last_traded_quantity: 0,
            average_traded_price: Price::ZERO,
            volume_traded: 0,
            total_buy_quantity: 0,
            total_sell_quantity: 0,
            ohlc: Ohlc::default(),
            last_trade_time: 0,
            oi: 0,
            oi_day_high: 0,
            oi_day_low: 0,
            exchange_timestamp: 0,
        };
        match layout {
            Layout::Ltp => {}
            Layout::IndexQuote | Layout::IndexFull => {
                p.ohlc = Ohlc {
                    high: price(8),
                    low: price(12),
                    open: price(16),
                    close: price(20),
                };
                if layout == Layout::IndexFull {
                    p.exchange_timestamp = be_u32(bytes, 28);
                }
            }
            Layout::Quote | Layout::Full => {
                p.last_traded_quantity = be_u32(bytes, 8);
                p.average_traded_price = price(12);
                p.volume_traded = be_u32(bytes, 16);
                p.total_buy_quantity = be_u32(bytes, 20);
                p.total_sell_quantity = be_u32(bytes, 24);
                p.ohlc = Ohlc {
                    open: price(28),
                    high: price(32),
                    low: price(36),
                    close: price(40),
                };
                if layout == Layout::Full {
                    p.last_trade_time = be_u32(bytes, 44);
                    p.oi = be_u32(bytes, 48);
                    p.oi_day_high = be_u32(bytes, 52);
                    p.oi_day_low = be_u32(bytes, 56);
                    p.exchange_timestamp = be_u32(bytes, 60);
                }
            }
        }
        Ok(p)
    }

    /// The packet's mode.
    pub const fn mode(&self) -> Mode {
        self.layout.mode()
    }

    /// The segment of the instrument (the token's low byte).
    pub const fn segment(&self) -> SegmentCode {
        SegmentCode::of_token(self.instrument_token)
    }

    /// False for indices.
    pub const fn is_tradable(&self) -> bool {
        self.segment().is_tradable()
    }

    /// The official client's `change`: `(last_price - close) * 100 / close` in `f64`, in
    /// that order, from the prices as it divides them. `None` when the layout has no
    /// close (LTP) or the close is zero (the official client then gives the integer 0).
    pub fn change_percent(&self) -> Option<f64> {
        if self.layout == Layout::Ltp || self.ohlc.close == Price::ZERO {
            return None;
        }
        let seg = self.segment();
        let last = seg.price_f64(self.last_price);
        let close = seg.price_f64(self.ohlc.close);
        Some((last - close) * 100.0 / close)
    }
}

/// The big-endian `u32` at `at`; 0 if the slice is too short, which the callers rule
/// out by checking the packet length first (so this never panics).
#[inline]
pub(super) fn be_u32(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// The big-endian `i32` at `at` (two's complement), for price fields.
#[inline]
pub(super) fn be_i32(bytes: &[u8], at: usize) -> i32 {
    be_u32(bytes, at) as i32
}

/// The big-endian `u16` at `at`, for depth order counts.
#[inline]
pub(super) fn be_u16(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_pick_layouts() {
        for layout in [
            Layout::Ltp,
            Layout::IndexQuote,
            Layout::IndexFull,
            Layout::Quote,
            Layout::Full,
        ] {
            assert_eq!(Layout::of_len(layout.packet_len()), Some(layout));
        }
        assert_eq!(Layout::of_len(0), None);
        assert_eq!(Layout::of_len(45), None);
    }

    #[test]
    fn short_and_unknown_packets_are_errors() {
        assert_eq!(
            Packet::decode(&[1, 2, 3]),
            Err(DecodeError::TooShort { len: 3 })
        );
        assert_eq!(
            Packet::decode(&[0; 12]),
            Err(DecodeError::UnknownLength { len: 12 })
        );
    }

    #[test]
    fn index_ohlc_is_high_low_open_close() {
        let mut b = [0u8; 28];
        b[0..4].copy_from_slice(&256_265u32.to_be_bytes());
        for (i, v) in [1055u32, 1060, 1052, 1061, 1049].iter().enumerate() {
            b[4 + 4 * i..8 + 4 * i].copy_from_slice(&v.to_be_bytes());
        }
        let p = Packet::decode(&b).unwrap();
        assert_eq!(p.mode(), Mode::Quote);
        assert!(!p.is_tradable());
        assert_eq!(p.ohlc.high.to_string(), "10.60");
        assert_eq!(p.ohlc.low.to_string(), "10.52");
        assert_eq!(p.ohlc.open.to_string(), "10.61");
        assert_eq!(p.ohlc.close.to_string(), "10.49");
        assert_eq!(p.change_percent(), Some((10.55 - 10.49) * 100.0 / 10.49));
    }

    #[test]
    fn prices_are_signed() {
        let mut b = [0u8; 8];
        b[0..4].copy_from_slice(&0x0000_0107u32.to_be_bytes()); // MCX
        b[4..8].copy_from_slice(&(-3_763i32).to_be_bytes());
        assert_eq!(Packet::decode(&b).unwrap().last_price.to_string(), "-37.63");
    }
}
