//! What the connection thread tells the rest of the engine: staleness, counters, the
//! last error.

use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering},
    Mutex,
};

/// A count written by the connection thread alone and read by anyone.
///
/// Each update is a Release and each read an Acquire, pairing with it: a reader who
/// sees a count also sees everything the thread did before that update (the other
/// counters, the last error text), so a test or a report that waits for one counter
/// may read the others. Off the hot path: the thread updates them once per message.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Release);
    }

    pub(crate) fn set(&self, n: u64) {
        self.0.store(n, Ordering::Release);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A yes/no shared between the connection thread and its readers.
///
/// Release on set, Acquire on read, as for [`Counter`]: a reader who sees the stale flag
/// raised also sees the reason recorded before it. The events themselves travel through
/// the ring, whose own handoff orders them; on x86 an Acquire load is a plain load, so
/// the feed stage may read the flag every poll.
#[derive(Debug, Default)]
pub(crate) struct Flag(AtomicBool);

impl Flag {
    fn raised() -> Flag {
        Flag(AtomicBool::new(true))
    }

    pub(crate) fn set(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }

    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The live state of a feed link (Kite Ticker or TrueData), shared by the connection
/// thread (the only writer) with the source and whoever reports on it.
///
/// **Stale** means no market data can be trusted to be current: it is raised before the
/// first connection delivers a frame, while reconnecting, and when a connection goes
/// silent for longer than `stale_after`; the first frame of a live connection lowers
/// it. The feed stage reads it through
/// [`MarketSource::is_stale`](crate::feed::MarketSource::is_stale), so later work can
/// refuse new entries on a stale feed.
#[derive(Debug)]
pub struct TickerHealth {
    pub(crate) stale: Flag,
    pub(crate) connected: Flag,
    pub(crate) stop: Flag,
    pub(crate) connects: Counter,
    pub(crate) reconnects: Counter,
    pub(crate) disconnects: Counter,
    pub(crate) stale_timeouts: Counter,
    pub(crate) failed_attempts: Counter,
    pub(crate) heartbeats: Counter,
    pub(crate) packets: Counter,
    pub(crate) skipped: Counter,
    pub(crate) unknown_tokens: Counter,
    pub(crate) events: Counter,
    pub(crate) conflated: Counter,
    pub(crate) pending: Counter,
    pub(crate) duplicates: Counter,
    pub(crate) out_of_order: Counter,
    pub(crate) crossed: Counter,
    pub(crate) clamped: Counter,
    pub(crate) order_updates: Counter,
    pub(crate) postbacks_forwarded: Counter,
    pub(crate) postbacks_dropped: Counter,
    pub(crate) server_errors: Counter,
    pub(crate) server_messages: Counter,
    pub(crate) bad_text: Counter,
    /// The last `error` text message from the server.
    pub(crate) last_server_error: Mutex<Option<String>>,
    /// Why the last connection attempt failed or the last connection ended.
    pub(crate) last_link_error: Mutex<Option<String>>,
    /// Skipped messages by kind, for sources that tell kinds apart (`trade 2, bar 1`).
    pub(crate) skipped_kinds: Mutex<Option<String>>,
    /// Why the thread gave up (attempts exhausted); the source's final error.
    pub(crate) failure: Mutex<Option<String>>,
}

impl Default for TickerHealth {
    fn default() -> Self {
        TickerHealth {
            stale: Flag::raised(),
            connected: Flag::default(),
            stop: Flag::default(),
            connects: Counter::default(),
            reconnects: Counter::default(),
            disconnects: Counter::default(),
            stale_timeouts: Counter::default(),
            failed_attempts: Counter::default(),
            heartbeats: Counter::default(),
            packets: Counter::default(),
            skipped: Counter::default(),
            unknown_tokens: Counter::default(),
            events: Counter::default(),
            conflated: Counter::default(),
            pending: Counter::default(),
            duplicates: Counter::default(),
            out_of_order: Counter::default(),
            crossed: Counter::default(),
            clamped: Counter::default(),
            order_updates: Counter::default(),
            postbacks_forwarded: Counter::default(),
            postbacks_dropped: Counter::default(),
            server_errors: Counter::default(),
            server_messages: Counter::default(),
            bad_text: Counter::default(),
            last_server_error: Mutex::new(None),
            last_link_error: Mutex::new(None),
            skipped_kinds: Mutex::new(None),
            failure: Mutex::new(None),
        }
    }
}

/// A copy of a link's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickerCounters {
    /// Connections that completed the WebSocket handshake and subscribed.
    pub connects: u64,
    /// Of those, the ones after the first.
    pub reconnects: u64,
    /// Connections that ended (closed by the server, broken, or stale).
    pub disconnects: u64,
    /// Connections closed by the client after `stale_after` of silence.
    pub stale_timeouts: u64,
    /// Connection attempts that failed (TCP, TLS, handshake, token file).
    pub failed_attempts: u64,
    /// Heartbeat messages.
    pub heartbeats: u64,
    /// Packets decoded.
    pub packets: u64,
    /// Packets and messages the decoder skipped (bad framing or unknown layouts).
    pub skipped: u64,
    /// Packets of tokens outside the subscription.
    pub unknown_tokens: u64,
    /// Events handed to the feed stage.
    pub events: u64,
    /// Ticks replaced, while the ring to the feed stage was full, by a newer tick of
    /// the same instrument (see [`Conflator`](crate::feed::Conflator)).
    pub conflated: u64,
    /// Ticks waiting for room in the ring now (at most one per instrument).
    pub pending: u64,
    /// Ticks skipped as repeats of the instrument's last sequence number.
    pub duplicates: u64,
    /// Ticks skipped as older than the instrument's last sequence number.
    pub out_of_order: u64,
    /// Ticks whose best bid was above their best ask (passed on; see
    /// [`is_crossed`](crate::feed::is_crossed)).
    pub crossed: u64,
    /// Events whose market time was raised to keep it non-decreasing.
    pub clamped: u64,
    /// `order` text messages (order postbacks).
    pub order_updates: u64,
    /// Of those, the ones passed on to the Kite Connect gateway (see
    /// [`KiteTicker::take_postbacks`](super::KiteTicker::take_postbacks)).
    pub postbacks_forwarded: u64,
    /// Of those, the ones dropped because the gateway's ring was full (its poll
    /// catches up).
    pub postbacks_dropped: u64,
    /// `error` text messages.
    pub server_errors: u64,
    /// `message` text messages (broker notices).
    pub server_messages: u64,
    /// Text messages that were not valid JSON messages, or of an unknown type.
    pub bad_text: u64,
}

impl TickerHealth {
    /// True while the feed cannot be trusted to be current (see the type's notes).
    pub fn is_stale(&self) -> bool {
        self.stale.get()
    }

    /// True while a connection is up and subscribed.
    pub fn is_connected(&self) -> bool {
        self.connected.get()
    }

    /// The counters now.
    pub fn counters(&self) -> TickerCounters {
        TickerCounters {
            connects: self.connects.get(),
            reconnects: self.reconnects.get(),
            disconnects: self.disconnects.get(),
            stale_timeouts: self.stale_timeouts.get(),
            failed_attempts: self.failed_attempts.get(),
            heartbeats: self.heartbeats.get(),
            packets: self.packets.get(),
            skipped: self.skipped.get(),
            unknown_tokens: self.unknown_tokens.get(),
            events: self.events.get(),
            conflated: self.conflated.get(),
            pending: self.pending.get(),
            duplicates: self.duplicates.get(),
            out_of_order: self.out_of_order.get(),
            crossed: self.crossed.get(),
            clamped: self.clamped.get(),
            order_updates: self.order_updates.get(),
            postbacks_forwarded: self.postbacks_forwarded.get(),
            postbacks_dropped: self.postbacks_dropped.get(),
            server_errors: self.server_errors.get(),
            server_messages: self.server_messages.get(),
            bad_text: self.bad_text.get(),
        }
    }

    /// The text of the last `error` message the server sent, if any.
    pub fn last_server_error(&self) -> Option<String> {
        lock(&self.last_server_error).clone()
    }

    /// Why the last connection attempt failed or the last connection ended, if one did.
    pub fn last_link_error(&self) -> Option<String> {
        lock(&self.last_link_error).clone()
    }

    /// Skipped messages by kind (`trade 2, unreadable 1`), when the source tells kinds
    /// apart and skipped any.
    pub fn skipped_kinds(&self) -> Option<String> {
        lock(&self.skipped_kinds).clone()
    }

    /// Why the connection thread gave up, once it has.
    pub fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    pub(crate) fn record(slot: &Mutex<Option<String>>, text: String) {
        *lock(slot) = Some(text);
    }
}

/// The slot's value even if a panicking holder poisoned it: a string stays whole.
fn lock(slot: &Mutex<Option<String>>) -> std::sync::MutexGuard<'_, Option<String>> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl std::fmt::Display for TickerCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} connections ({} reconnections, {} after silence, {} failed attempts), \
             {} events, {} conflated (ring full), {} clamped in time, {} duplicate and {} \
             out-of-order ticks skipped, {} skipped packets, {} server errors, {} order updates \
             ({} passed to the gateway, {} dropped: its ring was full)",
            self.connects,
            self.reconnects,
            self.stale_timeouts,
            self.failed_attempts,
            self.events,
            self.conflated,
            self.clamped,
            self.duplicates,
            self.out_of_order,
            self.skipped,
            self.server_errors,
            self.order_updates,
            self.postbacks_forwarded,
            self.postbacks_dropped
        )
    }
}
