//! Exits the risk stage decides on its own: the protective stop and the daily
//! square-off here; the rest in `exit/`.
//!
//! | file | what |
//! | --- | --- |
//! | `exit/config.rs` | the exit keys' types and checks ([`ShutdownPolicy`], [`ReconcilePolicy`], [`EmergencyConfig`]) |
//! | `exit/desk.rs` | [`ExitDesk`]: the stage's exit state and its decision on each mark |
//! | `exit/plan.rs` | [`ExitPlan`] per open position and the [`ExitRules`]: target booking, trailing stop |
//! | `exit/scaling.rs` | [`ScalingRules`]: adding to a winner, cutting a loser |
//! | `exit/retry.rs` | [`ExitRetry`]: refused exits sent again with backoff in market time |
//! | `exit/forced.rs` | [`ForcedExits`]: the stage's own exits counted by kind |
//! | `exit/emergency.rs` | [`IndexFallWatch`]: the index fall behind the emergency flatten |
//! | `exit/reconcile.rs` | [`reconcile()`], [`mismatch`]: the book against a broker position snapshot, or one position |

mod config;
mod desk;
mod emergency;
mod forced;
mod plan;
mod reconcile;
mod retry;
mod scaling;

use std::collections::VecDeque;

pub use config::{
    validate, validate_time_stop_names, EmergencyConfig, HaltExits, ReconcilePolicy,
    ShutdownPolicy, TimeStops,
};
pub use desk::{ExitDesk, ExitOrder};
pub use emergency::IndexFallWatch;
pub use forced::{ForcedExits, FORCED_KINDS};
pub use plan::{ExitPlan, ExitRules, PartialState};
pub use reconcile::{mismatch, reconcile, BrokerPosition, Mismatch};
pub use retry::{ExitRetry, RetryDue};
pub use scaling::ScalingRules;

use crate::model::{InstrumentId, IntentReason, Stamp, TimeOfDay, UnixNanos, IST_OFFSET_SECS};

/// True when an open position's mark has reached its protective stop: a long's mark at
/// or below the stop, a short's at or above. A zero stop or mark never triggers.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::{stop_hit, Position}};
/// let mut p = Position::default();
/// p.apply_fill(Side::Buy, Qty::new(10), "100".parse().unwrap()).unwrap();
/// p.set_stop("99".parse().unwrap());
/// p.set_mark("99.05".parse().unwrap());
/// assert!(!stop_hit(&p));
/// p.set_mark("99".parse().unwrap());
/// assert!(stop_hit(&p));
/// ```
pub fn stop_hit(position: &crate::risk::Position) -> bool {
    let (stop, mark) = (position.stop(), position.mark());
    if !stop.is_positive() || !mark.is_positive() {
        return false;
    }
    match position.net() {
        n if n > 0 => mark <= stop,
        n if n < 0 => mark >= stop,
        _ => false,
    }
}

/// The IST trading day (days since 1970-01-01) and time of day of a market instant.
pub fn ist_day_and_time(ts: UnixNanos) -> (i64, TimeOfDay) {
    let local = ts.secs() as i64 + IST_OFFSET_SECS;
    (
        local.div_euclid(86_400),
        TimeOfDay::from_secs(local.rem_euclid(86_400) as u32),
    )
}

/// One position waiting to be closed by the risk stage itself (the square-off, or an
/// operator's `flatten`), with the event that made it due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquareOffDue {
    /// The instrument to close.
    pub instrument: InstrumentId,
    /// Market time of the event that made it due.
    pub exchange_ts: UnixNanos,
    /// Ingress stamp of that event.
    pub ingress: Stamp,
    /// [`IntentReason::SquareOff`], [`IntentReason::Manual`] or
    /// [`IntentReason::Emergency`].
    pub reason: IntentReason,
}

/// The daily square-off: at a time of day (market time, IST) every open position is
/// closed at market, and for the rest of that day any position that opens anyway (an
/// entry that was in flight) is closed as soon as its orders are answered.
///
/// The stage queues positions here and sends their exits while its outbox has room, so
/// closing many positions at once never overfills the outbox stash. Each instrument is
/// queued at most once; the queue is preallocated for every instrument.
#[derive(Debug, Clone)]
pub struct SquareOff {
    at: TimeOfDay,
    today: i64,
    done_day: Option<i64>,
    queue: VecDeque<SquareOffDue>,
    queued: Vec<bool>,
    /// Market time, in nanoseconds, from which [`SquareOff::due`] last worked out the day
    /// and time of day, and the instant until which it is known to answer `false` with
    /// the same day (the square-off instant, or the next IST midnight once done). Inside
    /// the window `due` is two compares instead of the calendar arithmetic it did on
    /// every tick; an empty window (`until` 0) makes it work it out again.
    quiet_from: u64,
    quiet_until: u64,
}

impl SquareOff {
    /// Square-off at `at` each day, for `instruments` instruments.
    pub fn new(at: TimeOfDay, instruments: usize) -> SquareOff {
        SquareOff {
            at,
            today: i64::MIN,
            done_day: None,
            queue: VecDeque::with_capacity(instruments),
            queued: vec![false; instruments],
            quiet_from: 0,
            quiet_until: 0,
        }
    }

    /// Moves the clock to `ts`; true exactly once per day, at the first event at or after
    /// the square-off time. The caller then queues every open position.
    #[inline]
    pub fn due(&mut self, ts: UnixNanos) -> bool {
        if ts.0 >= self.quiet_from && ts.0 < self.quiet_until {
            return false;
        }
        let (day, time) = ist_day_and_time(ts);
        self.today = day;
        let due = time >= self.at && self.done_day != Some(day);
        if due {
            self.done_day = Some(day);
        }
        // Until the square-off instant, or once it is done until the next IST midnight,
        // every later event answers `false` on the same day.
        let day_start = day * 86_400 - IST_OFFSET_SECS;
        let until = if self.done_day == Some(day) {
            day_start + 86_400
        } else {
            day_start + i64::from(self.at.secs())
        };
        self.quiet_from = ts.0;
        self.quiet_until = u64::try_from(until)
            .ok()
            .and_then(|secs| secs.checked_mul(1_000_000_000))
            .unwrap_or(0);
        due
    }

    /// Moves the square-off to `at` (an operator's `set square_off`). A day already
    /// squared off stays so.
    pub fn set_at(&mut self, at: TimeOfDay) {
        self.at = at;
        self.quiet_until = 0;
    }

    /// The time of day it happens at.
    pub fn at(&self) -> TimeOfDay {
        self.at
    }

    /// True after today's square-off: no position may stay open.
    pub fn is_active(&self) -> bool {
        self.done_day == Some(self.today)
    }

    /// Queues a position to close (once; a queued instrument is not queued again).
    pub fn enqueue(&mut self, due: SquareOffDue) {
        let Some(flag) = self.queued.get_mut(due.instrument.index()) else {
            return;
        };
        if !*flag {
            *flag = true;
            self.queue.push_back(due);
        }
    }

    /// The next position to close, without removing it.
    pub fn peek(&self) -> Option<SquareOffDue> {
        self.queue.front().copied()
    }

    /// Removes the position [`SquareOff::peek`] returned.
    pub fn pop(&mut self) {
        if let Some(due) = self.queue.pop_front() {
            self.queued[due.instrument.index()] = false;
        }
    }

    /// True when no position waits.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Date, Qty, Side},
        risk::Position,
    };

    fn at(day: u8, h: u32, m: u32) -> UnixNanos {
        UnixNanos::from_ist(Date::new(2026, 11, day), TimeOfDay::hm(h, m))
    }

    #[test]
    fn stops_on_both_sides() {
        let mut short = Position::default();
        short
            .apply_fill(Side::Sell, Qty::new(1), "50".parse().unwrap())
            .unwrap();
        assert!(!stop_hit(&short), "no stop");
        short.set_stop("50.50".parse().unwrap());
        short.set_mark("50.45".parse().unwrap());
        assert!(!stop_hit(&short));
        short.set_mark("50.50".parse().unwrap());
        assert!(stop_hit(&short));
        assert!(!stop_hit(&Position::default()));
    }

    #[test]
    fn square_off_once_a_day() {
        let mut s = SquareOff::new(TimeOfDay::hm(15, 15), 3);
        assert!(!s.due(at(25, 15, 14)));
        assert!(!s.is_active());
        assert!(s.due(at(25, 15, 15)));
        assert!(s.is_active());
        assert!(!s.due(at(25, 15, 20)));
        assert!(s.is_active());
        assert!(!s.due(at(26, 9, 15)));
        assert!(!s.is_active(), "a new day trades again");
        assert!(s.due(at(26, 15, 16)));
    }

    #[test]
    fn square_off_window_answers_as_the_calendar_does() {
        // Event by event, including market time going back and a moved square-off, the
        // cached window gives what working out the day each time gives.
        let mut cached = SquareOff::new(TimeOfDay::hm(15, 15), 1);
        let events = [
            at(25, 9, 15),
            at(25, 15, 14),
            UnixNanos(at(25, 15, 14).0 + 59_999_999_999),
            at(25, 15, 15),
            at(25, 15, 10),
            at(25, 23, 59),
            at(26, 0, 0),
            at(25, 15, 20),
            at(26, 15, 16),
            at(27, 10, 0),
        ];
        // The reference is the calendar arithmetic `due` did on every event before.
        let mut done_day: Option<i64> = None;
        for (k, ts) in events.into_iter().enumerate() {
            if k == 8 {
                cached.set_at(TimeOfDay::hm(10, 0));
            }
            let (day, time) = ist_day_and_time(ts);
            let expect = time >= cached.at() && done_day != Some(day);
            if expect {
                done_day = Some(day);
            }
            assert_eq!(cached.due(ts), expect, "event {k}");
            assert_eq!(cached.is_active(), done_day == Some(day), "event {k}");
        }
    }

    #[test]
    fn queue_holds_each_instrument_once() {
        let mut s = SquareOff::new(TimeOfDay::hm(15, 15), 3);
        let due = |i| SquareOffDue {
            instrument: InstrumentId(i),
            exchange_ts: UnixNanos(0),
            ingress: Stamp(0),
            reason: IntentReason::SquareOff,
        };
        s.enqueue(due(2));
        s.enqueue(due(0));
        s.enqueue(due(2));
        s.enqueue(due(9));
        assert_eq!(s.peek().map(|d| d.instrument), Some(InstrumentId(2)));
        s.pop();
        s.enqueue(due(2));
        let order: Vec<u32> = std::iter::from_fn(|| {
            let d = s.peek()?;
            s.pop();
            Some(d.instrument.0)
        })
        .collect();
        assert_eq!(order, [0, 2]);
        assert!(s.is_idle());
        assert_eq!(ist_day_and_time(at(25, 9, 15)).1, TimeOfDay::hm(9, 15));
    }
}
