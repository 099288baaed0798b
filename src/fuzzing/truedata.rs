//! TrueData messages: the JSON decoder, the mapping to ticks, and exact numbers.

use crate::{
    feed::truedata::{decimal_units, price, Message, MessageKind, TrueDataMarket},
    model::{InstrumentId, MarketEvent, UnixNanos},
};

/// Lines of text, each one WebSocket text message of one session (so a seed can bind
/// symbols and then trade them).
///
/// Checks, besides not panicking:
/// - an error names its kind and a reason; a data message's kind is the kind of its key;
/// - the ticks made from the messages (two symbols subscribed, ids bound by the input's
///   own "symbols added" rows) index the table, never go back in market time, and a
///   trade's tick carries the trade's price and is a trade;
/// - `decimal_units` on a line agrees with `price`: a value that fits is the same price.
pub fn truedata(data: &[u8]) {
    let symbols = [
        ("NIFTY 50".to_owned(), InstrumentId(0)),
        ("NIFTY25093025200CE".to_owned(), InstrumentId(1)),
    ];
    let mut market = TrueDataMarket::new(&symbols, 2);
    let mut last = UnixNanos::default();
    let mut check = |event: Option<MarketEvent>| {
        if let Some(event) = event {
            assert!(event.instrument().is_some_and(|id| id.index() < 2));
            assert!(event.exchange_ts() >= last, "market time went back");
            last = event.exchange_ts();
        }
    };
    for line in data.split(|&b| b == b'\n') {
        numbers(line);
        match Message::parse(&mut line.to_vec()) {
            Err(e) => assert!(!e.reason.is_empty(), "an error without a reason"),
            Ok(Message::Trade(trade)) => {
                let event = market.trade(&trade);
                if let Some(MarketEvent::Tick(tick)) = event {
                    assert_eq!(tick.last, trade.ltp);
                    assert_eq!(tick.kind, crate::model::TickKind::Trade);
                }
                check(event);
            }
            Ok(Message::BidAsk(update)) => check(market.bid_ask(&update)),
            Ok(Message::SymbolsAdded(rows) | Message::Touchline(rows)) => {
                for row in &rows {
                    check(market.bind(row, UnixNanos(1)));
                }
            }
            Ok(message) => {
                if matches!(message, Message::Bar(_)) {
                    assert_eq!(message.kind(), MessageKind::Bar);
                }
            }
        }
    }
}

fn numbers(line: &[u8]) {
    let Ok(text) = std::str::from_utf8(line) else {
        return;
    };
    if let Ok(raw) = decimal_units(text) {
        match (raw >= 0, i64::try_from(raw)) {
            (true, Ok(raw)) => assert_eq!(price(text).map(|p| p.raw()), Ok(raw)),
            _ => assert!(price(text).is_err()),
        }
    }
}
