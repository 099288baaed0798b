//! From decoded packets to the engine's market events: token to id, trade detection,
//! and market time that never goes back.

use crate::{
    feed::kite::{Depth, Packet},
    model::{InstrumentId, MarketEvent, UnixNanos},
};

/// Turns the packets of one subscription into [`MarketEvent`]s.
///
/// **Market time.** A full-mode packet carries the exchange timestamp (seconds), which
/// becomes the event's `exchange_ts` (the last trade time when the exchange timestamp is
/// zero). Quote and LTP packets carry no time at all, so their `exchange_ts` is the
/// receive time of the message on the market clock (the wall clock in UTC nanoseconds,
/// read once per message). The [`MarketSource`](crate::feed::MarketSource) seam promises
/// non-decreasing market time, so an event older than the one before it (instruments
/// updated at different seconds within one message, a receive time ahead of the next
/// exchange second) takes the previous event's time and is counted as clamped.
///
/// The first packet of an instrument in a day is a quote (its volume has nothing to be
/// compared with); after that a rise in day volume marks a trade, as
/// [`Packet::to_tick`] documents. The volume memory survives reconnections.
#[derive(Debug, Clone)]
pub struct MarketMapper {
    /// Subscribed tokens, sorted, with the id each stands for.
    by_token: Vec<(u32, InstrumentId)>,
    /// Day volume of each instrument's previous packet, by id.
    previous_volume: Vec<Option<u32>>,
    last_ts: UnixNanos,
    clamped: u64,
    unknown: u64,
}

impl MarketMapper {
    /// A mapper for `tokens` (token, id) of a table of `instruments` instruments.
    ///
    /// # Panics
    /// If an id is not below `instruments`.
    pub fn new(tokens: &[(u32, InstrumentId)], instruments: usize) -> MarketMapper {
        let mut by_token = tokens.to_vec();
        by_token.sort_unstable();
        by_token.dedup_by_key(|(token, _)| *token);
        assert!(
            by_token.iter().all(|(_, id)| id.index() < instruments),
            "an instrument id is outside the table"
        );
        MarketMapper {
            by_token,
            previous_volume: vec![None; instruments],
            last_ts: UnixNanos::default(),
            clamped: 0,
            unknown: 0,
        }
    }

    /// The event for one packet received at `received`, or `None` (counted) for a token
    /// that was not subscribed. Allocates nothing.
    pub fn event(
        &mut self,
        packet: &Packet,
        depth: Option<&Depth>,
        received: UnixNanos,
    ) -> Option<MarketEvent> {
        let Ok(at) = self
            .by_token
            .binary_search_by_key(&packet.instrument_token, |&(token, _)| token)
        else {
            self.unknown += 1;
            return None;
        };
        let id = self.by_token[at].1;
        let previous = &mut self.previous_volume[id.index()];
        let mut tick = packet.to_tick(id, depth, *previous);
        *previous = Some(packet.volume_traded);
        if tick.exchange_ts == UnixNanos::default() {
            tick.exchange_ts = received;
        }
        if tick.exchange_ts < self.last_ts {
            tick.exchange_ts = self.last_ts;
            self.clamped += 1;
        }
        self.last_ts = tick.exchange_ts;
        Some(MarketEvent::Tick(tick))
    }

    /// Events whose market time was raised to the previous event's.
    pub fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Packets for tokens outside the subscription, skipped.
    pub fn unknown(&self) -> u64 {
        self.unknown
    }

    /// The subscribed tokens, ascending.
    pub fn tokens(&self) -> impl Iterator<Item = u32> + '_ {
        self.by_token.iter().map(|&(token, _)| token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TickKind;

    fn packet(bytes: &[u8]) -> Packet {
        Packet::decode(bytes).unwrap()
    }

    fn ltp(token: u32, price: u32) -> Vec<u8> {
        [token.to_be_bytes(), price.to_be_bytes()].concat()
    }

    fn full(token: u32, volume: u32, ts: u32) -> Vec<u8> {
        let mut b = vec![0u8; 184];
        b[0..4].copy_from_slice(&token.to_be_bytes());
        b[4..8].copy_from_slice(&10_000u32.to_be_bytes());
        b[8..12].copy_from_slice(&3u32.to_be_bytes());
        b[16..20].copy_from_slice(&volume.to_be_bytes());
        b[60..64].copy_from_slice(&ts.to_be_bytes());
        b
    }

    fn ts(event: Option<MarketEvent>) -> u64 {
        event.unwrap().exchange_ts().0
    }

    #[test]
    fn times_come_from_the_exchange_or_the_receipt_and_never_go_back() {
        let mut m = MarketMapper::new(&[(256_265, InstrumentId(0)), (408_065, InstrumentId(1))], 2);
        let secs = |s: u64| UnixNanos(s * 1_000_000_000);
        // LTP packets carry no time: the receive time.
        assert_eq!(
            ts(m.event(&packet(&ltp(256_265, 1)), None, secs(100))),
            secs(100).0
        );
        // A full packet's exchange second, even when it is later than the receipt.
        assert_eq!(
            ts(m.event(&packet(&full(408_065, 5, 105)), None, secs(101))),
            secs(105).0
        );
        // Older than the last event: clamped and counted.
        assert_eq!(
            ts(m.event(&packet(&full(408_065, 6, 103)), None, secs(106))),
            secs(105).0
        );
        assert_eq!(
            ts(m.event(&packet(&ltp(256_265, 2)), None, secs(104))),
            secs(105).0
        );
        assert_eq!(m.clamped(), 2);
        // Not subscribed: skipped and counted.
        assert!(m.event(&packet(&ltp(7, 1)), None, secs(107)).is_none());
        assert_eq!(m.unknown(), 1);
    }

    #[test]
    fn a_volume_rise_after_the_first_packet_is_a_trade() {
        let mut m = MarketMapper::new(&[(408_065, InstrumentId(0))], 1);
        let kinds: Vec<TickKind> = [5, 5, 9]
            .iter()
            .map(
                |&v| match m.event(&packet(&full(408_065, v, 1)), None, UnixNanos(1)) {
                    Some(MarketEvent::Tick(t)) => t.kind,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert_eq!(kinds, [TickKind::Quote, TickKind::Quote, TickKind::Trade]);
    }
}
