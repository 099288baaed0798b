//! Kite Ticker messages: the engine's strict decoder, the official client's reading
//! (`feed decode`), and text messages.

use crate::{
    feed::kite::{official, DecodeError, Decoded, KiteDecoder, Layout, TextMessage},
    model::InstrumentId,
};

/// One WebSocket message, read as a binary message by both decoders and, when it is
/// UTF-8, as a text message.
///
/// Checks, besides not panicking:
/// - a message shorter than 2 bytes is one heartbeat and nothing else;
/// - the strict decoder reports at most one item per packet the message declares, and
///   the packets it decodes fit in the message (length prefixes included);
/// - its counters agree with what it reported, and `first_of_kind` is set exactly once
///   per kind of error;
/// - depth comes with a full-mode packet and only with one;
/// - `official::write_ticks` writes valid JSON with at most one tick per declared
///   packet and at least one per packet the strict decoder decoded (it also reads a
///   cut last packet), or, when it fails, writes nothing and names one of its two
///   documented errors.
pub fn kite_ticker(data: &[u8]) {
    let strict = strict(data);
    official_json(data, strict);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(message) = TextMessage::parse(text) {
            let _ = format!("{message:?}");
        }
    }
}

/// The packet count a message declares (0 for a heartbeat).
fn declared(data: &[u8]) -> u64 {
    match data {
        [hi, lo, ..] => u64::from(u16::from_be_bytes([*hi, *lo])),
        _ => 0,
    }
}

/// Runs the strict decoder; returns how many packets it decoded.
fn strict(data: &[u8]) -> u64 {
    let mut decoder = KiteDecoder::default();
    let (mut heartbeats, mut packets, mut packet_errors, mut trailing) = (0u64, 0u64, 0u64, 0u64);
    let mut packet_bytes = 0usize;
    let mut firsts = [0u64; DecodeError::KINDS];
    decoder.decode(data, |item| match item {
        Decoded::Heartbeat => heartbeats += 1,
        Decoded::Packet { packet, depth } => {
            packets += 1;
            packet_bytes += 2 + packet.layout.packet_len();
            assert_eq!(
                depth.is_some(),
                packet.layout == Layout::Full,
                "depth for a {:?} packet",
                packet.layout
            );
            // What the feed stage makes of it must not panic either.
            let _ = packet.to_tick(InstrumentId(0), depth, Some(0));
            let _ = packet.change_percent();
        }
        Decoded::Skipped {
            error,
            first_of_kind,
        } => {
            if first_of_kind {
                firsts[error.kind_index()] += 1;
            }
            match error {
                DecodeError::TrailingBytes { extra } => {
                    assert!(extra > 0, "trailing bytes reported with none");
                    trailing += 1;
                }
                _ => packet_errors += 1,
            }
            assert!(!error.to_string().is_empty());
        }
    });
    if data.len() < 2 {
        assert_eq!(
            (heartbeats, packets, packet_errors + trailing),
            (1, 0, 0),
            "a message of {} bytes is one heartbeat",
            data.len()
        );
    } else {
        assert_eq!(
            heartbeats,
            0,
            "a {}-byte message is no heartbeat",
            data.len()
        );
        assert!(
            packets + packet_errors <= declared(data),
            "{packets} packets and {packet_errors} errors from a message declaring {}",
            declared(data)
        );
        assert!(trailing <= 1, "trailing bytes reported {trailing} times");
        assert!(
            2 + packet_bytes <= data.len(),
            "decoded packets span {} bytes of a {}-byte message",
            2 + packet_bytes,
            data.len()
        );
    }
    assert_eq!(decoder.packets(), packets);
    assert_eq!(decoder.heartbeats(), heartbeats);
    assert_eq!(decoder.skipped_total(), packet_errors + trailing);
    for (kind, count) in decoder.skipped().into_iter().enumerate() {
        assert_eq!(
            firsts[kind],
            u64::from(count > 0),
            "first_of_kind for {}",
            DecodeError::KIND_NAMES[kind]
        );
    }
    packets
}

/// Runs the official client's reading and checks it against the strict decoder's count.
fn official_json(data: &[u8], strict_packets: u64) {
    let mut out = String::new();
    match official::write_ticks(data, &mut out) {
        Ok(()) => {
            let value: serde_json::Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("`feed decode` wrote invalid JSON ({e}): {out}"));
            let ticks = value["ticks"]
                .as_array()
                .unwrap_or_else(|| panic!("no ticks array: {out}"));
            let ticks = ticks.len() as u64;
            assert!(
                ticks <= declared(data),
                "{ticks} ticks from a message declaring {}",
                declared(data)
            );
            // Every packet the strict decoder reads, the client reads too; it may add the
            // last packet when the message cuts it short.
            assert!(
                (strict_packets..=strict_packets + 1).contains(&ticks),
                "{ticks} official ticks, {strict_packets} strict packets"
            );
        }
        Err(error) => {
            assert!(out.is_empty(), "a failed message wrote {out}");
            assert!(
                matches!(
                    error,
                    DecodeError::MissingLength { .. } | DecodeError::TooShort { .. }
                ),
                "undocumented error {error:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_good_and_broken_messages_pass() {
        kite_ticker(&[]);
        kite_ticker(&[0]);
        // One LTP packet, then the same message cut, overrunning and with a trailer.
        let msg = [0, 1, 0, 8, 0, 0, 1, 1, 0, 0, 0, 5];
        kite_ticker(&msg);
        kite_ticker(&msg[..10]);
        kite_ticker(&[0, 3, 0, 8, 0, 0, 1, 1, 0, 0, 0, 5]);
        kite_ticker(&[0, 1, 0, 8, 0, 0, 1, 1, 0, 0, 0, 5, 0xee]);
        kite_ticker(br#"{"type":"order","data":{"price":1e300}}"#);
    }

    #[test]
    fn the_strict_count_is_checked() {
        assert_eq!(strict(&[0, 1, 0, 8, 0, 0, 1, 1, 0, 0, 0, 5]), 1);
        assert_eq!(strict(&[0, 1, 0, 8, 0, 0, 1, 1, 0, 0, 0]), 0);
    }
}
