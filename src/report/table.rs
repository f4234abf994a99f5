//! The compact per-commodity tables printed after a run.

use std::fmt::Write;

use super::series_ids;
use crate::format::{money, pp, pp_ci, thousands};
use crate::model::Model;
use crate::results::comparison::Comparison;
use crate::sim::RunResult;

pub use crate::format::{pct, tonnes};

/// The tables of one run: per commodity, world then each consumer and ROW.
pub fn render(model: &Model, run: &RunResult, trials: u64) -> String {
    let ids = series_ids(model);
    let nj = ids.len();
    let mut out = String::new();
    for (k, cm) in model.commodities.iter().enumerate() {
        let demand = cm
            .annual_demand
            .map(|d| format!("annual demand {} t, ", tonnes(d)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{} ({}) - {demand}{} months, {} trials",
            cm.name,
            cm.id,
            model.horizon,
            thousands(trials)
        );
        let tonnes_col = cm.annual_demand.is_some();
        let _ = write!(
            out,
            "  {:<10} {:>9} {:>9} {:>9} {:>9}",
            "consumer", "mean", "p95", "cvar95", "P(>10%)"
        );
        if tonnes_col {
            let _ = write!(out, " {:>14}", "E[short] t");
        }
        out.push('\n');
        // world first, then consumers and ROW
        let order = std::iter::once(nj - 1).chain(0..nj - 1);
        for i in order {
            let m = &run.metrics[k][i];
            let _ = write!(
                out,
                "  {:<10} {:>9} {:>9} {:>9} {:>9}",
                ids[i],
                pct(m.mean),
                pct(m.p95),
                pct(m.cvar95),
                pct(m.prob_gt_10)
            );
            if tonnes_col {
                let d = cm.monthly_tonnes(i);
                let _ = write!(out, " {:>14}", tonnes(m.mean * d * model.horizon as f64));
            }
            out.push('\n');
        }
    }
    out
}

/// The strategy ranking. By default per commodity for the world only, then
/// the overall table; with `details`, for every consumer too.
pub fn render_comparison(model: &Model, c: &Comparison, details: bool) -> String {
    let mut out = String::new();
    let currency = c.currency.as_deref().unwrap_or("currency units");
    let _ = writeln!(
        out,
        "\nStrategies against the base, on the same random draws. Reductions (base - strategy) in\n\
         percentage points of demand with 95% confidence intervals; t avoided: expected shortfall\n\
         avoided over the horizon; t/M: tonnes avoided per million {currency} of cost. Rank 1: largest\n\
         cvar95 reduction; \"-\": the strategy changes nothing here."
    );
    let ids = series_ids(model);
    let world = ids.len() - 1;
    let order: Vec<usize> = if details {
        std::iter::once(world).chain(0..world).collect()
    } else {
        vec![world]
    };
    let w = c
        .strategies
        .iter()
        .map(|s| s.id.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 40);
    for cm in &model.commodities {
        let _ = writeln!(out, "\n{} ({})", cm.name, cm.id);
        let _ = writeln!(
            out,
            "  {:<10} {:>4}  {:<w$} {:>8} {:>8} {:>22} {:>22} {:>11} {:>8}",
            "consumer",
            "rank",
            "strategy",
            "mean",
            "cvar95",
            "d.mean [95% CI]",
            "d.cvar95 [95% CI]",
            "t avoided",
            "t/M"
        );
        for &i in &order {
            let mut rows: Vec<_> = c
                .rows
                .iter()
                .filter(|r| r.commodity == cm.id && r.consumer == ids[i])
                .collect();
            rows.sort_by_key(|r| r.rank.unwrap_or(usize::MAX));
            for r in rows {
                let _ = writeln!(
                    out,
                    "  {:<10} {:>4}  {:<w$} {:>8} {:>8} {:>22} {:>22} {:>11} {:>8}",
                    ids[i],
                    r.rank.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
                    r.strategy,
                    pct(r.mean),
                    pct(r.cvar95),
                    pp_ci(r.mean_reduction, r.mean_reduction_ci),
                    pp_ci(r.cvar95_reduction, r.cvar95_reduction_ci),
                    r.tonnes_avoided.map(tonnes).unwrap_or_else(|| "-".into()),
                    r.tonnes_per_million
                        .map(tonnes)
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\nOverall (world, reductions averaged over commodities):"
    );
    let _ = writeln!(
        out,
        "  {:<w$} {:>16} {:>12} {:>14}  frontier",
        "strategy", "cost/year", "d.mean (pp)", "d.cvar95 (pp)"
    );
    for st in &c.strategies {
        let _ = writeln!(
            out,
            "  {:<w$} {:>16} {:>12} {:>14}  {}",
            st.id,
            st.cost_per_year.map(money).unwrap_or_else(|| "-".into()),
            pp(st.world_mean_reduction_avg),
            pp(st.world_cvar95_reduction_avg),
            if st.efficient { "yes" } else { "" }
        );
    }
    if !details && ids.len() > 2 {
        let _ = writeln!(
            out,
            "\n(world only; --details adds every consumer, and report.html has all tables)"
        );
    }
    out
}
