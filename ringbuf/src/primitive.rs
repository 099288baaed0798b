//! The synchronisation primitives the ring is built from, swapped for loom's models
//! under `--cfg loom`.
//!
//! Every atomic, fence, `Arc`, thread handle and spin hint in this crate comes from here,
//! so the loom tests check the same code that ships. Two pieces need a word:
//!
//! - [`SlotTracker`]: the slots themselves live in one plain allocation in both builds,
//!   because the chunk API hands out contiguous `&mut [MaybeUninit<T>]` runs, which loom's
//!   `UnsafeCell` (one tracked object per cell, not `repr(transparent)`) cannot provide.
//!   Under loom each slot gets a shadow `loom::cell::UnsafeCell<()>`, and every place that
//!   reads or writes a slot first "touches" its shadow, so loom still reports any slot access
//!   that is not ordered after the other end's last access to it. Under `std` the tracker is
//!   zero-sized and every method is an empty inline function.
//! - [`thread::park_timeout`]: loom has no timed park, so under loom it parks without a
//!   timeout. A lost wake-up then shows up as a deadlock that loom reports, which is exactly
//!   what the wake-up test wants to catch.

#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) mod atomic {
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};
}
#[cfg(not(loom))]
pub(crate) mod hint {
    pub(crate) use std::hint::spin_loop;
}
#[cfg(not(loom))]
pub(crate) mod thread {
    pub(crate) use std::thread::{current, park_timeout, yield_now, Thread};
}

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) mod atomic {
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};
}
#[cfg(loom)]
pub(crate) mod hint {
    pub(crate) use loom::hint::spin_loop;
}
#[cfg(loom)]
pub(crate) mod thread {
    pub(crate) use loom::thread::{current, yield_now, Thread};

    /// Loom has no timed park: park until unparked, so a lost wake-up is a reported deadlock.
    pub(crate) fn park_timeout(_timeout: std::time::Duration) {
        loom::thread::park();
    }
}

/// Holds back every instruction after it until every instruction before it has completed,
/// so the CPU cannot issue the loads that follow early or on a guess (see `Consumer::ready_for` for why the ring wants
/// that). `lfence` on x86_64; elsewhere, and under loom and Miri, nothing: it orders no
/// memory accesses in the language's model, so leaving it out changes speed only, never
/// meaning.
#[inline(always)]
pub(crate) fn speculation_barrier() {
    #[cfg(all(target_arch = "x86_64", not(loom), not(miri)))]
    // SAFETY: `lfence` needs SSE2, which every x86_64 CPU has; it reads and writes no memory.
    unsafe {
        std::arch::x86_64::_mm_lfence()
    };
}

/// Shadow cells that let loom check every slot access (see the module docs).
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct SlotTracker;

#[cfg(not(loom))]
impl SlotTracker {
    /// A tracker for `capacity` slots.
    pub(crate) fn new(_capacity: usize) -> SlotTracker {
        SlotTracker
    }

    /// Records that the slots `index..index + len` (modulo the capacity) are read now.
    #[inline(always)]
    pub(crate) fn read(&self, _index: usize, _len: usize) {}

    /// Records that the slots `index..index + len` (modulo the capacity) are written now.
    #[inline(always)]
    pub(crate) fn write(&self, _index: usize, _len: usize) {}
}

/// Shadow cells that let loom check every slot access (see the module docs).
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct SlotTracker {
    shadows: Box<[loom::cell::UnsafeCell<()>]>,
}

#[cfg(loom)]
impl SlotTracker {
    /// A tracker for `capacity` slots.
    pub(crate) fn new(capacity: usize) -> SlotTracker {
        SlotTracker {
            shadows: (0..capacity)
                .map(|_| loom::cell::UnsafeCell::new(()))
                .collect(),
        }
    }

    /// Records that the slots `index..index + len` (modulo the capacity) are read now.
    pub(crate) fn read(&self, index: usize, len: usize) {
        let mask = self.shadows.len() - 1;
        for i in 0..len {
            self.shadows[index.wrapping_add(i) & mask].with(|_| ());
        }
    }

    /// Records that the slots `index..index + len` (modulo the capacity) are written now.
    pub(crate) fn write(&self, index: usize, len: usize) {
        let mask = self.shadows.len() - 1;
        for i in 0..len {
            self.shadows[index.wrapping_add(i) & mask].with_mut(|_| ());
        }
    }
}

/// Where a parking wait strategy leaves its thread's handle for the wakers to unpark.
///
/// The sleeper stores its handle before every sleep, so a strategy that moved to another
/// thread between sleeps is woken on the thread it sleeps on now. The lock is taken by the
/// sleeper once per sleep (about to make a system call anyway) and by a waker only when it
/// has found the thread asleep.
#[derive(Debug, Default)]
pub(crate) struct ThreadSlot(Mutex<Option<thread::Thread>>);

impl ThreadSlot {
    /// Stores the calling thread's handle, unless it is the one already stored.
    pub(crate) fn register_current(&self) {
        let mut slot = lock(&self.0);
        let current = thread::current();
        if slot.as_ref().map(thread::Thread::id) != Some(current.id()) {
            *slot = Some(current);
        }
    }

    /// Unparks the registered thread, if any.
    pub(crate) fn unpark(&self) {
        if let Some(t) = lock(&self.0).as_ref() {
            t.unpark();
        }
    }
}

#[cfg(not(loom))]
use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
use loom::sync::{Mutex, MutexGuard};

/// Locks `mutex`; a poisoned lock still holds a valid `Option<Thread>` (nothing that can
/// panic runs while it is held), so the poison is ignored.
fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
