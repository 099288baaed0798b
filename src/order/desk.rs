//! The order stage's working state: live orders, the send queue and its rate limit,
//! timers, and the way back to risk. Every venue answer passes through
//! [`Desk::route`]; every request to the venue through [`Desk::prepare`].

use crate::{
    journal::{JournalTap, Record},
    model::{
        ClientOrderId, ExecKind, ExecReport, InstrumentId, InstrumentKind, InstrumentTable,
        IntentId, IntentReason, OrderIntent, OrderOutput, OrderState, Price, Qty, RejectReason,
        Side, Stamp, StrategyId, TradeId, UnixNanos,
    },
    order::{
        action::{Action, Request},
        book::{AfterCancel, Order, OrderBook, Slice, Timer, MAX_SLICES},
        config::{OrderConfig, RemainderPolicy},
        execution::ExecutionMetrics,
        queue::SendQueue,
        rate::RateLimiter,
        state::OrderEvent,
        venue::{Amend, OrderType, Product, VenueEvent, VenueOrder, VenueReport},
    },
    runtime::Outbox,
};

mod dry_run;
mod protect;
mod takeover;

pub use dry_run::DryRun;
use protect::Protection;

/// Finished orders the stage remembers for `orders` on the control socket.
pub const RECENT_ORDERS: usize = 32;

const MILLI: u64 = 1_000_000;
const SECOND: u64 = 1_000 * MILLI;

/// What the stage counts, reported by [`Stage::finish`](crate::runtime::Stage::finish).
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub quotes: u64,
    pub intents: u64,
    /// Child orders placed at the venue.
    pub orders: u64,
    pub fills: u64,
    /// Refusals, by the venue (each refused child) or by the stage.
    pub rejects: u64,
    /// Intents cut into more than one slice.
    pub sliced: u64,
    /// Refused placements placed again after a backoff.
    pub retries: u64,
    pub modifications: u64,
    pub cancels: u64,
    /// Children cancelled and placed again (modification budget, to market).
    pub replaced: u64,
    /// Entries refused because the entry queue was full.
    pub throttled: u64,
    /// Intents refused because the book had no slot for them.
    pub book_full: u64,
    /// Fills reported again under a trade id already booked: dropped.
    pub duplicate_fills: u64,
    /// Acceptances that came after a fill or the end, and answers to modifications and
    /// cancels that crossed the order's end: dropped quietly.
    pub late_acks: u64,
    pub unknown_reports: u64,
    pub invalid_reports: u64,
    /// Protective stops placed (one per position protected).
    pub protect_placed: u64,
    /// Modifications of protective stops' triggers sent.
    pub protect_modified: u64,
    /// Protective stops cancelled and placed again (the modification budget ran out).
    pub protect_replaced: u64,
    /// Protective stops cancelled (the position went flat, or the engine's exit goes).
    pub protect_cancelled: u64,
    /// Protective stops that triggered and filled.
    pub protect_triggered: u64,
    /// Protective stops the venue expired (a paper exchange expires every order at the
    /// end of its session).
    pub protect_expired: u64,
    /// Protective stops left resting at the venue when the run ended (the positions
    /// they protect were left open: `risk.on_shutdown = "leave"`).
    pub protect_left: u64,
    /// Engine exits cut by units a protective stop filled first.
    pub exits_reduced: u64,
    /// Orders a resumed day took over from the run before the restart (working at the
    /// broker), instead of placing them again.
    pub taken_over: u64,
}

/// What the stage knows per instrument.
#[derive(Debug, Clone, Copy)]
struct Spec {
    freeze_qty: u32,
    lot: u32,
    product: Product,
    tradable: bool,
    /// The tick size (the grid a protective stop's trigger goes on).
    tick: Price,
}

/// The settings the desk works by, read once from [`OrderConfig`].
#[derive(Debug, Clone, Copy)]
struct Policy {
    max_modifications: u8,
    retry_max_attempts: u8,
    retry_backoff: u64,
    retry_backoff_max: u64,
    entry_remainder: RemainderPolicy,
    exit_remainder: RemainderPolicy,
    remainder_timeout: u64,
    protection_bps: u16,
}

/// The last [`RECENT_ORDERS`] finished orders, overwritten oldest first.
#[derive(Debug)]
pub struct Recent {
    orders: Box<[Option<Order>; RECENT_ORDERS]>,
    next: usize,
}

impl Recent {
    fn new() -> Recent {
        Recent {
            orders: Box::new([None; RECENT_ORDERS]),
            next: 0,
        }
    }

    fn push(&mut self, order: Order) {
        self.orders[self.next] = Some(order);
        self.next = (self.next + 1) % RECENT_ORDERS;
    }

    /// Newest first.
    pub fn iter(&self) -> impl Iterator<Item = &Order> {
        (1..=RECENT_ORDERS)
            .map(move |back| (self.next + RECENT_ORDERS - back) % RECENT_ORDERS)
            .filter_map(move |i| self.orders[i].as_ref())
    }

    /// True when a recently finished order of `intent` booked `trade`.
    fn booked(&self, intent: IntentId, trade: TradeId) -> bool {
        trade != TradeId(0)
            && self
                .iter()
                .any(|o| o.intent.id == intent && o.trades.contains(&trade))
    }
}

/// True for refusals the order stage places again after a backoff: the retriable ones
/// ([`RejectReason::is_retriable`]) that time at the venue cures (rate limit, network, a
/// price band the retry re-prices into, a throttle).
///
/// `no_quote` and `not_marketable` are retriable too, but they say the *market* has
/// nothing to fill against now: they go back to risk at once, which decides whether an
/// entry's signal still holds and retries exits on its own schedule
/// (`risk.exit_retry_ms`), so an order is never retried by two layers at once.
fn retries(reason: RejectReason) -> bool {
    reason.is_retriable() && !matches!(reason, RejectReason::NoQuote | RejectReason::NotMarketable)
}

/// A request ready for the gateway.
#[derive(Debug, Clone, Copy)]
pub enum Prepared {
    Submit(VenueOrder),
    Modify(ClientOrderId, Amend),
    Cancel(ClientOrderId),
}

/// What the send queue gave ([`Desk::take_request`]).
#[derive(Debug, Clone, Copy)]
pub enum Taken {
    /// Nothing to send now: the queue is empty, or the rate limit says wait.
    Nothing,
    /// The head no longer applied and was dropped: ask again.
    Skipped,
    /// A request to send, for the queued action.
    Request(Action, Prepared),
}

/// The live orders and everything that works them.
#[derive(Debug)]
pub struct Desk {
    pub book: OrderBook,
    pub queue: SendQueue,
    pub rate: RateLimiter,
    pub out: Outbox<OrderOutput>,
    pub counters: Counters,
    pub metrics: ExecutionMetrics,
    pub recent: Recent,
    pub error: Option<&'static str>,
    /// Every report sent to risk goes to the journal too.
    pub journal: JournalTap,
    /// Latest bid and ask per instrument, for re-pricing.
    touches: Vec<(Price, Price)>,
    specs: Vec<Spec>,
    policy: Policy,
    /// Market time: the latest seen in quotes, intents and syncs.
    pub now: UnixNanos,
    /// The earliest timer due (`u64::MAX`: none).
    next_due: u64,
    pub session_ended: bool,
    /// The broker-side protective stops, per instrument.
    protection: Protection,
}

impl Desk {
    /// A desk for `instruments`, with a book of `capacity` intents, by `config`.
    pub fn new(
        instruments: &InstrumentTable,
        capacity: usize,
        strategies: usize,
        config: &OrderConfig,
        out: Outbox<OrderOutput>,
    ) -> Desk {
        let capacity = capacity.max(1);
        Desk {
            book: OrderBook::new(capacity),
            // One waiting request per child the book can hold: exits never wait for room.
            queue: SendQueue::new(capacity * MAX_SLICES, config.queue_capacity),
            rate: RateLimiter::new(&[
                (config.per_second, SECOND),
                (config.per_minute, 60 * SECOND),
                (config.per_day, 24 * 3_600 * SECOND),
            ]),
            out,
            counters: Counters::default(),
            metrics: ExecutionMetrics::new(strategies),
            recent: Recent::new(),
            error: None,
            journal: JournalTap::off(),
            touches: vec![(Price::ZERO, Price::ZERO); instruments.len()],
            specs: instruments
                .iter()
                .map(|i| Spec {
                    freeze_qty: i.freeze_qty,
                    lot: i.lot_size.max(1),
                    product: config.product(i.kind),
                    tradable: i.kind != InstrumentKind::Index,
                    tick: i.tick_size,
                })
                .collect(),
            policy: Policy {
                max_modifications: config.max_modifications.min(255) as u8,
                retry_max_attempts: config.retry_max_attempts.min(255) as u8,
                retry_backoff: config.retry_backoff_ms.saturating_mul(MILLI),
                retry_backoff_max: config.retry_backoff_max_ms.saturating_mul(MILLI),
                entry_remainder: config.entry_remainder,
                exit_remainder: config.exit_remainder,
                remainder_timeout: config.remainder_timeout_ms.saturating_mul(MILLI),
                protection_bps: config.protection_bps,
            },
            now: UnixNanos(0),
            next_due: u64::MAX,
            session_ended: false,
            protection: Protection::new(instruments.len(), config.protective_stop_step_ticks),
        }
    }

    /// A desk like this one (instruments, policy, rate windows), with a book of one
    /// slot, nothing in it, and its answers going to `out`: the dry run's
    /// ([`DryRun`]). Allocates.
    fn scratch(&self, out: Outbox<OrderOutput>) -> Desk {
        Desk {
            book: OrderBook::new(1),
            queue: SendQueue::new(MAX_SLICES, MAX_SLICES),
            rate: self.rate.clone(),
            out,
            counters: Counters::default(),
            metrics: ExecutionMetrics::new(1),
            recent: Recent::new(),
            error: None,
            journal: JournalTap::off(),
            touches: self.touches.clone(),
            specs: self.specs.clone(),
            policy: self.policy,
            now: self.now,
            next_due: u64::MAX,
            session_ended: false,
            protection: self.protection.fresh(),
        }
    }

    /// Moves market time on (never back).
    pub fn advance(&mut self, now: UnixNanos) {
        self.now = self.now.max(now);
    }

    /// Remembers the touch of an instrument.
    pub fn on_quote(&mut self, instrument: usize, bid: Price, ask: Price) {
        if let Some(t) = self.touches.get_mut(instrument) {
            *t = (bid, ask);
        }
    }

    fn touch(&self, instrument: usize, side: Side) -> Price {
        let (bid, ask) = self.touches.get(instrument).copied().unwrap_or_default();
        match side {
            Side::Buy => ask,
            Side::Sell => bid,
        }
    }

    // ----- intents ------------------------------------------------------------------

    /// Takes an approved intent: cuts it at the freeze quantity and queues its slices.
    pub fn on_intent(&mut self, intent: &OrderIntent) {
        self.counters.intents += 1;
        let Some(spec) = self
            .specs
            .get(intent.instrument.index())
            .copied()
            .filter(|s| s.tradable)
        else {
            self.refuse(intent, RejectReason::UnknownInstrument);
            return;
        };
        let Some((slice_qty, slices)) = Desk::slicing(&spec, intent.qty.get()) else {
            self.refuse(intent, RejectReason::FreezeQty);
            return;
        };
        let exit = intent.reason != IntentReason::Entry;
        if !exit && !self.queue.entry_room(slices) {
            self.counters.throttled += 1;
            self.refuse(intent, RejectReason::Throttled);
            return;
        }
        let kind = if intent.is_market() {
            OrderType::Market
        } else {
            OrderType::Limit
        };
        let mut order = Order::new(*intent, Qty::new(slice_qty), slices, kind);
        order.arrived = self.metrics.arrival();
        if self.book.insert(order).is_err() {
            self.counters.book_full += 1;
            self.refuse(intent, RejectReason::Throttled);
            return;
        }
        self.counters.sliced += u64::from(slices > 1);
        // Behind a protective stop being cancelled, the intent waits for its answer.
        if self.hold(intent) {
            return;
        }
        self.reduce_exit(intent.id);
        // Room was checked above for entries; exits always fit.
        self.queue_places(intent.id);
    }

    /// How an order of `qty` units is cut at the freeze quantity: the slice size and the
    /// number of slices (`None`: more than [`MAX_SLICES`]).
    fn slicing(spec: &Spec, qty: u32) -> Option<(u32, usize)> {
        let (slice_qty, slices) = if spec.freeze_qty > 0 && qty > spec.freeze_qty {
            // Whole lots up to the freeze quantity (a freeze below one lot: the freeze).
            let size = match spec.freeze_qty / spec.lot * spec.lot {
                0 => spec.freeze_qty,
                whole_lots => whole_lots,
            };
            (size, qty.div_ceil(size) as usize)
        } else {
            (qty, 1)
        };
        (slices <= MAX_SLICES).then_some((slice_qty, slices))
    }

    /// Answers an intent the stage does not place, without the gateway.
    fn refuse(&mut self, intent: &OrderIntent, reason: RejectReason) {
        self.counters.rejects += 1;
        self.metrics.reject(intent.strategy, reason);
        self.metrics.ended(intent.strategy, intent.qty, Qty::ZERO);
        let mut order = Order::new(*intent, intent.qty, 1, OrderType::Market);
        order.state = OrderState::Rejected;
        self.recent.push(order);
        self.send_report(ExecReport {
            intent: intent.id,
            exchange_ts: intent.exchange_ts,
            ingress: intent.ingress,
            last_price: Price::ZERO,
            instrument: intent.instrument,
            last_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            leaves_qty: Qty::ZERO,
            strategy: intent.strategy,
            side: intent.side,
            kind: ExecKind::Rejected,
            reject: reason,
            trade: TradeId(0),
        });
    }

    // ----- requests -------------------------------------------------------------------

    /// True when the request no longer applies (its order ended, its child was
    /// replaced, or its child is not in a state the request fits): it is dropped
    /// without using the rate limit.
    pub fn is_stale(&self, action: &Action) -> bool {
        let Some(slice) = self
            .book
            .get(action.intent)
            .and_then(|o| o.slices().get(usize::from(action.slice)))
        else {
            return true;
        };
        if slice.child != action.child {
            return true;
        }
        match action.request {
            Request::Place => slice.state != OrderState::New,
            Request::Retrigger if slice.trigger == slice.sent_trigger => true,
            Request::Reprice | Request::Cancel | Request::Retrigger => {
                slice.cancelling
                    || !matches!(
                        slice.state,
                        OrderState::Sent | OrderState::Accepted | OrderState::PartiallyFilled
                    )
            }
        }
    }

    /// Takes the queue's next request when the rate limit allows it: a stale one is
    /// dropped without using the limit, the others are prepared for the gateway.
    ///
    /// Out of line so the dry run ([`DryRun`]) runs the very code the stage's sending
    /// loop runs, not an inlined copy of it.
    #[inline(never)]
    pub fn take_request(&mut self) -> Taken {
        let Some(action) = self.queue.peek().copied() else {
            return Taken::Nothing;
        };
        if self.is_stale(&action) {
            self.queue.pop();
            self.drop_stale(&action);
            return Taken::Skipped;
        }
        if !self.rate.try_take(self.now) {
            return Taken::Nothing;
        }
        self.queue.pop();
        match self.prepare(&action) {
            Some(request) => Taken::Request(action, request),
            None => Taken::Skipped,
        }
    }

    /// Drops a stale request, clearing its slice's mark.
    pub fn drop_stale(&mut self, action: &Action) {
        if action.request == Request::Retrigger {
            if let Some(slice) = self
                .book
                .get_mut(action.intent)
                .and_then(|o| o.slices.get_mut(usize::from(action.slice)))
            {
                slice.retriggering = false;
            }
            return;
        }
        if action.request != Request::Place {
            return;
        }
        if let Some(slice) = self
            .book
            .get_mut(action.intent)
            .and_then(|o| o.slices.get_mut(usize::from(action.slice)))
        {
            if slice.child == action.child {
                slice.queued = false;
            }
        }
        self.settle(action.intent);
    }

    /// Turns a request the rate limit let through into what the gateway is asked.
    pub fn prepare(&mut self, action: &Action) -> Option<Prepared> {
        let now = self.now;
        let max_modifications = self.policy.max_modifications;
        let protection = self.policy.protection_bps;
        let order = self.book.get_mut(action.intent)?;
        let intent = order.intent;
        let i = usize::from(action.slice);
        let touch = {
            let (bid, ask) = self
                .touches
                .get(intent.instrument.index())
                .copied()
                .unwrap_or_default();
            match intent.side {
                Side::Buy => ask,
                Side::Sell => bid,
            }
        };
        let spec = self.specs.get(intent.instrument.index()).copied()?;
        let slice = order.slices.get_mut(i)?;
        let id = ClientOrderId::new(intent.id, slice.child);
        match action.request {
            Request::Place => {
                slice.queued = false;
                slice.state = slice.state.on(OrderEvent::Send).ok()?;
                if order.state == OrderState::New {
                    order.state = OrderState::Sent;
                }
                self.counters.orders += 1;
                let order = Desk::placement(&intent, slice, &spec, id, now, protection);
                slice.sent_trigger = order.trigger;
                Some(Prepared::Submit(order))
            }
            Request::Reprice => {
                if slice.modifications >= max_modifications {
                    // The venue allows no more changes: cancel, then place the rest anew.
                    slice.cancelling = true;
                    slice.after_cancel = AfterCancel::Replace;
                    self.counters.cancels += 1;
                    return Some(Prepared::Cancel(id));
                }
                if !touch.is_positive() || slice.kind != OrderType::Limit {
                    return None;
                }
                slice.modifications += 1;
                slice.limit = touch;
                self.counters.modifications += 1;
                Some(Prepared::Modify(
                    id,
                    Amend {
                        qty: slice.child_qty,
                        limit: touch,
                        trigger: Price::ZERO,
                    },
                ))
            }
            Request::Cancel => {
                slice.cancelling = true;
                self.counters.cancels += 1;
                Some(Prepared::Cancel(id))
            }
            Request::Retrigger => {
                slice.retriggering = false;
                if slice.modifications >= max_modifications {
                    // The venue allows no more changes: cancel, then place it again at
                    // the new trigger.
                    slice.cancelling = true;
                    slice.after_cancel = AfterCancel::Replace;
                    self.counters.cancels += 1;
                    self.counters.protect_replaced += 1;
                    return Some(Prepared::Cancel(id));
                }
                slice.modifications += 1;
                slice.sent_trigger = slice.trigger;
                self.counters.modifications += 1;
                self.counters.protect_modified += 1;
                Some(Prepared::Modify(
                    id,
                    Amend {
                        qty: slice.child_qty,
                        limit: Price::ZERO,
                        trigger: slice.trigger,
                    },
                ))
            }
        }
    }

    /// The venue request that places `slice` of `intent`: one function for the real
    /// placement ([`Desk::prepare`]) and the rehearsal ([`Desk::rehearse`]), so that the
    /// rehearsal warms the code a real order runs.
    #[inline(never)]
    fn placement(
        intent: &OrderIntent,
        slice: &Slice,
        spec: &Spec,
        id: ClientOrderId,
        now: UnixNanos,
        protection_bps: u16,
    ) -> VenueOrder {
        let market = matches!(slice.kind, OrderType::Market | OrderType::StopMarket);
        let stop = matches!(slice.kind, OrderType::StopMarket | OrderType::StopLimit);
        VenueOrder {
            id,
            sent_ts: now,
            limit: if market { Price::ZERO } else { slice.limit },
            trigger: if stop { slice.trigger } else { Price::ZERO },
            qty: slice.child_qty,
            instrument: intent.instrument,
            protection_bps: if market { protection_bps } else { 0 },
            side: intent.side,
            kind: slice.kind,
            product: spec.product,
        }
    }

    /// A dry run of taking a one-lot market buy of `instrument` and preparing its first
    /// placement: the instrument's spec, the slicing, the queue's room, the order as the
    /// book would hold it, the rate limit's windows and the request. Reads only; the
    /// caller throws the request away (see `runtime::Rehearsal`). `None` when the
    /// instrument is not traded here.
    pub fn rehearse(&self, instrument: InstrumentId) -> Option<VenueOrder> {
        let spec = self
            .specs
            .get(instrument.index())
            .copied()
            .filter(|s| s.tradable)?;
        let (slice_qty, slices) = Desk::slicing(&spec, spec.lot)?;
        let intent = OrderIntent {
            id: IntentId(0),
            exchange_ts: self.now,
            ingress: Stamp(0),
            limit: Price::ZERO,
            qty: Qty::new(spec.lot),
            instrument,
            strategy: StrategyId(0),
            side: Side::Buy,
            reason: IntentReason::Entry,
            reference: self.touch(instrument.index(), Side::Buy),
        };
        let room = self.queue.entry_room(slices) && self.rate.allows(self.now);
        let order = Order::new(intent, Qty::new(slice_qty), slices, OrderType::Market);
        // Built in full, as `on_intent` builds it for the book.
        std::hint::black_box(&order);
        let id = ClientOrderId::new(intent.id, order.slices[0].child);
        let request = Desk::placement(
            &intent,
            &order.slices[0],
            &spec,
            id,
            self.now,
            self.policy.protection_bps,
        );
        room.then_some(request)
    }

    /// Instruments the desk knows (traded or not).
    pub fn instruments(&self) -> usize {
        self.specs.len()
    }

    // ----- timers ---------------------------------------------------------------------

    fn arm(next_due: &mut u64, slice: &mut Slice, timer: Timer, due: u64) {
        slice.timer = timer;
        slice.due = UnixNanos(due);
        *next_due = (*next_due).min(due);
    }

    /// True when neither a timer is due nor a request waits: the stage's pump would
    /// send nothing. Checked inline after every input (see `OrderStage::pump`).
    #[inline]
    pub fn nothing_to_send(&self) -> bool {
        self.now.0 < self.next_due && self.queue.is_empty()
    }

    /// Fires the timers due by market time `now`: retries and remainder policies. Costs
    /// nothing until the earliest timer is due; then one pass over the book.
    pub fn run_timers(&mut self) {
        let now = self.now;
        if now.0 < self.next_due {
            return;
        }
        if self.session_ended {
            // The timers died with the session ([`Desk::end_session`]); an answer after
            // it may arm one, which never fires: the entries are being cancelled, and
            // exits wait at the venue until done.
            self.next_due = u64::MAX;
            return;
        }
        let mut next_due = u64::MAX;
        let policy = self.policy;
        let touches = &self.touches;
        let queue = &mut self.queue;
        let counters = &mut self.counters;
        for order in self.book.iter_mut() {
            let intent = order.intent;
            let exit = intent.reason != IntentReason::Entry;
            let remainder = if exit {
                policy.exit_remainder
            } else {
                policy.entry_remainder
            };
            for i in 0..usize::from(order.slice_count) {
                let slice = order.slices[i];
                if slice.timer == Timer::Idle {
                    continue;
                }
                if slice.due > now {
                    next_due = next_due.min(slice.due.0);
                    continue;
                }
                order.slices[i].timer = Timer::Idle;
                let request = match slice.timer {
                    Timer::Idle => continue,
                    // A protective stop waits at the venue until it triggers.
                    Timer::Remainder if order.protective => continue,
                    Timer::Retry => {
                        let child = order.new_child();
                        let s = &mut order.slices[i];
                        s.child = child;
                        s.state = OrderState::New;
                        s.child_qty = s.qty.saturating_sub(s.filled);
                        s.child_filled = Qty::ZERO;
                        s.modifications = 0;
                        if s.reject == RejectReason::PriceBand && s.kind == OrderType::Limit {
                            let (bid, ask) = touches
                                .get(intent.instrument.index())
                                .copied()
                                .unwrap_or_default();
                            let touch = if intent.side == Side::Buy { ask } else { bid };
                            if touch.is_positive() {
                                s.limit = touch;
                            }
                        }
                        counters.retries += 1;
                        Request::Place
                    }
                    Timer::Remainder => match remainder {
                        RemainderPolicy::Wait => continue,
                        RemainderPolicy::Reprice => {
                            if slice.kind != OrderType::Limit {
                                continue;
                            }
                            // Re-armed once the modification is confirmed.
                            Request::Reprice
                        }
                        RemainderPolicy::Cancel => {
                            order.slices[i].after_cancel = AfterCancel::End;
                            Request::Cancel
                        }
                        RemainderPolicy::Market => {
                            order.slices[i].after_cancel = AfterCancel::Market;
                            Request::Cancel
                        }
                    },
                };
                let action = Action::about(intent.id, i, order.slices[i].child, request);
                if request == Request::Place {
                    order.slices[i].queued = queue.push(action, exit).is_ok();
                } else {
                    let _ = queue.push(action, exit);
                }
            }
        }
        self.next_due = next_due;
    }

    // ----- answers --------------------------------------------------------------------

    /// Checks a venue answer against its child's state machine and quantities, updates
    /// the order, and tells risk what it means for the intent.
    ///
    /// Answers about no live child are counted (a late acceptance quietly as
    /// `late_acks`, a fill already booked as `duplicate_fills`) and dropped, and so are
    /// answers the state machine refuses. Fills beyond a child's quantity mean the
    /// gateway and the book disagree about money: the stage records the error and stops.
    ///
    /// A report's `exchange_ts` is the venue's time of the event and stays a fact of the
    /// report (risk and the journal get it); it neither moves the desk's market time nor
    /// times a timer. A broker stamps reports with its own clock (whole seconds, seconds
    /// apart from the exchange's and the feed's, or a fixture's day years ago): timers
    /// run on the desk's market time as the stage's input moves it, from the moment the
    /// answer arrived. A paper exchange's answers are stamped at or before that moment,
    /// so they time nothing differently across thread layouts.
    pub fn route(&mut self, report: VenueReport) {
        let intent_id = report.order.intent();
        let Some(order) = self.book.get_mut(intent_id) else {
            self.unmatched(&report);
            return;
        };
        let Some(i) = order.slice_of(report.order.child()) else {
            self.unmatched(&report);
            return;
        };
        match report.event {
            VenueEvent::Accepted => self.on_accepted(intent_id, i, &report),
            VenueEvent::Fill => self.on_fill(intent_id, i, &report),
            VenueEvent::Rejected => self.on_rejected(intent_id, i, &report),
            VenueEvent::Cancelled | VenueEvent::Expired => self.on_ended(intent_id, i, &report),
            VenueEvent::Modified => {
                let timeout = self.policy.remainder_timeout;
                let protective = order.protective;
                let slice = &mut order.slices[i];
                if !slice.state.is_terminal() && !protective {
                    Desk::arm(
                        &mut self.next_due,
                        slice,
                        Timer::Remainder,
                        self.now.0.saturating_add(timeout),
                    );
                }
            }
            VenueEvent::ModifyRejected if order.protective => {
                // The venue works the old trigger: the next move of the stop asks again,
                // and a spent budget moves it by cancel and re-place at once.
                let slice = &mut order.slices[i];
                slice.sent_trigger = Price::ZERO;
                if report.reject == RejectReason::ModifyLimit {
                    slice.modifications = u8::MAX;
                }
                if report.reject == RejectReason::ModifyLimit && !slice.retriggering {
                    slice.retriggering = true;
                    let action = Action::about(intent_id, i, slice.child, Request::Retrigger);
                    let _ = self.queue.push(action, true);
                }
            }
            VenueEvent::ModifyRejected => {
                if report.reject == RejectReason::ModifyLimit {
                    let exit = order.intent.reason != IntentReason::Entry;
                    let slice = &mut order.slices[i];
                    slice.modifications = u8::MAX;
                    let action = Action::about(intent_id, i, slice.child, Request::Reprice);
                    let _ = self.queue.push(action, exit);
                }
            }
            VenueEvent::CancelRejected if order.protective => self.cancel_refused(intent_id, i),
            VenueEvent::CancelRejected => order.slices[i].cancelling = false,
        }
    }

    /// An answer about no live child.
    fn unmatched(&mut self, report: &VenueReport) {
        let intent = report.order.intent();
        match report.event {
            VenueEvent::Accepted => self.counters.late_acks += 1,
            // A modification or cancel that crossed the order's last fill (a protective
            // stop that triggered while its trigger or its cancel was on the way): the
            // venue's answer comes after the order ended, and changes nothing.
            VenueEvent::Modified | VenueEvent::ModifyRejected | VenueEvent::CancelRejected
                if self.recent.iter().any(|o| o.intent.id == intent) =>
            {
                self.counters.late_acks += 1;
            }
            VenueEvent::Fill if self.recent.booked(report.order.intent(), report.trade) => {
                self.counters.duplicate_fills += 1;
            }
            _ => self.counters.unknown_reports += 1,
        }
    }

    fn on_accepted(&mut self, id: IntentId, i: usize, report: &VenueReport) {
        if report.venue_id != 0 {
            // A broker's order id: journaled, so a resumed day takes the order over.
            self.journal_placed(id, i, report);
        }
        let timeout = self.policy.remainder_timeout;
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        let slice = &mut order.slices[i];
        if slice.state != OrderState::Sent {
            // A fill overtook the acceptance (or it came twice): nothing to learn.
            self.counters.late_acks += 1;
            return;
        }
        slice.state = OrderState::Accepted;
        if !order.protective {
            Desk::arm(
                &mut self.next_due,
                slice,
                Timer::Remainder,
                self.now.0.saturating_add(timeout),
            );
        }
        if order.acked {
            return;
        }
        order.acked = true;
        if order.state == OrderState::Sent {
            order.state = OrderState::Accepted;
        }
        let intent = order.intent;
        let (cum, leaves) = (order.cum_qty, order.leaves_qty());
        if !order.protective {
            // A protective stop waits by design: its latencies would say nothing.
            self.metrics.ack(
                intent.strategy,
                intent.exchange_ts,
                order.arrived,
                report.exchange_ts,
            );
        }
        self.report(&intent, report, ExecKind::Accepted, cum, leaves);
        if self.session_ended {
            self.cancel_at_end(id);
        }
    }

    fn on_fill(&mut self, id: IntentId, i: usize, report: &VenueReport) {
        let timeout = self.policy.remainder_timeout;
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        if report.trade != TradeId(0) && order.trades.contains(&report.trade) {
            // The same trade reported again (a replay, a duplicate message): booked once.
            self.counters.duplicate_fills += 1;
            return;
        }
        let slice = order.slices[i];
        let child_filled = slice.child_filled.checked_add(report.last_qty).ok();
        let Some(child_filled) =
            child_filled.filter(|&f| !report.last_qty.is_zero() && f <= slice.child_qty)
        else {
            self.counters.invalid_reports += 1;
            self.error
                .get_or_insert("the gateway reported fills that do not add up to the order");
            return;
        };
        let event = if child_filled == slice.child_qty {
            OrderEvent::Fill
        } else {
            OrderEvent::PartialFill
        };
        let Ok(next) = slice.state.on(event) else {
            self.counters.invalid_reports += 1;
            return;
        };
        order.seen_trade(report.trade);
        let s = &mut order.slices[i];
        s.state = next;
        s.child_filled = child_filled;
        s.filled = s.filled.checked_add(report.last_qty).unwrap_or(s.qty);
        if next.is_terminal() || order.protective {
            s.timer = Timer::Idle;
        } else {
            Desk::arm(
                &mut self.next_due,
                s,
                Timer::Remainder,
                self.now.0.saturating_add(timeout),
            );
        }
        order.cum_qty = order
            .cum_qty
            .checked_add(report.last_qty)
            .unwrap_or(order.intent.qty);
        order.filled_value = order
            .filled_value
            .saturating_add(report.last_price.notional(report.last_qty));
        let intent = order.intent;
        let kind = if order.cum_qty >= intent.qty {
            order.state = OrderState::Filled;
            ExecKind::Filled
        } else {
            order.state = OrderState::PartiallyFilled;
            ExecKind::PartialFill
        };
        let first = !order.fill_seen;
        order.fill_seen = true;
        let (cum, leaves) = (order.cum_qty, order.leaves_qty());
        self.counters.fills += 1;
        self.metrics.fill(
            intent.strategy,
            intent.side,
            intent.reference,
            report.last_price,
            report.last_qty,
        );
        if first && !order.protective {
            self.metrics.first_fill(
                intent.strategy,
                intent.exchange_ts,
                order.arrived,
                report.exchange_ts,
            );
        }
        if order.protective {
            let order = *order;
            self.protective_filled(&order, report.last_qty, first);
        }
        self.report(&intent, report, kind, cum, leaves);
        self.settle(id);
        if self.session_ended {
            // A part fill before the acceptance: the rest works at the venue.
            self.cancel_at_end(id);
        }
    }

    fn on_rejected(&mut self, id: IntentId, i: usize, report: &VenueReport) {
        let policy = self.policy;
        let session_ended = self.session_ended;
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        let slice = &mut order.slices[i];
        let Ok(next) = slice.state.on(OrderEvent::Reject) else {
            self.counters.invalid_reports += 1;
            return;
        };
        slice.state = next;
        slice.timer = Timer::Idle;
        slice.reject = report.reject;
        self.counters.rejects += 1;
        self.metrics.reject(order.intent.strategy, report.reject);
        if retries(report.reject) && slice.attempts < policy.retry_max_attempts && !session_ended {
            // Back off in market time: base × 2^attempt, capped.
            let backoff = policy
                .retry_backoff
                .saturating_mul(1 << slice.attempts.min(30))
                .min(policy.retry_backoff_max);
            slice.attempts += 1;
            Desk::arm(
                &mut self.next_due,
                slice,
                Timer::Retry,
                self.now.0.saturating_add(backoff),
            );
        }
        self.settle(id);
    }

    fn on_ended(&mut self, id: IntentId, i: usize, report: &VenueReport) {
        let session_ended = self.session_ended;
        let touch_at = self
            .book
            .get(id)
            .map(|o| (o.intent.instrument.index(), o.intent.side));
        let touch = touch_at.map_or(Price::ZERO, |(inst, side)| self.touch(inst, side));
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        let event = if report.event == VenueEvent::Cancelled {
            OrderEvent::Cancel
        } else {
            OrderEvent::Expire
        };
        // A protective stop is not worked on as an exit: cancelled, it ends.
        let exit = order.intent.reason != IntentReason::Entry && !order.protective;
        let slice = &mut order.slices[i];
        let Ok(next) = slice.state.on(event) else {
            self.counters.invalid_reports += 1;
            return;
        };
        slice.state = next;
        slice.timer = Timer::Idle;
        slice.cancelling = false;
        let after = match slice.after_cancel {
            // An exit the venue ended is worked on: its rest goes again at market.
            AfterCancel::End if exit => AfterCancel::Market,
            other => other,
        };
        slice.after_cancel = AfterCancel::End;
        let rest = slice.qty.saturating_sub(slice.filled);
        // After the session nothing is placed again, but a protective stop whose cancel
        // to replace it (its modification budget spent) the venue confirmed: the
        // position it guards may be left open at the end (`risk.on_shutdown =
        // "leave"`), so it goes back. (A paper exchange's end expires its orders.)
        let replace_after_end = order.protective && report.event == VenueEvent::Cancelled;
        if after != AfterCancel::End
            && !rest.is_zero()
            && (!session_ended || replace_after_end)
            && order.next_child < u8::MAX
        {
            let child = order.new_child();
            let slice = &mut order.slices[i];
            slice.child = child;
            slice.state = OrderState::New;
            slice.child_qty = rest;
            slice.child_filled = Qty::ZERO;
            slice.modifications = 0;
            // A protective stop is placed again as it was, at its latest trigger.
            if slice.kind != OrderType::StopMarket {
                if after == AfterCancel::Market || !touch.is_positive() {
                    slice.kind = OrderType::Market;
                    slice.limit = Price::ZERO;
                } else {
                    slice.limit = touch;
                }
            }
            let action = Action::about(id, i, child, Request::Place);
            slice.queued = self.queue.push(action, exit || order.protective).is_ok();
            self.counters.replaced += 1;
        }
        self.settle(id);
    }

    /// Ends the intent when every slice is done: the final report (unless the last
    /// fill was it), the metrics, and the slot freed.
    fn settle(&mut self, id: IntentId) {
        if !self.book.get(id).is_some_and(Order::is_done) {
            return;
        }
        let Some(mut order) = self.book.remove(id) else {
            return;
        };
        let intent = order.intent;
        if !order.protective || !order.cum_qty.is_zero() {
            // A protective stop that never triggered is no unfilled order.
            self.metrics
                .ended(intent.strategy, intent.qty, order.cum_qty);
        }
        if order.state == OrderState::Filled {
            self.recent.push(order);
            if order.protective {
                self.protective_ended(&order);
            }
            return;
        }
        let slices = order.slices();
        let (kind, reject) =
            if order.cum_qty.is_zero() && slices.iter().all(|s| s.state == OrderState::Rejected) {
                let reason = slices
                    .iter()
                    .map(|s| s.reject)
                    .find(|&r| r != RejectReason::None)
                    .unwrap_or(RejectReason::Venue);
                (ExecKind::Rejected, reason)
            } else if slices.iter().any(|s| s.state == OrderState::Expired) {
                (ExecKind::Expired, RejectReason::None)
            } else {
                (ExecKind::Cancelled, RejectReason::None)
            };
        order.state = match kind {
            ExecKind::Rejected => OrderState::Rejected,
            ExecKind::Expired => OrderState::Expired,
            _ => OrderState::Cancelled,
        };
        let cum = order.cum_qty;
        self.counters.protect_expired += u64::from(order.protective && kind == ExecKind::Expired);
        self.recent.push(order);
        let at = VenueReport {
            reject,
            ..VenueReport::new(ClientOrderId::new(id, 0), self.now, VenueEvent::Cancelled)
        };
        self.report(&intent, &at, kind, cum, Qty::ZERO);
        if order.protective {
            self.protective_ended(&order);
        }
    }

    /// The session is over: what never reached the venue (queued, waiting for a retry)
    /// ends now, so every intent gets its final answer; entries the venue still works are
    /// cancelled.
    ///
    /// Called after the gateway ended the venue's session. A paper exchange has expired
    /// every order by then, so nothing is left to cancel there. A broker keeps a day
    /// order working until the close: an entry resting there would hold the engine open
    /// with nothing left to end it (its remainder policy died with the timers), so the
    /// desk asks the venue to cancel it, and books the fills that cross the cancel.
    /// An entry still on its way is cancelled once the venue accepts it or part fills
    /// it. Exits, and protective stops, are not cancelled: they are worked until done.
    ///
    /// An exit held behind the cancel of its instrument's protective stop has not
    /// reached the venue either, but it is not ended: it goes once the cancel is
    /// answered (the shutdown flatten sends exactly that pair just before the end), and
    /// a cancel of a protective stop still waiting in the queue is asked again. A
    /// modification of a protective stop still waiting is dropped: the venue keeps the
    /// trigger it was last sent. At a venue that keeps its orders after the session (a
    /// broker: `venue_keeps_orders`), a protective stop not being cancelled whose
    /// placement waits (a first placement, or the new order of a cancel-and-replace) is
    /// placed still: the position it guards may be left open at the end
    /// (`risk.on_shutdown = "leave"`), and it must not be left unguarded.
    pub fn end_session(&mut self, venue_keeps_orders: bool) {
        self.session_ended = true;
        self.queue.clear();
        self.next_due = u64::MAX;
        // Once a day, off the hot path: the ids are collected before settling.
        let mut ids = Vec::with_capacity(self.book.len());
        let held: Vec<IntentId> = self
            .book
            .iter()
            .filter(|o| o.intent.reason != IntentReason::Entry && self.is_held(o.intent.id))
            .map(|o| o.intent.id)
            .collect();
        let guarding: Vec<IntentId> = self
            .book
            .iter()
            .filter(|o| venue_keeps_orders && o.protective && !self.stop_closing(o))
            .map(|o| o.intent.id)
            .collect();
        for order in self.book.iter_mut() {
            let keep = held.contains(&order.intent.id) || guarding.contains(&order.intent.id);
            for slice in &mut order.slices[..usize::from(order.slice_count)] {
                slice.queued = false;
                slice.retriggering = false;
                slice.timer = Timer::Idle;
                if slice.state == OrderState::New && !keep {
                    slice.state = OrderState::Expired;
                }
            }
            ids.push(order.intent.id);
        }
        for &id in &ids {
            self.settle(id);
        }
        for id in ids {
            self.cancel_at_end(id);
        }
        for id in guarding {
            self.queue_places(id);
        }
        self.cancel_closing_again();
    }

    /// After the session: asks the venue to cancel every child of entry `id` it works
    /// (accepted or part filled, no cancel asked yet). The rest of a cancelled entry ends
    /// it ([`Desk::on_ended`] places nothing after the session). Not for exits or
    /// protective stops, and nothing for an order no longer live.
    fn cancel_at_end(&mut self, id: IntentId) {
        let Some(order) = self.book.get_mut(id) else {
            return;
        };
        if order.intent.reason != IntentReason::Entry || order.protective {
            return;
        }
        for i in 0..usize::from(order.slice_count) {
            let slice = &mut order.slices[i];
            if slice.cancelling
                || !matches!(
                    slice.state,
                    OrderState::Accepted | OrderState::PartiallyFilled
                )
            {
                continue;
            }
            slice.after_cancel = AfterCancel::End;
            let action = Action::about(id, i, slice.child, Request::Cancel);
            // The exit queue: it has room for a request per child, which the entry queue
            // (`queue_capacity`) may not. Nothing else waits after the session; a second
            // request for a child whose cancel went out is stale and dropped.
            let _ = self.queue.push(action, true);
        }
    }

    /// True while the book holds a live entry (not a protective stop): what the end of
    /// the session cancels.
    pub fn entries_live(&self) -> bool {
        self.book
            .iter()
            .any(|o| o.intent.reason == IntentReason::Entry && !o.protective)
    }

    /// Sends risk a report about `intent`.
    fn report(
        &mut self,
        intent: &OrderIntent,
        venue: &VenueReport,
        kind: ExecKind,
        cum_qty: Qty,
        leaves_qty: Qty,
    ) {
        let fill = matches!(kind, ExecKind::PartialFill | ExecKind::Filled);
        self.send_report(ExecReport {
            intent: intent.id,
            exchange_ts: venue.exchange_ts,
            ingress: intent.ingress,
            last_price: if fill { venue.last_price } else { Price::ZERO },
            instrument: intent.instrument,
            last_qty: if fill { venue.last_qty } else { Qty::ZERO },
            cum_qty,
            leaves_qty,
            strategy: intent.strategy,
            side: intent.side,
            kind,
            reject: venue.reject,
            trade: if fill { venue.trade } else { TradeId(0) },
        });
    }

    /// Journals `report` and sends it to risk. A report the journal cannot take is
    /// counted (`journal_failures`) and still sent: risk's own record of the fill is the
    /// one the day is rebuilt from.
    #[inline]
    fn send_report(&mut self, report: ExecReport) {
        self.journal
            .record(report.exchange_ts, &Record::Exec(report));
        self.out.push(OrderOutput::Report(report));
    }

    /// True while anything waits: a queued request or a timer.
    pub fn has_pending(&self) -> bool {
        !self.queue.is_empty() || self.next_due != u64::MAX
    }
}
