//! The software trustlet: what a vendor TA does, in-process, for devices without a TEE.
//!
//! It owns the challenge, the keys, the enrollment and authentication sessions, lockout and the
//! encrypted template store; the HAL reaches it only through the wire protocol's bytes. Images and
//! features come in, and only finger ids, acquired codes and signed tokens go out.

pub mod keys;
pub mod store;

use crate::auth_token::{self, AuthToken, HAT_LEN, HW_AUTH_FINGERPRINT, HW_AUTH_PASSWORD, HW_AUTH_TOKEN_VERSION};
use crate::config::Config;
use crate::image::GrayImage;
use crate::matcher::{self, Features, Quality, Template};
use crate::tee::wire::{AuthOutcome, EnrollStep, Request, Response, TaError};
use crate::tee::ByteTrustlet;
use keys::Key;
use std::path::{Path, PathBuf};
use store::{GroupStore, LockoutState};

/// `fingerprint_acquired_info_t` values the trustlet reports.
pub mod acquired {
    pub const GOOD: i32 = 0;
    pub const PARTIAL: i32 = 1;
    pub const INSUFFICIENT: i32 = 2;
    pub const IMAGER_DIRTY: i32 = 3;
    pub const TOO_FAST: i32 = 5;
}

/// Earlier captures a static pattern must repeat in to make a capture IMAGER_DIRTY.
const STATIC_HISTORY: usize = 2;

/// Vendor codes (`FINGERPRINT_ERROR_VENDOR_BASE` + n) the trustlet reports.
pub mod vendor {
    /// The finger being enrolled is already enrolled in this group; the enrollment ends.
    pub const FINGER_ALREADY_ENROLLED: i32 = 1001;
    /// Acquired (`FINGERPRINT_ACQUIRED_VENDOR_BASE` + 1): the enrollment touch lies where an earlier
    /// one lay and adds almost nothing; "move your finger a little". It does not count.
    pub const MOVE_FINGER: i32 = 1001;
}

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
    gid: u32,
    store: GroupStore,
    fingers: Vec<Finger>,
    authenticator_id: u64,
}

enum Session {
    Idle,
    Enroll { fid: u32, user_id: u64, views: Vec<Features> },
    Authenticate { operation_id: u64 },
}

pub struct SoftTrustlet {
    settings: SoftSettings,
    device_key: Key,
    auth_key: Key,
    challenge: Option<u64>,
    group: Option<ActiveGroup>,
    session: Session,
    /// The last captures, newest last, to see a mark on the sensor that stays while the finger
    /// moves.
    recent_captures: Vec<GrayImage>,
}

fn random_u64() -> Result<u64, TaError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| TaError::Internal(format!("no OS randomness: {e}")))?;
    Ok(u64::from_le_bytes(b))
}

fn random_nonzero_u64() -> Result<u64, TaError> {
    loop {
        let v = random_u64()?;
        if v != 0 {
            return Ok(v);
        }
    }
}

/// This boot's identity, so a lockout deadline in `CLOCK_BOOTTIME` is never read in another boot.
fn boot_id() -> [u8; 16] {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let hex: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    let mut id = [0u8; 16];
    for (i, pair) in hex.chunks(2).take(16).enumerate() {
        let s = std::str::from_utf8(pair).unwrap_or("0");
        id[i] = u8::from_str_radix(s, 16).unwrap_or(0);
    }
    id
}

impl SoftTrustlet {
    /// Loads (or on first use creates) the device key and the auth-token key.
    pub fn new(settings: SoftSettings) -> Result<SoftTrustlet, String> {
        let device_key = keys::load_or_create(&settings.device_key_file, true)?;
        let auth_key = if settings.insecure_zero_hmac {
            log::warn!("INSECURE: trustlet.insecure_zero_hmac is set; auth tokens carry no HMAC and any zero-HMAC token authorises enrollment");
            Key::new([0u8; keys::KEY_LEN])
        } else {
            keys::load_or_create(&settings.auth_key_file, settings.create_auth_key)?
        };
        Ok(SoftTrustlet { settings, device_key, auth_key, challenge: None, group: None, session: Session::Idle, recent_captures: Vec::new() })
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
            Request::GetAuthenticatorId => Ok(Response::AuthenticatorId(self.group.as_ref().map_or(0, |g| g.authenticator_id))),
            Request::EnrollBegin { hat } => self.enroll_begin(&hat),
            Request::EnrollCapture { image, contact_ms } => self.enroll_capture(image, contact_ms),
            Request::AuthenticateBegin { operation_id } => self.authenticate_begin(operation_id),
            Request::AuthenticateCapture { image, contact_ms } => self.authenticate_capture(image, contact_ms),
            Request::EndSession => {
                self.session = Session::Idle;
                Ok(Response::Ok)
            }
            Request::Enumerate => self.enumerate(),
            Request::Remove { fid } => self.remove(fid),
        };
        result.unwrap_or_else(Response::Error)
    }

    /// Reads the group again, so that the list is exactly what is on disk and loads.
    fn enumerate(&mut self) -> Result<Response, TaError> {
        let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
        group.fingers = load_fingers(&group.store);
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
        let store = GroupStore::open(dir, gid, &self.device_key);
        let fingers = load_fingers(&store);
        let authenticator_id = match store.load_authenticator_id() {
            Some(id) => id,
            // An empty group keeps a fresh id in memory only: nothing is bound to it, and a group
            // directory with no finger holds no file of ours.
            None if fingers.is_empty() => random_nonzero_u64()?,
            None => {
                let id = random_nonzero_u64()?;
                store.store_authenticator_id(id).map_err(TaError::Internal)?;
                id
            }
        };
        log::info!("active group {gid} at {path}: {} finger(s)", fingers.len());
        self.session = Session::Idle;
        self.group = Some(ActiveGroup { gid, store, fingers, authenticator_id });
        Ok(Response::Ok)
    }

    fn enroll_begin(&mut self, hat: &[u8; HAT_LEN]) -> Result<Response, TaError> {
        self.session = Session::Idle;
        let token = AuthToken::from_bytes(hat);
        let refuse = |why: String| {
            log::warn!("enroll token refused: {why}");
            Err(TaError::Unauthorized(why))
        };
        if token.version != HW_AUTH_TOKEN_VERSION {
            return refuse(format!("version {} is not {HW_AUTH_TOKEN_VERSION}", token.version));
        }
        match self.challenge {
            None => return refuse("no challenge is outstanding (pre_enroll first)".into()),
            Some(c) if c != token.challenge => return refuse("challenge does not match the outstanding one".into()),
            Some(_) => {}
        }
        if token.authenticator_type != HW_AUTH_PASSWORD {
            return refuse(format!("authenticator type {:#x} is not PASSWORD", token.authenticator_type));
        }
        let hmac_ok = if self.settings.insecure_zero_hmac { token.hmac == [0; 32] } else { token.verify(&self.auth_key[..]) };
        if !hmac_ok {
            return refuse("HMAC does not verify with the auth-token key".into());
        }
        let now = auth_token::boottime_ms();
        if token.timestamp > now {
            return refuse("timestamp is in the future of CLOCK_BOOTTIME".into());
        }
        if now - token.timestamp > self.settings.token_max_age_ms {
            return refuse(format!("token is {} ms old; the limit is {} ms", now - token.timestamp, self.settings.token_max_age_ms));
        }
        let group = self.group()?;
        if group.fingers.len() >= self.settings.max_fingers as usize {
            return Err(TaError::NoSpace);
        }
        let fid = loop {
            let candidate = (random_u64()? & 0x7fff_ffff) as u32;
            if candidate != 0 && group.fingers.iter().all(|f| f.fid != candidate) {
                break candidate;
            }
        };
        self.session = Session::Enroll { fid, user_id: token.user_id, views: Vec::new() };
        Ok(Response::Ok)
    }

    /// The acquired code of a capture: TOO_FAST, the quality verdict, or IMAGER_DIRTY when a
    /// broad pattern of the two previous captures stays in place. Remembers the capture.
    fn capture_code(&mut self, image: &GrayImage, contact_ms: u32) -> i32 {
        let min = self.settings.min_contact_ms;
        let code = if contact_ms != 0 && contact_ms < min {
            log::info!("touch of {contact_ms} ms, shorter than the {min} ms a capture needs");
            acquired::TOO_FAST
        } else {
            match quality_code(matcher::assess(image)) {
                acquired::GOOD | acquired::PARTIAL
                    if self.recent_captures.len() == STATIC_HISTORY && matcher::repeats_static_pattern(image, &self.recent_captures) =>
                {
                    log::info!("part of the capture repeats the previous ones unmoved: a mark on the sensor");
                    acquired::IMAGER_DIRTY
                }
                code => code,
            }
        };
        if self.recent_captures.len() == STATIC_HISTORY {
            self.recent_captures.remove(0);
        }
        self.recent_captures.push(image.clone());
        code
    }

    /// The features of a GOOD capture, or None when too little of them can be used
    /// (the capture is then INSUFFICIENT).
    fn usable_features(&self, image: &GrayImage) -> Option<Features> {
        match matcher::extract(image) {
            Ok(f) if f.clarity() >= self.settings.min_clarity => Some(f),
            Ok(f) => {
                log::info!("capture not usable: ridge flow clarity {:.2} below {:.2}", f.clarity(), self.settings.min_clarity);
                None
            }
            Err(e) => {
                log::info!("capture not usable: {e}");
                None
            }
        }
    }

    fn enroll_capture(&mut self, image: GrayImage, contact_ms: u32) -> Result<Response, TaError> {
        let Session::Enroll { .. } = self.session else { return Err(TaError::NoSession) };
        let code = self.capture_code(&image, contact_ms);
        let features = if code == acquired::GOOD { self.usable_features(&image) } else { None };
        let samples = self.settings.enroll_samples;
        let Session::Enroll { fid, user_id, views } = &mut self.session else { return Err(TaError::NoSession) };
        let (fid, user_id) = (*fid, *user_id);
        let step = |acquired, counted, remaining| EnrollStep { acquired, counted, remaining, fid, vendor_error: None };
        let Some(features) = features else {
            let code = if code == acquired::GOOD { acquired::INSUFFICIENT } else { code };
            return Ok(Response::Enroll(step(code, false, samples - views.len() as u32)));
        };
        // The same finger twice would give a user two ids for one finger: refuse it.
        let threshold = self.settings.threshold;
        if let Some(dup) = self.group.as_ref().and_then(|g| g.fingers.iter().find(|f| matcher::score(&features, &f.template) >= threshold)) {
            log::info!("enrollment refused: the touch matches finger {} already enrolled", dup.fid);
            let step = EnrollStep { vendor_error: Some(vendor::FINGER_ALREADY_ENROLLED), ..step(acquired::GOOD, false, samples - views.len() as u32) };
            self.session = Session::Idle;
            return Ok(Response::Enroll(step));
        }
        if !matcher::adds_area(&features, views) {
            log::info!("enroll touch lies where an earlier one lay: not counted");
            return Ok(Response::Enroll(step(vendor::MOVE_FINGER, false, samples - views.len() as u32)));
        }
        views.push(features);
        let remaining = samples - views.len() as u32;
        if remaining > 0 {
            return Ok(Response::Enroll(step(acquired::GOOD, true, remaining)));
        }
        let Session::Enroll { views, .. } = std::mem::replace(&mut self.session, Session::Idle) else {
            unreachable!("session checked above")
        };
        let template = Template::from_views(views);
        let new_id = random_nonzero_u64()?;
        let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
        group.store.write_template(fid, user_id, &template.to_bytes()).map_err(TaError::Internal)?;
        // A new finger invalidates keys bound to the old set.
        group.store.store_authenticator_id(new_id).map_err(TaError::Internal)?;
        group.authenticator_id = new_id;
        group.fingers.push(Finger { fid, user_id, template });
        log::info!("enrolled finger {fid} in group {}", group.gid);
        Ok(Response::Enroll(step(acquired::GOOD, true, 0)))
    }

    fn lockout_state(&self, group: &ActiveGroup) -> LockoutState {
        let boot = boot_id();
        match group.store.load_lockout() {
            Some(s) if s.boot_id == boot => s,
            // Written in another boot: CLOCK_BOOTTIME restarted, so a pending lockout restarts in
            // full rather than being shortened or lengthened by an unrelated clock.
            Some(s) if s.locked_until_ms != 0 => LockoutState {
                boot_id: boot,
                false_trials: 0,
                locked_until_ms: auth_token::boottime_ms() + self.settings.lockout_ms,
            },
            _ => LockoutState { boot_id: boot, ..LockoutState::default() },
        }
    }

    fn locked_for_ms(&self, group: &ActiveGroup) -> u64 {
        self.lockout_state(group).locked_until_ms.saturating_sub(auth_token::boottime_ms())
    }

    fn authenticate_begin(&mut self, operation_id: u64) -> Result<Response, TaError> {
        self.session = Session::Idle;
        let group = self.group()?;
        let remaining_ms = self.locked_for_ms(group);
        if remaining_ms > 0 {
            return Err(TaError::Lockout { remaining_ms });
        }
        self.session = Session::Authenticate { operation_id };
        Ok(Response::Ok)
    }

    fn authenticate_capture(&mut self, image: GrayImage, contact_ms: u32) -> Result<Response, TaError> {
        let Session::Authenticate { operation_id } = self.session else { return Err(TaError::NoSession) };
        let remaining_ms = self.locked_for_ms(self.group()?);
        if remaining_ms > 0 {
            return Err(TaError::Lockout { remaining_ms });
        }
        let code = self.capture_code(&image, contact_ms);
        let features = if code == acquired::GOOD { self.usable_features(&image) } else { None };
        let group = self.group()?;
        let Some(features) = features else {
            let acquired = if code == acquired::GOOD { acquired::INSUFFICIENT } else { code };
            return Ok(Response::Auth { acquired, outcome: AuthOutcome::NotCounted });
        };
        let best = group
            .fingers
            .iter()
            .map(|f| {
                let matches = matcher::view_matches(&features, &f.template);
                (matcher::score_of(&matches), f, matches)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let learn = match &best {
            Some((score, finger, matches)) if *score >= self.settings.threshold && self.worth_learning(*score, matches, &finger.template) => Some(finger.fid),
            _ => None,
        };
        let mut state = self.lockout_state(group);
        let outcome = match best {
            Some((score, finger, _)) if score >= self.settings.threshold => {
                log::debug!("match: finger {} score {score:.3}", finger.fid);
                let mut token = AuthToken {
                    version: HW_AUTH_TOKEN_VERSION,
                    challenge: operation_id,
                    user_id: finger.user_id,
                    authenticator_id: group.authenticator_id,
                    authenticator_type: HW_AUTH_FINGERPRINT,
                    timestamp: auth_token::monotonic_ms(),
                    hmac: [0; 32],
                };
                if !self.settings.insecure_zero_hmac {
                    token.sign(&self.auth_key[..]);
                }
                if state.false_trials != 0 {
                    state.false_trials = 0;
                    group.store.store_lockout(&state).map_err(TaError::Internal)?;
                }
                AuthOutcome::Match { fid: finger.fid, hat: token.to_bytes() }
            }
            other => {
                log::debug!("no match (best score {:.3})", other.map_or(0.0, |b| b.0));
                state.false_trials += 1;
                let locked = state.false_trials >= self.settings.lockout_trials;
                if locked {
                    state.false_trials = 0;
                    state.locked_until_ms = auth_token::boottime_ms() + self.settings.lockout_ms;
                    log::warn!("group {}: {} false trials, locked out for {} ms", group.gid, self.settings.lockout_trials, self.settings.lockout_ms);
                }
                group.store.store_lockout(&state).map_err(TaError::Internal)?;
                if locked { AuthOutcome::LockedOut } else { AuthOutcome::NoMatch }
            }
        };
        if let Some(fid) = learn {
            // The match stands whether or not the update can be stored.
            if let Err(e) = self.learn(fid, features) {
                log::error!("finger {fid}: template update not stored: {e}");
            }
        }
        Ok(Response::Auth { acquired: acquired::GOOD, outcome })
    }

    /// Whether a matching capture should join its finger's template: a confident match, room
    /// left, and skin that no view shows yet.
    fn worth_learning(&self, score: f32, matches: &[matcher::ViewMatch], template: &Template) -> bool {
        score >= self.settings.update_score
            && template.view_count() < self.settings.update_max_views as usize
            && !matches.iter().any(matcher::ViewMatch::same_place)
    }

    /// Adds a capture to finger `fid`'s template and stores it. The authenticator id stays: the
    /// set of fingers has not changed.
    fn learn(&mut self, fid: u32, features: Features) -> Result<(), TaError> {
        let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
        let Some(finger) = group.fingers.iter_mut().find(|f| f.fid == fid) else { return Ok(()) };
        if finger.template.add_view(features) {
            group.store.write_template(fid, finger.user_id, &finger.template.to_bytes()).map_err(TaError::Internal)?;
            log::info!("finger {fid}: template updated from a confident match, now {} views", finger.template.view_count());
        }
        Ok(())
    }

    fn remove(&mut self, fid: u32) -> Result<Response, TaError> {
        self.session = Session::Idle;
        let group = self.group.as_mut().ok_or(TaError::NoActiveGroup)?;
        let targets: Vec<u32> = group.fingers.iter().map(|f| f.fid).filter(|f| fid == 0 || *f == fid).collect();
        let mut removed = Vec::new();
        for t in targets {
            group.store.remove_template(t).map_err(TaError::Internal)?;
            group.fingers.retain(|f| f.fid != t);
            removed.push(t);
        }
        if group.fingers.is_empty() {
            // The last finger is gone: erase every file of the group; a new authenticator id
            // lives in memory until the next enrollment persists one.
            group.store.erase_group().map_err(TaError::Internal)?;
            group.authenticator_id = random_nonzero_u64()?;
        }
        Ok(Response::Removed(removed))
    }
}

/// Every finger of the store whose file opens and whose template decodes; the rest are logged.
fn load_fingers(store: &GroupStore) -> Vec<Finger> {
    let mut fingers = Vec::new();
    for stored in store.load_all() {
        match Template::from_bytes(&stored.template) {
            Ok(template) => fingers.push(Finger { fid: stored.fid, user_id: stored.user_id, template }),
            Err(e) => log::warn!("skipping finger {} in {}: template does not decode: {e}", stored.fid, store.dir().display()),
        }
    }
    fingers
}

fn quality_code(q: Quality) -> i32 {
    match q {
        Quality::Good => acquired::GOOD,
        Quality::Partial => acquired::PARTIAL,
        Quality::Insufficient => acquired::INSUFFICIENT,
        Quality::Dirty => acquired::IMAGER_DIRTY,
    }
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
mod tests;
