//! One frame read from a driver that hands images to the normal world: `width × height` samples of
//! `bits` bits (8: one byte each; 9–16: two bytes, little-endian), row-major, in one or more
//! `read()`s. The frame then goes through the same capture checks as any other image.

use super::node::Node;
use crate::config::Config;
use crate::image::GrayImage;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a frame may take to arrive after the interrupt before the touch is dropped.
const FRAME_TIMEOUT: Duration = Duration::from_millis(500);

/// How long a frame node that woke the worker with nothing to read is left unwatched before it is
/// watched again: a driver whose node stays readable while its capture runs would otherwise keep
/// the worker spinning until the frame comes.
pub(super) const NODE_REST: Duration = Duration::from_millis(5);

/// The frame format (`sensor.frame_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FrameSpec {
    pub width: u32,
    pub height: u32,
    pub bits: u32,
    pub dpi: u32,
    /// The node frames come from; `None`: the kind's own device node.
    pub device: Option<PathBuf>,
}

impl FrameSpec {
    /// `None` when `sensor.frame_width` is 0: the trustlet captures. The keys' ranges were checked
    /// with the configuration.
    pub fn from_config(config: &Config) -> Result<Option<FrameSpec>, String> {
        let s = &config.sensor;
        if s.frame_width == 0 {
            return Ok(None);
        }
        Ok(Some(FrameSpec {
            width: s.frame_width,
            height: s.frame_height,
            bits: s.frame_bits,
            dpi: s.frame_dpi,
            device: s.frame_device.clone(),
        }))
    }

    pub fn bytes(&self) -> usize {
        let per_sample = if self.bits > 8 { 2 } else { 1 };
        (self.width * self.height) as usize * per_sample
    }
}

pub(super) enum FrameError {
    /// The driver is gone: the sensor fails.
    Gone(io::Error),
    /// This frame is unusable: the touch is dropped.
    Bad(String),
}

/// A frame being read: the worker takes what the node has whenever `poll()` finds it readable,
/// so that a cancel never waits behind a slow frame.
pub(super) struct PendingFrame {
    raw: Vec<u8>,
    got: usize,
    /// The node said end-of-file: nothing more of this frame will come.
    ended: bool,
    pub deadline: Instant,
    /// Until when the node is not watched, after a wake with nothing to read.
    rest_until: Option<Instant>,
    /// Whether the node has rested at all for this frame (it is told once per touch).
    rested: bool,
    /// Made in the worker's current round: a wake of the node in that round may be the one whose
    /// data the touch's start already read, so it is no sign of a node readable with nothing.
    fresh: bool,
}

impl PendingFrame {
    pub fn new(spec: &FrameSpec) -> PendingFrame {
        PendingFrame {
            raw: vec![0; spec.bytes()],
            got: 0,
            ended: false,
            deadline: Instant::now() + FRAME_TIMEOUT,
            rest_until: None,
            rested: false,
            fresh: true,
        }
    }

    /// Reads what `node` has now: the image once the frame is whole, `None` while it is not.
    pub fn pull(&mut self, node: &dyn Node, spec: &FrameSpec) -> Result<Option<GrayImage>, FrameError> {
        while self.got < self.raw.len() {
            match node.read(&mut self.raw[self.got..]) {
                Ok(0) => {
                    self.ended = true;
                    return Err(FrameError::Bad(format!("short frame: {} of {} bytes", self.got, self.raw.len())));
                }
                Ok(n) => self.got += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FrameError::Gone(e)),
            }
        }
        let pixels = to_eight_bits(&self.raw, spec.bits);
        GrayImage::new(spec.width, spec.height, spec.dpi, pixels).map(Some).map_err(|e| FrameError::Bad(e.to_string()))
    }

    /// The node woke the worker and had nothing of the frame: it is left unwatched for a moment
    /// (not in the round the frame's wait began). Returns whether this is the frame's first rest.
    pub fn woke_with_nothing(&mut self) -> bool {
        if self.fresh {
            return false;
        }
        self.rest_until = Some(Instant::now() + NODE_REST);
        !std::mem::replace(&mut self.rested, true)
    }

    /// Whether the node is left unwatched now.
    pub fn resting(&self) -> bool {
        self.rest_until.is_some_and(|until| Instant::now() < until)
    }

    /// When the worker must look again without any wake: at the end of a rest (at once if it has
    /// ended since the node was last left out of a `poll()`), or at the deadline.
    pub fn next_look(&self) -> Instant {
        self.rest_until.map_or(self.deadline, |until| until.min(self.deadline))
    }

    /// The worker's round is over: a rest that has ended is forgotten.
    pub fn round_over(&mut self) {
        self.fresh = false;
        if !self.resting() {
            self.rest_until = None;
        }
    }

    /// How many bytes of the frame have not come.
    pub fn missing(&self) -> usize {
        self.raw.len() - self.got
    }

    /// How many bytes of the frame the driver is still handing over: what has not come of a frame
    /// that has started to and has not ended (0 otherwise).
    pub fn in_transit(&self) -> usize {
        if self.got > 0 && !self.ended { self.missing() } else { 0 }
    }

    /// Why the frame is given up at its deadline.
    pub fn late(&self) -> String {
        format!("no whole frame within {} ms ({} of {} bytes)", FRAME_TIMEOUT.as_millis(), self.got, self.raw.len())
    }
}

/// Samples of `bits` bits as bytes: the top eight significant bits of each.
fn to_eight_bits(raw: &[u8], bits: u32) -> Vec<u8> {
    if bits <= 8 {
        return raw.to_vec();
    }
    let shift = bits - 8;
    raw.chunks_exact(2).map(|s| (u16::from_le_bytes([s[0], s[1]]) >> shift).min(255) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_samples_keep_their_top_eight_bits() {
        // 12-bit samples 0x0FFF, 0x0800, 0x0010 become 0xFF, 0x80, 0x01.
        assert_eq!(to_eight_bits(&[0xFF, 0x0F, 0x00, 0x08, 0x10, 0x00], 12), vec![0xFF, 0x80, 0x01]);
        // A sample wider than its declared bits saturates instead of wrapping.
        assert_eq!(to_eight_bits(&[0xFF, 0xFF], 10), vec![0xFF]);
        assert_eq!(to_eight_bits(&[1, 2, 3], 8), vec![1, 2, 3]);
    }
}
