//! Studies: a question answered by running bundled strategies and sweeps on
//! the bundled baseline, with every part reproducible by a crmsim command.
//!
//! [`alliances`] answers the question the alliance literature leaves open:
//! do the Minerals Security Partnership and the EU raw-material partnerships
//! buffer supply shocks, for whom, and at whose expense? It compares the
//! strategies of `scenarios/strategies/alliances.toml` (built into the
//! binary) with the baseline on common random numbers, runs a tornado of
//! the alliance parameters for a member (EU) and for the rest of the world,
//! and searches the spare capacity that would bring each member's P(>10%)
//! under 1% for rare earths and gallium. The page is written by
//! [`crate::report::study`]; nothing here does I/O.

use crate::compare::{self, Strategy};
use crate::error::Error;
use crate::model::Model;
use crate::results::Summary;
use crate::results::study::{AllianceInfo, AllianceStudy, StudyCommands};
use crate::results::sweep::SweepReport;
use crate::scenario::{self, Source};
use crate::sim::RunOptions;
use crate::sweep::{Metric, Mode, Plan, Selection, Target, Vary};

/// How the bundled files are named in the study's commands.
pub const BASE_PATH: &str = "scenarios/baseline.toml";
pub const STRATEGIES_PATH: &str = "scenarios/strategies/alliances.toml";
/// The bundled alliance strategies.
pub const STRATEGIES_TOML: &str = include_str!("../../scenarios/strategies/alliances.toml");
/// Default trials of the study (about two minutes on 2 cores).
pub const DEFAULT_TRIALS: u64 = 100_000;
/// The alliance parameters of the tornado, with their ranges.
pub const TORNADO_VARY: [&str; 6] = [
    "alliance.msp.spare_capacity=0..0.2",
    "alliance.msp.ramp_months=0..12",
    "alliance.msp.diversion=0..0.5",
    "alliance.eu-partnerships.spare_capacity=0..0.1",
    "alliance.eu-partnerships.ramp_months=0..18",
    "alliance.eu-partnerships.diversion=0..0.3",
];
/// The consumers whose mean shortfall the tornadoes follow: a member of
/// both alliances and the rest of the world (a member of none).
pub const TORNADO_CONSUMERS: [&str; 2] = ["EU", "ROW"];
/// The target: members' chance of losing more than a tenth of demand.
pub const TARGET: &str = "prob_gt_10<=0.01";
/// What the target varies: the spare capacity of the alliance of every member.
pub const TARGET_VARY: &str = "alliance.msp.spare_capacity=0..1";
/// Commodities of the target search.
pub const TARGET_COMMODITIES: [&str; 2] = ["rare_earths", "gallium"];

/// Runs the alliance study at `trials` and `seed` (default: the
/// baseline's); `note` is told each part as it starts.
pub fn alliances(
    trials: u64,
    seed: Option<u64>,
    threads: usize,
    note: &(dyn Fn(&str) + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<AllianceStudy, Error> {
    let source = scenario::parse_bytes(BASE_PATH, scenario::BASELINE_TOML.as_bytes())?;
    let base = Model::compile(&source.display, &source.scenario)?;
    let opts = RunOptions {
        trials,
        seed: seed.unwrap_or(base.seed),
        threads,
    };
    let strategies = source
        .strategies_from_bytes(STRATEGIES_PATH, STRATEGIES_TOML.as_bytes())?
        .into_iter()
        .map(|s| Strategy::compile(s).map_err(Error::from))
        .collect::<Result<Vec<_>, _>>()?;
    note("comparing the alliance strategies with the baseline");
    let summary = comparison(&source, &base, &strategies, opts, progress)?;
    let mut commands = StudyCommands {
        study: String::new(),
        compare: format!(
            "crmsim compare {BASE_PATH} --strategy {STRATEGIES_PATH} --trials {} --seed {} --details",
            opts.trials, opts.seed
        ),
        ..StudyCommands::default()
    };
    let mut tornadoes = Vec::new();
    for consumer in TORNADO_CONSUMERS {
        note(&format!(
            "tornado of the alliance parameters for {consumer}"
        ));
        let (report, cmd) = tornado(&source, &base, consumer, opts, progress)?;
        tornadoes.push(report);
        commands.tornadoes.push(cmd);
    }
    let members = member_consumers(&base);
    let mut targets = Vec::new();
    for k in TARGET_COMMODITIES {
        for j in &members {
            note(&format!("spare capacity for {j} {k}: {TARGET}"));
            let (report, cmd) = target(&source, &base, k, j, opts, progress)?;
            targets.push(report);
            commands.targets.push(cmd);
        }
    }
    Ok(AllianceStudy {
        crmsim_version: env!("CARGO_PKG_VERSION").to_string(),
        trials: opts.trials,
        seed: opts.seed,
        horizon_months: base.horizon,
        currency: base.currency.clone(),
        commodities: base
            .commodities
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect(),
        consumers: crate::results::series_ids(&base)
            .into_iter()
            .filter(|s| s != crate::model::WORLD)
            .collect(),
        alliances: alliance_info(&base),
        summary,
        tornadoes,
        targets,
        commands,
    })
}

/// Member consumers of any alliance, in scenario order.
fn member_consumers(base: &Model) -> Vec<String> {
    (0..base.n_consumers())
        .filter(|j| {
            base.alliances
                .iter()
                .any(|a| a.member_consumers.contains(j))
        })
        .map(|j| base.consumer_id(j).to_string())
        .collect()
}

fn alliance_info(base: &Model) -> Vec<AllianceInfo> {
    base.alliances
        .iter()
        .map(|a| AllianceInfo {
            id: a.id.clone(),
            name: a.name.clone().unwrap_or_else(|| a.id.clone()),
            consumers: a
                .member_consumers
                .iter()
                .map(|&j| base.consumer_id(j).to_string())
                .collect(),
        })
        .collect()
}

/// The base and every strategy on common random numbers, as a summary
/// with its comparison (figure data left out: the study draws its own).
fn comparison(
    source: &Source,
    base: &Model,
    strategies: &[Strategy],
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, Error> {
    let outcome = compare::evaluate(base, strategies, opts, progress)?;
    let mut runs = vec![("base", base, &outcome.results[0])];
    for (st, r) in strategies.iter().zip(&outcome.results[1..]) {
        runs.push((st.id.as_str(), &st.model, r));
    }
    let mut summary = Summary::new(base, &source.sha256, opts.seed, opts.trials, &runs);
    summary.figures = None;
    summary.comparison = outcome.comparison;
    Ok(summary)
}

fn series_of(base: &Model, consumer: &str) -> Result<usize, Error> {
    crate::results::series_ids(base)
        .iter()
        .position(|s| s == consumer)
        .ok_or_else(|| Error::Other(format!("the baseline has no consumer {consumer}")))
}

fn varies(source: &Source, texts: &[&str]) -> Result<Vec<Vary>, Error> {
    texts
        .iter()
        .map(|v| Vary::parse(v, &source.raw).map_err(|e| Error::Other(format!("--vary {e}"))))
        .collect()
}

/// The tornado of [`TORNADO_VARY`] on `consumer`'s mean, every commodity.
fn tornado(
    source: &Source,
    base: &Model,
    consumer: &str,
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(SweepReport, String), Error> {
    let sel = Selection {
        metric: Metric::Mean,
        commodities: (0..base.commodities.len()).collect(),
        series: series_of(base, consumer)?,
    };
    let plan = Plan::new(
        source,
        base,
        varies(source, &TORNADO_VARY)?,
        sel,
        Mode::Tornado,
    )?;
    let cmd = format!(
        "crmsim sweep {BASE_PATH} --consumer {consumer} --metric mean {} --trials {} --seed {}",
        TORNADO_VARY
            .iter()
            .map(|v| format!("--vary {v}"))
            .collect::<Vec<_>>()
            .join(" "),
        opts.trials,
        opts.seed
    );
    Ok((plan.run(opts, &source.sha256, progress)?, cmd))
}

/// The [`TARGET`] on `consumer`'s `commodity` by [`TARGET_VARY`].
fn target(
    source: &Source,
    base: &Model,
    commodity: &str,
    consumer: &str,
    opts: RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(SweepReport, String), Error> {
    let k = base
        .commodities
        .iter()
        .position(|c| c.id == commodity)
        .ok_or_else(|| Error::Other(format!("the baseline has no commodity {commodity}")))?;
    let t = Target::parse(TARGET).map_err(Error::Other)?;
    let sel = Selection {
        metric: t.metric,
        commodities: vec![k],
        series: series_of(base, consumer)?,
    };
    let plan = Plan::new(
        source,
        base,
        varies(source, &[TARGET_VARY])?,
        sel,
        Mode::Target(t),
    )?;
    let cmd = format!(
        "crmsim sweep {BASE_PATH} --commodity {commodity} --consumer {consumer} --vary {TARGET_VARY} --target '{TARGET}' --trials {} --seed {}",
        opts.trials, opts.seed
    );
    Ok((plan.run(opts, &source.sha256, progress)?, cmd))
}
