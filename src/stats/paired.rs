//! Paired differences of a strategy against the base, trial by trial on the
//! same random draws (docs/model.md §6), accumulated in one pass.
//!
//! The mean difference is exact. The cvar95 difference's standard error
//! needs each trial's excess over each run's p95, which is only known once
//! all trials are in; so the pairs are kept in a sparse joint histogram of
//! (base, strategy) bands of width 1e-3 with exact sums per cell, and the
//! excesses are summed once the p95s are known: exactly for cells wholly
//! above or below a threshold, and from the cell's mean in the one band
//! that straddles it.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{BANDS, FIX31, band_of, fix31};

/// Signed fixed point with 31 fractional bits, for values in [-1, 1].
#[inline]
fn sfix31(x: f64) -> i64 {
    (x * FIX31).round() as i64
}

/// Exact sums of a signed quantity in [-1, 1]: count, sum and sum of squares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct SignedSums {
    n: u64,
    sum: i128,
    sumsq: u128,
}

impl SignedSums {
    #[inline]
    fn add(&mut self, x: f64, n: u64) {
        let q = sfix31(x);
        self.n += n;
        self.sum += q as i128 * n as i128;
        self.sumsq += (q as i128 * q as i128) as u128 * n as u128;
    }

    fn merge(&mut self, o: &SignedSums) {
        self.n += o.n;
        self.sum += o.sum;
        self.sumsq += o.sumsq;
    }

    /// Sample standard deviation (divides by N - 1; 0 when N < 2).
    fn sd(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as u128;
        let num = n * self.sumsq - (self.sum * self.sum) as u128;
        let nf = self.n as f64;
        (num as f64 / (nf * (nf - 1.0))).sqrt() / FIX31
    }
}

/// Exact sums of the pairs (b, s) that fell in one joint cell, in fixed point
/// with 31 fractional bits (62 for products).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub(crate) n: u64,
    pub(crate) b: u64,
    pub(crate) s: u64,
    pub(crate) bb: u128,
    pub(crate) ss: u128,
    pub(crate) bs: u128,
}

impl Cell {
    #[inline]
    fn add(&mut self, b: f64, s: f64, n: u64) {
        let (qb, qs) = (fix31(b), fix31(s));
        let nn = n as u128;
        self.n += n;
        self.b += qb * n;
        self.s += qs * n;
        self.bb += (qb as u128 * qb as u128) * nn;
        self.ss += (qs as u128 * qs as u128) * nn;
        self.bs += (qb as u128 * qs as u128) * nn;
    }

    fn merge(&mut self, o: &Cell) {
        self.n += o.n;
        self.b += o.b;
        self.s += o.s;
        self.bb += o.bb;
        self.ss += o.ss;
        self.bs += o.bs;
    }

    /// Count of pairs.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Sums of b and of s.
    pub fn sums(&self) -> (f64, f64) {
        (self.b as f64 / FIX31, self.s as f64 / FIX31)
    }

    /// Sums of b², s² and b·s.
    pub fn products(&self) -> (f64, f64, f64) {
        let f2 = FIX31 * FIX31;
        (
            self.bb as f64 / f2,
            self.ss as f64 / f2,
            self.bs as f64 / f2,
        )
    }

    /// Σ(b - s)², exact up to the final rounding (0 when every pair is equal).
    pub fn diff_sq(&self) -> f64 {
        let d = (self.bb + self.ss) as i128 - 2 * self.bs as i128;
        d.max(0) as f64 / (FIX31 * FIX31)
    }
}

/// A sparse joint histogram of pairs (b, s) in [0, 1]²: cells under a key
/// the caller chooses (e.g. a pair of bands), each with exact sums, so
/// merging in any order gives the same bits. Written in key order, so equal
/// contents give equal bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Joint {
    #[serde(with = "sorted")]
    cells: FxHashMap<u32, Cell>,
}

impl Joint {
    /// Adds the pair (b, s) `n` times to the cell `key`.
    #[inline]
    pub fn add(&mut self, key: u32, b: f64, s: f64, n: u64) {
        self.cells.entry(key).or_default().add(b, s, n);
    }

    /// Makes sure the cell `key` exists (an empty cell changes no
    /// statistic): see [`PairAcc::add_row`].
    #[inline]
    fn reserve_cell(&mut self, key: u32) {
        self.cells.entry(key).or_default();
    }

    pub fn merge(&mut self, o: &Joint) {
        for (k, c) in &o.cells {
            self.cells.entry(*k).or_default().merge(c);
        }
    }

    /// Whether every key is below `limit` (for data read from a file).
    pub fn keys_below(&self, limit: usize) -> bool {
        self.cells.keys().all(|&k| (k as usize) < limit)
    }

    /// The cells in key order (sums over them are then reproducible).
    pub fn sorted(&self) -> Vec<(u32, &Cell)> {
        let mut v: Vec<(u32, &Cell)> = self.cells.iter().map(|(k, c)| (*k, c)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    }

    /// Pairs counted in the cells.
    pub fn count(&self) -> u64 {
        self.cells.values().map(|c| c.n).sum()
    }
}

/// The excess (x - v)+ over a cell of band `band` (width 1 / [`BANDS`]),
/// written as alpha + beta x: exact (beta = 1) when the band lies wholly
/// above v, zero when wholly at or below it, and the excess of the cell's
/// mean in the band holding v.
pub(crate) fn excess_line(band: usize, mean: f64, v: f64) -> (f64, f64) {
    let lo = band as f64 / BANDS as f64;
    let hi = (band + 1) as f64 / BANDS as f64;
    if lo >= v {
        (-v, 1.0)
    } else if hi <= v {
        (0.0, 0.0)
    } else {
        ((mean - v).max(0.0), 0.0)
    }
}

/// (De)serialises the joint cells as a list sorted by key.
mod sorted {
    use super::Cell;
    use rustc_hash::FxHashMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(m: &FxHashMap<u32, Cell>, s: S) -> Result<S::Ok, S::Error> {
        let mut v: Vec<(&u32, &Cell)> = m.iter().collect();
        v.sort_unstable_by_key(|(k, _)| **k);
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FxHashMap<u32, Cell>, D::Error> {
        let v: Vec<(u32, Cell)> = Deserialize::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

/// Paired differences of a strategy against the base for one (commodity,
/// series).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PairAcc {
    /// d = base - strategy.
    d: SignedSums,
    /// Pairs with a positive shortfall on either side, by (base band,
    /// strategy band); pairs of zeros have no excess and are only counted.
    /// Written in key order, so equal contents give equal bytes.
    joint: Joint,
    better: u64,
    worse: u64,
}

/// What [`PairAcc`] yields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairStats {
    /// Standard error of the mean reduction (base - strategy).
    pub mean_se: f64,
    /// Standard error of the cvar95 reduction (Rockafellar-Uryasev linearisation).
    pub cvar95_se: f64,
    /// Share of trials where the strategy has a smaller / larger shortfall.
    pub prob_better: f64,
    pub prob_worse: f64,
}

impl PairAcc {
    /// Adds one trial's pair (shortfalls in [0, 1]) `n` times.
    #[inline]
    pub fn add(&mut self, base: f64, strategy: f64, n: u64) {
        self.d.add(base - strategy, n);
        if let Some(key) = PairAcc::key(base, strategy) {
            self.joint.add(key, base, strategy, n);
        }
        if strategy < base {
            self.better += n;
        } else if strategy > base {
            self.worse += n;
        }
    }

    /// The joint cell of the pair (base, strategy); pairs of zeros have none.
    #[inline]
    fn key(base: f64, strategy: f64) -> Option<u32> {
        (base > 0.0 || strategy > 0.0).then(|| (band_of(base) * BANDS + band_of(strategy)) as u32)
    }

    /// [`PairAcc::add`] for every series of one commodity (`acc[i]` takes
    /// the pair `(base[i], strategy[i])`). The joint cells are looked up in
    /// a first pass that does nothing else, so that their cache misses
    /// overlap instead of each waiting for the one before; the second pass
    /// then finds them in the cache. Same sums as one `add` per series.
    #[inline]
    pub fn add_row(acc: &mut [PairAcc], base: &[f64], strategy: &[f64], n: u64) {
        for ((p, &b), &s) in acc.iter_mut().zip(base).zip(strategy) {
            if let Some(key) = PairAcc::key(b, s) {
                p.joint.reserve_cell(key);
            }
        }
        for ((p, &b), &s) in acc.iter_mut().zip(base).zip(strategy) {
            p.add(b, s, n);
        }
    }

    /// Adds a trial `n` times whose pair is equal and whose two runs have the
    /// same p95 (the same model of this commodity): every difference is 0.
    #[inline]
    pub fn add_equal(&mut self, n: u64) {
        self.d.n += n;
    }

    /// Whether `o` (maybe read from a file) holds only cells of the grid.
    pub fn fits(&self, o: &PairAcc) -> bool {
        o.joint.keys_below(BANDS * BANDS)
    }

    pub fn merge(&mut self, o: &PairAcc) {
        self.d.merge(&o.d);
        self.joint.merge(&o.joint);
        self.better += o.better;
        self.worse += o.worse;
    }

    /// The statistics, given the p95 of the base and of the strategy.
    pub fn stats(&self, var_base: f64, var_strategy: f64) -> PairStats {
        let n = self.d.n.max(1) as f64;
        PairStats {
            mean_se: self.d.sd() / n.sqrt(),
            cvar95_se: self.excess_sd(var_base, var_strategy) / (1.0 - 0.95) / n.sqrt(),
            prob_better: self.better as f64 / n,
            prob_worse: self.worse as f64 / n,
        }
    }

    /// Sample standard deviation over all trials of
    /// z = (base - VaR_base)+ - (strategy - VaR_strategy)+, the paired
    /// influence of each trial on the cvar95 difference (times 1 - 0.95).
    fn excess_sd(&self, vb: f64, vs: f64) -> f64 {
        if self.d.n < 2 {
            return 0.0;
        }
        let (f1, f2) = (FIX31, FIX31 * FIX31);
        let (mut sum, mut sumsq) = (0.0, 0.0);
        for (key, c) in self.joint.sorted() {
            let nf = c.n as f64;
            let (sb, ss) = (c.b as f64 / f1, c.s as f64 / f1);
            let (sbb, sss, sbs) = (c.bb as f64 / f2, c.ss as f64 / f2, c.bs as f64 / f2);
            let (ab, bb) = excess_line(key as usize / BANDS, sb / nf, vb);
            let (as_, bs) = excess_line(key as usize % BANDS, ss / nf, vs);
            // with B = ab + bb b and S = as + bs s, summed over the cell:
            let sum_b = nf * ab + bb * sb;
            let sum_s = nf * as_ + bs * ss;
            let sum_bb = nf * ab * ab + 2.0 * ab * bb * sb + bb * bb * sbb;
            let sum_ss = nf * as_ * as_ + 2.0 * as_ * bs * ss + bs * bs * sss;
            let sum_bs = nf * ab * as_ + ab * bs * ss + bb * as_ * sb + bb * bs * sbs;
            sum += sum_b - sum_s;
            sumsq += sum_bb - 2.0 * sum_bs + sum_ss;
        }
        let nf = self.d.n as f64;
        ((sumsq - sum * sum / nf) / (nf - 1.0)).max(0.0).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_differences() {
        let mut p = PairAcc::default();
        for i in 0..100 {
            let b = i as f64 / 100.0;
            p.add(b, b * 0.5, 1);
        }
        let st = p.stats(0.95, 0.475);
        assert_eq!(st.prob_better, 0.99); // trial 0 ties
        assert_eq!(st.prob_worse, 0.0);
        // d = 0.005 i: sd = 0.005 * sd(0..99)
        let sd: f64 = 0.005 * (100.0f64 * 101.0 / 12.0).sqrt();
        assert!((st.mean_se - sd / 10.0).abs() < 1e-8, "{}", st.mean_se);
        let mut q = PairAcc::default();
        q.add(0.3, 0.3, 50);
        let st = q.stats(0.1, 0.1);
        assert_eq!((st.mean_se, st.cvar95_se, st.prob_better), (0.0, 0.0, 0.0));
    }

    /// The joint cells are written as before they were a type of their own
    /// (a list of (key, cell) in key order), so partial files keep their bytes.
    #[test]
    fn pair_acc_bytes_are_the_list_of_cells_in_key_order() {
        let mut p = PairAcc::default();
        for (b, s) in [
            (0.5, 0.25),
            (0.0, 0.0),
            (0.9, 0.1),
            (0.5, 0.2501),
            (0.0, 0.3),
        ] {
            p.add(b, s, 2);
        }
        let cells: Vec<(u32, Cell)> = p.joint.sorted().into_iter().map(|(k, c)| (k, *c)).collect();
        assert_eq!(cells.len(), 3);
        let want = postcard::to_allocvec(&(p.d, cells, p.better, p.worse)).unwrap();
        assert_eq!(postcard::to_allocvec(&p).unwrap(), want);
        let back: PairAcc = postcard::from_bytes(&want).unwrap();
        assert_eq!(back.joint, p.joint);
    }

    /// A row added at once gives the bytes of its series added one by one,
    /// and leaves no empty cell behind (pairs of zeros have none).
    #[test]
    fn add_row_equals_one_add_per_series() {
        let (mut row, mut single) = (vec![PairAcc::default(); 3], vec![PairAcc::default(); 3]);
        for i in 0..5_000u64 {
            let b: Vec<f64> = (0..3)
                .map(|j| {
                    let u = crate::engine::rng::stream_unit(11, i, j);
                    if u < 0.5 { 0.0 } else { u - 0.5 }
                })
                .collect();
            let s: Vec<f64> = b
                .iter()
                .enumerate()
                .map(|(j, &x)| x * crate::engine::rng::stream_unit(12, i, j as u64))
                .collect();
            PairAcc::add_row(&mut row, &b, &s, 1 + i % 2);
            for (j, p) in single.iter_mut().enumerate() {
                p.add(b[j], s[j], 1 + i % 2);
            }
        }
        for (r, s) in row.iter().zip(&single) {
            assert_eq!(
                postcard::to_allocvec(r).unwrap(),
                postcard::to_allocvec(s).unwrap()
            );
            assert!(r.joint.sorted().iter().all(|(_, c)| c.n() > 0));
            assert!(r.joint.count() > 0 && r.joint.count() < 10_000);
        }
    }

    /// The excess sums agree with a direct per-trial computation: exactly
    /// (to rounding) when no cell straddles a threshold, within the band
    /// width otherwise.
    #[test]
    fn cvar_se_matches_the_direct_computation() {
        let pairs: Vec<(f64, f64)> = (0..20_000u64)
            .map(|i| {
                let u = crate::engine::rng::stream_unit(7, i, 3);
                let v = crate::engine::rng::stream_unit(7, i, 4);
                let b = if u < 0.6 { 0.0 } else { u * u };
                (b, (b * (0.5 + 0.5 * v)).min(1.0))
            })
            .collect();
        let mut acc = PairAcc::default();
        for &(b, s) in &pairs {
            acc.add(b, s, 1);
        }
        let direct = |vb: f64, vs: f64| {
            let z: Vec<f64> = pairs
                .iter()
                .map(|&(b, s)| (b - vb).max(0.0) - (s - vs).max(0.0))
                .collect();
            let n = z.len() as f64;
            let m = z.iter().sum::<f64>() / n;
            (z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        // thresholds on band edges: every cell is exact
        let (got, want) = (acc.excess_sd(0.8, 0.5), direct(0.8, 0.5));
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
        // thresholds inside bands: within a band's width
        let (got, want) = (acc.excess_sd(0.8123, 0.4567), direct(0.8123, 0.4567));
        assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        assert!((got - want).abs() < 0.01 * want, "{got} vs {want}");
    }
}
