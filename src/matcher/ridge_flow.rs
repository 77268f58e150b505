//! Ridge flow of a normalised 500-dpi image: orientation and its coherence per pixel (from
//! smoothed squared gradients), and the ridge period per block (from the autocorrelation of the
//! intensity profile across the ridges). Contextual enhancement and the quality verdict use them.

use super::prepare::box_mean;
use super::whole::nearest_index;
use std::f32::consts::PI;

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
    let (mut theta, mut coherence) = (Vec::with_capacity(w * h), Vec::with_capacity(w * h));
    for i in 0..w * h {
        let (a, b) = (sxx[i] - syy[i], 2.0 * sxy[i]);
        // The gradient's dominant direction is across the ridges; the ridges run at +90°.
        let gradient = 0.5 * b.atan2(a);
        theta.push((gradient + PI / 2.0).rem_euclid(PI));
        let energy = sxx[i] + syy[i];
        coherence.push(if energy > 1e-6 { (a * a + b * b).sqrt() / energy } else { 0.0 });
    }
    let (period, blocks_w, median_period) = ridge_periods(v, mask, &theta, w, h);
    RidgeFlow { w, h, theta, coherence, period, blocks_w, median_period }
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
