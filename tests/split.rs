//! Attribution splits each month's shortfall over the hits in proportion to
//! their weights; the engine splits a stretch of months with the same
//! weights at once. Every part of every trial agrees with the month-by-month
//! split to rounding, on the bundled baseline and on a scenario with long
//! events (where stretches are long).

use crmsim::engine::{Engine, TrialOutput};
use crmsim::model::Model;

mod common;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// Runs `trials` trials both ways; returns how many parts were compared and
/// how many differ in their bits.
fn compare(model: &Model, trials: u64) -> (usize, usize) {
    let engine = Engine::new(model, 5);
    let (mut a, mut b) = (engine.scratch(), engine.scratch());
    a.attribute = true;
    b.attribute = true;
    b.split_monthly = true;
    let (mut parts, mut differ) = (0, 0);
    for trial in 0..trials {
        let x: TrialOutput = engine.run_trial(trial, &mut a).clone();
        let y = engine.run_trial(trial, &mut b);
        assert_eq!(x.touched, y.touched);
        for k in (0..x.touched.len()).filter(|&k| x.touched[k]) {
            assert_eq!(x.figures[k], y.figures[k], "trial {trial} commodity {k}");
            let at = format!("trial {trial} commodity {k}");
            parts += x.attrib[k].len();
            differ += common::assert_parts_agree(&x.attrib[k], &y.attrib[k], close, &at);
        }
    }
    (parts, differ)
}

#[test]
fn stretch_split_equals_month_by_month_split_on_the_baseline() {
    let model = common::baseline();
    let (parts, _) = compare(&model, 3_000);
    assert!(parts > 10_000, "only {parts} parts");
}

#[test]
fn stretch_split_equals_month_by_month_split_with_long_events() {
    let model = common::compile(
        r#"
[scenario]
name = "long-events"
horizon_months = 120
[[country]]
id = "CN"
name = "China"
[[country]]
id = "AU"
name = "Australia"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { x = 0.4 }
stockpile_months = { x = 2.0 }
[[consumer]]
id = "US"
name = "US"
demand_share = { x = 0.3 }
[[commodity]]
id = "x"
name = "X"
stages = ["mining", "refining"]
[commodity.producers.mining]
AU = 0.5
[commodity.producers.refining]
CN = 0.6
[[shock]]
id = "cn-ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = 0.3
severity = { dist = "uniform", min = 0.3, max = 1.0 }
duration_months = { dist = "uniform", min = 12.0, max = 60.0 }
targets = ["US"]
leakage = 0.1
[[shock]]
id = "au-strike"
kind = "disaster"
countries = ["AU"]
rate_per_year = 0.3
severity = { dist = "uniform", min = 0.2, max = 0.9 }
duration_months = { dist = "uniform", min = 6.0, max = 48.0 }
"#,
    );
    let (parts, differ) = compare(&model, 2_000);
    assert!(parts > 1_000, "only {parts} parts");
    // Long stretches are split at once, so some parts differ in their last bits.
    assert!(differ > 0, "no part of {parts} differs in its bits");
}
