//! The code tables the doctor decodes, each with the source it was taken from. A value not in a
//! table is reported as unknown, never guessed.

/// One named code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub value: i64,
    pub name: &'static str,
    /// What it means, in a sentence.
    pub meaning: &'static str,
}

const fn code(value: i64, name: &'static str, meaning: &'static str) -> Code {
    Code { value, name, meaning }
}

/// Where [`QSEE_MESSAGE`] comes from.
pub const QSEE_MESSAGE_SOURCE: &str = "Qualcomm qsee_message.h (Rivko/android-firmware-qti-sdm670 \
    trustzone_images/ssg/api/securemsm/trustzone/qsee/qsee_message.h @44af08aa; the same values in \
    me-cafebabe-backyard/android-firmware-qti-sdm660 @1cf733c6)";

/// `QSEE_MESSAGE_ERROR_*`: the status of QSEE's app-to-app messages, which the keymaster trustlet
/// returns when it encapsulates the auth-token key for another trustlet. Values as unsigned 32-bit.
pub const QSEE_MESSAGE: &[Code] = &[
    code(0xFF00_0FFF, "QSEE_MESSAGE_ERROR", "a QSEE inter-app message failed (no more detail)"),
    code(0xFF00_0FFE, "QSEE_MESSAGE_ERROR_ZERO_BUFFER_LEN", "a message buffer of length zero"),
    code(0xFF00_0FFD, "QSEE_MESSAGE_ERROR_INSUFFCIENT_OUT_LEN", "the output buffer is too small for the message"),
    code(
        0xFF00_0FFC,
        "QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME",
        "the keymaster trustlet will not address a message to the calling trustlet's name: that name is not \
         on the keymaster image's whitelist of trustlets it serves",
    ),
    code(
        0xFF00_0FFB,
        "QSEE_MESSAGE_ERROR_NO_DEST_APP_THREAD",
        "the destination trustlet has no thread to take the message",
    ),
    code(0xFF00_0FFA, "QSEE_MESSAGE_ERROR_NO_DEST_APP_KEYS", "no keys are set up for the destination trustlet"),
    code(0xFF00_0FF9, "QSEE_MESSAGE_ERROR_NO_SPACE_IN_TABLE", "QSEE's table of message peers is full"),
    code(0xFF00_0FF8, "QSEE_MESSAGE_ERROR_CIPHER_INIT", "the message cipher could not be set up"),
    code(0xFF00_0FF7, "QSEE_MESSAGE_ERROR_CIPHER_SET_PARAM", "a message cipher parameter was refused"),
    code(0xFF00_0FF6, "QSEE_MESSAGE_ERROR_CIPHER_ENCRYPT", "the message could not be encrypted"),
    code(0xFF00_0FF5, "QSEE_MESSAGE_ERROR_HMAC_FAIL", "the message MAC could not be computed"),
    code(0xFF00_0FF4, "QSEE_MESSAGE_ERROR_PRNG_FAIL", "QSEE's random generator failed"),
    code(0xFF00_0FF3, "QSEE_MESSAGE_ERROR_BAD_SOURCE_NAME", "the sending trustlet's name is not valid"),
    code(0xFF00_0FF2, "QSEE_MESSAGE_ERROR_MESSAGE_NOT_FOR_YOU", "the message is addressed to another trustlet"),
    code(0xFF00_0FF1, "QSEE_MESSAGE_ERROR_NO_COUNTER_VALS", "no replay counters exist for this pair of trustlets"),
    code(0xFF00_0FF0, "QSEE_MESSAGE_ERROR_MAC_MISMATCH", "the message's MAC does not verify"),
    code(0xFF00_0FEF, "QSEE_MESSAGE_ERROR_BAD_COUNTER_VALS", "the message's replay counter is wrong"),
    code(0xFF00_0FEE, "QSEE_MESSAGE_ERROR_MAXED_OUT_COUNTER_VAL", "the replay counter is exhausted"),
    code(0xFF00_0FED, "QSEE_MESSAGE_ERROR_MALLOC_INTERNAL_BUF", "QSEE ran out of memory for the message"),
    code(0xFF00_0FEC, "QSEE_MESSAGE_ERROR_INTEGER_OVERFLOW", "a length in the message overflowed"),
    code(0xFF00_0FEB, "QSEE_MESSAGE_ERROR_INTEGER_UNDERFLOW", "a length in the message underflowed"),
    code(0xFF00_0FEA, "QSEE_MESSAGE_ERROR_MALLOC_HMAC_BUF", "QSEE ran out of memory for the MAC"),
    code(0xFF00_0FE9, "QSEE_MESSAGE_ERROR_STRLCPY_FAIL", "a trustlet name did not fit"),
];

/// Where [`KEYMASTER`] comes from.
pub const KEYMASTER_SOURCE: &str = "AOSP hardware/libhardware include_all/hardware/keymaster_defs.h \
    (keymaster_error_t; aosp-mirror/platform_hardware_libhardware @7e08958a)";

/// `keymaster_error_t`.
pub const KEYMASTER: &[Code] = &[
    code(-1, "KM_ERROR_ROOT_OF_TRUST_ALREADY_SET", "the root of trust was set already"),
    code(-2, "KM_ERROR_UNSUPPORTED_PURPOSE", "a key purpose the keymaster does not support"),
    code(-3, "KM_ERROR_INCOMPATIBLE_PURPOSE", "the key was not made for this purpose"),
    code(-4, "KM_ERROR_UNSUPPORTED_ALGORITHM", "an algorithm the keymaster does not support"),
    code(-5, "KM_ERROR_INCOMPATIBLE_ALGORITHM", "the key's algorithm does not fit the operation"),
    code(-6, "KM_ERROR_UNSUPPORTED_KEY_SIZE", "a key size the keymaster does not support"),
    code(-7, "KM_ERROR_UNSUPPORTED_BLOCK_MODE", "a block mode the keymaster does not support"),
    code(-8, "KM_ERROR_INCOMPATIBLE_BLOCK_MODE", "the key does not allow this block mode"),
    code(-9, "KM_ERROR_UNSUPPORTED_MAC_LENGTH", "a MAC length the keymaster does not support"),
    code(-10, "KM_ERROR_UNSUPPORTED_PADDING_MODE", "a padding the keymaster does not support"),
    code(-11, "KM_ERROR_INCOMPATIBLE_PADDING_MODE", "the key does not allow this padding"),
    code(-12, "KM_ERROR_UNSUPPORTED_DIGEST", "a digest the keymaster does not support"),
    code(-13, "KM_ERROR_INCOMPATIBLE_DIGEST", "the key does not allow this digest"),
    code(-14, "KM_ERROR_INVALID_EXPIRATION_TIME", "an invalid expiration time"),
    code(-15, "KM_ERROR_INVALID_USER_ID", "an invalid user id"),
    code(-16, "KM_ERROR_INVALID_AUTHORIZATION_TIMEOUT", "an invalid authorisation timeout"),
    code(-17, "KM_ERROR_UNSUPPORTED_KEY_FORMAT", "a key format the keymaster does not support"),
    code(-18, "KM_ERROR_INCOMPATIBLE_KEY_FORMAT", "the key format does not fit"),
    code(-19, "KM_ERROR_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM", "an unsupported key encryption algorithm"),
    code(-20, "KM_ERROR_UNSUPPORTED_KEY_VERIFICATION_ALGORITHM", "an unsupported key verification algorithm"),
    code(-21, "KM_ERROR_INVALID_INPUT_LENGTH", "an input of the wrong length"),
    code(-22, "KM_ERROR_KEY_EXPORT_OPTIONS_INVALID", "invalid key export options"),
    code(-23, "KM_ERROR_DELEGATION_NOT_ALLOWED", "delegation is not allowed"),
    code(-24, "KM_ERROR_KEY_NOT_YET_VALID", "the key is not valid yet (its start time is in the future)"),
    code(-25, "KM_ERROR_KEY_EXPIRED", "the key has expired"),
    code(-26, "KM_ERROR_KEY_USER_NOT_AUTHENTICATED", "the key needs a user authentication that did not happen"),
    code(-27, "KM_ERROR_OUTPUT_PARAMETER_NULL", "an output parameter is NULL"),
    code(-28, "KM_ERROR_INVALID_OPERATION_HANDLE", "an invalid operation handle"),
    code(-29, "KM_ERROR_INSUFFICIENT_BUFFER_SPACE", "a buffer too small for the answer"),
    code(-30, "KM_ERROR_VERIFICATION_FAILED", "a signature or MAC did not verify"),
    code(-31, "KM_ERROR_TOO_MANY_OPERATIONS", "too many operations at once"),
    code(-32, "KM_ERROR_UNEXPECTED_NULL_POINTER", "an unexpected NULL pointer"),
    code(
        -33,
        "KM_ERROR_INVALID_KEY_BLOB",
        "a key blob the keymaster cannot use (made by another keymaster, or corrupt)",
    ),
    code(-34, "KM_ERROR_IMPORTED_KEY_NOT_ENCRYPTED", "an imported key that is not encrypted"),
    code(-35, "KM_ERROR_IMPORTED_KEY_DECRYPTION_FAILED", "an imported key that does not decrypt"),
    code(-36, "KM_ERROR_IMPORTED_KEY_NOT_SIGNED", "an imported key that is not signed"),
    code(-37, "KM_ERROR_IMPORTED_KEY_VERIFICATION_FAILED", "an imported key whose signature does not verify"),
    code(-38, "KM_ERROR_INVALID_ARGUMENT", "an invalid argument"),
    code(-39, "KM_ERROR_UNSUPPORTED_TAG", "an unsupported tag"),
    code(-40, "KM_ERROR_INVALID_TAG", "an invalid tag"),
    code(-41, "KM_ERROR_MEMORY_ALLOCATION_FAILED", "the keymaster ran out of memory"),
    code(-44, "KM_ERROR_IMPORT_PARAMETER_MISMATCH", "import parameters that do not match the key"),
    code(-45, "KM_ERROR_SECURE_HW_ACCESS_DENIED", "the secure hardware refused access"),
    code(-46, "KM_ERROR_OPERATION_CANCELLED", "the operation was cancelled"),
    code(-47, "KM_ERROR_CONCURRENT_ACCESS_CONFLICT", "a concurrent access conflict"),
    code(-48, "KM_ERROR_SECURE_HW_BUSY", "the secure hardware is busy"),
    code(-49, "KM_ERROR_SECURE_HW_COMMUNICATION_FAILED", "talking to the secure hardware failed"),
    code(-50, "KM_ERROR_UNSUPPORTED_EC_FIELD", "an unsupported EC field"),
    code(-51, "KM_ERROR_MISSING_NONCE", "a nonce is missing"),
    code(-52, "KM_ERROR_INVALID_NONCE", "an invalid nonce"),
    code(-53, "KM_ERROR_MISSING_MAC_LENGTH", "a MAC length is missing"),
    code(-54, "KM_ERROR_KEY_RATE_LIMIT_EXCEEDED", "the key's rate limit is exceeded"),
    code(-55, "KM_ERROR_CALLER_NONCE_PROHIBITED", "the key forbids a caller nonce"),
    code(-56, "KM_ERROR_KEY_MAX_OPS_EXCEEDED", "the key's operation count is exhausted"),
    code(-57, "KM_ERROR_INVALID_MAC_LENGTH", "an invalid MAC length"),
    code(-58, "KM_ERROR_MISSING_MIN_MAC_LENGTH", "a minimum MAC length is missing"),
    code(-59, "KM_ERROR_UNSUPPORTED_MIN_MAC_LENGTH", "an unsupported minimum MAC length"),
    code(-60, "KM_ERROR_UNSUPPORTED_KDF", "an unsupported key derivation function"),
    code(-61, "KM_ERROR_UNSUPPORTED_EC_CURVE", "an unsupported EC curve"),
    code(-62, "KM_ERROR_KEY_REQUIRES_UPGRADE", "the key blob needs an upgrade (the keymaster was updated)"),
    code(-63, "KM_ERROR_ATTESTATION_CHALLENGE_MISSING", "an attestation challenge is missing"),
    code(
        -64,
        "KM_ERROR_KEYMASTER_NOT_CONFIGURED",
        "the keymaster was not configured (OS version and patch level not set)",
    ),
    code(-65, "KM_ERROR_ATTESTATION_APPLICATION_ID_MISSING", "an attestation application id is missing"),
    code(-66, "KM_ERROR_CANNOT_ATTEST_IDS", "the keymaster cannot attest device ids"),
    code(-67, "KM_ERROR_ROLLBACK_RESISTANCE_UNAVAILABLE", "rollback resistance is unavailable"),
    code(-71, "KM_ERROR_NO_USER_CONFIRMATION", "no user confirmation"),
    code(-72, "KM_ERROR_DEVICE_LOCKED", "the device is locked"),
    code(-73, "KM_ERROR_EARLY_BOOT_ENDED", "early boot has ended"),
    code(-74, "KM_ERROR_ATTESTATION_KEYS_NOT_PROVISIONED", "attestation keys are not provisioned"),
    code(-75, "KM_ERROR_ATTESTATION_IDS_NOT_PROVISIONED", "attestation ids are not provisioned"),
    code(-78, "KM_ERROR_INCOMPATIBLE_MGF_DIGEST", "an incompatible MGF digest"),
    code(-79, "KM_ERROR_UNSUPPORTED_MGF_DIGEST", "an unsupported MGF digest"),
    code(-80, "KM_ERROR_MISSING_NOT_BEFORE", "a not-before date is missing"),
    code(-81, "KM_ERROR_MISSING_NOT_AFTER", "a not-after date is missing"),
    code(-82, "KM_ERROR_MISSING_ISSUER_SUBJECT", "an issuer subject is missing"),
    code(-83, "KM_ERROR_INVALID_ISSUER_SUBJECT", "an invalid issuer subject"),
    code(-84, "KM_ERROR_BOOT_LEVEL_EXCEEDED", "the boot level is exceeded"),
    code(-85, "KM_ERROR_HARDWARE_NOT_YET_AVAILABLE", "the hardware is not available yet"),
    code(-86, "KM_ERROR_MODULE_HASH_ALREADY_SET", "the module hash was set already"),
    code(-100, "KM_ERROR_UNIMPLEMENTED", "the keymaster does not implement this"),
    code(-101, "KM_ERROR_VERSION_MISMATCH", "a version mismatch between the HAL and the keymaster trustlet"),
    code(-1000, "KM_ERROR_UNKNOWN_ERROR", "an unknown keymaster error"),
];

/// Where [`ERRNO`] comes from.
pub const ERRNO_SOURCE: &str = "Linux include/uapi/asm-generic/errno-base.h and errno.h (the values every \
    Android ABI uses)";

/// The negative errno values HAL calls return and clients log.
pub const ERRNO: &[Code] = &[
    code(-1, "EPERM", "operation not permitted"),
    code(-2, "ENOENT", "no such file or directory"),
    code(-4, "EINTR", "interrupted"),
    code(-5, "EIO", "input/output error"),
    code(-6, "ENXIO", "no such device or address"),
    code(-11, "EAGAIN", "try again"),
    code(-12, "ENOMEM", "out of memory"),
    code(-13, "EACCES", "permission denied"),
    code(-14, "EFAULT", "bad address"),
    code(-16, "EBUSY", "device or resource busy"),
    code(-19, "ENODEV", "no such device"),
    code(-22, "EINVAL", "invalid argument"),
    code(-28, "ENOSPC", "no space left"),
    code(-38, "ENOSYS", "function not implemented"),
    code(-110, "ETIMEDOUT", "timed out"),
];

/// Where [`QSEECOM_APP_QUERY`] comes from.
pub const QSEECOM_APP_QUERY_SOURCE: &str =
    "QSEEComAPI.h as shipped in sonyxperiadev/vendor-sony-oss-fingerprint @9dfd6e62 (QSEECom_app_load_query)";

/// `QSEECom_app_load_query` results.
pub const QSEECOM_APP_QUERY: &[Code] = &[
    code(-1, "QSEECOM_LISTENER_REGISTER_FAIL", "a listener could not be registered"),
    code(-2, "QSEECOM_LISTENER_ALREADY_REGISTERED", "the listener is registered already"),
    code(-3, "QSEECOM_LISTENER_UNREGISTERED", "the listener is not registered"),
    code(-4, "QSEECOM_APP_ALREADY_LOADED", "the trustlet is loaded already"),
    code(-5, "QSEECOM_APP_NOT_LOADED", "the trustlet is not loaded"),
    code(-6, "QSEECOM_APP_QUERY_FAILED", "asking QSEE about the trustlet failed"),
];

/// Looks `value` up in `table`.
pub fn find(table: &'static [Code], value: i64) -> Option<&'static Code> {
    table.iter().find(|c| c.value == value)
}

/// Keymaster trustlet names (`keymaste` is the 8-character legacy name the kernel also treats as
/// `keymaster`): Sony's `tz_api_*.h` and `QSEEKeymasterTrustlet.cpp`
/// (sonyxperiadev/vendor-sony-oss-fingerprint), the FPC and Goodix QSEE clients of
/// techyminati/android_vendor_oplus_secure, the CAF msm-4.9 `drivers/misc/qseecom.c`.
pub const KEYMASTER_TA_NAMES: &[&str] = &["keymaster64", "keymaster", "keymaste", "kmota", "skeymast"];

/// Fingerprint trustlet names seen on devices (same sources; `fpctzappfingerprint` from
/// LineageOS/android_device_motorola_cedric's firmware list).
pub const FINGERPRINT_TA_NAMES: &[&str] = &[
    "fpctzappfingerprint",
    "fpctzfingerprint",
    "fpctzapp",
    "tzfingerprint",
    "fpcfp",
    "goodixfp",
    "goodixfp_G6",
    "gfp9678",
    "gfp9638",
    "gfp9608",
    "gfp9558",
    "egista64",
    "egista",
    "egisap32",
    "egisap",
    "sileadta",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_table_names_a_value_twice() {
        for table in [QSEE_MESSAGE, KEYMASTER, ERRNO, QSEECOM_APP_QUERY] {
            for (i, c) in table.iter().enumerate() {
                assert!(table[i + 1..].iter().all(|d| d.value != c.value && d.name != c.name), "{}", c.name);
            }
        }
    }
}
