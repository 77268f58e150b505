//! The driver's side of the virtual sensor: what tools and tests use to touch and lift.

use super::protocol::{self, Status};
use super::socket::SeqpacketSocket;
use crate::image::GrayImage;
use std::path::Path;

pub struct SensorClient {
    sock: SeqpacketSocket,
}

impl SensorClient {
    pub fn connect(path: &Path) -> Result<SensorClient, String> {
        Ok(SensorClient { sock: SeqpacketSocket::connect(path)? })
    }

    fn exchange(&self, packet: &[u8]) -> Result<(Status, String), String> {
        self.sock.send(packet).map_err(|e| format!("send to sensor: {e}"))?;
        let mut buf = vec![0u8; 4096];
        match self.sock.recv(&mut buf) {
            Ok(Some(n)) => protocol::parse_status(&buf[..n]).ok_or_else(|| "malformed status from sensor".to_string()),
            Ok(None) => Err("no answer from sensor".into()),
            Err(e) => Err(format!("sensor closed the connection: {e}")),
        }
    }

    /// Puts a finger carrying `image` on the sensor; returns the sensor's final status and reason.
    pub fn touch(&self, image: &GrayImage) -> Result<(Status, String), String> {
        let packets = protocol::finger_down_packets(
            image.width() as u16,
            image.height() as u16,
            image.dpi().min(u16::MAX as u32) as u16,
            image.pixels(),
        );
        let mut last = (Status::Refused, "nothing sent".to_string());
        for p in packets {
            last = self.exchange(&p)?;
            if last.0 != Status::Continue {
                break;
            }
        }
        Ok(last)
    }

    /// Lifts the finger.
    pub fn lift(&self) -> Result<(Status, String), String> {
        self.exchange(&protocol::finger_up_packet())
    }

    /// Sends raw bytes as one packet (for protocol tests).
    pub fn send_raw(&self, packet: &[u8]) -> Result<(Status, String), String> {
        self.exchange(packet)
    }
}
