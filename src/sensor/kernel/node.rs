//! The seam between the kernel sensor kinds and the system: opening a driver's nodes, writing sysfs
//! attributes, reading, `pread` and `ioctl`. [`System`] makes the real system calls; the test double
//! in [`super::double`] records each request and its argument bytes and can refuse any of them.

use crate::sys;
use rustix::fs::{Mode, OFlags};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

/// An open driver node: a sysfs attribute, a misc or character device.
pub trait Node: Send + Sync {
    /// The descriptor the worker's `poll()` watches.
    fn fd(&self) -> BorrowedFd<'_>;
    /// `pread(offset)`: a sysfs attribute is read again from offset 0 after every notification.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// `read()`: a frame from a driver that hands images to the normal world. Never blocks: the
    /// node is open `O_NONBLOCK`, and `WouldBlock` means no data yet.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// `ioctl(request, arg)` with `arg` pointing at a buffer the driver copies from or to.
    fn ioctl_buffer(&self, request: u32, arg: &mut [u8]) -> io::Result<i32>;
    /// `ioctl(request, value)` with the argument passed by value.
    fn ioctl_value(&self, request: u32, value: u64) -> io::Result<i32>;
}

/// How a node is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    ReadWrite,
}

/// Where the kernel kinds reach the system.
pub trait Backend: Send + Sync {
    fn open(&self, path: &Path, access: Access) -> io::Result<Arc<dyn Node>>;
    /// Writes `value` to a sysfs attribute in one `write()`, as the kernel requires.
    fn write(&self, path: &Path, value: &[u8]) -> io::Result<()>;
    /// Whether `path` exists (an optional attribute a driver variant may lack).
    fn exists(&self, path: &Path) -> bool;
    /// The names in a directory, sorted.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
}

/// The real system.
pub struct System;

struct SystemNode {
    fd: OwnedFd,
}

impl Backend for System {
    fn open(&self, path: &Path, access: Access) -> io::Result<Arc<dyn Node>> {
        let flags = match access {
            Access::Read => OFlags::RDONLY,
            Access::ReadWrite => OFlags::RDWR,
        };
        let fd = rustix::fs::open(path, flags | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY, Mode::empty())?;
        Ok(Arc::new(SystemNode { fd }))
    }

    fn write(&self, path: &Path, value: &[u8]) -> io::Result<()> {
        let fd = rustix::fs::open(path, OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY, Mode::empty())?;
        let n = rustix::io::write(&fd, value)?;
        if n != value.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write ({n} of {} bytes)", value.len()),
            ));
        }
        Ok(())
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }
}

impl Node for SystemNode {
    fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        Ok(rustix::io::pread(&self.fd, buf, offset)?)
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(rustix::io::read(&self.fd, buf)?)
    }

    fn ioctl_buffer(&self, request: u32, arg: &mut [u8]) -> io::Result<i32> {
        sys::ioctl_buffer(self.fd.as_fd(), request, arg)
    }

    fn ioctl_value(&self, request: u32, value: u64) -> io::Result<i32> {
        sys::ioctl_value(self.fd.as_fd(), request, value as libc::c_ulong)
    }
}
