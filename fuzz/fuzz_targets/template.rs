#![no_main]
//! See `fphal::fuzz::template` for the property checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fphal::fuzz::template(data));
