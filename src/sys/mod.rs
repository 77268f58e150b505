//! The library's one system module: waiting on descriptors, the monotonic clock, and the few
//! calls no safe crate covers (logcat on Android). Everything else goes through rustix.
//!
//! With `src/ffi`, this is the only place in the library where `unsafe` may appear.

#[cfg(target_os = "android")]
mod android_log;
#[cfg(target_os = "android")]
pub use android_log::write as android_log_write;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::time::{ClockId, clock_gettime};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

/// Waits in one `poll()` until one of `fds` is readable (or hung up) or `timeout` passes
/// (`None`: no limit). Returns the descriptors that are ready; empty on timeout or interruption.
pub fn wait_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> Vec<RawFd> {
    let mut set: Vec<PollFd<'_>> = fds.iter().map(|fd| PollFd::from_borrowed_fd(*fd, PollFlags::IN)).collect();
    let timeout =
        timeout.map(|t| Timespec { tv_sec: t.as_secs().min(i64::MAX as u64) as i64, tv_nsec: t.subsec_nanos().into() });
    match poll(&mut set, timeout.as_ref()) {
        Ok(n) if n > 0 => set.iter().filter(|p| !p.revents().is_empty()).map(|p| p.as_fd().as_raw_fd()).collect(),
        _ => Vec::new(),
    }
}

/// `CLOCK_MONOTONIC` now, in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let ts = clock_gettime(ClockId::Monotonic);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
