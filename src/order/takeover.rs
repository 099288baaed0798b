//! The orders a broker still worked when the engine stopped: what a resumed day takes
//! over instead of placing again.
//!
//! When a broker acknowledges a child order under its own order id, the order stage
//! journals a [`Placement`] (the child, the broker's id, its prices and units). A day
//! resumed at a broker reads the order writer's records and finds here, per intent, the
//! children the broker was working at the stop: the intent's journaled reports end
//! with an acceptance or a part fill (not filled, cancelled, refused or expired), and a
//! placement names each child. The order stage then holds such an order as working
//! (the desk books it in its book, a protective stop under its guard), and the gateway
//! follows the broker's order under the same client id without placing anything.
//!
//! **Fills.** The journal's reports give the intent's filled units, not each child's.
//! For an intent worked as one slice (almost every order: the freeze quantity splits
//! only large F&O orders) the current child filled what the intent filled less what
//! earlier children of the slice filled ([`Placement::prior`]), so the gateway starts
//! counting from there and reports only the units beyond; the trade ids already
//! booked are remembered as well, so a fill is booked once. An intent worked as
//! several slices is taken over only while nothing of it filled; otherwise which slice
//! filled what is not known, and the intent is closed as before (cancelled with what
//! it filled, left to reconciliation).
//!
//! **What is not taken over.** A child acknowledged after the last journaled record
//! (the answer was lost with the process) has no placement: its intent is closed as
//! cancelled, and a broker order of it is what reconciliation reports. A child cancelled
//! for a cancel-and-replace whose new child the broker had not acknowledged yet is
//! taken over as the journal last saw it; the broker then reports it cancelled, and it
//! ends as any cancelled child would.

use std::collections::HashMap;

use crate::{
    journal::{Placement, Record},
    model::{ExecKind, IntentId, Money, Price, Qty, TradeId, UnixNanos},
    order::venue::{OrderType, Product, VenueOrder},
};

/// One intent the journal shows working at a broker at the stop, with the children the
/// broker was working (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Working {
    /// The intent (an entry or exit of risk, or a protective stop).
    pub intent: IntentId,
    /// Units the intent filled, by its journaled reports.
    pub cum: Qty,
    /// Σ price × units of those fills.
    pub value: Money,
    /// The trade ids of those fills.
    pub trades: Vec<TradeId>,
    /// The latest placement of each slice the broker acknowledged, in slice order,
    /// with the units that child filled.
    pub children: Vec<(Placement, Qty)>,
}

impl Working {
    /// The average price of the intent's fills (zero when none).
    pub fn avg_price(&self) -> Price {
        if self.cum.is_zero() {
            return Price::ZERO;
        }
        let avg = self.value.raw() / i128::from(self.cum.get());
        Price::from_raw(avg.clamp(0, i128::from(i64::MAX)) as i64)
    }
}

/// What the journal says of one intent, as the records are read.
#[derive(Debug, Default)]
struct Seen {
    last: Option<ExecKind>,
    cum: Qty,
    value: Money,
    trades: Vec<TradeId>,
    placed: Vec<Placement>,
}

/// The intents the order writer's `records` (in sequence) show working at a broker at
/// their end, in the order each was first journaled, with the children to take over
/// (see the module doc). Off the hot path: once, as a resumed day starts.
pub fn working_at_restart(records: &[(UnixNanos, Record)]) -> Vec<Working> {
    let mut order: Vec<IntentId> = Vec::new();
    let mut seen: HashMap<IntentId, Seen> = HashMap::new();
    for (_, record) in records {
        let intent = match record {
            Record::Exec(r) => r.intent,
            Record::Placed(p) => p.order.intent(),
            _ => continue,
        };
        let s = seen.entry(intent).or_insert_with(|| {
            order.push(intent);
            Seen::default()
        });
        match record {
            Record::Exec(r) => {
                s.last = Some(r.kind);
                s.cum = r.cum_qty;
                if matches!(r.kind, ExecKind::PartialFill | ExecKind::Filled) {
                    s.value = s.value.saturating_add(r.last_price.notional(r.last_qty));
                    if r.trade != TradeId(0) {
                        s.trades.push(r.trade);
                    }
                }
            }
            Record::Placed(p) => match s.placed.iter_mut().find(|q| q.slice == p.slice) {
                Some(q) => *q = *p,
                None => s.placed.push(*p),
            },
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|intent| {
            let mut s = seen.remove(&intent)?;
            if !matches!(s.last, Some(ExecKind::Accepted | ExecKind::PartialFill))
                || s.placed.is_empty()
            {
                return None;
            }
            s.placed.sort_by_key(|p| p.slice);
            let children = match s.placed[..] {
                [only] if only.prior <= s.cum => vec![(only, s.cum.saturating_sub(only.prior))],
                [_] => return None,
                // Several slices: which filled what is unknown once anything filled.
                _ if s.cum.is_zero() && s.placed.iter().all(|p| p.prior.is_zero()) => {
                    s.placed.iter().map(|&p| (p, Qty::ZERO)).collect()
                }
                _ => return None,
            };
            if children.iter().any(|(p, filled)| *filled > p.qty) {
                return None;
            }
            Some(Working {
                intent,
                cum: s.cum,
                value: s.value,
                trades: s.trades,
                children,
            })
        })
        .collect()
}

/// The child order a [`Placement`] names, as the venue works it: its type follows from
/// its prices (see [`Placement`]); the product is not journaled (the default is given:
/// a gateway follows an order by its id, never places it again).
pub fn venue_order(p: &Placement) -> VenueOrder {
    let kind = match (p.is_stop(), p.is_limit()) {
        (true, true) => OrderType::StopLimit,
        (true, false) => OrderType::StopMarket,
        (false, true) => OrderType::Limit,
        (false, false) => OrderType::Market,
    };
    VenueOrder {
        id: p.order,
        sent_ts: UnixNanos(0),
        limit: p.limit,
        trigger: p.trigger,
        qty: p.qty,
        instrument: p.instrument,
        protection_bps: 0,
        side: p.side,
        kind,
        product: Product::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ClientOrderId, ExecReport, InstrumentId, RejectReason, Side, Stamp, StrategyId,
    };

    fn id(seq: u64) -> IntentId {
        IntentId::new(seq, seq as u32)
    }

    fn exec(seq: u64, kind: ExecKind, last: u32, cum: u32, trade: u64) -> (UnixNanos, Record) {
        (
            UnixNanos(seq),
            Record::Exec(ExecReport {
                intent: id(seq),
                exchange_ts: UnixNanos(seq),
                ingress: Stamp(0),
                last_price: Price::from_paise(10_000),
                instrument: InstrumentId(0),
                last_qty: Qty::new(last),
                cum_qty: Qty::new(cum),
                leaves_qty: Qty::new(10 - cum),
                strategy: StrategyId(1),
                side: Side::Buy,
                kind,
                reject: RejectReason::None,
                trade: TradeId(trade),
            }),
        )
    }

    fn placed(seq: u64, child: u8, slice: u8, qty: u32, prior: u32) -> (UnixNanos, Record) {
        (
            UnixNanos(seq),
            Record::Placed(Placement {
                order: ClientOrderId::new(id(seq), child),
                venue_id: 1_000 + seq * 10 + u64::from(child),
                limit: Price::from_paise(10_000),
                trigger: Price::ZERO,
                qty: Qty::new(qty),
                prior: Qty::new(prior),
                instrument: InstrumentId(0),
                slice,
                side: Side::Buy,
            }),
        )
    }

    #[test]
    fn only_acknowledged_unfinished_children_are_working_with_what_they_filled() {
        let records = vec![
            // #1: placed, accepted, part filled twice: working, 6 filled.
            placed(1, 0, 0, 10, 0),
            exec(1, ExecKind::Accepted, 0, 0, 0),
            exec(1, ExecKind::PartialFill, 4, 4, 71),
            exec(1, ExecKind::PartialFill, 2, 6, 72),
            // #2: filled: not working.
            placed(2, 0, 0, 10, 0),
            exec(2, ExecKind::Accepted, 0, 0, 0),
            exec(2, ExecKind::Filled, 10, 10, 73),
            // #3: accepted with no placement (a venue naming no ids): not taken over.
            exec(3, ExecKind::Accepted, 0, 0, 0),
            // #4: 3 filled by child 0, replaced by child 1 for the rest of 7.
            placed(4, 0, 0, 10, 0),
            exec(4, ExecKind::Accepted, 0, 0, 0),
            exec(4, ExecKind::PartialFill, 3, 3, 74),
            placed(4, 1, 0, 7, 3),
            // #5: two slices, nothing filled: both children.
            placed(5, 0, 0, 5, 0),
            exec(5, ExecKind::Accepted, 0, 0, 0),
            placed(5, 1, 1, 5, 0),
            // #6: two slices, one filled: unknown which, not taken over.
            placed(6, 0, 0, 5, 0),
            placed(6, 1, 1, 5, 0),
            exec(6, ExecKind::Accepted, 0, 0, 0),
            exec(6, ExecKind::PartialFill, 2, 2, 75),
            // #7: cancelled at the end: not working.
            placed(7, 0, 0, 10, 0),
            exec(7, ExecKind::Accepted, 0, 0, 0),
            exec(7, ExecKind::Cancelled, 0, 0, 0),
        ];
        let working = working_at_restart(&records);
        let got: Vec<_> = working
            .iter()
            .map(|w| {
                (
                    w.intent.sequence(),
                    w.cum.get(),
                    w.children
                        .iter()
                        .map(|(p, f)| (p.order.child(), p.slice, f.get()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, 6, vec![(0, 0, 6)]),
                (4, 3, vec![(1, 0, 0)]),
                (5, 0, vec![(0, 0, 0), (1, 1, 0)]),
            ]
        );
        assert_eq!(working[0].trades, [TradeId(71), TradeId(72)]);
        assert_eq!(working[0].avg_price(), Price::from_paise(10_000));
        assert_eq!(working[0].children[0].0.venue_id, 1_010);
        assert_eq!(
            venue_order(&working[0].children[0].0).kind,
            OrderType::Limit
        );
    }
}
