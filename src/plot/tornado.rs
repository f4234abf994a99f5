//! Sweep figure: the tornado of one commodity. One row per varied PATH,
//! largest swing at the top; from the base value (vertical line), a bar to
//! the metric with the PATH at LOW (upper half of the row) and at HIGH
//! (lower half), each with the 95% confidence interval of its paired change
//! from base as a whisker.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::sweep::{Draw, frame, num, quantity, tick};
use crate::results::sweep::{SweepReport, TornadoRow};

const ROW_H: i32 = 44;
const LABEL_MAX: u32 = 440;
const LABEL: f64 = 15.0;
const AXIS_H: i32 = 56;
const WIDTH: u32 = 1240;
const LOW: RGBColor = OI_SKY_BLUE;
const HIGH: RGBColor = OI_VERMILLION;

pub struct Tornado<'a> {
    pub report: &'a SweepReport,
    pub commodity: &'a str,
    pub stem: String,
}

impl Tornado<'_> {
    fn rows(&self) -> Vec<&TornadoRow> {
        self.report
            .tornado
            .iter()
            .flatten()
            .filter(|r| r.commodity == self.commodity)
            .collect()
    }

    fn base(&self) -> f64 {
        self.report
            .base_of(self.commodity)
            .map(|b| b.metric)
            .unwrap_or(0.0)
    }

    fn legend(&self) -> Legend {
        Legend {
            items: vec![
                (Key::Box(LOW), "PATH at LOW".into()),
                (Key::Box(HIGH), "PATH at HIGH".into()),
                (
                    Key::Line(TEXT, 2, false),
                    "95% CI of the change (paired)".into(),
                ),
                (Key::Line(MUTED, 2, true), "base".into()),
            ],
        }
    }

    fn label_width(&self) -> u32 {
        self.rows()
            .iter()
            .map(|r| text_width(&r.path, LABEL, true))
            .max()
            .unwrap_or(100)
            .clamp(100, LABEL_MAX)
            + 20
    }

    /// The x range: base, every bar end and whisker, padded.
    fn x_range(&self) -> (f64, f64) {
        let b = self.base();
        let mut lo = b;
        let mut hi = b;
        for r in self.rows() {
            for x in [
                r.at_low,
                r.at_high,
                b + r.change_low_ci[0],
                b + r.change_low_ci[1],
            ]
            .into_iter()
            .chain([b + r.change_high_ci[0], b + r.change_high_ci[1]])
            .filter_map(finite)
            {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        let pad = ((hi - lo) * 0.06).max(1e-4);
        (
            (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
            hi + pad,
        )
    }
}

impl Draw for Tornado<'_> {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn title(&self) -> String {
        format!(
            "What drives {}: one input at a time",
            quantity(self.report, self.commodity)
        )
    }

    fn caption(&self) -> String {
        format!(
            "Each row is one input (PATH) set to the low (blue, upper half) and high (vermillion, lower half) end of \
             its range with every other input at base; bars start at the base value ({}) and rows are sorted by \
             swing, the distance between the two ends. Whiskers are 95% confidence intervals of each change from \
             base, from the trial-by-trial differences on common random numbers.",
            tick(self.report, self.base(), 1.0)
        )
    }

    fn size(&self) -> (u32, u32) {
        let legend = self.legend();
        let head = frame(self.report, self.title(), Some(&legend)).header_height(WIDTH);
        let n = self.rows().len().max(1) as u32;
        (
            WIDTH,
            head + n * ROW_H as u32 + AXIS_H as u32 + 20 + FOOTER_H,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let legend = self.legend();
        let body = frame(self.report, self.title(), Some(&legend)).draw(root)?;
        let rows = self.rows();
        if rows.is_empty() {
            return note(&body, "no inputs varied");
        }
        let lw = self.label_width();
        let (x0, x1) = self.x_range();
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(&body)
            .margin_left(MARGIN)
            .margin_right(MARGIN + 30)
            .margin_top(10)
            .x_label_area_size(AXIS_H as u32)
            .y_label_area_size(lw)
            .build_cartesian_2d(x0..x1, 0.0..n)?;
        let span = x1 - x0;
        mesh_look(&mut chart.configure_mesh())
            .disable_y_mesh()
            .disable_y_axis()
            .x_labels(8)
            .x_desc(format!(
                "{} ({} {})",
                self.report.metric,
                self.report.consumer,
                self.report.name_of(self.commodity)
            ))
            .x_label_formatter(&|x| tick(self.report, *x, span))
            .draw()?;
        let b = self.base();
        for (i, r) in rows.iter().enumerate() {
            let top = n - i as f64;
            self.draw_row(&mut chart, r, top, b)?;
            let (px, py) = chart.backend_coord(&(x0, top - 0.5));
            root.draw(&Text::new(
                ellipsize(&r.path, LABEL_MAX, LABEL, true),
                (px - 12, py),
                anchored(bold(LABEL), HPos::Right, VPos::Bottom),
            ))?;
            root.draw(&Text::new(
                format!("{} .. {}", num(r.low), num(r.high)),
                (px - 12, py + 2),
                anchored(colored(font(LABEL - 1.0), MUTED), HPos::Right, VPos::Top),
            ))?;
        }
        for seg in dashes(
            chart.backend_coord(&(b, n)),
            chart.backend_coord(&(b, 0.0)),
            7,
            5,
        ) {
            root.draw(&PathElement::new(vec![seg.0, seg.1], MUTED.stroke_width(2)))?;
        }
        Ok(())
    }
}

impl Tornado<'_> {
    fn draw_row<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<
            DB,
            Cartesian2d<
                plotters::coord::types::RangedCoordf64,
                plotters::coord::types::RangedCoordf64,
            >,
        >,
        r: &TornadoRow,
        top: f64,
        b: f64,
    ) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let halves = [
            (r.at_low, r.change_low_ci, LOW, top - 0.12, top - 0.48),
            (r.at_high, r.change_high_ci, HIGH, top - 0.52, top - 0.88),
        ];
        for (v, ci, color, y_hi, y_lo) in halves {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(b.min(v), y_lo), (b.max(v), y_hi)],
                color.filled(),
            )))?;
            let mid = 0.5 * (y_hi + y_lo);
            let (a, c) = (b + ci[0], b + ci[1]);
            if a.is_finite() && c.is_finite() {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(a, mid), (c, mid)],
                    TEXT.stroke_width(2),
                )))?;
                for x in [a, c] {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x, mid - 0.1), (x, mid + 0.1)],
                        TEXT.stroke_width(2),
                    )))?;
                }
            }
        }
        Ok(())
    }
}
