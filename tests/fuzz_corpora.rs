//! Every committed fuzz input (`fuzz/corpus/<target>/`, and `fuzz/regressions/<target>/` where a
//! crash found by fuzzing is kept) replayed through the property its target checks
//! (`fphal::fuzz`), on stable, in the test suite. `write_seed_corpora` (ignored) writes the seed
//! corpora from synthetic fingers and fphal's own messages, tokens and templates.

use fphal::auth_token;
use fphal::codes::{Acquired, VendorError};
use fphal::image::GrayImage;
use fphal::matcher::{self, Template};
use fphal::sensor::protocol;
use fphal::tee::wire::{AuthOutcome, EnrollStep, Request, Response, TaError};
use std::path::{Path, PathBuf};

mod probe {
    include!("../fuzz/probe.rs");
}

const TARGETS: [&str; 9] = [
    "wire_request",
    "wire_response",
    "auth_token",
    "template",
    "template_match",
    "config",
    "sensor_packets",
    "image_features",
    "qsee_answers",
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The committed inputs of `target`, corpus and regressions.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else { continue };
        for e in entries.flatten() {
            out.push((e.path(), std::fs::read(e.path()).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn every_committed_fuzz_input_keeps_its_promise() {
    let probe = probe::probe();
    for target in TARGETS {
        let inputs = inputs(target);
        assert!(!inputs.is_empty(), "no committed inputs for the fuzz target {target}");
        for (path, data) in &inputs {
            let run = || match target {
                "wire_request" => fphal::fuzz::wire_request(data),
                "wire_response" => fphal::fuzz::wire_response(data),
                "auth_token" => fphal::fuzz::auth_token(data),
                "template" => fphal::fuzz::template(data),
                "template_match" => fphal::fuzz::template_match(data, &probe),
                "config" => fphal::fuzz::config(data),
                "sensor_packets" => fphal::fuzz::sensor_packets(data),
                "image_features" => fphal::fuzz::image_features(data),
                "qsee_answers" => fphal::fuzz::qsee_answers(data),
                other => panic!("unknown target {other}"),
            };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
                panic!("{} breaks the property of {target}", path.display());
            }
        }
    }
}

/// The template seeds are templates the reader takes (each format it reads has one), so that the
/// fuzzers start from inside the format rather than at its header.
#[test]
fn the_template_seeds_decode() {
    for target in ["template", "template_match"] {
        let dir = fuzz_dir().join("corpus").join(target);
        let mut formats = std::collections::BTreeSet::new();
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            if let Err(err) = Template::from_bytes(&bytes) {
                panic!("{} does not decode: {err}", e.path().display());
            }
            formats.insert(String::from_utf8_lossy(&bytes[..4]).into_owned());
        }
        assert_eq!(formats.into_iter().collect::<Vec<_>>(), ["FPM3", "FPM4", "FPM5"], "{target}");
    }
}

fn touch(finger: u64, impression: u32, size: u32) -> GrayImage {
    let t = fphal_synth::Touch::nth(finger, impression, size, 500);
    let i = fphal_synth::impression(&fphal_synth::Master::grow(finger), &t);
    GrayImage::new(i.width, i.height, i.dpi, i.pixels).unwrap()
}

fn template(finger: u64, views: u32) -> Vec<u8> {
    let features = (1..=views).map(|k| matcher::extract(&touch(finger, k, 160)).unwrap()).collect();
    Template::from_views(features).to_bytes()
}

/// Sensor packets in the `sensor_packets` layout: an armed byte, then each packet behind its
/// `u16` length.
fn packets(armed: bool, list: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![u8::from(armed)];
    for p in list {
        out.extend_from_slice(&(p.len() as u16).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// Writes the seeds below. The `fpm3_` and `fpm4_` templates of `template` and `template_match`
/// are not written here; they are kept for the reader of older templates: the `fpm3_` ones are
/// this function's earlier output, in the `FPM3` format, the `fpm4_` ones its `FPM5` output with
/// the enrolled count taken out (`FPM4` is `FPM5` without it).
#[test]
#[ignore = "writes fuzz/corpus; run by hand when a format changes"]
fn write_seed_corpora() {
    let small = touch(2, 1, 64);
    let hat = auth_token::mint_password_token(&[9u8; 32], 0x1234, 77);
    let seeds: Vec<(&str, &str, Vec<u8>)> = vec![
        ("wire_request", "set_active_group", Request::SetActiveGroup { gid: 7, path: "/data/fp".into() }.encode()),
        ("wire_request", "pre_enroll", Request::PreEnroll.encode()),
        ("wire_request", "enroll_begin", Request::EnrollBegin { hat }.encode()),
        ("wire_request", "enroll_capture", Request::EnrollCapture { image: small.clone(), contact_ms: 80 }.encode()),
        ("wire_request", "authenticate_begin", Request::AuthenticateBegin { operation_id: 5 }.encode()),
        ("wire_request", "remove", Request::Remove { fid: 0 }.encode()),
        ("wire_response", "challenge", Response::Challenge(42).encode()),
        (
            "wire_response",
            "enroll_step",
            Response::Enroll(EnrollStep {
                acquired: Acquired::Good,
                counted: true,
                remaining: 3,
                fid: 11,
                vendor_error: Some(VendorError::FingerAlreadyEnrolled),
            })
            .encode(),
        ),
        (
            "wire_response",
            "match",
            Response::Auth { acquired: Acquired::Good, outcome: AuthOutcome::Match { fid: 3, hat } }.encode(),
        ),
        ("wire_response", "fingers", Response::Fingers(vec![1, 2, 3]).encode()),
        ("wire_response", "lockout", Response::Error(TaError::Lockout { remaining_ms: 30_000 }).encode()),
        ("wire_response", "internal", Response::Error(TaError::Internal("disk".into())).encode()),
        ("auth_token", "password", hat.to_vec()),
        ("template", "one_view", template(3, 1)),
        ("template", "two_views", template(4, 2)),
        ("template_match", "same_finger", template(1, 2)),
        ("template_match", "other_finger", template(5, 1)),
        ("config", "defaults", std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fphal.toml")).unwrap()),
        (
            "config",
            "test_settings",
            b"[enroll]\nsamples = 3\n[lockout]\nduration_ms = 400\ninsecure_weak = true\n".to_vec(),
        ),
        ("config", "low_threshold", b"[matcher]\nthreshold = 0.1\ninsecure_low_threshold = true\n".to_vec()),
        (
            "sensor_packets",
            "touch_and_lift",
            packets(true, &{
                let mut v = protocol::finger_down_packets(64, 64, 500, small.pixels());
                v.push(protocol::finger_up_packet());
                v
            }),
        ),
        ("sensor_packets", "not_armed", packets(false, &protocol::finger_down_packets(64, 64, 500, small.pixels()))),
        ("image_features", "touch_160", {
            let t = touch(6, 2, 160);
            let mut v = Vec::new();
            for x in [t.width(), t.height(), t.dpi()] {
                v.extend_from_slice(&(x as u16).to_le_bytes());
            }
            v.extend_from_slice(t.pixels());
            v
        }),
    ];
    for (target, name, bytes) in seeds {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
