//! Whole numbers of non-negative floats in plain arithmetic. x86_64's baseline has no rounding
//! instruction, so `floor` and `round` are library calls, and `as` conversions saturate: either
//! keeps a loop scalar, and a call per pixel costs more than the pixel's own work.

/// 2^23: from it up, floats are whole numbers.
pub const TWO_23: f32 = 8_388_608.0;

/// The largest whole number not above `v`, for 0 <= v < 2^23 (`v.floor()` there).
#[inline(always)]
pub fn whole_below(v: f32) -> f32 {
    let nearest = (v + TWO_23) - TWO_23;
    if nearest > v { nearest - 1.0 } else { nearest }
}

/// A whole number 0 <= `v` < 2^23 as an integer: it lies in the low bits of itself plus 2^23, so
/// no saturating conversion is needed (about ten instructions on x86_64).
#[inline(always)]
pub fn whole_bits(v: f32) -> u32 {
    debug_assert!((0.0..TWO_23).contains(&v) && v == whole_below(v), "{v} not a whole number below 2^23");
    (v + TWO_23).to_bits() - TWO_23.to_bits()
}

/// `v.round() as usize` for v < 2^23 (halves away from zero); 0 for NaN and anything below 0.
#[inline(always)]
pub fn nearest_index(v: f32) -> usize {
    debug_assert!(v.is_nan() || v < TWO_23, "{v} not below 2^23");
    // `max` takes 0 over NaN too.
    let v = v.max(0.0);
    let below = whole_below(v);
    // Exact: `below` is `v` without its fraction.
    let fraction = v - below;
    whole_bits(below) as usize + usize::from(fraction >= 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn they_agree_with_the_library_rounding_on_every_kind_of_value() {
        // A positive float and the floats just above and just below it.
        let around = |v: f32| [v, f32::from_bits(v.to_bits() + 1), f32::from_bits(v.to_bits() - 1)];
        let mut values = vec![0.0, 1.0, 8_388_607.5, 8_388_607.0, f32::MIN_POSITIVE];
        // About 25,000 values from 0.000001 to 64, then every half up to 199.5, each with its
        // two neighbours.
        let mut v = 1e-6f32;
        while v < 64.0 {
            values.extend(around(v));
            v = v * 1.000_731 + 0.000_37;
        }
        for k in 0..200 {
            values.extend(around(k as f32 + 0.5));
        }
        for v in values {
            assert_eq!(whole_below(v), v.floor(), "floor of {v}");
            assert_eq!(nearest_index(v), v.round() as usize, "round of {v}");
        }
        for v in [f32::NAN, -0.0, -0.2, -0.5, -0.7, -3.0, f32::NEG_INFINITY] {
            assert_eq!(nearest_index(v), 0, "{v}");
        }
    }
}
