//! The concentration table of `crmsim inspect` (the figures themselves are
//! computed in [`crate::results::concentration`]).

use std::fmt::Write;

pub use crate::results::concentration::{
    CRMA_LIMIT, ProducerShare, StageConcentration, concentration,
};

/// The concentration table as text.
pub fn render(rows: &[StageConcentration]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<11} {:>7} {:>6} {:>7} {:>7} {:>6} {:>8}  flag",
        "commodity", "stage", "HHI", "top", "share", "top-3", "ROW", "HHI-gov"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<14} {:<11} {:>7.0} {:>6} {:>6.1}% {:>6.1}% {:>5.1}% {:>8}  {}",
            r.commodity,
            r.stage,
            r.hhi,
            r.top_producer.as_deref().unwrap_or("-"),
            r.top_share * 100.0,
            r.top3_share * 100.0,
            r.row_share * 100.0,
            r.hhi_governance
                .map(|g| format!("{g:.0}"))
                .unwrap_or_else(|| "n/a".into()),
            if r.over_65 { ">65% (CRMA)" } else { "" }
        );
    }
    let _ = writeln!(
        out,
        "\nHHI over listed producers (0-10,000; ROW left out). HHI-gov weights each share^2 by (2.5 - governance)/5.\n\
         Flag: one country holds more than 65% of the stage (EU Critical Raw Materials Act benchmark)."
    );
    out
}
