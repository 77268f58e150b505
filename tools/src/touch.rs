//! Touches for the virtual sensor: a synthetic finger placed as asked, or an image file.

use anyhow::{Context, Result, bail};
use fphal::image::GrayImage;
use fphal::sensor::client::SensorClient;
use fphal::sensor::protocol::Status;
use fphal_synth::{Master, Touch};
use std::path::{Path, PathBuf};

/// How a synthetic finger lands on the sensor. Unset fields take the impression's own values.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SyntheticTouch {
    /// Finger id (any number; the same id is always the same finger).
    #[arg(long)]
    pub finger: u64,
    /// Impression number: each one is a new placement, pressure, noise and distortion.
    #[arg(long, default_value_t = 1)]
    pub impression: u32,
    /// Sensor side in pixels.
    #[arg(long, default_value_t = 160)]
    pub size: u32,
    #[arg(long, default_value_t = 500)]
    pub dpi: u32,
    /// Offset from the finger's centre, 500-dpi pixels.
    #[arg(long, allow_negative_numbers = true)]
    pub dx: Option<f32>,
    #[arg(long, allow_negative_numbers = true)]
    pub dy: Option<f32>,
    /// Rotation in degrees.
    #[arg(long, allow_negative_numbers = true)]
    pub rotation: Option<f32>,
    /// -1 (light) to 1 (hard).
    #[arg(long, allow_negative_numbers = true)]
    pub pressure: Option<f32>,
    /// Sensor noise, grey levels.
    #[arg(long)]
    pub noise: Option<f32>,
    /// Share of the sensor the finger covers, 0..1 (a partial touch below about 0.5).
    #[arg(long)]
    pub coverage: Option<f32>,
    /// A dirty sensor: the smudge with this seed over the touch.
    #[arg(long)]
    pub dirt: Option<u64>,
}

impl SyntheticTouch {
    pub fn new(finger: u64, impression: u32) -> SyntheticTouch {
        SyntheticTouch { finger, impression, size: 160, dpi: 500, ..SyntheticTouch::default() }
    }

    pub fn placement(&self) -> Touch {
        let mut t = Touch::nth(self.finger, self.impression, self.size, self.dpi);
        t.dx = self.dx.unwrap_or(t.dx);
        t.dy = self.dy.unwrap_or(t.dy);
        t.rotation = self.rotation.unwrap_or(t.rotation);
        t.pressure = self.pressure.unwrap_or(t.pressure);
        t.noise = self.noise.unwrap_or(t.noise);
        t.coverage = self.coverage.unwrap_or(t.coverage);
        t.dirt = self.dirt.or(t.dirt);
        t
    }

    pub fn render_with(&self, master: &Master) -> Result<GrayImage> {
        let img = fphal_synth::impression(master, &self.placement());
        GrayImage::new(img.width, img.height, img.dpi, img.pixels).context("synthetic touch")
    }

    pub fn render(&self) -> Result<GrayImage> {
        if !(16..=1024).contains(&self.size) {
            bail!("--size {} must be 16..=1024", self.size);
        }
        self.render_with(&Master::grow(self.finger))
    }
}

/// Writes a capture as an 8-bit grayscale PNG.
pub fn save_png(img: &GrayImage, path: &Path) -> Result<()> {
    image::GrayImage::from_raw(img.width(), img.height(), img.pixels().to_vec())
        .context("image buffer")?
        .save(path)
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Where fphal puts its sensor sockets when the configuration does not say otherwise.
pub fn default_runtime_dir() -> PathBuf {
    fphal::config::Config::default().runtime_dir()
}

/// The most recently created `fphal-sensor-*.sock` in `dir`.
pub fn newest_socket(dir: &Path) -> Result<PathBuf> {
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("fphal-sensor-") && name.ends_with(".sock") {
            let t = e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
            if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                best = Some((t, e.path()));
            }
        }
    }
    best.map(|(_, p)| p).with_context(|| format!("no fphal-sensor-*.sock in {} (is a device open?)", dir.display()))
}

/// Puts the finger down, holds it `hold_ms`, lifts it. Returns the sensor's answer to the touch.
pub fn press(client: &SensorClient, img: &GrayImage, hold_ms: u64) -> Result<(Status, String)> {
    let answer = client.touch(img).map_err(anyhow::Error::msg)?;
    if hold_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(hold_ms));
    }
    client.lift().map_err(anyhow::Error::msg)?;
    Ok(answer)
}
