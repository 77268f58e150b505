//! The encrypted template store of one group directory.
//!
//! Every file is sealed with XChaCha20-Poly1305 under a storage key derived (HKDF-SHA256) from the
//! device key. The associated data binds the format version, the file's kind, the group directory's
//! absolute path, the gid and (for templates) the fid, so a file copied to another path, group,
//! finger slot or device fails to open. Files: `fp-<fid>.tpl` per finger, `group.meta` (the
//! authenticator id), `lockout.state` (false trials and lockout deadline).

use super::keys::Key;
use crate::fsutil;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use std::fs;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"FPS1";
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const GROUP_META: &str = "group.meta";
const LOCKOUT_STATE: &str = "lockout.state";
/// Largest file the store will read: a template is far smaller.
const MAX_FILE: u64 = 8 * 1024 * 1024;

#[derive(Clone, Copy)]
enum Kind {
    Template(u32),
    GroupMeta,
    Lockout,
}

impl Kind {
    fn tag(self) -> (u8, u32) {
        match self {
            Kind::Template(fid) => (1, fid),
            Kind::GroupMeta => (2, 0),
            Kind::Lockout => (3, 0),
        }
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
}

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
        fsutil::clean_temp_files(dir);
        GroupStore { dir: dir.to_path_buf(), gid, cipher }
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

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let path = self.dir.join(name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot stat {}: {e}", path.display())),
            Ok(m) if !m.file_type().is_file() => return Err(format!("{} is not a regular file", path.display())),
            Ok(m) if m.len() > MAX_FILE => return Err(format!("{} is {} bytes, too large", path.display(), m.len())),
            Ok(_) => {}
        }
        fs::read(&path).map(Some).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }

    fn write_sealed(&self, kind: Kind, name: &str, plain: &[u8]) -> Result<(), String> {
        let sealed = self.seal(kind, plain)?;
        fsutil::write_atomic(&self.dir, name, &sealed)
            .map_err(|e| format!("cannot write {}/{name}: {e}", self.dir.display()))
    }

    /// Finger ids whose files are present and open correctly, ascending.
    pub fn load_all(&self) -> Vec<StoredFinger> {
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
                return Vec::new();
            }
        };
        names.sort();
        names
            .into_iter()
            .filter_map(|(fid, name)| match self.load_template(fid) {
                Ok(f) => Some(f),
                Err(e) => {
                    log::warn!("skipping template {}/{name}: {e}", self.dir.display());
                    None
                }
            })
            .collect()
    }

    fn load_template(&self, fid: u32) -> Result<StoredFinger, String> {
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

    /// Erases every file this store owns in the group directory.
    pub fn erase_group(&self) -> Result<(), String> {
        for f in self.load_all() {
            self.remove_template(f.fid)?;
        }
        // Unreadable template files are ours too: remove them by name.
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if let Some(name) = e.file_name().to_str() {
                    if parse_template_name(name).is_some() {
                        fsutil::remove_durable(&self.dir, name).map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        for name in [GROUP_META, LOCKOUT_STATE] {
            fsutil::remove_durable(&self.dir, name).map_err(|e| format!("cannot remove {name}: {e}"))?;
        }
        Ok(())
    }

    /// The stored authenticator id, if there is a valid one.
    pub fn load_authenticator_id(&self) -> Option<u64> {
        let data = match self.read_file(GROUP_META) {
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
                log::warn!("group metadata {}/{GROUP_META}: {e}", self.dir.display());
                None
            }
        }
    }

    pub fn store_authenticator_id(&self, id: u64) -> Result<(), String> {
        self.write_sealed(Kind::GroupMeta, GROUP_META, &id.to_le_bytes())
    }

    pub fn load_lockout(&self) -> Option<LockoutState> {
        let data = self.read_file(LOCKOUT_STATE).ok()??;
        let p = match self.open_sealed(Kind::Lockout, &data) {
            Ok(p) => p,
            Err(e) => {
                log::warn!("lockout state {}/{LOCKOUT_STATE}: {e}", self.dir.display());
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

    pub fn store_lockout(&self, s: &LockoutState) -> Result<(), String> {
        let mut p = Vec::with_capacity(28);
        p.extend_from_slice(&s.boot_id);
        p.extend_from_slice(&s.false_trials.to_le_bytes());
        p.extend_from_slice(&s.locked_until_ms.to_le_bytes());
        self.write_sealed(Kind::Lockout, LOCKOUT_STATE, &p)
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
        s.store_authenticator_id(42).unwrap();
        s.erase_group().unwrap();
        assert_eq!(fs::read_dir(&a).unwrap().count(), 0);
        fs::remove_dir_all(&a).unwrap();
        fs::remove_dir_all(&b).unwrap();
    }
}
