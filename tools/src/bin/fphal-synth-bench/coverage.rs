//! `coverage`: how much of a later touch's area K enrollment touches cover, for K = 4..=16, by
//! the generator's true placements.

use fphal_tools::synth_bench::{FingerRange, footprint, share_covered};

pub fn run(range: &FingerRange) {
    const LATER: std::ops::RangeInclusive<u32> = 17..=24;
    println!(
        "enrollment touches, mean share of a later touch they cover, 5th percentile, later touches under 90% covered"
    );
    for k in 4..=16u32 {
        let mut shares = Vec::new();
        for finger in range.first_id..range.first_id + range.count {
            let enrolled: Vec<_> = (1..=k).map(|i| footprint(&range.touch(finger, i))).collect();
            for later in LATER {
                let t = range.touch(finger, later);
                shares.push(share_covered(&t, 40, |x, y| enrolled.iter().any(|inside| inside(x, y))));
            }
        }
        shares.sort_by(f32::total_cmp);
        let mean = shares.iter().sum::<f32>() / shares.len() as f32;
        let under = shares.iter().filter(|s| **s < 0.9).count() as f32 / shares.len() as f32;
        println!("{k:2}  {:5.1}%  {:5.1}%  {:5.1}%", mean * 100.0, shares[shares.len() / 20] * 100.0, under * 100.0);
    }
}
