//! What the subcommands of `fphal-synth-bench` share: a range of synthetic fingers enrolled and
//! probed as the HAL would, work spread over threads, and the generator's true placements of
//! touches (to tell how two touches of a finger really lie).

use crate::Progress;
use anyhow::{Result, bail};
use fphal::image::GrayImage;
use fphal::matcher::{self, Quality, Template};
use fphal_synth::{Master, Touch};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// With `harsh_probes`, the share of probes touched harshly ([`Touch::harsh`]); the others are
/// drawn as enrollment touches are. Fitted to the genuine scores of the real crops: of the shares
/// 0.15-0.45, 0.3 lies closest to them (BENCHMARKS.md, "Synthetic fingers against the real
/// crops"); it was 0.4 while the synthetic flow wandered less.
pub const HARSH_SHARE: f32 = 0.3;

/// Synthetic fingers `first_id`, `first_id` + 1, … touched on a `size`² sensor at 500 dpi.
#[derive(Debug, Clone, Copy)]
pub struct FingerRange {
    pub first_id: u64,
    pub count: u64,
    pub size: u32,
    /// How far probes are turned, degrees either way: enrollment touches are drawn within ±15°
    /// (a person enrolls holding the phone one way), probes within this (180: any way).
    pub probe_turn: f32,
    /// A share of the probes ([`HARSH_SHARE`]) drawn as people also touch ([`Touch::harsh`]:
    /// faint, flattened, dry, stretched); the rest as enrollment touches are drawn.
    pub harsh_probes: bool,
}

impl FingerRange {
    /// The id of the `i`-th finger of the range.
    pub fn id(&self, i: usize) -> u64 {
        self.first_id + i as u64
    }

    /// Where impression `k` of finger `id` lies on the sensor.
    pub fn touch(&self, id: u64, k: u32) -> Touch {
        Touch::nth(id, k, self.size, 500)
    }

    /// Where impression `k` of finger `id` lies when it is a probe.
    pub fn probe_touch(&self, id: u64, k: u32) -> Touch {
        let touch = Touch::nth_within(id, k, self.size, 500, self.probe_turn);
        if self.is_harsh(&touch) { touch.harsh() } else { touch }
    }

    /// Whether impression `k` of finger `id` is, as a probe, touched harshly.
    pub fn is_harsh_probe(&self, id: u64, k: u32) -> bool {
        self.is_harsh(&Touch::nth_within(id, k, self.size, 500, self.probe_turn))
    }

    /// Which probes are harsh is drawn from the touch's seed: the same ones in every run.
    fn is_harsh(&self, touch: &Touch) -> bool {
        let draw = (touch.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as f32 / (1u64 << 24) as f32;
        self.harsh_probes && draw < HARSH_SHARE
    }

    /// Impression `k` of finger `id` as the sensor captures it.
    pub fn capture(&self, master: &Master, id: u64, k: u32) -> Result<GrayImage> {
        to_gray(fphal_synth::impression(master, &self.touch(id, k)))
    }

    /// Impression `k` of finger `id` captured as a probe.
    pub fn capture_probe(&self, master: &Master, id: u64, k: u32) -> Result<GrayImage> {
        to_gray(fphal_synth::impression(master, &self.probe_touch(id, k)))
    }
}

pub fn to_gray(i: fphal_synth::Image) -> Result<GrayImage> {
    Ok(GrayImage::new(i.width, i.height, i.dpi, i.pixels)?)
}

/// One finger enrolled and probed as the HAL would.
pub struct Finger {
    pub template: Template,
    pub probes: Vec<GrayImage>,
    pub touches_for_enrollment: u32,
    /// Impressions of the enrolled views (`FingerRange::touch`) and of the probes
    /// (`FingerRange::probe_touch`).
    pub view_touches: Vec<u32>,
    pub probe_touches: Vec<u32>,
}

/// Enrolls finger `id` from impressions 1, 2, … until `views` of them pass the capture quality
/// check and add area (the touches needed are counted); the next `probes` that pass are probes,
/// turned by up to the range's `probe_turn`.
pub fn enroll(range: &FingerRange, id: u64, views: usize, probes: usize) -> Result<Finger> {
    let master = Master::grow(id);
    let (mut enrolled, mut probe_images, mut touches) = (Vec::new(), Vec::new(), 0u32);
    let (mut view_touches, mut probe_touches) = (Vec::new(), Vec::new());
    let mut impression = 0u32;
    while enrolled.len() < views || probe_images.len() < probes {
        impression += 1;
        if impression > 200 {
            bail!("finger {id}: no usable touches");
        }
        let enrolling = enrolled.len() < views;
        let img = if enrolling {
            range.capture(&master, id, impression)?
        } else {
            range.capture_probe(&master, id, impression)?
        };
        if enrolling {
            touches += 1;
        }
        if matcher::assess(&img) != Quality::Good {
            continue;
        }
        if enrolling {
            // As the HAL enrolls: a touch where an earlier one lay does not count.
            if let Ok(f) = matcher::extract(&img) {
                if matcher::adds_area(&f, &enrolled) {
                    enrolled.push(f);
                    view_touches.push(impression);
                }
            }
        } else {
            probe_images.push(img);
            probe_touches.push(impression);
        }
    }
    Ok(Finger {
        template: Template::from_views(enrolled),
        probes: probe_images,
        touches_for_enrollment: touches,
        view_touches,
        probe_touches,
    })
}

/// `f(0)`, …, `f(n - 1)` on `threads` threads, in index order, ticking `progress` for each.
pub fn parallel<T: Send>(n: usize, threads: usize, progress: &Progress, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let v = f(i);
                    out.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(v);
                    progress.inc();
                }
            });
        }
    });
    progress.finish();
    out.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|v| v.expect("every index computed")).collect()
}

/// `p1=… p50=…` of ascending `sorted` at the fractions `ps`.
pub fn percentiles(sorted: &[f32], ps: &[f64]) -> String {
    ps.iter()
        .map(|p| {
            format!("p{}={:.3}", (p * 1000.0).round() / 10.0, sorted[((sorted.len() - 1) as f64 * p).round() as usize])
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a point of touch `a`'s image (pixels at 500 dpi) lies in touch `b`'s image, by the
/// generator's placements (the elastic distortion aside).
pub fn carry(a: &Touch, b: &Touch, x: f32, y: f32) -> (f32, f32) {
    let half = a.size as f32 / 2.0;
    let (fx, fy) = to_finger(a, x - half, y - half);
    let (u, v) = to_sensor(b, fx, fy);
    (u + half, v + half)
}

/// A point of touch `t`'s sensor, relative to the sensor's centre, on the finger canvas (500-dpi
/// pixels from the finger's centre): stretched along the rows axis, turned, placed, as
/// `fphal_synth::impression` samples the finger.
fn to_finger(t: &Touch, u: f32, v: f32) -> (f32, f32) {
    let (s, c) = t.rotation.to_radians().sin_cos();
    let v = v * t.stretch;
    (t.dx + c * u - s * v, t.dy + s * u + c * v)
}

/// The inverse of [`to_finger`]: a finger-canvas point on touch `t`'s sensor, from its centre.
fn to_sensor(t: &Touch, x: f32, y: f32) -> (f32, f32) {
    let (s, c) = t.rotation.to_radians().sin_cos();
    let (x, y) = (x - t.dx, y - t.dy);
    (c * x + s * y, (-s * x + c * y) / t.stretch)
}

/// The sensor's square under touch `t`, as a test of finger-canvas points (500-dpi pixels).
pub fn footprint(t: &Touch) -> impl Fn(f32, f32) -> bool + use<> {
    let half = t.size as f32 * 500.0 / t.dpi as f32 / 2.0;
    let t = t.clone();
    move |x, y| {
        let (u, v) = to_sensor(&t, x, y);
        u.abs() <= half && v.abs() <= half
    }
}

/// The share of touch `t`'s area (sampled on a `steps`² grid) where `covered` holds.
pub fn share_covered(t: &Touch, steps: usize, covered: impl Fn(f32, f32) -> bool) -> f32 {
    let half = t.size as f32 * 500.0 / t.dpi as f32 / 2.0;
    let mut n = 0;
    for v in 0..steps {
        for u in 0..steps {
            let (u, v) = (
                (u as f32 + 0.5) / steps as f32 * 2.0 * half - half,
                (v as f32 + 0.5) / steps as f32 * 2.0 * half - half,
            );
            let (x, y) = to_finger(t, u, v);
            n += usize::from(covered(x, y));
        }
    }
    n as f32 / (steps * steps) as f32
}
