//! Minutiae agreement under a pose found by phase correlation. Correlation alone finds a peak
//! between any two prints with similar ridge spacing; whether the ridge endings and forks then
//! fall on each other, with the same ridges around them, is what tells one finger from another.
//! Where the peak stands at the wrong pose (little overlap, stretched skin), a few minutiae with
//! alike surroundings set the pose instead ([`best_agreement`]).

use super::minutiae::Minutia;
use super::patch::{Nearby, Patch};
use std::f32::consts::{PI, TAU};

/// Two minutiae closer than this (pixels at 500 dpi) after the correlation pose may be the same
/// one; the pairs found so say how far the pose is off (skin stretches, the peak is coarse) ...
const LOOSE_DISTANCE: f32 = 12.0;
/// ... and after that correction, pairs must be this close. A pose between different fingers
/// pairs minutiae at scattered offsets, so the correction does not bring them closer.
const TIGHT_DISTANCE: f32 = 5.0;
/// Skin stretches differently across a print, so each minutia is corrected by the median offset
/// of the loose pairs within this distance of it (pixels) ...
const LOCAL_REACH: f32 = 40.0;
/// ... when there are at least this many; otherwise by the median offset of all pairs.
const LOCAL_PAIRS: usize = 3;
/// Besides the correlation pose, poses that lay one minutia on another are tried: this many ...
const ANCHORS: usize = 4;
/// ... near upright; turned further (a finger may be turned by any angle), chosen among this many
/// pairs of minutiae, the most alike by patch (a patch is
/// sampled in its minutia's own frame, so a finger turned by any angle gives the same patches) ...
const CANDIDATES: usize = 16;
/// ... each at least this alike; ...
const ANCHOR_LIKENESS: f32 = 0.6;
/// ... only those that another candidate agrees with are kept, the most supported first: a
/// candidate supports another when the
/// pose of the one lays the other's probe minutia within this distance (pixels) of its partner ...
const SUPPORT_DISTANCE: f32 = 16.0;
/// ... turned alike within this (radians, 20°). Between different fingers, the most alike pairs
/// scatter over poses; on the same finger, several stand at one pose.
const SUPPORT_TURN: f32 = PI / 9.0;
/// A supporter at least this far (pixels) from an anchor sets its turn (see [`Anchor::steadied`]).
const STEADY_LENGTH: f32 = 30.0;
/// Anchors whose minutiae are turned by at most this (radians, 30°) are the most alike pairs, as
/// before the search for turned fingers (the correlation itself tries ±18°; a steadied turned
/// anchor may still come out under 30°).
const ANCHOR_TURN: f32 = PI / 6.0;
/// Only the minutiae most clearly seen on each side are looked at for turned anchors (by quality): the
/// search costs their product in patch comparisons.
const ANCHOR_MINUTIAE: usize = 24;
/// Paired minutiae also point the same way, within this (radians, 30°).
const PAIR_ANGLE: f32 = PI / 6.0;
/// Length of the step along a minutia's direction used to carry the direction through the pose.
const DIRECTION_STEP: f32 = 6.0;

/// A minutia lies in the common area of two captures if the other has one within this distance.
const OVERLAP_REACH: f32 = 28.0;

/// A view minutia of the common area that no probe minutia paired is sought in the probe's own
/// ridges ([`confirmed`]): the patch there, under the pose, counts for the share by how far its
/// likeness rises above this, rescaled to 0..1. A weak touch's extraction misses minutiae its
/// ridges still show (under a 2% rescale only 70% of a weak touch's minutiae are found again);
/// plain ridges beside another finger's minutia reach a likeness of about 0.5 at the best of the
/// shifts, so only what rises above that counts. 0.5, 0.6, 0.65, 0.7 and 0.8 measured; see
/// BENCHMARKS.md, "Minutiae sought in the probe's ridges".
const SOUGHT_LIKENESS: f32 = 0.65;

/// How the minutiae of two captures agree under a pose.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Agreement {
    /// Minutiae with a partner in the other capture (each used once, closest pairs first).
    pub pairs: usize,
    /// The pairs' patch similarities summed (negative ones as 0; for each pair the best of the
    /// probe's own patch and its shifts, see [`Marks::nearby`]): a pair whose surrounding ridges
    /// differ counts for little. 0 when either side has no patches (old templates). Once
    /// [`Agreement::sought`], it also holds what was found of the view's unpaired minutiae.
    pub likeness: f32,
    /// Minutiae of each capture in the area both show.
    pub probe_common: usize,
    pub view_common: usize,
    /// The turn (radians, -π..π) of the pose that gave this agreement when it was not the
    /// correlation's over the rotations: an anchored pose's, or a pose tried at a turn (turned, or
    /// upright where another view's consensus set it); `None` for the pose of the search over the
    /// rotations.
    pub turn: Option<f32>,
    /// Whether the view's unpaired minutiae of the common area were sought in the probe's ridges
    /// ([`confirmed`]): then `likeness` includes what was found of them, and the share is of the
    /// view's minutiae alone.
    pub sought: bool,
    /// The pose itself, kept so that [`confirmed`] can lay the probe there again.
    pose: Affine,
    /// The pair that set the pose, if an anchor did (it is not counted again).
    anchor: Option<Pair>,
}

/// A map whose determinant is this close to 0 is no pose (every pose here turns and shifts: its
/// determinant is 1).
const MIN_DET: f32 = 1e-3;

/// A pose as a map of the plane: (x, y) goes to (a x + b y + c, d x + e y + f).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Affine([f32; 6]);

impl Affine {
    /// The map `pose` is (every pose here turns and shifts: three points say which).
    fn of(pose: &impl Fn(f32, f32) -> (f32, f32)) -> Affine {
        let ((c, f), (ax, ay), (bx, by)) = (pose(0.0, 0.0), pose(1.0, 0.0), pose(0.0, 1.0));
        Affine([ax - c, bx - c, c, ay - f, by - f, f])
    }

    fn map(&self, x: f32, y: f32) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + b * y + c, d * x + e * y + f)
    }

    /// How the map scales areas; near 0 for a map that flattens the plane.
    fn det(&self) -> f32 {
        let [a, b, _, d, e, _] = self.0;
        a * e - b * d
    }

    /// Whether this is a pose at all: [`Agreement::default`]'s map flattens the plane to a point.
    fn is_pose(&self) -> bool {
        self.det().abs() > MIN_DET
    }

    /// The point that maps to (x, y); `None` for a map that is not a pose.
    fn source(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        if !self.is_pose() {
            return None; // NaN entries are no pose either
        }
        let ([a, b, c, d, e, f], det) = (self.0, self.det());
        let (x, y) = (x - c, y - f);
        Some(((e * x - b * y) / det, (a * y - d * x) / det))
    }

    /// How far the map turns a direction (radians).
    fn turn(&self) -> f32 {
        self.0[3].atan2(self.0[0])
    }
}

/// Below this many minutiae in the common area, the ratio is taken over this many: a handful of
/// pairs among a handful of minutiae is too easily chance.
const FEWEST_COMMON: usize = 10;

impl Agreement {
    /// 0..1: the share of the common area's minutiae that paired with alike surroundings
    /// (pairs weighted by patch similarity, over the geometric mean of both sides' counts). Once
    /// the view's minutiae were sought in the probe's ridges ([`Agreement::sought`]), the share is
    /// of the view's minutiae alone: each of them was then paired or looked for, and a weak touch's
    /// own count is swollen by minutiae its extraction made up (21 per real crop against 14 for good
    /// touches).
    pub fn ratio(&self) -> f32 {
        let view = self.view_common.max(FEWEST_COMMON);
        let probe = if self.sought { view } else { self.probe_common.max(FEWEST_COMMON) };
        (self.likeness / ((probe * view) as f32).sqrt()).min(1.0)
    }

    /// This agreement, found at a pose turned by `turn` (radians).
    pub fn at_turn(self, turn: f32) -> Agreement {
        Agreement { turn: Some(turn), ..self }
    }
}

/// One capture's minutiae and, when known, the patch around each (same order).
#[derive(Clone, Copy)]
pub struct Marks<'a> {
    pub minutiae: &'a [Minutia],
    /// Empty, or one per minutia.
    pub patches: &'a [Patch],
    /// Empty, or one per minutia: a probe's patches shifted by a sample (a template's views have none).
    pub nearby: &'a [Nearby],
    /// A probe's enhanced image, where the view's unpaired minutiae are sought ([`confirmed`]; a
    /// template's views keep none).
    pub ridges: Option<Ridges<'a>>,
}

/// An enhanced ridge image (see [`super::enhance`]) and its size.
#[derive(Clone, Copy)]
pub struct Ridges<'a> {
    pub image: &'a [f32],
    pub w: usize,
    pub h: usize,
}

impl Marks<'_> {
    fn patch(&self, i: usize) -> Option<&Patch> {
        if self.patches.len() == self.minutiae.len() { self.patches.get(i) } else { None }
    }

    /// How alike minutia `i`'s surroundings are to `other`'s patch: the best of its own patch and
    /// its shifts ([`Nearby`]), when it has them.
    fn likeness(&self, i: usize, other: &Patch) -> Option<f32> {
        let own = self.patch(i)?;
        Some(match self.nearby.get(i) {
            Some(nearby) if self.nearby.len() == self.minutiae.len() => nearby.best_similarity(own, other),
            _ => own.similarity(other),
        })
    }
}

/// A probe minutia carried by a pose into the view's coordinates.
#[derive(Debug, Clone, Copy)]
struct Placed {
    x: f32,
    y: f32,
    direction: f32,
}

/// Where a loosely paired probe minutia lies, and how far its partner lies from it.
#[derive(Debug, Clone, Copy)]
struct Offset {
    x: f32,
    y: f32,
    dx: f32,
    dy: f32,
}

/// A probe minutia and a view minutia taken for the same one, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pair {
    probe: usize,
    view: usize,
}

/// Whether (dx, dy) is at most `reach` long: squares compared, no square root (or library call).
fn within(dx: f32, dy: f32, reach: f32) -> bool {
    dx * dx + dy * dy <= reach * reach
}

/// The median shift of `offsets`, per axis.
fn median_offset(offsets: &[&Offset]) -> (f32, f32) {
    (median(offsets.iter().map(|o| o.dx)), median(offsets.iter().map(|o| o.dy)))
}

/// How far skin at a point is corrected: the median shift of the loose pairs `near` it when there
/// are `LOCAL_PAIRS` of them, else `overall` (that of every pair).
fn local_offset(near: &[&Offset], overall: (f32, f32)) -> (f32, f32) {
    if near.len() >= LOCAL_PAIRS { median_offset(near) } else { overall }
}

/// Carries the minutiae of `probe` by `pose` into the view's coordinates and pairs them up.
/// `pose` must turn and shift (as every correlation and anchor pose does): it is kept as the affine
/// map three points give, for [`confirmed`] to lay the probe there again.
pub fn agreement(probe: Marks, view_marks: Marks, pose: impl Fn(f32, f32) -> (f32, f32)) -> Agreement {
    agreement_besides(probe, view_marks, pose, None)
}

/// [`agreement`], leaving out the pair `anchor` that set the pose: it
/// was chosen for its likeness, not found by the pose, and counting it lifts every comparison
/// (the median real impostor score rose from 0.044 to 0.070 with it counted).
fn agreement_besides(
    probe: Marks,
    view_marks: Marks,
    pose: impl Fn(f32, f32) -> (f32, f32),
    anchor: Option<Pair>,
) -> Agreement {
    paired_at(probe, view_marks, Affine::of(&pose), anchor, None)
}

/// The agreement `found` under its own pose, with the view's unpaired minutiae of the common area
/// sought in the probe's ridges: where the probe's extraction missed a minutia its ridges still
/// show, the patch under the pose is alike, and it counts (see `SOUGHT_LIKENESS`). `found` as it
/// is when already sought, when it has no pose (no anchor was found), or when the probe keeps no
/// ridges.
pub fn confirmed(probe: Marks, view: Marks, found: &Agreement) -> Agreement {
    match probe.ridges {
        Some(ridges) if !found.sought && found.pose.is_pose() => {
            Agreement { turn: found.turn, ..paired_at(probe, view, found.pose, found.anchor, Some(ridges)) }
        }
        _ => *found,
    }
}

/// [`agreement_besides`] under `pose`, seeking the view's unpaired minutiae in `ridges` if given.
fn paired_at(probe: Marks, view_marks: Marks, pose: Affine, anchor: Option<Pair>, ridges: Option<Ridges>) -> Agreement {
    let view = view_marks.minutiae;
    let mut moved: Vec<Placed> = probe
        .minutiae
        .iter()
        .map(|m| {
            let (x, y) = pose.map(m.x, m.y);
            let (ax, ay) = pose.map(m.x + DIRECTION_STEP * m.direction.cos(), m.y + DIRECTION_STEP * m.direction.sin());
            Placed { x, y, direction: (ay - y).atan2(ax - x) }
        })
        .collect();
    let mut found = pair_up(&moved, view, LOOSE_DISTANCE);
    let mut offsets: Vec<Offset> = Vec::new();
    // No correction without at least two loose pairs.
    let mut overall = (0.0, 0.0);
    if found.len() >= 2 {
        offsets = found
            .iter()
            .map(|p| {
                let (m, v) = (moved[p.probe], &view[p.view]);
                Offset { x: m.x, y: m.y, dx: v.x - m.x, dy: v.y - m.y }
            })
            .collect();
        overall = median_offset(&offsets.iter().collect::<Vec<_>>());
        for m in &mut moved {
            let near: Vec<&Offset> = offsets.iter().filter(|o| within(o.x - m.x, o.y - m.y, LOCAL_REACH)).collect();
            let (dx, dy) = local_offset(&near, overall);
            m.x += dx;
            m.y += dy;
        }
        found = pair_up(&moved, view, TIGHT_DISTANCE);
    }
    found.retain(|pair| Some(*pair) != anchor);
    let pairs = found.len();
    let mut likeness: f32 =
        found.iter().filter_map(|p| Some(probe.likeness(p.probe, view_marks.patch(p.view)?)?.max(0.0))).sum();
    let near = |m: &Placed, v: &Minutia| within(m.x - v.x, m.y - v.y, OVERLAP_REACH);
    let probe_common = moved.iter().filter(|m| view.iter().any(|v| near(m, v))).count();
    let view_common = view.iter().filter(|v| moved.iter().any(|m| near(m, v))).count();
    if let Some(ridges) = ridges {
        // The anchor's own minutia is neither paired nor sought: the pose lays it on its partner
        // by construction, and it was chosen for its likeness.
        let unpaired =
            (0..view.len()).filter(|j| !found.iter().any(|p| p.view == *j) && anchor.is_none_or(|a| a.view != *j));
        for j in unpaired.filter(|j| moved.iter().any(|m| near(m, &view[*j]))) {
            if let Some(patch) = view_marks.patch(j) {
                likeness += sought(&view[j], patch, &offsets, overall, pose, ridges);
            }
        }
    }
    wipe_positions(&mut moved, &mut offsets);
    Agreement { pairs, likeness, probe_common, view_common, turn: None, sought: ridges.is_some(), pose, anchor }
}

/// Overwrites where the probe's minutiae were laid and how far they moved (they trace the print,
/// as the minutiae do, see [`super::minutiae::wipe`]).
fn wipe_positions(moved: &mut [Placed], offsets: &mut [Offset]) {
    use zeroize::Zeroize;
    for m in moved {
        m.x.zeroize();
        m.y.zeroize();
        m.direction.zeroize();
    }
    for o in offsets {
        o.x.zeroize();
        o.y.zeroize();
        o.dx.zeroize();
        o.dy.zeroize();
    }
}

/// What view minutia `v` (with `patch` around it) counts for when sought in the probe's `ridges`:
/// the probe's patch where `pose`, corrected as the loose pairs' `offsets` (`overall` for them all)
/// say about `v`, lays it (the best of that patch and its shifts by a sample), by how far its
/// likeness rises above `SOUGHT_LIKENESS`, 0..1.
fn sought(v: &Minutia, patch: &Patch, offsets: &[Offset], overall: (f32, f32), pose: Affine, ridges: Ridges) -> f32 {
    // The correction that moved probe minutiae near `v` onto the view, undone.
    let near: Vec<&Offset> =
        offsets.iter().filter(|o| within(o.x + o.dx - v.x, o.y + o.dy - v.y, LOCAL_REACH)).collect();
    let (dx, dy) = local_offset(&near, overall);
    let Some((x, y)) = pose.source(v.x - dx, v.y - dy) else { return 0.0 };
    if x < 0.0 || y < 0.0 || x >= ridges.w as f32 || y >= ridges.h as f32 {
        return 0.0; // off the probe's image: nothing to find
    }
    let there = Minutia { x, y, direction: (v.direction - pose.turn()).rem_euclid(TAU), ..*v };
    let likeness = patch.best_likeness_in(ridges.image, ridges.w, ridges.h, &there);
    ((likeness - SOUGHT_LIKENESS) / (1.0 - SOUGHT_LIKENESS)).max(0.0)
}

/// The agreement under `pose`, or under a pose that lays one probe minutia on a view minutia
/// with a patch alike to its own, whichever pairs the larger share ([`Agreement::ratio`]; the two
/// minutiae so laid are not counted). When two captures overlap little, the correlation peak
/// sometimes stands at the wrong rotation or shift, and a finger turned further than the
/// correlation's rotations reach has no right peak at all; a few minutiae whose surrounding ridges
/// match still show where the probe lies, at any turn.
pub fn best_agreement(probe: Marks, view: Marks, pose: impl Fn(f32, f32) -> (f32, f32)) -> Agreement {
    better_of(agreement(probe, view, pose), anchored_agreement(probe, view))
}

/// Of the agreement under a correlation's pose and the [`anchored_agreement`], the one that pairs
/// the larger share (the correlation's among equals): [`best_agreement`] in two steps, for a caller
/// that looks at the anchored one before it correlates.
pub fn better_of(correlated: Agreement, anchored: Option<Agreement>) -> Agreement {
    match anchored {
        Some(anchored) if anchored.ratio() > correlated.ratio() => anchored,
        _ => correlated,
    }
}

/// The best agreement under the poses that lay one probe minutia on a view minutia with alike
/// surroundings (see [`best_agreement`]), with its turn; `None` when no pair is alike enough to
/// set a pose (or either side has no patches).
pub fn anchored_agreement(probe: Marks, view: Marks) -> Option<Agreement> {
    anchored_agreement_voting(probe, view, &mut [0.0; TURN_BINS])
}

/// [`anchored_agreement`], adding to `votes` the turns its alike pairs of the clearest minutiae
/// vote for ([`turn_votes`]): the search compares those patches anyway.
pub fn anchored_agreement_voting(probe: Marks, view: Marks, votes: &mut [f32; TURN_BINS]) -> Option<Agreement> {
    let mut best: Option<Agreement> = None;
    for anchor in anchors(probe, view, votes) {
        let laid = agreement_besides(probe, view, |x, y| anchor.lay(x, y), Some(anchor.pair));
        if best.is_none_or(|b| laid.ratio() > b.ratio()) {
            best = Some(Agreement { turn: Some(anchor.turn), ..laid });
        }
    }
    best
}

/// Bins of the turn votes ([`turn_votes`]): a turn of k · 3° falls into bin k.
pub const TURN_BINS: usize = 120;

/// Adds to `votes` the turn of every pair of the clearest minutiae (`ANCHOR_MINUTIAE` a side)
/// whose patches are at least `ANCHOR_LIKENESS` alike, by how far their likeness rises above
/// it (0..1). A patch is sampled in its minutia's own frame, so a pair's turn is the turn between
/// the captures when the two are one minutia. Each of a weak touch's views may have too few such
/// pairs for an anchor its own alike pairs support, but summed over a finger's views, whose
/// turns lie within a few tens of degrees of each other, the true turn stands out where chance
/// pairs scatter. Nothing without patches on both sides. (The matcher takes the votes from
/// [`anchored_agreement_voting`], which compares the same pairs.)
#[cfg(test)]
pub fn turn_votes(probe: Marks, view: Marks, votes: &mut [f32; TURN_BINS]) {
    if probe.patches.len() == probe.minutiae.len() && view.patches.len() == view.minutiae.len() {
        vote(&alike_clearest(probe, view), votes);
    }
}

/// A pair of minutiae (probe, view) whose patches are at least `ANCHOR_LIKENESS` alike.
#[derive(Clone, Copy)]
struct Alike {
    pair: Pair,
    likeness: f32,
    /// Radians, 0..2π: how far the view minutia is turned from the probe minutia.
    turn: f32,
}

/// Every pair of the clearest minutiae (`ANCHOR_MINUTIAE` a side) at least `ANCHOR_LIKENESS`
/// alike, probe by probe. Both sides must have patches.
fn alike_clearest(probe: Marks, view: Marks) -> Vec<Alike> {
    let view_clearest = clearest(view.minutiae);
    let mut alike = Vec::new();
    for i in clearest(probe.minutiae) {
        for &j in &view_clearest {
            let likeness = probe.patches[i].similarity(&view.patches[j]);
            if likeness >= ANCHOR_LIKENESS {
                let turn = (view.minutiae[j].direction - probe.minutiae[i].direction).rem_euclid(TAU);
                alike.push(Alike { pair: Pair { probe: i, view: j }, likeness, turn });
            }
        }
    }
    alike
}

/// Adds each of `alike`'s turns to `votes`, by how far its likeness rises above `ANCHOR_LIKENESS`.
fn vote(alike: &[Alike], votes: &mut [f32; TURN_BINS]) {
    for a in alike {
        let bin = (a.turn / TAU * TURN_BINS as f32).round() as usize % TURN_BINS;
        votes[bin] += (a.likeness - ANCHOR_LIKENESS) / (1.0 - ANCHOR_LIKENESS);
    }
}

/// A pose that lays one probe minutia on a view minutia.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    pair: Pair,
    likeness: f32,
    /// Radians, -π..π: how far the probe is turned onto the view.
    turn: f32,
    from: (f32, f32),
    to: (f32, f32),
}

impl Anchor {
    fn new(probe: &Minutia, view: &Minutia, pair: Pair, likeness: f32) -> Anchor {
        let turn = (view.direction - probe.direction + PI).rem_euclid(TAU) - PI;
        Anchor { pair, likeness, turn, from: (probe.x, probe.y), to: (view.x, view.y) }
    }

    fn lay(&self, x: f32, y: f32) -> (f32, f32) {
        let (s, c) = self.turn.sin_cos();
        let (dx, dy) = (x - self.from.0, y - self.from.1);
        (c * dx - s * dy + self.to.0, s * dx + c * dy + self.to.1)
    }

    /// This pose with its turn taken from the line to the farthest supporter instead of the two
    /// minutiae's own directions: a direction is known to a few degrees, which throws a pose off
    /// by pixels at the far side of a print; the line between two minutiae is known far better.
    fn steadied(&self, supporters: &[&Anchor]) -> Anchor {
        let length = |o: &Anchor| (o.from.0 - self.from.0).hypot(o.from.1 - self.from.1);
        match supporters.iter().max_by(|a, b| length(a).total_cmp(&length(b))) {
            Some(o) if length(o) >= STEADY_LENGTH => {
                let probe_line = (o.from.1 - self.from.1).atan2(o.from.0 - self.from.0);
                let view_line = (o.to.1 - self.to.1).atan2(o.to.0 - self.to.0);
                Anchor { turn: (view_line - probe_line + PI).rem_euclid(TAU) - PI, ..*self }
            }
            _ => *self,
        }
    }

    /// Whether `other` stands at about the same pose: this one lays its probe minutia near its
    /// view minutia, turned alike.
    fn supports(&self, other: &Anchor) -> bool {
        if other.pair.probe == self.pair.probe || other.pair.view == self.pair.view {
            return false;
        }
        let (x, y) = self.lay(other.from.0, other.from.1);
        (x - other.to.0).hypot(y - other.to.1) <= SUPPORT_DISTANCE
            && angle_between(self.turn, other.turn) <= SUPPORT_TURN
    }
}

/// Indices of the `ANCHOR_MINUTIAE` minutiae of best quality.
fn clearest(minutiae: &[Minutia]) -> Vec<usize> {
    best_first(minutiae.iter().map(|m| m.quality), ANCHOR_MINUTIAE)
}

/// Indices of the `keep` largest of `keys`, largest first (the earlier first among equals). One
/// sort serves every ranking here: each sort with a closure of its own is kilobytes of code.
pub(super) fn best_first(keys: impl Iterator<Item = f32>, keep: usize) -> Vec<usize> {
    let mut ranked: Vec<(f32, usize)> = keys.enumerate().map(|(i, key)| (key, i)).collect();
    ranked.sort_unstable_by(descending);
    ranked.truncate(keep);
    ranked.into_iter().map(|(_, i)| i).collect()
}

fn descending(a: &(f32, usize), b: &(f32, usize)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// The poses [`best_agreement`] tries. Near upright (turned by at most `ANCHOR_TURN`, where the
/// correlation's own rotations reach): the `ANCHORS` pairs most alike by patch, at least
/// `ANCHOR_LIKENESS` alike, over all minutiae. Turned further: of the `CANDIDATES` most alike pairs
/// among the clearest minutiae, the `ANCHORS` that most others support, and only those with a
/// supporter (between different fingers the most alike pairs scatter over poses; near upright the
/// correlation checks a pose, turned far nothing else does). None without patches on both sides.
fn anchors(probe: Marks, view: Marks, votes: &mut [f32; TURN_BINS]) -> Vec<Anchor> {
    if probe.patches.len() != probe.minutiae.len() || view.patches.len() != view.minutiae.len() {
        return Vec::new();
    }
    let mut near = Vec::new();
    for (i, (m, p)) in probe.minutiae.iter().zip(probe.patches).enumerate() {
        for (j, (v, q)) in view.minutiae.iter().zip(view.patches).enumerate() {
            if angle_between(m.direction, v.direction) > ANCHOR_TURN {
                continue;
            }
            let likeness = p.similarity(q);
            if likeness >= ANCHOR_LIKENESS {
                near.push(Anchor::new(m, v, Pair { probe: i, view: j }, likeness));
            }
        }
    }
    let mut chosen: Vec<Anchor> =
        best_first(near.iter().map(|a| a.likeness), ANCHORS).into_iter().map(|k| near[k]).collect();
    let alike = alike_clearest(probe, view);
    vote(&alike, votes);
    let far: Vec<Anchor> = alike
        .iter()
        .filter_map(|a| {
            let (m, v) = (&probe.minutiae[a.pair.probe], &view.minutiae[a.pair.view]);
            (angle_between(m.direction, v.direction) > ANCHOR_TURN).then(|| Anchor::new(m, v, a.pair, a.likeness))
        })
        .collect();
    let far: Vec<Anchor> = best_first(far.iter().map(|a| a.likeness), CANDIDATES).into_iter().map(|k| far[k]).collect();
    let ranked: Vec<(usize, Anchor)> = far
        .iter()
        .map(|a| {
            let supporters: Vec<&Anchor> = far.iter().filter(|b| a.supports(b)).collect();
            (supporters.len(), a.steadied(&supporters))
        })
        .filter(|(support, _)| *support > 0)
        .collect();
    // Support first, likeness (0.6 to 1) among equals.
    chosen.extend(
        best_first(ranked.iter().map(|(support, a)| *support as f32 * 2.0 + a.likeness), ANCHORS)
            .into_iter()
            .map(|k| ranked[k].1),
    );
    chosen
}

fn median(values: impl Iterator<Item = f32>) -> f32 {
    use zeroize::Zeroize;
    let mut v: Vec<f32> = values.collect();
    v.sort_by(f32::total_cmp);
    let middle = v[v.len() / 2];
    v.zeroize(); // offsets of the probe's minutiae (see `wipe_positions`)
    middle
}

/// Pairs of (moved probe minutia, view minutia) within `distance` and `PAIR_ANGLE`, each
/// minutia used once, closest pairs first.
fn pair_up(moved: &[Placed], view: &[Minutia], distance: f32) -> Vec<Pair> {
    let mut candidates = Vec::new();
    for (i, m) in moved.iter().enumerate() {
        for (j, v) in view.iter().enumerate() {
            let (dx, dy) = (m.x - v.x, m.y - v.y);
            let dist2 = dx * dx + dy * dy;
            if dist2 <= distance * distance && angle_between(m.direction, v.direction) <= PAIR_ANGLE {
                candidates.push((dist2, i, j));
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut probe_used, mut view_used) = (vec![false; moved.len()], vec![false; view.len()]);
    let mut out = Vec::new();
    for (_, i, j) in candidates {
        if !probe_used[i] && !view_used[j] {
            probe_used[i] = true;
            view_used[j] = true;
            out.push(Pair { probe: i, view: j });
        }
    }
    out
}

/// The absolute difference of two directions, in [0, π].
pub fn angle_between(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(TAU);
    d.min(TAU - d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::minutiae::Kind;

    fn bare(minutiae: &[Minutia]) -> Marks<'_> {
        Marks { minutiae, patches: &[], nearby: &[], ridges: None }
    }

    fn at(x: f32, y: f32, direction: f32) -> Minutia {
        Minutia { x, y, direction, kind: Kind::Ending, quality: 1.0 }
    }

    #[test]
    fn minutiae_carried_by_the_right_pose_pair_up_and_by_a_wrong_one_do_not() {
        let view = vec![at(10.0, 10.0, 0.0), at(50.0, 20.0, 1.0), at(30.0, 70.0, 2.0), at(80.0, 80.0, 3.0)];
        // The probe is the view rotated by 30° about the origin and moved by (5, -3).
        let (s, c) = (PI / 6.0).sin_cos();
        let probe: Vec<Minutia> =
            view.iter().map(|m| at(c * m.x - s * m.y + 5.0, s * m.x + c * m.y - 3.0, m.direction + PI / 6.0)).collect();
        let undo = |x: f32, y: f32| {
            let (x, y) = (x - 5.0, y + 3.0);
            (c * x + s * y, -s * x + c * y)
        };
        assert_eq!(agreement(bare(&probe), bare(&view), undo).pairs, 4);
        assert_eq!(
            agreement(bare(&probe), bare(&view), |x, y| undo(x + 40.0, y)).pairs,
            0,
            "under a wrong pose nothing lines up"
        );
        // A pose 7 px off (skin stretch, a coarse peak) is corrected by the loose pairs.
        assert_eq!(agreement(bare(&probe), bare(&view), |x, y| undo(x + 7.0, y - 3.0)).pairs, 4);
        // Right place, opposite direction: not the same minutia.
        let flipped: Vec<Minutia> = view.iter().map(|m| at(m.x, m.y, m.direction + PI)).collect();
        assert_eq!(agreement(bare(&flipped), bare(&view), |x, y| (x, y)).pairs, 0);
    }

    /// A patch of made-up ridges, different for each `seed` (unlike patches correlate near 0).
    fn made_up_patch(seed: u32) -> Patch {
        let bytes = crate::matcher::tests::noise(seed.wrapping_mul(2_654_435_761) | 1, crate::matcher::patch::BYTES);
        Patch::from_bytes(&bytes).expect("one patch of bytes")
    }

    /// Six minutiae scattered over a view, pointing every way.
    fn six_minutiae() -> Vec<Minutia> {
        vec![
            at(20.0, 15.0, 0.3),
            at(70.0, 25.0, 1.9),
            at(35.0, 80.0, 4.0),
            at(90.0, 95.0, 2.6),
            at(60.0, 55.0, 5.5),
            at(15.0, 120.0, 1.1),
        ]
    }

    /// `minutiae` turned by `degrees` about the origin, then moved by `shift`.
    fn turned(minutiae: &[Minutia], degrees: f32, shift: (f32, f32)) -> Vec<Minutia> {
        let (s, c) = degrees.to_radians().sin_cos();
        minutiae
            .iter()
            .map(|m| at(c * m.x - s * m.y + shift.0, s * m.x + c * m.y + shift.1, m.direction + degrees.to_radians()))
            .collect()
    }

    #[test]
    fn minutiae_with_alike_surroundings_find_the_pose_a_wrong_peak_missed() {
        let view = six_minutiae();
        // The probe is the view turned by 20° about the origin and moved by (30, -25).
        let probe = turned(&view, 20.0, (30.0, -25.0));
        let patches: Vec<Patch> = (0..6).map(made_up_patch).collect();
        let (probe_marks, view_marks) = (
            Marks { minutiae: &probe, patches: &patches, nearby: &[], ridges: None },
            Marks { minutiae: &view, patches: &patches, nearby: &[], ridges: None },
        );
        let wrong_peak = |x: f32, y: f32| (x + 60.0, y - 45.0);
        assert_eq!(agreement(probe_marks, view_marks, wrong_peak).pairs, 0, "nothing lines up under the wrong pose");
        // An alike pair lays the probe where it lies; the other 5 then pair (the anchor itself is
        // not evidence: it was chosen, not found).
        assert_eq!(best_agreement(probe_marks, view_marks, wrong_peak).pairs, 5);
        // Minutiae whose surroundings differ set no pose: the wrong one stands.
        let unlike: Vec<Patch> = (100..106).map(made_up_patch).collect();
        assert_eq!(
            best_agreement(
                Marks { minutiae: &probe, patches: &unlike, nearby: &[], ridges: None },
                view_marks,
                wrong_peak
            )
            .pairs,
            0
        );
        assert_eq!(
            best_agreement(bare(&probe), bare(&view), wrong_peak).pairs,
            0,
            "no patches (old templates), no anchors"
        );
    }

    #[test]
    fn pairs_at_scattered_offsets_are_not_pulled_together() {
        // Loose pairs whose offsets disagree (as between different fingers): the correction
        // cannot bring them all within the tight distance.
        let view = vec![at(10.0, 10.0, 0.0), at(60.0, 10.0, 0.0), at(10.0, 60.0, 0.0), at(60.0, 60.0, 0.0)];
        let probe = vec![at(20.0, 10.0, 0.0), at(50.0, 10.0, 0.0), at(10.0, 70.0, 0.0), at(60.0, 50.0, 0.0)];
        let found = agreement(bare(&probe), bare(&view), |x, y| (x, y));
        assert!(found.pairs <= 2, "{found:?}");
        assert_eq!((found.probe_common, found.view_common), (4, 4));
    }

    #[test]
    fn a_print_stretched_unevenly_still_pairs_everywhere() {
        // Two rows of minutiae 30 px apart; the probe is stretched along x by 7%, so its offsets
        // run from 0.7 to 11.2 px: no single correction brings both ends within the tight distance.
        let view: Vec<Minutia> = [10.0f32, 40.0, 70.0, 100.0, 130.0, 160.0]
            .iter()
            .flat_map(|x| [at(*x, 10.0, 0.0), at(*x, 50.0, 0.0)])
            .collect();
        let probe: Vec<Minutia> = view.iter().map(|m| at(m.x * 1.07, m.y, 0.0)).collect();
        assert_eq!(agreement(bare(&probe), bare(&view), |x, y| (x, y)).pairs, view.len());
    }

    #[test]
    fn each_minutia_is_used_once() {
        let view = vec![at(10.0, 10.0, 0.0)];
        let probe = vec![at(11.0, 10.0, 0.0), at(9.0, 10.0, 0.1)];
        assert_eq!(agreement(bare(&probe), bare(&view), |x, y| (x, y)).pairs, 1);
    }

    /// A patch of its own for each `seed` (different seeds are nearly uncorrelated).
    fn patch(seed: u32) -> Patch {
        let bytes: Vec<u8> = (0..crate::matcher::patch::BYTES as u32)
            .map(|k| {
                (((k.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)).rotate_left(seed % 31) >> 7) as u8)
                    .wrapping_sub(128)
            })
            .collect();
        Patch::from_bytes(&bytes).unwrap()
    }

    #[test]
    fn pairs_count_by_how_alike_their_surroundings_are() {
        let view = vec![at(10.0, 10.0, 0.0), at(60.0, 15.0, 1.0), at(20.0, 70.0, 2.0), at(70.0, 80.0, 3.0)];
        let own: Vec<Patch> = (0..4).map(patch).collect();
        let others: Vec<Patch> = (10..14).map(patch).collect();
        let same = agreement(
            Marks { minutiae: &view, patches: &own, nearby: &[], ridges: None },
            Marks { minutiae: &view, patches: &own, nearby: &[], ridges: None },
            |x, y| (x, y),
        );
        let unlike = agreement(
            Marks { minutiae: &view, patches: &others, nearby: &[], ridges: None },
            Marks { minutiae: &view, patches: &own, nearby: &[], ridges: None },
            |x, y| (x, y),
        );
        assert_eq!((same.pairs, unlike.pairs), (4, 4), "the geometry pairs them all either way");
        assert!(same.likeness > 3.9, "{same:?}");
        assert!(unlike.likeness < 1.0, "chance pairs with other ridges around them: {unlike:?}");
        assert!(same.ratio() > 3.0 * unlike.ratio());
        // Without patches (an older template) pairs count for nothing.
        assert_eq!(agreement(bare(&view), bare(&view), |x, y| (x, y)).ratio(), 0.0);
    }

    #[test]
    fn a_pair_counts_by_the_best_of_the_probes_patch_and_its_shifts() {
        let view = vec![at(10.0, 10.0, 0.0), at(60.0, 15.0, 1.0), at(20.0, 70.0, 2.0), at(70.0, 80.0, 3.0)];
        let enrolled: Vec<Patch> = (0..4).map(patch).collect();
        // The probe's patches in its minutiae's own frames are unlike the view's (a minutia found a
        // sample off), but one shift of each is the view's.
        let own: Vec<Patch> = (10..14).map(patch).collect();
        let nearby: Vec<Nearby> =
            (0..4).map(|k| Nearby::of([patch(20 + k), patch(30 + k), patch(k), patch(40 + k)])).collect();
        let view_marks = Marks { minutiae: &view, patches: &enrolled, nearby: &[], ridges: None };
        let same_place = |x, y| (x, y);
        let alone =
            agreement(Marks { minutiae: &view, patches: &own, nearby: &[], ridges: None }, view_marks, same_place);
        let shifted =
            agreement(Marks { minutiae: &view, patches: &own, nearby: &nearby, ridges: None }, view_marks, same_place);
        assert!(alone.likeness < 1.0, "{alone:?}");
        assert!(shifted.likeness > 3.9, "{shifted:?}");
        // Shifts one short of the minutiae count are not taken for theirs.
        let short = agreement(
            Marks { minutiae: &view, patches: &own, nearby: &nearby[..3], ridges: None },
            view_marks,
            same_place,
        );
        assert_eq!(short.likeness, alone.likeness);
    }

    /// A 96-px ridge image, ridges 9 px apart, with a ridge ending at (48, 48) when `ending`.
    fn ridge_image(ending: bool) -> Vec<f32> {
        (0..96 * 96)
            .map(|i| {
                let (x, y) = ((i % 96) as f32 - 48.0, (i / 96) as f32 - 48.0);
                let phase = (1.2f32.cos() * x + 1.2f32.sin() * y) * TAU / 9.0 + if ending { y.atan2(x) } else { 0.0 };
                phase.sin()
            })
            .collect()
    }

    #[test]
    fn a_minutia_the_probe_did_not_find_counts_where_its_ridges_show_it_and_not_where_they_do_not() {
        let image: &'static [f32] = ridge_image(true).leak();
        // The view found the ending at (48, 48) and another minutia 20 px off; the probe, the same
        // skin under the same pose, found only the other one.
        let view = vec![at(48.0, 48.0, 1.2 + PI / 2.0), at(62.0, 62.0, 0.4)];
        let patches: Vec<Patch> = view.iter().map(|m| Patch::with_shifts(image, 96, 96, m).0).collect();
        let view_marks = Marks { minutiae: &view, patches: &patches, nearby: &[], ridges: None };
        let probe = vec![at(62.0, 62.0, 0.4)];
        let probe_patches = vec![Patch::with_shifts(image, 96, 96, &probe[0]).0];
        let with = |image: &'static [f32]| Marks {
            minutiae: &probe,
            patches: &probe_patches,
            nearby: &[],
            ridges: Some(Ridges { image, w: 96, h: 96 }),
        };
        let same_place = |x, y| (x, y);
        let found = agreement(with(image), view_marks, same_place);
        assert_eq!((found.pairs, found.view_common, found.sought), (1, 2, false), "{found:?}");
        let sought = confirmed(with(image), view_marks, &found);
        assert!(sought.sought);
        assert!(sought.likeness > found.likeness + 0.9, "the ending is in the probe's ridges: {sought:?}");
        // The share is then of the view's minutiae (at least `FEWEST_COMMON`): both counted.
        assert!((sought.ratio() - sought.likeness / FEWEST_COMMON as f32).abs() < 1e-6);
        assert_eq!(confirmed(with(image), view_marks, &sought), sought, "sought once");
        // Plain ridges where the view has its ending: nothing found.
        let plain: &'static [f32] = ridge_image(false).leak();
        let not_there = confirmed(with(plain), view_marks, &agreement(with(plain), view_marks, same_place));
        let unsought = agreement(with(plain), view_marks, same_place);
        assert!(not_there.likeness - unsought.likeness < 0.05, "plain ridges: {not_there:?}");
        // A probe that keeps no ridges (a template's view) is not sought in.
        let bare_probe = Marks { ridges: None, ..with(image) };
        assert!(!confirmed(bare_probe, view_marks, &found).sought);
    }

    #[test]
    fn the_minutia_an_anchor_laid_is_not_sought_again() {
        let image: &'static [f32] = ridge_image(true).leak();
        // One minutia, the same on both sides: the anchor that lays it on its partner sets the pose.
        let view = vec![at(48.0, 48.0, 1.2 + PI / 2.0)];
        let patches: Vec<Patch> = view.iter().map(|m| Patch::with_shifts(image, 96, 96, m).0).collect();
        let view_marks = Marks { minutiae: &view, patches: &patches, nearby: &[], ridges: None };
        let probe_marks =
            Marks { minutiae: &view, patches: &patches, nearby: &[], ridges: Some(Ridges { image, w: 96, h: 96 }) };
        let anchored = anchored_agreement(probe_marks, view_marks).expect("an alike pair sets a pose");
        assert_eq!((anchored.pairs, anchored.view_common), (0, 1), "{anchored:?}");
        let sought = confirmed(probe_marks, view_marks, &anchored);
        assert!(sought.sought);
        assert_eq!(sought.likeness, 0.0, "the anchor's own minutia was chosen, not found: {sought:?}");
    }

    #[test]
    fn alike_pairs_vote_for_the_turn_between_the_captures_and_unlike_ones_cast_no_vote() {
        let view = six_minutiae();
        // The probe is the view turned by 100° and moved: the view lies 260° from it.
        let probe = turned(&view, 100.0, (140.0, 10.0));
        let patches: Vec<Patch> = (0..6).map(made_up_patch).collect();
        let marks = |minutiae, patches| Marks { minutiae, patches, nearby: &[], ridges: None };
        let mut votes = [0.0; TURN_BINS];
        turn_votes(marks(&probe, &patches), marks(&view, &patches), &mut votes);
        let best = best_first(votes.iter().copied(), 1)[0];
        assert_eq!(best, (260.0f32 / 3.0).round() as usize, "votes stand highest at {}°", best * 3);
        assert!(votes[best] > 5.9, "each of the 6 alike pairs votes for it in full: {}", votes[best]);
        let unlike: Vec<Patch> = (100..106).map(made_up_patch).collect();
        let mut none = [0.0; TURN_BINS];
        turn_votes(marks(&probe, &unlike), marks(&view, &patches), &mut none);
        turn_votes(bare(&probe), bare(&view), &mut none);
        assert_eq!(none.iter().sum::<f32>(), 0.0, "unlike surroundings or no patches: no votes");
    }
}
