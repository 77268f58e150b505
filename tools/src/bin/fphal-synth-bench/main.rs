//! Synthetic-finger bench: what fphal's engine does on synthetic fingers grown by `fphal-synth`.
//!
//!   fphal-synth-bench [threshold] [--fingers 1000] [--first-id 1] [--size 160] [--views 14]
//!                     [--probes 2] [--attempts 150000] [--group 5] [--probe-turn 180] [--out DIR]
//!                     [--views-csv FILE] [--harsh-probes]
//!   fphal-synth-bench directions [--fingers 200]   how consistently minutiae are oriented
//!   fphal-synth-bench coverage [--fingers 200]     how much of a later touch enrollment covers
//!   fphal-synth-bench describe [--fingers 100]     ridge period and minutiae per touch
//!
//! `threshold` (the default) runs the phone protocol and chooses the operating threshold: see
//! `threshold.rs`. The pieces the subcommands share live in `fphal_tools::synth_bench`.
#![forbid(unsafe_code)]

mod coverage;
mod describe;
mod directions;
mod threshold;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use fphal_tools::synth_bench::FingerRange;

#[derive(Parser)]
#[command(
    name = "fphal-synth-bench",
    version,
    about = "FRR, FAR and the operating threshold on synthetic fingers",
    after_help = "Exit status: 0 measured, 1 error, 64 usage error.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand: `threshold`.
    #[command(flatten)]
    threshold: threshold::Args,
}

#[derive(Subcommand)]
enum Command {
    /// The phone protocol: genuine and impostor scores, the threshold for FAR <= 1/50,000, its FRR.
    Threshold(threshold::Args),
    /// How consistently minutiae are oriented: touches 2–6 of each finger against touch 1, under
    /// the generator's true placements.
    Directions(Fingers),
    /// Enrollment coverage: for 4..=16 enrollment touches (impressions 1..=K of each finger), the
    /// share of a later touch's area (impressions 17..=24) that they cover.
    Coverage(Fingers),
    /// Describe 8 impressions of each finger (ridge period, minutiae per crop, foreground), in the
    /// format of `fphal-eval describe`, for comparison with real crops.
    Describe(Fingers),
}

/// Which synthetic fingers, on what sensor, with how many threads.
#[derive(Args, Clone)]
struct Fingers {
    #[arg(long, default_value_t = 1000)]
    fingers: u64,
    /// Id of the first synthetic finger (fingers are `--first-id`, `--first-id` + 1, …): another
    /// range gives fingers independent of those a setting was chosen on.
    #[arg(long, default_value_t = 1)]
    first_id: u64,
    #[arg(long, default_value_t = 160)]
    size: u32,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

impl Fingers {
    fn range(&self) -> FingerRange {
        FingerRange {
            first_id: self.first_id,
            count: self.fingers,
            size: self.size,
            probe_turn: 15.0,
            harsh_probes: false,
        }
    }

    fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
    }
}

fn main() -> Result<()> {
    let cli = fphal_tools::parse_args::<Cli>();
    match cli.command {
        None => threshold::run(&cli.threshold),
        Some(Command::Threshold(args)) => threshold::run(&args),
        Some(Command::Directions(f)) => {
            directions::run(&f.range(), f.threads());
            Ok(())
        }
        Some(Command::Coverage(f)) => {
            coverage::run(&f.range());
            Ok(())
        }
        Some(Command::Describe(f)) => {
            describe::run(&f.range(), f.threads());
            Ok(())
        }
    }
}
