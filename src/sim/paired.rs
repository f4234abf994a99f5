//! The comparison's per-trial accumulators, filled in the same pass as the
//! models' aggregates: per strategy, commodity and series, the pairs
//! (base, strategy); and the base's attribution per commodity and series.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Outputs, rows_fit};
use crate::engine::{AttribPart, Engine, Figures};
use crate::stats::{AttribAcc, AttribDims, PairAcc};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairedAcc {
    /// `pairs[s][k][i]`: strategy s (engine s + 1), commodity k, series i.
    pub pairs: Vec<Vec<Vec<PairAcc>>>,
    /// `attrib[k][i]`: the base's attribution of commodity k, series i.
    pub attrib: Vec<Vec<AttribAcc>>,
    /// `both_cached[s][k]`: trials where commodity k was untouched in the
    /// base and in strategy s (their pair is the cached figures').
    both_cached: Vec<Vec<u64>>,
    base_cached: Vec<u64>,
    /// `same[s][k]`: strategy s computes the same figures of commodity k as
    /// the base in every trial; its pairs are all equal and only counted.
    /// Derived from the engines, not stored.
    #[serde(skip)]
    same: Vec<Vec<bool>>,
}

/// Adds a trial's attribution of one commodity (all series) to `acc`.
fn add_attrib(acc: &mut [AttribAcc], f: &Figures, parts: &[AttribPart], n: u64) {
    for (a, &x) in acc.iter().zip(&f.shortfall) {
        a.prefetch(x);
    }
    for (a, &x) in acc.iter_mut().zip(&f.shortfall) {
        a.add_trial(x, n);
    }
    for p in parts {
        let i = p.series as usize;
        acc[i].add_part(
            f.shortfall[i],
            p.source as usize,
            p.country as usize,
            p.value,
            n,
        );
    }
}

fn add_pairs(acc: &mut [PairAcc], base: &Figures, strategy: &Figures, n: u64) {
    PairAcc::add_row(acc, &base.shortfall, &strategy.shortfall, n);
}

impl PairedAcc {
    pub fn new(engines: &[Engine]) -> PairedAcc {
        let base = &engines[0];
        let model = base.model;
        let nk = model.commodities.len();
        let series = base.series();
        let attrib = (0..nk)
            .map(|k| {
                let dims = Arc::new(AttribDims::new(
                    base.sources.len(),
                    model.n_countries() + 1,
                    model.sources_acting_on(k),
                    model.commodities[k].producers.iter().copied(),
                ));
                vec![AttribAcc::new(dims); series]
            })
            .collect();
        PairedAcc {
            pairs: vec![vec![vec![PairAcc::default(); series]; nk]; engines.len() - 1],
            attrib,
            both_cached: vec![vec![0; nk]; engines.len() - 1],
            base_cached: vec![0; nk],
            same: super::shared(engines).split_off(1),
        }
    }

    /// Adds one trial: `outs[0]` is the base's output, with attribution.
    pub fn add(&mut self, engines: &[Engine], outs: Outputs) {
        let (base, be) = (&outs[0], &engines[0]);
        for k in 0..be.model.commodities.len() {
            let bf = base.figures(be, k);
            if base.touched[k] {
                add_attrib(&mut self.attrib[k], bf, &base.attrib[k], 1);
            } else {
                self.base_cached[k] += 1;
            }
            for (si, out) in outs.iter().skip(1).enumerate() {
                if self.same[si][k] {
                    self.pairs[si][k].iter_mut().for_each(|p| p.add_equal(1));
                } else if !base.touched[k] && !out.touched[k] {
                    self.both_cached[si][k] += 1;
                } else {
                    add_pairs(
                        &mut self.pairs[si][k],
                        bf,
                        out.figures(&engines[si + 1], k),
                        1,
                    );
                }
            }
        }
    }

    /// Whether `o` (maybe read from a file) has the shape of these
    /// accumulators.
    pub fn fits(&self, o: &PairedAcc) -> bool {
        self.pairs.len() == o.pairs.len()
            && self
                .pairs
                .iter()
                .zip(&o.pairs)
                .all(|(a, b)| rows_fit(a, b, PairAcc::fits))
            && rows_fit(&self.attrib, &o.attrib, AttribAcc::fits)
            && rows_fit(&self.both_cached, &o.both_cached, |_, _| true)
            && self.base_cached.len() == o.base_cached.len()
    }

    pub fn merge(&mut self, o: &PairedAcc) {
        let pairs = o.pairs.iter().flatten().flatten();
        for (a, b) in self.pairs.iter_mut().flatten().flatten().zip(pairs) {
            a.merge(b);
        }
        for (a, b) in self
            .attrib
            .iter_mut()
            .flatten()
            .zip(o.attrib.iter().flatten())
        {
            a.merge(b);
        }
        let cached = o.both_cached.iter().flatten();
        for (a, b) in self.both_cached.iter_mut().flatten().zip(cached) {
            *a += b;
        }
        for (a, b) in self.base_cached.iter_mut().zip(&o.base_cached) {
            *a += b;
        }
    }

    /// Folds the untouched trials' cached figures in; call once, at the end.
    pub fn finish(mut self, engines: &[Engine]) -> PairedAcc {
        let be = &engines[0];
        for k in 0..be.model.commodities.len() {
            let n = std::mem::take(&mut self.base_cached[k]);
            if n > 0 {
                add_attrib(&mut self.attrib[k], &be.cached[k], &be.cached_attrib[k], n);
            }
            for (si, e) in engines.iter().enumerate().skip(1) {
                let n = std::mem::take(&mut self.both_cached[si - 1][k]);
                if n > 0 {
                    add_pairs(&mut self.pairs[si - 1][k], &be.cached[k], &e.cached[k], n);
                }
            }
        }
        self
    }
}
