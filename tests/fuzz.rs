//! Bounded fuzzing of the loader, the validator, the strategy patcher and
//! `plot`'s summary reader, run by `cargo test` for a fixed number of
//! generated cases (proptest, deterministic seed). For every generated
//! scenario and strategy file the outcome is what the CLI would turn into
//! exit 0 or exit 2 (never a panic, never exit 1); on success every figure
//! of the summary is finite and in its range ([0, 1] for shares and
//! probabilities). Generated summaries are either refused in plain words
//! (exit 2) or drawn without a panic.
//!
//! Rates, regime factors and demand scales are kept in ordinary ranges:
//! their extreme values are bounded by the validator separately.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crmsim::compare::{self, Strategy as Plan};
use crmsim::error::Error;
use crmsim::model::Model;
use crmsim::report::Summary;
use crmsim::{results, scenario, sim};

/// A number as TOML: ordinary values, or (when `wild`) also edges and extremes.
fn number_of(wild: bool) -> BoxedStrategy<String> {
    if !wild {
        return prop_oneof![
            3 => (0.0f64..0.3).prop_map(|x| format!("{x:?}")),
            1 => (0.0f64..30.0).prop_map(|x| format!("{x:?}")),
        ]
        .boxed();
    }
    prop_oneof![
        24 => (0.0f64..0.3).prop_map(|x| format!("{x:?}")),
        8 => (0.0f64..30.0).prop_map(|x| format!("{x:?}")),
        1 => Just("0.0".to_string()),
        1 => Just("1.0".to_string()),
        1 => Just("-1.0".to_string()),
        1 => Just("1e308".to_string()),
        1 => Just("-1e308".to_string()),
        1 => Just("5e-324".to_string()),
        1 => Just("1e-200".to_string()),
        1 => Just("nan".to_string()),
        1 => Just("inf".to_string()),
        1 => Just("9223372036854775807".to_string()),
        1 => Just("\"text\"".to_string()),
    ]
    .boxed()
}

/// Ordinary values, edges and extremes.
fn number() -> BoxedStrategy<String> {
    number_of(true)
}

/// A severity or duration: a number or a distribution table.
fn dist_of(wild: bool) -> impl Strategy<Value = String> {
    let kinds = prop_oneof![
        Just(("fixed", 1)),
        Just(("uniform", 2)),
        Just(("triangular", 3)),
        Just(("pert", 3)),
        Just(("beta", 2)),
        Just(("lognormal", 2)),
        Just(("exponential", 1)),
        Just(("gamma", 2)),
        Just(("normal", 2)),
    ];
    prop_oneof![
        1 => number_of(wild),
        3 => (kinds, prop::collection::vec(number_of(wild), 3)).prop_map(|((kind, n), ps)| {
            let names: &[&str] = match kind {
                "fixed" => &["value"],
                "uniform" => &["min", "max"],
                "triangular" | "pert" => &["min", "mode", "max"],
                "beta" => &["alpha", "beta"],
                "lognormal" => &["median", "sigma"],
                "exponential" => &["mean"],
                "gamma" => &["shape", "scale"],
                _ => &["mean", "sd"],
            };
            let params: Vec<String> = names
                .iter()
                .zip(&ps)
                .take(n)
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            format!("{{ dist = \"{kind}\", {} }}", params.join(", "))
        }),
    ]
}

fn dist() -> impl Strategy<Value = String> {
    dist_of(true)
}

/// A rate in an ordinary range (huge rates are the validator's to bound).
fn rate(wild: bool) -> BoxedStrategy<String> {
    if !wild {
        return (0.0f64..3.0).prop_map(|x| format!("{x:?}")).boxed();
    }
    prop_oneof![
        (0.0f64..3.0).prop_map(|x| format!("{x:?}")),
        Just("0.0".to_string()),
        Just("-0.5".to_string()),
    ]
    .boxed()
}

const KINDS: [&str; 5] = ["conflict", "disaster", "nationalism", "export_ban", "war"];

/// One generated scenario file: mostly ordinary numbers, a quarter of
/// the files with edges and extremes anywhere.
fn scenario_text() -> impl Strategy<Value = String> {
    prop_oneof![3 => scenario_of(false), 1 => scenario_of(true)]
}

/// A severity or duration that is valid: the usual forms with ordinary
/// parameters (`unit`: within [0, 1]).
fn sane_dist(unit: bool) -> BoxedStrategy<String> {
    let hi = if unit { 1.0 } else { 24.0 };
    let f = |x: f64| format!("{x:?}");
    prop_oneof![
        (0.0..hi).prop_map(f),
        (0.3f64..6.0, 0.3f64..6.0).prop_map(move |(a, b)| format!(
            "{{ dist = \"beta\", alpha = {}, beta = {} }}",
            f(a),
            f(b)
        )),
        (0.0..hi / 2.0, 0.0..hi / 2.0).prop_map(move |(a, w)| format!(
            "{{ dist = \"uniform\", min = {}, max = {} }}",
            f(a),
            f(a + w)
        )),
        (0.0..hi / 3.0, 0.0..hi / 3.0, 0.0..hi / 3.0).prop_map(move |(a, b, c)| format!(
            "{{ dist = \"pert\", min = {}, mode = {}, max = {} }}",
            f(a),
            f(a + b),
            f(a + b + c)
        )),
        (0.0..hi / 3.0, 0.0..hi / 3.0, 0.0..hi / 3.0).prop_map(move |(a, b, c)| format!(
            "{{ dist = \"triangular\", min = {}, mode = {}, max = {} }}",
            f(a),
            f(a + b),
            f(a + b + c)
        )),
    ]
    .boxed()
}

/// A duration: the unit forms stretched, or the unbounded kinds.
fn sane_duration() -> BoxedStrategy<String> {
    let f = |x: f64| format!("{x:?}");
    prop_oneof![
        sane_dist(false),
        (0.5f64..12.0, 0.0f64..1.0).prop_map(move |(m, s)| format!(
            "{{ dist = \"lognormal\", median = {}, sigma = {} }}",
            f(m),
            f(s)
        )),
        (0.0f64..6.0).prop_map(move |m| format!("{{ dist = \"exponential\", mean = {} }}", f(m))),
        (0.5f64..4.0, 0.5f64..4.0).prop_map(move |(k, t)| format!(
            "{{ dist = \"gamma\", shape = {}, scale = {} }}",
            f(k),
            f(t)
        )),
    ]
    .boxed()
}

fn scenario_of(wild: bool) -> impl Strategy<Value = String> {
    let number = move || number_of(wild);
    let share = move || {
        if wild {
            number_of(true)
        } else {
            (0.01f64..0.3).prop_map(|x| format!("{x:?}")).boxed()
        }
    };
    let sev = move || {
        if wild {
            dist_of(true).boxed()
        } else {
            sane_dist(true)
        }
    };
    let dur = move || {
        if wild {
            dist_of(true).boxed()
        } else {
            sane_duration()
        }
    };
    (
        (1usize..=3, 0usize..=2, 1usize..=2),
        prop::collection::vec((share(), share()), 3),
        prop::collection::vec(
            (0usize..if wild { 5 } else { 4 }, rate(wild), sev(), dur(), any::<bool>()),
            0..=3,
        ),
        prop::collection::vec((number(), number(), share()), 0..=1),
        (any::<bool>(), number(), share()),
        (1i64..=24, any::<bool>()),
    )
        .prop_map(|(sizes, shares, shocks, events, (stock, st, rec), (horizon, regime))| {
            let (nc, nj, nk) = sizes;
            let countries = ["CN", "AU", "CD"];
            let coms = ["ga", "co"];
            let mut t = format!(
                "[scenario]\nname = \"fuzz\"\nhorizon_months = {horizon}\ntrials = 32\nseed = 3\n"
            );
            for c in &countries[..nc] {
                t.push_str(&format!("[[country]]\nid = \"{c}\"\nname = \"{c}\"\n"));
            }
            for (j, (sh, _)) in shares.iter().enumerate().take(nj) {
                t.push_str(&format!(
                    "[[consumer]]\nid = \"C{j}\"\nname = \"Consumer {j}\"\ndemand_share = {{ ga = {sh} }}\n"
                ));
                if stock {
                    t.push_str(&format!("stockpile_months = {{ ga = {st} }}\nrecycling_share = {{ ga = {rec} }}\n"));
                }
            }
            for (k, com) in coms[..nk].iter().enumerate() {
                t.push_str(&format!(
                    "[[commodity]]\nid = \"{com}\"\nname = \"Commodity {k}\"\nannual_demand = 700\n[commodity.producers.production]\n"
                ));
                for (i, c) in countries[..nc].iter().enumerate() {
                    t.push_str(&format!("{c} = {}\n", shares[i].1));
                }
            }
            for (i, (kind, rate, sev, dur, global)) in shocks.iter().enumerate() {
                let scope = if *global {
                    "global = true".to_string()
                } else {
                    format!("countries = [\"{}\"]", countries[i % nc])
                };
                t.push_str(&format!(
                    "[[shock]]\nid = \"s{i}\"\nkind = \"{}\"\n{scope}\nrate_per_year = {rate}\nseverity = {sev}\nduration_months = {dur}\n",
                    KINDS[*kind]
                ));
            }
            for (i, (start, dur, sev)) in events.iter().enumerate() {
                t.push_str(&format!(
                    "[[event]]\nid = \"e{i}\"\nkind = \"export_ban\"\ncountries = [\"CN\"]\nstart_month = {start}\nduration_months = {dur}\nseverity = {sev}\n"
                ));
            }
            if regime {
                t.push_str("[[regime]]\nid = \"tense\"\nprobability = 0.5\n[[regime.multipliers]]\nkind = \"conflict\"\nfactor = 3.0\n");
            }
            t
        })
}

/// One generated strategy file, patching the scenario above.
fn strategy_text() -> impl Strategy<Value = String> {
    let patch = prop_oneof![
        number().prop_map(|v| format!("[[strategy.consumer]]\nid = \"C0\"\nstockpile_months = {{ ga = {v} }}\n")),
        number().prop_map(|v| format!("[[strategy.consumer]]\nid = \"ZZ\"\nstockpile_months = {{ ga = {v} }}\n")),
        Just("[[strategy.shock]]\nid = \"s0\"\nremove = true\n".to_string()),
        dist().prop_map(|d| format!("[[strategy.shock]]\nid = \"s0\"\nseverity = {d}\n")),
        number().prop_map(|v| format!("[[strategy.commodity]]\nid = \"ga\"\n[strategy.commodity.producers.production]\nAU = {v}\n")),
        Just("[strategy.scenario]\nseed = 4\n".to_string()),
        Just("[[strategy.consumer]]\nid = \"C0\"\nstockpile_monhts = { ga = 1.0 }\n".to_string()),
        number().prop_map(|v| format!("cost_per_year = {v}\n")),
    ];
    prop::collection::vec(patch, 1..=3).prop_map(|ps| {
        ps.iter()
            .enumerate()
            .map(|(i, p)| format!("[[strategy]]\nid = \"st{i}\"\n{p}"))
            .collect()
    })
}

/// What the CLI does with a scenario and a strategy file, in-process:
/// `Ok` where it would exit 0, the error where it would not.
fn evaluate(scenario_toml: &str, strategy_toml: &str) -> Result<Summary, Error> {
    let source = scenario::parse_bytes("fuzz.toml", scenario_toml.as_bytes())?;
    let model = Model::compile(&source.display, &source.scenario)?;
    let dir = tempfile::tempdir().map_err(|e| Error::Other(e.to_string()))?;
    let path = dir.path().join("st.toml");
    std::fs::write(&path, strategy_toml).map_err(|e| Error::Other(e.to_string()))?;
    let mut strategies = Vec::new();
    for st in source.strategies_from_file(&path)? {
        strategies.push(Plan::compile(st)?);
    }
    let opts = sim::RunOptions {
        trials: 32,
        seed: 5,
        threads: 1,
    };
    let out = compare::evaluate(&model, &strategies, opts, &|_| {})?;
    let mut runs: Vec<(&str, &Model, &sim::RunResult)> = vec![("base", &model, &out.results[0])];
    for (s, r) in strategies.iter().zip(&out.results[1..]) {
        runs.push((s.id.as_str(), &s.model, r));
    }
    let mut summary = Summary::new(&model, &source.sha256, 5, 32, &runs);
    summary.comparison = out.comparison;
    summary.attribution = Some(out.attribution);
    Ok(summary)
}

/// `cases`, or `FUZZ_CASES` when set (for longer runs by hand).
fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

#[test]
fn generated_scenarios_and_strategies_exit_0_or_2_with_figures_in_range() {
    let ok = std::cell::Cell::new(0);
    let refused = std::cell::Cell::new(0);
    runner(600)
        .run(&(scenario_text(), strategy_text()), |(sc, st)| {
            match evaluate(&sc, &st) {
                Ok(summary) => {
                    ok.set(ok.get() + 1);
                    if let Err(e) = results::check::summary(&summary) {
                        return Err(TestCaseError::fail(format!("{e}\n{sc}\n{st}")));
                    }
                    // The same figures, as metrics.csv would write them.
                    for r in &summary.results {
                        for (name, v) in r.metrics.named() {
                            let Some(v) = v else { continue };
                            let hi = if name == "months_short_mean" {
                                summary.horizon_months as f64
                            } else {
                                1.0
                            };
                            prop_assert!(
                                v.is_finite() && (0.0..=hi).contains(&v),
                                "{name} = {v}\n{sc}\n{st}"
                            );
                        }
                    }
                }
                Err(e) => {
                    refused.set(refused.get() + 1);
                    if std::env::var_os("FUZZ_VERBOSE").is_some() {
                        eprintln!("refused: {e:#}");
                    }
                    prop_assert_eq!(e.exit_code(), 2, "{:#}\n{}\n{}", e, sc, st);
                    let msg = format!("{e:#}");
                    for leak in ["DistSpec", "expected struct", "as i128", "untagged enum"] {
                        prop_assert!(!msg.contains(leak), "{}", msg);
                    }
                    // huge and tiny numbers are quoted short (1e308, not 309 digits)
                    let digits = msg.split(|c: char| !c.is_ascii_digit()).map(str::len);
                    prop_assert!(digits.max() < Some(20), "{}", msg);
                }
            }
            Ok(())
        })
        .unwrap();
    // The generator reaches both outcomes.
    let (ok, refused) = (ok.get(), refused.get());
    eprintln!("fuzz: {ok} ran, {refused} refused");
    assert!(ok >= 5 && refused >= 5, "ok {ok}, refused {refused}");
}

/// A valid summary with one number replaced.
fn mutated_summary(base: &serde_json::Value) -> impl Strategy<Value = String> {
    let mut pointers = Vec::new();
    collect_numbers(base, String::new(), &mut pointers);
    let base = base.clone();
    (
        prop::sample::select(pointers),
        prop_oneof![
            Just(serde_json::json!(2.0)),
            Just(serde_json::json!(-0.5)),
            Just(serde_json::json!(1e308)),
            Just(serde_json::json!(0.0)),
            Just(serde_json::json!(1.0)),
            Just(serde_json::json!("x")),
            Just(serde_json::json!(null)),
            Just(serde_json::json!(u64::MAX)),
        ],
    )
        .prop_map(move |(ptr, v)| {
            let mut s = base.clone();
            if let Some(x) = s.pointer_mut(&ptr) {
                *x = v;
            }
            serde_json::to_string(&s).unwrap()
        })
}

fn collect_numbers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(_) => out.push(at),
        serde_json::Value::Array(a) => {
            // A few elements of each array are enough.
            for (i, x) in a.iter().enumerate().take(3) {
                collect_numbers(x, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                collect_numbers(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn generated_summaries_are_refused_or_drawn() {
    let small: String = {
        "[scenario]\nname = \"s\"\nhorizon_months = 6\n[[country]]\nid = \"CN\"\nname = \"China\"\n\
         [[consumer]]\nid = \"EU\"\nname = \"EU\"\ndemand_share = { ga = 0.3 }\n\
         [[commodity]]\nid = \"ga\"\nname = \"Gallium\"\nannual_demand = 700\n[commodity.producers.production]\nCN = 0.9\n\
         [[shock]]\nid = \"b\"\nkind = \"export_ban\"\ncountries = [\"CN\"]\nrate_per_year = 1.0\nseverity = 0.8\nduration_months = 2.0\n"
            .to_string()
    };
    let st = "[[strategy]]\nid = \"stock\"\ncost_per_year = 5\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_months = { ga = 1.0 }\n";
    let summary = evaluate(&small, st).expect("the seed summary is valid");
    let base = serde_json::to_value(&summary).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.json");
    runner(48)
        .run(&mutated_summary(&base), |json| {
            std::fs::write(&path, &json).unwrap();
            match results::load_summary(&path) {
                Ok(s) => {
                    let figs = crmsim::plot::render_all(&s, crmsim::plot::Formats::Svg);
                    prop_assert!(figs.is_ok(), "{:?}", figs.err().map(|e| e.to_string()));
                }
                Err(e) => {
                    prop_assert_eq!(e.exit_code(), 2, "{:#}", e);
                    let msg = format!("{e:#}");
                    for leak in ["struct Summary", "u64", "f64", "expected struct"] {
                        prop_assert!(!msg.contains(leak), "{}", msg);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
