//! Strategy figure: cost against shortfall avoided. One labelled point per
//! strategy with a cost: x its cost per year, y its average (over
//! commodities) reduction of the world cvar95, in percentage points; the
//! strategies on the cost-effectiveness frontier (`efficient` in the
//! summary) are filled and joined by a line in order of cost, dominated ones
//! are hollow.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::{Compared, Ctx};

const FIG_W: u32 = 1180;
const PLOT_H: u32 = 640;
const RADIUS: i32 = 8;
const LABEL: f64 = 16.0;
const LABEL_LINE: i32 = 19;
const FRONTIER: RGBColor = RGBColor(60, 60, 60);

pub fn title(_ctx: &Ctx) -> String {
    "Strategies: cost against shortfall avoided, with the cost-effectiveness frontier".to_string()
}

pub fn caption(ctx: &Ctx) -> String {
    format!(
        "Each point is a strategy with a cost: its cost per year ({}) against how much it lowers the world cvar95 on \
         average over the commodities (percentage points of world demand); filled points joined by the line are the \
         efficient frontier (no other strategy costs as little and cuts as much), hollow points are dominated, so \
         further up and left is better.",
        currency(ctx)
    )
}

fn currency(ctx: &Ctx) -> String {
    let c = ctx
        .summary
        .comparison
        .as_ref()
        .and_then(|c| c.currency.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty());
    match c {
        Some(c) => format!("million {c}"),
        None => "millions, scenario currency".to_string(),
    }
}

/// Strategies with a finite cost and reduction: (strategy, cost in
/// millions, reduction in pp).
fn points<'a>(ctx: &'a Ctx) -> Vec<(Compared<'a>, f64, f64)> {
    ctx.compared()
        .into_iter()
        .filter_map(|s| {
            let c = finite(s.summary.cost_per_year?)?;
            let r = finite(s.summary.world_cvar95_reduction_avg)?;
            Some((s, c / 1e6, r * 100.0))
        })
        .collect()
}

pub fn available(ctx: &Ctx) -> bool {
    !points(ctx).is_empty()
}

fn legend(ctx: &Ctx) -> Legend {
    let mut items: Vec<(Key, String)> = points(ctx)
        .iter()
        .map(|(s, _, _)| (Key::Box(s.color), s.id.to_string()))
        .collect();
    items.push((
        Key::Line(FRONTIER, 2, false),
        "efficient frontier (filled points)".into(),
    ));
    Legend { items }
}

fn frame<'a>(ctx: &Ctx, legend: &'a Legend) -> Frame<'a> {
    let mut subtitle = vec![
        ctx.scenario_line(),
        "Filled: on the frontier. Hollow: dominated, another strategy costs no more and cuts cvar95 at least as much."
            .to_string(),
    ];
    let costed: Vec<String> = points(ctx).iter().map(|p| p.0.id.to_string()).collect();
    let missing: Vec<String> = ctx
        .compared()
        .iter()
        .map(|s| s.id.to_string())
        .filter(|id| !costed.contains(id))
        .collect();
    if points(ctx)
        .iter()
        .any(|p| p.0.summary.world_tonnes_avoided.is_some())
    {
        subtitle.push(
            "Under each name: expected world shortfall avoided over the horizon, in tonnes (shown when one commodity \
             has an annual demand)."
                .to_string(),
        );
    }
    if !missing.is_empty() {
        subtitle.push(format!("Not shown (no cost): {}.", missing.join(", ")));
    }
    Frame {
        title: title(ctx),
        subtitle,
        legend: Some(legend),
        source: ctx.source_line(),
    }
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let legend = legend(ctx);
    let h = frame(ctx, &legend).header_height(FIG_W) + PLOT_H + FOOTER_H;
    (FIG_W, h)
}

/// Decimals for tick labels of an axis spanning `span`.
fn decimals(span: f64) -> usize {
    if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else if span >= 0.2 {
        2
    } else {
        3
    }
}

/// A number with thousands separators and `d` decimals.
fn number(v: f64, d: usize) -> String {
    // The sign only when the rounded value is not zero (never "-0.00").
    let s = crate::format::fixed(v, d);
    let neg = s.starts_with('-');
    let s = s.trim_start_matches('-');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let int = int
        .parse::<u64>()
        .map(thousands)
        .unwrap_or_else(|_| int.to_string());
    let sign = if neg { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend(ctx);
    let body = frame(ctx, &legend).draw(root)?;
    let body = body.margin(0, 0, MARGIN, MARGIN);
    let pts = points(ctx);
    let xmax = nice_ceil(pts.iter().map(|p| p.1).fold(0.0, f64::max) * 1.12);
    let xmin = pts.iter().map(|p| p.1).fold(0.0, f64::min);
    let xmin = if xmin < 0.0 {
        -nice_ceil(-xmin * 1.12)
    } else {
        0.0
    };
    let ymax = nice_ceil(pts.iter().map(|p| p.2).fold(0.0, f64::max) * 1.15);
    let ymin = pts.iter().map(|p| p.2).fold(0.0, f64::min);
    let ymin = if ymin < 0.0 {
        -nice_ceil(-ymin * 1.15)
    } else {
        0.0
    };
    let (xd, yd) = (decimals(xmax - xmin), decimals(ymax - ymin));
    let mut chart = ChartBuilder::on(&body)
        .margin(10)
        .margin_right(30)
        .x_label_area_size(X_AREA + 8)
        .y_label_area_size(Y_AREA + 8)
        .build_cartesian_2d(xmin..xmax, ymin..ymax)?;
    mesh_look(&mut chart.configure_mesh())
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|x| number(*x, xd))
        .y_label_formatter(&|y| number(*y, yd))
        .x_desc(format!("cost per year ({})", currency(ctx)))
        .y_desc(format!(
            "world cvar95 reduction, average over commodities (pp of {}-month demand)",
            ctx.summary.horizon_months
        ))
        .draw()?;
    if ymin < 0.0 {
        chart.draw_series(LineSeries::new(
            [(xmin, 0.0), (xmax, 0.0)],
            MUTED.stroke_width(1),
        ))?;
    }
    // The frontier, in order of cost.
    let mut front: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| p.0.summary.efficient)
        .map(|p| (p.1, p.2))
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    if front.len() > 1 {
        chart.draw_series(LineSeries::new(front, FRONTIER.stroke_width(2)))?;
    }
    for (s, x, y) in &pts {
        // Filled with a thin dark outline, or a ring (a disc with a white
        // centre: a thick stroked circle rasterises with gaps).
        let p = (*x, *y);
        if s.summary.efficient {
            chart.draw_series([
                Circle::new(p, RADIUS, s.color.filled()),
                Circle::new(p, RADIUS, FRONTIER.stroke_width(1)),
            ])?;
        } else {
            chart.draw_series([
                Circle::new(p, RADIUS, s.color.filled()),
                Circle::new(p, RADIUS - 3, WHITE.filled()),
            ])?;
        }
    }
    // Labels: beside the point, right if it fits, moved up or down (with a
    // leader line) past points and labels already placed.
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let centres: Vec<(i32, i32)> = pts
        .iter()
        .map(|p| chart.backend_coord(&(p.1, p.2)))
        .collect();
    let mut placed: Vec<(i32, i32, i32, i32)> = centres
        .iter()
        .map(|&(cx, cy)| {
            (
                cx - RADIUS - 2,
                cy - RADIUS - 2,
                cx + RADIUS + 2,
                cy + RADIUS + 2,
            )
        })
        .collect();
    for ((s, x, y), &(px, py)) in pts.iter().zip(&centres) {
        let mut lines = vec![(s.id.to_string(), true)];
        if let Some(t) = s.summary.world_tonnes_avoided.and_then(finite) {
            lines.push((format!("{} t avoided", crate::format::tonnes(t)), false));
        }
        let w = lines
            .iter()
            .map(|(l, b)| text_width(l, LABEL, *b) as i32)
            .max()
            .unwrap_or(0);
        let h = lines.len() as i32 * LABEL_LINE;
        let gap = RADIUS + 6;
        let free = |lx: i32, ly: i32, placed: &[(i32, i32, i32, i32)]| {
            lx >= xr.start + 2
                && lx + w <= xr.end - 2
                && ly >= yr.start
                && ly + h <= yr.end
                && !placed
                    .iter()
                    .any(|&(a, b, c, d)| lx < c && lx + w > a && ly < d && ly + h > b)
        };
        let mut spot = None;
        'search: for k in 0..80 {
            let dy = if k % 2 == 0 {
                k / 2 * 6
            } else {
                -(k / 2 + 1) * 6
            };
            for right in [true, false] {
                let lx = if right { px + gap } else { px - gap - w };
                let ly = py - h / 2 + dy;
                if free(lx, ly, &placed) {
                    spot = Some((right, lx, ly));
                    break 'search;
                }
            }
        }
        let (right, lx, ly) = spot.unwrap_or((true, px + gap, py - h / 2));
        placed.push((lx, ly, lx + w, ly + h));
        let at = |bx: i32, by: i32| (bx - px, by - py);
        if (ly + LABEL_LINE / 2 - py).abs() > LABEL_LINE {
            let end = at(if right { lx - 3 } else { lx + w + 3 }, ly + LABEL_LINE / 2);
            // From the circle's edge, not its centre.
            let len = ((end.0 * end.0 + end.1 * end.1) as f64).sqrt().max(1.0);
            let r = (RADIUS + 1) as f64 / len;
            let start = (
                (end.0 as f64 * r).round() as i32,
                (end.1 as f64 * r).round() as i32,
            );
            chart.plotting_area().draw(
                &(EmptyElement::at((*x, *y))
                    + PathElement::new(vec![start, end], MUTED.stroke_width(1))),
            )?;
        }
        for (i, (line, is_bold)) in lines.into_iter().enumerate() {
            let style = if is_bold {
                bold(LABEL)
            } else {
                colored(font(LABEL - 2.0), MUTED)
            };
            chart.plotting_area().draw(
                &(EmptyElement::at((*x, *y))
                    + Text::new(
                        line,
                        at(lx, ly + i as i32 * LABEL_LINE),
                        anchored(style, HPos::Left, VPos::Top),
                    )),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(1234.6, 0), "1,235");
        assert_eq!(number(-0.25, 2), "-0.25");
        assert_eq!(number(0.0, 1), "0.0");
        assert_eq!(number(-0.001, 2), "0.00");
        assert_eq!(decimals(500.0), 0);
        assert_eq!(decimals(0.3), 2);
    }
}
