//! `crmsim study alliances`: runs the alliance study and writes its page
//! (FILE.md), its figures (the folder FILE/ beside the page, one complete
//! run like every output folder) and, with --readme, the answer paragraph
//! into a README between its markers.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{default_threads, emit};
use crate::error::{Error, InputErrors};
use crate::plot::Formats;
use crate::report::study::{ANSWER_BEGIN, ANSWER_END};
use crate::report::{self, sensitivity};
use crate::sim;

/// The bundled studies.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StudyName {
    /// Do the MSP and the EU partnerships buffer supply shocks, for whom, at whose expense?
    Alliances,
}

/// Arguments of `crmsim study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// The study to run.
    #[arg(value_enum)]
    pub name: StudyName,
    /// Trials of every run of the study.
    #[arg(long, value_name = "N", default_value_t = crate::study::DEFAULT_TRIALS)]
    pub trials: u64,
    /// Random seed; default: the baseline's.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Worker threads; default: all cores. Results do not depend on it.
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// The page to write (FILE.md); its figures go into the folder FILE/ beside it.
    #[arg(
        long,
        value_name = "FILE.md",
        default_value = "output/study-alliances.md"
    )]
    pub out: PathBuf,
    /// Also replace the answer paragraph between the study's markers in this file (e.g. README.md).
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// The folder of the figures: the page's path without `.md`.
fn figures_folder(out: &Path) -> Result<PathBuf, Error> {
    match out.extension() {
        Some(e) if e == "md" && out.file_stem().is_some() => Ok(out.with_extension("")),
        _ => Err(Error::Usage(format!(
            "--out {}: give the page to write, a file name ending in .md",
            out.display()
        ))),
    }
}

fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    })?;
    String::from_utf8(bytes).map_err(|_| {
        InputErrors::single(
            &path.display().to_string(),
            "is not valid UTF-8 text".into(),
        )
        .into()
    })
}

/// `text` with the part between the answer markers replaced by `answer`.
pub fn replace_answer(display: &str, text: &str, answer: &str) -> Result<String, Error> {
    let missing = || -> Error {
        InputErrors::single(
            display,
            format!("has no answer markers: add a line `{ANSWER_BEGIN}` and, below it, a line `{ANSWER_END}`"),
        )
        .into()
    };
    let a = text.find(ANSWER_BEGIN).ok_or_else(missing)? + ANSWER_BEGIN.len();
    let b = text[a..].find(ANSWER_END).ok_or_else(missing)? + a;
    Ok(format!("{}\n{answer}\n{}", &text[..a], &text[b..]))
}

/// The command line that writes the study as asked.
fn command_line(args: &StudyArgs, seed: u64) -> String {
    let mut c = format!(
        "crmsim study alliances --trials {} --seed {seed} --out {}",
        args.trials,
        args.out.display()
    );
    if let Some(r) = &args.readme {
        c.push_str(&format!(" --readme {}", r.display()));
    }
    c
}

/// Runs a study and writes its page, figures and (with --readme) answer.
pub fn study_cmd(args: &StudyArgs) -> Result<(), Error> {
    let StudyName::Alliances = args.name;
    if args.trials == 0 || args.trials > sim::MAX_TRIALS {
        return Err(Error::Usage(format!(
            "--trials must be between 1 and {}, got {}",
            crate::format::thousands(sim::MAX_TRIALS),
            crate::format::thousands(args.trials)
        )));
    }
    let folder = figures_folder(&args.out)?;
    // Before running: the README has its markers, the folder is free and writable.
    let readme = match &args.readme {
        Some(p) => {
            let text = read_text(p)?;
            replace_answer(&p.display().to_string(), &text, "")?;
            Some((p, text))
        }
        None => None,
    };
    let out = crate::output::OutputDir::prepare(&folder)?;
    let threads = args
        .threads
        .map(|t| t as usize)
        .unwrap_or_else(default_threads);
    let quiet = args.quiet;
    let note = |what: &str| {
        if !quiet {
            eprintln!("crmsim: study: {what}");
        }
    };
    let mut study = crate::study::alliances(args.trials, args.seed, threads, &note, &|_| {})?;
    study.commands.study = command_line(args, study.seed);
    study.commands.figures_dir = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    note("drawing figures and writing the page");
    let figs = crate::plot::study::render_all(&study, Formats::Svg)?;
    let written = sensitivity::write_figures(&figs, out.staging())?;
    out.commit(&written)?;
    report::write_atomic(&args.out, report::study::render(&study).as_bytes())?;
    let mut text = format!(
        "wrote {}\nfigures: {} files in {}\n",
        args.out.display(),
        written.len(),
        folder.display()
    );
    if let Some((p, old)) = readme {
        let new = replace_answer(
            &p.display().to_string(),
            &old,
            &report::study::answer(&study),
        )?;
        report::write_atomic(p, new.as_bytes())?;
        text.push_str(&format!("updated the answer in {}\n", p.display()));
    }
    if quiet { Ok(()) } else { emit(&text) }
}
