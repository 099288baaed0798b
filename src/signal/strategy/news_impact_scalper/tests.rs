//! The news impact scalper on a small market: the index, one stock without options, and
//! calls and puts at three strikes for two expiries (today's and next week's).

// Paise literals are grouped as rupees_paise: `150_05` is 150.05 rupees.
#![allow(clippy::inconsistent_digit_grouping)]

use super::*;
use crate::{
    model::{
        Date, Instrument, InstrumentId, OptionType, SectorId, Segment, Signal, Stamp, StrategyId,
        TickKind,
    },
    signal::{
        test_support::{MIN, NANOS_PER_SEC, OPEN},
        SignalBatch,
    },
};

const INDEX: InstrumentId = InstrumentId(0);
const SBIN: InstrumentId = InstrumentId(1);
const SEC: u64 = NANOS_PER_SEC;
/// 10:00 IST on the test day, 2025-11-25 (a Tuesday, so an expiry day).
const TEN: u64 = OPEN + 45 * MIN;

/// The option of `expiry` (0: today, 1: next week), `strike` (23900, 24000 or 24100)
/// and `kind`.
fn option(expiry: u32, strike: u32, kind: OptionType) -> InstrumentId {
    let s = (strike - 23_900) / 100;
    let t = match kind {
        OptionType::Call => 0,
        OptionType::Put => 1,
    };
    InstrumentId(2 + expiry * 6 + s * 2 + t)
}

const CALL: OptionType = OptionType::Call;
const PUT: OptionType = OptionType::Put;

/// `NIFTY 50` (0), `SBIN` (1), then for 2025-11-25 and 2025-12-02, for strikes 23900,
/// 24000 and 24100, a call and a put (lot 65, tick 0.05): ids as [`option`] gives them.
fn table() -> InstrumentTable {
    let mut t = InstrumentTable::new();
    let sector = t.sector("INDEX");
    let index = t
        .push(Instrument {
            kind: InstrumentKind::Index,
            segment: Segment::Indices,
            ..Instrument::nse_equity("NIFTY 50", sector)
        })
        .unwrap();
    t.push(Instrument::nse_equity("SBIN", sector)).unwrap();
    for (e, expiry) in [Date::new(2025, 11, 25), Date::new(2025, 12, 2)]
        .into_iter()
        .enumerate()
    {
        for strike in [23_900u32, 24_000, 24_100] {
            for kind in [CALL, PUT] {
                let suffix = if kind == CALL { "CE" } else { "PE" };
                let id = t
                    .push(Instrument {
                        kind: InstrumentKind::Option,
                        segment: Segment::Fno,
                        underlying: Some(index),
                        expiry: Some(expiry),
                        strike: Some(Price::from_paise(i64::from(strike) * 100)),
                        option_type: Some(kind),
                        lot_size: 65,
                        sector: SectorId(0),
                        ..Instrument::nse_equity(&format!("NIFTY{e}{strike}{suffix}"), sector)
                    })
                    .unwrap();
                assert_eq!(id, option(e as u32, strike, kind));
            }
        }
    }
    t
}

/// A strategy and the batch its signals land in.
struct Harness {
    strategy: NewsImpactScalper,
    batch: SignalBatch,
}

impl Harness {
    fn new(config: NewsImpactScalperConfig) -> Harness {
        Harness {
            strategy: NewsImpactScalper::new(&config, &table(), "s").unwrap(),
            batch: SignalBatch::new(),
        }
    }

    fn standard() -> Harness {
        Harness::new(NewsImpactScalperConfig::default())
    }

    /// A tick of `id` at `ts`: last trade, bid and ask in paise (zero: none).
    fn tick(&mut self, id: InstrumentId, ts: u64, last: i64, bid: i64, ask: i64) -> Vec<Signal> {
        let tick = Tick {
            exchange_ts: UnixNanos(ts),
            ingress: Stamp(ts / 1000),
            last: Price::from_paise(last),
            bid: Price::from_paise(bid),
            ask: Price::from_paise(ask),
            instrument: id,
            volume: 0,
            last_qty: 0,
            bid_qty: 0,
            ask_qty: 0,
            kind: TickKind::Quote,
        };
        let mut ctx = self
            .batch
            .context(StrategyId(1), tick.exchange_ts, tick.ingress);
        self.strategy.on_tick(&tick, &mut ctx);
        self.drain()
    }

    /// The index at `level` rupees.
    fn spot(&mut self, ts: u64, level: i64) -> Vec<Signal> {
        self.tick(INDEX, ts, level * 100, 0, 0)
    }

    /// An option quoted around `last` paise, one tick each side.
    fn premium(&mut self, id: InstrumentId, ts: u64, last: i64) -> Vec<Signal> {
        self.tick(id, ts, last, last - 5, last + 5)
    }

    fn news(&mut self, id: InstrumentId, ts: u64, sentiment: i16) -> Vec<Signal> {
        let news = News {
            exchange_ts: UnixNanos(ts),
            ingress: Stamp(7),
            instrument: id,
            sentiment_milli: sentiment,
        };
        let mut ctx = self
            .batch
            .context(StrategyId(1), news.exchange_ts, news.ingress);
        self.strategy.on_news(&news, &mut ctx);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Signal> {
        let signals = self.batch.signals().to_vec();
        self.batch.clear();
        signals
    }

    /// Spot at 24 030 and every option of both expiries quoted at 150.00 (bid 149.95, ask
    /// 150.05), just before 10:00.
    fn market(&mut self) {
        self.spot(TEN - 2 * SEC, 24_030);
        for e in 0..2 {
            for strike in [23_900, 24_000, 24_100] {
                for kind in [CALL, PUT] {
                    self.premium(option(e, strike, kind), TEN - SEC, 150_00);
                }
            }
        }
    }

    fn counts(&self) -> ScalperCounts {
        *self.strategy.counts()
    }
}

fn p(text: &str) -> Price {
    text.parse().unwrap()
}

/// `(instrument, direction, price, stop)` of each signal.
fn summary(signals: &[Signal]) -> Vec<(InstrumentId, Direction, Price, Price)> {
    signals
        .iter()
        .map(|s| (s.instrument, s.direction, s.price, s.stop))
        .collect()
}

#[test]
fn good_news_buys_the_at_the_money_call_of_the_nearest_expiry_after_today() {
    let mut h = Harness::standard();
    h.market();
    let signals = h.news(INDEX, TEN, 800);
    // Today's contracts expire today: the default min_days_to_expiry = 1 skips them.
    // 24 030 is nearest to the 24 000 strike. Bought at the ask, 150.05; the stop 20%
    // below, 120.04, rounded down to the 0.05 tick.
    assert_eq!(
        summary(&signals),
        [(
            option(1, 24_000, CALL),
            Direction::Long,
            p("150.05"),
            p("120.00")
        )]
    );
    assert_eq!(signals[0].exchange_ts, UnixNanos(TEN));
    assert_eq!(signals[0].ingress, Stamp(7));
    assert_eq!(h.counts().entries, 1);
}

#[test]
fn bad_news_buys_the_put() {
    let mut h = Harness::standard();
    h.market();
    let signals = h.news(INDEX, TEN, -1000);
    assert_eq!(
        summary(&signals),
        [(
            option(1, 24_000, PUT),
            Direction::Long,
            p("150.05"),
            p("120.00")
        )]
    );
}

#[test]
fn same_day_expiry_when_allowed() {
    let mut h = Harness::new(NewsImpactScalperConfig {
        min_days_to_expiry: 0,
        ..NewsImpactScalperConfig::default()
    });
    h.market();
    let signals = h.news(INDEX, TEN, 900);
    assert_eq!(signals[0].instrument, option(0, 24_000, CALL));
}

#[test]
fn strike_offset_one_buys_one_strike_in_the_money() {
    let config = NewsImpactScalperConfig {
        strike_offset: 1,
        ..NewsImpactScalperConfig::default()
    };
    let mut h = Harness::new(config.clone());
    h.market();
    let signals = h.news(INDEX, TEN, 700);
    assert_eq!(signals[0].instrument, option(1, 23_900, CALL));
    let mut h = Harness::new(config);
    h.market();
    let signals = h.news(INDEX, TEN, -700);
    assert_eq!(signals[0].instrument, option(1, 24_100, PUT));
    // Two strikes in the money is off the listed strikes: no entry.
    let mut h = Harness::new(NewsImpactScalperConfig {
        strike_offset: 2,
        ..NewsImpactScalperConfig::default()
    });
    h.market();
    assert!(h.news(INDEX, TEN, 700).is_empty());
    assert_eq!(h.counts().no_contract, 1);
}

#[test]
fn weak_news_is_ignored_and_the_threshold_is_inclusive() {
    let mut h = Harness::standard();
    h.market();
    assert!(h.news(INDEX, TEN, 499).is_empty());
    assert!(h.news(INDEX, TEN, -499).is_empty());
    assert_eq!(h.counts().weak, 2);
    assert_eq!(h.news(INDEX, TEN, -500).len(), 1);
}

#[test]
fn news_on_a_stock_without_options_is_ignored() {
    let mut h = Harness::standard();
    h.market();
    h.tick(SBIN, TEN - SEC, 800_00, 799_95, 800_05);
    assert!(h.news(SBIN, TEN, 1000).is_empty());
    assert_eq!(h.counts().no_chain, 1);
    assert_eq!(h.counts().entries, 0);
}

#[test]
fn no_entry_before_spot_or_premium_is_known() {
    let mut h = Harness::standard();
    h.premium(option(1, 24_000, CALL), TEN - SEC, 150_00);
    assert!(h.news(INDEX, TEN, 900).is_empty());
    assert_eq!(h.counts().no_spot, 1);
    // Spot known, but the chosen option has not been quoted.
    h.spot(TEN + SEC, 24_030);
    assert!(h.news(INDEX, TEN + SEC, -900).is_empty());
    assert_eq!(h.counts().no_premium, 1);
    // Once it is, the entry goes.
    h.premium(option(1, 24_000, PUT), TEN + 2 * SEC, 140_00);
    assert_eq!(h.news(INDEX, TEN + 3 * SEC, -900).len(), 1);
}

#[test]
fn cheap_premiums_and_late_news_are_not_bought() {
    let mut h = Harness::standard();
    h.spot(TEN - SEC, 24_030);
    h.tick(option(1, 24_000, CALL), TEN - SEC, 19_90, 19_85, 19_95);
    assert!(h.news(INDEX, TEN, 900).is_empty());
    assert_eq!(h.counts().cheap, 1);
    h.tick(option(1, 24_000, CALL), TEN, 20_00, 19_95, 20_00);
    assert_eq!(h.news(INDEX, TEN, 900).len(), 1, "20.00 is not below 20");

    let three = OPEN + (5 * 60 + 45) * MIN; // 15:00:00
    let mut h = Harness::standard();
    h.spot(three - SEC, 24_030);
    h.premium(option(1, 24_000, CALL), three - SEC, 150_00);
    assert!(h.news(INDEX, three, 900).is_empty());
    assert_eq!(h.counts().late, 1);
    assert_eq!(h.news(INDEX, three - SEC, 900).len(), 1);
}

#[test]
fn time_stop_fires_at_exactly_hold_secs() {
    let mut h = Harness::standard();
    h.market();
    let call = option(1, 24_000, CALL);
    h.news(INDEX, TEN, 800);
    let until = TEN + 300 * SEC;
    assert!(h.premium(call, until - 1, 155_00).is_empty());
    assert!(h.spot(until - 1, 24_040).is_empty());
    // The option's tick at the deadline exits at its bid.
    assert_eq!(
        summary(&h.premium(call, until, 156_00)),
        [(call, Direction::Flat, p("155.95"), Price::ZERO)]
    );
    assert_eq!(h.counts().time_exits, 1);
    // Only once.
    assert!(h.premium(call, until + SEC, 156_00).is_empty());
    assert!(h.spot(until + SEC, 24_040).is_empty());
}

#[test]
fn time_stop_also_fires_on_the_underlying_when_the_option_is_quiet() {
    let mut h = Harness::standard();
    h.market();
    let put = option(1, 24_000, PUT);
    h.news(INDEX, TEN, -800);
    h.premium(put, TEN + SEC, 160_00);
    assert!(h.spot(TEN + 299 * SEC, 24_000).is_empty());
    // At the option's last bid.
    assert_eq!(
        summary(&h.spot(TEN + 300 * SEC, 24_000)),
        [(put, Direction::Flat, p("159.95"), Price::ZERO)]
    );
}

#[test]
fn premium_target_exits_on_the_bid() {
    let mut h = Harness::standard();
    h.market();
    let call = option(1, 24_000, CALL);
    h.news(INDEX, TEN, 800);
    // Entry 150.05; 30% above is 195.065, rounded up to 195.10. A last trade above it
    // with the bid below is not enough.
    assert!(h.tick(call, TEN + SEC, 196_00, 195_05, 196_05).is_empty());
    assert_eq!(
        summary(&h.tick(call, TEN + 2 * SEC, 195_10, 195_10, 195_15)),
        [(call, Direction::Flat, p("195.10"), Price::ZERO)]
    );
    assert_eq!(h.counts().target_exits, 1);
    // Ticks of other options do not exit anything.
    let mut h = Harness::standard();
    h.market();
    h.news(INDEX, TEN, 800);
    assert!(h
        .premium(option(1, 24_100, CALL), TEN + SEC, 300_00)
        .is_empty());
}

#[test]
fn one_position_per_underlying_then_a_cooldown() {
    let mut h = Harness::standard();
    h.market();
    let call = option(1, 24_000, CALL);
    h.news(INDEX, TEN, 800);
    assert!(h.news(INDEX, TEN + SEC, -900).is_empty());
    assert_eq!(h.counts().busy, 1);
    let exit = TEN + 10 * SEC;
    assert_eq!(h.tick(call, exit, 200_00, 200_00, 200_05).len(), 1);
    // The cooldown runs 300 s from the exit.
    assert!(h.news(INDEX, exit + 299 * SEC, 900).is_empty());
    assert_eq!(h.counts().cooldown, 1);
    assert_eq!(h.news(INDEX, exit + 300 * SEC, 900).len(), 1);
    assert_eq!(h.counts().entries, 2);
}

#[test]
fn a_stop_reached_ends_the_record_without_a_signal() {
    let mut h = Harness::standard();
    h.market();
    let call = option(1, 24_000, CALL);
    h.news(INDEX, TEN, 800);
    // The stop is 120.00; the risk stage exits at the last trade reaching it.
    assert!(h.tick(call, TEN + SEC, 120_05, 119_00, 121_00).is_empty());
    assert!(h
        .tick(call, TEN + 2 * SEC, 120_00, 119_95, 120_05)
        .is_empty());
    assert_eq!(h.counts().stops_seen, 1);
    // No time stop later, and the cooldown started at the stop.
    assert!(h.spot(TEN + 300 * SEC, 24_000).is_empty());
    assert_eq!(h.counts().time_exits, 0);
    assert!(h.news(INDEX, TEN + 301 * SEC, 800).is_empty());
    assert_eq!(h.news(INDEX, TEN + 302 * SEC, 800).len(), 1);
}

#[test]
fn subscribes_to_underlyings_with_options_and_their_options() {
    let t = table();
    let s = NewsImpactScalper::new(&NewsImpactScalperConfig::default(), &t, "s").unwrap();
    let subscribed: Vec<InstrumentId> =
        t.iter().filter(|i| s.subscribes(i)).map(|i| i.id).collect();
    let mut expected = vec![INDEX];
    expected.extend((2..14).map(InstrumentId));
    assert_eq!(subscribed, expected);
    // The shared test table: its option has no expiry, so there is no chain to trade.
    let shared = crate::signal::test_support::table();
    let s = NewsImpactScalper::new(&NewsImpactScalperConfig::default(), &shared, "s").unwrap();
    assert!(shared.iter().all(|i| !s.subscribes(i)));
}

#[test]
fn invalid_settings_are_config_issues() {
    let config = NewsImpactScalperConfig {
        min_sentiment: 1001,
        hold_secs: 0,
        ..NewsImpactScalperConfig::default()
    };
    let issues =
        NewsImpactScalper::new(&config, &table(), "strategy.news_impact_scalper").unwrap_err();
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "strategy.news_impact_scalper.min_sentiment: is 1001, must be between 1 and 1000 (per mille)",
            "strategy.news_impact_scalper.hold_secs: is 0, must be between 1 and 21600 seconds",
        ]
    );
}

#[test]
fn stops_round_down_and_targets_up() {
    let tick = Price::from_paise(5);
    assert_eq!(premium_stop(p("150.05"), 2000, tick), p("120.00")); // 120.04
    assert_eq!(premium_stop(p("100"), 2000, tick), p("80"));
    assert_eq!(premium_stop(p("0.05"), 2000, tick), Price::ZERO); // 0.04 → 0
    assert_eq!(premium_target(p("150.05"), 3000, tick), p("195.10")); // 195.065
    assert_eq!(premium_target(p("100"), 3000, tick), p("130"));
    assert_eq!(
        premium_target(Price::MAX, 3000, tick),
        Price::MAX.round_up_to_tick(tick)
    );
}
