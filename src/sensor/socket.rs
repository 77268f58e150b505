//! A thin wrapper over Unix `SOCK_SEQPACKET` sockets (system calls through rustix).

use rustix::net::{
    AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType, accept_with, bind, connect, listen,
    recv, send, socket_with,
};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `sizeof(sockaddr_un.sun_path)` on Linux and Android; the path and its NUL must fit.
const SUN_PATH_LEN: usize = 108;

pub struct SeqpacketSocket {
    fd: OwnedFd,
}

fn sockaddr(path: &Path) -> Result<SocketAddrUnix, String> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= SUN_PATH_LEN {
        return Err(format!("socket path {} is longer than {} bytes", path.display(), SUN_PATH_LEN - 1));
    }
    if bytes.contains(&0) {
        return Err("socket path contains a NUL byte".into());
    }
    SocketAddrUnix::new(path).map_err(|e| format!("socket path {}: {e}", path.display()))
}

fn new_socket(nonblocking: bool) -> io::Result<OwnedFd> {
    let flags = if nonblocking { SocketFlags::CLOEXEC | SocketFlags::NONBLOCK } else { SocketFlags::CLOEXEC };
    Ok(socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, flags, None)?)
}

impl SeqpacketSocket {
    /// Binds and listens at `path` (mode 0600). An existing socket file there is replaced.
    pub fn listen(path: &Path) -> Result<SeqpacketSocket, String> {
        let addr = sockaddr(path)?;
        let fd = new_socket(true).map_err(|e| format!("socket: {e}"))?;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            use std::os::unix::fs::FileTypeExt;
            if meta.file_type().is_socket() {
                let _ = std::fs::remove_file(path);
            }
        }
        bind(&fd, &addr).map_err(|e| format!("cannot bind sensor socket {}: {e}", path.display()))?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        listen(&fd, 4).map_err(|e| format!("listen on {}: {e}", path.display()))?;
        Ok(SeqpacketSocket { fd })
    }

    /// Connects (blocking) to a sensor socket.
    pub fn connect(path: &Path) -> Result<SeqpacketSocket, String> {
        let addr = sockaddr(path)?;
        let fd = new_socket(false).map_err(|e| format!("socket: {e}"))?;
        connect(&fd, &addr).map_err(|e| format!("cannot connect to sensor {}: {e}", path.display()))?;
        Ok(SeqpacketSocket { fd })
    }

    /// Accepts one pending connection (non-blocking), if any.
    pub fn accept(&self) -> Option<SeqpacketSocket> {
        let fd = accept_with(&self.fd, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK).ok()?;
        Some(SeqpacketSocket { fd })
    }

    /// Receives one packet. `Ok(None)`: nothing to read now; `Ok(Some(0))`: an empty packet, or one
    /// larger than `buf`; `Err`: the peer is gone.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let (_, n) = match recv(&self.fd, &mut *buf, RecvFlags::TRUNC) {
            Ok(got) => got,
            Err(e) if e == rustix::io::Errno::AGAIN => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if n == 0 && self.hung_up() {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        if n > buf.len() {
            // MSG_TRUNC reports the real length: a packet larger than the protocol allows.
            return Ok(Some(0));
        }
        Ok(Some(n))
    }

    /// Whether the peer has gone: a read of 0 bytes is either that or an empty packet.
    fn hung_up(&self) -> bool {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN | PollFlags::RDHUP)];
        match poll(&mut fds, Some(&Timespec { tv_sec: 0, tv_nsec: 0 })) {
            Ok(_) => fds[0].revents().intersects(PollFlags::HUP | PollFlags::RDHUP | PollFlags::ERR),
            Err(_) => true,
        }
    }

    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        // MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE for the host.
        send(&self.fd, packet, SendFlags::NOSIGNAL)?;
        Ok(())
    }
}

impl AsFd for SeqpacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for SeqpacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
