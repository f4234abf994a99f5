//! `--shard I/N` of `run` and `compare`, and `crmsim merge`: a run cut
//! into shards that any scheduler runs, and merged to the same bytes as the
//! unsharded run (docs/cluster.md; the file format is in [`crate::partial`]).
//! Sweeps use the same partials and checks ([`super::sweep`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde::de::DeserializeOwned;

use super::{Loaded, MergeArgs, Progress, RunArgs, Show, compile_strategies, now, write_outcome};
use crate::compare;
use crate::error::{Error, InputErrors};
use crate::partial::{self, FileText, Header, StrategyRef};
use crate::scenario;
use crate::sim::{self, RunOptions, Totals};

/// Largest number of shards.
pub const MAX_SHARDS: u64 = 1_000_000;

/// Shard I (0-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("expected I/N with 0 <= I < N <= {MAX_SHARDS}, e.g. 0/8");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count) = (
        i.trim().parse::<u64>().map_err(|_| bad())?,
        n.trim().parse::<u64>().map_err(|_| bad())?,
    );
    if count == 0 || count > MAX_SHARDS || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

#[derive(Debug, Args)]
pub struct ShardArgs {
    /// Simulate only shard I of N (0-based; a fixed range of the trials) and
    /// write DIR/part-I-of-N.crmpart for `crmsim merge` (DIR: --out, default
    /// output/<scenario name>-parts, -sweep-parts for a sweep). See
    /// docs/cluster.md.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

impl ShardArgs {
    pub fn get(&self) -> Option<Shard> {
        self.shard
    }
}

pub(super) fn file_text(display: &str, bytes: &[u8]) -> FileText {
    FileText {
        display: display.to_string(),
        sha256: scenario::sha256_hex(bytes),
        text: String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The header of shard `sh` of `run`.
fn header(run: &Loaded, files: &[PathBuf], compare: bool, sh: Shard) -> Result<Header, Error> {
    let strategy_files = files
        .iter()
        .map(|f| {
            Ok(file_text(
                &f.display().to_string(),
                &super::read_strategy_file(f)?,
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let range = partial::shard_range(run.trials, sh.index, sh.count);
    Ok(Header {
        crmsim_version: env!("CARGO_PKG_VERSION").to_string(),
        build: crate::BUILD.to_string(),
        format_version: partial::FORMAT_VERSION,
        command: if compare { "compare" } else { "run" }.to_string(),
        scenario: file_text(&run.source.display, run.source.text.as_bytes()),
        strategy_files,
        strategies: strategy_refs(&run.strategies),
        sweep: None,
        seed: run.seed,
        trials: run.trials,
        horizon_months: run.model.horizon,
        shard: sh.index,
        shards: sh.count,
        first_trial: range.start,
        end_trial: range.end,
    })
}

fn strategy_refs(strategies: &[compare::Strategy]) -> Vec<StrategyRef> {
    strategies
        .iter()
        .map(|s| StrategyRef {
            id: s.id.clone(),
            sha256: s.model.digest(),
        })
        .collect()
}

/// The folder for a shard's partial: `out`, else `default`; refused when it
/// holds the output of a run, and checked to be writable (before any
/// simulation, so a shard never computes for nothing).
pub(super) fn parts_dir(out: Option<&PathBuf>, default: PathBuf) -> Result<PathBuf, Error> {
    let dir = out.cloned().unwrap_or(default);
    if dir.join(".crmsim-output").exists() {
        return Err(Error::Usage(format!(
            "{} holds the output of a run; give the shards' partial files a folder of their own",
            dir.display()
        )));
    }
    partial::check_writable(&dir)?;
    Ok(dir)
}

/// Before simulating: a partial already at this shard's file name must be
/// of the same run (a retry, which writes the same bytes); one of another
/// run is not silently replaced.
pub(super) fn check_replacing(dir: &Path, head: &Header) -> Result<(), Error> {
    let path = dir.join(partial::file_name(head.shard, head.shards));
    if !path.exists() {
        return Ok(());
    }
    let bytes = partial::read(&path)?;
    let why = match partial::decode_header(&bytes) {
        Err(reason) => reason,
        Ok((old, _)) => {
            let differs = old.identity().into_iter().zip(head.identity());
            match differs.into_iter().find(|(a, b)| a.1 != b.1) {
                None => return Ok(()),
                Some(((name, _, theirs), (_, _, ours))) => {
                    format!(
                        "is a shard of another run ({name}: {theirs} in it, {ours} in this one)"
                    )
                }
            }
        }
    };
    Err(refuse(
        &path,
        format!("{why}; remove it, or give this run's shards a folder of their own (--out)"),
    ))
}

/// Writes the partial of `head` with `body` into `dir` and says so.
pub(super) fn write_partial(
    dir: &Path,
    head: &Header,
    body: &[u8],
    display: &str,
    quiet: bool,
    started: Instant,
) -> Result<(), Error> {
    let path = dir.join(partial::file_name(head.shard, head.shards));
    partial::write(&path, &partial::encode(head, body)?)?;
    if quiet {
        return Ok(());
    }
    super::emit(&format!(
        "{display}: shard {} of {}: trials {}..{} of {}, {:.2} s\nwrote {}\n",
        head.shard,
        head.shards,
        head.first_trial,
        head.end_trial,
        crate::format::thousands(head.trials),
        started.elapsed().as_secs_f64(),
        path.display()
    ))
}

/// Simulates shard `sh` of `run` and writes its partial file.
pub fn write_shard(
    args: &RunArgs,
    run: &Loaded,
    files: &[PathBuf],
    compare: bool,
    sh: Shard,
    threads: usize,
) -> Result<(), Error> {
    let default = Path::new("output").join(format!("{}-parts", run.model.name));
    let dir = parts_dir(args.out.as_ref(), default)?;
    let head = header(run, files, compare, sh)?;
    check_replacing(&dir, &head)?;
    let range = head.first_trial..head.end_trial;
    let engines = compare::engines(&run.model, &run.strategies, run.seed);
    let opts = RunOptions {
        trials: run.trials,
        seed: run.seed,
        threads,
    };
    let started = Instant::now();
    let progress = Progress::new(args.quiet, range.end - range.start);
    let totals = sim::accumulate(&engines, opts, true, range.clone(), &|n| progress.add(n))?;
    progress.finish();
    let body = partial::body_of(&totals)?;
    write_partial(&dir, &head, &body, &run.source.display, args.quiet, started)
}

/// An input error about partial files.
pub(super) fn refuse(file: &Path, reason: String) -> Error {
    InputErrors::single(&file.display().to_string(), reason).into()
}

/// Reads and checks one partial against the first one's header; returns
/// its header and aggregates.
pub(super) fn read_part<T: DeserializeOwned>(
    path: &Path,
    first: Option<&(PathBuf, Header)>,
) -> Result<(Header, T), Error> {
    let bytes = partial::read(path)?;
    let (head, body) = partial::decode_header(&bytes).map_err(|r| refuse(path, r))?;
    check_part(path, head, body, first)
}

/// [`read_part`] on a partial already read and its header decoded
/// ([`partial::decode_header`]).
pub(super) fn check_part<T: DeserializeOwned>(
    path: &Path,
    head: Header,
    body: &[u8],
    first: Option<&(PathBuf, Header)>,
) -> Result<(Header, T), Error> {
    let want = partial::shard_range(head.trials, head.shard, head.shards.max(1));
    let sane = head.shards <= MAX_SHARDS && (1..=sim::MAX_TRIALS).contains(&head.trials);
    if !sane
        || head.shards == 0
        || head.shard >= head.shards
        || want != (head.first_trial..head.end_trial)
    {
        return Err(refuse(
            path,
            "records a shard and trial range that do not agree; it is damaged".into(),
        ));
    }
    let texts = std::iter::once(("scenario", &head.scenario))
        .chain(head.strategy_files.iter().map(|f| ("strategy file", f)));
    for (what, f) in texts {
        if scenario::sha256_hex(f.text.as_bytes()) != f.sha256 {
            return Err(refuse(
                path,
                format!(
                    "carries a {what} text ({}) that does not match its SHA-256; it is damaged",
                    f.display
                ),
            ));
        }
    }
    if let Some((first_path, f)) = first {
        for ((name, a, a_shown), (_, b, b_shown)) in f.identity().iter().zip(head.identity()) {
            if *a != b {
                return Err(refuse(
                    path,
                    format!(
                        "does not belong with {}: {name}: {b_shown} here, {a_shown} there",
                        first_path.display()
                    ),
                ));
            }
        }
    }
    let body = partial::decode_body(body).map_err(|r| refuse(path, r))?;
    Ok((head, body))
}

/// The scenario a partial carries (its text matches its SHA-256: checked
/// when the partial was read, by [`check_part`]).
pub(super) fn source_of(head: &Header) -> Result<scenario::Source, Error> {
    let sc = &head.scenario;
    scenario::parse_bytes(&sc.display, sc.text.as_bytes())
}

/// The refusal of a partial whose models this crmsim rebuilds differently.
pub(super) fn rebuilt_differently(path: &Path) -> Error {
    refuse(
        path,
        "was made by a crmsim that reads its scenario differently; merge with the crmsim that \
         ran the shards"
            .into(),
    )
}

/// An input or usage error in the texts a partial carries (its scenario,
/// strategy files or sweep options), told as the partial's: the user did not
/// write them on this command.
pub(super) fn carried(path: &Path, e: Error) -> Error {
    match e {
        Error::Input(_) | Error::Usage(_) => refuse(
            path,
            format!("carries a scenario or options this crmsim refuses: {e}"),
        ),
        other => other,
    }
}

/// Rebuilds the run of a partial's header from the texts it carries.
fn rebuild(head: &Header, path: &Path) -> Result<Loaded, Error> {
    let load = || -> Result<_, Error> {
        let source = source_of(head)?;
        let model = super::load_model(&source)?;
        let mut patched = source.strategies()?;
        for f in &head.strategy_files {
            patched.extend(source.strategies_from_bytes(&f.display, f.text.as_bytes())?);
        }
        Ok((source, model, compile_strategies(patched)?))
    };
    let (source, model, strategies) = load().map_err(|e| carried(path, e))?;
    if strategy_refs(&strategies) != head.strategies || model.horizon != head.horizon_months {
        return Err(rebuilt_differently(path));
    }
    Ok(Loaded {
        source,
        model,
        strategies,
        trials: head.trials,
        seed: head.seed,
    })
}

/// The shard numbers of 0..n not in `seen`, as text ("3, 5 and 9 others").
fn missing(seen: &[Option<PathBuf>]) -> String {
    let gone: Vec<String> = (0..seen.len())
        .filter(|&i| seen[i].is_none())
        .map(|i| i.to_string())
        .collect();
    let shown = gone.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    if gone.len() > 10 {
        format!("{shown} and {} others", gone.len() - 10)
    } else {
        shown
    }
}

/// Folds the partials `parts` one at a time into `add` (each is dropped
/// before the next is read), the first already read as `first`; refuses a
/// shard given twice or missing.
pub(super) fn fold_parts<T: DeserializeOwned>(
    parts: &[PathBuf],
    first: &(PathBuf, Header),
    first_body: T,
    mut add: impl FnMut(&Path, T) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut seen: Vec<Option<PathBuf>> = vec![None; first.1.shards as usize];
    let mut take = |path: &Path, head: &Header, body: T| -> Result<(), Error> {
        if let Some(prev) = &seen[head.shard as usize] {
            return Err(refuse(
                path,
                format!("is shard {} again (also {})", head.shard, prev.display()),
            ));
        }
        add(path, body)?;
        seen[head.shard as usize] = Some(path.to_path_buf());
        Ok(())
    };
    take(&first.0, &first.1, first_body)?;
    for p in &parts[1..] {
        let (head, body) = read_part(p, Some(first))?;
        take(p, &head, body)?;
    }
    if seen.iter().any(Option::is_none) {
        return Err(Error::Input(InputErrors::single(
            "merge",
            format!(
                "shards missing: {} of {} (run them with --shard I/{} and give every part)",
                missing(&seen),
                first.1.shards,
                first.1.shards
            ),
        )));
    }
    Ok(())
}

/// The refusal of a partial whose aggregates do not fit its scenario's.
pub(super) fn misshapen(path: &Path) -> Error {
    refuse(
        path,
        "holds aggregates of another shape than its scenario's; it is damaged".into(),
    )
}

/// The merge's files: each folder among `parts` replaced by the partial
/// files (`*.crmpart`) in it, in name order (a folder without any is
/// refused); files as given.
pub fn expand_folders(parts: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in parts {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let unlisted = |e| Error::Io {
            context: format!("cannot list the folder {}", p.display()),
            source: e,
        };
        let mut found = Vec::new();
        for entry in std::fs::read_dir(p).map_err(unlisted)? {
            let entry = entry.map_err(unlisted)?;
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "crmpart") && path.is_file() {
                found.push(path);
            }
        }
        if found.is_empty() {
            return Err(Error::Usage(format!(
                "{}: no partial files (*.crmpart) in this folder",
                p.display()
            )));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

pub fn merge_cmd(args: &MergeArgs) -> Result<(), Error> {
    // The first file says what is merged: a run or comparison, or a sweep.
    let first = &args.parts[0];
    let started = now();
    let t0 = Instant::now();
    let bytes = partial::read(first)?;
    let (head, body) = partial::decode_header(&bytes).map_err(|r| refuse(first, r))?;
    if head.command == "sweep" {
        return super::sweep::merge_cmd(args, head, body);
    }
    let (head, first_totals) = check_part::<Totals>(first, head, body, None)?;
    drop(bytes);
    let first = (first.clone(), head);
    let run = rebuild(&first.1, &first.0)?;
    let engines = compare::engines(&run.model, &run.strategies, run.seed);
    let mut total = Totals::new(&engines, run.trials, true);
    fold_parts(&args.parts, &first, first_totals, |path, totals: Totals| {
        if !total.fits(&totals) {
            return Err(misshapen(path));
        }
        total.merge(&totals);
        Ok(())
    })?;
    let outcome = compare::assemble(
        &run.model,
        &run.strategies,
        &engines,
        total,
        t0.elapsed().as_secs_f64(),
    );
    write_merged(args, &run, &first.1, outcome, started)
}

fn write_merged(
    args: &MergeArgs,
    run: &Loaded,
    head: &Header,
    outcome: compare::Outcome,
    started: String,
) -> Result<(), Error> {
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&run.model.name));
    let out = crate::output::OutputDir::prepare(&out_dir)?;
    let info = crate::results::RunInfo {
        command_line: std::env::args().collect(),
        strategy_files: head
            .strategy_files
            .iter()
            .map(|f| crate::results::FileRef {
                path: f.display.clone(),
                sha256: f.sha256.clone(),
            })
            .collect(),
        started,
        finished: String::new(),
        crmsim_version: crate::LONG_VERSION.to_string(),
        threads: 1,
    };
    let show = Show {
        quiet: args.quiet,
        figures: !args.no_figures,
        details: args.details,
        headline: format!(
            "{}: merged {} shards: {} trials, seed {} ({:.2} s)\n",
            run.source.display,
            head.shards,
            crate::format::thousands(run.trials),
            run.seed,
            outcome.seconds
        ),
    };
    let progress = Progress::new(args.quiet, 0);
    write_outcome(run, &outcome, info, out, &out_dir, &show, &progress)
}
