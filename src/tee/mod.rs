//! The trustlet bridge: the HAL's only way to the code that holds keys, templates and the matcher.
//!
//! The HAL speaks typed [`Request`]s; [`TrustletClient`] turns them into bytes, hands them to a
//! [`Transport`] and checks that the bytes coming back decode to a response of the right kind.
//! The software trustlet runs behind the same bytes in-process ([`InProcess`]), and so does the
//! bridge to an FPC trustlet in Qualcomm's QSEE ([`qsee`]), which turns them into that trustlet's
//! commands.

pub mod qsee;
pub mod soft;
pub mod wire;

pub use wire::{AuthOutcome, EnrollStep, HAT_LEN, Request, Response, TaError, WireError};

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A request to stop the touch being processed: raised by a caller (`cancel`, a new operation,
/// `close`), seen by an in-process trustlet between the stages of its work (the QSEE bridge between
/// two trustlet commands) and by the worker after the trustlet answers.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    pub fn request(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether a stop was requested since the last [`Interrupt::clear`].
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    pub fn clear(&self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Failure to reach the trustlet or to understand its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    RequestTooLarge(usize),
    Unreachable(String),
    BadResponse(WireError),
    WrongResponse,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::RequestTooLarge(n) => write!(f, "request of {n} bytes is too large"),
            TransportError::Unreachable(why) => write!(f, "trustlet unreachable: {why}"),
            TransportError::BadResponse(e) => write!(f, "undecodable trustlet response: {e}"),
            TransportError::WrongResponse => write!(f, "trustlet answered a different request"),
        }
    }
}

impl std::error::Error for TransportError {}

/// Carries one request's bytes to a trustlet and brings its response's bytes back.
pub trait Transport: Send {
    fn execute(&mut self, request: &[u8]) -> Result<Vec<u8>, TransportError>;
}

/// A trustlet that runs in this process: the byte-level entry point of the software TA.
pub trait ByteTrustlet: Send {
    fn handle(&mut self, request: &[u8]) -> Vec<u8>;
}

/// Runs a [`ByteTrustlet`] in-process, with the same bytes a TEE transport would carry.
pub struct InProcess<T: ByteTrustlet> {
    ta: T,
}

impl<T: ByteTrustlet> InProcess<T> {
    pub fn new(ta: T) -> Self {
        InProcess { ta }
    }
}

impl<T: ByteTrustlet> Transport for InProcess<T> {
    fn execute(&mut self, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.ta.handle(request))
    }
}

/// The FPC trustlet in Qualcomm's QSEE, through libQSEEComAPI ([`qsee`]).
pub const QSEE_FPC: &str = "qsee-fpc";

/// The `trustlet.kind` values [`open`] knows; the configuration refuses any other.
pub const KINDS: &[&str] = &["soft", QSEE_FPC];

/// The trustlet `config` names (`trustlet.kind`), reached through a transport, and the interrupt
/// that ends its running operation early when it runs in this process.
pub fn open(config: &crate::config::Config) -> Result<(Box<dyn Transport>, Option<Interrupt>), String> {
    match config.trustlet.kind.as_str() {
        "soft" => {
            let ta = soft::SoftTrustlet::new(soft::SoftSettings::from_config(config))?;
            let interrupt = ta.interrupt();
            Ok((Box::new(InProcess::new(ta)), Some(interrupt)))
        }
        QSEE_FPC => {
            let ta = qsee::QseeFpc::open(qsee::QseeSettings::from_config(config)?)?;
            let interrupt = ta.interrupt();
            Ok((Box::new(InProcess::new(ta)), Some(interrupt)))
        }
        other => Err(format!("trustlet.kind: {other:?} is not a trustlet kind of this build")),
    }
}

/// The HAL side of the bridge.
pub struct TrustletClient {
    transport: Box<dyn Transport>,
}

impl TrustletClient {
    pub fn new(transport: Box<dyn Transport>) -> Self {
        TrustletClient { transport }
    }

    /// Sends one request; `Ok(Response::Error(..))` is the trustlet refusing it.
    pub fn call(&mut self, req: &Request) -> Result<Response, TransportError> {
        let bytes = req.encode();
        if bytes.len() > wire::MAX_MESSAGE {
            return Err(TransportError::RequestTooLarge(bytes.len()));
        }
        let answer = self.transport.execute(&bytes)?;
        let rsp = Response::decode(&answer).map_err(TransportError::BadResponse)?;
        if !rsp.answers(req) {
            return Err(TransportError::WrongResponse);
        }
        Ok(rsp)
    }
}
