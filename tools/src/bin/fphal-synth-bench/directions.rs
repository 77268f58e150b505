//! `directions`: how often a minutia of touch 1 seen again in touches 2–6 points the same way,
//! under the generator's true placements, for endings and bifurcations.

use fphal::matcher;
use fphal_synth::{Master, Touch};
use fphal_tools::Progress;
use fphal_tools::synth_bench::{FingerRange, carry, parallel};

/// A minutia seen again: the nearest of the same kind within this (pixels) under the true placement.
const SEEN_AGAIN: f32 = 5.0;

/// How often a minutia seen again in a later touch points the same way (within 30°) or the
/// opposite way (beyond 150°), for endings and bifurcations.
pub fn run(range: &FingerRange, threads: usize) {
    let progress = Progress::new("comparing minutia directions", range.count);
    let per_finger = parallel(range.count as usize, threads, &progress, |i| {
        let id = range.id(i);
        let master = Master::grow(id);
        let touches: Vec<(Touch, Vec<matcher::minutiae::Minutia>)> = (1..=6u32)
            .filter_map(|k| {
                let t = range.touch(id, k);
                let img = range.capture(&master, id, k).ok()?;
                let minutiae = matcher::analyse(&img).ok()?.minutiae.clone();
                Some((t, minutiae))
            })
            .collect();
        // [ending, bifurcation] × [same way, opposite way, across]
        let mut counts = [[0usize; 3]; 2];
        let Some(((first, seen), later)) = touches.split_first() else { return counts };
        let margin = 16.0..range.size as f32 - 16.0;
        for (t, theirs) in later {
            for m in seen {
                let (x, y) = carry(first, t, m.x, m.y);
                if !margin.contains(&x) || !margin.contains(&y) {
                    continue;
                }
                let (ax, ay) = carry(first, t, m.x + 6.0 * m.direction.cos(), m.y + 6.0 * m.direction.sin());
                let direction = (ay - y).atan2(ax - x);
                let near = theirs
                    .iter()
                    .filter(|n| n.kind == m.kind && (n.x - x).hypot(n.y - y) < SEEN_AGAIN)
                    .min_by(|a, b| (a.x - x).hypot(a.y - y).total_cmp(&(b.x - x).hypot(b.y - y)));
                let Some(n) = near else { continue };
                let turn = matcher::verify::angle_between(direction, n.direction).to_degrees();
                let kind = usize::from(m.kind == matcher::minutiae::Kind::Bifurcation);
                counts[kind][if turn <= 30.0 {
                    0
                } else if turn >= 150.0 {
                    1
                } else {
                    2
                }] += 1;
            }
        }
        counts
    });
    println!(
        "minutiae of touch 1 seen again in touches 2-6 (same kind within \
         {SEEN_AGAIN} px under the true placements), {} fingers:",
        range.count
    );
    for (k, name) in ["endings", "bifurcations"].iter().enumerate() {
        let c: [usize; 3] = [0, 1, 2].map(|j| per_finger.iter().map(|f| f[k][j]).sum());
        let n = c.iter().sum::<usize>().max(1) as f64;
        println!(
            "  {name}: {} seen again; same way {:.1}%, opposite way {:.1}%, across {:.1}%",
            c.iter().sum::<usize>(),
            c[0] as f64 / n * 100.0,
            c[1] as f64 / n * 100.0,
            c[2] as f64 / n * 100.0
        );
    }
}
