//! An 8-bit grayscale capture as the sensor delivers it. Wiped from memory when dropped.

use std::fmt;
use zeroize::Zeroize;

/// Largest side the sensor protocol and the engine accept.
pub const MAX_SIDE: u32 = 1024;
/// Resolutions a capture on the sensor path may have: those the engine reads.
pub const CAPTURE_DPI: std::ops::RangeInclusive<u32> = 300..=1000;
/// Largest side of a capture on the sensor path once resampled to 500 dpi: above any phone
/// sensor's (the FPC1020's is 192 px), and it bounds the engine's work per touch.
pub const MAX_CAPTURE_SIDE_500_DPI: u32 = 512;

/// Whether `img` is a capture the sensor path takes: a resolution in [`CAPTURE_DPI`] and no side
/// longer than [`MAX_CAPTURE_SIDE_500_DPI`] at 500 dpi. The reason, in words, when it is not.
pub fn check_capture(img: &GrayImage) -> Result<(), String> {
    check_capture_size(img.width(), img.height(), img.dpi())
}

/// [`check_capture`] for a capture announced as `width`×`height` px at `dpi`.
pub fn check_capture_size(width: u32, height: u32, dpi: u32) -> Result<(), String> {
    if !CAPTURE_DPI.contains(&dpi) {
        let (lo, hi) = (CAPTURE_DPI.start(), CAPTURE_DPI.end());
        return Err(format!("a capture at {dpi} dpi is outside the {lo}..={hi} dpi the engine reads"));
    }
    let side = width.max(height) as u64 * 500 / dpi as u64;
    if side > MAX_CAPTURE_SIDE_500_DPI as u64 {
        return Err(format!(
            "a capture of {width}x{height} px at {dpi} dpi is {side} px at 500 dpi, larger than the \
             {MAX_CAPTURE_SIDE_500_DPI} px a sensor may send"
        ));
    }
    Ok(())
}

#[derive(Clone, PartialEq, Eq)]
pub struct GrayImage {
    width: u32,
    height: u32,
    dpi: u32,
    pixels: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    BadSize { width: u32, height: u32 },
    PixelCount { expected: usize, got: usize },
    BadDpi(u32),
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::BadSize { width, height } => {
                write!(f, "image of {width}x{height} px: each side must be 1..={MAX_SIDE}")
            }
            ImageError::PixelCount { expected, got } => {
                write!(f, "expected {expected} pixel bytes, got {got}")
            }
            ImageError::BadDpi(d) => write!(f, "resolution of {d} dpi is outside 100..=5000"),
        }
    }
}

impl std::error::Error for ImageError {}

impl GrayImage {
    pub fn new(width: u32, height: u32, dpi: u32, pixels: Vec<u8>) -> Result<Self, ImageError> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(ImageError::BadSize { width, height });
        }
        let expected = width as usize * height as usize;
        if pixels.len() != expected {
            return Err(ImageError::PixelCount { expected, got: pixels.len() });
        }
        if !(100..=5000).contains(&dpi) {
            return Err(ImageError::BadDpi(dpi));
        }
        Ok(GrayImage { width, height, dpi, pixels })
    }
    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn dpi(&self) -> u32 {
        self.dpi
    }
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }
    pub fn get(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width as usize + x]
    }
}

impl Drop for GrayImage {
    fn drop(&mut self) {
        self.pixels.zeroize();
    }
}

impl fmt::Debug for GrayImage {
    // Never print pixels: a capture is biometric data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrayImage({}x{} @ {} dpi)", self.width, self.height, self.dpi)
    }
}
