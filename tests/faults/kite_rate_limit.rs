//! The broker rate-limit scenario: the synthetic day traded through the real Kite
//! Connect gateway against the loopback broker of `tests/common/kite_broker.rs`, which
//! answers storms of HTTP 429 (`GeneralException`, "Too many requests") and some
//! placements slowly.
//!
//! - **Storms.** After every [`STORM_EVERY`]th order it takes, the broker answers the
//!   next [`STORM_BURST`] placements 429, so the placement that meets the storm is
//!   tried again by the gateway's retry policy (`order.kite.retry_attempts`, more than
//!   a storm lasts) until the broker takes it. Every [`SLOW_EVERY`]th order taken is
//!   answered [`SLOW`] late.
//! - **Pacing.** The broker answers in wall time while the synthetic day plays in
//!   market time, so the source is paced by the broker: it holds the next market event
//!   while an order the order stage sent is not yet taken, final (filled, cancelled or
//!   rejected) and booked, and it holds the day's end until every order is. Market time
//!   therefore never runs ahead of an answer, as it does not on a live day, and the
//!   day's decisions do not depend on how long the broker took. All stages share one
//!   thread (`one_group`), so every event's orders reach the order stage before the
//!   source is asked for the next one. Market orders fill at the touch the feed last
//!   delivered, at market time.
//!
//! **Expected book.** Positions equal the sum of the fills the broker reported: for
//! every instrument, the engine's position is the net filled quantity of the broker's
//! orders on it (the broker's own book, read after the run). Every trade the broker
//! listed is booked once (`fills` = the broker's trades), every order the order stage
//! placed is one order at the broker and ended there. And since pacing keeps the
//! answers' delays out of market time, the day equals the same day through the same
//! broker without storms or slow answers: the same orders, fills and final positions.
//!
//! Waits are conditions with a generous limit, never timing assertions.

use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use tickpipe::{
    engine::{EngineConfig, Pipeline, RunReport},
    feed::{FeedError, MarketSource, SourcePoll},
    metrics::Telemetry,
    model::{MarketEvent, Side},
    order::GatewayKind,
};

use super::{
    account,
    common::kite_broker::{Book, Broker, Storm, API_KEY, TOKEN},
    Row,
};

/// A storm of 429s follows every this many orders the broker takes.
const STORM_EVERY: u64 = 3;
/// 429s per storm: fewer than the gateway's retries, so every placement goes through.
const STORM_BURST: u32 = 3;
/// The gateway's retries of a 429 (`order.kite.retry_attempts`).
const RETRIES: u32 = 4;
/// Every this many orders taken, one is answered late.
const SLOW_EVERY: u64 = 5;
/// How late (well inside `order.kite.request_timeout_ms`).
const SLOW: Duration = Duration::from_millis(150);

/// How long the broker may take to settle what was sent before the scenario gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// What a run at the broker came to.
struct Outcome {
    report: RunReport,
    /// Net filled quantity by instrument index, from the broker's orders.
    broker_net: BTreeMap<u32, i64>,
    /// Orders the broker took, trades it listed, orders not final at the end.
    taken: u64,
    trades: u64,
    open: u64,
    too_many: u64,
    slowed: u64,
    gave_up: bool,
}

/// The synthetic day, released one event at a time while the broker has settled
/// everything the engine sent (see the module doc).
struct Paced {
    inner: Box<dyn MarketSource>,
    held: Option<SourcePoll>,
    book: Arc<Mutex<Book>>,
    telemetry: Arc<OnceLock<Arc<Telemetry>>>,
    /// `EXCHANGE:SYMBOL` by instrument index (`None`: not tradable at Kite).
    listings: Vec<Option<String>>,
    /// Placements sent when the broker was last found settled.
    settled: Option<u64>,
    since: Option<Instant>,
    gave_up: Arc<Mutex<bool>>,
}

impl Paced {
    /// True when every placement the order stage sent is an order at the broker, every
    /// order there is final, and the order stage booked every trade.
    fn settled(&mut self) -> bool {
        let Some(telemetry) = self.telemetry.get() else {
            return false;
        };
        let sent = telemetry.order.orders.get();
        if self.settled == Some(sent) {
            // Settled and no placement since: every order is final, so no trade can come
            // and no modification or cancel can open one again.
            return true;
        }
        let book = self.book.lock().unwrap();
        let done = book.orders.len() as u64 == sent
            && book.orders.iter().all(|o| {
                matches!(
                    o["status"].as_str(),
                    Some("COMPLETE" | "CANCELLED" | "REJECTED")
                )
            })
            && telemetry.order.fills.get() == book.trades.len() as u64;
        drop(book);
        if done {
            self.settled = Some(sent);
        }
        done
    }
}

impl MarketSource for Paced {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        let next = match self.held.take() {
            Some(next) => next,
            None => match self.inner.poll_event()? {
                SourcePoll::Pending => return Ok(SourcePoll::Pending),
                next => next,
            },
        };
        if !self.settled() {
            let since = *self.since.get_or_insert_with(Instant::now);
            if since.elapsed() < PATIENCE {
                self.held = Some(next);
                return Ok(SourcePoll::Pending);
            }
            *self.gave_up.lock().unwrap() = true;
        }
        self.since = None;
        if let SourcePoll::Event(MarketEvent::Tick(t)) = &next {
            if let Some(Some(listing)) = self.listings.get(t.instrument.index()) {
                let price = |p: tickpipe::model::Price| p.to_string().parse::<f64>().unwrap();
                let mut book = self.book.lock().unwrap();
                book.market_now = Some(t.exchange_ts);
                if t.bid.is_positive() && t.ask.is_positive() {
                    book.touch
                        .insert(listing.clone(), (price(t.bid), price(t.ask)));
                } else if t.last.is_positive() {
                    book.touch
                        .insert(listing.clone(), (price(t.last), price(t.last)));
                }
            }
        }
        Ok(next)
    }
}

/// Points `config` at `broker`, with the token file in `dir`.
fn through(config: &mut EngineConfig, broker: &Broker, dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    config.runtime.layout = "one_group".into();
    config.order.gateway = GatewayKind::Kite;
    config.order.algo_id = "ALGO42".into();
    let kite = &mut config.order.kite;
    kite.base_url = broker.url();
    kite.api_key = API_KEY.into();
    kite.access_token_file = Some(token);
    kite.ca_file = Some(broker.ca.clone());
    kite.poll_interval_ms = 10;
    kite.retry_attempts = RETRIES;
    kite.retry_initial_ms = 5;
    kite.retry_max_ms = 20;
    // The start check only: the books are compared after the run.
    kite.reconcile_secs = 0;
}

/// Runs the day of `config` at a fresh broker set up by `setup`.
fn run(config: &EngineConfig, dir: &Path, setup: impl FnOnce(&mut Book)) -> Outcome {
    std::fs::create_dir_all(dir).unwrap();
    let broker = Broker::start(dir);
    broker.with(|b| {
        b.fill_limits = true;
        setup(b);
    });
    let mut config = config.clone();
    through(&mut config, &broker, dir);
    let opened = config.feed.open().expect("source opens");
    let listings: Vec<Option<String>> = tickpipe::order::kite::listings(&opened.instruments)
        .into_iter()
        .map(|l| l.map(|l| format!("{}:{}", l.exchange, l.symbol)))
        .collect();
    let telemetry = Arc::new(OnceLock::new());
    let gave_up = Arc::new(Mutex::new(false));
    let source = Paced {
        inner: opened.source,
        held: None,
        book: broker.book.clone(),
        telemetry: telemetry.clone(),
        listings: listings.clone(),
        settled: None,
        since: None,
        gave_up: gave_up.clone(),
    };
    let until = config.feed.until(opened.start).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pipeline = Pipeline::build(
        &config,
        &opened.instruments,
        Box::new(source),
        opened.start,
        until,
        stop,
    )
    .expect("pipeline builds");
    let _ = telemetry.set(pipeline.telemetry());
    let layout = config.layout().expect("layout");
    let report = pipeline
        .run(&layout, Duration::ZERO, |_| {})
        .expect("run completes");
    // The gateway's thread has stopped with the run: the broker's book is final.
    broker.with(|b| {
        let mut broker_net = BTreeMap::new();
        for o in &b.orders {
            let listing = format!(
                "{}:{}",
                o["exchange"].as_str().unwrap_or_default(),
                o["tradingsymbol"].as_str().unwrap_or_default()
            );
            let filled = o["filled_quantity"].as_i64().unwrap_or(0);
            let signed = if o["transaction_type"] == "SELL" {
                -filled
            } else {
                filled
            };
            let instrument = listings
                .iter()
                .position(|l| l.as_deref() == Some(listing.as_str()))
                .map_or(u32::MAX, |i| i as u32);
            *broker_net.entry(instrument).or_default() += signed;
        }
        let gave_up = *gave_up.lock().unwrap();
        Outcome {
            report,
            broker_net,
            taken: b.orders.len() as u64,
            trades: b.trades.len() as u64,
            open: b
                .orders
                .iter()
                .filter(|o| {
                    !matches!(
                        o["status"].as_str(),
                        Some("COMPLETE" | "CANCELLED" | "REJECTED")
                    )
                })
                .count() as u64,
            too_many: b.too_many,
            slowed: b.slowed,
            gave_up,
        }
    })
}

/// Net position by instrument index, zeros left out.
fn positions(report: &RunReport) -> BTreeMap<u32, i64> {
    report.trading().map_or_else(BTreeMap::new, |t| {
        let mut net = BTreeMap::new();
        for p in &t.positions {
            *net.entry(p.instrument.0).or_default() += p.net;
        }
        net.retain(|_, n| *n != 0);
        net
    })
}

/// Runs the scenario on the day `config` describes; `dir` holds the brokers' files.
pub fn scenario(config: EngineConfig, dir: &Path) -> Row {
    let calm = run(&config, &dir.join("calm"), |_| {});
    let storm = run(&config, &dir.join("storm"), |b| {
        b.storm = Storm {
            every: STORM_EVERY,
            burst: STORM_BURST,
        };
        b.slow_every = SLOW_EVERY;
        b.slow = SLOW;
    });
    let mut row = Row::new(
        "broker 429 storms (Kite Connect)",
        format!(
            "{} HTTP 429 answered ({STORM_BURST} after every {STORM_EVERY}rd order), {} placements answered {} ms late; real Kite gateway, loopback broker",
            storm.too_many,
            storm.slowed,
            SLOW.as_millis()
        ),
    );
    account(&mut row, &storm.report);
    if let Some((stage, error)) = storm.report.error() {
        row.problem(format!("the {stage} stage stopped: {error:?}"));
    }
    if storm.gave_up || calm.gave_up {
        row.problem("the broker never settled what the engine sent");
    }
    if storm.too_many == 0 || storm.slowed == 0 {
        row.problem("no 429 or slow answer was given: the fault did not strike");
    }
    let order = storm.report.stage("order");
    let (placed, order_fills) = order.map_or((0, 0), |o| (o.counter("orders"), o.counter("fills")));
    // Every placement is one order at the broker, and every order there ended.
    if placed != storm.taken {
        row.lost += placed.abs_diff(storm.taken);
        row.problem(format!(
            "{placed} placements sent, {} orders at the broker",
            storm.taken
        ));
    }
    if storm.open > 0 {
        row.lost += storm.open;
        row.problem(format!("{} orders still open at the broker", storm.open));
    }
    // Every trade the broker listed reached the book once.
    if storm.trades != order_fills || storm.trades != row.fills {
        row.lost += storm.trades.abs_diff(row.fills);
        row.book_wrong(format!(
            "the broker listed {} trades; the order stage booked {order_fills}, the book {}",
            storm.trades, row.fills
        ));
    }
    // Positions equal the broker's net fills.
    let mut broker_net = storm.broker_net.clone();
    broker_net.retain(|_, n| *n != 0);
    let held = positions(&storm.report);
    if held != broker_net {
        row.lost += 1;
        row.book_wrong(format!(
            "positions {held:?}, the broker's net fills {broker_net:?}"
        ));
    }
    // The storms changed nothing in market time.
    if held != positions(&calm.report) {
        row.book_wrong("the final positions differ from the day without storms");
    }
    let sides = |r: &RunReport| {
        r.trading().map_or_else(Vec::new, |t| {
            t.fills
                .iter()
                .map(|f| (f.instrument.0, f.side == Side::Buy, f.qty.get()))
                .collect::<Vec<_>>()
        })
    };
    if sides(&storm.report) != sides(&calm.report) {
        row.book_wrong("the fills differ from the day without storms");
    }
    if row.fills == 0 {
        row.problem("nothing filled: the day did not trade through the gateway");
    }
    let _ = std::fs::remove_dir_all(dir);
    row
}
