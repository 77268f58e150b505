#![no_main]
//! Template bytes matched against the features of a synthetic touch: see `fphal::fuzz::template_match`.

use fphal::matcher::Features;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn probe() -> &'static Features {
    static PROBE: OnceLock<Features> = OnceLock::new();
    PROBE.get_or_init(fphal_fuzz_probe::probe)
}

mod fphal_fuzz_probe {
    include!("../probe.rs");
}

fuzz_target!(|data: &[u8]| fphal::fuzz::template_match(data, probe()));
