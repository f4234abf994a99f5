//! Figure 4: monthly fan chart per commodity. Across trials, the median (p50),
//! p90 and p99 of the world shortfall in each month of the horizon, as a
//! fraction of monthly world demand.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::*;
use super::{Ctx, order_in};
use crate::results::figdata::MonthlyBands;

const OUTER: RGBColor = OI_SKY_BLUE;
const INNER: RGBColor = OI_BLUE;
const OUTER_ALPHA: f64 = 0.35;
const INNER_ALPHA: f64 = 0.55;

pub fn title(ctx: &Ctx) -> String {
    format!(
        "Monthly world shortfall: median, p90 and p99 per month{}",
        ctx.title_suffix()
    )
}

pub fn caption(_ctx: &Ctx) -> String {
    "For each month of the horizon, half of the trials had a world shortfall below the black line (p50), 90% below the \
     top of the dark band (p90) and 99% below the top of the light band (p99), as % of that month's world demand; \
     y scales differ between panels."
        .to_string()
}

fn bands<'a>(ctx: &'a Ctx) -> Vec<&'a MonthlyBands> {
    let Some(fd) = ctx.fd else { return Vec::new() };
    let mut v: Vec<&MonthlyBands> = fd
        .monthly
        .iter()
        .filter(|m| m.strategy == ctx.strategy)
        .collect();
    v.sort_by_key(|m| order_in(&ctx.commodities, &m.commodity));
    v
}

pub fn available(ctx: &Ctx) -> bool {
    !bands(ctx).is_empty()
}

fn legend() -> Legend {
    Legend {
        items: vec![
            (Key::Line(OI_BLACK, 2, false), "p50 (median)".into()),
            (Key::Band(INNER, INNER_ALPHA), "p50 to p90".into()),
            (Key::Band(OUTER, OUTER_ALPHA), "p90 to p99".into()),
        ],
    }
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let legend = legend();
    grid_size(bands(ctx).len(), &ctx.frame(title(ctx), Some(&legend)))
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend();
    let frame = ctx.frame(title(ctx), Some(&legend));
    draw_grid(root, &frame, &bands(ctx), |cell, b| panel(cell, ctx, b))
}

fn clean(v: &[f64]) -> Vec<f64> {
    v.iter()
        .map(|x| if x.is_finite() { x.max(0.0) } else { 0.0 })
        .collect()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ctx: &Ctx,
    b: &MonthlyBands,
) -> FigResult
where
    DB::ErrorType: 'static,
{
    let n = b.p50.len().min(b.p90.len()).min(b.p99.len());
    let (p50, p90, p99) = (clean(&b.p50[..n]), clean(&b.p90[..n]), clean(&b.p99[..n]));
    let top = p50
        .iter()
        .chain(&p90)
        .chain(&p99)
        .fold(0.0f64, |a, &b| a.max(b));
    let ymax = nice_ceil((top * 1.05).max(1e-3));
    let months = n.max(1) as f64;
    let mut chart = panel_chart(area, ctx.name(&b.commodity))
        .build_cartesian_2d(0.5f64..months + 0.5, 0f64..ymax)?;
    let xl = (n.clamp(1, 12)) + 1;
    mesh_look(&mut chart.configure_mesh())
        .x_labels(xl)
        .y_labels(6)
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-9 && *x >= 1.0 {
                format!("{}", x.round() as i64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| pct_tick(*y, ymax))
        .x_desc("month of the horizon")
        .y_desc("world shortfall (% of monthly demand)")
        .draw()?;
    if n == 0 {
        note(&chart.plotting_area().strip_coord_spec(), "no monthly data")?;
        return Ok(());
    }
    let x = |i: usize| (i + 1) as f64;
    let band = |lo: &[f64], hi: &[f64]| -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| (x(i), hi[i]))
            .chain((0..n).rev().map(|i| (x(i), lo[i])))
            .collect()
    };
    chart.draw_series(std::iter::once(Polygon::new(
        band(&p90, &p99),
        OUTER.mix(OUTER_ALPHA).filled(),
    )))?;
    chart.draw_series(std::iter::once(Polygon::new(
        band(&p50, &p90),
        INNER.mix(INNER_ALPHA).filled(),
    )))?;
    let line = |v: &[f64]| -> Vec<(f64, f64)> { (0..n).map(|i| (x(i), v[i])).collect() };
    chart.draw_series(LineSeries::new(line(&p99), OUTER.stroke_width(1)))?;
    chart.draw_series(LineSeries::new(line(&p90), INNER.stroke_width(1)))?;
    chart.draw_series(LineSeries::new(line(&p50), OI_BLACK.stroke_width(2)))?;
    if n == 1 {
        chart.draw_series(
            [(x(0), p50[0]), (x(0), p90[0]), (x(0), p99[0])]
                .into_iter()
                .map(|p| Circle::new(p, 3, OI_BLACK.filled())),
        )?;
    }
    Ok(())
}
