//! Figure 3: risk heatmap. Commodities (rows, highest world cvar95 first) by
//! consumers (columns), each cell coloured by cvar95 on one viridis scale
//! shared by every strategy, with the value printed in the cell.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::Ctx;
use super::style::*;
use crate::model::WORLD;

const CELL_W: i32 = 104;
const CELL_H: i32 = 42;
const LABEL: f64 = 15.0;
const LABEL_MAX: u32 = 300;
const HEAD_H: i32 = 36;
const BAR_W: i32 = 22;
const BAR_GAP: i32 = 34;
const BAR_LABELS: i32 = 80;
const GROUP_GAP: i32 = 10;

pub fn title(ctx: &Ctx) -> String {
    format!(
        "Risk heatmap: cvar95 of the shortfall by commodity and consumer{}",
        ctx.title_suffix()
    )
}

pub fn caption(ctx: &Ctx) -> String {
    format!(
        "Each cell is the cvar95 of that consumer's shortfall for that commodity, the mean shortfall (as % of its demand \
         over the {}-month horizon) in the worst 5% of trials; brighter cells mean a heavier tail, and rows are sorted \
         by the world column.",
        ctx.summary.horizon_months
    )
}

pub fn available(ctx: &Ctx) -> bool {
    !ctx.commodities.is_empty() && !ctx.series.is_empty()
}

fn value(ctx: &Ctx, commodity: &str, consumer: &str) -> Option<f64> {
    ctx.summary
        .results
        .iter()
        .find(|r| r.strategy == ctx.strategy && r.commodity == commodity && r.consumer == consumer)
        .and_then(|r| finite(r.metrics.cvar95))
}

/// Commodities, highest world cvar95 first (ties and missing values keep
/// scenario order).
fn rows(ctx: &Ctx) -> Vec<String> {
    let mut v: Vec<(usize, f64, String)> = ctx
        .commodities
        .iter()
        .enumerate()
        .map(|(i, k)| (i, value(ctx, k, WORLD).unwrap_or(-1.0), k.clone()))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|t| t.2).collect()
}

/// Upper end of the colour scale, shared by every strategy of the summary.
fn scale_max(ctx: &Ctx) -> f64 {
    let m = ctx
        .summary
        .results
        .iter()
        .filter_map(|r| finite(r.metrics.cvar95))
        .fold(0.0f64, f64::max);
    nice_ceil(m.max(1e-3))
}

fn labels(ctx: &Ctx) -> (u32, Vec<Vec<String>>) {
    let rows = rows(ctx);
    let wrapped: Vec<Vec<String>> = rows
        .iter()
        .map(|k| {
            let mut l = wrap(ctx.name(k), LABEL_MAX, LABEL, false);
            if l.len() > 2 {
                let rest = l[1..].join(" ");
                l = vec![l[0].clone(), ellipsize(&rest, LABEL_MAX, LABEL, false)];
            }
            l
        })
        .collect();
    let w = wrapped
        .iter()
        .flatten()
        .map(|s| text_width(s, LABEL, false))
        .max()
        .unwrap_or(0)
        .clamp(60, LABEL_MAX);
    (w, wrapped)
}

fn has_group_gap(ctx: &Ctx, j: usize) -> bool {
    j > 0 && ctx.series[j] == WORLD
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let (lw, _) = labels(ctx);
    let cols = ctx.series.len() as i32;
    let gap = if ctx.series.iter().any(|s| s == WORLD) {
        GROUP_GAP
    } else {
        0
    };
    let w = (MARGIN * 2 + lw as i32 + 14 + cols * CELL_W + gap + BAR_GAP + BAR_W + BAR_LABELS)
        .max(960) as u32;
    let rows = ctx.commodities.len() as i32;
    let h = ctx.frame(title(ctx), None).header_height(w) as i32
        + HEAD_H
        + rows * CELL_H
        + 16
        + FOOTER_H as i32;
    (w, h as u32)
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let body = ctx.frame(title(ctx), None).draw(root)?;
    let (lw, wrapped) = labels(ctx);
    let rows = rows(ctx);
    let smax = scale_max(ctx);
    let x0 = MARGIN + lw as i32 + 14;
    let y0 = HEAD_H;
    let col_x = |j: usize| {
        x0 + j as i32 * CELL_W
            + if (0..=j).any(|i| has_group_gap(ctx, i)) {
                GROUP_GAP
            } else {
                0
            }
    };
    // Column headers.
    for (j, id) in ctx.series.iter().enumerate() {
        let t = ellipsize(id, CELL_W as u32 - 6, LABEL, true);
        body.draw(&Text::new(
            t,
            (col_x(j) + CELL_W / 2, y0 - 8),
            anchored(bold(LABEL), HPos::Center, VPos::Bottom),
        ))?;
    }
    for (i, k) in rows.iter().enumerate() {
        let y = y0 + i as i32 * CELL_H;
        // Row label, right-aligned, one or two lines.
        let lines = &wrapped[i];
        let lh = 18;
        let top = y + CELL_H / 2 - (lines.len() as i32 * lh) / 2 + lh / 2;
        for (n, line) in lines.iter().enumerate() {
            body.draw(&Text::new(
                line.clone(),
                (x0 - 10, top + n as i32 * lh),
                anchored(font(LABEL), HPos::Right, VPos::Center),
            ))?;
        }
        for (j, c) in ctx.series.iter().enumerate() {
            let x = col_x(j);
            let v = value(ctx, k, c);
            let fill = match v {
                Some(v) => viridis(v / smax),
                None => MISSING,
            };
            body.draw(&Rectangle::new(
                [(x, y), (x + CELL_W, y + CELL_H)],
                fill.filled(),
            ))?;
            body.draw(&Rectangle::new(
                [(x, y), (x + CELL_W, y + CELL_H)],
                WHITE.stroke_width(2),
            ))?;
            let (label, color) = match v {
                Some(v) => (pct_label(v), text_on(&fill)),
                None => ("n/a".to_string(), MUTED),
            };
            body.draw(&Text::new(
                label,
                (x + CELL_W / 2, y + CELL_H / 2),
                anchored(colored(font(CELL), color), HPos::Center, VPos::Center),
            ))?;
        }
    }
    // Colour bar.
    let bx = col_x(ctx.series.len().saturating_sub(1)) + CELL_W + BAR_GAP;
    let bh = (rows.len() as i32 * CELL_H).max(120);
    let steps = 64;
    for s in 0..steps {
        let t0 = s as f64 / steps as f64;
        let ya = y0 + bh - (bh as f64 * (s + 1) as f64 / steps as f64).round() as i32;
        let yb = y0 + bh - (bh as f64 * t0).round() as i32;
        body.draw(&Rectangle::new(
            [(bx, ya), (bx + BAR_W, yb)],
            viridis(t0 + 0.5 / steps as f64).filled(),
        ))?;
    }
    body.draw(&Rectangle::new(
        [(bx, y0), (bx + BAR_W, y0 + bh)],
        MUTED.stroke_width(1),
    ))?;
    // The bar's heading sits clear above its top tick label.
    body.draw(&Text::new(
        "cvar95",
        (bx + BAR_W / 2, y0 - 18),
        anchored(bold(LABEL), HPos::Center, VPos::Bottom),
    ))?;
    for (v, label) in bar_ticks(smax, bh) {
        let y = y0 + bh - (bh as f64 * v / smax).round() as i32;
        body.draw(&PathElement::new(
            vec![(bx + BAR_W, y), (bx + BAR_W + 5, y)],
            MUTED.stroke_width(1),
        ))?;
        body.draw(&Text::new(
            label,
            (bx + BAR_W + 8, y),
            anchored(font(TICK), HPos::Left, VPos::Center),
        ))?;
    }
    Ok(())
}

/// Tick values and labels of a colour bar `bh` pixels high for values up to
/// `smax`: at least 28 px apart (labels never overlap), no label twice.
fn bar_ticks(smax: f64, bh: i32) -> Vec<(f64, String)> {
    let n = (bh / 28).clamp(1, 5);
    let mut out: Vec<(f64, String)> = Vec::new();
    for t in 0..=n {
        let v = smax * t as f64 / n as f64;
        let label = pct_tick(v, smax / n as f64);
        if out.last().is_none_or(|(_, l)| *l != label) {
            out.push((v, label));
        }
    }
    out
}

/// Cell value: percent with one decimal (two below 1%).
fn pct_label(v: f64) -> String {
    let p = v * 100.0;
    if p != 0.0 && p.abs() < 1.0 {
        format!("{}%", crate::format::fixed(p, 2))
    } else {
        format!("{}%", crate::format::fixed(p, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_bar_ticks_are_apart_and_distinct() {
        for (smax, bh) in [(0.012, 120), (1.0, 42), (0.0015, 500), (0.25, 84)] {
            let t = bar_ticks(smax, bh);
            assert!(t.len() >= 2, "{smax} {bh}: {t:?}");
            for w in t.windows(2) {
                let gap = (w[1].0 - w[0].0) / smax * bh as f64;
                assert!(gap >= 28.0 - 1e-9, "{smax} {bh}: {t:?}");
                assert_ne!(w[0].1, w[1].1);
            }
        }
    }
}
