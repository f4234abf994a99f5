//! The disruption record, `backtest` and `calibrate`: matching rules, the
//! predictive interval and posterior formulas on hand-made records, the
//! calibrate round trip, bad record files, the bundled record and replays.

mod common;

use std::path::{Path, PathBuf};

use crmsim::backtest::{self, Backtest, RateLaw, Years};
use crmsim::calibrate;
use crmsim::model::Model;
use crmsim::record;
use crmsim::scenario;

use common::{crmsim, scratch};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const HEADER: &str = "id,start,end,kind,countries,commodities,note,source\n";

/// Countries CN (east_asia), JP (east_asia), CL (south_america); commodities
/// a and b; shocks covering every kind of footprint.
const SCENARIO: &str = r#"
[scenario]
name = "bt"
[[country]]
id = "CN"
name = "China"
region = "east_asia"
[[country]]
id = "JP"
name = "Japan"
region = "east_asia"
[[country]]
id = "CL"
name = "Chile"
region = "south_america"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { a = 0.5, b = 0.5 }
[[commodity]]
id = "a"
name = "A"
[commodity.producers.production]
CN = 0.5
CL = 0.3
[[commodity]]
id = "b"
name = "B"
[commodity.producers.production]
JP = 0.5
[[shock]]
id = "cn-ban-a"
kind = "export_ban"
countries = ["CN"]
commodities = ["a"]
rate_per_year = 0.25
severity = 0.5
duration_months = 1.0
[[shock]]
id = "asia-disaster"
kind = "disaster"
region = "east_asia"
rate_per_year = 0.1
severity = 0.5
duration_months = 1.0
[[shock]]
id = "world-disaster-b"
kind = "disaster"
global = true
commodities = ["b"]
rate_per_year = 0.1
severity = 0.5
duration_months = 1.0
[[shock]]
id = "cl-conflict"
kind = "conflict"
countries = ["CL"]
commodities = ["a", "b"]
probability_per_year = 0.2
severity = 0.5
duration_months = 1.0
"#;

fn model_of(text: &str) -> (scenario::Source, Model) {
    let src = scenario::parse_bytes("bt.toml", text.as_bytes()).expect("parses");
    let model = Model::compile(&src.display, &src.scenario).expect("valid");
    (src, model)
}

fn backtest_of(text: &str, rows: &str, years: Option<Years>) -> Backtest {
    let (src, model) = model_of(text);
    let rec = record::parse("r.csv", format!("{HEADER}{rows}").as_bytes(), &model)
        .unwrap_or_else(|e| panic!("{e}"));
    let years = years.unwrap_or_else(|| {
        let (a, b) = rec.start_years().unwrap();
        Years::new(a, b)
    });
    let (shocks, probs) = backtest::shock_infos(&model, &src.raw).unwrap();
    backtest::run(&model.name, &model, &shocks, &probs, &rec, years).unwrap()
}

fn matched<'a>(bt: &'a Backtest, shock: &str) -> Vec<&'a str> {
    let row = bt.shocks.iter().find(|s| s.id == shock).unwrap();
    row.matched.iter().map(String::as_str).collect()
}

#[test]
fn matching_needs_equal_kind_meeting_footprint_and_commodities() {
    let rows = "\
e1,2010-01-05,,export_ban,CN,a,,src
e2,2011-02-01,2011-03-01,export_ban,CN,b,wrong commodity,src
e3,2012-03-01,,disaster,CN,a,wrong kind for cn-ban-a,src
e4,2013-04-01,,export_ban,JP;CN,b;a,lists meet,src
e5,2014-05-01,,export_ban,JP,a,wrong country,src
e6,2015-06-01,,disaster,JP,b,region and global,src
e7,2016-07-01,,disaster,*,a,worldwide event,src
e8,2017-08-01,,disaster,CL,a,outside the region; global shock is for b only,src
e9,2018-09-01,,conflict,*,b,worldwide conflict,src
e10,2019-10-01,,nationalism,CL,a,no nationalism shock,src
";
    let bt = backtest_of(SCENARIO, rows, None);
    assert_eq!(matched(&bt, "cn-ban-a"), ["e1", "e4"]);
    // region footprint: JP and CN; `*` meets every footprint
    assert_eq!(matched(&bt, "asia-disaster"), ["e3", "e6", "e7"]);
    // global footprint meets every country, but commodities must meet
    assert_eq!(matched(&bt, "world-disaster-b"), ["e6"]);
    assert_eq!(matched(&bt, "cl-conflict"), ["e9"]);
    assert_eq!(bt.unmatched, ["e2", "e5", "e8", "e10"]);
    assert_eq!(bt.years, Years::new(2010, 2019));
}

#[test]
fn years_window_excludes_events_outside_it() {
    let rows = "\
e1,2009-12-31,,export_ban,CN,a,,src
e2,2010-01-01,,export_ban,CN,a,,src
e3,2012-12-31,,export_ban,CN,a,,src
e4,2013-01-01,,export_ban,CN,a,,src
";
    let bt = backtest_of(SCENARIO, rows, Some(Years::new(2010, 2012)));
    assert_eq!(matched(&bt, "cn-ban-a"), ["e2", "e3"]);
    assert_eq!(bt.outside_years, ["e1", "e4"]);
    let s = &bt.shocks[0];
    assert_eq!(s.observed, 2);
    assert!((s.observed_per_year - 2.0 / 3.0).abs() < 1e-15);
}

/// P(N <= k) of a Poisson(mu).
fn poisson_cdf(mu: f64, k: u64) -> f64 {
    let mut p = (-mu).exp();
    let mut c = p;
    for i in 1..=k {
        p *= mu / i as f64;
        c += p;
    }
    c
}

#[test]
fn predictive_interval_of_a_fixed_rate_is_the_poisson_quantiles() {
    // rate 0.25 over 16 years: Poisson(4); q05 = 1 (P(0) = 0.018, P(<=1) = 0.092),
    // q95 = 8 (P(<=7) = 0.949, P(<=8) = 0.979).
    assert!(poisson_cdf(4.0, 0) < 0.05 && poisson_cdf(4.0, 1) >= 0.05);
    assert!(poisson_cdf(4.0, 7) < 0.95 && poisson_cdf(4.0, 8) >= 0.95);
    for (n, consistent) in [(0, false), (1, true), (8, true), (9, false)] {
        let rows: String = (0..n)
            .map(|i| format!("e{i},{}-03-01,,export_ban,CN,a,,src\n", 2010 + i % 16))
            .collect();
        let bt = backtest_of(SCENARIO, &rows, Some(Years::new(2010, 2025)));
        let s = &bt.shocks[0];
        assert_eq!(s.predictive_interval, [1, 8]);
        assert_eq!(s.observed, n);
        assert_eq!(s.consistent, consistent, "n = {n}");
        assert!((s.model_per_year - 0.25).abs() < 1e-15);
    }
}

/// A small gamma shape with a large regime factor has a long geometric
/// tail: the support must cover it (found by the property test below).
#[test]
fn predictive_pmf_covers_a_long_negative_binomial_tail() {
    let law = RateLaw::Gamma {
        shape: 0.3,
        scale: 0.270388755241194,
    };
    for years in [1, 7, 40] {
        let pmf = backtest::predictive_pmf(law, &[11.0409429986882, 1.0], &[0.0201, 0.9799], years)
            .unwrap();
        let total: f64 = pmf.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "{years}: total {total}");
    }
}

#[test]
fn predictive_pmf_of_a_gamma_rate_is_the_negative_binomial_of_the_sum() {
    // Y iid years, each NegBin(a, p) with p = 1 / (1 + s f): the sum is NegBin(Y a, p).
    let (shape, scale, f, years) = (1.5, 0.05, 2.0, 16u32);
    let law = RateLaw::Gamma { shape, scale };
    let pmf = backtest::predictive_pmf(law, &[f], &[1.0], years).unwrap();
    let q = scale * f / (1.0 + scale * f);
    let r = shape * years as f64;
    let mut p = (1.0 - q).powf(r);
    for (k, got) in pmf.iter().enumerate().take(40) {
        assert!((got - p).abs() < 1e-12, "k = {k}: {got} vs {p}");
        p *= (k as f64 + r) / (k as f64 + 1.0) * q;
    }
}

#[test]
fn predictive_pmf_mixes_regimes_per_year() {
    // A regime with probability 1 and factor 2 is a fixed rate of twice the base.
    let a = backtest::predictive_pmf(RateLaw::Fixed(0.1), &[2.0, 1.0], &[1.0, 0.0], 10).unwrap();
    let b = backtest::predictive_pmf(RateLaw::Fixed(0.2), &[1.0], &[1.0], 10).unwrap();
    for k in 0..20 {
        assert!((a[k] - b[k]).abs() < 1e-14);
    }
    // One year with two regimes: the mixture of two Poisson laws.
    let one = backtest::predictive_pmf(RateLaw::Fixed(0.5), &[3.0, 1.0], &[0.2, 0.8], 1).unwrap();
    let pois = |mu: f64, k: i32| (-mu).exp() * mu.powi(k) / (1..=k).product::<i32>().max(1) as f64;
    for k in 0..6 {
        let want = 0.2 * pois(1.5, k) + 0.8 * pois(0.5, k);
        assert!((one[k as usize] - want).abs() < 1e-14);
    }
}

#[test]
fn extreme_rates_and_long_records_are_handled_or_refused() {
    // 1000 years at 0.1 a year: Poisson(100), computed exactly by repeated squaring.
    let pmf = backtest::predictive_pmf(RateLaw::Fixed(0.1), &[1.0], &[1.0], 1000).unwrap();
    let mean: f64 = pmf.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
    assert!((mean - 100.0).abs() < 1e-9 && (pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let err = backtest::predictive_pmf(RateLaw::Fixed(1e6), &[1.0], &[1.0], 16).unwrap_err();
    assert!(err.contains("too many"), "{err}");
    let text = SCENARIO.replace("rate_per_year = 0.25", "rate_per_year = 300.0");
    let dir = scratch("extreme-rate");
    write(&dir, "s.toml", &text);
    write(
        &dir,
        "r.csv",
        &format!("{HEADER}e1,2010-01-01,,export_ban,CN,a,,s\n"),
    );
    let (code, _, err) = run(
        &dir,
        &[
            "backtest",
            "s.toml",
            "--record",
            "r.csv",
            "--years",
            "2010-2025",
            "--out",
            "o",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(!dir.join("o").exists());
    assert!(
        err.contains("cn-ban-a") && err.contains("too many"),
        "{err}"
    );
}

#[test]
fn observed_interval_is_garwood() {
    // n = 0: [0, -ln(0.05) / Y]; n = 2, Y = 1: [0.3554, 6.2958] (chi-square tables).
    let [lo, hi] = backtest::observed_interval(0, 10);
    assert_eq!(lo, 0.0);
    assert!((hi - (-(0.05f64).ln()) / 10.0).abs() < 1e-9);
    let [lo, hi] = backtest::observed_interval(2, 1);
    assert!(
        (lo - 0.355362).abs() < 1e-5 && (hi - 6.295794).abs() < 1e-5,
        "{lo} {hi}"
    );
}

#[test]
fn dispersion_is_one_for_poisson_and_grows_with_the_regime() {
    let rows = "e1,2010-01-01,,export_ban,CN,a,,src\ne2,2011-01-01,,export_ban,CN,a,,src\n";
    let text = SCENARIO.replace(
        "[[shock]]\nid = \"asia-disaster\"",
        "[[shock]]\nid = \"cn-ban-b\"\nkind = \"export_ban\"\ncountries = [\"CN\"]\ncommodities = [\"b\"]\nrate_per_year = 0.25\nseverity = 0.5\nduration_months = 1.0\n[[shock]]\nid = \"asia-disaster\"",
    );
    let bt = backtest_of(&text, rows, Some(Years::new(2010, 2013)));
    let g = bt.clustering.iter().find(|g| g.country == "CN").unwrap();
    assert_eq!(g.shocks, ["cn-ban-a", "cn-ban-b"]);
    assert!((g.model_dispersion.unwrap() - 1.0).abs() < 1e-12);
    // observed counts 1,1,0,0: mean 0.5, sample variance 1/3
    assert!((g.observed_dispersion.unwrap() - (1.0 / 3.0) / 0.5).abs() < 1e-12);
    // regime p = 0.2, factor 3 on both: mu = 0.5 x (1 or 3); Var(mu) / E(mu) added to 1
    let text = format!(
        "{text}\n[[regime]]\nid = \"t\"\nprobability = 0.2\nmultipliers = [ {{ kind = \"export_ban\", factor = 3.0 }} ]\n"
    );
    let bt = backtest_of(&text, rows, Some(Years::new(2010, 2013)));
    let g = bt.clustering.iter().find(|g| g.country == "CN").unwrap();
    let mean = 0.8 * 0.5 + 0.2 * 1.5;
    let var_mu = 0.8 * 0.25 + 0.2 * 2.25 - mean * mean;
    assert!((g.model_dispersion.unwrap() - (1.0 + var_mu / mean)).abs() < 1e-12);
    // ... and the shock's regime-averaged multiplier is 0.8 + 0.2 x 3 = 1.4
    assert!((bt.shocks[0].regime_multiplier - 1.4).abs() < 1e-15);
}

#[test]
fn commodity_year_probability_combines_shocks_and_regimes() {
    let bt = backtest_of(SCENARIO, "e1,2010-01-01,,export_ban,CN,a,,src\n", None);
    // commodity b: asia-disaster (0.1), world-disaster-b (0.1), cl-conflict (-ln 0.8)
    let b = bt.commodities.iter().find(|c| c.id == "b").unwrap();
    let want = 1.0 - (-0.2f64).exp() * 0.8;
    assert!((b.model_probability - want).abs() < 1e-14);
    assert_eq!(b.years_with_event, 0);
    let a = bt.commodities.iter().find(|c| c.id == "a").unwrap();
    assert_eq!((a.years_with_event, a.observed_share), (1, 1.0));
}

#[test]
fn posterior_is_jeffreys_over_years_times_multiplier() {
    let text = format!(
        "{SCENARIO}\n[[regime]]\nid = \"t\"\nprobability = 0.2\nmultipliers = [ {{ shock = \"cn-ban-a\", factor = 3.0 }} ]\n"
    );
    let rows = "e1,2010-01-01,,export_ban,CN,a,,src\ne2,2012-01-01,,export_ban,CN,a,,src\ne3,2025-01-01,,disaster,JP,b,,src\n";
    let bt = backtest_of(&text, rows, Some(Years::new(2010, 2025)));
    let posts = calibrate::posteriors(&bt).unwrap();
    let p = posts.iter().find(|p| p.id == "cn-ban-a").unwrap();
    assert_eq!(p.shape, 2.5);
    assert_eq!(p.scale, calibrate::round6(1.0 / (16.0 * 1.4)));
    assert!(p.comment.contains("e1, e2") && p.comment.contains("2 events"));
    let p = posts.iter().find(|p| p.id == "cl-conflict").unwrap();
    assert_eq!((p.shape, p.scale), (0.5, 0.0625));
    assert!(p.comment.contains("0 events: none"));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs crmsim in `dir`; returns (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = crmsim().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_record_files_exit_2_naming_file_line_and_field() {
    let dir = scratch("bad-records");
    write(&dir, "s.toml", SCENARIO);
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "id,start,kind,countries,commodities,note,source\ne1,2010-01-01,export_ban,CN,a,,s\n",
            "line 1",
            &["column `end` is missing"],
        ),
        (
            "e1,2010-01-01,,embargo,CN,a,,s\n",
            "line 2",
            &["field `kind`", "\"embargo\""],
        ),
        (
            "e0,2010-01-01,,export_ban,CN,a,,s\ne1,2010-01-01,,export_ban,XX,a,,s\n",
            "line 3",
            &["field `countries`", "\"XX\" is not declared"],
        ),
        (
            "e1,2010-01-01,,export_ban,CN,a;zinc,,s\n",
            "line 2",
            &["field `commodities`", "\"zinc\" is not declared"],
        ),
        (
            "e1,2010-02-30,,export_ban,CN,a,,s\n",
            "line 2",
            &["field `start`", "not a calendar date"],
        ),
        (
            "e1,01/02/2010,,export_ban,CN,a,,s\n",
            "line 2",
            &["field `start`", "YYYY-MM-DD"],
        ),
        (
            "e1,2010-05-01,2010-04-30,export_ban,CN,a,,s\n",
            "line 2",
            &["field `end`", "before the start"],
        ),
        (
            "e1,2010-05-01,,export_ban,CN,a,,s\ne1,2011-05-01,,export_ban,CN,a,,s\n",
            "line 3",
            &["field `id`", "used twice"],
        ),
    ];
    for (i, (body, line, words)) in cases.iter().enumerate() {
        let text = if body.starts_with("id,") {
            body.to_string()
        } else {
            format!("{HEADER}{body}")
        };
        let name = format!("bad{i}.csv");
        write(&dir, &name, &text);
        let out_dir = format!("out{i}");
        let (code, stdout, err) = run(
            &dir,
            &["backtest", "s.toml", "--record", &name, "--out", &out_dir],
        );
        assert_eq!(code, 2, "case {i}: {err}");
        assert!(stdout.is_empty(), "case {i}: {stdout}");
        assert!(err.contains(&name) && err.contains(line), "case {i}: {err}");
        for w in *words {
            assert!(err.contains(w), "case {i}: missing {w:?} in {err}");
        }
        assert!(!err.contains("Error {") && !err.contains("csv::"), "{err}");
        assert!(!dir.join(&out_dir).exists(), "case {i}: wrote output");
        let (code, _, err) = run(
            &dir,
            &[
                "calibrate",
                "s.toml",
                "--record",
                &name,
                "--out",
                "new.toml",
            ],
        );
        assert_eq!(code, 2, "case {i}: {err}");
        assert!(
            !dir.join("new.toml").exists(),
            "case {i}: wrote the scenario"
        );
    }
    let (code, _, err) = run(&dir, &["backtest", "s.toml", "--record", "missing.csv"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("missing.csv"), "{err}");
    let (code, _, err) = run(
        &dir,
        &[
            "backtest",
            "s.toml",
            "--record",
            "bad1.csv",
            "--years",
            "2020-2010",
        ],
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn backtest_command_writes_json_and_figure() {
    let dir = scratch("backtest-cmd");
    write(&dir, "s.toml", SCENARIO);
    write(
        &dir,
        "r.csv",
        &format!("{HEADER}e1,2010-01-01,,export_ban,CN,a,,s\ne2,2013-01-01,,nationalism,CL,a,,s\n"),
    );
    let (code, stdout, err) = run(
        &dir,
        &["backtest", "s.toml", "--record", "r.csv", "--out", "bt"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("cn-ban-a") && stdout.contains("e2"),
        "{stdout}"
    );
    for f in ["backtest.json", "backtest.svg", "backtest.png"] {
        assert!(dir.join("bt").join(f).is_file(), "{f}");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bt/backtest.json")).unwrap())
            .unwrap();
    assert_eq!(j["years"]["count"], 4);
    assert_eq!(j["shocks"][0]["id"], "cn-ban-a");
    assert_eq!(j["shocks"][0]["matched"][0], "e1");
    for k in ["observed_per_year", "model_per_year", "consistent"] {
        assert!(!j["shocks"][0][k].is_null(), "{k}");
    }
    assert_eq!(j["unmatched"][0], "e2");
    let (code, stdout, _) = run(
        &dir,
        &[
            "backtest", "s.toml", "--record", "r.csv", "--json", "--out", "bt2",
        ],
    );
    assert_eq!(code, 0);
    let j2: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j2, j);
}

#[test]
fn calibrate_round_trip_keeps_comments_validates_and_is_idempotent() {
    let dir = scratch("calibrate-round-trip");
    let text = SCENARIO
        .replace(
            "[[shock]]\nid = \"cn-ban-a\"",
            "# --- export bans ---\n[[shock]]\nid = \"cn-ban-a\"  # China on a",
        )
        .replace(
            "rate_per_year = 0.25",
            "# counted by hand\nrate_per_year = 0.25  # old basis",
        );
    let text = format!(
        "{text}\n[[regime]]\nid = \"t\"\nprobability = 0.2\nmultipliers = [ {{ shock = \"cn-ban-a\", factor = 3.0 }} ]\n# end of file\n"
    );
    write(&dir, "s.toml", &text);
    write(
        &dir,
        "r.csv",
        &format!(
            "{HEADER}e1,2010-01-01,,export_ban,CN,a,,s\ne2,2025-06-01,,export_ban,CN,a;b,,s\n"
        ),
    );
    let (code, out, err) = run(
        &dir,
        &[
            "calibrate",
            "s.toml",
            "--record",
            "r.csv",
            "--out",
            "new.toml",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("cn-ban-a") && out.contains("new.toml"),
        "{out}"
    );
    let new = std::fs::read_to_string(dir.join("new.toml")).unwrap();
    for kept in [
        "# --- export bans ---",
        "id = \"cn-ban-a\"  # China on a",
        "# counted by hand",
        "# old basis",
        "# end of file",
    ] {
        assert!(new.contains(kept), "lost {kept:?}:\n{new}");
    }
    // Jeffreys posterior: 2 events in 16 years, m = 0.8 + 0.2 x 3 = 1.4
    let scale = calibrate::round6(1.0 / (16.0 * 1.4));
    assert!(
        new.contains(&format!(
            "rate_per_year = {{ dist = \"gamma\", shape = 2.5, scale = {scale} }}"
        )),
        "{new}"
    );
    assert!(new.contains("2 events: e1, e2"), "{new}");
    assert!(!new.contains("probability_per_year"), "{new}");
    let (code, out, err) = run(&dir, &["validate", "new.toml"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(
        &dir,
        &[
            "calibrate",
            "new.toml",
            "--record",
            "r.csv",
            "--out",
            "again.toml",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("again.toml")).unwrap(),
        new,
        "a second calibrate changes nothing"
    );
    // The calibrated rates reproduce the record: every shock consistent.
    let (code, out, err) = run(
        &dir,
        &[
            "backtest", "new.toml", "--record", "r.csv", "--json", "--out", "bt",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = &j["shocks"][0];
    assert_eq!(row["id"], "cn-ban-a");
    assert!((row["model_per_year"].as_f64().unwrap() - 2.5 * scale * 1.4).abs() < 1e-12);
}

fn bundled_record() -> PathBuf {
    root().join("scenarios/events/record-2010-2025.csv")
}

#[test]
fn bundled_record_reads_against_the_baseline_with_a_source_per_row() {
    let (_, model) = model_of(scenario::BASELINE_TOML);
    let rec = record::load(&bundled_record(), &model).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rec.start_years(), Some((2010, 2025)));
    assert!(rec.events.len() >= 30);
    for e in &rec.events {
        assert!(!e.source.is_empty() && !e.note.is_empty(), "{}", e.id);
    }
}

#[test]
fn bundled_baseline_is_calibrated_and_consistent_with_the_record() {
    let (src, model) = model_of(scenario::BASELINE_TOML);
    let rec = record::load(&bundled_record(), &model).unwrap();
    let (shocks, probs) = backtest::shock_infos(&model, &src.raw).unwrap();
    let bt = backtest::run(
        &model.name,
        &model,
        &shocks,
        &probs,
        &rec,
        Years::new(2010, 2025),
    )
    .unwrap();
    for s in &bt.shocks {
        assert!(s.consistent, "{} is not consistent with the record", s.id);
    }
    for c in &bt.commodities {
        assert!(c.consistent, "{} is not consistent with the record", c.id);
    }
    // Calibrating the bundled file against the bundled record changes nothing.
    let posts = calibrate::posteriors(&bt).unwrap();
    let again = calibrate::apply(scenario::BASELINE_TOML, &posts).unwrap();
    assert!(
        again == scenario::BASELINE_TOML,
        "the baseline is not calibrated on the record"
    );
}

#[test]
fn every_history_replay_runs() {
    let dir = scratch("replays");
    let replays: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios/history"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(replays.len() >= 6, "{replays:?}");
    for p in &replays {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let (code, out, err) = run(
            &dir,
            &[
                "run",
                p.to_str().unwrap(),
                "--trials",
                "5",
                "--no-figures",
                "--quiet",
                "--out",
                &stem,
            ],
        );
        assert_eq!(code, 0, "{stem}: {out}{err}");
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(&stem).join("summary.json")).unwrap(),
        )
        .unwrap();
        let src = scenario::load(p).unwrap();
        assert!(
            src.scenario.shock.is_empty() && !src.scenario.event.is_empty(),
            "{stem}"
        );
        // No random shocks: every trial is the same, so p50 = p99 everywhere.
        for r in s["results"].as_array().unwrap() {
            assert_eq!(r["metrics"]["p50"], r["metrics"]["p99"], "{stem}");
        }
        replay_gives_the_figures_docs_quote(&stem, &s);
    }
}

/// The figures docs/validation.md quotes for each replay: (stem, commodity,
/// consumer, metric, value, half a unit of the last digit quoted). A change
/// of the model or of a replay file that moves one must update the page.
#[rustfmt::skip]
const QUOTED: &[(&str, &str, &str, &str, f64, f64)] = &[
    ("cn-ree-japan-2010", "rare_earths", "JP", "mean", 0.155, 5e-4),
    ("cn-ree-japan-2010", "rare_earths", "JP", "peak_mean", 0.93, 5e-3),
    ("cn-ree-japan-2010", "rare_earths", "CN", "mean", 0.0, 0.0),
    ("cn-ree-japan-2010", "rare_earths", "ROW", "mean", 0.0, 0.0),
    ("cn-ree-japan-2010", "rare_earths", "world", "mean", 0.023, 5e-4),
    ("cn-ga-ge-2023", "gallium", "EU", "mean", 0.78, 5e-3),
    ("cn-ga-ge-2023", "gallium", "US", "mean", 0.78, 5e-3),
    ("cn-ga-ge-2023", "gallium", "ROW", "mean", 0.78, 5e-3),
    ("cn-ga-ge-2023", "gallium", "JP", "mean", 0.61, 5e-3),
    ("cn-ga-ge-2023", "gallium", "CN", "mean", 0.0, 0.0),
    ("cn-ga-ge-2023", "gallium", "world", "mean", 0.18, 5e-3),
    ("cn-ga-ge-2023", "germanium", "EU", "mean", 0.54, 5e-3),
    ("cn-ga-ge-2023", "germanium", "JP", "mean", 0.37, 5e-3),
    ("cn-ga-ge-2023", "germanium", "CN", "mean", 0.0, 0.0),
    ("cn-ga-ge-2023", "germanium", "world", "mean", 0.28, 5e-3),
    ("cn-graphite-2023", "graphite", "JP", "mean", 0.21, 5e-3),
    ("cn-graphite-2023", "graphite", "JP", "peak_mean", 0.64, 5e-3),
    ("cn-graphite-2023", "graphite", "JP", "months_short_mean", 1.0, 0.0),
    ("cn-graphite-2023", "graphite", "ROW", "mean", 0.75, 5e-3),
    ("cn-graphite-2023", "graphite", "world", "mean", 0.11, 5e-3),
    ("cn-sb-2024", "antimony", "EU", "mean", 0.72, 5e-3),
    ("cn-sb-2024", "antimony", "US", "mean", 0.64, 5e-3),
    ("cn-sb-2024", "antimony", "ROW", "mean", 0.64, 5e-3),
    ("cn-sb-2024", "antimony", "CN", "mean", 0.0, 0.0),
    ("cn-sb-2024", "antimony", "world", "mean", 0.33, 5e-3),
    ("id-ni-ore-2014", "nickel", "world", "mean", 0.106, 5e-4),
    ("id-ni-ore-2014", "nickel", "world", "peak_mean", 0.21, 5e-3),
    ("id-ni-ore-2014", "nickel", "world", "months_short_mean", 13.0, 0.0),
    ("cd-co-2025", "cobalt", "CN", "mean", 0.0, 0.0),
    ("cd-co-2025", "cobalt", "EU", "mean", 0.0, 0.0),
    ("cd-co-2025", "cobalt", "US", "mean", 0.23, 5e-3),
    ("cd-co-2025", "cobalt", "ROW", "mean", 0.35, 5e-3),
    ("cd-co-2025", "cobalt", "world", "mean", 0.023, 5e-4),
];

fn replay_gives_the_figures_docs_quote(stem: &str, s: &serde_json::Value) {
    let quoted = QUOTED.iter().filter(|q| q.0 == stem);
    for &(_, commodity, consumer, metric, want, tol) in quoted {
        let row = s["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["commodity"] == commodity && r["consumer"] == consumer)
            .unwrap_or_else(|| panic!("{stem}: no {commodity} {consumer}"));
        let got = row["metrics"][metric].as_f64().unwrap();
        assert!(
            (got - want).abs() <= tol + 1e-12,
            "{stem} {commodity} {consumer} {metric}: {got}, docs/validation.md says {want}"
        );
    }
    // The stocks set the timing: no world shortfall in the first 11 months of
    // the nickel ore ban, nor in the first 5 of the cobalt halt.
    let quiet = match stem {
        "id-ni-ore-2014" => 11,
        "cd-co-2025" => 5,
        _ => return,
    };
    let monthly = s["figures"]["monthly"][0]["p50"].as_array().unwrap();
    assert!(
        monthly[..quiet].iter().all(|m| m.as_f64() == Some(0.0)),
        "{stem}: {monthly:?}"
    );
    assert!(
        monthly[quiet].as_f64().unwrap() > 0.0,
        "{stem}: {monthly:?}"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The predictive law is a distribution with the model's mean:
        /// years x mean rate x regime-averaged multiplier.
        #[test]
        fn predictive_law_sums_to_one_with_the_model_mean(
            shape in 0.3f64..8.0,
            scale in 0.005f64..0.3,
            fixed in proptest::bool::ANY,
            p in 0.0f64..1.0,
            factor in 0.0f64..12.0,
            years in 1u32..40,
        ) {
            let law = if fixed {
                RateLaw::Fixed(shape * scale)
            } else {
                RateLaw::Gamma { shape, scale }
            };
            let pmf = backtest::predictive_pmf(law, &[factor, 1.0], &[p, 1.0 - p], years).unwrap();
            let total: f64 = pmf.iter().sum();
            let mean: f64 = pmf.iter().enumerate().map(|(k, q)| k as f64 * q).sum();
            let want = years as f64 * shape * scale * (p * factor + 1.0 - p);
            prop_assert!((total - 1.0).abs() < 1e-9, "total {}", total);
            prop_assert!((mean - want).abs() < 1e-7 * (1.0 + want), "mean {} vs {}", mean, want);
        }

        /// Calibrating twice writes the same text, and the written rate's mean
        /// times the multiplier is (n + 0.5) / years up to the 6-digit rounding.
        #[test]
        fn calibrate_is_idempotent_on_random_records(
            starts in proptest::collection::vec(0u32..16, 0..12),
            factor in 0.5f64..6.0,
            p in 0.0f64..0.9,
        ) {
            let text = format!(
                "{SCENARIO}\n[[regime]]\nid = \"t\"\nprobability = {p}\nmultipliers = [ {{ kind = \"export_ban\", factor = {factor} }} ]\n"
            );
            let rows: String = starts
                .iter()
                .enumerate()
                .map(|(i, y)| format!("e{i},{}-06-01,,export_ban,CN,a,,s\n", 2010 + y))
                .collect();
            let bt = backtest_of(&text, &rows, Some(Years::new(2010, 2025)));
            let posts = calibrate::posteriors(&bt).unwrap();
            let once = calibrate::apply(&text, &posts).unwrap();
            let (src, model) = model_of(&once);
            let rec = record::parse("r.csv", format!("{HEADER}{rows}").as_bytes(), &model).unwrap();
            let (shocks, probs) = backtest::shock_infos(&model, &src.raw).unwrap();
            let again = backtest::run(&model.name, &model, &shocks, &probs, &rec, Years::new(2010, 2025)).unwrap();
            let twice = calibrate::apply(&once, &calibrate::posteriors(&again).unwrap()).unwrap();
            prop_assert_eq!(&once, &twice);
            let row = &again.shocks[0];
            let want = (starts.len() as f64 + 0.5) / 16.0;
            prop_assert!((row.model_per_year - want).abs() < 1e-5 * want);
        }
    }
}

#[test]
fn docs_show_the_backtest_of_the_bundled_baseline_as_printed_today() {
    // docs/validation.md §3 prints the command's tables; they must be what
    // the command prints (only the "wrote ..." lines left out).
    let dir = scratch("docs-backtest");
    let (code, out, err) = run(
        &dir,
        &[
            "backtest",
            root().join("scenarios/baseline.toml").to_str().unwrap(),
            "--record",
            bundled_record().to_str().unwrap(),
            "--out",
            "bt",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let printed: String = out
        .lines()
        .filter(|l| !l.starts_with("wrote "))
        .map(|l| format!("{l}\n"))
        .collect();
    let page = std::fs::read_to_string(root().join("docs/validation.md")).unwrap();
    let from = page
        .find("```text\nbaseline against")
        .expect("docs/validation.md shows the backtest output")
        + "```text\n".len();
    let shown = &page[from..from + page[from..].find("```").unwrap()];
    assert_eq!(shown, printed, "docs/validation.md §3 is stale");
}
