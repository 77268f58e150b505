//! Minutia patches: the enhanced ridge image around a minutia, sampled in the minutia's own frame
//! (its direction along +x), so two captures of the same minutia give the same patch whatever
//! their pose. A pose that lines up two different fingers' ridge flow pairs some of their
//! minutiae by chance; the ridges around such a pair still differ, and the correlation of the
//! two patches says so. On 1,000 synthetic fingers, pairs weighted by it lowered the FRR at
//! FAR ≤ 1/50,000 from 18.6% to 12.8% (see BENCHMARKS.md).

use super::minutiae::Minutia;
use super::nibbles;
use super::prepare::{blend_squares, square_at};
use zeroize::Zeroize;

/// Samples along each side of a patch ...
pub const SIDE: usize = 17;
/// ... this many pixels apart (500 dpi): 32 px, about three and a half ridges, across.
const SPACING: f32 = 2.0;
/// Samples of one patch, and bytes of one patch stored at a byte per sample (`FPM3`).
pub const BYTES: usize = SIDE * SIDE;
/// Bytes of one patch stored at 4 bits per sample (`FPM4`).
pub const NIBBLE_BYTES: usize = BYTES.div_ceil(2);
/// The largest magnitude of a 4-bit sample.
const NIBBLE_MAX: f32 = 7.0;

/// Where [`Nearby`]'s patches start on a grid one sample wider each way than a patch, as (column,
/// row): one sample (`SPACING`) along the minutia's direction either way (columns run along it),
/// then across it either way. The patch itself starts at (1, 1).
const SHIFTS: [(usize, usize); 4] = [(2, 1), (0, 1), (1, 2), (1, 0)];

/// Samples a patch holds in memory: `BYTES`, then zeros up to a whole number of `LANES`.
const HELD: usize = BYTES.next_multiple_of(LANES);
/// Samples [`Patch::similarity`] multiplies at a time.
const LANES: usize = 8;
// [`Patch::best_likeness_in`] sums a row of a patch as two runs of `LANES` and one sample more.
const _: () = assert!(SIDE == 2 * LANES + 1);

/// Zero-mean samples, quantised so that the largest magnitude is 127 (stored a byte each, held
/// at 16 bits: products of 16-bit lanes are what vector units multiply and add in one step,
/// about two and a half times as fast as bytes widened first).
#[derive(Clone)]
pub struct Patch {
    samples: [i16; HELD],
    /// The sum of the squared samples: half of every similarity, computed once.
    energy: i32,
}

impl Patch {
    /// A patch of `BYTES` samples (fewer are taken as 0s after them).
    fn new(samples: impl IntoIterator<Item = i8>) -> Patch {
        let mut held = [0i16; HELD];
        held.iter_mut().zip(samples.into_iter().take(BYTES)).for_each(|(h, s)| *h = i16::from(s));
        Patch { energy: held.iter().map(|s| i32::from(*s) * i32::from(*s)).sum(), samples: held }
    }

    /// The patch around `m` in an image `w` pixels wide (samples off the image are 0), which a
    /// template's view keeps for each minutia, and the same shifted by a sample each way, which
    /// only a probe uses ([`Nearby`]).
    pub fn with_shifts(image: &[f32], w: usize, h: usize, m: &Minutia) -> (Patch, Nearby) {
        // One grid a sample wider each way holds the patch and its four shifts.
        let wide = SIDE + 2;
        let mut grid = frame_grid(image, w, h, m, wide);
        let own = Patch::of_grid(&grid, wide, (1, 1));
        let patches = SHIFTS.map(|from| Patch::of_grid(&grid, wide, from));
        grid.zeroize();
        (own, Nearby { patches })
    }

    /// How alike the ridges of `image` about `m` (in its own frame) are to this patch: the highest
    /// normalised correlation of this patch with the image sampled there and a sample off each way
    /// (as [`Nearby::best_similarity`] takes for a probe's own minutiae), computed on the samples
    /// themselves: a view's minutia sought in a probe's ridges ([`super::verify::confirmed`]) needs
    /// no patch of its own.
    /// 0 for an image too small to sample (or shorter than `w` × `h`, or one [`frame_grid`]
    /// does not sample).
    pub fn best_likeness_in(&self, image: &[f32], w: usize, h: usize, m: &Minutia) -> f32 {
        const WIDE: usize = SIDE + 2;
        if w < 2 || h < 2 || w.checked_mul(h).is_none_or(|pixels| image.len() < pixels) {
            return 0.0;
        }
        let mut grid = [0f32; WIDE * WIDE];
        fill_frame_grid(&mut grid, image, w, h, m, WIDE);
        let mut own: [f32; BYTES] = std::array::from_fn(|k| f32::from(self.samples[k]));
        let mut best = f32::MIN;
        for (column, row) in std::iter::once((1, 1)).chain(SHIFTS) {
            // Each row's first 16 samples in `LANES` independent sums (one running sum waits for
            // each addition before the next), its last one beside them.
            let (mut product, mut sum, mut squares) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
            let (mut last_product, mut last_sum, mut last_squares) = (0f32, 0f32, 0f32);
            for (r, own_row) in own.chunks_exact(SIDE).enumerate() {
                let start = (row + r) * WIDE + column;
                let grid_row = &grid[start..start + SIDE];
                for (a, g) in own_row[..2 * LANES].chunks_exact(LANES).zip(grid_row[..2 * LANES].chunks_exact(LANES)) {
                    for l in 0..LANES {
                        product[l] += a[l] * g[l];
                        sum[l] += g[l];
                        squares[l] += g[l] * g[l];
                    }
                }
                let (a, g) = (own_row[2 * LANES], grid_row[2 * LANES]);
                (last_product, last_sum, last_squares) = (last_product + a * g, last_sum + g, last_squares + g * g);
            }
            let total = |lanes: [f32; LANES], last: f32| lanes.iter().sum::<f32>() + last;
            let (product, sum, squares) =
                (total(product, last_product), total(sum, last_sum), total(squares, last_squares));
            let spread = squares - sum * sum / BYTES as f32;
            let likeness = if self.energy == 0 || spread <= 1e-12 {
                0.0
            } else {
                // The patch's samples sum to about 0, so the grid's mean need not come off the product.
                product / (self.energy as f32 * spread).sqrt()
            };
            best = best.max(likeness);
        }
        grid.zeroize();
        own.zeroize();
        // The patch's samples sum to about 0, not exactly: keep within a correlation's range.
        best.min(1.0)
    }

    /// The patch around `m` sampled on its own `SIDE`² grid: what [`Patch::with_shifts`] must
    /// give as the patch itself (for tests).
    #[cfg(test)]
    fn around(image: &[f32], w: usize, h: usize, m: &Minutia) -> Patch {
        let mut grid = frame_grid(image, w, h, m, SIDE);
        let patch = Patch::of_grid(&grid, SIDE, (0, 0));
        grid.zeroize();
        patch
    }

    /// The `SIDE`² samples at `from` (column, row) of a `side`-wide grid, zero-mean and scaled
    /// so that the largest magnitude is 127.
    fn of_grid(grid: &[f32], side: usize, from: (usize, usize)) -> Patch {
        debug_assert!(grid.len() == side * side && from.0 + SIDE <= side && from.1 + SIDE <= side);
        let mut v = [0f32; BYTES];
        for (row, out) in v.chunks_exact_mut(SIDE).enumerate() {
            let start = (from.1 + row) * side + from.0;
            out.copy_from_slice(&grid[start..start + SIDE]);
        }
        let mean = v.iter().sum::<f32>() / BYTES as f32;
        let largest = v.iter().map(|x| (x - mean).abs()).fold(0.0, f32::max);
        let scale = if largest > 1e-6 { 127.0 / largest } else { 0.0 };
        let patch = Patch::new(v.iter().map(|x| ((x - mean) * scale).round().clamp(-127.0, 127.0) as i8));
        v.zeroize();
        patch
    }

    /// Normalised correlation, -1..1 (0 when either patch is flat).
    pub fn similarity(&self, other: &Patch) -> f32 {
        let mut lanes = [0i32; LANES];
        for (a, b) in self.samples.chunks_exact(LANES).zip(other.samples.chunks_exact(LANES)) {
            for (l, (a, b)) in lanes.iter_mut().zip(a.iter().zip(b)) {
                *l += i32::from(*a) * i32::from(*b);
            }
        }
        let ab: i32 = lanes.iter().sum();
        let (aa, bb) = (self.energy, other.energy);
        if aa == 0 || bb == 0 { 0.0 } else { ab as f32 / ((aa as f32) * (bb as f32)).sqrt() }
    }

    pub fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.samples[..BYTES].iter().map(|s| *s as i8 as u8)
    }

    /// Appends the samples at 4 bits each (-7..=7, two's complement), two to a byte, the first
    /// in the low nibble: what a template stores (`FPM4`). Quantising lowers a patch's similarity
    /// to itself by about 0.3%; correlation does not depend on scale.
    pub fn nibbles_into(&self, out: &mut Vec<u8>) {
        let step = |s: &i16| ((*s as f32 * NIBBLE_MAX / 127.0).round() as i8 & 0x0f) as u8;
        nibbles::pack_into(self.samples[..BYTES].iter().map(step), out);
    }

    /// A patch stored by [`Patch::nibbles_into`]; `None` when `b` is not [`NIBBLE_BYTES`] long.
    pub fn from_nibbles(b: &[u8]) -> Option<Patch> {
        if b.len() != NIBBLE_BYTES {
            return None;
        }
        // Back to the scale of 127 (-8, which is never written, is read as -7).
        let sample =
            |k| ((nibbles::signed(nibbles::nibble(b, k)) as f32).max(-NIBBLE_MAX) * 127.0 / NIBBLE_MAX).round() as i8;
        Some(Patch::new((0..BYTES).map(sample)))
    }

    pub fn from_bytes(b: &[u8]) -> Option<Patch> {
        (b.len() == BYTES).then(|| Patch::new(b.iter().map(|v| *v as i8)))
    }
}

/// A probe minutia's patch shifted by a sample each way. A minutia's place is known to a pixel or
/// two, and a patch taken that far off correlates less with the same minutia's patch in another
/// capture: the best of the five counts for a pair of minutiae that a pose has laid on each other.
/// Only a probe's are sampled so, at extraction (templates are unchanged). On the 160-px real crops
/// of `scripts/operating.sh` they rejected about 2 points fewer genuine touches above the highest
/// real impostor score (BENCHMARKS.md, "Patches shifted by a sample"). They do not choose anchored
/// poses: tried there too, they found more turned fingers but lifted impostors as much, for several
/// times the anchor search's patch comparisons. Patches turned by ±8° as well measured alike and
/// cost more.
pub struct Nearby {
    patches: [Patch; SHIFTS.len()],
}

/// Cut by [`Patch::with_shifts`].
impl Nearby {
    /// Shifted patches given as they are (for tests of what uses them).
    #[cfg(test)]
    pub(super) fn of(patches: [Patch; SHIFTS.len()]) -> Nearby {
        Nearby { patches }
    }

    /// The highest similarity of `own` (the patch in the minutia's own frame) and these to `other`.
    pub fn best_similarity(&self, own: &Patch, other: &Patch) -> f32 {
        self.patches.iter().map(|p| p.similarity(other)).fold(own.similarity(other), f32::max)
    }
}

/// `side`² samples `SPACING` apart about `m`, in its own frame (its direction along +x, rows
/// across it; samples off the image are 0, and all are for an image shorter than `w` × `h` or of
/// 2^23 pixels or more, far beyond any capture).
fn frame_grid(image: &[f32], w: usize, h: usize, m: &Minutia, side: usize) -> Vec<f32> {
    let mut grid = vec![0f32; side * side];
    fill_frame_grid(&mut grid, image, w, h, m, side);
    grid
}

/// [`frame_grid`] into `grid` (`side`² long, `side` at most `SIDE + 2`).
///
/// Row by row in three passes, as the turned canvas's rows are, so that the first and the last
/// run in vector code: where each sample lies and its weights ([`square_at`]); the four
/// neighbours of each and their blend, 0 off the image ([`blend_squares`]).
fn fill_frame_grid(grid: &mut [f32], image: &[f32], w: usize, h: usize, m: &Minutia, side: usize) {
    const MOST: usize = SIDE + 2;
    debug_assert!(side <= MOST && grid.len() == side * side);
    let (s, c) = m.direction.sin_cos();
    let half = (side - 1) as f32 / 2.0 * SPACING;
    // A sample needs its right and lower neighbours on the image. Below, a sample's index is a
    // whole float, exact below 2^23 pixels: more than any capture has at 500 dpi (1,707² at most).
    if w < 2 || h < 2 || w.checked_mul(h).is_none_or(|pixels| image.len() < pixels || pixels >= 1 << 23) {
        grid.fill(0.0);
        return;
    }
    let edge = ((w - 1) as f32, (h - 1) as f32);
    let (mut at, mut fx, mut fy) = ([0u32; MOST], [0f32; MOST], [0f32; MOST]);
    let mut corners = [[0f32; MOST]; 4];
    for (row, out) in grid.chunks_exact_mut(side).enumerate() {
        let q = row as f32 * SPACING - half;
        let (at, fx, fy) = (&mut at[..side], &mut fx[..side], &mut fy[..side]);
        for (column, ((at, fx), fy)) in at.iter_mut().zip(fx.iter_mut()).zip(fy.iter_mut()).enumerate() {
            let u = column as f32 * SPACING - half;
            (*at, *fx, *fy) = square_at((m.x + c * u - s * q, m.y + s * u + c * q), edge, w);
        }
        let [a, b, d, e] = &mut corners;
        let corners = [&mut a[..side], &mut b[..side], &mut d[..side], &mut e[..side]];
        blend_squares(image, w, (at, fx, fy), corners, out, |_, value| value);
    }
    corners.zeroize();
}

/// Patches are biometric data: wiped when dropped.
impl Drop for Patch {
    fn drop(&mut self) {
        self.samples.zeroize();
        self.energy.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::minutiae::Kind;
    use std::f32::consts::PI;

    /// Ridges 9 px apart across direction `across`, with a ridge ending at the origin when `ending`.
    fn ridges(x: f32, y: f32, across: f32, ending: bool) -> f32 {
        let (s, c) = across.sin_cos();
        let mut phase = (c * x + s * y) * 2.0 * PI / 9.0;
        if ending {
            phase += y.atan2(x);
        }
        phase.sin()
    }

    /// A 96-px image of `ridges` about its centre, the whole turned by `turn`.
    fn image(turn: f32, ending: bool) -> Vec<f32> {
        let (s, c) = (-turn).sin_cos();
        (0..96 * 96)
            .map(|i| {
                let (x, y) = ((i % 96) as f32 - 48.0, (i / 96) as f32 - 48.0);
                ridges(c * x - s * y, s * x + c * y, 1.2, ending)
            })
            .collect()
    }

    fn at(x: f32, y: f32, direction: f32) -> Minutia {
        Minutia { x, y, direction, kind: Kind::Ending, quality: 1.0 }
    }

    #[test]
    fn a_frame_grid_holds_the_images_samples_and_zeros_off_it() {
        // Anywhere on a 96 x 80 image, near its edges and off them, at any direction: each value
        // is the image's bilinear sample at that point of the minutia's frame, or 0 off the image.
        let (w, h) = (96, 80);
        let img: Vec<f32> = (0..w * h).map(|i| ((i % w) as f32 * 0.37).sin() + (i / w) as f32 * 0.05 + 1.5).collect();
        let side = SIDE + 2;
        let half = (side - 1) as f32 / 2.0 * SPACING;
        let (mut inside, mut outside) = (0, 0);
        for (x, y, direction) in
            [(48.0, 40.0, 0.3), (5.5, 40.2, 2.0), (90.0, 3.0, -1.1), (-4.0, 70.0, 4.0), (47.3, 79.5, 1.57)]
        {
            let m = at(x, y, direction);
            let grid = frame_grid(&img, w, h, &m, side);
            let (s, c) = direction.sin_cos();
            for (k, value) in grid.iter().enumerate() {
                let (u, q) = ((k % side) as f32 * SPACING - half, (k / side) as f32 * SPACING - half);
                let there = crate::matcher::prepare::sample(&img, w, h, x + c * u - s * q, y + s * u + c * q);
                assert!((value - there.unwrap_or(0.0)).abs() < 1e-5, "{k} at ({x}, {y}): {value} against {there:?}");
                if there.is_some() { inside += 1 } else { outside += 1 }
            }
        }
        assert!(inside > 1000 && outside > 300, "{inside} samples on the image, {outside} off it");
        // An image too small to sample gives zeros, not a panic.
        assert!(frame_grid(&img[..10], w, h, &at(2.0, 2.0, 0.0), side).iter().all(|v| *v == 0.0));
    }

    #[test]
    fn the_same_minutia_turned_gives_the_same_patch_and_other_ridges_do_not() {
        let a = Patch::around(&image(0.0, true), 96, 96, &at(48.0, 48.0, 0.3));
        let turned = Patch::around(&image(0.5, true), 96, 96, &at(48.0, 48.0, 0.8));
        assert!(a.similarity(&turned) > 0.9, "a turned capture of the same minutia: {}", a.similarity(&turned));
        let plain = Patch::around(&image(0.0, false), 96, 96, &at(48.0, 48.0, 0.3));
        assert!(a.similarity(&plain) < 0.7, "plain ridges are not the minutia: {}", a.similarity(&plain));
        let bytes: Vec<u8> = a.bytes().collect();
        assert_eq!(Patch::from_bytes(&bytes).map(|p| p.similarity(&a)), Some(1.0));
        assert!(Patch::from_bytes(&bytes[1..]).is_none());
    }

    #[test]
    fn a_minutia_found_a_sample_off_its_place_still_finds_its_patch_and_other_ridges_do_not() {
        let enrolled = Patch::around(&image(0.0, true), 96, 96, &at(48.0, 48.0, 0.3));
        // The same minutia in another capture, found 2 px off along its direction (as its place
        // is known to a pixel or two).
        let (s, c) = 0.3f32.sin_cos();
        let (own, nearby) = Patch::with_shifts(&image(0.0, true), 96, 96, &at(48.0 + 2.0 * c, 48.0 + 2.0 * s, 0.3));
        let (direct, best) = (own.similarity(&enrolled), nearby.best_similarity(&own, &enrolled));
        assert!(best > 0.99 && direct < 0.8, "own frame {direct}, best of the nearby {best}");
        // ... or 2 px off across it.
        let (own, nearby) = Patch::with_shifts(&image(0.0, true), 96, 96, &at(48.0 - 2.0 * s, 48.0 + 2.0 * c, 0.3));
        let (direct, best) = (own.similarity(&enrolled), nearby.best_similarity(&own, &enrolled));
        assert!(best > 0.99 && direct < 0.8, "across: own frame {direct}, best of the nearby {best}");
        // Plain ridges without the ending stay unlike, however they are shifted.
        let (plain, plain_nearby) = Patch::with_shifts(&image(0.0, false), 96, 96, &at(48.0, 48.0, 0.3));
        let plain_best = plain_nearby.best_similarity(&plain, &enrolled);
        assert!(plain_best < 0.5, "plain ridges: {plain_best}");
        // Sought in the image without a patch of its own, it is found as alike (computed on the
        // samples, not on quantised patches), and plain ridges stay unlike.
        let found = enrolled.best_likeness_in(&image(0.0, true), 96, 96, &at(48.0 - 2.0 * s, 48.0 + 2.0 * c, 0.3));
        assert!((found - best).abs() < 0.01, "sought {found}, best of the nearby patches {best}");
        let plain_found = enrolled.best_likeness_in(&image(0.0, false), 96, 96, &at(48.0, 48.0, 0.3));
        assert!((plain_found - plain_best).abs() < 0.01, "plain ridges: sought {plain_found}, patches {plain_best}");
        // Near the image's edge (samples off it are 0) the two agree as well.
        let edge = at(6.0, 40.0, 0.3);
        let (own, nearby) = Patch::with_shifts(&image(0.0, true), 96, 96, &edge);
        let by_patches = nearby.best_similarity(&own, &enrolled);
        let sought = enrolled.best_likeness_in(&image(0.0, true), 96, 96, &edge);
        assert!((sought - by_patches).abs() < 0.02, "at the edge: sought {sought}, patches {by_patches}");
        // The patch in the minutia's own frame is the one its own 17×17 grid gives.
        let (same, _) = Patch::with_shifts(&image(0.0, true), 96, 96, &at(48.0, 48.0, 0.3));
        assert!(same.bytes().eq(enrolled.bytes()));
    }
}
