//! Same input, same fills: across runs and across thread layouts.

mod common;

use common::{config, fills, run_inline, run_threaded};

#[test]
fn same_seed_gives_identical_fills_and_a_round_trip() {
    let cfg = config(7, "");
    let first = run_inline(&cfg);
    let second = run_inline(&cfg);
    assert!(first.error().is_none(), "{:?}", first.error());
    let a = fills(&first);
    assert_eq!(a, fills(&second));
    let trading = first.trading().unwrap();
    let round_trips: u64 = trading.strategies.iter().map(|s| s.round_trips).sum();
    assert!(
        round_trips >= 1,
        "a synthetic day must trade at least one round trip"
    );
    assert!(a.len() >= 2);
}

#[test]
fn a_different_seed_trades_differently() {
    let a = fills(&run_inline(&config(7, "3h")));
    let b = fills(&run_inline(&config(8, "3h")));
    assert_ne!(a, b);
}

#[test]
fn one_group_and_two_groups_fill_identically() {
    let mut one = config(11, "");
    one.runtime.layout = "one_group".to_owned();
    let mut two = config(11, "");
    two.runtime.layout = "two_groups".to_owned();
    let mut per_stage = config(11, "");
    per_stage.runtime.layout = "per_stage".to_owned();
    per_stage.runtime.wait = "spin_then_park".to_owned();

    let inline = fills(&run_inline(&one));
    let one_group = fills(&run_threaded(&one));
    let two_groups = fills(&run_threaded(&two));
    let four = fills(&run_threaded(&per_stage));
    assert!(!inline.is_empty());
    assert_eq!(inline, one_group, "one thread vs the one-group layout");
    assert_eq!(one_group, two_groups, "one group vs two groups");
    assert_eq!(
        one_group, four,
        "one group vs one thread per stage, parking"
    );
}
