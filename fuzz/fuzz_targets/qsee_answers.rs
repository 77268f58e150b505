#![no_main]
//! See `fphal::fuzz::qsee_answers` for the property checked. Its seeds (fuzz/corpus/qsee_answers) are
//! answers laid out as the golden vectors of `tee::qsee` lay them: a generation byte, then the answer.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fphal::fuzz::qsee_answers(data));
