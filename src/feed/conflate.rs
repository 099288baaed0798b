//! Backpressure for live sources: conflation per instrument.
//!
//! A replay file can wait for a full ring; a socket cannot (the exchange does not pause,
//! and a connection thread that stops reading is disconnected). So when the ring from a
//! live feed's connection thread to the feed stage is full, the thread keeps at most one
//! unsent tick per instrument: a newer tick of the same instrument replaces the pending
//! one. Nothing cumulative is lost, because every live tick carries its instrument's full
//! state (last price and quantity, day volume, best bid/ask); a pending trade replaced by
//! a quote stays marked a trade, so the signal stage still sees that one happened. The
//! pending ticks go out, oldest first, as the ring frees.

use std::collections::VecDeque;

use tickpipe_ringbuf::{Producer, PushError};

use crate::model::{MarketEvent, Tick, TickKind};

/// What became of an offered tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Pushed into the ring.
    Sent,
    /// The ring was full: held until it frees.
    Held,
    /// The ring was full and the instrument already had a pending tick, which this one
    /// replaced.
    Conflated,
}

/// The pending slot table of one live connection thread (cold: it allocates only at
/// construction, and works in time linear in the instruments only under backpressure).
///
/// # Examples
/// ```
/// use tickpipe::feed::{Conflator, Offered};
/// use tickpipe::model::{InstrumentId, MarketEvent, Price, Tick, TickKind, UnixNanos};
/// let tick = |id: u32, last: i64| Tick {
///     exchange_ts: UnixNanos(1), ingress: Default::default(), last: Price::from_paise(last),
///     bid: Price::ZERO, ask: Price::ZERO, instrument: InstrumentId(id), volume: 0,
///     last_qty: 0, bid_qty: 0, ask_qty: 0, kind: TickKind::Quote,
/// };
/// let (mut tx, mut rx) = tickpipe_ringbuf::try_channel::<MarketEvent>(2).unwrap();
/// let mut c = Conflator::new(2);
/// assert_eq!(c.offer(&mut tx, tick(0, 1)), Offered::Sent);
/// assert_eq!(c.offer(&mut tx, tick(1, 1)), Offered::Sent);
/// assert_eq!(c.offer(&mut tx, tick(0, 2)), Offered::Held);
/// assert_eq!(c.offer(&mut tx, tick(0, 3)), Offered::Conflated);
/// rx.try_pop().unwrap();
/// assert_eq!(c.flush(&mut tx), 1);
/// rx.try_pop().unwrap();
/// match rx.try_pop().unwrap() {
///     MarketEvent::Tick(t) => assert_eq!(t.last, Price::from_paise(3)),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!((c.pending(), c.conflated()), (0, 1));
/// ```
#[derive(Debug)]
pub struct Conflator {
    /// The unsent tick of each instrument, by id.
    pending: Vec<Option<Tick>>,
    /// Instruments with a pending tick, oldest first.
    order: VecDeque<u32>,
    conflated: u64,
}

impl Conflator {
    /// A table for `instruments` instruments.
    pub fn new(instruments: usize) -> Conflator {
        Conflator {
            pending: vec![None; instruments],
            order: VecDeque::with_capacity(instruments),
            conflated: 0,
        }
    }

    /// Sends what is pending, then `tick`, or holds it.
    ///
    /// # Panics
    /// If the tick's instrument is outside the table.
    pub fn offer(&mut self, tx: &mut Producer<MarketEvent>, tick: Tick) -> Offered {
        self.flush(tx);
        let index = tick.instrument.index();
        if self.order.is_empty() {
            match tx.try_push(MarketEvent::Tick(tick)) {
                Ok(()) => return Offered::Sent,
                Err(PushError::Full(_)) => {}
            }
        }
        match &mut self.pending[index] {
            Some(older) => {
                let trade = older.kind == TickKind::Trade || tick.kind == TickKind::Trade;
                *older = Tick {
                    kind: if trade { TickKind::Trade } else { tick.kind },
                    ..tick
                };
                self.conflated += 1;
                // Move it behind the others, so what goes out stays in market-time
                // order: its time is now the newest.
                let at = tick.instrument.0;
                if let Some(position) = self.order.iter().position(|&i| i == at) {
                    self.order.remove(position);
                }
                self.order.push_back(at);
                Offered::Conflated
            }
            slot @ None => {
                *slot = Some(tick);
                self.order.push_back(tick.instrument.0);
                Offered::Held
            }
        }
    }

    /// Pushes pending ticks, oldest first, while the ring has room; the number sent.
    pub fn flush(&mut self, tx: &mut Producer<MarketEvent>) -> usize {
        let mut sent = 0;
        while let Some(&at) = self.order.front() {
            let index = at as usize;
            let Some(tick) = self.pending[index] else {
                self.order.pop_front();
                continue;
            };
            match tx.try_push(MarketEvent::Tick(tick)) {
                Ok(()) => {
                    self.pending[index] = None;
                    self.order.pop_front();
                    sent += 1;
                }
                Err(PushError::Full(_)) => break,
            }
        }
        sent
    }

    /// Ticks waiting for room.
    pub fn pending(&self) -> usize {
        self.order.len()
    }

    /// Ticks replaced by a newer one of their instrument so far.
    pub fn conflated(&self) -> u64 {
        self.conflated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, Price, UnixNanos};

    fn tick(id: u32, ts: u64, volume: u32, kind: TickKind) -> Tick {
        Tick {
            exchange_ts: UnixNanos(ts),
            ingress: Default::default(),
            last: Price::from_paise(i64::from(volume)),
            bid: Price::ZERO,
            ask: Price::ZERO,
            instrument: InstrumentId(id),
            volume,
            last_qty: 1,
            bid_qty: 0,
            ask_qty: 0,
            kind,
        }
    }

    #[test]
    fn a_burst_into_a_tiny_ring_keeps_the_newest_per_instrument_in_time_order() {
        let (mut tx, mut rx) = tickpipe_ringbuf::try_channel::<MarketEvent>(4).unwrap();
        let mut c = Conflator::new(3);
        let mut offered = [0u64; 3];
        let mut counts = (0u64, 0u64, 0u64);
        for n in 0..30u32 {
            let id = n % 3;
            // Instrument 2 trades once, after the ring filled, then only quotes.
            let kind = if id != 2 || n == 5 {
                TickKind::Trade
            } else {
                TickKind::Quote
            };
            offered[id as usize] += 1;
            match c.offer(&mut tx, tick(id, u64::from(n), n, kind)) {
                Offered::Sent => counts.0 += 1,
                Offered::Held => counts.1 += 1,
                Offered::Conflated => counts.2 += 1,
            }
        }
        assert_eq!(counts.0, 4, "the ring's four slots");
        assert_eq!(c.pending(), 3);
        assert_eq!(counts.2, c.conflated());
        assert_eq!(counts.0 + counts.1 + counts.2, 30);
        let mut out = Vec::new();
        loop {
            while let Ok(MarketEvent::Tick(t)) = rx.try_pop() {
                out.push(t);
            }
            if c.flush(&mut tx) == 0 && c.pending() == 0 {
                break;
            }
        }
        // Everything sent or pending came out; the rest was conflated.
        assert_eq!(out.len() as u64 + c.conflated(), 30);
        // The last of each instrument is its newest tick, whole.
        for id in 0..3u32 {
            let last = out.iter().rev().find(|t| t.instrument.0 == id).unwrap();
            assert_eq!(last.volume, 27 + id, "instrument {id}");
        }
        // Instrument 2's one trade was held and then replaced by quotes: still a trade.
        let two = out.iter().rev().find(|t| t.instrument.0 == 2).unwrap();
        assert_eq!(two.kind, TickKind::Trade);
        assert!(out.windows(2).all(|w| w[0].exchange_ts <= w[1].exchange_ts));
    }
}
