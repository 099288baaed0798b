//! Intraday momentum on equities: ride a volume-confirmed breakout of the recent range
//! in the direction of the session VWAP and a sloping EMA, with an ATR stop and target.

mod config;
mod levels;
#[cfg(test)]
mod tests;

pub use config::MomentumSurferConfig;
use levels::Levels;

use crate::{
    config::ConfigIssue,
    model::{
        Date, Direction, Instrument, InstrumentId, InstrumentTable, Price, Tick, TimeOfDay,
        UnixNanos,
    },
    signal::{
        indicator::{IndicatorBank, IndicatorHandle, IndicatorKind, IndicatorSpec, Window},
        Bar, Strategy, StrategyContext,
    },
};

/// Intraday trend following: enters on a breakout that the session's flow, the trend
/// and the volume all agree with, and gets out when the trend is spent.
///
/// **Entry**, on the close of a bar of `bar_secs` (long; a short is the mirror image
/// and needs `allow_short`):
/// - the close is above the session VWAP (buyers are in control today),
/// - the EMA of closes rose over the last `slope_bars` bars, by at least
///   `min_slope_bps` of its earlier value (the trend is up, not just the bar),
/// - the close is above the highest high of the `range_bars` bars before it, counted
///   within the day (a breakout, not a drift inside the range),
/// - the bar's volume z-score against the `volume_bars` bars before it is at least
///   `volume_z` (participation confirms the break),
/// - the day has had more than `warmup_bars` bars (the session VWAP and the opening
///   auction's noise settle first), it is no later than `last_entry` (IST), and the
///   last exit in this direction on this instrument is at least `reentry_bars` bars
///   old (no chasing a move that just failed).
///
/// The signal's reference price is the close; its protective stop is `stop_atr` ATRs
/// away and the strategy's target `target_atr` ATRs the other way, both rounded away
/// from the entry to the instrument's tick.
///
/// **Exit** (a [`Direction::Flat`] signal), while the strategy's own record says it is
/// in a trade: on the first tick at or beyond the target (unless the risk stage books
/// targets: [`MomentumSurfer::with_targets_to_risk`]); on a bar closing back on the
/// wrong side of the session VWAP (the trend broke); after `max_hold_bars` bars, when
/// set. The protective stop is the risk stage's to enforce: a tick at or through it
/// only closes the record here. A bar that exits never enters, even the other way.
///
/// The strategy never sees positions, so an entry the risk stage refused still counts as
/// a trade here until its exit, whose `Flat` is then refused as `already_flat`.
///
/// Indicators (EMA, ATR, session VWAP, volume z-score) come from the shared
/// [`IndicatorBank`]; the strategy keeps only what is its own per instrument: the
/// recent EMA values, the recent bars' ranges, its trade record and the bar count of the
/// day, all sized at construction and started afresh each IST day.
#[derive(Debug)]
pub struct MomentumSurfer {
    rules: Rules,
    /// By instrument index; `None` when not subscribed.
    states: Vec<Option<SurferState>>,
}

/// The validated settings the hot path reads.
#[derive(Debug, Clone, Copy)]
struct Rules {
    bar_secs: u32,
    min_slope_bps: f64,
    volume_z: f64,
    stop_atr: f64,
    target_atr: f64,
    /// Zero: no time stop.
    max_hold_bars: u32,
    reentry_bars: u32,
    warmup_bars: u32,
    last_entry: TimeOfDay,
    allow_short: bool,
    /// The risk stage books the target (`risk.partial_exit`): the target travels in the
    /// entry signal and reaching it sends nothing here.
    targets_to_risk: bool,
}

/// The side of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Long,
    Short,
}

impl Side {
    fn direction(self) -> Direction {
        match self {
            Side::Long => Direction::Long,
            Side::Short => Direction::Short,
        }
    }
}

/// What the strategy signalled and is now waiting to exit.
#[derive(Debug, Clone, Copy)]
struct Trade {
    side: Side,
    levels: Levels,
    /// The day's bar count at the entry bar.
    entry_bar: u32,
}

/// The last exit, for the re-entry pause.
#[derive(Debug, Clone, Copy)]
struct Exit {
    side: Side,
    /// The day's bar count when it happened.
    bar: u32,
}

/// One bar's extremes, for the breakout range.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    high: Price,
    low: Price,
}

/// The shared indicators this strategy reads for one instrument.
#[derive(Debug, Clone, Copy)]
struct Handles {
    vwap: IndicatorHandle,
    ema: IndicatorHandle,
    atr: IndicatorHandle,
    volume_z: IndicatorHandle,
}

/// The indicators' values after the bar being handled; `None` while one warms up.
#[derive(Debug, Clone, Copy)]
struct Readings {
    vwap: Option<f64>,
    atr: Option<f64>,
    volume_z: Option<f64>,
}

/// The strategy's state for one instrument.
#[derive(Debug)]
struct SurferState {
    tick_size: Price,
    handles: Handles,
    /// The IST day the counts below belong to.
    day: Option<Date>,
    /// Bars of `bar_secs` closed today, the one being handled included.
    bars_today: u32,
    /// The EMA after each of the last `slope_bars + 1` bars: oldest vs newest is the
    /// slope.
    ema: Window<f64>,
    /// The last `range_bars` bars of the day, not yet including the one being handled.
    range: Window<Span>,
    trade: Option<Trade>,
    last_exit: Option<Exit>,
}

impl SurferState {
    /// Starts the day's counts afresh when `day` is a new IST day. Yesterday's range and
    /// trend do not describe today's open, and any trade was squared off overnight.
    fn roll_to(&mut self, day: Date) {
        if self.day == Some(day) {
            return;
        }
        self.day = Some(day);
        self.bars_today = 0;
        self.ema.clear();
        self.range.clear();
        self.trade = None;
        self.last_exit = None;
    }

    /// Ends the trade record and starts the re-entry pause for its side.
    fn close_trade(&mut self, side: Side) {
        self.trade = None;
        self.last_exit = Some(Exit {
            side,
            bar: self.bars_today,
        });
    }

    /// The EMA's move over the slope window in basis points of its earlier value, with
    /// its sign; `None` until the window is full.
    fn ema_slope_bps(&self) -> Option<f64> {
        let (then, now) = (self.ema.oldest()?, self.ema.newest()?);
        (then > 0.0).then(|| (now - then) / then * 10_000.0)
    }

    /// Highest high and lowest low of the range window; `None` until it is full.
    fn range_extremes(&self) -> Option<Span> {
        if !self.range.is_full() {
            return None;
        }
        let mut extremes = Span {
            high: Price::ZERO,
            low: Price::MAX,
        };
        for span in self.range.values() {
            extremes.high = extremes.high.max(span.high);
            extremes.low = extremes.low.min(span.low);
        }
        Some(extremes)
    }

    /// True unless the last exit was on `side` fewer than `pause` bars ago.
    fn may_reenter(&self, side: Side, pause: u32) -> bool {
        match self.last_exit {
            Some(exit) if exit.side == side => self.bars_today.saturating_sub(exit.bar) >= pause,
            _ => true,
        }
    }
}

impl MomentumSurfer {
    /// The name in reports and on the control socket.
    pub const NAME: &'static str = "momentum_surfer";

    /// Builds the strategy for the instruments of `instruments`, requesting the session
    /// VWAP, EMA, ATR and volume z-score of every subscribed one from `indicators`.
    ///
    /// # Errors
    /// Every problem with `config`, each keyed under `prefix`
    /// (`strategy.momentum_surfer`): invalid values, and listed symbols that are not in
    /// the table or are indices.
    pub fn new(
        config: &MomentumSurferConfig,
        instruments: &InstrumentTable,
        prefix: &str,
        indicators: &mut IndicatorBank,
    ) -> Result<MomentumSurfer, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        config.validate(prefix, &mut issues);
        let wanted =
            super::symbols::equities_or_listed(&config.symbols, instruments, prefix, &mut issues);
        let Some(last_entry) = config.last_entry_time() else {
            return Err(issues); // validate reported it
        };
        if !issues.is_empty() {
            return Err(issues);
        }
        let secs = config.bar_secs;
        // Validated to at most 1000, so these fit the bank's u16 periods.
        let period = |n: usize| u16::try_from(n).expect("validated period");
        let mut request = |kind: IndicatorKind, id: InstrumentId| {
            indicators.request(IndicatorSpec { secs, kind }, id)
        };
        let states = instruments
            .iter()
            .map(|instrument| {
                let id = instrument.id;
                wanted[id.index()].then(|| SurferState {
                    tick_size: instrument.tick_size,
                    handles: Handles {
                        vwap: request(IndicatorKind::SessionVwap, id),
                        ema: request(IndicatorKind::Ema(period(config.ema_period)), id),
                        atr: request(IndicatorKind::Atr(period(config.atr_period)), id),
                        volume_z: request(IndicatorKind::VolumeZ(period(config.volume_bars)), id),
                    },
                    day: None,
                    bars_today: 0,
                    ema: Window::new(config.slope_bars + 1),
                    range: Window::new(config.range_bars),
                    trade: None,
                    last_exit: None,
                })
            })
            .collect();
        let bars = |n: usize| u32::try_from(n).expect("validated bar count");
        Ok(MomentumSurfer {
            rules: Rules {
                bar_secs: secs,
                min_slope_bps: config.min_slope_bps,
                volume_z: config.volume_z,
                stop_atr: config.stop_atr,
                target_atr: config.target_atr,
                max_hold_bars: bars(config.max_hold_bars),
                reentry_bars: bars(config.reentry_bars),
                warmup_bars: bars(config.warmup_bars),
                last_entry,
                allow_short: config.allow_short,
                targets_to_risk: false,
            },
            states,
        })
    }

    /// The same strategy leaving its target to the risk stage (`risk.partial_exit`):
    /// the entry signal carries the target, and the first tick there no longer sends a
    /// `Flat`; the trade stays on record for its other exits (the trend break, the time
    /// stop) to close whatever the risk stage left open.
    pub fn with_targets_to_risk(mut self, on: bool) -> MomentumSurfer {
        self.rules.targets_to_risk = on;
        self
    }

    /// The bar length the strategy trades on; bars of other lengths are ignored.
    pub fn bar_secs(&self) -> u32 {
        self.rules.bar_secs
    }
}

impl Rules {
    /// The entry `bar` calls for, if any, given the indicators after it and the market
    /// time `now`; `state` holds the range before the bar and the EMA after it.
    fn entry(
        &self,
        state: &SurferState,
        bar: &Bar,
        readings: Readings,
        now: UnixNanos,
    ) -> Option<(Side, Levels)> {
        if state.bars_today <= self.warmup_bars || now.ist_time_of_day() > self.last_entry {
            return None;
        }
        let (Some(vwap), Some(atr), Some(volume_z)) =
            (readings.vwap, readings.atr, readings.volume_z)
        else {
            return None;
        };
        if volume_z < self.volume_z {
            return None;
        }
        let slope = state.ema_slope_bps()?;
        let range = state.range_extremes()?;
        let close = bar.close;
        let (stop_dist, target_dist) = (self.stop_atr * atr, self.target_atr * atr);
        let tick = state.tick_size;
        if close.to_f64() > vwap
            && slope > 0.0
            && slope >= self.min_slope_bps
            && close > range.high
            && state.may_reenter(Side::Long, self.reentry_bars)
        {
            return Levels::long(close, stop_dist, target_dist, tick).map(|l| (Side::Long, l));
        }
        if self.allow_short
            && close.to_f64() < vwap
            && slope < 0.0
            && -slope >= self.min_slope_bps
            && close < range.low
            && state.may_reenter(Side::Short, self.reentry_bars)
        {
            return Levels::short(close, stop_dist, target_dist, tick).map(|l| (Side::Short, l));
        }
        None
    }

    /// True when `trade` should end on the close of `bar`: the close is back on the
    /// wrong side of the session VWAP, or the time stop ran out.
    fn bar_exit(&self, trade: &Trade, state: &SurferState, bar: &Bar, vwap: Option<f64>) -> bool {
        let close = bar.close.to_f64();
        let broken = vwap.is_some_and(|vwap| match trade.side {
            Side::Long => close < vwap,
            Side::Short => close > vwap,
        });
        let held = state.bars_today.saturating_sub(trade.entry_bar);
        broken || (self.max_hold_bars > 0 && held >= self.max_hold_bars)
    }
}

impl Strategy for MomentumSurfer {
    fn name(&self) -> &'static str {
        MomentumSurfer::NAME
    }

    fn subscribes(&self, instrument: &Instrument) -> bool {
        self.states
            .get(instrument.id.index())
            .is_some_and(Option::is_some)
    }

    /// Entries are decided on bars; ticks matter only while a trade is open (its
    /// target), and the entry signal watches them.
    fn wants_ticks(&self, _: &Instrument) -> bool {
        false
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        let rules = &self.rules;
        if bar.secs != rules.bar_secs {
            return;
        }
        let id = bar.instrument;
        let Some(Some(state)) = self.states.get_mut(id.index()) else {
            return;
        };
        state.roll_to(bar.start.ist_date());
        state.bars_today += 1;
        let bank = ctx.indicators();
        let readings = Readings {
            vwap: bank.value(state.handles.vwap, id),
            atr: bank.value(state.handles.atr, id),
            volume_z: bank.value(state.handles.volume_z, id),
        };
        if let Some(ema) = bank.value(state.handles.ema, id) {
            state.ema.push(ema);
        }
        if let Some(trade) = state.trade {
            if rules.bar_exit(&trade, state, bar, readings.vwap) {
                ctx.emit(id, Direction::Flat, bar.close, Price::ZERO);
                state.close_trade(trade.side);
            }
        } else if let Some((side, levels)) = rules.entry(state, bar, readings, ctx.now()) {
            ctx.emit_with_target(id, side.direction(), bar.close, levels.stop, levels.target);
            state.trade = Some(Trade {
                side,
                levels,
                entry_bar: state.bars_today,
            });
        }
        state.range.push(Span {
            high: bar.high,
            low: bar.low,
        });
    }

    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        let Some(Some(state)) = self.states.get_mut(tick.instrument.index()) else {
            return;
        };
        let Some(trade) = state.trade else {
            ctx.unwatch_ticks(tick.instrument);
            return;
        };
        let last = tick.last;
        if !last.is_positive() {
            return;
        }
        if state.day != Some(tick.exchange_ts.ist_date()) {
            // A new day before its first bar: yesterday's record is stale.
            state.roll_to(tick.exchange_ts.ist_date());
            return;
        }
        let Levels { stop, target } = trade.levels;
        let (reached, stopped) = match trade.side {
            Side::Long => (last >= target, last <= stop),
            Side::Short => (last <= target, last >= stop),
        };
        if reached && !self.rules.targets_to_risk {
            ctx.emit(tick.instrument, Direction::Flat, last, Price::ZERO);
            state.close_trade(trade.side);
        } else if stopped {
            // The risk stage closes the position at its protective stop on this mark.
            state.close_trade(trade.side);
        }
    }
}
