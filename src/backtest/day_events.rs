//! One synthetic day's market events, generated once and kept in memory, so several
//! backtests of that day (the variants of a comparison) trade it without each running
//! the generator again.
//!
//! Why this is exact: the synthetic market does not listen to the strategies. Its
//! events depend only on `[feed]` (the date and seed included), so every run of a day
//! under the same `[feed]` section reads the same events in the same order, whatever
//! its strategies, risk limits or capital. [`DayReplay`] hands them to the feed stage
//! exactly as the [`SyntheticSession`](crate::feed::SyntheticSession) would have: the
//! same events, then the end. The generator is about half the cost of a day through
//! the pipeline, so a comparison of five variants generates one day instead of five.
//!
//! Cost: 64 bytes an event (a [`MarketEvent`]), about two million events on a whole
//! default day, so about 130 MB a day; the caller keeps only a few days at once. A
//! day played only up to `[feed] duration` is recorded only that far.

use std::sync::Arc;

use crate::{
    engine::EngineConfig,
    feed::{FeedError, MarketSource, SourcePoll},
    model::{InstrumentTable, MarketEvent, UnixNanos},
};

use super::session::{DayFeed, SessionDay};

/// A day's market events in order, and what a pipeline needs to trade them.
#[derive(Debug)]
pub struct DayEvents {
    /// Which day.
    pub day: SessionDay,
    /// The instruments the events' ids index.
    pub instruments: InstrumentTable,
    /// Market time the day starts.
    pub start: UnixNanos,
    /// Market time the feed stage stops at (`[feed] duration`); `None`: the whole day.
    pub until: Option<UnixNanos>,
    /// The events, in the order the source gave them.
    events: Vec<MarketEvent>,
}

impl DayEvents {
    /// Generates `day` under `config` (a config from
    /// [`day_config`](super::day_config)): every event the feed stage would read from
    /// the source, up to and including the first one past `until` (where the stage
    /// stops reading). `buffer` is reused for the events (cleared first), so a caller
    /// that recycles the vector of a finished day spares the allocation.
    ///
    /// # Errors
    /// When the source cannot be opened or `[feed] duration` does not parse; when the
    /// source fails, the error the feed stage would have stopped with, named with the
    /// day as a session names a failed day.
    pub fn generate(
        config: &EngineConfig,
        day: SessionDay,
        mut buffer: Vec<MarketEvent>,
    ) -> Result<DayEvents, String> {
        let opened = config.feed.open()?;
        let until = config.feed.until(opened.start)?;
        let mut source = opened.source;
        buffer.clear();
        loop {
            match source.poll_event() {
                Ok(SourcePoll::Event(event)) => {
                    buffer.push(event);
                    if until.is_some_and(|u| event.exchange_ts() > u) {
                        break;
                    }
                }
                // A synthetic day never waits; a source that did would be asked again.
                Ok(SourcePoll::Pending) => {}
                Ok(SourcePoll::End) => break,
                Err(e) => {
                    return Err(format!(
                        "{} (seed {}): the feed stage stopped early: {e}",
                        day.date, day.seed
                    ))
                }
            }
        }
        Ok(DayEvents {
            day,
            instruments: opened.instruments,
            start: opened.start,
            until,
            events: buffer,
        })
    }

    /// How many events the day holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when the day holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events' vector back, for the next day to fill.
    pub fn into_buffer(self) -> Vec<MarketEvent> {
        self.events
    }

    /// What one pipeline reads to trade the day: the instruments, and a source that
    /// plays the events.
    pub(super) fn feed(day: &Arc<DayEvents>) -> DayFeed<'_> {
        DayFeed {
            instruments: &day.instruments,
            source: Box::new(DayReplay::new(Arc::clone(day))),
            start: day.start,
            until: day.until,
        }
    }
}

/// A [`MarketSource`] over a [`DayEvents`]: its events in order, then the end.
#[derive(Debug)]
pub struct DayReplay {
    day: Arc<DayEvents>,
    next: usize,
}

impl DayReplay {
    /// Plays `day` from its first event.
    pub fn new(day: Arc<DayEvents>) -> DayReplay {
        DayReplay { day, next: 0 }
    }
}

impl MarketSource for DayReplay {
    #[inline]
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        match self.day.events.get(self.next) {
            Some(&event) => {
                self.next += 1;
                Ok(SourcePoll::Event(event))
            }
            None => Ok(SourcePoll::End),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{backtest::day_config, feed::SyntheticSession, model::Money};

    fn short_day() -> (EngineConfig, SessionDay) {
        let mut config = EngineConfig::embedded_default();
        config.feed.duration = "20m".to_owned();
        let day = crate::backtest::plan(&config, 2).unwrap()[1];
        (day_config(&config, day, Money::ZERO), day)
    }

    #[test]
    fn the_replay_is_the_sessions_stream_up_to_the_first_event_past_the_duration() {
        let (config, day) = short_day();
        let recorded = Arc::new(DayEvents::generate(&config, day, Vec::new()).unwrap());
        let until = recorded.until.expect("a 20-minute day");
        let mut session = SyntheticSession::new(&config.feed.synthetic).unwrap();
        assert_eq!(recorded.instruments.len(), session.instruments().len());
        assert_eq!(recorded.start, session.session_bounds().0);
        let mut replay = DayReplay::new(Arc::clone(&recorded));
        let mut n = 0;
        loop {
            let SourcePoll::Event(expected) = session.poll_event().unwrap() else {
                panic!("the session ended before the duration");
            };
            assert_eq!(replay.poll_event().unwrap(), SourcePoll::Event(expected));
            n += 1;
            if expected.exchange_ts() > until {
                break;
            }
        }
        assert_eq!(n, recorded.len());
        assert!(n > 10_000, "twenty minutes of a NIFTY day: {n} events");
        assert_eq!(replay.poll_event().unwrap(), SourcePoll::End);
        assert_eq!(replay.poll_event().unwrap(), SourcePoll::End);
    }

    #[test]
    fn a_reused_buffer_holds_only_the_new_day() {
        let (config, day) = short_day();
        let first = DayEvents::generate(&config, day, Vec::new()).unwrap();
        let len = first.len();
        let again = DayEvents::generate(&config, day, first.into_buffer()).unwrap();
        assert_eq!(again.len(), len);
        let mut whole = config.clone();
        whole.feed.duration = String::new();
        let fresh = DayEvents::generate(&whole, day, Vec::new()).unwrap();
        assert!(fresh.until.is_none());
        assert!(fresh.len() > len, "the whole day is longer than 20 minutes");
        assert_eq!(fresh.events[..len - 1], again.events[..len - 1]);
    }
}
