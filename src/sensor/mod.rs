//! The sensor the worker waits on, behind the [`Sensor`] trait, made from the configuration by
//! [`open`]: the virtual sensor (a Unix socket that takes images, [`virtual_sensor`]) or a kernel
//! driver's nodes ([`kernel`]: the FPC `fpc1020` sysfs driver, Sony's `/dev/fingerprint` misc
//! device, the OnePlus 2 `/dev/fpc1020` blocking-ioctl device). A sensor knows nothing of
//! templates or tokens.

pub mod client;
pub mod kernel;
pub mod protocol;
mod socket;
mod virtual_sensor;

pub use virtual_sensor::VirtualSensor;

use crate::config::Config;
use crate::image::GrayImage;
use crate::sys::{Ready, Watch};
use kernel::node::Backend;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What the sensor saw.
#[derive(Debug)]
pub enum SensorEvent {
    /// A finger touched and an image was captured; `contact_ms` is how long the finger had been
    /// down when the image was handed on (0: this sensor does not measure it).
    FingerDown { image: GrayImage, contact_ms: u32 },
    /// A finger touched a sensor whose image only the trustlet can read (a TEE-owned sensor): the
    /// trustlet captures it.
    FingerDetected,
    /// The finger left; `held_ms` is how long it stayed since its image was taken.
    FingerUp { held_ms: u32 },
    /// A finger touched, but its image never arrived whole (late, short or malformed frame): the
    /// touch is lost, and the person should be told to try again.
    TouchLost,
}

/// The sensor's driver failed (it went away, or answered with an error): the running operation
/// ends with `ERROR(HW_UNAVAILABLE)`, and the sensor opens its nodes again when the next one arms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorFault(pub String);

impl std::fmt::Display for SensorFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a sensor could not be opened; each becomes the errno `open` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The driver's node is not there (`-ENODEV`); the message names the path.
    Missing(String),
    /// The node is there but this process may not use it (`-EACCES`: owner, mode or SELinux label).
    Denied(String),
    /// A configuration value does not fit this device (`-EINVAL`); the message names the key.
    Invalid(String),
    /// Anything else the system refused (`-EIO`).
    Failed(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Missing(s) | OpenError::Denied(s) | OpenError::Invalid(s) | OpenError::Failed(s) => {
                f.write_str(s)
            }
        }
    }
}

/// What the worker needs of a sensor, whatever its kind: the descriptors for its one `poll()`, a
/// deadline of the sensor's own, arming, and the events they produce. The worker knows no concrete
/// type.
pub trait Sensor: Send {
    /// The descriptors the worker's `poll()` watches besides its wake eventfd, each with what it
    /// is watched for.
    fn watches(&self) -> Vec<Watch<'_>>;
    /// How long until [`Sensor::settled`] may have something without any descriptor becoming ready.
    fn due_in(&self) -> Option<Duration>;
    /// An operation starts (`true`) or ends (`false`) waiting for a finger: power, finger-detect,
    /// and on a failed sensor, a fresh open of its nodes.
    fn arm(&mut self, armed: bool) -> Result<(), SensorFault>;
    /// Handles what `poll()` found on one of [`Sensor::watches`]. `armed` says whether an operation
    /// waits for a finger.
    fn service(&mut self, ready: &Ready, armed: bool) -> Result<Option<SensorEvent>, SensorFault>;
    /// An event that came due by time alone (see [`Sensor::due_in`]).
    fn settled(&mut self) -> Result<Option<SensorEvent>, SensorFault>;
    /// The touch the last event started has been answered: the wakelock taken for it goes.
    fn touch_done(&mut self);
    /// Where tools hand this sensor images, for kinds that take them from outside.
    fn endpoint(&self) -> Option<&Path>;
    /// One line for the log: the kind and where it is.
    fn describe(&self) -> String;
}

/// The `sensor.kind` values [`open`] knows; the configuration refuses any other.
pub const KINDS: &[&str] = &["virtual", kernel::FPC1020_SYSFS, kernel::MISC_IOCTL, kernel::BLOCKING_IOCTL];

/// The sensor `config` names (`sensor.kind`); `instance` tells apart the devices of one process.
pub fn open(config: &Config, instance: u64) -> Result<Box<dyn Sensor>, OpenError> {
    open_on(config, instance, Arc::new(kernel::node::System))
}

/// [`open`], with the kernel kinds reaching their nodes through `backend` (the system itself, or a
/// test double).
pub fn open_on(config: &Config, instance: u64, backend: Arc<dyn Backend>) -> Result<Box<dyn Sensor>, OpenError> {
    match config.sensor.kind.as_str() {
        "virtual" => {
            let dir = private_runtime_dir(config).map_err(OpenError::Failed)?;
            let path = dir.join(format!("fphal-sensor-{}-{instance}.sock", std::process::id()));
            let settle = Duration::from_millis(config.sensor.min_contact_ms as u64);
            let sensor =
                VirtualSensor::bind(&path, settle).map_err(|e| OpenError::Failed(format!("virtual sensor: {e}")))?;
            // A trustlet in a TEE captures by itself: the images sent to the socket only say "touched".
            if config.trustlet.kind != "soft" {
                return Ok(Box::new(sensor.detect_only()));
            }
            Ok(Box::new(sensor))
        }
        _ => kernel::open(config, backend),
    }
}

/// The virtual sensor's directory: the configured or default runtime directory, private to this
/// user. When the default under /tmp is taken by someone else, a fresh private one beside it.
fn private_runtime_dir(config: &Config) -> Result<PathBuf, String> {
    let dir = config.runtime_dir();
    let refused = match crate::fsutil::ensure_private_dir(&dir, "runtime directory") {
        Ok(()) => return Ok(dir),
        Err(e) => e,
    };
    if config.sensor.runtime_dir.is_some() || !dir.starts_with("/tmp") {
        return Err(refused);
    }
    log::warn!("{refused}; using a fresh private directory instead");
    for _ in 0..8 {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| format!("no OS randomness: {e}"))?;
        let fresh = PathBuf::from(format!("{}-{:016x}", dir.display(), u64::from_le_bytes(nonce)));
        use std::os::unix::fs::DirBuilderExt;
        if std::fs::DirBuilder::new().mode(0o700).create(&fresh).is_ok() {
            crate::fsutil::check_private_dir(&fresh, "runtime directory")?;
            return Ok(fresh);
        }
    }
    Err(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_kind_makes_the_sensor_and_an_unknown_kind_is_refused_by_its_key() {
        let dir = std::env::temp_dir().join(format!("fphal-sensor-open-{}", std::process::id()));
        let mut config = Config::default();
        config.sensor.runtime_dir = Some(dir.clone());
        let sensor = open(&config, 7).unwrap();
        let endpoint = sensor.endpoint().expect("the virtual sensor takes images on a socket").to_path_buf();
        assert!(endpoint.starts_with(&dir) && endpoint.exists());
        assert!(sensor.describe().contains(&endpoint.display().to_string()));
        drop(sensor);
        config.sensor.kind = "goodix-netlink".into();
        let refused = open(&config, 8).err().expect("this build has no such kind");
        assert!(matches!(&refused, OpenError::Invalid(why) if why.starts_with("sensor.kind")), "{refused}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
