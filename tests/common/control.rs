//! An engine trading a synthetic day in the background with its control socket served,
//! and a line client for it.

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::net::UnixStream,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use serde_json::Value;
use tickpipe::engine::{EngineConfig, Pipeline, RunReport};

/// Attempts a test makes at something that can be refused for a while (a `close` that
/// meets no open position); each is a round trip, so the count bounds tries, not time.
pub const ATTEMPTS: usize = 600;

/// A configuration that trades often: sma_cross 1/2 on 5-second bars on every stock,
/// paced at `speed`× real time, threads unpinned and parking when idle, the socket in a
/// run directory of its own.
pub fn busy_config(name: &str, speed: u32) -> EngineConfig {
    let mut config = EngineConfig::embedded_default();
    config.journal.enabled = false;
    config.feed.speed = speed.to_string();
    config.runtime.cores = Vec::new();
    config.runtime.wait = "spin_then_park".into();
    config.runtime.status_interval_ms = 0;
    // The example strategy alone: it trades every few seconds, which the tests need.
    let strategies = &mut config.strategy;
    strategies.momentum_surfer.enabled = false;
    strategies.volume_scalper.enabled = false;
    strategies.news_impact_scalper.enabled = false;
    strategies.regime_adaptive.enabled = false;
    let sma = &mut config.strategy.sma_cross;
    sma.enabled = true;
    sma.fast = 1;
    sma.slow = 2;
    sma.bar_secs = 5;
    config.control.enabled = true;
    config.control.run_dir = run_dir(name);
    config.control.commands_per_sec = 10_000;
    config
}

/// A run directory for one test.
pub fn run_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tickpipe-test-{}-{name}", std::process::id()))
}

/// The engine, running on a background thread.
pub struct Engine {
    handle: Option<JoinHandle<RunReport>>,
    stop: Arc<AtomicBool>,
    /// The control socket.
    pub socket: PathBuf,
}

impl Engine {
    /// Builds and starts `config`; returns once the socket accepts connections (however
    /// long a busy host takes to get there), or panics if the engine stopped first.
    pub fn start(config: EngineConfig) -> Engine {
        let socket = config.control.socket_path();
        let stop = Arc::new(AtomicBool::new(false));
        let opened = config.feed.open().expect("source opens");
        let until = config.feed.until(opened.start).unwrap();
        let pipeline = Pipeline::build(
            &config,
            &opened.instruments,
            opened.source,
            opened.start,
            until,
            stop.clone(),
        )
        .expect("pipeline builds");
        let layout = config.layout().expect("layout");
        let handle = std::thread::spawn(move || {
            pipeline
                .run(&layout, Duration::ZERO, |_| {})
                .expect("run completes")
        });
        while UnixStream::connect(&socket).is_err() {
            if handle.is_finished() {
                let report = handle.join();
                panic!("the engine stopped before it served its socket: {report:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Engine {
            handle: Some(handle),
            stop,
            socket,
        }
    }

    /// A new client.
    pub fn client(&self) -> Client {
        Client::connect(&self.socket)
    }

    /// Stops the feed (as Ctrl-C does) and returns the run's report.
    pub fn finish(mut self) -> RunReport {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().expect("engine thread")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One connection speaking the line protocol.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Stream events read while waiting for replies, oldest first.
    pub events: Vec<Value>,
}

impl Client {
    /// Connects to `socket`. Reads wait for as long as the engine takes: no read timeout,
    /// so a slow host cannot fail a test; a reply that never comes hangs it instead.
    pub fn connect(socket: &PathBuf) -> Client {
        let stream = UnixStream::connect(socket).expect("the engine serves its socket");
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            events: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// Sends raw bytes; false when the server has closed the connection.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.writer.write_all(bytes).is_ok()
    }

    /// Reads one line as text (possibly cut short at the end); `None` at the end.
    pub fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line),
        }
    }

    /// Reads one line as JSON; `None` at the end of the stream.
    pub fn read_value(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("reply is not one JSON object: {e}: {line:?}")),
            ),
        }
    }

    /// The next reply (stream events met on the way are kept in `events`).
    pub fn reply(&mut self) -> Value {
        loop {
            let v = self.read_value().expect("a reply line");
            if v.get("ok").is_some() {
                return v;
            }
            self.events.push(v);
        }
    }

    /// Sends one command and returns its reply.
    pub fn cmd(&mut self, line: &str) -> Value {
        self.send_raw(format!("{line}\n").as_bytes());
        self.reply()
    }

    /// Sends a command that must succeed.
    pub fn ok(&mut self, line: &str) -> Value {
        let v = self.cmd(line);
        assert_eq!(v["ok"], Value::Bool(true), "{line} -> {v}");
        v
    }

    /// Polls `line` until `done` holds of its reply. No deadline: the market moves at the
    /// pace the host allows, and if the day ends first the engine closes the connection,
    /// and the test fails naming `what`.
    pub fn wait_for(&mut self, line: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            self.send_raw(format!("{line}\n").as_bytes());
            let v = loop {
                let v = self
                    .read_value()
                    .unwrap_or_else(|| panic!("the session ended before {what}"));
                if v.get("ok").is_some() {
                    break v;
                }
                self.events.push(v);
            };
            assert_eq!(v["ok"], Value::Bool(true), "{line} -> {v}");
            if done(&v) {
                return v;
            }
            // Spaces the polls out; nothing depends on its length.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Reads stream events until `done` holds of one; panics at the end of the stream.
    pub fn wait_event(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.events.iter().position(&done) {
            return self.events.remove(i);
        }
        loop {
            let v = self
                .read_value()
                .unwrap_or_else(|| panic!("stream ended before {what}"));
            if done(&v) {
                return v;
            }
            self.events.push(v);
        }
    }
}

/// Market time of a `status` reply, as text (ISO 8601 sorts as time).
pub fn market_time(status: &Value) -> String {
    status["market_time"].as_str().unwrap_or("").to_owned()
}
