//! fphal-host: loads any legacy fingerprint module (`fingerprint.*.so`) the way the real clients
//! do, drives a session, prints every callback as one line and names every contract violation.
//!
//!   fphal-host MODULE --demo                       the software-mode demo (fresh store and key)
//!   fphal-host MODULE [--key FILE] --script FILE   commands from a file (see script.rs)
//!   fphal-host MODULE [--key FILE]                 commands typed on stdin
//!
//! Exit status: 0 when the session ran and no contract rule was broken, 1 on an error, 2 when
//! the module broke a rule.
// Unsafe code is confined to the module loader (`module.rs`): dlopen, the C function table, notify.
#![deny(unsafe_code)]

mod checker;
mod demo;
mod events;
#[allow(unsafe_code)]
mod module;
mod script;
mod session;

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fphal-host",
    version,
    about = "Load a fingerprint HAL module like fingerprintd and check it",
    after_help = "Exit status: 0 the session ran and no contract rule was broken, \
                  1 error, 2 the module broke a contract rule, 64 usage error."
)]
struct Cli {
    /// The module: libfphal.so, a vendor fingerprint.<board>.so, or any other legacy module.
    module: PathBuf,
    /// The auth-token key file (32 bytes), to sign enroll tokens and verify AUTHENTICATED ones.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Run commands from this file instead of stdin.
    #[arg(long, conflicts_with = "demo")]
    script: Option<PathBuf>,
    /// Run the software-mode demo in a fresh temporary store (the module must be fphal).
    #[arg(long)]
    demo: bool,
}

fn main() -> ExitCode {
    let cli = fphal_tools::parse_args::<Cli>();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("fphal-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    if cli.demo {
        let dir = std::env::temp_dir().join(format!("fphal-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("keys"))?;
        std::fs::create_dir_all(dir.join("run"))?;
        let config = dir.join("fphal.toml");
        std::fs::write(
            &config,
            format!(
                "[log]\nlevel = \"error\"\n[sensor]\nruntime_dir = \"{}\"\n[trustlet]\nkey_dir = \"{}\"\n",
                dir.join("run").display(),
                dir.join("keys").display()
            ),
        )?;
        module::use_config(&config);
        let result = demo::run(&cli.module, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        return result;
    }
    let mut session = session::Session::open(&cli.module)?;
    if let Some(k) = &cli.key {
        session.key = Some(fphal::tee::soft::keys::load(k).map_err(anyhow::Error::msg).context("--key")?.to_vec());
    }
    let mut runner = script::Runner::new(session);
    match &cli.script {
        Some(p) => {
            let f = std::fs::File::open(p).with_context(|| format!("{}: cannot open", p.display()))?;
            runner.run(std::io::BufReader::new(f), false)?;
        }
        None => runner.run(std::io::stdin().lock(), true)?,
    }
    runner.session.drain(std::time::Duration::from_millis(100));
    runner.session.checker.settle();
    runner.session.close()?;
    let violations = &runner.session.checker.violations;
    println!("\n{} contract violation(s)", violations.len());
    Ok(violations.is_empty())
}
