//! Comparing the book with the broker's own account of positions.

use crate::{
    model::{InstrumentId, Price},
    risk::Book,
};

/// One position as the broker reports it; it lives in `model` because it crosses the
/// ring from the order stage ([`BrokerNotice`](crate::model::BrokerNotice)).
pub use crate::model::BrokerPosition;

/// A position on which the book and the broker disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The book's signed units.
    pub book_net: i64,
    /// The book's average price (zero when flat).
    pub book_avg: Price,
    /// The broker's signed units (zero when it lists none).
    pub broker_net: i64,
    /// The broker's average price.
    pub broker_avg: Price,
}

impl Mismatch {
    /// True when the quantities differ (not only the average price).
    pub fn qty_differs(&self) -> bool {
        self.book_net != self.broker_net
    }
}

/// The differences between `book` and a broker `snapshot`, by instrument.
///
/// A quantity that differs is a mismatch; so is an average price more than one paisa
/// from the book's on the same quantity (brokers report averages rounded to the paisa).
/// An instrument open in the book that the snapshot does not list counts as flat at
/// the broker; one the snapshot lists outside the book's table is reported with a
/// book quantity of zero. Instruments are reported in ascending order.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::{reconcile, BrokerPosition, Book}};
/// let mut book = Book::new(3, 1);
/// book.fill(InstrumentId(1), StrategyId(0), Side::Buy, Qty::new(10), "100".parse().unwrap()).unwrap();
/// let broker = [BrokerPosition { instrument: InstrumentId(1), net: 10, avg_price: "100".parse().unwrap() }];
/// assert!(reconcile(&book, &broker).is_empty());
/// let diff = reconcile(&book, &[]);
/// assert_eq!((diff[0].book_net, diff[0].broker_net), (10, 0));
/// ```
pub fn reconcile(book: &Book, snapshot: &[BrokerPosition]) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for i in 0..book.instruments() {
        let id = InstrumentId(i as u32);
        let broker = snapshot.iter().find(|b| b.instrument == id);
        let (net, avg_price) = broker.map_or((0, Price::ZERO), |b| (b.net, b.avg_price));
        let broker = BrokerPosition {
            instrument: id,
            net,
            avg_price,
        };
        out.extend(mismatch(book, &broker));
    }
    let mut outside: Vec<_> = snapshot
        .iter()
        .filter(|b| b.instrument.index() >= book.instruments() && b.net != 0)
        .map(|b| Mismatch {
            instrument: b.instrument,
            book_net: 0,
            book_avg: Price::ZERO,
            broker_net: b.net,
            broker_avg: b.avg_price,
        })
        .collect();
    outside.sort_by_key(|m| m.instrument.0);
    out.append(&mut outside);
    out
}

/// The difference between `book` and the broker's position of one instrument, if any,
/// by the rule of [`reconcile`]; one outside the book's table differs when it is open.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::{mismatch, BrokerPosition, Book}};
/// let book = Book::new(3, 1);
/// let broker = BrokerPosition { instrument: InstrumentId(2), net: -5, avg_price: "80".parse().unwrap() };
/// let m = mismatch(&book, &broker).unwrap();
/// assert_eq!((m.book_net, m.broker_net), (0, -5));
/// assert!(mismatch(&book, &BrokerPosition { net: 0, ..broker }).is_none());
/// ```
pub fn mismatch(book: &Book, broker: &BrokerPosition) -> Option<Mismatch> {
    let id = broker.instrument;
    if id.index() >= book.instruments() {
        return (broker.net != 0).then_some(Mismatch {
            instrument: id,
            book_net: 0,
            book_avg: Price::ZERO,
            broker_net: broker.net,
            broker_avg: broker.avg_price,
        });
    }
    let paisa = Price::from_paise(1).raw();
    let p = book.position(id);
    let avg_differs =
        broker.net != 0 && (p.avg_price().raw() - broker.avg_price.raw()).abs() > paisa;
    (p.net() != broker.net || avg_differs).then_some(Mismatch {
        instrument: id,
        book_net: p.net(),
        book_avg: p.avg_price(),
        broker_net: broker.net,
        broker_avg: broker.avg_price,
    })
}
