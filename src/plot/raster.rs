//! The PNG backend: plotters' bitmap backend, with text drawn at subpixel
//! glyph positions (kerning pairs and side bearings kept, as in the SVGs)
//! instead of plotters' per-glyph whole-pixel placement, which spaces
//! letters unevenly. Everything but text goes to the bitmap backend as is.

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle,
};

/// A bitmap backend with evenly spaced text.
pub struct KernedBitmap<'a> {
    inner: BitMapBackend<'a>,
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

impl<'a> KernedBitmap<'a> {
    /// Draws into an RGB `buf` of `size`; `None` if the embedded font cannot be read.
    pub fn with_buffer(buf: &'a mut [u8], size: (u32, u32)) -> Option<KernedBitmap<'a>> {
        Some(KernedBitmap {
            inner: BitMapBackend::with_buffer(buf, size),
            regular: FontRef::try_from_slice(dejavu::sans::regular()).ok()?,
            bold: FontRef::try_from_slice(dejavu::sans::bold()).ok()?,
        })
    }

    /// Calls `put(x, y, coverage)` for every pixel of `text` at `size`, with
    /// the same vertical placement as plotters (baseline at `size / 2` below
    /// the top, before anchoring).
    fn glyphs(font: &FontRef, size: f64, text: &str, mut put: impl FnMut(i32, i32, f32)) {
        let scaled = font.as_scaled(size as f32);
        let mut x = 0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                x += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(size as f32, point(x, 0.0));
            if let Some(o) = font.outline_glyph(glyph) {
                let b = o.px_bounds();
                let top = (size as f32 / 2.0 + b.min.y).floor() as i32;
                let left = b.min.x.floor() as i32;
                o.draw(|gx, gy, cov| put(left + gx as i32, top + gy as i32, cov));
            }
            x += scaled.h_advance(id);
            prev = Some(id);
        }
    }
}

type Res<E> = Result<(), DrawingErrorKind<E>>;

impl DrawingBackend for KernedBitmap<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Res<Self::ErrorType> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Res<Self::ErrorType> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> Res<Self::ErrorType> {
        self.inner.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
    ) -> Res<Self::ErrorType> {
        self.inner.draw_line(a, b, s)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
        fill: bool,
    ) -> Res<Self::ErrorType> {
        self.inner.draw_rect(a, b, s, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Res<Self::ErrorType> {
        self.inner.draw_path(path, s)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> Res<Self::ErrorType> {
        self.inner.draw_circle(c, r, s, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        s: &S,
    ) -> Res<Self::ErrorType> {
        self.inner.fill_polygon(vert, s)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Res<Self::ErrorType> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// As plotters' default, but glyphs placed at their exact positions.
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Res<Self::ErrorType> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let font = match style.style() {
            FontStyle::Bold => self.bold.clone(),
            _ => self.regular.clone(),
        };
        let mut result = Ok(());
        Self::glyphs(&font, style.size(), text, |x, y, cov| {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if result.is_ok() && x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                result = self.inner.draw_pixel((x, y), color.mix(cov as f64));
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rightmost inked column of `text` drawn at `size`.
    fn right_edge(font: &FontRef, size: f64, text: &str) -> i32 {
        let mut right = i32::MIN;
        KernedBitmap::glyphs(font, size, text, |x, _, cov| {
            if cov > 0.5 {
                right = right.max(x);
            }
        });
        right
    }

    /// "AV" is drawn with the font's kerning pair, as in the SVGs: the V
    /// sits the advance of A plus the (negative) kerning to its right.
    #[test]
    fn png_text_keeps_the_fonts_kerning() {
        let font = FontRef::try_from_slice(dejavu::sans::regular()).unwrap();
        let size = 60.0;
        let scaled = font.as_scaled(size as f32);
        let (a, v) = (scaled.glyph_id('A'), scaled.glyph_id('V'));
        let kern = scaled.kern(a, v);
        assert!(kern < -2.0, "the font kerns AV by {kern} px");
        let shift = right_edge(&font, size, "AV") - right_edge(&font, size, "V");
        let want = scaled.h_advance(a) + kern;
        assert!((shift as f32 - want).abs() <= 1.0, "{shift} vs {want}");
    }
}
