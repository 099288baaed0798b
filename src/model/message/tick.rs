use crate::model::{InstrumentId, Price, ScheduledCommand, Stamp, UnixNanos};

/// Whether a tick reports a trade or only a quote change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TickKind {
    /// A trade happened: `last`, `last_qty` and `volume` moved.
    Trade = 1,
    /// Only the best bid/ask changed.
    Quote = 2,
}

/// One market data update for one instrument: last trade and best bid/ask.
///
/// Prices are exact decimals; quantities are `u32` as Kite sends them. `ingress` is
/// stamped when the tick entered the engine and travels with everything it causes, so
/// the order stage can record tick-to-intent latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Tick {
    /// Exchange (market) time of the update.
    pub exchange_ts: UnixNanos,
    /// Monotonic stamp at feed ingress.
    pub ingress: Stamp,
    /// Last traded price.
    pub last: Price,
    /// Best bid (zero when there is none).
    pub bid: Price,
    /// Best ask (zero when there is none).
    pub ask: Price,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Cumulative traded volume of the day.
    pub volume: u32,
    /// Quantity of the last trade.
    pub last_qty: u32,
    /// Quantity at the best bid.
    pub bid_qty: u32,
    /// Quantity at the best ask.
    pub ask_qty: u32,
    /// Trade or quote.
    pub kind: TickKind,
}

const _: () = assert!(std::mem::size_of::<Tick>() == 64);

impl Tick {
    /// The mid price, or `last` when one side of the book is empty.
    pub fn mid(&self) -> Price {
        if self.bid.is_positive() && self.ask.is_positive() {
            Price::from_raw(
                self.bid.raw() / 2
                    + self.ask.raw() / 2
                    + (self.bid.raw() % 2 + self.ask.raw() % 2) / 2,
            )
        } else {
            self.last
        }
    }
}

/// A news item about one instrument with a sentiment score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct News {
    /// Market time of publication.
    pub exchange_ts: UnixNanos,
    /// Monotonic stamp at feed ingress.
    pub ingress: Stamp,
    /// The instrument it is about.
    pub instrument: InstrumentId,
    /// Sentiment in per-mille, −1000 (very negative) to +1000 (very positive).
    pub sentiment_milli: i16,
}

const _: () = assert!(std::mem::size_of::<News>() <= 32);

/// What the feed stage hands the signal stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketEvent {
    /// A tick.
    Tick(Tick),
    /// A news item.
    News(News),
    /// An operator's command scheduled at a market time, in stream order.
    Control(ScheduledCommand),
}

// The tag lives in `Tick::kind`'s unused values, so the enum is one cache line.
const _: () = assert!(std::mem::size_of::<MarketEvent>() == 64);

impl MarketEvent {
    /// Market time of the event.
    pub fn exchange_ts(&self) -> UnixNanos {
        match self {
            MarketEvent::Tick(t) => t.exchange_ts,
            MarketEvent::News(n) => n.exchange_ts,
            MarketEvent::Control(c) => c.exchange_ts,
        }
    }

    /// The ingress stamp (zero while unset).
    pub fn ingress(&self) -> Stamp {
        match self {
            MarketEvent::Tick(t) => t.ingress,
            MarketEvent::News(n) => n.ingress,
            MarketEvent::Control(c) => c.ingress,
        }
    }

    /// The instrument a tick or news item is about (`None` for a control command).
    pub fn instrument(&self) -> Option<InstrumentId> {
        match self {
            MarketEvent::Tick(t) => Some(t.instrument),
            MarketEvent::News(n) => Some(n.instrument),
            MarketEvent::Control(_) => None,
        }
    }

    /// Sets the ingress stamp.
    pub fn set_ingress(&mut self, stamp: Stamp) {
        match self {
            MarketEvent::Tick(t) => t.ingress = stamp,
            MarketEvent::News(n) => n.ingress = stamp,
            MarketEvent::Control(c) => c.ingress = stamp,
        }
    }
}
