//! Holds a scenario's shocks against a disruption record ([`crate::record`]).
//!
//! A record event matches a shock when the kinds are equal, the event's
//! countries meet the shock's footprint (a global shock, and a worldwide `*`
//! event, meet everything) and its commodities meet the shock's. Per shock the
//! observed count n over the record years Y is set beside the model: its mean
//! rate times the regime-averaged multiplier, and its 90% predictive interval
//! for the count over Y years. The model's years are independent draws, as
//! its trials are: each year draws a regime and, for an uncertain rate, a rate;
//! so a year's count is a mixture over regimes of Poisson (fixed rate) or
//! negative binomial (gamma rate) laws, and the Y-year count is its Y-fold
//! convolution, computed exactly. A rate given by another distribution is
//! treated as the gamma of the same mean and variance.
//!
//! Also per commodity: the share of record years with at least one event
//! against the model's chance of such a year; per group of shocks sharing a
//! country and kind: the variance/mean ratio of yearly counts (clustering).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Gamma};

use crate::model::{Kind, Model};
use crate::record::{Place, Record, RecordEvent};

/// The predictive and observed intervals are 90% two-sided.
pub const LEVEL: f64 = 0.90;

/// The law of a shock's yearly rate before the regime factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateLaw {
    Fixed(f64),
    Gamma { shape: f64, scale: f64 },
}

impl RateLaw {
    /// A gamma law of this mean and variance (fixed when the variance is 0).
    pub fn moments(mean: f64, var: f64) -> RateLaw {
        if var <= 0.0 || mean <= 0.0 {
            RateLaw::Fixed(mean.max(0.0))
        } else {
            RateLaw::Gamma {
                shape: mean * mean / var,
                scale: var / mean,
            }
        }
    }

    pub fn mean(&self) -> f64 {
        match *self {
            RateLaw::Fixed(r) => r,
            RateLaw::Gamma { shape, scale } => shape * scale,
        }
    }

    pub fn var(&self) -> f64 {
        match *self {
            RateLaw::Fixed(_) => 0.0,
            RateLaw::Gamma { shape, scale } => shape * scale * scale,
        }
    }

    /// Chance of no event in a year with regime factor `f`.
    pub fn p0(&self, f: f64) -> f64 {
        match *self {
            RateLaw::Fixed(r) => (-r * f).exp(),
            RateLaw::Gamma { shape, scale } => (1.0 + scale * f).powf(-shape),
        }
    }

    /// Probabilities of 0..len events in a year with regime factor `f`.
    pub fn pmf(&self, f: f64, len: usize) -> Vec<f64> {
        let mut p = Vec::with_capacity(len);
        let mut cur = self.p0(f);
        for k in 0..len {
            p.push(cur);
            let k = k as f64;
            cur *= match *self {
                RateLaw::Fixed(r) => r * f / (k + 1.0),
                RateLaw::Gamma { shape, scale } => {
                    (k + shape) / (k + 1.0) * (scale * f) / (1.0 + scale * f)
                }
            };
        }
        p
    }
}

/// Reads a shock's rate law from its raw TOML table: `rate_per_year` as a
/// number or distribution spec, or `probability_per_year`.
pub fn rate_law(shock: &toml::Table) -> Result<RateLaw, String> {
    let num = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    if let Some(p) = shock.get("probability_per_year") {
        let p = num(p).ok_or("`probability_per_year` must be a number")?;
        return Ok(RateLaw::Fixed(-(1.0 - p).ln()));
    }
    let Some(v) = shock.get("rate_per_year") else {
        return Err("has neither `rate_per_year` nor `probability_per_year`".into());
    };
    if let Some(r) = num(v) {
        return Ok(RateLaw::Fixed(r));
    }
    let t = v
        .as_table()
        .ok_or("`rate_per_year` must be a number or a distribution")?;
    let kind = t.get("dist").and_then(|d| d.as_str()).unwrap_or("");
    if kind == "gamma" {
        let p = |k: &str| t.get(k).and_then(num).unwrap_or(f64::NAN);
        return Ok(RateLaw::Gamma {
            shape: p("shape"),
            scale: p("scale"),
        });
    }
    let (mean, var) = dist_moments(kind, t)?;
    Ok(RateLaw::moments(mean, var))
}

/// Mean and variance of a distribution spec (clamping at 0 ignored).
fn dist_moments(kind: &str, t: &toml::Table) -> Result<(f64, f64), String> {
    let num = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    let p = |k: &str| t.get(k).and_then(num).unwrap_or(f64::NAN);
    Ok(match kind {
        "fixed" => (p("value"), 0.0),
        "uniform" => (
            (p("min") + p("max")) / 2.0,
            (p("max") - p("min")).powi(2) / 12.0,
        ),
        "triangular" => {
            let (a, c, b) = (p("min"), p("mode"), p("max"));
            let var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0;
            ((a + b + c) / 3.0, var)
        }
        "pert" => {
            let (lo, mode, hi) = (p("min"), p("mode"), p("max"));
            let r = hi - lo;
            if r <= 0.0 {
                (lo, 0.0)
            } else {
                let (a, b) = (1.0 + 4.0 * (mode - lo) / r, 1.0 + 4.0 * (hi - mode) / r);
                let s = a + b;
                (lo + r * a / s, r * r * a * b / (s * s * (s + 1.0)))
            }
        }
        "beta" => {
            let (a, b) = (p("alpha"), p("beta"));
            let s = a + b;
            (a / s, a * b / (s * s * (s + 1.0)))
        }
        "lognormal" => {
            let (med, sig) = (p("median"), p("sigma"));
            let m = med * (sig * sig / 2.0).exp();
            (m, ((sig * sig).exp() - 1.0) * m * m)
        }
        "exponential" => (p("mean"), p("mean").powi(2)),
        "normal" => (p("mean"), p("sd").powi(2)),
        other => return Err(format!("`rate_per_year`: unknown dist \"{other}\"")),
    })
}

/// What the backtest needs of one shock.
#[derive(Debug, Clone)]
pub struct ShockInfo {
    pub id: String,
    pub kind: Kind,
    pub global: bool,
    /// Footprint country ids (empty when global).
    pub countries: BTreeSet<String>,
    pub commodities: BTreeSet<String>,
    pub law: RateLaw,
    /// Rate factor in each regime, the implicit `normal` regime last.
    pub factors: Vec<f64>,
}

impl ShockInfo {
    /// The regime-averaged multiplier Σ p·factor.
    pub fn multiplier(&self, probs: &[f64]) -> f64 {
        probs.iter().zip(&self.factors).map(|(p, f)| p * f).sum()
    }
}

/// True when record event `ev` matches shock `s`.
pub fn matches(s: &ShockInfo, ev: &RecordEvent) -> bool {
    let place = match &ev.place {
        Place::World => true,
        Place::Countries(cs) => s.global || cs.iter().any(|c| s.countries.contains(c)),
    };
    s.kind == ev.kind && place && ev.commodities.iter().any(|k| s.commodities.contains(k))
}

/// A shock's commodities as written: its `commodities` list, else every
/// commodity (that has one of its `stages`, when those are given).
fn declared_commodities(model: &Model, shock: &toml::Table) -> BTreeSet<String> {
    let strings = |key: &str| -> Option<Vec<String>> {
        shock.get(key).and_then(|v| v.as_array()).map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
    };
    if let Some(list) = strings("commodities") {
        return list.into_iter().collect();
    }
    let stages = strings("stages");
    model
        .commodities
        .iter()
        .filter(|k| {
            stages
                .as_ref()
                .is_none_or(|st| st.iter().any(|s| k.stages.contains(s)))
        })
        .map(|k| k.id.clone())
        .collect()
}

/// The shocks of `model` with their rate laws from the raw scenario file.
/// Returns also the regime probabilities, the implicit `normal` last.
pub fn shock_infos(model: &Model, raw: &toml::Table) -> Result<(Vec<ShockInfo>, Vec<f64>), String> {
    let raw_shocks: Vec<&toml::Table> = raw
        .get("shock")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_table()).collect())
        .unwrap_or_default();
    let probs = model.regime_probabilities();
    let mut out = Vec::new();
    for (i, s) in model.shocks.iter().enumerate() {
        let table = raw_shocks
            .iter()
            .find(|t| t.get("id").and_then(|v| v.as_str()) == Some(s.id.as_str()))
            .ok_or_else(|| format!("[[shock]] id \"{}\": not found in the file", s.id))?;
        let law = rate_law(table).map_err(|e| format!("[[shock]] id \"{}\": {e}", s.id))?;
        let mut factors: Vec<f64> = model.regimes.iter().map(|r| r.factors[i]).collect();
        factors.push(1.0);
        out.push(ShockInfo {
            id: s.id.clone(),
            kind: s.kind,
            global: s.global,
            countries: s
                .footprint
                .iter()
                .filter(|&&c| c < model.n_countries())
                .map(|&c| model.country_id(c).to_string())
                .collect(),
            commodities: declared_commodities(model, table),
            law,
            factors,
        });
    }
    Ok((out, probs))
}

/// The record years compared, inclusive.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Years {
    pub from: i32,
    pub to: i32,
    pub count: u32,
}

impl Years {
    pub fn new(from: i32, to: i32) -> Years {
        Years {
            from,
            to,
            count: (to - from + 1).max(0) as u32,
        }
    }
    pub fn contains(&self, y: i32) -> bool {
        (self.from..=self.to).contains(&y)
    }
}

/// Parses `A-B` (or a single year `A`) for `--years`.
pub fn parse_years(s: &str) -> Result<Years, String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let y = |t: &str| -> Result<i32, String> {
        t.trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (1000..=9999).contains(y))
            .ok_or_else(|| format!("\"{s}\" is not a year range like 2010-2025"))
    };
    let (a, b) = (y(a)?, y(b)?);
    if b < a {
        return Err(format!("\"{s}\": the last year is before the first"));
    }
    Ok(Years::new(a, b))
}

#[derive(Debug, Clone, Serialize)]
pub struct ShockRow {
    pub id: String,
    pub kind: &'static str,
    /// Ids of the record events (within the years) that match.
    pub matched: Vec<String>,
    pub observed: u64,
    pub observed_per_year: f64,
    /// 90% (Garwood) interval of the observed rate per year.
    pub observed_interval: [f64; 2],
    pub rate_mean: f64,
    pub regime_multiplier: f64,
    /// Expected events per year: mean rate x regime-averaged multiplier.
    pub model_per_year: f64,
    /// The model's 90% predictive interval for the count over the years.
    pub predictive_interval: [u64; 2],
    pub consistent: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommodityRow {
    pub id: String,
    pub years_with_event: u64,
    pub observed_share: f64,
    /// The model's chance of a year with at least one event.
    pub model_probability: f64,
    /// 90% predictive interval for the number of such years.
    pub predictive_interval: [u64; 2],
    pub consistent: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub country: String,
    pub kind: &'static str,
    pub shocks: Vec<String>,
    /// Distinct record events matched by the group's shocks.
    pub events: u64,
    /// Yearly count variance (n - 1) over mean; null when no event.
    pub observed_dispersion: Option<f64>,
    pub model_dispersion: Option<f64>,
}

/// Everything `backtest` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    pub scenario: String,
    pub record: String,
    pub years: Years,
    pub shocks: Vec<ShockRow>,
    pub commodities: Vec<CommodityRow>,
    pub clustering: Vec<GroupRow>,
    /// Record events within the years that match no shock (coverage).
    pub unmatched: Vec<String>,
    /// Record events that start outside the years (not counted).
    pub outside_years: Vec<String>,
}

impl Backtest {
    /// The record's file name, without folders (for comments in files).
    pub fn record_name(&self) -> String {
        std::path::Path::new(&self.record)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.record.clone())
    }
}

/// Lower quantile: the smallest k with P(N <= k) >= q.
fn quantile(pmf: &[f64], q: f64) -> u64 {
    let mut c = 0.0;
    for (k, p) in pmf.iter().enumerate() {
        c += p;
        if c >= q - 1e-12 {
            return k as u64;
        }
    }
    pmf.len().saturating_sub(1) as u64
}

/// The 90% interval [q05, q95] of a pmf.
fn interval(pmf: &[f64]) -> [u64; 2] {
    let a = (1.0 - LEVEL) / 2.0;
    [quantile(pmf, a), quantile(pmf, 1.0 - a)]
}

/// The pmf of the sum of two independent counts (truncated to `len`).
fn convolve(a: &[f64], b: &[f64], len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len];
    for (i, x) in a.iter().enumerate().filter(|(_, x)| **x > 0.0) {
        for (j, y) in b.iter().enumerate().take(len - i) {
            out[i + j] += x * y;
        }
    }
    out
}

/// pmf of the sum of `n` independent draws of `one` (truncated to `len`),
/// by repeated squaring.
fn convolve_power(one: &[f64], mut n: u32, len: usize) -> Vec<f64> {
    let mut acc = vec![0.0; len];
    acc[0] = 1.0;
    let mut base = one.to_vec();
    while n > 0 {
        if n & 1 == 1 {
            acc = convolve(&acc, &base, len);
        }
        n >>= 1;
        if n > 0 {
            base = convolve(&base, &base, len);
        }
    }
    acc
}

/// Largest count the exact predictive law is computed up to.
const MAX_SUPPORT: usize = 4000;
/// Largest expected events in one year (of one regime) handled exactly.
const MAX_YEARLY_MEAN: f64 = 500.0;

/// The model's pmf of a shock's count over `years` independent years. Rates
/// too large to compute exactly are refused with a reason.
pub fn predictive_pmf(
    law: RateLaw,
    factors: &[f64],
    probs: &[f64],
    years: u32,
) -> Result<Vec<f64>, String> {
    let m1: f64 = probs.iter().zip(factors).map(|(p, f)| p * f).sum();
    let m2: f64 = probs.iter().zip(factors).map(|(p, f)| p * f * f).sum();
    let mean = law.mean() * m1;
    let second = law.mean() * m1 + (law.var() + law.mean().powi(2)) * m2;
    let var = (second - mean * mean).max(0.0);
    let y = years as f64;
    // A gamma rate gives a negative binomial whose tail falls like theta^k,
    // slower than the spread alone suggests when the shape is small: cover
    // it until theta^k < 1e-16.
    let tail = match law {
        RateLaw::Fixed(_) => 0.0,
        RateLaw::Gamma { scale, .. } => {
            let f = factors.iter().fold(0.0f64, |m, f| m.max(*f));
            let theta = scale * f / (1.0 + scale * f);
            if theta > 0.0 { 37.0 / -theta.ln() } else { 0.0 }
        }
    };
    let len = (y * mean + 15.0 * (y * var).sqrt() + tail + 40.0).ceil();
    let peak = factors.iter().fold(0.0f64, |m, f| m.max(law.mean() * f));
    if !(len.is_finite() && len <= MAX_SUPPORT as f64 && peak <= MAX_YEARLY_MEAN) {
        return Err(format!(
            "expects {:.0} events over {years} years, spread over up to {len:.0}: too many for an exact predictive interval",
            y * mean
        ));
    }
    let len = len as usize;
    let mut one = vec![0.0; len];
    for (p, f) in probs.iter().zip(factors) {
        for (k, v) in law.pmf(*f, len).iter().enumerate() {
            one[k] += p * v;
        }
    }
    Ok(convolve_power(&one, years, len))
}

/// Garwood 90% interval of a Poisson rate from `n` events in `years`.
pub fn observed_interval(n: u64, years: u32) -> [f64; 2] {
    let a = (1.0 - LEVEL) / 2.0;
    let q = |shape: f64, p: f64| Gamma::new(shape, 1.0).map_or(f64::NAN, |g| g.inverse_cdf(p));
    let y = years as f64;
    let lo = if n == 0 { 0.0 } else { q(n as f64, a) / y };
    [lo, q(n as f64 + 1.0, 1.0 - a) / y]
}

/// Runs the backtest of `shocks` (with regime `probs`) against `record`.
pub fn run(
    scenario: &str,
    model: &Model,
    shocks: &[ShockInfo],
    probs: &[f64],
    record: &Record,
    years: Years,
) -> Result<Backtest, String> {
    if years.count == 0 {
        return Err(format!(
            "the years {}-{} hold no year (the last is before the first)",
            years.from, years.to
        ));
    }
    let (inside, outside): (Vec<&RecordEvent>, Vec<&RecordEvent>) = record
        .events
        .iter()
        .partition(|e| years.contains(e.start.year));
    let rows: Vec<ShockRow> = shocks
        .iter()
        .map(|s| shock_row(s, probs, &inside, years))
        .collect::<Result<_, _>>()?;
    let unmatched = inside
        .iter()
        .filter(|e| !shocks.iter().any(|s| matches(s, e)))
        .map(|e| e.id.clone())
        .collect();
    Ok(Backtest {
        scenario: scenario.to_string(),
        record: record.display.clone(),
        years,
        shocks: rows,
        commodities: model
            .commodities
            .iter()
            .map(|k| commodity_row(&k.id, shocks, probs, &inside, years))
            .collect(),
        clustering: groups(shocks)
            .into_iter()
            .map(|(c, kind, members)| group_row(c, kind, &members, probs, &inside, years))
            .collect(),
        unmatched,
        outside_years: outside.iter().map(|e| e.id.clone()).collect(),
    })
}

fn shock_row(
    s: &ShockInfo,
    probs: &[f64],
    events: &[&RecordEvent],
    years: Years,
) -> Result<ShockRow, String> {
    let matched: Vec<String> = events
        .iter()
        .filter(|e| matches(s, e))
        .map(|e| e.id.clone())
        .collect();
    let n = matched.len() as u64;
    let pmf = predictive_pmf(s.law, &s.factors, probs, years.count)
        .map_err(|e| format!("[[shock]] id \"{}\": {e}", s.id))?;
    let pi = interval(&pmf);
    let m = s.multiplier(probs);
    Ok(ShockRow {
        id: s.id.clone(),
        kind: s.kind.as_str(),
        observed: n,
        observed_per_year: n as f64 / years.count as f64,
        observed_interval: observed_interval(n, years.count),
        rate_mean: s.law.mean(),
        regime_multiplier: m,
        model_per_year: s.law.mean() * m,
        consistent: pi[0] <= n && n <= pi[1],
        predictive_interval: pi,
        matched,
    })
}

/// Binomial pmf of `n` trials with success chance `q`.
fn binomial_pmf(n: u32, q: f64) -> Vec<f64> {
    let mut p = vec![0.0; n as usize + 1];
    p[0] = 1.0;
    for _ in 0..n {
        for k in (0..p.len()).rev() {
            let stay = p[k] * (1.0 - q);
            let from = if k > 0 { p[k - 1] * q } else { 0.0 };
            p[k] = stay + from;
        }
    }
    p
}

fn commodity_row(
    id: &str,
    shocks: &[ShockInfo],
    probs: &[f64],
    events: &[&RecordEvent],
    years: Years,
) -> CommodityRow {
    let hit: BTreeSet<i32> = events
        .iter()
        .filter(|e| e.commodities.iter().any(|k| k == id))
        .map(|e| e.start.year)
        .collect();
    let on_k: Vec<&ShockInfo> = shocks
        .iter()
        .filter(|s| s.commodities.contains(id))
        .collect();
    let none: f64 = probs
        .iter()
        .enumerate()
        .map(|(r, p)| p * on_k.iter().map(|s| s.law.p0(s.factors[r])).product::<f64>())
        .sum();
    let q = (1.0 - none).clamp(0.0, 1.0);
    let pi = interval(&binomial_pmf(years.count, q));
    let n = hit.len() as u64;
    CommodityRow {
        id: id.to_string(),
        years_with_event: n,
        observed_share: n as f64 / years.count as f64,
        model_probability: q,
        consistent: pi[0] <= n && n <= pi[1],
        predictive_interval: pi,
    }
}

/// Groups of two or more local shocks sharing a footprint country and a kind;
/// groups with the same members are reported once.
fn groups(shocks: &[ShockInfo]) -> Vec<(String, Kind, Vec<&ShockInfo>)> {
    let mut by: BTreeMap<(Kind, String), Vec<&ShockInfo>> = BTreeMap::new();
    for s in shocks.iter().filter(|s| !s.global) {
        for c in &s.countries {
            by.entry((s.kind, c.clone())).or_default().push(s);
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for ((kind, c), members) in by {
        let ids: Vec<&str> = members.iter().map(|s| s.id.as_str()).collect();
        if members.len() >= 2 && seen.insert((kind, ids.join(","))) {
            out.push((c, kind, members));
        }
    }
    out
}

/// Variance over mean of the yearly count of a group's events in the model.
pub fn model_dispersion(members: &[&ShockInfo], probs: &[f64]) -> Option<f64> {
    let (mut mean, mut second) = (0.0, 0.0);
    for (r, p) in probs.iter().enumerate() {
        let mu: f64 = members.iter().map(|s| s.law.mean() * s.factors[r]).sum();
        let v: f64 = members
            .iter()
            .map(|s| s.law.mean() * s.factors[r] + s.law.var() * s.factors[r].powi(2))
            .sum();
        mean += p * mu;
        second += p * (v + mu * mu);
    }
    (mean > 0.0).then(|| (second - mean * mean) / mean)
}

/// Sample variance (n - 1) over mean of yearly counts.
pub fn observed_dispersion(counts: &[u64]) -> Option<f64> {
    let n = counts.len() as f64;
    let mean = counts.iter().sum::<u64>() as f64 / n;
    if n < 2.0 || mean <= 0.0 {
        return None;
    }
    let ss: f64 = counts.iter().map(|&c| (c as f64 - mean).powi(2)).sum();
    Some(ss / (n - 1.0) / mean)
}

fn group_row(
    country: String,
    kind: Kind,
    members: &[&ShockInfo],
    probs: &[f64],
    events: &[&RecordEvent],
    years: Years,
) -> GroupRow {
    let hits: Vec<&&RecordEvent> = events
        .iter()
        .filter(|e| members.iter().any(|s| matches(s, e)))
        .collect();
    let mut counts = vec![0u64; years.count as usize];
    for e in &hits {
        counts[(e.start.year - years.from) as usize] += 1;
    }
    GroupRow {
        country,
        kind: kind.as_str(),
        shocks: members.iter().map(|s| s.id.clone()).collect(),
        events: hits.len() as u64,
        observed_dispersion: observed_dispersion(&counts),
        model_dispersion: model_dispersion(members, probs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_binomial_pmf_sums_to_one_and_has_its_mean() {
        let law = RateLaw::Gamma {
            shape: 2.5,
            scale: 0.2,
        };
        let p = law.pmf(1.5, 200);
        let s: f64 = p.iter().sum();
        let m: f64 = p.iter().enumerate().map(|(k, v)| k as f64 * v).sum();
        assert!((s - 1.0).abs() < 1e-12);
        assert!((m - 2.5 * 0.2 * 1.5).abs() < 1e-12);
    }

    #[test]
    fn years_parse() {
        assert_eq!(parse_years("2010-2025").unwrap(), Years::new(2010, 2025));
        assert_eq!(parse_years("2010-2025").unwrap().count, 16);
        assert!(parse_years("2025-2010").is_err());
        assert!(parse_years("abc").is_err());
    }
}
