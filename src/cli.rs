//! Command-line arguments (clap) and the subcommands they drive. Raw
//! arguments become a built configuration here; the work is done by the
//! library modules.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::error::Error;
use crate::model::Model;
use crate::plot::{self, Formats};
use crate::report::{self, Summary, inspect, table};
use crate::scenario::{self, Source};
use crate::sim::{self, RunOptions};

/// crmsim: Monte Carlo simulation of critical-raw-material supply disruptions.
///
/// A scenario file (TOML) describes commodities, producer countries, consuming
/// blocs, random shocks (conflict, disasters, resource nationalism, export
/// bans), alliances and stockpiles. crmsim simulates many possible years and
/// reports how large, how likely and for whom supply shortfalls are.
#[derive(Debug, Parser)]
#[command(name = "crmsim", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and write summary.json, metrics.csv, figures and report.html.
    ///
    /// Without FILE, runs the bundled baseline scenario
    /// (scenarios/baseline.toml, built into the binary). Prints a table per
    /// commodity and writes output/<scenario name>/summary.json, metrics.csv,
    /// figures/*.svg and *.png, and report.html (unless --no-figures).
    Run(RunArgs),
    /// Redraw the figures and report.html of a finished run from its summary.json.
    ///
    /// Simulates nothing: every figure is drawn from the numbers stored in
    /// summary.json. Writes <DIR>/figures/ and <DIR>/report.html.
    Plot(PlotArgs),
    /// Check a scenario file and report every problem found.
    ///
    /// Exits 0 with a one-line summary and any warnings when the file is
    /// valid, or 2 listing every problem.
    Validate {
        /// The scenario file (TOML).
        file: PathBuf,
    },
    /// Show the static supply concentration of a scenario.
    ///
    /// Per commodity and stage: the Herfindahl-Hirschman index (0-10,000),
    /// the top producer and its share, the top-3 share, the governance-weighted
    /// HHI where governance scores are given, and a flag where one country
    /// holds more than 65% (the EU Critical Raw Materials Act benchmark).
    Inspect {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML); the bundled baseline when omitted.
    pub file: Option<PathBuf>,
    /// Number of trials (simulated horizons); default: the scenario's `trials`.
    #[arg(long, value_name = "N")]
    pub trials: Option<u64>,
    /// Random seed; default: the scenario's `seed`. Same seed, same results.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Worker threads; default: all cores. Results do not depend on it.
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Folder for the output files; default: output/<scenario name>.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Skip the figures and report.html.
    #[arg(long)]
    pub no_figures: bool,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// summary.json of a finished run (e.g. output/baseline/summary.json).
    pub summary: PathBuf,
    /// Folder that gets figures/ and report.html; default: the folder of SUMMARY.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Image files to write (report.html always embeds SVG).
    #[arg(long, value_enum, default_value_t = Formats::Both)]
    pub format: Formats,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Run(args) => run_cmd(&args),
        Command::Plot(args) => plot_cmd(&args),
        Command::Validate { file } => validate_cmd(&file),
        Command::Inspect { file, json } => inspect_cmd(&file, json),
    }
}

fn load_model(source: &Source) -> Result<Model, Error> {
    Ok(Model::compile(&source.display, &source.scenario)?)
}

fn validate_cmd(file: &Path) -> Result<(), Error> {
    let source = scenario::load(file)?;
    let model = load_model(&source)?;
    println!("{}: ok - {}", source.display, model.summary_line());
    for w in &model.warnings {
        println!("warning: {w}");
    }
    Ok(())
}

fn inspect_cmd(file: &Path, json: bool) -> Result<(), Error> {
    let source = scenario::load(file)?;
    let model = load_model(&source)?;
    let rows = inspect::concentration(&model);
    if json {
        let v = serde_json::json!({ "scenario": model.name, "concentration": rows });
        let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Other(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", inspect::render(&rows));
    }
    Ok(())
}

/// Default worker count: all cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn run_cmd(args: &RunArgs) -> Result<(), Error> {
    let source = scenario::load_or_baseline(args.file.as_ref())?;
    let model = load_model(&source)?;
    let trials = args.trials.unwrap_or(model.trials);
    let seed = args.seed.unwrap_or(model.seed);
    let threads = args
        .threads
        .map(|t| t as usize)
        .unwrap_or_else(default_threads);
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&model.name));
    report::ensure_dir(&out_dir)?;

    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(trials);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} trials ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let started = Instant::now();
    let progress = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let results = sim::run(
        &[&model],
        RunOptions {
            trials,
            seed,
            threads,
        },
        &progress,
    )?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let run = &results[0];
    let summary = Summary::new(
        &model,
        &source.sha256,
        seed,
        trials,
        &[("base", &model, run)],
    );
    let written = report::write_all(&out_dir, &summary)?;
    if !args.quiet {
        println!(
            "{}: {} trials, seed {seed}, {threads} threads, {:.2} s ({:.0} trials/s)",
            source.display,
            trials,
            elapsed,
            trials as f64 / elapsed.max(1e-9)
        );
        for w in &model.warnings {
            println!("warning: {w}");
        }
        print!("{}", table::render(&model, run, trials));
        println!();
        for p in written {
            println!("wrote {}", p.display());
        }
    }
    if !args.no_figures {
        write_figures(&summary, &out_dir, Formats::Both, args.quiet)?;
    }
    Ok(())
}

/// Draws every figure of `summary` into `<out_dir>/figures/` and writes
/// `<out_dir>/report.html`; unless `quiet`, prints the paths and the time taken.
pub fn write_figures(
    summary: &Summary,
    out_dir: &Path,
    formats: Formats,
    quiet: bool,
) -> Result<(), Error> {
    let started = Instant::now();
    let written = plot::write_report(summary, out_dir, formats)?;
    if !quiet {
        for p in &written {
            println!("wrote {}", p.display());
        }
        println!(
            "figures and report: {} files in {:.2} s",
            written.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn plot_cmd(args: &PlotArgs) -> Result<(), Error> {
    let summary = plot::load_summary(&args.summary)?;
    let out_dir = args.out.clone().unwrap_or_else(|| {
        args.summary
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    write_figures(&summary, &out_dir, args.format, args.quiet)
}
