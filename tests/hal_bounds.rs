//! The device's bounds: a query never waits forever (and a late post_enroll still revokes), close
//! stops the worker even while a caller still holds the device, and the runtime directory must be
//! private.

use fphal::codes::ErrorKind;
use fphal::config::Config;
use fphal::error::HalError;
use fphal::hal::{Device, Message};
use fphal::tee::{Request, Response, Transport, TransportError};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A trustlet that does not answer until the test lets it.
struct Stuck(Receiver<()>);

impl Transport for Stuck {
    fn execute(&mut self, _request: &[u8]) -> Result<Vec<u8>, TransportError> {
        let _ = self.0.recv();
        Err(TransportError::Unreachable("released by the test".into()))
    }
}

fn runtime_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fphal-bounds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(dir: &std::path::Path) -> Config {
    Config::from_toml(&format!("[sensor]\nruntime_dir = \"{}\"\n", dir.display())).unwrap()
}

#[test]
fn a_query_behind_a_stuck_worker_fails_instead_of_hanging() {
    let dir = runtime_dir("stuck");
    let (release, stuck) = channel();
    let dev = Arc::new(Device::open_with(&config(&dir), Box::new(Stuck(stuck))).unwrap());
    let caller = Arc::clone(&dev);
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(caller.pre_enroll());
    });
    let answer = rx.recv_timeout(Duration::from_secs(60)).expect("pre_enroll hung behind a stuck worker");
    assert!(matches!(answer, Err(HalError::Timeout(_))), "a query the worker cannot answer in time: {answer:?}");
    assert_eq!(answer.unwrap_err().errno(), -libc::ETIMEDOUT);
    drop(release);
    drop(dev);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shutdown_stops_the_worker_while_a_caller_still_holds_the_device() {
    let dir = runtime_dir("held");
    let dev = Arc::new(
        Device::open(
            &Config::from_toml(&format!(
                "[sensor]\nruntime_dir = \"{d}\"\n[trustlet]\nkey_dir = \"{d}/keys\"\n",
                d = dir.display()
            ))
            .unwrap(),
        )
        .unwrap(),
    );
    let held = Arc::clone(&dev);
    assert!(held.is_running());
    let socket = held.sensor_path().expect("the virtual sensor takes images on a socket").to_path_buf();
    assert!(socket.exists());
    dev.shutdown();
    assert!(!held.is_running(), "after shutdown (close) returns, no worker runs");
    assert!(!socket.exists(), "the worker's sensor is gone with it");
    assert!(held.pre_enroll().is_err(), "a stopped device answers with an error");
    drop(dev);
    drop(held);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_runtime_directory_others_can_write_is_refused() {
    let dir = runtime_dir("open");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (_release, stuck) = channel();
    let e = Device::open_with(&config(&dir), Box::new(Stuck(stuck))).err().expect("a 0777 runtime dir is refused");
    assert!(e.to_string().contains("0777"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A trustlet that removes two fingers of three, then fails.
struct RemovesPartly;

impl Transport for RemovesPartly {
    fn execute(&mut self, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(match Request::decode(request).unwrap() {
            Request::Remove { .. } => Response::Removed { fids: vec![4, 9], complete: false },
            _ => Response::Ok,
        }
        .encode())
    }
}

#[test]
fn a_remove_all_stopped_part_way_reports_what_it_removed_then_the_error() {
    let dir = runtime_dir("partly");
    let dev = Device::open_with(&config(&dir), Box::new(RemovesPartly)).unwrap();
    let seen: Arc<Mutex<Vec<Message>>> = Arc::default();
    let sink = Arc::clone(&seen);
    dev.set_sink(Some(Arc::new(move |m: &Message| sink.lock().unwrap().push(m.clone()))));
    dev.set_active_group(3, dir.to_str().unwrap()).unwrap();
    dev.remove(3, 0).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Message::Removed { gid: 3, fid: 4, remaining: 2 },
            Message::Removed { gid: 3, fid: 9, remaining: 1 },
            Message::Error(ErrorKind::UnableToRemove),
        ]
    );
    drop(dev);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A trustlet whose first request waits until the test lets it go; every request it gets is
/// recorded.
struct SlowThenRecording {
    release: Option<Receiver<()>>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Transport for SlowThenRecording {
    fn execute(&mut self, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        if let Some(release) = self.release.take() {
            let _ = release.recv();
        }
        let request = Request::decode(request).unwrap();
        let response = match request {
            Request::PreEnroll => Response::Challenge(7),
            _ => Response::Ok,
        };
        self.seen.lock().unwrap().push(request);
        Ok(response.encode())
    }
}

/// A post_enroll the worker reaches only after its caller gave up still revokes the challenge: a
/// late query is otherwise dropped, and the challenge would stay valid for a later enrollment.
#[test]
fn a_post_enroll_whose_caller_gave_up_still_revokes_the_challenge() {
    let dir = runtime_dir("late-post-enroll");
    let (release, slow) = channel();
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let transport = SlowThenRecording { release: Some(slow), seen: Arc::clone(&seen) };
    let dev = Arc::new(Device::open_with(&config(&dir), Box::new(transport)).unwrap());
    // The first request (the authenticator id query) holds the worker past the query timeout.
    let caller = Arc::clone(&dev);
    let held = std::thread::spawn(move || caller.get_authenticator_id());
    std::thread::sleep(Duration::from_millis(100));
    let answer = dev.post_enroll();
    assert!(matches!(answer, Err(HalError::Timeout(_))), "{answer:?}");
    drop(release);
    let _ = held.join().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !seen.lock().unwrap().contains(&Request::PostEnroll) {
        assert!(std::time::Instant::now() < deadline, "the late post_enroll never reached the trustlet: {:?}", seen);
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(dev);
    std::fs::remove_dir_all(&dir).unwrap();
}
