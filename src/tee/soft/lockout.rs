//! Lockout after false trials (CDD 7.3.10): the count and the deadline, in `CLOCK_BOOTTIME` of
//! this boot. The trustlet keeps the authoritative state in memory and stores it in the group's
//! manifest; this module holds the arithmetic, which saturates rather than wraps.

use super::store::LockoutState;
use crate::auth_token;

/// How many false trials lock a group, and for how long.
pub(super) struct LockoutPolicy {
    pub trials: u32,
    pub duration_ms: u64,
}

impl LockoutPolicy {
    /// Clear: no false trial, not locked, in this boot.
    pub(super) fn clear(&self) -> LockoutState {
        LockoutState { boot_id: boot_id(), ..LockoutState::default() }
    }

    /// Locked from now for the full duration.
    pub(super) fn locked_now(&self) -> LockoutState {
        LockoutState {
            boot_id: boot_id(),
            false_trials: 0,
            locked_until_ms: auth_token::boottime_ms().saturating_add(self.duration_ms),
        }
    }

    /// A stored state in this boot's terms. Written in another boot, `CLOCK_BOOTTIME` has
    /// restarted since, so a pending lockout restarts in full rather than being shortened or
    /// lengthened by an unrelated clock; a count of false trials carries over.
    pub(super) fn in_this_boot(&self, s: LockoutState) -> LockoutState {
        let boot = boot_id();
        match s {
            s if s.boot_id == boot => s,
            s if s.locked_until_ms != 0 => self.locked_now(),
            s => LockoutState { boot_id: boot, false_trials: s.false_trials, locked_until_ms: 0 },
        }
    }

    /// Whether `s` knows of anything to lock for: a counted false trial, or a lockout not over.
    pub(super) fn count_known(&self, s: &LockoutState) -> bool {
        s.false_trials > 0 || remaining_ms(s) > 0
    }

    /// Counts one false trial into `state`. Returns true when it locks the group.
    pub(super) fn count_false_trial(&self, state: &mut LockoutState, gid: u32) -> bool {
        state.false_trials = state.false_trials.saturating_add(1);
        let locked = state.false_trials >= self.trials;
        if locked {
            *state = self.locked_now();
            log::warn!("group {gid}: {} false trials, locked out for {} ms", self.trials, self.duration_ms);
        }
        locked
    }
}

/// How long `s` stays locked from now; 0 when it is not.
pub(super) fn remaining_ms(s: &LockoutState) -> u64 {
    s.locked_until_ms.saturating_sub(auth_token::boottime_ms())
}

/// The stricter of two states of this boot: more false trials, the later end.
pub(super) fn stricter(a: LockoutState, b: LockoutState) -> LockoutState {
    LockoutState {
        boot_id: a.boot_id,
        false_trials: a.false_trials.max(b.false_trials),
        locked_until_ms: a.locked_until_ms.max(b.locked_until_ms),
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
