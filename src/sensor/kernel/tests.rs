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

/// One round of the worker: one `poll()`, each ready descriptor in the order it was watched, then
/// what came due by time.
fn round(sensor: &mut Box<dyn Sensor>) -> Vec<SensorEvent> {
    let ready = wait(&sensor.watches(), Some(Duration::from_secs(2)));
    assert!(!ready.is_empty(), "nothing became ready");
    let mut events: Vec<SensorEvent> = ready.iter().filter_map(|r| sensor.service(r, true).unwrap()).collect();
    events.extend(sensor.settled().unwrap());
    events
}

/// A frame whose every sample is `fill`.
fn frame(fill: u8) -> Vec<u8> {
    vec![fill; SIDE * SIDE]
}

/// Waits out a finger's lift (checked on a timer).
fn lifted(sensor: &mut Box<dyn Sensor>) {
    loop {
        std::thread::sleep(sensor.due_in().expect("the lift is checked on a timer"));
        if let Some(event) = sensor.settled().unwrap() {
            assert!(matches!(event, SensorEvent::FingerUp { .. }), "{event:?}");
            return;
        }
    }
}

/// The next touch's own frame: `fill` everywhere.
fn takes_frame(sensor: &mut Box<dyn Sensor>, irq: &double::FakeDevice, frames: &double::FakeDevice, fill: u8) {
    irq.touch(None);
    assert!(round(sensor).is_empty(), "the touch's frame has not come");
    frames.push_frame(frame(fill));
    took_frame(&round(sensor), fill);
}

/// The events of a round are the touch's start with its own frame: `fill` everywhere.
fn took_frame(events: &[SensorEvent], fill: u8) {
    match events {
        [SensorEvent::FingerDown { image, .. }] => assert!(image.pixels().iter().all(|&p| p == fill)),
        other => panic!("the touch's own frame, not {other:?}"),
    }
}

/// A touch whose frame has not come when its operation ends (a cancel): the frame is given up.
/// Returns when.
fn cancelled_touch(sensor: &mut Box<dyn Sensor>, irq: &double::FakeDevice) -> Instant {
    sensor.arm(true).unwrap();
    irq.touch(None);
    assert!(round(sensor).is_empty(), "the frame has not come");
    sensor.arm(false).unwrap();
    let given_up = Instant::now();
    irq.lift();
    given_up
}

/// No touch that starts within a second after a frame was given up is taken: that frame, there
/// by the time the touch's interrupt is seen (both in one `poll()`), or coming while the touch
/// waits, could be taken for the touch's. The window holds for every touch in it.
#[test]
fn no_touch_is_taken_while_a_given_up_frame_may_still_come() {
    let (mut sensor, irq, frames) = open_sysfs("late-frame-same-round");
    let given_up = cancelled_touch(&mut sensor, &irq);
    sensor.arm(true).unwrap();
    // The cancelled touch's frame comes, and a new touch, before the worker wakes.
    frames.push_frame(frame(1));
    irq.touch(None);
    assert!(matches!(round(&mut sensor).as_slice(), [SensorEvent::TouchLost]), "try again");
    irq.lift();
    lifted(&mut sensor);
    assert_eq!(frames.frames_waiting(), 0, "the late frame is thrown away at the lift");
    irq.touch(None);
    assert!(matches!(round(&mut sensor).as_slice(), [SensorEvent::TouchLost]), "again within the second");
    irq.lift();
    lifted(&mut sensor);
    std::thread::sleep((given_up + LATE_FRAME_GRACE).saturating_duration_since(Instant::now()));
    takes_frame(&mut sensor, &irq, &frames, 2);
}

/// A frame that comes while no finger is on the sensor (late, or of a tap too quick to be seen,
/// or there when the operation starts) is thrown away as it comes.
#[test]
fn a_frame_with_no_finger_on_the_sensor_is_thrown_away() {
    let (mut sensor, irq, frames) = open_sysfs("frame-no-finger");
    frames.push_frame(frame(1));
    sensor.arm(true).unwrap();
    assert!(round(&mut sensor).is_empty());
    assert_eq!(frames.frames_waiting(), 0, "the frame was read and thrown away");
    frames.push_frame(frame(3));
    assert!(round(&mut sensor).is_empty());
    assert_eq!(frames.frames_waiting(), 0);
    takes_frame(&mut sensor, &irq, &frames, 2);
}

/// A frame that comes with a finger on the sensor before its interrupt is seen (a driver may
/// notify after it captures) is that touch's.
#[test]
fn a_frame_before_its_interrupt_is_seen_is_the_touchs() {
    let (mut sensor, irq, frames) = open_sysfs("frame-first");
    sensor.arm(true).unwrap();
    irq.touch(None);
    frames.push_frame(frame(4));
    // Only the frame node is looked at: as if its wake came first.
    let watches = sensor.watches();
    assert_eq!(watches.len(), 2, "the interrupt and the frame node");
    let ready = wait(&watches[1..], Some(Duration::from_secs(2)));
    drop(watches);
    took_frame(&ready.iter().filter_map(|r| sensor.service(r, true).unwrap()).collect::<Vec<_>>(), 4);
}

/// A frame the driver sends while the finger stays (a second capture of the same touch) is that
/// finger's: once it lifts, the next touch reads only its own frame.
#[test]
fn frames_of_a_finger_that_stayed_are_not_the_next_touchs() {
    let (mut sensor, irq, frames) = open_sysfs("frames-while-held");
    sensor.arm(true).unwrap();
    takes_frame(&mut sensor, &irq, &frames, 1);
    // The finger stays, and the driver sends another frame of it.
    frames.push_frame(frame(1));
    irq.lift();
    lifted(&mut sensor);
    takes_frame(&mut sensor, &irq, &frames, 2);
}

/// A frame there when an operation starts, with a finger on the sensor, is that finger's: it woke
/// the phone and stays (touch-to-wake), and its touch is judged on it.
#[test]
fn a_waking_fingers_frame_is_its_touchs() {
    let (mut sensor, irq, frames) = open_sysfs("wake-frame");
    irq.touch(None);
    frames.push_frame(frame(5));
    sensor.arm(true).unwrap();
    let mut events = Vec::new();
    while events.is_empty() {
        events = round(&mut sensor);
    }
    took_frame(&events, 5);
}

/// A driver's own device node (the OnePlus 2 `/dev/fpc1020`, whose `read()` starts a capture) is
/// not read when an operation starts or ends with no touch.
#[test]
fn a_drivers_own_node_is_read_only_for_a_touch() {
    let kernel = FakeKernel::new("own-node-reads");
    let _dev = kernel.device(Path::new("/dev/fpc1020"), Model::Blocking);
    let config = Config::from_toml(&format!(
        "[sensor]\nkind = \"blocking-ioctl\"\nframe_width = {SIDE}\nframe_height = {SIDE}\nframe_dpi = 500\nwakelock = \"none\"\n"
    ))
    .unwrap();
    let mut sensor = open(&config, kernel.clone()).unwrap_or_else(|e| panic!("open: {e}"));
    for _ in 0..3 {
        sensor.arm(true).unwrap();
        sensor.arm(false).unwrap();
    }
    let reads = kernel.calls().iter().filter(|c| matches!(c, double::Call::Read(_))).count();
    assert_eq!(reads, 0, "reads of the device node with no touch");
}

/// A touch whose frame has not come, and a frame node that then says readable with nothing to
/// read; returns once the worker's round has read nothing from it, and when the node woke.
fn a_node_readable_with_nothing(name: &str) -> (Box<dyn Sensor>, Arc<double::FakeDevice>, Instant) {
    let (mut sensor, irq, frames) = open_sysfs(name);
    sensor.arm(true).unwrap();
    irq.touch(None);
    assert!(round(&mut sensor).is_empty(), "the frame has not come");
    frames.readable_with_nothing();
    let woke = Instant::now();
    assert!(round(&mut sensor).is_empty(), "nothing to read");
    (sensor, frames, woke)
}

/// A frame node that polls readable with nothing to read (a driver whose `poll` says readable
/// while its capture runs) is left unwatched for a few milliseconds at a time while the touch's
/// frame is awaited, so the worker does not spin until the frame comes; a frame that comes during
/// a rest is taken at its end.
#[test]
fn a_frame_node_readable_with_nothing_rests_while_the_frame_is_awaited() {
    let (mut sensor, frames, woke) = a_node_readable_with_nothing("readable-with-nothing");
    let resting = sensor.watches().is_empty();
    // (A machine too slow to ask within the rest finds it over already.)
    assert!(
        resting || woke.elapsed() >= frame::NODE_REST,
        "a node that woke with nothing is not watched again at once"
    );
    let due = sensor.due_in().expect("a look again is due");
    assert!(due <= Duration::from_millis(5), "looked at again within 5 ms, not {due:?}");
    frames.push_frame(frame(7));
    std::thread::sleep(due);
    // Asked once the rest is over (the worker may be late to ask), the look is due at once, not at
    // the frame's deadline half a second on.
    assert_eq!(sensor.due_in(), Some(Duration::ZERO), "the look again is due");
    assert!(sensor.settled().unwrap().is_none(), "the frame is still awaited");
    assert_eq!(sensor.watches().len(), 1, "watched again after the rest");
    took_frame(&round(&mut sensor), 7);
}

/// A frame that comes while the node rests, with the rest running past the frame's deadline, is
/// still taken at the deadline: the node is read once more before the touch is given up.
#[test]
fn a_frame_that_came_during_a_rest_is_taken_at_the_deadline() {
    let (mut sensor, frames, _) = a_node_readable_with_nothing("frame-at-the-deadline");
    frames.push_frame(frame(6));
    // Nothing looks at the node until the deadline has passed.
    std::thread::sleep(Duration::from_millis(550));
    took_frame(&sensor.settled().unwrap().into_iter().collect::<Vec<_>>(), 6);
}

/// A touch whose interrupt is seen in the same `poll()` as the first part of its frame reads that
/// part when it starts; the frame node's own readiness in that `poll()` then finds nothing, which
/// is no sign of a node readable with nothing: the rest of the frame is waited for as usual.
#[test]
fn a_frame_begun_in_the_touchs_own_round_is_waited_for_without_rest() {
    let (mut sensor, irq, frames) = open_sysfs("frame-begun-same-round");
    sensor.arm(true).unwrap();
    let whole = frame(5);
    frames.push_frame(whole[..SIDE * SIDE / 2].to_vec());
    irq.touch(None);
    assert!(round(&mut sensor).is_empty(), "half the frame");
    assert_eq!(sensor.watches().len(), 1, "the frame node is watched for the rest of the frame");
    frames.push_frame(whole[SIDE * SIDE / 2..].to_vec());
    took_frame(&round(&mut sensor), 5);
}

/// The same node, while the sensor waits for a finger, is not watched again until the next
/// operation: the interrupt alone starts touches meanwhile.
#[test]
fn a_frame_node_readable_with_nothing_is_not_watched_until_the_next_operation() {
    let (mut sensor, irq, frames) = open_sysfs("idle-readable-with-nothing");
    sensor.arm(true).unwrap();
    assert_eq!(sensor.watches().len(), 2, "the interrupt and the frame node");
    frames.readable_with_nothing();
    assert!(round(&mut sensor).is_empty(), "nothing to read, no finger");
    assert_eq!(sensor.watches().len(), 1, "the interrupt alone");
    takes_frame(&mut sensor, &irq, &frames, 9);
    irq.lift();
    lifted(&mut sensor);
    sensor.arm(false).unwrap();
    sensor.arm(true).unwrap();
    assert_eq!(sensor.watches().len(), 2, "the frame node watched again from the next operation");
}
