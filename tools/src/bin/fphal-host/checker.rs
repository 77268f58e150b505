//! The contract rules a module must keep with both real clients, checked on every call and message.

use crate::events::Msg;

/// Return values the HIDL 2.1 service's `ErrorFilter` understands; anything else becomes SYS_UNKNOWN.
const ERROR_FILTER: [i32; 12] = [0, -2, -4, -5, -11, -12, -13, -14, -16, -22, -28, -110];
const CANCELED: i32 = 5;

#[derive(Default)]
pub struct Checker {
    pub violations: Vec<String>,
    /// cancel() calls whose CANCELED has not arrived yet.
    pending_cancels: u32,
    /// A CANCELED arrived and no operation started since: any further message is a violation.
    cancelled_quiet: bool,
    /// remove() of a finger the host knows is missing: no ERROR may follow.
    removing_missing: bool,
    /// enumerate() of a group the host knows is empty: exactly one {fid 0, remaining 0}.
    enumerating_empty: Option<u32>,
}

impl Checker {
    fn fail(&mut self, what: String) {
        println!("  !! contract violation: {what}");
        self.violations.push(what);
    }

    pub fn opened(&mut self, version: u32) {
        if version != 0x0201 {
            self.fail(format!("device version is {version:#06x}; the HIDL service accepts only 0x0201"));
        }
    }

    pub fn notify_set(&mut self, rc: i32, stored: bool) {
        if rc != 0 {
            self.fail(format!("set_notify returned {rc}; the HIDL service needs exactly 0"));
        }
        if !stored {
            self.fail("set_notify did not store the callback in dev->notify".into());
        }
    }

    /// Every int-returning entry point's result.
    pub fn returned(&mut self, call: &str, rc: i32) {
        if !ERROR_FILTER.contains(&rc) {
            self.fail(format!("{call} returned {rc}, which ErrorFilter turns into SYS_UNKNOWN"));
        }
    }

    pub fn authenticator_id(&mut self, id: u64) {
        if id == 0 {
            self.fail("get_authenticator_id returned 0 (VTS asks for a non-zero id, even for an empty group)".into());
        }
    }

    /// An operation starts: messages are expected again.
    pub fn operation_started(&mut self) {
        self.cancelled_quiet = false;
        self.removing_missing = false;
        self.enumerating_empty = None;
    }

    pub fn cancel_called(&mut self) {
        self.pending_cancels += 1;
    }

    pub fn expect_missing_remove(&mut self) {
        self.removing_missing = true;
    }

    pub fn expect_empty_enumeration(&mut self) {
        self.enumerating_empty = Some(0);
    }

    /// At a quiet point: every cancel must have been answered, an empty enumeration must have come.
    pub fn settle(&mut self) {
        if self.pending_cancels > 0 {
            let n = self.pending_cancels;
            self.pending_cancels = 0;
            self.fail(format!("{n} cancel() call(s) got no ERROR(CANCELED)"));
        }
        if self.enumerating_empty == Some(0) {
            self.enumerating_empty = None;
            self.fail("enumerate of an empty group sent nothing; expected one {fid=0, remaining=0}".into());
        }
    }

    pub fn message(&mut self, msg: &Msg) {
        if self.cancelled_quiet {
            self.fail(format!("{} after ERROR(CANCELED), before any new operation", msg.type_name()));
        }
        match msg {
            Msg::Unknown(t) => self.fail(format!("unknown message type {t}")),
            Msg::Acquired(6) => {
                self.fail("ACQUIRED_DETECTED (6) is not part of HAL 2.1; the service reports it as INSUFFICIENT".into())
            }
            Msg::Acquired(c) if !(0..=5).contains(c) && *c < 1000 => self.fail(format!("unknown acquired code {c}")),
            Msg::Error(c) if !(1..=7).contains(c) && *c < 1000 => self.fail(format!("unknown error code {c}")),
            Msg::Error(CANCELED) => {
                if self.pending_cancels == 0 {
                    self.fail("ERROR(CANCELED) without a cancel() call".into());
                } else {
                    self.pending_cancels -= 1;
                    self.cancelled_quiet = self.pending_cancels == 0;
                }
            }
            Msg::Error(c) if self.removing_missing => {
                self.fail(format!("remove() of a missing finger answered ERROR({c}); it must report TEMPLATE_REMOVED"))
            }
            Msg::Enumerating { fid: 0, remaining, .. } if *remaining != 0 => {
                self.fail(format!("enumerate sent fid=0 with remaining={remaining}"))
            }
            Msg::Enumerating { fid, remaining, .. } => {
                if let Some(seen) = self.enumerating_empty {
                    let seen = seen + 1;
                    self.enumerating_empty = Some(seen);
                    if *fid != 0 || *remaining != 0 || seen > 1 {
                        self.fail(format!(
                            "empty group enumerated as fid={fid} remaining={remaining} (message {seen})"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}
