//! The paper exchange, rule by rule, with market time driven by hand.

use super::*;
use crate::{
    model::{
        Date, Instrument, InstrumentId, InstrumentKind, SectorId, Segment, Side, Stamp, TickKind,
        TimeOfDay,
    },
    order::venue::Product,
};

const MS: u64 = 1_000_000;
/// 2026-11-25 10:00 IST.
fn t0() -> UnixNanos {
    UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(10, 0))
}
fn at(ms: u64) -> UnixNanos {
    t0().add_nanos(ms * MS)
}

const INFY: u32 = 0;
const TCS: u32 = 1;
const OPT: u32 = 2;

fn table() -> InstrumentTable {
    let mut t = InstrumentTable::new();
    for symbol in ["INFY", "TCS"] {
        t.push(Instrument::nse_equity(symbol, SectorId(0))).unwrap();
    }
    let mut option = Instrument::nse_equity("NIFTY26DEC24000CE", SectorId(0));
    option.kind = InstrumentKind::Option;
    option.segment = Segment::Fno;
    option.lot_size = 75;
    option.freeze_qty = 1800;
    t.push(option).unwrap();
    t
}

fn p(text: &str) -> Price {
    text.parse().unwrap()
}

/// A quote with `qty` displayed on both sides.
fn quote(id: u32, bid: &str, ask: &str, qty: u32, ts: UnixNanos) -> Tick {
    Tick {
        exchange_ts: ts,
        ingress: Stamp(0),
        last: p(bid),
        bid: p(bid),
        ask: p(ask),
        instrument: InstrumentId(id),
        volume: 0,
        last_qty: 0,
        bid_qty: qty,
        ask_qty: qty,
        kind: TickKind::Quote,
    }
}

/// A trade of `qty` at `last`, with the touch `bid`/`ask`.
fn trade(id: u32, last: &str, qty: u32, bid: &str, ask: &str, ts: UnixNanos) -> Tick {
    Tick {
        last: p(last),
        last_qty: qty,
        kind: TickKind::Trade,
        ..quote(id, bid, ask, 100, ts)
    }
}

fn order(n: u64, instrument: u32, side: Side, qty: u32, kind: OrderType) -> VenueOrder {
    VenueOrder {
        id: ClientOrderId(n),
        sent_ts: t0(),
        limit: Price::ZERO,
        trigger: Price::ZERO,
        qty: Qty::new(qty),
        instrument: InstrumentId(instrument),
        protection_bps: 50,
        side,
        kind,
        product: Product::Mis,
    }
}

fn market(n: u64, instrument: u32, side: Side, qty: u32) -> VenueOrder {
    order(n, instrument, side, qty, OrderType::Market)
}

fn limit(n: u64, instrument: u32, side: Side, qty: u32, price: &str) -> VenueOrder {
    VenueOrder {
        limit: p(price),
        ..order(n, instrument, side, qty, OrderType::Limit)
    }
}

fn paper(edit: impl FnOnce(&mut PaperConfig)) -> PaperGateway {
    let mut config = PaperConfig::default();
    edit(&mut config);
    let mut issues = Vec::new();
    config.validate("paper", &mut issues);
    assert!(issues.is_empty(), "{issues:?}");
    PaperGateway::with_config(&table(), &config)
}

/// Collects what one call reports.
fn out(f: impl FnOnce(Reports<'_>)) -> Vec<VenueReport> {
    let mut v = Vec::new();
    f(&mut |r| v.push(r));
    v
}

fn events(reports: &[VenueReport]) -> Vec<VenueEvent> {
    reports.iter().map(|r| r.event).collect()
}

fn fills(reports: &[VenueReport]) -> Vec<(Price, u32)> {
    reports
        .iter()
        .filter(|r| r.event == VenueEvent::Fill)
        .map(|r| (r.last_price, r.last_qty.get()))
        .collect()
}

// ----- zero latency: the behaviour from before latency and depth -----------------------

#[test]
fn a_zero_latency_fill_is_timed_at_the_later_of_send_and_quote() {
    // A quote newer than the engine's clock at sending: the fill is at the quote's time.
    let mut paper = PaperGateway::new(&table());
    let later = at(250);
    paper.on_quote(&quote(INFY, "1500.10", "1500.30", 10, later), &mut |_| {});
    let buy = out(|r| paper.submit(&market(100, INFY, Side::Buy, 5), r));
    assert_eq!(events(&buy), [VenueEvent::Accepted, VenueEvent::Fill]);
    assert_eq!(buy[1].exchange_ts, later);
    // A quote four seconds older than the order (an option that has not traded since
    // news): the fill is at the send time, not back at the quote.
    let mut paper = PaperGateway::new(&table());
    let stale = UnixNanos(t0().0 - 4_000_000_000);
    paper.on_quote(&quote(INFY, "1500.10", "1500.30", 10, stale), &mut |_| {});
    let buy = out(|r| paper.submit(&market(101, INFY, Side::Buy, 5), r));
    assert_eq!(buy[0].exchange_ts, t0(), "acked when sent");
    assert_eq!(buy[1].exchange_ts, t0(), "filled when sent");
}

#[test]
fn market_orders_fill_at_the_touch_at_once_with_zero_latency() {
    let mut paper = PaperGateway::new(&table());
    let q = Tick {
        exchange_ts: UnixNanos(77),
        ..quote(INFY, "1500.10", "1500.30", 10, UnixNanos(77))
    };
    paper.on_quote(&q, &mut |_| {});
    let buy = out(|r| paper.submit(&market(100, INFY, Side::Buy, 12), r));
    assert_eq!(events(&buy), [VenueEvent::Accepted, VenueEvent::Fill]);
    let fill = buy[1];
    assert_eq!(fill.last_price, p("1500.30"));
    assert_eq!(
        fill.last_qty,
        Qty::new(12),
        "in full: 12 against 10 displayed"
    );
    assert!(UnixNanos(77) < t0());
    assert_eq!(
        fill.exchange_ts,
        t0(),
        "timed when sent, never at the older quote's time"
    );
    assert_eq!(fill.order, ClientOrderId(100));
    assert_eq!(fill.trade, TradeId(1), "trade ids start at 1");
    let sell = out(|r| paper.submit(&market(101, INFY, Side::Sell, 3), r));
    assert_eq!(sell[1].last_price, p("1500.10"));
    assert_eq!(sell[1].trade, TradeId(2), "every fill is its own trade");
    assert_eq!((paper.pending(), paper.working()), (0, 0));
}

#[test]
fn marketable_limits_fill_at_the_touch_and_others_rest() {
    let mut paper = PaperGateway::new(&table());
    paper.on_quote(&quote(TCS, "99.95", "100.05", 10, at(0)), &mut |_| {});
    let buy = out(|r| paper.submit(&limit(1, TCS, Side::Buy, 1, "100.10"), r));
    assert_eq!(fills(&buy), [(p("100.05"), 1)]);
    let buy = out(|r| paper.submit(&limit(2, TCS, Side::Buy, 1, "100.05"), r));
    assert_eq!(fills(&buy), [(p("100.05"), 1)]);
    let sell = out(|r| paper.submit(&limit(3, TCS, Side::Sell, 1, "99.90"), r));
    assert_eq!(fills(&sell), [(p("99.95"), 1)]);
    let low = out(|r| paper.submit(&limit(4, TCS, Side::Buy, 1, "100.00"), r));
    assert_eq!(events(&low), [VenueEvent::Accepted], "rests");
    assert_eq!(paper.working(), 1);
}

#[test]
fn refusals_without_a_quote_or_quantity() {
    let mut paper = PaperGateway::new(&table());
    let mut o = market(1, INFY, Side::Buy, 1);
    o.sent_ts = UnixNanos(5);
    let none = out(|r| paper.submit(&o, r));
    assert_eq!(
        (none[0].event, none[0].reject, none[0].exchange_ts),
        (VenueEvent::Rejected, RejectReason::NoQuote, UnixNanos(5))
    );
    paper.on_quote(&quote(INFY, "0", "10", 10, UnixNanos(9)), &mut |_| {});
    let sell = out(|r| paper.submit(&market(2, INFY, Side::Sell, 1), r));
    assert_eq!(sell[0].reject, RejectReason::NoQuote);
    let zero = out(|r| paper.submit(&market(3, INFY, Side::Buy, 0), r));
    assert_eq!(zero[0].reject, RejectReason::ZeroQty);
    let unknown = out(|r| paper.submit(&market(4, 7, Side::Buy, 1), r));
    assert_eq!(unknown[0].reject, RejectReason::NoQuote);
    assert_eq!(paper.poll(&mut |_| {}), 0);
    assert_eq!(paper.name(), "paper");
}

// ----- displayed quantity ------------------------------------------------------------

#[test]
fn an_order_for_475_against_200_displayed_fills_200_now_and_275_later() {
    let mut paper = paper(|c| c.partial_fills = true);
    paper.on_quote(&quote(INFY, "99.95", "100.00", 200, at(0)), &mut |_| {});
    let now = out(|r| paper.submit(&market(1, INFY, Side::Buy, 475), r));
    assert_eq!(events(&now), [VenueEvent::Accepted, VenueEvent::Fill]);
    assert_eq!(fills(&now), [(p("100.00"), 200)]);
    let next = out(|r| {
        paper.on_quote(&quote(INFY, "100.00", "100.05", 200, at(10)), r);
    });
    assert_eq!(
        fills(&next),
        [(p("100.05"), 200)],
        "the next quote offers 200 again"
    );
    let last = out(|r| {
        paper.on_quote(&quote(INFY, "100.00", "100.05", 200, at(20)), r);
    });
    assert_eq!(fills(&last), [(p("100.05"), 75)]);
    assert_eq!(last[0].exchange_ts, at(20));
    assert_eq!(paper.working(), 0);
}

#[test]
fn zero_displayed_quantity_is_unknown_depth_and_fills_in_full() {
    let mut paper = paper(|c| c.partial_fills = true);
    paper.on_quote(&quote(INFY, "99.95", "100.00", 0, at(0)), &mut |_| {});
    let now = out(|r| paper.submit(&market(1, INFY, Side::Buy, 475), r));
    assert_eq!(fills(&now), [(p("100.00"), 475)]);
}

#[test]
fn a_market_remainder_never_fills_beyond_its_protection() {
    let mut paper = paper(|c| c.partial_fills = true);
    paper.on_quote(&quote(INFY, "99.95", "100.00", 100, at(0)), &mut |_| {});
    // 50 bps from the 100.00 ask: at most 100.50.
    let now = out(|r| paper.submit(&market(1, INFY, Side::Buy, 300), r));
    assert_eq!(fills(&now), [(p("100.00"), 100)]);
    let beyond = out(|r| paper.on_quote(&quote(INFY, "100.50", "100.55", 100, at(5)), r));
    assert!(beyond.is_empty(), "100.55 is beyond the protection");
    let inside = out(|r| paper.on_quote(&quote(INFY, "100.45", "100.50", 500, at(9)), r));
    assert_eq!(fills(&inside), [(p("100.50"), 200)]);
}

// ----- latency -------------------------------------------------------------------------

fn latent(c: &mut PaperConfig) {
    c.latency.ack_ms = 200;
    c.latency.fill_ms = 300;
}

#[test]
fn answers_wait_for_market_time_and_fill_at_the_quote_then_current() {
    let mut paper = paper(latent);
    paper.on_quote(&quote(INFY, "99.95", "100.00", 10, at(0)), &mut |_| {});
    assert!(out(|r| paper.submit(&market(1, INFY, Side::Buy, 5), r)).is_empty());
    assert!(out(|r| paper.advance(at(199), r)).is_empty());
    let ack = out(|r| paper.advance(at(200), r));
    assert_eq!(events(&ack), [VenueEvent::Accepted]);
    assert_eq!(ack[0].exchange_ts, at(200));
    // The market moves before the order can trade: it fills at the new ask.
    assert!(out(|r| paper.on_quote(&quote(INFY, "100.40", "100.45", 10, at(250)), r)).is_empty());
    let fill = out(|r| paper.advance(at(300), r));
    assert_eq!(fills(&fill), [(p("100.45"), 5)]);
    assert_eq!(fill[0].exchange_ts, at(300));
    assert_eq!(paper.pending(), 0);
}

#[test]
fn answers_due_by_a_quote_are_released_before_it_applies() {
    let mut paper = paper(latent);
    paper.on_quote(&quote(INFY, "99.95", "100.00", 10, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&market(1, INFY, Side::Buy, 5), r));
    let r = out(|r| paper.on_quote(&quote(INFY, "101.00", "101.05", 10, at(300)), r));
    assert_eq!(events(&r), [VenueEvent::Accepted, VenueEvent::Fill]);
    assert_eq!(
        fills(&r),
        [(p("100.00"), 5)],
        "due at the quote's instant: the touch before it"
    );
}

#[test]
fn answers_come_in_due_order_and_ties_in_submission_order() {
    let mut paper = paper(latent);
    paper.on_quote(&quote(INFY, "99.95", "100.00", 10, at(0)), &mut |_| {});
    paper.on_quote(&quote(TCS, "49.95", "50.00", 10, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&market(1, INFY, Side::Buy, 1), r));
    let _ = out(|r| paper.submit(&market(2, TCS, Side::Buy, 1), r));
    let mut late = market(3, INFY, Side::Sell, 1);
    late.sent_ts = at(50);
    let _ = out(|r| paper.submit(&late, r));
    let all = out(|r| paper.advance(at(1000), r));
    let seen: Vec<(u64, VenueEvent, UnixNanos)> = all
        .iter()
        .map(|r| (r.order.0, r.event, r.exchange_ts))
        .collect();
    use VenueEvent::{Accepted as A, Fill as F};
    assert_eq!(
        seen,
        [
            (1, A, at(200)),
            (2, A, at(200)),
            (3, A, at(250)),
            (1, F, at(300)),
            (2, F, at(300)),
            (3, F, at(350)),
        ]
    );
}

#[test]
fn random_latency_repeats_with_the_seed() {
    let run = |seed| {
        let mut paper = paper(|c| {
            c.seed = seed;
            c.latency.model = LatencyModel::Uniform;
            c.latency.ack_ms = 100;
            c.latency.fill_ms = 100;
            c.latency.jitter_ms = 400;
        });
        paper.on_quote(&quote(INFY, "99.95", "100.00", 10, at(0)), &mut |_| {});
        for n in 1..=20 {
            let _ = out(|r| paper.submit(&market(n, INFY, Side::Buy, 1), r));
        }
        out(|r| paper.end_session(at(10_000), r))
            .iter()
            .map(|r| (r.order.0, r.event, r.exchange_ts))
            .collect::<Vec<_>>()
    };
    let a = run(1);
    assert_eq!(a.len(), 40);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
    assert!(
        a.windows(2).all(|w| w[0].2 <= w[1].2),
        "released in due order"
    );
}

// ----- resting limits, queue position -------------------------------------------------

#[test]
fn a_limit_at_the_touch_waits_for_the_queue_ahead_to_trade() {
    let mut paper = paper(|c| c.partial_fills = true);
    paper.on_quote(&quote(INFY, "100.00", "100.05", 500, at(0)), &mut |_| {});
    let r = out(|r| paper.submit(&limit(1, INFY, Side::Buy, 100, "100.00"), r));
    assert_eq!(events(&r), [VenueEvent::Accepted], "500 ahead");
    let r = out(|r| paper.on_quote(&trade(INFY, "100.00", 300, "100.00", "100.05", at(1)), r));
    assert!(r.is_empty(), "200 still ahead");
    let r = out(|r| paper.on_quote(&trade(INFY, "100.00", 250, "100.00", "100.05", at(2)), r));
    assert_eq!(fills(&r), [(p("100.00"), 50)], "50 traded beyond the queue");
    let r = out(|r| paper.on_quote(&trade(INFY, "100.00", 10, "100.00", "100.05", at(3)), r));
    assert_eq!(fills(&r), [(p("100.00"), 10)], "first in the queue now");
    let r = out(|r| paper.on_quote(&trade(INFY, "99.95", 1000, "99.95", "100.00", at(4)), r));
    assert_eq!(
        fills(&r),
        [(p("100.00"), 40)],
        "traded through: the rest, at the limit"
    );
    assert_eq!(paper.working(), 0);
}

#[test]
fn a_trade_through_fills_up_to_its_size_and_an_improving_limit_has_no_queue() {
    let mut paper = paper(|c| c.partial_fills = true);
    paper.on_quote(&quote(INFY, "100.00", "100.10", 500, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&limit(1, INFY, Side::Sell, 100, "100.05"), r));
    // Improves the ask: nothing ahead, the first trade at the price fills it.
    let r = out(|r| paper.on_quote(&trade(INFY, "100.05", 30, "100.00", "100.05", at(1)), r));
    assert_eq!(fills(&r), [(p("100.05"), 30)]);
    let r = out(|r| paper.on_quote(&trade(INFY, "100.10", 50, "100.00", "100.10", at(2)), r));
    assert_eq!(
        fills(&r),
        [(p("100.05"), 50)],
        "through, up to the trade's 50"
    );
    // The bid reaches the limit: the displayed bid fills the rest at the limit.
    let r = out(|r| paper.on_quote(&quote(INFY, "100.05", "100.10", 500, at(3)), r));
    assert_eq!(fills(&r), [(p("100.05"), 20)]);
}

#[test]
fn without_partial_fills_a_resting_limit_fills_in_full_when_its_turn_comes() {
    let mut paper = PaperGateway::new(&table());
    paper.on_quote(&quote(INFY, "100.00", "100.05", 500, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&limit(1, INFY, Side::Buy, 100, "100.00"), r));
    let r = out(|r| paper.on_quote(&trade(INFY, "100.00", 500, "100.00", "100.05", at(1)), r));
    assert!(r.is_empty(), "the queue ahead traded, ours did not yet");
    let r = out(|r| paper.on_quote(&trade(INFY, "100.00", 1, "100.00", "100.05", at(2)), r));
    assert_eq!(fills(&r), [(p("100.00"), 100)]);
}

// ----- stops ---------------------------------------------------------------------------

#[test]
fn stops_trigger_on_the_last_trade_and_then_work_as_market_or_limit() {
    let mut paper = PaperGateway::new(&table());
    paper.on_quote(
        &trade(INFY, "100.00", 10, "99.95", "100.00", at(0)),
        &mut |_| {},
    );
    let mut stop = order(1, INFY, Side::Sell, 10, OrderType::StopMarket);
    stop.trigger = p("99.00");
    assert_eq!(
        events(&out(|r| paper.submit(&stop, r))),
        [VenueEvent::Accepted]
    );
    let r = out(|r| paper.on_quote(&quote(INFY, "98.90", "98.95", 10, at(1)), r));
    assert!(r.is_empty(), "a quote does not trigger; a trade does");
    let r = out(|r| paper.on_quote(&trade(INFY, "99.05", 10, "99.00", "99.05", at(2)), r));
    assert!(r.is_empty());
    let r = out(|r| paper.on_quote(&trade(INFY, "99.00", 10, "98.95", "99.00", at(3)), r));
    assert_eq!(
        fills(&r),
        [(p("98.95"), 10)],
        "triggered: a market sell at the bid"
    );

    let mut stop_limit = order(2, INFY, Side::Buy, 10, OrderType::StopLimit);
    stop_limit.trigger = p("101.00");
    stop_limit.limit = p("101.10");
    let _ = out(|r| paper.submit(&stop_limit, r));
    let r = out(|r| paper.on_quote(&trade(INFY, "101.00", 10, "101.15", "101.20", at(4)), r));
    assert!(
        fills(&r).is_empty(),
        "triggered, but the ask is above the limit: it rests"
    );
    let r = out(|r| paper.on_quote(&quote(INFY, "101.00", "101.10", 10, at(5)), r));
    assert_eq!(fills(&r), [(p("101.10"), 10)]);

    let mut passed = order(3, INFY, Side::Buy, 10, OrderType::StopMarket);
    passed.trigger = p("100.00");
    let r = out(|r| paper.submit(&passed, r));
    assert_eq!(
        r[0].reject,
        RejectReason::Invalid,
        "the last trade passed the trigger"
    );
}

// ----- modify and cancel ---------------------------------------------------------------

#[test]
fn cancel_and_modify_working_orders() {
    let mut paper = paper(|c| {
        c.partial_fills = true;
        c.rules.max_modifications = 2;
    });
    paper.on_quote(&quote(INFY, "100.00", "100.05", 500, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&limit(1, INFY, Side::Buy, 100, "100.00"), r));
    // Smaller: keeps its place (500 ahead).
    let amend = Amend {
        qty: Qty::new(80),
        limit: p("100.00"),
        trigger: Price::ZERO,
    };
    assert_eq!(
        events(&out(|r| paper.modify(ClientOrderId(1), &amend, r))),
        [VenueEvent::Modified]
    );
    let r = out(|r| paper.on_quote(&trade(INFY, "100.00", 520, "100.00", "100.05", at(1)), r));
    assert_eq!(
        fills(&r),
        [(p("100.00"), 20)],
        "still 500 ahead after shrinking"
    );
    // A new price loses the place; improving the bid leaves none ahead.
    let up = Amend {
        limit: p("100.05"),
        ..amend
    };
    let r = out(|r| paper.modify(ClientOrderId(1), &up, r));
    assert_eq!(
        fills(&r),
        [(p("100.05"), 60)],
        "marketable at its new price"
    );
    let _ = out(|r| paper.submit(&limit(2, INFY, Side::Buy, 10, "99.00"), r));
    let same = Amend {
        qty: Qty::new(10),
        limit: p("99.00"),
        trigger: Price::ZERO,
    };
    let _ = out(|r| paper.modify(ClientOrderId(2), &same, r));
    let _ = out(|r| paper.modify(ClientOrderId(2), &same, r));
    let third = out(|r| paper.modify(ClientOrderId(2), &same, r));
    assert_eq!(
        (third[0].event, third[0].reject),
        (VenueEvent::ModifyRejected, RejectReason::ModifyLimit)
    );
    let cancel = out(|r| paper.cancel(ClientOrderId(2), r));
    assert_eq!(events(&cancel), [VenueEvent::Cancelled]);
    for id in [1, 2, 9] {
        let c = out(|r| paper.cancel(ClientOrderId(id), r));
        assert_eq!(
            (c[0].event, c[0].reject),
            (VenueEvent::CancelRejected, RejectReason::Invalid),
            "order {id} is finished or unknown"
        );
        let m = out(|r| paper.modify(ClientOrderId(id), &same, r));
        assert_eq!(
            (m[0].event, m[0].reject),
            (VenueEvent::ModifyRejected, RejectReason::Invalid)
        );
    }
}

#[test]
fn modify_and_cancel_take_the_ack_latency() {
    let mut paper = paper(latent);
    paper.on_quote(&quote(INFY, "100.00", "100.05", 500, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&limit(1, INFY, Side::Buy, 10, "99.00"), r));
    let _ = out(|r| paper.advance(at(300), r));
    assert!(out(|r| paper.cancel(ClientOrderId(1), r)).is_empty());
    assert!(out(|r| paper.advance(at(499), r)).is_empty());
    let c = out(|r| paper.advance(at(500), r));
    assert_eq!(
        (c[0].event, c[0].exchange_ts),
        (VenueEvent::Cancelled, at(500))
    );
}

// ----- NSE rules -----------------------------------------------------------------------

#[test]
fn each_exchange_rule_refuses_with_its_reason() {
    let rules = |c: &mut PaperConfig| {
        c.rules.orders_per_sec = 2;
        c.rules.freeze_qty = true;
    };
    let mut paper = paper(rules);
    paper.on_quote(
        &trade(INFY, "100.00", 10, "99.95", "100.00", at(0)),
        &mut |_| {},
    );
    paper.on_quote(
        &trade(OPT, "150.00", 75, "149.95", "150.00", at(0)),
        &mut |_| {},
    );
    let reason = |paper: &mut PaperGateway, o: VenueOrder| {
        let r = out(|r| paper.submit(&o, r));
        r[0].reject
    };
    // Band: 20 % of the first trade, 100.00.
    assert_eq!(
        reason(&mut paper, limit(1, INFY, Side::Buy, 1, "120.05")),
        RejectReason::PriceBand
    );
    assert_eq!(
        reason(&mut paper, limit(2, INFY, Side::Sell, 1, "79.95")),
        RejectReason::PriceBand
    );
    let mut paper = self::paper(rules);
    paper.on_quote(
        &trade(INFY, "100.00", 10, "99.95", "100.00", at(0)),
        &mut |_| {},
    );
    paper.on_quote(
        &trade(OPT, "150.00", 75, "149.95", "150.00", at(0)),
        &mut |_| {},
    );
    assert_eq!(
        reason(&mut paper, limit(3, INFY, Side::Buy, 1, "100.03")),
        RejectReason::Invalid,
        "off the tick"
    );
    assert_eq!(
        reason(&mut paper, market(4, OPT, Side::Buy, 100)),
        RejectReason::Invalid,
        "not whole lots"
    );
    let mut paper = self::paper(rules);
    paper.on_quote(
        &trade(INFY, "100.00", 10, "99.95", "100.00", at(0)),
        &mut |_| {},
    );
    paper.on_quote(
        &trade(OPT, "150.00", 75, "149.95", "150.00", at(0)),
        &mut |_| {},
    );
    assert_eq!(
        reason(&mut paper, market(5, OPT, Side::Buy, 1875)),
        RejectReason::FreezeQty
    );
    let mut unprotected = market(6, INFY, Side::Buy, 1);
    unprotected.protection_bps = 0;
    assert_eq!(
        reason(&mut paper, unprotected),
        RejectReason::MarketProtection
    );
    let mut on = PaperGateway::new(&table());
    on.on_quote(
        &trade(OPT, "150.00", 75, "149.95", "150.00", at(0)),
        &mut |_| {},
    );
    assert_eq!(
        reason(&mut on, market(11, OPT, Side::Buy, 1875)),
        RejectReason::FreezeQty,
        "freeze check on by default"
    );
    let mut off = self::paper(|c: &mut PaperConfig| c.rules.freeze_qty = false);
    off.on_quote(
        &trade(OPT, "150.00", 75, "149.95", "150.00", at(0)),
        &mut |_| {},
    );
    assert_eq!(
        reason(&mut off, market(12, OPT, Side::Buy, 1875)),
        RejectReason::None,
        "freeze check turned off"
    );
    // Options have no band by default: 300 % above is accepted.
    let mut paper = self::paper(rules);
    paper.on_quote(
        &trade(OPT, "150.00", 75, "149.95", "150.00", at(0)),
        &mut |_| {},
    );
    assert_eq!(
        reason(&mut paper, limit(7, OPT, Side::Sell, 75, "600.00")),
        RejectReason::None
    );
    assert_eq!(
        reason(&mut paper, market(8, OPT, Side::Buy, 1800)),
        RejectReason::None
    );
    assert_eq!(
        reason(&mut paper, market(9, OPT, Side::Buy, 75)),
        RejectReason::RateLimited,
        "third in one second"
    );
    paper.on_quote(
        &trade(OPT, "150.00", 75, "149.95", "150.00", at(1000)),
        &mut |_| {},
    );
    assert_eq!(
        reason(&mut paper, market(10, OPT, Side::Buy, 75)),
        RejectReason::None,
        "the next second"
    );
}

#[test]
fn the_band_reference_is_the_first_trade_or_quote_of_the_day() {
    let mut paper = PaperGateway::new(&table());
    paper.on_quote(&quote(INFY, "99.95", "100.05", 10, at(0)), &mut |_| {});
    paper.on_quote(&quote(INFY, "149.95", "150.05", 10, at(1)), &mut |_| {});
    let r = out(|r| paper.submit(&limit(1, INFY, Side::Sell, 1, "150.00"), r));
    assert_eq!(
        r[0].reject,
        RejectReason::PriceBand,
        "more than 20 % above 99.95"
    );
}

#[test]
fn working_mis_orders_are_cancelled_at_the_brokers_square_off_time() {
    let mut paper = PaperGateway::new(&table());
    let day = Date::new(2026, 11, 25);
    let ist = |h, m| UnixNanos::from_ist(day, TimeOfDay::hm(h, m));
    paper.on_quote(
        &quote(INFY, "100.00", "100.05", 10, ist(15, 0)),
        &mut |_| {},
    );
    paper.on_quote(&quote(OPT, "150.00", "150.05", 10, ist(15, 0)), &mut |_| {});
    let _ = out(|r| paper.submit(&limit(1, INFY, Side::Buy, 1, "99.00"), r));
    let mut cnc = limit(2, INFY, Side::Buy, 1, "99.00");
    cnc.product = Product::Cnc;
    let _ = out(|r| paper.submit(&cnc, r));
    let _ = out(|r| paper.submit(&limit(3, OPT, Side::Buy, 75, "140.00"), r));
    assert!(out(|r| paper.advance(ist(15, 19), r)).is_empty());
    let r = out(|r| paper.on_quote(&quote(INFY, "100.00", "100.05", 10, ist(15, 20)), r));
    assert_eq!(
        r.iter().map(|r| (r.order.0, r.event)).collect::<Vec<_>>(),
        [(1, VenueEvent::Cancelled)],
        "equity MIS at 15:20; CNC and F&O work on"
    );
    let r = out(|r| paper.advance(ist(15, 25), r));
    assert_eq!(
        r.iter().map(|r| (r.order.0, r.event)).collect::<Vec<_>>(),
        [(3, VenueEvent::Cancelled)]
    );
    let r = out(|r| paper.end_session(ist(15, 30), r));
    assert_eq!(
        r.iter().map(|r| (r.order.0, r.event)).collect::<Vec<_>>(),
        [(2, VenueEvent::Expired)]
    );
}

// ----- the end of the session ----------------------------------------------------------

#[test]
fn end_session_releases_what_is_pending_and_expires_what_works() {
    let mut paper = paper(latent);
    paper.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&market(1, INFY, Side::Buy, 1), r));
    let _ = out(|r| paper.submit(&limit(2, INFY, Side::Buy, 1, "99.00"), r));
    let r = out(|r| paper.end_session(at(100), r));
    let seen: Vec<(u64, VenueEvent, UnixNanos)> = r
        .iter()
        .map(|r| (r.order.0, r.event, r.exchange_ts))
        .collect();
    use VenueEvent::*;
    assert_eq!(
        seen,
        [
            (1, Accepted, at(200)),
            (2, Accepted, at(200)),
            (1, Fill, at(300)),
            (2, Expired, at(300)),
        ]
    );
    assert_eq!((paper.pending(), paper.working()), (0, 0));
}

// ----- faults --------------------------------------------------------------------------

#[test]
fn injected_refusals_are_retriable() {
    let mut paper = paper(|c| c.faults.reject_rate = 1.0);
    paper.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    let reasons: Vec<RejectReason> = (1..=20)
        .map(|n| out(|r| paper.submit(&market(n, INFY, Side::Buy, 1), r))[0].reject)
        .collect();
    assert!(reasons.iter().all(|r| r.is_retriable()));
    assert!(reasons.contains(&RejectReason::Network));
    assert!(reasons.contains(&RejectReason::RateLimited));
}

#[test]
fn a_timed_out_order_is_answered_late_or_expires_at_the_end() {
    let mut never = paper(|c| c.faults.timeout_rate = 1.0);
    never.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    assert!(out(|r| never.submit(&market(1, INFY, Side::Buy, 1), r)).is_empty());
    assert!(out(|r| never.advance(at(3_600_000), r)).is_empty());
    let end = out(|r| never.end_session(at(3_600_001), r));
    assert_eq!(
        (end[0].event, end[0].exchange_ts),
        (VenueEvent::Expired, at(3_600_001))
    );

    let mut late = paper(|c| {
        c.faults.timeout_rate = 1.0;
        c.faults.timeout_ms = 5_000;
    });
    late.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    assert!(out(|r| late.submit(&market(1, INFY, Side::Buy, 1), r)).is_empty());
    assert!(out(|r| late.advance(at(4_999), r)).is_empty());
    let r = out(|r| late.advance(at(5_000), r));
    assert_eq!(events(&r), [VenueEvent::Accepted, VenueEvent::Fill]);
}

#[test]
fn a_disconnection_refuses_everything_sent_in_its_window() {
    let mut paper = paper(|c| {
        c.faults.disconnect_at = "10:00:01".to_owned();
        c.faults.disconnect_secs = 2;
    });
    paper.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    let _ = out(|r| paper.submit(&limit(1, INFY, Side::Buy, 1, "99.00"), r));
    paper.advance(at(1_500), &mut |_| {});
    let r = out(|r| paper.submit(&market(2, INFY, Side::Buy, 1), r));
    assert_eq!(r[0].reject, RejectReason::Network);
    let c = out(|r| paper.cancel(ClientOrderId(1), r));
    assert_eq!(
        (c[0].event, c[0].reject),
        (VenueEvent::CancelRejected, RejectReason::Network)
    );
    paper.advance(at(3_000), &mut |_| {});
    let r = out(|r| paper.submit(&market(3, INFY, Side::Buy, 1), r));
    assert_eq!(
        events(&r),
        [VenueEvent::Accepted, VenueEvent::Fill],
        "reconnected"
    );
}

#[test]
fn duplicated_and_reordered_reports() {
    let mut dup = paper(|c| c.faults.duplicate_rate = 1.0);
    dup.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    let r = out(|r| dup.submit(&market(1, INFY, Side::Buy, 1), r));
    assert_eq!(
        events(&r),
        [VenueEvent::Accepted, VenueEvent::Fill, VenueEvent::Fill]
    );
    assert_eq!(r[1], r[2], "the same fill, the same trade id");

    let mut reorder = paper(|c| c.faults.reorder_rate = 1.0);
    reorder.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    let r = out(|r| reorder.submit(&market(1, INFY, Side::Buy, 1), r));
    assert_eq!(events(&r), [VenueEvent::Fill, VenueEvent::Accepted]);
    let r = out(|r| reorder.submit(&limit(2, INFY, Side::Buy, 1, "99.00"), r));
    assert!(r.is_empty(), "the ack waits for the first fill");
    let r = out(|r| reorder.cancel(ClientOrderId(2), r));
    assert_eq!(
        events(&r),
        [VenueEvent::Accepted, VenueEvent::Cancelled],
        "or for the end"
    );
}

#[test]
fn full_queues_refuse_rather_than_grow() {
    let mut paper = paper(|c| {
        latent(c);
        c.pending_capacity = 1;
        c.max_orders = 2;
    });
    paper.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    assert!(out(|r| paper.submit(&market(1, INFY, Side::Buy, 1), r)).is_empty());
    let r = out(|r| paper.submit(&market(2, INFY, Side::Buy, 1), r));
    assert_eq!(r[0].reject, RejectReason::Throttled, "no room to wait");
    let r = out(|r| paper.end_session(at(1000), r));
    assert_eq!(events(&r), [VenueEvent::Accepted, VenueEvent::Fill]);
}

#[test]
fn after_the_session_ends_orders_are_answered_at_once() {
    let mut paper = paper(latent);
    paper.on_quote(&quote(INFY, "100.00", "100.05", 10, at(0)), &mut |_| {});
    assert!(out(|r| paper.end_session(at(10), r)).is_empty());
    // An exit retried after the end: nothing will move market time again.
    let r = out(|r| paper.submit(&market(1, INFY, Side::Sell, 1), r));
    assert_eq!(events(&r), [VenueEvent::Accepted, VenueEvent::Fill]);
    let r = out(|r| paper.submit(&limit(2, INFY, Side::Buy, 1, "99.00"), r));
    assert_eq!(events(&r), [VenueEvent::Accepted, VenueEvent::Expired]);
    assert_eq!((paper.pending(), paper.working()), (0, 0));
}
