//! Strategies (docs/model.md §6): common random numbers, paired confidence
//! intervals, attribution totals, and the `compare` command end to end.

use std::path::PathBuf;

use crmsim::compare::{self, Strategy};
use crmsim::engine::Engine;
use crmsim::model::Model;
use crmsim::scenario::{self, Source};
use crmsim::sim::{self, RunOptions};

mod common;
use common::crmsim;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn baseline_source() -> Source {
    scenario::load(&root().join("scenarios/baseline.toml")).expect("baseline parses")
}

fn compile(src: &Source) -> Model {
    Model::compile(&src.display, &src.scenario).expect("valid")
}

/// Strategies from a bundled strategy file, compiled.
fn strategies(src: &Source, file: &str) -> Vec<Strategy> {
    src.strategies_from_file(&root().join("scenarios/strategies").join(file))
        .expect("strategy file applies")
        .into_iter()
        .map(|s| Strategy::compile(s).expect("patched scenario valid"))
        .collect()
}

/// A strategy that patches a scenario with `patch` ([[strategy]] tables).
fn inline_strategy(src: &Source, patch: &str) -> Strategy {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, patch).unwrap();
    let s = src.strategies_from_file(&path).expect("applies").remove(0);
    Strategy::compile(s).expect("valid")
}

fn opts(trials: u64, threads: usize) -> RunOptions {
    RunOptions {
        trials,
        seed: 42,
        threads,
    }
}

#[test]
fn a_strategy_that_changes_nothing_gives_zero_difference_in_every_trial() {
    let src = baseline_source();
    let base = compile(&src);
    // a patch that sets a value to what it already is
    let same = inline_strategy(
        &src,
        "[[strategy]]\nid = \"same\"\n[[strategy.alliance]]\nid = \"msp\"\n",
    );
    let out = compare::evaluate(&base, &[same], opts(20_000, 2), &|_| {}).unwrap();
    assert_eq!(out.results[0].metrics, out.results[1].metrics);
    for r in &out.comparison.unwrap().rows {
        assert_eq!(r.mean_reduction, 0.0);
        assert_eq!(
            r.mean_reduction_ci,
            [0.0, 0.0],
            "{} {}",
            r.commodity,
            r.consumer
        );
        assert_eq!(r.cvar95_reduction_ci, [0.0, 0.0]);
        assert_eq!((r.prob_better, r.prob_worse), (0.0, 0.0));
    }
}

#[test]
fn changing_one_shock_leaves_every_other_shocks_events_unchanged() {
    let src = baseline_source();
    let base = compile(&src);
    let changed = inline_strategy(
        &src,
        "[[strategy]]\nid = \"x\"\n[[strategy.shock]]\nid = \"cd-conflict\"\nrate_per_year = 2.0\nseverity = { dist = \"uniform\", min = 0.1, max = 0.9 }\n",
    );
    let (eb, es) = (Engine::new(&base, 7), Engine::new(&changed.model, 7));
    let (mut sb, mut ss) = (eb.scratch(), es.scratch());
    let key = |e: &Engine, h: &crmsim::engine::Hit| {
        (
            e.sources[h.source as usize].clone(),
            h.start.to_bits(),
            h.end.to_bits(),
            h.sev.to_bits(),
            h.producer,
            h.stage,
        )
    };
    let mut differing = 0;
    for t in 0..5_000u64 {
        eb.draw_events(t, &mut sb);
        es.draw_events(t, &mut ss);
        for k in 0..base.commodities.len() {
            let other = |e: &Engine, hits: &[crmsim::engine::Hit]| {
                let mut v: Vec<_> = hits
                    .iter()
                    .map(|h| key(e, h))
                    .filter(|x| x.0 != "cd-conflict")
                    .collect();
                v.sort();
                v
            };
            assert_eq!(
                other(&eb, eb.last_hits(&sb, k)),
                other(&es, es.last_hits(&ss, k)),
                "trial {t}"
            );
            differing += (eb.last_hits(&sb, k).len() != es.last_hits(&ss, k).len()) as usize;
        }
    }
    assert!(differing > 0, "the changed shock itself should differ");
}

#[test]
fn comparison_is_identical_for_any_thread_count() {
    let src = baseline_source();
    let base = compile(&src);
    let st = strategies(&src, "eu-stockpile.toml");
    let a = compare::evaluate(&base, &st, opts(12_000, 1), &|_| {}).unwrap();
    let b = compare::evaluate(&base, &st, opts(12_000, 2), &|_| {}).unwrap();
    assert_eq!(a.comparison, b.comparison);
    assert_eq!(a.attribution, b.attribution);
}

#[test]
fn a_stockpile_only_strategy_never_raises_any_trials_shortfall() {
    let src = baseline_source();
    let base = compile(&src);
    let st = strategies(&src, "eu-stockpile.toml").remove(0);
    let (eb, es) = (Engine::new(&base, 3), Engine::new(&st.model, 3));
    let (mut sb, mut ss) = (eb.scratch(), es.scratch());
    let mut lower = 0;
    for t in 0..20_000u64 {
        let ob = eb.run_trial(t, &mut sb).clone();
        let os = es.run_trial(t, &mut ss);
        for k in 0..base.commodities.len() {
            let (fb, fs) = (ob.figures(&eb, k), os.figures(&es, k));
            for i in 0..fb.shortfall.len() {
                assert!(
                    fs.shortfall[i] <= fb.shortfall[i] + 1e-12,
                    "trial {t} commodity {k} series {i}"
                );
                lower += (fs.shortfall[i] < fb.shortfall[i]) as usize;
            }
        }
    }
    assert!(lower > 0, "the stockpile should help somewhere");
}

#[test]
fn attribution_adds_up_to_the_mean_and_the_tail() {
    let src = baseline_source();
    let base = compile(&src);
    let out = compare::evaluate(&base, &[], opts(20_000, 2), &|_| {}).unwrap();
    assert!(out.comparison.is_none());
    for row in &out.attribution.rows {
        for parts in [&row.by_source, &row.by_country, &row.by_kind] {
            let mean: f64 = parts.iter().map(|p| p.mean).sum();
            let tail: f64 = parts.iter().map(|p| p.tail).sum();
            assert!(
                (mean - row.mean).abs() < 1e-9,
                "{} {}: {mean} vs {}",
                row.commodity,
                row.consumer,
                row.mean
            );
            assert!((tail - row.tail_total).abs() < 1e-9);
        }
    }
    // The tail total is the cvar95 up to the histogram's resolution.
    let ids = crmsim::report::series_ids(&base);
    for row in &out.attribution.rows {
        let k = base
            .commodities
            .iter()
            .position(|c| c.id == row.commodity)
            .unwrap();
        let i = ids.iter().position(|c| *c == row.consumer).unwrap();
        let cvar = out.results[0].metrics[k][i].cvar95;
        assert!(
            (row.tail_total - cvar).abs() < 2e-3,
            "{} {}: tail {} vs cvar95 {cvar}",
            row.commodity,
            row.consumer,
            row.tail_total
        );
    }
}

#[test]
fn paired_intervals_are_narrower_than_independent_ones() {
    // The same stockpile strategy, evaluated (a) on common random numbers and
    // (b) as two independent runs with different seeds.
    let src = baseline_source();
    let base = compile(&src);
    let st = strategies(&src, "eu-stockpile.toml");
    let n = 20_000;
    let paired = compare::evaluate(&base, &st, opts(n, 2), &|_| {}).unwrap();
    let b = sim::run(
        &[&base],
        RunOptions {
            trials: n,
            seed: 1,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let s = sim::run(
        &[&st[0].model],
        RunOptions {
            trials: n,
            seed: 2,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let k = base
        .commodities
        .iter()
        .position(|c| c.id == "rare_earths")
        .unwrap();
    let world = crmsim::report::series_ids(&base).len() - 1;
    let row = paired
        .comparison
        .unwrap()
        .rows
        .into_iter()
        .find(|r| r.commodity == "rare_earths" && r.consumer == "world")
        .unwrap();
    let paired_half = (row.mean_reduction_ci[1] - row.mean_reduction_ci[0]) / 2.0;
    let (mb, ms) = (&b[0].metrics[k][world], &s[0].metrics[k][world]);
    let independent_half = compare::Z95 * (mb.mean_se.powi(2) + ms.mean_se.powi(2)).sqrt();
    eprintln!(
        "rare earths, world, {n} trials: paired 95% half-width {paired_half:.6}, independent {independent_half:.6} (ratio {:.2})",
        independent_half / paired_half
    );
    // the stockpile changes the world figure little while both runs vary a
    // lot: pairing removes the common variation
    assert!(paired_half * 3.0 < independent_half);
}

#[test]
fn compare_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = crmsim()
        .args(["compare", "--trials", "2000", "--no-figures", "--out"])
        .arg(dir.path())
        .arg("--strategy")
        .arg(root().join("scenarios/strategies/eu-stockpile.toml"))
        .arg("--strategy")
        .arg(root().join("scenarios/strategies/msp-surge.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Strategies against the base",
        "eu-stockpile",
        "msp-surge",
        "d.cvar95 [95% CI]",
        "frontier",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    let strategies: std::collections::BTreeSet<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(
        strategies.into_iter().collect::<Vec<_>>(),
        vec!["base", "eu-stockpile", "msp-surge"]
    );
    assert!(v["comparison"]["rows"].as_array().unwrap().len() > 10);
    assert!(v["attribution"]["rows"].as_array().unwrap().len() > 10);
    let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("eu-stockpile,")));
}

#[test]
fn run_evaluates_strategies_written_in_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(root().join("scenarios/baseline.toml")).unwrap();
    text.push_str(
        &std::fs::read_to_string(root().join("scenarios/strategies/diversify.toml")).unwrap(),
    );
    let file = dir.path().join("with-strategy.toml");
    std::fs::write(&file, text).unwrap();
    let out = crmsim()
        .args([
            "run",
            "--trials",
            "1000",
            "--quiet",
            "--no-figures",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["strategy"] == "diversify")
    );
    assert!(v["comparison"].is_object());
}

#[test]
fn bad_strategy_files_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[strategy]]\nid = \"s\"\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_months = { cobalt = -1.0 }\n",
            "stockpile_months.cobalt",
        ),
        (
            "[[strategy]]\nid = \"s\"\n[strategy.scenario]\ntrials = 5\n",
            "scenario.trials",
        ),
        (
            "[[strategy]]\nid = \"s\"\nbudget = 3\n",
            "unknown field `budget`",
        ),
        (
            "[[strategy]]\nid = \"s\"\n[[strategy.shock]]\nid = \"nope\"\nremove = true\n",
            "no such entry",
        ),
        (
            "[[strategy]]\nid = \"s\"\ncost_per_year = -5.0\n",
            "cost_per_year",
        ),
        (
            "[[strategy]]\nid = \"s\"\n[[strategy.commodity]]\nid = \"cobalt\"\n[strategy.commodity.producers.mining]\nAU = 0.9\n",
            "sum to",
        ),
        (
            "[[country]]\nid = \"XX\"\nname = \"x\"\n",
            "unknown field `country`",
        ),
        (
            "[[strategy]]\nid = \"s\"\n[[strategy]]\nid = \"s\"\n",
            "twice",
        ),
        ("[[strategy]\nid = \"s\"\n", "line 1"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = crmsim()
            .args([
                "compare",
                "--trials",
                "100",
                "--quiet",
                "--no-figures",
                "--out",
            ])
            .arg(dir.path().join("out"))
            .arg("--strategy")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {stderr}");
        assert!(
            stderr.contains(&format!("bad{i}.toml")),
            "case {i} names the file: {stderr}"
        );
        assert!(stderr.contains(want), "case {i} wants {want:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"));
    }
    // compare with no strategies at all
    let out = crmsim()
        .args(["compare", "--trials", "100", "--quiet", "--no-figures"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `n` strategies numbered from `first`, each a different EU gallium stockpile.
fn many_strategies(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| {
            format!(
                "[[strategy]]\nid = \"s{i}\"\n[[strategy.consumer]]\nid = \"EU\"\n\
                 stockpile_months = {{ gallium = {} }}\n",
                1.0 + i as f64 / 100.0
            )
        })
        .collect()
}

/// More than 100 strategies, in one file or over several, are refused before
/// any is compiled, naming the file (and the first strategy too many); 100
/// are accepted.
#[test]
fn more_than_100_strategies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let compare = |files: &[&PathBuf]| {
        let mut cmd = crmsim();
        cmd.args(["compare", "--trials", "10", "--quiet", "--no-figures"])
            .arg("--out")
            .arg(dir.path().join("out"));
        for f in files {
            cmd.arg("--strategy").arg(f);
        }
        cmd.output().unwrap()
    };
    let one = write("one.toml", many_strategies(0, 101));
    let out = compare(&[&one]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("one.toml: holds 101 strategies; a run or comparison takes at most 100"),
        "{err}"
    );
    let (a, b) = (
        write("a.toml", many_strategies(0, 60)),
        write("b.toml", many_strategies(60, 60)),
    );
    let out = compare(&[&a, &b]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("b.toml: [[strategy]] id \"s100\": is strategy 101 of 120"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists());
    let scenario = std::fs::read_to_string(root().join("scenarios/baseline.toml")).unwrap();
    let hundred = write("hundred.toml", scenario + &many_strategies(0, 100));
    let out = crmsim().arg("validate").arg(&hundred).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
