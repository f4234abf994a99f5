//! Figure 6: convergence of the estimates. For the commodities with the
//! highest world cvar95 (at most [`TOP`]), the running estimate of the world
//! mean shortfall and of cvar95 with their 95% confidence bands, against the
//! number of trials (log axis). Bands that narrow and lines that flatten show
//! the trial count was enough.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Ctx;
use super::style::*;
use crate::results::figdata::Convergence;

/// Commodities shown.
pub const TOP: usize = 6;
const ROW_PANEL_H: u32 = 270;
const LINE: RGBColor = OI_BLUE;
const BAND: RGBColor = OI_SKY_BLUE;

pub fn title(_ctx: &Ctx) -> String {
    "Convergence: running world mean and cvar95 with 95% confidence bands".to_string()
}

pub fn caption(_ctx: &Ctx) -> String {
    format!(
        "Each line is the estimate after the number of trials on the x axis (log scale) and the shaded band its 95% \
         confidence interval, for the (at most {TOP}) commodities with the highest world cvar95; a flat line in a narrow \
         band means more trials would not change the result much, and the dotted line is the final estimate."
    )
}

/// The commodities shown, highest final cvar95 first.
fn selected<'a>(ctx: &'a Ctx) -> Vec<&'a Convergence> {
    let Some(fd) = ctx.fd else { return Vec::new() };
    let mut v: Vec<(usize, f64, &Convergence)> = fd
        .convergence
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.trials.is_empty())
        .map(|(i, c)| {
            (
                i,
                c.cvar95.last().and_then(|x| finite(*x)).unwrap_or(-1.0),
                c,
            )
        })
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().take(TOP).map(|t| t.2).collect()
}

pub fn available(ctx: &Ctx) -> bool {
    !selected(ctx).is_empty()
}

fn legend() -> Legend {
    Legend {
        items: vec![
            (Key::Line(LINE, 2, false), "running estimate".into()),
            (Key::Band(BAND, 0.4), "95% confidence interval".into()),
            (Key::Line(MUTED, 1, true), "final estimate".into()),
        ],
    }
}

fn frame<'a>(ctx: &Ctx, legend: &'a Legend) -> Frame<'a> {
    let mut subtitle = ctx.subtitle();
    subtitle.push(format!(
        "World shortfall as % of {}-month demand; the {} commodities with the highest cvar95.",
        ctx.summary.horizon_months,
        selected(ctx).len()
    ));
    Frame {
        title: title(ctx),
        subtitle,
        legend: Some(legend),
        source: ctx.source_line(),
    }
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let n = selected(ctx).len().max(1) as u32;
    let w = 2 * PANEL_W + 2 * MARGIN as u32;
    let legend = legend();
    let h = frame(ctx, &legend).header_height(w) + n * ROW_PANEL_H + FOOTER_H;
    (w, h)
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend();
    let body = frame(ctx, &legend).draw(root)?;
    let body = body.margin(0, 0, MARGIN, MARGIN);
    let sel = selected(ctx);
    let cells = grid(&body, sel.len() * 2, 2);
    for (i, c) in sel.iter().enumerate() {
        let name = ctx.name(&c.commodity);
        panel(
            &cells[2 * i],
            &format!("{name}: mean"),
            &c.trials,
            &c.mean,
            &c.mean_ci,
        )?;
        panel(
            &cells[2 * i + 1],
            &format!("{name}: cvar95"),
            &c.trials,
            &c.cvar95,
            &c.cvar95_ci,
        )?;
    }
    Ok(())
}

/// Trial-count tick label: only at 1, 2 and 5 times a power of ten.
fn trials_label(x: f64) -> String {
    if x.is_nan() || x < 1.0 {
        return String::new();
    }
    let n = x.round() as u64;
    let p = 10u64.pow((n as f64).log10().floor() as u32);
    if n.is_multiple_of(p) && matches!(n / p, 1 | 2 | 5) {
        thousands(n)
    } else {
        String::new()
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    trials: &[u64],
    est: &[f64],
    ci: &[f64],
) -> FigResult
where
    DB::ErrorType: 'static,
{
    let pts: Vec<(f64, f64, f64)> = trials
        .iter()
        .zip(est)
        .zip(ci)
        .filter(|((t, e), c)| **t > 0 && e.is_finite() && c.is_finite())
        // A share lies in [0, 1]: a wider band says nothing more (and a
        // huge one would stretch the axis without end).
        .map(|((t, e), c)| (*t as f64, *e, c.abs().min(1.0)))
        .collect();
    let (mut x0, mut x1) = pts
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), p| (a.min(p.0), b.max(p.0)));
    if pts.is_empty() {
        (x0, x1) = (1.0, 10.0);
    }
    if x1 <= x0 * 1.01 {
        (x0, x1) = (x0 / 1.5, x1 * 1.5);
    }
    let lo = pts.iter().map(|p| p.1 - p.2).fold(f64::MAX, f64::min);
    let hi = pts.iter().map(|p| p.1 + p.2).fold(f64::MIN, f64::max);
    let (mut y0, mut y1) = if pts.is_empty() {
        (0.0, 0.01)
    } else {
        (lo, hi)
    };
    let pad = ((y1 - y0) * 0.08).max(1e-5);
    y0 = (y0 - pad).max(0.0);
    y1 += pad;
    let span = y1 - y0;
    let mut chart = panel_chart(area, title)
        .margin_right(22)
        .build_cartesian_2d((x0..x1).log_scale(), y0..y1)?;
    mesh_look(&mut chart.configure_mesh())
        .x_labels(20)
        .y_labels(5)
        .x_label_formatter(&|x| trials_label(*x))
        .y_label_formatter(&|y| pct_tick(*y, span))
        .x_desc("trials (log scale)")
        .y_desc("% of demand")
        .draw()?;
    if pts.is_empty() {
        note(&chart.plotting_area().strip_coord_spec(), "no data")?;
        return Ok(());
    }
    let band: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (p.0, p.1 + p.2))
        .chain(pts.iter().rev().map(|p| (p.0, (p.1 - p.2).max(y0))))
        .collect();
    chart.draw_series(std::iter::once(Polygon::new(band, BAND.mix(0.4).filled())))?;
    if let Some(last) = pts.last() {
        let plot = chart.plotting_area();
        let a = plot.map_coordinate(&(x0, last.1));
        let b = plot.map_coordinate(&(x1, last.1));
        let base = plot.get_base_pixel();
        let root = plot.strip_coord_spec();
        for s in dashes(
            (a.0 - base.0, a.1 - base.1),
            (b.0 - base.0, b.1 - base.1),
            3,
            4,
        ) {
            root.draw(&PathElement::new(vec![s.0, s.1], MUTED.stroke_width(1)))?;
        }
    }
    chart.draw_series(LineSeries::new(
        pts.iter().map(|p| (p.0, p.1)),
        LINE.stroke_width(2),
    ))?;
    if pts.len() == 1 {
        chart.draw_series(std::iter::once(Circle::new(
            (pts[0].0, pts[0].1),
            3,
            LINE.filled(),
        )))?;
    }
    Ok(())
}
