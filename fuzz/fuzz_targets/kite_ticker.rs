//! `cargo +nightly fuzz run kite_ticker`: the body is [`tickpipe::fuzzing::kite_ticker`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tickpipe::fuzzing::kite_ticker(data));
