//! Data-quality checks the live connection threads apply to each tick before it
//! enters the ring (counted in the link state, shown by `status` as `feed_link`).
//!
//! What is checked where:
//! - a stale link: the connection thread's stale flag ([`MarketSource::is_stale`](super::MarketSource::is_stale));
//! - duplicate and out-of-order ticks: TrueData's per-symbol sequence numbers
//!   ([`TrueDataMarket`](super::truedata::TrueDataMarket)), skipped and counted;
//! - market time going back: raised to the previous tick's and counted (`clamped`);
//! - a crossed book: [`is_crossed`], counted and passed on (the exchange's book is what
//!   it is; strategies see the same tick a replay would).

use crate::model::Tick;

/// True when both sides are quoted and the best bid is above the best ask.
///
/// # Examples
/// ```
/// use tickpipe::feed::is_crossed;
/// use tickpipe::model::{InstrumentId, Price, Tick, TickKind, UnixNanos};
/// let mut t = Tick {
///     exchange_ts: UnixNanos(1), ingress: Default::default(), last: Price::from_paise(100),
///     bid: Price::from_paise(101), ask: Price::from_paise(100), instrument: InstrumentId(0),
///     volume: 0, last_qty: 0, bid_qty: 1, ask_qty: 1, kind: TickKind::Quote,
/// };
/// assert!(is_crossed(&t));
/// t.ask = Price::ZERO; // one side empty: not crossed
/// assert!(!is_crossed(&t));
/// ```
pub fn is_crossed(tick: &Tick) -> bool {
    tick.bid.is_positive() && tick.ask.is_positive() && tick.bid > tick.ask
}
