//! Helpers shared by the integration tests (each test file includes this
//! module; not every file uses every helper).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use crmsim::model::Model;
use crmsim::scenario;

/// Parses and compiles a scenario text, panicking with the message if invalid.
pub fn compile(text: &str) -> Model {
    let src = scenario::parse_bytes("case.toml", text.as_bytes()).expect("parses");
    match Model::compile(&src.display, &src.scenario) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// The bundled baseline, compiled.
pub fn baseline() -> Model {
    let src = scenario::load_or_baseline(None).expect("bundled baseline parses");
    Model::compile(&src.display, &src.scenario).expect("baseline is valid")
}

/// Asserts that two runs of one trial split a commodity's shortfall into the
/// same parts (series, source, country, in order) with values that agree by
/// `close`; returns how many values differ in their bits.
pub fn assert_parts_agree(
    a: &[crmsim::engine::AttribPart],
    b: &[crmsim::engine::AttribPart],
    close: impl Fn(f64, f64) -> bool,
    at: &str,
) -> usize {
    assert_eq!(a.len(), b.len(), "{at}");
    let mut differ = 0;
    for (p, q) in a.iter().zip(b) {
        assert_eq!(
            (p.series, p.source, p.country),
            (q.series, q.source, q.country),
            "{at}"
        );
        assert!(close(p.value, q.value), "{at}: {p:?} vs {q:?}");
        differ += usize::from(p.value != q.value);
    }
    differ
}

/// The `crmsim` binary under test.
pub fn crmsim() -> Command {
    Command::cargo_bin("crmsim").unwrap()
}

/// A fresh, empty folder under cargo's test scratch space.
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs crmsim with `args` in `dir`, expecting exit 0; returns standard output.
pub fn ok<S: AsRef<OsStr> + std::fmt::Debug>(dir: &Path, args: &[S]) -> String {
    let out = crmsim().current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs crmsim with `args` in `dir`, expecting exit 2; returns standard error.
pub fn refused<S: AsRef<OsStr> + std::fmt::Debug>(dir: &Path, args: &[S]) -> String {
    let out = crmsim().current_dir(dir).args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A JSON output file without its top-level `run` (provenance) block, as
/// text: what a merge must reproduce byte for byte.
pub fn without_run(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("run");
    serde_json::to_string_pretty(&v).unwrap()
}
