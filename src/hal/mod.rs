//! The device: what each entry point asks for, and the one worker thread that does it.
//!
//! Callers validate, queue a command under a short lock, wake the worker through an eventfd and
//! return; only the few calls that need an answer (pre_enroll, post_enroll, get_authenticator_id,
//! set_active_group) wait for the worker's reply. The worker owns the sensor and the trustlet
//! session, waits in one `poll()` on both, and is the only thread that sends messages.

mod worker;

pub(crate) use worker::panic_text;

use crate::codes::{Acquired, ErrorKind};
use crate::config::Config;
use crate::error::HalError;
use crate::sys::EventFd;
use crate::tee::{HAT_LEN, Interrupt, Transport};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

/// A message for the client, in Rust terms; `ffi` turns it into a `fingerprint_msg_t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Error(ErrorKind),
    Acquired(Acquired),
    Enrolling { gid: u32, fid: u32, remaining: u32 },
    Removed { gid: u32, fid: u32, remaining: u32 },
    Enumerating { gid: u32, fid: u32, remaining: u32 },
    Authenticated { gid: u32, fid: u32, hat: [u8; HAT_LEN] },
}

/// Where messages go. Called from the worker thread with no lock held.
pub type Sink = Arc<dyn Fn(&Message) + Send + Sync>;

#[derive(Debug, Clone)]
enum Operation {
    Enroll { hat: [u8; HAT_LEN], gid: u32, timeout_sec: u32 },
    Authenticate { operation_id: u64, gid: u32 },
    Enumerate,
    Remove { gid: u32, fid: u32 },
}

enum Query {
    PreEnroll,
    PostEnroll,
    GetAuthenticatorId,
    /// The worker's own CPU time so far (`getrusage(RUSAGE_THREAD)` on the worker), in µs.
    WorkerCpuMicros,
    SetActiveGroup {
        gid: u32,
        path: String,
    },
}

enum Command {
    Start(Operation),
    Cancel,
    /// A query, its answer channel, and the time after which its caller no longer waits: a query
    /// that late is dropped, not run (but for `post_enroll`, which only revokes).
    Query(Query, mpsc::SyncSender<Result<u64, HalError>>, Instant),
    Shutdown,
}

impl Command {
    /// Whether this command ends the running operation (and so the touch being processed).
    fn ends_operation(&self) -> bool {
        matches!(
            self,
            Command::Start(_) | Command::Cancel | Command::Shutdown | Command::Query(Query::SetActiveGroup { .. }, ..)
        )
    }
}

/// Commands waiting beyond this many mean the worker is wedged; callers then get `-ENOMEM`.
const MAX_QUEUED: usize = 65_536;
/// How long a caller waits for the worker's answer to a query before it gets an error: far longer
/// than any touch takes (the largest capture is bounded), far shorter than a binder thread may hang.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

struct Shared {
    queue: Mutex<VecDeque<Command>>,
    wake: EventFd,
    sink: Mutex<Option<Sink>>,
    worker_thread: OnceLock<ThreadId>,
    /// `CLOCK_MONOTONIC` nanoseconds at which the worker last left `poll()`.
    last_wake_ns: AtomicU64,
    /// How many times the worker has left `poll()`.
    wakes: AtomicU64,
    /// Raised with every command that ends the running operation, so that an in-process trustlet
    /// stops between the stages of a touch instead of finishing it.
    interrupt: Option<Interrupt>,
    /// Set by the worker as it ends (shutdown, or a failure outside its panic boundary).
    stopped: AtomicBool,
}

impl Shared {
    fn emit(&self, msg: &Message) {
        // Snapshot the sink, then call it with no lock held: a client may block in it.
        let sink = self.sink.lock().clone();
        if let Some(sink) = sink {
            sink(msg);
        }
    }
}

/// One open sensor.
pub struct Device {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    sensor_path: Option<PathBuf>,
}

static OPEN_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Device {
    /// Opens the device described by `config`: the sensor and the trustlet it names.
    pub fn open(config: &Config) -> Result<Device, HalError> {
        let (transport, interrupt) = crate::tee::open(config).map_err(trustlet_failed)?;
        Device::start(config, transport, interrupt, None)
    }

    /// Opens a device whose trustlet is reached through `transport`.
    pub fn open_with(config: &Config, transport: Box<dyn Transport>) -> Result<Device, HalError> {
        Device::start(config, transport, None, None)
    }

    /// Opens the device `config` describes with a kernel sensor reached through `backend` (a test
    /// double of the system).
    #[doc(hidden)]
    pub fn open_on(
        config: &Config,
        backend: Arc<dyn crate::sensor::kernel::node::Backend>,
    ) -> Result<Device, HalError> {
        let (transport, interrupt) = crate::tee::open(config).map_err(trustlet_failed)?;
        Device::start(config, transport, interrupt, Some(backend))
    }

    fn start(
        config: &Config,
        transport: Box<dyn Transport>,
        interrupt: Option<Interrupt>,
        backend: Option<Arc<dyn crate::sensor::kernel::node::Backend>>,
    ) -> Result<Device, HalError> {
        use crate::sensor::OpenError;
        let n = OPEN_COUNTER.fetch_add(1, Ordering::Relaxed);
        let sensor = match backend {
            Some(backend) => crate::sensor::open_on(config, n, backend),
            None => crate::sensor::open(config, n),
        };
        let sensor = sensor.map_err(|e| {
            use crate::diagnose::ids;
            let id = match e {
                OpenError::Missing(_) => ids::SENSOR_MISSING,
                OpenError::Denied(_) => ids::SENSOR_DENIED,
                OpenError::Invalid(_) => ids::SENSOR_INVALID,
                OpenError::Failed(_) => ids::SENSOR_FAILED,
            };
            log::error!("{} sensor: {e}", id.id);
            match e {
                OpenError::Missing(why) => HalError::NoDevice(why),
                OpenError::Denied(why) => HalError::Denied(why),
                OpenError::Invalid(why) => HalError::InvalidArgument(why),
                OpenError::Failed(why) => HalError::Io(why),
            }
        })?;
        let sensor_path = sensor.endpoint().map(Path::to_path_buf);
        let described = sensor.describe();
        let wake = EventFd::new().map_err(|e| HalError::Io(format!("eventfd: {e}")))?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            wake,
            sink: Mutex::new(None),
            worker_thread: OnceLock::new(),
            last_wake_ns: AtomicU64::new(0),
            wakes: AtomicU64::new(0),
            interrupt,
            stopped: AtomicBool::new(false),
        });
        let worker_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("fphal-worker".into())
            .spawn(move || worker::run(worker_shared, sensor, transport))
            .map_err(|e| HalError::Io(format!("cannot start worker thread: {e}")))?;
        let _ = shared.worker_thread.set(handle.thread().id());
        log::info!("fphal {} device open; {described}", env!("CARGO_PKG_VERSION"));
        Ok(Device { shared, worker: Mutex::new(Some(handle)), sensor_path })
    }

    /// Where tools hand the sensor images, for a sensor that takes them from outside (virtual).
    pub fn sensor_path(&self) -> Option<&Path> {
        self.sensor_path.as_deref()
    }

    /// `CLOCK_MONOTONIC` ns at which the worker last left `poll()` (for latency measurements).
    pub fn last_wake_ns(&self) -> u64 {
        self.shared.last_wake_ns.load(Ordering::Acquire)
    }

    /// How many times the worker has left `poll()`, and the CPU time it has used (for the
    /// interrupt-storm test and benchmarks).
    #[doc(hidden)]
    pub fn worker_load(&self) -> Result<(u64, Duration), HalError> {
        let cpu = Duration::from_micros(self.query(Query::WorkerCpuMicros)?);
        Ok((self.shared.wakes.load(Ordering::Relaxed), cpu))
    }

    pub fn set_sink(&self, sink: Option<Sink>) {
        *self.shared.sink.lock() = sink;
    }

    /// Whether the worker still runs (false after [`Device::shutdown`]).
    pub fn is_running(&self) -> bool {
        !self.shared.stopped.load(Ordering::Acquire)
    }

    fn push(&self, cmd: Command) -> Result<(), HalError> {
        if !self.is_running() {
            return Err(HalError::Io("the device is closed".into()));
        }
        if cmd.ends_operation() {
            if let Some(i) = &self.shared.interrupt {
                i.request();
            }
        }
        {
            let mut q = self.shared.queue.lock();
            if q.len() >= MAX_QUEUED {
                log::error!("worker is not taking commands ({} queued)", q.len());
                return Err(HalError::NoMemory);
            }
            q.push_back(cmd);
        }
        self.shared.wake.signal();
        Ok(())
    }

    fn query(&self, q: Query) -> Result<u64, HalError> {
        if self.shared.worker_thread.get() == Some(&std::thread::current().id()) {
            // Called from inside notify: the worker cannot answer itself.
            return Err(HalError::Io("called from inside the notify callback; call from another thread".into()));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        self.push(Command::Query(q, tx, Instant::now() + QUERY_TIMEOUT))?;
        match rx.recv_timeout(QUERY_TIMEOUT) {
            Ok(answer) => answer,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                log::error!("the worker did not answer within {} s", QUERY_TIMEOUT.as_secs());
                Err(HalError::Timeout(format!("no answer from the worker within {} s", QUERY_TIMEOUT.as_secs())))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(HalError::Io("the worker stopped before answering".into()))
            }
        }
    }

    pub fn pre_enroll(&self) -> Result<u64, HalError> {
        self.query(Query::PreEnroll)
    }

    pub fn post_enroll(&self) -> Result<(), HalError> {
        self.query(Query::PostEnroll).map(|_| ())
    }

    pub fn get_authenticator_id(&self) -> Result<u64, HalError> {
        self.query(Query::GetAuthenticatorId)
    }

    /// Validates and normalises `path`, then makes `gid` at `path` the active group.
    pub fn set_active_group(&self, gid: u32, path: &str) -> Result<(), HalError> {
        let normalised = normalise_group_path(path)?;
        self.query(Query::SetActiveGroup { gid, path: normalised }).map(|_| ())
    }

    pub fn enroll(&self, hat: [u8; HAT_LEN], gid: u32, timeout_sec: u32) -> Result<(), HalError> {
        self.push(Command::Start(Operation::Enroll { hat, gid, timeout_sec }))
    }

    pub fn authenticate(&self, operation_id: u64, gid: u32) -> Result<(), HalError> {
        self.push(Command::Start(Operation::Authenticate { operation_id, gid }))
    }

    pub fn enumerate(&self) -> Result<(), HalError> {
        self.push(Command::Start(Operation::Enumerate))
    }

    pub fn remove(&self, gid: u32, fid: u32) -> Result<(), HalError> {
        self.push(Command::Start(Operation::Remove { gid, fid }))
    }

    /// Stops whatever runs; answered by exactly one `ERROR(CANCELED)` from the worker.
    pub fn cancel(&self) -> Result<(), HalError> {
        self.push(Command::Cancel)
    }
}

impl Device {
    /// Stops the worker and waits for it, whoever else still holds the device: afterwards no
    /// worker runs and every call answers with an error. Called from inside `notify` (on the
    /// worker itself) it only asks: the worker ends after that callback, and returns false then.
    pub fn shutdown(&self) -> bool {
        let Some(h) = self.worker.lock().take() else { return true };
        if let Some(i) = &self.shared.interrupt {
            i.request();
        }
        // Nothing reaches the client after close, and work still queued is dropped, not done.
        self.set_sink(None);
        self.shared.queue.lock().push_front(Command::Shutdown);
        self.shared.wake.signal();
        if h.thread().id() == std::thread::current().id() {
            *self.worker.lock() = Some(h);
            return false;
        }
        if h.join().is_err() {
            log::error!("worker thread ended by a panic");
        }
        self.shared.stopped.store(true, Ordering::Release);
        log::info!("device closed");
        true
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The trustlet could not be set up: logged with its id, `-EINVAL` for the caller.
fn trustlet_failed(e: String) -> HalError {
    log::error!("{} trustlet: {e}", crate::diagnose::ids::TRUSTLET_FAILED.id);
    HalError::InvalidArgument(e)
}

/// The checks the HIDL service makes before it calls the HAL, made here too so that a legacy
/// client gets the same answer: absolute, existing, a directory, writable. Trailing slashes go.
pub fn normalise_group_path(path: &str) -> Result<String, HalError> {
    let bad = |why: &str| Err(HalError::InvalidArgument(format!("group path {path:?}: {why}")));
    if path.is_empty() {
        return bad("empty");
    }
    if path.len() >= libc::PATH_MAX as usize {
        return bad("longer than PATH_MAX");
    }
    if !path.starts_with('/') {
        return bad("not absolute");
    }
    let trimmed = path.trim_end_matches('/');
    let normalised = if trimmed.is_empty() { "/" } else { trimmed };
    match std::fs::metadata(normalised) {
        Err(e) => return bad(&format!("{e}")),
        Ok(m) if !m.is_dir() => return bad("not a directory"),
        // The framework's directories are private; one that anybody may write is no place for
        // templates (checked, never chmod'ed: the directory is the framework's).
        Ok(m) if std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o002 != 0 => {
            return bad("writable by every user");
        }
        Ok(_) => {}
    }
    if rustix::fs::access(normalised, rustix::fs::Access::WRITE_OK).is_err() {
        return bad("not writable");
    }
    Ok(normalised.to_string())
}
