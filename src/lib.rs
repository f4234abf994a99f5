//! crmsim: a Monte Carlo simulator of critical-raw-material supply disruptions.
//!
//! Data flows one way:
//! [`scenario`] (the file as written) → [`model`] (validated, compiled, dense
//! ids) → [`engine`] (one trial, no I/O) → [`stats`] (streaming aggregates,
//! driven in parallel by [`sim`]) → [`report`] (files and tables).
//! [`cli`] turns arguments into calls of these.

pub mod cli;
pub mod compare;
pub mod dist;
pub mod engine;
pub mod error;
pub mod model;
pub mod plot;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod stats;

pub use error::Error;
