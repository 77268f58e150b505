//! Minutiae from the enhanced image: ridges are the dark half of the Gabor response, thinned to
//! one-pixel lines; a line pixel with one neighbour on the line is a ridge ending, one with three
//! is a bifurcation. Direction comes from the ridge flow, turned to point along the ridge away
//! from the minutia; quality from the flow's coherence and the distance to the print's edge.

use super::prepare::box_mean;
use super::ridge_flow::RidgeFlow;
use std::f32::consts::PI;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ending,
    Bifurcation,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minutia {
    /// Position in the 500-dpi normalised image, pixels.
    pub x: f32,
    pub y: f32,
    /// Radians in [0, 2π): the direction the ridge (for an ending) or the valley between the
    /// branches (for a bifurcation) leaves the point in.
    pub direction: f32,
    pub kind: Kind,
    /// 0..1: coherence of the flow around it, lowered near the edge of the print.
    pub quality: f32,
}

/// Minutiae closer than this to the mask's edge are the cut ends of ridges, not minutiae.
const EDGE_MARGIN: usize = 10;
/// Beyond the margin, quality rises to full over this many pixels.
const EDGE_RAMP: usize = 6;
/// Two minutiae closer than this (pixels) are a broken ridge or a spur: both are dropped.
const MIN_SEPARATION: f32 = 6.0;
/// Radius of the area whose mean flow coherence is a minutia's quality.
const QUALITY_RADIUS: usize = 12;
/// Steps followed along the thinned line to orient a minutia.
const TRACE_STEPS: usize = 8;

const NEIGHBOURS: [(isize, isize); 8] = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)];

/// Binarises (ridge = dark = negative response), thins and reads minutiae off the skeleton.
pub fn extract(enhanced: &[f32], mask: &[f32], flow: &RidgeFlow) -> Vec<Minutia> {
    let (w, h) = (flow.w, flow.h);
    let mut ridge: Vec<bool> = (0..w * h).map(|i| mask[i] > 0.5 && enhanced[i] < 0.0).collect();
    thin(&mut ridge, w, h);
    // Distance from the background, in pixels, up to the margin (a chessboard transform suffices).
    let inside = inner_distance(mask, w, h, EDGE_MARGIN + EDGE_RAMP);
    // The flow is disturbed right at a minutia: judge it on the area around.
    let clarity = box_mean(&flow.coherence, w, h, QUALITY_RADIUS);
    let on = |x: isize, y: isize| on_skeleton(&ridge, w, h, (x, y));
    let mut found = Vec::new();
    for y in 1..h as isize - 1 {
        for x in 1..w as isize - 1 {
            let i = y as usize * w + x as usize;
            if !ridge[i] || inside[i] <= EDGE_MARGIN {
                continue;
            }
            // Crossing number: half the number of 0→1 transitions around the 8-neighbourhood.
            let ring: Vec<bool> = NEIGHBOURS.iter().map(|(dx, dy)| on(x + dx, y + dy)).collect();
            let crossings = (0..8).filter(|k| ring[*k] != ring[(k + 1) % 8]).count() / 2;
            let kind = match crossings {
                1 => Kind::Ending,
                3 => Kind::Bifurcation,
                _ => continue,
            };
            let theta = flow.theta[i];
            let direction = orient(&ridge, w, h, x, y, kind, theta);
            let edge = ((inside[i] - EDGE_MARGIN) as f32 / EDGE_RAMP as f32).min(1.0);
            found.push(Minutia { x: x as f32, y: y as f32, direction, kind, quality: clarity[i] * edge });
        }
    }
    drop_close_pairs(found)
}

/// Picks, of the two directions along the local ridge flow, the one the skeleton leaves in: for
/// an ending, the way its ridge runs; for a bifurcation, the way its two branches run (away from
/// the stem). Lines are traced a few pixels out: the pixels right at a fork of a thinned skeleton
/// do not say which line is the stem.
fn orient(ridge: &[bool], w: usize, h: usize, x: isize, y: isize, kind: Kind, theta: f32) -> f32 {
    let axis = (theta.cos(), theta.sin());
    let along = |(dx, dy): (f32, f32)| dx * axis.0 + dy * axis.1;
    let forward = match kind {
        Kind::Ending => {
            let (ex, ey) = trace(ridge, w, h, (x, y), &[]);
            along(((ex - x) as f32, (ey - y) as f32))
        }
        Kind::Bifurcation => stem(ridge, w, h, x, y).map_or(0.0, |s| -along(s)),
    };
    let d = if forward >= 0.0 { theta } else { theta + PI };
    d.rem_euclid(2.0 * PI)
}

fn on_skeleton(ridge: &[bool], w: usize, h: usize, (x, y): (isize, isize)) -> bool {
    x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h && ridge[y as usize * w + x as usize]
}

/// Where the stem of the fork at (x, y) leads, relative to it: of the three lines leaving the
/// fork, the one least aligned with the other two.
fn stem(ridge: &[bool], w: usize, h: usize, x: isize, y: isize) -> Option<(f32, f32)> {
    // Each line starts at a run of skeleton pixels around the fork and may not step onto the
    // fork or another line's run.
    let ring: Vec<(isize, isize)> = NEIGHBOURS.iter().map(|(dx, dy)| (x + dx, y + dy)).collect();
    let on = |p: (isize, isize)| on_skeleton(ridge, w, h, p);
    let runs: Vec<Vec<(isize, isize)>> = (0..8)
        .filter(|k| on(ring[*k]) && !on(ring[(k + 7) % 8]))
        .map(|k| (0..8).map(|j| ring[(k + j) % 8]).take_while(|p| on(*p)).collect())
        .collect();
    let unit_ends: Vec<(f32, f32)> = runs
        .iter()
        .enumerate()
        .map(|(r, run)| {
            let mut banned: Vec<(isize, isize)> =
                runs.iter().enumerate().filter(|(o, _)| *o != r).flat_map(|(_, p)| p.iter().copied()).collect();
            banned.push((x, y));
            let (ex, ey) = trace(ridge, w, h, run[0], &banned);
            let (dx, dy) = ((ex - x) as f32, (ey - y) as f32);
            let n = dx.hypot(dy).max(1e-6);
            (dx / n, dy / n)
        })
        .collect();
    let alignment = |k: usize| {
        unit_ends
            .iter()
            .enumerate()
            .filter(|(o, _)| *o != k)
            .map(|(_, e)| unit_ends[k].0 * e.0 + unit_ends[k].1 * e.1)
            .sum::<f32>()
    };
    (0..unit_ends.len()).min_by(|a, b| alignment(*a).total_cmp(&alignment(*b))).map(|k| unit_ends[k])
}

/// Follows a skeleton line from `start` for up to `TRACE_STEPS` pixels, never onto `banned` ones or
/// back onto itself; returns where it got to.
fn trace(ridge: &[bool], w: usize, h: usize, start: (isize, isize), banned: &[(isize, isize)]) -> (isize, isize) {
    let mut path = vec![start];
    let mut at = start;
    for _ in 0..TRACE_STEPS {
        let next = NEIGHBOURS
            .iter()
            .map(|(dx, dy)| (at.0 + dx, at.1 + dy))
            .find(|p| on_skeleton(ridge, w, h, *p) && !path.contains(p) && !banned.contains(p));
        let Some(n) = next else { break };
        path.push(n);
        at = n;
    }
    at
}

fn drop_close_pairs(found: Vec<Minutia>) -> Vec<Minutia> {
    let mut keep = vec![true; found.len()];
    for a in 0..found.len() {
        for b in a + 1..found.len() {
            let (dx, dy) = (found[a].x - found[b].x, found[a].y - found[b].y);
            if dx * dx + dy * dy < MIN_SEPARATION * MIN_SEPARATION {
                keep[a] = false;
                keep[b] = false;
            }
        }
    }
    found.into_iter().zip(keep).filter_map(|(m, k)| k.then_some(m)).collect()
}

/// Chessboard distance to the nearest background pixel (mask ≤ 0.5) or image border, capped.
fn inner_distance(mask: &[f32], w: usize, h: usize, cap: usize) -> Vec<usize> {
    let mut d: Vec<usize> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            if mask[i] <= 0.5 { 0 } else { cap.min(x + 1).min(y + 1).min(w - x).min(h - y) }
        })
        .collect();
    // Two passes of a 3×3 chamfer with unit weights.
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            for (dx, dy) in [(-1isize, -1isize), (0, -1), (1, -1), (-1, 0)] {
                let (nx, ny) = (x as isize + dx, y as isize + dy);
                if nx >= 0 && ny >= 0 && (nx as usize) < w {
                    d[i] = d[i].min(d[ny as usize * w + nx as usize] + 1);
                }
            }
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            for (dx, dy) in [(1isize, 1isize), (0, 1), (-1, 1), (1, 0)] {
                let (nx, ny) = (x as isize + dx, y as isize + dy);
                if nx >= 0 && (nx as usize) < w && (ny as usize) < h {
                    d[i] = d[i].min(d[ny as usize * w + nx as usize] + 1);
                }
            }
        }
    }
    d
}

/// Zhang–Suen thinning: peels boundary pixels in two alternating sub-passes until the ridges are
/// one pixel wide, keeping their connectivity and ends.
fn thin(img: &mut [bool], w: usize, h: usize) {
    let mut changed = true;
    let mut remove = Vec::new();
    while changed {
        changed = false;
        for removable in &PEELED {
            remove.clear();
            for y in 1..h.saturating_sub(1) {
                let (above, row, below) =
                    (&img[(y - 1) * w..y * w], &img[y * w..(y + 1) * w], &img[(y + 1) * w..(y + 2) * w]);
                for x in 1..w.saturating_sub(1) {
                    if !row[x] {
                        continue;
                    }
                    // p2..p9 clockwise from north, p2 the lowest bit.
                    let ring = [
                        above[x],
                        above[x + 1],
                        row[x + 1],
                        below[x + 1],
                        below[x],
                        below[x - 1],
                        row[x - 1],
                        above[x - 1],
                    ];
                    let code = ring.iter().rev().fold(0usize, |code, on| code << 1 | usize::from(*on));
                    if removable[code] {
                        remove.push(y * w + x);
                    }
                }
            }
            for i in &remove {
                img[*i] = false;
            }
            changed |= !remove.is_empty();
        }
    }
}

/// For each sub-pass of [`thin`], whether a ridge pixel goes, by its 8 neighbours (bit k set when
/// p(k+2) is a ridge pixel: p2 north, then clockwise).
const PEELED: [[bool; 256]; 2] = [peeled_in(0), peeled_in(1)];

/// Zhang and Suen's conditions for sub-pass `pass`: 2 to 6 ridge neighbours, exactly one
/// background-to-ridge step around the ring, and the pass's two triples not all ridge.
const fn peeled_in(pass: usize) -> [bool; 256] {
    let mut table = [false; 256];
    let mut code = 0;
    while code < 256 {
        let ridge_neighbours = (code as u8).count_ones();
        let mut steps = 0;
        let mut k = 0;
        while k < 8 {
            if code >> k & 1 == 0 && code >> ((k + 1) % 8) & 1 == 1 {
                steps += 1;
            }
            k += 1;
        }
        let (p2, p4, p6, p8) = (code & 1 == 1, code >> 2 & 1 == 1, code >> 4 & 1 == 1, code >> 6 & 1 == 1);
        #[allow(clippy::nonminimal_bool)]
        let triples_open =
            if pass == 0 { !(p2 && p4 && p6) && !(p4 && p6 && p8) } else { !(p2 && p4 && p8) && !(p2 && p6 && p8) };
        table[code] = ridge_neighbours >= 2 && ridge_neighbours <= 6 && steps == 1 && triples_open;
        code += 1;
    }
    table
}

/// Minutiae are biometric data: wiped before their memory is released.
pub fn wipe(minutiae: &mut [Minutia]) {
    use zeroize::Zeroize;
    for m in minutiae {
        m.x.zeroize();
        m.y.zeroize();
        m.direction.zeroize();
        m.quality.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thinning_table_holds_zhang_and_suens_conditions_for_every_neighbourhood() {
        for (code, (first_pass, second_pass)) in PEELED[0].iter().zip(&PEELED[1]).enumerate() {
            // p2..p9 clockwise from north.
            let n: Vec<bool> = (0..8).map(|k| code >> k & 1 == 1).collect();
            let b = n.iter().filter(|v| **v).count();
            let a = (0..8).filter(|k| !n[*k] && n[(k + 1) % 8]).count();
            let (p2, p4, p6, p8) = (n[0], n[2], n[4], n[6]);
            let first = (2..=6).contains(&b) && a == 1 && !(p2 && p4 && p6) && !(p4 && p6 && p8);
            let second = (2..=6).contains(&b) && a == 1 && !(p2 && p4 && p8) && !(p2 && p6 && p8);
            assert_eq!((*first_pass, *second_pass), (first, second), "neighbourhood {code:08b}");
        }
    }

    #[test]
    fn thinning_an_empty_or_thin_image_does_not_fail() {
        for (w, h) in [(0, 0), (0, 5), (5, 0), (1, 7), (7, 1), (2, 2)] {
            let mut img = vec![true; w * h];
            thin(&mut img, w, h);
        }
    }
}
