//! A finger's template: its enrolled views, and the byte format they are stored in.
//!
//! Format `FPM5`: magic, view count (u32 LE), enrolled view count (u32 LE: the first views, the
//! rest came from template update), then per view, as `FPM4`: the phases of the half of its band
//! inside the disc at 4 bits each ([`Spectrum::half_nibbles`], 1,796 bytes; the other half mirrors
//! it), the grid centre (two f32 LE), the minutiae count (u16 LE), six bytes per minutia (x and y
//! in 1/8 px as u16 LE, direction in 1/256 turn, then the kind in the top bit and the quality in
//! 1/127 steps), then each minutia's patch at 4 bits per sample ([`Patch::nibbles`], 145 bytes).
//! A view is kept in memory at what the format keeps (also one loaded from `FPM3`), so a finger
//! scores the same before and after it is written and read back.
//!
//! Older formats still load, every view counted as enrolled: `FPM4` (the same views, no enrolled
//! count), `FPM3` (phases of the whole band and patches at a byte each, about
//! three times the size for real 160-px crops; written again as `FPM5`), `FPM2` (no patches) and
//! `FPM1` (phases only). The pairs of minutiae of the last two count for nothing, so such a finger
//! scores on correlation alone and should be enrolled again.

use super::fft::{self, Spectrum};
use super::minutiae::{self, Kind, Minutia};
use super::patch::{self, Patch};
use super::verify::Marks;
use super::{ANGLES, BAND_LEN, EngineError, Features};
use std::f32::consts::TAU;
use zeroize::Zeroize;

/// Views one template may hold.
pub const MAX_VIEWS: usize = 64;
/// Minutiae one view may hold (a 1024-px capture at 300 dpi has a few hundred at most).
const MAX_MINUTIAE: usize = 1024;
const MAGIC_V1: &[u8; 4] = b"FPM1";
const MAGIC_V2: &[u8; 4] = b"FPM2";
const MAGIC_V3: &[u8; 4] = b"FPM3";
const MAGIC_V4: &[u8; 4] = b"FPM4";
const MAGIC_V5: &[u8; 4] = b"FPM5";
const MINUTIA_BYTES: usize = 6;
/// Fixed-point steps per pixel for minutia positions.
const POSITION_STEPS: f32 = 8.0;

/// One enrolled capture: its unrotated phase band, grid centre, minutiae and their patches.
pub(super) struct View {
    pub band: Spectrum,
    pub centre: (f32, f32),
    pub minutiae: Vec<Minutia>,
    /// One per minutia; empty for views stored before patches were (`FPM1`, `FPM2`).
    pub patches: Vec<Patch>,
}

impl View {
    pub fn marks(&self) -> Marks<'_> {
        Marks { minutiae: &self.minutiae, patches: &self.patches, nearby: &[], ridges: None }
    }
}

impl Drop for View {
    fn drop(&mut self) {
        minutiae::wipe(&mut self.minutiae);
    }
}

/// A finger: its enrolled views, then those template update added.
pub struct Template {
    pub(super) views: Vec<View>,
    /// How many of the first views came from enrollment.
    enrolled: usize,
}

impl Template {
    /// A template of enrolled views.
    pub fn from_views(views: Vec<Features>) -> Template {
        let mut template = Template { views: Vec::new(), enrolled: 0 };
        for f in views {
            template.add_view(f);
        }
        template.enrolled = template.views.len();
        template
    }

    /// How many of the first views came from enrollment (the rest from template update).
    pub fn enrolled_views(&self) -> usize {
        self.enrolled
    }

    /// Adds a capture as one more view, unless the template already holds `MAX_VIEWS`.
    pub fn add_view(&mut self, mut f: Features) -> bool {
        if self.views.len() >= MAX_VIEWS {
            return false;
        }
        let view = View {
            band: f.rotations.swap_remove(ANGLES.len() / 2),
            centre: f.centre,
            minutiae: std::mem::take(&mut f.minutiae),
            patches: std::mem::take(&mut f.patches),
        };
        // Kept as it will be stored, so that it scores alike before and after a restart.
        let stored = stored_form(&view);
        debug_assert!(stored.is_some(), "a view decodes from its own bytes");
        self.views.push(stored.unwrap_or(view));
        true
    }

    pub fn view_count(&self) -> usize {
        self.views.len()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Reserved whole, so that no partial copy of the features is left behind by a reallocation.
        let mut out = Vec::with_capacity(12 + self.views.iter().map(stored_size).sum::<usize>());
        out.extend_from_slice(MAGIC_V5);
        out.extend_from_slice(&(self.views.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.enrolled as u32).to_le_bytes());
        for v in &self.views {
            write_view(&mut out, v);
        }
        out
    }

    /// The template in the format before `FPM4` (for tests of older templates).
    #[cfg(test)]
    pub(super) fn to_bytes_v3(&self) -> Vec<u8> {
        let mut out = MAGIC_V3.to_vec();
        out.extend_from_slice(&(self.views.len() as u32).to_le_bytes());
        for v in &self.views {
            out.extend(v.band.quantised());
            write_tail(&mut out, v, |p, out| out.extend(p.bytes()));
        }
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Template, EngineError> {
        let bad = |why: String| EngineError::BadTemplate(why);
        if b.len() < 8 {
            return Err(bad("shorter than its header".into()));
        }
        let n = u32::from_le_bytes(b[4..8].try_into().expect("4 bytes")) as usize;
        if n == 0 || n > MAX_VIEWS {
            return Err(bad(format!("{n} views")));
        }
        match &b[..4] {
            m if m == MAGIC_V1 => {
                if b.len() != 8 + n * BAND_LEN {
                    return Err(bad(format!("{n} views in {} bytes", b.len())));
                }
                let views = b[8..]
                    .chunks_exact(BAND_LEN)
                    .map(|q| View {
                        band: Spectrum::from_quantised(q),
                        centre: (0.0, 0.0),
                        minutiae: Vec::new(),
                        patches: Vec::new(),
                    })
                    .collect();
                Ok(Template { views, enrolled: n })
            }
            m => {
                let (layout, header) = match m {
                    m if m == MAGIC_V2 => (Layout::V2, 8),
                    m if m == MAGIC_V3 => (Layout::V3, 8),
                    m if m == MAGIC_V4 => (Layout::V4, 8),
                    m if m == MAGIC_V5 => (Layout::V4, 12),
                    _ => return Err(bad("bad header".into())),
                };
                if b.len() < header {
                    return Err(bad("shorter than its header".into()));
                }
                let enrolled = match header {
                    12 => u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")) as usize,
                    _ => n,
                };
                if enrolled == 0 || enrolled > n {
                    return Err(bad(format!("{enrolled} enrolled views of {n}")));
                }
                let mut reader = Reader { b, at: header };
                let mut views = Vec::with_capacity(n);
                for k in 0..n {
                    let view =
                        reader.view(layout).ok_or_else(|| bad(format!("view {k} is cut short or does not decode")))?;
                    // An FPM3 view is brought to what FPM4 keeps, so it scores the same once it
                    // is written again. (FPM2 views have no patches to keep; they stay as read.)
                    let view = match layout {
                        Layout::V3 => stored_form(&view).unwrap_or(view),
                        _ => view,
                    };
                    views.push(view);
                }
                if reader.at != b.len() {
                    return Err(bad(format!("{} bytes after the last view", b.len() - reader.at)));
                }
                Ok(Template { views, enrolled })
            }
        }
    }
}

/// Bytes of a view as `FPM4` stores it.
fn stored_size(v: &View) -> usize {
    fft::half_nibble_bytes() + 10 + v.minutiae.len().min(MAX_MINUTIAE) * (MINUTIA_BYTES + patch::NIBBLE_BYTES)
}

/// One view as `FPM4` stores it.
fn write_view(out: &mut Vec<u8>, v: &View) {
    v.band.half_nibbles_into(out);
    write_tail(out, v, Patch::nibbles_into);
}

/// A view as it reads back from `FPM4`: phases and patches at 4 bits, minutiae at their stored steps.
fn stored_form(view: &View) -> Option<View> {
    let mut bytes = Vec::with_capacity(stored_size(view));
    write_view(&mut bytes, view);
    let stored = Reader { b: &bytes, at: 0 }.view(Layout::V4);
    bytes.zeroize();
    stored
}

/// Everything of a view after its band, each patch written by `write_patch`.
fn write_tail(out: &mut Vec<u8>, v: &View, write_patch: impl Fn(&Patch, &mut Vec<u8>)) {
    out.extend_from_slice(&v.centre.0.to_le_bytes());
    out.extend_from_slice(&v.centre.1.to_le_bytes());
    let kept = &v.minutiae[..v.minutiae.len().min(MAX_MINUTIAE)];
    out.extend_from_slice(&(kept.len() as u16).to_le_bytes());
    for m in kept {
        out.extend_from_slice(&position(m.x).to_le_bytes());
        out.extend_from_slice(&position(m.y).to_le_bytes());
        out.push(((m.direction / TAU * 256.0).round() as i32).rem_euclid(256) as u8);
        let kind = if m.kind == Kind::Bifurcation { 0x80 } else { 0 };
        out.push(kind | (m.quality.clamp(0.0, 1.0) * 127.0).round() as u8);
    }
    if v.patches.len() == v.minutiae.len() {
        for p in &v.patches[..kept.len()] {
            write_patch(p, out);
        }
    } else {
        // A view loaded from an older format has none: flat patches pair with nothing.
        let flat = Patch::from_bytes(&[0; patch::BYTES]).expect("one patch of bytes");
        for _ in kept {
            write_patch(&flat, out);
        }
    }
}

/// How a stored view is laid out, by format.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// Whole band at a byte per phase, no patches.
    V2,
    /// Whole band at a byte per phase, patches at a byte per sample.
    V3,
    /// Half band at 4 bits per phase, patches at 4 bits per sample.
    V4,
}

fn position(v: f32) -> u16 {
    (v * POSITION_STEPS).round().clamp(0.0, u16::MAX as f32) as u16
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn f32(&mut self) -> Option<f32> {
        Some(f32::from_le_bytes(self.take(4)?.try_into().ok()?)).filter(|v| v.is_finite())
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    /// One view laid out as `layout` says.
    fn view(&mut self, layout: Layout) -> Option<View> {
        let band = match layout {
            Layout::V4 => Spectrum::from_half_nibbles(self.take(fft::half_nibble_bytes())?)?,
            Layout::V2 | Layout::V3 => Spectrum::from_quantised(self.take(BAND_LEN)?),
        };
        let centre = (self.f32()?, self.f32()?);
        let count = self.u16()? as usize;
        if count > MAX_MINUTIAE {
            return None;
        }
        let minutiae = self
            .take(count * MINUTIA_BYTES)?
            .chunks_exact(MINUTIA_BYTES)
            .map(|m| Minutia {
                x: u16::from_le_bytes([m[0], m[1]]) as f32 / POSITION_STEPS,
                y: u16::from_le_bytes([m[2], m[3]]) as f32 / POSITION_STEPS,
                direction: m[4] as f32 / 256.0 * TAU,
                kind: if m[5] & 0x80 != 0 { Kind::Bifurcation } else { Kind::Ending },
                quality: (m[5] & 0x7f) as f32 / 127.0,
            })
            .collect();
        let patches = match layout {
            Layout::V2 => Vec::new(),
            Layout::V3 => self
                .take(count * patch::BYTES)?
                .chunks_exact(patch::BYTES)
                .map(Patch::from_bytes)
                .collect::<Option<_>>()?,
            Layout::V4 => self
                .take(count * patch::NIBBLE_BYTES)?
                .chunks_exact(patch::NIBBLE_BYTES)
                .map(Patch::from_nibbles)
                .collect::<Option<_>>()?,
        };
        Some(View { band, centre, minutiae, patches })
    }
}
