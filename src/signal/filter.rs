//! Orchestration filters: rules over every strategy's entries, applied by the signal
//! stage before a signal leaves for risk.
//!
//! A filter watches closed bars to keep its own state and passes or refuses each entry
//! signal (`Long`/`Short`); exits (`Flat`) always pass, so a filter never traps a
//! position. Refusals are counted per strategy and reason. The regime gate
//! ([`RegimeGate`](super::market_regime::RegimeGate)) counts its refusals here too,
//! as [`FilterRefusal::REGIME_DISABLED`].
//!
//! | filter | file | refuses |
//! | --- | --- | --- |
//! | [`MarketBias`] | `filter/bias.rs` | longs against a down-trending index, shorts against an up-trending one |
//! | [`RelativeStrength`] | `filter/relative_strength.rs` | longs in stocks weaker than the index over a lookback, shorts in stronger ones |
//! | [`OverboughtOversold`] | `filter/obos.rs` | longs after N up days or a large 3-day rise (shorts in the mirror case), from [`DayHistory`] |

mod bias;
mod config;
mod history;
mod obos;
mod relative_strength;

use std::fmt;

pub use bias::{Bias, MarketBias};
pub use config::FilterConfig;
pub use history::{DayHistory, DayStats};
pub use obos::OverboughtOversold;
pub use relative_strength::RelativeStrength;

use crate::{
    model::{InstrumentKind, InstrumentTable, Signal},
    signal::Bar,
};

/// Why a filter refused an entry: a short static name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FilterRefusal(pub &'static str);

impl FilterRefusal {
    /// A long while the index trends down, or a short while it trends up.
    pub const AGAINST_BIAS: FilterRefusal = FilterRefusal("against_market_bias");
    /// A long in a stock weaker than the index, or a short in a stronger one.
    pub const RELATIVE_STRENGTH: FilterRefusal = FilterRefusal("relative_strength");
    /// A long after a run of up days or a large 3-day rise (a short in the mirror case).
    pub const OVERBOUGHT_OVERSOLD: FilterRefusal = FilterRefusal("overbought_oversold");

    /// An entry of a strategy the regime gate does not allow in the current market
    /// regime (`[strategy.regime_adaptive.allow]`).
    pub const REGIME_DISABLED: FilterRefusal = FilterRefusal("regime_disabled");

    /// Every reason, for preallocated counting.
    pub const ALL: [FilterRefusal; 4] = [
        FilterRefusal::AGAINST_BIAS,
        FilterRefusal::RELATIVE_STRENGTH,
        FilterRefusal::OVERBOUGHT_OVERSOLD,
        FilterRefusal::REGIME_DISABLED,
    ];

    /// Its index in [`FilterRefusal::ALL`].
    pub fn slot(self) -> usize {
        FilterRefusal::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or(0)
    }
}

impl fmt::Display for FilterRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// One orchestration rule.
///
/// `on_bar` and `check` run on the signal stage's thread for every bar and entry: they
/// must not allocate.
pub trait SignalFilter: Send + fmt::Debug {
    /// Folds a closed bar (of any instrument) into the filter's state.
    fn on_bar(&mut self, bar: &Bar);

    /// Passes or refuses an entry signal.
    ///
    /// # Errors
    /// The [`FilterRefusal`] that stops it.
    fn check(&self, signal: &Signal) -> Result<(), FilterRefusal>;
}

/// The filters in force, in order; the first refusal wins.
#[derive(Debug, Default)]
pub struct FilterChain {
    filters: Vec<Box<dyn SignalFilter>>,
    /// By instrument index: for an option, its underlying and whether it is a put.
    options: Vec<Option<(crate::model::InstrumentId, bool)>>,
}

impl FilterChain {
    /// No filters: every entry passes.
    pub fn none() -> FilterChain {
        FilterChain::default()
    }

    /// The filters `config` enables, for `instruments` (the first index in the table is
    /// the market; without one, the market filters pass everything), with the day-level
    /// statistics of `history` as of `today`.
    pub fn from_config(
        config: &FilterConfig,
        instruments: &InstrumentTable,
        history: &DayHistory,
        today: crate::model::Date,
    ) -> FilterChain {
        let index = instruments
            .iter()
            .position(|i| i.kind == InstrumentKind::Index)
            .map(|i| crate::model::InstrumentId(i as u32));
        let mut chain = FilterChain::none();
        chain.options = instruments
            .iter()
            .map(|i| match (i.kind, i.underlying) {
                (InstrumentKind::Option, Some(u)) => {
                    Some((u, i.option_type == Some(crate::model::OptionType::Put)))
                }
                _ => None,
            })
            .collect();
        if config.overbought_oversold {
            let stats = (0..instruments.len())
                .map(|i| history.stats(crate::model::InstrumentId(i as u32), today))
                .collect();
            chain = chain.with(OverboughtOversold::new(
                stats,
                config.obos_days,
                config.obos_move_pct,
            ));
        }
        let Some(index) = index else {
            return chain;
        };
        if config.market_bias {
            chain = chain.with(MarketBias::new(
                index,
                config.bias_bars,
                config.bias_band_pct,
            ));
        }
        if config.relative_strength {
            chain = chain.with(RelativeStrength::new(
                instruments,
                index,
                config.relative_strength_bars,
            ));
        }
        chain
    }

    /// Appends a filter.
    pub fn with(mut self, filter: impl SignalFilter + 'static) -> FilterChain {
        self.filters.push(Box::new(filter));
        self
    }

    /// Folds a closed bar into every filter.
    #[inline]
    pub fn on_bar(&mut self, bar: &Bar) {
        for f in &mut self.filters {
            f.on_bar(bar);
        }
    }

    /// Runs every filter on an entry; exits pass without asking.
    ///
    /// A bought option is judged as the position it stands for in its underlying: a call
    /// as a long, a put as a short (so a put is not refused for being "long" while the
    /// market falls, which is when it is meant to be bought).
    ///
    /// # Errors
    /// The first [`FilterRefusal`].
    #[inline]
    pub fn check(&self, signal: &Signal) -> Result<(), FilterRefusal> {
        if signal.direction == crate::model::Direction::Flat {
            return Ok(());
        }
        let mut seen = *signal;
        if let Some(Some((underlying, put))) = self.options.get(signal.instrument.index()) {
            seen.instrument = *underlying;
            if *put {
                seen.direction = match signal.direction {
                    crate::model::Direction::Long => crate::model::Direction::Short,
                    crate::model::Direction::Short => crate::model::Direction::Long,
                    crate::model::Direction::Flat => crate::model::Direction::Flat,
                };
            }
        }
        self.filters.iter().try_for_each(|f| f.check(&seen))
    }

    /// True when no filter is in force.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Direction, Exchange, Instrument, InstrumentId, Price, SectorId, Segment, Stamp, StrategyId,
        UnixNanos,
    };

    const INDEX: InstrumentId = InstrumentId(0);
    const STRONG: InstrumentId = InstrumentId(1);
    const WEAK: InstrumentId = InstrumentId(2);

    fn table() -> InstrumentTable {
        let mut t = InstrumentTable::new();
        let mut index = Instrument::nse_equity("NIFTY 50", SectorId(0));
        index.kind = InstrumentKind::Index;
        index.segment = Segment::Indices;
        index.exchange = Exchange::Nse;
        t.push(index).unwrap();
        t.push(Instrument::nse_equity("UP", SectorId(0))).unwrap();
        t.push(Instrument::nse_equity("DOWN", SectorId(0))).unwrap();
        for (symbol, kind) in [
            ("NIFTY25DEC24000CE", crate::model::OptionType::Call),
            ("NIFTY25DEC24000PE", crate::model::OptionType::Put),
        ] {
            t.push(Instrument {
                kind: InstrumentKind::Option,
                segment: Segment::Fno,
                underlying: Some(INDEX),
                option_type: Some(kind),
                ..Instrument::nse_equity(symbol, SectorId(0))
            })
            .unwrap();
        }
        t.push(Instrument {
            underlying: Some(INDEX),
            ..Instrument::nse_equity("NIFTYBEES", SectorId(0))
        })
        .unwrap();
        t
    }

    const CALL: InstrumentId = InstrumentId(3);
    const PUT: InstrumentId = InstrumentId(4);
    const INDEX_FUND: InstrumentId = InstrumentId(5);

    fn bar(id: InstrumentId, close: &str) -> Bar {
        let c: Price = close.parse().unwrap();
        Bar {
            instrument: id,
            start: UnixNanos(0),
            secs: 60,
            open: c,
            high: c,
            low: c,
            close: c,
            volume: 1,
            trades: 1,
            turnover: 0.0,
        }
    }

    fn signal(id: InstrumentId, direction: Direction) -> Signal {
        Signal {
            exchange_ts: UnixNanos(0),
            ingress: Stamp(0),
            price: "100".parse().unwrap(),
            stop: Price::ZERO,
            target: Price::ZERO,
            instrument: id,
            strategy: StrategyId(0),
            direction,
            weight_pct: Signal::FULL_WEIGHT,
        }
    }

    fn chain(bias: bool, rs: bool) -> FilterChain {
        let config = FilterConfig {
            market_bias: bias,
            bias_bars: 3,
            bias_band_pct: 0.1,
            relative_strength: rs,
            relative_strength_bars: 3,
            overbought_oversold: false,
            ..FilterConfig::default()
        };
        FilterChain::from_config(
            &config,
            &table(),
            &DayHistory::empty(5),
            crate::model::Date::new(2026, 11, 25),
        )
    }

    /// Four bars: the index falls 2% (100 → 98), UP rises, DOWN falls 5%.
    fn falling_market(chain: &mut FilterChain) {
        for (i, u, d) in [
            ("100", "50", "200"),
            ("99.5", "50.5", "198"),
            ("99", "51", "195"),
            ("98", "52", "190"),
        ] {
            chain.on_bar(&bar(INDEX, i));
            chain.on_bar(&bar(STRONG, u));
            chain.on_bar(&bar(WEAK, d));
        }
    }

    #[test]
    fn no_longs_against_a_falling_index_no_shorts_against_a_rising_one() {
        let mut c = chain(true, false);
        assert_eq!(
            c.check(&signal(STRONG, Direction::Long)),
            Ok(()),
            "not warm: passes"
        );
        falling_market(&mut c);
        assert_eq!(
            c.check(&signal(STRONG, Direction::Long)),
            Err(FilterRefusal::AGAINST_BIAS)
        );
        assert_eq!(c.check(&signal(WEAK, Direction::Short)), Ok(()));
        assert_eq!(
            c.check(&signal(STRONG, Direction::Flat)),
            Ok(()),
            "exits pass"
        );
        let mut up = MarketBias::new(INDEX, 3, 0.1);
        for close in ["100", "101", "102", "104"] {
            up.on_bar(&bar(INDEX, close));
        }
        assert_eq!(up.bias(), Bias::Up);
        assert_eq!(
            up.check(&signal(WEAK, Direction::Short)),
            Err(FilterRefusal::AGAINST_BIAS)
        );
        // Within the band the market has no bias.
        let mut flat = MarketBias::new(INDEX, 3, 0.1);
        for close in ["100", "100.02", "99.98", "100.05"] {
            flat.on_bar(&bar(INDEX, close));
        }
        assert_eq!(flat.bias(), Bias::Neutral);
    }

    #[test]
    fn a_bought_option_is_judged_as_its_position_in_the_underlying() {
        let mut c = chain(true, true);
        falling_market(&mut c);
        // Buying a put in a falling market is a short on the index: with the bias, and
        // the index is not ranked against itself.
        assert_eq!(c.check(&signal(PUT, Direction::Long)), Ok(()));
        assert_eq!(
            c.check(&signal(CALL, Direction::Long)),
            Err(FilterRefusal::AGAINST_BIAS)
        );
    }

    #[test]
    fn longs_only_in_stocks_stronger_than_the_index() {
        let mut c = chain(false, true);
        falling_market(&mut c);
        assert_eq!(c.check(&signal(STRONG, Direction::Long)), Ok(()));
        assert_eq!(
            c.check(&signal(WEAK, Direction::Long)),
            Err(FilterRefusal::RELATIVE_STRENGTH)
        );
        assert_eq!(c.check(&signal(WEAK, Direction::Short)), Ok(()));
        assert_eq!(
            c.check(&signal(STRONG, Direction::Short)),
            Err(FilterRefusal::RELATIVE_STRENGTH)
        );
        assert_eq!(
            c.check(&signal(INDEX, Direction::Long)),
            Ok(()),
            "the index itself"
        );
    }

    #[test]
    fn no_longs_after_a_run_of_up_days_or_a_big_three_day_rise() {
        let stats = |up, down, moved| DayStats {
            up_days: up,
            down_days: down,
            move_3d_pct: Some(moved),
        };
        let f = OverboughtOversold::new(
            vec![stats(3, 0, 2.0), stats(1, 0, 6.5), stats(0, 2, -1.0)],
            3,
            5.0,
        );
        let refused = Err(FilterRefusal::OVERBOUGHT_OVERSOLD);
        assert_eq!(
            f.check(&signal(INDEX, Direction::Long)),
            refused,
            "three up days"
        );
        assert_eq!(
            f.check(&signal(STRONG, Direction::Long)),
            refused,
            "up 6.5% in 3 days"
        );
        assert_eq!(f.check(&signal(STRONG, Direction::Short)), Ok(()));
        assert_eq!(f.check(&signal(WEAK, Direction::Long)), Ok(()));
        assert_eq!(
            f.check(&signal(WEAK, Direction::Short)),
            Ok(()),
            "two down days < 3"
        );
        assert_eq!(f.check(&signal(INDEX, Direction::Flat)), Ok(()));
    }

    #[test]
    fn the_first_refusal_wins_and_an_empty_chain_passes() {
        let mut both = chain(true, true);
        falling_market(&mut both);
        assert_eq!(
            both.check(&signal(WEAK, Direction::Long)),
            Err(FilterRefusal::AGAINST_BIAS)
        );
        assert!(FilterChain::none()
            .check(&signal(WEAK, Direction::Long))
            .is_ok());
        assert!(FilterChain::from_config(
            &FilterConfig {
                overbought_oversold: false,
                ..FilterConfig::default()
            },
            &InstrumentTable::new(),
            &DayHistory::empty(0),
            crate::model::Date::new(2026, 11, 25)
        )
        .is_empty());
    }

    #[test]
    fn an_index_fund_is_not_judged_against_its_own_index() {
        let mut chain = chain(false, true);
        falling_market(&mut chain);
        // The fund fell a little more than the index (98 → 96): a stock doing that
        // would be refused a long; the fund is the index, so it passes either way.
        for close in ["98", "97.5", "97", "96"] {
            chain.on_bar(&bar(INDEX_FUND, close));
        }
        assert_eq!(
            chain.check(&signal(WEAK, Direction::Long)),
            Err(FilterRefusal::RELATIVE_STRENGTH)
        );
        assert_eq!(chain.check(&signal(INDEX_FUND, Direction::Long)), Ok(()));
        assert_eq!(chain.check(&signal(INDEX_FUND, Direction::Short)), Ok(()));
    }
}
