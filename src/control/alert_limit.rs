//! The alert command's rate limit: at most one delivery per alert kind per interval,
//! with what it holds back counted, not lost.
//!
//! A burst of one kind (fifty `order_rejected` in a second, a feed flapping) must not
//! become fifty chat messages, yet the operator must learn that it happened and how
//! often. So the first alert of a kind goes at once; later ones within the interval are
//! held, the newest replacing the one before (which is then *suppressed*); when the
//! interval ends the held one goes, carrying the number suppressed since the last
//! delivery. Kinds are limited separately: a storm of rejects never delays a halt.
//!
//! Time is passed in, never read here, so the tests drive it.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// Per-kind state: when the next delivery may go, and what waits for it.
#[derive(Debug)]
struct Kind<T> {
    /// Earliest time of the next delivery; `None` before the first, or once released.
    next: Option<Instant>,
    /// The newest alert held back.
    held: Option<T>,
    /// Alerts of this kind superseded since the last delivery.
    suppressed: u64,
}

impl<T> Default for Kind<T> {
    fn default() -> Self {
        Kind {
            next: None,
            held: None,
            suppressed: 0,
        }
    }
}

impl<T> Kind<T> {
    fn due(&self, now: Instant) -> bool {
        !matches!(self.next, Some(next) if now < next)
    }

    /// Keeps `item` as the one to deliver; the one it replaces is suppressed.
    fn hold(&mut self, item: T) {
        if self.held.replace(item).is_some() {
            self.suppressed += 1;
        }
    }
}

/// One delivery: the alert kind, the alert, and how many of its kind were suppressed
/// since the previous delivery.
pub type Delivery<T> = (&'static str, T, u64);

/// The per-kind limiter over items of type `T` (the alert event). The tests below walk
/// through a burst, separate kinds, a zero interval and the end of a session.
#[derive(Debug)]
pub struct KindLimiter<T> {
    interval: Duration,
    kinds: HashMap<&'static str, Kind<T>>,
    suppressed_total: u64,
}

impl<T> KindLimiter<T> {
    /// A limiter letting one item per kind through per `interval` (zero: every item).
    pub fn new(interval: Duration) -> KindLimiter<T> {
        KindLimiter {
            interval,
            kinds: HashMap::new(),
            suppressed_total: 0,
        }
    }

    /// An item of `kind` at `now`: returned for delivery when its kind is due, else held.
    pub fn offer(&mut self, kind: &'static str, item: T, now: Instant) -> Option<Delivery<T>> {
        let interval = self.interval;
        let state = self.kinds.entry(kind).or_default();
        if state.due(now) {
            // A held item not yet delivered is superseded by this newer one.
            let superseded = u64::from(state.held.take().is_some());
            let suppressed = std::mem::take(&mut state.suppressed) + superseded;
            self.suppressed_total += superseded;
            state.next = Some(now + interval);
            return Some((kind, item, suppressed));
        }
        let before = state.suppressed;
        state.hold(item);
        self.suppressed_total += state.suppressed - before;
        None
    }

    /// Holds `item` without asking whether its kind is due (the caller cannot deliver
    /// now); [`KindLimiter::due`] hands it out once the kind is due and there is room.
    pub fn hold(&mut self, kind: &'static str, item: T) {
        let state = self.kinds.entry(kind).or_default();
        let before = state.suppressed;
        state.hold(item);
        self.suppressed_total += state.suppressed - before;
    }

    /// Up to `room` held items whose kind is due at `now`, each with its suppressed
    /// count; the kinds' intervals restart at `now`.
    pub fn due(&mut self, now: Instant, room: usize) -> Vec<Delivery<T>> {
        let interval = self.interval;
        let mut out = Vec::new();
        for (&kind, state) in &mut self.kinds {
            if out.len() >= room {
                break;
            }
            if !state.due(now) {
                continue;
            }
            if let Some(item) = state.held.take() {
                state.next = Some(now + interval);
                out.push((kind, item, std::mem::take(&mut state.suppressed)));
            }
        }
        out
    }

    /// When the earliest held item becomes due (`now` if one is due already); `None`
    /// when nothing is held.
    pub fn next_due(&self, now: Instant) -> Option<Instant> {
        self.kinds
            .values()
            .filter(|k| k.held.is_some())
            .map(|k| k.next.map_or(now, |next| next.max(now)))
            .min()
    }

    /// Makes every held item due now (the session is ending: what is held goes out
    /// without waiting for its interval).
    pub fn release_all(&mut self) {
        for state in self.kinds.values_mut() {
            state.next = None;
        }
    }

    /// Whether anything is held.
    pub fn has_held(&self) -> bool {
        self.kinds.values().any(|k| k.held.is_some())
    }

    /// Items superseded so far, over every kind.
    pub fn suppressed_total(&self) -> u64 {
        self.suppressed_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn the_first_of_a_kind_goes_at_once_and_a_burst_is_one_delivery_with_its_count() {
        let mut limit = KindLimiter::new(MIN);
        let t0 = Instant::now();
        assert_eq!(limit.offer("halt", 1, t0), Some(("halt", 1, 0)));
        for (i, s) in (2..=6).zip(1..) {
            assert_eq!(limit.offer("halt", i, at(t0, s)), None);
        }
        // Not before the interval is over.
        assert!(limit.due(at(t0, 59), 8).is_empty());
        assert_eq!(limit.next_due(t0), Some(at(t0, 60)));
        // The newest held goes, carrying the four it replaced.
        assert_eq!(limit.due(at(t0, 60), 8), [("halt", 6, 4)]);
        assert_eq!(limit.suppressed_total(), 4);
        assert!(!limit.has_held());
        assert_eq!(limit.next_due(t0), None);
        // The interval restarted at the delivery.
        assert_eq!(limit.offer("halt", 7, at(t0, 61)), None);
        assert_eq!(limit.due(at(t0, 120), 8), [("halt", 7, 0)]);
    }

    #[test]
    fn kinds_are_limited_separately() {
        let mut limit = KindLimiter::new(MIN);
        let t0 = Instant::now();
        assert!(limit.offer("order_rejected", 1, t0).is_some());
        assert_eq!(limit.offer("order_rejected", 2, t0), None);
        assert_eq!(
            limit.offer("trading_halted", 3, t0),
            Some(("trading_halted", 3, 0))
        );
    }

    #[test]
    fn an_alert_after_a_quiet_interval_goes_at_once_and_takes_the_held_ones_count() {
        let mut limit = KindLimiter::new(MIN);
        let t0 = Instant::now();
        assert!(limit.offer("k", 1, t0).is_some());
        assert_eq!(limit.offer("k", 2, at(t0, 10)), None);
        // Nobody asked `due` in time: the next offer supersedes the held one.
        assert_eq!(limit.offer("k", 3, at(t0, 70)), Some(("k", 3, 1)));
        assert_eq!(limit.suppressed_total(), 1);
        assert!(!limit.has_held());
    }

    #[test]
    fn a_zero_interval_delivers_everything() {
        let mut limit = KindLimiter::new(Duration::ZERO);
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(limit.offer("k", i, t0), Some(("k", i, 0)));
        }
        assert_eq!(limit.suppressed_total(), 0);
    }

    #[test]
    fn held_items_wait_for_room_and_release_all_makes_them_due() {
        let mut limit = KindLimiter::new(MIN);
        let t0 = Instant::now();
        // Held because the caller had no room, before any delivery of the kind.
        limit.hold("a", 1);
        limit.hold("b", 2);
        limit.hold("b", 3);
        assert_eq!(limit.next_due(t0), Some(t0));
        assert!(limit.due(t0, 0).is_empty());
        let first = limit.due(t0, 1);
        assert_eq!(first.len(), 1);
        let second = limit.due(t0, 1);
        let mut both: Vec<_> = first.into_iter().chain(second).collect();
        both.sort();
        assert_eq!(both, [("a", 1, 0), ("b", 3, 1)]);
        // Held within the interval, released at the end of the session.
        limit.hold("a", 4);
        assert!(limit.due(at(t0, 1), 8).is_empty());
        limit.release_all();
        assert_eq!(limit.due(at(t0, 1), 8), [("a", 4, 0)]);
    }
}
