//! One batch of sweep points stepped through the same trials together: every
//! model of the batch runs trial t before any runs trial t + 1 (as `compare`
//! runs its strategies), so the whole batch costs one pass over the trials,
//! and all its models see the same draws (docs/model.md §6, common random
//! numbers).
//!
//! Per model and chosen commodity the batch keeps the §5 accumulator of the
//! chosen series, and the exact sums of the influence values ψ of the metric
//! (see [`super::metric`]): its own, and its paired difference against the
//! base (the batch's first model). Metrics whose ψ depends on the model's
//! own aggregates take a second pass.

use crate::engine::Engine;
use crate::error::Error;
use crate::model::Model;
use crate::sim::{self, RunOptions};
use crate::stats::{Metrics, SeriesAcc};

use super::metric::{Influence, Metric, Moments};

/// What a batch follows: the metric, the commodities (indices) and the series.
#[derive(Debug, Clone)]
pub struct Selection {
    pub metric: Metric,
    pub commodities: Vec<usize>,
    /// Series index: a consumer, then ROW, then world.
    pub series: usize,
}

/// The metric of one model and commodity, with standard errors.
#[derive(Debug, Clone, PartialEq)]
pub struct PointStats {
    pub metrics: Metrics,
    /// The metric's value.
    pub value: f64,
    /// Standard error of the value (None when not computed).
    pub se: Option<f64>,
    /// Standard error of value − base's value, paired (None without a base).
    pub change_se: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    series: SeriesAcc,
    own: Moments,
    paired: Moments,
}

type State = Vec<Vec<Acc>>;

fn merge_all(parts: Vec<State>, n_models: usize, n_k: usize) -> State {
    let mut total = vec![vec![Acc::default(); n_k]; n_models];
    for part in &parts {
        for (t, p) in total.iter_mut().flatten().zip(part.iter().flatten()) {
            t.series.merge(&p.series);
            t.own.merge(&p.own);
            t.paired.merge(&p.paired);
        }
    }
    total
}

/// Runs `models` on the same trials. With `paired`, model 0 is the base and
/// every model's change from it gets a paired standard error. With `ci`
/// false, metrics that need a second pass get no standard errors (one pass
/// only). `progress` receives model-trials done.
pub fn run_batch(
    models: &[&Model],
    sel: &Selection,
    paired: bool,
    ci: bool,
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Vec<PointStats>>, Error> {
    let engines: Vec<Engine> = models.iter().map(|m| Engine::new(m, opts.seed)).collect();
    let n_models = engines.len() as u64;
    let weighted = |n: u64| progress(n * n_models);
    let (nm, nk, i) = (engines.len(), sel.commodities.len(), sel.series);
    let second = sel.metric.needs_second_pass();
    let plain = Influence::Plain(sel.metric);
    let parts = sim::drive(
        &engines,
        opts,
        false,
        &weighted,
        || vec![vec![Acc::default(); nk]; nm],
        |st: &mut State, _, _, outs| {
            for (c, &k) in sel.commodities.iter().enumerate() {
                let base = plain.of(outs[0].figures(&engines[0], k), i);
                for (p, (out, e)) in outs.iter().zip(&engines).enumerate() {
                    let f = out.figures(e, k);
                    let a = &mut st[p][c];
                    a.series.add(
                        f.shortfall[i],
                        f.peak[i],
                        f.months_short[i],
                        f.stockout[i],
                        1,
                    );
                    if !second {
                        let psi = plain.of(f, i);
                        a.own.add(psi);
                        a.paired.add(psi - base);
                    }
                }
            }
        },
    )?;
    let mut total = merge_all(parts, nm, nk);
    if second && ci {
        second_pass(&engines, sel, &mut total, opts, &weighted)?;
    }
    Ok(finish(models, sel, &total, paired, !second || ci))
}

/// The second pass: ψ from each model's first-pass aggregates.
fn second_pass(
    engines: &[Engine],
    sel: &Selection,
    total: &mut State,
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), Error> {
    let (nm, nk, i) = (engines.len(), sel.commodities.len(), sel.series);
    let infl: Vec<Vec<Influence>> = total
        .iter()
        .map(|row| {
            row.iter()
                .map(|a| sel.metric.influence(&a.series))
                .collect()
        })
        .collect();
    type Sums = Vec<Vec<(Moments, Moments)>>;
    let parts = sim::drive(
        engines,
        opts,
        false,
        progress,
        || vec![vec![(Moments::default(), Moments::default()); nk]; nm],
        |st: &mut Sums, _, _, outs| {
            for (c, &k) in sel.commodities.iter().enumerate() {
                let base = infl[0][c].of(outs[0].figures(&engines[0], k), i);
                for (p, (out, e)) in outs.iter().zip(engines).enumerate() {
                    let psi = infl[p][c].of(out.figures(e, k), i);
                    st[p][c].0.add(psi);
                    st[p][c].1.add(psi - base);
                }
            }
        },
    )?;
    for part in &parts {
        for (t, p) in total.iter_mut().flatten().zip(part.iter().flatten()) {
            t.own.merge(&p.0);
            t.paired.merge(&p.1);
        }
    }
    Ok(())
}

fn finish(
    models: &[&Model],
    sel: &Selection,
    total: &State,
    paired: bool,
    with_se: bool,
) -> Vec<Vec<PointStats>> {
    let nj = models.first().map(|m| m.n_consumers()).unwrap_or(0);
    total
        .iter()
        .zip(models)
        .map(|(row, m)| {
            row.iter()
                .zip(&sel.commodities)
                .map(|(a, &k)| {
                    let stock = sel.series < nj && m.commodities[k].has_stockpile[sel.series];
                    let metrics = a.series.metrics(stock);
                    PointStats {
                        value: sel.metric.value(&metrics),
                        metrics,
                        se: with_se.then(|| a.own.se()),
                        change_se: (with_se && paired).then(|| a.paired.se()),
                    }
                })
                .collect()
        })
        .collect()
}
