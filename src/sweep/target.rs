//! `--target 'M<=X'`: the boundary value of one PATH at which the metric
//! meets X, by bisection on common random numbers.
//!
//! The range is first scanned at 9 evenly spaced values together with the
//! base (one pass); the first pair of neighbours on either side of the
//! target brackets the boundary, which is then halved until it is at most
//! (HIGH − LOW)/1000 wide (7 more single-model passes). The answer is the
//! end of the bracket that meets the target. Every value evaluated is kept,
//! and the metric is checked for monotony over all of them.

use crate::error::Error;
use crate::model::Model;
use crate::report::sweep::{SweepReport, TargetRow};
use crate::sim::RunOptions;

use super::metric::Metric;
use super::pass::{self, PointStats};
use super::{Plan, Vary, ci, compile_point};

/// Values of the first scan.
const COARSE: usize = 9;
/// Halvings after the scan: (1/8) / 2^7 = 1/1024 of the range.
pub const MAX_STEPS: usize = 7;

/// `<=` or `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Le,
    Ge,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Ge => ">=",
        }
    }
}

/// A parsed `--target`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub metric: Metric,
    pub op: Op,
    pub threshold: f64,
}

impl Target {
    /// Parses `M<=X` or `M>=X` (M a §5 aggregate name, X a finite number).
    pub fn parse(text: &str) -> Result<Target, String> {
        let (m, op, x) = if let Some((m, x)) = text.split_once("<=") {
            (m, Op::Le, x)
        } else if let Some((m, x)) = text.split_once(">=") {
            (m, Op::Ge, x)
        } else {
            return Err(format!(
                "--target `{text}`: expected METRIC<=X or METRIC>=X, e.g. 'prob_gt_10<=0.01'"
            ));
        };
        let metric = Metric::parse(m.trim()).ok_or_else(|| {
            format!(
                "--target `{text}`: unknown metric `{}` (expected one of {})",
                m.trim(),
                super::metric::NAMES.join(", ")
            )
        })?;
        let threshold = x
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("--target `{text}`: `{}` is not a finite number", x.trim()))?;
        Ok(Target {
            metric,
            op,
            threshold,
        })
    }

    fn met(&self, m: f64) -> bool {
        match self.op {
            Op::Le => m <= self.threshold,
            Op::Ge => m >= self.threshold,
        }
    }
}

/// The values of the first scan.
pub fn coarse(v: &Vary) -> Vec<f64> {
    Vary {
        steps: Some(COARSE),
        ..v.clone()
    }
    .grid()
}

/// Whether `ys` (ordered by x) never rises or never falls.
fn monotone(ys: &[f64]) -> bool {
    ys.windows(2).all(|w| w[1] >= w[0]) || ys.windows(2).all(|w| w[1] <= w[0])
}

/// Runs a single model; `ci` asks for its standard error.
fn run_one(
    plan: &Plan,
    model: &Model,
    ci: bool,
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
    info: &mut crate::report::sweep::RunInfo,
) -> Result<PointStats, Error> {
    let passes = if ci && plan.sel.metric.needs_second_pass() {
        2
    } else {
        1
    };
    let out = pass::run_batch(&[model], &plan.sel, false, ci, opts, progress)?;
    info.passes += passes;
    info.model_runs += passes;
    out.into_iter()
        .next()
        .and_then(|v| v.into_iter().next())
        .ok_or_else(|| Error::Other("internal: empty batch".into()))
}

/// The search; `scan` holds the stats of the [`coarse`] values (run with the base).
#[allow(clippy::too_many_arguments)]
pub fn search(
    plan: &Plan,
    t: &Target,
    scan: &[Vec<PointStats>],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
    info: &mut crate::report::sweep::RunInfo,
    report: &mut SweepReport,
) -> Result<TargetRow, Error> {
    let vary = &plan.varies[0];
    let tol = (vary.high - vary.low) / 1000.0;
    let mut seen: Vec<(f64, PointStats)> = coarse(vary)
        .into_iter()
        .zip(scan.iter().map(|s| s[0].clone()))
        .collect();
    let met: Vec<bool> = seen.iter().map(|(_, s)| t.met(s.value)).collect();
    let (status, mut at) = match met.windows(2).position(|w| w[0] != w[1]) {
        None if met[0] => {
            // the boundary lies beyond the end where the metric is worst
            let (lo, hi) = (&seen[0].1, &seen[COARSE - 1].1);
            let worse_hi = match t.op {
                Op::Le => hi.value > lo.value,
                Op::Ge => hi.value < lo.value,
            };
            (
                "met_everywhere",
                seen[if worse_hi { COARSE - 1 } else { 0 }].clone(),
            )
        }
        None => {
            let (lo, hi) = (&seen[0].1, &seen[COARSE - 1].1);
            let better_hi = match t.op {
                Op::Le => hi.value < lo.value,
                Op::Ge => hi.value > lo.value,
            };
            (
                "met_nowhere",
                seen[if better_hi { COARSE - 1 } else { 0 }].clone(),
            )
        }
        Some(i) => {
            let (mut a, mut b) = (seen[i].clone(), seen[i + 1].clone());
            let met_a = met[i];
            for _ in 0..MAX_STEPS + 2 {
                if b.0 - a.0 <= tol {
                    break;
                }
                let mid = 0.5 * (a.0 + b.0);
                let model = compile_point(plan.source, &plan.varies, &[Some(mid)])?;
                let s = run_one(plan, &model, false, opts, progress, info)?;
                seen.push((mid, s.clone()));
                if t.met(s.value) == met_a {
                    a = (mid, s);
                } else {
                    b = (mid, s);
                }
            }
            ("found", if met_a { a } else { b })
        }
    };
    if at.1.se.is_none() {
        let model = compile_point(plan.source, &plan.varies, &[Some(at.0)])?;
        at.1 = run_one(plan, &model, true, opts, progress, info)?;
    }
    seen.sort_by(|a, b| a.0.total_cmp(&b.0));
    let ys: Vec<f64> = seen.iter().map(|(_, s)| s.value).collect();
    for (x, s) in &seen {
        plan.push_points(report, &[Some(*x)], std::slice::from_ref(s));
    }
    Ok(TargetRow {
        commodity: report.commodities[0].clone(),
        path: vary.path.text.clone(),
        op: t.op.as_str().to_string(),
        threshold: t.threshold,
        status: status.to_string(),
        met: status != "met_nowhere",
        value: (status != "met_nowhere").then_some(at.0),
        metric: at.1.value,
        ci: ci(at.1.value, at.1.se),
        tolerance: tol,
        monotone: monotone(&ys),
        evaluations: seen.len(),
    })
}
