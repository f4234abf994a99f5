//! The one look of every figure: canvas sizes, the embedded font, text sizes,
//! the colour-blind-safe Okabe–Ito palette (categories) and viridis
//! (sequential), and small drawing helpers shared by the figure modules
//! (figure frame, legends, small-multiples grids and panels, wrapped text,
//! number formats).

use std::sync::OnceLock;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::error::Error;
use crate::model::{ROW, WORLD};

/// Result of drawing one figure onto a backend.
pub type FigResult = Result<(), Box<dyn std::error::Error>>;

/// The font family every figure uses: DejaVu Sans, embedded in the binary
/// (the `dejavu` crate; licence in assets/fonts/) and registered under the
/// generic CSS family name, so SVG files name `sans-serif` and render with
/// any browser's sans-serif font.
pub const FONT: &str = "sans-serif";

/// Text sizes (plotters font units, roughly pixel heights).
pub const TITLE: f64 = 28.0;
pub const SUBTITLE: f64 = 17.0;
pub const PANEL_TITLE: f64 = 19.0;
pub const AXIS_DESC: f64 = 16.0;
pub const TICK: f64 = 15.0;
pub const LEGEND: f64 = 16.0;
pub const ANNOT: f64 = 15.0;
pub const SOURCE: f64 = 14.0;
pub const CELL: f64 = 17.0;

/// Outer margin of a figure.
pub const MARGIN: i32 = 16;
/// Size of one small-multiple panel.
pub const PANEL_W: u32 = 540;
pub const PANEL_H: u32 = 380;
/// Label areas of a panel: below (x ticks and description), left and right
/// (y ticks and rotated description).
pub const X_AREA: u32 = 52;
pub const Y_AREA: u32 = 86;
pub const RIGHT_AREA: u32 = 102;
/// Columns of small-multiple grids.
pub const GRID_COLS: usize = 3;
/// Height of the source line at the bottom of every figure.
pub const FOOTER_H: u32 = 30;

// Okabe & Ito (2008), "Color universal design".
pub const OI_BLACK: RGBColor = RGBColor(0, 0, 0);
pub const OI_ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const OI_SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
pub const OI_BLUISH_GREEN: RGBColor = RGBColor(0, 158, 115);
pub const OI_YELLOW: RGBColor = RGBColor(240, 228, 66);
pub const OI_BLUE: RGBColor = RGBColor(0, 114, 178);
pub const OI_VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const OI_REDDISH_PURPLE: RGBColor = RGBColor(204, 121, 167);

/// Categorical colours in order of use (black is kept for "world").
pub const PALETTE: [RGBColor; 7] = [
    OI_ORANGE,
    OI_SKY_BLUE,
    OI_BLUISH_GREEN,
    OI_BLUE,
    OI_VERMILLION,
    OI_REDDISH_PURPLE,
    OI_YELLOW,
];

/// The unlisted remainder (ROW) wherever it appears.
pub const ROW_GREY: RGBColor = RGBColor(150, 150, 150);
pub const TEXT: RGBColor = RGBColor(30, 30, 30);
pub const MUTED: RGBColor = RGBColor(95, 95, 95);
pub const GRID_BOLD: RGBColor = RGBColor(215, 215, 215);
pub const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
pub const MISSING: RGBColor = RGBColor(235, 235, 235);

/// Registers the embedded font once; every backend needs it for text layout.
pub fn init_fonts() -> Result<(), Error> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Other(
            "figures: the embedded DejaVu Sans font could not be loaded".into(),
        ))
    }
}

/// A text style of the figure font.
pub fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&TEXT)
}

/// A bold text style of the figure font.
pub fn bold(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size, FontStyle::Bold).into_font()).color(&TEXT)
}

/// `style` in colour `c`.
pub fn colored(mut style: TextStyle<'static>, c: RGBColor) -> TextStyle<'static> {
    style.color = c.to_backend_color();
    style
}

/// `style` anchored at `(h, v)`.
pub fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// Colour of a consumer series: world black, ROW grey, consumers the palette
/// in their order (`index` counts consumers only).
pub fn series_color(id: &str, index: usize) -> RGBColor {
    if id == WORLD {
        OI_BLACK
    } else if id == ROW {
        ROW_GREY
    } else {
        PALETTE[index % PALETTE.len()]
    }
}

/// Colours of a list of series ids, in order.
pub fn series_colors(ids: &[String]) -> Vec<RGBColor> {
    let mut k = 0;
    ids.iter()
        .map(|id| {
            let c = series_color(id, k);
            if id != WORLD && id != ROW {
                k += 1;
            }
            c
        })
        .collect()
}

/// Viridis (perceptually uniform, colour-blind safe), `t` in [0, 1].
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Black or white, whichever reads better on `bg`.
pub fn text_on(bg: &RGBColor) -> RGBColor {
    let l = 0.299 * bg.0 as f64 + 0.587 * bg.1 as f64 + 0.114 * bg.2 as f64;
    if l > 140.0 { OI_BLACK } else { WHITE }
}

/// Width in pixels of `text` at `size` (bold if `is_bold`).
pub fn text_width(text: &str, size: f64, is_bold: bool) -> u32 {
    let f = if is_bold { bold(size) } else { font(size) };
    f.font
        .box_size(text)
        .map(|(w, _)| w)
        .unwrap_or_else(|_| (text.chars().count() as f64 * size * 0.62) as u32)
}

/// No glyph of the figure font is narrower than this share of the font size
/// (DejaVu Sans: 0.27 for "i" and "l"), so a line `max_px` wide holds at most
/// `max_px / (MIN_ADVANCE * size)` characters.
const MIN_ADVANCE: f64 = 0.2;

/// The start of `text` that could fit in `max_px`: nothing longer can, so
/// the rest need not be measured.
fn clip(text: &str, max_px: u32, size: f64) -> &str {
    let n = (max_px as f64 / (MIN_ADVANCE * size.max(1.0))) as usize + 2;
    match text.char_indices().nth(n) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Greedy word wrap of `text` into lines no wider than `max_px`; a single
/// word wider than that is cut with an ellipsis.
pub fn wrap(text: &str, max_px: u32, size: f64, is_bold: bool) -> Vec<String> {
    wrap_at_most(text, max_px, size, is_bold, usize::MAX)
}

/// [`wrap`] to at most `max_lines` lines, the last cut with an ellipsis
/// when the text goes on. Each word is measured once, and words after the
/// last line are never looked at: the cost is linear in what is shown.
pub fn wrap_at_most(
    text: &str,
    max_px: u32,
    size: f64,
    is_bold: bool,
    max_lines: usize,
) -> Vec<String> {
    let max_lines = max_lines.max(1);
    let space = text_width("a a", size, is_bold).saturating_sub(text_width("aa", size, is_bold));
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    let mut more = false;
    for word in text.split_whitespace() {
        let word = clip(word, max_px, size);
        let w = text_width(word, size, is_bold);
        if cur.is_empty() {
            (cur, cur_w) = (word.to_string(), w);
        } else if cur_w + space + w <= max_px {
            cur.push(' ');
            cur.push_str(word);
            cur_w += space + w;
        } else if lines.len() + 1 == max_lines {
            // The last line allowed: the text goes on past it.
            cur.push(' ');
            cur.push_str(word);
            more = true;
            break;
        } else {
            lines.push(std::mem::replace(&mut cur, word.to_string()));
            cur_w = w;
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    let n = lines.len();
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if more && i + 1 == n {
                ellipsize(&format!("{l}…"), max_px, size, is_bold)
            } else {
                ellipsize(&l, max_px, size, is_bold)
            }
        })
        .collect()
}

/// `text`, cut with an ellipsis to fit `max_px`: text beyond what could
/// ever fit is dropped unmeasured, then a binary search over the length
/// finds the cut, so the cost does not grow with the text's length.
pub fn ellipsize(text: &str, max_px: u32, size: f64, is_bold: bool) -> String {
    let text = clip(text, max_px, size);
    if text_width(text, size, is_bold) <= max_px {
        return text.to_string();
    }
    // Char boundaries; the longest prefix (plus "…") that fits.
    let ends: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let fits = |n: usize| text_width(&format!("{}…", &text[..ends[n]]), size, is_bold) <= max_px;
    let (mut lo, mut hi) = (0, ends.len() - 1);
    if !fits(0) {
        return "…".to_string();
    }
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    format!("{}…", &text[..ends[lo]])
}

pub use crate::format::thousands;

/// A fraction as a percentage tick label, with as many decimals as the axis
/// span `span` (a fraction) needs.
pub fn pct_tick(x: f64, span: f64) -> String {
    let span_pct = span.abs() * 100.0;
    let d = if span_pct >= 5.0 {
        0
    } else if span_pct >= 0.5 {
        1
    } else if span_pct >= 0.05 {
        2
    } else {
        3
    };
    format!("{}%", crate::format::fixed(x * 100.0, d))
}

/// A fraction as a percentage with two decimals (the tables' format).
pub fn pct2(x: f64) -> String {
    crate::format::pct(x)
}

/// A "nice" upper axis bound at or above `x` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6
/// or 8 times a power of ten).
pub fn nice_ceil(x: f64) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        return 1.0;
    }
    let e = 10f64.powf(x.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * e >= x * (1.0 - 1e-12) {
            return m * e;
        }
    }
    10.0 * e
}

/// Keeps finite values only.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// One entry of a figure legend.
pub enum Key {
    /// A line sample: colour, width, dashed.
    Line(RGBColor, u32, bool),
    /// A filled box (with a thin outline).
    Box(RGBColor),
    /// A translucent filled box over white.
    Band(RGBColor, f64),
}

/// A horizontal legend that wraps onto as many rows as it needs.
pub struct Legend {
    pub items: Vec<(Key, String)>,
}

const KEY_W: i32 = 30;
const LEGEND_ROW_H: u32 = 26;
const LEGEND_GAP: i32 = 26;

impl Legend {
    /// Longest legend label, in pixels; longer ones are cut.
    const LABEL_MAX: u32 = 420;

    fn label(label: &str) -> String {
        ellipsize(label, Self::LABEL_MAX, LEGEND, false)
    }

    fn item_width(label: &str) -> i32 {
        KEY_W + 8 + text_width(&Self::label(label), LEGEND, false) as i32
    }

    fn rows(&self, width: u32) -> Vec<Vec<usize>> {
        let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
        let mut x = 0;
        for (i, (_, label)) in self.items.iter().enumerate() {
            let w = Self::item_width(label);
            if x > 0 && x + w > width as i32 {
                rows.push(Vec::new());
                x = 0;
            }
            if let Some(r) = rows.last_mut() {
                r.push(i);
            }
            x += w + LEGEND_GAP;
        }
        rows
    }

    /// Height the legend needs in `width` pixels.
    pub fn height(&self, width: u32) -> u32 {
        if self.items.is_empty() {
            0
        } else {
            self.rows(width).len() as u32 * LEGEND_ROW_H + 6
        }
    }

    /// Draws the legend from the top-left of `area`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> FigResult
    where
        DB::ErrorType: 'static,
    {
        let (w, _) = area.dim_in_pixel();
        for (r, row) in self.rows(w).iter().enumerate() {
            let y = r as i32 * LEGEND_ROW_H as i32 + LEGEND_ROW_H as i32 / 2;
            let mut x = 0;
            for &i in row {
                let (key, label) = &self.items[i];
                draw_key(area, key, x, y)?;
                area.draw(&Text::new(
                    Self::label(label),
                    (x + KEY_W + 8, y),
                    anchored(font(LEGEND), HPos::Left, VPos::Center),
                ))?;
                x += Self::item_width(label) + LEGEND_GAP;
            }
        }
        Ok(())
    }
}

/// Draws a legend key sample with its left edge at `x`, centred on `y`.
pub fn draw_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    key: &Key,
    x: i32,
    y: i32,
) -> FigResult
where
    DB::ErrorType: 'static,
{
    match key {
        Key::Line(c, w, dashed) => {
            let style = c.stroke_width(*w);
            if *dashed {
                for s in dashes((x, y), (x + KEY_W, y), 7, 5) {
                    area.draw(&PathElement::new(vec![s.0, s.1], style))?;
                }
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + KEY_W, y)], style))?;
            }
        }
        Key::Box(c) => {
            area.draw(&Rectangle::new(
                [(x + 4, y - 8), (x + KEY_W - 4, y + 8)],
                c.filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(x + 4, y - 8), (x + KEY_W - 4, y + 8)],
                MUTED.stroke_width(1),
            ))?;
        }
        Key::Band(c, alpha) => {
            area.draw(&Rectangle::new(
                [(x, y - 8), (x + KEY_W, y + 8)],
                c.mix(*alpha).filled(),
            ))?;
        }
    }
    Ok(())
}

/// Pixel segments of a dashed line from `a` to `b`.
pub fn dashes(a: (i32, i32), b: (i32, i32), on: i32, off: i32) -> Vec<((i32, i32), (i32, i32))> {
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let len = (dx * dx + dy * dy).sqrt();
    let mut out = Vec::new();
    if len < 1.0 {
        return out;
    }
    let at = |t: f64| {
        (
            a.0 + (dx * t / len).round() as i32,
            a.1 + (dy * t / len).round() as i32,
        )
    };
    let mut t = 0.0;
    while t < len {
        let e = (t + on as f64).min(len);
        out.push((at(t), at(e)));
        t = e + off as f64;
    }
    out
}

const TITLE_LINE: i32 = 38;
/// Most lines a figure title and each subtitle entry take; longer text is
/// cut with an ellipsis (the report shows it in full).
const TITLE_LINES: usize = 3;
const SUBTITLE_LINES: usize = 2;

/// What every figure has around its body.
pub struct Frame<'a> {
    pub title: String,
    /// Lines under the title (scenario title, strategy, ...), wrapped to fit.
    pub subtitle: Vec<String>,
    pub legend: Option<&'a Legend>,
    /// The source line: crmsim version, scenario, seed, trials.
    pub source: String,
}

impl Frame<'_> {
    fn sub_lines(&self, width: u32) -> Vec<String> {
        let w = width.saturating_sub(2 * MARGIN as u32);
        self.subtitle
            .iter()
            .flat_map(|s| wrap_at_most(s, w, SUBTITLE, false, SUBTITLE_LINES))
            .collect()
    }

    fn title_lines(&self, width: u32) -> Vec<String> {
        let w = width.saturating_sub(2 * MARGIN as u32);
        wrap_at_most(&self.title, w, TITLE, true, TITLE_LINES)
    }

    /// Height of the header (title, subtitle, legend) in a figure `width` wide.
    pub fn header_height(&self, width: u32) -> u32 {
        let inner = width.saturating_sub(2 * MARGIN as u32);
        let mut h = MARGIN as u32
            + self.title_lines(width).len() as u32 * TITLE_LINE as u32
            + self.sub_lines(width).len() as u32 * 22;
        if let Some(l) = self.legend {
            h += 8 + l.height(inner);
        }
        h + 10
    }

    /// Fills the background, draws the header and source line, and returns
    /// the body area between them.
    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<DrawingArea<DB, Shift>, Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let inner = w.saturating_sub(2 * MARGIN as u32);
        let mut y = MARGIN;
        for line in self.title_lines(w) {
            root.draw(&Text::new(
                line,
                (MARGIN, y),
                anchored(bold(TITLE), HPos::Left, VPos::Top),
            ))?;
            y += TITLE_LINE;
        }
        for line in self.sub_lines(w) {
            root.draw(&Text::new(
                line,
                (MARGIN, y),
                anchored(colored(font(SUBTITLE), MUTED), HPos::Left, VPos::Top),
            ))?;
            y += 22;
        }
        if let Some(l) = self.legend {
            y += 8;
            let lh = l.height(inner);
            let area = root.margin(y, 0, MARGIN, MARGIN);
            let (area, _) = area.split_vertically(lh);
            l.draw(&area)?;
            y += lh as i32;
        }
        let src = ellipsize(&self.source, inner, SOURCE, false);
        root.draw(&Text::new(
            src,
            (MARGIN, h as i32 - FOOTER_H as i32 / 2),
            anchored(colored(font(SOURCE), MUTED), HPos::Left, VPos::Center),
        ))?;
        let top = self.header_height(w) as i32;
        let _ = y;
        let body_h = (h as i32 - top - FOOTER_H as i32).max(1);
        let body = root.margin(top, 0, 0, 0);
        let (body, _) = body.split_vertically(body_h);
        Ok(body)
    }
}

/// The first `n` cells of a grid of `cols` columns over `area`.
pub fn grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    n: usize,
    cols: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    let cols = cols.max(1);
    let rows = n.div_ceil(cols).max(1);
    area.split_evenly((rows, cols))
        .into_iter()
        .take(n)
        .collect()
}

/// Columns of a small-multiples grid of `n` panels.
pub fn grid_cols(n: usize) -> usize {
    n.clamp(1, GRID_COLS)
}

/// Pixel size of a small-multiples figure of `n` panels (at least one)
/// under `frame`.
pub fn grid_size(n: usize, frame: &Frame) -> (u32, u32) {
    let n = n.max(1);
    let cols = grid_cols(n);
    let rows = n.div_ceil(cols) as u32;
    let w = cols as u32 * PANEL_W + 2 * MARGIN as u32;
    let h = frame.header_height(w) + rows * PANEL_H + FOOTER_H;
    (w, h)
}

/// Draws `frame` and, in a small-multiples grid over its body, one panel
/// per item.
pub fn draw_grid<DB: DrawingBackend, T>(
    root: &DrawingArea<DB, Shift>,
    frame: &Frame,
    items: &[T],
    mut panel: impl FnMut(&DrawingArea<DB, Shift>, &T) -> FigResult,
) -> FigResult
where
    DB::ErrorType: 'static,
{
    let body = frame.draw(root)?;
    let body = body.margin(0, 0, MARGIN, MARGIN);
    for (cell, item) in grid(&body, items.len(), grid_cols(items.len()))
        .iter()
        .zip(items)
    {
        panel(cell, item)?;
    }
    Ok(())
}

/// Draws `text` centred in `area` (used for "no data" notes).
pub fn note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str) -> FigResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        ellipsize(text, w.saturating_sub(10), ANNOT, false),
        (w as i32 / 2, h as i32 / 2),
        anchored(colored(font(ANNOT), MUTED), HPos::Center, VPos::Center),
    ))?;
    Ok(())
}

/// Panel title: the commodity name, cut to fit.
pub fn panel_title(name: &str, width: u32) -> String {
    ellipsize(name, width.saturating_sub(20), PANEL_TITLE, true)
}

/// The chart of a small-multiples panel titled `name`: the margins, title
/// and label areas every panel has (a figure may set more on top).
pub fn panel_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    name: &str,
) -> ChartBuilder<'a, 'static, DB> {
    let (w, _) = area.dim_in_pixel();
    let mut chart = ChartBuilder::on(area);
    chart
        .margin(8)
        .margin_right(18)
        .caption(panel_title(name, w), bold(PANEL_TITLE))
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA);
    chart
}

/// The look of every chart's mesh: tick and axis description fonts, grid
/// lines, axis colour.
pub fn mesh_look<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(font(TICK))
        .axis_desc_style(font(AXIS_DESC))
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .max_light_lines(1)
        .axis_style(MUTED)
}
