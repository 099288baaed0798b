//! The index ETF: an exchange-traded fund on the index (NIFTYBEES for the NIFTY 50),
//! quoted in the cash market and tracking the index tick by tick.
//!
//! A strategy that trades the index itself needs something tradable that moves with
//! it; the index cannot be traded, and a future or an option brings lots, expiry and
//! a premium that decays. An index ETF is the cash-market answer: lot 1, tick 0.01,
//! priced at a fixed fraction of the index level.

use rand::{Rng, SeedableRng};
use rand_distr::{Exp1, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::{
    feed::universe::IndexSpec,
    model::{Instrument, InstrumentId, Price, SectorId, Stamp, Tick, TickKind, UnixNanos},
};

/// Units of the fund's net asset value per index point: NIFTYBEES quoted near ₹290
/// with the NIFTY 50 near 26 000 in late 2025, about 1/88 of the index level.
pub const NAV_PER_INDEX_POINT: f64 = 0.0113;
/// Tick size of NSE exchange-traded funds: one paisa.
pub const ETF_TICK: Price = Price::from_paise(1);

const NANOS: f64 = 1e9;
/// Mean tick rate at activity 1.0, per second: the fund is as busy as a heavy
/// constituent.
const RATE: f64 = 2.0;
/// Mean rupee value of a trade at activity 1.0.
const TRADE_VALUE: f64 = 150_000.0;
/// The premium to the index (market price over fair value, less one) reverts to zero on
/// this time scale, in seconds: arbitrageurs close gaps within a minute.
const PREMIUM_REVERSION_SECS: f64 = 30.0;
/// Noise of the premium per √second; with the reversion above its spread is about
/// 3 basis points, the tracking a liquid index ETF shows intraday.
const PREMIUM_VOL: f64 = 0.000_08;
/// Share of ticks that are trades (the rest move only the quote).
const TRADE_SHARE: f64 = 0.55;
/// Shortest gap between two ticks.
const MIN_GAP_NANOS: u64 = 1_000;
/// Mixed into the session seed to seed the fund's own generator, so adding the fund
/// left every other instrument's stream of the same seed as it was.
const STREAM: u64 = 0x4554_465f_4245_4553;

/// The trading symbol of the index's ETF: the index's F&O root plus `BEES`
/// (`NIFTYBEES`), as the oldest NSE index funds are named.
pub fn symbol(index: &IndexSpec) -> String {
    format!("{}BEES", index.fno_symbol)
}

/// The ETF as an instrument: an NSE cash equity of lot 1 and tick 0.01, in `sector`,
/// whose underlying is the index it tracks (so filters that compare a stock with the
/// index know this one *is* the index).
pub fn instrument(index: &IndexSpec, sector: SectorId) -> Instrument {
    Instrument {
        tick_size: ETF_TICK,
        underlying: Some(index.id),
        ..Instrument::nse_equity(&symbol(index), sector)
    }
}

/// The ETF's quotes and trades: fair value is [`NAV_PER_INDEX_POINT`] times the index
/// level computed from the constituents' last trades at the moment of the tick (the
/// fund's indicative value moves with every constituent trade, not once a second), times
/// one plus a small mean-reverting premium. The quote is one paisa wide (plus the
/// regime's extra ticks) around it, and a trade prints at the bid or the ask.
///
/// It draws from its own generator, seeded from the session seed, so the session stays
/// deterministic and the other instruments' draws do not depend on the fund's.
/// Nothing here allocates.
#[derive(Debug, Clone)]
pub struct IndexEtf {
    id: InstrumentId,
    rng: Xoshiro256PlusPlus,
    premium: f64,
    last_ts: u64,
    /// Prices in paise.
    last: i64,
    bid: i64,
    ask: i64,
    volume: u32,
    traded: bool,
}

impl IndexEtf {
    /// The fund `id` of a session seeded `seed` that opens at `start`.
    pub fn new(id: InstrumentId, seed: u64, start: u64) -> IndexEtf {
        IndexEtf {
            id,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ STREAM),
            premium: 0.0,
            last_ts: start,
            last: 0,
            bid: 0,
            ask: 0,
            volume: 0,
            traded: false,
        }
    }

    /// Its instrument id.
    pub fn id(&self) -> InstrumentId {
        self.id
    }

    /// Market time of the opening tick: in the first half second, as the stocks'.
    pub fn first_arrival(&mut self, start: u64) -> u64 {
        start + (self.rng.random::<f64>() * 0.5 * NANOS) as u64
    }

    /// Market time of the tick after one at `now`, with the tick rate multiplied by
    /// `activity` (the intraday curve times the session's rate scale).
    pub fn next_arrival(&mut self, now: u64, activity: f64) -> u64 {
        let rate = RATE * activity;
        if rate <= 0.0 {
            return u64::MAX;
        }
        let gap: f64 = self.rng.sample(Exp1);
        now.saturating_add((gap / rate * NANOS) as u64 + MIN_GAP_NANOS)
    }

    /// The tick at `now`, with the index at `level` points, the intraday `activity` and
    /// `extra_spread` ticks of regime spread.
    pub fn tick(&mut self, now: u64, level: f64, activity: f64, extra_spread: i64) -> Tick {
        let dt = now.saturating_sub(self.last_ts) as f64 / NANOS;
        self.last_ts = now;
        let z: f64 = self.rng.sample(StandardNormal);
        let keep = libm::exp(-dt / PREMIUM_REVERSION_SECS);
        self.premium = self.premium * keep + PREMIUM_VOL * libm::sqrt(dt) * z;
        let fair_paise = level * NAV_PER_INDEX_POINT * (1.0 + self.premium) * 100.0;
        let spread = 1 + extra_spread;
        let old_mid2 = self.bid + self.ask;
        self.bid = ((fair_paise - spread as f64 / 2.0).floor() as i64).max(1);
        self.ask = self.bid + spread;
        let moved = (self.bid + self.ask - old_mid2).signum();
        let mid = (self.bid + self.ask) as f64 / 200.0;
        let size = |scale: f64, rng: &mut Xoshiro256PlusPlus| {
            let z: f64 = rng.sample(StandardNormal);
            let value = TRADE_VALUE * scale * libm::exp(0.8 * z - 0.32);
            (value / mid).clamp(1.0, 5_000_000.0) as u32
        };
        let opening = if self.traded { 1.0 } else { 20.0 };
        let last_qty = size(libm::sqrt(activity) * opening, &mut self.rng);
        let bid_qty = size(2.0, &mut self.rng);
        let ask_qty = size(2.0, &mut self.rng);
        let trade = !self.traded || self.rng.random::<f64>() < TRADE_SHARE;
        self.traded = true;
        let kind = if trade {
            let buy_share = 0.5 + 0.2 * moved as f64;
            self.last = if self.rng.random::<f64>() < buy_share {
                self.ask
            } else {
                self.bid
            };
            self.volume = self.volume.saturating_add(last_qty);
            TickKind::Trade
        } else {
            TickKind::Quote
        };
        Tick {
            exchange_ts: UnixNanos(now),
            ingress: Stamp::default(),
            last: Price::from_paise(self.last),
            bid: Price::from_paise(self.bid),
            ask: Price::from_paise(self.ask),
            instrument: self.id,
            volume: self.volume,
            last_qty: if trade { last_qty } else { 0 },
            bid_qty,
            ask_qty,
            kind,
        }
    }
}
