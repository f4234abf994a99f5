//! Mitigation strategies against the base (docs/model.md §6), and the attribution
//! of shortfall to its causes.
//!
//! A comparison runs every model on the same trials (common random numbers)
//! in one pass: each run's aggregates, the paired differences of each
//! strategy against the base, trial by trial, and the base's attribution
//! (see [`crate::sim`]).

use crate::engine::Engine;
use crate::error::{Error, InputErrors};
use crate::model::{Kind, Model};
pub use crate::results::comparison::{
    Attribution, AttributionRow, Comparison, ComparisonRow, Part, StrategySummary,
};
use crate::results::series_ids;
use crate::scenario::StrategySource;
use crate::sim::{self, PairedAcc, RunOptions, RunResult, Totals};

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

/// Everything a run with attribution (and maybe strategies) yields.
pub struct Outcome {
    /// Base first, then each strategy.
    pub results: Vec<RunResult>,
    pub comparison: Option<Comparison>,
    pub attribution: Attribution,
    /// Seconds spent simulating (the one pass over the trials).
    pub seconds: f64,
}

/// Runs the base and every strategy on the same draws; see the module docs.
pub fn evaluate(
    base: &Model,
    strategies: &[Strategy],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Outcome, Error> {
    let engines = engines(base, strategies, opts.seed);
    let t0 = std::time::Instant::now();
    let totals = sim::accumulate(&engines, opts, true, 0..opts.trials, progress)?;
    Ok(assemble(
        base,
        strategies,
        &engines,
        totals,
        t0.elapsed().as_secs_f64(),
    ))
}

/// The engines of a comparison: the base first, then each strategy.
pub fn engines<'m>(base: &'m Model, strategies: &'m [Strategy], seed: u64) -> Vec<Engine<'m>> {
    let mut engines = vec![Engine::new(base, seed)];
    engines.extend(strategies.iter().map(|s| Engine::new(&s.model, seed)));
    engines
}

/// The outcome from the aggregates of all trials (one run, or merged shards)
/// of [`engines`]; `seconds` is the time it took to simulate them.
pub fn assemble(
    base: &Model,
    strategies: &[Strategy],
    engines: &[Engine],
    totals: Totals,
    seconds: f64,
) -> Outcome {
    let (results, paired) = totals.finish(engines);
    let paired = paired.unwrap_or_else(|| PairedAcc::new(engines));
    let comparison =
        (!strategies.is_empty()).then(|| comparison(base, strategies, &results, &paired));
    let attribution = attribution(&engines[0], &results[0], &paired);
    Outcome {
        results,
        comparison,
        attribution,
        seconds,
    }
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
        let mut tonnes: Vec<f64> = Vec::new();
        for (k, cm) in base.commodities.iter().enumerate() {
            for (i, id) in ids.iter().enumerate() {
                let b = &results[0].metrics[k][i];
                let s = &run.metrics[k][i];
                let ps = paired.pairs[si][k][i].stats(b.p95, s.p95);
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
                    // Divided step by step so a tiny cost cannot underflow
                    // to 0/0; a ratio too large for a number is left out.
                    tonnes_per_million: match (t, st.cost_per_year) {
                        (Some(t), Some(c)) if c > 0.0 => {
                            Some(t / c / years * 1e6).filter(|x| x.is_finite())
                        }
                        _ => None,
                    },
                    rank: None,
                });
                if i == world {
                    mean_sum += dm;
                    cvar_sum += dc;
                    tonnes.extend(t);
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
            // Tonnes of different materials are not added.
            world_tonnes_avoided: (tonnes.len() == 1).then(|| tonnes[0]),
            efficient: false,
        });
    }
    // ranks within (commodity, consumer), among strategies that change something
    let groups = base.commodities.len() * ids.len();
    let changes = |r: &ComparisonRow| {
        r.mean_reduction != 0.0
            || r.cvar95_reduction != 0.0
            || r.prob_better > 0.0
            || r.prob_worse > 0.0
    };
    for g in 0..groups {
        let mut members: Vec<usize> = (0..strategies.len())
            .map(|s| s * groups + g)
            .filter(|&m| changes(&rows[m]))
            .collect();
        members.sort_by(|&a, &b| {
            rows[b]
                .cvar95_reduction
                .total_cmp(&rows[a].cvar95_reduction)
                .then(a.cmp(&b))
        });
        for (r, &m) in members.iter().enumerate() {
            rows[m].rank = Some(r + 1);
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
