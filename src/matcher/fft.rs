//! Spectra of prepared images and the phase-only correlation between two of them.

use super::{BAND, BAND_LEN, BAND_SIDE, DISC, GRID, SURFACE};
use rustfft::algorithm::Radix4;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftDirection};
use std::cell::RefCell;
use std::sync::Arc;
use zeroize::Zeroize;

/// The unit-magnitude (phase-only) low band of a spectrum, row-major, `BAND_SIDE`².
pub struct Spectrum {
    band: Vec<Complex32>,
}

struct Plans {
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
    scratch: Vec<Complex32>,
    /// The correlation's band rows after their transform, kept between calls (a few hundred a
    /// second: allocating and clearing them each time showed in profiles).
    surface_rows: Vec<Complex32>,
}

thread_local! {
    static PLANS: RefCell<Plans> = RefCell::new({
        let forward = plan(GRID, FftDirection::Forward);
        let inverse = plan(SURFACE, FftDirection::Inverse);
        let len = forward.get_inplace_scratch_len().max(inverse.get_inplace_scratch_len());
        Plans {
            forward,
            inverse,
            scratch: vec![Complex32::default(); len],
            surface_rows: vec![Complex32::default(); BAND_SIDE * SURFACE],
        }
    });
}

// Both transforms have power-of-two lengths, which is what the portable fallback (radix 4) needs.
const _: () = assert!(GRID.is_power_of_two() && SURFACE.is_power_of_two());

/// A transform of `len` points with the CPU's vector unit (AVX on x86_64, NEON on aarch64) when it has
/// one, otherwise radix 4 in plain code (always on 32-bit ARM and x86: rustfft has no vector code there). Only these planners are built: rustfft's general planner would
/// bring every algorithm for every length and vector unit, about 0.5 MB of the library, for the two
/// power-of-two lengths used here.
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
        let mut w = vec![0f32; BAND_LEN];
        for (by, ky) in (-(BAND as isize)..=BAND as isize).enumerate() {
            for (bx, kx) in (-(BAND as isize)..=BAND as isize).enumerate() {
                let r = ((kx * kx + ky * ky) as f32).sqrt();
                w[by * BAND_SIDE + bx] = if r <= DISC { 1.0 } else { 0.0 };
            }
        }
        w
    })
}

fn disc_weight_sum() -> f32 {
    static SUM: std::sync::OnceLock<f32> = std::sync::OnceLock::new();
    *SUM.get_or_init(|| disc().iter().sum())
}

/// Index of signed frequency `k` in an `n`-point transform.
fn bin(k: isize, n: usize) -> usize {
    k.rem_euclid(n as isize) as usize
}

/// The phase band of a `GRID`×`GRID` real image.
pub fn phase_band(img: &[f32]) -> Spectrum {
    debug_assert_eq!(img.len(), GRID * GRID);
    PLANS.with(|plans| {
        let plans = &mut *plans.borrow_mut();
        let mut rows: Vec<Complex32> = img.iter().map(|v| Complex32::new(*v, 0.0)).collect();
        plans.forward.process_with_scratch(&mut rows, &mut plans.scratch);
        let mut band = vec![Complex32::default(); BAND_LEN];
        let mut col = vec![Complex32::default(); GRID];
        for (bx, kx) in (-(BAND as isize)..=BAND as isize).enumerate() {
            let x = bin(kx, GRID);
            for (y, c) in col.iter_mut().enumerate() {
                *c = rows[y * GRID + x];
            }
            plans.forward.process_with_scratch(&mut col, &mut plans.scratch);
            for (by, ky) in (-(BAND as isize)..=BAND as isize).enumerate() {
                let v = col[bin(ky, GRID)];
                let m = v.norm();
                let i = by * BAND_SIDE + bx;
                band[i] = if m > 1e-6 { v / m * disc()[i] } else { Complex32::default() };
            }
        }
        wipe(&mut rows);
        wipe(&mut col);
        Spectrum { band }
    })
}

/// Height of the phase-only correlation peak of `a` against `b`: 1.0 for identical phases.
pub fn correlation_peak(a: &Spectrum, b: &Spectrum) -> f32 {
    correlation_peak_at(a, b).0
}

/// The peak's height and its position on the surface: `a` is `b` moved by
/// (x, y) × `GRID / SURFACE` pixels, modulo `GRID`.
pub fn correlation_peak_at(a: &Spectrum, b: &Spectrum) -> (f32, usize, usize) {
    PLANS.with(|plans| {
        let plans = &mut *plans.borrow_mut();
        // Inverse along x for each band row, then along y for every output column.
        let rows = &mut plans.surface_rows;
        for by in 0..BAND_SIDE {
            let row = &mut rows[by * SURFACE..(by + 1) * SURFACE];
            row.fill(Complex32::default());
            for (bx, kx) in (-(BAND as isize)..=BAND as isize).enumerate() {
                let i = by * BAND_SIDE + bx;
                row[bin(kx, SURFACE)] = a.band[i] * b.band[i].conj();
            }
            plans.inverse.process_with_scratch(row, &mut plans.scratch);
        }
        let mut col = vec![Complex32::default(); SURFACE];
        let mut peak = f32::MIN;
        let mut at = (0, 0);
        for x in 0..SURFACE {
            col.iter_mut().for_each(|c| *c = Complex32::default());
            for (by, ky) in (-(BAND as isize)..=BAND as isize).enumerate() {
                col[bin(ky, SURFACE)] = rows[by * SURFACE + x];
            }
            plans.inverse.process_with_scratch(&mut col, &mut plans.scratch);
            for (y, c) in col.iter().enumerate() {
                if c.re > peak {
                    peak = c.re;
                    at = (x, y);
                }
            }
        }
        wipe(&mut col);
        ((peak / disc_weight_sum()).max(0.0), at.0, at.1)
    })
}

/// Wipes what the last correlations left in this thread's buffers (products of two captures'
/// phases): called when a probe has been compared, not after every view (it is 90 kB).
pub fn wipe_scratch() {
    PLANS.with(|plans| {
        let plans = &mut *plans.borrow_mut();
        wipe(&mut plans.surface_rows);
        wipe(&mut plans.scratch);
    });
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

impl Spectrum {
    /// Each phase as one byte (1/256 of a turn).
    pub fn quantised(&self) -> impl Iterator<Item = u8> + '_ {
        self.band.iter().map(|c| {
            let turns = c.im.atan2(c.re) / std::f32::consts::TAU;
            (turns * 256.0).round().rem_euclid(256.0) as u8
        })
    }

    pub fn from_quantised(b: &[u8]) -> Spectrum {
        let band = b
            .iter()
            .zip(disc())
            .map(|(q, w)| {
                let a = *q as f32 / 256.0 * std::f32::consts::TAU;
                Complex32::new(a.cos(), a.sin()) * *w
            })
            .collect();
        Spectrum { band }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector plan (where this CPU has one) and the plain radix-4 fallback compute the same
    /// transform, unnormalised, in both directions and both lengths.
    #[test]
    fn the_vector_plan_and_the_fallback_agree() {
        for (len, direction) in [(GRID, FftDirection::Forward), (SURFACE, FftDirection::Inverse)] {
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
}
