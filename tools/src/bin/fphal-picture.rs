//! Pictures for porters and algorithm work:
//!
//!   fphal-picture show IMAGE --dpi D --out PNG             mask, orientation field, minutiae
//!   fphal-picture show --finger N [--impression K] --out PNG   the same for a synthetic touch
//!   fphal-picture pair A B --dpi D --out PNG                both captures, matched minutiae joined
//!   fphal-picture coverage --finger N --touches K --out PNG which part of a synthetic finger
//!                                                           K enrollment touches cover
//!
//! Legend: blue tint = background (outside the mask); green strokes = ridge orientation; red
//! circles = ridge endings, cyan squares = bifurcations, each with a stroke in its direction;
//! yellow lines = minutiae that coincide once the first capture is aligned on the second.
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use fphal::image::GrayImage;
use fphal::matcher::{self, RidgeAnalysis, minutiae::Kind};
use fphal_synth::{MASTER_H, MASTER_W, Master};
use fphal_tools::load_capture;
use fphal_tools::touch::SyntheticTouch;
use image::{Rgb, RgbImage};
use line_drawing::{Bresenham, BresenhamCircle};
use std::path::PathBuf;

/// Every picture is drawn at this many output pixels per 500-dpi pixel.
const ZOOM: f32 = 2.0;

#[derive(Parser)]
#[command(
    name = "fphal-picture",
    version,
    about = "Render what fphal's engine sees in a capture",
    after_help = "Exit status: 0 written, 1 error, 64 usage error."
)]
struct Cli {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// One capture: an image file, or a synthetic touch with --finger.
    Show {
        image: Option<PathBuf>,
        #[arg(long, default_value_t = 500)]
        dpi: u32,
        #[arg(long)]
        finger: Option<u64>,
        #[arg(long, default_value_t = 1)]
        impression: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Two captures side by side with their matched minutiae joined.
    Pair {
        a: PathBuf,
        b: PathBuf,
        #[arg(long, default_value_t = 500)]
        dpi: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// The enrollment coverage of a synthetic finger from touches 1..=K.
    Coverage {
        #[arg(long)]
        finger: u64,
        #[arg(long, default_value_t = 8)]
        touches: u32,
        #[arg(long, default_value_t = 160)]
        size: u32,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    fphal_tools::exit_with("fphal-picture", run(fphal_tools::parse_args::<Cli>()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.what {
        What::Show { image, dpi, finger, impression, out } => {
            let img = match (image, finger) {
                (Some(p), None) => load_capture(&p, dpi)?,
                (None, Some(f)) => SyntheticTouch::new(f, impression).render()?,
                _ => bail!("give either an image file or --finger"),
            };
            let a = matcher::analyse(&img).context("analysis")?;
            let canvas = draw_analysis(&a);
            println!("{} minutiae, median ridge period {:.2} px", a.minutiae.len(), a.flow.median_period);
            save(&canvas, &out)
        }
        What::Pair { a, b, dpi, out } => pair(&load_capture(&a, dpi)?, &load_capture(&b, dpi)?, &out),
        What::Coverage { finger, touches, size, out } => coverage(finger, touches, size, &out),
    }
}

fn save(img: &RgbImage, out: &PathBuf) -> Result<()> {
    img.save(out).with_context(|| format!("{}: cannot write", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

fn z(v: f32) -> f32 {
    v * ZOOM + ZOOM / 2.0
}

/// Colours those of `points` that lie on `img` (a shape may reach past its edge).
fn draw_points(img: &mut RgbImage, points: impl Iterator<Item = (i32, i32)>, colour: Rgb<u8>) {
    for (x, y) in points {
        if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y))
            && x < img.width()
            && y < img.height()
        {
            img.put_pixel(x, y, colour);
        }
    }
}

/// The pixel a point of the picture falls in.
fn pixel((x, y): (f32, f32)) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

/// A straight line between two points of `img`, in pixels.
fn draw_line(img: &mut RgbImage, from: (f32, f32), to: (f32, f32), colour: Rgb<u8>) {
    draw_points(img, Bresenham::new(pixel(from), pixel(to)), colour);
}

/// The outline of a square of half-side `half` around `centre`.
fn draw_square(img: &mut RgbImage, (cx, cy): (f32, f32), half: f32, colour: Rgb<u8>) {
    let (left, right, top, bottom) = (cx - half, cx + half, cy - half, cy + half);
    for (from, to) in [
        ((left, top), (right, top)),
        ((right, top), (right, bottom)),
        ((right, bottom), (left, bottom)),
        ((left, bottom), (left, top)),
    ] {
        draw_line(img, from, to, colour);
    }
}

/// The normalised capture with mask, orientation field and minutiae drawn over it.
fn draw_analysis(a: &RidgeAnalysis) -> RgbImage {
    let n = &a.normalised;
    let (w, h) = (n.w as u32, n.h as u32);
    let mut img = RgbImage::new((w as f32 * ZOOM) as u32, (h as f32 * ZOOM) as u32);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let i = (y as f32 / ZOOM) as usize * n.w + (x as f32 / ZOOM) as usize;
        let g = (128.0 + 40.0 * n.pixels[i]).clamp(0.0, 255.0) as u8;
        *px = if n.mask[i] > 0.5 { Rgb([g, g, g]) } else { Rgb([g / 2, g / 2, 96 + g / 3]) };
    }
    const STEP: usize = 12;
    for y in (STEP / 2..n.h).step_by(STEP) {
        for x in (STEP / 2..n.w).step_by(STEP) {
            let i = y * n.w + x;
            if n.mask[i] <= 0.5 {
                continue;
            }
            let (s, c) = a.flow.theta[i].sin_cos();
            let r = 4.5;
            draw_line(
                &mut img,
                (z(x as f32 - r * c), z(y as f32 - r * s)),
                (z(x as f32 + r * c), z(y as f32 + r * s)),
                Rgb([40, 200, 60]),
            );
        }
    }
    for m in &a.minutiae {
        let (cx, cy) = (z(m.x), z(m.y));
        let (s, c) = m.direction.sin_cos();
        let tip = (cx + 14.0 * c, cy + 14.0 * s);
        match m.kind {
            Kind::Ending => {
                let (x, y) = pixel((cx, cy));
                draw_points(&mut img, BresenhamCircle::new(x, y, 6), Rgb([230, 40, 40]));
                draw_line(&mut img, (cx, cy), tip, Rgb([230, 40, 40]));
            }
            Kind::Bifurcation => {
                draw_square(&mut img, (cx, cy), 5.0, Rgb([40, 210, 230]));
                draw_line(&mut img, (cx, cy), tip, Rgb([40, 210, 230]));
            }
        }
    }
    img
}

fn pair(a: &GrayImage, b: &GrayImage, out: &PathBuf) -> Result<()> {
    let (ra, rb) = (matcher::analyse(a).context("first capture")?, matcher::analyse(b).context("second capture")?);
    let al = matcher::align(a, b).context("alignment")?;
    let (ia, ib) = (draw_analysis(&ra), draw_analysis(&rb));
    let gap = 16;
    let mut img =
        RgbImage::from_pixel(ia.width() + gap + ib.width(), ia.height().max(ib.height()), Rgb([255, 255, 255]));
    image::imageops::replace(&mut img, &ia, 0, 0);
    let offset = (ia.width() + gap) as f32;
    image::imageops::replace(&mut img, &ib, offset as i64, 0);
    let mut paired = 0;
    for m in &ra.minutiae {
        let (x, y) = al.map(m.x, m.y);
        let turned = m.direction + al.degrees.to_radians();
        let hit = rb
            .minutiae
            .iter()
            .find(|o| (o.x - x).hypot(o.y - y) < 10.0 && matcher::verify::angle_between(o.direction, turned) < 0.7);
        if let Some(o) = hit {
            paired += 1;
            draw_line(&mut img, (z(m.x), z(m.y)), (offset + z(o.x), z(o.y)), Rgb([250, 220, 0]));
        }
    }
    println!(
        "score {:.3} ({}), rotation {:.0}°, shift ({:.0}, {:.0}) px; {} of {} / {} minutiae paired",
        matcher::score_pair(&matcher::extract(a)?, &matcher::extract(b)?),
        if al.score >= matcher::DEFAULT_THRESHOLD { "match" } else { "no match" },
        al.degrees,
        al.shift.0,
        al.shift.1,
        paired,
        ra.minutiae.len(),
        rb.minutiae.len()
    );
    save(&img, out)
}

fn coverage(finger: u64, touches: u32, size: u32, out: &PathBuf) -> Result<()> {
    let master = Master::grow(finger);
    let full = master.render_full();
    let mut hits = vec![0u32; MASTER_W * MASTER_H];
    for k in 1..=touches {
        let t = SyntheticTouch { size, ..SyntheticTouch::new(finger, k) }.placement();
        let (s, c) = t.rotation.to_radians().sin_cos();
        let half = size as f32 * 500.0 / t.dpi as f32 / 2.0;
        let centre = (MASTER_W as f32 / 2.0 + t.dx, MASTER_H as f32 * 0.47 + t.dy);
        for (i, h) in hits.iter_mut().enumerate() {
            let (x, y) = ((i % MASTER_W) as f32 - centre.0, (i / MASTER_W) as f32 - centre.1);
            // Back into the sensor's frame (the touch rotated the sensor's view by `rotation`).
            let (u, v) = (c * x + s * y, -s * x + c * y);
            if u.abs() <= half && v.abs() <= half {
                *h += 1;
            }
        }
    }
    let on_finger: Vec<bool> = full.pixels.iter().map(|p| *p != 235).collect();
    let finger_area = on_finger.iter().filter(|f| **f).count().max(1);
    let covered = hits.iter().zip(&on_finger).filter(|(h, f)| **h > 0 && **f).count();
    let mut img = RgbImage::new((MASTER_W as f32 * ZOOM) as u32, (MASTER_H as f32 * ZOOM) as u32);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let i = (y as f32 / ZOOM) as usize * MASTER_W + (x as f32 / ZOOM) as usize;
        let g = full.pixels[i] as f32 / 255.0;
        let heat = (hits[i] as f32 / 3.0).min(1.0);
        let base = 120.0 + 120.0 * g;
        *px = if hits[i] == 0 {
            Rgb([(base * 0.55) as u8, (base * 0.55) as u8, (base * 0.6) as u8])
        } else {
            Rgb([(base * (1.0 - 0.3 * heat)) as u8, base as u8, (base * (1.0 - 0.6 * heat)) as u8])
        };
    }
    println!(
        "finger {finger} ({}): {touches} touches of {size} px cover {:.0}% of the finger",
        master.pattern.name(),
        100.0 * covered as f32 / finger_area as f32
    );
    save(&img, out)
}
