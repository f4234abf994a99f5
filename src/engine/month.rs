//! The months of one commodity in one trial (docs/model.md §4), one function
//! per step: output (1), bottleneck with midstream buffers (2), access and
//! market (3–4), alliances (5, in [`super::alliance`]) and stockpiles (6).
//!
//! Only the producers some hit touches are looked at one by one; the rest run
//! at capacity and enter through the stage totals. A month whose hits cover
//! exactly what they covered the month before, and in which no buffer moved,
//! has the same market (steps 1-4), which is then reused.

use super::{Cell, Engine, Figures, Hit, NO_MASK, SHORT_EPS, SNAP, Scratch};
use crate::model::CommodityModel;

/// Spans of at most this many months scan every hit every month.
const SCAN_ALL_MONTHS: usize = 24;

/// Sizes and totals of one commodity, fixed for the whole trial.
#[derive(Clone, Copy)]
pub(super) struct Dims {
    /// Consumers with ROW.
    pub nj: usize,
    /// Local producers with ROW.
    pub np: usize,
    pub ns: usize,
    /// The final stage L.
    pub fin: usize,
    /// Primary demand P (units of M).
    pub m_tot: f64,
}

impl Dims {
    pub fn of(cm: &CommodityModel) -> Dims {
        let ns = cm.stages.len();
        Dims {
            nj: cm.demand_rel.len(),
            np: cm.producers.len(),
            ns,
            fin: ns - 1,
            m_tot: cm.market_total,
        }
    }
}

impl Engine<'_> {
    /// §4 for every month of one commodity, given its hits (the first
    /// `drawn` of them drawn this trial, the rest scheduled); fills `out`.
    pub fn simulate_commodity(
        &self,
        k: usize,
        hits: &[Hit],
        drawn: usize,
        sc: &mut Scratch,
        out: &mut Figures,
    ) {
        let cm: &CommodityModel = &self.model.commodities[k];
        out.clear();
        sc.out.attrib[k].clear();
        if hits.is_empty() || cm.market_total <= 0.0 {
            return;
        }
        let d = Dims::of(cm);
        let (t_lo, t_hi) = self.prepare(k, hits, d, sc);
        let t_from = self.resume(k, &hits[..drawn], t_lo, d, sc, out);
        let mut r = 0.0;
        let mut have_market = false;
        let mut have_s5 = false;
        let mut any_ban = false;
        let mut buffers_moved = false;
        // A hit's coverage changes only at its first, second, last and
        // one-past-last month: walk those months in order, updating only the
        // hits that change, and skip the months no hit covers. Over a short
        // span, scanning every hit every month is cheaper than sorting.
        let scan_all = t_hi - t_from <= SCAN_ALL_MONTHS;
        if scan_all {
            sc.changes.clear();
        } else {
            change_months(hits, &mut sc.changes);
        }
        let mut next = 0;
        let mut t = t_from;
        while t < t_hi {
            self.record_until(k, t, d, sc, out);
            let mut same = have_market && !buffers_moved;
            if scan_all {
                same &= coverage_scan(hits, t, sc);
            } else if next < sc.changes.len() && sc.changes[next].0 <= t {
                same &= coverage(hits, t, &mut next, sc);
            }
            if sc.active.is_empty() {
                have_market = false;
                have_s5 = false;
                t = match sc.changes.get(next) {
                    _ if scan_all => t + 1,
                    Some(c) => c.0.max(t + 1),
                    None => t_hi,
                };
                continue;
            }
            if !same {
                any_ban = self.step_output(hits, d, sc);
                (r, buffers_moved) = step_bottleneck(&self.cap_total[k], d, sc);
                step_market(cm, r, any_ban, d, sc);
                have_market = true;
                if sc.attribute {
                    self.attribution_weights(k, hits, r, any_ban, sc);
                }
            }
            let reuse = self.alliance_weights(cm, t, same && have_s5, d, sc);
            self.step_alliances(cm, r, any_ban, reuse, d, sc);
            have_s5 |= !cm.alliances.is_empty();
            step_stockpiles(cm, t, d, sc, out);
            t += 1;
        }
        self.record_until(k, self.model.horizon, d, sc, out);
        self.finish(k, hits, d, sc, out);
    }

    /// Per-trial state: touched producers, the months to simulate, stocks,
    /// buffers, alliance start months and producer units.
    fn prepare(&self, k: usize, hits: &[Hit], d: Dims, sc: &mut Scratch) -> (usize, usize) {
        let cm = &self.model.commodities[k];
        let horizon = self.model.horizon;
        if sc.attribute {
            for v in [&mut sc.attr_w, &mut sc.attr_part] {
                v.clear();
                v.resize(hits.len() * d.nj, 0.0);
            }
            sc.attr_pending[..d.nj].fill(0.0);
            sc.attr_world.clear();
            sc.attr_world.resize(hits.len(), 0.0);
        }
        let mut lo = f64::INFINITY;
        let mut hi: f64 = 0.0;
        sc.touched.clear();
        sc.banned.clear();
        for hit in hits {
            lo = lo.min(hit.start);
            hi = hi.max(hit.end);
            let p = hit.producer as usize;
            if hit.mask == NO_MASK {
                let stage = hit.stage as usize;
                let idx = stage * d.np + p;
                if !sc.touched.iter().any(|c| c.idx == idx) {
                    let cap = cm.cap[stage][p];
                    sc.touched.push(Cell { idx, stage, cap });
                }
            } else if !sc.banned.contains(&p) {
                sc.banned.push(p);
            }
        }
        sc.stock[..d.nj].copy_from_slice(&cm.stock0);
        sc.buffer[..d.ns].copy_from_slice(&cm.buffer);
        sc.sum_s[..d.nj + 1].fill(0.0);
        let na = cm.alliances.len();
        sc.t0[..na].fill(None);
        sc.w[..na].fill(-1.0);
        if na > 0 {
            self.alliance_units(k, d.fin, d.np, sc);
        }
        sc.ov.clear();
        sc.ov.resize(hits.len(), 0.0);
        sc.active.clear();
        sc.weighted.clear();
        let t_lo = (lo.floor().max(0.0) as usize).min(horizon);
        let t_hi = (hi.ceil() as usize).min(horizon);
        (t_lo, t_hi)
    }

    /// Step 1: keep(c, s) of touched producers and acc(c, j) of banning ones.
    /// Returns whether a ban acts this month.
    fn step_output(&self, hits: &[Hit], d: Dims, sc: &mut Scratch) -> bool {
        let (nj, np) = (d.nj, d.np);
        for c in &sc.touched {
            sc.keep[c.idx] = 1.0;
        }
        for &p in &sc.banned {
            sc.acc[p * nj..(p + 1) * nj].fill(1.0);
        }
        let mut any_ban = false;
        for i in 0..sc.active.len() {
            let h = sc.active[i] as usize;
            let (hit, ov) = (&hits[h], sc.ov[h]);
            let p = hit.producer as usize;
            if hit.mask == NO_MASK {
                sc.keep[hit.stage as usize * np + p] *= 1.0 - hit.sev * ov;
            } else {
                any_ban = true;
                let f = 1.0 - hit.sev * ov;
                for (j, &m) in self.masks[hit.mask as usize].iter().enumerate() {
                    if m {
                        sc.acc[p * nj + j] *= f;
                    }
                }
            }
        }
        any_ban
    }

    /// After the last month: shortfalls as shares of demand over the horizon,
    /// and the attribution parts when asked for.
    fn finish(&self, k: usize, hits: &[Hit], d: Dims, sc: &mut Scratch, out: &mut Figures) {
        let cm = &self.model.commodities[k];
        // leave keep and acc all ones for the next commodity
        for c in &sc.touched {
            sc.keep[c.idx] = 1.0;
        }
        for &p in &sc.banned {
            sc.acc[p * d.nj..(p + 1) * d.nj].fill(1.0);
        }
        let hf = self.model.horizon as f64;
        for j in 0..d.nj {
            let dj = cm.demand_rel[j];
            out.shortfall[j] = if dj > 0.0 {
                (sc.sum_s[j] / (hf * dj)).min(1.0)
            } else {
                0.0
            };
        }
        out.shortfall[d.nj] = (sc.sum_s[d.nj] / hf).min(1.0);
        if sc.attribute {
            super::attribution::flush_split(sc, d.nj);
            self.attribution_parts(k, hits, d, sc);
        }
    }
}

/// Per hit, the months in which its coverage can differ from the month
/// before: floor(start), floor(start) + 1, floor(end), floor(end) + 1;
/// sorted by month, then hit.
fn change_months(hits: &[Hit], out: &mut Vec<(usize, u32)>) {
    out.clear();
    for (i, h) in hits.iter().enumerate() {
        let (s, e) = (
            h.start.floor().max(0.0) as usize,
            h.end.floor().max(0.0) as usize,
        );
        let i = i as u32;
        out.extend([(s, i), (s + 1, i), (e, i), (e + 1, i)]);
    }
    out.sort_unstable();
    out.dedup();
}

/// Brings the coverage of month t up to date (`sc.ov`, and `sc.active`, the
/// hits covering t in hit order) from the change months up to t; returns
/// whether it is the same as last month's.
fn coverage(hits: &[Hit], t: usize, next: &mut usize, sc: &mut Scratch) -> bool {
    let tf = t as f64;
    let mut same = true;
    while let Some(&(m, h)) = sc.changes.get(*next) {
        if m > t {
            break;
        }
        *next += 1;
        let h = h as usize;
        let (old, ov) = (sc.ov[h], hits[h].overlap(tf));
        if ov == old {
            continue;
        }
        same = false;
        sc.ov[h] = ov;
        let pos = sc.active.partition_point(|&a| (a as usize) < h);
        if ov > 0.0 && old <= 0.0 {
            sc.active.insert(pos, h as u32);
        } else if ov <= 0.0 && old > 0.0 {
            sc.active.remove(pos);
        }
    }
    same
}

/// [`coverage`] by scanning every hit (for short spans).
fn coverage_scan(hits: &[Hit], t: usize, sc: &mut Scratch) -> bool {
    let tf = t as f64;
    let mut same = true;
    for (hit, ov_last) in hits.iter().zip(sc.ov.iter_mut()) {
        let ov = hit.overlap(tf);
        if ov != *ov_last {
            same = false;
            *ov_last = ov;
        }
    }
    if !same {
        // branch-free: write every hit, advance past the covering ones
        sc.active.resize(hits.len(), 0);
        let mut n = 0;
        for (h, &ov) in sc.ov.iter().enumerate() {
            sc.active[n] = h as u32;
            n += (ov > 0.0) as usize;
        }
        sc.active.truncate(n);
    }
    same
}

/// Step 2: stage outputs A(s), upstream buffers covering their gap to the
/// final stage, then the bottleneck ratio r. Returns r and whether a buffer
/// released anything (the next month then cannot reuse this one).
fn step_bottleneck(cap_total: &[f64], d: Dims, sc: &mut Scratch) -> (f64, bool) {
    let a = &mut sc.stage_a[..d.ns];
    a.copy_from_slice(cap_total);
    for c in &sc.touched {
        a[c.stage] -= c.cap * (1.0 - sc.keep[c.idx]);
    }
    for v in a.iter_mut() {
        *v = v.max(0.0);
    }
    let a_l = a[d.fin];
    let mut moved = false;
    for (a_s, b) in a[..d.fin].iter_mut().zip(&mut sc.buffer[..d.fin]) {
        if *b > 0.0 && *a_s < a_l {
            let release = b.min(a_l - *a_s);
            *a_s += release;
            *b -= release;
            moved = true;
        }
    }
    let r = if a_l <= 0.0 {
        0.0
    } else {
        a[..d.fin].iter().fold(1.0f64, |r, &a_s| r.min(a_s / a_l))
    };
    (r, moved)
}

/// Steps 3-4: what each consumer is offered after bans, and proportional
/// rationing; the shortfall S(j) of step 4 goes to `sc.s4`.
fn step_market(cm: &CommodityModel, r: f64, any_ban: bool, d: Dims, sc: &mut Scratch) {
    let (nj, np, fin) = (d.nj, d.np, d.fin);
    let cap_l = &cm.cap[fin];
    let supply = r * sc.stage_a[fin];
    for j in 0..nj {
        let mut offered = supply;
        if any_ban {
            for &p in &sc.banned {
                let f = cap_l[p] * sc.keep[fin * np + p] * r;
                offered -= f * (1.0 - sc.acc[p * nj + j]);
            }
        }
        let mj = cm.market[j];
        let u = (offered * mj / d.m_tot).max(0.0);
        sc.big_u[j] = u;
        let short = mj - mj.min(u);
        sc.s4[j] = if short <= SNAP * mj { 0.0 } else { short };
    }
}

/// Step 6: stockpile releases, then the month's figures.
fn step_stockpiles(cm: &CommodityModel, t: usize, d: Dims, sc: &mut Scratch, out: &mut Figures) {
    let nj = d.nj;
    let mut world = 0.0;
    for j in 0..nj {
        let dj = cm.demand_rel[j];
        if dj <= 0.0 {
            continue;
        }
        let mut sj = sc.s[j];
        if sc.stock[j] > 0.0 && sj > 0.0 {
            let release = sc.stock[j].min(sj);
            sj -= release;
            sc.stock[j] -= release;
        }
        world += sj;
        sc.sum_s[j] += sj;
        if sc.attribute && sj > 0.0 {
            super::attribution::defer_split(sc, j, sj);
        }
        let rel = sj / dj;
        if rel > out.peak[j] {
            out.peak[j] = rel;
        }
        if sj >= 0.01 * dj {
            out.months_short[j] += 1;
        }
        if cm.has_stockpile[j] && sc.stock[j] <= 0.0 && sj > SHORT_EPS * dj {
            out.stockout[j] = true;
        }
    }
    if sc.split_monthly {
        super::attribution::flush_split(sc, nj);
    }
    sc.sum_s[nj] += world;
    out.monthly_world[t] = world;
    if world > out.peak[nj] {
        out.peak[nj] = world;
    }
    if world >= 0.01 {
        out.months_short[nj] += 1;
    }
}
