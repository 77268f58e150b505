//! Test support: every log line of this test binary, captured, so that tests can assert what an
//! operator would read in logcat.

use std::sync::{Mutex, Once};

static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push((r.level(), r.args().to_string()));
    }
    fn flush(&self) {}
}

/// Starts capturing (once per test binary; later calls do nothing).
pub fn capture() {
    INSTALL.call_once(|| {
        if log::set_logger(&Capture).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    });
}

/// The captured lines at `level` or more severe that contain every one of `parts`.
pub fn lines(level: log::Level, parts: &[&str]) -> Vec<String> {
    LINES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(l, text)| *l <= level && parts.iter().all(|p| text.contains(p)))
        .map(|(_, text)| text.clone())
        .collect()
}

/// Panics unless some captured line at `level` or more severe contains every one of `parts`.
#[track_caller]
pub fn assert_logged(level: log::Level, parts: &[&str]) {
    assert!(!lines(level, parts).is_empty(), "no {level} log line with {parts:?}");
}
