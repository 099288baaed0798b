//! The live Kite Ticker source against a WebSocket server on loopback (no network).
//!
//! Each test starts a `tungstenite` server on 127.0.0.1 (`tests/common/ticker_server.rs`)
//! that plays a script per connection (send fixture frames, close, fall silent, send
//! text messages) and reports what each client sent. Timeouts are configured short and
//! every wait is a condition with a generous overall limit: nothing asserts how long
//! anything took.

mod common;

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use common::{
    ticker_server::{self, close, hold, send_all, ServerSocket, Stream, TickerServer, PATIENCE},
    Scratch,
};
use serde_json::{json, Value};
use tickpipe::{
    feed::{
        kite::{
            Decoded, KiteConfig, KiteDecoder, KiteTicker, Mode, TickerHealth, TickerSettings,
            POSTBACK_RING,
        },
        FeedConfig, FeedError, MarketSource, SourceKind, SourcePoll,
    },
    model::{InstrumentId, MarketEvent, UnixNanos},
};
use tungstenite::Message;

const FRAMES: &str = include_str!("fixtures/kite-ticker/frames-a.jsonl");

/// The receive clock of these tests: 2026-06-01 10:00 IST, fixed, so the market time of
/// a packet without a timestamp is known.
fn fixed_clock() -> UnixNanos {
    UnixNanos(1_780_288_200_000_000_000)
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The fixture's binary messages.
fn frames() -> Vec<Vec<u8>> {
    FRAMES
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            hex(v["frame_hex"].as_str().unwrap())
        })
        .collect()
}

/// Every token the frames carry, ascending, each with the id of its rank.
fn tokens_of(frames: &[Vec<u8>]) -> Vec<(u32, InstrumentId)> {
    let mut tokens = Vec::new();
    let mut decoder = KiteDecoder::default();
    for frame in frames {
        decoder.decode(frame, |d| {
            if let Decoded::Packet { packet, .. } = d {
                tokens.push(packet.instrument_token);
            }
        });
    }
    tokens.sort_unstable();
    tokens.dedup();
    tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, InstrumentId(i as u32)))
        .collect()
}

/// The events the source must produce for `frames`, decoded here directly: one tick per
/// packet, market time from the packet or else the receive clock, never decreasing.
fn expected_events(frames: &[Vec<u8>], tokens: &[(u32, InstrumentId)]) -> Vec<MarketEvent> {
    let mut out = Vec::new();
    let mut volumes: Vec<Option<u32>> = vec![None; tokens.len()];
    let mut last = UnixNanos::default();
    let mut decoder = KiteDecoder::default();
    for frame in frames {
        decoder.decode(frame, |d| {
            if let Decoded::Packet { packet, depth } = d {
                let id = tokens
                    .iter()
                    .find(|(t, _)| *t == packet.instrument_token)
                    .unwrap()
                    .1;
                let mut tick = packet.to_tick(id, depth, volumes[id.index()]);
                volumes[id.index()] = Some(packet.volume_traded);
                if tick.exchange_ts == UnixNanos::default() {
                    tick.exchange_ts = fixed_clock();
                }
                tick.exchange_ts = tick.exchange_ts.max(last);
                last = tick.exchange_ts;
                out.push(MarketEvent::Tick(tick));
            }
        });
    }
    out
}

/// A scratch directory of this file's test `name`.
fn scratch(name: &str) -> Scratch {
    Scratch::new("kite-live", name)
}

/// Settings for a test: short reconnection waits, the fixed clock, and a staleness
/// window long enough never to end a connection unless a test means it to.
fn settings(url: &str, tokens: Vec<(u32, InstrumentId)>, token_file: PathBuf) -> TickerSettings {
    settings_stale_after(url, tokens, token_file, "60s")
}

fn settings_stale_after(
    url: &str,
    tokens: Vec<(u32, InstrumentId)>,
    token_file: PathBuf,
    stale_after: &str,
) -> TickerSettings {
    let instruments = tokens.len();
    let config = KiteConfig {
        url: url.to_owned(),
        api_key: "testkey".to_owned(),
        access_token_file: Some(token_file),
        stale_after: stale_after.to_owned(),
        connect_timeout: "5s".to_owned(),
        reconnect_initial: "10ms".to_owned(),
        reconnect_max: "50ms".to_owned(),
        ring_capacity: 4096,
        ..KiteConfig::default()
    };
    let mut s = TickerSettings::from_config(&config, tokens, instruments).unwrap();
    s.clock = fixed_clock;
    s
}

/// The source and what it has produced so far.
struct Client {
    ticker: KiteTicker,
    health: Arc<TickerHealth>,
    events: Vec<MarketEvent>,
}

impl Client {
    fn start(settings: TickerSettings) -> Client {
        let ticker = KiteTicker::start(settings).unwrap();
        let health = ticker.health();
        Client {
            ticker,
            health,
            events: Vec::new(),
        }
    }

    /// Takes every event available now.
    fn pump(&mut self) -> Result<(), FeedError> {
        loop {
            match self.ticker.poll_event()? {
                SourcePoll::Event(e) => self.events.push(e),
                SourcePoll::Pending => return Ok(()),
                SourcePoll::End => panic!("a live source never ends"),
            }
        }
    }

    /// Pumps until `done` holds.
    fn wait(&mut self, what: &str, done: impl Fn(&Client) -> bool) {
        let start = Instant::now();
        loop {
            self.pump().unwrap();
            if done(self) {
                return;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "gave up waiting for {what}: {:?}",
                self.health.counters()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn subscribe_and_mode(tokens: &[(u32, InstrumentId)], mode: &str) -> Vec<Value> {
    let tokens: Vec<u32> = tokens.iter().map(|(t, _)| *t).collect();
    ticker_server::subscribe_and_mode(&tokens, mode)
}

#[test]
fn a_subscribes_with_the_credentials_and_the_configured_mode() {
    let dir = scratch("subscribe");
    let token = dir.file("token", "tok3n\n");
    let server = TickerServer::start(|_, s| hold(s));
    let tokens = vec![(884_737, InstrumentId(1)), (408_065, InstrumentId(0))];
    let mut s = settings(&server.url(), tokens, token);
    s.mode = Mode::Quote;
    let client = Client::start(s);
    let seen = server.next_connection();
    assert_eq!(seen.uri, "/?api_key=testkey&access_token=tok3n");
    assert_eq!(seen.version.as_deref(), Some("3"));
    // Tokens go out ascending, the same list in both requests.
    let sorted = [(408_065, InstrumentId(0)), (884_737, InstrumentId(1))];
    assert_eq!(seen.requests, subscribe_and_mode(&sorted, "quote"));
    drop(client);
}

#[test]
fn b_fixture_frames_come_out_as_the_decoder_reads_them() {
    let dir = scratch("frames");
    let token = dir.file("token", "tok3n");
    let frames = frames();
    let tokens = tokens_of(&frames);
    let expected = expected_events(&frames, &tokens);
    assert!(expected.len() > 2000, "{}", expected.len());
    let sent = frames.clone();
    let server = TickerServer::start(move |_, s| {
        send_all(s, &sent);
        hold(s);
    });
    let mut client = Client::start(settings(&server.url(), tokens.clone(), token));
    assert_eq!(
        server.next_connection().requests,
        subscribe_and_mode(&tokens, "full")
    );
    let n = expected.len();
    client.wait("every packet's event", |c| c.events.len() >= n);
    assert_eq!(client.events, expected);
    let counters = client.health.counters();
    assert_eq!((counters.events, counters.conflated), (n as u64, 0));
    assert_eq!(counters.connects, 1);
    assert!(counters.heartbeats >= 1, "{counters:?}");
    assert!(!client.health.is_stale());
    // Market time never goes back.
    assert!(client
        .events
        .windows(2)
        .all(|w| w[0].exchange_ts() <= w[1].exchange_ts()));
}

#[test]
fn c_a_closed_connection_is_reopened_and_resubscribed() {
    let dir = scratch("reconnect");
    let token = dir.file("token", "tok3n");
    let frames = frames();
    let tokens = tokens_of(&frames);
    let expected = expected_events(&frames, &tokens);
    let sent = frames.clone();
    let server = TickerServer::start(move |i, s| {
        if i == 0 {
            send_all(s, &sent[..100]);
            close(s);
        } else {
            send_all(s, &sent[100..]);
            hold(s);
        }
    });
    let mut client = Client::start(settings(&server.url(), tokens.clone(), token));
    let first = server.next_connection();
    let second = server.next_connection();
    assert_eq!(first.requests, subscribe_and_mode(&tokens, "full"));
    assert_eq!(second.requests, first.requests);
    let n = expected.len();
    client.wait("the events of both connections", |c| c.events.len() >= n);
    assert_eq!(client.events, expected);
    let counters = client.health.counters();
    assert_eq!(counters.connects, 2);
    assert_eq!(counters.reconnects, 1);
    assert_eq!(counters.disconnects, 1);
    assert_eq!(counters.stale_timeouts, 0);
    assert!(client
        .health
        .last_link_error()
        .is_some_and(|e| e.contains("closed")));
}

#[test]
fn c2_a_full_ring_conflates_to_the_newest_tick_per_instrument() {
    let dir = scratch("conflate");
    let token = dir.file("token", "tok3n");
    let frames = frames();
    let tokens = tokens_of(&frames);
    let expected = expected_events(&frames, &tokens);
    let sent = frames.clone();
    let server = TickerServer::start(move |_, s| {
        send_all(s, &sent);
        hold(s);
    });
    let mut s = settings(&server.url(), tokens.clone(), token);
    s.ring_capacity = 4;
    let mut client = Client::start(s);
    // Read nothing until every packet has been offered: the ring fills and the rest
    // waits, one tick per instrument, in the slot table.
    let n = expected.len() as u64;
    let start = Instant::now();
    loop {
        let c = client.health.counters();
        if c.events + c.conflated + c.pending == n {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "{c:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    let c = client.health.counters();
    assert_eq!(c.events, 4, "the ring's slots: {c:?}");
    assert!(c.pending > 0 && c.pending <= tokens.len() as u64, "{c:?}");
    client.wait("every pending tick", |c| {
        let h = c.health.counters();
        h.pending == 0 && c.events.len() as u64 == h.events
    });
    let c = client.health.counters();
    assert_eq!(client.events.len() as u64 + c.conflated, n);
    // The newest tick of each instrument arrived whole (a replaced trade keeps its
    // tick marked a trade, so the kind is compared apart).
    for (_, id) in &tokens {
        let newest = |events: &[MarketEvent]| {
            events
                .iter()
                .rev()
                .find_map(|e| match e {
                    MarketEvent::Tick(t) if t.instrument == *id => Some(*t),
                    _ => None,
                })
                .unwrap()
        };
        let (got, want) = (newest(&client.events), newest(&expected));
        assert_eq!(
            tickpipe::model::Tick {
                kind: want.kind,
                ..got
            },
            want,
            "instrument {id:?}"
        );
    }
    assert!(client
        .events
        .windows(2)
        .all(|w| w[0].exchange_ts() <= w[1].exchange_ts()));
}

#[test]
fn d_silence_raises_the_stale_flag_and_reconnects() {
    let dir = scratch("stale");
    let token = dir.file("token", "tok3n");
    // Later connections say nothing until the test has seen the stale flag.
    let go = Arc::new(AtomicBool::new(false));
    let gate = go.clone();
    let ltp = vec![0, 1, 0, 8, 0, 0x0d, 0x80, 0x01, 0, 0, 0x99, 0x7f];
    let server = TickerServer::start(move |i, s| {
        if i == 0 {
            // One heartbeat, then nothing: the client must give up on this one.
            s.send(Message::binary(vec![0u8])).unwrap();
        } else {
            let start = Instant::now();
            while !gate.load(Ordering::Relaxed) && start.elapsed() < PATIENCE {
                std::thread::sleep(Duration::from_millis(2));
            }
            // A tick, then heartbeats until the client goes (it may have given up on
            // this connection meanwhile).
            let mut frame = ltp.clone();
            while s.send(Message::binary(frame)).is_ok() && start.elapsed() < PATIENCE {
                frame = vec![0u8];
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
        hold(s);
    });
    let tokens = vec![(884_737, InstrumentId(0))];
    let mut client = Client::start(settings_stale_after(&server.url(), tokens, token, "300ms"));
    client.wait("the heartbeat", |c| c.health.counters().heartbeats >= 1);
    client.wait("the stale timeout", |c| {
        c.health.counters().stale_timeouts >= 1
    });
    assert!(
        client.health.is_stale(),
        "no connection has delivered since"
    );
    assert!(client
        .health
        .last_link_error()
        .is_some_and(|e| e.contains("stale_after")));
    let first = server.next_connection();
    let second = server.next_connection();
    assert_eq!(second.requests, first.requests, "resubscribed");
    go.store(true, Ordering::Relaxed);
    client.wait("data on a new connection", |c| {
        !c.health.is_stale() && !c.events.is_empty()
    });
    let counters = client.health.counters();
    assert!(counters.reconnects >= 1, "{counters:?}");
    assert!(counters.stale_timeouts >= 1, "{counters:?}");
    match client.events[0] {
        MarketEvent::Tick(t) => assert_eq!(t.last.to_string(), "392.95"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn e_text_messages_are_parsed_and_an_error_is_surfaced() {
    let dir = scratch("text");
    let token = dir.file("token", "tok3n");
    let server = TickerServer::start(|_, s| {
        for text in [
            r#"{"type":"message","data":"maintenance at 18:00"}"#,
            r#"{"type":"order","data":{"order_id":"1","status":"COMPLETE","price":10.5}}"#,
            "not json",
            r#"{"type":"error","data":"invalid instrument token"}"#,
        ] {
            s.send(Message::text(text)).unwrap();
        }
        hold(s);
    });
    let mut client = Client::start(settings(
        &server.url(),
        vec![(884_737, InstrumentId(0))],
        token,
    ));
    client.wait("the error message", |c| {
        c.health.counters().server_errors == 1
    });
    assert_eq!(
        client.health.last_server_error().as_deref(),
        Some("invalid instrument token")
    );
    let counters = client.health.counters();
    assert_eq!(
        (
            counters.server_messages,
            counters.order_updates,
            counters.bad_text
        ),
        (1, 1, 1)
    );
    // An error message does not end the connection.
    assert_eq!((counters.connects, counters.disconnects), (1, 0));
}

#[test]
fn f_a_missing_or_empty_token_file_is_a_clear_error() {
    let dir = scratch("token");
    let master =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kite/instruments_nse.csv");
    let mut config = FeedConfig {
        source: SourceKind::Kite,
        ..FeedConfig::default()
    };
    config.kite.api_key = "testkey".to_owned();
    config.kite.instruments = Some(master);
    // Nothing listens there: opening must fail before any connection is tried.
    config.kite.url = "ws://127.0.0.1:9".to_owned();
    let absent = dir.join("absent");
    config.kite.access_token_file = Some(absent.clone());
    let err = config.open().unwrap_err();
    assert!(
        err.contains("cannot read the access token file")
            && err.contains(&absent.display().to_string()),
        "{err}"
    );
    let empty = dir.file("empty", "\n");
    config.kite.access_token_file = Some(empty);
    let err = config.open().unwrap_err();
    assert!(err.contains("is empty"), "{err}");
    config.kite.access_token_file = None;
    let mut issues = Vec::new();
    config.validate("feed", &mut issues);
    let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["feed.kite.access_token_file"]);
}

#[test]
fn the_universe_is_resolved_through_the_master() {
    let dir = scratch("open");
    let token = dir.file("token", "tok3n");
    let server = TickerServer::start(|_, s| hold(s));
    let mut config = FeedConfig {
        source: SourceKind::Kite,
        ..FeedConfig::default()
    };
    config.kite.url = server.url();
    config.kite.api_key = "testkey".to_owned();
    config.kite.access_token_file = Some(token);
    config.kite.instruments = Some(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kite/instruments_nse.csv"),
    );
    let mut issues = Vec::new();
    config.validate("feed", &mut issues);
    assert!(issues.is_empty(), "{issues:?}");
    let opened = config.open().unwrap();
    // Of the NIFTY 50 universe, the old fixture master knows ADANIPORTS alone.
    assert!(
        opened.description.contains("1 instruments in full mode"),
        "{}",
        opened.description
    );
    assert!(
        opened
            .description
            .contains("not subscribed: NIFTY 50, HDFCBANK"),
        "{}",
        opened.description
    );
    assert_eq!(opened.instruments.len(), 51);
    let seen = server.next_connection();
    assert_eq!(
        seen.requests[0],
        json!({"a": "subscribe", "v": [3_861_249]})
    );
    assert!(opened.live.is_some());
    // The order postbacks' end, for a Kite Connect gateway to take.
    assert!(opened.postbacks.is_some());
    drop(opened);

    // A universe none of whose symbols the master has: refused, naming them.
    let universe = dir.file(
        "universe.csv",
        "symbol,kind,fno_symbol,sector,lot_size,freeze_qty,tick_size,ref_price,weight_pct\n\
         NOSUCHINDEX,index,NSI,Index,50,1000,0.05,100,\n\
         NOSUCHSHARE,equity,NSS,Energy,100,1000,0.05,100,100\n",
    );
    config.kite.universe = Some(universe);
    let err = config.open().unwrap_err();
    assert!(
        err.contains("nothing to subscribe to") && err.contains("NOSUCHINDEX, NOSUCHSHARE"),
        "{err}"
    );
}

#[test]
fn spent_attempts_end_the_source_with_the_reason() {
    let dir = scratch("give-up");
    let token = dir.file("token", "tok3n");
    // A port nobody listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = settings(
        &format!("ws://127.0.0.1:{port}"),
        vec![(884_737, InstrumentId(0))],
        token,
    );
    s.attempts_per_day = Some(2);
    let mut client = Client::start(s);
    let start = Instant::now();
    let err = loop {
        match client.pump() {
            Ok(()) => {}
            Err(e) => break e,
        }
        assert!(start.elapsed() < PATIENCE, "{:?}", client.health.counters());
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(matches!(err, FeedError::Link(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("after 2 reconnection attempts"), "{text}");
    assert_eq!(client.health.counters().failed_attempts, 3);
    assert!(client.health.is_stale());
}

#[test]
fn wss_with_a_trusted_test_certificate() {
    use rustls::{
        crypto::ring,
        pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer},
        ServerConfig, ServerConnection, StreamOwned,
    };
    let dir = scratch("wss");
    let token = dir.file("token", "tok3n");
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let ca = dir.file("ca.pem", &generated.cert.pem());
    let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()));
    let tls = Arc::new(
        ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![generated.cert.der().clone()], key)
            .unwrap(),
    );
    let ltp = vec![0, 1, 0, 8, 0, 0x0d, 0x80, 0x01, 0, 0, 0x99, 0x7f];
    let server = TickerServer::start_wrapped(
        Box::new(move |tcp: TcpStream| -> Box<dyn Stream> {
            let conn = ServerConnection::new(tls.clone()).unwrap();
            Box::new(StreamOwned::new(conn, tcp))
        }),
        Arc::new(move |_: usize, s: &mut ServerSocket| {
            s.send(Message::binary(ltp.clone())).unwrap();
            hold(s);
        }),
    );
    let url = format!("wss://localhost:{}", server.addr.port());
    let config = KiteConfig {
        url: url.clone(),
        api_key: "testkey".to_owned(),
        access_token_file: Some(token.clone()),
        ca_file: Some(ca),
        ..KiteConfig::default()
    };
    let mut s = TickerSettings::from_config(&config, vec![(884_737, InstrumentId(0))], 1).unwrap();
    s.clock = fixed_clock;
    let mut client = Client::start(s);
    assert_eq!(
        server.next_connection().uri,
        "/?api_key=testkey&access_token=tok3n"
    );
    client.wait("the tick over TLS", |c| !c.events.is_empty());
    assert_eq!(client.events[0].exchange_ts(), fixed_clock());
    drop(client);

    // Without the test CA (the compiled-in web roots), the certificate is refused.
    let plain = KiteConfig {
        ca_file: None,
        ..config
    };
    let mut s = TickerSettings::from_config(&plain, vec![(884_737, InstrumentId(0))], 1).unwrap();
    s.attempts_per_day = Some(1);
    let mut client = Client::start(s);
    client.wait("a refused handshake", |c| {
        c.health.counters().failed_attempts >= 1
    });
    let why = client.health.last_link_error().unwrap();
    assert!(why.to_lowercase().contains("certificate"), "{why}");
    assert_eq!(client.health.counters().connects, 0);
}

#[test]
fn config_check_reports_the_kite_table() {
    let dir = scratch("check");
    let empty_token = dir.file("token", "");
    let file = dir.file(
        "live.toml",
        &format!(
            "[feed]\nsource = \"kite\"\n[feed.kite]\napi_key = \"k\"\n\
             access_token_file = \"{}\"\nstale_after = \"soon\"\n\
             reconnect_attempts_per_day = -1\n[control]\nenabled = false\n\
             [journal]\nenabled = false\n",
            empty_token.display()
        ),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for expected in [
        "feed.kite.stale_after: `soon` is not a duration",
        "feed.kite.reconnect_attempts_per_day: must be a number from 1",
        "feed.kite.access_token_file: the access token file",
    ] {
        assert!(stdout.contains(expected), "{expected} in:\n{stdout}");
    }
    assert!(stdout.contains("is empty"), "{stdout}");
}

/// Waits until the link has counted `n` order postbacks.
fn wait_order_updates(health: &TickerHealth, n: u64) {
    let start = Instant::now();
    while health.counters().order_updates < n {
        assert!(
            start.elapsed() < PATIENCE,
            "waiting for {n} order updates: {:?}",
            health.counters()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn order_update(i: usize) -> String {
    json!({"type": "order", "data": {"order_id": i.to_string(), "status": "OPEN", "quantity": 1}})
        .to_string()
}

#[test]
fn g_order_postbacks_are_passed_on_in_order_and_a_full_ring_drops_the_rest() {
    let dir = scratch("postbacks");
    let token = dir.file("token", "tok3n");
    const EXTRA: usize = 10;
    let server = TickerServer::start(|_, s| {
        for i in 0..POSTBACK_RING + EXTRA {
            s.send(Message::text(order_update(i))).unwrap();
        }
        hold(s);
    });
    let mut ticker = KiteTicker::start(settings(
        &server.url(),
        vec![(884_737, InstrumentId(0))],
        token,
    ))
    .unwrap();
    let mut postbacks = ticker.take_postbacks().expect("the postbacks, once");
    assert!(ticker.take_postbacks().is_none());
    let health = ticker.health();
    // Nobody reads the ring meanwhile: it fills, and the rest are dropped, never waited
    // for.
    wait_order_updates(&health, (POSTBACK_RING + EXTRA) as u64);
    let counters = health.counters();
    let mut ids = Vec::new();
    while let Ok(update) = postbacks.try_pop() {
        ids.push(update.order_id.parse::<usize>().unwrap());
    }
    assert_eq!(counters.postbacks_forwarded, ids.len() as u64);
    assert_eq!(
        counters.postbacks_dropped,
        (POSTBACK_RING + EXTRA - ids.len()) as u64
    );
    assert!(counters.postbacks_dropped >= EXTRA as u64, "{counters:?}");
    // The oldest went through, in the order sent.
    assert_eq!(ids, (0..ids.len()).collect::<Vec<_>>());
    assert!(counters.to_string().contains("dropped"), "{counters}");
}

#[test]
fn h_order_postbacks_nobody_takes_are_not_passed_on() {
    let dir = scratch("postbacks-unread");
    let token = dir.file("token", "tok3n");
    let server = TickerServer::start(|_, s| {
        for i in 0..3 {
            s.send(Message::text(order_update(i))).unwrap();
        }
        hold(s);
    });
    let mut ticker = KiteTicker::start(settings(
        &server.url(),
        vec![(884_737, InstrumentId(0))],
        token,
    ))
    .unwrap();
    // A paper run: the pipeline drops the postbacks' end.
    drop(ticker.take_postbacks());
    let health = ticker.health();
    wait_order_updates(&health, 3);
    let counters = health.counters();
    assert_eq!(
        (counters.postbacks_forwarded, counters.postbacks_dropped),
        (0, 0)
    );
}
