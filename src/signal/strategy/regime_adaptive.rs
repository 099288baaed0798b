//! Regime-adaptive: holds the index ETF in the market regimes that favour it, as the
//! stage's regime tracker reads them from the index.

mod config;

pub use config::RegimeAdaptiveConfig;

use crate::{
    config::ConfigIssue,
    model::{
        Direction, Instrument, InstrumentId, InstrumentKind, InstrumentTable, Price, Tick,
        TimeOfDay, UnixNanos,
    },
    signal::{Bar, Strategy, StrategyContext},
};

/// Trades the index ETF on regime switches.
///
/// On every closed index bar of `bar_secs` (after the stage's
/// [`RegimeTracker`](crate::signal::market_regime::RegimeTracker) took it in) the
/// strategy reads the most likely regime and its probability:
///
/// - **Entry.** When the most likely regime is one of `long_regimes` with probability
///   at least `enter_prob` on `confirm_bars` index bars in a row, it emits
///   [`Direction::Long`] for the ETF at the ETF's last traded price, with a protective
///   stop `stop_pct` below it (rounded down to the ETF's tick). With `allow_short`,
///   `short_regimes` give [`Direction::Short`] the same way (stop above, rounded up).
///   Entries only between `first_entry` and `last_entry` (IST, market time).
/// - **Exit.** While in a position, each bar checks that its regime is still the most
///   likely with probability at least `exit_prob`; when that stops holding it emits
///   [`Direction::Flat`], or the opposite entry straight away when that one is
///   confirmed on the same bar and the window is open. The protective stop is the risk
///   stage's to enforce; the square-off at the end of the day too.
///
/// It keeps its own record of what it signalled, since strategies never see positions:
/// a position stopped out by risk is still "held" here until its regime ends, and then
/// the `Flat` is refused by risk as `already_flat`, which is harmless. It subscribes to
/// the index (for its bars) and the ETF (for its price) only; all state is sized at
/// construction.
#[derive(Debug)]
pub struct RegimeAdaptive {
    index: InstrumentId,
    etf: InstrumentId,
    etf_tick: Price,
    bar_secs: u32,
    /// By state: held long / short in it.
    long: Vec<bool>,
    short: Vec<bool>,
    enter_prob: f64,
    exit_prob: f64,
    confirm_bars: u32,
    /// Stop distance in hundredths of a percent.
    stop_bps: u32,
    first_entry: TimeOfDay,
    last_entry: TimeOfDay,
    /// The ETF's last traded price (zero until it trades).
    last_price: Price,
    /// The side the last bars favoured, and for how many bars in a row.
    favoured: Direction,
    run: u32,
    /// What the strategy last signalled, and the entry's price and market time.
    held: Direction,
    entry_price: Price,
    entered_at: UnixNanos,
}

impl RegimeAdaptive {
    /// The name in reports, on the control socket and in the gate's tables.
    pub const NAME: &'static str = "regime_adaptive";

    /// Builds the strategy for the instruments of `instruments`; `strategies` are the
    /// names the gate tables may use.
    ///
    /// # Errors
    /// Every problem with `config`, each keyed under `prefix`
    /// (`strategy.regime_adaptive`): invalid values, an ETF symbol that is not a
    /// tradable instrument of the table, and a table without an index.
    pub fn new(
        config: &RegimeAdaptiveConfig,
        instruments: &InstrumentTable,
        prefix: &str,
        strategies: &[&str],
    ) -> Result<RegimeAdaptive, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        config.validate(prefix, strategies, &mut issues);
        let etf = match instruments.find(&config.symbol) {
            Some(id) if instruments.get(id).kind == InstrumentKind::Index => {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.symbol"),
                    format!("{} is an index, which cannot be traded", config.symbol),
                ));
                None
            }
            Some(id) => Some(id),
            None if config.symbol.trim().is_empty() => None, // reported by validate
            None => {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.symbol"),
                    format!("{} is not in the instrument table", config.symbol),
                ));
                None
            }
        };
        let index = first_index(instruments);
        if index.is_none() {
            issues.push(ConfigIssue::new(
                prefix.to_owned(),
                "the instrument table has no index to read regimes from",
            ));
        }
        let (Some(etf), Some(index), true) = (etf, index, issues.is_empty()) else {
            return Err(issues);
        };
        let in_list = |list: &[String]| -> Vec<bool> {
            config.states.iter().map(|s| list.contains(s)).collect()
        };
        let (first_entry, last_entry) = config.entry_window();
        Ok(RegimeAdaptive {
            index,
            etf,
            etf_tick: instruments.get(etf).tick_size,
            bar_secs: config.bar_secs,
            long: in_list(&config.long_regimes),
            short: if config.allow_short {
                in_list(&config.short_regimes)
            } else {
                vec![false; config.states.len()]
            },
            enter_prob: config.enter_prob,
            exit_prob: config.exit_prob,
            confirm_bars: config.confirm_bars,
            stop_bps: config.stop_bps(),
            first_entry,
            last_entry,
            last_price: Price::ZERO,
            favoured: Direction::Flat,
            run: 0,
            held: Direction::Flat,
            entry_price: Price::ZERO,
            entered_at: UnixNanos(0),
        })
    }

    /// The position the strategy last signalled.
    pub fn held(&self) -> Direction {
        self.held
    }

    /// The price and market time of the entry it holds, if any.
    pub fn entry(&self) -> Option<(Price, UnixNanos)> {
        (self.held != Direction::Flat).then_some((self.entry_price, self.entered_at))
    }

    /// The side regime `state` at `probability` favours for a new entry.
    fn favours(&self, state: usize, probability: f64) -> Direction {
        if probability < self.enter_prob {
            Direction::Flat
        } else if self.long.get(state).copied().unwrap_or(false) {
            Direction::Long
        } else if self.short.get(state).copied().unwrap_or(false) {
            Direction::Short
        } else {
            Direction::Flat
        }
    }

    /// True while regime `state` at `probability` still holds the position `held`.
    fn keeps(&self, held: Direction, state: usize, probability: f64) -> bool {
        let side = match held {
            Direction::Long => &self.long,
            Direction::Short => &self.short,
            Direction::Flat => return true,
        };
        probability >= self.exit_prob && side.get(state).copied().unwrap_or(false)
    }

    fn on_regime(&mut self, state: usize, probability: f64, ctx: &mut StrategyContext<'_>) {
        let favoured = self.favours(state, probability);
        if favoured == self.favoured {
            self.run = self.run.saturating_add(1);
        } else {
            self.favoured = favoured;
            self.run = 1;
        }
        let now = ctx.now();
        let time = now.ist_time_of_day();
        let may_enter = favoured != Direction::Flat
            && favoured != self.held
            && self.run >= self.confirm_bars
            && (self.first_entry..self.last_entry).contains(&time)
            && self.last_price.is_positive();
        let keeps = self.keeps(self.held, state, probability);
        let price = self.last_price;
        let wanted = if may_enter {
            favoured
        } else if !keeps {
            Direction::Flat
        } else {
            return;
        };
        let stop = match wanted {
            Direction::Long => long_stop(price, self.stop_bps, self.etf_tick),
            Direction::Short => short_stop(price, self.stop_bps, self.etf_tick),
            Direction::Flat => Price::ZERO,
        };
        if ctx.emit(self.etf, wanted, price, stop) {
            self.held = wanted;
            self.entry_price = if wanted == Direction::Flat {
                Price::ZERO
            } else {
                price
            };
            self.entered_at = now;
        }
    }
}

/// The first index of the table: the market the regimes are read from.
pub(crate) fn first_index(instruments: &InstrumentTable) -> Option<InstrumentId> {
    instruments
        .iter()
        .find(|i| i.kind == InstrumentKind::Index)
        .map(|i| i.id)
}

impl Strategy for RegimeAdaptive {
    fn name(&self) -> &'static str {
        RegimeAdaptive::NAME
    }

    fn subscribes(&self, instrument: &Instrument) -> bool {
        instrument.id == self.index || instrument.id == self.etf
    }

    /// Only the ETF's last price is read from ticks; the index is read as bars.
    fn wants_ticks(&self, instrument: &Instrument) -> bool {
        instrument.id == self.etf
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        if bar.instrument != self.index || bar.secs != self.bar_secs {
            return;
        }
        let Some((state, probability)) = ctx
            .regime()
            .and_then(|r| r.state().map(|s| (s, r.probability())))
        else {
            return;
        };
        self.on_regime(state, probability, ctx);
    }

    fn on_tick(&mut self, tick: &Tick, _ctx: &mut StrategyContext<'_>) {
        if tick.instrument == self.etf && tick.last.is_positive() {
            self.last_price = tick.last;
        }
    }
}

/// `price` less `bps` hundredths of a percent, rounded down to `tick`; zero (no stop,
/// the risk stage applies its default) if that leaves nothing above zero.
fn long_stop(price: Price, bps: u32, tick: Price) -> Price {
    let raw = i128::from(price.raw()) * i128::from(10_000 - bps.min(10_000)) / 10_000;
    let stop = Price::from_raw(raw as i64).round_down_to_tick(tick);
    if stop.is_positive() {
        stop
    } else {
        Price::ZERO
    }
}

/// `price` plus `bps` hundredths of a percent, rounded up to `tick` (saturating).
fn short_stop(price: Price, bps: u32, tick: Price) -> Price {
    let scaled = i128::from(price.raw()) * i128::from(10_000 + bps);
    let raw = (scaled + 9_999).div_euclid(10_000);
    Price::from_raw(i64::try_from(raw).unwrap_or(i64::MAX)).round_up_to_tick(tick)
}

#[cfg(test)]
mod tests;
