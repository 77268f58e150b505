//! The virtual sensor's socket protocol (version 1). Every message is one `SOCK_SEQPACKET` packet,
//! little-endian, starting with `u8 version | u8 kind | u16 reserved (0)`.
//!
//! Client → sensor:
//! - `FINGER_DOWN` (1): `u16 width | u16 height | u16 dpi | u16 reserved | pixels…` — an 8-bit
//!   grayscale image, row-major, at most 1024×1024. When the pixels do not fit one packet (keep
//!   packets under [`MAX_PACKET`]), the rest follows in `IMAGE_DATA` packets.
//! - `FINGER_UP` (2): no payload.
//! - `IMAGE_DATA` (3): the next pixels of the image a `FINGER_DOWN` started.
//!
//! Sensor → client, one answer to every packet: `STATUS` (0x80): `u8 status | u8 reserved |
//! reason (UTF-8, rest of the packet)`, status 0 = taken, 1 = ignored (nothing is waiting for a
//! finger, as a real sensor ignores touches when not armed), 2 = refused (the reason says why),
//! 3 = continue (more `IMAGE_DATA` is expected).

pub const VERSION: u8 = 1;
pub const FINGER_DOWN: u8 = 1;
pub const FINGER_UP: u8 = 2;
pub const IMAGE_DATA: u8 = 3;
pub const STATUS: u8 = 0x80;
/// Largest packet either side sends; fits the default socket buffers.
pub const MAX_PACKET: usize = 60 * 1024;
pub const DOWN_HEADER: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Taken = 0,
    Ignored = 1,
    Refused = 2,
    Continue = 3,
}

impl Status {
    pub fn from_u8(v: u8) -> Option<Status> {
        match v {
            0 => Some(Status::Taken),
            1 => Some(Status::Ignored),
            2 => Some(Status::Refused),
            3 => Some(Status::Continue),
            _ => None,
        }
    }
}

pub fn status_packet(status: Status, reason: &str) -> Vec<u8> {
    let mut p = vec![VERSION, STATUS, 0, 0, status as u8, 0];
    p.extend_from_slice(reason.as_bytes());
    p
}

/// Decodes a status packet into its status and reason.
pub fn parse_status(p: &[u8]) -> Option<(Status, String)> {
    if p.len() < 6 || p[0] != VERSION || p[1] != STATUS {
        return None;
    }
    Some((Status::from_u8(p[4])?, String::from_utf8_lossy(&p[6..]).into_owned()))
}

/// The packets that send one touch of `pixels` (`width`×`height`, `dpi`).
pub fn finger_down_packets(width: u16, height: u16, dpi: u16, pixels: &[u8]) -> Vec<Vec<u8>> {
    let mut first = vec![VERSION, FINGER_DOWN, 0, 0];
    for v in [width, height, dpi, 0] {
        first.extend_from_slice(&v.to_le_bytes());
    }
    let room = MAX_PACKET - first.len();
    let (head, mut rest) = pixels.split_at(pixels.len().min(room));
    first.extend_from_slice(head);
    let mut out = vec![first];
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(MAX_PACKET - 4));
        let mut p = vec![VERSION, IMAGE_DATA, 0, 0];
        p.extend_from_slice(chunk);
        out.push(p);
        rest = tail;
    }
    out
}

pub fn finger_up_packet() -> Vec<u8> {
    vec![VERSION, FINGER_UP, 0, 0]
}
