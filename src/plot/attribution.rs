//! Attribution figures: where the base run's world shortfall comes from.
//! Two stacked horizontal bars per commodity, each 100% wide: the expected
//! shortfall (mean) and the tail (mean of the trials above p95, ≈ cvar95)
//! split into their causes, with the total as a share of demand at the end
//! of the bar. One figure per split of the `attribution` block:
//!
//! * [`Split::Kind`] (`attribution`): the four kinds of shock, one fixed
//!   colour each, the share printed in the segment;
//! * [`Split::Source`] (`attribution-sources`): the shocks and events; the
//!   seven with the largest shares across commodities get their own colour,
//!   the others a pale one, each named in its segment where it fits;
//! * [`Split::Country`] (`attribution-countries`): the producer countries
//!   hit, coloured as in the concentration figure (its seven largest
//!   producers), others pale, the unlisted remainder grey.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::concentration::{self, share_axis};
use super::style::*;
use super::{Ctx, order_in};
use crate::model::{Kind, ROW, WORLD};
use crate::results::comparison::{AttributionRow, Part};

const ROW_H: i32 = 30;
const BAR_H: i32 = 22;
const GROUP_GAP: i32 = 10;
const NAME_MAX: u32 = 280;
const NAME_LINE: i32 = 19;
const BAR_W: i32 = 720;
const TOTAL_W: i32 = 120;
const HEAD_H: i32 = 30;
const AXIS_H: i32 = 44;
const LABEL: f64 = 15.0;
const SEG: f64 = 13.0;
const OTHER: RGBColor = RGBColor(226, 219, 201);
const MEASURES: [&str; 2] = ["expected", "tail (cvar95)"];

/// How a figure splits the shortfall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Kind,
    Source,
    Country,
}

impl Split {
    fn parts(self, r: &AttributionRow) -> &[Part] {
        match self {
            Split::Kind => &r.by_kind,
            Split::Source => &r.by_source,
            Split::Country => &r.by_country,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Split::Kind => "kind of shock",
            Split::Source => "source (shock or event)",
            Split::Country => "producer country",
        }
    }
}

pub fn title(_ctx: &Ctx, split: Split) -> String {
    format!("Attribution of the world shortfall by {}", split.what())
}

pub fn caption(ctx: &Ctx, split: Split) -> String {
    let what = match split {
        Split::Kind => {
            "the four kinds of shock (conflict, disaster, resource nationalism, export ban)"
        }
        Split::Source => {
            "the shocks and events of the scenario (named in the segments where they fit; the seven largest have their own \
             colour)"
        }
        Split::Country => {
            "the producer countries whose output was lost (ISO codes, coloured as in the concentration figure; ROW is the \
             unlisted remainder)"
        }
    };
    format!(
        "For each commodity of the base run, the upper bar splits the expected world shortfall and the lower bar the \
         tail (the mean over the worst 5% of trials, cvar95) among {what}, each month's shortfall shared in proportion \
         to the supply each disruption removed; the number after each bar is the total, as % of world demand over the \
         {}-month horizon.",
        ctx.summary.horizon_months
    )
}

/// World rows of the attribution, in scenario order of commodities.
fn rows<'a>(ctx: &'a Ctx) -> Vec<&'a AttributionRow> {
    let Some(a) = ctx.summary.attribution.as_ref() else {
        return Vec::new();
    };
    let mut v: Vec<&AttributionRow> = a.rows.iter().filter(|r| r.consumer == WORLD).collect();
    v.sort_by_key(|r| order_in(&ctx.commodities, &r.commodity));
    v
}

pub fn available(ctx: &Ctx, _split: Split) -> bool {
    !rows(ctx).is_empty()
}

/// Value of a part in the mean (`m = 0`) or tail (`m = 1`) bar.
fn part_value(p: &Part, m: usize) -> f64 {
    finite(if m == 0 { p.mean } else { p.tail })
        .unwrap_or(0.0)
        .max(0.0)
}

fn total(r: &AttributionRow, m: usize) -> f64 {
    finite(if m == 0 { r.mean } else { r.tail_total })
        .unwrap_or(0.0)
        .max(0.0)
}

fn kind_color(name: &str) -> Option<RGBColor> {
    Some(match Kind::parse(name)? {
        Kind::Conflict => OI_VERMILLION,
        Kind::Disaster => OI_SKY_BLUE,
        Kind::Nationalism => OI_REDDISH_PURPLE,
        Kind::ExportBan => OI_BLUE,
    })
}

fn kind_label(name: &str) -> String {
    match Kind::parse(name) {
        Some(Kind::Nationalism) => "resource nationalism".into(),
        Some(Kind::ExportBan) => "export ban".into(),
        _ => name.replace('_', " "),
    }
}

/// Names in order of their summed shares (mean and tail, as fractions of
/// each bar) over all rows, largest first; ties keep first-seen order.
fn ranked(ctx: &Ctx, split: Split) -> Vec<String> {
    let mut total: Vec<(String, f64)> = Vec::new();
    for r in rows(ctx) {
        for m in 0..2 {
            let t = total_of(split.parts(r), r, m);
            if t <= 0.0 {
                continue;
            }
            for p in split.parts(r) {
                let s = part_value(p, m) / t;
                match total.iter_mut().find(|x| x.0 == p.name) {
                    Some(x) => x.1 += s,
                    None => total.push((p.name.clone(), s)),
                }
            }
        }
    }
    let mut idx: Vec<usize> = (0..total.len()).collect();
    idx.sort_by(|&a, &b| total[b].1.total_cmp(&total[a].1).then(a.cmp(&b)));
    idx.into_iter().map(|i| total[i].0.clone()).collect()
}

/// The width a bar stands for: the total, or the parts' sum if larger.
fn total_of(parts: &[Part], r: &AttributionRow, m: usize) -> f64 {
    let sum: f64 = parts.iter().map(|p| part_value(p, m)).sum();
    total(r, m).max(sum)
}

/// Countries with their own colour, as in the concentration figure: the
/// seven largest total capacity shares across stages (falls back to the
/// attribution's own ranking without concentration data).
fn country_colors(ctx: &Ctx) -> Vec<(String, RGBColor)> {
    if concentration::available(ctx) {
        return concentration::country_colors(ctx);
    }
    ranked(ctx, Split::Country)
        .into_iter()
        .filter(|c| c != ROW)
        .take(PALETTE.len())
        .enumerate()
        .map(|(i, c)| (c, PALETTE[i]))
        .collect()
}

/// Colours of the named parts of a split, and the legend.
struct Colors {
    named: HashMap<String, RGBColor>,
    legend: Legend,
}

fn colors(ctx: &Ctx, split: Split) -> Colors {
    let present = ranked(ctx, split);
    let mut named = HashMap::new();
    let mut items: Vec<(Key, String)> = Vec::new();
    match split {
        Split::Kind => {
            let mut order: Vec<String> = Kind::ALL.iter().map(|k| k.as_str().to_string()).collect();
            for n in &present {
                if !order.contains(n) {
                    order.push(n.clone());
                }
            }
            let mut spare = [OI_ORANGE, OI_BLUISH_GREEN, OI_YELLOW].into_iter();
            for n in order {
                let c = kind_color(&n).unwrap_or_else(|| spare.next().unwrap_or(OTHER));
                named.insert(n.clone(), c);
                items.push((Key::Box(c), kind_label(&n)));
            }
        }
        Split::Source => {
            for (i, n) in present.iter().take(PALETTE.len()).enumerate() {
                named.insert(n.clone(), PALETTE[i]);
                items.push((Key::Box(PALETTE[i]), n.clone()));
            }
            if present.len() > PALETTE.len() {
                items.push((Key::Box(OTHER), "other source (named in the bar)".into()));
            }
        }
        Split::Country => {
            for (c, col) in country_colors(ctx) {
                if present.contains(&c) {
                    items.push((Key::Box(col), c.clone()));
                    named.insert(c, col);
                }
            }
            if present.iter().any(|c| c != ROW && !named.contains_key(c)) {
                items.push((Key::Box(OTHER), "other producer country".into()));
            }
            if present.iter().any(|c| c == ROW) {
                named.insert(ROW.to_string(), ROW_GREY);
                items.push((Key::Box(ROW_GREY), "ROW (unlisted remainder)".into()));
            }
        }
    }
    Colors {
        named,
        legend: Legend { items },
    }
}

/// Parts of a bar in drawing order: kinds in their fixed order, sources
/// and countries as in the summary (largest expected share first).
fn ordered(r: &AttributionRow, split: Split) -> Vec<&Part> {
    let mut v: Vec<&Part> = split.parts(r).iter().collect();
    if split == Split::Kind {
        let pos = |n: &str| {
            Kind::ALL
                .iter()
                .position(|k| k.as_str() == n)
                .unwrap_or(Kind::ALL.len())
        };
        v.sort_by_key(|p| pos(&p.name));
    }
    v
}

fn frame<'a>(ctx: &Ctx, split: Split, legend: &'a Legend) -> Frame<'a> {
    Frame {
        title: title(ctx, split),
        subtitle: vec![
            ctx.scenario_line(),
            format!(
                "Base run, world shortfall. Upper bar: expected shortfall; lower bar: tail, the mean of the worst 5% \
                 of trials (cvar95). Totals as % of {}-month world demand.",
                ctx.summary.horizon_months
            ),
        ],
        legend: Some(legend),
        source: ctx.source_line(),
    }
}

fn display_name<'a>(ctx: &'a Ctx, r: &'a AttributionRow) -> &'a str {
    ctx.name(&r.commodity)
}

fn name_width(ctx: &Ctx) -> u32 {
    rows(ctx)
        .iter()
        .map(|r| text_width(display_name(ctx, r), LABEL, true).min(NAME_MAX))
        .max()
        .unwrap_or(0)
        .max(80)
}

fn measure_width() -> u32 {
    MEASURES
        .iter()
        .map(|m| text_width(m, LABEL, false))
        .max()
        .unwrap_or(0)
}

/// The commodity names, wrapped into at most two lines.
fn name_lines(ctx: &Ctx, width: u32) -> Vec<Vec<String>> {
    rows(ctx)
        .iter()
        .map(|r| {
            let mut l = wrap(display_name(ctx, r), width, LABEL, true);
            if l.len() > 2 {
                let rest = l[1..].join(" ");
                l = vec![l[0].clone(), ellipsize(&rest, width, LABEL, true)];
            }
            l
        })
        .collect()
}

pub fn size(ctx: &Ctx, split: Split) -> (u32, u32) {
    let w = MARGIN as u32 * 2
        + name_width(ctx)
        + 12
        + measure_width()
        + 14
        + BAR_W as u32
        + 12
        + TOTAL_W as u32;
    let n = rows(ctx).len().max(1) as i32;
    let rows_h = n * (2 * ROW_H + GROUP_GAP);
    let c = colors(ctx, split);
    let h = frame(ctx, split, &c.legend).header_height(w)
        + (HEAD_H + rows_h + AXIS_H) as u32
        + FOOTER_H;
    (w, h)
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx, split: Split) -> FigResult
where
    DB::ErrorType: 'static,
{
    let c = colors(ctx, split);
    let body = frame(ctx, split, &c.legend).draw(root)?;
    let rs = rows(ctx);
    let nw = name_width(ctx) as i32;
    let mw = measure_width() as i32;
    let name_x = MARGIN;
    let measure_x = name_x + nw + 12;
    let bx = measure_x + mw + 14;
    let tx = bx + BAR_W + 12;
    let names = name_lines(ctx, nw as u32);
    let y0 = HEAD_H;
    let group = 2 * ROW_H + GROUP_GAP;
    let rows_h = rs.len() as i32 * group;

    // Column headers.
    let head = anchored(colored(bold(LABEL), MUTED), HPos::Left, VPos::Bottom);
    body.draw(&Text::new("commodity", (name_x, y0 - 8), head.clone()))?;
    body.draw(&Text::new(
        "share of the world shortfall",
        (bx, y0 - 8),
        head.clone(),
    ))?;
    body.draw(&Text::new("% of demand", (tx, y0 - 8), head))?;

    // Grid lines and the share axis.
    let px = |share: f64| bx + (share.clamp(0.0, 1.0) * BAR_W as f64).round() as i32;
    share_axis(&body, px, y0, y0 + rows_h + 4)?;

    for (i, r) in rs.iter().enumerate() {
        let gy = y0 + i as i32 * group + GROUP_GAP / 2;
        for (n, line) in names[i].iter().enumerate() {
            body.draw(&Text::new(
                line.clone(),
                (name_x, gy + ROW_H / 2 + n as i32 * NAME_LINE),
                anchored(bold(LABEL), HPos::Left, VPos::Center),
            ))?;
        }
        let parts = ordered(r, split);
        for (m, measure) in MEASURES.iter().enumerate() {
            let cy = gy + m as i32 * ROW_H + ROW_H / 2;
            body.draw(&Text::new(
                measure.to_string(),
                (measure_x, cy),
                anchored(colored(font(LABEL), MUTED), HPos::Left, VPos::Center),
            ))?;
            let t = total_of(split.parts(r), r, m);
            body.draw(&Text::new(
                pct2(total(r, m)),
                (tx, cy),
                anchored(font(LABEL), HPos::Left, VPos::Center),
            ))?;
            if t <= 0.0 {
                body.draw(&Text::new(
                    "no shortfall in any trial",
                    (bx + 8, cy),
                    anchored(colored(font(SEG), MUTED), HPos::Left, VPos::Center),
                ))?;
                continue;
            }
            let (top, bot) = (cy - BAR_H / 2, cy + BAR_H / 2);
            let mut acc = 0.0f64;
            for p in &parts {
                let share = part_value(p, m) / t;
                let (a, b) = (px(acc), px(acc + share));
                acc += share;
                if b <= a {
                    continue;
                }
                let color = *c.named.get(&p.name).unwrap_or(&OTHER);
                body.draw(&Rectangle::new([(a, top), (b, bot)], color.filled()))?;
                // A 2-pixel gap, so neighbouring pale segments stay apart.
                body.draw(&Rectangle::new(
                    [(b - 1, top), (b + 1, bot)],
                    WHITE.filled(),
                ))?;
                let label = match split {
                    Split::Kind => format!("{:.0}%", share * 100.0),
                    _ => p.name.clone(),
                };
                if text_width(&label, SEG, false) as i32 + 6 <= b - a {
                    body.draw(&Text::new(
                        label,
                        ((a + b) / 2, cy),
                        anchored(
                            colored(font(SEG), text_on(&color)),
                            HPos::Center,
                            VPos::Center,
                        ),
                    ))?;
                }
            }
        }
    }
    Ok(())
}
