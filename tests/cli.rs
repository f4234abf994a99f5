//! End-to-end tests of the `crmsim` binary: exit codes, messages, output
//! files (docs/model.md §7) and determinism (§5). Every test works in its own
//! temporary folder and keeps trial counts small.

use std::path::Path;

use assert_cmd::Command;
use clap::CommandFactory;
use serde::Deserialize;
use serde_json::Value;

/// The §5 aggregate names, in the order `metrics` holds them.
const METRICS: [&str; 18] = [
    "mean",
    "mean_se",
    "sd",
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "cvar95",
    "cvar99",
    "prob_any",
    "prob_gt_05",
    "prob_gt_10",
    "prob_gt_25",
    "peak_mean",
    "peak_p95",
    "months_short_mean",
    "stockout_prob",
];

/// Skips figures and report.html, which are slow to draw in a debug build;
/// `quiet_prints_nothing_but_writes_files` keeps them on.
const NO_FIGURES: &str = "--no-figures";

/// A small scenario: one commodity, China holds 70% of it, EU has a stockpile.
const SMALL: &str = r#"
[scenario]
name = "small"
horizon_months = 6
trials = 1000
seed = 7

[[country]]
id = "CN"
name = "China"
governance = -0.5

[[consumer]]
id = "EU"
name = "European Union"
demand_share = { gallium = 0.3 }
stockpile_months = { gallium = 1.0 }

[[consumer]]
id = "US"
name = "United States"
demand_share = { gallium = 0.2 }

[[commodity]]
id = "gallium"
name = "Gallium"
annual_demand = 1200
[commodity.producers.production]
CN = 0.7

[[shock]]
id = "cn-ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = 1.5
severity = { dist = "beta", alpha = 2.0, beta = 2.0 }
duration_months = { dist = "lognormal", median = 2.0, sigma = 0.5 }
"#;

/// [`SMALL`] with three independent problems.
const BAD: &str = r#"
[scenario]
name = "bad"
horizon_months = 0

[[country]]
id = "CN"
name = "China"

[[consumer]]
id = "EU"
name = "European Union"
demand_share = { gallium = 0.3 }

[[commodity]]
id = "gallium"
name = "Gallium"
[commodity.producers.production]
CN = 1.7

[[shock]]
id = "cn-ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = 1.0
severity = 1.5
duration_months = 2.0
"#;

/// The binary, with backtraces explicitly requested: no error path may print one.
fn crmsim() -> Command {
    let mut cmd = Command::cargo_bin("crmsim").expect("the crmsim binary is built");
    cmd.env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1");
    cmd
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `args` in `dir`; checks that nothing looks like a panic or backtrace.
fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = crmsim().current_dir(dir).args(args).output().expect("runs");
    let o = Out {
        code: out.status.code().expect("exited normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    };
    for text in [&o.stdout, &o.stderr] {
        assert!(
            !text.contains("stack backtrace") && !text.contains("panicked"),
            "crmsim {args:?} panicked or printed a backtrace:\n{text}"
        );
    }
    o
}

/// Runs `args` in `dir` and asserts exit code `code`.
fn expect(dir: &Path, args: &[&str], code: i32) -> Out {
    let o = run_in(dir, args);
    assert_eq!(
        o.code, code,
        "crmsim {args:?}: exit {} (want {code})\nstdout:\n{}\nstderr:\n{}",
        o.code, o.stdout, o.stderr
    );
    o
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write scenario");
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Keys of a JSON object in file order (serde_json's `Value` sorts them).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct OrderedSummary {
    results: Vec<OrderedRow>,
}

#[derive(Deserialize)]
struct OrderedRow {
    metrics: Keys,
}

/// Checks `summary.json` and `metrics.csv` in `dir` against §7; returns the summary.
fn check_outputs(dir: &Path) -> Value {
    let summary_path = dir.join("summary.json");
    let s = read_json(&summary_path);
    assert_eq!(s["crmsim_version"], env!("CARGO_PKG_VERSION"));
    assert!(s["scenario"]["name"].is_string(), "{}", s["scenario"]);
    let sha = s["scenario"]["sha256"].as_str().expect("sha256 string");
    assert_eq!(sha.len(), 64, "{sha}");
    assert!(
        sha.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{sha}"
    );
    assert!(s["seed"].is_u64() && s["trials"].is_u64() && s["horizon_months"].is_u64());
    let results = s["results"].as_array().expect("results array");
    assert!(!results.is_empty());
    for r in results {
        for key in ["strategy", "commodity", "consumer"] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        assert!(
            r["demand_tonnes"].is_null() || r["demand_tonnes"].is_f64(),
            "{r}"
        );
        let m = r["metrics"].as_object().expect("metrics object");
        assert_eq!(m.len(), METRICS.len(), "{r}");
        for name in METRICS {
            let v = &m[name];
            assert!(
                v.is_f64() || v.is_u64() || (name == "stockout_prob" && v.is_null()),
                "{name} = {v} in {r}"
            );
        }
    }
    // Key order of every `metrics` object is the §5 order.
    let text = std::fs::read_to_string(&summary_path).unwrap();
    let ordered: OrderedSummary = serde_json::from_str(&text).unwrap();
    for row in &ordered.results {
        assert_eq!(row.metrics.0, METRICS, "metrics key order");
    }
    // metrics.csv: the same figures, one row per figure.
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).expect("metrics.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("strategy,commodity,consumer,metric,value")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 18 * results.len());
    for (r, chunk) in results.iter().zip(rows.chunks(18)) {
        for (name, row) in METRICS.iter().zip(chunk) {
            assert_eq!(row.len(), 5, "{row:?}");
            assert_eq!(row[0], r["strategy"].as_str().unwrap());
            assert_eq!(row[1], r["commodity"].as_str().unwrap());
            assert_eq!(row[2], r["consumer"].as_str().unwrap());
            assert_eq!(row[3], *name);
            if r["metrics"][*name].is_null() {
                assert_eq!(row[4], "", "{name}: null is an empty value");
            } else {
                assert!(row[4].parse::<f64>().is_ok(), "{name}: {row:?}");
            }
        }
    }
    // Bit for bit: the csv values are the json values. (Compared as text
    // parsed by Rust: serde_json's default float parser may be off by an ulp.)
    let json_values = metrics_text(&text);
    assert_eq!(
        json_values.len(),
        results.len(),
        "one metrics object per result"
    );
    for (obj, chunk) in json_values.iter().zip(rows.chunks(18)) {
        for ((name, value), row) in obj.iter().zip(chunk) {
            assert_eq!(name, row[3]);
            if value == "null" {
                assert_eq!(row[4], "");
            } else {
                let j: f64 = value.parse().expect("json number");
                let c: f64 = row[4].parse().expect("csv number");
                assert_eq!(
                    j.to_bits(),
                    c.to_bits(),
                    "{name}: json {value} vs csv {}",
                    row[4]
                );
            }
        }
    }
    s
}

/// The `(name, value text)` pairs of every `"metrics": { ... }` object of a
/// summary.json, in file order.
fn metrics_text(json: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = json;
    while let Some(i) = rest.find("\"metrics\"") {
        rest = rest[i + "\"metrics\"".len()..].trim_start();
        rest = rest.strip_prefix(':').expect("a colon").trim_start();
        rest = rest.strip_prefix('{').expect("an object");
        let end = rest.find('}').expect("end of metrics");
        let pairs = rest[..end]
            .split(',')
            .map(|kv| {
                let (k, v) = kv.split_once(':').expect("key: value");
                (k.trim().trim_matches('"').to_string(), v.trim().to_string())
            })
            .collect();
        out.push(pairs);
        rest = &rest[end..];
    }
    out
}

fn result<'a>(s: &'a Value, commodity: &str, consumer: &str) -> &'a Value {
    s["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["commodity"] == commodity && r["consumer"] == consumer)
        .unwrap_or_else(|| panic!("no result for {commodity}/{consumer}"))
}

// ------------------------------------------------------------------- run

#[test]
fn run_baseline_prints_table_and_writes_outputs() {
    let dir = tmp();
    let o = expect(
        dir.path(),
        &["run", "--trials", "2000", "--out", "out", NO_FIGURES],
        0,
    );
    for word in ["world", "EU", "mean", "p95", "cvar95"] {
        assert!(
            o.stdout.contains(word),
            "{word} missing from:\n{}",
            o.stdout
        );
    }
    let s = check_outputs(&dir.path().join("out"));
    assert_eq!(s["trials"], 2000);
    assert_eq!(s["scenario"]["name"], "baseline");
    assert_eq!(
        s["scenario"]["sha256"],
        crmsim::scenario::sha256_hex(crmsim::scenario::BASELINE_TOML.as_bytes())
    );
    let results = s["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["strategy"] == "base"));
    // Every commodity reports world, ROW and EU.
    let commodities: Vec<&str> = results
        .iter()
        .map(|r| r["commodity"].as_str().unwrap())
        .collect();
    for k in &commodities {
        for j in ["world", "ROW", "EU"] {
            result(&s, k, j);
        }
    }
}

#[test]
fn run_custom_file_uses_its_header_and_reports_tonnes() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    let o = expect(
        dir.path(),
        &["run", "small.toml", "--out", "res", NO_FIGURES],
        0,
    );
    assert!(o.stdout.contains("small.toml"), "{}", o.stdout);
    assert!(o.stdout.contains("Gallium"), "{}", o.stdout);
    let s = check_outputs(&dir.path().join("res"));
    // Header defaults from the file (no --trials / --seed given).
    assert_eq!(s["scenario"]["name"], "small");
    assert_eq!(s["trials"], 1000);
    assert_eq!(s["seed"], 7);
    assert_eq!(s["horizon_months"], 6);
    assert_eq!(
        s["scenario"]["sha256"],
        crmsim::scenario::sha256_hex(SMALL.as_bytes())
    );
    // demand_tonnes = H * d(j): M = 100 t/month, H = 6.
    for (j, want) in [
        ("EU", 180.0),
        ("US", 120.0),
        ("ROW", 300.0),
        ("world", 600.0),
    ] {
        let r = result(&s, "gallium", j);
        let got = r["demand_tonnes"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{j}: {got} vs {want}");
    }
    // stockout_prob is a number only for consumers with a stockpile.
    assert!(result(&s, "gallium", "EU")["metrics"]["stockout_prob"].is_f64());
    for j in ["US", "ROW", "world"] {
        assert!(
            result(&s, "gallium", j)["metrics"]["stockout_prob"].is_null(),
            "{j}"
        );
    }
    // A ban that targets everyone produces shortfalls.
    assert!(
        result(&s, "gallium", "world")["metrics"]["mean"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

#[test]
fn demand_tonnes_is_null_without_annual_demand() {
    let dir = tmp();
    write(
        dir.path(),
        "frac.toml",
        &SMALL.replace("annual_demand = 1200\n", ""),
    );
    expect(
        dir.path(),
        &["run", "frac.toml", "--out", "o", "--quiet", NO_FIGURES],
        0,
    );
    let s = check_outputs(&dir.path().join("o"));
    for r in s["results"].as_array().unwrap() {
        assert!(r["demand_tonnes"].is_null(), "{r}");
    }
}

#[test]
fn trials_and_seed_flags_override_the_file() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    expect(
        dir.path(),
        &[
            "run",
            "small.toml",
            "--trials",
            "300",
            "--seed",
            "99",
            "--out",
            "o",
            "--quiet",
            NO_FIGURES,
        ],
        0,
    );
    let s = check_outputs(&dir.path().join("o"));
    assert_eq!(s["trials"], 300);
    assert_eq!(s["seed"], 99);
}

#[test]
fn quiet_prints_nothing_but_writes_files() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    // Figures on: drawing them must not print either.
    let o = expect(
        dir.path(),
        &["run", "small.toml", "--quiet", "--out", "q"],
        0,
    );
    assert_eq!(o.stdout, "");
    assert_eq!(o.stderr, "");
    check_outputs(&dir.path().join("q"));
}

#[test]
fn default_output_folder_is_output_slash_name() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    let o = expect(
        dir.path(),
        &["run", "small.toml", "--trials", "200", NO_FIGURES],
        0,
    );
    let out = dir.path().join("output").join("small");
    assert!(out.join("summary.json").is_file(), "{}", o.stdout);
    assert!(out.join("metrics.csv").is_file());
    assert!(o.stdout.contains("summary.json"), "{}", o.stdout);
}

#[test]
fn default_output_folder_of_the_baseline() {
    let dir = tmp();
    expect(
        dir.path(),
        &["run", "--trials", "500", "--quiet", NO_FIGURES],
        0,
    );
    check_outputs(&dir.path().join("output").join("baseline"));
}

#[test]
fn results_do_not_depend_on_thread_count_but_on_seed() {
    let dir = tmp();
    let d = dir.path();
    let base = ["run", "--trials", "2000", "--quiet", NO_FIGURES];
    let run = |extra: &[&str], out: &str| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", out]);
        expect(d, &args, 0);
        let s = read_json(&d.join(out).join("summary.json"));
        serde_json::to_string(&s["results"]).unwrap()
    };
    let one = run(&["--threads", "1"], "t1");
    let two = run(&["--threads", "2"], "t2");
    assert!(one == two, "results differ between 1 and 2 threads");
    let csv1 = std::fs::read(d.join("t1/metrics.csv")).unwrap();
    let csv2 = std::fs::read(d.join("t2/metrics.csv")).unwrap();
    assert!(csv1 == csv2, "metrics.csv differs between 1 and 2 threads");
    let other = run(&["--threads", "2", "--seed", "12345"], "s2");
    assert!(one != other, "a different seed gave the same results");
}

#[test]
fn results_are_byte_identical_across_thread_counts_for_a_small_file() {
    let dir = tmp();
    let d = dir.path();
    write(d, "small.toml", SMALL);
    for (threads, out) in [("1", "a"), ("2", "b")] {
        expect(
            d,
            &[
                "run",
                "small.toml",
                "--threads",
                threads,
                "--out",
                out,
                "--quiet",
                NO_FIGURES,
            ],
            0,
        );
    }
    let a = read_json(&d.join("a/summary.json"));
    let b = read_json(&d.join("b/summary.json"));
    assert_eq!(
        serde_json::to_string(&a["results"]).unwrap(),
        serde_json::to_string(&b["results"]).unwrap()
    );
}

// ------------------------------------------------------------------- validate

#[test]
fn validate_ok_prints_one_line_summary() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    let o = expect(dir.path(), &["validate", "small.toml"], 0);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", o.stdout);
    let line = lines[0];
    assert!(line.starts_with("small.toml"), "{line}");
    assert!(line.contains("ok"), "{line}");
    for count in [
        "1 commodity,",
        "1 country,",
        "2 consumers",
        "1 shock,",
        "0 events",
        "0 alliances",
        "0 regimes",
    ] {
        assert!(line.contains(count), "{count} missing from {line}");
    }
    assert_eq!(o.stderr, "");
}

/// The complete example of docs/scenario-format.md validates to exactly the
/// line the page says it prints.
#[test]
fn validate_prints_the_line_the_format_reference_shows() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario-format.md"),
    )
    .unwrap();
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .unwrap();
    let shown = doc
        .split('`')
        .find(|s| s.starts_with("gallium-demo.toml: ok - "))
        .expect("the page shows the output of validate");
    let dir = tmp();
    write(dir.path(), "gallium-demo.toml", example);
    let o = expect(dir.path(), &["validate", "gallium-demo.toml"], 0);
    assert_eq!(o.stdout.trim_end(), shown);
}

/// A device that never ends (or any file over 256 MB) is refused as an input
/// file instead of being read until memory runs out.
#[cfg(target_os = "linux")]
#[test]
fn an_endless_input_file_is_refused() {
    let dir = tmp();
    let o = expect(dir.path(), &["validate", "/dev/zero"], 2);
    assert!(
        o.stderr.contains("/dev/zero: is larger than 256 MB"),
        "{}",
        o.stderr
    );
}

/// The short example under README's "Scenario format" is a valid scenario.
#[test]
fn the_readme_scenario_example_validates() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("## Scenario format").nth(1).unwrap();
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .unwrap();
    assert!(example.contains("[[alliance]]") && example.contains("[[strategy]]"));
    let dir = tmp();
    write(dir.path(), "demo.toml", example);
    let o = expect(dir.path(), &["validate", "demo.toml"], 0);
    assert!(o.stdout.starts_with("demo.toml: ok"), "{}", o.stdout);
}

#[test]
fn validate_prints_warnings_and_still_succeeds() {
    let dir = tmp();
    write(
        dir.path(),
        "row.toml",
        &SMALL.replace("CN = 0.7", "CN = 0.5"),
    );
    let o = expect(dir.path(), &["validate", "row.toml"], 0);
    assert!(
        o.stdout.lines().next().unwrap().contains("ok"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .lines()
            .any(|l| l.starts_with("warning:") && l.contains("ROW") && l.contains("50%")),
        "{}",
        o.stdout
    );
}

#[test]
fn validate_bad_file_lists_every_problem() {
    let dir = tmp();
    write(dir.path(), "bad.toml", BAD);
    let o = expect(dir.path(), &["validate", "bad.toml"], 2);
    assert_eq!(o.stdout, "");
    let e = &o.stderr;
    assert!(e.contains("bad.toml"), "{e}");
    assert!(e.contains("3 problems"), "{e}");
    assert!(
        e.contains("[scenario]") && e.contains("horizon_months"),
        "{e}"
    );
    assert!(
        e.contains("[[commodity]] id \"gallium\"") && e.contains("producers.production.CN"),
        "{e}"
    );
    assert!(
        e.contains("[[shock]] id \"cn-ban\"") && e.contains("`severity`"),
        "{e}"
    );
}

#[test]
fn run_and_inspect_reject_a_bad_file_too() {
    let dir = tmp();
    write(dir.path(), "bad.toml", BAD);
    for args in [
        &["run", "bad.toml", "--trials", "10", "--out", "o"][..],
        &["inspect", "bad.toml"][..],
    ] {
        let o = expect(dir.path(), args, 2);
        assert!(
            o.stderr.contains("bad.toml") && o.stderr.contains("3 problems"),
            "{}",
            o.stderr
        );
    }
    assert!(!dir.path().join("o/summary.json").exists());
}

#[test]
fn toml_syntax_error_gives_line_and_column() {
    let dir = tmp();
    write(
        dir.path(),
        "syntax.toml",
        "[scenario]\nname = \"x\"\nhorizon_months = = 3\n",
    );
    for args in [
        &["validate", "syntax.toml"][..],
        &["run", "syntax.toml", "--out", "o"][..],
        &["inspect", "syntax.toml"][..],
    ] {
        let o = expect(dir.path(), args, 2);
        let e = &o.stderr;
        assert!(
            e.contains("syntax.toml") && e.contains("line 3") && e.contains("column"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn unknown_key_gives_line_and_column() {
    let dir = tmp();
    let text = SMALL.replace("rate_per_year = 1.5", "rate_per_yaer = 1.5");
    let line = text
        .lines()
        .position(|l| l.contains("rate_per_yaer"))
        .unwrap()
        + 1;
    write(dir.path(), "typo.toml", &text);
    let o = expect(dir.path(), &["validate", "typo.toml"], 2);
    let e = &o.stderr;
    assert!(
        e.contains("typo.toml")
            && e.contains("rate_per_yaer")
            && e.contains(&format!("line {line}"))
            && e.contains("column"),
        "{e}"
    );
}

#[test]
fn missing_file_is_exit_1_naming_the_path() {
    let dir = tmp();
    for args in [
        &["validate", "nope.toml"][..],
        &["inspect", "nope.toml"][..],
        &["run", "nope.toml", "--out", "o"][..],
    ] {
        let o = expect(dir.path(), args, 1);
        assert!(o.stderr.contains("nope.toml"), "{args:?}: {}", o.stderr);
        assert!(o.stderr.starts_with("error:"), "{}", o.stderr);
    }
}

#[test]
fn unwritable_output_is_exit_1_with_a_clear_message() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    std::fs::write(dir.path().join("file"), "not a folder").unwrap();
    for out in ["file/sub", "file"] {
        let o = expect(
            dir.path(),
            &["run", "small.toml", "--trials", "100", "--out", out],
            1,
        );
        let e = &o.stderr;
        assert!(e.starts_with("error:"), "{e}");
        assert!(e.contains(out) && e.contains("output"), "{e}");
        assert_eq!(e.lines().count(), 1, "one line, no backtrace: {e}");
    }
}

// ------------------------------------------------------------------- inspect

#[test]
fn inspect_table_shows_hhi_and_crma_flag() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    let o = expect(dir.path(), &["inspect", "small.toml"], 0);
    let t = &o.stdout;
    assert!(t.contains("HHI"), "{t}");
    let row = t
        .lines()
        .find(|l| l.starts_with("gallium"))
        .unwrap_or_else(|| panic!("no gallium row in:\n{t}"));
    assert!(row.contains("4900"), "{row}");
    assert!(row.contains(">65%"), "{row}");
    assert!(row.contains("CN"), "{row}");
}

#[test]
fn inspect_no_flag_at_or_below_65_percent() {
    let dir = tmp();
    write(
        dir.path(),
        "sixty.toml",
        &SMALL.replace("CN = 0.7", "CN = 0.65"),
    );
    let o = expect(dir.path(), &["inspect", "sixty.toml"], 0);
    let row = o.stdout.lines().find(|l| l.starts_with("gallium")).unwrap();
    assert!(!row.contains(">65%"), "{row}");
}

#[test]
fn inspect_json_has_concentration_rows() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    let o = expect(dir.path(), &["inspect", "--json", "small.toml"], 0);
    let v: Value = serde_json::from_str(&o.stdout).expect("inspect --json prints JSON");
    let rows = v["concentration"].as_array().expect("concentration rows");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["commodity"], "gallium");
    assert_eq!(r["stage"], "production");
    assert_eq!(r["hhi"].as_f64(), Some(4900.0));
    assert_eq!(r["top_producer"], "CN");
    assert_eq!(r["over_65"], true);
    assert!((r["row_share"].as_f64().unwrap() - 0.3).abs() < 1e-12);
}

/// Model v2 features: a midstream buffer on the ore stage, an uncertain
/// (gamma) rate and a regime that triples export bans half of the time.
const V2: &str = r#"
[scenario]
name = "v2"
[[country]]
id = "CD"
name = "DR Congo"
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { co = 0.5 }
[[commodity]]
id = "co"
name = "Cobalt"
stages = ["mining", "refining"]
buffer_months = { mining = 2.0 }
[commodity.producers.mining]
CD = 0.8
[commodity.producers.refining]
CN = 0.8
[[shock]]
id = "cn-ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = { dist = "gamma", shape = 2.0, scale = 0.25 }
severity = 0.5
duration_months = 2.0
[[shock]]
id = "cd-strike"
kind = "conflict"
countries = ["CD"]
rate_per_year = 0.2
severity = 0.5
duration_months = 2.0
[[regime]]
id = "tense"
probability = 0.5
multipliers = [ { kind = "export_ban", factor = 3.0 } ]
"#;

#[test]
fn validate_and_inspect_show_buffers_and_uncertain_rates() {
    let dir = tmp();
    write(dir.path(), "v2.toml", V2);
    let o = expect(dir.path(), &["validate", "v2.toml"], 0);
    assert!(
        o.stdout.contains("1 uncertain rate, 1 midstream buffer"),
        "{}",
        o.stdout
    );
    write(dir.path(), "v1.toml", SMALL);
    let o = expect(dir.path(), &["validate", "v1.toml"], 0);
    assert!(
        !o.stdout.contains("uncertain") && !o.stdout.contains("buffer"),
        "{}",
        o.stdout
    );

    let t = expect(dir.path(), &["inspect", "v2.toml"], 0).stdout;
    let row = |start: &str| {
        t.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no row {start} in:\n{t}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    // The buffer is on the ore stage only, in months of primary demand.
    assert_eq!(row("co             mining")[8..10], ["2.0", "mo"]);
    assert_eq!(row("co             refining")[8], "-");
    // Mean rate k * theta = 0.5; regime-averaged multiplier 0.5 + 0.5 * 3 = 2.
    assert_eq!(row("cn-ban")[2], "0.500");
    assert_eq!(row("cn-ban")[6], "1.000");
    assert_eq!(row("cd-strike")[2..], ["0.200", "-", "0.200"]);

    let v: Value =
        serde_json::from_str(&expect(dir.path(), &["inspect", "--json", "v2.toml"], 0).stdout)
            .unwrap();
    let ban = &v["shocks"][0];
    assert_eq!(ban["shock"], "cn-ban");
    assert_eq!(ban["uncertain"], true);
    assert_eq!(ban["expected_per_year"].as_f64(), Some(1.0));
    // Gamma(2, 0.25) quantiles: P(X <= x) = 1 - e^(-x/θ)(1 + x/θ) is 0.05 at
    // x/θ = 0.35536 and 0.95 at 4.74386 (sampled: within 3%).
    for (field, want) in [("rate_p05", 0.35536 * 0.25), ("rate_p95", 4.74386 * 0.25)] {
        let got = ban[field].as_f64().unwrap();
        assert!((got / want - 1.0).abs() < 0.03, "{field}: {got} vs {want}");
    }
    assert_eq!(v["shocks"][1]["uncertain"], false);
    assert_eq!(v["concentration"][0]["buffer_months"].as_f64(), Some(2.0));
}

// ------------------------------------------------------------------- arguments

#[test]
fn bad_arguments_exit_2() {
    let dir = tmp();
    write(dir.path(), "small.toml", SMALL);
    for args in [
        &["run", "--trials", "abc"][..],
        &["run", "--trials", "-5"][..],
        &["run", "small.toml", "--trials", "0", "--out", "o"][..],
        &["run", "--threads", "0"][..],
        &["run", "--trails", "10"][..],
        &["frobnicate"][..],
        &["validate"][..],
        &["inspect"][..],
        &[][..],
    ] {
        let o = expect(dir.path(), args, 2);
        assert!(!o.stderr.is_empty(), "{args:?}: no message");
        assert!(
            o.stderr.contains("error") || o.stderr.contains("Usage"),
            "{args:?}: {}",
            o.stderr
        );
    }
}

#[test]
fn help_of_every_subcommand_mentions_each_option() {
    let dir = tmp();
    let top = expect(dir.path(), &["--help"], 0);
    let cli = crmsim::cli::Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        assert!(top.stdout.contains(name), "--help lacks {name}");
        let o = expect(dir.path(), &[name, "--help"], 0);
        let mut n = 0;
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let shown = match arg.get_long() {
                Some(long) => format!("--{long}"),
                None => arg
                    .get_value_names()
                    .and_then(|v| v.first().map(|s| s.to_string()))
                    .unwrap_or_else(|| arg.get_id().as_str().to_uppercase()),
            };
            assert!(
                o.stdout.contains(&shown),
                "`{name} --help` lacks {shown}:\n{}",
                o.stdout
            );
            n += 1;
        }
        assert!(n > 0, "{name} has no arguments?");
    }
    // The options the brief promises, spelled out.
    let run = expect(dir.path(), &["run", "--help"], 0).stdout;
    for opt in [
        "--trials",
        "--seed",
        "--threads",
        "--out",
        "--quiet",
        "FILE",
    ] {
        assert!(run.contains(opt), "run --help lacks {opt}");
    }
    let inspect = expect(dir.path(), &["inspect", "--help"], 0).stdout;
    assert!(inspect.contains("--json") && inspect.contains("FILE"));
    assert!(inspect.contains("midstream buffer") && inspect.contains("uncertain rate"));
    let validate = expect(dir.path(), &["validate", "--help"], 0).stdout;
    assert!(validate.contains("FILE"));
}

#[test]
fn version_is_the_crate_version_and_build() {
    let dir = tmp();
    let o = expect(dir.path(), &["--version"], 0);
    let want = format!(
        "crmsim {} (build {})",
        env!("CARGO_PKG_VERSION"),
        crmsim::BUILD
    );
    assert_eq!(o.stdout.trim(), want);
    assert_eq!(crmsim::BUILD.len(), 16);
}

#[test]
fn no_error_path_prints_a_backtrace() {
    // `run_in` checks every output for "stack backtrace" and "panicked";
    // this sweeps the error paths in one place with RUST_BACKTRACE=1.
    let dir = tmp();
    let d = dir.path();
    write(d, "bad.toml", BAD);
    write(d, "syntax.toml", "[scenario\n");
    write(d, "empty.toml", "");
    std::fs::write(d.join("binary.toml"), b"\xff\xfe\x00garbage").unwrap();
    std::fs::write(d.join("file"), "x").unwrap();
    write(d, "small.toml", SMALL);
    let cases: &[&[&str]] = &[
        &["validate", "bad.toml"],
        &["validate", "syntax.toml"],
        &["validate", "empty.toml"],
        &["validate", "binary.toml"],
        &["validate", "missing.toml"],
        &["validate", "."],
        &["inspect", "--json", "bad.toml"],
        &["run", "bad.toml"],
        &["run", "small.toml", "--trials", "10", "--out", "file/x"],
        &["run", "--threads", "0"],
        &["nope"],
    ];
    for args in cases {
        let o = run_in(d, args);
        assert_ne!(o.code, 0, "{args:?} succeeded");
        assert!(o.code == 1 || o.code == 2, "{args:?}: exit {}", o.code);
        assert!(!o.stderr.trim().is_empty(), "{args:?}: silent failure");
    }
}
