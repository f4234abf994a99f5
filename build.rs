//! Build script: gives the binary a build identity, `CRMSIM_BUILD`, a hash
//! of the sources it is compiled from (`src/`, `assets/`, `Cargo.toml`,
//! `Cargo.lock`, this file). Two binaries with the same identity compute the
//! same results, so shards run by them may be merged; `crmsim --version`
//! shows it. The hash is FNV-1a (64 bits) over each file's path and bytes,
//! in path order: it tells builds apart, it is not a security measure.

use std::path::{Path, PathBuf};

const ROOTS: [&str; 5] = ["src", "assets", "Cargo.toml", "Cargo.lock", "build.rs"];

fn files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for e in entries.flatten() {
            files(&e.path(), out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn main() {
    let mut all = Vec::new();
    for root in ROOTS {
        println!("cargo:rerun-if-changed={root}");
        files(Path::new(root), &mut all);
    }
    // the same order on every system: paths with `/`, sorted
    let mut named: Vec<(String, PathBuf)> = all
        .into_iter()
        .map(|p| (p.to_string_lossy().replace('\\', "/"), p))
        .collect();
    named.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for (name, path) in &named {
        let bytes = std::fs::read(path).unwrap_or_default();
        fnv1a(&mut hash, name.as_bytes());
        fnv1a(&mut hash, &(bytes.len() as u64).to_le_bytes());
        fnv1a(&mut hash, &bytes);
    }
    println!("cargo:rustc-env=CRMSIM_BUILD={hash:016x}");
}
