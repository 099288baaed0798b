//! The hot path does not allocate: a counting global allocator watches a steady-state
//! stretch of the synthetic day through all four stages.
//!
//! This file holds one test so no other test thread allocates while it counts.

mod common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicU64, Ordering},
};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's obligations are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_ticks_allocate_nothing() {
    let cfg = common::config(3, "");
    let (pipeline, _) = common::pipeline(&cfg);
    let telemetry = pipeline.telemetry();
    let mut group = pipeline.into_single_group();
    let mut reports = Vec::with_capacity(8);

    // Warm up: past the strategies' warm-up and the first trades, so every buffer has
    // reached its working size.
    while telemetry.feed.ticks.get() < 400_000 {
        group.round(&mut reports);
    }
    let ticks_before = telemetry.feed.ticks.get();
    let orders_before = telemetry.order.orders.get();
    let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);

    while telemetry.feed.ticks.get() < ticks_before + 600_000 {
        group.round(&mut reports);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
    let ticks = telemetry.feed.ticks.get() - ticks_before;
    let orders = telemetry.order.orders.get() - orders_before;
    assert!(reports.is_empty(), "no stage may finish inside the window");
    assert!(
        orders > 0,
        "the window must include orders through all four stages"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {ticks} ticks and {orders} orders"
    );
}
