//! Models stepped through the same trials share the commodities they would
//! simulate identically: a strategy that changes one material's stockpile
//! re-simulates only that material, and its results are bit for bit those
//! of running the strategy on its own. A strategy that draws the same
//! hits as the base (same shocks on the same producers) takes the base's
//! draws instead of drawing them again, with the same results.

use crmsim::compare::Strategy;
use crmsim::engine::Engine;
use crmsim::model::Model;
use crmsim::scenario;
use crmsim::sim::{self, RunOptions};

const BASE: &str = r#"
[scenario]
name = "share"
[[country]]
id = "CN"
name = "China"
[[country]]
id = "AU"
name = "Australia"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { ga = 0.2, co = 0.3, li = 0.25 }
[[commodity]]
id = "ga"
name = "Gallium"
[commodity.producers.production]
CN = 0.9
[[commodity]]
id = "co"
name = "Cobalt"
[commodity.producers.production]
CN = 0.6
AU = 0.2
[[commodity]]
id = "li"
name = "Lithium"
[commodity.producers.production]
AU = 0.5
[[shock]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
rate_per_year = { dist = "gamma", shape = 2.0, scale = 0.4 }
severity = { dist = "beta", alpha = 3.0, beta = 2.0 }
duration_months = { dist = "lognormal", median = 3.0, sigma = 0.5 }
[[shock]]
id = "flood"
kind = "disaster"
countries = ["AU"]
rate_per_year = 0.6
severity = 0.5
duration_months = 2.0
[[strategy]]
id = "ga-stock"
[[strategy.consumer]]
id = "EU"
stockpile_months = { ga = 2.0 }
"#;

#[test]
fn only_the_changed_material_is_simulated_again_and_results_are_unchanged() {
    let src = scenario::parse_bytes("share.toml", BASE.as_bytes()).unwrap();
    let base = Model::compile(&src.display, &src.scenario).unwrap();
    let st = Strategy::compile(src.strategies().unwrap().remove(0)).unwrap();
    let (eb, es) = (Engine::new(&base, 3), Engine::new(&st.model, 3));
    assert_eq!(es.same_commodities(&eb), vec![false, true, true]);
    assert!(es.same_draws(&eb), "a stockpile does not change the draws");
    assert!(
        !Engine::new(&base, 4).same_draws(&eb),
        "another seed draws anew"
    );
    assert_eq!(
        Engine::new(&base, 4).same_commodities(&eb),
        vec![false; 3],
        "another seed shares nothing"
    );
    let opts = RunOptions {
        trials: 20_000,
        seed: 3,
        threads: 2,
    };
    let together = sim::run(&[&base, &st.model], opts, &|_| {}).unwrap();
    let alone = sim::run(&[&st.model], opts, &|_| {}).unwrap();
    assert_eq!(together[1].metrics, alone[0].metrics);
    // Shared commodities are exactly the base's; the stockpile lowers gallium.
    assert_eq!(together[1].metrics[1], together[0].metrics[1]);
    assert_eq!(together[1].metrics[2], together[0].metrics[2]);
    assert!(together[1].metrics[0][0].mean < together[0].metrics[0][0].mean);
}

/// A strategy that adds a producer in a shocked country acts on other
/// producers: it draws its own hits, and shares neither draws nor that
/// commodity with the base; running it with the base or alone is the same.
#[test]
fn a_strategy_with_other_hits_draws_its_own() {
    let text = format!(
        "{BASE}\n[[strategy]]\nid = \"au-ga\"\n[[strategy.commodity]]\nid = \"ga\"\n\
         [strategy.commodity.producers.production]\nAU = 0.05\nCN = 0.85\n"
    );
    let src = scenario::parse_bytes("share.toml", text.as_bytes()).unwrap();
    let base = Model::compile(&src.display, &src.scenario).unwrap();
    let st = Strategy::compile(src.strategies().unwrap().remove(1)).unwrap();
    let (eb, es) = (Engine::new(&base, 5), Engine::new(&st.model, 5));
    assert!(!es.same_draws(&eb));
    assert_eq!(es.same_commodities(&eb), vec![false, true, true]);
    let opts = RunOptions {
        trials: 5_000,
        seed: 5,
        threads: 2,
    };
    let together = sim::run(&[&base, &st.model], opts, &|_| {}).unwrap();
    let alone = sim::run(&[&st.model], opts, &|_| {}).unwrap();
    assert_eq!(together[1].metrics, alone[0].metrics);
    assert_ne!(together[1].metrics[0], together[0].metrics[0]);
}
