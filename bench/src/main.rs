//! tickpipe's latency and throughput harness.
fn main() {}
