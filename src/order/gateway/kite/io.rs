//! The Kite gateway's I/O thread: requests in, HTTP out, reports back.
//!
//! ```text
//!  order stage (hot)                     kite-gateway thread (cold)
//!  submit/modify/cancel ──ring──▶  POST/PUT/DELETE /orders/regular ──▶ Kite
//!  poll ◀──────────────ring────── reports ◀── GET /orders, GET /trades every poll_interval
//! ```
//!
//! The thread owns the map from the engine's [`ClientOrderId`] to Kite's order id and
//! what it has reported of each order. While an order works it reads the order book
//! and the day's trades every `poll_interval_ms` and turns what changed into
//! [`VenueReport`]s: `Accepted` once the order is open at the exchange, one `Fill` per
//! trade id (a trade seen twice is reported once), then `Cancelled` or `Rejected`. A
//! cancel is reported only after every fill the order book counts has been reported,
//! so the order stage never sees a fill after the end. Reports that do not fit in the
//! ring wait in a queue on this thread: nothing is dropped.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use tickpipe_ringbuf::{Consumer, Producer, PushError};

use super::{
    client::{Method, RestClient},
    error::{reason_from_message, ApiError, ErrorType},
    health::GatewayHealth,
    wire::{OrderIdData, OrderRow, Status, TradeRow},
};
use crate::{
    model::{ClientOrderId, RejectReason, Side},
    order::venue::{Amend, OrderType, VenueEvent, VenueOrder, VenueReport},
};

/// What the order stage asks of the I/O thread (small and `Copy`: it crosses a ring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Place an order.
    Submit(VenueOrder),
    /// Change a working order.
    Modify(ClientOrderId, Amend),
    /// Cancel a working order.
    Cancel(ClientOrderId),
}

/// Where an instrument trades at Kite: exchange and trading symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// `NSE`, `BSE`, `NFO`, `BFO`, `CDS`, `BCD`.
    pub exchange: &'static str,
    /// The exchange's trading symbol.
    pub symbol: String,
}

/// What one order has come to, as far as reported.
#[derive(Debug)]
struct Tracked {
    client: ClientOrderId,
    kind: OrderType,
    accepted: bool,
    filled: u32,
}

/// The thread's state.
pub(super) struct Io {
    pub client: RestClient,
    pub requests: Consumer<Request>,
    pub reports: Producer<VenueReport>,
    pub health: Arc<GatewayHealth>,
    pub listings: Vec<Option<Listing>>,
    pub algo_id: String,
    pub poll_every: Duration,
    orders: HashMap<String, Tracked>,
    by_client: HashMap<ClientOrderId, String>,
    trades_seen: HashSet<String>,
    backlog: VecDeque<VenueReport>,
    next_poll: Instant,
}

impl Io {
    pub(super) fn new(
        client: RestClient,
        requests: Consumer<Request>,
        reports: Producer<VenueReport>,
        health: Arc<GatewayHealth>,
        listings: Vec<Option<Listing>>,
        algo_id: String,
        poll_every: Duration,
    ) -> Io {
        Io {
            client,
            requests,
            reports,
            health,
            listings,
            algo_id,
            poll_every,
            orders: HashMap::new(),
            by_client: HashMap::new(),
            trades_seen: HashSet::new(),
            backlog: VecDeque::new(),
            next_poll: Instant::now(),
        }
    }

    /// Runs until the gateway is dropped.
    pub(super) fn run(mut self) {
        while !self.health.stopping() && !self.requests.is_abandoned() {
            self.flush();
            let mut worked = false;
            while let Ok(request) = self.requests.try_pop() {
                self.handle(request);
                worked = true;
            }
            if !self.orders.is_empty() && Instant::now() >= self.next_poll {
                self.poll();
                self.next_poll = Instant::now() + self.poll_every;
                worked = true;
            }
            self.health
                .publish(&self.client.counters(), self.orders.len());
            if !worked {
                // A cold thread: a millisecond of latency on a request is nothing next to
                // the broker's round trip, and it leaves the core to the stages.
                thread::sleep(Duration::from_millis(1));
            }
        }
        self.flush();
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Submit(order) => self.submit(&order),
            Request::Modify(id, amend) => self.modify(id, &amend),
            Request::Cancel(id) => self.cancel(id),
        }
    }

    fn submit(&mut self, order: &VenueOrder) {
        let now = self.health.market_now();
        let Some(Some(listing)) = self.listings.get(order.instrument.index()) else {
            self.report(VenueReport::rejected(
                order.id,
                now,
                RejectReason::UnknownInstrument,
            ));
            return;
        };
        let mut form = vec![
            ("tradingsymbol", listing.symbol.clone()),
            ("exchange", listing.exchange.to_owned()),
            (
                "transaction_type",
                match order.side {
                    Side::Buy => "BUY",
                    Side::Sell => "SELL",
                }
                .to_owned(),
            ),
            ("order_type", order_type(order.kind).to_owned()),
            ("quantity", order.qty.get().to_string()),
            ("product", order.product.as_str().to_owned()),
            ("validity", "DAY".to_owned()),
        ];
        push_prices(&mut form, order.kind, order.limit, order.trigger);
        if matches!(order.kind, OrderType::Market | OrderType::StopMarket) {
            form.push(("market_protection", percent(order.protection_bps)));
        }
        if !self.algo_id.is_empty() {
            form.push(("tag", self.algo_id.clone()));
        }
        match self
            .client
            .data::<OrderIdData>(Method::Post, "/orders/regular", &form)
        {
            Ok(placed) => {
                self.health.placed.add(1);
                self.by_client.insert(order.id, placed.order_id.clone());
                self.orders.insert(
                    placed.order_id,
                    Tracked {
                        client: order.id,
                        kind: order.kind,
                        accepted: false,
                        filled: 0,
                    },
                );
            }
            Err(e) => {
                self.failed("placing an order", &e);
                self.report(VenueReport::rejected(order.id, now, e.reject_reason()));
            }
        }
    }

    fn modify(&mut self, id: ClientOrderId, amend: &Amend) {
        let now = self.health.market_now();
        let Some((kite_id, kind)) = self
            .by_client
            .get(&id)
            .and_then(|k| self.orders.get(k).map(|t| (k.clone(), t.kind)))
        else {
            self.report(VenueReport {
                reject: RejectReason::Venue,
                ..VenueReport::new(id, now, VenueEvent::ModifyRejected)
            });
            return;
        };
        let mut form = vec![
            ("order_type", order_type(kind).to_owned()),
            ("quantity", amend.qty.get().to_string()),
            ("validity", "DAY".to_owned()),
        ];
        push_prices(&mut form, kind, amend.limit, amend.trigger);
        let path = format!("/orders/regular/{kite_id}");
        match self.client.data::<OrderIdData>(Method::Put, &path, &form) {
            Ok(_) => self.report(VenueReport::new(id, now, VenueEvent::Modified)),
            Err(e) => {
                self.failed("modifying an order", &e);
                self.report(VenueReport {
                    reject: e.reject_reason(),
                    ..VenueReport::new(id, now, VenueEvent::ModifyRejected)
                });
            }
        }
    }

    fn cancel(&mut self, id: ClientOrderId) {
        let now = self.health.market_now();
        let Some(kite_id) = self.by_client.get(&id).cloned() else {
            self.report(VenueReport::new(id, now, VenueEvent::CancelRejected));
            return;
        };
        let path = format!("/orders/regular/{kite_id}");
        // Success says Kite took the request; the order book says when it is cancelled.
        if let Err(e) = self.client.data::<OrderIdData>(Method::Delete, &path, &[]) {
            self.failed("cancelling an order", &e);
            self.report(VenueReport {
                reject: e.reject_reason(),
                ..VenueReport::new(id, now, VenueEvent::CancelRejected)
            });
        }
    }

    /// Reads the order book and the trades, and reports what changed.
    fn poll(&mut self) {
        let trades = match self
            .client
            .data::<Vec<TradeRow>>(Method::Get, "/trades", &[])
        {
            Ok(t) => t,
            Err(e) => return self.poll_failed(&e),
        };
        let book = match self
            .client
            .data::<Vec<OrderRow>>(Method::Get, "/orders", &[])
        {
            Ok(b) => b,
            Err(e) => return self.poll_failed(&e),
        };
        let now = self.health.market_now();
        // Fills first, so a terminal status is reported after them.
        let mut fills = Vec::new();
        for trade in &trades {
            let Some(tracked) = self.orders.get_mut(&trade.order_id) else {
                continue;
            };
            if !self.trades_seen.insert(trade.trade_id.clone()) {
                continue;
            }
            tracked.filled = tracked.filled.saturating_add(trade.quantity);
            fills.push(VenueReport::fill(
                tracked.client,
                trade.time().unwrap_or(now),
                trade.average_price,
                crate::model::Qty::new(trade.quantity),
                trade.id(),
            ));
        }
        self.health.fills.add(fills.len() as u64);
        for fill in fills {
            self.report(fill);
        }
        for row in &book {
            let Some(tracked) = self.orders.get_mut(&row.order_id) else {
                continue;
            };
            let ts = row.exchange_time().unwrap_or(now);
            let status = row.status();
            let mut out = None;
            let mut done = false;
            match status {
                Status::Pending => {}
                Status::Open => {
                    if !tracked.accepted {
                        tracked.accepted = true;
                        out = Some(VenueReport::new(tracked.client, ts, VenueEvent::Accepted));
                    }
                }
                // Done once the trades have caught up with the book's fill count.
                Status::Complete => done = tracked.filled >= row.filled_quantity,
                Status::Cancelled => {
                    if tracked.filled >= row.filled_quantity {
                        done = true;
                        out = Some(VenueReport::new(tracked.client, ts, VenueEvent::Cancelled));
                    }
                }
                Status::Rejected => {
                    done = true;
                    let reason = row
                        .status_message
                        .as_deref()
                        .and_then(reason_from_message)
                        .unwrap_or(RejectReason::Venue);
                    self.health.rejected.add(1);
                    if let Some(why) = &row.status_message {
                        self.health
                            .note(format!("order {} rejected: {why}", row.order_id));
                    }
                    out = Some(VenueReport::rejected(tracked.client, ts, reason));
                }
            }
            let client = tracked.client;
            if let Some(report) = out {
                self.report(report);
            }
            if done {
                self.orders.remove(&row.order_id);
                self.by_client.remove(&client);
            }
        }
    }

    fn poll_failed(&mut self, e: &ApiError) {
        self.health.poll_errors.add(1);
        self.failed("reading the order book", e);
    }

    /// Records a failure; a refused token is said plainly, once per run of refusals.
    fn failed(&mut self, what: &str, e: &ApiError) {
        if e.kind == ErrorType::Token {
            let first = self.health.token_refused();
            if first {
                eprintln!(
                    "tickpipe: kite gateway: Kite refused the access token while {what} ({e}). \
                     Access tokens expire every morning at 06:00 IST: run `tickpipe kite login` \
                     and start again."
                );
            }
        }
        self.health.note(format!("{what}: {e}"));
    }

    fn report(&mut self, report: VenueReport) {
        if !self.backlog.is_empty() {
            self.backlog.push_back(report);
            return;
        }
        if let Err(PushError::Full(report)) = self.reports.try_push(report) {
            self.backlog.push_back(report);
        }
    }

    fn flush(&mut self) {
        while let Some(report) = self.backlog.pop_front() {
            if let Err(PushError::Full(report)) = self.reports.try_push(report) {
                self.backlog.push_front(report);
                return;
            }
        }
    }
}

/// Kite's name of an order type.
fn order_type(kind: OrderType) -> &'static str {
    match kind {
        OrderType::Market => "MARKET",
        OrderType::Limit => "LIMIT",
        OrderType::StopMarket => "SL-M",
        OrderType::StopLimit => "SL",
    }
}

/// `price` for limit kinds, `trigger_price` for stop kinds.
fn push_prices(
    form: &mut Vec<(&'static str, String)>,
    kind: OrderType,
    limit: crate::model::Price,
    trigger: crate::model::Price,
) {
    if matches!(kind, OrderType::Limit | OrderType::StopLimit) {
        form.push(("price", limit.to_string()));
    }
    if matches!(kind, OrderType::StopMarket | OrderType::StopLimit) {
        form.push(("trigger_price", trigger.to_string()));
    }
}

/// Basis points as Kite's `market_protection` percent: 300 → `3`, 250 → `2.5`.
pub(super) fn percent(bps: u16) -> String {
    let (whole, frac) = (bps / 100, bps % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_as_percent() {
        assert_eq!(percent(300), "3");
        assert_eq!(percent(250), "2.5");
        assert_eq!(percent(5), "0.05");
        assert_eq!(percent(10_000), "100");
    }
}
