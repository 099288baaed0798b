//! Stage 1: market data in.
//!
//! A [`MarketSource`] produces [`MarketEvent`](crate::model::MarketEvent)s in market-time
//! order; the [`FeedStage`] stamps each at ingress and pushes it to the signal stage's
//! ring, paced as fast as possible or at a multiple of real time.
//!
//! | item | what |
//! | --- | --- |
//! | [`MarketSource`], [`SourcePoll`] | the source seam |
//! | [`FeedStage`], [`Pacing`] | the stage |
//! | [`DurationStop`] | a run's duration as a stop (`--duration` on `tickpipe run`) |
//! | `staleness` | the stale-feed watch: an alert when the whole feed stays stale |
//! | [`FeedConfig`] | the `[feed]` section: which source, how fast |
//! | [`synthetic`] | a deterministic synthetic NIFTY 50 day with an option chain |
//! | [`replay`] | recorded tick files: format, [`TickFileWriter`], [`ReplaySource`] |
//! | [`kite`] | Kite Ticker: the binary and text decoders, and the live WebSocket source [`KiteTicker`](kite::KiteTicker) |
//! | [`truedata`] | TrueData: the JSON decoder and the live WebSocket source [`TrueDataFeed`](truedata::TrueDataFeed) |
//! | [`is_crossed`] | data-quality checks of the live links (`quality.rs`) |
//! | [`Conflator`] | backpressure of live sources: the newest tick per instrument |
//! | [`news`] | news items from a JSON-lines file a sentiment service appends to |
//! | [`universe`] | the instrument universe CSV (NIFTY 50 by default) |
//! | [`instruments`] | Kite's instrument master: tokens, tick and lot sizes, expiries |
//! | [`FeedError`] | why a source failed |

mod config;
mod conflate;
mod duration;
mod error;
pub mod instruments;
pub mod kite;
pub mod news;
mod quality;
pub mod replay;
mod source;
mod stage;
mod staleness;
pub mod synthetic;
pub mod truedata;
pub mod universe;

pub use config::{parse_duration, parse_speed, FeedConfig, OpenedSource, SourceKind};
pub use conflate::{Conflator, Offered};
pub use duration::DurationStop;
pub use error::FeedError;
pub use quality::is_crossed;
pub use replay::{ReplaySource, TickFileWriter};
pub use source::{MarketSource, SourcePoll};
pub use stage::{FeedStage, Pacing};
pub use staleness::StaleFeedFlag;
pub use synthetic::{SyntheticConfig, SyntheticSession};
