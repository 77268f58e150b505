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
mod nibbles;
pub mod patch;
mod prepare;
pub mod ridge_flow;
mod second_look;
mod template;
pub mod verify;
mod whole;

use crate::image::GrayImage;
use fft::Spectrum;
use patch::{Nearby, Patch};
use prepare::Prepared;
use std::f32::consts::TAU;
use std::fmt;
use std::sync::Mutex;
use zeroize::Zeroize;

pub use prepare::{Normalised, Quality, StaticBlocks, assess, normalise, repeats_static_pattern, static_blocks};
pub use ridge_flow::RidgeFlow;
pub use second_look::{SECOND_LOOK_FROM, Scored, Touch};
pub use template::{MAX_VIEWS, Template};

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
/// Of those, how many the full correlation compares, the best by a coarse correlation first.
/// The coarse surface's taper favours low frequencies, which turn less, so neighbouring rotations
/// can rank within a few hundredths of each other on it and out of their true order: the best two
/// missed the best rotation of a clean synthetic print (test
/// `the_rotations_correlated_in_full_hold_the_best_one_when_the_coarse_heights_are_close`). Four
/// cost the same two packed transforms as three.
const FINE_ROTATIONS: usize = 4;
/// Beyond them, a probe is turned where its minutiae say it lies, to this step (degrees).
const TURN_STEP: f32 = 6.0;
// A quarter circle is a whole number of steps ([`Features::band_at_step`]).
const _: () = assert!(90.0 % TURN_STEP == 0.0);
/// ... when they agree there at least this much ([`verify::Agreement::ratio`]): below it the
/// view's evidence stays far under any threshold, and the turn would cost a transform for nothing.
/// Most such turns are an impostor finger's chance poses: 0.08 rather than 0.03 saves about 7% of
/// an identification's instructions alone, 3.9% with the vote below on 5 views rather than 3,
/// which win back about as many real touches as it loses over every turn, though not those
/// turned 30° (BENCHMARKS.md, "Where the turns are tried").
const TURN_AGREEMENT: f32 = 0.08;
/// A view this sure of its pose ([`ViewMatch::evidence`]), turned or upright, has the finger's less
/// sure views tried at its turn, and this many `TURN_STEP`s to either side. Two steps cost 0.6-1.5
/// ms more per identification against 5 fingers; they changed no decision on 800 real pairs and
/// recognised 2 more of 1,200 turned synthetic touches (BENCHMARKS.md, "The third round"). Set while
/// the minutiae weighed 1.5 beside the peak (see `MINUTIAE_WEIGHT`); the figures measured since
/// include it as it is. Tried upright too since "The vote before the consensus".
const CONSENSUS_EVIDENCE: f32 = 0.12;
const CONSENSUS_STEPS: i32 = 1;
/// Where the alike minutiae pairs of all a finger's views vote for a turn beyond the rotations
/// ([`verify::turn_votes`]), this many views, those that vote for it most, are correlated there.
/// Each view more costs a correlation; 5 rather than 3 recognise a few more weak touches, most
/// turned 60° or more (BENCHMARKS.md, "The finger's turn by vote" and "Where the turns are
/// tried").
const VOTED_VIEWS: usize = 5;
/// Of a finger's views, how many are searched over every rotation of the probe: those a cheap look
/// ranks highest ([`Look`]). The others keep what their minutiae say until the consensus tries
/// them at the clearest view's pose (`try_the_clearest_turn`), and a probe turned beyond the
/// rotations is still correlated where its minutiae lay it. The finger's score takes its best two
/// views, but the cheap look ranks a weak touch's views out of order: of the 640 upright real
/// touches of `scripts/operating.sh`, searching every view accepted 509, three 504, two 492 (before
/// the consensus was tried upright).
const SEARCHED_VIEWS: usize = 3;
/// The probe rotations (indices into `ANGLES`: -6° and 6°) whose coarse heights rank the views,
/// one packed coarse transform per view. Coarse heights change slowly with the rotation (the
/// taper favours low frequencies, which turn less), so two rank the views about as four do (504 and
/// 505 of the 640 touches above).
const RANKING_ROTATIONS: [usize; 2] = [2, 4];
/// Weight of the minutiae agreement beside the correlation peak in a view's evidence. 1.0 to 2.0
/// measured alike on 300 synthetic fingers; at the threshold each weight's own synthetic impostors
/// set, 1.0 rejects 1.2–3.4 points fewer real touches than 1.5 at every turn at 160 px (1.5–7.2 at
/// 192; BENCHMARKS.md, "Weighing the peak and the minutiae"). Since the view's minutiae are also
/// sought in the probe's ridges ([`verify::confirmed`]), 0.7 separates the real genuine and impostor
/// scores best of 0.35, 0.5, 0.7, 1.0 and 1.5 (BENCHMARKS.md, "Minutiae sought in the probe's
/// ridges"); without the seeking, 0.7 gained little over 1.0.
const MINUTIAE_WEIGHT: f32 = 0.7;
/// The score at which the HAL calls a capture a match, unless configuration says otherwise.
///
/// The lowest multiple of 0.005 that keeps FAR ≤ 1/50,000 on the synthetic sets below and that no
/// real impostor comparison reaches (BENCHMARKS.md, "The operating threshold"). Synthetic:
/// `fphal-synth-bench --fingers 1000 --views 14 --attempts 150000` (14 views, the default
/// enrollment; probes turned anywhere in the full circle), 150,000 impostor identification attempts
/// (best of 5 other fingers, from 200,000 comparisons) each on fingers 1–1000 and 1001–2000
/// (`--first-id 1001`), and with templates grown to `matcher.update_max_views` (20 views, `--views
/// 20`): none accepted at 0.17; on fingers 1–1000 one look-alike pair scores 0.166 in 4 attempts
/// (6 attempts from 0.165 with 20-view templates), which holds the threshold there (fingers
/// 1001–2000 accept none from 0.16 up). Real
/// (`scripts/operating.sh`): every crop of the FVC sets at every turn against every other finger's
/// template, 84,240 comparisons at 160 px and as many at 192 px, all below 0.165 (the highest 0.161,
/// at 192 px). Every figure includes the second looks ([`Touch`]), which lift none of those
/// impostors to 0.17. At 0.17 the synthetic FRR is 0.05%, 0.25% and 0.05%.
pub const DEFAULT_THRESHOLD: f32 = 0.17;
/// The lowest threshold a configuration may set without `matcher.insecure_low_threshold`. It rests
/// on the same evidence as [`DEFAULT_THRESHOLD`] and is that threshold itself: the synthetic sets
/// keep CDD 7.3.10's FAR ≤ 1/50,000 at 0.17, grown templates included, but not at 0.165 (4
/// attempts of one look-alike pair at 0.166), and no real comparison reaches 0.165. A
/// configuration may only raise the threshold. Re-derive it with [`DEFAULT_THRESHOLD`].
pub const MIN_THRESHOLD: f32 = 0.17;
/// Scores lie in 0..=1 (1 for the same image); a threshold outside that range means nothing.
pub const SCORE_RANGE: std::ops::RangeInclusive<f32> = 0.0..=1.0;
const BAND_SIDE: usize = 2 * BAND + 1;
const BAND_LEN: usize = BAND_SIDE * BAND_SIDE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    Image(String),
    NoRidges,
    BadTemplate(String),
    /// The caller asked to stop (see [`extract_until`]).
    Stopped,
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Image(why) => write!(f, "unusable image: {why}"),
            EngineError::NoRidges => write!(f, "no ridge area found in the image"),
            EngineError::BadTemplate(why) => write!(f, "template does not decode: {why}"),
            EngineError::Stopped => write!(f, "stopped on request"),
        }
    }
}

impl std::error::Error for EngineError {}

/// The features of one capture: the unit-magnitude band spectrum of each tried rotation, where
/// the ridge area was centred on the grid, the minutiae and the patch around each.
pub struct Features {
    /// One phase band per angle of `ANGLES` (index 3 is the unrotated view).
    rotations: Vec<Spectrum>,
    /// The laid-out image, kept so that a probe can be turned further than `ANGLES` reach when
    /// its minutiae say it lies so (see [`Features::turned_pose`]).
    prepared: Prepared,
    /// Bands of such turns computed so far, by turn in `TURN_STEP` degrees.
    turned: Mutex<Vec<(i32, Spectrum)>>,
    centre: (f32, f32),
    minutiae: Vec<minutiae::Minutia>,
    patches: Vec<Patch>,
    /// The patches shifted by a sample each way, one set per minutia (see [`Nearby`]).
    nearby: Vec<Nearby>,
    clarity: f32,
    /// The enhanced image, where an enrolled view's minutiae that extraction did not find are
    /// sought ([`verify::confirmed`]), and its size.
    ridges: Vec<f32>,
    ridges_size: (usize, usize),
}

impl Drop for Features {
    fn drop(&mut self) {
        minutiae::wipe(&mut self.minutiae);
        self.ridges.zeroize();
    }
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
        minutiae::wipe(&mut self.minutiae);
    }
}

pub fn analyse(img: &GrayImage) -> Result<RidgeAnalysis, EngineError> {
    analyse_until(img, &|| false)
}

/// Fails with [`EngineError::Stopped`] when `stop` says so.
fn go_on(stop: &dyn Fn() -> bool) -> Result<(), EngineError> {
    if stop() { Err(EngineError::Stopped) } else { Ok(()) }
}

/// [`analyse`], asking `stop` between its stages.
fn analyse_until(img: &GrayImage, stop: &dyn Fn() -> bool) -> Result<RidgeAnalysis, EngineError> {
    let normalised = normalise(img)?;
    go_on(stop)?;
    let flow = ridge_flow::estimate(&normalised.pixels, &normalised.mask, normalised.w, normalised.h);
    go_on(stop)?;
    let enhanced = enhance::enhance(&normalised.pixels, &normalised.mask, &flow);
    go_on(stop)?;
    let minutiae = minutiae::extract(&enhanced, &normalised.mask, &flow);
    go_on(stop)?;
    Ok(RidgeAnalysis { normalised, flow, enhanced, minutiae })
}

/// Extracts features from a capture of any supported size and resolution.
pub fn extract(img: &GrayImage) -> Result<Features, EngineError> {
    extract_until(img, &|| false)
}

/// [`extract`], asking `stop` between its stages (a cancel need not wait for the whole
/// extraction of a large capture): [`EngineError::Stopped`] when it says so.
pub fn extract_until(img: &GrayImage, stop: &dyn Fn() -> bool) -> Result<Features, EngineError> {
    let mut analysis = analyse_until(img, stop)?;
    let mask = &analysis.normalised.mask;
    let inside: f32 = mask.iter().sum();
    let clarity = analysis.flow.coherence.iter().zip(mask).map(|(c, m)| c * m).sum::<f32>() / inside.max(1.0);
    let prepared = prepare::lay_out(&analysis.normalised);
    let minutiae = std::mem::take(&mut analysis.minutiae);
    let (w, h) = (analysis.normalised.w, analysis.normalised.h);
    // Reserved whole, so that no partial copy of the patches is left behind by a reallocation.
    let (mut patches, mut nearby) = (Vec::with_capacity(minutiae.len()), Vec::with_capacity(minutiae.len()));
    for m in &minutiae {
        let (own, shifted) = Patch::with_shifts(&analysis.enhanced, w, h, m);
        patches.push(own);
        nearby.push(shifted);
    }
    let rotations = ANGLES
        .iter()
        .map(|a| {
            go_on(stop)?;
            Ok(turned_band(&prepared, *a))
        })
        .collect::<Result<_, EngineError>>()?;
    let centre = prepared.centre;
    let ridges = std::mem::take(&mut analysis.enhanced);
    Ok(Features {
        rotations,
        prepared,
        turned: Mutex::new(Vec::new()),
        centre,
        minutiae,
        patches,
        nearby,
        clarity,
        ridges,
        ridges_size: (w, h),
    })
}

impl Features {
    /// 0..1: how clearly the ridges run in one direction over the print (mean flow coherence).
    /// Smeared, blurred or noise-ridden captures score low.
    pub fn clarity(&self) -> f32 {
        self.clarity
    }

    fn unrotated(&self) -> &Spectrum {
        &self.rotations[ANGLES.len() / 2]
    }

    fn marks(&self) -> verify::Marks<'_> {
        let (w, h) = self.ridges_size;
        verify::Marks {
            minutiae: &self.minutiae,
            patches: &self.patches,
            nearby: &self.nearby,
            ridges: Some(verify::Ridges { image: &self.ridges, w, h }),
        }
    }

    /// The correlation of this capture turned by `turn` (radians, to the nearest `TURN_STEP`)
    /// with one view's band, as a pose. Each turn's band is computed once per capture.
    fn turned_pose(&self, turn: f32, view: &template::View) -> Alignment {
        // The one view's poses, then its one turn's.
        self.turned_poses(&[turn], &[view]).remove(0).remove(0)
    }

    /// [`Features::turned_pose`] at each of `turns`, for each of `views` (poses per view, in the
    /// order of `turns`), paired as [`fft::peaks_each`] pairs them.
    fn turned_poses(&self, turns: &[f32], views: &[&template::View]) -> Vec<Vec<Alignment>> {
        // Steps of the half turn either way are the same turn: one band for both.
        let half_turn = (180.0 / TURN_STEP) as i32;
        let steps: Vec<i32> = turns
            .iter()
            .map(|turn| {
                ((turn.to_degrees() / TURN_STEP).round() as i32 + half_turn).rem_euclid(2 * half_turn) - half_turn
            })
            .collect();
        let mut turned = self.turned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let places: Vec<usize> = steps.iter().map(|step| self.band_at_step(&mut turned, *step)).collect();
        let bands: Vec<&Spectrum> = places.iter().map(|at| &turned[*at].1).collect();
        let view_bands: Vec<&Spectrum> = views.iter().map(|view| &view.band).collect();
        views
            .iter()
            .zip(fft::peaks_each(&bands, &view_bands))
            .map(|(view, peaks)| {
                let at = |(step, (peak, x, y)): (&i32, (f32, usize, usize))| {
                    Alignment::from_peak(peak, *step as f32 * TURN_STEP, (x, y), self.centre, view.centre)
                };
                steps.iter().zip(peaks).map(at).collect()
            })
            .collect()
    }

    /// The place in `turned` of the band of this capture turned by `step` `TURN_STEP`s
    /// (-180°..180°), put there unless it is. A turn a quarter circle from another is that band
    /// with its bins moved ([`Spectrum::quarters_turned`]), so only turns within 45° of upright and
    /// outside `ANGLES` (the correlation's own rotations) are transformed, and kept there too.
    fn band_at_step(&self, turned: &mut Vec<(i32, Spectrum)>, step: i32) -> usize {
        if let Some(at) = turned.iter().position(|(s, _)| *s == step) {
            return at;
        }
        // `near` in -45°..45°, whose own quarters are none: one level of recursion at most.
        let quarter = (90.0 / TURN_STEP) as i32;
        let quarters = (step + quarter / 2).div_euclid(quarter);
        let near = step - quarters * quarter;
        let band = match ANGLES.iter().position(|a| (*a - near as f32 * TURN_STEP).abs() < 1e-3) {
            Some(r) => self.rotations[r].quarters_turned(quarters),
            None if quarters == 0 => turned_band(&self.prepared, step as f32 * TURN_STEP),
            None => {
                let at = self.band_at_step(turned, near);
                turned[at].1.quarters_turned(quarters)
            }
        };
        turned.push((step, band));
        turned.len() - 1
    }
}

/// Similarity of a capture to a finger: higher is more alike; 1.0 for the same image.
///
/// Each view's evidence is the weighted mean of its correlation peak and the share of its minutiae
/// that agree (`MINUTIAE_WEIGHT`): paired, each pair weighted by how alike the ridges around its two
/// minutiae are (see [`patch`]), or, missed by the probe's extraction, found in its ridges
/// ([`verify::confirmed`]);
/// the finger's score is the mean of its two best views (one view if it has only one). A second
/// view that agrees is what a real touch of an enrolled finger has and a chance peak lacks.
pub fn score(probe: &Features, template: &Template) -> f32 {
    score_of(&view_matches(probe, template))
}

/// The score of a finger from its views' matches (see [`score`]).
pub fn score_of(matches: &[ViewMatch]) -> f32 {
    let mut evidence: Vec<f32> = matches.iter().map(ViewMatch::evidence).collect();
    evidence.sort_by(|a, b| b.total_cmp(a));
    let best = &evidence[..evidence.len().min(2)];
    best.iter().sum::<f32>() / best.len().max(1) as f32
}

/// How a capture lies on one enrolled view, and how far their minutiae agree there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewMatch {
    /// Height of the correlation peak whose pose was taken: the best over the probe's rotations, or,
    /// when minutiae showed the probe turned further than those reach (or another view's turn was
    /// tried), the peak of the probe turned there, which may be lower; 0 for a view not correlated.
    pub peak: f32,
    /// How their minutiae agree: under that peak's pose, or under one that lays a probe minutia
    /// on a view minutia with alike surroundings, whichever pairs the larger share (see
    /// [`verify::best_agreement`]); under a turned correlation's pose when one was taken; for a
    /// view not correlated, the anchored poses' alone ([`verify::anchored_agreement`]). The view's
    /// minutiae that the probe's extraction missed are sought in its ridges ([`verify::confirmed`]).
    pub minutiae: verify::Agreement,
    /// That pose: how the probe lies on the view; `None` when the view was not correlated (it was
    /// not among the views a cheap look ranks highest, see [`view_matches`], its minutiae did not
    /// lay the probe beyond the rotations with enough agreement for a turned correlation, and
    /// neither the vote nor the consensus tried it).
    pub pose: Option<Alignment>,
}

impl ViewMatch {
    /// Correlation and minutiae agreement in one number, 0..1 (1.0 for the same image).
    pub fn evidence(&self) -> f32 {
        evidence(self.peak, self.minutiae.ratio())
    }

    /// Whether the probe lies where the view lay ([`Alignment::same_place`]); false for a view not
    /// correlated.
    pub fn same_place(&self) -> bool {
        self.pose.is_some_and(|pose| pose.same_place())
    }
}

/// The probe against each enrolled view of a finger.
///
/// Every view gets a cheap look first (`Look`: coarse heights at two rotations and the minutiae's
/// anchored agreement); the `SEARCHED_VIEWS` it ranks highest are correlated over every rotation,
/// and the rest keep the agreement of their minutiae until the consensus below (impostors mostly
/// score lower than with every view searched, and a few weak genuine touches too, see
/// BENCHMARKS.md, "The third round"). A finger turned
/// further than the correlation's rotations reach is found view by view through its minutiae
/// ([`verify::best_agreement`]); where the alike minutiae pairs of all the views vote for a turn
/// beyond the rotations, the views that vote for it most are tried there (`try_the_voted_turn`),
/// and then the clearest turned pose and the clearest upright one (found by the correlation, a
/// view's own minutiae or the vote) are each tried on the views less sure than it, at its turn and
/// a step to either side (`try_the_clearest_turn`: a finger's views lie within a few tens of
/// degrees of each other).
/// The agreement each view ends with is [`verify::confirmed`]: the view's minutiae that the probe's
/// extraction missed are sought in its ridges. So are both poses a searched view weighs (the
/// correlated and the anchored one) and a turned correlation's; the turns tried at another view's
/// turn are weighed on the minutiae the probe shows and the best is confirmed; the cheap look and
/// the choice among anchored poses use the minutiae the probe shows (seeking for every anchored
/// pose lifted impostors as much as genuine touches).
pub fn view_matches(probe: &Features, template: &Template) -> Vec<ViewMatch> {
    let matches = view_matches_searching(probe, template, SEARCHED_VIEWS);
    fft::wipe_scratch();
    matches
}

/// [`view_matches`] with `searched` views correlated over every rotation (the scratch buffers
/// left as they are).
fn view_matches_searching(probe: &Features, template: &Template, searched: usize) -> Vec<ViewMatch> {
    let tapered = tapered(&probe.rotations);
    let ranking: Vec<&fft::Tapered> = RANKING_ROTATIONS.iter().map(|r| &tapered[*r]).collect();
    let looks: Vec<Look> = template.views.iter().map(|view| Look::at(probe, view, &ranking)).collect();
    let votes: Vec<[f32; verify::TURN_BINS]> = looks.iter().map(|look| look.votes).collect();
    let searched = verify::best_first(looks.iter().map(Look::estimate), searched);
    let mut heights = rest_heights(&tapered, &searched.iter().map(|i| &template.views[*i]).collect::<Vec<_>>());
    let mut matches: Vec<ViewMatch> = template
        .views
        .iter()
        .zip(looks)
        .enumerate()
        .map(|(i, (view, look))| match searched.iter().position(|s| *s == i) {
            Some(k) => view_match(probe, view, look, std::mem::take(&mut heights[k])),
            None => turned_further(probe, view, None, look.anchored.unwrap_or_default()),
        })
        .collect();
    // The vote first, so that a turn only the vote found is spread to the other views too; then the
    // clearest turned pose, then the clearest upright one (one clearest over both would give up the
    // turned consensus where an upright view is clearer). 16 more of 1,600 real touches accepted at
    // 0.17, and 12 more of the 640 of the same skin turned back upright, for 3 M instructions
    // (BENCHMARKS.md, "The vote before the consensus").
    try_the_voted_turn(probe, template, &votes, &mut matches);
    try_the_clearest_turn(probe, template, &mut matches, true);
    try_the_clearest_turn(probe, template, &mut matches, false);
    matches
}

/// A cheap first look at a view: the coarse heights of the probe at `RANKING_ROTATIONS`, and how
/// their minutiae agree under the poses alike minutiae set ([`verify::anchored_agreement`]).
struct Look {
    heights: Vec<f32>,
    anchored: Option<verify::Agreement>,
    /// The turns the alike minutiae pairs vote for ([`verify::anchored_agreement_voting`]).
    votes: [f32; verify::TURN_BINS],
}

impl Look {
    fn at(probe: &Features, view: &template::View, ranking: &[&fft::Tapered]) -> Look {
        let mut votes = [0.0; verify::TURN_BINS];
        let anchored = verify::anchored_agreement_voting(probe.marks(), view.marks(), &mut votes);
        Look { heights: fft::coarse_peaks(ranking, &view.band), anchored, votes }
    }

    /// What the view's evidence may be, as [`ViewMatch::evidence`] weighs it.
    fn estimate(&self) -> f32 {
        let peak = self.heights.iter().copied().fold(0.0, f32::max);
        evidence(peak, self.anchored.map_or(0.0, |a| a.ratio()))
    }
}

/// A view's evidence from its correlation peak and the share of minutiae that agree, weighed by
/// `MINUTIAE_WEIGHT`.
fn evidence(peak: f32, minutiae: f32) -> f32 {
    (peak + MINUTIAE_WEIGHT * minutiae) / (1.0 + MINUTIAE_WEIGHT)
}

/// Where one view found the probe clearly enough at a pose `turned` beyond the rotations (or, when
/// not `turned`, within them), the views that are less sure are tried at its turn and a step to
/// either side. Upright too: only `SEARCHED_VIEWS` views are correlated over the rotations, and a
/// weak touch's other views, left with their minutiae alone, often hold its second best match.
fn try_the_clearest_turn(probe: &Features, template: &Template, matches: &mut [ViewMatch], turned: bool) {
    let clearest = matches
        .iter()
        .filter_map(|m| {
            m.pose.filter(|pose| is_turned(pose.degrees) == turned).map(|pose| (m.evidence(), pose.degrees))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let Some((evidence, degrees)) = clearest.filter(|(evidence, _)| *evidence >= CONSENSUS_EVIDENCE) else { return };
    let turns: Vec<f32> = (-CONSENSUS_STEPS..=CONSENSUS_STEPS)
        .map(|k| ((degrees + k as f32 * TURN_STEP + 180.0).rem_euclid(360.0) - 180.0).to_radians())
        .collect();
    // The views less sure than the clearest, all correlated at once (see `Features::turned_poses`).
    let tried: Vec<usize> =
        (0..matches.len().min(template.views.len())).filter(|i| matches[*i].evidence() < evidence).collect();
    if tried.is_empty() {
        return; // no band to turn
    }
    let views: Vec<&template::View> = tried.iter().map(|i| &template.views[*i]).collect();
    for ((&i, view), poses) in tried.iter().zip(&views).zip(probe.turned_poses(&turns, &views)) {
        let m = &mut matches[i];
        // The turns are judged on the minutiae the probe shows, and the best of them is confirmed.
        let at_turns = poses.into_iter().map(|turned| ViewMatch {
            peak: turned.score.max(0.0),
            minutiae: verify::agreement(probe.marks(), view.marks(), |x, y| turned.map(x, y))
                .at_turn(turned.degrees.to_radians()),
            pose: Some(turned),
        });
        if let Some(best) = at_turns.max_by(|a, b| a.evidence().total_cmp(&b.evidence())) {
            let best = ViewMatch { minutiae: verify::confirmed(probe.marks(), view.marks(), &best.minutiae), ..best };
            if best.evidence() > m.evidence() {
                *m = best;
            }
        }
    }
}

/// Where the finger's views vote for a turn beyond the rotations (`votes`, one per view, as
/// [`verify::turn_votes`] counts them; summed over the views), the probe is turned there and
/// correlated with the `VOTED_VIEWS` views that vote for it most; a view keeps that pose where its
/// evidence is higher. A weak touch turned far often has no view whose own alike pairs support an
/// anchor, or one at a chance turn: then no view is correlated at the true turn, and the consensus
/// (`try_the_clearest_turn`, which comes after) has nothing to spread but what the vote finds.
fn try_the_voted_turn(
    probe: &Features,
    template: &Template,
    votes: &[[f32; verify::TURN_BINS]],
    matches: &mut [ViewMatch],
) {
    let Some((bin, degrees)) = voted_turn(votes) else { return };
    if !is_turned(degrees) {
        return; // the correlation's own rotations reach it
    }
    let turned = turned_band(&probe.prepared, degrees);
    let voted: Vec<usize> = verify::best_first(votes.iter().map(|v| smoothed(v, bin)), VOTED_VIEWS)
        .into_iter()
        .filter(|i| *i < template.views.len().min(matches.len()))
        .collect();
    let bands: Vec<&Spectrum> = voted.iter().map(|i| &template.views[*i].band).collect();
    for (&i, (peak, x, y)) in voted.iter().zip(fft::peaks_against(&turned, &bands)) {
        let (view, m) = (&template.views[i], &mut matches[i]);
        let pose = Alignment::from_peak(peak, degrees, (x, y), probe.centre, view.centre);
        let there = ViewMatch {
            peak: peak.max(0.0),
            minutiae: confirmed_at(probe, view, pose).at_turn(degrees.to_radians()),
            pose: Some(pose),
        };
        if there.evidence() > m.evidence() {
            *m = there;
        }
    }
}

/// The votes in `bin` and its two neighbours (1 : 2 : 1), of one view or summed over several: a
/// turn between two bins counts whole.
fn smoothed(votes: &[f32], bin: usize) -> f32 {
    let n = votes.len();
    votes[(bin + n - 1) % n] + 2.0 * votes[bin] + votes[(bin + 1) % n]
}

/// The bin the views' votes summed stand highest at (smoothed), and the turn there (degrees,
/// -180..180) refined to the votes' mean turn over that bin and two to either side (a bin is 3°);
/// `None` without votes.
fn voted_turn(votes: &[[f32; verify::TURN_BINS]]) -> Option<(usize, f32)> {
    let n = verify::TURN_BINS;
    let total: Vec<f32> = (0..n).map(|b| votes.iter().map(|v| v[b]).sum()).collect();
    let best = verify::best_first((0..n).map(|b| smoothed(&total, b)), 1)[0];
    let (mut sin, mut cos) = (0.0f32, 0.0f32);
    for k in -2i32..=2 {
        let b = (best as i32 + k).rem_euclid(n as i32) as usize;
        let (s, c) = (b as f32 * TAU / n as f32).sin_cos();
        (sin, cos) = (sin + total[b] * s, cos + total[b] * c);
    }
    (sin != 0.0 || cos != 0.0).then(|| (best, sin.atan2(cos).to_degrees()))
}

/// How the minutiae agree under a correlation's `pose`, the view's unpaired ones sought in the
/// probe's ridges.
fn confirmed_at(probe: &Features, view: &template::View, pose: Alignment) -> verify::Agreement {
    let found = verify::agreement(probe.marks(), view.marks(), |x, y| pose.map(x, y));
    verify::confirmed(probe.marks(), view.marks(), &found)
}

/// Whether a pose lies beyond the rotations the correlation tries.
fn is_turned(degrees: f32) -> bool {
    degrees.abs() > ANGLES[ANGLES.len() - 1] + TURN_STEP / 2.0
}

/// The coarse heights of the probe's rotations besides `RANKING_ROTATIONS` (`tapered`) against
/// each of `views`, every rotation's place filled (the ranking ones with 0), paired as
/// [`fft::coarse_peaks_each`] pairs them.
fn rest_heights(tapered: &[fft::Tapered], views: &[&template::View]) -> Vec<Vec<f32>> {
    let rest: Vec<usize> = (0..ANGLES.len()).filter(|r| !RANKING_ROTATIONS.contains(r)).collect();
    let bands: Vec<&fft::Tapered> = rest.iter().map(|r| &tapered[*r]).collect();
    let view_bands: Vec<&Spectrum> = views.iter().map(|view| &view.band).collect();
    fft::coarse_peaks_each(&bands, &view_bands)
        .into_iter()
        .map(|rest_heights| {
            let mut heights = vec![0.0; ANGLES.len()];
            for (r, h) in rest.iter().zip(rest_heights) {
                heights[*r] = h;
            }
            heights
        })
        .collect()
}

/// The probe against one view, searched over every rotation: the look's heights at
/// `RANKING_ROTATIONS`, the others' in `heights` ([`rest_heights`]).
fn view_match(probe: &Features, view: &template::View, look: Look, mut heights: Vec<f32>) -> ViewMatch {
    for (r, h) in RANKING_ROTATIONS.iter().zip(&look.heights) {
        heights[*r] = *h;
    }
    let pose = finest_rotation(&probe.rotations, &heights, probe.centre, &view.band, view.centre);
    let correlated = verify::agreement(probe.marks(), view.marks(), |x, y| pose.map(x, y));
    let confirmed = |found: &verify::Agreement| verify::confirmed(probe.marks(), view.marks(), found);
    turned_further(
        probe,
        view,
        Some(pose),
        verify::better_of(confirmed(&correlated), look.anchored.as_ref().map(confirmed)),
    )
}

/// A view's match from its pose (if correlated) and the best agreement of minutiae found so far:
/// where the minutiae laid the probe at a turn the correlation did not try, its peak there counts,
/// and the pose of that peak pairs minutiae as the unturned one does.
fn turned_further(
    probe: &Features,
    view: &template::View,
    pose: Option<Alignment>,
    minutiae: verify::Agreement,
) -> ViewMatch {
    let mut minutiae = verify::confirmed(probe.marks(), view.marks(), &minutiae);
    let pose = match minutiae.turn {
        Some(turn) if is_turned(turn.to_degrees()) && minutiae.ratio() >= TURN_AGREEMENT => {
            let turned = probe.turned_pose(turn, view);
            let there = confirmed_at(probe, view, turned);
            if there.ratio() > minutiae.ratio() {
                minutiae = there.at_turn(turn);
            }
            Some(turned)
        }
        _ => pose,
    };
    ViewMatch { peak: pose.map_or(0.0, |p| p.score.max(0.0)), minutiae, pose }
}

/// A capture's rotations tapered for the coarse correlation ([`Spectrum::tapered`]): once for all
/// the bands they are compared with.
fn tapered(rotations: &[Spectrum]) -> Vec<fft::Tapered> {
    rotations.iter().map(Spectrum::tapered).collect()
}

/// The probe's rotation and shift with the highest correlation peak against one view's band
/// (`tapered`: the probe's rotations, [`tapered`]).
fn best_pose(probe: &Features, tapered: &[fft::Tapered], band: &Spectrum, centre: (f32, f32)) -> Alignment {
    best_rotation(&probe.rotations, tapered, probe.centre, band, centre)
}

/// Of `rotations` (the bands of one capture at each of `ANGLES`, centred at `centre_a`; `tapered`
/// the same, [`tapered`]), the rotation and shift with the highest correlation peak against `band`
/// (centred at `centre_b`).
fn best_rotation(
    rotations: &[Spectrum],
    tapered: &[fft::Tapered],
    centre_a: (f32, f32),
    band: &Spectrum,
    centre_b: (f32, f32),
) -> Alignment {
    let heights = fft::coarse_peaks(&tapered.iter().collect::<Vec<_>>(), band);
    finest_rotation(rotations, &heights, centre_a, band, centre_b)
}

/// [`best_rotation`] from the coarse `heights` of each rotation: the `FINE_ROTATIONS` highest are
/// correlated in full.
fn finest_rotation(
    rotations: &[Spectrum],
    heights: &[f32],
    centre_a: (f32, f32),
    band: &Spectrum,
    centre_b: (f32, f32),
) -> Alignment {
    let mut order = verify::best_first(heights.iter().copied(), FINE_ROTATIONS);
    order.sort_unstable();
    let chosen: Vec<&Spectrum> = order.iter().map(|r| &rotations[*r]).collect();
    let (mut peak, mut at) = (-1.0f32, (0, 0, 0));
    for (r, (p, x, y)) in order.iter().zip(fft::correlation_peaks(&chosen, band)) {
        if p > peak {
            (peak, at) = (p, (*r, x, y));
        }
    }
    Alignment::from_peak(peak, ANGLES[at.0], (at.1, at.2), centre_a, centre_b)
}

/// The phase band of a laid-out capture turned by `degrees` (its rows go straight into the transform).
fn turned_band(prepared: &Prepared, degrees: f32) -> Spectrum {
    fft::phase_band(|row| prepared.turn_rows(degrees, row))
}

/// Whether a capture shows skin that none of a finger's views shows, from its `matches` with them
/// ([`view_matches`]): false when it lies where one of them lay ([`Alignment::same_place`]). A view
/// whose match has no pose, or one within the rotations that is not the same place, is correlated
/// over the rotations here: a touch lying where a view lay mostly ranks that view among the
/// searched ones, but a weak touch need not, and another view's consensus may have laid it a step
/// off (`try_the_clearest_turn`).
pub fn shows_new_skin(probe: &Features, template: &Template, matches: &[ViewMatch]) -> bool {
    // Tapered only if a view needs correlating, and then once for all of them.
    let probe_tapered = std::cell::OnceCell::new();
    let correlated = |view: &template::View| {
        best_pose(probe, probe_tapered.get_or_init(|| tapered(&probe.rotations)), &view.band, view.centre)
    };
    let new = template.views.iter().zip(matches).all(|(view, m)| match m.pose {
        Some(pose) if pose.same_place() => false,
        // Beyond the rotations: no pose the rotations try could be the same place either.
        Some(pose) if is_turned(pose.degrees) => true,
        _ => !correlated(view).same_place(),
    });
    fft::wipe_scratch();
    new
}

/// A touch this well correlated with an earlier one ...
const SAME_PLACE_PEAK: f32 = 0.25;
/// ... and moved less than this (pixels at 500 dpi) and ...
const SAME_PLACE_SHIFT: f32 = 12.0;
/// ... turned less than this (degrees) shows almost no skin the earlier one did not.
const SAME_PLACE_TURN: f32 = 6.0;

/// Whether a touch shows skin the `earlier` touches of an enrollment do not: false when it lies
/// where one of them lay.
pub fn adds_area(touch: &Features, earlier: &[Features]) -> bool {
    let touch_tapered = tapered(&touch.rotations);
    let adds = earlier.iter().all(|e| !best_pose(touch, &touch_tapered, e.unrotated(), e.centre).same_place());
    fft::wipe_scratch();
    adds
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
    /// The pose a correlation peak at surface cell `at` stands for.
    fn from_peak(
        score: f32,
        degrees: f32,
        at: (usize, usize),
        centre_a: (f32, f32),
        centre_b: (f32, f32),
    ) -> Alignment {
        let cell = (GRID / SURFACE) as f32;
        let wrap = |v: usize| {
            let p = v as f32 * cell;
            if p >= GRID as f32 / 2.0 { p - GRID as f32 } else { p }
        };
        Alignment { score, degrees, shift: (wrap(at.0), wrap(at.1)), centre_a, centre_b }
    }

    /// Whether the first capture lies where the second lay: a clear peak, little shift, little
    /// rotation. Such a capture shows almost no skin the second does not.
    pub fn same_place(&self) -> bool {
        let (cx, cy) = self.centre_a;
        let (x, y) = self.map(cx, cy);
        let moved = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
        self.score >= SAME_PLACE_PEAK && moved < SAME_PLACE_SHIFT && self.degrees.abs() < SAME_PLACE_TURN
    }

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
    let rotations: Vec<Spectrum> = ANGLES.iter().map(|deg| turned_band(&pa, *deg)).collect();
    let best = best_rotation(&rotations, &tapered(&rotations), pa.centre, &turned_band(&pb, 0.0), pb.centre);
    fft::wipe_scratch();
    Ok(best)
}

/// Similarity of two single captures (used by tools and tests).
pub fn score_pair(a: &Features, b: &Features) -> f32 {
    let peaks = fft::correlation_peaks(&a.rotations.iter().collect::<Vec<_>>(), b.unrotated());
    fft::wipe_scratch();
    peaks.into_iter().map(|(peak, _, _)| peak).fold(0.0, f32::max)
}

#[cfg(test)]
pub(crate) mod tests;
