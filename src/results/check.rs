//! Checks that a summary holds only figures a run can produce: every share,
//! probability and quantile finite and in [0, 1], every other number finite
//! and in its range. `crmsim plot` refuses anything else (naming the field),
//! and the tests use the same checks on every run they make.

use super::Summary;
use super::comparison::{AttributionRow, ComparisonRow, Part};
use super::figdata::FigureData;
use crate::format::num;

/// A deserialiser's error in plain words, with its line and column.
pub fn json_reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; keep it, plain the rest.
    crate::error::plain(&msg)
}

type Check = Result<(), String>;

fn unit(field: &str, x: f64) -> Check {
    if x.is_finite() && (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(format!(
            "{field}: must be a finite number in [0, 1], got {}",
            num(x)
        ))
    }
}

fn range(field: &str, x: f64, lo: f64, hi: f64) -> Check {
    if x.is_finite() && x >= lo && x <= hi {
        Ok(())
    } else {
        Err(format!(
            "{field}: must be a finite number in [{lo}, {hi}], got {}",
            num(x)
        ))
    }
}

fn finite(field: &str, x: f64) -> Check {
    if x.is_finite() {
        Ok(())
    } else {
        Err(format!("{field}: must be a finite number, got {}", num(x)))
    }
}

/// Every figure of `s` in its range; the error names the first bad field.
pub fn summary(s: &Summary) -> Check {
    if s.trials == 0 {
        return Err("trials: must be at least 1".into());
    }
    let horizon = s.horizon_months as f64;
    for (i, r) in s.results.iter().enumerate() {
        let at = format!(
            "results[{i}] (strategy {}, {}, {})",
            r.strategy, r.commodity, r.consumer
        );
        for (name, v) in r.metrics.named() {
            let Some(v) = v else { continue };
            let field = format!("{at} {name}");
            if name == "months_short_mean" {
                range(&field, v, 0.0, horizon)?;
            } else {
                unit(&field, v)?;
            }
        }
        if let Some(d) = r.demand_tonnes {
            range(&format!("{at} demand_tonnes"), d, 0.0, f64::MAX)?;
        }
    }
    if let Some(fd) = &s.figures {
        figures(fd)?;
    }
    if let Some(c) = &s.comparison {
        for (i, r) in c.rows.iter().enumerate() {
            comparison_row(&format!("comparison.rows[{i}]"), r)?;
        }
        for (i, st) in c.strategies.iter().enumerate() {
            let at = format!("comparison.strategies[{i}]");
            range(
                &format!("{at}.world_mean_reduction_avg"),
                st.world_mean_reduction_avg,
                -1.0,
                1.0,
            )?;
            range(
                &format!("{at}.world_cvar95_reduction_avg"),
                st.world_cvar95_reduction_avg,
                -1.0,
                1.0,
            )?;
            if let Some(c) = st.cost_per_year {
                range(&format!("{at}.cost_per_year"), c, 0.0, f64::MAX)?;
            }
            if let Some(t) = st.world_tonnes_avoided {
                finite(&format!("{at}.world_tonnes_avoided"), t)?;
            }
        }
    }
    if let Some(a) = &s.attribution {
        for (i, r) in a.rows.iter().enumerate() {
            attribution_row(&format!("attribution.rows[{i}]"), r)?;
        }
    }
    Ok(())
}

fn comparison_row(at: &str, r: &ComparisonRow) -> Check {
    unit(&format!("{at}.mean"), r.mean)?;
    unit(&format!("{at}.cvar95"), r.cvar95)?;
    unit(&format!("{at}.prob_gt_10"), r.prob_gt_10)?;
    unit(&format!("{at}.prob_better"), r.prob_better)?;
    unit(&format!("{at}.prob_worse"), r.prob_worse)?;
    range(&format!("{at}.mean_reduction"), r.mean_reduction, -1.0, 1.0)?;
    range(
        &format!("{at}.cvar95_reduction"),
        r.cvar95_reduction,
        -1.0,
        1.0,
    )?;
    for (name, ci) in [
        ("mean_reduction_ci", r.mean_reduction_ci),
        ("cvar95_reduction_ci", r.cvar95_reduction_ci),
    ] {
        finite(&format!("{at}.{name}[0]"), ci[0])?;
        finite(&format!("{at}.{name}[1]"), ci[1])?;
    }
    if let Some(t) = r.tonnes_avoided {
        finite(&format!("{at}.tonnes_avoided"), t)?;
    }
    if let Some(t) = r.tonnes_per_million {
        finite(&format!("{at}.tonnes_per_million"), t)?;
    }
    Ok(())
}

fn parts(at: &str, ps: &[Part]) -> Check {
    for (j, p) in ps.iter().enumerate() {
        unit(&format!("{at}[{j}].mean"), p.mean)?;
        unit(&format!("{at}[{j}].tail"), p.tail)?;
    }
    Ok(())
}

fn attribution_row(at: &str, r: &AttributionRow) -> Check {
    unit(&format!("{at}.mean"), r.mean)?;
    unit(&format!("{at}.tail_total"), r.tail_total)?;
    parts(&format!("{at}.by_source"), &r.by_source)?;
    parts(&format!("{at}.by_country"), &r.by_country)?;
    parts(&format!("{at}.by_kind"), &r.by_kind)
}

fn all_unit(field: &str, xs: &[f64]) -> Check {
    for (j, &x) in xs.iter().enumerate() {
        unit(&format!("{field}[{j}]"), x)?;
    }
    Ok(())
}

fn figures(fd: &FigureData) -> Check {
    for (i, c) in fd.exceedance.iter().enumerate() {
        for (j, p) in c.points.iter().enumerate() {
            all_unit(&format!("figures.exceedance[{i}].points[{j}]"), p)?;
        }
    }
    for (i, h) in fd.histograms.iter().enumerate() {
        let at = format!("figures.histograms[{i}]");
        all_unit(&format!("{at}.edges"), &h.edges)?;
        unit(&format!("{at}.mean"), h.mean)?;
        unit(&format!("{at}.p95"), h.p95)?;
        unit(&format!("{at}.cvar95"), h.cvar95)?;
    }
    for (i, m) in fd.monthly.iter().enumerate() {
        let at = format!("figures.monthly[{i}]");
        all_unit(&format!("{at}.p50"), &m.p50)?;
        all_unit(&format!("{at}.p90"), &m.p90)?;
        all_unit(&format!("{at}.p99"), &m.p99)?;
    }
    for (i, c) in fd.convergence.iter().enumerate() {
        let at = format!("figures.convergence[{i}]");
        all_unit(&format!("{at}.mean"), &c.mean)?;
        all_unit(&format!("{at}.cvar95"), &c.cvar95)?;
        for (name, v) in [("mean_ci", &c.mean_ci), ("cvar95_ci", &c.cvar95_ci)] {
            for (j, &x) in v.iter().enumerate() {
                range(&format!("{at}.{name}[{j}]"), x, 0.0, f64::MAX)?;
            }
        }
    }
    for (i, c) in fd.concentration.iter().enumerate() {
        let at = format!("figures.concentration[{i}]");
        range(&format!("{at}.hhi"), c.hhi, 0.0, 10_000.0 + 1e-6)?;
        unit(&format!("{at}.top_share"), c.top_share)?;
        unit(&format!("{at}.top3_share"), c.top3_share)?;
        unit(&format!("{at}.row_share"), c.row_share)?;
        for (j, p) in c.producers.iter().enumerate() {
            unit(&format!("{at}.producers[{j}].share"), p.share)?;
        }
    }
    Ok(())
}
