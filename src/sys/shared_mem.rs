//! Buffers shared with a trustlet: memory the kernel can hand to the secure world by descriptor
//! (a modified QSEECom command carries the descriptor; the kernel writes the buffer's physical
//! address into the request). Phones have a DMA-BUF heap (5.x kernels) or ION (older ones); a host
//! has neither, and uses an anonymous memory file with the same shape (descriptor + mapping).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::ptr::NonNull;

/// Where shared buffers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heap {
    /// A DMA-BUF heap node, e.g. `/dev/dma_heap/qcom,qseecom` (Linux `include/uapi/linux/dma-heap.h`).
    DmaHeap(std::path::PathBuf),
    /// ION on 4.12 and later kernels (`include/uapi/linux/ion.h` of 4.12–5.10: allocation returns a
    /// descriptor), heap `heap_id`.
    Ion { heap_id: u32 },
    /// ION on 3.x–4.9 kernels (`include/linux/ion.h` of msm-3.10 to msm-4.9: allocation returns a
    /// handle, shared as a descriptor by `ION_IOC_SHARE`), heap `heap_id`.
    IonLegacy { heap_id: u32 },
    /// An anonymous memory file: hosts and tests, where no secure world reads it.
    Memfd,
}

/// `_IOWR(ty, nr, size)` of `include/uapi/asm-generic/ioctl.h` (arm, arm64, x86: 2 direction bits,
/// 14 size bits, 8 type bits, 8 number bits).
const fn iowr(ty: u8, nr: u8, size: usize) -> u32 {
    (3 << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}

/// `struct dma_heap_allocation_data { __u64 len; __u32 fd; __u32 fd_flags; __u64 heap_flags; }`.
const DMA_HEAP_ALLOCATION_LEN: usize = 24;
const DMA_HEAP_IOCTL_ALLOC: u32 = iowr(b'H', 0, DMA_HEAP_ALLOCATION_LEN);
/// `struct ion_allocation_data { __u64 len; __u32 heap_id_mask; __u32 flags; __u32 fd; __u32 unused; }`.
const ION_ALLOCATION_LEN: usize = 24;
const ION_IOC_ALLOC: u32 = iowr(b'I', 0, ION_ALLOCATION_LEN);
/// Legacy `struct ion_allocation_data { size_t len; size_t align; unsigned int heap_id_mask;
/// unsigned int flags; ion_user_handle_t handle; }`: 20 bytes on 32-bit, 32 (with tail padding) on
/// 64-bit.
const WORD: usize = std::mem::size_of::<usize>();
const ION_LEGACY_ALLOCATION_LEN: usize = (2 * WORD + 12).div_ceil(WORD) * WORD;
const ION_LEGACY_IOC_ALLOC: u32 = iowr(b'I', 0, ION_LEGACY_ALLOCATION_LEN);
/// `struct ion_handle_data { ion_user_handle_t handle; }`.
const ION_LEGACY_IOC_FREE: u32 = iowr(b'I', 1, 4);
/// `struct ion_fd_data { ion_user_handle_t handle; int fd; }`.
const ION_LEGACY_IOC_SHARE: u32 = iowr(b'I', 4, 8);

/// A mapped shared buffer and its descriptor. Wiped and unmapped when dropped.
pub struct SharedMemory {
    fd: OwnedFd,
    map: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone and reached only through `&self`/`&mut self`.
unsafe impl Send for SharedMemory {}

impl SharedMemory {
    /// A buffer of `len` bytes (rounded up to a page by the kernel) from `heap`.
    pub fn allocate(heap: &Heap, len: usize) -> io::Result<SharedMemory> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "an empty shared buffer"));
        }
        let fd = match heap {
            Heap::DmaHeap(node) => dma_heap(node, len)?,
            Heap::Ion { heap_id } => ion(*heap_id, len)?,
            Heap::IonLegacy { heap_id } => ion_legacy(*heap_id, len)?,
            Heap::Memfd => memfd(len)?,
        };
        // In a service started with its standard descriptors closed the buffer could land on 0,
        // which a modified QSEECom command reads as "no buffer": keep it above the standard three.
        let fd = if std::os::fd::AsRawFd::as_raw_fd(&fd) < 3 { rustix::io::fcntl_dupfd_cloexec(&fd, 3)? } else { fd };
        Self::map(fd, len)
    }

    fn map(fd: OwnedFd, len: usize) -> io::Result<SharedMemory> {
        use std::os::fd::AsRawFd;
        // SAFETY: a fresh shared mapping of an open descriptor; the result is checked against
        // MAP_FAILED before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let map = NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(SharedMemory { fd, map, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes, readable, and lives until Drop.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, writable, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_ptr(), self.len) }
    }
}

impl AsFd for SharedMemory {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.bytes_mut());
        // SAFETY: the mapping came from mmap with this length and is unmapped once.
        unsafe { libc::munmap(self.map.as_ptr().cast(), self.len) };
    }
}

fn open_node(node: &Path) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(node, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| io::Error::new(io::Error::from(e).kind(), format!("{}: {e}", node.display())))
}

fn owned(fd: u32) -> io::Result<OwnedFd> {
    let fd =
        i32::try_from(fd).ok().filter(|fd| *fd >= 0).ok_or_else(|| io::Error::other("the heap gave no descriptor"))?;
    // SAFETY: the driver just created this descriptor for this process and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn dma_heap(node: &Path, len: usize) -> io::Result<OwnedFd> {
    let heap = open_node(node)?;
    let mut data = [0u8; DMA_HEAP_ALLOCATION_LEN];
    data[0..8].copy_from_slice(&(len as u64).to_ne_bytes());
    let flags = (libc::O_RDWR | libc::O_CLOEXEC) as u32;
    data[12..16].copy_from_slice(&flags.to_ne_bytes());
    super::ioctl_buffer(heap.as_fd(), DMA_HEAP_IOCTL_ALLOC, &mut data)?;
    owned(u32::from_ne_bytes([data[8], data[9], data[10], data[11]]))
}

/// `/dev/ion` and the heap mask of `heap_id`, which both ION calls take.
fn open_ion(heap_id: u32) -> io::Result<(OwnedFd, u32)> {
    let mask = 1u32.checked_shl(heap_id).ok_or_else(|| io::Error::other("ION heap id over 31"))?;
    Ok((open_node(Path::new("/dev/ion"))?, mask))
}

fn ion(heap_id: u32, len: usize) -> io::Result<OwnedFd> {
    let (ion, mask) = open_ion(heap_id)?;
    let mut data = [0u8; ION_ALLOCATION_LEN];
    data[0..8].copy_from_slice(&(len as u64).to_ne_bytes());
    data[8..12].copy_from_slice(&mask.to_ne_bytes());
    super::ioctl_buffer(ion.as_fd(), ION_IOC_ALLOC, &mut data)?;
    owned(u32::from_ne_bytes([data[16], data[17], data[18], data[19]]))
}

fn ion_legacy(heap_id: u32, len: usize) -> io::Result<OwnedFd> {
    let (ion, mask) = open_ion(heap_id)?;
    let mut data = [0u8; ION_LEGACY_ALLOCATION_LEN];
    data[..WORD].copy_from_slice(&len.to_ne_bytes());
    // align: a page.
    data[WORD..2 * WORD].copy_from_slice(&4096usize.to_ne_bytes());
    data[2 * WORD..2 * WORD + 4].copy_from_slice(&mask.to_ne_bytes());
    super::ioctl_buffer(ion.as_fd(), ION_LEGACY_IOC_ALLOC, &mut data)?;
    let handle: [u8; 4] = data[2 * WORD + 8..2 * WORD + 12].try_into().unwrap_or_default();
    let mut share = [0u8; 8];
    share[..4].copy_from_slice(&handle);
    let shared = super::ioctl_buffer(ion.as_fd(), ION_LEGACY_IOC_SHARE, &mut share);
    // The descriptor keeps the buffer alive; the handle is freed either way.
    let mut free = handle;
    let _ = super::ioctl_buffer(ion.as_fd(), ION_LEGACY_IOC_FREE, &mut free);
    shared?;
    owned(u32::from_ne_bytes([share[4], share[5], share[6], share[7]]))
}

fn memfd(len: usize) -> io::Result<OwnedFd> {
    let fd = rustix::fs::memfd_create("fphal-shared", rustix::fs::MemfdFlags::CLOEXEC)?;
    rustix::fs::ftruncate(&fd, len as u64)?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_match_the_kernel_headers() {
        // Values as the kernel's _IOWR computes them for these structs.
        assert_eq!(DMA_HEAP_IOCTL_ALLOC, 0xc018_4800);
        assert_eq!(ION_IOC_ALLOC, 0xc018_4900);
        assert_eq!(ION_LEGACY_IOC_SHARE, 0xc008_4904);
        assert_eq!(ION_LEGACY_IOC_FREE, 0xc004_4901);
        let legacy = if WORD == 8 { 0xc020_4900 } else { 0xc014_4900 };
        assert_eq!(ION_LEGACY_IOC_ALLOC, legacy);
    }

    #[test]
    fn a_memfd_buffer_is_shared_through_its_descriptor() {
        let mut a = SharedMemory::allocate(&Heap::Memfd, 4096).unwrap();
        a.bytes_mut()[..4].copy_from_slice(b"ping");
        let dup = a.as_fd().try_clone_to_owned().unwrap();
        let b = SharedMemory::map(dup, 4096).unwrap();
        assert_eq!(&b.bytes()[..4], b"ping");
    }

    #[test]
    fn a_missing_heap_names_its_node() {
        let e = SharedMemory::allocate(&Heap::DmaHeap("/nonexistent/dma_heap/x".into()), 4096).err().unwrap();
        assert!(e.to_string().contains("/nonexistent/dma_heap/x"), "{e}");
    }
}
