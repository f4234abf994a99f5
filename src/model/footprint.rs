//! Footprints of shocks and events (docs/model.md §1, §3): which producers an
//! event hits, at which stages, and for export bans which consumers it
//! targets, resolved per commodity into [`Effect`]s.

use std::collections::{BTreeSet, HashMap};

use super::build::Builder;
use super::{CommodityModel, Effect, Kind, ROW, TargetSpec};
use crate::scenario::{self, Targets};

/// Ids shared by the footprint fields of shocks and events.
pub(super) struct FootprintSpec<'a> {
    pub(super) countries: &'a Option<Vec<String>>,
    pub(super) region: &'a Option<String>,
    pub(super) global: Option<bool>,
    pub(super) commodities: &'a Option<Vec<String>>,
    pub(super) stages: &'a Option<Vec<String>>,
    pub(super) per_country: &'a Option<String>,
    pub(super) targets: &'a Option<Targets>,
    pub(super) leakage: Option<f64>,
}

impl Builder {
    /// Resolves a footprint and the effects on every commodity: the
    /// footprint countries in order, `global`, independent severities, and
    /// per commodity the hits.
    pub(super) fn footprint(
        &mut self,
        at: &str,
        kind: Kind,
        fp: &FootprintSpec,
        ctx: &Ctx,
    ) -> (Vec<usize>, bool, bool, Vec<Effect>) {
        let global = fp.global.unwrap_or(false);
        let footprint = self.footprint_countries(at, fp, global, ctx);
        let independent = self.per_country(at, fp);
        let coms = self.footprint_commodities(at, fp, ctx);
        let is_ban = kind == Kind::ExportBan;
        self.kind_fields(at, is_ban, fp, &coms, ctx);
        let mut effects = Vec::new();
        if is_ban {
            let leakage = fp.leakage.unwrap_or(0.0);
            self.unit(at, "leakage", leakage);
            let targets = self.targets(at, fp, ctx);
            for &k in &coms {
                effects.extend(ban_effect(
                    &ctx.commodities[k],
                    k,
                    ctx.n_consumers + 1,
                    &footprint,
                    &targets,
                    leakage,
                ));
            }
        } else {
            for &k in &coms {
                effects.extend(output_effect(&ctx.commodities[k], k, &footprint, fp.stages));
            }
        }
        if effects.is_empty() && self.errs.is_empty() {
            self.warnings.push(format!(
                "{at}: its footprint produces none of its commodities at the stages it acts on; it has no effect"
            ));
        }
        (footprint, global, independent, effects)
    }

    /// Exactly one of `countries`, `region` and `global = true`; the
    /// footprint's countries in order (ROW last for `global`).
    fn footprint_countries(
        &mut self,
        at: &str,
        fp: &FootprintSpec,
        global: bool,
        ctx: &Ctx,
    ) -> Vec<usize> {
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
        footprint
    }

    /// `per_country`: shared (default) or independent severity draws.
    fn per_country(&mut self, at: &str, fp: &FootprintSpec) -> bool {
        match fp.per_country.as_deref() {
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
        }
    }

    /// `commodities`: declared ones (default: every commodity).
    fn footprint_commodities(&mut self, at: &str, fp: &FootprintSpec, ctx: &Ctx) -> Vec<usize> {
        let Some(list) = fp.commodities else {
            return (0..ctx.commodities.len()).collect();
        };
        self.list_shape(at, "commodities", list);
        let mut coms = Vec::new();
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
        coms
    }

    /// Fields allowed only on some kinds: `targets` and `leakage` on export
    /// bans, `stages` on the others (each a stage of one of the commodities).
    fn kind_fields(
        &mut self,
        at: &str,
        is_ban: bool,
        fp: &FootprintSpec,
        coms: &[usize],
        ctx: &Ctx,
    ) {
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
        let Some(stages) = fp.stages else { return };
        if is_ban {
            self.err(
                at,
                "stages",
                "export bans act on the final stage only; remove `stages`",
            );
            return;
        }
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

    /// An export ban's `targets`: all (default), non_allies or a list of consumers.
    fn targets(&mut self, at: &str, fp: &FootprintSpec, ctx: &Ctx) -> TargetSpec {
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
                        continue;
                    }
                    match ctx.consumer_ix.get(t.as_str()) {
                        Some(&j) => v.push(j),
                        None => {
                            self.err(at, "targets", format!("consumer \"{t}\" is not declared"))
                        }
                    }
                }
                TargetSpec::List(v)
            }
        }
    }
}

/// A ban's hits on commodity `k`: each footprint producer of the final stage
/// with the consumers it withholds from (never its own consumer id).
fn ban_effect(
    cm: &CommodityModel,
    k: usize,
    nj: usize,
    footprint: &[usize],
    targets: &TargetSpec,
    leakage: f64,
) -> Option<Effect> {
    // `stages = []` is already an error; don't index a stageless commodity.
    let fin = cm.stages.len().checked_sub(1)?;
    let mut hits = Vec::new();
    for (pos, &cix) in footprint.iter().enumerate() {
        let Some(p) = cm.local(cix) else { continue };
        if cm.shares[fin][p] <= 0.0 {
            continue;
        }
        let mask: Vec<bool> = (0..nj)
            .map(|j| {
                let targeted = match targets {
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
    (!hits.is_empty()).then_some(Effect::Ban {
        commodity: k,
        hits,
        leakage,
    })
}

/// An output loss's hits on commodity `k`: every (stage, producer) of the
/// footprint at the stages it acts on.
fn output_effect(
    cm: &CommodityModel,
    k: usize,
    footprint: &[usize],
    stages: &Option<Vec<String>>,
) -> Option<Effect> {
    let mut hits = Vec::new();
    for (s, stage) in cm.stages.iter().enumerate() {
        if let Some(st) = stages
            && !st.contains(stage)
        {
            continue;
        }
        for (pos, &cix) in footprint.iter().enumerate() {
            if let Some(p) = cm.local(cix)
                && cm.shares[s][p] > 0.0
            {
                hits.push((pos, s, p));
            }
        }
    }
    (!hits.is_empty()).then_some(Effect::Output { commodity: k, hits })
}

pub(super) struct Ctx<'a> {
    pub(super) country_ix: &'a HashMap<&'a str, usize>,
    pub(super) consumer_ix: &'a HashMap<&'a str, usize>,
    pub(super) commodity_ix: &'a HashMap<&'a str, usize>,
    pub(super) regions: &'a BTreeSet<&'a str>,
    pub(super) countries: &'a [scenario::Country],
    pub(super) commodities: &'a [CommodityModel],
    pub(super) n_countries: usize,
    pub(super) n_consumers: usize,
}
