//! Streaming aggregates of per-trial figures (docs/model.md §5).
//!
//! Every accumulator is exact integer arithmetic (counts, fixed-point sums)
//! or order-free (a bin's first value and whether others differed), so
//! merging is associative and commutative: the result has the same bits
//! whatever the thread count or the order in which chunks of trials are
//! merged. Memory is bounded: a sparse histogram of at most 10,000 bins per
//! series, whatever the number of trials.
//!
//! Quantiles and cvar come from the histogram: bins of width 1e-4 on (0, 1],
//! exact zeros counted apart. A bin that only ever received one distinct
//! value reports it exactly; a bin with several reports values within its
//! edges. So the error is at most 1e-4 absolute, and zero for discrete
//! outcomes. Histograms used only for figures (monthly bands, convergence)
//! use 1e-3 bins.

use serde::{Deserialize, Serialize};

mod attrib;
mod influence;
mod paired;

pub use attrib::{AttribAcc, AttribDims, AttribStats};
pub use influence::{BandPairs, Below, PowerPairs, Ses, Spread};
pub use paired::{Joint, PairAcc, PairStats};

/// Histogram bins on (0, 1] of the §5 figures (width 1e-4).
pub const BINS: usize = 10_000;
/// Shortfall bands (width 1e-3) of the one-pass tail accumulators: the
/// tail attribution and the paired cvar95 standard error.
pub const BANDS: usize = 1_000;

/// The band of a value in [0, 1].
#[inline]
pub(crate) fn band_of(x: f64) -> usize {
    ((x * BANDS as f64) as usize).min(BANDS - 1)
}

/// Histogram bins of figure-only histograms (width 1e-3).
pub const COARSE_BINS: usize = 1_000;
/// Bins per lazily allocated block of the §5 histograms.
const BLOCK: usize = 100;
/// Bins per block of the monthly bands: their values crowd into the lowest
/// bins of every month, so small blocks keep a long horizon's thousands of
/// histograms small.
const MONTH_BLOCK: usize = 10;
pub(crate) const FIX52: f64 = (1u64 << 52) as f64;
pub(crate) const FIX31: f64 = (1u64 << 31) as f64;

#[inline]
pub(crate) fn fix52(x: f64) -> u128 {
    // x in [0, 1]: f64 -> u64 is one instruction, f64 -> u128 a library call.
    (x * FIX52 + 0.5) as u64 as u128
}

/// Fixed point with 31 fractional bits for the variance: q^2 fits in a u64.
#[inline]
pub(crate) fn fix31(x: f64) -> u64 {
    (x * FIX31 + 0.5) as u64
}

/// Hints the processor to load the cache line of `x` ahead of its use.
/// Accumulating a trial touches a few dozen bins scattered over megabytes;
/// asking for all of them first lets their loads overlap.
#[inline]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults nor changes memory.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// A stored bin: its count and the first value it received, with the top
/// bit of `count` set once a different value arrives ("mixed"; it then
/// holds the smallest value). 16 bytes, so
/// the bins of a histogram take a third less cache than count/min/max.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Cell {
    count: u64,
    first: f64,
}

const MIXED: u64 = 1 << 63;

impl Cell {
    #[inline]
    fn add(&mut self, x: f64, n: u64) {
        if self.count == 0 {
            self.first = x;
        } else if self.first != x {
            // A mixed cell keeps its smallest value, as `merge` does, so its
            // bits do not depend on the order the values came in.
            self.count |= MIXED;
            self.first = self.first.min(x);
        }
        self.count += n;
    }

    fn merge(&mut self, o: &Cell) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        let mixed = (self.count | o.count) & MIXED != 0 || self.first != o.first;
        let count = (self.count & !MIXED) + (o.count & !MIXED);
        self.count = if mixed { count | MIXED } else { count };
        // keep the bits independent of merge order
        self.first = self.first.min(o.first);
    }
}

/// A bin as readers see it: its count and the range its values lie in
/// (the exact value when it holds one distinct value, else the bin's edges).
#[derive(Debug, Clone, Copy)]
struct Bin {
    count: u64,
    min: f64,
    max: f64,
}

impl Bin {
    /// A representative value: exact when the bin holds one distinct value,
    /// else the middle of its range (within half a bin of every value in it).
    fn mid(&self) -> f64 {
        if self.min == self.max {
            self.min
        } else {
            0.5 * (self.min + self.max)
        }
    }
}

const EMPTY_CELL: Cell = Cell {
    count: 0,
    first: 0.0,
};

/// A histogram of values in [0, 1] with exact zero count and blocks of `B`
/// bins: the first block (the lowest bins, where most values fall) kept
/// inline, so that reaching one of its bins follows no pointer; the others
/// allocated when a value first falls in them (`blocks[0]` stays `None`).
#[derive(Debug, Clone)]
pub struct HistOf<const B: usize> {
    bins: usize,
    zeros: u64,
    first: [Cell; B],
    blocks: Vec<Option<Box<[Cell; B]>>>,
}

/// How a histogram is read: the blocks holding values as a list of (block
/// index, cells), the first block among them when it holds any.
#[derive(Deserialize)]
struct HistRepr<const B: usize> {
    bins: usize,
    zeros: u64,
    #[serde(deserialize_with = "blocks::deserialize")]
    blocks: Vec<Option<Box<[Cell; B]>>>,
}

/// The blocks of a histogram as they are written: (number of blocks, the
/// list of (index, cells) of those holding values).
struct BlocksOut<'a, const B: usize>(&'a HistOf<B>);

impl<const B: usize> Serialize for BlocksOut<'_, B> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = self.0;
        let used: Vec<(u32, &[Cell])> = (0..h.blocks.len())
            .filter_map(|i| h.block(i).map(|b| (i as u32, &b[..])))
            .filter(|(i, b)| *i > 0 || b.iter().any(|c| c.count != 0))
            .collect();
        (h.blocks.len() as u32, used).serialize(s)
    }
}

impl<const B: usize> Serialize for HistOf<B> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("HistOf", 3)?;
        st.serialize_field("bins", &self.bins)?;
        st.serialize_field("zeros", &self.zeros)?;
        st.serialize_field("blocks", &BlocksOut(self))?;
        st.end()
    }
}

impl<'de, const B: usize> Deserialize<'de> for HistOf<B> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let HistRepr {
            bins,
            zeros,
            mut blocks,
        } = HistRepr::<B>::deserialize(d)?;
        let first = blocks
            .first_mut()
            .and_then(Option::take)
            .map_or([EMPTY_CELL; B], |b| *b);
        Ok(HistOf {
            bins,
            zeros,
            first,
            blocks,
        })
    }
}

/// The histogram of the §5 figures (blocks of 100 bins).
pub type Hist = HistOf<BLOCK>;
/// The histogram of one month's world shortfall (blocks of 10 bins).
pub type MonthHist = HistOf<MONTH_BLOCK>;

/// Reads the blocks of a [`Hist`] written as a list of (block index, cells)
/// for those holding values ([`BlocksOut`] writes them).
mod blocks {
    use super::Cell;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    type Blocks<const B: usize> = Vec<Option<Box<[Cell; B]>>>;

    pub fn deserialize<'de, D: Deserializer<'de>, const B: usize>(
        d: D,
    ) -> Result<Blocks<B>, D::Error> {
        let (len, used): (u32, Vec<(u32, Vec<Cell>)>) = Deserialize::deserialize(d)?;
        // No histogram has more bins than the §5 one: a larger count read
        // from a file is refused before anything is allocated for it.
        if len as usize > super::BINS / B {
            return Err(D::Error::custom("a histogram with too many blocks"));
        }
        let mut b: Blocks<B> = vec![None; len as usize];
        for (i, cells) in used {
            let cells: Box<[Cell; B]> = cells
                .into_boxed_slice()
                .try_into()
                .map_err(|_| D::Error::custom("a histogram block of the wrong size"))?;
            *b.get_mut(i as usize)
                .ok_or_else(|| D::Error::custom("a histogram block out of range"))? = Some(cells);
        }
        Ok(b)
    }
}

impl Default for Hist {
    /// The 1e-4 histogram of §5.
    fn default() -> Self {
        Hist::with_bins(BINS)
    }
}

impl<const B: usize> HistOf<B> {
    /// A histogram with `bins` equal bins on (0, 1] (a multiple of `B`).
    pub fn with_bins(bins: usize) -> HistOf<B> {
        HistOf {
            bins: bins.max(B) / B * B,
            zeros: 0,
            first: [EMPTY_CELL; B],
            blocks: Vec::new(),
        }
    }

    /// A 1e-3 histogram for figure-only statistics.
    pub fn coarse() -> HistOf<B> {
        HistOf::with_bins(COARSE_BINS)
    }

    #[inline]
    fn bin_of(&self, x: f64) -> usize {
        ((x * self.bins as f64) as usize).min(self.bins - 1)
    }

    /// Asks the processor to bring the bin of `x` into cache, so that a
    /// later [`Hist::add`] of it does not wait on memory (a hint only).
    #[inline]
    pub fn prefetch(&self, x: f64) {
        if x <= 0.0 {
            return;
        }
        let b = self.bin_of(x);
        if b < B {
            prefetch(&self.first[b]);
        } else if let Some(Some(block)) = self.blocks.get(b / B) {
            prefetch(&block[b % B]);
        }
    }

    /// Adds `x` (in [0, 1]) `n` times.
    #[inline]
    pub fn add(&mut self, x: f64, n: u64) {
        if x <= 0.0 {
            self.zeros += n;
            return;
        }
        if self.blocks.is_empty() {
            self.blocks = vec![None; self.bins / B];
        }
        let b = self.bin_of(x);
        self.block_mut(b / B)[b % B].add(x, n);
    }

    /// Block `i`, allocated if it was not (the first is always there).
    #[inline]
    fn block_mut(&mut self, i: usize) -> &mut [Cell; B] {
        if i == 0 {
            &mut self.first
        } else {
            self.blocks[i].get_or_insert_with(|| Box::new([EMPTY_CELL; B]))
        }
    }

    /// Block `i` when it holds values (or may: the first always answers).
    #[inline]
    fn block(&self, i: usize) -> Option<&[Cell; B]> {
        if i == 0 {
            Some(&self.first)
        } else {
            self.blocks[i].as_deref()
        }
    }

    /// Whether `o` (maybe read from a file) has this histogram's bins.
    pub fn fits(&self, o: &HistOf<B>) -> bool {
        self.bins == o.bins && (o.blocks.is_empty() || o.blocks.len() == self.bins / B)
    }

    pub fn merge(&mut self, other: &HistOf<B>) {
        self.zeros += other.zeros;
        if other.blocks.is_empty() {
            return;
        }
        if self.blocks.is_empty() {
            self.blocks = vec![None; self.bins / B];
        }
        // (an empty cell merges as nothing, so the first block is merged whole)
        for i in 0..self.blocks.len().min(other.blocks.len()) {
            let Some(theirs) = other.block(i) else {
                continue;
            };
            for (a, b) in self.block_mut(i).iter_mut().zip(theirs.iter()) {
                a.merge(b);
            }
        }
    }

    /// Non-empty bins in ascending order.
    fn bins(&self) -> impl DoubleEndedIterator<Item = Bin> + '_ {
        let w = 1.0 / self.bins as f64;
        (0..self.blocks.len())
            .filter_map(|bi| self.block(bi).map(|b| (bi, b)))
            .flat_map(move |(bi, block)| {
                block
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.count != 0)
                    .map(move |(ci, c)| {
                        let count = c.count & !MIXED;
                        if c.count & MIXED == 0 {
                            Bin {
                                count,
                                min: c.first,
                                max: c.first,
                            }
                        } else {
                            let i = (bi * B + ci) as f64;
                            Bin {
                                count,
                                min: i * w,
                                max: ((i + 1.0) * w).min(1.0),
                            }
                        }
                    })
            })
    }

    /// Sets the count of zeros to what remains of `total` values after the
    /// positive ones: for a histogram whose zeros are not added one by one
    /// (the monthly bands, where most months of most trials are zero).
    pub fn set_zeros_from_total(&mut self, total: u64) {
        self.zeros = total.saturating_sub(self.positive());
    }

    /// Count of the values above zero.
    fn positive(&self) -> u64 {
        self.bins().map(|b| b.count).sum()
    }

    pub fn total(&self) -> u64 {
        self.zeros + self.positive()
    }

    /// The k-th smallest value (1-based), within 1e-4.
    pub fn kth(&self, k: u64) -> f64 {
        if k <= self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for b in self.bins() {
            if k <= seen + b.count {
                let rank = k - seen; // 1..=count
                return within(&b, rank);
            }
            seen += b.count;
        }
        self.bins().last().map(|b| b.max).unwrap_or(0.0)
    }

    /// Mean of the largest k values, within 1e-4.
    pub fn top_mean(&self, k: u64) -> f64 {
        if k == 0 {
            return 0.0;
        }
        let mut left = k;
        let mut sum = 0.0;
        for b in self.bins().rev() {
            if left == 0 {
                break;
            }
            if b.count <= left {
                sum += b.mid() * b.count as f64;
                left -= b.count;
            } else {
                // the top `left` values of this bin, taken as spread evenly
                // between its min and max
                let spread = (b.max - b.min) * (left - 1) as f64 / (2 * (b.count - 1)) as f64;
                let est = b.max - spread;
                sum += est * left as f64;
                left = 0;
            }
        }
        sum / k as f64
    }

    /// Number of values strictly above each `x` (within a bin that straddles
    /// `x`, the values are taken as spread evenly between its min and max).
    pub fn counts_above(&self, xs: &[f64]) -> Vec<f64> {
        let bins: Vec<Bin> = self.bins().collect();
        // suffix[i] = values in bins[i..]
        let mut suffix = vec![0u64; bins.len() + 1];
        for i in (0..bins.len()).rev() {
            suffix[i] = suffix[i + 1] + bins[i].count;
        }
        xs.iter()
            .map(|&x| {
                let zeros = if x < 0.0 { self.zeros as f64 } else { 0.0 };
                // first bin holding a value above x; later bins lie wholly above it
                let i = bins.partition_point(|b| b.max <= x);
                match bins.get(i) {
                    None => zeros,
                    Some(b) if b.min > x => zeros + suffix[i] as f64,
                    Some(b) => {
                        zeros
                            + b.count as f64 * (b.max - x) / (b.max - b.min)
                            + suffix[i + 1] as f64
                    }
                }
            })
            .collect()
    }

    /// The largest value seen (0 when there is none).
    pub fn max(&self) -> f64 {
        self.bins().last().map(|b| b.max).unwrap_or(0.0)
    }

    /// Counts of the positive values in `n` equal bins on (0, hi]; each
    /// histogram bin goes to the bin of its mean value.
    pub fn rebin(&self, hi: f64, n: usize) -> Vec<u64> {
        let mut out = vec![0u64; n];
        if hi <= 0.0 || n == 0 {
            return out;
        }
        for b in self.bins() {
            let mean = b.mid();
            let i = ((mean / hi * n as f64) as usize).min(n - 1);
            out[i] += b.count;
        }
        out
    }

    /// Count of exact zeros.
    pub fn zeros(&self) -> u64 {
        self.zeros
    }

    /// Variance of the largest k values, from bin means (within-bin spread,
    /// at most 1e-4, ignored); used for the cvar's standard error.
    pub fn top_var(&self, k: u64) -> f64 {
        if k < 2 {
            return 0.0;
        }
        let mut left = k;
        let (mut s1, mut s2) = (0.0, 0.0);
        for b in self.bins().rev() {
            if left == 0 {
                break;
            }
            let take = b.count.min(left);
            let mean = b.mid();
            s1 += mean * take as f64;
            s2 += mean * mean * take as f64;
            left -= take;
        }
        let kf = (k - left) as f64;
        if kf < 2.0 {
            return 0.0;
        }
        ((s2 - s1 * s1 / kf) / (kf - 1.0)).max(0.0)
    }
}

/// A value inside a bin for within-bin rank `rank` (1-based): exact when the
/// bin holds one distinct value, else interpolated between its min and max.
fn within(b: &Bin, rank: u64) -> f64 {
    if b.count == 1 || b.min == b.max {
        return b.min;
    }
    b.min + (b.max - b.min) * (rank - 1) as f64 / (b.count - 1) as f64
}

/// The names of the §5 aggregates, in order (`metrics` in summary.json).
pub const METRIC_NAMES: [&str; 18] = [
    "mean",
    "mean_se",
    "sd",
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "cvar95",
    "cvar99",
    "prob_any",
    "prob_gt_05",
    "prob_gt_10",
    "prob_gt_25",
    "peak_mean",
    "peak_p95",
    "months_short_mean",
    "stockout_prob",
];

/// Thresholds of `prob_any`, `prob_gt_05`, `prob_gt_10`, `prob_gt_25`.
pub const THRESHOLDS: [f64; 4] = [1e-9, 0.05, 0.10, 0.25];

/// All aggregates of one (commodity, series).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SeriesAcc {
    pub n: u64,
    sum52: u128,
    sum31: u128,
    sumsq31: u128,
    pub shortfall: Hist,
    gt: [u64; 4],
    peak_sum52: u128,
    pub peak: Hist,
    months_short: u64,
    stockouts: u64,
}

impl SeriesAcc {
    /// An accumulator with 1e-3 histograms, for figure-only statistics.
    pub fn coarse() -> SeriesAcc {
        SeriesAcc {
            shortfall: Hist::coarse(),
            peak: Hist::coarse(),
            ..SeriesAcc::default()
        }
    }

    /// [`Hist::prefetch`] for the bins a trial with these figures will add to.
    #[inline]
    pub fn prefetch(&self, shortfall: f64, peak: f64) {
        self.shortfall.prefetch(shortfall.min(1.0));
        self.peak.prefetch(peak.min(1.0));
    }

    /// Adds one trial's figures `n` times.
    #[inline]
    pub fn add(&mut self, shortfall: f64, peak: f64, months_short: u32, stockout: bool, n: u64) {
        self.n += n;
        if shortfall <= 0.0 && peak <= 0.0 && months_short == 0 && !stockout {
            self.shortfall.zeros += n;
            self.peak.zeros += n;
            return;
        }
        let x = shortfall.clamp(0.0, 1.0);
        let nn = n as u128;
        self.sum52 += fix52(x) * nn;
        let q = fix31(x);
        self.sum31 += q as u128 * nn;
        self.sumsq31 += (q * q) as u128 * nn;
        self.shortfall.add(x, n);
        for (c, t) in self.gt.iter_mut().zip(THRESHOLDS) {
            if x > t {
                *c += n;
            }
        }
        let pk = peak.clamp(0.0, 1.0);
        self.peak_sum52 += fix52(pk) * nn;
        self.peak.add(pk, n);
        self.months_short += months_short as u64 * n;
        if stockout {
            self.stockouts += n;
        }
    }

    /// Whether `o` (maybe read from a file) has this accumulator's bins.
    pub fn fits(&self, o: &SeriesAcc) -> bool {
        self.shortfall.fits(&o.shortfall) && self.peak.fits(&o.peak)
    }

    pub fn merge(&mut self, o: &SeriesAcc) {
        self.n += o.n;
        self.sum52 += o.sum52;
        self.sum31 += o.sum31;
        self.sumsq31 += o.sumsq31;
        self.shortfall.merge(&o.shortfall);
        for i in 0..4 {
            self.gt[i] += o.gt[i];
        }
        self.peak_sum52 += o.peak_sum52;
        self.peak.merge(&o.peak);
        self.months_short += o.months_short;
        self.stockouts += o.stockouts;
    }

    /// The share of trials with a shortfall above each `x`.
    pub fn probs_above(&self, xs: &[f64]) -> Vec<f64> {
        let n = self.n.max(1) as f64;
        self.shortfall
            .counts_above(xs)
            .into_iter()
            .map(|c| c / n)
            .collect()
    }

    /// Mean and cvar95 with the half-widths of their 95% confidence intervals
    /// (normal approximation; for cvar the asymptotic variance
    /// `(Var(tail) + a (cvar - VaR)^2) / (N (1 - a))`, a = 0.95).
    pub fn mean_cvar_ci(&self) -> (f64, f64, f64, f64) {
        let m = self.metrics(false);
        let n = self.n.max(1);
        let k = n.div_ceil(20);
        let tail_var = self.shortfall.top_var(k);
        let a = 0.95;
        let cvar_se = ((tail_var + a * (m.cvar95 - m.p95).powi(2)) / (n as f64 * (1.0 - a))).sqrt();
        (m.mean, 1.96 * m.mean_se, m.cvar95, 1.96 * cvar_se)
    }

    /// The §5 aggregates. `has_stockpile` decides whether `stockout_prob` is null.
    pub fn metrics(&self, has_stockpile: bool) -> Metrics {
        let n = self.n.max(1);
        let nf = n as f64;
        let mean = self.sum52 as f64 / FIX52 / nf;
        let sd = if self.n > 1 {
            let nn = self.n as u128;
            let num = nn * self.sumsq31 - self.sum31 * self.sum31;
            (num as f64 / (nf * (nf - 1.0))).sqrt() / FIX31
        } else {
            0.0
        };
        let q = |num: u64, den: u64| {
            self.shortfall
                .kth((num as u128 * n as u128).div_ceil(den as u128) as u64)
        };
        let top = |den: u64| self.shortfall.top_mean(n.div_ceil(den));
        Metrics {
            mean,
            mean_se: sd / nf.sqrt(),
            sd,
            p50: q(1, 2),
            p90: q(9, 10),
            p95: q(19, 20),
            p99: q(99, 100),
            p999: q(999, 1000),
            cvar95: top(20),
            cvar99: top(100),
            prob_any: self.gt[0] as f64 / nf,
            prob_gt_05: self.gt[1] as f64 / nf,
            prob_gt_10: self.gt[2] as f64 / nf,
            prob_gt_25: self.gt[3] as f64 / nf,
            peak_mean: self.peak_sum52 as f64 / FIX52 / nf,
            peak_p95: self.peak.kth((19 * n as u128).div_ceil(20) as u64),
            months_short_mean: self.months_short as f64 / nf,
            stockout_prob: has_stockpile.then(|| self.stockouts as f64 / nf),
        }
    }
}

/// The §5 aggregate figures, in the order of `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub mean: f64,
    pub mean_se: f64,
    pub sd: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub cvar95: f64,
    pub cvar99: f64,
    pub prob_any: f64,
    pub prob_gt_05: f64,
    pub prob_gt_10: f64,
    pub prob_gt_25: f64,
    pub peak_mean: f64,
    pub peak_p95: f64,
    pub months_short_mean: f64,
    pub stockout_prob: Option<f64>,
}

impl Metrics {
    /// `(name, value)` pairs in the documented order.
    pub fn named(&self) -> Vec<(&'static str, Option<f64>)> {
        let values = [
            Some(self.mean),
            Some(self.mean_se),
            Some(self.sd),
            Some(self.p50),
            Some(self.p90),
            Some(self.p95),
            Some(self.p99),
            Some(self.p999),
            Some(self.cvar95),
            Some(self.cvar99),
            Some(self.prob_any),
            Some(self.prob_gt_05),
            Some(self.prob_gt_10),
            Some(self.prob_gt_25),
            Some(self.peak_mean),
            Some(self.peak_p95),
            Some(self.months_short_mean),
            self.stockout_prob,
        ];
        METRIC_NAMES.into_iter().zip(values).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_set_from_the_total_are_what_the_positive_values_leave() {
        let mut h = Hist::coarse();
        h.add(0.25, 3);
        h.add(0.5, 1);
        h.add(0.5004, 2);
        h.set_zeros_from_total(10);
        assert_eq!(h.zeros(), 4);
        assert_eq!(h.total(), 10);
        h.set_zeros_from_total(6);
        assert_eq!(h.zeros(), 0);
    }

    fn acc_of(values: &[f64]) -> SeriesAcc {
        let mut a = SeriesAcc::default();
        for &v in values {
            a.add(v, v, 0, false, 1);
        }
        a
    }

    /// Quantile and cvar definitions of §5 on hand-made samples.
    #[test]
    fn quantiles_and_cvar_on_hand_made_samples() {
        // 20 values 0.01..=0.20: p95 = 19th smallest (ceil(19*20/20) = 19) = 0.19;
        // cvar95 = mean of the largest ceil(20/20) = 1 value = 0.20;
        // p50 = 10th smallest = 0.10; p90 = 18th = 0.18.
        let v: Vec<f64> = (1..=20).map(|i| i as f64 / 100.0).collect();
        let m = acc_of(&v).metrics(false);
        assert_eq!(m.p95, 0.19);
        assert_eq!(m.p50, 0.10);
        assert_eq!(m.p90, 0.18);
        assert_eq!(m.cvar95, 0.20);
        assert!((m.mean - 0.105).abs() < 1e-15);
        // 21 values: k95 = ceil(19*21/20) = 20 -> 0.20; cvar95 = mean of top ceil(21/20) = 2
        let v: Vec<f64> = (1..=21).map(|i| i as f64 / 100.0).collect();
        let m = acc_of(&v).metrics(false);
        assert_eq!(m.p95, 0.20);
        assert!((m.cvar95 - 0.205).abs() < 1e-12, "{}", m.cvar95);
        assert!((m.cvar99 - 0.21).abs() < 1e-12);
        // sd with N - 1
        let m = acc_of(&[0.1, 0.3]).metrics(false);
        assert!((m.sd - (0.02f64).sqrt()).abs() < 1e-9, "{}", m.sd);
        assert_eq!(acc_of(&[0.4]).metrics(false).sd, 0.0);
        assert_eq!(acc_of(&[0.4, 0.4, 0.4]).metrics(false).sd, 0.0);
    }

    #[test]
    fn probabilities_and_nulls() {
        let m = acc_of(&[0.0, 0.06, 0.11, 0.3]).metrics(false);
        assert_eq!(
            (m.prob_any, m.prob_gt_05, m.prob_gt_10, m.prob_gt_25),
            (0.75, 0.75, 0.5, 0.25)
        );
        assert_eq!(m.stockout_prob, None);
        let mut a = SeriesAcc::default();
        a.add(0.2, 0.5, 3, true, 1);
        a.add(0.0, 0.0, 0, false, 3);
        let m = a.metrics(true);
        assert_eq!(m.stockout_prob, Some(0.25));
        assert_eq!(m.months_short_mean, 0.75);
        assert_eq!(m.peak_mean, 0.125);
    }

    /// Dense samples: histogram quantiles and cvar within 1e-4 of the exact ones.
    #[test]
    fn histogram_error_is_within_bound() {
        let mut v: Vec<f64> = (0..50_000u64)
            .map(|i| {
                let x = crate::engine::rng::stream_unit(3, i, 9);
                if x < 0.3 { 0.0 } else { x * x }
            })
            .collect();
        let a = acc_of(&v);
        let m = a.metrics(false);
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let k95 = (19 * n).div_ceil(20);
        let k999 = (999 * n).div_ceil(1000);
        assert!((m.p95 - v[k95 - 1]).abs() <= 1e-4);
        assert!((m.p999 - v[k999 - 1]).abs() <= 1e-4);
        let top = n.div_ceil(20);
        let exact: f64 = v[n - top..].iter().sum::<f64>() / top as f64;
        assert!((m.cvar95 - exact).abs() <= 1e-4, "{} vs {exact}", m.cvar95);
        let mean: f64 = v.iter().sum::<f64>() / n as f64;
        assert!((m.mean - mean).abs() < 1e-12);
    }

    #[test]
    fn counts_above_matches_a_direct_count() {
        let v: Vec<f64> = (0..5000u64)
            .map(|i| {
                let x = crate::engine::rng::stream_unit(2, i, 5);
                if x < 0.5 { 0.0 } else { (x - 0.5) * 0.3 }
            })
            .collect();
        let a = acc_of(&v);
        let xs = [-1.0, 0.0, 0.001, 0.01, 0.05, 0.1, 0.149, 0.2];
        for (x, got) in xs.iter().zip(a.shortfall.counts_above(&xs)) {
            let want = v.iter().filter(|&&y| y > *x).count() as f64;
            // within one bin's worth of values of the exact count
            assert!((got - want).abs() <= 5.0, "x = {x}: {got} vs {want}");
        }
    }

    /// Merging in any order gives identical bits.
    #[test]
    fn merge_is_order_independent() {
        let parts: Vec<SeriesAcc> = (0..5u64)
            .map(|p| {
                let mut a = SeriesAcc::default();
                for i in 0..1000u64 {
                    let x = crate::engine::rng::stream_unit(p, i, 1);
                    a.add(x * x * x, x, 1, x > 0.9, 1);
                }
                a
            })
            .collect();
        let mut fwd = SeriesAcc::default();
        for p in &parts {
            fwd.merge(p);
        }
        let mut rev = SeriesAcc::default();
        for p in parts.iter().rev() {
            rev.merge(p);
        }
        assert_eq!(fwd.metrics(true), rev.metrics(true));
    }

    /// The first block lives inline, yet a histogram is written as the list
    /// of the blocks holding values, the first among them only when it holds
    /// any (the bytes of partial files do not depend on where blocks live),
    /// and reads back to the same histogram.
    #[test]
    fn histogram_bytes_list_the_blocks_holding_values() {
        let cells = |pairs: &[(usize, f64, u64)]| {
            let mut c = [EMPTY_CELL; MONTH_BLOCK];
            for &(i, x, n) in pairs {
                c[i].add(x, n);
            }
            c.to_vec()
        };
        let mut h = MonthHist::coarse();
        assert_eq!(
            postcard::to_allocvec(&h).unwrap(),
            postcard::to_allocvec(&(1000usize, 0u64, (0u32, Vec::<(u32, Vec<Cell>)>::new())))
                .unwrap()
        );
        h.add(0.0, 4);
        h.add(0.5, 2);
        h.add(0.5004, 1);
        let high = vec![(50u32, cells(&[(0, 0.5, 2), (0, 0.5004, 1)]))];
        let want = |used: Vec<(u32, Vec<Cell>)>| {
            postcard::to_allocvec(&(1000usize, 4u64, (100u32, used))).unwrap()
        };
        let bytes = postcard::to_allocvec(&h).unwrap();
        assert_eq!(bytes, want(high.clone()), "no first block without values");
        h.add(0.0031, 3);
        let mut used = vec![(0u32, cells(&[(3, 0.0031, 3)]))];
        used.extend(high);
        let bytes = postcard::to_allocvec(&h).unwrap();
        assert_eq!(bytes, want(used));
        let back: MonthHist = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes);
        for k in 1..=10 {
            assert_eq!(back.kth(k), h.kth(k));
        }
        assert_eq!(back.kth(5), 0.0031);
        assert_eq!(back.total(), 10);
    }

    /// A block count beyond any histogram's, read from a (forged) file, is
    /// refused before anything is allocated for it.
    #[test]
    fn histogram_block_count_is_bounded_when_read() {
        let no_blocks = Vec::<(u32, Vec<Cell>)>::new();
        let bytes = postcard::to_allocvec(&(1000usize, 0u64, (u32::MAX, no_blocks.clone())));
        assert!(postcard::from_bytes::<MonthHist>(&bytes.unwrap()).is_err());
        let most = (BINS / BLOCK) as u32;
        let bytes = postcard::to_allocvec(&(BINS, 0u64, (most, no_blocks))).unwrap();
        assert!(postcard::from_bytes::<Hist>(&bytes).is_ok());
    }

    /// Values of the first block and of later ones merge as if added to one
    /// histogram, whichever side holds them.
    #[test]
    fn merge_joins_first_and_later_blocks() {
        let xs: Vec<f64> = (0..400u64)
            .map(|i| crate::engine::rng::stream_unit(3, i, 9).powi(4))
            .collect();
        let mut all = Hist::default();
        let (mut a, mut b) = (Hist::default(), Hist::default());
        for (i, &x) in xs.iter().enumerate() {
            all.add(x, 1);
            if i % 3 == 0 { a.add(x, 1) } else { b.add(x, 1) }
        }
        let mut empty = Hist::default();
        empty.merge(&a);
        empty.merge(&b);
        a.merge(&b);
        let bytes = postcard::to_allocvec(&all).unwrap();
        assert_eq!(postcard::to_allocvec(&a).unwrap(), bytes);
        assert_eq!(postcard::to_allocvec(&empty).unwrap(), bytes);
        assert!(xs.iter().filter(|&&x| x < 0.01).count() > 50);
        assert!(xs.iter().filter(|&&x| x >= 0.01).count() > 50);
    }
}
