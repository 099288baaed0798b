//! The Kite Connect gateway against a small broker on loopback (HTTPS, no network).
//!
//! The broker (`tests/common/kite_broker.rs`) answers in the shapes of Kite's own mock
//! responses and can be scripted to answer errors, 429s or a refused token, or to drop
//! the connection of a placement before or after taking the order. It records every
//! request, so the tests check headers and form bodies. Every wait is a condition with
//! a generous limit: nothing asserts how long anything took.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use common::{
    kite::{broker_nets, config_file, count, order_config, KiteAccount},
    kite_broker::{fixture, position_row, Broker, Script, Seen, API_KEY, TOKEN},
    ticker_server::Relay,
    tickpipe, Scratch,
};
use serde_json::{json, Value};
use tickpipe::{
    feed::kite::{KiteConfig, KiteTicker, TickerSettings},
    model::{
        Alert, AlertLevel, BrokerNotice, BrokerPosition, ClientOrderId, Instrument, InstrumentId,
        InstrumentTable, IntentId, Price, Qty, RejectReason, SectorId, Side, UnixNanos,
    },
    order::{
        Amend, Gateway, GatewayKind, KiteGateway, OrderConfig, OrderType, Product, VenueEvent,
        VenueOrder, VenueReport,
    },
};

const PATIENCE: Duration = Duration::from_secs(30);

/// A Kite account on loopback for the test `name`.
fn account(name: &str) -> KiteAccount {
    KiteAccount::open("kitegw", name)
}

fn table() -> InstrumentTable {
    let mut table = InstrumentTable::new();
    table
        .push(Instrument::nse_equity("SBIN", SectorId(0)))
        .unwrap();
    table
}

fn id(n: u64) -> ClientOrderId {
    ClientOrderId::new(IntentId::new(n, n as u32), 0)
}

fn order(n: u64, kind: OrderType, qty: u32, limit: Price) -> VenueOrder {
    VenueOrder {
        id: id(n),
        sent_ts: UnixNanos(0),
        limit,
        trigger: Price::ZERO,
        qty: Qty::new(qty),
        instrument: InstrumentId(0),
        protection_bps: 250,
        side: Side::Buy,
        kind,
        product: Product::Mis,
    }
}

/// Polls the gateway until `done` holds of everything reported so far.
fn wait(
    gw: &mut KiteGateway,
    got: &mut Vec<VenueReport>,
    what: &str,
    done: impl Fn(&[VenueReport]) -> bool,
) {
    let start = Instant::now();
    while !done(got) {
        gw.poll(&mut |r| got.push(r));
        assert!(
            start.elapsed() < PATIENCE,
            "waiting for {what}; got {got:#?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn events(got: &[VenueReport], order: ClientOrderId) -> Vec<VenueEvent> {
    got.iter()
        .filter(|r| r.order == order)
        .map(|r| r.event)
        .collect()
}

#[test]
fn places_fills_modifies_and_cancels_over_https() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("lifecycle");
    broker.with(|b| b.repeat_trades = true);
    let mut gw = KiteGateway::start(&order_config(&broker, &token), &table()).unwrap();
    let mut got = Vec::new();

    gw.submit(&order(1, OrderType::Market, 10, Price::ZERO), &mut |r| {
        got.push(r)
    });
    wait(&mut gw, &mut got, "the market order's fill", |g| {
        events(g, id(1)).contains(&VenueEvent::Fill)
    });
    let fill = got.iter().find(|r| r.event == VenueEvent::Fill).unwrap();
    assert_eq!(fill.last_qty, Qty::new(10));
    assert_eq!(fill.last_price, "420.65".parse().unwrap());
    assert_eq!(fill.trade.0, 10_000_001);
    assert_eq!(
        fill.exchange_ts,
        tickpipe::order::kite_wire::parse_ist("2026-11-25 10:00:01").unwrap()
    );

    gw.submit(
        &order(2, OrderType::Limit, 5, "419.5".parse().unwrap()),
        &mut |r| got.push(r),
    );
    wait(&mut gw, &mut got, "the limit order's acceptance", |g| {
        events(g, id(2)) == [VenueEvent::Accepted]
    });
    let amend = Amend {
        qty: Qty::new(7),
        limit: "419.55".parse().unwrap(),
        trigger: Price::ZERO,
    };
    gw.modify(id(2), &amend, &mut |r| got.push(r));
    wait(&mut gw, &mut got, "the modification", |g| {
        events(g, id(2)).contains(&VenueEvent::Modified)
    });
    gw.cancel(id(2), &mut |r| got.push(r));
    wait(&mut gw, &mut got, "the cancel", |g| {
        events(g, id(2)).contains(&VenueEvent::Cancelled)
    });
    // Later polls (the broker repeats every trade) add nothing.
    std::thread::sleep(Duration::from_millis(100));
    gw.poll(&mut |r| got.push(r));
    assert_eq!(
        events(&got, id(1)),
        [VenueEvent::Accepted, VenueEvent::Fill],
        "one fill per trade id, however often the venue lists it"
    );
    assert_eq!(
        events(&got, id(2)),
        [
            VenueEvent::Accepted,
            VenueEvent::Modified,
            VenueEvent::Cancelled
        ]
    );

    let seen = broker.seen();
    for req in &seen {
        assert_eq!(req.header("x-kite-version"), Some("3"), "{req:?}");
        assert_eq!(
            req.header("authorization"),
            Some(format!("token {API_KEY}:{TOKEN}").as_str())
        );
    }
    let posts: Vec<&Seen> = seen.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].path, "/orders/regular");
    assert_eq!(
        posts[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(&str, &str)> = posts[0]
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        form,
        [
            ("tradingsymbol", "SBIN"),
            ("exchange", "NSE"),
            ("transaction_type", "BUY"),
            ("order_type", "MARKET"),
            ("quantity", "10"),
            ("product", "MIS"),
            ("validity", "DAY"),
            ("market_protection", "2.5"),
            ("tag", "ALGO42"),
        ]
    );
    assert_eq!(posts[1].field("order_type"), Some("LIMIT"));
    assert_eq!(posts[1].field("price"), Some("419.50"));
    assert_eq!(posts[1].field("market_protection"), None);
    let put = seen.iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.path, "/orders/regular/151220000000002");
    assert_eq!(put.field("quantity"), Some("7"));
    assert_eq!(put.field("price"), Some("419.55"));
    let delete = seen.iter().find(|r| r.method == "DELETE").unwrap();
    assert_eq!(delete.path, "/orders/regular/151220000000002");
    let health = gw.health();
    assert_eq!(health.placed.get(), 2);
    assert_eq!(health.fills.get(), 1);
}

#[test]
fn refusals_map_to_reasons_and_429_is_retried() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("refusals");
    broker.with(|b| {
        b.script.extend([
            Script::Status(429, "GeneralException", "Too many requests"),
            Script::Status(429, "GeneralException", "Too many requests"),
        ]);
    });
    let mut gw = KiteGateway::start(&order_config(&broker, &token), &table()).unwrap();
    let mut got = Vec::new();
    // Two 429s, then the placement goes through.
    gw.submit(
        &order(1, OrderType::Limit, 1, Price::from_paise(41_000)),
        &mut |r| got.push(r),
    );
    wait(&mut gw, &mut got, "acceptance after 429s", |g| {
        events(g, id(1)) == [VenueEvent::Accepted]
    });
    let health = gw.health();
    assert!(health.rate_limited.get() >= 2);
    assert!(health.retries.get() >= 2);
    let posts = broker.seen().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 3, "two refused tries and the one that went through");

    broker.with(|b| {
        b.script.extend([
            Script::Status(
                400,
                "MarginException",
                "Insufficient funds. Required margin is 95417.84",
            ),
            Script::Status(400, "InputException", "Invalid `quantity`."),
            Script::Status(500, "OrderException", "Order could not be placed"),
            Script::RejectInBook(
                "Insufficient funds. Required margin is 95417.84 but available margin is 74251.80.",
            ),
        ]);
        // 429 for longer than the retry policy waits.
        b.script
            .extend((0..5).map(|_| Script::Status(429, "GeneralException", "Too many requests")));
    });
    for n in 2..=6 {
        gw.submit(
            &order(n, OrderType::Limit, 1, Price::from_paise(41_000)),
            &mut |r| got.push(r),
        );
    }
    wait(&mut gw, &mut got, "five refusals", |g| {
        (2..=6).all(|n| events(g, id(n)) == [VenueEvent::Rejected])
    });
    let reason = |n| got.iter().find(|r| r.order == id(n)).unwrap().reject;
    assert_eq!(reason(2), RejectReason::Margin);
    assert_eq!(reason(3), RejectReason::Invalid);
    assert_eq!(reason(4), RejectReason::Venue);
    assert_eq!(
        reason(5),
        RejectReason::Margin,
        "REJECTED in the order book"
    );
    assert_eq!(reason(6), RejectReason::RateLimited);
    assert!(gw.health().last_error().is_some());

    // A modify or cancel of an order Kite never took is refused, not sent.
    gw.cancel(id(99), &mut |r| got.push(r));
    wait(&mut gw, &mut got, "the refused cancel", |g| {
        events(g, id(99)) == [VenueEvent::CancelRejected]
    });
}

#[test]
fn an_expired_token_is_said_and_counted() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("token");
    broker.with(|b| b.token_refused = true);
    let mut gw = KiteGateway::start(&order_config(&broker, &token), &table()).unwrap();
    let mut got = Vec::new();
    gw.submit(&order(1, OrderType::Market, 1, Price::ZERO), &mut |r| {
        got.push(r)
    });
    wait(&mut gw, &mut got, "the refusal", |g| !g.is_empty());
    assert_eq!(got[0].event, VenueEvent::Rejected);
    assert_eq!(got[0].reject, RejectReason::Venue);
    let health = gw.health();
    let start = Instant::now();
    while health.token_expired.get() == 0 {
        assert!(start.elapsed() < PATIENCE);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(health.last_error().unwrap().contains("TokenException"));
    assert_eq!(health.retries.get(), 0, "a refused token is not retried");
}

#[test]
fn start_refuses_a_token_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("mode");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = KiteGateway::start(&order_config(&broker, &token), &table()).unwrap_err();
    assert!(
        e.contains("order.kite.access_token_file") && e.contains("0644"),
        "{e}"
    );
}

#[test]
fn login_prints_the_url_and_stores_the_token_0600() {
    use std::os::unix::fs::PermissionsExt;
    let KiteAccount { dir, broker, .. } = account("login");
    let token = dir.join("access-token");
    let config = config_file(&dir, &broker, &token, "");
    let out = tickpipe()
        .args(["kite", "login", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("https://kite.zerodha.com/connect/login?v=3&api_key=testkey"));

    let out = tickpipe()
        .args(["kite", "login", "--request-token", "rt-1", "--config"])
        .arg(&config)
        .env("KITE_API_SECRET", "secret")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&token).unwrap(), "fresh-token\n");
    let mode = std::fs::metadata(&token).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let post = broker
        .seen()
        .into_iter()
        .find(|r| r.path == "/session/token")
        .unwrap();
    assert_eq!(post.field("api_key"), Some(API_KEY));
    assert_eq!(post.field("request_token"), Some("rt-1"));
    assert_eq!(post.header("authorization"), None);

    // A wrong secret: Kite's refusal is shown and the token file is left alone.
    let out = tickpipe()
        .args(["kite", "login", "--request-token", "rt-1", "--config"])
        .arg(&config)
        .env("KITE_API_SECRET", "wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TokenException"));
    assert_eq!(std::fs::read_to_string(&token).unwrap(), "fresh-token\n");
}

#[test]
fn instruments_fetch_writes_a_checked_master() {
    let KiteAccount { dir, broker, token } = account("instruments");
    let master = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kite/instruments_nse.csv"),
    )
    .unwrap();
    broker.with(|b| b.instruments = master.clone());
    let config = config_file(&dir, &broker, &token, "");
    let out_file = dir.join("instruments.csv");
    let run = || {
        tickpipe()
            .args(["instruments", "fetch", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(&out_file)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("99 instruments"));
    assert_eq!(std::fs::read(&out_file).unwrap(), master);
    // A broken download is refused and the saved master stays.
    broker.with(|b| b.instruments = b"instrument_token,tradingsymbol\n1\n".to_vec());
    let out = run();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid"));
    assert_eq!(std::fs::read(&out_file).unwrap(), master);
}

#[test]
fn a_synthetic_day_trades_through_the_kite_gateway() {
    // The synthetic day plays at full speed while the broker answers at its own pace,
    // so the remainder timeout is an hour of market time: entries keep the default
    // policy (`cancel`) and the broker fills them first. The broker stamps its answers
    // with its own clock (the wall clock, days after the synthetic day): that must
    // neither fire nor postpone the engine's timers.
    // The day plays faster than the broker answers, so its entries still work when it
    // ends and the engine cancels them: this broker fills them anyway (each fill crosses
    // the cancel, which the engine must book).
    let KiteAccount { dir, broker, token } = account("run");
    broker.with(|b| {
        b.fill_limits = true;
        b.ignore_cancels = true;
    });
    let config = config_file(
        &dir,
        &broker,
        &token,
        "[order]\ngateway = \"kite\"\nalgo_id = \"ALGO42\"\nremainder_timeout_ms = 3600000\n",
    );
    let summary = dir.join("summary.json");
    let out = tickpipe()
        .args([
            "run",
            "--quiet",
            "--no-control",
            "--no-journal",
            "--duration",
            "2h",
            "--config",
        ])
        .arg(&config)
        .arg("--summary-json")
        .arg(&summary)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let fills = v["flow"]["fills"].as_u64().unwrap();
    assert!(
        fills > 0,
        "{}\n{}\n{:#?}",
        v["flow"],
        String::from_utf8_lossy(&out.stderr),
        broker
            .seen()
            .iter()
            .map(|r| (&r.method, &r.path))
            .collect::<Vec<_>>()
    );
    let seen = broker.seen();
    let posts: Vec<&Seen> = seen
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders/regular")
        .collect();
    assert!(!posts.is_empty());
    for post in &posts {
        assert_eq!(post.field("tag"), Some("ALGO42"));
        assert_eq!(post.field("validity"), Some("DAY"));
        assert!(matches!(post.field("exchange"), Some("NSE")), "{post:?}");
        assert!(!post.field("tradingsymbol").unwrap_or_default().is_empty());
        if post.field("order_type") == Some("MARKET") {
            assert!(post.field("market_protection").is_some(), "{post:?}");
        }
    }
    assert!(v["flow"]["orders"].as_u64().unwrap() >= posts.len() as u64 - 1);
    // The broker's positions and book agreed with the gateway all day.
    assert!(broker
        .seen()
        .iter()
        .any(|r| r.path == "/portfolio/positions"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("reconciliation"), "{stderr}");
    // The broker's stamps are its own clock's, days after the synthetic day: the
    // execution latencies are timed by the engine's clock instead, and say so.
    let acked: Vec<&Value> = v["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["execution"])
        .filter(|e| !e["ack_p50_ns"].is_null())
        .collect();
    assert!(!acked.is_empty(), "{:#}", v["strategies"]);
    for e in acked {
        assert_eq!(e["timed_in"], "wall_time", "{e:#}");
        // Not a bound on speed: market time from the intent to this broker's stamp (its
        // wall clock, days after the synthetic day) would say days.
        let ack = e["ack_p50_ns"].as_u64().unwrap();
        assert!(ack > 0 && ack < 86_400_000_000_000, "{e:#}");
    }
}

/// A broker that fills every order (limits included) only `after` it was taken, and
/// the engine's configuration for it: entries wait for their fills. The engine cancels
/// the entries still working when the session ends; this broker fills them anyway
/// (each fill crosses the cancel), so fills come after the end.
struct LateFills {
    /// Held for its removal at the end.
    _dir: Scratch,
    broker: Broker,
    config: PathBuf,
    summary: PathBuf,
}

impl LateFills {
    fn start(name: &str, after: Duration) -> Self {
        let KiteAccount { dir, broker, token } = account(name);
        broker.with(|b| {
            b.fill_limits = true;
            b.fill_after = Some(after);
            b.ignore_cancels = true;
        });
        let config = config_file(
            &dir,
            &broker,
            &token,
            "[order]\ngateway = \"kite\"\nalgo_id = \"ALGO42\"\nentry_remainder = \"wait\"\n",
        );
        let summary = dir.join("summary.json");
        Self {
            _dir: dir,
            broker,
            config,
            summary,
        }
    }

    /// The run: the synthetic day through this broker, its summary written as JSON.
    fn run(&self) -> Command {
        let mut run = tickpipe();
        run.args([
            "run",
            "--quiet",
            "--no-control",
            "--no-journal",
            "--duration",
            "2h",
            "--config",
        ])
        .arg(&self.config)
        .arg("--summary-json")
        .arg(&self.summary);
        run
    }
}

#[test]
fn fills_the_broker_reports_after_the_session_ends_are_booked() {
    // Every order fills at the broker only two seconds (wall time) after it was taken,
    // longer than the synthetic day takes to play: the orders of the day, and the
    // shutdown flatten's exits, are still working when risk ends the venue's session.
    // Entries wait for their fills (`entry_remainder = "wait"`), so they are in flight
    // at the end, and cancelled then; the broker fills them all the same. The order
    // stage keeps polling the gateway while its book holds live orders and risk waits for every in-flight intent's final answer, so the late
    // fills must be booked: the engine's fills and positions are the broker's.
    let late = LateFills::start("late", Duration::from_secs(2));
    let (broker, summary) = (&late.broker, &late.summary);
    let out = late.run().output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    let trades = broker.with(|b| b.trades.len()) as u64;
    assert!(
        trades > 0,
        "the broker filled nothing: {}\n{stderr}",
        v["flow"]
    );
    assert_eq!(
        v["flow"]["fills"].as_u64().unwrap(),
        trades,
        "every fill the broker made is booked: {}\n{stderr}",
        v["flow"]
    );
    let working = broker.with(|b| {
        b.orders
            .iter()
            .filter(|o| o["status"] == "OPEN" || o["status"] == "PUT ORDER REQ RECEIVED")
            .count()
    });
    assert_eq!(working, 0, "the engine stopped with orders working");
    // Risk's book: as many open positions as the broker holds (the summary lists
    // positions by symbol, its units as `net_qty`).
    let nets = broker_nets(broker);
    assert_eq!(
        v["pnl"]["open_positions"].as_u64().unwrap(),
        nets.len() as u64,
        "open positions: engine {} vs broker {nets:?}",
        v["pnl"]
    );
}

#[test]
fn the_shutdown_flattens_exits_are_confirmed_after_the_session_ends() {
    // Stopped (SIGINT) while its entries are in flight, the engine ends the venue's
    // session; the entries fill a second later, and the shutdown flatten
    // (`risk.on_shutdown = "flatten"`, the default) closes the positions they opened
    // with exits that fill a second after that. The run may end only once those exits
    // are confirmed: flat at the broker and in the engine's book.
    let late = LateFills::start("flatten", Duration::from_secs(1));
    let (broker, summary) = (&late.broker, &late.summary);
    let child = late
        .run()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while count(broker, "POST", "/orders/regular") == 0 {
        assert!(start.elapsed() < PATIENCE, "no order reached the broker");
        std::thread::sleep(Duration::from_millis(2));
    }
    let entries_filled = broker.with(|b| b.trades.len());
    assert_eq!(entries_filled, 0, "filled before the stop");
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    let sells = broker.with(|b| {
        b.orders
            .iter()
            .filter(|o| o["transaction_type"] == "SELL" && o["status"] == "COMPLETE")
            .count()
    });
    let buys = broker.with(|b| {
        b.orders
            .iter()
            .filter(|o| o["transaction_type"] == "BUY" && o["status"] == "COMPLETE")
            .count()
    });
    assert!(
        buys > 0 && sells > 0,
        "entries and the flatten's exits filled: {buys} buys, {sells} sells\n{}\n{stderr}",
        v["flow"]
    );
    let trades = broker.with(|b| b.trades.len()) as u64;
    assert_eq!(
        v["flow"]["fills"].as_u64().unwrap(),
        trades,
        "every fill the broker made is booked: {}\n{stderr}",
        v["flow"]
    );
    assert_eq!(
        broker_nets(broker),
        Default::default(),
        "flat at the broker"
    );
    assert_eq!(
        v["pnl"]["open_positions"].as_u64().unwrap(),
        0,
        "flat in the engine: {}",
        v["pnl"]
    );
}

#[test]
fn the_example_configuration_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/live-kite.example.toml");
    let config = tickpipe::engine::EngineConfig::from_file(&path).unwrap();
    assert_eq!(config.order.gateway, GatewayKind::Kite);
    assert_eq!(config.order.kite.base_url, "https://api.kite.trade");
}

/// What the gateway handed over besides reports: alerts, and broker notices for the
/// risk stage. Reads as its alerts.
#[derive(Debug, Default)]
struct Heard {
    alerts: Vec<Alert>,
    notices: Vec<BrokerNotice>,
}

impl std::ops::Deref for Heard {
    type Target = [Alert];

    fn deref(&self) -> &[Alert] {
        &self.alerts
    }
}

impl Heard {
    fn take(&mut self, gw: &mut KiteGateway) {
        gw.alerts(&mut |a| self.alerts.push(a));
        gw.broker_notices(&mut |n| self.notices.push(n));
    }
}

/// Waits until `done` holds, polling the gateway's reports, alerts and notices
/// meanwhile.
fn settle(
    gw: &mut KiteGateway,
    got: &mut Vec<VenueReport>,
    heard: &mut Heard,
    what: &str,
    done: impl Fn(&[VenueReport], &Heard) -> bool,
) {
    let start = Instant::now();
    loop {
        gw.poll(&mut |r| got.push(r));
        heard.take(gw);
        if done(got, heard) {
            heard.take(gw);
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "waiting for {what}; got {got:#?}\nheard {heard:#?}\n{:?}",
            gw.health().differences()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn reconciling(broker: &Broker, token: &Path, secs: u64) -> OrderConfig {
    let mut config = order_config(broker, token);
    config.kite.reconcile_secs = secs;
    config
}

#[test]
fn matching_books_raise_no_alert() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("recon-clean");
    let mut gw = KiteGateway::start(&reconciling(&broker, &token, 1), &table()).unwrap();
    let (mut got, mut alerts) = (Vec::new(), Heard::default());
    gw.submit(&order(1, OrderType::Market, 10, Price::ZERO), &mut |r| {
        got.push(r)
    });
    let mut sell = order(2, OrderType::Market, 4, Price::ZERO);
    sell.side = Side::Sell;
    gw.submit(&sell, &mut |r| got.push(r));
    settle(&mut gw, &mut got, &mut alerts, "both fills", |g, _| {
        events(g, id(1)).contains(&VenueEvent::Fill) && events(g, id(2)).contains(&VenueEvent::Fill)
    });
    let health = gw.health();
    // Two whole checks after the fills (a check's alerts go out before the next one
    // counts).
    let after_fills = health.reconciliations.get();
    settle(&mut gw, &mut got, &mut alerts, "two more checks", |_, _| {
        health.reconciliations.get() >= after_fills + 3
    });
    assert!(alerts.is_empty(), "{alerts:#?}");
    assert_eq!(health.reconcile_mismatches.get(), 0);
    assert_eq!(health.reconcile_errors.get(), 0);
    assert!(health.differences().is_empty());
    assert!(count(&broker, "GET", "/portfolio/positions") >= 3);
    // The start check read the broker before the first order went out.
    let seen = broker.seen();
    let first_position = seen
        .iter()
        .position(|r| r.path == "/portfolio/positions")
        .unwrap();
    let first_post = seen.iter().position(|r| r.method == "POST").unwrap();
    assert!(first_position < first_post);
}

#[test]
fn a_position_the_engine_does_not_hold_is_reported_at_start() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("recon-start");
    broker.with(|b| {
        b.extra_positions = vec![
            priced(position_row("NSE", "SBIN", "MIS", 25), 420.5),
            position_row("NSE", "TCS", "MIS", -5),
            // Not a product the engine trades: not compared.
            position_row("NSE", "INFY", "CNC", 100),
        ];
    });
    // 0: only the check at start.
    let mut gw = KiteGateway::start(&reconciling(&broker, &token, 0), &table()).unwrap();
    let (mut got, mut alerts) = (Vec::new(), Heard::default());
    settle(
        &mut gw,
        &mut got,
        &mut alerts,
        "the start's alert and notice",
        |_, h| !h.alerts.is_empty() && !h.notices.is_empty(),
    );
    // SBIN is the engine's: its position goes to the risk stage, which alerts it.
    assert_eq!(
        alerts.notices,
        [BrokerNotice::Position(BrokerPosition {
            instrument: InstrumentId(0),
            net: 25,
            avg_price: "420.5".parse().unwrap(),
        })]
    );
    // TCS is no instrument of the engine's: the gateway alerts it.
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].kind, "reconcile_mismatch");
    assert_eq!(alerts[0].level, AlertLevel::Critical);
    assert!(alerts[0].detail.contains("day position"), "{:?}", alerts[0]);
    assert_eq!(alerts[0].instrument, None);
    let health = gw.health();
    assert_eq!(health.reconciliations.get(), 1);
    assert_eq!(health.reconcile_mismatches.get(), 2);
    assert_eq!(
        health.differences(),
        [
            "position NSE:SBIN: broker 25, engine 0",
            "position NSE:TCS: broker -5, engine 0"
        ]
    );
    // Only at start: no further check, nothing repeated.
    std::thread::sleep(Duration::from_millis(200));
    settle(&mut gw, &mut got, &mut alerts, "nothing", |_, _| true);
    assert_eq!((alerts.len(), alerts.notices.len()), (1, 1));
    assert_eq!(count(&broker, "GET", "/portfolio/positions"), 1);
}

/// `row` with its average price set to `price`.
fn priced(mut row: Value, price: f64) -> Value {
    row["average_price"] = json!(price);
    row
}

#[test]
fn a_fill_the_engine_missed_is_reported_once_it_persists() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("recon-missed");
    // The broker fills the order, but its trades never reach the gateway.
    broker.with(|b| b.hide_trades = true);
    let mut gw = KiteGateway::start(&reconciling(&broker, &token, 1), &table()).unwrap();
    let (mut got, mut alerts) = (Vec::new(), Heard::default());
    let health = gw.health();
    settle(&mut gw, &mut got, &mut alerts, "the start check", |_, _| {
        health.reconciliations.get() >= 1
    });
    gw.submit(&order(1, OrderType::Market, 10, Price::ZERO), &mut |r| {
        got.push(r)
    });
    settle(&mut gw, &mut got, &mut alerts, "the notice", |_, h| {
        !h.notices.is_empty()
    });
    assert!(
        !events(&got, id(1)).contains(&VenueEvent::Fill),
        "the fill was never reported"
    );
    // The broker's position goes to the risk stage, which alerts it; the gateway does
    // not alert it a second time.
    assert!(matches!(
        alerts.notices[..],
        [BrokerNotice::Position(BrokerPosition {
            instrument: InstrumentId(0),
            net: 10,
            ..
        })]
    ));
    assert!(alerts.is_empty(), "{alerts:#?}");
    // Start, the check that first saw it, the one that confirmed it.
    assert!(health.reconciliations.get() >= 3);
    assert_eq!(
        health.differences(),
        ["position NSE:SBIN: broker 10, engine 0"]
    );
    // Later checks find the same difference: no second alert.
    let seen_at = health.reconciliations.get();
    settle(&mut gw, &mut got, &mut alerts, "two more checks", |_, _| {
        health.reconciliations.get() >= seen_at + 3
    });
    assert_eq!(alerts.notices.len(), 1, "{alerts:#?}");
    assert!(alerts.is_empty());
    assert_eq!(health.reconcile_mismatches.get(), 1);
}

#[test]
fn an_order_the_engine_does_not_know_is_reported() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("recon-order");
    broker.with(|b| {
        // A stop-loss order placed from another app, waiting for its trigger.
        let mut other = fixture("orders.json")["data"][1].clone();
        other["order_id"] = json!("220000000000001");
        other["status"] = json!("TRIGGER PENDING");
        other["exchange"] = json!("NSE");
        other["tradingsymbol"] = json!("SBIN");
        other["order_type"] = json!("SL-M");
        other["transaction_type"] = json!("SELL");
        other["product"] = json!("MIS");
        other["quantity"] = json!(30);
        other["filled_quantity"] = json!(0);
        b.orders.push(other);
    });
    let mut gw = KiteGateway::start(&reconciling(&broker, &token, 1), &table()).unwrap();
    let (mut got, mut alerts) = (Vec::new(), Heard::default());
    settle(&mut gw, &mut got, &mut alerts, "the alert", |_, a| {
        !a.is_empty()
    });
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].instrument, Some(InstrumentId(0)));
    assert!(alerts[0].detail.contains("order the engine does not know"));
    assert_eq!(
        gw.health().differences(),
        ["unknown_broker_order NSE:SBIN: broker -30, engine 0 (order 220000000000001)"]
    );
}

#[test]
fn a_placement_whose_answer_is_lost_is_adopted_not_sent_again() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("lost-answer");
    broker.with(|b| b.script.push_back(Script::DropAfterPlacing));
    let mut gw = KiteGateway::start(&reconciling(&broker, &token, 1), &table()).unwrap();
    let (mut got, mut alerts) = (Vec::new(), Heard::default());
    gw.submit(&order(1, OrderType::Market, 10, Price::ZERO), &mut |r| {
        got.push(r)
    });
    settle(&mut gw, &mut got, &mut alerts, "the fill", |g, _| {
        events(g, id(1)).contains(&VenueEvent::Fill)
    });
    assert_eq!(
        count(&broker, "POST", "/orders/regular"),
        1,
        "not sent again"
    );
    assert_eq!(broker.with(|b| b.orders.len()), 1);
    let health = gw.health();
    assert_eq!(health.outcome_unknown.get(), 1);
    assert_eq!(health.adopted.get(), 1);
    assert_eq!(health.replaced.get(), 0);
    // The adopted order is the engine's: the books agree.
    let now = health.reconciliations.get();
    settle(&mut gw, &mut got, &mut alerts, "two more checks", |_, _| {
        health.reconciliations.get() >= now + 3
    });
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn a_placement_lost_before_kite_took_it_is_sent_once_more() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("lost-request");
    broker.with(|b| b.script.push_back(Script::DropBeforePlacing));
    let mut gw = KiteGateway::start(&order_config(&broker, &token), &table()).unwrap();
    let (mut got, mut alerts) = (Vec::new(), Heard::default());
    gw.submit(&order(1, OrderType::Market, 10, Price::ZERO), &mut |r| {
        got.push(r)
    });
    settle(&mut gw, &mut got, &mut alerts, "the fill", |g, _| {
        events(g, id(1)).contains(&VenueEvent::Fill)
    });
    assert_eq!(count(&broker, "POST", "/orders/regular"), 2);
    assert_eq!(
        broker.with(|b| b.orders.len()),
        1,
        "one order at the broker"
    );
    let health = gw.health();
    assert_eq!(
        (
            health.outcome_unknown.get(),
            health.adopted.get(),
            health.replaced.get()
        ),
        (1, 0, 1)
    );
    assert_eq!(
        events(&got, id(1)),
        [VenueEvent::Accepted, VenueEvent::Fill]
    );
}

/// A Kite Ticker client of `server`, subscribed to SBIN, reading `token`.
fn ticker(server: &Relay, token: &Path) -> KiteTicker {
    let config = KiteConfig {
        url: server.url(),
        api_key: API_KEY.to_owned(),
        access_token_file: Some(token.to_owned()),
        stale_after: "60s".to_owned(),
        connect_timeout: "5s".to_owned(),
        reconnect_initial: "10ms".to_owned(),
        reconnect_max: "50ms".to_owned(),
        ..KiteConfig::default()
    };
    KiteTicker::start(
        TickerSettings::from_config(&config, vec![(779_521, InstrumentId(0))], 1).unwrap(),
    )
    .unwrap()
}

/// Kite's postback fixture as an update of order `kite_id`: `status`, `filled` of
/// `quantity` at an `average` price, placed with `tag`.
fn postback(
    kite_id: &str,
    status: &str,
    filled: u32,
    quantity: u32,
    average: f64,
    tag: &str,
) -> Value {
    let mut p = fixture("postback.json");
    p["order_id"] = json!(kite_id);
    p["status"] = json!(status);
    p["order_type"] = json!("LIMIT");
    p["product"] = json!("MIS");
    p["quantity"] = json!(quantity);
    p["filled_quantity"] = json!(filled);
    p["pending_quantity"] = json!(quantity - filled);
    p["unfilled_quantity"] = json!(quantity - filled);
    p["average_price"] = json!(average);
    p["tag"] = json!(tag);
    p
}

/// Polls the gateway's reports until `done` holds of its health.
fn wait_health(
    gw: &mut KiteGateway,
    got: &mut Vec<VenueReport>,
    what: &str,
    done: impl Fn(&tickpipe::order::kite::GatewayHealth) -> bool,
) {
    let health = gw.health();
    let start = Instant::now();
    loop {
        gw.poll(&mut |r| got.push(r));
        if done(&health) {
            gw.poll(&mut |r| got.push(r));
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "waiting for {what}; got {got:#?}\n{health:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// (units, price) of each fill of `order`.
fn fills(got: &[VenueReport], order: ClientOrderId) -> Vec<(u32, String)> {
    got.iter()
        .filter(|r| r.order == order && r.event == VenueEvent::Fill)
        .map(|r| (r.last_qty.get(), r.last_price.to_string()))
        .collect()
}

fn kite_id_of_first_order(broker: &Broker) -> String {
    broker.book.lock().unwrap().orders[0]["order_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A Kite gateway that hears postbacks from a loopback Ticker, with order 1 (`qty` at
/// the limit `limit`) resting OPEN at the loopback broker, and what the test needs of
/// the setup. Fields drop in the order a test declaring them one by one would drop them.
struct Resting {
    _dir: Scratch,
    broker: Broker,
    server: Relay,
    feed: KiteTicker,
    gw: KiteGateway,
    got: Vec<VenueReport>,
    kite_id: String,
}

fn resting_order(name: &str, qty: u32, limit: &str) -> Resting {
    let KiteAccount { dir, broker, token } = account(name);
    let server = Relay::start();
    let mut feed = ticker(&server, &token);
    let config = order_config(&broker, &token);
    let mut gw =
        KiteGateway::start_with_postbacks(&config, &table(), feed.take_postbacks()).unwrap();
    let mut got = Vec::new();
    let limit: Price = limit.parse().unwrap();
    gw.submit(&order(1, OrderType::Limit, qty, limit), &mut |r| {
        got.push(r)
    });
    wait(&mut gw, &mut got, "the order open", |g| {
        events(g, id(1)).contains(&VenueEvent::Accepted)
    });
    let kite_id = kite_id_of_first_order(&broker);
    Resting {
        _dir: dir,
        broker,
        server,
        feed,
        gw,
        got,
        kite_id,
    }
}

#[test]
fn a_ticker_postback_reports_a_fill_before_the_order_book_and_only_once() {
    // A limit order rests: the book shows it OPEN, with no trade, until the test says.
    let Resting {
        _dir,
        broker,
        server,
        feed,
        mut gw,
        mut got,
        kite_id,
    } = resting_order("postback-early", 5, "500.00");
    let health = gw.health();

    // 2 of the 5 filled, says the Ticker; the book still says OPEN.
    server.postback(postback(&kite_id, "UPDATE", 2, 5, 500.0, "ALGO42"));
    wait(&mut gw, &mut got, "the postback's fill", |g| {
        !fills(g, id(1)).is_empty()
    });
    assert_eq!(fills(&got, id(1)), [(2, "500.00".to_owned())]);
    {
        let book = broker.book.lock().unwrap();
        assert!(book.trades.is_empty(), "the fill came from the postback");
        assert_eq!(book.orders[0]["status"], "OPEN");
    }

    // The same postback again, and one about an order of another app.
    server.postback(postback(&kite_id, "UPDATE", 2, 5, 500.0, "ALGO42"));
    server.postback(postback("151299999999999", "COMPLETE", 7, 7, 99.5, ""));
    wait_health(
        &mut gw,
        &mut got,
        "the repeat and the foreign postback",
        |h| h.postbacks.get() == 2 && h.postbacks_foreign.get() == 1,
    );
    assert_eq!(
        fills(&got, id(1)).len(),
        1,
        "a repeated postback fills nothing"
    );

    // Now the exchange fills the order: the book shows one trade of all 5 units. The
    // poll reports the 3 the postback had not, never the 2 again.
    broker.book.lock().unwrap().fill_limits = true;
    wait_health(&mut gw, &mut got, "the order done", |h| {
        h.working.get() == 0
    });
    assert_eq!(
        fills(&got, id(1)),
        [(2, "500.00".to_owned()), (3, "500.00".to_owned())]
    );
    assert_eq!(broker.book.lock().unwrap().trades.len(), 1);

    // The Ticker's COMPLETE arrives after the poll's: late, ignored.
    server.postback(postback(&kite_id, "COMPLETE", 5, 5, 500.0, "ALGO42"));
    wait_health(&mut gw, &mut got, "the late postback", |h| {
        h.postbacks_late.get() == 1
    });
    let total: u32 = fills(&got, id(1)).iter().map(|(q, _)| q).sum();
    assert_eq!(total, 5);
    assert_eq!(
        events(&got, id(1)),
        [VenueEvent::Accepted, VenueEvent::Fill, VenueEvent::Fill]
    );
    assert_eq!(
        (
            health.fills.get(),
            health.postback_fills.get(),
            health.postbacks.get(),
            health.postbacks_foreign.get(),
        ),
        (2, 1, 2, 1)
    );
    // The ticker counts a postback's arrival once its fate is decided.
    let start = Instant::now();
    while feed.health().counters().order_updates < 4 {
        assert!(start.elapsed() < PATIENCE, "{:?}", feed.health().counters());
        std::thread::sleep(Duration::from_millis(2));
    }
    let counters = feed.health().counters();
    assert_eq!(
        (
            counters.order_updates,
            counters.postbacks_forwarded,
            counters.postbacks_dropped
        ),
        (4, 4, 0)
    );
}

#[test]
fn a_complete_postback_ends_the_order_and_a_later_poll_adds_nothing() {
    let Resting {
        _dir,
        broker,
        server,
        feed: _feed,
        mut gw,
        mut got,
        kite_id,
    } = resting_order("postback-complete", 4, "420.05");
    let limit: Price = "420.05".parse().unwrap();
    let health = gw.health();
    server.postback(postback(&kite_id, "COMPLETE", 4, 4, 420.05, "ALGO42"));
    wait_health(&mut gw, &mut got, "the order done", |h| {
        h.postbacks.get() == 1 && h.working.get() == 0
    });
    assert_eq!(fills(&got, id(1)), [(4, "420.05".to_owned())]);
    assert!(broker.book.lock().unwrap().trades.is_empty());

    // The book catches up (COMPLETE, one trade of 4) while a second order works, so
    // the gateway reads the trades again: the first order's trade adds nothing.
    broker.book.lock().unwrap().fill_limits = true;
    gw.submit(&order(2, OrderType::Limit, 3, limit), &mut |r| got.push(r));
    wait_health(
        &mut gw,
        &mut got,
        "the second order filled by the poll",
        |h| h.fills.get() == 2 && h.working.get() == 0,
    );
    assert_eq!(broker.book.lock().unwrap().trades.len(), 2);
    assert_eq!(fills(&got, id(2)), [(3, "420.05".to_owned())]);
    assert_eq!(fills(&got, id(1)), [(4, "420.05".to_owned())]);
    assert_eq!(health.postback_fills.get(), 1);
}

#[test]
fn a_rejection_by_postback_is_reported_with_its_reason() {
    let Resting {
        _dir,
        broker: _broker,
        server,
        feed: _feed,
        mut gw,
        mut got,
        kite_id,
    } = resting_order("postback-reject", 5, "500.00");
    let mut p = postback(&kite_id, "REJECTED", 0, 5, 0.0, "ALGO42");
    p["status_message"] = json!("RMS:Margin Exceeds,Required:2500.00, Available:100.00");
    server.postback(p);
    wait(&mut gw, &mut got, "the rejection", |g| {
        events(g, id(1)).contains(&VenueEvent::Rejected)
    });
    let rejected = got
        .iter()
        .find(|r| r.event == VenueEvent::Rejected)
        .unwrap();
    assert_eq!(rejected.reject, RejectReason::Margin);
    assert_eq!(gw.health().rejected.get(), 1);
}

// ----- reconciliation into the risk stage ----------------------------------------------

/// A risk stage alone, with `policy`: the test plays signal stage and order stage.
struct Risk {
    stage: tickpipe::risk::RiskStage,
    signals: tickpipe_ringbuf::Producer<tickpipe::model::RiskInput>,
    reports: tickpipe_ringbuf::Producer<tickpipe::model::OrderOutput>,
    orders: tickpipe_ringbuf::Consumer<tickpipe::model::OrderInput>,
}

impl Risk {
    fn new(policy: tickpipe::risk::ReconcilePolicy) -> Risk {
        let config = tickpipe::risk::RiskConfig {
            reconcile: policy,
            ..tickpipe::risk::RiskConfig::default()
        };
        let (signals, input) = tickpipe_ringbuf::channel(64);
        let (reports, from_order) = tickpipe_ringbuf::channel(64);
        let (out, orders) = tickpipe_ringbuf::channel(64);
        let stage = tickpipe::risk::RiskStage::new(
            &config,
            &table(),
            1,
            input,
            from_order,
            tickpipe::runtime::Outbox::new(out),
            tickpipe::runtime::LatencyClock::new(),
            std::sync::Arc::new(tickpipe::metrics::Telemetry::default()),
            false,
        );
        Risk {
            stage,
            signals,
            reports,
            orders,
        }
    }

    /// Hands the gateway's notices over as the order stage does, and polls until idle.
    fn take(&mut self, notices: &[BrokerNotice]) {
        for n in notices {
            self.reports
                .try_push(tickpipe::model::OrderOutput::Broker(*n))
                .unwrap();
        }
        self.run();
    }

    fn run(&mut self) {
        use tickpipe::runtime::{Poll, Stage};
        for _ in 0..100 {
            if !matches!(self.stage.poll(), Poll::Work(_)) {
                break;
            }
        }
    }

    /// Intents sent to the order stage so far.
    fn intents(&mut self) -> usize {
        std::iter::from_fn(|| self.orders.try_pop().ok())
            .filter(|o| matches!(o, tickpipe::model::OrderInput::Intent(_)))
            .count()
    }
}

fn holding(net: Vec<i64>, book_follows_broker: bool) -> tickpipe::order::kite::EngineHoldings {
    tickpipe::order::kite::EngineHoldings {
        net,
        book_follows_broker,
        take_over: Vec::new(),
    }
}

#[test]
fn a_position_difference_reaches_the_risk_book_and_a_halt_policy_halts_entries() {
    use tickpipe::{
        model::{Date, Direction, Signal, Stamp, StrategyId, TimeOfDay, TradingState},
        risk::{ReconcilePolicy, Refusal},
    };
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("recon-risk");
    broker
        .with(|b| b.extra_positions = vec![priced(position_row("NSE", "SBIN", "MIS", 25), 420.5)]);
    let mut config = reconciling(&broker, &token, 1);
    config.kite.reconcile = tickpipe::order::kite::ReconcilePolicy::Halt;
    // `risk.reconcile = "adopt"`: the gateway counts on from the broker's quantity.
    let mut gw = KiteGateway::start_with(&config, &table(), None, holding(vec![], true)).unwrap();
    let (mut got, mut heard) = (Vec::new(), Heard::default());
    settle(&mut gw, &mut got, &mut heard, "the notices", |_, h| {
        h.notices.len() >= 2
    });
    let position = BrokerPosition {
        instrument: InstrumentId(0),
        net: 25,
        avg_price: "420.5".parse().unwrap(),
    };
    assert_eq!(
        heard.notices,
        [BrokerNotice::Position(position), BrokerNotice::Halt]
    );
    assert!(
        heard.is_empty(),
        "the risk stage alerts, not the gateway: {heard:#?}"
    );
    // The engine took the broker's 25: nothing stands, and later checks find nothing.
    let health = gw.health();
    assert!(health.differences().is_empty());
    let seen_at = health.reconciliations.get();
    settle(&mut gw, &mut got, &mut heard, "two more checks", |_, _| {
        health.reconciliations.get() >= seen_at + 2
    });
    assert_eq!(heard.notices.len(), 2, "{heard:#?}");
    assert!(health.differences().is_empty());

    // The risk stage: the book takes the broker's position, and entries halt.
    let mut risk = Risk::new(ReconcilePolicy::Adopt);
    risk.take(&heard.notices);
    let sbin = *risk.stage.book().position(InstrumentId(0));
    assert_eq!((sbin.net(), sbin.avg_price()), (25, position.avg_price));
    assert_eq!(risk.stage.trading_state(), TradingState::Halted);
    let ts = UnixNanos::from_ist(Date::new(2026, 6, 1), TimeOfDay::hm(10, 0));
    risk.signals
        .try_push(tickpipe::model::RiskInput::Signal(Signal {
            exchange_ts: ts,
            ingress: Stamp(0),
            price: "420".parse().unwrap(),
            stop: "410".parse().unwrap(),
            target: Price::ZERO,
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            direction: Direction::Long,
            weight_pct: Signal::FULL_WEIGHT,
        }))
        .unwrap();
    risk.run();
    assert_eq!(risk.intents(), 0);
    assert_eq!(risk.stage.refusals(Refusal::Halted), 1);

    // With `alert` (the default) the book stays, trading goes on, and the gateway's
    // difference stands.
    let mut risk = Risk::new(ReconcilePolicy::Alert);
    risk.take(&heard.notices[..1]);
    assert_eq!(risk.stage.book().position(InstrumentId(0)).net(), 0);
    assert_eq!(risk.stage.trading_state(), TradingState::Active);
}

#[test]
fn a_restart_counts_from_what_the_journal_booked() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("recon-restart");
    // Before the restart the engine bought 25 SBIN; the broker holds them.
    broker.with(|b| b.extra_positions = vec![position_row("NSE", "SBIN", "MIS", 25)]);
    let config = reconciling(&broker, &token, 1);

    // Seeded with the journal's 25: the books agree, at start and after.
    let mut gw =
        KiteGateway::start_with(&config, &table(), None, holding(vec![25], false)).unwrap();
    let (mut got, mut heard) = (Vec::new(), Heard::default());
    let health = gw.health();
    settle(&mut gw, &mut got, &mut heard, "three checks", |_, _| {
        health.reconciliations.get() >= 3
    });
    assert!(heard.is_empty() && heard.notices.is_empty(), "{heard:#?}");
    assert_eq!(health.reconcile_mismatches.get(), 0);
    assert!(health.differences().is_empty());
    drop(gw);

    // Seeded with 10 (the broker has 15 the engine never booked): one difference.
    let mut gw =
        KiteGateway::start_with(&config, &table(), None, holding(vec![10], false)).unwrap();
    let (mut got, mut heard) = (Vec::new(), Heard::default());
    let health = gw.health();
    settle(&mut gw, &mut got, &mut heard, "the notice", |_, h| {
        !h.notices.is_empty()
    });
    let seen_at = health.reconciliations.get();
    settle(&mut gw, &mut got, &mut heard, "two more checks", |_, _| {
        health.reconciliations.get() >= seen_at + 2
    });
    assert!(matches!(
        heard.notices[..],
        [BrokerNotice::Position(BrokerPosition {
            instrument: InstrumentId(0),
            net: 25,
            ..
        })]
    ));
    assert!(heard.is_empty(), "{heard:#?}");
    assert_eq!(health.reconcile_mismatches.get(), 1);
    assert_eq!(
        health.differences(),
        ["position NSE:SBIN: broker 25, engine 10"]
    );
}

// ----- the end of the session --------------------------------------------------------

/// A broker that fills nothing (its orders open and rest), and two hours of the
/// synthetic day through it whose entries wait at the broker (`entry_remainder =
/// "wait"`): entries are resting when the run's duration is up.
struct RestingEntries {
    /// Held for its removal at the end.
    _dir: Scratch,
    broker: Broker,
    config: PathBuf,
    summary: PathBuf,
}

impl RestingEntries {
    fn start(name: &str, order: &str) -> Self {
        let KiteAccount { dir, broker, token } = account(name);
        broker.with(|b| b.fill_none = true);
        let config = config_file(
            &dir,
            &broker,
            &token,
            &format!(
                "[order]\ngateway = \"kite\"\nalgo_id = \"ALGO42\"\nentry_remainder = \"wait\"\n{order}"
            ),
        );
        let summary = dir.join("summary.json");
        Self {
            _dir: dir,
            broker,
            config,
            summary,
        }
    }

    /// Runs two hours of the synthetic day and waits for the process to end by itself
    /// (killed, and the test failed, if it has not after a generous wait).
    fn run(&self) -> std::process::Output {
        self.run_with(&["--duration", "2h"])
    }

    /// As [`RestingEntries::run`], with `extra` arguments in place of `--duration 2h`.
    fn run_with(&self, extra: &[&str]) -> std::process::Output {
        let mut child = tickpipe()
            .args(["run", "--quiet", "--no-control", "--no-journal"])
            .args(extra)
            .arg("--config")
            .arg(&self.config)
            .arg("--summary-json")
            .arg(&self.summary)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > 4 * PATIENCE {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "the run did not end by itself:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    /// How many of the broker's orders are in each status.
    fn statuses(&self) -> std::collections::BTreeMap<String, usize> {
        let mut seen = std::collections::BTreeMap::new();
        self.broker.with(|b| {
            for o in &b.orders {
                *seen
                    .entry(o["status"].as_str().unwrap().to_owned())
                    .or_insert(0) += 1;
            }
        });
        seen
    }
}

#[test]
fn entries_resting_at_the_broker_at_the_end_are_cancelled_and_the_run_ends() {
    let resting = RestingEntries::start("end-cancel", "");
    let out = resting.run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let statuses = resting.statuses();
    let cancelled = statuses.get("CANCELLED").copied().unwrap_or(0);
    assert!(
        cancelled > 0,
        "entries rested until the end: {statuses:?}\n{stderr}"
    );
    assert_eq!(
        statuses.keys().collect::<Vec<_>>(),
        ["CANCELLED"],
        "every order was cancelled, none works on: {statuses:?}"
    );
    let deletes = resting.broker.with(|b| {
        b.seen
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.starts_with("/orders/regular/"))
            .count()
    });
    assert_eq!(deletes, cancelled, "one cancel each");
    // The engine's summary agrees: the entries ended unfilled, nothing is open.
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&resting.summary).unwrap()).unwrap();
    assert_eq!(v["flow"]["fills"].as_u64(), Some(0), "{}", v["flow"]);
    assert_eq!(
        v["flow"]["orders"].as_u64(),
        Some(cancelled as u64),
        "{}",
        v["flow"]
    );
    assert_eq!(v["pnl"]["open_positions"].as_u64(), Some(0), "{}", v["pnl"]);
    assert!(!stderr.contains("end_cancel_timeout"), "{stderr}");
}

#[test]
fn a_broker_that_never_confirms_the_cancels_is_left_after_the_bound() {
    let resting = RestingEntries::start("end-cancel-lost", "end_cancel_secs = 1\n");
    resting.broker.with(|b| b.ignore_cancels = true);
    let out = resting.run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "orders left working are an error: {stderr}"
    );
    assert!(stderr.contains("end_cancel_timeout"), "{stderr}");
    assert!(stderr.contains("left working at the broker"), "{stderr}");
    assert!(stderr.contains("order.end_cancel_secs"), "{stderr}");
    // The run's error is the order stage's own, not risk's echo of it.
    assert!(stderr.contains("the order stage stopped early"), "{stderr}");
    assert!(!stderr.contains("the risk stage stopped early"), "{stderr}");
    let statuses = resting.statuses();
    assert!(
        statuses.get("OPEN").copied().unwrap_or(0) > 0,
        "{statuses:?}"
    );
    // Each was asked to be cancelled, once.
    let deletes = resting.broker.with(|b| {
        b.seen
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.starts_with("/orders/regular/"))
            .count()
    });
    assert_eq!(
        deletes,
        resting.broker.with(|b| b.orders.len()),
        "{statuses:?}"
    );
}

#[test]
fn under_leave_the_run_ends_and_leaves_its_protective_stops_at_the_broker() {
    // `protective_stop = true` keeps an SL-M at the broker on every open position, and
    // `risk.on_shutdown = "leave"` leaves the positions open when `--duration` is up:
    // their stops stay resting at the broker (this one never triggers them), the run
    // ends by itself, exits 0, and names each stop it left.
    let resting = RestingEntries::start(
        "leave-stops",
        "protective_stop = true\nremainder_timeout_ms = 3600000\n[risk]\non_shutdown = \"leave\"\n",
    );
    resting.broker.with(|b| {
        b.fill_none = false;
        b.fill_limits = true;
    });
    // Paced, so that the broker fills the entries while the day trades (at full speed
    // the day would end before it answers them).
    let out = resting.run_with(&["--duration", "1h", "--speed", "200"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&resting.summary).unwrap()).unwrap();
    let stops = &v["protective_stops"];
    let open = v["pnl"]["open_positions"].as_u64().unwrap();
    assert!(open > 0, "positions were open at the end: {}", v["pnl"]);
    // At the broker: one SL-M waiting for its trigger per open position.
    let at_broker: Vec<(String, String, String, u64, f64)> = resting.broker.with(|b| {
        b.orders
            .iter()
            .filter(|o| o["order_type"] == "SL-M" && o["status"] == "TRIGGER PENDING")
            .map(|o| {
                (
                    o["order_id"].as_str().unwrap().to_owned(),
                    o["tradingsymbol"].as_str().unwrap().to_owned(),
                    o["transaction_type"].as_str().unwrap().to_owned(),
                    o["quantity"].as_u64().unwrap(),
                    o["trigger_price"].as_f64().unwrap(),
                )
            })
            .collect()
    });
    // Each guards a position open at the broker, on its closing side, for its units
    // (a position an entry opened by a fill that crossed the end's cancel has none:
    // nothing is placed after the end).
    let nets = broker_nets(&resting.broker);
    assert!(!at_broker.is_empty(), "{stops}\n{nets:?}");
    for (_, symbol, side, qty, _) in &at_broker {
        let guarded = if side == "SELL" {
            *qty as i64
        } else {
            -(*qty as i64)
        };
        assert_eq!(
            nets.get(symbol).copied(),
            Some(guarded),
            "{at_broker:?}\n{nets:?}"
        );
    }
    assert!(
        at_broker.len() as u64 <= open,
        "{at_broker:?}\n{}",
        v["pnl"]
    );
    // The summary names each, with the broker's order id.
    assert_eq!(stops["left"].as_u64(), Some(open), "{stops}");
    let mut named: Vec<(String, String, String, u64, f64)> = stops["left_resting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["order_id"].as_str().unwrap_or("unknown").to_owned(),
                s["instrument"].as_str().unwrap().to_owned(),
                s["side"].as_str().unwrap().to_owned(),
                s["qty"].as_u64().unwrap(),
                s["trigger"].as_str().unwrap().parse::<f64>().unwrap(),
            )
        })
        .collect();
    let mut expected = at_broker.clone();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(named, expected, "{stops}");
    assert!(
        stderr.contains("protective stop left resting at the broker"),
        "{stderr}"
    );
    // Nothing was asked to cancel them.
    let deleted: Vec<String> = resting.broker.with(|b| {
        b.seen
            .iter()
            .filter(|r| r.method == "DELETE")
            .map(|r| r.path["/orders/regular/".len()..].to_owned())
            .collect()
    });
    assert!(
        at_broker.iter().all(|s| !deleted.contains(&s.0)),
        "{deleted:?}"
    );
}

/// The intents of the day's journal `dir` (the risk stage's, across every run of the
/// day), counted by symbol, Kite side and quantity.
fn journal_intents(dir: &Path) -> std::collections::BTreeMap<(String, String, u32), usize> {
    use tickpipe::journal::{JournalReader, Manifest, Record};
    let manifest = Manifest::read(dir)
        .expect("the manifest reads")
        .expect("the day has a manifest");
    let reader = JournalReader::open(dir).expect("the day's journal opens");
    let mut intents = std::collections::BTreeMap::new();
    for entry in reader.records_of("risk") {
        let entry = entry.expect("every record is intact");
        if let Record::Intent(i) = entry.record {
            let side = match i.side {
                Side::Buy => "BUY",
                Side::Sell => "SELL",
            };
            let key = (
                manifest.instruments[i.instrument.index()].clone(),
                side.to_owned(),
                i.qty.get(),
            );
            *intents.entry(key).or_insert(0) += 1;
        }
    }
    intents
}

#[test]
fn a_resumed_day_does_not_place_its_orders_at_the_broker_again() {
    // A Kite day, journaled, killed (SIGKILL) once the broker has filled some of its
    // orders, and started again with the same command: the restart rebuilds the day
    // from its journal, and the intents it makes again while it catches up must not
    // reach the broker a second time (the broker holds their orders already). The
    // resumed day then makes the same records as the journal holds and trades on.
    use std::io::{BufRead, BufReader};
    let KiteAccount { dir, broker, token } = account("resume");
    broker.with(|b| b.fill_limits = true);
    let config = config_file(
        &dir,
        &broker,
        &token,
        "[order]\ngateway = \"kite\"\nalgo_id = \"ALGO42\"\nremainder_timeout_ms = 3600000\n",
    );
    let journal = dir.join("journal");
    let run = |extra: &[&str]| {
        let mut run = tickpipe();
        run.args(["run", "--quiet", "--no-control", "--duration", "2h"])
            .arg("--journal")
            .arg(&journal)
            .arg("--config")
            .arg(&config)
            .args(extra);
        run
    };
    // The first run, paced so that it is still trading when it is killed.
    let mut child = run(&["--speed", "200"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("tickpipe: journal "));
    assert!(ready, "the engine stopped before it opened its journal");
    // Keep reading stderr so the engine never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    // Killed once two of its orders filled at the broker (the first entries come a
    // quarter of an hour of market time into the day).
    while broker.with(|b| b.trades.len()) < 2 {
        if child.try_wait().unwrap().is_some() {
            panic!(
                "the engine finished before two orders filled (slow the day down): {:#?}",
                drain.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drain.join().unwrap();
    assert!(status.code().is_none(), "killed, not finished: {status}");
    let placed_before = count(&broker, "POST", "/orders/regular");

    // The restart resumes the day and plays it to its end at full speed.
    let summary = dir.join("summary.json");
    let out = run(&[])
        .arg("--summary-json")
        .arg(&summary)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);

    // Each intent of the day reached the broker once: no order the broker took is
    // beyond the intents the journal holds (an order per intent here: market and limit
    // orders far below any freeze quantity, no protective stops, no refusals). An
    // intent of the first run placed again would be a second order of its listing,
    // side and quantity.
    let intents = journal_intents(&journal.join("2026-11-25"));
    let mut placed: std::collections::BTreeMap<(String, String, u32), usize> = Default::default();
    for post in broker
        .seen()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders/regular")
    {
        let key = (
            post.field("tradingsymbol").unwrap().to_owned(),
            post.field("transaction_type").unwrap().to_owned(),
            post.field("quantity").unwrap().parse().unwrap(),
        );
        *placed.entry(key).or_insert(0) += 1;
    }
    for (order, n) in &placed {
        let made = intents.get(order).copied().unwrap_or(0);
        assert!(
            *n <= made,
            "{order:?} placed {n} times for {made} intents ({placed_before} orders placed \
             before the restart)\nplaced {placed:?}\nintents {intents:?}\n{stderr}"
        );
    }
    assert!(
        placed.values().sum::<usize>() > placed_before,
        "the resumed day traded on: {placed:?}"
    );

    assert!(
        out.status.success(),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let day = PathBuf::from(v["journal"]["dir"].as_str().unwrap());
    assert!(
        day.ends_with("2026-11-25"),
        "the restart resumed the day's journal: {}",
        day.display()
    );
    assert!(v["journal"]["resumed"].is_object(), "{}", v["journal"]);
    assert_eq!(v["journal"]["failures"].as_u64(), Some(0), "{stderr}");
}

/// The broker order ids the order stage's journal of day `dir` (maybe still being
/// written) holds acknowledged placements of, each with whether its intent is an entry
/// (the risk stage's journal says so; a protective stop is no intent of risk's).
fn journaled_placements(dir: &Path) -> std::collections::HashMap<String, (bool, IntentId)> {
    use tickpipe::{
        journal::{JournalReader, Record},
        model::IntentReason,
    };
    let Ok(reader) = JournalReader::open(dir) else {
        return Default::default();
    };
    let entries: std::collections::HashSet<IntentId> = reader
        .records_of("risk")
        .map_while(Result::ok)
        .filter_map(|e| match e.record {
            Record::Intent(i) if i.reason == IntentReason::Entry => Some(i.id),
            _ => None,
        })
        .collect();
    reader
        .records_of("order")
        .map_while(Result::ok)
        .filter_map(|e| match e.record {
            Record::Placed(p) => Some((
                p.venue_id.to_string(),
                (entries.contains(&p.order.intent()), p.order.intent()),
            )),
            _ => None,
        })
        .collect()
}

/// The broker's orders of `order_type` in `status`, as (order id, symbol).
fn broker_orders(broker: &Broker, order_type: &str, status: &str) -> Vec<(String, String)> {
    broker.with(|b| {
        b.orders
            .iter()
            .filter(|o| o["order_type"] == order_type && o["status"] == status)
            .map(|o| {
                (
                    o["order_id"].as_str().unwrap().to_owned(),
                    o["tradingsymbol"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    })
}

#[test]
fn a_resumed_day_takes_over_the_stops_and_entries_resting_at_the_broker() {
    // A Kite day with broker-side protective stops, journaled, killed (SIGKILL) while
    // positions are open with their SL-M resting at the broker and a limit entry rests
    // there too, and started again with the same command. The restart must not place a
    // second stop on a position (two SL-M on one position could both trigger and
    // reverse it): it takes the resting stop over, and works it. The resting entry is
    // taken over too: not placed again, and cancelled at the end of the session like
    // any resting entry, not forgotten at the broker.
    use std::io::{BufRead, BufReader};
    let KiteAccount { dir, broker, token } = account("resume-takeover");
    broker.with(|b| {
        b.fill_limits = true;
        b.fill_after = Some(Duration::from_secs(3));
    });
    let config = config_file(
        &dir,
        &broker,
        &token,
        "[order]\ngateway = \"kite\"\nalgo_id = \"ALGO42\"\nprotective_stop = true\n\
         entry_remainder = \"wait\"\nremainder_timeout_ms = 3600000\n\
         [risk]\non_shutdown = \"leave\"\n",
    );
    let journal = dir.join("journal");
    let day = journal.join("2026-11-25");
    let run = |extra: &[&str]| {
        let mut run = tickpipe();
        run.args(["run", "--quiet", "--no-control", "--duration", "2h"])
            .arg("--journal")
            .arg(&journal)
            .arg("--config")
            .arg(&config)
            .args(extra);
        run
    };
    let mut child = run(&["--speed", "200"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("tickpipe: journal "));
    assert!(ready, "the engine stopped before it opened its journal");
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    // What rests at the broker whose acceptance the engine journaled (with Kite's id).
    let resting = |order_type: &str, status: &str| {
        let journaled = journaled_placements(&day);
        let entry = order_type != "SL-M";
        broker_orders(&broker, order_type, status)
            .into_iter()
            .filter(|(id, _)| journaled.get(id).is_some_and(|j| j.0 == entry))
            .collect::<Vec<_>>()
    };
    let mut wait_for = |what: &str, ready: &dyn Fn() -> bool| {
        while !ready() {
            if child.try_wait().unwrap().is_some() {
                let orders: Vec<(String, String)> = broker.with(|b| {
                    b.orders
                        .iter()
                        .map(|o| {
                            (
                                o["order_type"].as_str().unwrap_or("?").to_owned(),
                                o["status"].as_str().unwrap_or("?").to_owned(),
                            )
                        })
                        .collect()
                });
                panic!(
                    "the engine finished before {what} (slow the day down): broker {orders:?}, \
                     journaled {:?}",
                    journaled_placements(&day)
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    // Orders fill a while after they are taken, so an entry may rest open for that long
    // while the positions opened before rest with their stops. The engine is killed
    // once a stop rests; the broker fills nothing meanwhile, so what rests then is
    // what the restart finds.
    wait_for("a stop rested", &|| {
        !resting("SL-M", "TRIGGER PENDING").is_empty()
    });
    broker.with(|b| b.fill_none = true);
    // A read of the journal while it is written may stop short: read until it shows
    // the stop again.
    let (placements, stops_at_kill, entries_at_kill) = loop {
        let placements = journaled_placements(&day);
        let of = |order_type: &str, status: &str, entry: bool| {
            broker_orders(&broker, order_type, status)
                .into_iter()
                .filter(|(id, _)| placements.get(id).is_some_and(|j| j.0 == entry))
                .collect::<Vec<_>>()
        };
        let stops = of("SL-M", "TRIGGER PENDING", false);
        let entries = of("MARKET", "OPEN", true);
        if !stops.is_empty() {
            break (placements, stops, entries);
        }
        assert!(child.try_wait().unwrap().is_none(), "the engine finished");
    };
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drain.join().unwrap();
    assert!(status.code().is_none(), "killed, not finished: {status}");
    assert!(!stops_at_kill.is_empty());
    // From now on orders fill at once: an entry open at the kill fills once the restart
    // follows it again.
    broker.with(|b| {
        b.fill_after = None;
        b.fill_none = false;
    });
    let requests_before = broker.seen().len();

    let summary = dir.join("summary.json");
    let out = run(&[])
        .arg("--summary-json")
        .arg(&summary)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(v["journal"]["failures"].as_u64(), Some(0), "{stderr}");

    // Never two SL-M working on one symbol at once, over both runs: the broker numbers
    // its orders in the order it takes them, and cancels at once (its SL-M never
    // trigger: it has no market of its own).
    let seen = broker.seen();
    let mut placed = 0_u64;
    let mut working: std::collections::HashMap<String, String> = Default::default();
    let mut deleted_after_restart = Vec::new();
    for (n, r) in seen.iter().enumerate() {
        if r.method == "POST" && r.path == "/orders/regular" {
            placed += 1;
            if r.field("order_type") == Some("SL-M") {
                let symbol = r.field("tradingsymbol").unwrap().to_owned();
                assert!(
                    !working.values().any(|s| *s == symbol),
                    "a second SL-M on {symbol} while one works: order {placed}, request \
                     {n} ({requests_before} before the restart); stops at the kill \
                     {stops_at_kill:?}\n{stderr}"
                );
                working.insert(placed.to_string(), symbol);
            }
        } else if r.method == "DELETE" {
            let id = r.path["/orders/regular/".len()..].to_owned();
            working.remove(&id);
            if n >= requests_before {
                deleted_after_restart.push(id);
            }
        }
    }
    // Each stop resting at the kill was worked by the restart: cancelled by it (its
    // position exited, or the stop replaced), or left resting at the end as the run's
    // own, named with its Kite id.
    let left: Vec<String> = v["protective_stops"]["left_resting"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["order_id"].as_str().unwrap_or("unknown").to_owned())
                .collect()
        })
        .unwrap_or_default();
    for (id, symbol) in &stops_at_kill {
        assert!(
            deleted_after_restart.contains(id) || left.contains(id),
            "the stop {id} on {symbol} was not taken over: left {left:?}, deleted \
             {deleted_after_restart:?}\n{stderr}"
        );
    }
    // Each entry open at the kill was taken over: its fill at the broker, which came
    // after the kill, is booked by the risk stage once (closed as cancelled, it would
    // be booked never; placed again, it would be a second order).
    let booked = |intent: IntentId| -> u64 {
        use tickpipe::journal::{JournalReader, Record};
        JournalReader::open(&day)
            .unwrap()
            .records_of("risk")
            .map(|e| e.unwrap())
            .filter_map(|e| match e.record {
                Record::Fill(f) if f.intent == intent => Some(u64::from(f.qty.get())),
                _ => None,
            })
            .sum()
    };
    for (id, symbol) in &entries_at_kill {
        let (status, qty) = broker.with(|b| {
            let o = b
                .orders
                .iter()
                .find(|o| o["order_id"] == id.as_str())
                .unwrap();
            (
                o["status"].as_str().unwrap().to_owned(),
                o["quantity"].as_u64().unwrap(),
            )
        });
        assert_eq!(status, "COMPLETE", "the entry {id} on {symbol}");
        assert_eq!(
            booked(placements[id].1),
            qty,
            "the entry {id} on {symbol} booked once\n{stderr}"
        );
    }
}

#[test]
fn orders_of_the_run_before_a_restart_are_followed_not_placed_and_answer_once_taken_over() {
    let KiteAccount {
        dir: _dir,
        broker,
        token,
    } = account("take-over");
    // Two SL-M of the run before the restart, waiting for their triggers at Kite.
    let stop_row = |kite_id: &str| {
        let mut row = fixture("orders.json")["data"][1].clone();
        row["order_id"] = json!(kite_id);
        row["status"] = json!("TRIGGER PENDING");
        row["exchange"] = json!("NSE");
        row["tradingsymbol"] = json!("SBIN");
        row["order_type"] = json!("SL-M");
        row["transaction_type"] = json!("SELL");
        row["product"] = json!("MIS");
        row["quantity"] = json!(30);
        row["filled_quantity"] = json!(0);
        row["tag"] = json!("ALGO42");
        row
    };
    broker.with(|b| {
        b.orders.push(stop_row("220000000000001"));
        b.orders.push(stop_row("220000000000002"));
        // The position they guard, which the journal shows booked.
        b.extra_positions = vec![position_row("NSE", "SBIN", "MIS", 60)];
    });
    let taken = |n: u64, kite_id: u64| tickpipe::order::TakeOver {
        order: VenueOrder {
            side: Side::Sell,
            trigger: "98".parse().unwrap(),
            ..order(n, OrderType::StopMarket, 30, Price::ZERO)
        },
        venue_id: kite_id,
        filled: Qty::ZERO,
        avg_price: Price::ZERO,
    };
    let holds = tickpipe::order::kite::EngineHoldings {
        net: vec![60],
        book_follows_broker: false,
        take_over: vec![taken(7, 220000000000001), taken(8, 220000000000002)],
    };
    let config = reconciling(&broker, &token, 1);
    let mut gw = KiteGateway::start_with(&config, &table(), None, holds).unwrap();
    let (mut got, mut heard) = (Vec::new(), Heard::default());
    let health = gw.health();
    // The first stop is cancelled at Kite before the order stage takes it over.
    broker.with(|b| b.orders[0]["status"] = json!("CANCELLED"));
    settle(&mut gw, &mut got, &mut heard, "three checks", |_, _| {
        health.reconciliations.get() >= 3
    });
    assert!(
        heard.is_empty() && health.differences().is_empty(),
        "the broker's stops are the engine's: {heard:#?}"
    );
    assert!(got.is_empty(), "held until taken over: {got:#?}");
    gw.take_over(&taken(7, 220000000000001), &mut |r| got.push(r));
    gw.take_over(&taken(8, 220000000000002), &mut |r| got.push(r));
    wait(&mut gw, &mut got, "the first stop's end", |g| {
        events(g, id(7)) == [VenueEvent::Cancelled]
    });
    // The second is worked as the engine's own: modified, then cancelled, by its Kite id.
    gw.modify(
        id(8),
        &Amend {
            qty: Qty::new(30),
            limit: Price::ZERO,
            trigger: "99".parse().unwrap(),
        },
        &mut |r| got.push(r),
    );
    gw.cancel(id(8), &mut |r| got.push(r));
    wait(&mut gw, &mut got, "the second stop's end", |g| {
        events(g, id(8)).contains(&VenueEvent::Cancelled)
    });
    assert_eq!(
        events(&got, id(8)),
        [VenueEvent::Modified, VenueEvent::Cancelled]
    );
    assert_eq!(
        count(&broker, "POST", "/orders/regular"),
        0,
        "nothing placed"
    );
    assert_eq!(
        count(&broker, "DELETE", "/orders/regular/220000000000002"),
        1
    );
    assert_eq!(
        broker.with(|b| b.orders[1]["trigger_price"].as_f64()),
        Some(99.0)
    );
    assert_eq!(gw.venue_order_id(id(8)).as_deref(), Some("220000000000002"));
}
