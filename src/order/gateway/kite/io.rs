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
//!
//! Before it reads the first request, and then every `reconcile_secs`, the thread
//! reconciles the broker's day positions and order book with what it reported
//! ([`super::reconcile`]), counting from the fills the day's journal held before a
//! restart ([`super::EngineHoldings`]). A confirmed position difference of an
//! instrument the engine trades goes to the risk stage as the broker's position (a
//! [`BrokerNotice`] on a ring of its own), which alerts it and applies
//! `risk.reconcile`; every other confirmed difference goes to the order stage as a
//! `reconcile_mismatch` alert. Under `reconcile = "halt"` a check that confirmed any
//! difference sends a halt after them. A placement whose outcome is
//! unknown is looked for in the order book before it is sent again
//! ([`super::outcome`]).
//!
//! After a restart, the orders of the earlier run that the journal shows still working
//! ([`super::EngineHoldings::take_over`]) are followed from the start without being
//! placed: tracked as accepted, with the units the journal shows filled counted as
//! reported, so the reconciliation at start knows them and only fills beyond are
//! reported. What they report waits here until the order stage takes each over
//! ([`Request::TakeOver`]); before that it would not know them. An acceptance this
//! thread reports carries Kite's order id ([`VenueReport::venue_id`]): the order stage
//! journals it, which is what the next restart takes the order over by.
//!
//! With a Kite Ticker feed, the ticker's order postbacks arrive on a ring of their own
//! and are read between requests; each is acted on as the order book's row would be
//! ([`super::postback`]), with its cumulative fill turned into the units not yet
//! reported, so a fill the trades then show is not reported twice.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    thread,
    time::{Duration, Instant, SystemTime},
};

use tickpipe_ringbuf::{Consumer, Producer, PushError};

use super::{
    client::{Method, RestClient},
    config::RetryPolicy,
    error::{reason_from_message, ApiError, ErrorType},
    health::GatewayHealth,
    outcome::{find_placed, Sent},
    postback::{self, FillTally},
    reconcile::{differences, DifferenceKind, EngineView, Reconciler, Working},
    wire::{parse_ist, OrderIdData, OrderRow, Positions, Status, TradeRow},
};
use crate::{
    feed::kite::{OrderUpdate, Postbacks},
    model::{
        Alert, AlertLevel, BrokerNotice, BrokerPosition, ClientOrderId, InstrumentId, RejectReason,
        Side, TradingState, UnixNanos,
    },
    order::venue::{Amend, OrderType, TakeOver, VenueEvent, VenueOrder, VenueReport},
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
    /// Follow an order placed before a restart (see [`Gateway::take_over`]).
    ///
    /// [`Gateway::take_over`]: crate::order::Gateway::take_over
    TakeOver(TakeOver),
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
    /// The fills reported, whether from trades or postbacks.
    tally: FillTally,
    instrument: InstrumentId,
    /// +1 for a buy, -1 for a sell.
    sign: i64,
    qty: u32,
}

/// What the I/O thread is built from.
pub(super) struct IoParts {
    pub client: RestClient,
    pub requests: Consumer<Request>,
    pub reports: Producer<VenueReport>,
    pub alerts: Producer<Alert>,
    pub notices: Producer<BrokerNotice>,
    /// What the engine held at start.
    pub holds: super::EngineHoldings,
    /// `[order.kite] reconcile = "halt"`.
    pub halt: bool,
    /// A Kite Ticker feed's order postbacks, when there is one.
    pub postbacks: Option<Postbacks>,
    pub health: Arc<GatewayHealth>,
    pub listings: Vec<Option<Listing>>,
    pub algo_id: String,
    pub poll_every: Duration,
    pub retry: RetryPolicy,
    pub reconcile_every: Option<Duration>,
    /// The products the engine places orders under.
    pub products: Vec<&'static str>,
}

/// The thread's state.
pub(super) struct Io {
    client: RestClient,
    requests: Consumer<Request>,
    reports: Producer<VenueReport>,
    alerts: Producer<Alert>,
    notices: Producer<BrokerNotice>,
    /// True when the risk stage takes the broker's quantity on a difference.
    book_follows_broker: bool,
    /// `[order.kite] reconcile = "halt"`.
    halt: bool,
    postbacks: Option<Postbacks>,
    health: Arc<GatewayHealth>,
    listings: Vec<Option<Listing>>,
    /// `EXCHANGE:SYMBOL` by instrument index.
    listing_names: Vec<Option<String>>,
    algo_id: String,
    poll_every: Duration,
    retry: RetryPolicy,
    reconcile_every: Option<Duration>,
    products: Vec<&'static str>,
    orders: HashMap<String, Tracked>,
    by_client: HashMap<ClientOrderId, String>,
    /// Every Kite order id this run placed or adopted.
    owned: HashSet<String>,
    trades_seen: HashSet<String>,
    /// Net of the fills reported, by instrument index, on top of what the engine held at
    /// start (and rebased on the broker's when the book follows it).
    net: Vec<i64>,
    reconciler: Reconciler,
    /// True once a reconciliation read the broker.
    reconciled: bool,
    /// True when the next check is the quick one confirming a new difference.
    confirming: bool,
    backlog: VecDeque<VenueReport>,
    alert_backlog: VecDeque<Alert>,
    notice_backlog: VecDeque<BrokerNotice>,
    next_poll: Instant,
    next_reconcile: Option<Instant>,
    /// Orders of the run before a restart that the engine will take over
    /// ([`super::EngineHoldings::take_over`]): tracked from the start, so
    /// reconciliation counts them as the engine's, but their reports wait in
    /// `parked_reports` until the order stage takes them over (before that it does not
    /// know them).
    parked: HashSet<ClientOrderId>,
    parked_reports: Vec<VenueReport>,
    /// Kite order ids followed from the start (taken over), not placed by this run.
    inherited: usize,
}

impl Io {
    pub(super) fn new(parts: IoParts) -> Io {
        let listing_names = parts
            .listings
            .iter()
            .map(|l| l.as_ref().map(|l| format!("{}:{}", l.exchange, l.symbol)))
            .collect();
        let mut net = parts.holds.net;
        net.resize(parts.listings.len(), 0);
        let take_over = parts.holds.take_over;
        let mut io = Io {
            net,
            notices: parts.notices,
            book_follows_broker: parts.holds.book_follows_broker,
            halt: parts.halt,
            notice_backlog: VecDeque::new(),
            client: parts.client,
            requests: parts.requests,
            reports: parts.reports,
            alerts: parts.alerts,
            postbacks: parts.postbacks,
            health: parts.health,
            listings: parts.listings,
            listing_names,
            algo_id: parts.algo_id,
            poll_every: parts.poll_every,
            retry: parts.retry,
            reconcile_every: parts.reconcile_every,
            products: parts.products,
            orders: HashMap::new(),
            by_client: HashMap::new(),
            owned: HashSet::new(),
            trades_seen: HashSet::new(),
            reconciler: Reconciler::default(),
            reconciled: false,
            confirming: false,
            backlog: VecDeque::new(),
            alert_backlog: VecDeque::new(),
            next_poll: Instant::now(),
            next_reconcile: None,
            parked: HashSet::new(),
            parked_reports: Vec::new(),
            inherited: take_over.len(),
        };
        for order in &take_over {
            io.follow(order);
            io.parked.insert(order.order.id);
        }
        io
    }

    /// Runs until the gateway is dropped. The first reconciliation runs before the
    /// first request is read, so no order of this run is out when it compares.
    pub(super) fn run(mut self) {
        self.reconcile();
        while !self.health.stopping() && !self.requests.is_abandoned() {
            self.flush();
            let mut worked = false;
            while let Ok(request) = self.requests.try_pop() {
                self.handle(request);
                worked = true;
            }
            // After the requests: a postback about an order placed just now finds it
            // tracked.
            while let Some(update) = self.postbacks.as_mut().and_then(|p| p.try_pop().ok()) {
                self.on_postback(&update);
                worked = true;
            }
            if self.next_reconcile.is_some_and(|at| Instant::now() >= at) {
                self.reconcile();
                worked = true;
            } else if !self.orders.is_empty() && Instant::now() >= self.next_poll {
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
            Request::TakeOver(order) => self.take_over(&order),
        }
    }

    /// The order stage took over an order of the run before a restart: the reports
    /// parked for it go out, in order; one not known yet is followed from now on.
    fn take_over(&mut self, order: &TakeOver) {
        if self.parked.remove(&order.order.id) {
            let (its, others): (Vec<VenueReport>, Vec<VenueReport>) =
                std::mem::take(&mut self.parked_reports)
                    .into_iter()
                    .partition(|r| r.order == order.order.id);
            self.parked_reports = others;
            for report in its {
                self.report(report);
            }
            return;
        }
        if !self.by_client.contains_key(&order.order.id) {
            self.follow(order);
        }
    }

    /// Watches Kite's order `order.venue_id`, placed before a restart, as the engine's
    /// `order.order`: accepted already, with `order.filled` units reported, so only what
    /// fills beyond is reported (by trades or postbacks, see [`FillTally`]).
    fn follow(&mut self, order: &TakeOver) {
        let kite_id = order.venue_id.to_string();
        self.track(&order.order, kite_id.clone());
        if let Some(tracked) = self.orders.get_mut(&kite_id) {
            tracked.accepted = true;
            tracked.tally = FillTally::reported_before(order.filled.get(), order.avg_price);
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
            ("transaction_type", side_name(order.side).to_owned()),
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
        let sent_at = wall_clock();
        match self
            .client
            .data::<OrderIdData>(Method::Post, "/orders/regular", &form)
        {
            Ok(placed) => {
                self.health.placed.add(1);
                self.track(order, placed.order_id);
            }
            Err(e) if e.outcome_unknown() => {
                let listing = listing.clone();
                self.resolve_unknown(order, &form, &listing, sent_at, &e);
            }
            Err(e) => {
                self.failed("placing an order", &e);
                self.report(VenueReport::rejected(order.id, now, e.reject_reason()));
            }
        }
    }

    /// Watches Kite's order `kite_id` as the engine's `order`.
    fn track(&mut self, order: &VenueOrder, kite_id: String) {
        if matches!(order.kind, OrderType::StopMarket | OrderType::StopLimit) {
            self.health.note_stop_id(order.id, &kite_id);
        }
        self.by_client.insert(order.id, kite_id.clone());
        self.owned.insert(kite_id.clone());
        self.orders.insert(
            kite_id,
            Tracked {
                client: order.id,
                kind: order.kind,
                accepted: false,
                tally: FillTally::default(),
                instrument: order.instrument,
                sign: match order.side {
                    Side::Buy => 1,
                    Side::Sell => -1,
                },
                qty: order.qty.get(),
            },
        );
    }

    /// A placement that may or may not have happened (see [`super::outcome`]): looks
    /// for it in the order book, after the retry policy's waits, and adopts it when
    /// found; when the book shows no such order, places it once more. When the book
    /// cannot be read, or the second placement is lost too and never shows, the order
    /// is refused as `venue` (not retriable, so the order stage does not send it yet
    /// again): if Kite has it after all, reconciliation reports it.
    fn resolve_unknown(
        &mut self,
        order: &VenueOrder,
        form: &[(&'static str, String)],
        listing: &Listing,
        sent_at: UnixNanos,
        first: &ApiError,
    ) {
        self.health.outcome_unknown.add(1);
        self.failed("placing an order (outcome unknown)", first);
        let tag = (!self.algo_id.is_empty()).then_some(self.algo_id.clone());
        let quantity = order.qty.get().to_string();
        let side = side_name(order.side);
        let mut replaced = false;
        for look in 0..=self.retry.attempts {
            thread::sleep(self.retry.wait(look));
            let book = match self
                .client
                .data::<Vec<OrderRow>>(Method::Get, "/orders", &[])
            {
                Ok(book) => book,
                Err(e) => {
                    self.poll_failed(&e);
                    continue;
                }
            };
            let sent = Sent {
                exchange: listing.exchange,
                symbol: &listing.symbol,
                side,
                quantity: order.qty.get(),
                order_type: order_type(order.kind),
                tag: tag.as_deref(),
                at: sent_at,
            };
            if let Some(found) = find_placed(&book, &sent, &self.owned) {
                let kite_id = found.order_id.clone();
                self.health.adopted.add(1);
                self.health.note(format!(
                    "order {kite_id} adopted: the placement's answer was lost, the order book \
                     shows it"
                ));
                self.track(order, kite_id);
                return;
            }
            if replaced {
                continue;
            }
            replaced = true;
            self.health.replaced.add(1);
            match self
                .client
                .data::<OrderIdData>(Method::Post, "/orders/regular", form)
            {
                Ok(placed) => {
                    self.health.placed.add(1);
                    self.track(order, placed.order_id);
                    return;
                }
                Err(e) if e.outcome_unknown() => {
                    self.failed("placing an order again (outcome unknown)", &e);
                }
                Err(e) => {
                    self.failed("placing an order again", &e);
                    let now = self.health.market_now();
                    self.report(VenueReport::rejected(order.id, now, e.reject_reason()));
                    return;
                }
            }
        }
        self.health.note(format!(
            "a {side} {quantity} {} placement's outcome is still unknown; not sent again \
             (reconciliation reports the order if Kite has it)",
            listing.symbol
        ));
        let now = self.health.market_now();
        self.report(VenueReport::rejected(order.id, now, RejectReason::Venue));
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

    /// Reads the trades and the order book, and reports what changed; returns the
    /// book, or `None` when a read failed.
    fn poll(&mut self) -> Option<Vec<OrderRow>> {
        let trades = match self
            .client
            .data::<Vec<TradeRow>>(Method::Get, "/trades", &[])
        {
            Ok(t) => t,
            Err(e) => {
                self.poll_failed(&e);
                return None;
            }
        };
        let book = match self
            .client
            .data::<Vec<OrderRow>>(Method::Get, "/orders", &[])
        {
            Ok(b) => b,
            Err(e) => {
                self.poll_failed(&e);
                return None;
            }
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
            // Units a postback reported already are not reported again.
            let Some(new) = tracked.tally.on_trade(trade.quantity, trade.average_price) else {
                continue;
            };
            if let Some(net) = self.net.get_mut(tracked.instrument.index()) {
                *net += tracked.sign * i64::from(new.qty);
            }
            fills.push(VenueReport::fill(
                tracked.client,
                trade.time().unwrap_or(now),
                new.price,
                crate::model::Qty::new(new.qty),
                trade.id(),
            ));
        }
        self.health.fills.add(fills.len() as u64);
        for fill in fills {
            self.report(fill);
        }
        for row in &book {
            let ts = row.exchange_time().unwrap_or(now);
            self.settle(
                &row.order_id,
                row.status(),
                row.filled_quantity,
                row.status_message.as_deref(),
                ts,
            );
        }
        Some(book)
    }

    /// Reports what an order's `status` means, once: `Accepted` when it first shows
    /// open, `Cancelled` or `Rejected` at the end. A complete or cancelled order ends
    /// once the fills reported reach the `filled` units Kite counts, so no fill can
    /// follow its end (the order book's row, or a postback that reported its fills).
    fn settle(
        &mut self,
        kite_id: &str,
        status: Status,
        filled: u32,
        message: Option<&str>,
        ts: UnixNanos,
    ) {
        let Some(tracked) = self.orders.get_mut(kite_id) else {
            return;
        };
        let mut out = None;
        let mut done = false;
        match status {
            Status::Pending => {}
            Status::Open => {
                if !tracked.accepted {
                    tracked.accepted = true;
                    out = Some(VenueReport {
                        // Journaled by the order stage: a resumed day takes it over.
                        venue_id: kite_id.parse().unwrap_or(0),
                        ..VenueReport::new(tracked.client, ts, VenueEvent::Accepted)
                    });
                }
            }
            // Done once the fills have caught up with Kite's count.
            Status::Complete => done = tracked.tally.reported() >= filled,
            Status::Cancelled => {
                if tracked.tally.reported() >= filled {
                    done = true;
                    out = Some(VenueReport::new(tracked.client, ts, VenueEvent::Cancelled));
                }
            }
            Status::Rejected => {
                done = true;
                let reason = message
                    .and_then(reason_from_message)
                    .unwrap_or(RejectReason::Venue);
                self.health.rejected.add(1);
                if let Some(why) = message {
                    self.health.note(format!("order {kite_id} rejected: {why}"));
                }
                out = Some(VenueReport::rejected(tracked.client, ts, reason));
            }
        }
        let client = tracked.client;
        if let Some(report) = out {
            self.report(report);
        }
        if done {
            self.orders.remove(kite_id);
            self.by_client.remove(&client);
        }
    }

    /// Acts on an order postback from the Ticker as on the order book's row (see
    /// [`super::postback`]): the units of its cumulative fill not yet reported go out
    /// as one fill first, then its status. Postbacks about orders not of this run, or
    /// of it but ended, are counted and ignored.
    fn on_postback(&mut self, update: &OrderUpdate) {
        let tagged_otherwise =
            !self.algo_id.is_empty() && !update.tag.is_empty() && update.tag != self.algo_id;
        if tagged_otherwise || !self.owned.contains(&update.order_id) {
            self.health.postbacks_foreign.add(1);
            return;
        }
        let now = self.health.market_now();
        let ts = parse_ist(&update.exchange_timestamp).unwrap_or(now);
        let status = Status::parse(&update.status);
        let Some(tracked) = self.orders.get_mut(&update.order_id) else {
            self.health.postbacks_late.add(1);
            return;
        };
        // A rejected order filled nothing; any other status may carry fills.
        let fill = match status {
            Status::Rejected => None,
            _ => tracked
                .tally
                .on_cumulative(update.filled_quantity, update.average_price)
                .map(|new| {
                    if let Some(net) = self.net.get_mut(tracked.instrument.index()) {
                        *net += tracked.sign * i64::from(new.qty);
                    }
                    VenueReport::fill(
                        tracked.client,
                        ts,
                        new.price,
                        crate::model::Qty::new(new.qty),
                        postback::trade_id(&update.order_id, tracked.tally.reported()),
                    )
                }),
        };
        if let Some(fill) = fill {
            self.report(fill);
            self.health.fills.add(1);
            self.health.postback_fills.add(1);
        }
        let message = (!update.status_message.is_empty()).then_some(update.status_message.as_str());
        self.settle(
            &update.order_id,
            status,
            update.filled_quantity,
            message,
            ts,
        );
        // Last: a reader who sees the count sees the reports it led to in the ring.
        self.health.postbacks.add(1);
    }

    /// Compares the broker's day positions and order book with what was reported,
    /// after catching up with the trades and the book (see [`super::reconcile`]), and
    /// alerts each confirmed difference. Schedules the next check: a poll interval
    /// later when a difference awaits confirmation (once in a row: a difference that
    /// changes at every check waits for the regular one, so a busy account never turns
    /// the checks into a stream of requests), the retry policy's longest wait after a
    /// failed read, else `reconcile_secs` later (never, for 0, once a check has read
    /// the broker).
    fn reconcile(&mut self) {
        // Orders taken over from before a restart are no order of this run in flight.
        let at_start = !self.reconciled && self.owned.len() <= self.inherited;
        let read = match self.poll() {
            Some(book) => self
                .client
                .data::<Positions>(Method::Get, "/portfolio/positions", &[])
                .map(|p| (book, p))
                .map_err(|e| {
                    self.failed("reading the positions", &e);
                }),
            None => Err(()),
        };
        self.next_poll = Instant::now() + self.poll_every;
        let Ok((book, positions)) = read else {
            self.health.reconcile_errors.add(1);
            self.next_reconcile = Some(Instant::now() + self.retry.max.max(self.poll_every));
            return;
        };
        self.reconciled = true;
        self.health.reconciliations.add(1);
        let working: Vec<Working<'_>> = self
            .orders
            .iter()
            .map(|(id, t)| Working {
                order_id: id,
                instrument: t.instrument,
                open: t.sign * i64::from(t.qty.saturating_sub(t.tally.reported())),
            })
            .collect();
        let engine = EngineView {
            listings: &self.listing_names,
            net: &self.net,
            products: &self.products,
            working: &working,
        };
        let found = differences(&positions.day, &book, &engine);
        let verdict = self.reconciler.judge(found, at_start);
        let now = self.health.market_now();
        for d in &verdict.alert {
            self.health.reconcile_mismatches.add(1);
            tracing::error!(difference = %d, "kite gateway: reconciliation difference");
            match (d.kind, d.instrument) {
                // The risk stage holds the book: it alerts and applies `risk.reconcile`.
                (DifferenceKind::Position, Some(instrument)) => {
                    self.notice(BrokerNotice::Position(BrokerPosition {
                        instrument,
                        net: d.broker,
                        avg_price: d.broker_avg,
                    }));
                    if self.book_follows_broker {
                        if let Some(net) = self.net.get_mut(instrument.index()) {
                            *net = d.broker;
                        }
                        self.reconciler.resolve(d);
                    }
                }
                _ => self.alert(Alert {
                    exchange_ts: now,
                    kind: "reconcile_mismatch",
                    instrument: d.instrument,
                    level: AlertLevel::Critical,
                    state: TradingState::Active,
                    detail: d.kind.detail(),
                }),
            }
        }
        if self.halt && !verdict.alert.is_empty() {
            self.notice(BrokerNotice::Halt);
        }
        self.health.set_differences(
            self.reconciler
                .standing()
                .iter()
                .map(ToString::to_string)
                .collect(),
        );
        self.confirming = verdict.unconfirmed > 0 && !self.confirming;
        self.next_reconcile = if self.confirming {
            Some(Instant::now() + self.poll_every)
        } else {
            self.reconcile_every.map(|every| Instant::now() + every)
        };
    }

    fn notice(&mut self, notice: BrokerNotice) {
        if !self.notice_backlog.is_empty() {
            self.notice_backlog.push_back(notice);
            return;
        }
        if let Err(PushError::Full(notice)) = self.notices.try_push(notice) {
            self.notice_backlog.push_back(notice);
        }
    }

    fn alert(&mut self, alert: Alert) {
        if !self.alert_backlog.is_empty() {
            self.alert_backlog.push_back(alert);
            return;
        }
        if let Err(PushError::Full(alert)) = self.alerts.try_push(alert) {
            self.alert_backlog.push_back(alert);
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
                tracing::error!(
                    during = what,
                    error = %e,
                    "kite gateway: Kite refused the access token. Access tokens expire every \
                     morning at 06:00 IST: run `tickpipe kite login` and start again."
                );
            }
        }
        self.health.note(format!("{what}: {e}"));
    }

    fn report(&mut self, report: VenueReport) {
        if !self.parked.is_empty() && self.parked.contains(&report.order) {
            self.parked_reports.push(report);
            return;
        }
        if !self.backlog.is_empty() {
            self.backlog.push_back(report);
            return;
        }
        if let Err(PushError::Full(report)) = self.reports.try_push(report) {
            self.backlog.push_back(report);
        }
    }

    fn flush(&mut self) {
        while let Some(notice) = self.notice_backlog.pop_front() {
            if let Err(PushError::Full(notice)) = self.notices.try_push(notice) {
                self.notice_backlog.push_front(notice);
                break;
            }
        }
        while let Some(alert) = self.alert_backlog.pop_front() {
            if let Err(PushError::Full(alert)) = self.alerts.try_push(alert) {
                self.alert_backlog.push_front(alert);
                break;
            }
        }
        while let Some(report) = self.backlog.pop_front() {
            if let Err(PushError::Full(report)) = self.reports.try_push(report) {
                self.backlog.push_front(report);
                return;
            }
        }
    }
}

/// Kite's name of a side.
fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// The wall clock as UTC nanoseconds: what Kite's `order_timestamp` is compared with
/// (broker I/O, not trading logic; see [`super::outcome`]).
fn wall_clock() -> UnixNanos {
    UnixNanos(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
    )
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
