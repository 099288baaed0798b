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
}

impl<S: MarketSource + ?Sized> MarketSource for Box<S> {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        (**self).poll_event()
    }
}
