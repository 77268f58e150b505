//! Test doubles for the kernel sensor kinds: a [`Backend`] that maps `/sys` and `/dev` into a
//! temporary directory, with fake device nodes whose "interrupt" a test (or benchmark) fires from
//! its own thread. The production code runs unmodified down to the system call: the worker's one
//! `poll()` waits on a real descriptor, one end of an `AF_UNIX` stream socketpair.
//!
//! - An `fpc1020` `irq` attribute: the interrupt is one byte of `MSG_OOB` data, which raises
//!   `POLLPRI` on the other end as `sysfs_notify` does on the attribute (Linux 5.15 and later);
//!   `pread` at offset 0 takes the byte (acknowledging, as a sysfs re-read does) and reads
//!   `"0\n"`/`"1\n"`, the line's level.
//! - Sony's misc device: readable (`POLLIN`) exactly while the line is high, as its `poll` fop
//!   reports the level: one byte of ordinary data sits on the socket from the touch to the lift, so a
//!   worker that kept watching a held finger would spin. A spurious interrupt (line low) makes it
//!   nothing. It has no `read` (`EINVAL`, as for a driver without the fop).
//! - The OnePlus 2 device: `FPC_GET_INTERRUPT` blocks on a condition variable with the kernel's
//!   semantics (at once when the line is high; a sticky abort flag; 0 after an abort).
//!
//! Every call is recorded with its request number and argument bytes ([`Call`]), and any path can
//! be made to refuse with an errno, since tests run as root and real permissions would not refuse.

use super::blocking_ioctl::{FPC_ABORT, FPC_GET_INTERRUPT, FPC_GET_IRQ_GPIO, FPC_HW_RESET};
use super::misc_ioctl::{FPC_IOCRHWTYPE, FPC_IOCRIRQ, FPC_IOCWAWAKE, FPC_IOCWPREPARE, FPC_IOCWRESET};
use super::node::{Access, Backend, Node, System};
use parking_lot::{Condvar, Mutex};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One call the sensor made, as the double saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Open(PathBuf),
    Write(PathBuf, Vec<u8>),
    ReadAt(PathBuf),
    Read(PathBuf),
    /// An ioctl with a pointer argument: the bytes the caller passed in.
    Ioctl {
        path: PathBuf,
        request: u32,
        arg: Vec<u8>,
    },
    /// An ioctl with a value argument.
    IoctlValue {
        path: PathBuf,
        request: u32,
        value: u64,
    },
}

/// Which driver a fake node behaves like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// The `fpc1020` `irq` sysfs attribute.
    Sysfs,
    /// Sony's `/dev/fingerprint`.
    Misc,
    /// The OnePlus 2 `/dev/fpc1020`.
    Blocking,
    /// A node that only hands out frames.
    Frames,
}

/// A temporary `/sys` and `/dev` with fake device nodes.
pub struct FakeKernel {
    root: PathBuf,
    devices: Mutex<Vec<(PathBuf, Arc<FakeDevice>)>>,
    refusals: Mutex<Vec<(PathBuf, i32)>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

#[derive(Default)]
struct DeviceState {
    level: bool,
    /// Blocking model: an interrupt since the last wait.
    fired: bool,
    /// Blocking model: the sticky abort flag.
    abort: bool,
    unplugged: bool,
    frames: VecDeque<Vec<u8>>,
    /// The frame being read, and how far.
    reading: Option<(Vec<u8>, usize)>,
    /// The test's ends of the socketpairs of the nodes open on this device.
    ends: Vec<OwnedFd>,
    /// Copies of the nodes' own ends, to take back a level-triggered readiness at the lift.
    node_ends: Vec<OwnedFd>,
    hw_type: Option<i32>,
}

/// A fake device node the test drives.
pub struct FakeDevice {
    model: Model,
    state: Mutex<DeviceState>,
    changed: Condvar,
}

struct FakeNode {
    path: PathBuf,
    device: Arc<FakeDevice>,
    end: OwnedFd,
    calls: Arc<Mutex<Vec<Call>>>,
}

fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

impl FakeKernel {
    /// A fresh tree under the temporary directory, with `/sys/power/wake_lock` and `wake_unlock`.
    pub fn new(name: &str) -> Arc<FakeKernel> {
        let root = std::env::temp_dir().join(format!("fphal-fake-kernel-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let k = FakeKernel {
            root,
            devices: Mutex::new(Vec::new()),
            refusals: Mutex::new(Vec::new()),
            calls: Arc::new(Mutex::new(Vec::new())),
        };
        for f in [super::WAKE_LOCK, super::WAKE_UNLOCK] {
            k.create_file(Path::new(f));
        }
        std::fs::create_dir_all(k.map(Path::new(super::fpc1020_sysfs::PLATFORM_DEVICES))).expect("temporary tree");
        std::fs::create_dir_all(k.map(Path::new("/dev"))).expect("temporary tree");
        Arc::new(k)
    }

    /// Where `path` lives in the temporary tree.
    pub fn map(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// An empty regular file at `path` in the tree (a sysfs attribute the test reads back).
    pub fn create_file(&self, path: &Path) {
        let real = self.map(path);
        std::fs::create_dir_all(real.parent().expect("absolute")).expect("temporary tree");
        std::fs::write(real, b"").expect("temporary tree");
    }

    /// An `fpc1020` platform device named `name` under `/sys/bus/platform/devices`, with `irq`,
    /// `hw_reset`, `device_prepare` and `wakeup_enable`. Returns its directory and its `irq`.
    pub fn fpc1020_sysfs(&self, name: &str) -> (PathBuf, Arc<FakeDevice>) {
        let dir = Path::new(super::fpc1020_sysfs::PLATFORM_DEVICES).join(name);
        for attr in ["hw_reset", "device_prepare", "wakeup_enable"] {
            self.create_file(&dir.join(attr));
        }
        let irq = self.device(&dir.join("irq"), Model::Sysfs);
        (dir, irq)
    }

    /// A fake node of `model` at `path`.
    pub fn device(&self, path: &Path, model: Model) -> Arc<FakeDevice> {
        self.create_file(path);
        let dev = Arc::new(FakeDevice { model, state: Mutex::new(DeviceState::default()), changed: Condvar::new() });
        if model == Model::Misc {
            dev.state.lock().hw_type = Some(1);
        }
        self.devices.lock().push((path.to_path_buf(), Arc::clone(&dev)));
        dev
    }

    /// Makes every open and write of `path` fail with `errno` (0: stop refusing).
    pub fn refuse(&self, path: &Path, errno: i32) {
        let mut r = self.refusals.lock();
        r.retain(|(p, _)| p != path);
        if errno != 0 {
            r.push((path.to_path_buf(), errno));
        }
    }

    /// The calls recorded so far, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().clone()
    }

    pub fn clear_calls(&self) {
        self.calls.lock().clear();
    }

    fn refusal(&self, path: &Path) -> Option<io::Error> {
        self.refusals.lock().iter().find(|(p, _)| p == path).map(|(_, e)| errno(*e))
    }

    fn find(&self, path: &Path) -> Option<Arc<FakeDevice>> {
        self.devices.lock().iter().find(|(p, _)| p == path).map(|(_, d)| Arc::clone(d))
    }
}

impl Drop for FakeKernel {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Backend for FakeKernel {
    fn open(&self, path: &Path, access: Access) -> io::Result<Arc<dyn Node>> {
        self.calls.lock().push(Call::Open(path.to_path_buf()));
        if let Some(e) = self.refusal(path) {
            return Err(e);
        }
        let Some(device) = self.find(path) else { return System.open(&self.map(path), access) };
        let mut st = device.state.lock();
        if st.unplugged {
            return Err(errno(libc::ENOENT));
        }
        let (end, test_end) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        st.ends.push(test_end);
        st.node_ends.push(rustix::io::dup(&end)?);
        drop(st);
        Ok(Arc::new(FakeNode { path: path.to_path_buf(), device, end, calls: Arc::clone(&self.calls) }))
    }

    fn write(&self, path: &Path, value: &[u8]) -> io::Result<()> {
        self.calls.lock().push(Call::Write(path.to_path_buf(), value.to_vec()));
        if let Some(e) = self.refusal(path) {
            return Err(e);
        }
        System.write(&self.map(path), value)
    }

    fn exists(&self, path: &Path) -> bool {
        self.find(path).is_some_and(|d| !d.state.lock().unplugged) || self.map(path).exists()
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        System.list(&self.map(dir))
    }
}

impl FakeDevice {
    /// A finger lands: the line goes high, with `frame` queued for reading, and the interrupt fires.
    pub fn touch(&self, frame: Option<Vec<u8>>) {
        let mut st = self.state.lock();
        st.level = true;
        if let Some(frame) = frame {
            self.queue_frame(&mut st, frame);
        }
        self.fire(&mut st);
    }

    /// Queues a frame without an interrupt (for a frame node separate from the interrupt's).
    pub fn push_frame(&self, frame: Vec<u8>) {
        let mut st = self.state.lock();
        self.queue_frame(&mut st, frame);
    }

    /// A frame to read; a frame node (and the OnePlus 2 node, whose `poll` follows its capture)
    /// becomes readable.
    fn queue_frame(&self, st: &mut DeviceState, frame: Vec<u8>) {
        st.frames.push_back(frame);
        if matches!(self.model, Model::Frames | Model::Blocking) {
            Self::make_readable(st);
        }
    }

    /// The nodes open on this device poll readable, whatever they hold.
    fn make_readable(st: &DeviceState) {
        for end in &st.ends {
            let _ = rustix::net::send(end, &[0], SendFlags::DONTWAIT);
        }
    }

    /// The nodes open on this device become readable with nothing to read (a driver whose `poll`
    /// says readable while its capture runs), until a frame is next read whole.
    pub fn readable_with_nothing(&self) {
        Self::make_readable(&self.state.lock());
    }

    /// The finger leaves: the line goes low (no interrupt: the drivers fire on the rising edge).
    pub fn lift(&self) {
        let mut st = self.state.lock();
        st.level = false;
        if self.model == Model::Misc {
            for end in &st.node_ends {
                drain(end);
            }
        }
    }

    /// An interrupt with the line low: noise on the line, or a finger already gone.
    pub fn spurious(&self) {
        let mut st = self.state.lock();
        st.level = false;
        self.fire(&mut st);
    }

    /// How many frames wait to be read.
    pub fn frames_waiting(&self) -> usize {
        let st = self.state.lock();
        st.frames.len() + usize::from(st.reading.is_some())
    }

    /// The driver goes away: open nodes hang up and fail with `ENODEV`, new opens with `ENOENT`.
    pub fn unplug(&self) {
        let mut st = self.state.lock();
        st.unplugged = true;
        for end in st.ends.drain(..) {
            let _ = rustix::net::shutdown(&end, rustix::net::Shutdown::Both);
        }
        st.node_ends.clear();
        self.changed.notify_all();
    }

    /// The driver is back (for nodes opened from now on).
    pub fn replug(&self) {
        let mut st = self.state.lock();
        st.unplugged = false;
        st.level = false;
    }

    pub fn level(&self) -> bool {
        self.state.lock().level
    }

    fn fire(&self, st: &mut DeviceState) {
        match self.model {
            Model::Sysfs => {
                for end in &st.ends {
                    let _ = rustix::net::send(end, &[1], SendFlags::OOB | SendFlags::DONTWAIT);
                }
            }
            // Readable while the line is high, once per touch.
            Model::Misc if st.level => {
                for end in &st.node_ends {
                    drain(end);
                }
                for end in &st.ends {
                    let _ = rustix::net::send(end, &[1], SendFlags::DONTWAIT);
                }
            }
            Model::Misc => {}
            Model::Blocking => {
                st.fired = true;
                self.changed.notify_all();
            }
            Model::Frames => {}
        }
    }
}

/// Takes every byte waiting on a socket.
fn drain(end: &OwnedFd) {
    let mut b = [0u8; 64];
    while matches!(rustix::net::recv(end, &mut b, RecvFlags::DONTWAIT), Ok((n, _)) if n > 0) {}
}

impl FakeNode {
    fn record(&self, call: Call) -> io::Result<()> {
        self.calls.lock().push(call);
        if self.device.state.lock().unplugged { Err(errno(libc::ENODEV)) } else { Ok(()) }
    }

    /// Takes whatever interrupts are pending on this node's socket.
    fn take_interrupts(&self) {
        let mut b = [0u8; 64];
        let _ = rustix::net::recv(&self.end, &mut b[..1], RecvFlags::OOB | RecvFlags::DONTWAIT);
        drain(&self.end);
    }

    fn answer_int(arg: &mut [u8], v: i32) -> io::Result<i32> {
        let Some(out) = arg.get_mut(..4) else { return Err(errno(libc::EFAULT)) };
        out.copy_from_slice(&v.to_ne_bytes());
        Ok(0)
    }

    /// `FPC_GET_INTERRUPT` as `fpc1020_main.c` does it.
    fn wait_interrupt(&self, arg: &mut [u8]) -> io::Result<i32> {
        let mut st = self.device.state.lock();
        if st.level {
            return Self::answer_int(arg, 1);
        }
        loop {
            if st.unplugged {
                return Err(errno(libc::ENODEV));
            }
            if std::mem::take(&mut st.abort) {
                return Self::answer_int(arg, 0);
            }
            if std::mem::take(&mut st.fired) {
                let level = st.level as i32;
                return Self::answer_int(arg, level);
            }
            self.device.changed.wait(&mut st);
        }
    }
}

impl Node for FakeNode {
    fn fd(&self) -> BorrowedFd<'_> {
        self.end.as_fd()
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.record(Call::ReadAt(self.path.clone()))?;
        if self.device.model != Model::Sysfs {
            return Err(errno(libc::ESPIPE));
        }
        self.take_interrupts();
        let text = if self.device.level() { b"1\n" } else { b"0\n" };
        let from = (offset as usize).min(text.len());
        let n = (text.len() - from).min(buf.len());
        buf[..n].copy_from_slice(&text[from..from + n]);
        Ok(n)
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.record(Call::Read(self.path.clone()))?;
        if self.device.model == Model::Misc {
            return Err(errno(libc::EINVAL));
        }
        let mut st = self.device.state.lock();
        if st.reading.is_none() {
            let Some(next) = st.frames.pop_front() else { return Err(io::ErrorKind::WouldBlock.into()) };
            st.reading = Some((next, 0));
        }
        let (frame, at) = st.reading.as_mut().expect("set above");
        let n = (frame.len() - *at).min(buf.len());
        buf[..n].copy_from_slice(&frame[*at..*at + n]);
        *at += n;
        if *at == frame.len() {
            st.reading = None;
            if st.frames.is_empty() {
                drop(st);
                self.take_interrupts();
            }
        }
        Ok(n)
    }

    fn ioctl_buffer(&self, request: u32, arg: &mut [u8]) -> io::Result<i32> {
        self.record(Call::Ioctl { path: self.path.clone(), request, arg: arg.to_vec() })?;
        match (self.device.model, request) {
            (Model::Misc, FPC_IOCRIRQ) => Self::answer_int(arg, self.device.level() as i32),
            (Model::Misc, FPC_IOCRHWTYPE) => match self.device.state.lock().hw_type {
                Some(t) => Self::answer_int(arg, t),
                None => Err(errno(libc::ENOTTY)),
            },
            (Model::Misc, FPC_IOCWAWAKE) if arg.len() >= 8 => Ok(0),
            (Model::Blocking, FPC_GET_INTERRUPT) => self.wait_interrupt(arg),
            (Model::Blocking, FPC_GET_IRQ_GPIO) => Self::answer_int(arg, self.device.level() as i32),
            (Model::Blocking, FPC_ABORT) => {
                self.device.state.lock().abort = true;
                self.device.changed.notify_all();
                Ok(0)
            }
            _ => Err(errno(libc::ENOTTY)),
        }
    }

    fn ioctl_value(&self, request: u32, value: u64) -> io::Result<i32> {
        self.record(Call::IoctlValue { path: self.path.clone(), request, value })?;
        match (self.device.model, request) {
            (Model::Misc, FPC_IOCWPREPARE | FPC_IOCWRESET) | (Model::Blocking, FPC_HW_RESET) => Ok(0),
            _ => Err(errno(libc::ENOTTY)),
        }
    }
}
