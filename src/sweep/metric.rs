//! The aggregate (docs/model.md §5) a sweep follows, and the per-trial
//! influence values that give its confidence intervals.
//!
//! Every aggregate T of the trial values is, to first order, the mean of an
//! influence value ψ(trial) (for a mean, the trial value itself; for
//! cvar95, the Rockafellar-Uryasev tail excess; for a quantile, the
//! indicator below it divided by the density, estimated as Siddiqui's
//! difference quotient of order statistics). The standard error of T is then
//! sd(ψ) / sqrt(N), and that of a change between two models run on the same
//! draws sd(ψ_point − ψ_base) / sqrt(N): paired, so common random numbers
//! narrow it. Aggregates whose ψ needs the model's own quantile, mean or sd
//! keep, in the same single pass, sums from which ψ's are summed once those
//! are known ([`Psi`]; the band and power sums of [`crate::stats`]), so the
//! sums of shards merge exactly.

use serde::{Deserialize, Serialize};

use crate::engine::Figures;
use crate::stats::{BandPairs, Below, Metrics, PowerPairs, SeriesAcc, Ses, Spread, THRESHOLDS};

/// A §5 aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Mean,
    MeanSe,
    Sd,
    /// A quantile of the shortfall, in thousandths (500, 900, 950, 990, 999).
    Quantile(u32),
    /// cvar at a level in hundredths (95, 99).
    Cvar(u32),
    /// Share of trials above `THRESHOLDS[i]`.
    Prob(usize),
    PeakMean,
    PeakP95,
    MonthsShortMean,
    StockoutProb,
}

/// Every name, in the §5 order.
pub use crate::stats::METRIC_NAMES as NAMES;

impl Metric {
    /// The metric of a §5 name.
    pub fn parse(name: &str) -> Option<Metric> {
        Some(match name {
            "mean" => Metric::Mean,
            "mean_se" => Metric::MeanSe,
            "sd" => Metric::Sd,
            "p50" => Metric::Quantile(500),
            "p90" => Metric::Quantile(900),
            "p95" => Metric::Quantile(950),
            "p99" => Metric::Quantile(990),
            "p999" => Metric::Quantile(999),
            "cvar95" => Metric::Cvar(95),
            "cvar99" => Metric::Cvar(99),
            "prob_any" => Metric::Prob(0),
            "prob_gt_05" => Metric::Prob(1),
            "prob_gt_10" => Metric::Prob(2),
            "prob_gt_25" => Metric::Prob(3),
            "peak_mean" => Metric::PeakMean,
            "peak_p95" => Metric::PeakP95,
            "months_short_mean" => Metric::MonthsShortMean,
            "stockout_prob" => Metric::StockoutProb,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .copied()
            .find(|n| Metric::parse(n) == Some(self))
            .unwrap_or("mean")
    }

    /// Its value in a model's aggregates (`stockout_prob` is 0 without a stockpile).
    pub fn value(self, m: &Metrics) -> f64 {
        match self {
            Metric::Mean => m.mean,
            Metric::MeanSe => m.mean_se,
            Metric::Sd => m.sd,
            Metric::Quantile(500) => m.p50,
            Metric::Quantile(900) => m.p90,
            Metric::Quantile(950) => m.p95,
            Metric::Quantile(990) => m.p99,
            Metric::Quantile(_) => m.p999,
            Metric::Cvar(95) => m.cvar95,
            Metric::Cvar(_) => m.cvar99,
            Metric::Prob(i) => [m.prob_any, m.prob_gt_05, m.prob_gt_10, m.prob_gt_25][i.min(3)],
            Metric::PeakMean => m.peak_mean,
            Metric::PeakP95 => m.peak_p95,
            Metric::MonthsShortMean => m.months_short_mean,
            Metric::StockoutProb => m.stockout_prob.unwrap_or(0.0),
        }
    }

    /// Whether ψ needs the model's own aggregates: its sums are then kept
    /// per band or power ([`Psi`]) and read once every trial is in.
    pub fn psi_needs_aggregates(self) -> bool {
        matches!(
            self,
            Metric::MeanSe | Metric::Sd | Metric::Quantile(_) | Metric::Cvar(_) | Metric::PeakP95
        )
    }

    /// What ψ needs to know of a model, from its first-pass accumulator.
    pub fn influence(self, acc: &SeriesAcc) -> Influence {
        let n = acc.n.max(1);
        let m = acc.metrics(false);
        let nf = n as f64;
        match self {
            Metric::Sd | Metric::MeanSe => {
                let scale = if self == Metric::MeanSe {
                    nf.sqrt()
                } else {
                    1.0
                };
                Influence::Spread {
                    mean: m.mean,
                    inv: if m.sd > 0.0 {
                        1.0 / (2.0 * m.sd * scale)
                    } else {
                        0.0
                    },
                }
            }
            Metric::Quantile(q) => quantile_influence(&acc.shortfall, n, q as u64, 1000, false),
            Metric::PeakP95 => quantile_influence(&acc.peak, n, 19, 20, true),
            Metric::Cvar(a) => Influence::Tail {
                var: if a == 95 { m.p95 } else { m.p99 },
                inv: 100.0 / (100 - a) as f64,
            },
            _ => Influence::Plain(self),
        }
    }
}

/// Siddiqui's estimate of 1 / density at the `num/den` quantile, from order
/// statistics `m` ranks either side, m = ceil(sqrt(N)).
fn quantile_influence(h: &crate::stats::Hist, n: u64, num: u64, den: u64, peak: bool) -> Influence {
    let k = (num as u128 * n as u128).div_ceil(den as u128) as u64;
    let m = (n as f64).sqrt().ceil() as u64;
    let lo = k.saturating_sub(m).max(1);
    let hi = (k + m).min(n);
    let sparsity = if hi > lo {
        (h.kth(hi) - h.kth(lo)) * n as f64 / (hi - lo) as f64
    } else {
        0.0
    };
    Influence::Below {
        q: h.kth(k.max(1)),
        sparsity,
        peak,
    }
}

/// ψ of one trial, given what it needs of its model.
#[derive(Debug, Clone, Copy)]
pub enum Influence {
    /// ψ = the trial's own value (means and shares).
    Plain(Metric),
    /// ψ = (x − mean)² · inv (sd, mean_se).
    Spread { mean: f64, inv: f64 },
    /// ψ = (x − VaR)+ · inv (cvar).
    Tail { var: f64, inv: f64 },
    /// ψ = −1[x ≤ q] · sparsity (quantiles; of the peak when `peak`).
    Below { q: f64, sparsity: f64, peak: bool },
}

impl Influence {
    /// ψ of series `i` of one trial's figures.
    #[inline]
    pub fn of(&self, f: &Figures, i: usize) -> f64 {
        let x = f.shortfall[i];
        match *self {
            Influence::Plain(m) => match m {
                Metric::Prob(t) => (x > THRESHOLDS[t.min(3)]) as u8 as f64,
                Metric::PeakMean => f.peak[i],
                Metric::MonthsShortMean => f.months_short[i] as f64,
                Metric::StockoutProb => f.stockout[i] as u8 as f64,
                _ => x,
            },
            Influence::Spread { mean, inv } => (x - mean) * (x - mean) * inv,
            Influence::Tail { var, inv } => (x - var).max(0.0) * inv,
            Influence::Below { q, sparsity, peak } => {
                let v = if peak { f.peak[i] } else { x };
                -((v <= q) as u8 as f64) * sparsity
            }
        }
    }
}

/// Per model and commodity, what the metric's standard errors need, summed
/// over the trials in one pass (`base` below is the batch's first model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Psi {
    /// ψ is the trial's own value: its sums, and those of ψ − ψ_base.
    Plain { own: Moments, paired: Moments },
    /// Quantiles and cvar: the pairs (base, model) of the shortfall (of the
    /// peak for peak_p95) by band.
    Bands(BandPairs),
    /// sd and mean_se: power and cross sums of the shortfall.
    Powers(PowerPairs),
}

impl Psi {
    pub fn new(m: Metric) -> Psi {
        match m {
            Metric::MeanSe | Metric::Sd => Psi::Powers(PowerPairs::default()),
            Metric::Quantile(_) | Metric::Cvar(_) | Metric::PeakP95 => {
                Psi::Bands(BandPairs::default())
            }
            _ => Psi::Plain {
                own: Moments::default(),
                paired: Moments::default(),
            },
        }
    }

    /// Adds one trial of series `i`: the base's figures `b` and their ψ
    /// (when plain), the model's figures `f`.
    #[inline]
    pub fn add(&mut self, plain: &Influence, b: &Figures, b_psi: f64, f: &Figures, i: usize) {
        match self {
            Psi::Plain { own, paired } => {
                let psi = plain.of(f, i);
                own.add(psi);
                paired.add(psi - b_psi);
            }
            Psi::Bands(p) => match plain {
                Influence::Plain(Metric::PeakP95) => p.add(b.peak[i], f.peak[i]),
                _ => p.add(b.shortfall[i], f.shortfall[i]),
            },
            Psi::Powers(p) => p.add(b.shortfall[i], f.shortfall[i]),
        }
    }

    pub fn merge(&mut self, o: &Psi) {
        match (self, o) {
            (
                Psi::Plain { own, paired },
                Psi::Plain {
                    own: o1,
                    paired: o2,
                },
            ) => {
                own.merge(o1);
                paired.merge(o2);
            }
            (Psi::Bands(a), Psi::Bands(b)) => a.merge(b),
            (Psi::Powers(a), Psi::Powers(b)) => a.merge(b),
            _ => {}
        }
    }

    /// Whether `o` (maybe read from a file) is of this kind and well formed.
    pub fn fits(&self, o: &Psi) -> bool {
        match (self, o) {
            (Psi::Plain { .. }, Psi::Plain { .. }) | (Psi::Powers(_), Psi::Powers(_)) => true,
            (Psi::Bands(_), Psi::Bands(b)) => BandPairs::fits(b),
            _ => false,
        }
    }
}

/// Standard errors of `metric` for a model (its aggregates `acc` and sums
/// `psi`) and of its change from the base (`base_acc`, `base_psi`).
pub fn ses(
    metric: Metric,
    base_acc: &SeriesAcc,
    base_psi: &Psi,
    acc: &SeriesAcc,
    psi: &Psi,
) -> Ses {
    let (ib, ip) = (metric.influence(base_acc), metric.influence(acc));
    match (psi, base_psi, ib, ip) {
        (Psi::Plain { own, paired }, ..) => Ses {
            own: own.se(),
            paired: paired.se(),
        },
        (Psi::Bands(p), _, Influence::Tail { var: vb, inv }, Influence::Tail { var: vp, .. }) => {
            p.excess_ses(vb, vp, inv)
        }
        (Psi::Bands(p), _, Influence::Below { .. }, Influence::Below { .. }) => {
            p.below_ses(&below(base_acc, ib), &below(acc, ip))
        }
        (
            Psi::Powers(p),
            Psi::Powers(base),
            Influence::Spread { mean: mb, inv: vb },
            Influence::Spread { mean, inv },
        ) => p.spread_ses(base, Spread { mean: mb, inv: vb }, Spread { mean, inv }),
        _ => Ses {
            own: 0.0,
            paired: 0.0,
        },
    }
}

/// What a quantile's ψ needs of a model, from its aggregates.
fn below(acc: &SeriesAcc, inf: Influence) -> Below {
    let Influence::Below { q, sparsity, peak } = inf else {
        return Below::new(&acc.shortfall, acc.n, 0.0, 0.0);
    };
    let h = if peak { &acc.peak } else { &acc.shortfall };
    Below::new(h, acc.n, q, sparsity)
}

const SCALE: f64 = (1u64 << 24) as f64;
const LIMIT: f64 = (1u64 << 20) as f64;

/// Exact sums of a value (fixed point, 2^-24, |x| ≤ 2^20): count, sum and
/// sum of squares, so merging in any order gives the same bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    n: u64,
    sum: i128,
    sumsq: u128,
}

impl Moments {
    #[inline]
    pub fn add(&mut self, x: f64) {
        let q = (x.clamp(-LIMIT, LIMIT) * SCALE).round() as i64 as i128;
        self.n += 1;
        self.sum += q;
        self.sumsq += (q * q) as u128;
    }

    pub fn merge(&mut self, o: &Moments) {
        self.n += o.n;
        self.sum += o.sum;
        self.sumsq += o.sumsq;
    }

    /// Standard error of the mean: sample sd / sqrt(N) (0 when N < 2).
    pub fn se(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        let mean = self.sum as f64 / n;
        let var = ((self.sumsq as f64 - mean * self.sum as f64) / (n - 1.0)).max(0.0);
        var.sqrt() / SCALE / n.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in NAMES {
            assert_eq!(Metric::parse(n).unwrap().name(), n);
        }
        assert!(Metric::parse("cvar90").is_none());
    }

    #[test]
    fn moments_se_matches_direct() {
        let xs = [0.1, 0.4, 0.25, 0.0, 1.5, -0.3];
        let mut m = Moments::default();
        for x in xs {
            m.add(x);
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!((m.se() - (var / n).sqrt()).abs() < 1e-6, "{}", m.se());
    }
}
