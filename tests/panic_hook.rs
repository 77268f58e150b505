//! The panic hook: a panic's message, thread and location reach the log once, at ERROR.

use std::sync::Mutex;

static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        LINES.lock().unwrap().push((r.level(), r.args().to_string()));
    }
    fn flush(&self) {}
}

#[test]
fn a_panic_logs_its_message_and_location_once() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    fphal::logging::install_panic_hook();
    fphal::logging::install_panic_hook();
    let line = line!() + 1;
    let caught = std::thread::Builder::new().name("probe".into()).spawn(|| panic!("sensor {} gone", 7)).unwrap().join();
    assert!(caught.is_err());
    let lines = LINES.lock().unwrap();
    let panics: Vec<_> = lines.iter().filter(|(_, text)| text.contains("panic")).collect();
    assert_eq!(panics.len(), 1, "one line per panic: {lines:?}");
    let (level, text) = panics[0];
    assert_eq!(*level, log::Level::Error);
    assert!(text.contains("sensor 7 gone"), "{text}");
    assert!(text.contains("thread probe"), "{text}");
    assert!(text.contains(&format!("tests/panic_hook.rs:{line}:")), "{text}");
}
