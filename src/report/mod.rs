//! Everything a run leaves behind: `summary.json` and `metrics.csv` (docs/model.md
//! §7), the terminal tables, and the concentration figures of `inspect`.
//!
//! Each file format is one [`Exporter`]; files are written to a temporary name
//! and renamed, so a failed run never leaves a half-written file.

pub mod backtest;
pub mod csv;
pub mod html;
pub mod inspect;
pub mod json;
pub mod sensitivity;
pub mod study;
pub use crate::results::sweep;
pub mod table;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::plot::{self, Figure, Formats};
pub use crate::results::{ResultRow, RunInfo, ScenarioRef, Summary, figdata, series_ids};

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

/// Writes rendered figures into `dir` (created if needed); returns the paths.
pub fn write_figures(figs: &[Figure], dir: &Path, formats: Formats) -> Result<Vec<PathBuf>, Error> {
    ensure_dir(dir)?;
    let mut written = Vec::new();
    for f in figs {
        if formats.svg() {
            let p = dir.join(format!("{}.svg", f.stem));
            write_atomic(&p, f.svg.as_bytes())?;
            written.push(p);
        }
        if let (true, Some(png)) = (formats.png(), &f.png) {
            let p = dir.join(format!("{}.png", f.stem));
            write_atomic(&p, png)?;
            written.push(p);
        }
    }
    Ok(written)
}

/// Draws every figure into `<out>/figures/` and writes `<out>/report.html`
/// (which embeds the SVGs); returns the paths written, report last.
pub fn write_report(
    summary: &Summary,
    out: &Path,
    formats: Formats,
) -> Result<Vec<PathBuf>, Error> {
    let figs = plot::render_all(summary, formats)?;
    let mut written = write_figures(&figs, &out.join("figures"), formats)?;
    let html = html::render(summary, &figs);
    let p = out.join("report.html");
    write_atomic(&p, html.as_bytes())?;
    written.push(p);
    Ok(written)
}

/// Writes a whole run into `dir`: every exporter's file and, with
/// `figures`, the figures and report.html; returns the paths written.
pub fn write_run(
    dir: &Path,
    summary: &Summary,
    figures: Option<Formats>,
) -> Result<Vec<PathBuf>, Error> {
    let mut written = write_all(dir, summary)?;
    if let Some(formats) = figures {
        written.extend(write_report(summary, dir, formats)?);
    }
    Ok(written)
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
