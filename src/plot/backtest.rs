//! The backtest figure: per shock, the observed events per year with its 90%
//! interval beside the model's expected events per year with its 90%
//! predictive interval (the count interval divided by the years). Shocks the
//! record contradicts are named in red.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, FigResult};
use crate::backtest::Backtest;
use crate::error::Error;

const WIDTH: u32 = 1100;
const ROW_H: u32 = 26;

fn size(bt: &Backtest) -> (u32, u32) {
    (WIDTH, 176 + ROW_H * bt.shocks.len().max(1) as u32)
}

fn x_max(bt: &Backtest) -> f64 {
    let y = bt.years.count.max(1) as f64;
    let m = bt
        .shocks
        .iter()
        .flat_map(|s| {
            [
                s.observed_interval[1],
                s.predictive_interval[1] as f64 / y,
                s.model_per_year,
            ]
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    style::nice_ceil(m.max(0.05) * 1.05)
}

fn draw_header<DB: DrawingBackend>(top: &DrawingArea<DB, Shift>, bt: &Backtest) -> FigResult
where
    DB::ErrorType: 'static,
{
    let title = format!(
        "Backtest: {} against the record {}-{}",
        bt.scenario, bt.years.from, bt.years.to
    );
    top.draw(&Text::new(
        title,
        (style::MARGIN, 10),
        style::bold(style::TITLE),
    ))?;
    let lines = [
        "dot and line: observed events per year and their 90% interval (red: outside the model's interval)",
        "triangle and bar: the model's expected events per year and its 90% predictive interval",
    ];
    for (i, l) in lines.iter().enumerate() {
        top.draw(&Text::new(
            *l,
            (style::MARGIN, 44 + 22 * i as i32),
            style::font(style::SUBTITLE),
        ))?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, bt: &Backtest) -> FigResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = bt.shocks.len().max(1) as i32;
    let years = bt.years.count.max(1) as f64;
    let (top, body) = root.split_vertically(96);
    draw_header(&top, bt)?;
    let ids: Vec<String> = bt.shocks.iter().map(|s| s.id.clone()).collect();
    let fmt = |v: &i32| -> String {
        let i = n - 1 - *v;
        ids.get(i as usize).cloned().unwrap_or_default()
    };
    let mut chart = ChartBuilder::on(&body)
        .margin(style::MARGIN)
        .x_label_area_size(style::X_AREA)
        .y_label_area_size(230)
        .build_cartesian_2d(0.0..x_max(bt), -1..n)?;
    chart
        .configure_mesh()
        .y_labels((n + 1) as usize)
        .y_label_formatter(&fmt)
        .y_label_style(style::font(style::TICK))
        .x_label_style(style::font(style::TICK))
        .x_desc("events per year")
        .axis_desc_style(style::font(style::AXIS_DESC))
        .disable_y_mesh()
        .draw()?;
    let xmax = x_max(bt);
    let scale =
        (chart.backend_coord(&(xmax, 0)).0 - chart.backend_coord(&(0.0, 0)).0) as f64 / xmax;
    let px = |x: f64| (x * scale).round() as i32;
    for (i, s) in bt.shocks.iter().enumerate() {
        let y = n - 1 - i as i32;
        // Observed just above the row's line, model just below it.
        let obs = if s.consistent {
            style::OI_BLACK
        } else {
            style::OI_VERMILLION
        };
        let [lo, hi] = s.observed_interval;
        let bar = |x0: f64, x1: f64, dy: i32, c: RGBColor, w: u32| {
            EmptyElement::at((x0, y))
                + PathElement::new(vec![(0, dy), (px(x1) - px(x0), dy)], c.stroke_width(w))
        };
        chart.draw_series(std::iter::once(bar(lo, hi, -5, obs, 2)))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((s.observed_per_year, y)) + Circle::new((0, -5), 5, obs.filled()),
        ))?;
        let (plo, phi) = (
            s.predictive_interval[0] as f64 / years,
            s.predictive_interval[1] as f64 / years,
        );
        chart.draw_series(std::iter::once(bar(plo, phi, 5, style::OI_ORANGE, 6)))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((s.model_per_year, y))
                + TriangleMarker::new((0, 5), 6, style::OI_BLUE.filled()),
        ))?;
        if !s.consistent {
            chart.draw_series(std::iter::once(
                EmptyElement::at((hi, y))
                    + Text::new(
                        " outside the model's interval".to_string(),
                        (4, -12),
                        style::colored(style::font(style::ANNOT), style::OI_VERMILLION),
                    ),
            ))?;
        }
    }
    Ok(())
}

/// Renders the figure as SVG text and PNG bytes.
pub fn render(bt: &Backtest) -> Result<(String, Vec<u8>), Error> {
    style::init_fonts()?;
    let size = size(bt);
    let err = |e: &dyn std::fmt::Display| Error::Other(format!("figure backtest: {e}"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root, bt).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    let mut buf = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw(&root, bt).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, size.0, size.1);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut w = enc.write_header().map_err(|e| err(&e))?;
        w.write_image_data(&buf).map_err(|e| err(&e))?;
        w.finish().map_err(|e| err(&e))?;
    }
    Ok((svg, png_bytes))
}
