//! Synthetic-finger bench: the phone protocol on `--fingers` synthetic fingers, the operating
//! threshold chosen from impostor identification attempts, and the FRR it costs.
//!
//!   fphal-synth-bench [--fingers 1000] [--first-id 1] [--size 160] [--views 14] [--probes 2]
//!                     [--attempts 150000] [--group 5] [--out DIR] [--views-csv FILE]
//!   fphal-synth-bench --directions [--fingers 200]   (how consistently minutiae are oriented)
//!
//! Enrollment: impressions 1, 2, … of each finger until `--views` of them pass the capture
//! quality check and add area, as the HAL counts them (the touches needed are counted). Probes: the next `--probes` impressions that pass.
//! Genuine: each probe against its own finger. Impostor attempts, as the HAL identifies: each
//! probe is scored once against `--impostors` other fingers drawn at random, and its attempts are
//! groups of `--group` of those fingers (score = best of the group), `--attempts` in all. The
//! threshold is the lowest score at which at most attempts/50,000 attempts are accepted.

use anyhow::{Result, bail};
use clap::Parser;
use fphal::image::GrayImage;
use fphal::matcher::{self, Quality, Template};
use fphal_synth::{Master, Touch};
use fphal_tools::Progress;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Parser)]
#[command(name = "fphal-synth-bench", about = "FRR, FAR and the operating threshold on synthetic fingers")]
struct Cli {
    #[arg(long, default_value_t = 1000)]
    fingers: u64,
    /// Id of the first synthetic finger (fingers are `--first-id`, `--first-id` + 1, …): another
    /// range gives fingers independent of those a setting was chosen on.
    #[arg(long, default_value_t = 1)]
    first_id: u64,
    #[arg(long, default_value_t = 160)]
    size: u32,
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
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Writes genuine.csv and impostor.csv (one score per line) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Writes one row per probe and enrolled view it was compared with, for finding out why
    /// scores are what they are: the view's correlation peak and pose, minutiae pairs, patch
    /// likeness and common-area counts, the view's evidence (a finger scores the mean of its two
    /// highest), and for genuine rows the true rotation between the two
    /// touches and the share of the probe's area the view's touch covers. (Use few fingers and
    /// `--impostors`: every comparison writes a row per view.)
    #[arg(long)]
    views_csv: Option<PathBuf>,
    /// Only describe `--fingers` × 8 impressions (ridge period, minutiae per crop, foreground), in
    /// the format of `fphal-eval describe`, for comparison with real crops.
    #[arg(long)]
    describe: bool,
    /// Only measure enrollment coverage: for 4..=16 enrollment touches (impressions 1..=K of
    /// `--fingers` fingers), the share of a later touch's area (impressions 17..=24) that they cover.
    #[arg(long)]
    coverage: bool,
    /// Only measure how consistently minutiae are oriented: touches 2–6 of `--fingers` fingers
    /// against touch 1, under the generator's true placements.
    #[arg(long)]
    directions: bool,
}

/// FAR per attempt the threshold must reach (Android's requirement for fingerprint).
const TARGET_FAR: f64 = 1.0 / 50_000.0;

fn to_gray(i: fphal_synth::Image) -> Result<GrayImage> {
    Ok(GrayImage::new(i.width, i.height, i.dpi, i.pixels)?)
}

struct Finger {
    template: Template,
    probes: Vec<GrayImage>,
    touches_for_enrollment: u32,
    /// Impressions (`Touch::nth`) of the enrolled views and of the probes.
    view_touches: Vec<u32>,
    probe_touches: Vec<u32>,
}

fn build(id: u64, cli: &Cli) -> Result<Finger> {
    let master = Master::grow(id);
    let (mut views, mut probes, mut touches) = (Vec::new(), Vec::new(), 0u32);
    let (mut view_touches, mut probe_touches) = (Vec::new(), Vec::new());
    let mut impression = 0u32;
    while views.len() < cli.views || probes.len() < cli.probes {
        impression += 1;
        if impression > 200 {
            bail!("finger {id}: no usable touches");
        }
        let img = to_gray(fphal_synth::impression(&master, &Touch::nth(id, impression, cli.size, 500)))?;
        let enrolling = views.len() < cli.views;
        if enrolling {
            touches += 1;
        }
        if matcher::assess(&img) != Quality::Good {
            continue;
        }
        if enrolling {
            // As the HAL enrolls: a touch where an earlier one lay does not count.
            if let Ok(f) = matcher::extract(&img) {
                if matcher::adds_area(&f, &views) {
                    views.push(f);
                    view_touches.push(impression);
                }
            }
        } else {
            probes.push(img);
            probe_touches.push(impression);
        }
    }
    Ok(Finger { template: Template::from_views(views), probes, touches_for_enrollment: touches, view_touches, probe_touches })
}

fn parallel<T: Send>(n: usize, threads: usize, progress: &Progress, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
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

fn percentiles(sorted: &[f32], ps: &[f64]) -> String {
    ps.iter().map(|p| format!("p{}={:.3}", (p * 1000.0).round() / 10.0, sorted[((sorted.len() - 1) as f64 * p).round() as usize])).collect::<Vec<_>>().join(" ")
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let threads = cli.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let started = std::time::Instant::now();
    if cli.describe {
        return describe(&cli, threads);
    }
    if cli.coverage {
        coverage(&cli);
        return Ok(());
    }
    if cli.directions {
        directions(&cli, threads);
        return Ok(());
    }
    if cli.fingers as usize <= cli.impostors || cli.impostors < cli.group {
        bail!("need --fingers > --impostors >= --group");
    }
    let fingers = parallel(cli.fingers as usize, threads, &Progress::new("growing and enrolling fingers", cli.fingers), |i| build(cli.first_id + i as u64, &cli));
    let fingers: Vec<Finger> = fingers.into_iter().collect::<Result<_>>()?;
    let probes: Vec<(usize, usize, &GrayImage)> =
        fingers.iter().enumerate().flat_map(|(f, fi)| fi.probes.iter().enumerate().map(move |(k, p)| (f, k, p))).collect();
    let per_probe = cli.attempts.div_ceil(probes.len());
    let scored = parallel(probes.len(), threads, &Progress::new("scoring probes", probes.len() as u64), |i| {
        let (own, k, img) = probes[i];
        let Ok(features) = matcher::extract(img) else { return (0.0, vec![0.0; per_probe], Vec::new(), Vec::new()) };
        let mut rows = Vec::new();
        let mut compare = |f: usize| {
            let matches = matcher::view_matches(&features, &fingers[f].template);
            if cli.views_csv.is_some() {
                rows.extend(view_rows(i, (own, fingers[own].probe_touches[k]), (f, &fingers[f].view_touches), &matches, &cli));
            }
            matcher::score_of(&matches)
        };
        let genuine = compare(own);
        let mut rng = ChaCha8Rng::seed_from_u64(i as u64);
        let mut others = Vec::with_capacity(cli.impostors);
        while others.len() < cli.impostors {
            let f = rng.random_range(0..fingers.len());
            if f != own && !others.contains(&f) {
                others.push(f);
            }
        }
        let scores: Vec<f32> = others.iter().map(|f| compare(*f)).collect();
        let attempts = (0..per_probe)
            .map(|_| {
                let mut group = Vec::with_capacity(cli.group);
                while group.len() < cli.group {
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
    let mut impostor: Vec<f32> = scored.iter().flat_map(|(_, a, _, _)| a.iter().copied()).take(cli.attempts.max(1)).collect();
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
    println!("synthetic fingers: {}, sensor {}x{} px at 500 dpi, {} views per template, {} probes", fingers.len(), cli.size, cli.size, cli.views, genuine.len());
    println!("enrollment touches needed on average: {touches:.2} for {} counted (quality check, new area)", cli.views);
    println!("genuine scores: {}", percentiles(&genuine, &[0.01, 0.03, 0.05, 0.1, 0.5]));
    println!(
        "impostor attempts (best of {} other fingers, drawn from {} compared per probe: {} comparisons): {}; {}",
        cli.group,
        cli.impostors,
        probes.len() * cli.impostors,
        impostor.len(),
        percentiles(&impostor, &[0.5, 0.99, 0.999, 1.0])
    );
    println!("impostor comparisons (1:1): {}; {}", one_to_one.len(), percentiles(&one_to_one, &[0.5, 0.99, 0.999, 1.0]));
    println!("operating threshold for FAR <= 1/50,000 per attempt: {threshold:.4}");
    println!("  at it: FAR {accepted}/{} = {:.2e}, FRR {:.2}%", impostor.len(), accepted as f64 / impostor.len() as f64, frr * 100.0);
    println!(
        "  at the default threshold {}: FAR {far_default}/{} = {:.2e}, FRR {:.2}%",
        matcher::DEFAULT_THRESHOLD,
        impostor.len(),
        far_default as f64 / impostor.len() as f64,
        frr_default * 100.0
    );
    println!("elapsed {:.0} s on {threads} threads", started.elapsed().as_secs_f64());
    if let Some(path) = &cli.views_csv {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(f, "{VIEW_ROW_HEADER}")?;
        for r in scored.iter().flat_map(|(_, _, _, rows)| rows) {
            writeln!(f, "{r}")?;
        }
        println!("per-view rows written to {}", path.display());
    }
    if let Some(dir) = &cli.out {
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

fn describe(cli: &Cli, threads: usize) -> Result<()> {
    let rows = parallel(cli.fingers as usize, threads, &Progress::new("describing synthetic touches", cli.fingers), |i| {
        let id = cli.first_id + i as u64;
        let master = Master::grow(id);
        (1..=8u32)
            .filter_map(|k| {
                let img = to_gray(fphal_synth::impression(&master, &Touch::nth(id, k, cli.size, 500))).ok()?;
                Some(fphal_tools::describe_row(&format!("synthetic/{id}_{k}"), &matcher::analyse(&img).ok()?))
            })
            .collect::<Vec<String>>()
    });
    println!("{}", fphal_tools::DESCRIBE_HEADER);
    for r in rows.iter().flatten() {
        println!("{r}");
    }
    Ok(())
}

/// Where a point of touch `a`'s image (pixels at 500 dpi) lies in touch `b`'s image, by the
/// generator's placements (skin stretch aside).
fn carry(a: &Touch, b: &Touch, x: f32, y: f32) -> (f32, f32) {
    let half = a.size as f32 / 2.0;
    let (fx, fy) = to_finger(a, x - half, y - half);
    let (u, v) = to_sensor(b, fx, fy);
    (u + half, v + half)
}

/// A point of touch `t`'s sensor, relative to the sensor's centre, on the finger canvas (500-dpi
/// pixels from the finger's centre).
fn to_finger(t: &Touch, u: f32, v: f32) -> (f32, f32) {
    let (s, c) = t.rotation.to_radians().sin_cos();
    (t.dx + c * u - s * v, t.dy + s * u + c * v)
}

/// The inverse of [`to_finger`]: a finger-canvas point on touch `t`'s sensor, from its centre.
fn to_sensor(t: &Touch, x: f32, y: f32) -> (f32, f32) {
    let (s, c) = t.rotation.to_radians().sin_cos();
    let (x, y) = (x - t.dx, y - t.dy);
    (c * x + s * y, -s * x + c * y)
}

/// A minutia seen again: the nearest of the same kind within this (pixels) under the true placement.
const SEEN_AGAIN: f32 = 5.0;

/// How often a minutia seen again in a later touch points the same way (within 30°) or the
/// opposite way (beyond 150°), for endings and bifurcations.
fn directions(cli: &Cli, threads: usize) {
    let per_finger = parallel(cli.fingers as usize, threads, &Progress::new("comparing minutia directions", cli.fingers), |i| {
        let id = cli.first_id + i as u64;
        let master = Master::grow(id);
        let touches: Vec<(Touch, Vec<matcher::minutiae::Minutia>)> = (1..=6u32)
            .filter_map(|k| {
                let t = Touch::nth(id, k, cli.size, 500);
                let img = to_gray(fphal_synth::impression(&master, &t)).ok()?;
                let minutiae = matcher::analyse(&img).ok()?.minutiae.clone();
                Some((t, minutiae))
            })
            .collect();
        // [ending, bifurcation] × [same way, opposite way, across]
        let mut counts = [[0usize; 3]; 2];
        let Some(((first, seen), later)) = touches.split_first() else { return counts };
        let margin = 16.0..cli.size as f32 - 16.0;
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
                counts[kind][if turn <= 30.0 { 0 } else if turn >= 150.0 { 1 } else { 2 }] += 1;
            }
        }
        counts
    });
    println!("minutiae of touch 1 seen again in touches 2-6 (same kind within {SEEN_AGAIN} px under the true placements), {} fingers:", cli.fingers);
    for (k, name) in ["endings", "bifurcations"].iter().enumerate() {
        let c: [usize; 3] = [0, 1, 2].map(|j| per_finger.iter().map(|f| f[k][j]).sum());
        let n = c.iter().sum::<usize>().max(1) as f64;
        println!("  {name}: {} seen again; same way {:.1}%, opposite way {:.1}%, across {:.1}%", c.iter().sum::<usize>(), c[0] as f64 / n * 100.0, c[1] as f64 / n * 100.0, c[2] as f64 / n * 100.0);
    }
}

/// The sensor's square under touch `t`, as a test of finger-canvas points (500-dpi pixels).
fn footprint(t: &Touch) -> impl Fn(f32, f32) -> bool + use<> {
    let half = t.size as f32 * 500.0 / t.dpi as f32 / 2.0;
    let t = t.clone();
    move |x, y| {
        let (u, v) = to_sensor(&t, x, y);
        u.abs() <= half && v.abs() <= half
    }
}

/// The share of touch `t`'s area (sampled on a `steps`² grid) where `covered` holds.
fn share_covered(t: &Touch, steps: usize, covered: impl Fn(f32, f32) -> bool) -> f32 {
    let half = t.size as f32 * 500.0 / t.dpi as f32 / 2.0;
    let mut n = 0;
    for v in 0..steps {
        for u in 0..steps {
            let (u, v) = ((u as f32 + 0.5) / steps as f32 * 2.0 * half - half, (v as f32 + 0.5) / steps as f32 * 2.0 * half - half);
            let (x, y) = to_finger(t, u, v);
            n += usize::from(covered(x, y));
        }
    }
    n as f32 / (steps * steps) as f32
}

const VIEW_ROW_HEADER: &str = "probe,finger,genuine,view,peak,degrees,shift_x,shift_y,pairs,likeness,probe_common,view_common,evidence,true_turn,true_cover";

/// The rows of `--views-csv` for probe `probe` (finger, impression) against the views of
/// finger `finger` (index, their impressions). `true_turn` is the probe touch's rotation minus
/// the view touch's (the right pose has `degrees` near it); both truths are empty for impostors.
fn view_rows(probe: usize, (own, probe_touch): (usize, u32), (finger, view_touches): (usize, &[u32]), matches: &[matcher::ViewMatch], cli: &Cli) -> Vec<String> {
    let genuine = finger == own;
    let probe_placement = Touch::nth(cli.first_id + own as u64, probe_touch, cli.size, 500);
    matches
        .iter()
        .zip(view_touches)
        .enumerate()
        .map(|(v, (m, view_touch))| {
            let truth = if genuine {
                let t = Touch::nth(cli.first_id + finger as u64, *view_touch, cli.size, 500);
                format!("{:.1},{:.3}", probe_placement.rotation - t.rotation, share_covered(&probe_placement, 30, footprint(&t)))
            } else {
                ",".to_string()
            };
            let a = &m.minutiae;
            format!(
                "{probe},{finger},{},{v},{:.4},{},{},{},{},{:.3},{},{},{:.5},{truth}",
                u8::from(genuine),
                m.peak,
                m.pose.degrees,
                m.pose.shift.0,
                m.pose.shift.1,
                a.pairs,
                a.likeness,
                a.probe_common,
                a.view_common,
                m.evidence()
            )
        })
        .collect()
}

fn coverage(cli: &Cli) {
    const LATER: std::ops::RangeInclusive<u32> = 17..=24;
    println!("enrollment touches, mean share of a later touch they cover, 5th percentile, later touches under 90% covered");
    for k in 4..=16u32 {
        let mut shares = Vec::new();
        for finger in cli.first_id..cli.first_id + cli.fingers {
            let enrolled: Vec<_> = (1..=k).map(|i| footprint(&Touch::nth(finger, i, cli.size, 500))).collect();
            for later in LATER {
                let t = Touch::nth(finger, later, cli.size, 500);
                shares.push(share_covered(&t, 40, |x, y| enrolled.iter().any(|inside| inside(x, y))));
            }
        }
        shares.sort_by(f32::total_cmp);
        let mean = shares.iter().sum::<f32>() / shares.len() as f32;
        let under = shares.iter().filter(|s| **s < 0.9).count() as f32 / shares.len() as f32;
        println!("{k:2}  {:5.1}%  {:5.1}%  {:5.1}%", mean * 100.0, shares[shares.len() / 20] * 100.0, under * 100.0);
    }
}
