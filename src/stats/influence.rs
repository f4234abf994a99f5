//! One-pass sums for the standard errors of an aggregate and of its paired
//! change from a base run, when the aggregate's influence value ψ needs the
//! run's own aggregates (its quantile, VaR, mean or sd), which are known only
//! once every trial is in (docs/sweep.md, "Confidence intervals").
//!
//! - [`BandPairs`] keeps the pairs (base value, point value) of every trial
//!   in a sparse joint histogram of bands of width 1e-3, exact zeros apart,
//!   with exact sums per cell (the [`Joint`] of the comparison's paired
//!   cvar95). Quantile and cvar ψ are then summed per cell: exactly for cells
//!   wholly on one side of the threshold, and from the cell's share below the
//!   quantile (or its mean, for cvar) in the one band that holds it.
//! - [`PowerPairs`] keeps the power sums of the point's value up to order 4
//!   and the cross sums with the base's up to order 2 in each, in fixed
//!   point: the sd's ψ = (x − mean)² is a polynomial, so its sums are exact
//!   up to the final rounding.
//!
//! Every sum is an integer, so merging in any order gives the same bits.

use serde::{Deserialize, Serialize};

use super::paired::{Joint, excess_line};
use super::{BANDS, Hist, band_of};

/// Standard errors of an aggregate (`own`) and of its change from the
/// base's (`paired`, trial by trial on the same draws).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ses {
    pub own: f64,
    pub paired: f64,
}

/// The standard error of a mean from Σz, Σz² over `n` trials: sample sd /
/// √n (0 when n < 2).
fn se_of(sum: f64, sumsq: f64, n: u64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let nf = n as f64;
    (((sumsq - sum * sum / nf) / (nf - 1.0)).max(0.0) / nf).sqrt()
}

/// Band indices of one side: 0 holds exact zeros, 1 + i the values in
/// [i, i + 1) / [`BANDS`] (the last band also holds 1).
pub const SIDES: usize = BANDS + 1;

#[inline]
fn side_of(x: f64) -> usize {
    if x <= 0.0 { 0 } else { 1 + band_of(x) }
}

/// What a quantile's ψ = −sparsity · 1[x ≤ q] needs of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Below {
    pub q: f64,
    pub sparsity: f64,
    /// How many of the run's values are at most q (from its 1e-4
    /// histogram: exact unless the bin holding q had several values).
    pub at_most: f64,
}

impl Below {
    /// The ψ of the quantile `q` of the values in `h` (`n` of them).
    pub fn new(h: &Hist, n: u64, q: f64, sparsity: f64) -> Below {
        let above = h.counts_above(&[q]).first().copied().unwrap_or(0.0);
        Below {
            q,
            sparsity,
            at_most: n as f64 - above,
        }
    }

    /// Per band index, the share of the side's values in it that are at
    /// most q: 1 or 0 for bands wholly below or above q, and for the one
    /// band that holds q the share that makes the total `at_most`.
    fn shares(&self, counts: &[u64]) -> Vec<f64> {
        let mut f = vec![0.0; SIDES];
        f[0] = 1.0; // zeros: q ≥ 0
        let mut below = counts[0] as f64;
        let mut holding = None;
        for i in 0..BANDS {
            let (lo, hi) = (i as f64 / BANDS as f64, (i + 1) as f64 / BANDS as f64);
            if hi <= self.q {
                f[i + 1] = 1.0;
                below += counts[i + 1] as f64;
            } else if lo <= self.q {
                holding = Some(i + 1);
            }
        }
        if let Some(j) = holding.filter(|&j| counts[j] > 0) {
            f[j] = ((self.at_most - below) / counts[j] as f64).clamp(0.0, 1.0);
        }
        f
    }
}

/// The pairs (base value, point value) of every trial, by band.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BandPairs {
    n: u64,
    /// Pairs with a positive value on either side; pairs of zeros are only
    /// counted in `n`.
    joint: Joint,
}

impl BandPairs {
    /// Adds one trial's pair (values in [0, 1]).
    #[inline]
    pub fn add(&mut self, base: f64, point: f64) {
        self.n += 1;
        if base > 0.0 || point > 0.0 {
            let (b, p) = (base.clamp(0.0, 1.0), point.clamp(0.0, 1.0));
            let key = side_of(b) * SIDES + side_of(p);
            self.joint.add(key as u32, b, p, 1);
        }
    }

    pub fn merge(&mut self, o: &BandPairs) {
        self.n += o.n;
        self.joint.merge(&o.joint);
    }

    /// Whether `o` (maybe read from a file) holds only cells of the grid.
    pub fn fits(o: &BandPairs) -> bool {
        o.joint.keys_below(SIDES * SIDES) && o.joint.count() <= o.n
    }

    /// Standard errors of cvar with ψ = inv · (x − v)+, v the run's VaR
    /// (`vb` of the base, `vp` of the point).
    pub fn excess_ses(&self, vb: f64, vp: f64, inv: f64) -> Ses {
        let line = |j: usize, mean: f64, v: f64| {
            if j == 0 {
                (0.0, 0.0)
            } else {
                excess_line(j - 1, mean, v)
            }
        };
        // own: E = a + β p; paired: z = E_p − E_b (pairs of zeros: 0)
        let (mut e1, mut e2, mut z1, mut z2) = (0.0, 0.0, 0.0, 0.0);
        for (key, c) in self.joint.sorted() {
            let (jb, jp) = (key as usize / SIDES, key as usize % SIDES);
            let nf = c.n() as f64;
            let (sb, sp) = c.sums();
            let (sbb, spp, sbp) = c.products();
            let (ab, bb) = line(jb, sb / nf, vb);
            let (ap, bp) = line(jp, sp / nf, vp);
            e1 += nf * ap + bp * sp;
            e2 += nf * ap * ap + 2.0 * ap * bp * sp + bp * bp * spp;
            let (delta, lin) = (ap - ab, bp * sp - bb * sb);
            // Σ(β_p p − β_b b)², exact when both slopes are equal
            let quad = if bp == bb {
                bp * bp * c.diff_sq()
            } else {
                bp * bp * spp - 2.0 * bp * bb * sbp + bb * bb * sbb
            };
            z1 += nf * delta + lin;
            z2 += nf * delta * delta + 2.0 * delta * lin + quad;
        }
        Ses {
            own: inv * se_of(e1, e2, self.n),
            paired: inv * se_of(z1, z2, self.n),
        }
    }

    /// Trials per band index of the base's side and of the point's.
    fn marginals(&self) -> (Vec<u64>, Vec<u64>) {
        let (mut b, mut p) = (vec![0u64; SIDES], vec![0u64; SIDES]);
        let zeros = self.n.saturating_sub(self.joint.count());
        b[0] = zeros;
        p[0] = zeros;
        for (key, c) in self.joint.sorted() {
            b[key as usize / SIDES] += c.n();
            p[key as usize % SIDES] += c.n();
        }
        (b, p)
    }

    /// Standard errors of a quantile with ψ = −sparsity · 1[x ≤ q]. In the
    /// band holding a side's q, each pair counts as below q by the band's
    /// share below q; where both sides' pairs are in such a band they are
    /// taken as ordered alike (comonotone), as common random numbers make
    /// them.
    pub fn below_ses(&self, base: &Below, point: &Below) -> Ses {
        let (cb, cp) = self.marginals();
        let (fb, fp) = (base.shares(&cb), point.shares(&cp));
        // pairs of zeros are below q on both sides
        let zeros = self.n.saturating_sub(self.joint.count()) as f64;
        // A, B: trials below q (base, point); X: trials below on one side only
        let (mut a, mut b, mut x) = (zeros, zeros, 0.0);
        for (key, c) in self.joint.sorted() {
            let (f1, f2) = (fb[key as usize / SIDES], fp[key as usize % SIDES]);
            let nf = c.n() as f64;
            a += nf * f1;
            b += nf * f2;
            x += nf * (f1 - f2).abs();
        }
        let (sb, sp) = (base.sparsity, point.sparsity);
        // z = ψ_p − ψ_b = sb I_b − sp I_p: Σz² = sb sp X + (sb − sp)(sb A − sp B)
        let (z1, z2) = (sb * a - sp * b, sb * sp * x + (sb - sp) * (sb * a - sp * b));
        Ses {
            own: se_of(-sp * b, sp * sp * b, self.n),
            paired: se_of(z1, z2, self.n),
        }
    }
}

/// Fixed point of the power sums: 24 fractional bits, so a sum of 2^31
/// fourth powers fits in a u128.
const PSCALE: f64 = (1u64 << 24) as f64;

#[inline]
fn fix24(x: f64) -> u128 {
    (x.clamp(0.0, 1.0) * PSCALE + 0.5) as u64 as u128
}

/// Power sums of a point's value x_p (Σx_p^k, k = 1..4) and cross sums with
/// the base's x_b (Σ x_p x_b, x_p² x_b, x_p x_b², x_p² x_b²), exact in fixed
/// point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PowerPairs {
    n: u64,
    own: [u128; 4],
    cross: [u128; 4],
}

/// The mean and the ψ factor of a run's sd: ψ = inv · (x − mean)².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub inv: f64,
}

impl PowerPairs {
    #[inline]
    pub fn add(&mut self, base: f64, point: f64) {
        let (b, p) = (fix24(base), fix24(point));
        self.n += 1;
        let (p2, b2) = (p * p, b * b);
        self.own[0] += p;
        self.own[1] += p2;
        self.own[2] += p2 * p;
        self.own[3] += p2 * p2;
        self.cross[0] += p * b;
        self.cross[1] += p2 * b;
        self.cross[2] += p * b2;
        self.cross[3] += p2 * b2;
    }

    pub fn merge(&mut self, o: &PowerPairs) {
        self.n += o.n;
        for k in 0..4 {
            self.own[k] += o.own[k];
            self.cross[k] += o.cross[k];
        }
    }

    /// Σx^k, k = 1..4, of the point.
    fn powers(&self) -> [f64; 4] {
        let mut s = [0.0; 4];
        for (k, v) in s.iter_mut().enumerate() {
            *v = self.own[k] as f64 / PSCALE.powi(k as i32 + 1);
        }
        s
    }

    /// Σ(x − m)² and Σ(x − m)⁴ of the point.
    fn central(&self, m: f64) -> (f64, f64) {
        let [s1, s2, s3, s4] = self.powers();
        let n = self.n as f64;
        let u1 = s2 - 2.0 * m * s1 + n * m * m;
        let m2 = m * m;
        let u2 = s4 - 4.0 * m * s3 + 6.0 * m2 * s2 - 4.0 * m2 * m * s1 + n * m2 * m2;
        (u1, u2)
    }

    /// Standard errors of sd (or mean_se) with ψ = inv · (x − mean)²;
    /// `base` holds the base's own power sums (its pairs with itself).
    pub fn spread_ses(&self, base: &PowerPairs, b: Spread, p: Spread) -> Ses {
        let (up1, up2) = self.central(p.mean);
        let (ub1, ub2) = base.central(b.mean);
        let own = se_of(p.inv * up1, p.inv * p.inv * up2, self.n);
        // every pair equal (in fixed point): no difference at all
        let same = self.own[1] + base.own[1] == 2 * self.cross[0] && b == p;
        if same {
            return Ses { own, paired: 0.0 };
        }
        let cross = self.cross_central(base, p.mean, b.mean);
        let z1 = p.inv * up1 - b.inv * ub1;
        let z2 = p.inv * p.inv * up2 - 2.0 * p.inv * b.inv * cross + b.inv * b.inv * ub2;
        Ses {
            own,
            paired: se_of(z1, z2, self.n),
        }
    }

    /// Σ (x_p − mp)² (x_b − mb)².
    fn cross_central(&self, base: &PowerPairs, mp: f64, mb: f64) -> f64 {
        let [p1, p2, ..] = self.powers();
        let [b1, b2, ..] = base.powers();
        let sc = |k: usize, e: i32| self.cross[k] as f64 / PSCALE.powi(e);
        let (c11, c21, c12, c22) = (sc(0, 2), sc(1, 3), sc(2, 3), sc(3, 4));
        let n = self.n as f64;
        c22 - 2.0 * mb * c21 + mb * mb * p2 - 2.0 * mp * c12 + 4.0 * mp * mb * c11
            - 2.0 * mp * mb * mb * p1
            + mp * mp * b2
            - 2.0 * mp * mp * mb * b1
            + n * mp * mp * mb * mb
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream_unit;

    /// Shortfall-like pairs: 60% zeros, the point a noisy multiple of the base.
    fn pairs(n: u64) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let u = stream_unit(11, i, 1);
                let v = stream_unit(11, i, 2);
                let b = if u < 0.6 { 0.0 } else { (u - 0.6) * 1.5 };
                let p = if v < 0.1 {
                    0.0
                } else {
                    (b * (0.7 + 0.4 * v)).min(1.0)
                };
                (b, p)
            })
            .collect()
    }

    /// se of the mean of ψ(trial), computed trial by trial.
    fn direct(z: impl Iterator<Item = f64>) -> f64 {
        let z: Vec<f64> = z.collect();
        let n = z.len() as f64;
        let m = z.iter().sum::<f64>() / n;
        (z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0) / n).sqrt()
    }

    fn bands(ps: &[(f64, f64)]) -> BandPairs {
        let mut acc = BandPairs::default();
        for &(b, p) in ps {
            acc.add(b, p);
        }
        acc
    }

    #[test]
    fn cvar_ses_match_the_direct_computation() {
        let ps = pairs(20_000);
        let acc = bands(&ps);
        let check = |vb: f64, vp: f64, tol: f64| {
            let got = acc.excess_ses(vb, vp, 20.0);
            let own = direct(ps.iter().map(|&(_, p)| 20.0 * (p - vp).max(0.0)));
            let z = ps
                .iter()
                .map(|&(b, p)| 20.0 * ((p - vp).max(0.0) - (b - vb).max(0.0)));
            let paired = direct(z);
            assert!((got.own - own).abs() <= tol * own, "{got:?} vs {own}");
            assert!(
                (got.paired - paired).abs() <= tol * paired,
                "{got:?} vs {paired}"
            );
        };
        // thresholds on band edges: exact to rounding
        check(0.4, 0.3, 1e-9);
        // inside bands: the band holding each VaR is read from its mean
        check(0.4123, 0.3456, 1e-2);
    }

    #[test]
    fn quantile_ses_match_the_direct_computation() {
        let ps = pairs(20_000);
        let acc = bands(&ps);
        let (mut hb, mut hp) = (Hist::default(), Hist::default());
        for &(b, p) in &ps {
            hb.add(b, 1);
            hp.add(p, 1);
        }
        let n = ps.len() as u64;
        let check = |qb: f64, qp: f64, tol: f64| {
            let (b, p) = (Below::new(&hb, n, qb, 2.0), Below::new(&hp, n, qp, 3.0));
            let got = acc.below_ses(&b, &p);
            let ind = |x: f64, q: f64| (x <= q) as u8 as f64;
            let own = direct(ps.iter().map(|&(_, x)| -3.0 * ind(x, qp)));
            let z = ps
                .iter()
                .map(|&(b, p)| -3.0 * ind(p, qp) + 2.0 * ind(b, qb));
            let paired = direct(z);
            assert!((got.own - own).abs() <= tol * own, "{got:?} vs {own}");
            assert!(
                (got.paired - paired).abs() <= tol * paired,
                "{got:?} vs {paired}"
            );
        };
        // on band edges and at 0: exact
        check(0.2, 0.15, 1e-9);
        check(0.0, 0.0, 1e-9);
        // inside bands: within the band's share
        check(0.2345, 0.1567, 2e-2);
    }

    #[test]
    fn identical_runs_have_no_paired_error() {
        let ps: Vec<(f64, f64)> = pairs(5_000).into_iter().map(|(b, _)| (b, b)).collect();
        let acc = bands(&ps);
        assert_eq!(acc.excess_ses(0.3217, 0.3217, 20.0).paired, 0.0);
        let mut h = Hist::default();
        ps.iter().for_each(|&(b, _)| h.add(b, 1));
        let q = Below::new(&h, 5_000, 0.4321, 1.5);
        assert_eq!(acc.below_ses(&q, &q).paired, 0.0);
        let mut pw = PowerPairs::default();
        ps.iter().for_each(|&(b, p)| pw.add(b, p));
        let s = Spread {
            mean: 0.1,
            inv: 2.0,
        };
        assert_eq!(pw.spread_ses(&pw, s, s).paired, 0.0);
    }

    #[test]
    fn sd_ses_match_the_direct_computation() {
        let ps = pairs(20_000);
        let (mut pw, mut base) = (PowerPairs::default(), PowerPairs::default());
        for &(b, p) in &ps {
            pw.add(b, p);
            base.add(b, b);
        }
        let (b, p) = (
            Spread {
                mean: 0.12,
                inv: 1.7,
            },
            Spread {
                mean: 0.09,
                inv: 2.3,
            },
        );
        let got = pw.spread_ses(&base, b, p);
        let u = |x: f64, s: Spread| s.inv * (x - s.mean) * (x - s.mean);
        let own = direct(ps.iter().map(|&(_, x)| u(x, p)));
        let paired = direct(ps.iter().map(|&(xb, xp)| u(xp, p) - u(xb, b)));
        assert!((got.own - own).abs() <= 1e-6 * own, "{got:?} vs {own}");
        assert!(
            (got.paired - paired).abs() <= 1e-6 * paired,
            "{got:?} vs {paired}"
        );
    }

    #[test]
    fn merging_parts_gives_the_same_sums() {
        let ps = pairs(3_000);
        let whole = bands(&ps);
        let (mut a, b) = (bands(&ps[..1234]), bands(&ps[1234..]));
        a.merge(&b);
        assert_eq!(a, whole);
        assert!(BandPairs::fits(&a));
    }
}
