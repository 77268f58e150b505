//! Qualcomm's QSEECom client library (`libQSEEComAPI.so`), opened at run time: the vendor partition
//! has it, the build machine does not, so fphal has no link dependency on it. This module is the
//! only code that touches the library's pointers; what it hands out are byte copies.
//!
//! Facts (prototypes, the handle, the descriptor table of a modified command) are from Qualcomm's
//! `QSEEComAPI.h` as published in device trees (e.g. `securemsm/QSEEComAPI/QSEEComAPI.h`).

use std::ffi::{CString, c_char, c_int, c_void};
use std::fmt;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::Arc;

/// `struct QSEECom_handle`: the library's per-app handle. Its one public member is the shared
/// buffer the library allocated for the app at start (`sb_size` bytes, at least).
#[repr(C)]
struct QseeComHandle {
    ion_sbuffer: *mut u8,
}

/// `struct QSEECom_ion_fd_data`: a descriptor whose buffer's physical address the kernel writes into
/// the request at `cmd_buf_offset`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct IonFdData {
    fd: i32,
    cmd_buf_offset: u32,
}

/// `struct QSEECom_ion_fd_info`: four of them; unused entries have `fd` 0.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct IonFdInfo {
    data: [IonFdData; 4],
}

/// How many shared descriptors one modified command may carry.
pub const MAX_SHARED_FDS: usize = 4;

type StartApp = unsafe extern "C" fn(*mut *mut QseeComHandle, *const c_char, *const c_char, u32) -> c_int;
type ShutdownApp = unsafe extern "C" fn(*mut *mut QseeComHandle) -> c_int;
type SendCmd = unsafe extern "C" fn(*mut QseeComHandle, *mut c_void, u32, *mut c_void, u32) -> c_int;
type SendModifiedCmd =
    unsafe extern "C" fn(*mut QseeComHandle, *mut c_void, u32, *mut c_void, u32, *mut IonFdInfo) -> c_int;
type SetBandwidth = unsafe extern "C" fn(*mut QseeComHandle, bool) -> c_int;

/// A failure of the library or of the call into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QseeComError {
    /// `dlopen` or `dlsym` failed; the text is the dynamic linker's.
    Load(String),
    /// The library returned non-zero; `errno` as it left it (0 when it set none).
    Call { function: &'static str, ret: i32, errno: i32 },
    /// The request and response do not fit the app's shared buffer.
    TooLarge { needed: usize, size: usize },
    /// A name or path with a NUL byte in it.
    BadName(String),
    /// A shared buffer on descriptor 0, which the kernel reads as "no buffer".
    SharedOnZero,
}

impl fmt::Display for QseeComError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QseeComError::Load(why) => f.write_str(why),
            QseeComError::Call { function, ret, errno } => write!(f, "{function} returned {ret} (errno {errno})"),
            QseeComError::TooLarge { needed, size } => {
                write!(f, "{needed} bytes of request and response do not fit the {size}-byte shared buffer")
            }
            QseeComError::BadName(n) => write!(f, "{n:?} has a NUL byte"),
            QseeComError::SharedOnZero => {
                f.write_str("a shared buffer on descriptor 0, which the kernel reads as none")
            }
        }
    }
}

impl std::error::Error for QseeComError {}

/// A `dlopen`ed library, closed when dropped.
struct Library {
    handle: NonNull<c_void>,
    name: String,
}

impl Library {
    fn open(name: &str) -> Result<Library, QseeComError> {
        let c_name = CString::new(name).map_err(|_| QseeComError::BadName(name.into()))?;
        // SAFETY: a valid C string; RTLD_NOW resolves everything now, so a missing symbol of the
        // library's own fails here and not in the middle of a command.
        let raw = unsafe { libc::dlopen(c_name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        match NonNull::new(raw) {
            Some(handle) => Ok(Library { handle, name: name.into() }),
            None => Err(QseeComError::Load(format!("cannot load {name}: {}", super::dl_error()))),
        }
    }

    fn symbol(&self, name: &str) -> Result<*mut c_void, QseeComError> {
        let c_name = CString::new(name).map_err(|_| QseeComError::BadName(name.into()))?;
        // SAFETY: the handle is open (closed only in Drop), the name a valid C string.
        let p = unsafe { libc::dlsym(self.handle.as_ptr(), c_name.as_ptr()) };
        if p.is_null() {
            return Err(QseeComError::Load(format!("{} has no {name}: {}", self.name, super::dl_error())));
        }
        Ok(p)
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: the handle came from dlopen and is closed once; every `App` borrows the `QseeCom`
        // that owns this, so no entry point is called after it.
        unsafe { libc::dlclose(self.handle.as_ptr()) };
    }
}

/// The opened library and its entry points.
pub struct QseeCom {
    start_app: StartApp,
    shutdown_app: ShutdownApp,
    send_cmd: SendCmd,
    send_modified_cmd: SendModifiedCmd,
    set_bandwidth: Option<SetBandwidth>,
    // Last, so that it is closed after nothing else can use the entry points.
    _library: Library,
}

// SAFETY: the function pointers are plain addresses valid until `dlclose`, which only dropping the
// `Library` does; QSEECom's entry points take the app handle as their state, and each `App` is used
// by one thread at a time (`&mut` for every call).
unsafe impl Send for QseeCom {}
// SAFETY: as above; nothing in `QseeCom` is mutated after `open`.
unsafe impl Sync for QseeCom {}

impl QseeCom {
    /// `dlopen`s `library` (a name the linker searches for, or a path) and finds its entry points.
    pub fn open(library: &str) -> Result<QseeCom, QseeComError> {
        let lib = Library::open(library)?;
        let start = lib.symbol("QSEECom_start_app")?;
        let shutdown = lib.symbol("QSEECom_shutdown_app")?;
        let send = lib.symbol("QSEECom_send_cmd")?;
        let modified = lib.symbol("QSEECom_send_modified_cmd")?;
        let bandwidth = lib.symbol("QSEECom_set_bandwidth").ok();
        // SAFETY: each address is the named entry point of libQSEEComAPI, whose C prototype
        // (QSEEComAPI.h) is the function type it is converted to.
        unsafe {
            Ok(QseeCom {
                start_app: std::mem::transmute::<*mut c_void, StartApp>(start),
                shutdown_app: std::mem::transmute::<*mut c_void, ShutdownApp>(shutdown),
                send_cmd: std::mem::transmute::<*mut c_void, SendCmd>(send),
                send_modified_cmd: std::mem::transmute::<*mut c_void, SendModifiedCmd>(modified),
                set_bandwidth: bandwidth.map(|p| std::mem::transmute::<*mut c_void, SetBandwidth>(p)),
                _library: lib,
            })
        }
    }

    /// Starts (loads) the trustlet `name` from `path` with a shared buffer of `sb_size` bytes.
    pub fn start_app(self: &Arc<Self>, path: &str, name: &str, sb_size: u32) -> Result<App, QseeComError> {
        let c_path = CString::new(path).map_err(|_| QseeComError::BadName(path.into()))?;
        let c_name = CString::new(name).map_err(|_| QseeComError::BadName(name.into()))?;
        let mut handle: *mut QseeComHandle = std::ptr::null_mut();
        errno::clear();
        // SAFETY: `handle` is a writable pointer slot; the strings live across the call.
        let ret = unsafe { (self.start_app)(&mut handle, c_path.as_ptr(), c_name.as_ptr(), sb_size) };
        let errno = errno::get();
        if ret != 0 || handle.is_null() {
            return Err(QseeComError::Call { function: "QSEECom_start_app", ret, errno });
        }
        // SAFETY: a successful start returns a handle the library allocated, readable until shutdown.
        let sbuffer = unsafe { (*handle).ion_sbuffer };
        if sbuffer.is_null() {
            let mut h = handle;
            // SAFETY: the handle came from start_app and is shut down once, here.
            unsafe { (self.shutdown_app)(&mut h) };
            return Err(QseeComError::Call { function: "QSEECom_start_app (no shared buffer)", ret: 0, errno: 0 });
        }
        Ok(App { lib: Arc::clone(self), handle, size: sb_size as usize })
    }
}

/// One started trustlet. Shut down when dropped.
pub struct App {
    lib: Arc<QseeCom>,
    handle: *mut QseeComHandle,
    size: usize,
}

// SAFETY: the handle is used only through `&mut self` (one thread at a time); QSEECom handles are
// not tied to the thread that started them.
unsafe impl Send for App {}

impl App {
    /// The shared buffer's size as requested at start.
    pub fn buffer_size(&self) -> usize {
        self.size
    }

    /// Sends one command: `request` at the start of the shared buffer, `send_len` bytes of it
    /// handed over (the rest zeros), and returns a copy of the `response_len` bytes the trustlet
    /// wrote at `response_at`. Each `(fd, offset)` in `shared` is a buffer whose address the kernel
    /// writes into the request at `offset` (a modified command); with none it is a plain command.
    pub fn exchange(
        &mut self,
        request: &[u8],
        send_len: usize,
        response_at: usize,
        response_len: usize,
        shared: &[(BorrowedFd<'_>, u32)],
    ) -> Result<Vec<u8>, QseeComError> {
        // The kernel patches only entries whose descriptor is above 0 (0 marks an unused entry):
        // a buffer on descriptor 0 would reach the trustlet as address 0.
        if shared.iter().any(|(fd, _)| fd.as_raw_fd() <= 0) {
            return Err(QseeComError::SharedOnZero);
        }
        let needed = response_at.saturating_add(response_len);
        if request.len() > send_len || send_len > response_at || needed > self.size || shared.len() > MAX_SHARED_FDS {
            return Err(QseeComError::TooLarge { needed: needed.max(send_len), size: self.size });
        }
        // SAFETY: the handle is live (shut down only in Drop) and its buffer holds `self.size` bytes
        // (the size start_app was given); `&mut self` keeps any other use of it out for this call.
        let buffer = unsafe { std::slice::from_raw_parts_mut((*self.handle).ion_sbuffer, self.size) };
        buffer[..needed].fill(0);
        buffer[..request.len()].copy_from_slice(request);
        let (send, rest) = buffer.split_at_mut(response_at);
        let send = send.as_mut_ptr().cast::<c_void>();
        let recv = rest.as_mut_ptr().cast::<c_void>();
        let (send_len, recv_len) = (send_len as u32, response_len as u32);
        errno::clear();
        let (function, ret) = if shared.is_empty() {
            // SAFETY: both areas lie inside the app's shared buffer, do not overlap, and are as long
            // as the lengths passed.
            ("QSEECom_send_cmd", unsafe { (self.lib.send_cmd)(self.handle, send, send_len, recv, recv_len) })
        } else {
            let mut info = IonFdInfo::default();
            for (slot, (fd, offset)) in info.data.iter_mut().zip(shared) {
                *slot = IonFdData { fd: fd.as_raw_fd(), cmd_buf_offset: *offset };
            }
            // SAFETY: as for send_cmd; the descriptors stay open for the call (borrowed), and `info`
            // is a live table of four entries.
            let ret = unsafe { (self.lib.send_modified_cmd)(self.handle, send, send_len, recv, recv_len, &mut info) };
            ("QSEECom_send_modified_cmd", ret)
        };
        let errno = errno::get();
        if ret != 0 {
            return Err(QseeComError::Call { function, ret, errno });
        }
        // SAFETY: as above; re-borrowed after the call, which may have written the response area.
        let buffer = unsafe { std::slice::from_raw_parts((*self.handle).ion_sbuffer, self.size) };
        Ok(buffer[response_at..needed].to_vec())
    }

    /// Asks for high (`true`) or normal bus bandwidth around heavy commands; a library without the
    /// entry point ignores the hint.
    pub fn set_bandwidth(&mut self, high: bool) -> Result<(), QseeComError> {
        let Some(f) = self.lib.set_bandwidth else { return Ok(()) };
        errno::clear();
        // SAFETY: a live handle, a plain value.
        let ret = unsafe { f(self.handle, high) };
        if ret != 0 {
            return Err(QseeComError::Call { function: "QSEECom_set_bandwidth", ret, errno: errno::get() });
        }
        Ok(())
    }

    /// Wipes the shared buffer (it held keys, tokens and templates on their way through).
    fn wipe(&mut self) {
        // SAFETY: as in `exchange`.
        let buffer = unsafe { std::slice::from_raw_parts_mut((*self.handle).ion_sbuffer, self.size) };
        zeroize::Zeroize::zeroize(buffer);
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.wipe();
        // SAFETY: the handle came from start_app and is shut down once, here; the library writes
        // null into the slot.
        let ret = unsafe { (self.lib.shutdown_app)(&mut self.handle) };
        if ret != 0 {
            log::warn!("QSEECom_shutdown_app returned {ret}");
        }
    }
}

mod errno {
    /// The calling thread's `errno`.
    pub fn get() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    pub fn clear() {
        // SAFETY: the errno location is the calling thread's own int.
        unsafe { *errno_location() = 0 };
    }

    #[cfg(target_os = "android")]
    fn errno_location() -> *mut i32 {
        // SAFETY: bionic's `__errno` returns the thread's errno slot.
        unsafe { libc::__errno() }
    }

    #[cfg(not(target_os = "android"))]
    fn errno_location() -> *mut i32 {
        // SAFETY: glibc's `__errno_location` returns the thread's errno slot.
        unsafe { libc::__errno_location() }
    }
}
