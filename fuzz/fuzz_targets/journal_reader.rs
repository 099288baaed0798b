//! `cargo +nightly fuzz run journal_reader`: the body is [`tickpipe::fuzzing::journal_reader`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tickpipe::fuzzing::journal_reader(data));
