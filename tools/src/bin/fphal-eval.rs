//! Evaluation front end of the recognition engine, with an interface any protocol can drive:
//!
//!   fphal-eval enroll --dpi DPI --out TEMPLATE IMAGE...
//!   fphal-eval score  --dpi DPI [--threads N] [--views-csv FILE] PAIRS.csv
//!                                              (lines: template_path,probe_image_path)
//!
//! `score` prints `template_path,probe_image_path,score,match` in input order; `match` is 1 when
//! the score reaches the threshold the HAL uses by default. The score includes the second looks at
//! a touch that almost matched, as the best of the looks from 0.12 up, so that it gives the HAL's
//! decision at any threshold. With `--views-csv FILE` it also writes each pair's comparison with
//! every view of the template (in the look that gave the score), for finding out why a score is
//! low.
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use fphal::image::GrayImage;
use fphal::matcher::{self, Features, Template};
use fphal_tools::load_capture;
use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "fphal-eval",
    version,
    about = "Build finger templates and score probe images with fphal's engine",
    after_help = "Exit status: 0 done, 1 error, 64 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build one finger's template from all the given touches, in order.
    Enroll {
        #[arg(long)]
        dpi: u32,
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Score every `template,probe` line of a CSV file.
    Score {
        #[arg(long)]
        dpi: u32,
        pairs: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Also write one row per pair and enrolled view: the view's correlation peak and pose
        /// (empty for a view the engine did not correlate), minutiae pairs, patch likeness,
        /// common-area counts and evidence (a finger scores the mean of its two highest
        /// evidences), in the look that gave the score (a second look's poses lie on its copy,
        /// rescaled by 2%). A probe the engine cannot use (it scores 0) has no rows. Written whole
        /// or not at all: FILE appears only when every pair was scored.
        #[arg(long)]
        views_csv: Option<PathBuf>,
    },
    /// Describe each image's ridge structure: `path,foreground,period_px,minutiae,mean_quality`
    /// (foreground share of the image, median ridge period at 500 dpi, minutiae found).
    Describe {
        #[arg(long)]
        dpi: u32,
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Time the engine on one core: feature extraction, and identification of one capture against
    /// `--fingers` templates of `--views` views each (built from the first images), template size.
    Time {
        #[arg(long)]
        dpi: u32,
        #[arg(long, default_value_t = 5)]
        fingers: usize,
        #[arg(long, default_value_t = 8)]
        views: usize,
        /// Also time the ridge analysis, the first stage of extraction, on its own (one more
        /// analysis per probe, which instruction counts should leave out).
        #[arg(long)]
        stages: bool,
        /// Images: the first fingers×views build the templates, the rest are probes.
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    fphal_tools::exit_with("fphal-eval", run(fphal_tools::parse_args::<Cli>()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Enroll { dpi, out, images } => enroll(dpi, &out, &images),
        Command::Score { dpi, pairs, threads, views_csv } => score(dpi, &pairs, threads, views_csv.as_deref()),
        Command::Time { dpi, fingers, views, stages, images } => time(dpi, fingers, views, stages, &images),
        Command::Describe { dpi, images } => describe(dpi, &images),
    }
}

fn features_of(path: &Path, dpi: u32) -> Result<Features> {
    capture_and_features(path, dpi).map(|(_, f)| f)
}

fn capture_and_features(path: &Path, dpi: u32) -> Result<(GrayImage, Features)> {
    let img = load_capture(path, dpi)?;
    let features = matcher::extract(&img).with_context(|| format!("{}: no features", path.display()))?;
    Ok((img, features))
}

fn enroll(dpi: u32, out: &Path, images: &[PathBuf]) -> Result<()> {
    let mut views = Vec::new();
    for p in images {
        match features_of(p, dpi) {
            Ok(f) => views.push(f),
            // A touch the engine cannot use is skipped, as the HAL would not count it.
            Err(e) => eprintln!("fphal-eval: skipping touch: {e:#}"),
        }
    }
    if views.is_empty() {
        bail!("none of the {} touches is usable", images.len());
    }
    let template = Template::from_views(views);
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = out.file_name().and_then(|n| n.to_str()).context("--out must name a file")?;
    fphal::fsutil::write_atomic(dir, name, &template.to_bytes())
        .with_context(|| format!("{}: cannot write template", out.display()))
}

/// Lines are processed in blocks so that a probe repeated on consecutive lines (every template
/// against one probe) is extracted once, while memory stays bounded for any file size.
const BLOCK_LINES: usize = 512;

fn score(dpi: u32, pairs: &Path, threads: Option<usize>, views_csv: Option<&Path>) -> Result<()> {
    let Some(path) = views_csv else {
        return score_pairs(dpi, pairs, threads, None);
    };
    // The rows go to a file beside FILE, renamed to it once every pair is scored, so that a run
    // that stops on an error leaves no truncated FILE that looks whole.
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let written = (|| -> Result<()> {
        let file = std::fs::File::create(&partial).context("cannot create")?;
        let mut w = BufWriter::new(file);
        writeln!(w, "template,probe,view,{}", fphal_tools::VIEW_MATCH_HEADER)?;
        score_pairs(dpi, pairs, threads, Some(&mut w))?;
        w.flush().context("cannot write")?;
        Ok(())
    })();
    match written {
        Ok(()) => std::fs::rename(&partial, path).with_context(|| format!("{}: cannot write", path.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e.context(format!("{}: not written", path.display())))
        }
    }
}

fn score_pairs(
    dpi: u32,
    pairs: &Path,
    threads: Option<usize>,
    mut views: Option<&mut BufWriter<std::fs::File>>,
) -> Result<()> {
    let file = std::fs::File::open(pairs).with_context(|| format!("{}: cannot open", pairs.display()))?;
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let mut templates: HashMap<String, Arc<Template>> = HashMap::new();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut block: Vec<(String, String)> = Vec::new();
    let total = std::io::BufReader::new(std::fs::File::open(pairs)?)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .count();
    let progress = fphal_tools::Progress::new("scoring pairs", total as u64);
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: read error", pairs.display()))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((t, p)) = line.split_once(',') else {
            bail!("{}:{}: expected template_path,probe_image_path", pairs.display(), n + 1);
        };
        block.push((t.trim().to_string(), p.trim().to_string()));
        if block.len() == BLOCK_LINES {
            score_block(dpi, &block, &mut templates, threads, &mut out, views.as_deref_mut())?;
            progress.inc_by(block.len() as u64);
            block.clear();
        }
    }
    score_block(dpi, &block, &mut templates, threads, &mut out, views)?;
    progress.inc_by(block.len() as u64);
    progress.finish();
    out.flush()?;
    Ok(())
}

fn score_block(
    dpi: u32,
    block: &[(String, String)],
    templates: &mut HashMap<String, Arc<Template>>,
    threads: usize,
    out: &mut impl Write,
    views: Option<&mut BufWriter<std::fs::File>>,
) -> Result<()> {
    for (t, _) in block {
        if !templates.contains_key(t) {
            let bytes = std::fs::read(t).with_context(|| format!("{t}: cannot read template"))?;
            let tpl = Template::from_bytes(&bytes).with_context(|| format!("{t}: not a template"))?;
            templates.insert(t.clone(), Arc::new(tpl));
        }
    }
    let mut probes: Vec<&str> = block.iter().map(|(_, p)| p.as_str()).collect();
    probes.sort_unstable();
    probes.dedup();
    // An unusable probe scores 0 (it would be rejected), with its reason on stderr.
    let (images, features): (Vec<Option<GrayImage>>, Vec<Option<Features>>) =
        parallel_map(&probes, threads, |p| match capture_and_features(Path::new(p), dpi) {
            Ok((img, f)) => (Some(img), Some(f)),
            Err(e) => {
                eprintln!("fphal-eval: {e:#}");
                (None, None)
            }
        })
        .into_iter()
        .unzip();
    // Scored with the second looks, in the form that gives the HAL's decision at any threshold
    // (`Touch::best`); the view rows are those of the look that gave the score.
    let touches: HashMap<&str, Option<matcher::Touch>> = probes
        .iter()
        .zip(images.iter().zip(features))
        .map(|(p, (img, f))| (*p, img.as_ref().zip(f).map(|(img, f)| matcher::Touch::new(img, f))))
        .collect();
    let scored =
        parallel_map(block, threads, |(t, p)| touches[p.as_str()].as_ref().map(|touch| touch.best(&templates[t])));
    for ((t, p), m) in block.iter().zip(&scored) {
        let s = m.as_ref().map_or(0.0, |m| m.score);
        let matched = u8::from(s >= matcher::DEFAULT_THRESHOLD);
        writeln!(out, "{t},{p},{s:.5},{matched}")?;
    }
    if let Some(w) = views {
        for ((t, p), m) in block.iter().zip(scored.iter().map(|m| m.as_ref().map_or(&[][..], |m| m.matches_of_score())))
        {
            for (v, view) in m.iter().enumerate() {
                writeln!(w, "{t},{p},{v},{}", fphal_tools::view_match_fields(view))?;
            }
        }
    }
    Ok(())
}

/// Applies `f` to every item on `threads` scoped threads, keeping the input order.
fn parallel_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items.chunks(chunk).map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("scoring thread panicked")).collect()
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn time(dpi: u32, fingers: usize, views: usize, stages: bool, images: &[PathBuf]) -> Result<()> {
    let enrolled = fingers * views;
    if images.len() <= enrolled {
        bail!("need more than {enrolled} images ({fingers} fingers x {views} views, then probes)");
    }
    let captures: Vec<_> = images.iter().map(|p| load_capture(p, dpi)).collect::<Result<_>>()?;
    let mut templates = Vec::new();
    for f in 0..fingers {
        let v = captures[f * views..(f + 1) * views].iter().map(matcher::extract).collect::<Result<Vec<_>, _>>()?;
        templates.push(Template::from_views(v));
    }
    let (mut extract_ms, mut analyse_ms, mut identify_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut second_looks = 0;
    for c in &captures[enrolled..] {
        // The ridge analysis alone (the first stage of extraction), timed on its own run.
        let t0 = std::time::Instant::now();
        if stages && matcher::analyse(c).is_ok() {
            analyse_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        let t0 = std::time::Instant::now();
        let Ok(f) = matcher::extract(c) else { continue };
        let t1 = std::time::Instant::now();
        let touch = matcher::Touch::new(c, f);
        let best = templates.iter().map(|t| touch.score(t, matcher::DEFAULT_THRESHOLD).score).fold(0.0f32, f32::max);
        let t2 = std::time::Instant::now();
        second_looks += usize::from(touch.second_looks() > 0);
        std::hint::black_box(best);
        extract_ms.push((t1 - t0).as_secs_f64() * 1e3);
        identify_ms.push((t2 - t0).as_secs_f64() * 1e3);
    }
    if identify_ms.is_empty() {
        bail!("no probe image was usable");
    }
    for ms in [&mut extract_ms, &mut analyse_ms, &mut identify_ms] {
        ms.sort_by(f64::total_cmp);
    }
    let size = templates[0].to_bytes().len();
    println!(
        "probes: {} ({}x{} px at {dpi} dpi), one thread",
        identify_ms.len(),
        captures[enrolled].width(),
        captures[enrolled].height()
    );
    println!(
        "feature extraction: median {:.2} ms, p90 {:.2} ms",
        percentile(&extract_ms, 0.5),
        percentile(&extract_ms, 0.9)
    );
    if !analyse_ms.is_empty() {
        println!(
            "  of which ridge analysis (normalisation, ridge flow, enhancement, minutiae): median {:.2} ms",
            percentile(&analyse_ms, 0.5)
        );
    }
    println!(
        "identification against {fingers} fingers x {views} views (extraction included): median {:.2} ms, p90 {:.2} ms",
        percentile(&identify_ms, 0.5),
        percentile(&identify_ms, 0.9)
    );
    println!(
        "probes looked at again (a first look from {} up to the threshold): {second_looks} of {}",
        matcher::SECOND_LOOK_FROM,
        identify_ms.len()
    );
    println!("template size: {size} bytes ({views} views)");
    if let Some(peak) = peak_resident_kb() {
        println!("peak resident memory of this process: {peak} kB");
    }
    Ok(())
}

/// The process's peak resident set (`VmHWM` of /proc/self/status), where the kernel reports it.
fn peak_resident_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn describe(dpi: u32, images: &[PathBuf]) -> Result<()> {
    println!("{}", fphal_tools::DESCRIBE_HEADER);
    for p in images {
        let img = load_capture(p, dpi)?;
        let a = matcher::analyse(&img).with_context(|| format!("{}: no ridge structure", p.display()))?;
        println!("{}", fphal_tools::describe_row(&p.display().to_string(), &a));
    }
    Ok(())
}
