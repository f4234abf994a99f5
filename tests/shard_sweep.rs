//! Sweeps in shards (docs/cluster.md): `sweep --shard I/N` of a tornado or
//! grid writes a partial, and `crmsim merge` writes exactly what the
//! unsharded sweep writes; merge refuses partials that do not belong
//! together; `--target` refuses to shard.

mod common;

use std::path::{Path, PathBuf};

use common::{ok, refused, scratch, without_run};

/// A tornado of world cobalt cvar95 (its confidence intervals need the
/// points' own VaR) over two inputs.
const TORNADO: &[&str] = &[
    "sweep",
    "--commodity",
    "cobalt",
    "--metric",
    "cvar95",
    "--vary",
    "shock.cd-co-state.rate_per_year.shape=0.5..5.5",
    "--vary",
    "commodity.cobalt.buffer_months.mining=0..4",
];

/// A 3 x 2 grid of EU gallium p95 and sd over every commodity.
const GRID: &[&str] = &[
    "sweep",
    "--grid",
    "--metric",
    "p95",
    "--consumer",
    "EU",
    "--vary",
    "consumer.EU.stockpile_months.gallium=0..6:3",
    "--vary",
    "alliance.msp.spare_capacity=0..0.2:2",
];

/// sweep.json without its `run` block, as text.
fn sweep_json(dir: &Path) -> String {
    without_run(&dir.join("sweep.json"))
}

/// The unsharded sweep `base` with `extra` into `dir/out`.
fn whole(dir: &Path, base: &[&str], trials: &str, out: &str, extra: &[&str]) {
    let mut args = base.to_vec();
    args.extend(["--trials", trials, "--out", out, "--quiet"]);
    args.extend_from_slice(extra);
    ok(dir, &args);
}

/// Every shard of `n` of the sweep `base` into `dir/name`; the files.
fn shards(
    dir: &Path,
    base: &[&str],
    trials: &str,
    n: u64,
    name: &str,
    extra: &[&str],
) -> Vec<PathBuf> {
    let parts = dir.join(name);
    for i in 0..n {
        let shard = format!("{i}/{n}");
        let mut args = base.to_vec();
        let out = parts.to_str().unwrap();
        args.extend([
            "--trials", trials, "--shard", &shard, "--out", out, "--quiet",
        ]);
        args.extend_from_slice(extra);
        ok(dir, &args);
    }
    (0..n)
        .map(|i| parts.join(format!("part-{i}-of-{n}.crmpart")))
        .collect()
}

fn merge_args(parts: &[PathBuf], out: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["merge".to_string()];
    args.extend(parts.iter().rev().map(|p| p.display().to_string()));
    args.extend(["--out", out].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn merge(dir: &Path, parts: &[PathBuf], out: &str, extra: &[&str]) -> String {
    let args = merge_args(parts, out, extra);
    ok(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn merged_tornado_equals_the_unsharded_one_for_any_n() {
    let dir = scratch("sweep-shard-tornado");
    whole(&dir, TORNADO, "300", "one", &["--no-figures"]);
    let want = sweep_json(&dir.join("one"));
    for n in 1..=7u64 {
        let parts = shards(&dir, TORNADO, "300", n, &format!("p{n}"), &[]);
        let out = format!("merged-{n}");
        merge(&dir, &parts, &out, &["--no-figures", "--quiet"]);
        assert!(sweep_json(&dir.join(&out)) == want, "N = {n}");
    }
    // more shards than trials: some shards are empty
    whole(&dir, TORNADO, "5", "five", &["--no-figures"]);
    let parts = shards(&dir, TORNADO, "5", 7, "p5", &[]);
    merge(&dir, &parts, "merged-5-of-7", &["--no-figures", "--quiet"]);
    assert!(sweep_json(&dir.join("merged-5-of-7")) == sweep_json(&dir.join("five")));
}

#[test]
fn merged_grid_equals_the_unsharded_one_with_csv_figures_and_report() {
    let dir = scratch("sweep-shard-grid");
    for metric in ["p95", "sd"] {
        let mut base = GRID.to_vec();
        base[3] = metric;
        let one = format!("one-{metric}");
        whole(&dir, &base, "400", &one, &[]);
        for n in [2u64, 3, 7] {
            let parts = shards(&dir, &base, "400", n, &format!("{metric}-p{n}"), &[]);
            let out = format!("{metric}-merged-{n}");
            let shown = merge(&dir, &parts, &out, &[]);
            assert!(shown.contains(&format!("merged {n} shards")), "{shown}");
            let (a, b) = (dir.join(&one), dir.join(&out));
            assert!(sweep_json(&b) == sweep_json(&a), "{metric}, N = {n}");
            let csv = |d: &Path| std::fs::read(d.join("sweep.csv")).unwrap();
            assert_eq!(csv(&a), csv(&b));
            assert!(b.join("report.html").is_file());
            let figs = |d: &Path| {
                let mut v: Vec<_> = std::fs::read_dir(d.join("figures"))
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                v.sort();
                v
            };
            assert_eq!(figs(&a), figs(&b));
        }
    }
}

#[test]
fn a_sweep_shard_gives_the_same_bytes_on_every_run_and_thread_count() {
    let dir = scratch("sweep-shard-bytes");
    let mut seen = Vec::new();
    for threads in ["1", "2", "1"] {
        let out = format!("t{threads}-{}", seen.len());
        let mut args = GRID.to_vec();
        args.extend(["--trials", "5000", "--shard", "1/2", "--threads", threads]);
        args.extend(["--out", &out, "--quiet"]);
        ok(&dir, &args);
        seen.push(std::fs::read(dir.join(&out).join("part-1-of-2.crmpart")).unwrap());
    }
    assert!(seen[0] == seen[1] && seen[1] == seen[2]);
    // 101 points of 12 commodities run in one batch on 1 thread, in two on
    // 2 threads (batches are sized by the threads' memory): the same bytes
    let mut seen = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("b{threads}");
        let args = [
            "sweep",
            "--grid",
            "--metric",
            "cvar95",
            "--vary",
            "alliance.msp.spare_capacity=0..0.2:101",
            "--trials",
            "40",
            "--shard",
            "0/1",
            "--threads",
            threads,
            "--out",
            &out,
            "--quiet",
        ];
        ok(&dir, &args);
        seen.push(std::fs::read(dir.join(&out).join("part-0-of-1.crmpart")).unwrap());
    }
    assert!(seen[0] == seen[1]);
}

#[test]
fn merge_refuses_sweep_partials_that_do_not_belong_together() {
    let dir = scratch("sweep-shard-refuse");
    let parts = shards(&dir, TORNADO, "60", 3, "p", &[]);
    let refuse = |files: &[PathBuf]| {
        let err = refused(&dir, &merge_args(files, "m", &["--no-figures"]));
        assert!(!dir.join("m").exists(), "no output folder after a refusal");
        err
    };
    // missing
    let err = refuse(&parts[..2]);
    assert!(err.contains("shards missing: 2 of 3"), "{err}");
    // duplicate
    let err = refuse(&[parts[0].clone(), parts[0].clone(), parts[1].clone()]);
    assert!(err.contains("is shard 0 again"), "{err}");
    // another metric
    let mut other = TORNADO.to_vec();
    other[4] = "p95";
    let p95 = shards(&dir, &other, "60", 3, "p95", &[]);
    let err = refuse(&[parts[0].clone(), parts[1].clone(), p95[2].clone()]);
    assert!(
        err.contains("does not belong with")
            && err.contains("sweep: tornado of cvar95 (world, cobalt), --vary")
            && err.contains("here, tornado of p95 (world, cobalt)"),
        "{err}"
    );
    // another seed
    let seed = shards(&dir, TORNADO, "60", 3, "seed", &["--seed", "9"]);
    let err = refuse(&[parts[0].clone(), seed[1].clone(), parts[2].clone()]);
    assert!(err.contains("seed: 9 here, 42 there"), "{err}");
    // a run's partial among a sweep's
    let run = dir.join("run");
    ok(
        &dir,
        &[
            "run", "--trials", "60", "--shard", "2/3", "--out", "run", "--quiet",
        ],
    );
    let err = refuse(&[
        parts[0].clone(),
        parts[1].clone(),
        run.join("part-2-of-3.crmpart"),
    ]);
    assert!(err.contains("command: sweep here, run there"), "{err}");
    // corrupted
    let mut bytes = std::fs::read(&parts[1]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    let bad = dir.join("bad.crmpart");
    std::fs::write(&bad, &bytes).unwrap();
    let err = refuse(&[parts[0].clone(), bad, parts[2].clone()]);
    assert!(err.contains("checksum does not match"), "{err}");
}
