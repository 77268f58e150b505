//! The one place where internal failures become the negative errno values a caller sees.
//!
//! The HIDL 2.1 service's `ErrorFilter` understands only 0, -ENOENT, -EINTR, -EIO, -EAGAIN, -ENOMEM,
//! -EACCES, -EFAULT, -EBUSY, -EINVAL, -ENOSPC and -ETIMEDOUT; anything else reaches the framework as
//! `SYS_UNKNOWN`. Every value returned by an entry point comes from `HalError::errno`.

use std::fmt;

/// Why an entry point refused or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HalError {
    /// A caller passed a bad argument (NULL, a bad path, a bad size).
    InvalidArgument(String),
    /// The sensor is already owned by another open device.
    Busy,
    /// The worker, the sensor or the trustlet is not answering.
    Io(String),
    /// The worker did not answer a query in time.
    Timeout(String),
    /// Out of memory or another resource the process ran out of.
    NoMemory,
    /// The sensor's driver node is missing (only `open` returns it).
    NoDevice(String),
    /// The sensor's driver node refuses this process (owner, mode or SELinux label).
    Denied(String),
}

impl HalError {
    /// The negative errno for this error, always one of the values `ErrorFilter` maps.
    pub fn errno(&self) -> i32 {
        match self {
            HalError::InvalidArgument(_) => -libc::EINVAL,
            HalError::Busy => -libc::EBUSY,
            HalError::Io(_) => -libc::EIO,
            HalError::Timeout(_) => -libc::ETIMEDOUT,
            HalError::NoMemory => -libc::ENOMEM,
            HalError::NoDevice(_) => -libc::ENODEV,
            HalError::Denied(_) => -libc::EACCES,
        }
    }
}

impl fmt::Display for HalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HalError::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            HalError::Busy => write!(f, "the sensor is already open"),
            HalError::Io(why) => write!(f, "I/O failure: {why}"),
            HalError::Timeout(why) => write!(f, "timed out: {why}"),
            HalError::NoMemory => write!(f, "out of memory"),
            HalError::NoDevice(why) => write!(f, "no sensor: {why}"),
            HalError::Denied(why) => write!(f, "permission denied: {why}"),
        }
    }
}

impl std::error::Error for HalError {}

/// The return values the HIDL 2.1 `ErrorFilter` maps to a named status.
pub const ERROR_FILTER_ERRNOS: [i32; 12] = [0, -2, -4, -5, -11, -12, -13, -14, -16, -22, -28, -110];

#[cfg(test)]
mod tests {
    use super::*;

    /// `NoDevice` is left out: only the module's `open` returns it, which the filter never sees.
    #[test]
    fn every_error_maps_into_the_hidl_error_filter() {
        for e in [
            HalError::Denied("x".into()),
            HalError::InvalidArgument("x".into()),
            HalError::Busy,
            HalError::Io("x".into()),
            HalError::Timeout("x".into()),
            HalError::NoMemory,
        ] {
            assert!(ERROR_FILTER_ERRNOS.contains(&e.errno()), "{e} -> {}", e.errno());
        }
    }
}
