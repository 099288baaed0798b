//! News impact scalper: buys the at-the-money call or put of an underlying on strong
//! news about it, and leaves on a premium target, a time stop or the premium stop.

mod chain;
mod config;
#[cfg(test)]
mod tests;

pub use config::NewsImpactScalperConfig;

use self::chain::{NoContract, OptionChain};
use crate::{
    config::ConfigIssue,
    model::{
        Direction, Instrument, InstrumentId, InstrumentKind, InstrumentTable, News, OptionType,
        Price, Tick, TimeOfDay, UnixNanos,
    },
    signal::{Strategy, StrategyContext},
};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Buys options on strong news about their underlying, for a few minutes.
///
/// # Entry
///
/// On news about an underlying that has listed options, with |sentiment| at least
/// `min_sentiment`: a call for good news, a put for bad news, of the earliest expiry at
/// least `min_days_to_expiry` calendar days after today (market time's IST date), at the
/// strike nearest to the underlying's last price (the lower of two equally near), moved
/// `strike_offset` strikes into the money (a lower strike for a call, a higher one for a
/// put). It emits [`Direction::Long`] on that option at its ask (its last trade when no
/// ask is quoted), with a protective stop `premium_stop_pct` below it rounded down to
/// the option's tick. The risk stage sizes the entry in whole lots from the stop
/// distance and enforces the stop.
///
/// No entry while this strategy holds a position on the underlying, within
/// `cooldown_secs` after its last one ended, at or after `last_entry`, before the
/// underlying or the chosen option has traded (spot or premium unknown), or when the
/// premium is below `min_premium` or too small for a stop above zero.
///
/// # Exit
///
/// The strategy never sees positions, so it keeps its own record of the entry it
/// signalled. On the option's ticks it emits [`Direction::Flat`] once the bid (the last
/// trade when no bid is quoted) reaches `premium_target_pct` above the entry premium
/// (rounded up to the tick); the entry signal carries that target, and with
/// [`NewsImpactScalper::with_targets_to_risk`] the risk stage books it instead. On any tick of the underlying or the option at or after
/// `hold_secs` from the entry it emits `Flat` (the time stop). When the option's last
/// trade reaches the stop, the risk stage exits (it marks positions at the last trade),
/// so the strategy only closes its record. Either way the cooldown starts then.
///
/// # Subscriptions and cost
///
/// It subscribes to every underlying with listed options (their ticks give spot, their
/// news the trigger) and to those options (their ticks give premiums). News about other
/// instruments never reaches it. The chains are indexed and all state is sized at
/// construction; the callbacks index `Vec`s by instrument id and never allocate.
#[derive(Debug)]
pub struct NewsImpactScalper {
    min_sentiment: u16,
    strike_offset: u32,
    min_days_to_expiry: u32,
    /// Stop and target distances in hundredths of a percent.
    stop_bps: u32,
    target_bps: u32,
    hold_nanos: u64,
    cooldown_nanos: u64,
    last_entry: TimeOfDay,
    min_premium: Price,
    /// By instrument index; `Some` for underlyings with listed options.
    underlyings: Vec<Option<Underlying>>,
    /// By instrument index; `Some` for options of those underlyings.
    options: Vec<Option<OptionQuote>>,
    counts: ScalperCounts,
    /// The risk stage books targets (`risk.partial_exit`); see
    /// [`NewsImpactScalper::with_targets_to_risk`].
    targets_to_risk: bool,
}

/// What the strategy knows of one underlying.
#[derive(Debug)]
struct Underlying {
    chain: OptionChain,
    /// Last traded price; zero until the first tick.
    spot: Price,
    held: Option<Held>,
    /// Cooldown: no entry before this market time.
    free_from: UnixNanos,
}

/// The latest quote of one option.
#[derive(Debug, Clone, Copy)]
struct OptionQuote {
    underlying: InstrumentId,
    tick_size: Price,
    /// Zero until first seen.
    last: Price,
    bid: Price,
    ask: Price,
}

impl OptionQuote {
    /// What buying costs now: the ask, or the last trade without one.
    fn buy_price(&self) -> Price {
        if self.ask.is_positive() {
            self.ask
        } else {
            self.last
        }
    }

    /// What selling fetches now: the bid, or the last trade without one.
    fn sell_price(&self) -> Price {
        if self.bid.is_positive() {
            self.bid
        } else {
            self.last
        }
    }
}

/// An entry this strategy signalled and has not seen end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    option: InstrumentId,
    entry: Price,
    stop: Price,
    target: Price,
    /// The time stop.
    until: UnixNanos,
}

/// What the strategy did with the news it received and how its positions ended, for
/// diagnostics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScalperCounts {
    /// Entries signalled.
    pub entries: u64,
    /// News below `min_sentiment`.
    pub weak: u64,
    /// News about a subscribed instrument without options (an option itself).
    pub no_chain: u64,
    /// Strong news while holding a position on the underlying.
    pub busy: u64,
    /// Strong news within the cooldown.
    pub cooldown: u64,
    /// Strong news at or after `last_entry`.
    pub late: u64,
    /// Strong news before the underlying traded.
    pub no_spot: u64,
    /// No expiry far enough out, or the strike not listed.
    pub no_contract: u64,
    /// The chosen option has not been quoted.
    pub no_premium: u64,
    /// The premium is below `min_premium`, or too small for a stop above zero.
    pub cheap: u64,
    /// Exits at the premium target.
    pub target_exits: u64,
    /// Exits at the time stop.
    pub time_exits: u64,
    /// Positions seen reaching their stop (the risk stage exits them).
    pub stops_seen: u64,
}

/// Why strong (or weak) news led to no entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    NoChain,
    Weak,
    Busy,
    Cooldown,
    Late,
    NoSpot,
    NoContract,
    NoPremium,
    Cheap,
}

impl ScalperCounts {
    fn skipped(&mut self, skip: Skip) {
        let counter = match skip {
            Skip::NoChain => &mut self.no_chain,
            Skip::Weak => &mut self.weak,
            Skip::Busy => &mut self.busy,
            Skip::Cooldown => &mut self.cooldown,
            Skip::Late => &mut self.late,
            Skip::NoSpot => &mut self.no_spot,
            Skip::NoContract => &mut self.no_contract,
            Skip::NoPremium => &mut self.no_premium,
            Skip::Cheap => &mut self.cheap,
        };
        *counter += 1;
    }
}

impl NewsImpactScalper {
    /// The name in reports and on the control socket.
    pub const NAME: &'static str = "news_impact_scalper";

    /// Builds the strategy for the option chains of `instruments`.
    ///
    /// # Errors
    /// Every problem with `config`, each keyed under `prefix`
    /// (`strategy.news_impact_scalper`).
    pub fn new(
        config: &NewsImpactScalperConfig,
        instruments: &InstrumentTable,
        prefix: &str,
    ) -> Result<NewsImpactScalper, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        config.validate(prefix, &mut issues);
        if !issues.is_empty() {
            return Err(issues);
        }
        let underlyings: Vec<Option<Underlying>> = OptionChain::index(instruments)
            .into_iter()
            .map(|chain| {
                chain.map(|chain| Underlying {
                    chain,
                    spot: Price::ZERO,
                    held: None,
                    free_from: UnixNanos(0),
                })
            })
            .collect();
        let options = instruments
            .iter()
            .map(|i| {
                let underlying = i.underlying.filter(|_| i.kind == InstrumentKind::Option)?;
                underlyings
                    .get(underlying.index())?
                    .as_ref()
                    .map(|_| OptionQuote {
                        underlying,
                        tick_size: i.tick_size,
                        last: Price::ZERO,
                        bid: Price::ZERO,
                        ask: Price::ZERO,
                    })
            })
            .collect();
        Ok(NewsImpactScalper {
            min_sentiment: config.min_sentiment,
            strike_offset: config.strike_offset,
            min_days_to_expiry: config.min_days_to_expiry,
            stop_bps: config.stop_bps(),
            target_bps: config.target_bps(),
            hold_nanos: u64::from(config.hold_secs) * NANOS_PER_SEC,
            cooldown_nanos: u64::from(config.cooldown_secs) * NANOS_PER_SEC,
            last_entry: config.last_entry_time(),
            min_premium: config.min_premium_price(),
            underlyings,
            options,
            counts: ScalperCounts::default(),
            targets_to_risk: false,
        })
    }

    /// The same strategy leaving its premium target to the risk stage
    /// (`risk.partial_exit`): the entry signal carries the target, the bid reaching it
    /// sends nothing here, and the time stop closes whatever the risk stage left open.
    pub fn with_targets_to_risk(mut self, on: bool) -> NewsImpactScalper {
        self.targets_to_risk = on;
        self
    }

    /// What the strategy did so far.
    pub fn counts(&self) -> &ScalperCounts {
        &self.counts
    }

    /// The option to buy on news of `sentiment` about `underlying`, with its entry
    /// premium and stop, or why there is none.
    fn entry(
        &self,
        underlying: InstrumentId,
        sentiment: i16,
        now: UnixNanos,
    ) -> Result<(InstrumentId, Price, Price), Skip> {
        let Some(Some(u)) = self.underlyings.get(underlying.index()) else {
            return Err(Skip::NoChain);
        };
        if sentiment.unsigned_abs() < self.min_sentiment {
            return Err(Skip::Weak);
        }
        if u.held.is_some() {
            return Err(Skip::Busy);
        }
        if now < u.free_from {
            return Err(Skip::Cooldown);
        }
        if now.ist_time_of_day() >= self.last_entry {
            return Err(Skip::Late);
        }
        if !u.spot.is_positive() {
            return Err(Skip::NoSpot);
        }
        let kind = if sentiment > 0 {
            OptionType::Call
        } else {
            OptionType::Put
        };
        let option = u
            .chain
            .pick(
                now.ist_date(),
                self.min_days_to_expiry,
                u.spot,
                kind,
                self.strike_offset,
            )
            .map_err(|_: NoContract| Skip::NoContract)?;
        let Some(Some(quote)) = self.options.get(option.index()) else {
            return Err(Skip::NoPremium);
        };
        let premium = quote.buy_price();
        if !premium.is_positive() {
            return Err(Skip::NoPremium);
        }
        let stop = premium_stop(premium, self.stop_bps, quote.tick_size);
        if premium < self.min_premium || !stop.is_positive() {
            return Err(Skip::Cheap);
        }
        Ok((option, premium, stop))
    }

    /// Closes the record of `underlying`'s position and starts its cooldown.
    fn close(&mut self, underlying: InstrumentId, now: UnixNanos) {
        if let Some(Some(u)) = self.underlyings.get_mut(underlying.index()) {
            u.held = None;
            u.free_from = now.add_nanos(self.cooldown_nanos);
        }
    }

    /// On a tick of the held option: the stop seen, the target, or the time stop.
    fn on_option_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        let Some(Some(quote)) = self.options.get_mut(tick.instrument.index()) else {
            return;
        };
        if tick.last.is_positive() {
            quote.last = tick.last;
        }
        quote.bid = tick.bid;
        quote.ask = tick.ask;
        let quote = *quote;
        let Some(Some(u)) = self.underlyings.get(quote.underlying.index()) else {
            return;
        };
        let Some(held) = u.held.filter(|h| h.option == tick.instrument) else {
            return;
        };
        let now = ctx.now();
        if quote.last.is_positive() && quote.last <= held.stop {
            // The risk stage marks at the last trade and exits at the stop itself.
            self.counts.stops_seen += 1;
        } else if !self.targets_to_risk && quote.sell_price() >= held.target {
            ctx.emit(
                held.option,
                Direction::Flat,
                quote.sell_price(),
                Price::ZERO,
            );
            self.counts.target_exits += 1;
        } else if now >= held.until {
            ctx.emit(
                held.option,
                Direction::Flat,
                quote.sell_price(),
                Price::ZERO,
            );
            self.counts.time_exits += 1;
        } else {
            return;
        }
        self.close(quote.underlying, now);
    }

    /// On a tick of an underlying: its spot, and the time stop of its position.
    fn on_underlying_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        let Some(Some(u)) = self.underlyings.get_mut(tick.instrument.index()) else {
            return;
        };
        if tick.last.is_positive() {
            u.spot = tick.last;
        }
        let now = ctx.now();
        let Some(held) = u.held.filter(|h| now >= h.until) else {
            return;
        };
        let price = match self.options.get(held.option.index()) {
            Some(Some(quote)) => quote.sell_price(),
            _ => held.entry,
        };
        ctx.emit(held.option, Direction::Flat, price, Price::ZERO);
        self.counts.time_exits += 1;
        self.close(tick.instrument, now);
    }
}

impl Strategy for NewsImpactScalper {
    fn name(&self) -> &'static str {
        NewsImpactScalper::NAME
    }

    fn subscribes(&self, instrument: &Instrument) -> bool {
        let i = instrument.id.index();
        self.underlyings.get(i).is_some_and(Option::is_some)
            || self.options.get(i).is_some_and(Option::is_some)
    }

    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        if self
            .options
            .get(tick.instrument.index())
            .is_some_and(Option::is_some)
        {
            self.on_option_tick(tick, ctx);
        } else {
            self.on_underlying_tick(tick, ctx);
        }
    }

    fn on_news(&mut self, news: &News, ctx: &mut StrategyContext<'_>) {
        let now = ctx.now();
        let (option, premium, stop) = match self.entry(news.instrument, news.sentiment_milli, now) {
            Ok(entry) => entry,
            Err(skip) => {
                self.counts.skipped(skip);
                return;
            }
        };
        let tick = self
            .options
            .get(option.index())
            .and_then(|q| q.map(|q| q.tick_size))
            .unwrap_or(Price::ZERO);
        let target = premium_target(premium, self.target_bps, tick);
        if !ctx.emit_with_target(option, Direction::Long, premium, stop, target) {
            return; // dropped as overflow: nothing was signalled
        }
        let held = Held {
            option,
            entry: premium,
            stop,
            target,
            until: now.add_nanos(self.hold_nanos),
        };
        if let Some(Some(u)) = self.underlyings.get_mut(news.instrument.index()) {
            u.held = Some(held);
        }
        self.counts.entries += 1;
    }
}

/// `premium` less `bps` hundredths of a percent, rounded down to `tick` (never up into
/// the entry); zero when nothing above zero is left.
fn premium_stop(premium: Price, bps: u32, tick: Price) -> Price {
    let raw = i128::from(premium.raw()) * i128::from(10_000 - bps.min(10_000)) / 10_000;
    let stop = Price::from_raw(raw as i64).round_down_to_tick(tick);
    if stop.is_positive() {
        stop
    } else {
        Price::ZERO
    }
}

/// `premium` plus `bps` hundredths of a percent, rounded up to `tick` (never short of
/// the stated gain), saturating.
fn premium_target(premium: Price, bps: u32, tick: Price) -> Price {
    let scaled = i128::from(premium.raw()) * i128::from(10_000 + bps);
    let raw = (scaled + 9_999).div_euclid(10_000);
    Price::from_raw(i64::try_from(raw).unwrap_or(i64::MAX)).round_up_to_tick(tick)
}
