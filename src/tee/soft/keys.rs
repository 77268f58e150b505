//! Secret key files: 32 random bytes, a regular file owned by this process's user, mode 0600 or
//! stricter. A file that breaks these rules is refused, never silently used or replaced.

use crate::fsutil::{self, FileRules, Owner};
use std::fs;
use std::path::Path;
use zeroize::Zeroizing;

pub const KEY_LEN: usize = 32;

pub type Key = Zeroizing<[u8; KEY_LEN]>;

/// Reads the key at `path`, creating it (and its directory, 0700) with fresh random bytes when it
/// does not exist and `create` is true.
pub fn load_or_create(path: &Path, create: bool) -> Result<Key, String> {
    let dir = path.parent().ok_or_else(|| format!("{} has no directory", path.display()))?;
    if fs::symlink_metadata(path).is_ok() || !create {
        if create {
            fsutil::check_private_dir(dir, "key directory")?;
        }
        return load(path);
    }
    fsutil::ensure_private_dir(dir, "key directory")?;
    let mut key: Key = Zeroizing::new([0u8; KEY_LEN]);
    getrandom::fill(&mut key[..]).map_err(|e| format!("no OS randomness: {e}"))?;
    let name = path.file_name().and_then(|n| n.to_str()).ok_or("key file name is not UTF-8")?;
    fsutil::write_atomic(dir, name, &key[..]).map_err(|e| format!("cannot create key file {}: {e}", path.display()))?;
    log::info!("created key file {}", path.display());
    Ok(key)
}

/// Reads an existing key file: a regular file (not a link, FIFO or device) owned by this
/// process's user, mode 0600 or stricter, exactly [`KEY_LEN`] bytes (nothing larger is read).
pub fn load(path: &Path) -> Result<Key, String> {
    let rules =
        FileRules { max_len: KEY_LEN as u64, owner: Owner::Me, forbidden_mode: 0o077, mode_rule: "0600 or stricter" };
    let bytes = match fsutil::read_bounded(path, rules) {
        Ok(Some(b)) => Zeroizing::new(b),
        Ok(None) => return Err(format!("key file {} does not exist", path.display())),
        Err(e) => return Err(format!("key file refused: {e}")),
    };
    if bytes.len() != KEY_LEN {
        return Err(format!("key file {} holds {} bytes; it must hold exactly {KEY_LEN}", path.display(), bytes.len()));
    }
    let mut key: Key = Zeroizing::new([0u8; KEY_LEN]);
    key.copy_from_slice(&bytes);
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

    #[test]
    fn created_keys_are_private_and_reloaded_and_loose_ones_refused() {
        let dir = std::env::temp_dir().join(format!("fphal-keys-{}", std::process::id()));
        let path = dir.join("sub/k.key");
        let k1 = load_or_create(&path, true).unwrap();
        let k2 = load_or_create(&path, true).unwrap();
        assert_eq!(*k1, *k2);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load(&path).unwrap_err().contains("0600"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, b"short").unwrap();
        assert!(load(&path).unwrap_err().contains("exactly 32"));
        assert!(load_or_create(&dir.join("missing.key"), false).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_huge_linked_or_special_key_file_is_refused_without_reading_it() {
        let dir = std::env::temp_dir().join(format!("fphal-keys-hostile-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).unwrap();
        let huge = dir.join("huge.key");
        fs::File::create(&huge).unwrap().set_len(1 << 30).unwrap();
        fs::set_permissions(&huge, fs::Permissions::from_mode(0o600)).unwrap();
        let e = load(&huge).unwrap_err();
        assert!(e.contains("larger than"), "{e}");
        let real = load_or_create(&dir.join("real.key"), true).unwrap();
        let link = dir.join("link.key");
        std::os::unix::fs::symlink(dir.join("real.key"), &link).unwrap();
        assert!(load(&link).unwrap_err().contains("symbolic link"));
        let fifo = dir.join("fifo.key");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(load(&fifo).unwrap_err().contains("not a regular file"));
        assert_eq!(*load(&dir.join("real.key")).unwrap(), *real);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_key_directory_others_can_write_is_refused() {
        let dir = std::env::temp_dir().join(format!("fphal-keys-open-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("device.key");
        load_or_create(&path, true).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let e = load_or_create(&path, true).unwrap_err();
        assert!(e.contains("key directory") && e.contains("0777"), "{e}");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(load_or_create(&path, true).is_ok());
        let fresh = dir.join("fresh/device.key");
        load_or_create(&fresh, true).unwrap();
        assert_eq!(fs::metadata(dir.join("fresh")).unwrap().permissions().mode() & 0o777, 0o700);
        fs::remove_dir_all(&dir).unwrap();
    }
}
