//! The validated, compiled scenario: every rule of docs/model.md §1 checked
//! (all problems collected, not just the first), ids resolved to dense
//! indices, and the per-commodity tables the engine needs precomputed.
//!
//! Quantities of a commodity are kept in units of its monthly world demand M
//! (M = 1), so results never depend on the scale of `annual_demand`; tonnes
//! are [`CommodityModel::monthly_tonnes`] times these.
//!
//! Index conventions used everywhere downstream:
//! - countries `0..n_countries`, and `n_countries` is `ROW` (rest of world);
//! - consumers `0..n_consumers`, and `n_consumers` is the implicit consumer `ROW`;
//! - per commodity, "local producers" `0..P`: the countries with a share at any
//!   stage, in declaration order, then `ROW` last.

mod build;
mod footprint;

use crate::dist::Dist;
use crate::error::InputErrors;
use crate::scenario::Scenario;

/// Reserved ids.
pub const ROW: &str = "ROW";
pub const WORLD: &str = "world";
/// Tolerance on share sums (§1).
pub const SHARE_TOL: f64 = 1e-9;

/// True when `id` is a valid id: `[A-Za-z0-9_.-]+`, not `.` or `..`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// The four shock kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Conflict,
    Disaster,
    Nationalism,
    ExportBan,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Conflict,
        Kind::Disaster,
        Kind::Nationalism,
        Kind::ExportBan,
    ];

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "conflict" => Kind::Conflict,
            "disaster" => Kind::Disaster,
            "nationalism" => Kind::Nationalism,
            "export_ban" => Kind::ExportBan,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Conflict => "conflict",
            Kind::Disaster => "disaster",
            Kind::Nationalism => "nationalism",
            Kind::ExportBan => "export_ban",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CountryInfo {
    pub id: String,
    pub name: String,
    pub region: Option<String>,
    pub governance: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ConsumerInfo {
    pub id: String,
    pub name: String,
}

/// One alliance as it acts on one commodity.
#[derive(Debug, Clone)]
pub struct CommodityAlliance {
    /// Index of the alliance in file order.
    pub alliance: usize,
    pub spare_capacity: f64,
    pub ramp_months: f64,
    pub diversion: f64,
    /// Per consumer (ROW included, always false): is it a member?
    pub member_consumer: Vec<bool>,
    /// Local producers that are members and produce at the final stage.
    pub member_producers: Vec<usize>,
}

/// Everything the engine needs about one commodity.
#[derive(Debug, Clone)]
pub struct CommodityModel {
    pub id: String,
    pub name: String,
    pub annual_demand: Option<f64>,
    /// Monthly world demand M in tonnes (1 without `annual_demand`); only
    /// for tonne figures: the quantities below are in units of M.
    pub monthly_demand: f64,
    pub stages: Vec<String>,
    /// Global country index of each local producer (`n_countries` = ROW, last).
    pub producers: Vec<usize>,
    /// `shares[s][p]`: share of world capacity at stage s (ROW last).
    pub shares: Vec<Vec<f64>>,
    /// `cap[s][p]` = share(p, s) * P (§2: capacity is a share of primary demand).
    pub cap: Vec<Vec<f64>>,
    /// Share of each stage held by ROW.
    pub row_share: Vec<f64>,
    /// Per stage: midstream stock of its output at t = 0, `buffer_months * P`
    /// (0 for the final stage and stages without a buffer).
    pub buffer: Vec<f64>,
    /// Per stage: `buffer_months` as written (0 when absent).
    pub buffer_months: Vec<f64>,
    /// Per consumer, ROW last, in units of M: total demand d(j), market
    /// demand m(j), stock at t = 0.
    pub demand_rel: Vec<f64>,
    pub market: Vec<f64>,
    pub stock0: Vec<f64>,
    /// Per consumer: was a non-zero stockpile given (for `stockout_prob`)?
    pub has_stockpile: Vec<bool>,
    /// The market's primary demand P = sum of m(j) (units of M).
    pub market_total: f64,
    /// Alliances with at least one member consumer, in file order.
    pub alliances: Vec<CommodityAlliance>,
    /// `allied[p][j]`: local producer p shares an alliance with consumer j.
    pub allied: Vec<Vec<bool>>,
    /// `same_id[p][j]`: producer country p has the same id as consumer j.
    pub same_id: Vec<Vec<bool>>,
    /// Per local producer: the largest `spare_capacity` over its alliances
    /// (its one monthly surge budget, §4 step 5, is this times r * cap * keep).
    pub max_spare: Vec<f64>,
}

impl CommodityModel {
    pub fn final_stage(&self) -> usize {
        self.stages.len() - 1
    }

    /// Monthly demand of series `i` (consumers, ROW, then world) in tonnes
    /// (in units of M = 1 without `annual_demand`).
    pub fn monthly_tonnes(&self, i: usize) -> f64 {
        self.demand_rel.get(i).copied().unwrap_or(1.0) * self.monthly_demand
    }

    /// Local index of a global country index, if it produces this commodity.
    pub fn local(&self, country: usize) -> Option<usize> {
        self.producers.iter().position(|&c| c == country)
    }
}

/// Who an export ban targets, before resolving per producer.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    All,
    NonAllies,
    /// Consumer indices (ROW = n_consumers).
    List(Vec<usize>),
}

/// What one shock or event does to one commodity.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Output loss: `(footprint position, stage, local producer)` triples.
    Output {
        commodity: usize,
        hits: Vec<(usize, usize, usize)>,
    },
    /// Export ban on the final stage: `(footprint position, local producer, targeted consumers)`.
    Ban {
        commodity: usize,
        hits: Vec<(usize, usize, Vec<bool>)>,
        leakage: f64,
    },
}

impl Effect {
    pub fn commodity(&self) -> usize {
        match self {
            Effect::Output { commodity, .. } | Effect::Ban { commodity, .. } => *commodity,
        }
    }

    /// How many producers and stages one event strikes through this effect.
    pub fn hit_count(&self) -> usize {
        match self {
            Effect::Output { hits, .. } => hits.len(),
            Effect::Ban { hits, .. } => hits.len(),
        }
    }
}

/// A stochastic shock.
#[derive(Debug, Clone)]
pub struct ShockModel {
    pub id: String,
    pub name: Option<String>,
    /// Stream key: a hash of the id, so a shock's draws depend on its id, not
    /// its position in the file (common random numbers across strategies).
    pub key: u64,
    pub kind: Kind,
    /// Footprint countries in order (ROW = n_countries for `global = true`).
    pub footprint: Vec<usize>,
    pub global: bool,
    /// Mean events per year (`probability_per_year` already converted; for an
    /// uncertain rate, the mean of its draws clamped to [0, inf)).
    pub rate_per_year: f64,
    /// An uncertain rate (§3): drawn once per trial from the shock's stream.
    pub rate_dist: Option<Dist>,
    pub severity: Dist,
    pub duration: Dist,
    pub independent: bool,
    pub effects: Vec<Effect>,
}

/// A scheduled event (happens in every trial).
#[derive(Debug, Clone)]
pub struct EventModel {
    pub id: String,
    pub kind: Kind,
    pub footprint: Vec<usize>,
    pub start_month: f64,
    pub duration_months: f64,
    pub severity: f64,
    pub effects: Vec<Effect>,
}

#[derive(Debug, Clone)]
pub struct RegimeModel {
    pub id: String,
    pub probability: f64,
    /// Rate factor per shock (product of the matching multipliers).
    pub factors: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct AllianceModel {
    pub id: String,
    pub name: Option<String>,
    pub member_countries: Vec<usize>,
    pub member_consumers: Vec<usize>,
    pub spare_capacity: f64,
    pub ramp_months: f64,
    pub diversion: f64,
}

/// A validated, compiled scenario.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub title: Option<String>,
    pub horizon: usize,
    pub trials: u64,
    pub seed: u64,
    pub currency: Option<String>,
    pub countries: Vec<CountryInfo>,
    pub consumers: Vec<ConsumerInfo>,
    pub commodities: Vec<CommodityModel>,
    pub shocks: Vec<ShockModel>,
    pub events: Vec<EventModel>,
    /// Declared regimes; the implicit `normal` regime has the remaining probability.
    pub regimes: Vec<RegimeModel>,
    pub alliances: Vec<AllianceModel>,
    /// Non-fatal remarks (e.g. a stage where ROW holds more than 30%).
    pub warnings: Vec<String>,
}

impl Model {
    pub fn n_countries(&self) -> usize {
        self.countries.len()
    }
    pub fn n_consumers(&self) -> usize {
        self.consumers.len()
    }
    /// Consumer id by index, `ROW` for the implicit one.
    pub fn consumer_id(&self, j: usize) -> &str {
        self.consumers.get(j).map(|c| c.id.as_str()).unwrap_or(ROW)
    }
    /// SHA-256 of everything the simulation reads from this model (its
    /// warnings aside): equal digests, equal results for equal options.
    pub fn digest(&self) -> String {
        let mut m = self.clone();
        m.warnings.clear();
        crate::scenario::sha256_hex(format!("{m:?}").as_bytes())
    }

    /// Indices of the sources (shocks in file order, then scheduled events)
    /// with an effect on commodity `k`.
    pub fn sources_acting_on(&self, k: usize) -> Vec<usize> {
        let acts = |effects: &[Effect]| effects.iter().any(|e| e.commodity() == k);
        let shocks = self.shocks.iter().map(|s| acts(&s.effects));
        let events = self.events.iter().map(|e| acts(&e.effects));
        shocks
            .chain(events)
            .enumerate()
            .filter_map(|(i, a)| a.then_some(i))
            .collect()
    }
    /// Country id by index, `ROW` for the implicit one.
    pub fn country_id(&self, c: usize) -> &str {
        self.countries.get(c).map(|c| c.id.as_str()).unwrap_or(ROW)
    }

    /// Validates and compiles a parsed scenario. `file` names it in messages.
    pub fn compile(file: &str, sc: &Scenario) -> Result<Model, InputErrors> {
        build::compile(file, sc)
    }

    /// Regime probabilities, the implicit `normal` regime last.
    pub fn regime_probabilities(&self) -> Vec<f64> {
        let mut p: Vec<f64> = self.regimes.iter().map(|r| r.probability).collect();
        p.push((1.0 - p.iter().sum::<f64>()).max(0.0));
        p
    }

    /// Shock `i`'s regime-averaged rate multiplier, Σ p·factor (the normal
    /// regime at factor 1).
    pub fn regime_multiplier(&self, i: usize) -> f64 {
        let probs = self.regime_probabilities();
        let normal = probs[self.regimes.len()];
        normal
            + (self.regimes.iter().zip(&probs))
                .map(|(r, p)| p * r.factors[i])
                .sum::<f64>()
    }

    /// Counts for `validate`'s summary line.
    pub fn summary_line(&self) -> String {
        let uncertain = self.shocks.iter().filter(|s| s.rate_dist.is_some()).count();
        let buffers: usize = self
            .commodities
            .iter()
            .map(|c| c.buffer_months.iter().filter(|&&b| b > 0.0).count())
            .sum();
        use crate::format::count;
        let mut parts = vec![
            count(self.commodities.len(), "commodity", "commodities"),
            count(self.countries.len(), "country", "countries"),
            count(self.consumers.len(), "consumer", "consumers"),
            count(self.shocks.len(), "shock", "shocks"),
            count(self.events.len(), "event", "events"),
            count(self.alliances.len(), "alliance", "alliances"),
            count(self.regimes.len(), "regime", "regimes"),
        ];
        if uncertain > 0 {
            parts.push(count(uncertain, "uncertain rate", "uncertain rates"));
        }
        if buffers > 0 {
            parts.push(count(buffers, "midstream buffer", "midstream buffers"));
        }
        parts.join(", ")
    }
}

/// 64-bit FNV-1a hash of a stream name, finalised with a mixer.
pub fn stream_key(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    crate::engine::rng::mix64(h)
}

/// Per-stage producer shares of a commodity, ROW included, for `inspect` and figures:
/// `(country index or n_countries for ROW, share)` sorted by share, largest first.
pub fn stage_shares(m: &Model, k: usize, s: usize) -> Vec<(usize, f64)> {
    let cm = &m.commodities[k];
    let mut v: Vec<(usize, f64)> = cm
        .producers
        .iter()
        .zip(&cm.shares[s])
        .map(|(&c, &share)| (c, share))
        .filter(|&(_, s)| s > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}
