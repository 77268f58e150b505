//! The trustlet protocol: typed requests and responses, and the one byte format they travel in.
//!
//! Every message is `u16 version | u16 opcode | u32 payload length | payload`, little-endian.
//! The in-process soft trustlet receives exactly these bytes, so a real TEE transport carries the
//! same thing and the decoder is the fuzzing surface. Decoding checks every length before reading.

pub use crate::auth_token::HAT_LEN;
use crate::codes::{Acquired, VendorAcquired, VendorError};
use crate::image::GrayImage;
use std::fmt;

/// 2: acquired codes and vendor errors travel as the protocol's own tags, not C numbers.
/// 3: booleans are 0 or 1 only, and a removal says whether it completed.
pub const WIRE_VERSION: u16 = 3;
/// Largest message either side accepts: a 1024×1024 image plus headers fits with room to spare.
pub const MAX_MESSAGE: usize = 2 * 1024 * 1024;
const HEADER_LEN: usize = 8;

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    Truncated,
    TooLarge(usize),
    BadVersion(u16),
    UnknownOpcode(u16),
    /// A tag byte (acquired code, outcome, error kind) that the protocol does not define.
    UnknownTag {
        what: &'static str,
        tag: u8,
    },
    LengthMismatch,
    TrailingBytes,
    BadString,
    BadImage(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => write!(f, "message truncated"),
            WireError::TooLarge(n) => write!(f, "message of {n} bytes exceeds {MAX_MESSAGE}"),
            WireError::BadVersion(v) => write!(f, "wire version {v}, expected {WIRE_VERSION}"),
            WireError::UnknownOpcode(op) => write!(f, "unknown opcode {op:#06x}"),
            WireError::UnknownTag { what, tag } => write!(f, "unknown {what} tag {tag}"),
            WireError::LengthMismatch => write!(f, "payload length does not match the header"),
            WireError::TrailingBytes => write!(f, "trailing bytes after the payload"),
            WireError::BadString => write!(f, "string is not valid UTF-8"),
            WireError::BadImage(why) => write!(f, "bad image: {why}"),
        }
    }
}

impl std::error::Error for WireError {}

/// What the HAL asks of the trustlet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    SetActiveGroup {
        gid: u32,
        path: String,
    },
    PreEnroll,
    PostEnroll,
    GetAuthenticatorId,
    /// Starts an enrollment session authorised by a password auth token.
    EnrollBegin {
        hat: [u8; HAT_LEN],
    },
    /// One captured touch for the running enrollment; `contact_ms` is how long the finger stayed.
    EnrollCapture {
        image: GrayImage,
        contact_ms: u32,
    },
    AuthenticateBegin {
        operation_id: u64,
    },
    AuthenticateCapture {
        image: GrayImage,
        contact_ms: u32,
    },
    /// A finger is on a sensor whose image only the trustlet reads: it captures and enrolls it.
    EnrollTouch,
    /// As [`Request::EnrollTouch`], for an authentication.
    AuthenticateTouch,
    /// Ends whatever enrollment or authentication session is open, keeping the challenge.
    EndSession,
    Enumerate,
    /// `fid == 0` removes every finger of the active group.
    Remove {
        fid: u32,
    },
}

/// Why the trustlet refused a request. Log text only: no secret ever goes in here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaError {
    /// The enroll token failed a check; the text names which one.
    Unauthorized(String),
    NoActiveGroup,
    NoSession,
    NoSpace,
    Lockout {
        remaining_ms: u64,
    },
    /// Storage, key or other internal failure; the text says what.
    Internal(String),
    BadRequest(String),
}

impl fmt::Display for TaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaError::Unauthorized(why) => write!(f, "enrollment not authorised: {why}"),
            TaError::NoActiveGroup => write!(f, "no active group (set_active_group first)"),
            TaError::NoSession => write!(f, "no enrollment or authentication session"),
            TaError::NoSpace => write!(f, "no space for another finger in this group"),
            TaError::Lockout { remaining_ms } => write!(f, "locked out for {remaining_ms} ms more"),
            TaError::Internal(why) => write!(f, "internal trustlet failure: {why}"),
            TaError::BadRequest(why) => write!(f, "bad request: {why}"),
        }
    }
}

/// The result of one enrollment touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollStep {
    /// How the touch went.
    pub acquired: Acquired,
    /// True when the touch counted towards the enrollment.
    pub counted: bool,
    /// Touches still needed; 0 with `fid != 0` means the finger is stored.
    pub remaining: u32,
    /// The finger id being enrolled (known from the first touch on).
    pub fid: u32,
    /// A vendor error that ends the enrollment, e.g. a finger already enrolled.
    pub vendor_error: Option<VendorError>,
}

/// The result of one authentication touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The capture was not good enough to count as a trial.
    NotCounted,
    NoMatch,
    Match {
        fid: u32,
        hat: [u8; HAT_LEN],
    },
    /// This touch was the last false trial allowed; the group is now locked out.
    LockedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Ok,
    Challenge(u64),
    AuthenticatorId(u64),
    Enroll(EnrollStep),
    Auth {
        acquired: Acquired,
        outcome: AuthOutcome,
    },
    /// Finger ids in the active group, in a stable order.
    Fingers(Vec<u32>),
    /// Finger ids actually removed, in removal order.
    Removed {
        fids: Vec<u32>,
        /// False when a failure stopped the removal after `fids`: the other fingers stay.
        complete: bool,
    },
    Error(TaError),
}

mod op {
    pub const SET_ACTIVE_GROUP: u16 = 0x0001;
    pub const PRE_ENROLL: u16 = 0x0002;
    pub const POST_ENROLL: u16 = 0x0003;
    pub const GET_AUTHENTICATOR_ID: u16 = 0x0004;
    pub const ENROLL_BEGIN: u16 = 0x0005;
    pub const ENROLL_CAPTURE: u16 = 0x0006;
    pub const AUTHENTICATE_BEGIN: u16 = 0x0007;
    pub const AUTHENTICATE_CAPTURE: u16 = 0x0008;
    pub const END_SESSION: u16 = 0x0009;
    pub const ENUMERATE: u16 = 0x000a;
    pub const REMOVE: u16 = 0x000b;
    pub const ENROLL_TOUCH: u16 = 0x000c;
    pub const AUTHENTICATE_TOUCH: u16 = 0x000d;

    pub const RSP_OK: u16 = 0x8000;
    pub const RSP_CHALLENGE: u16 = 0x8001;
    pub const RSP_AUTHENTICATOR_ID: u16 = 0x8002;
    pub const RSP_ENROLL: u16 = 0x8003;
    pub const RSP_AUTH: u16 = 0x8004;
    pub const RSP_FINGERS: u16 = 0x8005;
    pub const RSP_REMOVED: u16 = 0x8006;
    pub const RSP_ERROR: u16 = 0x80ff;
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn new(opcode: u16) -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&WIRE_VERSION.to_le_bytes());
        buf.extend_from_slice(&opcode.to_le_bytes());
        buf.extend_from_slice(&[0; 4]);
        Writer { buf }
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
        self
    }
    fn image(&mut self, img: &GrayImage) -> &mut Self {
        self.u32(img.width()).u32(img.height()).u32(img.dpi()).bytes(img.pixels())
    }
    fn fids(&mut self, fids: &[u32]) -> &mut Self {
        self.u32(fids.len() as u32);
        for f in fids {
            self.u32(*f);
        }
        self
    }
    fn finish(mut self) -> Vec<u8> {
        let len = (self.buf.len() - HEADER_LEN) as u32;
        self.buf[4..8].copy_from_slice(&len.to_le_bytes());
        self.buf
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, WireError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| WireError::BadString)
    }
    fn hat(&mut self) -> Result<[u8; HAT_LEN], WireError> {
        Ok(self.take(HAT_LEN)?.try_into().expect("69 bytes"))
    }
    fn image(&mut self) -> Result<GrayImage, WireError> {
        let (w, h, dpi) = (self.u32()?, self.u32()?, self.u32()?);
        let px = self.bytes()?;
        GrayImage::new(w, h, dpi, px.to_vec()).map_err(|e| WireError::BadImage(e.to_string()))
    }
    fn fids(&mut self) -> Result<Vec<u32>, WireError> {
        let n = self.u32()? as usize;
        if n > self.rest.len() / 4 {
            return Err(WireError::Truncated);
        }
        (0..n).map(|_| self.u32()).collect()
    }
    /// 0 or 1: any other byte would decode to a message that does not re-encode to its bytes.
    fn bool(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(WireError::UnknownTag { what: "boolean", tag }),
        }
    }
    fn end(self) -> Result<(), WireError> {
        if self.rest.is_empty() { Ok(()) } else { Err(WireError::TrailingBytes) }
    }
}

/// Splits a message into its opcode and a reader over exactly its payload.
fn open(msg: &[u8]) -> Result<(u16, Reader<'_>), WireError> {
    if msg.len() > MAX_MESSAGE {
        return Err(WireError::TooLarge(msg.len()));
    }
    if msg.len() < HEADER_LEN {
        return Err(WireError::Truncated);
    }
    let version = u16::from_le_bytes([msg[0], msg[1]]);
    if version != WIRE_VERSION {
        return Err(WireError::BadVersion(version));
    }
    let opcode = u16::from_le_bytes([msg[2], msg[3]]);
    let len = u32::from_le_bytes([msg[4], msg[5], msg[6], msg[7]]) as usize;
    if len != msg.len() - HEADER_LEN {
        return Err(WireError::LengthMismatch);
    }
    Ok((opcode, Reader { rest: &msg[HEADER_LEN..] }))
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Request::SetActiveGroup { gid, path } => {
                let mut w = Writer::new(op::SET_ACTIVE_GROUP);
                w.u32(*gid).bytes(path.as_bytes());
                w.finish()
            }
            Request::PreEnroll => Writer::new(op::PRE_ENROLL).finish(),
            Request::PostEnroll => Writer::new(op::POST_ENROLL).finish(),
            Request::GetAuthenticatorId => Writer::new(op::GET_AUTHENTICATOR_ID).finish(),
            Request::EnrollBegin { hat } => {
                let mut w = Writer::new(op::ENROLL_BEGIN);
                w.buf.extend_from_slice(hat);
                w.finish()
            }
            Request::EnrollCapture { image, contact_ms } => {
                let mut w = Writer::new(op::ENROLL_CAPTURE);
                w.u32(*contact_ms).image(image);
                w.finish()
            }
            Request::AuthenticateBegin { operation_id } => {
                let mut w = Writer::new(op::AUTHENTICATE_BEGIN);
                w.u64(*operation_id);
                w.finish()
            }
            Request::AuthenticateCapture { image, contact_ms } => {
                let mut w = Writer::new(op::AUTHENTICATE_CAPTURE);
                w.u32(*contact_ms).image(image);
                w.finish()
            }
            Request::EnrollTouch => Writer::new(op::ENROLL_TOUCH).finish(),
            Request::AuthenticateTouch => Writer::new(op::AUTHENTICATE_TOUCH).finish(),
            Request::EndSession => Writer::new(op::END_SESSION).finish(),
            Request::Enumerate => Writer::new(op::ENUMERATE).finish(),
            Request::Remove { fid } => {
                let mut w = Writer::new(op::REMOVE);
                w.u32(*fid);
                w.finish()
            }
        }
    }

    pub fn decode(msg: &[u8]) -> Result<Request, WireError> {
        let (opcode, mut r) = open(msg)?;
        let req = match opcode {
            op::SET_ACTIVE_GROUP => Request::SetActiveGroup { gid: r.u32()?, path: r.string()? },
            op::PRE_ENROLL => Request::PreEnroll,
            op::POST_ENROLL => Request::PostEnroll,
            op::GET_AUTHENTICATOR_ID => Request::GetAuthenticatorId,
            op::ENROLL_BEGIN => Request::EnrollBegin { hat: r.hat()? },
            op::ENROLL_CAPTURE => {
                let contact_ms = r.u32()?;
                Request::EnrollCapture { contact_ms, image: r.image()? }
            }
            op::AUTHENTICATE_BEGIN => Request::AuthenticateBegin { operation_id: r.u64()? },
            op::AUTHENTICATE_CAPTURE => {
                let contact_ms = r.u32()?;
                Request::AuthenticateCapture { contact_ms, image: r.image()? }
            }
            op::ENROLL_TOUCH => Request::EnrollTouch,
            op::AUTHENTICATE_TOUCH => Request::AuthenticateTouch,
            op::END_SESSION => Request::EndSession,
            op::ENUMERATE => Request::Enumerate,
            op::REMOVE => Request::Remove { fid: r.u32()? },
            other => return Err(WireError::UnknownOpcode(other)),
        };
        r.end()?;
        Ok(req)
    }
}

const ERR_UNAUTHORIZED: u8 = 1;
const ERR_NO_ACTIVE_GROUP: u8 = 2;
const ERR_NO_SESSION: u8 = 3;
const ERR_NO_SPACE: u8 = 4;
const ERR_LOCKOUT: u8 = 5;
const ERR_INTERNAL: u8 = 6;
const ERR_BAD_REQUEST: u8 = 7;

const AUTH_NOT_COUNTED: u8 = 0;
const AUTH_NO_MATCH: u8 = 1;
const AUTH_MATCH: u8 = 2;
const AUTH_LOCKED_OUT: u8 = 3;

/// The protocol's tags for acquired codes (its own numbers: the C ones belong to `ffi`).
const ACQUIRED_TAGS: [(Acquired, u8); 7] = [
    (Acquired::Good, 0),
    (Acquired::Partial, 1),
    (Acquired::Insufficient, 2),
    (Acquired::ImagerDirty, 3),
    (Acquired::TooSlow, 4),
    (Acquired::TooFast, 5),
    (Acquired::Vendor(VendorAcquired::MoveFinger), 0x81),
];

fn acquired_tag(a: Acquired) -> u8 {
    ACQUIRED_TAGS.iter().find(|(code, _)| *code == a).map(|(_, tag)| *tag).expect("every acquired code has a tag")
}

fn acquired_from_tag(tag: u8) -> Result<Acquired, WireError> {
    ACQUIRED_TAGS
        .iter()
        .find(|(_, t)| *t == tag)
        .map(|(code, _)| *code)
        .ok_or(WireError::UnknownTag { what: "acquired", tag })
}

/// 0: no vendor error.
fn vendor_error_tag(e: Option<VendorError>) -> u8 {
    match e {
        None => 0,
        Some(VendorError::FingerAlreadyEnrolled) => 1,
    }
}

fn vendor_error_from_tag(tag: u8) -> Result<Option<VendorError>, WireError> {
    match tag {
        0 => Ok(None),
        1 => Ok(Some(VendorError::FingerAlreadyEnrolled)),
        tag => Err(WireError::UnknownTag { what: "vendor error", tag }),
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Response::Ok => Writer::new(op::RSP_OK).finish(),
            Response::Challenge(c) => {
                let mut w = Writer::new(op::RSP_CHALLENGE);
                w.u64(*c);
                w.finish()
            }
            Response::AuthenticatorId(id) => {
                let mut w = Writer::new(op::RSP_AUTHENTICATOR_ID);
                w.u64(*id);
                w.finish()
            }
            Response::Enroll(s) => {
                let mut w = Writer::new(op::RSP_ENROLL);
                w.u8(acquired_tag(s.acquired)).u8(s.counted as u8).u32(s.remaining).u32(s.fid);
                w.u8(vendor_error_tag(s.vendor_error));
                w.finish()
            }
            Response::Auth { acquired, outcome } => {
                let mut w = Writer::new(op::RSP_AUTH);
                w.u8(acquired_tag(*acquired));
                match outcome {
                    AuthOutcome::NotCounted => w.u8(AUTH_NOT_COUNTED),
                    AuthOutcome::NoMatch => w.u8(AUTH_NO_MATCH),
                    AuthOutcome::LockedOut => w.u8(AUTH_LOCKED_OUT),
                    AuthOutcome::Match { fid, hat } => {
                        w.u8(AUTH_MATCH).u32(*fid);
                        w.buf.extend_from_slice(hat);
                        &mut w
                    }
                };
                w.finish()
            }
            Response::Fingers(f) => {
                let mut w = Writer::new(op::RSP_FINGERS);
                w.fids(f);
                w.finish()
            }
            Response::Removed { fids, complete } => {
                let mut w = Writer::new(op::RSP_REMOVED);
                w.fids(fids).u8(u8::from(*complete));
                w.finish()
            }
            Response::Error(e) => {
                let mut w = Writer::new(op::RSP_ERROR);
                match e {
                    TaError::Unauthorized(why) => w.u8(ERR_UNAUTHORIZED).bytes(why.as_bytes()),
                    TaError::NoActiveGroup => w.u8(ERR_NO_ACTIVE_GROUP),
                    TaError::NoSession => w.u8(ERR_NO_SESSION),
                    TaError::NoSpace => w.u8(ERR_NO_SPACE),
                    TaError::Lockout { remaining_ms } => w.u8(ERR_LOCKOUT).u64(*remaining_ms),
                    TaError::Internal(why) => w.u8(ERR_INTERNAL).bytes(why.as_bytes()),
                    TaError::BadRequest(why) => w.u8(ERR_BAD_REQUEST).bytes(why.as_bytes()),
                };
                w.finish()
            }
        }
    }

    pub fn decode(msg: &[u8]) -> Result<Response, WireError> {
        let (opcode, mut r) = open(msg)?;
        let rsp = match opcode {
            op::RSP_OK => Response::Ok,
            op::RSP_CHALLENGE => Response::Challenge(r.u64()?),
            op::RSP_AUTHENTICATOR_ID => Response::AuthenticatorId(r.u64()?),
            op::RSP_ENROLL => {
                let acquired = acquired_from_tag(r.u8()?)?;
                let counted = r.bool()?;
                let remaining = r.u32()?;
                let fid = r.u32()?;
                let vendor_error = vendor_error_from_tag(r.u8()?)?;
                Response::Enroll(EnrollStep { acquired, counted, remaining, fid, vendor_error })
            }
            op::RSP_AUTH => {
                let acquired = acquired_from_tag(r.u8()?)?;
                let outcome = match r.u8()? {
                    AUTH_NOT_COUNTED => AuthOutcome::NotCounted,
                    AUTH_NO_MATCH => AuthOutcome::NoMatch,
                    AUTH_LOCKED_OUT => AuthOutcome::LockedOut,
                    AUTH_MATCH => AuthOutcome::Match { fid: r.u32()?, hat: r.hat()? },
                    tag => return Err(WireError::UnknownTag { what: "auth outcome", tag }),
                };
                Response::Auth { acquired, outcome }
            }
            op::RSP_FINGERS => Response::Fingers(r.fids()?),
            op::RSP_REMOVED => Response::Removed { fids: r.fids()?, complete: r.bool()? },
            op::RSP_ERROR => {
                let text = |r: &mut Reader| -> Result<String, WireError> { r.string() };
                Response::Error(match r.u8()? {
                    ERR_UNAUTHORIZED => TaError::Unauthorized(text(&mut r)?),
                    ERR_NO_ACTIVE_GROUP => TaError::NoActiveGroup,
                    ERR_NO_SESSION => TaError::NoSession,
                    ERR_NO_SPACE => TaError::NoSpace,
                    ERR_LOCKOUT => TaError::Lockout { remaining_ms: r.u64()? },
                    ERR_INTERNAL => TaError::Internal(text(&mut r)?),
                    ERR_BAD_REQUEST => TaError::BadRequest(text(&mut r)?),
                    tag => return Err(WireError::UnknownTag { what: "error", tag }),
                })
            }
            other => return Err(WireError::UnknownOpcode(other)),
        };
        r.end()?;
        Ok(rsp)
    }

    /// The opcode a response must carry for a given request (or an error).
    pub fn answers(&self, req: &Request) -> bool {
        matches!(
            (req, self),
            (_, Response::Error(_))
                | (Request::SetActiveGroup { .. }, Response::Ok)
                | (Request::PreEnroll, Response::Challenge(_))
                | (Request::PostEnroll, Response::Ok)
                | (Request::GetAuthenticatorId, Response::AuthenticatorId(_))
                | (Request::EnrollBegin { .. }, Response::Ok)
                | (Request::EnrollCapture { .. }, Response::Enroll(_))
                | (Request::AuthenticateBegin { .. }, Response::Ok)
                | (Request::AuthenticateCapture { .. }, Response::Auth { .. })
                | (Request::EnrollTouch, Response::Enroll(_))
                | (Request::AuthenticateTouch, Response::Auth { .. })
                | (Request::EndSession, Response::Ok)
                | (Request::Enumerate, Response::Fingers(_))
                | (Request::Remove { .. }, Response::Removed { .. })
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img() -> GrayImage {
        GrayImage::new(4, 3, 500, (0..12).collect()).unwrap()
    }

    #[test]
    fn every_request_and_response_round_trips() {
        let reqs = vec![
            Request::SetActiveGroup { gid: 7, path: "/data/x".into() },
            Request::PreEnroll,
            Request::PostEnroll,
            Request::GetAuthenticatorId,
            Request::EnrollBegin { hat: [7; HAT_LEN] },
            Request::EnrollCapture { image: img(), contact_ms: 250 },
            Request::EnrollTouch,
            Request::AuthenticateTouch,
            Request::AuthenticateBegin { operation_id: u64::MAX },
            Request::AuthenticateCapture { image: img(), contact_ms: 1 },
            Request::EndSession,
            Request::Enumerate,
            Request::Remove { fid: 3 },
        ];
        for r in reqs {
            assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        }
        let rsps = vec![
            Response::Ok,
            Response::Challenge(9),
            Response::AuthenticatorId(10),
            Response::Enroll(EnrollStep {
                acquired: Acquired::Vendor(VendorAcquired::MoveFinger),
                counted: false,
                remaining: 3,
                fid: 5,
                vendor_error: Some(VendorError::FingerAlreadyEnrolled),
            }),
            Response::Auth { acquired: Acquired::Good, outcome: AuthOutcome::Match { fid: 4, hat: [1; HAT_LEN] } },
            Response::Auth { acquired: Acquired::Insufficient, outcome: AuthOutcome::NotCounted },
            Response::Auth { acquired: Acquired::TooFast, outcome: AuthOutcome::LockedOut },
            Response::Fingers(vec![1, 2, 3]),
            Response::Removed { fids: vec![], complete: true },
            Response::Removed { fids: vec![4, 5], complete: false },
            Response::Error(TaError::Unauthorized("hmac".into())),
            Response::Error(TaError::Lockout { remaining_ms: 30_000 }),
        ];
        for r in rsps {
            assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn truncated_lying_and_oversized_messages_are_refused() {
        let good = Request::EnrollCapture { image: img(), contact_ms: 3 }.encode();
        for cut in 0..good.len() {
            assert!(Request::decode(&good[..cut]).is_err(), "prefix of {cut} bytes decoded");
        }
        let mut lying = good.clone();
        lying[4] = lying[4].wrapping_add(1);
        assert_eq!(Request::decode(&lying), Err(WireError::LengthMismatch));
        let mut wrong_version = good.clone();
        wrong_version[0] = 9;
        assert_eq!(Request::decode(&wrong_version), Err(WireError::BadVersion(9)));
        let huge = vec![0u8; MAX_MESSAGE + 1];
        assert_eq!(Request::decode(&huge), Err(WireError::TooLarge(MAX_MESSAGE + 1)));
        // A fid list that claims more entries than bytes present is refused without allocating.
        let mut w = Writer::new(op::RSP_FINGERS);
        w.u32(u32::MAX);
        assert_eq!(Response::decode(&w.finish()), Err(WireError::Truncated));
    }
}
