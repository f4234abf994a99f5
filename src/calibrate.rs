//! `calibrate`: sets each shock's rate to the Jeffreys posterior of its count
//! in the record, editing the scenario text in place (toml_edit): comments,
//! order and layout are kept, and a second calibrate changes nothing.
//!
//! With n matched events in Y years and m the shock's regime-averaged
//! multiplier, the rate becomes
//! `{ dist = "gamma", shape = n + 0.5, scale = 1 / (Y * m) }`, so that the
//! mean events per year, (n + 0.5) / Y, already counts the regimes. A comment
//! above the rate names the matched events.

use toml_edit::{DocumentMut, InlineTable, Item, Key, Table, Value};

use crate::backtest::Backtest;

/// Prefix of the comment line `calibrate` writes (and replaces).
pub const MARK: &str = "# calibrated on";

/// The posterior rate of one shock.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    pub id: String,
    pub shape: f64,
    pub scale: f64,
    pub comment: String,
}

/// Rounds to 6 significant digits, so files stay readable and a second
/// calibrate writes the same digits.
pub fn round6(x: f64) -> f64 {
    format!("{x:.5e}").parse().unwrap_or(x)
}

/// The posterior of every shock of a backtest. A shock whose regime-averaged
/// multiplier is 0 cannot be calibrated: its id is returned as an error.
pub fn posteriors(bt: &Backtest) -> Result<Vec<Posterior>, String> {
    let y = bt.years.count as f64;
    bt.shocks
        .iter()
        .map(|s| {
            if s.regime_multiplier <= 0.0 {
                return Err(format!(
                    "[[shock]] id \"{}\": its regime-averaged multiplier is 0, so no rate reproduces the record",
                    s.id
                ));
            }
            let ids = if s.matched.is_empty() {
                "none".to_string()
            } else {
                s.matched.join(", ")
            };
            Ok(Posterior {
                id: s.id.clone(),
                shape: s.observed as f64 + 0.5,
                scale: round6(1.0 / (y * s.regime_multiplier)),
                comment: format!(
                    "{MARK} {} {}-{} ({} years, regime-averaged multiplier {}): {} event{}: {ids}",
                    bt.record_name(),
                    bt.years.from,
                    bt.years.to,
                    bt.years.count,
                    round6(s.regime_multiplier),
                    s.observed,
                    if s.observed == 1 { "" } else { "s" }
                ),
            })
        })
        .collect()
}

fn gamma_value(p: &Posterior) -> Value {
    let mut t = InlineTable::new();
    t.insert("dist", "gamma".into());
    t.insert("shape", p.shape.into());
    t.insert("scale", p.scale.into());
    t.fmt();
    let mut v = Value::InlineTable(t);
    v.decor_mut().set_prefix(" ");
    v
}

/// The key's comment block with any earlier calibrate line replaced by `line`.
fn with_comment(prefix: &str, line: &str) -> String {
    let mut out: String = prefix
        .split_inclusive('\n')
        .filter(|l| !l.trim_start().starts_with(MARK))
        .collect();
    out.push_str(line);
    out.push('\n');
    out
}

/// Sets `rate_per_year` of one `[[shock]]` table (replacing
/// `probability_per_year` in place), with the comment above it.
fn set_rate(table: &mut Table, p: &Posterior) {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    let has_rate = keys.iter().any(|k| k == "rate_per_year");
    let mut entries: Vec<(Key, Item)> = Vec::new();
    for k in &keys {
        let Some((key, item)) = table.get_key_value(k) else {
            continue;
        };
        let (mut key, mut item) = (key.clone(), item.clone());
        let replace = k == "rate_per_year" || (!has_rate && k == "probability_per_year");
        if replace {
            let prefix = key
                .leaf_decor()
                .prefix()
                .and_then(|r| r.as_str())
                .unwrap_or("")
                .to_string();
            key = Key::new("rate_per_year");
            key.leaf_decor_mut()
                .set_prefix(with_comment(&prefix, &p.comment));
            key.leaf_decor_mut().set_suffix(" ");
            let suffix = item
                .as_value()
                .and_then(|v| v.decor().suffix())
                .and_then(|r| r.as_str())
                .unwrap_or("")
                .to_string();
            let mut v = gamma_value(p);
            v.decor_mut().set_suffix(suffix);
            item = Item::Value(v);
        } else if k == "probability_per_year" {
            continue;
        }
        entries.push((key, item));
    }
    table.clear();
    for (k, v) in entries {
        table.insert_formatted(&k, v);
    }
}

/// Rewrites the scenario `text` with the posteriors. Errors name a shock that
/// is not written as a `[[shock]]` table.
pub fn apply(text: &str, posts: &[Posterior]) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    let shocks = doc
        .get_mut("shock")
        .and_then(|i| i.as_array_of_tables_mut());
    let Some(shocks) = shocks else {
        return if posts.is_empty() {
            Ok(text.to_string())
        } else {
            Err("shocks must be written as [[shock]] tables to be calibrated".into())
        };
    };
    for p in posts {
        let table = shocks
            .iter_mut()
            .find(|t| t.get("id").and_then(|v| v.as_str()) == Some(p.id.as_str()))
            .ok_or_else(|| {
                format!(
                    "[[shock]] id \"{}\": not written as a [[shock]] table",
                    p.id
                )
            })?;
        set_rate(table, p);
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# head comment
[scenario]
name = "t"

[[shock]]
id = "a"   # trailing
kind = "conflict"
# the rate, counted by hand
rate_per_year = 0.1  # old basis
severity = 0.5

[[shock]]
id = "b"
kind = "disaster"
probability_per_year = 0.05
# after the probability
duration_months = 1.0
"#;

    fn posts() -> Vec<Posterior> {
        vec![
            Posterior {
                id: "a".into(),
                shape: 2.5,
                scale: round6(1.0 / 48.0),
                comment: format!("{MARK} r.csv: 2 events: x, y"),
            },
            Posterior {
                id: "b".into(),
                shape: 0.5,
                scale: 0.0625,
                comment: format!("{MARK} r.csv: 0 events: none"),
            },
        ]
    }

    #[test]
    fn keeps_comments_replaces_rates_and_is_idempotent() {
        let once = apply(TEXT, &posts()).unwrap();
        let twice = apply(&once, &posts()).unwrap();
        assert_eq!(once, twice);
        for kept in [
            "# head comment",
            "id = \"a\"   # trailing",
            "# the rate, counted by hand",
            "# after the probability",
        ] {
            assert!(once.contains(kept), "lost {kept:?}:\n{once}");
        }
        assert!(!once.contains("probability_per_year"), "{once}");
        assert!(
            once.contains(
                "# the rate, counted by hand\n# calibrated on r.csv: 2 events: x, y\nrate_per_year = { dist = \"gamma\", shape = 2.5, scale = 0.0208333 }  # old basis\n"
            ),
            "{once}"
        );
        // `b`'s rate took the place of its probability, before `duration_months`.
        let b = &once[once.find("id = \"b\"").unwrap()..];
        assert!(b.find("rate_per_year").unwrap() < b.find("duration_months").unwrap());
        let doc: toml_edit::DocumentMut = once.parse().unwrap();
        let rate = &doc["shock"][0]["rate_per_year"];
        assert_eq!(rate["shape"].as_float(), Some(2.5));
        assert_eq!(rate["dist"].as_str(), Some("gamma"));
    }

    #[test]
    fn round6_keeps_six_digits() {
        assert_eq!(round6(1.0 / 48.0), 0.0208333);
        assert_eq!(round6(round6(1.0 / 3.0)), round6(1.0 / 3.0));
    }
}
