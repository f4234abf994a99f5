//! One batch of sweep points stepped through the same trials together: every
//! model of the batch runs trial t before any runs trial t + 1 (as `compare`
//! runs its strategies), so the whole batch costs one pass over the trials,
//! and all its models see the same draws (docs/model.md §6, common random
//! numbers).
//!
//! Per model and chosen commodity the batch keeps the §5 accumulator of the
//! chosen series and the sums its metric's standard errors need, its own and
//! paired against the base (the batch's first model): see [`Psi`]. All are
//! exact integers, so the accumulators of shards of the trials merge to the
//! same bits as one run over all of them.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::Error;
use crate::model::Model;
use crate::sim::{self, RunOptions};
use crate::stats::{Metrics, SeriesAcc};

use super::metric::{self, Influence, Metric, Psi};

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

/// The accumulators of one model and commodity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Acc {
    series: SeriesAcc,
    psi: Psi,
}

impl Acc {
    fn new(m: Metric) -> Acc {
        Acc {
            series: SeriesAcc::default(),
            psi: Psi::new(m),
        }
    }

    pub fn merge(&mut self, o: &Acc) {
        self.series.merge(&o.series);
        self.psi.merge(&o.psi);
    }

    /// Whether `o` (maybe read from a file) has this accumulator's shape.
    pub fn fits(&self, o: &Acc) -> bool {
        self.series.fits(&o.series) && self.psi.fits(&o.psi)
    }
}

/// Accumulators per model, then per commodity of the selection.
pub type State = Vec<Vec<Acc>>;

/// Empty accumulators of `n_models` models.
pub fn empty(n_models: usize, sel: &Selection) -> State {
    vec![vec![Acc::new(sel.metric); sel.commodities.len()]; n_models]
}

/// Adds `part` to `total` (of the same shape).
pub fn merge_into(total: &mut State, part: &State) {
    for (t, p) in total.iter_mut().flatten().zip(part.iter().flatten()) {
        t.merge(p);
    }
}

/// Whether `part` (maybe read from a file) has the shape of `total`.
pub fn fits(total: &State, part: &State) -> bool {
    total.len() == part.len()
        && total
            .iter()
            .zip(part)
            .all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.fits(y)))
}

/// Runs `models` on the same trials. With `paired`, model 0 is the base and
/// every model's change from it gets a paired standard error. With `ci`
/// false, metrics whose ψ needs the model's aggregates get no standard
/// errors (and skip their sums). `progress` receives model-trials done.
pub fn run_batch(
    models: &[&Model],
    sel: &Selection,
    paired: bool,
    ci: bool,
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Vec<PointStats>>, Error> {
    let total = accumulate(models, sel, ci, opts, 0..opts.trials, progress)?;
    let with_se = ci || !sel.metric.psi_needs_aggregates();
    Ok(finish(models, sel, &total, paired, with_se))
}

/// The accumulators of `models` over the trials `range` of `0..opts.trials`
/// (a shard, or all of them), model 0 the base of the paired sums.
pub fn accumulate(
    models: &[&Model],
    sel: &Selection,
    ci: bool,
    opts: RunOptions,
    range: Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<State, Error> {
    let engines: Vec<Engine> = models.iter().map(|m| Engine::new(m, opts.seed)).collect();
    let n_models = engines.len() as u64;
    let weighted = |n: u64| progress(n * n_models);
    let i = sel.series;
    let sums = ci || !sel.metric.psi_needs_aggregates();
    let plain = Influence::Plain(sel.metric);
    let parts = sim::drive_range(
        &engines,
        opts,
        range,
        false,
        &weighted,
        || empty(engines.len(), sel),
        |st: &mut State, _, _, outs| {
            for (c, &k) in sel.commodities.iter().enumerate() {
                let bf = outs[0].figures(&engines[0], k);
                let b_psi = plain.of(bf, i);
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
                    if sums {
                        a.psi.add(&plain, bf, b_psi, f, i);
                    }
                }
            }
        },
    )?;
    // into one worker's state, each other one dropped once merged (exact
    // sums: the order does not matter)
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_else(|| empty(engines.len(), sel));
    for part in parts {
        merge_into(&mut total, &part);
    }
    Ok(total)
}

/// The statistics of every model of `total` (model 0 the base).
pub fn finish(
    models: &[&Model],
    sel: &Selection,
    total: &State,
    paired: bool,
    with_se: bool,
) -> Vec<Vec<PointStats>> {
    let nj = models.first().map(|m| m.n_consumers()).unwrap_or(0);
    let Some(base) = total.first() else {
        return Vec::new();
    };
    total
        .iter()
        .zip(models)
        .map(|(row, m)| {
            row.iter()
                .zip(base)
                .zip(&sel.commodities)
                .map(|((a, b), &k)| {
                    let stock = sel.series < nj && m.commodities[k].has_stockpile[sel.series];
                    let metrics = a.series.metrics(stock);
                    let ses = with_se
                        .then(|| metric::ses(sel.metric, &b.series, &b.psi, &a.series, &a.psi));
                    PointStats {
                        value: sel.metric.value(&metrics),
                        metrics,
                        se: ses.map(|s| s.own),
                        change_se: ses.filter(|_| paired).map(|s| s.paired),
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Figures;
    use crate::scenario;
    use crate::sweep::{Vary, compile_point};

    /// Commodity `k`'s figures of every trial, per model.
    fn figures(models: &[&Model], opts: RunOptions, k: usize) -> Vec<Vec<Figures>> {
        let engines: Vec<Engine> = models.iter().map(|m| Engine::new(m, opts.seed)).collect();
        let mut scratch: Vec<_> = engines.iter().map(|e| e.scratch()).collect();
        (0..opts.trials)
            .map(|t| {
                engines
                    .iter()
                    .zip(&mut scratch)
                    .map(|(e, sc)| e.run_trial(t, sc).figures(e, k).clone())
                    .collect()
            })
            .collect()
    }

    /// The standard errors (own, paired) of the old two-pass computation: ψ
    /// of every trial from the models' aggregates, summed directly.
    fn direct(sel: &Selection, total: &State, figs: &[Vec<Figures>]) -> Vec<(f64, f64)> {
        let infl: Vec<Influence> = total
            .iter()
            .map(|row| sel.metric.influence(&row[0].series))
            .collect();
        let se = |z: &[f64]| {
            let n = z.len() as f64;
            let m = z.iter().sum::<f64>() / n;
            (z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0) / n).sqrt()
        };
        (0..infl.len())
            .map(|p| {
                let own: Vec<f64> = figs.iter().map(|f| infl[p].of(&f[p], sel.series)).collect();
                let z: Vec<f64> = figs
                    .iter()
                    .zip(&own)
                    .map(|(f, x)| x - infl[0].of(&f[0], sel.series))
                    .collect();
                (se(&own), se(&z))
            })
            .collect()
    }

    /// One pass gives the standard errors of the direct computation: to
    /// rounding where no trial lies in the band holding the threshold, else
    /// within the stated tolerance. The baseline's world cobalt p50 lies
    /// among many trials of one shortfall value that share a 1e-4 bin with
    /// others: the share of trials at most p50 is then read from the
    /// histogram, evenly spread over the bin, and its se moves by up to 20%.
    #[test]
    fn one_pass_ses_match_the_direct_computation() {
        let src = scenario::load_or_baseline(None).unwrap();
        let base = Model::compile(&src.display, &src.scenario).unwrap();
        let vary = Vary::parse("shock.cd-co-state.rate_per_year.shape=0.5..5.5", &src.raw).unwrap();
        let point = compile_point(&src, &[vary], &[Some(5.5)]).unwrap();
        let models = [&base, &point];
        let opts = RunOptions {
            trials: 3000,
            seed: 5,
            threads: 2,
        };
        let world = base.n_consumers() + 1;
        let k = base
            .commodities
            .iter()
            .position(|c| c.id == "cobalt")
            .unwrap();
        let figs = figures(&models, opts, k);
        for (name, tol) in [
            ("sd", 1e-6),
            ("mean_se", 1e-6),
            ("p50", 0.2),
            ("p95", 1e-9),
            ("p999", 1e-9),
            ("cvar95", 1e-6),
            ("cvar99", 1e-6),
            ("peak_p95", 1e-3),
        ] {
            let sel = Selection {
                metric: Metric::parse(name).unwrap(),
                commodities: vec![k],
                series: world,
            };
            let total = accumulate(&models, &sel, true, opts, 0..opts.trials, &|_| {}).unwrap();
            let got = finish(&models, &sel, &total, true, true);
            let want = direct(&sel, &total, &figs);
            for p in 0..2 {
                let (g, w) = (&got[p][0], want[p]);
                let (own, paired) = (g.se.unwrap(), g.change_se.unwrap());
                assert!(
                    (own - w.0).abs() <= tol * w.0,
                    "{name} {p}: {own} vs {}",
                    w.0
                );
                assert!(
                    (paired - w.1).abs() <= tol * w.1,
                    "{name} {p}: {paired} vs {}",
                    w.1
                );
            }
            // the base against itself: no paired error at all
            assert_eq!(got[0][0].change_se, Some(0.0), "{name}");
        }
    }
}
