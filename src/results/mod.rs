//! The results of a run as data: the content of `summary.json` (the §7
//! fields, figure data, comparison, attribution and the `run` block),
//! built from the simulation's aggregates and read back by `crmsim plot`.
//! Everything the figures and the report show comes from here; this module
//! draws and writes nothing.

pub mod check;
pub mod comparison;
pub mod concentration;
pub mod figdata;
pub mod study;
pub mod sweep;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, InputErrors};
use crate::model::{Model, ROW, WORLD};
use crate::sim::RunResult;
use crate::stats::Metrics;

/// One row of `results`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultRow {
    pub strategy: String,
    pub commodity: String,
    pub consumer: String,
    pub demand_tonnes: Option<f64>,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioRef {
    pub name: String,
    pub sha256: String,
}

/// The content of `summary.json`: the §7 fields, then crmsim's documented
/// additions (`title`, `figures`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub crmsim_version: String,
    pub scenario: ScenarioRef,
    pub seed: u64,
    pub trials: u64,
    pub horizon_months: usize,
    pub results: Vec<ResultRow>,
    /// The scenario's title, if any.
    #[serde(default)]
    pub title: Option<String>,
    /// The data behind every figure (see [`figdata`]).
    #[serde(default)]
    pub figures: Option<figdata::FigureData>,
    /// Strategies against the base (see [`comparison::Comparison`]).
    #[serde(default)]
    pub comparison: Option<comparison::Comparison>,
    /// The base's shortfall by cause (see [`comparison::Attribution`]).
    #[serde(default)]
    pub attribution: Option<comparison::Attribution>,
    /// How and when this run was made. The only part of the summary that is
    /// not a function of (scenario, strategies, seed, trials).
    #[serde(default)]
    pub run: Option<RunInfo>,
}

/// The `run` block of summary.json: provenance of one run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    /// The command line, one argument per item.
    pub command_line: Vec<String>,
    /// Strategy files given with `--strategy`, with the SHA-256 of their bytes.
    pub strategy_files: Vec<FileRef>,
    /// Start and end of the run, RFC 3339 in UTC.
    pub started: String,
    pub finished: String,
    pub crmsim_version: String,
    /// Worker threads (results do not depend on it).
    pub threads: usize,
}

/// A file named on the command line and the SHA-256 of its bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileRef {
    pub path: String,
    pub sha256: String,
}

/// Series ids of a model in figure order: consumers, ROW, world.
pub fn series_ids(model: &Model) -> Vec<String> {
    let mut v: Vec<String> = model.consumers.iter().map(|c| c.id.clone()).collect();
    v.push(ROW.to_string());
    v.push(WORLD.to_string());
    v
}

impl Summary {
    /// Builds the summary of one or more strategies' results (`base` first).
    pub fn new(
        model: &Model,
        sha256: &str,
        seed: u64,
        trials: u64,
        runs: &[(&str, &Model, &RunResult)],
    ) -> Summary {
        let mut results = Vec::new();
        for (strategy, m, run) in runs {
            let ids = series_ids(m);
            for (k, cm) in m.commodities.iter().enumerate() {
                for (i, id) in ids.iter().enumerate() {
                    let d = cm.monthly_tonnes(i);
                    results.push(ResultRow {
                        strategy: strategy.to_string(),
                        commodity: cm.id.clone(),
                        consumer: id.clone(),
                        demand_tonnes: cm.annual_demand.map(|_| d * m.horizon as f64),
                        metrics: run.metrics[k][i].clone(),
                    });
                }
            }
        }
        Summary {
            crmsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: ScenarioRef {
                name: model.name.clone(),
                sha256: sha256.to_string(),
            },
            seed,
            trials,
            horizon_months: model.horizon,
            results,
            title: model.title.clone(),
            figures: Some(figdata::FigureData::new(runs)),
            comparison: None,
            attribution: None,
            run: None,
        }
    }
}

/// Strategies of a summary in order of first appearance (the base first).
pub fn strategies(summary: &Summary) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for r in &summary.results {
        if !v.contains(&r.strategy) {
            v.push(r.strategy.clone());
        }
    }
    v
}

/// Reads a finished run's `summary.json`: I/O failures are [`Error::Io`]
/// (exit 1); content that is not a crmsim summary, or holds figures no run
/// can produce (out of range, not finite), is [`Error::Input`] (exit 2).
pub fn load_summary(path: &Path) -> Result<Summary, Error> {
    let bytes = crate::error::read_input(path, "summary")?;
    let display = path.display().to_string();
    let bad = |m: String| -> Error { InputErrors::single(&display, m).into() };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        bad(format!(
            "file is not valid UTF-8 ({e}); is it a crmsim summary.json?"
        ))
    })?;
    let summary: Summary = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "not a crmsim summary.json: {}",
            check::json_reason(&e)
        ))
    })?;
    if summary.results.is_empty() {
        return Err(bad("no results to plot".into()));
    }
    check::summary(&summary).map_err(bad)?;
    Ok(summary)
}
