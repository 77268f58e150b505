//! fphal's own C functions, beyond the AOSP structs. Names are `fphal_<object>_<verb>`; results
//! are 0 or a negative errno; out-parameters are written only on success; every buffer is
//! followed by its length.

use super::boundary;
use super::device::lookup;
use super::sys::fingerprint_device_t;
use crate::auth_token::{self, AuthToken, HAT_LEN};
use std::ffi::{c_char, c_int};
use std::os::unix::ffi::OsStrExt;

/// The loaded library's version, `"MAJOR.MINOR.PATCH"`: static, NUL-terminated, never NULL. Equal to
/// `FPHAL_VERSION_STRING` when the header and the library come from the same release.
#[unsafe(no_mangle)]
pub extern "C" fn fphal_version() -> *const c_char {
    VERSION.as_ptr()
}

const VERSION: &std::ffi::CStr = super::static_cstr(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes());

/// Writes the path of `dev`'s virtual sensor socket, NUL-terminated, into `buf` (`len` bytes).
///
/// Returns 0, `-EINVAL` (NULL arguments or not an open fphal device), `-ENODEV` (the configured
/// sensor is not the virtual one: it takes no images from outside) or `-ERANGE` (`buf` too small;
/// nothing is written). Tools connect to this path to put a finger on the sensor.
///
/// # Safety
/// `buf` must be NULL or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fphal_device_sensor_path(
    dev: *const fingerprint_device_t,
    buf: *mut c_char,
    len: usize,
) -> c_int {
    boundary("fphal_device_sensor_path", || {
        let Ok(device) = lookup(dev) else { return -libc::EINVAL };
        if buf.is_null() {
            return -libc::EINVAL;
        }
        let Some(path) = device.sensor_path() else { return -libc::ENODEV };
        let path = path.as_os_str().as_bytes();
        if path.len() + 1 > len {
            return -libc::ERANGE;
        }
        // SAFETY: buf has room for len >= path.len() + 1 bytes (checked above).
        unsafe {
            std::ptr::copy_nonoverlapping(path.as_ptr(), buf.cast::<u8>(), path.len());
            *buf.add(path.len()) = 0;
        }
        0
    })
}

/// Does the gatekeeper's job after a credential check: writes into `token` (`token_len` must be
/// 69) a PASSWORD auth token for `challenge` and `user_id`, stamped with `CLOCK_BOOTTIME` now and
/// HMAC-signed with the auth-token key `key` (`key_len` bytes). Returns 0 or `-EINVAL`.
///
/// # Safety
/// `key` must be valid for `key_len` bytes and `token` for `token_len` bytes, or be NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fphal_auth_token_mint(
    key: *const u8,
    key_len: usize,
    challenge: u64,
    user_id: u64,
    token: *mut u8,
    token_len: usize,
) -> c_int {
    boundary("fphal_auth_token_mint", || {
        if key.is_null() || key_len == 0 || token.is_null() || token_len != HAT_LEN {
            return -libc::EINVAL;
        }
        // SAFETY: key is valid for key_len bytes (caller contract, NULL checked).
        let key = unsafe { std::slice::from_raw_parts(key, key_len) };
        let t = auth_token::mint_password_token(key, challenge, user_id);
        // SAFETY: token is valid for HAT_LEN bytes (length checked).
        unsafe { std::ptr::copy_nonoverlapping(t.as_ptr(), token, HAT_LEN) };
        0
    })
}

/// Recomputes the HMAC of the 69-byte `token` in place with `key`, keeping every other field.
/// Returns 0 or `-EINVAL`.
///
/// # Safety
/// `key` must be valid for `key_len` bytes and `token` for `token_len` bytes, or be NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fphal_auth_token_sign(
    key: *const u8,
    key_len: usize,
    token: *mut u8,
    token_len: usize,
) -> c_int {
    boundary("fphal_auth_token_sign", || {
        if key.is_null() || key_len == 0 || token.is_null() || token_len != HAT_LEN {
            return -libc::EINVAL;
        }
        // SAFETY: both buffers are valid for their lengths (caller contract, NULL/length checked).
        let (key, bytes) = unsafe { (std::slice::from_raw_parts(key, key_len), &mut *token.cast::<[u8; HAT_LEN]>()) };
        let mut t = AuthToken::from_bytes(bytes);
        t.sign(key);
        *bytes = t.to_bytes();
        0
    })
}

/// Checks the HMAC of the 69-byte `token` against `key`. Returns 0 when it verifies,
/// `-EBADMSG` when it does not, `-EINVAL` for bad arguments.
///
/// # Safety
/// `key` must be valid for `key_len` bytes and `token` for `token_len` bytes, or be NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fphal_auth_token_verify(
    key: *const u8,
    key_len: usize,
    token: *const u8,
    token_len: usize,
) -> c_int {
    boundary("fphal_auth_token_verify", || {
        if key.is_null() || key_len == 0 || token.is_null() || token_len != HAT_LEN {
            return -libc::EINVAL;
        }
        // SAFETY: both buffers are valid for their lengths (caller contract, NULL/length checked).
        let (key, bytes) = unsafe { (std::slice::from_raw_parts(key, key_len), &*token.cast::<[u8; HAT_LEN]>()) };
        if AuthToken::from_bytes(bytes).verify(key) { 0 } else { -libc::EBADMSG }
    })
}

/// Writes into `*out_ns` the `CLOCK_MONOTONIC` time, in nanoseconds, at which `dev`'s worker last
/// left its `poll()`: a diagnostic for measuring how fast `cancel()` reaches a waiting worker.
/// Returns 0 or `-EINVAL`.
///
/// # Safety
/// `out_ns` must be NULL or valid for one `uint64_t` write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fphal_device_last_wake_ns(dev: *const fingerprint_device_t, out_ns: *mut u64) -> c_int {
    boundary("fphal_device_last_wake_ns", || {
        let Ok(device) = lookup(dev) else { return -libc::EINVAL };
        if out_ns.is_null() {
            return -libc::EINVAL;
        }
        // SAFETY: out_ns is non-NULL and valid for one write (caller contract).
        unsafe { *out_ns = device.last_wake_ns() };
        0
    })
}
