//! The 69-byte hardware auth token (`hw_auth_token_t`): layout, HMAC and the gatekeeper's job.
//!
//! Layout (packed): version u8 | challenge u64 LE | user_id u64 LE | authenticator_id u64 LE |
//! authenticator_type u32 BE | timestamp u64 BE | hmac[32]. The HMAC-SHA256 covers the first 37
//! bytes, exactly as AOSP's gatekeeper computes it, with the auth-token key shared with keymaster.

use hmac::{Hmac, KeyInit, Mac};
use rustix::time::{ClockId, clock_gettime};
use sha2::Sha256;

pub const HAT_LEN: usize = 69;
pub const HMAC_OFFSET: usize = 37;
pub const HW_AUTH_TOKEN_VERSION: u8 = 0;
pub const HW_AUTH_PASSWORD: u32 = 1;
pub const HW_AUTH_FINGERPRINT: u32 = 2;

/// A decoded auth token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthToken {
    pub version: u8,
    pub challenge: u64,
    pub user_id: u64,
    pub authenticator_id: u64,
    pub authenticator_type: u32,
    /// Milliseconds: `CLOCK_BOOTTIME` in gatekeeper tokens, `CLOCK_MONOTONIC` in fingerprint ones.
    pub timestamp: u64,
    pub hmac: [u8; 32],
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().expect("8 bytes"))
}

impl AuthToken {
    pub fn from_bytes(b: &[u8; HAT_LEN]) -> AuthToken {
        AuthToken {
            version: b[0],
            challenge: le64(&b[1..9]),
            user_id: le64(&b[9..17]),
            authenticator_id: le64(&b[17..25]),
            authenticator_type: u32::from_be_bytes(b[25..29].try_into().expect("4 bytes")),
            timestamp: u64::from_be_bytes(b[29..37].try_into().expect("8 bytes")),
            hmac: b[37..69].try_into().expect("32 bytes"),
        }
    }

    pub fn to_bytes(&self) -> [u8; HAT_LEN] {
        let mut b = [0u8; HAT_LEN];
        b[0] = self.version;
        b[1..9].copy_from_slice(&self.challenge.to_le_bytes());
        b[9..17].copy_from_slice(&self.user_id.to_le_bytes());
        b[17..25].copy_from_slice(&self.authenticator_id.to_le_bytes());
        b[25..29].copy_from_slice(&self.authenticator_type.to_be_bytes());
        b[29..37].copy_from_slice(&self.timestamp.to_be_bytes());
        b[37..69].copy_from_slice(&self.hmac);
        b
    }

    /// Fills in `hmac` over the first 37 bytes with `key`.
    pub fn sign(&mut self, key: &[u8]) {
        let bytes = self.to_bytes();
        self.hmac = compute_hmac(key, &bytes[..HMAC_OFFSET]);
    }

    /// Checks the HMAC in constant time.
    pub fn verify(&self, key: &[u8]) -> bool {
        let bytes = self.to_bytes();
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return false };
        mac.update(&bytes[..HMAC_OFFSET]);
        mac.verify_slice(&bytes[HMAC_OFFSET..]).is_ok()
    }
}

fn compute_hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Milliseconds of `CLOCK_BOOTTIME`, the clock gatekeeper stamps enroll tokens with.
pub fn boottime_ms() -> u64 {
    clock_ms(ClockId::Boottime)
}

/// Milliseconds of `CLOCK_MONOTONIC`, the clock fingerprint tokens carry.
pub fn monotonic_ms() -> u64 {
    clock_ms(ClockId::Monotonic)
}

/// Both clocks exist on every Linux and Android kernel fphal runs on.
fn clock_ms(clock: ClockId) -> u64 {
    let ts = clock_gettime(clock);
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// What the gatekeeper does after a credential check: a PASSWORD token for `challenge`, stamped
/// with `CLOCK_BOOTTIME` now and signed with `key`. Tools and tests use it to authorise enrollment.
pub fn mint_password_token(key: &[u8], challenge: u64, user_id: u64) -> [u8; HAT_LEN] {
    let mut t = AuthToken {
        version: HW_AUTH_TOKEN_VERSION,
        challenge,
        user_id,
        authenticator_id: 0,
        authenticator_type: HW_AUTH_PASSWORD,
        timestamp: boottime_ms(),
        hmac: [0; 32],
    };
    t.sign(key);
    t.to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_fields_sit_where_the_header_puts_them() {
        let t = AuthToken {
            version: 0,
            challenge: 0x0102030405060708,
            user_id: 1,
            authenticator_id: 2,
            authenticator_type: HW_AUTH_FINGERPRINT,
            timestamp: 0x1122,
            hmac: [9; 32],
        };
        let b = t.to_bytes();
        assert_eq!(b[1], 0x08, "challenge is little-endian");
        assert_eq!(&b[25..29], &[0, 0, 0, 2], "type is big-endian");
        assert_eq!(&b[35..37], &[0x11, 0x22], "timestamp is big-endian");
        assert_eq!(AuthToken::from_bytes(&b), t);
    }

    #[test]
    fn a_signed_token_verifies_and_any_flipped_bit_does_not() {
        let key = [0x5a; 32];
        let good = mint_password_token(&key, 77, 1234);
        assert!(AuthToken::from_bytes(&good).verify(&key));
        assert!(!AuthToken::from_bytes(&good).verify(&[0x5b; 32]));
        for byte in 0..HAT_LEN {
            for bit in 0..8 {
                let mut bad = good;
                bad[byte] ^= 1 << bit;
                assert!(!AuthToken::from_bytes(&bad).verify(&key), "flip {byte}:{bit} verified");
            }
        }
    }
}
