//! A Kite Ticker on loopback (a `tungstenite` WebSocket server, no network) for the
//! ticker's, the gateway's and the end-to-end tests.
//!
//! [`TickerServer`] plays a script per connection (send frames, close, fall silent, send
//! text messages) once the client has sent its `subscribe` and `mode` requests, and
//! reports what each client sent ([`Seen`]). [`Relay`] is the script a test drives as it
//! goes: each message handed to it goes out on the connection open at the time, a
//! heartbeat goes out while there is none (so the link never goes stale), and
//! [`Say::Drop`] closes the connection from the server's side, as Kite does now and then;
//! the next connection takes over. Waits are bounded by [`PATIENCE`], never asserted.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc, Arc, Mutex,
    },
    thread::JoinHandle,
    time::Duration,
};

use serde_json::{json, Value};
use tungstenite::{
    handshake::server::{ErrorResponse, Request, Response},
    Message, WebSocket,
};

/// How long any condition may take before a test fails (generous: a loaded host).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A byte stream a server socket runs on (plain TCP, or TLS over it).
pub trait Stream: Read + Write + Send {}
impl<S: Read + Write + Send> Stream for S {}

/// The server's end of one client connection.
pub type ServerSocket = WebSocket<Box<dyn Stream>>;

/// What a server plays on connection `i` (counted from 0).
pub type Script = dyn Fn(usize, &mut ServerSocket) + Send + Sync;
/// Wraps an accepted TCP connection (in TLS, say) before the WebSocket handshake.
pub type Wrap = dyn Fn(TcpStream) -> Box<dyn Stream> + Send;

/// What the server saw of one client connection.
#[derive(Debug)]
pub struct Seen {
    /// The request's path and query.
    pub uri: String,
    /// The request's `X-Kite-Version` header.
    pub version: Option<String>,
    /// The first two text messages (subscribe and mode), as JSON.
    pub requests: Vec<Value>,
}

/// A loopback WebSocket server playing a [`Script`] for each connection, and reporting
/// each connection's [`Seen`]. Dropping it stops accepting and joins the connections
/// (each ends when its script does).
pub struct TickerServer {
    pub addr: SocketAddr,
    seen: mpsc::Receiver<Seen>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TickerServer {
    /// A plain `ws://` server playing `script`.
    pub fn start(script: impl Fn(usize, &mut ServerSocket) + Send + Sync + 'static) -> Self {
        TickerServer::start_wrapped(
            Box::new(|tcp: TcpStream| -> Box<dyn Stream> { Box::new(tcp) }),
            Arc::new(script),
        )
    }

    /// A server whose connections are wrapped by `wrap` (TLS for `wss://`).
    pub fn start_wrapped(wrap: Box<Wrap>, script: Arc<Script>) -> Self {
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
                let tcp = match listener.accept() {
                    Ok((tcp, _)) => tcp,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                tcp.set_nonblocking(false).unwrap();
                tcp.set_read_timeout(Some(PATIENCE)).unwrap();
                let stream = wrap(tcp);
                let (script, tx) = (script.clone(), tx.clone());
                let i = index;
                index += 1;
                handlers.push(std::thread::spawn(move || serve(i, stream, &*script, &tx)));
            }
            for h in handlers {
                let _ = h.join();
            }
        });
        TickerServer {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// `ws://` and the address.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The next connection's requests.
    pub fn next_connection(&self) -> Seen {
        self.seen
            .recv_timeout(PATIENCE)
            .expect("a client connection within the time limit")
    }
}

impl Drop for TickerServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// The callback's error type is tungstenite's (an HTTP response), not ours to shrink.
#[allow(clippy::result_large_err)]
fn serve(i: usize, stream: Box<dyn Stream>, script: &Script, seen: &mpsc::Sender<Seen>) {
    let mut uri = String::new();
    let mut version = None;
    let callback = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        uri = request.uri().to_string();
        version = request
            .headers()
            .get("x-kite-version")
            .map(|v| v.to_str().unwrap().to_owned());
        Ok(response)
    };
    let Ok(mut socket) = tungstenite::accept_hdr(stream, callback) else {
        return;
    };
    let mut requests = Vec::new();
    while requests.len() < 2 {
        match socket.read() {
            Ok(Message::Text(t)) => requests.push(serde_json::from_str(t.as_str()).unwrap()),
            Ok(_) => {}
            Err(_) => return,
        }
    }
    let _ = seen.send(Seen {
        uri,
        version,
        requests,
    });
    script(i, &mut socket);
}

/// Keeps the connection open, answering the client, until the client goes.
pub fn hold(socket: &mut ServerSocket) {
    while socket.read().is_ok() {}
}

/// Sends every frame as a binary message.
pub fn send_all(socket: &mut ServerSocket, frames: &[Vec<u8>]) {
    for f in frames {
        socket.send(Message::binary(f.clone())).unwrap();
    }
}

/// Closes from the server side and waits for the client's answer.
pub fn close(socket: &mut ServerSocket) {
    let _ = socket.close(None);
    while socket.read().is_ok() {}
}

/// The `subscribe` and `mode` requests a client sends for `tokens` in `mode`.
pub fn subscribe_and_mode(tokens: &[u32], mode: &str) -> Vec<Value> {
    vec![
        json!({"a": "subscribe", "v": tokens}),
        json!({"a": "mode", "v": [mode, tokens]}),
    ]
}

/// What a [`Relay`] is told to do on the connection open at the time.
#[derive(Debug, Clone)]
pub enum Say {
    /// Send a text message (an order postback, an error).
    Text(String),
    /// Send a binary message (tick packets).
    Binary(Vec<u8>),
    /// Close the connection; the client's next one takes over what follows.
    Drop,
}

/// A Ticker the test speaks through as it goes (see the module docs). Dropping it ends
/// the connection open at the time.
pub struct Relay {
    say: Option<mpsc::Sender<Say>>,
    /// The server, for its address and the connections' requests.
    pub server: TickerServer,
}

impl Relay {
    pub fn start() -> Relay {
        let (say, said) = mpsc::channel::<Say>();
        let said = Mutex::new(said);
        let server = TickerServer::start(move |_, socket| {
            // One connection speaks at a time: the next one waits for this one to end.
            let said = said.lock().unwrap();
            loop {
                let sent = match said.recv_timeout(Duration::from_millis(200)) {
                    Ok(Say::Text(text)) => socket.send(Message::text(text)),
                    Ok(Say::Binary(bytes)) => socket.send(Message::binary(bytes)),
                    Ok(Say::Drop) => {
                        close(socket);
                        return;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => socket.send(Message::binary(vec![0u8])),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                if sent.is_err() {
                    return;
                }
            }
            let _ = socket.close(None);
            let _ = socket.flush();
        });
        Relay {
            say: Some(say),
            server,
        }
    }

    pub fn say(&self, what: Say) {
        self.say.as_ref().unwrap().send(what).unwrap();
    }

    /// Sends `data` as an `{"type":"order"}` message (an order postback).
    pub fn postback(&self, data: Value) {
        self.say(Say::Text(
            json!({"type": "order", "data": data}).to_string(),
        ));
    }

    /// `ws://` and the address.
    pub fn url(&self) -> String {
        self.server.url()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // The connection's script ends once nobody can speak through it; the server's
        // drop (after this) joins it.
        self.say.take();
    }
}
