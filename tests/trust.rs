//! Outputs an analyst can trust: output folders that always hold one
//! complete run (stale files, locks, signals, read-only and foreign
//! folders), provenance in the `run` block, errors in plain words, numbers
//! that never mislead, and `plot` refusing impossible summaries.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

mod common;
use common::crmsim;

/// One commodity, two consumers, an export ban: fast and with shortfalls.
const SMALL: &str = r#"
[scenario]
name = "small"
horizon_months = 6
trials = 400
seed = 7

[[country]]
id = "CN"
name = "China"

[[consumer]]
id = "EU"
name = "European Union"
demand_share = { gallium = 0.3 }

[[consumer]]
id = "US"
name = "United States"
demand_share = { gallium = 0.2 }

[[commodity]]
id = "gallium"
name = "Gallium"
annual_demand = 700
[commodity.producers.production]
CN = 0.98

[[shock]]
id = "cn-ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = 1.5
severity = { dist = "beta", alpha = 2.0, beta = 2.0 }
duration_months = 2.0
"#;

/// A strategy file with `n` strategies (stockpiles of 1..=n months for EU).
fn strategies(n: usize) -> String {
    (1..=n)
        .map(|i| {
            format!(
                "[[strategy]]\nid = \"stock{i}\"\ncost_per_year = {c}\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_months = {{ gallium = {i}.0 }}\n",
                c = i * 1_000_000
            )
        })
        .collect()
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Out {
    let o = crmsim().current_dir(dir).args(args).output().unwrap();
    let out = Out {
        code: o.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("stack backtrace"),
        "{args:?}: {}",
        out.stderr
    );
    out
}

fn expect(dir: &Path, args: &[&str], code: i32) -> Out {
    let o = run(dir, args);
    assert_eq!(
        o.code, code,
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        o.stdout, o.stderr
    );
    o
}

fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("small.toml"), SMALL).unwrap();
    for n in [2, 4] {
        std::fs::write(d.path().join(format!("st{n}.toml")), strategies(n)).unwrap();
    }
    d
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                v.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    v.sort();
    v
}

/// Hidden staging or old folders left beside `out`'s parent.
fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && (n.contains(".crmsim-") || n.contains(".old-")))
        .collect()
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

// ------------------------------------------------------------ output folders

#[test]
fn a_folder_holds_one_run_no_stale_files() {
    let d = setup();
    let p = d.path();
    let args = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["--trials", "200", "--quiet", "--out", "o"];
        v.extend_from_slice(extra);
        v
    };
    let mut a = vec!["compare", "small.toml", "--strategy", "st4.toml"];
    a.extend(args(&[]));
    expect(p, &a, 0);
    let four = files(&p.join("o"));
    assert!(four.iter().any(|f| f.contains("stock4")), "{four:?}");
    // Two strategies after four: nothing of stock3 or stock4 is left.
    let mut a = vec!["compare", "small.toml", "--strategy", "st2.toml"];
    a.extend(args(&[]));
    expect(p, &a, 0);
    let two = files(&p.join("o"));
    assert!(
        !two.iter()
            .any(|f| f.contains("stock3") || f.contains("stock4")),
        "{two:?}"
    );
    assert!(two.iter().any(|f| f.contains("stock2")), "{two:?}");
    let manifest = std::fs::read_to_string(p.join("o/.crmsim-output")).unwrap();
    for f in two.iter().filter(|f| !f.starts_with('.')) {
        assert!(manifest.lines().any(|l| l == f), "{f} not in the manifest");
    }
    // A run without figures after a compare: no report or figures of the compare.
    let mut a = vec!["run", "small.toml", "--no-figures"];
    a.extend(args(&[]));
    expect(p, &a, 0);
    let one = files(&p.join("o"));
    assert_eq!(one, [".crmsim-output", "metrics.csv", "summary.json"]);
    assert!(json(&p.join("o/summary.json"))["comparison"].is_null());
    assert!(leftovers(p).is_empty(), "{:?}", leftovers(p));
}

#[test]
fn a_folder_with_other_files_is_refused_and_left_alone() {
    let d = setup();
    let p = d.path();
    std::fs::create_dir(p.join("mine")).unwrap();
    std::fs::write(p.join("mine/notes.txt"), "keep me").unwrap();
    let o = expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--quiet",
            "--out",
            "mine",
        ],
        2,
    );
    assert!(
        o.stderr.contains("mine") && o.stderr.contains("notes.txt"),
        "{}",
        o.stderr
    );
    assert_eq!(files(&p.join("mine")), ["notes.txt"]);
    // The current folder, which holds the scenario, is refused too.
    expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--quiet",
            "--out",
            ".",
        ],
        2,
    );
    assert!(p.join("small.toml").is_file());
}

#[test]
fn a_locked_folder_is_refused_with_a_clear_message() {
    let d = setup();
    let p = d.path();
    std::fs::create_dir(p.join("o")).unwrap();
    let held = std::fs::File::open(p.join("o")).unwrap();
    held.lock().unwrap();
    let o = expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--no-figures",
            "--out",
            "o",
        ],
        1,
    );
    assert!(
        o.stderr.contains("in use by another crmsim run") && o.stderr.lines().count() == 1,
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("simulating"), "simulated anyway");
    held.unlock().unwrap();
    expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--no-figures",
            "--quiet",
            "--out",
            "o",
        ],
        0,
    );
}

#[test]
fn a_read_only_folder_fails_before_simulating() {
    use std::os::unix::fs::PermissionsExt;
    let d = setup();
    let p = d.path();
    // A folder no one can create (even root): refused before simulating.
    let o = expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--no-figures",
            "--out",
            "/proc/crmsim-out",
        ],
        1,
    );
    assert!(o.stderr.contains("/proc/crmsim-out"), "{}", o.stderr);
    assert!(
        !o.stderr.contains("simulating"),
        "simulated first: {}",
        o.stderr
    );
    let ro = p.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), "x").is_ok() {
        eprintln!("skipped: running as a user who can write anywhere (root)");
        return;
    }
    let o = expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--no-figures",
            "--out",
            "ro/sub",
        ],
        1,
    );
    assert!(o.stderr.contains("ro/sub"), "{}", o.stderr);
    assert!(
        !o.stderr.contains("simulating"),
        "simulated first: {}",
        o.stderr
    );
}

/// Starts a long run into `out`, waits until it is simulating, sends
/// `signal`, and returns (exit code, stderr).
fn interrupted(p: &Path, signal: &str) -> (i32, String) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_crmsim"))
        .current_dir(p)
        .args([
            "run",
            "small.toml",
            "--trials",
            "2000000000",
            "--threads",
            "1",
            "--out",
            "o",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The staging folder exists once the checks are done and work begins.
    for _ in 0..600 {
        if !leftovers(p).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!leftovers(p).is_empty(), "the run never started");
    std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().expect("exited by itself, not killed"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn signals_leave_the_previous_run_intact_and_exit_130_or_143() {
    let d = setup();
    let p = d.path();
    expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--no-figures",
            "--quiet",
            "--out",
            "o",
        ],
        0,
    );
    let before = std::fs::read(p.join("o/summary.json")).unwrap();
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        let (got, stderr) = interrupted(p, signal);
        assert_eq!(got, code, "{signal}: {stderr}");
        let last: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("simulating"))
            .collect();
        assert_eq!(last.len(), 1, "one line: {stderr}");
        assert!(leftovers(p).is_empty(), "{signal}: {:?}", leftovers(p));
        assert_eq!(std::fs::read(p.join("o/summary.json")).unwrap(), before);
        assert_eq!(
            files(&p.join("o")),
            [".crmsim-output", "metrics.csv", "summary.json"]
        );
    }
}

#[test]
fn stale_staging_folders_of_killed_runs_are_removed() {
    let d = setup();
    let p = d.path();
    std::fs::create_dir_all(p.join(".o.crmsim-999999999/figures")).unwrap();
    std::fs::create_dir_all(p.join(".o.old-999999998")).unwrap();
    expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "50",
            "--no-figures",
            "--quiet",
            "--out",
            "o",
        ],
        0,
    );
    assert!(leftovers(p).is_empty(), "{:?}", leftovers(p));
}

#[test]
fn stdout_write_errors_exit_1() {
    let d = setup();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_crmsim"))
        .current_dir(d.path())
        .args(["inspect", "--json", "small.toml"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("standard output"), "{e}");
}

#[test]
fn summary_has_a_run_block_and_nothing_else_depends_on_the_machine() {
    let d = setup();
    let p = d.path();
    for (t, out) in [("1", "a"), ("2", "b")] {
        expect(
            p,
            &[
                "compare",
                "small.toml",
                "--strategy",
                "st2.toml",
                "--trials",
                "300",
                "--threads",
                t,
                "--no-figures",
                "--quiet",
                "--out",
                out,
            ],
            0,
        );
    }
    let mut a = json(&p.join("a/summary.json"));
    let mut b = json(&p.join("b/summary.json"));
    let run = a["run"].clone();
    assert_eq!(run["threads"], 1);
    assert_eq!(b["run"]["threads"], 2);
    assert_eq!(run["crmsim_version"], crmsim::LONG_VERSION);
    let cmd: Vec<&str> = run["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        cmd.contains(&"compare") && cmd.contains(&"st2.toml"),
        "{cmd:?}"
    );
    let sha = crmsim::scenario::sha256_hex(&std::fs::read(p.join("st2.toml")).unwrap());
    assert_eq!(run["strategy_files"][0]["sha256"], sha.as_str());
    for k in ["started", "finished"] {
        let t = run[k].as_str().unwrap();
        assert!(
            t.len() == 20 && t.ends_with('Z') && t.contains('T'),
            "{k}: {t}"
        );
    }
    a.as_object_mut().unwrap().remove("run");
    b.as_object_mut().unwrap().remove("run");
    assert_eq!(
        a, b,
        "the summary outside `run` depends on the thread count"
    );
}

// ------------------------------------------------------------------ messages

#[test]
fn messages_are_plain_words() {
    let d = setup();
    let p = d.path();
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "multipliers.toml",
            "[[regime]]\nid = \"r\"\nprobability = 0.5\nmultipliers = [ 3 ]\n",
            &["line", "expected a table"],
        ),
        (
            "sev.toml",
            "",
            &["line 34", "a number or a distribution table"],
        ),
        ("big.toml", "", &["line 5", "too large"]),
        ("beta.toml", "", &["cn-ban", "severity", "alpha"]),
    ];
    let texts = [
        format!("{SMALL}{}", cases[0].1),
        SMALL.replace(
            "severity = { dist = \"beta\", alpha = 2.0, beta = 2.0 }",
            "severity = \"x\"",
        ),
        SMALL.replace("trials = 400", "trials = 99999999999999999999"),
        SMALL.replace("alpha = 2.0, beta = 2.0", "alpha = 1e308, beta = 1e308"),
    ];
    for ((file, _, wanted), text) in cases.iter().zip(texts) {
        std::fs::write(p.join(file), text).unwrap();
        let o = expect(p, &["validate", file], 2);
        for w in *wanted {
            assert!(o.stderr.contains(w), "{file}: no {w:?} in {}", o.stderr);
        }
        for leak in [
            "struct ", "enum ", "i128", "u64", "f64", "DistSpec", "Gamma",
        ] {
            assert!(
                !o.stderr.contains(leak),
                "{file}: leaks {leak:?}: {}",
                o.stderr
            );
        }
    }
    // Huge and tiny values are quoted in exponent form, never as hundreds
    // of digits.
    let extremes = [
        (
            "alpha = 2.0, beta = 2.0",
            "alpha = 1e308, beta = 1e308",
            "got 1e308",
        ),
        ("annual_demand = 700", "annual_demand = 1e160", "got 1e160"),
        ("gallium = 0.3 }", "gallium = 1e-200 }", "got 1e-200"),
        (
            "rate_per_year = 1.5",
            "rate_per_year = 1e17",
            "mean rate 1e17",
        ),
        (
            "severity = { dist = \"beta\", alpha = 2.0, beta = 2.0 }",
            "severity = { dist = \"uniform\", min = 1e300, max = -1e300 }",
            "got 1e300 > -1e300",
        ),
    ];
    for (from, to, want) in extremes {
        std::fs::write(p.join("extreme.toml"), SMALL.replace(from, to)).unwrap();
        let o = expect(p, &["validate", "extreme.toml"], 2);
        assert!(o.stderr.contains(want), "{to}: no {want:?} in {}", o.stderr);
        let digits = o.stderr.split(|c: char| !c.is_ascii_digit());
        assert!(digits.map(str::len).max() < Some(20), "{}", o.stderr);
    }
    // The file's own `trials` too large: named as the file's field, not --trials.
    std::fs::write(
        p.join("many.toml"),
        SMALL.replace("trials = 400", "trials = 9000000000000000000"),
    )
    .unwrap();
    let o = expect(p, &["run", "many.toml", "--out", "o"], 2);
    assert!(
        o.stderr.contains("many.toml")
            && o.stderr.contains("`trials`")
            && !o.stderr.contains("--trials must"),
        "{}",
        o.stderr
    );
}

#[test]
fn strategy_file_messages() {
    let d = setup();
    let p = d.path();
    let w = |name: &str, text: &str| std::fs::write(p.join(name), text).unwrap();
    w(
        "typo.toml",
        "[[strategy]]\nid = \"x\"\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_monhts = { gallium = 2.0 }\n",
    );
    w(
        "unknown.toml",
        "[[strategy]]\nid = \"y\"\n[[strategy.consumer]]\nid = \"JP\"\nstockpile_months = { gallium = 2.0 }\n",
    );
    std::fs::write(p.join("latin1.toml"), b"[[strategy]]\nid = \"caf\xe9\"\n").unwrap();
    let compare = |f: &str| -> Out {
        expect(
            p,
            &[
                "compare",
                "small.toml",
                "--strategy",
                f,
                "--out",
                "o",
                "--trials",
                "50",
            ],
            2,
        )
    };
    let o = compare("typo.toml");
    assert!(
        o.stderr.contains("line 5, column 1") && o.stderr.contains("stockpile_monhts"),
        "{}",
        o.stderr
    );
    let o = compare("unknown.toml");
    assert!(
        o.stderr.contains("no consumer \"JP\"") && !o.stderr.contains("missing field"),
        "{}",
        o.stderr
    );
    let o = compare("latin1.toml");
    assert!(o.stderr.contains("UTF-8"), "{}", o.stderr);
    let o = compare("small.toml");
    assert!(
        o.stderr.contains("scenario file, not a strategy file"),
        "{}",
        o.stderr
    );
    // A strategy file run as a scenario.
    let o = expect(p, &["run", "st2.toml"], 2);
    assert!(
        o.stderr.contains("strategy file") && o.stderr.contains("crmsim compare"),
        "{}",
        o.stderr
    );
    // run --strategy points to compare.
    let o = expect(p, &["run", "small.toml", "--strategy", "st2.toml"], 2);
    assert!(
        o.stderr
            .contains("crmsim compare small.toml --strategy st2.toml"),
        "{}",
        o.stderr
    );
}

// -------------------------------------------------------------- presentation

#[test]
fn terminal_output_never_misleads() {
    let d = setup();
    let p = d.path();
    // A strategy that changes nothing, beside one that helps.
    std::fs::write(
        p.join("noop.toml"),
        format!(
            "{}[[strategy]]\nid = \"nothing\"\n[[strategy.consumer]]\nid = \"US\"\nrecycling_share = {{}}\n\
             [[strategy]]\nid = \"costly\"\ncost_per_year = 1e10\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_months = {{ gallium = 1.0 }}\n",
            strategies(1)
        ),
    )
    .unwrap();
    let args = [
        "compare",
        "small.toml",
        "--strategy",
        "noop.toml",
        "--trials",
        "2000",
        "--no-figures",
        "--out",
        "o",
    ];
    let short = expect(p, &args, 0).stdout;
    assert!(!short.contains("-0.00"), "{short}");
    assert!(
        !short.contains("P(better)") && !short.contains("model(s)"),
        "{short}"
    );
    assert!(short.contains("2,000 trials"), "{short}");
    let line = |name: &str| -> String {
        short
            .lines()
            .find(|l| l.starts_with("  world") && l.contains(name))
            .unwrap_or_else(|| panic!("no world row of {name}:\n{short}"))
            .to_string()
    };
    let nothing: Vec<String> = line("nothing")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(nothing[1], "-", "a no-op strategy got a rank: {short}");
    let helps: Vec<String> = line("stock1")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(helps[1], "1");
    // Tonnes of a small material keep their significant digits.
    let s = json(&p.join("o/summary.json"));
    // A field of a strategy's world row in the comparison.
    let world = |strategy: &str, field: &str| {
        s["comparison"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["strategy"] == strategy && r["consumer"] == "world")
            .unwrap()[field]
            .as_f64()
            .unwrap()
    };
    let t = world("stock1", "tonnes_avoided");
    assert!(t > 0.0 && t < 100.0, "{t}");
    assert!(
        short.contains(&crmsim::format::tonnes(t)) && crmsim::format::tonnes(t) != "0",
        "{short}"
    );
    // So do tonnes per million of a costly strategy (0.00x t/M, not "0.0").
    let tpm = world("costly", "tonnes_per_million");
    assert!(tpm > 0.0 && tpm < 0.05, "{tpm}");
    let costly = line("costly");
    assert_eq!(
        costly.split_whitespace().last(),
        Some(crmsim::format::tonnes(tpm).as_str()),
        "{short}"
    );
    // Short by default: only world rows; --details adds every consumer.
    let eu_row = |l: &str| l.starts_with("  EU ") && l.contains("stock1");
    assert!(!short.lines().any(eu_row), "{short}");
    let mut detailed = args.to_vec();
    detailed.push("--details");
    let long = expect(p, &detailed, 0).stdout;
    assert!(long.lines().any(eu_row), "{long}");
}

#[test]
fn tonnes_of_different_materials_are_never_added() {
    let two = SMALL.replace(
        "[[shock]]",
        "[[commodity]]\nid = \"cobalt\"\nname = \"Cobalt\"\nannual_demand = 200000\n[commodity.producers.production]\nCN = 0.8\n\n[[shock]]",
    );
    let d = setup();
    let p = d.path();
    std::fs::write(p.join("two.toml"), two).unwrap();
    expect(
        p,
        &[
            "compare",
            "two.toml",
            "--strategy",
            "st2.toml",
            "--trials",
            "200",
            "--quiet",
            "--no-figures",
            "--out",
            "o",
        ],
        0,
    );
    let s = json(&p.join("o/summary.json"));
    for st in s["comparison"]["strategies"].as_array().unwrap() {
        assert!(st["world_tonnes_avoided"].is_null(), "{st}");
    }
}

#[test]
fn completions_and_progress_lines() {
    let d = setup();
    let p = d.path();
    for shell in ["bash", "zsh", "fish"] {
        let o = expect(p, &["completions", shell], 0);
        assert!(
            o.stdout.contains("crmsim") && o.stdout.contains("compare"),
            "{shell}"
        );
    }
    let o = expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "100",
            "--no-figures",
            "--out",
            "o",
        ],
        0,
    );
    assert!(o.stderr.contains("simulating: 100%"), "{}", o.stderr);
    let o = expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "100",
            "--no-figures",
            "--quiet",
            "--out",
            "o",
        ],
        0,
    );
    assert!(o.stderr.is_empty() && o.stdout.is_empty(), "{}", o.stderr);
}

// --------------------------------------------------------------------- plot

fn plot_dir(p: &Path) -> PathBuf {
    expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "100",
            "--no-figures",
            "--quiet",
            "--out",
            "o",
        ],
        0,
    );
    p.join("o")
}

#[test]
fn plot_refuses_impossible_summaries_naming_the_field() {
    let d = setup();
    let p = d.path();
    let dir = plot_dir(p);
    let good = json(&dir.join("summary.json"));
    let cases: [(&str, Value, &str); 4] = [
        ("/results/0/metrics/mean", 2.0.into(), "mean"),
        ("/results/1/metrics/p95", (-0.5).into(), "p95"),
        ("/results/2/metrics/cvar95", 1e308.into(), "cvar95"),
        (
            "/figures/histograms/0/mean",
            1.5.into(),
            "histograms[0].mean",
        ),
    ];
    for (i, (ptr, v, field)) in cases.into_iter().enumerate() {
        let mut s = good.clone();
        *s.pointer_mut(ptr).unwrap() = v;
        let f = p.join(format!("bad{i}.json"));
        std::fs::write(&f, serde_json::to_vec(&s).unwrap()).unwrap();
        let o = expect(p, &["plot", f.to_str().unwrap(), "--out", "x"], 2);
        assert!(
            o.stderr.contains(field) && o.stderr.contains("[0, 1]"),
            "{ptr}: {}",
            o.stderr
        );
        // 1e308 is quoted as such, not as 309 digits
        assert!(o.stderr.len() < 300, "{ptr}: {}", o.stderr);
    }
    std::fs::write(p.join("bin.json"), b"{\"a\": \"\xff\"}").unwrap();
    let o = expect(p, &["plot", "bin.json", "--out", "x"], 2);
    assert!(o.stderr.contains("UTF-8"), "{}", o.stderr);
    std::fs::write(
        p.join("shape.json"),
        b"{\"trials\": 99999999999999999999999}",
    )
    .unwrap();
    let o = expect(p, &["plot", "shape.json", "--out", "x"], 2);
    for leak in ["u64", "struct", "Summary"] {
        assert!(!o.stderr.contains(leak), "{}", o.stderr);
    }
}

#[test]
fn long_titles_and_strategy_ids_plot_with_bounded_file_names() {
    let d = setup();
    let p = d.path();
    expect(
        p,
        &[
            "compare",
            "small.toml",
            "--strategy",
            "st2.toml",
            "--trials",
            "100",
            "--quiet",
            "--no-figures",
            "--out",
            "o",
        ],
        0,
    );
    let mut s = json(&p.join("o/summary.json"));
    s["title"] = "x".repeat(10_000).into();
    let long = "s".repeat(300);
    let text = serde_json::to_string(&s).unwrap().replace("stock2", &long);
    std::fs::create_dir(p.join("l")).unwrap();
    std::fs::write(p.join("l/summary.json"), text).unwrap();
    expect(
        p,
        &["plot", "l/summary.json", "--format", "svg", "--quiet"],
        0,
    );
    let names = files(&p.join("l"));
    assert!(names.iter().any(|n| n.contains("sssss")), "{names:?}");
    for n in &names {
        assert!(n.len() < 100, "{n}");
    }
}

// ------------------------------------------------------------------ layering

/// Code lines (comments dropped) of every `.rs` file under `src/<dir>`.
fn code_of(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                for l in std::fs::read_to_string(&p).unwrap().lines() {
                    let t = l.trim_start();
                    if !t.starts_with("//") {
                        out.push((p.display().to_string(), l.to_string()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn data_flows_one_way() {
    // Figures never call the report; the report does not import compare;
    // the results (data) import neither figures nor report.
    let rules: [(&str, &[&str]); 3] = [
        ("plot", &["crate::report", "crate::compare", "crate::cli"]),
        ("report", &["crate::compare", "crate::cli"]),
        ("results", &["crate::report", "crate::plot", "crate::cli"]),
    ];
    for (dir, banned) in rules {
        for (file, line) in code_of(dir) {
            for b in banned {
                assert!(!line.contains(b), "{file}: `{}` uses {b}", line.trim());
            }
        }
    }
}

#[test]
fn plot_draws_a_huge_convergence_band_without_stretching_forever() {
    let d = setup();
    let p = d.path();
    let dir = plot_dir(p);
    let mut s = json(&dir.join("summary.json"));
    for k in ["mean_ci", "cvar95_ci"] {
        s["figures"]["convergence"][0][k][0] = 1e308.into();
    }
    std::fs::create_dir(p.join("c")).unwrap();
    std::fs::write(p.join("c/summary.json"), serde_json::to_vec(&s).unwrap()).unwrap();
    expect(
        p,
        &["plot", "c/summary.json", "--format", "svg", "--quiet"],
        0,
    );
    assert!(p.join("c/figures/convergence.svg").is_file());
}

#[test]
fn a_sweep_after_a_run_leaves_only_the_sweep() {
    let d = setup();
    let p = d.path();
    expect(
        p,
        &[
            "run",
            "small.toml",
            "--trials",
            "100",
            "--no-figures",
            "--quiet",
            "--out",
            "o",
        ],
        0,
    );
    expect(
        p,
        &[
            "sweep",
            "small.toml",
            "--vary",
            "consumer.EU.stockpile_months.gallium=0..2",
            "--trials",
            "100",
            "--no-figures",
            "--quiet",
            "--out",
            "o",
        ],
        0,
    );
    assert_eq!(
        files(&p.join("o")),
        [".crmsim-output", "sweep.csv", "sweep.json"]
    );
    assert!(leftovers(p).is_empty(), "{:?}", leftovers(p));
}

#[test]
fn plot_of_a_bad_sweep_json_exits_2_in_plain_words() {
    let d = setup();
    let p = d.path();
    std::fs::create_dir(p.join("s")).unwrap();
    std::fs::write(p.join("s/sweep.json"), b"{\"a\": \"\xff\"}").unwrap();
    let o = expect(p, &["plot", "s/sweep.json"], 2);
    assert!(o.stderr.contains("UTF-8"), "{}", o.stderr);
    std::fs::write(p.join("s/sweep.json"), b"[1, 2]").unwrap();
    let o = expect(p, &["plot", "s/sweep.json"], 2);
    assert!(!o.stderr.contains("struct"), "{}", o.stderr);
}
