//! Sony's `fpc1145` misc device `/dev/fingerprint` (also Egistec `et51x` on Nile). Facts from
//! `sony-sdm845/android_kernel_sony_sdm845` `drivers/input/misc/fpc1145_platform.c` (2d8227cf):
//!
//! - The ioctls are local to that file, with `FPC_IOC_MAGIC 0x1145` (see [`super::ioc`] on why
//!   the numbers keep the magic's high bits).
//! - `FPC_IOCWPREPARE` takes the power state by value (`device_prepare(fpc1145, !!arg)`);
//!   `FPC_IOCWRESET` pulses the reset line; `FPC_IOCRIRQ` writes the interrupt GPIO's level through
//!   an `int *`; `FPC_IOCRHWTYPE` (Nile builds only) writes 0 for Egistec, 1 for FPC.
//! - `FPC_IOCWAWAKE` is declared with `int` but copies `struct { int awake; unsigned timeout; }`
//!   (8 bytes): `awake != 0` is `pm_wakeup_event(min(timeout, 400 ms))`, 0 is `pm_relax`. A failed
//!   copy returns the positive count of bytes not copied, so any non-zero result is a failure.
//! - The `poll` fop reports `POLLIN | POLLRDNORM` while the line is high (a finger is on: the
//!   interrupt is `IRQF_TRIGGER_HIGH`, level-triggered) and re-arms the interrupt itself; there is
//!   no `read` fop, so frames, if any, come from another node.

use super::ioc::{INT, ior, iow};
use super::node::{Access, Backend, Node};
use super::{OpenError, device_path, open_error};
use crate::config::Config;
use crate::sys::{Interest, Ready, Watch};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

pub const DEFAULT_DEVICE: &str = "/dev/fingerprint";
pub const FPC_IOC_MAGIC: u32 = 0x1145;
pub const FPC_IOCWPREPARE: u32 = iow(FPC_IOC_MAGIC, 0x01, INT);
pub const FPC_IOCWRESET: u32 = iow(FPC_IOC_MAGIC, 0x03, INT);
pub const FPC_IOCWAWAKE: u32 = iow(FPC_IOC_MAGIC, 0x04, INT);
pub const FPC_IOCRIRQ: u32 = ior(FPC_IOC_MAGIC, 0x83, INT);
pub const FPC_IOCRHWTYPE: u32 = ior(FPC_IOC_MAGIC, 0x85, INT);
/// The driver's cap on one wakelock hold (`FPC_MAX_HAL_PROCESSING_TIME`).
pub const MAX_AWAKE_MS: u32 = 400;

pub(super) struct MiscIoctl {
    path: PathBuf,
    node: Arc<dyn Node>,
}

impl MiscIoctl {
    pub fn open(config: &Config, backend: &dyn Backend) -> Result<Self, OpenError> {
        let path = device_path(config, DEFAULT_DEVICE);
        let shown = path.display().to_string();
        let node = backend.open(&path, Access::ReadWrite).map_err(|e| open_error(e, &shown, "open"))?;
        let device = MiscIoctl { path, node };
        match device.read_int(FPC_IOCRHWTYPE) {
            Ok(0) => log::info!("{shown}: the driver reports an Egistec sensor"),
            Ok(1) => log::info!("{shown}: the driver reports an FPC sensor"),
            Ok(other) => log::info!("{shown}: the driver reports hardware type {other}"),
            // Only Nile builds answer it.
            Err(e) => log::debug!("{shown}: no hardware type ({e})"),
        }
        if config.sensor.reset_on_open {
            device.node.ioctl_value(FPC_IOCWRESET, 0).map_err(|e| open_error(e, &shown, "reset"))?;
        }
        Ok(device)
    }

    fn read_int(&self, request: u32) -> io::Result<i32> {
        let mut v = [0u8; INT as usize];
        self.node.ioctl_buffer(request, &mut v)?;
        Ok(i32::from_ne_bytes(v))
    }
}

impl super::Driver for MiscIoctl {
    fn describe(&self) -> String {
        format!("misc-ioctl sensor at {}", self.path.display())
    }

    fn watch(&self) -> Watch<'_> {
        Watch { fd: self.node.fd(), interest: Interest::Readable }
    }

    fn acknowledge(&mut self, _ready: &Ready) -> io::Result<bool> {
        // The poll fop re-armed the interrupt; the level says whether a finger stays.
        self.level()
    }

    fn level(&mut self) -> io::Result<bool> {
        Ok(self.read_int(FPC_IOCRIRQ)? != 0)
    }

    fn power(&mut self, on: bool) -> io::Result<()> {
        self.node.ioctl_value(FPC_IOCWPREPARE, on as u64).map(|_| ())
    }

    fn hold_awake(&mut self, ms: Option<u32>) -> io::Result<()> {
        let (awake, timeout) = match ms {
            Some(ms) => (1i32, ms.min(MAX_AWAKE_MS)),
            None => (0, 0),
        };
        let mut arg = [0u8; 8];
        arg[..4].copy_from_slice(&awake.to_ne_bytes());
        arg[4..].copy_from_slice(&timeout.to_ne_bytes());
        match self.node.ioctl_buffer(FPC_IOCWAWAKE, &mut arg)? {
            0 => Ok(()),
            n => Err(io::Error::other(format!("FPC_IOCWAWAKE copied {n} bytes short"))),
        }
    }

    fn node(&self) -> Option<Arc<dyn Node>> {
        Some(Arc::clone(&self.node))
    }
}
