//! The paper exchange: fills against the latest quote, at once.

use super::Gateway;
use crate::model::{
    ExecKind, ExecReport, InstrumentTable, OrderIntent, Price, Qty, RejectReason, Side, Tick,
    UnixNanos,
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
///   [`RejectReason::NotMarketable`] (resting orders come later).
/// - No quote on the needed side: [`RejectReason::NoQuote`]. Zero quantity:
///   [`RejectReason::ZeroQty`].
///
/// A fill is reported as `Accepted` then `Filled`, timed at the quote's exchange time, so
/// the same quotes and orders always give the same fills. Depth is not consumed: the whole
/// quantity fills at the touch.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, order::{Gateway, PaperGateway}};
/// # let mut table = InstrumentTable::new();
/// # let id = table.push(Instrument::nse_equity("SBIN", SectorId(0))).unwrap();
/// let mut paper = PaperGateway::new(&table);
/// paper.on_quote(&Tick { exchange_ts: UnixNanos(1), ingress: Stamp(0),
///     last: Price::from_paise(80_000), bid: Price::from_paise(79_995),
///     ask: Price::from_paise(80_005), instrument: id, volume: 0, last_qty: 0,
///     bid_qty: 100, ask_qty: 100, kind: TickKind::Quote });
/// let buy = OrderIntent { id: IntentId(1), exchange_ts: UnixNanos(1), ingress: Stamp(0),
///     limit: Price::ZERO, qty: Qty::new(5), instrument: id, strategy: StrategyId(0),
///     side: Side::Buy, reason: IntentReason::Entry };
/// let mut reports = Vec::new();
/// paper.submit(&buy, &mut |r| reports.push(r));
/// assert_eq!(reports[1].kind, ExecKind::Filled);
/// assert_eq!(reports[1].last_price, Price::from_paise(80_005));
/// ```
#[derive(Debug, Clone)]
pub struct PaperGateway {
    touches: Vec<Touch>,
}

impl PaperGateway {
    /// A paper exchange for the instruments of `instruments`, with no quotes yet.
    pub fn new(instruments: &InstrumentTable) -> PaperGateway {
        PaperGateway {
            touches: vec![Touch::default(); instruments.len()],
        }
    }

    /// The fill price for `order` against `touch`, or why there is none.
    fn price(order: &OrderIntent, touch: &Touch) -> Result<Price, RejectReason> {
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
        let marketable = order.is_market()
            || match order.side {
                Side::Buy => order.limit >= price,
                Side::Sell => order.limit <= price,
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

    fn on_quote(&mut self, quote: &Tick) {
        if let Some(touch) = self.touches.get_mut(quote.instrument.index()) {
            *touch = Touch {
                bid: quote.bid,
                ask: quote.ask,
                exchange_ts: quote.exchange_ts,
            };
        }
    }

    fn submit(&mut self, order: &OrderIntent, reports: &mut dyn FnMut(ExecReport)) {
        let touch = self.touches.get(order.instrument.index()).copied();
        let exchange_ts = touch
            .map(|t| t.exchange_ts)
            .filter(|ts| ts.0 > 0)
            .unwrap_or(order.exchange_ts);
        let report = ExecReport {
            intent: order.id,
            exchange_ts,
            ingress: order.ingress,
            last_price: Price::ZERO,
            instrument: order.instrument,
            last_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            leaves_qty: Qty::ZERO,
            strategy: order.strategy,
            side: order.side,
            kind: ExecKind::Rejected,
            reject: RejectReason::None,
        };
        let priced = match touch {
            Some(touch) => PaperGateway::price(order, &touch),
            None => Err(RejectReason::NoQuote),
        };
        match priced {
            Err(reason) => reports(ExecReport {
                reject: reason,
                ..report
            }),
            Ok(price) => {
                reports(ExecReport {
                    kind: ExecKind::Accepted,
                    leaves_qty: order.qty,
                    ..report
                });
                reports(ExecReport {
                    kind: ExecKind::Filled,
                    last_price: price,
                    last_qty: order.qty,
                    cum_qty: order.qty,
                    ..report
                });
            }
        }
    }

    fn poll(&mut self, _reports: &mut dyn FnMut(ExecReport)) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Instrument, InstrumentId, IntentId, IntentReason, SectorId, Stamp, StrategyId, TickKind,
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

    fn order(id: u32, side: Side, qty: u32, limit: &str) -> OrderIntent {
        OrderIntent {
            id: IntentId(u64::from(id) + 100),
            exchange_ts: UnixNanos(5),
            ingress: Stamp(42),
            limit: limit.parse().unwrap(),
            qty: Qty::new(qty),
            instrument: InstrumentId(id),
            strategy: StrategyId(3),
            side,
            reason: IntentReason::Entry,
        }
    }

    fn submit(paper: &mut PaperGateway, o: &OrderIntent) -> Vec<ExecReport> {
        let mut out = Vec::new();
        paper.submit(o, &mut |r| out.push(r));
        out
    }

    #[test]
    fn market_orders_fill_at_the_touch() {
        let mut paper = PaperGateway::new(&table());
        paper.on_quote(&quote(0, "1500.10", "1500.30", 77));
        let buy = submit(&mut paper, &order(0, Side::Buy, 12, "0"));
        assert_eq!(buy.len(), 2);
        assert_eq!(buy[0].kind, ExecKind::Accepted);
        assert_eq!(buy[0].leaves_qty, Qty::new(12));
        assert_eq!(buy[0].cum_qty, Qty::ZERO);
        let fill = buy[1];
        assert_eq!(fill.kind, ExecKind::Filled);
        assert_eq!(fill.last_price, "1500.30".parse().unwrap());
        assert_eq!(
            (fill.last_qty, fill.cum_qty, fill.leaves_qty),
            (Qty::new(12), Qty::new(12), Qty::ZERO)
        );
        assert_eq!(fill.exchange_ts, UnixNanos(77));
        assert_eq!(fill.ingress, Stamp(42));
        assert_eq!(fill.intent, IntentId(100));
        assert_eq!(fill.strategy, StrategyId(3));
        let sell = submit(&mut paper, &order(0, Side::Sell, 3, "0"));
        assert_eq!(sell[1].last_price, "1500.10".parse().unwrap());
    }

    #[test]
    fn limits_fill_at_the_touch_when_marketable() {
        let mut paper = PaperGateway::new(&table());
        paper.on_quote(&quote(1, "99.95", "100.05", 1));
        let buy = submit(&mut paper, &order(1, Side::Buy, 1, "100.10"));
        assert_eq!(buy[1].last_price, "100.05".parse().unwrap());
        let buy = submit(&mut paper, &order(1, Side::Buy, 1, "100.05"));
        assert_eq!(buy[1].kind, ExecKind::Filled);
        let sell = submit(&mut paper, &order(1, Side::Sell, 1, "99.90"));
        assert_eq!(sell[1].last_price, "99.95".parse().unwrap());
        let low = submit(&mut paper, &order(1, Side::Buy, 1, "100.00"));
        assert_eq!(low.len(), 1);
        assert_eq!(low[0].kind, ExecKind::Rejected);
        assert_eq!(low[0].reject, RejectReason::NotMarketable);
        let high = submit(&mut paper, &order(1, Side::Sell, 1, "100"));
        assert_eq!(high[0].reject, RejectReason::NotMarketable);
    }

    #[test]
    fn rejections() {
        let mut paper = PaperGateway::new(&table());
        let none = submit(&mut paper, &order(0, Side::Buy, 1, "0"));
        assert_eq!(
            (none[0].kind, none[0].reject),
            (ExecKind::Rejected, RejectReason::NoQuote)
        );
        assert_eq!(
            none[0].exchange_ts,
            UnixNanos(5),
            "no quote: the order's time"
        );
        paper.on_quote(&quote(0, "0", "10", 9)); // no bid
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
        assert_eq!(unknown[0].leaves_qty, Qty::ZERO);
        assert_eq!(paper.poll(&mut |_| {}), 0);
        assert_eq!(paper.name(), "paper");
    }
}
