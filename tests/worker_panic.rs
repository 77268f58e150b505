//! A trustlet double that panics: the worker must turn that into ERROR(HW_UNAVAILABLE), answer the
//! waiting caller with an error, and keep serving.

use fphal::codes::ErrorKind;
use fphal::config::Config;
use fphal::hal::{Device, Message};
use fphal::tee::{Transport, TransportError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct PanickingTrustlet;

impl Transport for PanickingTrustlet {
    fn execute(&mut self, _request: &[u8]) -> Result<Vec<u8>, TransportError> {
        panic!("trustlet double failure");
    }
}

#[test]
fn a_panic_in_the_worker_is_reported_and_the_worker_keeps_serving() {
    let dir = std::env::temp_dir().join(format!("fphal-panic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = Config::from_toml(&format!("[sensor]\nruntime_dir = \"{}\"\n", dir.display())).unwrap();
    let dev = Device::open_with(&cfg, Box::new(PanickingTrustlet)).unwrap();
    let seen: Arc<Mutex<Vec<Message>>> = Arc::default();
    let sink = Arc::clone(&seen);
    dev.set_sink(Some(Arc::new(move |m: &Message| sink.lock().unwrap().push(m.clone()))));

    assert!(dev.pre_enroll().is_err(), "the caller gets an error, not a hang");
    dev.cancel().unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while seen.lock().unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Message::Error(ErrorKind::HwUnavailable), Message::Error(ErrorKind::Canceled)]
    );
    drop(dev);
    std::fs::remove_dir_all(&dir).unwrap();
}
