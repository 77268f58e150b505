//! `threshold`: the phone protocol on synthetic fingers, the operating threshold chosen from
//! impostor identification attempts, and the FRR it costs.
//!
//! Enrollment: impressions 1, 2, … of each finger until `--views` of them pass the capture
//! quality check and add area, as the HAL counts them (the touches needed are counted).
//! Enrollment touches lie within ±15°. Probes: the next `--probes` impressions that pass, turned by
//! up to `--probe-turn` degrees either way (the full circle by default).
//! Genuine: each probe against its own finger. Impostor attempts, as the HAL identifies: each
//! probe is scored once against `--impostors` other fingers drawn at random, and its attempts are
//! groups of `--group` of those fingers (score = best of the group), `--attempts` in all. The
//! threshold is the lowest score at which at most attempts/50,000 attempts are accepted.

use crate::Fingers;
use anyhow::{Result, bail};
use fphal::image::GrayImage;
use fphal::matcher;
use fphal_tools::Progress;
use fphal_tools::synth_bench::{self, Finger, FingerRange, footprint, parallel, percentiles, share_covered};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::PathBuf;

/// FAR per attempt the threshold must reach (Android's requirement for fingerprint).
const TARGET_FAR: f64 = 1.0 / 50_000.0;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub set: Fingers,
    /// Views per template (14: the HAL's default enrollment, `enroll.samples`).
    #[arg(long, default_value_t = 14)]
    views: usize,
    #[arg(long, default_value_t = 2)]
    probes: usize,
    #[arg(long, default_value_t = 150_000)]
    attempts: usize,
    #[arg(long, default_value_t = 5)]
    group: usize,
    /// Other fingers each probe is compared with; its attempts are groups drawn from them.
    #[arg(long, default_value_t = 100)]
    impostors: usize,
    /// Writes genuine.csv and impostor.csv (one score per line) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Writes one row per probe and enrolled view it was compared with, for finding out why
    /// scores are what they are: the view's correlation peak and pose, minutiae pairs, patch
    /// likeness and common-area counts, the view's evidence (a finger scores the mean of its two
    /// highest), and for genuine rows the true rotation between the two
    /// touches and the share of the probe's area the view's touch covers. The rows are those of the
    /// look that gave the score (a second look's poses lie on its copy, rescaled by 2%). (Use few
    /// fingers and `--impostors`: every comparison writes a row per view.)
    #[arg(long)]
    views_csv: Option<PathBuf>,
    /// Probes are turned by up to this many degrees either way (180: the full circle, as a phone
    /// is held any way; 15: as enrollment touches are drawn).
    #[arg(long, default_value_t = 180.0, value_parser = turn_in_range)]
    probe_turn: f32,
    /// A share of the probe touches (30%, `HARSH_SHARE`) is drawn as people also touch: from
    /// faint to flattened, dry, noisier, more distorted and stretched along one axis, as wide as
    /// the worst real impressions (a touch the capture check refuses is drawn again, as for every
    /// probe; enrollment touches stay as they are drawn). For comparing synthetic scores with real ones.
    #[arg(long)]
    harsh_probes: bool,
}

fn turn_in_range(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(t) if t > 0.0 && t <= 180.0 => Ok(t),
        _ => Err(format!("{s}: degrees, more than 0 and at most 180")),
    }
}

/// The turn from `from` to `to` in degrees, in [-180, 180).
fn turn_between(from: f32, to: f32) -> f32 {
    (to - from + 180.0).rem_euclid(360.0) - 180.0
}

impl Args {
    fn range(&self) -> FingerRange {
        FingerRange { probe_turn: self.probe_turn, harsh_probes: self.harsh_probes, ..self.set.range() }
    }
}

pub fn run(args: &Args) -> Result<()> {
    let (range, threads) = (args.range(), args.set.threads());
    let started = std::time::Instant::now();
    if args.set.fingers as usize <= args.impostors || args.impostors < args.group {
        bail!("need --fingers > --impostors >= --group");
    }
    let progress = Progress::new("growing and enrolling fingers", range.count);
    let fingers = parallel(range.count as usize, threads, &progress, |i| {
        synth_bench::enroll(&range, range.id(i), args.views, args.probes)
    });
    let fingers: Vec<Finger> = fingers.into_iter().collect::<Result<_>>()?;
    let probes: Vec<(usize, usize, &GrayImage)> = fingers
        .iter()
        .enumerate()
        .flat_map(|(f, fi)| fi.probes.iter().enumerate().map(move |(k, p)| (f, k, p)))
        .collect();
    let per_probe = args.attempts.div_ceil(probes.len());
    let scored = parallel(probes.len(), threads, &Progress::new("scoring probes", probes.len() as u64), |i| {
        let (own, k, img) = probes[i];
        let Ok(features) = matcher::extract(img) else { return (0.0, vec![0.0; per_probe], Vec::new(), Vec::new()) };
        // With the second looks as the HAL takes them, in the form that gives its decision at
        // whatever threshold the scores are counted at (`Touch::best`).
        let touch = matcher::Touch::new(img, features);
        let mut rows = Vec::new();
        let mut compare = |f: usize| {
            let scored = touch.best(&fingers[f].template);
            let matches = scored.matches_of_score();
            if args.views_csv.is_some() {
                rows.extend(view_rows(
                    i,
                    (own, fingers[own].probe_touches[k]),
                    (f, &fingers[f].view_touches),
                    matches,
                    args,
                ));
            }
            scored.score
        };
        let genuine = compare(own);
        let mut rng = ChaCha8Rng::seed_from_u64(i as u64);
        let mut others = Vec::with_capacity(args.impostors);
        while others.len() < args.impostors {
            let f = rng.random_range(0..fingers.len());
            if f != own && !others.contains(&f) {
                others.push(f);
            }
        }
        let scores: Vec<f32> = others.iter().map(|f| compare(*f)).collect();
        let attempts = (0..per_probe)
            .map(|_| {
                let mut group = Vec::with_capacity(args.group);
                while group.len() < args.group {
                    let k = rng.random_range(0..scores.len());
                    if !group.contains(&k) {
                        group.push(k);
                    }
                }
                group.iter().map(|k| scores[*k]).fold(0.0f32, f32::max)
            })
            .collect::<Vec<f32>>();
        (genuine, attempts, scores, rows)
    });
    let mut genuine: Vec<f32> = scored.iter().map(|(g, _, _, _)| *g).collect();
    let mut impostor: Vec<f32> =
        scored.iter().flat_map(|(_, a, _, _)| a.iter().copied()).take(args.attempts.max(1)).collect();
    let mut one_to_one: Vec<f32> = scored.iter().flat_map(|(_, _, c, _)| c.iter().copied()).collect();
    one_to_one.sort_by(f32::total_cmp);
    genuine.sort_by(f32::total_cmp);
    impostor.sort_by(|a, b| b.total_cmp(a));
    let allowed = (impostor.len() as f64 * TARGET_FAR).floor() as usize;
    // Accept at score >= t: the (allowed+1)-th highest impostor score must fall below t.
    let threshold = f32::from_bits(impostor[allowed].to_bits() + 1);
    let accepted = impostor.iter().filter(|s| **s >= threshold).count();
    let frr = genuine.iter().filter(|s| **s < threshold).count() as f64 / genuine.len() as f64;
    let frr_default = genuine.iter().filter(|s| **s < matcher::DEFAULT_THRESHOLD).count() as f64 / genuine.len() as f64;
    let far_default = impostor.iter().filter(|s| **s >= matcher::DEFAULT_THRESHOLD).count();
    let touches: f64 = fingers.iter().map(|f| f.touches_for_enrollment as f64).sum::<f64>() / fingers.len() as f64;
    impostor.reverse();
    println!(
        "synthetic fingers: {}, sensor {}x{} px at 500 dpi, {} views per template, {} probes turned up to ±{}°{}",
        fingers.len(),
        args.set.size,
        args.set.size,
        args.views,
        genuine.len(),
        args.probe_turn,
        if args.harsh_probes { ", some touched harshly (--harsh-probes)" } else { "" }
    );
    println!("enrollment touches needed on average: {touches:.2} for {} counted (quality check, new area)", args.views);
    if args.harsh_probes {
        let harsh = fingers
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.probe_touches.iter().map(move |k| (i, *k)))
            .filter(|(i, k)| range.is_harsh_probe(range.id(*i), *k))
            .count();
        println!(
            "probes touched harshly: {harsh} of the {} scored ({:.0}% of the touches drawn; those the capture check refuses are drawn again)",
            genuine.len(),
            synth_bench::HARSH_SHARE * 100.0
        );
    }
    println!("genuine scores: {}", percentiles(&genuine, &[0.01, 0.03, 0.05, 0.1, 0.5]));
    println!(
        "impostor attempts (best of {} other fingers, drawn from {} compared per probe: {} comparisons): {}; {}",
        args.group,
        args.impostors,
        probes.len() * args.impostors,
        impostor.len(),
        percentiles(&impostor, &[0.5, 0.99, 0.999, 1.0])
    );
    println!(
        "impostor comparisons (1:1): {}; {}",
        one_to_one.len(),
        percentiles(&one_to_one, &[0.5, 0.99, 0.999, 1.0])
    );
    println!("operating threshold for FAR <= 1/50,000 per attempt: {threshold:.4}");
    println!(
        "  at it: FAR {accepted}/{} = {:.2e}, FRR {:.2}%",
        impostor.len(),
        accepted as f64 / impostor.len() as f64,
        frr * 100.0
    );
    println!(
        "  at the default threshold {}: FAR {far_default}/{} = {:.2e}, FRR {:.2}%",
        matcher::DEFAULT_THRESHOLD,
        impostor.len(),
        far_default as f64 / impostor.len() as f64,
        frr_default * 100.0
    );
    println!("elapsed {:.0} s on {threads} threads", started.elapsed().as_secs_f64());
    if let Some(path) = &args.views_csv {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(f, "probe,finger,genuine,view,{},true_turn,true_cover", fphal_tools::VIEW_MATCH_HEADER)?;
        for r in scored.iter().flat_map(|(_, _, _, rows)| rows) {
            writeln!(f, "{r}")?;
        }
        println!("per-view rows written to {}", path.display());
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
        for (name, v) in [("genuine.csv", &genuine), ("impostor.csv", &impostor)] {
            let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
            for s in v.iter() {
                writeln!(f, "{s:.5}")?;
            }
        }
    }
    Ok(())
}

/// The rows of `--views-csv` for probe `probe` (finger, impression) against the views of
/// finger `finger` (index, their impressions). `true_turn` is the probe touch's rotation minus
/// the view touch's, in [-180, 180) (the right pose has `degrees` near it); both truths are empty
/// for impostors.
fn view_rows(
    probe: usize,
    (own, probe_touch): (usize, u32),
    (finger, view_touches): (usize, &[u32]),
    matches: &[matcher::ViewMatch],
    args: &Args,
) -> Vec<String> {
    let genuine = finger == own;
    let range = args.range();
    let probe_placement = range.probe_touch(range.id(own), probe_touch);
    matches
        .iter()
        .zip(view_touches)
        .enumerate()
        .map(|(v, (m, view_touch))| {
            let truth = if genuine {
                let t = range.touch(range.id(finger), *view_touch);
                format!(
                    "{:.1},{:.3}",
                    turn_between(t.rotation, probe_placement.rotation),
                    share_covered(&probe_placement, 30, footprint(&t))
                )
            } else {
                ",".to_string()
            };
            format!("{probe},{finger},{},{v},{},{truth}", u8::from(genuine), fphal_tools::view_match_fields(m))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_true_turn_between_two_touches_is_the_short_way_round() {
        assert_eq!(turn_between(10.0, 25.0), 15.0);
        assert_eq!(turn_between(170.0, -170.0), 20.0);
        assert_eq!(turn_between(-170.0, 170.0), -20.0);
        assert_eq!(turn_between(-15.0, 180.0), -165.0);
        assert_eq!(turn_between(0.0, 180.0), -180.0);
    }

    #[test]
    fn probe_turns_outside_the_circle_or_of_nothing_are_refused() {
        for refused in ["0", "-0", "-5", "181", "nan", "x"] {
            assert!(turn_in_range(refused).is_err(), "{refused}");
        }
        assert_eq!(turn_in_range("180"), Ok(180.0));
        assert_eq!(turn_in_range("15"), Ok(15.0));
    }
}
