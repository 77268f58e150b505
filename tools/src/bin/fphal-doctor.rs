//! Tells a porter why the fingerprint stack fails: `explain` reads logcat or dmesg text and says
//! what each recognised line means and how to fix it; `check` walks the stack on a device (or a
//! copy of its files) step by step. The code tables and recognisers live in `fphal::diagnose`.
//!
//!   fphal-doctor explain [--root DIR] [--json] [LOG]
//!   fphal-doctor check [--root DIR] [--config FILE] [--variant NAME] [--touch SECONDS] [--json]
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use fphal::diagnose::{self, Explanation, Finding, Severity, firmware};
use fphal_tools::doctor::{self, Status, Step, Target};
use serde::Serialize;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fphal-doctor",
    version,
    about = "Say why the fingerprint stack fails, from a device's logs and files",
    after_help = "Exit status: 0 nothing failed, 1 something did (or an error), 64 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Explain logcat or dmesg lines: what each recognised line means and the likely fixes.
    Explain {
        /// A device's filesystem, or a copy of it: with it, a keymaster refusing the fingerprint
        /// trustlet's name also lists every keymaster image and the names its whitelist holds.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// The log (default: standard input).
        log: Option<PathBuf>,
    },
    /// Walk the stack: configuration, variant, module, sensor nodes, firmware, key directory, store.
    Check {
        /// The device's filesystem, or a copy of it.
        #[arg(long, default_value = "/")]
        root: PathBuf,
        /// The configuration file (default: <root>/vendor/etc/fphal.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The module variant (default: ro.hardware.fingerprint, else ro.hardware, from build.prop).
        #[arg(long)]
        variant: Option<String>,
        /// On a live device, also wait this many seconds for a touch on the kernel sensor.
        #[arg(long, value_name = "SECONDS")]
        touch: Option<u64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct ExplainOutput<'a> {
    #[serde(flatten)]
    explanation: &'a Explanation,
    failed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    firmware: Option<firmware::Whitelists>,
}

fn main() -> ExitCode {
    let cli = fphal_tools::parse_args::<Cli>();
    let result = match cli.command {
        Command::Explain { root, json, log } => explain(root, json, log),
        Command::Check { root, config, variant, touch, json } => {
            let touch = touch.map(std::time::Duration::from_secs);
            check(Target { root, config, variant, touch }, json)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("fphal-doctor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns whether nothing failed.
fn explain(root: Option<PathBuf>, json: bool, log: Option<PathBuf>) -> Result<bool> {
    let mut bytes = Vec::new();
    match &log {
        Some(path) => bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => {
            std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let explanation = diagnose::explain(&text);
    let whitelist_needed = explanation.findings.iter().any(diagnose::is_bad_dest_appname);
    let firmware = match (&root, whitelist_needed) {
        (Some(root), true) => Some(firmware::whitelists(root)),
        _ => None,
    };
    if json {
        let out = ExplainOutput { explanation: &explanation, failed: explanation.failed(), firmware };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for f in &explanation.findings {
            print_finding(f);
            if diagnose::is_bad_dest_appname(f) {
                match (&root, &firmware) {
                    (Some(root), Some(w)) => print_whitelists(root, w),
                    _ => println!("  (with --root <device files>, the keymaster images' whitelists are read too)\n"),
                }
            }
        }
        print_summary(&explanation);
    }
    Ok(!explanation.failed())
}

fn print_finding(f: &Finding) {
    let kind = if f.severity == Severity::Failure { "FAILURE" } else { "note" };
    println!("line {}: {}", f.line_number, f.line.trim());
    println!("  {kind} ({:?}): {}", f.category, f.meaning);
    if let Some(c) = &f.code {
        let name = c.name.as_deref().unwrap_or("unknown code (not guessed)");
        println!("  code {} = {} = {} [{}]", c.written, c.signed, c.hex, name);
        println!("  table: {}", c.source);
    }
    for (i, fix) in f.fixes.iter().enumerate() {
        println!("  fix {}: {fix}", i + 1);
    }
    println!();
}

fn print_whitelists(root: &std::path::Path, w: &firmware::Whitelists) {
    let shown = |p: &std::path::Path| {
        p.strip_prefix(root).map_or_else(|_| p.display().to_string(), |r| format!("/{}", r.display()))
    };
    if w.keymasters.is_empty() {
        println!("  no keymaster image under {} (looked in {})", root.display(), firmware::FIRMWARE_DIRS.join(", "));
    }
    for k in &w.keymasters {
        let names = if k.names.is_empty() { "no trustlet names found".to_string() } else { k.names.join(", ") };
        println!("  keymaster image {}: whitelist names {names}", shown(&k.image.files[0]));
    }
    let tas = if w.fingerprint_tas.is_empty() { "none found".to_string() } else { w.fingerprint_tas.join(", ") };
    println!("  fingerprint trustlets on the device: {tas}");
    let serving = w.serving();
    if serving.is_empty() {
        println!(
            "  no keymaster image here names a fingerprint trustlet of this device: take a keymaster image (and its"
        );
        println!("  fingerprint trustlet) from a ROM whose keymaster whitelist names it");
    }
    for (k, ta) in serving {
        println!("  FIX: {} names {ta}: install it as the keymaster image", shown(&k.image.files[0]));
    }
    println!();
}

fn print_summary(e: &Explanation) {
    let failures = e.findings.iter().filter(|f| f.severity == Severity::Failure).count();
    let counts: Vec<String> = e.counts().iter().map(|(c, n)| format!("{c:?} {n}")).collect();
    println!(
        "summary: {} lines read, {} recognised, {failures} failure(s){}",
        e.lines_read,
        e.findings.len(),
        if counts.is_empty() { String::new() } else { format!(" ({})", counts.join(", ")) }
    );
}

/// Returns whether nothing failed.
fn check(target: Target, json: bool) -> Result<bool> {
    let steps = doctor::check(&target);
    let failed = steps.iter().any(|s| s.status == Status::Failed);
    if json {
        #[derive(Serialize)]
        struct Out<'a> {
            steps: &'a [Step],
            failed: bool,
        }
        println!("{}", serde_json::to_string_pretty(&Out { steps: &steps, failed })?);
    } else {
        for s in &steps {
            let status = match s.status {
                Status::Ok => "OK     ",
                Status::Failed => "FAILED ",
                Status::Skipped => "skipped",
            };
            println!("{status} {:<14} {}", s.name, s.detail);
            if let Some(fix) = &s.fix {
                println!("        {:<14} fix: {fix}", "");
            }
        }
        println!(
            "summary: {} steps, {} failed",
            steps.len(),
            steps.iter().filter(|s| s.status == Status::Failed).count()
        );
    }
    Ok(!failed)
}
