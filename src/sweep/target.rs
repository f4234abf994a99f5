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
use crate::results::sweep::{RunInfo, SweepReport, TargetRow};
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

/// A search in progress: what it needs to run points, and what it has seen.
struct Search<'p, 'a> {
    plan: &'p Plan<'a>,
    t: &'p Target,
    opts: RunOptions,
    progress: &'p (dyn Fn(u64) + Sync),
    info: &'p mut RunInfo,
    /// Every value evaluated, with its stats.
    seen: Vec<(f64, PointStats)>,
}

impl Search<'_, '_> {
    /// Runs the model at `x`; `ci` asks for its standard error.
    fn run(&mut self, x: f64, ci: bool) -> Result<PointStats, Error> {
        let plan = self.plan;
        let model = compile_point(plan.source, &plan.varies, &[Some(x)])?;
        let out = pass::run_batch(&[&model], &plan.sel, false, ci, self.opts, self.progress)?;
        self.info.passes += 1;
        self.info.model_runs += 1;
        out.into_iter()
            .next()
            .and_then(|v| v.into_iter().next())
            .ok_or_else(|| Error::Other("internal: empty batch".into()))
    }

    /// The end of the scan where the metric is worst (`worst`) or best.
    fn end(&self, worst: bool) -> (f64, PointStats) {
        let (lo, hi) = (&self.seen[0], &self.seen[COARSE - 1]);
        let hi_larger = hi.1.value > lo.1.value;
        let hi_smaller = hi.1.value < lo.1.value;
        // for <=, a larger metric is worse; for >=, a smaller one
        let hi_worse = match self.t.op {
            Op::Le => hi_larger,
            Op::Ge => hi_smaller,
        };
        let hi_better = match self.t.op {
            Op::Le => hi_smaller,
            Op::Ge => hi_larger,
        };
        if (worst && hi_worse) || (!worst && hi_better) {
            hi.clone()
        } else {
            lo.clone()
        }
    }

    /// Halves the bracket `[a, b]` (met at `a` iff `met_a`) to `tol`;
    /// returns its end that meets the target.
    fn bisect(
        &mut self,
        mut a: (f64, PointStats),
        mut b: (f64, PointStats),
        met_a: bool,
        tol: f64,
    ) -> Result<(f64, PointStats), Error> {
        for _ in 0..MAX_STEPS + 2 {
            if b.0 - a.0 <= tol {
                break;
            }
            let mid = 0.5 * (a.0 + b.0);
            let s = self.run(mid, false)?;
            self.seen.push((mid, s.clone()));
            if self.t.met(s.value) == met_a {
                a = (mid, s);
            } else {
                b = (mid, s);
            }
        }
        Ok(if met_a { a } else { b })
    }
}

/// The search; `scan` holds the stats of the [`coarse`] values (run with the base).
pub fn search(
    plan: &Plan,
    t: &Target,
    scan: &[Vec<PointStats>],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
    info: &mut RunInfo,
    report: &mut SweepReport,
) -> Result<TargetRow, Error> {
    let vary = &plan.varies[0];
    let tol = (vary.high - vary.low) / 1000.0;
    let seen: Vec<(f64, PointStats)> = coarse(vary)
        .into_iter()
        .zip(scan.iter().map(|s| s[0].clone()))
        .collect();
    let met: Vec<bool> = seen.iter().map(|(_, s)| t.met(s.value)).collect();
    let mut search = Search {
        plan,
        t,
        opts,
        progress,
        info,
        seen,
    };
    let (status, mut at) = match met.windows(2).position(|w| w[0] != w[1]) {
        // met everywhere: the boundary lies beyond the end where it is worst
        None if met[0] => ("met_everywhere", search.end(true)),
        None => ("met_nowhere", search.end(false)),
        Some(i) => {
            let (a, b) = (search.seen[i].clone(), search.seen[i + 1].clone());
            ("found", search.bisect(a, b, met[i], tol)?)
        }
    };
    if at.1.se.is_none() {
        at.1 = search.run(at.0, true)?;
    }
    let mut seen = search.seen;
    seen.sort_by(|a, b| a.0.total_cmp(&b.0));
    let ys: Vec<f64> = seen.iter().map(|(_, s)| s.value).collect();
    for (x, s) in &seen {
        plan.push_points(report, &[Some(*x)], std::slice::from_ref(s));
    }
    let met = status != "met_nowhere";
    Ok(TargetRow {
        commodity: report.commodities[0].clone(),
        path: vary.path.text.clone(),
        op: t.op.as_str().to_string(),
        threshold: t.threshold,
        status: status.to_string(),
        met,
        value: met.then_some(at.0),
        metric: at.1.value,
        ci: ci(at.1.value, at.1.se),
        tolerance: tol,
        monotone: monotone(&ys),
        evaluations: seen.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotone_allows_ties_in_either_direction() {
        assert!(monotone(&[0.3, 0.2, 0.2, 0.0]));
        assert!(monotone(&[0.0, 0.1, 0.1, 0.4]));
        assert!(monotone(&[0.5]));
        assert!(!monotone(&[0.1, 0.3, 0.2]));
    }

    #[test]
    fn target_syntax() {
        let t = Target::parse(" cvar95 >= 0.2 ").unwrap();
        assert_eq!(
            (t.metric, t.op, t.threshold),
            (Metric::Cvar(95), Op::Ge, 0.2)
        );
        assert!(Target::parse("mean=0.1").unwrap_err().contains("METRIC<=X"));
        assert!(Target::parse("mean<=inf").unwrap_err().contains("finite"));
        assert!(
            Target::parse("nope<=1")
                .unwrap_err()
                .contains("unknown metric")
        );
    }
}
