//! The compact per-commodity tables printed after a run.

use std::fmt::Write;

use super::series_ids;
use crate::compare::Comparison;
use crate::model::Model;
use crate::sim::RunResult;

/// Formats a fraction as a percentage with two decimals.
pub fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// Formats tonnes with thousands separators.
pub fn tonnes(x: f64) -> String {
    let s = format!("{:.0}", x);
    let (sign, digits) = s
        .strip_prefix('-')
        .map(|d| ("-", d))
        .unwrap_or(("", s.as_str()));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

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
            cm.name, cm.id, model.horizon, trials
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

/// Formats a difference of fractions in percentage points.
fn pp(x: f64) -> String {
    format!("{:.2}", x * 100.0)
}

/// The strategy ranking: per commodity and consumer (world first), the
/// strategies from the largest cvar95 reduction down.
pub fn render_comparison(model: &Model, c: &Comparison) -> String {
    let mut out = String::new();
    let currency = c.currency.as_deref().unwrap_or("currency units");
    let _ = writeln!(
        out,
        "\nStrategies against the base, on the same random draws. Reductions (base - strategy) in\n\
         percentage points of demand, with 95% confidence intervals from paired differences;\n\
         P(better): share of trials where the strategy's shortfall is smaller; t/M: tonnes of\n\
         expected shortfall avoided per million {currency} of cost over the horizon."
    );
    let ids = series_ids(model);
    let order: Vec<usize> = std::iter::once(ids.len() - 1)
        .chain(0..ids.len() - 1)
        .collect();
    for cm in &model.commodities {
        let _ = writeln!(out, "\n{} ({})", cm.name, cm.id);
        let _ = writeln!(
            out,
            "  {:<8} {:<4} {:<16} {:>8} {:>8} {:>8} {:>24} {:>24} {:>9} {:>10}",
            "consumer",
            "rank",
            "strategy",
            "mean",
            "cvar95",
            "P(>10%)",
            "d.mean [95% CI]",
            "d.cvar95 [95% CI]",
            "P(better)",
            "t/M"
        );
        for &i in &order {
            let mut rows: Vec<_> = c
                .rows
                .iter()
                .filter(|r| r.commodity == cm.id && r.consumer == ids[i])
                .collect();
            rows.sort_by_key(|r| r.rank);
            for r in rows {
                let ci = |v: f64, lo: f64, hi: f64| format!("{} [{}, {}]", pp(v), pp(lo), pp(hi));
                let _ = writeln!(
                    out,
                    "  {:<8} {:<4} {:<16} {:>8} {:>8} {:>8} {:>24} {:>24} {:>9} {:>10}",
                    ids[i],
                    r.rank,
                    r.strategy,
                    pct(r.mean),
                    pct(r.cvar95),
                    pct(r.prob_gt_10),
                    ci(
                        r.mean_reduction,
                        r.mean_reduction_ci[0],
                        r.mean_reduction_ci[1]
                    ),
                    ci(
                        r.cvar95_reduction,
                        r.cvar95_reduction_ci[0],
                        r.cvar95_reduction_ci[1]
                    ),
                    pct(r.prob_better),
                    r.tonnes_per_million
                        .map(|t| format!("{t:.1}"))
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
    }
    let _ = writeln!(out, "\nOverall (world, averaged over commodities):");
    let _ = writeln!(
        out,
        "  {:<16} {:>16} {:>14} {:>14} {:>16}  frontier",
        "strategy", "cost/year", "d.mean (pp)", "d.cvar95 (pp)", "tonnes avoided"
    );
    for st in &c.strategies {
        let _ = writeln!(
            out,
            "  {:<16} {:>16} {:>14} {:>14} {:>16}  {}",
            st.id,
            st.cost_per_year.map(tonnes).unwrap_or_else(|| "-".into()),
            pp(st.world_mean_reduction_avg),
            pp(st.world_cvar95_reduction_avg),
            st.world_tonnes_avoided
                .map(tonnes)
                .unwrap_or_else(|| "-".into()),
            if st.efficient { "yes" } else { "" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(tonnes(1234567.4), "1,234,567");
        assert_eq!(tonnes(999.0), "999");
        assert_eq!(tonnes(-1000.0), "-1,000");
        assert_eq!(pct(0.01234), "1.23%");
    }
}
