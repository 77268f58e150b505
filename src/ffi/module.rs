//! The module symbol `HMI` and `open`, as libhardware finds and calls them.

use super::boundary;
use super::device::{self, FpDevice};
use super::sys::*;
use crate::config::Config;
use crate::error::HalError;
use crate::hal::Device;
use std::ffi::{c_char, c_int};
use std::sync::Arc;

/// `HMI` must be writable: libhardware stores the `dlopen` handle in `HMI.common.dso`.
#[repr(transparent)]
pub struct Module(pub fingerprint_module_t);

// SAFETY: the pointers inside point at 'static data; the only write after load is libhardware's
// single store to `dso` during `hw_get_module`, before any other use.
unsafe impl Sync for Module {}

static mut METHODS: hw_module_methods_t = hw_module_methods_t { open: Some(open) };

/// `HMI.common.name`, with the version, as `dumpsys` and a porter's logs show it.
const MODULE_NAME: &std::ffi::CStr =
    super::static_cstr(concat!("fphal fingerprint HAL ", env!("CARGO_PKG_VERSION"), "\0").as_bytes());

/// The module descriptor libhardware looks up by name.
#[unsafe(no_mangle)]
#[used]
pub static mut HMI: Module = Module(fingerprint_module_t {
    common: hw_module_t {
        tag: HARDWARE_MODULE_TAG,
        module_api_version: FINGERPRINT_MODULE_API_VERSION_2_1,
        hal_api_version: HARDWARE_HAL_API_VERSION,
        id: c"fingerprint".as_ptr(),
        name: MODULE_NAME.as_ptr(),
        author: c"fphal".as_ptr(),
        methods: &raw mut METHODS,
        dso: std::ptr::null_mut(),
        reserved: [0; 25],
    },
});

/// `hw_module_methods_t.open`: the id argument is ignored (both real clients pass NULL).
///
/// # Safety
/// `device` must be NULL or valid for one pointer write.
unsafe extern "C" fn open(module: *const hw_module_t, _id: *const c_char, device: *mut *mut hw_device_t) -> c_int {
    boundary("open", || {
        if device.is_null() {
            return -libc::EINVAL;
        }
        crate::logging::init(None);
        crate::logging::install_panic_hook();
        let config = match Config::load() {
            Ok(c) => c,
            Err(e) => {
                log::error!("{} configuration refused: {e}", crate::diagnose::ids::CONFIG_REFUSED.id);
                return -libc::EINVAL;
            }
        };
        crate::logging::init(Some(&config.log.level));
        match open_device(module, &config) {
            Ok(raw) => {
                // SAFETY: `device` was checked non-NULL; the caller provides a writable slot.
                unsafe { *device = raw };
                0
            }
            Err(e) => {
                log::error!("{} open failed: {e}", crate::diagnose::ids::OPEN_FAILED.id);
                e.errno()
            }
        }
    })
}

fn open_device(module: *const hw_module_t, config: &Config) -> Result<*mut hw_device_t, HalError> {
    // A device closed from inside its own notify is stopped first, with no lock held: its worker
    // may still be in a callback that calls an entry point.
    let retired = device::RETIRED.lock().take();
    if let Some(old) = retired {
        if !old.shutdown() {
            // Opened from inside the old device's notify: its worker is this very thread.
            *device::RETIRED.lock() = Some(old);
            return Err(HalError::Busy);
        }
    }
    let mut slot = device::LIVE.lock();
    if slot.is_some() || device::CLOSING.load(std::sync::atomic::Ordering::Acquire) > 0 {
        return Err(HalError::Busy);
    }
    let dev = Arc::new(Device::open(config)?);
    let boxed = Box::new(FpDevice::new(module.cast_mut()));
    let raw = Box::into_raw(boxed);
    *slot = Some(device::Live { addr: raw as usize, device: dev });
    Ok(raw.cast())
}
