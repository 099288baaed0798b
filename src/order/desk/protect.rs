//! Broker-side protective stops (`[order] protective_stop`): one stop-market (SL-M)
//! order per open position, kept at the engine's stop, so a dead engine still leaves its
//! positions protected.
//!
//! The risk stage says what the protection should be ([`ProtectStop`]); this desk keeps
//! the venue order there:
//!
//! | risk says | the desk does |
//! | --- | --- |
//! | a new intent id with units | places an SL-M for them (sliced at the freeze quantity like any order) |
//! | the same id, the stop moved at least `protective_stop_step_ticks` | modifies the trigger; past `max_modifications` cancels and places it again |
//! | the same id, a move smaller than the step | nothing: the broker's stop lags by less than a step, on the safe side, since a stop only moves in the position's favour |
//! | zero units | cancels it, and holds every intent of the instrument that follows until the cancel's final answer |
//!
//! **Never a double exit.** The risk stage sends zero units just before its own exit of
//! the position. That exit waits here until the protective order has ended, so the two
//! are never at the venue together; units the protective order filled that risk had not
//! booked when it sized the exit (`filled - booked`) are taken off the exit, and an exit
//! left with nothing is answered `cancelled` without reaching the venue. Risk books the
//! protective fills before the exit's answers (they travel the same ring, in order), so
//! the position ends flat, never reversed.
//!
//! The protective order lives in the book like any order, under the intent id risk
//! reserved for it, so its fills reach risk as ordinary exec reports of that intent; the
//! differences (no remainder policy, a cancelled protective order is not worked on as an
//! exit would be) are marked by [`Order::protective`].

use crate::{
    model::{
        ClientOrderId, InstrumentId, IntentId, IntentReason, OrderIntent, OrderState, Price,
        ProtectStop, Qty, RejectReason, Side,
    },
    order::{
        action::{Action, Request},
        book::{AfterCancel, Order, Timer},
        desk::Desk,
        venue::OrderType,
    },
};

/// Most intents of one instrument held while its protective order is cancelled: the
/// risk stage sends at most an exit and, on a reversal, the entry behind it.
const HELD: usize = 4;

/// The protective order of one instrument, as the desk knows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Guard {
    /// The protective order's intent (zero: none yet).
    intent: IntentId,
    /// It is in the book (not finished).
    live: bool,
    /// Units it filled, over its whole life (kept after it ends, for the exit after it).
    filled: Qty,
    /// Units risk had booked of it when it asked for the cancel.
    booked: Qty,
    /// Risk asked to end it: intents of the instrument wait for its final answer.
    closing: bool,
    /// Risk's own exit follows the cancel: once the order ended, its unbooked units are
    /// taken off that exit.
    exit_follows: bool,
    /// Units the next exit of the instrument is reduced by.
    unseen: Qty,
    /// Intents held until the cancel's final answer, in arrival order.
    held: [IntentId; HELD],
    held_len: u8,
}

/// The protective orders, one [`Guard`] per instrument, and how far a stop must move
/// before the venue order follows.
#[derive(Debug)]
pub struct Protection {
    guards: Vec<Guard>,
    step_ticks: i64,
}

impl Protection {
    /// Guards for `instruments`, modifying after moves of `step_ticks` ticks.
    pub fn new(instruments: usize, step_ticks: u32) -> Protection {
        Protection {
            guards: vec![Guard::default(); instruments],
            step_ticks: i64::from(step_ticks.max(1)),
        }
    }

    /// Guards for as many instruments, with the same step, none guarding anything.
    pub fn fresh(&self) -> Protection {
        Protection {
            guards: vec![Guard::default(); self.guards.len()],
            step_ticks: self.step_ticks,
        }
    }
}

impl Desk {
    /// Takes the risk stage's word about a protective stop (see the module docs).
    pub fn on_protect(&mut self, p: &ProtectStop) {
        self.advance(p.exchange_ts);
        let i = p.instrument.index();
        let Some(guard) = self.protection.guards.get(i).copied() else {
            return;
        };
        if p.qty.is_zero() {
            if guard.intent != p.intent {
                return;
            }
            let g = &mut self.protection.guards[i];
            g.booked = p.booked;
            g.exit_follows = p.exit_follows;
            if !guard.live {
                // It ended before the word came (filled, refused, expired): what it filled
                // beyond risk's count comes off the exit behind this message.
                g.unseen = if p.exit_follows {
                    g.filled.saturating_sub(p.booked)
                } else {
                    Qty::ZERO
                };
                return;
            }
            g.closing = true;
            self.counters.protect_cancelled += u64::from(!guard.closing);
            self.cancel_protective(p.intent);
            return;
        }
        let Some(spec) = self.specs.get(i).copied().filter(|s| s.tradable) else {
            return;
        };
        // Away from the market on the tick grid: a sell stop rounds down, a buy stop up,
        // so the venue never triggers before the engine's own stop would.
        let trigger = match p.side {
            Side::Sell => p.trigger.round_down_to_tick(spec.tick),
            Side::Buy => p.trigger.round_up_to_tick(spec.tick),
        };
        if !trigger.is_positive() || self.session_ended {
            return;
        }
        if guard.live && guard.intent == p.intent {
            self.retrigger(p.intent, trigger, spec.tick);
            return;
        }
        if guard.live {
            // Risk names a new order while the last is live: it never does; the book
            // keeps the one it has.
            return;
        }
        let intent = p.intent(trigger);
        let Some((slice_qty, slices)) = Desk::slicing(&spec, p.qty.get()) else {
            return;
        };
        let mut order = Order::new(intent, Qty::new(slice_qty), slices, OrderType::StopMarket);
        order.protective = true;
        for slice in &mut order.slices[..slices] {
            slice.trigger = trigger;
        }
        if self.book.insert(order).is_err() {
            self.counters.book_full += 1;
            return;
        }
        self.protection.guards[i] = Guard {
            intent: p.intent,
            live: true,
            ..Guard::default()
        };
        self.counters.protect_placed += 1;
        self.queue_places(p.intent);
    }

    /// Moves the protective order's trigger when the stop moved at least a step from
    /// what the venue works.
    fn retrigger(&mut self, id: IntentId, trigger: Price, tick: Price) {
        let step = tick.raw().saturating_mul(self.protection.step_ticks);
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        for i in 0..usize::from(order.slice_count) {
            let slice = &mut order.slices[i];
            if slice.state.is_terminal() || slice.cancelling {
                continue;
            }
            if trigger.abs_diff(slice.sent_trigger).raw() < step {
                continue;
            }
            slice.trigger = trigger;
            if slice.state == OrderState::New || slice.retriggering {
                // Not at the venue yet, or a modification already waits: it takes the
                // latest trigger when it goes.
                continue;
            }
            slice.retriggering = true;
            let action = Action::about(id, i, slice.child, Request::Retrigger);
            let _ = self.queue.push(action, true);
        }
    }

    /// Cancels every slice of protective order `id`: a slice not at the venue yet ends
    /// here, the others are asked to cancel (ahead of entries, as an exit).
    fn cancel_protective(&mut self, id: IntentId) {
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        for i in 0..usize::from(order.slice_count) {
            let slice = &mut order.slices[i];
            slice.after_cancel = AfterCancel::End;
            if slice.state == OrderState::New {
                slice.state = OrderState::Cancelled;
                slice.queued = false;
                slice.timer = Timer::Idle;
                continue;
            }
            if slice.state.is_terminal() || slice.cancelling {
                continue;
            }
            slice.timer = Timer::Idle;
            let action = Action::about(id, i, slice.child, Request::Cancel);
            let _ = self.queue.push(action, true);
        }
        self.settle(id);
    }

    /// A cancel of a protective order's slice was refused while the order still works
    /// (it had not reached the venue yet): ask again, or the intents held behind it
    /// would wait for ever.
    pub(super) fn cancel_refused(&mut self, id: IntentId, i: usize) {
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        let slice = &mut order.slices[i];
        slice.cancelling = false;
        if slice.state.is_terminal() {
            return;
        }
        let action = Action::about(id, i, slice.child, Request::Cancel);
        let _ = self.queue.push(action, true);
    }

    /// Queues the placement of every slice of order `id` not placed yet.
    pub(super) fn queue_places(&mut self, id: IntentId) {
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        let exit = order.intent.reason != IntentReason::Entry;
        for i in 0..usize::from(order.slice_count) {
            let slice = &mut order.slices[i];
            if slice.state != OrderState::New || slice.queued {
                continue;
            }
            let action = Action::about(id, i, slice.child, Request::Place);
            slice.queued = self.queue.push(action, exit).is_ok();
            if !slice.queued {
                // An entry held behind a cancel found the entry queue full.
                slice.state = OrderState::Rejected;
                slice.reject = RejectReason::Throttled;
            }
        }
        self.settle(id);
    }

    /// True when a new intent must wait: its instrument's protective order is being
    /// cancelled. The intent is remembered and placed once the cancel is answered.
    pub(super) fn hold(&mut self, intent: &OrderIntent) -> bool {
        let Some(g) = self.protection.guards.get_mut(intent.instrument.index()) else {
            return false;
        };
        if !g.closing || usize::from(g.held_len) >= HELD {
            return false;
        }
        g.held[usize::from(g.held_len)] = intent.id;
        g.held_len += 1;
        true
    }

    /// Takes the protective units risk did not see off a new exit of the instrument
    /// (before it is queued); an exit left with nothing is answered at once.
    pub(super) fn reduce_exit(&mut self, id: IntentId) {
        let Some(order) = self.book.get(id) else {
            return;
        };
        if order.intent.reason == IntentReason::Entry || order.protective {
            return;
        }
        let i = order.intent.instrument.index();
        let Some(g) = self.protection.guards.get_mut(i) else {
            return;
        };
        if !g.exit_follows {
            return;
        }
        g.exit_follows = false;
        let unseen = std::mem::replace(&mut g.unseen, Qty::ZERO);
        if unseen.is_zero() {
            return;
        }
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        let mut cut = unseen.min(order.intent.qty);
        order.intent.qty = order.intent.qty.saturating_sub(cut);
        for i in (0..usize::from(order.slice_count)).rev() {
            if cut.is_zero() {
                break;
            }
            let slice = &mut order.slices[i];
            let off = cut.min(slice.qty);
            cut = cut.saturating_sub(off);
            slice.qty = slice.qty.saturating_sub(off);
            slice.child_qty = slice.qty;
            if slice.qty.is_zero() {
                // Never placed: it ends here with nothing filled.
                slice.state = OrderState::Cancelled;
            }
        }
        self.counters.exits_reduced += 1;
        self.settle(id);
    }

    /// Notes a fill of a protective order.
    pub(super) fn protective_filled(&mut self, order: &Order, qty: Qty, first: bool) {
        if let Some(g) = self
            .protection
            .guards
            .get_mut(order.intent.instrument.index())
        {
            if g.intent == order.intent.id {
                g.filled = g.filled.checked_add(qty).unwrap_or(g.filled);
            }
        }
        self.counters.protect_triggered += u64::from(first);
    }

    /// A protective order ended (its final report has gone to risk): the intents held
    /// behind its cancel go now, an exit less what the protective order filled unseen.
    pub(super) fn protective_ended(&mut self, order: &Order) {
        let i = order.intent.instrument.index();
        let Some(g) = self.protection.guards.get_mut(i) else {
            return;
        };
        if g.intent != order.intent.id {
            return;
        }
        g.live = false;
        if !g.closing {
            return;
        }
        g.closing = false;
        g.unseen = if g.exit_follows {
            g.filled.saturating_sub(g.booked)
        } else {
            Qty::ZERO
        };
        let (held, n) = (g.held, usize::from(g.held_len));
        g.held_len = 0;
        for id in &held[..n] {
            self.reduce_exit(*id);
            self.queue_places(*id);
        }
    }
}

impl Desk {
    /// A resumed day took over `intent`, a protective stop the broker still works (see
    /// [`Desk::take_over`]): it guards its instrument again, live, with the units it
    /// filled, so the risk stage's next word about it moves or cancels this order.
    pub(super) fn guard_taken_over(&mut self, intent: &OrderIntent, filled: Qty) {
        if let Some(g) = self.protection.guards.get_mut(intent.instrument.index()) {
            *g = Guard {
                intent: intent.id,
                live: true,
                filled,
                ..Guard::default()
            };
        }
    }
}

/// A protective stop the run ended with, resting at the venue: what the operator is
/// told (see [`Desk::resting_stops`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resting {
    /// The child order at the venue.
    pub order: ClientOrderId,
    /// The instrument whose position it guards.
    pub instrument: InstrumentId,
    /// The closing side.
    pub side: Side,
    /// Units it still protects (the child's, less what it filled).
    pub qty: Qty,
    /// The trigger last sent to the venue.
    pub trigger: Price,
}

impl Desk {
    /// True when intent `id` waits behind the cancel of its instrument's protective
    /// stop. Off the hot path (the end of the session).
    pub(super) fn is_held(&self, id: IntentId) -> bool {
        self.book.get(id).is_some_and(|o| {
            self.protection
                .guards
                .get(o.intent.instrument.index())
                .is_some_and(|g| g.closing && g.held[..usize::from(g.held_len)].contains(&id))
        })
    }

    /// Asks again for the cancel of every protective stop being cancelled whose request
    /// had not gone yet (the end of the session cleared the queue): the intents held
    /// behind it wait for its answer.
    pub(super) fn cancel_closing_again(&mut self) {
        for i in 0..self.protection.guards.len() {
            let g = self.protection.guards[i];
            if g.closing && g.live {
                self.cancel_protective(g.intent);
            }
        }
    }

    /// True when the book holds protective stops only, each at rest at the venue:
    /// accepted (or part filled), with no cancel, placement or modification of it
    /// waiting, and not being cancelled for the engine's exit. What the end of a run
    /// may leave at the venue: nothing about them is waited for any more.
    pub fn only_resting_stops(&self) -> bool {
        self.book.iter().all(|o| self.is_resting_stop(o))
    }

    /// True when the book holds nothing but entries and protective stops at rest (see
    /// [`Desk::only_resting_stops`]): exits are worked until done.
    pub fn only_entries_or_resting_stops(&self) -> bool {
        self.book.iter().all(|o| {
            (o.intent.reason == IntentReason::Entry && !o.protective) || self.is_resting_stop(o)
        })
    }

    /// True when `order` is a protective stop being cancelled (risk ended it).
    pub(super) fn stop_closing(&self, order: &Order) -> bool {
        self.protection
            .guards
            .get(order.intent.instrument.index())
            .is_some_and(|g| g.intent == order.intent.id && g.closing)
    }

    fn is_resting_stop(&self, order: &Order) -> bool {
        if !order.protective {
            return false;
        }
        !self.stop_closing(order)
            && order.slices().iter().all(|s| {
                s.state.is_terminal()
                    || (matches!(s.state, OrderState::Accepted | OrderState::PartiallyFilled)
                        && !s.cancelling
                        && !s.queued
                        && !s.retriggering)
            })
    }

    /// Every child of a protective stop the book holds that works at the venue, in slot
    /// order. Off the hot path: the end of a run.
    pub fn resting_stops(&self) -> Vec<Resting> {
        let mut out = Vec::new();
        for order in self.book.iter().filter(|o| o.protective) {
            for slice in order.slices() {
                if slice.state.is_terminal() || slice.state == OrderState::New {
                    continue;
                }
                out.push(Resting {
                    order: ClientOrderId::new(order.intent.id, slice.child),
                    instrument: order.intent.instrument,
                    side: order.intent.side,
                    qty: slice.child_qty.saturating_sub(slice.child_filled),
                    trigger: slice.sent_trigger,
                });
            }
        }
        out
    }
}
