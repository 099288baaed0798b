//! The paper exchange: fills against the latest quote, at once.

use super::{Gateway, Reports};
use crate::{
    model::{ClientOrderId, InstrumentTable, Price, RejectReason, Side, Tick, TradeId, UnixNanos},
    order::venue::{Amend, OrderType, VenueEvent, VenueOrder, VenueReport},
};

/// The touch of one instrument as last quoted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Touch {
    bid: Price,
    ask: Price,
    exchange_ts: UnixNanos,
}

/// A paper exchange that answers every order at once against the latest quote.
///
/// - A market buy fills completely at the ask, a market sell at the bid.
/// - A limit buy at or above the ask (a sell at or below the bid) is marketable and fills
///   completely at the touch; a limit that is not marketable is rejected with
///   [`RejectReason::NotMarketable`] (resting orders come later), and so are stop orders.
/// - No quote on the needed side: [`RejectReason::NoQuote`]. Zero quantity:
///   [`RejectReason::ZeroQty`].
///
/// A fill is reported as `Accepted` then `Fill`, timed at the quote's exchange time, so
/// the same quotes and orders always give the same fills. Depth is not consumed: the whole
/// quantity fills at the touch. Nothing works after its answer, so modify and cancel are
/// refused and the end of the session has nothing to expire.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, order::{Gateway, OrderType, PaperGateway, Product, VenueEvent, VenueOrder}};
/// # let mut table = InstrumentTable::new();
/// # let id = table.push(Instrument::nse_equity("SBIN", SectorId(0))).unwrap();
/// let mut paper = PaperGateway::new(&table);
/// paper.on_quote(&Tick { exchange_ts: UnixNanos(1), ingress: Stamp(0),
///     last: Price::from_paise(80_000), bid: Price::from_paise(79_995),
///     ask: Price::from_paise(80_005), instrument: id, volume: 0, last_qty: 0,
///     bid_qty: 100, ask_qty: 100, kind: TickKind::Quote }, &mut |_| {});
/// let buy = VenueOrder { id: ClientOrderId(1), sent_ts: UnixNanos(1), limit: Price::ZERO,
///     trigger: Price::ZERO, qty: Qty::new(5), instrument: id, protection_bps: 50,
///     side: Side::Buy, kind: OrderType::Market, product: Product::Mis };
/// let mut reports = Vec::new();
/// paper.submit(&buy, &mut |r| reports.push(r));
/// assert_eq!(reports[1].event, VenueEvent::Fill);
/// assert_eq!(reports[1].last_price, Price::from_paise(80_005));
/// ```
#[derive(Debug, Clone)]
pub struct PaperGateway {
    touches: Vec<Touch>,
    /// Trade ids handed out so far.
    trades: u64,
}

impl PaperGateway {
    /// A paper exchange for the instruments of `instruments`, with no quotes yet.
    pub fn new(instruments: &InstrumentTable) -> PaperGateway {
        PaperGateway {
            touches: vec![Touch::default(); instruments.len()],
            trades: 0,
        }
    }

    /// The fill price for `order` against `touch`, or why there is none.
    fn price(order: &VenueOrder, touch: &Touch) -> Result<Price, RejectReason> {
        if order.qty.is_zero() {
            return Err(RejectReason::ZeroQty);
        }
        let price = match order.side {
            Side::Buy => touch.ask,
            Side::Sell => touch.bid,
        };
        if !price.is_positive() {
            return Err(RejectReason::NoQuote);
        }
        let marketable = match order.kind {
            OrderType::Market => true,
            OrderType::Limit => match order.side {
                Side::Buy => order.limit >= price,
                Side::Sell => order.limit <= price,
            },
            OrderType::StopMarket | OrderType::StopLimit => false,
        };
        if !marketable {
            return Err(RejectReason::NotMarketable);
        }
        Ok(price)
    }
}

impl Gateway for PaperGateway {
    fn name(&self) -> &'static str {
        "paper"
    }

    fn on_quote(&mut self, quote: &Tick, _reports: Reports<'_>) {
        if let Some(touch) = self.touches.get_mut(quote.instrument.index()) {
            *touch = Touch {
                bid: quote.bid,
                ask: quote.ask,
                exchange_ts: quote.exchange_ts,
            };
        }
    }

    fn advance(&mut self, _now: UnixNanos, _reports: Reports<'_>) {}

    fn submit(&mut self, order: &VenueOrder, reports: Reports<'_>) {
        let touch = self.touches.get(order.instrument.index()).copied();
        let exchange_ts = touch
            .map(|t| t.exchange_ts)
            .filter(|ts| ts.0 > 0)
            .unwrap_or(order.sent_ts);
        let priced = match touch {
            Some(touch) => PaperGateway::price(order, &touch),
            None => Err(RejectReason::NoQuote),
        };
        match priced {
            Err(reason) => reports(VenueReport::rejected(order.id, exchange_ts, reason)),
            Ok(price) => {
                self.trades += 1;
                reports(VenueReport::new(
                    order.id,
                    exchange_ts,
                    VenueEvent::Accepted,
                ));
                reports(VenueReport::fill(
                    order.id,
                    exchange_ts,
                    price,
                    order.qty,
                    TradeId(self.trades),
                ));
            }
        }
    }

    fn modify(&mut self, order: ClientOrderId, _amend: &Amend, reports: Reports<'_>) {
        let mut refused = VenueReport::new(order, UnixNanos(0), VenueEvent::ModifyRejected);
        refused.reject = RejectReason::Invalid;
        reports(refused);
    }

    fn cancel(&mut self, order: ClientOrderId, reports: Reports<'_>) {
        reports(VenueReport::new(
            order,
            UnixNanos(0),
            VenueEvent::CancelRejected,
        ));
    }

    fn poll(&mut self, _reports: Reports<'_>) -> usize {
        0
    }

    fn end_session(&mut self, _now: UnixNanos, _reports: Reports<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Instrument, InstrumentId, Qty, SectorId, Stamp, TickKind},
        order::venue::Product,
    };

    fn table() -> InstrumentTable {
        let mut t = InstrumentTable::new();
        for symbol in ["INFY", "TCS"] {
            t.push(Instrument::nse_equity(symbol, SectorId(0))).unwrap();
        }
        t
    }

    fn quote(id: u32, bid: &str, ask: &str, ts: u64) -> Tick {
        Tick {
            exchange_ts: UnixNanos(ts),
            ingress: Stamp(0),
            last: bid.parse().unwrap(),
            bid: bid.parse().unwrap(),
            ask: ask.parse().unwrap(),
            instrument: InstrumentId(id),
            volume: 0,
            last_qty: 0,
            bid_qty: 10,
            ask_qty: 10,
            kind: TickKind::Quote,
        }
    }

    fn order(id: u32, side: Side, qty: u32, limit: &str) -> VenueOrder {
        let limit: Price = limit.parse().unwrap();
        VenueOrder {
            id: ClientOrderId(u64::from(id) + 100),
            sent_ts: UnixNanos(5),
            limit,
            trigger: Price::ZERO,
            qty: Qty::new(qty),
            instrument: InstrumentId(id),
            protection_bps: 50,
            side,
            kind: if limit.is_positive() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            product: Product::Mis,
        }
    }

    fn submit(paper: &mut PaperGateway, o: &VenueOrder) -> Vec<VenueReport> {
        let mut out = Vec::new();
        paper.submit(o, &mut |r| out.push(r));
        out
    }

    #[test]
    fn market_orders_fill_at_the_touch() {
        let mut paper = PaperGateway::new(&table());
        paper.on_quote(&quote(0, "1500.10", "1500.30", 77), &mut |_| {});
        let buy = submit(&mut paper, &order(0, Side::Buy, 12, "0"));
        assert_eq!(buy.len(), 2);
        assert_eq!(buy[0].event, VenueEvent::Accepted);
        let fill = buy[1];
        assert_eq!(fill.event, VenueEvent::Fill);
        assert_eq!(fill.last_price, "1500.30".parse().unwrap());
        assert_eq!(fill.last_qty, Qty::new(12));
        assert_eq!(fill.exchange_ts, UnixNanos(77));
        assert_eq!(fill.order, ClientOrderId(100));
        let sell = submit(&mut paper, &order(0, Side::Sell, 3, "0"));
        assert_eq!(sell[1].last_price, "1500.10".parse().unwrap());
        assert_ne!(sell[1].trade, fill.trade, "every fill is its own trade");
    }

    #[test]
    fn limits_fill_at_the_touch_when_marketable() {
        let mut paper = PaperGateway::new(&table());
        paper.on_quote(&quote(1, "99.95", "100.05", 1), &mut |_| {});
        let buy = submit(&mut paper, &order(1, Side::Buy, 1, "100.10"));
        assert_eq!(buy[1].last_price, "100.05".parse().unwrap());
        let buy = submit(&mut paper, &order(1, Side::Buy, 1, "100.05"));
        assert_eq!(buy[1].event, VenueEvent::Fill);
        let sell = submit(&mut paper, &order(1, Side::Sell, 1, "99.90"));
        assert_eq!(sell[1].last_price, "99.95".parse().unwrap());
        let low = submit(&mut paper, &order(1, Side::Buy, 1, "100.00"));
        assert_eq!(low.len(), 1);
        assert_eq!(low[0].event, VenueEvent::Rejected);
        assert_eq!(low[0].reject, RejectReason::NotMarketable);
        let high = submit(&mut paper, &order(1, Side::Sell, 1, "100"));
        assert_eq!(high[0].reject, RejectReason::NotMarketable);
    }

    #[test]
    fn rejections() {
        let mut paper = PaperGateway::new(&table());
        let none = submit(&mut paper, &order(0, Side::Buy, 1, "0"));
        assert_eq!(
            (none[0].event, none[0].reject),
            (VenueEvent::Rejected, RejectReason::NoQuote)
        );
        assert_eq!(
            none[0].exchange_ts,
            UnixNanos(5),
            "no quote: the order's time"
        );
        paper.on_quote(&quote(0, "0", "10", 9), &mut |_| {}); // no bid
        assert_eq!(
            submit(&mut paper, &order(0, Side::Sell, 1, "0"))[0].reject,
            RejectReason::NoQuote
        );
        assert_eq!(
            submit(&mut paper, &order(0, Side::Buy, 0, "0"))[0].reject,
            RejectReason::ZeroQty
        );
        let unknown = submit(&mut paper, &order(7, Side::Buy, 1, "0"));
        assert_eq!(unknown[0].reject, RejectReason::NoQuote);
        assert_eq!(paper.poll(&mut |_| {}), 0);
        assert_eq!(paper.name(), "paper");
    }
}
