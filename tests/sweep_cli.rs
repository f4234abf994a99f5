//! `crmsim sweep` on the command line: the files of each mode, stale
//! figures removed, and every error path (exit 2 naming the PATH or option
//! and the rule, before any simulation; exit 1 for I/O).

mod common;

use std::path::Path;

use crmsim::report::sweep::SweepReport;

/// Two commodities: `a` (EU under a scheduled ban) and `b` (a random conflict).
const CASE: &str = r#"
[scenario]
name = "sweep-cli"
trials = 200
seed = 3
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "European Union"
demand_share = { a = 0.5, b = 0.3 }
[[commodity]]
id = "a"
name = "Alpha"
[commodity.producers.production]
CN = 0.9
[[commodity]]
id = "b"
name = "Beta"
[commodity.producers.production]
CN = 0.6
[[event]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
commodities = ["a"]
start_month = 0.0
duration_months = 6.0
severity = 0.8
targets = ["EU"]
[[shock]]
id = "war"
kind = "conflict"
countries = ["CN"]
rate_per_year = 1.0
severity = { dist = "beta", alpha = 2.0, beta = 3.0 }
duration_months = 3.0
"#;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Out {
    let out = common::crmsim()
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .arg("sweep")
        .arg("case.toml")
        .args(["--trials", "300", "--out", "out"])
        .args(args)
        .output()
        .unwrap();
    let o = Out {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert!(
        !o.stderr.contains("panicked") && !o.stderr.contains("backtrace"),
        "{}",
        o.stderr
    );
    o
}

fn setup(name: &str) -> std::path::PathBuf {
    let d = common::scratch(name);
    std::fs::write(d.join("case.toml"), CASE).unwrap();
    d
}

fn report(dir: &Path) -> SweepReport {
    let text = std::fs::read_to_string(dir.join("out/sweep.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn tornado_writes_json_csv_figures_and_report() {
    let d = setup("sweep-cli-tornado");
    let o = run(
        &d,
        &[
            "--vary",
            "shock.war.rate_per_year=0.5..2",
            "--vary",
            "consumer.EU.stockpile_months.a=0..2",
            "--metric",
            "cvar95",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Alpha (a): base"), "{}", o.stdout);
    let r = report(&d);
    assert_eq!((r.mode.as_str(), r.metric.as_str()), ("tornado", "cvar95"));
    assert_eq!((r.commodity.clone(), r.consumer.as_str()), (None, "world"));
    assert_eq!(r.tornado.as_ref().unwrap().len(), 4); // 2 PATHs x 2 commodities
    assert_eq!(r.points.len(), 8);
    assert!(r.base.is_object());
    // provenance: the command line, times, version and build
    assert_eq!(r.run.crmsim_version, crmsim::LONG_VERSION);
    assert!(r.run.command_line.iter().any(|a| a == "sweep"));
    assert!(r.run.command_line.iter().any(|a| a == "cvar95"));
    for t in [&r.run.started, &r.run.finished] {
        assert!(t.len() == 20 && t.ends_with('Z'), "{t}");
    }
    assert!(r.run.started <= r.run.finished);
    let csv = std::fs::read_to_string(d.join("out/sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 8);
    assert!(csv.starts_with("point,commodity,consumer,metric_name,path,value,metric,"));
    for f in [
        "tornado-a.svg",
        "tornado-a.png",
        "tornado-b.svg",
        "tornado-b.png",
    ] {
        assert!(d.join("out/figures").join(f).is_file(), "{f}");
    }
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("<h2>Sensitivity</h2>") && html.contains("<svg"));
    // a grid in the same folder replaces the tornado's figures
    let o = run(
        &d,
        &[
            "--grid",
            "--vary",
            "shock.war.rate_per_year=0.5..2:3",
            "--commodity",
            "b",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!d.join("out/figures/tornado-a.svg").exists());
    assert!(d.join("out/figures/sweep-grid.png").is_file());
    let r = report(&d);
    assert_eq!(r.commodity.as_deref(), Some("b"));
    assert!(r.base.is_number());
    // --no-figures leaves no stale sweep figures or report behind
    let o = run(
        &d,
        &["--no-figures", "--vary", "shock.war.rate_per_year=0.5..2"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!d.join("out/figures/sweep-grid.png").exists());
    assert!(!d.join("out/report.html").exists());
}

#[test]
fn target_prints_the_answer() {
    let d = setup("sweep-cli-target");
    let o = run(
        &d,
        &[
            "--vary",
            "consumer.EU.stockpile_months.a=0..6",
            "--target",
            "mean<=0.1",
            "--commodity",
            "a",
            "--consumer",
            "EU",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("met at consumer.EU.stockpile_months.a = "),
        "{}",
        o.stdout
    );
    let t = report(&d).target.unwrap();
    // 0.9 of supply lost at 0.8 for 6 of 12 months is 4.32 months of
    // demand: mean <= 0.1 needs at least 3.12 months of stock, more with
    // the random conflict on top
    let v = t.value.unwrap();
    assert_eq!(t.status, "found");
    assert!((3.12..6.0).contains(&v) && t.metric <= 0.1, "{t:?}");
    // printed to the precision the search has, not as a float's digits
    let shown = crmsim::report::sweep::at_tolerance(v, t.tolerance);
    assert!(
        o.stdout
            .contains(&format!("consumer.EU.stockpile_months.a = {shown} (")),
        "{}",
        o.stdout
    );
    assert!(shown.len() <= 6, "{shown}");
    assert!(d.join("out/figures/sweep-target.svg").is_file());
}

/// A PATH of 203 parts (refused before it is resolved).
const LONG_PATH: &str = concat!(
    "consumer.EU.stockpile_months",
    ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
    ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
    ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
    ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
    ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
    "=0..1"
);

#[test]
fn every_error_exits_2_naming_the_problem_before_simulating() {
    let d = setup("sweep-cli-errors");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--vary", "shock.nope.rate_per_year=0..1"],
            "no [[shock]] with id \"nope\"",
        ),
        (
            &["--vary", "shok.war.rate_per_year=0..1"],
            "unknown table `shok`",
        ),
        (
            &["--vary", "shock.war.severity=0..1"],
            "vary one of its parameters",
        ),
        (
            &["--vary", "shock.war.severity.mode=0..1"],
            "no parameter `mode`",
        ),
        (
            &["--vary", "consumer.EU.demand_share.a=0.5..1.2"],
            "consumer.EU.demand_share.a = 1.2",
        ),
        (
            &["--vary", "consumer.EU.demand_share.a=0.5..1e300"],
            "consumer.EU.demand_share.a = 1e300:",
        ),
        (
            &["--vary", "shock.war.severity.alpha=-1..1"],
            "shock.war.severity.alpha = -1",
        ),
        (
            &["--vary", "consumer.EU.stockpil_months.a=0..1"],
            "stockpil_months",
        ),
        (
            &["--vary", "shock.war.rate_per_year"],
            "expected PATH=LOW..HIGH",
        ),
        (
            &["--vary", "shock.war.rate_per_year=1-2"],
            "expected LOW..HIGH",
        ),
        (
            &["--vary", "shock.war.rate_per_year=2..1"],
            "LOW must be below HIGH",
        ),
        (
            &["--vary", "shock.war.rate_per_year=a..1"],
            "not a finite number",
        ),
        (
            &["--vary", "shock.war.rate_per_year=0..1:3"],
            "only with --grid",
        ),
        (
            &["--grid", "--vary", "shock.war.rate_per_year=0..1:1"],
            "STEPS must be",
        ),
        (
            &["--vary", LONG_PATH],
            "has 203 parts; a PATH has at most 100",
        ),
        (
            &[
                "--grid",
                "--vary",
                "shock.war.rate_per_year=0..1:1001",
                "--vary",
                "event.ban.severity=0..1:1001",
            ],
            "1001 × 1001 = 1,002,001 points; a grid has at most 10,201",
        ),
        (
            &[
                "--grid",
                "--vary",
                "shock.war.rate_per_year=0..1",
                "--vary",
                "event.ban.severity=0..1",
                "--vary",
                "event.ban.duration_months=0..1",
            ],
            "one or two --vary",
        ),
        (
            &[
                "--target",
                "mean<=0.1",
                "--commodity",
                "a",
                "--vary",
                "shock.war.rate_per_year=0..1",
                "--vary",
                "event.ban.severity=0..1",
            ],
            "exactly one --vary",
        ),
        (
            &[
                "--target",
                "mean<=0.1",
                "--vary",
                "shock.war.rate_per_year=0..1",
            ],
            "--commodity",
        ),
        (
            &[
                "--target",
                "mean<0.1",
                "--vary",
                "shock.war.rate_per_year=0..1",
            ],
            "METRIC<=X",
        ),
        (
            &[
                "--target",
                "avg<=0.1",
                "--vary",
                "shock.war.rate_per_year=0..1",
            ],
            "unknown metric `avg`",
        ),
        (
            &[
                "--metric",
                "p95",
                "--target",
                "mean<=0.1",
                "--vary",
                "shock.war.rate_per_year=0..1",
            ],
            "disagree",
        ),
        (
            &[
                "--metric",
                "cvar90",
                "--vary",
                "shock.war.rate_per_year=0..1",
            ],
            "unknown metric",
        ),
        (
            &["--consumer", "XX", "--vary", "shock.war.rate_per_year=0..1"],
            "--consumer XX",
        ),
        (
            &["--commodity", "z", "--vary", "shock.war.rate_per_year=0..1"],
            "--commodity z",
        ),
        (
            &[
                "--vary",
                "shock.war.rate_per_year=0..1",
                "--vary",
                "shock.war.rate_per_year=1..2",
            ],
            "given twice",
        ),
        (&[], "at least one --vary"),
        (
            &["--trials", "0", "--vary", "shock.war.rate_per_year=0..1"],
            "--trials",
        ),
        (
            &[
                "--grid",
                "--target",
                "mean<=0.1",
                "--vary",
                "shock.war.rate_per_year=0..1",
            ],
            "cannot be used with",
        ),
    ];
    for (args, want) in cases {
        let o = run(&d, args);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains(want),
            "{args:?}: want `{want}` in:\n{}",
            o.stderr
        );
        assert!(
            !o.stderr.contains("Error {") && !o.stderr.contains("Some("),
            "{}",
            o.stderr
        );
        assert!(!d.join("out/sweep.json").exists(), "{args:?} simulated");
    }
}

#[test]
fn io_failures_exit_1() {
    let d = setup("sweep-cli-io");
    std::fs::write(d.join("out"), "a file where the folder should be").unwrap();
    let o = run(&d, &["--vary", "shock.war.rate_per_year=0..1"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("out"), "{}", o.stderr);
}

#[test]
fn plot_redraws_a_sweep_from_its_json() {
    let d = setup("sweep-cli-plot");
    let o = run(
        &d,
        &[
            "--no-figures",
            "--grid",
            "--vary",
            "shock.war.rate_per_year=0.5..2:3",
            "--vary",
            "event.ban.severity=0.2..1:2",
            "--commodity",
            "a",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!d.join("out/figures/sweep-grid.svg").exists());
    let plot = |args: &[&str]| {
        common::crmsim()
            .current_dir(&d)
            .arg("plot")
            .args(args)
            .output()
            .unwrap()
    };
    let out = plot(&["out/sweep.json", "--format", "svg"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d.join("out/figures/sweep-grid.svg").is_file());
    assert!(!d.join("out/figures/sweep-grid.png").exists());
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("Sensitivity"));
    std::fs::create_dir_all(d.join("bad")).unwrap();
    std::fs::write(d.join("bad/sweep.json"), "{\"mode\": 3}").unwrap();
    let out = plot(&["bad/sweep.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a crmsim sweep.json"));
    let out = plot(&["missing/sweep.json"]);
    assert_eq!(out.status.code(), Some(1));
}
