//! The OnePlus 2 `fpc1020` character device `/dev/fpc1020`, whose interrupt is a blocking ioctl.
//! Facts from `CyanogenMod/android_device_oneplus_oneplus2` `fingerprint/fpc1020_ioctl.h`
//! (58e3f025) and `OnePlusOSS/android_kernel_oneplus_msm8994` `drivers/input/misc/fpc1020_main.c`
//! (2642939b):
//!
//! - `FPC_HW_RESET _IOW('K', 0, int)`, `FPC_GET_INTERRUPT _IOR('K', 1, int)`,
//!   `FPC_GET_IRQ_GPIO _IOR('K', 2, int)` (kernel only), `FPC_ABORT _IOR('K', 6, int)`. The HAL calls
//!   the reset with no argument.
//! - `FPC_GET_INTERRUPT` writes 1 at once when the line is high; otherwise it sleeps, with no
//!   timeout, until the rising-edge interrupt or `FPC_ABORT`, and writes the line's level (0 after an
//!   abort). `FPC_ABORT` sets a flag and wakes the sleeper; the flag stays set when nobody sleeps, so
//!   the next `FPC_GET_INTERRUPT` with the line low returns 0 at once (an abort is never lost).
//! - `open()` clears the abort flag; the interrupt handler takes a 0.5 s wakelock of its own, and
//!   `FPC_GET_INTERRUPT` takes the driver's wakelock when the line is high and drops it when it goes
//!   to sleep with the line low. So when listening stops, the helper makes one abort-and-ask round
//!   that returns at once and leaves the driver's lock dropped (the line being low by then).
//! - Some builds of the driver answer `FPC_GET_INTERRUPT` without waiting; the helper then backs
//!   off (1 ms doubling to 50 ms) instead of asking a thousand times a second.
//!
//! The wait runs in a helper thread, so that the worker still sleeps in its one `poll()`: the
//! helper signals an eventfd the worker watches when the ioctl reports a finger. Disarming (a
//! cancel) stops the helper's listening and sends `FPC_ABORT`, so the helper never holds up the
//! worker.

use super::ioc::{INT, ior, iow};
use super::node::{Access, Backend, Node};
use super::{OpenError, device_path, open_error};
use crate::config::Config;
use crate::sys::{EventFd, Interest, Ready, Watch};
use parking_lot::{Condvar, Mutex};
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const DEFAULT_DEVICE: &str = "/dev/fpc1020";
const K: u32 = b'K' as u32;
pub const FPC_HW_RESET: u32 = iow(K, 0, INT);
pub const FPC_GET_INTERRUPT: u32 = ior(K, 1, INT);
pub const FPC_GET_IRQ_GPIO: u32 = ior(K, 2, INT);
pub const FPC_ABORT: u32 = ior(K, 6, INT);
/// How long closing waits for the helper to leave the driver before leaving it behind.
const HELPER_EXIT_WAIT: Duration = Duration::from_secs(2);
/// An empty answer sooner than this did not wait; the helper pauses before asking again, from this
/// long, doubling up to [`MAX_BACKOFF`].
const QUICK: Duration = Duration::from_millis(1);
const MAX_BACKOFF: Duration = Duration::from_millis(50);

#[derive(Default)]
struct HelperState {
    listening: bool,
    stop: bool,
    /// Listening stopped: one abort-and-ask round leaves the driver's wakelock dropped.
    release: bool,
    /// What the last wait found: the line high, or the driver's error.
    found: Option<io::Result<()>>,
}

struct Helper {
    state: Mutex<HelperState>,
    changed: Condvar,
    /// Signalled when `found` is set; the worker watches it.
    wake: EventFd,
}

pub(super) struct BlockingIoctl {
    path: PathBuf,
    node: Arc<dyn Node>,
    helper: Arc<Helper>,
    thread: Option<JoinHandle<()>>,
}

impl BlockingIoctl {
    pub fn open(config: &Config, backend: &dyn Backend) -> Result<Self, OpenError> {
        let path = device_path(config, DEFAULT_DEVICE);
        let shown = path.display().to_string();
        let node = backend.open(&path, Access::ReadWrite).map_err(|e| open_error(e, &shown, "open"))?;
        if config.sensor.reset_on_open {
            node.ioctl_value(FPC_HW_RESET, 0).map_err(|e| open_error(e, &shown, "reset"))?;
        }
        let wake = EventFd::new().map_err(|e| OpenError::Failed(format!("eventfd: {e}")))?;
        let helper = Arc::new(Helper { state: Mutex::new(HelperState::default()), changed: Condvar::new(), wake });
        let (h, n) = (Arc::clone(&helper), Arc::clone(&node));
        let thread = std::thread::Builder::new()
            .name("fphal-irq-wait".into())
            .spawn(move || wait_loop(&h, &*n))
            .map_err(|e| OpenError::Failed(format!("cannot start the interrupt thread: {e}")))?;
        Ok(BlockingIoctl { path, node, helper, thread: Some(thread) })
    }

    fn abort(&self) -> io::Result<()> {
        let mut unused = [0u8; INT as usize];
        self.node.ioctl_buffer(FPC_ABORT, &mut unused).map(|_| ())
    }
}

/// The helper thread: while the worker listens, waits in `FPC_GET_INTERRUPT` and reports a finger.
fn wait_loop(helper: &Helper, node: &dyn Node) {
    let mut backoff = QUICK;
    let mut warned = false;
    loop {
        {
            let mut s = helper.state.lock();
            while !s.listening && !s.stop && !s.release {
                helper.changed.wait(&mut s);
            }
            if s.stop {
                return;
            }
            if !s.listening && std::mem::take(&mut s.release) {
                drop(s);
                // The abort first, so that the ask returns at once whatever the line does.
                let mut arg = [0u8; INT as usize];
                let _ = node.ioctl_buffer(FPC_ABORT, &mut arg);
                let _ = node.ioctl_buffer(FPC_GET_INTERRUPT, &mut arg);
                continue;
            }
        }
        let mut level = [0u8; INT as usize];
        let asked = Instant::now();
        let r = node.ioctl_buffer(FPC_GET_INTERRUPT, &mut level);
        let nothing = match &r {
            Err(e) => e.kind() == io::ErrorKind::Interrupted,
            Ok(_) => i32::from_ne_bytes(level) == 0,
        };
        if nothing && asked.elapsed() < QUICK {
            // An abort answered, or a driver that answers 0 without waiting: never spin on it.
            if backoff < MAX_BACKOFF && backoff * 2 >= MAX_BACKOFF && !warned {
                warned = true;
                log::warn!("the driver answers FPC_GET_INTERRUPT without waiting; asking less often");
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            backoff = QUICK;
        }
        let mut s = helper.state.lock();
        if s.stop {
            return;
        }
        let found = match r {
            // A signal, an abort, or a line that dropped again: nothing to report.
            _ if nothing => continue,
            // An answer that belongs to a listening the worker has since stopped.
            _ if !s.listening => continue,
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        s.listening = false;
        s.found = Some(found);
        drop(s);
        helper.wake.signal();
    }
}

impl super::Driver for BlockingIoctl {
    fn describe(&self) -> String {
        format!("blocking-ioctl sensor at {}", self.path.display())
    }

    fn watch(&self) -> Watch<'_> {
        Watch { fd: self.helper.wake.as_fd(), interest: Interest::Readable }
    }

    fn acknowledge(&mut self, _ready: &Ready) -> io::Result<bool> {
        self.helper.wake.drain();
        match self.helper.state.lock().found.take() {
            Some(Ok(())) => Ok(true),
            Some(Err(e)) => Err(e),
            None => Ok(false),
        }
    }

    fn level(&mut self) -> io::Result<bool> {
        let mut v = [0u8; INT as usize];
        self.node.ioctl_buffer(FPC_GET_IRQ_GPIO, &mut v)?;
        Ok(i32::from_ne_bytes(v) != 0)
    }

    fn power(&mut self, _on: bool) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    fn listen(&mut self, on: bool) -> io::Result<()> {
        {
            let mut s = self.helper.state.lock();
            if s.listening == on {
                return Ok(());
            }
            s.listening = on;
            s.release = !on;
            s.found = None;
        }
        self.helper.changed.notify_all();
        if on { Ok(()) } else { self.abort() }
    }

    fn node(&self) -> Option<Arc<dyn Node>> {
        Some(Arc::clone(&self.node))
    }
}

impl Drop for BlockingIoctl {
    fn drop(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        self.helper.state.lock().stop = true;
        self.helper.changed.notify_all();
        // The abort flag is sticky, but a driver that lost it must not hang the host's close:
        // abort again until the helper is out, then leave it behind.
        let deadline = Instant::now() + HELPER_EXIT_WAIT;
        while !thread.is_finished() && Instant::now() < deadline {
            let _ = self.abort();
            std::thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            log::error!("{}: the interrupt thread is still in the driver; left behind", self.path.display());
        }
    }
}
