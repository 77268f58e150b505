//! Lockout after false trials (CDD 7.3.10): the count and the deadline, kept per group in the
//! store and read in `CLOCK_BOOTTIME` of this boot.

use super::store::{GroupStore, LockoutState};
use crate::auth_token;

/// How many false trials lock a group, and for how long.
pub(super) struct LockoutPolicy {
    pub trials: u32,
    pub duration_ms: u64,
}

impl LockoutPolicy {
    /// The group's lockout state, in this boot's terms.
    pub(super) fn state(&self, store: &GroupStore) -> LockoutState {
        let boot = boot_id();
        match store.load_lockout() {
            Some(s) if s.boot_id == boot => s,
            // Written in another boot: CLOCK_BOOTTIME restarted, so a pending lockout restarts in
            // full rather than being shortened or lengthened by an unrelated clock.
            Some(s) if s.locked_until_ms != 0 => LockoutState {
                boot_id: boot,
                false_trials: 0,
                locked_until_ms: auth_token::boottime_ms() + self.duration_ms,
            },
            _ => LockoutState { boot_id: boot, ..LockoutState::default() },
        }
    }

    /// How long the group stays locked; 0 when it is not.
    pub(super) fn locked_for_ms(&self, store: &GroupStore) -> u64 {
        self.state(store).locked_until_ms.saturating_sub(auth_token::boottime_ms())
    }

    /// Counts one false trial into `state`. Returns true when it locks the group.
    pub(super) fn count_false_trial(&self, state: &mut LockoutState, gid: u32) -> bool {
        state.false_trials += 1;
        let locked = state.false_trials >= self.trials;
        if locked {
            state.false_trials = 0;
            state.locked_until_ms = auth_token::boottime_ms() + self.duration_ms;
            log::warn!("group {gid}: {} false trials, locked out for {} ms", self.trials, self.duration_ms);
        }
        locked
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
