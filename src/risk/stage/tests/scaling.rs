//! Position scaling end to end (adding to a winner, cutting a loser) and what a halt
//! lets through under `risk.halt_exits`.

use super::*;
use crate::risk::{HaltExits, PartialState};

fn step(rig: &mut Alone, input: RiskInput) -> Vec<OrderIntent> {
    rig.push(&[input]);
    intents(&rig.run())
}

/// A long of S0 entered at 100.05 (the ask) with its stop at 98, filled.
fn long_s0(config: &RiskConfig) -> (Alone, OrderIntent) {
    let mut rig = alone(config, true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    rig.fill(&entry, "100.05");
    rig.run();
    (rig, entry)
}

#[test]
fn a_winner_gets_an_add_only_once_the_whole_position_fits_the_risk_budget() {
    let config = RiskConfig {
        scale_in: true,
        max_exposure_pct: Money::from_rupees(500),
        ..uncapped()
    };
    let (mut rig, entry) = long_s0(&config);
    // ₹20 000 of risk over the 2.05 to the stop: 9756 shares, the whole budget.
    assert_eq!(entry.qty, Qty::new(9756));
    let s0 = InstrumentId(0);
    // +1% of 100.05 is 101.0505: not yet.
    assert!(step(&mut rig, tick(0, at(10, 5, 0), "101.05", "101", "101.10")).is_empty());
    // Due, but the held shares already risk the whole budget at the stop of 98: the add
    // is refused (sized on the whole position), and not tried again at the same best.
    assert!(step(
        &mut rig,
        tick(0, at(10, 6, 0), "101.10", "101.05", "101.15")
    )
    .is_empty());
    assert!(step(
        &mut rig,
        tick(0, at(10, 6, 1), "101.10", "101.05", "101.15")
    )
    .is_empty());
    // At +2.9% the trail (from +2%, 1% behind the best) lifts the stop to 101.97 and
    // locks profit in: now the add fits, half the position, 4878 shares, at the stop.
    let add = step(&mut rig, tick(0, at(10, 7, 0), "103", "102.95", "103.05"));
    assert_eq!(add.len(), 1);
    assert_eq!(
        (add[0].side, add[0].qty, add[0].reason, add[0].reference),
        (Side::Buy, Qty::new(4878), IntentReason::Entry, px("103.05"))
    );
    assert_eq!(rig.risk.book().position(s0).stop(), px("101.97"));
    rig.fill(&add[0], "103.05");
    rig.run();
    let p = *rig.risk.book().position(s0);
    assert_eq!(p.net(), 9756 + 4878);
    // The add's stop (101.95, the trail's 101.97 rounded down to the tick) does not
    // loosen the stop in force.
    assert_eq!(p.stop(), px("101.97"));
    let plan = rig.risk.exits().plan(s0);
    assert_eq!((plan.adds, plan.entry), (1, px("100.05")));
    // One add at most (the default): nothing more as the winner runs on.
    assert!(step(&mut rig, tick(0, at(10, 9, 0), "106", "105.95", "106.05")).is_empty());
    // The trailing stop closes everything, adds included.
    let exit = step(
        &mut rig,
        tick(0, at(10, 10, 0), "104.90", "104.85", "104.95"),
    );
    assert_eq!(
        (exit[0].qty, exit[0].reason),
        (Qty::new(14634), IntentReason::TrailingStop)
    );
    let report = rig.risk.finish();
    assert_eq!(report.counter("scale_ins"), 1);
    assert_eq!(report.counter("scale_ins_refused"), 1);
    let trading = report.detail::<TradingSummary>().unwrap();
    assert_eq!((trading.scale_ins, trading.scale_ins_refused), (1, 1));
}

#[test]
fn no_add_while_reducing_or_with_scaling_off() {
    for (config, state) in [
        (
            RiskConfig {
                scale_in: true,
                max_exposure_pct: Money::from_rupees(500),
                ..uncapped()
            },
            TradingState::Reducing,
        ),
        (
            RiskConfig {
                max_exposure_pct: Money::from_rupees(500),
                ..uncapped()
            },
            TradingState::Active,
        ),
    ] {
        let (mut rig, _) = long_s0(&config);
        rig.push(&[scheduled(at(10, 1, 0), ControlCommand::SetState(state))]);
        rig.run();
        assert!(step(&mut rig, tick(0, at(10, 7, 0), "103", "102.95", "103.05")).is_empty());
        let report = rig.risk.finish();
        assert_eq!(report.counter("scale_ins"), 0);
        assert_eq!(report.counter("scale_ins_refused"), 0);
    }
}

#[test]
fn a_loser_is_cut_by_a_real_order_once_and_the_stop_takes_the_rest() {
    let config = RiskConfig {
        scale_out: true,
        ..uncapped()
    };
    let (mut rig, entry) = long_s0(&config);
    let s0 = InstrumentId(0);
    let held = entry.qty.get();
    // 0.5% of 100.05 is 0.50025 below it: 99.54975.
    assert!(step(&mut rig, tick(0, at(10, 1, 0), "99.55", "99.50", "99.60")).is_empty());
    let cut = step(&mut rig, tick(0, at(10, 2, 0), "99.50", "99.45", "99.55"));
    assert_eq!(
        (cut[0].side, cut[0].qty, cut[0].reason),
        (Side::Sell, Qty::new(held / 2), IntentReason::Reduce)
    );
    assert_eq!(
        rig.risk.book().position(s0).net(),
        i64::from(held),
        "until it fills"
    );
    rig.fill(&cut[0], "99.45");
    rig.run();
    let rest = held - held / 2;
    assert_eq!(rig.risk.book().position(s0).net(), i64::from(rest));
    assert!(rig.risk.exits().plan(s0).reduced);
    // Not cut again further down; the stop closes the rest.
    assert!(step(&mut rig, tick(0, at(10, 3, 0), "99", "98.95", "99.05")).is_empty());
    let stop = step(&mut rig, tick(0, at(10, 4, 0), "98", "97.95", "98.05"));
    assert_eq!(
        (stop[0].qty, stop[0].reason),
        (Qty::new(rest), IntentReason::StopLoss)
    );
    let report = rig.risk.finish();
    let forced: Vec<_> = report
        .detail::<TradingSummary>()
        .unwrap()
        .forced_exits
        .iter()
        .copied()
        .filter(|&(_, n)| n > 0)
        .collect();
    assert_eq!(forced, [("stop_loss", 1), ("reduce", 1)]);
}

#[test]
fn halted_lets_only_manual_exits_through_unless_protective() {
    for policy in [HaltExits::Manual, HaltExits::Protective] {
        let config = RiskConfig {
            halt_exits: policy,
            ..uncapped()
        };
        let (mut rig, entry) = long_s0(&config);
        let s0 = InstrumentId(0);
        rig.push(&[scheduled(
            at(10, 1, 0),
            ControlCommand::SetState(TradingState::Halted),
        )]);
        rig.run();
        // The mark falls through the stop while halted.
        let sent = step(&mut rig, tick(0, at(10, 2, 0), "97.90", "97.85", "97.95"));
        match policy {
            HaltExits::Manual => {
                assert!(sent.is_empty(), "the stop waits for the operator");
                assert_eq!(
                    rig.risk.book().position(s0).net(),
                    i64::from(entry.qty.get())
                );
                // Resuming sends the stop's exit on the next mark.
                rig.push(&[scheduled(
                    at(10, 3, 0),
                    ControlCommand::SetState(TradingState::Active),
                )]);
                rig.run();
                let exit = step(&mut rig, tick(0, at(10, 3, 1), "97.90", "97.85", "97.95"));
                assert_eq!(exit[0].reason, IntentReason::StopLoss);
            }
            HaltExits::Protective => {
                assert_eq!(sent[0].reason, IntentReason::StopLoss);
            }
        }
        let report = rig.risk.finish();
        let held = report.counter("exits_held_by_halt");
        assert_eq!(held > 0, policy == HaltExits::Manual, "{policy:?}: {held}");
        let trading = report.detail::<TradingSummary>().unwrap();
        assert_eq!(trading.exits_held_by_halt, held, "the summary says it too");
        assert_eq!(rig_partial(&report), PartialState::Open);
    }
}

/// Nothing in these tests books a target.
fn rig_partial(report: &StageReport) -> PartialState {
    let trading = report.detail::<TradingSummary>().unwrap();
    if trading
        .forced_exits
        .iter()
        .any(|&(k, n)| k == "target" && n > 0)
    {
        PartialState::Booked
    } else {
        PartialState::Open
    }
}

#[test]
fn a_halt_that_leaves_positions_open_under_manual_exits_says_so() {
    use crate::{model::ControlReply, runtime::ControlPort};
    for (policy, expected) in [(HaltExits::Manual, true), (HaltExits::Protective, false)] {
        let config = RiskConfig {
            halt_exits: policy,
            ..uncapped()
        };
        let (mut rig, _) = long_s0(&config);
        let (_commands_tx, commands) = channel(64);
        let (replies, mut said) = channel(256);
        let risk = std::mem::replace(&mut rig.risk, alone(&config, true).risk);
        *rig.risk = risk.with_control(ControlPort::new(commands, replies, 1));
        rig.push(&[scheduled(
            at(10, 1, 0),
            ControlCommand::SetState(TradingState::Halted),
        )]);
        rig.run();
        let mut kinds = Vec::new();
        while let Ok(reply) = said.try_pop() {
            if let ControlReply::Alert(a) = reply {
                kinds.push(a.kind);
            }
        }
        assert!(kinds.contains(&"trading_halted"), "{kinds:?}");
        assert_eq!(
            kinds.contains(&"halted_with_positions"),
            expected,
            "{policy:?}: {kinds:?}"
        );
    }
}
