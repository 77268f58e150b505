//! The keymaster trustlet's "give me the auth-token key" command: the key the fingerprint trustlet
//! signs auth tokens with, encapsulated by the keymaster for it.
//!
//! Facts: `KEYMASTER_UTILS_CMD_ID` 0x200 + 5 (edk2-porting/oh-my-abl `KeymasterClient.c` 88-133);
//! the request `{u32 cmd_id, u32 auth_type}` and the answer `{i32 status, u32 key_offset, u32
//! key_length}` with the key at `answer + key_offset` (techyminati/android_vendor_oplus_secure fpc
//! sw28 `fpc_tee_hw_auth_qsee.c` 34-56 and 124-126; Sony `fpc_imp_yoshino_nile_tama.c` 857-879 sends
//! the first 64 bytes of the buffer and reads the answer at offset 64, 960 bytes).

use crate::auth_token::HW_AUTH_FINGERPRINT;

pub const GET_AUTH_TOKEN_KEY: u32 = 0x205;
/// The keymaster trustlet's buffer: 1024 bytes, the request in the first 64, the answer after.
pub const BUFFER_SIZE: u32 = 1024;
pub const SEND_LEN: usize = 64;
pub const RESPONSE_AT: usize = 64;
pub const RESPONSE_LEN: usize = BUFFER_SIZE as usize - RESPONSE_AT;
/// The answer's header before any key bytes.
const HEADER: usize = 12;
/// The largest key accepted: Egistec's HAL expects 0x98 bytes (`QSEEKeymasterTrustlet.h` 7), FPC's
/// an encapsulated blob of a few hundred; more than this is not a key.
pub const MAX_KEY: usize = 512;

/// `{GET_AUTH_TOKEN_KEY, HW_AUTH_FINGERPRINT}`.
pub fn request() -> [u8; 8] {
    let mut r = [0u8; 8];
    r[0..4].copy_from_slice(&GET_AUTH_TOKEN_KEY.to_le_bytes());
    r[4..8].copy_from_slice(&HW_AUTH_FINGERPRINT.to_le_bytes());
    r
}

/// Why the keymaster's answer is not a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The keymaster refused: its status (a `keymaster_error_t` or a QSEE message error).
    Status(i32),
    /// Status 0, but the offset and length do not describe a key inside the answer.
    Bounds { offset: u32, length: u32, answer: usize },
    /// Shorter than the answer's header.
    Truncated(usize),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Status(s) => write!(f, "KEYMASTER_GET_AUTH_TOKEN_KEY returned status={s} ({:#010x})", *s as u32),
            KeyError::Bounds { offset, length, answer } => write!(
                f,
                "KEYMASTER_GET_AUTH_TOKEN_KEY returned status=0 with a key of {length} bytes at offset {offset}, \
                 outside the {answer}-byte answer (or empty, or over {MAX_KEY} bytes)"
            ),
            KeyError::Truncated(n) => {
                write!(f, "the keymaster answered {n} bytes, fewer than its {HEADER}-byte header")
            }
        }
    }
}

/// The key in `answer`, after checking the status, then that the key lies wholly inside the answer
/// past its header and is neither empty nor oversized.
pub fn key(answer: &[u8]) -> Result<&[u8], KeyError> {
    let word = |at: usize| super::fpc::u32_at(answer, at).map_err(|_| KeyError::Truncated(answer.len()));
    let status = word(0)? as i32;
    if status != 0 {
        return Err(KeyError::Status(status));
    }
    let (offset, length) = (word(4)?, word(8)?);
    let bad = KeyError::Bounds { offset, length, answer: answer.len() };
    let start = offset as usize;
    let end = start.checked_add(length as usize).ok_or(bad.clone())?;
    if start < HEADER || length == 0 || length as usize > MAX_KEY || end > answer.len() {
        return Err(bad);
    }
    Ok(&answer[start..end])
}

#[cfg(test)]
mod golden {
    use super::*;

    #[test]
    fn the_request_is_command_0x205_for_fingerprint() {
        // km_get_auth_token_req_t {keymaster_cmd_t cmd_id; hw_authenticator_type_t auth_type;}
        // (fpc_tee_hw_auth_qsee.c 34-56), KEYMASTER_UTILS_CMD_ID 0x200 + 5 (KeymasterClient.c
        // 88-133), HW_AUTH_FINGERPRINT 1 << 1 (hw_auth_token.h 28-34).
        assert_eq!(request(), [0x05, 0x02, 0, 0, 0x02, 0, 0, 0]);
        // Sony sends the first 64 bytes and reads the answer at 64, 1024 - 64 bytes
        // (fpc_imp_yoshino_nile_tama.c 857-879).
        assert_eq!((SEND_LEN, RESPONSE_AT, RESPONSE_LEN, BUFFER_SIZE), (64, 64, 960, 1024));
    }

    /// km_get_auth_token_rsp_t {int status; uint32_t offset; uint32_t length;} then the key at
    /// answer + offset (fpc_tee_hw_auth_qsee.c 124-126).
    fn answer(status: i32, offset: u32, length: u32, key: &[u8]) -> Vec<u8> {
        let mut a = vec![0u8; RESPONSE_LEN];
        a[0..4].copy_from_slice(&status.to_le_bytes());
        a[4..8].copy_from_slice(&offset.to_le_bytes());
        a[8..12].copy_from_slice(&length.to_le_bytes());
        a[offset as usize..offset as usize + key.len()].copy_from_slice(key);
        a
    }

    #[test]
    fn the_key_is_taken_only_from_inside_the_answer() {
        let a = answer(0, 12, 4, &[1, 2, 3, 4]);
        assert_eq!(a[..12], [0, 0, 0, 0, 12, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(key(&a).unwrap(), [1, 2, 3, 4]);
        // The XZ3's answer (sailfishos-sony-tama/main #76): status -24, length 0.
        assert_eq!(key(&answer(-24, 0, 0, &[])), Err(KeyError::Status(-24)));
        assert_eq!(key(&answer(0xFF00_0FFCu32 as i32, 0, 0, &[])), Err(KeyError::Status(0xFF00_0FFCu32 as i32)));
        for (offset, length) in
            [(0, 4), (8, 4), (12, 0), (950, 11), (12, MAX_KEY as u32 + 1), (u32::MAX, 2), (16, u32::MAX)]
        {
            let mut a = answer(0, 12, 4, &[9; 4]);
            a[4..8].copy_from_slice(&offset.to_le_bytes());
            a[8..12].copy_from_slice(&length.to_le_bytes());
            assert!(matches!(key(&a), Err(KeyError::Bounds { .. })), "offset {offset} length {length}");
        }
        assert_eq!(key(&[0; 11]), Err(KeyError::Truncated(11)));
    }
}
