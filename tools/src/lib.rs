//! Shared pieces of the fphal command-line tools: reading capture images from files.

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

pub mod touch;
