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

/// `v.round() as usize` for 0 <= v < 2^23 (halves away from zero); 0 for NaN.
#[inline(always)]
pub fn nearest_index(v: f32) -> usize {
    debug_assert!(v.is_nan() || (0.0..TWO_23).contains(&v), "{v} outside [0, 2^23)");
    let below = whole_below(v);
    // Exact: `below` is `v` without its fraction.
    let fraction = v - below;
    below as usize + usize::from(fraction >= 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn they_agree_with_the_library_rounding_on_every_kind_of_value() {
        let mut values =
            vec![0.0, 0.49999997, 0.5, 0.50000006, 1.0, 1.5, 2.5, 8_388_607.5, 8_388_607.0, f32::MIN_POSITIVE];
        // Every float between 0 and 64 at a spread of magnitudes, halves and their neighbours included.
        let mut v = 1e-6f32;
        while v < 64.0 {
            values.extend([v, v.next_up(), v.next_down()]);
            v = v * 1.000_731 + 0.000_37;
        }
        for k in 0..200 {
            let half = k as f32 + 0.5;
            values.extend([half, half.next_up(), half.next_down()]);
        }
        for v in values {
            assert_eq!(whole_below(v), v.floor(), "floor of {v}");
            assert_eq!(nearest_index(v), v.round() as usize, "round of {v}");
        }
        assert_eq!(nearest_index(f32::NAN), 0);
    }
}
