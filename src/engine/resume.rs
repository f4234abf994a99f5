//! Months before a trial's first drawn hit (docs/model.md, "Months without events").
//!
//! Until the first month a drawn event touches, a commodity's months in a
//! trial are those of its run with the scheduled events alone, which is
//! computed once, when the engine is built. That run keeps its state at the
//! start of every month; a trial resumes from the state at its first drawn
//! month instead of simulating the months before it again.
//!
//! The resumed months are the scheduled-only run's to the last bit but for
//! one thing: in the alliance step (§4.5) that run follows only the member
//! producers its own hits touch one by one, and merges the rest of each
//! class; a trial that also hits other members follows those one by one too.
//! Both are the same sums, grouped differently, so the two agree to rounding
//! (about 1e-16 of the flows).

use super::month::Dims;
use super::{Engine, Figures, Hit, Scratch};

/// Most memory the snapshots of one commodity may take; a commodity whose
/// scheduled-only run would need more is simulated from its first month.
const MAX_BYTES: usize = 4 << 20;

/// Whether to record the scheduled-only run of a commodity with these
/// dimensions, `hits` scheduled hits and `na` alliances over `horizon`
/// months (its snapshots fit in [`MAX_BYTES`]).
pub(super) fn worth_recording(d: Dims, hits: usize, na: usize, horizon: usize) -> bool {
    let values = d.nj * 5 + d.ns + na * 2 + 3 + hits * d.nj;
    let bytes = (horizon + 1) * (values * 8 + 8 * 32);
    bytes <= MAX_BYTES
}

/// What one month hands to the next, and the figures so far, at the start
/// of a month.
#[derive(Debug, Clone, Default)]
pub(super) struct Snapshot {
    stock: Vec<f64>,
    buffer: Vec<f64>,
    sum_s: Vec<f64>,
    t0: Vec<Option<usize>>,
    peak: Vec<f64>,
    months_short: Vec<u32>,
    stockout: Vec<bool>,
    /// Attribution so far of each scheduled hit (hit-major, a value per
    /// consumer and ROW).
    attr: Vec<f64>,
}

impl Snapshot {
    fn take(d: Dims, na: usize, sc: &Scratch, out: &Figures) -> Snapshot {
        Snapshot {
            stock: sc.stock[..d.nj].to_vec(),
            buffer: sc.buffer[..d.ns].to_vec(),
            sum_s: sc.sum_s[..d.nj + 1].to_vec(),
            t0: sc.t0[..na].to_vec(),
            peak: out.peak.clone(),
            months_short: out.months_short.clone(),
            stockout: out.stockout.clone(),
            attr: if sc.attribute {
                sc.attr_part.clone()
            } else {
                Vec::new()
            },
        }
    }
}

impl Engine<'_> {
    /// While the scheduled-only run of a commodity is recorded
    /// (`sc.snapshots` is `Some`): the state at the start of every month up
    /// to `t` not yet recorded (months skipped since change nothing).
    pub(super) fn record_until(
        &self,
        k: usize,
        t: usize,
        d: Dims,
        sc: &mut Scratch,
        out: &Figures,
    ) {
        // In a trial (not recording) this is one test per month.
        let Some(snaps) = sc.snapshots.as_ref() else {
            return;
        };
        if snaps.len() > t {
            return;
        }
        let na = self.model.commodities[k].alliances.len();
        if sc.attribute {
            super::attribution::flush_split(sc, d.nj);
        }
        let snap = Snapshot::take(d, na, sc, out);
        let snaps = sc.snapshots.as_mut().expect("recording");
        snaps.resize(t + 1, snap);
    }

    /// The month from which a trial of commodity `k` must be simulated,
    /// `drawn` being its drawn hits (the scheduled ones follow them): its
    /// first drawn month when the scheduled-only run reaches it, whose state
    /// is then restored into `sc` and `out`; else `t_lo`, with `sc` as
    /// [`Engine::prepare`] left it.
    pub(super) fn resume(
        &self,
        k: usize,
        drawn: &[Hit],
        t_lo: usize,
        d: Dims,
        sc: &mut Scratch,
        out: &mut Figures,
    ) -> usize {
        // (While the engine is built, no commodity has snapshots yet.)
        let snaps = self.snapshots.get(k).map_or(&[][..], Vec::as_slice);
        if drawn.is_empty() || snaps.is_empty() {
            return t_lo;
        }
        let first = drawn.iter().map(|h| h.start).fold(f64::INFINITY, f64::min);
        let t_c = (first.floor().max(0.0) as usize).min(snaps.len() - 1);
        if t_c <= t_lo {
            return t_lo;
        }
        let s = &snaps[t_c];
        let na = s.t0.len();
        sc.stock[..d.nj].copy_from_slice(&s.stock);
        sc.buffer[..d.ns].copy_from_slice(&s.buffer);
        sc.sum_s[..d.nj + 1].copy_from_slice(&s.sum_s);
        sc.t0[..na].copy_from_slice(&s.t0);
        out.peak.copy_from_slice(&s.peak);
        out.months_short.copy_from_slice(&s.months_short);
        out.stockout.copy_from_slice(&s.stockout);
        out.monthly_world[..t_c].copy_from_slice(&self.cached[k].monthly_world[..t_c]);
        if sc.attribute {
            let at = drawn.len() * d.nj;
            sc.attr_part[at..at + s.attr.len()].copy_from_slice(&s.attr);
        }
        t_c
    }
}
