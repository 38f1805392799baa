//! Test support (behind the `testing` feature): a global allocator that
//! counts heap allocations per thread, so tests can assert that running a
//! plan allocates nothing. Each test binary installs it with
//! `#[global_allocator] static A: CountingAllocator = CountingAllocator;`.
//! Counting per thread keeps tests running in parallel from disturbing each
//! other; a global count also covers helper threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the allocations of each thread.
pub struct CountingAllocator;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

/// Allocations by every thread (helper threads included).
static GLOBAL_ALLOCS: AtomicUsize = AtomicUsize::new(0);

fn count() {
    // `try_with`: a thread being torn down may still allocate.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    GLOBAL_ALLOCS.fetch_add(1, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// allocator only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap allocations made by this thread so far (with `CountingAllocator` installed).
pub fn allocations() -> usize {
    ALLOCS.with(Cell::get)
}

/// Heap allocations made by all threads so far: use it where a run's helper
/// threads must not allocate either, in a test binary whose other threads are
/// idle meanwhile (one test, or tests serialized by a lock).
pub fn global_allocations() -> usize {
    GLOBAL_ALLOCS.load(Ordering::Relaxed)
}

/// Heap allocations this thread makes while running `f`.
pub fn allocations_during(f: impl FnOnce()) -> usize {
    let before = allocations();
    f();
    allocations() - before
}
