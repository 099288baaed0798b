//! Latency histograms (and, in later work, performance statistics).

mod latency;

pub use latency::{format_nanos, LatencyHistogram, LatencySummary};
