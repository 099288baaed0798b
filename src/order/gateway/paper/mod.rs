//! The paper exchange: NSE's way of answering orders, modelled in market time.
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | [`PaperGateway`]: the venue, and what happens when |
//! | `config.rs` | [`PaperConfig`]: the `[paper]` section |
//! | `latency.rs` | latency draws (fixed, uniform, lognormal), seeded |
//! | `pending.rs` | answers waiting for their due market time, in a preallocated heap |
//! | `resting.rs` | working orders, queue position, how a quote or trade fills them |
//! | `rules.rs` | NSE's rules: lot and tick size, freeze quantity, price band, market protection, order rate, MIS square-off |
//! | `faults.rs` | injected faults for tests and drills |

mod config;
mod faults;
mod latency;
mod pending;
mod resting;
mod rules;

pub use config::{FaultConfig, LatencyConfig, LatencyModel, PaperConfig, RulesConfig};

use self::{
    faults::{Fault, Faults},
    latency::Latency,
    pending::{Action, Pending, AT_SESSION_END},
    resting::{Book, Phase, Touch, Working, UNKNOWN_QUEUE},
    rules::Rules,
};
use super::{Gateway, Reports};
use crate::{
    model::{ClientOrderId, InstrumentTable, Price, Qty, RejectReason, Tick, TradeId, UnixNanos},
    order::venue::{Amend, OrderType, Product, VenueEvent, VenueOrder, VenueReport},
};

/// A paper exchange that answers like NSE through a broker, in market time.
///
/// **When.** An order's answers are due at its send time plus a latency: the ack (or
/// refusal) after the ack latency, and the order can trade from its fill latency on
/// (never before its ack). Modifications and cancels are answered after the ack
/// latency. Answers wait in a preallocated heap and are released in due-time order (ties
/// in the order they were queued) when market time passes their due time: in
/// [`Gateway::on_quote`] *before* the new quote is applied (an answer due at or before
/// the quote's time happened against the touch that stood then), and in
/// [`Gateway::advance`]. An answer is timed at its due time. With zero latency (the
/// default) everything happens inside [`Gateway::submit`], timed at the instrument's
/// latest quote (the order's send time without one), exactly as before latency was
/// modelled. [`Gateway::end_session`] releases everything still pending, then expires
/// what still works.
///
/// **How much.** A market order fills at the touch current when it can trade (not the
/// one at send time), never beyond its market protection from that touch. With
/// `partial_fills` a marketable order takes at most the quantity the quote displays at
/// the touch, and each later quote offers its displayed quantity again; a displayed
/// quantity of zero means the feed does not say (no depth), and the order fills in full.
/// Without `partial_fills` (the default) every marketable order fills in full at the
/// touch. A limit order that is not marketable rests with an estimated queue position
/// (see `resting.rs`); resting fills are at the limit. Stop orders trigger on the last
/// trade reaching the trigger and then work as market (with protection) or limit orders.
///
/// **Rules and faults.** NSE's rules (`rules.rs`) refuse orders with their own
/// [`RejectReason`]; MIS orders still working at the broker's square-off time are
/// cancelled. Faults (`faults.rs`) are injected only when configured.
///
/// Trade ids count up from 1, so they are unique, repeat from run to run, and are never
/// zero on a fill. Everything is allocated in [`PaperGateway::with_config`]; quotes,
/// submits, modifies and cancels do not allocate.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, order::{Gateway, OrderType, PaperGateway, Product, VenueEvent, VenueOrder}};
/// # let mut table = InstrumentTable::new();
/// # let id = table.push(Instrument::nse_equity("SBIN", SectorId(0))).unwrap();
/// let mut paper = PaperGateway::new(&table);
/// paper.on_quote(&Tick { exchange_ts: UnixNanos(1), ingress: Stamp(0),
///     last: Price::from_paise(80_000), bid: Price::from_paise(79_995),
///     ask: Price::from_paise(80_005), instrument: id, volume: 0, last_qty: 0,
///     bid_qty: 100, ask_qty: 100, kind: TickKind::Quote }, &mut |_| {});
/// let buy = VenueOrder { id: ClientOrderId(1), sent_ts: UnixNanos(1), limit: Price::ZERO,
///     trigger: Price::ZERO, qty: Qty::new(5), instrument: id, protection_bps: 50,
///     side: Side::Buy, kind: OrderType::Market, product: Product::Mis };
/// let mut reports = Vec::new();
/// paper.submit(&buy, &mut |r| reports.push(r));
/// assert_eq!(reports[1].event, VenueEvent::Fill);
/// assert_eq!(reports[1].last_price, Price::from_paise(80_005));
/// ```
#[derive(Debug, Clone)]
pub struct PaperGateway {
    touches: Vec<Touch>,
    book: Book,
    pending: Pending,
    latency: Latency,
    rules: Rules,
    faults: Faults,
    partial_fills: bool,
    /// Trade ids handed out so far.
    trades: u64,
    /// The latest market time seen.
    now: UnixNanos,
    /// The session has ended: whatever is sent now is answered at once (see
    /// `after_close`).
    closed: bool,
}

impl PaperGateway {
    /// A paper exchange for the instruments of `instruments` with the default
    /// configuration (no latency, fills in full), with no quotes yet.
    pub fn new(instruments: &InstrumentTable) -> PaperGateway {
        PaperGateway::with_config(instruments, &PaperConfig::default())
    }

    /// A paper exchange configured by `config` (validated beforehand; see
    /// [`PaperConfig::validate`]).
    pub fn with_config(instruments: &InstrumentTable, config: &PaperConfig) -> PaperGateway {
        PaperGateway {
            touches: vec![Touch::default(); instruments.len()],
            book: Book::new(config.max_orders.max(1), instruments.len()),
            pending: Pending::new(config.pending_capacity.max(1)),
            latency: Latency::new(&config.latency, config.seed),
            rules: Rules::new(instruments, &config.rules),
            faults: Faults::new(&config.faults, config.seed),
            partial_fills: config.partial_fills,
            trades: 0,
            now: UnixNanos(0),
            closed: false,
        }
    }

    /// Answers queued and not yet due.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Orders the venue works (in flight, acked or live).
    pub fn working(&self) -> usize {
        self.book.len()
    }

    /// The time of a zero-latency answer about `order`: its send time, or the
    /// instrument's latest quote when that is later (the engine's clock may trail the
    /// book it is sent to). Never before the send time: an order is not filled at a
    /// time before it was sent.
    fn instant(&self, order: &VenueOrder) -> UnixNanos {
        self.touches
            .get(order.instrument.index())
            .map(|t| t.exchange_ts)
            .map_or(order.sent_ts, |ts| ts.max(order.sent_ts))
    }

    /// Runs every action due by `now`, in due order.
    fn release(&mut self, now: UnixNanos, reports: Reports<'_>) {
        while let Some((due, action)) = self.pending.pop_due(now) {
            self.run(action, due, reports);
        }
    }

    fn run(&mut self, action: Action, at: UnixNanos, reports: Reports<'_>) {
        match action {
            Action::Arrive(slot, id) => self.arrive(slot, id, at, reports),
            Action::Match(slot, id) => self.go_live(slot, id, at, reports),
            Action::Amend(slot, id, amend) => self.amend(slot, id, &amend, at, reports),
            Action::Cancel(slot, id) => self.cancel_now(slot, id, at, reports),
            Action::Lost(slot, id) => {
                if self.book.get_mut(slot, id).is_some() {
                    self.end(slot, id, VenueEvent::Expired, at, reports);
                }
            }
        }
    }

    /// The order reaches the venue at `at`: refused, or acked.
    fn arrive(&mut self, slot: u32, id: ClientOrderId, at: UnixNanos, reports: Reports<'_>) {
        let Some(order) = self.book.get_mut(slot, id).map(|w| w.order) else {
            return;
        };
        if let Err(reason) = self.check(&order, at) {
            self.book.remove(slot);
            reports(VenueReport::rejected(id, at, reason));
            return;
        }
        let held = self.faults.strikes(Fault::Reorder);
        let Some(w) = self.book.get_mut(slot, id) else {
            return;
        };
        w.phase = Phase::Acked;
        w.held_ack = held;
        let fill_after = w.fill_after;
        if !held {
            reports(VenueReport::new(id, at, VenueEvent::Accepted));
        }
        if fill_after == 0 {
            self.go_live(slot, id, at, reports);
        } else if self
            .pending
            .push(at.add_nanos(fill_after), Action::Match(slot, id))
            .is_err()
        {
            // No room to wait: it trades at once rather than never.
            self.go_live(slot, id, at, reports);
        }
    }

    /// Everything the venue checks when an order arrives, in NSE's order of concern.
    fn check(&mut self, order: &VenueOrder, at: UnixNanos) -> Result<(), RejectReason> {
        if order.qty.is_zero() {
            return Err(RejectReason::ZeroQty);
        }
        let index = order.instrument.index();
        let (Some(touch), Some(spec)) = (self.touches.get(index), self.rules.spec(index)) else {
            return Err(RejectReason::NoQuote);
        };
        if matches!(order.kind, OrderType::Market) && !touch.opposite(order.side).0.is_positive() {
            return Err(RejectReason::NoQuote);
        }
        if self.faults.strikes(Fault::Reject) {
            return Err(self.faults.retriable());
        }
        Rules::check_fields(spec, order, touch)?;
        Rules::check_trigger(order, touch)?;
        self.rules.admit(at)
    }

    /// The order can trade from `at`: one matching pass against the current touch.
    fn go_live(&mut self, slot: u32, id: ClientOrderId, at: UnixNanos, reports: Reports<'_>) {
        let index;
        {
            let Some(w) = self.book.get_mut(slot, id) else {
                return;
            };
            if w.phase == Phase::Live {
                return;
            }
            w.phase = Phase::Live;
            index = w.order.instrument.index();
            let Some(touch) = self.touches.get(index) else {
                return;
            };
            if matches!(w.order.kind, OrderType::Market) {
                w.reference = touch.opposite(w.order.side).0;
            }
        }
        let touch = self.touches.get(index).copied().unwrap_or_default();
        let mut avail = [touch.bid_qty, touch.ask_qty];
        self.match_slot(slot as usize, &touch, None, &mut avail, at, reports);
    }

    /// One matching pass of the order in `slot`, booking what fills.
    fn match_slot(
        &mut self,
        slot: usize,
        touch: &Touch,
        tick: Option<&Tick>,
        avail: &mut [u32; 2],
        at: UnixNanos,
        reports: Reports<'_>,
    ) {
        let partial = self.partial_fills;
        let Some(w) = self.book.at(slot) else {
            return;
        };
        if w.phase != Phase::Live {
            return;
        }
        let tick_size = self
            .rules
            .spec(w.order.instrument.index())
            .map_or(Price::ZERO, |s| s.tick);
        if let Some((price, qty)) = w.try_fill(touch, tick, avail, partial, tick_size) {
            self.fill(slot as u32, price, qty, at, reports);
        }
    }

    /// Books a fill of the order in `slot` and reports it (with the held ack after it,
    /// and twice under the duplicate fault).
    fn fill(&mut self, slot: u32, price: Price, qty: Qty, at: UnixNanos, reports: Reports<'_>) {
        let duplicate = self.faults.strikes(Fault::Duplicate);
        let Some(w) = self.book.at(slot as usize) else {
            return;
        };
        let qty = qty.min(w.leaves());
        if qty.is_zero() {
            return;
        }
        w.filled = w.filled.checked_add(qty).unwrap_or(w.order.qty);
        let id = w.order.id;
        let held = std::mem::replace(&mut w.held_ack, false);
        let done = w.leaves().is_zero();
        self.trades += 1;
        let report = VenueReport::fill(id, at, price, qty, TradeId(self.trades));
        reports(report);
        if held {
            reports(VenueReport::new(id, at, VenueEvent::Accepted));
        }
        if duplicate {
            reports(report);
        }
        if done {
            self.book.remove(slot);
        }
    }

    /// Ends the order in `slot` with `event` (cancelled or expired), reporting a held
    /// ack first.
    fn end(
        &mut self,
        slot: u32,
        id: ClientOrderId,
        event: VenueEvent,
        at: UnixNanos,
        reports: Reports<'_>,
    ) {
        if let Some(w) = self.book.remove(slot) {
            if w.held_ack {
                reports(VenueReport::new(id, at, VenueEvent::Accepted));
            }
            reports(VenueReport::new(id, at, event));
        }
    }

    /// A modification reaches the venue at `at`.
    fn amend(
        &mut self,
        slot: u32,
        id: ClientOrderId,
        amend: &Amend,
        at: UnixNanos,
        reports: Reports<'_>,
    ) {
        let refuse = |reason| {
            let mut r = VenueReport::new(id, at, VenueEvent::ModifyRejected);
            r.reject = reason;
            r
        };
        let max = self.rules.max_modifications;
        let Some(w) = self.book.get_mut(slot, id).copied() else {
            reports(refuse(RejectReason::Invalid));
            return;
        };
        if w.phase == Phase::InFlight {
            reports(refuse(RejectReason::Invalid));
            return;
        }
        if w.modifications >= max {
            reports(refuse(RejectReason::ModifyLimit));
            return;
        }
        if amend.qty <= w.filled {
            reports(refuse(RejectReason::Invalid));
            return;
        }
        let mut changed = w.order;
        changed.qty = amend.qty;
        changed.limit = amend.limit;
        changed.trigger = amend.trigger;
        let index = changed.instrument.index();
        let checked = match (self.touches.get(index), self.rules.spec(index)) {
            (Some(touch), Some(spec)) => Rules::check_fields(spec, &changed, touch),
            _ => Err(RejectReason::Invalid),
        };
        if let Err(reason) = checked {
            reports(refuse(reason));
            return;
        }
        let loses_priority = changed.limit != w.order.limit
            || changed.trigger != w.order.trigger
            || changed.qty > w.order.qty;
        let live = w.phase == Phase::Live;
        if let Some(w) = self.book.get_mut(slot, id) {
            w.order = changed;
            w.modifications += 1;
            if loses_priority {
                w.queue_ahead = UNKNOWN_QUEUE;
                w.aggressor = true;
            }
        }
        reports(VenueReport::new(id, at, VenueEvent::Modified));
        if live && loses_priority {
            // At its new price it may trade at once, or learns its new place in the queue.
            let touch = self.touches.get(index).copied().unwrap_or_default();
            let mut avail = [touch.bid_qty, touch.ask_qty];
            self.match_slot(slot as usize, &touch, None, &mut avail, at, reports);
        }
    }

    /// A cancel request reaches the venue at `at`.
    fn cancel_now(&mut self, slot: u32, id: ClientOrderId, at: UnixNanos, reports: Reports<'_>) {
        match self.book.get_mut(slot, id).map(|w| w.phase) {
            Some(Phase::Acked | Phase::Live) => {
                self.end(slot, id, VenueEvent::Cancelled, at, reports);
            }
            _ => reports(refused_cancel(id, at, RejectReason::Invalid)),
        }
    }

    /// Cancels working MIS orders past the broker's square-off time. Runs on every
    /// quote and the book is empty on almost all of them: that check is inline, the
    /// rest out of line.
    #[inline]
    fn square_off(&mut self, now: UnixNanos, reports: Reports<'_>) {
        if self.book.len() == 0 {
            return;
        }
        self.square_off_working(now, reports);
    }

    /// [`PaperGateway::square_off`] with orders working.
    #[inline(never)]
    fn square_off_working(&mut self, now: UnixNanos, reports: Reports<'_>) {
        let Some((equity, fno)) = self.rules.square_off_times(now) else {
            return;
        };
        if now < equity.min(fno) {
            return;
        }
        for slot in 0..self.book.high() {
            let Some(w) = self.book.at(slot) else {
                continue;
            };
            if w.order.product != Product::Mis || w.phase == Phase::InFlight {
                continue;
            }
            let (id, index) = (w.order.id, w.order.instrument.index());
            let fno_order = self.rules.spec(index).is_some_and(|s| s.fno);
            let cut = if fno_order { fno } else { equity };
            if now >= cut {
                self.end(slot as u32, id, VenueEvent::Cancelled, now, reports);
            }
        }
    }

    fn place(&mut self, order: &VenueOrder, reports: Reports<'_>) {
        let send = self.now.max(order.sent_ts);
        self.now = send;
        if self.faults.disconnected(send) {
            reports(VenueReport::rejected(order.id, send, RejectReason::Network));
            return;
        }
        let delays = self.latency.order();
        let timeout = self.faults.strikes(Fault::Timeout);
        let lost = timeout && self.faults.timeout_nanos == 0;
        let late = if timeout {
            self.faults.timeout_nanos
        } else {
            0
        };
        let instant = self.instant(order);
        let Some(slot) = self
            .book
            .insert(Working::new(*order, delays.fill - delays.ack))
        else {
            reports(VenueReport::rejected(
                order.id,
                instant,
                RejectReason::Throttled,
            ));
            return;
        };
        let (action, due, latency) = if lost {
            (Action::Lost(slot, order.id), AT_SESSION_END, u64::MAX)
        } else {
            let latency = delays.ack + late;
            (
                Action::Arrive(slot, order.id),
                send.add_nanos(latency),
                latency,
            )
        };
        if self
            .schedule(latency, due, instant, action, reports)
            .is_err()
        {
            // No room to wait for the answer: the venue is too busy for it.
            self.book.remove(slot);
            reports(VenueReport::rejected(
                order.id,
                instant,
                RejectReason::Throttled,
            ));
        }
    }

    fn request_modify(&mut self, order: ClientOrderId, amend: &Amend, reports: Reports<'_>) {
        let now = self.now;
        if self.faults.disconnected(now) {
            reports(refused_modify(order, now, RejectReason::Network));
            return;
        }
        let Some(slot) = self.book.find(order) else {
            reports(refused_modify(order, now, RejectReason::Invalid));
            return;
        };
        let latency = self.latency.answer();
        let action = Action::Amend(slot, order, *amend);
        if self
            .schedule(latency, now.add_nanos(latency), now, action, reports)
            .is_err()
        {
            reports(refused_modify(order, now, RejectReason::Throttled));
        }
    }

    fn request_cancel(&mut self, order: ClientOrderId, reports: Reports<'_>) {
        let now = self.now;
        if self.faults.disconnected(now) {
            reports(refused_cancel(order, now, RejectReason::Network));
            return;
        }
        let Some(slot) = self.book.find(order) else {
            reports(refused_cancel(order, now, RejectReason::Invalid));
            return;
        };
        let latency = self.latency.answer();
        let action = Action::Cancel(slot, order);
        if self
            .schedule(latency, now.add_nanos(latency), now, action, reports)
            .is_err()
        {
            reports(refused_cancel(order, now, RejectReason::Throttled));
        }
    }

    /// After the session ended nothing moves market time any more, so an answer queued
    /// now would never fall due: what was sent is answered at once (an order still
    /// working expires), as the session's end answered everything before it. The risk
    /// stage's shutdown orders and exit retries get their final answers this way.
    fn after_close(&mut self, reports: Reports<'_>) {
        if self.closed {
            self.end_session(self.now, reports);
        }
    }

    /// Queues `action` for `due`, or runs it at once when its latency is zero (timed by
    /// `instant`).
    fn schedule(
        &mut self,
        latency: u64,
        due: UnixNanos,
        instant: UnixNanos,
        action: Action,
        reports: Reports<'_>,
    ) -> Result<(), Action> {
        if latency == 0 {
            self.run(action, instant, reports);
            Ok(())
        } else {
            self.pending.push(due, action)
        }
    }
}

fn refused_cancel(id: ClientOrderId, at: UnixNanos, reason: RejectReason) -> VenueReport {
    let mut r = VenueReport::new(id, at, VenueEvent::CancelRejected);
    r.reject = reason;
    r
}

fn refused_modify(id: ClientOrderId, at: UnixNanos, reason: RejectReason) -> VenueReport {
    let mut r = VenueReport::new(id, at, VenueEvent::ModifyRejected);
    r.reject = reason;
    r
}

impl Gateway for PaperGateway {
    fn name(&self) -> &'static str {
        "paper"
    }

    fn on_quote(&mut self, quote: &Tick, reports: Reports<'_>) {
        let at = quote.exchange_ts;
        self.release(at, reports);
        self.now = self.now.max(at);
        let index = quote.instrument.index();
        let Some(touch) = self.touches.get_mut(index) else {
            return;
        };
        touch.bid = quote.bid;
        touch.ask = quote.ask;
        touch.bid_qty = quote.bid_qty;
        touch.ask_qty = quote.ask_qty;
        touch.exchange_ts = at;
        if quote.last.is_positive() {
            touch.last = quote.last;
        }
        if !touch.reference.is_positive() {
            touch.reference = if quote.last.is_positive() {
                quote.last
            } else {
                quote.mid()
            };
        }
        self.square_off(at, reports);
        if self.book.working_on(index) == 0 {
            return;
        }
        // Copied only when an order may match; the square-off does not change touches.
        let touch = self.touches[index];
        let mut avail = [touch.bid_qty, touch.ask_qty];
        for slot in 0..self.book.high() {
            if self
                .book
                .at(slot)
                .is_some_and(|w| w.order.instrument == quote.instrument)
            {
                self.match_slot(slot, &touch, Some(quote), &mut avail, at, reports);
            }
        }
    }

    fn advance(&mut self, now: UnixNanos, reports: Reports<'_>) {
        self.release(now, reports);
        self.now = self.now.max(now);
        self.square_off(now, reports);
    }

    fn submit(&mut self, order: &VenueOrder, reports: Reports<'_>) {
        self.place(order, reports);
        self.after_close(reports);
    }

    fn modify(&mut self, order: ClientOrderId, amend: &Amend, reports: Reports<'_>) {
        self.request_modify(order, amend, reports);
        self.after_close(reports);
    }

    fn cancel(&mut self, order: ClientOrderId, reports: Reports<'_>) {
        self.request_cancel(order, reports);
        self.after_close(reports);
    }

    fn poll(&mut self, _reports: Reports<'_>) -> usize {
        0
    }

    fn end_session(&mut self, now: UnixNanos, reports: Reports<'_>) {
        let mut end = self.now.max(now);
        while let Some((due, action)) = self.pending.pop() {
            let at = if due == AT_SESSION_END { end } else { due };
            end = end.max(at);
            self.run(action, at, reports);
        }
        self.now = end;
        self.closed = true;
        for slot in 0..self.book.high() {
            if let Some(id) = self.book.at(slot).map(|w| w.order.id) {
                self.end(slot as u32, id, VenueEvent::Expired, end, reports);
            }
        }
    }
}

#[cfg(test)]
mod tests;
