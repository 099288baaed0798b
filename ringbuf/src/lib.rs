//! A bounded, wait-free single-producer single-consumer ring.
//!
//! Provisional version: the API below is the contract the stages compile against.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

use std::{
    cell::UnsafeCell,
    fmt,
    mem::MaybeUninit,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use crossbeam_utils::CachePadded;

struct Shared<T> {
    head: CachePadded<AtomicUsize>,
    tail: CachePadded<AtomicUsize>,
    mask: usize,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: a slot is written only by the producer before it publishes the tail, and read
// only by the consumer after it observed that tail; the index protocol keeps them apart.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        let mut head = *self.head.get_mut();
        let tail = *self.tail.get_mut();
        while head != tail {
            // SAFETY: slots in head..tail were written and never read.
            unsafe { self.slots[head & self.mask].get_mut().assume_init_drop() };
            head = head.wrapping_add(1);
        }
    }
}

/// Creates a ring of `capacity` slots.
///
/// # Panics
/// If `capacity` is zero or not a power of two.
pub fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    assert!(
        capacity.is_power_of_two(),
        "ring capacity must be a power of two"
    );
    let slots = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(0)),
        tail: CachePadded::new(AtomicUsize::new(0)),
        mask: capacity - 1,
        slots,
    });
    (
        Producer {
            shared: shared.clone(),
            tail: 0,
            cached_head: 0,
            full_events: 0,
        },
        Consumer {
            shared,
            head: 0,
            cached_tail: 0,
            empty_events: 0,
        },
    )
}

/// The writing end.
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    tail: usize,
    cached_head: usize,
    full_events: u64,
}

/// The reading end.
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    head: usize,
    cached_tail: usize,
    empty_events: u64,
}

/// The ring was full; the value is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// No free slot.
    Full(T),
}

/// The ring was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopError {
    /// No item to read.
    Empty,
}

impl<T> Producer<T> {
    /// Pushes `value` if a slot is free.
    ///
    /// # Errors
    /// [`PushError::Full`] with the value when the ring is full.
    pub fn try_push(&mut self, value: T) -> Result<(), PushError<T>> {
        let cap = self.shared.mask + 1;
        if self.tail.wrapping_sub(self.cached_head) == cap {
            self.cached_head = self.shared.head.load(Ordering::Acquire);
            if self.tail.wrapping_sub(self.cached_head) == cap {
                self.full_events += 1;
                return Err(PushError::Full(value));
            }
        }
        // SAFETY: the slot at tail is free: the consumer released it (head moved past).
        unsafe { (*self.shared.slots[self.tail & self.shared.mask].get()).write(value) };
        self.tail = self.tail.wrapping_add(1);
        self.shared.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Free slots as far as this end knows now.
    pub fn slots(&mut self) -> usize {
        self.cached_head = self.shared.head.load(Ordering::Acquire);
        self.shared.mask + 1 - self.tail.wrapping_sub(self.cached_head)
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.shared.mask + 1
    }

    /// True once the consumer has been dropped.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.shared) < 2
    }

    /// How many pushes found the ring full.
    pub fn full_events(&self) -> u64 {
        self.full_events
    }
}

impl<T> Consumer<T> {
    /// Pops the oldest item if there is one.
    ///
    /// # Errors
    /// [`PopError::Empty`] when the ring is empty.
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        if self.head == self.cached_tail {
            self.cached_tail = self.shared.tail.load(Ordering::Acquire);
            if self.head == self.cached_tail {
                self.empty_events += 1;
                return Err(PopError::Empty);
            }
        }
        // SAFETY: head < tail, so the slot was written and published by the producer.
        let value =
            unsafe { (*self.shared.slots[self.head & self.shared.mask].get()).assume_init_read() };
        self.head = self.head.wrapping_add(1);
        self.shared.head.store(self.head, Ordering::Release);
        Ok(value)
    }

    /// Items ready to read.
    pub fn slots(&mut self) -> usize {
        self.cached_tail = self.shared.tail.load(Ordering::Acquire);
        self.cached_tail.wrapping_sub(self.head)
    }

    /// True when no item is ready.
    pub fn is_empty(&mut self) -> bool {
        self.slots() == 0
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.shared.mask + 1
    }

    /// True once the producer has been dropped.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.shared) < 2
    }

    /// How many pops found the ring empty.
    pub fn empty_events(&self) -> u64 {
        self.empty_events
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .finish()
    }
}

// SAFETY: each end is used by one thread at a time; items of type T cross threads.
unsafe impl<T: Send> Send for Producer<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Consumer<T> {}
