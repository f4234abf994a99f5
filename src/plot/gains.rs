//! Study figure: who gains and who loses under one strategy. For each
//! commodity the strategy changes, one bar per consumer (and the rest of the
//! world): the strategy's mean shortfall minus the base's, in percentage
//! points of that consumer's demand, with the 95% confidence interval of the
//! paired trial-by-trial differences as a whisker. Bars right of zero mean
//! the consumer is short of more under the strategy.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::sweep::Draw;
use crate::results::comparison::ComparisonRow;
use crate::results::study::AllianceStudy;

const BAR_STEP: f64 = 1.0;
const ROW_PX: u32 = 17;
const GROUP_GAP: f64 = 0.8;
const LABEL: f64 = 15.0;
const LABEL_W: u32 = 250;
const AXIS_H: u32 = 60;
const WIDTH: u32 = 1240;
/// Changes smaller than this (in shares of demand) count as none.
const NONE: f64 = 5e-5;

pub struct Gains<'a> {
    pub study: &'a AllianceStudy,
    pub strategy: &'a str,
    pub stem: String,
}

impl Gains<'_> {
    /// The consumer rows of one commodity, in series order.
    fn rows(&self, commodity: &str) -> Vec<&ComparisonRow> {
        self.study
            .consumers
            .iter()
            .filter_map(|j| self.study.row(self.strategy, commodity, j))
            .collect()
    }

    /// Commodities where some consumer's mean moves by at least [`NONE`].
    fn commodities(&self) -> Vec<&str> {
        self.study
            .commodities
            .iter()
            .map(|(id, _)| id.as_str())
            .filter(|k| self.rows(k).iter().any(|r| r.mean_reduction.abs() >= NONE))
            .collect()
    }

    fn legend(&self) -> Legend {
        let mut items: Vec<(Key, String)> = self
            .study
            .consumers
            .iter()
            .enumerate()
            .map(|(i, j)| (Key::Box(series_color(j, i)), j.clone()))
            .collect();
        items.push((
            Key::Line(TEXT, 2, false),
            "95% confidence interval (paired)".into(),
        ));
        Legend { items }
    }

    fn frame<'l>(&self, legend: &'l Legend) -> Frame<'l> {
        let s = &self.study;
        let name = s
            .summary
            .comparison
            .as_ref()
            .and_then(|c| c.strategies.iter().find(|x| x.id == self.strategy))
            .and_then(|x| x.name.clone())
            .unwrap_or_else(|| self.strategy.to_string());
        Frame {
            title: self.title(),
            subtitle: vec![
                format!("Strategy {}: {name}", self.strategy),
                "Change = strategy minus baseline, mean shortfall in percentage points (pp) of each consumer's \
                 demand; right of zero = more shortfall under the strategy."
                    .to_string(),
            ],
            legend: Some(legend),
            source: format!(
                "crmsim {} · scenario {} · seed {} · {} trials · {}-month horizon · common random numbers",
                s.crmsim_version,
                s.summary.scenario.name,
                s.seed,
                thousands(s.trials),
                s.horizon_months
            ),
        }
    }

    fn n_bars(&self) -> f64 {
        let ks = self.commodities();
        ks.len() as f64 * (self.study.consumers.len() as f64 * BAR_STEP + GROUP_GAP)
    }

    /// The x range in percentage points: zero, every bar and whisker, padded.
    fn x_range(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for k in self.commodities() {
            for r in self.rows(k) {
                let ci = r.mean_reduction_ci;
                for x in [-r.mean_reduction, -ci[0], -ci[1]]
                    .into_iter()
                    .filter_map(finite)
                {
                    lo = lo.min(100.0 * x);
                    hi = hi.max(100.0 * x);
                }
            }
        }
        let pad = ((hi - lo) * 0.06).max(0.01);
        (lo - pad, hi + pad)
    }
}

impl Draw for Gains<'_> {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn title(&self) -> String {
        format!(
            "Who gains, who loses under {}: change in each consumer's mean shortfall",
            self.strategy
        )
    }

    fn caption(&self) -> String {
        format!(
            "For each commodity the strategy changes, one bar per consumer: its mean shortfall under {} minus \
             under the baseline, in percentage points of its demand over the {}-month horizon; right of zero = \
             short of more. Whiskers are 95% confidence intervals from the paired trial-by-trial differences \
             (common random numbers). Commodities where no consumer's mean moves by 0.005 pp are left out.",
            self.strategy, self.study.horizon_months
        )
    }

    fn size(&self) -> (u32, u32) {
        let legend = self.legend();
        let head = self.frame(&legend).header_height(WIDTH);
        let body = (self.n_bars().max(2.0) * ROW_PX as f64) as u32;
        (WIDTH, head + body + AXIS_H + 20 + FOOTER_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let legend = self.legend();
        let body = self.frame(&legend).draw(root)?;
        let ks = self.commodities();
        if ks.is_empty() {
            return note(&body, "the strategy changes no consumer's mean shortfall");
        }
        let (x0, x1) = self.x_range();
        let n = self.n_bars();
        let mut chart = ChartBuilder::on(&body)
            .margin_left(MARGIN)
            .margin_right(MARGIN + 30)
            .margin_top(10)
            .x_label_area_size(AXIS_H)
            .y_label_area_size(LABEL_W)
            .build_cartesian_2d(x0..x1, 0.0..n)?;
        mesh_look(&mut chart.configure_mesh())
            .disable_y_mesh()
            .disable_y_axis()
            .x_labels(8)
            .x_desc("change in mean shortfall, percentage points of demand (strategy − baseline)")
            .x_label_formatter(&|x| format!("{x:.2}"))
            .draw()?;
        let mut top = n;
        for k in ks {
            let (px, py) = chart.backend_coord(&(x0, top - 0.2));
            root.draw(&Text::new(
                ellipsize(self.study.name_of(k), LABEL_W - 70, LABEL, true),
                (px - 64, py),
                anchored(bold(LABEL), HPos::Right, VPos::Top),
            ))?;
            for (i, j) in self.study.consumers.iter().enumerate() {
                if let Some(r) = self.study.row(self.strategy, k, j) {
                    let y = top - i as f64 * BAR_STEP;
                    bar(&mut chart, r, y, series_color(j, i))?;
                    let (lx, ly) = chart.backend_coord(&(x0, y - 0.5));
                    root.draw(&Text::new(
                        j.clone(),
                        (lx - 12, ly),
                        anchored(colored(font(LABEL - 2.0), MUTED), HPos::Right, VPos::Center),
                    ))?;
                }
            }
            top -= self.study.consumers.len() as f64 * BAR_STEP + GROUP_GAP;
        }
        let (a, b) = (
            chart.backend_coord(&(0.0, n)),
            chart.backend_coord(&(0.0, 0.0)),
        );
        root.draw(&PathElement::new(vec![a, b], MUTED.stroke_width(2)))?;
        Ok(())
    }
}

/// One consumer's bar from zero with its whisker, in the band [y − 1, y].
fn bar<DB: DrawingBackend>(
    chart: &mut ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    r: &ComparisonRow,
    y: f64,
    color: RGBColor,
) -> FigResult
where
    DB::ErrorType: 'static,
{
    let v = -100.0 * r.mean_reduction;
    let (hi, lo) = (y - 0.15, y - 0.85);
    chart.draw_series(std::iter::once(Rectangle::new(
        [(v.min(0.0), lo), (v.max(0.0), hi)],
        color.filled(),
    )))?;
    let (a, c) = (
        -100.0 * r.mean_reduction_ci[1],
        -100.0 * r.mean_reduction_ci[0],
    );
    if a.is_finite() && c.is_finite() && c - a > 0.0 {
        let mid = y - 0.5;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(a, mid), (c, mid)],
            TEXT.stroke_width(2),
        )))?;
        for x in [a, c] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, mid - 0.25), (x, mid + 0.25)],
                TEXT.stroke_width(2),
            )))?;
        }
    }
    Ok(())
}
