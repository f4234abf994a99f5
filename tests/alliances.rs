//! The alliance study: its bundled strategies validate, alliances obey the
//! invariants the study relies on (engine level, per trial), diversion by
//! one alliance hurts another's member exactly as docs/model.md step 5
//! says, and the committed page was written by `crmsim study alliances`
//! (re-run here at a small trial count and compared part by part).

use std::path::Path;

use crmsim::engine::Engine;
use crmsim::model::Model;
use crmsim::report::study::{ANSWER_BEGIN, ANSWER_END, GENERATED_BY};
use crmsim::scenario;
use proptest::prelude::*;

mod common;
use common::{compile, crmsim, scratch};

const STRATEGIES: &str = "scenarios/strategies/alliances.toml";
const PAGE: &str = "docs/studies/alliances.md";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled baseline with the alliance strategies patched on, compiled.
fn bundled() -> (Model, Vec<crmsim::compare::Strategy>) {
    let src = scenario::load(&root().join("scenarios/baseline.toml")).unwrap();
    let base = Model::compile(&src.display, &src.scenario).unwrap();
    let st = src
        .strategies_from_file(&root().join(STRATEGIES))
        .unwrap()
        .into_iter()
        .map(|s| crmsim::compare::Strategy::compile(s).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    (base, st)
}

#[test]
fn each_alliance_strategy_validates_and_does_what_its_name_says() {
    let (base, st) = bundled();
    let ids: Vec<&str> = st.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "no-alliances",
            "msp-only",
            "eu-partnerships-only",
            "msp-deepened",
            "fragmentation"
        ]
    );
    let alliances = |m: &Model| m.alliances.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(alliances(&base), ["msp", "eu-partnerships"]);
    assert!(alliances(&st[0].model).is_empty());
    assert_eq!(alliances(&st[1].model), ["msp"]);
    assert_eq!(alliances(&st[2].model), ["eu-partnerships"]);
    let (b, d) = (&base.alliances[0], &st[3].model.alliances[0]);
    assert!(d.spare_capacity > b.spare_capacity && d.diversion > b.diversion);
    assert!(st[3].cost_per_year.is_some_and(|c| c > 0.0));
    // fragmentation: alliances kept, China's regime always on
    assert_eq!(alliances(&st[4].model), ["msp", "eu-partnerships"]);
    assert!(st[4].model.regimes[0].probability > base.regimes[0].probability);
    for s in &st {
        assert!(s.name.as_deref().is_some_and(|n| !n.is_empty()), "{}", s.id);
    }
    // the file the binary embeds is the file in the repository
    let on_disk = std::fs::read_to_string(root().join(STRATEGIES)).unwrap();
    assert_eq!(on_disk, crmsim::study::STRATEGIES_TOML);
}

#[test]
fn compare_accepts_the_strategy_file() {
    crmsim()
        .current_dir(root())
        .args([
            "compare",
            "scenarios/baseline.toml",
            "--strategy",
            STRATEGIES,
        ])
        .args(["--trials", "50", "--no-figures", "--quiet", "--out"])
        .arg(scratch("alliances-compare").join("out"))
        .assert()
        .success();
}

/// One commodity, two consumers, CN/AU/CA producers, random shocks; `extra`
/// is appended (alliances).
fn market(cn: f64, au: f64, eu: f64, us: f64, extra: &str) -> String {
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
[[country]]
id = "CA"
name = "Canada"
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = {eu} }}
stockpile_months = {{ x = 0.5 }}
[[consumer]]
id = "US"
name = "US"
demand_share = {{ x = {us} }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = {cn}
AU = {au}
CA = 0.05
[[shock]]
id = "cn-ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = 1.5
severity = {{ dist = "beta", alpha = 2.0, beta = 2.0 }}
duration_months = {{ dist = "exponential", mean = 4.0 }}
targets = ["EU", "ROW"]
leakage = 0.1
[[shock]]
id = "au-quake"
kind = "disaster"
countries = ["AU"]
rate_per_year = 0.8
severity = {{ dist = "uniform", min = 0.2, max = 1.0 }}
duration_months = {{ dist = "lognormal", median = 3.0, sigma = 0.5 }}
{extra}
"#
    )
}

fn alliance(id: &str, members: &str, spare: f64, div: f64, ramp: f64) -> String {
    format!(
        "[[alliance]]\nid = \"{id}\"\nmembers = [{members}]\nspare_capacity = {spare}\ndiversion = {div}\nramp_months = {ramp}\n"
    )
}

/// Every series' shortfall of every trial of two models on common random numbers.
fn paired(a: &Model, b: &Model, trials: u64) -> Vec<(Vec<f64>, Vec<f64>)> {
    let (ea, eb) = (Engine::new(a, 7), Engine::new(b, 7));
    let (mut sa, mut sb) = (ea.scratch(), eb.scratch());
    (0..trials)
        .map(|t| {
            let fa = ea.run_trial(t, &mut sa).figures(&ea, 0).shortfall.clone();
            let fb = eb.run_trial(t, &mut sb).figures(&eb, 0).shortfall.clone();
            (fa, fb)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]

    /// An alliance no consumer belongs to never helps, so removing it
    /// changes no trial (beside one alliance with members, before or after it).
    #[test]
    fn removing_an_alliance_without_consumers_changes_nothing(
        cn in 0.2f64..0.8, au in 0.05f64..0.15, eu in 0.1f64..0.5, us in 0.0f64..0.45,
        spare in 0.0f64..0.6, div in 0.0f64..0.6, ramp in 0.0f64..6.0,
        spare0 in 0.0f64..1.0, div0 in 0.0f64..1.0, first in proptest::bool::ANY,
    ) {
        let member = alliance("m", "\"EU\", \"AU\"", spare, div, ramp);
        let idle = alliance("idle", "\"AU\", \"CA\"", spare0, div0, 0.0);
        let both = if first { format!("{idle}{member}") } else { format!("{member}{idle}") };
        let with = compile(&market(cn, au, eu, us, &both));
        let without = compile(&market(cn, au, eu, us, &member));
        for (t, (a, b)) in paired(&with, &without, 200).iter().enumerate() {
            prop_assert_eq!(a, b, "trial {}", t);
        }
    }

    /// With a single alliance, removing it never lowers a member's shortfall
    /// in any trial (and never raises a non-member's).
    #[test]
    fn removing_the_only_alliance_never_lowers_a_members_shortfall(
        cn in 0.2f64..0.8, au in 0.05f64..0.15, eu in 0.1f64..0.5, us in 0.0f64..0.45,
        spare in 0.0f64..0.6, div in 0.0f64..0.6, ramp in 0.0f64..6.0,
    ) {
        let with = compile(&market(cn, au, eu, us, &alliance("m", "\"EU\", \"AU\", \"CA\"", spare, div, ramp)));
        let without = compile(&market(cn, au, eu, us, ""));
        for (t, (a, b)) in paired(&with, &without, 200).iter().enumerate() {
            // series: EU (member), US, ROW (non-members), world
            prop_assert!(b[0] >= a[0] - 1e-12, "trial {}: EU {} without < {} with", t, b[0], a[0]);
            for i in 1..3 {
                prop_assert!(b[i] <= a[i] + 1e-12, "trial {} series {}: {} > {}", t, i, b[i], a[i]);
            }
        }
    }
}

/// Figures of commodity 0 in a model with scheduled events only.
fn scheduled(text: &str) -> Vec<f64> {
    let m = compile(text);
    Engine::new(&m, 0).cached[0].shortfall.clone()
}

#[test]
fn one_alliances_diversion_takes_supply_from_another_alliances_member() {
    // CN 0.5, CA 0.5; EU and US 0.5 each. CN bans the US all year: EU gets
    // 0.25 + 0.25 (not short), the US 0.25 from CA (short 0.25). Alliance
    // "na" (US, CA; diversion 0.5, no ramp) diverts V = 0.5 x q(CA, EU) =
    // 0.125 from EU to the US: EU short 0.125 (0.25 of its demand), US
    // 0.125 (0.25). EU belongs to "eu" (EU, AU), which never starts: EU's
    // step-4 shortfall is 0 (docs/model.md step 5). World 0.25 either way.
    let case = |na: bool| {
        let b = if na {
            alliance("na", "\"US\", \"CA\"", 0.0, 0.5, 0.0)
        } else {
            String::new()
        };
        format!(
            r#"
[scenario]
name = "divert"
[[country]]
id = "CN"
name = "China"
[[country]]
id = "CA"
name = "Canada"
[[country]]
id = "AU"
name = "Australia"
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[consumer]]
id = "US"
name = "US"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
CA = 0.5
[[event]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
targets = ["US"]
{}{b}"#,
            alliance("eu", "\"EU\", \"AU\"", 0.2, 0.5, 0.0)
        )
    };
    let close = |a: &[f64], b: [f64; 4]| {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} != {b:?}");
        }
    };
    // series: EU, US, ROW, world
    close(&scheduled(&case(false)), [0.0, 0.5, 0.0, 0.25]);
    close(&scheduled(&case(true)), [0.25, 0.25, 0.0, 0.25]);
}

/// Lines of a page that give its shape: headings, table headers, figure
/// links, and the commands (trial counts and paths of the output cut).
fn shape(page: &str) -> Vec<String> {
    let cut = |l: &str| {
        l.split_whitespace()
            .scan(false, |skip, w| {
                let out = if *skip { "N" } else { w };
                *skip = matches!(w, "--trials" | "--out" | "--readme");
                Some(out.to_string())
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    page.lines()
        .filter(|l| {
            l.starts_with('#')
                || l.starts_with("| material")
                || l.starts_with("| strategy")
                || l.starts_with("![")
                || l.starts_with("crmsim ")
        })
        .map(cut)
        .collect()
}

fn answer_of(text: &str) -> &str {
    let a = text.find(ANSWER_BEGIN).expect("begin marker") + ANSWER_BEGIN.len();
    let b = text[a..].find(ANSWER_END).expect("end marker") + a;
    text[a..b].trim()
}

#[test]
fn the_committed_page_comes_from_the_study_command() {
    let committed = std::fs::read_to_string(root().join(PAGE)).unwrap();
    // its header records the one command that wrote it
    let line = committed
        .lines()
        .find(|l| l.starts_with(GENERATED_BY))
        .expect("a `Generated by` line");
    assert!(
        line.starts_with("Generated by `crmsim study alliances --trials ")
            && line.contains(" --out docs/studies/alliances.md --readme README.md`"),
        "{line}"
    );
    // the same code path at a small trial count gives the same page shape
    let dir = scratch("alliances-study");
    let readme = dir.join("README.md");
    std::fs::write(
        &readme,
        format!("# x\n\n{ANSWER_BEGIN}\nold\n{ANSWER_END}\n"),
    )
    .unwrap();
    crmsim()
        .args(["study", "alliances", "--trials", "150", "--quiet", "--out"])
        .arg(dir.join("alliances.md"))
        .arg("--readme")
        .arg(&readme)
        .assert()
        .success();
    let fresh = std::fs::read_to_string(dir.join("alliances.md")).unwrap();
    assert_eq!(shape(&fresh), shape(&committed));
    assert!(fresh.contains("--trials 150 --seed 42"));
    // the README gets the fresh page's answer; the committed README the committed page's
    let r = std::fs::read_to_string(&readme).unwrap();
    assert_eq!(answer_of(&r), answer_of(&fresh));
    let committed_readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert_eq!(answer_of(&committed_readme), answer_of(&committed));
    // every figure the pages link exists beside them
    for (page, base) in [
        (&fresh, dir.as_path()),
        (&committed, &root().join("docs/studies")),
    ] {
        for l in page.lines().filter(|l| l.starts_with("![")) {
            let path = l.split("](").nth(1).unwrap().trim_end_matches(')');
            assert!(base.join(path).is_file(), "{path} missing");
        }
    }
    // the study shows one alliance's diversion hurting the other's member
    let part = fresh
        .split("### What the EU partnerships")
        .nth(1)
        .unwrap()
        .split("**Who loses**")
        .nth(1)
        .unwrap();
    let losers = part.lines().next().unwrap();
    assert!(
        losers.contains("US -") || losers.contains("JP -"),
        "{losers}"
    );
}

#[test]
fn study_errors_name_the_problem() {
    let dir = scratch("alliances-errors");
    // the page must be a .md file
    let out = crmsim()
        .args(["study", "alliances", "--trials", "10", "--out"])
        .arg(dir.join("page.txt"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("ending in .md"), "{err}");
    // a README without markers is refused before anything runs
    let readme = dir.join("README.md");
    std::fs::write(&readme, "# no markers\n").unwrap();
    let out = crmsim()
        .args(["study", "alliances", "--trials", "10", "--out"])
        .arg(dir.join("a.md"))
        .arg("--readme")
        .arg(&readme)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("README.md") && err.contains("has no answer markers"),
        "{err}"
    );
    assert!(!dir.join("a.md").exists() && !dir.join("a").exists());
    // a missing README is an I/O failure
    crmsim()
        .args(["study", "alliances", "--trials", "10", "--out"])
        .arg(dir.join("a.md"))
        .arg("--readme")
        .arg(dir.join("missing.md"))
        .assert()
        .code(1);
    crmsim()
        .args(["study", "alliances", "--trials", "0"])
        .assert()
        .code(2);
}
