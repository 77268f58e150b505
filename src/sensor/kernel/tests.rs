//! The kernel sensor driven step by step, as the worker drives it, where the order of what one
//! `poll()` finds matters.

use super::double::{FakeKernel, Model};
use super::*;
use crate::sys::wait;

const FRAMES: &str = "/dev/fp_frames";
const SIDE: usize = 160;

fn open_sysfs(name: &str) -> (Box<dyn Sensor>, Arc<double::FakeDevice>, Arc<double::FakeDevice>) {
    let kernel = FakeKernel::new(name);
    let (_, irq) = kernel.fpc1020_sysfs("soc:fp_fpc1020");
    let frames = kernel.device(Path::new(FRAMES), Model::Frames);
    let text = format!(
        "[sensor]\nkind = \"fpc1020-sysfs\"\nframe_width = {SIDE}\nframe_height = {SIDE}\nframe_dpi = 500\n\
         frame_device = \"{FRAMES}\"\nwakelock = \"none\"\n"
    );
    let config = Config::from_toml(&text).unwrap();
    let sensor = open(&config, kernel).unwrap_or_else(|e| panic!("open: {e}"));
    (sensor, irq, frames)
}

/// One round of the worker: one `poll()`, then each ready descriptor in the order it was watched.
fn round(sensor: &mut Box<dyn Sensor>) -> Vec<SensorEvent> {
    let ready = wait(&sensor.watches(), Some(Duration::from_secs(2)));
    assert!(!ready.is_empty(), "nothing became ready");
    ready.iter().filter_map(|r| sensor.service(r, true).unwrap()).collect()
}

/// A frame whose every sample is `fill`.
fn frame(fill: u8) -> Vec<u8> {
    vec![fill; SIDE * SIDE]
}

/// A frame owed by a touch its operation gave up, there by the time the next touch's interrupt is
/// seen (both in one `poll()`), is not that touch's frame: the touch waits for its own.
#[test]
fn a_late_frame_found_with_the_next_interrupt_is_not_that_touchs() {
    let (mut sensor, irq, frames) = open_sysfs("late-frame-same-round");
    sensor.arm(true).unwrap();
    irq.touch(None);
    assert!(round(&mut sensor).is_empty(), "the frame has not come");
    // The operation ends (a cancel) while the frame is awaited; another one starts.
    sensor.arm(false).unwrap();
    irq.lift();
    sensor.arm(true).unwrap();
    // The cancelled touch's frame comes, and a new touch, before the worker wakes.
    frames.push_frame(frame(1));
    irq.touch(None);
    assert!(round(&mut sensor).is_empty(), "the late frame is not taken for the new touch");
    assert_eq!(frames.frames_waiting(), 0, "the late frame was read");
    frames.push_frame(frame(2));
    match round(&mut sensor).as_slice() {
        [SensorEvent::FingerDown { image, .. }] => assert!(image.pixels().iter().all(|&p| p == 2)),
        other => panic!("the new touch's frame, not {other:?}"),
    }
}

/// Only what is owed of a late frame is thrown away: a frame that comes after it is the next
/// touch's.
#[test]
fn only_the_late_frames_bytes_are_thrown_away() {
    let (mut sensor, irq, frames) = open_sysfs("late-frame-bytes");
    sensor.arm(true).unwrap();
    irq.touch(None);
    assert!(round(&mut sensor).is_empty());
    sensor.arm(false).unwrap();
    irq.lift();
    sensor.arm(true).unwrap();
    frames.push_frame(frame(1));
    frames.push_frame(frame(2));
    irq.touch(None);
    match round(&mut sensor).as_slice() {
        [SensorEvent::FingerDown { image, .. }] => assert!(image.pixels().iter().all(|&p| p == 2)),
        other => panic!("the second frame, not {other:?}"),
    }
}

/// A frame the driver sends while the finger stays (a second capture of the same touch) is that
/// finger's: once it lifts, the next touch reads only its own frame.
#[test]
fn frames_of_a_finger_that_stayed_are_not_the_next_touchs() {
    let (mut sensor, irq, frames) = open_sysfs("frames-while-held");
    sensor.arm(true).unwrap();
    irq.touch(None);
    frames.push_frame(frame(1));
    let mut events = Vec::new();
    while events.is_empty() {
        events = round(&mut sensor);
    }
    assert!(matches!(events.as_slice(), [SensorEvent::FingerDown { .. }]), "{events:?}");
    // The finger stays, and the driver sends another frame of it.
    frames.push_frame(frame(1));
    irq.lift();
    loop {
        std::thread::sleep(sensor.due_in().expect("the lift is checked on a timer"));
        if let Some(event) = sensor.settled().unwrap() {
            assert!(matches!(event, SensorEvent::FingerUp { .. }), "{event:?}");
            break;
        }
    }
    irq.touch(None);
    assert!(round(&mut sensor).is_empty(), "the new touch's frame has not come");
    frames.push_frame(frame(2));
    match round(&mut sensor).as_slice() {
        [SensorEvent::FingerDown { image, .. }] => assert!(image.pixels().iter().all(|&p| p == 2)),
        other => panic!("the new touch's frame, not {other:?}"),
    }
}
