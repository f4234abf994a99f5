//! The compact per-commodity tables printed after a run.

use std::fmt::Write;

use super::series_ids;
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
                let d = if i < cm.demand.len() {
                    cm.demand[i]
                } else {
                    cm.monthly_demand
                };
                let _ = write!(out, " {:>14}", tonnes(m.mean * d * model.horizon as f64));
            }
            out.push('\n');
        }
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
