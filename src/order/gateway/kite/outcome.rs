//! A placement whose outcome is unknown, looked for in the order book.
//!
//! When `POST /orders/regular` leaves but no answer comes back (the connection drops, the
//! request times out, Kite answers `NetworkException` or a 502–504), Kite may or may not
//! have placed the order (PROTOCOLS.md §2.9). Sending it again blindly could double it,
//! so the I/O thread first reads the order book and looks for an order it does not know
//! yet that has the same listing, side, quantity, order type and tag (the algo id), and
//! that Kite registered no earlier than the request went out. Found, the order is
//! adopted; not found, it is placed once more.

use std::collections::HashSet;

use super::wire::OrderRow;
use crate::model::UnixNanos;

/// How much earlier than our clock Kite's `order_timestamp` may read: the two clocks
/// differ and Kite stamps whole seconds.
pub const CLOCK_SLACK_NANOS: u64 = 2_000_000_000;

/// What was sent, as the order book would show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent<'a> {
    /// `NSE`, `NFO`, ...
    pub exchange: &'a str,
    /// Trading symbol.
    pub symbol: &'a str,
    /// `BUY` or `SELL`.
    pub side: &'a str,
    /// Units.
    pub quantity: u32,
    /// `MARKET`, `LIMIT`, `SL`, `SL-M`.
    pub order_type: &'a str,
    /// The tag sent (the algo id); `None` when none was.
    pub tag: Option<&'a str>,
    /// Wall-clock time the request went out (UTC).
    pub at: UnixNanos,
}

/// The order of `book` that `sent` placed, if any: one not in `known`, matching every
/// field, registered at or after `sent.at` less [`CLOCK_SLACK_NANOS`]; the earliest
/// when several match.
///
/// # Examples
/// ```
/// use std::collections::HashSet;
/// use tickpipe::{model::UnixNanos, order::kite::{outcome::{find_placed, Sent}, wire::OrderRow}};
/// let sent = Sent { exchange: "NSE", symbol: "SBIN", side: "BUY", quantity: 10,
///     order_type: "MARKET", tag: Some("ALGO42"), at: UnixNanos(0) };
/// assert!(find_placed(&[], &sent, &HashSet::new()).is_none());
/// ```
pub fn find_placed<'b>(
    book: &'b [OrderRow],
    sent: &Sent<'_>,
    known: &HashSet<String>,
) -> Option<&'b OrderRow> {
    let since = sent.at.0.saturating_sub(CLOCK_SLACK_NANOS);
    book.iter()
        .filter(|o| {
            !known.contains(&o.order_id)
                && o.exchange == sent.exchange
                && o.tradingsymbol == sent.symbol
                && o.transaction_type == sent.side
                && o.quantity == sent.quantity
                && o.order_type == sent.order_type
                && o.tag.as_deref().filter(|t| !t.is_empty()) == sent.tag
        })
        .filter_map(|o| o.placed_at().filter(|t| t.0 >= since).map(|t| (t, o)))
        .min_by_key(|(t, _)| *t)
        .map(|(_, o)| o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::kite::wire::parse_ist;

    fn row(id: &str, at: &str) -> OrderRow {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../../../tests/fixtures/kite/orders.json"))
                .unwrap();
        let mut row: OrderRow = serde_json::from_value(v["data"][1].clone()).unwrap();
        row.order_id = id.to_owned();
        row.order_timestamp = Some(at.to_owned());
        row.exchange = "NSE".to_owned();
        row.tradingsymbol = "SBIN".to_owned();
        row.transaction_type = "BUY".to_owned();
        row.order_type = "MARKET".to_owned();
        row.quantity = 10;
        row.tag = Some("ALGO42".to_owned());
        row
    }

    #[test]
    fn only_an_unknown_order_of_the_same_fields_placed_since_the_request_matches() {
        let at = parse_ist("2026-11-25 10:00:05").unwrap();
        let sent = Sent {
            exchange: "NSE",
            symbol: "SBIN",
            side: "BUY",
            quantity: 10,
            order_type: "MARKET",
            tag: Some("ALGO42"),
            at,
        };
        let none = HashSet::new();
        let book = vec![
            row("1", "2026-11-25 09:59:00"), // before the request
            row("2", "2026-11-25 10:00:04"), // within the clock slack
            row("3", "2026-11-25 10:00:06"),
        ];
        assert_eq!(find_placed(&book, &sent, &none).unwrap().order_id, "2");
        let known: HashSet<String> = ["2".to_owned()].into();
        assert_eq!(find_placed(&book, &sent, &known).unwrap().order_id, "3");
        for change in 0..5 {
            let mut other = row("4", "2026-11-25 10:00:06");
            match change {
                0 => other.transaction_type = "SELL".to_owned(),
                1 => other.quantity = 11,
                2 => other.order_type = "LIMIT".to_owned(),
                3 => other.tag = None,
                _ => other.tradingsymbol = "SBICARD".to_owned(),
            }
            assert!(find_placed(&[other], &sent, &none).is_none(), "{change}");
        }
        let untagged = Sent { tag: None, ..sent };
        let mut plain = row("5", "2026-11-25 10:00:06");
        plain.tag = None;
        assert_eq!(
            find_placed(&[plain], &untagged, &none).unwrap().order_id,
            "5"
        );
    }
}
