//! The engine's decoder: binary messages in, packets out, bad input counted and skipped.

use super::{DecodeError, Depth, Layout, Message, Packet};
use crate::model::{InstrumentId, Tick, TickKind, UnixNanos};

/// What [`KiteDecoder::decode`] hands its callback, one call per item of a message.
#[derive(Debug, Clone, Copy)]
pub enum Decoded<'a> {
    /// The message was a heartbeat.
    Heartbeat,
    /// A good packet; `depth` is there for full-mode (184-byte) packets.
    Packet {
        /// The packet's fields.
        packet: &'a Packet,
        /// Its five levels per side, for full mode.
        depth: Option<&'a Depth>,
    },
    /// Something was skipped. `first_of_kind` is true the first time this decoder meets
    /// this kind of error, so a caller can log each kind once and count the rest.
    Skipped {
        /// What was wrong.
        error: DecodeError,
        /// First error of this kind seen by this decoder.
        first_of_kind: bool,
    },
}

/// Decodes Kite Ticker binary messages strictly, counting what it skips.
///
/// Unlike the official clients it never decodes a packet the message cuts short, and
/// it reports a packet count that overruns the message instead of failing the packets
/// before it. Decoding allocates nothing: packets and depth live on the stack and are
/// lent to the callback.
///
/// # Examples
/// ```
/// use tickpipe::feed::kite::{Decoded, KiteDecoder};
/// let msg = [0x00, 0x01, 0x00, 0x08, 0x00, 0x0d, 0x80, 0x01, 0x00, 0x00, 0x99, 0x7f];
/// let mut decoder = KiteDecoder::default();
/// let mut prices = Vec::new();
/// decoder.decode(&msg, |d| {
///     if let Decoded::Packet { packet, .. } = d {
///         prices.push(packet.last_price.to_string());
///     }
/// });
/// decoder.decode(&msg[..10], |_| {}); // cut short: counted, skipped
/// assert_eq!(prices, ["392.95"]);
/// assert_eq!(decoder.packets(), 1);
/// assert_eq!(decoder.skipped_total(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct KiteDecoder {
    packets: u64,
    heartbeats: u64,
    skipped: [u64; DecodeError::KINDS],
}

impl KiteDecoder {
    /// Decodes one binary message, calling `on` for the heartbeat, each good packet and
    /// each problem, in wire order.
    pub fn decode(&mut self, message: &[u8], mut on: impl FnMut(Decoded<'_>)) {
        let mut packets = match Message::parse(message) {
            Message::Heartbeat => {
                self.heartbeats += 1;
                on(Decoded::Heartbeat);
                return;
            }
            Message::Packets(packets) => packets,
        };
        for item in packets.by_ref() {
            let decoded = item
                .and_then(|slice| match slice.truncation() {
                    Some(error) => Err(error),
                    None => Ok(slice.bytes),
                })
                .and_then(|bytes| Packet::decode(bytes).map(|packet| (packet, bytes)));
            match decoded {
                Ok((packet, bytes)) => {
                    self.packets += 1;
                    let depth = match packet.layout {
                        Layout::Full => Depth::decode(bytes).ok(),
                        _ => None,
                    };
                    on(Decoded::Packet {
                        packet: &packet,
                        depth: depth.as_ref(),
                    });
                }
                Err(error) => on(self.skip(error)),
            }
        }
        let extra = packets.trailing().len();
        if extra > 0 {
            on(self.skip(DecodeError::TrailingBytes {
                extra: u16::try_from(extra).unwrap_or(u16::MAX),
            }));
        }
    }

    fn skip(&mut self, error: DecodeError) -> Decoded<'static> {
        let count = &mut self.skipped[error.kind_index()];
        *count += 1;
        Decoded::Skipped {
            error,
            first_of_kind: *count == 1,
        }
    }

    /// Good packets decoded so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Heartbeats seen so far.
    pub fn heartbeats(&self) -> u64 {
        self.heartbeats
    }

    /// Problems of each kind so far, in [`DecodeError::KIND_NAMES`] order.
    pub fn skipped(&self) -> [u64; DecodeError::KINDS] {
        self.skipped
    }

    /// Problems of every kind so far.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().sum()
    }
}

impl Packet {
    /// The engine's [`Tick`] for this packet, without allocation.
    ///
    /// `instrument` is the engine's id for [`instrument_token`](Packet::instrument_token)
    /// (the instrument master maps one to the other). Bid and ask come from the best
    /// levels of `depth` (zero without depth, as in LTP and quote mode). The market time
    /// is the exchange timestamp, or the last trade time, or zero when the mode carries
    /// neither (a live source then stamps its receive time). Kite does not say whether a
    /// packet reports a trade: an LTP packet is taken as one, and any other packet is a
    /// trade when its day volume rose above `previous_volume`, the volume of the
    /// instrument's previous packet (`None` for the first of the day).
    pub fn to_tick(
        &self,
        instrument: InstrumentId,
        depth: Option<&Depth>,
        previous_volume: Option<u32>,
    ) -> Tick {
        let secs = match (self.exchange_timestamp, self.last_trade_time) {
            (0, ltt) => ltt,
            (ts, _) => ts,
        };
        let bid = depth.and_then(Depth::best_bid).unwrap_or_default();
        let ask = depth.and_then(Depth::best_ask).unwrap_or_default();
        let traded = match (self.layout, previous_volume) {
            (Layout::Ltp, _) => true,
            (_, Some(before)) => self.volume_traded > before,
            (_, None) => false,
        };
        Tick {
            exchange_ts: UnixNanos(u64::from(secs) * 1_000_000_000),
            ingress: Default::default(),
            last: self.last_price,
            bid: bid.price,
            ask: ask.price,
            instrument,
            volume: self.volume_traded,
            last_qty: if traded { self.last_traded_quantity } else { 0 },
            bid_qty: bid.quantity,
            ask_qty: ask.quantity,
            kind: if traded {
                TickKind::Trade
            } else {
                TickKind::Quote
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Price;

    fn frame(packets: &[&[u8]]) -> Vec<u8> {
        let mut out = (packets.len() as u16).to_be_bytes().to_vec();
        for p in packets {
            out.extend_from_slice(&(p.len() as u16).to_be_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    fn ltp(token: u32, price: u32) -> Vec<u8> {
        [token.to_be_bytes(), price.to_be_bytes()].concat()
    }

    fn run(decoder: &mut KiteDecoder, msg: &[u8]) -> (Vec<u32>, Vec<DecodeError>) {
        let (mut tokens, mut errors) = (Vec::new(), Vec::new());
        decoder.decode(msg, |d| match d {
            Decoded::Packet { packet, .. } => tokens.push(packet.instrument_token),
            Decoded::Skipped { error, .. } => errors.push(error),
            Decoded::Heartbeat => {}
        });
        (tokens, errors)
    }

    #[test]
    fn a_bad_packet_does_not_shift_the_next() {
        let odd = [9u8; 12];
        let msg = frame(&[&ltp(1, 100), &odd, &[1, 2], &ltp(2, 200)]);
        let mut d = KiteDecoder::default();
        let (tokens, errors) = run(&mut d, &msg);
        assert_eq!(tokens, [1, 2]);
        assert_eq!(
            errors,
            [
                DecodeError::UnknownLength { len: 12 },
                DecodeError::TooShort { len: 2 }
            ]
        );
        assert_eq!(d.skipped(), [0, 0, 1, 1, 0]);
    }

    #[test]
    fn cut_and_overrunning_messages_keep_their_complete_packets() {
        let mut d = KiteDecoder::default();
        let msg = frame(&[&ltp(1, 100), &ltp(2, 200)]);
        let (tokens, errors) = run(&mut d, &msg[..msg.len() - 1]);
        assert_eq!(tokens, [1]);
        assert_eq!(
            errors,
            [DecodeError::Truncated {
                index: 1,
                declared: 8,
                present: 7
            }]
        );
        let mut overrun = msg.clone();
        overrun[1] = 3;
        let (tokens, errors) = run(&mut d, &overrun);
        assert_eq!(tokens, [1, 2]);
        assert_eq!(errors, [DecodeError::MissingLength { index: 2, count: 3 }]);
        let mut trailing = msg;
        trailing.push(0);
        let (tokens, errors) = run(&mut d, &trailing);
        assert_eq!(tokens, [1, 2]);
        assert_eq!(errors, [DecodeError::TrailingBytes { extra: 1 }]);
    }

    #[test]
    fn heartbeats_are_counted() {
        let mut d = KiteDecoder::default();
        let mut beats = 0;
        d.decode(&[0], |x| {
            beats += u32::from(matches!(x, Decoded::Heartbeat))
        });
        assert_eq!((beats, d.heartbeats(), d.packets()), (1, 1, 0));
    }

    #[test]
    fn ticks_take_the_best_levels_and_detect_trades() {
        let mut b = [0u8; 184];
        b[0..4].copy_from_slice(&408_065u32.to_be_bytes());
        b[4..8].copy_from_slice(&157_370u32.to_be_bytes());
        b[8..12].copy_from_slice(&7u32.to_be_bytes());
        b[16..20].copy_from_slice(&1_000u32.to_be_bytes());
        b[60..64].copy_from_slice(&1_625_461_887u32.to_be_bytes());
        b[64..68].copy_from_slice(&5u32.to_be_bytes());
        b[68..72].copy_from_slice(&157_340u32.to_be_bytes());
        b[124..128].copy_from_slice(&172u32.to_be_bytes());
        b[128..132].copy_from_slice(&157_370u32.to_be_bytes());
        let p = Packet::decode(&b).unwrap();
        let depth = Depth::decode(&b).unwrap();
        let t = p.to_tick(InstrumentId(3), Some(&depth), Some(990));
        assert_eq!(t.kind, TickKind::Trade);
        assert_eq!((t.bid.to_string(), t.bid_qty), ("1573.40".into(), 5));
        assert_eq!((t.ask.to_string(), t.ask_qty), ("1573.70".into(), 172));
        assert_eq!(t.exchange_ts.secs(), 1_625_461_887);
        assert_eq!((t.volume, t.last_qty), (1_000, 7));
        let q = p.to_tick(InstrumentId(3), None, Some(1_000));
        assert_eq!(
            (q.kind, q.last_qty, q.bid),
            (TickKind::Quote, 0, Price::ZERO)
        );
    }
}
