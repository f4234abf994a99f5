//! Static supply concentration per commodity and stage (`crmsim inspect`,
//! the concentration figure and table):
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
