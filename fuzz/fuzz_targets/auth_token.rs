#![no_main]
//! See `fphal::fuzz::auth_token` for the property checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fphal::fuzz::auth_token(data));
