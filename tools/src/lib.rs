//! Shared pieces of the fphal command-line tools: reading capture images from files.
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use fphal::image::GrayImage;
use std::path::Path;

/// Largest image side a decoder is allowed to allocate for, before fphal's own 1024 px limit
/// gives the precise error. Keeps hostile files from exhausting memory.
const DECODE_MAX_SIDE: u32 = 16_384;

/// Reads an 8-bit grayscale capture (PNG, PGM, TIFF or BMP; colour is converted to luma) at `dpi`.
pub fn load_capture(path: &Path, dpi: u32) -> Result<GrayImage> {
    let mut reader = image::ImageReader::open(path)
        .with_context(|| format!("{}: cannot open", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    limits.max_alloc = Some(256 << 20);
    reader.limits(limits);
    if reader.format().is_none() {
        bail!("{}: not a PNG, PGM, TIFF or BMP image", path.display());
    }
    let decoded = reader.decode().with_context(|| format!("{}: cannot decode", path.display()))?;
    let luma = decoded.into_luma8();
    let (w, h) = luma.dimensions();
    GrayImage::new(w, h, dpi, luma.into_raw()).with_context(|| format!("{}: not a usable capture", path.display()))
}

pub mod doctor;
pub mod synth_bench;
pub mod touch;

/// A progress bar on a terminal, plain progress lines (every 10%) when stderr is not one.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: std::sync::atomic::AtomicU64,
    label: String,
}

impl Progress {
    pub fn new(label: &str, total: u64) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta} left)")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_message(label.to_string());
            b
        });
        Progress { bar, total, done: std::sync::atomic::AtomicU64::new(0), label: label.to_string() }
    }

    pub fn inc(&self) {
        self.inc_by(1);
    }

    pub fn inc_by(&self, k: u64) {
        let n = self.done.fetch_add(k, std::sync::atomic::Ordering::Relaxed) + k;
        match &self.bar {
            Some(b) => b.inc(k),
            None => {
                // A plain line each time another tenth is done.
                let step = (self.total / 10).max(1);
                if (n - k) / step != n / step || n == self.total {
                    eprintln!("{}: {n}/{}", self.label, self.total);
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Header of the per-capture description that `fphal-eval describe` and `fphal-synth-bench
/// describe` print, so that real and synthetic captures can be compared line for line.
pub const DESCRIBE_HEADER: &str = "path,foreground,period_px,minutiae,mean_quality";

/// One description line: foreground share, median ridge period, minutiae count, mean quality.
pub fn describe_row(name: &str, a: &fphal::matcher::RidgeAnalysis) -> String {
    let m = &a.normalised.mask;
    let foreground = m.iter().filter(|v| **v > 0.5).count() as f32 / m.len() as f32;
    let quality = a.minutiae.iter().map(|m| m.quality).sum::<f32>() / a.minutiae.len().max(1) as f32;
    format!("{name},{foreground:.3},{:.2},{},{quality:.2}", a.flow.median_period, a.minutiae.len())
}

/// Columns of one probe–view comparison, as `fphal-eval score --views-csv` and `fphal-synth-bench
/// --views-csv` write them: the correlation peak and its pose, minutiae pairs, patch likeness,
/// common-area counts and the view's evidence (a finger scores the mean of its two highest).
pub const VIEW_MATCH_HEADER: &str = "peak,degrees,shift_x,shift_y,pairs,likeness,probe_common,view_common,evidence";

/// One comparison's columns, in the order of [`VIEW_MATCH_HEADER`].
pub fn view_match_fields(m: &fphal::matcher::ViewMatch) -> String {
    let a = &m.minutiae;
    // A view not correlated (ranked below the finger's best) has no pose: empty columns.
    let pose = m.pose.map_or(",,".to_string(), |p| format!("{},{},{}", p.degrees, p.shift.0, p.shift.1));
    format!(
        "{:.4},{pose},{},{:.3},{},{},{:.5}",
        m.peak,
        a.pairs,
        a.likeness,
        a.probe_common,
        a.view_common,
        m.evidence()
    )
}

/// Exit status of a usage error (`EX_USAGE` of sysexits.h). clap's own 2 would collide with the
/// tools whose 2 means something (`fphal-host`: a contract was broken; `fphal-token`: the token
/// does not verify).
pub const EXIT_USAGE: i32 = 64;

/// Parses the command line like `clap::Parser::parse`, except that a usage error exits with
/// [`EXIT_USAGE`]. `--help` and `--version` print and exit 0.
pub fn parse_args<P: clap::Parser>() -> P {
    P::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(if e.use_stderr() { EXIT_USAGE } else { 0 })
    })
}

/// A tool's exit: 0 on success; on an error, the error chain on one stderr line prefixed with
/// the tool's name, and 1.
pub fn exit_with(tool: &str, result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{tool}: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
