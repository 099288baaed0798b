//! Batches: write or read a run of slots and publish it with one store.
//!
//! A stage that moves many messages per wake-up pays for one cross-core handoff per batch
//! instead of one per message. The run may wrap past the end of the slot array, so each
//! chunk shows itself as two slices (the second is often empty).
//!
//! - [`WriteChunkUninit`], from [`Producer::write_chunk_uninit`](crate::Producer::write_chunk_uninit):
//!   fill free slots, then commit some or all of them.
//! - [`ReadChunk`], from [`Consumer::read_chunk`](crate::Consumer::read_chunk): look at ready
//!   items in place, then commit (release) some or all of them, or iterate it to move them
//!   out ([`ReadChunkIntoIter`]).
//!
//! For `Copy` items, [`Producer::push_slice`](crate::Producer::push_slice) and
//! [`Consumer::pop_into`](crate::Consumer::pop_into) do the same with one call.

mod read;
mod write;

pub use read::{ReadChunk, ReadChunkIntoIter};
pub use write::WriteChunkUninit;
