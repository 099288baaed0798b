//! The ring's errors: small `Copy` values that hand back whatever could not be stored.

use std::fmt;

/// [`Producer::try_push`](crate::Producer::try_push) found no free slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// Every slot holds an unread item; the value is handed back. Retry after the consumer
    /// has read, stash it, or drop it, as the edge's backpressure policy says.
    Full(T),
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("ring is full"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for PushError<T> {}

/// [`Consumer::try_pop`](crate::Consumer::try_pop) found no item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopError {
    /// The ring holds no published item; poll again later.
    Empty,
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PopError::Empty => f.write_str("ring is empty"),
        }
    }
}

impl std::error::Error for PopError {}

/// A chunk of the requested size is not available now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// Only this many slots (free ones for a write chunk, filled ones for a read chunk)
    /// are available; ask for at most that many.
    TooFewSlots(usize),
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::TooFewSlots(n) => write!(f, "only {n} slots available"),
        }
    }
}

impl std::error::Error for ChunkError {}

/// [`try_channel`](crate::try_channel) was asked for a capacity it cannot build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityError {
    /// A ring needs at least one slot.
    Zero,
    /// The capacity must be a power of two (so a slot index is a mask, not a division);
    /// round up with `usize::next_power_of_two`.
    NotPowerOfTwo(usize),
    /// The slots would need more than `isize::MAX` bytes.
    TooLarge(usize),
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapacityError::Zero => f.write_str("ring capacity must be at least 1"),
            CapacityError::NotPowerOfTwo(n) => {
                write!(f, "ring capacity must be a power of two, got {n}")
            }
            CapacityError::TooLarge(n) => {
                write!(f, "ring capacity {n} needs more than isize::MAX bytes")
            }
        }
    }
}

impl std::error::Error for CapacityError {}
