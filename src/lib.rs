//! crmsim: a Monte Carlo simulator of critical-raw-material supply disruptions.
//!
//! Data flows one way:
//! [`scenario`] (the file as written) → [`model`] (validated, compiled, dense
//! ids) → [`engine`] (one trial, no I/O) → [`stats`] (streaming aggregates,
//! driven in parallel by [`sim`]; [`compare`] runs strategies and
//! attribution, [`sweep`] varies inputs: tornado, grids, targets) →
//! [`results`] (the summary as data) → [`plot`] (figures) → [`report`]
//! (files, tables and the HTML page that composes the figures). [`output`]
//! makes each output folder hold one complete run; [`format`] writes numbers
//! as text; [`cli`] turns arguments into calls of these.
//!
//! Using the library directly:
//!
//! ```
//! use crmsim::{model::Model, scenario, sim};
//!
//! let text = r#"
//! [scenario]
//! name = "demo"
//! [[country]]
//! id = "CN"
//! name = "China"
//! [[consumer]]
//! id = "EU"
//! name = "European Union"
//! demand_share = { gallium = 0.2 }
//! [[commodity]]
//! id = "gallium"
//! name = "Gallium"
//! [commodity.producers.production]
//! CN = 0.98
//! [[event]]
//! id = "ban"
//! kind = "export_ban"
//! countries = ["CN"]
//! start_month = 0.0
//! duration_months = 6.0
//! severity = 1.0
//! targets = ["EU"]
//! "#;
//! let source = scenario::parse_bytes("demo.toml", text.as_bytes()).unwrap();
//! let model = Model::compile(&source.display, &source.scenario).unwrap();
//! let opts = sim::RunOptions { trials: 1000, seed: 1, threads: 2 };
//! let runs = sim::run(&[&model], opts, &|_| {}).unwrap();
//! // EU loses 98% of its supply for half the year: a 49% shortfall, every trial.
//! let eu = &runs[0].metrics[0][0];
//! assert!((eu.mean - 0.49).abs() < 1e-12 && eu.p99 == eu.p50);
//! ```

pub mod backtest;
pub mod calibrate;
pub mod cli;
pub mod compare;
pub mod dist;
pub mod engine;
pub mod error;
pub mod format;
pub mod model;
pub mod output;
pub mod partial;
pub mod plot;
pub mod record;
pub mod report;
pub mod results;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod study;
pub mod sweep;

pub use error::Error;

/// The build identity: a hash of the sources this binary was compiled from
/// (computed by `build.rs`). Shards are merged only by the same build.
pub const BUILD: &str = env!("CRMSIM_BUILD");

/// The version with the build identity, as `--version` and the `run` block
/// of the outputs show it: `0.1.0 (build 0123456789abcdef)`.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (build ",
    env!("CRMSIM_BUILD"),
    ")"
);
