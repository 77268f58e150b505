//! A stand-in for Qualcomm's `libQSEEComAPI.so`, for tests on a machine without QSEE: it exports the
//! library's entry points (`QSEEComAPI.h`) and hosts, behind them, a simulated keymaster trustlet and a
//! simulated FPC fingerprint trustlet of the yoshino/nile/tama generations. fphal loads it through the
//! same `dlopen` path as the real library.
//!
//! It is written from the published facts (Sony's `vendor-sony-oss-fingerprint` `tz_api_*.h` and
//! `fpc_imp_yoshino_nile_tama.c`; the keymaster command of `fpc_tee_hw_auth_qsee.c`; the kernel's
//! checks in `qseecom.c` `__validate_send_cmd_inputs`), on its own: fphal's golden byte vectors
//! check fphal against the same facts independently of it.
//!
//! The simulated fingerprint trustlet "captures" the finger the test placed
//! (`fphal_qsee_double_place_finger`), matches fingers by that number, keeps its database in the file
//! the HAL names, and signs auth tokens with the key the simulated keymaster hands over. Failure
//! switches (`fphal_qsee_double_fail`) make it misbehave the ways real ones do.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// `struct QSEECom_handle` (`QSEEComAPI.h`): one public member.
#[repr(C)]
pub struct QseeComHandle {
    ion_sbuffer: *mut u8,
}

/// `struct QSEECom_ion_fd_info`: four `{i32 fd; u32 cmd_buf_offset}`.
#[repr(C)]
pub struct IonFdInfo {
    data: [[u32; 2]; 4],
}

// Failure switches (c-tests/qsee_double.h has the same numbers).
pub const FAIL_NONE: u32 = 0;
/// The fingerprint trustlet's image is missing: start_app fails with ENOENT.
pub const FAIL_APP_MISSING: u32 = 1;
/// The keymaster answers the key request with status `arg` and no key.
pub const FAIL_KEYMASTER_STATUS: u32 = 2;
/// The keymaster answers status 0 with an offset and length outside its answer.
pub const FAIL_KEYMASTER_BOUNDS: u32 = 3;
/// The fingerprint trustlet dies after `arg` enroll steps: every later command fails as the kernel
/// fails commands to a killed app (EINVAL), until the app is started again.
pub const FAIL_DIE_MID_ENROLL: u32 = 4;
/// Every fingerprint trustlet command takes `arg` ms.
pub const FAIL_SLOW: u32 = 5;
/// The next `arg` fingerprint trustlet commands are answered with FPC_ERROR_HARDWARE (-9).
pub const FAIL_ERROR_STORM: u32 = 6;

// Counters for fphal_qsee_double_count.
pub const COUNT_APP_STARTS: u32 = 1;
pub const COUNT_COMMANDS: u32 = 2;
pub const COUNT_ERROR_ANSWERS: u32 = 3;
pub const COUNT_OPEN_APPS: u32 = 4;
/// 1 while the bus is at high bandwidth (`QSEECom_set_bandwidth(handle, true)`), else 0.
pub const COUNT_HIGH_BANDWIDTH: u32 = 5;
/// How many times high bandwidth was asked for.
pub const COUNT_BANDWIDTH_RAISES: u32 = 6;

/// The auth-token key the simulated keymaster holds (a fixed test value).
const AUTH_KEY: [u8; 32] = *b"fphal-qsee-double-auth-token-key";
/// The simulated keymaster's encapsulation: a tag, then the key.
const WRAP_TAG: &[u8; 8] = b"KMWRAP01";
const KEYMASTER_NAMES: &[&str] = &["keymaster64", "keymaster", "keymaste"];
const QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME: i32 = 0xFF00_0FFCu32 as i32;
const ADDRESS_OFFSET: usize = 4;
const ENROLL_TOUCHES: u32 = 4;

/// Command ids of one generation (`tz_api_yoshino.h`, `tz_api_nile.h`, `tz_api_tama.h`).
#[derive(Clone, Copy)]
struct Ids {
    app: &'static str,
    sensor_wake: Option<u32>,
    wait_finger_lost: u32,
    identify_len: usize,
}

const TEMPLATE: u32 = 0x0b;
const SENSOR: u32 = 0x0a;
const DB: u32 = 2;
const FPCDATA: u32 = 3;

fn ids(generation: &str) -> Option<Ids> {
    match generation {
        "yoshino" => Some(Ids { app: "tzfingerprint", sensor_wake: None, wait_finger_lost: 0, identify_len: 24 }),
        "nile" => Some(Ids { app: "fpctzapp", sensor_wake: None, wait_finger_lost: 0, identify_len: 24 }),
        "tama" => Some(Ids { app: "fpctzfingerprint", sensor_wake: Some(0), wait_finger_lost: 1, identify_len: 40 }),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AppKind {
    Keymaster,
    Fingerprint,
}

struct OpenApp {
    kind: AppKind,
    buffer: Box<[u8]>,
    handle: Box<QseeComHandle>,
}

// SAFETY: the handle's pointer points into `buffer`, owned by the same value; access is under STATE.
unsafe impl Send for OpenApp {}

#[derive(Default)]
struct Fingerprint {
    key: Option<[u8; 32]>,
    gid: u32,
    /// (print id, finger) of the loaded database.
    prints: Vec<(u32, u32)>,
    next_fid: u32,
    enrolling: Option<(u32, u32)>,
    challenge: u64,
    operation_id: u64,
    matched: Option<u32>,
    armed: bool,
    captured: Option<u32>,
    dead: bool,
    update_count: u32,
}

struct State {
    ids: Ids,
    apps: HashMap<usize, OpenApp>,
    fp: Fingerprint,
    finger: u32,
    capture_result: i32,
    failure: u32,
    arg: i64,
    app_starts: u64,
    commands: u64,
    error_answers: u64,
    enroll_steps: u64,
    high_bandwidth: bool,
    bandwidth_raises: u64,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn fresh() -> State {
    State {
        ids: ids("tama").expect("known"),
        apps: HashMap::new(),
        fp: Fingerprint { next_fid: 0x1000, ..Fingerprint::default() },
        finger: 1,
        capture_result: 0,
        failure: FAIL_NONE,
        arg: 0,
        app_starts: 0,
        commands: 0,
        error_answers: 0,
        enroll_steps: 0,
        high_bandwidth: false,
        bandwidth_raises: 0,
    }
}

fn state() -> MutexGuard<'static, Option<State>> {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = Some(fresh());
    }
    g
}

fn set_errno(e: c_int) {
    // SAFETY: the calling thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).map_or(0, |s| u32::from_le_bytes(s.try_into().unwrap()))
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    if let Some(s) = b.get_mut(at..at + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: callers pass NUL-terminated strings (QSEEComAPI.h).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// `QSEECom_start_app`.
///
/// # Safety
/// As the real library: `handle` a writable pointer slot, the strings NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn QSEECom_start_app(
    handle: *mut *mut QseeComHandle,
    path: *const c_char,
    name: *const c_char,
    sb_size: u32,
) -> c_int {
    let _ = text(path);
    let name = text(name);
    let mut g = state();
    let s = g.as_mut().expect("initialised");
    let kind = if KEYMASTER_NAMES.contains(&name.as_str()) {
        AppKind::Keymaster
    } else if name == s.ids.app && s.failure != FAIL_APP_MISSING {
        AppKind::Fingerprint
    } else {
        eprintln!("QSEECOMAPI (double): Error::Cannot open the file {name}.mdt errno = 2");
        set_errno(libc::ENOENT);
        return -1;
    };
    if handle.is_null() || sb_size == 0 {
        set_errno(libc::EINVAL);
        return -1;
    }
    if kind == AppKind::Fingerprint {
        s.app_starts += 1;
        // A fresh load of the app: its memory starts empty.
        s.fp = Fingerprint { next_fid: s.fp.next_fid, ..Fingerprint::default() };
    }
    // The library rounds the buffer up to whole pages.
    let mut buffer = vec![0u8; (sb_size as usize).div_ceil(4096) * 4096].into_boxed_slice();
    let mut h = Box::new(QseeComHandle { ion_sbuffer: buffer.as_mut_ptr() });
    let key = &mut *h as *mut QseeComHandle as usize;
    // SAFETY: the caller's slot is writable.
    unsafe { *handle = &mut *h };
    s.apps.insert(key, OpenApp { kind, buffer, handle: h });
    0
}

/// `QSEECom_shutdown_app`.
///
/// # Safety
/// `handle` points at a handle slot filled by `QSEECom_start_app`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn QSEECom_shutdown_app(handle: *mut *mut QseeComHandle) -> c_int {
    if handle.is_null() {
        return -1;
    }
    // SAFETY: a readable slot, per the contract.
    let key = unsafe { *handle } as usize;
    let mut g = state();
    let s = g.as_mut().expect("initialised");
    match s.apps.remove(&key) {
        Some(app) => {
            drop(app.handle);
            // SAFETY: as above.
            unsafe { *handle = std::ptr::null_mut() };
            0
        }
        None => {
            set_errno(libc::EINVAL);
            -1
        }
    }
}

/// The kernel's checks of a command's buffers (`__validate_send_cmd_inputs`): both inside the app's
/// buffer, a non-empty request, lengths that fit. Returns the offsets of the two areas.
fn validate(
    app: &OpenApp,
    send: *mut c_void,
    send_len: u32,
    recv: *mut c_void,
    recv_len: u32,
) -> Option<(usize, usize)> {
    let base = app.buffer.as_ptr() as usize;
    let len = app.buffer.len();
    let inside = |p: *mut c_void, n: u32| {
        let p = p as usize;
        p >= base && p - base + n as usize <= len
    };
    if send_len == 0
        || (send_len as usize + recv_len as usize) > len
        || !inside(send, send_len)
        || !inside(recv, recv_len)
    {
        return None;
    }
    Some((send as usize - base, recv as usize - base))
}

/// The app behind `handle` and its command's two areas, or EINVAL.
fn app_areas(
    s: &mut State,
    handle: *mut QseeComHandle,
    send: *mut c_void,
    send_len: u32,
    recv: *mut c_void,
    recv_len: u32,
) -> Option<(&mut OpenApp, usize, usize)> {
    let app = s.apps.get_mut(&(handle as usize));
    let found = app.and_then(|app| validate(app, send, send_len, recv, recv_len).map(|(a, b)| (app, a, b)));
    if found.is_none() {
        set_errno(libc::EINVAL);
    }
    found
}

/// `QSEECom_send_cmd`: the keymaster's command.
///
/// # Safety
/// `handle` from `QSEECom_start_app`; the buffers inside its shared buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn QSEECom_send_cmd(
    handle: *mut QseeComHandle,
    send: *mut c_void,
    send_len: u32,
    recv: *mut c_void,
    recv_len: u32,
) -> c_int {
    let mut g = state();
    let s = g.as_mut().expect("initialised");
    let fp_running = s.apps.values().any(|a| a.kind == AppKind::Fingerprint);
    let (failure, arg) = (s.failure, s.arg);
    let Some((app, at_send, at_recv)) = app_areas(s, handle, send, send_len, recv, recv_len) else { return -1 };
    if app.kind != AppKind::Keymaster {
        // The fingerprint trustlet takes its commands in a shared buffer (modified commands).
        set_errno(libc::EINVAL);
        return -1;
    }
    let request = app.buffer[at_send..at_send + send_len as usize].to_vec();
    let answer = &mut app.buffer[at_recv..at_recv + recv_len as usize];
    answer.fill(0);
    if u32_at(&request, 0) != 0x205 || u32_at(&request, 4) != 2 {
        put_u32(answer, 0, (-38i32) as u32);
        return 0;
    }
    let status = match failure {
        FAIL_KEYMASTER_STATUS => arg as i32,
        // The keymaster addresses the key to the fingerprint trustlet: it must be loaded.
        _ if !fp_running => QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME,
        _ => 0,
    };
    put_u32(answer, 0, status as u32);
    if status != 0 {
        return 0;
    }
    let (offset, blob_len) = (16usize, WRAP_TAG.len() + AUTH_KEY.len());
    if failure == FAIL_KEYMASTER_BOUNDS {
        put_u32(answer, 4, recv_len - 8);
        put_u32(answer, 8, blob_len as u32);
        return 0;
    }
    put_u32(answer, 4, offset as u32);
    put_u32(answer, 8, blob_len as u32);
    if offset + blob_len <= answer.len() {
        answer[offset..offset + 8].copy_from_slice(WRAP_TAG);
        answer[offset + 8..offset + blob_len].copy_from_slice(&AUTH_KEY);
    }
    0
}

/// `QSEECom_send_modified_cmd`: the fingerprint trustlet's commands. The request is `{u32 length,
/// u32 address}` with the address patched by the "kernel" (here: the shared descriptor's number),
/// and the command struct lives in the shared buffer.
///
/// # Safety
/// `handle` from `QSEECom_start_app`; the buffers inside its shared buffer; `info` a table of four.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn QSEECom_send_modified_cmd(
    handle: *mut QseeComHandle,
    send: *mut c_void,
    send_len: u32,
    recv: *mut c_void,
    recv_len: u32,
    info: *mut IonFdInfo,
) -> c_int {
    let delay = {
        let g = state();
        let s = g.as_ref().expect("initialised");
        if s.failure == FAIL_SLOW { s.arg.max(0) as u64 } else { 0 }
    };
    if delay > 0 {
        std::thread::sleep(Duration::from_millis(delay));
    }
    let mut g = state();
    let s = g.as_mut().expect("initialised");
    if info.is_null() {
        set_errno(libc::EINVAL);
        return -1;
    }
    // SAFETY: a table of four entries, per the contract.
    let info = unsafe { &*info };
    let dead = s.fp.dead;
    let Some((app, at_send, at_recv)) = app_areas(s, handle, send, send_len, recv, recv_len) else { return -1 };
    // Every entry's offset must lie inside the request (qseecom.c rejects the command otherwise).
    if info.data.iter().any(|[_, offset]| *offset >= send_len) {
        set_errno(libc::EINVAL);
        return -1;
    }
    let [fd, offset] = info.data[0];
    if app.kind != AppKind::Fingerprint || fd as i32 <= 0 || offset as usize != ADDRESS_OFFSET {
        set_errno(libc::EINVAL);
        return -1;
    }
    if dead {
        eprintln!("QSEECOMAPI (double): Error::send modified command ioctl failed errno = 22");
        set_errno(libc::EINVAL);
        return -1;
    }
    // The "kernel" writes the buffer's address into the request.
    put_u32(&mut app.buffer[at_send..], offset as usize, 0x8000_0000 | fd);
    let length = u32_at(&app.buffer[at_send..], 0) as usize;
    let answer_at = at_recv;
    let Some(mut shared) = Mapping::new(fd as i32, length) else {
        set_errno(libc::EINVAL);
        return -1;
    };
    s.commands += 1;
    let bytes = shared.bytes();
    if s.failure == FAIL_ERROR_STORM && s.arg > 0 {
        s.arg -= 1;
        s.error_answers += 1;
        put_u32(bytes, 8, (-9i32) as u32);
        if u32_at(bytes, 0) == FPCDATA && bytes.len() >= 20 {
            put_u32(bytes, 16, (-9i32) as u32);
        }
    } else {
        fingerprint_command(s, bytes);
    }
    let app = s.apps.get_mut(&(handle as usize)).expect("looked up above");
    put_u32(&mut app.buffer[answer_at..], 0, 0);
    0
}

/// `QSEECom_set_bandwidth`: recorded for the tests.
#[unsafe(no_mangle)]
pub extern "C" fn QSEECom_set_bandwidth(handle: *mut QseeComHandle, high: bool) -> c_int {
    let mut g = state();
    let s = g.as_mut().expect("initialised");
    if !s.apps.contains_key(&(handle as usize)) {
        set_errno(libc::EINVAL);
        return -1;
    }
    s.high_bandwidth = high;
    s.bandwidth_raises += u64::from(high);
    0
}

/// A shared buffer mapped for one command.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(fd: i32, len: usize) -> Option<Mapping> {
        if len == 0 || len % 4096 != 0 {
            return None;
        }
        // SAFETY: fstat into a local struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::fstat(fd, &mut st) } != 0 || (st.st_size as usize) < len {
            return None;
        }
        // SAFETY: a fresh shared mapping of a descriptor the caller passed, checked against MAP_FAILED.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        Some(Mapping { ptr: p.cast(), len })
    }

    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes until Drop.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: mapped in `new` with this length.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A byte-array command's payload: `length` at 12, the bytes from 16.
fn payload(b: &[u8]) -> Option<Vec<u8>> {
    let n = u32_at(b, 12) as usize;
    b.get(16..16 + n).map(<[u8]>::to_vec)
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

fn template_id(fp: &Fingerprint) -> u64 {
    let mut id = 0xcbf2_9ce4_8422_2325u64 ^ fp.gid as u64;
    for (fid, _) in &fp.prints {
        id = (id ^ *fid as u64).wrapping_mul(0x100_0000_01b3);
    }
    id | 1
}

fn load_db(fp: &mut Fingerprint, path: &str) -> i32 {
    let Ok(text) = std::fs::read_to_string(path) else { return -6 };
    let mut lines = text.lines();
    if lines.next() != Some("fphal-qsee-double-db 1") {
        return -17;
    }
    let mut prints = Vec::new();
    for line in lines {
        let mut parts = line.split_whitespace().map(str::parse::<u32>);
        match (parts.next(), parts.next()) {
            (Some(Ok(fid)), Some(Ok(finger))) => prints.push((fid, finger)),
            _ => return -18,
        }
    }
    fp.next_fid = fp.next_fid.max(prints.iter().map(|p| p.0 + 1).max().unwrap_or(0));
    fp.prints = prints;
    0
}

fn store_db(fp: &Fingerprint, path: &str) -> i32 {
    let mut text = String::from("fphal-qsee-double-db 1\n");
    for (fid, finger) in &fp.prints {
        text.push_str(&format!("{fid} {finger}\n"));
    }
    if std::fs::write(path, text).is_ok() { 0 } else { -6 }
}

/// The simulated FPC trustlet: one command in `b` (the shared buffer), answered in place.
fn fingerprint_command(s: &mut State, b: &mut [u8]) {
    let (group, cmd) = (u32_at(b, 0), u32_at(b, 4));
    let State { ids, fp, finger, capture_result, failure, arg, enroll_steps, .. } = s;
    let (ids, finger, capture_result, failure, arg) = (*ids, *finger, *capture_result, *failure, *arg);
    if fp.key.is_none() && (group, cmd) != (FPCDATA, 5) {
        put_u32(b, 8, (-11i32) as u32);
        return;
    }
    let status: i32 = match (group, cmd) {
        (FPCDATA, 5) => match payload(b) {
            Some(p) if p.len() == WRAP_TAG.len() + 32 && p.starts_with(WRAP_TAG) => {
                fp.key = Some(p[8..].try_into().expect("32 bytes"));
                0
            }
            _ => -16,
        },
        (FPCDATA, 2) => {
            fp.challenge = fp.challenge.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(0x9e37_79b9_7f4a_7c15) | 1;
            put_u64(b, 8, fp.challenge);
            put_u32(b, 16, 0);
            return;
        }
        (FPCDATA, 1) => {
            fp.operation_id = u64::from_le_bytes(b[8..16].try_into().expect("8 bytes"));
            put_u32(b, 16, 0);
            return;
        }
        (FPCDATA, 3) => match payload(b) {
            Some(hat) if hat.len() == 69 => {
                let key = fp.key.expect("checked above");
                let challenge = u64::from_le_bytes(hat[1..9].try_into().expect("8 bytes"));
                let good = hat[0] == 0 && hmac(&key, &hat[..37])[..] == hat[37..] && challenge == fp.challenge;
                if good { 0 } else { -1 }
            }
            _ => -1,
        },
        (FPCDATA, 4) => {
            let Some(fid) = fp.matched.take() else {
                put_u32(b, 8, (-1i32) as u32);
                return;
            };
            let key = fp.key.expect("checked above");
            let mut hat = [0u8; 69];
            hat[1..9].copy_from_slice(&fp.operation_id.to_le_bytes());
            hat[9..17].copy_from_slice(&(0x5ec0_0000_0000_0000u64 | fid as u64).to_le_bytes());
            hat[17..25].copy_from_slice(&template_id(fp).to_le_bytes());
            hat[25..29].copy_from_slice(&2u32.to_be_bytes());
            hat[29..37].copy_from_slice(&1234u64.to_be_bytes());
            let mac = hmac(&key, &hat[..37]);
            hat[37..].copy_from_slice(&mac);
            put_u32(b, 8, 0);
            put_u32(b, 12, 69);
            b[16..85].copy_from_slice(&hat);
            return;
        }
        (DB, 0x0b) => match payload(b) {
            Some(p) if p.last() == Some(&0) => load_db(fp, &String::from_utf8_lossy(&p[..p.len() - 1])),
            _ => -1,
        },
        (DB, 0x0c) => match payload(b) {
            Some(p) if p.last() == Some(&0) => store_db(fp, &String::from_utf8_lossy(&p[..p.len() - 1])),
            _ => -1,
        },
        (TEMPLATE, 6) => {
            fp.prints.clear();
            0
        }
        (TEMPLATE, 9) => {
            fp.gid = u32_at(b, 12);
            0
        }
        (TEMPLATE, 7) => {
            if u32_at(b, 12) < 5 {
                put_u32(b, 8, (-1i32) as u32);
                return;
            }
            put_u32(b, 12, fp.prints.len() as u32);
            let ids: Vec<u32> = fp.prints.iter().map(|p| p.0).collect();
            for (i, fid) in ids.iter().enumerate() {
                put_u32(b, 16 + 4 * i, *fid);
            }
            0
        }
        (TEMPLATE, 8) => {
            let fid = u32_at(b, 12);
            let before = fp.prints.len();
            fp.prints.retain(|p| p.0 != fid);
            if fp.prints.len() < before { 0 } else { -8 }
        }
        (TEMPLATE, 0x0a) => {
            put_u32(b, 8, 0);
            let id = template_id(fp);
            put_u64(b, 16, id);
            return;
        }
        (TEMPLATE, 0) => {
            fp.enrolling = Some((0, 0));
            0
        }
        (TEMPLATE, 1) => {
            let Some((steps, finger)) = fp.enrolling else {
                put_u32(b, 8, (-1i32) as u32);
                return;
            };
            let Some(captured) = fp.captured.take() else {
                put_u32(b, 8, (-1i32) as u32);
                return;
            };
            let finger = if steps == 0 { captured } else { finger };
            let steps = steps + 1;
            fp.enrolling = Some((steps, finger));
            *enroll_steps += 1;
            if failure == FAIL_DIE_MID_ENROLL && *enroll_steps >= arg as u64 {
                fp.dead = true;
            }
            let remaining = ENROLL_TOUCHES.saturating_sub(steps);
            put_u32(b, 12, remaining);
            if remaining > 0 { 1 } else { 0 }
        }
        (TEMPLATE, 2) => match fp.enrolling.take() {
            Some((steps, finger)) if steps >= ENROLL_TOUCHES => {
                let fid = fp.next_fid;
                fp.next_fid += 1;
                fp.prints.push((fid, finger));
                put_u32(b, 12, fid);
                0
            }
            _ => -1,
        },
        (TEMPLATE, 3) => {
            if b.len() < ids.identify_len {
                -1
            } else {
                match fp.captured.take() {
                    Some(finger) => {
                        let fid = fp.prints.iter().find(|p| p.1 == finger).map_or(0, |p| p.0);
                        fp.matched = (fid != 0).then_some(fid);
                        put_u32(b, 12, fid);
                        0
                    }
                    None => -1,
                }
            }
        }
        (TEMPLATE, 4) => {
            fp.update_count += 1;
            put_u32(b, 12, u32::from(fp.update_count % 3 == 0));
            0
        }
        (SENSOR, c) if Some(c) == ids.sensor_wake => 1,
        (SENSOR, c) if c == ids.wait_finger_lost => 1,
        (SENSOR, 2) => {
            fp.armed = true;
            0
        }
        (SENSOR, 3) => {
            if !fp.armed {
                -9
            } else {
                fp.armed = false;
                if capture_result == 0 {
                    fp.captured = Some(finger);
                }
                capture_result
            }
        }
        (SENSOR, 4) => 0,
        _ => -1,
    };
    put_u32(b, 8, status as u32);
}

/// Back to a fresh library: no apps, no failure, counters at 0, finger 1 placed (the database files
/// stay where they are).
#[unsafe(no_mangle)]
pub extern "C" fn fphal_qsee_double_reset() {
    *state() = Some(fresh());
}

/// Which generation the simulated trustlet speaks (`yoshino`, `nile`, `tama`); returns 0, or -1 for
/// an unknown one.
///
/// # Safety
/// `name` is NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fphal_qsee_double_set_generation(name: *const c_char) -> c_int {
    match ids(&text(name)) {
        Some(ids) => {
            state().as_mut().expect("initialised").ids = ids;
            0
        }
        None => -1,
    }
}

/// The finger the next captures see (a number; the same number is the same finger) and the capture's
/// result (0 good, 1..=5 an acquired code, negative a failure).
#[unsafe(no_mangle)]
pub extern "C" fn fphal_qsee_double_place_finger(finger: u32, capture_result: i32) {
    let mut g = state();
    let s = g.as_mut().expect("initialised");
    s.finger = finger;
    s.capture_result = capture_result;
}

/// Turns a failure switch on (`FAIL_*`, with its argument) or off (`FAIL_NONE`).
#[unsafe(no_mangle)]
pub extern "C" fn fphal_qsee_double_fail(switch: u32, arg: i64) {
    let mut g = state();
    let s = g.as_mut().expect("initialised");
    s.failure = switch;
    s.arg = arg;
    s.enroll_steps = 0;
}

/// A counter (`COUNT_*`).
#[unsafe(no_mangle)]
pub extern "C" fn fphal_qsee_double_count(what: u32) -> u64 {
    let g = state();
    let s = g.as_ref().expect("initialised");
    match what {
        COUNT_APP_STARTS => s.app_starts,
        COUNT_COMMANDS => s.commands,
        COUNT_ERROR_ANSWERS => s.error_answers,
        COUNT_OPEN_APPS => s.apps.len() as u64,
        COUNT_HIGH_BANDWIDTH => u64::from(s.high_bandwidth),
        COUNT_BANDWIDTH_RAISES => s.bandwidth_raises,
        _ => 0,
    }
}

/// The auth-token key the simulated keymaster hands over, for checking tokens' HMACs.
///
/// # Safety
/// `out` has room for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fphal_qsee_double_auth_key(out: *mut u8) {
    if !out.is_null() {
        // SAFETY: 32 writable bytes, per the contract.
        unsafe { std::ptr::copy_nonoverlapping(AUTH_KEY.as_ptr(), out, 32) };
    }
}
