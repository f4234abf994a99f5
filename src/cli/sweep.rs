//! `crmsim sweep`: arguments to a checked [`Plan`], the run with its
//! progress bar, and the files (sweep.json, sweep.csv, figures, report.html);
//! a tornado or grid in shards (`--shard I/N`) and the merge of their
//! partials (docs/cluster.md).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::shard::{self, Shard};
use super::{MergeArgs, Progress, SweepArgs, default_threads, emit, load_model};
use crate::error::Error;
use crate::model::Model;
use crate::partial::{self, Header, StrategyRef, SweepSpec};
use crate::plot::{self, Formats};
use crate::report::{self, sensitivity, sweep::SweepReport};
use crate::results::sweep::RunInfo;
use crate::scenario::{self, Source};
use crate::sim::{self, RunOptions};
use crate::sweep::{Metric, Mode, Plan, Selection, Target, Vary, metric, pass};

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

/// What a sweep is asked to do: from the command line, or from a partial's
/// [`SweepSpec`].
struct Ask<'a> {
    metric: Option<&'a str>,
    target: Option<&'a str>,
    grid: bool,
    commodity: Option<&'a str>,
    consumer: &'a str,
    vary: &'a [String],
}

impl<'a> Ask<'a> {
    fn of_args(args: &'a SweepArgs) -> Ask<'a> {
        Ask {
            metric: args.metric.as_deref(),
            target: args.target.as_deref(),
            grid: args.grid,
            commodity: args.commodity.as_deref(),
            consumer: &args.consumer,
            vary: &args.vary,
        }
    }

    fn of_spec(spec: &'a SweepSpec) -> Ask<'a> {
        Ask {
            metric: Some(&spec.metric),
            target: None,
            grid: spec.mode == "grid",
            commodity: spec.commodity.as_deref(),
            consumer: &spec.consumer,
            vary: &spec.vary,
        }
    }

    /// The sweep's metric, selection, PATHs and mode on the base `model`.
    fn plan_parts(
        &self,
        source: &Source,
        model: &Model,
    ) -> Result<(Selection, Vec<Vary>, Mode), Error> {
        let (metric, mode) = metric_and_mode(self)?;
        let sel = selection(self, model, metric)?;
        let varies = self
            .vary
            .iter()
            .map(|v| Vary::parse(v, &source.raw).map_err(|e| usage(format!("--vary {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((sel, varies, mode))
    }
}

/// The metric and mode from --metric and --target.
fn metric_and_mode(args: &Ask) -> Result<(Metric, Mode), Error> {
    let named = match &args.metric {
        Some(m) => Some(Metric::parse(m.trim()).ok_or_else(|| {
            usage(format!(
                "--metric `{m}`: unknown metric (expected one of {})",
                metric::NAMES.join(", ")
            ))
        })?),
        None => None,
    };
    let Some(t) = args.target else {
        let mode = if args.grid { Mode::Grid } else { Mode::Tornado };
        return Ok((named.unwrap_or(Metric::Mean), mode));
    };
    let t = Target::parse(t).map_err(usage)?;
    if let Some(m) = named
        && m != t.metric
    {
        return Err(usage(format!(
            "--metric {} and --target on {} disagree: give one metric",
            m.name(),
            t.metric.name()
        )));
    }
    Ok((t.metric, Mode::Target(t)))
}

/// The commodities and series the sweep follows.
fn selection(args: &Ask, model: &Model, metric: Metric) -> Result<Selection, Error> {
    let ids: Vec<&str> = model.commodities.iter().map(|c| c.id.as_str()).collect();
    let commodities = match args.commodity {
        Some(k) => vec![ids.iter().position(|i| *i == k).ok_or_else(|| {
            usage(format!(
                "--commodity {k}: no such commodity (commodities: {})",
                ids.join(", ")
            ))
        })?],
        None => (0..ids.len()).collect(),
    };
    let series_ids = report::series_ids(model);
    let series = series_ids
        .iter()
        .position(|s| s == args.consumer)
        .ok_or_else(|| {
            usage(format!(
                "--consumer {}: no such consumer (expected one of {})",
                args.consumer,
                series_ids.join(", ")
            ))
        })?;
    Ok(Selection {
        metric,
        commodities,
        series,
    })
}

fn options(args: &SweepArgs, model: &Model) -> Result<RunOptions, Error> {
    let trials = args.run.trials.unwrap_or(model.trials);
    if trials == 0 || trials > sim::MAX_TRIALS {
        return Err(usage(format!(
            "--trials must be between 1 and {}, got {trials}",
            sim::MAX_TRIALS
        )));
    }
    Ok(RunOptions {
        trials,
        seed: args.run.seed.unwrap_or(model.seed),
        threads: args
            .run
            .threads
            .map(|t| t as usize)
            .unwrap_or_else(default_threads),
    })
}

/// Checks everything, then runs the sweep and writes its files (or, with
/// `--shard`, the shard's partial).
pub fn sweep_cmd(args: &SweepArgs) -> Result<(), Error> {
    let source = scenario::load_or_baseline(args.run.file.as_ref())?;
    let model = load_model(&source)?;
    let (sel, varies, mode) = Ask::of_args(args).plan_parts(&source, &model)?;
    if args.shard.get().is_some() && matches!(mode, Mode::Target(_)) {
        return Err(usage(
            "--target does not run in shards: its bisection picks each next value from the \
             last result, so its trials cannot be split up front. Shard a grid over the range \
             instead (--grid --vary PATH=LOW..HIGH:STEPS --shard I/N) and read the boundary off \
             the merged sweep.csv, or run --target on one machine"
                .into(),
        ));
    }
    // Out-of-range trials name whichever gave them (--trials or the file).
    super::trials_of(&args.run, &source, &model)?;
    let opts = options(args, &model)?;
    let plan = Plan::new(&source, &model, varies, sel, mode)?;
    if let Some(sh) = args.shard.get() {
        return write_shard(args, &plan, &source, opts, sh);
    }
    let out_dir = args
        .run
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", model.name)));
    // Before running: the folder is free, ours and writable.
    let out = crate::output::OutputDir::prepare(&out_dir)?;
    let started = super::now();
    let mut report = run_with_bar(&plan, &source, opts, args.run.quiet)?;
    stamp(&mut report, started);
    let show = Shown {
        quiet: args.run.quiet,
        figures: !args.run.no_figures,
        headline: String::new(),
    };
    write_all(out, &out_dir, &report, &show)
}

/// Fills the provenance in the `run` block of a finished sweep (or merge):
/// the command line, start and end times, the version and build.
fn stamp(report: &mut SweepReport, started: String) {
    report.run.command_line = std::env::args().collect();
    report.run.started = started;
    report.run.finished = super::now();
    report.run.crmsim_version = crate::LONG_VERSION.to_string();
}

/// How a finished sweep is shown.
struct Shown {
    quiet: bool,
    figures: bool,
    /// A line before the report (merge: how many shards).
    headline: String,
}

/// Writes sweep.json, sweep.csv and (unless skipped) the figures and
/// report.html into `out`, and prints the report.
fn write_all(
    out: crate::output::OutputDir,
    out_dir: &Path,
    report: &SweepReport,
    show: &Shown,
) -> Result<(), Error> {
    let staging = out.staging().to_path_buf();
    let mut written = write_data(&staging, report)?;
    let fig_started = Instant::now();
    if show.figures {
        written.extend(write_figures(&staging, report, Formats::Both)?);
    }
    let seconds = fig_started.elapsed().as_secs_f64();
    out.commit(&written)?;
    if show.quiet {
        return Ok(());
    }
    let mut text = show.headline.clone();
    text.push_str(&report.render());
    text.push('\n');
    text.push_str(&super::wrote_lines(
        out_dir,
        &written,
        &staging,
        seconds,
        show.figures,
    ));
    emit(&text)
}

/// Every point of a sweep with its model's SHA-256.
fn point_refs(plan: &Plan) -> Vec<StrategyRef> {
    plan.point_digests()
        .into_iter()
        .map(|(id, sha256)| StrategyRef { id, sha256 })
        .collect()
}

/// The header of shard `sh` of a tornado or grid.
fn shard_header(
    args: &SweepArgs,
    plan: &Plan,
    source: &Source,
    opts: RunOptions,
    sh: Shard,
) -> Header {
    let range = partial::shard_range(opts.trials, sh.index, sh.count);
    Header {
        crmsim_version: env!("CARGO_PKG_VERSION").to_string(),
        build: crate::BUILD.to_string(),
        format_version: partial::FORMAT_VERSION,
        command: "sweep".to_string(),
        scenario: shard::file_text(&source.display, source.text.as_bytes()),
        strategy_files: Vec::new(),
        strategies: point_refs(plan),
        sweep: Some(SweepSpec {
            mode: plan.mode.name().to_string(),
            vary: args.vary.clone(),
            metric: plan.sel.metric.name().to_string(),
            commodity: args.commodity.clone(),
            consumer: args.consumer.clone(),
        }),
        seed: opts.seed,
        trials: opts.trials,
        horizon_months: plan.base.horizon,
        shard: sh.index,
        shards: sh.count,
        first_trial: range.start,
        end_trial: range.end,
    }
}

/// Runs shard `sh` of a tornado or grid and writes its partial.
fn write_shard(
    args: &SweepArgs,
    plan: &Plan,
    source: &Source,
    opts: RunOptions,
    sh: Shard,
) -> Result<(), Error> {
    let default = Path::new("output").join(format!("{}-sweep-parts", plan.base.name));
    let dir = shard::parts_dir(args.run.out.as_ref(), default)?;
    let head = shard_header(args, plan, source, opts, sh);
    shard::check_replacing(&dir, &head)?;
    let range = head.first_trial..head.end_trial;
    let started = Instant::now();
    let progress = Progress::new(args.run.quiet, plan.shard_work(opts.threads, &range));
    let body = plan.shard(opts, range, &|n| progress.add(n))?;
    progress.finish();
    shard::write_partial(&dir, &head, &body, &source.display, args.run.quiet, started)
}

/// `crmsim merge` of a sweep's partials: rebuilds the sweep from the first
/// one's header, folds the partials in one at a time and writes what the
/// unsharded sweep writes. The first partial (`args.parts[0]`) is already
/// read: its header `head` and its undecoded `body`.
pub fn merge_cmd(args: &MergeArgs, head: Header, body: &[u8]) -> Result<(), Error> {
    let t0 = Instant::now();
    let started = super::now();
    let (head, state) = shard::check_part::<pass::State>(&args.parts[0], head, body, None)?;
    let first = (args.parts[0].clone(), head);
    let spec = first.1.sweep.clone().ok_or_else(|| {
        shard::refuse(
            &first.0,
            "is a sweep's partial without the sweep's options; it is damaged".into(),
        )
    })?;
    let carried = |e| shard::carried(&first.0, e);
    let source = shard::source_of(&first.1).map_err(carried)?;
    let model = load_model(&source).map_err(carried)?;
    let (sel, varies, mode) = (Ask::of_spec(&spec).plan_parts(&source, &model)).map_err(carried)?;
    if crate::sweep::point_count(&varies, &sel, &mode).map_err(carried)? != first.1.strategies.len()
    {
        return Err(shard::rebuilt_differently(&first.0));
    }
    let plan = Plan::new(&source, &model, varies, sel, mode).map_err(carried)?;
    if point_refs(&plan) != first.1.strategies || model.horizon != first.1.horizon_months {
        return Err(shard::rebuilt_differently(&first.0));
    }
    let mut total = plan.empty_state();
    shard::fold_parts(&args.parts, &first, state, |path, part: pass::State| {
        if !pass::fits(&total, &part) {
            return Err(shard::misshapen(path));
        }
        pass::merge_into(&mut total, &part);
        Ok(())
    })?;
    let opts = RunOptions {
        trials: first.1.trials,
        seed: first.1.seed,
        threads: 1,
    };
    let run = RunInfo {
        seconds: t0.elapsed().as_secs_f64(),
        passes: 0,
        model_runs: 0,
        threads: 1,
        ..RunInfo::default()
    };
    let mut report = plan.report_of(&total, opts, &source.sha256, run);
    stamp(&mut report, started);
    write_merged(args, &model, &source, &first.1, &report)
}

/// Writes the merged sweep's files, as the unsharded sweep writes them.
fn write_merged(
    args: &MergeArgs,
    model: &Model,
    source: &Source,
    head: &Header,
    report: &SweepReport,
) -> Result<(), Error> {
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", model.name)));
    let out = crate::output::OutputDir::prepare(&out_dir)?;
    let show = Shown {
        quiet: args.quiet,
        figures: !args.no_figures,
        headline: format!(
            "{}: merged {} shards: {} trials, seed {}\n",
            source.display,
            head.shards,
            crate::format::thousands(head.trials),
            head.seed
        ),
    };
    write_all(out, &out_dir, report, &show)
}

fn run_with_bar(
    plan: &Plan,
    source: &Source,
    opts: RunOptions,
    quiet: bool,
) -> Result<SweepReport, Error> {
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(plan.work(opts));
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
    let report = plan.run(opts, &source.sha256, &progress)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(report)
}

fn write_data(dir: &Path, report: &SweepReport) -> Result<Vec<PathBuf>, Error> {
    let json = dir.join("sweep.json");
    report::write_atomic(&json, &report.to_json()?)?;
    let csv = dir.join("sweep.csv");
    report::write_atomic(&csv, &report.to_csv()?)?;
    Ok(vec![json, csv])
}

fn write_figures(
    dir: &Path,
    report: &SweepReport,
    formats: Formats,
) -> Result<Vec<PathBuf>, Error> {
    let figs = plot::sweep::render_all(report, formats)?;
    let mut written = sensitivity::write_figures(&figs, &dir.join("figures"))?;
    let html = dir.join("report.html");
    report::write_atomic(&html, sensitivity::render(report, &figs).as_bytes())?;
    written.push(html);
    Ok(written)
}

/// `crmsim plot sweep.json`: redraws a sweep's figures and report from its
/// sweep.json alone.
pub fn plot_cmd(path: &Path, out: &Path, formats: Formats, quiet: bool) -> Result<(), Error> {
    let bytes = crate::error::read_input(path, "sweep summary")?;
    let display = path.display().to_string();
    let bad = |m: String| -> Error { crate::error::InputErrors::single(&display, m).into() };
    let text = String::from_utf8(bytes)
        .map_err(|_| bad("file is not valid UTF-8; is it a crmsim sweep.json?".into()))?;
    let report: SweepReport = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "not a crmsim sweep.json: {}",
            crate::error::plain(&e.to_string())
        ))
    })?;
    // The sweep's own files come along verbatim, so the folder stays one run.
    let mut carried = vec![("sweep.json", text.into_bytes())];
    let csv = path.with_file_name("sweep.csv");
    if let Ok(b) = std::fs::read(&csv) {
        carried.push(("sweep.csv", b));
    }
    let dir = crate::output::OutputDir::prepare(out)?;
    let staging = dir.staging().to_path_buf();
    let started = Instant::now();
    let mut written = Vec::new();
    for (name, bytes) in &carried {
        let p = staging.join(name);
        report::write_atomic(&p, bytes)?;
        written.push(p);
    }
    written.extend(write_figures(&staging, &report, formats)?);
    dir.commit(&written)?;
    if quiet {
        return Ok(());
    }
    emit(&super::wrote_lines(
        out,
        &written,
        &staging,
        started.elapsed().as_secs_f64(),
        true,
    ))
}
