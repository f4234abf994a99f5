//! The figures of a run, drawn with plotters from `summary.json` alone (the
//! [`Summary`] and its [`FigureData`]); they compute no statistics.
//!
//! Every figure is rendered in memory as SVG (always: `report.html` embeds
//! it) and, when asked, as PNG; [`crate::report`] writes the files and
//! composes the page (figures know nothing of the report). Per-commodity figures are small-multiples grids, one
//! file per figure. Figures 1-4 are drawn for every strategy in the summary
//! (files of strategies after the first get a `-<strategy>` suffix); the
//! other figures exist once: concentration and convergence for the base run,
//! the `strategies-*` figures when the summary has a `comparison` block, and
//! the `attribution*` figures when it has an `attribution` block.
//!
//! | file stem               | module            | what |
//! |-------------------------|-------------------|------|
//! | `exceedance`            | [`exceedance`]    | P(shortfall > x) per commodity, one line per consumer and world |
//! | `histogram`             | [`histogram`]     | world shortfall distribution per commodity, mean/p95/cvar95 marked |
//! | `heatmap`               | [`heatmap`]       | cvar95 of commodities × consumers |
//! | `fan`                   | [`fan`]           | monthly world shortfall p50/p90/p99 per commodity |
//! | `concentration`         | [`concentration`] | producer shares per commodity and stage, HHI |
//! | `convergence`           | [`convergence`]   | running mean and cvar95 with 95% bands |
//! | `strategies-exceedance` | [`overlay`]       | world exceedance curves of the base and every strategy, per commodity |
//! | `strategies-reduction`  | [`reduction`]     | world mean and cvar95 reduction per commodity and strategy, 95% CIs |
//! | `strategies-cost`       | [`frontier`]      | cost per year against average cvar95 reduction, efficient frontier |
//! | `attribution`           | [`attribution`]   | base world shortfall (mean and tail) split by kind of shock |
//! | `attribution-sources`   | [`attribution`]   | the same split by source (shock or event) |
//! | `attribution-countries` | [`attribution`]   | the same split by producer country |
//!
//! `crmsim sweep` draws its own figures ([`sweep`], [`tornado`],
//! [`sweep_grid`]); `crmsim study` draws those of a study page ([`study`]),
//! with the who-gains-who-loses bars of [`gains`].

pub mod attribution;
pub mod backtest;
pub mod concentration;
pub mod convergence;
pub mod exceedance;
pub mod fan;
pub mod frontier;
pub mod gains;
pub mod heatmap;
pub mod histogram;
pub mod overlay;
pub mod raster;
pub mod reduction;
pub mod study;
pub mod style;
pub mod sweep;
pub mod sweep_grid;
pub mod tornado;

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;

use crate::error::Error;
use crate::results::Summary;
use crate::results::figdata::FigureData;
pub use crate::results::strategies;
use style::{FigResult, Frame, Legend};

/// Which image files to write. `report.html` always embeds the SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Formats {
    Svg,
    Png,
    Both,
}

impl Formats {
    pub fn svg(self) -> bool {
        matches!(self, Formats::Svg | Formats::Both)
    }
    pub fn png(self) -> bool {
        matches!(self, Formats::Png | Formats::Both)
    }
}

/// The kinds of figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Exceedance,
    Histogram,
    Heatmap,
    Fan,
    Concentration,
    Convergence,
    /// World exceedance curves of the base and every strategy.
    StrategyExceedance,
    /// Mean and cvar95 reductions with confidence intervals.
    StrategyReduction,
    /// Cost against cvar95 reduction, with the efficient frontier.
    StrategyCost,
    /// The base's shortfall split by kind of shock.
    Attribution,
    /// ... by source (shock or event).
    AttributionSources,
    /// ... by producer country.
    AttributionCountries,
}

/// The part of `report.html` a figure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The "Figures" section (figures of each run).
    Figures,
    /// "Strategies against the base".
    Strategies,
    /// "Attribution of the shortfall".
    Attribution,
}

impl Kind {
    /// Every kind, in report order (within each [`Section`]).
    pub const ALL: [Kind; 12] = [
        Kind::Exceedance,
        Kind::Histogram,
        Kind::Heatmap,
        Kind::Fan,
        Kind::Concentration,
        Kind::Convergence,
        Kind::StrategyExceedance,
        Kind::StrategyReduction,
        Kind::StrategyCost,
        Kind::Attribution,
        Kind::AttributionSources,
        Kind::AttributionCountries,
    ];

    /// File stem (before any strategy suffix).
    pub fn id(self) -> &'static str {
        match self {
            Kind::Exceedance => "exceedance",
            Kind::Histogram => "histogram",
            Kind::Heatmap => "heatmap",
            Kind::Fan => "fan",
            Kind::Concentration => "concentration",
            Kind::Convergence => "convergence",
            Kind::StrategyExceedance => "strategies-exceedance",
            Kind::StrategyReduction => "strategies-reduction",
            Kind::StrategyCost => "strategies-cost",
            Kind::Attribution => "attribution",
            Kind::AttributionSources => "attribution-sources",
            Kind::AttributionCountries => "attribution-countries",
        }
    }

    /// Whether the figure is drawn per strategy (else once, for the base run
    /// or for the comparison of all strategies).
    pub fn per_strategy(self) -> bool {
        matches!(
            self,
            Kind::Exceedance | Kind::Histogram | Kind::Heatmap | Kind::Fan
        )
    }

    /// Where `report.html` shows the figure.
    pub fn section(self) -> Section {
        match self {
            Kind::StrategyExceedance | Kind::StrategyReduction | Kind::StrategyCost => {
                Section::Strategies
            }
            Kind::Attribution | Kind::AttributionSources | Kind::AttributionCountries => {
                Section::Attribution
            }
            _ => Section::Figures,
        }
    }

    fn title(self, ctx: &Ctx) -> String {
        match self {
            Kind::Exceedance => exceedance::title(ctx),
            Kind::Histogram => histogram::title(ctx),
            Kind::Heatmap => heatmap::title(ctx),
            Kind::Fan => fan::title(ctx),
            Kind::Concentration => concentration::title(ctx),
            Kind::Convergence => convergence::title(ctx),
            Kind::StrategyExceedance => overlay::title(ctx),
            Kind::StrategyReduction => reduction::title(ctx),
            Kind::StrategyCost => frontier::title(ctx),
            Kind::Attribution => attribution::title(ctx, attribution::Split::Kind),
            Kind::AttributionSources => attribution::title(ctx, attribution::Split::Source),
            Kind::AttributionCountries => attribution::title(ctx, attribution::Split::Country),
        }
    }

    fn caption(self, ctx: &Ctx) -> String {
        match self {
            Kind::Exceedance => exceedance::caption(ctx),
            Kind::Histogram => histogram::caption(ctx),
            Kind::Heatmap => heatmap::caption(ctx),
            Kind::Fan => fan::caption(ctx),
            Kind::Concentration => concentration::caption(ctx),
            Kind::Convergence => convergence::caption(ctx),
            Kind::StrategyExceedance => overlay::caption(ctx),
            Kind::StrategyReduction => reduction::caption(ctx),
            Kind::StrategyCost => frontier::caption(ctx),
            Kind::Attribution => attribution::caption(ctx, attribution::Split::Kind),
            Kind::AttributionSources => attribution::caption(ctx, attribution::Split::Source),
            Kind::AttributionCountries => attribution::caption(ctx, attribution::Split::Country),
        }
    }

    fn available(self, ctx: &Ctx) -> bool {
        match self {
            Kind::Exceedance => exceedance::available(ctx),
            Kind::Histogram => histogram::available(ctx),
            Kind::Heatmap => heatmap::available(ctx),
            Kind::Fan => fan::available(ctx),
            Kind::Concentration => concentration::available(ctx),
            Kind::Convergence => convergence::available(ctx),
            Kind::StrategyExceedance => overlay::available(ctx),
            Kind::StrategyReduction => reduction::available(ctx),
            Kind::StrategyCost => frontier::available(ctx),
            Kind::Attribution => attribution::available(ctx, attribution::Split::Kind),
            Kind::AttributionSources => attribution::available(ctx, attribution::Split::Source),
            Kind::AttributionCountries => attribution::available(ctx, attribution::Split::Country),
        }
    }

    fn size(self, ctx: &Ctx) -> (u32, u32) {
        let (w, h) = match self {
            Kind::Exceedance => exceedance::size(ctx),
            Kind::Histogram => histogram::size(ctx),
            Kind::Heatmap => heatmap::size(ctx),
            Kind::Fan => fan::size(ctx),
            Kind::Concentration => concentration::size(ctx),
            Kind::Convergence => convergence::size(ctx),
            Kind::StrategyExceedance => overlay::size(ctx),
            Kind::StrategyReduction => reduction::size(ctx),
            Kind::StrategyCost => frontier::size(ctx),
            Kind::Attribution => attribution::size(ctx, attribution::Split::Kind),
            Kind::AttributionSources => attribution::size(ctx, attribution::Split::Source),
            Kind::AttributionCountries => attribution::size(ctx, attribution::Split::Country),
        };
        // Bounded so a strange summary cannot ask for a giant canvas.
        (w.clamp(200, 4000), h.clamp(200, 8000))
    }

    fn draw<DB: DrawingBackend>(self, root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        match self {
            Kind::Exceedance => exceedance::draw(root, ctx),
            Kind::Histogram => histogram::draw(root, ctx),
            Kind::Heatmap => heatmap::draw(root, ctx),
            Kind::Fan => fan::draw(root, ctx),
            Kind::Concentration => concentration::draw(root, ctx),
            Kind::Convergence => convergence::draw(root, ctx),
            Kind::StrategyExceedance => overlay::draw(root, ctx),
            Kind::StrategyReduction => reduction::draw(root, ctx),
            Kind::StrategyCost => frontier::draw(root, ctx),
            Kind::Attribution => attribution::draw(root, ctx, attribution::Split::Kind),
            Kind::AttributionSources => attribution::draw(root, ctx, attribution::Split::Source),
            Kind::AttributionCountries => attribution::draw(root, ctx, attribution::Split::Country),
        }
    }
}

/// What a figure reads: the summary, one strategy, display names.
pub struct Ctx<'a> {
    pub summary: &'a Summary,
    pub fd: Option<&'a FigureData>,
    /// The strategy drawn.
    pub strategy: String,
    /// Whether `strategy` is the first (base) strategy.
    pub primary: bool,
    /// Commodity ids in scenario order.
    pub commodities: Vec<String>,
    /// Series ids (consumers, ROW, world) in scenario order.
    pub series: Vec<String>,
    names: HashMap<String, String>,
}

impl<'a> Ctx<'a> {
    pub fn new(summary: &'a Summary, strategy: &str, primary: bool) -> Ctx<'a> {
        let mut commodities: Vec<String> = Vec::new();
        let mut series: Vec<String> = Vec::new();
        for r in summary.results.iter().filter(|r| r.strategy == strategy) {
            if !commodities.contains(&r.commodity) {
                commodities.push(r.commodity.clone());
            }
            if !series.contains(&r.consumer) {
                series.push(r.consumer.clone());
            }
        }
        let fd = summary.figures.as_ref();
        let mut names = HashMap::new();
        if let Some(fd) = fd {
            for c in &fd.concentration {
                if !c.commodity_name.trim().is_empty() {
                    names
                        .entry(c.commodity.clone())
                        .or_insert_with(|| c.commodity_name.clone());
                }
            }
        }
        Ctx {
            summary,
            fd,
            strategy: strategy.to_string(),
            primary,
            commodities,
            series,
            names,
        }
    }

    /// Display name of a commodity (its id when the summary has no name).
    pub fn name<'s>(&'s self, id: &'s str) -> &'s str {
        self.names.get(id).map(String::as_str).unwrap_or(id)
    }

    /// The source line under every figure.
    pub fn source_line(&self) -> String {
        let s = self.summary;
        let mut line = format!(
            "crmsim {} · scenario {} · seed {} · {} trials · {}-month horizon",
            s.crmsim_version,
            s.scenario.name,
            s.seed,
            style::thousands(s.trials),
            s.horizon_months
        );
        if !self.primary {
            line.push_str(&format!(" · strategy {}", self.strategy));
        }
        line
    }

    /// Lines under a figure's title: the scenario, and the strategy where
    /// the summary has several and the title does not name it.
    pub fn subtitle(&self) -> Vec<String> {
        let s = self.summary;
        let mut v = vec![match &s.title {
            Some(t) if !t.trim().is_empty() => format!("{} ({})", t.trim(), s.scenario.name),
            _ => format!("Scenario {}", s.scenario.name),
        }];
        if self.primary && strategies(s).len() > 1 {
            v.push(format!("Strategy: {}", self.strategy));
        }
        v
    }

    /// The usual frame of a figure: `title`, the [`subtitle`](Self::subtitle)
    /// lines, `legend` and the source line.
    pub fn frame<'l>(&self, title: String, legend: Option<&'l Legend>) -> Frame<'l> {
        Frame {
            title,
            subtitle: self.subtitle(),
            legend,
            source: self.source_line(),
        }
    }

    /// " - strategy X" for titles of strategies after the first.
    pub fn title_suffix(&self) -> String {
        if self.primary {
            String::new()
        } else {
            format!(" — strategy {}", self.strategy)
        }
    }

    /// "12-month" for the horizon.
    pub fn horizon(&self) -> String {
        format!("{}-month", self.summary.horizon_months)
    }

    /// The strategies of the `comparison` block, in its order, each with its
    /// colour in the strategy figures (the palette in order; the base is
    /// black). Empty without a comparison.
    pub fn compared(&self) -> Vec<Compared<'a>> {
        let Some(c) = self.summary.comparison.as_ref() else {
            return Vec::new();
        };
        c.strategies
            .iter()
            .enumerate()
            .map(|(i, s)| Compared {
                id: &s.id,
                summary: s,
                color: style::PALETTE[i % style::PALETTE.len()],
            })
            .collect()
    }

    /// The scenario line of the subtitle (without any strategy line).
    pub fn scenario_line(&self) -> String {
        self.subtitle().into_iter().next().unwrap_or_default()
    }
}

/// A strategy of the comparison, as the strategy figures draw it.
pub struct Compared<'a> {
    pub id: &'a str,
    pub summary: &'a crate::results::comparison::StrategySummary,
    pub color: RGBColor,
}

/// Place of `id` in `ids` (after all of them when absent): a sort key.
fn order_in(ids: &[String], id: &str) -> usize {
    ids.iter().position(|s| s == id).unwrap_or(usize::MAX)
}

/// Longest file-name part made from a strategy id.
const SLUG_MAX: usize = 48;

/// A file-name-safe form of a strategy id, at most [`SLUG_MAX`] characters
/// plus, for a longer id, 8 hex digits of its hash (so ids stay distinct).
fn slug(s: &str) -> String {
    let t = slug_chars(s);
    if t.len() <= SLUG_MAX {
        return t;
    }
    let hash = crate::scenario::sha256_hex(s.as_bytes());
    format!("{}-{}", &t[..SLUG_MAX], &hash[..8])
}

fn slug_chars(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if t.trim_matches('-').is_empty() {
        "strategy".into()
    } else {
        t
    }
}

/// One rendered figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub kind: Kind,
    /// File stem, e.g. `exceedance` or `heatmap-eu-stockpile`.
    pub stem: String,
    pub strategy: String,
    pub title: String,
    /// One sentence on how to read it.
    pub caption: String,
    /// Pixel size of the SVG and PNG.
    pub size: (u32, u32),
    pub svg: String,
    pub png: Option<Vec<u8>>,
    /// The files written for it, relative to the output folder
    /// (`figures/<stem>.svg`, `figures/<stem>.png`).
    pub files: Vec<String>,
}

fn files(stem: &str, formats: Formats) -> Vec<String> {
    let mut v = Vec::new();
    if formats.svg() {
        v.push(format!("figures/{stem}.svg"));
    }
    if formats.png() {
        v.push(format!("figures/{stem}.png"));
    }
    v
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "internal error".into())
}

fn fig_err(stem: &str, e: impl std::fmt::Display) -> Error {
    Error::Other(format!("figure {stem}: {e}"))
}

/// Runs `f`, turning a panic inside plotters into an error.
fn guarded<T>(stem: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(fig_err(stem, panic_message(p.as_ref()))),
    }
}

fn render_svg(kind: Kind, ctx: &Ctx, size: (u32, u32), stem: &str) -> Result<String, Error> {
    guarded(stem, || {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            kind.draw(&root, ctx).map_err(|e| fig_err(stem, e))?;
            root.present().map_err(|e| fig_err(stem, e))?;
        }
        Ok(svg)
    })
}

fn render_png(kind: Kind, ctx: &Ctx, size: (u32, u32), stem: &str) -> Result<Vec<u8>, Error> {
    guarded(stem, || {
        let mut buf = vec![255u8; size.0 as usize * size.1 as usize * 3];
        {
            let backend = raster::KernedBitmap::with_buffer(&mut buf, size)
                .ok_or_else(|| fig_err(stem, "the embedded font could not be read"))?;
            let root = backend.into_drawing_area();
            kind.draw(&root, ctx).map_err(|e| fig_err(stem, e))?;
            root.present().map_err(|e| fig_err(stem, e))?;
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, size.0, size.1);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Default);
            enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
            let mut w = enc.write_header().map_err(|e| fig_err(stem, e))?;
            w.write_image_data(&buf).map_err(|e| fig_err(stem, e))?;
            w.finish().map_err(|e| fig_err(stem, e))?;
        }
        Ok(out)
    })
}

/// Renders every figure of `summary` in memory: SVG always, PNG when
/// `formats` asks for it. Figures without data in the summary are left out.
pub fn render_all(summary: &Summary, formats: Formats) -> Result<Vec<Figure>, Error> {
    style::init_fonts()?;
    let strats = strategies(summary);
    let mut jobs: Vec<(Kind, String, bool)> = Vec::new();
    for (i, s) in strats.iter().enumerate() {
        for kind in Kind::ALL {
            if i == 0 || kind.per_strategy() {
                jobs.push((kind, s.clone(), i == 0));
            }
        }
    }
    if strats.is_empty() {
        jobs.push((Kind::Concentration, "base".into(), true));
    }
    let figs: Vec<Option<Figure>> = jobs
        .par_iter()
        .map(
            |(kind, strategy, primary)| -> Result<Option<Figure>, Error> {
                let ctx = Ctx::new(summary, strategy, *primary);
                if !kind.available(&ctx) {
                    return Ok(None);
                }
                let stem = if *primary {
                    kind.id().to_string()
                } else {
                    format!("{}-{}", kind.id(), slug(strategy))
                };
                let size = kind.size(&ctx);
                let svg = render_svg(*kind, &ctx, size, &stem)?;
                let png = if formats.png() {
                    Some(render_png(*kind, &ctx, size, &stem)?)
                } else {
                    None
                };
                Ok(Some(Figure {
                    files: files(&stem, formats),
                    kind: *kind,
                    stem,
                    strategy: strategy.clone(),
                    title: kind.title(&ctx),
                    caption: kind.caption(&ctx),
                    size,
                    svg,
                    png,
                }))
            },
        )
        .collect::<Result<_, _>>()?;
    Ok(figs.into_iter().flatten().collect())
}
