//! Figure 1: exceedance curves. One panel per commodity, P(shortfall > x)
//! against x on a log probability axis, one line per consumer and the world;
//! the right axis gives the return period `horizon_months / 12 / P` years.

use plotters::chart::DualCoordChartContext;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::style::*;
use super::{Ctx, order_in};
use crate::model::WORLD;
use crate::results::figdata::ExceedanceCurve;

pub fn title(ctx: &Ctx) -> String {
    format!(
        "Exceedance curves: probability that the shortfall exceeds x{}",
        ctx.title_suffix()
    )
}

pub fn caption(ctx: &Ctx) -> String {
    let h = ctx.summary.horizon_months;
    let period = if h == 12 {
        "1/P years".to_string()
    } else {
        format!("({h}/12)/P years")
    };
    format!(
        "A point (x, P) on a line means that in a fraction P of the simulated {h}-month horizons that consumer's shortfall \
         exceeded x% of its demand (log scale; lines higher and further right mean more risk); the right axis gives the \
         equivalent return period, {period}."
    )
}

fn curves<'a>(ctx: &'a Ctx, commodity: &str) -> Vec<&'a ExceedanceCurve> {
    let Some(fd) = ctx.fd else { return Vec::new() };
    let mut v: Vec<&ExceedanceCurve> = fd
        .exceedance
        .iter()
        .filter(|c| c.strategy == ctx.strategy && c.commodity == commodity)
        .collect();
    v.sort_by_key(|c| order_in(&ctx.series, &c.consumer));
    v
}

fn commodities<'a>(ctx: &'a Ctx) -> Vec<&'a str> {
    let Some(fd) = ctx.fd else { return Vec::new() };
    let mut v: Vec<&str> = ctx.commodities.iter().map(String::as_str).collect();
    for c in fd.exceedance.iter().filter(|c| c.strategy == ctx.strategy) {
        if !v.contains(&c.commodity.as_str()) {
            v.push(&c.commodity);
        }
    }
    v.retain(|k| {
        fd.exceedance
            .iter()
            .any(|c| c.strategy == ctx.strategy && c.commodity == *k)
    });
    v
}

pub fn available(ctx: &Ctx) -> bool {
    !commodities(ctx).is_empty()
}

fn series_ids(ctx: &Ctx) -> Vec<String> {
    let mut ids = ctx.series.clone();
    if let Some(fd) = ctx.fd {
        for c in fd.exceedance.iter().filter(|c| c.strategy == ctx.strategy) {
            if !ids.contains(&c.consumer) {
                ids.push(c.consumer.clone());
            }
        }
    }
    ids
}

fn legend(ctx: &Ctx) -> Legend {
    let ids = series_ids(ctx);
    let colors = series_colors(&ids);
    Legend {
        items: ids
            .iter()
            .zip(colors)
            .map(|(id, c)| {
                if id == WORLD {
                    (Key::Line(c, 3, false), "world (all consumers)".to_string())
                } else {
                    (Key::Line(c, 2, false), id.clone())
                }
            })
            .collect(),
    }
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let legend = legend(ctx);
    grid_size(
        commodities(ctx).len(),
        &ctx.frame(title(ctx), Some(&legend)),
    )
}

/// Lower end of the probability axis: a little below the smallest positive
/// probability of the curves that `keep` picks.
pub(super) fn y_floor(ctx: &Ctx, keep: impl Fn(&ExceedanceCurve) -> bool) -> f64 {
    let min = ctx
        .fd
        .map(|fd| {
            fd.exceedance
                .iter()
                .filter(|c| keep(c))
                .flat_map(|c| c.points.iter())
                .map(|p| p[1])
                .filter(|p| p.is_finite() && *p > 0.0)
                .fold(1.0f64, f64::min)
        })
        .unwrap_or(0.1);
    // No axis below what the trials can show (one trial in N).
    let support = 1.0 / ctx.summary.trials.max(1) as f64;
    (min / 1.5).max(support / 1.5).clamp(1e-9, 0.1)
}

/// Upper end of the shortfall axis for curves reaching `last_x`.
pub(super) fn x_max(last_x: f64) -> f64 {
    let xmax = nice_ceil((last_x * 1.1).max(1e-3));
    if last_x <= 1.0 { xmax.min(1.0) } else { xmax }
}

/// The points of a curve drawn on axes from `floor` and up to `xmax`.
pub(super) fn points(c: &ExceedanceCurve, floor: f64, xmax: f64) -> Vec<(f64, f64)> {
    c.points
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite() && p[1] > 0.0 && p[0] <= xmax)
        .map(|p| (p[0].max(0.0), p[1].clamp(floor, 1.0)))
        .collect()
}

/// Probability tick label as a percentage.
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

/// Return-period tick label for probability `p` per horizon of `months`;
/// none below one trial in `trials`, which no run of that size can show.
fn return_period(p: f64, months: usize, trials: u64) -> String {
    if p.is_nan() || p <= 0.0 || p * (trials.max(1) as f64) < 1.0 - 1e-9 {
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

/// A panel's chart: shortfall x against P(shortfall > x) (log scale), and
/// the same P on the right axis as a return period.
pub(super) type ProbChart<'a, DB> = DualCoordChartContext<
    'a,
    DB,
    Cartesian2d<RangedCoordf64, LogCoord<f64>>,
    Cartesian2d<RangedCoordf64, LogCoord<f64>>,
>;

/// The axes and mesh of the panel of `commodity`: `what` ("shortfall") x
/// from 0 to `xmax`, P from `floor` to 1, return periods on the right.
pub(super) fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    ctx: &Ctx,
    commodity: &str,
    what: &str,
    floor: f64,
    xmax: f64,
) -> Result<ProbChart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let months = ctx.summary.horizon_months;
    let decades = (-floor.log10()).floor().max(1.0) as usize;
    let mut chart = panel_chart(area, ctx.name(commodity))
        .margin_left(14)
        .right_y_label_area_size(RIGHT_AREA)
        .build_cartesian_2d(0f64..xmax, (floor..1f64).log_scale())?
        .set_secondary_coord(0f64..xmax, (floor..1f64).log_scale());
    mesh_look(&mut chart.configure_mesh())
        .x_labels(6)
        .y_labels(decades + 1)
        .x_label_formatter(&|x| pct_tick(*x, xmax))
        .y_label_formatter(&|p| prob_label(*p))
        .x_desc(format!("{what} x (% of {months}-month demand)"))
        .y_desc("P(shortfall > x)")
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_labels(decades + 1)
        .y_label_formatter(&|p| return_period(*p, months, ctx.summary.trials))
        .y_desc("return period (years)")
        .label_style(font(TICK))
        .axis_desc_style(font(AXIS_DESC))
        .axis_style(MUTED)
        .draw()?;
    Ok(chart)
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend(ctx);
    let frame = ctx.frame(title(ctx), Some(&legend));
    let floor = y_floor(ctx, |c| c.strategy == ctx.strategy);
    let ids = series_ids(ctx);
    let colors = series_colors(&ids);
    draw_grid(root, &frame, &commodities(ctx), |cell, k| {
        panel(cell, ctx, k, floor, &ids, &colors)
    })
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ctx: &Ctx,
    commodity: &str,
    floor: f64,
    ids: &[String],
    colors: &[RGBColor],
) -> FigResult
where
    DB::ErrorType: 'static,
{
    let cs = curves(ctx, commodity);
    let last_x = cs
        .iter()
        .flat_map(|c| c.points.iter())
        .filter(|p| p[0].is_finite() && p[1].is_finite() && p[1] > 0.0)
        .map(|p| p[0])
        .fold(0.0f64, f64::max);
    let any = last_x > 0.0
        || cs
            .iter()
            .any(|c| c.points.iter().any(|p| p[1].is_finite() && p[1] > 0.0));
    let xmax = x_max(last_x);
    let mut chart = axes(area, ctx, commodity, "shortfall", floor, xmax)?;
    if !any {
        let plot = chart.plotting_area().strip_coord_spec();
        note(&plot, "no shortfall in any trial")?;
        return Ok(());
    }
    // World last, so it is drawn on top.
    let order: Vec<usize> = (0..ids.len())
        .filter(|&i| ids[i] != WORLD)
        .chain((0..ids.len()).filter(|&i| ids[i] == WORLD))
        .collect();
    for i in order {
        let Some(c) = cs.iter().find(|c| c.consumer == ids[i]) else {
            continue;
        };
        let width = if ids[i] == WORLD { 3 } else { 2 };
        chart.draw_series(LineSeries::new(
            points(c, floor, xmax),
            colors[i].stroke_width(width),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(prob_label(1.0), "100%");
        assert_eq!(prob_label(0.01), "1%");
        assert_eq!(prob_label(0.0001), "0.01%");
        assert_eq!(return_period(0.01, 12, 100), "100 yr");
        assert_eq!(return_period(1.0, 12, 1), "1 yr");
        assert_eq!(return_period(0.0001, 12, 20_000), "10,000 yr");
        assert_eq!(return_period(1.0, 6, 10), "0.5 yr");
        assert_eq!(return_period(0.001, 12, 1000), "1,000 yr");
        // Beyond what the trials support: no label.
        assert_eq!(return_period(0.001, 12, 999), "");
        assert_eq!(return_period(0.0001, 12, 2000), "");
    }
}
