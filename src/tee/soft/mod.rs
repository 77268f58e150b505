//! The software trustlet: what a vendor TA does, in-process, for devices without a TEE.
//!
//! It owns the challenge, the keys, the enrollment and authentication sessions, lockout and the
//! encrypted template store; the HAL reaches it only through the wire protocol's bytes. Images and
//! features come in, and only finger ids, acquired codes and signed tokens go out.

mod capture;
pub mod keys;
mod learning;
mod lockout;
pub mod store;
mod token;

use crate::auth_token::HAT_LEN;
use crate::codes::{Acquired, VendorAcquired, VendorError};
use crate::config::Config;
use crate::image::GrayImage;
use crate::matcher::{self, Features, Template};
use crate::tee::ByteTrustlet;
use crate::tee::Interrupt;
use crate::tee::wire::{AuthOutcome, EnrollStep, Request, Response, TaError};
use capture::CaptureChecks;
use keys::Key;
use learning::Learning;
use lockout::LockoutPolicy;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use store::{Anchor, CommitError, GroupState, GroupStore, LockoutState, Manifest};
use token::{Tokens, random_nonzero_u64, random_u64};

/// The settings the trustlet takes from the configuration.
#[derive(Debug, Clone)]
pub struct SoftSettings {
    pub device_key_file: PathBuf,
    pub auth_key_file: PathBuf,
    pub create_auth_key: bool,
    pub insecure_zero_hmac: bool,
    pub token_max_age_ms: u64,
    pub max_fingers: u32,
    pub enroll_samples: u32,
    pub lockout_trials: u32,
    pub lockout_ms: u64,
    pub threshold: f32,
    /// Contact shorter than this (when the sensor measures it) is TOO_FAST.
    pub min_contact_ms: u32,
    /// Features with a less clear ridge flow are INSUFFICIENT.
    pub min_clarity: f32,
    /// Template update: the score a match needs, and the views a template may grow to.
    pub update_score: f32,
    pub update_max_views: u32,
}

impl SoftSettings {
    pub fn from_config(cfg: &Config) -> SoftSettings {
        SoftSettings {
            device_key_file: cfg.key_dir().join("device.key"),
            auth_key_file: cfg.auth_key_file(),
            // Only the default key is created on first use; a configured one must exist.
            create_auth_key: cfg.trustlet.auth_key_file.is_none(),
            insecure_zero_hmac: cfg.trustlet.insecure_zero_hmac,
            token_max_age_ms: cfg.trustlet.token_max_age_sec.saturating_mul(1000),
            max_fingers: cfg.trustlet.max_fingers,
            enroll_samples: cfg.enroll.samples,
            lockout_trials: cfg.lockout.max_false_trials,
            lockout_ms: cfg.lockout.duration_ms,
            threshold: cfg.matcher.threshold,
            min_contact_ms: cfg.sensor.min_contact_ms,
            min_clarity: cfg.quality.min_clarity,
            update_score: cfg.matcher.update_score,
            update_max_views: cfg.matcher.update_max_views,
        }
    }
}

struct Finger {
    fid: u32,
    user_id: u64,
    template: Template,
}

struct ActiveGroup {
    store: GroupStore,
    /// The fingers of the manifest whose templates load.
    fingers: Vec<Finger>,
    /// The manifest as last committed (its lockout is the one stored then).
    manifest: Manifest,
}

impl ActiveGroup {
    /// Where the trustlet keeps this group's lockout in memory.
    fn key(&self) -> (PathBuf, u32) {
        (self.store.dir().to_path_buf(), self.store.gid())
    }
}

enum Session {
    Idle,
    Enroll { fid: u32, user_id: u64, views: Vec<Features> },
    Authenticate { operation_id: u64 },
}

pub struct SoftTrustlet {
    device_key: Key,
    /// Where group manifests are anchored: the key directory's `anchors`.
    anchor_dir: PathBuf,
    tokens: Tokens,
    captures: CaptureChecks,
    lockout: LockoutPolicy,
    learning: Learning,
    max_fingers: u32,
    enroll_samples: u32,
    threshold: f32,
    challenge: Option<u64>,
    group: Option<ActiveGroup>,
    session: Session,
    /// The authoritative lockout state of every group seen in this process: what a group's files
    /// say can only make it stricter, never clear it.
    lockouts: HashMap<(PathBuf, u32), LockoutState>,
    interrupt: Interrupt,
}

impl SoftTrustlet {
    /// Loads (or on first use creates) the device key and the auth-token key.
    pub fn new(settings: SoftSettings) -> Result<SoftTrustlet, String> {
        let device_key = keys::load_or_create(&settings.device_key_file, true)?;
        let key_dir = settings.device_key_file.parent().ok_or("the device key file has no directory")?;
        let tokens = Tokens::load(&settings)?;
        Ok(SoftTrustlet {
            device_key,
            anchor_dir: key_dir.join("anchors"),
            tokens,
            captures: CaptureChecks::new(settings.min_contact_ms, settings.min_clarity),
            lockout: LockoutPolicy { trials: settings.lockout_trials, duration_ms: settings.lockout_ms },
            learning: Learning { min_score: settings.update_score, max_views: settings.update_max_views },
            max_fingers: settings.max_fingers,
            enroll_samples: settings.enroll_samples,
            threshold: settings.threshold,
            challenge: None,
            group: None,
            session: Session::Idle,
            lockouts: HashMap::new(),
            interrupt: Interrupt::default(),
        })
    }

    /// The handle a caller raises to stop the touch being processed (see [`Interrupt`]).
    pub fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }

    /// True (and the request consumed) when a stop was requested: the touch then ends uncounted.
    fn interrupted(&self) -> bool {
        let requested = self.interrupt.requested();
        if requested {
            self.interrupt.clear();
            log::info!("touch interrupted: a cancel or a new operation came in");
        }
        requested
    }

    pub fn dispatch(&mut self, req: Request) -> Response {
        let result = match req {
            Request::SetActiveGroup { gid, path } => self.set_active_group(gid, &path),
            Request::PreEnroll => random_nonzero_u64().map(|c| {
                self.challenge = Some(c);
                Response::Challenge(c)
            }),
            Request::PostEnroll => {
                self.challenge = None;
                Ok(Response::Ok)
            }
            Request::GetAuthenticatorId => {
                Ok(Response::AuthenticatorId(self.group.as_ref().map_or(0, |g| g.manifest.authenticator_id)))
            }
            Request::EnrollBegin { hat } => self.enroll_begin(&hat),
            Request::EnrollCapture { image, contact_ms } => self.enroll_capture(image, contact_ms),
            Request::AuthenticateBegin { operation_id } => self.authenticate_begin(operation_id),
            Request::AuthenticateCapture { image, contact_ms } => self.authenticate_capture(image, contact_ms),
            // The configuration refuses this trustlet with a sensor that hands over no image.
            Request::EnrollTouch | Request::AuthenticateTouch => {
                Err(TaError::Internal("the software trustlet cannot capture from the sensor".into()))
            }
            Request::EndSession => {
                self.session = Session::Idle;
                Ok(Response::Ok)
            }
            Request::Enumerate => self.enumerate(),
            Request::Remove { fid } => self.remove(fid),
        };
        result.unwrap_or_else(Response::Error)
    }

    /// Reads the group's templates again, so that the list is exactly what is on disk and loads.
    fn enumerate(&mut self) -> Result<Response, TaError> {
        let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
        group.fingers = load_fingers(&group.store, &group.manifest.fingers);
        Ok(Response::Fingers(group.fingers.iter().map(|f| f.fid).collect()))
    }

    fn group(&self) -> Result<&ActiveGroup, TaError> {
        self.group.as_ref().ok_or(TaError::NoActiveGroup)
    }

    fn set_active_group(&mut self, gid: u32, path: &str) -> Result<Response, TaError> {
        let dir = Path::new(path);
        if !dir.is_absolute() {
            return Err(TaError::BadRequest("group path must be absolute".into()));
        }
        self.session = Session::Idle;
        self.group = None;
        let store = GroupStore::open(dir, gid, &self.device_key).anchored_in(&self.anchor_dir);
        let remembered = self.lockouts.get(&(dir.to_path_buf(), gid)).copied();
        let manifest = match store.read_state() {
            GroupState::Current(m) => m,
            GroupState::New => self.adopt(&store)?,
            GroupState::Stale { why, anchor } => self.recover(&store, &why, anchor, remembered)?,
            GroupState::Unusable(why) => {
                log::error!(
                    "{} group {gid} at {path}: {why}; refused, nothing rewritten",
                    crate::diagnose::ids::GROUP_REFUSED.id
                );
                return Err(TaError::Internal(why));
            }
        };
        for (fid, name) in store.template_files() {
            if !manifest.fingers.contains(&fid) {
                log::warn!(
                    "{}: finger {fid} is not in the group's manifest; not loaded",
                    store.path_of(&name).display()
                );
            }
        }
        let fingers = load_fingers(&store, &manifest.fingers);
        let stored = self.lockout.in_this_boot(manifest.lockout);
        let lockout = remembered.map_or(stored, |r| lockout::stricter(r, stored));
        self.lockouts.insert((dir.to_path_buf(), gid), lockout);
        log::info!("active group {gid} at {path}: {} finger(s)", fingers.len());
        self.group = Some(ActiveGroup { store, fingers, manifest });
        Ok(Response::Ok)
    }

    /// The first manifest of a group that has none: the templates and the files an older version
    /// left are adopted into it, and it is anchored at once (an empty group too), so that files
    /// copied back later are never adopted.
    fn adopt(&self, store: &GroupStore) -> Result<Manifest, TaError> {
        let found: Vec<u32> = store.load_all().iter().map(|f| f.fid).collect();
        let (legacy_id, legacy_lockout) = store.legacy_state();
        let m = Manifest {
            generation: 1,
            authenticator_id: match legacy_id {
                Some(id) => id,
                None => random_nonzero_u64()?,
            },
            lockout: legacy_lockout.unwrap_or_else(|| self.lockout.clear()),
            fingers: found,
        };
        match store.commit(&m) {
            Ok(()) => {}
            Err(e) if e.anchored => log::error!("{}: the first manifest is not stored: {e}", store.dir().display()),
            Err(e) => return Err(TaError::Internal(e.why)),
        }
        store.remove_legacy_files(legacy_id.is_some(), legacy_lockout.is_some());
        if !m.fingers.is_empty() || legacy_id.is_some() {
            log::info!(
                "{}: {} finger(s) adopted into the group's first manifest",
                store.dir().display(),
                m.fingers.len()
            );
        }
        Ok(m)
    }

    /// A new manifest for a group whose manifest cannot be trusted: only the fingers its anchor
    /// lists, a new authenticator id, and locked when a false trial was pending.
    fn recover(
        &self,
        store: &GroupStore,
        why: &str,
        anchor: Anchor,
        remembered: Option<LockoutState>,
    ) -> Result<Manifest, TaError> {
        let pending = anchor.trials_pending || remembered.is_some_and(|r| self.lockout.count_known(&r));
        let m = Manifest {
            generation: anchor.generation.saturating_add(1),
            authenticator_id: random_nonzero_u64()?,
            lockout: if pending { self.lockout.locked_now() } else { self.lockout.clear() },
            fingers: anchor.fingers,
        };
        log::error!(
            "group {} at {}: {why}; failing closed: only the {} finger(s) the key directory lists, a new authenticator \
             id{}",
            store.gid(),
            store.dir().display(),
            m.fingers.len(),
            if pending { format!(", locked out for {} ms", self.lockout.duration_ms) } else { String::new() }
        );
        if let Err(e) = store.commit(&m) {
            log::error!(
                "group {} at {}: the recovered manifest is not stored: {e}",
                store.gid(),
                store.dir().display()
            );
        }
        Ok(m)
    }

    /// Commits the active group's manifest after `change`, with the lockout as it stands in memory.
    /// When even the anchor could not be written, nothing changes in memory either; when only the
    /// manifest could not, the change stands (the key directory holds it) and the error says so.
    fn commit(&mut self, change: impl FnOnce(&mut Manifest)) -> Result<(), CommitError> {
        let Some(group) = self.group.as_mut() else {
            return Err(CommitError { anchored: false, why: "no active group".into() });
        };
        let mut m = group.manifest.clone();
        change(&mut m);
        m.generation = m.generation.saturating_add(1);
        if let Some(l) = self.lockouts.get(&group.key()) {
            m.lockout = *l;
        }
        match group.store.commit(&m) {
            Ok(()) => {
                group.manifest = m;
                Ok(())
            }
            Err(e) if e.anchored => {
                log::error!(
                    "group {} at {}: the manifest is not written ({e}); the key directory holds the change",
                    group.store.gid(),
                    group.store.dir().display()
                );
                group.manifest = m;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// The group's lockout now. Memory is authoritative; the manifest can only make it stricter.
    /// A manifest that is missing, does not open or was rolled back while memory knows of a false
    /// trial or a lockout means locked.
    fn lockout_now(&mut self) -> Result<LockoutState, TaError> {
        let group = self.group.as_ref().ok_or(TaError::NoActiveGroup)?;
        let key = group.key();
        let mut state = self.lockouts.get(&key).copied().unwrap_or_else(|| self.lockout.clear());
        match group.store.read_state() {
            GroupState::Current(m) => state = lockout::stricter(state, self.lockout.in_this_boot(m.lockout)),
            GroupState::New => {}
            GroupState::Stale { why, .. } | GroupState::Unusable(why) => {
                if self.lockout.count_known(&state) {
                    log::error!(
                        "group {} at {}: {why}; failing closed: locked out for {} ms",
                        group.store.gid(),
                        group.store.dir().display(),
                        self.lockout.duration_ms
                    );
                    state = lockout::stricter(state, self.lockout.locked_now());
                }
            }
        }
        self.lockouts.insert(key, state);
        Ok(state)
    }

    fn enroll_begin(&mut self, hat: &[u8; HAT_LEN]) -> Result<Response, TaError> {
        self.session = Session::Idle;
        let token = self.tokens.check_enroll(hat, self.challenge)?;
        let group = self.group()?;
        if group.manifest.fingers.len() >= self.max_fingers as usize {
            return Err(TaError::NoSpace);
        }
        let fid = loop {
            let candidate = (random_u64()? & 0x7fff_ffff) as u32;
            if candidate != 0 && !group.manifest.fingers.contains(&candidate) {
                break candidate;
            }
        };
        self.session = Session::Enroll { fid, user_id: token.user_id, views: Vec::new() };
        Ok(Response::Ok)
    }

    fn enroll_capture(&mut self, image: GrayImage, contact_ms: u32) -> Result<Response, TaError> {
        let Session::Enroll { .. } = self.session else { return Err(TaError::NoSession) };
        let checked = self.checked_capture(&image, contact_ms);
        let samples = self.enroll_samples;
        let Session::Enroll { fid, user_id, views } = &mut self.session else { return Err(TaError::NoSession) };
        let (fid, user_id) = (*fid, *user_id);
        let step = |acquired, counted, remaining| EnrollStep { acquired, counted, remaining, fid, vendor_error: None };
        let features = match checked {
            Ok(features) => features,
            Err(code) => return Ok(Response::Enroll(step(code, false, samples - views.len() as u32))),
        };
        if self.interrupt.requested() {
            // Stopped before the duplicate check and the new-area check (both score the touch).
            self.interrupt.clear();
            return Ok(Response::Enroll(step(Acquired::Insufficient, false, samples - views.len() as u32)));
        }
        // The same finger twice would give a user two ids for one finger: refuse it.
        let threshold = self.threshold;
        if let Some(dup) = self
            .group
            .as_ref()
            .and_then(|g| g.fingers.iter().find(|f| matcher::score(&features, &f.template) >= threshold))
        {
            log::info!("enrollment refused: the touch matches finger {} already enrolled", dup.fid);
            let step = EnrollStep {
                vendor_error: Some(VendorError::FingerAlreadyEnrolled),
                ..step(Acquired::Good, false, samples - views.len() as u32)
            };
            self.session = Session::Idle;
            return Ok(Response::Enroll(step));
        }
        if !matcher::adds_area(&features, views) {
            log::info!("enroll touch lies where an earlier one lay: not counted");
            return Ok(Response::Enroll(step(
                Acquired::Vendor(VendorAcquired::MoveFinger),
                false,
                samples - views.len() as u32,
            )));
        }
        views.push(features);
        let remaining = samples - views.len() as u32;
        if remaining > 0 {
            return Ok(Response::Enroll(step(Acquired::Good, true, remaining)));
        }
        let Session::Enroll { views, .. } = std::mem::replace(&mut self.session, Session::Idle) else {
            unreachable!("session checked above")
        };
        let template = Template::from_views(views);
        let new_id = random_nonzero_u64()?;
        let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
        // The template first, then the manifest that makes it live (and, with a new finger, a new
        // authenticator id: keys bound to the old set are invalidated).
        group.store.write_template(fid, user_id, &template.to_bytes()).map_err(TaError::Internal)?;
        match self.commit(|m| {
            m.fingers.push(fid);
            m.authenticator_id = new_id;
        }) {
            Err(e) if !e.anchored => {
                if let Some(g) = &self.group {
                    let _ = g.store.remove_template(fid);
                }
                return Err(TaError::Internal(e.why));
            }
            _ => {}
        }
        let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
        group.fingers.push(Finger { fid, user_id, template });
        log::info!("enrolled finger {fid} in group {}", group.store.gid());
        Ok(Response::Enroll(step(Acquired::Good, true, 0)))
    }

    /// The capture checks of [`CaptureChecks`], after the sensor limits and with the interrupt
    /// looked at between stages.
    fn checked_capture(&mut self, image: &GrayImage, contact_ms: u32) -> Result<Features, Acquired> {
        if let Err(why) = crate::image::check_capture(image) {
            log::warn!("capture refused: {why}");
            return Err(Acquired::Insufficient);
        }
        if self.interrupted() {
            return Err(Acquired::Insufficient);
        }
        self.captures.check(image, contact_ms, &self.interrupt).inspect_err(|_| {
            self.interrupt.clear();
        })
    }

    fn authenticate_begin(&mut self, operation_id: u64) -> Result<Response, TaError> {
        self.session = Session::Idle;
        let remaining_ms = lockout::remaining_ms(&self.lockout_now()?);
        if remaining_ms > 0 {
            return Err(TaError::Lockout { remaining_ms });
        }
        self.session = Session::Authenticate { operation_id };
        Ok(Response::Ok)
    }

    fn authenticate_capture(&mut self, image: GrayImage, contact_ms: u32) -> Result<Response, TaError> {
        let Session::Authenticate { operation_id } = self.session else { return Err(TaError::NoSession) };
        // The lockout as it stands before this touch; the touch's own trial is counted into it.
        let mut state = self.lockout_now()?;
        let remaining_ms = lockout::remaining_ms(&state);
        if remaining_ms > 0 {
            return Err(TaError::Lockout { remaining_ms });
        }
        let not_counted = |acquired| Ok(Response::Auth { acquired, outcome: AuthOutcome::NotCounted });
        let features = match self.checked_capture(&image, contact_ms) {
            Ok(features) => features,
            Err(acquired) => return not_counted(acquired),
        };
        let touch = matcher::Touch::new(&image, features);
        let group = self.group()?;
        // A finger the first look matched comes before one a second look lifted: the second look
        // is there for touches no finger matched at once.
        let rank = |s: &matcher::Scored| (s.first >= self.threshold, s.score);
        let mut best: Option<(matcher::Scored, &Finger)> = None;
        for f in &group.fingers {
            if self.interrupted() {
                return not_counted(Acquired::Insufficient);
            }
            let scored = touch.score_until(&f.template, self.threshold, &|| self.interrupt.requested());
            if best.as_ref().is_none_or(|b| rank(&scored) > rank(&b.0)) {
                best = Some((scored, f));
            }
        }
        if self.interrupted() {
            // A second look stopped part way: its score may be short of what it would have been.
            return not_counted(Acquired::Insufficient);
        }
        // Only a first look that matched on its own teaches the template (a second look's
        // features lie on a rescaled copy of the capture).
        let learn = match &best {
            Some((scored, finger))
                if scored.first >= self.threshold
                    && self.learning.worth_it(touch.features(), &scored.matches, &finger.template) =>
            {
                Some(finger.fid)
            }
            _ => None,
        };
        let key = group.key();
        let gid = group.store.gid();
        let outcome = match best.map(|(scored, finger)| (scored.score, finger)) {
            Some((score, finger)) if score >= self.threshold => {
                log::debug!("match: finger {} score {score:.3}", finger.fid);
                let hat = self.tokens.mint_match(operation_id, finger.user_id, group.manifest.authenticator_id);
                let fid = finger.fid;
                if state.false_trials != 0 {
                    state.false_trials = 0;
                    self.lockouts.insert(key, state);
                    if let Err(e) = self.commit(|_| {}) {
                        // Stored, the higher count only makes a later lockout come sooner.
                        log::error!("group {gid}: the cleared false-trial count is not stored: {e}");
                    }
                }
                AuthOutcome::Match { fid, hat }
            }
            other => {
                log::debug!("no match (best score {:.3})", other.map_or(0.0, |b| b.0));
                let mut locked = self.lockout.count_false_trial(&mut state, gid);
                self.lockouts.insert(key.clone(), state);
                if let Err(e) = self.commit(|_| {}) {
                    log::error!(
                        "group {gid} at {}: the false trial is not stored ({e}); failing closed: locked out for {} ms",
                        key.0.display(),
                        self.lockout.duration_ms
                    );
                    self.lockouts.insert(key, self.lockout.locked_now());
                    locked = true;
                }
                if locked { AuthOutcome::LockedOut } else { AuthOutcome::NoMatch }
            }
        };
        if let (Some(fid), Some(group)) = (learn, self.group.as_mut()) {
            // The match stands whether or not the update can be stored.
            if let Err(e) = Learning::learn(group, fid, touch.into_features()) {
                log::error!("finger {fid}: template update not stored: {e}");
            }
        }
        Ok(Response::Auth { acquired: Acquired::Good, outcome })
    }

    /// Removes `fid`, or every finger with 0. Each finger leaves the manifest in a commit of its
    /// own, with a new authenticator id, before its file is deleted: a failure stops there and
    /// reports what was removed. Remove-all then deletes leftover template files that open as this
    /// group's and leaves (and logs) every other file.
    fn remove(&mut self, fid: u32) -> Result<Response, TaError> {
        self.session = Session::Idle;
        let group = self.group.as_ref().ok_or(TaError::NoActiveGroup)?;
        let targets: Vec<u32> = group.manifest.fingers.iter().copied().filter(|f| fid == 0 || *f == fid).collect();
        let mut removed = Vec::new();
        let mut failure = None;
        for t in targets {
            let new_id = random_nonzero_u64()?;
            if let Err(e) = self.commit(|m| {
                m.fingers.retain(|f| *f != t);
                m.authenticator_id = new_id;
            }) && !e.anchored
            {
                log::error!("finger {t} not removed: {e}");
                failure = Some(e.why);
                break;
            }
            let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
            group.fingers.retain(|f| f.fid != t);
            removed.push(t);
            if let Err(e) = group.store.remove_template(t) {
                log::warn!("finger {t} is out of the manifest, but its file stays: {e}");
            }
        }
        if fid == 0 && failure.is_none() {
            self.sweep();
        }
        match failure {
            Some(e) if removed.is_empty() => Err(TaError::Internal(e)),
            failure => Ok(Response::Removed { fids: removed, complete: failure.is_none() }),
        }
    }

    /// After remove-all: deletes template files that open as this group's (left by an earlier
    /// failure) and leaves every other one, with a log line.
    fn sweep(&self) {
        let Some(group) = &self.group else { return };
        for (fid, name) in group.store.template_files() {
            let path = group.store.path_of(&name);
            match group.store.load_finger(fid) {
                Ok(_) => {
                    if let Err(e) = group.store.remove_template(fid) {
                        log::warn!("{}: {e}", path.display());
                    }
                }
                Err(e) => log::warn!("{}: not this group's ({e}); left in place", path.display()),
            }
        }
    }
}

/// The fingers of `fids` whose files open and whose templates decode; the rest are logged.
fn load_fingers(store: &GroupStore, fids: &[u32]) -> Vec<Finger> {
    let mut fingers = Vec::new();
    for fid in fids {
        let stored = match store.load_finger(*fid) {
            Ok(s) => s,
            Err(e) => {
                log::warn!("skipping finger {fid} of {}: {e}", store.dir().display());
                continue;
            }
        };
        match Template::from_bytes(&stored.template) {
            Ok(template) => fingers.push(Finger { fid: stored.fid, user_id: stored.user_id, template }),
            Err(e) => log::warn!("skipping finger {fid} of {}: template does not decode: {e}", store.dir().display()),
        }
    }
    fingers
}

impl ByteTrustlet for SoftTrustlet {
    fn handle(&mut self, request: &[u8]) -> Vec<u8> {
        match Request::decode(request) {
            Ok(req) => self.dispatch(req).encode(),
            Err(e) => Response::Error(TaError::BadRequest(e.to_string())).encode(),
        }
    }
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
