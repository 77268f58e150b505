//! fphal: a memory-safe drop-in replacement for Android's legacy fingerprint HAL module.
//!
//! Layers, one direction only: `ffi` (the C surface) → `hal` (device, worker thread) →
//! `sensor` and `tee` (trustlet bridge) → `tee::soft` (software trustlet) → `matcher`.
//!
//! Unsafe code lives in two modules only: `ffi` (the C surface) and `sys` (system calls no safe
//! crate covers). Every other module forbids it.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[forbid(unsafe_code)]
pub mod auth_token;
#[forbid(unsafe_code)]
pub mod codes;
#[forbid(unsafe_code)]
pub mod config;
pub mod diagnose;
#[forbid(unsafe_code)]
pub mod error;
#[allow(unsafe_code)]
pub mod ffi;
#[forbid(unsafe_code)]
pub mod fsutil;
#[doc(hidden)]
#[forbid(unsafe_code)]
pub mod fuzz;
#[forbid(unsafe_code)]
pub mod hal;
#[forbid(unsafe_code)]
pub mod image;
#[forbid(unsafe_code)]
pub mod logging;
#[forbid(unsafe_code)]
pub mod matcher;
#[forbid(unsafe_code)]
pub mod sensor;
#[allow(unsafe_code)]
pub mod sys;
#[forbid(unsafe_code)]
pub mod tee;
#[cfg(test)]
mod test_log;
