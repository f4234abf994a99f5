//! Runs many trials in parallel and aggregates them: the glue between
//! [`crate::engine`] (one trial) and [`crate::stats`] (aggregates).
//!
//! Trials are cut into fixed chunks that worker threads take in turn; each
//! worker keeps its own accumulators, merged at the end. Accumulators are
//! exact integers, so the result is bit-identical for any thread count.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::{AttribPart, Engine, Figures, TrialOutput};
use crate::error::Error;
use crate::model::Model;
use crate::stats::{AttribAcc, Hist, Metrics, PairAcc, SeriesAcc};

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

fn check_trials(trials: u64) -> Result<(), Error> {
    if trials == 0 || trials > MAX_TRIALS {
        return Err(Error::Usage(format!(
            "--trials must be between 1 and {MAX_TRIALS}, got {trials}"
        )));
    }
    Ok(())
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
    step: impl Fn(&mut S, u64, usize, &[&TrialOutput]) + Sync,
) -> Result<Vec<S>, Error> {
    check_trials(opts.trials)?;
    let threads = opts.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Other(format!("cannot start {threads} worker threads: {e}")))?;
    let next = AtomicU64::new(0);
    let n_chunks = opts.trials.div_ceil(CHUNK);
    let results: Mutex<Vec<S>> = Mutex::new(Vec::new());
    let bounds = segment_bounds(opts.trials);
    // Commodities a model simulates exactly as the first one does are copied
    // from it, not simulated again (common random numbers make them equal).
    let same: Vec<Vec<bool>> = engines
        .iter()
        .map(|e| e.same_commodities(&engines[0]))
        .collect();
    let same = &same;
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
                    let lo = c * CHUNK;
                    let hi = (lo + CHUNK).min(opts.trials);
                    let mut seg = bounds.partition_point(|&b| b <= lo);
                    for trial in lo..hi {
                        while trial >= bounds[seg] {
                            seg += 1;
                        }
                        if engines.len() == 1 {
                            let out = engines[0].run_trial(trial, &mut scratch[0]);
                            step(&mut state, trial, seg, &[out]);
                        } else {
                            // Every model steps through the trial, then the
                            // outputs are read where they lie (no copies).
                            engines[0].run_trial(trial, &mut scratch[0]);
                            let (base, rest) = scratch.split_at_mut(1);
                            for ((e, sc), skip) in engines[1..].iter().zip(rest).zip(&same[1..]) {
                                e.run_trial_skipping(trial, sc, skip);
                                sc.copy_figures(&base[0], skip);
                            }
                            let refs: Vec<&TrialOutput> =
                                scratch.iter().map(|sc| sc.output()).collect();
                            step(&mut state, trial, seg, &refs);
                        }
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
    let new = || -> Vec<RunAcc> {
        engines
            .iter()
            .map(|e| RunAcc::new(e, opts.trials))
            .collect()
    };
    let parts = drive(engines, opts, false, progress, new, |accs, _, seg, outs| {
        for (acc, out) in accs.iter_mut().zip(outs) {
            acc.add(out, seg);
        }
    })?;
    let mut total = new();
    for part in &parts {
        for (t, p) in total.iter_mut().zip(part) {
            t.merge(p);
        }
    }
    Ok(total
        .into_iter()
        .zip(engines)
        .map(|(acc, e)| acc.finish(e))
        .collect())
}

/// Second-pass accumulators: per strategy (engine 1..), per commodity and
/// series, the paired differences against the base; and the base's
/// attribution per commodity and series.
#[derive(Debug, Clone)]
pub struct PairedAcc {
    pub pairs: Vec<Vec<Vec<PairAcc>>>,
    pub attrib: Vec<Vec<AttribAcc>>,
    /// `both_cached[s][k]`: trials where commodity k was untouched in the base and in strategy s.
    both_cached: Vec<Vec<u64>>,
    base_cached: Vec<u64>,
}

impl PairedAcc {
    fn new(engines: &[Engine]) -> PairedAcc {
        let base = &engines[0];
        let nk = base.model.commodities.len();
        let series = base.series();
        PairedAcc {
            pairs: vec![vec![vec![PairAcc::default(); series]; nk]; engines.len() - 1],
            attrib: vec![
                vec![
                    AttribAcc::new(base.sources.len(), base.model.n_countries() + 1);
                    series
                ];
                nk
            ],
            both_cached: vec![vec![0; nk]; engines.len() - 1],
            base_cached: vec![0; nk],
        }
    }

    fn merge(&mut self, o: &PairedAcc) {
        for (a, b) in self
            .pairs
            .iter_mut()
            .flatten()
            .flatten()
            .zip(o.pairs.iter().flatten().flatten())
        {
            a.merge(b);
        }
        for (a, b) in self
            .attrib
            .iter_mut()
            .flatten()
            .zip(o.attrib.iter().flatten())
        {
            a.merge(b);
        }
        for (a, b) in self
            .both_cached
            .iter_mut()
            .flatten()
            .zip(o.both_cached.iter().flatten())
        {
            *a += b;
        }
        for (a, b) in self.base_cached.iter_mut().zip(&o.base_cached) {
            *a += b;
        }
    }
}

/// Adds a trial's attribution of commodity `k` (all series) to `acc`.
fn add_attrib(acc: &mut [AttribAcc], f: &Figures, parts: &[AttribPart], vars: &[f64], n: u64) {
    for (i, a) in acc.iter_mut().enumerate() {
        let it = parts
            .iter()
            .filter(move |p| p.series as usize == i)
            .map(|p| (p.source as usize, p.country as usize, p.value));
        a.add(f.shortfall[i], vars[i], it, n);
    }
}

/// The second pass of a comparison: the same trials again, now that each
/// run's p95 is known, for paired differences of every strategy against the
/// base (engine 0) and the base's attribution.
// Indices run over several parallel per-commodity arrays at once.
#[allow(clippy::needless_range_loop)]
pub fn run_paired(
    engines: &[Engine],
    results: &[RunResult],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PairedAcc, Error> {
    // vars[e][k][i]: p95 of engine e, commodity k, series i
    let vars: Vec<Vec<Vec<f64>>> = results
        .iter()
        .map(|r| {
            r.metrics
                .iter()
                .map(|row| row.iter().map(|m| m.p95).collect())
                .collect()
        })
        .collect();
    let parts = drive(
        engines,
        opts,
        true,
        progress,
        || PairedAcc::new(engines),
        |acc, _, _, outs| {
            let base = outs[0];
            let be = &engines[0];
            for k in 0..be.model.commodities.len() {
                let bf = base.figures(be, k);
                if base.touched[k] {
                    add_attrib(
                        &mut acc.attrib[k],
                        bf,
                        base.attribution(be, k),
                        &vars[0][k],
                        1,
                    );
                } else {
                    acc.base_cached[k] += 1;
                }
                for (si, out) in outs[1..].iter().enumerate() {
                    if !base.touched[k] && !out.touched[k] {
                        acc.both_cached[si][k] += 1;
                        continue;
                    }
                    let sf = out.figures(&engines[si + 1], k);
                    for (i, p) in acc.pairs[si][k].iter_mut().enumerate() {
                        p.add(
                            bf.shortfall[i],
                            sf.shortfall[i],
                            vars[0][k][i],
                            vars[si + 1][k][i],
                            1,
                        );
                    }
                }
            }
        },
    )?;
    let mut total = PairedAcc::new(engines);
    for p in &parts {
        total.merge(p);
    }
    // fold in the cached trials
    let be = &engines[0];
    for k in 0..be.model.commodities.len() {
        let n = std::mem::take(&mut total.base_cached[k]);
        if n > 0 {
            add_attrib(
                &mut total.attrib[k],
                &be.cached[k],
                &be.cached_attrib[k],
                &vars[0][k],
                n,
            );
        }
        for si in 0..engines.len() - 1 {
            let n = std::mem::take(&mut total.both_cached[si][k]);
            if n > 0 {
                let (bf, sf) = (&be.cached[k], &engines[si + 1].cached[k]);
                for (i, p) in total.pairs[si][k].iter_mut().enumerate() {
                    p.add(
                        bf.shortfall[i],
                        sf.shortfall[i],
                        vars[0][k][i],
                        vars[si + 1][k][i],
                        n,
                    );
                }
            }
        }
    }
    Ok(total)
}
