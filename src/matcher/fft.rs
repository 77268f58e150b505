//! Spectra of prepared images and the phase-only correlation between two of them.

use super::nibbles;
use super::prepare::SAMPLED;
use super::{BAND, BAND_LEN, BAND_SIDE, DISC, GRID, SURFACE};
use rustfft::algorithm::Radix4;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftDirection};
use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;
use zeroize::Zeroize;

/// The unit-magnitude (phase-only) low band of a spectrum, row-major, `BAND_SIDE`².
pub struct Spectrum {
    band: Vec<Complex32>,
}

/// A probe's band tapered for the coarse surface ([`Spectrum::tapered`]), as [`coarse_peaks`]
/// takes it: tapering the product of two bands is tapering either, and a probe's few bands are
/// tapered once where the many views' bands were tapered at every correlation.
pub struct Tapered(Spectrum);

struct Plans {
    forward: Arc<dyn Fft<f32>>,
    scratch: Vec<Complex32>,
    /// [`phase_band`]'s rows, two to a transform (at most `SAMPLED / 2` of them), and its band
    /// columns (`BAND_SIDE` of `SAMPLED` points): zero between calls, unless `band_unfinished` (a
    /// call unwound before it could set them back).
    pairs: Vec<Complex32>,
    columns: Vec<Complex32>,
    band_unfinished: bool,
    fine: Surface,
    coarse: Surface,
}

/// One size of correlation surface, with its transform and buffers, kept between calls (hundreds
/// per identification: allocating them each time showed in profiles).
///
/// The full surface (`SURFACE` points) holds the band as it is, its frequencies laid at the low
/// frequencies of the surface with nothing between. A coarse surface (`COARSE_SURFACE` points,
/// fewer than the band's side) holds it folded: frequency k goes to k modulo the side, which
/// samples the full correlation at every other cell, with the band tapered by a Hann window so
/// that the peak is wide enough not to fall between those cells.
struct Surface {
    side: usize,
    inverse: Arc<dyn Fft<f32>>,
    /// The taper of a folded surface, per band column (and row); empty when the band is laid as
    /// it is.
    hann: Vec<f32>,
    /// Where each band column (and row) lies on the surface's side.
    laid_at: Vec<usize>,
    /// What a band correlated with itself peaks at: the sum of its weights.
    weight: f32,
    /// Of a folded surface: the share of its height a peak shows at a cell half a cell away
    /// along one axis (a correlation of pure phases is the taper's transform).
    half_cell: f32,
    /// The band's rows, laid along x and transformed (`BAND_SIDE` of them, or `side` folded).
    rows: Vec<Complex32>,
    /// The surface, column-major (x outer, y inner).
    cells: Vec<Complex32>,
    /// Of a folded surface: a column of cells, and the sum of it and the next, each with its first
    /// cell again at the end (see [`highest_between`]).
    column: Vec<Complex32>,
    across: Vec<Complex32>,
}

impl Surface {
    fn new(side: usize) -> Surface {
        let folds = side < BAND_SIDE;
        // Hann over the band: zero just beyond ±BAND, so folding joins it without a step.
        let hann: Vec<f32> = if folds {
            (0..BAND_SIDE)
                .map(|i| 0.5 + 0.5 * (std::f32::consts::PI * (i as f32 - BAND as f32) / (BAND + 1) as f32).cos())
                .collect()
        } else {
            Vec::new()
        };
        let weight_of = |i: usize| if folds { hann[i / BAND_SIDE] * hann[i % BAND_SIDE] } else { 1.0 };
        let weight = (0..BAND_LEN).map(|i| disc()[i] * weight_of(i)).sum();
        // The taper's transform half a cell (GRID / side / 2 pixels) from its centre, along x.
        let half_cell = if folds {
            let shift = std::f32::consts::TAU * (GRID / side / 2) as f32 / GRID as f32;
            let along = |i: usize| (shift * (i % BAND_SIDE) as f32 - shift * BAND as f32).cos();
            (0..BAND_LEN).map(|i| disc()[i] * weight_of(i) * along(i)).sum::<f32>() / weight
        } else {
            1.0
        };
        Surface {
            side,
            inverse: plan(side, FftDirection::Inverse),
            laid_at: (0..BAND_SIDE).map(|i| (i as isize - BAND as isize).rem_euclid(side as isize) as usize).collect(),
            hann,
            weight,
            half_cell,
            rows: vec![Complex32::default(); BAND_SIDE.min(side) * side],
            cells: vec![Complex32::default(); side * side],
            column: vec![Complex32::default(); if folds { side + 1 } else { 0 }],
            across: vec![Complex32::default(); if folds { side + 1 } else { 0 }],
        }
    }

    fn folds(&self) -> bool {
        !self.hann.is_empty()
    }
}

thread_local! {
    static PLANS: RefCell<Plans> = RefCell::new({
        let forward = plan(SAMPLED, FftDirection::Forward);
        let (fine, coarse) = (Surface::new(SURFACE), Surface::new(COARSE_SURFACE));
        let scratch = [&forward, &fine.inverse, &coarse.inverse].map(|plan| plan.get_inplace_scratch_len());
        Plans {
            forward,
            scratch: vec![Complex32::default(); scratch.into_iter().max().unwrap_or(0)],
            pairs: vec![Complex32::default(); SAMPLED / 2 * SAMPLED],
            columns: vec![Complex32::default(); BAND_SIDE * SAMPLED],
            band_unfinished: false,
            fine,
            coarse,
        }
    });
}

/// Side of the coarse correlation's surface ([`coarse_peaks`]): cells of 4 pixels, about a quarter
/// of the full correlation's work.
const COARSE_SURFACE: usize = 64;

// The transforms have power-of-two lengths, which is what the portable fallback (radix 4) needs.
const _: () = assert!(GRID.is_power_of_two() && SURFACE.is_power_of_two() && COARSE_SURFACE.is_power_of_two());
// The band fits on the full surface without wrapping onto itself; the coarse one folds it.
const _: () = assert!(BAND_SIDE < SURFACE && COARSE_SURFACE < BAND_SIDE && BAND < COARSE_SURFACE);
// The band's frequencies are distinct on the halved canvas's transform, none folded onto another.
const _: () = assert!(SAMPLED.is_power_of_two() && BAND < SAMPLED / 2);
const _: () = assert!(COARSE_SURFACE % BLOCK == 0 && SURFACE % BLOCK == 0);
const _: () = assert!(COARSE_SURFACE % LANES == 0 && SURFACE % LANES == 0);
/// Columns the correlation's transpose moves at a time.
const BLOCK: usize = 8;
/// Lanes of the peak search.
const LANES: usize = 8;

/// A transform of `len` points with the CPU's vector unit (AVX on x86_64, NEON on aarch64) when it
/// has one, otherwise radix 4 in plain code (always on 32-bit ARM and x86: rustfft has no vector
/// code there). Only these planners are built: rustfft's general planner would bring every
/// algorithm for every length and vector unit, about 0.5 MB of the library, for the power-of-two
/// lengths used here.
fn plan(len: usize, direction: FftDirection) -> Arc<dyn Fft<f32>> {
    #[cfg(target_arch = "x86_64")]
    if let Ok(mut planner) = rustfft::FftPlannerAvx::new() {
        return planner.plan_fft(len, direction);
    }
    #[cfg(target_arch = "aarch64")]
    if let Ok(mut planner) = rustfft::FftPlannerNeon::new() {
        return planner.plan_fft(len, direction);
    }
    Arc::new(Radix4::new(len, direction))
}

/// Weight of each band bin: 1 inside a disc of radius `DISC` bins, 0 outside. The corners of
/// the square band are the highest frequencies, where a partial print holds mostly noise.
fn disc() -> &'static [f32] {
    static DISC_WEIGHTS: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    DISC_WEIGHTS.get_or_init(|| {
        (0..BAND_LEN)
            .map(|i| {
                let (kx, ky) = frequency(i);
                if ((kx * kx + ky * ky) as f32).sqrt() <= DISC { 1.0 } else { 0.0 }
            })
            .collect()
    })
}

/// The frequency (kx, ky) of band bin `i` (row-major, `BAND_SIDE`², -BAND..=BAND each way).
fn frequency(i: usize) -> (isize, isize) {
    ((i % BAND_SIDE) as isize - BAND as isize, (i / BAND_SIDE) as isize - BAND as isize)
}

/// The weight of each band bin ([`disc`]) turned by the phase its value is off by: the band's
/// grid samples the `GRID` canvas at the centres of its 2x2 squares, half a pixel along each
/// axis from where the canvas's own transform puts its origin (so bands keep the canvas's
/// phases, as templates hold them).
fn shifted_disc() -> &'static [Complex32] {
    static SHIFTED: std::sync::OnceLock<Vec<Complex32>> = std::sync::OnceLock::new();
    SHIFTED.get_or_init(|| {
        let half_pixel = -std::f32::consts::PI / GRID as f32;
        (0..BAND_LEN)
            .map(|i| {
                let (kx, ky) = frequency(i);
                Complex32::from_polar(disc()[i], half_pixel * (kx + ky) as f32)
            })
            .collect()
    })
}

/// The phase ramp r(k) = e^(iπ·k / `SAMPLED`) of a quarter turn ([`Spectrum::quarters_turned`]) for
/// every sum kx + ky of two band frequencies, -2·BAND..=2·BAND: the same at every call.
fn quarter_ramps() -> &'static [Complex32] {
    static RAMPS: std::sync::OnceLock<Vec<Complex32>> = std::sync::OnceLock::new();
    RAMPS.get_or_init(|| {
        (-2 * BAND as isize..=2 * BAND as isize)
            .map(|k| Complex32::from_polar(1.0, std::f32::consts::PI / SAMPLED as f32 * k as f32))
            .collect()
    })
}

/// `v.norm()`, without the library call: in double precision, as glibc's `hypotf` computes it
/// (no finite `f32` parts overflow or underflow there); other C libraries may differ from it in
/// the last bit.
#[inline(always)]
fn magnitude(v: Complex32) -> f32 {
    let (re, im) = (f64::from(v.re), f64::from(v.im));
    (re * re + im * im).sqrt() as f32
}

/// Index of signed frequency `k` in an `n`-point transform.
fn bin(k: isize, n: usize) -> usize {
    k.rem_euclid(n as isize) as usize
}

/// The phase band of a `SAMPLED`×`SAMPLED` real image (the halved canvas) that `lay_rows` hands
/// over a row at a time, as [`Prepared::turn_rows`](super::prepare::Prepared::turn_rows) does:
/// `(y, from, values)`, rows in order, rows that are all zero left out. Its phases are those of
/// the whole canvas's transform ([`shifted_disc`]).
///
/// The image is real, so two of its rows go through one complex transform (the first as the real
/// part, the second as the imaginary part) and are told apart by the symmetry of real spectra;
/// rows that are all zero (outside the turned print) are skipped. Then the band's columns. Both
/// buffers are this thread's, zero between calls: what a call writes it sets back to zero (plain
/// stores: the buffers outlive the call, so the compiler cannot drop them).
pub fn phase_band(lay_rows: impl FnOnce(&mut dyn FnMut(usize, usize, &[f32]))) -> Spectrum {
    PLANS.with(|plans| {
        let plans = &mut *plans.borrow_mut();
        let Plans { forward, scratch, pairs, columns, band_unfinished, .. } = plans;
        if *band_unfinished {
            pairs.fill(Complex32::default());
            columns.fill(Complex32::default());
        }
        *band_unfinished = true;
        let mut rows = Vec::with_capacity(SAMPLED);
        lay_rows(&mut |y, from, values| {
            let pair = &mut pairs[rows.len() / 2 * SAMPLED + from..][..values.len()];
            if rows.len() % 2 == 0 {
                pair.iter_mut().zip(values).for_each(|(z, v)| z.re = *v);
            } else {
                pair.iter_mut().zip(values).for_each(|(z, v)| z.im = *v);
            }
            rows.push(y);
        });
        if rows.is_empty() {
            *band_unfinished = false;
            return Spectrum { band: vec![Complex32::default(); BAND_LEN] };
        }
        let pairs = &mut pairs[..rows.len().div_ceil(2) * SAMPLED];
        forward.process_with_scratch(pairs, scratch);
        // Column bx of the band, all SAMPLED rows: the spectra of the two rows of a pair are
        // (Z[k] + conj Z[-k]) / 2 and (Z[k] - conj Z[-k]) / 2i.
        for (pair, ys) in pairs.chunks_exact(SAMPLED).zip(rows.chunks(2)) {
            for (bx, kx) in (-(BAND as isize)..=BAND as isize).enumerate() {
                let (z, mirror) = (pair[bin(kx, SAMPLED)], pair[bin(-kx, SAMPLED)].conj());
                columns[bx * SAMPLED + ys[0]] = (z + mirror) * 0.5;
                if let Some(y) = ys.get(1) {
                    let d = (z - mirror) * 0.5;
                    columns[bx * SAMPLED + y] = Complex32::new(d.im, -d.re);
                }
            }
        }
        forward.process_with_scratch(columns, scratch);
        let band = (0..BAND_LEN)
            .map(|i| {
                let (bx, (_, ky)) = (i % BAND_SIDE, frequency(i));
                let v = columns[bx * SAMPLED + bin(ky, SAMPLED)];
                let m = magnitude(v);
                if m > 1e-6 { v * (shifted_disc()[i] / m) } else { Complex32::default() }
            })
            .collect();
        pairs.fill(Complex32::default());
        columns.fill(Complex32::default());
        *band_unfinished = false;
        Spectrum { band }
    })
}

/// The phase-only correlation of each of `probes` against `b`, in order: the peak's height (1.0
/// for identical phases) and its position on the surface (the probe is `b` moved by (x, y) ×
/// `GRID / SURFACE` pixels, modulo `GRID`).
///
/// Both phase bands come from real images (a band read from a template is made so by `mirrored`),
/// so each product band is Hermitian and its correlation surface real: two products go through one
/// complex transform, the first as its real part and the second as its imaginary part, which
/// halves the transforms.
pub fn correlation_peaks(probes: &[&Spectrum], b: &Spectrum) -> Vec<(f32, usize, usize)> {
    PLANS.with(|plans| {
        let Plans { fine, scratch, .. } = &mut *plans.borrow_mut();
        let probes: Vec<&[Complex32]> = probes.iter().map(|p| &p.band[..]).collect();
        peaks_on(fine, scratch, &probes, &b.band)
    })
}

/// [`correlation_peaks`] of one probe against each of `views`, in order. Two views go through one
/// transform as two probes do: p × conj(b1) + i · p × conj(b2) = p × conj(b1 − i · b2), whose
/// surface holds the first view's correlation as its real part and the second's as its imaginary
/// part.
pub fn peaks_against(probe: &Spectrum, views: &[&Spectrum]) -> Vec<(f32, usize, usize)> {
    PLANS.with(|plans| {
        let Plans { fine, scratch, .. } = &mut *plans.borrow_mut();
        against(fine, scratch, &probe.band, views)
    })
}

/// [`correlation_peaks`] of each of `probes` against each of `views`: per view, in the order of
/// `probes`. Two probes go through a transform against each view, and an odd probe against two
/// views at a time ([`peaks_against`]).
pub fn peaks_each(probes: &[&Spectrum], views: &[&Spectrum]) -> Vec<Vec<(f32, usize, usize)>> {
    PLANS.with(|plans| {
        let Plans { fine, scratch, .. } = &mut *plans.borrow_mut();
        let probes: Vec<&[Complex32]> = probes.iter().map(|p| &p.band[..]).collect();
        each(fine, scratch, &probes, views)
    })
}

/// [`coarse_peaks`] of each of `probes` against each of `views`, paired as in [`peaks_each`].
pub fn coarse_peaks_each(probes: &[&Tapered], views: &[&Spectrum]) -> Vec<Vec<f32>> {
    PLANS.with(|plans| {
        let Plans { coarse, scratch, .. } = &mut *plans.borrow_mut();
        let probes: Vec<&[Complex32]> = probes.iter().map(|p| &p.0.band[..]).collect();
        let peaks = each(coarse, scratch, &probes, views);
        peaks.into_iter().map(|view| view.into_iter().map(|(peak, _, _)| peak).collect()).collect()
    })
}

/// The peaks of every one of `probes` against every one of `views` on `surface` (see
/// [`peaks_each`]).
fn each(
    surface: &mut Surface,
    scratch: &mut [Complex32],
    probes: &[&[Complex32]],
    views: &[&Spectrum],
) -> Vec<Vec<(f32, usize, usize)>> {
    let paired = probes.len() / 2 * 2;
    let mut peaks: Vec<Vec<(f32, usize, usize)>> =
        views.iter().map(|view| peaks_on(surface, scratch, &probes[..paired], &view.band)).collect();
    if let Some(odd) = probes.get(paired) {
        for (view_peaks, peak) in peaks.iter_mut().zip(against(surface, scratch, odd, views)) {
            view_peaks.push(peak);
        }
    }
    peaks
}

/// The peaks of `probe` against each of `views` on `surface`, two views to a transform.
fn against(
    surface: &mut Surface,
    scratch: &mut [Complex32],
    probe: &[Complex32],
    views: &[&Spectrum],
) -> Vec<(f32, usize, usize)> {
    let mut peaks = Vec::with_capacity(views.len());
    let mut both = Vec::new();
    for pair in views.chunks(2) {
        let b = match pair {
            [first, second] => {
                both.clear();
                both.extend(first.band.iter().zip(&second.band).map(|(a, b)| Complex32::new(a.re + b.im, a.im - b.re)));
                &both[..]
            }
            _ => &pair[0].band[..],
        };
        correlate(surface, scratch, probe, None, b);
        push_peaks(surface, pair.len() == 2, &mut peaks);
    }
    // Two views' phases, combined.
    wipe(&mut both);
    peaks
}

/// The heights of [`correlation_peaks`] on a coarse surface: the product tapered (the probes
/// come tapered) and folded onto a `COARSE_SURFACE`² surface (cells of 4 pixels), about a quarter
/// of the work. For ranking rotations before the full correlation, not as a score.
pub fn coarse_peaks(probes: &[&Tapered], b: &Spectrum) -> Vec<f32> {
    PLANS.with(|plans| {
        let Plans { coarse, scratch, .. } = &mut *plans.borrow_mut();
        let probes: Vec<&[Complex32]> = probes.iter().map(|p| &p.0.band[..]).collect();
        peaks_on(coarse, scratch, &probes, &b.band).into_iter().map(|(peak, _, _)| peak).collect()
    })
}

fn peaks_on(
    surface: &mut Surface,
    scratch: &mut [Complex32],
    probes: &[&[Complex32]],
    b: &[Complex32],
) -> Vec<(f32, usize, usize)> {
    let mut peaks = Vec::with_capacity(probes.len());
    for pair in probes.chunks(2) {
        let second = pair.get(1).copied();
        correlate(surface, scratch, pair[0], second, b);
        push_peaks(surface, second.is_some(), &mut peaks);
    }
    peaks
}

/// The peak of the real part of the surface [`correlate`] left, and of its imaginary part when it
/// holds a pair, added to `peaks`.
fn push_peaks(surface: &mut Surface, pair: bool, peaks: &mut Vec<(f32, usize, usize)>) {
    let (re, im) = if surface.folds() { highest_between(surface) } else { highest(surface) };
    peaks.push(re);
    if pair {
        peaks.push(im);
    }
}

/// Leaves in `surface.cells` the inverse transform of (first + i·second) × conj(b), the band laid
/// on the surface (see [`Surface`]).
fn correlate(
    surface: &mut Surface,
    scratch: &mut [Complex32],
    first: &[Complex32],
    second: Option<&[Complex32]>,
    b: &[Complex32],
) {
    if surface.folds() {
        lay_folded(surface, first, second, b);
    } else {
        lay(surface, first, second, b);
    }
    let Surface { side, ref inverse, ref laid_at, ref mut rows, ref mut cells, .. } = *surface;
    // Inverse along x of each laid row ...
    inverse.process_with_scratch(rows, scratch);
    // ... then along y of every column. The transpose goes a few columns at a time, so that reads
    // and writes both run along cache lines.
    let folded = rows.len() == side * side;
    for x0 in (0..side).step_by(BLOCK) {
        for (r, row) in rows.chunks_exact(side).enumerate() {
            let y = if folded { r } else { laid_at[r] };
            for (dx, v) in row[x0..x0 + BLOCK].iter().enumerate() {
                cells[(x0 + dx) * side + y] = *v;
            }
        }
        if !folded {
            for column in cells[x0 * side..(x0 + BLOCK) * side].chunks_exact_mut(side) {
                column[BAND + 1..side - BAND].fill(Complex32::default());
            }
        }
    }
    inverse.process_with_scratch(cells, scratch);
}

/// Each band row's product as a row of the surface: frequencies 0..=BAND at its start,
/// -BAND..0 at its end, nothing between.
fn lay(surface: &mut Surface, first: &[Complex32], second: Option<&[Complex32]>, b: &[Complex32]) {
    let side = surface.side;
    for (by, row) in surface.rows.chunks_exact_mut(side).enumerate() {
        let band = by * BAND_SIDE..(by + 1) * BAND_SIDE;
        let (first, second, b) = (&first[band.clone()], second.map(|s| &s[band.clone()]), &b[band]);
        let (low, rest) = row.split_at_mut(BAND + 1);
        let (gap, high) = rest.split_at_mut(side - BAND_SIDE);
        gap.fill(Complex32::default());
        multiply::<false>(low, &first[BAND..], second.map(|s| &s[BAND..]), &b[BAND..]);
        multiply::<false>(high, &first[..BAND], second.map(|s| &s[..BAND]), &b[..BAND]);
    }
}

/// The product (its probe tapered) folded onto the surface's rows: frequency (kx, ky) added at (kx, ky)
/// modulo the side. Along a row, frequencies -BAND..0 go to the end of the row and 0..=BAND to its
/// start, where they overlap.
fn lay_folded(surface: &mut Surface, first: &[Complex32], second: Option<&[Complex32]>, b: &[Complex32]) {
    let Surface { side, ref laid_at, ref mut rows, .. } = *surface;
    // The band has more rows and columns than the surface: every surface row gets a first band
    // row, and that row's two parts cover it. So a row's first band row is written (the end of
    // the row, then its start up to the overlap) and the rest added, with nothing zeroed first:
    // the same sums as adding everything to zeros.
    debug_assert_eq!(side, COARSE_SURFACE, "one flag per surface row");
    let mut written = [false; COARSE_SURFACE];
    for by in 0..BAND_SIDE {
        let band = by * BAND_SIDE..(by + 1) * BAND_SIDE;
        let (first, second, b) = (&first[band.clone()], second.map(|s| &s[band.clone()]), &b[band]);
        let row = &mut rows[laid_at[by] * side..(laid_at[by] + 1) * side];
        let mut lay = |cells: Range<usize>, frequencies: Range<usize>, add: bool| {
            let (out, f, b) = (&mut row[cells], &first[frequencies.clone()], &b[frequencies.clone()]);
            let s = second.map(|s| &s[frequencies]);
            if add { multiply::<true>(out, f, s, b) } else { multiply::<false>(out, f, s, b) }
        };
        let seen = std::mem::replace(&mut written[laid_at[by]], true);
        lay(side - BAND..side, 0..BAND, seen);
        if seen {
            lay(0..BAND + 1, BAND..BAND_SIDE, true);
        } else {
            // Frequencies 0..side - BAND land on cells nothing has touched yet.
            lay(0..side - BAND, BAND..side, false);
            lay(side - BAND..BAND + 1, side..BAND_SIDE, true);
        }
    }
}

/// `out` = (first + i·second) × conj(b), element by element (`second` 0 when absent), or `out` +=
/// that when `ADD`. Written out in real arithmetic, in two loops, so that the compiler vectorises
/// them.
fn multiply<const ADD: bool>(
    out: &mut [Complex32],
    first: &[Complex32],
    second: Option<&[Complex32]>,
    b: &[Complex32],
) {
    let put = |o: &mut Complex32, v: Complex32| if ADD { *o += v } else { *o = v };
    match second {
        Some(second) => {
            for (((o, a), c), b) in out.iter_mut().zip(first).zip(second).zip(b) {
                let (re, im) = (a.re - c.im, a.im + c.re);
                put(o, Complex32::new(re * b.re + im * b.im, im * b.re - re * b.im));
            }
        }
        None => {
            for ((o, a), b) in out.iter_mut().zip(first).zip(b) {
                put(o, Complex32::new(a.re * b.re + a.im * b.im, a.im * b.re - a.re * b.im));
            }
        }
    }
}

/// The highest real and imaginary values of a surface's cells (column-major), each as (height
/// normalised by the surface's weight, x, y); the first of equals in column order.
fn highest(surface: &Surface) -> ((f32, usize, usize), (f32, usize, usize)) {
    let (side, cells) = (surface.side, &surface.cells);
    // Each column's maxima first, in lanes the compiler can vectorise; then where in the first
    // column holding the overall maximum it lies.
    let (mut re, mut im) = ((f32::MIN, 0), (f32::MIN, 0));
    for (x, column) in cells.chunks_exact(side).enumerate() {
        let (mut column_re, mut column_im) = ([f32::MIN; LANES], [f32::MIN; LANES]);
        for chunk in column.chunks_exact(LANES) {
            // A plain comparison, not `f32::max` (whose NaN rules keep it from vector code);
            // the surface has no NaN.
            for (l, c) in chunk.iter().enumerate() {
                column_re[l] = if c.re > column_re[l] { c.re } else { column_re[l] };
                column_im[l] = if c.im > column_im[l] { c.im } else { column_im[l] };
            }
        }
        let largest = |lanes: [f32; LANES]| lanes.iter().fold(f32::MIN, |a, b| a.max(*b));
        let (column_re, column_im) = (largest(column_re), largest(column_im));
        if column_re > re.0 {
            re = (column_re, x);
        }
        if column_im > im.0 {
            im = (column_im, x);
        }
    }
    let column = |x: usize| &cells[x * side..(x + 1) * side];
    let (re, im) = (
        (re.0, column(re.1).iter().position(|c| c.re == re.0).map(|y| re.1 * side + y)),
        (im.0, column(im.1).iter().position(|c| c.im == im.0).map(|y| im.1 * side + y)),
    );
    let place = |max: f32, k: Option<usize>| {
        let k = k.unwrap_or(0);
        ((max / surface.weight).clamp(0.0, 1.0), k / side, k % side)
    };
    (place(re.0, re.1), place(im.0, im.1))
}

/// For a folded surface: the height of the highest peak, real and imaginary parts, over the
/// surface's weight, wherever between cells the peak lies. Its cells are 4 pixels apart, and a
/// peak halfway between two of them shows in each at only a share of its height; so each
/// cell, each pair of neighbouring cells and each square of four is read as a peak, a pair or a
/// square over the peak's own height at what a peak halfway between them gives (see
/// [`Surface::half_cell`]), and the highest of those is the estimate (within about 10% of the
/// peak's height wherever it lies).
fn highest_between(surface: &mut Surface) -> ((f32, usize, usize), (f32, usize, usize)) {
    let Surface { side, ref cells, ref mut column, ref mut across, .. } = *surface;
    // Highest cell, vertical pair, horizontal pair, square; real and imaginary.
    let (mut re, mut im) = ([f32::MIN; 4], [f32::MIN; 4]);
    for x in 0..side {
        let next = (x + 1) % side;
        let (this, next) = (&cells[x * side..(x + 1) * side], &cells[next * side..(next + 1) * side]);
        column[..side].copy_from_slice(this);
        for ((a, c), n) in across.iter_mut().zip(this).zip(next) {
            *a = c + n;
        }
        (column[side], across[side]) = (column[0], across[0]);
        let found = [
            lane_maxima(column, false),
            lane_maxima(column, true),
            lane_maxima(across, false),
            lane_maxima(across, true),
        ];
        for (k, (r, i)) in found.into_iter().enumerate() {
            (re[k], im[k]) = (re[k].max(r), im[k].max(i));
        }
    }
    let h = surface.half_cell;
    let height = |b: [f32; 4]| {
        let peak = b[0].max(b[1] / (2.0 * h)).max(b[2] / (2.0 * h)).max(b[3] / (4.0 * h * h));
        ((peak / surface.weight).clamp(0.0, 1.0), 0, 0)
    };
    (height(re), height(im))
}

/// The highest real and imaginary parts of `values[y]`, or of `values[y] + values[y + 1]` when
/// `with_next`, for y below `values.len() - 1` (a multiple of `LANES`), in lanes the compiler
/// vectorises.
fn lane_maxima(values: &[Complex32], with_next: bool) -> (f32, f32) {
    let n = values.len() - 1;
    let (mut re, mut im) = ([f32::MIN; LANES], [f32::MIN; LANES]);
    for (chunk, following) in values[..n].chunks_exact(LANES).zip(values[1..].chunks_exact(LANES)) {
        for l in 0..LANES {
            let v = if with_next { chunk[l] + following[l] } else { chunk[l] };
            re[l] = if v.re > re[l] { v.re } else { re[l] };
            im[l] = if v.im > im[l] { v.im } else { im[l] };
        }
    }
    let largest = |lanes: [f32; LANES]| lanes.iter().fold(f32::MIN, |a, b| a.max(*b));
    (largest(re), largest(im))
}

/// Wipes what the last correlations left in this thread's buffers (products of two captures'
/// phases): called when a probe has been compared, not after every view (about 290 kB: 220 kB
/// for the full surface, 66 kB for the coarse one). [`phase_band`]'s buffers are zero between
/// calls, unless one unwound.
pub fn wipe_scratch() {
    PLANS.with(|plans| plans.borrow_mut().wipe());
}

impl Plans {
    fn wipe(&mut self) {
        for surface in [&mut self.fine, &mut self.coarse] {
            wipe(&mut surface.rows);
            wipe(&mut surface.cells);
            wipe(&mut surface.column);
            wipe(&mut surface.across);
        }
        wipe(&mut self.scratch);
        if self.band_unfinished {
            wipe(&mut self.pairs);
            wipe(&mut self.columns);
            self.band_unfinished = false;
        }
    }
}

/// A thread's buffers are wiped when it ends.
impl Drop for Plans {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Wipes complex samples (`Complex32` has no `Zeroize` of its own).
fn wipe(values: &mut [Complex32]) {
    for c in values {
        c.re.zeroize();
        c.im.zeroize();
    }
}

/// Phases are biometric data: wiped when dropped, like the images they come from.
impl Drop for Spectrum {
    fn drop(&mut self) {
        wipe(&mut self.band);
    }
}

/// Bins of the band a template keeps: those inside the disc, up to the band's centre in row-major
/// order (the spectrum of a real image mirrors itself through the centre: F(-k) = conj F(k)).
fn half_disc() -> &'static [usize] {
    static HALF: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    HALF.get_or_init(|| (0..=BAND_LEN / 2).filter(|i| disc()[*i] > 0.0).collect())
}

/// Bytes of a band stored as [`Spectrum::half_nibbles`].
pub fn half_nibble_bytes() -> usize {
    half_disc().len().div_ceil(2)
}

/// Phase steps of a stored band: 16 (4 bits) lowers a correlation peak by the mean cosine of the
/// rounding, sin(π/16)/(π/16) = 0.9936.
const PHASE_STEPS: f32 = 16.0;

impl Spectrum {
    /// This band tapered for the coarse surface ([`coarse_peaks`]): each bin by the Hann windows
    /// of its row and column.
    pub fn tapered(&self) -> Tapered {
        PLANS.with(|plans| {
            let hann = &plans.borrow().coarse.hann;
            let mut band = Vec::with_capacity(BAND_LEN);
            for (row, w) in self.band.chunks_exact(BAND_SIDE).zip(hann) {
                band.extend(row.iter().zip(hann).map(|(v, h)| v * (h * w)));
            }
            Tapered(Spectrum { band })
        })
    }

    /// The band of the same capture turned `quarters` quarter circles further, as [`phase_band`]
    /// gives it for the rows [`Prepared::turn_rows`](super::prepare::Prepared::turn_rows) hands
    /// over at 90° more each. A quarter turn about the grid's centre, (`SAMPLED` − 1) / 2, lays its
    /// pixels on each other, and the Hann window on itself, so the bilinear samples are the same
    /// ones moved. In the spectrum, bin (kx, ky) then takes bin (ky, −kx) times r(kx), where
    /// r(k) = e^(iπ·k / `SAMPLED`): e^(2πi·k / `SAMPLED`) from turning about the centre rather than
    /// the corner, times e^(−iπ·k / `SAMPLED`) from the canvas's half-pixel offset
    /// ([`shifted_disc`]). Two quarters take bin (−kx, −ky) times r(kx + ky); three, bin (−ky, kx)
    /// times r(ky). No transform.
    pub fn quarters_turned(&self, quarters: i32) -> Spectrum {
        let ramps = quarter_ramps();
        let r = |k: isize| ramps[(k + 2 * BAND as isize) as usize];
        let at =
            |kx: isize, ky: isize| self.band[(ky + BAND as isize) as usize * BAND_SIDE + (kx + BAND as isize) as usize];
        let quarters = quarters.rem_euclid(4);
        let band = (0..BAND_LEN)
            .map(|i| {
                let (kx, ky) = frequency(i);
                match quarters {
                    0 => self.band[i],
                    1 => at(ky, -kx) * r(kx),
                    2 => at(-kx, -ky) * r(kx + ky),
                    _ => at(-ky, kx) * r(ky),
                }
            })
            .collect();
        Spectrum { band }
    }

    /// Each phase as one byte (1/256 of a turn): the `FPM1`..`FPM3` templates' band.
    #[cfg(test)]
    pub fn quantised(&self) -> impl Iterator<Item = u8> + '_ {
        self.band.iter().map(|c| {
            let turns = c.im.atan2(c.re) / std::f32::consts::TAU;
            (turns * 256.0).round().rem_euclid(256.0) as u8
        })
    }

    /// The band of an older template (a byte per phase, `BAND_LEN` bytes): its first half read
    /// and the other half mirrored from it, as the spectrum of a real image is, whatever the bytes
    /// say there (the correlation relies on it: see [`correlation_peaks`]).
    pub fn from_quantised(b: &[u8]) -> Spectrum {
        let phase = |q: u8| {
            let a = q as f32 / 256.0 * std::f32::consts::TAU;
            Complex32::new(a.cos(), a.sin())
        };
        Spectrum { band: mirrored(|i| phase(b[i])) }
    }

    /// Appends the phases of the half band inside the disc, 4 bits each (1/16 of a turn), two to
    /// a byte, the first in the low nibble: what a template stores (`FPM4`).
    pub fn half_nibbles_into(&self, out: &mut Vec<u8>) {
        let step = |i: &usize| {
            let c = self.band[*i];
            ((c.im.atan2(c.re) / std::f32::consts::TAU * PHASE_STEPS).round() as i32).rem_euclid(PHASE_STEPS as i32)
                as u8
        };
        nibbles::pack_into(half_disc().iter().map(step), out);
    }

    /// The band [`Spectrum::half_nibbles_into`] stored, its other half mirrored; `None` when `b`
    /// is not [`half_nibble_bytes`] long.
    pub fn from_half_nibbles(b: &[u8]) -> Option<Spectrum> {
        if b.len() != half_nibble_bytes() {
            return None;
        }
        let mut stored = vec![Complex32::default(); BAND_LEN];
        for (k, i) in half_disc().iter().enumerate() {
            let a = nibbles::nibble(b, k) as f32 / PHASE_STEPS * std::f32::consts::TAU;
            stored[*i] = Complex32::new(a.cos(), a.sin());
        }
        let band = mirrored(|i| stored[i]);
        wipe(&mut stored);
        Some(Spectrum { band })
    }
}

/// A band whose first half (up to the centre) is `first(i)` and whose other half mirrors it,
/// F(-k) = conj F(k), with the disc's weights; the centre (the mean) is real, so a phase there is
/// taken as +1 or -1.
fn mirrored(first: impl Fn(usize) -> Complex32) -> Vec<Complex32> {
    let centre = BAND_LEN / 2;
    let mut band = vec![Complex32::default(); BAND_LEN];
    for i in 0..centre {
        let v = first(i) * disc()[i];
        band[i] = v;
        band[BAND_LEN - 1 - i] = v.conj();
    }
    band[centre] = Complex32::new(first(centre).re.signum(), 0.0) * disc()[centre];
    band
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phase band's magnitude is the library's `norm`: to the last bit where the C library
    /// computes `hypotf` in double precision as glibc does, within one unit in the last place
    /// elsewhere. Parts of every exponent, and parts of like size (as a spectrum's are).
    #[test]
    fn a_magnitude_is_the_norm() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut values = Vec::new();
        while values.len() < 200_000 {
            let bits = next();
            let (re, im) = (f32::from_bits(bits as u32), f32::from_bits((bits >> 32) as u32));
            if re.is_finite() && im.is_finite() {
                values.push(Complex32::new(re, im));
                // The same size: the second part's sign and exponent from the first.
                values.push(Complex32::new(re, f32::from_bits(re.to_bits() & 0xff80_0000 | (bits >> 41) as u32)));
            }
        }
        for v in values {
            let (m, norm) = (magnitude(v), v.norm());
            if cfg!(target_env = "gnu") {
                assert_eq!(m.to_bits(), norm.to_bits(), "{v}: {m} against {norm}");
            } else {
                assert!(m.to_bits().abs_diff(norm.to_bits()) <= 1, "{v}: {m} against {norm}");
            }
        }
    }

    /// The vector plan (where this CPU has one) and the plain radix-4 fallback compute the same
    /// transform, unnormalised, in both directions and every length used.
    #[test]
    fn the_vector_plan_and_the_fallback_agree() {
        let lengths = [
            (SAMPLED, FftDirection::Forward),
            (SURFACE, FftDirection::Inverse),
            (COARSE_SURFACE, FftDirection::Inverse),
        ];
        for (len, direction) in lengths {
            let input: Vec<Complex32> =
                (0..len).map(|i| Complex32::new(((i * 37) % 11) as f32 - 5.0, ((i * 13) % 7) as f32)).collect();
            let (mut a, mut b) = (input.clone(), input.clone());
            plan(len, direction).process(&mut a);
            Radix4::new(len, direction).process(&mut b);
            let dc: Complex32 = input.iter().sum();
            assert!((a[0] - dc).norm() < 1e-2 * dc.norm(), "bin 0 is the sum of the input");
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).norm() < 1e-2 * (1.0 + y.norm()), "{len} points {direction:?}: {x} vs {y}");
            }
        }
    }

    /// A band from the halved canvas keeps the phases of the whole canvas's own transform, the
    /// band every template enrolled before the halving holds: its strong bins agree with the
    /// canvas's, with no half-pixel shift between them.
    #[test]
    fn a_band_from_the_halved_canvas_has_the_whole_canvas_phases() {
        use crate::matcher::prepare::{canvas, lay_out, normalise};
        let image = crate::matcher::tests::synthetic(5, 0, |_| {});
        let n = normalise(&image).unwrap();
        let prepared = lay_out(&n);
        let halved = phase_band(|row| prepared.turn_rows(0.0, row));
        // The canvas as laid out, windowed, and its transform's band.
        let hann = |i: usize| 0.5 - 0.5 * (std::f32::consts::TAU * (i as f32 + 0.5) / GRID as f32).cos();
        let (full, _, _) = canvas(&n);
        let mut canvas: Vec<Complex32> =
            full.iter().enumerate().map(|(i, v)| Complex32::new(v * hann(i % GRID) * hann(i / GRID), 0.0)).collect();
        let fft = plan(GRID, FftDirection::Forward);
        canvas.chunks_exact_mut(GRID).for_each(|row| fft.process(row));
        let mut columns: Vec<Complex32> = (0..GRID * GRID).map(|i| canvas[(i % GRID) * GRID + i / GRID]).collect();
        columns.chunks_exact_mut(GRID).for_each(|column| fft.process(column));
        // Over the strongest half of the disc's bins: how well the phases agree, and the slope of
        // their difference along kx + ky (a shift of half a canvas pixel along both axes would be
        // π / GRID per step).
        let mut bins: Vec<(f32, Complex32, f32)> = (0..BAND_LEN)
            .filter(|i| disc()[*i] > 0.0)
            .map(|i| {
                let (kx, ky) = frequency(i);
                let whole = columns[bin(kx, GRID) * GRID + bin(ky, GRID)];
                (whole.norm(), halved.band[i] * whole.conj() / whole.norm(), (kx + ky) as f32)
            })
            .collect();
        bins.sort_by(|a, b| b.0.total_cmp(&a.0));
        bins.truncate(bins.len() / 2);
        let agreement = bins.iter().map(|(_, d, _)| d.re).sum::<f32>() / bins.len() as f32;
        let slope =
            bins.iter().map(|(_, d, k)| d.arg() * k).sum::<f32>() / bins.iter().map(|(_, _, k)| k * k).sum::<f32>();
        assert!(agreement > 0.99, "phases agree by {agreement}");
        assert!(slope.abs() < 0.2 * std::f32::consts::PI / GRID as f32, "phase slope {slope} per step");
    }
}
