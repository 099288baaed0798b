//! The connection thread: connect, subscribe, read, reconnect.

use std::{
    hash::{BuildHasher, RandomState},
    io::ErrorKind,
    net::{TcpStream, ToSocketAddrs},
    sync::Arc,
    time::{Duration, Instant},
};

use tickpipe_ringbuf::{Producer, PushError};
use tungstenite::{
    client::IntoClientRequest,
    http::{HeaderValue, Uri},
    stream::MaybeTlsStream,
    Connector, HandshakeError, Message, WebSocket,
};

use super::{
    health::{Counter, TickerHealth},
    Backoff, MarketMapper, TickerSettings,
};
use crate::{
    feed::{
        is_crossed,
        kite::{read_access_token, Decoded, KiteDecoder, OrderUpdate, TextMessage},
        Conflator, Offered,
    },
    logging::LogLimiter,
    model::{Date, MarketEvent},
};

/// Longest a blocking read waits before the thread looks at its stop flag and the
/// staleness clock again.
pub(crate) const READ_SLICE: Duration = Duration::from_millis(100);

/// The read wait while conflated ticks wait for room in the ring: short, so they go out
/// soon after the feed stage frees a slot even when the socket is quiet.
pub(crate) const PENDING_SLICE: Duration = Duration::from_millis(1);

pub(crate) type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// How one connection ended.
enum End {
    /// The source was dropped.
    Stopped,
    /// The connection closed or broke; `delivered` when it carried at least one frame.
    Lost { why: String, delivered: bool },
}

/// The connection thread's state.
pub(super) struct Link {
    settings: TickerSettings,
    tx: Producer<MarketEvent>,
    /// Order postbacks to the gateway (see `ticker.rs`).
    postbacks: Producer<Box<OrderUpdate>>,
    health: Arc<TickerHealth>,
    decoder: KiteDecoder,
    market: MarketMapper,
    conflator: Conflator,
    backoff: Backoff,
    /// The IST day and the reconnection attempts made in it.
    attempts: (Date, u32),
    /// Bounds the lines a flapping connection or a chatty server writes.
    log_limit: LogLimiter,
}

impl Link {
    pub(super) fn new(
        settings: TickerSettings,
        tx: Producer<MarketEvent>,
        postbacks: Producer<Box<OrderUpdate>>,
        health: Arc<TickerHealth>,
    ) -> Link {
        let market = MarketMapper::new(&settings.tokens, settings.instruments);
        // Jitter needs no reproducibility, only a different stream per process.
        let seed = RandomState::new().hash_one(std::process::id());
        let backoff = Backoff::new(settings.reconnect_initial, settings.reconnect_max, seed);
        let today = (settings.clock)().ist_date();
        Link {
            conflator: Conflator::new(settings.instruments),
            settings,
            tx,
            postbacks,
            health,
            decoder: KiteDecoder::default(),
            market,
            backoff,
            attempts: (today, 0),
            log_limit: LogLimiter::new("kite ticker"),
        }
    }

    fn stopping(&self) -> bool {
        self.health.stop.get() || self.tx.is_abandoned()
    }

    /// Connects and reconnects until stopped or out of attempts.
    pub(super) fn run(mut self) {
        let url = self.settings.url.clone();
        let mut first = true;
        loop {
            if !first {
                if !self.count_attempt() {
                    return;
                }
                let wait = self.backoff.next_wait();
                if !self.sleep(wait) {
                    return;
                }
            }
            if self.stopping() {
                return;
            }
            let socket = match self.connect() {
                Ok(socket) => socket,
                Err(why) => {
                    if self.log_limit.admit("connect_failed") {
                        tracing::warn!(
                            url = url.as_str(),
                            error = why.as_str(),
                            attempt = self.attempts.1,
                            "kite ticker: cannot connect"
                        );
                    }
                    // The reason first: a reader who sees the count finds its reason.
                    TickerHealth::record(&self.health.last_link_error, why);
                    self.health.failed_attempts.add(1);
                    first = false;
                    continue;
                }
            };
            self.health.connects.add(1);
            if !first {
                self.health.reconnects.add(1);
            }
            first = false;
            let end = self.session(socket);
            self.health.connected.set(false);
            self.health.stale.set(true);
            match end {
                End::Stopped => return,
                End::Lost { why, delivered } => {
                    if self.log_limit.admit("connection_lost") {
                        tracing::warn!(
                            url = url.as_str(),
                            error = why.as_str(),
                            "kite ticker: connection lost; reconnecting"
                        );
                    }
                    TickerHealth::record(&self.health.last_link_error, why);
                    self.health.disconnects.add(1);
                    if delivered {
                        self.backoff.reset();
                    }
                }
            }
        }
    }

    /// Counts one reconnection attempt against the day's limit; false (and the failure
    /// recorded) when the limit is spent.
    fn count_attempt(&mut self) -> bool {
        let today = (self.settings.clock)().ist_date();
        if today != self.attempts.0 {
            self.attempts = (today, 0);
        }
        if let Some(limit) = self.settings.attempts_per_day {
            if self.attempts.1 >= limit {
                let last = self
                    .health
                    .last_link_error()
                    .unwrap_or_else(|| "none recorded".to_owned());
                let why = format!(
                    "gave up on {} after {limit} reconnection attempts today \
                     (feed.kite.reconnect_attempts_per_day); last error: {last}",
                    self.settings.url
                );
                tracing::error!(
                    url = self.settings.url.as_str(),
                    attempts = limit,
                    last_error = last.as_str(),
                    "kite ticker: gave up reconnecting (feed.kite.reconnect_attempts_per_day)"
                );
                TickerHealth::record(&self.health.failure, why);
                return false;
            }
        }
        self.attempts.1 += 1;
        true
    }

    /// Sleeps `wait` in slices; false when asked to stop meanwhile.
    fn sleep(&self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        loop {
            if self.stopping() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(READ_SLICE));
        }
    }

    /// Opens a subscribed connection: token file, TCP, TLS, WebSocket handshake, then
    /// `subscribe` and `mode`.
    fn connect(&mut self) -> Result<Socket, String> {
        let s = &self.settings;
        let token = read_access_token(&s.access_token_file)?;
        let mut request = s
            .connect_url(&token)
            .into_client_request()
            .map_err(|e| format!("bad URL {}: {e}", s.url))?;
        // Kite's clients send the API version; harmless when the server ignores it.
        request
            .headers_mut()
            .insert("x-kite-version", HeaderValue::from_static("3"));
        let tcp = open_tcp(request.uri(), s.connect_timeout)?;
        let handle = tcp
            .try_clone()
            .map_err(|e| format!("cannot configure the socket: {e}"))?;
        let timeouts = |t: Duration| {
            handle
                .set_read_timeout(Some(t))
                .and_then(|()| handle.set_write_timeout(Some(t)))
                .map_err(|e| format!("cannot configure the socket: {e}"))
        };
        timeouts(s.connect_timeout)?;
        let connector = Connector::Rustls(s.tls.clone());
        let (mut socket, _) =
            tungstenite::client_tls_with_config(request, tcp, None, Some(connector)).map_err(
                |e| match e {
                    HandshakeError::Interrupted(_) => format!(
                        "the handshake did not finish within {}",
                        humantime::format_duration(s.connect_timeout)
                    ),
                    HandshakeError::Failure(tungstenite::Error::Http(response)) => {
                        let status = response.status();
                        let hint = if matches!(status.as_u16(), 401 | 403) {
                            format!(
                                " (check feed.kite.api_key and today's token in {})",
                                s.access_token_file.display()
                            )
                        } else {
                            String::new()
                        };
                        format!("the server refused the WebSocket upgrade: HTTP {status}{hint}")
                    }
                    HandshakeError::Failure(e) => e.to_string(),
                },
            )?;
        let tokens: Vec<u32> = self.market.tokens().collect();
        let subscribe = serde_json::json!({"a": "subscribe", "v": tokens});
        let mode = serde_json::json!({"a": "mode", "v": [s.mode.name(), tokens]});
        for request in [subscribe, mode] {
            socket
                .send(Message::text(request.to_string()))
                .map_err(|e| format!("cannot subscribe: {e}"))?;
        }
        timeouts(READ_SLICE.min(s.stale_after))?;
        self.health.connected.set(true);
        if self.log_limit.admit("connected") {
            tracing::info!(
                url = s.url.as_str(),
                instruments = tokens.len(),
                mode = s.mode.name(),
                "kite ticker: connected"
            );
        }
        Ok(socket)
    }

    /// Reads one connection until it ends.
    fn session(&mut self, mut socket: Socket) -> End {
        let mut last_frame = Instant::now();
        let mut delivered = false;
        let mut reads = ReadSlices::new(READ_SLICE.min(self.settings.stale_after));
        loop {
            if self.stopping() {
                let _ = socket.close(None);
                let _ = socket.flush();
                return End::Stopped;
            }
            let sent = self.conflator.flush(&mut self.tx);
            self.health.events.add(sent as u64);
            self.health.pending.set(self.conflator.pending() as u64);
            reads.choose(&socket, self.conflator.pending() > 0);
            let message = match socket.read() {
                Ok(message) => message,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    if last_frame.elapsed() > self.settings.stale_after {
                        let why = format!(
                            "no frame for {} (feed.kite.stale_after)",
                            humantime::format_duration(self.settings.stale_after)
                        );
                        // Flag and reason before the count, so a reader who sees the
                        // count sees both.
                        self.health.stale.set(true);
                        TickerHealth::record(&self.health.last_link_error, why.clone());
                        self.health.stale_timeouts.add(1);
                        let _ = socket.close(None);
                        let _ = socket.flush();
                        return End::Lost { why, delivered };
                    }
                    continue;
                }
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    return End::Lost {
                        why: "closed".to_owned(),
                        delivered,
                    }
                }
                Err(e) => {
                    return End::Lost {
                        why: e.to_string(),
                        delivered,
                    }
                }
            };
            last_frame = Instant::now();
            if !delivered {
                delivered = true;
                self.health.stale.set(false);
            }
            match message {
                Message::Binary(bytes) => self.on_binary(&bytes),
                Message::Text(text) => self.on_text(text.as_str()),
                Message::Close(frame) => {
                    let why = match frame {
                        Some(f) => format!("closed by the server ({} {})", f.code, f.reason),
                        None => "closed by the server".to_owned(),
                    };
                    // Answer the close; the next read reports the end.
                    let _ = socket.flush();
                    return End::Lost { why, delivered };
                }
                // tungstenite queues the pong to a ping itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Decodes one binary message and pushes its events, conflating those the ring has no
    /// room for.
    fn on_binary(&mut self, bytes: &[u8]) {
        let received = (self.settings.clock)();
        let Link {
            decoder,
            market,
            tx,
            health,
            conflator,
            ..
        } = self;
        let (mut events, mut crossed) = (0, 0);
        decoder.decode(bytes, |decoded| match decoded {
            Decoded::Heartbeat => {}
            Decoded::Packet { packet, depth } => {
                if let Some(MarketEvent::Tick(tick)) = market.event(packet, depth, received) {
                    crossed += u64::from(is_crossed(&tick));
                    if conflator.offer(tx, tick) == Offered::Sent {
                        events += 1;
                    }
                }
            }
            Decoded::Skipped {
                error,
                first_of_kind,
            } => {
                // Once per kind: the counts carry the rest.
                if first_of_kind {
                    tracing::warn!(
                        kind = error.kind_name(),
                        error = %error,
                        "kite ticker: skipped a packet (further problems of its kind are only counted)"
                    );
                }
            }
        });
        let set = |counter: &Counter, n: u64| counter.set(n);
        set(&health.heartbeats, decoder.heartbeats());
        set(&health.packets, decoder.packets());
        set(&health.skipped, decoder.skipped_total());
        set(&health.unknown_tokens, market.unknown());
        set(&health.clamped, market.clamped());
        health.events.add(events);
        health.crossed.add(crossed);
        health.conflated.set(conflator.conflated());
        health.pending.set(conflator.pending() as u64);
    }

    /// Passes an order postback on to the gateway, never waiting: a full ring drops it
    /// (the gateway's poll catches up), and nobody at the other end means nobody wants
    /// it. `order_updates` is counted last, so a reader who sees it also sees the
    /// postback's fate counted.
    fn on_order(&mut self, update: Box<OrderUpdate>) {
        if !self.postbacks.is_abandoned() {
            match self.postbacks.try_push(update) {
                Ok(()) => self.health.postbacks_forwarded.add(1),
                Err(PushError::Full(dropped)) => {
                    self.health.postbacks_dropped.add(1);
                    if self.log_limit.admit("postback_dropped") {
                        tracing::warn!(
                            order_id = dropped.order_id.as_str(),
                            status = dropped.status.as_str(),
                            "kite ticker: order postback dropped, the gateway's ring is full \
                             (its poll catches up)"
                        );
                    }
                }
            }
        }
        self.health.order_updates.add(1);
    }

    /// Parses one text message: errors are logged and kept, the rest counted.
    fn on_text(&mut self, text: &str) {
        match TextMessage::parse(text) {
            Ok(TextMessage::Error(error)) => {
                self.health.server_errors.add(1);
                if self.log_limit.admit("server_error") {
                    tracing::warn!(
                        error = error.as_str(),
                        "kite ticker: the server reports an error"
                    );
                }
                TickerHealth::record(&self.health.last_server_error, error);
            }
            Ok(TextMessage::Order(update)) => self.on_order(update),
            Ok(TextMessage::Message(message)) => {
                self.health.server_messages.add(1);
                if self.log_limit.admit("server_message") {
                    tracing::info!(
                        text = message.as_str(),
                        "kite ticker: message from the broker"
                    );
                }
            }
            Ok(TextMessage::Other(kind)) => {
                self.health.bad_text.add(1);
                if self.log_limit.admit("unknown_text") {
                    tracing::warn!(
                        kind = kind.as_str(),
                        "kite ticker: text message of an unknown type ignored"
                    );
                }
            }
            Err(e) => {
                self.health.bad_text.add(1);
                if self.log_limit.admit("bad_text") {
                    tracing::warn!(error = %e, "kite ticker: unreadable text message ignored");
                }
            }
        }
    }
}

/// The read timeout of a connection's socket: the normal slice, or a short one while
/// conflated ticks wait for the ring (changed only when that changes: one syscall).
pub(crate) struct ReadSlices {
    normal: Duration,
    short: bool,
}

impl ReadSlices {
    pub(crate) fn new(normal: Duration) -> ReadSlices {
        ReadSlices {
            normal,
            short: false,
        }
    }

    pub(crate) fn choose(&mut self, socket: &Socket, short: bool) {
        if short == self.short {
            return;
        }
        let tcp = match socket.get_ref() {
            MaybeTlsStream::Plain(tcp) => tcp,
            MaybeTlsStream::Rustls(tls) => &tls.sock,
            _ => return,
        };
        let wait = if short { PENDING_SLICE } else { self.normal };
        if tcp.set_read_timeout(Some(wait)).is_ok() {
            self.short = short;
        }
    }
}

/// A TCP connection to the URL's host and port (80 for `ws`, 443 for `wss`), trying
/// each resolved address within `timeout`.
pub(crate) fn open_tcp(uri: &Uri, timeout: Duration) -> Result<TcpStream, String> {
    let host = uri.host().ok_or("the URL has no host")?;
    // `[::1]` in a URL is the address `::1`.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("ws") => 80,
        _ => 443,
    });
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("{host} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                // Small messages, each wanted at once.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = format!("cannot reach {addr}: {e}"),
        }
    }
    Err(last)
}
