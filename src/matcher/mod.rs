//! Image → features → score. The engine knows only images and numbers: no I/O, no threads.
//!
//! This is band-limited phase-only correlation (BLPOC), a published method for small-area
//! sensors: every view keeps the phase of the low band of its spectrum (where ridge structure
//! lives, above the noise); a probe is rotated over a range of angles, and the height of the
//! correlation peak between its phase and each enrolled view's phase is the score. Translation is
//! free (it is a shift of the peak), and partial overlap lowers but does not remove the peak.

pub mod enhance;
mod fft;
pub mod minutiae;
mod prepare;
pub mod ridge_flow;

use crate::image::GrayImage;
use fft::Spectrum;
use std::fmt;
use zeroize::Zeroize;

pub use prepare::{assess, normalise, Normalised, Quality};
pub use ridge_flow::RidgeFlow;

/// Side of the square the prepared image is laid into before its spectrum is taken.
pub const GRID: usize = 256;
/// Half-width of the kept frequency band, in bins of the GRID-point spectrum.
pub const BAND: usize = 44;
/// Radius of the kept disc of frequencies, in bins (256/DISC px is the shortest period kept).
const DISC: f32 = 50.0;
/// Side of the inverse transform that turns a band product into a correlation surface.
const SURFACE: usize = 128;
/// Probe rotations tried, in degrees.
const ANGLES: [f32; 7] = [-18.0, -12.0, -6.0, 0.0, 6.0, 12.0, 18.0];
/// The score at which the HAL calls a capture a match, unless configuration says otherwise.
pub const DEFAULT_THRESHOLD: f32 = 0.16;
const TEMPLATE_MAGIC: &[u8; 4] = b"FPM1";
const BAND_SIDE: usize = 2 * BAND + 1;
const BAND_LEN: usize = BAND_SIDE * BAND_SIDE;
/// Views one template may hold.
pub const MAX_VIEWS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    Image(String),
    NoRidges,
    BadTemplate(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Image(why) => write!(f, "unusable image: {why}"),
            EngineError::NoRidges => write!(f, "no ridge area found in the image"),
            EngineError::BadTemplate(why) => write!(f, "template does not decode: {why}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// The features of one capture: the unit-magnitude band spectrum of each tried rotation.
pub struct Features {
    /// One phase band per angle of `ANGLES` (index 3 is the unrotated view).
    rotations: Vec<Spectrum>,
}

/// A finger: the unrotated phase band of each enrolled view.
pub struct Template {
    views: Vec<Spectrum>,
}

/// The ridge structure of a capture, for quality checks and pictures: the normalised image and
/// mask, the ridge flow, the contextually enhanced image and the minutiae. (Matching correlates the
/// normalised image itself: enhancement makes different fingers look alike to phase correlation,
/// which measured worse on real prints.)
pub struct RidgeAnalysis {
    pub normalised: Normalised,
    pub flow: RidgeFlow,
    pub enhanced: Vec<f32>,
    pub minutiae: Vec<minutiae::Minutia>,
}

impl Drop for RidgeAnalysis {
    fn drop(&mut self) {
        self.enhanced.zeroize();
        for m in &mut self.minutiae {
            m.x.zeroize();
            m.y.zeroize();
            m.direction.zeroize();
        }
    }
}

pub fn analyse(img: &GrayImage) -> Result<RidgeAnalysis, EngineError> {
    let normalised = normalise(img)?;
    let flow = ridge_flow::estimate(&normalised.pixels, &normalised.mask, normalised.w, normalised.h);
    let enhanced = enhance::enhance(&normalised.pixels, &normalised.mask, &flow);
    let minutiae = minutiae::extract(&enhanced, &normalised.mask, &flow);
    Ok(RidgeAnalysis { normalised, flow, enhanced, minutiae })
}

/// Extracts features from a capture of any supported size and resolution.
pub fn extract(img: &GrayImage) -> Result<Features, EngineError> {
    let prepared = prepare::prepare(img)?;
    let rotations = ANGLES
        .iter()
        .map(|a| {
            let mut image = prepared.rotated(*a);
            let band = fft::phase_band(&image);
            image.zeroize();
            band
        })
        .collect();
    Ok(Features { rotations })
}

impl Features {
    fn unrotated(&self) -> &Spectrum {
        &self.rotations[ANGLES.len() / 2]
    }
}

impl Template {
    pub fn from_views(views: Vec<Features>) -> Template {
        let views = views.into_iter().take(MAX_VIEWS).map(|mut f| f.rotations.swap_remove(ANGLES.len() / 2)).collect();
        Template { views }
    }

    pub fn view_count(&self) -> usize {
        self.views.len()
    }

    /// Serialises the template: magic, view count, then each view's phases quantised to a byte.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.views.len() * BAND_LEN);
        out.extend_from_slice(TEMPLATE_MAGIC);
        out.extend_from_slice(&(self.views.len() as u32).to_le_bytes());
        for v in &self.views {
            out.extend(v.quantised());
        }
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Template, EngineError> {
        if b.len() < 8 || &b[..4] != TEMPLATE_MAGIC {
            return Err(EngineError::BadTemplate("bad header".into()));
        }
        let n = u32::from_le_bytes(b[4..8].try_into().expect("4 bytes")) as usize;
        if n == 0 || n > MAX_VIEWS || b.len() != 8 + n * BAND_LEN {
            return Err(EngineError::BadTemplate(format!("{n} views in {} bytes", b.len())));
        }
        let views = b[8..].chunks_exact(BAND_LEN).map(Spectrum::from_quantised).collect();
        Ok(Template { views })
    }
}

/// Similarity of a capture to a finger: higher is more alike; about 1.0 for the same image.
pub fn score(probe: &Features, template: &Template) -> f32 {
    let mut best = 0.0f32;
    for view in &template.views {
        for rot in &probe.rotations {
            best = best.max(fft::correlation_peak(rot, view));
        }
    }
    best
}

/// How one capture lies on another: the best rotation and shift found by phase correlation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alignment {
    pub score: f32,
    /// Rotation of the first capture that best matches the second, degrees.
    pub degrees: f32,
    /// Shift on the grid after the rotation, pixels at 500 dpi.
    pub shift: (f32, f32),
    centre_a: (f32, f32),
    centre_b: (f32, f32),
}

impl Alignment {
    /// Maps a point of the first capture (500-dpi normalised coordinates, as in [`analyse`])
    /// to where the same skin lies in the second.
    pub fn map(&self, x: f32, y: f32) -> (f32, f32) {
        let mid = (GRID as f32 - 1.0) / 2.0;
        let half = (GRID / 2) as f32;
        let (gx, gy) = (x - self.centre_a.0 + half - mid, y - self.centre_a.1 + half - mid);
        // The rotated grid shows the original point g at q = Mᵀ g (see `Prepared::rotated`).
        let (s, c) = self.degrees.to_radians().sin_cos();
        let (qx, qy) = (c * gx - s * gy + mid, s * gx + c * gy + mid);
        (qx - self.shift.0 + self.centre_b.0 - half, qy - self.shift.1 + self.centre_b.1 - half)
    }
}

/// Aligns capture `a` onto capture `b` (for pictures and tools; matching does not need the pose).
pub fn align(a: &GrayImage, b: &GrayImage) -> Result<Alignment, EngineError> {
    let (pa, pb) = (prepare::prepare(a)?, prepare::prepare(b)?);
    let target = {
        let mut img = pb.rotated(0.0);
        let band = fft::phase_band(&img);
        img.zeroize();
        band
    };
    let cell = (GRID / SURFACE) as f32;
    let wrap = |v: usize| {
        let p = v as f32 * cell;
        if p >= GRID as f32 / 2.0 { p - GRID as f32 } else { p }
    };
    let mut best = Alignment { score: -1.0, degrees: 0.0, shift: (0.0, 0.0), centre_a: pa.centre, centre_b: pb.centre };
    for deg in ANGLES {
        let mut img = pa.rotated(deg);
        let band = fft::phase_band(&img);
        img.zeroize();
        let (score, x, y) = fft::correlation_peak_at(&band, &target);
        if score > best.score {
            best = Alignment { score, degrees: deg, shift: (wrap(x), wrap(y)), ..best };
        }
    }
    Ok(best)
}

/// Similarity of two single captures (used by tools and tests).
pub fn score_pair(a: &Features, b: &Features) -> f32 {
    a.rotations.iter().map(|r| fft::correlation_peak(r, b.unrotated())).fold(0.0, f32::max)
}

#[cfg(test)]
pub(crate) mod tests;
