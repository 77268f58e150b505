//! Trustlet images under a device's filesystem (or a copy of it): which keymaster images there are,
//! which trustlet names each one's whitelist holds, and which fingerprint trustlets the device has.
//!
//! A QSEE image is split (`name.mdt` with `name.b00`..`name.bNN`) or whole (`name.mbn`, `name.elf`);
//! its name is the trustlet's. A keymaster's whitelist of trustlets it hands keys to is compiled
//! into the image as NUL-terminated names, so the names are found among its printable strings.

use super::codes::{FINGERPRINT_TA_NAMES, KEYMASTER_TA_NAMES};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where Qualcomm devices keep trustlet images, relative to the root (Sony's HAL, the kernel's
/// `qseecom.c` load paths, vendor HALs' search lists; `persist` and `dsp` hold some vendors' TAs).
pub const FIRMWARE_DIRS: &[&str] = &[
    "firmware/image",
    "vendor/firmware",
    "vendor/firmware_mnt/image",
    "system/etc/firmware",
    "system/vendor/firmware",
    "etc/firmware",
    "odm/firmware",
    "odm/vendor/firmware",
    "persist",
    "dsp",
];

/// The most read of one image part: images are a few MB at most.
const MAX_PART: u64 = 32 << 20;

/// One trustlet image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    /// The trustlet's name (the file stem).
    pub name: String,
    /// Its files: the `.mdt` first, then the parts in order; or the one `.mbn`/`.elf`.
    pub files: Vec<PathBuf>,
}

/// A keymaster image and the trustlet names its whitelist holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keymaster {
    pub image: Image,
    pub names: Vec<String>,
}

/// What the firmware says about the keymaster's whitelist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Whitelists {
    pub keymasters: Vec<Keymaster>,
    /// The fingerprint trustlets the device has images of.
    pub fingerprint_tas: Vec<String>,
}

impl Whitelists {
    /// The keymaster images whose whitelist names one of the device's fingerprint trustlets, with
    /// the name.
    pub fn serving(&self) -> Vec<(&Keymaster, &str)> {
        let mut out = Vec::new();
        for k in &self.keymasters {
            for ta in &self.fingerprint_tas {
                if k.names.iter().any(|n| n == ta) {
                    out.push((k, ta.as_str()));
                }
            }
        }
        out
    }
}

/// Every trustlet image under the firmware directories of `root`.
pub fn images(root: &Path) -> Vec<Image> {
    let mut found: BTreeMap<(PathBuf, String), Vec<PathBuf>> = BTreeMap::new();
    for dir in FIRMWARE_DIRS {
        let dir = root.join(dir);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else { continue };
            let ext = ext.to_string_lossy().to_ascii_lowercase();
            let part = ext == "mdt"
                || ext == "mbn"
                || ext == "elf"
                || (ext.len() == 3 && ext.starts_with('b') && ext[1..].chars().all(|c| c.is_ascii_digit()));
            if part {
                found.entry((dir.clone(), stem.to_string_lossy().into_owned())).or_default().push(path);
            }
        }
    }
    found
        .into_iter()
        .map(|((_, name), mut files)| {
            // The .mdt (or the whole image) first, then .b00, .b01, ...
            files.sort_by_key(|p| {
                let ext = p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
                (!matches!(ext.as_str(), "mdt" | "mbn" | "elf"), ext)
            });
            Image { name, files }
        })
        .collect()
}

/// Printable strings of `bytes` that have the shape of a trustlet name: 3 to 32 of `[a-z0-9_]`
/// between bytes that cannot be part of a name.
fn name_tokens(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for run in bytes.split(|b| !(b.is_ascii_alphanumeric() || *b == b'_')) {
        if (3..=32).contains(&run.len())
            && run.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        {
            out.push(String::from_utf8_lossy(run).into_owned());
        }
    }
    out
}

/// Whether `name` looks like a fingerprint trustlet's.
fn fingerprint_like(name: &str) -> bool {
    FINGERPRINT_TA_NAMES.contains(&name)
        || ["finger", "fpc", "goodix", "gfp", "egis", "silead"].iter().any(|f| name.contains(f))
}

/// The keymaster images under `root`, each with the trustlet names in its whitelist, and the
/// fingerprint trustlets the device has.
pub fn whitelists(root: &Path) -> Whitelists {
    let all = images(root);
    let stems: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
    let ta_like = |t: &str| KEYMASTER_TA_NAMES.contains(&t) || stems.contains(&t) || fingerprint_like(t);
    let mut keymasters = Vec::new();
    for image in all.iter().filter(|i| KEYMASTER_TA_NAMES.contains(&i.name.as_str())) {
        let mut names: Vec<String> = Vec::new();
        for file in &image.files {
            let Ok(meta) = std::fs::metadata(file) else { continue };
            if meta.len() > MAX_PART {
                continue;
            }
            let Ok(bytes) = std::fs::read(file) else { continue };
            for t in name_tokens(&bytes) {
                if t != image.name && ta_like(&t) && !names.contains(&t) {
                    names.push(t);
                }
            }
        }
        keymasters.push(Keymaster { image: image.clone(), names });
    }
    let mut fingerprint_tas: Vec<String> = all
        .iter()
        .map(|i| i.name.clone())
        .filter(|n| fingerprint_like(n) && !KEYMASTER_TA_NAMES.contains(&n.as_str()))
        .collect();
    fingerprint_tas.dedup();
    Whitelists { keymasters, fingerprint_tas }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_whole_tokens() {
        let t = name_tokens(b"\x7fELF\0\0widevine\0fpctzappfingerprint\0KeyMaster\0ab\0x_y1\0");
        assert_eq!(t, ["widevine", "fpctzappfingerprint", "x_y1"]);
    }
}
