//! The live Kite Ticker source: a connection thread and the ring it fills.
//!
//! ```text
//!  Kite Ticker ──wss──▶ connection thread (cold, unpinned)       feed stage (hot)
//!                        tungstenite + rustls, KiteDecoder,  ──ring──▶ KiteTicker::poll_event
//!                        MarketMapper, reconnects                     (a pop, never blocks)
//!                               │
//!                               └──▶ TickerHealth (stale flag, counters, last error)
//! ```
//!
//! The thread connects, sends `subscribe` and `mode` for every token, reads binary
//! messages, decodes them with [`KiteDecoder`](super::KiteDecoder) and pushes one
//! [`MarketEvent`] per packet into a `tickpipe-ringbuf` SPSC ring; the feed stage pops
//! them. Text messages are parsed on the thread: `error` is logged and kept in
//! [`TickerHealth::last_server_error`], broker messages are counted, and order updates
//! (postbacks) are counted and passed on through a second ring, [`Postbacks`], to
//! whoever took it with [`KiteTicker::take_postbacks`] (the Kite Connect gateway, which
//! uses them as an early word on its orders). A postback that finds that ring full is
//! dropped and counted ([`TickerCounters::postbacks_dropped`]): the gateway's poll
//! catches up, and the connection never waits. Nobody holding the ring (a paper run)
//! means nothing is passed on.
//!
//! **Disconnects.** A connection that closes, breaks, or sends nothing (not even a
//! heartbeat) for `stale_after` is dropped and opened again after a capped, jittered
//! exponential [`Backoff`]; the access token file is read again and the same tokens are
//! subscribed in the same mode. Meanwhile the stale flag is up. After
//! `reconnect_attempts_per_day` attempts in one IST day the thread gives up, and the
//! source's next poll returns the reason as a [`FeedError::Link`].
//!
//! **Backpressure.** Market data is not replayable, so the thread never waits for the
//! feed stage: when the ring is full, ticks are conflated per instrument by a
//! [`Conflator`](crate::feed::Conflator) (the newest replaces an unsent older one, and
//! is counted in [`TickerCounters::conflated`]) and go out as the ring frees. Each packet
//! carries its instrument's full state (Kite sends snapshots, not deltas), so
//! conflation loses an intermediate update, never the volume or the book.

mod backoff;
mod health;
mod link;
mod market;

use std::{path::PathBuf, sync::Arc, thread::JoinHandle, time::Duration};

use rustls::{
    pki_types::{pem::PemObject, CertificateDer},
    ClientConfig, RootCertStore,
};
use tickpipe_ringbuf::{Consumer, PopError};

pub use backoff::Backoff;
pub use health::{TickerCounters, TickerHealth};
pub(crate) use link::{open_tcp, ReadSlices, Socket, READ_SLICE};
pub use market::MarketMapper;

use super::{
    config::connect_url, read_access_token, KiteConfig, Mode, OrderUpdate, MAX_INSTRUMENTS,
};
use crate::{
    feed::{FeedError, MarketSource, SourcePoll},
    model::{InstrumentId, MarketEvent, UnixNanos},
};

/// The receiving end of the order postbacks a [`KiteTicker`] passes on, oldest first.
///
/// Boxed updates, not a fixed-size record: postbacks are rare (one per order state
/// change), already parsed with `serde_json` on the connection thread, and the gateway
/// needs their text (order id, status message, tag); neither end is a stage's hot path.
pub type Postbacks = Consumer<Box<OrderUpdate>>;

/// Slots of the postback ring: far more than the state changes of the orders an engine
/// has working between two reads of the gateway's I/O thread (a millisecond apart).
pub const POSTBACK_RING: usize = 256;

/// The market clock of a live source: UTC nanoseconds now. A plain function so a test
/// can pin it.
pub type WallClock = fn() -> UnixNanos;

/// The system's real-time clock as market time.
pub fn system_clock() -> UnixNanos {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UnixNanos(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
}

/// Everything the connection thread needs, resolved and checked.
#[derive(Clone)]
pub struct TickerSettings {
    /// WebSocket URL without credentials (shown in messages).
    pub url: String,
    /// The app's API key.
    pub api_key: String,
    /// The access token file, read at each connection.
    pub access_token_file: PathBuf,
    /// Subscription mode.
    pub mode: Mode,
    /// (token, id) of each subscribed instrument.
    pub tokens: Vec<(u32, InstrumentId)>,
    /// Instruments in the table the ids index.
    pub instruments: usize,
    /// Silence after which a connection is dropped.
    pub stale_after: Duration,
    /// Bound on connecting and the handshakes.
    pub connect_timeout: Duration,
    /// First reconnection wait.
    pub reconnect_initial: Duration,
    /// Cap of the reconnection wait.
    pub reconnect_max: Duration,
    /// Reconnection attempts per IST day; `None` for unlimited.
    pub attempts_per_day: Option<u32>,
    /// Ring slots (a power of two).
    pub ring_capacity: usize,
    /// TLS for `wss://`.
    pub tls: Arc<ClientConfig>,
    /// The market clock (receive times, the IST day of the attempt count).
    pub clock: WallClock,
}

impl std::fmt::Debug for TickerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credentials: the key is shown, the token file is named, the token never.
        f.debug_struct("TickerSettings")
            .field("url", &self.url)
            .field("api_key", &self.api_key)
            .field("access_token_file", &self.access_token_file)
            .field("mode", &self.mode)
            .field("tokens", &self.tokens.len())
            .field("stale_after", &self.stale_after)
            .finish_non_exhaustive()
    }
}

impl TickerSettings {
    /// Settings from `[feed.kite]` for the `tokens` of a table of `instruments`.
    ///
    /// # Errors
    /// A message naming the key or file at fault: an invalid timing key, no token or more
    /// than Kite allows on one connection, an unreadable or empty access token file, or a
    /// `ca_file` without usable certificates.
    pub fn from_config(
        config: &KiteConfig,
        tokens: Vec<(u32, InstrumentId)>,
        instruments: usize,
    ) -> Result<TickerSettings, String> {
        let timing = config.timing()?;
        if tokens.is_empty() {
            return Err("no instrument to subscribe to".to_owned());
        }
        if tokens.len() > MAX_INSTRUMENTS {
            return Err(format!(
                "{} instruments to subscribe to; Kite streams at most {MAX_INSTRUMENTS} on one \
                 connection",
                tokens.len()
            ));
        }
        let token_file = config
            .access_token_file
            .clone()
            .ok_or("feed.kite.access_token_file is required when feed.source = \"kite\"")?;
        // Read now so a missing token stops the run before the pipeline starts; it is
        // read again at every connection.
        read_access_token(&token_file)?;
        Ok(TickerSettings {
            url: config.url.clone(),
            api_key: config.api_key.trim().to_owned(),
            access_token_file: token_file,
            mode: config.mode,
            tokens,
            instruments,
            stale_after: timing.stale_after,
            connect_timeout: timing.connect_timeout,
            reconnect_initial: timing.reconnect_initial,
            reconnect_max: timing.reconnect_max,
            attempts_per_day: timing.attempts_per_day,
            ring_capacity: config.ring_capacity,
            tls: Arc::new(tls_config(config.ca_file.as_deref())?),
            clock: system_clock,
        })
    }

    /// The URL with today's credentials (never shown).
    fn connect_url(&self, access_token: &str) -> String {
        connect_url(&self.url, &self.api_key, access_token)
    }
}

/// A rustls client configuration (ring provider, TLS 1.2 and 1.3) trusting the
/// certificates of `ca_file`, or Mozilla's root set compiled in from `webpki-roots`.
///
/// Compiled-in roots rather than the host's store: a minimal trading host may have no CA
/// bundle installed, and the trust set is then pinned by the lock file and reviewed with
/// it; a host that must trust something else (a TLS-inspecting proxy) names it in
/// `ca_file`.
///
/// # Errors
/// A message naming `ca_file` when it cannot be read or holds no usable certificate.
pub fn tls_config(ca_file: Option<&std::path::Path>) -> Result<ClientConfig, String> {
    tls_config_for("feed.kite.ca_file", ca_file)
}

/// As [`tls_config`], with errors naming the configuration key `key`.
///
/// # Errors
/// A message naming `key` and the file when it cannot be read or holds no usable
/// certificate.
pub fn tls_config_for(
    key: &str,
    ca_file: Option<&std::path::Path>,
) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let shown = path.display();
            let pem =
                std::fs::read(path).map_err(|e| format!("{key}: cannot read {shown}: {e}"))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("{key}: {shown} is not valid PEM: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{key}: {shown} holds an unusable certificate: {e}"))?;
            }
            if roots.is_empty() {
                return Err(format!("{key}: {shown} holds no PEM certificate"));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The live Kite Ticker as a [`MarketSource`].
///
/// `poll_event` pops the ring the connection thread fills: it never blocks and never
/// allocates on `Ok`, and answers [`SourcePoll::Pending`] when nothing has arrived. It
/// never answers `End` (the market does not end; the run's `duration` or a stop does).
/// Dropping the source stops and joins the thread.
pub struct KiteTicker {
    rx: Consumer<MarketEvent>,
    postbacks: Option<Postbacks>,
    health: Arc<TickerHealth>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KiteTicker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KiteTicker")
            .field("health", &self.health.counters())
            .finish_non_exhaustive()
    }
}

impl KiteTicker {
    /// Starts the connection thread.
    ///
    /// # Errors
    /// [`FeedError::Config`] when the ring capacity is not a power of two or the thread
    /// cannot be spawned.
    pub fn start(settings: TickerSettings) -> Result<KiteTicker, FeedError> {
        let (tx, rx) = tickpipe_ringbuf::try_channel(settings.ring_capacity)
            .map_err(|e| FeedError::Config(format!("feed.kite.ring_capacity: {e}")))?;
        let (postback_tx, postback_rx) = tickpipe_ringbuf::try_channel(POSTBACK_RING)
            .map_err(|e| FeedError::Config(format!("the ticker's postback ring: {e}")))?;
        let health = Arc::new(TickerHealth::default());
        let link = link::Link::new(settings, tx, postback_tx, health.clone());
        let thread = std::thread::Builder::new()
            .name("kite-ticker".to_owned())
            .spawn(move || link.run())
            .map_err(|e| FeedError::Config(format!("cannot start the ticker thread: {e}")))?;
        Ok(KiteTicker {
            rx,
            postbacks: Some(postback_rx),
            health,
            thread: Some(thread),
        })
    }

    /// The link's shared state: staleness, counters, the last errors.
    pub fn health(&self) -> Arc<TickerHealth> {
        self.health.clone()
    }

    /// The order postbacks the connection thread receives, from now on; `None` once
    /// taken. Until it is taken they wait in the ring (and, once it is full, are
    /// dropped and counted); dropping the taken end stops the passing on.
    pub fn take_postbacks(&mut self) -> Option<Postbacks> {
        self.postbacks.take()
    }
}

impl MarketSource for KiteTicker {
    #[inline]
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        match self.rx.try_pop() {
            Ok(event) => Ok(SourcePoll::Event(event)),
            Err(PopError::Empty) if self.rx.is_finished() => {
                // The thread has ended and everything it pushed is read: it gave up.
                Err(FeedError::Link(self.health.failure().unwrap_or_else(
                    || "the ticker connection thread ended".to_owned(),
                )))
            }
            Err(PopError::Empty) => Ok(SourcePoll::Pending),
        }
    }

    fn is_stale(&self) -> bool {
        self.health.is_stale()
    }
}

impl Drop for KiteTicker {
    fn drop(&mut self) {
        self.health.stop.set(true);
        if let Some(thread) = self.thread.take() {
            // The thread looks at the flag at least every read slice; a panic there has
            // already been printed.
            let _ = thread.join();
        }
    }
}
