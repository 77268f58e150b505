//! `describe`: ridge period, minutiae and foreground of 8 impressions of each finger, in the format
//! of `fphal-eval describe`, so that synthetic and real captures can be compared line for line.

use fphal::matcher;
use fphal_synth::Master;
use fphal_tools::Progress;
use fphal_tools::synth_bench::{FingerRange, parallel};

pub fn run(range: &FingerRange, threads: usize) {
    let progress = Progress::new("describing synthetic touches", range.count);
    let rows = parallel(range.count as usize, threads, &progress, |i| {
        let id = range.id(i);
        let master = Master::grow(id);
        (1..=8u32)
            .filter_map(|k| {
                let img = range.capture(&master, id, k).ok()?;
                Some(fphal_tools::describe_row(&format!("synthetic/{id}_{k}"), &matcher::analyse(&img).ok()?))
            })
            .collect::<Vec<String>>()
    });
    println!("{}", fphal_tools::DESCRIBE_HEADER);
    for r in rows.iter().flatten() {
        println!("{r}");
    }
}
