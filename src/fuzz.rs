//! The properties the fuzz targets (`fuzz/`) check and the corpus replay test (`tests/fuzz_corpora.rs`)
//! runs again on every committed input: each function takes arbitrary bytes and panics only when
//! fphal breaks a promise (a decoded message that does not re-encode to the same bytes, a score
//! outside 0..=1, a panic inside a parser). Not part of the C interface.

use crate::auth_token::{AuthToken, HAT_LEN};
use crate::config::Config;
use crate::image::GrayImage;
use crate::matcher::{self, Features, Template};
use crate::sensor::VirtualSensor;
use crate::tee::soft::{SoftSettings, SoftTrustlet};
use crate::tee::wire::{Request, Response};
use std::sync::Mutex;
use std::time::Duration;

/// The trustlet protocol, HAL to trustlet: what decodes re-encodes to exactly the same bytes.
pub fn wire_request(data: &[u8]) {
    if let Ok(r) = Request::decode(data) {
        assert_eq!(r.encode(), data, "{r:?} does not re-encode to its bytes");
    }
}

/// The trustlet protocol, trustlet to HAL: the same.
pub fn wire_response(data: &[u8]) {
    if let Ok(r) = Response::decode(data) {
        assert_eq!(r.encode(), data, "{r:?} does not re-encode to its bytes");
    }
}

static TRUSTLET: Mutex<Option<SoftTrustlet>> = Mutex::new(None);

/// The 69-byte enroll token as the trustlet judges it: against a fresh challenge, no fuzzed token
/// authorises an enrollment (that would take the auth-token key), and judging one never panics.
pub fn auth_token(data: &[u8]) {
    let Ok(bytes) = <[u8; HAT_LEN]>::try_from(data) else { return };
    assert_eq!(AuthToken::from_bytes(&bytes).to_bytes(), bytes);
    let mut guard = TRUSTLET.lock().unwrap_or_else(|e| e.into_inner());
    let ta = guard.get_or_insert_with(|| {
        let root = std::env::temp_dir().join(format!("fphal-fuzz-token-{}", std::process::id()));
        let group = root.join("group");
        std::fs::create_dir_all(&group).expect("a scratch directory");
        let toml = format!("[trustlet]\nkey_dir = \"{}\"\n", root.join("keys").display());
        let config = Config::from_toml(&toml).expect("a valid configuration");
        let mut ta = SoftTrustlet::new(SoftSettings::from_config(&config)).expect("a trustlet");
        assert_eq!(ta.dispatch(Request::SetActiveGroup { gid: 1, path: group.display().to_string() }), Response::Ok);
        ta
    });
    assert!(matches!(ta.dispatch(Request::PreEnroll), Response::Challenge(_)));
    let answer = ta.dispatch(Request::EnrollBegin { hat: bytes });
    assert_ne!(answer, Response::Ok, "a fuzzed token authorised an enrollment");
}

/// Template bytes: what decodes encodes again to something that decodes to as many views.
pub fn template(data: &[u8]) {
    if let Ok(t) = Template::from_bytes(data) {
        let again = Template::from_bytes(&t.to_bytes()).expect("a re-encoded template decodes");
        assert_eq!(again.view_count(), t.view_count());
    }
}

/// Template bytes matched against a real probe: any template that decodes scores within 0..=1.
pub fn template_match(data: &[u8], probe: &Features) {
    if let Ok(t) = Template::from_bytes(data) {
        let s = matcher::score(probe, &t);
        assert!((0.0..=1.0).contains(&s), "score {s} outside 0..=1");
    }
}

/// The configuration file: whatever is accepted holds the ranges security depends on.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(c) = Config::from_toml(text) else { return };
    assert!((0.0..=1.0).contains(&c.matcher.threshold));
    assert!(c.matcher.update_score >= c.matcher.threshold);
    assert!((1..=crate::config::MAX_FALSE_TRIALS).contains(&c.lockout.max_false_trials));
    assert!(c.lockout.duration_ms <= crate::config::MAX_LOCKOUT_MS);
    if !c.lockout.insecure_weak {
        assert!(c.lockout.max_false_trials <= 5 && c.lockout.duration_ms >= 30_000);
    }
    if !c.matcher.insecure_low_threshold {
        assert!(c.matcher.threshold >= matcher::MIN_THRESHOLD);
    }
}

static SENSOR: Mutex<Option<VirtualSensor>> = Mutex::new(None);

/// The virtual sensor's socket protocol: packets (each `u16` length, little-endian, then its bytes)
/// fed to one sensor (no settle time) as a driver would send them, armed or not by the first byte:
/// no packet panics the parser, and an image handed on is one the sensor path accepts.
pub fn sensor_packets(data: &[u8]) {
    let mut guard = SENSOR.lock().unwrap_or_else(|e| e.into_inner());
    let sensor = guard.get_or_insert_with(|| {
        let path = std::env::temp_dir().join(format!("fphal-fuzz-sensor-{}.sock", std::process::id()));
        VirtualSensor::bind(&path, Duration::ZERO).expect("a sensor socket in the temp directory")
    });
    sensor.reset();
    let Some((&armed, mut rest)) = data.split_first() else { return };
    while rest.len() >= 2 {
        let n = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        let packet = &rest[2..rest.len().min(2 + n)];
        rest = &rest[2 + packet.len()..];
        let (_, _, event) = sensor.feed(packet, armed & 1 == 1);
        if let Some(crate::sensor::SensorEvent::FingerDown { image, .. }) = event {
            assert!(crate::image::check_capture(&image).is_ok(), "the sensor handed on a capture it must refuse");
        }
    }
}

/// Image to features: a capture of fuzzed size, resolution and pixels (the first 6 bytes: width,
/// height and dpi, each `u16`) never panics the engine, and its features are sane.
pub fn image_features(data: &[u8]) {
    if data.len() < 7 {
        return;
    }
    let le16 = |i: usize| u16::from_le_bytes([data[i], data[i + 1]]) as u32;
    // Any side the sensor protocol carries (1..=1024), a written side read back as itself.
    let side = |v: u32| if v == 0 { 1 } else { (v - 1) % crate::image::MAX_SIDE + 1 };
    let (w, h, dpi) = (side(le16(0)), side(le16(2)), le16(4));
    let pixels: Vec<u8> = data[6..].iter().copied().cycle().take((w * h) as usize).collect();
    let Ok(image) = GrayImage::new(w, h, dpi, pixels) else { return };
    if let Ok(f) = matcher::extract(&image) {
        assert!((0.0..=1.0).contains(&f.clarity()), "clarity {}", f.clarity());
    }
}

/// The QSEE bridge's readers of trustlet answers (`tee::qsee`): the first byte picks a protocol
/// generation, the rest is an answer as the trustlet or the keymaster left it. No reader panics,
/// none reads outside the answer, and what they accept has the shape it promises (a key inside the
/// answer and under the size limit, at most five prints, a token of exactly 69 bytes).
pub fn qsee_answers(data: &[u8]) {
    use crate::tee::qsee::{fpc, keymaster};
    let Some((&pick, answer)) = data.split_first() else { return };
    let g = &fpc::GENERATIONS[pick as usize % fpc::GENERATIONS.len()];
    if let Ok(key) = keymaster::key(answer) {
        assert!(!key.is_empty() && key.len() <= keymaster::MAX_KEY);
        let start = key.as_ptr() as usize - answer.as_ptr() as usize;
        assert!(start >= 12 && start + key.len() <= answer.len());
        assert_eq!(i32::from_le_bytes(answer[..4].try_into().unwrap()), 0, "a key with a failed status");
    }
    if let Ok((status, ids)) = g.prints(answer) {
        assert!(ids.len() <= fpc::MAX_PRINTS);
        assert!(status == 0 || ids.is_empty());
    }
    if let Ok((result, token)) = g.auth_result(answer) {
        assert_eq!(token.is_some(), result == 0);
    }
    let _ = g.result(answer);
    let _ = g.status_value(answer);
    let _ = g.status_then(answer);
    let _ = g.challenge_answer(answer);
    let _ = g.template_id(answer);
    let _ = fpc::delivery_status(answer);
    let _ = fpc::capture(g.result(answer).unwrap_or(0));
}
