//! The figures of `crmsim sweep`, drawn from its [`SweepReport`] alone (they
//! compute no statistics): `tornado[-<commodity>]` ([`super::tornado`]) and
//! `sweep-grid` or, for a target, `sweep-target` ([`super::sweep_grid`]).
//! Rendered in memory as SVG and PNG, written atomically into `figures/`.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, FigResult, Frame, Legend};
use super::{Formats, tornado};
use crate::error::Error;
use crate::results::sweep::SweepReport;

/// One rendered sweep figure.
#[derive(Debug, Clone)]
pub struct SweepFigure {
    /// File stem, e.g. `tornado-cobalt`.
    pub stem: String,
    pub title: String,
    /// How to read it.
    pub caption: String,
    pub size: (u32, u32),
    pub svg: String,
    pub png: Option<Vec<u8>>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
}

/// A sweep figure before rendering.
pub trait Draw {
    fn stem(&self) -> String;
    fn title(&self) -> String;
    fn caption(&self) -> String;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> FigResult
    where
        DB::ErrorType: 'static;
}

/// Whether a file name in `figures/` is one a sweep writes.
pub fn is_sweep_file(name: &str) -> bool {
    let stem = name
        .strip_suffix(".svg")
        .or_else(|| name.strip_suffix(".png"))
        .unwrap_or("");
    stem == "tornado"
        || stem.starts_with("tornado-")
        || stem == "sweep-grid"
        || stem == "sweep-target"
}

/// The frame of every sweep figure: title, scenario line, legend, source line.
pub fn frame<'l>(r: &SweepReport, title: String, legend: Option<&'l Legend>) -> Frame<'l> {
    let scenario = match &r.title {
        Some(t) if !t.trim().is_empty() => format!("{} ({})", t.trim(), r.scenario.name),
        _ => format!("Scenario {}", r.scenario.name),
    };
    Frame {
        title,
        subtitle: vec![scenario],
        legend,
        source: format!(
            "crmsim {} · scenario {} · seed {} · {} trials · {}-month horizon · common random numbers",
            r.crmsim_version,
            r.scenario.name,
            r.seed,
            style::thousands(r.trials),
            r.horizon_months
        ),
    }
}

/// "world mean shortfall of Cobalt": the quantity a figure shows.
pub fn quantity(r: &SweepReport, commodity: &str) -> String {
    format!(
        "{} of the {} {} shortfall",
        r.metric,
        r.consumer,
        r.name_of(commodity)
    )
}

/// Tick label of a metric value.
pub fn tick(r: &SweepReport, x: f64, span: f64) -> String {
    if r.metric == "months_short_mean" {
        format!("{x:.2}")
    } else {
        style::pct_tick(x, span)
    }
}

/// A number for labels: up to six decimals, trailing zeros dropped
/// (0.09999999999999998 shows as 0.1).
pub fn num(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 {
        return format!("{x:e}");
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn fig_err(stem: &str, e: impl std::fmt::Display) -> Error {
    Error::Other(format!("figure {stem}: {e}"))
}

/// Renders one figure in memory (SVG, and PNG when `formats` asks for it).
pub fn render<F: Draw>(f: &F, formats: Formats) -> Result<SweepFigure, Error> {
    let stem = f.stem();
    let size = f.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        f.draw(&root).map_err(|e| fig_err(&stem, e))?;
        root.present().map_err(|e| fig_err(&stem, e))?;
    }
    let png = if formats.png() {
        let mut buf = vec![255u8; size.0 as usize * size.1 as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
            f.draw(&root).map_err(|e| fig_err(&stem, e))?;
            root.present().map_err(|e| fig_err(&stem, e))?;
        }
        Some(encode_png(&buf, size).map_err(|e| fig_err(&stem, e))?)
    } else {
        None
    };
    let mut files = Vec::new();
    if formats.svg() {
        files.push(format!("figures/{stem}.svg"));
    }
    if formats.png() {
        files.push(format!("figures/{stem}.png"));
    }
    Ok(SweepFigure {
        title: f.title(),
        caption: f.caption(),
        stem,
        size,
        svg,
        png,
        files,
    })
}

fn encode_png(buf: &[u8], size: (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, size.0, size.1);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(buf)?;
        w.finish()?;
    }
    Ok(out)
}

/// A file-name-safe form of a commodity id.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Renders every figure of a sweep.
pub fn render_all(r: &SweepReport, formats: Formats) -> Result<Vec<SweepFigure>, Error> {
    style::init_fonts()?;
    let mut out = Vec::new();
    if r.tornado.is_some() {
        for k in &r.commodities {
            let stem = if r.commodities.len() == 1 {
                "tornado".to_string()
            } else {
                format!("tornado-{}", slug(k))
            };
            let f = tornado::Tornado {
                report: r,
                commodity: k,
                stem,
            };
            out.push(render(&f, formats)?);
        }
    } else if !r.points.is_empty() {
        out.push(render(
            &super::sweep_grid::SweepGrid { report: r },
            formats,
        )?);
    }
    Ok(out)
}
