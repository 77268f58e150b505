//! From a raw capture to a normalised, masked image on the engine's grid, and the quality verdict.

use super::whole::{whole_below, whole_bits};
use super::{EngineError, GRID};
use crate::image::GrayImage;
use std::ops::Range;
use zeroize::{Zeroize, Zeroizing};

/// Side of the grid a prepared capture is kept and turned on: the `GRID` canvas sampled at every
/// other pixel (see [`HALVING_TAPS`]). The phase bands reach at most `DISC` / `GRID` = 50 / 256
/// cycles a pixel, below this grid's limit of 64 / 256, so they keep their frequencies; a turned
/// band then costs a quarter of the samples and less than half the transforms.
pub const SAMPLED: usize = GRID / 2;

/// The resolution everything is resampled to.
pub const ENGINE_DPI: f32 = 500.0;
/// Radius of the local mean/contrast window at 500 dpi (about one ridge period).
const RADIUS: usize = 8;
/// Block side for the quality verdict.
const BLOCK: usize = 16;

/// A capture's usefulness, decided before any matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Good,
    /// The finger covers too little of the sensor.
    Partial,
    /// Too little ridge contrast to use.
    Insufficient,
    /// Nothing but a uniform image: the sensor sees no finger or is covered.
    Dirty,
}

/// Per-block standard deviations of the raw image.
fn block_stds(img: &GrayImage) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = Vec::new();
    for by in 0..h / BLOCK {
        for bx in 0..w / BLOCK {
            let (mut s, mut s2) = (0f64, 0f64);
            for y in by * BLOCK..(by + 1) * BLOCK {
                for x in bx * BLOCK..(bx + 1) * BLOCK {
                    let v = img.get(x, y) as f64;
                    s += v;
                    s2 += v * v;
                }
            }
            let n = (BLOCK * BLOCK) as f64;
            out.push(((s2 / n) - (s / n).powi(2)).max(0.0).sqrt() as f32);
        }
    }
    out
}

/// Block contrast above which a block holds ridges.
const RIDGE_STD: f32 = 12.0;

/// Judges a capture: uniform → Dirty, little ridge area → Partial, weak ridges → Insufficient.
pub fn assess(img: &GrayImage) -> Quality {
    let stds = block_stds(img);
    if stds.is_empty() {
        return Quality::Insufficient;
    }
    let max = stds.iter().cloned().fold(0.0, f32::max);
    if max < 3.0 {
        return Quality::Dirty;
    }
    let ridged = stds.iter().filter(|s| **s >= RIDGE_STD).count() as f32 / stds.len() as f32;
    let weak = stds.iter().filter(|s| **s >= 5.0).count() as f32 / stds.len() as f32;
    if ridged >= 0.45 {
        Quality::Good
    } else if ridged >= 0.1 {
        // Clear ridges, but only on part of the sensor.
        Quality::Partial
    } else if weak >= 0.45 {
        Quality::Insufficient
    } else {
        Quality::Partial
    }
}

/// A block counts as static when its pixels correlate at least this well, unshifted, with the
/// same block of the previous capture.
const STATIC_CORRELATION: f32 = 0.7;
/// Radius of the two box passes that smooth ridges away before the comparison.
const SMOOTH_RADIUS: usize = 6;
/// Smoothed blocks flatter than this (grey levels) hold nothing to compare.
const STATIC_MIN_STD: f32 = 6.0;
/// A capture is dirty when this share of the sensor's blocks is static ...
const STATIC_SHARE_DIRTY: f32 = 0.08;
/// ... but not when nearly all its structure is: that is the same touch again, not a mark.
const STATIC_SHARE_REPLAY: f32 = 0.85;

/// Which blocks of a capture repeat an earlier one unshifted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticBlocks {
    /// Per block, row-major: it correlates with the same block of the earlier capture.
    pub repeated: Vec<bool>,
    /// Per block: it has broad structure (after smoothing) to compare.
    pub structured: Vec<bool>,
}

/// Compares two captures block by block, unshifted. Both are first smoothed over more than a
/// ridge period: ridges move with the finger, and a smudge is broader than a ridge.
pub fn static_blocks(now: &GrayImage, before: &GrayImage) -> StaticBlocks {
    let (w, h) = (now.width() as usize, now.height() as usize);
    let blocks = (w / BLOCK) * (h / BLOCK);
    if (now.width(), now.height()) != (before.width(), before.height()) {
        return StaticBlocks { repeated: vec![false; blocks], structured: vec![false; blocks] };
    }
    let smooth = |img: &GrayImage| {
        let raw: Vec<f32> = (0..w * h).map(|i| img.get(i % w, i / w) as f32).collect();
        box_mean(&box_mean(&raw, w, h, SMOOTH_RADIUS), w, h, SMOOTH_RADIUS)
    };
    let (a, b) = (smooth(now), smooth(before));
    let mut out = StaticBlocks::default();
    for by in 0..h / BLOCK {
        for bx in 0..w / BLOCK {
            let index = || {
                (by * BLOCK..(by + 1) * BLOCK).flat_map(move |y| (bx * BLOCK..(bx + 1) * BLOCK).map(move |x| y * w + x))
            };
            let n = (BLOCK * BLOCK) as f32;
            let (ma, mb) = index().fold((0f32, 0f32), |(sa, sb), i| (sa + a[i] / n, sb + b[i] / n));
            let (mut sab, mut saa, mut sbb) = (0f32, 0f32, 0f32);
            for i in index() {
                let (da, db) = (a[i] - ma, b[i] - mb);
                sab += da * db;
                saa += da * da;
                sbb += db * db;
            }
            let structured = (saa / n).sqrt() >= STATIC_MIN_STD;
            out.structured.push(structured);
            out.repeated.push(structured && sbb > 0.0 && sab / (saa * sbb).sqrt() >= STATIC_CORRELATION);
        }
    }
    out
}

/// Whether a capture shows a static pattern that each of the `earlier` captures showed too, in
/// the same place: a mark on the sensor, on part of it, while the finger moved.
pub fn repeats_static_pattern(now: &GrayImage, earlier: &[GrayImage]) -> bool {
    let Some((first, rest)) = earlier.split_first() else { return false };
    let mut common = static_blocks(now, first);
    for e in rest {
        let more = static_blocks(now, e);
        for (c, m) in common.repeated.iter_mut().zip(&more.repeated) {
            *c &= *m;
        }
    }
    let repeated = common.repeated.iter().filter(|r| **r).count() as f32;
    let structured = common.structured.iter().filter(|s| **s).count().max(1) as f32;
    repeated / common.repeated.len().max(1) as f32 >= STATIC_SHARE_DIRTY && repeated / structured < STATIC_SHARE_REPLAY
}

/// A normalised, masked image centred on the `GRID`×`GRID` canvas, kept halved: `SAMPLED`²
/// samples, sample (i, j) at canvas point (2i + 0.5, 2j + 0.5).
pub struct Prepared {
    pixels: Vec<f32>,
    /// Where the normalised image's point (x, y) sits on the canvas: (x, y) − centre + GRID/2.
    pub centre: (f32, f32),
    /// The box of `pixels` outside which every sample is 0: columns and rows `min..max`.
    bounds: Bounds,
}

/// A box of the grid, `min` inclusive, `max` exclusive.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    min: (usize, usize),
    max: (usize, usize),
}

fn resample(img: &GrayImage) -> Result<(Vec<f32>, usize, usize), EngineError> {
    let (w, h, dpi) = (img.width(), img.height(), img.dpi());
    if !(64..=1024).contains(&w) || !(64..=1024).contains(&h) {
        return Err(EngineError::Image(format!("{w}x{h} px: each side must be 64..=1024")));
    }
    if !(300..=1000).contains(&dpi) {
        return Err(EngineError::Image(format!("{dpi} dpi: must be 300..=1000")));
    }
    let scale = ENGINE_DPI / dpi as f32;
    if scale == 1.0 {
        // Every sample falls on a pixel: what `resampled` gives, without its arithmetic.
        return Ok((img.pixels().iter().map(|p| f32::from(*p)).collect(), w as usize, h as usize));
    }
    Ok(resampled(img, scale))
}

/// The capture resampled by `scale`, each pixel interpolated between its source's four nearest.
fn resampled(img: &GrayImage, scale: f32) -> (Vec<f32>, usize, usize) {
    let (w, h) = (img.width(), img.height());
    let (nw, nh) = (((w as f32 * scale).round() as usize).max(1), ((h as f32 * scale).round() as usize).max(1));
    let mut out = vec![0f32; nw * nh];
    for y in 0..nh {
        let sy = ((y as f32 + 0.5) / scale - 0.5).clamp(0.0, h as f32 - 1.0);
        let (y0, fy) = (sy.floor() as usize, sy.fract());
        let y1 = (y0 + 1).min(h as usize - 1);
        for x in 0..nw {
            let sx = ((x as f32 + 0.5) / scale - 0.5).clamp(0.0, w as f32 - 1.0);
            let (x0, fx) = (sx.floor() as usize, sx.fract());
            let x1 = (x0 + 1).min(w as usize - 1);
            let p = |x, y| img.get(x, y) as f32;
            out[y * nw + x] =
                (p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx) * (1.0 - fy) + (p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx) * fy;
        }
    }
    (out, nw, nh)
}

/// The `w`×`h` image at (x, y), interpolated between its four nearest pixels; None where that
/// square is not wholly on the image. One sample at a time: the reference that the turned rows
/// ([`Prepared::turn_rows`]) and the patches' frame grids, which sample a row at a time in vector
/// code, are checked against.
#[cfg(test)]
pub(super) fn sample(image: &[f32], w: usize, h: usize, x: f32, y: f32) -> Option<f32> {
    if x < 0.0 || y < 0.0 || x >= (w - 1) as f32 || y >= (h - 1) as f32 {
        return None;
    }
    Some(bilinear(image, w, x, y))
}

/// The bilinear sample at (x, y), which must lie in [0, w - 1) × [0, h - 1).
#[cfg(test)]
fn bilinear(image: &[f32], w: usize, x: f32, y: f32) -> f32 {
    let (x0, y0) = (x as usize, y as usize);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let top = &image[y0 * w + x0..y0 * w + x0 + 2];
    let bottom = &image[(y0 + 1) * w + x0..(y0 + 1) * w + x0 + 2];
    (top[0] * (1.0 - fx) + top[1] * fx) * (1.0 - fy) + (bottom[0] * (1.0 - fx) + bottom[1] * fx) * fy
}

/// Box sums over a (2r+1)² window, clamped at the borders, through an integral image.
pub(super) fn box_mean(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let ii = integral_image(v, w, h);
    // Each mean is pushed in order, so the output is never zeroed first (a capture's worth of
    // bytes per call, about a dozen calls per capture).
    let mut out = Vec::with_capacity(w * h);
    // Columns whose window lies wholly inside the row: one window size, in vector code.
    let (inner_from, inner_to) = (r.min(w), w.saturating_sub(r).max(r.min(w)));
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let (top, bottom) = (&ii[y0 * (w + 1)..][..w + 1], &ii[y1 * (w + 1)..][..w + 1]);
        let clamped = |x: usize| {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let s = bottom[x1] - top[x1] - bottom[x0] + top[x0];
            (s / ((y1 - y0) * (x1 - x0)) as f64) as f32
        };
        out.extend((0..inner_from).map(clamped));
        if inner_from < inner_to {
            let area = ((y1 - y0) * (2 * r + 1)) as f64;
            let ends = bottom[2 * r + 1..].iter().zip(&top[2 * r + 1..]);
            let starts = bottom.iter().zip(top);
            let inner = ends.zip(starts).take(inner_to - inner_from);
            out.extend(inner.map(|((b1, t1), (b0, t0))| ((b1 - t1 - b0 + t0) / area) as f32));
        }
        out.extend((inner_to..w).map(clamped));
    }
    out
}

/// The sums of `v` above and left of each corner: `(w + 1)` × `(h + 1)`, row-major, 0 along the top
/// and left edges.
fn integral_image(v: &[f32], w: usize, h: usize) -> Vec<f64> {
    debug_assert!(w > 0 && v.len() >= w * h, "{w}x{h} from {} values", v.len());
    let mut ii = Vec::with_capacity((w + 1) * (h + 1));
    ii.resize(w + 1, 0f64);
    for row in v.chunks_exact(w).take(h) {
        // The row's running sums, then the row above added (a loop of its own, in vector code;
        // the same one addition per value as adding them together).
        let start = ii.len();
        ii.push(0.0);
        let mut sum = 0f64;
        ii.extend(row.iter().map(|value| {
            sum += *value as f64;
            sum
        }));
        let (done, this) = ii.split_at_mut(start + 1);
        for (value, above) in this.iter_mut().zip(&done[start - w..start]) {
            *value += above;
        }
    }
    ii
}

/// A capture at 500 dpi with local brightness and contrast removed, and its foreground mask.
pub struct Normalised {
    pub w: usize,
    pub h: usize,
    /// Zero local mean, about unit local contrast, clamped to ±3.
    pub pixels: Vec<f32>,
    /// 1 inside the ridge area, 0 in the background, smooth in between.
    pub mask: Vec<f32>,
}

impl Drop for Normalised {
    fn drop(&mut self) {
        self.pixels.zeroize();
    }
}

/// Resamples to 500 dpi, removes local brightness and contrast, and segments the ridge area
/// (blocks with ridge-like local contrast, smoothed).
pub fn normalise(img: &GrayImage) -> Result<Normalised, EngineError> {
    let (mut v, w, h) = resample(img)?;
    let mut mean = box_mean(&v, w, h, RADIUS);
    let sq: Vec<f32> = v.iter().zip(&mean).map(|(p, m)| (p - m) * (p - m)).collect();
    let var = box_mean(&sq, w, h, RADIUS);
    // Integral-image differences can round a zero variance to a tiny negative number.
    let mut std: Vec<f32> = var.iter().map(|s| s.max(0.0).sqrt()).collect();
    let fg: Vec<f32> = std.iter().map(|s| if *s >= RIDGE_STD * 0.6 { 1.0 } else { 0.0 }).collect();
    let mask = box_mean(&fg, w, h, RADIUS * 2);
    let area = mask.iter().filter(|m| **m > 0.5).count();
    if area < 32 * 32 {
        return Err(EngineError::NoRidges);
    }
    let pixels = (0..w * h).map(|i| ((v[i] - mean[i]) / (std[i] + 4.0)).clamp(-3.0, 3.0)).collect();
    // The working copies hold the print too.
    for buffer in [&mut v, &mut mean, &mut std] {
        buffer.zeroize();
    }
    Ok(Normalised { w, h, pixels, mask })
}

/// Normalises, then centres the ridge area on the `GRID`×`GRID` canvas and halves it ([`lay_out`]).
pub fn prepare(img: &GrayImage) -> Result<Prepared, EngineError> {
    Ok(lay_out(&normalise(img)?))
}

/// Centres a normalised image's ridge area on the `GRID`×`GRID` canvas, and halves it.
pub fn lay_out(n: &Normalised) -> Prepared {
    let (mut full, centre, within) = canvas(n);
    let (pixels, bounds) = halved(&full, within);
    // Only the rows of `within` hold the print; the rest was never written.
    full[within.min.1 * GRID..within.max.1.max(within.min.1) * GRID].zeroize();
    Prepared { pixels, centre, bounds }
}

/// The normalised image masked and centred on the `GRID`×`GRID` canvas (row-major), where its
/// point (x, y) sits at (x, y) − centre + GRID/2, and the box outside which the canvas is 0.
pub(super) fn canvas(n: &Normalised) -> (Vec<f32>, (f32, f32), Bounds) {
    let (w, h) = (n.w, n.h);
    // Centre of the ridge area, so a large image keeps its finger on the grid.
    let (mut cx, mut cy) = (0f32, 0f32);
    for y in 0..h {
        for x in 0..w {
            let m = n.mask[y * w + x];
            cx += m * x as f32;
            cy += m * y as f32;
        }
    }
    let total: f32 = n.mask.iter().sum();
    let (cx, cy) = ((cx / total).round() as isize, (cy / total).round() as isize);
    let half = (GRID / 2) as isize;
    let mut full = vec![0f32; GRID * GRID];
    let mut within = Bounds { min: (GRID, GRID), max: (0, 0) };
    // The canvas's rows and columns that fall on the image.
    let on_image = |c: isize, side: usize| {
        let from = (half - c).clamp(0, GRID as isize);
        (from as usize, (side as isize + half - c).clamp(from, GRID as isize) as usize)
    };
    let ((x_from, x_to), (y_from, y_to)) = (on_image(cx, w), on_image(cy, h));
    if x_from == x_to {
        return (full, (cx as f32, cy as f32), within); // no column of the canvas on the image
    }
    let x0 = (cx - half + x_from as isize) as usize;
    for gy in y_from..y_to {
        let i = (cy - half + gy as isize) as usize * w + x0;
        let (pixels, mask) = (&n.pixels[i..][..x_to - x_from], &n.mask[i..][..x_to - x_from]);
        let weight = |m: &f32| m.clamp(0.0, 1.0);
        // The row's masked span: where `within` grows.
        let (Some(first), Some(last)) =
            (mask.iter().position(|m| weight(m) > 0.0), mask.iter().rposition(|m| weight(m) > 0.0))
        else {
            continue;
        };
        within.min = (within.min.0.min(x_from + first), within.min.1.min(gy));
        within.max = (within.max.0.max(x_from + last + 1), within.max.1.max(gy + 1));
        // Outside the mask the canvas stays exactly 0.
        let out = &mut full[gy * GRID + x_from..][..x_to - x_from];
        for ((o, p), m) in out.iter_mut().zip(pixels).zip(mask) {
            let m = weight(m);
            *o = if m > 0.0 { p * m } else { 0.0 };
        }
    }
    (full, (cx as f32, cy as f32), within)
}

/// The weights of a sample of the halved grid (`SAMPLED`) along each axis, over the 4 canvas
/// pixels about its 2x2 square's centre: [1 3 3 1] / 8, which keeps what the bands hold and damps the
/// frequencies that halving the sampling would fold onto them.
const HALVING_TAPS: [f32; 4] = [0.125, 0.375, 0.375, 0.125];

/// `full` (`GRID`², 0 outside `within`) filtered by [`HALVING_TAPS`] along each axis and sampled
/// at every other pixel: `SAMPLED`², with the box outside which it is 0.
fn halved(full: &[f32], within: Bounds) -> (Vec<f32>, Bounds) {
    let mut pixels = vec![0f32; SAMPLED * SAMPLED];
    let mut bounds = Bounds { min: (SAMPLED, SAMPLED), max: (0, 0) };
    if within.min.0 >= within.max.0 || within.min.1 >= within.max.1 {
        return (pixels, bounds);
    }
    // The samples whose taps (canvas pixels 2i - 1 ..= 2i + 2) reach into `within`.
    let reach = |lo: usize, hi: usize| (lo.saturating_sub(1) / 2, (hi / 2 + 1).min(SAMPLED));
    let (columns, rows) = (reach(within.min.0, within.max.0), reach(within.min.1, within.max.1));
    // Along x, every canvas row of `within` (the rows above and below it are 0); then along y.
    let (top, bottom) = (within.min.1, within.max.1);
    let mut across = Zeroizing::new(vec![0f32; (bottom - top) * SAMPLED]);
    for (line, out) in full[top * GRID..bottom * GRID].chunks_exact(GRID).zip(across.chunks_exact_mut(SAMPLED)) {
        for (i, out) in out.iter_mut().enumerate().take(columns.1).skip(columns.0) {
            *out = match line.get((2 * i).wrapping_sub(1)..2 * i + 3) {
                // All four taps on the canvas: the same sum, without a check per tap.
                Some(taps) => taps.iter().zip(HALVING_TAPS).fold(0.0, |acc, (v, w)| acc + w * v),
                None => tapped(|x| line[x], i),
            };
        }
    }
    for (j, out) in pixels.chunks_exact_mut(SAMPLED).enumerate().take(rows.1).skip(rows.0) {
        // Each tap's row added across the columns in turn: the same sums, in the same order, as
        // `tapped` down each column (rows of the canvas outside `within` add 0, which changes
        // nothing: a sum started at +0 is never -0).
        let out = &mut out[columns.0..columns.1];
        for (t, w) in HALVING_TAPS.iter().enumerate() {
            let y = (2 * j + t).wrapping_sub(1);
            if (top..bottom).contains(&y) {
                let line = &across[(y - top) * SAMPLED + columns.0..][..out.len()];
                out.iter_mut().zip(line).for_each(|(o, v)| *o += w * v);
            }
        }
        if let (Some(first), Some(last)) = (out.iter().position(|v| *v != 0.0), out.iter().rposition(|v| *v != 0.0)) {
            bounds.min = (bounds.min.0.min(columns.0 + first), bounds.min.1.min(j));
            bounds.max = (bounds.max.0.max(columns.0 + last + 1), bounds.max.1.max(j + 1));
        }
    }
    (pixels, bounds)
}

/// Sample `i` of a canvas line `at`: its taps at canvas pixels 2i - 1 ..= 2i + 2, in that order,
/// those off the canvas 0.
fn tapped(at: impl Fn(usize) -> f32, i: usize) -> f32 {
    let mut acc = 0f32;
    for (t, w) in HALVING_TAPS.iter().enumerate() {
        let x = (2 * i + t).wrapping_sub(1);
        if x < GRID {
            acc += w * at(x);
        }
    }
    acc
}

impl Drop for Prepared {
    fn drop(&mut self) {
        self.pixels.zeroize();
    }
}

impl Prepared {
    /// The image rotated by `degrees` about the centre of its `SAMPLED` grid (the canvas's
    /// centre) and tapered by a Hann window, handed to `row` a row at a time: `row(y, from,
    /// values)` says that row `y` holds `values` from column `from` and 0 elsewhere. Rows that
    /// are 0 throughout are not handed over.
    ///
    /// Only the samples whose source falls within a sample of the box of nonzero ones are taken
    /// (the rest are 0 either way): a small capture's rotation costs its own area, not the grid's.
    pub fn turn_rows(&self, degrees: f32, row: &mut dyn FnMut(usize, usize, &[f32])) {
        let Bounds { min, max } = self.bounds;
        if min.0 >= max.0 || min.1 >= max.1 {
            return;
        }
        let hann = hann();
        if degrees == 0.0 {
            // Every sample falls on a pixel: the rows are the box's own, windowed. The grid's last
            // row and column are 0, as a bilinear sample there has no neighbour beyond.
            let columns = min.0..max.0.min(SAMPLED - 1);
            let spans = (min.1..max.1.min(SAMPLED - 1)).map(|y| (y, columns.clone()));
            let window = |y: usize, span: Range<usize>, out: &mut [f32]| {
                let source = &self.pixels[y * SAMPLED..][span.clone()];
                for ((v, p), w) in out.iter_mut().zip(source).zip(&hann[span]) {
                    *v = p * w * hann[y];
                }
            };
            return hand_over(spans, window, row);
        }
        let (s, c) = degrees.to_radians().sin_cos();
        let mid = (SAMPLED as f32 - 1.0) / 2.0;
        // The source of (x, y) is (c·dx + s·dy + mid, −s·dx + c·dy + mid) with d = (x, y) − mid;
        // it must lie in the box grown by one pixel (a bilinear sample reaches one pixel over).
        let (lo_x, hi_x) = (min.0 as f32 - 1.0, max.0 as f32);
        let (lo_y, hi_y) = (min.1 as f32 - 1.0, max.1 as f32);
        let spans = (0..SAMPLED).filter_map(|y| {
            let dy = y as f32 - mid;
            let (mut from, mut to) = (0f32, SAMPLED as f32);
            for (at, slope, lo, hi) in [(s * dy + mid, c, lo_x, hi_x), (c * dy + mid, -s, lo_y, hi_y)] {
                // at + slope·dx within [lo, hi], for dx = x − mid.
                if slope.abs() < 1e-6 {
                    if at < lo || at > hi {
                        (from, to) = (0.0, 0.0);
                    }
                    continue;
                }
                let (a, b) = ((lo - at) / slope + mid, (hi - at) / slope + mid);
                from = from.max(a.min(b).floor() - 1.0);
                to = to.min(a.max(b).ceil() + 2.0);
            }
            let (from, to) = (from.max(0.0) as usize, to.clamp(0.0, SAMPLED as f32) as usize);
            (from < to).then_some((y, from..to))
        });
        // Each row's samples, reused row to row.
        let mut samples = RowSamples::new();
        let sample = |y: usize, span: Range<usize>, out: &mut [f32]| {
            let (from, dy) = (span.start, y as f32 - mid);
            turn_row(&self.pixels, (s, c), (from, dy), (&hann[span], hann[y]), &mut samples, out);
        };
        hand_over(spans, sample, row);
    }
}

/// Fills the values of each row `y` over its `span` of columns with `fill(y, span, values)` and
/// hands over to `row` those not 0 throughout; the values are wiped at the end, on unwinding too.
fn hand_over(
    spans: impl Iterator<Item = (usize, Range<usize>)>,
    mut fill: impl FnMut(usize, Range<usize>, &mut [f32]),
    row: &mut dyn FnMut(usize, usize, &[f32]),
) {
    let mut values = Zeroizing::new([0f32; SAMPLED]);
    for (y, span) in spans {
        let (from, out) = (span.start, &mut values[..span.len()]);
        fill(y, span, out);
        if out.iter().any(|v| *v != 0.0) {
            row(y, from, out);
        }
    }
}

/// Where each sample of a row lies and what surrounds it, kept from row to row (arrays of a
/// whole grid row, so that the loops over them run in vector code).
struct RowSamples {
    /// Grid index of each sample's top-left neighbour; `u32::MAX` outside the grid.
    at: [u32; SAMPLED],
    /// Each sample's weights: how far right of and below that neighbour it lies.
    fx: [f32; SAMPLED],
    fy: [f32; SAMPLED],
    /// The four neighbours' values: top left, top right, bottom left, bottom right.
    corners: [[f32; SAMPLED]; 4],
}

impl RowSamples {
    fn new() -> RowSamples {
        RowSamples { at: [0; SAMPLED], fx: [0.0; SAMPLED], fy: [0.0; SAMPLED], corners: [[0.0; SAMPLED]; 4] }
    }
}

impl Drop for RowSamples {
    fn drop(&mut self) {
        // The corners are the print's own values.
        self.corners.as_flattened_mut().zeroize();
    }
}

/// One row of [`Prepared::turn_rows`]: `out[i]` is the grid's bilinear sample at the source of
/// column `from + i` of the row `dy` below the centre (0 outside the grid), times its windows.
///
/// In three passes, so that the first and the last run in vector code: where each sample lies and
/// its weights ([`square_at`]); the four neighbours of each and their blend ([`blend_squares`]).
/// Each value is the same expression as [`sample`]'s.
fn turn_row(
    pixels: &[f32],
    (s, c): (f32, f32),
    (from, dy): (usize, f32),
    (window, hy): (&[f32], f32),
    samples: &mut RowSamples,
    out: &mut [f32],
) {
    const EDGE: f32 = (SAMPLED - 1) as f32;
    let mid = EDGE / 2.0;
    let n = out.len();
    let RowSamples { at, fx, fy, corners: [top_left, top_right, bottom_left, bottom_right] } = samples;
    let (at, fx, fy) = (&mut at[..n], &mut fx[..n], &mut fy[..n]);
    for (i, ((at, fx), fy)) in at.iter_mut().zip(fx.iter_mut()).zip(fy.iter_mut()).enumerate() {
        let dx = (from + i) as f32 - mid;
        (*at, *fx, *fy) = square_at((c * dx + s * dy + mid, -s * dx + c * dy + mid), (EDGE, EDGE), SAMPLED);
    }
    let corners = [&mut top_left[..n], &mut top_right[..n], &mut bottom_left[..n], &mut bottom_right[..n]];
    let window = &window[..n];
    blend_squares(pixels, SAMPLED, (at, fx, fy), corners, out, |i, value| value * window[i] * hy);
}

/// Where a bilinear sample at (x, y) of an image `width` pixels wide takes its values, for
/// [`blend_squares`]: the index of its top-left neighbour (`u32::MAX` unless x and y lie in
/// [0, `edge`), the square then not wholly on the image) and how far right of and below that
/// neighbour it lies. The image must hold fewer than 2^23 pixels.
#[inline(always)]
pub(super) fn square_at((x, y): (f32, f32), (right, bottom): (f32, f32), width: usize) -> (u32, f32, f32) {
    let inside = x >= 0.0 && y >= 0.0 && x < right && y < bottom;
    // Off the image the weights are NaN-free placeholders and the value is dropped.
    let (x, y) = if inside { (x, y) } else { (0.0, 0.0) };
    let (x0, y0) = (whole_below(x), whole_below(y));
    // Exact: a whole number below 2^23 (the image's size).
    let index = whole_bits(y0 * width as f32 + x0);
    (if inside { index } else { u32::MAX }, x - x0, y - y0)
}

/// The bilinear samples of `pixels` (rows `width` long) at the squares [`square_at`] found, each
/// passed through `scale(i, value)` and set to 0 where its square is off the image: `out[i]`.
/// The four neighbours are loaded into `corners` first (loads from scattered places, which
/// vectors cannot do without gathers), so that the blend runs in vector code; 0 off the image is
/// chosen by a mask rather than a branch, for the same reason.
pub(super) fn blend_squares(
    pixels: &[f32],
    width: usize,
    (at, fx, fy): (&[u32], &[f32], &[f32]),
    corners: [&mut [f32]; 4],
    out: &mut [f32],
    scale: impl Fn(usize, f32) -> f32,
) {
    let [a, b, d, e] = corners;
    for (i, at) in at.iter().enumerate() {
        // On the image, the top-left neighbour has a pixel to its right and a row below it, so all
        // four lie within the `width` + 2 values from it.
        let k = if *at == u32::MAX { 0 } else { *at as usize };
        let square = &pixels[k..k + width + 2];
        (a[i], b[i], d[i], e[i]) = (square[0], square[1], square[width], square[width + 1]);
    }
    for (i, o) in out.iter_mut().enumerate().take(at.len()) {
        let ([a, b, d, e], fx, fy) = ([a[i], b[i], d[i], e[i]], fx[i], fy[i]);
        let value = (a * (1.0 - fx) + b * fx) * (1.0 - fy) + (d * (1.0 - fx) + e * fx) * fy;
        let keep = if at[i] == u32::MAX { 0 } else { u32::MAX };
        *o = f32::from_bits(scale(i, value).to_bits() & keep);
    }
}

/// The Hann window over the grid's side, computed once.
fn hann() -> &'static [f32; SAMPLED] {
    static HANN: std::sync::OnceLock<[f32; SAMPLED]> = std::sync::OnceLock::new();
    HANN.get_or_init(|| {
        std::array::from_fn(|i| 0.5 - 0.5 * (std::f32::consts::TAU * (i as f32 + 0.5) / SAMPLED as f32).cos())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::tests::{ridges, synthetic};

    #[test]
    fn a_capture_at_the_engines_resolution_is_taken_as_it_is_and_equals_its_interpolation() {
        let image = synthetic(5, 0, |_| {});
        let (pixels, w, h) = resample(&image).unwrap();
        assert_eq!((w, h), (image.width() as usize, image.height() as usize));
        assert_eq!((pixels.clone(), w, h), resampled(&image, 1.0));
        assert_eq!(pixels, image.pixels().iter().map(|p| *p as f32).collect::<Vec<_>>());
    }

    #[test]
    fn box_means_are_the_means_of_the_clamped_windows_at_any_size() {
        for (w, h, r) in [(1, 1, 0), (1, 1, 3), (5, 3, 2), (7, 9, 3), (6, 6, 8), (40, 23, 8), (37, 41, 1)] {
            let v: Vec<f32> = (0..w * h).map(|i| ((i * 7919) % 255) as f32 / 17.0 - 3.0).collect();
            let means = box_mean(&v, w, h, r);
            // Every window's sum through the integral image, as one expression per pixel.
            let ii = integral_image(&v, w, h);
            for y in 0..h {
                for x in 0..w {
                    let (y0, y1, x0, x1) =
                        (y.saturating_sub(r), (y + r + 1).min(h), x.saturating_sub(r), (x + r + 1).min(w));
                    let at = |y: usize, x: usize| ii[y * (w + 1) + x];
                    let s = at(y1, x1) - at(y0, x1) - at(y1, x0) + at(y0, x0);
                    assert_eq!(
                        means[y * w + x],
                        (s / ((y1 - y0) * (x1 - x0)) as f64) as f32,
                        "{w}x{h} r{r} at ({x}, {y})"
                    );
                    // And that is the plain mean.
                    let n = (y1 - y0) * (x1 - x0);
                    let plain: f64 = (y0..y1).map(|sy| (x0..x1).map(|sx| v[sy * w + sx] as f64).sum::<f64>()).sum();
                    assert!((means[y * w + x] as f64 - plain / n as f64).abs() < 1e-5);
                }
            }
        }
        assert!(box_mean(&[], 0, 5, 2).is_empty() && box_mean(&[], 5, 0, 2).is_empty());
    }

    /// The rotation, sampled at every pixel of the grid: what `turn_rows` must hand over.
    fn rotated_everywhere(p: &Prepared, degrees: f32) -> Vec<f32> {
        let (s, c) = degrees.to_radians().sin_cos();
        let mid = (SAMPLED as f32 - 1.0) / 2.0;
        let mut out = vec![0f32; SAMPLED * SAMPLED];
        for y in 0..SAMPLED {
            for x in 0..SAMPLED {
                let (dx, dy) = (x as f32 - mid, y as f32 - mid);
                if let Some(v) = sample(&p.pixels, SAMPLED, SAMPLED, c * dx + s * dy + mid, -s * dx + c * dy + mid) {
                    out[y * SAMPLED + x] = v * hann()[x] * hann()[y];
                }
            }
        }
        out
    }

    #[test]
    fn rotating_only_the_ridge_area_gives_the_whole_rotation() {
        let half_touch = synthetic(7, 1, |t| t.coverage = 0.5);
        let images = [(160, 160), (96, 200), (256, 256), (300, 120)].map(|(w, h)| ridges(3, w, h, 0.0, 0.0, 0.0));
        for image in images.iter().chain([&half_touch]) {
            let (w, h) = (image.width(), image.height());
            let p = prepare(image).unwrap();
            for degrees in [0.0, 6.0, -18.0, 45.0, 90.0, -90.0, 137.0, 180.0, -173.0] {
                let mut turned = vec![0f32; SAMPLED * SAMPLED];
                let mut rows = Vec::new();
                p.turn_rows(degrees, &mut |y, from, values| {
                    rows.push(y);
                    turned[y * SAMPLED + from..][..values.len()].copy_from_slice(values);
                });
                assert_eq!(turned, rotated_everywhere(&p, degrees), "{w}x{h} turned {degrees}°");
                let nonzero: Vec<usize> =
                    (0..SAMPLED).filter(|y| turned[y * SAMPLED..(y + 1) * SAMPLED].iter().any(|v| *v != 0.0)).collect();
                assert_eq!(rows, nonzero, "{w}x{h} turned {degrees}°: the rows handed over, once each, in order");
            }
        }
    }
}
