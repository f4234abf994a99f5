//! The `comparison` and `attribution` blocks of summary.json: strategies
//! against the base and the base's shortfall by cause, as data (computed
//! by [`crate::compare`], drawn by [`crate::plot`], tabled by
//! [`crate::report`]).

use serde::{Deserialize, Serialize};

/// One strategy against the base for one commodity and consumer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComparisonRow {
    pub strategy: String,
    pub commodity: String,
    pub consumer: String,
    pub mean: f64,
    pub cvar95: f64,
    pub prob_gt_10: f64,
    /// base mean - strategy mean, with its 95% confidence interval from the
    /// paired per-trial differences.
    pub mean_reduction: f64,
    pub mean_reduction_ci: [f64; 2],
    /// base cvar95 - strategy cvar95, with a 95% confidence interval from the
    /// paired per-trial tail excesses (Rockafellar-Uryasev linearisation).
    pub cvar95_reduction: f64,
    pub cvar95_reduction_ci: [f64; 2],
    /// Share of trials in which the strategy's shortfall is smaller (larger)
    /// than the base's.
    pub prob_better: f64,
    pub prob_worse: f64,
    /// Expected shortfall avoided over the horizon, in tonnes (null without
    /// `annual_demand`).
    pub tonnes_avoided: Option<f64>,
    /// `tonnes_avoided` per million of cost over the horizon
    /// (`cost_per_year * horizon_months / 12`); null without a cost.
    pub tonnes_per_million: Option<f64>,
    /// 1 = largest cvar95 reduction among the strategies for this commodity
    /// and consumer; null for a strategy that changes nothing here (the same
    /// shortfall as the base in every trial).
    pub rank: Option<usize>,
}

/// One strategy over all commodities (world figures).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StrategySummary {
    pub id: String,
    pub name: Option<String>,
    pub cost_per_year: Option<f64>,
    /// Mean over commodities of the world mean and cvar95 reductions.
    pub world_mean_reduction_avg: f64,
    pub world_cvar95_reduction_avg: f64,
    /// World tonnes avoided when exactly one commodity has an
    /// `annual_demand` (tonnes of different materials are never added);
    /// null otherwise (see the rows for each commodity's tonnes).
    pub world_tonnes_avoided: Option<f64>,
    /// On the cost-effectiveness frontier: no other costed strategy costs as
    /// little or less and cuts the average world cvar95 as much or more
    /// (one of the two strictly).
    pub efficient: bool,
}

/// The `comparison` block of summary.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    pub currency: Option<String>,
    pub strategies: Vec<StrategySummary>,
    pub rows: Vec<ComparisonRow>,
}

/// One cause's share of a shortfall.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Part {
    pub name: String,
    /// Share of the expected shortfall (same unit as `mean`).
    pub mean: f64,
    /// Share of the cvar95 tail (same unit as `tail_total`).
    pub tail: f64,
}

/// Attribution of one commodity and consumer of the base run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttributionRow {
    pub commodity: String,
    pub consumer: String,
    /// The expected shortfall the parts add up to (the base's `mean`).
    pub mean: f64,
    /// The tail mean the tail parts add up to: the mean shortfall of the
    /// ceil(N/20) largest trials, read from bands of width 1e-3 (equals
    /// cvar95 within 1e-3).
    pub tail_total: f64,
    pub by_source: Vec<Part>,
    pub by_country: Vec<Part>,
    pub by_kind: Vec<Part>,
}

/// The `attribution` block of summary.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attribution {
    pub rows: Vec<AttributionRow>,
}
