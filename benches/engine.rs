//! Criterion benchmarks of the engine on the bundled baseline: trials per
//! second at 1 and 2 worker threads (`cargo bench --bench engine`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crmsim::model::Model;
use crmsim::scenario;
use crmsim::sim::{self, RunOptions};

fn baseline() -> Model {
    let src = scenario::load_or_baseline(None).expect("bundled baseline parses");
    Model::compile(&src.display, &src.scenario).expect("bundled baseline is valid")
}

fn bench_trials(c: &mut Criterion) {
    let model = baseline();
    let trials = 200_000u64;
    let mut g = c.benchmark_group("baseline");
    g.sample_size(10);
    g.throughput(Throughput::Elements(trials));
    for threads in [1usize, 2] {
        g.bench_function(format!("{trials} trials, {threads} thread(s)"), |b| {
            b.iter(|| {
                sim::run(
                    &[&model],
                    RunOptions {
                        trials,
                        seed: 42,
                        threads,
                    },
                    &|_| {},
                )
                .expect("run succeeds")
            })
        });
    }
    g.finish();
}

fn bench_single_trial(c: &mut Criterion) {
    let model = baseline();
    let engine = crmsim::engine::Engine::new(&model, 42);
    let mut scratch = engine.scratch();
    let mut trial = 0u64;
    c.bench_function("baseline/one trial (engine only)", |b| {
        b.iter(|| {
            trial += 1;
            engine.run_trial(trial, &mut scratch).touched.len()
        })
    });
}

criterion_group!(benches, bench_trials, bench_single_trial);
criterion_main!(benches);
