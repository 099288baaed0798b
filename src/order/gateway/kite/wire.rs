//! Kite Connect's JSON, as far as the gateway reads it: orders, trades, positions, and
//! the conversions to the engine's exact types.
//!
//! Fields follow PROTOCOLS.md §2.3–2.6: every nullable field is an `Option`, unknown
//! fields are ignored, ids are strings. Prices arrive as JSON numbers; they are read
//! through the shortest decimal that round-trips the `f64` (Rust's float formatting),
//! so `420.65` becomes exactly ₹420.65 rather than the nearest binary fraction.

use serde::{Deserialize, Deserializer};

use crate::model::{Date, Price, TimeOfDay, TradeId, UnixNanos};

/// One order of `GET /orders` (or a snapshot of `GET /orders/:id`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderRow {
    /// Kite's order id.
    pub order_id: String,
    /// Status (`OPEN`, `COMPLETE`, …, with spaces).
    pub status: String,
    /// Why, on rejections.
    #[serde(default)]
    pub status_message: Option<String>,
    /// When the exchange registered it (IST), null before.
    #[serde(default)]
    pub exchange_timestamp: Option<String>,
    /// Last state change at the exchange (IST).
    #[serde(default)]
    pub exchange_update_timestamp: Option<String>,
    /// When Kite registered it (IST).
    #[serde(default)]
    pub order_timestamp: Option<String>,
    /// Units filled so far.
    #[serde(default)]
    pub filled_quantity: u32,
    /// Units ordered.
    #[serde(default)]
    pub quantity: u32,
    /// The order's tag (the algo id), echoed.
    #[serde(default)]
    pub tag: Option<String>,
    /// Exchange (`NSE`, `NFO`, ...).
    #[serde(default)]
    pub exchange: String,
    /// The exchange's trading symbol.
    #[serde(default)]
    pub tradingsymbol: String,
    /// `BUY` or `SELL`.
    #[serde(default)]
    pub transaction_type: String,
    /// `MARKET`, `LIMIT`, `SL` or `SL-M`.
    #[serde(default)]
    pub order_type: String,
    /// `MIS`, `CNC`, `NRML`, ...
    #[serde(default)]
    pub product: String,
}

impl OrderRow {
    /// The status, classified.
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    /// Units still to fill (signed: negative for a sell), for a working order.
    pub fn open_qty(&self) -> i64 {
        let open = i64::from(self.quantity.saturating_sub(self.filled_quantity));
        if self.transaction_type == "SELL" {
            -open
        } else {
            open
        }
    }

    /// When Kite registered the order (IST, to the second).
    pub fn placed_at(&self) -> Option<UnixNanos> {
        self.order_timestamp.as_deref().and_then(parse_ist)
    }

    /// The latest exchange time the row carries.
    pub fn exchange_time(&self) -> Option<UnixNanos> {
        [
            &self.exchange_update_timestamp,
            &self.exchange_timestamp,
            &self.order_timestamp,
        ]
        .into_iter()
        .find_map(|t| t.as_deref().and_then(parse_ist))
    }
}

/// One trade of `GET /trades`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TradeRow {
    /// The exchange's trade id.
    pub trade_id: String,
    /// Kite's order id.
    pub order_id: String,
    /// The fill price.
    #[serde(deserialize_with = "price")]
    pub average_price: Price,
    /// Units.
    pub quantity: u32,
    /// When it traded (IST).
    #[serde(default)]
    pub fill_timestamp: Option<String>,
    /// When the exchange reported it (IST).
    #[serde(default)]
    pub exchange_timestamp: Option<String>,
}

impl TradeRow {
    /// The trade's exchange time.
    pub fn time(&self) -> Option<UnixNanos> {
        [&self.fill_timestamp, &self.exchange_timestamp]
            .into_iter()
            .find_map(|t| t.as_deref().and_then(parse_ist))
    }

    /// The trade id as the engine's [`TradeId`]: the number itself when it is one
    /// (exchange trade ids are), else a stable hash of the text.
    pub fn id(&self) -> TradeId {
        TradeId(
            self.trade_id
                .parse()
                .unwrap_or_else(|_| fnv1a(self.trade_id.as_bytes())),
        )
    }
}

/// One position of `GET /portfolio/positions` (`net` or `day`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PositionRow {
    /// Trading symbol.
    pub tradingsymbol: String,
    /// Exchange.
    pub exchange: String,
    /// Product (`MIS`, `CNC`, `NRML`).
    pub product: String,
    /// Signed units: negative is short.
    pub quantity: i64,
    /// Average price.
    #[serde(deserialize_with = "price")]
    pub average_price: Price,
}

/// `data` of `GET /portfolio/positions`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Positions {
    /// The position book, overnight carry included.
    pub net: Vec<PositionRow>,
    /// Today's activity only.
    pub day: Vec<PositionRow>,
}

/// `data` of a placement, modification or cancel: the order's id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderIdData {
    /// Kite's order id.
    pub order_id: String,
}

/// An order status, classified for the engine (PROTOCOLS.md §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Received or in risk checks, not yet at the exchange.
    Pending,
    /// Working at the exchange (`OPEN`, `TRIGGER PENDING`, modifications, cancel pending).
    Open,
    /// Fully filled.
    Complete,
    /// Cancelled (possibly partly filled).
    Cancelled,
    /// Refused.
    Rejected,
}

impl Status {
    /// Classifies a status string; unknown statuses count as pending (the docs say
    /// others may appear, and none of them is terminal).
    pub fn parse(status: &str) -> Status {
        match status {
            "COMPLETE" => Status::Complete,
            "CANCELLED" => Status::Cancelled,
            "REJECTED" => Status::Rejected,
            "OPEN"
            | "TRIGGER PENDING"
            | "MODIFY VALIDATION PENDING"
            | "MODIFY PENDING"
            | "MODIFIED"
            | "CANCEL PENDING"
            | "UPDATE" => Status::Open,
            _ => Status::Pending,
        }
    }

    /// Complete, cancelled or rejected.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Complete | Status::Cancelled | Status::Rejected
        )
    }
}

/// `yyyy-mm-dd hh:mm:ss` in IST as UTC nanoseconds; `None` for anything else (the
/// trades' time-only `order_timestamp`, null).
///
/// # Examples
/// ```
/// use tickpipe::model::{Date, TimeOfDay, UnixNanos};
/// use tickpipe::order::kite_wire::parse_ist;
/// let t = parse_ist("2021-05-31 09:16:39").unwrap();
/// assert_eq!(t, UnixNanos::from_ist(Date::new(2021, 5, 31), TimeOfDay::from_secs(9 * 3600 + 16 * 60 + 39)));
/// assert_eq!(parse_ist("09:16:39"), None);
/// ```
pub fn parse_ist(text: &str) -> Option<UnixNanos> {
    let (date, time) = text.trim().split_once(' ')?;
    if date.len() != 10 {
        return None;
    }
    Some(UnixNanos::from_ist(
        Date::parse(date)?,
        TimeOfDay::parse(time)?,
    ))
}

/// A JSON number as an exact price (see the module doc).
fn price<'de, D: Deserializer<'de>>(d: D) -> Result<Price, D::Error> {
    let value = f64::deserialize(d)?;
    price_of(value).map_err(serde::de::Error::custom)
}

/// `value` through its shortest round-trip decimal.
///
/// # Errors
/// A message when it is not finite or out of range.
pub fn price_of(value: f64) -> Result<Price, String> {
    if !value.is_finite() {
        return Err(format!("price {value} is not a number"));
    }
    format!("{value}")
        .parse::<Price>()
        .map_err(|e| format!("price {value}: {e}"))
}

/// FNV-1a, 64 bits: a stable id for a non-numeric trade id.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::*;

    fn data<T: DeserializeOwned>(json: &str) -> T {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["status"], "success");
        serde_json::from_value(v["data"].clone()).unwrap()
    }

    #[test]
    fn fixtures_read() {
        let orders: Vec<OrderRow> =
            data(include_str!("../../../../tests/fixtures/kite/orders.json"));
        assert_eq!(orders.len(), 10);
        let statuses: Vec<Status> = orders.iter().map(OrderRow::status).collect();
        assert_eq!(statuses[0], Status::Cancelled);
        assert_eq!(statuses[1], Status::Complete);
        let rejected = &orders[3];
        assert_eq!(rejected.status(), Status::Rejected);
        assert_eq!(
            rejected
                .status_message
                .as_deref()
                .and_then(super::super::error::reason_from_message),
            Some(crate::model::RejectReason::Margin)
        );
        assert_eq!(orders[9].order_id, "1953367517686685697");
        assert_eq!(orders[9].filled_quantity, 150);

        let history: Vec<OrderRow> = data(include_str!(
            "../../../../tests/fixtures/kite/order_info.json"
        ));
        let kinds: Vec<Status> = history.iter().map(OrderRow::status).collect();
        assert_eq!(kinds.first(), Some(&Status::Pending));
        assert_eq!(kinds.last(), Some(&Status::Open));

        let trades: Vec<TradeRow> =
            data(include_str!("../../../../tests/fixtures/kite/trades.json"));
        assert_eq!(trades.len(), 4);
        assert_eq!(trades[0].average_price, "420.65".parse().unwrap());
        assert_eq!(trades[1].average_price, "72.755".parse().unwrap());
        assert_eq!(trades[0].id(), TradeId(10_000_000));
        assert_eq!(
            trades[0].time(),
            parse_ist("2021-05-31 09:16:39"),
            "fill_timestamp"
        );
        let one: Vec<TradeRow> = data(include_str!(
            "../../../../tests/fixtures/kite/order_trades.json"
        ));
        assert_eq!(one[0].quantity, 1);

        let positions: Positions = data(include_str!(
            "../../../../tests/fixtures/kite/positions.json"
        ));
        assert!(!positions.net.is_empty());
        let placed: OrderIdData = data(include_str!(
            "../../../../tests/fixtures/kite/order_response.json"
        ));
        assert_eq!(placed.order_id, "151220000000000");
    }

    #[test]
    fn odd_values() {
        assert!(price_of(f64::NAN).is_err());
        assert_eq!(price_of(0.1).unwrap(), Price::from_paise(10));
        assert_eq!(parse_ist("2021-13-01 09:00:00"), None);
        assert_ne!(
            TradeRow {
                trade_id: "T-1".into(),
                order_id: String::new(),
                average_price: Price::ZERO,
                quantity: 1,
                fill_timestamp: None,
                exchange_timestamp: None,
            }
            .id(),
            TradeId(0)
        );
    }
}
