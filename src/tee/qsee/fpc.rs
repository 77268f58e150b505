//! The FPC fingerprint trustlet's command protocol, per generation, as bytes: what fphal writes into
//! the shared buffer for each command and how it reads the answer. Pure functions over byte slices,
//! so that the golden vectors and the fuzz target check them without a trustlet.
//!
//! Facts from Sony's open-source FPC HAL (`sonyxperiadev/vendor-sony-oss-fingerprint` at
//! 9dfd6e622c07): command groups and ids from `tz_api_yoshino.h`, `tz_api_nile.h`, `tz_api_tama.h`
//! (lines 38-66) and `tz_api_loire_tone.h` (38-86); message layouts from the structs of those headers
//! (yoshino 99-211; loire 113-198: `set_gid`, `end_enrol`, `fingerprint_delete` put the value before
//! the status there); how they travel from `fpc_imp_yoshino_nile_tama.c` 86-210 (every command struct
//! lives in a shared buffer; the app's own buffer carries `{u32 length, u32 address}` and gets an
//! `i32` back at offset 256). All fields are little-endian, naturally aligned, no packing.

use crate::auth_token::HAT_LEN;
use crate::codes::Acquired;

/// A protocol generation: the same commands, with different ids, groups and field orders.
#[derive(Debug, PartialEq, Eq)]
pub struct Generation {
    pub name: &'static str,
    /// The trustlet's image name and directory on that platform (Sony's per-platform table).
    pub app_name: &'static str,
    pub app_path: &'static str,
    /// The keymaster trustlet's names, tried in order, and its directory.
    pub keymaster_names: &'static [&'static str],
    pub keymaster_path: &'static str,
    pub template_group: u32,
    pub sensor_group: u32,
    pub begin_enrol: u32,
    pub enrol_step: u32,
    pub end_enrol: u32,
    pub identify: u32,
    pub update_template: Option<u32>,
    pub load_empty_db: u32,
    pub get_fingerprints: u32,
    pub delete_fingerprint: u32,
    pub set_gid: u32,
    pub get_template_id: u32,
    pub wait_finger_lost: u32,
    pub wait_finger_down: u32,
    pub capture_image: u32,
    pub sensor_wake: Option<u32>,
    pub deep_sleep: Option<u32>,
    /// loire/tone start the trustlet with an `INIT` command in the template group.
    pub init: Option<u32>,
    /// `{status, value}` (yoshino, nile, tama) or `{value, status}` (loire/tone) in `set_gid`,
    /// `end_enrol` and `fingerprint_delete`.
    pub value_first: bool,
    pub identify_len: usize,
    /// The template id message's length and where its `u64` sits.
    pub template_id_len: usize,
    pub template_id_at: usize,
}

/// Groups and ids every generation shares (`tz_api_*.h`: `FPC_GROUP_DB`, `FPC_GROUP_FPCDATA`).
pub const GROUP_DB: u32 = 2;
pub const LOAD_DB: u32 = 0x0b;
pub const STORE_DB: u32 = 0x0c;
pub const GROUP_FPCDATA: u32 = 3;
pub const SET_AUTH_CHALLENGE: u32 = 1;
pub const GET_AUTH_CHALLENGE: u32 = 2;
pub const AUTHORIZE_ENROL: u32 = 3;
pub const GET_AUTH_RESULT: u32 = 4;
pub const SET_KEY_DATA: u32 = 5;
/// `FINGERPRINT_MAX_COUNT`: the most prints a list answer holds.
pub const MAX_PRINTS: usize = 5;
/// `TZ_RESPONSE_OFFSET`: where the app's own answer to a modified command sits in its buffer.
pub const RESPONSE_OFFSET: usize = 256;
/// What the HAL hands over of the app's buffer with each command (`QSEECOM_ALIGN(8)`).
pub const SEND_LEN: usize = 64;
/// The length of the app's answer area.
pub const RESPONSE_LEN: usize = 64;
/// Where in the 8-byte `{length, address}` request the kernel writes the shared buffer's address.
pub const ADDRESS_OFFSET: u32 = 4;
/// Shared buffers are handed over in whole pages.
pub const PAGE: usize = 4096;
/// A byte-array command's header before its payload (`fpc_send_buffer_t` up to `data`).
pub const BUFFER_HEADER: usize = 16;
/// `sizeof(fpc_send_buffer_t)`: the allocation is payload + this.
pub const BUFFER_STRUCT: usize = 24;

const YOSHINO: Generation = Generation {
    name: "yoshino",
    app_name: "tzfingerprint",
    app_path: "/odm/firmware",
    keymaster_names: &["keymaster64", "keymaster"],
    keymaster_path: "",
    template_group: 0x0b,
    sensor_group: 0x0a,
    begin_enrol: 0,
    enrol_step: 1,
    end_enrol: 2,
    identify: 3,
    update_template: Some(4),
    load_empty_db: 6,
    get_fingerprints: 7,
    delete_fingerprint: 8,
    set_gid: 9,
    get_template_id: 0x0a,
    wait_finger_lost: 0,
    wait_finger_down: 2,
    capture_image: 3,
    sensor_wake: None,
    deep_sleep: Some(4),
    init: None,
    value_first: false,
    identify_len: 24,
    template_id_len: 24,
    template_id_at: 16,
};

/// Every generation this build speaks, by `qsee.generation`.
pub const GENERATIONS: &[Generation] = &[
    LOIRE,
    YOSHINO,
    // nile: the same ids as yoshino; its trustlet is `fpctzapp` in the firmware partition, and it has
    // no fallback keymaster name (`tz_api_nile.h` 26-27).
    Generation {
        name: "nile",
        app_name: "fpctzapp",
        app_path: "/vendor/firmware_mnt/image",
        keymaster_names: &["keymaster64"],
        ..YOSHINO
    },
    // tama: a sensor wake command takes id 0 and moves finger-lost to 1; identify answers 40 bytes
    // (`tz_api_tama.h` 58-66, 176-188).
    Generation {
        name: "tama",
        app_name: "fpctzfingerprint",
        sensor_wake: Some(0),
        wait_finger_lost: 1,
        identify_len: 40,
        ..YOSHINO
    },
];

const LOIRE: Generation = Generation {
    name: "loire",
    app_name: "tzfingerprint",
    app_path: "/odm/firmware",
    keymaster_names: &["keymaste", "keymaster"],
    keymaster_path: "/vendor/firmware_mnt/image",
    template_group: 1,
    sensor_group: 1,
    begin_enrol: 0,
    enrol_step: 1,
    end_enrol: 2,
    identify: 3,
    update_template: None,
    load_empty_db: 0x0a,
    get_fingerprints: 0x0d,
    delete_fingerprint: 0x0e,
    set_gid: 0x10,
    get_template_id: 0x11,
    wait_finger_lost: 5,
    wait_finger_down: 7,
    capture_image: 0x0f,
    sensor_wake: None,
    deep_sleep: None,
    init: Some(0x12),
    value_first: true,
    identify_len: 24,
    template_id_len: 16,
    template_id_at: 8,
};

/// The generation named `name`.
pub fn generation(name: &str) -> Option<&'static Generation> {
    GENERATIONS.iter().find(|g| g.name == name)
}

/// The names [`generation`] knows.
pub fn generation_names() -> Vec<&'static str> {
    GENERATIONS.iter().map(|g| g.name).collect()
}

/// An answer that does not have the shape its command's answer has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed trustlet answer: {}", self.0)
    }
}

/// The little-endian `u32` at `at`, if the answer holds it (the keymaster's reader too).
pub(super) fn u32_at(b: &[u8], at: usize) -> Result<u32, Malformed> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| Malformed(format!("{} bytes, a field at {at} needs 4", b.len())))
}

fn i32_at(b: &[u8], at: usize) -> Result<i32, Malformed> {
    u32_at(b, at).map(|v| v as i32)
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, Malformed> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| Malformed(format!("{} bytes, a field at {at} needs 8", b.len())))
}

/// A command message: `{u32 group, u32 command, ...}` and zeros to `len`.
fn message(group: u32, command: u32, len: usize) -> Vec<u8> {
    let mut m = vec![0u8; len];
    m[0..4].copy_from_slice(&group.to_le_bytes());
    m[4..8].copy_from_slice(&command.to_le_bytes());
    m
}

fn put_u32(m: &mut [u8], at: usize, v: u32) {
    m[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A message and the answer it expects back in the same buffer. Wiped when dropped: some carry the
/// auth-token key or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub bytes: Vec<u8>,
}

impl Drop for Command {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

impl Generation {
    /// `fpc_send_std_cmd_t {group, cmd, ret_val}`: 12 bytes, the result in `ret_val`.
    pub fn plain(&self, group: u32, command: u32) -> Command {
        Command { bytes: message(group, command, 12) }
    }

    /// `fpc_set_gid_t`: 16 bytes.
    pub fn set_gid(&self, gid: u32) -> Command {
        let mut m = message(self.template_group, self.set_gid, 16);
        put_u32(&mut m, if self.value_first { 8 } else { 12 }, gid);
        Command { bytes: m }
    }

    /// `fpc_fingerprint_delete_t`: 16 bytes.
    pub fn delete(&self, fid: u32) -> Command {
        let mut m = message(self.template_group, self.delete_fingerprint, 16);
        put_u32(&mut m, if self.value_first { 8 } else { 12 }, fid);
        Command { bytes: m }
    }

    /// `fpc_enrol_step_t`, `fpc_end_enrol_t`, `fpc_update_template_t`: 16 bytes.
    pub fn sixteen(&self, group: u32, command: u32) -> Command {
        Command { bytes: message(group, command, 16) }
    }

    /// `fpc_send_identify_t`: 24 bytes (40 on tama).
    pub fn identify_command(&self) -> Command {
        Command { bytes: message(self.template_group, self.identify, self.identify_len) }
    }

    /// `fpc_fingerprint_list_t`: 36 bytes with `length` preset to the room for ids.
    pub fn list(&self) -> Command {
        let mut m = message(self.template_group, self.get_fingerprints, 16 + 4 * MAX_PRINTS);
        put_u32(&mut m, 12, MAX_PRINTS as u32);
        Command { bytes: m }
    }

    /// `fpc_get_db_id_cmd_t`: 24 bytes (16 on loire/tone).
    pub fn template_id_command(&self) -> Command {
        Command { bytes: message(self.template_group, self.get_template_id, self.template_id_len) }
    }

    /// `fpc_send_auth_cmd_t` / `fpc_load_auth_challenge_t`: 24 bytes, the challenge at 8.
    pub fn challenge(&self, command: u32, challenge: u64) -> Command {
        let mut m = message(GROUP_FPCDATA, command, 24);
        m[8..16].copy_from_slice(&challenge.to_le_bytes());
        Command { bytes: m }
    }

    /// `fpc_get_auth_result_t`: 88 bytes with `length` preset to the token's size.
    pub fn auth_result_command(&self) -> Command {
        let mut m = message(GROUP_FPCDATA, GET_AUTH_RESULT, 88);
        put_u32(&mut m, 12, HAT_LEN as u32);
        Command { bytes: m }
    }

    /// `fpc_send_buffer_t` carrying `payload`: the bytes sit where the struct's `data` pointer
    /// would (offset 16), as Sony's `send_buffer_command` lays them; 24 + payload bytes in all.
    pub fn buffer(&self, group: u32, command: u32, payload: &[u8]) -> Command {
        let mut m = message(group, command, BUFFER_STRUCT + payload.len());
        put_u32(&mut m, 12, payload.len() as u32);
        m[BUFFER_HEADER..BUFFER_HEADER + payload.len()].copy_from_slice(payload);
        Command { bytes: m }
    }

    /// A database path as the trustlet takes it: the bytes and their NUL.
    pub fn path_command(&self, command: u32, path: &str) -> Command {
        let mut payload = path.as_bytes().to_vec();
        payload.push(0);
        self.buffer(GROUP_DB, command, &payload)
    }

    // Answers. Each takes the buffer's bytes after the command and checks their length first.

    /// The result word of a plain or byte-array command (`ret_val` / `status` at 8).
    pub fn result(&self, answer: &[u8]) -> Result<i32, Malformed> {
        i32_at(answer, 8)
    }

    /// `{status, value}` or `{value, status}` per generation: `(status, value)`.
    pub fn status_value(&self, answer: &[u8]) -> Result<(i32, u32), Malformed> {
        if self.value_first { Ok((i32_at(answer, 12)?, u32_at(answer, 8)?)) } else { self.status_then(answer) }
    }

    /// `{status at 8, value at 12}` in every generation (enrol step, update template, identify).
    pub fn status_then(&self, answer: &[u8]) -> Result<(i32, u32), Malformed> {
        Ok((i32_at(answer, 8)?, u32_at(answer, 12)?))
    }

    /// The challenge command's `(status, challenge)`.
    pub fn challenge_answer(&self, answer: &[u8]) -> Result<(i32, u64), Malformed> {
        Ok((i32_at(answer, 16)?, u64_at(answer, 8)?))
    }

    /// The prints of a list answer: `status` 0 and at most [`MAX_PRINTS`] ids.
    pub fn prints(&self, answer: &[u8]) -> Result<(i32, Vec<u32>), Malformed> {
        let status = i32_at(answer, 8)?;
        if status != 0 {
            return Ok((status, Vec::new()));
        }
        let n = u32_at(answer, 12)? as usize;
        if n > MAX_PRINTS {
            return Err(Malformed(format!("{n} prints listed, at most {MAX_PRINTS} fit")));
        }
        let ids = (0..n).map(|i| u32_at(answer, 16 + 4 * i)).collect::<Result<Vec<u32>, Malformed>>()?;
        if ids.contains(&0) || (1..ids.len()).any(|i| ids[..i].contains(&ids[i])) {
            return Err(Malformed(format!("a print list with id 0 or an id twice: {ids:?}")));
        }
        Ok((0, ids))
    }

    /// The template id answer's `(result, id)` (loire/tone have no result word: 0).
    pub fn template_id(&self, answer: &[u8]) -> Result<(i32, u64), Malformed> {
        let result = if self.template_id_at > 8 { i32_at(answer, 8)? } else { 0 };
        Ok((result, u64_at(answer, self.template_id_at)?))
    }

    /// The auth result answer: `result` 0, `length` exactly a token, and the token.
    pub fn auth_result(&self, answer: &[u8]) -> Result<(i32, Option<[u8; HAT_LEN]>), Malformed> {
        let result = i32_at(answer, 8)?;
        if result != 0 {
            return Ok((result, None));
        }
        let len = u32_at(answer, 12)? as usize;
        if len != HAT_LEN {
            return Err(Malformed(format!("an auth token of {len} bytes, not {HAT_LEN}")));
        }
        let hat: [u8; HAT_LEN] = answer
            .get(16..16 + HAT_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| Malformed(format!("{} bytes, the token needs {}", answer.len(), 16 + HAT_LEN)))?;
        Ok((0, Some(hat)))
    }
}

/// The 8-byte request in the app's own buffer that points the trustlet at a shared buffer of
/// `shared_len` bytes: `fpc_send_mod_cmd_t {u32 length (whole pages), u32 address}`. The address is
/// left 0: the kernel writes the buffer's physical address there ([`ADDRESS_OFFSET`]).
pub fn pointer_request(shared_len: usize) -> [u8; 8] {
    let mut r = [0u8; 8];
    r[0..4].copy_from_slice(&(shared_len.div_ceil(PAGE) * PAGE).min(u32::MAX as usize).to_le_bytes()[..4]);
    r
}

/// The app's answer to a modified command: an `i32` at the start of the answer area, 0 when the
/// command was delivered.
pub fn delivery_status(answer: &[u8]) -> Result<i32, Malformed> {
    i32_at(answer, 0)
}

/// What a capture's result word means (`fpc_capture_image`; the values are Android's acquired
/// codes, which the trustlet returns as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    Good,
    /// A not-good acquired code 1..=5 (partial, insufficient, dirty, too slow, too fast).
    Acquired(Acquired),
    /// A positive value no acquired code has: a touch that cannot be used.
    Unknown(i32),
    /// A negative value: the trustlet failed.
    Failed(i32),
}

pub fn capture(result: i32) -> Capture {
    match result {
        0 => Capture::Good,
        1 => Capture::Acquired(Acquired::Partial),
        2 => Capture::Acquired(Acquired::Insufficient),
        3 => Capture::Acquired(Acquired::ImagerDirty),
        4 => Capture::Acquired(Acquired::TooSlow),
        5 => Capture::Acquired(Acquired::TooFast),
        r if r > 0 => Capture::Unknown(r),
        r => Capture::Failed(r),
    }
}

/// FPC's status names (`fpc_imp_yoshino_nile_tama.c` 54-84, the `fpc_error_str` table; -14 and
/// -15 unnamed there).
pub fn status_name(status: i32) -> &'static str {
    match status {
        0 => "OK",
        -1 => "FPC_ERROR_INPUT",
        -2 => "FPC_ERROR_TIMEDOUT",
        -3 => "FPC_ERROR_ALLOC",
        -4 => "FPC_ERROR_COMM",
        -5 => "FPC_ERROR_NOSPACE",
        -6 => "FPC_ERROR_IO",
        -7 => "FPC_ERROR_CANCELLED",
        -8 => "FPC_ERROR_NOENTITY",
        -9 => "FPC_ERROR_HARDWARE",
        -10 => "FPC_ERROR_CONFIG",
        -11 => "FPC_ERROR_NOT_INITIALIZED",
        -12 => "FPC_ERROR_RESET_HARDWARE",
        -13 => "FPC_ERROR_PN",
        -16 => "FPC_ERROR_CRYPTO",
        -17 => "FPC_ERROR_DB",
        -18 => "FPC_ERROR_TEMPLATE_CORRUPTED",
        _ => "unknown",
    }
}

/// Golden byte vectors: each command's bytes written out by hand from the header that declares its
/// struct, so that a wrong layout cannot pass because the adapter and the test double share it.
/// Header lines are at `sonyxperiadev/vendor-sony-oss-fingerprint` 9dfd6e622c07 (yoshino lines;
/// nile and tama are the same plus one).
#[cfg(test)]
mod golden {
    use super::*;

    fn tama() -> &'static Generation {
        generation("tama").unwrap()
    }

    fn yoshino() -> &'static Generation {
        generation("yoshino").unwrap()
    }

    fn loire() -> &'static Generation {
        generation("loire").unwrap()
    }

    #[test]
    fn plain_commands() {
        // fpc_send_std_cmd_t {u32 group_id; u32 cmd_id; u32 ret_val;} (tz_api_yoshino.h 99).
        // FPC_GROUP_TEMPLATE 0xB, FPC_BEGIN_ENROL 0 (tz_api_yoshino.h 38-47, 49-60).
        assert_eq!(yoshino().plain(0x0b, yoshino().begin_enrol).bytes, [0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        // tama: FPC_GROUP_SENSOR 0xA, FPC_CAPTURE_IMAGE 3 (tz_api_tama.h 58-66).
        let g = tama();
        assert_eq!(g.plain(g.sensor_group, g.capture_image).bytes, [0x0a, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
        // tama moved FPC_WAIT_FINGER_LOST to 1 for FPC_SENSOR_WAKE 0; yoshino has it at 0.
        assert_eq!(g.plain(g.sensor_group, g.wait_finger_lost).bytes[4], 1);
        assert_eq!(g.plain(g.sensor_group, g.sensor_wake.unwrap()).bytes[4], 0);
        assert_eq!(yoshino().wait_finger_lost, 0);
        // loire/tone: FPC_GROUP_NORMAL 1, FPC_WAIT_FINGER_DOWN 7, FPC_CAPTURE_IMAGE 0xF, FPC_INIT 0x12
        // (tz_api_loire_tone.h 38-86).
        let l = loire();
        assert_eq!(l.plain(l.sensor_group, l.wait_finger_down).bytes, [1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(l.plain(l.sensor_group, l.capture_image).bytes[4], 0x0f);
        assert_eq!(l.init, Some(0x12));
        // The answer: ret_val at 8, signed.
        assert_eq!(g.result(&[0x0a, 0, 0, 0, 3, 0, 0, 0, 0xfa, 0xff, 0xff, 0xff]).unwrap(), -6);
    }

    #[test]
    fn set_gid_and_delete_put_the_value_where_each_generation_has_it() {
        // fpc_set_gid_t {group; cmd; int32 status; uint32 gid;} (tz_api_yoshino.h 124):
        // FPC_SET_GID 9 in the template group.
        assert_eq!(tama().set_gid(0x0102_0304).bytes, [0x0b, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x03, 0x02, 0x01]);
        // loire/tone: {group; cmd; uint32 gid; int32 status;} (tz_api_loire_tone.h 113-118), id 0x10.
        assert_eq!(loire().set_gid(0x0102_0304).bytes, [1, 0, 0, 0, 0x10, 0, 0, 0, 0x04, 0x03, 0x02, 0x01, 0, 0, 0, 0]);
        // fpc_fingerprint_delete_t (tz_api_yoshino.h 191; loire 174-179): DELETE_FINGERPRINT 8 / 0xE.
        assert_eq!(yoshino().delete(0x1001).bytes, [0x0b, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x10, 0, 0]);
        assert_eq!(loire().delete(0x1001).bytes, [1, 0, 0, 0, 0x0e, 0, 0, 0, 0x01, 0x10, 0, 0, 0, 0, 0, 0]);
        // fpc_end_enrol_t (tz_api_yoshino.h 160: status 8, print_id 12; loire 142-147 the other way).
        let answer = [0x0b, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0, 0];
        assert_eq!(yoshino().status_value(&answer).unwrap(), (0, 0x1234));
        let answer = [1, 0, 0, 0, 2, 0, 0, 0, 0x34, 0x12, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(loire().status_value(&answer).unwrap(), (-1, 0x1234));
    }

    #[test]
    fn challenges() {
        // fpc_send_auth_cmd_t {group; cmd; uint64 challenge; int32 status;} (tz_api_yoshino.h 117):
        // 24 bytes with the tail padding; FPC_GROUP_FPCDATA 3, FPC_SET_AUTH_CHALLENGE 1.
        let c = tama().challenge(SET_AUTH_CHALLENGE, 0x1122_3344_5566_7788);
        assert_eq!(
            c.bytes,
            [3, 0, 0, 0, 1, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        // fpc_load_auth_challenge_t (tz_api_yoshino.h 146): GET_AUTH_CHALLENGE 2, status at 16.
        let answer = [3, 0, 0, 0, 2, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(tama().challenge_answer(&answer).unwrap(), (0, 0xdead_beef));
    }

    #[test]
    fn byte_array_commands_carry_the_payload_where_the_pointer_would_be() {
        // fpc_send_buffer_t {group; cmd; int32 status; uint32 length; char *data;} (tz_api_yoshino.h
        // 167), 24 bytes + payload, the payload copied to offset 16 (fpc_imp_yoshino_nile_tama.c
        // 133-162). FPC_GROUP_DB 2, FPC_LOAD_DB 0x0B.
        let c = tama().path_command(LOAD_DB, "/d/u");
        assert_eq!(
            c.bytes,
            [2, 0, 0, 0, 0x0b, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, b'/', b'd', b'/', b'u', 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        // FPC_SET_KEY_DATA 5 in FPC_GROUP_FPCDATA 3.
        let c = tama().buffer(GROUP_FPCDATA, SET_KEY_DATA, &[0xaa, 0xbb]);
        assert_eq!(c.bytes, [3, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0xaa, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn lists_tokens_and_template_ids() {
        // fpc_fingerprint_list_t {group; cmd; int32 status; uint32 length; uint32 fingerprints[5];}
        // (tz_api_yoshino.h 183), length preset to 5 (fpc_imp_yoshino_nile_tama.c 656-681).
        let c = tama().list();
        assert_eq!(c.bytes.len(), 36);
        assert_eq!(c.bytes[..16], [0x0b, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
        let mut answer = c.bytes.clone();
        answer[12] = 2;
        answer[16..20].copy_from_slice(&[0x01, 0x10, 0, 0]);
        answer[20..24].copy_from_slice(&[0x02, 0x10, 0, 0]);
        assert_eq!(tama().prints(&answer).unwrap(), (0, vec![0x1001, 0x1002]));
        answer[12] = 6;
        assert!(tama().prints(&answer).is_err(), "six ids do not fit five slots");
        // fpc_get_auth_result_t {group; cmd; uint32 result; uint32 length; uint8 auth_result[69];}
        // (tz_api_yoshino.h 198): 88 bytes, length preset to AUTH_RESULT_LENGTH 69.
        let c = tama().auth_result_command();
        assert_eq!(c.bytes.len(), 88);
        assert_eq!(c.bytes[..16], [3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 69, 0, 0, 0]);
        let mut answer = c.bytes.clone();
        answer[84] = 0x5a;
        assert_eq!(tama().auth_result(&answer).unwrap().1.unwrap()[68], 0x5a);
        answer[12] = 68;
        assert!(tama().auth_result(&answer).is_err(), "a 68-byte token is refused");
        // fpc_get_db_id_cmd_t {group; cmd; uint32 result; uint32 unk; uint64 auth_id;}
        // (tz_api_yoshino.h 211), GET_TEMPLATE_ID 0xA; loire {group; cmd; uint64 auth_id;} 194-198.
        assert_eq!(
            tama().template_id_command().bytes,
            [0x0b, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let answer = [0x0b, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(tama().template_id(&answer).unwrap(), (0, 0x0807_0605_0403_0201));
        let answer = [1, 0, 0, 0, 0x11, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(loire().template_id(&answer).unwrap(), (0, 0x0807_0605_0403_0201));
        // fpc_send_identify_t: 24 bytes (tz_api_yoshino.h 175), 40 on tama (tz_api_tama.h 176-188).
        assert_eq!(yoshino().identify_command().bytes.len(), 24);
        assert_eq!(tama().identify_command().bytes[..8], [0x0b, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(tama().identify_command().bytes.len(), 40);
    }

    #[test]
    fn the_apps_own_buffer_points_at_the_shared_one() {
        // fpc_send_mod_cmd_t {uint32 length; uint32 v_addr;} (tz_api_yoshino.h 206); length in whole
        // pages, the address patched by the kernel at cmd_buf_offset 4 (fpc_imp_yoshino_nile_tama.c
        // 86-114).
        assert_eq!(pointer_request(12), [0, 0x10, 0, 0, 0, 0, 0, 0]);
        assert_eq!(pointer_request(4097), [0, 0x20, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ADDRESS_OFFSET, 4);
        assert_eq!((SEND_LEN, RESPONSE_OFFSET, RESPONSE_LEN), (64, 256, 64));
        assert_eq!(delivery_status(&[0xfe, 0xff, 0xff, 0xff]).unwrap(), -2);
    }

    #[test]
    fn short_answers_are_malformed_not_read_past() {
        let g = tama();
        for answer in [&[][..], &[0; 8][..], &[0; 11][..]] {
            assert!(g.result(answer).is_err());
            assert!(g.status_then(answer).is_err());
            assert!(g.prints(answer).is_err());
            assert!(g.auth_result(answer).is_err());
        }
        assert!(g.template_id(&[0; 23]).is_err());
        assert!(g.challenge_answer(&[0; 19]).is_err());
    }
}
