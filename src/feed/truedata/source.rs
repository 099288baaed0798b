//! The live TrueData source: its settings, and the ring its connection thread fills.

use std::{sync::Arc, thread::JoinHandle, time::Duration};

use rustls::ClientConfig;
use tickpipe_ringbuf::{Consumer, PopError};

use super::{config::CredentialSource, link::Link, TrueDataConfig};
use crate::{
    feed::{
        kite::{system_clock, tls_config_for, TickerHealth, WallClock},
        FeedError, MarketSource, SourcePoll,
    },
    model::{InstrumentId, MarketEvent},
};

/// Everything the connection thread needs, resolved and checked.
#[derive(Clone)]
pub struct TrueDataSettings {
    /// WebSocket URL without credentials (shown in messages).
    pub url: String,
    /// Where the login comes from (read at each connection).
    pub credentials: CredentialSource,
    /// (TrueData symbol, id) of each subscribed instrument.
    pub symbols: Vec<(String, InstrumentId)>,
    /// Instruments in the table the ids index.
    pub instruments: usize,
    /// Silence after which a connection is dropped.
    pub stale_after: Duration,
    /// Bound on connecting, the handshakes and the login answer.
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

impl std::fmt::Debug for TrueDataSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credentials: where they come from, never what they are.
        f.debug_struct("TrueDataSettings")
            .field("url", &self.url)
            .field("credentials", &self.credentials)
            .field("symbols", &self.symbols.len())
            .field("stale_after", &self.stale_after)
            .finish_non_exhaustive()
    }
}

impl TrueDataSettings {
    /// Settings from `[feed.truedata]` for `symbols` of a table of `instruments`.
    ///
    /// # Errors
    /// A message naming the key, file or variable at fault: an invalid timing key, no
    /// symbol, unreadable credentials, or a `ca_file` without usable certificates.
    pub fn from_config(
        config: &TrueDataConfig,
        symbols: Vec<(String, InstrumentId)>,
        instruments: usize,
    ) -> Result<TrueDataSettings, String> {
        let timing = config.timing()?;
        if symbols.is_empty() {
            return Err("no symbol to subscribe to".to_owned());
        }
        let credentials = config.credentials();
        // Read now so a missing login stops the run before the pipeline starts; it is
        // read again at every connection.
        credentials.read()?;
        Ok(TrueDataSettings {
            url: config.url.clone(),
            credentials,
            symbols,
            instruments,
            stale_after: timing.stale_after,
            connect_timeout: timing.connect_timeout,
            reconnect_initial: timing.reconnect_initial,
            reconnect_max: timing.reconnect_max,
            attempts_per_day: timing.attempts_per_day,
            ring_capacity: config.ring_capacity,
            tls: Arc::new(tls_config_for(
                "feed.truedata.ca_file",
                config.ca_file.as_deref(),
            )?),
            clock: system_clock,
        })
    }
}

/// The live TrueData feed as a [`MarketSource`].
///
/// `poll_event` pops the ring the connection thread fills: it never blocks and never
/// allocates on `Ok`, and answers [`SourcePoll::Pending`] when nothing has arrived. It
/// never answers `End`. Dropping the source stops and joins the thread.
pub struct TrueDataFeed {
    rx: Consumer<MarketEvent>,
    health: Arc<TickerHealth>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TrueDataFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrueDataFeed")
            .field("health", &self.health.counters())
            .finish_non_exhaustive()
    }
}

impl TrueDataFeed {
    /// Starts the connection thread.
    ///
    /// # Errors
    /// [`FeedError::Config`] when the ring capacity is not a power of two or the thread
    /// cannot be spawned.
    pub fn start(settings: TrueDataSettings) -> Result<TrueDataFeed, FeedError> {
        let (tx, rx) = tickpipe_ringbuf::try_channel(settings.ring_capacity)
            .map_err(|e| FeedError::Config(format!("feed.truedata.ring_capacity: {e}")))?;
        let health = Arc::new(TickerHealth::default());
        let link = Link::new(settings, tx, health.clone());
        let thread = std::thread::Builder::new()
            .name("truedata".to_owned())
            .spawn(move || link.run())
            .map_err(|e| FeedError::Config(format!("cannot start the TrueData thread: {e}")))?;
        Ok(TrueDataFeed {
            rx,
            health,
            thread: Some(thread),
        })
    }

    /// The link's shared state: staleness, counters, the last errors.
    pub fn health(&self) -> Arc<TickerHealth> {
        self.health.clone()
    }
}

impl MarketSource for TrueDataFeed {
    #[inline]
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        match self.rx.try_pop() {
            Ok(event) => Ok(SourcePoll::Event(event)),
            Err(PopError::Empty) if self.rx.is_finished() => {
                Err(FeedError::Link(self.health.failure().unwrap_or_else(
                    || "the TrueData connection thread ended".to_owned(),
                )))
            }
            Err(PopError::Empty) => Ok(SourcePoll::Pending),
        }
    }

    fn is_stale(&self) -> bool {
        self.health.is_stale()
    }
}

impl Drop for TrueDataFeed {
    fn drop(&mut self) {
        self.health.stop.set(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
