//! The library's one system module: waiting on descriptors, the monotonic clock, device ioctls,
//! the few calls no safe crate covers (logcat on Android), and the vendor's QSEECom library with the
//! shared buffers its commands carry. Everything else goes through rustix.
//!
//! With `src/ffi`, this is the only place in the library where `unsafe` may appear.

#[cfg(target_os = "android")]
mod android_log;
#[cfg(target_os = "android")]
pub use android_log::write as android_log_write;
mod eventfd;
pub use eventfd::EventFd;
pub mod qseecom;
pub mod shared_mem;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::time::{ClockId, clock_gettime};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

/// What a descriptor in the wait is watched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// `POLLIN`: data to read (eventfds, sockets, character devices with a `poll` fop).
    Readable,
    /// `POLLPRI` alone: a sysfs attribute that the kernel `sysfs_notify`s. Asking such a file for
    /// `POLLIN` would wake at once every time (kernfs always reports it readable).
    Urgent,
}

/// One descriptor the wait watches, and for what.
#[derive(Debug, Clone, Copy)]
pub struct Watch<'a> {
    pub fd: BorrowedFd<'a>,
    pub interest: Interest,
}

/// What the wait found on one descriptor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    pub fd: RawFd,
    pub readable: bool,
    pub urgent: bool,
    /// `POLLERR` or `POLLNVAL`. A sysfs attribute reports `POLLERR` with every `POLLPRI`.
    pub error: bool,
    pub hangup: bool,
}

/// Waits in one `poll()` until one of `watches` is ready or `timeout` passes (`None`: no limit).
/// Returns what is ready; empty on timeout or interruption.
pub fn wait(watches: &[Watch<'_>], timeout: Option<Duration>) -> Vec<Ready> {
    let mut set: Vec<PollFd<'_>> = watches
        .iter()
        .map(|w| {
            let flags = match w.interest {
                Interest::Readable => PollFlags::IN,
                Interest::Urgent => PollFlags::PRI,
            };
            PollFd::from_borrowed_fd(w.fd, flags)
        })
        .collect();
    let timeout =
        timeout.map(|t| Timespec { tv_sec: t.as_secs().min(i64::MAX as u64) as i64, tv_nsec: t.subsec_nanos().into() });
    match poll(&mut set, timeout.as_ref()) {
        Ok(n) if n > 0 => set
            .iter()
            .filter(|p| !p.revents().is_empty())
            .map(|p| {
                let r = p.revents();
                Ready {
                    fd: p.as_fd().as_raw_fd(),
                    readable: r.intersects(PollFlags::IN | PollFlags::RDNORM),
                    urgent: r.contains(PollFlags::PRI),
                    error: r.intersects(PollFlags::ERR | PollFlags::NVAL),
                    hangup: r.contains(PollFlags::HUP),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Waits in one `poll()` until one of `fds` is readable (or hung up) or `timeout` passes.
/// Returns the descriptors that are ready; empty on timeout or interruption.
pub fn wait_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> Vec<RawFd> {
    let watches: Vec<Watch<'_>> = fds.iter().map(|fd| Watch { fd: *fd, interest: Interest::Readable }).collect();
    wait(&watches, timeout).iter().map(|r| r.fd).collect()
}

/// An `ioctl` whose argument is a buffer the driver reads or writes (`_IOR`/`_IOW` with a type).
/// Returns the call's non-negative result.
/// A request whose number encodes a size (`_IOR`/`_IOW`/`_IOWR`) larger than `arg` is refused
/// before the kernel could copy past it.
pub fn ioctl_buffer(fd: BorrowedFd<'_>, request: u32, arg: &mut [u8]) -> io::Result<i32> {
    let (direction, size) = (request >> 30, ((request >> 16) & 0x3fff) as usize);
    if direction != 0 && size > arg.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("ioctl {request:#010x} copies {size} bytes, the buffer has {}", arg.len()),
        ));
    }
    // SAFETY: `fd` is an open descriptor for the borrow's lifetime, and `arg` is a live, writable
    // buffer of `arg.len()` bytes, at least the size the request number encodes (checked above).
    // Requests without an encoded size are each passed a buffer at least as large as what its
    // driver copies (written down with each request number, from the driver's source).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, arg.as_mut_ptr()) };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

/// An `ioctl` whose argument is a plain value, not a pointer (Sony's `FPC_IOCWPREPARE` takes the
/// power state so).
pub fn ioctl_value(fd: BorrowedFd<'_>, request: u32, value: libc::c_ulong) -> io::Result<i32> {
    // SAFETY: `fd` is open for the borrow's lifetime; the argument is passed by value and the
    // driver does not dereference it.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, value) };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

/// The dynamic linker's reason for the last failed `dlopen`/`dlsym` on this thread.
pub fn dl_error() -> String {
    // SAFETY: `dlerror` returns a NUL-terminated string owned by the dynamic linker (valid until the
    // next dl call on this thread), or null.
    let p = unsafe { libc::dlerror() };
    if p.is_null() {
        return "unknown dynamic linker error".into();
    }
    // SAFETY: non-null, NUL-terminated, read before any other dl call.
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// CPU time (user + system) the calling thread has used, from `getrusage(RUSAGE_THREAD)`.
pub fn thread_cpu_time() -> Duration {
    // <linux/resource.h>; the libc crate names it for glibc but not for bionic.
    const RUSAGE_THREAD: libc::c_int = 1;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a writable `rusage`; RUSAGE_THREAD only reads the calling thread's counters.
    let r = unsafe { libc::getrusage(RUSAGE_THREAD, usage.as_mut_ptr()) };
    if r != 0 {
        return Duration::ZERO;
    }
    // SAFETY: getrusage succeeded, so it filled the struct (and it was zeroed before).
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// `CLOCK_MONOTONIC` now, in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let ts = clock_gettime(ClockId::Monotonic);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType, socketpair};

    #[test]
    fn ioctls_reach_the_kernel_with_their_argument() {
        let (a, b) = socketpair(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None).unwrap();
        rustix::net::send(&a, b"abc", SendFlags::empty()).unwrap();
        // FIONREAD writes the bytes waiting through its `int *` argument.
        let mut n = [0u8; 4];
        assert_eq!(ioctl_buffer(b.as_fd(), libc::FIONREAD as u32, &mut n).unwrap(), 0);
        assert_eq!(i32::from_ne_bytes(n), 3);
        // A request the device does not know fails with the kernel's errno (ENOSYS under qemu-user,
        // which refuses the ioctls it cannot translate before the kernel sees them).
        let null = std::fs::File::open("/dev/null").unwrap();
        let e = ioctl_value(null.as_fd(), 0x4004_4b00, 0).unwrap_err();
        // A request that would copy more than the buffer holds never reaches the kernel.
        let mut small = [0u8; 4];
        let refused = ioctl_buffer(b.as_fd(), 0xc018_4800, &mut small).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput, "{refused}");
        assert!(matches!(e.raw_os_error(), Some(libc::ENOTTY | libc::ENOSYS)), "{e}");
    }

    #[test]
    fn a_sysfs_style_watch_wakes_on_urgent_data_only() {
        let (a, b) = socketpair(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None).unwrap();
        let urgent = [Watch { fd: b.as_fd(), interest: Interest::Urgent }];
        rustix::net::send(&a, b"x", SendFlags::empty()).unwrap();
        assert!(wait(&urgent, Some(Duration::from_millis(10))).is_empty(), "ordinary data is not urgent");
        rustix::net::send(&a, b"!", SendFlags::OOB).unwrap();
        let ready = wait(&urgent, Some(Duration::from_secs(5)));
        assert_eq!(ready.len(), 1);
        assert!(ready[0].urgent && ready[0].fd == b.as_raw_fd());
    }

    #[test]
    fn thread_cpu_time_counts_this_threads_work() {
        let before = thread_cpu_time();
        let until = std::time::Instant::now() + Duration::from_millis(30);
        let mut x = 0u64;
        while std::time::Instant::now() < until {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time() > before);
    }
}
