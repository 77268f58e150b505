//! Values of 4 bits, two to a byte, the first in the low nibble: how a template stores phases and
//! patch samples (`FPM4`).

/// Appends `values` (each below 16) to `out`, two to a byte.
pub fn pack_into(values: impl Iterator<Item = u8>, out: &mut Vec<u8>) {
    let mut low = None;
    for v in values {
        debug_assert!(v < 16);
        match low.take() {
            None => low = Some(v & 0x0f),
            Some(first) => out.push(first | (v & 0x0f) << 4),
        }
    }
    out.extend(low);
}

/// The `k`th value of packed bytes (`k < 2 * b.len()`).
pub fn nibble(b: &[u8], k: usize) -> u8 {
    (b[k / 2] >> (4 * (k % 2))) & 0x0f
}

/// A value of 4 bits read as two's complement, -8..=7.
pub fn signed(v: u8) -> i8 {
    ((v << 4) as i8) >> 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_in_order_first_in_the_low_nibble() {
        let mut out = Vec::new();
        pack_into([1u8, 2, 15, 0, 7].into_iter(), &mut out);
        assert_eq!(out, [0x21, 0x0f, 0x07]);
        assert_eq!((0..5).map(|k| nibble(&out, k)).collect::<Vec<_>>(), [1, 2, 15, 0, 7]);
        assert_eq!([signed(0x0f), signed(0x08), signed(0x07), signed(0)], [-1, -8, 7, 0]);
    }
}
