//! Runs many trials in parallel and aggregates them: the glue between
//! [`crate::engine`] (one trial) and [`crate::stats`] (aggregates).
//!
//! Trials are cut into chunks (at least 64 per worker, at most 4,096 trials)
//! that worker threads take in turn; each worker keeps its own
//! accumulators, merged at the end. Accumulators are
//! exact integers, so the result is bit-identical for any thread count.
//!
//! One pass over the trials gives everything: each model's aggregates
//! ([`RunAcc`]) and, for a comparison, the paired differences and the
//! base's attribution ([`PairedAcc`]), whose tail parts are kept per
//! shortfall band until the tail's threshold is known.

mod acc;
mod paired;

use std::ops::{Index, Range};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub use acc::{RunAcc, RunResult, segment_bounds};
pub use paired::PairedAcc;

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Scratch, TrialOutput};
use crate::error::Error;
use crate::model::Model;

/// Whether two tables have rows of the same lengths and `f` holds for
/// every pair of cells.
fn rows_fit<T>(a: &[Vec<T>], b: &[Vec<T>], f: impl Fn(&T, &T) -> bool) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| f(p, q)))
}

/// Largest number of trials per work unit.
pub const CHUNK: u64 = 4096;
/// Work units per worker thread at least, when the trials allow: a worker
/// that takes the last unit holds up the others for at most 1/64 of its
/// share (with units of 4096 trials, a scenario whose trial takes
/// milliseconds left one of two cores idle for a third of the run).
const UNITS_PER_THREAD: u64 = 64;

/// Trials per work unit for `trials` trials on `threads` workers. The
/// results do not depend on it (each worker's accumulators are exact and
/// merge in any order), only how evenly the work is shared.
fn chunk_size(trials: u64, threads: usize) -> u64 {
    (trials / (threads as u64 * UNITS_PER_THREAD)).clamp(1, CHUNK)
}

/// Largest trial count the exact accumulators support.
pub const MAX_TRIALS: u64 = 1 << 31;

/// Options of one simulation.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub trials: u64,
    pub seed: u64,
    pub threads: usize,
}

fn check_trials(trials: u64) -> Result<(), Error> {
    if trials == 0 || trials > MAX_TRIALS {
        return Err(Error::Usage(format!(
            "--trials must be between 1 and {MAX_TRIALS}, got {trials}"
        )));
    }
    Ok(())
}

/// The outputs of every engine for one trial, read where they lie in the
/// workers' buffers (no copies, no allocation per trial).
#[derive(Clone, Copy)]
pub struct Outputs<'a>(&'a [Scratch]);

impl<'a> Outputs<'a> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a TrialOutput> + 'a {
        self.0.iter().map(Scratch::output)
    }
}

impl Index<usize> for Outputs<'_> {
    type Output = TrialOutput;
    fn index(&self, i: usize) -> &TrialOutput {
        self.0[i].output()
    }
}

/// Runs trials `0..opts.trials` of every engine on `opts.threads` workers.
/// Each worker starts from `init()` and calls `step(state, trial, segment,
/// outputs)` with one output per engine (all on the same random draws);
/// the workers' states are returned for an order-independent merge.
/// `attribute` switches attribution on for the first engine.
pub fn drive<S: Send>(
    engines: &[Engine],
    opts: RunOptions,
    attribute: bool,
    progress: &(dyn Fn(u64) + Sync),
    init: impl Fn() -> S + Sync,
    step: impl Fn(&mut S, u64, usize, Outputs) + Sync,
) -> Result<Vec<S>, Error> {
    drive_range(
        engines,
        opts,
        0..opts.trials,
        attribute,
        progress,
        init,
        step,
    )
}

/// [`drive`] over the trials `range` only (a shard of `0..opts.trials`;
/// segments still count from trial 0).
pub fn drive_range<S: Send>(
    engines: &[Engine],
    opts: RunOptions,
    range: Range<u64>,
    attribute: bool,
    progress: &(dyn Fn(u64) + Sync),
    init: impl Fn() -> S + Sync,
    step: impl Fn(&mut S, u64, usize, Outputs) + Sync,
) -> Result<Vec<S>, Error> {
    check_trials(opts.trials)?;
    let threads = opts.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Other(format!("cannot start {threads} worker threads: {e}")))?;
    let next = AtomicU64::new(0);
    let range = range.start.min(opts.trials)..range.end.min(opts.trials);
    let n_trials = range.end - range.start.min(range.end);
    let chunk = chunk_size(n_trials, threads);
    let n_chunks = n_trials.div_ceil(chunk);
    let results: Mutex<Vec<S>> = Mutex::new(Vec::new());
    let bounds = segment_bounds(opts.trials);
    // Commodities a model simulates exactly as the first one does are copied
    // from it, not simulated again (common random numbers make them equal).
    let same = &shared(engines);
    // Models that draw the same hits as the first one take its draws.
    let same_draws = &engines
        .iter()
        .map(|e| e.same_draws(&engines[0]))
        .collect::<Vec<_>>();
    pool.scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| {
                let mut scratch: Vec<_> = engines.iter().map(|e| e.scratch()).collect();
                if let Some(sc) = scratch.first_mut() {
                    sc.attribute = attribute;
                }
                let mut state = init();
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= n_chunks {
                        break;
                    }
                    let lo = range.start + c * chunk;
                    let hi = (lo + chunk).min(range.end);
                    let mut seg = bounds.partition_point(|&b| b <= lo);
                    for trial in lo..hi {
                        while trial >= bounds[seg] {
                            seg += 1;
                        }
                        engines[0].run_trial(trial, &mut scratch[0]);
                        // Every other model steps through the same trial;
                        // commodities it shares with the base are copied.
                        let (base, rest) = scratch.split_at_mut(1);
                        let models = engines[1..].iter().zip(rest).zip(&same[1..]);
                        for (((e, sc), skip), &copy) in models.zip(&same_draws[1..]) {
                            if copy {
                                e.run_trial_on(&base[0], sc, skip);
                            } else {
                                e.run_trial_skipping(trial, sc, skip);
                            }
                            sc.copy_figures(&base[0], skip);
                        }
                        step(&mut state, trial, seg, Outputs(&scratch));
                    }
                    progress(hi - lo);
                }
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(state);
            });
        }
    });
    Ok(results.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// Runs `trials` trials of every model (the same trial numbers, hence the
/// same random draws, for all of them); `progress` is called with the number
/// of trials just finished.
pub fn run(
    models: &[&Model],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<RunResult>, Error> {
    check_trials(opts.trials)?;
    let engines: Vec<Engine> = models.iter().map(|m| Engine::new(m, opts.seed)).collect();
    run_engines(&engines, opts, progress)
}

/// [`run`] on engines built by the caller.
pub fn run_engines(
    engines: &[Engine],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<RunResult>, Error> {
    let totals = accumulate(engines, opts, false, 0..opts.trials, progress)?;
    Ok(totals.finish(engines).0)
}

/// The aggregates of a range of trials, not yet finished: what one shard
/// computes, and what shards add up to (in any order, to the same bits).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Totals {
    pub runs: Vec<RunAcc>,
    pub pairs: Option<PairedAcc>,
}

/// Per engine, the commodities it computes exactly as the base (engine 0)
/// does; empty for the base itself.
pub(crate) fn shared(engines: &[Engine]) -> Vec<Vec<bool>> {
    engines
        .iter()
        .enumerate()
        .map(|(e, en)| match e {
            0 => Vec::new(),
            _ => en.same_commodities(&engines[0]),
        })
        .collect()
}

impl Totals {
    /// Empty aggregates for `engines` over `trials` trials in all.
    pub fn new(engines: &[Engine], trials: u64, paired: bool) -> Totals {
        Totals {
            runs: engines.iter().map(|e| RunAcc::new(e, trials)).collect(),
            pairs: paired.then(|| PairedAcc::new(engines)),
        }
    }

    pub fn merge(&mut self, o: &Totals) {
        for (t, x) in self.runs.iter_mut().zip(&o.runs) {
            t.merge(x);
        }
        if let (Some(t), Some(x)) = (self.pairs.as_mut(), &o.pairs) {
            t.merge(x);
        }
    }

    /// Whether `o` has the shape of these aggregates (the same models,
    /// commodities, series and months), so that merging it is meaningful.
    pub fn fits(&self, o: &Totals) -> bool {
        self.runs.len() == o.runs.len()
            && self.runs.iter().zip(&o.runs).all(|(a, b)| a.fits(b))
            && match (&self.pairs, &o.pairs) {
                (Some(a), Some(b)) => a.fits(b),
                (None, None) => true,
                _ => false,
            }
    }

    /// The final results: shared commodities copied from the base, cached
    /// trials folded in.
    pub fn finish(self, engines: &[Engine]) -> (Vec<RunResult>, Option<PairedAcc>) {
        let same = shared(engines);
        let mut runs = self.runs;
        let (base, rest) = runs.split_at_mut(1);
        for (acc, skip) in rest.iter_mut().zip(&same[1..]) {
            for k in (0..skip.len()).filter(|&k| skip[k]) {
                acc.copy_commodity(&base[0], k);
            }
        }
        let results = runs
            .into_iter()
            .zip(engines)
            .map(|(acc, e)| acc.finish(e))
            .collect();
        (results, self.pairs.map(|p| p.finish(engines)))
    }
}

/// Accumulates the trials `range` of `0..opts.trials` in one pass: every
/// model's aggregates and, with `paired`, the paired differences of each
/// strategy (engines 1..) against the base (engine 0) and the base's
/// attribution.
pub fn accumulate(
    engines: &[Engine],
    opts: RunOptions,
    paired: bool,
    range: Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Totals, Error> {
    let new = || Totals::new(engines, opts.trials, paired);
    // A commodity a strategy shares with the base is accumulated once.
    let same = shared(engines);
    let parts = drive_range(
        engines,
        opts,
        range,
        paired,
        progress,
        new,
        |t: &mut Totals, _, seg, outs| {
            for ((acc, out), skip) in t.runs.iter_mut().zip(outs.iter()).zip(&same) {
                acc.add(out, seg, skip);
            }
            if let Some(p) = &mut t.pairs {
                p.add(engines, outs);
            }
        },
    )?;
    // Merged into one worker's aggregates, each other one dropped as soon
    // as it is in (exact sums: the order does not matter), so the peak holds
    // one set of aggregates per worker, not one more for the total.
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_else(new);
    for p in parts {
        total.merge(&p);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units shrink until every worker gets many, never below one trial nor
    /// above `CHUNK`, and always cover the trials.
    #[test]
    fn chunks_share_the_trials_evenly() {
        assert_eq!(chunk_size(10_000, 2), 78);
        assert_eq!(chunk_size(10_000_000, 2), CHUNK);
        assert_eq!(chunk_size(5, 2), 1);
        assert_eq!(chunk_size(0, 1), 1);
        for (trials, threads) in [(1u64, 1usize), (200, 2), (10_000, 3), (1 << 31, 8)] {
            let c = chunk_size(trials, threads);
            let units = trials.div_ceil(c);
            assert!(units * c >= trials && (units - 1) * c < trials);
            assert!(units >= (threads as u64 * UNITS_PER_THREAD).min(trials));
        }
    }
}
