//! A run's duration (`--duration`, `feed.duration`) as a stop: when it is up, the engine
//! stops as on Ctrl-C.
//!
//! A feed stage given `until` ends the day there as if the data ended, which is what a
//! backtest's window means. A trader who runs the engine for 90 minutes expects the end
//! of those minutes to be a stop: `risk.on_shutdown` applies (open positions are closed
//! under `"flatten"`, the default, and named under `"leave"`), as after Ctrl-C. The run
//! command wraps its source in a [`DurationStop`] instead of giving the feed stage
//! `until`; a day that simply runs out of data stops nothing.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use crate::{
    feed::{kite::system_clock, FeedError, MarketSource, SourcePoll},
    model::UnixNanos,
};

/// A source that ends before its first event later than `until`, raising the stop flag
/// there (the flag Ctrl-C raises).
///
/// Events up to `until` pass unchanged and in order; the first later one is dropped,
/// as the feed stage drops it at its own `until`. A source that ends before `until`
/// ends without a stop.
///
/// # Examples
/// ```
/// use std::sync::{atomic::{AtomicBool, Ordering}, Arc};
/// use tickpipe::feed::{DurationStop, MarketSource, SourcePoll, SyntheticSession};
///
/// let session = SyntheticSession::new(&Default::default()).unwrap();
/// let stop = Arc::new(AtomicBool::new(false));
/// let mut first = SyntheticSession::new(&Default::default()).unwrap();
/// let SourcePoll::Event(e) = first.poll_event().unwrap() else { panic!() };
/// // Stop right after the first event's market time.
/// let mut source = DurationStop::new(session, e.exchange_ts(), stop.clone());
/// while let SourcePoll::Event(_) = source.poll_event().unwrap() {}
/// assert!(stop.load(Ordering::Relaxed));
/// ```
#[derive(Debug)]
pub struct DurationStop<S> {
    source: S,
    until: UnixNanos,
    stop: Arc<AtomicBool>,
    ended: bool,
    /// A live source: its market time is the wall clock's, so a quiet spell past
    /// `until` ends the duration too.
    live: bool,
}

impl<S: MarketSource> DurationStop<S> {
    /// `source` until market time `until`, then `stop` raised.
    pub fn new(source: S, until: UnixNanos, stop: Arc<AtomicBool>) -> DurationStop<S> {
        DurationStop {
            source,
            until,
            stop,
            ended: false,
            live: false,
        }
    }

    /// The same for a live source, whose market time is the wall clock's: while it has
    /// nothing to give ([`SourcePoll::Pending`]), the wall clock passing `until` ends the
    /// duration as an event after it would. Without this a feed gone quiet (after the
    /// close, or a dead link) would hold the run past its duration. Never for a replay or
    /// the synthetic day, whose market time is not the wall clock's.
    pub fn live(mut self) -> DurationStop<S> {
        self.live = true;
        self
    }

    /// Ends the source and raises the stop.
    #[cold]
    fn end(&mut self) -> SourcePoll {
        self.ended = true;
        // Relaxed: the flag carries no data (the stages poll it).
        self.stop.store(true, Ordering::Relaxed);
        SourcePoll::End
    }
}

impl<S: MarketSource> MarketSource for DurationStop<S> {
    #[inline]
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        if self.ended {
            return Ok(SourcePoll::End);
        }
        match self.source.poll_event()? {
            SourcePoll::Event(event) if event.exchange_ts() > self.until => Ok(self.end()),
            SourcePoll::Pending if self.live && system_clock() > self.until => Ok(self.end()),
            other => Ok(other),
        }
    }

    fn is_stale(&self) -> bool {
        !self.ended && self.source.is_stale()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, MarketEvent, Price, Stamp, Tick, TickKind};

    /// Ticks at the given market times, then the end.
    struct Ticks(Vec<u64>);

    impl MarketSource for Ticks {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            if self.0.is_empty() {
                return Ok(SourcePoll::End);
            }
            let ts = self.0.remove(0);
            Ok(SourcePoll::Event(MarketEvent::Tick(Tick {
                exchange_ts: UnixNanos(ts),
                ingress: Stamp(0),
                last: Price::from_paise(100),
                bid: Price::from_paise(100),
                ask: Price::from_paise(105),
                instrument: InstrumentId(0),
                volume: 0,
                last_qty: 0,
                bid_qty: 1,
                ask_qty: 1,
                kind: TickKind::Quote,
            })))
        }
    }

    fn drain(source: &mut impl MarketSource) -> Vec<u64> {
        let mut seen = Vec::new();
        while let SourcePoll::Event(e) = source.poll_event().unwrap() {
            seen.push(e.exchange_ts().0);
        }
        seen
    }

    #[test]
    fn the_duration_up_ends_the_source_and_raises_the_stop() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut source = DurationStop::new(Ticks(vec![1, 5, 5, 6, 9]), UnixNanos(5), stop.clone());
        assert_eq!(drain(&mut source), [1, 5, 5]);
        assert!(stop.load(Ordering::Relaxed));
        assert!(matches!(source.poll_event(), Ok(SourcePoll::End)));
    }

    /// A live source with nothing to give, forever.
    struct Quiet;

    impl MarketSource for Quiet {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            Ok(SourcePoll::Pending)
        }
    }

    #[test]
    fn a_quiet_live_source_ends_when_the_wall_clock_passes_the_duration() {
        let now = system_clock();
        let stop = Arc::new(AtomicBool::new(false));
        // An hour from now: still waiting.
        let later = UnixNanos(now.0 + 3_600_000_000_000);
        let mut waiting = DurationStop::new(Quiet, later, stop.clone()).live();
        assert!(matches!(waiting.poll_event(), Ok(SourcePoll::Pending)));
        assert!(!stop.load(Ordering::Relaxed));
        // Past: the duration is up although no event came.
        let past = UnixNanos(now.0 - 1);
        let mut up = DurationStop::new(Quiet, past, stop.clone()).live();
        assert!(matches!(up.poll_event(), Ok(SourcePoll::End)));
        assert!(stop.load(Ordering::Relaxed));
        // Not live (a replay's market time is not the wall clock's): only events count.
        let stop = Arc::new(AtomicBool::new(false));
        let mut replay = DurationStop::new(Quiet, past, stop.clone());
        assert!(matches!(replay.poll_event(), Ok(SourcePoll::Pending)));
        assert!(!stop.load(Ordering::Relaxed));
    }

    #[test]
    fn data_that_runs_out_first_is_no_stop() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut source = DurationStop::new(Ticks(vec![1, 2]), UnixNanos(5), stop.clone());
        assert_eq!(drain(&mut source), [1, 2]);
        assert!(!stop.load(Ordering::Relaxed));
    }
}
