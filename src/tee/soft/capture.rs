//! Capture checks: the acquired code of each touch (too fast, the quality verdict, a mark on the
//! sensor) and whether its features can be used.

use crate::codes::Acquired;
use crate::image::GrayImage;
use crate::matcher::{self, Features, Quality};
use crate::tee::Interrupt;

/// Earlier captures a static pattern must repeat in to make a capture IMAGER_DIRTY.
const STATIC_HISTORY: usize = 2;

pub(super) struct CaptureChecks {
    /// Contact shorter than this (when the sensor measures it) is TOO_FAST.
    min_contact_ms: u32,
    /// Features with a less clear ridge flow are INSUFFICIENT.
    min_clarity: f32,
    /// The last captures, newest last, to see a mark on the sensor that stays while the finger
    /// moves.
    recent: Vec<GrayImage>,
}

impl CaptureChecks {
    pub(super) fn new(min_contact_ms: u32, min_clarity: f32) -> CaptureChecks {
        CaptureChecks { min_contact_ms, min_clarity, recent: Vec::new() }
    }

    /// The features of a GOOD touch whose features can be used, or the acquired code that says
    /// why the touch does not count (INSUFFICIENT when a GOOD capture's features are not usable).
    /// A stop requested through `interrupt` between the quality check and the feature extraction
    /// ends the touch as INSUFFICIENT, uncounted, with the request left for the caller to clear.
    pub(super) fn check(
        &mut self,
        image: &GrayImage,
        contact_ms: u32,
        interrupt: &Interrupt,
    ) -> Result<Features, Acquired> {
        match self.code(image, contact_ms) {
            Acquired::Good if interrupt.requested() => Err(Acquired::Insufficient),
            Acquired::Good => self.usable_features(image, interrupt).ok_or(Acquired::Insufficient),
            code => Err(code),
        }
    }

    /// The acquired code of a capture: TOO_FAST, the quality verdict, or IMAGER_DIRTY when a
    /// broad pattern of the two previous captures stays in place. Remembers the capture.
    fn code(&mut self, image: &GrayImage, contact_ms: u32) -> Acquired {
        let min = self.min_contact_ms;
        let code = if contact_ms != 0 && contact_ms < min {
            log::info!("touch of {contact_ms} ms, shorter than the {min} ms a capture needs");
            Acquired::TooFast
        } else {
            match quality_code(matcher::assess(image)) {
                Acquired::Good | Acquired::Partial
                    if self.recent.len() == STATIC_HISTORY && matcher::repeats_static_pattern(image, &self.recent) =>
                {
                    log::info!("part of the capture repeats the previous ones unmoved: a mark on the sensor");
                    Acquired::ImagerDirty
                }
                code => code,
            }
        };
        if self.recent.len() == STATIC_HISTORY {
            self.recent.remove(0);
        }
        self.recent.push(image.clone());
        code
    }

    /// The features of a GOOD capture, or None when too little of them can be used.
    fn usable_features(&self, image: &GrayImage, interrupt: &Interrupt) -> Option<Features> {
        match matcher::extract_until(image, &|| interrupt.requested()) {
            Ok(f) if f.clarity() >= self.min_clarity => Some(f),
            Ok(f) => {
                log::info!("capture not usable: ridge flow clarity {:.2} below {:.2}", f.clarity(), self.min_clarity);
                None
            }
            Err(e) => {
                log::info!("capture not usable: {e}");
                None
            }
        }
    }
}

fn quality_code(q: Quality) -> Acquired {
    match q {
        Quality::Good => Acquired::Good,
        Quality::Partial => Acquired::Partial,
        Quality::Insufficient => Acquired::Insufficient,
        Quality::Dirty => Acquired::ImagerDirty,
    }
}
