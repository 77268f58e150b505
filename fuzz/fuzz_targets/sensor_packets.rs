#![no_main]
//! See `fphal::fuzz::sensor_packets` for the property checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fphal::fuzz::sensor_packets(data));
