//! Durable file operations: a crash at any point leaves the old file or the new one, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// What a bounded read requires of the file besides being a regular file.
#[derive(Debug, Clone, Copy)]
pub struct FileRules {
    /// Largest size accepted, in bytes; the read never takes more than this plus one.
    pub max_len: u64,
    /// The file must belong to this process's user (`geteuid`) or, when `root_too`, to root.
    pub owner: Owner,
    /// Mode bits that must be clear (for example `0o022`: nobody else may write it) ...
    pub forbidden_mode: u32,
    /// ... said in words for the error (for example "0600 or stricter").
    pub mode_rule: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Anyone: the mode rules still apply.
    Anyone,
    /// This process's user.
    Me,
    /// This process's user or root (files a system image ships).
    MeOrRoot,
}

/// Why [`read_bounded`] gave no contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// What was wrong, in words an operator can act on.
    pub why: String,
    /// The system failed or refused the read (an I/O error, a limit on descriptors or memory, a
    /// permission, an interruption): the file itself may be intact, and a later read may succeed.
    /// False when the file is not what the rules require (a link, not a regular file, another
    /// owner, a loose mode, too large).
    pub not_read: bool,
}

impl ReadError {
    /// The file is not what the rules require.
    pub fn breaks_rules(why: String) -> ReadError {
        ReadError { why, not_read: false }
    }

    fn not_read(why: String) -> ReadError {
        ReadError { why, not_read: true }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

impl From<ReadError> for String {
    fn from(e: ReadError) -> String {
        e.why
    }
}

/// Reads the regular file at `path` without following a symbolic link, without blocking on a
/// FIFO or a device, and without reading more than `rules.max_len` + 1 bytes: the descriptor is
/// opened `O_NOFOLLOW | O_NONBLOCK`, checked with `fstat` (type, owner, mode, size), then read.
/// `Ok(None)` when nothing is there.
pub fn read_bounded(path: &Path, rules: FileRules) -> Result<Option<Vec<u8>>, ReadError> {
    use rustix::fs::{FileType, Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let opened = rustix::fs::open(path, flags, Mode::empty());
    #[cfg(test)]
    let opened = faults::injected(path).map_or(opened, Err);
    let fd = match opened {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(rustix::io::Errno::LOOP) => {
            return Err(ReadError::breaks_rules(format!("{} is a symbolic link; it is not followed", path.display())));
        }
        // Not a file a reader could open at all (a socket, a path through a non-directory).
        Err(e @ (rustix::io::Errno::NXIO | rustix::io::Errno::NOTDIR)) => {
            return Err(ReadError::breaks_rules(format!("cannot open {}: {e}", path.display())));
        }
        Err(e) => return Err(ReadError::not_read(format!("cannot open {}: {e}", path.display()))),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| ReadError::not_read(format!("cannot stat {}: {e}", path.display())))?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => {}
        FileType::Symlink => {
            return Err(ReadError::breaks_rules(format!("{} is a symbolic link; it is not followed", path.display())));
        }
        other => return Err(ReadError::breaks_rules(format!("{} is not a regular file ({other:?})", path.display()))),
    }
    let me = rustix::process::geteuid().as_raw();
    let owner_ok = match rules.owner {
        Owner::Anyone => true,
        Owner::Me => st.st_uid == me,
        Owner::MeOrRoot => st.st_uid == me || st.st_uid == 0,
    };
    if !owner_ok {
        return Err(ReadError::breaks_rules(format!(
            "{} belongs to uid {}, not to this process (uid {me})",
            path.display(),
            st.st_uid
        )));
    }
    let mode = st.st_mode & 0o7777;
    if mode & rules.forbidden_mode != 0 {
        return Err(ReadError::breaks_rules(format!(
            "{} has mode {mode:04o}; it must be {}",
            path.display(),
            rules.mode_rule
        )));
    }
    let len = st.st_size as u64;
    if len > rules.max_len {
        return Err(ReadError::breaks_rules(format!(
            "{} is {len} bytes, larger than the {} allowed",
            path.display(),
            rules.max_len
        )));
    }
    let mut data = Vec::with_capacity(len as usize);
    let file = File::from(fd);
    io::Read::read_to_end(&mut io::Read::take(&file, rules.max_len + 1), &mut data)
        .map_err(|e| ReadError::not_read(format!("cannot read {}: {e}", path.display())))?;
    if data.len() as u64 > rules.max_len {
        return Err(ReadError::breaks_rules(format!(
            "{} grew larger than the {} bytes allowed while being read",
            path.display(),
            rules.max_len
        )));
    }
    Ok(Some(data))
}

/// Reads that fail on purpose, for tests of what a failed read leads to.
#[cfg(test)]
pub(crate) mod faults {
    use std::cell::RefCell;
    use std::path::Path;

    thread_local! {
        static FAILING: RefCell<Option<(String, rustix::io::Errno)>> = const { RefCell::new(None) };
    }

    /// While the guard lives, opening a file whose name ends with `suffix` fails with `errno` in
    /// [`super::read_bounded`] on this thread.
    pub fn fail_opens(suffix: &str, errno: rustix::io::Errno) -> Guard {
        FAILING.with(|f| *f.borrow_mut() = Some((suffix.to_string(), errno)));
        Guard
    }

    #[must_use = "the reads fail only while the guard lives"]
    pub struct Guard;

    impl Drop for Guard {
        fn drop(&mut self) {
            FAILING.with(|f| *f.borrow_mut() = None);
        }
    }

    pub(super) fn injected(path: &Path) -> Option<rustix::io::Errno> {
        FAILING.with(|f| {
            f.borrow().as_ref().filter(|(suffix, _)| path.to_string_lossy().ends_with(suffix.as_str())).map(|(_, e)| *e)
        })
    }
}

/// Checks that `dir` is a directory (not a link) owned by this process's user that nobody else
/// may write (mode bits `0o022` clear). Used for the key and runtime directories.
pub fn check_private_dir(dir: &Path, what: &str) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("{what} {}: {e}", dir.display()))?;
    if !meta.file_type().is_dir() {
        return Err(format!("{what} {} is not a directory (links are not followed)", dir.display()));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!("{what} {} belongs to uid {}, not to this process (uid {me})", dir.display(), meta.uid()));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "{what} {} has mode {mode:04o}; others must not be able to write it (0700)",
            dir.display()
        ));
    }
    Ok(())
}

/// Creates `dir` (and its parents) with mode 0700 when missing, then checks it as
/// [`check_private_dir`] does. No process-wide umask is touched.
pub fn ensure_private_dir(dir: &Path, what: &str) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if fs::symlink_metadata(dir).is_err() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {what} {}: {e}", dir.display()))?;
    }
    check_private_dir(dir, what)
}

/// Writes `data` to `dir/name` atomically: a private temp file, fsync, rename over the target,
/// fsync of the directory. Files are created 0600.
pub fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> io::Result<()> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", u64::from_le_bytes(nonce)));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes `dir/name` and makes the removal durable. A missing file is not an error.
pub fn remove_durable(dir: &Path, name: &str) -> io::Result<()> {
    match fs::remove_file(dir.join(name)) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes temp files a crash of [`write_atomic`] left behind in `dir`: names `.<name>.<16 hex
/// digits>.tmp` whose `<name>` is one of ours (`ours`); every other file stays.
pub fn clean_temp_files(dir: &Path, ours: impl Fn(&str) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let n = e.file_name();
        let Some(n) = n.to_str() else { continue };
        let Some(inner) = n.strip_prefix('.').and_then(|m| m.strip_suffix(".tmp")) else { continue };
        let Some((name, nonce)) = inner.rsplit_once('.') else { continue };
        if nonce.len() == 16 && nonce.bytes().all(|b| b.is_ascii_hexdigit()) && ours(name) {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("fphal-fsutil-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        write_atomic(&dir, "a", b"one").unwrap();
        write_atomic(&dir, "a", b"two").unwrap();
        assert_eq!(fs::read(dir.join("a")).unwrap(), b"two");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        remove_durable(&dir, "a").unwrap();
        remove_durable(&dir, "a").unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_read_the_system_fails_is_told_apart_from_a_file_that_breaks_the_rules() {
        let dir = std::env::temp_dir().join(format!("fphal-fsutil-read-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("a-directory")).unwrap();
        fs::write(dir.join("large"), [0u8; 64]).unwrap();
        fs::write(dir.join("fine"), b"ok").unwrap();
        std::os::unix::fs::symlink(dir.join("fine"), dir.join("link")).unwrap();
        let rules = FileRules { max_len: 16, owner: Owner::Me, forbidden_mode: 0o002, mode_rule: "not world-writable" };
        let read = |name: &str| read_bounded(&dir.join(name), rules);
        assert_eq!(read("fine").unwrap(), Some(b"ok".to_vec()));
        assert_eq!(read("missing").unwrap(), None);
        let _socket = std::os::unix::net::UnixListener::bind(dir.join("a-socket")).unwrap();
        for name in ["a-directory", "large", "link", "a-socket"] {
            assert!(!read(name).unwrap_err().not_read, "{name} breaks the rules; it was read");
        }
        let _failing = faults::fail_opens("fine", rustix::io::Errno::IO);
        let e = read("fine").unwrap_err();
        assert!(e.not_read && e.why.contains("cannot open"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_our_own_leftover_temp_files_are_cleaned() {
        let dir = std::env::temp_dir().join(format!("fphal-fsutil-clean-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let names = [".ours.0123456789abcdef.tmp", ".theirs.0123456789abcdef.tmp", ".ours.tmp", ".ours.xyz.tmp"];
        for n in names {
            fs::write(dir.join(n), b"x").unwrap();
        }
        clean_temp_files(&dir, |name| name == "ours");
        let mut left: Vec<String> =
            fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, vec![".ours.tmp", ".ours.xyz.tmp", ".theirs.0123456789abcdef.tmp"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
