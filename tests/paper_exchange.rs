//! The paper exchange with latency and partial fills: the same fills on every thread
//! layout, because answers are released in market time and the risk stage syncs with
//! the order stage in market time.

mod common;

use std::collections::BTreeSet;

use common::{config, fills, run_inline, run_threaded};
use tickpipe::{engine::EngineConfig, order::LatencyModel};

/// The synthetic day with acks 200 ms and fills 300 ms (plus seeded jitter) after
/// sending, and no more than the displayed quantity per quote.
fn latent(seed: u64, layout: &str) -> EngineConfig {
    let mut c = config(seed, "");
    c.runtime.layout = layout.to_owned();
    c.runtime.wait = "spin_then_park".to_owned();
    let paper = &mut c.paper;
    paper.partial_fills = true;
    paper.latency.model = LatencyModel::Uniform;
    paper.latency.ack_ms = 200;
    paper.latency.fill_ms = 300;
    paper.latency.jitter_ms = 100;
    c
}

/// The embedded default day with this latency once hung at an allocation review (the
/// risk stage re-asked the same market-time sync forever while an order kept working);
/// seed 11 reaches that state.
#[test]
fn latency_and_partial_fills_fill_identically_on_every_thread_layout() {
    let one = run_threaded(&latent(11, "one_group"));
    assert!(one.error().is_none(), "{:?}", one.error());
    let a = fills(&one);
    assert!(!a.is_empty());
    let intents: BTreeSet<_> = a.iter().map(|f| f.intent).collect();
    assert!(
        a.len() > intents.len(),
        "some orders filled in parts: {} fills for {} orders",
        a.len(),
        intents.len()
    );
    for layout in ["two_groups", "per_stage"] {
        let threaded = run_threaded(&latent(11, layout));
        assert!(
            threaded.error().is_none(),
            "{layout}: {:?}",
            threaded.error()
        );
        assert_eq!(a, fills(&threaded), "{layout}");
    }
    let instant = fills(&run_threaded(&config(11, "")));
    assert_ne!(a, instant, "latency and depth changed the day");
}

/// The single-thread driver must agree with the threaded layouts.
#[test]
fn latency_fills_the_same_on_the_single_thread_driver() {
    let a = fills(&run_threaded(&latent(11, "one_group")));
    assert_eq!(a, fills(&run_inline(&latent(11, "one_group"))));
}

/// The paper exchange refuses orders above an instrument's freeze quantity, as NSE does;
/// with option positions allowed twice the default size, the default day sizes option
/// entries past it (1800 units of NIFTY), and the order stage's slicing keeps every one
/// of them trading: more orders than intents, none refused.
#[test]
fn the_default_day_slices_past_the_freeze_quantity_and_nothing_is_refused() {
    let mut c = config(EngineConfig::embedded_default().feed.synthetic.seed, "");
    c.risk.option_risk_pct = tickpipe::model::Money::from_rupees(10);
    c.risk.max_position_pct = tickpipe::model::Money::from_rupees(40);
    assert!(
        c.paper.rules.freeze_qty,
        "the exchange enforces freeze quantities"
    );
    let report = run_threaded(&c);
    assert!(report.error().is_none(), "{:?}", report.error());
    let order = report.stage("order").expect("the order stage reports");
    let risk = report.stage("risk").expect("the risk stage reports");
    assert!(
        order.counter("orders") > risk.counter("intents"),
        "some intent went as slices: {} orders for {} intents",
        order.counter("orders"),
        risk.counter("intents")
    );
    assert_eq!(order.counter("rejects"), 0);
    let execution = report.execution().expect("execution figures");
    for s in &execution.strategies {
        assert!(s.rejects.iter().all(|(_, n)| *n == 0), "{:?}", s.rejects);
    }
}
