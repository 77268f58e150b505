//! What the client is told, as Rust types: how a touch went ([`Acquired`]) and why an operation
//! ended ([`ErrorKind`]). The trustlet, the wire format and the worker speak these; only `ffi`
//! turns them into the numbers of `fingerprint_acquired_info_t` and `fingerprint_error_t`.

/// How one touch went (`fingerprint_acquired_info_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acquired {
    Good,
    /// Only part of the finger lay on the sensor.
    Partial,
    /// Too little of the print could be used (noise, low contrast, too few ridges).
    Insufficient,
    /// A mark on the sensor stays in place while the finger moves.
    ImagerDirty,
    TooSlow,
    /// The finger was lifted before the capture settled.
    TooFast,
    Vendor(VendorAcquired),
}

/// fphal's own acquired codes (`FINGERPRINT_ACQUIRED_VENDOR_BASE` + n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VendorAcquired {
    /// The enrollment touch lies where an earlier one lay and adds almost nothing: "move your
    /// finger a little". It does not count.
    MoveFinger,
}

/// Why an operation ended (`fingerprint_error_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    HwUnavailable,
    UnableToProcess,
    Timeout,
    NoSpace,
    /// The answer to `cancel`: sent exactly once.
    Canceled,
    UnableToRemove,
    Lockout,
    Vendor(VendorError),
}

/// fphal's own errors (`FINGERPRINT_ERROR_VENDOR_BASE` + n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VendorError {
    /// The finger being enrolled is already enrolled in this group; the enrollment ends.
    FingerAlreadyEnrolled,
}
