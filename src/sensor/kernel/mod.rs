//! Sensors behind a kernel driver. What differs between drivers (which node wakes the worker, how
//! the interrupt is acknowledged, how power and reset are driven) is a [`Driver`]; one
//! [`KernelSensor`] drives them all the same way: it watches the interrupt only while an operation
//! waits for a finger, checks the line's level after every wake (a wake with the line low is
//! spurious), stops listening while a finger stays on the sensor and checks on a timer for its
//! lift, holds a wakelock from the interrupt to the result, reads the frame where the driver hands
//! images to the normal world, and opens the driver again after a failure.
//!
//! Frame bytes carry nothing that tells touches apart, and a frame read for a later touch may show
//! another person's finger. So for a second after a frame was given up (late, or its operation
//! over first) no touch is taken, as that frame may still come; and where frames come from a node
//! of their own (`sensor.frame_device`), a frame that comes with no finger on the sensor while an
//! operation waits, or while a finger stays, is thrown away. (Not on a driver's own device node,
//! read only for a touch's frame: the OnePlus 2 driver starts a capture on a `read()`.)
//!
//! The kinds (`sensor.kind`):
//! - [`FPC1020_SYSFS`]: the FPC reference driver's sysfs attributes ([`fpc1020_sysfs`]);
//! - [`MISC_IOCTL`]: Sony's `/dev/fingerprint` misc device ([`misc_ioctl`]);
//! - [`BLOCKING_IOCTL`]: the OnePlus 2 `/dev/fpc1020` with a blocking interrupt ioctl
//!   ([`blocking_ioctl`]).

mod blocking_ioctl;
#[doc(hidden)]
pub mod double;
mod fpc1020_sysfs;
mod frame;
pub mod ioc;
mod misc_ioctl;
pub mod node;
#[cfg(test)]
mod tests;

use super::{OpenError, Sensor, SensorEvent, SensorFault};
use crate::config::Config;
use crate::sys::{Ready, Watch};
use node::{Backend, Node};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The device nodes the ioctl kinds open when `sensor.device` names none.
pub use blocking_ioctl::DEFAULT_DEVICE as BLOCKING_IOCTL_DEVICE;
pub use misc_ioctl::DEFAULT_DEVICE as MISC_IOCTL_DEVICE;

pub const FPC1020_SYSFS: &str = "fpc1020-sysfs";
pub const MISC_IOCTL: &str = "misc-ioctl";
pub const BLOCKING_IOCTL: &str = "blocking-ioctl";

/// How long after a frame was given up no touch is taken, as that frame may still come.
const LATE_FRAME_GRACE: Duration = Duration::from_secs(1);
/// While a finger stays on the sensor, its lift is checked this often (the interrupt is not watched
/// then: a level-triggered driver would wake the worker without pause).
const HELD_CHECK: Duration = Duration::from_millis(30);
/// `/sys/power/wake_lock` and `wake_unlock` (Android's `CONFIG_PM_WAKELOCKS`): a write of
/// `"<name> <timeout ns>"` takes a lock that the kernel drops by itself after the timeout.
pub const WAKE_LOCK: &str = "/sys/power/wake_lock";
pub const WAKE_UNLOCK: &str = "/sys/power/wake_unlock";
/// The wakelock's name, as `dumpsys suspend_control` and `/d/wakeup_sources` show it.
pub const WAKELOCK_NAME: &str = "fphal";

/// What differs between kernel drivers.
trait Driver: Send {
    /// The kind and the node, for the log.
    fn describe(&self) -> String;
    /// The descriptor a finger makes ready, while the driver listens.
    fn watch(&self) -> Watch<'_>;
    /// After `poll()` found the watched descriptor ready: acknowledges the interrupt and tells
    /// whether the line is high (a finger is on the sensor).
    fn acknowledge(&mut self, ready: &Ready) -> io::Result<bool>;
    /// The line's level, without waiting.
    fn level(&mut self) -> io::Result<bool>;
    /// Sensor power on or off; `Unsupported` when the driver has no such control.
    fn power(&mut self, on: bool) -> io::Result<()>;
    /// Starts or stops listening for a finger (only a driver that waits in a thread needs it).
    fn listen(&mut self, _on: bool) -> io::Result<()> {
        Ok(())
    }
    /// Takes (`Some(ms)`) or drops (`None`) the driver's own wakelock.
    fn hold_awake(&mut self, _ms: Option<u32>) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
    /// The device node, for frames read from the same node.
    fn node(&self) -> Option<Arc<dyn Node>>;
}

/// The wakelock held from an interrupt to the touch's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WakeLock {
    None,
    /// `/sys/power/wake_lock`, with `sensor.wakelock_ms` as the kernel's own timeout.
    Sysfs,
    /// The driver's ioctl (Sony), or the driver's own lock on each interrupt (fpc1020's
    /// `wakeup_enable`).
    Driver,
}

/// The configuration of a kernel sensor, checked.
struct Settings {
    kind: String,
    power_per_operation: bool,
    wakelock: WakeLock,
    wakelock_ms: u32,
    frame: Option<frame::FrameSpec>,
}

/// A sensor behind a kernel driver.
pub struct KernelSensor {
    settings: Settings,
    config: Config,
    backend: Arc<dyn Backend>,
    /// `None` after a failure: the next arming opens the driver again.
    driver: Option<Box<dyn Driver>>,
    /// Where frames come from, when the driver hands images to the normal world.
    frames: Option<Arc<dyn Node>>,
    armed: bool,
    /// Since when a finger stays on the sensor, and when to check it next.
    held: Option<(Instant, Instant)>,
    /// The frame of the current touch, while it arrives.
    pending: Option<frame::PendingFrame>,
    /// Until when a frame given up (late, short, or its operation over first) may still come: a
    /// touch that starts before then is not taken ("try again").
    given_up_until: Option<Instant>,
    /// Whether a frame node of its own is watched while the sensor waits for a finger, so that a
    /// frame that comes with no touch (late, or of a tap too quick to be seen) is thrown away as
    /// it comes; off until the next arming after a wake with nothing to read.
    idle_watch: bool,
    awake: bool,
}

/// Opens the kernel sensor `config.sensor.kind` names, through `backend`.
pub fn open(config: &Config, backend: Arc<dyn Backend>) -> Result<Box<dyn Sensor>, OpenError> {
    let settings = settings(config)?;
    let (driver, frames) = open_driver(config, &settings, &backend)?;
    let sensor = KernelSensor {
        settings,
        config: config.clone(),
        backend,
        driver: Some(driver),
        frames,
        armed: false,
        held: None,
        pending: None,
        given_up_until: None,
        idle_watch: true,
        awake: false,
    };
    Ok(Box::new(sensor))
}

fn settings(config: &Config) -> Result<Settings, OpenError> {
    let s = &config.sensor;
    let wakelock = match (s.wakelock.as_str(), s.kind.as_str()) {
        ("none", _) => WakeLock::None,
        ("sysfs", _) => WakeLock::Sysfs,
        ("driver", _) => WakeLock::Driver,
        ("auto", _) if !cfg!(target_os = "android") => WakeLock::None,
        ("auto", MISC_IOCTL) => WakeLock::Driver,
        ("auto", _) => WakeLock::Sysfs,
        (other, _) => return Err(OpenError::Invalid(format!("sensor.wakelock: {other:?} is not a wakelock"))),
    };
    let frame = frame::FrameSpec::from_config(config).map_err(OpenError::Invalid)?;
    Ok(Settings {
        kind: s.kind.clone(),
        power_per_operation: s.power == "operation",
        wakelock,
        wakelock_ms: s.wakelock_ms,
        frame,
    })
}

/// An open driver, and the node its frames come from (if it hands any over).
type Opened = (Box<dyn Driver>, Option<Arc<dyn Node>>);

/// Opens the driver and the frame node, resets the sensor if configured, and powers it unless
/// power follows operations.
fn open_driver(config: &Config, settings: &Settings, backend: &Arc<dyn Backend>) -> Result<Opened, OpenError> {
    let mut driver: Box<dyn Driver> = match config.sensor.kind.as_str() {
        FPC1020_SYSFS => Box::new(fpc1020_sysfs::Fpc1020Sysfs::open(config, settings.wakelock, Arc::clone(backend))?),
        MISC_IOCTL => Box::new(misc_ioctl::MiscIoctl::open(config, &**backend)?),
        BLOCKING_IOCTL => Box::new(blocking_ioctl::BlockingIoctl::open(config, &**backend)?),
        other => return Err(OpenError::Invalid(format!("sensor.kind: {other:?} is not a sensor kind of this build"))),
    };
    if !settings.power_per_operation {
        match driver.power(true) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
            Err(e) => return Err(open_error(e, &driver.describe(), "power on")),
        }
    }
    let frames = match &settings.frame {
        None => None,
        Some(spec) => match &spec.device {
            Some(path) => Some(
                backend
                    .open(path, node::Access::Read)
                    .map_err(|e| open_error(e, &path.display().to_string(), "open"))?,
            ),
            None => driver.node(),
        },
    };
    Ok((driver, frames))
}

/// An error of the system on `what` at `path` as the `open` result it becomes.
fn open_error(e: io::Error, path: &str, what: &str) -> OpenError {
    let text = format!("{what} {path}: {e}");
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENODEV) | Some(libc::ENXIO) => OpenError::Missing(text),
        Some(libc::EACCES) | Some(libc::EPERM) => {
            OpenError::Denied(format!("{text} (check the node's owner and mode, and its SELinux label)"))
        }
        Some(libc::ENOTTY) | Some(libc::EINVAL) => OpenError::Invalid(format!(
            "sensor.kind: {text}: the driver does not know this kind's requests (the node belongs to another \
             kind of driver)"
        )),
        _ => OpenError::Failed(text),
    }
}

/// An optional step that the driver may not support: fine when unsupported.
fn optional(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(()),
        other => other,
    }
}

impl KernelSensor {
    fn fault(&mut self, what: &str, e: io::Error) -> SensorFault {
        let name = self.driver.as_ref().map_or_else(|| self.settings.kind.clone(), |d| d.describe());
        self.release_wakelock();
        // Disarmed and closed: the next arming opens the driver again.
        self.armed = false;
        self.driver = None;
        self.frames = None;
        self.held = None;
        self.give_up_frame();
        SensorFault(format!("{name}: {what}: {e}"))
    }

    fn reopen(&mut self) -> Result<(), SensorFault> {
        let (driver, frames) = open_driver(&self.config, &self.settings, &self.backend)
            .map_err(|e| SensorFault(format!("{}: cannot open the driver again: {e}", self.settings.kind)))?;
        log::info!("{} open again", driver.describe());
        self.driver = Some(driver);
        self.frames = frames;
        Ok(())
    }

    fn take_wakelock(&mut self) {
        if self.awake {
            return;
        }
        let ms = self.settings.wakelock_ms;
        let r = match self.settings.wakelock {
            WakeLock::None => return,
            WakeLock::Sysfs => {
                let line = format!("{WAKELOCK_NAME} {}", u64::from(ms) * 1_000_000);
                self.backend.write(Path::new(WAKE_LOCK), line.as_bytes())
            }
            WakeLock::Driver => match self.driver.as_mut() {
                Some(d) => optional(d.hold_awake(Some(ms))),
                None => return,
            },
        };
        match r {
            Ok(()) => self.awake = true,
            // The touch goes on without: a suspend during it costs only that touch.
            Err(e) => log::warn!("cannot take the wakelock: {e}"),
        }
    }

    fn release_wakelock(&mut self) {
        if !std::mem::take(&mut self.awake) {
            return;
        }
        let r = match self.settings.wakelock {
            WakeLock::None => Ok(()),
            WakeLock::Sysfs => self.backend.write(Path::new(WAKE_UNLOCK), WAKELOCK_NAME.as_bytes()),
            WakeLock::Driver => self.driver.as_mut().map_or(Ok(()), |d| optional(d.hold_awake(None))),
        };
        if let Err(e) = r {
            log::warn!("cannot release the wakelock (the kernel drops it after {} ms): {e}", self.settings.wakelock_ms);
        }
    }

    /// A finger is on the sensor: the frame, or word to the trustlet that captures it.
    fn finger(&mut self) -> Result<Option<SensorEvent>, SensorFault> {
        self.take_wakelock();
        let now = Instant::now();
        self.held = Some((now, now + HELD_CHECK));
        if let Some(d) = self.driver.as_mut() {
            if let Err(e) = d.listen(false) {
                return Err(self.fault("stop listening", e));
            }
        }
        let Some(spec) = &self.settings.frame else { return Ok(Some(SensorEvent::FingerDetected)) };
        if self.given_up_until.is_some_and(|until| Instant::now() < until) {
            // The node may hold, or soon get, the given-up frame rather than this touch's.
            log::warn!("touch not taken: a frame given up within {} ms may still come", LATE_FRAME_GRACE.as_millis());
            self.release_wakelock();
            return Ok(Some(SensorEvent::TouchLost));
        }
        self.pending = Some(frame::PendingFrame::new(spec));
        self.pull_frame(false)
    }

    /// Takes what the frame node has; the image once the frame is whole. `node_woke`: the node was
    /// found readable, so getting nothing may mean it is readable with nothing to read.
    fn pull_frame(&mut self, node_woke: bool) -> Result<Option<SensorEvent>, SensorFault> {
        let (Some(spec), Some(node), Some(pending)) = (&self.settings.frame, &self.frames, self.pending.as_mut())
        else {
            return Ok(None);
        };
        let missing = pending.missing();
        match pending.pull(&**node, spec) {
            Ok(None) => {
                if node_woke && pending.missing() == missing && pending.woke_with_nothing() {
                    log::warn!(
                        "the frame node is readable with nothing to read: looked at every {} ms until the frame comes",
                        frame::NODE_REST.as_millis()
                    );
                }
                Ok(None)
            }
            Ok(Some(image)) => {
                self.pending = None;
                if let Some((since, _)) = self.held {
                    self.held = Some((since, Instant::now() + HELD_CHECK));
                }
                Ok(Some(SensorEvent::FingerDown { image, contact_ms: 0 }))
            }
            Err(frame::FrameError::Gone(e)) => Err(self.fault("read a frame", e)),
            Err(frame::FrameError::Bad(why)) => {
                self.drop_touch(&why);
                Ok(Some(SensorEvent::TouchLost))
            }
        }
    }

    /// A frame that is late, short or malformed loses this touch, not the sensor.
    fn drop_touch(&mut self, why: &str) {
        log::warn!("frame dropped: {why}");
        self.give_up_frame();
        self.release_wakelock();
    }

    /// Ends the wait for the current touch's frame (lost, or its operation over). If the frame had
    /// not come whole, touches that start within [`LATE_FRAME_GRACE`] are not taken, as the rest
    /// may still come. What the node holds is thrown away: all of it on a node of its own; on a
    /// driver's own node only the rest of a frame it is handing over (a read there once the driver
    /// is idle may start a capture).
    fn give_up_frame(&mut self) {
        let pending = self.pending.take();
        if pending.as_ref().is_some_and(|p| p.missing() > 0) {
            self.given_up_until = Some(Instant::now() + LATE_FRAME_GRACE);
        }
        if self.own_frame_node() {
            self.discard_frames();
        } else if let Some(rest) = pending.map(|p| p.in_transit()).filter(|rest| *rest > 0) {
            self.read_away(rest);
        }
    }

    /// Throws away what a frame node of its own holds (nothing elsewhere: a driver's own node may
    /// start a capture on a read). Returns how many bytes that was.
    fn discard_frames(&self) -> usize {
        if self.own_frame_node() { self.read_away(usize::MAX) } else { 0 }
    }

    /// Reads and throws away at most `limit` bytes of what the frame node holds. Returns how many
    /// bytes that was.
    fn read_away(&self, limit: usize) -> usize {
        let (Some(spec), Some(node)) = (&self.settings.frame, &self.frames) else { return 0 };
        let mut sink = vec![0u8; spec.bytes().min(64 * 1024)];
        let mut total = 0;
        // Bounded: a node that never runs dry (a broken driver) cannot hold the worker.
        for _ in 0..64 {
            let want = sink.len().min(limit - total);
            if want == 0 {
                break;
            }
            match node.read(&mut sink[..want]) {
                Ok(n) if n > 0 => total += n,
                _ => break,
            }
        }
        total
    }

    /// Whether frames come from a node of their own (`sensor.frame_device`), which may be read
    /// at any time to throw a frame away.
    fn own_frame_node(&self) -> bool {
        self.settings.frame.as_ref().is_some_and(|f| f.device.is_some())
    }

    /// A frame node of its own, while the sensor waits for a finger: a frame that comes then
    /// belongs to no touch seen yet.
    fn idle_frame_watch(&self) -> Option<Watch<'_>> {
        let (Some(d), Some(node)) = (&self.driver, &self.frames) else { return None };
        let fd = node.fd();
        (self.idle_watch && self.own_frame_node() && fd.as_raw_fd() != d.watch().fd.as_raw_fd())
            .then_some(Watch { fd, interest: crate::sys::Interest::Readable })
    }

    /// A frame came while the sensor waited for a finger. With the line high it is the frame of a
    /// touch whose interrupt has not been seen yet (a driver may notify after it captures): the
    /// touch starts now. With the line low no finger is there: the frame is thrown away.
    fn frame_without_interrupt(&mut self) -> Result<Option<SensorEvent>, SensorFault> {
        let Some(d) = self.driver.as_mut() else { return Ok(None) };
        match d.level() {
            Ok(true) => self.finger(),
            Ok(false) => {
                let stale = self.discard_frames();
                if stale == 0 {
                    // Readable with nothing to read: a node whose poll says so cannot be watched
                    // without waking the worker over and over.
                    log::warn!(
                        "the frame node woke the worker with nothing to read: not watched until the next operation"
                    );
                    self.idle_watch = false;
                } else {
                    log::warn!("{stale} bytes of a frame with no finger on the sensor are thrown away");
                }
                Ok(None)
            }
            Err(e) => Err(self.fault("read the line level", e)),
        }
    }
}

impl Sensor for KernelSensor {
    fn watches(&self) -> Vec<Watch<'_>> {
        match (&self.driver, &self.frames) {
            (Some(_), Some(node)) if self.pending.is_some() => {
                if self.pending.as_ref().is_some_and(|p| p.resting()) {
                    return Vec::new();
                }
                vec![Watch { fd: node.fd(), interest: crate::sys::Interest::Readable }]
            }
            (Some(d), _) if self.armed && self.held.is_none() => {
                std::iter::once(d.watch()).chain(self.idle_frame_watch()).collect()
            }
            _ => Vec::new(),
        }
    }

    fn due_in(&self) -> Option<Duration> {
        let now = Instant::now();
        // While a frame arrives only its deadline (or the end of the node's rest) counts: the lift
        // is checked once it is in.
        if let Some(p) = &self.pending {
            return Some(p.next_look().saturating_duration_since(now));
        }
        self.held.map(|(_, next)| next.saturating_duration_since(now))
    }

    fn arm(&mut self, armed: bool) -> Result<(), SensorFault> {
        if armed == self.armed {
            return Ok(());
        }
        if armed && self.driver.is_none() {
            self.reopen()?;
        }
        self.armed = armed;
        if armed {
            // What the node holds is kept: it may be the frame of a finger that woke the phone
            // and stays (with no finger on the sensor, the watch throws it away).
            self.idle_watch = true;
        }
        let per_operation = self.settings.power_per_operation;
        let Some(d) = self.driver.as_mut() else { return Ok(()) };
        let r = if armed {
            (if per_operation { optional(d.power(true)) } else { Ok(()) }).and_then(|()| d.listen(true))
        } else {
            d.listen(false).and_then(|()| if per_operation { optional(d.power(false)) } else { Ok(()) })
        };
        if !armed {
            self.held = None;
            self.give_up_frame();
            self.release_wakelock();
        }
        r.map_err(|e| self.fault(if armed { "arm" } else { "disarm" }, e))
    }

    fn service(&mut self, ready: &Ready, armed: bool) -> Result<Option<SensorEvent>, SensorFault> {
        if self.pending.is_some() {
            if ready.hangup && !ready.readable {
                return Err(self.fault("read a frame", io::Error::from_raw_os_error(libc::ENODEV)));
            }
            return self.pull_frame(true);
        }
        if self.idle_frame_watch().is_some_and(|w| w.fd.as_raw_fd() == ready.fd) {
            // The frame node, watched while waiting for a finger. A touch that started in the same
            // wake (its interrupt first) has its frame already, is still reading it (above), or is
            // not taken.
            if !self.armed || self.held.is_some() {
                return Ok(None);
            }
            return self.frame_without_interrupt();
        }
        let Some(d) = self.driver.as_mut() else { return Ok(None) };
        // A node that hangs up, or errs without the urgent data a sysfs notification carries, has
        // lost its driver (unbound, or the device is gone).
        if ready.hangup || (ready.error && !ready.urgent) {
            return Err(self.fault("poll", io::Error::from_raw_os_error(libc::ENODEV)));
        }
        let high = match d.acknowledge(ready) {
            Ok(high) => high,
            Err(e) => return Err(self.fault("acknowledge the interrupt", e)),
        };
        if !high || !armed || self.held.is_some() {
            log::trace!("interrupt with no finger to take (line {})", if high { "high" } else { "low" });
            return Ok(None);
        }
        self.finger()
    }

    fn settled(&mut self) -> Result<Option<SensorEvent>, SensorFault> {
        if let Some(p) = &mut self.pending {
            p.round_over();
            if Instant::now() < p.deadline {
                return Ok(None);
            }
            // The node is read once more first: the frame may have come while it rested.
            if let Some(event) = self.pull_frame(false)? {
                return Ok(Some(event));
            }
            if let Some(p) = &self.pending {
                let why = p.late();
                self.drop_touch(&why);
            }
            return Ok(Some(SensorEvent::TouchLost));
        }
        let Some((since, next)) = self.held else { return Ok(None) };
        if Instant::now() < next {
            return Ok(None);
        }
        let Some(d) = self.driver.as_mut() else { return Ok(None) };
        match d.level() {
            Ok(true) => {
                self.held = Some((since, Instant::now() + HELD_CHECK));
                Ok(None)
            }
            Ok(false) => {
                self.held = None;
                // Frames that came while the finger stayed (a driver that captures again when the
                // finger moves, or a late frame) are no later touch's.
                let stale = self.discard_frames();
                if stale > 0 {
                    log::warn!("{stale} bytes of frames that came while the finger stayed are thrown away");
                }
                if self.armed {
                    let Some(d) = self.driver.as_mut() else { return Ok(None) };
                    if let Err(e) = d.listen(true) {
                        return Err(self.fault("listen", e));
                    }
                }
                Ok(Some(SensorEvent::FingerUp { held_ms: since.elapsed().as_millis().min(u32::MAX as u128) as u32 }))
            }
            Err(e) => Err(self.fault("read the line level", e)),
        }
    }

    fn touch_done(&mut self) {
        self.release_wakelock();
    }

    fn endpoint(&self) -> Option<&Path> {
        None
    }

    fn describe(&self) -> String {
        let driver = self.driver.as_ref().map_or_else(|| self.settings.kind.clone(), |d| d.describe());
        match &self.settings.frame {
            Some(f) => format!("{driver}; frames of {}x{} at {} dpi", f.width, f.height, f.dpi),
            None => format!("{driver}; the trustlet captures"),
        }
    }
}

impl Drop for KernelSensor {
    fn drop(&mut self) {
        self.release_wakelock();
        if let Some(d) = self.driver.as_mut() {
            let _ = d.listen(false);
            if self.settings.power_per_operation && self.armed {
                let _ = optional(d.power(false));
            }
        }
    }
}

/// The device node of a kind, configured or its default.
fn device_path(config: &Config, default: &str) -> PathBuf {
    config.sensor.device.clone().unwrap_or_else(|| PathBuf::from(default))
}
