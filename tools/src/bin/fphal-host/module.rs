//! Loading a legacy fingerprint module the way libhardware does, and a thin safe face over the
//! device's function table. Nothing here judges the module: the checker does.

use crate::events::{self, Msg};
use fphal::auth_token::HAT_LEN;
use fphal::ffi::sys::{
    self, fingerprint_device_t, fingerprint_msg_t, fingerprint_notify_t, hw_auth_token_t, hw_device_t, hw_module_t,
};
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;
use std::time::Instant;

type SensorPathFn = unsafe extern "C" fn(*const fingerprint_device_t, *mut c_char, usize) -> c_int;

pub struct Module {
    handle: *mut c_void,
    hmi: *mut hw_module_t,
    sensor_path: Option<SensorPathFn>,
}

impl Module {
    /// `dlopen(RTLD_NOW)`, `dlsym("HMI")`, tag and id checks, `hmi->dso = handle`.
    pub fn load(path: &Path) -> Result<Module, String> {
        let c =
            CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| "path contains a NUL byte".to_string())?;
        // SAFETY: c is a valid NUL-terminated path; loading runs the library's constructors, which is the point.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW) };
        if handle.is_null() {
            return Err(format!("dlopen: {}", fphal::sys::dl_error()));
        }
        // SAFETY: handle is a live dlopen handle; the name is a NUL-terminated literal.
        let hmi = unsafe { libc::dlsym(handle, c"HMI".as_ptr()) } as *mut hw_module_t;
        if hmi.is_null() {
            return Err(format!("no HMI symbol: {}", fphal::sys::dl_error()));
        }
        // SAFETY: HMI is a hw_module_t by the libhardware contract; we read the fixed header fields.
        let (tag, id_ptr) = unsafe { ((*hmi).tag, (*hmi).id) };
        if tag != sys::HARDWARE_MODULE_TAG {
            return Err(format!("HMI tag is {tag:#x}, not HWMT"));
        }
        if id_ptr.is_null() {
            return Err("HMI id is NULL".into());
        }
        // SAFETY: id is a NUL-terminated string in the module's data (checked non-NULL).
        let id = unsafe { CStr::from_ptr(id_ptr) }.to_string_lossy().into_owned();
        if id != "fingerprint" {
            return Err(format!("HMI id is {id:?}, not \"fingerprint\""));
        }
        // SAFETY: libhardware writes dso into the (writable) module struct exactly like this.
        unsafe { (*hmi).dso = handle };
        // fphal's own extension; a vendor module does not have it.
        // SAFETY: handle is live; the symbol, when present, has this signature (include/fphal.h).
        let sym = unsafe { libc::dlsym(handle, c"fphal_device_sensor_path".as_ptr()) };
        // SAFETY: a non-NULL symbol of that name is the function declared in fphal.h.
        let sensor_path = (!sym.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, SensorPathFn>(sym) });
        Ok(Module { handle, hmi, sensor_path })
    }

    pub fn describe(&self) -> String {
        // SAFETY: hmi was validated in load; name/author may be NULL and are checked.
        unsafe {
            let m = &*self.hmi;
            let s = |p: *const c_char| {
                if p.is_null() { "?".to_string() } else { CStr::from_ptr(p).to_string_lossy().into_owned() }
            };
            format!(
                "{} by {} (module API {:#06x}, HAL API {:#06x})",
                s(m.name),
                s(m.author),
                m.module_api_version,
                m.hal_api_version
            )
        }
    }

    /// `open(module, NULL, &dev)` as fingerprintd and the HIDL service call it.
    pub fn open(&self) -> Result<Device, String> {
        // SAFETY: methods is part of the validated module header.
        let methods = unsafe { (*self.hmi).methods };
        if methods.is_null() {
            return Err("HMI has no methods".into());
        }
        // SAFETY: methods points at the module's hw_module_methods_t.
        let Some(open) = (unsafe { (*methods).open }) else { return Err("methods->open is NULL".into()) };
        let mut dev: *mut hw_device_t = std::ptr::null_mut();
        // SAFETY: the documented call; a NULL id is what the real clients pass.
        let rc = unsafe { open(self.hmi, std::ptr::null(), &mut dev) };
        if rc != 0 || dev.is_null() {
            return Err(format!("open returned {rc}"));
        }
        Ok(Device { dev: dev as *mut fingerprint_device_t, sensor_path: self.sensor_path })
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: the handle came from dlopen and no device of it is open any more (Device borrows nothing,
        // but the session closes its device before dropping the module).
        unsafe { libc::dlclose(self.handle) };
    }
}

/// An open device. Every method is one call of the function table; a NULL entry is reported
/// as `Err` by the caller through `entry`.
pub struct Device {
    dev: *mut fingerprint_device_t,
    sensor_path: Option<SensorPathFn>,
}

// SAFETY: the HAL contract allows calls from any thread; the pointer is only used for calls.
unsafe impl Send for Device {}

macro_rules! entry {
    ($self:ident, $name:ident) => {{
        // SAFETY: dev is the live device returned by open.
        match unsafe { (*$self.dev).$name } {
            Some(f) => f,
            None => return Err(concat!(stringify!($name), " is NULL")),
        }
    }};
}

impl Device {
    pub fn version(&self) -> u32 {
        // SAFETY: dev is live; common is the device header.
        unsafe { (*self.dev).common.version }
    }

    pub fn set_notify(&self, notify: fingerprint_notify_t) -> Result<(i32, bool), &'static str> {
        let f = entry!(self, set_notify);
        // SAFETY: calling the module's own entry with its device.
        let rc = unsafe { f(self.dev, notify) };
        // SAFETY: dev is live; reading the notify field the HAL must have stored.
        let stored = unsafe { (*self.dev).notify }.map(|p| p as usize) == notify.map(|p| p as usize);
        Ok((rc, stored))
    }

    pub fn pre_enroll(&self) -> Result<u64, &'static str> {
        let f = entry!(self, pre_enroll);
        // SAFETY: the module's entry with its device.
        Ok(unsafe { f(self.dev) })
    }

    pub fn enroll(&self, hat: &[u8; 69], gid: u32, timeout_sec: u32) -> Result<i32, &'static str> {
        let f = entry!(self, enroll);
        // SAFETY: hw_auth_token_t is packed (align 1, 69 bytes), so the byte array is a valid token.
        Ok(unsafe { f(self.dev, hat.as_ptr() as *const hw_auth_token_t, gid, timeout_sec) })
    }

    pub fn post_enroll(&self) -> Result<i32, &'static str> {
        let f = entry!(self, post_enroll);
        // SAFETY: the module's entry with its device.
        Ok(unsafe { f(self.dev) })
    }

    pub fn get_authenticator_id(&self) -> Result<u64, &'static str> {
        let f = entry!(self, get_authenticator_id);
        // SAFETY: the module's entry with its device.
        Ok(unsafe { f(self.dev) })
    }

    pub fn cancel(&self) -> Result<i32, &'static str> {
        let f = entry!(self, cancel);
        // SAFETY: the module's entry with its device.
        Ok(unsafe { f(self.dev) })
    }

    pub fn enumerate(&self) -> Result<i32, &'static str> {
        let f = entry!(self, enumerate);
        // SAFETY: the module's entry with its device.
        Ok(unsafe { f(self.dev) })
    }

    pub fn remove(&self, gid: u32, fid: u32) -> Result<i32, &'static str> {
        let f = entry!(self, remove);
        // SAFETY: the module's entry with its device.
        Ok(unsafe { f(self.dev, gid, fid) })
    }

    pub fn set_active_group(&self, gid: u32, path: &Path) -> Result<i32, &'static str> {
        let f = entry!(self, set_active_group);
        let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else { return Err("path contains a NUL byte") };
        // SAFETY: c is NUL-terminated and outlives the call.
        Ok(unsafe { f(self.dev, gid, c.as_ptr()) })
    }

    pub fn authenticate(&self, operation_id: u64, gid: u32) -> Result<i32, &'static str> {
        let f = entry!(self, authenticate);
        // SAFETY: the module's entry with its device.
        Ok(unsafe { f(self.dev, operation_id, gid) })
    }

    /// The virtual sensor's socket, when the module is fphal.
    pub fn sensor_path(&self) -> Option<std::path::PathBuf> {
        let f = self.sensor_path?;
        let mut buf = vec![0 as c_char; 4096];
        // SAFETY: buf is writable for its length; f is fphal_device_sensor_path.
        if unsafe { f(self.dev, buf.as_mut_ptr(), buf.len()) } != 0 {
            return None;
        }
        // SAFETY: on success the function wrote a NUL-terminated path into buf.
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
        Some(std::path::PathBuf::from(s.to_string_lossy().into_owned()))
    }

    /// `common.close(dev)`; the device must not be used afterwards.
    pub fn close(self) -> Result<i32, &'static str> {
        // SAFETY: dev is live; common.close is the header's close entry.
        let Some(f) = (unsafe { (*self.dev).common.close }) else { return Err("close is NULL") };
        // SAFETY: closing the device we opened, once (self is consumed).
        Ok(unsafe { f(self.dev as *mut hw_device_t) })
    }
}

/// The `notify` the host hands to the module. Copies the message out and returns at once.
///
/// # Safety
/// `msg` is NULL or a valid message for the duration of the call (the module's promise).
pub unsafe extern "C" fn on_notify(msg: *const fingerprint_msg_t) {
    let at = Instant::now();
    if msg.is_null() {
        return;
    }
    // SAFETY: the module passes a valid message for the duration of the call (checked non-NULL).
    let m = unsafe { &*msg };
    // SAFETY: each arm reads the union member that the message type selects.
    let decoded = unsafe {
        match m.type_ {
            sys::FINGERPRINT_ERROR => Msg::Error(m.data.error),
            sys::FINGERPRINT_ACQUIRED => Msg::Acquired(m.data.acquired.acquired_info),
            sys::FINGERPRINT_TEMPLATE_ENROLLING => {
                let e = m.data.enroll;
                Msg::Enrolling { gid: e.finger.gid, fid: e.finger.fid, remaining: e.samples_remaining }
            }
            sys::FINGERPRINT_TEMPLATE_REMOVED => {
                let r = m.data.removed;
                Msg::Removed { gid: r.finger.gid, fid: r.finger.fid, remaining: r.remaining_templates }
            }
            sys::FINGERPRINT_AUTHENTICATED => {
                let a = m.data.authenticated;
                let raw: [u8; HAT_LEN] = std::mem::transmute(a.hat);
                Msg::Authenticated { gid: a.finger.gid, fid: a.finger.fid, hat: raw }
            }
            sys::FINGERPRINT_TEMPLATE_ENUMERATING => {
                let e = m.data.enumerated;
                Msg::Enumerating { gid: e.finger.gid, fid: e.finger.fid, remaining: e.remaining_templates }
            }
            other => Msg::Unknown(other),
        }
    };
    events::deliver(at, decoded);
}

/// Points the fphal module at a configuration file: `FPHAL_CONFIG`, read by its `open`.
pub fn use_config(path: &Path) {
    // SAFETY (set_var): called before the module is loaded, while this process has one thread.
    unsafe { std::env::set_var("FPHAL_CONFIG", path) };
}
