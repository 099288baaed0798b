//! The charge of one fill.

use super::{
    breakdown::ChargeBreakdown,
    config::{ChargesConfig, EquityProduct, RateSet},
};
use crate::model::{
    InstrumentId, InstrumentKind, InstrumentTable, Money, Price, Qty, Side, ValueError,
};

/// One crore (10^7 rupees) in raw units of [`Money`].
const CRORE: i128 = 10_000_000 * Money::from_rupees(1).raw();

/// Which rate set a trade pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChargeClass {
    /// Equity bought and sold the same day (MIS).
    EquityIntraday = 0,
    /// Equity held for delivery (CNC).
    EquityDelivery = 1,
    /// Futures.
    Futures = 2,
    /// Options (charged on the premium).
    Options = 3,
}

/// A [`RateSet`] without its provenance, to compute with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rates {
    brokerage_per_order: Money,
    brokerage_pct: Option<Money>,
    stt_buy_pct: Money,
    stt_sell_pct: Money,
    transaction_pct: Money,
    sebi_per_crore: Money,
    stamp_buy_pct: Money,
}

impl From<&RateSet> for Rates {
    fn from(s: &RateSet) -> Rates {
        Rates {
            brokerage_per_order: s.brokerage_per_order,
            brokerage_pct: s.brokerage_pct,
            stt_buy_pct: s.stt_buy_pct,
            stt_sell_pct: s.stt_sell_pct,
            transaction_pct: s.transaction_pct,
            sebi_per_crore: s.sebi_per_crore,
            stamp_buy_pct: s.stamp_buy_pct,
        }
    }
}

/// What one order has paid so far: brokerage is per *executed order*, not per fill, so
/// an order filled in parts pays it once in all.
///
/// Kept by whoever tracks the order (the risk stage keeps one per order in flight) and
/// handed to every [`ChargeModel::fill`] of that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderCharges {
    /// Value of the order's fills so far.
    pub turnover: Money,
    /// Brokerage charged to the order so far.
    pub brokerage: Money,
}

/// The cost model: the rates of every kind of trade and the rule that applies them.
///
/// A fill of value `v` (price × quantity; the premium for options) pays:
///
/// - **brokerage**: the order's due brokerage — `brokerage_per_order`, or
///   `brokerage_pct` of the order's cumulative value when that is lower — less what its
///   earlier fills paid; so the order's total is the broker's figure however it fills;
/// - **STT**: `stt_buy_pct` or `stt_sell_pct` of `v`, by side;
/// - **transaction charge**: `transaction_pct` of `v`;
/// - **SEBI fee**: `sebi_per_crore` × `v` / 10^7;
/// - **stamp duty**: `stamp_buy_pct` of `v` on buys;
/// - **GST**: `gst_pct` of brokerage + transaction charge + SEBI fee.
///
/// Each is exact to the 10^-8 rupee (truncated there); no rounding to the paisa
/// happens per fill, so the day's sums carry no rounding drift. A handful of `i128`
/// multiplications, no allocation: it runs on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeModel {
    enabled: bool,
    equity_product: EquityProduct,
    gst_pct: Money,
    rates: [Rates; 4],
}

impl ChargeModel {
    /// The model `config` describes (validated beforehand).
    pub fn new(config: &ChargesConfig) -> ChargeModel {
        ChargeModel {
            enabled: config.enabled,
            equity_product: config.equity_product,
            gst_pct: config.gst_pct,
            rates: [
                Rates::from(&config.equity_intraday),
                Rates::from(&config.equity_delivery),
                Rates::from(&config.futures),
                Rates::from(&config.options),
            ],
        }
    }

    /// A model that charges nothing.
    pub fn free() -> ChargeModel {
        ChargeModel {
            enabled: false,
            ..ChargeModel::new(&ChargesConfig::default())
        }
    }

    /// True when fills are charged.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// GST in percent, for [`ChargeBreakdown::contract_note`].
    pub fn gst_pct(&self) -> Money {
        self.gst_pct
    }

    /// The rate set trades in `kind` pay; `None` for what cannot be traded (an index).
    pub fn class_of(&self, kind: InstrumentKind) -> Option<ChargeClass> {
        match kind {
            InstrumentKind::Equity => Some(match self.equity_product {
                EquityProduct::Intraday => ChargeClass::EquityIntraday,
                EquityProduct::Delivery => ChargeClass::EquityDelivery,
            }),
            InstrumentKind::Future => Some(ChargeClass::Futures),
            InstrumentKind::Option => Some(ChargeClass::Options),
            InstrumentKind::Index => None,
        }
    }

    /// The charges of one fill of `qty` at `price` in an order whose earlier fills left
    /// `order`, which is updated.
    ///
    /// # Errors
    /// [`ValueError::Overflow`]; `order` is then unchanged.
    pub fn fill(
        &self,
        class: ChargeClass,
        side: Side,
        qty: Qty,
        price: Price,
        order: &mut OrderCharges,
    ) -> Result<ChargeBreakdown, ValueError> {
        if !self.enabled {
            return Ok(ChargeBreakdown::ZERO);
        }
        let r = &self.rates[class as usize];
        let value = price.notional(qty);
        let turnover = order.turnover.checked_add(value)?;
        let due = match r.brokerage_pct {
            Some(pct) => turnover.percent(pct)?.min(r.brokerage_per_order),
            None => r.brokerage_per_order,
        };
        let brokerage = due.checked_sub(order.brokerage)?.max(Money::ZERO);
        let (stt_pct, stamp_pct) = match side {
            Side::Buy => (r.stt_buy_pct, r.stamp_buy_pct),
            Side::Sell => (r.stt_sell_pct, Money::ZERO),
        };
        let transaction = value.percent(r.transaction_pct)?;
        let sebi = value
            .raw()
            .checked_mul(r.sebi_per_crore.raw())
            .map(|v| Money::from_raw(v / CRORE))
            .ok_or(ValueError::Overflow)?;
        let gst = brokerage
            .checked_add(transaction)?
            .checked_add(sebi)?
            .percent(self.gst_pct)?;
        let charges = ChargeBreakdown {
            brokerage,
            stt: value.percent(stt_pct)?,
            transaction,
            sebi,
            stamp: value.percent(stamp_pct)?,
            gst,
        };
        order.turnover = turnover;
        order.brokerage = order.brokerage.max(due);
        Ok(charges)
    }
}

/// The cost model bound to an instrument table: what a stage holds to charge fills by
/// instrument id, with each instrument's rate set looked up once at construction.
#[derive(Debug, Clone)]
pub struct Charger {
    model: ChargeModel,
    classes: Vec<Option<ChargeClass>>,
}

impl Charger {
    /// `model` applied to the instruments of `table`.
    pub fn new(model: ChargeModel, table: &InstrumentTable) -> Charger {
        Charger {
            classes: table.iter().map(|i| model.class_of(i.kind)).collect(),
            model,
        }
    }

    /// Charges nothing, for `instruments` instruments.
    pub fn free(instruments: usize) -> Charger {
        Charger {
            model: ChargeModel::free(),
            classes: vec![None; instruments],
        }
    }

    /// The model.
    pub fn model(&self) -> &ChargeModel {
        &self.model
    }

    /// The charges of one fill on `id` (nothing for an instrument outside the table or
    /// one that cannot be traded). See [`ChargeModel::fill`].
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn fill(
        &self,
        id: InstrumentId,
        side: Side,
        qty: Qty,
        price: Price,
        order: &mut OrderCharges,
    ) -> Result<ChargeBreakdown, ValueError> {
        match self.classes.get(id.index()).copied().flatten() {
            Some(class) => self.model.fill(class, side, qty, price, order),
            None => Ok(ChargeBreakdown::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    fn fill(
        class: ChargeClass,
        side: Side,
        qty: u32,
        price: &str,
        order: &mut OrderCharges,
    ) -> ChargeBreakdown {
        ChargeModel::new(&ChargesConfig::default())
            .fill(class, side, Qty::new(qty), price.parse().unwrap(), order)
            .unwrap()
    }

    #[test]
    fn a_partially_filled_order_pays_brokerage_once() {
        // 300 shares at ₹100 in three fills: 0.03 % of ₹10 000 is ₹3, of ₹20 000 ₹6,
        // of ₹30 000 ₹9: the order pays 3 + 3 + 3 = ₹9, as one fill of 300 would.
        let mut order = OrderCharges::default();
        let parts: Vec<Money> = (0..3)
            .map(|_| {
                fill(
                    ChargeClass::EquityIntraday,
                    Side::Buy,
                    100,
                    "100",
                    &mut order,
                )
                .brokerage
            })
            .collect();
        assert_eq!(parts, [money("3"), money("3"), money("3")]);
        // 1000 shares at ₹50 (₹15 due) then 1000 more (₹30, capped at ₹20): 15 + 5.
        let mut order = OrderCharges::default();
        let a = fill(
            ChargeClass::EquityIntraday,
            Side::Sell,
            1000,
            "50",
            &mut order,
        );
        let b = fill(
            ChargeClass::EquityIntraday,
            Side::Sell,
            1000,
            "50",
            &mut order,
        );
        let c = fill(
            ChargeClass::EquityIntraday,
            Side::Sell,
            1000,
            "50",
            &mut order,
        );
        assert_eq!(
            (a.brokerage, b.brokerage, c.brokerage),
            (money("15"), money("5"), Money::ZERO)
        );
        assert_eq!(order.brokerage, money("20"));
        // Options: flat ₹20 on the first fill, nothing on the rest.
        let mut order = OrderCharges::default();
        let a = fill(ChargeClass::Options, Side::Buy, 75, "1.05", &mut order);
        let b = fill(ChargeClass::Options, Side::Buy, 75, "1.10", &mut order);
        assert_eq!((a.brokerage, b.brokerage), (money("20"), Money::ZERO));
    }

    #[test]
    fn sides_decide_stt_and_stamp() {
        let mut order = OrderCharges::default();
        let buy = fill(
            ChargeClass::EquityIntraday,
            Side::Buy,
            10,
            "1000",
            &mut order,
        );
        assert_eq!((buy.stt, buy.stamp), (Money::ZERO, money("0.3")));
        let mut order = OrderCharges::default();
        let sell = fill(
            ChargeClass::EquityIntraday,
            Side::Sell,
            10,
            "1000",
            &mut order,
        );
        assert_eq!((sell.stt, sell.stamp), (money("2.5"), Money::ZERO));
        let mut order = OrderCharges::default();
        let buy = fill(
            ChargeClass::EquityDelivery,
            Side::Buy,
            10,
            "1000",
            &mut order,
        );
        assert_eq!(
            (buy.brokerage, buy.stt, buy.stamp),
            (Money::ZERO, money("10"), money("1.5"))
        );
    }

    #[test]
    fn disabled_and_untradable_charge_nothing() {
        let mut order = OrderCharges::default();
        let free = ChargeModel::free()
            .fill(
                ChargeClass::Options,
                Side::Sell,
                Qty::new(75),
                "100".parse().unwrap(),
                &mut order,
            )
            .unwrap();
        assert_eq!(free, ChargeBreakdown::ZERO);
        assert_eq!(order, OrderCharges::default());
        let model = ChargeModel::new(&ChargesConfig::default());
        assert_eq!(model.class_of(InstrumentKind::Index), None);
        assert_eq!(
            model.class_of(InstrumentKind::Equity),
            Some(ChargeClass::EquityIntraday)
        );
        let delivery = ChargeModel::new(&ChargesConfig {
            equity_product: EquityProduct::Delivery,
            ..ChargesConfig::default()
        });
        assert_eq!(
            delivery.class_of(InstrumentKind::Equity),
            Some(ChargeClass::EquityDelivery)
        );
        assert_eq!(
            delivery.class_of(InstrumentKind::Option),
            Some(ChargeClass::Options)
        );
    }

    #[test]
    fn overflow_leaves_the_order_unchanged() {
        let model = ChargeModel::new(&ChargesConfig::default());
        let mut order = OrderCharges {
            turnover: Money::from_raw(i128::MAX - 1),
            brokerage: Money::ZERO,
        };
        let before = order;
        assert_eq!(
            model.fill(
                ChargeClass::Futures,
                Side::Buy,
                Qty::new(10),
                "100".parse().unwrap(),
                &mut order
            ),
            Err(ValueError::Overflow)
        );
        assert_eq!(order, before);
    }
}
