//! The slots of a ring: a power-of-two array of possibly-uninitialised values.

use std::{
    alloc::{self, Layout},
    fmt,
    marker::PhantomData,
    mem::{self, MaybeUninit},
    ptr::{self, NonNull},
};

use crate::primitive::SlotTracker;

/// Alignment of the slot array: a pair of 64-byte cache lines, the unit the adjacent-line
/// prefetcher of recent x86 cores moves (the same reason `crossbeam_utils::CachePadded` is
/// 128 bytes there). A message of 64 bytes then sits in exactly one line instead of
/// straddling two, and a chunk never shares its first or last line with a slot outside it
/// more than the slot size forces.
const SLOT_ARRAY_ALIGN: usize = 128;

/// `capacity` slots, addressed by free-running positions (`position & mask`).
///
/// The buffer knows nothing about which slots hold values; the head and tail cursors do.
/// Every method that touches a slot is `unsafe` and states which part of that protocol the
/// caller must uphold.
pub(crate) struct Buffer<T> {
    /// The first of `capacity` slots, allocated with [`Buffer::layout`] (dangling and never
    /// dereferenced for its bytes when that layout has size zero).
    slots: NonNull<MaybeUninit<T>>,
    /// `capacity - 1`; the capacity is a power of two, so `position & mask` is in bounds.
    mask: usize,
    tracker: SlotTracker,
    /// The buffer owns values of `T` (for drop check); which slots hold one is the
    /// cursors' business.
    _owns: PhantomData<T>,
}

/// A run of slots that may wrap past the end of the array: `first` then `second`.
#[derive(Debug)]
pub(crate) struct Span<T> {
    pub(crate) first: *mut MaybeUninit<T>,
    pub(crate) first_len: usize,
    pub(crate) second: *mut MaybeUninit<T>,
    pub(crate) second_len: usize,
}

impl<T> Clone for Span<T> {
    fn clone(&self) -> Span<T> {
        *self
    }
}

impl<T> Copy for Span<T> {}

impl<T> Span<T> {
    /// Slots in the run.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.first_len + self.second_len
    }
}

impl<T> Buffer<T> {
    /// The allocation of `capacity` slots, or `None` when it would exceed `isize::MAX`
    /// bytes.
    pub(crate) fn layout(capacity: usize) -> Option<Layout> {
        let size = capacity.checked_mul(mem::size_of::<T>())?;
        Layout::from_size_align(size, mem::align_of::<T>().max(SLOT_ARRAY_ALIGN)).ok()
    }

    /// Allocates `capacity` uninitialised slots. The caller has checked that `capacity` is
    /// a power of two and that [`Buffer::layout`] accepts it.
    ///
    /// Aborts through `handle_alloc_error` if the allocator fails, like `Vec`.
    pub(crate) fn new(capacity: usize) -> Buffer<T> {
        debug_assert!(capacity.is_power_of_two());
        let layout = Buffer::<T>::layout(capacity).expect("capacity checked by the caller");
        let slots = if layout.size() == 0 {
            // Zero-sized slots (or `T` zero-sized): nothing to allocate; any aligned
            // non-null pointer is valid for zero-sized reads and writes.
            NonNull::<MaybeUninit<T>>::dangling()
        } else {
            // SAFETY: the layout has a non-zero size.
            let raw = unsafe { alloc::alloc(layout) };
            match NonNull::new(raw.cast::<MaybeUninit<T>>()) {
                Some(p) => p,
                None => alloc::handle_alloc_error(layout),
            }
        };
        Buffer {
            slots,
            mask: capacity - 1,
            tracker: SlotTracker::new(capacity),
            _owns: PhantomData,
        }
    }

    /// Number of slots.
    #[inline(always)]
    pub(crate) fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The slot at `position`.
    #[inline(always)]
    fn slot(&self, position: usize) -> *mut MaybeUninit<T> {
        let index = position & self.mask;
        debug_assert!(index < self.capacity());
        // SAFETY: `mask` is `capacity - 1` for a power-of-two capacity, so
        // `index < capacity` and the offset stays inside the allocation (or is zero bytes
        // for zero-sized slots).
        unsafe { self.base().add(index) }
    }

    /// The first slot; every slot pointer is derived from it. The buffer owns the
    /// allocation and hands out raw pointers only, so writing through them from `&self`
    /// needs no `UnsafeCell` (as with the raw pointer inside a `Vec`); who may write
    /// which slot is the cursor protocol's business.
    #[inline(always)]
    fn base(&self) -> *mut MaybeUninit<T> {
        self.slots.as_ptr()
    }

    /// Moves `value` into the free slot at `position`.
    ///
    /// # Safety
    /// The slot must be free (never written, or its value moved out or dropped) and the
    /// caller must be the producer, whose observation of the head shows the consumer is done
    /// with it.
    #[inline(always)]
    pub(crate) unsafe fn write(&self, position: usize, value: T) {
        self.tracker.write(position, 1);
        // SAFETY: the slot is free and only the producer touches it (delegated to the caller).
        unsafe { (*self.slot(position)).write(value) };
    }

    /// Moves the value out of the slot at `position`, leaving the slot free.
    ///
    /// # Safety
    /// The slot must hold a value published by the producer (the caller observed a tail past
    /// `position`), and the caller must be the consumer, which then never reads it again.
    #[inline(always)]
    pub(crate) unsafe fn read(&self, position: usize) -> T {
        self.tracker.read(position, 1);
        // SAFETY: the slot holds a published value nobody else touches (delegated to the
        // caller).
        unsafe { (*self.slot(position)).assume_init_read() }
    }

    /// A shared reference to the value in the slot at `position`.
    ///
    /// # Safety
    /// As for [`Buffer::read`], and the reference must not outlive the consumer's hold on the
    /// slot (it must be gone before the head moves past `position`).
    #[inline(always)]
    pub(crate) unsafe fn get(&self, position: usize) -> &T {
        self.tracker.read(position, 1);
        // SAFETY: the slot holds a published value (delegated to the caller).
        unsafe { (*self.slot(position)).assume_init_ref() }
    }

    /// Drops the values in the `len` slots from `position` on, leaving them free.
    ///
    /// Every value is dropped exactly once even if a `drop` panics: each of the two runs
    /// is dropped as one slice (`ptr::drop_in_place`), whose drop glue goes on to the rest
    /// of the slice when an element panics, and the wrapped run is dropped by a guard when
    /// the first run panics. (A second panic while unwinding aborts, as with `Vec`.)
    ///
    /// # Safety
    /// As for [`Buffer::read`], for every slot of the run; the caller must not touch the
    /// slots again before the producer has refilled them, even if this panics.
    pub(crate) unsafe fn drop_run(&self, position: usize, len: usize) {
        if !std::mem::needs_drop::<T>() {
            self.tracker.read(position, len);
            return;
        }
        self.tracker.write(position, len);
        let span = self.span(position, len);
        let wrapped = DropOnExit(ptr::slice_from_raw_parts_mut(
            span.second.cast::<T>(),
            span.second_len,
        ));
        // SAFETY: the first run lies inside the slot array and holds published values that
        // only the caller touches (delegated to the caller); each is dropped once here.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                span.first.cast::<T>(),
                span.first_len,
            ))
        };
        drop(wrapped);
    }
    /// The run of `len` slots from `position` on, split where it wraps.
    ///
    /// Computing the span is safe; reading or writing through it carries the obligations of
    /// [`Buffer::read`] or [`Buffer::write`].
    #[inline]
    pub(crate) fn span(&self, position: usize, len: usize) -> Span<T> {
        debug_assert!(
            len <= self.capacity(),
            "run of {len} in {} slots",
            self.capacity()
        );
        let index = position & self.mask;
        let first_len = len.min(self.capacity() - index);
        Span {
            first: self.slot(position),
            first_len,
            second: self.base(),
            second_len: len - first_len,
        }
    }

    /// Records a read of a run for the loom model (a no-op in normal builds).
    #[inline(always)]
    pub(crate) fn track_read(&self, position: usize, len: usize) {
        self.tracker.read(position, len);
    }

    /// Records a write of a run for the loom model (a no-op in normal builds).
    #[inline(always)]
    pub(crate) fn track_write(&self, position: usize, len: usize) {
        self.tracker.write(position, len);
    }

    /// Copies `src` into the run starting at `position`.
    ///
    /// # Safety
    /// As for [`Buffer::write`], for the `src.len()` slots from `position` on.
    #[inline]
    pub(crate) unsafe fn copy_in(&self, position: usize, src: &[T])
    where
        T: Copy,
    {
        let span = self.span(position, src.len());
        self.tracker.write(position, src.len());
        let (head, rest) = src.split_at(span.first_len);
        // SAFETY: the span lies inside the slot array, the slots are free and only the
        // producer touches them (delegated to the caller). `src` cannot overlap them: a
        // `&[T]` covers initialised values only, and the only ones the ring lends out are
        // the consumer's ready items (`peek`, `ReadChunk`), which sit in the slots between
        // head and tail, never in the free slots from the tail on that this run fills; any
        // other `src` lies outside the slot array.
        unsafe {
            ptr::copy_nonoverlapping(head.as_ptr(), span.first.cast::<T>(), head.len());
            ptr::copy_nonoverlapping(rest.as_ptr(), span.second.cast::<T>(), rest.len());
        }
    }

    /// Copies the run starting at `position` into `dst`.
    ///
    /// # Safety
    /// As for [`Buffer::read`], for the `dst.len()` slots from `position` on.
    #[inline]
    pub(crate) unsafe fn copy_out(&self, position: usize, dst: &mut [T])
    where
        T: Copy,
    {
        let span = self.span(position, dst.len());
        self.tracker.read(position, dst.len());
        let (head, rest) = dst.split_at_mut(span.first_len);
        // SAFETY: the span lies inside the slot array and holds published values only the
        // consumer touches (delegated to the caller); `dst` is a separate `&mut` borrow, so
        // it cannot overlap the slots.
        unsafe {
            ptr::copy_nonoverlapping(span.first.cast::<T>(), head.as_mut_ptr(), head.len());
            ptr::copy_nonoverlapping(span.second.cast::<T>(), rest.as_mut_ptr(), rest.len());
        }
    }
}

/// Drops the values of a run of slots when it goes out of scope, on unwinding too.
struct DropOnExit<T>(*mut [T]);

impl<T> Drop for DropOnExit<T> {
    fn drop(&mut self) {
        // SAFETY: built only in `Buffer::drop_run`, over a run of slots inside the slot
        // array that hold published values only the consumer touches, disjoint from the
        // run dropped before it; each value is dropped once, here.
        unsafe { ptr::drop_in_place(self.0) };
    }
}

impl<T> Drop for Buffer<T> {
    /// Frees the slots. Values still in them were dropped by `Shared::drop` first.
    fn drop(&mut self) {
        let layout = Buffer::<T>::layout(self.capacity()).expect("layout checked at creation");
        if layout.size() != 0 {
            // SAFETY: `slots` came from `alloc::alloc` with this same layout (it depends only
            // on the capacity and `T`) and is freed once, here.
            unsafe { alloc::dealloc(self.slots.as_ptr().cast::<u8>(), layout) };
        }
    }
}

impl<T> fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_slot_array_is_aligned_to_a_line_pair() {
        let b = Buffer::<u8>::new(4);
        assert_eq!(b.base() as usize % SLOT_ARRAY_ALIGN, 0);
        let b = Buffer::<[u64; 8]>::new(1024);
        assert_eq!(b.base() as usize % SLOT_ARRAY_ALIGN, 0);
    }

    #[test]
    fn zero_sized_slots_allocate_nothing() {
        assert_eq!(Buffer::<()>::layout(1 << 40).map(|l| l.size()), Some(0));
        let b = Buffer::<()>::new(8);
        assert_eq!(b.capacity(), 8);
    }

    #[test]
    fn layouts_past_isize_max_are_refused() {
        assert!(Buffer::<u64>::layout(1 << 61).is_none());
        assert!(Buffer::<u64>::layout(1 << 59).is_some());
        assert!(Buffer::<u8>::layout(usize::MAX).is_none());
    }

    #[test]
    fn spans_split_where_the_array_wraps() {
        let b = Buffer::<u32>::new(8);
        let whole = b.span(0, 8);
        assert_eq!((whole.first_len, whole.second_len), (8, 0));
        // Position 14 is index 6: two slots to the end, then three from the start.
        let wrapped = b.span(14, 5);
        assert_eq!((wrapped.first_len, wrapped.second_len), (2, 3));
        assert_eq!(wrapped.first, b.base().wrapping_add(6));
        assert_eq!(wrapped.second, b.base());
        assert_eq!(b.span(usize::MAX, 2).first, b.base().wrapping_add(7));
        assert_eq!(b.span(3, 0).len(), 0);
    }

    #[test]
    fn copies_round_trip_across_the_wrap() {
        let b = Buffer::<u32>::new(4);
        // SAFETY: single-threaded test; slots 3, 4, 5 (indices 3, 0, 1) are written before
        // they are read, and `u32` needs no drop.
        unsafe {
            b.copy_in(3, &[7, 8, 9]);
            let mut out = [0; 3];
            b.copy_out(3, &mut out);
            assert_eq!(out, [7, 8, 9]);
            assert_eq!(b.read(4), 8);
        }
    }
}
