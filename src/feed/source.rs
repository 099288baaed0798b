//! The seam between a market data source and the feed stage.

use super::FeedError;
use crate::model::MarketEvent;

/// What a [`MarketSource`] has now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePoll {
    /// The next event, in non-decreasing market time.
    Event(MarketEvent),
    /// Nothing yet (a live source waiting for the network); ask again later.
    Pending,
    /// The source has no more events, ever.
    End,
}

/// A source of market events: the synthetic session, a replay file, a live feed.
///
/// `poll_event` never blocks, and on the `Ok` path never allocates, so the feed stage can
/// call it from a pinned, busy-polling thread. Events come out in non-decreasing
/// [`exchange_ts`](MarketEvent::exchange_ts) with an unset ingress stamp (the stage
/// stamps it). An `Err` is final: the stage stops and reports it.
pub trait MarketSource: Send {
    /// The next event, `Pending`, or `End`.
    ///
    /// # Errors
    /// A [`FeedError`] when the source cannot go on (corrupt file, broken connection).
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError>;

    /// True while a live source cannot vouch that its data is current (disconnected,
    /// reconnecting, or silent past its staleness window), so the engine can refuse new
    /// entries on a stale feed. Files and the synthetic day are never stale.
    fn is_stale(&self) -> bool {
        false
    }
}

impl<S: MarketSource + ?Sized> MarketSource for Box<S> {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        (**self).poll_event()
    }

    fn is_stale(&self) -> bool {
        (**self).is_stale()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Silent(bool);

    impl MarketSource for Silent {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            Ok(SourcePoll::Pending)
        }

        fn is_stale(&self) -> bool {
            self.0
        }
    }

    #[test]
    fn a_boxed_source_reports_its_staleness() {
        let stale: Box<dyn MarketSource> = Box::new(Silent(true));
        let fresh: Box<dyn MarketSource> = Box::new(Silent(false));
        assert!(stale.is_stale());
        assert!(!fresh.is_stale());
        let synthetic = crate::feed::SyntheticSession::new(&Default::default()).unwrap();
        assert!(
            !synthetic.is_stale(),
            "files and the synthetic day are never stale"
        );
    }
}
