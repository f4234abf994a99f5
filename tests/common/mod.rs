//! Helpers shared by the integration tests (each test file includes this
//! module; not every file uses every helper).
#![allow(dead_code)]

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
