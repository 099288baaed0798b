//! The open-loop generator: a [`MarketSource`] that releases pre-generated events on a
//! fixed-rate schedule and stamps each with its *intended* send time.

use std::sync::{Arc, Mutex};

use tickpipe::{
    feed::{FeedError, MarketSource, SourcePoll},
    metrics::LatencyHistogram,
    model::{MarketEvent, Stamp},
    runtime::LatencyClock,
};

use super::schedule::Schedule;

/// Which time an event's ingress stamp holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamping {
    /// The time the schedule meant to send it: a stall anywhere (the feed thread, the
    /// host) shows up in every event queued behind it. Corrects coordinated omission.
    Intended,
    /// The time the feed stage pushed it (the source leaves the stamp unset): what a
    /// closed-loop measurement sees, which hides stalls. Reported beside the corrected one.
    Actual,
}

/// How late the generator released events, readable once the source is dropped.
pub type LagSlot = Arc<Mutex<Option<LatencyHistogram>>>;

/// Releases `events` in order: with a [`Schedule`], event `k` no earlier than `k / rate`
/// after the first poll (returning [`SourcePoll::Pending`] until then, never blocking);
/// without one, as fast as it is asked (saturation, stamped at the feed).
///
/// The events are generated before the run, so generating them costs nothing here; the
/// feed stage's service time is a copy out of memory plus, when paced, one clock read.
pub struct OpenLoopSource {
    events: Arc<[MarketEvent]>,
    next: usize,
    schedule: Option<Schedule>,
    stamping: Stamping,
    clock: LatencyClock,
    /// Raw clock reading at the first poll (the schedule's zero); zero before it.
    start: Stamp,
    /// Release time minus intended time, per event (paced runs only).
    lag: LatencyHistogram,
    lag_out: LagSlot,
}

impl std::fmt::Debug for OpenLoopSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenLoopSource")
            .field("events", &self.events.len())
            .field("next", &self.next)
            .field("schedule", &self.schedule)
            .field("stamping", &self.stamping)
            .finish_non_exhaustive()
    }
}

impl OpenLoopSource {
    /// A source of `events` on `schedule` (`None`: saturation), sharing `clock` with the
    /// pipeline so stamps compare. On drop it leaves its lag histogram in `lag_out`.
    pub fn new(
        events: Arc<[MarketEvent]>,
        schedule: Option<Schedule>,
        stamping: Stamping,
        clock: LatencyClock,
        lag_out: LagSlot,
    ) -> OpenLoopSource {
        OpenLoopSource {
            events,
            next: 0,
            schedule,
            stamping,
            clock,
            start: Stamp(0),
            lag: LatencyHistogram::new(),
            lag_out,
        }
    }
}

/// The raw stamp `late` nanoseconds before `now`, given that `elapsed_raw` raw units
/// spanned `elapsed_nanos` nanoseconds (the clock's own rate, measured over the run so
/// far, applied only to the small lateness so its error stays small).
pub fn stamp_before(now: Stamp, late: u64, elapsed_raw: u64, elapsed_nanos: u64) -> Stamp {
    if elapsed_nanos == 0 || late == 0 {
        return now;
    }
    let late_raw = (u128::from(late) * u128::from(elapsed_raw) / u128::from(elapsed_nanos)) as u64;
    Stamp(now.0.saturating_sub(late_raw).max(1))
}

impl MarketSource for OpenLoopSource {
    #[inline]
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        let Some(&event) = self.events.get(self.next) else {
            return Ok(SourcePoll::End);
        };
        let mut event = event;
        event.set_ingress(Stamp(0));
        if let Some(schedule) = self.schedule {
            let now = self.clock.stamp();
            if self.start.0 == 0 {
                self.start = now;
            }
            let due = schedule.offset_nanos(self.next as u64);
            let elapsed = self.clock.nanos_between(self.start, now);
            if elapsed < due {
                return Ok(SourcePoll::Pending);
            }
            let late = elapsed - due;
            self.lag.record(late);
            if self.stamping == Stamping::Intended {
                event.set_ingress(stamp_before(now, late, now.0 - self.start.0, elapsed));
            }
        }
        self.next += 1;
        Ok(SourcePoll::Event(event))
    }
}

impl Drop for OpenLoopSource {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.lag_out.lock() {
            *slot = Some(std::mem::take(&mut self.lag));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_converts_to_raw_units_at_the_clock_rate() {
        // 3 raw units per ns: 100 ns late is 300 units back.
        assert_eq!(stamp_before(Stamp(10_000), 100, 3_000, 1_000), Stamp(9_700));
        assert_eq!(stamp_before(Stamp(10_000), 0, 3_000, 1_000), Stamp(10_000));
        assert_eq!(stamp_before(Stamp(10_000), 5, 3_000, 0), Stamp(10_000));
        // Never zero (zero means "unstamped").
        assert_eq!(stamp_before(Stamp(10), 100, 3_000, 1_000), Stamp(1));
    }

    #[test]
    fn paced_source_holds_events_until_due_and_stamps_intended_time() {
        use tickpipe::model::{InstrumentId, News, UnixNanos};
        let news = MarketEvent::News(News {
            exchange_ts: UnixNanos(1),
            ingress: Stamp(0),
            instrument: InstrumentId(0),
            sentiment_milli: 0,
        });
        let events: Arc<[MarketEvent]> = vec![news; 3].into();
        let clock = LatencyClock::new();
        let slot = LagSlot::default();
        // 1000 events/s: 1 ms apart.
        let mut source = OpenLoopSource::new(
            events,
            Some(Schedule::new(1_000)),
            Stamping::Intended,
            clock.clone(),
            slot.clone(),
        );
        let first = clock.stamp();
        assert!(matches!(source.poll_event(), Ok(SourcePoll::Event(_))));
        assert!(matches!(source.poll_event(), Ok(SourcePoll::Pending)));
        let mut second = None;
        while second.is_none() {
            if let Ok(SourcePoll::Event(e)) = source.poll_event() {
                second = Some(e);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        // The third is 4 ms late, but its stamp is its intended time, 2 ms after the start.
        let Ok(SourcePoll::Event(MarketEvent::News(third))) = source.poll_event() else {
            panic!("third event not released");
        };
        let since_start = clock.nanos_between(first, third.ingress);
        assert!(
            (1_900_000..2_500_000).contains(&since_start),
            "stamped {since_start} ns after the start"
        );
        assert!(matches!(source.poll_event(), Ok(SourcePoll::End)));
        drop(source);
        let lag = slot.lock().unwrap().take().unwrap();
        assert_eq!(lag.len(), 3);
        assert!(lag.summary().max >= 3_000_000);
    }
}
