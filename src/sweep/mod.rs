//! `crmsim sweep`: what drives the risk (tornado), how it moves over a grid
//! of inputs, and how much of an input meets a target.
//!
//! Every sweep point is the base scenario patched at some PATHs (see
//! [`path`]), validated and compiled like a strategy, and run on the base's
//! random streams (docs/model.md §6, common random numbers). Points step
//! through the trials together in batches (see [`pass`]) sized so memory
//! stays bounded;
//! a point equal to the base gives exactly the base's figures, and nothing
//! depends on the thread count.

pub mod metric;
pub mod pass;
pub mod path;

mod target;

use std::collections::BTreeMap;

use crate::error::{Error, InputErrors};
use crate::model::Model;
use crate::results::ScenarioRef;
use crate::results::sweep::{BaseRow, PointRow, RunInfo, SweepReport, TornadoRow, VaryInfo};
use crate::scenario::Source;
use crate::sim::RunOptions;

pub use metric::Metric;
pub use pass::{PointStats, Selection};
pub use path::ParamPath;
pub use target::{Op, Target};

/// 95% two-sided normal quantile.
const Z95: f64 = 1.959963984540054;
/// Default grid points per PATH.
pub const DEFAULT_STEPS: usize = 5;
/// Most grid points per PATH.
pub const MAX_STEPS: usize = 1001;
/// Most points of a grid (101 × 101 for two PATHs): every point is a model
/// checked before the first trial and stepped through every trial, so a
/// 1,001 × 1,001 grid would take minutes and gigabytes before any result.
pub const MAX_GRID_POINTS: usize = 10_201;
/// Memory the accumulators of one batch may take, in bytes.
const BATCH_BYTES: usize = 768 << 20;
/// Accumulator bytes of one model and commodity: two full histograms of
/// 10,000 bins of 16 bytes, and the band pairs of a quantile's or cvar's
/// interval (about 80 KB on the baseline).
const ACC_BYTES: usize = 400_000;

/// One `--vary PATH=LOW..HIGH[:STEPS]`.
#[derive(Debug, Clone)]
pub struct Vary {
    pub path: ParamPath,
    pub low: f64,
    pub high: f64,
    pub steps: Option<usize>,
}

impl Vary {
    /// Parses `PATH=LOW..HIGH[:STEPS]` against the base's raw TOML.
    pub fn parse(text: &str, raw: &toml::Table) -> Result<Vary, String> {
        let (p, range) = text.split_once('=').ok_or(
            "expected PATH=LOW..HIGH[:STEPS], e.g. consumer.EU.stockpile_months.gallium=0..6",
        )?;
        let path = ParamPath::resolve(p.trim(), raw).map_err(|e| {
            let p = p.trim();
            match p.char_indices().nth(120) {
                Some((cut, _)) => format!("{}…: {e}", &p[..cut]),
                None => format!("{p}: {e}"),
            }
        })?;
        let (range, steps) = match range.rsplit_once(':') {
            Some((r, s)) => {
                let n: usize = s
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (2..=MAX_STEPS).contains(n))
                    .ok_or_else(|| {
                        format!(
                            "{path}: STEPS must be a whole number from 2 to {MAX_STEPS}, got `{s}`"
                        )
                    })?;
                (r, Some(n))
            }
            None => (range, None),
        };
        let (lo, hi) = range
            .split_once("..")
            .ok_or_else(|| format!("{path}: expected LOW..HIGH, got `{range}`"))?;
        let num = |s: &str| -> Result<f64, String> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{path}: `{s}` is not a finite number"))
        };
        let (low, high) = (num(lo)?, num(hi)?);
        if low >= high {
            return Err(format!(
                "{path}: LOW must be below HIGH, got {}..{}",
                crate::format::num(low),
                crate::format::num(high)
            ));
        }
        Ok(Vary {
            path,
            low,
            high,
            steps,
        })
    }

    /// The grid values of this PATH: `steps` evenly spaced from LOW to HIGH.
    pub fn grid(&self) -> Vec<f64> {
        let n = self.steps.unwrap_or(DEFAULT_STEPS);
        (0..n)
            .map(|i| {
                if i + 1 == n {
                    self.high
                } else {
                    // 12 significant digits: 0.1, not 0.09999999999999999.
                    let v = self.low + (self.high - self.low) * i as f64 / (n - 1) as f64;
                    format!("{v:.11e}").parse().unwrap_or(v)
                }
            })
            .collect()
    }
}

/// What a sweep computes.
#[derive(Debug, Clone)]
pub enum Mode {
    Tornado,
    Grid,
    Target(Target),
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Tornado => "tornado",
            Mode::Grid => "grid",
            Mode::Target(_) => "target",
        }
    }
}

/// A checked sweep: the base, the PATHs, what to follow and how.
pub struct Plan<'a> {
    pub source: &'a Source,
    pub base: &'a Model,
    pub varies: Vec<Vary>,
    pub sel: Selection,
    pub mode: Mode,
    /// The points (values per vary, in `varies` order) and their models,
    /// compiled up front (tornado and grid; target compiles as it goes).
    points: Vec<Vec<Option<f64>>>,
    models: Vec<Model>,
}

/// Patches and compiles one point (`None`: that PATH stays as in the base);
/// errors name the PATHs and values.
pub fn compile_point(
    source: &Source,
    varies: &[Vary],
    values: &[Option<f64>],
) -> Result<Model, Error> {
    let sets: Vec<(&ParamPath, f64)> = varies
        .iter()
        .zip(values)
        .filter_map(|(v, x)| x.map(|x| (&v.path, x)))
        .collect();
    let label = format!(
        "{} with {}",
        source.display,
        sets.iter()
            .map(|(p, v)| format!("{p} = {}", crate::format::num(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let scenario = path::patch(source, &sets).map_err(|e| InputErrors::single(&label, e))?;
    Ok(Model::compile(&label, &scenario)?)
}

impl<'a> Plan<'a> {
    /// Checks the combination of PATHs and mode, and compiles every point of
    /// a tornado or grid (so a bad value stops the sweep before it starts).
    pub fn new(
        source: &'a Source,
        base: &'a Model,
        varies: Vec<Vary>,
        sel: Selection,
        mode: Mode,
    ) -> Result<Plan<'a>, Error> {
        let points = points_of(&varies, &sel, &mode).map_err(Error::Usage)?;
        let models = points
            .iter()
            .map(|vals| compile_point(source, &varies, vals))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Plan {
            source,
            base,
            varies,
            sel,
            mode,
            points,
            models,
        })
    }

    /// Models per batch, so a batch's accumulators stay within [`BATCH_BYTES`].
    fn batch_size(&self, threads: usize) -> usize {
        let per = ACC_BYTES * self.sel.commodities.len().max(1) * threads.max(1);
        (BATCH_BYTES / per).clamp(2, 512)
    }

    /// The batches of point indices: each runs with the base as model 0.
    fn batches(&self, threads: usize) -> Vec<std::ops::Range<usize>> {
        let size = self.batch_size(threads) - 1;
        (0..self.points.len())
            .step_by(size)
            .map(|s| s..(s + size).min(self.points.len()))
            .collect()
    }

    /// Upper bound of the model-trials the sweep runs (for a progress bar).
    pub fn work(&self, opts: RunOptions) -> u64 {
        self.work_of(opts.threads, opts.trials)
    }

    /// Model-trials of a sweep over `trials` trials (of a shard's).
    fn work_of(&self, threads: usize, trials: u64) -> u64 {
        let models = match &self.mode {
            // scan with the base and halvings in one pass each, then (for
            // metrics whose ψ needs the aggregates) the answer again for its CI
            Mode::Target(_) => {
                let again = usize::from(self.sel.metric.psi_needs_aggregates());
                self.points.len() + 1 + target::MAX_STEPS + 2 + again
            }
            _ => self.points.len() + self.batches(threads).len(),
        };
        models as u64 * trials
    }

    /// Runs the sweep.
    pub fn run(
        &self,
        opts: RunOptions,
        sha256: &str,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<SweepReport, Error> {
        let t0 = std::time::Instant::now();
        let mut info = RunInfo {
            seconds: 0.0,
            passes: 0,
            model_runs: 0,
            threads: opts.threads,
            ..RunInfo::default()
        };
        let mut report = self.empty_report(opts, sha256);
        let (base, stats) = self.run_points(opts, progress, &mut info)?;
        self.fill_bases(&mut report, &base);
        match &self.mode {
            Mode::Target(t) => {
                let row = target::search(self, t, &stats, opts, progress, &mut info, &mut report)?;
                report.target = Some(row);
            }
            _ => self.fill_points(&mut report, &base, &stats),
        }
        info.seconds = t0.elapsed().as_secs_f64();
        report.run = info;
        Ok(report)
    }

    /// The point rows and (for a tornado) its bars.
    fn fill_points(
        &self,
        report: &mut SweepReport,
        base: &[PointStats],
        stats: &[Vec<PointStats>],
    ) {
        for (vals, st) in self.points.iter().zip(stats) {
            self.push_points(report, vals, st);
        }
        if matches!(self.mode, Mode::Tornado) {
            report.tornado = Some(self.tornado(base, stats));
        }
    }

    /// Runs the base and every precompiled point, batch by batch.
    fn run_points(
        &self,
        opts: RunOptions,
        progress: &(dyn Fn(u64) + Sync),
        info: &mut RunInfo,
    ) -> Result<(Vec<PointStats>, Vec<Vec<PointStats>>), Error> {
        let ci = !matches!(self.mode, Mode::Target(_));
        let mut base = Vec::new();
        let mut stats = Vec::with_capacity(self.points.len());
        for range in self.batches(opts.threads) {
            let mut models: Vec<&Model> = vec![self.base];
            models.extend(self.models[range].iter());
            let mut out = pass::run_batch(&models, &self.sel, true, ci, opts, progress)?;
            info.passes += 1;
            info.model_runs += models.len();
            let rest = out.split_off(1);
            base = out.pop().unwrap_or_default();
            stats.extend(rest);
        }
        if base.is_empty() {
            // no points (cannot happen after Plan::new); run the base alone
            let out = pass::run_batch(&[self.base], &self.sel, true, ci, opts, progress)?;
            base = out.into_iter().next().unwrap_or_default();
        }
        Ok((base, stats))
    }

    /// Model digests of the points, in order (what a shard's partial names).
    pub fn point_digests(&self) -> Vec<(String, String)> {
        self.points
            .iter()
            .zip(&self.models)
            .map(|(vals, m)| (self.label(vals), m.digest()))
            .collect()
    }

    /// `PATH=value, ...` of a point.
    fn label(&self, vals: &[Option<f64>]) -> String {
        let sets: Vec<String> = self
            .varies
            .iter()
            .zip(vals)
            .filter_map(|(v, x)| x.map(|x| format!("{}={x}", v.path)))
            .collect();
        sets.join(", ")
    }

    /// Runs shard `range` of the trials of a tornado or grid: the
    /// accumulators of the base and of every point, in the postcard encoding
    /// of a [`pass::State`] (model 0 the base, then the points in order),
    /// written batch by batch so memory holds one batch and the bytes.
    pub fn shard(
        &self,
        opts: RunOptions,
        range: std::ops::Range<u64>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<u8>, Error> {
        let encode = |e: postcard::Error| Error::Other(format!("cannot encode a partial: {e}"));
        let mut body = postcard::to_allocvec(&(self.points.len() + 1)).map_err(encode)?;
        for (b, batch) in self.batches(opts.threads).into_iter().enumerate() {
            let mut models: Vec<&Model> = vec![self.base];
            models.extend(self.models[batch].iter());
            let state = pass::accumulate(&models, &self.sel, true, opts, range.clone(), progress)?;
            // the base is in every batch, with the same sums: keep the first
            for row in state.iter().skip(usize::from(b > 0)) {
                body = postcard::to_extend(row, body).map_err(encode)?;
            }
        }
        Ok(body)
    }

    /// Upper bound of the model-trials of shard `range` (for a progress bar).
    pub fn shard_work(&self, threads: usize, range: &std::ops::Range<u64>) -> u64 {
        self.work_of(threads, range.end - range.start)
    }

    /// Empty accumulators of the base and every point (what shards add to).
    pub fn empty_state(&self) -> pass::State {
        pass::empty(self.points.len() + 1, &self.sel)
    }

    /// The report of a tornado or grid from the accumulators of all trials
    /// (merged from shards): the same as [`Plan::run`] gives, but `run`.
    pub fn report_of(
        &self,
        state: &pass::State,
        opts: RunOptions,
        sha256: &str,
        run: RunInfo,
    ) -> SweepReport {
        let mut models: Vec<&Model> = vec![self.base];
        models.extend(self.models.iter());
        let mut stats = pass::finish(&models, &self.sel, state, true, true);
        let rest = stats.split_off(1.min(stats.len()));
        let base = stats.pop().unwrap_or_default();
        let mut report = self.empty_report(opts, sha256);
        self.fill_bases(&mut report, &base);
        self.fill_points(&mut report, &base, &rest);
        report.run = run;
        report
    }

    fn empty_report(&self, opts: RunOptions, sha256: &str) -> SweepReport {
        let ks = &self.sel.commodities;
        let ids = crate::results::series_ids(self.base);
        SweepReport {
            crmsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: ScenarioRef {
                name: self.base.name.clone(),
                sha256: sha256.to_string(),
            },
            title: self.base.title.clone(),
            seed: opts.seed,
            trials: opts.trials,
            horizon_months: self.base.horizon,
            mode: self.mode.name().to_string(),
            metric: self.sel.metric.name().to_string(),
            commodity: (ks.len() == 1).then(|| self.base.commodities[ks[0]].id.clone()),
            consumer: ids[self.sel.series].clone(),
            commodities: ks
                .iter()
                .map(|&k| self.base.commodities[k].id.clone())
                .collect(),
            commodity_names: ks
                .iter()
                .map(|&k| self.base.commodities[k].name.clone())
                .collect(),
            vary: self
                .varies
                .iter()
                .map(|v| VaryInfo {
                    path: v.path.text.clone(),
                    low: v.low,
                    high: v.high,
                    steps: matches!(self.mode, Mode::Grid)
                        .then(|| v.steps.unwrap_or(DEFAULT_STEPS)),
                    base_value: v.path.base,
                })
                .collect(),
            base: serde_json::Value::Null,
            bases: Vec::new(),
            points: Vec::new(),
            tornado: None,
            target: None,
            run: RunInfo {
                seconds: 0.0,
                passes: 0,
                model_runs: 0,
                threads: opts.threads,
                ..RunInfo::default()
            },
        }
    }

    fn fill_bases(&self, report: &mut SweepReport, base: &[PointStats]) {
        report.bases = report
            .commodities
            .iter()
            .zip(base)
            .map(|(k, s)| BaseRow {
                commodity: k.clone(),
                metric: s.value,
                ci: ci(s.value, s.se).unwrap_or([s.value, s.value]),
            })
            .collect();
        report.base = if report.bases.len() == 1 {
            serde_json::json!(report.bases[0].metric)
        } else {
            let m: serde_json::Map<String, serde_json::Value> = report
                .bases
                .iter()
                .map(|b| (b.commodity.clone(), serde_json::json!(b.metric)))
                .collect();
            serde_json::Value::Object(m)
        };
    }

    /// Adds one point's rows (one per commodity) to the report.
    fn push_points(&self, report: &mut SweepReport, vals: &[Option<f64>], st: &[PointStats]) {
        let values: BTreeMap<String, f64> = self
            .varies
            .iter()
            .zip(vals)
            .filter_map(|(v, x)| x.map(|x| (v.path.text.clone(), x)))
            .collect();
        for ((k, s), b) in report
            .commodities
            .clone()
            .iter()
            .zip(st)
            .zip(report.bases.clone())
        {
            let change = s.change_se.map(|_| s.value - b.metric);
            report.points.push(PointRow {
                commodity: k.clone(),
                values: values.clone(),
                metric: s.value,
                ci: ci(s.value, s.se),
                change,
                change_ci: change.and_then(|c| ci(c, s.change_se)),
            });
        }
    }

    /// Tornado rows, per commodity sorted by swing (largest first).
    fn tornado(&self, base: &[PointStats], stats: &[Vec<PointStats>]) -> Vec<TornadoRow> {
        let mut rows = Vec::new();
        for (c, &k) in self.sel.commodities.iter().enumerate() {
            let b = base[c].value;
            let mut group: Vec<TornadoRow> = self
                .varies
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let (lo, hi) = (&stats[2 * i][c], &stats[2 * i + 1][c]);
                    let band =
                        |s: &PointStats| ci(s.value - b, s.change_se).unwrap_or([s.value - b; 2]);
                    TornadoRow {
                        commodity: self.base.commodities[k].id.clone(),
                        path: v.path.text.clone(),
                        low: v.low,
                        high: v.high,
                        at_low: lo.value,
                        at_high: hi.value,
                        swing: (hi.value - lo.value).abs(),
                        change_low_ci: band(lo),
                        change_high_ci: band(hi),
                    }
                })
                .collect();
            group.sort_by(|a, b| b.swing.total_cmp(&a.swing));
            rows.extend(group);
        }
        rows
    }
}

/// The 95% confidence interval `x ± 1.96 se`.
pub fn ci(x: f64, se: Option<f64>) -> Option<[f64; 2]> {
    se.map(|s| [x - Z95 * s, x + Z95 * s])
}

/// How many points a tornado or grid has, found without compiling them (a
/// merge compares it with its partials' before building the models).
pub fn point_count(varies: &[Vary], sel: &Selection, mode: &Mode) -> Result<usize, Error> {
    points_of(varies, sel, mode)
        .map(|p| p.len())
        .map_err(Error::Usage)
}

/// The points of a mode (`None`: that PATH stays as in the base), or why
/// the combination of PATHs and mode is not allowed.
fn points_of(
    varies: &[Vary],
    sel: &Selection,
    mode: &Mode,
) -> Result<Vec<Vec<Option<f64>>>, String> {
    if varies.is_empty() {
        return Err("sweep needs at least one --vary PATH=LOW..HIGH".into());
    }
    for (i, v) in varies.iter().enumerate() {
        let same = |w: &&Vary| {
            w.path.table == v.path.table && w.path.id == v.path.id && w.path.keys == v.path.keys
        };
        if varies[..i].iter().any(|w| same(&w)) {
            return Err(format!("--vary {}: the same PATH is given twice", v.path));
        }
        if v.steps.is_some() && !matches!(mode, Mode::Grid) {
            return Err(format!(
                "--vary {}: `:STEPS` applies only with --grid",
                v.path
            ));
        }
    }
    match mode {
        Mode::Tornado => Ok(tornado_points(varies)),
        Mode::Grid if varies.len() > 2 => Err(format!(
            "--grid takes one or two --vary, got {}",
            varies.len()
        )),
        Mode::Grid => {
            let steps = varies.iter().map(|v| v.steps.unwrap_or(DEFAULT_STEPS));
            let n: usize = steps.clone().product();
            if n > MAX_GRID_POINTS {
                let each: Vec<String> = steps.map(|s| s.to_string()).collect();
                return Err(format!(
                    "--grid: {} = {} points; a grid has at most {} (e.g. 101 × 101): give fewer STEPS",
                    each.join(" × "),
                    crate::format::thousands(n as u64),
                    crate::format::thousands(MAX_GRID_POINTS as u64),
                ));
            }
            Ok(grid_points(varies))
        }
        Mode::Target(_) if varies.len() != 1 => Err(format!(
            "--target takes exactly one --vary, got {}",
            varies.len()
        )),
        Mode::Target(_) if sel.commodities.len() != 1 => {
            Err("--target needs one commodity: give --commodity".into())
        }
        Mode::Target(_) => Ok(target::coarse(&varies[0])
            .into_iter()
            .map(|v| vec![Some(v)])
            .collect()),
    }
}

/// Tornado points: each PATH at LOW, then at HIGH, the others at base.
fn tornado_points(varies: &[Vary]) -> Vec<Vec<Option<f64>>> {
    let mut out = Vec::new();
    for i in 0..varies.len() {
        for x in [varies[i].low, varies[i].high] {
            let mut p = vec![None; varies.len()];
            p[i] = Some(x);
            out.push(p);
        }
    }
    out
}

/// Every combination of the PATHs' grid values (the first PATH slowest).
fn grid_points(varies: &[Vary]) -> Vec<Vec<Option<f64>>> {
    let mut out: Vec<Vec<Option<f64>>> = vec![Vec::new()];
    for v in varies {
        out = out
            .into_iter()
            .flat_map(|p| {
                v.grid().into_iter().map(move |x| {
                    let mut q = p.clone();
                    q.push(Some(x));
                    q
                })
            })
            .collect();
    }
    out
}
