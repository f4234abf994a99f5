//! Step 5 of docs/model.md §4: alliances, in file order. Surge from member
//! producers' spare capacity (one budget per producer and month, shared by its
//! alliances) and diversion of member producers' sales to non-members, both
//! flowing with the ramp weight w(t) from the alliance's first short month.
//!
//! Producers are followed as *units*: each member producer some hit touches
//! on its own, and per alliance class the untouched rest (see [`Classes`]).

use super::month::Dims;
use super::{Engine, SHORT_EPS, Scratch};
use crate::model::CommodityModel;

/// Final-stage producers grouped by the alliances they belong to. In the
/// alliance step (§4.5) every quantity of an untouched producer (running at
/// capacity, not banning) is proportional to its capacity, so the untouched
/// producers of one class act exactly as one producer with their summed
/// capacity; only producers hit this trial need to be followed one by one.
#[derive(Debug, Clone, Default)]
pub(super) struct Classes {
    /// Per local producer, its class (None: in no alliance of the commodity).
    class_of: Vec<Option<usize>>,
    /// Per class: summed final-stage capacity, the surge budget factor
    /// (largest spare capacity over its alliances) and its alliances.
    cap: Vec<f64>,
    spare: Vec<f64>,
    alliances: Vec<Vec<usize>>,
}

impl Classes {
    pub(super) fn new(cm: &CommodityModel) -> Classes {
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

impl Engine<'_> {
    /// The producer units of the alliance step for one commodity-trial: each
    /// member producer touched by a hit on its own, and per class the rest.
    pub(super) fn alliance_units(&self, k: usize, fin: usize, np: usize, sc: &mut Scratch) {
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
        let own = |p: usize, sc: &Scratch| {
            sc.banned.contains(&p) || sc.touched.iter().any(|c| c.idx == fin * np + p)
        };
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

    /// When each alliance starts (t0, judged on step 4's S) and its weight
    /// w(t) this month. Returns whether last month's step-5 result can be
    /// reused (`may_reuse` and every weight unchanged).
    pub(super) fn alliance_weights(
        &self,
        cm: &CommodityModel,
        t: usize,
        may_reuse: bool,
        d: Dims,
        sc: &mut Scratch,
    ) -> bool {
        let tf = t as f64;
        let mut reuse = may_reuse;
        for (ai, a) in cm.alliances.iter().enumerate() {
            if sc.t0[ai].is_none()
                && (0..d.nj)
                    .any(|j| a.member_consumer[j] && sc.s4[j] > SHORT_EPS * cm.demand_rel[j])
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
        reuse
    }

    /// Step 5: sets `sc.s` to the shortfalls after every alliance's help.
    pub(super) fn step_alliances(
        &self,
        cm: &CommodityModel,
        r: f64,
        any_ban: bool,
        reuse: bool,
        d: Dims,
        sc: &mut Scratch,
    ) {
        let nj = d.nj;
        if reuse {
            sc.s[..nj].copy_from_slice(&sc.s5[..nj]);
            return;
        }
        sc.s[..nj].copy_from_slice(&sc.s4[..nj]);
        if cm.alliances.is_empty() {
            return;
        }
        let keep_l = &sc.keep[d.fin * d.np..(d.fin + 1) * d.np];
        // Per producer unit: its output f = cap * keep * r and surge budget.
        for v in 0..sc.vp_cap.len() {
            let keep = sc.vp_p[v].map_or(1.0, |p| keep_l[p]);
            sc.vp_f[v] = sc.vp_cap[v] * keep * r;
            sc.budget[v] = sc.vp_spare[v] * sc.vp_f[v];
        }
        sc.q_ready = false;
        for (ai, a) in cm.alliances.iter().enumerate() {
            let w = sc.w[ai];
            // Not started, or still ramping: no help yet (§4.5).
            if w <= 0.0 || (a.spare_capacity <= 0.0 && a.diversion <= 0.0) {
                continue;
            }
            let need: f64 = (0..nj)
                .filter(|&j| a.member_consumer[j])
                .map(|j| sc.s[j])
                .sum();
            if need <= 0.0 {
                continue;
            }
            let g = surge_pool(ai, w, a.spare_capacity, sc);
            // Diversion is only drawn on when surge falls short.
            let q_tot = if a.diversion > 0.0 && g < need {
                self.diversion_pool(cm, ai, any_ban, d, sc)
            } else {
                0.0
            };
            let help = need.min(g + w * a.diversion * q_tot);
            if help > 0.0 {
                deliver_help(ai, &a.member_consumer, need, help, g, q_tot, nj, sc);
            }
        }
        sc.s5[..nj].copy_from_slice(&sc.s[..nj]);
    }

    /// The sales of each unit of alliance `ai` to non-members (`sc.div_p`),
    /// and their sum: q(c, j) = f(c) acc(c, j) (m(j) / m) R(j) / U(j).
    fn diversion_pool(
        &self,
        cm: &CommodityModel,
        ai: usize,
        any_ban: bool,
        d: Dims,
        sc: &mut Scratch,
    ) -> f64 {
        let nj = d.nj;
        let a = &cm.alliances[ai];
        if !sc.q_ready {
            for j in 0..nj {
                let uj = sc.big_u[j];
                sc.ratio[j] = if uj > 0.0 {
                    cm.market[j] / d.m_tot * cm.market[j].min(uj) / uj
                } else {
                    0.0
                };
            }
            let nv = sc.vp_cap.len();
            sc.q_done[..nv].fill(false);
            sc.q_ready = true;
        }
        let mut q_tot = 0.0;
        for i in 0..sc.alliance_vps[ai].len() {
            let v = sc.alliance_vps[ai][i];
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
            let dv: f64 = (0..nj)
                .filter(|&j| !a.member_consumer[j])
                .map(|j| sc.q[v * nj + j])
                .sum();
            sc.div_p[v] = dv;
            q_tot += dv;
        }
        q_tot
    }
}

/// The surge pool G of alliance `ai`: each unit's w * spare * f, at most
/// what is left of its budget (`sc.avail` holds each unit's part).
fn surge_pool(ai: usize, w: f64, spare: f64, sc: &mut Scratch) -> f64 {
    let mut g = 0.0;
    if spare <= 0.0 {
        return g;
    }
    for &v in &sc.alliance_vps[ai] {
        let x = (w * spare * sc.vp_f[v]).min(sc.budget[v]).max(0.0);
        sc.avail[v] = x;
        g += x;
    }
    g
}

/// Hands `help` (surge first, then diversion) to the members in proportion
/// to their shortfall; the diversion used comes from non-members in
/// proportion to their purchases from member producers.
#[allow(clippy::too_many_arguments)]
fn deliver_help(
    ai: usize,
    member: &[bool],
    need: f64,
    help: f64,
    g: f64,
    q_tot: f64,
    nj: usize,
    sc: &mut Scratch,
) {
    let g_used = help.min(g);
    let v_used = help - g_used;
    if g > 0.0 {
        for &v in &sc.alliance_vps[ai] {
            sc.budget[v] -= g_used * sc.avail[v] / g;
        }
    }
    let frac = help / need;
    let divert = v_used > 0.0 && q_tot > 0.0;
    for (j, &is_member) in member.iter().enumerate().take(nj) {
        if is_member {
            let share = sc.s[j] / need;
            if divert {
                for &v in &sc.alliance_vps[ai] {
                    sc.q[v * nj + j] += v_used * share * sc.div_p[v] / q_tot;
                }
            }
            sc.s[j] *= 1.0 - frac;
        } else if divert {
            let mut take = 0.0;
            for &v in &sc.alliance_vps[ai] {
                let dq = v_used * sc.q[v * nj + j] / q_tot;
                sc.q[v * nj + j] -= dq;
                take += dq;
            }
            sc.s[j] += take;
        }
    }
}
