//! Command-line arguments (clap) and the subcommands they drive. Raw
//! arguments become a built configuration here; the work is done by the
//! library modules.

mod record_cmds;
mod sweep;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::compare::{self, Strategy};
use crate::error::{Error, InputErrors};
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
    /// Strategies written in FILE ([[strategy]] tables) are evaluated too, as
    /// by `compare`; every run also attributes the shortfall to its causes.
    Run(RunArgs),
    /// Evaluate mitigation strategies against the base on the same random draws.
    ///
    /// Strategies are [[strategy]] tables in FILE and/or in the --strategy
    /// files (which hold only [[strategy]] tables). Every strategy is run on
    /// exactly the same shocks as the base (common random numbers), and the
    /// ranking per commodity and consumer shows the reduction of the mean and
    /// of cvar95 with 95% confidence intervals from paired differences, the
    /// chance of doing better than the base in a trial, and tonnes of expected
    /// shortfall avoided per million of cost. Writes the same files as `run`.
    Compare(CompareArgs),
    /// What drives the risk, and how much is enough: tornado, grids, targets.
    ///
    /// Each --vary PATH=LOW..HIGH names one number of the scenario,
    /// <table>.<id>.<field>[.<key>], e.g. consumer.EU.stockpile_months.gallium,
    /// shock.cn-ree-ban.rate_per_year, shock.cn-ree-ban.severity.alpha,
    /// commodity.cobalt.producers.refining.CN or regime.high-tension.probability.
    /// Every point is the base scenario with those numbers changed, checked
    /// like a strategy and run on the base's random draws.
    ///
    /// By default a tornado: each PATH at LOW and at HIGH, the others at base,
    /// sorted by swing, with paired 95% confidence intervals of the change
    /// from base. --grid runs every combination of STEPS values (default 5)
    /// of one or two PATHs. --target 'M<=X' (or >=) finds by bisection the
    /// boundary value of one PATH at which the metric meets X, to within
    /// (HIGH-LOW)/1000. Writes sweep.json, sweep.csv, figures and report.html
    /// into output/<scenario name>-sweep unless --out is given.
    Sweep(SweepArgs),
    /// Redraw the figures and report.html of a finished run from its summary.json.
    ///
    /// Simulates nothing: every figure is drawn from the numbers stored in
    /// summary.json (or, for a sweep, sweep.json). Writes <DIR>/figures/ and
    /// <DIR>/report.html.
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
    /// Hold a scenario's shocks against a record of real disruptions.
    ///
    /// A record event matches a shock when the kinds are equal, the event's
    /// countries meet the shock's footprint (a global shock or a `*` event
    /// meets all) and the commodities meet. Per shock: the matched events, the
    /// observed rate with a 90% interval, the model's expected events per year
    /// and whether the observed count lies in the model's 90% predictive
    /// interval. Also per commodity, clustering of shocks sharing a country and
    /// kind, and record events no shock covers. Writes backtest.json and a figure.
    Backtest(record_cmds::BacktestArgs),
    /// Set each shock's rate to the posterior of its count in a record.
    ///
    /// rate_per_year = { dist = "gamma", shape = n + 0.5, scale = 1 / (years * m) }
    /// (Jeffreys prior; m = the shock's regime-averaged multiplier), with a
    /// comment naming the matched events. Comments and layout of the file are
    /// kept; calibrating the result again changes nothing.
    Calibrate(record_cmds::CalibrateArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// A file of [[strategy]] tables to evaluate (repeatable).
    #[arg(long = "strategy", value_name = "FILE")]
    pub strategies: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// A number to vary: PATH=LOW..HIGH[:STEPS] (repeatable; STEPS with --grid).
    #[arg(long = "vary", value_name = "PATH=LOW..HIGH[:STEPS]")]
    pub vary: Vec<String>,
    /// The aggregate followed (a metric of summary.json: mean, cvar95, prob_gt_10, p95, ...); default mean.
    #[arg(long, value_name = "M")]
    pub metric: Option<String>,
    /// The commodity followed; default: every commodity (one for --target).
    #[arg(long, value_name = "K")]
    pub commodity: Option<String>,
    /// The consumer followed: a consumer id, ROW or world.
    #[arg(long, value_name = "J", default_value = "world")]
    pub consumer: String,
    /// Run the full grid of the --vary values (one or two PATHs).
    #[arg(long, conflicts_with = "target")]
    pub grid: bool,
    /// Find where the metric meets a target, e.g. 'prob_gt_10<=0.01' (one --vary).
    #[arg(long, value_name = "M<=X")]
    pub target: Option<String>,
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
    /// summary.json of a finished run (e.g. output/baseline/summary.json), or sweep.json of a sweep.
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
        Command::Run(args) => run_cmd(&args, &[], false),
        Command::Compare(args) => run_cmd(&args.run, &args.strategies, true),
        Command::Sweep(args) => sweep::sweep_cmd(&args),
        Command::Plot(args) => plot_cmd(&args),
        Command::Validate { file } => validate_cmd(&file),
        Command::Inspect { file, json } => inspect_cmd(&file, json),
        Command::Backtest(args) => record_cmds::backtest_cmd(&args),
        Command::Calibrate(args) => record_cmds::calibrate_cmd(&args),
    }
}

pub(crate) fn load_model(source: &Source) -> Result<Model, Error> {
    Ok(Model::compile(&source.display, &source.scenario)?)
}

fn validate_cmd(file: &Path) -> Result<(), Error> {
    let source = scenario::load(file)?;
    let model = load_model(&source)?;
    let strategies = load_strategies(&source, &[])?;
    let mut text = format!("{}: ok - {}", source.display, model.summary_line());
    if !strategies.is_empty() {
        text.push_str(&format!(", {} strategies", strategies.len()));
    }
    text.push('\n');
    for w in &model.warnings {
        text.push_str(&format!("warning: {w}\n"));
    }
    emit(&text);
    Ok(())
}

/// Writes to standard output; a closed pipe (`crmsim ... | head`) is not an
/// error worth failing a finished run for, so write errors are ignored.
pub(crate) fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The strategies in the scenario file and in `files`, patched and compiled.
/// A strategy id given twice is an input error.
fn load_strategies(source: &Source, files: &[PathBuf]) -> Result<Vec<Strategy>, Error> {
    let mut patched = source.strategies()?;
    for f in files {
        patched.extend(source.strategies_from_file(f)?);
    }
    let mut out: Vec<Strategy> = Vec::new();
    for st in patched {
        if out.iter().any(|o| o.id == st.id) {
            return Err(InputErrors::single(
                &st.origin,
                format!("[[strategy]] id \"{}\": field `id`: is declared twice (strategy ids must be unique)", st.id),
            )
            .into());
        }
        out.push(Strategy::compile(st)?);
    }
    Ok(out)
}

fn inspect_cmd(file: &Path, json: bool) -> Result<(), Error> {
    let source = scenario::load(file)?;
    let model = load_model(&source)?;
    let rows = inspect::concentration(&model);
    let rates = inspect::shock_rates(&model);
    if json {
        let v =
            serde_json::json!({ "scenario": model.name, "concentration": rows, "shocks": rates });
        let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Other(e.to_string()))?;
        emit(&format!("{text}\n"));
    } else {
        emit(&format!(
            "{}\n{}",
            inspect::render(&rows),
            inspect::render_rates(&rates)
        ));
    }
    Ok(())
}

/// Default worker count: all cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn run_cmd(args: &RunArgs, strategy_files: &[PathBuf], compare: bool) -> Result<(), Error> {
    let source = scenario::load_or_baseline(args.file.as_ref())?;
    let model = load_model(&source)?;
    let strategies = load_strategies(&source, strategy_files)?;
    if compare && strategies.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no strategies to compare: add [[strategy]] tables or --strategy FILE",
            source.display
        )));
    }
    let trials = args.trials.unwrap_or(model.trials);
    if trials == 0 || trials > sim::MAX_TRIALS {
        return Err(Error::Usage(format!(
            "--trials must be between 1 and {}, got {trials}",
            sim::MAX_TRIALS
        )));
    }
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

    // Two passes over the trials: aggregates, then paired differences and attribution.
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(2 * trials);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {percent}% ({eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let outcome = compare::evaluate(
        &model,
        &strategies,
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
    let mut runs: Vec<(&str, &Model, &sim::RunResult)> =
        vec![("base", &model, &outcome.results[0])];
    for (st, r) in strategies.iter().zip(&outcome.results[1..]) {
        runs.push((st.id.as_str(), &st.model, r));
    }
    let mut summary = Summary::new(&model, &source.sha256, seed, trials, &runs);
    summary.comparison = outcome.comparison.clone();
    summary.attribution = Some(outcome.attribution.clone());
    let written = report::write_all(&out_dir, &summary)?;
    if !args.quiet {
        let [t1, t2] = outcome.pass_seconds;
        let mut text = format!(
            "{}: {} trials x {} model(s), seed {seed}, {threads} threads: {:.2} s ({:.0} trials/s), paired pass and attribution {:.2} s\n",
            source.display,
            trials,
            runs.len(),
            t1,
            trials as f64 / t1.max(1e-9),
            t2
        );
        for w in &model.warnings {
            text.push_str(&format!("warning: {w}\n"));
        }
        text.push_str(&table::render(&model, &outcome.results[0], trials));
        if let Some(c) = &summary.comparison {
            text.push_str(&table::render_comparison(&model, c));
        }
        text.push('\n');
        for p in written {
            text.push_str(&format!("wrote {}\n", p.display()));
        }
        emit(&text);
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
        let mut text = String::new();
        for p in &written {
            text.push_str(&format!("wrote {}\n", p.display()));
        }
        text.push_str(&format!(
            "figures and report: {} files in {:.2} s\n",
            written.len(),
            started.elapsed().as_secs_f64()
        ));
        emit(&text);
    }
    Ok(())
}

fn plot_cmd(args: &PlotArgs) -> Result<(), Error> {
    let out_dir = args.out.clone().unwrap_or_else(|| {
        args.summary
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    if args.summary.file_name().is_some_and(|n| n == "sweep.json") {
        return sweep::plot_cmd(&args.summary, &out_dir, args.format, args.quiet);
    }
    let summary = plot::load_summary(&args.summary)?;
    write_figures(&summary, &out_dir, args.format, args.quiet)
}
