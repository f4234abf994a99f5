//! Everything a run leaves behind: `summary.json` and `metrics.csv` (docs/model.md
//! §7), the terminal tables, and the concentration figures of `inspect`.
//!
//! Each file format is one [`Exporter`]; files are written to a temporary name
//! and renamed, so a failed run never leaves a half-written file.

pub mod backtest;
pub mod csv;
pub mod figdata;
pub mod html;
pub mod inspect;
pub mod json;
pub mod sensitivity;
pub mod sweep;
pub mod table;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
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
    /// Strategies against the base (see [`crate::compare::Comparison`]).
    #[serde(default)]
    pub comparison: Option<crate::compare::Comparison>,
    /// The base's shortfall by cause (see [`crate::compare::Attribution`]).
    #[serde(default)]
    pub attribution: Option<crate::compare::Attribution>,
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
        }
    }
}

/// One output file format.
pub trait Exporter {
    /// File name inside the output folder.
    fn file_name(&self) -> &'static str;
    /// The file's bytes.
    fn serialize(&self, summary: &Summary) -> Result<Vec<u8>, Error>;
}

/// Every exporter a run writes.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![Box::new(json::JsonExporter), Box::new(csv::CsvExporter)]
}

/// Creates `dir` (and parents), with a clear message on failure.
pub fn ensure_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        context: format!("cannot create output folder {}", dir.display()),
        source: e,
    })
}

/// Writes `bytes` to `path` via a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let io = |e: std::io::Error, what: &str| Error::Io {
        context: format!("cannot {what} {}", path.display()),
        source: e,
    };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io(e, "write"))?;
        f.write_all(bytes).map_err(|e| io(e, "write"))?;
        f.sync_all().map_err(|e| io(e, "write"))?;
        std::fs::rename(&tmp, path).map_err(|e| io(e, "replace"))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes every exporter's file into `dir`; returns the paths written.
pub fn write_all(dir: &Path, summary: &Summary) -> Result<Vec<PathBuf>, Error> {
    ensure_dir(dir)?;
    let mut written = Vec::new();
    for ex in exporters() {
        let bytes = ex.serialize(summary)?;
        let path = dir.join(ex.file_name());
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}
