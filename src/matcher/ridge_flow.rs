//! Ridge flow of a normalised 500-dpi image: orientation and its coherence per pixel (from
//! smoothed squared gradients), and the ridge period per block (from the autocorrelation of the
//! intensity profile across the ridges). Contextual enhancement and the quality verdict use them.

use super::prepare::box_mean;
use super::whole::nearest_index;
use std::f32::consts::{FRAC_PI_2, PI};

/// Radius of the window that orientation is averaged over (about two ridge periods).
const ORIENT_RADIUS: usize = 8;
/// Side of the blocks the ridge period is estimated on.
pub const PERIOD_BLOCK: usize = 16;
/// Ridge periods accepted at 500 dpi, in pixels (about 0.25 to 0.76 mm).
pub const MIN_PERIOD: f32 = 5.0;
pub const MAX_PERIOD: f32 = 15.0;

/// Orientation, coherence and ridge period over a `w`×`h` image.
pub struct RidgeFlow {
    pub w: usize,
    pub h: usize,
    /// Ridge direction at each pixel, radians in [0, π), measured from +x towards +y (image rows down).
    pub theta: Vec<f32>,
    /// 0 (no dominant direction) to 1 (perfectly parallel ridges).
    pub coherence: Vec<f32>,
    /// Ridge period of each `PERIOD_BLOCK` block in pixels; blocks without a clear period get the
    /// median of the others. Row-major, `blocks_w` per row.
    pub period: Vec<f32>,
    pub blocks_w: usize,
    /// Median period over blocks where one was found (the image's typical ridge spacing).
    pub median_period: f32,
}

impl RidgeFlow {
    pub fn period_at(&self, x: usize, y: usize) -> f32 {
        let bx = (x / PERIOD_BLOCK).min(self.blocks_w - 1);
        let by = (y / PERIOD_BLOCK).min(self.period.len() / self.blocks_w - 1);
        self.period[by * self.blocks_w + bx]
    }
}

/// Estimates the ridge flow of a normalised image (zero mean, unit-ish contrast) inside `mask`.
pub fn estimate(v: &[f32], mask: &[f32], w: usize, h: usize) -> RidgeFlow {
    let (mut gxx, mut gyy, mut gxy) = (vec![0f32; w * h], vec![0f32; w * h], vec![0f32; w * h]);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let p = |dx: isize, dy: isize| v[(y as isize + dy) as usize * w + (x as isize + dx) as usize];
            let gx = (p(1, -1) + 2.0 * p(1, 0) + p(1, 1)) - (p(-1, -1) + 2.0 * p(-1, 0) + p(-1, 1));
            let gy = (p(-1, 1) + 2.0 * p(0, 1) + p(1, 1)) - (p(-1, -1) + 2.0 * p(0, -1) + p(1, -1));
            let i = y * w + x;
            gxx[i] = gx * gx;
            gyy[i] = gy * gy;
            gxy[i] = gx * gy;
        }
    }
    let (sxx, syy, sxy) =
        (box_mean(&gxx, w, h, ORIENT_RADIUS), box_mean(&gyy, w, h, ORIENT_RADIUS), box_mean(&gxy, w, h, ORIENT_RADIUS));
    let tensor = |i: usize| (sxx[i] - syy[i], 2.0 * sxy[i]);
    let theta: Vec<f32> = (0..w * h)
        .map(|i| {
            let (a, b) = tensor(i);
            // The gradient's dominant direction is across the ridges; the ridges run at +90°, in
            // [0, π]: only π itself is taken back to 0 (what `rem_euclid(PI)` does, without its
            // division).
            let ridges = 0.5 * atan2(b, a) + PI / 2.0;
            if ridges >= PI { ridges - PI } else { ridges }
        })
        .collect();
    let coherence: Vec<f32> = (0..w * h)
        .map(|i| {
            let ((a, b), energy) = (tensor(i), sxx[i] + syy[i]);
            if energy > 1e-6 { (a * a + b * b).sqrt() / energy } else { 0.0 }
        })
        .collect();
    let (period, blocks_w, median_period) = ridge_periods(v, mask, &theta, w, h);
    RidgeFlow { w, h, theta, coherence, period, blocks_w, median_period }
}

/// Coefficients of atan(t) / t as a polynomial in t², for t in [0, 1]: within 1.2e-7 radians of
/// the true angle in f32 arithmetic (fitted to the minimax error by reweighted least squares); the
/// quadrants' π/2 and π add their own rounding, two units in the last place at most (5e-7 near π).
const ATAN: [f32; 8] = [
    0.999_999_34,
    -0.333_298_62,
    0.199_465_75,
    -0.139_086_43,
    0.096_421_52,
    -0.055_910_81,
    0.021_861_37,
    -0.004_054_001,
];

/// `y.atan2(x)` for finite `y` and `x` (the same signs and quadrants, zeros included), in plain
/// arithmetic that runs in vector code over an image: the library's is a call per pixel, about a
/// tenth of the ridge analysis. (A NaN `x` gives 0 or ±π, not NaN; a capture's gradients are
/// finite.)
fn atan2(y: f32, x: f32) -> f32 {
    let (ax, ay) = (x.abs(), y.abs());
    let (small, large) = if ay > ax { (ax, ay) } else { (ay, ax) };
    let t = if large > 0.0 { small / large } else { 0.0 };
    let s = t * t;
    let mut angle = ATAN[..7].iter().rev().fold(ATAN[7], |r, c| r * s + c) * t;
    if ay > ax {
        angle = FRAC_PI_2 - angle;
    }
    if x.is_sign_negative() {
        angle = PI - angle;
    }
    angle.copysign(y)
}

/// Period of each block: the intensity profile along the normal to the ridges through the block's
/// centre (averaged along the ridges), and the first peak of its autocorrelation.
fn ridge_periods(v: &[f32], mask: &[f32], theta: &[f32], w: usize, h: usize) -> (Vec<f32>, usize, f32) {
    const HALF_ACROSS: isize = 16;
    const HALF_ALONG: isize = 6;
    let (bw, bh) = (w.div_ceil(PERIOD_BLOCK).max(1), h.div_ceil(PERIOD_BLOCK).max(1));
    let mut found = vec![f32::NAN; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let (cx, cy) =
                ((bx * PERIOD_BLOCK + PERIOD_BLOCK / 2).min(w - 1), (by * PERIOD_BLOCK + PERIOD_BLOCK / 2).min(h - 1));
            if mask[cy * w + cx] < 0.5 {
                continue;
            }
            let t = theta[cy * w + cx];
            let (along_x, along_y) = (t.cos(), t.sin());
            let (across_x, across_y) = (-along_y, along_x);
            let mut profile = [0f32; (2 * HALF_ACROSS + 1) as usize];
            let mut complete = true;
            for (k, d) in (-HALF_ACROSS..=HALF_ACROSS).enumerate() {
                let mut sum = 0.0;
                for s in -HALF_ALONG..=HALF_ALONG {
                    let x = cx as f32 + d as f32 * across_x + s as f32 * along_x;
                    let y = cy as f32 + d as f32 * across_y + s as f32 * along_y;
                    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
                        complete = false;
                        break;
                    }
                    sum += v[nearest_index(y) * w + nearest_index(x)];
                }
                profile[k] = sum;
            }
            if complete {
                if let Some(p) = autocorrelation_period(&profile) {
                    found[by * bw + bx] = p;
                }
            }
        }
    }
    let mut valid: Vec<f32> = found.iter().copied().filter(|p| p.is_finite()).collect();
    valid.sort_by(f32::total_cmp);
    // 9 px is a typical adult ridge period at 500 dpi: the fallback when nothing was measurable.
    let median = valid.get(valid.len() / 2).copied().unwrap_or(9.0);
    let period = found.iter().map(|p| if p.is_finite() { *p } else { median }).collect();
    (period, bw, median)
}

/// The lag of the highest autocorrelation peak in the accepted period range, refined to a
/// fraction of a pixel by a parabola through the peak and its neighbours.
fn autocorrelation_period(profile: &[f32]) -> Option<f32> {
    let n = profile.len();
    let mean = profile.iter().sum::<f32>() / n as f32;
    let c: Vec<f32> = profile.iter().map(|p| p - mean).collect();
    let energy: f32 = c.iter().map(|x| x * x).sum();
    if energy <= 1e-6 {
        return None;
    }
    let ac = |lag: usize| c[..n - lag].iter().zip(&c[lag..]).map(|(a, b)| a * b).sum::<f32>() / energy;
    let (lo, hi) = (MIN_PERIOD.floor() as usize, (MAX_PERIOD.ceil() as usize).min(n - 2));
    let mut best: Option<(usize, f32)> = None;
    for lag in lo..=hi {
        let (l, m, r) = (ac(lag - 1), ac(lag), ac(lag + 1));
        if m > l && m >= r && m > 0.1 && best.is_none_or(|(_, b)| m > b) {
            best = Some((lag, m));
        }
    }
    let (lag, m) = best?;
    let (l, r) = (ac(lag - 1), ac(lag + 1));
    let denom = l - 2.0 * m + r;
    let offset = if denom.abs() > 1e-6 { (0.5 * (l - r) / denom).clamp(-0.5, 0.5) } else { 0.0 };
    let p = lag as f32 + offset;
    (MIN_PERIOD..=MAX_PERIOD).contains(&p).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_atan2_agrees_with_the_librarys_in_every_quadrant() {
        // Directions all round at many lengths, both axes, and signed zeros. Within 1e-6: four
        // units in the last place near π, room for another C library's own rounding (glibc's is
        // within 4e-7 of this one).
        let mut points =
            vec![(0.0, 0.0), (-0.0, 0.0), (0.0, -0.0), (-0.0, -0.0), (1e-30, -1e-30), (3.0, 0.0), (0.0, -3.0)];
        for k in 0..20_000 {
            let angle = k as f32 * 0.000_314_159_3 * 1.000_37;
            let length = 10f32.powi(k % 9 - 4);
            points.push((length * angle.sin(), length * angle.cos()));
        }
        let mut worst = 0f32;
        for (y, x) in points {
            let (plain, library) = (atan2(y, x), y.atan2(x));
            worst = worst.max((plain - library).abs());
            assert!((plain - library).abs() < 1e-6, "atan2({y}, {x}): {plain} against {library}");
            assert_eq!(plain.is_sign_negative(), library.is_sign_negative(), "sign of atan2({y}, {x})");
        }
        assert!(worst > 0.0, "the comparison ran");
    }
}
