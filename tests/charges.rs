//! Worked examples: the cost model's charges on known trades against the figures of
//! Zerodha's brokerage calculator, computed by hand below from the published rates of
//! `config/default.toml` (Zerodha charge list, NSE; transaction charges from
//! 1 Oct 2024; F&O STT from 1 Apr 2026).
//!
//! Each trade is charged fill by fill, exactly (to 10^-8 rupee); the calculator's
//! figures are that sum rounded once per trade: each component half up to the paisa,
//! STT to the rupee, GST recomputed on the rounded brokerage + transaction + SEBI.

use tickpipe::{
    charges::{ChargeBreakdown, ChargeClass, ChargeModel, ChargesConfig, OrderCharges},
    engine::EngineConfig,
    model::{Money, Qty, Side},
};

fn money(text: &str) -> Money {
    text.parse().unwrap()
}

/// The six components, in contract-note order.
fn breakdown(parts: [&str; 6]) -> ChargeBreakdown {
    let [brokerage, stt, transaction, sebi, stamp, gst] = parts.map(money);
    ChargeBreakdown {
        brokerage,
        stt,
        transaction,
        sebi,
        stamp,
        gst,
    }
}

/// A round trip: one buy order, one sell order, each filled at once.
fn round_trip(class: ChargeClass, qty: u32, buy: &str, sell: &str) -> ChargeBreakdown {
    let model = ChargeModel::new(&ChargesConfig::default());
    let charge = |side, price: &str| {
        model
            .fill(
                class,
                side,
                Qty::new(qty),
                price.parse().unwrap(),
                &mut OrderCharges::default(),
            )
            .unwrap()
    };
    charge(Side::Buy, buy)
        .checked_add(&charge(Side::Sell, sell))
        .unwrap()
}

fn gst() -> Money {
    ChargesConfig::default().gst_pct
}

#[test]
fn equity_intraday_buy_and_sell_100_reliance_at_2500_and_2510() {
    // Buy value ₹2,50,000, sell ₹2,51,000, turnover ₹5,01,000.
    // brokerage   each order 0.03 % (₹75, ₹75.30) capped at ₹20      = 40
    // STT         0.025 % × 2,51,000                                  = 62.75
    // transaction 0.00297 % × 5,01,000                                = 14.8797
    // SEBI        ₹10 / crore × 5,01,000                              = 0.501
    // stamp       0.003 % × 2,50,000                                  = 7.50
    // GST         18 % × (40 + 14.8797 + 0.501) = 18 % × 55.3807      = 9.968526
    let exact = round_trip(ChargeClass::EquityIntraday, 100, "2500", "2510");
    assert_eq!(
        exact,
        breakdown(["40", "62.75", "14.8797", "0.501", "7.5", "9.968526"])
    );
    assert_eq!(exact.total(), money("135.599226"));
    // Calculator: STT ₹63, transaction ₹14.88, SEBI ₹0.50, stamp ₹7.50,
    // GST 18 % × (40 + 14.88 + 0.50) = 9.9684 → ₹9.97; total ₹135.85, so the ₹1,000
    // gross profit nets ₹864.15.
    let note = exact.contract_note(gst());
    assert_eq!(
        note,
        breakdown(["40", "63", "14.88", "0.50", "7.50", "9.97"])
    );
    assert_eq!(note.total(), money("135.85"));
    assert_eq!(
        money("1000").checked_sub(note.total()).unwrap(),
        money("864.15")
    );
}

#[test]
fn equity_delivery_buy_and_sell_10_infy_at_1500_and_1520() {
    // Buy ₹15,000, sell ₹15,200, turnover ₹30,200.
    // brokerage   0 (delivery is free)
    // STT         0.1 % on both sides × 30,200                        = 30.20
    // transaction 0.00297 % × 30,200                                  = 0.89694
    // SEBI        ₹10 / crore × 30,200                                = 0.0302
    // stamp       0.015 % × 15,000                                    = 2.25
    // GST         18 % × (0 + 0.89694 + 0.0302)                       = 0.1668852
    let exact = round_trip(ChargeClass::EquityDelivery, 10, "1500", "1520");
    assert_eq!(
        exact,
        breakdown(["0", "30.2", "0.89694", "0.0302", "2.25", "0.1668852"])
    );
    // Calculator: STT ₹30, transaction ₹0.90, SEBI ₹0.03, stamp ₹2.25,
    // GST 18 % × 0.93 = 0.1674 → ₹0.17; total ₹33.35.
    let note = exact.contract_note(gst());
    assert_eq!(note, breakdown(["0", "30", "0.90", "0.03", "2.25", "0.17"]));
    assert_eq!(note.total(), money("33.35"));
}

#[test]
fn futures_buy_and_sell_one_lot_of_500_at_2500_and_2512() {
    // Buy ₹12,50,000, sell ₹12,56,000, turnover ₹25,06,000.
    // brokerage   each order 0.03 % (₹375, ₹376.80) capped at ₹20     = 40
    // STT         0.05 % × 12,56,000                                  = 628
    // transaction 0.00173 % × 25,06,000                               = 43.3538
    // SEBI        ₹10 / crore × 25,06,000                             = 2.506
    // stamp       0.002 % × 12,50,000                                 = 25
    // GST         18 % × (40 + 43.3538 + 2.506) = 18 % × 85.8598      = 15.454764
    let exact = round_trip(ChargeClass::Futures, 500, "2500", "2512");
    assert_eq!(
        exact,
        breakdown(["40", "628", "43.3538", "2.506", "25", "15.454764"])
    );
    // Calculator: transaction ₹43.35, SEBI ₹2.51, GST 18 % × 85.86 = 15.4548 → ₹15.45;
    // total ₹754.31 on a ₹6,000 gross profit.
    let note = exact.contract_note(gst());
    assert_eq!(
        note,
        breakdown(["40", "628", "43.35", "2.51", "25", "15.45"])
    );
    assert_eq!(note.total(), money("754.31"));
}

#[test]
fn options_buy_and_sell_one_lot_of_75_at_120_and_150() {
    // Premium bought ₹9,000, sold ₹11,250, turnover ₹20,250.
    // brokerage   flat ₹20 per executed order                         = 40
    // STT         0.15 % × 11,250 (sell premium)                      = 16.875
    // transaction 0.03503 % × 20,250                                  = 7.093575
    // SEBI        ₹10 / crore × 20,250                                = 0.02025
    // stamp       0.003 % × 9,000                                     = 0.27
    // GST         18 % × (40 + 7.093575 + 0.02025)                    = 8.4804885
    let exact = round_trip(ChargeClass::Options, 75, "120", "150");
    assert_eq!(
        exact,
        breakdown(["40", "16.875", "7.093575", "0.02025", "0.27", "8.4804885"])
    );
    // Calculator: STT ₹17, transaction ₹7.09, SEBI ₹0.02, GST 18 % × 47.11 = 8.4798 →
    // ₹8.48; total ₹72.86 on a ₹2,250 gross profit.
    let note = exact.contract_note(gst());
    assert_eq!(
        note,
        breakdown(["40", "17", "7.09", "0.02", "0.27", "8.48"])
    );
    assert_eq!(note.total(), money("72.86"));
}

#[test]
fn a_partially_filled_order_pays_what_one_fill_would() {
    // The RELIANCE buy of 100 filled as 5, 45 and 50: brokerage 0.03 % of the order's
    // running value, ₹3.75, ₹37.50 → capped ₹20, then nothing: ₹3.75 + ₹16.25 + 0.
    let model = ChargeModel::new(&ChargesConfig::default());
    let mut order = OrderCharges::default();
    let fills: Vec<ChargeBreakdown> = [5, 45, 50]
        .into_iter()
        .map(|qty| {
            model
                .fill(
                    ChargeClass::EquityIntraday,
                    Side::Buy,
                    Qty::new(qty),
                    "2500".parse().unwrap(),
                    &mut order,
                )
                .unwrap()
        })
        .collect();
    let brokerage: Vec<Money> = fills.iter().map(|f| f.brokerage).collect();
    assert_eq!(brokerage, [money("3.75"), money("16.25"), Money::ZERO]);
    let parts = fills
        .iter()
        .try_fold(ChargeBreakdown::ZERO, |sum, f| sum.checked_add(f))
        .unwrap();
    let whole = model
        .fill(
            ChargeClass::EquityIntraday,
            Side::Buy,
            Qty::new(100),
            "2500".parse().unwrap(),
            &mut OrderCharges::default(),
        )
        .unwrap();
    assert_eq!(parts, whole);
}

#[test]
fn the_shipped_config_carries_the_default_rates() {
    let config = EngineConfig::embedded_default();
    assert_eq!(config.charges, ChargesConfig::default());
}
