//! A Kite Connect broker on loopback (HTTPS, no network) for the gateway's tests and the
//! fault suite.
//!
//! The broker speaks HTTP/1.1 over rustls with a self-signed certificate and answers in
//! the shapes of Kite's own mock responses (`tests/fixtures/kite/*.json`, used as
//! templates): it takes orders, opens them on the next order-book read, fills market
//! orders on the one after, and can be scripted to answer errors, 429s or a refused
//! token, to drop the connection of a placement before or after taking the order, or to
//! answer placements slowly. Its day positions (`GET /portfolio/positions`) are the net
//! fills of its orders plus any the test adds. It records every request, so the tests
//! check headers and form bodies.

use std::{
    collections::{HashMap, VecDeque},
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use rustls::{
    crypto::ring,
    pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer},
    ServerConfig, ServerConnection, StreamOwned,
};
use serde_json::{json, Value};
use tickpipe::model::UnixNanos;

/// The API key the broker expects.
pub const API_KEY: &str = "testkey";
/// The access token the broker expects.
pub const TOKEN: &str = "tok3n";

/// One of Kite's mock responses, `tests/fixtures/kite/NAME`.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kite")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One request the broker received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted answer to the next placement.
#[derive(Debug, Clone)]
pub enum Script {
    /// Answer this status with an error of this type and message.
    Status(u16, &'static str, &'static str),
    /// Place it, then show it REJECTED with this message.
    RejectInBook(&'static str),
    /// Close the connection without an answer, after taking the order.
    DropAfterPlacing,
    /// Close the connection without an answer, before taking the order.
    DropBeforePlacing,
}

/// The status `answer` gives for "close the connection without answering".
const DROP: u16 = 0;

/// The broker's state; tests change it through [`Broker::with`].
#[derive(Debug, Default)]
pub struct Book {
    /// Every order taken, in Kite's shape.
    pub orders: Vec<Value>,
    /// Every trade, in Kite's shape.
    pub trades: Vec<Value>,
    next_id: u64,
    next_trade: u64,
    /// Answers to the next placements (one per `POST /orders/regular`), before any storm.
    pub script: VecDeque<Script>,
    pub token_refused: bool,
    /// Every `/trades` answer lists each trade twice (a venue repeating itself).
    pub repeat_trades: bool,
    /// Limit orders fill at their price on the read after they open (else they rest).
    pub fill_limits: bool,
    pub seen: Vec<Seen>,
    pub instruments: Vec<u8>,
    /// `GET /trades` lists nothing (fills the engine never hears of).
    pub hide_trades: bool,
    /// Day positions beyond those of the orders placed here (another app's, or
    /// yesterday's session's).
    pub extra_positions: Vec<Value>,
    /// Rate-limit storms: after every `storm.every`-th order taken, the next
    /// `storm.burst` placements are answered 429 (off when `every` is 0).
    pub storm: Storm,
    storm_left: u32,
    /// Every `slow_every`-th order taken is answered `slow` late (off when 0).
    pub slow_every: u64,
    pub slow: Duration,
    /// 429 answers given (scripted and storms).
    pub too_many: u64,
    /// Placements answered late.
    pub slowed: u64,
    /// The market now, when a test plays one: order and trade timestamps follow it
    /// (else the fixed times of the fixtures).
    pub market_now: Option<UnixNanos>,
    /// Touch (bid, ask) by `EXCHANGE:SYMBOL`: market orders fill there, at the ask for a
    /// buy and the bid for a sell (else at 420.65).
    pub touch: HashMap<String, (f64, f64)>,
    /// How long the answer being written waits (set by `place`, taken by `serve`).
    delay: Duration,
    /// Orders fill no earlier than this long (wall time) after they were taken: a
    /// venue that fills late (off when `None`).
    pub fill_after: Option<Duration>,
    /// When each order was taken, by Kite order id.
    placed_at: HashMap<String, Instant>,
    /// Cancels are answered with success but never carried out: the order works on (a
    /// broker that never confirms them).
    pub ignore_cancels: bool,
    /// Orders open and rest, market orders too: a venue that fills nothing.
    pub fill_none: bool,
}

/// Bursts of 429s (see [`Book::storm`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct Storm {
    pub every: u64,
    pub burst: u32,
}

/// The loopback broker.
#[derive(Debug)]
pub struct Broker {
    pub addr: SocketAddr,
    pub book: Arc<Mutex<Book>>,
    /// The certificate to trust (written into the directory given to `start`).
    pub ca: PathBuf,
}

impl Broker {
    pub fn start(dir: &Path) -> Broker {
        let generated =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, generated.cert.pem()).unwrap();
        let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()));
        let tls = Arc::new(
            ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![generated.cert.der().clone()], key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let book = Arc::new(Mutex::new(Book {
            next_id: 151_220_000_000_000,
            next_trade: 10_000_000,
            ..Book::default()
        }));
        let shared = book.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { return };
                let tls = tls.clone();
                let book = shared.clone();
                std::thread::spawn(move || {
                    let conn = ServerConnection::new(tls).unwrap();
                    serve(StreamOwned::new(conn, tcp), &book);
                });
            }
        });
        Broker { addr, book, ca }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.book.lock().unwrap().seen.clone()
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Book) -> R) -> R {
        f(&mut self.book.lock().unwrap())
    }
}

/// Serves keep-alive HTTP/1.1 requests until the client closes.
fn serve(stream: StreamOwned<ServerConnection, TcpStream>, book: &Mutex<Book>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut form = pairs(std::str::from_utf8(&body).unwrap());
        form.extend(pairs(query));
        let seen = Seen {
            method,
            path: path.to_owned(),
            headers,
            form,
        };
        let (status, content_type, body, delay) = {
            let mut book = book.lock().unwrap();
            let (status, content_type, body) = answer(&mut book, &seen);
            (status, content_type, body, std::mem::take(&mut book.delay))
        };
        if status == DROP {
            return;
        }
        // A slow answer keeps the lock free: the broker's other connections go on.
        std::thread::sleep(delay);
        let stream = reader.get_mut();
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
            return;
        }
        let _ = stream.flush();
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn error(status: u16, kind: &str, message: &str) -> (u16, &'static str, Vec<u8>) {
    let body = json!({"status": "error", "message": message, "error_type": kind, "data": null});
    (status, "application/json", body.to_string().into_bytes())
}

fn success(data: Value) -> (u16, &'static str, Vec<u8>) {
    let body = json!({"status": "success", "data": data});
    (200, "application/json", body.to_string().into_bytes())
}

const STAMP: &str = "2026-11-25 10:00:00";

/// The broker's answer to one request.
fn answer(book: &mut Book, req: &Seen) -> (u16, &'static str, Vec<u8>) {
    book.seen.push(req.clone());
    if req.path == "/session/token" {
        let expected = {
            use std::fmt::Write as _;
            let digest = ::ring::digest::digest(
                &::ring::digest::SHA256,
                format!("{API_KEY}rt-1secret").as_bytes(),
            );
            digest.as_ref().iter().fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
        };
        if req.field("checksum") != Some(expected.as_str()) {
            return error(403, "TokenException", "Invalid `checksum`.");
        }
        let mut session = fixture("generate_session.json");
        session["data"]["access_token"] = json!("fresh-token");
        return (200, "application/json", session.to_string().into_bytes());
    }
    let signed = req.header("authorization") == Some(&format!("token {API_KEY}:{TOKEN}"))
        && req.header("x-kite-version") == Some("3");
    if !signed || book.token_refused {
        return error(
            403,
            "TokenException",
            "Incorrect `api_key` or `access_token`.",
        );
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/instruments") => (200, "text/csv", book.instruments.clone()),
        ("POST", "/orders/regular") => place(book, req),
        ("GET", "/orders") => {
            advance(book);
            success(Value::Array(book.orders.clone()))
        }
        ("GET", "/trades") if book.hide_trades => success(json!([])),
        ("GET", "/portfolio/positions") => success(positions(book)),
        ("GET", "/trades") => {
            let mut trades = book.trades.clone();
            if book.repeat_trades {
                trades.extend(book.trades.clone());
            }
            success(Value::Array(trades))
        }
        ("PUT", path) if path.starts_with("/orders/regular/") => {
            let id = &path["/orders/regular/".len()..];
            let Some(order) = book.orders.iter_mut().find(|o| o["order_id"] == id) else {
                return error(400, "InputException", "Invalid order_id");
            };
            if order["status"] != "OPEN" && order["status"] != "TRIGGER PENDING" {
                return error(400, "OrderException", "Order cannot be modified.");
            }
            if let Some(t) = req.field("trigger_price") {
                order["trigger_price"] = json!(t.parse::<f64>().unwrap());
            }
            if let Some(q) = req.field("quantity") {
                order["quantity"] = json!(q.parse::<u32>().unwrap());
            }
            if let Some(p) = req.field("price") {
                order["price"] = json!(p.parse::<f64>().unwrap());
            }
            order["modified"] = json!(true);
            let mut ok = fixture("order_modify.json");
            ok["data"]["order_id"] = json!(id);
            (200, "application/json", ok.to_string().into_bytes())
        }
        ("DELETE", path) if path.starts_with("/orders/regular/") => {
            let id = &path["/orders/regular/".len()..];
            let Some(order) = book.orders.iter_mut().find(|o| o["order_id"] == id) else {
                return error(400, "InputException", "Invalid order_id");
            };
            if order["status"] == "COMPLETE" || order["status"] == "CANCELLED" {
                return error(
                    400,
                    "InputException",
                    "Order cannot be cancelled as it is being processed.",
                );
            }
            if !book.ignore_cancels {
                order["status"] = json!("CANCELLED");
            }
            let mut ok = fixture("order_cancel.json");
            ok["data"]["order_id"] = json!(id);
            (200, "application/json", ok.to_string().into_bytes())
        }
        _ => error(404, "GeneralException", "Route not found"),
    }
}

fn place(book: &mut Book, req: &Seen) -> (u16, &'static str, Vec<u8>) {
    let mut rejected_in_book = None;
    let mut drop = false;
    match book.script.pop_front() {
        Some(Script::Status(status, kind, message)) => {
            book.too_many += u64::from(status == 429);
            return error(status, kind, message);
        }
        Some(Script::RejectInBook(message)) => rejected_in_book = Some(message),
        Some(Script::DropBeforePlacing) => return (DROP, "", Vec::new()),
        Some(Script::DropAfterPlacing) => drop = true,
        None if book.storm_left > 0 => {
            book.storm_left -= 1;
            book.too_many += 1;
            return error(429, "GeneralException", "Too many requests");
        }
        None => {}
    }
    book.next_id += 1;
    let id = book.next_id.to_string();
    book.placed_at.insert(id.clone(), Instant::now());
    // Kite's own order object, with this order's fields.
    let mut order = fixture("orders.json")["data"][1].clone();
    let field = |k: &str| req.field(k).unwrap_or_default().to_owned();
    order["order_id"] = json!(id);
    order["status"] = json!("PUT ORDER REQ RECEIVED");
    order["tradingsymbol"] = json!(field("tradingsymbol"));
    order["exchange"] = json!(field("exchange"));
    order["order_type"] = json!(field("order_type"));
    order["transaction_type"] = json!(field("transaction_type"));
    order["product"] = json!(field("product"));
    order["quantity"] = json!(field("quantity").parse::<u32>().unwrap());
    order["price"] = json!(req
        .field("price")
        .map_or(0.0, |p| p.parse::<f64>().unwrap()));
    order["trigger_price"] = json!(req
        .field("trigger_price")
        .map_or(0.0, |p| p.parse::<f64>().unwrap()));
    order["filled_quantity"] = json!(0);
    order["tag"] = json!(req.field("tag"));
    order["exchange_timestamp"] = Value::Null;
    order["order_timestamp"] = json!(now(book));
    if book.market_now.is_some() {
        // The template's update time is from another day: the venue's times follow the
        // market played here.
        order["exchange_update_timestamp"] = json!(now(book));
    }
    if let Some(message) = rejected_in_book {
        order["status"] = json!("REJECTED");
        order["status_message"] = json!(message);
    }
    book.orders.push(order);
    let taken = book.orders.len() as u64;
    if book.storm.every > 0 && taken % book.storm.every == 0 {
        book.storm_left = book.storm.burst;
    }
    if book.slow_every > 0 && taken % book.slow_every == 0 {
        book.delay = book.slow;
        book.slowed += 1;
    }
    if drop {
        return (DROP, "", Vec::new());
    }
    let mut ok = fixture("order_response.json");
    ok["data"]["order_id"] = json!(id);
    (200, "application/json", ok.to_string().into_bytes())
}

/// The market now (else the wall clock) as Kite writes it: `yyyy-mm-dd hh:mm:ss` in IST.
fn now(book: &Book) -> String {
    let t = book.market_now.unwrap_or_else(|| {
        UnixNanos(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64,
        )
    });
    format!("{} {}", t.ist_date(), t.ist_time_of_day())
}

/// A day position in Kite's shape (`positions.json` as the template).
pub fn position_row(exchange: &str, symbol: &str, product: &str, quantity: i64) -> Value {
    let mut row = fixture("positions.json")["data"]["day"][0].clone();
    row["exchange"] = json!(exchange);
    row["tradingsymbol"] = json!(symbol);
    row["product"] = json!(product);
    row["quantity"] = json!(quantity);
    row["average_price"] = json!(420.65);
    row
}

/// `data` of `GET /portfolio/positions`: each listing's net filled quantity, plus the
/// extra positions.
fn positions(book: &Book) -> Value {
    let mut day: Vec<Value> = Vec::new();
    for order in &book.orders {
        let filled = order["filled_quantity"].as_i64().unwrap();
        let signed = if order["transaction_type"] == "SELL" {
            -filled
        } else {
            filled
        };
        let same = |p: &&mut Value| {
            p["exchange"] == order["exchange"]
                && p["tradingsymbol"] == order["tradingsymbol"]
                && p["product"] == order["product"]
        };
        match day.iter_mut().find(|p| same(p)) {
            Some(p) => p["quantity"] = json!(p["quantity"].as_i64().unwrap() + signed),
            None => day.push(position_row(
                order["exchange"].as_str().unwrap(),
                order["tradingsymbol"].as_str().unwrap(),
                order["product"].as_str().unwrap(),
                signed,
            )),
        }
    }
    day.extend(book.extra_positions.iter().cloned());
    json!({"net": day.clone(), "day": day})
}

/// One step of the exchange per order-book read: received → open → (market) complete.
fn advance(book: &mut Book) {
    let (fill_limits, fill_none) = (book.fill_limits, book.fill_none);
    let market = book.market_now.is_some();
    let (stamp, fill_stamp) = match book.market_now {
        Some(_) => (now(book), now(book)),
        None => (STAMP.to_owned(), "2026-11-25 10:00:01".to_owned()),
    };
    let mut fills = Vec::new();
    let (fill_after, placed_at) = (book.fill_after, &book.placed_at);
    let ripe = |order: &Value| match fill_after {
        None => true,
        Some(after) => match placed_at.get(order["order_id"].as_str().unwrap_or_default()) {
            Some(taken) => taken.elapsed() >= after,
            None => true,
        },
    };
    for order in &mut book.orders {
        let ripe = ripe(order);
        match order["status"].as_str().unwrap() {
            "PUT ORDER REQ RECEIVED" => {
                // A stop order waits for its trigger, which this broker, with no market
                // of its own, never reaches.
                order["status"] = json!(if order["order_type"] == "SL-M" {
                    "TRIGGER PENDING"
                } else {
                    "OPEN"
                });
                order["exchange_timestamp"] = json!(stamp);
                if market {
                    order["exchange_update_timestamp"] = json!(stamp);
                }
            }
            "OPEN" if (order["order_type"] == "MARKET" || fill_limits) && ripe && !fill_none => {
                let qty = order["quantity"].as_u64().unwrap();
                let price = if order["order_type"] == "MARKET" {
                    let listing = format!(
                        "{}:{}",
                        order["exchange"].as_str().unwrap_or_default(),
                        order["tradingsymbol"].as_str().unwrap_or_default()
                    );
                    let (bid, ask) = book
                        .touch
                        .get(&listing)
                        .copied()
                        .unwrap_or((420.65, 420.65));
                    json!(if order["transaction_type"] == "SELL" {
                        bid
                    } else {
                        ask
                    })
                } else {
                    order["price"].clone()
                };
                order["status"] = json!("COMPLETE");
                if market {
                    order["exchange_update_timestamp"] = json!(stamp);
                }
                order["filled_quantity"] = json!(qty);
                order["average_price"] = price.clone();
                fills.push((order["order_id"].clone(), qty, price));
            }
            _ => {}
        }
    }
    for (order_id, qty, price) in fills {
        book.next_trade += 1;
        let mut trade = fixture("trades.json")["data"][0].clone();
        trade["trade_id"] = json!(book.next_trade.to_string());
        trade["order_id"] = order_id;
        trade["quantity"] = json!(qty);
        trade["average_price"] = price;
        trade["fill_timestamp"] = json!(fill_stamp);
        book.trades.push(trade);
    }
}
