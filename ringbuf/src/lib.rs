//! The bounded single-producer single-consumer ring that tickpipe's stages talk through.
//!
//! One ring carries one directed edge of the pipeline (feed → signal, signal → risk, …):
//! exactly one [`Producer`] writes and exactly one [`Consumer`] reads, each usually on its
//! own pinned thread.
//!
//! # Contract
//!
//! - **Bounded, allocation-free after construction.** [`channel()`] allocates
//!   `capacity` slots once (a non-zero power of two, so a slot index is a mask);
//!   [`try_channel`] reports a bad capacity instead of panicking.
//! - **Wait-free.** Every operation returns at once. A full ring hands the value back
//!   ([`PushError::Full`]) and an empty one says so ([`PopError::Empty`]); waiting is the
//!   caller's policy (see [`wait`]).
//! - **FIFO, exactly once.** Items come out in the order they went in. Each item is either
//!   popped, dropped by a [`ReadChunk`] commit, or dropped with the ring, exactly once.
//! - **Cheap synchronisation.** The two positions (head and tail) live on separate cache
//!   lines, and each end caches the other's position, reading the shared one only when the
//!   cache says "maybe full" or "maybe empty". The batch API ([`Producer::write_chunk_uninit`],
//!   [`Producer::push_slice`], [`Consumer::read_chunk`], [`Consumer::pop_into`]) moves a
//!   whole run of items per Release/Acquire handoff. The slot array is aligned to 128 bytes,
//!   so a 64-byte message occupies exactly one cache line. A consumer that keeps finding
//!   items fences its reads of the producer's position, so it does not take the lines the
//!   producer is still writing away from it early (1.2-1.7x rtrb's rate with 8-byte messages
//!   one at a time); a consumer woken from a wait, or taking the odd item from a quiet ring,
//!   reads without fences.
//! - **Observability.** [`Producer::full_events`] and [`Consumer::empty_events`] count
//!   refused attempts; [`Producer::is_abandoned`] and [`Consumer::is_abandoned`] tell an end
//!   that the other is gone (a consumer that sees it can still drain every item), and
//!   [`Consumer::is_finished`] that it is gone and every item has been read.
//!
//! `Producer` and `Consumer` are `Send` but not `Sync`: each belongs to one thread at a time.
//!
//! # Examples
//!
//! ```
//! use tickpipe_ringbuf::{channel, PopError, PushError};
//!
//! let (mut tx, mut rx) = channel::<u32>(4);
//! assert_eq!(tx.push_slice(&[1, 2, 3]), 3);
//! assert_eq!(tx.try_push(4), Ok(()));
//! assert_eq!(tx.try_push(5), Err(PushError::Full(5)));
//!
//! let reader = std::thread::spawn(move || {
//!     let chunk = rx.read_chunk(2).unwrap();
//!     assert_eq!(chunk.as_slices(), (&[1, 2][..], &[][..]));
//!     chunk.commit_all();
//!     let mut rest = [0; 4];
//!     assert_eq!(rx.pop_into(&mut rest), 2);
//!     assert_eq!(rest[..2], [3, 4]);
//!     assert_eq!(rx.try_pop(), Err(PopError::Empty));
//! });
//! reader.join().unwrap();
//! assert!(tx.is_abandoned());
//! ```
//!
//! # Verification
//!
//! Loom model tests (`RUSTFLAGS="--cfg loom" cargo test -p tickpipe-ringbuf --release
//! --test loom`) explore the thread interleavings and memory orderings of push/pop, batches,
//! wrap-around, teardown and the park/wake handshake; property tests compare every
//! operation with a `VecDeque`. The unit, integration and doc tests also run under Miri
//! (`cargo +nightly miri test -p tickpipe-ringbuf`), with smaller counts there. The design
//! follows `rtrb` (cached positions, chunks).
#![deny(unsafe_op_in_unsafe_fn, rustdoc::broken_intra_doc_links)]
#![warn(
    missing_docs,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
    clippy::missing_errors_doc,
    clippy::missing_panics_doc
)]

mod buffer;
mod channel;
pub mod chunk;
mod consumer;
mod cursor;
mod error;
mod hangup;
mod primitive;
mod producer;
mod shared;
pub mod wait;

pub use channel::{channel, try_channel};
pub use chunk::{ReadChunk, ReadChunkIntoIter, WriteChunkUninit};
pub use consumer::Consumer;
pub use error::{CapacityError, ChunkError, PopError, PushError};
pub use producer::Producer;
