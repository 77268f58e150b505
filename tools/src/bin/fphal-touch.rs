//! The virtual-sensor driver: puts a finger (an image file or a synthetic finger) on an open
//! fphal device's sensor, holds it, lifts it. For scripts: no prompts, and the exit status says
//! what the sensor did (0 taken, 3 ignored because nothing waits for a finger, 4 refused, 1 error).
//!
//!   fphal-touch [--socket PATH] synthetic --finger 7 --impression 2 [--coverage 0.3] [--hold 300]
//!   fphal-touch [--socket PATH] image print.png --dpi 500
//!   fphal-touch [--socket PATH] lift
//!   fphal-touch synthetic --finger 7 --save touch.png      (no sensor: write the image)
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use fphal::sensor::client::SensorClient;
use fphal::sensor::protocol::Status;
use fphal_tools::touch::{SyntheticTouch, default_runtime_dir, newest_socket, press, save_png};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fphal-touch",
    version,
    about = "Touch and lift fphal's virtual sensor",
    after_help = "Exit status: 0 taken (or written with --save), 1 error, \
                  3 ignored (nothing waits for a finger), 4 refused, 64 usage error."
)]
struct Cli {
    /// The sensor socket (`fphal_device_sensor_path`); default: the newest fphal-sensor-*.sock in
    /// $XDG_RUNTIME_DIR or /tmp.
    #[arg(long, global = true)]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// A synthetic finger, placed as asked.
    Synthetic {
        #[command(flatten)]
        touch: SyntheticTouch,
        /// Milliseconds between finger down and up.
        #[arg(long, default_value_t = 300)]
        hold: u64,
        /// Write the touch as PNG; with --save and no --socket, nothing is sent.
        #[arg(long)]
        save: Option<PathBuf>,
    },
    /// An image file (PNG, PGM, TIFF, BMP).
    Image {
        path: PathBuf,
        #[arg(long, default_value_t = 500)]
        dpi: u32,
        #[arg(long, default_value_t = 300)]
        hold: u64,
    },
    /// Lift the finger.
    Lift,
}

fn main() -> ExitCode {
    match run(fphal_tools::parse_args::<Cli>()) {
        Ok(Status::Taken) | Ok(Status::Continue) => ExitCode::SUCCESS,
        Ok(Status::Ignored) => ExitCode::from(3),
        Ok(Status::Refused) => ExitCode::from(4),
        Err(e) => {
            eprintln!("fphal-touch: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn connect(socket: Option<PathBuf>) -> Result<SensorClient> {
    let path = match socket {
        Some(p) => p,
        None => newest_socket(&default_runtime_dir())?,
    };
    SensorClient::connect(&path).map_err(anyhow::Error::msg).with_context(|| format!("{}", path.display()))
}

fn report((status, reason): (Status, String)) -> Status {
    let word = match status {
        Status::Taken => "taken",
        Status::Ignored => "ignored (nothing waits for a finger)",
        Status::Refused => "refused",
        Status::Continue => "incomplete",
    };
    if reason.is_empty() {
        println!("{word}")
    } else {
        println!("{word}: {reason}")
    }
    status
}

fn run(cli: Cli) -> Result<Status> {
    match cli.what {
        What::Synthetic { touch, hold, save } => {
            let img = touch.render()?;
            if let Some(p) = &save {
                save_png(&img, p)?;
                if cli.socket.is_none() {
                    println!("saved {}", p.display());
                    return Ok(Status::Taken);
                }
            }
            Ok(report(press(&connect(cli.socket)?, &img, hold)?))
        }
        What::Image { path, dpi, hold } => {
            let img = fphal_tools::load_capture(&path, dpi)?;
            Ok(report(press(&connect(cli.socket)?, &img, hold)?))
        }
        What::Lift => Ok(report(connect(cli.socket)?.lift().map_err(anyhow::Error::msg)?)),
    }
}
