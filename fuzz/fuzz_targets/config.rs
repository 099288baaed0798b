//! `cargo +nightly fuzz run config`: the body is [`tickpipe::fuzzing::config`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tickpipe::fuzzing::config(data));
