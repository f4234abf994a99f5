//! Attribution of each trial's shortfall to its causes (docs/model.md,
//! "Attribution"): per month, the supply each hit removed from each consumer
//! is the weight with which that consumer's shortfall is split over the hits.

use super::month::Dims;
use super::{AttribPart, Engine, Hit, NO_MASK, Scratch};

impl Engine<'_> {
    /// Per hit and consumer, the supply the hit removed from the consumer in
    /// this month (the weights of the attribution, see docs/model.md):
    /// final-stage output losses in full, the bottleneck's loss `(1 - r) A(L)`
    /// to the hits on the binding upstream stage, both offered to consumers in
    /// proportion to market demand; ban losses to the consumers they target.
    /// Several hits on one producer share its loss in proportion to
    /// `severity * overlap`.
    pub(super) fn attribution_weights(
        &self,
        k: usize,
        hits: &[Hit],
        r: f64,
        any_ban: bool,
        sc: &mut Scratch,
    ) {
        let cm = &self.model.commodities[k];
        let nj = cm.demand_rel.len();
        let np = cm.producers.len();
        let ns = cm.stages.len();
        let fin = ns - 1;
        let m_tot = cm.market_total;
        self.severity_sums(hits, nj, np, sc);
        let a_l = sc.stage_a[fin];
        let (bind, bind_loss) = binding_stage(r, fin, sc);
        for i in 0..sc.active.len() {
            let h = sc.active[i] as usize;
            let (hit, ov) = (&hits[h], sc.ov[h]);
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

    /// Per touched producer and stage, the sum of severity x overlap of the
    /// hits on it (`cell_x`), and per banning producer and consumer the same
    /// for bans (`ban_y`): a producer's loss is shared in these proportions.
    /// Clears the weights of the hits weighted before (the others are zero).
    fn severity_sums(&self, hits: &[Hit], nj: usize, np: usize, sc: &mut Scratch) {
        flush_split(sc, nj);
        for &h in &sc.weighted {
            let h = h as usize;
            sc.attr_w[h * nj..(h + 1) * nj].fill(0.0);
            sc.attr_world[h] = 0.0;
        }
        sc.weighted.clone_from(&sc.active);
        for c in &sc.touched {
            sc.cell_x[c.idx] = 0.0;
        }
        for &p in &sc.banned {
            sc.ban_y[p * nj..(p + 1) * nj].fill(0.0);
        }
        for &h in &sc.active {
            let (hit, ov) = (&hits[h as usize], sc.ov[h as usize]);
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
    }

    /// The trial's attribution parts of commodity `k`: each hit's accumulated
    /// share of each series' shortfall, as a share of that series' demand.
    pub(super) fn attribution_parts(&self, k: usize, hits: &[Hit], d: Dims, sc: &mut Scratch) {
        let cm = &self.model.commodities[k];
        let nj = d.nj;
        let hf = self.model.horizon as f64;
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
                        value: v / (hf * cm.demand_rel[j]),
                    });
                }
            }
            if world > 0.0 {
                parts.push(AttribPart {
                    series: nj as u32,
                    source: hit.source,
                    country,
                    value: world / hf,
                });
            }
        }
    }
}

/// Adds consumer j's shortfall `sj` of this month to the shortfall still to
/// be split ([`flush_split`]): while the weights stay the same, the split is
/// linear in the shortfall, so the months of one stretch are split at once.
#[inline]
pub(super) fn defer_split(sc: &mut Scratch, j: usize, sj: f64) {
    sc.attr_pending[j] += sj;
}

/// Splits the shortfall deferred since the weights were last set over the
/// hits they were set for: each consumer's share in proportion to the supply
/// each hit removed from it; a consumer short only through an alliance's
/// diversion takes the world weights, and failing those, the hits share
/// equally. Call before the weights change and after the last month.
pub(super) fn flush_split(sc: &mut Scratch, nj: usize) {
    for j in 0..nj {
        let sj = sc.attr_pending[j];
        if sj > 0.0 {
            sc.attr_pending[j] = 0.0;
            split_shortfall(sc, nj, j, sj);
        }
    }
}

/// Splits consumer j's shortfall `sj` over the weighted hits, in
/// proportion to the supply each removed from j (see [`flush_split`]). Only
/// the weighted hits have weights (the others' are zero and take no part).
fn split_shortfall(sc: &mut Scratch, nj: usize, j: usize, sj: f64) {
    let (w, world_w, hits, part) = (&sc.attr_w, &sc.attr_world, &sc.weighted, &mut sc.attr_part);
    let total: f64 = hits.iter().map(|&h| w[h as usize * nj + j]).sum();
    if total > 0.0 {
        for &h in hits {
            let i = h as usize * nj + j;
            part[i] += sj * w[i] / total;
        }
        return;
    }
    let world: f64 = hits.iter().map(|&h| world_w[h as usize]).sum();
    if world > 0.0 {
        for &h in hits {
            part[h as usize * nj + j] += sj * world_w[h as usize] / world;
        }
        return;
    }
    let n = hits.len().max(1);
    for &h in hits {
        part[h as usize * nj + j] += sj / n as f64;
    }
}

/// The binding upstream stage (the smallest A(s) / A(L) after buffers, when
/// r < 1) and the total output its touched producers lost (before buffers):
/// the month's bottleneck loss (1 - r) A(L) is shared in proportion to it.
fn binding_stage(r: f64, fin: usize, sc: &Scratch) -> (Option<usize>, f64) {
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
                .filter(|c| c.stage == s)
                .map(|c| c.cap * (1.0 - sc.keep[c.idx]))
                .sum()
        })
        .unwrap_or(0.0);
    (bind, bind_loss)
}
