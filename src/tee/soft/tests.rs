//! The trustlet's security properties, driven through its request interface as the HAL drives it.

use super::*;
use crate::auth_token::{self, AuthToken, HW_AUTH_FINGERPRINT, HW_AUTH_TOKEN_VERSION};
use crate::matcher::tests::{ridges, synthetic};
use std::time::Duration;

/// A fresh key directory and group directory per test, removed on drop.
pub(super) struct Fixture {
    pub(super) root: PathBuf,
}

impl Fixture {
    pub(super) fn new(name: &str) -> Fixture {
        let root = std::env::temp_dir().join(format!("fphal-ta-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("keys")).unwrap();
        std::fs::create_dir_all(root.join("group")).unwrap();
        Fixture { root }
    }

    pub(super) fn settings(&self) -> SoftSettings {
        SoftSettings {
            device_key_file: self.root.join("keys/device.key"),
            auth_key_file: self.root.join("keys/auth.key"),
            create_auth_key: true,
            insecure_zero_hmac: false,
            token_max_age_ms: 600_000,
            max_fingers: 5,
            enroll_samples: 2,
            lockout_trials: 5,
            lockout_ms: 400,
            threshold: matcher::DEFAULT_THRESHOLD,
            min_contact_ms: 40,
            min_clarity: 0.45,
            update_score: 0.30,
            update_max_views: 20,
        }
    }

    pub(super) fn group(&self) -> String {
        self.root.join("group").to_str().unwrap().to_string()
    }

    pub(super) fn auth_key(&self) -> Key {
        keys::load(&self.root.join("keys/auth.key")).unwrap()
    }

    /// A trustlet with group 7 active.
    pub(super) fn trustlet(&self, settings: SoftSettings) -> SoftTrustlet {
        let mut ta = SoftTrustlet::new(settings).unwrap();
        assert_eq!(ta.dispatch(Request::SetActiveGroup { gid: 7, path: self.group() }), Response::Ok);
        ta
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub(super) fn challenge(ta: &mut SoftTrustlet) -> u64 {
    match ta.dispatch(Request::PreEnroll) {
        Response::Challenge(c) => c,
        other => panic!("pre_enroll answered {other:?}"),
    }
}

pub(super) fn authenticator_id(ta: &mut SoftTrustlet) -> u64 {
    match ta.dispatch(Request::GetAuthenticatorId) {
        Response::AuthenticatorId(id) => id,
        other => panic!("get_authenticator_id answered {other:?}"),
    }
}

fn is_unauthorized(r: &Response) -> bool {
    matches!(r, Response::Error(TaError::Unauthorized(_)))
}

/// A touch of synthetic finger `finger` (its `impression`-th, for noise and skin stretch) placed
/// where the test says: offset from the finger's centre and turn.
pub(super) fn aimed(finger: u32, impression: u32, dx: f32, dy: f32, degrees: f32) -> GrayImage {
    synthetic(finger as u64, impression, |t| {
        (t.dx, t.dy, t.rotation) = (dx, dy, degrees);
    })
}

/// Enrolls synthetic finger `seed` with a valid token; returns the fid.
pub(super) fn enroll(ta: &mut SoftTrustlet, key: &[u8], seed: u32, user_id: u64) -> u32 {
    let c = challenge(ta);
    let hat = auth_token::mint_password_token(key, c, user_id);
    assert_eq!(ta.dispatch(Request::EnrollBegin { hat }), Response::Ok);
    let mut fid = 0;
    for (i, (dx, dy)) in [(0.0, 0.0), (18.0, -12.0)].into_iter().enumerate() {
        let image = aimed(seed, 1 + i as u32, dx, dy, 0.0);
        match ta.dispatch(Request::EnrollCapture { image, contact_ms: 300 }) {
            Response::Enroll(step) => {
                assert!(step.counted, "touch {i} of finger {seed} not counted: {step:?}");
                fid = step.fid;
            }
            other => panic!("enroll capture answered {other:?}"),
        }
    }
    ta.dispatch(Request::PostEnroll);
    fid
}

pub(super) fn authenticate(ta: &mut SoftTrustlet, operation_id: u64, seed: u32) -> AuthOutcome {
    assert_eq!(ta.dispatch(Request::AuthenticateBegin { operation_id }), Response::Ok);
    let image = aimed(seed, 10, 6.0, 5.0, 4.0);
    match ta.dispatch(Request::AuthenticateCapture { image, contact_ms: 300 }) {
        Response::Auth { acquired, outcome } => {
            assert_eq!(acquired, Acquired::Good);
            outcome
        }
        other => panic!("authenticate capture answered {other:?}"),
    }
}

#[test]
fn every_single_bit_flip_of_an_enroll_token_is_refused() {
    let fx = Fixture::new("flip");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let c = challenge(&mut ta);
    let good = auth_token::mint_password_token(&key[..], c, 1234);
    for byte in 0..HAT_LEN {
        for bit in 0..8 {
            let mut hat = good;
            hat[byte] ^= 1 << bit;
            let r = ta.dispatch(Request::EnrollBegin { hat });
            assert!(is_unauthorized(&r), "flip of byte {byte} bit {bit} was answered {r:?}");
        }
    }
    // The untouched token still works: the refusals were the flips, not a broken session.
    assert_eq!(ta.dispatch(Request::EnrollBegin { hat: good }), Response::Ok);
}

#[test]
fn old_reused_wrong_type_and_stale_tokens_are_refused() {
    let fx = Fixture::new("tokens");
    // A short age limit, so that a stale token exists however short the machine's uptime (the
    // token clock starts at boot; a limit of ten minutes needs ten minutes of uptime to test).
    let mut ta = fx.trustlet(SoftSettings { token_max_age_ms: 10_000, ..fx.settings() });
    let key = fx.auth_key();

    let old = challenge(&mut ta);
    let current = challenge(&mut ta);
    assert_ne!(old, current);
    let r = ta.dispatch(Request::EnrollBegin { hat: auth_token::mint_password_token(&key[..], old, 1) });
    assert!(is_unauthorized(&r), "a token for a superseded challenge: {r:?}");

    // cancel (EndSession) keeps the challenge; post_enroll drops it.
    ta.dispatch(Request::EndSession);
    let hat = auth_token::mint_password_token(&key[..], current, 1);
    assert_eq!(ta.dispatch(Request::EnrollBegin { hat }), Response::Ok);
    assert_eq!(ta.dispatch(Request::PostEnroll), Response::Ok);
    let r = ta.dispatch(Request::EnrollBegin { hat });
    assert!(is_unauthorized(&r), "a token reused after post_enroll: {r:?}");

    let c = challenge(&mut ta);
    let signed = |mutate: &dyn Fn(&mut AuthToken)| {
        let mut t = AuthToken::from_bytes(&auth_token::mint_password_token(&key[..], c, 1));
        mutate(&mut t);
        t.sign(&key[..]);
        t.to_bytes()
    };
    let r = ta.dispatch(Request::EnrollBegin { hat: signed(&|t| t.authenticator_type = HW_AUTH_FINGERPRINT) });
    assert!(is_unauthorized(&r), "a FINGERPRINT-type token: {r:?}");
    let r = ta.dispatch(Request::EnrollBegin { hat: signed(&|t| t.timestamp = t.timestamp.saturating_sub(10_001)) });
    assert!(is_unauthorized(&r), "a token older than the limit: {r:?}");
    let r = ta.dispatch(Request::EnrollBegin { hat: signed(&|t| t.timestamp += 60_000) });
    assert!(is_unauthorized(&r), "a token from the future: {r:?}");
    let r = ta.dispatch(Request::EnrollBegin { hat: signed(&|t| t.version = 1) });
    assert!(is_unauthorized(&r), "a version-1 token: {r:?}");
    let other_key = [9u8; 32];
    let r = ta.dispatch(Request::EnrollBegin { hat: auth_token::mint_password_token(&other_key, c, 1) });
    assert!(is_unauthorized(&r), "a token signed with another key: {r:?}");
    assert_eq!(ta.dispatch(Request::EnrollBegin { hat: signed(&|_| {}) }), Response::Ok);
}

#[test]
fn a_match_carries_a_signed_fingerprint_token_with_the_right_fields_and_byte_order() {
    let fx = Fixture::new("hat");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let fid = enroll(&mut ta, &key[..], 1, 0x0102_0304_0506_0708);
    let auth_id = authenticator_id(&mut ta);
    let before = auth_token::monotonic_ms();
    let op = 0x1122_3344_5566_7788;
    let AuthOutcome::Match { fid: got, hat } = authenticate(&mut ta, op, 1) else {
        panic!("genuine touch did not match")
    };
    let after = auth_token::monotonic_ms();
    assert_eq!(got, fid);
    let t = AuthToken::from_bytes(&hat);
    assert!(t.verify(&key[..]), "token does not verify with the auth-token key");
    assert!(!t.verify(&[0u8; 32]));
    assert_eq!(hat[0], HW_AUTH_TOKEN_VERSION);
    assert_eq!(hat[1..9], op.to_le_bytes(), "challenge is the operation id, host order");
    assert_eq!(hat[9..17], 0x0102_0304_0506_0708u64.to_le_bytes(), "user id recorded at enrollment");
    assert_eq!(hat[17..25], auth_id.to_le_bytes());
    assert_eq!(hat[25..29], [0, 0, 0, 2], "authenticator_type FINGERPRINT, big-endian");
    assert!(
        (before..=after).contains(&u64::from_be_bytes(hat[29..37].try_into().unwrap())),
        "timestamp: monotonic ms, big-endian"
    );
    // operation_id 0 is signed as well.
    let AuthOutcome::Match { hat, .. } = authenticate(&mut ta, 0, 1) else {
        panic!("second genuine touch did not match")
    };
    assert!(AuthToken::from_bytes(&hat).verify(&key[..]));
}

#[test]
fn authenticator_id_and_finger_ids_follow_the_rules() {
    let fx = Fixture::new("ids");
    let mut ta = fx.trustlet(SoftSettings { max_fingers: 2, ..fx.settings() });
    let key = fx.auth_key();
    let empty = authenticator_id(&mut ta);
    assert_ne!(empty, 0, "an empty group still has a non-zero authenticator id");
    let a = enroll(&mut ta, &key[..], 1, 5);
    let after_a = authenticator_id(&mut ta);
    let b = enroll(&mut ta, &key[..], 4, 5);
    let after_b = authenticator_id(&mut ta);
    assert!(a != 0 && b != 0 && a != b && a < 1 << 31 && b < 1 << 31, "fids {a} {b}");
    assert!(empty != after_a && after_a != after_b, "enrolling must change the authenticator id");

    // Persisted: a restarted trustlet sees the same id and fingers.
    drop(ta);
    let mut ta = fx.trustlet(SoftSettings { max_fingers: 2, ..fx.settings() });
    assert_eq!(authenticator_id(&mut ta), after_b);
    let mut fids = match ta.dispatch(Request::Enumerate) {
        Response::Fingers(f) => f,
        other => panic!("{other:?}"),
    };
    fids.sort_unstable();
    let mut expect = vec![a, b];
    expect.sort_unstable();
    assert_eq!(fids, expect);

    // Capacity.
    let c = challenge(&mut ta);
    let r = ta.dispatch(Request::EnrollBegin { hat: auth_token::mint_password_token(&key[..], c, 5) });
    assert_eq!(r, Response::Error(TaError::NoSpace));

    assert_eq!(ta.dispatch(Request::Remove { fid: a }), Response::Removed { fids: vec![a], complete: true });
    let after_remove = authenticator_id(&mut ta);
    assert!(after_remove != 0 && after_remove != after_b, "removing a finger changes the set: a new id");
    assert_eq!(ta.dispatch(Request::Remove { fid: b }), Response::Removed { fids: vec![b], complete: true });
    let emptied = authenticator_id(&mut ta);
    assert!(emptied != 0 && emptied != after_remove, "removing the last finger must change the id");
    let left: Vec<_> =
        std::fs::read_dir(fx.group()).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    assert_eq!(left, vec!["group-7.manifest".to_string()], "the emptied group keeps only its manifest");
}

#[test]
fn five_false_trials_lock_out_across_a_restart_until_the_configured_time_passes() {
    let fx = Fixture::new("lockout");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    enroll(&mut ta, &key[..], 1, 5);

    // A match resets the count: 4 false, 1 match, 4 false is no lockout.
    for _ in 0..4 {
        assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::NoMatch);
    }
    assert!(matches!(authenticate(&mut ta, 1, 1), AuthOutcome::Match { .. }));
    for _ in 0..4 {
        assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::NoMatch);
    }
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::LockedOut, "the fifth false trial in a row locks");
    assert!(matches!(
        ta.dispatch(Request::AuthenticateBegin { operation_id: 1 }),
        Response::Error(TaError::Lockout { .. })
    ));

    // A restarted trustlet (close/open, process restart) reads the lockout from the group dir.
    drop(ta);
    let mut ta = fx.trustlet(fx.settings());
    match ta.dispatch(Request::AuthenticateBegin { operation_id: 1 }) {
        Response::Error(TaError::Lockout { remaining_ms }) => assert!(remaining_ms <= 400),
        other => panic!("lockout did not survive a restart: {other:?}"),
    }
    std::thread::sleep(Duration::from_millis(450));
    assert!(
        matches!(authenticate(&mut ta, 1, 1), AuthOutcome::Match { .. }),
        "lockout must end after the configured time"
    );
}

#[test]
fn enumerate_reports_what_is_on_disk_and_loads() {
    let fx = Fixture::new("enumerate");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let a = enroll(&mut ta, &key[..], 1, 5);
    let b = enroll(&mut ta, &key[..], 4, 5);
    // Finger a's file is damaged behind the trustlet's back; b still loads and is reported alone.
    let path = Path::new(&fx.group()).join(store::template_name(a));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(ta.dispatch(Request::Enumerate), Response::Fingers(vec![b]));
    assert_eq!(authenticate(&mut ta, 1, 1), AuthOutcome::NoMatch, "a finger that no longer loads must not match");
}

#[test]
fn a_finger_already_enrolled_is_refused_with_the_vendor_code() {
    let fx = Fixture::new("duplicate");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    enroll(&mut ta, &key[..], 1, 5);
    let c = challenge(&mut ta);
    assert_eq!(
        ta.dispatch(Request::EnrollBegin { hat: auth_token::mint_password_token(&key[..], c, 5) }),
        Response::Ok
    );
    let image = aimed(1, 11, -5.0, 7.0, 3.0);
    match ta.dispatch(Request::EnrollCapture { image, contact_ms: 300 }) {
        Response::Enroll(step) => {
            assert_eq!(step.vendor_error, Some(VendorError::FingerAlreadyEnrolled));
            assert!(!step.counted);
        }
        other => panic!("{other:?}"),
    }
    // The enrollment is over: nothing more is counted, and the group still has one finger.
    let image = ridges(4, 160, 160, 0.0, 0.0, 0.0);
    assert_eq!(ta.dispatch(Request::EnrollCapture { image, contact_ms: 300 }), Response::Error(TaError::NoSession));
    assert!(matches!(ta.dispatch(Request::Enumerate), Response::Fingers(f) if f.len() == 1));
    // Another finger enrolls normally.
    enroll(&mut ta, &key[..], 4, 5);
}

/// Starts an enrollment and returns the acquired code (and the vendor error) of each capture.
fn enroll_codes(ta: &mut SoftTrustlet, key: &[u8], captures: Vec<(GrayImage, u32)>) -> Vec<(Acquired, bool)> {
    let c = challenge(ta);
    assert_eq!(ta.dispatch(Request::EnrollBegin { hat: auth_token::mint_password_token(key, c, 5) }), Response::Ok);
    captures
        .into_iter()
        .map(|(image, contact_ms)| match ta.dispatch(Request::EnrollCapture { image, contact_ms }) {
            Response::Enroll(step) => (step.acquired, step.counted),
            other => panic!("enroll capture answered {other:?}"),
        })
        .collect()
}

#[test]
fn a_touch_shorter_than_the_minimum_contact_is_too_fast_and_not_counted() {
    let fx = Fixture::new("too-fast");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let codes = enroll_codes(
        &mut ta,
        &key[..],
        vec![(ridges(3, 160, 160, 0.0, 0.0, 0.0), 12), (ridges(3, 160, 160, 0.0, 0.0, 0.0), 41)],
    );
    assert_eq!(codes, vec![(Acquired::TooFast, false), (Acquired::Good, true)]);
    // A sensor that does not measure contact (0) is not judged on it.
    let codes = enroll_codes(&mut ta, &key[..], vec![(ridges(3, 160, 160, 0.0, 0.0, 0.0), 0)]);
    assert_eq!(codes, vec![(Acquired::Good, true)]);
}

#[test]
fn a_touch_where_an_earlier_one_lay_asks_to_move_the_finger_and_is_not_counted() {
    let fx = Fixture::new("move");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let codes = enroll_codes(
        &mut ta,
        &key[..],
        vec![
            (ridges(3, 160, 160, 0.0, 0.0, 0.0), 300),
            (ridges(3, 160, 160, 3.0, -2.0, 1.0), 300),
            (ridges(3, 160, 160, 20.0, 16.0, 0.0), 300),
        ],
    );
    assert_eq!(
        codes,
        vec![(Acquired::Good, true), (Acquired::Vendor(VendorAcquired::MoveFinger), false), (Acquired::Good, true)]
    );
}

#[test]
fn a_smudge_that_stays_while_the_finger_moves_is_a_dirty_imager() {
    let fx = Fixture::new("dirty");
    let mut ta = fx.trustlet(SoftSettings { enroll_samples: 8, ..fx.settings() });
    let key = fx.auth_key();
    let dirty = |k| synthetic(21, k, |t| t.dirt = Some(5));
    let codes = enroll_codes(
        &mut ta,
        &key[..],
        vec![(dirty(2), 300), (dirty(3), 300), (dirty(4), 300), (synthetic(21, 5, |_| {}), 300)],
    );
    // The first two touches have too little to compare with; the third shows the smudge of both
    // in the same place; a clean touch after it is fine again.
    assert_eq!(codes[2..], [(Acquired::ImagerDirty, false), (Acquired::Good, true)]);
}

#[test]
fn noise_without_ridge_flow_is_insufficient() {
    let fx = Fixture::new("insufficient");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let noise = crate::matcher::tests::noise(0x1234_5678, 160 * 160);
    let codes = enroll_codes(&mut ta, &key[..], vec![(GrayImage::new(160, 160, 500, noise).unwrap(), 300)]);
    assert_eq!(codes, vec![(Acquired::Insufficient, false)]);
}

/// Template update builds on the enrolled views only. Views an update added (here another
/// finger's, as if a touch had laid foreign skin beside the owner's) do not vouch for a further
/// update, however well a capture matches them; the enrolled finger's own captures still do.
#[test]
fn an_update_needs_the_enrolled_views_to_vouch_for_it() {
    let extract = |finger: u64, k: u32| crate::matcher::extract(&synthetic(finger, k, |_| {})).ok();
    let mut template = Template::from_views((1..=4).filter_map(|k| extract(23, k)).collect());
    for k in 1..=4 {
        assert!(template.add_view(extract(31, k).unwrap()));
    }
    let learning = Learning { min_score: 0.30, max_views: 20 };
    let mut on_added_views_alone = 0;
    for probe in (5..=20).filter_map(|k| extract(31, k)) {
        let matches = matcher::view_matches(&probe, &template);
        assert!(!learning.worth_it(&probe, &matches, &template), "a capture of the other finger");
        if matcher::score_of(&matches) >= 0.30 && matcher::shows_new_skin(&probe, &template, &matches) {
            on_added_views_alone += 1;
        }
    }
    assert!(on_added_views_alone > 0, "no capture matched the added views confidently on new skin");
    let own = (5..=20).filter_map(|k| extract(23, k)).filter(|probe| {
        let matches = matcher::view_matches(probe, &template);
        learning.worth_it(probe, &matches, &template)
    });
    assert!(own.count() > 0, "the enrolled finger's captures no longer update");
}

/// Synthetic finger 23, enrolled with 4 touches: some of its later touches match at 0.30 or more
/// and show skin no view shows (finger 21, used before the generator's flow wandered more, no
/// longer does).
#[test]
fn a_confident_match_on_new_skin_grows_the_template_up_to_its_bound_and_keeps_the_authenticator_id() {
    let fx = Fixture::new("update");
    let settings = SoftSettings { enroll_samples: 4, update_max_views: 5, lockout_trials: 1000, ..fx.settings() };
    let mut ta = fx.trustlet(settings.clone());
    let key = fx.auth_key();
    let c = challenge(&mut ta);
    assert_eq!(
        ta.dispatch(Request::EnrollBegin { hat: auth_token::mint_password_token(&key[..], c, 5) }),
        Response::Ok
    );
    let mut impression = 1;
    loop {
        impression += 1;
        match ta.dispatch(Request::EnrollCapture { image: synthetic(23, impression, |_| {}), contact_ms: 300 }) {
            Response::Enroll(step) if step.remaining == 0 && step.counted => break,
            Response::Enroll(_) => assert!(impression < 12, "enrollment does not finish"),
            other => panic!("{other:?}"),
        }
    }
    ta.dispatch(Request::PostEnroll);
    let auth_id = authenticator_id(&mut ta);
    let views = |ta: &SoftTrustlet| ta.group.as_ref().unwrap().fingers[0].template.view_count();
    let mut matched = 0;
    for impression in impression + 1..=impression + 30 {
        assert_eq!(ta.dispatch(Request::AuthenticateBegin { operation_id: 1 }), Response::Ok);
        if let Response::Auth { outcome: AuthOutcome::Match { .. }, .. } =
            ta.dispatch(Request::AuthenticateCapture { image: synthetic(23, impression, |_| {}), contact_ms: 300 })
        {
            matched += 1;
        }
    }
    assert!(matched >= 3, "only {matched} matches");
    assert_eq!(views(&ta), 5, "updates up to the bound");
    assert_eq!(authenticator_id(&mut ta), auth_id);
    // Stored: a restarted trustlet loads the grown template.
    drop(ta);
    let ta = fx.trustlet(settings);
    assert_eq!(views(&ta), 5);
}
