//! docs/model.md §1: every validation rule is rejected with a message naming the
//! file, the table and id, the field and the reason; valid files compile with
//! the documented defaults and conventions.
//!
//! Each rejection case is its own test: it builds a small scenario that breaks
//! exactly one rule and checks that one reported problem carries every
//! expected fragment (table and id, field, reason).

use crmsim::error::{Error, InputErrors};
use crmsim::model::{Effect, Model};
use crmsim::scenario::parse_bytes;

const FILE: &str = "x.toml";

/// A valid scenario: two countries (with regions), two consumers, one
/// two-stage commodity. Cases edit it with [`edit`] or append tables to it.
const BASE: &str = r#"
[scenario]
name = "t"

[[country]]
id = "CN"
name = "China"
region = "east_asia"

[[country]]
id = "AU"
name = "Australia"
region = "oceania"

[[consumer]]
id = "EU"
name = "European Union"
demand_share = { cobalt = 0.3 }

[[consumer]]
id = "US"
name = "United States"
demand_share = { cobalt = 0.2 }

[[commodity]]
id = "cobalt"
name = "Cobalt"
stages = ["mining", "refining"]
[commodity.producers.mining]
AU = 0.5
CN = 0.2
[commodity.producers.refining]
CN = 0.8
"#;

/// A valid stochastic shock, appended after [`BASE`].
const SHOCK: &str = r#"
[[shock]]
id = "s1"
kind = "conflict"
countries = ["CN"]
rate_per_year = 0.5
severity = 0.5
duration_months = 2.0
"#;

/// A valid export-ban shock.
const BAN: &str = r#"
[[shock]]
id = "b1"
kind = "export_ban"
countries = ["CN"]
rate_per_year = 0.5
severity = 0.5
duration_months = 2.0
"#;

/// A valid scheduled event.
const EVENT: &str = r#"
[[event]]
id = "e1"
kind = "conflict"
countries = ["CN"]
start_month = 0.0
duration_months = 3.0
severity = 0.5
"#;

/// A valid regime (needs [`SHOCK`]).
const REGIME: &str = r#"
[[regime]]
id = "r1"
probability = 0.2
multipliers = [ { shock = "s1", factor = 2.0 } ]
"#;

/// A valid alliance.
const ALLIANCE: &str = r#"
[[alliance]]
id = "a1"
members = ["EU", "AU"]
spare_capacity = 0.1
ramp_months = 2.0
diversion = 0.2
"#;

/// `text` with each `(from, to)` replaced once; `from` must occur exactly once.
fn edit(text: &str, changes: &[(&str, &str)]) -> String {
    let mut s = text.to_string();
    for (from, to) in changes {
        assert_eq!(
            s.matches(from).count(),
            1,
            "test bug: {from:?} must occur exactly once in\n{s}"
        );
        s = s.replacen(from, to, 1);
    }
    s
}

/// [`BASE`] followed by `tables`.
fn with(tables: &[&str]) -> String {
    let mut s = BASE.to_string();
    for t in tables {
        s.push_str(t);
    }
    s
}

/// [`BASE`] plus one [`SHOCK`] edited by `changes`.
fn shock(changes: &[(&str, &str)]) -> String {
    with(&[&edit(SHOCK, changes)])
}

/// [`BASE`] plus one [`BAN`] edited by `changes`.
fn ban(changes: &[(&str, &str)]) -> String {
    with(&[&edit(BAN, changes)])
}

/// Parses and compiles; `Err` holds every problem found.
fn check(text: &str) -> Result<Model, InputErrors> {
    let src = match parse_bytes(FILE, text.as_bytes()) {
        Ok(s) => s,
        Err(Error::Input(e)) => return Err(e),
        Err(e) => panic!("parse_bytes gave a non-input error: {e}"),
    };
    assert_eq!(src.display, FILE);
    Model::compile(&src.display, &src.scenario)
}

fn compile_ok(text: &str) -> Model {
    match check(text) {
        Ok(m) => m,
        Err(e) => panic!("expected a valid scenario, got:\n{e}\n--- scenario ---\n{text}"),
    }
}

/// Asserts `text` is rejected, the message names the file, and one single
/// problem contains every fragment of `needles`. Returns the full message.
fn rejects(text: &str, needles: &[&str]) -> String {
    let err = match check(text) {
        Ok(_) => panic!("expected a validation error for:\n{text}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert_eq!(err.file, FILE, "{msg}");
    assert!(msg.starts_with(FILE), "message must name the file: {msg}");
    assert!(!err.problems.is_empty(), "{msg}");
    assert!(
        err.problems
            .iter()
            .any(|p| needles.iter().all(|n| p.contains(n))),
        "no single problem contains all of {needles:?}; message:\n{msg}"
    );
    msg
}

/// Like [`rejects`], for errors found while reading the TOML: the message
/// also gives the line (1-based, `line`) and a column.
fn rejects_toml(text: &str, line: usize, needles: &[&str]) {
    let msg = rejects(text, needles);
    assert!(
        msg.contains(&format!("line {line}")) && msg.contains("column"),
        "expected line {line} and a column in:\n{msg}"
    );
}

/// 1-based line number of the only line of `text` containing `pat`.
fn line_of(text: &str, pat: &str) -> usize {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(pat))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "test bug: {pat:?} must be on exactly one line"
    );
    lines[0]
}

/// One test per rejected input: `case!(name, text, [fragments...])`.
macro_rules! case {
    ($name:ident, $text:expr, [$($needle:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            rejects(&$text, &[$($needle),+]);
        }
    };
}

// ---------------------------------------------------------------- sanity

#[test]
fn base_fixtures_are_valid() {
    compile_ok(BASE);
    compile_ok(&with(&[SHOCK, BAN, EVENT, REGIME, ALLIANCE]));
}

// ---------------------------------------------------------------- ids

case!(
    id_with_invalid_chars,
    edit(
        BASE,
        &[
            ("id = \"CN\"", "id = \"C N\""),
            ("CN = 0.2", "\"C N\" = 0.2"),
            ("CN = 0.8", "\"C N\" = 0.8")
        ]
    ),
    [
        "[[country]] id \"C N\"",
        "field `id`",
        "must match [A-Za-z0-9_.-]+"
    ]
);
case!(
    id_with_slash,
    edit(BASE, &[("id = \"US\"", "id = \"U/S\"")]),
    ["[[consumer]] id \"U/S\"", "field `id`", "must match"]
);
case!(
    id_empty,
    edit(BASE, &[("id = \"US\"", "id = \"\"")]),
    ["[[consumer]] id \"\"", "field `id`", "must match"]
);
case!(
    id_dot,
    edit(BASE, &[("id = \"US\"", "id = \".\"")]),
    ["[[consumer]] id \".\"", "field `id`", "not be `.` or `..`"]
);
case!(
    id_dotdot,
    with(&[&edit(SHOCK, &[("id = \"s1\"", "id = \"..\"")])]),
    ["[[shock]] id \"..\"", "field `id`", "not be `.` or `..`"]
);
case!(
    scenario_name_invalid,
    edit(BASE, &[("name = \"t\"", "name = \"my scenario\"")]),
    ["[scenario]", "field `name`", "must match"]
);
case!(
    scenario_name_dotdot,
    edit(BASE, &[("name = \"t\"", "name = \"..\"")]),
    ["[scenario]", "field `name`", "not be `.` or `..`"]
);
case!(
    id_reserved_row_country,
    with(&["\n[[country]]\nid = \"ROW\"\nname = \"Rest\"\n"]),
    ["[[country]] id \"ROW\"", "field `id`", "reserved"]
);
case!(
    id_reserved_world_consumer,
    with(&["\n[[consumer]]\nid = \"world\"\nname = \"World\"\n"]),
    ["[[consumer]] id \"world\"", "field `id`", "reserved"]
);
case!(
    id_reserved_row_shock,
    with(&[&edit(SHOCK, &[("id = \"s1\"", "id = \"ROW\"")])]),
    ["[[shock]] id \"ROW\"", "field `id`", "reserved"]
);
case!(
    id_reserved_world_alliance,
    with(&[&edit(ALLIANCE, &[("id = \"a1\"", "id = \"world\"")])]),
    ["[[alliance]] id \"world\"", "field `id`", "reserved"]
);
case!(
    stage_named_world,
    edit(
        BASE,
        &[
            (
                "stages = [\"mining\", \"refining\"]",
                "stages = [\"mining\", \"world\"]"
            ),
            (
                "[commodity.producers.refining]",
                "[commodity.producers.world]"
            ),
        ]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `stages`",
        "\"world\" is reserved"
    ]
);
case!(
    stage_name_invalid,
    edit(
        BASE,
        &[
            (
                "stages = [\"mining\", \"refining\"]",
                "stages = [\"mining\", \"re fining\"]"
            ),
            (
                "[commodity.producers.refining]",
                "[commodity.producers.\"re fining\"]"
            ),
        ]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `stages`",
        "must match"
    ]
);

case!(
    duplicate_country,
    with(&["\n[[country]]\nid = \"CN\"\nname = \"China again\"\n"]),
    ["[[country]] id \"CN\"", "field `id`", "declared twice"]
);
case!(
    duplicate_consumer,
    with(&["\n[[consumer]]\nid = \"EU\"\nname = \"EU again\"\n"]),
    ["[[consumer]] id \"EU\"", "field `id`", "declared twice"]
);
case!(
    duplicate_commodity,
    with(&[
        "\n[[commodity]]\nid = \"cobalt\"\nname = \"Cobalt again\"\n[commodity.producers.production]\n"
    ]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `id`",
        "declared twice"
    ]
);
case!(
    duplicate_shock,
    with(&[SHOCK, SHOCK]),
    ["[[shock]] id \"s1\"", "field `id`", "declared twice"]
);
case!(
    duplicate_event,
    with(&[EVENT, EVENT]),
    ["[[event]] id \"e1\"", "field `id`", "declared twice"]
);
case!(
    shock_and_event_share_an_id,
    with(&[SHOCK, &edit(EVENT, &[("id = \"e1\"", "id = \"s1\"")])]),
    ["[[event]] id \"s1\"", "field `id`", "declared twice"]
);
case!(
    duplicate_regime,
    with(&[SHOCK, REGIME, REGIME]),
    ["[[regime]] id \"r1\"", "field `id`", "declared twice"]
);
case!(
    duplicate_alliance,
    with(&[ALLIANCE, ALLIANCE]),
    ["[[alliance]] id \"a1\"", "field `id`", "declared twice"]
);

#[test]
fn ids_are_unique_per_kind_only() {
    // A country, a consumer, an alliance and a shock may share an id.
    let text = with(&[
        "\n[[country]]\nid = \"JP\"\nname = \"Japan\"\n[[consumer]]\nid = \"JP\"\nname = \"Japan\"\n",
        &edit(SHOCK, &[("id = \"s1\"", "id = \"JP\"")]),
        &edit(ALLIANCE, &[("id = \"a1\"", "id = \"JP\"")]),
    ]);
    compile_ok(&text);
}

// ---------------------------------------------------------------- [scenario]

case!(
    horizon_zero,
    edit(
        BASE,
        &[("name = \"t\"", "name = \"t\"\nhorizon_months = 0")]
    ),
    ["[scenario]", "field `horizon_months`", "1..=600", "got 0"]
);
case!(
    horizon_601,
    edit(
        BASE,
        &[("name = \"t\"", "name = \"t\"\nhorizon_months = 601")]
    ),
    ["[scenario]", "field `horizon_months`", "1..=600", "got 601"]
);
case!(
    trials_zero,
    edit(BASE, &[("name = \"t\"", "name = \"t\"\ntrials = 0")]),
    ["[scenario]", "field `trials`", "at least 1", "got 0"]
);
case!(
    seed_negative,
    edit(BASE, &[("name = \"t\"", "name = \"t\"\nseed = -1")]),
    ["[scenario]", "field `seed`", ">= 0", "got -1"]
);

#[test]
fn horizon_bounds_are_inclusive() {
    for h in [1, 600] {
        let m = compile_ok(&edit(
            BASE,
            &[(
                "name = \"t\"",
                &format!("name = \"t\"\nhorizon_months = {h}"),
            )],
        ));
        assert_eq!(m.horizon, h);
    }
}

// ---------------------------------------------------------------- producers

case!(
    producer_share_zero,
    edit(BASE, &[("CN = 0.2", "CN = 0.0")]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.mining.CN`",
        "(0, 1]",
        "got 0"
    ]
);
case!(
    producer_share_above_one,
    edit(BASE, &[("CN = 0.8", "CN = 1.5")]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.refining.CN`",
        "(0, 1]",
        "got 1.5"
    ]
);
case!(
    producer_share_negative,
    edit(BASE, &[("CN = 0.2", "CN = -0.2")]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.mining.CN`",
        "(0, 1]",
        "got -0.2"
    ]
);
case!(
    producer_shares_sum_above_one,
    edit(BASE, &[("AU = 0.5", "AU = 0.6"), ("CN = 0.2", "CN = 0.5")]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.mining`",
        "sum to 1.1",
        "more than 1"
    ]
);
case!(
    producer_row_listed,
    edit(BASE, &[("CN = 0.8", "CN = 0.8\nROW = 0.2")]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.refining.ROW`",
        "ROW is implicit"
    ]
);
case!(
    producer_undeclared_country,
    edit(BASE, &[("CN = 0.8", "CN = 0.7\nCD = 0.1")]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.refining.CD`",
        "country \"CD\" is not declared"
    ]
);
case!(
    stage_without_producers_table,
    edit(
        BASE,
        &[(
            "stages = [\"mining\", \"refining\"]",
            "stages = [\"mining\", \"refining\", \"alloying\"]"
        )]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.alloying`",
        "no producers table"
    ]
);
case!(
    default_stage_without_producers_table,
    with(&["\n[[commodity]]\nid = \"nickel\"\nname = \"Nickel\"\n"]),
    [
        "[[commodity]] id \"nickel\"",
        "field `producers.production`",
        "no producers table"
    ]
);
case!(
    producers_table_for_undeclared_stage,
    with(&["[commodity.producers.smelting]\nCN = 0.5\n"]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.smelting`",
        "\"smelting\" is not one of the stages"
    ]
);
case!(
    duplicate_stages,
    edit(
        BASE,
        &[(
            "stages = [\"mining\", \"refining\"]",
            "stages = [\"mining\", \"refining\", \"mining\"]"
        )]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `stages`",
        "lists \"mining\" twice"
    ]
);
case!(
    empty_stages,
    edit(
        BASE,
        &[
            ("stages = [\"mining\", \"refining\"]", "stages = []"),
            (
                "[commodity.producers.mining]\nAU = 0.5\nCN = 0.2\n[commodity.producers.refining]\nCN = 0.8\n",
                ""
            ),
        ]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `stages`",
        "must not be empty"
    ]
);

/// Regression: a commodity with `stages = []` and an export ban over it used
/// to panic (index underflow) instead of reporting the empty list.
#[test]
fn empty_stages_with_export_ban_does_not_panic() {
    let text = with(&[
        "\n[[commodity]]\nid = \"nickel\"\nname = \"Nickel\"\nstages = []\n",
        &edit(BAN, &[("countries = [\"CN\"]", "global = true")]),
    ]);
    rejects(
        &text,
        &[
            "[[commodity]] id \"nickel\"",
            "field `stages`",
            "must not be empty",
        ],
    );
}

case!(
    no_commodity,
    "[scenario]\nname = \"t\"\n[[country]]\nid = \"CN\"\nname = \"China\"\n",
    ["[[commodity]]", "at least one commodity"]
);
case!(
    annual_demand_zero,
    edit(
        BASE,
        &[("name = \"Cobalt\"", "name = \"Cobalt\"\nannual_demand = 0")]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `annual_demand`",
        "> 0",
        "got 0"
    ]
);
case!(
    annual_demand_negative,
    edit(
        BASE,
        &[(
            "name = \"Cobalt\"",
            "name = \"Cobalt\"\nannual_demand = -100.0"
        )]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `annual_demand`",
        "> 0",
        "got -100"
    ]
);

// ---------------------------------------------------------------- consumers

case!(
    demand_share_above_one,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.3 }",
            "demand_share = { cobalt = 1.5 }"
        )]
    ),
    [
        "[[consumer]] id \"EU\"",
        "field `demand_share.cobalt`",
        "[0, 1]",
        "got 1.5"
    ]
);
case!(
    demand_share_negative,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.3 }",
            "demand_share = { cobalt = -0.1 }"
        )]
    ),
    [
        "[[consumer]] id \"EU\"",
        "field `demand_share.cobalt`",
        "[0, 1]",
        "got -0.1"
    ]
);
case!(
    demand_shares_sum_above_one,
    edit(
        BASE,
        &[
            (
                "demand_share = { cobalt = 0.3 }",
                "demand_share = { cobalt = 0.6 }"
            ),
            (
                "demand_share = { cobalt = 0.2 }",
                "demand_share = { cobalt = 0.5 }"
            ),
        ]
    ),
    [
        "[[consumer]]",
        "field `demand_share.cobalt`",
        "sum to 1.1",
        "more than 1"
    ]
);
case!(
    demand_share_undeclared_commodity,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.3 }",
            "demand_share = { cobalt = 0.3, nickel = 0.1 }"
        )]
    ),
    [
        "[[consumer]] id \"EU\"",
        "field `demand_share.nickel`",
        "commodity \"nickel\" is not declared"
    ]
);
case!(
    recycling_share_undeclared_commodity,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.3 }",
            "demand_share = { cobalt = 0.3 }\nrecycling_share = { nickel = 0.1 }"
        )]
    ),
    [
        "[[consumer]] id \"EU\"",
        "field `recycling_share.nickel`",
        "commodity \"nickel\" is not declared"
    ]
);
case!(
    recycling_share_above_one,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.3 }",
            "demand_share = { cobalt = 0.3 }\nrecycling_share = { cobalt = 1.2 }"
        )]
    ),
    [
        "[[consumer]] id \"EU\"",
        "field `recycling_share.cobalt`",
        "[0, 1]",
        "got 1.2"
    ]
);
case!(
    stockpile_undeclared_commodity,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.2 }",
            "demand_share = { cobalt = 0.2 }\nstockpile_months = { gallium = 2.0 }"
        )]
    ),
    [
        "[[consumer]] id \"US\"",
        "field `stockpile_months.gallium`",
        "commodity \"gallium\" is not declared"
    ]
);
case!(
    stockpile_negative,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.2 }",
            "demand_share = { cobalt = 0.2 }\nstockpile_months = { cobalt = -1.0 }"
        )]
    ),
    [
        "[[consumer]] id \"US\"",
        "field `stockpile_months.cobalt`",
        ">= 0",
        "got -1"
    ]
);

// ---------------------------------------------------------------- footprints

case!(
    footprint_none,
    shock(&[("countries = [\"CN\"]\n", "")]),
    [
        "[[shock]] id \"s1\"",
        "field `countries`",
        "exactly one footprint"
    ]
);
case!(
    footprint_countries_and_global,
    shock(&[(
        "countries = [\"CN\"]",
        "countries = [\"CN\"]\nglobal = true"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `countries`",
        "exactly one footprint"
    ]
);
case!(
    footprint_region_and_countries,
    shock(&[(
        "countries = [\"CN\"]",
        "countries = [\"CN\"]\nregion = \"oceania\""
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `countries`",
        "exactly one footprint"
    ]
);
case!(
    footprint_undeclared_country,
    shock(&[("countries = [\"CN\"]", "countries = [\"CN\", \"CD\"]")]),
    [
        "[[shock]] id \"s1\"",
        "field `countries`",
        "country \"CD\" is not declared"
    ]
);
case!(
    footprint_row_country,
    shock(&[("countries = [\"CN\"]", "countries = [\"ROW\"]")]),
    [
        "[[shock]] id \"s1\"",
        "field `countries`",
        "ROW cannot be a footprint country",
        "global = true"
    ]
);
case!(
    footprint_empty_countries,
    shock(&[("countries = [\"CN\"]", "countries = []")]),
    [
        "[[shock]] id \"s1\"",
        "field `countries`",
        "must not be empty"
    ]
);
case!(
    footprint_duplicate_country,
    shock(&[(
        "countries = [\"CN\"]",
        "countries = [\"CN\", \"AU\", \"CN\"]"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `countries`",
        "lists \"CN\" twice"
    ]
);
case!(
    footprint_region_nobody_has,
    shock(&[("countries = [\"CN\"]", "region = \"mars\"")]),
    [
        "[[shock]] id \"s1\"",
        "field `region`",
        "no declared country has region \"mars\""
    ]
);
case!(
    event_footprint_none,
    with(&[&edit(EVENT, &[("countries = [\"CN\"]\n", "")])]),
    [
        "[[event]] id \"e1\"",
        "field `countries`",
        "exactly one footprint"
    ]
);

// ---------------------------------------------------------------- shocks

case!(
    shock_unknown_kind,
    shock(&[("kind = \"conflict\"", "kind = \"war\"")]),
    [
        "[[shock]] id \"s1\"",
        "field `kind`",
        "unknown kind \"war\""
    ]
);
case!(
    shock_undeclared_commodity,
    shock(&[(
        "kind = \"conflict\"",
        "kind = \"conflict\"\ncommodities = [\"cobalt\", \"nickel\"]"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `commodities`",
        "commodity \"nickel\" is not declared"
    ]
);
case!(
    shock_empty_commodities,
    shock(&[(
        "kind = \"conflict\"",
        "kind = \"conflict\"\ncommodities = []"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `commodities`",
        "must not be empty"
    ]
);
case!(
    shock_duplicate_commodities,
    shock(&[(
        "kind = \"conflict\"",
        "kind = \"conflict\"\ncommodities = [\"cobalt\", \"cobalt\"]"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `commodities`",
        "lists \"cobalt\" twice"
    ]
);
case!(
    shock_empty_stages,
    shock(&[("kind = \"conflict\"", "kind = \"conflict\"\nstages = []")]),
    ["[[shock]] id \"s1\"", "field `stages`", "must not be empty"]
);
case!(
    shock_duplicate_stages,
    shock(&[(
        "kind = \"conflict\"",
        "kind = \"conflict\"\nstages = [\"mining\", \"mining\"]"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `stages`",
        "lists \"mining\" twice"
    ]
);
case!(
    shock_stage_in_no_commodity,
    shock(&[(
        "kind = \"conflict\"",
        "kind = \"conflict\"\nstages = [\"mining\", \"smelting\"]"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `stages`",
        "no commodity of this shock has a stage \"smelting\""
    ]
);
case!(
    ban_with_stages,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\nstages = [\"refining\"]"
    )]),
    ["[[shock]] id \"b1\"", "field `stages`", "final stage only"]
);
case!(
    rate_and_probability_both,
    shock(&[(
        "rate_per_year = 0.5",
        "rate_per_year = 0.5\nprobability_per_year = 0.3"
    )]),
    ["[[shock]] id \"s1\"", "field `rate_per_year`", "not both"]
);
case!(
    rate_and_probability_neither,
    shock(&[("rate_per_year = 0.5\n", "")]),
    [
        "[[shock]] id \"s1\"",
        "field `rate_per_year`",
        "missing",
        "probability_per_year"
    ]
);
case!(
    probability_per_year_one,
    shock(&[("rate_per_year = 0.5", "probability_per_year = 1.0")]),
    [
        "[[shock]] id \"s1\"",
        "field `probability_per_year`",
        "[0, 1)",
        "got 1"
    ]
);
case!(
    probability_per_year_negative,
    shock(&[("rate_per_year = 0.5", "probability_per_year = -0.1")]),
    [
        "[[shock]] id \"s1\"",
        "field `probability_per_year`",
        "[0, 1)",
        "got -0.1"
    ]
);
case!(
    rate_negative,
    shock(&[("rate_per_year = 0.5", "rate_per_year = -0.5")]),
    [
        "[[shock]] id \"s1\"",
        "field `rate_per_year`",
        ">= 0",
        "got -0.5"
    ]
);
case!(
    severity_plain_above_one,
    shock(&[("severity = 0.5", "severity = 1.5")]),
    [
        "[[shock]] id \"s1\"",
        "field `severity`",
        "[0, 1]",
        "got 1.5"
    ]
);
case!(
    severity_plain_negative,
    shock(&[("severity = 0.5", "severity = -0.5")]),
    [
        "[[shock]] id \"s1\"",
        "field `severity`",
        "[0, 1]",
        "got -0.5"
    ]
);
case!(
    duration_plain_negative,
    shock(&[("duration_months = 2.0", "duration_months = -2.0")]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        ">= 0",
        "got -2"
    ]
);
case!(
    per_country_invalid,
    shock(&[(
        "kind = \"conflict\"",
        "kind = \"conflict\"\nper_country = \"each\""
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `per_country`",
        "\"shared\" or \"independent\"",
        "got \"each\""
    ]
);
case!(
    targets_on_non_ban,
    shock(&[(
        "kind = \"conflict\"",
        "kind = \"conflict\"\ntargets = \"all\""
    )]),
    ["[[shock]] id \"s1\"", "field `targets`", "only export_ban"]
);
case!(
    leakage_on_non_ban,
    shock(&[("kind = \"conflict\"", "kind = \"conflict\"\nleakage = 0.1")]),
    ["[[shock]] id \"s1\"", "field `leakage`", "only export_ban"]
);
case!(
    targets_invalid_keyword,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\ntargets = \"allies\""
    )]),
    [
        "[[shock]] id \"b1\"",
        "field `targets`",
        "\"all\", \"non_allies\" or a list",
        "got \"allies\""
    ]
);
case!(
    targets_undeclared_consumer,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\ntargets = [\"EU\", \"JP\"]"
    )]),
    [
        "[[shock]] id \"b1\"",
        "field `targets`",
        "consumer \"JP\" is not declared"
    ]
);
case!(
    targets_empty,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\ntargets = []"
    )]),
    [
        "[[shock]] id \"b1\"",
        "field `targets`",
        "must not be empty"
    ]
);
case!(
    targets_duplicate,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\ntargets = [\"EU\", \"EU\"]"
    )]),
    [
        "[[shock]] id \"b1\"",
        "field `targets`",
        "lists \"EU\" twice"
    ]
);
case!(
    leakage_above_one,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\nleakage = 1.5"
    )]),
    [
        "[[shock]] id \"b1\"",
        "field `leakage`",
        "[0, 1]",
        "got 1.5"
    ]
);
case!(
    leakage_negative,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\nleakage = -0.5"
    )]),
    [
        "[[shock]] id \"b1\"",
        "field `leakage`",
        "[0, 1]",
        "got -0.5"
    ]
);

// ---------------------------------------------------------------- non-finite numbers

case!(
    nan_rate,
    shock(&[("rate_per_year = 0.5", "rate_per_year = nan")]),
    ["[[shock]] id \"s1\"", "field `rate_per_year`", "NaN"]
);
case!(
    inf_rate,
    shock(&[("rate_per_year = 0.5", "rate_per_year = inf")]),
    [
        "[[shock]] id \"s1\"",
        "field `rate_per_year`",
        "finite",
        "inf"
    ]
);
case!(
    nan_probability_per_year,
    shock(&[("rate_per_year = 0.5", "probability_per_year = nan")]),
    ["[[shock]] id \"s1\"", "field `probability_per_year`", "NaN"]
);
case!(
    nan_severity_plain,
    shock(&[("severity = 0.5", "severity = nan")]),
    ["[[shock]] id \"s1\"", "field `severity`", "finite", "NaN"]
);
case!(
    inf_duration_plain,
    shock(&[("duration_months = 2.0", "duration_months = inf")]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "finite",
        "inf"
    ]
);
case!(
    nan_distribution_parameter,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"beta\", alpha = nan, beta = 2.0 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `severity`",
        "`alpha`",
        "finite",
        "NaN"
    ]
);
case!(
    inf_distribution_parameter,
    shock(&[(
        "duration_months = 2.0",
        "duration_months = { dist = \"uniform\", min = 1.0, max = inf }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "`max`",
        "finite",
        "inf"
    ]
);
case!(
    nan_producer_share,
    edit(BASE, &[("CN = 0.8", "CN = nan")]),
    [
        "[[commodity]] id \"cobalt\"",
        "field `producers.refining.CN`",
        "NaN"
    ]
);
case!(
    inf_annual_demand,
    edit(
        BASE,
        &[(
            "name = \"Cobalt\"",
            "name = \"Cobalt\"\nannual_demand = inf"
        )]
    ),
    [
        "[[commodity]] id \"cobalt\"",
        "field `annual_demand`",
        "finite",
        "inf"
    ]
);
case!(
    nan_demand_share,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.3 }",
            "demand_share = { cobalt = nan }"
        )]
    ),
    [
        "[[consumer]] id \"EU\"",
        "field `demand_share.cobalt`",
        "NaN"
    ]
);
case!(
    inf_stockpile,
    edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.3 }",
            "demand_share = { cobalt = 0.3 }\nstockpile_months = { cobalt = inf }"
        )]
    ),
    [
        "[[consumer]] id \"EU\"",
        "field `stockpile_months.cobalt`",
        "finite",
        "inf"
    ]
);
case!(
    nan_governance,
    edit(
        BASE,
        &[(
            "region = \"oceania\"",
            "region = \"oceania\"\ngovernance = nan"
        )]
    ),
    [
        "[[country]] id \"AU\"",
        "field `governance`",
        "finite",
        "NaN"
    ]
);
case!(
    nan_leakage,
    ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\nleakage = nan"
    )]),
    ["[[shock]] id \"b1\"", "field `leakage`", "NaN"]
);
case!(
    nan_event_start,
    with(&[&edit(EVENT, &[("start_month = 0.0", "start_month = nan")])]),
    ["[[event]] id \"e1\"", "field `start_month`", "NaN"]
);
case!(
    inf_event_severity,
    with(&[&edit(EVENT, &[("severity = 0.5", "severity = inf")])]),
    ["[[event]] id \"e1\"", "field `severity`", "inf"]
);
case!(
    nan_regime_probability,
    with(&[
        SHOCK,
        &edit(REGIME, &[("probability = 0.2", "probability = nan")])
    ]),
    ["[[regime]] id \"r1\"", "field `probability`", "NaN"]
);
case!(
    inf_multiplier_factor,
    with(&[SHOCK, &edit(REGIME, &[("factor = 2.0", "factor = inf")])]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].factor`",
        "finite",
        "inf"
    ]
);
case!(
    nan_alliance_ramp,
    with(&[&edit(
        ALLIANCE,
        &[("ramp_months = 2.0", "ramp_months = nan")]
    )]),
    ["[[alliance]] id \"a1\"", "field `ramp_months`", "NaN"]
);

// ---------------------------------------------------------------- distributions

case!(
    dist_unknown,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"weibull\", shape = 2.0 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `severity`",
        "unknown dist \"weibull\"",
        "beta"
    ]
);
case!(
    dist_missing_kind,
    shock(&[("severity = 0.5", "severity = { alpha = 2.0, beta = 2.0 }")]),
    ["[[shock]] id \"s1\"", "field `severity`", "`dist"]
);
case!(
    dist_missing_param,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"beta\", alpha = 2.0 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `severity`",
        "needs parameter `beta`"
    ]
);
case!(
    dist_unknown_param,
    shock(&[(
        "duration_months = 2.0",
        "duration_months = { dist = \"lognormal\", median = 2.0, sigma = 0.5, mean = 3.0 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "unknown parameter `mean`",
        "median, sigma"
    ]
);
case!(
    dist_param_not_a_number,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"beta\", alpha = \"2\", beta = 2.0 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `severity`",
        "`alpha`",
        "must be a number"
    ]
);
case!(
    dist_beta_alpha_zero,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"beta\", alpha = 0.0, beta = 2.0 }"
    )]),
    ["[[shock]] id \"s1\"", "field `severity`", "alpha > 0"]
);
case!(
    dist_beta_alpha_negative,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"beta\", alpha = -1.0, beta = 2.0 }"
    )]),
    ["[[shock]] id \"s1\"", "field `severity`", "alpha > 0"]
);
case!(
    dist_triangular_min_above_mode,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"triangular\", min = 0.5, mode = 0.2, max = 0.9 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `severity`",
        "min <= mode <= max"
    ]
);
case!(
    dist_pert_mode_above_max,
    shock(&[(
        "duration_months = 2.0",
        "duration_months = { dist = \"pert\", min = 1, mode = 9, max = 6 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "min <= mode <= max"
    ]
);
case!(
    dist_uniform_min_above_max,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"uniform\", min = 0.8, max = 0.2 }"
    )]),
    ["[[shock]] id \"s1\"", "field `severity`", "min <= max"]
);
case!(
    dist_lognormal_median_zero,
    shock(&[(
        "duration_months = 2.0",
        "duration_months = { dist = \"lognormal\", median = 0.0, sigma = 0.5 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "median > 0"
    ]
);
case!(
    dist_lognormal_sigma_negative,
    shock(&[(
        "duration_months = 2.0",
        "duration_months = { dist = \"lognormal\", median = 2.0, sigma = -0.5 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "sigma >= 0"
    ]
);
case!(
    dist_exponential_negative_mean,
    shock(&[(
        "duration_months = 2.0",
        "duration_months = { dist = \"exponential\", mean = -1.0 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "mean >= 0"
    ]
);
case!(
    dist_gamma_shape_zero,
    shock(&[(
        "duration_months = 2.0",
        "duration_months = { dist = \"gamma\", shape = 0.0, scale = 1.0 }"
    )]),
    [
        "[[shock]] id \"s1\"",
        "field `duration_months`",
        "shape > 0"
    ]
);
case!(
    dist_normal_sd_negative,
    shock(&[(
        "severity = 0.5",
        "severity = { dist = \"normal\", mean = 0.5, sd = -0.1 }"
    )]),
    ["[[shock]] id \"s1\"", "field `severity`", "sd >= 0"]
);

#[test]
fn every_distribution_kind_and_degenerate_forms_compile() {
    let specs = [
        "0.3",
        "{ dist = \"fixed\", value = 0.3 }",
        "{ dist = \"uniform\", min = 0.1, max = 0.4 }",
        "{ dist = \"uniform\", min = 0.3, max = 0.3 }",
        "{ dist = \"triangular\", min = 0.1, mode = 0.2, max = 0.6 }",
        "{ dist = \"triangular\", min = 0.2, mode = 0.2, max = 0.2 }",
        "{ dist = \"pert\", min = 0.1, mode = 0.2, max = 0.6 }",
        "{ dist = \"pert\", min = 0.2, mode = 0.2, max = 0.2 }",
        "{ dist = \"beta\", alpha = 2, beta = 5 }",
        "{ dist = \"lognormal\", median = 0.3, sigma = 0.5 }",
        "{ dist = \"lognormal\", median = 0.3, sigma = 0.0 }",
        "{ dist = \"exponential\", mean = 0.3 }",
        "{ dist = \"exponential\", mean = 0.0 }",
        "{ dist = \"gamma\", shape = 2.0, scale = 0.1 }",
        "{ dist = \"normal\", mean = 0.3, sd = 0.1 }",
        "{ dist = \"normal\", mean = 0.3, sd = 0.0 }",
        // Draws outside [0, 1] are clamped, so a severity distribution may reach beyond it.
        "{ dist = \"uniform\", min = -0.5, max = 1.5 }",
    ];
    for spec in specs {
        let text = shock(&[
            ("severity = 0.5", &format!("severity = {spec}")),
            (
                "duration_months = 2.0",
                &format!("duration_months = {spec}"),
            ),
        ]);
        compile_ok(&text);
    }
}

// ---------------------------------------------------------------- events

case!(
    event_negative_start,
    with(&[&edit(EVENT, &[("start_month = 0.0", "start_month = -1.0")])]),
    [
        "[[event]] id \"e1\"",
        "field `start_month`",
        ">= 0",
        "got -1"
    ]
);
case!(
    event_negative_duration,
    with(&[&edit(
        EVENT,
        &[("duration_months = 3.0", "duration_months = -3.0")]
    )]),
    [
        "[[event]] id \"e1\"",
        "field `duration_months`",
        ">= 0",
        "got -3"
    ]
);
case!(
    event_severity_above_one,
    with(&[&edit(EVENT, &[("severity = 0.5", "severity = 1.2")])]),
    [
        "[[event]] id \"e1\"",
        "field `severity`",
        "[0, 1]",
        "got 1.2"
    ]
);
case!(
    event_unknown_kind,
    with(&[&edit(
        EVENT,
        &[("kind = \"conflict\"", "kind = \"embargo\"")]
    )]),
    [
        "[[event]] id \"e1\"",
        "field `kind`",
        "unknown kind \"embargo\""
    ]
);
case!(
    event_targets_on_non_ban,
    with(&[&edit(
        EVENT,
        &[(
            "kind = \"conflict\"",
            "kind = \"conflict\"\ntargets = [\"EU\"]"
        )]
    )]),
    ["[[event]] id \"e1\"", "field `targets`", "only export_ban"]
);

#[test]
fn event_rejects_a_rate() {
    let text = with(&[&edit(
        EVENT,
        &[("severity = 0.5", "severity = 0.5\nrate_per_year = 1.0")],
    )]);
    rejects_toml(
        &text,
        line_of(&text, "rate_per_year"),
        &["unknown field `rate_per_year`"],
    );
}

#[test]
fn event_severity_must_be_a_plain_number() {
    let text = with(&[&edit(
        EVENT,
        &[(
            "severity = 0.5",
            "severity = { dist = \"beta\", alpha = 2.0, beta = 2.0 }",
        )],
    )]);
    rejects_toml(&text, line_of(&text, "dist = \"beta\""), &["severity"]);
}

// ---------------------------------------------------------------- regimes

case!(
    regime_probability_above_one,
    with(&[
        SHOCK,
        &edit(REGIME, &[("probability = 0.2", "probability = 1.5")])
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `probability`",
        "[0, 1]",
        "got 1.5"
    ]
);
case!(
    regime_probabilities_sum_above_one,
    with(&[
        SHOCK,
        &edit(REGIME, &[("probability = 0.2", "probability = 0.6")]),
        &edit(
            REGIME,
            &[
                ("id = \"r1\"", "id = \"r2\""),
                ("probability = 0.2", "probability = 0.5")
            ]
        ),
    ]),
    [
        "[[regime]]",
        "field `probability`",
        "sum to 1.1",
        "more than 1"
    ]
);
case!(
    multiplier_names_an_event,
    with(&[
        SHOCK,
        EVENT,
        &edit(REGIME, &[("shock = \"s1\"", "shock = \"e1\"")])
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].shock`",
        "\"e1\"",
        "scheduled event",
        "multipliers name shocks"
    ]
);
case!(
    multiplier_undeclared_shock,
    with(&[
        SHOCK,
        &edit(REGIME, &[("shock = \"s1\"", "shock = \"nope\"")])
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].shock`",
        "shock \"nope\" is not declared"
    ]
);
case!(
    multiplier_undeclared_country,
    with(&[
        SHOCK,
        &edit(
            REGIME,
            &[("shock = \"s1\"", "countries = [\"CN\", \"RU\"]")]
        )
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].countries`",
        "country \"RU\" is not declared"
    ]
);
case!(
    multiplier_empty_countries,
    with(&[
        SHOCK,
        &edit(REGIME, &[("shock = \"s1\"", "countries = []")])
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].countries`",
        "must not be empty"
    ]
);
case!(
    multiplier_duplicate_countries,
    with(&[
        SHOCK,
        &edit(
            REGIME,
            &[("shock = \"s1\"", "countries = [\"CN\", \"CN\"]")]
        )
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].countries`",
        "lists \"CN\" twice"
    ]
);
case!(
    multiplier_invalid_kind,
    with(&[
        SHOCK,
        &edit(REGIME, &[("shock = \"s1\"", "kind = \"ban\"")])
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].kind`",
        "unknown kind \"ban\""
    ]
);
case!(
    multiplier_negative_factor,
    with(&[SHOCK, &edit(REGIME, &[("factor = 2.0", "factor = -2.0")])]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[0].factor`",
        ">= 0",
        "got -2"
    ]
);
case!(
    second_multiplier_is_named_by_index,
    with(&[
        SHOCK,
        &edit(
            REGIME,
            &[(
                "factor = 2.0 }",
                "factor = 2.0 }, { kind = \"conflict\", factor = -1.0 }"
            )]
        )
    ]),
    [
        "[[regime]] id \"r1\"",
        "field `multipliers[1].factor`",
        ">= 0"
    ]
);

// ---------------------------------------------------------------- alliances

case!(
    alliance_member_undeclared,
    with(&[&edit(
        ALLIANCE,
        &[(
            "members = [\"EU\", \"AU\"]",
            "members = [\"EU\", \"AU\", \"KR\"]"
        )]
    )]),
    [
        "[[alliance]] id \"a1\"",
        "field `members`",
        "\"KR\" is neither a declared country nor a declared consumer"
    ]
);
case!(
    alliance_members_empty,
    with(&[&edit(
        ALLIANCE,
        &[("members = [\"EU\", \"AU\"]", "members = []")]
    )]),
    [
        "[[alliance]] id \"a1\"",
        "field `members`",
        "must not be empty"
    ]
);
case!(
    alliance_members_duplicate,
    with(&[&edit(
        ALLIANCE,
        &[(
            "members = [\"EU\", \"AU\"]",
            "members = [\"EU\", \"AU\", \"EU\"]"
        )]
    )]),
    [
        "[[alliance]] id \"a1\"",
        "field `members`",
        "lists \"EU\" twice"
    ]
);
case!(
    alliance_spare_capacity_above_one,
    with(&[&edit(
        ALLIANCE,
        &[("spare_capacity = 0.1", "spare_capacity = 1.5")]
    )]),
    [
        "[[alliance]] id \"a1\"",
        "field `spare_capacity`",
        "[0, 1]",
        "got 1.5"
    ]
);
case!(
    alliance_diversion_above_one,
    with(&[&edit(ALLIANCE, &[("diversion = 0.2", "diversion = 1.01")])]),
    [
        "[[alliance]] id \"a1\"",
        "field `diversion`",
        "[0, 1]",
        "got 1.01"
    ]
);
case!(
    alliance_negative_ramp,
    with(&[&edit(
        ALLIANCE,
        &[("ramp_months = 2.0", "ramp_months = -1.0")]
    )]),
    [
        "[[alliance]] id \"a1\"",
        "field `ramp_months`",
        ">= 0",
        "got -1"
    ]
);

// ---------------------------------------------------------------- TOML-level errors

#[test]
fn unknown_top_level_key() {
    let text = format!("horizon = 12\n{BASE}");
    rejects_toml(&text, 1, &["unknown field `horizon`"]);
}

#[test]
fn unknown_top_level_table() {
    let text = format!("{BASE}\n[[countries]]\nid = \"JP\"\nname = \"Japan\"\n");
    rejects_toml(
        &text,
        line_of(&text, "[[countries]]"),
        &["unknown field `countries`"],
    );
}

#[test]
fn unknown_key_in_scenario_header() {
    let text = edit(BASE, &[("name = \"t\"", "name = \"t\"\nhorizon = 24")]);
    rejects_toml(
        &text,
        line_of(&text, "horizon = 24"),
        &["unknown field `horizon`", "horizon_months"],
    );
}

#[test]
fn unknown_key_in_shock() {
    let text = shock(&[("rate_per_year = 0.5", "rate_per_yr = 0.5")]);
    rejects_toml(
        &text,
        line_of(&text, "rate_per_yr"),
        &["unknown field `rate_per_yr`", "rate_per_year"],
    );
}

#[test]
fn unknown_key_in_country() {
    let text = edit(BASE, &[("region = \"oceania\"", "regoin = \"oceania\"")]);
    rejects_toml(&text, line_of(&text, "regoin"), &["unknown field `regoin`"]);
}

#[test]
fn unknown_key_in_consumer() {
    let text = edit(
        BASE,
        &[(
            "demand_share = { cobalt = 0.2 }",
            "demand_shares = { cobalt = 0.2 }",
        )],
    );
    rejects_toml(
        &text,
        line_of(&text, "demand_shares"),
        &["unknown field `demand_shares`"],
    );
}

#[test]
fn unknown_key_in_commodity() {
    let text = edit(
        BASE,
        &[("name = \"Cobalt\"", "name = \"Cobalt\"\ndemand = 5")],
    );
    rejects_toml(
        &text,
        line_of(&text, "demand = 5"),
        &["unknown field `demand`"],
    );
}

#[test]
fn unknown_key_in_event() {
    let text = with(&[&edit(EVENT, &[("start_month = 0.0", "start = 0.0")])]);
    rejects_toml(
        &text,
        line_of(&text, "start = 0.0"),
        &["unknown field `start`"],
    );
}

#[test]
fn unknown_key_in_regime() {
    let text = with(&[
        SHOCK,
        &edit(
            REGIME,
            &[("probability = 0.2", "probability = 0.2\nweight = 1")],
        ),
    ]);
    rejects_toml(
        &text,
        line_of(&text, "weight = 1"),
        &["unknown field `weight`"],
    );
}

#[test]
fn unknown_key_in_multiplier() {
    let text = with(&[SHOCK, &edit(REGIME, &[("factor = 2.0", "factr = 2.0")])]);
    rejects_toml(&text, line_of(&text, "factr"), &["unknown field `factr`"]);
}

#[test]
fn unknown_key_in_alliance() {
    let text = with(&[&edit(ALLIANCE, &[("diversion = 0.2", "diverson = 0.2")])]);
    rejects_toml(
        &text,
        line_of(&text, "diverson"),
        &["unknown field `diverson`"],
    );
}

#[test]
fn missing_required_name() {
    let text = edit(BASE, &[("name = \"Australia\"\n", "")]);
    rejects(&text, &["missing field `name`"]);
}

#[test]
fn missing_scenario_header() {
    let text = "[[commodity]]\nid = \"a\"\nname = \"A\"\n[commodity.producers.production]\n";
    rejects(text, &["missing field `scenario`"]);
}

#[test]
fn wrong_type_has_line_and_column() {
    let text = edit(
        BASE,
        &[("name = \"t\"", "name = \"t\"\nhorizon_months = \"12\"")],
    );
    rejects_toml(&text, line_of(&text, "horizon_months"), &["horizon_months"]);
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    let text = edit(BASE, &[("CN = 0.8", "CN = 0.8 0.1")]);
    rejects_toml(&text, line_of(&text, "CN = 0.8 0.1"), &["TOML parse error"]);
}

#[test]
fn toml_unterminated_string_has_line_and_column() {
    let text = edit(BASE, &[("name = \"Cobalt\"", "name = \"Cobalt")]);
    rejects_toml(
        &text,
        line_of(&text, "name = \"Cobalt"),
        &["TOML parse error"],
    );
}

#[test]
fn invalid_utf8_is_an_input_error() {
    let mut bytes = BASE.as_bytes().to_vec();
    bytes.extend_from_slice(b"# \xff\xfe\n");
    match parse_bytes(FILE, &bytes) {
        Err(Error::Input(e)) => {
            let msg = e.to_string();
            assert!(msg.contains(FILE) && msg.contains("UTF-8"), "{msg}");
        }
        Err(e) => panic!("expected an input error, got {e}"),
        Ok(_) => panic!("invalid UTF-8 accepted"),
    }
}

// ---------------------------------------------------------------- several problems at once

#[test]
fn reports_every_problem_at_once() {
    let text = with(&[
        &edit(SHOCK, &[("severity = 0.5", "severity = 1.5")]),
        &edit(
            ALLIANCE,
            &[("members = [\"EU\", \"AU\"]", "members = [\"EU\", \"KR\"]")],
        ),
    ]);
    let text = edit(
        &text,
        &[("name = \"t\"", "name = \"t\"\nhorizon_months = 0")],
    );
    let err = check(&text).expect_err("three problems");
    let msg = err.to_string();
    assert_eq!(err.problems.len(), 3, "{msg}");
    assert!(msg.starts_with("x.toml: 3 problems:"), "{msg}");
    for needles in [
        &["[scenario]", "field `horizon_months`"][..],
        &["[[shock]] id \"s1\"", "field `severity`"][..],
        &["[[alliance]] id \"a1\"", "field `members`", "\"KR\""][..],
    ] {
        assert!(
            err.problems
                .iter()
                .any(|p| needles.iter().all(|n| p.contains(n))),
            "missing {needles:?} in:\n{msg}"
        );
    }
    // One problem per line.
    assert_eq!(msg.lines().count(), 4, "{msg}");
}

// ---------------------------------------------------------------- valid files

#[test]
fn minimal_scenario_compiles() {
    let text = "[scenario]\nname = \"m\"\n[[commodity]]\nid = \"a\"\nname = \"A\"\n[commodity.producers.production]\n";
    let m = compile_ok(text);
    assert_eq!(m.name, "m");
    assert_eq!(m.commodities.len(), 1);
    assert_eq!(m.commodities[0].stages, ["production"]);
    // An empty producers table: all of the stage is ROW.
    assert_eq!(m.commodities[0].row_share, [1.0]);
    assert!(m.countries.is_empty() && m.consumers.is_empty());
}

#[test]
fn defaults_apply() {
    let text = with(&[
        "\n[[commodity]]\nid = \"gallium\"\nname = \"Gallium\"\n[commodity.producers.production]\nCN = 0.9\n",
        SHOCK,
        BAN,
        "\n[[alliance]]\nid = \"a0\"\nmembers = [\"EU\"]\n",
    ]);
    let m = compile_ok(&text);
    assert_eq!(m.horizon, 12);
    assert_eq!(m.trials, 100_000);
    assert_eq!(m.seed, 0);
    assert_eq!(m.title, None);
    assert_eq!(m.currency, None);
    let ga = m.commodities.iter().find(|c| c.id == "gallium").unwrap();
    assert_eq!(ga.stages, ["production"]);
    // No annual_demand: results are fractions, M = 1.
    assert_eq!(ga.annual_demand, None);
    assert_eq!(ga.monthly_demand, 1.0);
    // per_country "shared"; targets "all"; leakage 0.
    let s1 = m.shocks.iter().find(|s| s.id == "s1").unwrap();
    assert!(!s1.independent);
    let b1 = m.shocks.iter().find(|s| s.id == "b1").unwrap();
    assert!(!b1.independent);
    for e in &b1.effects {
        let Effect::Ban { hits, leakage, .. } = e else {
            panic!("a ban has ban effects")
        };
        assert_eq!(*leakage, 0.0);
        // targets "all": every consumer and ROW
        for (_, _, mask) in hits {
            assert!(mask.iter().all(|&t| t), "{mask:?}");
        }
    }
    // Alliance knobs default to 0; no regimes.
    let a = &m.alliances[0];
    assert_eq!(
        (a.spare_capacity, a.ramp_months, a.diversion),
        (0.0, 0.0, 0.0)
    );
    assert!(m.regimes.is_empty());
}

#[test]
fn header_values_are_used() {
    let text = edit(
        BASE,
        &[(
            "name = \"t\"",
            "name = \"t\"\ntitle = \"T\"\nhorizon_months = 24\ntrials = 500\nseed = 42\ncurrency = \"EUR\"",
        )],
    );
    let m = compile_ok(&text);
    assert_eq!((m.horizon, m.trials, m.seed), (24, 500, 42));
    assert_eq!(m.title.as_deref(), Some("T"));
    assert_eq!(m.currency.as_deref(), Some("EUR"));
}

#[test]
fn probability_per_year_converts_to_rate() {
    for p in [0.0, 0.2, 0.5, 0.999] {
        let text = shock(&[(
            "rate_per_year = 0.5",
            &format!("probability_per_year = {p:?}"),
        )]);
        let m = compile_ok(&text);
        let want = -(1.0f64 - p).ln();
        let got = m.shocks[0].rate_per_year;
        assert!(
            (got - want).abs() <= 1e-12 * want.max(1.0),
            "p = {p}: {got} vs {want}"
        );
    }
    let m = compile_ok(&shock(&[]));
    assert_eq!(m.shocks[0].rate_per_year, 0.5);
}

#[test]
fn row_takes_the_remainder() {
    let text = edit(
        BASE,
        &[(
            "name = \"Cobalt\"",
            "name = \"Cobalt\"\nannual_demand = 1200",
        )],
    );
    let m = compile_ok(&text);
    let c = &m.commodities[0];
    assert_eq!(c.monthly_demand, 100.0);
    // mining: AU 0.5 + CN 0.2 -> ROW 0.3; refining: CN 0.8 -> ROW 0.2.
    assert!((c.row_share[0] - 0.3).abs() < 1e-12, "{:?}", c.row_share);
    assert!((c.row_share[1] - 0.2).abs() < 1e-12, "{:?}", c.row_share);
    // ROW is the last local producer, with capacity = remainder * P (in
    // units of M; P is the primary demand, M less what is recycled).
    assert_eq!(*c.producers.last().unwrap(), m.n_countries());
    let row = c.producers.len() - 1;
    assert!((c.cap[0][row] - 0.3 * c.market_total).abs() < 1e-12);
    assert!((c.cap[1][row] - 0.2 * c.market_total).abs() < 1e-12);
    // Consumer ROW: 1 - 0.3 - 0.2 = 0.5 of demand, no recycling, no stock.
    let j = m.n_consumers();
    assert!((c.demand_rel[j] - 0.5).abs() < 1e-12);
    assert!((c.monthly_tonnes(j) - 50.0).abs() < 1e-9);
    assert_eq!(c.market[j], c.demand_rel[j]);
    assert_eq!(c.stock0[j], 0.0);
}

#[test]
fn shares_summing_to_one_within_tolerance_are_accepted() {
    let text = edit(
        BASE,
        &[
            ("AU = 0.5", "AU = 0.1"),
            ("CN = 0.2", "CN = 0.2\nBR = 0.7"),
            (
                "[[consumer]]\nid = \"EU\"",
                "[[country]]\nid = \"BR\"\nname = \"Brazil\"\n\n[[consumer]]\nid = \"EU\"",
            ),
        ],
    );
    // 0.1 + 0.7 + 0.2 need not be exactly 1 in floating point (tolerance 1e-9).
    let m = compile_ok(&text);
    assert!(m.commodities[0].row_share[0].abs() < 1e-9);
}

#[test]
fn warns_where_row_holds_more_than_30_percent() {
    let text = edit(BASE, &[("AU = 0.5", "AU = 0.4")]);
    let m = compile_ok(&text);
    assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
    let w = &m.warnings[0];
    assert!(
        w.contains("[[commodity]] id \"cobalt\"")
            && w.contains("\"mining\"")
            && w.contains("40%")
            && w.contains("ROW"),
        "{w}"
    );
    // 30% exactly (mining in BASE) and 20% (refining) give no warning.
    assert!(compile_ok(BASE).warnings.is_empty());
}

#[test]
fn row_may_be_a_ban_target() {
    let text = ban(&[(
        "kind = \"export_ban\"",
        "kind = \"export_ban\"\ntargets = [\"ROW\"]",
    )]);
    let m = compile_ok(&text);
    let Effect::Ban { hits, .. } = &m.shocks[0].effects[0] else {
        panic!("ban effect expected")
    };
    let (_, _, mask) = &hits[0];
    // consumers EU, US, then ROW
    assert_eq!(mask, &[false, false, true]);
}

#[test]
fn a_country_never_targets_its_own_consumer_id() {
    let text = with(&[
        "\n[[consumer]]\nid = \"CN\"\nname = \"China\"\ndemand_share = { cobalt = 0.4 }\n",
        BAN,
    ]);
    let m = compile_ok(&text);
    let Effect::Ban { hits, .. } = &m.shocks[0].effects[0] else {
        panic!("ban effect expected")
    };
    let (_, _, mask) = &hits[0];
    // consumers EU, US, CN, then ROW: CN does not ban itself.
    assert_eq!(mask, &[true, true, false, true]);
}

#[test]
fn non_allies_spares_alliance_partners() {
    let text = with(&[
        &edit(
            BAN,
            &[(
                "kind = \"export_ban\"",
                "kind = \"export_ban\"\ntargets = \"non_allies\"",
            )],
        ),
        "\n[[alliance]]\nid = \"friends\"\nmembers = [\"CN\", \"US\"]\n",
    ]);
    let m = compile_ok(&text);
    let Effect::Ban { hits, .. } = &m.shocks[0].effects[0] else {
        panic!("ban effect expected")
    };
    let (_, _, mask) = &hits[0];
    // consumers EU, US, then ROW: US shares an alliance with CN.
    assert_eq!(mask, &[true, false, true]);
}

#[test]
fn global_footprint_is_declared_countries_then_row() {
    let text = shock(&[("countries = [\"CN\"]", "global = true")]);
    let m = compile_ok(&text);
    assert!(m.shocks[0].global);
    assert_eq!(m.shocks[0].footprint, [0, 1, 2]);
}

#[test]
fn region_footprint_is_its_countries_in_declaration_order() {
    let text = with(&[
        "\n[[country]]\nid = \"NZ\"\nname = \"New Zealand\"\nregion = \"oceania\"\n",
        &edit(SHOCK, &[("countries = [\"CN\"]", "region = \"oceania\"")]),
    ]);
    let m = compile_ok(&text);
    assert_eq!(m.shocks[0].footprint, [1, 2]);
    assert!(!m.shocks[0].global);
}

#[test]
fn multipliers_match_by_shock_kind_and_countries() {
    let text = with(&[
        SHOCK,
        BAN,
        &edit(
            SHOCK,
            &[
                ("id = \"s1\"", "id = \"g1\""),
                ("countries = [\"CN\"]", "global = true"),
            ],
        ),
        &edit(
            SHOCK,
            &[
                ("id = \"s1\"", "id = \"au\""),
                ("countries = [\"CN\"]", "countries = [\"AU\"]"),
            ],
        ),
        r#"
[[regime]]
id = "tension"
probability = 0.3
multipliers = [
  { kind = "export_ban", countries = ["CN"], factor = 3.0 },
  { countries = ["CN"], factor = 2.0 },
  { shock = "au", factor = 5.0 },
]
"#,
    ]);
    let m = compile_ok(&text);
    let f: Vec<(&str, f64)> = m
        .shocks
        .iter()
        .zip(&m.regimes[0].factors)
        .map(|(s, &f)| (s.id.as_str(), f))
        .collect();
    // s1 (CN conflict): 2; b1 (CN ban): 3 * 2; g1 (global): the countries
    // multiplier matches a global shock, kind does not: 2; au: 5.
    assert_eq!(f, [("s1", 2.0), ("b1", 6.0), ("g1", 2.0), ("au", 5.0)]);
}

#[test]
fn stage_subset_applies_to_commodities_that_have_it() {
    // `mining` exists for cobalt only: the shock acts on cobalt's mining
    // stage and leaves gallium (stage `production`) alone.
    let text = with(&[
        "\n[[commodity]]\nid = \"gallium\"\nname = \"Gallium\"\n[commodity.producers.production]\nCN = 0.9\n",
        &edit(
            SHOCK,
            &[(
                "kind = \"conflict\"",
                "kind = \"conflict\"\nstages = [\"mining\"]",
            )],
        ),
    ]);
    let m = compile_ok(&text);
    let effects = &m.shocks[0].effects;
    assert_eq!(effects.len(), 1, "{effects:?}");
    let Effect::Output { commodity, hits } = &effects[0] else {
        panic!("output effect expected")
    };
    assert_eq!(m.commodities[*commodity].id, "cobalt");
    assert!(hits.iter().all(|&(_, s, _)| s == 0), "{hits:?}");
}

// ---------------------------------------------------------------- docs

/// The ```toml blocks of docs/scenario-format.md.
fn doc_blocks() -> Vec<String> {
    let doc = include_str!("../docs/scenario-format.md");
    doc.split("```toml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_string())
        .collect()
}

#[test]
fn docs_example_is_valid_and_its_strategies_apply() {
    let blocks = doc_blocks();
    assert!(
        blocks.len() >= 2,
        "the doc has an example and a strategy snippet"
    );
    let m = compile_ok(&blocks[0]);
    assert_eq!(m.name, "gallium-demo");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(
        m.summary_line(),
        "1 commodity, 3 countries, 3 consumers, 2 shocks, 1 event, 1 alliance, 1 regime"
    );
    // The example's strategy and the §12 snippet patch the example into valid scenarios.
    let text = format!("{}\n{}", blocks[0], blocks[1]);
    let src = parse_bytes("doc.toml", text.as_bytes()).expect("parses");
    let strategies = src.strategies().expect("strategies apply");
    assert_eq!(strategies.len(), 2);
    for st in &strategies {
        if let Err(e) = Model::compile(&st.origin, &st.scenario) {
            panic!("strategy {}: {e}", st.id);
        }
    }
}

// ---------------------------------------------------------------- strategies (§6)

/// Applies the `[[strategy]]` tables of `BASE + strategies` and compiles each
/// patched scenario; `Err` is the first error message.
fn strategies(strategies: &str) -> Result<usize, String> {
    let text = format!("{BASE}\n{strategies}");
    let src = parse_bytes(FILE, text.as_bytes()).map_err(|e| e.to_string())?;
    let list = src.strategies().map_err(|e| e.to_string())?;
    for st in &list {
        Model::compile(&st.origin, &st.scenario).map_err(|e| e.to_string())?;
    }
    Ok(list.len())
}

fn strategy_rejected(text: &str, needles: &[&str]) {
    match strategies(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(msg) => {
            assert!(msg.starts_with(FILE), "{msg}");
            for n in needles {
                assert!(msg.contains(n), "{n:?} missing from:\n{msg}");
            }
        }
    }
}

#[test]
fn valid_strategy_patches_apply() {
    let two = "[[strategy]]\nid = \"stock\"\ncost_per_year = 1e6\n\
               [[strategy.consumer]]\nid = \"EU\"\nstockpile_months = { cobalt = 2.0 }\n\
               [[strategy]]\nid = \"surge\"\n\
               [[strategy.alliance]]\nid = \"new\"\nmembers = [\"EU\", \"AU\"]\nspare_capacity = 0.2\n";
    assert_eq!(strategies(two), Ok(2));
}

#[test]
fn duplicate_strategy_ids_are_rejected() {
    strategy_rejected(
        "[[strategy]]\nid = \"x\"\n[[strategy]]\nid = \"x\"\n",
        &["[[strategy]] id \"x\"", "field `id`", "declared twice"],
    );
}

#[test]
fn strategy_named_base_is_rejected() {
    strategy_rejected(
        "[[strategy]]\nid = \"base\"\n",
        &["[[strategy]] id \"base\"", "field `id`", "`base`"],
    );
}

#[test]
fn strategy_cannot_change_the_seed() {
    strategy_rejected(
        "[[strategy]]\nid = \"x\"\n[strategy.scenario]\nseed = 3\n",
        &["[[strategy]] id \"x\"", "scenario.seed", "cannot change"],
    );
}

#[test]
fn strategy_negative_cost_is_rejected() {
    strategy_rejected(
        "[[strategy]]\nid = \"x\"\ncost_per_year = -5.0\n",
        &["[[strategy]] id \"x\"", "field `cost_per_year`", ">= 0"],
    );
}

#[test]
fn strategy_unknown_key_is_rejected() {
    strategy_rejected(
        "[[strategy]]\nid = \"x\"\ncost = 5.0\n",
        &["[[strategy]] id \"x\"", "unknown field `cost`"],
    );
    strategy_rejected(
        "[[strategy]]\nid = \"x\"\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_monts = { cobalt = 1.0 }\n",
        &["[[strategy]] id \"x\"", "stockpile_monts"],
    );
}

#[test]
fn strategy_remove_of_missing_id_is_rejected() {
    strategy_rejected(
        "[[strategy]]\nid = \"x\"\n[[strategy.shock]]\nid = \"nope\"\nremove = true\n",
        &["[[strategy]] id \"x\"", "\"nope\"", "no such entry"],
    );
}

#[test]
fn patched_scenario_must_pass_every_rule() {
    strategy_rejected(
        "[[strategy]]\nid = \"x\"\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_months = { cobalt = -1.0 }\n",
        &[
            "[[consumer]] id \"EU\"",
            "field `stockpile_months.cobalt`",
            ">= 0",
        ],
    );
}
