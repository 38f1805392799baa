//! A tiny fork-join pool of helper threads for splitting one kernel call.
//!
//! Why not rayon: a `rayon::join` from a thread outside rayon's pool injects
//! the job into a global queue that allocates a new block every 63 jobs
//! (measured: 17 allocations per 1000 joins) and then blocks the caller on a
//! mutex/condvar latch (about 13 µs per join on this machine). A training
//! step must allocate nothing and its GEMMs take 10–300 µs, so kiln keeps its
//! own helpers instead: threads spawned once when an executable is loaded,
//! woken through an atomic generation counter. A call publishes a borrowed
//! closure, runs part 0 itself, and spins until the helpers have run parts
//! `1..parts`: no allocation, no lock, and a hand-off of well under a
//! microsecond while the helpers are still spinning.
//!
//! Helpers spin for [`SPIN`] after their last job, then park until a call
//! (or [`Workers::wake`]) unparks them. Waking a parked thread costs tens of
//! microseconds in this VM (measured: a 128x784x256 product ran at 340
//! instead of 430 GFLOP/s on 2 threads when every call had to wake its
//! helper), so an executable wakes its helpers when a run starts: by its
//! first large GEMM they are spinning, and GEMMs less than [`SPIN`] apart
//! keep them awake for the rest of the step. Like OpenMP runtimes' spin-wait,
//! this burns the helpers' cores for up to [`SPIN`] after the last job.

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle helper spins before parking.
const SPIN: Duration = Duration::from_millis(1);

/// A borrowed job, its lifetime erased while it is published.
type Job = *const (dyn Fn(usize) + Sync);

struct Shared {
    /// `(call number << 8) | parts`, bumped once per call (and once, with 0
    /// parts, to quit); helpers wait for a change. The number of parts
    /// travels in the same word as the call number, so a helper decides
    /// whether it has a part in *this* call without reading `job`: a helper
    /// with no part never touches `job`, which the caller may already be
    /// rewriting for the next call.
    generation: AtomicUsize,
    /// The current job; written only by the caller before it bumps
    /// `generation`, read only by helpers that have a part in that call.
    job: UnsafeCell<Option<Job>>,
    /// Helpers still running their part of the current call.
    remaining: AtomicUsize,
    panicked: AtomicBool,
    quit: AtomicBool,
}

// SAFETY: `job` is written only by the single caller of `Workers::run` (which
// takes `&self` but is the only writer, see `run`) strictly before the
// Release bump of `generation`, and read only by helpers that have a part in
// that call (known from the generation word itself), after an Acquire load
// sees the bump and before they decrement `remaining`; the caller waits for
// exactly those helpers before it returns and writes `job` again.
// Everything else is atomic.
unsafe impl Sync for Shared {}
// SAFETY: as above; the raw job pointer is only dereferenced during a call,
// while the closure it points to is alive on the caller's stack.
unsafe impl Send for Shared {}

/// Helper threads for one executable (`threads - 1` of them; the caller is
/// thread 0).
pub struct Workers {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
    /// Serializes callers, so `run` can take `&self`.
    busy: AtomicBool,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Workers({} threads)", self.threads())
    }
}

impl Workers {
    /// A pool in which `threads` threads (the caller included) share work:
    /// spawns `threads - 1` helpers.
    pub fn new(threads: usize) -> Workers {
        let shared = Arc::new(Shared {
            generation: AtomicUsize::new(0),
            job: UnsafeCell::new(None),
            remaining: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            quit: AtomicBool::new(false),
        });
        // The part count shares a word with the call number: at most 255 threads.
        let handles = (1..threads.clamp(1, 255))
            .map(|part| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("kiln-worker-{part}"))
                    .spawn(move || helper(&shared, part))
                    .expect("spawning a kiln worker thread")
            })
            .collect();
        Workers {
            shared,
            handles,
            busy: AtomicBool::new(false),
        }
    }

    /// Unparks the helpers so they spin for the next millisecond, ready for a
    /// call (no allocation; a few hundred nanoseconds when they are awake).
    pub fn wake(&self) {
        for h in &self.handles {
            h.thread().unpark();
        }
    }

    /// Threads that share a call, the caller included.
    pub fn threads(&self) -> usize {
        self.handles.len() + 1
    }

    /// Runs `f(0)` on the calling thread and `f(1)..f(parts - 1)` on helpers,
    /// and returns when all are done. `parts` is clamped to `1..=threads()`.
    /// Allocates nothing. A panic in a helper's part is re-raised here.
    pub fn run(&self, parts: usize, f: &(dyn Fn(usize) + Sync)) {
        let parts = parts.clamp(1, self.threads());
        if parts == 1 || self.busy.swap(true, Ordering::Acquire) {
            // One part, or a nested/concurrent call: run everything here.
            for t in 0..parts {
                f(t);
            }
            return;
        }
        let s = &*self.shared;
        // SAFETY: lifetime erasure only: helpers dereference the pointer
        // only before they decrement `remaining`, and this function does not
        // return before `remaining` is zero, so `f` outlives every use.
        let job: Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), Job>(f) };
        // SAFETY: we hold `busy`, so no other caller writes `job`, and every
        // helper that had a part in the previous call finished reading it
        // (remaining was 0); helpers without a part never read it.
        unsafe { *s.job.get() = Some(job) };
        s.remaining.store(parts - 1, Ordering::Relaxed);
        let call = (s.generation.load(Ordering::Relaxed) >> 8).wrapping_add(1);
        s.generation.store((call << 8) | parts, Ordering::Release);
        for h in &self.handles[..parts - 1] {
            h.thread().unpark();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| f(0)));
        let mut spins = 0u32;
        while s.remaining.load(Ordering::Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        self.busy.store(false, Ordering::Release);
        if let Err(p) = mine {
            std::panic::resume_unwind(p);
        }
        if s.panicked.swap(false, Ordering::Relaxed) {
            panic!("a kiln worker thread panicked");
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::Relaxed);
        let call = (self.shared.generation.load(Ordering::Relaxed) >> 8).wrapping_add(1);
        self.shared.generation.store(call << 8, Ordering::Release);
        for h in self.handles.drain(..) {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

fn helper(s: &Shared, part: usize) {
    // The value at creation, not a fresh load: a call may already have been
    // published before this thread got to run.
    let mut seen = 0;
    loop {
        // Wait for the next generation: spin a while, then park.
        let mut start = Instant::now();
        let mut spins = 0u32;
        let now = loop {
            let g = s.generation.load(Ordering::Acquire);
            if g != seen {
                break g;
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(256) || start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                std::thread::park();
                // Woken (by a call, `wake` or spuriously): spin afresh.
                start = Instant::now();
            }
        };
        seen = now;
        if s.quit.load(Ordering::Relaxed) {
            return;
        }
        let parts = now & 0xff;
        if part < parts {
            // SAFETY: we have a part in this call, so the caller wrote `job`
            // before the Release bump we just saw with Acquire, and keeps it
            // (and the closure) alive until we decrement `remaining` below.
            let job = unsafe { *s.job.get() };
            if let Some(job) = job {
                // SAFETY: see above: the closure is alive until `remaining` drops.
                let f = unsafe { &*job };
                if catch_unwind(AssertUnwindSafe(|| f(part))).is_err() {
                    s.panicked.store(true, Ordering::Relaxed);
                }
            }
            s.remaining.fetch_sub(1, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_with_fewer_parts_than_threads_never_mix_jobs() {
        // Helpers without a part in one call must not read the next call's
        // job (this hung before parts traveled with the call number).
        let w = Workers::new(3);
        let total = AtomicUsize::new(0);
        for i in 0..2_000 {
            let parts = 2 + i % 2;
            let f = |_: usize| {
                total.fetch_add(1, Ordering::Relaxed);
            };
            w.run(parts, &f);
        }
        assert_eq!(total.load(Ordering::Relaxed), 1_000 * 2 + 1_000 * 3);
    }

    #[test]
    fn every_part_runs_once() {
        let w = Workers::new(3);
        assert_eq!(w.threads(), 3);
        for parts in 1..=4 {
            let hits: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            for _ in 0..100 {
                w.run(parts, &|t| {
                    hits[t].fetch_add(1, Ordering::Relaxed);
                });
            }
            for (t, h) in hits.iter().enumerate() {
                let want = if t < parts.min(3) { 100 } else { 0 };
                assert_eq!(h.load(Ordering::Relaxed), want, "parts {parts} part {t}");
            }
        }
    }

    #[test]
    fn helper_panics_reach_the_caller() {
        let w = Workers::new(2);
        let r = catch_unwind(AssertUnwindSafe(|| {
            w.run(2, &|t| {
                if t == 1 {
                    panic!("boom");
                }
            })
        }));
        assert!(r.is_err());
        // The pool still works afterwards.
        let n = AtomicUsize::new(0);
        w.run(2, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 2);
    }
}
