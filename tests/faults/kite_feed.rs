//! The feed scenario: the live Kite Ticker source against a WebSocket server on
//! loopback that sends garbage frames among the fixture's real ones and then breaks
//! the connection in the middle of a frame; a second connection sends the rest.
//!
//! The server follows `tests/kite_live.rs` (one thread per connection, a script per
//! connection index); waits are conditions with a generous overall limit, never timing
//! assertions.

use std::{
    io::Write,
    net::{Shutdown, TcpListener, TcpStream},
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde_json::Value;
use tickpipe::{
    feed::{
        kite::{Decoded, KiteConfig, KiteDecoder, KiteTicker, TickerSettings},
        MarketSource, SourcePoll,
    },
    model::{InstrumentId, MarketEvent, UnixNanos},
};
use tungstenite::{Message, WebSocket};

use super::Row;

const FRAMES: &str = include_str!("../fixtures/kite-ticker/frames-a.jsonl");

/// How long any condition may take before the scenario gives up (a loaded host).
const PATIENCE: Duration = Duration::from_secs(60);

/// Frames sent on the first connection before the garbage.
const FIRST: usize = 100;

/// Binary messages that are not Kite frames: a header claiming five packets with
/// nothing after it, a header cut short, a packet of an unknown length, and a packet
/// that claims more bytes than the message holds.
const GARBAGE: [&[u8]; 4] = [
    &[0x00, 0x05, 0xFF, 0xFF],
    &[0x00, 0x02, 0x00],
    &[0x00, 0x01, 0x00, 0x03, 0x01, 0x02, 0x03],
    &[0x00, 0x01, 0x00, 0xB8, 0x00, 0x00, 0x01],
];

/// The receive clock: fixed, so a packet without a timestamp has a known market time.
fn fixed_clock() -> UnixNanos {
    UnixNanos(1_780_288_200_000_000_000)
}

fn frames() -> Vec<Vec<u8>> {
    FRAMES
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let text = v["frame_hex"].as_str().unwrap();
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                .collect()
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
    (0..tokens.len())
        .map(|i| (tokens[i], InstrumentId(i as u32)))
        .collect()
}

/// The ticks the source must produce for `frames`: one per packet.
fn expected_ticks(frames: &[Vec<u8>]) -> u64 {
    let mut n = 0;
    let mut decoder = KiteDecoder::default();
    for frame in frames {
        decoder.decode(frame, |d| {
            if matches!(d, Decoded::Packet { .. }) {
                n += 1;
            }
        });
    }
    n
}

/// The loopback server: connection 0 sends the first frames, the garbage, then half a
/// frame and drops the TCP connection; every later one sends the rest and holds.
struct Server {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(frames: Vec<Vec<u8>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let frames = Arc::new(frames);
        let thread = std::thread::spawn(move || {
            let mut handlers = Vec::new();
            let mut index = 0;
            while !stopping.load(Ordering::Relaxed) {
                let Ok((tcp, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let (frames, stopping) = (frames.clone(), stopping.clone());
                let i = index;
                index += 1;
                handlers.push(std::thread::spawn(move || {
                    serve(i, tcp, &frames, &stopping)
                }));
            }
            for h in handlers {
                let _ = h.join();
            }
        });
        Server {
            url,
            stop,
            thread: Some(thread),
        }
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

fn serve(i: usize, tcp: TcpStream, frames: &[Vec<u8>], stop: &AtomicBool) {
    tcp.set_nonblocking(false).unwrap();
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    let Ok(mut socket) = tungstenite::accept(tcp) else {
        return;
    };
    // Short reads from here on, so a holding connection sees the scenario end.
    let _ = socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)));
    // The client's subscribe and mode requests.
    let mut requests = 0;
    while requests < 2 && !stop.load(Ordering::Relaxed) {
        match socket.read() {
            Ok(Message::Text(_)) => requests += 1,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
    let send = |socket: &mut WebSocket<TcpStream>, bytes: &[u8]| {
        socket.send(Message::binary(bytes.to_vec())).is_ok()
    };
    if i == 0 {
        for f in &frames[..FIRST] {
            if !send(&mut socket, f) {
                return;
            }
        }
        for g in GARBAGE {
            if !send(&mut socket, g) {
                return;
            }
        }
        // Half a frame: a binary frame header announcing 1000 bytes, ten of them, and
        // the connection gone.
        let tcp = socket.get_mut();
        let _ = tcp.write_all(&[0x82, 0x7E, 0x03, 0xE8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let _ = tcp.flush();
        let _ = tcp.shutdown(Shutdown::Both);
        return;
    }
    for f in &frames[FIRST..] {
        if !send(&mut socket, f) {
            return;
        }
    }
    // Hold until the client goes or the scenario ends.
    while !stop.load(Ordering::Relaxed) {
        match socket.read() {
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Runs the scenario; `dir` holds the token file.
pub fn scenario(dir: &Path) -> Row {
    let mut row = Row::new(
        "feed garbage + disconnect mid-frame",
        "4 garbage binary messages, then the TCP connection cut inside a frame (Kite Ticker, loopback)",
    );
    let frames = frames();
    let tokens = tokens_of(&frames);
    let expected = expected_ticks(&frames);
    let token = dir.join("token");
    std::fs::write(&token, "tok3n").unwrap();
    let server = Server::start(frames);
    let config = KiteConfig {
        url: server.url.clone(),
        api_key: "testkey".to_owned(),
        access_token_file: Some(token),
        stale_after: "60s".to_owned(),
        connect_timeout: "5s".to_owned(),
        reconnect_initial: "10ms".to_owned(),
        reconnect_max: "50ms".to_owned(),
        ring_capacity: 4096,
        ..KiteConfig::default()
    };
    let instruments = tokens.len();
    let mut settings = TickerSettings::from_config(&config, tokens, instruments).unwrap();
    settings.clock = fixed_clock;
    let mut ticker = KiteTicker::start(settings).unwrap();
    let health = ticker.health();
    let mut ticks = 0u64;
    let start = Instant::now();
    // What the decoder makes of the garbage on its own: skips, and not one packet.
    let mut alone = KiteDecoder::default();
    let mut garbage_packets = 0;
    for g in GARBAGE {
        alone.decode(g, |d| {
            garbage_packets += u32::from(matches!(d, Decoded::Packet { .. }))
        });
    }
    assert_eq!(garbage_packets, 0, "the garbage decodes as packets");
    let garbage_skips = alone.skipped_total();
    assert!(garbage_skips >= GARBAGE.len() as u64, "{garbage_skips}");
    let mut conflated = 0;
    while ticks + conflated < expected && start.elapsed() < PATIENCE {
        conflated = health.counters().conflated;
        match ticker.poll_event() {
            Ok(SourcePoll::Event(MarketEvent::Tick(_))) => ticks += 1,
            Ok(SourcePoll::Event(_)) => {}
            Ok(SourcePoll::Pending) => std::thread::sleep(Duration::from_millis(1)),
            Ok(SourcePoll::End) => {
                row.problem("the live source ended");
                break;
            }
            Err(e) => {
                row.problem(format!("the live source failed: {e}"));
                break;
            }
        }
    }
    let c = health.counters();
    // Every real packet came out, garbage or not: a good tick missing is a loss here,
    // unless the source's ring was full and a newer tick of its instrument replaced it (conflated: held back).
    row.lost = expected.saturating_sub(ticks + c.conflated);
    row.held_back = c.conflated;
    if ticks > expected {
        row.book_wrong(format!(
            "{ticks} ticks out of {expected} packets: garbage decoded"
        ));
    }
    if c.skipped < garbage_skips {
        row.book_wrong(format!(
            "{} skips counted, the garbage alone makes {garbage_skips}",
            c.skipped
        ));
    }
    if c.reconnects < 1 {
        row.book_wrong("the cut connection was not reopened");
    }
    drop(ticker);
    drop(server);
    row
}
