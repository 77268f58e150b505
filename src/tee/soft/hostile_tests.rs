//! The trustlet against someone who can read and write the group directory (the framework's data
//! area) but not the key directory or the process: lockout that cannot be cleared or rolled back,
//! a group directory copied back whole, removal that loses nothing it cannot prove is its own.

use super::tests::{Fixture, aimed, authenticate, authenticator_id, enroll};
use super::*;
use crate::test_log::{assert_logged, capture};
use log::Level;
use std::fs;

/// Every file of the group directory that is not a template: the trustlet's state, whatever its
/// name.
fn state_files(fx: &Fixture) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(fx.group())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("fp-"))
        .collect();
    v.sort();
    v
}

/// Copies of every file in the group directory.
fn snapshot(fx: &Fixture) -> Vec<(PathBuf, Vec<u8>)> {
    fs::read_dir(fx.group()).unwrap().flatten().map(|e| (e.path(), fs::read(e.path()).unwrap())).collect()
}

/// Puts the group directory back as `snap` had it: every file restored, every other file removed.
fn restore(fx: &Fixture, snap: &[(PathBuf, Vec<u8>)]) {
    for e in fs::read_dir(fx.group()).unwrap().flatten() {
        if e.path().is_dir() {
            fs::remove_dir_all(e.path()).unwrap();
        } else {
            fs::remove_file(e.path()).unwrap();
        }
    }
    for (p, bytes) in snap {
        fs::write(p, bytes).unwrap();
        fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
}

fn begin(ta: &mut SoftTrustlet) -> Response {
    ta.dispatch(Request::AuthenticateBegin { operation_id: 1 })
}

fn locked(r: &Response) -> bool {
    matches!(r, Response::Error(TaError::Lockout { .. }))
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

/// Remove-all, and the fingers it says it removed, ascending.
fn remove_all(ta: &mut SoftTrustlet) -> Vec<u32> {
    match ta.dispatch(Request::Remove { fid: 0 }) {
        Response::Removed { fids, complete: true } => sorted(fids),
        other => panic!("remove-all answered {other:?}"),
    }
}

fn fingers(ta: &mut SoftTrustlet) -> Vec<u32> {
    match ta.dispatch(Request::Enumerate) {
        Response::Fingers(f) => sorted(f),
        other => panic!("enumerate answered {other:?}"),
    }
}

/// A trustlet whose group has finger 1 enrolled and a long lockout.
fn enrolled(fx: &Fixture) -> SoftTrustlet {
    let mut ta = fx.trustlet(SoftSettings { lockout_ms: 60_000, ..fx.settings() });
    enroll(&mut ta, &fx.auth_key()[..], 1, 5);
    ta
}

fn restarted(fx: &Fixture) -> SoftTrustlet {
    fx.trustlet(SoftSettings { lockout_ms: 60_000, ..fx.settings() })
}

/// [`restarted`] before its `set_active_group`, which the caller sends and checks.
fn restarted_unchecked(fx: &Fixture) -> SoftTrustlet {
    SoftTrustlet::new(SoftSettings { lockout_ms: 60_000, ..fx.settings() }).unwrap()
}

#[test]
fn deleting_the_state_does_not_clear_a_running_lockout() {
    capture();
    let fx = Fixture::new("hostile-delete");
    let mut ta = enrolled(&fx);
    for _ in 0..4 {
        assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::NoMatch);
    }
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::LockedOut);
    let state = state_files(&fx);
    assert!(!state.is_empty(), "the lockout is stored somewhere in the group directory");
    for p in &state {
        fs::remove_file(p).unwrap();
    }
    assert!(locked(&begin(&mut ta)), "deleting the state must not end the lockout");
    assert!(locked(&begin(&mut restarted(&fx))), "nor after a restart");
    assert_logged(Level::Error, &[&fx.group(), "failing closed"]);
    assert_eq!(fingers(&mut ta).len(), 1, "the finger itself is not lost");
}

#[test]
fn restoring_the_state_from_before_each_false_trial_still_locks() {
    capture();
    let fx = Fixture::new("hostile-rollback-state");
    let mut ta = enrolled(&fx);
    let before = snapshot(&fx);
    // An attacker puts the group directory back after every impostor touch. Count the touches
    // that are judged before a lockout shows (at the start of an attempt or as its outcome).
    let mut judged = 0;
    for _ in 0..30 {
        if locked(&begin(&mut ta)) {
            break;
        }
        let image = aimed(4, 10, 6.0, 5.0, 4.0);
        match ta.dispatch(Request::AuthenticateCapture { image, contact_ms: 300 }) {
            Response::Auth { outcome: AuthOutcome::NoMatch, .. } => judged += 1,
            Response::Auth { outcome: AuthOutcome::LockedOut, .. } | Response::Error(TaError::Lockout { .. }) => break,
            other => panic!("{other:?}"),
        }
        restore(&fx, &before);
    }
    assert!(judged < 5, "{judged} impostor touches judged without a lockout");
    assert!(locked(&begin(&mut ta)));
    assert!(locked(&begin(&mut restarted(&fx))), "a restarted trustlet sees the rollback too");
    assert_logged(Level::Error, &[&fx.group(), "rolled back"]);
}

#[test]
fn a_garbage_state_reads_as_locked_while_a_false_trial_is_counted() {
    capture();
    let fx = Fixture::new("hostile-garbage");
    let mut ta = enrolled(&fx);
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::NoMatch);
    for p in state_files(&fx) {
        fs::write(p, b"garbage, not a sealed state").unwrap();
    }
    assert!(locked(&begin(&mut ta)), "garbage state while a false trial is counted must lock");
    assert!(locked(&begin(&mut restarted(&fx))));
    assert_logged(Level::Error, &[&fx.group(), "failing closed"]);
}

#[test]
fn a_directory_where_the_state_goes_counts_the_trial_and_locks() {
    capture();
    let fx = Fixture::new("hostile-dir-state");
    let mut ta = enrolled(&fx);
    for p in state_files(&fx) {
        fs::remove_file(&p).unwrap();
        fs::create_dir(&p).unwrap();
    }
    for name in ["lockout.state", "group.manifest"] {
        let _ = fs::create_dir(Path::new(&fx.group()).join(name));
    }
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::LockedOut, "a trial that cannot be stored locks");
    assert!(locked(&begin(&mut ta)));
    assert!(locked(&begin(&mut restarted(&fx))), "and stays locked after a restart");
    assert_logged(Level::Error, &[&fx.group(), "failing closed"]);
    assert_eq!(fingers(&mut restarted(&fx)).len(), 1, "the finger is not lost");
}

#[test]
fn a_manifest_the_system_fails_to_read_refuses_the_group_and_rebuilds_nothing() {
    capture();
    let fx = Fixture::new("hostile-eio");
    let mut ta = enrolled(&fx);
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::NoMatch);
    let id = authenticator_id(&mut ta);
    let before = snapshot(&fx);
    drop(ta);
    let mut refused = opened_while_the_manifest_fails_to_read(&fx);
    assert_eq!(begin(&mut refused), Response::Error(TaError::NoActiveGroup), "no authentication without its group");
    assert_logged(Level::Error, &[&fx.group(), "cannot be read now", "refused, nothing rewritten"]);
    assert_unchanged(&fx, &before);
    let mut ta = restarted(&fx);
    assert_eq!(authenticator_id(&mut ta), id, "a read that failed once must not renew the authenticator id");
    assert_eq!(fingers(&mut ta).len(), 1, "the finger is still there");
    for _ in 0..3 {
        assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::NoMatch, "not locked out by the failed read");
    }
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::LockedOut, "the false trial before the failed read counts");
}

#[test]
fn a_failed_read_of_a_group_with_no_anchor_is_refused_not_adopted_anew() {
    capture();
    let fx = Fixture::new("hostile-eio-unanchored");
    drop(enrolled(&fx));
    // A group an older version left has no anchor: a manifest that does not read would be adopted
    // as a new group's, over the one that may still be whole.
    fs::remove_dir_all(fx.root.join("keys/anchors")).unwrap();
    let before = snapshot(&fx);
    opened_while_the_manifest_fails_to_read(&fx);
    assert_unchanged(&fx, &before);
    assert_eq!(fingers(&mut restarted(&fx)).len(), 1, "the finger is still there");
}

/// A trustlet started while every read of the group's manifest fails with an I/O error: its
/// `set_active_group` must refuse the group.
fn opened_while_the_manifest_fails_to_read(fx: &Fixture) -> SoftTrustlet {
    let _failing = crate::fsutil::faults::fail_opens(".manifest", rustix::io::Errno::IO);
    let mut ta = restarted_unchecked(fx);
    let answer = ta.dispatch(Request::SetActiveGroup { gid: 7, path: fx.group() });
    assert!(matches!(answer, Response::Error(TaError::Internal(_))), "the group must be refused: {answer:?}");
    ta
}

/// Panics unless the group directory holds exactly the files of `before`, byte for byte.
fn assert_unchanged(fx: &Fixture, before: &[(PathBuf, Vec<u8>)]) {
    assert_eq!(snapshot(fx).len(), before.len(), "no file was added or removed");
    for (path, bytes) in before {
        assert_eq!(&fs::read(path).unwrap(), bytes, "{} was rewritten", path.display());
    }
}

#[test]
fn the_longest_lockout_does_not_wrap_around() {
    let fx = Fixture::new("hostile-wrap");
    let mut ta = fx.trustlet(SoftSettings { lockout_ms: u64::MAX, ..fx.settings() });
    enroll(&mut ta, &fx.auth_key()[..], 1, 5);
    for _ in 0..4 {
        assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::NoMatch);
    }
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::LockedOut);
    assert!(locked(&begin(&mut ta)), "a lockout of u64::MAX ms must not wrap into the past");
}

#[test]
fn copying_back_a_whole_older_group_directory_restores_nothing() {
    capture();
    let fx = Fixture::new("hostile-rollback-dir");
    let mut ta = fx.trustlet(SoftSettings { lockout_ms: 60_000, ..fx.settings() });
    let key = fx.auth_key();
    let a = enroll(&mut ta, &key[..], 1, 5);
    let b = enroll(&mut ta, &key[..], 4, 5);
    let old_id = authenticator_id(&mut ta);
    let before = snapshot(&fx);

    assert_eq!(ta.dispatch(Request::Remove { fid: a }), Response::Removed { fids: vec![a], complete: true });
    // Finger a (seed 1) is gone, so its touches are now false trials: the fifth locks.
    for _ in 0..4 {
        assert_eq!(authenticate(&mut ta, 1, 1), AuthOutcome::NoMatch);
    }
    assert_eq!(authenticate(&mut ta, 1, 1), AuthOutcome::LockedOut);
    drop(ta);
    restore(&fx, &before);

    let mut ta = restarted(&fx);
    assert!(!fingers(&mut ta).contains(&a), "a removed finger copied back must not return");
    assert_ne!(authenticator_id(&mut ta), old_id, "the authenticator id must not roll back");
    assert!(locked(&begin(&mut ta)), "the lockout earned after the copy must stand");
    assert_eq!(fingers(&mut ta), vec![b], "the finger that was not removed stays");
    assert_logged(Level::Error, &[&fx.group(), "rolled back"]);
}

#[test]
fn remove_all_under_another_gid_deletes_nothing() {
    capture();
    let fx = Fixture::new("hostile-cross-gid");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let a = enroll(&mut ta, &key[..], 1, 5);
    let b = enroll(&mut ta, &key[..], 4, 5);
    let before = snapshot(&fx);

    assert_eq!(ta.dispatch(Request::SetActiveGroup { gid: 99, path: fx.group() }), Response::Ok);
    assert_eq!(ta.dispatch(Request::Remove { fid: 0 }), Response::Removed { fids: vec![], complete: true });
    let after = snapshot(&fx);
    for file in &before {
        assert!(after.contains(file), "{} of another group must stay as it was", file.0.display());
    }
    assert_logged(Level::Warn, &[&fx.group(), "left in place"]);

    assert_eq!(ta.dispatch(Request::SetActiveGroup { gid: 7, path: fx.group() }), Response::Ok);
    assert_eq!(fingers(&mut ta), sorted(vec![a, b]));
}

#[test]
fn remove_all_with_a_directory_in_a_template_slot_removes_the_rest_and_renews_the_id() {
    capture();
    let fx = Fixture::new("hostile-dir-slot");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let a = enroll(&mut ta, &key[..], 1, 5);
    let b = enroll(&mut ta, &key[..], 4, 5);
    let id = authenticator_id(&mut ta);
    let slot = Path::new(&fx.group()).join(store::template_name(0x1234_5678));
    fs::create_dir(&slot).unwrap();

    let removed = remove_all(&mut ta);
    let expect = sorted(vec![a, b]);
    assert_eq!(removed, expect);
    assert!(slot.is_dir(), "what is not ours stays");
    assert_ne!(authenticator_id(&mut ta), id, "the set of fingers changed: a new authenticator id");
    assert!(fingers(&mut ta).is_empty());
    assert_logged(Level::Warn, &[&slot.display().to_string(), "left in place"]);
}

#[test]
fn a_template_that_does_not_open_is_left_by_remove_all() {
    capture();
    let fx = Fixture::new("hostile-foreign-template");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let a = enroll(&mut ta, &key[..], 1, 5);
    let foreign = Path::new(&fx.group()).join(store::template_name(0x0bad_f00d));
    fs::write(&foreign, b"FPS1 sealed by some other device").unwrap();
    assert_eq!(ta.dispatch(Request::Remove { fid: 0 }), Response::Removed { fids: vec![a], complete: true });
    assert!(foreign.is_file(), "a file that does not open as this group's is not deleted");
    assert_logged(Level::Warn, &[&foreign.display().to_string(), "left in place"]);
}

#[test]
fn a_template_slot_that_is_a_symbolic_link_is_not_followed() {
    capture();
    let fx = Fixture::new("hostile-symlink");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let a = enroll(&mut ta, &key[..], 1, 5);
    let name = store::template_name(a);
    let real = fx.root.join("elsewhere.tpl");
    let slot = Path::new(&fx.group()).join(&name);
    fs::rename(&slot, &real).unwrap();
    std::os::unix::fs::symlink(&real, &slot).unwrap();
    assert!(fingers(&mut ta).is_empty(), "a template behind a symbolic link must not load");
    assert_logged(Level::Warn, &[&name, "symbolic link"]);
}

#[test]
fn an_oversized_capture_is_refused_before_any_work() {
    let fx = Fixture::new("hostile-huge");
    let mut ta = enrolled(&fx);
    assert_eq!(ta.dispatch(Request::AuthenticateBegin { operation_id: 1 }), Response::Ok);
    let image = GrayImage::new(1024, 1024, 300, vec![128; 1024 * 1024]).unwrap();
    match ta.dispatch(Request::AuthenticateCapture { image, contact_ms: 300 }) {
        Response::Auth { acquired, outcome } => {
            assert_eq!(acquired, Acquired::Insufficient);
            assert_eq!(outcome, AuthOutcome::NotCounted);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_interrupted_touch_is_not_matched_and_not_counted() {
    let fx = Fixture::new("hostile-interrupt");
    let mut ta = enrolled(&fx);
    let interrupt = ta.interrupt();
    for _ in 0..6 {
        assert_eq!(ta.dispatch(Request::AuthenticateBegin { operation_id: 1 }), Response::Ok);
        interrupt.request();
        let image = aimed(4, 10, 6.0, 5.0, 4.0);
        match ta.dispatch(Request::AuthenticateCapture { image, contact_ms: 300 }) {
            Response::Auth { outcome, .. } => assert_eq!(outcome, AuthOutcome::NotCounted),
            other => panic!("{other:?}"),
        }
    }
    assert!(!locked(&begin(&mut ta)), "interrupted touches are not false trials");
    assert!(matches!(authenticate(&mut ta, 1, 1), AuthOutcome::Match { .. }), "the next touch runs in full");
}

#[test]
fn a_directory_in_an_enrolled_fingers_slot_does_not_stop_remove_all() {
    capture();
    let fx = Fixture::new("hostile-dir-live-slot");
    let mut ta = fx.trustlet(fx.settings());
    let key = fx.auth_key();
    let a = enroll(&mut ta, &key[..], 1, 5);
    let b = enroll(&mut ta, &key[..], 4, 5);
    let id = authenticator_id(&mut ta);
    let slot = Path::new(&fx.group()).join(store::template_name(a));
    fs::remove_file(&slot).unwrap();
    fs::create_dir(&slot).unwrap();
    let removed = remove_all(&mut ta);
    let expect = sorted(vec![a, b]);
    assert_eq!(removed, expect, "both fingers leave the group");
    assert!(slot.is_dir(), "the directory is not ours to delete");
    assert_ne!(authenticator_id(&mut ta), id);
    assert!(fingers(&mut restarted(&fx)).is_empty(), "and they stay gone after a restart");
    assert_logged(Level::Warn, &[&slot.display().to_string(), "left in place"]);
}

#[test]
fn a_group_of_an_older_version_is_adopted_with_its_fingers_id_and_lockout() {
    let fx = Fixture::new("legacy-adopt");
    let mut ta = fx.trustlet(fx.settings());
    let a = enroll(&mut ta, &fx.auth_key()[..], 1, 5);
    drop(ta);
    // What an older version left: the template, group.meta and lockout.state, no manifest.
    let device_key = keys::load(&fx.root.join("keys/device.key")).unwrap();
    for e in fs::read_dir(fx.group()).unwrap().flatten() {
        if e.file_name().to_string_lossy().ends_with(".manifest") {
            fs::remove_file(e.path()).unwrap();
        }
    }
    fs::remove_dir_all(fx.root.join("keys/anchors")).unwrap();
    let old = GroupStore::open(Path::new(&fx.group()), 7, &device_key);
    old.store_legacy(0x5eed, &store::LockoutState { false_trials: 4, ..Default::default() }).unwrap();

    let mut ta = fx.trustlet(fx.settings());
    assert_eq!(fingers(&mut ta), vec![a]);
    assert_eq!(authenticator_id(&mut ta), 0x5eed, "the stored authenticator id is kept");
    assert_eq!(authenticate(&mut ta, 1, 4), AuthOutcome::LockedOut, "the 4 false trials stored carry over");
    let names: Vec<String> =
        fs::read_dir(fx.group()).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    assert!(!names.contains(&"group.meta".to_string()) && !names.contains(&"lockout.state".to_string()), "{names:?}");
}

#[test]
fn a_removal_that_cannot_be_stored_removes_nothing_and_says_so() {
    let fx = Fixture::new("hostile-remove-fails");
    let mut ta = fx.trustlet(fx.settings());
    let a = enroll(&mut ta, &fx.auth_key()[..], 1, 5);
    // The key directory's anchors cannot be written (a file where the directory goes).
    let anchors = fx.root.join("keys/anchors");
    fs::remove_dir_all(&anchors).unwrap();
    fs::write(&anchors, b"in the way").unwrap();
    assert!(matches!(ta.dispatch(Request::Remove { fid: 0 }), Response::Error(TaError::Internal(_))));
    assert_eq!(fingers(&mut ta), vec![a], "nothing was removed");
    assert!(matches!(authenticate(&mut ta, 1, 1), AuthOutcome::Match { .. }), "and the finger still matches");
}

/// The forms in which `bytes` could reach a log line: hex either case, and Rust's `{:?}` and `{:x?}`
/// of a slice.
fn printed_forms(bytes: &[u8]) -> Vec<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let debug = format!("{:?}", &bytes[..8]);
    let debug_hex = format!("{:02x?}", &bytes[..8]);
    vec![
        hex[..16].to_string(),
        hex[..16].to_uppercase(),
        debug.trim_end_matches(']').into(),
        debug_hex.trim_end_matches(']').into(),
    ]
}

#[test]
fn no_log_line_at_any_level_carries_a_key_a_token_hmac_an_image_or_features() {
    capture();
    // A test that opens a device through the C ABI meanwhile may lower the level again: this check
    // then sees fewer lines, never a false failure.
    log::set_max_level(log::LevelFilter::Trace);
    let fx = Fixture::new("secrets");
    let mut ta = fx.trustlet(fx.settings());
    let auth_key = fx.auth_key();
    let fid = enroll(&mut ta, &auth_key[..], 1, 55);
    let AuthOutcome::Match { hat, .. } = authenticate(&mut ta, 9, 1) else { panic!("finger 1 must match") };
    assert!(matches!(authenticate(&mut ta, 10, 2), AuthOutcome::NoMatch));
    ta.dispatch(Request::Remove { fid });
    let device_key = fs::read(fx.root.join("keys/device.key")).unwrap();
    let secrets =
        [("auth-token key", auth_key.to_vec()), ("device key", device_key), ("token HMAC", hat[37..].to_vec())];
    let all = crate::test_log::lines(Level::Trace, &[]);
    assert!(all.iter().any(|l| l.contains("enrolled finger")), "the session logged at all");
    for line in &all {
        for (what, bytes) in &secrets {
            for form in printed_forms(bytes) {
                assert!(!line.contains(&form), "a log line carries the {what}: {line}");
            }
        }
        // An image, template or feature list printed whole would be thousands of characters.
        assert!(line.len() < 600, "a log line of {} characters (a dump?): {:.200}", line.len(), line);
    }
}
