//! The synthetic session: a [`MarketSource`] that generates a NIFTY 50 trading day.

use std::{cmp::Reverse, collections::BinaryHeap};

use rand::{Rng, SeedableRng};
use rand_distr::{Exp1, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{
    black_scholes,
    chain::{self, ChainOption},
    config::{SessionHours, SyntheticConfig},
    etf::{self, IndexEtf},
    factors::{Factors, STEP_NANOS},
    regime::{Regime, RegimeChain},
    volume_curve::VolumeCurve,
};
use crate::{
    feed::{
        instruments,
        universe::{self, IndexSpec, Universe},
        FeedError, MarketSource, SourcePoll,
    },
    model::{
        Date, InstrumentId, InstrumentTable, MarketEvent, News, OptionType, Price, Stamp, Tick,
        TickKind, TimeOfDay, UnixNanos,
    },
};

const NANOS: f64 = 1e9;
const YEAR_SECS: f64 = 365.0 * 86_400.0;

/// The index is disseminated once a second, as NSE does.
const INDEX_PERIOD_NANOS: u64 = 1_000_000_000;
/// Mean tick rate of a constituent at activity 1.0, per second.
const EQUITY_RATE: f64 = 1.4;
/// Mean tick rate of an option at activity 1.0, per second.
const OPTION_RATE: f64 = 0.45;
/// Idiosyncratic volatility of a stock per √second (about 0.75% a session).
const IDIO_VOL: f64 = 0.0075 / 150.0;
/// Share of equity and option ticks that are trades (the rest move only the quote).
const TRADE_SHARE: f64 = 0.55;
/// Log-price jump of news: at least this …
const NEWS_JUMP_MIN: f64 = 0.006;
/// … plus this times |sentiment|.
const NEWS_JUMP_PER_SENTIMENT: f64 = 0.012;
/// Market-factor jump of index news (a policy rate decision, a global shock): at least
/// this …
const INDEX_NEWS_JUMP_MIN: f64 = 0.002;
/// … plus this times |sentiment|: 0.38% to 0.8% of NIFTY for the drawn sentiments, a
/// large but ordinary day's reaction, where a stock's news moves it twice as much.
const INDEX_NEWS_JUMP_PER_SENTIMENT: f64 = 0.006;
/// Activity multiplier on every constituent and option for a while after index news.
const INDEX_NEWS_ACTIVITY: f64 = 2.0;
/// Smile: implied volatility change per unit of log-moneyness ln(K/S) (puts richer) …
const SKEW_SLOPE: f64 = -0.35;
/// … and per unit of its square.
const SKEW_CURVE: f64 = 3.0;
/// Shortest gap between two ticks of one instrument.
const MIN_GAP_NANOS: u64 = 1_000;

const NEWS_SLOT: u32 = u32::MAX - 1;
/// A news item's publication, `news_lag` after it moved prices.
const PUBLISH_SLOT: u32 = u32::MAX - 2;
/// News items moved into prices but not yet published; a handful at most (news comes
/// minutes apart, the lag is seconds), so the queue never grows past its first
/// allocation.
const PUBLISH_QUEUE: usize = 64;
const SPIKE_SLOT: u32 = u32::MAX;
/// The option chain's requote after index news.
const REQUOTE_SLOT: u32 = u32::MAX - 3;
/// How long after index news the option market makers have requoted the whole chain.
/// On NSE they price off the index futures, which take news within milliseconds; the
/// chain does not wait for each option's next trade.
const REQUOTE_DELAY_NANOS: u64 = 100_000_000;

/// A deterministic synthetic NSE trading day: the NIFTY 50 constituents, the NIFTY 50
/// index computed from them, a weekly NIFTY option chain and the index ETF (NIFTYBEES).
///
/// # The model
///
/// - **Prices.** A stock's log price is its open plus `beta ×` the market factor, plus
///   its sector's factor, plus its own random walk. The factors move on a 200 ms grid of
///   market time; the market factor's drift and volatility come from a [`Regime`] that a
///   Markov chain switches during the day. Prices are rounded to each instrument's own tick (its table
///   entry's `tick_size`: 0.01 or 0.05 for a share, as the universe CSV says); the
///   quote is one or a few ticks wide around the model price (wider in high volatility)
///   and a trade prints at the bid or the ask.
/// - **Index.** `NIFTY 50 = ref_level × Σ weight_i × last_i / ref_price_i` over the
///   constituents' last traded prices, with weights and reference values from the
///   universe CSV, published once a second as a `Trade` tick (no bid/ask, no volume).
/// - **Options.** Calls and puts at `strikes` steps either side of the opening
///   at-the-money strike, expiring on the next weekly expiry (Tuesday) after the session
///   date, priced by Black–Scholes from the index and an implied volatility that
///   mean-reverts to a regime-dependent level, rises when the market falls, and carries
///   a put skew. Lot size and freeze quantity are the index's.
/// - **Index ETF.** `NIFTYBEES` (the index's F&O root plus `BEES`), a cash equity of
///   lot 1 and tick 0.01 quoted at a fixed fraction of the index level with a small
///   mean-reverting premium ([`IndexEtf`]), so strategies can trade the index.
/// - **Activity.** Each instrument's ticks arrive as a Poisson process whose rate follows
///   a U-shaped intraday [curve](super::VolumeCurve), multiplied during random volume
///   spikes; trade sizes follow the curve too. News items (one [`MarketEvent::News`]
///   each) hit a random constituent with a jump in the sentiment's direction, followed at
///   once by a tick of that stock and a burst of activity. A configured share of them
///   (`index_news_share`) are about the index instead: they jump the market factor, so
///   every constituent reprices by its beta at its next tick, the index follows, the
///   option chain is requoted at once (`REQUOTE_DELAY_NANOS`), and the whole market is
///   busier for a minute or two.
/// - **Fair index.** Options are priced off the index's fair level, the constituents'
///   model prices weighted as in the index, not off the last trades the published index
///   is computed from: market makers quote options off the futures, which lead the cash
///   index. So an option quote never lags news by the seconds its own next trade may be
///   away, and a strategy cannot buy a stale pre-news price.
///
/// # Cost
///
/// Everything is allocated in [`SyntheticSession::new`]; [`MarketSource::poll_event`]
/// allocates nothing. Per-instrument arrival times are merged with a binary heap that
/// always holds one entry per instrument (replaced in place), so events come out in
/// non-decreasing market time. The default day has about two million events.
///
/// # Determinism
///
/// The stream depends only on the configuration: seeded xoshiro256++ generators and
/// `libm`'s portable maths, so the same seed gives a byte-identical day. The index ETF
/// draws from a generator of its own, so its ticks interleave with a stream that is
/// otherwise the one the same seed gave before the fund was listed.
#[derive(Debug)]
pub struct SyntheticSession {
    table: InstrumentTable,
    universe: Universe,
    /// Universe symbols the instrument master (if any) did not have.
    master_missing: Vec<String>,
    options: Vec<ChainOption>,
    expiry: Date,
    hours: SessionHours,
    start: u64,
    end: u64,
    expiry_nanos: u64,
    rng: Xoshiro256PlusPlus,
    curve: VolumeCurve,
    factors: Factors,
    books: Vec<Book>,
    /// The index ETF, which keeps its own state (it has no [`Book`]).
    etf: IndexEtf,
    /// `(constituent id, ref_level × weight / ref_price × its tick)`: the index level is
    /// Σ coeff × last, with `last` in the stock's ticks.
    index_terms: Vec<(usize, f64)>,
    /// Instruments news and spikes can hit.
    equities: Vec<u32>,
    spikeable: Vec<u32>,
    /// Share of news items about the index.
    index_news_share: f64,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    pending_tick: Option<u32>,
    /// The next option of the chain to requote after index news; `options.len()` when
    /// no requote is under way.
    requote: usize,
    /// The index's fair level and the market time it was computed at: recomputed when
    /// the factors have taken a step since, or a news jump moved a price.
    fair_index: Option<(u64, f64)>,
    /// News items that moved prices and wait for their publication time, in order.
    unpublished: std::collections::VecDeque<MarketEvent>,
    news_lag_nanos: u64,
    /// Market time of the last event.
    now: u64,
    rate_scale: f64,
    news_per_sec: f64,
    spikes_per_sec: f64,
    risk_free: f64,
    ended: bool,
    events: u64,
}

/// Per-instrument state. Prices in whole ticks of the instrument's own tick size.
#[derive(Debug, Clone)]
struct Book {
    role: Role,
    /// The instrument's tick in raw price units, to turn tick counts into prices exactly.
    tick_raw: i64,
    /// The same tick in rupees, for the float model's rounding.
    tick: f64,
    /// Mean arrivals per second at activity 1.0.
    rate: f64,
    last_ts: u64,
    spike_until: u64,
    spike_mult: f64,
    last: i64,
    bid: i64,
    ask: i64,
    volume: u32,
    traded: bool,
}

#[derive(Debug, Clone)]
enum Role {
    Index,
    Equity(EquityModel),
    Option(OptionModel),
}

#[derive(Debug, Clone)]
struct EquityModel {
    log_open: f64,
    beta: f64,
    sector: usize,
    idio: f64,
    idio_vol: f64,
    spread_ticks: i64,
    /// Mean rupee value of a trade at activity 1.0.
    trade_value: f64,
}

#[derive(Debug, Clone)]
struct OptionModel {
    strike: f64,
    kind: OptionType,
    lot: u32,
    /// Largest trade in lots: the freeze quantity in whole lots.
    max_trade_lots: u32,
}

impl SyntheticSession {
    /// Builds the session: loads the universe, adds the option chain, draws the opening
    /// prices and schedules every instrument's first tick.
    ///
    /// # Errors
    /// [`FeedError::Config`] for an invalid configuration, [`FeedError::Universe`] when
    /// the universe file cannot be read.
    pub fn new(config: &SyntheticConfig) -> Result<SyntheticSession, FeedError> {
        let hours = config.checked().map_err(FeedError::Config)?;
        let mut universe = match &config.universe {
            Some(path) => universe::load(path)?,
            None => universe::load_default()?,
        };
        let mut master_missing = Vec::new();
        if let Some(path) = &config.instruments {
            let rows = instruments::load(path)?;
            let freeze = instruments::FreezeLimits::load_default()?;
            let master = instruments::build_table(&rows, &freeze, &path.display().to_string())?;
            master_missing = universe.apply_master(&master.table);
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
        let start = UnixNanos::from_ist(hours.date, hours.start).0;
        let end = UnixNanos::from_ist(hours.date, hours.end).0;
        let minutes = ((end - start) / 60_000_000_000) as u32 + 1;
        let curve = VolumeCurve::new(start, minutes);
        let mut table = universe.table().clone();
        let index = universe.index().clone();
        let index_sector = table.get(index.id).sector;
        let sector_count = table.sectors().len();

        let mut books: Vec<Book> = table
            .iter()
            .map(|i| Book::new(Role::Index, 0.0, start, 0, i.tick_size))
            .collect();
        let (index_terms, equities) = open_equities(&universe, &table, &mut books, &mut rng, start);
        let open_level: f64 = index_terms
            .iter()
            .map(|&(i, k)| k * books[i].last as f64)
            .sum();
        let index_book = &mut books[index.id.index()];
        index_book.last = (open_level / index_book.tick).round() as i64;

        // The option chain around the opening level.
        let expiry = chain::weekly_expiry_after(hours.date);
        let expiry_nanos = UnixNanos::from_ist(expiry, TimeOfDay::hm(15, 30)).0;
        let step = f64::from(config.strike_step);
        let atm = ((open_level / step).round() * step) as u32;
        let options = chain::add_chain(
            &mut table,
            &index,
            index_sector,
            expiry,
            atm,
            config.strikes,
            config.strike_step,
        )
        .map_err(|symbol| {
            FeedError::Config(format!(
                "option symbol {symbol} collides with a universe symbol"
            ))
        })?;
        add_option_books(&options, &table, &index, config.strikes, &mut books, start);
        let etf_id = table
            .push(etf::instrument(&index, index_sector))
            .map_err(|symbol| {
                FeedError::Config(format!(
                    "index ETF symbol {symbol} collides with a universe symbol"
                ))
            })?;
        let etf = IndexEtf::new(etf_id, config.seed, start);

        let spikeable: Vec<u32> = equities
            .iter()
            .copied()
            .chain(options.iter().map(|o| o.id.0))
            .collect();
        let regime = RegimeChain::new(
            RegimeChain::draw_start(&mut rng),
            config.regime_minutes * 60.0,
        );
        let factors = Factors::new(start, sector_count, config.base_iv, regime);

        let mut session = SyntheticSession {
            table,
            universe,
            master_missing,
            options,
            expiry,
            hours,
            start,
            end,
            expiry_nanos,
            rng,
            curve,
            factors,
            books,
            etf,
            index_terms,
            equities,
            spikeable,
            index_news_share: config.index_news_share,
            heap: BinaryHeap::new(),
            pending_tick: None,
            requote: 0,
            fair_index: None,
            unpublished: std::collections::VecDeque::with_capacity(PUBLISH_QUEUE),
            news_lag_nanos: (config.news_lag_secs * 1e9) as u64,
            now: start,
            rate_scale: config.tick_rate_scale,
            news_per_sec: config.news_per_hour / 3600.0,
            spikes_per_sec: config.spikes_per_hour / 3600.0,
            risk_free: config.risk_free_rate,
            ended: false,
            events: 0,
        };
        session.requote = session.options.len();
        session.schedule_opening();
        Ok(session)
    }

    fn schedule_opening(&mut self) {
        let capacity = self.books.len() + 3;
        // Room for every unpublished item and a chain requote, so polling never grows
        // the heap.
        self.heap = BinaryHeap::with_capacity(capacity + PUBLISH_QUEUE + 1);
        let index_id = self.universe.index().id.index();
        for id in 0..self.books.len() {
            let first = if id == index_id {
                // After the constituents' opening trades.
                self.start + INDEX_PERIOD_NANOS
            } else {
                // The opening ticks arrive in the first half second.
                self.start + (self.rng.random::<f64>() * 0.5 * NANOS) as u64
            };
            self.heap.push(Reverse((first, id as u32)));
        }
        let etf_first = self.etf.first_arrival(self.start);
        self.heap.push(Reverse((etf_first, self.etf.id().0)));
        let news = self.poisson_after(self.start, self.news_per_sec);
        let spike = self.poisson_after(self.start, self.spikes_per_sec);
        self.heap.push(Reverse((news, NEWS_SLOT)));
        self.heap.push(Reverse((spike, SPIKE_SLOT)));
        debug_assert_eq!(self.heap.len(), capacity);
    }

    /// All instruments: the index, the constituents, the options, then the index ETF.
    pub fn instruments(&self) -> &InstrumentTable {
        &self.table
    }

    /// The universe the session was built from (weights and reference prices).
    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    /// Universe symbols the configured instrument master lacks (they kept the universe
    /// CSV's tick size); empty without a master.
    pub fn master_missing(&self) -> &[String] {
        &self.master_missing
    }

    /// The index instrument.
    pub fn index_id(&self) -> InstrumentId {
        self.universe.index().id
    }

    /// The index ETF.
    pub fn etf_id(&self) -> InstrumentId {
        self.etf.id()
    }

    /// The option chain.
    pub fn options(&self) -> &[ChainOption] {
        &self.options
    }

    /// Expiry date of the option chain.
    pub fn expiry(&self) -> Date {
        self.expiry
    }

    /// Session date and hours.
    pub fn hours(&self) -> SessionHours {
        self.hours
    }

    /// Market time of the open and the close.
    pub fn session_bounds(&self) -> (UnixNanos, UnixNanos) {
        (UnixNanos(self.start), UnixNanos(self.end))
    }

    /// The regime the market is in now.
    pub fn regime(&self) -> Regime {
        self.factors.regime().current()
    }

    /// Regime switches so far.
    pub fn regime_switches(&self) -> u32 {
        self.factors.regime().switches()
    }

    /// At-the-money implied volatility now.
    pub fn implied_vol(&self) -> f64 {
        self.factors.iv()
    }

    /// Events produced so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Market time after `from` of the next event of a Poisson process with `per_sec`
    /// events a second (never, for a zero rate).
    fn poisson_after(&mut self, from: u64, per_sec: f64) -> u64 {
        if per_sec <= 0.0 {
            return u64::MAX;
        }
        let gap: f64 = self.rng.sample(Exp1);
        from.saturating_add((gap / per_sec * NANOS) as u64 + MIN_GAP_NANOS)
    }

    /// The index level from the constituents' last trades.
    #[inline]
    fn index_level(&self) -> f64 {
        let mut sum = 0.0;
        for &(i, k) in &self.index_terms {
            sum += k * self.books[i].last as f64;
        }
        sum
    }

    /// The index's fair level: Σ coeff × model price over the constituents, the level
    /// the futures would trade at. The constituents' own random walks move only at
    /// their ticks, so one computation serves until the factors step again.
    fn fair_index_level(&mut self, now: u64) -> f64 {
        if let Some((at, level)) = self.fair_index {
            if now / STEP_NANOS == at / STEP_NANOS {
                return level;
            }
        }
        let market = self.factors.market();
        let mut sum = 0.0;
        for &(i, k) in &self.index_terms {
            if let Role::Equity(eq) = &self.books[i].role {
                let log_price =
                    eq.log_open + eq.beta * market + self.factors.sector(eq.sector) + eq.idio;
                // `k` is per tick of the stock (see `index_terms`); the model price is
                // in rupees.
                sum += k / self.books[i].tick * libm::exp(log_price);
            }
        }
        self.fair_index = Some((now, sum));
        sum
    }

    /// Replaces the top of the heap (which has `slot`) with its next time.
    #[inline]
    fn reschedule_top(&mut self, next: u64, slot: u32) {
        if let Some(mut top) = self.heap.peek_mut() {
            debug_assert_eq!(top.0 .1, slot);
            *top = Reverse((next, slot));
        }
    }

    fn next_arrival(&mut self, id: usize, now: u64) -> u64 {
        let book = &self.books[id];
        let spike = if now < book.spike_until {
            book.spike_mult
        } else {
            1.0
        };
        let rate = book.rate * self.curve.at(now) * spike * self.rate_scale;
        self.poisson_after(now, rate)
    }

    fn tick_event(&mut self, id: usize, now: u64) -> MarketEvent {
        if matches!(self.books[id].role, Role::Index) {
            self.index_tick(id, now)
        } else {
            self.quoted_tick(id, now)
        }
    }

    /// The index level from the constituents' last trades, as a `Trade` tick without
    /// quote or volume.
    fn index_tick(&mut self, id: usize, now: u64) -> MarketEvent {
        let level = (self.index_level() / self.books[id].tick).round() as i64;
        let book = &mut self.books[id];
        book.last = level.max(1);
        book.last_ts = now;
        MarketEvent::Tick(Tick {
            exchange_ts: UnixNanos(now),
            ingress: Stamp::default(),
            last: Price::from_raw(book.last * book.tick_raw),
            bid: Price::ZERO,
            ask: Price::ZERO,
            instrument: InstrumentId(id as u32),
            volume: 0,
            last_qty: 0,
            bid_qty: 0,
            ask_qty: 0,
            kind: TickKind::Trade,
        })
    }

    /// A quote or trade of a stock or an option at its model price.
    fn quoted_tick(&mut self, id: usize, now: u64) -> MarketEvent {
        let activity = self.curve.at(now);
        let extra_spread = self.factors.regime().current().params().extra_spread_ticks;
        let spike = if now < self.books[id].spike_until {
            self.books[id].spike_mult
        } else {
            1.0
        };
        // Only options need the index (a 50-term sum) and the time to expiry.
        let (spot, years) = if matches!(self.books[id].role, Role::Option(_)) {
            let years = self.expiry_nanos.saturating_sub(now) as f64 / NANOS / YEAR_SECS;
            (self.fair_index_level(now), years)
        } else {
            (0.0, 0.0)
        };
        let market = self.factors.market();
        let iv = self.factors.iv();
        let risk_free = self.risk_free;
        let rng = &mut self.rng;
        let book = &mut self.books[id];
        let dt = now.saturating_sub(book.last_ts) as f64 / NANOS;
        book.last_ts = now;
        let (model_price, spread, trade_value, lot, max_lots) = match &mut book.role {
            Role::Equity(eq) => {
                let z: f64 = rng.sample(StandardNormal);
                eq.idio += eq.idio_vol * libm::sqrt(dt * activity) * z;
                let sector = self.factors.sector(eq.sector);
                let log_price = eq.log_open + eq.beta * market + sector + eq.idio;
                let price = libm::exp(log_price);
                (
                    price,
                    eq.spread_ticks + extra_spread,
                    Some(eq.trade_value),
                    1,
                    0,
                )
            }
            Role::Option(op) => {
                let moneyness = libm::log(op.strike / spot);
                let vol =
                    (iv + SKEW_SLOPE * moneyness + SKEW_CURVE * moneyness * moneyness).max(0.03);
                let theo = black_scholes::price(op.kind, spot, op.strike, years, risk_free, vol);
                let spread = 1
                    + i64::from(theo >= 40.0)
                    + i64::from(theo >= 150.0)
                    + i64::from(theo >= 400.0)
                    + extra_spread;
                (theo, spread, None, op.lot, op.max_trade_lots)
            }
            Role::Index => unreachable!("tick_event sends the index to index_tick"),
        };

        let old_mid2 = book.bid + book.ask;
        let mid = model_price / book.tick;
        let bid = ((mid - spread as f64 / 2.0).floor() as i64).max(1);
        book.bid = bid;
        book.ask = bid + spread;
        let moved = (book.bid + book.ask - old_mid2).signum();
        let trade = !book.traded || rng.random::<f64>() < TRADE_SHARE;
        let (last_qty, bid_qty, ask_qty) = match trade_value {
            Some(value) => {
                let price = mid * book.tick;
                let mut size = |scale: f64| {
                    let z: f64 = rng.sample(StandardNormal);
                    let v = value * scale * libm::exp(0.8 * z - 0.32);
                    (v / price).clamp(1.0, 5_000_000.0) as u32
                };
                let opening = if book.traded { 1.0 } else { 20.0 };
                let traded = size(libm::sqrt(activity) * spike * opening);
                (traded, size(2.0), size(2.0))
            }
            None => {
                let mut lots = |mean: f64, cap: u32| {
                    let e: f64 = rng.sample(Exp1);
                    ((1.0 + e * mean) as u32).min(cap) * lot
                };
                // One trade matches orders of at most the freeze quantity; the book
                // shows many orders.
                let traded = lots(3.0 * libm::sqrt(activity) * spike, max_lots);
                (traded, lots(8.0, 500), lots(8.0, 500))
            }
        };
        book.traded = true;
        let kind = if trade {
            let buy_share = 0.5 + 0.2 * moved as f64;
            book.last = if rng.random::<f64>() < buy_share {
                book.ask
            } else {
                book.bid
            };
            book.volume = book.volume.saturating_add(last_qty);
            TickKind::Trade
        } else {
            TickKind::Quote
        };
        MarketEvent::Tick(Tick {
            exchange_ts: UnixNanos(now),
            ingress: Stamp::default(),
            last: Price::from_raw(book.last * book.tick_raw),
            bid: Price::from_raw(book.bid * book.tick_raw),
            ask: Price::from_raw(book.ask * book.tick_raw),
            instrument: InstrumentId(id as u32),
            volume: book.volume,
            last_qty: if trade { last_qty } else { 0 },
            bid_qty,
            ask_qty,
            kind,
        })
    }

    fn news_event(&mut self, now: u64) -> MarketEvent {
        // No draw when the share is zero, so a day without index news is the same
        // stream as before index news existed.
        if self.index_news_share > 0.0 && self.rng.random::<f64>() < self.index_news_share {
            return self.index_news_event(now);
        }
        let pick = self.rng.random_range(0..self.equities.len());
        let id = self.equities[pick] as usize;
        let magnitude = self.rng.random_range(300..=1000i16);
        let sentiment = if self.rng.random::<bool>() {
            magnitude
        } else {
            -magnitude
        };
        let jump = f64::from(sentiment.signum())
            * (NEWS_JUMP_MIN + NEWS_JUMP_PER_SENTIMENT * f64::from(magnitude) / 1000.0);
        let duration = (120.0 + 120.0 * self.rng.random::<f64>()) * NANOS;
        let book = &mut self.books[id];
        if let Role::Equity(eq) = &mut book.role {
            eq.idio += jump;
        }
        book.spike_mult = 4.0;
        book.spike_until = now + duration as u64;
        self.pending_tick = Some(id as u32);
        self.fair_index = None;
        MarketEvent::News(News {
            exchange_ts: UnixNanos(now),
            ingress: Stamp::default(),
            instrument: InstrumentId(id as u32),
            sentiment_milli: sentiment,
        })
    }

    /// News about the whole market: a jump of the market factor in the sentiment's
    /// direction and more activity in every constituent and option.
    ///
    /// No constituent tick follows at once: the index is computed from the constituents'
    /// last trades, so it shows the jump as they trade (about a second at the busier
    /// rate). The option chain is requoted [`REQUOTE_DELAY_NANOS`] later, off the fair
    /// level.
    fn index_news_event(&mut self, now: u64) -> MarketEvent {
        let magnitude = self.rng.random_range(300..=1000i16);
        let sentiment = if self.rng.random::<bool>() {
            magnitude
        } else {
            -magnitude
        };
        let jump = f64::from(sentiment.signum())
            * (INDEX_NEWS_JUMP_MIN + INDEX_NEWS_JUMP_PER_SENTIMENT * f64::from(magnitude) / 1000.0);
        self.factors.jump_market(jump);
        self.fair_index = None;
        if !self.options.is_empty() {
            self.heap
                .push(Reverse((now + REQUOTE_DELAY_NANOS, REQUOTE_SLOT)));
        }
        let until = now + ((60.0 + 60.0 * self.rng.random::<f64>()) * NANOS) as u64;
        for &id in &self.spikeable {
            let book = &mut self.books[id as usize];
            // A larger spike already running is left as it is.
            if now >= book.spike_until || book.spike_mult < INDEX_NEWS_ACTIVITY {
                book.spike_mult = INDEX_NEWS_ACTIVITY;
                book.spike_until = until;
            }
        }
        MarketEvent::News(News {
            exchange_ts: UnixNanos(now),
            ingress: Stamp::default(),
            instrument: self.universe.index().id,
            sentiment_milli: sentiment,
        })
    }

    fn start_spike(&mut self, now: u64) {
        if self.spikeable.is_empty() {
            return;
        }
        let pick = self.rng.random_range(0..self.spikeable.len());
        let id = self.spikeable[pick] as usize;
        let mult = 3.0 + 3.0 * self.rng.random::<f64>();
        let duration = (60.0 + 240.0 * self.rng.random::<f64>()) * NANOS;
        let book = &mut self.books[id];
        book.spike_mult = mult;
        book.spike_until = now + duration as u64;
    }
}

/// Draws the opening prices and per-stock parameters of the constituents into their
/// books; returns the index terms `(id, ref_level × weight / ref_price)` and the ids.
fn open_equities(
    universe: &Universe,
    table: &InstrumentTable,
    books: &mut [Book],
    rng: &mut Xoshiro256PlusPlus,
    start: u64,
) -> (Vec<(usize, f64)>, Vec<u32>) {
    // Opening prices: an overnight gap shared by the market plus each stock's own.
    let market_gap: f64 = 0.004 * rng.sample::<f64, _>(StandardNormal);
    let constituents = universe.constituents();
    let mean_weight = 1.0 / constituents.len() as f64;
    // Heavier stocks tick more often and trade larger.
    let activity_of = |w: f64| 0.6 + 0.4 * libm::sqrt(w / mean_weight);
    let activity_norm = constituents
        .iter()
        .map(|c| activity_of(c.weight))
        .sum::<f64>()
        / constituents.len() as f64;
    let ref_level = universe.index().ref_level.to_f64();
    let mut index_terms = Vec::with_capacity(constituents.len());
    let mut equities = Vec::with_capacity(constituents.len());
    for c in constituents {
        let beta = 0.7 + 0.6 * rng.random::<f64>();
        let gap = beta * market_gap + 0.003 * rng.sample::<f64, _>(StandardNormal);
        let ref_price = c.ref_price.to_f64();
        let tick_size = table.get(c.id).tick_size;
        let tick = tick_size.to_f64();
        let open_ticks = ((ref_price * libm::exp(gap)) / tick).round().max(1.0) as i64;
        let open = open_ticks as f64 * tick;
        let spread_bps = 0.6 + 0.9 * rng.random::<f64>();
        let spread_ticks = ((open * spread_bps * 1e-4) / tick).round().max(1.0) as i64;
        let model = EquityModel {
            log_open: libm::log(open),
            beta,
            sector: usize::from(table.get(c.id).sector.0),
            idio: 0.0,
            idio_vol: IDIO_VOL * (0.8 + 0.4 * rng.random::<f64>()),
            spread_ticks,
            trade_value: 250_000.0 * (0.5 + 0.5 * libm::sqrt(c.weight / mean_weight)),
        };
        let rate = EQUITY_RATE * activity_of(c.weight) / activity_norm;
        books[c.id.index()] = Book::new(Role::Equity(model), rate, start, open_ticks, tick_size);
        // Per tick of this stock, so Σ coeff × last (in ticks) is the level in points.
        index_terms.push((c.id.index(), ref_level * c.weight / ref_price * tick));
        equities.push(c.id.0);
    }
    (index_terms, equities)
}

/// Appends a book per option; strikes near the money tick most often.
fn add_option_books(
    options: &[ChainOption],
    table: &InstrumentTable,
    index: &IndexSpec,
    strikes: u32,
    books: &mut Vec<Book>,
    start: u64,
) {
    let width = (f64::from(strikes) / 2.5).max(1.0);
    let shape = |offset: i32| {
        let x = f64::from(offset) / width;
        0.3 + 1.2 * libm::exp(-x * x)
    };
    let norm = if options.is_empty() {
        1.0
    } else {
        options.iter().map(|o| shape(o.offset)).sum::<f64>() / options.len() as f64
    };
    for o in options {
        debug_assert_eq!(o.id.index(), books.len());
        let model = OptionModel {
            strike: f64::from(o.strike),
            kind: o.kind,
            lot: index.lot_size,
            max_trade_lots: (index.freeze_qty / index.lot_size).max(1),
        };
        let rate = OPTION_RATE * shape(o.offset) / norm;
        let tick_size = table.get(o.id).tick_size;
        books.push(Book::new(Role::Option(model), rate, start, 1, tick_size));
    }
}

impl Book {
    fn new(role: Role, rate: f64, start: u64, price_ticks: i64, tick_size: Price) -> Book {
        Book {
            role,
            tick_raw: tick_size.raw(),
            tick: tick_size.to_f64(),
            rate,
            last_ts: start,
            spike_until: 0,
            spike_mult: 1.0,
            last: price_ticks,
            bid: price_ticks,
            ask: price_ticks,
            volume: 0,
            traded: false,
        }
    }
}

impl MarketSource for SyntheticSession {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        if let Some(id) = self.pending_tick.take() {
            let now = self.now;
            self.events += 1;
            return Ok(SourcePoll::Event(self.tick_event(id as usize, now)));
        }
        if let Some(option) = self.options.get(self.requote) {
            let id = option.id.index();
            self.requote += 1;
            let now = self.now;
            self.events += 1;
            return Ok(SourcePoll::Event(self.tick_event(id, now)));
        }
        loop {
            if self.ended {
                return Ok(SourcePoll::End);
            }
            let Some(&Reverse((now, slot))) = self.heap.peek() else {
                self.ended = true;
                continue;
            };
            if now >= self.end {
                self.ended = true;
                continue;
            }
            self.factors.advance_to(now, &self.curve, &mut self.rng);
            self.now = now;
            match slot {
                NEWS_SLOT => {
                    // The market moves now; the item is published after the lag.
                    let event = self.news_event(now);
                    let next = self.poisson_after(now, self.news_per_sec);
                    self.reschedule_top(next, slot);
                    if self.news_lag_nanos == 0 {
                        self.events += 1;
                        return Ok(SourcePoll::Event(event));
                    }
                    if self.unpublished.len() < PUBLISH_QUEUE {
                        self.unpublished.push_back(event);
                        self.heap
                            .push(Reverse((now + self.news_lag_nanos, PUBLISH_SLOT)));
                    }
                    if let Some(id) = self.pending_tick.take() {
                        self.events += 1;
                        return Ok(SourcePoll::Event(self.tick_event(id as usize, now)));
                    }
                }
                PUBLISH_SLOT => {
                    self.heap.pop();
                    if let Some(MarketEvent::News(mut news)) = self.unpublished.pop_front() {
                        news.exchange_ts = UnixNanos(now);
                        self.events += 1;
                        return Ok(SourcePoll::Event(MarketEvent::News(news)));
                    }
                }
                REQUOTE_SLOT => {
                    self.heap.pop();
                    // One tick per option, this poll and the next ones (see the top).
                    self.requote = 0;
                    if let Some(option) = self.options.first() {
                        let id = option.id.index();
                        self.requote = 1;
                        self.events += 1;
                        return Ok(SourcePoll::Event(self.tick_event(id, now)));
                    }
                }
                SPIKE_SLOT => {
                    self.start_spike(now);
                    let next = self.poisson_after(now, self.spikes_per_sec);
                    self.reschedule_top(next, slot);
                }
                id if id == self.etf.id().0 => {
                    let activity = self.curve.at(now) * self.rate_scale;
                    let extra_spread = self.factors.regime().current().params().extra_spread_ticks;
                    let level = self.index_level();
                    let tick = self.etf.tick(now, level, activity, extra_spread);
                    let next = self.etf.next_arrival(now, activity);
                    self.reschedule_top(next, slot);
                    self.events += 1;
                    return Ok(SourcePoll::Event(MarketEvent::Tick(tick)));
                }
                id => {
                    let id = id as usize;
                    let event = self.tick_event(id, now);
                    let next = if id == self.universe.index().id.index() {
                        now + INDEX_PERIOD_NANOS
                    } else {
                        self.next_arrival(id, now)
                    };
                    self.reschedule_top(next, slot);
                    self.events += 1;
                    return Ok(SourcePoll::Event(event));
                }
            }
        }
    }
}
