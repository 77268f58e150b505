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

/// The bank's kernel nearest to a direction in [0, π] (π is 0 again) and a period (clamped to
/// the bank's range).
fn kernel_index(theta: f32, period: f32) -> usize {
    let o = nearest_index(theta / PI * ORIENTATIONS as f32) % ORIENTATIONS;
    let p = nearest_index(((period - MIN_PERIOD) / PERIOD_STEP).max(0.0)).min(PERIODS - 1);
    o * PERIODS + p
}

/// The enhanced image: filtered where `mask` > 0, 0 elsewhere. Borders are clamped.
///
/// The flow changes slowly, so neighbouring pixels mostly share a kernel: `LANES` of them in a
/// row with one kernel, away from the borders, are filtered together in vector code. Every pixel
/// gets the very sums of the one-pixel path, in the same order.
pub fn enhance(v: &[f32], mask: &[f32], flow: &RidgeFlow) -> Vec<f32> {
    const OUTSIDE: usize = usize::MAX;
    let (w, h) = (flow.w, flow.h);
    let r = RADIUS as usize;
    let bank = bank();
    let mut out = vec![0f32; w * h];
    let mut kernels = vec![OUTSIDE; w];
    for y in 0..h {
        for (x, k) in kernels.iter_mut().enumerate() {
            let i = y * w + x;
            *k = if mask[i] > 0.0 { kernel_index(flow.theta[i], flow.period_at(x, y)) } else { OUTSIDE };
        }
        let inside = |x: usize| y >= r && y + r < h && x >= r && x + r < w;
        // Along the top and bottom rows every pixel is filtered clamped.
        let row_clamped = y < r || y + r >= h;
        let mut x = 0;
        while x < w {
            let (i, k) = (y * w + x, kernels[x]);
            let alike = |x: usize| x + LANES <= w && kernels[x..x + LANES].iter().all(|o| *o == k);
            if k == OUTSIDE {
                x += 1;
            } else if inside(x) && x + LANES <= w && inside(x + LANES - 1) && alike(x) {
                out[i..i + LANES].copy_from_slice(&filter_lanes(v, w, &bank[k], x, y));
                x += LANES;
            } else if row_clamped && alike(x) {
                out[i..i + LANES].copy_from_slice(&filter_clamped_lanes::<LANES>(v, (w, h), &bank[k], x, y));
                x += LANES;
            } else {
                out[i] = if inside(x) {
                    filter_inside(v, w, &bank[k], x, y)
                } else {
                    filter_clamped(v, w, h, &bank[k], x, y)
                };
                x += 1;
            }
        }
    }
    out
}

/// Pixels [`filter_lanes`] filters at a time.
const LANES: usize = 8;

/// The kernel `k` applied at (x, y), at least `RADIUS` from every border: each kernel row's
/// products summed in order, the rows' sums added in order.
fn filter_inside(v: &[f32], w: usize, k: &[f32; SIDE * SIDE], x: usize, y: usize) -> f32 {
    let mut acc = 0.0;
    for (ky, row) in k.chunks_exact(SIDE).enumerate() {
        let start = (y + ky - RADIUS as usize) * w + x - RADIUS as usize;
        acc += row.iter().zip(&v[start..start + SIDE]).map(|(a, b)| a * b).sum::<f32>();
    }
    acc
}

/// [`filter_inside`] at `LANES` pixels from (x, y) on, each lane's sums in the same order.
fn filter_lanes(v: &[f32], w: usize, k: &[f32; SIDE * SIDE], x: usize, y: usize) -> [f32; LANES] {
    let mut acc = [0f32; LANES];
    for (ky, kernel_row) in k.chunks_exact(SIDE).enumerate() {
        let start = (y + ky - RADIUS as usize) * w + x - RADIUS as usize;
        let source = &v[start..start + LANES + SIDE - 1];
        // An empty float sum is -0.0: each lane starts where `sum` does.
        let mut row = [-0.0f32; LANES];
        for (kx, kv) in kernel_row.iter().enumerate() {
            for (r, s) in row.iter_mut().zip(&source[kx..kx + LANES]) {
                *r += kv * s;
            }
        }
        for (a, r) in acc.iter_mut().zip(row) {
            *a += r;
        }
    }
    acc
}

/// The kernel `k` applied at (x, y) near a border, which is clamped: the products added one by one.
fn filter_clamped(v: &[f32], w: usize, h: usize, k: &[f32; SIDE * SIDE], x: usize, y: usize) -> f32 {
    filter_clamped_lanes::<1>(v, (w, h), k, x, y)[0]
}

/// [`filter_clamped`] at `N` pixels from (x, y) on (all on the row), each pixel's products added
/// in the same order; the clamped columns found once, not once per kernel row. Several pixels'
/// sums run side by side, where a single pixel's sum waits on each addition.
fn filter_clamped_lanes<const N: usize>(
    v: &[f32],
    (w, h): (usize, usize),
    k: &[f32; SIDE * SIDE],
    x: usize,
    y: usize,
) -> [f32; N] {
    let clamped = |at: isize, side: usize| at.clamp(0, side as isize - 1) as usize;
    let columns: [[usize; N]; SIDE] =
        std::array::from_fn(|kx| std::array::from_fn(|l| clamped((x + l + kx) as isize - RADIUS, w)));
    let mut acc = [0f32; N];
    for (ky, row) in k.chunks_exact(SIDE).enumerate() {
        let line = &v[clamped((y + ky) as isize - RADIUS, h) * w..][..w];
        for (kv, columns) in row.iter().zip(&columns) {
            for (a, column) in acc.iter_mut().zip(columns) {
                *a += kv * line[*column];
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::prepare::normalise;
    use crate::matcher::ridge_flow;
    use crate::matcher::tests::synthetic;

    /// The clamped filter as it reads, each tap's place clamped in turn: what the vector and
    /// one-pixel clamped paths must give.
    fn clamped_one_by_one(v: &[f32], w: usize, h: usize, k: &[f32; SIDE * SIDE], x: usize, y: usize) -> f32 {
        let mut acc = 0.0;
        for (ky, row) in k.chunks_exact(SIDE).enumerate() {
            let sy = (y as isize + ky as isize - RADIUS).clamp(0, h as isize - 1) as usize;
            for (kx, kv) in row.iter().enumerate() {
                let sx = (x as isize + kx as isize - RADIUS).clamp(0, w as isize - 1) as usize;
                acc += kv * v[sy * w + sx];
            }
        }
        acc
    }

    #[test]
    fn pixels_filtered_together_equal_pixels_filtered_one_by_one() {
        let r = RADIUS as usize;
        for finger in [3, 11, 40] {
            let n = normalise(&synthetic(finger, 0, |_| {})).unwrap();
            let flow = ridge_flow::estimate(&n.pixels, &n.mask, n.w, n.h);
            let enhanced = enhance(&n.pixels, &n.mask, &flow);
            let bank = bank();
            // Some runs of 8 pixels share a kernel away from the borders: the vector path is taken.
            let kernels: Vec<usize> =
                (0..n.w * n.h).map(|i| kernel_index(flow.theta[i], flow.period_at(i % n.w, i / n.w))).collect();
            let shared = (r..n.h - r)
                .flat_map(|y| (r..n.w - r - LANES).map(move |x| y * n.w + x))
                .filter(|i| {
                    n.mask[*i] > 0.0 && (1..LANES).all(|l| kernels[i + l] == kernels[*i] && n.mask[i + l] > 0.0)
                })
                .count();
            assert!(shared > 100, "finger {finger}: {shared} runs of 8 share a kernel");
            // ... and so do some along the top and bottom rows, where the clamped vector path is.
            let along_edges = (0..r)
                .chain(n.h - r..n.h)
                .flat_map(|y| (0..=n.w - LANES).map(move |x| y * n.w + x))
                .filter(|i| {
                    n.mask[*i] > 0.0 && (1..LANES).all(|l| kernels[i + l] == kernels[*i] && n.mask[i + l] > 0.0)
                })
                .count();
            assert!(along_edges > 10, "finger {finger}: {along_edges} runs of 8 share a kernel along the edges");
            for y in 0..n.h {
                for x in 0..n.w {
                    let i = y * n.w + x;
                    let expected = if n.mask[i] <= 0.0 {
                        0.0
                    } else {
                        let k = &bank[kernel_index(flow.theta[i], flow.period_at(x, y))];
                        if y >= r && y + r < n.h && x >= r && x + r < n.w {
                            filter_inside(&n.pixels, n.w, k, x, y)
                        } else {
                            clamped_one_by_one(&n.pixels, n.w, n.h, k, x, y)
                        }
                    };
                    assert_eq!(enhanced[i], expected, "finger {finger} at ({x}, {y})");
                }
            }
        }
    }
}
