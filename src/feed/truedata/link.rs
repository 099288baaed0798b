//! The connection thread: connect with the login in the URL, wait for the login answer,
//! subscribe, read, reconnect.

use std::{
    hash::{BuildHasher, RandomState},
    io::ErrorKind,
    sync::Arc,
    time::{Duration, Instant},
};

use tickpipe_ringbuf::Producer;
use tungstenite::{client::IntoClientRequest, Connector, HandshakeError, Message as Frame};

use super::{
    config::{login_url, SYMBOLS_PER_REQUEST},
    market::TrueDataMarket,
    message::{Message, MessageKind},
    TrueDataSettings,
};
use crate::{
    feed::{
        is_crossed,
        kite::{open_tcp, Backoff, ReadSlices, Socket, TickerHealth, READ_SLICE},
        Conflator, Offered,
    },
    logging::LogLimiter,
    model::{Date, MarketEvent},
};

/// How one connection ended.
enum End {
    /// The source was dropped.
    Stopped,
    /// The connection closed or broke; `delivered` when it carried at least one message
    /// after the login.
    Lost { why: String, delivered: bool },
}

/// What the thread counts per message kind.
#[derive(Debug, Default)]
struct KindCounts {
    skipped: [u64; MessageKind::ALL.len()],
    logged: [bool; MessageKind::ALL.len()],
}

/// The connection thread's state.
pub(super) struct Link {
    settings: TrueDataSettings,
    tx: Producer<MarketEvent>,
    health: Arc<TickerHealth>,
    market: TrueDataMarket,
    conflator: Conflator,
    backoff: Backoff,
    kinds: KindCounts,
    /// Data messages decoded.
    decoded: u64,
    /// A reusable buffer: `simd-json` parses in place.
    scratch: Vec<u8>,
    /// The IST day and the reconnection attempts made in it.
    attempts: (Date, u32),
    /// Bounds the lines a flapping connection or a chatty server writes.
    log_limit: LogLimiter,
}

impl Link {
    pub(super) fn new(
        settings: TrueDataSettings,
        tx: Producer<MarketEvent>,
        health: Arc<TickerHealth>,
    ) -> Link {
        let market = TrueDataMarket::new(&settings.symbols, settings.instruments);
        let seed = RandomState::new().hash_one(std::process::id());
        let backoff = Backoff::new(settings.reconnect_initial, settings.reconnect_max, seed);
        let today = (settings.clock)().ist_date();
        Link {
            conflator: Conflator::new(settings.instruments),
            settings,
            tx,
            health,
            market,
            backoff,
            kinds: KindCounts::default(),
            decoded: 0,
            scratch: Vec::with_capacity(4096),
            attempts: (today, 0),
            log_limit: LogLimiter::new("truedata"),
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
                            "truedata: cannot connect"
                        );
                    }
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
                            "truedata: connection lost; reconnecting"
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
                     (feed.truedata.reconnect_attempts_per_day); last error: {last}",
                    self.settings.url
                );
                tracing::error!(
                    url = self.settings.url.as_str(),
                    attempts = limit,
                    last_error = last.as_str(),
                    "truedata: gave up reconnecting (feed.truedata.reconnect_attempts_per_day)"
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

    /// Opens a logged-in, subscribed connection: credentials, TCP, TLS, WebSocket
    /// handshake, the login answer, then `addsymbol`.
    fn connect(&mut self) -> Result<Socket, String> {
        let s = &self.settings;
        let login = s.credentials.read()?;
        // The request carries the password: it is never shown, only `s.url` is.
        let request = login_url(&s.url, &login)
            .into_client_request()
            .map_err(|_| format!("bad URL {}", s.url))?;
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
                            " (check the TrueData user and password, and the account's port)"
                        } else {
                            ""
                        };
                        format!("the server refused the WebSocket upgrade: HTTP {status}{hint}")
                    }
                    HandshakeError::Failure(tungstenite::Error::Url(_)) => {
                        format!("bad URL {}", s.url)
                    }
                    HandshakeError::Failure(e) => e.to_string(),
                },
            )?;
        drop(login);
        self.wait_for_login(&mut socket)?;
        let symbols: Vec<String> = self.market.symbols().map(str::to_owned).collect();
        for chunk in symbols.chunks(SYMBOLS_PER_REQUEST) {
            let request = serde_json::json!({"method": "addsymbol", "symbols": chunk});
            socket
                .send(Frame::text(request.to_string()))
                .map_err(|e| format!("cannot subscribe: {e}"))?;
        }
        timeouts(READ_SLICE.min(self.settings.stale_after))?;
        self.market.new_connection();
        self.health.connected.set(true);
        if self.log_limit.admit("connected") {
            tracing::info!(
                url = self.settings.url.as_str(),
                symbols = symbols.len(),
                "truedata: connected"
            );
        }
        Ok(socket)
    }

    /// Reads until the login answer (`connect_timeout` bounds each read, and the whole
    /// wait): TrueData must not be sent `addsymbol` before it.
    fn wait_for_login(&mut self, socket: &mut Socket) -> Result<(), String> {
        let deadline = Instant::now() + self.settings.connect_timeout;
        loop {
            if Instant::now() > deadline {
                return Err("no login answer from the server in time".to_owned());
            }
            let frame = socket.read().map_err(|e| match e {
                tungstenite::Error::Io(e)
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    "no login answer from the server in time".to_owned()
                }
                e => format!("the connection ended before the login answer: {e}"),
            })?;
            let text = match frame {
                Frame::Text(text) => text,
                Frame::Close(_) => {
                    return Err("the server closed the connection before the login answer".into())
                }
                _ => continue,
            };
            match self.parse(text.as_str().as_bytes()) {
                Some(Message::Connected {
                    max_symbols,
                    subscription,
                    validity,
                }) => {
                    let wanted = self.settings.symbols.len() as u64;
                    // Once per login, and logins are bounded by `connected`'s limit.
                    if let Some(max) = max_symbols.filter(|&max| max < wanted) {
                        tracing::warn!(
                            max_symbols = max,
                            subscribed = wanted,
                            "truedata: the account streams fewer symbols than are subscribed; \
                             the server will refuse the rest"
                        );
                    }
                    if !subscription.is_empty() && !subscription.contains("tick") {
                        tracing::warn!(
                            subscription = subscription.as_str(),
                            "truedata: the account's subscription has no ticks: only bars will arrive"
                        );
                    }
                    if !validity.is_empty() {
                        tracing::info!(valid_to = validity.as_str(), "truedata: logged in");
                    }
                    return Ok(());
                }
                Some(Message::Refused(why)) => {
                    return Err(format!(
                        "the server refused the login: {why} (check the TrueData user and \
                         password, and the account's port)"
                    ))
                }
                Some(_) | None => {}
            }
        }
    }

    /// Reads one connection until it ends.
    fn session(&mut self, mut socket: Socket) -> End {
        let mut last_message = Instant::now();
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
            let frame = match socket.read() {
                Ok(frame) => frame,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    if last_message.elapsed() > self.settings.stale_after {
                        let why = format!(
                            "no message for {} (feed.truedata.stale_after)",
                            humantime::format_duration(self.settings.stale_after)
                        );
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
            last_message = Instant::now();
            if !delivered {
                delivered = true;
                self.health.stale.set(false);
            }
            match frame {
                Frame::Text(text) => self.on_text(text.as_str().as_bytes()),
                Frame::Binary(_) => {
                    // Compressed binary mode (PROTOCOLS.md §4.6) is an account setting
                    // this client does not speak: count it, say it once.
                    self.skip(MessageKind::Unreadable, || {
                        "a binary (compressed) message: ask TrueData for the JSON feed".to_owned()
                    });
                }
                Frame::Close(close) => {
                    let why = match close {
                        Some(f) => format!("closed by the server ({} {})", f.code, f.reason),
                        None => "closed by the server".to_owned(),
                    };
                    let _ = socket.flush();
                    return End::Lost { why, delivered };
                }
                Frame::Ping(_) | Frame::Pong(_) | Frame::Frame(_) => {}
            }
        }
    }

    /// Parses one text message, counting and logging (once per kind) what is skipped.
    fn parse(&mut self, bytes: &[u8]) -> Option<Message> {
        self.scratch.clear();
        self.scratch.extend_from_slice(bytes);
        match Message::parse(&mut self.scratch) {
            Ok(message) => Some(message),
            Err(e) => {
                self.skip(e.kind, || e.reason.clone());
                None
            }
        }
    }

    fn skip(&mut self, kind: MessageKind, why: impl FnOnce() -> String) {
        let i = kind.index();
        self.kinds.skipped[i] += 1;
        // Once per kind: the counts carry the rest.
        if !self.kinds.logged[i] {
            self.kinds.logged[i] = true;
            tracing::warn!(
                kind = kind.name(),
                error = why().as_str(),
                "truedata: skipped a message (further problems of its kind are only counted)"
            );
        }
        let total: u64 = self.kinds.skipped.iter().sum();
        let detail: Vec<String> = MessageKind::ALL
            .iter()
            .filter(|k| self.kinds.skipped[k.index()] > 0)
            .map(|k| format!("{} {}", k.name(), self.kinds.skipped[k.index()]))
            .collect();
        TickerHealth::record(&self.health.skipped_kinds, detail.join(", "));
        self.health.skipped.set(total);
    }

    /// Handles one text message.
    fn on_text(&mut self, bytes: &[u8]) {
        let received = (self.settings.clock)();
        let Some(message) = self.parse(bytes) else {
            return;
        };
        let mut events = Vec::new();
        match message {
            Message::Heartbeat => self.health.heartbeats.add(1),
            Message::Trade(trade) => {
                self.decoded += 1;
                events.extend(self.market.trade(&trade));
            }
            Message::BidAsk(update) => {
                self.decoded += 1;
                events.extend(self.market.bid_ask(&update));
            }
            Message::SymbolsAdded(rows) | Message::Touchline(rows) => {
                for row in &rows {
                    events.extend(self.market.bind(row, received));
                }
            }
            // Bars: the engine builds its own from the ticks; counted as decoded.
            Message::Bar(_) | Message::Unused(_) => self.decoded += 1,
            Message::Refused(why) => {
                self.health.server_errors.add(1);
                if self.log_limit.admit("server_error") {
                    tracing::warn!(
                        error = why.as_str(),
                        "truedata: the server reports an error"
                    );
                }
                TickerHealth::record(&self.health.last_server_error, why);
            }
            Message::MarketStatus(text) | Message::Notice(text) => {
                self.health.server_messages.add(1);
                if self.log_limit.admit("server_message") {
                    tracing::info!(text = text.as_str(), "truedata: message from the server");
                }
            }
            Message::Connected { .. } | Message::SymbolsRemoved => {}
        }
        let (mut sent, mut crossed) = (0, 0);
        for event in events {
            if let MarketEvent::Tick(tick) = event {
                crossed += u64::from(is_crossed(&tick));
                if self.conflator.offer(&mut self.tx, tick) == Offered::Sent {
                    sent += 1;
                }
            }
        }
        let counts = self.market.counts();
        let h = &self.health;
        h.packets.set(self.decoded);
        h.unknown_tokens.set(counts.unknown);
        h.clamped.set(counts.clamped);
        h.duplicates.set(counts.duplicates);
        h.out_of_order.set(counts.out_of_order);
        h.conflated.set(self.conflator.conflated());
        h.pending.set(self.conflator.pending() as u64);
        h.events.add(sent);
        h.crossed.add(crossed);
    }
}
