//! Contextual enhancement: each pixel is filtered by an even Gabor kernel tuned to the local ridge
//! direction and period, which joins broken ridges and suppresses pores, scratches and noise
//! that do not follow the flow.

use super::ridge_flow::{MAX_PERIOD, MIN_PERIOD, RidgeFlow};
use super::whole::nearest_index;
use std::f32::consts::PI;
use std::sync::OnceLock;

const ORIENTATIONS: usize = 16;
const PERIOD_STEP: f32 = 0.5;
const PERIODS: usize = ((MAX_PERIOD - MIN_PERIOD) / PERIOD_STEP) as usize + 1;
const RADIUS: isize = 6;
const SIDE: usize = (2 * RADIUS + 1) as usize;
/// Spread of the Gaussian envelope along and across the ridges, in pixels.
const SIGMA_ALONG: f32 = 4.0;
const SIGMA_ACROSS: f32 = 3.5;

/// Zero-mean kernels for every (orientation, period) pair, built once.
fn bank() -> &'static [[f32; SIDE * SIDE]] {
    static BANK: OnceLock<Vec<[f32; SIDE * SIDE]>> = OnceLock::new();
    BANK.get_or_init(|| {
        let mut bank = Vec::with_capacity(ORIENTATIONS * PERIODS);
        for o in 0..ORIENTATIONS {
            let t = o as f32 * PI / ORIENTATIONS as f32;
            let (c, s) = (t.cos(), t.sin());
            for p in 0..PERIODS {
                let period = MIN_PERIOD + p as f32 * PERIOD_STEP;
                let mut k = [0f32; SIDE * SIDE];
                for dy in -RADIUS..=RADIUS {
                    for dx in -RADIUS..=RADIUS {
                        let (along, across) = (dx as f32 * c + dy as f32 * s, -(dx as f32) * s + dy as f32 * c);
                        let envelope = (-0.5
                            * (along * along / (SIGMA_ALONG * SIGMA_ALONG)
                                + across * across / (SIGMA_ACROSS * SIGMA_ACROSS)))
                            .exp();
                        k[(dy + RADIUS) as usize * SIDE + (dx + RADIUS) as usize] =
                            envelope * (2.0 * PI * across / period).cos();
                    }
                }
                let mean = k.iter().sum::<f32>() / k.len() as f32;
                let norm = k.iter().map(|v| (v - mean).abs()).sum::<f32>();
                k.iter_mut().for_each(|v| *v = (*v - mean) / norm);
                bank.push(k);
            }
        }
        bank
    })
}

/// The bank's kernel nearest to a direction in [0, π) and a period of at least `MIN_PERIOD`.
fn kernel_index(theta: f32, period: f32) -> usize {
    let o = nearest_index(theta / PI * ORIENTATIONS as f32) % ORIENTATIONS;
    let p = nearest_index(((period - MIN_PERIOD) / PERIOD_STEP).max(0.0)).min(PERIODS - 1);
    o * PERIODS + p
}

/// The enhanced image: filtered where `mask` > 0, 0 elsewhere. Borders are clamped.
pub fn enhance(v: &[f32], mask: &[f32], flow: &RidgeFlow) -> Vec<f32> {
    let (w, h) = (flow.w, flow.h);
    let bank = bank();
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if mask[i] <= 0.0 {
                continue;
            }
            let k = &bank[kernel_index(flow.theta[i], flow.period_at(x, y))];
            let mut acc = 0.0;
            let interior =
                x as isize >= RADIUS && y as isize >= RADIUS && x + (RADIUS as usize) < w && y + (RADIUS as usize) < h;
            for ky in 0..SIDE {
                let sy = y as isize + ky as isize - RADIUS;
                let row = &k[ky * SIDE..(ky + 1) * SIDE];
                if interior {
                    let start = sy as usize * w + x - RADIUS as usize;
                    acc += row.iter().zip(&v[start..start + SIDE]).map(|(a, b)| a * b).sum::<f32>();
                } else {
                    let sy = sy.clamp(0, h as isize - 1) as usize;
                    for (kx, kv) in row.iter().enumerate() {
                        let sx = (x as isize + kx as isize - RADIUS).clamp(0, w as isize - 1) as usize;
                        acc += kv * v[sy * w + sx];
                    }
                }
            }
            out[i] = acc;
        }
    }
    out
}
