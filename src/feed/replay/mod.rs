//! Recorded tick files: the [`format`](mod@format), a [`TickFileWriter`] and a [`ReplaySource`].
//!
//! A tick file carries its instrument table, so a recording from one run replays in
//! another with identical instrument ids and identical events.

pub mod format;
mod reader;
#[cfg(test)]
mod tests;
mod writer;

pub use reader::ReplaySource;
pub use writer::TickFileWriter;
