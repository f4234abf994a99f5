//! A trial resumes each commodity from its scheduled-only run at the first
//! month a drawn event touches it. Resumed or simulated from month 0, every
//! figure and attribution part of every trial agrees to rounding, and the
//! discrete figures exactly; resuming is what happens in the bundled
//! baseline, whose scheduled measures cover the whole horizon.

use crmsim::engine::Engine;
use crmsim::model::Model;
use crmsim::scenario;

mod common;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300) || (a - b).abs() < 1e-15
}

#[test]
fn resumed_trials_equal_trials_simulated_from_month_zero() {
    let src = scenario::load_or_baseline(None).unwrap();
    let model = Model::compile(&src.display, &src.scenario).unwrap();
    let resumed = Engine::new(&model, 11);
    let mut full = Engine::new(&model, 11);
    full.forget_snapshots();
    let (mut a, mut b) = (resumed.scratch(), full.scratch());
    a.attribute = true;
    b.attribute = true;
    let mut differ_in_bits = 0;
    let mut simulated = 0;
    for trial in 0..4_000 {
        let (x, y) = (
            resumed.run_trial(trial, &mut a),
            full.run_trial(trial, &mut b),
        );
        assert_eq!(x.touched, y.touched);
        for k in (0..x.touched.len()).filter(|&k| x.touched[k]) {
            simulated += 1;
            let (f, g) = (&x.figures[k], &y.figures[k]);
            assert_eq!(
                f.months_short, g.months_short,
                "trial {trial} commodity {k}"
            );
            assert_eq!(f.stockout, g.stockout, "trial {trial} commodity {k}");
            let values = |f: &crmsim::engine::Figures| {
                [&f.shortfall[..], &f.peak[..], &f.monthly_world[..]].concat()
            };
            for (p, q) in values(f).into_iter().zip(values(g)) {
                assert!(close(p, q), "trial {trial} commodity {k}: {p} vs {q}");
            }
            differ_in_bits += usize::from(f != g);
            let at = format!("trial {trial} commodity {k}");
            common::assert_parts_agree(&x.attrib[k], &y.attrib[k], close, &at);
        }
    }
    assert!(
        simulated > 5_000,
        "only {simulated} commodity-trials simulated"
    );
    // Rounding differences, if any, are rare.
    assert!(
        differ_in_bits * 100 < simulated,
        "{differ_in_bits} of {simulated}"
    );
}
