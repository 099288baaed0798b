//! Latency histograms, the gauges the stages publish, and (in later work) performance
//! statistics. Depends on nothing of ours but [`model`](crate::model), so every stage
//! may use it.

mod latency;
mod telemetry;

pub use latency::{format_nanos, LatencyHistogram, LatencySummary};
pub use telemetry::{
    FeedGauges, Gauge, OrderGauges, RiskGauges, SignalGauges, SignedGauge, Telemetry,
};
