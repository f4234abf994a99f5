//! The tables of `crmsim inspect`: static supply concentration (computed in
//! [`crate::results::concentration`], which the figures share) and the
//! expected shock rates.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::format::fixed;
use crate::model::Model;
pub use crate::results::concentration::{
    CRMA_LIMIT, ProducerShare, StageConcentration, concentration,
};

/// The concentration table as text.
pub fn render(rows: &[StageConcentration]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<11} {:>7} {:>6} {:>7} {:>7} {:>6} {:>8} {:>7}  flag",
        "commodity", "stage", "HHI", "top", "share", "top-3", "ROW", "HHI-gov", "buffer"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<14} {:<11} {:>7} {:>6} {:>6}% {:>6}% {:>5}% {:>8} {:>7}  {}",
            r.commodity,
            r.stage,
            fixed(r.hhi, 0),
            r.top_producer.as_deref().unwrap_or("-"),
            fixed(r.top_share * 100.0, 1),
            fixed(r.top3_share * 100.0, 1),
            fixed(r.row_share * 100.0, 1),
            r.hhi_governance
                .map(|g| fixed(g, 0))
                .unwrap_or_else(|| "n/a".into()),
            buffer_cell(r.buffer_months),
            if r.over_65 { ">65% (CRMA)" } else { "" }
        );
    }
    let _ = writeln!(
        out,
        "\nHHI over listed producers (0-10,000; ROW left out). HHI-gov weights each share^2 by (2.5 - governance)/5.\n\
         Buffer: midstream stock of the stage's output, months of primary demand.\n\
         Flag: one country holds more than 65% of the stage (EU Critical Raw Materials Act benchmark)."
    );
    out
}

/// A stage's midstream buffer as shown in `inspect` and report.html:
/// months of primary demand, or "-" without one.
pub fn buffer_cell(months: f64) -> String {
    if months > 0.0 {
        format!("{months:.1} mo")
    } else {
        "-".into()
    }
}

/// How often a shock strikes: its mean rate, the spread of an uncertain
/// rate, and the expected events per year averaged over the regimes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShockRate {
    pub shock: String,
    pub kind: String,
    /// Mean events per year in the normal regime.
    pub rate_per_year: f64,
    pub uncertain: bool,
    /// 5% and 95% quantiles of an uncertain rate (equal to the rate otherwise).
    pub rate_p05: f64,
    pub rate_p95: f64,
    /// Mean rate times the regime-averaged multiplier.
    pub expected_per_year: f64,
}

/// Draws behind the quantiles of an uncertain rate (fixed seed: `inspect`
/// prints the same every time).
const RATE_DRAWS: usize = 100_000;

/// The rates of every shock.
pub fn shock_rates(model: &Model) -> Vec<ShockRate> {
    use rand::SeedableRng;
    model
        .shocks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (p05, p95) = match &s.rate_dist {
                None => (s.rate_per_year, s.rate_per_year),
                Some(d) => {
                    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(i as u64);
                    let mut v: Vec<f64> = (0..RATE_DRAWS)
                        .map(|_| d.sample(&mut rng).max(0.0))
                        .collect();
                    v.sort_by(f64::total_cmp);
                    (v[RATE_DRAWS / 20], v[RATE_DRAWS - RATE_DRAWS / 20 - 1])
                }
            };
            let factor = model.regime_multiplier(i);
            ShockRate {
                shock: s.id.clone(),
                kind: s.kind.as_str().to_string(),
                rate_per_year: s.rate_per_year,
                uncertain: s.rate_dist.is_some(),
                rate_p05: p05,
                rate_p95: p95,
                expected_per_year: s.rate_per_year * factor,
            }
        })
        .collect()
}

/// The shock rate table as text.
pub fn render_rates(rows: &[ShockRate]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<28} {:<12} {:>9} {:>21} {:>12}",
        "shock", "kind", "rate/yr", "uncertain 5%-95%", "E[events]/yr"
    );
    for r in rows {
        let spread = if r.uncertain {
            format!("{:.3} - {:.3}", r.rate_p05, r.rate_p95)
        } else {
            "-".into()
        };
        let _ = writeln!(
            out,
            "{:<28} {:<12} {:>9.3} {:>21} {:>12.3}",
            r.shock, r.kind, r.rate_per_year, spread, r.expected_per_year
        );
    }
    let _ = writeln!(
        out,
        "\nrate/yr: mean events per year in the normal regime (an uncertain rate is drawn once per trial).\n\
         E[events]/yr: the mean rate times the regime-averaged multiplier."
    );
    out
}
