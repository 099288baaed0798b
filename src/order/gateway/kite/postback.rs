//! Order postbacks from the Kite Ticker: an early word on an order's fate.
//!
//! Kite sends an `{"type":"order"}` text message on the Ticker connection whenever an
//! order of the account changes (PROTOCOLS.md §1.8, §2.10). When the feed is the Kite
//! Ticker and the broker Kite Connect, the ticker's connection thread hands each one to
//! the gateway's I/O thread through a bounded SPSC ring
//! ([`Postbacks`](crate::feed::kite::Postbacks)), and the I/O thread treats it as it
//! treats a polled order status (ack, partial fill, fill, cancel, reject), usually a poll
//! interval or more before the poll would have seen it. The poll and reconciliation go
//! on as before: a postback is an early signal, never the only one.
//!
//! **Fills are counted once.** The poll keys fills on trade ids (`GET /trades`); a
//! postback carries only the cumulative filled quantity and the average price. A
//! [`FillTally`] per order keeps the quantity and value reported to the order stage and
//! the quantity the trades seen account for: a postback reports the part of its
//! cumulative quantity not yet reported, priced so that the reported fills average
//! Kite's average price; a trade reports the part of the trades' total not yet
//! reported, at the trade's price. Whichever source speaks first reports the fill; the
//! other then finds nothing new. NB: a fill first learnt from a postback keeps the
//! derived price even when the trades later show how it split; the order stage never
//! sees a fill corrected, so the price is not revised.
//!
//! **What is not ours is counted, never acted on.** Ticker postbacks cover every order
//! of the user, from any platform. A postback whose order id this run did not place or
//! adopt, or whose tag is not the engine's `algo_id`, counts as foreign
//! ([`GatewayHealth::postbacks_foreign`](super::GatewayHealth::postbacks_foreign)); one
//! for an order of ours that has already ended (a repeat, or one the poll beat) counts
//! as late.
//!
//! **The feed never waits for the gateway.** The ticker's thread drops a postback that
//! finds the ring full and counts it
//! ([`TickerCounters::postbacks_dropped`](crate::feed::kite::TickerCounters::postbacks_dropped));
//! the poll catches up.

use crate::model::{Price, TradeId};

/// What has been reported of one order's fills, and what the trades account for.
///
/// A postback says 2 of 5 filled at 500.00, the trades then show one trade of 5 at
/// 500.00: the postback reports 2, the trade the 3 more, and a repeat of either nothing
/// (the unit tests below walk through this and the other orders of arrival).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct FillTally {
    /// Units reported to the order stage as fills.
    reported: u32,
    /// Σ units × raw price of the fills reported.
    value: i128,
    /// Units the trades seen so far account for.
    traded: u32,
}

/// One fill to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Increment {
    /// Units.
    pub qty: u32,
    /// Price per unit.
    pub price: Price,
}

impl FillTally {
    /// The tally of an order taken over after a restart: `qty` units at `price` were
    /// reported before it (the journal holds them). Every trade of the order is seen
    /// again from the start, so the trades count up from zero and report only what
    /// goes beyond; a postback's cumulative quantity likewise.
    pub(super) fn reported_before(qty: u32, price: Price) -> FillTally {
        FillTally {
            reported: qty,
            value: i128::from(qty) * i128::from(price.raw()),
            traded: 0,
        }
    }

    /// Units reported so far.
    pub(super) fn reported(&self) -> u32 {
        self.reported
    }

    /// A trade of `qty` at `price` (each trade id once): the units it adds beyond what
    /// was reported, at its price; `None` when a postback reported them already.
    pub(super) fn on_trade(&mut self, qty: u32, price: Price) -> Option<Increment> {
        self.traded = self.traded.saturating_add(qty);
        let new = self.traded.saturating_sub(self.reported);
        (new > 0).then(|| self.book(new, price))
    }

    /// A postback's cumulative `filled` units at an `average` price: the units beyond
    /// what was reported, priced so that all the reported fills average `average`;
    /// `None` when nothing is new (a repeat, an older postback, trades that came
    /// first).
    ///
    /// The increment's price is `(filled × average − value reported) / new units`,
    /// rounded half away from zero to the price's 10⁻⁸. When Kite's average is itself
    /// rounded, or the trades reported earlier were priced differently from what the
    /// average implies, that can come out at zero or below; then the increment is
    /// reported at `average`.
    pub(super) fn on_cumulative(&mut self, filled: u32, average: Price) -> Option<Increment> {
        let new = filled.saturating_sub(self.reported);
        if new == 0 {
            return None;
        }
        let rest = i128::from(filled) * i128::from(average.raw()) - self.value;
        let units = i128::from(new);
        let price = if rest > 0 {
            i64::try_from((2 * rest + units) / (2 * units))
                .map(Price::from_raw)
                .unwrap_or(average)
        } else {
            average
        };
        Some(self.book(new, price))
    }

    fn book(&mut self, qty: u32, price: Price) -> Increment {
        self.reported += qty;
        self.value += i128::from(qty) * i128::from(price.raw());
        Increment { qty, price }
    }
}

/// The trade id of a fill learnt from a postback: stable for the order and the
/// cumulative quantity it brought the order to, so the same postback seen twice would
/// carry the same id (the order stage drops a trade id it has booked).
pub(super) fn trade_id(order_id: &str, cumulative: u32) -> TradeId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in order_id
        .bytes()
        .chain(*b"/postback/")
        .chain(cumulative.to_le_bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    TradeId(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Price {
        text.parse().unwrap()
    }

    fn inc(qty: u32, price: &str) -> Option<Increment> {
        Some(Increment {
            qty,
            price: p(price),
        })
    }

    #[test]
    fn a_postback_then_the_trades_report_each_unit_once() {
        let mut t = FillTally::default();
        assert_eq!(t.on_cumulative(2, p("500")), inc(2, "500"));
        // The repeat of the same postback adds nothing.
        assert_eq!(t.on_cumulative(2, p("500")), None);
        // The poll's trade of 5 covers the 2 reported and 3 more.
        assert_eq!(t.on_trade(5, p("500")), inc(3, "500"));
        assert_eq!(t.reported(), 5);
        // The final postback and a late repeat find nothing new.
        assert_eq!(t.on_cumulative(5, p("500")), None);
        assert_eq!(t.on_cumulative(3, p("500")), None);
    }

    #[test]
    fn trades_then_a_postback_report_each_unit_once() {
        let mut t = FillTally::default();
        assert_eq!(t.on_trade(4, p("100.05")), inc(4, "100.05"));
        // Cumulative 4 is what the trade reported.
        assert_eq!(t.on_cumulative(4, p("100.05")), None);
        // 10 at an average of 100.08: the 6 new units cost 1000.80 − 400.20 = 600.60.
        assert_eq!(t.on_cumulative(10, p("100.08")), inc(6, "100.10"));
        // The trades that account for those 6 add nothing.
        assert_eq!(t.on_trade(3, p("100.10")), None);
        assert_eq!(t.on_trade(3, p("100.10")), None);
        assert_eq!(t.reported(), 10);
    }

    #[test]
    fn the_increment_keeps_the_reported_average_equal_to_kites() {
        let mut t = FillTally::default();
        assert_eq!(t.on_cumulative(1, p("100.05")), inc(1, "100.05"));
        // 3 at 100.0833333 (1 at 100.05, 2 at 100.10, as Kite averages them):
        // 300.24999999 − 100.05 = 200.19999999 for 2 units, 100.099999995 rounds up.
        assert_eq!(t.on_cumulative(3, p("100.08333333")), inc(2, "100.1"));
        // Trades split differently later: nothing more is reported.
        assert_eq!(t.on_trade(3, p("100.08333333")), None);
    }

    #[test]
    fn a_trade_beyond_the_postbacks_reports_the_difference() {
        let mut t = FillTally::default();
        assert_eq!(t.on_cumulative(6, p("250")), inc(6, "250"));
        assert_eq!(t.on_trade(4, p("250")), None);
        assert_eq!(t.on_trade(4, p("251")), inc(2, "251"));
        assert_eq!(t.reported(), 8);
    }

    #[test]
    fn an_average_below_what_was_reported_falls_back_to_the_average() {
        let mut t = FillTally::default();
        assert_eq!(t.on_trade(9, p("200")), inc(9, "200"));
        // Kite's average says the ten cost less than the nine already reported: the
        // one new unit cannot be priced from it, so it is reported at the average.
        assert_eq!(t.on_cumulative(10, p("170")), inc(1, "170"));
    }

    #[test]
    fn postback_trade_ids_are_stable_and_distinct() {
        assert_eq!(trade_id("2203", 5), trade_id("2203", 5));
        assert_ne!(trade_id("2203", 5), trade_id("2203", 4));
        assert_ne!(trade_id("2203", 5), trade_id("2204", 5));
        assert_ne!(trade_id("2203", 5), TradeId(0));
    }
}
