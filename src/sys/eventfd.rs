//! A wake-up descriptor: the worker's, and the blocking-ioctl sensor's helper thread's.

use rustix::event::{EventfdFlags, eventfd};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(EventFd { fd })
    }

    /// Wakes the waiter. Counts add up, so a wake is never lost.
    pub fn signal(&self) {
        // Failure (counter overflow) still leaves the descriptor readable, so the wake stands.
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    /// Resets the counter after a wake.
    pub fn drain(&self) {
        let mut v = [0u8; 8];
        // EAGAIN when already zero is fine.
        let _ = rustix::io::read(&self.fd, &mut v);
    }
}

impl AsFd for EventFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
