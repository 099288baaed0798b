//! Text (JSON) messages from the Ticker: order postbacks, errors and broker messages.
//!
//! `{"type": "order", "data": {...}}` carries an order update with the same fields as
//! an HTTP postback; `{"type": "error", "data": "..."}` and `{"type": "message",
//! "data": "..."}` carry a string (PROTOCOLS.md §1.8). They are rare and off the quote
//! path, so they are parsed with `serde_json` and may allocate. Unknown keys are
//! ignored and missing ones default, since postbacks add fields over time.

use serde::{Deserialize, Deserializer};

use crate::model::Price;

/// One text message from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum TextMessage {
    /// An order changed state.
    Order(Box<OrderUpdate>),
    /// The server reports an error (for example an invalid subscription).
    Error(String),
    /// A message or alert from the broker.
    Message(String),
    /// A `type` this build does not know; ignored, but worth counting.
    Other(String),
}

impl TextMessage {
    /// Parses one text frame.
    ///
    /// # Errors
    /// The `serde_json` error when the frame is not a JSON object with a string `type`,
    /// or its `data` does not fit the type.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::feed::kite::TextMessage;
    /// let m = TextMessage::parse(r#"{"type":"error","data":"invalid token"}"#).unwrap();
    /// assert_eq!(m, TextMessage::Error("invalid token".into()));
    /// ```
    pub fn parse(text: &str) -> Result<TextMessage, serde_json::Error> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            data: serde_json::Value,
        }
        let envelope: Envelope = serde_json::from_str(text)?;
        let string = |data: serde_json::Value| match data {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        Ok(match envelope.kind.as_str() {
            "order" => TextMessage::Order(Box::new(serde_json::from_value(envelope.data)?)),
            "error" => TextMessage::Error(string(envelope.data)),
            "message" => TextMessage::Message(string(envelope.data)),
            _ => TextMessage::Other(envelope.kind),
        })
    }
}

/// An order update (postback), with the fields the order stage reconciles on.
///
/// Prices are exact: the JSON number is read back through its shortest decimal text.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct OrderUpdate {
    /// Kite's order id.
    pub order_id: String,
    /// The exchange's order id, once the exchange has the order.
    #[serde(deserialize_with = "null_as_empty")]
    pub exchange_order_id: String,
    /// The id of the parent (bracket or cover) order, if any.
    #[serde(deserialize_with = "null_as_empty")]
    pub parent_order_id: String,
    /// `OPEN`, `COMPLETE`, `CANCELLED`, `REJECTED`, `UPDATE`, ...
    pub status: String,
    /// Why the order was rejected or cancelled, if it was.
    #[serde(deserialize_with = "null_as_empty")]
    pub status_message: String,
    /// `NSE`, `NFO`, ...
    pub exchange: String,
    /// The trading symbol.
    pub tradingsymbol: String,
    /// Kite's instrument token.
    pub instrument_token: u32,
    /// `BUY` or `SELL`.
    pub transaction_type: String,
    /// `MARKET`, `LIMIT`, `SL`, `SL-M`.
    pub order_type: String,
    /// `CNC`, `MIS`, `NRML`.
    pub product: String,
    /// `regular`, `amo`, `co`, `iceberg`, `auction`.
    pub variety: String,
    /// Ordered quantity.
    pub quantity: u32,
    /// Quantity filled so far.
    pub filled_quantity: u32,
    /// Quantity still working.
    pub pending_quantity: u32,
    /// Quantity cancelled.
    pub cancelled_quantity: u32,
    /// Limit price (zero for market orders).
    #[serde(deserialize_with = "price")]
    pub price: Price,
    /// Trigger price of stop orders.
    #[serde(deserialize_with = "price")]
    pub trigger_price: Price,
    /// Average fill price.
    #[serde(deserialize_with = "price")]
    pub average_price: Price,
    /// The tag the order was placed with, if any.
    #[serde(deserialize_with = "null_as_empty")]
    pub tag: String,
    /// Exchange time of the update, `YYYY-MM-DD HH:MM:SS` IST.
    #[serde(deserialize_with = "null_as_empty")]
    pub exchange_timestamp: String,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn price<'de, D: Deserializer<'de>>(d: D) -> Result<Price, D::Error> {
    let Some(value) = Option::<f64>::deserialize(d)? else {
        return Ok(Price::ZERO);
    };
    // `{}` prints the shortest decimal that reads back as the same double, which is
    // the decimal the server wrote for any price with at most 8 decimals.
    value
        .to_string()
        .parse()
        .or_else(|_| Price::from_f64(value))
        .map_err(|e| serde::de::Error::custom(format!("price {value}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_updates_tolerate_nulls_and_extra_keys() {
        let text = r#"{"type":"order","id":7,"data":{"order_id":"1","status":"COMPLETE",
            "exchange_order_id":null,"price":1500.05,"average_price":470,"quantity":1,
            "meta":{},"app_id":1234}}"#;
        let TextMessage::Order(update) = TextMessage::parse(text).unwrap() else {
            panic!("not an order");
        };
        assert_eq!(update.order_id, "1");
        assert_eq!(update.exchange_order_id, "");
        assert_eq!(update.price.to_string(), "1500.05");
        assert_eq!(update.average_price.to_string(), "470.00");
        assert_eq!(update.quantity, 1);
    }

    #[test]
    fn other_types_and_bad_json() {
        assert_eq!(
            TextMessage::parse(r#"{"type":"message","data":"maintenance"}"#).unwrap(),
            TextMessage::Message("maintenance".into())
        );
        assert_eq!(
            TextMessage::parse(r#"{"type":"news"}"#).unwrap(),
            TextMessage::Other("news".into())
        );
        assert!(TextMessage::parse("not json").is_err());
        assert!(TextMessage::parse(r#"{"data":1}"#).is_err());
    }
}
