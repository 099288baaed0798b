//! Reconciliation: the broker's day positions and open orders against what this gateway
//! has reported to the engine.
//!
//! Three differences are looked for (PROTOCOLS.md §2.3, §2.6):
//!
//! | kind | broker | engine |
//! | --- | --- | --- |
//! | [`DifferenceKind::Position`] | net day quantity of `GET /portfolio/positions` (`day`), in the products the engine trades | net of the fills this gateway reported |
//! | [`DifferenceKind::BrokerOrder`] | an order of `GET /orders` still working (open, trigger pending, …) | not among the gateway's working orders |
//! | [`DifferenceKind::EngineOrder`] | not in `GET /orders` | a working order of the gateway |
//!
//! Orders in flight: the I/O thread reads the trades and the order book (and reports
//! what they add) just before it reads the positions, so the gateway has caught up with
//! everything the broker had shown; a fill landing between those reads still makes a
//! passing difference, so a difference found by a periodic check is *confirmed* only
//! when the next check (a poll interval later) finds the same subject off by the same
//! amount (broker − engine): a missed fill keeps its offset while other fills come and
//! go, a fill in flight does not. The check at start is confirmed at once: no order of
//! this run can be in flight before it.
//!
//! A confirmed difference is acted on once per subject (instrument or order) per
//! distinct offset; one that clears and comes back is acted on again. What acting means
//! is the I/O thread's business: a position difference of an instrument the engine
//! trades goes to the risk stage, which holds the book, as the broker's position; the
//! rest are alerted by the gateway itself.
//!
//! The engine's side starts from what the day's journal shows filled before a restart
//! (seeded by the caller), so positions carried over a restart are no difference.

use std::collections::{HashMap, HashSet};

use super::wire::{OrderRow, PositionRow};
use crate::model::{InstrumentId, Price};

/// What a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DifferenceKind {
    /// The broker's net day position differs from the fills the gateway reported.
    Position,
    /// The broker works an order the engine does not know.
    BrokerOrder,
    /// The engine works an order the broker does not list.
    EngineOrder,
}

impl DifferenceKind {
    /// The alert's detail.
    pub const fn detail(self) -> &'static str {
        match self {
            DifferenceKind::Position => {
                "the broker's day position differs from the fills the engine was told of"
            }
            DifferenceKind::BrokerOrder => "the broker works an order the engine does not know",
            DifferenceKind::EngineOrder => "the engine works an order the broker does not list",
        }
    }

    /// A short name for status and logs.
    pub const fn name(self) -> &'static str {
        match self {
            DifferenceKind::Position => "position",
            DifferenceKind::BrokerOrder => "unknown_broker_order",
            DifferenceKind::EngineOrder => "missing_at_broker",
        }
    }
}

/// One difference between the broker and the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What kind.
    pub kind: DifferenceKind,
    /// `EXCHANGE:SYMBOL`.
    pub listing: String,
    /// The engine's instrument, when it trades the listing.
    pub instrument: Option<InstrumentId>,
    /// Kite's order id, for the order kinds.
    pub order_id: Option<String>,
    /// The broker's signed quantity (net position, or an order's open units; 0 when
    /// the broker has nothing).
    pub broker: i64,
    /// The engine's signed quantity (net of reported fills, or a working order's
    /// units; 0 when the engine has nothing).
    pub engine: i64,
    /// The broker's average price of its net position (positions only; zero when flat
    /// or for orders).
    pub broker_avg: Price,
}

impl Difference {
    /// Broker less engine.
    pub fn offset(&self) -> i64 {
        self.broker - self.engine
    }

    fn key(&self) -> Key {
        (
            self.kind,
            self.listing.clone(),
            self.order_id.clone().unwrap_or_default(),
        )
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: broker {}, engine {}",
            self.kind.name(),
            self.listing,
            self.broker,
            self.engine
        )?;
        if let Some(id) = &self.order_id {
            write!(f, " (order {id})")?;
        }
        Ok(())
    }
}

type Key = (DifferenceKind, String, String);

/// One working order of the gateway, as reconciliation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Working<'a> {
    /// Kite's order id.
    pub order_id: &'a str,
    /// The instrument.
    pub instrument: InstrumentId,
    /// Signed units ordered and not yet reported filled.
    pub open: i64,
}

/// What the engine knows, as the gateway saw it.
#[derive(Debug)]
pub struct EngineView<'a> {
    /// `EXCHANGE:SYMBOL` by instrument index; `None` for what cannot be traded.
    pub listings: &'a [Option<String>],
    /// Net of the fills reported, by instrument index.
    pub net: &'a [i64],
    /// The products the engine places orders under (`MIS`, ...).
    pub products: &'a [&'static str],
    /// The working orders.
    pub working: &'a [Working<'a>],
}

/// Every difference between the broker's `day` positions and order `book` and `engine`.
///
/// # Examples
/// ```
/// use tickpipe::order::kite::reconcile::{differences, DifferenceKind, EngineView};
/// let listings = [Some("NSE:SBIN".to_owned())];
/// let engine = EngineView { listings: &listings, net: &[10], products: &["MIS"], working: &[] };
/// let found = differences(&[], &[], &engine);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].kind, DifferenceKind::Position);
/// assert_eq!((found[0].broker, found[0].engine), (0, 10));
/// ```
pub fn differences(day: &[PositionRow], book: &[OrderRow], engine: &EngineView) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut rows: HashMap<String, Vec<&PositionRow>> = HashMap::new();
    for row in day {
        if engine.products.contains(&row.product.as_str()) {
            rows.entry(format!("{}:{}", row.exchange, row.tradingsymbol))
                .or_default()
                .push(row);
        }
    }
    let mut broker_net: HashMap<String, (i64, Price)> = rows
        .into_iter()
        .map(|(listing, rows)| (listing, net_and_average(&rows)))
        .collect();
    let by_listing: HashMap<&str, InstrumentId> = engine
        .listings
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.as_deref().map(|l| (l, InstrumentId(i as u32))))
        .collect();
    for (i, listing) in engine.listings.iter().enumerate() {
        let Some(listing) = listing else { continue };
        let (broker, broker_avg) = broker_net.remove(listing).unwrap_or((0, Price::ZERO));
        let ours = engine.net.get(i).copied().unwrap_or(0);
        if broker != ours {
            found.push(Difference {
                kind: DifferenceKind::Position,
                listing: listing.clone(),
                instrument: Some(InstrumentId(i as u32)),
                order_id: None,
                broker,
                engine: ours,
                broker_avg,
            });
        }
    }
    let mut others: Vec<(String, (i64, Price))> = broker_net
        .into_iter()
        .filter(|(_, (q, _))| *q != 0)
        .collect();
    others.sort_by(|a, b| a.0.cmp(&b.0));
    for (listing, (broker, broker_avg)) in others {
        found.push(Difference {
            kind: DifferenceKind::Position,
            listing,
            instrument: None,
            order_id: None,
            broker,
            engine: 0,
            broker_avg,
        });
    }
    let working: HashSet<&str> = engine.working.iter().map(|w| w.order_id).collect();
    let mut listed = HashSet::new();
    for row in book {
        listed.insert(row.order_id.as_str());
        if row.status().is_terminal() || working.contains(row.order_id.as_str()) {
            continue;
        }
        let listing = format!("{}:{}", row.exchange, row.tradingsymbol);
        found.push(Difference {
            kind: DifferenceKind::BrokerOrder,
            instrument: by_listing.get(listing.as_str()).copied(),
            listing,
            order_id: Some(row.order_id.clone()),
            broker: row.open_qty(),
            engine: 0,
            broker_avg: Price::ZERO,
        });
    }
    for w in engine.working {
        if listed.contains(w.order_id) {
            continue;
        }
        found.push(Difference {
            kind: DifferenceKind::EngineOrder,
            listing: engine
                .listings
                .get(w.instrument.index())
                .and_then(Clone::clone)
                .unwrap_or_default(),
            instrument: Some(w.instrument),
            order_id: Some(w.order_id.to_owned()),
            broker: 0,
            engine: w.open,
            broker_avg: Price::ZERO,
        });
    }
    found
}

/// A listing's net quantity over its `rows` (one per product), and the average price
/// of that net: the quantity-weighted average of the rows on the net's side (a row on
/// the other side only reduces the net; it does not set its price). Zero when flat.
fn net_and_average(rows: &[&PositionRow]) -> (i64, Price) {
    let net: i64 = rows.iter().map(|r| r.quantity).sum();
    let (mut units, mut paid) = (0_i128, 0_i128);
    for row in rows {
        if net != 0 && row.quantity.signum() == net.signum() {
            units += i128::from(row.quantity.abs());
            paid += i128::from(row.quantity.abs()) * i128::from(row.average_price.raw());
        }
    }
    let average = if units == 0 {
        Price::ZERO
    } else {
        // Between the rows' own prices, so it fits where they did.
        Price::from_raw(i64::try_from(paid / units).unwrap_or(0))
    };
    (net, average)
}

/// The persistence rule and the alert limiter (see the module doc).
#[derive(Debug, Default)]
pub struct Reconciler {
    /// Subjects that differed at the last check, and by how much.
    previous: HashMap<Key, i64>,
    /// The offset last alerted, by subject, while it keeps differing.
    alerted: HashMap<Key, i64>,
    /// Confirmed differences standing after the last check.
    standing: Vec<Difference>,
}

/// What one check concluded.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Confirmed differences not alerted before with these quantities: alert each.
    pub alert: Vec<Difference>,
    /// Differences seen for the first time by a periodic check: check again soon.
    pub unconfirmed: usize,
}

impl Reconciler {
    /// Judges the differences `found` by a check; `at_start` confirms them at once.
    pub fn judge(&mut self, found: Vec<Difference>, at_start: bool) -> Verdict {
        let mut verdict = Verdict::default();
        let now: HashMap<Key, i64> = found.iter().map(|d| (d.key(), d.offset())).collect();
        self.alerted.retain(|k, _| now.contains_key(k));
        self.standing.clear();
        for d in found {
            let key = d.key();
            let offset = d.offset();
            if !at_start && self.previous.get(&key) != Some(&offset) {
                verdict.unconfirmed += 1;
                continue;
            }
            if self.alerted.insert(key, offset) != Some(offset) {
                verdict.alert.push(d.clone());
            }
            self.standing.push(d);
        }
        self.previous = now;
        verdict
    }

    /// The confirmed differences standing after the last check.
    pub fn standing(&self) -> &[Difference] {
        &self.standing
    }

    /// Forgets the confirmed difference `d`: the engine's side has taken the broker's
    /// (the risk stage adopts the broker's positions), so it no longer stands, and the
    /// next check, which finds the sides equal, starts afresh.
    pub fn resolve(&mut self, d: &Difference) {
        let key = d.key();
        self.previous.remove(&key);
        self.alerted.remove(&key);
        self.standing.retain(|s| s.key() != key);
    }
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::*;

    fn data<T: DeserializeOwned>(json: &str) -> T {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        serde_json::from_value(v["data"].clone()).unwrap()
    }

    fn position(listing: &str, product: &str, quantity: i64) -> PositionRow {
        let (exchange, symbol) = listing.split_once(':').unwrap();
        PositionRow {
            tradingsymbol: symbol.to_owned(),
            exchange: exchange.to_owned(),
            product: product.to_owned(),
            quantity,
            average_price: crate::model::Price::from_paise(10_000),
        }
    }

    #[test]
    fn the_fixture_book_and_positions_against_an_empty_engine() {
        let positions: super::super::wire::Positions = data(include_str!(
            "../../../../tests/fixtures/kite/positions.json"
        ));
        let book: Vec<OrderRow> = data(include_str!("../../../../tests/fixtures/kite/orders.json"));
        let listings = [Some("NSE:SBIN".to_owned())];
        let engine = EngineView {
            listings: &listings,
            net: &[0],
            products: &["NRML"],
            working: &[],
        };
        let found = differences(&positions.day, &book, &engine);
        let positions: Vec<String> = found
            .iter()
            .filter(|d| d.kind == DifferenceKind::Position)
            .map(ToString::to_string)
            .collect();
        // Every NRML day position the engine does not hold; SBIN (flat at both) is none.
        assert!(!positions.is_empty());
        assert!(found
            .iter()
            .all(|d| d.kind != DifferenceKind::Position || d.instrument.is_none()));
        // The book's working orders (none of them the engine's).
        let open: Vec<&Difference> = found
            .iter()
            .filter(|d| d.kind == DifferenceKind::BrokerOrder)
            .collect();
        let working = book.iter().filter(|o| !o.status().is_terminal()).count();
        assert_eq!(open.len(), working);
    }

    #[test]
    fn positions_compare_in_the_engines_products_only() {
        let listings = [
            Some("NSE:SBIN".to_owned()),
            Some("NSE:INFY".to_owned()),
            None,
        ];
        let engine = EngineView {
            listings: &listings,
            net: &[10, -5, 0],
            products: &["MIS"],
            working: &[],
        };
        let day = [
            position("NSE:SBIN", "MIS", 10),
            position("NSE:SBIN", "CNC", 100),
            position("NSE:INFY", "MIS", -3),
            position("NSE:TCS", "MIS", 2),
            position("NSE:WIPRO", "MIS", 0),
        ];
        let found = differences(&day, &[], &engine);
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "position NSE:INFY: broker -3, engine -5",
                "position NSE:TCS: broker 2, engine 0"
            ]
        );
        assert_eq!(found[0].instrument, Some(InstrumentId(1)));
        assert_eq!(found[1].instrument, None);
    }

    #[test]
    fn orders_each_side_does_not_know() {
        let mut book: Vec<OrderRow> =
            data(include_str!("../../../../tests/fixtures/kite/orders.json"));
        book.retain(|o| o.status().is_terminal());
        let mut open = book[0].clone();
        open.order_id = "777".to_owned();
        open.status = "TRIGGER PENDING".to_owned();
        open.exchange = "NSE".to_owned();
        open.tradingsymbol = "SBIN".to_owned();
        open.transaction_type = "SELL".to_owned();
        open.quantity = 10;
        open.filled_quantity = 4;
        let mut ours = open.clone();
        ours.order_id = "888".to_owned();
        ours.status = "OPEN".to_owned();
        book.extend([open, ours]);
        let listings = [Some("NSE:SBIN".to_owned())];
        let working = [
            Working {
                order_id: "888",
                instrument: InstrumentId(0),
                open: -6,
            },
            Working {
                order_id: "999",
                instrument: InstrumentId(0),
                open: 3,
            },
        ];
        let engine = EngineView {
            listings: &listings,
            net: &[0],
            products: &["MIS"],
            working: &working,
        };
        let shown: Vec<String> = differences(&[], &book, &engine)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "unknown_broker_order NSE:SBIN: broker -6, engine 0 (order 777)",
                "missing_at_broker NSE:SBIN: broker 0, engine 3 (order 999)"
            ]
        );
    }

    #[test]
    fn a_listings_average_is_of_the_rows_on_its_nets_side() {
        let priced = |product: &str, quantity: i64, paise: i64| PositionRow {
            average_price: crate::model::Price::from_paise(paise),
            ..position("NSE:SBIN", product, quantity)
        };
        let listings = [Some("NSE:SBIN".to_owned())];
        let engine = EngineView {
            listings: &listings,
            net: &[0],
            products: &["MIS", "CNC"],
            working: &[],
        };
        // 10 at 100.00 and 30 at 102.00 long, 20 short at 99.00: net 20 long at
        // (1000 + 3060) / 40 = 101.50.
        let day = [
            priced("MIS", 10, 10_000),
            priced("CNC", 30, 10_200),
            priced("MIS", -20, 9_900),
        ];
        let found = differences(&day, &[], &engine);
        assert_eq!((found[0].broker, found[0].engine), (20, 0));
        assert_eq!(found[0].broker_avg, crate::model::Price::from_paise(10_150));
        // Flat at the broker: no price.
        let day = [priced("MIS", 10, 10_000), priced("MIS", -10, 9_900)];
        let engine = EngineView {
            net: &[5],
            ..engine
        };
        let found = differences(&day, &[], &engine);
        assert_eq!((found[0].broker, found[0].broker_avg), (0, Price::ZERO));
    }

    #[test]
    fn a_resolved_difference_stands_no_more_and_starts_afresh() {
        let mut r = Reconciler::default();
        let d = diff(10, 0);
        assert_eq!(
            r.judge(vec![d.clone()], true).alert,
            std::slice::from_ref(&d)
        );
        r.resolve(&d);
        assert!(r.standing().is_empty());
        // The engine took the broker's 10; should the same offset come back, it is new.
        assert_eq!(r.judge(vec![diff(20, 10)], false).unconfirmed, 1);
        assert_eq!(r.judge(vec![diff(20, 10)], false).alert, [diff(20, 10)]);
    }

    fn diff(broker: i64, engine: i64) -> Difference {
        Difference {
            kind: DifferenceKind::Position,
            listing: "NSE:SBIN".to_owned(),
            instrument: Some(InstrumentId(0)),
            order_id: None,
            broker,
            engine,
            broker_avg: Price::ZERO,
        }
    }

    #[test]
    fn a_difference_must_persist_and_is_alerted_once_per_value() {
        let mut r = Reconciler::default();
        let v = r.judge(vec![diff(10, 0)], false);
        assert_eq!((v.alert.len(), v.unconfirmed), (0, 1), "first sighting");
        let v = r.judge(vec![], false);
        assert!(v.alert.is_empty(), "a passing difference is never alerted");
        let v = r.judge(vec![diff(10, 0)], false);
        assert_eq!(v.unconfirmed, 1);
        let v = r.judge(vec![diff(10, 0)], false);
        assert_eq!(v.alert, [diff(10, 0)], "seen twice in a row");
        assert_eq!(r.standing(), [diff(10, 0)]);
        assert!(r.judge(vec![diff(10, 0)], false).alert.is_empty(), "once");
        // Other fills came (both sides moved): the same offset, nothing new.
        assert!(r.judge(vec![diff(15, 5)], false).alert.is_empty());
        assert_eq!(r.standing(), [diff(15, 5)]);
        // A new offset must persist too before it is alerted.
        assert_eq!(r.judge(vec![diff(12, 0)], false).unconfirmed, 1);
        assert_eq!(r.judge(vec![diff(12, 0)], false).alert, [diff(12, 0)]);
        // A fill in flight on each of two checks, of different sizes: never confirmed.
        let mut t = Reconciler::default();
        assert_eq!(t.judge(vec![diff(3, 0)], false).unconfirmed, 1);
        assert_eq!(t.judge(vec![diff(8, 3)], false).unconfirmed, 1);
        assert!(t.standing().is_empty());
        assert!(r.judge(vec![], false).alert.is_empty());
        assert!(r.standing().is_empty());
        // At start, at once.
        let mut r = Reconciler::default();
        assert_eq!(r.judge(vec![diff(5, 0)], true).alert, [diff(5, 0)]);
    }
}
