//! Broker-side protective stops (`[order] protective_stop = true`) over whole synthetic
//! days: every position ends flat, nothing errs, and the fills are the same on every
//! thread layout, with the paper exchange answering at once and with latency and partial
//! fills (where cancels take time and exits wait for them).

mod common;

use common::{config, fills, run_inline, run_threaded};
use tickpipe::{
    engine::{EngineConfig, RunReport},
    order::LatencyModel,
};

fn protected(layout: &str) -> EngineConfig {
    let mut c = config(EngineConfig::embedded_default().feed.synthetic.seed, "");
    c.order.protective_stop = true;
    c.runtime.layout = layout.to_owned();
    c
}

/// [`protected`] with acks 200 ms and fills 300 ms after sending (plus seeded jitter),
/// and no more than the displayed quantity per quote.
fn protected_latent(layout: &str) -> EngineConfig {
    let mut c = protected(layout);
    c.runtime.wait = "spin_then_park".to_owned();
    let paper = &mut c.paper;
    paper.partial_fills = true;
    paper.latency.model = LatencyModel::Uniform;
    paper.latency.ack_ms = 200;
    paper.latency.fill_ms = 300;
    paper.latency.jitter_ms = 100;
    c
}

fn check_flat_and_clean(report: &RunReport, what: &str) {
    assert!(report.error().is_none(), "{what}: {:?}", report.error());
    let trading = report.trading().expect("risk reports its book");
    let open: Vec<_> = trading.positions.iter().filter(|p| p.net != 0).collect();
    assert!(open.is_empty(), "{what}: open at the end: {open:?}");
    let order = report.stage("order").expect("the order stage reports");
    assert!(order.counter("protect_placed") > 0, "{what}: stops placed");
    assert_eq!(order.counter("unknown_reports"), 0, "{what}");
    assert_eq!(order.counter("invalid_reports"), 0, "{what}");
    let risk = report.stage("risk").expect("the risk stage reports");
    assert_eq!(risk.counter("unknown_reports"), 0, "{what}");
}

#[test]
fn the_default_day_with_protective_stops_ends_flat_and_fills_alike_on_every_layout() {
    let one = run_threaded(&protected("one_group"));
    check_flat_and_clean(&one, "one_group");
    let a = fills(&one);
    assert!(!a.is_empty());
    let per_stage = run_threaded(&protected("per_stage"));
    check_flat_and_clean(&per_stage, "per_stage");
    assert_eq!(a, fills(&per_stage), "per_stage");
    assert_eq!(a, fills(&run_inline(&protected("one_group"))), "inline");
}

#[test]
fn with_latency_and_partial_fills_the_protected_day_still_fills_alike() {
    let one = run_threaded(&protected_latent("one_group"));
    check_flat_and_clean(&one, "one_group");
    let a = fills(&one);
    let per_stage = run_threaded(&protected_latent("per_stage"));
    check_flat_and_clean(&per_stage, "per_stage");
    assert_eq!(a, fills(&per_stage), "per_stage");
}
