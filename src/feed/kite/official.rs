//! The official Python client's reading of a binary message, rendered as JSON.
//!
//! `tickpipe feed decode` prints this so a capture can be compared with what Zerodha's
//! `kiteconnect` (5.2.2, `KiteTicker._parse_binary`) returns for it. The rules it
//! follows, which the engine's [`KiteDecoder`](super::KiteDecoder) deliberately does not:
//!
//! - a packet count that overruns the message fails the whole message (no ticks),
//!   and so does a cut packet that is not the last one the count announces;
//! - the last packet, when the message cuts it short, is read by the length it has;
//! - a packet of fewer than 4 bytes fails the whole message; other unknown lengths are
//!   skipped silently; bytes after the last packet are ignored.
//!
//! Keys, their order, mode names, `change` (the integer `0` when the close is zero)
//! and timestamps (epoch seconds) are the client's. One documented difference: prices
//! are read as signed 32-bit values, as Kite documents them, where the client reads
//! them unsigned (`tests/fixtures/kite-ticker/README.md`, last section). Prices print as
//! exact decimals (`725.5`, `0.0`); the client's floats are the nearest doubles to them.

use std::fmt::Write;

use super::{DecodeError, Depth, Layout, Message, Packet, Packets};
use crate::model::Price;

/// Appends `{"ticks":[...]}` for `message` to `out`, or, when the official client
/// would raise, appends nothing and returns why.
///
/// # Errors
/// [`DecodeError::MissingLength`] when the packet count overruns the message, and
/// [`DecodeError::TooShort`] for a packet with no room for its token.
///
/// # Examples
/// ```
/// use tickpipe::feed::kite::official;
/// let msg = [0x00, 0x01, 0x00, 0x08, 0x00, 0x0b, 0x45, 0x01, 0x00, 0x01, 0xf6, 0xfd];
/// let mut out = String::new();
/// official::write_ticks(&msg, &mut out).unwrap();
/// assert_eq!(
///     out,
///     r#"{"ticks":[{"tradable":true,"mode":"ltp","instrument_token":738561,"last_price":1287.65}]}"#
/// );
/// ```
pub fn write_ticks(message: &[u8], out: &mut String) -> Result<(), DecodeError> {
    let packets = match Message::parse(message) {
        Message::Packets(packets) => Some(packets),
        Message::Heartbeat => None,
    };
    // The client splits the whole message before it reads any packet, so check
    // everything that would make it raise first.
    for item in packets.clone().into_iter().flatten() {
        let slice = item?;
        let count = packets.as_ref().map_or(0, Packets::declared);
        if !slice.is_complete() && slice.index + 1 < count {
            // The client's cursor has passed the end, so the next length read fails.
            return Err(DecodeError::MissingLength {
                index: slice.index + 1,
                count,
            });
        }
        let bytes = slice.bytes;
        if bytes.len() < 4 {
            return Err(DecodeError::TooShort {
                len: bytes.len() as u16,
            });
        }
    }
    out.push_str(r#"{"ticks":["#);
    let mut first = true;
    for item in packets.into_iter().flatten() {
        let Ok(bytes) = item.map(|slice| slice.bytes) else {
            continue;
        };
        let Ok(packet) = Packet::decode(bytes) else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        let depth = match packet.layout {
            Layout::Full => Depth::decode(bytes).ok(),
            _ => None,
        };
        write_tick(&packet, depth.as_ref(), out);
    }
    out.push_str("]}");
    Ok(())
}

/// Appends one tick as the official client's dict, keys in its order.
pub fn write_tick(p: &Packet, depth: Option<&Depth>, out: &mut String) {
    let _ = write!(
        out,
        r#"{{"tradable":{},"mode":"{}","instrument_token":{},"last_price":"#,
        p.is_tradable(),
        p.mode().name(),
        p.instrument_token
    );
    write_price(p.last_price, out);
    if p.layout == Layout::Ltp {
        out.push('}');
        return;
    }
    let o = &p.ohlc;
    let ohlc = if p.layout.is_index() {
        [
            ("high", o.high),
            ("low", o.low),
            ("open", o.open),
            ("close", o.close),
        ]
    } else {
        let _ = write!(
            out,
            r#","last_traded_quantity":{},"average_traded_price":"#,
            p.last_traded_quantity
        );
        write_price(p.average_traded_price, out);
        let _ = write!(
            out,
            r#","volume_traded":{},"total_buy_quantity":{},"total_sell_quantity":{}"#,
            p.volume_traded, p.total_buy_quantity, p.total_sell_quantity
        );
        [
            ("open", o.open),
            ("high", o.high),
            ("low", o.low),
            ("close", o.close),
        ]
    };
    out.push_str(r#","ohlc":{"#);
    for (i, (key, price)) in ohlc.into_iter().enumerate() {
        let _ = write!(out, r#"{}"{key}":"#, if i == 0 { "" } else { "," });
        write_price(price, out);
    }
    out.push_str(r#"},"change":"#);
    match p.change_percent() {
        // `{:?}` is the shortest text that reads back as the same double, like
        // Python's repr (exponent form for very small or large values).
        Some(change) => {
            let _ = write!(out, "{change:?}");
        }
        None => out.push('0'),
    }
    match p.layout {
        Layout::IndexFull => {
            let _ = write!(out, r#","exchange_timestamp":{}"#, p.exchange_timestamp);
        }
        Layout::Full => {
            let _ = write!(
                out,
                r#","last_trade_time":{},"oi":{},"oi_day_high":{},"oi_day_low":{},"exchange_timestamp":{}"#,
                p.last_trade_time, p.oi, p.oi_day_high, p.oi_day_low, p.exchange_timestamp
            );
            if let Some(depth) = depth {
                write_depth(depth, out);
            }
        }
        _ => {}
    }
    out.push('}');
}

fn write_depth(depth: &Depth, out: &mut String) {
    out.push_str(r#","depth":{"#);
    for (side, levels) in [("buy", &depth.buy), ("sell", &depth.sell)] {
        let _ = write!(out, r#"{}"{side}":["#, if side == "buy" { "" } else { "," });
        for (i, level) in levels.iter().enumerate() {
            let _ = write!(
                out,
                r#"{}{{"quantity":{},"price":"#,
                if i == 0 { "" } else { "," },
                level.quantity
            );
            write_price(level.price, out);
            let _ = write!(out, r#","orders":{}}}"#, level.orders);
        }
        out.push(']');
    }
    out.push('}');
}

/// Writes a price as the shortest exact decimal with at least one fractional digit
/// (`725.5`, `0.0`, `83.1234567`), the way Python prints the client's floats.
pub fn write_price(price: Price, out: &mut String) {
    let start = out.len();
    let _ = write!(out, "{price}");
    let trimmed = out[start..].trim_end_matches('0').len();
    let keep = if out[start..start + trimmed].ends_with('.') {
        trimmed + 1
    } else {
        trimmed
    };
    out.truncate(start + keep);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(text: &str) -> String {
        let mut out = String::new();
        write_price(text.parse().unwrap(), &mut out);
        out
    }

    #[test]
    fn prices_print_like_python_floats() {
        assert_eq!(price("725.50"), "725.5");
        assert_eq!(price("0"), "0.0");
        assert_eq!(price("26009"), "26009.0");
        assert_eq!(price("0.0000001"), "0.0000001");
        assert_eq!(price("-0.01"), "-0.01");
    }

    #[test]
    fn official_failures_fail_the_whole_message() {
        let mut out = String::new();
        // Two packets promised, one present.
        let msg = [0, 2, 0, 8, 0, 0, 1, 1, 0, 0, 0, 5];
        assert_eq!(
            write_ticks(&msg, &mut out),
            Err(DecodeError::MissingLength { index: 1, count: 2 })
        );
        // A cut packet with another announced after it.
        let msg = [0, 2, 0, 44, 0, 0, 1, 1, 0, 0, 0, 5];
        assert_eq!(
            write_ticks(&msg, &mut out),
            Err(DecodeError::MissingLength { index: 1, count: 2 })
        );
        // A 2-byte packet before a good one.
        let msg = [0, 2, 0, 2, 1, 1, 0, 8, 0, 0, 1, 1, 0, 0, 0, 5];
        assert_eq!(
            write_ticks(&msg, &mut out),
            Err(DecodeError::TooShort { len: 2 })
        );
        assert!(out.is_empty());
    }

    #[test]
    fn a_cut_packet_is_read_by_its_actual_length() {
        // Declared 44 bytes, 8 present: the client reads an LTP packet.
        let msg = [0, 1, 0, 44, 0, 0, 1, 1, 0, 0, 0, 5];
        let mut out = String::new();
        write_ticks(&msg, &mut out).unwrap();
        assert_eq!(
            out,
            r#"{"ticks":[{"tradable":true,"mode":"ltp","instrument_token":257,"last_price":0.05}]}"#
        );
    }
}
