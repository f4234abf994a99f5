//! The validated, compiled scenario: every §1 rule of MODEL.md checked (all
//! problems collected, not just the first), ids resolved to dense indices, and
//! the per-commodity tables the engine needs precomputed.
//!
//! Index conventions used everywhere downstream:
//! - countries `0..n_countries`, and `n_countries` is `ROW` (rest of world);
//! - consumers `0..n_consumers`, and `n_consumers` is the implicit consumer `ROW`;
//! - per commodity, "local producers" `0..P`: the countries with a share at any
//!   stage, in declaration order, then `ROW` last.

use std::collections::{BTreeSet, HashMap};

use crate::dist::Dist;
use crate::error::InputErrors;
use crate::scenario::{self, DistSpec, Scenario, Targets};

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
    /// Monthly world demand M (1 without `annual_demand`).
    pub monthly_demand: f64,
    pub stages: Vec<String>,
    /// Global country index of each local producer (`n_countries` = ROW, last).
    pub producers: Vec<usize>,
    /// `cap[s][p]` = share(p, s) * M.
    pub cap: Vec<Vec<f64>>,
    /// Share of each stage held by ROW.
    pub row_share: Vec<f64>,
    /// Per consumer, ROW last: total demand d(j), market demand m(j), stock at t = 0.
    pub demand: Vec<f64>,
    pub market: Vec<f64>,
    pub stock0: Vec<f64>,
    /// Per consumer: was a non-zero stockpile given (for `stockout_prob`)?
    pub has_stockpile: Vec<bool>,
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
    /// Events per year (`probability_per_year` already converted).
    pub rate_per_year: f64,
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
    /// Country id by index, `ROW` for the implicit one.
    pub fn country_id(&self, c: usize) -> &str {
        self.countries.get(c).map(|c| c.id.as_str()).unwrap_or(ROW)
    }

    /// Validates and compiles a parsed scenario. `file` names it in messages.
    pub fn compile(file: &str, sc: &Scenario) -> Result<Model, InputErrors> {
        let mut b = Builder {
            errs: InputErrors::new(file),
            warnings: Vec::new(),
        };
        let model = b.build(sc);
        match model {
            Some(m) if b.errs.is_empty() => Ok(Model {
                warnings: b.warnings,
                ..m
            }),
            _ => Err(b.errs),
        }
    }

    /// Counts for `validate`'s summary line.
    pub fn summary_line(&self) -> String {
        format!(
            "{} commodities, {} countries, {} consumers, {} shocks, {} events, {} alliances, {} regimes",
            self.commodities.len(),
            self.countries.len(),
            self.consumers.len(),
            self.shocks.len(),
            self.events.len(),
            self.alliances.len(),
            self.regimes.len()
        )
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

struct Builder {
    errs: InputErrors,
    warnings: Vec<String>,
}

/// Ids shared by the footprint fields of shocks and events.
struct FootprintSpec<'a> {
    countries: &'a Option<Vec<String>>,
    region: &'a Option<String>,
    global: Option<bool>,
    commodities: &'a Option<Vec<String>>,
    stages: &'a Option<Vec<String>>,
    per_country: &'a Option<String>,
    targets: &'a Option<Targets>,
    leakage: Option<f64>,
}

impl Builder {
    fn err(&mut self, at: &str, field: &str, reason: impl AsRef<str>) {
        self.errs
            .push(format!("{at}: field `{field}`: {}", reason.as_ref()));
    }

    fn check_id(&mut self, at: &str, field: &str, id: &str) {
        if !valid_id(id) {
            self.err(
                at,
                field,
                format!("\"{id}\" must match [A-Za-z0-9_.-]+ and not be `.` or `..`"),
            );
        } else if id == ROW || id == WORLD {
            self.err(at, field, format!("\"{id}\" is reserved"));
        }
    }

    fn unit(&mut self, at: &str, field: &str, v: f64) {
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            self.err(at, field, format!("must lie in [0, 1], got {v}"));
        }
    }

    fn nonneg(&mut self, at: &str, field: &str, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            self.err(at, field, format!("must be a finite number >= 0, got {v}"));
        }
    }

    /// Checks a list is non-empty and duplicate-free.
    fn list_shape(&mut self, at: &str, field: &str, items: &[String]) {
        if items.is_empty() {
            self.err(at, field, "must not be empty");
        }
        let mut seen = BTreeSet::new();
        for i in items {
            if !seen.insert(i) {
                self.err(at, field, format!("lists \"{i}\" twice"));
            }
        }
    }

    fn unique_ids<'a>(
        &mut self,
        table: &str,
        ids: impl Iterator<Item = &'a str>,
        seen: &mut BTreeSet<String>,
    ) {
        for id in ids {
            let at = format!("[[{table}]] id \"{id}\"");
            self.check_id(&at, "id", id);
            if !seen.insert(id.to_string()) {
                self.err(&at, "id", "is declared twice");
            }
        }
    }

    fn build(&mut self, sc: &Scenario) -> Option<Model> {
        let h = &sc.scenario;
        let at = "[scenario]";
        if !valid_id(&h.name) {
            self.err(
                at,
                "name",
                format!(
                    "\"{}\" must match [A-Za-z0-9_.-]+ and not be `.` or `..`",
                    h.name
                ),
            );
        }
        let horizon = h.horizon_months.unwrap_or(12);
        if !(1..=600).contains(&horizon) {
            self.err(
                at,
                "horizon_months",
                format!("must be an integer in 1..=600, got {horizon}"),
            );
        }
        let trials = h.trials.unwrap_or(100_000);
        if trials < 1 {
            self.err(at, "trials", format!("must be at least 1, got {trials}"));
        }
        let seed = h.seed.unwrap_or(0);
        if seed < 0 {
            self.err(at, "seed", format!("must be >= 0, got {seed}"));
        }

        // ---- ids ----
        let mut seen = BTreeSet::new();
        self.unique_ids(
            "country",
            sc.country.iter().map(|c| c.id.as_str()),
            &mut seen,
        );
        let mut seen = BTreeSet::new();
        self.unique_ids(
            "consumer",
            sc.consumer.iter().map(|c| c.id.as_str()),
            &mut seen,
        );
        let mut seen = BTreeSet::new();
        self.unique_ids(
            "commodity",
            sc.commodity.iter().map(|c| c.id.as_str()),
            &mut seen,
        );
        let mut seen = BTreeSet::new();
        self.unique_ids("shock", sc.shock.iter().map(|c| c.id.as_str()), &mut seen);
        self.unique_ids("event", sc.event.iter().map(|c| c.id.as_str()), &mut seen);
        let mut seen = BTreeSet::new();
        self.unique_ids("regime", sc.regime.iter().map(|c| c.id.as_str()), &mut seen);
        let mut seen = BTreeSet::new();
        self.unique_ids(
            "alliance",
            sc.alliance.iter().map(|c| c.id.as_str()),
            &mut seen,
        );

        let country_ix: HashMap<&str, usize> = sc
            .country
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let consumer_ix: HashMap<&str, usize> = sc
            .consumer
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let commodity_ix: HashMap<&str, usize> = sc
            .commodity
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let shock_ids: BTreeSet<&str> = sc.shock.iter().map(|s| s.id.as_str()).collect();
        let event_ids: BTreeSet<&str> = sc.event.iter().map(|s| s.id.as_str()).collect();
        let n_countries = sc.country.len();
        let n_consumers = sc.consumer.len();

        // ---- countries ----
        let mut regions = BTreeSet::new();
        for c in &sc.country {
            let at = format!("[[country]] id \"{}\"", c.id);
            if let Some(g) = c.governance
                && !g.is_finite()
            {
                self.err(&at, "governance", format!("must be finite, got {g}"));
            }
            if let Some(r) = &c.region {
                if !valid_id(r) {
                    self.err(&at, "region", format!("\"{r}\" must match [A-Za-z0-9_.-]+"));
                }
                regions.insert(r.as_str());
            }
        }

        if sc.commodity.is_empty() {
            self.errs
                .push("[[commodity]]: a scenario needs at least one commodity".into());
        }

        // ---- commodities ----
        struct Com {
            stages: Vec<String>,
            shares: Vec<Vec<(usize, f64)>>,
        }
        let mut coms = Vec::new();
        for c in &sc.commodity {
            let at = format!("[[commodity]] id \"{}\"", c.id);
            if let Some(d) = c.annual_demand
                && !(d.is_finite() && d > 0.0)
            {
                self.err(
                    &at,
                    "annual_demand",
                    format!("must be a finite number > 0, got {d}"),
                );
            }
            let stages = c
                .stages
                .clone()
                .unwrap_or_else(|| vec!["production".to_string()]);
            if c.stages.is_some() {
                self.list_shape(&at, "stages", &stages);
            }
            for s in &stages {
                self.check_id(&at, "stages", s);
            }
            let mut shares = Vec::new();
            for s in &stages {
                let mut list = Vec::new();
                match c.producers.get(s) {
                    None => self.err(
                        &at,
                        &format!("producers.{s}"),
                        format!("stage \"{s}\" has no producers table"),
                    ),
                    Some(tab) => {
                        let mut sum = 0.0;
                        for (cid, &v) in tab {
                            let field = format!("producers.{s}.{cid}");
                            if cid == ROW {
                                self.err(
                                    &at,
                                    &field,
                                    "ROW is implicit (the remainder); do not list it",
                                );
                                continue;
                            }
                            match country_ix.get(cid.as_str()) {
                                None => self.err(
                                    &at,
                                    &field,
                                    format!("country \"{cid}\" is not declared"),
                                ),
                                Some(&ix) => {
                                    if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                                        self.err(
                                            &at,
                                            &field,
                                            format!("share must lie in (0, 1], got {v}"),
                                        );
                                    } else {
                                        sum += v;
                                        list.push((ix, v));
                                    }
                                }
                            }
                        }
                        if sum > 1.0 + SHARE_TOL {
                            self.err(
                                &at,
                                &format!("producers.{s}"),
                                format!("shares sum to {sum}, more than 1"),
                            );
                        }
                        if 1.0 - sum > 0.30 + 1e-12 {
                            self.warnings.push(format!(
                                "{at}: stage \"{s}\": ROW (unlisted producers) holds {:.0}% (more than 30%)",
                                (1.0 - sum) * 100.0
                            ));
                        }
                    }
                }
                list.sort_by_key(|&(ix, _)| ix);
                shares.push(list);
            }
            for key in c.producers.keys() {
                if !stages.contains(key) {
                    self.err(
                        &at,
                        &format!("producers.{key}"),
                        format!("\"{key}\" is not one of the stages [{}]", stages.join(", ")),
                    );
                }
            }
            coms.push(Com { stages, shares });
        }

        // ---- consumers ----
        let mut demand_sum = vec![0.0; sc.commodity.len()];
        for c in &sc.consumer {
            let at = format!("[[consumer]] id \"{}\"", c.id);
            for (field, map) in [
                ("demand_share", &c.demand_share),
                ("recycling_share", &c.recycling_share),
                ("stockpile_months", &c.stockpile_months),
            ] {
                for (k, &v) in map {
                    let f = format!("{field}.{k}");
                    match commodity_ix.get(k.as_str()) {
                        None => self.err(&at, &f, format!("commodity \"{k}\" is not declared")),
                        Some(&ix) => {
                            if field == "stockpile_months" {
                                self.nonneg(&at, &f, v);
                            } else {
                                self.unit(&at, &f, v);
                            }
                            if field == "demand_share" && v.is_finite() {
                                demand_sum[ix] += v;
                            }
                        }
                    }
                }
            }
        }
        for (k, sum) in demand_sum.iter().enumerate() {
            if *sum > 1.0 + SHARE_TOL {
                self.errs.push(format!(
                    "[[consumer]]: field `demand_share.{}`: consumer shares sum to {sum}, more than 1",
                    sc.commodity[k].id
                ));
            }
        }

        // ---- alliances ----
        let mut alliances = Vec::new();
        for a in &sc.alliance {
            let at = format!("[[alliance]] id \"{}\"", a.id);
            self.list_shape(&at, "members", &a.members);
            let mut mc = Vec::new();
            let mut mj = Vec::new();
            for m in &a.members {
                let c = country_ix.get(m.as_str());
                let j = consumer_ix.get(m.as_str());
                if c.is_none() && j.is_none() {
                    self.err(
                        &at,
                        "members",
                        format!("\"{m}\" is neither a declared country nor a declared consumer"),
                    );
                }
                if let Some(&c) = c {
                    mc.push(c);
                }
                if let Some(&j) = j {
                    mj.push(j);
                }
            }
            let spare = a.spare_capacity.unwrap_or(0.0);
            self.unit(&at, "spare_capacity", spare);
            let div = a.diversion.unwrap_or(0.0);
            self.unit(&at, "diversion", div);
            let ramp = a.ramp_months.unwrap_or(0.0);
            self.nonneg(&at, "ramp_months", ramp);
            alliances.push(AllianceModel {
                id: a.id.clone(),
                name: a.name.clone(),
                member_countries: mc,
                member_consumers: mj,
                spare_capacity: spare,
                ramp_months: ramp,
                diversion: div,
            });
        }

        // ---- commodity models ----
        let mut commodities = Vec::new();
        for (c, com) in sc.commodity.iter().zip(&coms) {
            let m_month = c
                .annual_demand
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| d / 12.0)
                .unwrap_or(1.0);
            let mut producers: Vec<usize> =
                com.shares.iter().flatten().map(|&(ix, _)| ix).collect();
            producers.sort_unstable();
            producers.dedup();
            producers.push(n_countries);
            let p_n = producers.len();
            let mut cap = Vec::new();
            let mut row_share = Vec::new();
            for list in &com.shares {
                let mut row = vec![0.0; p_n];
                let mut sum = 0.0;
                for &(ix, v) in list {
                    let p = producers.iter().position(|&x| x == ix).unwrap_or(p_n - 1);
                    row[p] = v * m_month;
                    sum += v;
                }
                let rest = (1.0 - sum).max(0.0);
                row[p_n - 1] = rest * m_month;
                row_share.push(rest);
                cap.push(row);
            }
            let mut demand = vec![0.0; n_consumers + 1];
            let mut market = vec![0.0; n_consumers + 1];
            let mut stock0 = vec![0.0; n_consumers + 1];
            let mut has_stockpile = vec![false; n_consumers + 1];
            let mut share_sum = 0.0;
            for (j, cons) in sc.consumer.iter().enumerate() {
                let share = cons.demand_share.get(&c.id).copied().unwrap_or(0.0);
                let rec = cons.recycling_share.get(&c.id).copied().unwrap_or(0.0);
                let stock = cons.stockpile_months.get(&c.id).copied().unwrap_or(0.0);
                share_sum += share;
                demand[j] = share * m_month;
                market[j] = demand[j] * (1.0 - rec);
                stock0[j] = stock * demand[j];
                has_stockpile[j] = stock > 0.0;
            }
            demand[n_consumers] = (1.0 - share_sum).max(0.0) * m_month;
            market[n_consumers] = demand[n_consumers];
            let market_total = market.iter().sum();
            let final_stage = com.stages.len().saturating_sub(1);
            let mut allied = vec![vec![false; n_consumers + 1]; p_n];
            let mut same_id = vec![vec![false; n_consumers + 1]; p_n];
            for (p, &cix) in producers.iter().enumerate() {
                for (j, cons) in sc.consumer.iter().enumerate() {
                    if cix < n_countries && sc.country[cix].id == cons.id {
                        same_id[p][j] = true;
                    }
                }
            }
            let mut cas = Vec::new();
            let mut max_spare = vec![0.0f64; p_n];
            for (ai, a) in alliances.iter().enumerate() {
                for (p, cix) in producers.iter().enumerate() {
                    if a.member_countries.contains(cix) {
                        max_spare[p] = max_spare[p].max(a.spare_capacity);
                    }
                }
                for &cix in &a.member_countries {
                    if let Some(p) = producers.iter().position(|&x| x == cix) {
                        for &j in &a.member_consumers {
                            allied[p][j] = true;
                        }
                    }
                }
                if a.member_consumers.is_empty() {
                    continue;
                }
                let mut member_consumer = vec![false; n_consumers + 1];
                for &j in &a.member_consumers {
                    member_consumer[j] = true;
                }
                let member_producers = producers
                    .iter()
                    .enumerate()
                    .filter(|&(p, cix)| {
                        a.member_countries.contains(cix)
                            && cap.get(final_stage).is_some_and(|row| row[p] > 0.0)
                    })
                    .map(|(p, _)| p)
                    .collect();
                cas.push(CommodityAlliance {
                    alliance: ai,
                    spare_capacity: a.spare_capacity,
                    ramp_months: a.ramp_months,
                    diversion: a.diversion,
                    member_consumer,
                    member_producers,
                });
            }
            commodities.push(CommodityModel {
                id: c.id.clone(),
                name: c.name.clone(),
                annual_demand: c.annual_demand,
                monthly_demand: m_month,
                stages: com.stages.clone(),
                producers,
                cap,
                row_share,
                demand,
                market,
                stock0,
                has_stockpile,
                market_total,
                alliances: cas,
                allied,
                same_id,
                max_spare,
            });
        }

        // ---- shocks and events ----
        let ctx = Ctx {
            country_ix: &country_ix,
            consumer_ix: &consumer_ix,
            commodity_ix: &commodity_ix,
            regions: &regions,
            countries: &sc.country,
            commodities: &commodities,
            n_countries,
            n_consumers,
        };
        let mut shocks = Vec::new();
        for s in &sc.shock {
            let at = format!("[[shock]] id \"{}\"", s.id);
            let kind = self.kind(&at, &s.kind);
            let rate = match (s.rate_per_year, s.probability_per_year) {
                (Some(r), None) => {
                    self.nonneg(&at, "rate_per_year", r);
                    r
                }
                (None, Some(p)) => {
                    if !(p.is_finite() && (0.0..1.0).contains(&p)) {
                        self.err(
                            &at,
                            "probability_per_year",
                            format!("must lie in [0, 1), got {p}"),
                        );
                        0.0
                    } else {
                        -(1.0 - p).ln()
                    }
                }
                (Some(_), Some(_)) => {
                    self.err(
                        &at,
                        "rate_per_year",
                        "give either rate_per_year or probability_per_year, not both",
                    );
                    0.0
                }
                (None, None) => {
                    self.err(
                        &at,
                        "rate_per_year",
                        "missing: give rate_per_year or probability_per_year",
                    );
                    0.0
                }
            };
            let severity = self.dist(&at, "severity", &s.severity, true);
            let duration = self.dist(&at, "duration_months", &s.duration_months, false);
            let fp = FootprintSpec {
                countries: &s.countries,
                region: &s.region,
                global: s.global,
                commodities: &s.commodities,
                stages: &s.stages,
                per_country: &s.per_country,
                targets: &s.targets,
                leakage: s.leakage,
            };
            let Some(kind) = kind else { continue };
            let (footprint, global, independent, effects) = self.footprint(&at, kind, &fp, &ctx);
            if let (Some(severity), Some(duration)) = (severity, duration) {
                shocks.push(ShockModel {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    key: stream_key(&format!("shock:{}", s.id)),
                    kind,
                    footprint,
                    global,
                    rate_per_year: rate,
                    severity,
                    duration,
                    independent,
                    effects,
                });
            }
        }
        let mut events = Vec::new();
        for e in &sc.event {
            let at = format!("[[event]] id \"{}\"", e.id);
            let kind = self.kind(&at, &e.kind);
            self.nonneg(&at, "start_month", e.start_month);
            self.nonneg(&at, "duration_months", e.duration_months);
            self.unit(&at, "severity", e.severity);
            let fp = FootprintSpec {
                countries: &e.countries,
                region: &e.region,
                global: e.global,
                commodities: &e.commodities,
                stages: &e.stages,
                per_country: &e.per_country,
                targets: &e.targets,
                leakage: e.leakage,
            };
            let Some(kind) = kind else { continue };
            let (footprint, _, _, effects) = self.footprint(&at, kind, &fp, &ctx);
            events.push(EventModel {
                id: e.id.clone(),
                kind,
                footprint,
                start_month: e.start_month,
                duration_months: e.duration_months,
                severity: e.severity,
                effects,
            });
        }

        // ---- regimes ----
        let mut regimes = Vec::new();
        let mut psum = 0.0;
        for r in &sc.regime {
            let at = format!("[[regime]] id \"{}\"", r.id);
            self.unit(&at, "probability", r.probability);
            if r.probability.is_finite() {
                psum += r.probability;
            }
            let mut factors = vec![1.0; shocks.len()];
            for (mi, m) in r.multipliers.iter().enumerate() {
                let f = format!("multipliers[{mi}]");
                self.nonneg(&at, &format!("{f}.factor"), m.factor);
                if let Some(sid) = &m.shock
                    && !shock_ids.contains(sid.as_str())
                {
                    if event_ids.contains(sid.as_str()) {
                        self.err(
                            &at,
                            &format!("{f}.shock"),
                            format!("\"{sid}\" is a scheduled event; multipliers name shocks"),
                        );
                    } else {
                        self.err(
                            &at,
                            &format!("{f}.shock"),
                            format!("shock \"{sid}\" is not declared"),
                        );
                    }
                }
                let kind = m.kind.as_ref().and_then(|k| {
                    let parsed = Kind::parse(k);
                    if parsed.is_none() {
                        self.err(&at, &format!("{f}.kind"), format!("unknown kind \"{k}\" (expected conflict, disaster, nationalism, export_ban)"));
                    }
                    parsed
                });
                let mut mcountries = Vec::new();
                if let Some(cs) = &m.countries {
                    self.list_shape(&at, &format!("{f}.countries"), cs);
                    for c in cs {
                        match country_ix.get(c.as_str()) {
                            Some(&ix) => mcountries.push(ix),
                            None => self.err(
                                &at,
                                &format!("{f}.countries"),
                                format!("country \"{c}\" is not declared"),
                            ),
                        }
                    }
                }
                for (si, s) in shocks.iter().enumerate() {
                    let ok_id = m.shock.as_ref().is_none_or(|id| *id == s.id);
                    let ok_kind = m.kind.is_none() || kind == Some(s.kind);
                    let ok_c = m.countries.is_none()
                        || s.global
                        || mcountries.iter().any(|c| s.footprint.contains(c));
                    if ok_id && ok_kind && ok_c {
                        factors[si] *= m.factor;
                    }
                }
            }
            regimes.push(RegimeModel {
                id: r.id.clone(),
                probability: r.probability,
                factors,
            });
        }
        if psum > 1.0 + SHARE_TOL {
            self.errs.push(format!(
                "[[regime]]: field `probability`: regime probabilities sum to {psum}, more than 1"
            ));
        }

        if !self.errs.is_empty() {
            return None;
        }
        Some(Model {
            name: h.name.clone(),
            title: h.title.clone(),
            horizon: horizon as usize,
            trials: trials as u64,
            seed: seed as u64,
            currency: h.currency.clone(),
            countries: sc
                .country
                .iter()
                .map(|c| CountryInfo {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    region: c.region.clone(),
                    governance: c.governance,
                })
                .collect(),
            consumers: sc
                .consumer
                .iter()
                .map(|c| ConsumerInfo {
                    id: c.id.clone(),
                    name: c.name.clone(),
                })
                .collect(),
            commodities,
            shocks,
            events,
            regimes,
            alliances,
            warnings: Vec::new(),
        })
    }

    fn kind(&mut self, at: &str, k: &str) -> Option<Kind> {
        let kind = Kind::parse(k);
        if kind.is_none() {
            self.err(
                at,
                "kind",
                format!(
                    "unknown kind \"{k}\" (expected conflict, disaster, nationalism, export_ban)"
                ),
            );
        }
        kind
    }

    fn dist(&mut self, at: &str, field: &str, spec: &DistSpec, severity: bool) -> Option<Dist> {
        match Dist::from_spec(spec) {
            Ok(d) => {
                if let DistSpec::Number(v) = spec {
                    if severity {
                        self.unit(at, field, *v);
                    } else {
                        self.nonneg(at, field, *v);
                    }
                }
                Some(d)
            }
            Err(reason) => {
                self.err(at, field, reason);
                None
            }
        }
    }

    /// Resolves a footprint and the effects on every commodity.
    fn footprint(
        &mut self,
        at: &str,
        kind: Kind,
        fp: &FootprintSpec,
        ctx: &Ctx,
    ) -> (Vec<usize>, bool, bool, Vec<Effect>) {
        let global = fp.global.unwrap_or(false);
        let given = fp.countries.is_some() as u8 + fp.region.is_some() as u8 + global as u8;
        if given != 1 {
            self.err(
                at,
                "countries",
                "give exactly one footprint: countries = [...], region = \"...\" or global = true",
            );
        }
        let mut footprint = Vec::new();
        if let Some(cs) = fp.countries {
            self.list_shape(at, "countries", cs);
            for c in cs {
                if c == ROW {
                    self.err(
                        at,
                        "countries",
                        "ROW cannot be a footprint country (use global = true)",
                    );
                } else {
                    match ctx.country_ix.get(c.as_str()) {
                        Some(&ix) => footprint.push(ix),
                        None => {
                            self.err(at, "countries", format!("country \"{c}\" is not declared"))
                        }
                    }
                }
            }
        }
        if let Some(r) = fp.region {
            if !ctx.regions.contains(r.as_str()) {
                self.err(
                    at,
                    "region",
                    format!("no declared country has region \"{r}\""),
                );
            }
            footprint.extend(
                ctx.countries
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.region.as_deref() == Some(r.as_str()))
                    .map(|(i, _)| i),
            );
        }
        if global {
            footprint = (0..=ctx.n_countries).collect();
        }
        let independent = match fp.per_country.as_deref() {
            None | Some("shared") => false,
            Some("independent") => true,
            Some(other) => {
                self.err(
                    at,
                    "per_country",
                    format!("must be \"shared\" or \"independent\", got \"{other}\""),
                );
                false
            }
        };
        // commodities
        let mut coms = Vec::new();
        match fp.commodities {
            None => coms.extend(0..ctx.commodities.len()),
            Some(list) => {
                self.list_shape(at, "commodities", list);
                for c in list {
                    match ctx.commodity_ix.get(c.as_str()) {
                        Some(&ix) => coms.push(ix),
                        None => self.err(
                            at,
                            "commodities",
                            format!("commodity \"{c}\" is not declared"),
                        ),
                    }
                }
            }
        }
        let is_ban = kind == Kind::ExportBan;
        if !is_ban {
            if fp.targets.is_some() {
                self.err(
                    at,
                    "targets",
                    "only export_ban shocks and events have targets",
                );
            }
            if fp.leakage.is_some() {
                self.err(
                    at,
                    "leakage",
                    "only export_ban shocks and events have leakage",
                );
            }
        }
        if let Some(stages) = fp.stages {
            if is_ban {
                self.err(
                    at,
                    "stages",
                    "export bans act on the final stage only; remove `stages`",
                );
            } else {
                self.list_shape(at, "stages", stages);
                for s in stages {
                    if !coms.iter().any(|&k| ctx.commodities[k].stages.contains(s)) {
                        self.err(
                            at,
                            "stages",
                            format!("no commodity of this shock has a stage \"{s}\""),
                        );
                    }
                }
            }
        }
        let leakage = fp.leakage.unwrap_or(0.0);
        if is_ban {
            self.unit(at, "leakage", leakage);
        }
        let targets = if is_ban {
            match fp.targets {
                None => TargetSpec::All,
                Some(Targets::Keyword(k)) if k == "all" => TargetSpec::All,
                Some(Targets::Keyword(k)) if k == "non_allies" => TargetSpec::NonAllies,
                Some(Targets::Keyword(k)) => {
                    self.err(
                        at,
                        "targets",
                        format!(
                            "must be \"all\", \"non_allies\" or a list of consumer ids, got \"{k}\""
                        ),
                    );
                    TargetSpec::All
                }
                Some(Targets::List(list)) => {
                    self.list_shape(at, "targets", list);
                    let mut v = Vec::new();
                    for t in list {
                        if t == ROW {
                            v.push(ctx.n_consumers);
                        } else {
                            match ctx.consumer_ix.get(t.as_str()) {
                                Some(&j) => v.push(j),
                                None => self.err(
                                    at,
                                    "targets",
                                    format!("consumer \"{t}\" is not declared"),
                                ),
                            }
                        }
                    }
                    TargetSpec::List(v)
                }
            }
        } else {
            TargetSpec::All
        };
        let mut effects = Vec::new();
        for &k in &coms {
            let cm = &ctx.commodities[k];
            if is_ban {
                // `stages = []` is already an error; don't index a stageless commodity.
                let Some(fin) = cm.stages.len().checked_sub(1) else {
                    continue;
                };
                let mut hits = Vec::new();
                for (pos, &cix) in footprint.iter().enumerate() {
                    let Some(p) = cm.local(cix) else { continue };
                    if cm.cap[fin][p] <= 0.0 {
                        continue;
                    }
                    let mask: Vec<bool> = (0..=ctx.n_consumers)
                        .map(|j| {
                            let targeted = match &targets {
                                TargetSpec::All => true,
                                TargetSpec::NonAllies => !cm.allied[p][j],
                                TargetSpec::List(v) => v.contains(&j),
                            };
                            targeted && !cm.same_id[p][j]
                        })
                        .collect();
                    if mask.iter().any(|&b| b) {
                        hits.push((pos, p, mask));
                    }
                }
                if !hits.is_empty() {
                    effects.push(Effect::Ban {
                        commodity: k,
                        hits,
                        leakage,
                    });
                }
            } else {
                let mut hits = Vec::new();
                for (s, stage) in cm.stages.iter().enumerate() {
                    if let Some(st) = fp.stages
                        && !st.contains(stage)
                    {
                        continue;
                    }
                    for (pos, &cix) in footprint.iter().enumerate() {
                        if let Some(p) = cm.local(cix)
                            && cm.cap[s][p] > 0.0
                        {
                            hits.push((pos, s, p));
                        }
                    }
                }
                if !hits.is_empty() {
                    effects.push(Effect::Output { commodity: k, hits });
                }
            }
        }
        if effects.is_empty() && self.errs.is_empty() {
            self.warnings.push(format!(
                "{at}: its footprint produces none of its commodities at the stages it acts on; it has no effect"
            ));
        }
        (footprint, global, independent, effects)
    }
}

struct Ctx<'a> {
    country_ix: &'a HashMap<&'a str, usize>,
    consumer_ix: &'a HashMap<&'a str, usize>,
    commodity_ix: &'a HashMap<&'a str, usize>,
    regions: &'a BTreeSet<&'a str>,
    countries: &'a [scenario::Country],
    commodities: &'a [CommodityModel],
    n_countries: usize,
    n_consumers: usize,
}

/// Per-stage producer shares of a commodity, ROW included, for `inspect` and figures:
/// `(country index or n_countries for ROW, share)` sorted by share, largest first.
pub fn stage_shares(m: &Model, k: usize, s: usize) -> Vec<(usize, f64)> {
    let cm = &m.commodities[k];
    let mut v: Vec<(usize, f64)> = cm
        .producers
        .iter()
        .zip(&cm.cap[s])
        .map(|(&c, &cap)| (c, cap / cm.monthly_demand))
        .filter(|&(_, s)| s > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}
