//! The engine allocates nothing per trial: once a worker's buffers have
//! grown to the largest trial seen, running further trials (attribution on,
//! as `run` and `compare` do) asks the allocator for no memory at all.
//! Allocations are counted per thread by a wrapper around the system
//! allocator, so tests running on other threads do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crmsim::engine::Engine;

mod common;
use common::baseline;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: no counting while the thread's locals are torn down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is passed on unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn trials_allocate_nothing_once_the_buffers_have_grown() {
    let model = baseline();
    let engine = Engine::new(&model, 42);
    let mut sc = engine.scratch();
    sc.attribute = true;
    // Warm-up: trials 0..10,000 grow every buffer to the largest trial.
    let mut largest = 0;
    for t in 0..10_000u64 {
        engine.run_trial(t, &mut sc);
        let hits: usize = (0..model.commodities.len())
            .map(|k| engine.last_hits(&sc, k).len())
            .sum();
        largest = largest.max(hits);
    }
    // The same trials again: buffers already fit them, so not one allocation.
    let before = allocations();
    let mut simulated = 0;
    for t in 0..10_000u64 {
        let out = engine.run_trial(t, &mut sc);
        simulated += out.touched.iter().filter(|&&x| x).count();
    }
    let during = allocations() - before;
    assert!(simulated > 20_000, "only {simulated} commodity-trials");
    assert!(
        largest > 20,
        "the warm-up saw at most {largest} hits a trial"
    );
    assert_eq!(during, 0, "{during} allocations in 10,000 trials");
    // New trials: only one that outgrows every earlier one may grow a buffer.
    let before = allocations();
    for t in 10_000..40_000u64 {
        engine.run_trial(t, &mut sc);
    }
    let during = allocations() - before;
    assert!(during <= 16, "{during} allocations in 30,000 new trials");
}

#[test]
fn the_counter_sees_allocations() {
    // The check above would pass vacuously if nothing were counted.
    let before = allocations();
    let v: Vec<u64> = std::hint::black_box(vec![1, 2, 3]);
    assert_eq!(allocations() - before, 1);
    drop(v);
}
