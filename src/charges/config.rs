//! The `[charges]` section: which rates apply to which trades.

use serde::Deserialize;

use crate::config::{decimal, optional_decimal};
use crate::{
    config::ConfigIssue,
    model::{Date, Money},
};

/// The rates of one kind of trade (equity intraday, equity delivery, futures, options),
/// each a decimal percent of the fill's value unless named otherwise.
///
/// Every key is required when a set is written out in a file, so a set never mixes
/// a user's rates with defaults meant for another kind of trade.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSet {
    /// Where the rates come from (a broker's charge list, an exchange circular).
    pub source: String,
    /// The date from which these rates apply, `YYYY-MM-DD`.
    pub effective: String,
    /// Brokerage per executed order, rupees: flat, or the cap of `brokerage_pct`.
    #[serde(deserialize_with = "decimal")]
    pub brokerage_per_order: Money,
    /// Brokerage in percent of the order's value, capped at `brokerage_per_order`;
    /// absent: the flat `brokerage_per_order`.
    #[serde(default, deserialize_with = "optional_decimal")]
    pub brokerage_pct: Option<Money>,
    /// Securities transaction tax on buys, percent of value (of premium for options).
    #[serde(deserialize_with = "decimal")]
    pub stt_buy_pct: Money,
    /// Securities transaction tax on sells, percent of value (of premium for options).
    #[serde(deserialize_with = "decimal")]
    pub stt_sell_pct: Money,
    /// The exchange's transaction charge, percent of value, both sides.
    #[serde(deserialize_with = "decimal")]
    pub transaction_pct: Money,
    /// SEBI turnover fee, rupees per crore (10^7 rupees) of value, both sides.
    #[serde(deserialize_with = "decimal")]
    pub sebi_per_crore: Money,
    /// Stamp duty on buys, percent of value.
    #[serde(deserialize_with = "decimal")]
    pub stamp_buy_pct: Money,
}

/// Which rate set an equity (cash) trade pays: Zerodha's MIS and CNC products.
///
/// The order issue adds a product per order later; until then one product holds for
/// every equity trade of a run. Futures and options pay their own sets whatever the
/// product (NRML and MIS cost the same there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquityProduct {
    /// MIS: bought and sold the same day (the risk stage squares off at 15:15).
    #[default]
    Intraday,
    /// CNC: held for delivery.
    Delivery,
}

/// The cost model's configuration, section `[charges]`.
///
/// The defaults are Zerodha's published charges for NSE (sources and dates in
/// [`ChargesConfig::default`] and `config/default.toml`).
///
/// # Examples
/// ```
/// use tickpipe::charges::{ChargesConfig, EquityProduct};
/// let cfg: ChargesConfig = toml::from_str(r#"equity_product = "delivery""#).unwrap();
/// assert_eq!(cfg.equity_product, EquityProduct::Delivery);
/// assert_eq!(cfg.equity_delivery.stt_sell_pct, "0.1".parse().unwrap());
/// let mut issues = Vec::new();
/// cfg.validate("charges", &mut issues);
/// assert!(issues.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChargesConfig {
    /// Charge fills at all; `false` books every fill free (gross equals net).
    pub enabled: bool,
    /// The rate set of equity trades.
    pub equity_product: EquityProduct,
    /// GST in percent of brokerage, SEBI fee and transaction charges.
    #[serde(deserialize_with = "decimal")]
    pub gst_pct: Money,
    /// Equity bought and sold the same day (MIS).
    pub equity_intraday: RateSet,
    /// Equity held for delivery (CNC).
    pub equity_delivery: RateSet,
    /// Stock and index futures.
    pub futures: RateSet,
    /// Stock and index options, on the premium.
    pub options: RateSet,
}

fn pct(text: &str) -> Money {
    text.parse().expect("a literal decimal")
}

const ZERODHA: &str = "Zerodha charge list (zerodha.com/charges), NSE";

impl Default for ChargesConfig {
    /// Zerodha's NSE charges: brokerage and stamp duty from its charge list; exchange
    /// transaction charges of NSE's schedule from 1 Oct 2024 (SEBI's "true to label"
    /// circular); STT on futures and options as raised by the Union Budget 2026 from
    /// 1 Apr 2026 (futures 0.05 %, options 0.15 % of the premium on the sell side).
    fn default() -> Self {
        ChargesConfig {
            enabled: true,
            equity_product: EquityProduct::Intraday,
            gst_pct: pct("18"),
            equity_intraday: RateSet {
                source: format!("{ZERODHA} equity intraday"),
                effective: "2024-10-01".to_owned(),
                brokerage_per_order: pct("20"),
                brokerage_pct: Some(pct("0.03")),
                stt_buy_pct: Money::ZERO,
                stt_sell_pct: pct("0.025"),
                transaction_pct: pct("0.00297"),
                sebi_per_crore: pct("10"),
                stamp_buy_pct: pct("0.003"),
            },
            equity_delivery: RateSet {
                source: format!("{ZERODHA} equity delivery"),
                effective: "2024-10-01".to_owned(),
                brokerage_per_order: Money::ZERO,
                brokerage_pct: None,
                stt_buy_pct: pct("0.1"),
                stt_sell_pct: pct("0.1"),
                transaction_pct: pct("0.00297"),
                sebi_per_crore: pct("10"),
                stamp_buy_pct: pct("0.015"),
            },
            futures: RateSet {
                source: format!("{ZERODHA} F&O futures; STT per Union Budget 2026"),
                effective: "2026-04-01".to_owned(),
                brokerage_per_order: pct("20"),
                brokerage_pct: Some(pct("0.03")),
                stt_buy_pct: Money::ZERO,
                stt_sell_pct: pct("0.05"),
                transaction_pct: pct("0.00173"),
                sebi_per_crore: pct("10"),
                stamp_buy_pct: pct("0.002"),
            },
            options: RateSet {
                source: format!("{ZERODHA} F&O options; STT per Union Budget 2026"),
                effective: "2026-04-01".to_owned(),
                brokerage_per_order: pct("20"),
                brokerage_pct: None,
                stt_buy_pct: Money::ZERO,
                stt_sell_pct: pct("0.15"),
                transaction_pct: pct("0.03503"),
                sebi_per_crore: pct("10"),
                stamp_buy_pct: pct("0.003"),
            },
        }
    }
}

/// Largest percent rate accepted: every published rate is far below 1 %.
const MAX_RATE_PCT: i64 = 1;
/// Largest brokerage per order accepted, rupees.
const MAX_BROKERAGE: i64 = 1_000;
/// Largest SEBI fee accepted, rupees per crore.
const MAX_PER_CRORE: i64 = 10_000;

impl RateSet {
    /// Pushes one issue per invalid key, each named `{prefix}.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if self.source.trim().is_empty() {
            issues.push(ConfigIssue::new(
                format!("{prefix}.source"),
                "is empty; name where the rates come from",
            ));
        }
        if Date::parse(&self.effective).is_none() {
            issues.push(ConfigIssue::new(
                format!("{prefix}.effective"),
                format!("`{}` is not a date; write YYYY-MM-DD", self.effective),
            ));
        }
        let mut range = |key: &str, value: Money, max: i64, unit: &str| {
            if value < Money::ZERO || value > Money::from_rupees(max) {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {value}, must be from 0 to {max} ({unit})"),
                ));
            }
        };
        range(
            "brokerage_per_order",
            self.brokerage_per_order,
            MAX_BROKERAGE,
            "rupees",
        );
        if let Some(p) = self.brokerage_pct {
            range("brokerage_pct", p, MAX_RATE_PCT, "percent");
        }
        range("stt_buy_pct", self.stt_buy_pct, MAX_RATE_PCT, "percent");
        range("stt_sell_pct", self.stt_sell_pct, MAX_RATE_PCT, "percent");
        range(
            "transaction_pct",
            self.transaction_pct,
            MAX_RATE_PCT,
            "percent",
        );
        range(
            "sebi_per_crore",
            self.sebi_per_crore,
            MAX_PER_CRORE,
            "rupees per crore",
        );
        range("stamp_buy_pct", self.stamp_buy_pct, MAX_RATE_PCT, "percent");
    }
}

impl ChargesConfig {
    /// Pushes one issue per invalid key, each named `{prefix}.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if self.gst_pct < Money::ZERO || self.gst_pct > Money::from_rupees(100) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.gst_pct"),
                format!("is {}, must be from 0 to 100 (percent)", self.gst_pct),
            ));
        }
        for (key, set) in [
            ("equity_intraday", &self.equity_intraday),
            ("equity_delivery", &self.equity_delivery),
            ("futures", &self.futures),
            ("options", &self.options),
        ] {
            set.validate(&format!("{prefix}.{key}"), issues);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_equals_an_empty_section() {
        let mut issues = Vec::new();
        ChargesConfig::default().validate("charges", &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        let parsed: ChargesConfig = toml::from_str("").unwrap();
        assert_eq!(parsed, ChargesConfig::default());
    }

    #[test]
    fn a_written_set_must_be_complete() {
        let err = toml::from_str::<ChargesConfig>("[options]\nstt_sell_pct = 0.1\n").unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
        let err = toml::from_str::<ChargesConfig>("equity_product = \"mis\"").unwrap_err();
        assert!(err.to_string().contains("intraday"), "{err}");
    }

    #[test]
    fn every_bad_value_is_named() {
        let mut cfg = ChargesConfig {
            gst_pct: Money::from_rupees(101),
            ..ChargesConfig::default()
        };
        cfg.options.effective = "1 April".to_owned();
        cfg.options.stt_sell_pct = Money::from_rupees(15);
        cfg.futures.brokerage_pct = Some(Money::from_rupees(-1));
        cfg.equity_delivery.source = " ".to_owned();
        cfg.equity_intraday.sebi_per_crore = Money::from_rupees(20_000);
        let mut issues = Vec::new();
        cfg.validate("charges", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "charges.gst_pct",
                "charges.equity_intraday.sebi_per_crore",
                "charges.equity_delivery.source",
                "charges.futures.brokerage_pct",
                "charges.options.effective",
                "charges.options.stt_sell_pct",
            ]
        );
    }
}
