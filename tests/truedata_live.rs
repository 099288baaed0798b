//! The live TrueData source against a WebSocket server on loopback (no network).
//!
//! Each test starts a `tungstenite` server on 127.0.0.1 that checks the login query,
//! answers the login as TrueData does (`tests/fixtures/truedata/login.json`), reads the
//! `addsymbol` request, and then plays a script per connection (the fixture messages,
//! garbage, a close, silence). Waits are conditions with a generous overall limit:
//! nothing asserts how long anything took.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc, Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use tickpipe::{
    config::ConfigIssue,
    feed::{
        kite::TickerHealth,
        truedata::{TrueDataConfig, TrueDataFeed, TrueDataSettings},
        FeedConfig, FeedError, MarketSource, SourceKind, SourcePoll,
    },
    model::{InstrumentId, MarketEvent, Price, Tick, TickKind, UnixNanos},
};
use tungstenite::{
    handshake::server::{ErrorResponse, Request, Response},
    Message, WebSocket,
};

const LOGIN: &str = include_str!("fixtures/truedata/login.json");
const ADDED: &str = include_str!("fixtures/truedata/symbols-added.json");
const STREAM: &str = include_str!("fixtures/truedata/stream.jsonl");

const PATIENCE: Duration = Duration::from_secs(30);

const INDEX: &str = "NIFTY 50";
const OPTION: &str = "NIFTY25093025200CE";

/// The receive clock: 2025-09-22 10:46:30 IST, fixed.
fn fixed_clock() -> UnixNanos {
    ist("2025-09-22T10:46:30")
}

fn ist(text: &str) -> UnixNanos {
    tickpipe::feed::truedata::parse_timestamp(text).unwrap()
}

fn px(text: &str) -> Price {
    text.parse().unwrap()
}

/// The two symbols of the fixture: the index as id 0, the option as id 1.
fn symbols() -> Vec<(String, InstrumentId)> {
    vec![
        (OPTION.to_owned(), InstrumentId(1)),
        (INDEX.to_owned(), InstrumentId(0)),
    ]
}

/// A folder removed on drop, with a 0600 credentials file.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "tickpipe-truedata-live-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn credentials(&self) -> PathBuf {
        let path = self.0.join("credentials");
        std::fs::write(&path, "user = td@user\npassword = p&ss w0rd\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type ServerSocket = WebSocket<TcpStream>;

/// What the server saw of one connection.
#[derive(Debug)]
struct Seen {
    uri: String,
    /// The `addsymbol` request.
    request: Value,
}

/// How the server answers the login of connection `i`.
type LoginAnswer = dyn Fn(usize) -> String + Send + Sync;
type Script = dyn Fn(usize, &mut ServerSocket) + Send + Sync;

struct Server {
    addr: SocketAddr,
    seen: mpsc::Receiver<Seen>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(script: impl Fn(usize, &mut ServerSocket) + Send + Sync + 'static) -> Server {
        Server::start_with_login(Arc::new(|_| LOGIN.trim().to_owned()), Arc::new(script))
    }

    fn start_with_login(login: Arc<LoginAnswer>, script: Arc<Script>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, seen) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut index = 0;
            let mut handlers = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                let Ok((tcp, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                tcp.set_nonblocking(false).unwrap();
                tcp.set_read_timeout(Some(PATIENCE)).unwrap();
                let (login, script, tx) = (login.clone(), script.clone(), tx.clone());
                let i = index;
                index += 1;
                handlers.push(std::thread::spawn(move || {
                    serve(i, tcp, &*login, &*script, &tx);
                }));
            }
            for h in handlers {
                let _ = h.join();
            }
        });
        Server {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    fn next_connection(&self) -> Seen {
        self.seen
            .recv_timeout(PATIENCE)
            .expect("a subscribed connection within the time limit")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// The callback's error type is tungstenite's (an HTTP response), not ours to shrink.
#[allow(clippy::result_large_err)]
fn serve(
    i: usize,
    tcp: TcpStream,
    login: &LoginAnswer,
    script: &Script,
    seen: &mpsc::Sender<Seen>,
) {
    let mut uri = String::new();
    let callback = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        uri = request.uri().to_string();
        Ok(response)
    };
    let Ok(mut socket) = tungstenite::accept_hdr(tcp, callback) else {
        return;
    };
    let answer = login(i);
    let refused = answer.contains("\"success\":false");
    if socket.send(Message::text(answer)).is_err() {
        return;
    }
    if refused {
        close(&mut socket);
        return;
    }
    let request = loop {
        match socket.read() {
            Ok(Message::Text(t)) => break serde_json::from_str(t.as_str()).unwrap(),
            Ok(_) => {}
            Err(_) => return,
        }
    };
    let _ = seen.send(Seen { uri, request });
    script(i, &mut socket);
}

fn hold(socket: &mut ServerSocket) {
    while socket.read().is_ok() {}
}

fn send(socket: &mut ServerSocket, text: &str) {
    socket.send(Message::text(text.trim().to_owned())).unwrap();
}

fn close(socket: &mut ServerSocket) {
    let _ = socket.close(None);
    while socket.read().is_ok() {}
}

fn config(url: &str, credentials: PathBuf) -> TrueDataConfig {
    TrueDataConfig {
        url: url.to_owned(),
        credentials_file: Some(credentials),
        stale_after: "60s".to_owned(),
        connect_timeout: "5s".to_owned(),
        reconnect_initial: "10ms".to_owned(),
        reconnect_max: "50ms".to_owned(),
        ring_capacity: 4096,
        ..TrueDataConfig::default()
    }
}

fn settings(config: &TrueDataConfig) -> TrueDataSettings {
    let mut s = TrueDataSettings::from_config(config, symbols(), 2).unwrap();
    s.clock = fixed_clock;
    s
}

struct Client {
    feed: TrueDataFeed,
    health: Arc<TickerHealth>,
    ticks: Vec<Tick>,
}

impl Client {
    fn start(settings: TrueDataSettings) -> Client {
        let feed = TrueDataFeed::start(settings).unwrap();
        let health = feed.health();
        Client {
            feed,
            health,
            ticks: Vec::new(),
        }
    }

    fn pump(&mut self) -> Result<(), FeedError> {
        loop {
            match self.feed.poll_event()? {
                SourcePoll::Event(MarketEvent::Tick(t)) => self.ticks.push(t),
                SourcePoll::Event(other) => panic!("a live feed sends ticks only: {other:?}"),
                SourcePoll::Pending => return Ok(()),
                SourcePoll::End => panic!("a live source never ends"),
            }
        }
    }

    fn wait(&mut self, what: &str, done: impl Fn(&Client) -> bool) {
        let start = Instant::now();
        loop {
            self.pump().unwrap();
            if done(self) {
                return;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "gave up waiting for {what}: {:?} {:?}",
                self.health.counters(),
                self.health.last_link_error()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn addsymbol() -> Value {
    json!({"method": "addsymbol", "symbols": [INDEX, OPTION]})
}

#[allow(clippy::too_many_arguments)]
fn tick(
    id: u32,
    at: &str,
    kind: TickKind,
    last: &str,
    last_qty: u32,
    volume: u32,
    (bid, bid_qty, ask, ask_qty): (&str, u32, &str, u32),
) -> Tick {
    Tick {
        exchange_ts: ist(at),
        ingress: Default::default(),
        last: px(last),
        bid: px(bid),
        ask: px(ask),
        instrument: InstrumentId(id),
        volume,
        last_qty,
        bid_qty,
        ask_qty,
        kind,
    }
}

/// The ticks the fixture stream must produce after the symbols-added snapshot.
fn expected_stream_ticks() -> Vec<Tick> {
    use TickKind::{Quote, Trade};
    let t = "2025-09-22T10:46:";
    vec![
        // The snapshot: the index at :33, the option's :32 raised to :33.
        tick(0, &format!("{t}33"), Quote, "25311", 0, 0, ("0", 0, "0", 0)),
        tick(
            1,
            &format!("{t}33"),
            Quote,
            "249",
            75,
            2_506_800,
            ("247.1", 225, "247.65", 300),
        ),
        // A trade with bid/ask.
        tick(
            1,
            &format!("{t}34"),
            Trade,
            "249.5",
            150,
            2_506_950,
            ("249.2", 300, "249.55", 225),
        ),
        // A bid/ask update carries the last trade.
        tick(
            1,
            &format!("{t}35"),
            Quote,
            "249.5",
            150,
            2_506_950,
            ("249.3", 75, "249.6", 150),
        ),
        // The index trades (no bid/ask on an index).
        tick(
            0,
            &format!("{t}35"),
            Trade,
            "25312.35",
            0,
            0,
            ("0", 0, "0", 0),
        ),
        // Scientific notation; no bid/ask in the message, so the last known stays.
        tick(
            1,
            &format!("{t}36"),
            Trade,
            "249.75",
            150,
            2_507_100,
            ("249.3", 75, "249.6", 150),
        ),
        // Its repeat (same sequence number), the bar, the greeks: no tick.
    ]
}

#[test]
fn a_logs_in_through_the_query_and_subscribes_after_the_answer() {
    let dir = TempDir::new("login");
    let server = Server::start(|_, s| hold(s));
    let client = Client::start(settings(&config(&server.url(), dir.credentials())));
    let seen = server.next_connection();
    assert_eq!(seen.uri, "/?user=td%40user&password=p%26ss%20w0rd");
    assert_eq!(seen.request, addsymbol());
    // Nothing in the health's texts repeats the password.
    let shown = format!(
        "{:?} {:?} {:?}",
        client.feed,
        client.health.last_link_error(),
        settings(&config(&server.url(), dir.credentials()))
    );
    assert!(!shown.contains("w0rd"), "{shown}");
}

#[test]
fn b_the_fixture_stream_comes_out_as_ticks() {
    let dir = TempDir::new("stream");
    let server = Server::start(|_, s| {
        send(s, ADDED);
        for line in STREAM.lines() {
            send(s, line);
        }
        hold(s);
    });
    let mut client = Client::start(settings(&config(&server.url(), dir.credentials())));
    assert_eq!(server.next_connection().request, addsymbol());
    let expected = expected_stream_ticks();
    client.wait("the stream's ticks and the notice", |c| {
        c.ticks.len() >= expected.len() && c.health.counters().server_messages >= 1
    });
    assert_eq!(client.ticks, expected);
    let c = client.health.counters();
    assert_eq!(c.heartbeats, 1);
    assert_eq!(c.duplicates, 1);
    assert_eq!((c.out_of_order, c.skipped, c.conflated), (0, 0, 0));
    assert_eq!(c.clamped, 1);
    assert_eq!(c.events, expected.len() as u64);
    // trade ×4, bidask, bar, greeks.
    assert_eq!(c.packets, 7);
    assert!(!client.health.is_stale());
}

#[test]
fn c_a_closed_connection_is_reopened_and_resubscribed() {
    let dir = TempDir::new("reconnect");
    let lines: Vec<&'static str> = STREAM.lines().collect();
    let server = Server::start(move |i, s| {
        send(s, ADDED);
        if i == 0 {
            send(s, lines[1]);
            close(s);
        } else {
            // The same sequence number as before the close: a new connection may count
            // again, so it is not a duplicate.
            send(s, lines[4]);
            hold(s);
        }
    });
    let mut client = Client::start(settings(&config(&server.url(), dir.credentials())));
    assert_eq!(server.next_connection().request, addsymbol());
    assert_eq!(server.next_connection().request, addsymbol());
    client.wait("the trade after the reconnection", |c| {
        c.ticks.iter().any(|t| t.last == px("249.75"))
    });
    let c = client.health.counters();
    assert_eq!((c.connects, c.reconnects, c.disconnects), (2, 1, 1));
    let last = *client.ticks.last().unwrap();
    assert_eq!((last.kind, last.volume), (TickKind::Trade, 2_507_100));
    assert_eq!(c.duplicates, 0);
}

#[test]
fn d_garbage_is_counted_by_kind_and_skipped() {
    let dir = TempDir::new("garbage");
    let lines: Vec<&'static str> = STREAM.lines().collect();
    let server = Server::start(move |_, s| {
        send(s, ADDED);
        send(s, "not json at all");
        send(s, r#"{"trade":["302418028","yesterday","1","1","1","1"]}"#);
        send(s, r#"{"bidask":["302418028"]}"#);
        send(s, r#"{"quotes":[]}"#);
        send(s, "[1,2,3]");
        s.send(Message::binary(vec![0x54, 0, 1, 2])).unwrap();
        // A trade for a symbol id nobody bound.
        send(
            s,
            r#"{"trade":["777","2025-09-22T10:46:34","1","1","1","1"]}"#,
        );
        send(s, lines[1]);
        hold(s);
    });
    let mut client = Client::start(settings(&config(&server.url(), dir.credentials())));
    client.wait("the good trade after the garbage", |c| {
        c.ticks.iter().any(|t| t.kind == TickKind::Trade)
    });
    let c = client.health.counters();
    assert_eq!(c.skipped, 6, "{c:?}");
    assert_eq!(c.unknown_tokens, 1);
    assert_eq!(
        client.health.skipped_kinds().as_deref(),
        Some("trade 1, bidask 1, unreadable 4")
    );
    assert_eq!(client.ticks.len(), 3, "two snapshot quotes and the trade");
}

#[test]
fn e_a_refused_login_is_retried_then_given_up_with_the_reason() {
    let dir = TempDir::new("refused");
    let server = Server::start_with_login(
        Arc::new(|_| r#"{"success":false,"message":"Invalid User ID or Password"}"#.to_owned()),
        Arc::new(|_, s: &mut ServerSocket| hold(s)),
    );
    let mut cfg = config(&server.url(), dir.credentials());
    cfg.reconnect_attempts_per_day = tickpipe::feed::kite::AttemptSetting::Count(2);
    let mut client = Client::start(settings(&cfg));
    let start = Instant::now();
    let err = loop {
        match client.pump() {
            Ok(()) => {
                assert!(start.elapsed() < PATIENCE, "{:?}", client.health.counters());
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => break e,
        }
    };
    let text = err.to_string();
    assert!(text.contains("gave up"), "{text}");
    assert!(text.contains("Invalid User ID or Password"), "{text}");
    assert!(!text.contains("w0rd"), "{text}");
    let c = client.health.counters();
    assert_eq!((c.connects, c.failed_attempts), (0, 3));
    assert!(client.health.is_stale());
}

#[test]
fn f_a_full_ring_conflates_to_the_newest_tick_per_instrument() {
    let dir = TempDir::new("conflate");
    const TRADES: u32 = 200;
    let server = Server::start(|_, s| {
        send(s, ADDED);
        for n in 1..=TRADES {
            let (id, price) = if n % 2 == 0 {
                ("302418028", format!("{}", 200 + n))
            } else {
                ("200000001", format!("{}", 25_000 + n))
            };
            let trade = json!({"trade": [id, "2025-09-22T10:46:40", price, "1",
                "0", (1000 + n).to_string(), "0", "0", "0", "0", "0", "0", "0", "",
                n.to_string()]});
            send(s, &trade.to_string());
        }
        send(
            s,
            r#"{"success":true,"message":"HeartBeat","timestamp":"2025-09-22T10:46:41"}"#,
        );
        hold(s);
    });
    let mut s = settings(&config(&server.url(), dir.credentials()));
    s.ring_capacity = 4;
    let mut client = Client::start(s);
    // Read nothing until the whole burst has been offered: the ring fills, the rest
    // waits in the slot table.
    let start = Instant::now();
    while client.health.counters().heartbeats == 0 {
        assert!(start.elapsed() < PATIENCE, "{:?}", client.health.counters());
        std::thread::sleep(Duration::from_millis(2));
    }
    let c = client.health.counters();
    let produced = u64::from(TRADES) + 2;
    assert_eq!(c.events + c.conflated + c.pending, produced, "{c:?}");
    assert_eq!(c.events, 4, "the ring's slots");
    assert_eq!(c.pending, 2, "one per instrument");
    client.wait("every pending tick", |c| {
        let n = c.health.counters();
        n.pending == 0 && c.ticks.len() as u64 == n.events
    });
    let c = client.health.counters();
    assert_eq!(client.ticks.len() as u64 + c.conflated, produced);
    // The newest of each instrument arrived, whole.
    let last = |id: u32| {
        *client
            .ticks
            .iter()
            .rev()
            .find(|t| t.instrument.0 == id)
            .unwrap()
    };
    assert_eq!((last(1).last, last(1).volume), (px("400"), 1000 + TRADES));
    assert_eq!(
        (last(0).last, last(0).volume),
        (px("25199"), 1000 + TRADES - 1)
    );
    assert_eq!(last(1).kind, TickKind::Trade);
    assert!(client
        .ticks
        .windows(2)
        .all(|w| w[0].exchange_ts <= w[1].exchange_ts));
}

#[test]
fn g_silence_past_stale_after_reconnects() {
    let dir = TempDir::new("silent");
    let server = Server::start(|i, s| {
        if i > 0 {
            send(s, ADDED);
        }
        hold(s);
    });
    let mut cfg = config(&server.url(), dir.credentials());
    cfg.stale_after = "300ms".to_owned();
    let mut client = Client::start(settings(&cfg));
    client.wait("a reconnection after silence", |c| {
        c.health.counters().stale_timeouts >= 1 && c.health.counters().connects >= 2
    });
    assert!(client
        .health
        .last_link_error()
        .unwrap()
        .contains("feed.truedata.stale_after"));
}

#[test]
fn h_the_environment_can_hold_the_login() {
    let user = format!("TICKPIPE_TEST_TD_USER_{}", std::process::id());
    let password = format!("TICKPIPE_TEST_TD_PASSWORD_{}", std::process::id());
    std::env::set_var(&user, "envuser");
    std::env::set_var(&password, "envpass");
    let server = Server::start(|_, s| hold(s));
    let cfg = TrueDataConfig {
        credentials_file: None,
        user_env: user.clone(),
        password_env: password,
        ..config(&server.url(), PathBuf::new())
    };
    let _client = Client::start(settings(&cfg));
    assert_eq!(
        server.next_connection().uri,
        "/?user=envuser&password=envpass"
    );
    let missing = TrueDataConfig {
        user_env: format!("{user}_UNSET"),
        ..cfg
    };
    let err = TrueDataSettings::from_config(&missing, symbols(), 2).unwrap_err();
    assert!(err.contains(&format!("{user}_UNSET")), "{err}");
}

#[test]
fn i_the_feed_section_selects_truedata_and_names_bad_keys() {
    let cfg: FeedConfig = toml::from_str(
        "source = \"truedata\"\nspeed = \"2\"\n[truedata]\nurl = \"http://x\"\nring_capacity = 3\n",
    )
    .unwrap();
    assert_eq!(cfg.source, SourceKind::Truedata);
    let mut issues: Vec<ConfigIssue> = Vec::new();
    cfg.validate("feed", &mut issues);
    let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "feed.speed",
            "feed.truedata.url",
            "feed.truedata.ring_capacity"
        ]
    );
    let example: toml::Value =
        toml::from_str(include_str!("../config/live-truedata.example.toml")).unwrap();
    let feed: FeedConfig = example["feed"].clone().try_into().unwrap();
    let mut issues = Vec::new();
    feed.validate("feed", &mut issues);
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(feed.source, SourceKind::Truedata);
}
