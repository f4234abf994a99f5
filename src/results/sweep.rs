//! What `crmsim sweep` leaves behind: `sweep.json` (the [`SweepReport`]) and
//! `sweep.csv` (one row per point, commodity and PATH). Figures and the
//! report page read these types only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ScenarioRef;
use crate::error::Error;

/// One `--vary`: the PATH, its range, and its value in the base scenario
/// (null where the base leaves it to the model's default).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VaryInfo {
    pub path: String,
    pub low: f64,
    pub high: f64,
    /// Grid points along this PATH (grid mode only).
    pub steps: Option<usize>,
    pub base_value: Option<f64>,
}

/// The metric of the base for one commodity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaseRow {
    pub commodity: String,
    pub metric: f64,
    pub ci: [f64; 2],
}

/// One sweep point for one commodity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PointRow {
    pub commodity: String,
    /// The value of each varied PATH at this point.
    pub values: BTreeMap<String, f64>,
    pub metric: f64,
    /// 95% confidence interval of the metric (null when not computed).
    pub ci: Option<[f64; 2]>,
    /// metric − base, with the 95% confidence interval of the paired
    /// trial-by-trial difference (null where the point ran without the base).
    pub change: Option<f64>,
    pub change_ci: Option<[f64; 2]>,
}

/// One bar of a tornado.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TornadoRow {
    pub commodity: String,
    pub path: String,
    pub low: f64,
    pub high: f64,
    /// The metric with this PATH at LOW (HIGH), every other at base.
    pub at_low: f64,
    pub at_high: f64,
    /// |at_high − at_low|; bars are sorted by it, largest first.
    pub swing: f64,
    /// 95% confidence intervals of at_low − base and at_high − base (paired).
    pub change_low_ci: [f64; 2],
    pub change_high_ci: [f64; 2],
}

/// The answer of `--target`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetRow {
    pub commodity: String,
    pub path: String,
    /// `<=` or `>=`.
    pub op: String,
    pub threshold: f64,
    /// `found`, `met_everywhere` or `met_nowhere`.
    pub status: String,
    /// Whether the target is met at `value`.
    pub met: bool,
    /// The boundary value (within `tolerance`, on the side that meets the
    /// target); with `met_everywhere`, the end of the range where the metric
    /// is worst; null with `met_nowhere`.
    pub value: Option<f64>,
    /// The metric at `value` (with `met_nowhere`: at the end where it is best)
    /// and its 95% confidence interval.
    pub metric: f64,
    pub ci: Option<[f64; 2]>,
    pub tolerance: f64,
    /// Whether the metric was monotone over every value evaluated.
    pub monotone: bool,
    /// Number of parameter values evaluated.
    pub evaluations: usize,
}

/// Run time and work done.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    /// The command line, one argument per item.
    #[serde(default)]
    pub command_line: Vec<String>,
    /// Start and end of the sweep, RFC 3339 in UTC.
    #[serde(default)]
    pub started: String,
    #[serde(default)]
    pub finished: String,
    /// The version and build, as `crmsim --version` shows them.
    #[serde(default)]
    pub crmsim_version: String,
    pub seconds: f64,
    /// Passes over the trials (each runs one batch of models together).
    pub passes: usize,
    /// Models run, counted once per pass.
    pub model_runs: usize,
    pub threads: usize,
}

/// The content of `sweep.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepReport {
    pub crmsim_version: String,
    pub scenario: ScenarioRef,
    pub title: Option<String>,
    pub seed: u64,
    pub trials: u64,
    pub horizon_months: usize,
    /// `tornado`, `grid` or `target`.
    pub mode: String,
    pub metric: String,
    /// The commodity chosen; null when every commodity is reported.
    pub commodity: Option<String>,
    pub consumer: String,
    /// Commodity ids reported, with display names.
    pub commodities: Vec<String>,
    pub commodity_names: Vec<String>,
    pub vary: Vec<VaryInfo>,
    /// The metric at base: a number for one commodity, else `{ id: number }`.
    pub base: serde_json::Value,
    pub bases: Vec<BaseRow>,
    pub points: Vec<PointRow>,
    #[serde(default)]
    pub tornado: Option<Vec<TornadoRow>>,
    #[serde(default)]
    pub target: Option<TargetRow>,
    pub run: RunInfo,
}

impl SweepReport {
    /// Display name of a commodity id.
    pub fn name_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.commodities
            .iter()
            .position(|c| c == id)
            .and_then(|i| self.commodity_names.get(i))
            .map(String::as_str)
            .unwrap_or(id)
    }

    /// The base row of a commodity.
    pub fn base_of(&self, id: &str) -> Option<&BaseRow> {
        self.bases.iter().find(|b| b.commodity == id)
    }

    /// `sweep.json` bytes.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        let mut v = serde_json::to_vec_pretty(self).map_err(|e| Error::Other(e.to_string()))?;
        v.push(b'\n');
        Ok(v)
    }

    /// `sweep.csv` bytes: one row per point, commodity and PATH.
    pub fn to_csv(&self) -> Result<Vec<u8>, Error> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let err = |e: ::csv::Error| Error::Other(format!("sweep.csv: {e}"));
        w.write_record([
            "point",
            "commodity",
            "consumer",
            "metric_name",
            "path",
            "value",
            "metric",
            "ci_low",
            "ci_high",
            "change",
            "change_ci_low",
            "change_ci_high",
        ])
        .map_err(err)?;
        let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &self.points {
            let n = index.entry(&p.commodity).or_insert(0);
            *n += 1;
            for (path, value) in &p.values {
                w.write_record([
                    n.to_string(),
                    p.commodity.clone(),
                    self.consumer.clone(),
                    self.metric.clone(),
                    path.clone(),
                    value.to_string(),
                    p.metric.to_string(),
                    opt(p.ci.map(|c| c[0])),
                    opt(p.ci.map(|c| c[1])),
                    opt(p.change),
                    opt(p.change_ci.map(|c| c[0])),
                    opt(p.change_ci.map(|c| c[1])),
                ])
                .map_err(err)?;
            }
        }
        w.into_inner()
            .map_err(|e| Error::Other(format!("sweep.csv: {e}")))
    }
}

/// A value of `metric` for tables: months as a number, the rest as percent.
pub fn fmt_metric(metric: &str, x: f64) -> String {
    if metric == "months_short_mean" {
        format!("{x:.3}")
    } else {
        format!("{:.3}%", 100.0 * x)
    }
}

/// `x` to three significant digits.
pub fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let d = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.d$}")
}

/// A target's answer `v`, to one decimal more than its tolerance `tol`
/// resolves (`9.73828125` within 0.012 is `9.738`); trailing zeros dropped.
pub fn at_tolerance(v: f64, tol: f64) -> String {
    if !(v.is_finite() && tol.is_finite() && tol > 0.0) {
        return v.to_string();
    }
    let d = (1 - tol.log10().floor() as i32).clamp(0, 12) as usize;
    let s = crate::format::fixed(v, d);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A change of `metric`, signed.
pub fn fmt_change(metric: &str, x: f64) -> String {
    let s = fmt_metric(metric, x.abs());
    if x < 0.0 {
        format!("-{s}")
    } else {
        format!("+{s}")
    }
}

fn fmt_ci(metric: &str, ci: Option<[f64; 2]>, change: bool) -> String {
    let f = |x| {
        if change {
            fmt_change(metric, x)
        } else {
            fmt_metric(metric, x)
        }
    };
    ci.map(|c| format!("[{}, {}]", f(c[0]), f(c[1])))
        .unwrap_or_default()
}

impl SweepReport {
    /// The terminal summary.
    pub fn render(&self) -> String {
        let m = self.metric.as_str();
        let mut t = format!(
            "{}: sweep ({}) of {} {}, {} trials, seed {}, {} over the trials, {}, {:.2} s\n",
            self.scenario.name,
            self.mode,
            self.consumer,
            m,
            crate::format::thousands(self.trials),
            self.seed,
            crate::format::count(self.run.passes, "pass", "passes"),
            crate::format::count(self.run.model_runs, "model run", "model runs"),
            self.run.seconds
        );
        for k in &self.commodities {
            if let Some(b) = self.base_of(k) {
                t.push_str(&format!(
                    "\n{} ({}): base {} {}\n",
                    self.name_of(k),
                    k,
                    fmt_metric(m, b.metric),
                    fmt_ci(m, Some(b.ci), false)
                ));
            }
            match (&self.tornado, &self.target) {
                (Some(rows), _) => self.render_tornado(&mut t, k, rows),
                (_, Some(target)) if &target.commodity == k => self.render_target(&mut t, target),
                _ => self.render_points(&mut t, k),
            }
        }
        t
    }

    fn render_tornado(&self, t: &mut String, k: &str, rows: &[TornadoRow]) {
        let m = self.metric.as_str();
        let rows: Vec<&TornadoRow> = rows.iter().filter(|r| r.commodity == k).collect();
        let w = rows.iter().map(|r| r.path.len()).max().unwrap_or(4).max(4);
        t.push_str(&format!(
            "  {:>2}  {:<w$}  {:>21}  {:>9}  {:>9}  {:>9}  change at low, at high (95% CI)\n",
            "#", "path", "low..high", "at low", "at high", "swing"
        ));
        for (i, r) in rows.iter().enumerate() {
            t.push_str(&format!(
                "  {:>2}  {:<w$}  {:>21}  {:>9}  {:>9}  {:>9}  {} {}\n",
                i + 1,
                r.path,
                format!("{}..{}", r.low, r.high),
                fmt_metric(m, r.at_low),
                fmt_metric(m, r.at_high),
                fmt_metric(m, r.swing),
                fmt_ci(m, Some(r.change_low_ci), true),
                fmt_ci(m, Some(r.change_high_ci), true),
            ));
        }
    }

    fn render_points(&self, t: &mut String, k: &str) {
        let m = self.metric.as_str();
        let paths: Vec<&str> = self.vary.iter().map(|v| v.path.as_str()).collect();
        t.push_str(&format!("  {}  {:>9}  95% CI\n", paths.join("  "), m));
        for p in self.points.iter().filter(|p| p.commodity == k) {
            let vals: Vec<String> = paths
                .iter()
                .map(|path| {
                    let v = p
                        .values
                        .get(*path)
                        .map(|x| x.to_string())
                        .unwrap_or_default();
                    format!("{v:>w$}", w = path.len())
                })
                .collect();
            t.push_str(&format!(
                "  {}  {:>9}  {}\n",
                vals.join("  "),
                fmt_metric(m, p.metric),
                fmt_ci(m, p.ci, false)
            ));
        }
    }

    fn render_target(&self, t: &mut String, r: &TargetRow) {
        let m = self.metric.as_str();
        let goal = format!("{} {} {}", m, r.op, fmt_metric(m, r.threshold));
        let range = self
            .vary
            .first()
            .map(|v| format!("{}..{}", v.low, v.high))
            .unwrap_or_default();
        let at = format!("{} {}", fmt_metric(m, r.metric), fmt_ci(m, r.ci, false));
        t.push_str(&match (r.status.as_str(), r.value) {
            ("found", Some(v)) => format!(
                "  target {goal}: met at {} = {} (boundary within {}); {m} there = {at}\n",
                r.path,
                at_tolerance(v, r.tolerance),
                sig(r.tolerance)
            ),
            ("met_everywhere", Some(v)) => format!(
                "  target {goal}: met everywhere in {range} of {}; even at {v}, {m} = {at}\n",
                r.path
            ),
            _ => format!(
                "  target {goal}: met nowhere in {range} of {}; at its best, {m} = {at}\n",
                r.path
            ),
        });
        if !r.monotone {
            t.push_str(&format!(
                "  warning: {m} is not monotone along {} over the {} values evaluated: the target may be met on several intervals; see sweep.csv\n",
                r.path, r.evaluations
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_shown_to_its_tolerance() {
        assert_eq!(at_tolerance(9.73828125, 0.012), "9.738");
        assert_eq!(at_tolerance(9.75, 0.024), "9.75");
        assert_eq!(at_tolerance(4.8046875, 0.006), "4.8047");
        assert_eq!(at_tolerance(3.0, 0.006), "3");
        assert_eq!(at_tolerance(1250.0, 2.5), "1250");
        assert_eq!(at_tolerance(0.123456789, 1e-7), "0.12345679");
    }
}
