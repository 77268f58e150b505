//! Timings of the trustlet's building blocks: auth-token mint and verify (HMAC-SHA256), and the
//! encrypted template store writing and loading a full group of 5 fingers (fsync included).
//! `--cancel` measures instead how long a cancel waits behind the largest capture the sensor path
//! accepts, processed against 5 fingers of 14 views.
//!
//! `--sensor-cancel` measures how fast a cancel reaches each kernel sensor kind's worker, on the
//! system double of `fphal::sensor::kernel::double` (real descriptors and threads, fake driver).
//!
//!   fphal-bench [--iterations N] [--dir DIR]
//!   fphal-bench --cancel [--iterations N]
//!   fphal-bench --sensor-cancel [--iterations N]
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use clap::Parser;
use fphal::auth_token::{self, AuthToken};
use fphal::config::Config;
use fphal::image::{GrayImage, MAX_CAPTURE_SIDE_500_DPI};
use fphal::tee::soft::store::GroupStore;
use fphal::tee::soft::{SoftSettings, SoftTrustlet, keys};
use fphal::tee::{Request, Response};
use fphal_synth::{Master, Touch};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    /// Measure the cancel delay behind the largest accepted capture instead (`--iterations`
    /// cancels, at times spread over the capture's processing).
    #[arg(long)]
    cancel: bool,
    /// Measure cancel latency per kernel sensor kind instead (`--iterations` cancels each).
    #[arg(long)]
    sensor_cancel: bool,
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
    if cli.sensor_cancel {
        let result = sensor_cancel(&root, n);
        std::fs::remove_dir_all(&root)?;
        return result;
    }
    if cli.cancel {
        let result = cancel_delay(&root, n);
        std::fs::remove_dir_all(&root)?;
        return result;
    }

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

/// The trustlet as the HAL runs it (configuration defaults, keys in `root`), with group 0 active.
fn trustlet(root: &Path) -> Result<SoftTrustlet> {
    let toml = format!("[trustlet]\nkey_dir = \"{}\"\n[matcher]\nupdate_max_views = 14\n", root.join("keys").display());
    let config = Config::from_toml(&toml).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut ta = SoftTrustlet::new(SoftSettings::from_config(&config)).map_err(anyhow::Error::msg)?;
    let group = root.join("group");
    match ta.dispatch(Request::SetActiveGroup { gid: 0, path: group.display().to_string() }) {
        Response::Ok => Ok(ta),
        other => bail!("set_active_group: {other:?}"),
    }
}

/// Enrolls synthetic finger `id` from 160-px touches until the trustlet says it is stored.
fn enroll(ta: &mut SoftTrustlet, auth_key: &[u8], id: u64) -> Result<()> {
    let Response::Challenge(c) = ta.dispatch(Request::PreEnroll) else { bail!("pre_enroll") };
    let hat = auth_token::mint_password_token(auth_key, c, 1);
    anyhow::ensure!(ta.dispatch(Request::EnrollBegin { hat }) == Response::Ok, "enroll refused");
    let master = Master::grow(id);
    for k in 1..=200 {
        let i = fphal_synth::impression(&master, &Touch::nth(id, k, 160, 500));
        let image = GrayImage::new(i.width, i.height, i.dpi, i.pixels)?;
        if let Response::Enroll(step) = ta.dispatch(Request::EnrollCapture { image, contact_ms: 300 }) {
            if step.counted && step.remaining == 0 {
                return Ok(());
            }
        }
    }
    bail!("finger {id}: no 14 usable touches")
}

/// How long a cancel waits behind the largest capture the sensor path accepts
/// ([`MAX_CAPTURE_SIDE_500_DPI`] px at 500 dpi), identified against 5 fingers of 14 views: the
/// interrupt the HAL raises on `cancel` is raised at times spread over the capture's processing,
/// and the wait is from then until the trustlet returns.
fn cancel_delay(root: &Path, trials: usize) -> Result<()> {
    let mut ta = trustlet(root)?;
    let auth_key = keys::load(&root.join("keys/auth_token.key")).map_err(anyhow::Error::msg)?;
    for id in 1..=5 {
        enroll(&mut ta, &auth_key[..], id)?;
    }
    let side = MAX_CAPTURE_SIDE_500_DPI;
    let i = fphal_synth::impression(&Master::grow(1), &Touch::nth(1, 40, side, 500));
    let probe = GrayImage::new(i.width, i.height, i.dpi, i.pixels)?;
    let interrupt = ta.interrupt();
    let capture = |ta: &mut SoftTrustlet| {
        interrupt.clear();
        let _ = ta.dispatch(Request::AuthenticateBegin { operation_id: 1 });
        ta.dispatch(Request::AuthenticateCapture { image: probe.clone(), contact_ms: 300 })
    };
    let whole: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            capture(&mut ta);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let full = whole.iter().copied().fold(0.0, f64::max);
    let mut waits = Vec::new();
    for k in 0..trials {
        let at = Duration::from_secs_f64(full * 1e-3 * k as f64 / trials as f64);
        let raiser = ta.interrupt();
        let raised = std::thread::spawn(move || {
            std::thread::sleep(at);
            let t = Instant::now();
            raiser.request();
            t
        });
        capture(&mut ta);
        let returned = Instant::now();
        let raised = raised.join().map_err(|_| anyhow::anyhow!("the interrupt thread panicked"))?;
        if let Some(wait) = returned.checked_duration_since(raised) {
            waits.push(wait.as_secs_f64() * 1e3);
        }
    }
    anyhow::ensure!(!waits.is_empty(), "no cancel landed while the capture was processed");
    waits.sort_by(f64::total_cmp);
    let p = |q: f64| waits[((waits.len() - 1) as f64 * q).round() as usize];
    println!("capture {side}x{side} px at 500 dpi against 5 fingers x 14 views: {full:.1} ms to process in full");
    println!(
        "cancel delay over {} cancels that landed during processing: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        waits.len(),
        p(0.5),
        p(0.9),
        p(1.0)
    );
    Ok(())
}

/// For each kernel sensor kind, with an `authenticate` waiting for a finger: the time from just
/// before `cancel()` to the worker leaving `poll()` (its own `CLOCK_MONOTONIC` stamp), and to the
/// `ERROR(CANCELED)` reaching the client; then a blocking-ioctl helper is aborted as well.
fn sensor_cancel(root: &Path, trials: usize) -> Result<()> {
    use fphal::codes::ErrorKind;
    use fphal::hal::{Device, Message};
    use fphal::sensor::kernel::double::{FakeKernel, Model};
    use std::sync::mpsc;

    println!("| kind (µs) | cancel() -> worker leaves poll() p50 | p99 | cancel() -> CANCELED delivered p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for kind in ["fpc1020-sysfs", "misc-ioctl", "blocking-ioctl"] {
        let kernel = FakeKernel::new(&format!("bench-{kind}"));
        kernel.fpc1020_sysfs("soc:fpc1020");
        kernel.device(Path::new("/dev/fingerprint"), Model::Misc);
        kernel.device(Path::new("/dev/fpc1020"), Model::Blocking);
        kernel.device(Path::new("/dev/fp_frames"), Model::Frames);
        let dir = root.join(kind);
        std::fs::create_dir_all(dir.join("group"))?;
        let config = Config::from_toml(&format!(
            "[sensor]\nkind = \"{kind}\"\nframe_width = 160\nframe_height = 160\nframe_device = \"/dev/fp_frames\"\n\
             [trustlet]\nkey_dir = \"{}\"\n",
            dir.join("keys").display()
        ))?;
        let dev = Device::open_on(&config, kernel.clone())?;
        let (tx, rx) = mpsc::channel::<Instant>();
        let tx = std::sync::Mutex::new(tx);
        dev.set_sink(Some(std::sync::Arc::new(move |m: &Message| {
            if *m == Message::Error(ErrorKind::Canceled) {
                let _ = tx.lock().map(|t| t.send(Instant::now()));
            }
        })));
        dev.set_active_group(0, dir.join("group").to_str().context("UTF-8 path")?)?;
        let (mut woke, mut delivered) = (Vec::new(), Vec::new());
        for k in 0..trials {
            dev.authenticate(k as u64 + 1, 0)?;
            // Let the worker arm the sensor and go back to sleep in poll().
            std::thread::sleep(Duration::from_millis(3));
            let mono = fphal::sys::monotonic_ns();
            let t = Instant::now();
            dev.cancel()?;
            let at = rx.recv_timeout(Duration::from_secs(5)).context("no CANCELED within 5 s")?;
            delivered.push(at.duration_since(t).as_secs_f64() * 1e6);
            woke.push(dev.last_wake_ns().saturating_sub(mono) as f64 / 1e3);
        }
        println!("| {kind} | {} | {} |", stats(woke), stats(delivered));
    }
    Ok(())
}
