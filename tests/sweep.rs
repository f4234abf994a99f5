//! `sweep`: tornado order on known sensitivities, a target where a closed
//! form puts it, grid monotonicity, common random numbers (a point equal to
//! the base gives the base's figures), thread invariance, CIs against a
//! closed form, and the command line with every error path.

mod common;

use crmsim::model::Model;
use crmsim::report::sweep::SweepReport;
use crmsim::scenario::{self, Source};
use crmsim::sim::{self, RunOptions};
use crmsim::sweep::{Metric, Mode, Plan, Selection, Target, Vary};

/// EU takes half of commodity `a`, all of it mined in CN. A scheduled ban
/// withholds 80% of CN's exports to the EU for the first 6 months of 12, so
/// the EU's mean shortfall is 0.8 * 6 / 12 = 0.4 in every trial; a random
/// conflict (off unless a test raises its rate) adds noise.
const CASE: &str = r#"
[scenario]
name = "sweep-case"
horizon_months = 12
trials = 1000
seed = 7
[[country]]
id = "CN"
name = "China"
governance = -0.5
[[consumer]]
id = "EU"
name = "European Union"
demand_share = { a = 0.5 }
[[commodity]]
id = "a"
name = "Alpha"
[commodity.producers.production]
CN = 1.0
[[event]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
start_month = 0.0
duration_months = 6.0
severity = 0.8
targets = ["EU"]
[[shock]]
id = "war"
kind = "conflict"
countries = ["CN"]
rate_per_year = 0.0
severity = { dist = "uniform", min = 0.1, max = 0.5 }
duration_months = { dist = "uniform", min = 1.0, max = 4.0 }
"#;

fn source(text: &str) -> Source {
    scenario::parse_bytes("case.toml", text.as_bytes()).unwrap()
}

fn opts(trials: u64, threads: usize) -> RunOptions {
    RunOptions {
        trials,
        seed: 7,
        threads,
    }
}

/// Runs a sweep of `text` following the EU's `metric` for commodity `a`.
fn sweep(text: &str, vary: &[&str], metric: Metric, mode: Mode, o: RunOptions) -> SweepReport {
    let src = source(text);
    let model = Model::compile(&src.display, &src.scenario).unwrap();
    let varies = vary
        .iter()
        .map(|v| Vary::parse(v, &src.raw).unwrap())
        .collect();
    let sel = Selection {
        metric,
        commodities: vec![0],
        series: 0,
    };
    let plan = Plan::new(&src, &model, varies, sel, mode).unwrap_or_else(|e| panic!("{e}"));
    plan.run(o, &src.sha256, &|_| {}).unwrap()
}

#[test]
fn tornado_orders_inputs_by_their_exact_swings() {
    let r = sweep(
        CASE,
        &[
            "country.CN.governance=-2..2",
            "event.ban.severity=0.4..1.0",
            "consumer.EU.stockpile_months.a=0..1",
            "event.ban.duration_months=3..9",
        ],
        Metric::Mean,
        Mode::Tornado,
        opts(300, 2),
    );
    let rows = r.tornado.as_ref().unwrap();
    let paths: Vec<&str> = rows.iter().map(|t| t.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "event.ban.duration_months",
            "event.ban.severity",
            "consumer.EU.stockpile_months.a",
            "country.CN.governance"
        ]
    );
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    // duration 3..9: 0.8 * D / 12; severity 0.4..1: s * 6 / 12;
    // one month of stock covers 1 of the 4.8 months of lost supply.
    let want = [(0.2, 0.6), (0.2, 0.5), (0.4, 3.8 / 12.0), (0.4, 0.4)];
    for (t, (lo, hi)) in rows.iter().zip(want) {
        assert!(close(t.at_low, lo) && close(t.at_high, hi), "{t:?}");
        assert!(close(t.swing, (hi - lo).abs()));
    }
    assert!(close(r.bases[0].metric, 0.4));
    assert_eq!(r.base, serde_json::json!(r.bases[0].metric));
}

#[test]
fn target_is_found_where_the_closed_form_puts_it() {
    // A full outage of all the EU's supply for O = 6 of H = 12 months: with
    // S months of stock the mean shortfall is (O - S) / H, so it reaches
    // X = 0.1 at S = O - X * H = 4.8 months.
    let text = CASE.replace("severity = 0.8", "severity = 1.0");
    let t = Target::parse("mean<=0.1").unwrap();
    let r = sweep(
        &text,
        &["consumer.EU.stockpile_months.a=0..6"],
        Metric::Mean,
        Mode::Target(t),
        opts(200, 2),
    );
    let row = r.target.as_ref().unwrap();
    let v = row.value.unwrap();
    assert_eq!(row.status, "found");
    assert!(row.met && row.monotone);
    assert!((row.tolerance - 0.006).abs() < 1e-12);
    assert!(
        v >= 4.8 - 1e-9 && v - 4.8 <= row.tolerance,
        "{v} vs 4.8 within {}",
        row.tolerance
    );
    assert!(row.metric <= 0.1);
    // ">=" on the same path: the boundary from the other side
    let t = Target::parse("mean>=0.25").unwrap();
    let r = sweep(
        &text,
        &["consumer.EU.stockpile_months.a=0..6"],
        Metric::Mean,
        Mode::Target(t),
        opts(200, 1),
    );
    let v = r.target.as_ref().unwrap().value.unwrap();
    assert!(v <= 3.0 + 1e-9 && 3.0 - v <= 0.006, "{v}");
}

#[test]
fn target_met_everywhere_or_nowhere_says_so() {
    let t = Target::parse("mean<=0.9").unwrap();
    let r = sweep(
        CASE,
        &["consumer.EU.stockpile_months.a=0..6"],
        Metric::Mean,
        Mode::Target(t),
        opts(100, 1),
    );
    let row = r.target.clone().unwrap();
    // met at 0 months already: the boundary is below the range
    assert_eq!(
        (row.status.as_str(), row.met, row.value),
        ("met_everywhere", true, Some(0.0))
    );
    assert!(r.render().contains("met everywhere"));
    let t = Target::parse("mean<=0.01").unwrap();
    let r = sweep(
        CASE,
        &["consumer.EU.stockpile_months.a=0..2"],
        Metric::Mean,
        Mode::Target(t),
        opts(100, 1),
    );
    let row = r.target.as_ref().unwrap();
    assert_eq!(
        (row.status.as_str(), row.met, row.value),
        ("met_nowhere", false, None)
    );
    // at its best (2 months): (4.8 - 2) / 12
    assert!((row.metric - 2.8 / 12.0).abs() < 1e-12);
    assert!(r.render().contains("met nowhere"));
}

/// `stockout_prob` along the EU's stockpile is 0 without a stock, 1 while
/// the stock is smaller than the 4.8 months of supply the ban withholds,
/// and 0 again beyond: not monotone, which the answer must say.
#[test]
fn target_says_when_the_metric_is_not_monotone() {
    let t = Target::parse("stockout_prob<=0.5").unwrap();
    let r = sweep(
        CASE,
        &["consumer.EU.stockpile_months.a=0..6"],
        Metric::StockoutProb,
        Mode::Target(t),
        opts(100, 1),
    );
    let row = r.target.as_ref().unwrap();
    assert!(!row.monotone, "{row:?}");
    // the first boundary: met at 0 months, not at 0.75
    assert_eq!(row.status, "found");
    assert!(row.value.unwrap() < 0.75 && row.metric <= 0.5, "{row:?}");
    assert!(r.render().contains("is not monotone"), "{}", r.render());
    // the same search over the part where it is monotone gives no warning
    let r = sweep(
        CASE,
        &["consumer.EU.stockpile_months.a=1..6"],
        Metric::StockoutProb,
        Mode::Target(t),
        opts(100, 1),
    );
    let row = r.target.as_ref().unwrap();
    assert!(row.monotone, "{row:?}");
    assert!(!r.render().contains("not monotone"));
    assert!((row.value.unwrap() - 4.8).abs() <= row.tolerance + 1e-9);
}

/// A random conflict on top of the ban: the grid over stockpile and ban
/// severity is monotone in each direction on common random numbers.
#[test]
fn grid_is_monotone_along_each_input() {
    let text = CASE.replace("rate_per_year = 0.0", "rate_per_year = 1.5");
    let r = sweep(
        &text,
        &[
            "consumer.EU.stockpile_months.a=0..3:4",
            "event.ban.severity=0.2..1:3",
        ],
        Metric::Mean,
        Mode::Grid,
        opts(2000, 2),
    );
    assert_eq!(r.points.len(), 12);
    let at = |s: f64, v: f64| {
        r.points
            .iter()
            .find(|p| {
                (p.values["consumer.EU.stockpile_months.a"] - s).abs() < 1e-9
                    && (p.values["event.ban.severity"] - v).abs() < 1e-9
            })
            .map(|p| p.metric)
            .unwrap()
    };
    for v in [0.2, 0.6, 1.0] {
        let ms: Vec<f64> = [0.0, 1.0, 2.0, 3.0].iter().map(|&s| at(s, v)).collect();
        assert!(ms.windows(2).all(|w| w[1] <= w[0]), "{ms:?}");
        assert!(ms[0] > ms[3]);
    }
    for s in [0.0, 1.0, 2.0, 3.0] {
        let ms: Vec<f64> = [0.2, 0.6, 1.0].iter().map(|&v| at(s, v)).collect();
        assert!(ms.windows(2).all(|w| w[1] >= w[0]), "{ms:?}");
    }
}

/// A point equal to the base gives exactly the base's figures (and those of
/// a plain run), with a zero-width paired interval; other points are paired.
#[test]
fn point_equal_to_base_gives_the_base_exactly() {
    let text = CASE.replace("rate_per_year = 0.0", "rate_per_year = 2.0");
    for metric in [Metric::Mean, Metric::Cvar(95), Metric::Quantile(950)] {
        let r = sweep(
            &text,
            &[
                "shock.war.rate_per_year=2..3",
                "shock.war.severity.max=0.2..0.5",
            ],
            metric,
            Mode::Tornado,
            opts(3000, 2),
        );
        let base = r.bases[0].metric;
        let rows = r.tornado.unwrap();
        let rate = rows
            .iter()
            .find(|t| t.path == "shock.war.rate_per_year")
            .unwrap();
        assert_eq!(rate.at_low.to_bits(), base.to_bits());
        assert_eq!(rate.change_low_ci, [0.0, 0.0]);
        let sev = rows
            .iter()
            .find(|t| t.path == "shock.war.severity.max")
            .unwrap();
        assert_eq!(sev.at_high.to_bits(), base.to_bits());
        assert!(rate.change_high_ci[1] > rate.change_high_ci[0]);
        // the base of a sweep is the base of a run
        let src = source(&text);
        let model = Model::compile(&src.display, &src.scenario).unwrap();
        let run = sim::run(&[&model], opts(3000, 3), &|_| {}).unwrap();
        assert_eq!(
            metric.value(&run[0].metrics[0][0]).to_bits(),
            base.to_bits()
        );
    }
}

/// Same results, bit for bit, for any thread count.
#[test]
fn results_do_not_depend_on_threads() {
    let text = CASE.replace("rate_per_year = 0.0", "rate_per_year = 2.0");
    let run = |threads| {
        let mut r = sweep(
            &text,
            &[
                "shock.war.rate_per_year=0.5..4:3",
                "consumer.EU.stockpile_months.a=0..2:2",
            ],
            Metric::Cvar(95),
            Mode::Grid,
            opts(5000, threads),
        );
        r.run.seconds = 0.0;
        r.run.threads = 0;
        String::from_utf8(r.to_json().unwrap()).unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

/// prob_any of a Poisson shock is 1 - exp(-rate): the sweep's value lies
/// within 4 of its standard errors (the CI half-width / 1.96) of it.
#[test]
fn confidence_intervals_cover_the_closed_form() {
    let text = CASE
        .replace("rate_per_year = 0.0", "rate_per_year = 0.5")
        .replace("severity = 0.8", "severity = 0.0");
    let r = sweep(
        &text,
        &["shock.war.rate_per_year=0.2..1.2:3"],
        Metric::Prob(0),
        Mode::Grid,
        opts(4000, 2),
    );
    for p in &r.points {
        let rate = p.values["shock.war.rate_per_year"];
        let want = 1.0 - (-rate).exp();
        let ci = p.ci.unwrap();
        let se = (ci[1] - ci[0]) / (2.0 * 1.959963984540054);
        let exact = (want * (1.0 - want) / 4000.0).sqrt();
        assert!(
            (p.metric - want).abs() <= 4.0 * se,
            "{rate}: {} vs {want}",
            p.metric
        );
        assert!((se / exact - 1.0).abs() < 0.1, "se {se} vs {exact}");
    }
}

#[test]
fn bad_values_are_refused_before_any_simulation() {
    let src = source(CASE);
    let model = Model::compile(&src.display, &src.scenario).unwrap();
    let sel = Selection {
        metric: Metric::Mean,
        commodities: vec![0],
        series: 0,
    };
    let v = Vary::parse("consumer.EU.demand_share.a=0.5..1.5", &src.raw).unwrap();
    let err = match Plan::new(&src, &model, vec![v], sel, Mode::Tornado) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted shares over 1"),
    };
    assert!(err.contains("consumer.EU.demand_share.a = 1.5"), "{err}");
    assert!(err.contains("demand_share"), "{err}");
}

/// The progress reported covers every model-trial run, and the plan's
/// announced total is exact for a tornado or grid and an upper bound for
/// a target.
#[test]
fn progress_covers_all_points() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let text = CASE.replace("rate_per_year = 0.0", "rate_per_year = 1.0");
    let src = source(&text);
    let model = Model::compile(&src.display, &src.scenario).unwrap();
    let cases: Vec<(Vec<&str>, Metric, Mode)> = vec![
        (
            vec!["shock.war.rate_per_year=0.5..2", "event.ban.severity=0..1"],
            Metric::Cvar(95),
            Mode::Tornado,
        ),
        (
            vec!["shock.war.rate_per_year=0.5..2:4"],
            Metric::Mean,
            Mode::Grid,
        ),
        (
            vec!["consumer.EU.stockpile_months.a=0..6"],
            Metric::Quantile(950),
            Mode::Target(Target::parse("p95<=0.2").unwrap()),
        ),
    ];
    for (vary, metric, mode) in cases {
        let exact = !matches!(mode, Mode::Target(_));
        let varies = vary
            .iter()
            .map(|v| Vary::parse(v, &src.raw).unwrap())
            .collect();
        let sel = Selection {
            metric,
            commodities: vec![0],
            series: 0,
        };
        let plan = Plan::new(&src, &model, varies, sel, mode).unwrap();
        let o = opts(500, 2);
        let done = AtomicU64::new(0);
        let r = plan
            .run(o, &src.sha256, &|n| {
                done.fetch_add(n, Ordering::Relaxed);
            })
            .unwrap();
        let done = done.into_inner();
        assert_eq!(done, r.run.model_runs as u64 * 500);
        if exact {
            assert_eq!(done, plan.work(o));
        } else {
            assert!(done <= plan.work(o), "{done} > {}", plan.work(o));
        }
    }
}
