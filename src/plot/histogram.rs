//! Figure 2: distribution of the world shortfall per commodity. The bars
//! count trials with a positive shortfall; trials with none are given in the
//! panel's annotation rather than drawn as a bar. Mean, p95 and cvar95 are
//! marked by vertical lines.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::{Ctx, order_in};
use crate::results::figdata::Histogram;

// The mean is a solid black line, unlike any bar or other mark.
const MEAN_COLOR: RGBColor = OI_BLACK;
const P95_COLOR: RGBColor = OI_VERMILLION;
const CVAR_COLOR: RGBColor = OI_REDDISH_PURPLE;
const BAR_COLOR: RGBColor = OI_SKY_BLUE;

pub fn title(ctx: &Ctx) -> String {
    format!(
        "World shortfall distribution per commodity{}",
        ctx.title_suffix()
    )
}

pub fn caption(ctx: &Ctx) -> String {
    format!(
        "Each bar counts the trials whose world shortfall over the {}-month horizon fell in that range (trials with no \
         shortfall at all are counted in each panel's note, not drawn); the vertical lines mark the mean, the 95th \
         percentile (p95) and cvar95, the mean of the worst 5% of trials.",
        ctx.summary.horizon_months
    )
}

fn hists<'a>(ctx: &'a Ctx) -> Vec<&'a Histogram> {
    let Some(fd) = ctx.fd else { return Vec::new() };
    let mut v: Vec<&Histogram> = fd
        .histograms
        .iter()
        .filter(|h| h.strategy == ctx.strategy)
        .collect();
    v.sort_by_key(|h| order_in(&ctx.commodities, &h.commodity));
    v
}

pub fn available(ctx: &Ctx) -> bool {
    !hists(ctx).is_empty()
}

fn legend() -> Legend {
    Legend {
        items: vec![
            (
                Key::Box(BAR_COLOR),
                "trials with a shortfall in the bin".into(),
            ),
            (Key::Line(MEAN_COLOR, 2, false), "mean".into()),
            (Key::Line(P95_COLOR, 2, true), "p95".into()),
            (
                Key::Line(CVAR_COLOR, 2, true),
                "cvar95 (mean of worst 5%)".into(),
            ),
        ],
    }
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let legend = legend();
    grid_size(hists(ctx).len(), &ctx.frame(title(ctx), Some(&legend)))
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend();
    let frame = ctx.frame(title(ctx), Some(&legend));
    draw_grid(root, &frame, &hists(ctx), |cell, h| panel(cell, ctx, h))
}

fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, ctx: &Ctx, h: &Histogram) -> FigResult
where
    DB::ErrorType: 'static,
{
    let bins: Vec<(f64, f64, u64)> = h
        .edges
        .windows(2)
        .zip(&h.counts)
        .filter(|(e, _)| e[0].is_finite() && e[1].is_finite() && e[1] >= e[0])
        .map(|(e, &c)| (e[0].max(0.0), e[1].max(0.0), c))
        .collect();
    let marks = [
        (h.mean, MEAN_COLOR, false),
        (h.p95, P95_COLOR, true),
        (h.cvar95, CVAR_COLOR, true),
    ];
    let data_max = bins
        .iter()
        .map(|b| b.1)
        .chain(marks.iter().filter_map(|m| finite(m.0)))
        .fold(0.0f64, f64::max);
    let xmax = nice_ceil(data_max.max(1e-3));
    let cmax = bins.iter().map(|b| b.2).max().unwrap_or(0);
    // Headroom for the two-line note in the top right corner.
    let ymax = ((cmax as f64) * 1.4).max(1.0);
    let months = ctx.summary.horizon_months;
    let mut chart =
        panel_chart(area, ctx.name(&h.commodity)).build_cartesian_2d(0f64..xmax, 0f64..ymax)?;
    let x_desc = format!("world shortfall (% of {months}-month demand)");
    mesh_look(&mut chart.configure_mesh())
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|x| pct_tick(*x, xmax))
        .y_label_formatter(&|y| {
            if *y >= 0.0 && (y - y.round()).abs() < 1e-9 {
                thousands(y.round() as u64)
            } else {
                String::new()
            }
        })
        .x_desc(x_desc)
        .y_desc("trials")
        .draw()?;
    chart.draw_series(
        bins.iter()
            .filter(|b| b.2 > 0)
            .map(|&(a, b, c)| Rectangle::new([(a, 0.0), (b, c as f64)], BAR_COLOR.filled())),
    )?;
    let plot = chart.plotting_area();
    let (py0, py1) = (
        plot.get_y_axis_pixel_range().start,
        plot.get_y_axis_pixel_range().end,
    );
    let root = plot.strip_coord_spec();
    let base = plot.get_base_pixel();
    for (x, color, dashed) in marks {
        let Some(x) = finite(x) else { continue };
        let px = plot.map_coordinate(&(x.clamp(0.0, xmax), 0.0)).0 - base.0;
        let (top, bottom) = (py0.min(py1) - base.1, py0.max(py1) - base.1);
        let style = color.stroke_width(2);
        if dashed {
            for s in dashes((px, top + 44), (px, bottom), 6, 4) {
                root.draw(&PathElement::new(vec![s.0, s.1], style))?;
            }
        } else {
            root.draw(&PathElement::new(vec![(px, top + 44), (px, bottom)], style))?;
        }
    }
    let (pw, _) = root.dim_in_pixel();
    let zero_share = if h.trials > 0 {
        h.zero_count as f64 / h.trials as f64 * 100.0
    } else {
        0.0
    };
    let lines = [
        format!(
            "no shortfall: {} of {} trials ({zero_share:.1}%)",
            thousands(h.zero_count),
            thousands(h.trials)
        ),
        format!(
            "mean {} · p95 {} · cvar95 {}",
            pct2(h.mean),
            pct2(h.p95),
            pct2(h.cvar95)
        ),
    ];
    for (i, l) in lines.iter().enumerate() {
        root.draw(&Text::new(
            ellipsize(l, pw.saturating_sub(12), ANNOT, false),
            (pw as i32 - 6, 6 + 20 * i as i32),
            anchored(font(ANNOT), HPos::Right, VPos::Top),
        ))?;
    }
    if cmax == 0 {
        note(&root, "no trial with a shortfall")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mean line is told apart from the bars and from the other marks
    /// by its colour (and from p95 and cvar95 also by being solid).
    #[test]
    fn mean_line_is_distinct_from_the_bars_and_the_other_marks() {
        let rgb = |c: RGBColor| (c.0, c.1, c.2);
        let all = [MEAN_COLOR, P95_COLOR, CVAR_COLOR, BAR_COLOR].map(rgb);
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
