//! Auth tokens on the trustlet's side: the challenge, the enroll token's checks, and the
//! fingerprint token a match earns, signed with the auth-token key shared with keymaster.

use super::SoftSettings;
use super::keys::{self, Key};
use crate::auth_token::{self, AuthToken, HAT_LEN, HW_AUTH_FINGERPRINT, HW_AUTH_PASSWORD, HW_AUTH_TOKEN_VERSION};
use crate::tee::wire::TaError;

pub(super) fn random_u64() -> Result<u64, TaError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| TaError::Internal(format!("no OS randomness: {e}")))?;
    Ok(u64::from_le_bytes(b))
}

pub(super) fn random_nonzero_u64() -> Result<u64, TaError> {
    loop {
        let v = random_u64()?;
        if v != 0 {
            return Ok(v);
        }
    }
}

/// The auth-token key and what tokens must satisfy.
pub(super) struct Tokens {
    auth_key: Key,
    insecure_zero_hmac: bool,
    max_age_ms: u64,
}

impl Tokens {
    /// Loads (or on first use creates) the auth-token key.
    pub(super) fn load(settings: &SoftSettings) -> Result<Tokens, String> {
        let auth_key = if settings.insecure_zero_hmac {
            log::warn!(
                "INSECURE: trustlet.insecure_zero_hmac is set; auth tokens carry no HMAC \
                 and any zero-HMAC token authorises enrollment"
            );
            Key::new([0u8; keys::KEY_LEN])
        } else {
            keys::load_or_create(&settings.auth_key_file, settings.create_auth_key)?
        };
        Ok(Tokens { auth_key, insecure_zero_hmac: settings.insecure_zero_hmac, max_age_ms: settings.token_max_age_ms })
    }

    /// Checks a gatekeeper's PASSWORD token for enrollment against the outstanding `challenge`:
    /// version, challenge, type, HMAC and age. Returns the token, or why it is refused.
    pub(super) fn check_enroll(&self, hat: &[u8; HAT_LEN], challenge: Option<u64>) -> Result<AuthToken, TaError> {
        let token = AuthToken::from_bytes(hat);
        let refuse = |why: String| {
            log::warn!("enroll token refused: {why}");
            Err(TaError::Unauthorized(why))
        };
        if token.version != HW_AUTH_TOKEN_VERSION {
            return refuse(format!("version {} is not {HW_AUTH_TOKEN_VERSION}", token.version));
        }
        match challenge {
            None => return refuse("no challenge is outstanding (pre_enroll first)".into()),
            Some(c) if c != token.challenge => return refuse("challenge does not match the outstanding one".into()),
            Some(_) => {}
        }
        if token.authenticator_type != HW_AUTH_PASSWORD {
            return refuse(format!("authenticator type {:#x} is not PASSWORD", token.authenticator_type));
        }
        let hmac_ok = if self.insecure_zero_hmac { token.hmac == [0; 32] } else { token.verify(&self.auth_key[..]) };
        if !hmac_ok {
            return refuse("HMAC does not verify with the auth-token key".into());
        }
        let now = auth_token::boottime_ms();
        if token.timestamp > now {
            return refuse("timestamp is in the future of CLOCK_BOOTTIME".into());
        }
        if now - token.timestamp > self.max_age_ms {
            return refuse(format!("token is {} ms old; the limit is {} ms", now - token.timestamp, self.max_age_ms));
        }
        Ok(token)
    }

    /// The FINGERPRINT token a match earns: for `operation_id`, the finger's user and the group's
    /// authenticator id, stamped with `CLOCK_MONOTONIC` now.
    pub(super) fn mint_match(&self, operation_id: u64, user_id: u64, authenticator_id: u64) -> [u8; HAT_LEN] {
        let mut token = AuthToken {
            version: HW_AUTH_TOKEN_VERSION,
            challenge: operation_id,
            user_id,
            authenticator_id,
            authenticator_type: HW_AUTH_FINGERPRINT,
            timestamp: auth_token::monotonic_ms(),
            hmac: [0; 32],
        };
        if !self.insecure_zero_hmac {
            token.sign(&self.auth_key[..]);
        }
        token.to_bytes()
    }
}
