//! The four changes of model v2, each checked against numbers worked by hand
//! (docs/model.md): capacity as a share of primary demand P (recycling
//! leaves no idle capacity), midstream buffers at the bottleneck, diversion
//! that waits for the ramp (see engine_analytic.rs), and uncertain rates
//! drawn once per trial (closed forms within 4 standard errors, common random
//! numbers). Plus their validation and strategy patching.

use crmsim::engine::Engine;
use crmsim::model::Model;
use crmsim::scenario;

mod common;
use common::compile;

const TOL: f64 = 1e-12;

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < TOL, "{what}: got {got}, want {want}");
}

fn within_4se(got: f64, want: f64, se: f64, what: &str) {
    assert!(
        (got - want).abs() < 4.0 * se,
        "{what}: got {got}, want {want} +- 4 * {se}"
    );
}

/// Mining (CD 1.0) then refining (CN 1.0); EU takes all demand; `extra`
/// adds commodity keys (e.g. buffers) and `events` the scheduled events.
fn two_stage(extra: &str, recycling: f64, events: &str) -> String {
    format!(
        r#"
[scenario]
name = "v2"
[[country]]
id = "CD"
name = "DR Congo"
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ co = 1.0 }}
recycling_share = {{ co = {recycling} }}
[[commodity]]
id = "co"
name = "Cobalt"
stages = ["mining", "refining"]
{extra}
[commodity.producers.mining]
CD = 1.0
[commodity.producers.refining]
CN = 1.0
{events}
"#
    )
}

fn event(id: &str, country: &str, stage: &str, start: f64, dur: f64, sev: f64) -> String {
    format!(
        "[[event]]\nid = \"{id}\"\nkind = \"nationalism\"\ncountries = [\"{country}\"]\nstages = [\"{stage}\"]\nstart_month = {start}\nduration_months = {dur}\nseverity = {sev}\n"
    )
}

/// World figures of the only commodity in a trial of scheduled events.
fn world(text: &str) -> (f64, f64, u32) {
    let model = compile(text);
    let e = Engine::new(&model, 0);
    let f = &e.cached[0];
    let w = f.shortfall.len() - 1;
    (f.shortfall[w], f.peak[w], f.months_short[w])
}

#[test]
fn a_buffer_covers_the_first_months_of_a_mining_halt() {
    // A 6-month full mining halt: A(mining) = 0, A(refining) = P = 1. A
    // 2-month buffer (2P) covers months 0 and 1; months 2-5 are fully short:
    // world shortfall 4/12.
    let halt = event("halt", "CD", "mining", 0.0, 6.0, 1.0);
    let (s, peak, months) = world(&two_stage("buffer_months = { mining = 2.0 }", 0.0, &halt));
    close(s, 4.0 / 12.0, "with a 2-month buffer");
    close(peak, 1.0, "peak");
    assert_eq!(months, 4);
    let (s, _, months) = world(&two_stage("", 0.0, &halt));
    close(s, 6.0 / 12.0, "without a buffer");
    assert_eq!(months, 6);
}

#[test]
fn a_buffer_covers_partial_gaps_month_by_month() {
    // Half the mine lost for 6 months: gap 0.5 a month. A 1.25-month buffer
    // covers months 0 and 1 (1.0), then 0.25 of month 2's gap; months 3-5
    // are 0.5 short: (0.25 + 1.5) / 12.
    let halt = event("halt", "CD", "mining", 0.0, 6.0, 0.5);
    let (s, peak, _) = world(&two_stage("buffer_months = { mining = 1.25 }", 0.0, &halt));
    close(s, 1.75 / 12.0, "world");
    close(peak, 0.5, "peak");
}

#[test]
fn a_buffer_only_covers_an_upstream_gap_and_keeps_until_needed() {
    // Refining down in months 0-2: the final stage binds, A(mining) > A(L),
    // no release (3 months short). Mining down in months 6-9 with a 2-month
    // buffer: 2 of 4 months short. World: 5/12.
    let events = format!(
        "{}{}",
        event("refinery", "CN", "refining", 0.0, 3.0, 1.0),
        event("mine", "CD", "mining", 6.0, 4.0, 1.0)
    );
    let (s, _, months) = world(&two_stage("buffer_months = { mining = 2.0 }", 0.0, &events));
    close(s, 5.0 / 12.0, "world");
    assert_eq!(months, 5);
}

#[test]
fn a_buffer_is_months_of_primary_demand() {
    // EU recycles a quarter: P = 0.75, the buffer holds 2 * 0.75 and each
    // halted month's gap is 0.75, so 2 months are covered; EU is short 0.75
    // of its demand of 1 in 4 months: 3/12.
    let halt = event("halt", "CD", "mining", 0.0, 6.0, 1.0);
    let (s, _, _) = world(&two_stage("buffer_months = { mining = 2.0 }", 0.25, &halt));
    close(s, 3.0 / 12.0, "world");
}

#[test]
fn recycling_leaves_no_idle_capacity() {
    // EU: demand 0.5, recycles half: m(EU) = 0.25; ROW m = 0.5; P = 0.75 and
    // capacity is shared out of P. Half of capacity lost all year: supply
    // 0.375, U(EU) = 0.375 * 0.25 / 0.75 = 0.125, S(EU) = 0.125 -> 0.25 of
    // its demand; ROW: 0.25 of 0.5 -> 0.5; world 0.375. (Capacity on M, as
    // in v1, would leave EU 1/6 short: idle capacity absorbed part of it.)
    let text = r#"
[scenario]
name = "rec"
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { x = 0.5 }
recycling_share = { x = 0.5 }
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
[[event]]
id = "out"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
"#;
    let model = compile(text);
    let e = Engine::new(&model, 0);
    let f = &e.cached[0];
    close(f.shortfall[0], 0.25, "EU");
    close(f.shortfall[1], 0.5, "ROW");
    close(f.shortfall[2], 0.375, "world");
    // A small disruption is felt too: 10% of capacity lost, everyone 10% of
    // their market short (EU: 0.025 of 0.5).
    let small = text.replace("CN = 0.5", "CN = 0.1");
    let model = compile(&small);
    let e = Engine::new(&model, 0);
    close(e.cached[0].shortfall[0], 0.05, "EU, small loss");
    close(e.cached[0].shortfall[2], 0.075, "world, small loss");
}

#[test]
fn bottleneck_loss_after_buffers_goes_to_the_binding_stages_events() {
    // Mine halted 6 months with a 2-month buffer; a refinery outage of half
    // its capacity in month 9. Every part of the shortfall goes to its cause:
    // the mine 4 months x 1.0, the refinery 0.5.
    let events = format!(
        "{}{}",
        event("mine", "CD", "mining", 0.0, 6.0, 1.0),
        event("refinery", "CN", "refining", 9.0, 1.0, 0.5)
    );
    let model = compile(&two_stage("buffer_months = { mining = 2.0 }", 0.0, &events));
    let e = Engine::new(&model, 0);
    let world_series = model.n_consumers() + 1;
    let by_source = |id: &str| -> f64 {
        let src = e.sources.iter().position(|s| s == id).unwrap() as u32;
        e.cached_attrib[0]
            .iter()
            .filter(|p| p.series == world_series as u32 && p.source == src)
            .map(|p| p.value)
            .sum()
    };
    close(by_source("mine"), 4.0 / 12.0, "mine");
    close(by_source("refinery"), 0.5 / 12.0, "refinery");
    close(e.cached[0].shortfall[world_series], 4.5 / 12.0, "world");
}

/// One producer and consumer, one shock with the given rate line.
fn one_shock(horizon: u32, rate: &str, regime: &str) -> String {
    format!(
        r#"
[scenario]
name = "rate"
horizon_months = {horizon}
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 1.0 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 1.0
[[shock]]
id = "s"
kind = "export_ban"
countries = ["CN"]
{rate}
severity = 0.5
duration_months = 1.0
{regime}
"#
    )
}

/// Share of trials with at least one event, and the mean event count.
fn event_stats(model: &Model, trials: u64) -> (f64, f64) {
    let e = Engine::new(model, 5);
    let mut sc = e.scratch();
    let (mut any, mut total) = (0u64, 0u64);
    for t in 0..trials {
        e.draw_events(t, &mut sc);
        let n = e.last_hits(&sc, 0).len() as u64;
        any += (n > 0) as u64;
        total += n;
    }
    (any as f64 / trials as f64, total as f64 / trials as f64)
}

#[test]
fn a_gamma_rate_gives_the_negative_binomial_chance_of_an_event() {
    // rate ~ Gamma(k, theta), events | rate ~ Poisson(rate) over a year:
    // P(at least one) = 1 - (1 + theta)^-k, mean count k * theta.
    let (k, theta) = (2.0f64, 0.5f64);
    let model = compile(&one_shock(
        12,
        &format!("rate_per_year = {{ dist = \"gamma\", shape = {k}, scale = {theta} }}"),
        "",
    ));
    assert!(model.shocks[0].rate_dist.is_some());
    close(model.shocks[0].rate_per_year, k * theta, "mean rate");
    let n = 40_000u64;
    let (p_any, mean) = event_stats(&model, n);
    let p = 1.0 - (1.0 + theta).powf(-k);
    within_4se(p_any, p, (p * (1.0 - p) / n as f64).sqrt(), "P(>= 1 event)");
    // Var of the count: k theta + k theta^2 (over-dispersed).
    let var = k * theta + k * theta * theta;
    within_4se(mean, k * theta, (var / n as f64).sqrt(), "mean count");
}

#[test]
fn an_uncertain_rate_scales_with_horizon_and_regime_factor() {
    // Two years, and a regime (probability 1) that triples the rate: the
    // expected count given the draw is rate * 3 * 2, so
    // P(at least one) = 1 - (1 + 6 theta)^-k.
    let (k, theta) = (1.5f64, 0.1f64);
    let regime = "[[regime]]\nid = \"tense\"\nprobability = 1.0\nmultipliers = [ { kind = \"export_ban\", factor = 3.0 } ]";
    let model = compile(&one_shock(
        24,
        &format!("rate_per_year = {{ dist = \"gamma\", shape = {k}, scale = {theta} }}"),
        regime,
    ));
    let n = 40_000u64;
    let (p_any, _) = event_stats(&model, n);
    let p = 1.0 - (1.0 + 6.0 * theta).powf(-k);
    within_4se(p_any, p, (p * (1.0 - p) / n as f64).sqrt(), "P(>= 1 event)");
}

#[test]
fn a_fixed_distribution_rate_is_the_plain_rate() {
    // `{ dist = "fixed" }` and a degenerate uniform are the number itself:
    // the same events in every trial, bit for bit.
    let plain = compile(&one_shock(12, "rate_per_year = 0.7", ""));
    for spec in [
        "rate_per_year = { dist = \"fixed\", value = 0.7 }",
        "rate_per_year = { dist = \"uniform\", min = 0.7, max = 0.7 }",
    ] {
        let other = compile(&one_shock(12, spec, ""));
        assert!(other.shocks[0].rate_dist.is_none(), "{spec}");
        let (ea, eb) = (Engine::new(&plain, 3), Engine::new(&other, 3));
        let (mut sa, mut sb) = (ea.scratch(), eb.scratch());
        for t in 0..2_000u64 {
            ea.draw_events(t, &mut sa);
            eb.draw_events(t, &mut sb);
            let key = |h: &crmsim::engine::Hit| (h.start.to_bits(), h.end.to_bits());
            let a: Vec<_> = ea.last_hits(&sa, 0).iter().map(key).collect();
            let b: Vec<_> = eb.last_hits(&sb, 0).iter().map(key).collect();
            assert_eq!(a, b, "trial {t}, {spec}");
        }
    }
}

#[test]
fn uncertain_rates_keep_common_random_numbers() {
    // Two shocks on two commodities; a strategy that changes shock "b" only
    // leaves the uncertain shock "a"'s events identical in every trial.
    let text = r#"
[scenario]
name = "crn"
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { x = 0.5, y = 0.5 }
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.9
[[commodity]]
id = "y"
name = "Y"
[commodity.producers.production]
CN = 0.9
[[shock]]
id = "a"
kind = "conflict"
countries = ["CN"]
commodities = ["x"]
rate_per_year = { dist = "gamma", shape = 3.5, scale = 0.2 }
severity = { dist = "beta", alpha = 2.0, beta = 2.0 }
duration_months = 3.0
[[shock]]
id = "b"
kind = "conflict"
countries = ["CN"]
commodities = ["y"]
rate_per_year = 0.5
severity = 0.5
duration_months = 2.0
[[strategy]]
id = "more-b"
[[strategy.shock]]
id = "b"
rate_per_year = { dist = "lognormal", median = 1.0, sigma = 0.5 }
"#;
    let src = scenario::parse_bytes("crn.toml", text.as_bytes()).unwrap();
    let base = Model::compile(&src.display, &src.scenario).unwrap();
    let st = src.strategies().unwrap().remove(0);
    let changed = Model::compile(&st.origin, &st.scenario).unwrap();
    assert!(changed.shocks[1].rate_dist.is_some());
    let (ea, eb) = (Engine::new(&base, 9), Engine::new(&changed, 9));
    let (mut sa, mut sb) = (ea.scratch(), eb.scratch());
    let mut b_differs = 0;
    for t in 0..3_000u64 {
        ea.draw_events(t, &mut sa);
        eb.draw_events(t, &mut sb);
        let key = |h: &crmsim::engine::Hit| (h.start.to_bits(), h.sev.to_bits());
        let a: Vec<_> = ea.last_hits(&sa, 0).iter().map(key).collect();
        let b: Vec<_> = eb.last_hits(&sb, 0).iter().map(key).collect();
        assert_eq!(a, b, "trial {t}: shock a must not change");
        b_differs += (ea.last_hits(&sa, 1).len() != eb.last_hits(&sb, 1).len()) as usize;
    }
    assert!(b_differs > 0, "the patched shock b should change");
}

#[test]
fn strategies_patch_buffers_and_uncertain_rates() {
    let text = format!(
        "{}\n{}",
        two_stage(
            "buffer_months = { mining = 1.0 }",
            0.0,
            "[[shock]]\nid = \"s\"\nkind = \"conflict\"\ncountries = [\"CD\"]\nrate_per_year = { dist = \"gamma\", shape = 2.0, scale = 0.1 }\nseverity = 1.0\nduration_months = 2.0\n"
        ),
        "[[strategy]]\nid = \"stocks\"\n[[strategy.commodity]]\nid = \"co\"\nbuffer_months = { mining = 3.5 }\n[[strategy.shock]]\nid = \"s\"\nrate_per_year = { dist = \"uniform\", min = 0.1, max = 0.3 }\n"
    );
    let src = scenario::parse_bytes("p.toml", text.as_bytes()).unwrap();
    let base = Model::compile(&src.display, &src.scenario).unwrap();
    close(base.commodities[0].buffer[0], 1.0, "base buffer");
    let st = src.strategies().unwrap().remove(0);
    let m = Model::compile(&st.origin, &st.scenario).unwrap();
    close(m.commodities[0].buffer[0], 3.5, "patched buffer");
    assert_eq!(m.commodities[0].buffer[1], 0.0);
    // The distribution spec is replaced whole (no `shape` left behind).
    close(m.shocks[0].rate_per_year, 0.2, "patched mean rate");
}

/// The validation message of an invalid scenario.
fn rejects(text: &str, needles: &[&str]) {
    let src = scenario::parse_bytes("bad.toml", text.as_bytes()).expect("parses");
    let err = Model::compile(&src.display, &src.scenario)
        .expect_err("should be invalid")
        .to_string();
    assert!(
        needles.iter().all(|n| err.contains(n)),
        "missing one of {needles:?} in:\n{err}"
    );
    assert!(!err.contains("DistSpec") && !err.contains("f64"), "{err}");
}

#[test]
fn buffers_are_validated() {
    let at = "[[commodity]] id \"co\"";
    rejects(
        &two_stage("buffer_months = { refining = 1.0 }", 0.0, ""),
        &[
            at,
            "field `buffer_months.refining`",
            "final stage",
            "mining",
        ],
    );
    rejects(
        &two_stage("buffer_months = { smelting = 1.0 }", 0.0, ""),
        &[
            at,
            "field `buffer_months.smelting`",
            "not one of the stages",
        ],
    );
    rejects(
        &two_stage("buffer_months = { mining = -1.0 }", 0.0, ""),
        &[at, "field `buffer_months.mining`", ">= 0", "-1"],
    );
    rejects(
        &two_stage("buffer_months = { mining = nan }", 0.0, ""),
        &[at, "field `buffer_months.mining`", "NaN"],
    );
    // A single-stage commodity has no upstream stage at all.
    rejects(
        &one_shock(12, "rate_per_year = 0.1", "").replace(
            "name = \"X\"",
            "name = \"X\"\nbuffer_months = { production = 1.0 }",
        ),
        &["field `buffer_months.production`", "has none"],
    );
    // Zero is a valid buffer.
    compile(&two_stage("buffer_months = { mining = 0.0 }", 0.0, ""));
}

#[test]
fn uncertain_rates_are_validated() {
    let at = "[[shock]] id \"s\"";
    rejects(
        &one_shock(
            12,
            "rate_per_year = { dist = \"gamma\", shape = 0.0, scale = 1.0 }",
            "",
        ),
        &[at, "field `rate_per_year`", "shape > 0"],
    );
    rejects(
        &one_shock(12, "rate_per_year = { dist = \"poisson\", mean = 1.0 }", ""),
        &[at, "field `rate_per_year`", "unknown dist \"poisson\""],
    );
    rejects(
        &one_shock(12, "rate_per_year = { dist = \"fixed\", value = -1.0 }", ""),
        &[at, "field `rate_per_year`", ">= 0"],
    );
    rejects(
        &one_shock(
            12,
            "rate_per_year = { dist = \"gamma\", shape = 2.0, scale = 0.1 }\nprobability_per_year = 0.1",
            "",
        ),
        &[at, "not both"],
    );
    // A normal rate is allowed: its draws are clamped to [0, inf), and the
    // mean rate is the mean of the clamped draws: E[max(X, 0)] for X ~
    // N(0, 1) is 1/sqrt(2 pi).
    let m = compile(&one_shock(
        12,
        "rate_per_year = { dist = \"normal\", mean = 0.0, sd = 1.0 }",
        "",
    ));
    close(
        m.shocks[0].rate_per_year,
        1.0 / (2.0 * std::f64::consts::PI).sqrt(),
        "clamped normal mean",
    );
}

#[test]
fn runaway_rates_are_refused_before_simulating() {
    let at = "[[shock]] id \"s\"";
    rejects(
        &one_shock(12, "rate_per_year = 1e17", ""),
        &[
            at,
            "field `rate_per_year`",
            "events per trial",
            "at most 1000",
        ],
    );
    let regime = "[[regime]]\nid = \"wild\"\nprobability = 0.1\nmultipliers = [ { shock = \"s\", factor = 2147483648.0 } ]";
    rejects(
        &one_shock(12, "rate_per_year = 0.5", regime),
        &[at, "regime \"wild\"", "at most 1000"],
    );
    rejects(
        &one_shock(
            600,
            "rate_per_year = { dist = \"lognormal\", median = 1.0, sigma = 30.0 }",
            "",
        ),
        &[at, "field `rate_per_year`"],
    );
    // The bound itself is allowed: 1000 expected events in a trial.
    compile(&one_shock(12, "rate_per_year = 1000.0", ""));
}

/// `shocks` global shocks of `rate` events a year on one commodity made by
/// 50 countries (each event strikes all 50 and ROW: 51 hits), over 12 months.
fn global_storm(shocks: usize, rate: f64) -> String {
    let mut t = String::from("[scenario]\nname = \"storm\"\nhorizon_months = 12\n");
    let mut shares = String::new();
    for c in 0..50 {
        t += &format!("[[country]]\nid = \"C{c}\"\nname = \"c{c}\"\n");
        shares += &format!("C{c} = 0.0196\n");
    }
    t += "[[consumer]]\nid = \"EU\"\nname = \"EU\"\ndemand_share = { x = 1.0 }\n";
    t += &format!(
        "[[commodity]]\nid = \"x\"\nname = \"X\"\n[commodity.producers.production]\n{shares}"
    );
    for i in 0..shocks {
        t += &format!(
            "[[shock]]\nid = \"g{i}\"\nkind = \"disaster\"\nglobal = true\n\
             rate_per_year = {rate}\nseverity = 0.1\nduration_months = 1.0\n"
        );
    }
    t
}

/// Shocks that each stay within 1000 events a trial but together would
/// strike producers more than a million times a trial are refused, naming
/// the shock that strikes most; the bound itself is allowed.
#[test]
fn a_storm_of_hits_is_refused_before_simulating() {
    rejects(
        &global_storm(20, 1000.0),
        &[
            "[[shock]] id \"g0\"",
            "field `rate_per_year`",
            "1.020e6 hits per trial",
            "at most 1,000,000",
        ],
    );
    let m = compile(&global_storm(19, 1000.0));
    let hits: usize = m.shocks[0].effects.iter().map(|e| e.hit_count()).sum();
    assert_eq!(hits, 51);
}

#[test]
fn results_do_not_depend_on_the_scale_of_annual_demand() {
    // The same scenario at wildly different demand scales gives the same
    // shortfall figures (quantities are kept in units of monthly demand).
    let figs = |demand: &str| {
        let t = one_shock(12, "rate_per_year = 2.0", "").replace(
            "name = \"X\"",
            &format!("name = \"X\"\nannual_demand = {demand}"),
        );
        let m = compile(&t);
        let e = Engine::new(&m, 1);
        let mut sc = e.scratch();
        (0..500u64)
            .map(|t| e.run_trial(t, &mut sc).figures(&e, 0).shortfall.clone())
            .collect::<Vec<_>>()
    };
    let unit = figs("12.0");
    assert!(unit.iter().any(|s| s[0] > 0.0));
    for demand in ["1e-200", "5e-324", "1e12"] {
        assert_eq!(figs(demand), unit, "annual_demand = {demand}");
    }
}

#[test]
fn long_horizons_give_the_same_figures_as_month_by_month() {
    // H = 120 (spans over 24 months walk only the months where coverage
    // changes). CN (0.5 of capacity) out from 40.5 for 30.25 months and
    // again from 100 for 2 months at half severity: EU (demand 0.5) is
    // short 0.25 per fully covered month, times the covered fraction.
    let text = r#"
[scenario]
name = "long"
horizon_months = 120
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { x = 0.5 }
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
[[event]]
id = "a"
kind = "conflict"
countries = ["CN"]
start_month = 40.5
duration_months = 30.25
severity = 1.0
[[event]]
id = "b"
kind = "conflict"
countries = ["CN"]
start_month = 100.0
duration_months = 2.0
severity = 0.5
"#;
    let model = compile(text);
    let e = Engine::new(&model, 0);
    let f = &e.cached[0];
    let covered = 0.5 + 29.0 + 0.75 + 2.0 * 0.5;
    close(f.shortfall[0], 0.25 * covered / (120.0 * 0.5), "EU");
    assert_eq!(f.months_short[0], 31 + 2);
    close(f.monthly_world[40], 0.25, "month 40");
    close(f.monthly_world[55], 0.5, "month 55");
    close(f.monthly_world[70], 0.375, "month 70");
    close(f.monthly_world[71], 0.0, "month 71");
    close(f.monthly_world[101], 0.25, "month 101");
}
