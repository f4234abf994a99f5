//! A study as data: the runs behind `docs/studies/alliances.md` (the
//! comparison of the bundled alliance strategies, tornadoes and targets of
//! `sweep`) and the crmsim commands that reproduce each of them. The study
//! page and its figures read this type only.

use super::Summary;
use super::comparison::ComparisonRow;
use super::sweep::SweepReport;

/// One alliance of the base scenario.
#[derive(Debug, Clone)]
pub struct AllianceInfo {
    pub id: String,
    pub name: String,
    /// Member consumers (ids), in file order.
    pub consumers: Vec<String>,
}

/// The crmsim command lines that reproduce each part of a study.
#[derive(Debug, Clone, Default)]
pub struct StudyCommands {
    /// The one command that writes the whole study.
    pub study: String,
    /// The folder of the study's figures, relative to the page.
    pub figures_dir: String,
    pub compare: String,
    pub tornadoes: Vec<String>,
    pub targets: Vec<String>,
}

/// Everything the alliance study computes.
#[derive(Debug, Clone)]
pub struct AllianceStudy {
    pub crmsim_version: String,
    pub trials: u64,
    pub seed: u64,
    pub horizon_months: usize,
    pub currency: Option<String>,
    /// (id, name) of every commodity, in scenario order.
    pub commodities: Vec<(String, String)>,
    /// Consumer ids and ROW, in scenario order (the series of a run but world).
    pub consumers: Vec<String>,
    pub alliances: Vec<AllianceInfo>,
    /// The base and every strategy, with the comparison (no figure data).
    pub summary: Summary,
    /// Tornadoes of the alliance parameters, one per followed consumer.
    pub tornadoes: Vec<SweepReport>,
    /// Targets on members' P(>10%), one per (commodity, member).
    pub targets: Vec<SweepReport>,
    pub commands: StudyCommands,
}

impl AllianceStudy {
    /// The comparison row of `strategy` for (`commodity`, `consumer`).
    pub fn row(&self, strategy: &str, commodity: &str, consumer: &str) -> Option<&ComparisonRow> {
        self.summary
            .comparison
            .as_ref()?
            .rows
            .iter()
            .find(|r| r.strategy == strategy && r.commodity == commodity && r.consumer == consumer)
    }

    /// A metric of the base run for (`commodity`, `consumer`).
    pub fn base(&self, commodity: &str, consumer: &str) -> Option<&crate::stats::Metrics> {
        self.summary
            .results
            .iter()
            .find(|r| r.strategy == "base" && r.commodity == commodity && r.consumer == consumer)
            .map(|r| &r.metrics)
    }

    /// The name of a commodity (its id when unknown).
    pub fn name_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.commodities
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, n)| n.as_str())
            .unwrap_or(id)
    }

    /// Consumers that belong to some alliance.
    pub fn members(&self) -> Vec<String> {
        self.consumers
            .iter()
            .filter(|c| self.alliances.iter().any(|a| a.consumers.contains(c)))
            .cloned()
            .collect()
    }

    /// Whether `consumer` belongs to the alliance `alliance`.
    pub fn is_member(&self, alliance: &str, consumer: &str) -> bool {
        self.alliances
            .iter()
            .any(|a| a.id == alliance && a.consumers.iter().any(|c| c == consumer))
    }
}
