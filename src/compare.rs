//! Mitigation strategies against the base (docs/model.md §6), and the attribution
//! of shortfall to its causes.
//!
//! A comparison runs every model on the same trials (common random numbers)
//! twice: the first pass gives each run's aggregates (and so its p95), the
//! second the paired differences of each strategy against the base, trial by
//! trial, and the base's attribution. Both passes draw exactly the same
//! events, so the second pass is a replay, not new sampling.

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::{Error, InputErrors};
use crate::model::{Kind, Model};
use crate::report::series_ids;
use crate::scenario::StrategySource;
use crate::sim::{self, PairedAcc, RunOptions, RunResult};

/// 95% two-sided normal quantile.
pub const Z95: f64 = 1.959963984540054;

/// A strategy to evaluate: its id, label, yearly cost and patched model.
#[derive(Debug, Clone)]
pub struct Strategy {
    pub id: String,
    pub name: Option<String>,
    pub cost_per_year: Option<f64>,
    pub model: Model,
}

impl Strategy {
    /// Validates and compiles a patched strategy; messages name its file and id.
    pub fn compile(st: StrategySource) -> Result<Strategy, InputErrors> {
        let label = format!("{} (strategy \"{}\")", st.origin, st.id);
        let model = Model::compile(&label, &st.scenario)?;
        Ok(Strategy {
            id: st.id,
            name: st.name,
            cost_per_year: st.cost_per_year,
            model,
        })
    }
}

/// One strategy against the base for one commodity and consumer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComparisonRow {
    pub strategy: String,
    pub commodity: String,
    pub consumer: String,
    pub mean: f64,
    pub cvar95: f64,
    pub prob_gt_10: f64,
    /// base mean - strategy mean, with its 95% confidence interval from the
    /// paired per-trial differences.
    pub mean_reduction: f64,
    pub mean_reduction_ci: [f64; 2],
    /// base cvar95 - strategy cvar95, with a 95% confidence interval from the
    /// paired per-trial tail excesses (Rockafellar-Uryasev linearisation).
    pub cvar95_reduction: f64,
    pub cvar95_reduction_ci: [f64; 2],
    /// Share of trials in which the strategy's shortfall is smaller (larger)
    /// than the base's.
    pub prob_better: f64,
    pub prob_worse: f64,
    /// Expected shortfall avoided over the horizon, in tonnes (null without
    /// `annual_demand`).
    pub tonnes_avoided: Option<f64>,
    /// `tonnes_avoided` per million of cost over the horizon
    /// (`cost_per_year * horizon_months / 12`); null without a cost.
    pub tonnes_per_million: Option<f64>,
    /// 1 = largest cvar95 reduction among the strategies for this commodity
    /// and consumer.
    pub rank: usize,
}

/// One strategy over all commodities (world figures).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StrategySummary {
    pub id: String,
    pub name: Option<String>,
    pub cost_per_year: Option<f64>,
    /// Mean over commodities of the world mean and cvar95 reductions.
    pub world_mean_reduction_avg: f64,
    pub world_cvar95_reduction_avg: f64,
    /// Sum over commodities with `annual_demand` of the world tonnes avoided.
    pub world_tonnes_avoided: Option<f64>,
    /// On the cost-effectiveness frontier: no other costed strategy costs as
    /// little or less and cuts the average world cvar95 as much or more
    /// (one of the two strictly).
    pub efficient: bool,
}

/// The `comparison` block of summary.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    pub currency: Option<String>,
    pub strategies: Vec<StrategySummary>,
    pub rows: Vec<ComparisonRow>,
}

/// One cause's share of a shortfall.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Part {
    pub name: String,
    /// Share of the expected shortfall (same unit as `mean`).
    pub mean: f64,
    /// Share of the cvar95 tail (same unit as `tail_total`).
    pub tail: f64,
}

/// Attribution of one commodity and consumer of the base run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttributionRow {
    pub commodity: String,
    pub consumer: String,
    /// The expected shortfall the parts add up to (the base's `mean`).
    pub mean: f64,
    /// The tail mean the tail parts add up to: the mean shortfall of the
    /// trials above the base's p95, with trials at it weighted so the tail
    /// holds ceil(N/20) trials where it can (equals cvar95 up to the
    /// histogram's 1e-4).
    pub tail_total: f64,
    pub by_source: Vec<Part>,
    pub by_country: Vec<Part>,
    pub by_kind: Vec<Part>,
}

/// The `attribution` block of summary.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attribution {
    pub rows: Vec<AttributionRow>,
}

/// Everything a run with attribution (and maybe strategies) yields.
pub struct Outcome {
    /// Base first, then each strategy.
    pub results: Vec<RunResult>,
    pub comparison: Option<Comparison>,
    pub attribution: Attribution,
    /// Seconds spent in the first pass and in the second (paired) pass.
    pub pass_seconds: [f64; 2],
}

/// Runs the base and every strategy on the same draws; see the module docs.
pub fn evaluate(
    base: &Model,
    strategies: &[Strategy],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Outcome, Error> {
    let mut engines = vec![Engine::new(base, opts.seed)];
    engines.extend(strategies.iter().map(|s| Engine::new(&s.model, opts.seed)));
    let t0 = std::time::Instant::now();
    let results = sim::run_engines(&engines, opts, progress)?;
    let t1 = std::time::Instant::now();
    let paired = sim::run_paired(&engines, &results, opts, progress)?;
    let t2 = std::time::Instant::now();
    let comparison =
        (!strategies.is_empty()).then(|| comparison(base, strategies, &results, &paired));
    let attribution = attribution(&engines[0], &results[0], &paired);
    Ok(Outcome {
        results,
        comparison,
        attribution,
        pass_seconds: [(t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64()],
    })
}

fn comparison(
    base: &Model,
    strategies: &[Strategy],
    results: &[RunResult],
    paired: &PairedAcc,
) -> Comparison {
    let ids = series_ids(base);
    let world = ids.len() - 1;
    let years = base.horizon as f64 / 12.0;
    let mut rows = Vec::new();
    let mut summaries = Vec::new();
    for (si, st) in strategies.iter().enumerate() {
        let run = &results[si + 1];
        let mut mean_sum = 0.0;
        let mut cvar_sum = 0.0;
        let mut tonnes: Option<f64> = None;
        for (k, cm) in base.commodities.iter().enumerate() {
            for (i, id) in ids.iter().enumerate() {
                let b = &results[0].metrics[k][i];
                let s = &run.metrics[k][i];
                let ps = paired.pairs[si][k][i].stats();
                let dm = b.mean - s.mean;
                let dc = b.cvar95 - s.cvar95;
                let demand = cm.monthly_tonnes(i);
                let t = cm.annual_demand.map(|_| dm * demand * base.horizon as f64);
                rows.push(ComparisonRow {
                    strategy: st.id.clone(),
                    commodity: cm.id.clone(),
                    consumer: id.clone(),
                    mean: s.mean,
                    cvar95: s.cvar95,
                    prob_gt_10: s.prob_gt_10,
                    mean_reduction: dm,
                    mean_reduction_ci: [dm - Z95 * ps.mean_se, dm + Z95 * ps.mean_se],
                    cvar95_reduction: dc,
                    cvar95_reduction_ci: [dc - Z95 * ps.cvar95_se, dc + Z95 * ps.cvar95_se],
                    prob_better: ps.prob_better,
                    prob_worse: ps.prob_worse,
                    tonnes_avoided: t,
                    tonnes_per_million: match (t, st.cost_per_year) {
                        (Some(t), Some(c)) if c > 0.0 => Some(t / (c * years / 1e6)),
                        _ => None,
                    },
                    rank: 0,
                });
                if i == world {
                    mean_sum += dm;
                    cvar_sum += dc;
                    if let Some(t) = t {
                        *tonnes.get_or_insert(0.0) += t;
                    }
                }
            }
        }
        let nk = base.commodities.len().max(1) as f64;
        summaries.push(StrategySummary {
            id: st.id.clone(),
            name: st.name.clone(),
            cost_per_year: st.cost_per_year,
            world_mean_reduction_avg: mean_sum / nk,
            world_cvar95_reduction_avg: cvar_sum / nk,
            world_tonnes_avoided: tonnes,
            efficient: false,
        });
    }
    // ranks within (commodity, consumer)
    let groups = base.commodities.len() * ids.len();
    for g in 0..groups {
        let mut members: Vec<usize> = (0..strategies.len()).map(|s| s * groups + g).collect();
        members.sort_by(|&a, &b| {
            rows[b]
                .cvar95_reduction
                .total_cmp(&rows[a].cvar95_reduction)
                .then(a.cmp(&b))
        });
        for (r, &m) in members.iter().enumerate() {
            rows[m].rank = r + 1;
        }
    }
    // cost-effectiveness frontier
    let costed: Vec<(usize, f64, f64)> = summaries
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.cost_per_year
                .map(|c| (i, c, s.world_cvar95_reduction_avg))
        })
        .collect();
    for &(i, c, r) in &costed {
        let dominated = costed
            .iter()
            .any(|&(j, c2, r2)| j != i && c2 <= c && r2 >= r && (c2 < c || r2 > r));
        summaries[i].efficient = !dominated;
    }
    Comparison {
        currency: base.currency.clone(),
        strategies: summaries,
        rows,
    }
}

fn attribution(engine: &Engine, base: &RunResult, paired: &PairedAcc) -> Attribution {
    let model = engine.model;
    let ids = series_ids(model);
    let kind_of = |src: usize| -> Kind {
        if src < model.shocks.len() {
            model.shocks[src].kind
        } else {
            model.events[src - model.shocks.len()].kind
        }
    };
    let parts = |names: &dyn Fn(usize) -> String, mean: &[f64], tail: &[f64]| -> Vec<Part> {
        let mut v: Vec<Part> = mean
            .iter()
            .zip(tail)
            .enumerate()
            .filter(|(_, (m, t))| **m > 0.0 || **t > 0.0)
            .map(|(i, (&m, &t))| Part {
                name: names(i),
                mean: m,
                tail: t,
            })
            .collect();
        v.sort_by(|a, b| {
            b.mean
                .total_cmp(&a.mean)
                .then(b.tail.total_cmp(&a.tail))
                .then(a.name.cmp(&b.name))
        });
        v
    };
    let mut rows = Vec::new();
    for (k, cm) in model.commodities.iter().enumerate() {
        for (i, id) in ids.iter().enumerate() {
            let st = paired.attrib[k][i].stats();
            let mut kind_mean = [0.0; 4];
            let mut kind_tail = [0.0; 4];
            for (src, (&m, &t)) in st.by_source.iter().zip(&st.tail_by_source).enumerate() {
                let ki = Kind::ALL
                    .iter()
                    .position(|&x| x == kind_of(src))
                    .unwrap_or(0);
                kind_mean[ki] += m;
                kind_tail[ki] += t;
            }
            rows.push(AttributionRow {
                commodity: cm.id.clone(),
                consumer: id.clone(),
                mean: base.metrics[k][i].mean,
                tail_total: st.tail_by_source.iter().sum(),
                by_source: parts(
                    &|s| engine.sources[s].clone(),
                    &st.by_source,
                    &st.tail_by_source,
                ),
                by_country: parts(
                    &|c| model.country_id(c).to_string(),
                    &st.by_country,
                    &st.tail_by_country,
                ),
                by_kind: parts(
                    &|x| Kind::ALL[x].as_str().to_string(),
                    &kind_mean,
                    &kind_tail,
                ),
            });
        }
    }
    Attribution { rows }
}
