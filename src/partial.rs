//! Partial results of one shard of a run (docs/cluster.md): the exact,
//! unfinished aggregates of a fixed range of trials, with everything needed
//! to check that partials belong together and to rebuild the models.
//!
//! File layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `CRMPART` and a newline |
//! | 4 | format version (u32) |
//! | 8 | header length H (u64) |
//! | H | header: JSON ([`Header`]) |
//! | 8 | body length B (u64) |
//! | B | body: the aggregates, postcard encoding ([`crate::sim::Totals`] of a run or comparison, a [`crate::sweep::pass::State`] of a sweep) |
//! | 32 | SHA-256 of all the bytes before it |
//!
//! A file is written under a temporary name and renamed into place, so a
//! shard that is interrupted leaves no file of the final name; the checksum
//! catches anything truncated or altered since.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The file's first bytes.
pub const MAGIC: &[u8; 8] = b"CRMPART\n";
/// Version of the layout and of the body's encoding. A crmsim reads only
/// partials of its own format version. (2: sweeps, with the `sweep` header;
/// 3: the monthly bands' histograms in blocks of 10 bins, attribution sums
/// per acting source and country.)
pub const FORMAT_VERSION: u32 = 3;
/// Largest header a partial may declare (the scenario texts are in it).
const MAX_HEADER: u64 = 256 << 20;

/// A file of the run: its name as given, its SHA-256 and its text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileText {
    pub display: String,
    pub sha256: String,
    pub text: String,
}

/// A strategy of the run: its id and the SHA-256 of its compiled model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StrategyRef {
    pub id: String,
    pub sha256: String,
}

/// What a sweep shard runs: its options as given (the points follow from
/// them and the scenario).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepSpec {
    /// `tornado` or `grid`.
    pub mode: String,
    /// The `--vary` options, in the order given.
    pub vary: Vec<String>,
    pub metric: String,
    /// `--commodity`, if given.
    pub commodity: Option<String>,
    pub consumer: String,
}

impl SweepSpec {
    /// One line: `tornado of cvar95 (world, cobalt), --vary A, --vary B`.
    fn describe(&self) -> String {
        let k = self.commodity.as_deref().unwrap_or("every commodity");
        let vary: Vec<String> = self.vary.iter().map(|v| format!("--vary {v}")).collect();
        format!(
            "{} of {} ({}, {k}), {}",
            self.mode,
            self.metric,
            self.consumer,
            vary.join(", ")
        )
    }
}

/// What a partial says about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub crmsim_version: String,
    /// The build identity of the crmsim that wrote it ([`crate::BUILD`]).
    #[serde(default)]
    pub build: String,
    pub format_version: u32,
    /// `run`, `compare` or `sweep`: the command whose output `merge` writes.
    pub command: String,
    pub scenario: FileText,
    /// The `--strategy` files, in the order given.
    pub strategy_files: Vec<FileText>,
    /// Every strategy evaluated (from the scenario and the files); for a
    /// sweep, every point (id `PATH=value, ...`) with its model's SHA-256.
    pub strategies: Vec<StrategyRef>,
    /// The sweep's options (sweeps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
    pub seed: u64,
    pub trials: u64,
    pub horizon_months: usize,
    /// This shard (0-based) and the number of shards.
    pub shard: u64,
    pub shards: u64,
    /// The trials of this shard: `first..end`.
    pub first_trial: u64,
    pub end_trial: u64,
}

impl Header {
    /// Everything that must agree between partials of one run, as
    /// (what, the value compared, the value shown).
    pub fn identity(&self) -> Vec<(&'static str, String, String)> {
        let short = |sha: &str| format!("SHA-256 {}…", &sha[..sha.len().min(12)]);
        let named = |f: &FileText| format!("{} ({})", f.display, short(&f.sha256));
        let files: Vec<&str> = self.strategy_files.iter().map(|f| &f.sha256[..]).collect();
        let shown: Vec<String> = self.strategy_files.iter().map(named).collect();
        let strategies: Vec<String> = self
            .strategies
            .iter()
            .map(|s| format!("{} ({})", s.id, short(&s.sha256)))
            .collect();
        let plain = |what, v: String| (what, v.clone(), v);
        let none = |v: Vec<String>| {
            if v.is_empty() {
                "none".into()
            } else {
                v.join(", ")
            }
        };
        vec![
            plain("crmsim version", self.crmsim_version.clone()),
            plain("crmsim build", self.build.clone()),
            plain("command", self.command.clone()),
            plain(
                "sweep",
                self.sweep
                    .as_ref()
                    .map_or("none".into(), SweepSpec::describe),
            ),
            (
                "scenario",
                self.scenario.sha256.clone(),
                named(&self.scenario),
            ),
            ("strategy files", files.join(","), none(shown)),
            if self.sweep.is_some() {
                // many points: shown as their count and one digest of all
                let all = none(strategies);
                let digest = crate::scenario::sha256_hex(all.as_bytes());
                let shown = format!("{} points ({})", self.strategies.len(), short(&digest));
                ("sweep points", all, shown)
            } else {
                plain("strategies", none(strategies))
            },
            plain("seed", self.seed.to_string()),
            plain("trials", crate::format::thousands(self.trials)),
            plain("horizon (months)", self.horizon_months.to_string()),
            plain("number of shards", self.shards.to_string()),
        ]
    }
}

/// The trials of shard `i` of `n` over `trials` trials: a contiguous range
/// that depends only on (trials, n); some are empty when n > trials.
pub fn shard_range(trials: u64, i: u64, n: u64) -> Range<u64> {
    let at = |j: u64| (trials as u128 * j as u128 / n as u128) as u64;
    at(i)..at(i + 1)
}

/// The file name of shard `i` of `n`.
pub fn file_name(i: u64, n: u64) -> String {
    format!("part-{i}-of-{n}.crmpart")
}

/// The body of a partial: `value` in the postcard encoding.
pub fn body_of<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    postcard::to_allocvec(value).map_err(|e| Error::Other(format!("cannot encode a partial: {e}")))
}

/// The bytes of a partial with the encoded `body`.
pub fn encode(header: &Header, body: &[u8]) -> Result<Vec<u8>, Error> {
    let head = serde_json::to_vec(header).map_err(|e| Error::Other(e.to_string()))?;
    let mut out = Vec::with_capacity(head.len() + body.len() + 60);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    Ok(out)
}

/// Writes a partial atomically: a temporary file in the same folder, synced,
/// then renamed to `path`.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |what: &str, p: &Path, e: std::io::Error| Error::Io {
        context: format!("cannot {what} {}", p.display()),
        source: e,
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(|e| io("create folder", d, e))?;
    }
    let tmp: PathBuf = path.with_extension(format!("crmpart.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", &tmp, e))?;
    let written = f
        .write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io("write", &tmp, e));
    drop(f);
    let done =
        written.and_then(|_| std::fs::rename(&tmp, path).map_err(|e| io("rename into", path, e)));
    if done.is_err() {
        // leave no half-written or orphaned temporary file behind
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Fails early, before any simulation, if no partial file can be written
/// into `dir` (creating it if need be): writes and removes a probe file.
pub fn check_writable(dir: &Path) -> Result<(), Error> {
    let io = |what: &str, p: &Path, e: std::io::Error| Error::Io {
        context: format!("cannot {what} {}", p.display()),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create folder", dir, e))?;
    let probe = dir.join(format!(".crmpart-probe{}", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| io("write into the folder", dir, e))?;
    std::fs::remove_file(&probe).map_err(|e| io("remove", &probe, e))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Checks the magic, version and checksum and reads the header; the body is
/// returned undecoded (see [`decode_body`]).
pub fn decode_header(bytes: &[u8]) -> Result<(Header, &[u8]), String> {
    if bytes.is_empty() {
        return Err("is empty: not a crmsim partial file".into());
    }
    let head = &bytes[..bytes.len().min(8)];
    if head != &MAGIC[..head.len()] {
        return Err("is not a crmsim partial file (it does not start with CRMPART)".into());
    }
    if bytes.len() < 20 {
        return Err("is truncated (shorter than its fixed parts)".into());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(format!(
            "has partial format version {version}, but this crmsim ({}) reads only version \
             {FORMAT_VERSION}: run the shards and the merge with the same crmsim",
            env!("CARGO_PKG_VERSION")
        ));
    }
    if bytes.len() < 20 + 8 + 32 {
        return Err("is truncated (shorter than its fixed parts)".to_string());
    }
    let (content, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(content)[..] != sum[..] {
        return Err("is corrupted or incomplete: its checksum does not match its content".into());
    }
    let head_len = u64_at(content, 12).filter(|&h| h <= MAX_HEADER);
    let head_end = head_len
        .map(|h| 20 + h as usize)
        .filter(|&e| e + 8 <= content.len());
    let Some(head_end) = head_end else {
        return Err("has a header length that does not fit the file".to_string());
    };
    let header: Header = serde_json::from_slice(&content[20..head_end]).map_err(|e| {
        format!(
            "has a header this crmsim cannot read (a field missing or of the wrong kind, near \
                 character {} of it): it was not written by this build of crmsim",
            e.column()
        )
    })?;
    let mine = env!("CARGO_PKG_VERSION");
    if header.crmsim_version != mine {
        return Err(format!(
            "was written by crmsim {}, but this is crmsim {mine}: merge with the crmsim that ran \
             the shards",
            header.crmsim_version
        ));
    }
    if header.build != crate::BUILD {
        return Err(format!(
            "was written by a crmsim built from other sources (build {}; this one is build {}): \
             run the shards and the merge with the same build of crmsim",
            if header.build.is_empty() {
                "not recorded"
            } else {
                &header.build
            },
            crate::BUILD
        ));
    }
    let body_len = u64_at(content, head_end).unwrap_or(u64::MAX);
    let body = &content[head_end + 8..];
    if body_len != body.len() as u64 {
        return Err("has a body length that does not fit the file".to_string());
    }
    Ok((header, body))
}

/// Decodes the aggregates of a partial's body.
pub fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let unreadable = || {
        "has a body this crmsim cannot read (its aggregates do not have the shape this build \
         writes): merge with the crmsim that ran the shards"
            .to_string()
    };
    match postcard::take_from_bytes(body) {
        Ok((value, [])) => Ok(value),
        _ => Err(unreadable()),
    }
}

/// Reads a partial's bytes (I/O errors are exit 1). A file that does not
/// start as a partial does is read no further than its first bytes (so a
/// device or a huge file given by mistake is refused at once).
pub fn read(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let io = |e| Error::Io {
        context: format!("cannot read partial file {}", path.display()),
        source: e,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    (&mut f)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes[..] == MAGIC[..] {
        f.read_to_end(&mut bytes).map_err(io)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_trials_once_in_order() {
        for trials in [1u64, 5, 7, 100, 4097] {
            for n in 1..=9u64 {
                let mut next = 0;
                for i in 0..n {
                    let r = shard_range(trials, i, n);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, trials);
            }
        }
        assert_eq!(shard_range(3, 0, 5), 0..0);
        assert_eq!(shard_range(1 << 31, 6, 7), 1840700269..(1 << 31));
    }
}
