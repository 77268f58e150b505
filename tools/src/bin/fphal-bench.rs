//! Timings of the trustlet's building blocks: auth-token mint and verify (HMAC-SHA256), and the
//! encrypted template store writing and loading a full group of 5 fingers (fsync included).
//!
//!   fphal-bench [--iterations N] [--dir DIR]
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::Parser;
use fphal::auth_token::{self, AuthToken};
use fphal::tee::soft::keys;
use fphal::tee::soft::store::GroupStore;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "fphal-bench",
    version,
    about = "Time auth tokens and the template store",
    after_help = "Exit status: 0 measured, 1 error, 64 usage error."
)]
struct Cli {
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Where the store is exercised (its filesystem decides fsync cost).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Bytes per template (a matcher template of 14 views, the default enrollment, is about 154 KB).
    #[arg(long, default_value_t = 154_112)]
    template_bytes: usize,
}

fn stats(mut us: Vec<f64>) -> String {
    us.sort_by(f64::total_cmp);
    let p = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
    format!("{:>10.1} | {:>10.1}", p(0.5), p(0.99))
}

fn time<F: FnMut()>(n: usize, mut f: F) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect()
}

fn main() -> Result<()> {
    let cli = fphal_tools::parse_args::<Cli>();
    let root = cli.dir.unwrap_or_else(std::env::temp_dir).join(format!("fphal-bench-{}", std::process::id()));
    std::fs::create_dir_all(root.join("group")).context("bench directory")?;
    let key = keys::load_or_create(&root.join("device.key"), true).map_err(anyhow::Error::msg)?;
    let auth_key = [7u8; 32];
    let n = cli.iterations;

    println!("| what (µs) | p50 | p99 |\n|---|---:|---:|");
    println!(
        "| mint enroll token (HMAC-SHA256) | {} |",
        stats(time(n, || {
            std::hint::black_box(auth_token::mint_password_token(&auth_key, 42, 1));
        }))
    );
    let token = AuthToken::from_bytes(&auth_token::mint_password_token(&auth_key, 42, 1));
    println!(
        "| verify token (constant-time) | {} |",
        stats(time(n, || {
            assert!(std::hint::black_box(&token).verify(&auth_key));
        }))
    );

    let store = GroupStore::open(&root.join("group"), 9, &key);
    let template: Vec<u8> = (0..cli.template_bytes).map(|i| (i * 31) as u8).collect();
    println!(
        "| store: write 5 templates ({} B each, atomic + fsync) | {} |",
        cli.template_bytes,
        stats(time(n.min(50), || {
            for fid in 1..=5 {
                store.write_template(fid, 1, &template).expect("write");
            }
        }))
    );
    println!(
        "| store: load a group of 5 (decrypt + authenticate) | {} |",
        stats(time(n, || {
            assert_eq!(store.load_all().len(), 5);
        }))
    );
    println!(
        "| store: remove + rewrite one template | {} |",
        stats(time(n.min(50), || {
            store.remove_template(3).expect("remove");
            store.write_template(3, 1, &template).expect("write");
        }))
    );
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
