//! What the Kite gateway's I/O thread tells the rest of the engine: counters, the last
//! error, the market time to stamp unstamped reports with, and the stop flag.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex,
    },
};

use super::client::ClientCounters;
use crate::model::{ClientOrderId, UnixNanos};

/// A count written by one thread and read by any.
///
/// Release on update, Acquire on read: a reader who sees a count also sees what the
/// writer did before it (the other counters, the last error).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub(super) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Release);
    }

    fn set(&self, n: u64) {
        self.0.store(n, Ordering::Release);
    }

    /// The count now.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The shared state of a Kite gateway (one writer per field: the I/O thread, except
/// `market_now`, which the order stage writes, and `stop`, which the gateway's drop
/// raises).
#[derive(Debug, Default)]
pub struct GatewayHealth {
    /// HTTP requests sent, retries included.
    pub requests: Counter,
    /// Requests tried again (429, or a request that never left).
    pub retries: Counter,
    /// HTTP 429 answers.
    pub rate_limited: Counter,
    /// `TokenException` answers: the day's access token expired or was invalidated.
    pub token_expired: Counter,
    /// Orders Kite accepted for placement.
    pub placed: Counter,
    /// Orders the order book shows rejected.
    pub rejected: Counter,
    /// Fills reported: trades, and the increments postbacks brought before the trades.
    pub fills: Counter,
    /// Order postbacks from the Kite Ticker about an order being watched, acted on as
    /// a polled status (`kite/postback.rs` explains how).
    pub postbacks: Counter,
    /// Fills first learnt from a postback (counted in `fills` too).
    pub postback_fills: Counter,
    /// Postbacks about orders this run did not place (another app's, or another tag):
    /// ignored.
    pub postbacks_foreign: Counter,
    /// Postbacks about orders of this run that had already ended (repeats, or news the
    /// poll brought first): ignored.
    pub postbacks_late: Counter,
    /// Order-book polls that failed.
    pub poll_errors: Counter,
    /// Orders being watched.
    pub working: Counter,
    /// Reconciliations that read the broker (start and periodic, confirmation checks
    /// included), counted before their differences are judged.
    pub reconciliations: Counter,
    /// Reconciliations that could not read the broker (counted, tried again later).
    pub reconcile_errors: Counter,
    /// `reconcile_mismatch` alerts raised: confirmed differences, once per subject and
    /// pair of quantities.
    pub reconcile_mismatches: Counter,
    /// Placements whose outcome was unknown (no answer, `NetworkException`, 502–504).
    pub outcome_unknown: Counter,
    /// Of those, orders found in the order book and adopted (not sent again).
    pub adopted: Counter,
    /// Of those, orders not found and placed once more.
    pub replaced: Counter,
    token_refusing: AtomicBool,
    market_now: AtomicU64,
    stop: AtomicBool,
    last_error: Mutex<Option<String>>,
    differences: Mutex<Vec<String>>,
    /// Kite's order id of every stop order placed or adopted: the orders a run may
    /// leave resting at the broker by design (protective stops), named at its end.
    stop_ids: Mutex<HashMap<ClientOrderId, String>>,
}

impl GatewayHealth {
    /// The last failure, in words (never a credential).
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(super) fn note(&self, what: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(what);
    }

    /// The confirmed reconciliation differences standing after the last check, in
    /// words (`position NSE:SBIN: broker 10, engine 0`); empty when the books agree.
    pub fn differences(&self) -> Vec<String> {
        self.differences
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_differences(&self, now: Vec<String>) {
        *self
            .differences
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }

    /// Kite's order id of stop order `order`, once the broker took it.
    pub fn kite_id(&self, order: ClientOrderId) -> Option<String> {
        self.stop_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&order)
            .cloned()
    }

    /// Notes Kite's order id of stop order `order` (the I/O thread, as it tracks it).
    pub(super) fn note_stop_id(&self, order: ClientOrderId, kite_id: &str) {
        self.stop_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(order, kite_id.to_owned());
    }

    /// Raises the token-refused flag; true when it was down (the first refusal of a
    /// run of them).
    pub(super) fn token_refused(&self) -> bool {
        !self.token_refusing.swap(true, Ordering::AcqRel)
    }

    /// Copies the client's counters (the I/O thread, after each step).
    pub(super) fn publish(&self, counters: &ClientCounters, working: usize) {
        self.requests.set(counters.requests);
        self.retries.set(counters.retries);
        self.rate_limited.set(counters.rate_limited);
        self.token_expired.set(counters.token_expired);
        self.working.set(working as u64);
    }

    /// The latest market time the order stage saw (Relaxed: a lone value, no data
    /// hangs on it; a slightly old time only stamps a report a little early).
    pub(super) fn market_now(&self) -> UnixNanos {
        UnixNanos(self.market_now.load(Ordering::Relaxed))
    }

    /// Sets the market time (the order stage, its only writer, and only forward: a
    /// plain store on x86, no allocation or syscall).
    pub(super) fn set_market_now(&self, now: UnixNanos) {
        self.market_now.store(now.0, Ordering::Relaxed);
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}
