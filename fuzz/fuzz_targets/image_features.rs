#![no_main]
//! See `fphal::fuzz::image_features` for the property checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fphal::fuzz::image_features(data));
