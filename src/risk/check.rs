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
//! | [`Halted`] | `check/halted.rs` | entries unless trading is active (reducing: no new or larger position) |
//! | [`DailyLossGate`] | `check/daily_loss.rs` | entries once the daily loss limit was hit today |
//! | [`FeedFresh`] | `check/stale.rs` | entries while the whole live feed is stale (`stale_feed` alert up) |
//! | [`SignalAge`] | `check/signal_age.rs` | any order from a signal older than `signal_expiry_secs` |
//! | [`EntryWindow`] | `check/window.rs` | entries at or after the last entry time |
//! | [`QuoteAge`] | `check/stale.rs` | entries on an instrument whose last tick is older than `stale_quote_secs`, or that never ticked |
//! | [`Ownership`] | `check/owner.rs` | any order on an instrument another strategy holds |
//! | [`OneOrderAtATime`] | `check/in_flight.rs` | any order while one is in flight on the instrument |
//! | [`Cooldown`] | `check/cooldown.rs` | entries within `cooldown_secs` of the last order on the instrument |
//! | [`RiskSizing`] | `check/sizing.rs` | prices entries at the touch, puts the stop on the tick grid, sizes by the risk to it (equity or option budget) and the position cap; refuses below one lot |
//! | [`PriceBand`] | `check/price_band.rs` | entries paying further than `price_band_pct` from the last trade |
//! | [`ExposureCap`] | `check/exposure.rs` | shrinks entries to fit the gross exposure cap; refuses below one lot |
//! | [`OptionExposureCap`] | `check/option_exposure.rs` | shrinks option entries to fit the options cap |
//! | [`SectorCap`] | `check/sector.rs` | shrinks entries to fit their sector's cap |
//! | [`CorrelationCap`] | `check/correlation.rs` | entries whose correlated cluster is full, or shrinks them to its exposure cap |
//! | [`MaxOrderValue`] | `check/order_value.rs` | shrinks entries to `max_order_value` (fat finger) |
//!
//! The caps that shrink run after sizing, so each sees the size the ones before it left;
//! every cap counts what is committed now, entries in flight included.

mod context;
mod cooldown;
mod correlation;
mod daily_loss;
mod exposure;
mod halted;
mod in_flight;
mod option_exposure;
mod order_value;
mod owner;
mod price_band;
mod sector;
mod signal_age;
mod sizing;
mod stale;
mod window;

use std::fmt;

pub use context::CheckContext;
pub use cooldown::Cooldown;
pub use correlation::CorrelationCap;
pub use daily_loss::DailyLossGate;
pub use exposure::ExposureCap;
pub use halted::Halted;
pub use in_flight::OneOrderAtATime;
pub use option_exposure::OptionExposureCap;
pub use order_value::MaxOrderValue;
pub use owner::Ownership;
pub use price_band::PriceBand;
pub use sector::SectorCap;
pub use signal_age::SignalAge;
pub use sizing::RiskSizing;
pub use stale::{FeedFresh, QuoteAge};
pub use window::EntryWindow;

use crate::{
    model::{InstrumentId, IntentReason, Money, Price, Qty, Side, StrategyId},
    risk::{config::RiskConfig, refusals::Refusal},
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

    /// The chain `config` asks for, in the order of the table above. Entries end at
    /// `last_entry`, or at `square_off` should that come first.
    pub fn standard(config: &RiskConfig) -> CheckChain {
        CheckChain::new()
            .with(Halted)
            .with(DailyLossGate)
            .with(FeedFresh)
            .with(SignalAge::from_config(config))
            .with(EntryWindow::new(config.last_entry.min(config.square_off)))
            .with(QuoteAge::from_config(config))
            .with(Ownership)
            .with(OneOrderAtATime)
            .with(Cooldown::from_config(config))
            .with(RiskSizing::from_config(config))
            .with(PriceBand::from_config(config))
            .with(ExposureCap::from_config(config))
            .with(OptionExposureCap::from_config(config))
            .with(SectorCap::from_config(config))
            .with(CorrelationCap::from_config(config))
            .with(MaxOrderValue::from_config(config))
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

/// Shrinks an entry so that its value at its reference price fits in `room`, in whole
/// lots of `lot_size`; `refusal` when not even one lot fits.
fn shrink_to_room(
    proposal: &mut Proposal,
    room: Money,
    lot_size: u32,
    refusal: Refusal,
) -> Result<(), Refusal> {
    let price = i128::from(proposal.reference.raw());
    if room.raw() <= 0 || price <= 0 {
        return Err(refusal);
    }
    // Money and Price share the 10^-8 unit, so raw / raw counts units.
    let fits = whole_lots(
        (room.raw() / price).clamp(0, i128::from(u64::MAX)) as u64,
        lot_size,
    );
    let qty = proposal.qty.min(fits);
    if qty.is_zero() {
        return Err(refusal);
    }
    proposal.qty = qty;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::{
        model::TimeOfDay,
        risk::{limits::LimitState, position::Position},
    };

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

    /// A limit state with no instruments, shared by the tests of single checks.
    pub(crate) fn no_limits() -> &'static LimitState {
        static EMPTY: OnceLock<LimitState> = OnceLock::new();
        EMPTY.get_or_init(LimitState::empty)
    }

    /// A context at 10:00 with nothing committed and equity ₹10 lakh.
    pub(crate) fn context(position: &Position) -> CheckContext<'_> {
        CheckContext::new(position, no_limits())
    }

    #[test]
    fn standard_chain_sizes_then_caps() {
        let chain = CheckChain::standard(&RiskConfig {
            max_position_pct: Money::from_rupees(500),
            max_sector_pct: Money::from_rupees(500),
            max_order_value: Money::from_rupees(10_000_000),
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
        assert_eq!(chain.run(&mut p, &late), Err(Refusal::AfterLastEntry));
    }

    #[test]
    fn lots_round_down() {
        assert_eq!(whole_lots(149, 50), Qty::new(100));
        assert_eq!(whole_lots(u64::MAX, 1), Qty::new(u32::MAX));
        assert_eq!(whole_lots(7, 0), Qty::new(7));
    }
}
