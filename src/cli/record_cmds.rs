//! The `backtest` and `calibrate` subcommands: load the scenario and the
//! record, run [`crate::backtest`], then print, write files or rewrite the
//! scenario ([`crate::calibrate`]).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::backtest::{self, Backtest, Years};
use crate::calibrate;
use crate::error::{Error, InputErrors};
use crate::model::Model;
use crate::plot;
use crate::record;
use crate::report;
use crate::scenario::{self, Source};

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The scenario file (TOML).
    pub file: PathBuf,
    /// The disruption record (CSV: id,start,end,kind,countries,commodities,note,source).
    #[arg(long, value_name = "CSV")]
    pub record: PathBuf,
    /// Record years compared, e.g. 2010-2025; default: first to last start year.
    #[arg(long, value_name = "A-B", value_parser = backtest::parse_years)]
    pub years: Option<Years>,
    /// Print backtest.json to standard output instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Folder for backtest.json and the figure; default: output/<scenario name>-backtest.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The scenario file (TOML).
    pub file: PathBuf,
    /// The disruption record (CSV).
    #[arg(long, value_name = "CSV")]
    pub record: PathBuf,
    /// Record years counted, e.g. 2010-2025; default: first to last start year.
    #[arg(long, value_name = "A-B", value_parser = backtest::parse_years)]
    pub years: Option<Years>,
    /// The calibrated scenario file to write (may be FILE itself).
    #[arg(long, value_name = "NEW.toml")]
    pub out: PathBuf,
}

/// Loads the scenario and the record and runs the backtest.
fn load(file: &Path, record: &Path, years: Option<Years>) -> Result<(Source, Backtest), Error> {
    let source = scenario::load(file)?;
    let model = Model::compile(&source.display, &source.scenario)?;
    let rec = record::load(record, &model)?;
    let years = match years.or_else(|| rec.start_years().map(|(a, b)| Years::new(a, b))) {
        Some(y) => y,
        None => {
            return Err(InputErrors::single(&rec.display, "holds no event".into()).into());
        }
    };
    let (shocks, probs) = backtest::shock_infos(&model, &source.raw)
        .map_err(|e| InputErrors::single(&source.display, e))?;
    let bt = backtest::run(&model.name, &model, &shocks, &probs, &rec, years)
        .map_err(|e| InputErrors::single(&source.display, e))?;
    Ok((source, bt))
}

pub fn backtest_cmd(args: &BacktestArgs) -> Result<(), Error> {
    let (_, bt) = load(&args.file, &args.record, args.years)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-backtest", bt.scenario)));
    let (svg, png) = plot::backtest::render(&bt)?;
    report::ensure_dir(&out_dir)?;
    let files = [
        ("backtest.json", report::backtest::json(&bt).into_bytes()),
        ("backtest.svg", svg.into_bytes()),
        ("backtest.png", png),
    ];
    for (name, bytes) in &files {
        report::write_atomic(&out_dir.join(name), bytes)?;
    }
    if args.json {
        super::emit(&report::backtest::json(&bt))?;
    } else {
        let mut text = report::backtest::render(&bt);
        for (name, _) in &files {
            text.push_str(&format!("wrote {}\n", out_dir.join(name).display()));
        }
        super::emit(&text)?;
    }
    Ok(())
}

pub fn calibrate_cmd(args: &CalibrateArgs) -> Result<(), Error> {
    let (source, bt) = load(&args.file, &args.record, args.years)?;
    let posts = calibrate::posteriors(&bt).map_err(|e| InputErrors::single(&source.display, e))?;
    let new = calibrate::apply(&source.text, &posts)
        .map_err(|e| InputErrors::single(&source.display, e))?;
    // The written file must itself be a valid scenario.
    let check = scenario::parse_bytes(&args.out.display().to_string(), new.as_bytes())?;
    Model::compile(&check.display, &check.scenario)?;
    report::write_atomic(&args.out, new.as_bytes())?;
    let mut msg = report::backtest::render_posteriors(&bt, &posts);
    msg.push_str(&format!("wrote {}\n", args.out.display()));
    super::emit(&msg)?;
    Ok(())
}
