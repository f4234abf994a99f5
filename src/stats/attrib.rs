//! Attribution of shortfall to its causes, accumulated in one pass
//! (docs/model.md, "Attribution").
//!
//! The mean parts are exact sums over all trials. The tail parts (the
//! cvar95 tail: the ceil(N/20) trials with the largest shortfall) need the
//! tail's threshold, which is only known at the end; so each trial's parts
//! are summed into the band (width 1e-3) of its shortfall, and the tail is
//! read off the bands from the top: whole bands above the one holding the
//! k-th largest trial, and that band pro rata to the trials it contributes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{BANDS, FIX52, band_of, fix52};

/// Fixed point of the band sums: 32 fractional bits, so a part in [0, 1]
/// times up to 2^31 trials fits a u64.
const FIX32: f64 = (1u64 << 32) as f64;
const NONE: u32 = u32::MAX;

/// The sources (shocks, then scheduled events) and countries that can act
/// on one commodity: the band sums are kept only for them.
#[derive(Debug, Default)]
pub struct AttribDims {
    src_local: Vec<u32>,
    country_local: Vec<u32>,
    sources: Vec<u32>,
    countries: Vec<u32>,
}

impl AttribDims {
    /// `n_sources`, `n_countries`: the model's totals; `sources`,
    /// `countries`: those acting on the commodity (indices into them).
    pub fn new(
        n_sources: usize,
        n_countries: usize,
        sources: impl IntoIterator<Item = usize>,
        countries: impl IntoIterator<Item = usize>,
    ) -> AttribDims {
        let local = |n: usize, ids: &mut dyn Iterator<Item = usize>| {
            let mut map = vec![NONE; n];
            let mut list = Vec::new();
            for i in ids {
                if i < n && map[i] == NONE {
                    map[i] = list.len() as u32;
                    list.push(i as u32);
                }
            }
            (map, list)
        };
        let (src_local, sources) = local(n_sources, &mut sources.into_iter());
        let (country_local, countries) = local(n_countries, &mut countries.into_iter());
        AttribDims {
            src_local,
            country_local,
            sources,
            countries,
        }
    }

    /// Every source and country (for hand-made tests).
    pub fn all(n_sources: usize, n_countries: usize) -> AttribDims {
        AttribDims::new(n_sources, n_countries, 0..n_sources, 0..n_countries)
    }

    fn width(&self) -> usize {
        1 + self.sources.len() + self.countries.len()
    }
}

/// Sums of attributed shortfall for one (commodity, series).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttribAcc {
    pub n: u64,
    /// Fixed-point sums of the parts per local source and per local country
    /// (see [`AttribDims`]).
    by_source: Vec<u128>,
    by_country: Vec<u128>,
    /// Derived from the model, not stored: an accumulator read back is merged
    /// into one made for the model.
    #[serde(skip)]
    dims: Arc<AttribDims>,
    /// Per band of the series' shortfall, lazily: the trial count, then the
    /// parts per local source, then per local country.
    bands: Vec<Option<Box<[u64]>>>,
}

/// Mean attributed shortfall per source and per country, overall and in the tail.
#[derive(Debug, Clone, PartialEq)]
pub struct AttribStats {
    pub by_source: Vec<f64>,
    pub by_country: Vec<f64>,
    pub tail_by_source: Vec<f64>,
    pub tail_by_country: Vec<f64>,
    /// Number of tail trials, ceil(N/20).
    pub tail_trials: f64,
}

impl AttribAcc {
    pub fn new(dims: Arc<AttribDims>) -> AttribAcc {
        AttribAcc {
            n: 0,
            by_source: vec![0; dims.sources.len()],
            by_country: vec![0; dims.countries.len()],
            dims,
            bands: Vec::new(),
        }
    }

    /// Adds one trial `n` times: its shortfall `x` and the parts
    /// `(source, country, value)` of this series.
    pub fn add(&mut self, x: f64, parts: impl Iterator<Item = (usize, usize, f64)>, n: u64) {
        self.add_trial(x, n);
        for (src, country, v) in parts {
            self.add_part(x, src, country, v, n);
        }
    }

    /// Counts one trial with shortfall `x`, `n` times; its parts follow with
    /// [`AttribAcc::add_part`].
    #[inline]
    pub fn add_trial(&mut self, x: f64, n: u64) {
        self.n += n;
        if let Some(row) = self.band_row(x) {
            row[0] += n;
        }
    }

    /// Adds a part `v` from `src` in `country` of a trial with shortfall `x`.
    #[inline]
    pub fn add_part(&mut self, x: f64, src: usize, country: usize, v: f64, n: u64) {
        let (s, c) = (self.dims.src_local[src], self.dims.country_local[country]);
        debug_assert!(s != NONE && c != NONE, "attribution outside its dimensions");
        let q = fix52(v) * n as u128;
        if s != NONE {
            self.by_source[s as usize] += q;
        }
        if c != NONE {
            self.by_country[c as usize] += q;
        }
        let ls = self.dims.sources.len();
        if let Some(row) = self.band_row(x) {
            let q = (v.clamp(0.0, 1.0) * FIX32 + 0.5) as u64 * n;
            if s != NONE {
                row[1 + s as usize] += q;
            }
            if c != NONE {
                row[1 + ls + c as usize] += q;
            }
        }
    }

    /// Asks the processor to bring the band row of a trial with shortfall
    /// `x` into cache before its parts are added (a hint only).
    #[inline]
    pub fn prefetch(&self, x: f64) {
        if x <= 0.0 || self.bands.is_empty() {
            return;
        }
        if let Some(row) = &self.bands[band_of(x.min(1.0))] {
            for line in row.chunks(8) {
                super::prefetch(&line[0]);
            }
        }
    }

    /// The band row of a positive shortfall `x` (allocated on first use).
    #[inline]
    fn band_row(&mut self, x: f64) -> Option<&mut [u64]> {
        if x <= 0.0 {
            return None;
        }
        if self.bands.is_empty() {
            self.bands = vec![None; BANDS];
        }
        let width = self.dims.width();
        let row = self.bands[band_of(x.min(1.0))]
            .get_or_insert_with(|| vec![0; width].into_boxed_slice());
        Some(row)
    }

    /// Whether `o` (maybe read from a file) has this accumulator's shape.
    pub fn fits(&self, o: &AttribAcc) -> bool {
        let width = self.dims.width();
        self.by_source.len() == o.by_source.len()
            && self.by_country.len() == o.by_country.len()
            && (o.bands.is_empty() || o.bands.len() == BANDS)
            && o.bands.iter().flatten().all(|r| r.len() == width)
    }

    pub fn merge(&mut self, o: &AttribAcc) {
        let add = |a: &mut Vec<u128>, b: &Vec<u128>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        self.n += o.n;
        add(&mut self.by_source, &o.by_source);
        add(&mut self.by_country, &o.by_country);
        if o.bands.is_empty() {
            return;
        }
        if self.bands.is_empty() {
            self.bands = vec![None; BANDS];
        }
        for (mine, theirs) in self.bands.iter_mut().zip(&o.bands) {
            let Some(theirs) = theirs else { continue };
            match mine {
                None => *mine = Some(theirs.clone()),
                Some(m) => m.iter_mut().zip(theirs.iter()).for_each(|(x, y)| *x += y),
            }
        }
    }

    /// The tail's parts per local source and country (sums, not yet means):
    /// whole bands from the top, then the band holding the k-th largest
    /// trial pro rata.
    fn tail_sums(&self, k: u64) -> Vec<f64> {
        let mut whole = vec![0u128; self.dims.width()];
        let mut part = vec![0.0; self.dims.width()];
        let mut left = k;
        for row in self.bands.iter().rev().flatten() {
            if left == 0 {
                break;
            }
            let count = row[0];
            if count <= left {
                whole
                    .iter_mut()
                    .zip(row.iter())
                    .for_each(|(a, &b)| *a += b as u128);
                left -= count;
            } else {
                let w = left as f64 / count as f64;
                part.iter_mut()
                    .zip(row.iter())
                    .for_each(|(a, &b)| *a = w * b as f64);
                left = 0;
            }
        }
        whole
            .iter()
            .zip(&part)
            .map(|(&w, &p)| (w as f64 + p) / FIX32)
            .collect()
    }

    pub fn stats(&self) -> AttribStats {
        let n = self.n.max(1) as f64;
        let k = self.n.div_ceil(20);
        let sums = self.tail_sums(k);
        let ls = self.dims.sources.len();
        // From the local sources and countries to all of the model's.
        let scatter = |ids: &[u32], vals: Vec<f64>, len: usize| {
            let mut v = vec![0.0; len];
            for (&i, x) in ids.iter().zip(vals) {
                v[i as usize] = x;
            }
            v
        };
        let (n_src, n_cty) = (self.dims.src_local.len(), self.dims.country_local.len());
        let mean = |v: &[u128]| v.iter().map(|&x| x as f64 / FIX52 / n).collect();
        let tail = |v: &[f64]| {
            v.iter()
                .map(|&x| if k > 0 { x / k as f64 } else { 0.0 })
                .collect()
        };
        AttribStats {
            by_source: scatter(&self.dims.sources, mean(&self.by_source), n_src),
            by_country: scatter(&self.dims.countries, mean(&self.by_country), n_cty),
            tail_by_source: scatter(&self.dims.sources, tail(&sums[1..1 + ls]), n_src),
            tail_by_country: scatter(&self.dims.countries, tail(&sums[1 + ls..]), n_cty),
            tail_trials: k as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every trial in its own band, the tail parts are those of the
    /// ceil(N/20) largest trials exactly; mean parts are exact throughout.
    #[test]
    fn tail_parts_are_the_top_trials_parts() {
        let dims = Arc::new(AttribDims::all(2, 3));
        let mut acc = AttribAcc::new(dims);
        // 40 trials: x = i / 50 (distinct bands), split 1/4 to source 0 in
        // country 1 and 3/4 to source 1 in country 2; 20 trials of zero.
        for i in 1..=40u64 {
            let x = i as f64 / 50.0;
            acc.add(x, [(0, 1, 0.25 * x), (1, 2, 0.75 * x)].into_iter(), 1);
        }
        acc.add(0.0, std::iter::empty(), 20);
        let st = acc.stats();
        // k = ceil(60 / 20) = 3: trials 40, 39, 38
        let top = (40.0 + 39.0 + 38.0) / 50.0 / 3.0;
        assert_eq!(st.tail_trials, 3.0);
        assert!((st.tail_by_source[0] - 0.25 * top).abs() < 1e-9);
        assert!((st.tail_by_source[1] - 0.75 * top).abs() < 1e-9);
        assert!((st.tail_by_country[2] - 0.75 * top).abs() < 1e-9);
        assert_eq!(st.tail_by_country[0], 0.0);
        let mean = (1..=40).map(|i| i as f64 / 50.0).sum::<f64>() / 60.0;
        assert!((st.by_source[0] - 0.25 * mean).abs() < 1e-12);
    }

    /// A band holding more trials than the tail needs enters pro rata.
    #[test]
    fn the_threshold_band_enters_pro_rata() {
        let mut acc = AttribAcc::new(Arc::new(AttribDims::all(2, 1)));
        // 10 trials at 0.5 from source 0, 10 at 0.5004 from source 1 (same
        // band), 80 zeros: k = 5 comes from the one band, half each.
        acc.add(0.5, [(0, 0, 0.5)].into_iter(), 10);
        acc.add(0.5004, [(1, 0, 0.5004)].into_iter(), 10);
        acc.add(0.0, std::iter::empty(), 80);
        let st = acc.stats();
        assert!((st.tail_by_source[0] - 0.25).abs() < 1e-9);
        assert!((st.tail_by_source[1] - 0.2502).abs() < 1e-9);
        assert!((st.tail_by_country[0] - 0.5002).abs() < 1e-9);
    }

    /// Merging in any order gives the same statistics, bit for bit.
    #[test]
    fn merge_is_order_independent() {
        let dims = Arc::new(AttribDims::new(4, 3, [1, 3], [0, 2]));
        let parts: Vec<AttribAcc> = (0..4u64)
            .map(|p| {
                let mut a = AttribAcc::new(dims.clone());
                for i in 0..500u64 {
                    let x = crate::engine::rng::stream_unit(p, i, 2);
                    a.add(x, [(1, 0, 0.3 * x), (3, 2, 0.7 * x)].into_iter(), 1);
                }
                a
            })
            .collect();
        let mut fwd = AttribAcc::new(dims.clone());
        parts.iter().for_each(|p| fwd.merge(p));
        let mut rev = AttribAcc::new(dims);
        parts.iter().rev().for_each(|p| rev.merge(p));
        assert_eq!(fwd.stats(), rev.stats());
    }
}
