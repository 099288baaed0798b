//! `tickpipe run` as a trader runs it on a Zerodha account, both ends on loopback: ticks
//! from a Kite Ticker (`[feed] source = "kite"`, binary full-mode packets over a
//! WebSocket) and orders to Kite Connect (`[order] gateway = "kite"`, HTTPS with the
//! test certificate).
//!
//! The test plays the market: one frame a minute of market time (the packets' exchange
//! timestamps, today in IST from 10:00) for two shares of the fixture instrument master,
//! priced so that `sma_cross` (2 and 3 one-minute bars) enters and exits ADANIPORTS, and
//! then enters CDSL, which Ctrl-C's shutdown flatten closes. Midway the Ticker drops the
//! connection; the client subscribes again and trading goes on. Each step waits for the
//! engine's own word (its control socket) or the broker's, never for a time.

mod common;

use std::{
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    process::{Child, Stdio},
    time::Instant,
};

use common::{
    control::Client,
    kite::{broker_nets, config_file, count, KiteAccount},
    kite_broker::Seen,
    ticker_server::{subscribe_and_mode, Relay, Say, PATIENCE},
    tickpipe,
};
use serde_json::Value;
use tickpipe::{
    feed::kite::system_clock,
    journal::{JournalReader, Manifest, Record},
    model::{Side, TimeOfDay, UnixNanos},
};

/// The instrument master the feed resolves its universe through.
const MASTER: &str = "tests/fixtures/kite/instruments_nse.csv";

/// ADANIPORTS and CDSL as the master lists them (NSE, tick 0.05).
const ADANIPORTS: u32 = 3_861_249;
const CDSL: u32 = 5_420_545;

/// The universe: the index (which the master lacks, so it is not subscribed) and the two
/// shares.
const UNIVERSE: &str =
    "symbol,kind,fno_symbol,sector,lot_size,freeze_qty,tick_size,ref_price,weight_pct\n\
NIFTY 50,index,NIFTY,Index,65,1800,0.05,26000,\n\
ADANIPORTS,equity,ADANIPORTS,Services,625,12500,0.05,100,50\n\
CDSL,equity,CDSL,Financial Services,475,9500,0.05,200,50\n";

/// One full-mode packet (184 bytes, PROTOCOLS.md §1.6) of an NSE share: a trade at
/// `paise` bringing the day's volume to `volume`, stamped `ts`, with the touch a tick
/// (5 paise) either side and five levels a side.
fn full_packet(token: u32, paise: i32, volume: u32, ts: UnixNanos) -> Vec<u8> {
    let mut b = vec![0u8; 184];
    let mut put = |at: usize, bytes: &[u8]| b[at..at + bytes.len()].copy_from_slice(bytes);
    let secs = u32::try_from(ts.0 / 1_000_000_000).unwrap();
    put(0, &token.to_be_bytes());
    put(4, &paise.to_be_bytes());
    put(8, &100u32.to_be_bytes()); // last traded quantity
    put(12, &paise.to_be_bytes()); // average traded price
    put(16, &volume.to_be_bytes());
    put(20, &50_000u32.to_be_bytes()); // total buy quantity
    put(24, &50_000u32.to_be_bytes()); // total sell quantity
    for at in [28, 32, 36, 40] {
        put(at, &paise.to_be_bytes()); // open, high, low, close
    }
    put(44, &secs.to_be_bytes()); // last trade time
    put(60, &secs.to_be_bytes()); // exchange timestamp
    for level in 0..5 {
        let step = 5 * (level as i32 + 1);
        for (side, price) in [(0, paise - step), (5, paise + step)] {
            let at = 64 + 12 * (side + level);
            put(at, &1_000u32.to_be_bytes());
            put(at + 4, &price.to_be_bytes());
            put(at + 8, &4u16.to_be_bytes());
        }
    }
    b
}

/// A binary message of `packets`: the count, then each packet after its length.
fn frame(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = u16::try_from(packets.len()).unwrap().to_be_bytes().to_vec();
    for p in packets {
        out.extend_from_slice(&u16::try_from(p.len()).unwrap().to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// The market the test plays through the Ticker: a frame per minute, both shares in
/// each, and the broker's touch and clock following it.
struct Market<'a> {
    ticker: &'a Relay,
    account: &'a KiteAccount,
    /// 10:00 IST today: minute 0.
    open: UnixNanos,
    minute: u64,
    volume: u32,
}

impl Market<'_> {
    /// Plays the next minute: ADANIPORTS at `adaniports` and CDSL at `cdsl` rupees, one
    /// trade each.
    fn minute(&mut self, adaniports: i32, cdsl: i32) {
        let (adaniports, cdsl) = (adaniports * 100, cdsl * 100);
        let ts = self.open.add_nanos(self.minute * 60_000_000_000);
        self.minute += 1;
        self.volume += 100;
        self.account.broker.with(|b| {
            b.market_now = Some(ts);
            for (symbol, paise) in [("NSE:ADANIPORTS", adaniports), ("NSE:CDSL", cdsl)] {
                let rupees = |p: i32| f64::from(p) / 100.0;
                b.touch
                    .insert(symbol.to_owned(), (rupees(paise - 5), rupees(paise + 5)));
            }
        });
        self.ticker.say(Say::Binary(frame(&[
            full_packet(ADANIPORTS, adaniports, self.volume, ts),
            full_packet(CDSL, cdsl, self.volume, ts),
        ])));
    }
}

/// The `tickpipe run` process, its output going to files in the scratch directory.
struct Run {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Run {
    fn start(dir: &Path, config: &Path, summary: &Path) -> Run {
        let (stdout, stderr) = (dir.join("stdout"), dir.join("stderr"));
        let child = tickpipe()
            .args(["run", "--quiet", "--config"])
            .arg(config)
            .arg("--summary-json")
            .arg(summary)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Run {
            child,
            stdout,
            stderr,
        }
    }

    /// What the run printed so far, for failure messages.
    fn output(&self) -> String {
        format!(
            "{}{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// A client of the control socket once it serves (panics if the run ends first).
    fn control(&mut self, socket: &Path) -> Client {
        let start = Instant::now();
        while UnixStream::connect(socket).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the run ended ({status}) before serving its socket:\n{}",
                    self.output()
                );
            }
            assert!(start.elapsed() < 4 * PATIENCE, "{}", self.output());
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Client::connect(&socket.to_owned())
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // A failed test leaves no engine behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The engine's open positions, by symbol: `(net, avg_price)`.
fn positions(reply: &Value) -> Vec<(String, i64)> {
    reply["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["symbol"].as_str().unwrap().to_owned(),
                p["net"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Asks the engine for its positions until `done` holds of them (a generous bound, not a
/// timing: the test fails with the run's output if it never does).
fn wait_positions(
    client: &mut Client,
    run: &Run,
    what: &str,
    done: impl Fn(&[(String, i64)]) -> bool,
) {
    let start = Instant::now();
    loop {
        let reply = client.ok("positions");
        if done(&positions(&reply)) {
            return;
        }
        assert!(
            start.elapsed() < 4 * PATIENCE,
            "gave up waiting for {what}: {reply}\n{}",
            run.output()
        );
        // Within the socket's command rate (`control.commands_per_sec`).
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The broker's placements, as (tradingsymbol, transaction_type, quantity, order_type).
fn placements(seen: &[Seen]) -> Vec<(String, String, u32, String)> {
    seen.iter()
        .filter(|r| r.method == "POST" && r.path == "/orders/regular")
        .map(|r| {
            (
                r.field("tradingsymbol").unwrap().to_owned(),
                r.field("transaction_type").unwrap().to_owned(),
                r.field("quantity").unwrap().parse().unwrap(),
                r.field("order_type").unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_kite_day_trades_from_the_ticker_to_kite_connect_and_ends_flat() {
    let account = KiteAccount::open("kite-e2e", "day");
    let dir = &account.dir;
    account.broker.with(|b| b.fill_limits = true);
    let ticker = Relay::start();
    let universe = dir.file("universe.csv", UNIVERSE);
    let master = Path::new(env!("CARGO_MANIFEST_DIR")).join(MASTER);
    let run_dir = dir.join("run");
    let journal = dir.join("journal");
    let config = config_file(
        dir,
        &account.broker,
        &account.token,
        &format!(
            r#"[feed]
source = "kite"

[feed.kite]
url = "{url}"
api_key = "testkey"
access_token_file = "{token}"
instruments = "{master}"
universe = "{universe}"
mode = "full"
stale_after = "30s"
reconnect_initial = "10ms"
reconnect_max = "50ms"

[strategy.sma_cross]
enabled = true
fast = 2
slow = 3
bar_secs = 60
stop_pct = 2.0
symbols = ["ADANIPORTS", "CDSL"]

[strategy.momentum_surfer]
enabled = false
[strategy.volume_scalper]
enabled = false
[strategy.news_impact_scalper]
enabled = false
[strategy.regime_adaptive]
enabled = false

[filters]
market_bias = false
relative_strength = false
overbought_oversold = false

[signal.allocation]
enabled = false

[risk]
on_shutdown = "flatten"

[control]
enabled = true
run_dir = "{run_dir}"

[journal]
enabled = true
dir = "{journal}"

[runtime]
cores = []
wait = "spin_then_park"

[order]
gateway = "kite"
algo_id = "ALGO42"
protection_bps = 250
"#,
            url = ticker.url(),
            token = account.token.display(),
            master = master.display(),
            universe = universe.display(),
            run_dir = run_dir.display(),
            journal = journal.display(),
        ),
    );
    let summary = dir.join("summary.json");
    let mut run = Run::start(dir, &config, &summary);
    let mut client = run.control(&run_dir.join("tickpipe.sock"));

    // The Ticker sees the credentials and both shares subscribed in full mode (the
    // index is not in the master: not subscribed).
    let first = ticker.server.next_connection();
    assert_eq!(first.uri, "/?api_key=testkey&access_token=tok3n");
    assert_eq!(
        first.requests,
        subscribe_and_mode(&[ADANIPORTS, CDSL], "full")
    );

    let today = system_clock().ist_date();
    let mut market = Market {
        ticker: &ticker,
        account: &account,
        open: UnixNanos::from_ist(today, TimeOfDay::hm(10, 0)),
        minute: 0,
        volume: 10_000,
    };
    // Minute 0: each share's first packet (a quote: nothing to compare its volume with).
    market.minute(100, 200);
    // ADANIPORTS: 100, 100, 100, 99, 102: the fast average crosses above the slow one
    // on the fifth bar, which the sixth minute's trade closes.
    for adaniports in [100, 100, 100, 99, 102, 102] {
        market.minute(adaniports, 200);
    }
    wait_positions(&mut client, &run, "the ADANIPORTS entry booked", |p| {
        p.iter().any(|(s, net)| s == "ADANIPORTS" && *net > 0)
    });
    let status = client.ok("status");
    let market_time = status["market_time"].as_str().unwrap().to_owned();
    assert!(
        market_time.starts_with(&format!("{today}T10:06:00")),
        "market time is the packets' exchange time: {status}"
    );

    // Kite drops the connection; the client comes back with the same subscription.
    ticker.say(Say::Drop);
    let second = ticker.server.next_connection();
    assert_eq!(second.requests, first.requests, "resubscribed");

    // ADANIPORTS eases to 101 (above the 2% stop): the fast average crosses below, and
    // sma_cross (long only) exits on the bar the eighth minute closes. CDSL: 200 … 199,
    // 204: the cross above the tenth bar makes, closed by the eleventh minute.
    market.minute(101, 200);
    market.minute(101, 200);
    wait_positions(&mut client, &run, "the ADANIPORTS exit booked", |p| {
        p.iter().all(|(_, net)| *net == 0)
    });
    market.minute(101, 199);
    market.minute(101, 204);
    market.minute(101, 204);
    wait_positions(&mut client, &run, "the CDSL entry booked", |p| {
        p.iter().any(|(s, net)| s == "CDSL" && *net > 0)
    });
    let mut held = positions(&client.ok("positions"));
    held.retain(|(_, net)| *net != 0);
    drop(client);

    // Ctrl-C: `on_shutdown = "flatten"` closes CDSL at the broker, then the run ends.
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &run.child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = run.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < 4 * PATIENCE,
            "the run did not end after Ctrl-C:\n{}",
            run.output()
        );
        // Within the socket's command rate (`control.commands_per_sec`).
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let output = run.output();
    assert!(status.success(), "{status}\n{output}");

    // The broker: an entry and an exit of each share, the entry's units out again, each
    // order as Kite wants it.
    let seen = account.broker.seen();
    let placed = placements(&seen);
    let sides: Vec<(&str, &str)> = placed
        .iter()
        .map(|(symbol, side, _, _)| (symbol.as_str(), side.as_str()))
        .collect();
    assert_eq!(
        sides,
        [
            ("ADANIPORTS", "BUY"),
            ("ADANIPORTS", "SELL"),
            ("CDSL", "BUY"),
            ("CDSL", "SELL")
        ],
        "{output}"
    );
    let (a_qty, c_qty) = (placed[0].2, placed[2].2);
    assert!(a_qty > 0 && c_qty > 0);
    assert_eq!(placed[1].2, a_qty, "the exit closes the entry's units");
    assert_eq!(placed[3].2, c_qty, "the flatten closes the entry's units");
    assert_eq!(held, [("CDSL".to_owned(), i64::from(c_qty))]);
    // sma_cross decides at a bar's close: entries and exits alike go at market, each
    // with the configured protection.
    assert!(
        placed.iter().all(|(_, _, _, kind)| kind == "MARKET"),
        "{placed:#?}"
    );
    for post in seen
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders/regular")
    {
        assert_eq!(post.field("exchange"), Some("NSE"), "{post:?}");
        assert_eq!(post.field("product"), Some("MIS"), "{post:?}");
        assert_eq!(post.field("validity"), Some("DAY"), "{post:?}");
        assert_eq!(post.field("tag"), Some("ALGO42"), "{post:?}");
        assert_eq!(post.field("market_protection"), Some("2.5"), "{post:?}");
    }
    assert_eq!(
        broker_nets(&account.broker),
        Default::default(),
        "flat at the broker"
    );
    let trades = account.broker.with(|b| b.trades.len());
    assert_eq!(trades, 4, "{output}");
    assert!(count(&account.broker, "GET", "/portfolio/positions") >= 1);

    // The engine's summary agrees with the broker.
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(
        v["flow"]["orders"].as_u64(),
        Some(placed.len() as u64),
        "{}",
        v["flow"]
    );
    assert_eq!(
        v["flow"]["fills"].as_u64(),
        Some(trades as u64),
        "{}",
        v["flow"]
    );
    assert_eq!(v["pnl"]["open_positions"].as_u64(), Some(0), "{}", v["pnl"]);
    assert_eq!(v["flow"]["refused"].as_u64(), Some(0), "{}", v["flow"]);
    assert!(!output.contains("reconcile_mismatch"), "{output}");

    // So does the journal of the day: the risk stage's intents and booked fills are the
    // broker's orders and trades, side and units, for the reasons played: the strategy's
    // entries, its exit of ADANIPORTS, and the shutdown's flatten of CDSL.
    let day = PathBuf::from(v["journal"]["dir"].as_str().unwrap());
    let manifest = Manifest::read(&day).unwrap().expect("the day's manifest");
    let reader = JournalReader::open(&day).unwrap();
    let (mut intents, mut fills, mut reasons) = (Vec::new(), Vec::new(), Vec::new());
    for entry in reader.records_of("risk") {
        let side = |s: Side| match s {
            Side::Buy => "BUY".to_owned(),
            Side::Sell => "SELL".to_owned(),
        };
        match entry.expect("every record is intact").record {
            Record::Intent(i) => {
                reasons.push(i.reason.as_str());
                intents.push((
                    manifest.instruments[i.instrument.index()].clone(),
                    side(i.side),
                    i.qty.get(),
                ));
            }
            Record::Fill(f) => {
                assert!(f.exchange_ts.ist_date() == today, "{f:?}");
                fills.push((
                    manifest.instruments[f.instrument.index()].clone(),
                    side(f.side),
                    f.qty.get(),
                ));
            }
            _ => {}
        }
    }
    let orders: Vec<(String, String, u32)> = placed
        .iter()
        .map(|(s, t, q, _)| (s.clone(), t.clone(), *q))
        .collect();
    assert_eq!(intents, orders);
    assert_eq!(fills, orders);
    assert_eq!(reasons, ["entry", "exit", "entry", "emergency"]);
}
