//! Strategy figure: shortfall reductions with confidence intervals. Two
//! panels sharing one row layout: for each commodity (world shortfall) and
//! strategy, a horizontal bar of the reduction of the mean shortfall (left)
//! and of cvar95 (right), base minus strategy in percentage points of
//! demand, with the 95% confidence interval of the paired differences as a
//! whisker. Bars right of zero mean the strategy helps.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::{Compared, Ctx};
use crate::model::WORLD;
use crate::results::comparison::ComparisonRow;

const BAR_H: i32 = 13;
const BAR_STEP: i32 = 16;
const GROUP_GAP: i32 = 14;
const LABEL: f64 = 15.0;
const NAME_MAX: u32 = 260;
const NAME_LINE: i32 = 18;
const PANEL_W: i32 = 500;
const PANEL_GAP: i32 = 56;
const HEAD_H: i32 = 34;
const AXIS_H: i32 = 62;
const BAND: RGBColor = RGBColor(246, 246, 246);

pub fn title(_ctx: &Ctx) -> String {
    "Strategies against the base: reduction of the world shortfall, with 95% confidence intervals"
        .to_string()
}

pub fn caption(ctx: &Ctx) -> String {
    format!(
        "For each commodity, each bar is how much a strategy lowers the world shortfall against the base (base minus \
         strategy, in percentage points of world demand over the {}-month horizon), for the mean (left) and for \
         cvar95, the mean of the worst 5% of trials (right); bars right of zero mean the strategy helps, and the \
         whiskers are 95% confidence intervals from the paired trial-by-trial differences.",
        ctx.summary.horizon_months
    )
}

fn row<'a>(ctx: &'a Ctx, strategy: &str, commodity: &str) -> Option<&'a ComparisonRow> {
    ctx.summary
        .comparison
        .as_ref()?
        .rows
        .iter()
        .find(|r| r.strategy == strategy && r.commodity == commodity && r.consumer == WORLD)
}

/// Commodities with at least one world row, in scenario order.
fn commodities<'a>(ctx: &'a Ctx) -> Vec<&'a str> {
    let strategies = ctx.compared();
    ctx.commodities
        .iter()
        .map(String::as_str)
        .filter(|k| strategies.iter().any(|s| row(ctx, s.id, k).is_some()))
        .collect()
}

pub fn available(ctx: &Ctx) -> bool {
    !commodities(ctx).is_empty()
}

fn legend(ctx: &Ctx) -> Legend {
    let mut items: Vec<(Key, String)> = ctx
        .compared()
        .iter()
        .map(|s| (Key::Box(s.color), s.id.to_string()))
        .collect();
    items.push((
        Key::Line(TEXT, 2, false),
        "95% confidence interval".to_string(),
    ));
    Legend { items }
}

fn frame<'a>(ctx: &Ctx, legend: &'a Legend) -> Frame<'a> {
    Frame {
        title: title(ctx),
        subtitle: vec![
            ctx.scenario_line(),
            format!(
                "Reduction = {} minus strategy, world shortfall, in percentage points (pp) of world demand; right of \
                 zero = the strategy helps.",
                ctx.strategy
            ),
        ],
        legend: Some(legend),
        source: ctx.source_line(),
    }
}

fn names(ctx: &Ctx) -> (u32, Vec<Vec<String>>) {
    let wrapped: Vec<Vec<String>> = commodities(ctx)
        .iter()
        .map(|k| {
            let mut l = wrap(ctx.name(k), NAME_MAX, LABEL, true);
            if l.len() > 2 {
                let rest = l[1..].join(" ");
                l = vec![l[0].clone(), ellipsize(&rest, NAME_MAX, LABEL, true)];
            }
            l
        })
        .collect();
    let w = wrapped
        .iter()
        .flatten()
        .map(|s| text_width(s, LABEL, true))
        .max()
        .unwrap_or(0)
        .clamp(60, NAME_MAX);
    (w, wrapped)
}

/// Height of one commodity's group of bars.
fn group_h(ctx: &Ctx) -> i32 {
    let n = ctx.compared().len().max(1) as i32;
    (n * BAR_STEP).max(2 * NAME_LINE + 4)
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let (nw, _) = names(ctx);
    let w = (MARGIN * 2 + nw as i32 + 18 + 2 * PANEL_W + PANEL_GAP + 20) as u32;
    let n = commodities(ctx).len().max(1) as i32;
    let rows_h = n * (group_h(ctx) + GROUP_GAP);
    let legend = legend(ctx);
    let h = frame(ctx, &legend).header_height(w) + (HEAD_H + rows_h + AXIS_H) as u32 + FOOTER_H;
    (w, h)
}

/// A linear value axis over `[lo, hi]` drawn from pixel `x0`, `w` wide.
struct Scale {
    lo: f64,
    hi: f64,
    x0: i32,
    w: i32,
}

impl Scale {
    fn px(&self, v: f64) -> i32 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        self.x0 + (t * self.w as f64).round() as i32
    }
}

/// Tick step of about `span / 5`: 1, 2, 2.5 or 5 times a power of ten.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(1e-9);
    let e = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * e >= raw * (1.0 - 1e-9) {
            return m * e;
        }
    }
    10.0 * e
}

/// Axis range (in pp) covering zero, every value and every interval, its
/// ends on half tick steps; and the tick step.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo < 1e-9 {
        hi = lo + 0.01;
    }
    let step = tick_step(hi - lo);
    let half = step / 2.0;
    let lo = (lo / half - 1e-9).floor() * half;
    let hi = (hi / half + 1e-9).ceil() * half;
    (lo, hi, step)
}

/// Tick label in pp with the decimals `step` needs.
fn tick_label(v: f64, step: f64) -> String {
    let d = (-step.log10().floor()).max(0.0) as usize
        + usize::from(step < 10.0 && step_is_quarter(step));
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    crate::format::fixed(v, d)
}

fn step_is_quarter(step: f64) -> bool {
    let m = step / 10f64.powf(step.log10().floor());
    (m - 2.5).abs() < 1e-6
}

/// Which reduction a panel shows.
#[derive(Clone, Copy)]
enum Measure {
    Mean,
    Cvar95,
}

impl Measure {
    fn value(self, r: &ComparisonRow) -> (f64, [f64; 2]) {
        match self {
            Measure::Mean => (r.mean_reduction, r.mean_reduction_ci),
            Measure::Cvar95 => (r.cvar95_reduction, r.cvar95_reduction_ci),
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Measure::Mean => "Mean shortfall reduction",
            Measure::Cvar95 => "cvar95 reduction (mean of the worst 5% of trials)",
        }
    }
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend(ctx);
    let body = frame(ctx, &legend).draw(root)?;
    let (nw, wrapped) = names(ctx);
    let comms = commodities(ctx);
    let strategies = ctx.compared();
    let gh = group_h(ctx);
    let y0 = HEAD_H;
    let rows_h = comms.len() as i32 * (gh + GROUP_GAP);
    let group_y = |i: usize| y0 + i as i32 * (gh + GROUP_GAP) + GROUP_GAP / 2;
    let px0 = MARGIN + nw as i32 + 18;

    // Background bands on every other commodity, across both panels.
    for i in (0..comms.len()).filter(|i| i % 2 == 1) {
        let y = group_y(i) - GROUP_GAP / 2;
        body.draw(&Rectangle::new(
            [
                (MARGIN, y),
                (px0 + 2 * PANEL_W + PANEL_GAP, y + gh + GROUP_GAP),
            ],
            BAND.filled(),
        ))?;
    }
    // Commodity names.
    for (i, lines) in wrapped.iter().enumerate() {
        let cy = group_y(i) + gh / 2;
        let top = cy - (lines.len() as i32 * NAME_LINE) / 2 + NAME_LINE / 2;
        for (n, line) in lines.iter().enumerate() {
            body.draw(&Text::new(
                line.clone(),
                (MARGIN, top + n as i32 * NAME_LINE),
                anchored(bold(LABEL), HPos::Left, VPos::Center),
            ))?;
        }
    }
    for (p, measure) in [Measure::Mean, Measure::Cvar95].into_iter().enumerate() {
        let values = comms.iter().flat_map(|k| {
            strategies
                .iter()
                .filter_map(|s| row(ctx, s.id, k))
                .flat_map(|r| {
                    let (v, ci) = measure.value(r);
                    [v * 100.0, ci[0] * 100.0, ci[1] * 100.0]
                })
        });
        let (lo, hi, step) = range(values);
        let sc = Scale {
            lo,
            hi,
            x0: px0 + p as i32 * (PANEL_W + PANEL_GAP),
            w: PANEL_W,
        };
        body.draw(&Text::new(
            ellipsize(measure.heading(), PANEL_W as u32, LABEL, true),
            (sc.x0, y0 - 10),
            anchored(bold(LABEL), HPos::Left, VPos::Bottom),
        ))?;
        // Grid, ticks and the zero line.
        let axis_y = y0 + rows_h + 2;
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        for t in first..=last {
            let v = t as f64 * step;
            let x = sc.px(v);
            let zero = v.abs() < step * 1e-6;
            body.draw(&PathElement::new(
                vec![(x, y0), (x, axis_y)],
                if zero { MUTED } else { GRID_BOLD }.stroke_width(1),
            ))?;
            body.draw(&PathElement::new(
                vec![(x, axis_y), (x, axis_y + 5)],
                MUTED.stroke_width(1),
            ))?;
            body.draw(&Text::new(
                tick_label(v, step),
                (x, axis_y + 8),
                anchored(font(TICK), HPos::Center, VPos::Top),
            ))?;
        }
        body.draw(&PathElement::new(
            vec![(sc.x0, axis_y), (sc.x0 + PANEL_W, axis_y)],
            MUTED.stroke_width(1),
        ))?;
        body.draw(&Text::new(
            format!(
                "reduction (pp of {}-month world demand)",
                ctx.summary.horizon_months
            ),
            (sc.x0 + PANEL_W / 2, axis_y + 34),
            anchored(font(AXIS_DESC), HPos::Center, VPos::Top),
        ))?;
        for (i, k) in comms.iter().enumerate() {
            let gy = group_y(i) + (gh - strategies.len() as i32 * BAR_STEP) / 2;
            for (j, s) in strategies.iter().enumerate() {
                let Some(r) = row(ctx, s.id, k) else { continue };
                bar(&body, &sc, measure, r, s, gy + j as i32 * BAR_STEP)?;
            }
        }
    }
    Ok(())
}

fn bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sc: &Scale,
    measure: Measure,
    r: &ComparisonRow,
    s: &Compared,
    y: i32,
) -> FigResult
where
    DB::ErrorType: 'static,
{
    let (v, ci) = measure.value(r);
    let (top, bot) = (
        y + (BAR_STEP - BAR_H) / 2,
        y + (BAR_STEP - BAR_H) / 2 + BAR_H,
    );
    let cy = (top + bot) / 2;
    let z = sc.px(0.0);
    if let Some(v) = finite(v) {
        let x = sc.px(v * 100.0);
        if x != z {
            area.draw(&Rectangle::new(
                [(z.min(x), top), (z.max(x), bot)],
                s.color.filled(),
            ))?;
        } else {
            // A zero reduction: a thin tick so the strategy is visibly there.
            area.draw(&PathElement::new(
                vec![(z, top), (z, bot)],
                s.color.stroke_width(2),
            ))?;
        }
    }
    if let (Some(a), Some(b)) = (finite(ci[0]), finite(ci[1])) {
        let (a, b) = (sc.px(a * 100.0), sc.px(b * 100.0));
        let style = TEXT.stroke_width(1);
        if b - a >= 2 {
            area.draw(&PathElement::new(vec![(a, cy), (b, cy)], style))?;
        }
        for x in [a, b] {
            area.draw(&PathElement::new(vec![(x, cy - 4), (x, cy + 4)], style))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks() {
        assert_eq!(tick_step(1.0), 0.2);
        assert_eq!(tick_step(10.0), 2.0);
        let (lo, hi, step) = range([-0.3, 0.93].into_iter());
        assert_eq!(step, 0.25);
        assert!((lo + 0.375).abs() < 1e-12 && (hi - 1.0).abs() < 1e-12);
        assert_eq!(tick_label(0.25, 0.25), "0.25");
        assert_eq!(tick_label(0.4, 0.2), "0.4");
        assert_eq!(tick_label(-0.0, 1.0), "0");
        assert_eq!(tick_label(50.0, 25.0), "50");
        assert_eq!(tick_label(5.0, 2.5), "5.0");
    }
}
