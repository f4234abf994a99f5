//! Figure 5: static supply concentration. One stacked horizontal bar per
//! commodity and stage: the listed producers' shares of world capacity,
//! largest first, then the unlisted remainder as a grey "ROW" segment; the
//! HHI (over listed producers) is printed at the end of each bar. The
//! countries with the largest total share get the Okabe–Ito colours; other
//! listed producers share one pale colour and are named by their code inside
//! the bar where it fits.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::Ctx;
use super::style::*;
use crate::results::concentration::StageConcentration;

const ROW_H: i32 = 30;
const BAR_H: i32 = 22;
const GROUP_GAP: i32 = 10;
const NAME_MAX: u32 = 280;
const NAME_LINE: i32 = 19;
const BAR_W: i32 = 720;
const HHI_W: i32 = 190;
const HEAD_H: i32 = 30;
const AXIS_H: i32 = 44;
const LABEL: f64 = 15.0;
const SEG: f64 = 13.0;
const OTHER: RGBColor = RGBColor(226, 219, 201);

pub fn title(_ctx: &Ctx) -> String {
    "Supply concentration: producer shares by commodity and stage".to_string()
}

pub fn caption(_ctx: &Ctx) -> String {
    "Each bar splits world capacity at one stage among the listed producer countries (ISO codes, largest first) and the \
     unlisted rest of the world (grey ROW); the HHI at the end of the bar (0-10,000, listed producers only) is higher the \
     more concentrated the stage, and \">65%\" flags a single country above the EU Critical Raw Materials Act benchmark."
        .to_string()
}

fn rows<'a>(ctx: &'a Ctx) -> &'a [StageConcentration] {
    ctx.fd.map(|fd| fd.concentration.as_slice()).unwrap_or(&[])
}

pub fn available(ctx: &Ctx) -> bool {
    !rows(ctx).is_empty()
}

/// Countries with their own colour: the largest total shares across stages.
pub(super) fn country_colors(ctx: &Ctx) -> Vec<(String, RGBColor)> {
    let mut total: Vec<(String, f64)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for r in rows(ctx) {
        for p in &r.producers {
            let s = finite(p.share).unwrap_or(0.0).max(0.0);
            let i = *at.entry(p.country.as_str()).or_insert_with(|| {
                total.push((p.country.clone(), 0.0));
                total.len() - 1
            });
            total[i].1 += s;
        }
    }
    // Stable: ties keep first-seen order.
    let mut idx: Vec<usize> = (0..total.len()).collect();
    idx.sort_by(|&a, &b| total[b].1.total_cmp(&total[a].1).then(a.cmp(&b)));
    idx.into_iter()
        .take(PALETTE.len())
        .enumerate()
        .map(|(i, j)| (total[j].0.clone(), PALETTE[i]))
        .collect()
}

fn legend(ctx: &Ctx) -> Legend {
    let mut items: Vec<(Key, String)> = country_colors(ctx)
        .into_iter()
        .map(|(c, col)| (Key::Box(col), c))
        .collect();
    items.push((Key::Box(OTHER), "other listed producer".into()));
    items.push((Key::Box(ROW_GREY), "ROW (unlisted remainder)".into()));
    Legend { items }
}

fn frame<'a>(ctx: &Ctx, legend: &'a Legend) -> Frame<'a> {
    let mut subtitle: Vec<String> = ctx.subtitle().into_iter().take(1).collect();
    subtitle.push(
        "Shares of world capacity; country codes are ISO 3166-1 alpha-2. HHI over listed producers (ROW left out)."
            .into(),
    );
    Frame {
        title: title(ctx),
        subtitle,
        legend: Some(legend),
        source: ctx.source_line(),
    }
}

fn name_width(ctx: &Ctx) -> u32 {
    rows(ctx)
        .iter()
        .map(|r| text_width(display_name(r), LABEL, true).min(NAME_MAX))
        .max()
        .unwrap_or(0)
        .max(80)
}

fn stage_width(ctx: &Ctx) -> u32 {
    rows(ctx)
        .iter()
        .map(|r| text_width(&r.stage, LABEL, false).min(160))
        .max()
        .unwrap_or(0)
        .max(40)
}

fn display_name(r: &StageConcentration) -> &str {
    if r.commodity_name.trim().is_empty() {
        &r.commodity
    } else {
        &r.commodity_name
    }
}

/// The commodity name of the first row of each group, wrapped (at most
/// three lines); empty for the other rows.
fn name_lines(rs: &[StageConcentration], width: u32) -> Vec<Vec<String>> {
    rs.iter()
        .enumerate()
        .map(|(i, r)| {
            if i > 0 && rs[i - 1].commodity == r.commodity {
                return Vec::new();
            }
            let mut l = wrap(display_name(r), width, LABEL, true);
            if l.len() > 3 {
                let rest = l[2..].join(" ");
                l.truncate(2);
                l.push(ellipsize(&rest, width, LABEL, true));
            }
            l
        })
        .collect()
}

/// Vertical position of each row and the total height of the rows: rows of
/// one commodity are adjacent, with a gap between commodities, and a group
/// grows when its name needs more lines than it has rows.
fn layout(rs: &[StageConcentration], names: &[Vec<String>]) -> (Vec<i32>, i32) {
    let mut ys = Vec::with_capacity(rs.len());
    let mut y = 0;
    let mut group_end = 0;
    for (i, r) in rs.iter().enumerate() {
        let first = i == 0 || rs[i - 1].commodity != r.commodity;
        if first {
            if i > 0 {
                y = y.max(group_end) + GROUP_GAP;
            }
            group_end = y + names[i].len() as i32 * NAME_LINE + (ROW_H - NAME_LINE);
        }
        ys.push(y);
        y += ROW_H;
    }
    (ys, y.max(group_end))
}

pub fn size(ctx: &Ctx) -> (u32, u32) {
    let w = MARGIN as u32 * 2
        + name_width(ctx)
        + 12
        + stage_width(ctx)
        + 14
        + BAR_W as u32
        + 12
        + HHI_W as u32;
    let legend = legend(ctx);
    let names = name_lines(rows(ctx), name_width(ctx));
    let (_, rows_h) = layout(rows(ctx), &names);
    let h = frame(ctx, &legend).header_height(w) + (HEAD_H + rows_h + AXIS_H) as u32 + FOOTER_H;
    (w, h)
}

/// Vertical grid lines at 0, 25, 50, 75 and 100% of a share bar from `y0`
/// down to `axis_y`, and there the share axis with its ticks and labels;
/// `px` maps a share to its x pixel.
pub(super) fn share_axis<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    px: impl Fn(f64) -> i32,
    y0: i32,
    axis_y: i32,
) -> FigResult
where
    DB::ErrorType: 'static,
{
    for t in 0..=4 {
        let s = t as f64 / 4.0;
        body.draw(&PathElement::new(
            vec![(px(s), y0 - 2), (px(s), axis_y)],
            if t == 0 || t == 4 {
                GRID_BOLD
            } else {
                GRID_LIGHT
            }
            .stroke_width(1),
        ))?;
        body.draw(&PathElement::new(
            vec![(px(s), axis_y), (px(s), axis_y + 5)],
            MUTED.stroke_width(1),
        ))?;
        body.draw(&Text::new(
            format!("{}%", t * 25),
            (px(s), axis_y + 8),
            anchored(font(TICK), HPos::Center, VPos::Top),
        ))?;
    }
    body.draw(&PathElement::new(
        vec![(px(0.0), axis_y), (px(1.0), axis_y)],
        MUTED.stroke_width(1),
    ))?;
    Ok(())
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, ctx: &Ctx) -> FigResult
where
    DB::ErrorType: 'static,
{
    let legend = legend(ctx);
    let body = frame(ctx, &legend).draw(root)?;
    let rs = rows(ctx);
    let colors: HashMap<String, RGBColor> = country_colors(ctx).into_iter().collect();
    let nw = name_width(ctx) as i32;
    let sw = stage_width(ctx) as i32;
    let name_x = MARGIN;
    let stage_x = name_x + nw + 12;
    let bx = stage_x + sw + 14;
    let hx = bx + BAR_W + 12;
    let names = name_lines(rs, nw as u32);
    let (ys, rows_h) = layout(rs, &names);
    let y0 = HEAD_H;

    // Column headers.
    let head = anchored(colored(bold(LABEL), MUTED), HPos::Left, VPos::Bottom);
    body.draw(&Text::new("commodity", (name_x, y0 - 8), head.clone()))?;
    body.draw(&Text::new("stage", (stage_x, y0 - 8), head.clone()))?;
    body.draw(&Text::new(
        "share of world capacity",
        (bx, y0 - 8),
        head.clone(),
    ))?;
    body.draw(&Text::new("HHI", (hx, y0 - 8), head))?;

    // Grid lines and the share axis.
    let px = |share: f64| bx + (share.clamp(0.0, 1.0) * BAR_W as f64).round() as i32;
    share_axis(&body, px, y0, y0 + rows_h + 4)?;

    for (i, r) in rs.iter().enumerate() {
        let y = y0 + ys[i];
        let cy = y + ROW_H / 2;
        for (n, line) in names[i].iter().enumerate() {
            body.draw(&Text::new(
                line.clone(),
                (name_x, cy + n as i32 * NAME_LINE),
                anchored(bold(LABEL), HPos::Left, VPos::Center),
            ))?;
        }
        body.draw(&Text::new(
            ellipsize(&r.stage, sw as u32, LABEL, false),
            (stage_x, cy),
            anchored(font(LABEL), HPos::Left, VPos::Center),
        ))?;
        let (top, bot) = (cy - BAR_H / 2, cy + BAR_H / 2);
        let mut acc = 0.0f64;
        let segs = r
            .producers
            .iter()
            .map(|p| {
                (
                    p.country.as_str(),
                    *colors.get(&p.country).unwrap_or(&OTHER),
                    p.share,
                )
            })
            .chain(std::iter::once(("ROW", ROW_GREY, r.row_share)));
        for (code, color, share) in segs {
            let share = finite(share).unwrap_or(0.0).max(0.0);
            let (a, b) = (px(acc), px(acc + share));
            acc += share;
            if b <= a {
                continue;
            }
            body.draw(&Rectangle::new([(a, top), (b, bot)], color.filled()))?;
            body.draw(&PathElement::new(
                vec![(b, top), (b, bot)],
                WHITE.stroke_width(1),
            ))?;
            if text_width(code, SEG, false) as i32 + 6 <= b - a {
                body.draw(&Text::new(
                    code.to_string(),
                    ((a + b) / 2, cy),
                    anchored(
                        colored(font(SEG), text_on(&color)),
                        HPos::Center,
                        VPos::Center,
                    ),
                ))?;
            }
        }
        let hhi = finite(r.hhi).unwrap_or(0.0).clamp(0.0, 1e9);
        let label = format!("HHI {}", thousands(hhi.round() as u64));
        body.draw(&Text::new(
            label.clone(),
            (hx, cy),
            anchored(font(LABEL), HPos::Left, VPos::Center),
        ))?;
        if r.over_65 {
            body.draw(&Text::new(
                ">65%",
                (hx + text_width(&label, LABEL, false) as i32 + 10, cy),
                anchored(
                    colored(bold(LABEL), OI_VERMILLION),
                    HPos::Left,
                    VPos::Center,
                ),
            ))?;
        }
    }
    Ok(())
}
