//! One model's aggregates over all trials: the §5 series, the monthly
//! bands and the convergence record.

use serde::{Deserialize, Serialize};

use super::rows_fit;
use crate::engine::{Engine, Figures, TrialOutput};
use crate::model::Model;
use crate::stats::{Metrics, MonthHist, SeriesAcc};

/// Aggregates of one model over all trials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunAcc {
    /// `series[k][i]`: commodity k, series i (consumers, ROW, world).
    pub series: Vec<Vec<SeriesAcc>>,
    /// `monthly[k][t]`: world shortfall fraction in month t (its zeros are
    /// counted in [`RunAcc::finish`], from the commodity's trial count).
    pub monthly: Vec<Vec<MonthHist>>,
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

/// Horizons up to which the monthly bands have 1e-3 bins; longer ones have
/// 5e-3 bins, so memory grows five times slower with the months.
pub const FINE_MONTHLY_UP_TO: usize = 120;

/// The histogram of one month's world shortfall (figure-only).
fn monthly_hist(horizon: usize) -> MonthHist {
    if horizon <= FINE_MONTHLY_UP_TO {
        MonthHist::coarse()
    } else {
        MonthHist::with_bins(200)
    }
}

impl RunAcc {
    pub fn new(engine: &Engine, trials: u64) -> RunAcc {
        let nk = engine.model.commodities.len();
        let bounds = segment_bounds(trials);
        RunAcc {
            series: vec![vec![SeriesAcc::default(); engine.series()]; nk],
            monthly: vec![vec![monthly_hist(engine.model.horizon); engine.model.horizon]; nk],
            cached: vec![0; nk],
            segments: vec![vec![SeriesAcc::coarse(); nk]; bounds.len()],
            seg_cached: vec![vec![0; nk]; bounds.len()],
            bounds,
        }
    }

    /// Adds one trial that belongs to convergence segment `seg`, except the
    /// commodities in `skip` (those [`RunAcc::copy_commodity`] fills).
    #[inline]
    pub fn add(&mut self, out: &TrialOutput, seg: usize, skip: &[bool]) {
        for (k, touched) in out.touched.iter().enumerate() {
            if skip.get(k) == Some(&true) {
                continue;
            }
            if !touched {
                self.cached[k] += 1;
                self.seg_cached[seg][k] += 1;
                continue;
            }
            let f = &out.figures[k];
            self.add_figures(k, f, 1);
            let w = f.shortfall.len() - 1;
            self.segments[seg][k].add(f.shortfall[w], 0.0, 0, false, 1);
        }
    }

    /// Adds commodity `k`'s figures of one trial `n` times to its series and
    /// monthly histograms.
    #[inline]
    fn add_figures(&mut self, k: usize, f: &Figures, n: u64) {
        for (i, acc) in self.series[k].iter().enumerate() {
            acc.prefetch(f.shortfall[i], f.peak[i]);
        }
        for (h, &x) in self.monthly[k].iter().zip(&f.monthly_world) {
            h.prefetch(x);
        }
        for (i, acc) in self.series[k].iter_mut().enumerate() {
            acc.add(
                f.shortfall[i],
                f.peak[i],
                f.months_short[i],
                f.stockout[i],
                n,
            );
        }
        // Zero months are not added: they are what the commodity's trial
        // count leaves, set once in `finish`.
        for (h, &x) in self.monthly[k].iter_mut().zip(&f.monthly_world) {
            if x > 0.0 {
                h.add(x, n);
            }
        }
    }

    /// Takes commodity `k`'s aggregates from `from`, a model that computes
    /// the same figures of `k` in every trial.
    pub fn copy_commodity(&mut self, from: &RunAcc, k: usize) {
        self.series[k].clone_from(&from.series[k]);
        self.monthly[k].clone_from(&from.monthly[k]);
        self.cached[k] = from.cached[k];
        for (a, b) in self.segments.iter_mut().zip(&from.segments) {
            a[k].clone_from(&b[k]);
        }
        for (a, b) in self.seg_cached.iter_mut().zip(&from.seg_cached) {
            a[k] = b[k];
        }
    }

    /// Whether `o` (maybe read from a file) has the shape of these
    /// aggregates: commodities, series, months, segments and bins.
    pub fn fits(&self, o: &RunAcc) -> bool {
        self.bounds == o.bounds
            && self.cached.len() == o.cached.len()
            && rows_fit(&self.series, &o.series, SeriesAcc::fits)
            && rows_fit(&self.monthly, &o.monthly, MonthHist::fits)
            && rows_fit(&self.segments, &o.segments, SeriesAcc::fits)
            && rows_fit(&self.seg_cached, &o.seg_cached, |_, _| true)
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
            self.add_figures(k, &engine.cached[k], n);
        }
        for (series, months) in self.series.iter().zip(&mut self.monthly) {
            let trials = series.first().map_or(0, |s| s.n);
            for h in months {
                h.set_zeros_from_total(trials);
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
