//! Synthetic fingerprints, deterministic by seed, for fphal's tools and tests (never linked into
//! the HAL).
//!
//! A *master* print is grown the way SFinGe-style generators do it: an orientation field from the
//! pattern class's cores and deltas (the zero-pole model; a bent flow for arches) with the finger's
//! own smooth departure from it, a ridge period that varies over the finger, and ridges grown from
//! random seeds by repeated Gabor filtering along that flow,
//! which creates ridge endings and bifurcations where the flow and period force them. An
//! *impression* is what a sensor sees of a master on one touch: placement (offset, rotation),
//! elastic skin distortion, pressure (ridge width), dryness (broken ridges), cuts, noise, partial
//! contact, sensor dirt, and resampling to the sensor's size and resolution.
#![forbid(unsafe_code)]

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f32::consts::PI;
use std::sync::OnceLock;

/// Master canvas at 500 dpi: 16 × 20 mm, the pad of an adult finger.
pub const MASTER_W: usize = 320;
pub const MASTER_H: usize = 400;
const GROWTH_ITERATIONS: usize = 12;
/// One growth seed per this many canvas pixels: sparser seeds meet in fewer places, and each
/// meeting leaves ridge endings, so this keeps the minutiae per crop from rising further above
/// real prints' (31.5 against 18 per 160-px crop; BENCHMARKS).
const PIXELS_PER_SEED: usize = 1500;

/// How fingers differ from one another beyond their pattern class. Real ridges are not evenly
/// spaced and do not follow the class's textbook flow: without these, two synthetic fingers of a
/// class line up over much of a crop and impostors score far above real ones (BENCHMARKS,
/// "Synthetic fingers against the real crops").
///
/// Mean ridge period of a finger, 500-dpi pixels (real crops: 7.7–9.7 px from p10 to p90).
const PERIOD_RANGE: std::ops::Range<f32> = 7.2..10.0;
/// Local change of the ridge period: this share of the mean times a smooth field of RMS about 0.7
/// (at most 2), over about this wavelength.
const PERIOD_VARIATION: f32 = 0.2;
const PERIOD_WAVELENGTH: f32 = 80.0;
/// Departure of the ridge flow from the pattern class's model: this many radians (each finger
/// draws half to all of it) times a smooth field of RMS about 0.7 (at most 2), over about this
/// wavelength. 0.6 brings the synthetic impostor tail to the real one (1:1 p99.9 0.111 against
/// 0.112); with 0.45 it lay above it (BENCHMARKS, "Synthetic fingers against the real crops").
const FLOW_WANDER: f32 = 0.6;
const FLOW_WANDER_WAVELENGTH: f32 = 100.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Arch,
    TentedArch,
    LeftLoop,
    RightLoop,
    Whorl,
}

impl Pattern {
    /// The class of finger `id`, drawn with the frequencies of the general population
    /// (about 4% arch, 3% tented arch, 34% left loop, 32% right loop, 27% whorl).
    pub fn of_finger(id: u64) -> Pattern {
        let mut rng = ChaCha8Rng::seed_from_u64(id ^ 0x5eed_c1a5_5000_0000);
        match rng.random_range(0..100u32) {
            0..4 => Pattern::Arch,
            4..7 => Pattern::TentedArch,
            7..41 => Pattern::LeftLoop,
            41..73 => Pattern::RightLoop,
            _ => Pattern::Whorl,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Arch => "arch",
            Pattern::TentedArch => "tented arch",
            Pattern::LeftLoop => "left loop",
            Pattern::RightLoop => "right loop",
            Pattern::Whorl => "whorl",
        }
    }
}

/// A grown master print: ridge values in [-1, 1] (ridges positive) on the 500-dpi canvas.
pub struct Master {
    pub id: u64,
    pub pattern: Pattern,
    /// Mean ridge period in pixels at 500 dpi.
    pub period: f32,
    ridges: Vec<f32>,
}

/// An 8-bit grayscale image as a sensor delivers it.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    pub pixels: Vec<u8>,
}

/// Smooth random field: a sum of a few sinusoids with random directions and phases, in about [-1, 1].
struct SmoothNoise {
    waves: Vec<(f32, f32, f32)>,
}

impl SmoothNoise {
    fn new(rng: &mut ChaCha8Rng, count: usize, wavelength: f32) -> SmoothNoise {
        let waves = (0..count)
            .map(|_| {
                let a = rng.random_range(0.0..PI * 2.0);
                let k = 2.0 * PI / (wavelength * rng.random_range(0.7..1.3f32));
                (k * a.cos(), k * a.sin(), rng.random_range(0.0..PI * 2.0))
            })
            .collect();
        SmoothNoise { waves }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        let sum: f32 = self.waves.iter().map(|(kx, ky, p)| (kx * x + ky * y + p).sin()).sum();
        sum / (self.waves.len() as f32).sqrt()
    }
}

/// Ridge orientation (radians, image coordinates) of a pattern class at a canvas point.
struct Flow {
    cores: Vec<(f32, f32)>,
    deltas: Vec<(f32, f32)>,
    arch_bend: f32,
    /// This finger's own departure from the class's flow, in radians.
    wander: SmoothNoise,
    wander_amplitude: f32,
}

impl Flow {
    fn new(pattern: Pattern, rng: &mut ChaCha8Rng) -> Flow {
        let (cx, cy) = (
            MASTER_W as f32 / 2.0 + rng.random_range(-20.0..20.0f32),
            MASTER_H as f32 * rng.random_range(0.38..0.5f32),
        );
        let j = |rng: &mut ChaCha8Rng| rng.random_range(-12.0..12.0f32);
        let (cores, deltas) = match pattern {
            Pattern::Arch => (vec![], vec![]),
            Pattern::TentedArch => (vec![(cx, cy)], vec![(cx + j(rng) * 0.5, cy + 55.0 + j(rng))]),
            Pattern::LeftLoop => (vec![(cx, cy)], vec![(cx + 95.0 + j(rng), cy + 100.0 + j(rng))]),
            Pattern::RightLoop => (vec![(cx, cy)], vec![(cx - 95.0 + j(rng), cy + 100.0 + j(rng))]),
            Pattern::Whorl => (
                vec![(cx - 10.0 + j(rng) * 0.5, cy - 8.0), (cx + 10.0 + j(rng) * 0.5, cy + 8.0)],
                vec![(cx - 100.0 + j(rng), cy + 105.0 + j(rng)), (cx + 100.0 + j(rng), cy + 105.0 + j(rng))],
            ),
        };
        let arch_bend = rng.random_range(25.0..60.0);
        let wander = SmoothNoise::new(rng, 4, FLOW_WANDER_WAVELENGTH);
        let wander_amplitude = FLOW_WANDER * rng.random_range(0.5..1.0f32);
        Flow { cores, deltas, arch_bend, wander, wander_amplitude }
    }

    fn theta(&self, x: f32, y: f32) -> f32 {
        self.model_theta(x, y) + self.wander_amplitude * self.wander.at(x, y)
    }

    /// The pattern class's flow (zero-pole model, or the bent flow of an arch).
    fn model_theta(&self, x: f32, y: f32) -> f32 {
        if self.cores.is_empty() {
            // Ridges across the finger, bowed up in the middle and flatter towards the crease.
            let (cx, sigma) = (MASTER_W as f32 / 2.0, MASTER_W as f32 * 0.3);
            let u = (x - cx) / sigma;
            let fade = (1.0 - y / MASTER_H as f32).clamp(0.2, 1.0);
            let slope = self.arch_bend * 2.0 * u / sigma * (-u * u).exp() * fade;
            return slope.atan();
        }
        let mut t = 0.0;
        for (px, py) in &self.cores {
            t += (y - py).atan2(x - px);
        }
        for (px, py) in &self.deltas {
            t -= (y - py).atan2(x - px);
        }
        0.5 * t
    }
}

const ORIENTATIONS: usize = 32;
const MIN_PERIOD: f32 = 6.0;
const PERIOD_STEP: f32 = 0.5;
const PERIODS: usize = 15;
const RADIUS: isize = 6;
const SIDE: usize = (2 * RADIUS + 1) as usize;

/// Zero-mean even Gabor kernels for every (orientation, period) pair.
fn bank() -> &'static [[f32; SIDE * SIDE]] {
    static BANK: OnceLock<Vec<[f32; SIDE * SIDE]>> = OnceLock::new();
    BANK.get_or_init(|| {
        let mut out = Vec::with_capacity(ORIENTATIONS * PERIODS);
        for o in 0..ORIENTATIONS {
            let (s, c) = (o as f32 * PI / ORIENTATIONS as f32).sin_cos();
            for p in 0..PERIODS {
                let period = MIN_PERIOD + p as f32 * PERIOD_STEP;
                let mut k = [0f32; SIDE * SIDE];
                for dy in -RADIUS..=RADIUS {
                    for dx in -RADIUS..=RADIUS {
                        let across = -(dx as f32) * s + dy as f32 * c;
                        let r2 = (dx * dx + dy * dy) as f32;
                        k[(dy + RADIUS) as usize * SIDE + (dx + RADIUS) as usize] =
                            (-r2 / (2.0 * 3.5 * 3.5)).exp() * (2.0 * PI * across / period).cos();
                    }
                }
                let mean = k.iter().sum::<f32>() / k.len() as f32;
                k.iter_mut().for_each(|v| *v -= mean);
                out.push(k);
            }
        }
        out
    })
}

impl Master {
    /// Grows finger `id`'s master print (deterministic: the same id gives the same print).
    pub fn grow(id: u64) -> Master {
        let pattern = Pattern::of_finger(id);
        let mut rng = ChaCha8Rng::seed_from_u64(id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x6d61_7374_6572);
        let flow = Flow::new(pattern, &mut rng);
        let period = rng.random_range(PERIOD_RANGE);
        let period_wave = SmoothNoise::new(&mut rng, 4, PERIOD_WAVELENGTH);
        let (w, h) = (MASTER_W, MASTER_H);
        let bank = bank();
        let kernel: Vec<u16> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let o = ((flow.theta(x, y).rem_euclid(PI) / PI * ORIENTATIONS as f32).round() as usize) % ORIENTATIONS;
                let t = period * (1.0 + PERIOD_VARIATION * period_wave.at(x, y));
                let p = (((t - MIN_PERIOD) / PERIOD_STEP).round().max(0.0) as usize).min(PERIODS - 1);
                (o * PERIODS + p) as u16
            })
            .collect();
        let mut img = vec![0f32; w * h];
        for _ in 0..(w * h / PIXELS_PER_SEED) {
            let i = rng.random_range(0..w * h);
            img[i] = if rng.random::<bool>() { 1.0 } else { -1.0 };
        }
        let mut next = vec![0f32; w * h];
        for _ in 0..GROWTH_ITERATIONS {
            for y in 0..h {
                for x in 0..w {
                    let k = &bank[kernel[y * w + x] as usize];
                    let mut acc = 0.0;
                    for ky in 0..SIDE {
                        let sy = (y as isize + ky as isize - RADIUS).clamp(0, h as isize - 1) as usize;
                        let row = &img[sy * w..(sy + 1) * w];
                        let krow = &k[ky * SIDE..(ky + 1) * SIDE];
                        if x as isize >= RADIUS && x + (RADIUS as usize) < w {
                            let start = x - RADIUS as usize;
                            acc += krow.iter().zip(&row[start..start + SIDE]).map(|(a, b)| a * b).sum::<f32>();
                        } else {
                            for (kx, kv) in krow.iter().enumerate() {
                                acc += kv * row[(x as isize + kx as isize - RADIUS).clamp(0, w as isize - 1) as usize];
                            }
                        }
                    }
                    next[y * w + x] = acc;
                }
            }
            let rms = (next.iter().map(|v| v * v).sum::<f32>() / next.len() as f32).sqrt().max(1e-9);
            for (dst, src) in img.iter_mut().zip(&next) {
                *dst = (2.5 * src / rms).tanh();
            }
        }
        Master { id, pattern, period, ridges: img }
    }

    /// Ridge value at a canvas point (bilinear), or `None` off the finger.
    fn sample(&self, x: f32, y: f32) -> Option<f32> {
        if !on_finger(x, y) || x < 0.0 || y < 0.0 || x >= (MASTER_W - 1) as f32 || y >= (MASTER_H - 1) as f32 {
            return None;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |x: usize, y: usize| self.ridges[y * MASTER_W + x];
        Some(
            (p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx) * (1.0 - fy)
                + (p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx) * fy,
        )
    }

    /// The whole master rendered as a 500-dpi image (ridges dark), for pictures.
    pub fn render_full(&self) -> Image {
        let pixels = (0..MASTER_W * MASTER_H)
            .map(|i| match self.sample((i % MASTER_W) as f32, (i / MASTER_W) as f32) {
                Some(r) => (235.0 - 195.0 / (1.0 + (-5.0 * r).exp())) as u8,
                None => 235,
            })
            .collect();
        Image { width: MASTER_W as u32, height: MASTER_H as u32, dpi: 500, pixels }
    }
}

/// The finger's outline on the canvas: an ellipse filling most of it.
fn on_finger(x: f32, y: f32) -> bool {
    let (u, v) = (
        (x - MASTER_W as f32 / 2.0) / (MASTER_W as f32 * 0.49),
        (y - MASTER_H as f32 * 0.47) / (MASTER_H as f32 * 0.52),
    );
    u * u + v * v <= 1.0
}

/// How one touch lands on the sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    /// Sensor side in pixels (square sensor) and resolution.
    pub size: u32,
    pub dpi: u32,
    /// Offset of the sensor's centre from the finger's centre, in 500-dpi pixels.
    pub dx: f32,
    pub dy: f32,
    /// Finger rotation on the sensor, degrees.
    pub rotation: f32,
    /// -1 (light touch, thin ridges) to 1 (hard press, thick ridges).
    pub pressure: f32,
    /// 0 (none) to 1: broken ridges of a dry finger.
    pub dryness: f32,
    /// Standard deviation of sensor noise, in grey levels.
    pub noise: f32,
    /// Amplitude of the elastic skin distortion, in pixels.
    pub distortion: f32,
    /// How far apart on the finger two sensor rows lie, against 500 dpi (1: as far as the
    /// resolution says): above 1 the print is compressed along the sensor's columns in the image,
    /// below 1 drawn out, as a sweep sensor's speed or skin pressed flat or pulled along gives.
    pub stretch: f32,
    /// Scars crossing the touch.
    pub cuts: u32,
    /// Share of the sensor the finger covers (1: all of it).
    pub coverage: f32,
    /// A dirty sensor: the same smudge (by seed) over every touch.
    pub dirt: Option<u64>,
    /// Seeds the noise, distortion, dryness and cuts of this touch.
    pub seed: u64,
}

impl Touch {
    /// The `impression`-th touch of finger `finger` on a `size`-pixel sensor at `dpi`: placement
    /// within ±size/4 of the finger's centre, ±15° rotation, moderate pressure, dryness, noise and
    /// distortion, all drawn from the (finger, impression) seed.
    pub fn nth(finger: u64, impression: u32, size: u32, dpi: u32) -> Touch {
        Touch::nth_within(finger, impression, size, dpi, 15.0)
    }

    /// Impression `impression` of `finger`, turned by at most `max_turn` degrees either way
    /// (more than 0; 180 for the full circle, as a phone held any way meets the finger);
    /// everything but the turn is drawn as [`Touch::nth`] draws it.
    pub fn nth_within(finger: u64, impression: u32, size: u32, dpi: u32, max_turn: f32) -> Touch {
        let seed = finger.wrapping_mul(0x2545_f491_4f6c_dd1d)
            ^ (impression as u64).wrapping_mul(0x9e37_79b9)
            ^ 0x0074_6f75_6368;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let reach = size as f32 * 500.0 / dpi as f32 / 4.0;
        Touch {
            size,
            dpi,
            dx: rng.random_range(-reach..reach),
            dy: rng.random_range(-reach..reach),
            rotation: rng.random_range(-max_turn..max_turn),
            pressure: rng.random_range(-0.4..0.4),
            dryness: rng.random_range(0.0..0.3),
            noise: rng.random_range(4.0..14.0),
            distortion: rng.random_range(1.0..5.0),
            cuts: u32::from(rng.random_range(0..10u32) == 0),
            coverage: 1.0,
            dirt: None,
            stretch: 1.0,
            seed,
        }
    }

    /// This touch as people also touch: pressure from faint to flattened, dryness that breaks
    /// ridges, more noise, a stronger elastic distortion and a stretch along one axis, drawn (from
    /// the touch's own seed) as wide as the worst impressions of the real sets are. Placement and
    /// turn stay.
    pub fn harsh(self) -> Touch {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x0068_6172_7368);
        Touch {
            pressure: rng.random_range(-0.9..0.9),
            dryness: rng.random_range(0.0..0.7),
            noise: rng.random_range(4.0..24.0),
            distortion: rng.random_range(1.0..10.0),
            stretch: rng.random_range(0.88..1.12),
            ..self
        }
    }
}

/// What the sensor captures of `master` on `touch`.
pub fn impression(master: &Master, touch: &Touch) -> Image {
    let mut rng = ChaCha8Rng::seed_from_u64(touch.seed);
    let n = touch.size as usize;
    let scale = 500.0 / touch.dpi as f32;
    let (sr, cr) = touch.rotation.to_radians().sin_cos();
    let (mx, my) = (MASTER_W as f32 / 2.0 + touch.dx, MASTER_H as f32 * 0.47 + touch.dy);
    let warp_x = SmoothNoise::new(&mut rng, 3, 180.0);
    let warp_y = SmoothNoise::new(&mut rng, 3, 180.0);
    let dry = SmoothNoise::new(&mut rng, 12, 14.0);
    let cuts: Vec<(f32, f32, f32)> = (0..touch.cuts)
        .map(|_| (rng.random_range(0.0..PI), rng.random_range(-0.3..0.3f32) * n as f32, rng.random_range(0.8..2.0)))
        .collect();
    let edge_angle: f32 = rng.random_range(0.0..2.0 * PI);
    let dirt = touch.dirt.map(|s| {
        let mut d = ChaCha8Rng::seed_from_u64(s ^ 0x6469_7274);
        (SmoothNoise::new(&mut d, 10, 22.0), SmoothNoise::new(&mut d, 6, 60.0))
    });
    let half = n as f32 / 2.0;
    let mut pixels = Vec::with_capacity(n * n);
    for v in 0..n {
        for u in 0..n {
            let (su, sv) = (u as f32 - half, v as f32 - half);
            // Sensor pixel → finger canvas: scale to 500 dpi (rows by the stretch too), rotate,
            // place, then the elastic distortion.
            let (px, py) = (su * scale, sv * scale * touch.stretch);
            let (rx, ry) = (cr * px - sr * py, sr * px + cr * py);
            let (fx, fy) = (mx + rx, my + ry);
            let (fx, fy) = (fx + touch.distortion * warp_x.at(fx, fy), fy + touch.distortion * warp_y.at(fx, fy));
            let edge = su * edge_angle.cos() + sv * edge_angle.sin();
            let touching = edge <= (touch.coverage - 0.5) * n as f32;
            let mut dark = match master.sample(fx, fy) {
                Some(r) if touching => 1.0 / (1.0 + (-5.0 * (r + 0.45 * touch.pressure)).exp()),
                _ => 0.0,
            };
            if touch.dryness > 0.0 {
                let gap = ((dry.at(fx, fy) - 1.0 + 2.0 * touch.dryness) * 2.0).clamp(0.0, 1.0);
                dark *= 1.0 - gap;
            }
            for (a, offset, width) in &cuts {
                if (su * a.sin() - sv * a.cos() - offset).abs() < *width {
                    dark = 0.0;
                }
            }
            if let Some((fine, coarse)) = &dirt {
                let smudge = ((fine.at(su, sv) + coarse.at(su, sv)) * 0.5).max(0.0) * 0.6;
                dark = dark.max(smudge);
            }
            let noise = (rng.random::<f32>() + rng.random::<f32>() + rng.random::<f32>() - 1.5) * 2.0 * touch.noise;
            pixels.push((235.0 - 195.0 * dark + noise).clamp(0.0, 255.0) as u8);
        }
    }
    Image { width: touch.size, height: touch.size, dpi: touch.dpi, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_print_and_another_seed_another() {
        let a = impression(&Master::grow(7), &Touch::nth(7, 1, 160, 500));
        let b = impression(&Master::grow(7), &Touch::nth(7, 1, 160, 500));
        let c = impression(&Master::grow(8), &Touch::nth(8, 1, 160, 500));
        assert!(a == b);
        assert!(a != c);
    }

    #[test]
    fn ridges_have_the_chosen_period_and_good_contrast() {
        let m = Master::grow(3);
        // Count sign changes along a row through the middle of the finger: two per period.
        let y = MASTER_H / 2;
        let row: Vec<f32> = (60..260).map(|x| m.ridges[y * MASTER_W + x]).collect();
        let changes = row.windows(2).filter(|p| (p[0] > 0.0) != (p[1] > 0.0)).count() as f32;
        // Ridges are rarely perpendicular to a row: the spacing along it is at least the period.
        let spacing = 2.0 * row.len() as f32 / changes;
        assert!(spacing >= m.period * 0.8 && spacing < m.period * 3.0, "spacing {spacing} for period {}", m.period);
        let contrast = row.iter().map(|v| v.abs()).sum::<f32>() / row.len() as f32;
        assert!(contrast > 0.6, "grown ridges are weak: {contrast}");
    }

    #[test]
    fn touches_turn_within_their_limit_and_any_turn_reaches_the_full_circle() {
        let any_turn = || (1..=200).map(|k| Touch::nth_within(9, k, 160, 500, 180.0).rotation);
        assert!(any_turn().filter(|r| r.abs() > 90.0).count() > 60);
        assert!(any_turn().filter(|r| r.abs() < 15.0).count() < 40);
        // An upright touch is drawn as it always was (the tests' and demo's fingers lie where they did).
        let t = Touch::nth(9, 3, 160, 500);
        assert_eq!((t.dx, t.dy, t.rotation, t.pressure), (-25.615759, 1.5943718, -4.615817, -0.397873));
        assert_eq!((t.dryness, t.noise, t.distortion, t.cuts), (0.23792665, 5.097889, 3.7559977, 0));
        // Only the turn differs: the rest of the touch is drawn as for an upright one.
        let (upright, any) = (Touch::nth(9, 3, 160, 500), Touch::nth_within(9, 3, 160, 500, 180.0));
        assert_eq!(Touch { rotation: upright.rotation, ..any }, upright);
    }

    #[test]
    fn a_harsh_touch_lies_where_the_touch_lay_and_is_drawn_wider() {
        let touches: Vec<(Touch, Touch)> =
            (1..=200).map(|k| Touch::nth_within(9, k, 160, 500, 180.0)).map(|t| (t.clone(), t.harsh())).collect();
        for (t, h) in &touches {
            assert_eq!((t.dx, t.dy, t.rotation, t.seed), (h.dx, h.dy, h.rotation, h.seed));
            assert_eq!(t.stretch, 1.0, "touches drawn as before are not stretched");
        }
        let share = |f: &dyn Fn(&Touch) -> bool| touches.iter().filter(|(_, h)| f(h)).count();
        assert!(share(&|h| h.pressure.abs() > 0.5) > 40, "faint and flattened touches");
        assert!(share(&|h| h.dryness > 0.4) > 40, "dry touches");
        assert!(share(&|h| h.distortion > 6.0) > 40, "strong distortion");
        assert!(share(&|h| (h.stretch - 1.0).abs() > 0.06) > 40, "stretched along one axis");
        assert_eq!(touches[0].0.clone().harsh(), touches[0].1, "drawn from the touch's own seed");
    }

    #[test]
    fn impressions_cover_the_sensor_unless_partial() {
        let m = Master::grow(11);
        let mut t = Touch::nth(11, 2, 160, 500);
        let full = impression(&m, &t);
        let dark = |img: &Image| img.pixels.iter().filter(|p| **p < 150).count() as f32 / img.pixels.len() as f32;
        assert!(dark(&full) > 0.2, "a full touch shows ridges everywhere");
        t.coverage = 0.3;
        let partial = impression(&m, &t);
        assert!(dark(&partial) < dark(&full) * 0.6);
        // Resolution: the same touch at 1000 dpi has twice the pixels per millimetre.
        let hi = impression(&m, &Touch { size: 320, dpi: 1000, ..Touch::nth(11, 2, 160, 500) });
        assert_eq!((hi.width, hi.dpi), (320, 1000));
    }
}
