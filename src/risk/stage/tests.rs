//! The risk stage with real rings: alone (the test answers its intents), and wired to the
//! order stage with the paper gateway, polled round-robin in the test thread.

use std::{sync::Arc, thread};

use tickpipe_ringbuf::{channel, Consumer, Producer};

use super::*;
use crate::{
    charges::{ChargeModel, ChargesConfig},
    model::{
        Date, Exchange, Instrument, InstrumentKind, RejectReason, ReviewAnswer, ReviewRequest,
        SectorId, Segment, StateReason, StrategyId, TickKind, TimeOfDay,
    },
    order::{OrderStage, PaperGateway},
    risk::PositionSnapshot,
};

// ----- fixtures ------------------------------------------------------------------------

const DAY: Date = Date::new(2026, 11, 25);
/// Instruments 0–3 are cash equities, 4 is an index, 5 a future with lots of 75.
const INDEX: u32 = 4;
const FUTURE: u32 = 5;

/// The default limits without the per-position value cap, the order value cap, the
/// day's loss and drawdown limits and the stale-quote check (signals here often come
/// long after their instrument's last tick, or before any), so the tests below see risk
/// sizing and the exposure cap alone (the others have their own tests beside their
/// checks, and below; staleness in `tests/stale.rs`), taken of the fixed capital so that
/// the figures do not move with the day's P&L (sizing on equity has its own test).
fn uncapped() -> RiskConfig {
    RiskConfig {
        stale_quote_secs: 0,
        max_position_pct: Money::from_rupees(500),
        max_order_value: Money::from_rupees(10_000_000),
        daily_loss_pct: Money::from_rupees(100),
        drawdown_warn_pct: Money::from_rupees(100),
        drawdown_halt_pct: Money::from_rupees(100),
        sizing_basis: SizingBasis::Capital,
        ..RiskConfig::default()
    }
}

fn table() -> InstrumentTable {
    let mut t = InstrumentTable::new();
    let mut add = |symbol: &str, kind, lot_size| {
        t.push(Instrument {
            id: InstrumentId(0),
            symbol: symbol.into(),
            exchange: Exchange::Nse,
            segment: Segment::Cash,
            kind,
            underlying: None,
            expiry: None,
            strike: None,
            option_type: None,
            lot_size,
            tick_size: Price::from_paise(5),
            freeze_qty: 0,
            sector: SectorId(0),
        })
        .unwrap();
    };
    for symbol in ["S0", "S1", "S2", "S3"] {
        add(symbol, InstrumentKind::Equity, 1);
    }
    add("NIFTY 50", InstrumentKind::Index, 1);
    add("NIFTYFUT", InstrumentKind::Future, 75);
    t
}

fn at(h: u32, m: u32, s: u64) -> UnixNanos {
    UnixNanos::from_ist(DAY, TimeOfDay::hm(h, m)).add_nanos(s * 1_000_000_000)
}

fn px(text: &str) -> Price {
    text.parse().unwrap()
}

fn money(text: &str) -> Money {
    text.parse().unwrap()
}

fn tick_at(id: u32, ts: UnixNanos, last: &str, bid: &str, ask: &str) -> Tick {
    Tick {
        exchange_ts: ts,
        ingress: Stamp(0),
        last: px(last),
        bid: px(bid),
        ask: px(ask),
        instrument: InstrumentId(id),
        volume: 0,
        last_qty: 1,
        bid_qty: 100,
        ask_qty: 100,
        kind: TickKind::Trade,
    }
}

fn tick(id: u32, ts: UnixNanos, last: &str, bid: &str, ask: &str) -> RiskInput {
    RiskInput::Tick(tick_at(id, ts, last, bid, ask))
}

fn signal(
    id: u32,
    strategy: u16,
    direction: Direction,
    price: &str,
    stop: &str,
    ts: UnixNanos,
) -> RiskInput {
    RiskInput::Signal(Signal {
        exchange_ts: ts,
        ingress: Stamp(ts.0 / 1000),
        price: px(price),
        stop: px(stop),
        target: Price::ZERO,
        instrument: InstrumentId(id),
        strategy: StrategyId(strategy),
        direction,
        weight_pct: Signal::FULL_WEIGHT,
    })
}

use Direction::{Flat, Long, Short};

// ----- the risk stage alone --------------------------------------------------------------

/// The risk stage with the test playing signal stage and order stage.
struct Alone {
    feed: Option<Producer<RiskInput>>,
    answers: Option<Producer<OrderOutput>>,
    out: Consumer<OrderInput>,
    risk: Box<RiskStage>,
    telemetry: Arc<Telemetry>,
}

fn alone(config: &RiskConfig, market_sync: bool) -> Alone {
    alone_charged(config, market_sync, Charger::free(table().len()))
}

fn alone_charged(config: &RiskConfig, market_sync: bool, charger: Charger) -> Alone {
    let (feed, input) = channel(256);
    let (answers, reports) = channel(256);
    let (out, out_rx) = channel(256);
    let telemetry = Arc::new(Telemetry::default());
    let risk = Box::new(
        RiskStage::new(
            config,
            &table(),
            2,
            input,
            reports,
            Outbox::new(out),
            LatencyClock::new(),
            telemetry.clone(),
            market_sync,
        )
        .with_charges(charger),
    );
    Alone {
        feed: Some(feed),
        answers: Some(answers),
        out: out_rx,
        risk,
        telemetry,
    }
}

impl Alone {
    fn push(&mut self, inputs: &[RiskInput]) {
        for input in inputs {
            self.feed.as_mut().unwrap().try_push(*input).unwrap();
        }
    }

    /// Polls until idle and returns everything sent to the order stage but the
    /// market-time syncs (a final answer below confirms them).
    fn run(&mut self) -> Vec<OrderInput> {
        for _ in 0..100 {
            match self.risk.poll() {
                Poll::Work(_) => continue,
                Poll::Idle | Poll::Done => break,
            }
        }
        std::iter::from_fn(|| self.out.try_pop().ok())
            .filter(|o| !matches!(o, OrderInput::Sync(_) | OrderInput::EndSession(_)))
            .collect()
    }

    fn answer(&mut self, intent: &OrderIntent, kind: ExecKind, qty: u32, price: &str) {
        let report = ExecReport {
            intent: intent.id,
            exchange_ts: intent.exchange_ts,
            ingress: intent.ingress,
            last_price: if qty > 0 { px(price) } else { Price::ZERO },
            instrument: intent.instrument,
            last_qty: Qty::new(qty),
            cum_qty: Qty::new(qty),
            leaves_qty: Qty::ZERO,
            strategy: intent.strategy,
            side: intent.side,
            kind,
            reject: if kind == ExecKind::Rejected {
                RejectReason::NoQuote
            } else {
                RejectReason::None
            },
            trade: crate::model::TradeId(0),
        };
        let answers = self.answers.as_mut().unwrap();
        answers.try_push(OrderOutput::Report(report)).unwrap();
        if kind.is_terminal() {
            // The paper exchange's order stage confirms the sync after the final answer.
            answers
                .try_push(OrderOutput::Synced(intent.exchange_ts))
                .unwrap();
        }
    }

    /// Answers with Accepted then Filled at `price`.
    fn fill(&mut self, intent: &OrderIntent, price: &str) {
        self.answer(intent, ExecKind::Accepted, 0, price);
        self.answer(intent, ExecKind::Filled, intent.qty.get(), price);
    }
}

fn intents(outputs: &[OrderInput]) -> Vec<OrderIntent> {
    outputs
        .iter()
        .filter_map(|o| match o {
            OrderInput::Intent(i) => Some(*i.intent()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_tick_goes_out_before_the_intent_and_the_intent_is_exact() {
    let mut rig = alone(&uncapped(), true);
    let t = tick_at(0, at(10, 0, 0), "100", "99.95", "100.05");
    let s = signal(0, 1, Long, "100", "99.50", at(10, 0, 0));
    rig.push(&[RiskInput::Tick(t), s]);
    let out = rig.run();
    let RiskInput::Signal(sig) = s else {
        unreachable!()
    };
    assert_eq!(
        out,
        [
            OrderInput::Quote(t),
            OrderInput::Intent(RiskApproved::for_tests(OrderIntent {
                id: IntentId::new(1, 0),
                exchange_ts: sig.exchange_ts,
                ingress: sig.ingress,
                limit: Price::ZERO,
                // Priced at the ask, 100.05: 20 000 / 0.55 = 36 363 shares; the 7 lakh
                // cap allows 6996.
                qty: Qty::new(6996),
                instrument: InstrumentId(0),
                strategy: StrategyId(1),
                side: Side::Buy,
                reason: IntentReason::Entry,
                reference: "100.05".parse().unwrap(),
            })),
        ]
    );
    assert_eq!(rig.risk.book().reserved(), money("699949.80"));
    assert_eq!(
        rig.risk.book().position(InstrumentId(0)).owner(),
        Some(StrategyId(1))
    );
    assert_eq!(rig.telemetry.risk.intents.get(), 1);
}

#[test]
fn market_sync_reads_nothing_until_the_order_stage_is_synced() {
    let mut rig = alone(&uncapped(), true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
        tick(1, at(10, 0, 1), "50", "49.95", "50.05"),
    ]);
    let entry = intents(&rig.run())[0];
    assert_eq!(rig.risk.in_flight(), 1);
    assert_eq!(rig.run(), [], "the next tick waits");
    rig.answer(&entry, ExecKind::Accepted, 0, "0");
    assert_eq!(rig.run(), [], "accepted is not final");
    rig.answer(&entry, ExecKind::Filled, 7000, "100.05");
    let out = rig.run();
    assert!(matches!(out[..], [OrderInput::Quote(q)] if q.instrument == InstrumentId(1)));
    let p = rig.risk.book().position(InstrumentId(0));
    assert_eq!(
        (p.net(), p.stop(), p.avg_price()),
        (7000, px("98"), px("100.05"))
    );
    assert_eq!(rig.risk.book().reserved(), Money::ZERO);
    assert_eq!(rig.telemetry.risk.open_positions.get(), 1);
    // mark 100, avg 100.05: −0.05 × 7000
    assert_eq!(rig.telemetry.risk.pnl_paise.get(), -35_000);
}

/// An allocation review waits for the order stage to confirm every answer due by now.
/// An order still working after that confirmation (a resting limit, an order the venue
/// has not answered yet) must not make the stage ask again and again at the same market
/// time: the review is answered and input is read on.
#[test]
fn a_review_is_answered_while_an_order_keeps_working() {
    let mut rig = alone(&uncapped(), true);
    let (answer_tx, mut answer_rx) = channel::<ReviewAnswer>(16);
    let (strategies, instruments) = (2, table().len());
    let risk = std::mem::replace(&mut rig.risk, alone(&uncapped(), true).risk);
    *rig.risk = (*risk).with_review(crate::risk::review::ReviewDesk::new(
        strategies,
        instruments,
        Outbox::new(answer_tx),
    ));
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
        RiskInput::Review(ReviewRequest {
            exchange_ts: at(10, 0, 0),
            seq: 1,
        }),
        tick(1, at(10, 0, 1), "50", "49.95", "50.05"),
    ]);
    let entry = intents(&rig.run())[0];
    // The venue acknowledges; the order works on past the sync.
    rig.answer(&entry, ExecKind::Accepted, 0, "0");
    rig.answers
        .as_mut()
        .unwrap()
        .try_push(OrderOutput::Synced(at(10, 0, 0)))
        .unwrap();
    for _ in 0..100 {
        if let Poll::Idle | Poll::Done = rig.risk.poll() {
            break;
        }
    }
    let syncs = std::iter::from_fn(|| rig.out.try_pop().ok())
        .filter(|o| matches!(o, OrderInput::Sync(t) if *t == at(10, 0, 0)))
        .count();
    assert_eq!(syncs, 0, "no repeat of the sync already answered");
    let answered = std::iter::from_fn(|| answer_rx.try_pop().ok()).collect::<Vec<_>>();
    assert_eq!(answered.last(), Some(&ReviewAnswer::End { seq: 1 }));
    assert_eq!(rig.risk.in_flight(), 1, "the entry is still working");
}

#[test]
fn without_market_sync_input_flows_while_intents_are_out() {
    let mut rig = alone(&uncapped(), false);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
        signal(0, 0, Flat, "100", "0", at(10, 0, 0)),
        tick(1, at(10, 0, 1), "50", "49.95", "50.05"),
    ]);
    let out = rig.run();
    assert_eq!(out.len(), 3);
    assert_eq!(rig.risk.refusals(Refusal::OrderInFlight), 1);
}

#[test]
fn a_reversal_sends_the_exit_then_the_entry_and_stops_protect_shorts() {
    let mut rig = alone(&uncapped(), true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
    ]);
    let long = intents(&rig.run())[0];
    rig.fill(&long, "100.05");
    rig.push(&[
        tick(0, at(10, 5, 0), "101", "100.95", "101.05"),
        signal(0, 0, Short, "101", "102", at(10, 5, 0)),
    ]);
    let sent = intents(&rig.run());
    assert_eq!(sent.len(), 2);
    let (exit, entry) = (sent[0], sent[1]);
    assert_eq!(
        (exit.id, exit.side, exit.qty, exit.reason),
        (
            IntentId::new(2, 0),
            Side::Sell,
            Qty::new(6996),
            IntentReason::Exit
        )
    );
    // The exit frees the long's 7.07 lakh, so the short is sized against an empty book,
    // at the bid (100.95), on the fixed capital (`uncapped` sizes on capital): 70% of
    // 10 lakh is 7 lakh, / 100.95 = 6934.1 → 6934. (Sized on equity, up
    // 6996 × 0.95 = 6646.20, it would be 6980.)
    assert_eq!(
        (entry.id, entry.side, entry.qty, entry.reason),
        (
            IntentId::new(3, 1),
            Side::Sell,
            Qty::new(6934),
            IntentReason::Entry
        )
    );
    rig.fill(&exit, "100.95");
    rig.fill(&entry, "100.95");
    rig.run();
    let book = rig.risk.book();
    let p = book.position(InstrumentId(0));
    assert_eq!((p.net(), p.stop()), (-6934, px("102")));
    // 6996 × (100.95 − 100.05)
    assert_eq!(book.realized(), money("6296.40"));

    rig.push(&[tick(0, at(10, 6, 0), "101.95", "101.90", "102.00")]);
    assert_eq!(intents(&rig.run()), []);
    rig.push(&[tick(0, at(10, 6, 1), "102", "101.95", "102.05")]);
    let stop = intents(&rig.run());
    assert_eq!(
        stop.iter()
            .map(|i| (i.side, i.qty, i.reason))
            .collect::<Vec<_>>(),
        [(Side::Buy, Qty::new(6934), IntentReason::StopLoss)]
    );
    assert_eq!(stop[0].exchange_ts, at(10, 6, 1));
}

#[test]
fn a_rejected_entry_releases_its_reservation_and_the_instrument() {
    let mut rig = alone(&uncapped(), true);
    rig.push(&[signal(2, 0, Long, "500", "490", at(9, 20, 0))]);
    let entry = intents(&rig.run())[0];
    assert_eq!(rig.risk.book().reserved(), money("700000"));
    rig.answer(&entry, ExecKind::Rejected, 0, "0");
    rig.push(&[signal(2, 1, Long, "500", "490", at(9, 20, 1))]);
    let again = intents(&rig.run());
    assert_eq!(again.len(), 1, "strategy 1 may trade it now");
    assert_eq!(again[0].strategy, StrategyId(1));
    assert_eq!(rig.risk.book().reserved(), money("700000"));
}

#[test]
fn done_waits_for_the_last_answer() {
    let mut rig = alone(&uncapped(), true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    rig.feed = None;
    assert_eq!(rig.risk.poll(), Poll::Idle, "an intent is in flight");
    rig.fill(&entry, "100.05");
    assert_eq!(rig.risk.poll(), Poll::Work(3), "two answers and the sync's");
    assert_eq!(rig.risk.poll(), Poll::Done);
    let report = rig.risk.finish();
    assert_eq!(report.name, "risk");
    assert!(report.error.is_none());
    assert_eq!(report.counter("fills"), 1);
    assert_eq!(report.counter("intents"), 1);
    assert_eq!(report.counter("marks"), 1);
    assert_eq!(report.counter("signals"), 1);
    // One message in every 16 is timed, the first of them included.
    assert_eq!(report.service.len(), 4_u64.div_ceil(16));
}

#[test]
fn a_vanished_order_stage_ends_the_stage_with_an_error() {
    let mut rig = alone(&uncapped(), true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
    ]);
    rig.run();
    rig.answers = None;
    assert_eq!(rig.risk.poll(), Poll::Done);
    let report = rig.risk.finish();
    assert!(report.error.unwrap().to_string().contains("order stage"));
}

#[test]
fn the_fill_log_never_grows_past_its_capacity() {
    let config = RiskConfig {
        fill_log_capacity: 1,
        ..uncapped()
    };
    let mut rig = alone(&config, true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    rig.fill(&entry, "100.05");
    rig.push(&[signal(0, 0, Flat, "100", "0", at(10, 1, 0))]);
    let exit = intents(&rig.run())[0];
    rig.fill(&exit, "100");
    rig.run();
    rig.feed = None;
    assert_eq!(rig.risk.poll(), Poll::Done);
    let report = rig.risk.finish();
    let fills = report.counter("fills");
    let trading = report.detail::<TradingSummary>().cloned().unwrap();
    assert_eq!(trading.fills.len(), 1);
    assert_eq!(trading.fills_not_logged, 1);
    assert_eq!(fills, 2);
    assert_eq!(trading.strategies[0].round_trips, 1);
    // 6996 bought at 100.05, sold at 100.
    assert_eq!(trading.realized, money("-349.80"));
}

#[test]
fn fills_pay_charges_and_an_order_filled_in_parts_pays_brokerage_once() {
    let charger = Charger::new(ChargeModel::new(&ChargesConfig::default()), &table());
    let mut rig = alone_charged(&uncapped(), true, charger);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        // Priced at the ask, 100.05: 20 000 / 5.05 = 3960.4 → 3960 shares. (The figures
        // below are recomputed for 3960 from 4000, when entries were sized at the
        // signal's 100.)
        signal(0, 0, Long, "100", "95", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    assert_eq!(entry.qty, Qty::new(3960));
    // Filled in two parts: 0.03 % of ₹50 000 is ₹15, then of ₹3.96 lakh ₹118.80, capped
    // at ₹20: ₹15 + ₹5.
    rig.answer(&entry, ExecKind::Accepted, 0, "100");
    rig.answer(&entry, ExecKind::PartialFill, 500, "100");
    rig.answer(&entry, ExecKind::Filled, 3_460, "100");
    rig.run();
    let book = rig.risk.book();
    assert_eq!(book.charges().brokerage, money("20"));
    // Buy ₹3.96 lakh: transaction 0.00297 % = 11.7612, SEBI 0.396, stamp 0.003 % =
    // 11.88, GST 18 % × (20 + 11.7612 + 0.396) = 5.788296: ₹49.825496.
    assert_eq!(book.charges().total(), money("49.825496"));
    assert_eq!(book.position(InstrumentId(0)).charges(), money("49.825496"));
    rig.push(&[
        tick(0, at(10, 1, 0), "101", "100.95", "101.05"),
        signal(0, 0, Flat, "101", "0", at(10, 1, 0)),
    ]);
    let exit = intents(&rig.run())[0];
    rig.fill(&exit, "101");
    rig.run();
    rig.feed = None;
    rig.run();
    assert_eq!(rig.risk.poll(), Poll::Done);
    let trading = rig
        .risk
        .finish()
        .detail::<TradingSummary>()
        .cloned()
        .unwrap();
    // Sell ₹3.9996 lakh: brokerage 20, STT 0.025 % = 99.99, transaction 11.878812,
    // SEBI 0.39996, GST 18 % × (20 + 11.878812 + 0.39996) = 5.81017896: ₹138.07895096.
    assert_eq!(trading.charges.brokerage, money("40"));
    assert_eq!(trading.charges.stt, money("99.99"));
    assert_eq!(trading.charges.total(), money("187.90444696"));
    assert_eq!(trading.realized, money("3960"));
    assert_eq!(trading.strategies[0].charges, money("187.90444696"));
    assert_eq!(trading.positions[0].charges, money("187.90444696"));
    // ₹10 lakh capital + ₹3960 gross − ₹187.90444696 charges.
    assert_eq!(trading.equity, money("1003772.09555304"));
}

#[test]
fn entries_shrink_after_a_loss_when_sized_on_equity() {
    let config = RiskConfig {
        sizing_basis: SizingBasis::Equity,
        ..uncapped()
    };
    let mut rig = alone(&config, true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        // 2 % of ₹10 lakh over the ₹5.05 from the ask (100.05) to the stop: 3960 shares.
        // (Recomputed for entries priced at the touch: 4000 when sized at 100.)
        signal(0, 0, Long, "100", "95", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    assert_eq!(entry.qty, Qty::new(3960));
    rig.fill(&entry, "100");
    rig.push(&[
        tick(0, at(10, 1, 0), "95", "94.95", "95.05"),
        signal(0, 0, Flat, "95", "0", at(10, 1, 0)),
    ]);
    let exit = intents(&rig.run())[0];
    rig.fill(&exit, "95");
    rig.run();
    // Lost 3960 × 5 = ₹19 800: equity ₹9.802 lakh, 2 % is ₹19 604, over ₹5.05 from the
    // ask to the stop 3882.0 → 3881 shares (5.05 × 3882 = 19 604.10 is over budget).
    assert_eq!(rig.risk.book().equity(config.capital), money("980200"));
    rig.push(&[
        tick(1, at(10, 5, 0), "100", "99.95", "100.05"),
        signal(1, 0, Long, "100", "95", at(10, 5, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    assert_eq!(entry.qty, Qty::new(3881));
    // On the fixed capital the same entry is 3960 again.
    let mut rig = alone(&uncapped(), true);
    rig.push(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "95", at(10, 0, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    rig.fill(&entry, "100");
    rig.push(&[
        tick(0, at(10, 1, 0), "95", "94.95", "95.05"),
        signal(0, 0, Flat, "95", "0", at(10, 1, 0)),
    ]);
    let exit = intents(&rig.run())[0];
    rig.fill(&exit, "95");
    rig.push(&[
        tick(1, at(10, 5, 0), "100", "99.95", "100.05"),
        signal(1, 0, Long, "100", "95", at(10, 5, 0)),
    ]);
    let entry = intents(&rig.run())[0];
    assert_eq!(entry.qty, Qty::new(3960));
}

// ----- risk and order wired --------------------------------------------------------------

/// Risk and order stages with the paper gateway, polled round-robin in this thread.
struct Wired {
    feed: Option<Producer<RiskInput>>,
    risk: Option<Box<RiskStage>>,
    order: Option<Box<OrderStage>>,
    finished: Vec<StageReport>,
    telemetry: Arc<Telemetry>,
}

fn wired(config: &RiskConfig) -> Wired {
    wired_with(config, false)
}

/// [`wired`], with broker-side protective stops when `protective`.
fn wired_with(config: &RiskConfig, protective: bool) -> Wired {
    let instruments = table();
    let (feed, input) = channel(1024);
    let (reports_tx, reports) = channel(64);
    let (orders_tx, orders) = channel(64);
    let clock = LatencyClock::new();
    let telemetry = Arc::new(Telemetry::default());
    let risk = RiskStage::new(
        config,
        &instruments,
        2,
        input,
        reports,
        Outbox::new(orders_tx),
        clock.clone(),
        telemetry.clone(),
        true,
    )
    .with_protective_stops(protective);
    let order_config = crate::order::OrderConfig {
        protective_stop: protective,
        ..crate::order::OrderConfig::default()
    };
    let order = OrderStage::new(
        orders,
        Outbox::new(reports_tx),
        Box::new(PaperGateway::new(&instruments)),
        &instruments,
        crate::order::OrderSetup {
            config: &order_config,
            capacity: risk.in_flight_capacity(),
            strategies: 2,
        },
        clock,
        telemetry.clone(),
    );
    Wired {
        feed: Some(feed),
        risk: Some(Box::new(risk)),
        order: Some(Box::new(order)),
        finished: Vec::new(),
        telemetry,
    }
}

/// Polls a stage once; on Done, finishes and drops it. True when it worked or finished.
fn step<S: Stage + ?Sized>(slot: &mut Option<Box<S>>, finished: &mut Vec<StageReport>) -> bool {
    let Some(stage) = slot.as_mut() else {
        return false;
    };
    match stage.poll() {
        Poll::Work(_) => true,
        Poll::Idle => false,
        Poll::Done => {
            finished.push(slot.take().unwrap().finish());
            true
        }
    }
}

impl Wired {
    fn send(&mut self, inputs: &[RiskInput]) {
        for input in inputs {
            self.feed.as_mut().unwrap().try_push(*input).unwrap();
        }
        self.pump();
    }

    /// Polls both stages round-robin until neither has work.
    fn pump(&mut self) {
        for _ in 0..100_000 {
            let risk = step(&mut self.risk, &mut self.finished);
            let order = step(&mut self.order, &mut self.finished);
            if !risk && !order {
                return;
            }
        }
        panic!("the stages never settled");
    }

    fn risk(&self) -> &RiskStage {
        self.risk.as_ref().unwrap()
    }

    /// Drops the feed, runs both stages to Done, and returns (risk, order) reports.
    fn finish(mut self) -> (StageReport, StageReport) {
        self.feed = None;
        self.pump();
        assert!(
            self.risk.is_none() && self.order.is_none(),
            "both stages done"
        );
        let mut reports = self.finished.into_iter();
        let risk = reports.next().unwrap();
        let order = reports.next().unwrap();
        assert_eq!(
            (risk.name, order.name),
            ("risk", "order"),
            "risk finishes first"
        );
        (risk, order)
    }
}

fn fills_of(report: &StageReport) -> Vec<(u64, u32, Side, u32, Price, IntentReason)> {
    report
        .detail::<TradingSummary>()
        .unwrap()
        .fills
        .iter()
        .map(|f| {
            (
                f.intent.sequence(),
                f.instrument.0,
                f.side,
                f.qty.get(),
                f.price,
                f.reason,
            )
        })
        .collect()
}

#[test]
fn a_round_trip_fills_at_ask_then_bid_and_realises_to_the_paisa() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "100.05", "100.00", "100.10"),
        // At the ask, 100.10: 20 000 / 5.05 = 3960 shares, 3.96 lakh: inside the cap.
        signal(0, 0, Long, "100.05", "95.05", at(10, 0, 0)),
    ]);
    assert_eq!(w.risk().book().position(InstrumentId(0)).net(), 3960);
    w.send(&[
        tick(0, at(10, 30, 0), "101.00", "100.95", "101.05"),
        signal(0, 0, Flat, "101.00", "0", at(10, 30, 0)),
    ]);
    assert_eq!(w.telemetry.risk.pnl_paise.get(), 336_600);
    assert_eq!(w.telemetry.order.fills.get(), 2);
    let (risk, order) = w.finish();
    assert_eq!(
        fills_of(&risk),
        [
            (1, 0, Side::Buy, 3960, px("100.10"), IntentReason::Entry),
            (2, 0, Side::Sell, 3960, px("100.95"), IntentReason::Exit),
        ]
    );
    let fill = risk.detail::<TradingSummary>().unwrap().fills[1];
    assert_eq!(fill.exchange_ts, at(10, 30, 0), "timed at the quote");
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    // 3960 × (100.95 − 100.10)
    assert_eq!(trading.realized, money("3366"));
    assert_eq!(trading.unrealized, Money::ZERO);
    assert_eq!(
        trading.positions,
        [PositionSnapshot {
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            net: 0,
            avg_price: Price::ZERO,
            mark: px("101"),
            realized: money("3366"),
            charges: Money::ZERO,
            unrealized: Money::ZERO,
        }]
    );
    let s0 = trading.strategies[0];
    assert_eq!(
        (s0.realized, s0.fills, s0.round_trips),
        (money("3366"), 2, 1)
    );
    assert_eq!(trading.strategies[1].fills, 0);
    assert_eq!(order.counter("fills"), 2);
    assert_eq!(order.counter("quotes"), 2);
    let latency = order.latency("tick_to_intent").unwrap();
    assert_eq!(latency.len(), 2, "both intents carried an ingress stamp");
}

#[test]
fn stop_loss_closes_at_market() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "100.05", "100.00", "100.10"),
        signal(0, 0, Long, "100.05", "95.05", at(10, 0, 0)),
        tick(1, at(10, 0, 0), "40", "39.95", "40.05"),
        // Short at the bid, 39.95: 20 000 / 0.45 = 44 444 → room 70% of the fixed capital
        // (`uncapped` sizes on capital), 7 lakh, less 3960 × 100.05 = 3.038 lakh / 39.95
        // = 7604.6 → 7604 (7601 sized on equity, 10 lakh − 3960 × 0.05).
        signal(1, 1, Short, "40", "40.40", at(10, 0, 1)),
        tick(0, at(11, 0, 0), "95.10", "95.05", "95.15"),
        tick(1, at(11, 0, 1), "40.35", "40.30", "40.40"),
    ]);
    assert_eq!(w.risk().book().open_positions(), 2, "neither stop reached");
    w.send(&[
        tick(0, at(11, 1, 0), "95.05", "95.00", "95.10"),
        tick(1, at(11, 1, 1), "40.40", "40.35", "40.45"),
    ]);
    assert_eq!(w.risk().book().open_positions(), 0);
    let (risk, _) = w.finish();
    assert_eq!(
        fills_of(&risk),
        [
            (1, 0, Side::Buy, 3960, px("100.10"), IntentReason::Entry),
            (2, 1, Side::Sell, 7604, px("39.95"), IntentReason::Entry),
            (3, 0, Side::Sell, 3960, px("95.00"), IntentReason::StopLoss),
            (4, 1, Side::Buy, 7604, px("40.45"), IntentReason::StopLoss),
        ]
    );
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    // 3960 × (95.00 − 100.10) = −20 196; 7604 × (39.95 − 40.45) = −3802
    assert_eq!(trading.strategies[0].realized, money("-20196"));
    assert_eq!(trading.strategies[1].realized, money("-3802"));
    assert_eq!(trading.realized, money("-23998"));
    assert_eq!(trading.risk_events.forced_exits, [("stop_loss", 2)]);
}

#[test]
fn square_off_closes_every_position_and_ends_entries() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "200", "199.95", "200.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        tick(FUTURE, at(10, 0, 0), "24000", "23999", "24001"),
        // At the ask: 20 000 / 10.05 = 1990 shares, 3.98 lakh.
        signal(0, 0, Long, "200", "190", at(10, 0, 1)),
        // At the bid: 20 000 / 1.05 = 19 047; room 70% of the fixed capital (`uncapped`
        // sizes on capital), 7 lakh, less 1990 × 200 = 3.02 lakh / 49.95 = 6046.04 → 6046
        // (6044 sized on equity, 10 lakh − 99.50).
        signal(1, 1, Short, "50", "51", at(10, 0, 2)),
        tick(2, at(14, 59, 59), "10", "9.95", "10.05"),
        signal(2, 0, Long, "10", "9", at(15, 0, 0)),
        tick(3, at(15, 14, 59), "10", "9.95", "10.05"),
    ]);
    assert_eq!(w.risk().book().open_positions(), 2);
    assert_eq!(w.risk().refusals(Refusal::AfterLastEntry), 1);
    w.send(&[tick(3, at(15, 15, 0), "10", "9.95", "10.05")]);
    assert_eq!(w.risk().book().open_positions(), 0);
    w.send(&[
        tick(0, at(15, 16, 0), "201", "200.95", "201.05"),
        signal(0, 0, Long, "201", "195", at(15, 16, 0)),
    ]);
    assert_eq!(w.risk().refusals(Refusal::AfterLastEntry), 2);
    let (risk, order) = w.finish();
    assert_eq!(
        fills_of(&risk),
        [
            (1, 0, Side::Buy, 1990, px("200.05"), IntentReason::Entry),
            (2, 1, Side::Sell, 6046, px("49.95"), IntentReason::Entry),
            (
                3,
                0,
                Side::Sell,
                1990,
                px("199.95"),
                IntentReason::SquareOff
            ),
            (4, 1, Side::Buy, 6046, px("50.05"), IntentReason::SquareOff),
        ]
    );
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    // 1990 × −0.10 + 6046 × −0.10
    assert_eq!(trading.realized, money("-803.60"));
    assert_eq!(trading.risk_events.forced_exits, [("square_off", 2)]);
    assert_eq!(trading.refusals, [("after_last_entry", 2)]);
    assert_eq!(order.counter("orders"), 4);
}

#[test]
fn the_exposure_cap_shrinks_then_refuses() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "1000", "999.95", "1000.05"),
        tick(1, at(10, 0, 0), "1000", "999.95", "1000.05"),
        // At the ask: 20 000 / 10.05 = 1990 shares, 19.9 lakh: shrunk to 7 lakh /
        // 1000.05 = 699.
        signal(0, 0, Long, "1000", "990", at(10, 0, 1)),
        // 7 lakh − 699 × 1000: 1000 of room, not one share at 1000.05.
        signal(1, 1, Long, "1000", "990", at(10, 0, 2)),
    ]);
    assert_eq!(w.risk().book().position(InstrumentId(0)).net(), 699);
    assert_eq!(w.risk().book().gross_exposure(), money("699000"));
    assert_eq!(w.risk().refusals(Refusal::ExposureLimit), 1);
    w.send(&[
        // The mark falls to 995: on the fixed capital (`uncapped` sizes on capital) 70%
        // of 10 lakh less 699 × 995 leaves 4495, which buys 8 at 500.05. (On equity,
        // 9 96 470.05, it left 2024.04: 4.)
        tick(0, at(10, 5, 0), "995", "994.95", "995.05"),
        tick(1, at(10, 5, 0), "500", "499.95", "500.05"),
        signal(1, 1, Long, "500", "495", at(10, 5, 1)),
    ]);
    assert_eq!(w.risk().book().position(InstrumentId(1)).net(), 8);
    let (risk, _) = w.finish();
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    assert_eq!(trading.refusals, [("exposure_limit", 1)]);
    assert_eq!(trading.positions.len(), 2);
    // 699 × (995 − 1000.05) + 8 × (500 − 500.05)
    assert_eq!(trading.unrealized, money("-3530.35"));
}

#[test]
fn every_refusal_is_counted_by_reason() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "95", at(10, 0, 1)),
        signal(0, 0, Long, "100", "95", at(10, 0, 2)), // already_in_position
        signal(0, 1, Flat, "100", "0", at(10, 0, 3)),  // owned_by_other_strategy
        signal(0, 1, Short, "100", "105", at(10, 0, 4)), // owned_by_other_strategy
        signal(1, 0, Flat, "50", "0", at(10, 0, 5)),   // already_flat
        signal(9, 0, Long, "50", "49", at(10, 0, 6)),  // unknown_instrument
        signal(1, 7, Long, "50", "49", at(10, 0, 7)),  // unknown_strategy
        signal(INDEX, 0, Long, "24000", "23900", at(10, 0, 8)), // not_tradable
        signal(1, 0, Long, "50", "51", at(10, 0, 9)),  // stop_on_wrong_side
        signal(1, 0, Long, "0", "0", at(10, 0, 10)),   // no_reference_price
        // 20 000 / 400 = 50 units: less than one lot of 75.
        signal(FUTURE, 0, Long, "24000", "23600", at(10, 0, 11)), // below_one_lot
    ]);
    let (risk, _) = w.finish();
    assert_eq!(risk.counter("refused"), 10);
    assert_eq!(risk.counter("signals"), 11);
    let mut refusals = risk.detail::<TradingSummary>().cloned().unwrap().refusals;
    refusals.sort();
    assert_eq!(
        refusals,
        [
            ("already_flat", 1),
            ("already_in_position", 1),
            ("below_one_lot", 1),
            ("no_reference_price", 1),
            ("not_tradable", 1),
            ("owned_by_other_strategy", 2),
            ("stop_on_wrong_side", 1),
            ("unknown_instrument", 1),
            ("unknown_strategy", 1),
        ]
    );
}

#[test]
fn an_order_without_a_quote_is_rejected_and_risk_moves_on() {
    let mut w = wired(&uncapped());
    w.send(&[signal(2, 0, Long, "500", "490", at(9, 20, 0))]);
    assert_eq!(w.risk().in_flight(), 0);
    assert_eq!(w.risk().book().reserved(), Money::ZERO);
    assert_eq!(w.risk().book().position(InstrumentId(2)).owner(), None);
    let (risk, order) = w.finish();
    assert_eq!(order.counter("rejects"), 1);
    assert_eq!(risk.counter("fills"), 0);
    assert!(risk
        .detail::<TradingSummary>()
        .cloned()
        .unwrap()
        .positions
        .is_empty());
}

#[test]
fn done_comes_only_after_the_producers_are_dropped() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 0)),
    ]);
    w.pump();
    assert!(
        w.risk.is_some() && w.order.is_some(),
        "the feed is still connected"
    );
    let (risk, order) = w.finish();
    assert!(risk.error.is_none() && order.error.is_none());
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    assert_eq!(
        trading.positions[0].net, 6996,
        "left open: no square-off time seen"
    );
    assert_eq!(trading.unrealized, money("-349.80"));
}

// ----- the same day on one thread and on two ---------------------------------------------

/// A deterministic day: four instruments random-walking from 14:30 past square-off, and
/// two strategies signalling every few ticks until 14:58, so that some positions are
/// still open at 15:15.
fn synthetic_day(events: usize) -> Vec<RiskInput> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut paise = [10_000i64, 25_000, 4_000, 150_000];
    let mut out = Vec::with_capacity(events * 2);
    for step in 0..events {
        let i = step % paise.len();
        let r = next();
        paise[i] = (paise[i] + (r % 21) as i64 * 5 - 50).max(100);
        let ts = at(14, 30, 0).add_nanos(step as u64 * 900_000_000);
        let last = Price::from_paise(paise[i]);
        let spread = Price::from_paise(5);
        let mut t = tick_at(i as u32, ts, "0", "0", "0");
        t.last = last;
        t.bid = last.checked_sub(spread).unwrap();
        t.ask = last.checked_add(spread).unwrap();
        out.push(RiskInput::Tick(t));
        if step % 5 == 0 && ts < at(14, 58, 0) {
            let direction = [Long, Short, Flat][(r >> 20) as usize % 3];
            let stop = match ((r >> 30) % 2, direction) {
                (0, Long) => last.checked_sub(Price::from_paise(paise[i] / 200)).unwrap(),
                (0, Short) => last.checked_add(Price::from_paise(paise[i] / 200)).unwrap(),
                _ => Price::ZERO,
            };
            out.push(RiskInput::Signal(Signal {
                exchange_ts: ts,
                ingress: Stamp(0),
                price: last,
                stop,
                target: Price::ZERO,
                instrument: InstrumentId(i as u32),
                strategy: StrategyId(((r >> 40) % 2) as u16),
                direction,
                weight_pct: Signal::FULL_WEIGHT,
            }));
        }
    }
    out
}

fn one_thread(events: &[RiskInput]) -> TradingSummary {
    let mut w = wired(&uncapped());
    for chunk in events.chunks(512) {
        w.send(chunk);
    }
    let (risk, _) = w.finish();
    risk.detail::<TradingSummary>().cloned().unwrap()
}

fn two_threads(events: &[RiskInput]) -> TradingSummary {
    let mut w = wired(&uncapped());
    let mut order = w.order.take().unwrap();
    let order_thread = thread::spawn(move || loop {
        match order.poll() {
            Poll::Done => return order.finish(),
            Poll::Idle => thread::yield_now(),
            Poll::Work(_) => {}
        }
    });
    let mut feed = w.feed.take().unwrap();
    let mut risk = w.risk.take().unwrap();
    let mut pending = events.iter().copied().peekable();
    loop {
        while let Some(input) = pending.peek() {
            if feed.try_push(*input).is_err() {
                break;
            }
            pending.next();
        }
        if pending.peek().is_none() {
            break;
        }
        if risk.poll() == Poll::Idle {
            thread::yield_now();
        }
    }
    drop(feed);
    loop {
        match risk.poll() {
            Poll::Done => break,
            Poll::Idle => thread::yield_now(),
            Poll::Work(_) => {}
        }
    }
    let report = risk.finish();
    let order_report = order_thread.join().unwrap();
    assert!(order_report.error.is_none());
    report.detail::<TradingSummary>().cloned().unwrap()
}

#[test]
fn one_thread_and_two_threads_trade_the_same_day() {
    let events = synthetic_day(4000);
    let single = one_thread(&events);
    assert!(
        single.fills.len() > 20,
        "the day trades: {}",
        single.fills.len()
    );
    // Sized at the touch with stops on the tick grid, this day's last position is
    // stopped out at 15:09, before the square-off: the forced exits it exercises are
    // stops (the square-off has its own tests above).
    assert!(
        single
            .fills
            .iter()
            .any(|f| matches!(f.reason, IntentReason::SquareOff | IntentReason::StopLoss)),
        "forced exits happened"
    );
    assert!(
        single.positions.iter().all(|p| p.net == 0),
        "flat after 15:15"
    );
    let double = two_threads(&events);
    assert_eq!(single, double);
}

#[test]
fn stale_signals_expire_and_a_fresh_fill_cools_the_instrument_down() {
    let mut rig = alone(&uncapped(), true);
    // The market is at 10:05; a signal from 10:02 is older than the two-minute expiry.
    rig.push(&[
        tick(0, at(10, 5, 0), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "99", at(10, 2, 0)),
    ]);
    assert_eq!(intents(&rig.run()), []);
    assert_eq!(rig.risk.refusals(Refusal::SignalExpired), 1);
    // A fresh entry fills at 10:05, its exit at 10:06; a new entry at 10:06:30 waits for
    // the cooldown (two minutes after the last fill), one at 10:08:01 goes.
    rig.push(&[signal(0, 0, Long, "100", "99", at(10, 5, 0))]);
    let entry = intents(&rig.run())[0];
    rig.answer(&entry, ExecKind::Filled, entry.qty.get(), "100");
    rig.push(&[
        tick(0, at(10, 6, 0), "100", "99.95", "100.05"),
        signal(0, 0, Flat, "100", "0", at(10, 6, 0)),
    ]);
    let exit = intents(&rig.run())[0];
    rig.answer(&exit, ExecKind::Filled, exit.qty.get(), "100");
    rig.push(&[
        tick(0, at(10, 6, 30), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "99", at(10, 6, 30)),
    ]);
    assert_eq!(intents(&rig.run()), []);
    assert_eq!(rig.risk.refusals(Refusal::Cooldown), 1);
    rig.push(&[
        tick(0, at(10, 8, 1), "100", "99.95", "100.05"),
        signal(0, 0, Long, "100", "99", at(10, 8, 1)),
    ]);
    assert_eq!(intents(&rig.run()).len(), 1, "the cooldown is over");
}

// ----- entry limits and trading states ----------------------------------------------------

fn scheduled(ts: UnixNanos, command: ControlCommand) -> RiskInput {
    RiskInput::Control(ScheduledCommand {
        exchange_ts: ts,
        ingress: Stamp(0),
        command,
    })
}

#[test]
fn the_daily_loss_limit_hit_mid_day_blocks_entries_but_allows_exits() {
    let mut w = wired(&RiskConfig {
        daily_loss_pct: Money::from_rupees(1), // ₹10 000 of ₹10 lakh
        ..uncapped()
    });
    w.send(&[
        tick(0, at(9, 15, 0), "100", "99.95", "100.05"),
        tick(1, at(9, 15, 0), "50", "49.95", "50.05"),
        // At the ask: 20 000 / 10.05 = 1990 shares.
        signal(0, 0, Long, "100", "90", at(10, 0, 0)),
        // Down 1990 × 5.05 = 10 049.50 from the start: the limit is hit, above the stop.
        tick(0, at(11, 0, 0), "95", "94.95", "95.05"),
    ]);
    assert_eq!(w.risk().book().position(InstrumentId(0)).net(), 1990);
    assert_eq!(w.risk().trading_state(), TradingState::Reducing);
    assert_eq!(w.risk().state_reason(), StateReason::DailyLossLimit);
    assert!(w.risk().limit_state().day.loss_limit_hit());
    w.send(&[
        // A new entry is refused; the strategy's exit goes through.
        signal(1, 1, Short, "50", "51", at(11, 0, 1)),
        signal(0, 0, Flat, "95", "0", at(11, 0, 2)),
    ]);
    assert_eq!(w.risk().book().open_positions(), 0, "the exit filled");
    assert_eq!(w.risk().refusals(Refusal::ReduceOnly), 1);
    // An operator's `activate` lifts reduce-only, not the day's loss latch.
    w.send(&[
        scheduled(at(11, 5, 0), ControlCommand::SetState(TradingState::Active)),
        signal(1, 1, Short, "50", "51", at(11, 5, 1)),
    ]);
    assert_eq!(w.risk().trading_state(), TradingState::Active);
    assert_eq!(w.risk().refusals(Refusal::DailyLossLimit), 1);
    assert_eq!(w.risk().book().open_positions(), 0);
    let (risk, _) = w.finish();
    let trading = risk.detail::<TradingSummary>().cloned().unwrap();
    let events = &trading.risk_events;
    assert_eq!(events.daily_loss_hits, 1);
    assert_eq!(
        events
            .state_changes
            .iter()
            .map(|c| (c.from, c.to, c.reason, c.at))
            .collect::<Vec<_>>(),
        [
            (
                TradingState::Active,
                TradingState::Reducing,
                StateReason::DailyLossLimit,
                at(11, 0, 0)
            ),
            (
                TradingState::Reducing,
                TradingState::Active,
                StateReason::Operator,
                at(11, 5, 0)
            ),
        ]
    );
    assert_eq!(events.final_state, TradingState::Active);
    assert_eq!(
        trading.refusals,
        [("reduce_only", 1), ("daily_loss_limit", 1)]
    );
}

#[test]
fn reducing_refuses_an_entry_from_flat_and_the_entry_of_a_reversal() {
    let mut w = wired(&uncapped());
    w.send(&[
        tick(0, at(10, 0, 0), "100", "99.95", "100.05"),
        tick(1, at(10, 0, 0), "50", "49.95", "50.05"),
        signal(0, 0, Long, "100", "98", at(10, 0, 1)),
        scheduled(
            at(10, 1, 0),
            ControlCommand::SetState(TradingState::Reducing),
        ),
        // From flat: refused.
        signal(1, 1, Long, "50", "49", at(10, 1, 1)),
        // A reversal: the exit goes, the new short does not.
        signal(0, 0, Short, "100", "102", at(10, 1, 2)),
    ]);
    let book = w.risk().book();
    assert_eq!(book.position(InstrumentId(1)).net(), 0);
    assert_eq!(
        book.position(InstrumentId(0)).net(),
        0,
        "closed, not reversed"
    );
    assert_eq!(w.risk().refusals(Refusal::ReduceOnly), 2);
    assert_eq!(w.risk().state_reason(), StateReason::Operator);
}

#[test]
fn a_drawdown_from_the_peak_warns_then_halts() {
    let mut w = wired(&RiskConfig {
        drawdown_warn_pct: Money::from_rupees(1),
        drawdown_halt_pct: Money::from_rupees(2),
        // No trailing stop: at the default 1% behind the best mark it would close the
        // long on the way down, before the drawdown under test.
        trail_activate_pct: Money::ZERO,
        ..uncapped()
    });
    w.send(&[
        tick(0, at(9, 15, 0), "100", "99.95", "100.05"),
        // 20 000 / 10.05 = 1990 shares.
        signal(0, 0, Long, "100", "90", at(10, 0, 0)),
        // Up 1990 × 9.95 = 19 800.50: the peak.
        tick(0, at(10, 30, 0), "110", "109.95", "110.05"),
        // 1% of the peak (10 198.01) below it: a warning only.
        tick(0, at(10, 31, 0), "104.80", "104.75", "104.85"),
    ]);
    assert_eq!(w.risk().trading_state(), TradingState::Active);
    // 2% (20 396) below the peak, still above the stop: halted.
    w.send(&[tick(0, at(10, 32, 0), "99.70", "99.65", "99.75")]);
    assert_eq!(w.risk().trading_state(), TradingState::Halted);
    assert_eq!(w.risk().state_reason(), StateReason::DrawdownHalt);
    let (risk, _) = w.finish();
    let events = risk.detail::<TradingSummary>().unwrap().risk_events.clone();
    assert_eq!((events.drawdown_warnings, events.drawdown_halts), (1, 1));
}

mod adopt;
mod exits;
mod protect;
mod scaling;
mod stale;
