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
use crate::tee::wire::{AuthOutcome, EnrollStep, Request, Response, TaError};
use capture::CaptureChecks;
use keys::Key;
use learning::Learning;
use lockout::LockoutPolicy;
use std::path::{Path, PathBuf};
use store::GroupStore;
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
    device_key: Key,
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
}

impl SoftTrustlet {
    /// Loads (or on first use creates) the device key and the auth-token key.
    pub fn new(settings: SoftSettings) -> Result<SoftTrustlet, String> {
        let device_key = keys::load_or_create(&settings.device_key_file, true)?;
        let tokens = Tokens::load(&settings)?;
        Ok(SoftTrustlet {
            device_key,
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
        })
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
                Ok(Response::AuthenticatorId(self.group.as_ref().map_or(0, |g| g.authenticator_id)))
            }
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
        let token = self.tokens.check_enroll(hat, self.challenge)?;
        let group = self.group()?;
        if group.fingers.len() >= self.max_fingers as usize {
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

    fn enroll_capture(&mut self, image: GrayImage, contact_ms: u32) -> Result<Response, TaError> {
        let Session::Enroll { .. } = self.session else { return Err(TaError::NoSession) };
        let checked = self.captures.check(&image, contact_ms);
        let samples = self.enroll_samples;
        let Session::Enroll { fid, user_id, views } = &mut self.session else { return Err(TaError::NoSession) };
        let (fid, user_id) = (*fid, *user_id);
        let step = |acquired, counted, remaining| EnrollStep { acquired, counted, remaining, fid, vendor_error: None };
        let features = match checked {
            Ok(features) => features,
            Err(code) => return Ok(Response::Enroll(step(code, false, samples - views.len() as u32))),
        };
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
        group.store.write_template(fid, user_id, &template.to_bytes()).map_err(TaError::Internal)?;
        // A new finger invalidates keys bound to the old set.
        group.store.store_authenticator_id(new_id).map_err(TaError::Internal)?;
        group.authenticator_id = new_id;
        group.fingers.push(Finger { fid, user_id, template });
        log::info!("enrolled finger {fid} in group {}", group.gid);
        Ok(Response::Enroll(step(Acquired::Good, true, 0)))
    }

    fn authenticate_begin(&mut self, operation_id: u64) -> Result<Response, TaError> {
        self.session = Session::Idle;
        let remaining_ms = self.lockout.locked_for_ms(&self.group()?.store);
        if remaining_ms > 0 {
            return Err(TaError::Lockout { remaining_ms });
        }
        self.session = Session::Authenticate { operation_id };
        Ok(Response::Ok)
    }

    fn authenticate_capture(&mut self, image: GrayImage, contact_ms: u32) -> Result<Response, TaError> {
        let Session::Authenticate { operation_id } = self.session else { return Err(TaError::NoSession) };
        let remaining_ms = self.lockout.locked_for_ms(&self.group()?.store);
        if remaining_ms > 0 {
            return Err(TaError::Lockout { remaining_ms });
        }
        let features = match self.captures.check(&image, contact_ms) {
            Ok(features) => features,
            Err(acquired) => return Ok(Response::Auth { acquired, outcome: AuthOutcome::NotCounted }),
        };
        let group = self.group()?;
        let best = group
            .fingers
            .iter()
            .map(|f| {
                let matches = matcher::view_matches(&features, &f.template);
                (matcher::score_of(&matches), f, matches)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let learn = match &best {
            Some((score, finger, matches))
                if *score >= self.threshold && self.learning.worth_it(*score, matches, &finger.template) =>
            {
                Some(finger.fid)
            }
            _ => None,
        };
        let mut state = self.lockout.state(&group.store);
        let outcome = match best {
            Some((score, finger, _)) if score >= self.threshold => {
                log::debug!("match: finger {} score {score:.3}", finger.fid);
                let hat = self.tokens.mint_match(operation_id, finger.user_id, group.authenticator_id);
                if state.false_trials != 0 {
                    state.false_trials = 0;
                    group.store.store_lockout(&state).map_err(TaError::Internal)?;
                }
                AuthOutcome::Match { fid: finger.fid, hat }
            }
            other => {
                log::debug!("no match (best score {:.3})", other.map_or(0.0, |b| b.0));
                let locked = self.lockout.count_false_trial(&mut state, group.gid);
                group.store.store_lockout(&state).map_err(TaError::Internal)?;
                if locked { AuthOutcome::LockedOut } else { AuthOutcome::NoMatch }
            }
        };
        if let (Some(fid), Some(group)) = (learn, self.group.as_mut()) {
            // The match stands whether or not the update can be stored.
            if let Err(e) = Learning::learn(group, fid, features) {
                log::error!("finger {fid}: template update not stored: {e}");
            }
        }
        Ok(Response::Auth { acquired: Acquired::Good, outcome })
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
            Err(e) => {
                log::warn!("skipping finger {} in {}: template does not decode: {e}", stored.fid, store.dir().display())
            }
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
