//! The control socket as a trader uses it: a synthetic day trades in the background
//! while the tests drive every command through the real socket and check its effect on
//! the engine.

mod common;

use serde_json::Value;
use tickpipe::{model::IntentReason, risk::FillRecord};

use common::control::{busy_config, market_time, Engine};

fn strategy(v: &Value) -> &Value {
    &v["strategies"][0]
}

/// Minutes after midnight IST of a reply's market time.
fn minute_of_day(v: &Value) -> u32 {
    let t = market_time(v);
    let hh: u32 = t[11..13].parse().unwrap();
    let mm: u32 = t[14..16].parse().unwrap();
    hh * 60 + mm
}

#[test]
fn close_sends_a_real_order_that_fills() {
    let engine = Engine::start(busy_config("close", 150));
    let mut watcher = engine.client();
    watcher.ok("subscribe fills");
    let mut desk = engine.client();
    desk.wait_for("positions", "an open position", |v| {
        !v["positions"].as_array().unwrap().is_empty()
    });
    // Positions open and close all the time with this strategy; keep trying until a
    // close lands on one that is still open and idle.
    let mut closed = None;
    for _ in 0..common::control::ATTEMPTS {
        let positions = desk.ok("positions");
        let Some(p) = positions["positions"].as_array().unwrap().first().cloned() else {
            continue;
        };
        let symbol = p["symbol"].as_str().unwrap().to_owned();
        let v = desk.cmd(&format!("close {symbol}"));
        if v["ok"] == Value::Bool(true) {
            assert_eq!(v["symbol"], symbol.as_str());
            assert_eq!(v["qty"].as_i64().unwrap(), p["net"].as_i64().unwrap().abs());
            closed = Some((symbol, v["order"].as_u64().unwrap()));
            break;
        }
        assert!(
            ["no_position", "order_in_flight"].contains(&v["error"].as_str().unwrap()),
            "{v}"
        );
    }
    let (symbol, order) = closed.expect("a close was accepted");
    let fill = watcher.wait_event("the manual fill", |e| {
        e["event"] == "fill" && e["order"].as_u64() == Some(order)
    });
    assert_eq!(fill["reason"], "manual");
    assert_eq!(fill["symbol"], symbol.as_str());
    let report = engine.finish();
    let fills: &Vec<FillRecord> = &report.trading().unwrap().fills;
    let manual: Vec<&FillRecord> = fills
        .iter()
        .filter(|f| f.intent.sequence() == order)
        .collect();
    assert_eq!(manual.len(), 1, "the engine booked the close");
    assert_eq!(manual[0].reason, IntentReason::Manual);
}

#[test]
fn a_paused_strategy_opens_nothing_until_resumed() {
    let engine = Engine::start(busy_config("pause", 150));
    let mut c = engine.client();
    c.wait_for("strategies", "the first entries", |v| {
        strategy(v)["entries"].as_u64().unwrap() > 0
    });
    let paused = c.ok("pause sma_cross");
    assert_eq!(paused["state"], "paused");
    assert_eq!(paused["changed"], true);
    let before = c.ok("strategies");
    let entries = strategy(&before)["entries"].as_u64().unwrap();
    let t0 = market_time(&c.ok("status"));
    // Wait for entries the strategy wanted and did not get.
    let during = c.wait_for("strategies", "suppressed entries", |v| {
        strategy(v)["suppressed"].as_u64().unwrap() >= 5
    });
    assert_eq!(strategy(&during)["state"], "paused");
    assert_eq!(
        strategy(&during)["entries"].as_u64().unwrap(),
        entries,
        "no entry signal while paused"
    );
    assert!(market_time(&c.ok("status")) > t0, "the market moved on");
    assert_eq!(c.ok("pause sma_cross")["changed"], false);
    c.ok("resume sma_cross");
    c.wait_for("strategies", "entries after resume", |v| {
        strategy(v)["entries"].as_u64().unwrap() > entries
    });
    engine.finish();
}

#[test]
fn halt_blocks_entries_while_exits_flow() {
    let engine = Engine::start(busy_config("halt", 150));
    let mut watcher = engine.client();
    let mut c = engine.client();
    c.wait_for("positions", "an open position", |v| {
        !v["positions"].as_array().unwrap().is_empty()
    });
    let halted = c.ok("halt");
    assert_eq!(halted["trading_state"], "halted");
    assert_eq!(halted["previous"], "active");
    // Orders in flight when the halt landed may still fill; what follows may not enter.
    c.wait_for("status", "the market to move on", |v| {
        v["working_orders"] == 0
    });
    watcher.ok("subscribe fills");
    let status = c.ok("status");
    assert_eq!(status["trading_state"], "halted");
    // Exits still flow: close whatever is open.
    let flat = c.ok("flatten");
    let closing: Vec<u64> = flat["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order"].as_u64().unwrap())
        .collect();
    assert!(
        !closing.is_empty() || !flat["deferred"].as_array().unwrap().is_empty(),
        "{flat}"
    );
    for order in &closing {
        let fill = watcher.wait_event("a flatten fill", |e| {
            e["event"] == "fill" && e["order"].as_u64() == Some(*order)
        });
        assert_eq!(fill["reason"], "manual");
    }
    // Let strategies try for ten market minutes: every signal is refused while halted.
    let t0 = minute_of_day(&status);
    c.wait_for("status", "ten market minutes", |v| {
        minute_of_day(v) >= t0 + 10
    });
    c.ok("activate");
    let report = engine.finish();
    let entries_after_halt = watcher
        .events
        .iter()
        .filter(|e| e["event"] == "fill" && e["reason"] == "entry")
        .count();
    assert_eq!(entries_after_halt, 0, "no entry filled while halted");
    let refused: u64 = report
        .trading()
        .unwrap()
        .refusals
        .iter()
        .filter(|(why, _)| *why == "halted")
        .map(|(_, n)| *n)
        .sum();
    assert!(refused > 0, "strategies kept asking and were refused");
}

#[test]
fn set_changes_a_limit_and_bad_values_change_nothing() {
    let engine = Engine::start(busy_config("set", 20));
    let mut c = engine.client();
    let limit = |v: &Value, name: &str| {
        v["limits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name)
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(limit(&c.ok("limits"), "max_exposure_pct"), "70");
    let set = c.ok("set max_exposure_pct 12.5");
    assert_eq!(set["previous"], "70");
    assert_eq!(set["value"], "12.5");
    assert_eq!(limit(&c.ok("limits"), "max_exposure_pct"), "12.5");
    let bad = c.cmd("set max_exposure_pct 900");
    assert_eq!(bad["error"], "bad_value");
    assert!(bad["message"]
        .as_str()
        .unwrap()
        .contains("risk.max_exposure_pct"));
    // Validated against the live limits: last_entry must stay before square_off.
    c.ok("set last_entry 13:30");
    c.ok("set square_off 14:00");
    let bad = c.cmd("set last_entry 14:30");
    assert_eq!(bad["error"], "bad_value", "{bad}");
    assert!(
        bad["message"].as_str().unwrap().contains("square_off"),
        "{bad}"
    );
    let now = c.ok("limits");
    assert_eq!(limit(&now, "last_entry"), "13:30:00");
    assert_eq!(limit(&now, "square_off"), "14:00:00");
    // The stale-quote window, a whole number of seconds up to a day.
    assert_eq!(limit(&now, "stale_quote_secs"), "60");
    let set = c.ok("set stale_quote_secs 15");
    assert_eq!(
        (&set["previous"], &set["value"]),
        (&"60".into(), &"15".into())
    );
    let bad = c.cmd("set stale_quote_secs 86401");
    assert_eq!(bad["error"], "bad_value", "{bad}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("risk.stale_quote_secs"),
        "{bad}"
    );
    let listed = c.ok("limits");
    let stale = listed["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "stale_quote_secs")
        .unwrap();
    assert_eq!(
        (&stale["value"], &stale["unit"]),
        (&"15".into(), &"seconds".into())
    );
    engine.finish();
}

#[test]
fn subscribe_pnl_streams_lines_and_metrics_parse_as_prometheus_text() {
    let engine = Engine::start(busy_config("stream", 100));
    let mut c = engine.client();
    let sub = c.ok("subscribe pnl 100");
    assert_eq!(sub["stream"], "pnl");
    assert_eq!(sub["interval_ms"], 100);
    let mut times = Vec::new();
    for _ in 0..5 {
        let e = c.wait_event("a pnl event", |e| e["event"] == "pnl");
        let read = |key: &str| {
            let text = e[key].as_str().unwrap_or_else(|| panic!("{key} in {e}"));
            text.parse::<tickpipe::model::Money>()
                .unwrap_or_else(|err| panic!("{key} {text}: {err}"))
        };
        let [realized, unrealized, total, charges, net_realized, net, equity] = [
            "realized",
            "unrealized",
            "total",
            "charges",
            "net_realized",
            "net",
            "equity",
        ]
        .map(read);
        assert_eq!(total, realized.saturating_add(unrealized), "{e}");
        assert_eq!(net_realized, realized.saturating_add(charges.neg()), "{e}");
        assert_eq!(net, total.saturating_add(charges.neg()), "{e}");
        assert!(charges >= tickpipe::model::Money::ZERO, "{e}");
        assert!(equity > tickpipe::model::Money::ZERO, "{e}");
        times.push(market_time(&e));
    }
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(times[4] > times[0], "market time moves between snapshots");
    // Commands still work on a subscribed connection, and the stream goes on after.
    let metrics = c.ok("metrics");
    let text = metrics["text"].as_str().unwrap();
    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses");
    let names: Vec<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for wanted in [
        "tickpipe_feed_ticks_total",
        "tickpipe_risk_intents_total",
        "tickpipe_order_fills_total",
        "tickpipe_pnl_rupees",
        "tickpipe_equity_rupees",
        "tickpipe_strategy_pnl_rupees",
        "tickpipe_trading_state",
        "tickpipe_latency_nanoseconds",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from\n{text}");
    }
    let kinds: Vec<&str> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "tickpipe_pnl_rupees")
        .filter_map(|s| s.labels.get("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "realized",
            "unrealized",
            "total",
            "charges",
            "net_realized",
            "net"
        ]
    );
    let pnl = c.ok("pnl");
    for s in pnl["strategies"].as_array().unwrap() {
        for key in ["charges", "net_realized", "net"] {
            assert!(s[key].is_string(), "{key} in {s}");
        }
    }
    let ticks = scrape
        .samples
        .iter()
        .find(|s| s.metric == "tickpipe_feed_ticks_total")
        .unwrap();
    assert!(matches!(ticks.value, prometheus_parse::Value::Counter(v) if v > 0.0));
    c.events.clear();
    c.wait_event("a pnl event after metrics", |e| e["event"] == "pnl");
    assert_eq!(c.ok("unsubscribe pnl")["stream"], "pnl");
    engine.finish();
}

#[test]
fn the_session_end_is_announced_and_the_socket_removed() {
    let mut config = busy_config("end", 2000);
    config.feed.duration = "20m".into();
    let engine = Engine::start(config);
    let socket = engine.socket.clone();
    let mut c = engine.client();
    c.ok("subscribe alerts");
    let end = c.wait_event("the end event", |e| e["event"] == "end");
    assert_eq!(end["reason"], "session over");
    assert!(c.read_value().is_none(), "the server closes the connection");
    let report = engine.finish();
    assert!(report.control.unwrap().connections >= 1);
    assert!(!socket.exists(), "the socket file is removed");
}

#[test]
fn bad_input_gets_an_error_line_and_changes_nothing() {
    let engine = Engine::start(busy_config("bad", 50));
    let mut c = engine.client();
    let before = (
        c.ok("limits"),
        c.ok("strategies")["strategies"][0]["state"].clone(),
    );
    for (line, code) in [
        ("", "parse"),
        ("frobnicate", "unknown_command"),
        ("status please", "usage"),
        ("close", "usage"),
        ("close NOSUCH", "unknown_symbol"),
        ("close NIFTY 50", "unknown_symbol"),
        ("close SBIN -3", "usage"),
        ("pause nobody", "unknown_strategy"),
        ("set leverage 5", "bad_value"),
        ("set capital -1", "bad_value"),
        ("set last_entry 3pm", "bad_value"),
        ("subscribe gossip", "usage"),
        ("subscribe pnl 1", "usage"),
        ("auth x", "ok"),
    ] {
        let v = c.cmd(line);
        if code == "ok" {
            // A Unix client needs no token; `auth` is harmless there.
            assert_eq!(v["ok"], true, "{line} -> {v}");
        } else {
            assert_eq!(v["error"], code, "{line:?} -> {v}");
            assert!(!v["message"].as_str().unwrap().is_empty());
        }
    }
    c.send_raw(b"\xff\xfe status\n");
    assert_eq!(c.reply()["error"], "parse");
    let mut long = vec![b'x'; 5000];
    long.push(b'\n');
    c.send_raw(&long);
    assert_eq!(c.reply()["error"], "parse");
    assert_eq!(
        c.ok("status")["reply"],
        "status",
        "the connection still works"
    );
    let after = (
        c.ok("limits"),
        c.ok("strategies")["strategies"][0]["state"].clone(),
    );
    assert_eq!(before, after);
    assert_eq!(c.ok("status")["trading_state"], "active");
    // Several commands in one write are answered in order.
    c.send_raw(b"limits\nhelp\npositions\n");
    assert_eq!(c.reply()["reply"], "limits");
    assert_eq!(c.reply()["reply"], "help");
    assert_eq!(c.reply()["reply"], "positions");
    c.ok("quit");
    assert!(c.read_value().is_none(), "quit closes the connection");
    engine.finish();
}

#[test]
fn connection_and_rate_bounds_hold() {
    let mut config = busy_config("bounds", 50);
    config.control.max_connections = 2;
    config.control.commands_per_sec = 5;
    config.control.max_pending_bytes = 4096;
    let engine = Engine::start(config);
    let mut a = engine.client();
    let _b = engine.client();
    let mut third = engine.client();
    let refused = third.read_value().expect("a busy line");
    assert_eq!(refused["error"], "busy");
    // Rate: a burst of five, then refusals that do nothing.
    let replies: Vec<Value> = (0..8).map(|_| a.cmd("halt")).collect();
    assert!(replies[..5].iter().all(|v| v["ok"] == true));
    assert!(replies[5..].iter().any(|v| v["error"] == "rate_limited"));
    engine.finish();
}

mod live_fuzz {
    //! Random bytes and random near-commands thrown at the live socket: every line gets
    //! an error reply, and the engine's state does not change.

    use proptest::prelude::*;

    use super::*;

    fn state(c: &mut common::control::Client) -> (Value, Value, Value) {
        let status = c.ok("status");
        (
            c.ok("limits"),
            c.ok("strategies")["strategies"][0]["state"].clone(),
            status["trading_state"].clone(),
        )
    }

    /// Lines that are not commands, or commands whose arguments cannot resolve.
    fn bad_line() -> impl Strategy<Value = Vec<u8>> {
        let words = proptest::sample::select(vec![
            "close",
            "set",
            "pause",
            "resume",
            "subscribe",
            "unsubscribe",
            "halt!",
            "status",
            "NOSUCH",
            "capital",
            "last_entry",
            "-5",
            "1e9",
            "pnl",
            "0",
        ]);
        prop_oneof![
            // Random bytes without a newline (one line each).
            proptest::collection::vec(
                any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
                0..300
            ),
            // A known word with wrong or unresolvable arguments.
            (words.clone(), words.clone(), words)
                .prop_map(|(a, b, c)| { format!("{a} {b} {c} x").into_bytes() }),
        ]
    }

    #[test]
    fn random_lines_get_errors_and_change_nothing() {
        let engine = Engine::start(busy_config("fuzz", 20));
        let mut c = engine.client();
        let before = state(&mut c);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 200,
            ..ProptestConfig::default()
        });
        let shared = std::cell::RefCell::new(c);
        runner
            .run(&bad_line(), |mut line| {
                line.push(b'\n');
                let mut c = shared.borrow_mut();
                c.send_raw(&line);
                let v = c.reply();
                prop_assert_eq!(
                    &v["ok"],
                    &Value::Bool(false),
                    "{:?} -> {}",
                    String::from_utf8_lossy(&line),
                    v
                );
                Ok(())
            })
            .unwrap();
        let mut c = shared.into_inner();
        assert_eq!(before, state(&mut c), "no state changed");
        engine.finish();
    }
}

#[test]
fn a_client_that_does_not_read_is_cut_off() {
    let mut config = busy_config("slow", 50);
    config.control.max_pending_bytes = 4096;
    let engine = Engine::start(config);
    let mut slow = engine.client();
    // About 3 MB of replies: far beyond what the kernel's socket buffers absorb, so the
    // server's own pending bytes pass the bound.
    let mut sent = 0;
    for _ in 0..2000 {
        if !slow.try_send(b"help\n") {
            break; // the server has already cut it off
        }
        sent += 1;
    }
    // Do not read: a client that reads as fast as the server writes is not slow, and
    // the kernel would pass everything through. The server may not have taken every line
    // yet, so keep sending until a write fails: the server has closed the connection (it
    // cut the client off, or, had it never done so, the day ended and the assertion below
    // says so). The pause only spaces the lines out; nothing depends on its length.
    while slow.try_send(b"help\n") {
        sent += 1;
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let report = engine.finish();
    assert_eq!(
        report.control.unwrap().cut_off,
        1,
        "the slow client was cut off"
    );
    let mut got = 0;
    while slow.read_line().is_some() {
        got += 1;
    }
    assert!(got < sent, "{got} of {sent} replies arrived before the cut");
}

#[test]
fn a_stale_socket_is_replaced_and_a_live_one_refused() {
    let config = busy_config("stale", 50);
    let socket = config.control.socket_path();
    std::fs::create_dir_all(&config.control.run_dir).unwrap();
    let _ = std::fs::remove_file(&socket);
    // A socket file left behind by a dead process: bound, then its listener dropped.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let engine = Engine::start(config.clone());
    engine.client().ok("status");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only the owner may connect");

    // A second engine on the same run directory stops before it trades.
    let opened = config.feed.open().unwrap();
    let second = tickpipe::engine::Pipeline::build(
        &config,
        &opened.instruments,
        opened.source,
        opened.start,
        None,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    )
    .unwrap();
    let err = second
        .run(&config.layout().unwrap(), std::time::Duration::ZERO, |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another tickpipe engine is serving it"),
        "{err}"
    );
    engine.client().ok("status");
    engine.finish();
}

#[test]
fn news_typed_by_an_operator_reaches_the_strategies_and_bad_news_changes_nothing() {
    let engine = Engine::start(busy_config("news", 150));
    let mut c = engine.client();
    let handled = |c: &mut common::control::Client| -> u64 {
        let text = c.ok("metrics")["text"].as_str().unwrap().to_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("tickpipe_signal_news_total "))
            .and_then(|n| n.trim().parse().ok())
            .expect("the signal stage counts news")
    };
    let before = handled(&mut c);
    let v = c.ok("news NIFTY 50 0.85");
    assert_eq!(
        (v["symbol"].as_str(), v["sentiment"].as_f64()),
        (Some("NIFTY 50"), Some(0.85))
    );
    assert!(
        handled(&mut c) > before,
        "the item was handled before the reply"
    );
    for (line, code) in [
        ("news NOPE 0.5", "unknown_symbol"),
        ("news SBIN 2", "usage"),
        ("news SBIN", "usage"),
    ] {
        assert_eq!(c.cmd(line)["error"], code, "{line}");
    }
    let report = engine.finish();
    let signal = report.stage("signal").unwrap();
    let feed = report.stage("feed").unwrap();
    assert_eq!(
        signal.counter("news"),
        feed.counter("news") + 1,
        "exactly the one good item was added"
    );
}
