//! `fingerprint_device_t`: the function table and the trampolines behind it.
//!
//! Exactly one device can be open (one sensor, one owner); its address is kept in [`LIVE`].
//! Entry points compare the pointer they get with that address before touching anything, so a
//! NULL, garbage or already-closed device pointer gets `-EINVAL` instead of a crash.

use super::boundary;
use super::codes;
use super::sys::*;
use crate::auth_token::HAT_LEN;
use crate::error::HalError;
use crate::hal::{Device, Message, Sink};
use parking_lot::Mutex;
use std::ffi::{CStr, c_char, c_int};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The box `open` hands out: the C struct first, so a `fingerprint_device_t *` is an `FpDevice *`.
#[repr(C)]
pub struct FpDevice {
    raw: fingerprint_device_t,
}

pub struct Live {
    pub addr: usize,
    pub device: Arc<Device>,
}

pub static LIVE: Mutex<Option<Live>> = Mutex::new(None);

/// A device closed from inside its own notify callback, whose worker could not be joined then:
/// the next `open` stops it first, so two workers never run.
pub static RETIRED: Mutex<Option<Arc<Device>>> = Mutex::new(None);

/// Closes under way: `open` answers `-EBUSY` until their worker has stopped.
pub static CLOSING: AtomicUsize = AtomicUsize::new(0);

impl FpDevice {
    pub fn new(module: *mut hw_module_t) -> FpDevice {
        let module = if module.is_null() { (&raw mut super::module::HMI).cast() } else { module };
        FpDevice {
            raw: fingerprint_device_t {
                common: hw_device_t {
                    tag: HARDWARE_DEVICE_TAG,
                    version: FINGERPRINT_MODULE_API_VERSION_2_1 as u32,
                    module,
                    reserved: [0; 12],
                    close: Some(close),
                },
                notify: None,
                set_notify: Some(set_notify),
                pre_enroll: Some(pre_enroll),
                enroll: Some(enroll),
                post_enroll: Some(post_enroll),
                get_authenticator_id: Some(get_authenticator_id),
                cancel: Some(cancel),
                enumerate: Some(enumerate),
                remove: Some(remove),
                set_active_group: Some(set_active_group),
                authenticate: Some(authenticate),
                reserved: [std::ptr::null_mut(); 4],
            },
        }
    }
}

/// The open device if `dev` is its address.
pub fn lookup(dev: *const fingerprint_device_t) -> Result<Arc<Device>, HalError> {
    let live = LIVE.lock();
    match &*live {
        Some(l) if !dev.is_null() && l.addr == dev as usize => Ok(Arc::clone(&l.device)),
        _ => Err(HalError::InvalidArgument("not an open fphal device".into())),
    }
}

/// Runs an `int` entry point: look the device up, run `f`, map errors to negative errno.
fn int_call(name: &str, dev: *mut fingerprint_device_t, f: impl FnOnce(&Device) -> Result<(), HalError>) -> c_int {
    boundary(name, || match lookup(dev).and_then(|d| f(&d)) {
        Ok(()) => 0,
        Err(e) => {
            log::warn!("{name}: {e}");
            e.errno()
        }
    })
}

/// Runs a `uint64_t` entry point; 0 means failure, as the contract says.
fn u64_call(name: &str, dev: *mut fingerprint_device_t, f: impl FnOnce(&Device) -> Result<u64, HalError>) -> u64 {
    boundary(name, || match lookup(dev).and_then(|d| f(&d)) {
        Ok(v) => v,
        Err(e) => {
            log::warn!("{name}: {e}");
            0
        }
    })
}

unsafe extern "C" fn close(dev: *mut hw_device_t) -> c_int {
    boundary("close", || {
        let taken = {
            let mut live = LIVE.lock();
            match &*live {
                Some(l) if !dev.is_null() && l.addr == dev as usize => {
                    CLOSING.fetch_add(1, Ordering::AcqRel);
                    live.take()
                }
                _ => None,
            }
        };
        let Some(live) = taken else {
            log::warn!("close: not an open fphal device");
            return -libc::EINVAL;
        };
        // Stops and joins the worker even while another call still holds the device: when close
        // returns, no worker runs. From inside notify the worker can only be asked to end; the
        // next open waits for it.
        if !live.device.shutdown() {
            *RETIRED.lock() = Some(live.device);
        }
        CLOSING.fetch_sub(1, Ordering::AcqRel);
        // SAFETY: `dev` is the pointer `open` produced by Box::into_raw for an FpDevice, and it
        // was just removed from LIVE, so no entry point can reach it any more.
        drop(unsafe { Box::from_raw(dev.cast::<FpDevice>()) });
        0
    })
}

/// Turns a Rust message into the C struct and calls the client's callback.
fn c_sink(notify: unsafe extern "C" fn(*const fingerprint_msg_t)) -> Sink {
    Arc::new(move |m: &Message| {
        let msg = to_c(m);
        // SAFETY: `notify` is the client's callback; `msg` lives for the call, which is all the
        // contract promises (both clients copy what they need).
        unsafe { notify(&msg) };
    })
}

pub fn to_c(m: &Message) -> fingerprint_msg_t {
    let id = |gid: u32, fid: u32| fingerprint_finger_id_t { gid, fid };
    let iter = |gid, fid, remaining| fingerprint_iterator_t { finger: id(gid, fid), remaining_templates: remaining };
    let (type_, data) = match *m {
        Message::Error(e) => (FINGERPRINT_ERROR, fingerprint_msg_data_t { error: codes::error(e) }),
        Message::Acquired(a) => (
            FINGERPRINT_ACQUIRED,
            fingerprint_msg_data_t { acquired: fingerprint_acquired_t { acquired_info: codes::acquired_info(a) } },
        ),
        Message::Enrolling { gid, fid, remaining } => (
            FINGERPRINT_TEMPLATE_ENROLLING,
            fingerprint_msg_data_t {
                enroll: fingerprint_enroll_t { finger: id(gid, fid), samples_remaining: remaining, msg: 0 },
            },
        ),
        Message::Removed { gid, fid, remaining } => {
            (FINGERPRINT_TEMPLATE_REMOVED, fingerprint_msg_data_t { removed: iter(gid, fid, remaining) })
        }
        Message::Enumerating { gid, fid, remaining } => {
            (FINGERPRINT_TEMPLATE_ENUMERATING, fingerprint_msg_data_t { enumerated: iter(gid, fid, remaining) })
        }
        Message::Authenticated { gid, fid, hat } => {
            let hat_bytes: [u8; HAT_LEN] = hat;
            // SAFETY: hw_auth_token_t is a packed 69-byte plain-data struct; any bytes are valid.
            let hat: hw_auth_token_t = unsafe { std::mem::transmute(hat_bytes) };
            (
                FINGERPRINT_AUTHENTICATED,
                fingerprint_msg_data_t { authenticated: fingerprint_authenticated_t { finger: id(gid, fid), hat } },
            )
        }
    };
    // Zero first so padding bytes never carry stale memory to the client.
    // SAFETY: fingerprint_msg_t is plain data; all-zero is a valid value.
    let mut msg: fingerprint_msg_t = unsafe { std::mem::zeroed() };
    msg.type_ = type_;
    msg.data = data;
    msg
}

unsafe extern "C" fn set_notify(dev: *mut fingerprint_device_t, notify: fingerprint_notify_t) -> c_int {
    boundary("set_notify", || {
        let live = LIVE.lock();
        let device = match &*live {
            Some(l) if !dev.is_null() && l.addr == dev as usize => Arc::clone(&l.device),
            _ => return -libc::EINVAL,
        };
        let Some(cb) = notify else {
            log::warn!("set_notify: NULL callback");
            return -libc::EINVAL;
        };
        // SAFETY: `dev` is the live device (checked above, and LIVE stays locked so close cannot
        // free it meanwhile); fingerprintd checks that this field holds the callback.
        unsafe { (*dev).notify = Some(cb) };
        device.set_sink(Some(c_sink(cb)));
        0
    })
}

unsafe extern "C" fn pre_enroll(dev: *mut fingerprint_device_t) -> u64 {
    u64_call("pre_enroll", dev, |d| d.pre_enroll())
}

unsafe extern "C" fn enroll(
    dev: *mut fingerprint_device_t,
    hat: *const hw_auth_token_t,
    gid: u32,
    timeout_sec: u32,
) -> c_int {
    int_call("enroll", dev, |d| {
        // A NULL token is reported like any bad token: ERROR(UNABLE_TO_PROCESS) through notify.
        let bytes = if hat.is_null() {
            [0u8; HAT_LEN]
        } else {
            let mut b = [0u8; HAT_LEN];
            // SAFETY: a non-NULL `hat` points at a 69-byte hw_auth_token_t (the contract's type);
            // it is read bytewise, so alignment does not matter.
            unsafe { std::ptr::copy_nonoverlapping(hat.cast::<u8>(), b.as_mut_ptr(), HAT_LEN) };
            b
        };
        d.enroll(bytes, gid, timeout_sec)
    })
}

unsafe extern "C" fn post_enroll(dev: *mut fingerprint_device_t) -> c_int {
    int_call("post_enroll", dev, |d| d.post_enroll())
}

unsafe extern "C" fn get_authenticator_id(dev: *mut fingerprint_device_t) -> u64 {
    u64_call("get_authenticator_id", dev, |d| d.get_authenticator_id())
}

unsafe extern "C" fn cancel(dev: *mut fingerprint_device_t) -> c_int {
    int_call("cancel", dev, |d| d.cancel())
}

unsafe extern "C" fn enumerate(dev: *mut fingerprint_device_t) -> c_int {
    int_call("enumerate", dev, |d| d.enumerate())
}

unsafe extern "C" fn remove(dev: *mut fingerprint_device_t, gid: u32, fid: u32) -> c_int {
    int_call("remove", dev, |d| d.remove(gid, fid))
}

unsafe extern "C" fn set_active_group(dev: *mut fingerprint_device_t, gid: u32, store_path: *const c_char) -> c_int {
    int_call("set_active_group", dev, |d| {
        if store_path.is_null() {
            return Err(HalError::InvalidArgument("NULL group path".into()));
        }
        // SAFETY: a non-NULL `store_path` is a NUL-terminated string (the contract's type).
        let path = unsafe { CStr::from_ptr(store_path) };
        let path = path.to_str().map_err(|_| HalError::InvalidArgument("group path is not UTF-8".into()))?;
        d.set_active_group(gid, path)
    })
}

unsafe extern "C" fn authenticate(dev: *mut fingerprint_device_t, operation_id: u64, gid: u32) -> c_int {
    int_call("authenticate", dev, |d| d.authenticate(operation_id, gid))
}
