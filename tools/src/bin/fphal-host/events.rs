//! Callbacks from the module: decoded into owned events with their arrival time, and named.

use fphal::auth_token::{AuthToken, HAT_LEN};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Error(i32),
    Acquired(i32),
    Enrolling { gid: u32, fid: u32, remaining: u32 },
    Removed { gid: u32, fid: u32, remaining: u32 },
    Authenticated { gid: u32, fid: u32, hat: [u8; HAT_LEN] },
    Enumerating { gid: u32, fid: u32, remaining: u32 },
    Unknown(i32),
}

pub struct Event {
    pub at: Instant,
    pub msg: Msg,
}

static SINK: Mutex<Option<Sender<Event>>> = Mutex::new(None);

/// Starts collecting callbacks; the receiver gets every message in the order `notify` saw them.
pub fn collect() -> Receiver<Event> {
    let (tx, rx) = channel();
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    rx
}

/// Hands one decoded callback to the collector (called from the module's `notify`).
pub fn deliver(at: Instant, msg: Msg) {
    if let Some(tx) = SINK.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        let _ = tx.send(Event { at, msg });
    }
}

pub fn acquired_name(code: i32) -> String {
    match code {
        0 => "GOOD".into(),
        1 => "PARTIAL".into(),
        2 => "INSUFFICIENT".into(),
        3 => "IMAGER_DIRTY".into(),
        4 => "TOO_SLOW".into(),
        5 => "TOO_FAST".into(),
        6 => "DETECTED (not allowed)".into(),
        c if c >= 1000 => format!("VENDOR+{}", c - 1000),
        c => format!("UNKNOWN({c})"),
    }
}

pub fn error_name(code: i32) -> String {
    match code {
        1 => "HW_UNAVAILABLE".into(),
        2 => "UNABLE_TO_PROCESS".into(),
        3 => "TIMEOUT".into(),
        4 => "NO_SPACE".into(),
        5 => "CANCELED".into(),
        6 => "UNABLE_TO_REMOVE".into(),
        7 => "LOCKOUT".into(),
        c if c >= 1000 => format!("VENDOR+{}", c - 1000),
        c => format!("UNKNOWN({c})"),
    }
}

impl Msg {
    pub fn type_name(&self) -> &'static str {
        match self {
            Msg::Error(_) => "ERROR",
            Msg::Acquired(_) => "ACQUIRED",
            Msg::Enrolling { .. } => "TEMPLATE_ENROLLING",
            Msg::Removed { .. } => "TEMPLATE_REMOVED",
            Msg::Authenticated { .. } => "AUTHENTICATED",
            Msg::Enumerating { .. } => "TEMPLATE_ENUMERATING",
            Msg::Unknown(_) => "UNKNOWN",
        }
    }

    /// The message's fields in words; `key` verifies an auth token's HMAC when given.
    pub fn details(&self, key: Option<&[u8]>) -> String {
        match self {
            Msg::Error(c) => error_name(*c),
            Msg::Acquired(c) => acquired_name(*c),
            Msg::Enrolling { gid, fid, remaining } => format!("gid={gid} fid={fid} remaining={remaining}"),
            Msg::Removed { gid, fid, remaining } | Msg::Enumerating { gid, fid, remaining } => {
                format!("gid={gid} fid={fid} remaining={remaining}")
            }
            Msg::Authenticated { gid, fid: 0, .. } => format!("gid={gid} fid=0 (not recognised)"),
            Msg::Authenticated { gid, fid, hat } => {
                let t = AuthToken::from_bytes(hat);
                let hmac = match key {
                    Some(k) if t.verify(k) => "HMAC valid",
                    Some(_) => "HMAC INVALID",
                    None => "HMAC not checked (no key)",
                };
                let kind = match t.authenticator_type {
                    1 => "PASSWORD".to_string(),
                    2 => "FINGERPRINT".to_string(),
                    other => format!("{other:#x}"),
                };
                format!(
                    "gid={gid} fid={fid} token: v{} challenge={:#x} user={:#x} \
                     auth_id={:#018x} type={kind} t={}ms {hmac}",
                    t.version, t.challenge, t.user_id, t.authenticator_id, t.timestamp
                )
            }
            Msg::Unknown(t) => format!("message type {t}"),
        }
    }
}
