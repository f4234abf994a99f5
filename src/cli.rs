//! Command-line arguments (clap) and the subcommands they drive. Raw
//! arguments become a built configuration here; the work is done by the
//! library modules.

mod record_cmds;
mod shard;
mod study;
mod sweep;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::compare::{self, Strategy};
use crate::error::{Error, InputErrors};
use crate::model::Model;
use crate::plot::Formats;
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
#[command(name = "crmsim", version = crate::LONG_VERSION, about, long_about, max_term_width = 100)]
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
    Run(RunCmd),
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
    /// Merge the partial files of a sharded run into that run's output.
    ///
    /// `run`, `compare` and `sweep` (tornado or grid) with --shard I/N
    /// simulate only shard I of N (a fixed range of the trials, N at most
    /// 1,000,000) and write DIR/part-I-of-N.crmpart. `merge` checks that the
    /// partials belong together (same scenario, strategies or sweep, seed,
    /// trials and N; every shard exactly once; checksums valid) and writes
    /// exactly what the unsharded command writes: summary.json (sweep.json),
    /// metrics.csv (sweep.csv), figures, report.html and the tables. See
    /// docs/cluster.md.
    Merge(MergeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// For example: `mkdir -p ~/.local/share/bash-completion/completions && crmsim completions bash > ~/.local/share/bash-completion/completions/crmsim`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// What drives the risk, and how much is enough: tornado, grids, targets.
    ///
    /// Each --vary PATH=LOW..HIGH names one number of the scenario,
    /// <table>.<id>.<field>[.<key>], e.g. consumer.EU.stockpile_months.gallium,
    /// shock.cn-ree-control.rate_per_year.shape, shock.cn-ree-control.severity.mode,
    /// commodity.cobalt.producers.refining.CN or regime.high-tension.probability.
    /// Every point is the base scenario with those numbers changed, checked
    /// like a strategy and run on the base's random draws.
    ///
    /// By default a tornado: each PATH at LOW and at HIGH, the others at base,
    /// sorted by swing, with paired 95% confidence intervals of the change
    /// from base. --grid runs every combination of STEPS values (2 to 1001,
    /// default 5) of one or two PATHs, at most 10,201 points. --target 'M<=X'
    /// (or >=) finds by bisection the boundary value of one PATH at which the
    /// metric meets X, to within (HIGH-LOW)/1000. Writes sweep.json,
    /// sweep.csv, figures and report.html into output/<scenario name>-sweep
    /// unless --out is given.
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
    /// Show the static supply concentration of a scenario, and its shock rates.
    ///
    /// Per commodity and stage: the Herfindahl-Hirschman index (0-10,000),
    /// the top producer and its share, the top-3 share, the governance-weighted
    /// HHI where governance scores are given, the midstream buffer (months of
    /// primary demand), and a flag where one country holds more than 65% (the
    /// EU Critical Raw Materials Act benchmark). Per shock: the mean rate, the
    /// 5%-95% range of an uncertain rate, and the expected events per year
    /// averaged over the regimes.
    Inspect {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Print JSON (`concentration` and `shocks`) instead of the tables.
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
    /// Run a bundled study and write its page, figures and answer.
    ///
    /// `crmsim study alliances`: do the MSP and the EU partnerships buffer
    /// supply shocks, for whom, at whose expense? Compares the bundled
    /// alliance strategies (no-alliances, msp-only, eu-partnerships-only,
    /// msp-deepened, fragmentation) with the bundled baseline on common
    /// random numbers, runs tornadoes of the alliance parameters for the EU
    /// and the rest of the world, and searches the MSP spare capacity that
    /// brings each member's P(>10%) under 1% for rare earths and gallium.
    /// Writes the page FILE.md (the answer, tables, and the crmsim command
    /// behind every number) and its figures into the folder FILE/ beside it.
    Study(study::StudyArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// A file of [[strategy]] tables to evaluate (repeatable).
    #[arg(long = "strategy", value_name = "FILE")]
    pub strategies: Vec<PathBuf>,
    /// Print the ranking for every consumer, not only the world.
    #[arg(long)]
    pub details: bool,
    #[command(flatten)]
    pub shard: shard::ShardArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial files (part-I-of-N.crmpart), one per shard, in any
    /// order; a folder stands for the partial files in it.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Folder for the output files; default: the unsharded command's
    /// (output/<scenario name>, for a sweep output/<scenario name>-sweep).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Skip the figures and report.html.
    #[arg(long)]
    pub no_figures: bool,
    /// Print nothing but errors (no tables, no progress lines).
    #[arg(long)]
    pub quiet: bool,
    /// Print the ranking for every consumer, not only the world (comparisons).
    #[arg(long)]
    pub details: bool,
}

#[derive(Debug, Args)]
pub struct RunCmd {
    #[command(flatten)]
    pub run: RunArgs,
    /// Not an option of `run`: strategies are evaluated by `compare`.
    #[arg(long = "strategy", value_name = "FILE", hide = true)]
    pub strategies: Vec<PathBuf>,
    #[command(flatten)]
    pub shard: shard::ShardArgs,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Tornado and grid only (not --target).
    #[command(flatten)]
    pub shard: shard::ShardArgs,
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
    /// Print nothing but errors (no tables, no progress lines).
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
    if matches!(
        cli.command,
        Command::Run(_)
            | Command::Compare(_)
            | Command::Plot(_)
            | Command::Sweep(_)
            | Command::Merge(_)
            | Command::Study(_)
    ) {
        crate::output::install_signal_handler();
    }
    match cli.command {
        Command::Run(args) => {
            if let Some(f) = args.strategies.first() {
                let file = args
                    .run
                    .file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "SCENARIO".into());
                return Err(Error::Usage(format!(
                    "`run` takes no --strategy; to evaluate strategies use `crmsim compare {file} --strategy {}`",
                    f.display()
                )));
            }
            run_cmd(&args.run, &[], false, false, args.shard.get())
        }
        Command::Compare(args) => run_cmd(
            &args.run,
            &args.strategies,
            true,
            args.details,
            args.shard.get(),
        ),
        Command::Merge(mut args) => {
            args.parts = shard::expand_folders(&args.parts)?;
            shard::merge_cmd(&args)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "crmsim", &mut buf);
            emit(&String::from_utf8_lossy(&buf))
        }
        Command::Sweep(args) => sweep::sweep_cmd(&args),
        Command::Plot(args) => plot_cmd(&args),
        Command::Validate { file } => validate_cmd(&file),
        Command::Inspect { file, json } => inspect_cmd(&file, json),
        Command::Backtest(args) => record_cmds::backtest_cmd(&args),
        Command::Calibrate(args) => record_cmds::calibrate_cmd(&args),
        Command::Study(args) => study::study_cmd(&args),
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
        text.push_str(&format!(
            ", {}",
            crate::format::count(strategies.len(), "strategy", "strategies")
        ));
    }
    text.push('\n');
    for w in &model.warnings {
        text.push_str(&format!("warning: {w}\n"));
    }
    emit(&text)
}

/// Writes to standard output. A reader that stopped reading (`crmsim ... |
/// head`) is not an error; any other write failure (a full disk,
/// `> /dev/full`) is, exit 1.
pub(crate) fn emit(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            context: "cannot write to standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// The strategies in the scenario file and in `files`, patched and compiled.
/// A strategy id given twice is an input error.
fn load_strategies(source: &Source, files: &[PathBuf]) -> Result<Vec<Strategy>, Error> {
    let mut patched = source.strategies()?;
    for f in files {
        patched.extend(source.strategies_from_file(f)?);
    }
    compile_strategies(patched)
}

/// Compiles patched strategies; a strategy id given twice is an input error.
pub(crate) fn compile_strategies(
    patched: Vec<scenario::StrategySource>,
) -> Result<Vec<Strategy>, Error> {
    if let Some(st) = patched.get(scenario::MAX_STRATEGIES) {
        let why = format!(
            "[[strategy]] id \"{}\": is strategy {} of {}; {}",
            st.id,
            scenario::MAX_STRATEGIES + 1,
            patched.len(),
            scenario::too_many_strategies()
        );
        return Err(InputErrors::single(&st.origin, why).into());
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
        emit(&format!("{text}\n"))
    } else {
        emit(&format!(
            "{}\n{}",
            inspect::render(&rows),
            inspect::render_rates(&rates)
        ))
    }
}

/// Default worker count: all cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The number of trials to run: `--trials`, else the file's `trials`; out
/// of range names whichever gave it.
fn trials_of(args: &RunArgs, source: &Source, model: &Model) -> Result<u64, Error> {
    let max = sim::MAX_TRIALS;
    match args.trials {
        Some(t) if t == 0 || t > max => Err(Error::Usage(format!(
            "--trials must be between 1 and {}, got {}",
            crate::format::thousands(max),
            crate::format::thousands(t)
        ))),
        Some(t) => Ok(t),
        None if model.trials > max => Err(InputErrors::single(
            &source.display,
            format!(
                "[scenario] field `trials`: must be at most {} (or give --trials), got {}",
                crate::format::thousands(max),
                crate::format::thousands(model.trials)
            ),
        )
        .into()),
        None => Ok(model.trials),
    }
}

/// Progress on standard error: a bar on a terminal, else a line every 10%
/// (for logs and CI); nothing with `--quiet`.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    total: u64,
    done: std::sync::atomic::AtomicU64,
}

impl Progress {
    fn new(quiet: bool, total: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {percent}% ({eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            lines: !quiet && !terminal,
            total: total.max(1),
            done: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn add(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
        if self.lines {
            let before = self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            let (a, b) = (before * 10 / self.total, (before + n) * 10 / self.total);
            if b > a {
                eprintln!("crmsim: simulating: {}%", (b * 10).min(100));
            }
        }
    }

    fn note(&self, what: &str) {
        if self.lines {
            eprintln!("crmsim: {what}");
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The current time, RFC 3339 in UTC, to the second.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The bytes of a `--strategy` file (a failure to read it is exit 1).
pub(crate) fn read_strategy_file(f: &Path) -> Result<Vec<u8>, Error> {
    crate::error::read_input(f, "strategy file")
}

/// The `--strategy` files with the SHA-256 of their bytes.
fn file_refs(files: &[PathBuf]) -> Result<Vec<crate::results::FileRef>, Error> {
    files
        .iter()
        .map(|f| {
            let bytes = read_strategy_file(f)?;
            Ok(crate::results::FileRef {
                path: f.display().to_string(),
                sha256: scenario::sha256_hex(&bytes),
            })
        })
        .collect()
}

/// A run's inputs, loaded, compiled and checked.
pub(crate) struct Loaded {
    pub source: Source,
    pub model: Model,
    pub strategies: Vec<Strategy>,
    pub trials: u64,
    pub seed: u64,
}

fn load_run(args: &RunArgs, strategy_files: &[PathBuf], compare: bool) -> Result<Loaded, Error> {
    let source = scenario::load_or_baseline(args.file.as_ref())?;
    let model = load_model(&source)?;
    let strategies = load_strategies(&source, strategy_files)?;
    if compare && strategies.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no strategies to compare: add [[strategy]] tables or --strategy FILE",
            source.display
        )));
    }
    let trials = trials_of(args, &source, &model)?;
    let seed = args.seed.unwrap_or(model.seed);
    Ok(Loaded {
        source,
        model,
        strategies,
        trials,
        seed,
    })
}

fn run_cmd(
    args: &RunArgs,
    strategy_files: &[PathBuf],
    compare: bool,
    details: bool,
    shard: Option<shard::Shard>,
) -> Result<(), Error> {
    let started = now();
    let run = load_run(args, strategy_files, compare)?;
    let threads = args
        .threads
        .map(|t| t as usize)
        .unwrap_or_else(default_threads);
    if let Some(sh) = shard {
        return shard::write_shard(args, &run, strategy_files, compare, sh, threads);
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&run.model.name));
    // Before simulating: the folder is free, ours and writable.
    let out = crate::output::OutputDir::prepare(&out_dir)?;
    let strategy_refs = file_refs(strategy_files)?;

    // One pass over the trials: aggregates, paired differences, attribution.
    let progress = Progress::new(args.quiet, run.trials);
    let outcome = compare::evaluate(
        &run.model,
        &run.strategies,
        RunOptions {
            trials: run.trials,
            seed: run.seed,
            threads,
        },
        &|n| progress.add(n),
    )?;
    progress.finish();
    let t1 = outcome.seconds;
    let what = if run.strategies.is_empty() {
        String::new()
    } else {
        format!(
            " (base and {})",
            crate::format::count(run.strategies.len(), "strategy", "strategies")
        )
    };
    let headline = format!(
        "{}: {} trials{what}, seed {}, {threads} threads: {:.2} s ({} trials/s, attribution included)\n",
        run.source.display,
        crate::format::thousands(run.trials),
        run.seed,
        t1,
        crate::format::thousands((run.trials as f64 / t1.max(1e-9)).round() as u64),
    );
    let info = crate::results::RunInfo {
        command_line: std::env::args().collect(),
        strategy_files: strategy_refs,
        started,
        finished: String::new(),
        crmsim_version: crate::LONG_VERSION.to_string(),
        threads,
    };
    let show = Show {
        quiet: args.quiet,
        figures: !args.no_figures,
        details,
        headline,
    };
    write_outcome(&run, &outcome, info, out, &out_dir, &show, &progress)
}

/// How a finished run is shown: the terminal output and whether to draw.
pub(crate) struct Show {
    pub quiet: bool,
    pub figures: bool,
    pub details: bool,
    /// The first line printed (what was simulated, how fast).
    pub headline: String,
}

/// Writes summary.json, metrics.csv and (unless `show.figures` is off) the
/// figures and report.html of a finished run into `out`, then prints the
/// tables.
pub(crate) fn write_outcome(
    run: &Loaded,
    outcome: &compare::Outcome,
    mut info: crate::results::RunInfo,
    out: crate::output::OutputDir,
    out_dir: &Path,
    show: &Show,
    progress: &Progress,
) -> Result<(), Error> {
    let model = &run.model;
    let mut runs: Vec<(&str, &Model, &sim::RunResult)> = vec![("base", model, &outcome.results[0])];
    for (st, r) in run.strategies.iter().zip(&outcome.results[1..]) {
        runs.push((st.id.as_str(), &st.model, r));
    }
    let mut summary = Summary::new(model, &run.source.sha256, run.seed, run.trials, &runs);
    summary.comparison = outcome.comparison.clone();
    summary.attribution = Some(outcome.attribution.clone());
    let figures = show.figures.then_some(Formats::Both);
    if figures.is_some() {
        progress.note("drawing figures and report.html");
    }
    let fig_started = Instant::now();
    info.finished = now();
    summary.run = Some(info);
    let written = report::write_run(out.staging(), &summary, figures)?;
    let fig_seconds = fig_started.elapsed().as_secs_f64();
    let staging = out.staging().to_path_buf();
    out.commit(&written)?;
    if show.quiet {
        return Ok(());
    }
    let mut text = show.headline.clone();
    for w in &model.warnings {
        text.push_str(&format!("warning: {w}\n"));
    }
    text.push_str(&table::render(model, &outcome.results[0], run.trials));
    if let Some(c) = &summary.comparison {
        text.push_str(&table::render_comparison(model, c, show.details));
    }
    text.push('\n');
    text.push_str(&wrote_lines(
        out_dir,
        &written,
        &staging,
        fig_seconds,
        figures.is_some(),
    ));
    emit(&text)
}

/// "wrote ..." lines for the files written into `staging`, under their final names.
fn wrote_lines(
    out_dir: &Path,
    written: &[PathBuf],
    staging: &Path,
    fig_seconds: f64,
    figures: bool,
) -> String {
    let mut text = String::new();
    let mut n_figs = 0;
    for p in written {
        let rel = p.strip_prefix(staging).unwrap_or(p);
        if rel.starts_with("figures") {
            n_figs += 1;
        } else {
            text.push_str(&format!("wrote {}\n", out_dir.join(rel).display()));
        }
    }
    if figures {
        text.push_str(&format!(
            "figures and report: {} files in {} ({:.2} s)\n",
            n_figs,
            out_dir.join("figures").display(),
            fig_seconds
        ));
    }
    text
}

/// The folder of a summary file (`.` for a bare file name).
fn summary_folder(summary: &Path) -> PathBuf {
    summary
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn plot_cmd(args: &PlotArgs) -> Result<(), Error> {
    if args.summary.file_name().is_some_and(|n| n == "sweep.json") {
        let out_dir = args
            .out
            .clone()
            .unwrap_or_else(|| summary_folder(&args.summary));
        return sweep::plot_cmd(&args.summary, &out_dir, args.format, args.quiet);
    }
    let summary = crate::results::load_summary(&args.summary)?;
    let from = summary_folder(&args.summary);
    let out_dir = args.out.clone().unwrap_or_else(|| from.clone());
    // The run's own files come along verbatim, so the folder stays one run.
    let mut carried: Vec<(String, Vec<u8>)> = Vec::new();
    for name in ["summary.json", "metrics.csv"] {
        let p = if name == "summary.json" {
            args.summary.clone()
        } else {
            from.join(name)
        };
        match std::fs::read(&p) {
            Ok(b) => carried.push((name.to_string(), b)),
            Err(e) if name == "metrics.csv" && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Io {
                    context: format!("cannot read {}", p.display()),
                    source: e,
                });
            }
        }
    }
    let out = crate::output::OutputDir::prepare(&out_dir)?;
    let started = Instant::now();
    let mut written = Vec::new();
    for (name, bytes) in &carried {
        let p = out.staging().join(name);
        report::write_atomic(&p, bytes)?;
        written.push(p);
    }
    written.extend(report::write_report(&summary, out.staging(), args.format)?);
    let staging = out.staging().to_path_buf();
    out.commit(&written)?;
    if args.quiet {
        return Ok(());
    }
    emit(&wrote_lines(
        &out_dir,
        &written,
        &staging,
        started.elapsed().as_secs_f64(),
        true,
    ))
}
