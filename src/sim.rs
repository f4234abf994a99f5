//! Runs many trials in parallel and aggregates them: the glue between
//! [`crate::engine`] (one trial) and [`crate::stats`] (aggregates).
//!
//! Trials are cut into fixed chunks that worker threads take in turn; each
//! worker keeps its own accumulators, merged at the end. Accumulators are
//! exact integers, so the result is bit-identical for any thread count.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::{Engine, TrialOutput};
use crate::error::Error;
use crate::model::Model;
use crate::stats::{Hist, Metrics, SeriesAcc};

/// Trials per work unit.
pub const CHUNK: u64 = 4096;
/// Largest trial count the exact accumulators support.
pub const MAX_TRIALS: u64 = 1 << 31;

/// Aggregates of one model over all trials.
#[derive(Debug, Clone)]
pub struct RunAcc {
    /// `series[k][i]`: commodity k, series i (consumers, ROW, world).
    pub series: Vec<Vec<SeriesAcc>>,
    /// `monthly[k][t]`: world shortfall fraction in month t.
    pub monthly: Vec<Vec<Hist>>,
    /// Trials in which commodity k was untouched (its cached figures apply).
    cached: Vec<u64>,
    /// Convergence: `segments[g][k]`, the world series of commodity k over the
    /// trials of segment g (see [`segment_bounds`]), and the untouched counts.
    pub segments: Vec<Vec<SeriesAcc>>,
    seg_cached: Vec<Vec<u64>>,
    /// Upper trial bound of each segment.
    pub bounds: Vec<u64>,
}

/// Segment upper bounds for the convergence record: about 1000 * 2^(i/2)
/// trials, then `trials`.
pub fn segment_bounds(trials: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let mut i = 0;
    loop {
        let b = (1000.0 * 2f64.powf(i as f64 / 2.0)).ceil() as u64;
        if b >= trials {
            break;
        }
        v.push(b);
        i += 1;
    }
    v.push(trials);
    v
}

impl RunAcc {
    pub fn new(engine: &Engine, trials: u64) -> RunAcc {
        let nk = engine.model.commodities.len();
        let bounds = segment_bounds(trials);
        RunAcc {
            series: vec![vec![SeriesAcc::default(); engine.series()]; nk],
            monthly: vec![vec![Hist::coarse(); engine.model.horizon]; nk],
            cached: vec![0; nk],
            segments: vec![vec![SeriesAcc::coarse(); nk]; bounds.len()],
            seg_cached: vec![vec![0; nk]; bounds.len()],
            bounds,
        }
    }

    /// Adds one trial that belongs to convergence segment `seg`.
    #[inline]
    pub fn add(&mut self, out: &TrialOutput, seg: usize) {
        for (k, touched) in out.touched.iter().enumerate() {
            if !touched {
                self.cached[k] += 1;
                self.seg_cached[seg][k] += 1;
                continue;
            }
            let f = &out.figures[k];
            for (i, acc) in self.series[k].iter_mut().enumerate() {
                acc.add(
                    f.shortfall[i],
                    f.peak[i],
                    f.months_short[i],
                    f.stockout[i],
                    1,
                );
            }
            let w = f.shortfall.len() - 1;
            self.segments[seg][k].add(f.shortfall[w], 0.0, 0, false, 1);
            for (h, &x) in self.monthly[k].iter_mut().zip(&f.monthly_world) {
                h.add(x, 1);
            }
        }
    }

    pub fn merge(&mut self, o: &RunAcc) {
        for (a, b) in self.series.iter_mut().zip(&o.series) {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
        for (a, b) in self.monthly.iter_mut().zip(&o.monthly) {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
        for (a, b) in self.cached.iter_mut().zip(&o.cached) {
            *a += b;
        }
        for (a, b) in self.segments.iter_mut().zip(&o.segments) {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
        for (a, b) in self.seg_cached.iter_mut().zip(&o.seg_cached) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// Folds the untouched trials' cached figures in; call once, at the end.
    pub fn finish(mut self, engine: &Engine) -> RunResult {
        for k in 0..self.series.len() {
            let n = std::mem::take(&mut self.cached[k]);
            if n == 0 {
                continue;
            }
            let f = &engine.cached[k];
            for (i, acc) in self.series[k].iter_mut().enumerate() {
                acc.add(
                    f.shortfall[i],
                    f.peak[i],
                    f.months_short[i],
                    f.stockout[i],
                    n,
                );
            }
            for (h, &x) in self.monthly[k].iter_mut().zip(&f.monthly_world) {
                h.add(x, n);
            }
        }
        let w = engine.series() - 1;
        for (seg, cached) in self.segments.iter_mut().zip(&mut self.seg_cached) {
            for (k, acc) in seg.iter_mut().enumerate() {
                let n = std::mem::take(&mut cached[k]);
                if n > 0 {
                    let f = &engine.cached[k];
                    acc.add(f.shortfall[w], 0.0, 0, false, n);
                }
            }
        }
        RunResult::new(engine.model, self)
    }
}

/// Final aggregates of one model.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub acc: RunAcc,
    /// `metrics[k][i]` for commodity k, series i.
    pub metrics: Vec<Vec<Metrics>>,
}

impl RunResult {
    fn new(model: &Model, acc: RunAcc) -> RunResult {
        let nj = model.n_consumers();
        let metrics = acc
            .series
            .iter()
            .enumerate()
            .map(|(k, row)| {
                row.iter()
                    .enumerate()
                    .map(|(i, a)| a.metrics(i < nj && model.commodities[k].has_stockpile[i]))
                    .collect()
            })
            .collect();
        RunResult { acc, metrics }
    }
}

/// Options of one simulation.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub trials: u64,
    pub seed: u64,
    pub threads: usize,
}

/// Runs `trials` trials of every engine (the same trial numbers, hence the same
/// random draws, for all of them); `progress` is called with the number of
/// trials just finished.
pub fn run(
    models: &[&Model],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<RunResult>, Error> {
    if opts.trials == 0 || opts.trials > MAX_TRIALS {
        return Err(Error::Usage(format!(
            "--trials must be between 1 and {MAX_TRIALS}, got {}",
            opts.trials
        )));
    }
    let engines: Vec<Engine> = models.iter().map(|m| Engine::new(m, opts.seed)).collect();
    let threads = opts.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Other(format!("cannot start {threads} worker threads: {e}")))?;
    let next = AtomicU64::new(0);
    let n_chunks = opts.trials.div_ceil(CHUNK);
    let results: Mutex<Vec<Vec<RunAcc>>> = Mutex::new(Vec::new());
    let bounds = segment_bounds(opts.trials);
    pool.scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| {
                let mut scratch: Vec<_> = engines.iter().map(|e| e.scratch()).collect();
                let mut accs: Vec<RunAcc> = engines
                    .iter()
                    .map(|e| RunAcc::new(e, opts.trials))
                    .collect();
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= n_chunks {
                        break;
                    }
                    let lo = c * CHUNK;
                    let hi = (lo + CHUNK).min(opts.trials);
                    let mut seg = bounds.partition_point(|&b| b <= lo);
                    for trial in lo..hi {
                        while trial >= bounds[seg] {
                            seg += 1;
                        }
                        for ((e, sc), acc) in
                            engines.iter().zip(scratch.iter_mut()).zip(accs.iter_mut())
                        {
                            acc.add(e.run_trial(trial, sc), seg);
                        }
                    }
                    progress(hi - lo);
                }
                results.lock().unwrap_or_else(|p| p.into_inner()).push(accs);
            });
        }
    });
    let parts = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut total: Vec<RunAcc> = engines
        .iter()
        .map(|e| RunAcc::new(e, opts.trials))
        .collect();
    for part in &parts {
        for (t, p) in total.iter_mut().zip(part) {
            t.merge(p);
        }
    }
    Ok(total
        .into_iter()
        .zip(&engines)
        .map(|(acc, e)| acc.finish(e))
        .collect())
}
