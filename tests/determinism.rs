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

/// The idle stages' rehearsals (risk's dry checks, the order stage's dry run on a desk
/// of its own) are wall-clock driven, so they must change nothing a run decides: a run
/// that rehearses on every idle poll fills exactly as one that never does.
#[test]
fn rehearsing_on_every_idle_poll_fills_as_never_rehearsing() {
    let mut always = config(13, "3h");
    always.runtime.layout = "two_groups".to_owned();
    always.runtime.rehearse_every_us = 1;
    let mut never = always.clone();
    never.runtime.rehearse_every_us = 0;
    let rehearsed = run_threaded(&always);
    assert!(rehearsed.error().is_none(), "{:?}", rehearsed.error());
    let a = fills(&rehearsed);
    assert!(!a.is_empty());
    assert_eq!(a, fills(&run_threaded(&never)));
}

/// A drill: every kind of state-changing command, scheduled at market times.
fn drilled(seed: u64, layout: &str) -> tickpipe::engine::EngineConfig {
    let mut c = config(seed, "");
    c.runtime.layout = layout.to_owned();
    c.runtime.wait = "spin_then_park".to_owned();
    // The example strategy on top of the default four: it trades every few seconds,
    // and the drill pauses it by name.
    let sma = &mut c.strategy.sma_cross;
    sma.enabled = true;
    sma.fast = 1;
    sma.slow = 2;
    sma.bar_secs = 5;
    // Long or short on every cross, never flat between crosses: it holds positions
    // when the drill halts and flattens, whatever the day.
    sma.allow_short = true;
    // It also loses money fast on this day; the day's loss and drawdown limits would
    // close the book by noon and leave `flatten` and `close` nothing to do. They have
    // their own tests; here the operator's commands are under test.
    c.risk.daily_loss_pct = tickpipe::model::Money::from_rupees(100);
    c.risk.drawdown_warn_pct = tickpipe::model::Money::from_rupees(100);
    c.risk.drawdown_halt_pct = tickpipe::model::Money::from_rupees(100);
    // For the same reason no allocation reviews: they would send the losing example to
    // the shadow book and leave nothing open when the drill halts and flattens.
    c.signal.allocation.enabled = false;
    for (at, command) in [
        ("10:00", "set max_exposure_pct 25"),
        ("10:15", "news NIFTY 50 -0.9"),
        ("10:30", "pause sma_cross"),
        ("11:00", "resume sma_cross"),
        ("11:30", "reduce"),
        ("12:00", "activate"),
        ("12:30", "halt"),
        ("12:45", "flatten"),
        ("13:00", "activate"),
        ("13:30", "close RELIANCE"),
        ("14:00", "set last_entry 14:30"),
    ] {
        c.control.schedule.push(tickpipe::control::ScheduleEntry {
            at: at.to_owned(),
            command: command.to_owned(),
        });
    }
    c
}

#[test]
fn scheduled_commands_take_effect_identically_on_every_layout() {
    let inline = run_inline(&drilled(3, "one_group"));
    let a = fills(&inline);
    assert_eq!(
        a,
        fills(&run_threaded(&drilled(3, "two_groups"))),
        "two groups"
    );
    assert_eq!(
        a,
        fills(&run_threaded(&drilled(3, "per_stage"))),
        "per stage"
    );
    let undrilled = {
        let mut c = drilled(3, "one_group");
        c.control.schedule.clear();
        fills(&run_inline(&c))
    };
    assert_ne!(a, undrilled, "the drill changed the day");
    // The 12:45 flatten closed what was open, with manual orders at that market time.
    let flatten = tickpipe::model::UnixNanos::from_ist(
        tickpipe::model::Date::new(2026, 11, 25),
        tickpipe::model::TimeOfDay::hm(12, 45),
    );
    let manual: Vec<_> = a
        .iter()
        .filter(|f| f.reason == tickpipe::model::IntentReason::Manual)
        .collect();
    assert!(!manual.is_empty(), "flatten and close sent orders");
    // A market order fills at the last quote before the command's place in the stream.
    let first = manual.iter().map(|f| f.exchange_ts).min().unwrap();
    assert!(
        first.0 + 60_000_000_000 >= flatten.0 && first < flatten.add_nanos(60_000_000_000),
        "first manual fill at {first}"
    );
    // Between the halt (12:30) and the activate (13:00) nothing but the operator's
    // orders filled (`risk.halt_exits = "manual"`, the default): no strategy order and
    // none of the risk stage's own exits.
    let halt = flatten.add_nanos(0).0 - 15 * 60 * 1_000_000_000;
    let activate = flatten.0 + 15 * 60 * 1_000_000_000;
    let not_manual: Vec<_> = a
        .iter()
        .filter(|f| (halt..activate).contains(&f.exchange_ts.0))
        .filter(|f| f.reason != tickpipe::model::IntentReason::Manual)
        .collect();
    assert!(not_manual.is_empty(), "{not_manual:?}");
    let feed = inline.stage("feed").unwrap();
    assert_eq!(feed.counter("scheduled"), 11);
    let signal = inline.stage("signal").unwrap();
    assert_eq!(
        signal.counter("news"),
        feed.counter("news") + 1,
        "the scheduled news item reached the strategies"
    );
    assert_eq!(feed.counter("schedule_unreached"), 0);
}

#[test]
fn a_schedule_naming_unknown_things_is_a_config_error() {
    let mut c = config(3, "1h");
    for (at, command) in [("10:00", "close NOSUCH"), ("10:00", "pause nobody")] {
        c.control.schedule.push(tickpipe::control::ScheduleEntry {
            at: at.to_owned(),
            command: command.to_owned(),
        });
    }
    let opened = c.feed.open().unwrap();
    let err = tickpipe::engine::Pipeline::build(
        &c,
        &opened.instruments,
        opened.source,
        opened.start,
        None,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("control.schedule[0]: no instrument `NOSUCH`"),
        "{text}"
    );
    assert!(
        text.contains("control.schedule[1]: no strategy `nobody`"),
        "{text}"
    );
}

/// Allocation reviews tuned to switch often: every 5 minutes, judged from one round
/// trip, any net loss goes to shadow and any paper gain comes back.
fn hair_trigger(seed: u64, layout: &str) -> tickpipe::engine::EngineConfig {
    let mut c = config(seed, "");
    c.runtime.layout = layout.to_owned();
    c.runtime.wait = "spin_then_park".to_owned();
    let a = &mut c.signal.allocation;
    a.enabled = true;
    a.review_minutes = 5;
    a.window = 4;
    a.min_trades = 1;
    a.shadow_below = 100.0;
    a.recover_above = 100.0;
    a.weight_slope = 3.0;
    c
}

#[test]
fn allocation_reviews_weight_and_shadow_identically_on_every_layout() {
    let inline = run_inline(&hair_trigger(5, "one_group"));
    let allocation = inline
        .signals()
        .and_then(|s| s.allocation.clone())
        .expect("allocation ran");
    // 09:15 to 15:30 holds 74 review times after the first event's.
    assert!(allocation.reviews >= 70, "{} reviews", allocation.reviews);
    let switches: u32 = allocation.strategies.iter().map(|s| s.switches).sum();
    let shadowed: u32 = allocation.strategies.iter().map(|s| s.shadowed).sum();
    assert!(
        switches >= 2 && shadowed > 0,
        "the reviews must shadow and restore: {allocation:?}"
    );
    let a = fills(&inline);
    for layout in ["two_groups", "per_stage"] {
        let threaded = run_threaded(&hair_trigger(5, layout));
        assert_eq!(a, fills(&threaded), "{layout}");
        assert_eq!(
            Some(&allocation),
            threaded.signals().and_then(|s| s.allocation.as_ref()),
            "{layout}: the same reviews, weights and switches"
        );
    }
    let mut off = hair_trigger(5, "one_group");
    off.signal.allocation.enabled = false;
    assert_ne!(a, fills(&run_inline(&off)), "the reviews changed the day");
}
