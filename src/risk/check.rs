//! Risk checks: small units behind a one-method trait, run in order on every order a
//! signal would cause.
//!
//! A check sees a [`Proposal`] (an entry or an exit the stage is about to send) and a
//! [`CheckContext`] (the position, the time, the committed exposure) and either passes it,
//! possibly sizing or shrinking it, or refuses it with a [`Refusal`]. The first refusal
//! wins. Exits the risk stage decides on its own (protective stop, square-off) are not
//! checked: closing risk is always allowed.
//!
//! | check | file | refuses |
//! | --- | --- | --- |
//! | [`Halted`] | `check/halted.rs` | entries unless trading is active |
//! | [`EntryWindow`] | `check/window.rs` | entries at or after the last entry time |
//! | [`Ownership`] | `check/owner.rs` | any order on an instrument another strategy holds |
//! | [`OneOrderAtATime`] | `check/in_flight.rs` | any order while one is in flight on the instrument |
//! | [`Cooldown`] | `check/cooldown.rs` | entries within `cooldown_secs` of the last order on the instrument |
//! | [`RiskSizing`] | `check/sizing.rs` | sizes entries by the risk to the stop; refuses below one lot |
//! | [`ExposureCap`] | `check/exposure.rs` | shrinks entries to fit the exposure cap; refuses below one lot |

mod cooldown;
mod exposure;
mod halted;
mod in_flight;
mod owner;
mod sizing;
mod window;

use std::fmt;

pub use cooldown::Cooldown;
pub use exposure::ExposureCap;
pub use halted::Halted;
pub use in_flight::OneOrderAtATime;
pub use owner::Ownership;
pub use sizing::RiskSizing;
pub use window::EntryWindow;

use crate::{
    model::{
        InstrumentId, IntentReason, Money, Price, Qty, Side, StrategyId, TimeOfDay, TradingState,
        UnixNanos,
    },
    risk::{config::RiskConfig, position::Position},
};

/// One risk rule.
///
/// Implementations hold their parameters (set at construction) and read the moment's
/// state from the context; `check` runs on the hot path, so it must not allocate.
pub trait RiskCheck: Send + fmt::Debug {
    /// Passes `proposal` (possibly changing its size or stop) or refuses it.
    ///
    /// # Errors
    /// The [`Refusal`] that stops the order.
    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal>;

    /// Takes the limits of `config` (an operator's `set`, or a scheduled one). Checks
    /// without parameters from `[risk]` keep the default, which does nothing. Runs on
    /// the stage thread between events: it must not allocate.
    fn configure(&mut self, config: &RiskConfig) {
        let _ = config;
    }
}

/// Why a signal did not become an order: a short static name, counted per reason in the
/// run summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Refusal(pub &'static str);

impl Refusal {
    /// Trading is halted: no strategy order at all (only the risk stage's own exits
    /// and the operator's closes trade).
    pub const HALTED: Refusal = Refusal("halted");
    /// Trading is reduce-only: no new entries.
    pub const REDUCE_ONLY: Refusal = Refusal("reduce_only");
    /// The entry came at or after the last entry time of the day.
    pub const AFTER_LAST_ENTRY: Refusal = Refusal("after_last_entry");
    /// Another strategy holds the instrument (or has an entry in flight on it).
    pub const OWNED_BY_OTHER: Refusal = Refusal("owned_by_other_strategy");
    /// An earlier order on the instrument awaits its final report.
    pub const ORDER_IN_FLIGHT: Refusal = Refusal("order_in_flight");
    /// The signal carries no reference price to size an entry with.
    pub const NO_PRICE: Refusal = Refusal("no_reference_price");
    /// The stop is not below a long entry (or above a short one).
    pub const STOP_WRONG_SIDE: Refusal = Refusal("stop_on_wrong_side");
    /// The risk budget buys less than one lot at this stop distance.
    pub const BELOW_ONE_LOT: Refusal = Refusal("below_one_lot");
    /// Less than one lot fits under the exposure cap.
    pub const EXPOSURE_LIMIT: Refusal = Refusal("exposure_limit");
    /// A `Flat` signal with no position.
    pub const ALREADY_FLAT: Refusal = Refusal("already_flat");
    /// A signal for the direction the position already has.
    pub const ALREADY_IN_POSITION: Refusal = Refusal("already_in_position");
    /// The signal names an instrument outside the table.
    pub const UNKNOWN_INSTRUMENT: Refusal = Refusal("unknown_instrument");
    /// The signal names a strategy outside the configured count.
    pub const UNKNOWN_STRATEGY: Refusal = Refusal("unknown_strategy");
    /// The instrument cannot be traded (an index).
    pub const NOT_TRADABLE: Refusal = Refusal("not_tradable");
    /// Too many intents await their final reports.
    pub const IN_FLIGHT_FULL: Refusal = Refusal("in_flight_table_full");
    /// The signal is older than `risk.signal_expiry_secs` of market time.
    pub const SIGNAL_EXPIRED: Refusal = Refusal("signal_expired");
    /// The instrument last filled less than `risk.cooldown_secs` ago.
    pub const COOLDOWN: Refusal = Refusal("cooldown");

    /// Every reason the risk stage itself can give, for preallocated counting.
    pub const ALL: [Refusal; 17] = [
        Refusal::HALTED,
        Refusal::REDUCE_ONLY,
        Refusal::AFTER_LAST_ENTRY,
        Refusal::OWNED_BY_OTHER,
        Refusal::ORDER_IN_FLIGHT,
        Refusal::NO_PRICE,
        Refusal::STOP_WRONG_SIDE,
        Refusal::BELOW_ONE_LOT,
        Refusal::EXPOSURE_LIMIT,
        Refusal::ALREADY_FLAT,
        Refusal::ALREADY_IN_POSITION,
        Refusal::UNKNOWN_INSTRUMENT,
        Refusal::UNKNOWN_STRATEGY,
        Refusal::NOT_TRADABLE,
        Refusal::IN_FLIGHT_FULL,
        Refusal::SIGNAL_EXPIRED,
        Refusal::COOLDOWN,
    ];
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// An order the risk stage is about to send because of a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The strategy whose signal it is.
    pub strategy: StrategyId,
    /// Buy or sell.
    pub side: Side,
    /// [`IntentReason::Entry`] or [`IntentReason::Exit`].
    pub reason: IntentReason,
    /// The price the strategy decided on; entries are sized and reserved at it.
    pub reference: Price,
    /// Protective stop of an entry (zero until sizing sets the default).
    pub stop: Price,
    /// Units; zero for an entry until sizing sets it.
    pub qty: Qty,
    /// Share of the risk budget an entry is sized with, in percent (100: all of it),
    /// from the signal's [`Signal::weight_pct`](crate::model::Signal::weight_pct).
    pub weight_pct: u8,
}

impl Proposal {
    /// True for an entry (which opens risk), false for an exit (which closes it).
    pub fn is_entry(&self) -> bool {
        self.reason == IntentReason::Entry
    }
}

/// What a check may read about the moment.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The position in the proposal's instrument.
    pub position: &'a Position,
    /// Units per lot of the instrument (1 for cash equity).
    pub lot_size: u32,
    /// IST time of day of the signal, in market time.
    pub time: TimeOfDay,
    /// Whether strategies may open positions now.
    pub trading: TradingState,
    /// Exposure already committed: open positions at their marks plus entries in flight,
    /// less the position an exit sent with this entry is closing.
    pub exposure: Money,
    /// Market time of the signal.
    pub now: UnixNanos,
    /// Market time of the last fill on the instrument, from any strategy (zero: none).
    pub last_order: UnixNanos,
    /// What the per-position risk and exposure caps are percentages of: equity
    /// (capital + realised net P&L + unrealised P&L) or the fixed capital, as
    /// `risk.sizing_basis` says; read it through [`CheckContext::equity`].
    pub equity: Money,
}

impl CheckContext<'_> {
    /// The rupees the sizing and exposure percentages of `[risk]` are taken of.
    pub fn equity(&self) -> Money {
        self.equity
    }
}

/// The checks, in the order they run.
#[derive(Debug, Default)]
pub struct CheckChain {
    checks: Vec<Box<dyn RiskCheck>>,
}

impl CheckChain {
    /// An empty chain (passes everything).
    pub fn new() -> CheckChain {
        CheckChain::default()
    }

    /// The chain `config` asks for: halted, entry window, ownership, one order at a
    /// time, cooldown, risk sizing, exposure cap. Entries end at `last_entry`, or at `square_off`
    /// should that come first.
    ///
    /// # Panics
    /// If the configured percentages overflow (impossible for a validated config).
    pub fn standard(config: &RiskConfig) -> CheckChain {
        CheckChain::new()
            .with(Halted)
            .with(EntryWindow::new(config.last_entry.min(config.square_off)))
            .with(Ownership)
            .with(OneOrderAtATime)
            .with(Cooldown::from_config(config))
            .with(RiskSizing::from_config(config))
            .with(ExposureCap::from_config(config))
    }

    /// Appends a check.
    pub fn with(mut self, check: impl RiskCheck + 'static) -> CheckChain {
        self.checks.push(Box::new(check));
        self
    }

    /// Hands `config`'s limits to every check (see [`RiskCheck::configure`]).
    pub fn configure(&mut self, config: &RiskConfig) {
        for check in &mut self.checks {
            check.configure(config);
        }
    }

    /// Runs every check in order; the first refusal stops the chain.
    ///
    /// # Errors
    /// The first [`Refusal`].
    pub fn run(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        self.checks
            .iter()
            .try_for_each(|check| check.check(proposal, ctx))
    }
}

/// Rounds `units` down to whole lots.
fn whole_lots(units: u64, lot_size: u32) -> Qty {
    let capped = units.min(u64::from(u32::MAX)) as u32;
    Qty::new(capped).round_down_to_lot(lot_size)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An entry proposal for tests.
    pub(crate) fn entry(side: Side, reference: &str, stop: &str) -> Proposal {
        Proposal {
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            side,
            reason: IntentReason::Entry,
            reference: reference.parse().unwrap(),
            stop: stop.parse().unwrap(),
            qty: Qty::ZERO,
            weight_pct: 100,
        }
    }

    /// A context at 10:00 with nothing committed.
    pub(crate) fn context(position: &Position) -> CheckContext<'_> {
        CheckContext {
            position,
            lot_size: 1,
            time: TimeOfDay::hm(10, 0),
            trading: TradingState::Active,
            exposure: Money::ZERO,
            now: UnixNanos(0),
            last_order: UnixNanos(0),
            equity: Money::from_rupees(1_000_000),
        }
    }

    #[test]
    fn standard_chain_sizes_then_caps() {
        let chain = CheckChain::standard(&RiskConfig {
            max_position_pct: Money::from_rupees(500),
            ..RiskConfig::default()
        });
        let flat = Position::default();
        // 2% of 10 lakh = 20 000 at risk; stop 5 away → 4000 shares, 70% cap of
        // 7 lakh at 100 → 7000: risk sizing decides.
        let mut p = entry(Side::Buy, "100", "95");
        chain.run(&mut p, &context(&flat)).unwrap();
        assert_eq!(p.qty, Qty::new(4000));
        // stop 1 away → 20 000 shares, capped at 7000.
        let mut p = entry(Side::Buy, "100", "99");
        chain.run(&mut p, &context(&flat)).unwrap();
        assert_eq!(p.qty, Qty::new(7000));
        let late = CheckContext {
            time: TimeOfDay::hm(15, 0),
            ..context(&flat)
        };
        let mut p = entry(Side::Buy, "100", "99");
        assert_eq!(chain.run(&mut p, &late), Err(Refusal::AFTER_LAST_ENTRY));
    }

    #[test]
    fn reasons_are_distinct() {
        for (i, a) in Refusal::ALL.iter().enumerate() {
            for b in &Refusal::ALL[i + 1..] {
                assert_ne!(a.0, b.0);
            }
        }
    }

    #[test]
    fn lots_round_down() {
        assert_eq!(whole_lots(149, 50), Qty::new(100));
        assert_eq!(whole_lots(u64::MAX, 1), Qty::new(u32::MAX));
        assert_eq!(whole_lots(7, 0), Qty::new(7));
    }
}
