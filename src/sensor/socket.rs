//! A thin safe wrapper over Unix `SOCK_SEQPACKET` sockets.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub struct SeqpacketSocket {
    fd: OwnedFd,
}

fn sockaddr(path: &Path) -> Result<(libc::sockaddr_un, libc::socklen_t), String> {
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() {
        return Err(format!("socket path {} is longer than {} bytes", path.display(), addr.sun_path.len() - 1));
    }
    if CString::new(bytes).is_err() {
        return Err("socket path contains a NUL byte".into());
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok((addr, std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t))
}

fn new_socket(nonblocking: bool) -> io::Result<OwnedFd> {
    let flags = libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: socket() has no memory preconditions; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_UNIX, flags, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl SeqpacketSocket {
    /// Binds and listens at `path` (mode 0600). An existing socket file there is replaced.
    pub fn listen(path: &Path) -> Result<SeqpacketSocket, String> {
        let (addr, len) = sockaddr(path)?;
        let fd = new_socket(true).map_err(|e| format!("socket: {e}"))?;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            use std::os::unix::fs::FileTypeExt;
            if meta.file_type().is_socket() {
                let _ = std::fs::remove_file(path);
            }
        }
        // SAFETY: addr is a valid sockaddr_un of `len` bytes; fd is an open socket.
        let rc = unsafe { libc::bind(fd.as_raw_fd(), &addr as *const _ as *const libc::sockaddr, len) };
        if rc != 0 {
            return Err(format!("cannot bind sensor socket {}: {}", path.display(), io::Error::last_os_error()));
        }
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        // SAFETY: fd is a bound socket.
        if unsafe { libc::listen(fd.as_raw_fd(), 4) } != 0 {
            return Err(format!("listen on {}: {}", path.display(), io::Error::last_os_error()));
        }
        Ok(SeqpacketSocket { fd })
    }

    /// Connects (blocking) to a sensor socket.
    pub fn connect(path: &Path) -> Result<SeqpacketSocket, String> {
        let (addr, len) = sockaddr(path)?;
        let fd = new_socket(false).map_err(|e| format!("socket: {e}"))?;
        // SAFETY: addr is a valid sockaddr_un of `len` bytes; fd is an open socket.
        let rc = unsafe { libc::connect(fd.as_raw_fd(), &addr as *const _ as *const libc::sockaddr, len) };
        if rc != 0 {
            return Err(format!("cannot connect to sensor {}: {}", path.display(), io::Error::last_os_error()));
        }
        Ok(SeqpacketSocket { fd })
    }

    /// Accepts one pending connection (non-blocking), if any.
    pub fn accept(&self) -> Option<SeqpacketSocket> {
        // SAFETY: NULL address pointers are allowed by accept4; fd is a listening socket.
        let fd = unsafe { libc::accept4(self.fd.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK) };
        if fd < 0 {
            return None;
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        Some(SeqpacketSocket { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// Receives one packet. `Ok(None)`: nothing to read now; `Err`: the peer is gone.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: buf is valid for writes of buf.len() bytes.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_TRUNC) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock { Ok(None) } else { Err(e) };
        }
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        if n as usize > buf.len() {
            // MSG_TRUNC reports the real length: a packet larger than the protocol allows.
            return Ok(Some(0));
        }
        Ok(Some(n as usize))
    }

    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        // SAFETY: packet is valid for reads of packet.len() bytes. MSG_NOSIGNAL avoids SIGPIPE.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), packet.as_ptr().cast(), packet.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsRawFd for SeqpacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
