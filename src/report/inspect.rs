//! Static supply concentration per commodity and stage (`crmsim inspect`):
//! Herfindahl-Hirschman index, top producer, top-3 share, a governance-weighted
//! HHI, and the EU Critical Raw Materials Act flag (one country above 65%).
//!
//! Conventions: shares are of world capacity at the stage. `ROW` (the
//! unlisted remainder) is an aggregate of many producers, so it is left out of
//! the HHI, the top producer and the top-3 share (the HHI is then a lower
//! bound); its share is reported beside them. The governance-weighted HHI
//! weights each listed producer's squared share by its governance risk
//! `(2.5 - governance) / 5`, which maps a WGI-like score in [-2.5, 2.5] to
//! [0, 1] (1 = worst); producers without a governance score are left out, and
//! the figure is null when no producer of the stage has one.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::model::{Model, stage_shares};

/// The EU CRMA benchmark: no single third country above 65% of a stage.
pub const CRMA_LIMIT: f64 = 0.65;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProducerShare {
    pub country: String,
    pub share: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageConcentration {
    pub commodity: String,
    pub commodity_name: String,
    pub stage: String,
    /// 0..=10,000 over listed producers.
    pub hhi: f64,
    pub top_producer: Option<String>,
    pub top_share: f64,
    pub top3_share: f64,
    pub row_share: f64,
    pub hhi_governance: Option<f64>,
    /// Producers with governance scores / listed producers.
    pub governance_coverage: f64,
    /// Midstream stock of this stage's output held downstream, in months of
    /// primary demand (upstream stages only; 0 without a buffer).
    pub buffer_months: f64,
    pub over_65: bool,
    /// Listed producers, largest first (ROW not included).
    pub producers: Vec<ProducerShare>,
}

/// Concentration of every commodity and stage.
pub fn concentration(model: &Model) -> Vec<StageConcentration> {
    let nc = model.n_countries();
    let mut out = Vec::new();
    for (k, cm) in model.commodities.iter().enumerate() {
        for (s, stage) in cm.stages.iter().enumerate() {
            let listed: Vec<(usize, f64)> = stage_shares(model, k, s)
                .into_iter()
                .filter(|&(c, _)| c < nc)
                .collect();
            let hhi: f64 = listed.iter().map(|(_, sh)| (sh * 100.0).powi(2)).sum();
            let top = listed.first();
            let top3: f64 = listed.iter().take(3).map(|(_, sh)| sh).sum();
            let mut g_hhi = 0.0;
            let mut covered = 0;
            for &(c, sh) in &listed {
                if let Some(g) = model.countries[c].governance {
                    g_hhi += (sh * 100.0).powi(2) * ((2.5 - g) / 5.0).clamp(0.0, 1.0);
                    covered += 1;
                }
            }
            out.push(StageConcentration {
                commodity: cm.id.clone(),
                commodity_name: cm.name.clone(),
                stage: stage.clone(),
                hhi,
                top_producer: top.map(|&(c, _)| model.country_id(c).to_string()),
                top_share: top.map(|&(_, sh)| sh).unwrap_or(0.0),
                top3_share: top3,
                row_share: cm.row_share[s],
                hhi_governance: (covered > 0).then_some(g_hhi),
                governance_coverage: if listed.is_empty() {
                    0.0
                } else {
                    covered as f64 / listed.len() as f64
                },
                buffer_months: cm.buffer_months[s],
                over_65: top.is_some_and(|&(_, sh)| sh > CRMA_LIMIT),
                producers: listed
                    .iter()
                    .map(|&(c, sh)| ProducerShare {
                        country: model.country_id(c).to_string(),
                        share: sh,
                    })
                    .collect(),
            });
        }
    }
    out
}

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
            "{:<14} {:<11} {:>7.0} {:>6} {:>6.1}% {:>6.1}% {:>5.1}% {:>8} {:>7}  {}",
            r.commodity,
            r.stage,
            r.hhi,
            r.top_producer.as_deref().unwrap_or("-"),
            r.top_share * 100.0,
            r.top3_share * 100.0,
            r.row_share * 100.0,
            r.hhi_governance
                .map(|g| format!("{g:.0}"))
                .unwrap_or_else(|| "n/a".into()),
            if r.buffer_months > 0.0 {
                format!("{:.1} mo", r.buffer_months)
            } else {
                "-".into()
            },
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
            let normal = 1.0 - model.regimes.iter().map(|r| r.probability).sum::<f64>();
            let factor = normal.max(0.0)
                + model
                    .regimes
                    .iter()
                    .map(|r| r.probability * r.factors[i])
                    .sum::<f64>();
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
