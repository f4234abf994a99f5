//! The Monte Carlo engine: one trial at a time, no I/O (MODEL.md §3–§5).
//!
//! A trial draws the regime, then each shock's events from streams keyed by
//! (seed, trial, shock id) ([`rng`]), turns the events into *hits* on the
//! commodities they touch, and runs the monthly market of §4 only for those
//! commodities. A commodity no stochastic event touches has the same figures
//! in every trial (its scheduled events only); they are computed once, at
//! construction, and the trial just reports "as cached".
//!
//! Only the months some hit covers are simulated: in a month no event covers,
//! every producer runs at capacity, so no consumer is short, no alliance
//! helps and no stock moves (shortfalls below 1e-12 of demand, which are
//! floating-point dust, are taken as zero; see `SNAP`).

pub mod rng;

use rand::Rng;
use rand_distr::{Distribution, Poisson};

use crate::dist::unit_f64;
use crate::model::{CommodityModel, Effect, Model};

/// Relative shortfall below which a consumer counts as fully served.
pub const SNAP: f64 = 1e-12;
/// "Short" threshold for alliance start and stockouts (§4, §5).
pub const SHORT_EPS: f64 = 1e-9;
/// Rates above this are drawn with rand_distr's Poisson, below by inversion.
const INVERSION_MAX_LAMBDA: f64 = 30.0;
const NO_MASK: u32 = u32::MAX;

/// One event's action on one (stage, producer) of one commodity, for one trial.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub start: f64,
    pub end: f64,
    pub stage: u32,
    pub producer: u32,
    /// Output loss severity, or for bans `severity * (1 - leakage)`.
    pub sev: f64,
    /// Index of the ban's target mask, or `NO_MASK` for output losses.
    pub mask: u32,
    /// Index of the source (shock or event) in [`Engine::sources`].
    pub source: u32,
}

impl Hit {
    #[inline]
    fn overlap(&self, t: f64) -> f64 {
        (self.end.min(t + 1.0) - self.start.max(t)).max(0.0)
    }
}

/// Per-trial figures of one commodity. Series are the consumers in file order,
/// then `ROW`, then `world`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub shortfall: Vec<f64>,
    pub peak: Vec<f64>,
    pub months_short: Vec<u32>,
    pub stockout: Vec<bool>,
    /// World shortfall per month as a fraction of monthly world demand.
    pub monthly_world: Vec<f64>,
}

impl Figures {
    fn new(series: usize, horizon: usize) -> Self {
        Figures {
            shortfall: vec![0.0; series],
            peak: vec![0.0; series],
            months_short: vec![0; series],
            stockout: vec![false; series],
            monthly_world: vec![0.0; horizon],
        }
    }

    fn clear(&mut self) {
        self.shortfall.fill(0.0);
        self.peak.fill(0.0);
        self.months_short.fill(0);
        self.stockout.fill(false);
        self.monthly_world.fill(0.0);
    }
}

/// What a trial yields: per commodity, whether it was simulated this trial
/// (`touched`) and, if so, its figures; untouched commodities have the
/// figures in [`Engine::cached`].
#[derive(Debug, Clone)]
pub struct TrialOutput {
    pub regime: usize,
    pub touched: Vec<bool>,
    pub figures: Vec<Figures>,
    /// Per commodity, when attribution is on ([`Scratch::attribute`]): the
    /// trial's shortfall of each series split over the hits that caused it.
    pub attrib: Vec<Vec<AttribPart>>,
}

/// A piece of one trial's shortfall (same unit as [`Figures::shortfall`])
/// attributed to one source (shock or event, index into
/// [`Engine::sources`]) acting on one producer country.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttribPart {
    pub series: u32,
    pub source: u32,
    pub country: u32,
    pub value: f64,
}

impl TrialOutput {
    /// The figures of commodity `k` for this trial, cached or computed.
    pub fn figures<'a>(&'a self, engine: &'a Engine, k: usize) -> &'a Figures {
        if self.touched[k] {
            &self.figures[k]
        } else {
            &engine.cached[k]
        }
    }

    /// The attribution of commodity `k` for this trial, cached or computed.
    pub fn attribution<'a>(&'a self, engine: &'a Engine, k: usize) -> &'a [AttribPart] {
        if self.touched[k] {
            &self.attrib[k]
        } else {
            &engine.cached_attrib[k]
        }
    }
}

struct CompiledEffect {
    commodity: usize,
    /// (footprint position, stage, producer, mask)
    hits: Vec<(usize, u32, u32, u32)>,
    leakage: f64,
}

struct CompiledShock {
    effects: Vec<CompiledEffect>,
}

/// Reusable per-worker buffers.
pub struct Scratch {
    /// Split each trial's shortfall over its causes (slower; off by default).
    pub attribute: bool,
    attr_w: Vec<f64>,
    attr_world: Vec<f64>,
    attr_part: Vec<f64>,
    cell_x: Vec<f64>,
    ban_y: Vec<f64>,
    hits: Vec<Vec<Hit>>,
    sev: Vec<f64>,
    keep: Vec<f64>,
    acc: Vec<f64>,
    q: Vec<f64>,
    big_u: Vec<f64>,
    s: Vec<f64>,
    s4: Vec<f64>,
    stock: Vec<f64>,
    sum_s: Vec<f64>,
    budget: Vec<f64>,
    avail: Vec<f64>,
    div_p: Vec<f64>,
    ratio: Vec<f64>,
    q_done: Vec<bool>,
    touched: Vec<usize>,
    banned: Vec<usize>,
    s5: Vec<f64>,
    w: Vec<f64>,
    class_rest: Vec<f64>,
    vp_p: Vec<Option<usize>>,
    vp_cap: Vec<f64>,
    vp_spare: Vec<f64>,
    vp_f: Vec<f64>,
    alliance_vps: Vec<Vec<usize>>,
    ov: Vec<f64>,
    stage_a: Vec<f64>,
    t0: Vec<Option<usize>>,
    out: TrialOutput,
}

/// A compiled model ready to run trials.
pub struct Engine<'m> {
    pub model: &'m Model,
    pub seed: u64,
    /// Source names: shocks in file order, then scheduled events.
    pub sources: Vec<String>,
    /// Regime cumulative probabilities (the implicit `normal` regime is last).
    regime_cum: Vec<f64>,
    /// `lambda[r][i]`: expected events of shock i over the horizon in regime r.
    lambda: Vec<Vec<f64>>,
    p0: Vec<Vec<f64>>,
    shocks: Vec<CompiledShock>,
    masks: Vec<Vec<bool>>,
    scheduled: Vec<Vec<Hit>>,
    /// Figures of each commodity when no stochastic event touches it.
    pub cached: Vec<Figures>,
    /// Their attribution (to scheduled events).
    pub cached_attrib: Vec<Vec<AttribPart>>,
    /// Per commodity and stage, total capacity (ROW included).
    cap_total: Vec<Vec<f64>>,
    /// Per commodity, the alliance classes of its final-stage producers.
    classes: Vec<Classes>,
    max_p: usize,
    max_s: usize,
}

const REGIME_KEY: u64 = 0x5245_4749_4d45_0001;

/// Final-stage producers grouped by the alliances they belong to. In the
/// alliance step (§4.5) every quantity of an untouched producer (running at
/// capacity, not banning) is proportional to its capacity, so the untouched
/// producers of one class act exactly as one producer with their summed
/// capacity; only producers hit this trial need to be followed one by one.
#[derive(Debug, Clone, Default)]
struct Classes {
    /// Per local producer, its class (None: in no alliance of the commodity).
    class_of: Vec<Option<usize>>,
    /// Per class: summed final-stage capacity, the surge budget factor
    /// (largest spare capacity over its alliances) and its alliances.
    cap: Vec<f64>,
    spare: Vec<f64>,
    alliances: Vec<Vec<usize>>,
}

impl Classes {
    fn new(cm: &CommodityModel) -> Classes {
        let fin = cm.final_stage();
        let np = cm.producers.len();
        let mut c = Classes {
            class_of: vec![None; np],
            ..Classes::default()
        };
        let mut keys: Vec<(Vec<usize>, u64)> = Vec::new();
        for p in 0..np {
            let member: Vec<usize> = (0..cm.alliances.len())
                .filter(|&ai| cm.alliances[ai].member_producers.contains(&p))
                .collect();
            if member.is_empty() {
                continue;
            }
            let key = (member, cm.max_spare[p].to_bits());
            let idx = match keys.iter().position(|k| *k == key) {
                Some(i) => i,
                None => {
                    keys.push(key.clone());
                    c.cap.push(0.0);
                    c.spare.push(cm.max_spare[p]);
                    c.alliances.push(key.0.clone());
                    keys.len() - 1
                }
            };
            c.class_of[p] = Some(idx);
            c.cap[idx] += cm.cap[fin][p];
        }
        c
    }
}

fn compile_effects(effects: &[Effect], masks: &mut Vec<Vec<bool>>) -> Vec<CompiledEffect> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Output { commodity, hits } => CompiledEffect {
                commodity: *commodity,
                hits: hits
                    .iter()
                    .map(|&(pos, s, p)| (pos, s as u32, p as u32, NO_MASK))
                    .collect(),
                leakage: 0.0,
            },
            Effect::Ban {
                commodity,
                hits,
                leakage,
            } => CompiledEffect {
                commodity: *commodity,
                hits: hits
                    .iter()
                    .map(|(pos, p, mask)| {
                        masks.push(mask.clone());
                        (*pos, 0, *p as u32, (masks.len() - 1) as u32)
                    })
                    .collect(),
                leakage: *leakage,
            },
        })
        .collect()
}

fn push_hits(
    out: &mut [Vec<Hit>],
    effects: &[CompiledEffect],
    model: &Model,
    start: f64,
    end: f64,
    sev: &[f64],
    source: u32,
) {
    let h = model.horizon as f64;
    // also skips NaN bounds
    if end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater) || start >= h {
        return;
    }
    for e in effects {
        let fin = model.commodities[e.commodity].final_stage() as u32;
        for &(pos, stage, p, mask) in &e.hits {
            let s = sev[pos.min(sev.len() - 1)];
            let (stage, s) = if mask == NO_MASK {
                (stage, s)
            } else {
                (fin, s * (1.0 - e.leakage))
            };
            if s <= 0.0 {
                continue;
            }
            out[e.commodity].push(Hit {
                start,
                end: end.min(h),
                stage,
                producer: p,
                sev: s,
                mask,
                source,
            });
        }
    }
}

/// Draws a Poisson count by inversion from the uniform `u` (monotone in `u`,
/// so a higher rate never gives fewer events for the same draw).
fn poisson_inverse(u: f64, lambda: f64, p0: f64) -> u64 {
    let mut n = 0u64;
    let mut p = p0;
    let mut cdf = p0;
    while u >= cdf {
        n += 1;
        p *= lambda / n as f64;
        let next = cdf + p;
        if next == cdf {
            break;
        }
        cdf = next;
    }
    n
}

impl<'m> Engine<'m> {
    pub fn new(model: &'m Model, seed: u64) -> Engine<'m> {
        let mut masks = Vec::new();
        let shocks: Vec<CompiledShock> = model
            .shocks
            .iter()
            .map(|s| CompiledShock {
                effects: compile_effects(&s.effects, &mut masks),
            })
            .collect();
        let nk = model.commodities.len();
        let mut scheduled = vec![Vec::new(); nk];
        for (ei, e) in model.events.iter().enumerate() {
            let effects = compile_effects(&e.effects, &mut masks);
            let sev = vec![e.severity.clamp(0.0, 1.0); e.footprint.len().max(1)];
            push_hits(
                &mut scheduled,
                &effects,
                model,
                e.start_month,
                e.start_month + e.duration_months,
                &sev,
                (model.shocks.len() + ei) as u32,
            );
        }
        let hscale = model.horizon as f64 / 12.0;
        let mut regime_cum = Vec::new();
        let mut lambda = Vec::new();
        let mut acc = 0.0;
        for r in &model.regimes {
            acc += r.probability;
            regime_cum.push(acc);
            lambda.push(
                model
                    .shocks
                    .iter()
                    .zip(&r.factors)
                    .map(|(s, f)| s.rate_per_year * f * hscale)
                    .collect::<Vec<_>>(),
            );
        }
        lambda.push(
            model
                .shocks
                .iter()
                .map(|s| s.rate_per_year * hscale)
                .collect(),
        );
        let p0 = lambda
            .iter()
            .map(|row| row.iter().map(|l| (-l).exp()).collect())
            .collect();
        let mut sources: Vec<String> = model.shocks.iter().map(|s| s.id.clone()).collect();
        sources.extend(model.events.iter().map(|e| e.id.clone()));
        let max_p = model
            .commodities
            .iter()
            .map(|c| c.producers.len())
            .max()
            .unwrap_or(1);
        let max_s = model
            .commodities
            .iter()
            .map(|c| c.stages.len())
            .max()
            .unwrap_or(1);
        let mut engine = Engine {
            model,
            seed,
            sources,
            regime_cum,
            lambda,
            p0,
            shocks,
            masks,
            scheduled,
            cached: Vec::new(),
            cached_attrib: Vec::new(),
            cap_total: model
                .commodities
                .iter()
                .map(|c| c.cap.iter().map(|row| row.iter().sum()).collect())
                .collect(),
            classes: model.commodities.iter().map(Classes::new).collect(),
            max_p,
            max_s,
        };
        let mut scratch = engine.scratch();
        scratch.attribute = true;
        let mut cached = Vec::new();
        let mut cached_attrib = Vec::new();
        for k in 0..nk {
            let hits = engine.scheduled[k].clone();
            let mut fig = Figures::new(model.n_consumers() + 2, model.horizon);
            engine.simulate_commodity(k, &hits, &mut scratch, &mut fig);
            cached.push(fig);
            cached_attrib.push(std::mem::take(&mut scratch.out.attrib[k]));
        }
        engine.cached = cached;
        engine.cached_attrib = cached_attrib;
        engine
    }

    /// Number of figure series per commodity: consumers, ROW, world.
    pub fn series(&self) -> usize {
        self.model.n_consumers() + 2
    }

    /// Fresh buffers for one worker.
    pub fn scratch(&self) -> Scratch {
        let nk = self.model.commodities.len();
        let nj = self.model.n_consumers() + 1;
        let np = self.max_p;
        let na = self.model.alliances.len().max(1);
        Scratch {
            attribute: false,
            attr_w: Vec::new(),
            attr_world: Vec::new(),
            attr_part: Vec::new(),
            cell_x: vec![0.0; self.max_s * np],
            ban_y: vec![0.0; np * nj],
            hits: vec![Vec::new(); nk],
            sev: Vec::new(),
            keep: vec![1.0; self.max_s * np],
            acc: vec![1.0; np * nj],
            q: vec![0.0; 2 * np * nj],
            big_u: vec![0.0; nj],
            s: vec![0.0; nj],
            s4: vec![0.0; nj],
            stock: vec![0.0; nj],
            sum_s: vec![0.0; nj + 1],
            budget: vec![0.0; 2 * np],
            avail: vec![0.0; 2 * np],
            div_p: vec![0.0; 2 * np],
            ratio: vec![0.0; nj],
            q_done: vec![false; 2 * np],
            touched: Vec::new(),
            banned: Vec::new(),
            s5: vec![0.0; nj],
            w: vec![-1.0; na],
            class_rest: Vec::new(),
            vp_p: Vec::new(),
            vp_cap: Vec::new(),
            vp_spare: Vec::new(),
            vp_f: vec![0.0; 2 * np],
            alliance_vps: vec![Vec::new(); na],
            ov: Vec::new(),
            stage_a: vec![0.0; self.max_s],
            t0: vec![None; na],
            out: TrialOutput {
                regime: 0,
                attrib: vec![Vec::new(); nk],
                touched: vec![false; nk],
                figures: (0..nk)
                    .map(|_| Figures::new(nj + 1, self.model.horizon))
                    .collect(),
            },
        }
    }

    /// Draws the events of one trial: per commodity, the hits (scheduled events
    /// included). Returns the regime index (`regimes.len()` = normal).
    pub fn draw_events(&self, trial: u64, sc: &mut Scratch) -> usize {
        let model = self.model;
        for h in sc.hits.iter_mut() {
            h.clear();
        }
        let regime = if self.regime_cum.is_empty() {
            0
        } else {
            let u = rng::stream_unit(self.seed, trial, REGIME_KEY);
            self.regime_cum
                .iter()
                .position(|&c| u < c)
                .unwrap_or(self.regime_cum.len())
        };
        let h = model.horizon as f64;
        for (i, shock) in model.shocks.iter().enumerate() {
            let lambda = self.lambda[regime][i];
            if lambda <= 0.0 || self.shocks[i].effects.is_empty() {
                continue;
            }
            let u = rng::stream_unit(self.seed, trial, shock.key);
            let p0 = self.p0[regime][i];
            if u < p0 {
                continue;
            }
            let mut rng = rng::stream_rng(self.seed, trial, shock.key);
            let n = if lambda <= INVERSION_MAX_LAMBDA {
                poisson_inverse(u, lambda, p0)
            } else {
                Poisson::new(lambda)
                    .map(|d| d.sample(&mut rng) as u64)
                    .unwrap_or(0)
            };
            for _ in 0..n {
                let start = h * unit_f64(rng.next_u64());
                let dur = shock.duration.sample(&mut rng).max(0.0);
                sc.sev.clear();
                if shock.independent {
                    for _ in 0..shock.footprint.len() {
                        sc.sev.push(shock.severity.sample(&mut rng).clamp(0.0, 1.0));
                    }
                } else {
                    sc.sev.push(shock.severity.sample(&mut rng).clamp(0.0, 1.0));
                }
                if sc.sev.is_empty() {
                    continue;
                }
                push_hits(
                    &mut sc.hits,
                    &self.shocks[i].effects,
                    model,
                    start,
                    start + dur,
                    &sc.sev,
                    i as u32,
                );
            }
        }
        regime
    }

    /// Runs trial number `trial` (0-based); the result lives in `sc`.
    pub fn run_trial<'s>(&self, trial: u64, sc: &'s mut Scratch) -> &'s TrialOutput {
        let regime = self.draw_events(trial, sc);
        sc.out.regime = regime;
        for k in 0..self.model.commodities.len() {
            if sc.hits[k].is_empty() {
                sc.out.touched[k] = false;
                continue;
            }
            sc.out.touched[k] = true;
            let mut hits = std::mem::take(&mut sc.hits[k]);
            let drawn = hits.len();
            hits.extend_from_slice(&self.scheduled[k]);
            let mut fig = std::mem::take(&mut sc.out.figures[k]);
            self.simulate_commodity(k, &hits, sc, &mut fig);
            sc.out.figures[k] = fig;
            hits.truncate(drawn);
            sc.hits[k] = hits;
        }
        &sc.out
    }

    /// The hits drawn for commodity `k` by the last [`Engine::draw_events`]
    /// (without scheduled events).
    pub fn last_hits<'s>(&self, sc: &'s Scratch, k: usize) -> &'s [Hit] {
        &sc.hits[k]
    }

    /// The producer units of the alliance step for one commodity-trial: each
    /// member producer touched by a hit on its own, and per class the rest.
    fn alliance_units(&self, k: usize, fin: usize, np: usize, sc: &mut Scratch) {
        let cm = &self.model.commodities[k];
        let cl = &self.classes[k];
        sc.vp_p.clear();
        sc.vp_cap.clear();
        sc.vp_spare.clear();
        for v in sc.alliance_vps.iter_mut() {
            v.clear();
        }
        let rest = &mut sc.class_rest;
        rest.clear();
        rest.extend_from_slice(&cl.cap);
        let own =
            |p: usize, sc: &Scratch| sc.banned.contains(&p) || sc.touched.contains(&(fin * np + p));
        for p in 0..np {
            let Some(c) = cl.class_of[p] else { continue };
            if !own(p, sc) {
                continue;
            }
            sc.class_rest[c] -= cm.cap[fin][p];
            let v = sc.vp_cap.len();
            sc.vp_p.push(Some(p));
            sc.vp_cap.push(cm.cap[fin][p]);
            sc.vp_spare.push(cl.spare[c]);
            for &ai in &cl.alliances[c] {
                sc.alliance_vps[ai].push(v);
            }
        }
        for c in 0..sc.class_rest.len() {
            let cap = sc.class_rest[c];
            if cap <= 0.0 {
                continue;
            }
            let v = sc.vp_cap.len();
            sc.vp_p.push(None);
            sc.vp_cap.push(cap);
            sc.vp_spare.push(cl.spare[c]);
            for &ai in &cl.alliances[c] {
                sc.alliance_vps[ai].push(v);
            }
        }
    }

    /// §4 for every month of one commodity, given its hits; fills `out`.
    ///
    /// Only the producers some hit touches are looked at one by one; the
    /// rest run at capacity and enter through the stage totals. A month
    /// whose hits cover exactly what they covered the month before has the
    /// same market (steps 1-4), which is then reused.
    // Indices run over several parallel per-consumer arrays at once.
    #[allow(clippy::needless_range_loop)]
    pub fn simulate_commodity(&self, k: usize, hits: &[Hit], sc: &mut Scratch, out: &mut Figures) {
        let cm: &CommodityModel = &self.model.commodities[k];
        let horizon = self.model.horizon;
        out.clear();
        sc.out.attrib[k].clear();
        if hits.is_empty() || cm.market_total <= 0.0 {
            return;
        }
        let attribute = sc.attribute;
        if attribute {
            let nj = cm.demand.len();
            sc.attr_w.clear();
            sc.attr_w.resize(hits.len() * nj, 0.0);
            sc.attr_part.clear();
            sc.attr_part.resize(hits.len() * nj, 0.0);
            sc.attr_world.clear();
            sc.attr_world.resize(hits.len(), 0.0);
        }
        let nj = cm.demand.len();
        let np = cm.producers.len();
        let ns = cm.stages.len();
        let fin = ns - 1;
        let cap_total = &self.cap_total[k];
        let mut lo = f64::INFINITY;
        let mut hi: f64 = 0.0;
        // Producers touched by output hits (per stage) and by bans.
        sc.touched.clear();
        sc.banned.clear();
        for hit in hits {
            lo = lo.min(hit.start);
            hi = hi.max(hit.end);
            let p = hit.producer as usize;
            if hit.mask == NO_MASK {
                let idx = hit.stage as usize * np + p;
                if !sc.touched.contains(&idx) {
                    sc.touched.push(idx);
                }
            } else if !sc.banned.contains(&p) {
                sc.banned.push(p);
            }
        }
        let t_lo = (lo.floor().max(0.0) as usize).min(horizon);
        let t_hi = (hi.ceil() as usize).min(horizon);
        sc.stock[..nj].copy_from_slice(&cm.stock0);
        sc.sum_s[..nj + 1].fill(0.0);
        let na = cm.alliances.len();
        sc.t0[..na].fill(None);
        if na > 0 {
            self.alliance_units(k, fin, np, sc);
        }
        sc.ov.clear();
        sc.ov.resize(hits.len(), -1.0);
        let big_m = cm.monthly_demand;
        let m_tot = cm.market_total;
        let cap_l = &cm.cap[fin];
        let mut r = 0.0;
        let mut have_market = false;
        let mut have_s5 = false;
        let mut any_ban = false;
        sc.w[..na].fill(-1.0);
        for t in t_lo..t_hi {
            let tf = t as f64;
            // Which hits cover this month, and by how much; same as last month?
            let mut same = have_market;
            let mut any_hit = false;
            for (i, hit) in hits.iter().enumerate() {
                let ov = hit.overlap(tf);
                any_hit |= ov > 0.0;
                if ov != sc.ov[i] {
                    same = false;
                    sc.ov[i] = ov;
                }
            }
            if !any_hit {
                have_market = false;
                have_s5 = false;
                sc.ov.fill(-1.0);
                continue;
            }
            if !same {
                // 1. output and access, for touched producers only
                for &idx in &sc.touched {
                    sc.keep[idx] = 1.0;
                }
                for &p in &sc.banned {
                    sc.acc[p * nj..(p + 1) * nj].fill(1.0);
                }
                any_ban = false;
                for (hit, &ov) in hits.iter().zip(&sc.ov) {
                    if ov <= 0.0 {
                        continue;
                    }
                    let p = hit.producer as usize;
                    if hit.mask == NO_MASK {
                        sc.keep[hit.stage as usize * np + p] *= 1.0 - hit.sev * ov;
                    } else {
                        any_ban = true;
                        let mask = &self.masks[hit.mask as usize];
                        let f = 1.0 - hit.sev * ov;
                        for (j, &m) in mask.iter().enumerate() {
                            if m {
                                sc.acc[p * nj + j] *= f;
                            }
                        }
                    }
                }
                // 2. bottleneck: A(s) = capacity - losses of touched producers
                let a = &mut sc.stage_a[..ns];
                a.copy_from_slice(cap_total);
                for &idx in &sc.touched {
                    let (s, p) = (idx / np, idx % np);
                    a[s] -= cm.cap[s][p] * (1.0 - sc.keep[idx]);
                }
                for v in a.iter_mut() {
                    *v = v.max(0.0);
                }
                let a_l = a[fin];
                r = if a_l <= 0.0 {
                    0.0
                } else {
                    a[..fin].iter().fold(1.0f64, |r, &a_s| r.min(a_s / a_l))
                };
                // 3-4. access and proportional rationing
                let supply = r * a_l;
                for j in 0..nj {
                    let mut offered = supply;
                    if any_ban {
                        for &p in &sc.banned {
                            let f = cap_l[p] * sc.keep[fin * np + p] * r;
                            offered -= f * (1.0 - sc.acc[p * nj + j]);
                        }
                    }
                    let u = (offered * cm.market[j] / m_tot).max(0.0);
                    sc.big_u[j] = u;
                    let mj = cm.market[j];
                    let short = mj - mj.min(u);
                    sc.s4[j] = if short <= SNAP * mj { 0.0 } else { short };
                }
                have_market = true;
                if attribute {
                    self.attribution_weights(k, hits, r, any_ban, sc);
                }
            }
            // 5. alliances. Their result depends only on the market, on which
            // have started (t0 is judged on step 4's S) and on their surge
            // weights: when all are as last month, so is the result.
            let mut reuse = same && have_s5;
            for (ai, a) in cm.alliances.iter().enumerate() {
                if sc.t0[ai].is_none()
                    && (0..nj).any(|j| a.member_consumer[j] && sc.s4[j] > SHORT_EPS * cm.demand[j])
                {
                    sc.t0[ai] = Some(t);
                }
                let w = match sc.t0[ai] {
                    Some(t0) => (tf + 1.0 - tf.max(t0 as f64 + a.ramp_months)).clamp(0.0, 1.0),
                    None => -1.0,
                };
                if w != sc.w[ai] {
                    reuse = false;
                    sc.w[ai] = w;
                }
            }
            let s = &mut sc.s[..nj];
            if reuse {
                s.copy_from_slice(&sc.s5[..nj]);
            } else {
                s.copy_from_slice(&sc.s4[..nj]);
            }
            if na > 0 && !reuse {
                let keep_l = &sc.keep[fin * np..(fin + 1) * np];
                let nv = sc.vp_cap.len();
                // Per alliance producer unit: its output f = cap * keep * r.
                for v in 0..nv {
                    let keep = sc.vp_p[v].map_or(1.0, |p| keep_l[p]);
                    sc.vp_f[v] = sc.vp_cap[v] * keep * r;
                    sc.budget[v] = sc.vp_spare[v] * sc.vp_f[v];
                }
                let mut q_ready = false;
                for (ai, a) in cm.alliances.iter().enumerate() {
                    let w = sc.w[ai];
                    if w < 0.0 {
                        continue; // not started
                    }
                    // Surge waits for the ramp (weight w); diversion redirects sales from t0 on.
                    if (w <= 0.0 || a.spare_capacity <= 0.0) && a.diversion <= 0.0 {
                        continue;
                    }
                    let need: f64 = (0..nj)
                        .filter(|&j| a.member_consumer[j])
                        .map(|j| s[j])
                        .sum();
                    if need <= 0.0 {
                        continue;
                    }
                    let units = &sc.alliance_vps[ai];
                    let mut g = 0.0;
                    if w > 0.0 && a.spare_capacity > 0.0 {
                        for &v in units {
                            let x = (w * a.spare_capacity * sc.vp_f[v])
                                .min(sc.budget[v])
                                .max(0.0);
                            sc.avail[v] = x;
                            g += x;
                        }
                    }
                    let mut q_tot = 0.0;
                    // Diversion is only drawn on when surge falls short.
                    if a.diversion > 0.0 && g < need {
                        if !q_ready {
                            // q(c, j) = u(c, j) R(j) / U(j) = f(c) acc(c, j) ratio(j)
                            for j in 0..nj {
                                let uj = sc.big_u[j];
                                sc.ratio[j] = if uj > 0.0 {
                                    cm.market[j] / m_tot * cm.market[j].min(uj) / uj
                                } else {
                                    0.0
                                };
                            }
                            sc.q_done[..nv].fill(false);
                            q_ready = true;
                        }
                        for &v in units {
                            if !sc.q_done[v] {
                                let f = sc.vp_f[v];
                                let banned = match sc.vp_p[v] {
                                    Some(p) if any_ban && sc.banned.contains(&p) => Some(p),
                                    _ => None,
                                };
                                for j in 0..nj {
                                    let acc = banned.map_or(1.0, |p| sc.acc[p * nj + j]);
                                    sc.q[v * nj + j] = f * acc * sc.ratio[j];
                                }
                                sc.q_done[v] = true;
                            }
                            let d: f64 = (0..nj)
                                .filter(|&j| !a.member_consumer[j])
                                .map(|j| sc.q[v * nj + j])
                                .sum();
                            sc.div_p[v] = d;
                            q_tot += d;
                        }
                    }
                    let help = need.min(g + a.diversion * q_tot);
                    if help <= 0.0 {
                        continue;
                    }
                    let g_used = help.min(g);
                    let v_used = help - g_used;
                    if g > 0.0 {
                        for &v in units {
                            sc.budget[v] -= g_used * sc.avail[v] / g;
                        }
                    }
                    let frac = help / need;
                    for j in 0..nj {
                        if a.member_consumer[j] {
                            let share = s[j] / need;
                            if v_used > 0.0 && q_tot > 0.0 {
                                for &v in units {
                                    sc.q[v * nj + j] += v_used * share * sc.div_p[v] / q_tot;
                                }
                            }
                            s[j] *= 1.0 - frac;
                        } else if v_used > 0.0 && q_tot > 0.0 {
                            let mut take = 0.0;
                            for &v in units {
                                let d = v_used * sc.q[v * nj + j] / q_tot;
                                sc.q[v * nj + j] -= d;
                                take += d;
                            }
                            s[j] += take;
                        }
                    }
                }
            }
            if na > 0 && !reuse {
                sc.s5[..nj].copy_from_slice(s);
                have_s5 = true;
            }
            // 6. stockpiles, and the month's figures
            let mut world = 0.0;
            for j in 0..nj {
                let d = cm.demand[j];
                if d <= 0.0 {
                    continue;
                }
                let mut sj = s[j];
                if sc.stock[j] > 0.0 && sj > 0.0 {
                    let release = sc.stock[j].min(sj);
                    sj -= release;
                    sc.stock[j] -= release;
                }
                world += sj;
                sc.sum_s[j] += sj;
                if attribute && sj > 0.0 {
                    split_shortfall(
                        &sc.attr_w,
                        &sc.attr_world,
                        &sc.ov,
                        &mut sc.attr_part,
                        nj,
                        j,
                        sj,
                    );
                }
                let rel = sj / d;
                if rel > out.peak[j] {
                    out.peak[j] = rel;
                }
                if sj >= 0.01 * d {
                    out.months_short[j] += 1;
                }
                if cm.has_stockpile[j] && sc.stock[j] <= 0.0 && sj > SHORT_EPS * d {
                    out.stockout[j] = true;
                }
            }
            sc.sum_s[nj] += world;
            let rel = world / big_m;
            out.monthly_world[t] = rel;
            if rel > out.peak[nj] {
                out.peak[nj] = rel;
            }
            if world >= 0.01 * big_m {
                out.months_short[nj] += 1;
            }
        }
        // leave keep and acc all ones for the next commodity
        for &idx in &sc.touched {
            sc.keep[idx] = 1.0;
        }
        for &p in &sc.banned {
            sc.acc[p * nj..(p + 1) * nj].fill(1.0);
        }
        let hf = horizon as f64;
        for j in 0..nj {
            let d = cm.demand[j];
            out.shortfall[j] = if d > 0.0 {
                (sc.sum_s[j] / (hf * d)).min(1.0)
            } else {
                0.0
            };
        }
        out.shortfall[nj] = (sc.sum_s[nj] / (hf * big_m)).min(1.0);
        if attribute {
            let parts = &mut sc.out.attrib[k];
            for (h, hit) in hits.iter().enumerate() {
                let country = cm.producers[hit.producer as usize] as u32;
                let mut world = 0.0;
                for j in 0..nj {
                    let v = sc.attr_part[h * nj + j];
                    if v > 0.0 {
                        world += v;
                        parts.push(AttribPart {
                            series: j as u32,
                            source: hit.source,
                            country,
                            value: v / (hf * cm.demand[j]),
                        });
                    }
                }
                if world > 0.0 {
                    parts.push(AttribPart {
                        series: nj as u32,
                        source: hit.source,
                        country,
                        value: world / (hf * big_m),
                    });
                }
            }
        }
    }

    /// Per hit and consumer, the supply the hit removed from the consumer in
    /// this month (the weights of the attribution, see docs/outputs.md):
    /// final-stage output losses in full, the bottleneck's loss `(1 - r) A(L)`
    /// to the hits on the binding upstream stage, both offered to consumers in
    /// proportion to market demand; ban losses to the consumers they target.
    /// Several hits on one producer share its loss in proportion to
    /// `severity * overlap`.
    fn attribution_weights(&self, k: usize, hits: &[Hit], r: f64, any_ban: bool, sc: &mut Scratch) {
        let cm = &self.model.commodities[k];
        let nj = cm.demand.len();
        let np = cm.producers.len();
        let ns = cm.stages.len();
        let fin = ns - 1;
        let m_tot = cm.market_total;
        sc.attr_w.fill(0.0);
        sc.attr_world.fill(0.0);
        for &idx in &sc.touched {
            sc.cell_x[idx] = 0.0;
        }
        for &p in &sc.banned {
            sc.ban_y[p * nj..(p + 1) * nj].fill(0.0);
        }
        for (hit, &ov) in hits.iter().zip(&sc.ov) {
            if ov <= 0.0 {
                continue;
            }
            let p = hit.producer as usize;
            if hit.mask == NO_MASK {
                sc.cell_x[hit.stage as usize * np + p] += hit.sev * ov;
            } else {
                for (j, &m) in self.masks[hit.mask as usize].iter().enumerate() {
                    if m {
                        sc.ban_y[p * nj + j] += hit.sev * ov;
                    }
                }
            }
        }
        // The binding upstream stage and its total loss.
        let a_l = sc.stage_a[fin];
        let mut bind = None;
        if r < 1.0 {
            let mut best = f64::INFINITY;
            for s in 0..fin {
                let ratio = if a_l > 0.0 { sc.stage_a[s] / a_l } else { 0.0 };
                if ratio < best {
                    best = ratio;
                    bind = Some(s);
                }
            }
        }
        let bind_loss: f64 = bind
            .map(|s| {
                sc.touched
                    .iter()
                    .filter(|&&idx| idx / np == s)
                    .map(|&idx| cm.cap[s][idx % np] * (1.0 - sc.keep[idx]))
                    .sum()
            })
            .unwrap_or(0.0);
        for (h, (hit, &ov)) in hits.iter().zip(&sc.ov).enumerate() {
            if ov <= 0.0 {
                continue;
            }
            let p = hit.producer as usize;
            let x = hit.sev * ov;
            if hit.mask == NO_MASK {
                let s = hit.stage as usize;
                let idx = s * np + p;
                let cell_loss = cm.cap[s][p] * (1.0 - sc.keep[idx]);
                let share = if sc.cell_x[idx] > 0.0 {
                    x / sc.cell_x[idx]
                } else {
                    0.0
                };
                let mut removed = 0.0;
                if s == fin {
                    removed += cell_loss * share;
                }
                if Some(s) == bind && bind_loss > 0.0 {
                    removed += (1.0 - r) * a_l * cell_loss * share / bind_loss;
                }
                if removed > 0.0 {
                    sc.attr_world[h] += removed;
                    for j in 0..nj {
                        sc.attr_w[h * nj + j] = removed * cm.market[j] / m_tot;
                    }
                }
            } else if any_ban {
                let f = cm.cap[fin][p] * sc.keep[fin * np + p] * r;
                for (j, &m) in self.masks[hit.mask as usize].iter().enumerate() {
                    let y = sc.ban_y[p * nj + j];
                    if m && y > 0.0 {
                        let lost = f * (1.0 - sc.acc[p * nj + j]) * cm.market[j] / m_tot;
                        let w = lost * x / y;
                        sc.attr_w[h * nj + j] = w;
                        sc.attr_world[h] += w;
                    }
                }
            }
        }
    }
}

/// Splits consumer j's shortfall `sj` of this month over the hits, in
/// proportion to the supply each removed from j; a consumer short only
/// through an alliance's diversion takes the month's world weights, and
/// failing those, the active hits share equally.
fn split_shortfall(
    w: &[f64],
    world_w: &[f64],
    ov: &[f64],
    part: &mut [f64],
    nj: usize,
    j: usize,
    sj: f64,
) {
    let n_hits = world_w.len();
    let total: f64 = (0..n_hits).map(|h| w[h * nj + j]).sum();
    if total > 0.0 {
        for h in 0..n_hits {
            part[h * nj + j] += sj * w[h * nj + j] / total;
        }
        return;
    }
    let world: f64 = world_w.iter().sum();
    if world > 0.0 {
        for h in 0..n_hits {
            part[h * nj + j] += sj * world_w[h] / world;
        }
        return;
    }
    let active = ov.iter().filter(|&&o| o > 0.0).count().max(1);
    for h in 0..n_hits {
        if ov[h] > 0.0 {
            part[h * nj + j] += sj / active as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_inverse_is_monotone_and_matches_cdf() {
        let lambda: f64 = 2.0;
        let p0 = (-lambda).exp();
        assert_eq!(poisson_inverse(0.0, lambda, p0), 0);
        assert_eq!(poisson_inverse(p0 - 1e-12, lambda, p0), 0);
        assert_eq!(poisson_inverse(p0, lambda, p0), 1);
        let mut last = 0;
        for i in 0..1000 {
            let n = poisson_inverse(i as f64 / 1000.0, lambda, p0);
            assert!(n >= last);
            last = n;
        }
    }
}
