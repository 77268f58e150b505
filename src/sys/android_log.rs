//! logcat: `__android_log_write` from liblog, which no safe crate wraps without more than it needs.

use std::ffi::{CStr, c_char, c_int};

#[link(name = "log")]
unsafe extern "C" {
    fn __android_log_write(prio: c_int, tag: *const c_char, text: *const c_char) -> c_int;
}

/// Writes one line to logcat at priority `prio` (`ANDROID_LOG_*`) under `tag`.
pub fn write(prio: c_int, tag: &CStr, text: &CStr) {
    // SAFETY: tag and text are valid NUL-terminated strings that outlive the call; liblog copies them.
    unsafe { __android_log_write(prio, tag.as_ptr(), text.as_ptr()) };
}
