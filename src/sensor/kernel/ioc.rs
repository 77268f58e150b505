//! Linux ioctl request numbers as the kernel's C macros build them.
//!
//! `include/uapi/asm-generic/ioctl.h` (the layout of x86, ARM and arm64): bits 0–7 the number,
//! 8–15 the type ("magic"), 16–29 the argument size, 30–31 the direction (1 write, 2 read).
//! The macros shift the type without masking it, and drivers depend on that: Sony's
//! `FPC_IOC_MAGIC` is 0x1145, wider than its 8 bits, so its high bits land in the size field
//! (`_IOW(0x1145, 0x01, int)` is 0x4015_4501). A helper that masks the type (as some ioctl crates
//! do) would send 0x4004_4501, which the driver does not know. So this computes exactly what the
//! C preprocessor does.

const NRSHIFT: u32 = 0;
const TYPESHIFT: u32 = 8;
const SIZESHIFT: u32 = 16;
const DIRSHIFT: u32 = 30;
/// `_IOC_WRITE`: user space writes the argument to the driver.
const WRITE: u32 = 1;
/// `_IOC_READ`: the driver writes the argument back.
const READ: u32 = 2;

/// `_IOC(dir, type, nr, size)`.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: u32) -> u32 {
    (dir << DIRSHIFT) | (ty << TYPESHIFT) | (nr << NRSHIFT) | (size << SIZESHIFT)
}

/// `_IOW(type, nr, T)` with `size_of::<T>() == size`.
pub const fn iow(ty: u32, nr: u32, size: u32) -> u32 {
    ioc(WRITE, ty, nr, size)
}

/// `_IOR(type, nr, T)` with `size_of::<T>() == size`.
pub const fn ior(ty: u32, nr: u32, size: u32) -> u32 {
    ioc(READ, ty, nr, size)
}

/// `sizeof(int)` on every Android and Linux ABI this library builds for.
pub const INT: u32 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_what_the_c_macros_of_linux_ioctl_h_produce() {
        // Values printed by a C program that includes <linux/ioctl.h> and expands each macro.
        assert_eq!(iow(0x1145, 0x01, INT), 0x4015_4501, "_IOW(0x1145, 0x01, int)");
        assert_eq!(ior(0x1145, 0x83, INT), 0x8015_4583, "_IOR(0x1145, 0x83, int)");
        assert_eq!(iow(b'K' as u32, 0, INT), 0x4004_4b00, "_IOW('K', 0, int)");
        assert_eq!(ior(b'K' as u32, 1, INT), 0x8004_4b01, "_IOR('K', 1, int)");
        assert_eq!(ior(b'K' as u32, 6, INT), 0x8004_4b06, "_IOR('K', 6, int)");
    }
}
