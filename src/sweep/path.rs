//! PATHs of `sweep`: one number of a scenario, named
//! `<table>.<id>.<field>[.<key>...]`, and points: the base scenario patched
//! with values for some PATHs, by the strategy patch machinery
//! (docs/model.md §6).
//!
//! A PATH is resolved against the raw TOML of the base scenario. Ids and keys
//! may themselves contain dots, so at every level the longest run of segments
//! that names an existing id or key is taken. A missing last key (a stockpile
//! not yet declared, an alliance without `spare_capacity`) is created; the
//! rules of the model then decide whether the patched scenario is valid.

use serde::Deserialize;

use crate::scenario::{self, Scenario, Source};

/// Most dot-separated parts of a PATH: ids of at most 64 characters may hold
/// dots, yet no real PATH comes near; a longer one is refused before it is
/// resolved (resolving is quadratic in the parts, patching recursive).
const MAX_PARTS: usize = 100;

/// Table kinds whose numbers a PATH may name.
pub const TABLES: [&str; 7] = [
    "country",
    "consumer",
    "commodity",
    "shock",
    "event",
    "regime",
    "alliance",
];

/// A resolved PATH: the table kind, the id of the entry, the keys below it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamPath {
    /// The PATH as the user wrote it.
    pub text: String,
    pub table: String,
    pub id: String,
    /// Keys (and 1-based array positions) from the entry down to the number.
    pub keys: Vec<String>,
    /// The number in the base scenario; `None` where the key is absent (the
    /// model's default applies).
    pub base: Option<f64>,
}

impl std::fmt::Display for ParamPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The index of the longest prefix of `segs` that, joined by dots, satisfies `found`.
fn longest(segs: &[&str], found: impl Fn(&str) -> bool) -> Option<usize> {
    (1..=segs.len())
        .rev()
        .find(|&n| found(&segs[..n].join(".")))
}

fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) | toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "true/false",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

fn dist_params(t: &toml::Table) -> String {
    let kind = t.get("dist").and_then(|v| v.as_str()).unwrap_or("?");
    let params: Vec<&str> = t
        .keys()
        .filter(|k| k.as_str() != "dist")
        .map(String::as_str)
        .collect();
    format!(
        "a `{kind}` distribution (parameters: {})",
        params.join(", ")
    )
}

impl ParamPath {
    /// Parses and resolves `text` against the base scenario's raw TOML.
    /// Errors say, in plain words, what is wrong with the PATH.
    pub fn resolve(text: &str, raw: &toml::Table) -> Result<ParamPath, String> {
        let segs: Vec<&str> = text.split('.').collect();
        if segs.len() > MAX_PARTS {
            return Err(format!(
                "has {} parts; a PATH has at most {MAX_PARTS} (<table>.<id>.<field>[.<key>])",
                segs.len()
            ));
        }
        if segs.iter().any(|s| s.is_empty()) {
            return Err("must be <table>.<id>.<field>[.<key>], with no empty part".into());
        }
        let table = segs[0];
        if table == "scenario" {
            return Err("the [scenario] header cannot be varied (horizon, trials and seed are fixed for a run)".into());
        }
        if !TABLES.contains(&table) {
            return Err(format!(
                "unknown table `{table}` (expected one of {})",
                TABLES.join(", ")
            ));
        }
        let entries: Vec<&toml::Table> = match raw.get(table) {
            Some(toml::Value::Array(a)) => a.iter().filter_map(|v| v.as_table()).collect(),
            _ => Vec::new(),
        };
        let id_of = |t: &toml::Table| t.get("id").and_then(|v| v.as_str()).map(str::to_string);
        let ids: Vec<String> = entries.iter().filter_map(|t| id_of(t)).collect();
        let rest = &segs[1..];
        let n = longest(rest, |s| ids.iter().any(|i| i == s)).ok_or_else(|| {
            let first = rest.first().copied().unwrap_or("");
            if ids.is_empty() {
                format!("the scenario has no [[{table}]] tables")
            } else {
                format!(
                    "no [[{table}]] with id \"{first}\" (ids: {})",
                    ids.join(", ")
                )
            }
        })?;
        let id = rest[..n].join(".");
        let entry = entries
            .iter()
            .find(|t| id_of(t).as_deref() == Some(id.as_str()))
            .ok_or("internal: id vanished")?;
        let below = &rest[n..];
        if below.is_empty() {
            return Err(format!(
                "names the whole [[{table}]] \"{id}\": add the field, e.g. {table}.{id}.<field>"
            ));
        }
        let (keys, base) = navigate(entry, below)?;
        if matches!(keys[0].as_str(), "id" | "name") {
            return Err(format!("`{}` is not a number", keys[0]));
        }
        Ok(ParamPath {
            text: text.to_string(),
            table: table.to_string(),
            id,
            keys,
            base,
        })
    }
}

/// Walks `segs` down from an entry; returns the keys and the number found.
fn navigate(entry: &toml::Table, segs: &[&str]) -> Result<(Vec<String>, Option<f64>), String> {
    let mut keys: Vec<String> = Vec::new();
    let mut here: Option<&toml::Value> = None; // None: at the entry itself
    let mut i = 0;
    while i < segs.len() {
        let done = keys.join(".");
        let table = match here {
            None => Some(entry),
            Some(toml::Value::Table(t)) => Some(t),
            Some(_) => None,
        };
        if let Some(t) = table {
            match longest(&segs[i..], |s| t.contains_key(s)) {
                Some(n) => {
                    let key = segs[i..i + n].join(".");
                    here = t.get(&key);
                    keys.push(key);
                    i += n;
                }
                None if t.contains_key("dist") => {
                    return Err(format!(
                        "`{done}` is {}: it has no parameter `{}`",
                        dist_params(t),
                        segs[i]
                    ));
                }
                None => {
                    // Absent: created with the rest of the PATH as nested keys.
                    keys.extend(segs[i..].iter().map(|s| s.to_string()));
                    return Ok((keys, None));
                }
            }
            continue;
        }
        match here {
            Some(toml::Value::Array(a)) => {
                let pos: usize = segs[i]
                    .parse()
                    .ok()
                    .filter(|&p| p >= 1 && p <= a.len())
                    .ok_or_else(|| {
                        format!(
                            "`{done}` is a list of {}: name an entry by its position 1..={}",
                            a.len(),
                            a.len()
                        )
                    })?;
                here = a.get(pos - 1);
                keys.push(segs[i].to_string());
                i += 1;
            }
            Some(v) => {
                return Err(format!(
                    "`{done}` is {}, which has no part `{}`",
                    type_name(v),
                    segs[i..].join(".")
                ));
            }
            None => unreachable!("the entry is a table"),
        }
    }
    leaf(keys, here)
}

/// The number at the end of a PATH (absent: `None`), or why it is not one.
fn leaf(
    keys: Vec<String>,
    here: Option<&toml::Value>,
) -> Result<(Vec<String>, Option<f64>), String> {
    match here {
        Some(toml::Value::Integer(n)) => Ok((keys, Some(*n as f64))),
        Some(toml::Value::Float(f)) => Ok((keys, Some(*f))),
        Some(toml::Value::Table(t)) if t.contains_key("dist") => Err(format!(
            "`{}` is {}: vary one of its parameters",
            keys.join("."),
            dist_params(t)
        )),
        Some(v) => Err(format!(
            "`{}` is {}, not a number",
            keys.join("."),
            type_name(v)
        )),
        None => Ok((keys, None)),
    }
}

/// Sets `keys` (creating missing tables) to `value` inside `v`.
fn set(v: &mut toml::Value, keys: &[String], value: f64) -> Result<(), String> {
    let Some((first, rest)) = keys.split_first() else {
        *v = toml::Value::Float(value);
        return Ok(());
    };
    match v {
        toml::Value::Table(t) => {
            let child = t
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            set(child, rest, value)
        }
        toml::Value::Array(a) => {
            let pos: usize = first.parse().map_err(|_| "bad list position".to_string())?;
            let child = a.get_mut(pos - 1).ok_or("list position out of range")?;
            set(child, rest, value)
        }
        _ => Err(format!("cannot set `{first}` inside a number")),
    }
}

/// The base scenario with each PATH set to its value: each setting is a
/// patch `{ id, <field> = ... }` merged into the scenario as a strategy's
/// `[[strategy.<table>]]` entry is.
pub fn patch(source: &Source, sets: &[(&ParamPath, f64)]) -> Result<Scenario, String> {
    let mut merged = source.raw.clone();
    merged.remove("strategy");
    for (p, value) in sets {
        // The field's current value (after earlier settings), changed at the leaf.
        let field = &p.keys[0];
        let current = merged
            .get(&p.table)
            .and_then(|v| v.as_array())
            .and_then(|a| {
                a.iter()
                    .find(|e| e.get("id").and_then(|x| x.as_str()) == Some(p.id.as_str()))
            })
            .and_then(|e| e.get(field))
            .cloned();
        let mut value_of_field = current.unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
        set(&mut value_of_field, &p.keys[1..], *value).map_err(|e| format!("{p}: {e}"))?;
        let mut entry = toml::Table::new();
        entry.insert("id".into(), toml::Value::String(p.id.clone()));
        entry.insert(field.clone(), value_of_field);
        scenario::merge_entry(&mut merged, &p.table, toml::Value::Table(entry))
            .map_err(|e| format!("{p}: {e}"))?;
    }
    Scenario::deserialize(toml::Value::Table(merged))
        .map_err(|e| e.to_string().trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[scenario]
name = "t"
[[country]]
id = "CN"
name = "China"
[[consumer]]
id = "EU"
name = "EU"
demand_share = { a = 0.5 }
[[commodity]]
id = "a"
name = "A"
stages = ["mining", "refining"]
[commodity.producers.mining]
CN = 0.5
[commodity.producers.refining]
CN = 0.7
[[shock]]
id = "s.1"
kind = "conflict"
global = true
rate_per_year = 0.1
severity = { dist = "beta", alpha = 2.0, beta = 3.0 }
duration_months = 2.0
[[shock]]
id = "quake"
kind = "disaster"
global = true
rate_per_year = { dist = "gamma", shape = 3.5, scale = 0.0625 }
severity = 0.3
duration_months = 1.0
[[regime]]
id = "hot"
probability = 0.2
multipliers = [ { kind = "conflict", factor = 3.0 } ]
"#;

    fn src() -> Source {
        scenario::parse_bytes("t.toml", BASE.as_bytes()).unwrap()
    }

    #[test]
    fn resolves_dotted_ids_dist_params_lists_and_absent_keys() {
        let s = src();
        let p = ParamPath::resolve("shock.s.1.severity.alpha", &s.raw).unwrap();
        assert_eq!((p.id.as_str(), p.base), ("s.1", Some(2.0)));
        let p = ParamPath::resolve("regime.hot.multipliers.1.factor", &s.raw).unwrap();
        assert_eq!(p.base, Some(3.0));
        let p = ParamPath::resolve("consumer.EU.stockpile_months.a", &s.raw).unwrap();
        assert_eq!(p.base, None);
        let p = ParamPath::resolve("commodity.a.producers.refining.CN", &s.raw).unwrap();
        assert_eq!(p.base, Some(0.7));
    }

    /// Model v2 numbers: an uncertain rate's parameters, midstream buffers.
    #[test]
    fn uncertain_rates_and_buffers_are_paths() {
        let s = src();
        let shape = ParamPath::resolve("shock.quake.rate_per_year.shape", &s.raw).unwrap();
        assert_eq!(shape.base, Some(3.5));
        let err = ParamPath::resolve("shock.quake.rate_per_year", &s.raw).unwrap_err();
        assert!(
            err.contains("`gamma` distribution") && err.contains("scale, shape"),
            "{err}"
        );
        let rate = ParamPath::resolve("shock.s.1.rate_per_year", &s.raw).unwrap();
        assert_eq!(rate.base, Some(0.1));
        let buf = ParamPath::resolve("commodity.a.buffer_months.mining", &s.raw).unwrap();
        assert_eq!(buf.base, None);
        let sc = patch(&s, &[(&shape, 7.0), (&buf, 1.5), (&rate, 0.4)]).unwrap();
        assert_eq!(sc.commodity[0].buffer_months["mining"], 1.5);
        let m = crate::model::Model::compile("t.toml", &sc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.shocks.len(), 2);
        // a buffer on the final stage breaks a rule of the model
        let last = ParamPath::resolve("commodity.a.buffer_months.refining", &s.raw).unwrap();
        let sc = patch(&s, &[(&last, 1.0)]).unwrap();
        let err = crate::model::Model::compile("t.toml", &sc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("buffer_months"), "{err}");
    }

    #[test]
    fn patch_changes_only_the_leaf() {
        let s = src();
        let a = ParamPath::resolve("shock.s.1.severity.alpha", &s.raw).unwrap();
        let b = ParamPath::resolve("shock.s.1.severity.beta", &s.raw).unwrap();
        let sc = patch(&s, &[(&a, 4.0), (&b, 5.0)]).unwrap();
        let crate::scenario::DistSpec::Table(t) = &sc.shock[0].severity else {
            panic!("table expected")
        };
        assert_eq!(t["alpha"].as_float(), Some(4.0));
        assert_eq!(t["beta"].as_float(), Some(5.0));
        assert_eq!(t["dist"].as_str(), Some("beta"));
        let p = ParamPath::resolve("consumer.EU.stockpile_months.a", &s.raw).unwrap();
        let sc = patch(&s, &[(&p, 2.5)]).unwrap();
        assert_eq!(sc.consumer[0].stockpile_months["a"], 2.5);
        assert_eq!(sc.consumer[0].demand_share["a"], 0.5);
    }

    #[test]
    fn errors_name_the_problem() {
        let s = src();
        let err = |t: &str| ParamPath::resolve(t, &s.raw).unwrap_err();
        assert!(err("shock.nope.rate_per_year").contains("no [[shock]] with id \"nope\""));
        assert!(err("sock.s.1.rate_per_year").contains("unknown table `sock`"));
        assert!(err("shock.s.1.severity").contains("vary one of its parameters"));
        assert!(err("shock.s.1.severity.mode").contains("no parameter `mode`"));
        assert!(err("shock.s.1.severity.dist").contains("a string"));
        assert!(err("shock.s.1.duration_months.median").contains("a number, which has no part"));
        assert!(err("shock.s.1.kind").contains("not a number"));
        assert!(err("regime.hot.multipliers.2.factor").contains("position 1..=1"));
        assert!(err("scenario.horizon_months").contains("header"));
        assert!(err("shock..x").contains("no empty part"));
        assert!(err("shock.s.1").contains("add the field"));
        assert!(err("consumer.EU.name").contains("not a number"));
    }
}
