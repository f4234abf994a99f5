//! Validation and compilation of a parsed scenario (docs/model.md §1–§2), one
//! step per table kind: header, ids, countries, commodities (shares and
//! buffers), consumers, alliances, the per-commodity market tables, shocks
//! and events, regimes. Every problem is collected with the table, id, field
//! and reason; nothing is compiled unless all of them pass.

use std::collections::{BTreeSet, HashMap};

use super::footprint::{Ctx, FootprintSpec};
use super::{
    AllianceModel, CommodityAlliance, CommodityModel, ConsumerInfo, CountryInfo, EventModel, Kind,
    Model, ROW, RegimeModel, SHARE_TOL, ShockModel, WORLD, stream_key, valid_id,
};
use crate::dist::{self, Dist};
use crate::error::InputErrors;
use crate::format::num;
use crate::scenario::{self, DistSpec, Scenario};

/// Longest id (ids name files and folders) and longest label, in characters.
pub const MAX_ID_LEN: usize = 64;
pub const MAX_LABEL_LEN: usize = 200;
/// Most expected events of one shock in one trial (rate × regime factor ×
/// horizon in years). Beyond it a run would take minutes per thousand trials
/// and the scenario almost surely has a unit error, so `validate` refuses it.
pub const MAX_EVENTS_PER_TRIAL: f64 = 1000.0;
/// Most expected hits of all shocks together in one trial, in any regime
/// (events × the producers and stages each event strikes). Every hit is
/// simulated and attributed in every month it covers and held in memory for
/// the trial; beyond this a single trial takes seconds and gigabytes.
pub const MAX_HITS_PER_TRIAL: f64 = 1e6;
/// Largest `annual_demand` accepted (tonnes): tonne figures stay finite.
pub const MAX_ANNUAL_DEMAND: f64 = 1e12;
/// Smallest non-zero demand share: a consumer below a billionth of world
/// demand is refused (its figures would be rounding noise).
pub const MIN_DEMAND_SHARE: f64 = 1e-9;

pub(super) fn compile(file: &str, sc: &Scenario) -> Result<Model, InputErrors> {
    let mut b = Builder {
        errs: InputErrors::new(file),
        warnings: Vec::new(),
    };
    match b.build(sc) {
        Some(m) if b.errs.is_empty() => Ok(Model {
            warnings: b.warnings,
            ..m
        }),
        _ => Err(b.errs),
    }
}

pub(super) struct Builder {
    pub(super) errs: InputErrors,
    pub(super) warnings: Vec<String>,
}

/// Dense indices of the declared ids.
struct Index<'a> {
    country: HashMap<&'a str, usize>,
    consumer: HashMap<&'a str, usize>,
    commodity: HashMap<&'a str, usize>,
    shock: HashMap<&'a str, usize>,
    event: HashMap<&'a str, usize>,
}

/// A commodity's stages, listed producer shares per stage and buffers, as checked.
struct Stages {
    stages: Vec<String>,
    shares: Vec<Vec<(usize, f64)>>,
    buffer_months: Vec<f64>,
}

fn index_of<'a, T>(items: &'a [T], id: impl Fn(&'a T) -> &'a str) -> HashMap<&'a str, usize> {
    items.iter().enumerate().map(|(i, t)| (id(t), i)).collect()
}

impl Builder {
    pub(super) fn err(&mut self, at: &str, field: &str, reason: impl AsRef<str>) {
        self.errs
            .push(format!("{at}: field `{field}`: {}", reason.as_ref()));
    }

    pub(super) fn check_id(&mut self, at: &str, field: &str, id: &str) {
        if id.chars().count() > MAX_ID_LEN {
            self.err(
                at,
                field,
                format!(
                    "is {} characters long; ids are at most {MAX_ID_LEN}",
                    id.chars().count()
                ),
            );
        } else if !valid_id(id) {
            self.err(
                at,
                field,
                format!("\"{id}\" must match [A-Za-z0-9_.-]+ and not be `.` or `..`"),
            );
        } else if id == ROW || id == WORLD {
            self.err(at, field, format!("\"{id}\" is reserved"));
        }
    }

    fn label(&mut self, at: &str, field: &str, text: Option<&str>) {
        if let Some(t) = text
            && t.chars().count() > MAX_LABEL_LEN
        {
            self.err(
                at,
                field,
                format!(
                    "is {} characters long; labels are at most {MAX_LABEL_LEN}",
                    t.chars().count()
                ),
            );
        }
    }

    pub(super) fn unit(&mut self, at: &str, field: &str, v: f64) {
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            self.err(at, field, format!("must lie in [0, 1], got {}", num(v)));
        }
    }

    pub(super) fn nonneg(&mut self, at: &str, field: &str, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            self.err(
                at,
                field,
                format!("must be a finite number >= 0, got {}", num(v)),
            );
        }
    }

    /// Checks a list is non-empty and duplicate-free.
    pub(super) fn list_shape(&mut self, at: &str, field: &str, items: &[String]) {
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
        let (horizon, trials, seed) = self.header(sc);
        self.ids(sc);
        let ix = Index {
            country: index_of(&sc.country, |c| &c.id),
            consumer: index_of(&sc.consumer, |c| &c.id),
            commodity: index_of(&sc.commodity, |c| &c.id),
            shock: index_of(&sc.shock, |s| &s.id),
            event: index_of(&sc.event, |e| &e.id),
        };
        let regions = self.countries(sc);
        let stages: Vec<Stages> = sc
            .commodity
            .iter()
            .map(|c| self.commodity_stages(c, &ix))
            .collect();
        self.consumers(sc, &ix);
        let alliances = self.alliances(sc, &ix);
        let commodities: Vec<CommodityModel> = sc
            .commodity
            .iter()
            .zip(&stages)
            .map(|(c, st)| commodity_model(sc, c, st, &alliances))
            .collect();
        let ctx = Ctx {
            country_ix: &ix.country,
            consumer_ix: &ix.consumer,
            commodity_ix: &ix.commodity,
            regions: &regions,
            countries: &sc.country,
            commodities: &commodities,
            n_countries: sc.country.len(),
            n_consumers: sc.consumer.len(),
        };
        let shocks = self.shocks(sc, &ctx);
        let events = self.events(sc, &ctx);
        let regimes = self.regimes(sc, &shocks, &ix);
        self.rate_bounds(&shocks, &regimes, horizon);
        if !self.errs.is_empty() {
            return None;
        }
        let h = &sc.scenario;
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

    /// `[scenario]`: name, horizon, trials, seed. Returns them with defaults.
    fn header(&mut self, sc: &Scenario) -> (i64, i64, i64) {
        let h = &sc.scenario;
        let at = "[scenario]";
        if h.name.chars().count() > MAX_ID_LEN {
            self.err(
                at,
                "name",
                format!(
                    "is {} characters long; a scenario name is at most {MAX_ID_LEN}",
                    h.name.chars().count()
                ),
            );
        } else if !valid_id(&h.name) {
            self.err(
                at,
                "name",
                format!(
                    "\"{}\" must match [A-Za-z0-9_.-]+ and not be `.` or `..`",
                    h.name
                ),
            );
        }
        self.label(at, "title", h.title.as_deref());
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
        (horizon, trials, seed)
    }

    /// Ids of every table kind: valid, not reserved, unique within the kind
    /// (shocks and events share one kind).
    fn ids(&mut self, sc: &Scenario) {
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
        for s in &sc.shock {
            self.label(
                &format!("[[shock]] id \"{}\"", s.id),
                "name",
                s.name.as_deref(),
            );
        }
        for e in &sc.event {
            self.label(
                &format!("[[event]] id \"{}\"", e.id),
                "name",
                e.name.as_deref(),
            );
        }
        for r in &sc.regime {
            self.label(
                &format!("[[regime]] id \"{}\"", r.id),
                "name",
                r.name.as_deref(),
            );
        }
        for a in &sc.alliance {
            let at = format!("[[alliance]] id \"{}\"", a.id);
            self.label(&at, "name", a.name.as_deref());
        }
    }

    /// `[[country]]`: governance finite, regions valid. Returns the regions.
    fn countries<'a>(&mut self, sc: &'a Scenario) -> BTreeSet<&'a str> {
        let mut regions = BTreeSet::new();
        for c in &sc.country {
            let at = format!("[[country]] id \"{}\"", c.id);
            self.label(&at, "name", Some(&c.name));
            if let Some(g) = c.governance
                && !g.is_finite()
            {
                self.err(&at, "governance", format!("must be finite, got {}", num(g)));
            }
            if let Some(r) = &c.region {
                if !valid_id(r) || r.chars().count() > MAX_ID_LEN {
                    self.err(
                        &at,
                        "region",
                        format!(
                            "\"{r}\" must match [A-Za-z0-9_.-]+ (at most {MAX_ID_LEN} characters)"
                        ),
                    );
                }
                regions.insert(r.as_str());
            }
        }
        if sc.commodity.is_empty() {
            self.errs
                .push("[[commodity]]: a scenario needs at least one commodity".into());
        }
        regions
    }

    /// `[[commodity]]`: demand, stages, producer shares per stage, buffers.
    fn commodity_stages(&mut self, c: &scenario::Commodity, ix: &Index) -> Stages {
        let at = format!("[[commodity]] id \"{}\"", c.id);
        self.label(&at, "name", Some(&c.name));
        if let Some(d) = c.annual_demand
            && !(d.is_finite() && d > 0.0 && d <= MAX_ANNUAL_DEMAND)
        {
            self.err(
                &at,
                "annual_demand",
                format!(
                    "must be a finite number > 0 and at most {MAX_ANNUAL_DEMAND:e} tonnes, got {}",
                    num(d)
                ),
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
        let shares = stages
            .iter()
            .map(|s| self.stage_shares(&at, c, s, ix))
            .collect();
        for key in c.producers.keys() {
            if !stages.contains(key) {
                self.err(
                    &at,
                    &format!("producers.{key}"),
                    format!("\"{key}\" is not one of the stages [{}]", stages.join(", ")),
                );
            }
        }
        let buffer_months = self.buffers(&at, c, &stages);
        Stages {
            stages,
            shares,
            buffer_months,
        }
    }

    /// One stage's producers table: declared countries, shares in (0, 1]
    /// summing to at most 1; warns when ROW holds more than 30%.
    fn stage_shares(
        &mut self,
        at: &str,
        c: &scenario::Commodity,
        s: &str,
        ix: &Index,
    ) -> Vec<(usize, f64)> {
        let mut list = Vec::new();
        let Some(tab) = c.producers.get(s) else {
            self.err(
                at,
                &format!("producers.{s}"),
                format!("stage \"{s}\" has no producers table"),
            );
            return list;
        };
        let mut sum = 0.0;
        for (cid, &v) in tab {
            let field = format!("producers.{s}.{cid}");
            if cid == ROW {
                self.err(
                    at,
                    &field,
                    "ROW is implicit (the remainder); do not list it",
                );
                continue;
            }
            match ix.country.get(cid.as_str()) {
                None => self.err(at, &field, format!("country \"{cid}\" is not declared")),
                Some(_) if !(v.is_finite() && v > 0.0 && v <= 1.0) => self.err(
                    at,
                    &field,
                    format!("share must lie in (0, 1], got {}", num(v)),
                ),
                Some(&i) => {
                    sum += v;
                    list.push((i, v));
                }
            }
        }
        if sum > 1.0 + SHARE_TOL {
            self.err(
                at,
                &format!("producers.{s}"),
                format!("shares sum to {}, more than 1", num(sum)),
            );
        }
        if 1.0 - sum > 0.30 + 1e-12 {
            self.warnings.push(format!(
                "{at}: stage \"{s}\": ROW (unlisted producers) holds {:.0}% (more than 30%)",
                (1.0 - sum) * 100.0
            ));
        }
        list.sort_by_key(|&(i, _)| i);
        list
    }

    /// `buffer_months`: upstream stages of this commodity only, values >= 0.
    fn buffers(&mut self, at: &str, c: &scenario::Commodity, stages: &[String]) -> Vec<f64> {
        let mut months = vec![0.0; stages.len()];
        let upstream = &stages[..stages.len().saturating_sub(1)];
        for (stage, &v) in &c.buffer_months {
            let field = format!("buffer_months.{stage}");
            match stages.iter().position(|s| s == stage) {
                Some(s) if s + 1 == stages.len() => self.err(
                    at,
                    &field,
                    format!(
                        "\"{stage}\" is the final stage; buffers hold the output of upstream stages only{}",
                        if upstream.is_empty() {
                            " (this commodity has none)".to_string()
                        } else {
                            format!(" ({})", upstream.join(", "))
                        }
                    ),
                ),
                Some(s) => {
                    self.nonneg(at, &field, v);
                    months[s] = v;
                }
                None => self.err(
                    at,
                    &field,
                    format!("\"{stage}\" is not one of the stages [{}]", stages.join(", ")),
                ),
            }
        }
        months
    }

    /// `[[consumer]]`: demand, recycling and stockpile tables; demand shares
    /// of a commodity sum to at most 1.
    fn consumers(&mut self, sc: &Scenario, ix: &Index) {
        let mut demand_sum = vec![0.0; sc.commodity.len()];
        for c in &sc.consumer {
            let at = format!("[[consumer]] id \"{}\"", c.id);
            self.label(&at, "name", Some(&c.name));
            for (field, map) in [
                ("demand_share", &c.demand_share),
                ("recycling_share", &c.recycling_share),
                ("stockpile_months", &c.stockpile_months),
            ] {
                for (k, &v) in map {
                    let f = format!("{field}.{k}");
                    let Some(&i) = ix.commodity.get(k.as_str()) else {
                        self.err(&at, &f, format!("commodity \"{k}\" is not declared"));
                        continue;
                    };
                    match field {
                        "stockpile_months" => self.nonneg(&at, &f, v),
                        "demand_share" if v > 0.0 && v < MIN_DEMAND_SHARE => self.err(
                            &at,
                            &f,
                            format!("must be 0 or at least {MIN_DEMAND_SHARE:e}, got {}", num(v)),
                        ),
                        _ => self.unit(&at, &f, v),
                    }
                    if field == "demand_share" && v.is_finite() {
                        demand_sum[i] += v;
                    }
                }
            }
        }
        for (k, sum) in demand_sum.iter().enumerate() {
            if *sum > 1.0 + SHARE_TOL {
                self.errs.push(format!(
                    "[[consumer]]: field `demand_share.{}`: consumer shares sum to {}, more than 1",
                    sc.commodity[k].id,
                    num(*sum)
                ));
            }
        }
    }

    /// `[[alliance]]`: members declared, parameters in range.
    fn alliances(&mut self, sc: &Scenario, ix: &Index) -> Vec<AllianceModel> {
        let mut alliances = Vec::new();
        for a in &sc.alliance {
            let at = format!("[[alliance]] id \"{}\"", a.id);
            self.list_shape(&at, "members", &a.members);
            let mut mc = Vec::new();
            let mut mj = Vec::new();
            for m in &a.members {
                let c = ix.country.get(m.as_str());
                let j = ix.consumer.get(m.as_str());
                if c.is_none() && j.is_none() {
                    self.err(
                        &at,
                        "members",
                        format!("\"{m}\" is neither a declared country nor a declared consumer"),
                    );
                }
                mc.extend(c.copied());
                mj.extend(j.copied());
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
        alliances
    }

    /// `[[shock]]`: kind, rate, severity, duration and footprint.
    fn shocks(&mut self, sc: &Scenario, ctx: &Ctx) -> Vec<ShockModel> {
        let mut shocks = Vec::new();
        for s in &sc.shock {
            let at = format!("[[shock]] id \"{}\"", s.id);
            let kind = self.kind(&at, &s.kind);
            let rate = self.rate(&at, s);
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
            let (footprint, global, independent, effects) = self.footprint(&at, kind, &fp, ctx);
            if let (Some(severity), Some(duration), Some((rate, rate_dist))) =
                (severity, duration, rate)
            {
                shocks.push(ShockModel {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    key: stream_key(&format!("shock:{}", s.id)),
                    kind,
                    footprint,
                    global,
                    rate_per_year: rate,
                    rate_dist,
                    severity,
                    duration,
                    independent,
                    effects,
                });
            }
        }
        shocks
    }

    /// A shock's rate: a number, `probability_per_year`, or an uncertain rate
    /// (a distribution spec). Returns the mean rate and the distribution.
    fn rate(&mut self, at: &str, s: &scenario::Shock) -> Option<(f64, Option<Dist>)> {
        match (&s.rate_per_year, s.probability_per_year) {
            (Some(DistSpec::Number(r)), None) => {
                self.nonneg(at, "rate_per_year", *r);
                Some((*r, None))
            }
            (Some(spec @ DistSpec::Table(_)), None) => match Dist::from_spec(spec) {
                // A degenerate distribution is the plain rate (same draws).
                Ok(Dist::Fixed(v) | Dist::Uniform { min: v, width: 0.0 }) => {
                    self.nonneg(at, "rate_per_year", v);
                    Some((v, None))
                }
                Ok(d) => match dist::clamped_mean(spec) {
                    Some(mean) if mean.is_finite() => Some((mean, Some(d))),
                    _ => {
                        self.err(
                            at,
                            "rate_per_year",
                            "this distribution's mean is too large to simulate",
                        );
                        None
                    }
                },
                Err(reason) => {
                    self.err(at, "rate_per_year", reason);
                    None
                }
            },
            (None, Some(p)) => {
                if !(p.is_finite() && (0.0..1.0).contains(&p)) {
                    self.err(
                        at,
                        "probability_per_year",
                        format!("must lie in [0, 1), got {}", num(p)),
                    );
                    None
                } else {
                    Some((-(1.0 - p).ln(), None))
                }
            }
            (Some(_), Some(_)) => {
                self.err(
                    at,
                    "rate_per_year",
                    "give either rate_per_year or probability_per_year, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    at,
                    "rate_per_year",
                    "missing: give rate_per_year or probability_per_year",
                );
                None
            }
        }
    }

    /// `[[event]]`: a scheduled event, plain numbers.
    fn events(&mut self, sc: &Scenario, ctx: &Ctx) -> Vec<EventModel> {
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
            let (footprint, _, _, effects) = self.footprint(&at, kind, &fp, ctx);
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
        events
    }

    /// `[[regime]]`: probabilities summing to at most 1; each multiplier's
    /// factor applies to the shocks it matches (factors multiply).
    fn regimes(&mut self, sc: &Scenario, shocks: &[ShockModel], ix: &Index) -> Vec<RegimeModel> {
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
                self.multiplier(&at, mi, m, shocks, ix, &mut factors);
            }
            regimes.push(RegimeModel {
                id: r.id.clone(),
                probability: r.probability,
                factors,
            });
        }
        if psum > 1.0 + SHARE_TOL {
            self.errs.push(format!(
                "[[regime]]: field `probability`: regime probabilities sum to {}, more than 1",
                num(psum)
            ));
        }
        regimes
    }

    /// One multiplier of a regime: its fields are checked and its factor
    /// multiplies into every shock it matches (all named fields match).
    fn multiplier(
        &mut self,
        at: &str,
        mi: usize,
        m: &scenario::Multiplier,
        shocks: &[ShockModel],
        ix: &Index,
        factors: &mut [f64],
    ) {
        let f = format!("multipliers[{mi}]");
        self.nonneg(at, &format!("{f}.factor"), m.factor);
        if let Some(sid) = &m.shock
            && !ix.shock.contains_key(sid.as_str())
        {
            let why = if ix.event.contains_key(sid.as_str()) {
                format!("\"{sid}\" is a scheduled event; multipliers name shocks")
            } else {
                format!("shock \"{sid}\" is not declared")
            };
            self.err(at, &format!("{f}.shock"), why);
        }
        let kind = m.kind.as_ref().and_then(|k| {
                let parsed = Kind::parse(k);
                if parsed.is_none() {
                    self.err(at, &format!("{f}.kind"), format!("unknown kind \"{k}\" (expected conflict, disaster, nationalism, export_ban)"));
                }
                parsed
            });
        let mut mcountries = Vec::new();
        if let Some(cs) = &m.countries {
            self.list_shape(at, &format!("{f}.countries"), cs);
            for c in cs {
                match ix.country.get(c.as_str()) {
                    Some(&i) => mcountries.push(i),
                    None => self.err(
                        at,
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

    /// Refuses shocks that expect more than [`MAX_EVENTS_PER_TRIAL`] events in
    /// a trial in some regime (the normal regime included).
    fn rate_bounds(&mut self, shocks: &[ShockModel], regimes: &[RegimeModel], horizon: i64) {
        let years = horizon.clamp(1, 600) as f64 / 12.0;
        for (i, s) in shocks.iter().enumerate() {
            let (factor, regime) = regimes
                .iter()
                .map(|r| (r.factors[i], Some(r.id.as_str())))
                .fold((1.0, None), |a, b| if b.0 > a.0 { b } else { a });
            let expected = s.rate_per_year * factor * years;
            if expected.is_nan() || expected > MAX_EVENTS_PER_TRIAL {
                let why = match regime {
                    Some(r) => format!(
                        "expects {expected:.3e} events per trial in regime \"{r}\" (mean rate {} × factor {} × {years} years); at most {MAX_EVENTS_PER_TRIAL} are simulated",
                        num(s.rate_per_year),
                        num(factor)
                    ),
                    None => format!(
                        "expects {expected:.3e} events per trial (mean rate {} × {years} years); at most {MAX_EVENTS_PER_TRIAL} are simulated",
                        num(s.rate_per_year)
                    ),
                };
                self.err(&format!("[[shock]] id \"{}\"", s.id), "rate_per_year", why);
            }
        }
        self.hit_bounds(shocks, regimes, years);
    }

    /// Refuses scenarios whose shocks together expect more than
    /// [`MAX_HITS_PER_TRIAL`] hits in a trial of some regime; names the shock
    /// that expects the most.
    fn hit_bounds(&mut self, shocks: &[ShockModel], regimes: &[RegimeModel], years: f64) {
        let per_event: Vec<f64> = shocks
            .iter()
            .map(|s| {
                s.effects
                    .iter()
                    .map(super::Effect::hit_count)
                    .sum::<usize>() as f64
            })
            .collect();
        let normal = vec![1.0; shocks.len()];
        let factors = regimes.iter().map(|r| &r.factors).chain([&normal]);
        for f in factors {
            let hits: Vec<f64> = (shocks.iter().zip(f).zip(&per_event))
                .map(|((s, f), n)| s.rate_per_year * f * years * n)
                .collect();
            let total: f64 = hits.iter().sum();
            if total.is_nan() || total <= MAX_HITS_PER_TRIAL {
                continue;
            }
            let top = (0..shocks.len()).fold(0, |a, i| if hits[i] > hits[a] { i } else { a });
            let why = format!(
                "the shocks together expect {total:.3e} hits per trial (events × the producers and \
                 stages each strikes; this shock {:.3e}); at most {} are simulated: lower the rates \
                 or narrow the footprints",
                hits[top],
                crate::format::thousands(MAX_HITS_PER_TRIAL as u64)
            );
            let at = format!("[[shock]] id \"{}\"", shocks[top].id);
            self.err(&at, "rate_per_year", why);
            return;
        }
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
}

/// The market tables of one commodity (§2), in units of M: demand d(j),
/// market demand m(j), primary demand P, capacity share × P, buffers
/// `buffer_months × P`, stocks, and who is allied with whom.
fn commodity_model(
    sc: &Scenario,
    c: &scenario::Commodity,
    st: &Stages,
    alliances: &[AllianceModel],
) -> CommodityModel {
    let n_countries = sc.country.len();
    let mut producers: Vec<usize> = st.shares.iter().flatten().map(|&(i, _)| i).collect();
    producers.sort_unstable();
    producers.dedup();
    producers.push(n_countries);
    let p_n = producers.len();
    let ConsumerTables {
        demand,
        market,
        stock0,
        has_stockpile,
        recycled,
    } = consumer_tables(sc, &c.id);
    let market_total = market.iter().sum::<f64>();
    // P = M - the recycled demand: exactly M (= 1) when nothing is recycled.
    let primary = (1.0 - recycled).max(0.0);
    let mut shares = Vec::new();
    let mut cap = Vec::new();
    let mut row_share = Vec::new();
    for list in &st.shares {
        let mut row = vec![0.0; p_n];
        let mut sum = 0.0;
        for &(i, v) in list {
            let p = producers.iter().position(|&x| x == i).unwrap_or(p_n - 1);
            row[p] = v;
            sum += v;
        }
        let rest = (1.0 - sum).max(0.0);
        row[p_n - 1] = rest;
        row_share.push(rest);
        cap.push(row.iter().map(|s| s * primary).collect());
        shares.push(row);
    }
    let buffer = st.buffer_months.iter().map(|b| b * primary).collect();
    let (allied, same_id, max_spare, cas) =
        alliance_tables(sc, &producers, &cap, st.stages.len(), alliances);
    CommodityModel {
        id: c.id.clone(),
        name: c.name.clone(),
        annual_demand: c.annual_demand,
        monthly_demand: c
            .annual_demand
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(|d| d / 12.0)
            .unwrap_or(1.0),
        stages: st.stages.clone(),
        producers,
        shares,
        cap,
        row_share,
        buffer,
        buffer_months: st.buffer_months.clone(),
        demand_rel: demand,
        market,
        stock0,
        has_stockpile,
        market_total,
        alliances: cas,
        allied,
        same_id,
        max_spare,
    }
}

/// Per consumer (ROW last) in units of M: d(j), m(j), the stock at t = 0,
/// whether a stockpile was given; and the recycled demand.
struct ConsumerTables {
    demand: Vec<f64>,
    market: Vec<f64>,
    stock0: Vec<f64>,
    has_stockpile: Vec<bool>,
    recycled: f64,
}

fn consumer_tables(sc: &Scenario, commodity: &str) -> ConsumerTables {
    let n = sc.consumer.len();
    let mut t = ConsumerTables {
        demand: vec![0.0; n + 1],
        market: vec![0.0; n + 1],
        stock0: vec![0.0; n + 1],
        has_stockpile: vec![false; n + 1],
        recycled: 0.0,
    };
    let mut share_sum = 0.0;
    for (j, cons) in sc.consumer.iter().enumerate() {
        let share = cons.demand_share.get(commodity).copied().unwrap_or(0.0);
        let rec = cons.recycling_share.get(commodity).copied().unwrap_or(0.0);
        let stock = cons.stockpile_months.get(commodity).copied().unwrap_or(0.0);
        share_sum += share;
        t.demand[j] = share;
        t.market[j] = share * (1.0 - rec);
        t.recycled += share * rec;
        t.stock0[j] = stock * share;
        t.has_stockpile[j] = stock > 0.0;
    }
    t.demand[n] = (1.0 - share_sum).max(0.0);
    t.market[n] = t.demand[n];
    t
}

type AllianceTables = (
    Vec<Vec<bool>>,
    Vec<Vec<bool>>,
    Vec<f64>,
    Vec<CommodityAlliance>,
);

/// Per local producer and consumer: allied? same id? Per producer: the largest
/// spare capacity over its alliances. Per alliance with member consumers: its
/// members in this commodity.
fn alliance_tables(
    sc: &Scenario,
    producers: &[usize],
    cap: &[Vec<f64>],
    n_stages: usize,
    alliances: &[AllianceModel],
) -> AllianceTables {
    let n_countries = sc.country.len();
    let n_consumers = sc.consumer.len();
    let p_n = producers.len();
    let final_stage = n_stages.saturating_sub(1);
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
    (allied, same_id, max_spare, cas)
}
