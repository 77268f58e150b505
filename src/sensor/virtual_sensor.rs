//! The virtual sensor: a Unix `SOCK_SEQPACKET` socket that takes finger-down (with an image) and
//! finger-up packets, for emulators, boards without a sensor, tests and the demo.
//!
//! Like a real sensor that waits for the finger to settle, it keeps a complete image for
//! `settle` before handing it on, so that a finger lifted sooner is known to have been too fast:
//! the image is then handed on at once with the contact time measured.

use super::protocol::{self, Status};
use super::socket::SeqpacketSocket;
use super::{Sensor, SensorEvent, SensorFault};
use crate::image::GrayImage;
use crate::sys::{Interest, Ready, Watch};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct PartialImage {
    width: u32,
    height: u32,
    dpi: u32,
    pixels: Vec<u8>,
}

pub struct VirtualSensor {
    path: PathBuf,
    listener: SeqpacketSocket,
    client: Option<SeqpacketSocket>,
    partial: Option<PartialImage>,
    down_since: Option<Instant>,
    /// A complete image waiting out the settle time.
    settling: Option<GrayImage>,
    settle: Duration,
    buf: Vec<u8>,
    /// Report a touch as detected only, without its image: the trustlet captures (a TEE-owned
    /// sensor, simulated).
    detect_only: bool,
}

impl VirtualSensor {
    /// Binds the socket at `path` (which must not be in use by a live sensor). A complete image
    /// is handed on after `settle`, or at the lift if that comes sooner.
    pub fn bind(path: &Path, settle: Duration) -> Result<VirtualSensor, String> {
        let listener = SeqpacketSocket::listen(path)?;
        Ok(VirtualSensor {
            path: path.to_path_buf(),
            listener,
            client: None,
            partial: None,
            down_since: None,
            settling: None,
            settle,
            buf: vec![0; protocol::MAX_PACKET + 64],
            detect_only: false,
        })
    }

    /// Touches are reported as [`SensorEvent::FingerDetected`], their images dropped: the sensor
    /// of a trustlet that captures by itself.
    pub fn detect_only(mut self) -> Self {
        self.detect_only = true;
        self
    }

    fn touched(&self, image: GrayImage, contact_ms: u32) -> SensorEvent {
        if self.detect_only { SensorEvent::FingerDetected } else { SensorEvent::FingerDown { image, contact_ms } }
    }

    /// The finger left before the settle time: the image goes on at once, with its short contact.
    fn lifted_while_settling(&mut self) -> Option<SensorEvent> {
        let early = self.hand_on()?;
        self.down_since = None;
        Some(early)
    }

    fn hand_on(&mut self) -> Option<SensorEvent> {
        let image = self.settling.take()?;
        let contact_ms = self.down_since.map_or(0, |t| t.elapsed().as_millis().clamp(1, u32::MAX as u128) as u32);
        Some(self.touched(image, contact_ms))
    }

    /// Accepts a driver, or takes one packet from it. `armed` says whether an operation waits for
    /// a finger.
    fn take_packet(&mut self, fd: std::os::fd::RawFd, armed: bool) -> Option<SensorEvent> {
        if fd == self.listener.as_raw_fd() {
            if let Some(c) = self.listener.accept() {
                // The newest driver connection owns the sensor; an older one is dropped.
                self.client = Some(c);
                self.reset();
            }
            return None;
        }
        let client = self.client.as_ref()?;
        if client.as_raw_fd() != fd {
            return None;
        }
        let n = match client.recv(&mut self.buf) {
            Ok(Some(n)) => n,
            Ok(None) => return None,
            Err(_) => {
                // Hung up or failed: a lifted finger as far as we are concerned.
                self.client = None;
                self.partial = None;
                if let Some(early) = self.lifted_while_settling() {
                    return Some(early);
                }
                return self
                    .down_since
                    .take()
                    .map(|t| SensorEvent::FingerUp { held_ms: t.elapsed().as_millis() as u32 });
            }
        };
        let packet = self.buf[..n].to_vec();
        let (status, reason, event) = self.handle_packet(&packet, armed);
        if let Some(c) = &self.client {
            let _ = c.send(&protocol::status_packet(status, &reason));
        }
        event
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forgets any finger on the sensor and any image half received.
    #[doc(hidden)]
    pub fn reset(&mut self) {
        self.partial = None;
        self.down_since = None;
        self.settling = None;
    }

    /// Handles one packet as if the driver had sent it (the fuzz target feeds packets so):
    /// the status and reason to answer with, and what it means for the worker.
    #[doc(hidden)]
    pub fn feed(&mut self, packet: &[u8], armed: bool) -> (Status, String, Option<SensorEvent>) {
        self.handle_packet(packet, armed)
    }

    fn handle_packet(&mut self, p: &[u8], armed: bool) -> (Status, String, Option<SensorEvent>) {
        let refuse = |why: &str| (Status::Refused, why.to_string(), None);
        if p.is_empty() {
            return refuse("empty packet (or one larger than the protocol allows)");
        }
        if p.len() < 4 || p[0] != protocol::VERSION {
            return refuse("unsupported protocol version");
        }
        match p[1] {
            protocol::FINGER_DOWN => {
                if p.len() < protocol::DOWN_HEADER {
                    return refuse("finger-down packet too short");
                }
                let le16 = |i: usize| u16::from_le_bytes([p[i], p[i + 1]]) as u32;
                let (w, h, dpi) = (le16(4), le16(6), le16(8));
                if w == 0 || h == 0 || w > crate::image::MAX_SIDE || h > crate::image::MAX_SIDE {
                    return refuse(&format!("image of {w}x{h}: each side must be 1..=1024"));
                }
                if let Err(why) = crate::image::check_capture_size(w, h, dpi) {
                    return refuse(&why);
                }
                let px = &p[protocol::DOWN_HEADER..];
                if px.len() > (w * h) as usize {
                    return refuse("more pixels than width x height");
                }
                self.partial = None;
                self.settling = None;
                if !armed {
                    self.down_since = None;
                    return (Status::Ignored, "not waiting for a finger".into(), None);
                }
                self.partial = Some(PartialImage { width: w, height: h, dpi, pixels: px.to_vec() });
                self.complete_if_done()
            }
            protocol::IMAGE_DATA => {
                let Some(part) = self.partial.as_mut() else { return refuse("image data without a finger-down") };
                let need = (part.width * part.height) as usize - part.pixels.len();
                if p.len() - 4 > need {
                    self.partial = None;
                    return refuse("more pixels than width x height");
                }
                part.pixels.extend_from_slice(&p[4..]);
                self.complete_if_done()
            }
            protocol::FINGER_UP => {
                self.partial = None;
                if let Some(early) = self.lifted_while_settling() {
                    return (Status::Taken, String::new(), Some(early));
                }
                match self.down_since.take() {
                    Some(t) => (
                        Status::Taken,
                        String::new(),
                        Some(SensorEvent::FingerUp { held_ms: t.elapsed().as_millis() as u32 }),
                    ),
                    None => (Status::Ignored, "no finger was down".into(), None),
                }
            }
            other => refuse(&format!("unknown packet kind {other}")),
        }
    }

    fn complete_if_done(&mut self) -> (Status, String, Option<SensorEvent>) {
        let part = self.partial.as_ref().expect("caller set it");
        if part.pixels.len() < (part.width * part.height) as usize {
            return (Status::Continue, String::new(), None);
        }
        let part = self.partial.take().expect("checked");
        match GrayImage::new(part.width, part.height, part.dpi, part.pixels) {
            Ok(image) => {
                self.down_since = Some(Instant::now());
                if self.settle.is_zero() {
                    return (Status::Taken, String::new(), Some(self.touched(image, 0)));
                }
                self.settling = Some(image);
                (Status::Taken, String::new(), None)
            }
            Err(e) => (Status::Refused, e.to_string(), None),
        }
    }
}

impl Drop for VirtualSensor {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Sensor for VirtualSensor {
    /// The listening socket and the connected driver, both for reading.
    fn watches(&self) -> Vec<Watch<'_>> {
        let mut v = vec![Watch { fd: self.listener.as_fd(), interest: Interest::Readable }];
        if let Some(c) = &self.client {
            v.push(Watch { fd: c.as_fd(), interest: Interest::Readable });
        }
        v
    }

    /// How long until a settling image is due, if one is.
    fn due_in(&self) -> Option<Duration> {
        let since = self.down_since?;
        self.settling.as_ref().map(|_| self.settle.saturating_sub(since.elapsed()))
    }

    /// Nothing to switch: whether a finger is wanted is decided per packet.
    fn arm(&mut self, _armed: bool) -> Result<(), SensorFault> {
        Ok(())
    }

    fn service(&mut self, ready: &Ready, armed: bool) -> Result<Option<SensorEvent>, SensorFault> {
        Ok(self.take_packet(ready.fd, armed))
    }

    /// The settling image, once the finger has stayed for the settle time.
    fn settled(&mut self) -> Result<Option<SensorEvent>, SensorFault> {
        match self.due_in() {
            Some(left) if left.is_zero() => Ok(self.hand_on()),
            _ => Ok(None),
        }
    }

    fn touch_done(&mut self) {}

    fn endpoint(&self) -> Option<&Path> {
        Some(self.path())
    }

    fn describe(&self) -> String {
        format!("virtual sensor at {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensor::client::SensorClient;

    /// Runs the sensor the way the worker does (one `poll()` with the settle time as timeout)
    /// while `driver` touches and lifts from another thread; returns the images' contact times.
    fn contacts(name: &str, settle_ms: u64, driver: impl FnOnce(SensorClient) + Send + 'static) -> Vec<u32> {
        let path = std::env::temp_dir().join(format!("fphal-sensor-test-{name}-{}.sock", std::process::id()));
        let mut sensor = VirtualSensor::bind(&path, Duration::from_millis(settle_ms)).unwrap();
        let client = SensorClient::connect(&path).unwrap();
        let driving = std::thread::spawn(move || driver(client));
        let mut out = Vec::new();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until && !(driving.is_finished() && sensor.due_in().is_none()) {
            let timeout = sensor.due_in().map_or(Duration::from_millis(20), |d| d + Duration::from_millis(1));
            let ready = crate::sys::wait(&sensor.watches(), Some(timeout));
            for r in ready {
                if let Ok(Some(SensorEvent::FingerDown { contact_ms, .. })) = sensor.service(&r, true) {
                    out.push(contact_ms);
                }
            }
            if let Ok(Some(SensorEvent::FingerDown { contact_ms, .. })) = sensor.settled() {
                out.push(contact_ms);
            }
        }
        driving.join().unwrap();
        out
    }

    fn image() -> GrayImage {
        GrayImage::new(64, 64, 500, (0..64 * 64).map(|i| (i % 251) as u8).collect()).unwrap()
    }

    #[test]
    fn an_image_is_handed_on_after_the_settle_time_while_the_finger_stays() {
        let got = contacts("stay", 30, |c| {
            assert_eq!(c.touch(&image()).unwrap().0, protocol::Status::Taken);
            std::thread::sleep(Duration::from_millis(120));
            c.lift().unwrap();
        });
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0] >= 30, "contact {} ms", got[0]);
    }

    #[test]
    fn a_finger_lifted_before_the_settle_time_hands_the_image_on_with_its_short_contact() {
        let got = contacts("fast", 500, |c| {
            c.touch(&image()).unwrap();
            std::thread::sleep(Duration::from_millis(10));
            c.lift().unwrap();
        });
        assert_eq!(got.len(), 1, "{got:?}");
        assert!((1..500).contains(&got[0]), "contact {} ms", got[0]);
    }

    #[test]
    fn without_a_settle_time_the_image_goes_at_once_with_no_contact_time() {
        let got = contacts("none", 0, |c| {
            c.touch(&image()).unwrap();
        });
        assert_eq!(got, vec![0]);
    }

    #[test]
    fn an_empty_packet_is_answered_and_the_driver_stays_connected() {
        let got = contacts("empty", 0, |c| {
            assert_eq!(c.send_raw(&[]).unwrap().0, protocol::Status::Refused, "an empty packet is refused");
            assert_eq!(c.touch(&image()).unwrap().0, protocol::Status::Taken, "and the connection still works");
        });
        assert_eq!(got, vec![0]);
    }

    #[test]
    fn captures_beyond_the_sensor_limits_are_refused() {
        let got = contacts("limits", 0, |c| {
            let big = GrayImage::new(1024, 1024, 300, vec![128; 1024 * 1024]).unwrap();
            let (status, reason) = c.touch(&big).unwrap();
            assert_eq!(status, protocol::Status::Refused);
            assert!(reason.contains("larger than"), "{reason}");
            let dense = GrayImage::new(64, 64, 5000, vec![128; 64 * 64]).unwrap();
            let (status, reason) = c.touch(&dense).unwrap();
            assert_eq!(status, protocol::Status::Refused);
            assert!(reason.contains("dpi"), "{reason}");
            let fine = GrayImage::new(1000, 1000, 1000, vec![128; 1000 * 1000]).unwrap();
            assert_eq!(c.touch(&fine).unwrap().0, protocol::Status::Taken);
        });
        assert_eq!(got, vec![0]);
    }
}
