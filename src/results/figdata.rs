//! The data behind the figures, computed once from a run and stored in
//! `summary.json` under `figures`, so `crmsim plot` can redraw every figure
//! without simulating again. Figures read these numbers; they compute none.

use serde::{Deserialize, Serialize};

use super::concentration::{self, StageConcentration};
use super::series_ids;
use crate::model::{Model, WORLD};
use crate::sim::RunResult;

/// Points of the exceedance curves: x = 0, then 30 per decade from 1e-4 to 1.
pub fn exceedance_grid() -> Vec<f64> {
    let mut v = vec![0.0];
    for i in 0..=120 {
        v.push(10f64.powf(-4.0 + i as f64 / 30.0));
    }
    v
}

/// Bins of the world-shortfall histogram.
pub const HIST_BINS: usize = 40;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExceedanceCurve {
    pub strategy: String,
    pub commodity: String,
    pub consumer: String,
    /// `[x, P(shortfall > x)]`, x ascending; stops after the first zero probability.
    pub points: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Histogram {
    pub strategy: String,
    pub commodity: String,
    pub consumer: String,
    pub trials: u64,
    /// Trials with no shortfall at all.
    pub zero_count: u64,
    /// `HIST_BINS + 1` edges of equal bins on (0, max shortfall].
    pub edges: Vec<f64>,
    /// Trials with a positive shortfall in each bin.
    pub counts: Vec<u64>,
    pub mean: f64,
    pub p95: f64,
    pub cvar95: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MonthlyBands {
    pub strategy: String,
    pub commodity: String,
    /// Per month, quantiles of the world shortfall in that month as a
    /// fraction of monthly world demand.
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
    pub p99: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Convergence {
    pub commodity: String,
    pub consumer: String,
    /// Running trial counts.
    pub trials: Vec<u64>,
    pub mean: Vec<f64>,
    /// Half-width of the 95% confidence interval of the mean.
    pub mean_ci: Vec<f64>,
    pub cvar95: Vec<f64>,
    /// Half-width of the 95% confidence interval of cvar95.
    pub cvar95_ci: Vec<f64>,
}

/// Everything the figures need.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FigureData {
    pub exceedance: Vec<ExceedanceCurve>,
    pub histograms: Vec<Histogram>,
    pub monthly: Vec<MonthlyBands>,
    pub convergence: Vec<Convergence>,
    pub concentration: Vec<StageConcentration>,
}

impl FigureData {
    /// Figure data of a base run and any strategies (`(id, model, run)`, base first).
    pub fn new(runs: &[(&str, &Model, &RunResult)]) -> FigureData {
        let grid = exceedance_grid();
        let mut fd = FigureData {
            exceedance: Vec::new(),
            histograms: Vec::new(),
            monthly: Vec::new(),
            convergence: Vec::new(),
            concentration: runs
                .first()
                .map(|(_, m, _)| concentration::concentration(m))
                .unwrap_or_default(),
        };
        for (si, (strategy, model, run)) in runs.iter().enumerate() {
            let ids = series_ids(model);
            let world = ids.len() - 1;
            for (k, cm) in model.commodities.iter().enumerate() {
                for (i, id) in ids.iter().enumerate() {
                    let acc = &run.acc.series[k][i];
                    let mut points = Vec::new();
                    for (&x, p) in grid.iter().zip(acc.probs_above(&grid)) {
                        points.push([x, p]);
                        if p <= 0.0 {
                            break;
                        }
                    }
                    fd.exceedance.push(ExceedanceCurve {
                        strategy: strategy.to_string(),
                        commodity: cm.id.clone(),
                        consumer: id.clone(),
                        points,
                    });
                }
                let acc = &run.acc.series[k][world];
                let hi = acc.shortfall.max();
                let m = &run.metrics[k][world];
                fd.histograms.push(Histogram {
                    strategy: strategy.to_string(),
                    commodity: cm.id.clone(),
                    consumer: WORLD.to_string(),
                    trials: acc.n,
                    zero_count: acc.shortfall.zeros(),
                    edges: (0..=HIST_BINS)
                        .map(|i| hi * i as f64 / HIST_BINS as f64)
                        .collect(),
                    counts: acc.shortfall.rebin(hi, HIST_BINS),
                    mean: m.mean,
                    p95: m.p95,
                    cvar95: m.cvar95,
                });
                let months = &run.acc.monthly[k];
                let q = |num: u64, den: u64| -> Vec<f64> {
                    months
                        .iter()
                        .map(|h| {
                            let n = h.total().max(1);
                            h.kth((num as u128 * n as u128).div_ceil(den as u128) as u64)
                        })
                        .collect()
                };
                fd.monthly.push(MonthlyBands {
                    strategy: strategy.to_string(),
                    commodity: cm.id.clone(),
                    p50: q(1, 2),
                    p90: q(9, 10),
                    p99: q(99, 100),
                });
                if si == 0 {
                    let mut prefix = crate::stats::SeriesAcc::coarse();
                    let mut c = Convergence {
                        commodity: cm.id.clone(),
                        consumer: WORLD.to_string(),
                        trials: Vec::new(),
                        mean: Vec::new(),
                        mean_ci: Vec::new(),
                        cvar95: Vec::new(),
                        cvar95_ci: Vec::new(),
                    };
                    for (seg, &bound) in run.acc.segments.iter().zip(&run.acc.bounds) {
                        prefix.merge(&seg[k]);
                        let (mean, mci, cvar, cci) = prefix.mean_cvar_ci();
                        c.trials.push(bound);
                        c.mean.push(mean);
                        c.mean_ci.push(mci);
                        c.cvar95.push(cvar);
                        c.cvar95_ci.push(cci);
                    }
                    fd.convergence.push(c);
                }
            }
        }
        fd
    }
}
