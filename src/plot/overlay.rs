//! Strategy figure: exceedance curves of the base and every strategy
//! overlaid. One panel per commodity, world shortfall only: P(shortfall > x)
//! on a log axis, the base in black, each strategy in its colour; a strategy
//! whose curve is exactly the base's is listed in the panel instead of drawn
//! over it. The right axis gives the return period, as in figure 1.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::{Compared, Ctx};
use crate::model::WORLD;
use crate::report::figdata::ExceedanceCurve;

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
    let n = commodities(ctx).len().max(1);
    let cols = grid_cols(n);
    let rows = n.div_ceil(cols) as u32;
    let w = cols as u32 * PANEL_W + 2 * MARGIN as u32;
    let legend = legend(ctx);
    let h = frame(ctx, &legend).header_height(w) + rows * PANEL_H + FOOTER_H;
    (w, h)
}

/// Lower end of the probability axis: a little below the smallest positive
/// probability of any drawn curve.
fn y_floor(ctx: &Ctx) -> f64 {
    let ids: Vec<&str> = std::iter::once(ctx.strategy.as_str())
        .chain(drawn(ctx).iter().map(|s| s.id))
        .collect();
    let min = ctx
        .fd
        .map(|fd| {
            fd.exceedance
                .iter()
                .filter(|c| c.consumer == WORLD && ids.contains(&c.strategy.as_str()))
                .flat_map(|c| c.points.iter())
                .map(|p| p[1])
                .filter(|p| p.is_finite() && *p > 0.0)
                .fold(1.0f64, f64::min)
        })
        .unwrap_or(0.1);
    (min / 1.5).clamp(1e-9, 0.1)
}

/// Probability tick label as a percentage (as in figure 1).
fn prob_label(p: f64) -> String {
    if p.is_nan() || p <= 0.0 {
        return String::new();
    }
    let e = p.log10().round();
    if (p.log10() - e).abs() > 0.01 {
        return format!("{:.2}%", p * 100.0);
    }
    let e = e as i32 + 2;
    if e >= 0 {
        format!("{}%", 10u64.pow(e as u32))
    } else {
        format!("{:.*}%", (-e) as usize, 10f64.powi(e))
    }
}

/// Return-period tick label for probability `p` per horizon of `months`.
fn return_period(p: f64, months: usize) -> String {
    if p.is_nan() || p <= 0.0 {
        return String::new();
    }
    let t = months as f64 / 12.0 / p;
    if t < 9.95 {
        let s = format!("{t:.1}");
        format!("{} yr", s.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{} yr", thousands(t.round() as u64))
    }
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend(ctx);
    let body = frame(ctx, &legend).draw(root)?;
    let body = body.margin(0, 0, MARGIN, MARGIN);
    let comms = commodities(ctx);
    let floor = y_floor(ctx);
    let strategies = drawn(ctx);
    for (cell, k) in grid(&body, comms.len(), grid_cols(comms.len()))
        .iter()
        .zip(&comms)
    {
        panel(cell, ctx, k, floor, &strategies)?;
    }
    Ok(())
}

fn points(c: &ExceedanceCurve, floor: f64, xmax: f64) -> Vec<(f64, f64)> {
    c.points
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite() && p[1] > 0.0 && p[0] <= xmax)
        .map(|p| (p[0].max(0.0), p[1].clamp(floor, 1.0)))
        .collect()
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
    let mut xmax = nice_ceil((last_x * 1.1).max(1e-3));
    if last_x <= 1.0 {
        xmax = xmax.min(1.0);
    }
    let (w, _) = area.dim_in_pixel();
    let months = ctx.summary.horizon_months;
    let decades = (-floor.log10()).floor().max(1.0) as usize;
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_left(14)
        .margin_right(18)
        .caption(panel_title(ctx.name(commodity), w), bold(PANEL_TITLE))
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA)
        .right_y_label_area_size(RIGHT_AREA)
        .build_cartesian_2d(0f64..xmax, (floor..1f64).log_scale())?
        .set_secondary_coord(0f64..xmax, (floor..1f64).log_scale());
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(decades + 1)
        .x_label_formatter(&|x| pct_tick(*x, xmax))
        .y_label_formatter(&|p| prob_label(*p))
        .x_desc(format!("world shortfall x (% of {months}-month demand)"))
        .y_desc("P(shortfall > x)")
        .label_style(font(TICK))
        .axis_desc_style(font(AXIS_DESC))
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .max_light_lines(1)
        .axis_style(MUTED)
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_labels(decades + 1)
        .y_label_formatter(&|p| return_period(*p, months))
        .y_desc("return period (years)")
        .label_style(font(TICK))
        .axis_desc_style(font(AXIS_DESC))
        .axis_style(MUTED)
        .draw()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(prob_label(0.01), "1%");
        assert_eq!(return_period(0.001, 12), "1,000 yr");
    }
}
