//! The FPC reference `fpc1020` driver's sysfs interface, for sensors whose images only the TEE
//! reads (Xiaomi, Motorola, many Qualcomm phones). Facts from
//! `LineageOS/android_kernel_xiaomi_sdm660` `drivers/input/fingerprint/fpc/fpc1020_platform_tee.c`
//! (10235c53) and `MotorolaMobilityLLC/kernel-msm` `drivers/input/misc/fpc1020_tee.c` (bd65bf65):
//!
//! - `irq` (0600 or 0440) reads as the interrupt GPIO's level, `"%i\n"`: `"1\n"` while a finger is
//!   on. The handler (`IRQF_TRIGGER_RISING | IRQF_ONESHOT`) calls `sysfs_notify(.., "irq")`, which
//!   makes a `poll()` on an open `irq` file return `POLLPRI | POLLERR` until the file is read again
//!   from offset 0 (`fs/kernfs/file.c`, `kernfs_fop_poll`).
//! - `hw_reset` (0200) takes `"reset"`; `device_prepare` (`spi_prepare` in older variants) takes
//!   `"enable"` / `"disable"`; `wakeup_enable` takes `"enable"` / `"disable"` and makes each
//!   interrupt hold a wakelock in the kernel. Other strings are `-EINVAL`. Not every variant has
//!   every attribute (Motorola's has none of them): those missing are skipped.
//! - The platform device's name comes from the device tree (`soc:fp_fpc1020`, `soc:fpc1020`, ...),
//!   so the directory is found under `/sys/bus/platform/devices` by a name fragment.

use super::node::{Access, Backend, Node};
use super::{OpenError, WakeLock, open_error};
use crate::config::Config;
use crate::sys::{Interest, Ready, Watch};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where platform devices appear.
pub const PLATFORM_DEVICES: &str = "/sys/bus/platform/devices";

pub(super) struct Fpc1020Sysfs {
    dir: PathBuf,
    irq: Arc<dyn Node>,
    backend: Arc<dyn Backend>,
    /// `device_prepare` or `spi_prepare`, whichever the driver has.
    prepare: Option<PathBuf>,
}

impl Fpc1020Sysfs {
    pub fn open(config: &Config, wakelock: WakeLock, backend: Arc<dyn Backend>) -> Result<Self, OpenError> {
        let dir = match &config.sensor.device {
            Some(dir) => dir.clone(),
            None => find(&config.sensor.device_name, &*backend)?,
        };
        let irq_path = dir.join("irq");
        let irq = backend
            .open(&irq_path, Access::Read)
            .map_err(|e| open_error(e, &irq_path.display().to_string(), "open"))?;
        let prepare = ["device_prepare", "spi_prepare"].iter().map(|n| dir.join(n)).find(|p| backend.exists(p));
        if prepare.is_none() && config.sensor.power == "operation" {
            return Err(OpenError::Invalid(format!(
                "sensor.power: \"operation\" needs {0}/device_prepare or {0}/spi_prepare, which this driver lacks",
                dir.display()
            )));
        }
        let write = |name: &str, value: &str| -> Result<(), OpenError> {
            let path = dir.join(name);
            backend
                .write(&path, value.as_bytes())
                .map_err(|e| open_error(e, &path.display().to_string(), &format!("write {value:?} to")))
        };
        if config.sensor.reset_on_open && backend.exists(&dir.join("hw_reset")) {
            write("hw_reset", "reset")?;
        }
        if wakelock == WakeLock::Driver {
            if !backend.exists(&dir.join("wakeup_enable")) {
                return Err(OpenError::Invalid(format!(
                    "sensor.wakelock: \"driver\" needs {}/wakeup_enable, which this driver lacks",
                    dir.display()
                )));
            }
            write("wakeup_enable", "enable")?;
        }
        let sensor = Fpc1020Sysfs { dir, irq, backend, prepare };
        // The first read sets the baseline the next notification is measured against.
        sensor.read_level().map_err(|e| open_error(e, &irq_path.display().to_string(), "read"))?;
        Ok(sensor)
    }

    fn read_level(&self) -> io::Result<bool> {
        let mut buf = [0u8; 16];
        let n = self.irq.read_at(&mut buf, 0)?;
        match std::str::from_utf8(&buf[..n]).map(str::trim) {
            Ok("1") => Ok(true),
            Ok("0") => Ok(false),
            _ => Err(io::Error::new(io::ErrorKind::InvalidData, format!("irq reads {:?}, not 0 or 1", &buf[..n]))),
        }
    }
}

/// The one platform device whose name contains `fragment` and that has an `irq` attribute.
fn find(fragment: &str, backend: &dyn Backend) -> Result<PathBuf, OpenError> {
    let root = Path::new(PLATFORM_DEVICES);
    let names = backend.list(root).map_err(|e| open_error(e, PLATFORM_DEVICES, "list"))?;
    let found: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.contains(fragment))
        .map(|n| root.join(n))
        .filter(|d| backend.exists(&d.join("irq")))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(OpenError::Missing(format!(
            "no device under {PLATFORM_DEVICES} whose name contains {fragment:?} has an irq attribute \
             (set sensor.device to the driver's sysfs directory, or sensor.device_name)"
        ))),
        many => Err(OpenError::Invalid(format!(
            "sensor.device: several devices match {fragment:?} ({}); name one",
            many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

impl super::Driver for Fpc1020Sysfs {
    fn describe(&self) -> String {
        format!("fpc1020 sysfs sensor at {}", self.dir.display())
    }

    fn watch(&self) -> Watch<'_> {
        Watch { fd: self.irq.fd(), interest: Interest::Urgent }
    }

    fn acknowledge(&mut self, _ready: &Ready) -> io::Result<bool> {
        self.read_level()
    }

    fn level(&mut self) -> io::Result<bool> {
        self.read_level()
    }

    fn power(&mut self, on: bool) -> io::Result<()> {
        let Some(path) = &self.prepare else { return Err(io::ErrorKind::Unsupported.into()) };
        self.backend.write(path, if on { b"enable" } else { b"disable" })
    }

    fn node(&self) -> Option<Arc<dyn Node>> {
        None
    }
}
