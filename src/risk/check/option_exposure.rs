//! Options exposure at most a share of equity.

use super::{shrink_to_room, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{model::Money, risk::config::RiskConfig};

/// Shrinks an option entry so that committed option exposure (premium value of open
/// option positions at their marks and of option entries in flight), plus the entry,
/// stays within `max_option_exposure_pct` of equity, in whole lots; refuses it when not
/// one lot fits. Other instruments and exits pass.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::*};
/// let cap = OptionExposureCap::new(Money::from_rupees(50));
/// let (flat, limits) = (Position::default(), LimitState::empty());
/// let option = InstrumentSpec { kind: InstrumentKind::Option, lot_size: 65,
///     ..InstrumentSpec::equity() };
/// let ctx = CheckContext { instrument: option, ..CheckContext::new(&flat, &limits) };
/// let mut p = Proposal { instrument: InstrumentId(0), strategy: StrategyId(0),
///     side: Side::Buy, reason: IntentReason::Entry, reference: "200".parse().unwrap(),
///     stop: "160".parse().unwrap(), qty: Qty::new(6500), weight_pct: 100 };
/// cap.check(&mut p, &ctx).unwrap();
/// assert_eq!(p.qty, Qty::new(2470)); // ₹5 lakh / ₹200 = 2500 → 38 lots of 65
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OptionExposureCap {
    pct: Money,
}

impl OptionExposureCap {
    /// A cap of `pct` percent of equity on options.
    pub fn new(pct: Money) -> OptionExposureCap {
        OptionExposureCap { pct }
    }

    /// `max_option_exposure_pct` of equity.
    pub fn from_config(config: &RiskConfig) -> OptionExposureCap {
        OptionExposureCap::new(config.max_option_exposure_pct)
    }
}

impl RiskCheck for OptionExposureCap {
    fn configure(&mut self, config: &RiskConfig) {
        *self = OptionExposureCap::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() || !ctx.instrument.is_option() {
            return Ok(());
        }
        let committed = ctx
            .limits
            .exposure
            .options()
            .saturating_add(ctx.freed.neg());
        let room = ctx
            .share_of_equity(self.pct)
            .saturating_add(committed.neg());
        shrink_to_room(proposal, room, ctx.lot_size(), Refusal::OptionExposureLimit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{InstrumentId, InstrumentKind, Qty, SectorId, Side},
        risk::{
            check::tests::*,
            limits::{InstrumentSpec, LimitState},
            position::Position,
        },
    };

    #[test]
    fn options_share_one_cap_in_flight_included_and_equities_pass() {
        let option = InstrumentSpec {
            kind: InstrumentKind::Option,
            lot_size: 65,
            sector: SectorId(0),
            ..InstrumentSpec::equity()
        };
        let mut limits = LimitState::with_specs(
            vec![option, option, InstrumentSpec::equity()],
            1,
            &RiskConfig::default(),
        );
        // ₹3 lakh of one option held, ₹1.5 lakh of another in flight: ₹50 000 room.
        limits
            .exposure
            .set_position(InstrumentId(0), Money::from_rupees(300_000));
        limits
            .exposure
            .reserve(InstrumentId(1), Money::from_rupees(150_000));
        let flat = Position::default();
        let ctx = CheckContext {
            instrument: option,
            ..CheckContext::new(&flat, &limits)
        };
        let cap = OptionExposureCap::from_config(&RiskConfig::default());
        let mut p = entry(Side::Buy, "100", "80");
        p.instrument = InstrumentId(1);
        p.qty = Qty::new(1950);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(455), "50 000 / 100 = 500 → 7 lots of 65");
        // A reversal that frees ₹50 000 of the same option makes room for it.
        p.qty = Qty::new(1950);
        let freeing = CheckContext {
            freed: Money::from_rupees(50_000),
            ..ctx
        };
        cap.check(&mut p, &freeing).unwrap();
        assert_eq!(p.qty, Qty::new(975));
        // No room at all: refused.
        limits
            .exposure
            .reserve(InstrumentId(1), Money::from_rupees(50_000));
        let full = CheckContext {
            instrument: option,
            ..CheckContext::new(&flat, &limits)
        };
        assert_eq!(cap.check(&mut p, &full), Err(Refusal::OptionExposureLimit));
        // A share is not an option.
        let mut share = entry(Side::Buy, "100", "99");
        share.qty = Qty::new(100_000);
        let equity_ctx = CheckContext::new(&flat, &limits);
        assert_eq!(cap.check(&mut share, &equity_ctx), Ok(()));
        assert_eq!(share.qty, Qty::new(100_000));
    }
}
