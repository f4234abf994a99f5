//! The disruption record: a CSV of real events (`id,start,end,kind,countries,
//! commodities,note,source`) that `backtest` and `calibrate` hold a scenario
//! against.
//!
//! Reading checks every row against the scenario it will be compared with:
//! kinds are the four model kinds, countries and commodities are ids the
//! scenario declares (`*` alone means worldwide), dates are real calendar
//! dates and an event does not end before it starts. Every problem names the
//! file, the line and the field.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Error, InputErrors};
use crate::model::{Kind, Model};

/// The columns a record file must have (in any order; more are allowed).
pub const COLUMNS: [&str; 8] = [
    "id",
    "start",
    "end",
    "kind",
    "countries",
    "commodities",
    "note",
    "source",
];

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// Parses `YYYY-MM-DD`; the error is a reason in plain words.
    pub fn parse(s: &str) -> Result<Date, String> {
        let bad = || format!("\"{s}\" is not a date of the form YYYY-MM-DD");
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() != 3
            || parts[0].len() != 4
            || parts[1].len() != 2
            || parts[2].len() != 2
            || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let year: i32 = parts[0].parse().map_err(|_| bad())?;
        let month: u32 = parts[1].parse().map_err(|_| bad())?;
        let day: u32 = parts[2].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(format!("\"{s}\" is not a calendar date"));
        }
        Ok(Date { year, month, day })
    }
}

/// Where an event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `*`: a worldwide event, which meets every footprint.
    World,
    /// Scenario country ids.
    Countries(Vec<String>),
}

/// One event of the record.
#[derive(Debug, Clone)]
pub struct RecordEvent {
    pub id: String,
    /// Line of the file (1 = header).
    pub line: usize,
    pub start: Date,
    /// `None` while ongoing.
    pub end: Option<Date>,
    pub kind: Kind,
    pub place: Place,
    pub commodities: Vec<String>,
    pub note: String,
    pub source: String,
}

/// A whole record file.
#[derive(Debug, Clone)]
pub struct Record {
    /// How messages name the file.
    pub display: String,
    pub events: Vec<RecordEvent>,
}

impl Record {
    /// First and last start year, inclusive (`None` for an empty record).
    pub fn start_years(&self) -> Option<(i32, i32)> {
        let lo = self.events.iter().map(|e| e.start.year).min()?;
        let hi = self.events.iter().map(|e| e.start.year).max()?;
        Some((lo, hi))
    }
}

/// Reads a record file and checks it against `model`. I/O failures are exit 1,
/// bad content exit 2 (every problem listed).
pub fn load(path: &Path, model: &Model) -> Result<Record, Error> {
    let bytes = crate::error::read_input(path, "record file")?;
    parse(&path.display().to_string(), &bytes, model)
}

/// Parses record bytes; `display` names the file in messages.
pub fn parse(display: &str, bytes: &[u8], model: &Model) -> Result<Record, Error> {
    let mut errs = InputErrors::new(display);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(_) => {
            return Err(InputErrors::single(
                display,
                "line 1: the header is not valid UTF-8 CSV".into(),
            )
            .into());
        }
    };
    let col = columns(display, &header)?;
    let known = Known::new(model);
    let mut events = Vec::new();
    let mut ids = BTreeSet::new();
    for (i, row) in rdr.records().enumerate() {
        let line = i + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() as usize);
                errs.push(format!(
                    "line {line}: not a valid CSV row (bad quoting or not UTF-8)"
                ));
                continue;
            }
        };
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let line = row.position().map_or(line, |p| p.line() as usize);
        let field = |k: usize| row.get(col[k]).unwrap_or("").trim().to_string();
        let fields: Vec<String> = (0..8).map(field).collect();
        if row.len() != header.len() {
            errs.push(format!(
                "line {line}: has {} fields, the header has {}",
                row.len(),
                header.len()
            ));
            continue;
        }
        if let Some(ev) = parse_row(line, &fields, &known, &mut errs) {
            if !ids.insert(ev.id.clone()) {
                errs.push(format!(
                    "line {line}: field `id`: \"{}\" is used twice",
                    ev.id
                ));
            }
            events.push(ev);
        }
    }
    errs.into_result()?;
    Ok(Record {
        display: display.to_string(),
        events,
    })
}

/// Where each of [`COLUMNS`] is in the header; every missing one is reported.
fn columns(display: &str, header: &[String]) -> Result<[usize; 8], InputErrors> {
    let mut errs = InputErrors::new(display);
    if header.iter().all(|h| h.is_empty()) {
        errs.push("line 1: the file is empty (a header line is needed)".into());
        return Err(errs);
    }
    let mut col = [0usize; 8];
    for (i, name) in COLUMNS.iter().enumerate() {
        match header.iter().position(|h| h == name) {
            Some(p) => col[i] = p,
            None => errs.push(format!("line 1: column `{name}` is missing")),
        }
    }
    errs.into_result().map(|()| col)
}

/// The ids a record may name: the scenario's countries and commodities.
struct Known {
    countries: BTreeSet<String>,
    commodities: BTreeSet<String>,
}

impl Known {
    fn new(model: &Model) -> Known {
        Known {
            countries: model.countries.iter().map(|c| c.id.clone()).collect(),
            commodities: model.commodities.iter().map(|c| c.id.clone()).collect(),
        }
    }
}

/// Splits a `;`-separated list; each item must be in `known`.
fn id_list(
    line: usize,
    field: &str,
    value: &str,
    what: &str,
    known: &BTreeSet<String>,
    errs: &mut InputErrors,
) -> Option<Vec<String>> {
    let items: Vec<String> = value
        .split(';')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        errs.push(format!("line {line}: field `{field}`: is empty"));
        return None;
    }
    let mut ok = true;
    let mut seen = BTreeSet::new();
    for it in &items {
        if !known.contains(it) {
            errs.push(format!(
                "line {line}: field `{field}`: {what} \"{it}\" is not declared in the scenario"
            ));
            ok = false;
        } else if !seen.insert(it) {
            errs.push(format!(
                "line {line}: field `{field}`: lists \"{it}\" twice"
            ));
            ok = false;
        }
    }
    ok.then_some(items)
}

fn parse_row(
    line: usize,
    f: &[String],
    known: &Known,
    errs: &mut InputErrors,
) -> Option<RecordEvent> {
    let before = errs.problems.len();
    let id = f[0].clone();
    if !crate::model::valid_id(&id) {
        errs.push(format!(
            "line {line}: field `id`: \"{id}\" must match [A-Za-z0-9_.-]+"
        ));
    }
    let date = |name: &str, s: &str, errs: &mut InputErrors| match Date::parse(s) {
        Ok(d) => Some(d),
        Err(reason) => {
            errs.push(format!("line {line}: field `{name}`: {reason}"));
            None
        }
    };
    let start = date("start", &f[1], errs);
    let end = if f[2].is_empty() {
        Some(None)
    } else {
        date("end", &f[2], errs).map(Some)
    };
    if let (Some(s), Some(Some(e))) = (start, end)
        && e < s
    {
        errs.push(format!(
            "line {line}: field `end`: {e} is before the start {s}"
        ));
    }
    let kind = Kind::parse(&f[3]);
    if kind.is_none() {
        errs.push(format!(
            "line {line}: field `kind`: \"{}\" is not one of conflict, disaster, nationalism, export_ban",
            f[3]
        ));
    }
    let place = if f[4] == "*" {
        Some(Place::World)
    } else {
        id_list(line, "countries", &f[4], "country", &known.countries, errs).map(Place::Countries)
    };
    let commodities = id_list(
        line,
        "commodities",
        &f[5],
        "commodity",
        &known.commodities,
        errs,
    );
    if errs.problems.len() > before {
        return None;
    }
    Some(RecordEvent {
        id,
        line,
        start: start?,
        end: end?,
        kind: kind?,
        place: place?,
        commodities: commodities?,
        note: f[6].clone(),
        source: f[7].clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            Date::parse("2024-02-29").unwrap(),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2023-13-01").is_err());
        assert!(Date::parse("2023-1-01").is_err());
        assert!(Date::parse("01/02/2023").is_err());
        assert!(Date::parse("").is_err());
    }
}
