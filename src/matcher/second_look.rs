//! A second look at a touch that almost matched a finger.
//!
//! A weak genuine touch's score depends on small changes of the capture: the extraction finds
//! different minutiae in nearly the same pixels (ridges broken or merged by a dry or wet finger),
//! and a second set of them often finds the pose the first missed. So a touch whose first look
//! scores just under the threshold is extracted again from the capture rescaled by 2% either way
//! (as a firmer or lighter press spreads the skin), and the finger keeps the best of the three
//! scores. Touches that match at once, and the many that score far below, pay nothing; an impostor
//! finger gets the same two more tries only where it already comes near (BENCHMARKS.md, "A second
//! look at a touch that almost matched").

use super::{EngineError, Features, Template, ViewMatch, extract_until, score_of, view_matches};
use crate::image::GrayImage;
use std::sync::OnceLock;

/// A first look scoring from here up to the threshold gets the second look. Below it the second
/// looks lifted few genuine touches to the threshold on real prints, and every look costs an
/// extraction and a comparison.
pub const SECOND_LOOK_FROM: f32 = 0.12;
/// How each second look rescales the capture: its resolution taken as 2% higher (the print 2%
/// smaller to the engine), then 2% lower. A capture at the edge of the resolutions the engine reads
/// (300 and 1000 dpi) gets only the look that stays within them.
const RESCALES: [f32; 2] = [1.02, 0.98];

/// A capture's features, and those of its second looks once a finger needs them (each extracted
/// once, whichever thread asks first, and shared by every finger after; `None` when the rescaled
/// copy gave no features or a stop came during its extraction).
pub struct Touch<'a> {
    image: &'a GrayImage,
    first: Features,
    again: [OnceLock<Option<Features>>; RESCALES.len()],
}

/// How a touch scored against one finger.
pub struct Scored {
    /// The finger's score: the first look's, or the best of it and the second looks'.
    pub score: f32,
    /// The first look's score alone.
    pub first: f32,
    /// The first look's views' matches (a second look's lie on a rescaled copy: nothing to learn
    /// a template's geometry from).
    pub matches: Vec<ViewMatch>,
    /// The views' matches of the second look that gave `score`, when one lifted it.
    pub lifted: Option<Vec<ViewMatch>>,
}

impl Scored {
    /// The views' matches of the look that gave `score` (for reports of why a score is what it
    /// is; a second look's poses lie on its rescaled copy).
    pub fn matches_of_score(&self) -> &[ViewMatch] {
        self.lifted.as_deref().unwrap_or(&self.matches)
    }
}

impl<'a> Touch<'a> {
    /// The touch of `image`, whose features (by [`super::extract`]) are `first`.
    pub fn new(image: &'a GrayImage, first: Features) -> Touch<'a> {
        Touch { image, first, again: std::array::from_fn(|_| OnceLock::new()) }
    }

    /// The first look's features.
    pub fn features(&self) -> &Features {
        &self.first
    }

    /// The first look's features, the touch consumed (for a template update).
    pub fn into_features(self) -> Features {
        self.first
    }

    /// The touch against `template` at `threshold`: a first look that scores from
    /// [`SECOND_LOOK_FROM`] up to below `threshold` takes the best of it and the second looks,
    /// which stop at the first that reaches `threshold` (the decision is then made; the score may
    /// be lower than the best of all of them). `stop` is asked between the second looks' stages;
    /// once it says so, they add nothing.
    pub fn score_until(&self, template: &Template, threshold: f32, stop: &dyn Fn() -> bool) -> Scored {
        let matches = view_matches(&self.first, template);
        let first = score_of(&matches);
        let (mut score, mut lifted) = (first, None);
        if (SECOND_LOOK_FROM..threshold).contains(&first) {
            for (look, rescale) in self.again.iter().zip(RESCALES) {
                if score >= threshold || stop() {
                    break;
                }
                if let Some(features) = look.get_or_init(|| rescaled_look(self.image, rescale, stop).ok()) {
                    let again = view_matches(features, template);
                    let again_score = score_of(&again);
                    if again_score > score {
                        (score, lifted) = (again_score, Some(again));
                    }
                }
            }
        }
        Scored { score, first, matches, lifted }
    }

    /// [`Touch::score_until`], never stopped.
    pub fn score(&self, template: &Template, threshold: f32) -> Scored {
        self.score_until(template, threshold, &|| false)
    }

    /// The best of the first look and, from [`SECOND_LOOK_FROM`] up, every second look: compared
    /// with any threshold, this score gives the decision [`Touch::score`] makes at that threshold.
    /// For tools that count decisions at many thresholds from one score.
    pub fn best(&self, template: &Template) -> Scored {
        self.score(template, f32::INFINITY)
    }

    /// How many second looks were tried, whether or not the copy gave features (for the tools'
    /// reports of what identification cost).
    pub fn second_looks(&self) -> usize {
        self.again.iter().filter(|look| look.get().is_some()).count()
    }
}

/// The features of `image` read as if its resolution were `rescale` times what it says.
fn rescaled_look(image: &GrayImage, rescale: f32, stop: &dyn Fn() -> bool) -> Result<Features, EngineError> {
    let dpi = (image.dpi() as f32 * rescale).round() as u32;
    let copy = GrayImage::new(image.width(), image.height(), dpi, image.pixels().to_vec())
        .map_err(|e| EngineError::Image(e.to_string()))?;
    extract_until(&copy, stop)
}
