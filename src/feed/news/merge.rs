//! Merging news items into a market source's stream by market time.

use tickpipe_ringbuf::Consumer;

use super::line::NewsItem;
use crate::{
    feed::{FeedError, MarketSource, SourcePoll},
    model::{MarketEvent, News, Stamp, UnixNanos},
};

/// A [`MarketSource`] with news items let into its stream.
///
/// Items come from two places: those in the news file when the run started (sorted by
/// time once, then merged exactly: a replay with the same file decides the same way
/// every time), and those appended while it runs, from the tail thread's ring (merged as
/// they arrive). An item goes out just before the first market event later than its
/// time; an item without a time, or with a time already past, goes out at once,
/// stamped with the stream's current market time, so market time never runs backwards.
///
/// `poll_event` allocates nothing: the preloaded items were sorted in
/// [`WithNews::new`], and the ring is fixed.
pub struct WithNews<S> {
    source: S,
    preloaded: Vec<NewsItem>,
    next: usize,
    live: Option<Consumer<NewsItem>>,
    /// A live item waiting for market time to reach it.
    live_held: Option<NewsItem>,
    /// The source's next event, read ahead to compare times.
    held: Option<MarketEvent>,
    ended: bool,
    /// Market time of the last event let out.
    now: UnixNanos,
}

impl<S: MarketSource> WithNews<S> {
    /// `source` with `preloaded` items (any order) and, optionally, a ring of items
    /// appended later.
    pub fn new(
        source: S,
        mut preloaded: Vec<NewsItem>,
        live: Option<Consumer<NewsItem>>,
    ) -> WithNews<S> {
        // Stable: items with the same time keep their file order. Untimed items of the
        // file count from the start of the stream.
        preloaded.sort_by_key(|item| item.time.unwrap_or_default());
        WithNews {
            source,
            preloaded,
            next: 0,
            live,
            live_held: None,
            held: None,
            ended: false,
            now: UnixNanos::default(),
        }
    }

    /// The earliest item due no later than `limit` (the next market event's time, or
    /// the current market time when there is none yet), taken out of its queue.
    fn take_news_until(&mut self, limit: UnixNanos) -> Option<NewsItem> {
        if self.live_held.is_none() {
            if let Some(rx) = &mut self.live {
                self.live_held = rx.try_pop().ok();
            }
        }
        let due = |item: &NewsItem| item.time.map_or(true, |t| t <= limit);
        let file = self.preloaded.get(self.next).copied().filter(due);
        let live = self.live_held.filter(due);
        match (file, live) {
            (Some(f), Some(l)) if l.time.unwrap_or(self.now) < f.time.unwrap_or(self.now) => {
                self.live_held = None;
                Some(l)
            }
            (Some(f), _) => {
                self.next += 1;
                Some(f)
            }
            (None, Some(l)) => {
                self.live_held = None;
                Some(l)
            }
            (None, None) => None,
        }
    }

    fn news_event(&mut self, item: NewsItem) -> SourcePoll {
        let at = item.time.unwrap_or(self.now).max(self.now);
        self.now = at;
        SourcePoll::Event(MarketEvent::News(News {
            exchange_ts: at,
            ingress: Stamp::default(),
            instrument: item.instrument,
            sentiment_milli: item.sentiment_milli,
        }))
    }
}

impl<S> std::fmt::Debug for WithNews<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithNews")
            .field("preloaded", &self.preloaded.len())
            .field("next", &self.next)
            .field("live", &self.live.is_some())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<S: MarketSource> MarketSource for WithNews<S> {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        if self.held.is_none() && !self.ended {
            match self.source.poll_event()? {
                SourcePoll::Event(event) => self.held = Some(event),
                SourcePoll::Pending => {}
                SourcePoll::End => self.ended = true,
            }
        }
        let Some(event) = self.held else {
            if self.ended {
                // News after the last market event has nothing to act on.
                return Ok(SourcePoll::End);
            }
            // A live source between events: only news already due goes out.
            let now = self.now;
            return Ok(match self.take_news_until(now) {
                Some(item) => self.news_event(item),
                None => SourcePoll::Pending,
            });
        };
        if let Some(item) = self.take_news_until(event.exchange_ts()) {
            return Ok(self.news_event(item));
        }
        self.held = None;
        self.now = self.now.max(event.exchange_ts());
        Ok(SourcePoll::Event(event))
    }

    /// The market source's staleness: news flowing says nothing about prices.
    fn is_stale(&self) -> bool {
        self.source.is_stale()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::InstrumentId,
        signal::test_support::{trade, MIN, OPEN},
    };

    /// A scripted source.
    struct Script(Vec<SourcePoll>);

    impl MarketSource for Script {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            Ok(if self.0.is_empty() {
                SourcePoll::End
            } else {
                self.0.remove(0)
            })
        }
    }

    fn tick_at(minute: u64) -> SourcePoll {
        SourcePoll::Event(MarketEvent::Tick(trade(0, OPEN + minute * MIN, 10_000, 1)))
    }

    fn item(minute: Option<u64>, instrument: u32) -> NewsItem {
        NewsItem {
            time: minute.map(|m| UnixNanos(OPEN + m * MIN)),
            instrument: InstrumentId(instrument),
            sentiment_milli: 500,
        }
    }

    /// `(minute, 'T' tick or 'N' news on instrument)` of everything let out.
    fn drain(source: &mut impl MarketSource) -> Vec<(u64, char, u32)> {
        let mut out = Vec::new();
        loop {
            match source.poll_event().unwrap() {
                SourcePoll::Event(e) => {
                    let minute = (e.exchange_ts().0 - OPEN) / MIN;
                    match e {
                        MarketEvent::Tick(t) => out.push((minute, 'T', t.instrument.0)),
                        MarketEvent::News(n) => out.push((minute, 'N', n.instrument.0)),
                        MarketEvent::Control(_) => unreachable!(),
                    }
                }
                SourcePoll::Pending => out.push((u64::MAX, 'P', 0)),
                SourcePoll::End => return out,
            }
        }
    }

    /// A live source that says it is stale.
    struct Stale;

    impl MarketSource for Stale {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            Ok(SourcePoll::Pending)
        }

        fn is_stale(&self) -> bool {
            true
        }
    }

    #[test]
    fn the_market_sources_staleness_shows_through_the_news() {
        let mut stale = WithNews::new(Stale, vec![item(None, 1)], None);
        assert!(stale.is_stale());
        assert!(matches!(
            stale.poll_event().unwrap(),
            SourcePoll::Event(MarketEvent::News(_))
        ));
        assert!(stale.is_stale(), "news flowing does not make prices fresh");
        assert!(!WithNews::new(Script(vec![]), vec![], None).is_stale());
    }

    #[test]
    fn file_items_go_out_before_the_first_later_event_in_time_order() {
        let script = Script(vec![tick_at(0), tick_at(2), tick_at(5)]);
        let news = vec![item(Some(4), 2), item(Some(1), 1), item(Some(2), 3)];
        let mut merged = WithNews::new(script, news, None);
        assert_eq!(
            drain(&mut merged),
            [
                (0, 'T', 0),
                (1, 'N', 1),
                (2, 'N', 3),
                (2, 'T', 0),
                (4, 'N', 2),
                (5, 'T', 0)
            ]
        );
    }

    #[test]
    fn late_and_untimed_items_take_the_current_market_time() {
        let (mut tx, rx) = tickpipe_ringbuf::channel(4);
        let script = Script(vec![
            tick_at(3),
            tick_at(4),
            SourcePoll::Pending,
            tick_at(6),
        ]);
        let mut merged = WithNews::new(script, vec![], Some(rx));
        let first = merged.poll_event().unwrap();
        assert!(matches!(first, SourcePoll::Event(MarketEvent::Tick(_))));
        tx.try_push(item(Some(1), 7)).unwrap(); // stale: goes out at once, at 3
        tx.try_push(item(None, 8)).unwrap(); // untimed: at once
        assert_eq!(
            drain(&mut merged),
            [
                (3, 'N', 7),
                (3, 'N', 8),
                (4, 'T', 0),
                (u64::MAX, 'P', 0),
                (6, 'T', 0)
            ]
        );
    }

    #[test]
    fn a_live_item_in_the_future_waits_for_market_time() {
        let (mut tx, rx) = tickpipe_ringbuf::channel(4);
        tx.try_push(item(Some(5), 9)).unwrap();
        let script = Script(vec![tick_at(3), SourcePoll::Pending, tick_at(7)]);
        let mut merged = WithNews::new(script, vec![], Some(rx));
        assert_eq!(
            drain(&mut merged),
            [(3, 'T', 0), (u64::MAX, 'P', 0), (5, 'N', 9), (7, 'T', 0)]
        );
    }
}
