//! NSE's (and the broker's) rules the paper exchange enforces, each refused with its own
//! [`RejectReason`].
//!
//! | rule | reason |
//! | --- | --- |
//! | zero quantity | [`RejectReason::ZeroQty`] |
//! | quantity not a whole number of lots; a limit or trigger off the tick size; a stop whose trigger the last trade already passed; a stop-limit whose limit is on the wrong side of its trigger | [`RejectReason::Invalid`] |
//! | quantity above the instrument's freeze quantity (with `rules.freeze_qty`) | [`RejectReason::FreezeQty`] |
//! | market or stop-market order without market protection | [`RejectReason::MarketProtection`] |
//! | limit or trigger outside the price band around the day's reference price | [`RejectReason::PriceBand`] |
//! | more orders in one second of market time than the venue accepts | [`RejectReason::RateLimited`] |
//!
//! MIS orders still working at the broker's square-off time (15:20 IST equity, 15:25
//! F&O) are cancelled. Closing *positions* is not the venue's job here: the risk stage
//! squares off at its own, earlier time (15:15 by default).

use super::{config::RulesConfig, resting::Touch};
use crate::{
    model::{
        Date, Instrument, InstrumentKind, InstrumentTable, Money, Price, RejectReason, Segment,
        Side, TimeOfDay, UnixNanos,
    },
    order::venue::{OrderType, VenueOrder},
};

/// What the rules need of one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spec {
    pub lot: u32,
    pub tick: Price,
    pub freeze: u32,
    /// Price band, percent either side of the reference; zero = none.
    pub band_pct: Money,
    /// Futures and options (the later MIS square-off).
    pub fno: bool,
}

impl Spec {
    fn new(instrument: &Instrument, rules: &RulesConfig) -> Spec {
        Spec {
            lot: instrument.lot_size.max(1),
            tick: instrument.tick_size,
            band_pct: match instrument.kind {
                InstrumentKind::Equity => rules.equity_band_pct,
                InstrumentKind::Future => rules.future_band_pct,
                InstrumentKind::Option => rules.option_band_pct,
                InstrumentKind::Index => Money::ZERO,
            },
            fno: instrument.segment == Segment::Fno,
            freeze: if rules.freeze_qty {
                instrument.freeze_qty
            } else {
                0
            },
        }
    }
}

/// The rules of one run: per-instrument specs, the order-rate counter and the MIS
/// square-off times.
#[derive(Debug, Clone)]
pub(super) struct Rules {
    specs: Vec<Spec>,
    pub max_modifications: u32,
    orders_per_sec: u32,
    /// The market second being counted, and orders seen in it.
    second: u64,
    in_second: u32,
    mis_square_off: bool,
    equity_cut: TimeOfDay,
    fno_cut: TimeOfDay,
    /// The cut-off instants of the day last asked about: `(day, equity, fno)`.
    cuts: Option<(Date, UnixNanos, UnixNanos)>,
}

impl Rules {
    pub(super) fn new(instruments: &InstrumentTable, config: &RulesConfig) -> Rules {
        Rules {
            specs: instruments.iter().map(|i| Spec::new(i, config)).collect(),
            max_modifications: config.max_modifications,
            orders_per_sec: config.orders_per_sec,
            second: 0,
            in_second: 0,
            mis_square_off: config.mis_square_off,
            equity_cut: TimeOfDay::parse(&config.equity_square_off)
                .unwrap_or(TimeOfDay::hm(15, 20)),
            fno_cut: TimeOfDay::parse(&config.fno_square_off).unwrap_or(TimeOfDay::hm(15, 25)),
            cuts: None,
        }
    }

    pub(super) fn spec(&self, index: usize) -> Option<&Spec> {
        self.specs.get(index)
    }

    /// Checks an order's fields (quantity, prices) against the instrument and the band.
    pub(super) fn check_fields(
        spec: &Spec,
        order: &VenueOrder,
        touch: &Touch,
    ) -> Result<(), RejectReason> {
        let qty = order.qty.get();
        if qty == 0 {
            return Err(RejectReason::ZeroQty);
        }
        if qty % spec.lot != 0 {
            return Err(RejectReason::Invalid);
        }
        if spec.freeze > 0 && qty > spec.freeze {
            return Err(RejectReason::FreezeQty);
        }
        let priced = matches!(order.kind, OrderType::Limit | OrderType::StopLimit);
        let stop = matches!(order.kind, OrderType::StopMarket | OrderType::StopLimit);
        let market = matches!(order.kind, OrderType::Market | OrderType::StopMarket);
        if market && order.protection_bps == 0 {
            return Err(RejectReason::MarketProtection);
        }
        for (used, price) in [(priced, order.limit), (stop, order.trigger)] {
            if !used {
                continue;
            }
            if !price.is_positive() || !price.is_multiple_of(spec.tick) {
                return Err(RejectReason::Invalid);
            }
            if !in_band(price, touch.reference, spec.band_pct) {
                return Err(RejectReason::PriceBand);
            }
        }
        if order.kind == OrderType::StopLimit {
            let wrong_side = match order.side {
                Side::Buy => order.limit < order.trigger,
                Side::Sell => order.limit > order.trigger,
            };
            if wrong_side {
                return Err(RejectReason::Invalid);
            }
        }
        Ok(())
    }

    /// Checks a new stop against the last trade: a buy stop's trigger must be above it
    /// (a sell stop's below), or it would trigger at once, which brokers refuse.
    pub(super) fn check_trigger(order: &VenueOrder, touch: &Touch) -> Result<(), RejectReason> {
        let stop = matches!(order.kind, OrderType::StopMarket | OrderType::StopLimit);
        if !stop || !touch.last.is_positive() {
            return Ok(());
        }
        let passed = match order.side {
            Side::Buy => order.trigger <= touch.last,
            Side::Sell => order.trigger >= touch.last,
        };
        if passed {
            Err(RejectReason::Invalid)
        } else {
            Ok(())
        }
    }

    /// Counts an order arriving at `now` against the per-second limit.
    pub(super) fn admit(&mut self, now: UnixNanos) -> Result<(), RejectReason> {
        if self.orders_per_sec == 0 {
            return Ok(());
        }
        if now.secs() != self.second {
            self.second = now.secs();
            self.in_second = 0;
        }
        self.in_second += 1;
        if self.in_second > self.orders_per_sec {
            Err(RejectReason::RateLimited)
        } else {
            Ok(())
        }
    }

    /// The MIS square-off instants of `now`'s day, `(equity, fno)`; `None` when the
    /// square-off is off.
    pub(super) fn square_off_times(&mut self, now: UnixNanos) -> Option<(UnixNanos, UnixNanos)> {
        if !self.mis_square_off {
            return None;
        }
        let day = now.ist_date();
        match self.cuts {
            Some((d, equity, fno)) if d == day => Some((equity, fno)),
            _ => {
                let equity = UnixNanos::from_ist(day, self.equity_cut);
                let fno = UnixNanos::from_ist(day, self.fno_cut);
                self.cuts = Some((day, equity, fno));
                Some((equity, fno))
            }
        }
    }
}

/// True when `price` lies within `pct` percent of `reference` (always, without a band or
/// a reference).
pub(super) fn in_band(price: Price, reference: Price, pct: Money) -> bool {
    if pct <= Money::ZERO || !reference.is_positive() {
        return true;
    }
    let diff = i128::from(price.raw()) - i128::from(reference.raw());
    // |diff| / reference <= pct / 100, with pct in raw units of 10^-8.
    diff.abs() * 100 * Money::from_rupees(1).raw() <= i128::from(reference.raw()) * pct.raw()
}
