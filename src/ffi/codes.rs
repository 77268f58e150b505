//! The C numbers of [`Acquired`] and [`ErrorKind`]: the one place they are written down.

use super::sys::{fingerprint_acquired_info_t, fingerprint_error_t};
use crate::codes::{Acquired, ErrorKind, VendorAcquired, VendorError};

// `fingerprint_acquired_info_t` (hardware/fingerprint.h).
pub const FINGERPRINT_ACQUIRED_GOOD: fingerprint_acquired_info_t = 0;
pub const FINGERPRINT_ACQUIRED_PARTIAL: fingerprint_acquired_info_t = 1;
pub const FINGERPRINT_ACQUIRED_INSUFFICIENT: fingerprint_acquired_info_t = 2;
pub const FINGERPRINT_ACQUIRED_IMAGER_DIRTY: fingerprint_acquired_info_t = 3;
pub const FINGERPRINT_ACQUIRED_TOO_SLOW: fingerprint_acquired_info_t = 4;
pub const FINGERPRINT_ACQUIRED_TOO_FAST: fingerprint_acquired_info_t = 5;
pub const FINGERPRINT_ACQUIRED_VENDOR_BASE: fingerprint_acquired_info_t = 1000;

// `fingerprint_error_t` (hardware/fingerprint.h).
pub const FINGERPRINT_ERROR_HW_UNAVAILABLE: fingerprint_error_t = 1;
pub const FINGERPRINT_ERROR_UNABLE_TO_PROCESS: fingerprint_error_t = 2;
pub const FINGERPRINT_ERROR_TIMEOUT: fingerprint_error_t = 3;
pub const FINGERPRINT_ERROR_NO_SPACE: fingerprint_error_t = 4;
pub const FINGERPRINT_ERROR_CANCELED: fingerprint_error_t = 5;
pub const FINGERPRINT_ERROR_UNABLE_TO_REMOVE: fingerprint_error_t = 6;
pub const FINGERPRINT_ERROR_LOCKOUT: fingerprint_error_t = 7;
pub const FINGERPRINT_ERROR_VENDOR_BASE: fingerprint_error_t = 1000;

/// `acquired_info` of an ACQUIRED message.
pub fn acquired_info(a: Acquired) -> fingerprint_acquired_info_t {
    match a {
        Acquired::Good => FINGERPRINT_ACQUIRED_GOOD,
        Acquired::Partial => FINGERPRINT_ACQUIRED_PARTIAL,
        Acquired::Insufficient => FINGERPRINT_ACQUIRED_INSUFFICIENT,
        Acquired::ImagerDirty => FINGERPRINT_ACQUIRED_IMAGER_DIRTY,
        Acquired::TooSlow => FINGERPRINT_ACQUIRED_TOO_SLOW,
        Acquired::TooFast => FINGERPRINT_ACQUIRED_TOO_FAST,
        Acquired::Vendor(VendorAcquired::MoveFinger) => FINGERPRINT_ACQUIRED_VENDOR_BASE + 1,
    }
}

/// `error` of an ERROR message.
pub fn error(e: ErrorKind) -> fingerprint_error_t {
    match e {
        ErrorKind::HwUnavailable => FINGERPRINT_ERROR_HW_UNAVAILABLE,
        ErrorKind::UnableToProcess => FINGERPRINT_ERROR_UNABLE_TO_PROCESS,
        ErrorKind::Timeout => FINGERPRINT_ERROR_TIMEOUT,
        ErrorKind::NoSpace => FINGERPRINT_ERROR_NO_SPACE,
        ErrorKind::Canceled => FINGERPRINT_ERROR_CANCELED,
        ErrorKind::UnableToRemove => FINGERPRINT_ERROR_UNABLE_TO_REMOVE,
        ErrorKind::Lockout => FINGERPRINT_ERROR_LOCKOUT,
        ErrorKind::Vendor(VendorError::FingerAlreadyEnrolled) => FINGERPRINT_ERROR_VENDOR_BASE + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_numbers_of_fingerprint_h() {
        assert_eq!(acquired_info(Acquired::Good), 0);
        assert_eq!(acquired_info(Acquired::TooFast), 5);
        assert_eq!(acquired_info(Acquired::Vendor(VendorAcquired::MoveFinger)), 1001);
        assert_eq!(error(ErrorKind::Canceled), 5);
        assert_eq!(error(ErrorKind::Lockout), 7);
        assert_eq!(error(ErrorKind::Vendor(VendorError::FingerAlreadyEnrolled)), 1001);
    }
}
