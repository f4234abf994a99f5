//! Sharded runs (docs/cluster.md): `--shard I/N` writes a partial file of a
//! fixed range of trials, and `crmsim merge` writes exactly what the
//! unsharded run writes; merge refuses partials that do not belong together.

mod common;

use std::path::{Path, PathBuf};

use common::{crmsim, ok, refused, scratch, without_run};

const STRATEGY: &str = "scenarios/strategies/msp-surge.toml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// summary.json without its `run` (provenance) block, as text.
fn summary(dir: &Path) -> String {
    without_run(&dir.join("summary.json"))
}

/// The unsharded run of the baseline over `trials` into `dir/out`.
fn unsharded(dir: &Path, trials: &str, out: &str) {
    let args = [
        "run",
        "--trials",
        trials,
        "--out",
        out,
        "--no-figures",
        "--quiet",
    ];
    ok(dir, &args);
}

/// Writes every shard of `n` for `cmd` (run or compare with `extra`) into
/// `dir/name` and returns the files.
fn shards(dir: &Path, name: &str, cmd: &str, trials: &str, n: u64, extra: &[&str]) -> Vec<PathBuf> {
    let parts = dir.join(name);
    for i in 0..n {
        let shard = format!("{i}/{n}");
        let out = parts.to_str().unwrap();
        let mut args = vec![cmd, "--trials", trials, "--shard", &shard, "--out", out];
        args.extend_from_slice(extra);
        args.push("--quiet");
        ok(dir, &args);
    }
    (0..n)
        .map(|i| parts.join(format!("part-{i}-of-{n}.crmpart")))
        .collect()
}

fn merge(dir: &Path, parts: &[PathBuf], out: &str) {
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(parts.iter().rev().map(|p| p.display().to_string()));
    args.extend(["--out", out, "--no-figures", "--quiet"].map(String::from));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(dir, &refs);
}

#[test]
fn merged_shards_equal_the_unsharded_run_for_any_n() {
    let dir = scratch("shard-any-n");
    unsharded(&dir, "300", "one");
    let want = summary(&dir.join("one"));
    for n in 1..=7u64 {
        let parts = shards(&dir, &format!("p{n}"), "run", "300", n, &[]);
        let out = format!("merged-{n}");
        merge(&dir, &parts, &out);
        assert!(summary(&dir.join(&out)) == want, "N = {n}");
    }
    // more shards than trials: some are empty
    ok(
        &dir,
        &[
            "run",
            "--trials",
            "5",
            "--out",
            "five",
            "--no-figures",
            "--quiet",
        ],
    );
    let parts = shards(&dir, "p5", "run", "5", 7, &[]);
    merge(&dir, &parts, "merged-5-of-7");
    assert!(summary(&dir.join("merged-5-of-7")) == summary(&dir.join("five")));
}

#[test]
fn merged_comparison_equals_the_unsharded_one_with_figures() {
    let dir = scratch("shard-compare");
    let strategy = root().join(STRATEGY);
    let st = strategy.to_str().unwrap();
    ok(
        &dir,
        &[
            "compare",
            "--strategy",
            st,
            "--trials",
            "200",
            "--out",
            "one",
            "--quiet",
        ],
    );
    let parts = shards(&dir, "p", "compare", "200", 3, &["--strategy", st]);
    let mut args = vec!["merge".to_string()];
    args.extend(parts.iter().map(|p| p.display().to_string()));
    args.extend(["--out", "merged", "--quiet"].map(String::from));
    ok(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(summary(&dir.join("merged")) == summary(&dir.join("one")));
    let (a, b) = (dir.join("one"), dir.join("merged"));
    assert_eq!(
        std::fs::read(a.join("metrics.csv")).unwrap(),
        std::fs::read(b.join("metrics.csv")).unwrap()
    );
    assert!(b.join("report.html").is_file() && b.join("figures").is_dir());
}

#[test]
fn a_shard_gives_the_same_bytes_on_every_run_and_thread_count() {
    let dir = scratch("shard-bytes");
    let mut seen = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = format!("t{threads}");
        ok(
            &dir,
            &[
                "run",
                "--trials",
                "9000",
                "--shard",
                "1/2",
                "--threads",
                threads,
                "--out",
                &out,
                "--quiet",
            ],
        );
        seen.push(std::fs::read(dir.join(&out).join("part-1-of-2.crmpart")).unwrap());
    }
    assert!(seen[0] == seen[1] && seen[1] == seen[2]);
    // no temporary file is left beside it
    let names: Vec<_> = std::fs::read_dir(dir.join("t1")).unwrap().collect();
    assert_eq!(names.len(), 1);
}

/// Copies `parts` into a fresh folder `name` and returns the copies.
fn copy(dir: &Path, name: &str, parts: &[PathBuf]) -> Vec<PathBuf> {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    parts
        .iter()
        .map(|p| {
            let to = d.join(p.file_name().unwrap());
            std::fs::copy(p, &to).unwrap();
            to
        })
        .collect()
}

fn args_of(parts: &[PathBuf]) -> Vec<String> {
    let mut v = vec!["merge".to_string()];
    v.extend(parts.iter().map(|p| p.display().to_string()));
    v.extend(["--out", "m", "--no-figures"].map(String::from));
    v
}

fn refuse_merge(dir: &Path, parts: &[PathBuf]) -> String {
    let args = args_of(parts);
    let err = refused(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!dir.join("m").exists(), "no output folder after a refusal");
    err
}

#[test]
fn merge_refuses_partials_that_do_not_belong_together() {
    let dir = scratch("shard-refuse");
    let parts = shards(&dir, "p", "run", "60", 3, &[]);
    // missing
    let err = refuse_merge(&dir, &parts[..2]);
    assert!(err.contains("shards missing: 2 of 3"), "{err}");
    // duplicate
    let dup = copy(&dir, "dup", &parts[..1]);
    let err = refuse_merge(&dir, &[parts[0].clone(), dup[0].clone(), parts[1].clone()]);
    assert!(err.contains("is shard 0 again"), "{err}");
    // foreign: another seed, another scenario, another strategy set
    let other = shards(&dir, "seed", "run", "60", 3, &["--seed", "9"]);
    let err = refuse_merge(
        &dir,
        &[parts[0].clone(), parts[1].clone(), other[2].clone()],
    );
    assert!(
        err.contains("does not belong with") && err.contains("seed: 9 here, 42 there"),
        "{err}"
    );
    let scen = root().join("scenarios/stress-gallium-ban.toml");
    let st = shards(&dir, "scen", "run", "60", 3, &[scen.to_str().unwrap()]);
    let err = refuse_merge(&dir, &[parts[0].clone(), st[1].clone(), parts[2].clone()]);
    assert!(
        err.contains("scenario: ") && err.contains("stress-gallium-ban.toml (SHA-256"),
        "{err}"
    );
    let strategy = root().join(STRATEGY);
    let cmp = shards(
        &dir,
        "cmp",
        "compare",
        "60",
        3,
        &["--strategy", strategy.to_str().unwrap()],
    );
    let err = refuse_merge(&dir, &[parts[0].clone(), parts[1].clone(), cmp[2].clone()]);
    assert!(err.contains("command: compare here, run there"), "{err}");
    // other number of shards
    let four = shards(&dir, "four", "run", "60", 4, &[]);
    let err = refuse_merge(&dir, &[parts[0].clone(), parts[1].clone(), four[2].clone()]);
    assert!(err.contains("number of shards: 4 here, 3 there"), "{err}");
}

#[test]
fn merge_refuses_corrupted_truncated_and_foreign_files() {
    let dir = scratch("shard-corrupt");
    let parts = shards(&dir, "p", "run", "60", 2, &[]);
    let bytes = std::fs::read(&parts[1]).unwrap();
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let write = |name: &str, b: &[u8]| {
        let p = bad.join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write("flipped.crmpart", &flipped),
            "checksum does not match",
        ),
        (
            write("cut.crmpart", &bytes[..bytes.len() - 100]),
            "checksum does not match",
        ),
        (write("tiny.crmpart", &bytes[..15]), "is truncated"),
        (write("empty.crmpart", b""), "is empty"),
        (
            write("text.crmpart", b"hello\n"),
            "does not start with CRMPART",
        ),
    ];
    for (p, want) in &cases {
        let err = refuse_merge(&dir, &[parts[0].clone(), p.clone()]);
        assert!(
            err.contains(want) && err.contains(&p.display().to_string()),
            "{err}"
        );
    }
    // a partial of another format version is refused with its version
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&7u32.to_le_bytes());
    let p = write("newer.crmpart", &newer);
    let err = refuse_merge(&dir, &[parts[0].clone(), p]);
    assert!(err.contains("partial format version 7"), "{err}");
    // a partial of another crmsim version (checksum made right) is refused
    let version = format!("\"crmsim_version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    let other = with_header(&bytes, &version, "\"crmsim_version\":\"9.9.9\"");
    let p = write("version.crmpart", &other);
    let err = refuse_merge(&dir, &[p]);
    assert!(err.contains("was written by crmsim 9.9.9"), "{err}");
    // a partial of another build of the same version (checksum made right)
    let build = format!("\"build\":\"{}\"", crmsim::BUILD);
    let other = with_header(&bytes, &build, &format!("\"build\":\"{}\"", "0".repeat(16)));
    let p = write("build.crmpart", &other);
    let err = refuse_merge(&dir, &[parts[0].clone(), p]);
    assert!(
        err.contains("built from other sources (build 0000000000000000"),
        "{err}"
    );
    // a missing file is an I/O error
    let out = crmsim()
        .current_dir(&dir)
        .args(["merge", "nowhere.crmpart", "--out", "m"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// `bytes` of a partial with its checksum made right again.
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    use sha2::Digest;
    let n = bytes.len() - 32;
    let sum = sha2::Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&sum);
    bytes
}

/// The length of a partial's header and its JSON text.
fn header_of(bytes: &[u8]) -> (usize, String) {
    let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    (
        len,
        String::from_utf8(bytes[20..20 + len].to_vec()).unwrap(),
    )
}

/// A partial's `bytes` with `from` in its header replaced by `to` (of the
/// same length), its checksum made right again.
fn with_header(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (len, head) = header_of(bytes);
    assert!(head.contains(from), "{head}");
    let forged = head.replacen(from, to, 1);
    assert_eq!(forged.len(), head.len());
    let mut out = bytes.to_vec();
    out[20..20 + len].copy_from_slice(forged.as_bytes());
    resealed(out)
}

/// A partial's `bytes` with `edit` applied to its header (as JSON), the
/// header's length and the checksum made right again.
fn with_header_value(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (len, head) = header_of(bytes);
    let mut v: serde_json::Value = serde_json::from_str(&head).unwrap();
    edit(&mut v);
    let text = serde_json::to_string(&v).unwrap();
    let mut out = bytes[..12].to_vec();
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[20 + len..]);
    resealed(out)
}

/// A scenario carried by a (forged) partial that this crmsim refuses is
/// reported as the partial's, not as if the user had written it.
#[test]
fn merge_names_the_partial_whose_carried_scenario_is_refused() {
    use sha2::Digest;
    let dir = scratch("shard-carried");
    let parts = shards(&dir, "p", "run", "60", 2, &[]);
    let bytes = std::fs::read(&parts[1]).unwrap();
    let forged = with_header_value(&bytes, |v| {
        let sc = &mut v["scenario"];
        let text = sc["text"].as_str().unwrap();
        assert!(text.contains("horizon_months = 12"));
        let text = text.replacen("horizon_months = 12", "horizon_months = 1200", 1);
        let sum = sha2::Sha256::digest(text.as_bytes());
        sc["sha256"] = sum
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into();
        sc["text"] = text.into();
    });
    let p = dir.join("carried.crmpart");
    std::fs::write(&p, forged).unwrap();
    let err = refuse_merge(&dir, &[p.clone(), parts[0].clone()]);
    let want = format!(
        "{}: carries a scenario or options this crmsim refuses",
        p.display()
    );
    assert!(
        err.contains(&want) && err.contains("horizon_months"),
        "{err}"
    );
}

#[test]
fn merge_refuses_altered_texts_and_trailing_bytes_in_any_partial() {
    let dir = scratch("shard-forged");
    let parts = shards(&dir, "p", "run", "60", 2, &[]);
    let bytes = std::fs::read(&parts[1]).unwrap();
    let (head_len, _) = header_of(&bytes);
    let write = |name: &str, b: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, resealed(b)).unwrap();
        p
    };
    // the second shard's scenario text altered, its SHA-256 field kept
    let altered = with_header(&bytes, "horizon_months = 12", "horizon_months = 11");
    let p = write("altered.crmpart", altered);
    let err = refuse_merge(&dir, &[parts[0].clone(), p.clone()]);
    assert!(
        err.contains(&p.display().to_string()) && err.contains("does not match its SHA-256"),
        "{err}"
    );
    // bytes after the aggregates, with the body length made to fit them
    let mut longer = bytes[..bytes.len() - 32].to_vec();
    longer.extend_from_slice(&[0, 0, 0]);
    let at = 20 + head_len;
    let body_len = u64::from_le_bytes(longer[at..at + 8].try_into().unwrap()) + 3;
    longer[at..at + 8].copy_from_slice(&body_len.to_le_bytes());
    longer.extend_from_slice(&[0; 32]);
    let p = write("longer.crmpart", longer);
    let err = refuse_merge(&dir, &[parts[0].clone(), p.clone()]);
    assert!(
        err.contains(&p.display().to_string()) && err.contains("cannot read"),
        "{err}"
    );
    // the genuine pair still merges
    merge(&dir, &parts, "m");
}

#[test]
fn shard_option_is_checked() {
    let dir = scratch("shard-usage");
    for bad in ["3/3", "1", "a/2", "0/0", "1/-2", "0/2000000"] {
        let out = crmsim()
            .current_dir(&dir)
            .args(["run", "--trials", "10", "--shard", bad, "--out", "p"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("expected I/N"), "{bad}: {err}");
    }
    // a sweep's --target search does not shard, and says what to do instead
    let out = crmsim()
        .current_dir(&dir)
        .args(["sweep", "--vary", "alliance.msp.spare_capacity=0..0.2"])
        .args(["--commodity", "gallium", "--target", "prob_gt_10<=0.01"])
        .args(["--trials", "10", "--shard", "0/2", "--out", "t"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--target does not run in shards") && err.contains("--grid"),
        "{err}"
    );
    assert!(!dir.join("t").exists());
    // a run's output folder is not a folder for partials
    crmsim()
        .current_dir(&dir)
        .args([
            "run",
            "--trials",
            "10",
            "--out",
            "run",
            "--no-figures",
            "--quiet",
        ])
        .assert()
        .success();
    let out = crmsim()
        .current_dir(&dir)
        .args(["run", "--trials", "10", "--shard", "0/2", "--out", "run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds the output of a run"), "{err}");
}

/// The scripts of docs/cluster.md, run here as local processes, give the
/// unsharded run's summary; the doc shows them and the Kubernetes manifests
/// verbatim.
#[test]
fn documented_cluster_scripts_merge_to_one_run() {
    let dir = scratch("shard-scripts");
    let bin = env!("CARGO_BIN_EXE_crmsim");
    let scen = root().join("scenarios/baseline.toml");
    ok(
        &dir,
        &[
            "run",
            scen.to_str().unwrap(),
            "--trials",
            "240",
            "--out",
            "one",
            "--no-figures",
            "--quiet",
        ],
    );
    let want = summary(&dir.join("one"));
    let script = |name: &str| root().join("scenarios/cluster").join(name);
    // Slurm: one process per array task, as Slurm would start them
    for task in 0..4 {
        let st = std::process::Command::new("bash")
            .arg(script("slurm-array.sh"))
            .current_dir(&dir)
            .env("CRMSIM", bin)
            .env("SCENARIO", &scen)
            .env("TRIALS", "240")
            .env("PARTS", "slurm")
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .status()
            .unwrap();
        assert!(st.success());
    }
    // a failed task re-run on its own: a one-task array, SHARDS given
    std::fs::remove_file(dir.join("slurm/part-2-of-4.crmpart")).unwrap();
    let st = std::process::Command::new("bash")
        .arg(script("slurm-array.sh"))
        .current_dir(&dir)
        .env("CRMSIM", bin)
        .env("SCENARIO", &scen)
        .env("TRIALS", "240")
        .env("PARTS", "slurm")
        .env("SHARDS", "4")
        .env("SLURM_ARRAY_TASK_COUNT", "1")
        .env("SLURM_ARRAY_TASK_ID", "2")
        .status()
        .unwrap();
    assert!(st.success());
    let parts: Vec<PathBuf> = (0..4)
        .map(|i| dir.join(format!("slurm/part-{i}-of-4.crmpart")))
        .collect();
    merge(&dir, &parts, "slurm-merged");
    assert!(summary(&dir.join("slurm-merged")) == want);
    // GNU parallel (or xargs -P where it is not installed), merge included
    let st = std::process::Command::new("bash")
        .arg(script("parallel.sh"))
        .current_dir(&dir)
        .env("CRMSIM", bin)
        .env("SCENARIO", &scen)
        .env("TRIALS", "240")
        .env("SHARDS", "5")
        .env("JOBS", "2")
        .env("PARTS", "par")
        .env("OUT", "par-merged")
        .status()
        .unwrap();
    assert!(st.success());
    assert!(summary(&dir.join("par-merged")) == want);
    // docs/cluster.md holds both scripts and the Kubernetes manifests verbatim
    let doc = std::fs::read_to_string(root().join("docs/cluster.md")).unwrap();
    for name in [
        "slurm-array.sh",
        "parallel.sh",
        "k8s-shards.yaml",
        "k8s-merge.yaml",
    ] {
        let text = std::fs::read_to_string(script(name)).unwrap();
        assert!(
            doc.contains(&text),
            "docs/cluster.md must show {name} verbatim"
        );
    }
}

/// A `key: [...]` flow list of a manifest in scenarios/cluster, read as JSON.
fn manifest_list(name: &str, key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("scenarios/cluster").join(name)).unwrap();
    let start = text.find(&format!("{key}: [")).unwrap() + key.len() + 2;
    let end = start + text[start..].find(']').unwrap() + 1;
    serde_json::from_str(&text[start..end]).unwrap()
}

/// The Kubernetes manifests of docs/cluster.md, pod by pod as local
/// processes with 3 shards in place of 100: the shards' `args` after the
/// image's entrypoint, `$(JOB_COMPLETION_INDEX)` replaced, the merge's
/// `sh -c` command; the image's paths mapped to this checkout.
#[test]
fn documented_kubernetes_jobs_merge_to_one_run() {
    let dir = scratch("shard-k8s");
    let docker = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(docker.contains("COPY scenarios /usr/share/crmsim/scenarios"));
    assert!(docker.contains(r#"ENTRYPOINT ["crmsim"]"#));
    let scen = root().join("scenarios/baseline.toml");
    let base = ["--trials", "240", "--no-figures", "--quiet", "--out", "one"];
    ok(
        &dir,
        &[&["run", scen.to_str().unwrap()][..], &base].concat(),
    );
    let shards = std::fs::read_to_string(root().join("scenarios/cluster/k8s-shards.yaml")).unwrap();
    assert!(shards.contains("completionMode: Indexed") && shards.contains("completions: 100 "));
    let parts = dir.join("parts");
    let local = |s: &str| {
        let s = s.replace(
            "/usr/share/crmsim/scenarios",
            root().join("scenarios").to_str().unwrap(),
        );
        s.replace("/parts", parts.to_str().unwrap())
    };
    for i in 0..3 {
        let args: Vec<String> = manifest_list("k8s-shards.yaml", "args")
            .iter()
            .map(|a| match a.as_str() {
                "1000000000" => "240".to_string(),
                "$(JOB_COMPLETION_INDEX)/100" => format!("{i}/3"),
                a => local(a),
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&dir, &refs);
    }
    let command = manifest_list("k8s-merge.yaml", "command");
    assert_eq!(command[..2], ["sh", "-c"]);
    let line = local(&command[2].replace("-of-100.", "-of-3."));
    let line = line.replacen("crmsim", &format!("'{}'", env!("CARGO_BIN_EXE_crmsim")), 1);
    let st = std::process::Command::new("sh")
        .args(["-c", &line])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(st.success(), "{line}");
    assert!(summary(&parts.join("result")) == summary(&dir.join("one")));
}

/// `merge DIR` takes the partial files in the folder, as the shards' own
/// `--out` leaves them; a folder without any is refused.
#[test]
fn merge_takes_a_folder_of_partials() {
    let dir = scratch("shard-folder");
    unsharded(&dir, "300", "one");
    let parts = shards(&dir, "parts", "run", "300", 3, &[]);
    // a file that is not a partial is left alone
    std::fs::write(dir.join("parts/notes.txt"), "shards of 2026-11-29").unwrap();
    ok(
        &dir,
        &[
            "merge",
            "parts",
            "--out",
            "merged",
            "--no-figures",
            "--quiet",
        ],
    );
    assert_eq!(summary(&dir.join("one")), summary(&dir.join("merged")));
    // a folder and one of its files: that shard twice
    let twice = refused(
        &dir,
        &["merge", "parts", parts[1].to_str().unwrap(), "--quiet"],
    );
    assert!(twice.contains("part-1-of-3"), "{twice}");
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let err = refused(&dir, &["merge", "empty", "--quiet"]);
    assert!(
        err.contains("empty: no partial files (*.crmpart) in this folder"),
        "{err}"
    );
}

/// A shard whose folder cannot be written fails at once (exit 1), before
/// simulating: here the full 2^31 trials, which would take hours otherwise.
/// A partial that cannot be put in place leaves no temporary file behind.
#[test]
fn shards_check_their_folder_first_and_leave_no_temporary_files() {
    let dir = scratch("shard-unwritable");
    std::fs::write(dir.join("a-file"), "not a folder").unwrap();
    let out = crmsim()
        .current_dir(&dir)
        .args(["run", "--trials", "2147483648", "--shard", "0/1"])
        .args(["--out", "a-file/parts", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot create folder a-file/parts"), "{err}");

    std::fs::create_dir_all(dir.join("p/part-0-of-2.crmpart")).unwrap();
    let out = crmsim()
        .current_dir(&dir)
        .args([
            "run", "--trials", "300", "--shard", "0/2", "--out", "p", "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let left: Vec<_> = std::fs::read_dir(dir.join("p"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["part-0-of-2.crmpart"], "{left:?}");
}

/// A file that does not start as a partial is refused after its first bytes:
/// an endless device given by mistake does not fill the memory.
#[cfg(target_os = "linux")]
#[test]
fn merge_refuses_a_device_at_once() {
    let dir = scratch("shard-device");
    let err = refused(&dir, &["merge", "/dev/zero", "--quiet"]);
    assert!(
        err.contains("/dev/zero: is not a crmsim partial file"),
        "{err}"
    );
}

/// A shard re-run writes the same file again; a shard of another run with
/// the same file name is refused before simulating, naming what differs.
#[test]
fn a_shard_does_not_replace_another_runs_partial() {
    let dir = scratch("shard-replace");
    let args = [
        "run", "--trials", "300", "--shard", "0/2", "--out", "p", "--quiet",
    ];
    ok(&dir, &args);
    let before = std::fs::read(dir.join("p/part-0-of-2.crmpart")).unwrap();
    ok(&dir, &args);
    let after = std::fs::read(dir.join("p/part-0-of-2.crmpart")).unwrap();
    assert_eq!(before, after);
    let other = [
        "run", "--trials", "400", "--shard", "0/2", "--out", "p", "--quiet",
    ];
    let err = refused(&dir, &other);
    assert!(
        err.contains(
            "part-0-of-2.crmpart: is a shard of another run (trials: 300 in it, 400 in this one)"
        ),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("p/part-0-of-2.crmpart")).unwrap(),
        before
    );
}
