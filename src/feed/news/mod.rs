//! News from a file that a sentiment service appends to, one JSON object per line.
//!
//! | file | what |
//! | --- | --- |
//! | `line.rs` | [`parse_line`]: the line format and its checks |
//! | `tail.rs` | [`NewsFile`]: what the file holds at the start, then a side thread reading appended lines |
//! | `merge.rs` | [`WithNews`]: a market source with the items let into its stream by market time |
//!
//! Set `feed.news_file`; `tickpipe run` then reads the file before trading starts and
//! follows it while it runs. Items reach the strategies as [`News`](crate::model::News)
//! events, exactly like the synthetic session's.

mod line;
mod merge;
mod tail;

pub use line::{parse_line, parse_rfc3339, NewsItem};
pub use merge::WithNews;
pub use tail::{NewsFile, NewsFileReport, MAX_LINE};
