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
    /// Resolves a footprint and the effects on every commodity.
    pub(super) fn footprint(
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
