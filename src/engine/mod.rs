//! The Monte Carlo engine: one trial at a time, no I/O (docs/model.md §3–§5).
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

mod alliance;
mod attribution;
mod month;
mod resume;
pub mod rng;

use alliance::Classes;

use rand::Rng;
use rand_distr::{Distribution, Poisson};

use crate::dist::unit_f64;
use crate::model::{Effect, Model};

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

/// A (stage, producer) cell of one commodity that an output hit touches:
/// its index into `keep` (stage * producers + producer), stage and capacity.
#[derive(Debug, Clone, Copy)]
struct Cell {
    idx: usize,
    stage: usize,
    cap: f64,
}

/// Reusable per-worker buffers.
pub struct Scratch {
    /// Split each trial's shortfall over its causes (slower; off by default).
    pub attribute: bool,
    /// Split every month's shortfall at once instead of each stretch of
    /// months with the same weights (for tests: parts agree to rounding).
    #[doc(hidden)]
    pub split_monthly: bool,
    attr_w: Vec<f64>,
    attr_world: Vec<f64>,
    attr_part: Vec<f64>,
    /// Per consumer, shortfall not yet split over the weighted hits.
    attr_pending: Vec<f64>,
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
    /// The (stage, producer) cells output hits touch this trial.
    touched: Vec<Cell>,
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
    /// Midstream buffers left per stage (§4.2), this trial.
    buffer: Vec<f64>,
    /// Has `q` been filled this month (the alliance step, §4.5)?
    q_ready: bool,
    /// (month, hit): the months at which each hit's coverage can change
    /// (see `month.rs`), in order.
    changes: Vec<(usize, u32)>,
    /// The hits covering the current month (overlap > 0), in hit order.
    active: Vec<u32>,
    /// The hits whose attribution weights are set (those active when the
    /// weights were last computed), in hit order.
    weighted: Vec<u32>,
    t0: Vec<Option<usize>>,
    /// While a scheduled-only run is recorded: its state at the start of
    /// each month ([`resume`]).
    snapshots: Option<Vec<resume::Snapshot>>,
    out: TrialOutput,
}

impl Scratch {
    /// The output of the last trial run with this scratch.
    pub fn output(&self) -> &TrialOutput {
        &self.out
    }

    /// Copies the figures of the commodities in `skip` from `from` (the same
    /// trial run by an engine with the same fingerprints).
    pub fn copy_figures(&mut self, from: &Scratch, skip: &[bool]) {
        for (k, &s) in skip.iter().enumerate() {
            if s && self.out.touched[k] {
                self.out.figures[k].clone_from(&from.out.figures[k]);
            }
        }
    }
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
    /// `scale[r][i]`: regime factor × horizon in years (an uncertain rate's
    /// draw times this is the trial's expected count).
    scale: Vec<Vec<f64>>,
    shocks: Vec<CompiledShock>,
    masks: Vec<Vec<bool>>,
    scheduled: Vec<Vec<Hit>>,
    /// Figures of each commodity when no stochastic event touches it.
    pub cached: Vec<Figures>,
    /// Their attribution (to scheduled events).
    pub cached_attrib: Vec<Vec<AttribPart>>,
    /// Per commodity, the state of its scheduled-only run at the start of
    /// each month (empty without scheduled events): trials resume from it.
    snapshots: Vec<Vec<resume::Snapshot>>,
    /// Per commodity and stage, total capacity (ROW included).
    cap_total: Vec<Vec<f64>>,
    /// Per commodity, the alliance classes of its final-stage producers.
    classes: Vec<Classes>,
    max_p: usize,
    max_s: usize,
    /// Per commodity, everything its simulation depends on, as text: two
    /// engines whose fingerprints of commodity k are equal compute the same
    /// figures of k in every trial (see [`Engine::same_commodities`]).
    fingerprints: Vec<String>,
    /// Everything [`Engine::draw_events`] depends on, as text: two engines
    /// with equal draw fingerprints draw the same hits in every trial (see
    /// [`Engine::same_draws`]).
    draw_fingerprint: String,
}

const REGIME_KEY: u64 = 0x5245_4749_4d45_0001;

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

/// Per regime (the implicit normal one last) and shock: the expected event
/// count over the horizon, its Poisson zero probability, and the factor that
/// turns a per-year rate into it.
struct RateTables {
    regime_cum: Vec<f64>,
    lambda: Vec<Vec<f64>>,
    p0: Vec<Vec<f64>>,
    scale: Vec<Vec<f64>>,
}

impl RateTables {
    fn new(model: &Model) -> RateTables {
        let hscale = model.horizon as f64 / 12.0;
        let mut regime_cum = Vec::new();
        let mut acc = 0.0;
        let mut factors: Vec<&[f64]> = Vec::new();
        for r in &model.regimes {
            acc += r.probability;
            regime_cum.push(acc);
            factors.push(&r.factors);
        }
        let ones = vec![1.0; model.shocks.len()];
        factors.push(&ones);
        // The normal regime keeps v1's exact product rate * hscale.
        let lambda: Vec<Vec<f64>> = factors
            .iter()
            .enumerate()
            .map(|(r, f)| {
                let normal = r == model.regimes.len();
                (model.shocks.iter().zip(f.iter()))
                    .map(|(s, f)| {
                        if normal {
                            s.rate_per_year * hscale
                        } else {
                            s.rate_per_year * f * hscale
                        }
                    })
                    .collect()
            })
            .collect();
        let p0 = lambda
            .iter()
            .map(|row| row.iter().map(|l| (-l).exp()).collect())
            .collect();
        let scale = factors
            .iter()
            .map(|f| f.iter().map(|f| f * hscale).collect())
            .collect();
        RateTables {
            regime_cum,
            lambda,
            p0,
            scale,
        }
    }
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
        let rates = RateTables::new(model);
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
            regime_cum: rates.regime_cum,
            lambda: rates.lambda,
            p0: rates.p0,
            scale: rates.scale,
            shocks,
            masks,
            scheduled,
            cached: Vec::new(),
            cached_attrib: Vec::new(),
            snapshots: Vec::new(),
            cap_total: model
                .commodities
                .iter()
                .map(|c| c.cap.iter().map(|row| row.iter().sum()).collect())
                .collect(),
            classes: model.commodities.iter().map(Classes::new).collect(),
            max_p,
            max_s,
            fingerprints: Vec::new(),
            draw_fingerprint: String::new(),
        };
        engine.fingerprints = (0..nk).map(|k| engine.fingerprint(k)).collect();
        engine.draw_fingerprint = engine.draw_fingerprint();
        let mut scratch = engine.scratch();
        scratch.attribute = true;
        let mut cached = Vec::new();
        let mut cached_attrib = Vec::new();
        let mut snapshots = Vec::new();
        for k in 0..nk {
            let hits = engine.scheduled[k].clone();
            let mut fig = Figures::new(model.n_consumers() + 2, model.horizon);
            let cm = &model.commodities[k];
            let record = !hits.is_empty()
                && resume::worth_recording(
                    month::Dims::of(cm),
                    hits.len(),
                    cm.alliances.len(),
                    model.horizon,
                );
            scratch.snapshots = record.then(Vec::new);
            engine.simulate_commodity(k, &hits, 0, &mut scratch, &mut fig);
            cached.push(fig);
            cached_attrib.push(std::mem::take(&mut scratch.out.attrib[k]));
            snapshots.push(scratch.snapshots.take().unwrap_or_default());
        }
        engine.cached = cached;
        engine.cached_attrib = cached_attrib;
        engine.snapshots = snapshots;
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
            split_monthly: false,
            attr_w: Vec::new(),
            attr_world: Vec::new(),
            attr_part: Vec::new(),
            attr_pending: vec![0.0; nj],
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
            buffer: vec![0.0; self.max_s],
            q_ready: false,
            changes: Vec::new(),
            active: Vec::new(),
            weighted: Vec::new(),
            t0: vec![None; na],
            snapshots: None,
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
        for h in sc.hits.iter_mut() {
            h.clear();
        }
        let streams = rng::Trial::new(self.seed, trial);
        let regime = if self.regime_cum.is_empty() {
            0
        } else {
            let u = streams.unit(REGIME_KEY);
            self.regime_cum
                .iter()
                .position(|&c| u < c)
                .unwrap_or(self.regime_cum.len())
        };
        for i in 0..self.model.shocks.len() {
            if !self.shocks[i].effects.is_empty() {
                self.draw_shock(streams, regime, i, sc);
            }
        }
        regime
    }

    /// The events of shock `i` in one trial (§3): an uncertain rate first,
    /// then a Poisson count, then per event its start, duration and
    /// severities, turned into hits.
    fn draw_shock(&self, streams: rng::Trial, regime: usize, i: usize, sc: &mut Scratch) {
        let shock = &self.model.shocks[i];
        let (lambda, p0) = match &shock.rate_dist {
            None => (self.lambda[regime][i], Some(self.p0[regime][i])),
            Some(d) => {
                let mut rr = streams.rate_rng(shock.key);
                (d.sample(&mut rr).max(0.0) * self.scale[regime][i], None)
            }
        };
        if lambda <= 0.0 {
            return;
        }
        let u = streams.unit(shock.key);
        // exp(-lambda) >= 1 - lambda, and both are computed to within an ulp:
        // below 1 - lambda - 1e-15, u is below exp(-lambda) too (no event),
        // with no need to compute it.
        if p0.is_none() && u < 1.0 - lambda - 1e-15 {
            return;
        }
        let p0 = p0.unwrap_or_else(|| (-lambda).exp());
        if u < p0 {
            return;
        }
        let mut rng = streams.rng(shock.key);
        let n = if lambda <= INVERSION_MAX_LAMBDA {
            poisson_inverse(u, lambda, p0)
        } else {
            Poisson::new(lambda)
                .map(|d| d.sample(&mut rng) as u64)
                .unwrap_or(0)
        };
        let h = self.model.horizon as f64;
        for _ in 0..n {
            let start = h * unit_f64(rng.next_u64());
            let dur = shock.duration.sample(&mut rng).max(0.0);
            sc.sev.clear();
            let draws = if shock.independent {
                shock.footprint.len()
            } else {
                1
            };
            for _ in 0..draws {
                sc.sev.push(shock.severity.sample(&mut rng).clamp(0.0, 1.0));
            }
            if sc.sev.is_empty() {
                continue;
            }
            push_hits(
                &mut sc.hits,
                &self.shocks[i].effects,
                self.model,
                start,
                start + dur,
                &sc.sev,
                i as u32,
            );
        }
    }

    /// Runs trial number `trial` (0-based); the result lives in `sc`.
    pub fn run_trial<'s>(&self, trial: u64, sc: &'s mut Scratch) -> &'s TrialOutput {
        self.run_trial_skipping(trial, sc, &[])
    }

    /// [`Engine::run_trial`], except that commodities with `skip[k]` are not
    /// simulated: their figures are left for the caller to copy from an
    /// engine with the same fingerprint ([`Scratch::copy_figures`]).
    pub fn run_trial_skipping<'s>(
        &self,
        trial: u64,
        sc: &'s mut Scratch,
        skip: &[bool],
    ) -> &'s TrialOutput {
        let regime = self.draw_events(trial, sc);
        self.simulate_drawn(regime, sc, skip)
    }

    /// [`Engine::run_trial_skipping`] on the hits `from` drew for the same
    /// trial, when this engine draws exactly as `from`'s engine does
    /// ([`Engine::same_draws`]): the draws are copied, not made again.
    pub fn run_trial_on<'s>(
        &self,
        from: &Scratch,
        sc: &'s mut Scratch,
        skip: &[bool],
    ) -> &'s TrialOutput {
        for (mine, theirs) in sc.hits.iter_mut().zip(&from.hits) {
            mine.clone_from(theirs);
        }
        self.simulate_drawn(from.out.regime, sc, skip)
    }

    /// §4 for every commodity some drawn hit touches (those in `skip`
    /// excepted); the others keep their cached figures.
    fn simulate_drawn<'s>(
        &self,
        regime: usize,
        sc: &'s mut Scratch,
        skip: &[bool],
    ) -> &'s TrialOutput {
        sc.out.regime = regime;
        for k in 0..self.model.commodities.len() {
            if sc.hits[k].is_empty() {
                sc.out.touched[k] = false;
                continue;
            }
            sc.out.touched[k] = true;
            if skip.get(k) == Some(&true) {
                continue;
            }
            let mut hits = std::mem::take(&mut sc.hits[k]);
            let drawn = hits.len();
            hits.extend_from_slice(&self.scheduled[k]);
            let mut fig = std::mem::take(&mut sc.out.figures[k]);
            self.simulate_commodity(k, &hits, drawn, sc, &mut fig);
            sc.out.figures[k] = fig;
            hits.truncate(drawn);
            sc.hits[k] = hits;
        }
        &sc.out
    }

    /// Per commodity of this engine: does `base` compute exactly the same
    /// figures for it in every trial? (Same market, same shocks and events
    /// acting on it, same rates and regimes, same random streams.)
    pub fn same_commodities(&self, base: &Engine) -> Vec<bool> {
        (0..self.fingerprints.len())
            .map(|k| {
                base.fingerprints.get(k) == Some(&self.fingerprints[k]) && base.seed == self.seed
            })
            .collect()
    }

    /// Everything the simulation of commodity `k` depends on, as text
    /// (`{:?}` prints every f64 so that it reads back to the same bits).
    fn fingerprint(&self, k: usize) -> String {
        use std::fmt::Write;
        let m = self.model;
        let mut s = format!(
            "H{} {:?} {:?}\n",
            m.horizon, self.regime_cum, m.commodities[k]
        );
        for (i, sh) in m.shocks.iter().enumerate() {
            let effects: Vec<&CompiledEffect> = self.shocks[i]
                .effects
                .iter()
                .filter(|e| e.commodity == k)
                .collect();
            if effects.is_empty() {
                continue;
            }
            let factors: Vec<f64> = m.regimes.iter().map(|r| r.factors[i]).collect();
            let _ = write!(
                s,
                "shock {} {:?} {:?} {:?} {:?} {} {} {factors:?}",
                sh.key,
                sh.rate_per_year,
                sh.rate_dist,
                sh.severity,
                sh.duration,
                sh.independent,
                sh.footprint.len()
            );
            for e in effects {
                let _ = write!(s, " leak {:?}", e.leakage);
                for &(pos, stage, p, mask) in &e.hits {
                    let _ = write!(s, " ({pos},{stage},{p},{:?})", self.mask_of(mask));
                }
            }
            s.push('\n');
        }
        for h in &self.scheduled[k] {
            let _ = writeln!(
                s,
                "event {:?} {:?} {} {} {:?} {:?}",
                h.start,
                h.end,
                h.stage,
                h.producer,
                h.sev,
                self.mask_of(h.mask)
            );
        }
        s
    }

    /// Simulates every month of every trial from the first, without
    /// resuming from the scheduled-only runs (for tests: the results agree
    /// to rounding).
    #[doc(hidden)]
    pub fn forget_snapshots(&mut self) {
        self.snapshots.clear();
    }

    /// Does this engine draw exactly the hits `base` draws, in every trial?
    /// (Same seed, horizon, regimes, rates and shocks, acting on the same
    /// producers.)
    pub fn same_draws(&self, base: &Engine) -> bool {
        self.draw_fingerprint == base.draw_fingerprint
    }

    /// Everything the drawing of one trial's hits depends on, as text.
    fn draw_fingerprint(&self) -> String {
        use std::fmt::Write;
        let m = self.model;
        let mut s = format!(
            "seed {} H{} {:?} {:?} {:?} {:?} {:?}\n",
            self.seed, m.horizon, self.regime_cum, self.lambda, self.p0, self.scale, self.masks
        );
        let finals: Vec<usize> = m.commodities.iter().map(|c| c.final_stage()).collect();
        let _ = writeln!(s, "final stages {finals:?}");
        for (sh, compiled) in m.shocks.iter().zip(&self.shocks) {
            let _ = write!(
                s,
                "shock {} {:?} {:?} {:?} {} {}",
                sh.key,
                sh.rate_dist,
                sh.severity,
                sh.duration,
                sh.independent,
                sh.footprint.len()
            );
            for e in &compiled.effects {
                let _ = write!(s, " [{} {:?} {:?}]", e.commodity, e.leakage, e.hits);
            }
            s.push('\n');
        }
        s
    }

    fn mask_of(&self, mask: u32) -> Option<&[bool]> {
        (mask != NO_MASK).then(|| self.masks[mask as usize].as_slice())
    }

    /// The hits drawn for commodity `k` by the last [`Engine::draw_events`]
    /// (without scheduled events).
    pub fn last_hits<'s>(&self, sc: &'s Scratch, k: usize) -> &'s [Hit] {
        &sc.hits[k]
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
