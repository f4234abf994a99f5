//! Sweep figure: the metric over the grid of one or two PATHs. One PATH: a
//! line per commodity panel with its 95% confidence band and the base value
//! dashed (for `--target`, the values the search evaluated, the threshold
//! and the answer). Two PATHs: a heatmap per commodity, cells coloured and
//! labelled by the metric.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::sweep::{Draw, frame, num, quantity, tick};
use crate::results::sweep::{PointRow, SweepReport};

const CELL_W: i32 = 96;
const CELL_H: i32 = 40;
const HEAT_HEAD: i32 = 62;
const HEAT_LEFT: i32 = 110;
const HEAT_AXIS: i32 = 60;
const BAR_SPACE: i32 = 140;

pub struct SweepGrid<'a> {
    pub report: &'a SweepReport,
}

impl SweepGrid<'_> {
    fn two(&self) -> bool {
        self.report.vary.len() == 2
    }

    fn points(&self, k: &str) -> Vec<&PointRow> {
        self.report
            .points
            .iter()
            .filter(|p| p.commodity == k)
            .collect()
    }

    fn legend(&self) -> Legend {
        let mut items = vec![
            (Key::Line(OI_BLUE, 3, false), self.report.metric.clone()),
            (Key::Band(OI_BLUE, 0.2), "95% confidence interval".into()),
            (Key::Line(MUTED, 2, true), "base".into()),
        ];
        if self.report.target.is_some() {
            items.push((Key::Line(OI_VERMILLION, 2, true), "target".into()));
            items.push((Key::Line(OI_BLUISH_GREEN, 2, false), "answer".into()));
        }
        Legend { items }
    }

    fn heat_size(&self) -> (u32, u32) {
        let k = self
            .report
            .commodities
            .first()
            .map(String::as_str)
            .unwrap_or("");
        let pts = self.points(k);
        let nx = values_of(&pts, &self.report.vary[0].path).len();
        let ny = values_of(&pts, &self.report.vary[1].path).len();
        let (w, h) = Cells::new(nx, ny).size();
        (
            w.max(900) as u32,
            (h * self.report.commodities.len() as i32) as u32,
        )
    }
}

impl Draw for SweepGrid<'_> {
    fn stem(&self) -> String {
        if self.report.target.is_some() {
            "sweep-target".into()
        } else {
            "sweep-grid".into()
        }
    }

    fn title(&self) -> String {
        let paths: Vec<&str> = self.report.vary.iter().map(|v| v.path.as_str()).collect();
        let what = self
            .report
            .commodities
            .first()
            .filter(|_| self.report.commodities.len() == 1)
            .map(|k| quantity(self.report, k))
            .unwrap_or_else(|| {
                format!(
                    "{} of the {} shortfall",
                    self.report.metric, self.report.consumer
                )
            });
        match &self.report.target {
            Some(t) => format!(
                "Target {} {} {}: search along {}",
                what,
                t.op,
                tick(self.report, t.threshold, 1.0),
                paths[0]
            ),
            None => format!("{} over {}", what, paths.join(" × ")),
        }
    }

    fn caption(&self) -> String {
        if self.two() {
            "Each cell is the metric with the two inputs at the values on the axes and every other input at base; \
             all cells share the base's random draws (common random numbers), so differences between cells are \
             effects of the inputs, not sampling noise."
                .into()
        } else if self.report.target.is_some() {
            "The metric at every value the bisection evaluated (dots), with 95% confidence intervals where computed; \
             the dashed vermillion line is the target and the green line the answer."
                .into()
        } else {
            "The metric at evenly spaced values of the input (every other input at base), with its 95% confidence \
             band; the dashed line is the base. All points share the base's random draws (common random numbers)."
                .into()
        }
    }

    fn size(&self) -> (u32, u32) {
        let legend = self.legend();
        let f = frame(self.report, self.title(), (!self.two()).then_some(&legend));
        if self.two() {
            let (w, h) = self.heat_size();
            (w, f.header_height(w) + h + FOOTER_H)
        } else {
            let n = self.report.commodities.len().max(1);
            let (w, _) = grid_size(n, &f);
            let w = w.max(960);
            let rows = n.div_ceil(grid_cols(n)) as u32;
            let panel_h = if n == 1 { PANEL_H * 3 / 2 } else { PANEL_H };
            (w, f.header_height(w) + rows * panel_h + FOOTER_H)
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let legend = self.legend();
        if self.two() {
            let body = frame(self.report, self.title(), None).draw(root)?;
            let n = self.report.commodities.len();
            for (i, area) in body.split_evenly((n, 1)).iter().enumerate() {
                self.heatmap(area, &self.report.commodities[i])?;
            }
            return Ok(());
        }
        let f = frame(self.report, self.title(), Some(&legend));
        draw_grid(root, &f, &self.report.commodities, |area, k| {
            self.line(area, k)
        })
    }
}

impl SweepGrid<'_> {
    /// The points of commodity `k` along the single PATH, by value:
    /// (value, metric, ci).
    fn line_points(&self, k: &str) -> Vec<(f64, f64, Option<[f64; 2]>)> {
        let path = &self.report.vary[0].path;
        let mut pts: Vec<(f64, f64, Option<[f64; 2]>)> = self
            .points(k)
            .iter()
            .filter_map(|p| p.values.get(path).map(|&x| (x, p.metric, p.ci)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts
    }

    /// The y range: every value, interval, the base and the target, padded.
    fn y_range(&self, pts: &[(f64, f64, Option<[f64; 2]>)], base: Option<f64>) -> (f64, f64) {
        let ys = pts
            .iter()
            .flat_map(|p| [Some(p.1), p.2.map(|c| c[0]), p.2.map(|c| c[1])])
            .chain([base, self.report.target.as_ref().map(|t| t.threshold)])
            .flatten()
            .filter_map(finite);
        let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
        let pad = ((hi - lo) * 0.08).max(1e-4);
        ((lo - pad).max(0.0f64.min(lo)), hi + pad)
    }

    fn line<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, k: &str) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.report;
        let pts = self.line_points(k);
        let base = r.base_of(k).map(|b| b.metric);
        let (y0, y1) = self.y_range(&pts, base);
        let (x0, x1) = (r.vary[0].low, r.vary[0].high);
        let mut chart = panel_chart(area, r.name_of(k)).build_cartesian_2d(x0..x1, y0..y1)?;
        mesh_look(&mut chart.configure_mesh())
            .x_desc(r.vary[0].path.as_str())
            .y_desc(r.metric.as_str())
            .y_label_formatter(&|y| tick(r, *y, y1 - y0))
            .draw()?;
        let band: Vec<(f64, f64, f64)> = pts
            .iter()
            .filter_map(|p| p.2.map(|c| (p.0, c[0], c[1])))
            .collect();
        if band.len() > 1 {
            let upper = band.iter().map(|b| (b.0, b.2));
            let poly: Vec<(f64, f64)> =
                upper.chain(band.iter().rev().map(|b| (b.0, b.1))).collect();
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                OI_BLUE.mix(0.2).filled(),
            )))?;
        }
        chart.draw_series(LineSeries::new(
            pts.iter().map(|p| (p.0, p.1)),
            OI_BLUE.stroke_width(3),
        ))?;
        chart.draw_series(
            pts.iter()
                .map(|p| Circle::new((p.0, p.1), 4, OI_BLUE.filled())),
        )?;
        // dashes work in pixels of `area`; the chart gives absolute pixels
        let (ox, oy) = area.get_base_pixel();
        let px = |x: f64, y: f64| {
            let (a, b) = chart.backend_coord(&(x, y));
            (a - ox, b - oy)
        };
        let mut lines = vec![(base, MUTED)];
        lines.push((r.target.as_ref().map(|t| t.threshold), OI_VERMILLION));
        for (y, c) in lines.into_iter().filter_map(|(y, c)| y.map(|y| (y, c))) {
            for s in dashes(px(x0, y), px(x1, y), 7, 5) {
                area.draw(&PathElement::new(vec![s.0, s.1], c.stroke_width(2)))?;
            }
        }
        if let Some(v) = r.target.as_ref().and_then(|t| t.value) {
            let answer = PathElement::new(vec![(v, y0), (v, y1)], OI_BLUISH_GREEN.stroke_width(2));
            chart.draw_series(std::iter::once(answer))?;
        }
        Ok(())
    }

    fn heatmap<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, k: &str) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.report;
        let (px, py) = (&r.vary[0].path, &r.vary[1].path);
        let pts = self.points(k);
        let (xs, ys) = (values_of(&pts, px), values_of(&pts, py));
        let g = Cells::new(xs.len(), ys.len());
        let value = |x: f64, y: f64| {
            pts.iter()
                .find(|p| p.values.get(px) == Some(&x) && p.values.get(py) == Some(&y))
                .map(|p| p.metric)
        };
        let all: Vec<f64> = pts.iter().map(|p| p.metric).filter_map(finite).collect();
        let lo = all.iter().copied().fold(f64::MAX, f64::min);
        let hi = all.iter().copied().fold(f64::MIN, f64::max);
        let scale = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        area.draw(&Text::new(
            panel_title(r.name_of(k), 600),
            (MARGIN, 8),
            anchored(bold(PANEL_TITLE), HPos::Left, VPos::Top),
        ))?;
        for (j, &y) in ys.iter().rev().enumerate() {
            for (i, &x) in xs.iter().enumerate() {
                let v = value(x, y);
                let fill = v.map(|v| viridis(scale(v))).unwrap_or(MISSING);
                let ((cx, cy), (cw, ch)) = (g.at(i, j), (g.w, g.h));
                area.draw(&Rectangle::new(
                    [(cx, cy), (cx + cw, cy + ch)],
                    fill.filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(cx, cy), (cx + cw, cy + ch)],
                    WHITE.stroke_width(1),
                ))?;
                if g.labelled() {
                    area.draw(&Text::new(
                        v.map(|v| tick(r, v, 0.001)).unwrap_or_else(|| "n/a".into()),
                        (cx + cw / 2, cy + ch / 2),
                        anchored(
                            colored(font(CELL - 2.0), text_on(&fill)),
                            HPos::Center,
                            VPos::Center,
                        ),
                    ))?;
                }
            }
        }
        g.axes(area, &xs, &ys, px, py)?;
        g.colour_bar(area, r, lo, hi)
    }
}

/// Geometry of a heatmap panel: cells shrink as the grid grows.
struct Cells {
    nx: usize,
    ny: usize,
    w: i32,
    h: i32,
}

impl Cells {
    fn new(nx: usize, ny: usize) -> Cells {
        Cells {
            nx,
            ny,
            w: (1400 / nx.max(1) as i32).clamp(14, CELL_W),
            h: (640 / ny.max(1) as i32).clamp(10, CELL_H),
        }
    }

    /// Top-left pixel of cell column `i`, row `j` (rows from the top).
    fn at(&self, i: usize, j: usize) -> (i32, i32) {
        (
            MARGIN + HEAT_LEFT + i as i32 * self.w,
            HEAT_HEAD + j as i32 * self.h,
        )
    }

    /// Whether cells are large enough to print their values.
    fn labelled(&self) -> bool {
        self.w >= 70 && self.h >= 28
    }

    /// Pixel size of the panel.
    fn size(&self) -> (i32, i32) {
        (
            2 * MARGIN + HEAT_LEFT + self.nx as i32 * self.w + BAR_SPACE,
            HEAT_HEAD + self.ny as i32 * self.h + HEAT_AXIS,
        )
    }

    /// Tick labels (thinned so they do not overlap) and axis names.
    fn axes<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        xs: &[f64],
        ys: &[f64],
        px: &str,
        py: &str,
    ) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let every_x = (70 / self.w + 1) as usize;
        let every_y = (22 / self.h + 1) as usize;
        for (j, &y) in ys
            .iter()
            .rev()
            .enumerate()
            .filter(|(j, _)| j % every_y == 0)
        {
            let (x0, cy) = self.at(0, j);
            let t = Text::new(
                num(y),
                (x0 - 8, cy + self.h / 2),
                anchored(font(TICK), HPos::Right, VPos::Center),
            );
            area.draw(&t)?;
        }
        let (_, by) = self.at(0, ys.len());
        for (i, &x) in xs.iter().enumerate().filter(|(i, _)| i % every_x == 0) {
            let (cx, _) = self.at(i, 0);
            let t = Text::new(
                num(x),
                (cx + self.w / 2, by + 6),
                anchored(font(TICK), HPos::Center, VPos::Top),
            );
            area.draw(&t)?;
        }
        let (x0, _) = self.at(0, 0);
        area.draw(&Text::new(
            px.to_string(),
            (x0, by + 30),
            anchored(font(AXIS_DESC), HPos::Left, VPos::Top),
        ))?;
        area.draw(&Text::new(
            format!("↑ {py}"),
            (MARGIN, HEAT_HEAD - 4),
            anchored(font(AXIS_DESC), HPos::Left, VPos::Bottom),
        ))?;
        Ok(())
    }

    /// The colour scale right of the cells, from the panel's lowest to highest value.
    fn colour_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        r: &SweepReport,
        lo: f64,
        hi: f64,
    ) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        if !(lo.is_finite() && hi.is_finite()) {
            return Ok(());
        }
        let (x, top) = self.at(self.nx, 0);
        let x = x + 24;
        let bh = (self.ny as i32 * self.h).max(60);
        let steps = 48;
        for s in 0..steps {
            let ya = top + bh - bh * (s + 1) / steps;
            let yb = top + bh - bh * s / steps;
            let c = viridis((s as f64 + 0.5) / steps as f64);
            area.draw(&Rectangle::new([(x, ya), (x + 16, yb)], c.filled()))?;
        }
        area.draw(&Rectangle::new(
            [(x, top), (x + 16, top + bh)],
            MUTED.stroke_width(1),
        ))?;
        for (v, y) in [(hi, top), (lo, top + bh)] {
            let t = Text::new(
                tick(r, v, (hi - lo).max(1e-9)),
                (x + 22, y),
                anchored(font(TICK), HPos::Left, VPos::Center),
            );
            area.draw(&t)?;
        }
        Ok(())
    }
}

/// The distinct values of `path` among `pts`, ascending.
fn values_of(pts: &[&PointRow], path: &str) -> Vec<f64> {
    let mut v: Vec<f64> = pts
        .iter()
        .filter_map(|p| p.values.get(path).copied())
        .collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}
