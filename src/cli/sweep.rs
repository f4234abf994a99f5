//! `crmsim sweep`: arguments to a checked [`Plan`], the run with its
//! progress bar, and the files (sweep.json, sweep.csv, figures, report.html).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{SweepArgs, default_threads, emit, load_model};
use crate::error::Error;
use crate::model::Model;
use crate::plot::{self, Formats};
use crate::report::{self, sensitivity, sweep::SweepReport};
use crate::scenario::{self, Source};
use crate::sim::{self, RunOptions};
use crate::sweep::{Metric, Mode, Plan, Selection, Target, Vary, metric};

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

/// The metric and mode from --metric and --target.
fn metric_and_mode(args: &SweepArgs) -> Result<(Metric, Mode), Error> {
    let named = match &args.metric {
        Some(m) => Some(Metric::parse(m.trim()).ok_or_else(|| {
            usage(format!(
                "--metric `{m}`: unknown metric (expected one of {})",
                metric::NAMES.join(", ")
            ))
        })?),
        None => None,
    };
    let Some(t) = &args.target else {
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
fn selection(args: &SweepArgs, model: &Model, metric: Metric) -> Result<Selection, Error> {
    let ids: Vec<&str> = model.commodities.iter().map(|c| c.id.as_str()).collect();
    let commodities = match &args.commodity {
        Some(k) => vec![ids.iter().position(|i| i == k).ok_or_else(|| {
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
        .position(|s| s == &args.consumer)
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

/// Checks everything, then runs the sweep and writes its files.
pub fn sweep_cmd(args: &SweepArgs) -> Result<(), Error> {
    if args.shard.is_some() {
        return Err(Error::Usage(
            "`sweep` does not run in shards yet (a --target search is sequential, and the \
             intervals of quantile metrics need a second pass); only `run` and `compare` take \
             --shard. Run the points of a large sweep as separate sweeps instead (docs/cluster.md)"
                .into(),
        ));
    }
    let source = scenario::load_or_baseline(args.run.file.as_ref())?;
    let model = load_model(&source)?;
    let (metric, mode) = metric_and_mode(args)?;
    let sel = selection(args, &model, metric)?;
    let varies = args
        .vary
        .iter()
        .map(|v| Vary::parse(v, &source.raw).map_err(|e| usage(format!("--vary {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    // Out-of-range trials name whichever gave them (--trials or the file).
    super::trials_of(&args.run, &source, &model)?;
    let opts = options(args, &model)?;
    let plan = Plan::new(&source, &model, varies, sel, mode)?;
    let out_dir = args
        .run
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", model.name)));
    // Before running: the folder is free, ours and writable.
    let out = crate::output::OutputDir::prepare(&out_dir)?;
    let report = run_with_bar(&plan, &source, opts, args.run.quiet)?;
    let staging = out.staging().to_path_buf();
    let mut written = write_data(&staging, &report)?;
    let fig_started = Instant::now();
    if !args.run.no_figures {
        written.extend(write_figures(&staging, &report, Formats::Both)?);
    }
    let seconds = fig_started.elapsed().as_secs_f64();
    out.commit(&written)?;
    if args.run.quiet {
        return Ok(());
    }
    let mut text = report.render();
    text.push('\n');
    text.push_str(&super::wrote_lines(
        &out_dir,
        &written,
        &staging,
        seconds,
        !args.run.no_figures,
    ));
    emit(&text)
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
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    })?;
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
