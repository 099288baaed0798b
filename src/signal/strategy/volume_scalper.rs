//! Volume-spike scalper: trades a bar of unusual volume whose prices confirm a direction,
//! and gets out within minutes.

mod config;
mod confirmation;
mod scalp;
#[cfg(test)]
mod tests;

pub use config::VolumeScalperConfig;

use self::{
    confirmation::PriceConfirmation,
    scalp::{Exit, ExitRules, Scalp},
};
use crate::{
    config::ConfigIssue,
    model::{Direction, Instrument, InstrumentTable, Price, Tick, TimeOfDay, UnixNanos},
    signal::{
        indicator::{IndicatorBank, IndicatorHandle, IndicatorKind, IndicatorSpec},
        Bar, Strategy, StrategyContext,
    },
};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// The volume-spike scalper.
///
/// **Entry**, on the close of a `bar_secs` bar of a subscribed instrument, when all hold:
/// - its volume z-score against the `lookback_bars` bars before it (the shared
///   [`IndicatorKind::VolumeZ`]) is at least `min_z`;
/// - its prices confirm a side: for a long the close is above
///   the open and above the previous bar's close, within `close_position` of the range
///   below the high, and at least `min_move_bps` above the open (a short mirrors it,
///   when `allow_short`);
/// - the bar started at or after 09:15 IST plus `skip_open_mins` (the opening auction
///   and the first minutes trade heavily without news, so their volume is no spike),
///   and the bar closed before `last_entry`;
/// - the strategy holds no scalp in the instrument, and `cooldown_bars` bar lengths of
///   market time have passed since its last exit there.
///
/// It emits [`Direction::Long`] (`Short`) at the bar's close with a protective stop
/// `stop_buffer_ticks` beyond the bar's low (high), at most `max_stop_bps` from the
/// entry, rounded away from the entry to the instrument's tick: the spike bar's extreme
/// is where the move that drew the volume is proven wrong.
///
/// **Exit**, on the instrument's ticks: a `Flat` signal when the exit
/// side of the book reaches the target (`target_r` times the entry-to-stop distance;
/// the entry signal carries it, and with [`VolumeScalper::with_targets_to_risk`] the
/// risk stage books it instead), or
/// once `hold_secs` of market time have passed since the entry signal (the time stop: a
/// spike's information is spent within minutes). A stop hit needs no signal, since the
/// risk stage closes the position itself, but ends the scalp and starts the cooldown.
///
/// Strategies never see positions: the scalp is what the strategy signalled, so an entry
/// refused downstream still blocks the instrument until its time stop, whose `Flat` the
/// risk stage then refuses as `already_flat`.
///
/// Subscribes to every equity in the table, or to the configured symbols. All state is
/// sized at construction; the callbacks neither allocate nor format.
#[derive(Debug)]
pub struct VolumeScalper {
    bar_secs: u32,
    min_z: f64,
    confirmation: PriceConfirmation,
    exits: ExitRules,
    /// Cooldown after an exit, in nanoseconds of market time.
    cooldown_nanos: u64,
    /// Earliest IST time a spike bar may start.
    first_entry: TimeOfDay,
    /// IST time from which no entry is signalled.
    last_entry: TimeOfDay,
    /// The bank's volume z-score; `None` when no instrument is subscribed.
    volume_z: Option<IndicatorHandle>,
    /// By instrument index; `None` when not subscribed.
    states: Vec<Option<InstrumentState>>,
    /// The risk stage books targets (`risk.partial_exit`); see
    /// [`VolumeScalper::with_targets_to_risk`].
    targets_to_risk: bool,
}

/// The strategy's state for one instrument.
#[derive(Debug, Clone, Copy)]
struct InstrumentState {
    tick_size: Price,
    /// Close of the previous `bar_secs` bar, once one has closed.
    prev_close: Option<Price>,
    /// The scalp the strategy signalled and has not exited yet.
    scalp: Option<Scalp>,
    /// Market time before which no new entry is taken (the end of the cooldown).
    cooldown_until: UnixNanos,
}

impl VolumeScalper {
    /// The name in reports and on the control socket.
    pub const NAME: &'static str = "volume_scalper";

    /// Builds the strategy for the instruments of `instruments`, requesting the volume
    /// z-score of every subscribed instrument from `indicators`.
    ///
    /// # Errors
    /// Every problem with `config`, each keyed under `prefix`
    /// (`strategy.volume_scalper`): invalid values, and listed symbols that are not in the
    /// table or are indices. Nothing is requested from `indicators` then.
    pub fn new(
        config: &VolumeScalperConfig,
        instruments: &InstrumentTable,
        prefix: &str,
        indicators: &mut IndicatorBank,
    ) -> Result<VolumeScalper, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        config.validate(prefix, &mut issues);
        let wanted =
            super::symbols::equities_or_listed(&config.symbols, instruments, prefix, &mut issues);
        if !issues.is_empty() {
            return Err(issues);
        }
        let spec = IndicatorSpec {
            secs: config.bar_secs,
            kind: IndicatorKind::VolumeZ(
                u16::try_from(config.lookback_bars).expect("validated lookback fits in u16"),
            ),
        };
        let mut volume_z = None;
        let states = instruments
            .iter()
            .map(|instrument| {
                wanted[instrument.id.index()].then(|| {
                    volume_z = Some(indicators.request(spec, instrument.id));
                    InstrumentState {
                        tick_size: instrument.tick_size,
                        prev_close: None,
                        scalp: None,
                        cooldown_until: UnixNanos(0),
                    }
                })
            })
            .collect();
        Ok(VolumeScalper {
            bar_secs: config.bar_secs,
            min_z: config.min_z,
            confirmation: PriceConfirmation {
                close_position_pct: config.close_position_pct(),
                min_move_bps: config.min_move_bps,
                allow_short: config.allow_short,
            },
            exits: ExitRules {
                stop_buffer_ticks: config.stop_buffer_ticks,
                max_stop_bps: config.max_stop_bps,
                target_r_pct: config.target_r_pct(),
                hold_nanos: u64::from(config.hold_secs) * NANOS_PER_SEC,
            },
            cooldown_nanos: u64::from(config.cooldown_bars)
                * u64::from(config.bar_secs)
                * NANOS_PER_SEC,
            first_entry: config.first_entry(),
            last_entry: config.last_entry_time(),
            volume_z,
            states,
            targets_to_risk: false,
        })
    }

    /// The same strategy leaving its target to the risk stage (`risk.partial_exit`):
    /// the entry signal carries the target and the scalp keeps only its time stop and
    /// the stop it watches, so what the risk stage leaves open after booking part of
    /// the position still ends at `hold_secs`.
    pub fn with_targets_to_risk(mut self, on: bool) -> VolumeScalper {
        self.targets_to_risk = on;
        self
    }

    /// The bar length spikes are judged on; bars of other lengths are ignored.
    pub fn bar_secs(&self) -> u32 {
        self.bar_secs
    }
}

impl Strategy for VolumeScalper {
    fn name(&self) -> &'static str {
        VolumeScalper::NAME
    }

    fn subscribes(&self, instrument: &Instrument) -> bool {
        self.states
            .get(instrument.id.index())
            .is_some_and(Option::is_some)
    }

    /// Entries are decided on bars; ticks matter only while a scalp is open (its
    /// target and time stop), and the entry signal watches them.
    fn wants_ticks(&self, _: &Instrument) -> bool {
        false
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        if bar.secs != self.bar_secs {
            return;
        }
        let Some(Some(state)) = self.states.get_mut(bar.instrument.index()) else {
            return;
        };
        let prev_close = state.prev_close.replace(bar.close);
        let now = ctx.now();
        if state.scalp.is_some()
            || now < state.cooldown_until
            || bar.start.ist_time_of_day() < self.first_entry
            || now.ist_time_of_day() >= self.last_entry
        {
            return;
        }
        let Some(prev_close) = prev_close else {
            return;
        };
        let z = self
            .volume_z
            .and_then(|h| ctx.indicators().value(h, bar.instrument));
        // NaN never passes: the comparison is written so that it must be true.
        if !z.is_some_and(|z| z >= self.min_z) {
            return;
        }
        let Some(direction) = self.confirmation.direction(bar, prev_close) else {
            return;
        };
        let mut scalp = self.exits.open(direction, bar, now, state.tick_size);
        let target = scalp.target.unwrap_or(Price::ZERO);
        if self.targets_to_risk {
            scalp.target = None;
        }
        if ctx.emit_with_target(bar.instrument, direction, scalp.entry, scalp.stop, target) {
            state.scalp = Some(scalp);
        }
    }

    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        let Some(Some(state)) = self.states.get_mut(tick.instrument.index()) else {
            return;
        };
        let Some(scalp) = state.scalp else {
            ctx.unwatch_ticks(tick.instrument);
            return;
        };
        let Some(exit) = scalp.exit(tick) else {
            return;
        };
        match exit {
            Exit::Stopped => {}
            Exit::Target(price) | Exit::Time(price) => {
                if !ctx.emit(tick.instrument, Direction::Flat, price, Price::ZERO) {
                    return; // the event's signal budget is spent: try again next tick
                }
            }
        }
        state.scalp = None;
        state.cooldown_until = ctx.now().add_nanos(self.cooldown_nanos);
    }
}
