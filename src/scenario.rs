//! The scenario file as written: serde types that mirror docs/model.md §1 one to one,
//! plus the strategy patching of §6 (which works on raw TOML tables).
//!
//! Nothing here checks meaning (shares summing to one, ids being declared, ...):
//! that is [`crate::model`]'s job. This module only guarantees that the file is
//! valid TOML with no unknown keys and values of the right TOML type.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, InputErrors};

/// The scenario file bundled into the binary (also `scenarios/baseline.toml`).
pub const BASELINE_TOML: &str = include_str!("../scenarios/baseline.toml");
/// Display name of the bundled scenario.
pub const BASELINE_NAME: &str = "scenarios/baseline.toml (built in)";

/// Most strategies one run or comparison takes, over all its files: each
/// keeps aggregates of its own in memory while the trials run (on the bundled
/// baseline, about 3 MB, and up to about 35 MB at 100,000 trials for one that
/// changes every material), so 100 stay within a few GB.
pub const MAX_STRATEGIES: usize = 100;

/// Why more than [`MAX_STRATEGIES`] strategies are refused, and what to do.
pub fn too_many_strategies() -> String {
    format!(
        "a run or comparison takes at most {MAX_STRATEGIES} strategies (each keeps its own \
         aggregates in memory): split them over several runs with the same seed, where every \
         strategy meets the same random draws, so their results compare directly"
    )
}

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub scenario: Header,
    #[serde(default)]
    pub country: Vec<Country>,
    #[serde(default)]
    pub consumer: Vec<Consumer>,
    #[serde(default)]
    pub commodity: Vec<Commodity>,
    #[serde(default)]
    pub shock: Vec<Shock>,
    #[serde(default)]
    pub event: Vec<Event>,
    #[serde(default)]
    pub regime: Vec<Regime>,
    #[serde(default)]
    pub alliance: Vec<Alliance>,
    /// Raw strategy patches (§6); see [`Source::strategies`].
    #[serde(default)]
    pub strategy: Vec<toml::Table>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: String,
    pub title: Option<String>,
    pub horizon_months: Option<i64>,
    pub trials: Option<i64>,
    pub seed: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    pub id: String,
    pub name: String,
    pub region: Option<String>,
    pub governance: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub demand_share: BTreeMap<String, f64>,
    #[serde(default)]
    pub recycling_share: BTreeMap<String, f64>,
    #[serde(default)]
    pub stockpile_months: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commodity {
    pub id: String,
    pub name: String,
    pub annual_demand: Option<f64>,
    pub stages: Option<Vec<String>>,
    /// Midstream stocks of upstream stages' output, months of primary demand.
    #[serde(default)]
    pub buffer_months: BTreeMap<String, f64>,
    #[serde(default)]
    pub producers: BTreeMap<String, BTreeMap<String, f64>>,
}

/// A distribution spec: a bare number, or `{ dist = "...", ... }` (checked in `model`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DistSpec {
    Number(f64),
    Table(BTreeMap<String, toml::Value>),
}

/// `targets`: `"all"`, `"non_allies"` or a list of consumer ids.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Targets {
    Keyword(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shock {
    pub id: String,
    pub name: Option<String>,
    pub kind: String,
    pub countries: Option<Vec<String>>,
    pub region: Option<String>,
    pub global: Option<bool>,
    pub commodities: Option<Vec<String>>,
    pub stages: Option<Vec<String>>,
    /// A number, or a distribution spec for an uncertain rate (§3).
    pub rate_per_year: Option<DistSpec>,
    pub probability_per_year: Option<f64>,
    pub severity: DistSpec,
    pub duration_months: DistSpec,
    pub per_country: Option<String>,
    pub targets: Option<Targets>,
    pub leakage: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    pub name: Option<String>,
    pub kind: String,
    pub countries: Option<Vec<String>>,
    pub region: Option<String>,
    pub global: Option<bool>,
    pub commodities: Option<Vec<String>>,
    pub stages: Option<Vec<String>>,
    pub start_month: f64,
    pub duration_months: f64,
    pub severity: f64,
    pub per_country: Option<String>,
    pub targets: Option<Targets>,
    pub leakage: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    pub id: String,
    pub name: Option<String>,
    pub probability: f64,
    #[serde(default)]
    pub multipliers: Vec<Multiplier>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multiplier {
    pub shock: Option<String>,
    pub kind: Option<String>,
    pub countries: Option<Vec<String>>,
    pub factor: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alliance {
    pub id: String,
    pub name: Option<String>,
    pub members: Vec<String>,
    pub spare_capacity: Option<f64>,
    pub ramp_months: Option<f64>,
    pub diversion: Option<f64>,
}

/// A scenario file read from disk (or the bundled baseline): its name for
/// messages, its bytes' hash and its parsed content.
#[derive(Debug, Clone)]
pub struct Source {
    /// How messages name the file.
    pub display: String,
    pub sha256: String,
    pub raw: toml::Table,
    pub scenario: Scenario,
    /// The file's text (to place strategy errors at a line and column).
    pub text: String,
}

/// One strategy after patching: its id, label, cost and the patched scenario.
#[derive(Debug, Clone)]
pub struct StrategySource {
    pub id: String,
    pub name: Option<String>,
    pub cost_per_year: Option<f64>,
    /// Where the strategy was written (for messages).
    pub origin: String,
    pub scenario: Scenario,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Reads a scenario file from disk. I/O errors are [`Error::Io`]; bad content is
/// [`Error::Input`].
pub fn load(path: &Path) -> Result<Source, Error> {
    let bytes = crate::error::read_input(path, "scenario file")?;
    parse_bytes(&path.display().to_string(), &bytes)
}

/// Loads `path`, or the bundled baseline when `path` is `None`.
pub fn load_or_baseline(path: Option<&PathBuf>) -> Result<Source, Error> {
    match path {
        Some(p) => load(p),
        None => parse_bytes(BASELINE_NAME, BASELINE_TOML.as_bytes()),
    }
}

/// `bytes` as text; invalid UTF-8 is an input error naming the file.
fn utf8<'a>(display: &str, bytes: &'a [u8]) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes).map_err(|e| {
        InputErrors::single(
            display,
            format!(
                "file is not valid UTF-8 text (invalid byte at offset {}); save it as UTF-8",
                e.valid_up_to()
            ),
        )
        .into()
    })
}

/// Parses scenario bytes; `display` names the file in messages.
pub fn parse_bytes(display: &str, bytes: &[u8]) -> Result<Source, Error> {
    let text = utf8(display, bytes)?;
    let raw: toml::Table = toml::from_str(text).map_err(|e| toml_error(display, &e))?;
    if !raw.contains_key("scenario") && raw.contains_key("strategy") {
        return Err(InputErrors::single(
            display,
            format!(
                "this is a strategy file (only [[strategy]] tables), not a scenario; evaluate it with \
                 `crmsim compare SCENARIO --strategy {display}`"
            ),
        )
        .into());
    }
    let scenario: Scenario = toml::from_str(text).map_err(|e| toml_error(display, &e))?;
    Ok(Source {
        display: display.to_string(),
        sha256: sha256_hex(bytes),
        raw,
        scenario,
        text: text.to_string(),
    })
}

fn toml_error(display: &str, e: &toml::de::Error) -> Error {
    InputErrors::single(display, crate::error::plain(e.to_string().trim_end())).into()
}

/// Where `key` is written in `text` (a TOML key, as `key =` or `key.`), at
/// or after line `from` (0-based): "line L, column C".
fn locate(text: &str, key: &str, from: usize) -> Option<String> {
    for (n, line) in text.lines().enumerate().skip(from) {
        let mut start = 0;
        while let Some(i) = line[start..].find(key) {
            let at = start + i;
            let before = line[..at].chars().next_back();
            let after = line[at + key.len()..].trim_start().chars().next();
            let boundary = before.is_none_or(|c| c.is_whitespace() || c == '{' || c == ',');
            if boundary && matches!(after, Some('=') | Some('.')) {
                return Some(format!(
                    "line {}, column {}",
                    n + 1,
                    line[..at].chars().count() + 1
                ));
            }
            start = at + key.len();
        }
    }
    None
}

/// Array-of-tables kinds that strategies merge by `id` (§6).
const MERGED_ARRAYS: [&str; 7] = [
    "consumer",
    "commodity",
    "shock",
    "event",
    "alliance",
    "regime",
    "country",
];
/// Header keys a strategy may not change (§6).
const FROZEN_HEADER: [&str; 4] = ["name", "horizon_months", "trials", "seed"];

impl Source {
    /// The strategies written in this file, patched onto it.
    pub fn strategies(&self) -> Result<Vec<StrategySource>, Error> {
        let tables = self.scenario.strategy.clone();
        self.apply_strategies(&self.display, &self.text, tables)
    }

    /// Strategies from a separate file holding only `[[strategy]]` tables.
    pub fn strategies_from_file(&self, path: &Path) -> Result<Vec<StrategySource>, Error> {
        let display = path.display().to_string();
        let bytes = crate::error::read_input(path, "strategy file")?;
        self.strategies_from_bytes(&display, &bytes)
    }

    /// [`Source::strategies_from_file`] on the file's bytes; `display` names
    /// it in messages.
    pub fn strategies_from_bytes(
        &self,
        display: &str,
        bytes: &[u8],
    ) -> Result<Vec<StrategySource>, Error> {
        let display = display.to_string();
        let text = utf8(&display, bytes)?;
        if let Ok(t) = toml::from_str::<toml::Table>(text)
            && t.contains_key("scenario")
        {
            return Err(InputErrors::single(
                &display,
                "this is a scenario file, not a strategy file (which holds only [[strategy]] tables); \
                 give it as the scenario, or move its [[strategy]] tables into a file of their own"
                    .into(),
            )
            .into());
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct StrategyFile {
            #[serde(default)]
            strategy: Vec<toml::Table>,
        }
        let file: StrategyFile = toml::from_str(text).map_err(|e| toml_error(&display, &e))?;
        if file.strategy.is_empty() {
            return Err(InputErrors::single(&display, "holds no [[strategy]] table".into()).into());
        }
        self.apply_strategies(&display, text, file.strategy)
    }

    fn apply_strategies(
        &self,
        origin: &str,
        text: &str,
        tables: Vec<toml::Table>,
    ) -> Result<Vec<StrategySource>, Error> {
        if tables.len() > MAX_STRATEGIES {
            let why = format!(
                "holds {} strategies; {}",
                tables.len(),
                too_many_strategies()
            );
            return Err(InputErrors::single(origin, why).into());
        }
        let mut errors = InputErrors::new(origin);
        let mut out: Vec<StrategySource> = Vec::new();
        for (i, table) in tables.into_iter().enumerate() {
            match self.apply_one(origin, text, i, table) {
                // §1: ids are unique within their table kind.
                Ok(s) if out.iter().any(|o| o.id == s.id) => errors.push(format!(
                    "[[strategy]] id \"{}\": field `id`: is declared twice",
                    s.id
                )),
                Ok(s) => out.push(s),
                Err(msg) => errors.push(msg),
            }
        }
        errors.into_result()?;
        Ok(out)
    }

    fn apply_one(
        &self,
        origin: &str,
        text: &str,
        index: usize,
        mut table: toml::Table,
    ) -> Result<StrategySource, String> {
        let id = match table.remove("id") {
            Some(toml::Value::String(s)) => s,
            Some(_) => {
                return Err(format!(
                    "[[strategy]] #{}: field `id`: must be a string",
                    index + 1
                ));
            }
            None => return Err(format!("[[strategy]] #{}: field `id`: missing", index + 1)),
        };
        let here = format!("[[strategy]] id \"{id}\"");
        if !crate::model::valid_id(&id) || id == "base" {
            return Err(format!(
                "{here}: field `id`: must match [A-Za-z0-9_.-]+, not be `.`/`..` and not be `base`"
            ));
        }
        let name = match table.remove("name") {
            Some(toml::Value::String(s)) => Some(s),
            Some(_) => return Err(format!("{here}: field `name`: must be a string")),
            None => None,
        };
        let cost_per_year = match table.remove("cost_per_year") {
            Some(toml::Value::Float(f)) => Some(f),
            Some(toml::Value::Integer(i)) => Some(i as f64),
            Some(_) => return Err(format!("{here}: field `cost_per_year`: must be a number")),
            None => None,
        };
        if let Some(c) = cost_per_year
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(format!(
                "{here}: field `cost_per_year`: must be a finite number >= 0, got {}",
                crate::format::num(c)
            ));
        }
        let mut merged = self.raw.clone();
        merged.remove("strategy");
        for (key, value) in table {
            if key == "scenario" {
                let toml::Value::Table(patch) = value else {
                    return Err(format!("{here}: field `scenario`: must be a table"));
                };
                for k in patch.keys() {
                    if FROZEN_HEADER.contains(&k.as_str()) {
                        return Err(format!(
                            "{here}: field `scenario.{k}`: a strategy cannot change it"
                        ));
                    }
                }
                let base = merged
                    .entry("scenario")
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                merge_value(base, toml::Value::Table(patch));
            } else if MERGED_ARRAYS.contains(&key.as_str()) {
                let toml::Value::Array(patches) = value else {
                    return Err(format!(
                        "{here}: field `{key}`: must be an array of tables ([[strategy.{key}]])"
                    ));
                };
                let base = merged
                    .entry(key.clone())
                    .or_insert_with(|| toml::Value::Array(Vec::new()));
                let toml::Value::Array(items) = base else {
                    return Err(format!(
                        "{here}: field `{key}`: base scenario's `{key}` is not an array"
                    ));
                };
                for p in patches {
                    new_entry_named(&key, items, &p)
                        .and_then(|()| merge_by_id(items, p))
                        .map_err(|m| format!("{here}: [[strategy.{key}]]: {m}"))?;
                }
            } else {
                return Err(format!(
                    "{here}: unknown field `{key}` (expected id, name, cost_per_year, scenario, {})",
                    MERGED_ARRAYS.join(", ")
                ));
            }
        }
        let scenario = Scenario::deserialize(toml::Value::Table(merged)).map_err(|e| {
            let msg = crate::error::plain(e.to_string().trim_end()).replace('\n', " ");
            // Place an unknown key at its line in the strategy's file.
            let at = msg
                .split_once("unknown field `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .and_then(|(key, _)| {
                    let from = text
                        .lines()
                        .position(|l| l.contains(&format!("\"{id}\"")))
                        .unwrap_or(0);
                    locate(text, key, from)
                })
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!("{here}{at}: {msg}")
        })?;
        Ok(StrategySource {
            id,
            name,
            cost_per_year,
            origin: origin.to_string(),
            scenario,
        })
    }
}

/// Merges one patch `entry` (a table with an `id`) into the array of tables
/// `kind` of a raw scenario table, by the §6 rules strategies follow (used by
/// `sweep`, whose every point is such a patch).
pub fn merge_entry(raw: &mut toml::Table, kind: &str, entry: toml::Value) -> Result<(), String> {
    if !MERGED_ARRAYS.contains(&kind) {
        return Err(format!("`{kind}` is not a table kind a patch can change"));
    }
    let base = raw
        .entry(kind.to_string())
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    let toml::Value::Array(items) = base else {
        return Err(format!("the scenario's `{kind}` is not an array of tables"));
    };
    merge_by_id(items, entry)
}

/// True for a distribution spec table (`{ dist = ... }`), which patches replace whole.
fn is_dist_table(t: &toml::Table) -> bool {
    t.contains_key("dist")
}

/// §6 merge: tables merge recursively (keys replace); everything else replaces.
fn merge_value(base: &mut toml::Value, patch: toml::Value) {
    match (base, patch) {
        (toml::Value::Table(b), toml::Value::Table(p))
            if !is_dist_table(&p) && !is_dist_table(b) =>
        {
            for (k, v) in p {
                match b.get_mut(&k) {
                    Some(existing) => merge_value(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, p) => *b = p,
    }
}

/// Tables whose entries need a `name`: a patch whose id is not in the base
/// adds an entry, so it must say so rather than fail on a missing field.
const NAMED: [&str; 3] = ["consumer", "commodity", "country"];

/// A patch of `kind` for an id the base lacks must be a whole new entry
/// (with its `name`); else it is most likely a typo of an existing id.
fn new_entry_named(kind: &str, items: &[toml::Value], patch: &toml::Value) -> Result<(), String> {
    let Some(id) = patch.get("id").and_then(|v| v.as_str()) else {
        return Ok(());
    };
    let ids: Vec<&str> = items
        .iter()
        .filter_map(|v| v.get("id").and_then(|x| x.as_str()))
        .collect();
    let removing = patch.get("remove").and_then(|v| v.as_bool()) == Some(true);
    if ids.contains(&id) || removing || !NAMED.contains(&kind) || patch.get("name").is_some() {
        return Ok(());
    }
    Err(format!(
        "id \"{id}\": the base scenario has no {kind} \"{id}\" (it has {}); to add a new {kind}, give its `name` and fields",
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        }
    ))
}

/// Merges one patch entry into an array of tables by `id` (new ids append,
/// `remove = true` drops the entry).
fn merge_by_id(items: &mut Vec<toml::Value>, patch: toml::Value) -> Result<(), String> {
    let toml::Value::Table(mut p) = patch else {
        return Err("each entry must be a table".into());
    };
    let Some(toml::Value::String(id)) = p.get("id").cloned() else {
        return Err("each entry needs a string `id`".into());
    };
    let remove = match p.remove("remove") {
        None => false,
        Some(toml::Value::Boolean(b)) => b,
        Some(_) => {
            return Err(format!(
                "id \"{id}\": field `remove`: must be true or false"
            ));
        }
    };
    let pos = items
        .iter()
        .position(|v| v.get("id").and_then(|x| x.as_str()) == Some(id.as_str()));
    match (pos, remove) {
        (Some(i), true) => {
            items.remove(i);
        }
        (None, true) => {
            return Err(format!(
                "id \"{id}\": `remove = true` but no such entry in the base"
            ));
        }
        (Some(i), false) => merge_value(&mut items[i], toml::Value::Table(p)),
        (None, false) => items.push(toml::Value::Table(p)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[scenario]
name = "t"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { a = 0.5 }
stockpile_months = { a = 1.0 }
[[commodity]]
id = "a"
name = "A"
[commodity.producers.production]
[[shock]]
id = "s"
kind = "conflict"
global = true
rate_per_year = 0.1
severity = { dist = "beta", alpha = 2.0, beta = 3.0 }
duration_months = 2.0
"#;

    #[test]
    fn strategy_merges_by_id_and_replaces_dists_whole() {
        let text = format!(
            "{BASE}\n[[strategy]]\nid = \"x\"\ncost_per_year = 5\n[[strategy.consumer]]\nid = \"EU\"\nstockpile_months = {{ b = 2.0 }}\n[[strategy.shock]]\nid = \"s\"\nseverity = {{ dist = \"uniform\", min = 0.1, max = 0.2 }}\n[[strategy.shock]]\nid = \"s2\"\nkind = \"disaster\"\nglobal = true\nrate_per_year = 1.0\nseverity = 0.5\nduration_months = 1.0\n"
        );
        let src = parse_bytes("t.toml", text.as_bytes()).unwrap();
        let st = src.strategies().unwrap();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].cost_per_year, Some(5.0));
        let sc = &st[0].scenario;
        assert_eq!(sc.consumer[0].stockpile_months.len(), 2);
        assert_eq!(sc.shock.len(), 2);
        match &sc.shock[0].severity {
            DistSpec::Table(t) => {
                assert!(t.contains_key("min") && !t.contains_key("alpha"));
            }
            DistSpec::Number(_) => panic!("expected a table"),
        }
    }

    #[test]
    fn strategy_remove_and_frozen_header() {
        let text = format!(
            "{BASE}\n[[strategy]]\nid = \"x\"\n[[strategy.shock]]\nid = \"s\"\nremove = true\n"
        );
        let src = parse_bytes("t.toml", text.as_bytes()).unwrap();
        assert!(src.strategies().unwrap()[0].scenario.shock.is_empty());
        let text = format!("{BASE}\n[[strategy]]\nid = \"x\"\n[strategy.scenario]\nseed = 3\n");
        let src = parse_bytes("t.toml", text.as_bytes()).unwrap();
        let err = src.strategies().unwrap_err().to_string();
        assert!(
            err.contains("scenario.seed") && err.contains("cannot change"),
            "{err}"
        );
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = parse_bytes("bad.toml", b"[scenario]\nname = \n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_key_is_an_error() {
        let text = BASE.replace("rate_per_year = 0.1", "rate_per_yr = 0.1");
        let err = parse_bytes("u.toml", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("rate_per_yr"), "{err}");
    }
}
