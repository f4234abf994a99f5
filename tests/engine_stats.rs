//! Statistical cases (within 4 standard errors of closed forms), determinism
//! across thread counts, and property tests of invariants.

use crmsim::engine::Engine;
use crmsim::model::Model;
use crmsim::sim::{self, RunOptions};
use proptest::prelude::*;

mod common;
use common::{baseline, compile};

/// One producer with all capacity, one consumer with all demand, one shock.
fn one_shock(horizon: u32, rate: &str, extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "stat"
horizon_months = {horizon}
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 1.0 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 1.0
[[shock]]
id = "s"
kind = "conflict"
countries = ["CN"]
{rate}
severity = 1.0
duration_months = 1.0
{extra}
"#
    )
}

fn within_4se(got: f64, want: f64, se: f64, what: &str) {
    assert!(
        (got - want).abs() < 4.0 * se,
        "{what}: got {got}, want {want} +- 4 * {se}"
    );
}

/// Mean number of events per trial.
fn mean_events(model: &Model, trials: u64) -> f64 {
    let engine = Engine::new(model, 11);
    let mut sc = engine.scratch();
    let mut total = 0usize;
    for t in 0..trials {
        engine.draw_events(t, &mut sc);
        total += engine.last_hits(&sc, 0).len();
    }
    total as f64 / trials as f64
}

#[test]
fn event_counts_are_poisson_with_rate_times_horizon() {
    // rate 0.8 / year over 18 months: mean 1.2 events, variance 1.2.
    let model = compile(&one_shock(18, "rate_per_year = 0.8", ""));
    let n = 200_000;
    let lambda = 0.8 * 18.0 / 12.0;
    within_4se(
        mean_events(&model, n),
        lambda,
        (lambda / n as f64).sqrt(),
        "mean count",
    );
    // a large rate uses the other Poisson sampler
    let model = compile(&one_shock(12, "rate_per_year = 45.0", ""));
    let n = 20_000;
    within_4se(
        mean_events(&model, n),
        45.0,
        (45.0 / n as f64).sqrt(),
        "mean count, rate 45",
    );
}

#[test]
fn probability_per_year_is_the_chance_of_at_least_one_event() {
    // Any event causes some shortfall, so prob_any = P(N >= 1).
    let p = 0.3;
    let n = 100_000;
    for (h, want) in [(12u32, p), (24, 1.0 - (1.0 - p) * (1.0 - p))] {
        let model = compile(&one_shock(h, "probability_per_year = 0.3", ""));
        let run = sim::run(
            &[&model],
            RunOptions {
                trials: n,
                seed: 5,
                threads: 2,
            },
            &|_| {},
        )
        .unwrap();
        let got = run[0].metrics[0][0].prob_any;
        within_4se(
            got,
            want,
            (want * (1.0 - want) / n as f64).sqrt(),
            &format!("P(any), H = {h}"),
        );
    }
}

#[test]
fn regime_multipliers_scale_the_rate() {
    // normal 0.75 (rate 0.4), high 0.25 (rate 0.4 * 5): mean 0.4 * (0.75 + 1.25).
    let regime = r#"
[[regime]]
id = "high"
probability = 0.25
multipliers = [ { kind = "conflict", countries = ["CN"], factor = 5.0 } ]
"#;
    let model = compile(&one_shock(12, "rate_per_year = 0.4", regime));
    let n = 200_000;
    let mean = 0.4 * 2.0;
    // variance of a Poisson mixture: E[lambda] + Var(lambda)
    let var = mean + 0.75 * 0.4f64.powi(2) + 0.25 * 2.0f64.powi(2) - mean * mean;
    within_4se(
        mean_events(&model, n),
        mean,
        (var / n as f64).sqrt(),
        "mean count with regime",
    );
}

#[test]
fn start_times_are_uniform_over_the_horizon() {
    // A fixed, never-ending outage from a uniform start covers (H - start)/H
    // of the horizon: E[shortfall | exactly one event] = 1/2.
    let model = compile(
        &one_shock(12, "rate_per_year = 0.05", "")
            .replace("duration_months = 1.0", "duration_months = 1000.0"),
    );
    let engine = Engine::new(&model, 3);
    let mut sc = engine.scratch();
    let (mut n, mut sum, mut sumsq) = (0u64, 0.0, 0.0);
    for t in 0..200_000u64 {
        let x = engine.run_trial(t, &mut sc).figures(&engine, 0).shortfall[0];
        if engine.last_hits(&sc, 0).len() == 1 {
            n += 1;
            sum += x;
            sumsq += x * x;
        }
    }
    assert!(n > 1000, "too few events: {n}");
    let mean = sum / n as f64;
    let sd = (sumsq / n as f64 - mean * mean).sqrt();
    within_4se(mean, 0.5, sd / (n as f64).sqrt(), "mean covered fraction");
}

#[test]
fn monthly_bands_count_every_trial_and_its_zero_months() {
    // Zero months are not added trial by trial but set at the end: every
    // month's band must still hold each trial once, zeros as counted directly.
    let model = baseline();
    let trials = 5_000u64;
    let opts = RunOptions {
        trials,
        seed: 3,
        threads: 2,
    };
    let result = sim::run(&[&model], opts, &|_| {}).unwrap().remove(0);
    let engine = Engine::new(&model, 3);
    let mut sc = engine.scratch();
    let (nk, h) = (model.commodities.len(), model.horizon);
    let mut zeros = vec![vec![0u64; h]; nk];
    for t in 0..trials {
        let out = engine.run_trial(t, &mut sc);
        for (k, row) in zeros.iter_mut().enumerate() {
            let f = out.figures(&engine, k);
            for (z, &x) in row.iter_mut().zip(&f.monthly_world) {
                *z += u64::from(x <= 0.0);
            }
        }
    }
    let mut some_zero = false;
    for (k, months) in result.acc.monthly.iter().enumerate() {
        for (t, band) in months.iter().enumerate() {
            assert_eq!(band.total(), trials, "commodity {k} month {t}");
            assert_eq!(band.zeros(), zeros[k][t], "commodity {k} month {t}");
            some_zero |= zeros[k][t] > 0 && zeros[k][t] < trials;
        }
    }
    assert!(some_zero, "no month mixes zero and non-zero trials");
}

#[test]
fn results_are_identical_for_any_thread_count() {
    let model = baseline();
    let run = |threads| {
        sim::run(
            &[&model],
            RunOptions {
                trials: 30_000,
                seed: 9,
                threads,
            },
            &|_| {},
        )
        .unwrap()[0]
            .metrics
            .clone()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    let other = sim::run(
        &[&model],
        RunOptions {
            trials: 30_000,
            seed: 10,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    assert_ne!(
        one, other[0].metrics,
        "a different seed gives different results"
    );
}

#[test]
fn trials_do_not_depend_on_each_other() {
    // Trial 777 gives the same figures whether or not others ran before it.
    let model = baseline();
    let engine = Engine::new(&model, 1);
    let mut a = engine.scratch();
    let mut b = engine.scratch();
    for t in 0..777 {
        engine.run_trial(t, &mut a);
    }
    let x = engine.run_trial(777, &mut a).clone();
    let y = engine.run_trial(777, &mut b).clone();
    for k in 0..model.commodities.len() {
        assert_eq!(x.figures(&engine, k), y.figures(&engine, k));
    }
}

/// A small market with random shares, a stockpile, an alliance and shocks.
fn market(cn: f64, au: f64, eu: f64, us: f64, spare: f64, div: f64, stock: f64) -> String {
    format!(
        r#"
[scenario]
name = "prop"
[[country]]
id = "CN"
name = "China"
[[country]]
id = "AU"
name = "Australia"
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = {eu} }}
stockpile_months = {{ x = {stock} }}
[[consumer]]
id = "US"
name = "US"
demand_share = {{ x = {us} }}
[[commodity]]
id = "x"
name = "X"
stages = ["mining", "refining"]
[commodity.producers.mining]
AU = {au}
[commodity.producers.refining]
CN = {cn}
[[shock]]
id = "cn-ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = 1.5
severity = {{ dist = "beta", alpha = 2.0, beta = 2.0 }}
duration_months = {{ dist = "exponential", mean = 4.0 }}
targets = ["EU"]
leakage = 0.1
[[shock]]
id = "au-quake"
kind = "disaster"
countries = ["AU"]
rate_per_year = 0.8
severity = {{ dist = "uniform", min = 0.2, max = 1.0 }}
duration_months = {{ dist = "lognormal", median = 3.0, sigma = 0.5 }}
[[alliance]]
id = "a"
members = ["AU", "EU", "US"]
spare_capacity = {spare}
diversion = {div}
ramp_months = 1.5
"#
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// More stockpile never raises any trial's shortfall, for any consumer.
    #[test]
    fn more_stockpile_never_raises_shortfall(
        cn in 0.1f64..0.9, au in 0.1f64..1.0, eu in 0.05f64..0.5, us in 0.0f64..0.45,
        spare in 0.0f64..0.5, div in 0.0f64..0.5, stock in 0.0f64..3.0, extra in 0.01f64..3.0,
    ) {
        let a = compile(&market(cn, au, eu, us, spare, div, stock));
        let b = compile(&market(cn, au, eu, us, spare, div, stock + extra));
        let (ea, eb) = (Engine::new(&a, 4), Engine::new(&b, 4));
        let (mut sa, mut sb) = (ea.scratch(), eb.scratch());
        for t in 0..300u64 {
            let fa = ea.run_trial(t, &mut sa).figures(&ea, 0).clone();
            let fb = eb.run_trial(t, &mut sb).figures(&eb, 0).clone();
            for i in 0..fa.shortfall.len() {
                prop_assert!(fb.shortfall[i] <= fa.shortfall[i] + 1e-12,
                    "trial {t} series {i}: {} > {}", fb.shortfall[i], fa.shortfall[i]);
            }
        }
    }

    /// Shortfalls are fractions in [0, 1], peaks bound the mean, and the world
    /// shortfall is the demand-weighted sum of the consumers'.
    #[test]
    fn figures_are_consistent(
        cn in 0.1f64..0.9, au in 0.1f64..1.0, eu in 0.05f64..0.5, us in 0.0f64..0.45,
        spare in 0.0f64..0.5, div in 0.0f64..0.5, stock in 0.0f64..3.0,
    ) {
        let m = compile(&market(cn, au, eu, us, spare, div, stock));
        let e = Engine::new(&m, 8);
        let mut sc = e.scratch();
        let cm = &m.commodities[0];
        for t in 0..300u64 {
            let f = e.run_trial(t, &mut sc).figures(&e, 0).clone();
            let mut world = 0.0;
            for i in 0..f.shortfall.len() {
                prop_assert!((0.0..=1.0).contains(&f.shortfall[i]));
                prop_assert!(f.shortfall[i] <= f.peak[i] + 1e-12);
                if i < cm.demand_rel.len() {
                    world += f.shortfall[i] * cm.demand_rel[i];
                }
            }
            let w = f.shortfall.len() - 1;
            prop_assert!((world - f.shortfall[w]).abs() < 1e-9);
        }
    }
}

#[test]
fn attribution_adds_up_to_each_trials_shortfall() {
    // Every trial, commodity and series: the parts sum to the shortfall.
    let model = baseline();
    let engine = Engine::new(&model, 21);
    let mut sc = engine.scratch();
    sc.attribute = true;
    let mut checked = 0;
    for t in 0..20_000u64 {
        let out = engine.run_trial(t, &mut sc);
        for k in 0..model.commodities.len() {
            let f = out.figures(&engine, k);
            let mut sums = vec![0.0; f.shortfall.len()];
            for part in out.attribution(&engine, k) {
                assert!(part.value > 0.0);
                sums[part.series as usize] += part.value;
            }
            for (i, (&got, &want)) in sums.iter().zip(&f.shortfall).enumerate() {
                assert!(
                    (got - want).abs() < 1e-9,
                    "trial {t}, {k}/{i}: parts {got} vs shortfall {want}"
                );
                checked += (want > 0.0) as usize;
            }
        }
    }
    assert!(checked > 1000, "too few short trials checked: {checked}");
}

#[test]
fn attribution_follows_the_supply_removed() {
    // Two scheduled events: a CN ban on the US (0.6 * 1.0 withheld from US)
    // and an AU outage (0.2 of supply, offered to all in proportion to demand).
    // US loses 0.6 * 0.3 = 0.18 to the ban and 0.2 * 0.3 = 0.06 to the outage.
    let model = compile(
        r#"
[scenario]
name = "attr"
[[country]]
id = "CN"
name = "China"
[[country]]
id = "AU"
name = "Australia"
[[consumer]]
id = "US"
name = "US"
demand_share = { x = 0.3 }
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.6
AU = 0.2
[[event]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
targets = ["US"]
[[event]]
id = "au-out"
kind = "disaster"
countries = ["AU"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
"#,
    );
    let engine = Engine::new(&model, 0);
    let parts = &engine.cached_attrib[0];
    let us: Vec<_> = parts.iter().filter(|p| p.series == 0).collect();
    let by = |src: &str| {
        us.iter()
            .filter(|p| engine.sources[p.source as usize] == src)
            .map(|p| p.value)
            .sum::<f64>()
    };
    // shortfall of US = 0.24 / 0.3 = 0.8: 0.6 from the ban, 0.2 from the outage
    assert!((by("ban") - 0.6).abs() < 1e-12, "{}", by("ban"));
    assert!((by("au-out") - 0.2).abs() < 1e-12, "{}", by("au-out"));
}
