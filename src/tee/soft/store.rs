//! The encrypted template store of one group directory.
//!
//! Every file is sealed with XChaCha20-Poly1305 under a storage key derived (HKDF-SHA256) from the
//! device key. The associated data binds the format version, the file's kind, the group directory's
//! absolute path, the gid and (for templates) the fid, so a file copied to another path, group,
//! finger slot or device fails to open. Files: `fp-<fid>.tpl` per finger and
//! `group-<gid>.manifest`: the live fingers, the authenticator id and the lockout state, with a
//! generation that grows by one at every change.
//!
//! Freshness: sealing does not stop someone who can write the group directory from putting an
//! older sealed file back. So the latest generation, the live fingers and whether a false trial
//! was pending are also written to an anchor in the key directory (which that someone cannot
//! write); a manifest that is missing, does not open or is older than its anchor is stale, and
//! the trustlet then fails closed ([`GroupState::Stale`]). Older versions kept `group.meta` and
//! `lockout.state`; they are read once, into the first manifest, and removed.

use super::keys::Key;
use crate::fsutil::{self, FileRules, Owner};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"FPS1";
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// Files of older versions, read once when a group gets its first manifest.
const LEGACY_GROUP_META: &str = "group.meta";
const LEGACY_LOCKOUT_STATE: &str = "lockout.state";
const ANCHOR_MAGIC: &[u8; 4] = b"FPA1";
/// Largest file the store will read: a template of the most views (64) is about 0.7 MB.
const MAX_FILE: u64 = 1024 * 1024;
/// Template files looked at in one directory; more are left unread (and logged), so that a
/// directory filled with files cannot hold the worker.
const MAX_TEMPLATE_FILES: usize = 128;

#[derive(Clone, Copy)]
enum Kind {
    Template(u32),
    GroupMeta,
    Lockout,
    Manifest,
}

impl Kind {
    fn tag(self) -> (u8, u32) {
        match self {
            Kind::Template(fid) => (1, fid),
            Kind::GroupMeta => (2, 0),
            Kind::Lockout => (3, 0),
            Kind::Manifest => (4, 0),
        }
    }
}

/// What a group holds, sealed in its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// Grows by one at every change; 0: nothing stored yet.
    pub generation: u64,
    pub authenticator_id: u64,
    pub lockout: LockoutState,
    /// The live fingers: a template file of another fid is not loaded.
    pub fingers: Vec<u32>,
}

/// What the key directory remembers of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Anchor {
    pub generation: u64,
    pub fingers: Vec<u32>,
    /// A false trial was counted, or a lockout was running, at that generation.
    pub trials_pending: bool,
}

/// How far a group's manifest can be trusted.
#[derive(Debug)]
pub enum GroupState {
    /// No manifest and no anchor: nothing was stored for this group yet.
    New,
    /// The manifest opens and is not older than its anchor.
    Current(Manifest),
    /// The manifest is missing, fails its checks (a link, not a regular file, another owner), does
    /// not open (tampered, or another group's) or is older than its anchor (`why` says which, in
    /// words for the log); `anchor` is what the key directory knows.
    Stale { why: String, anchor: Anchor },
    /// The anchor itself cannot be read, or the system failed the manifest's read (an I/O error,
    /// a limit, a permission: not a file that fails its checks): nothing about the group can be
    /// trusted, and nothing is rebuilt or rewritten, so that a later read may still find it whole.
    Unusable(String),
}

/// Why [`GroupStore::commit`] did not complete.
#[derive(Debug)]
pub struct CommitError {
    /// The anchor was written (the key directory holds the change) but the manifest was not.
    pub anchored: bool,
    pub why: String,
}

impl std::fmt::Display for CommitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

/// A stored finger.
pub struct StoredFinger {
    pub fid: u32,
    /// Secure user id from the enroll token, copied into every auth token for this finger.
    pub user_id: u64,
    pub template: Zeroizing<Vec<u8>>,
}

/// Lockout bookkeeping persisted in the group directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockoutState {
    /// `/proc/sys/kernel/random/boot_id` of the boot that wrote it.
    pub boot_id: [u8; 16],
    pub false_trials: u32,
    /// `CLOCK_BOOTTIME` milliseconds at which the lockout ends (0: not locked).
    pub locked_until_ms: u64,
}

pub struct GroupStore {
    dir: PathBuf,
    gid: u32,
    cipher: XChaCha20Poly1305,
    /// Where this group's anchor lives (in the key directory); None: manifests are not anchored.
    anchor: Option<PathBuf>,
}

/// The rules for files the store reads: regular, ours, nobody else may write them, bounded.
const STORE_FILE: FileRules =
    FileRules { max_len: MAX_FILE, owner: Owner::Me, forbidden_mode: 0o022, mode_rule: "writable by its owner only" };

pub fn template_name(fid: u32) -> String {
    format!("fp-{fid:08x}.tpl")
}

fn parse_template_name(name: &str) -> Option<u32> {
    let hex = name.strip_prefix("fp-")?.strip_suffix(".tpl")?;
    if hex.len() != 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().filter(|f| *f != 0)
}

impl GroupStore {
    /// Opens the store of `dir` (an absolute, normalised path) for `gid`.
    pub fn open(dir: &Path, gid: u32, device_key: &Key) -> GroupStore {
        let hk = Hkdf::<Sha256>::new(Some(b"fphal template store v1"), &device_key[..]);
        let mut storage_key = Zeroizing::new([0u8; 32]);
        hk.expand(b"storage key", &mut storage_key[..]).expect("32 bytes is a valid HKDF length");
        let cipher = XChaCha20Poly1305::new_from_slice(&storage_key[..]).expect("32-byte key");
        fsutil::clean_temp_files(dir, |name| {
            parse_template_name(name).is_some()
                || (name.starts_with("group-") && name.ends_with(".manifest"))
                || name == LEGACY_GROUP_META
                || name == LEGACY_LOCKOUT_STATE
        });
        GroupStore { dir: dir.to_path_buf(), gid, cipher, anchor: None }
    }

    /// Anchors this group's manifests in `anchor_dir` (the key directory's `anchors`), in a file
    /// named by a hash of the group's path and gid.
    pub fn anchored_in(mut self, anchor_dir: &Path) -> GroupStore {
        let mut h = Sha256::new();
        h.update(b"fphal anchor v1");
        h.update(self.gid.to_le_bytes());
        h.update(self.dir.as_os_str().as_encoded_bytes());
        let name: String = h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.anchor = Some(anchor_dir.join(format!("{name}.anchor")));
        self
    }

    pub fn gid(&self) -> u32 {
        self.gid
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn aad(&self, kind: Kind) -> Vec<u8> {
        let (k, fid) = kind.tag();
        let mut a = Vec::with_capacity(32 + self.dir.as_os_str().len());
        a.extend_from_slice(MAGIC);
        a.push(FORMAT_VERSION);
        a.push(k);
        a.extend_from_slice(&self.gid.to_le_bytes());
        a.extend_from_slice(&fid.to_le_bytes());
        a.extend_from_slice(self.dir.as_os_str().as_encoded_bytes());
        a
    }

    fn seal(&self, kind: Kind, plain: &[u8]) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| format!("no OS randomness: {e}"))?;
        let aad = self.aad(kind);
        let ct = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad: &aad })
            .map_err(|_| "encryption failed".to_string())?;
        let mut out = Vec::with_capacity(5 + NONCE_LEN + ct.len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn open_sealed(&self, kind: Kind, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        if data.len() < 5 + NONCE_LEN + 16 {
            return Err("file is truncated".into());
        }
        if &data[..4] != MAGIC {
            return Err("not an fphal store file".into());
        }
        if data[4] != FORMAT_VERSION {
            return Err(format!("format version {} is not {FORMAT_VERSION}", data[4]));
        }
        let nonce: [u8; NONCE_LEN] = data[5..5 + NONCE_LEN].try_into().expect("nonce length checked");
        let nonce = &XNonce::from(nonce);
        let aad = self.aad(kind);
        self.cipher.decrypt(nonce, Payload { msg: &data[5 + NONCE_LEN..], aad: &aad }).map(Zeroizing::new).map_err(
            |_| "authentication failed (tampered, or copied from another path, group, finger or device)".into(),
        )
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, fsutil::ReadError> {
        fsutil::read_bounded(&self.dir.join(name), STORE_FILE)
    }

    fn write_sealed(&self, kind: Kind, name: &str, plain: &[u8]) -> Result<(), String> {
        let sealed = self.seal(kind, plain)?;
        fsutil::write_atomic(&self.dir, name, &sealed)
            .map_err(|e| format!("cannot write {}/{name}: {e}", self.dir.display()))
    }

    /// Finger ids whose files are present and open correctly, ascending.
    pub fn load_all(&self) -> Vec<StoredFinger> {
        self.template_files()
            .into_iter()
            .filter_map(|(fid, name)| match self.load_finger(fid) {
                Ok(f) => Some(f),
                Err(e) => {
                    log::warn!("skipping template {}/{name}: {e}", self.dir.display());
                    None
                }
            })
            .collect()
    }

    /// The finger stored as `fid`, if its file opens as this group's.
    pub fn load_finger(&self, fid: u32) -> Result<StoredFinger, String> {
        let data = self.read_file(&template_name(fid))?.ok_or("file vanished")?;
        let plain = self.open_sealed(Kind::Template(fid), &data)?;
        if plain.len() < 8 {
            return Err("record too short".into());
        }
        let user_id = u64::from_le_bytes(plain[..8].try_into().expect("8 bytes"));
        Ok(StoredFinger { fid, user_id, template: Zeroizing::new(plain[8..].to_vec()) })
    }

    pub fn write_template(&self, fid: u32, user_id: u64, template: &[u8]) -> Result<(), String> {
        let mut plain = Zeroizing::new(Vec::with_capacity(8 + template.len()));
        plain.extend_from_slice(&user_id.to_le_bytes());
        plain.extend_from_slice(template);
        self.write_sealed(Kind::Template(fid), &template_name(fid), &plain)
    }

    pub fn remove_template(&self, fid: u32) -> Result<(), String> {
        fsutil::remove_durable(&self.dir, &template_name(fid)).map_err(|e| format!("cannot remove finger {fid}: {e}"))
    }

    /// Every template file name in the directory with its fid, ascending (whether or not it opens).
    pub fn template_files(&self) -> Vec<(u32, String)> {
        let mut names: Vec<(u32, String)> = match fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    Some((parse_template_name(&name)?, name))
                })
                .collect(),
            Err(e) => {
                log::error!("cannot list group directory {}: {e}", self.dir.display());
                Vec::new()
            }
        };
        names.sort();
        if names.len() > MAX_TEMPLATE_FILES {
            log::warn!(
                "{}: {} template files; only the first {MAX_TEMPLATE_FILES} are looked at",
                self.dir.display(),
                names.len()
            );
            names.truncate(MAX_TEMPLATE_FILES);
        }
        names
    }

    /// Path of a file of the group directory, for log lines.
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn manifest_name(&self) -> String {
        format!("group-{}.manifest", self.gid)
    }

    /// Reads the manifest and the anchor and says how far the manifest can be trusted.
    pub fn read_state(&self) -> GroupState {
        let anchor = match self.read_anchor() {
            Ok(a) => a,
            Err(e) => return GroupState::Unusable(format!("its anchor in the key directory is unreadable ({e})")),
        };
        let manifest = self.read_manifest();
        match (manifest, anchor) {
            // A failed read is not a missing or forged manifest: rebuilding from the anchor would
            // give the group a new authenticator id (invalidating every key bound to it) over a
            // manifest that may be intact. The group is refused until a read succeeds.
            (Err(e), _) if e.not_read => GroupState::Unusable(format!("its manifest cannot be read now ({e})")),
            (Ok(None), None) => GroupState::New,
            (Ok(Some(m)), None) => GroupState::Current(m),
            (Ok(Some(m)), Some(a)) if m.generation >= a.generation => GroupState::Current(m),
            (Ok(Some(m)), Some(a)) => GroupState::Stale {
                why: format!(
                    "its manifest is generation {}, older than the {} anchored in the key directory: rolled back \
                     (or its last write failed)",
                    m.generation, a.generation
                ),
                anchor: a,
            },
            (Ok(None), Some(a)) => GroupState::Stale { why: "its manifest is missing".into(), anchor: a },
            (Err(e), Some(a)) => GroupState::Stale { why: format!("its manifest is refused: {e}"), anchor: a },
            (Err(e), None) => {
                // Nothing was anchored yet: a group of an older version, whose files are adopted.
                log::warn!("{}: group {} has no anchor and a refused manifest ({e})", self.dir.display(), self.gid);
                GroupState::New
            }
        }
    }

    /// The group's manifest; an error with [`fsutil::ReadError::not_read`] when the system failed
    /// the read, which says nothing about the file.
    fn read_manifest(&self) -> Result<Option<Manifest>, fsutil::ReadError> {
        let Some(data) = self.read_file(&self.manifest_name())? else { return Ok(None) };
        self.decode_manifest(&data).map(Some).map_err(fsutil::ReadError::breaks_rules)
    }

    fn decode_manifest(&self, data: &[u8]) -> Result<Manifest, String> {
        let p = self.open_sealed(Kind::Manifest, data)?;
        let mut r = Fields(&p);
        let generation = r.u64()?;
        let authenticator_id = r.u64()?;
        let boot_id: [u8; 16] = r.take(16)?.try_into().expect("16 bytes");
        let lockout = LockoutState { boot_id, false_trials: r.u32()?, locked_until_ms: r.u64()? };
        let fingers = r.fids()?;
        r.end()?;
        Ok(Manifest { generation, authenticator_id, lockout, fingers })
    }

    /// Writes the anchor of `m` (its generation already advanced by the caller), then `m`. The key
    /// directory is the one an attacker cannot write, so it is written first: when the manifest
    /// cannot be written after it ([`CommitError::anchored`]), the change still stands, and the
    /// manifest reads as stale until the next commit.
    pub fn commit(&self, m: &Manifest) -> Result<(), CommitError> {
        let pending = m.lockout.false_trials > 0 || m.lockout.locked_until_ms > 0;
        let anchor = Anchor { generation: m.generation, fingers: m.fingers.clone(), trials_pending: pending };
        self.write_anchor(&anchor).map_err(|why| CommitError { anchored: false, why })?;
        let mut p = Vec::with_capacity(48 + 4 * m.fingers.len());
        p.extend_from_slice(&m.generation.to_le_bytes());
        p.extend_from_slice(&m.authenticator_id.to_le_bytes());
        p.extend_from_slice(&m.lockout.boot_id);
        p.extend_from_slice(&m.lockout.false_trials.to_le_bytes());
        p.extend_from_slice(&m.lockout.locked_until_ms.to_le_bytes());
        put_fids(&mut p, &m.fingers);
        self.write_sealed(Kind::Manifest, &self.manifest_name(), &p).map_err(|why| CommitError { anchored: true, why })
    }

    fn read_anchor(&self) -> Result<Option<Anchor>, String> {
        let Some(path) = &self.anchor else { return Ok(None) };
        let rules = FileRules { max_len: 4096, owner: Owner::Me, forbidden_mode: 0o077, mode_rule: "0600 or stricter" };
        let Some(data) = fsutil::read_bounded(path, rules)? else { return Ok(None) };
        let mut r = Fields(&data);
        if r.take(4)? != ANCHOR_MAGIC {
            return Err(format!("{} is not an fphal anchor", path.display()));
        }
        let anchor = Anchor { generation: r.u64()?, trials_pending: r.take(1)?[0] != 0, fingers: r.fids()? };
        r.end()?;
        Ok(Some(anchor))
    }

    fn write_anchor(&self, a: &Anchor) -> Result<(), String> {
        let Some(path) = &self.anchor else { return Ok(()) };
        let dir = path.parent().expect("an anchor lies in a directory");
        fsutil::ensure_private_dir(dir, "anchor directory")?;
        let mut data = ANCHOR_MAGIC.to_vec();
        data.extend_from_slice(&a.generation.to_le_bytes());
        data.push(u8::from(a.trials_pending));
        put_fids(&mut data, &a.fingers);
        let name = path.file_name().and_then(|n| n.to_str()).expect("a hex name");
        fsutil::write_atomic(dir, name, &data).map_err(|e| format!("cannot write anchor {}: {e}", path.display()))
    }

    /// The authenticator id and lockout state an older version stored, for the first manifest.
    pub fn legacy_state(&self) -> (Option<u64>, Option<LockoutState>) {
        (self.load_authenticator_id(), self.load_lockout())
    }

    /// Removes the files of older versions that opened as this group's ([`Self::legacy_state`]),
    /// once the manifest holds what they held.
    pub fn remove_legacy_files(&self, meta: bool, lockout: bool) {
        let names = [(meta, LEGACY_GROUP_META), (lockout, LEGACY_LOCKOUT_STATE)];
        for name in names.into_iter().filter(|(ours, _)| *ours).map(|(_, name)| name) {
            if let Err(e) = fsutil::remove_durable(&self.dir, name) {
                log::warn!("cannot remove {}/{name}: {e}", self.dir.display());
            }
        }
    }

    /// The authenticator id an older version stored, if there is a valid one.
    fn load_authenticator_id(&self) -> Option<u64> {
        let data = match self.read_file(LEGACY_GROUP_META) {
            Ok(Some(d)) => d,
            Ok(None) => return None,
            Err(e) => {
                log::warn!("group metadata unreadable: {e}");
                return None;
            }
        };
        match self.open_sealed(Kind::GroupMeta, &data) {
            Ok(p) if p.len() == 8 => Some(u64::from_le_bytes(p[..8].try_into().expect("8 bytes"))).filter(|v| *v != 0),
            Ok(_) => None,
            Err(e) => {
                log::warn!("group metadata {}/{LEGACY_GROUP_META}: {e}", self.dir.display());
                None
            }
        }
    }

    /// The lockout state an older version stored.
    fn load_lockout(&self) -> Option<LockoutState> {
        let data = self.read_file(LEGACY_LOCKOUT_STATE).ok()??;
        let p = match self.open_sealed(Kind::Lockout, &data) {
            Ok(p) => p,
            Err(e) => {
                log::warn!("lockout state {}/{LEGACY_LOCKOUT_STATE}: {e}", self.dir.display());
                return None;
            }
        };
        if p.len() != 28 {
            return None;
        }
        Some(LockoutState {
            boot_id: p[..16].try_into().expect("16 bytes"),
            false_trials: u32::from_le_bytes(p[16..20].try_into().expect("4 bytes")),
            locked_until_ms: u64::from_le_bytes(p[20..28].try_into().expect("8 bytes")),
        })
    }

    /// Writes the files an older version kept (for the migration test only).
    #[cfg(test)]
    pub(super) fn store_legacy(&self, id: u64, l: &LockoutState) -> Result<(), String> {
        self.write_sealed(Kind::GroupMeta, LEGACY_GROUP_META, &id.to_le_bytes())?;
        let mut p = Vec::with_capacity(28);
        p.extend_from_slice(&l.boot_id);
        p.extend_from_slice(&l.false_trials.to_le_bytes());
        p.extend_from_slice(&l.locked_until_ms.to_le_bytes());
        self.write_sealed(Kind::Lockout, LEGACY_LOCKOUT_STATE, &p)
    }
}

fn put_fids(out: &mut Vec<u8>, fids: &[u32]) {
    out.extend_from_slice(&(fids.len() as u32).to_le_bytes());
    for f in fids {
        out.extend_from_slice(&f.to_le_bytes());
    }
}

/// A length-checked reader over a manifest's or an anchor's fields.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("record truncated".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn fids(&mut self) -> Result<Vec<u32>, String> {
        let n = self.u32()? as usize;
        if n > self.0.len() / 4 {
            return Err("record truncated".into());
        }
        (0..n).map(|_| self.u32()).collect()
    }
    fn end(&self) -> Result<(), String> {
        if self.0.is_empty() { Ok(()) } else { Err("trailing bytes in record".into()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fphal-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn templates_are_bound_to_path_gid_fid_and_device() {
        let key = Zeroizing::new([1u8; 32]);
        let a = tmp("a");
        let s = GroupStore::open(&a, 5, &key);
        s.write_template(7, 99, b"seven").unwrap();
        s.write_template(8, 99, b"eight").unwrap();
        assert_eq!(s.load_all().iter().map(|f| f.fid).collect::<Vec<_>>(), vec![7, 8]);
        assert!(!fs::read(a.join(template_name(7))).unwrap().windows(5).any(|w| w == b"seven"));

        // Another gid, another path, another device key: nothing opens.
        assert!(GroupStore::open(&a, 6, &key).load_all().is_empty());
        let b = tmp("b");
        fs::copy(a.join(template_name(7)), b.join(template_name(7))).unwrap();
        assert!(GroupStore::open(&b, 5, &key).load_all().is_empty());
        assert!(GroupStore::open(&a, 5, &Zeroizing::new([2u8; 32])).load_all().is_empty());
        // Copied into another finger's slot: refused, the others still load.
        fs::copy(a.join(template_name(7)), a.join(template_name(9))).unwrap();
        let mut t = fs::read(a.join(template_name(8))).unwrap();
        t.truncate(t.len() - 1);
        fs::write(a.join(template_name(8)), t).unwrap();
        let loaded = s.load_all();
        assert_eq!(loaded.iter().map(|f| f.fid).collect::<Vec<_>>(), vec![7]);
        assert_eq!(&loaded[0].template[..], b"seven");
        assert_eq!(loaded[0].user_id, 99);
        for f in [7, 8, 9] {
            s.remove_template(f).unwrap();
        }
        assert_eq!(fs::read_dir(&a).unwrap().count(), 0);
        fs::remove_dir_all(&a).unwrap();
        fs::remove_dir_all(&b).unwrap();
    }

    #[test]
    fn a_manifest_is_current_until_an_older_one_is_put_back_or_it_goes() {
        let key = Zeroizing::new([3u8; 32]);
        let g = tmp("manifest");
        let anchors = tmp("manifest-anchors");
        let s = GroupStore::open(&g, 5, &key).anchored_in(&anchors);
        assert!(matches!(s.read_state(), GroupState::New));
        let mut m = Manifest { generation: 1, authenticator_id: 9, lockout: LockoutState::default(), fingers: vec![3] };
        s.commit(&m).unwrap();
        let old = fs::read(g.join("group-5.manifest")).unwrap();
        m.generation = 2;
        m.fingers.clear();
        m.lockout.false_trials = 1;
        s.commit(&m).unwrap();
        assert!(matches!(s.read_state(), GroupState::Current(ref c) if *c == m));
        // Another gid's manifest has another name; this one's is untouched by it.
        assert!(matches!(GroupStore::open(&g, 6, &key).anchored_in(&anchors).read_state(), GroupState::New));

        fs::write(g.join("group-5.manifest"), &old).unwrap();
        match s.read_state() {
            GroupState::Stale { why, anchor } => {
                assert!(why.contains("rolled back"), "{why}");
                assert_eq!(anchor, Anchor { generation: 2, fingers: vec![], trials_pending: true });
            }
            other => panic!("{other:?}"),
        }
        fs::remove_file(g.join("group-5.manifest")).unwrap();
        assert!(matches!(s.read_state(), GroupState::Stale { ref why, .. } if why.contains("missing")));
        fs::remove_dir_all(&g).unwrap();
        fs::remove_dir_all(&anchors).unwrap();
    }

    #[test]
    fn the_files_of_an_older_version_are_read_for_the_first_manifest() {
        let key = Zeroizing::new([4u8; 32]);
        let g = tmp("legacy");
        let s = GroupStore::open(&g, 5, &key);
        let lockout = LockoutState { boot_id: [1; 16], false_trials: 2, locked_until_ms: 0 };
        s.store_legacy(77, &lockout).unwrap();
        assert_eq!(s.legacy_state(), (Some(77), Some(lockout)));
        // Another group's store does not open them, so it does not remove them.
        let other = GroupStore::open(&g, 6, &key);
        let (id, state) = other.legacy_state();
        assert_eq!((id, state), (None, None));
        other.remove_legacy_files(id.is_some(), state.is_some());
        assert_eq!(s.legacy_state(), (Some(77), Some(lockout)));
        s.remove_legacy_files(true, true);
        assert_eq!(s.legacy_state(), (None, None));
        fs::remove_dir_all(&g).unwrap();
    }
}
