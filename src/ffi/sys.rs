//! `#[repr(C)]` mirrors of AOSP's `hardware.h`, `fingerprint.h` and `hw_auth_token.h`.
//!
//! Written from the layout tables of the contract (offsets on LP64 and ILP32) and checked by the
//! tests at the bottom of this file and by `c-tests/fp_layout.c`. The C declarations that the
//! public header carries live in `include-src/aosp_types.h`; cbindgen does not generate these.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

/// `MAKE_TAG_CONSTANT('H','W','M','T')`.
pub const HARDWARE_MODULE_TAG: u32 = 0x4857_4D54;
/// `MAKE_TAG_CONSTANT('H','W','D','T')`.
pub const HARDWARE_DEVICE_TAG: u32 = 0x4857_4454;
/// `HARDWARE_HAL_API_VERSION` = `HARDWARE_MAKE_API_VERSION(1, 0)`.
pub const HARDWARE_HAL_API_VERSION: u16 = 0x0100;
/// `FINGERPRINT_MODULE_API_VERSION_2_1`: the HIDL 2.1 service refuses any other device version.
pub const FINGERPRINT_MODULE_API_VERSION_2_1: u16 = 0x0201;

pub type fingerprint_msg_type_t = c_int;
pub const FINGERPRINT_ERROR: fingerprint_msg_type_t = -1;
pub const FINGERPRINT_ACQUIRED: fingerprint_msg_type_t = 1;
pub const FINGERPRINT_TEMPLATE_ENROLLING: fingerprint_msg_type_t = 3;
pub const FINGERPRINT_TEMPLATE_REMOVED: fingerprint_msg_type_t = 4;
pub const FINGERPRINT_AUTHENTICATED: fingerprint_msg_type_t = 5;
pub const FINGERPRINT_TEMPLATE_ENUMERATING: fingerprint_msg_type_t = 6;

pub type fingerprint_error_t = c_int;
pub type fingerprint_acquired_info_t = c_int;

#[repr(C)]
pub struct hw_module_methods_t {
    pub open: Option<
        unsafe extern "C" fn(module: *const hw_module_t, id: *const c_char, device: *mut *mut hw_device_t) -> c_int,
    >,
}

#[repr(C)]
pub struct hw_module_t {
    pub tag: u32,
    pub module_api_version: u16,
    pub hal_api_version: u16,
    pub id: *const c_char,
    pub name: *const c_char,
    pub author: *const c_char,
    pub methods: *mut hw_module_methods_t,
    /// libhardware writes the `dlopen` handle here after loading the module.
    pub dso: *mut c_void,
    /// `uint64_t[25]` on LP64, `uint32_t[25]` on ILP32: `usize` has that width on both.
    pub reserved: [usize; 25],
}

#[repr(C)]
pub struct hw_device_t {
    pub tag: u32,
    pub version: u32,
    pub module: *mut hw_module_t,
    /// `uint64_t[12]` on LP64, `uint32_t[12]` on ILP32.
    pub reserved: [usize; 12],
    pub close: Option<unsafe extern "C" fn(device: *mut hw_device_t) -> c_int>,
}

/// The 69-byte hardware auth token. Packed: every multi-byte field is unaligned.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct hw_auth_token_t {
    pub version: u8,
    pub challenge: u64,
    pub user_id: u64,
    pub authenticator_id: u64,
    /// Big-endian.
    pub authenticator_type: u32,
    /// Big-endian.
    pub timestamp: u64,
    pub hmac: [u8; 32],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct fingerprint_finger_id_t {
    pub gid: u32,
    pub fid: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fingerprint_enroll_t {
    pub finger: fingerprint_finger_id_t,
    pub samples_remaining: u32,
    pub msg: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fingerprint_iterator_t {
    pub finger: fingerprint_finger_id_t,
    pub remaining_templates: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fingerprint_acquired_t {
    pub acquired_info: fingerprint_acquired_info_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fingerprint_authenticated_t {
    pub finger: fingerprint_finger_id_t,
    pub hat: hw_auth_token_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union fingerprint_msg_data_t {
    pub error: fingerprint_error_t,
    pub enroll: fingerprint_enroll_t,
    pub enumerated: fingerprint_iterator_t,
    pub removed: fingerprint_iterator_t,
    pub acquired: fingerprint_acquired_t,
    pub authenticated: fingerprint_authenticated_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fingerprint_msg_t {
    pub type_: fingerprint_msg_type_t,
    pub data: fingerprint_msg_data_t,
}

pub type fingerprint_notify_t = Option<unsafe extern "C" fn(msg: *const fingerprint_msg_t)>;

#[repr(C)]
pub struct fingerprint_device_t {
    pub common: hw_device_t,
    pub notify: fingerprint_notify_t,
    pub set_notify: Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t, notify: fingerprint_notify_t) -> c_int>,
    pub pre_enroll: Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t) -> u64>,
    pub enroll: Option<
        unsafe extern "C" fn(
            dev: *mut fingerprint_device_t,
            hat: *const hw_auth_token_t,
            gid: u32,
            timeout_sec: u32,
        ) -> c_int,
    >,
    pub post_enroll: Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t) -> c_int>,
    pub get_authenticator_id: Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t) -> u64>,
    pub cancel: Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t) -> c_int>,
    pub enumerate: Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t) -> c_int>,
    pub remove: Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t, gid: u32, fid: u32) -> c_int>,
    pub set_active_group:
        Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t, gid: u32, store_path: *const c_char) -> c_int>,
    pub authenticate:
        Option<unsafe extern "C" fn(dev: *mut fingerprint_device_t, operation_id: u64, gid: u32) -> c_int>,
    pub reserved: [*mut c_void; 4],
}

#[repr(C)]
pub struct fingerprint_module_t {
    pub common: hw_module_t,
}

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    /// The contract's tables for the pointer width this test is compiled for.
    #[test]
    fn sizes_and_offsets_match_the_contract() {
        let lp64 = size_of::<usize>() == 8;
        // 64-bit members are 8-aligned on LP64 and arm32 (AAPCS), 4-aligned inside structs on x86-32.
        let u64_aligned = !cfg!(target_arch = "x86");
        let p = size_of::<usize>();
        assert_eq!(size_of::<hw_module_t>(), if lp64 { 248 } else { 128 });
        assert_eq!(offset_of!(hw_module_t, id), 8);
        assert_eq!(offset_of!(hw_module_t, methods), if lp64 { 32 } else { 20 });
        assert_eq!(offset_of!(hw_module_t, dso), if lp64 { 40 } else { 24 });
        assert_eq!(size_of::<hw_device_t>(), if lp64 { 120 } else { 64 });
        assert_eq!(offset_of!(hw_device_t, close), if lp64 { 112 } else { 60 });
        assert_eq!(size_of::<hw_auth_token_t>(), 69);
        assert_eq!(align_of::<hw_auth_token_t>(), 1);
        assert_eq!(offset_of!(hw_auth_token_t, authenticator_type), 25);
        assert_eq!(offset_of!(hw_auth_token_t, timestamp), 29);
        assert_eq!(offset_of!(hw_auth_token_t, hmac), 37);
        assert_eq!(size_of::<fingerprint_authenticated_t>(), 80);
        assert_eq!(size_of::<fingerprint_iterator_t>(), 12);
        assert_eq!(size_of::<fingerprint_msg_t>(), if u64_aligned { 88 } else { 84 });
        assert_eq!(offset_of!(fingerprint_msg_t, data), if u64_aligned { 8 } else { 4 });
        assert_eq!(size_of::<fingerprint_device_t>(), if lp64 { 240 } else { 124 });
        assert_eq!(offset_of!(fingerprint_device_t, notify), if lp64 { 120 } else { 64 });
        assert_eq!(offset_of!(fingerprint_device_t, set_notify), if lp64 { 128 } else { 68 });
        assert_eq!(offset_of!(fingerprint_device_t, authenticate), if lp64 { 200 } else { 104 });
        assert_eq!(offset_of!(fingerprint_device_t, reserved), if lp64 { 208 } else { 108 });
        assert_eq!(size_of::<fingerprint_module_t>(), size_of::<hw_module_t>());
        assert_eq!(p, size_of::<*const c_void>());
    }
}
