//! The C surface: `HMI`, the device's function table, and fphal's own `fphal_*` functions.
//!
//! Every entry point runs its body through [`boundary`], which catches panics and maps them to a
//! per-type fallback, so nothing unwinds into C and the host process never aborts.

mod codes;
mod device;
pub mod ext;
pub mod module;
pub mod sys;

use std::ffi::CStr;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What an entry point returns when its body panicked.
pub trait PanicFallback {
    fn on_panic() -> Self;
}

impl PanicFallback for i32 {
    /// `-EIO`: understood by the HIDL service's `ErrorFilter`.
    fn on_panic() -> Self {
        -libc::EIO
    }
}

impl PanicFallback for u64 {
    /// 0: the contract's "failure" for `pre_enroll` and `get_authenticator_id`.
    fn on_panic() -> Self {
        0
    }
}

/// Runs `body`, turning a panic into a log line and `T::on_panic()`.
pub fn boundary<T: PanicFallback>(name: &str, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(p) => {
            log::error!(
                "{} {name}: internal error (panic): {}",
                crate::diagnose::ids::INTERNAL.id,
                crate::hal::panic_text(&p)
            );
            T::on_panic()
        }
    }
}

/// A C string built at compile time from `bytes` (with its NUL): a bad literal fails the build.
const fn static_cstr(bytes: &'static [u8]) -> &'static CStr {
    match CStr::from_bytes_with_nul(bytes) {
        Ok(s) => s,
        Err(_) => panic!("a static C string must end with its only NUL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_fallback_value() {
        assert_eq!(boundary::<i32>("t", || panic!("boom")), -libc::EIO);
        assert_eq!(boundary::<u64>("t", || panic!("boom")), 0);
        assert_eq!(boundary::<i32>("t", || 7), 7);
    }

    #[test]
    fn the_committed_header_is_the_one_the_build_generates() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/fphal.h"));
        let committed = include_str!("../../include/fphal.h");
        assert!(
            generated == committed,
            "include/fphal.h differs from what cbindgen generates; run scripts/refresh-header.sh and commit it"
        );
    }
}
