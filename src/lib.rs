//! fphal: a memory-safe drop-in replacement for Android's legacy fingerprint HAL module.
//!
//! Layers, one direction only: `ffi` (the C surface) → `hal` (device, worker thread) →
//! `sensor` and `tee` (trustlet bridge) → `tee::soft` (software trustlet) → `matcher`.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod auth_token;
pub mod config;
pub mod error;
pub mod ffi;
pub mod fsutil;
pub mod hal;
pub mod image;
pub mod logging;
pub mod matcher;
pub mod sensor;
pub mod tee;
