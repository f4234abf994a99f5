//! Exact analytic cases for each step of docs/model.md §4, worked by hand.
//!
//! Scheduled events make a trial deterministic, so each case checks the
//! engine's per-trial figures against numbers computed in the comments
//! (M = 1 without `annual_demand`, H = 12 unless stated). Series order:
//! consumers in file order, then ROW, then world.

use crmsim::engine::{Engine, Figures};

mod common;
use common::compile;

const TOL: f64 = 1e-12;

/// Figures of commodity 0 in a trial with only scheduled events.
fn figures(text: &str) -> Figures {
    let model = compile(text);
    let engine = Engine::new(&model, 0);
    engine.cached[0].clone()
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < TOL, "{what}: got {got}, want {want}");
}

const HEADER: &str = r#"
[scenario]
name = "case"
[[country]]
id = "CN"
name = "China"
region = "east_asia"
[[country]]
id = "AU"
name = "Australia"
region = "oceania"
[[country]]
id = "ID"
name = "Indonesia"
region = "southeast_asia"
[[country]]
id = "US"
name = "United States"
"#;

#[test]
fn full_outage_of_one_producer() {
    // CN 0.5, ROW 0.5; EU demand 0.5, ROW 0.5. CN loses everything all year:
    // supply 0.5, m = 1, U(EU) = 0.5 * 0.5 = 0.25, S(EU) = 0.25 -> 0.25/0.5.
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
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
"#
    ));
    close(f.shortfall[0], 0.5, "EU shortfall");
    close(f.shortfall[1], 0.5, "ROW shortfall");
    close(f.shortfall[2], 0.5, "world shortfall");
    close(f.peak[0], 0.5, "EU peak");
    assert_eq!(f.months_short, vec![12, 12, 12]);
    assert_eq!(f.monthly_world, vec![0.5; 12]);
}

#[test]
fn partial_months_count_their_overlap() {
    // Same market, CN out from month 2.5 for 1 month: months 2 and 3 each
    // keep 0.5 of CN: supply 0.75, U(EU) = 0.375, S = 0.125 in two months.
    // EU shortfall = 2 * 0.125 / (12 * 0.5).
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
[[event]]
id = "out"
kind = "disaster"
countries = ["CN"]
start_month = 2.5
duration_months = 1.0
severity = 1.0
"#
    ));
    close(f.shortfall[0], 0.25 / 6.0, "EU shortfall");
    close(f.peak[0], 0.25, "EU peak");
    assert_eq!(f.months_short[0], 2);
    close(f.monthly_world[2], 0.25, "world month 2");
    close(f.monthly_world[4], 0.0, "world month 4");
}

fn ban_case(leakage: f64) -> Figures {
    figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.3 }}
[[consumer]]
id = "US"
name = "US"
demand_share = {{ x = 0.3 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.6
[[event]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
targets = ["US"]
leakage = {leakage}
"#
    ))
}

#[test]
fn targeted_export_ban() {
    // CN 0.6 withholds all exports from the US: u(CN,US) = 0, u(ROW,US) =
    // 0.4 * 0.3 = 0.12, S(US) = 0.18 -> 0.6. EU and ROW are untouched, and the
    // withheld supply is not re-sold to them.
    let f = ban_case(0.0);
    close(f.shortfall[0], 0.0, "EU");
    close(f.shortfall[1], 0.6, "US");
    close(f.shortfall[2], 0.0, "ROW");
    close(f.shortfall[3], 0.18, "world");
}

#[test]
fn export_ban_leakage() {
    // leakage 0.25: acc = 1 - 1 * (1 - 0.25) = 0.25; u(CN,US) = 0.6 * 0.25 * 0.3
    // = 0.045; U(US) = 0.165; S(US) = 0.135 -> 0.45.
    let f = ban_case(0.25);
    close(f.shortfall[1], 0.45, "US");
    close(f.shortfall[3], 0.135, "world");
}

fn stock_case(months: f64) -> Figures {
    figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
stockpile_months = {{ x = {months} }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 1.0
[[event]]
id = "out"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
"#
    ))
}

#[test]
fn stockpile_depletion() {
    // All supply lost; EU short 0.5 a month. A 3-month stock (1.5) covers
    // months 0-2 exactly; months 3-11 are short: 9 * 0.5 / 6 = 0.75.
    let f = stock_case(3.0);
    close(f.shortfall[0], 0.75, "EU");
    assert_eq!(f.months_short[0], 9);
    assert!(f.stockout[0], "stock ran out while short");
    close(f.peak[0], 1.0, "EU peak");
    // 2.5 months (1.25): months 0-1 covered, month 2 gets 0.25 of 0.5.
    let f = stock_case(2.5);
    close(f.shortfall[0], (0.25 + 9.0 * 0.5) / 6.0, "EU, 2.5 months");
    // 12 months: never short, never stocked out (stock reaches 0 exactly
    // in the last month but with no shortfall left).
    let f = stock_case(12.0);
    close(f.shortfall[0], 0.0, "EU, 12 months");
    assert!(!f.stockout[0]);
    // The world figure counts consumers after their stock releases.
    close(f.shortfall[2], 0.5, "world, 12 months (ROW still short)");
}

/// AU 0.2, CN 0.5 (out all year), ROW 0.3; EU demand 0.5.
fn alliance_case(spare: f64, ramp: f64, diversion: f64) -> Figures {
    figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
AU = 0.2
[[event]]
id = "out"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
[[alliance]]
id = "a"
members = ["AU", "EU"]
spare_capacity = {spare}
ramp_months = {ramp}
diversion = {diversion}
"#
    ))
}

#[test]
fn surge_with_fractional_ramp() {
    // Step 4: supply 0.5, S(EU) = 0.25 from month 0, so t0 = 0. Ramp 1.5:
    // w(0) = 0, w(1) = 0.5, w(t >= 2) = 1. Surge = w * 0.5 * 0.2 = 0.1 w.
    // EU short: 0.25, 0.2, then 0.15 for ten months: 1.95 / 6 = 0.325.
    let f = alliance_case(0.5, 1.5, 0.0);
    close(f.shortfall[0], 1.95 / 6.0, "EU");
    close(f.shortfall[1], 0.5, "ROW gets no surge");
    // Surge adds supply, so the world is less short: (0.25 + 0.2 + 1.5 + 3.0) / 12.
    close(f.shortfall[2], (1.95 + 3.0) / 12.0, "world");
}

#[test]
fn diversion_from_non_members() {
    // No spare capacity, diversion 0.5. q(AU,ROW) = 0.2 * 0.5 = 0.1 (ROW gets
    // all it is offered), V = w * 0.05, need 0.25. Diversion waits for the
    // ramp like surge (§4.5): t0 = 0, ramp 3, so w = 0 in months 0-2 and 1
    // after. EU: 3 * 0.25 + 9 * 0.2 = 2.55 over 12 * 0.5; ROW loses 9 * 0.05.
    let f = alliance_case(0.0, 3.0, 0.5);
    close(f.shortfall[0], 2.55 / 6.0, "EU");
    close(f.shortfall[1], (3.0 + 0.45) / 6.0, "ROW");
    close(
        f.shortfall[2],
        0.5,
        "world: diversion moves supply, adds none",
    );
    // Without a ramp, diversion flows from t0 = 0: EU 0.2 short all year.
    let f = alliance_case(0.0, 0.0, 0.5);
    close(f.shortfall[0], 0.4, "EU, no ramp");
    close(f.shortfall[1], 0.6, "ROW, no ramp");
}

#[test]
fn diversion_with_a_fractional_ramp() {
    // Ramp 1.5: w(0) = 0, w(1) = 0.5, w(t >= 2) = 1, V = w * 0.05.
    // EU: 0.25 + 0.225 + 10 * 0.2 = 2.475; ROW: 12 * 0.25 + 0.025 + 10 * 0.05.
    let f = alliance_case(0.0, 1.5, 0.5);
    close(f.shortfall[0], 2.475 / 6.0, "EU");
    close(f.shortfall[1], 3.525 / 6.0, "ROW");
    close(f.shortfall[2], 0.5, "world");
    assert_eq!(f.months_short[0], 12);
}

#[test]
fn surge_is_used_before_diversion() {
    // spare 0.5 (surge 0.1), diversion 0.5 (pool 0.05), need 0.25, ramp 0:
    // help = 0.15 = 0.1 surge + 0.05 diverted. EU 0.1 short, ROW 0.3.
    let f = alliance_case(0.5, 0.0, 0.5);
    close(f.shortfall[0], 0.2, "EU");
    close(f.shortfall[1], 0.6, "ROW");
    // spare 1.0: surge 0.2, and only 0.05 of the 0.05 pool is diverted.
    let f = alliance_case(1.0, 0.0, 0.5);
    close(f.shortfall[0], 0.0, "EU fully helped");
    close(f.shortfall[1], 0.6, "ROW loses the diverted 0.05");
    // spare 1.0, diversion 0.2 (pool 0.02): help 0.22, EU short 0.03.
    let f = alliance_case(1.0, 0.0, 0.2);
    close(f.shortfall[0], 0.03 * 12.0 / 6.0, "EU");
    close(f.shortfall[1], (0.25 + 0.02) * 12.0 / 6.0, "ROW");
}

#[test]
fn two_overlapping_alliances_share_one_surge_budget() {
    // AU 0.2 in two alliances: A1 (AU, EU) spare 0.25 and A2 (AU, US) spare 0.5.
    // EU 0.25, US 0.25, ROW 0.5; CN 0.5 out: S4(EU) = S4(US) = 0.125.
    // AU's budget = max(0.25, 0.5) * 0.2 = 0.1. A1 takes min(0.05, 0.1) = 0.05
    // (EU short 0.075); A2 then takes min(0.1, 0.05 left) = 0.05 (US short 0.075).
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.25 }}
[[consumer]]
id = "USA"
name = "US"
demand_share = {{ x = 0.25 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
AU = 0.2
[[event]]
id = "out"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
[[alliance]]
id = "a1"
members = ["AU", "EU"]
spare_capacity = 0.25
[[alliance]]
id = "a2"
members = ["AU", "USA"]
spare_capacity = 0.5
"#
    ));
    close(f.shortfall[0], 0.3, "EU");
    close(f.shortfall[1], 0.3, "US");
}

#[test]
fn consumer_in_two_alliances_is_helped_by_each_in_turn() {
    // EU in A1 (AU, spare 0.25 -> 0.05) and A2 (ID 0.1, spare 0.5 -> 0.05).
    // CN 0.5 out; EU demand 0.5: S4 = 0.5 * 0.5 = 0.25 -> 0.2 -> 0.15.
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
AU = 0.2
ID = 0.1
[[event]]
id = "out"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
[[alliance]]
id = "a1"
members = ["AU", "EU"]
spare_capacity = 0.25
[[alliance]]
id = "a2"
members = ["ID", "EU"]
spare_capacity = 0.5
"#
    ));
    close(f.shortfall[0], 0.3, "EU");
}

#[test]
fn stage_bottleneck() {
    // Mining: ID 0.6 (loses half), ROW 0.4 -> A(mining) = 0.7. Refining: CN
    // 0.7, ROW 0.3, intact -> A = 1. r = 0.7; supply 0.7; EU (0.5) gets 0.35,
    // short 0.15 -> 0.3; world short 0.3.
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
stages = ["mining", "refining"]
[commodity.producers.mining]
ID = 0.6
[commodity.producers.refining]
CN = 0.7
[[event]]
id = "ore"
kind = "nationalism"
countries = ["ID"]
stages = ["mining"]
start_month = 0.0
duration_months = 12.0
severity = 0.5
"#
    ));
    close(f.shortfall[0], 0.3, "EU");
    close(f.shortfall[2], 0.3, "world");
}

#[test]
fn export_ban_acts_on_the_final_stage_only() {
    // CN mines 0.9 and refines 0.2: a CN ban (all targets) withholds its
    // refined output only: supply 0.8, every consumer short 0.2.
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
stages = ["mining", "refining"]
[commodity.producers.mining]
CN = 0.9
[commodity.producers.refining]
CN = 0.2
[[event]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
"#
    ));
    close(f.shortfall[0], 0.2, "EU");
    close(f.shortfall[2], 0.2, "world");
}

#[test]
fn global_events_reach_row_and_country_events_do_not() {
    let text = |footprint: &str| {
        format!(
            r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
[[event]]
id = "quake"
kind = "disaster"
{footprint}
start_month = 0.0
duration_months = 12.0
severity = 0.5
"#
        )
    };
    // global: every producer, ROW included, keeps half: world short 0.5.
    let f = figures(&text("global = true"));
    close(f.shortfall[2], 0.5, "world, global");
    close(f.shortfall[0], 0.5, "EU, global");
    // a region (CN's) leaves ROW alone: supply 0.75, short 0.25.
    let f = figures(&text("region = \"east_asia\""));
    close(f.shortfall[2], 0.25, "world, region");
}

#[test]
fn recycling_share_is_never_short() {
    // EU demand 0.5 with 20% recycled: market demand 0.4. Everything lost:
    // S(EU) = 0.4 a month -> 0.4 / 0.5 = 0.8.
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
recycling_share = {{ x = 0.2 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
[[event]]
id = "all"
kind = "disaster"
global = true
start_month = 0.0
duration_months = 12.0
severity = 1.0
"#
    ));
    close(f.shortfall[0], 0.8, "EU");
    close(f.shortfall[1], 1.0, "ROW");
    close(
        f.shortfall[2],
        0.9,
        "world (demand counts the recycled part)",
    );
}

#[test]
fn overlapping_events_multiply_and_clip_to_the_horizon() {
    // Two half-severity events on CN (1.0 share) overlap in months 6-11:
    // keep = 0.25 there, 0.5 in months 0-5. The second runs past the
    // horizon and is clipped. EU (1.0): (6 * 0.5 + 6 * 0.75) / 12.
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 1.0 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 1.0
[[event]]
id = "e1"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 0.5
[[event]]
id = "e2"
kind = "nationalism"
countries = ["CN"]
start_month = 6.0
duration_months = 100.0
severity = 0.5
"#
    ));
    close(f.shortfall[0], (3.0 + 4.5) / 12.0, "EU");
    close(f.peak[0], 0.75, "EU peak");
}

#[test]
fn zero_demand_consumer_has_zero_figures() {
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.0 }}
stockpile_months = {{ x = 2.0 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 1.0
[[event]]
id = "out"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
"#
    ));
    assert_eq!(
        (f.shortfall[0], f.peak[0], f.months_short[0], f.stockout[0]),
        (0.0, 0.0, 0, false)
    );
    close(f.shortfall[1], 1.0, "ROW");
}

#[test]
fn non_allies_and_own_consumer_are_spared() {
    // CN bans non-allies; the alliance (CN, EU) spares the EU; the consumer
    // with CN's own id is never targeted. Only US and ROW lose CN's 0.5.
    let f = figures(&format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.2 }}
[[consumer]]
id = "CN"
name = "China"
demand_share = {{ x = 0.2 }}
[[consumer]]
id = "US"
name = "US"
demand_share = {{ x = 0.2 }}
[[commodity]]
id = "x"
name = "X"
[commodity.producers.production]
CN = 0.5
[[event]]
id = "ban"
kind = "export_ban"
countries = ["CN"]
start_month = 0.0
duration_months = 12.0
severity = 1.0
targets = "non_allies"
[[alliance]]
id = "friends"
members = ["CN", "EU"]
"#
    ));
    close(f.shortfall[0], 0.0, "EU (ally)");
    close(f.shortfall[1], 0.0, "CN (own consumer)");
    close(f.shortfall[2], 0.5, "US");
    close(f.shortfall[3], 0.5, "ROW");
}

#[test]
fn annual_demand_scales_nothing_but_tonnes() {
    let base = format!(
        r#"{HEADER}
[[consumer]]
id = "EU"
name = "EU"
demand_share = {{ x = 0.5 }}
[[commodity]]
id = "x"
name = "X"
ANNUAL
[commodity.producers.production]
CN = 0.5
[[event]]
id = "out"
kind = "conflict"
countries = ["CN"]
start_month = 1.0
duration_months = 3.0
severity = 0.7
"#
    );
    let a = figures(&base.replace("ANNUAL", ""));
    let b = figures(&base.replace("ANNUAL", "annual_demand = 222000"));
    for i in 0..3 {
        assert!((a.shortfall[i] - b.shortfall[i]).abs() < 1e-12);
    }
}
