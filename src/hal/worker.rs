//! The worker thread: one loop, one `poll()` on the wake eventfd and the sensor.

use super::{Command, Message, Operation, Query, Shared};
use crate::auth_token::HAT_LEN;
use crate::codes::ErrorKind;
use crate::error::HalError;
use crate::sensor::{Sensor, SensorEvent, SensorFault};
use crate::sys::{Interest, Ready, Watch};
use crate::tee::{AuthOutcome, Request, Response, TaError, Transport, TransportError, TrustletClient};
use std::os::fd::{AsFd, AsRawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What the worker is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Current {
    Idle,
    Enroll { gid: u32, deadline: Option<Instant> },
    Authenticate { gid: u32 },
}

struct Worker {
    shared: Arc<Shared>,
    sensor: Box<dyn Sensor>,
    ta: TrustletClient,
    current: Current,
    active_gid: Option<u32>,
    /// Whether the sensor was last told that an operation waits for a finger.
    armed: bool,
}

pub(super) fn run(shared: Arc<Shared>, sensor: Box<dyn Sensor>, transport: Box<dyn Transport>) {
    let mut w = Worker {
        shared,
        sensor,
        ta: TrustletClient::new(transport),
        current: Current::Idle,
        active_gid: None,
        armed: false,
    };
    loop {
        let ready = w.wait();
        w.shared.last_wake_ns.store(crate::sys::monotonic_ns(), Ordering::Release);
        w.shared.wakes.fetch_add(1, Ordering::Relaxed);
        // Each step runs behind a panic boundary: a bug becomes ERROR(HW_UNAVAILABLE), never a
        // dead worker or an aborted host.
        match catch_unwind(AssertUnwindSafe(|| w.step(&ready))) {
            Ok(true) => {}
            Ok(false) => break,
            Err(panic) => {
                log::error!("worker step panicked: {}", panic_text(&panic));
                w.current = Current::Idle;
                w.shared.emit(&Message::Error(ErrorKind::HwUnavailable));
            }
        }
    }
    // Callers see a stopped device from now on; queries still queued get their answer channel
    // dropped, so they fail at once instead of waiting out their timeout.
    w.shared.stopped.store(true, Ordering::Release);
    w.shared.queue.lock().clear();
}

pub(crate) fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

impl Worker {
    /// Blocks in one `poll()` until a command, the sensor or the enroll deadline.
    fn wait(&self) -> Vec<Ready> {
        let wake = Watch { fd: self.shared.wake.as_fd(), interest: Interest::Readable };
        let watches: Vec<Watch<'_>> = std::iter::once(wake).chain(self.sensor.watches()).collect();
        let deadline = match self.current {
            Current::Enroll { deadline: Some(d), .. } => Some(d.saturating_duration_since(Instant::now())),
            _ => None,
        };
        let timeout = match (deadline, self.sensor.due_in()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Round up, so the wait does not end a little before the settle time and spin.
        let timeout = timeout.map(|t| Duration::from_millis(t.as_micros().div_ceil(1000).min(i32::MAX as u128) as u64));
        crate::sys::wait(&watches, timeout)
    }

    /// One round of work after a wake. Returns false when the device is closing.
    fn step(&mut self, ready: &[Ready]) -> bool {
        if let Current::Enroll { deadline: Some(d), .. } = self.current {
            if Instant::now() >= d {
                self.end_session();
                self.finish_with(ErrorKind::Timeout);
            }
        }
        let wake = self.shared.wake.as_raw_fd();
        if ready.iter().any(|r| r.fd == wake) {
            self.shared.wake.drain();
        }
        // Commands first, in the order callers issued them, one at a time with the lock released.
        loop {
            let cmd = self.shared.queue.lock().pop_front();
            let Some(cmd) = cmd else { break };
            match cmd {
                Command::Shutdown => {
                    self.end_session();
                    return false;
                }
                Command::Cancel => {
                    // The client hears at once; putting the trustlet's sensor to rest (a command of
                    // its own on a TEE) follows, before any next command is taken.
                    let was = std::mem::replace(&mut self.current, Current::Idle);
                    self.shared.emit(&Message::Error(ErrorKind::Canceled));
                    if was != Current::Idle {
                        let _ = self.call(&Request::EndSession);
                    }
                }
                Command::Query(q, reply, deadline) => {
                    if Instant::now() > deadline {
                        // Its caller heard a timeout, so nothing it asked for happens; but a late
                        // post_enroll still revokes the challenge, which would stay valid otherwise.
                        if matches!(q, Query::PostEnroll) {
                            log::warn!("a post_enroll its caller stopped waiting for revokes the challenge late");
                            let _ = self.answer(q);
                        } else {
                            log::warn!("a query its caller stopped waiting for is dropped");
                        }
                        continue;
                    }
                    let _ = reply.send(self.answer(q));
                }
                Command::Start(op) => self.start(op),
            }
        }
        self.sync_arming();
        for r in ready.iter().filter(|r| r.fd != wake) {
            let armed = self.current != Current::Idle;
            let event = self.sensor.service(r, armed);
            self.on_sensor_result(event);
        }
        let event = self.sensor.settled();
        self.on_sensor_result(event);
        self.sync_arming();
        true
    }

    /// Tells the sensor whether an operation now waits for a finger. A sensor that cannot be armed
    /// ends the operation with `ERROR(HW_UNAVAILABLE)`.
    fn sync_arming(&mut self) {
        let want = self.current != Current::Idle;
        if want == self.armed {
            return;
        }
        match self.sensor.arm(want) {
            Ok(()) => self.armed = want,
            Err(fault) => {
                self.armed = false;
                self.on_fault(fault);
            }
        }
    }

    fn on_sensor_result(&mut self, event: Result<Option<SensorEvent>, SensorFault>) {
        match event {
            Ok(Some(ev)) => {
                self.on_sensor(ev);
                self.sensor.touch_done();
            }
            Ok(None) => {}
            Err(fault) => self.on_fault(fault),
        }
    }

    /// The sensor's driver failed: the running operation ends with `ERROR(HW_UNAVAILABLE)`; the
    /// sensor opens its driver again when the next operation arms it.
    fn on_fault(&mut self, fault: SensorFault) {
        log::error!("{} sensor failed: {fault}", crate::diagnose::ids::SENSOR_FAULT.id);
        self.armed = false;
        if self.current != Current::Idle && self.superseded() {
            // A cancel or a new operation already waits: its own message ends this one.
            self.end_session();
            self.current = Current::Idle;
        } else if self.current != Current::Idle {
            self.end_session();
            self.finish_with(ErrorKind::HwUnavailable);
        }
    }

    fn call(&mut self, req: &Request) -> Result<Response, TransportError> {
        let r = self.ta.call(req);
        if let Err(e) = &r {
            log::error!("trustlet call failed: {e}");
        }
        r
    }

    fn end_session(&mut self) {
        if self.current != Current::Idle {
            let _ = self.call(&Request::EndSession);
        }
    }

    /// Ends the running operation with an error message.
    fn finish_with(&mut self, error: ErrorKind) {
        self.current = Current::Idle;
        self.shared.emit(&Message::Error(error));
    }

    fn answer(&mut self, q: Query) -> Result<u64, HalError> {
        let req = match q {
            Query::PreEnroll => Request::PreEnroll,
            Query::PostEnroll => Request::PostEnroll,
            Query::GetAuthenticatorId => Request::GetAuthenticatorId,
            Query::WorkerCpuMicros => return Ok(crate::sys::thread_cpu_time().as_micros().min(u64::MAX as u128) as u64),
            Query::SetActiveGroup { gid, path } => {
                // A running operation belongs to the old group: end it quietly.
                self.end_session();
                self.current = Current::Idle;
                let r = self.call(&Request::SetActiveGroup { gid, path: path.clone() });
                return match r {
                    Ok(Response::Ok) => {
                        self.active_gid = Some(gid);
                        Ok(0)
                    }
                    Ok(Response::Error(e)) => {
                        log::error!("set_active_group({gid}, {path}): {e}");
                        Err(HalError::InvalidArgument(e.to_string()))
                    }
                    Ok(_) => Err(HalError::Io("unexpected trustlet response".into())),
                    Err(e) => Err(HalError::Io(e.to_string())),
                };
            }
        };
        match self.call(&req) {
            Ok(Response::Challenge(c)) | Ok(Response::AuthenticatorId(c)) => Ok(c),
            Ok(Response::Ok) => Ok(0),
            Ok(Response::Error(e)) => Err(HalError::Io(e.to_string())),
            Ok(_) => Err(HalError::Io("unexpected trustlet response".into())),
            Err(e) => Err(HalError::Io(e.to_string())),
        }
    }

    /// The error message for a trustlet refusal at the start of an operation.
    fn refusal(e: &TaError) -> ErrorKind {
        match e {
            TaError::NoSpace => ErrorKind::NoSpace,
            TaError::Lockout { .. } => ErrorKind::Lockout,
            TaError::Internal(_) => ErrorKind::HwUnavailable,
            _ => ErrorKind::UnableToProcess,
        }
    }

    fn group_for(&self, gid: u32, what: &str) -> Option<u32> {
        match self.active_gid {
            Some(active) if active == gid => Some(gid),
            Some(active) => {
                log::warn!("{what} for group {gid}, but the active group is {active}");
                None
            }
            None => {
                log::warn!("{what} before set_active_group");
                None
            }
        }
    }

    fn start(&mut self, op: Operation) {
        // A new operation replaces the running one without a message of its own.
        self.end_session();
        self.current = Current::Idle;
        match op {
            Operation::Enroll { hat, gid, timeout_sec } => {
                let Some(gid) = self.group_for(gid, "enroll") else {
                    return self.finish_with(ErrorKind::UnableToProcess);
                };
                match self.call(&Request::EnrollBegin { hat }) {
                    Ok(Response::Ok) => {
                        let deadline =
                            (timeout_sec > 0).then(|| Instant::now() + Duration::from_secs(timeout_sec as u64));
                        self.current = Current::Enroll { gid, deadline };
                    }
                    Ok(Response::Error(e)) => {
                        log::warn!("enroll refused: {e}");
                        self.finish_with(Self::refusal(&e));
                    }
                    _ => self.finish_with(ErrorKind::HwUnavailable),
                }
            }
            Operation::Authenticate { operation_id, gid } => {
                let Some(gid) = self.group_for(gid, "authenticate") else {
                    return self.finish_with(ErrorKind::UnableToProcess);
                };
                match self.call(&Request::AuthenticateBegin { operation_id }) {
                    Ok(Response::Ok) => self.current = Current::Authenticate { gid },
                    Ok(Response::Error(e)) => {
                        log::info!("authenticate refused: {e}");
                        self.finish_with(Self::refusal(&e));
                    }
                    _ => self.finish_with(ErrorKind::HwUnavailable),
                }
            }
            Operation::Enumerate => {
                let Some(gid) = self.active_gid else { return self.finish_with(ErrorKind::UnableToProcess) };
                match self.call(&Request::Enumerate) {
                    Ok(Response::Fingers(fids)) => {
                        self.count_down(&fids, |fid, remaining| Message::Enumerating { gid, fid, remaining })
                    }
                    Ok(Response::Error(e)) => {
                        log::error!("enumerate: {e}");
                        self.finish_with(Self::refusal(&e));
                    }
                    _ => self.finish_with(ErrorKind::HwUnavailable),
                }
            }
            Operation::Remove { gid, fid } => {
                let Some(gid) = self.group_for(gid, "remove") else {
                    return self.finish_with(ErrorKind::UnableToProcess);
                };
                match self.call(&Request::Remove { fid }) {
                    // One finger: `{fid, gid, 0}` whether or not it existed (VTS: no error).
                    Ok(Response::Removed { complete: true, .. }) if fid != 0 => {
                        self.shared.emit(&Message::Removed { gid, fid, remaining: 0 })
                    }
                    Ok(Response::Removed { fids, complete: true }) => {
                        self.count_down(&fids, |fid, remaining| Message::Removed { gid, fid, remaining })
                    }
                    // Stopped part way: what was removed, each with at least one finger still left
                    // to remove (a remaining of 0 would end the operation for the framework before
                    // its error), then the error; the rest stays enrolled.
                    Ok(Response::Removed { fids, complete: false }) => {
                        if fid == 0 {
                            for (i, fid) in fids.iter().enumerate() {
                                let remaining = (fids.len() - i) as u32;
                                self.shared.emit(&Message::Removed { gid, fid: *fid, remaining });
                            }
                        }
                        self.finish_with(ErrorKind::UnableToRemove);
                    }
                    Ok(Response::Error(TaError::Internal(why))) => {
                        log::error!("remove: {why}");
                        self.finish_with(ErrorKind::UnableToRemove);
                    }
                    Ok(Response::Error(e)) => {
                        log::error!("remove: {e}");
                        self.finish_with(Self::refusal(&e));
                    }
                    _ => self.finish_with(ErrorKind::HwUnavailable),
                }
            }
        }
    }

    /// One message per finger with `remaining` counting down to 0, or one `{fid 0, remaining 0}`.
    fn count_down(&self, fids: &[u32], msg: impl Fn(u32, u32) -> Message) {
        if fids.is_empty() {
            self.shared.emit(&msg(0, 0));
        }
        for (i, fid) in fids.iter().enumerate() {
            self.shared.emit(&msg(*fid, (fids.len() - 1 - i) as u32));
        }
    }

    /// Whether a command that ends the running operation waits in the queue: the touch that was
    /// being processed then ends without a message of its own.
    fn superseded(&self) -> bool {
        self.shared.queue.lock().iter().any(Command::ends_operation)
    }

    fn on_sensor(&mut self, ev: SensorEvent) {
        if self.current == Current::Idle {
            return;
        }
        let enrolling = matches!(self.current, Current::Enroll { .. });
        let request = match ev {
            SensorEvent::FingerDown { image, contact_ms } if enrolling => Request::EnrollCapture { image, contact_ms },
            SensorEvent::FingerDown { image, contact_ms } => Request::AuthenticateCapture { image, contact_ms },
            // The image is the trustlet's to read (a TEE-owned sensor): it captures.
            SensorEvent::FingerDetected if enrolling => Request::EnrollTouch,
            SensorEvent::FingerDetected => Request::AuthenticateTouch,
            SensorEvent::FingerUp { .. } => return,
            // Nothing reaches the trustlet, and the touch counts for nothing: "try again".
            SensorEvent::TouchLost => {
                return self.shared.emit(&Message::Acquired(crate::codes::Acquired::Insufficient));
            }
        };
        // A stop requested before this touch belongs to an earlier one.
        if let Some(i) = &self.shared.interrupt {
            i.clear();
        }
        let answer = self.call(&request);
        if self.superseded() {
            // An enrollment the trustlet finished and stored is the client's to hear of, cancelled
            // or not: dropped, it would be a print that enumerate lists and nobody enrolled.
            if let (Current::Enroll { gid, .. }, Ok(Response::Enroll(step))) = (self.current, &answer) {
                if step.counted && step.remaining == 0 && step.fid != 0 {
                    log::info!("an enrollment finished as it was cancelled or replaced: reported");
                    self.current = Current::Idle;
                    self.shared.emit(&Message::Acquired(step.acquired));
                    return self.shared.emit(&Message::Enrolling { gid, fid: step.fid, remaining: 0 });
                }
            }
            log::info!("touch dropped: the operation was cancelled or replaced while it was processed");
            return;
        }
        match self.current {
            Current::Idle => {}
            Current::Enroll { gid, .. } => match answer {
                Ok(Response::Enroll(step)) => {
                    self.shared.emit(&Message::Acquired(step.acquired));
                    if let Some(code) = step.vendor_error {
                        self.current = Current::Idle;
                        return self.shared.emit(&Message::Error(ErrorKind::Vendor(code)));
                    }
                    if step.counted {
                        if step.remaining == 0 {
                            self.current = Current::Idle;
                        }
                        self.shared.emit(&Message::Enrolling { gid, fid: step.fid, remaining: step.remaining });
                    }
                }
                Ok(Response::Error(e)) => {
                    log::error!("enroll capture: {e}");
                    self.end_session();
                    self.finish_with(Self::refusal(&e));
                }
                _ => {
                    self.end_session();
                    self.finish_with(ErrorKind::HwUnavailable)
                }
            },
            Current::Authenticate { gid } => match answer {
                Ok(Response::Auth { acquired, outcome }) => {
                    self.shared.emit(&Message::Acquired(acquired));
                    match outcome {
                        AuthOutcome::NotCounted => {}
                        AuthOutcome::NoMatch => {
                            self.shared.emit(&Message::Authenticated { gid, fid: 0, hat: [0; HAT_LEN] })
                        }
                        AuthOutcome::Match { fid, hat } => {
                            self.current = Current::Idle;
                            self.shared.emit(&Message::Authenticated { gid, fid, hat });
                        }
                        AuthOutcome::LockedOut => {
                            self.shared.emit(&Message::Authenticated { gid, fid: 0, hat: [0; HAT_LEN] });
                            self.finish_with(ErrorKind::Lockout);
                        }
                    }
                }
                Ok(Response::Error(e)) => {
                    log::info!("authenticate capture: {e}");
                    self.end_session();
                    self.finish_with(Self::refusal(&e));
                }
                _ => {
                    self.end_session();
                    self.finish_with(ErrorKind::HwUnavailable)
                }
            },
        }
    }
}
