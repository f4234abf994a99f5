//! The figures of a study page, drawn from its [`AllianceStudy`] alone: who
//! gains and who loses under each alliance strategy ([`super::gains`]), the
//! tornadoes of the alliance parameters ([`super::tornado`]) and the target
//! searches ([`super::sweep_grid`]). File stems carry the strategy, consumer
//! and commodity, so every figure of the page has a file of its own.

use super::Formats;
use super::gains::Gains;
use super::sweep::{SweepFigure, render};
use super::sweep_grid::SweepGrid;
use super::tornado::Tornado;
use crate::error::Error;
use crate::results::study::AllianceStudy;

/// Strategies drawn as who-gains figures.
pub const GAINS: [&str; 5] = [
    "no-alliances",
    "msp-only",
    "eu-partnerships-only",
    "msp-deepened",
    "fragmentation",
];
/// Commodities whose tornadoes are drawn.
pub const TORNADO_COMMODITIES: [&str; 3] = ["rare_earths", "gallium", "antimony"];

/// Members whose target searches are drawn.
pub const TARGET_FIGURES: [&str; 2] = ["EU", "JP"];

/// Stem of a who-gains figure.
pub fn gains_stem(strategy: &str) -> String {
    format!("gains-{strategy}")
}

/// Stem of a tornado figure.
pub fn tornado_stem(consumer: &str, commodity: &str) -> String {
    format!("tornado-{}-{commodity}", consumer.to_lowercase())
}

/// Stem of a target figure.
pub fn target_stem(consumer: &str, commodity: &str) -> String {
    format!("target-{}-{commodity}", consumer.to_lowercase())
}

/// Renders every figure of the study page.
pub fn render_all(study: &AllianceStudy, formats: Formats) -> Result<Vec<SweepFigure>, Error> {
    super::style::init_fonts()?;
    let mut out = Vec::new();
    for s in GAINS {
        let f = Gains {
            study,
            strategy: s,
            stem: gains_stem(s),
        };
        out.push(render(&f, formats)?);
    }
    for r in &study.tornadoes {
        for k in TORNADO_COMMODITIES
            .iter()
            .filter(|k| r.commodities.contains(&k.to_string()))
        {
            let f = Tornado {
                report: r,
                commodity: k,
                stem: tornado_stem(&r.consumer, k),
            };
            out.push(render(&f, formats)?);
        }
    }
    for r in study
        .targets
        .iter()
        .filter(|r| TARGET_FIGURES.contains(&r.consumer.as_str()))
    {
        let k = r.commodity.clone().unwrap_or_default();
        let mut fig = render(&SweepGrid { report: r }, formats)?;
        let stem = target_stem(&r.consumer, &k);
        for f in fig.files.iter_mut() {
            *f = f.replace(&fig.stem, &stem);
        }
        fig.stem = stem;
        out.push(fig);
    }
    Ok(out)
}
