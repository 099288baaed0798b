//! The Kite Connect gateway: real orders at Zerodha through the REST API.
//!
//! | item | file | what |
//! | --- | --- | --- |
//! | [`KiteGateway`] | `kite/mod.rs` | the [`Gateway`] the order stage calls: rings only, never I/O |
//! | I/O thread | `kite/io.rs` | places, modifies and cancels; polls the order book and trades into reports |
//! | [`RestClient`] | `kite/client.rs` | blocking HTTPS (ureq + rustls/ring), headers, envelope, retries |
//! | [`KiteGatewayConfig`], [`RetryPolicy`] | `kite/config.rs` | `[order.kite]` |
//! | [`ApiError`], [`ErrorType`] | `kite/error.rs` | Kite's exceptions and the refusals they become |
//! | [`wire`] | `kite/wire.rs` | orders, trades, positions; IST timestamps; exact prices |
//! | [`session`] | `kite/session.rs` | login URL, `POST /session/token`, the 0600 token file |
//! | [`GatewayHealth`] | `kite/health.rs` | counters, the last error, standing differences |
//! | [`reconcile`] | `kite/reconcile.rs` | broker positions and open orders against the gateway's reports |
//! | [`outcome`] | `kite/outcome.rs` | finding a placement whose answer was lost in the order book |
//! | postbacks | `kite/postback.rs` | the Ticker's order updates as an early signal; fills counted once |
//!
//! Order status and fills come from polling (`GET /orders`, `GET /trades`) every
//! `poll_interval_ms` while an order works. When the feed is the Kite Ticker too, its
//! order postbacks reach the I/O thread through a ring ([`KiteGateway::start_with_postbacks`])
//! and are acted on as soon as they arrive, usually before the poll sees the change;
//! the poll still runs, and a fill reported by either is not reported again.
//! Reconciliation runs at start, before the first order goes out, and every
//! `reconcile_secs`. A confirmed position difference of an instrument the engine trades
//! reaches the risk stage as the broker's position ([`Gateway::broker_notices`]), where
//! `risk.reconcile` applies; other differences are `reconcile_mismatch` alerts through
//! [`Gateway::alerts`]; `[order.kite] reconcile = "halt"` adds a halt of new entries.
//! After a restart the engine's side starts from the fills the day's journal shows
//! ([`EngineHoldings`]), so positions carried over the restart are no difference.

mod client;
mod config;
mod error;
mod health;
mod io;
pub mod outcome;
mod postback;
pub mod reconcile;
pub mod session;
pub mod wire;

use std::{path::Path, sync::Arc, thread::JoinHandle, time::Duration};

pub use client::{parse_envelope, ClientCounters, ClientSettings, Method, RestClient};
pub use config::{KiteGatewayConfig, ReconcilePolicy, RetryPolicy, PRODUCTION_API};
pub use error::{reason_from_message, ApiError, ErrorType};
pub use health::{Counter, GatewayHealth};
pub use io::{Listing, Request};
use tickpipe_ringbuf::{Consumer, Producer, PushError};

use super::{Gateway, Reports};
use crate::{
    feed::kite::Postbacks,
    model::{
        Alert, BrokerNotice, ClientOrderId, Exchange, InstrumentKind, InstrumentTable,
        RejectReason, Segment, Tick, UnixNanos,
    },
    order::{
        venue::{Amend, TakeOver, VenueEvent, VenueOrder, VenueReport},
        OrderConfig,
    },
};

/// Reports handed to the order stage per [`Gateway::poll`], at most.
const REPORTS_PER_POLL: usize = 256;

/// Slots of the alert ring and of the broker-notice ring (I/O thread → order stage);
/// both are rare, and what does not fit waits on the I/O thread.
const ALERT_RING: usize = 64;

/// What the engine holds as the gateway starts, for its reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineHoldings {
    /// Net units by instrument index that the engine booked earlier in the day, before
    /// a restart (the fills the day's journal holds); empty for a fresh day. The
    /// gateway counts its fills on top, so a position carried over a restart that the
    /// broker holds too is no difference.
    pub net: Vec<i64>,
    /// True when the risk stage takes the broker's quantity on a difference
    /// (`risk.reconcile` = `adopt` or `flatten`): the gateway then counts on from the
    /// broker's quantity as well, and the difference no longer stands.
    pub book_follows_broker: bool,
    /// The orders of the run before a restart that Kite still works and the order stage
    /// will take over ([`crate::order::takeover`]): followed from the start, so the
    /// reconciliation at start counts them as the engine's (no `unknown_broker_order`),
    /// with their answers held until the order stage takes each over
    /// ([`Gateway::take_over`]).
    pub take_over: Vec<TakeOver>,
}

/// The Kite Connect gateway (see the module doc).
///
/// Every [`Gateway`] method runs on the order stage's thread and only pushes to or pops
/// from a ring: no allocation, lock, syscall or I/O. A request that finds the ring full
/// is refused at once as `throttled` (the order stage's rate limit keeps far below it).
pub struct KiteGateway {
    requests: Producer<Request>,
    reports: Consumer<VenueReport>,
    alerts: Consumer<Alert>,
    notices: Consumer<BrokerNotice>,
    health: Arc<GatewayHealth>,
    last_now: UnixNanos,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KiteGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KiteGateway")
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

impl KiteGateway {
    /// Reads the access token, checks `[order.kite]` and starts the I/O thread.
    ///
    /// # Errors
    /// A message naming the key or file at fault: no token file, a token file others
    /// may read, an unusable `ca_file`, a bad ring size.
    pub fn start(config: &OrderConfig, instruments: &InstrumentTable) -> Result<Self, String> {
        KiteGateway::start_with_postbacks(config, instruments, None)
    }

    /// As [`KiteGateway::start`], with the order postbacks of a Kite Ticker feed
    /// ([`KiteTicker::take_postbacks`](crate::feed::kite::KiteTicker::take_postbacks)),
    /// which the I/O thread acts on as they arrive (see the module doc).
    ///
    /// # Errors
    /// As [`KiteGateway::start`].
    pub fn start_with_postbacks(
        config: &OrderConfig,
        instruments: &InstrumentTable,
        postbacks: Option<Postbacks>,
    ) -> Result<Self, String> {
        KiteGateway::start_with(config, instruments, postbacks, EngineHoldings::default())
    }

    /// As [`KiteGateway::start_with_postbacks`], reconciling from what the engine
    /// `holds` (see [`EngineHoldings`]): how a resumed day starts.
    ///
    /// # Errors
    /// As [`KiteGateway::start`].
    pub fn start_with(
        config: &OrderConfig,
        instruments: &InstrumentTable,
        postbacks: Option<Postbacks>,
        holds: EngineHoldings,
    ) -> Result<Self, String> {
        let kite = &config.kite;
        let token_file = kite
            .access_token_file
            .as_deref()
            .ok_or("order.kite.access_token_file is required when order.gateway = \"kite\"")?;
        let token = read_token_file(token_file)
            .map_err(|e| format!("order.kite.access_token_file: {e}"))?;
        let client = RestClient::new(
            &ClientSettings {
                root: kite.root(),
                ca_file: kite.ca_file.as_deref(),
                connect_timeout: Duration::from_millis(kite.connect_timeout_ms),
                request_timeout: Duration::from_millis(kite.request_timeout_ms),
                retry: kite.retry(),
            },
            Some((kite.api_key.trim(), &token)),
            "order.kite.ca_file",
        )?;
        let (request_tx, request_rx) = tickpipe_ringbuf::try_channel(kite.ring_capacity)
            .map_err(|e| format!("order.kite.ring_capacity: {e}"))?;
        let (report_tx, report_rx) = tickpipe_ringbuf::try_channel(kite.ring_capacity)
            .map_err(|e| format!("order.kite.ring_capacity: {e}"))?;
        let (alert_tx, alert_rx) = tickpipe_ringbuf::try_channel(ALERT_RING)
            .map_err(|e| format!("the kite gateway's alert ring: {e}"))?;
        let (notice_tx, notice_rx) = tickpipe_ringbuf::try_channel(ALERT_RING)
            .map_err(|e| format!("the kite gateway's notice ring: {e}"))?;
        let health = Arc::new(GatewayHealth::default());
        let mut products: Vec<&'static str> = [
            config.product_equity,
            config.product_future,
            config.product_option,
        ]
        .iter()
        .map(|p| p.as_str())
        .collect();
        products.sort_unstable();
        products.dedup();
        let io = io::Io::new(io::IoParts {
            client,
            requests: request_rx,
            reports: report_tx,
            alerts: alert_tx,
            notices: notice_tx,
            holds,
            halt: kite.reconcile == ReconcilePolicy::Halt,
            postbacks,
            health: health.clone(),
            listings: listings(instruments),
            algo_id: config.algo_id.clone(),
            poll_every: Duration::from_millis(kite.poll_interval_ms),
            retry: kite.retry(),
            reconcile_every: kite.reconcile_every(),
            products,
        });
        let thread = std::thread::Builder::new()
            .name("kite-gateway".to_owned())
            .spawn(move || io.run())
            .map_err(|e| format!("cannot start the kite gateway thread: {e}"))?;
        Ok(KiteGateway {
            requests: request_tx,
            reports: report_rx,
            alerts: alert_rx,
            notices: notice_rx,
            health,
            last_now: UnixNanos(0),
            thread: Some(thread),
        })
    }

    /// The I/O thread's counters and last error.
    pub fn health(&self) -> Arc<GatewayHealth> {
        self.health.clone()
    }

    fn send(&mut self, request: Request, refused: VenueReport, reports: Reports<'_>) {
        if let Err(PushError::Full(_)) = self.requests.try_push(request) {
            reports(refused);
        }
    }

    fn tick(&mut self, now: UnixNanos) {
        if now > self.last_now {
            self.last_now = now;
            self.health.set_market_now(now);
        }
    }
}

impl Gateway for KiteGateway {
    fn name(&self) -> &'static str {
        "kite"
    }

    fn on_quote(&mut self, quote: &Tick, _reports: Reports<'_>) {
        self.tick(quote.exchange_ts);
    }

    fn advance(&mut self, now: UnixNanos, _reports: Reports<'_>) {
        self.tick(now);
    }

    fn submit(&mut self, order: &VenueOrder, reports: Reports<'_>) {
        let refused = VenueReport::rejected(order.id, self.last_now, RejectReason::Throttled);
        self.send(Request::Submit(*order), refused, reports);
    }

    fn modify(&mut self, order: ClientOrderId, amend: &Amend, reports: Reports<'_>) {
        let refused = VenueReport {
            reject: RejectReason::Throttled,
            ..VenueReport::new(order, self.last_now, VenueEvent::ModifyRejected)
        };
        self.send(Request::Modify(order, *amend), refused, reports);
    }

    fn cancel(&mut self, order: ClientOrderId, reports: Reports<'_>) {
        let refused = VenueReport::new(order, self.last_now, VenueEvent::CancelRejected);
        self.send(Request::Cancel(order), refused, reports);
    }

    fn poll(&mut self, reports: Reports<'_>) -> usize {
        let mut n = 0;
        while n < REPORTS_PER_POLL {
            let Ok(report) = self.reports.try_pop() else {
                break;
            };
            reports(report);
            n += 1;
        }
        n
    }

    fn take_over(&mut self, order: &TakeOver, _reports: Reports<'_>) {
        if let Err(PushError::Full(_)) = self.requests.try_push(Request::TakeOver(*order)) {
            // Cold (once per order, as a resumed day catches up); the order stays in
            // the book, and reconciliation names the broker's order.
            self.health.note(format!(
                "order {} not taken over: the request ring was full",
                order.venue_id
            ));
        }
    }

    fn rebuilds_from_replay(&self) -> bool {
        // Kite holds the orders of the run before the restart: sent again, each would
        // be a second real order.
        false
    }

    fn answers_in_market_time(&self) -> bool {
        false
    }

    fn venue_order_id(&self, order: ClientOrderId) -> Option<String> {
        self.health.kite_id(order)
    }

    fn alerts(&mut self, alerts: &mut dyn FnMut(Alert)) {
        while let Ok(alert) = self.alerts.try_pop() {
            alerts(alert);
        }
    }

    fn broker_notices(&mut self, notices: &mut dyn FnMut(BrokerNotice)) {
        while let Ok(notice) = self.notices.try_pop() {
            notices(notice);
        }
    }

    fn end_session(&mut self, _now: UnixNanos, _reports: Reports<'_>) {
        // Orders live on at Kite until the close: the order stage cancels the entries
        // still working (through `cancel`, bounded by `order.end_cancel_secs`) and works
        // the exits until done; risk's shutdown policy decides about positions.
    }
}

impl Drop for KiteGateway {
    fn drop(&mut self) {
        self.health.stop();
        if let Some(thread) = self.thread.take() {
            // The thread checks the flag between requests; a panic there is printed.
            let _ = thread.join();
        }
        for difference in self.health.differences() {
            tracing::error!(
                difference = difference.as_str(),
                "kite gateway: reconciliation difference standing at the end"
            );
        }
        let h = &self.health;
        let postbacks = h.postbacks.get() + h.postbacks_foreign.get() + h.postbacks_late.get();
        if postbacks > 0 {
            tracing::info!(
                acted_on = h.postbacks.get(),
                fills_first_from_postbacks = h.postback_fills.get(),
                foreign = h.postbacks_foreign.get(),
                late = h.postbacks_late.get(),
                "kite gateway: the session's order postbacks"
            );
        }
        let expired = self.health.token_expired.get();
        if expired > 0 {
            tracing::error!(
                refused = expired,
                "kite gateway: requests refused for an expired or invalid access token; log \
                 in again with `tickpipe kite login`"
            );
        }
    }
}

/// Each instrument's Kite exchange and symbol, by id; `None` for what cannot be traded
/// (indices).
pub fn listings(instruments: &InstrumentTable) -> Vec<Option<Listing>> {
    instruments
        .iter()
        .map(|i| {
            let exchange = match (i.exchange, i.segment) {
                (_, Segment::Indices) => return None,
                _ if i.kind == InstrumentKind::Index => return None,
                (Exchange::Nse, Segment::Cash) => "NSE",
                (Exchange::Nse, Segment::Fno) => "NFO",
                (Exchange::Nse, Segment::Currency) => "CDS",
                (Exchange::Bse, Segment::Cash) => "BSE",
                (Exchange::Bse, Segment::Fno) => "BFO",
                (Exchange::Bse, Segment::Currency) => "BCD",
            };
            Some(Listing {
                exchange,
                symbol: i.symbol.clone(),
            })
        })
        .collect()
}

/// The access token of `path`, which must be readable by its owner alone.
///
/// # Errors
/// A message when the file cannot be read, is empty, holds more than the token, or
/// (on Unix) may be read by group or others.
pub fn read_token_file(path: &Path) -> Result<String, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} has mode {mode:04o}; an access token must be readable by its owner alone \
                 (chmod 600 it)",
                path.display()
            ));
        }
    }
    crate::feed::kite::read_access_token(path)
}
