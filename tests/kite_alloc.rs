//! Decoding a Kite Ticker full-mode message into ticks allocates nothing: a counting
//! global allocator watches the decoder and the conversion to the engine's `Tick`.
//!
//! This file holds one test so no other test thread allocates while it counts.

mod counting;

use std::sync::atomic::Ordering;

use counting::{ALLOCATIONS, COUNTED};

use tickpipe::{
    feed::kite::{Decoded, KiteDecoder},
    model::{InstrumentId, Tick, TickKind},
};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// A message of three full-mode packets (two instruments and a cut third), built
/// before counting starts.
fn message() -> Vec<u8> {
    let mut packet = [0u8; 184];
    packet[4..8].copy_from_slice(&157_370u32.to_be_bytes());
    packet[16..20].copy_from_slice(&1_000u32.to_be_bytes());
    packet[60..64].copy_from_slice(&1_783_413_883u32.to_be_bytes());
    packet[64..68].copy_from_slice(&5u32.to_be_bytes());
    packet[68..72].copy_from_slice(&157_340u32.to_be_bytes());
    packet[124..128].copy_from_slice(&172u32.to_be_bytes());
    packet[128..132].copy_from_slice(&157_375u32.to_be_bytes());
    let mut msg = 3u16.to_be_bytes().to_vec();
    for token in [408_065u32, 884_737] {
        packet[0..4].copy_from_slice(&token.to_be_bytes());
        msg.extend_from_slice(&184u16.to_be_bytes());
        msg.extend_from_slice(&packet);
    }
    msg.extend_from_slice(&184u16.to_be_bytes());
    msg.extend_from_slice(&packet[..100]);
    msg
}

#[test]
fn decoding_full_mode_messages_allocates_nothing() {
    let msg = message();
    let mut decoder = KiteDecoder::default();
    let mut ticks = [None::<Tick>; 2];
    let mut skipped = 0u32;
    COUNTED.with(|c| c.set(true));
    for round in 0..1_000u32 {
        let mut n = 0;
        decoder.decode(&msg, |d| match d {
            Decoded::Packet { packet, depth } => {
                let previous = Some(round.min(999));
                ticks[n % 2] = Some(packet.to_tick(InstrumentId(n as u32), depth, previous));
                n += 1;
            }
            Decoded::Skipped { .. } => skipped += 1,
            Decoded::Heartbeat => {}
        });
        decoder.decode(&[0], |_| {});
    }
    COUNTED.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0);
    assert_eq!((decoder.packets(), decoder.heartbeats()), (2_000, 1_000));
    assert_eq!((skipped, decoder.skipped_total()), (1_000, 1_000));
    let tick = ticks[1].unwrap();
    assert_eq!(tick.instrument, InstrumentId(1));
    assert_eq!(
        (tick.kind, tick.bid_qty, tick.ask_qty),
        (TickKind::Trade, 5, 172)
    );
}
