//! Strategy figure: exceedance curves of the base and every strategy
//! overlaid. One panel per commodity, world shortfall only: P(shortfall > x)
//! on a log axis, the base in black, each strategy in its colour; a strategy
//! whose curve is exactly the base's is listed in the panel instead of drawn
//! over it. The right axis gives the return period, as in figure 1.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::exceedance::{self, axes, points, x_max};
use super::style::*;
use super::{Compared, Ctx};
use crate::model::WORLD;
use crate::results::figdata::ExceedanceCurve;

const BASE_W: u32 = 4;
const STRATEGY_W: u32 = 2;

pub fn title(_ctx: &Ctx) -> String {
    "Strategies against the base: exceedance curves of the world shortfall".to_string()
}

pub fn caption(ctx: &Ctx) -> String {
    format!(
        "Each panel shows, for one commodity, the probability that the world shortfall over the {}-month horizon \
         exceeds x% of world demand, for the base (black) and each strategy on the same random draws (log scale); a \
         strategy line below and left of the black line means less risk, and strategies that leave a commodity \
         unchanged are listed in its panel instead of drawn.",
        ctx.summary.horizon_months
    )
}

/// The world curve of `strategy` for `commodity`.
fn curve<'a>(ctx: &'a Ctx, strategy: &str, commodity: &str) -> Option<&'a ExceedanceCurve> {
    ctx.fd?
        .exceedance
        .iter()
        .find(|c| c.strategy == strategy && c.commodity == commodity && c.consumer == WORLD)
}

/// Commodities with a base world curve, in scenario order.
fn commodities<'a>(ctx: &'a Ctx) -> Vec<&'a str> {
    ctx.commodities
        .iter()
        .map(String::as_str)
        .filter(|k| curve(ctx, &ctx.strategy, k).is_some())
        .collect()
}

/// Compared strategies that have world curves.
fn drawn<'a>(ctx: &'a Ctx) -> Vec<Compared<'a>> {
    ctx.compared()
        .into_iter()
        .filter(|s| {
            ctx.commodities
                .iter()
                .any(|k| curve(ctx, s.id, k).is_some())
        })
        .collect()
}

pub fn available(ctx: &Ctx) -> bool {
    !commodities(ctx).is_empty() && !drawn(ctx).is_empty()
}

fn legend(ctx: &Ctx) -> Legend {
    let mut items = vec![(
        Key::Line(OI_BLACK, BASE_W, false),
        format!("{} (no strategy)", ctx.strategy),
    )];
    for s in drawn(ctx) {
        items.push((Key::Line(s.color, STRATEGY_W + 1, false), s.id.to_string()));
    }
    Legend { items }
}

fn frame<'a>(ctx: &Ctx, legend: &'a Legend) -> Frame<'a> {
    Frame {
        title: title(ctx),
        subtitle: vec![
            ctx.scenario_line(),
            "World shortfall (all consumers); every strategy is simulated on the same random draws as the base.".into(),
        ],
        legend: Some(legend),
        source: ctx.source_line(),
    }
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let legend = legend(ctx);
    grid_size(commodities(ctx).len(), &frame(ctx, &legend))
}

/// Lower end of the probability axis: a little below the smallest positive
/// probability of any drawn curve.
fn y_floor(ctx: &Ctx) -> f64 {
    let ids: Vec<&str> = std::iter::once(ctx.strategy.as_str())
        .chain(drawn(ctx).iter().map(|s| s.id))
        .collect();
    exceedance::y_floor(ctx, |c| {
        c.consumer == WORLD && ids.contains(&c.strategy.as_str())
    })
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend(ctx);
    let floor = y_floor(ctx);
    let strategies = drawn(ctx);
    draw_grid(root, &frame(ctx, &legend), &commodities(ctx), |cell, k| {
        panel(cell, ctx, k, floor, &strategies)
    })
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ctx: &Ctx,
    commodity: &str,
    floor: f64,
    strategies: &[Compared],
) -> FigResult
where
    DB::ErrorType: 'static,
{
    let base = curve(ctx, &ctx.strategy, commodity);
    let others: Vec<(&Compared, &ExceedanceCurve)> = strategies
        .iter()
        .filter_map(|s| curve(ctx, s.id, commodity).map(|c| (s, c)))
        .collect();
    let all = base.into_iter().chain(others.iter().map(|(_, c)| *c));
    let mut last_x = 0.0f64;
    let mut any = false;
    for c in all {
        for p in c.points.iter() {
            if p[0].is_finite() && p[1].is_finite() && p[1] > 0.0 {
                any = true;
                last_x = last_x.max(p[0]);
            }
        }
    }
    let xmax = x_max(last_x);
    let mut chart = axes(area, ctx, commodity, "world shortfall", floor, xmax)?;
    if !any {
        let plot = chart.plotting_area().strip_coord_spec();
        note(&plot, "no shortfall in any trial")?;
        return Ok(());
    }
    // The base underneath, thick; strategies on top in their order. A
    // strategy with exactly the base's curve is named, not drawn.
    if let Some(b) = base {
        chart.draw_series(LineSeries::new(
            points(b, floor, xmax),
            OI_BLACK.stroke_width(BASE_W),
        ))?;
    }
    let mut same: Vec<&str> = Vec::new();
    for (s, c) in &others {
        if base.is_some_and(|b| b.points == c.points) {
            same.push(s.id);
            continue;
        }
        chart.draw_series(LineSeries::new(
            points(c, floor, xmax),
            s.color.stroke_width(STRATEGY_W),
        ))?;
    }
    if !same.is_empty() {
        let plot = chart.plotting_area().strip_coord_spec();
        let (pw, _) = plot.dim_in_pixel();
        let text = format!("same as {}: {}", ctx.strategy, same.join(", "));
        let max = (pw as f64 * 0.62) as u32;
        for (i, line) in wrap(&text, max, ANNOT, false).into_iter().enumerate() {
            plot.draw(&Text::new(
                line,
                (pw as i32 - 8, 8 + i as i32 * 19),
                anchored(colored(font(ANNOT), MUTED), HPos::Right, VPos::Top),
            ))?;
        }
    }
    Ok(())
}
