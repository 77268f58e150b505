//! The bridge to an FPC fingerprint trustlet in Qualcomm's QSEE (`trustlet.kind = "qsee-fpc"`).
//!
//! It answers the HAL's requests (the same [`Request`]s the software trustlet answers) with FPC
//! trustlet commands, through Qualcomm's QSEECom library opened at run time. One session is: the
//! fingerprint trustlet started, the auth-token key fetched from the keymaster trustlet (after the
//! fingerprint trustlet, as the keymaster checks who asks) and handed over, the active group's
//! database loaded. A session that fails is restarted whole, with a growing pause between tries,
//! and the operation in flight ends with `HW_UNAVAILABLE`.
//!
//! Every answer is checked before use: the keymaster's status, offset and length
//! ([`keymaster::key`]), each command's delivery status and result, list lengths, the token's
//! length, challenge and type.

pub mod fpc;
pub mod keymaster;

use super::{AuthOutcome, ByteTrustlet, EnrollStep, Interrupt, Request, Response, TaError};
use crate::auth_token::{AuthToken, HAT_LEN, HW_AUTH_FINGERPRINT, HW_AUTH_TOKEN_VERSION};
use crate::codes::Acquired;
use crate::config::Config;
use crate::diagnose::ids;
use crate::sys::qseecom::{App, QseeCom, QseeComError};
use crate::sys::shared_mem::{Heap, SharedMemory};
use fpc::{Capture, Command, Generation};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The buffer commands travel in: two pages, so that a database path of `PATH_MAX` fits.
const SHARED_LEN: usize = 2 * fpc::PAGE;
/// The database file in a group's directory (Sony's `<path>/user.db`).
pub const DB_NAME: &str = "user.db";
/// The first pause before a failed session is started again.
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(250);

/// What the bridge needs from the configuration, resolved against the generation's defaults.
#[derive(Debug, Clone)]
pub struct QseeSettings {
    pub library: String,
    pub generation: &'static Generation,
    pub app_name: String,
    pub app_path: String,
    pub app_buffer_size: u32,
    pub keymaster_names: Vec<String>,
    pub keymaster_path: String,
    /// `qsee.shared_heap`, `heap_node`, `ion_heap_id`: resolved when buffers are allocated, on the
    /// device (the doctor reads settings on a host).
    pub shared_heap: String,
    pub heap_node: Option<PathBuf>,
    pub ion_heap_id: u32,
    pub max_errors: u32,
    pub restart_max: Duration,
    pub max_fingers: u32,
    pub lockout_trials: u32,
    pub lockout_ms: u64,
}

impl QseeSettings {
    pub fn from_config(c: &Config) -> Result<QseeSettings, String> {
        let q = &c.qsee;
        let generation = fpc::generation(&q.generation).ok_or_else(|| format!("qsee.generation {:?}", q.generation))?;
        let or = |value: &str, default: &str| if value.is_empty() { default.to_string() } else { value.to_string() };
        let path =
            |p: &Option<PathBuf>, default: &str| p.as_ref().map_or(default.to_string(), |p| p.display().to_string());
        let keymaster_names = if q.keymaster_names.is_empty() {
            generation.keymaster_names.iter().map(|s| s.to_string()).collect()
        } else {
            q.keymaster_names.split(',').map(|s| s.trim().to_string()).collect()
        };
        Ok(QseeSettings {
            library: q.library.clone(),
            generation,
            app_name: or(&q.app_name, generation.app_name),
            app_path: path(&q.app_path, generation.app_path),
            app_buffer_size: q.app_buffer_size,
            keymaster_names,
            keymaster_path: path(&q.keymaster_path, generation.keymaster_path),
            shared_heap: q.shared_heap.clone(),
            heap_node: q.heap_node.clone(),
            ion_heap_id: q.ion_heap_id,
            max_errors: q.max_errors,
            restart_max: Duration::from_millis(q.restart_max_ms as u64),
            max_fingers: c.trustlet.max_fingers.min(fpc::MAX_PRINTS as u32),
            lockout_trials: c.lockout.max_false_trials,
            lockout_ms: c.lockout.duration_ms,
        })
    }
}

/// The heap `shared_heap` names; `auto` looks at what this device has.
fn heap(kind: &str, node: Option<&Path>, ion_heap_id: u32) -> Heap {
    let node = node.map_or_else(|| PathBuf::from("/dev/dma_heap/qcom,qseecom"), Path::to_path_buf);
    let ion = || {
        if kernel_before_4_12() { Heap::IonLegacy { heap_id: ion_heap_id } } else { Heap::Ion { heap_id: ion_heap_id } }
    };
    match kind {
        "dmabuf" => Heap::DmaHeap(node),
        "ion" => Heap::Ion { heap_id: ion_heap_id },
        "ion-legacy" => Heap::IonLegacy { heap_id: ion_heap_id },
        "memfd" => Heap::Memfd,
        _ if node.exists() => Heap::DmaHeap(node),
        _ if Path::new("/dev/ion").exists() => ion(),
        // Neither: a host. A phone without either cannot run the trustlet anyway, and says so at the
        // first command (the kernel refuses a buffer it cannot hand to the secure world).
        _ => Heap::Memfd,
    }
}

/// ION's allocation call changed in Linux 4.12 (`include/uapi/linux/ion.h`).
fn kernel_before_4_12() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).filter_map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) < (4, 12)
}

/// Why a command failed.
#[derive(Debug)]
enum Failure {
    /// The command did not reach the trustlet, or its answer had the wrong shape: the session is
    /// gone or untrustworthy.
    Broken(String),
    /// The trustlet answered with an error status.
    Status(String),
    /// A refusal the HAL reports as it is (an enroll token refused, no room, no group).
    Refused(TaError),
    /// The database the trustlet stored could not be made durable: a filesystem problem, not the
    /// trustlet's.
    Storage(String),
}

impl From<QseeComError> for Failure {
    fn from(e: QseeComError) -> Self {
        Failure::Broken(e.to_string())
    }
}

impl From<fpc::Malformed> for Failure {
    fn from(e: fpc::Malformed) -> Self {
        Failure::Broken(e.to_string())
    }
}

/// A started fingerprint trustlet and the buffer its commands travel in.
struct Session {
    generation: &'static Generation,
    app: App,
    shared: SharedMemory,
}

impl Session {
    /// Sends one command through the shared buffer and returns the buffer's bytes after it (the
    /// command's answer, as long as the command). The buffer is wiped after.
    #[inline(never)]
    fn send(&mut self, command: &Command) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let len = command.bytes.len();
        if len > self.shared.len() {
            return Err(Failure::Broken(format!("a {len}-byte command does not fit the shared buffer")));
        }
        let buf = self.shared.bytes_mut();
        buf.fill(0);
        buf[..len].copy_from_slice(&command.bytes);
        let request = fpc::pointer_request(len);
        let sent = self.app.exchange(
            &request,
            fpc::SEND_LEN,
            fpc::RESPONSE_OFFSET,
            fpc::RESPONSE_LEN,
            &[(self.shared.as_fd(), fpc::ADDRESS_OFFSET)],
        );
        let answer = Zeroizing::new(self.shared.bytes()[..len].to_vec());
        self.shared.bytes_mut().fill(0);
        let delivered = fpc::delivery_status(&sent?)?;
        if delivered != 0 {
            let (group, id) = (&command.bytes[0..4], &command.bytes[4..8]);
            return Err(Failure::Broken(format!(
                "the trustlet did not take command {}/{}: status {delivered}",
                u32::from_le_bytes(group.try_into().unwrap_or_default()),
                u32::from_le_bytes(id.try_into().unwrap_or_default())
            )));
        }
        Ok(answer)
    }

    /// A command whose result word must be 0.
    fn expect_ok(&mut self, what: &str, command: &Command) -> Result<(), Failure> {
        let answer = self.send(command)?;
        match self.generation.result(&answer)? {
            0 => Ok(()),
            r => Err(status(what, r)),
        }
    }
}

#[cold]
#[inline(never)]
fn status(what: &str, r: i32) -> Failure {
    Failure::Status(format!("{what} answered {r} ({})", fpc::status_name(r)))
}

/// False trials and the lockout they lead to (CDD 7.3.10), per group, counted here because the FPC
/// trustlet does not; in memory, in `CLOCK_BOOTTIME`.
struct Lockout {
    trials: u32,
    duration_ms: u64,
    /// Per gid: false trials in a row, and the end of a lockout.
    groups: std::collections::HashMap<u32, (u32, u64)>,
}

impl Lockout {
    fn remaining_ms(&self, gid: u32) -> Option<u64> {
        let now = crate::auth_token::boottime_ms();
        let until = self.groups.get(&gid).map_or(0, |g| g.1);
        (until > now).then(|| until - now)
    }

    /// Counts a false trial; true when it locks.
    fn failed(&mut self, gid: u32) -> bool {
        let g = self.groups.entry(gid).or_default();
        g.0 += 1;
        if g.0 >= self.trials {
            *g = (0, crate::auth_token::boottime_ms().saturating_add(self.duration_ms));
            return true;
        }
        false
    }

    fn matched(&mut self, gid: u32) {
        if let Some(g) = self.groups.get_mut(&gid) {
            g.0 = 0;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Idle,
    Enroll,
    Authenticate { operation_id: u64 },
}

/// The FPC trustlet behind QSEECom, as a byte-level trustlet for the HAL's client.
pub struct QseeFpc {
    settings: QseeSettings,
    library: Arc<QseeCom>,
    session: Option<Session>,
    /// The active group and its database file.
    group: Option<(u32, PathBuf)>,
    op: Op,
    errors_in_row: u32,
    restart_at: Option<Instant>,
    restart_delay: Duration,
    authenticator_id: Option<u64>,
    lockout: Lockout,
    /// Raised by a cancel or a new operation: a touch in progress stops before its next command
    /// that would change the trustlet's state (the command running cannot be interrupted).
    interrupt: Interrupt,
}

impl QseeFpc {
    pub fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }

    /// The touch being processed was cancelled or replaced: its answer would be dropped anyway.
    fn stopped(&self) -> Result<(), Failure> {
        if self.interrupt.requested() {
            return Err(Failure::Refused(TaError::NoSession));
        }
        Ok(())
    }

    /// Loads the QSEECom library and starts a session; either failing is an `open` error whose text
    /// names what failed (and is logged with its id for `fphal-doctor`).
    pub fn open(settings: QseeSettings) -> Result<QseeFpc, String> {
        let library = QseeCom::open(&settings.library).map_err(|e| {
            log::error!("{} qsee: {e}", ids::QSEE_LIBRARY.id);
            format!("qsee.library: {e}")
        })?;
        let lockout =
            Lockout { trials: settings.lockout_trials, duration_ms: settings.lockout_ms, groups: Default::default() };
        let first_delay = FIRST_RESTART_DELAY.min(settings.restart_max);
        let mut ta = QseeFpc {
            settings,
            library: Arc::new(library),
            session: None,
            group: None,
            op: Op::Idle,
            errors_in_row: 0,
            restart_at: None,
            restart_delay: first_delay,
            authenticator_id: None,
            lockout,
            interrupt: Interrupt::default(),
        };
        ta.session = Some(ta.start_session()?);
        log::info!(
            "qsee: trustlet {} ({} protocol) started through {}",
            ta.settings.app_name,
            ta.settings.generation.name,
            ta.settings.library
        );
        Ok(ta)
    }

    /// Starts the fingerprint trustlet, hands it the keymaster's key, and loads the active group.
    fn start_session(&mut self) -> Result<Session, String> {
        let s = &self.settings;
        let app = self.library.start_app(&s.app_path, &s.app_name, s.app_buffer_size).map_err(|e| {
            log::error!(
                "{} qsee: fingerprint trustlet {} in {:?} did not start: {e}",
                ids::QSEE_APP.id,
                s.app_name,
                s.app_path
            );
            format!("the fingerprint trustlet {} did not start: {e}", s.app_name)
        })?;
        let key = self.fetch_key()?;
        let heap = heap(&s.shared_heap, s.heap_node.as_deref(), s.ion_heap_id);
        let shared = SharedMemory::allocate(&heap, SHARED_LEN).map_err(|e| {
            log::error!("{} qsee: no shared buffer from {heap:?}: {e}", ids::QSEE_APP.id);
            format!("no shared buffer from {heap:?}: {e}")
        })?;
        let generation = s.generation;
        let mut session = Session { generation, app, shared };
        let setup = (|| {
            if let Some(init) = generation.init {
                session.expect_ok("INIT", &generation.plain(generation.template_group, init))?;
            }
            let answer = session.send(&generation.buffer(fpc::GROUP_FPCDATA, fpc::SET_KEY_DATA, &key))?;
            match generation.result(&answer)? {
                0 => {}
                r => {
                    log::error!("{} qsee: FPC_SET_KEY_DATA Result: {r}", ids::QSEE_KEY_REFUSED.id);
                    return Err(status("SET_KEY_DATA", r));
                }
            }
            if let Some(sleep) = generation.deep_sleep {
                session.expect_ok("DEEP_SLEEP", &generation.plain(generation.sensor_group, sleep))?;
            }
            if let Some((gid, db)) = self.group.clone() {
                load_group(&mut session, gid, &db)?;
            }
            Ok(())
        })();
        match setup {
            Ok(()) => Ok(session),
            Err(Failure::Broken(why) | Failure::Status(why) | Failure::Storage(why)) => {
                log::error!("{} qsee: the fingerprint trustlet's setup failed: {why}", ids::QSEE_APP.id);
                Err(format!("the fingerprint trustlet's setup failed: {why}"))
            }
            Err(Failure::Refused(e)) => Err(e.to_string()),
        }
    }

    /// The auth-token key from the first keymaster trustlet that starts. The fingerprint trustlet is
    /// running already: the keymaster hands the key only to a trustlet it can address.
    fn fetch_key(&self) -> Result<Zeroizing<Vec<u8>>, String> {
        let s = &self.settings;
        let mut tried = Vec::new();
        for name in &s.keymaster_names {
            let mut km = match self.library.start_app(&s.keymaster_path, name, keymaster::BUFFER_SIZE) {
                Ok(km) => km,
                Err(e) => {
                    tried.push(format!("{name}: {e}"));
                    continue;
                }
            };
            let sent = km.exchange(
                &keymaster::request(),
                keymaster::SEND_LEN,
                keymaster::RESPONSE_AT,
                keymaster::RESPONSE_LEN,
                &[],
            );
            let answer = match sent {
                Ok(a) => Zeroizing::new(a),
                Err(e) => {
                    log::error!("{} qsee: keymaster {name}: {e}", ids::QSEE_KEYMASTER.id);
                    tried.push(format!("{name}: {e}"));
                    continue;
                }
            };
            return match keymaster::key(&answer) {
                Ok(key) => Ok(Zeroizing::new(key.to_vec())),
                Err(e) => {
                    log::error!("{} qsee: keymaster {name}: {e}", ids::QSEE_KEYMASTER.id);
                    Err(format!("keymaster {name}: {e}"))
                }
            };
        }
        log::error!("{} qsee: no keymaster trustlet started ({})", ids::QSEE_APP.id, tried.join("; "));
        Err(format!("no keymaster trustlet started ({})", tried.join("; ")))
    }

    /// Runs `f` on a live session, starting one when the pause after a failure is over, and keeps
    /// the account: a broken session, or `max_errors` error answers in a row, end the session.
    fn with_session<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Failure>) -> Result<T, TaError> {
        // The generic part stays this small: each request's closure gets its own copy of it.
        self.ensure_session()?;
        match f(self) {
            Ok(v) => {
                self.succeeded();
                Ok(v)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// A live session: the one running, or a new one when the pause after a failure is over.
    #[inline(never)]
    fn ensure_session(&mut self) -> Result<(), TaError> {
        if self.session.is_some() {
            return Ok(());
        }
        if let Some(at) = self.restart_at {
            let now = Instant::now();
            if now < at {
                let ms = (at - now).as_millis();
                return Err(TaError::Internal(format!("the trustlet is restarted in {ms} ms")));
            }
        }
        match self.start_session() {
            Ok(s) => {
                log::warn!("qsee: the fingerprint trustlet was restarted");
                self.session = Some(s);
                Ok(())
            }
            Err(e) => {
                self.pause_before_restart();
                Err(TaError::Internal(e))
            }
        }
    }

    #[inline(never)]
    fn succeeded(&mut self) {
        self.errors_in_row = 0;
        self.restart_delay = FIRST_RESTART_DELAY.min(self.settings.restart_max);
    }

    /// The account of a failed request: what the HAL is told, and whether the session ends.
    #[inline(never)]
    fn failed(&mut self, failure: Failure) -> TaError {
        match failure {
            Failure::Refused(e) => e,
            Failure::Storage(why) => {
                log::error!("{} qsee: {why}", ids::QSEE_FAILED.id);
                TaError::Internal(why)
            }
            Failure::Status(why) => {
                self.errors_in_row += 1;
                if self.errors_in_row >= self.settings.max_errors {
                    log::error!(
                        "{} qsee: {why}; {} errors in a row, restarting the trustlet",
                        ids::QSEE_FAILED.id,
                        self.errors_in_row
                    );
                    self.end_session_after_failure();
                } else {
                    log::error!("{} qsee: {why}", ids::QSEE_FAILED.id);
                }
                TaError::Internal(why)
            }
            Failure::Broken(why) => {
                log::error!("{} qsee: {why}; restarting the trustlet", ids::QSEE_FAILED.id);
                self.end_session_after_failure();
                TaError::Internal(why)
            }
        }
    }

    fn end_session_after_failure(&mut self) {
        self.session = None;
        self.op = Op::Idle;
        self.errors_in_row = 0;
        self.authenticator_id = None;
        self.pause_before_restart();
    }

    fn pause_before_restart(&mut self) {
        self.restart_at = Some(Instant::now() + self.restart_delay);
        self.restart_delay = (self.restart_delay * 2).min(self.settings.restart_max);
    }

    fn session(&mut self) -> Result<&mut Session, Failure> {
        self.session.as_mut().ok_or_else(|| Failure::Broken("no trustlet session".into()))
    }

    fn generation(&self) -> &'static Generation {
        self.settings.generation
    }

    fn group(&self) -> Result<(u32, PathBuf), Failure> {
        self.group.clone().ok_or(Failure::Refused(TaError::NoActiveGroup))
    }

    fn dispatch(&mut self, req: Request) -> Result<Response, TaError> {
        let g = self.generation();
        match req {
            Request::SetActiveGroup { gid, path } => {
                self.op = Op::Idle;
                let db = Path::new(&path).join(DB_NAME);
                if path.len() + DB_NAME.len() + 8 + fpc::BUFFER_STRUCT > SHARED_LEN {
                    return Err(TaError::BadRequest(format!("group path of {} bytes is too long", path.len())));
                }
                // Until the new group's database is in the trustlet, nothing may be stored for any
                // group: a half-switched trustlet would write one group's prints over the other's.
                self.group = None;
                self.with_session(|ta| load_group(ta.session()?, gid, &db))?;
                self.group = Some((gid, db));
                self.authenticator_id = None;
                Ok(Response::Ok)
            }
            Request::PreEnroll => self.with_session(|ta| {
                let answer = ta.session()?.send(&g.challenge(fpc::GET_AUTH_CHALLENGE, 0))?;
                match g.challenge_answer(&answer)? {
                    (0, challenge) => Ok(Response::Challenge(challenge)),
                    (r, _) => Err(status("GET_AUTH_CHALLENGE", r)),
                }
            }),
            // The FPC protocol has no command for it: the challenge ends with the next one.
            Request::PostEnroll => Ok(Response::Ok),
            Request::GetAuthenticatorId => {
                if let Some(id) = self.authenticator_id {
                    return Ok(Response::AuthenticatorId(id));
                }
                let id = self.with_session(|ta| {
                    let answer = ta.session()?.send(&g.template_id_command())?;
                    match g.template_id(&answer)? {
                        (0, id) => Ok(id),
                        (r, _) => Err(status("GET_TEMPLATE_ID", r)),
                    }
                })?;
                self.authenticator_id = Some(id);
                Ok(Response::AuthenticatorId(id))
            }
            Request::EnrollBegin { hat } => self.with_session(|ta| {
                ta.op = Op::Idle;
                ta.group()?;
                let prints = ta.prints()?;
                if prints.len() as u32 >= ta.settings.max_fingers {
                    return Err(Failure::Refused(TaError::NoSpace));
                }
                let answer = ta.session()?.send(&g.buffer(fpc::GROUP_FPCDATA, fpc::AUTHORIZE_ENROL, &hat))?;
                match g.result(&answer)? {
                    0 => {}
                    r => {
                        let why = format!("the trustlet refused the enroll token ({r}, {})", fpc::status_name(r));
                        return Err(Failure::Refused(TaError::Unauthorized(why)));
                    }
                }
                let answer = ta.session()?.send(&g.plain(g.template_group, g.begin_enrol))?;
                match g.result(&answer)? {
                    r if r < 0 => return Err(status("BEGIN_ENROL", r)),
                    _ => {}
                }
                ta.arm()?;
                ta.op = Op::Enroll;
                Ok(Response::Ok)
            }),
            Request::AuthenticateBegin { operation_id } => {
                let gid = self.group.as_ref().map_or(0, |g| g.0);
                if let Some(remaining_ms) = self.lockout.remaining_ms(gid) {
                    return Err(TaError::Lockout { remaining_ms });
                }
                self.with_session(|ta| {
                    ta.op = Op::Idle;
                    ta.group()?;
                    let answer = ta.session()?.send(&g.challenge(fpc::SET_AUTH_CHALLENGE, operation_id))?;
                    match g.challenge_answer(&answer)? {
                        (0, _) => {}
                        (r, _) => return Err(status("SET_AUTH_CHALLENGE", r)),
                    }
                    ta.arm()?;
                    ta.op = Op::Authenticate { operation_id };
                    Ok(Response::Ok)
                })
            }
            Request::EnrollTouch => {
                if self.op != Op::Enroll {
                    return Err(TaError::NoSession);
                }
                self.with_session(|ta| ta.with_high_bandwidth(Self::enroll_touch))
            }
            Request::AuthenticateTouch => {
                let Op::Authenticate { operation_id } = self.op else { return Err(TaError::NoSession) };
                self.with_session(|ta| ta.with_high_bandwidth(|ta| ta.authenticate_touch(operation_id)))
            }
            Request::EnrollCapture { .. } | Request::AuthenticateCapture { .. } => Err(TaError::BadRequest(
                "the FPC trustlet captures from the sensor itself; it takes no image from the HAL".into(),
            )),
            Request::EndSession => {
                let was = std::mem::replace(&mut self.op, Op::Idle);
                if was != Op::Idle && self.session.is_some() {
                    if let Some(sleep) = g.deep_sleep {
                        self.with_session(|ta| ta.session()?.expect_ok("DEEP_SLEEP", &g.plain(g.sensor_group, sleep)))?;
                    }
                }
                Ok(Response::Ok)
            }
            Request::Enumerate => self.with_session(|ta| {
                ta.group()?;
                Ok(Response::Fingers(ta.prints()?))
            }),
            Request::Remove { fid } => self.with_session(|ta| ta.remove(fid)),
        }
    }

    /// Puts the sensor to rest after an operation's last touch (tama's deep sleep, as Sony's HAL does
    /// after each capture); a failure is logged, the operation's result stands.
    fn rest(&mut self) {
        let g = self.generation();
        let Some(sleep) = g.deep_sleep else { return };
        let rested = self.session().and_then(|s| s.expect_ok("DEEP_SLEEP", &g.plain(g.sensor_group, sleep)));
        if let Err(Failure::Broken(why) | Failure::Status(why) | Failure::Storage(why)) = rested {
            log::warn!("qsee: {why}");
        }
    }

    /// Runs a touch's commands with the bus at high bandwidth (`QSEECom_set_bandwidth`), as vendor
    /// HALs do around capture and matching; a library without the call, or a refusal, only costs
    /// speed.
    fn with_high_bandwidth<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Failure>) -> Result<T, Failure> {
        let set = |ta: &mut Self, high: bool| {
            if let Some(s) = ta.session.as_mut() {
                if let Err(e) = s.app.set_bandwidth(high) {
                    log::debug!("qsee: {e}");
                }
            }
        };
        set(self, true);
        let result = f(self);
        set(self, false);
        result
    }

    fn prints(&mut self) -> Result<Vec<u32>, Failure> {
        let g = self.generation();
        let answer = self.session()?.send(&g.list())?;
        match g.prints(&answer)? {
            (0, ids) => Ok(ids),
            (r, _) => Err(status("GET_FINGERPRINTS", r)),
        }
    }

    /// Arms the trustlet's finger detection for the next touch (tama wakes the sensor first).
    fn arm(&mut self) -> Result<(), Failure> {
        let g = self.generation();
        if let Some(wake) = g.sensor_wake {
            let answer = self.session()?.send(&g.plain(g.sensor_group, wake))?;
            if let r @ ..0 = g.result(&answer)? {
                return Err(status("SENSOR_WAKE", r));
            }
        }
        self.session()?.expect_ok("WAIT_FINGER_DOWN", &g.plain(g.sensor_group, g.wait_finger_down))
    }

    /// The trustlet captures the finger the sensor detected; `Ok(None)` for a good image, else the
    /// acquired code to report.
    fn capture(&mut self) -> Result<Option<Acquired>, Failure> {
        let g = self.generation();
        let answer = self.session()?.send(&g.plain(g.sensor_group, g.capture_image))?;
        match fpc::capture(g.result(&answer)?) {
            Capture::Good => Ok(None),
            Capture::Acquired(acquired) => Ok(Some(acquired)),
            Capture::Unknown(r) => {
                log::warn!("qsee: capture answered {r}, which no acquired code has; reported as insufficient");
                Ok(Some(Acquired::Insufficient))
            }
            Capture::Failed(r) => Err(status("CAPTURE_IMAGE", r)),
        }
    }

    fn enroll_touch(&mut self) -> Result<Response, Failure> {
        let g = self.generation();
        let not_counted = |acquired| {
            Response::Enroll(EnrollStep { acquired, counted: false, remaining: 0, fid: 0, vendor_error: None })
        };
        let captured = self.capture()?;
        self.stopped()?;
        if let Some(acquired) = captured {
            self.arm()?;
            return Ok(not_counted(acquired));
        }
        let answer = self.session()?.send(&g.sixteen(g.template_group, g.enrol_step))?;
        let (step, remaining) = g.status_then(&answer)?;
        if step < 0 {
            return Err(status("ENROL_STEP", step));
        }
        if step > 0 {
            self.arm()?;
            let remaining = remaining.clamp(1, 1000);
            return Ok(Response::Enroll(EnrollStep {
                acquired: Acquired::Good,
                counted: true,
                remaining,
                fid: 0,
                vendor_error: None,
            }));
        }
        self.stopped()?;
        let answer = self.session()?.send(&g.sixteen(g.template_group, g.end_enrol))?;
        let (end, fid) = g.status_value(&answer)?;
        if end != 0 {
            return Err(status("END_ENROL", end));
        }
        if fid == 0 {
            return Err(Failure::Broken("END_ENROL answered print id 0".into()));
        }
        self.op = Op::Idle;
        self.authenticator_id = None;
        if let Err(e) = self.store_db() {
            // Not on disk, so not enrolled: the trustlet forgets it too, or it would list a finger
            // the next start does not load.
            let _ = self.session().and_then(|s| s.send(&g.delete(fid)));
            return Err(e);
        }
        self.rest();
        Ok(Response::Enroll(EnrollStep {
            acquired: Acquired::Good,
            counted: true,
            remaining: 0,
            fid,
            vendor_error: None,
        }))
    }

    fn authenticate_touch(&mut self, operation_id: u64) -> Result<Response, Failure> {
        let g = self.generation();
        let captured = self.capture()?;
        self.stopped()?;
        if let Some(acquired) = captured {
            self.arm()?;
            return Ok(Response::Auth { acquired, outcome: AuthOutcome::NotCounted });
        }
        let answer = self.session()?.send(&g.identify_command())?;
        let (result, fid) = g.status_then(&answer)?;
        if result < 0 {
            return Err(status("IDENTIFY", result));
        }
        let (gid, _) = self.group()?;
        if fid == 0 {
            if self.lockout.failed(gid) {
                self.op = Op::Idle;
                self.rest();
                return Ok(Response::Auth { acquired: Acquired::Good, outcome: AuthOutcome::LockedOut });
            }
            self.arm()?;
            return Ok(Response::Auth { acquired: Acquired::Good, outcome: AuthOutcome::NoMatch });
        }
        self.stopped()?;
        if let Some(update) = g.update_template {
            let answer = self.session()?.send(&g.sixteen(g.template_group, update))?;
            match g.status_then(&answer)? {
                (0, 0) => {}
                (0, _) => {
                    if let Err(Failure::Storage(why) | Failure::Status(why) | Failure::Broken(why)) = self.store_db() {
                        log::warn!("qsee: the updated template was not stored ({why}); the match stands");
                    }
                }
                (r, _) => {
                    log::warn!("qsee: UPDATE_TEMPLATE answered {r} ({}); the template stays", fpc::status_name(r))
                }
            }
        }
        let hat = if operation_id == 0 { [0u8; HAT_LEN] } else { self.auth_token(operation_id)? };
        self.lockout.matched(gid);
        self.op = Op::Idle;
        self.rest();
        Ok(Response::Auth { acquired: Acquired::Good, outcome: AuthOutcome::Match { fid, hat } })
    }

    /// The token the trustlet signed for this match, checked to be a fingerprint token for this
    /// operation before it goes to the framework.
    fn auth_token(&mut self, operation_id: u64) -> Result<[u8; HAT_LEN], Failure> {
        let g = self.generation();
        let answer = self.session()?.send(&g.auth_result_command())?;
        let hat = match g.auth_result(&answer)? {
            (0, Some(hat)) => hat,
            (r, _) => return Err(status("GET_AUTH_RESULT", r)),
        };
        let token = AuthToken::from_bytes(&hat);
        if token.version != HW_AUTH_TOKEN_VERSION
            || token.challenge != operation_id
            || token.authenticator_type != HW_AUTH_FINGERPRINT
        {
            return Err(Failure::Broken(format!(
                "the trustlet's auth token is not for this operation (version {}, type {}, {} challenge)",
                token.version,
                token.authenticator_type,
                if token.challenge == operation_id { "the right" } else { "another" }
            )));
        }
        Ok(hat)
    }

    fn remove(&mut self, fid: u32) -> Result<Response, Failure> {
        let g = self.generation();
        self.group()?;
        self.authenticator_id = None;
        let targets = if fid == 0 { self.prints()? } else { vec![fid] };
        let mut removed = Vec::new();
        for target in targets {
            let answer = self.session()?.send(&g.delete(target))?;
            match g.status_value(&answer)?.0 {
                // A print that is not there is removed all the same (VTS: no error).
                0 | -8 => removed.push(target),
                r => {
                    log::error!("qsee: DELETE_FINGERPRINT {target} answered {r} ({})", fpc::status_name(r));
                    self.store_db()?;
                    return Ok(Response::Removed { fids: removed, complete: false });
                }
            }
        }
        self.store_db()?;
        Ok(Response::Removed { fids: removed, complete: true })
    }

    /// Has the trustlet write the active group's database to `<db>.tmp`, then makes it the database
    /// (fsync, rename, fsync of the directory): a crash leaves the old or the new one, whole.
    fn store_db(&mut self) -> Result<(), Failure> {
        let (_, db) = self.group()?;
        store_db(self.session()?, &db)
    }
}

/// The group's database loaded into the trustlet (created empty and stored first when there is
/// none), and its gid set.
fn load_group(session: &mut Session, gid: u32, db: &Path) -> Result<(), Failure> {
    let g = session.generation;
    let path =
        db.to_str().ok_or_else(|| Failure::Refused(TaError::BadRequest("the group path is not UTF-8".into())))?;
    let set_gid = |session: &mut Session| -> Result<(), Failure> {
        let answer = session.send(&g.set_gid(gid))?;
        match g.status_value(&answer)?.0 {
            0 => Ok(()),
            r => Err(status("SET_GID", r)),
        }
    };
    if db.exists() {
        session.expect_ok("LOAD_DB", &g.path_command(fpc::LOAD_DB, path))?;
        set_gid(session)
    } else {
        session.expect_ok("LOAD_EMPTY_DB", &g.plain(g.template_group, g.load_empty_db))?;
        set_gid(session)?;
        store_db(session, db)?;
        session.expect_ok("LOAD_DB", &g.path_command(fpc::LOAD_DB, path))
    }
}

fn store_db(session: &mut Session, db: &Path) -> Result<(), Failure> {
    let g = session.generation;
    let tmp = PathBuf::from(format!("{}.tmp", db.display()));
    let tmp_text =
        tmp.to_str().ok_or_else(|| Failure::Refused(TaError::BadRequest("the group path is not UTF-8".into())))?;
    session.expect_ok("STORE_DB", &g.path_command(fpc::STORE_DB, tmp_text))?;
    let durable = (|| -> std::io::Result<()> {
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, db)?;
        crate::fsutil::sync_dir(db.parent().unwrap_or(Path::new("/")))
    })();
    durable.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Failure::Storage(format!(
            "the database the trustlet stored at {} could not be made durable: {e}",
            tmp.display()
        ))
    })
}

impl ByteTrustlet for QseeFpc {
    fn handle(&mut self, request: &[u8]) -> Vec<u8> {
        let response = match Request::decode(request) {
            Ok(req) => self.dispatch(req).unwrap_or_else(Response::Error),
            Err(e) => Response::Error(TaError::BadRequest(e.to_string())),
        };
        response.encode()
    }
}
