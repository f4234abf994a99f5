//! Criterion benchmarks of whole simulations (`cargo bench --bench engine`):
//! trials per second of `run` on the bundled baseline and on the large
//! synthetic scenario (200 commodities, 300 countries, 10 consumers, 1000
//! shocks, 600 months; `common/synthetic.rs`), at 1 and 2 worker threads;
//! `compare` of the baseline with the four bundled strategies; one engine
//! trial alone; and the drawing of one trial's events alone (no market
//! steps, no statistics): the ceiling of the engine's speed on a scenario.

#[path = "common/synthetic.rs"]
mod synthetic;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crmsim::compare::{self, Strategy};
use crmsim::engine::{Engine, Scratch};
use crmsim::model::Model;
use crmsim::scenario::{self, Source};
use crmsim::sim::{self, RunOptions};

fn baseline_source() -> Source {
    scenario::load_or_baseline(None).expect("bundled baseline parses")
}

fn compile(src: &Source) -> Model {
    Model::compile(&src.display, &src.scenario).expect("scenario is valid")
}

/// The four bundled strategies on the baseline, one per file (the
/// alliance study's file, `alliances.toml`, is left out).
const FOUR: [&str; 4] = [
    "diversify.toml",
    "eu-recycling.toml",
    "eu-stockpile.toml",
    "msp-surge.toml",
];

fn bundled_strategies(base: &Source) -> Vec<Strategy> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/strategies");
    let strategies: Vec<Strategy> = FOUR
        .iter()
        .flat_map(|f| {
            base.strategies_from_file(&dir.join(f))
                .expect("strategy file loads")
        })
        .map(|st| Strategy::compile(st).expect("strategy is valid"))
        .collect();
    assert_eq!(strategies.len(), 4, "one strategy per file");
    strategies
}

/// `sim::run` of `model` over `trials` trials at 1 and 2 threads.
fn bench_run(c: &mut Criterion, group: &str, model: &Model, trials: u64) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements(trials));
    for threads in [1usize, 2] {
        g.bench_function(format!("run {trials} trials, {threads} thread(s)"), |b| {
            b.iter(|| {
                let opts = RunOptions {
                    trials,
                    seed: 42,
                    threads,
                };
                sim::run(&[model], opts, &|_| {}).expect("run succeeds")
            })
        });
    }
    g.finish();
}

fn bench_baseline(c: &mut Criterion) {
    bench_run(c, "baseline", &compile(&baseline_source()), 100_000);
}

fn bench_large(c: &mut Criterion) {
    let text = synthetic::scenario_toml(synthetic::Spec::LARGE);
    let src = scenario::parse_bytes("synthetic.toml", text.as_bytes()).expect("parses");
    bench_run(c, "large synthetic", &compile(&src), 200);
}

fn bench_compare(c: &mut Criterion) {
    let src = baseline_source();
    let base = compile(&src);
    let strategies = bundled_strategies(&src);
    let trials = 20_000u64;
    let mut g = c.benchmark_group("baseline");
    g.sample_size(10);
    g.throughput(Throughput::Elements(trials));
    for threads in [1usize, 2] {
        let name = format!("compare 4 strategies, {trials} trials, {threads} thread(s)");
        g.bench_function(name, |b| {
            b.iter(|| {
                let opts = RunOptions {
                    trials,
                    seed: 42,
                    threads,
                };
                compare::evaluate(&base, &strategies, opts, &|_| {}).expect("compare succeeds")
            })
        });
    }
    g.finish();
}

/// `work` on one baseline trial after another, through the engine alone
/// (no statistics, no threads).
fn bench_engine_alone(
    c: &mut Criterion,
    name: &str,
    work: fn(&Engine, u64, &mut Scratch) -> usize,
) {
    let model = compile(&baseline_source());
    let engine = Engine::new(&model, 42);
    let mut scratch = engine.scratch();
    let mut trial = 0u64;
    c.bench_function(name, |b| {
        b.iter(|| {
            trial += 1;
            work(&engine, trial, &mut scratch)
        })
    });
}

fn bench_single_trial(c: &mut Criterion) {
    bench_engine_alone(c, "baseline/one trial (engine only)", |e, t, sc| {
        e.run_trial(t, sc).touched.len()
    });
}

/// The events of one baseline trial drawn, nothing simulated: what the
/// random numbers alone cost (23 uncertain rates, each a gamma draw, then
/// the events' starts, durations and severities).
fn bench_draws(c: &mut Criterion) {
    bench_engine_alone(
        c,
        "baseline/draw one trial's events (engine only)",
        |e, t, sc| e.draw_events(t, sc),
    );
}

criterion_group!(
    benches,
    bench_baseline,
    bench_compare,
    bench_large,
    bench_single_trial,
    bench_draws
);
criterion_main!(benches);
