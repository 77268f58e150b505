//! The kernel sensor kinds, driven through the test double of the system (`sensor::kernel::double`):
//! the production worker, sensor and trustlet run unmodified down to the system call, and the
//! test's own thread fires the "interrupt". Request numbers are checked against `_IOR`/`_IOW`
//! computed from the drivers' headers (the numbers are in the comments of each kind's module).

use fphal::auth_token;
use fphal::codes::{Acquired, ErrorKind};
use fphal::config::Config;
use fphal::error::HalError;
use fphal::hal::{Device, Message};
use fphal::sensor::kernel::double::{Call, FakeDevice, FakeKernel, Model};
use fphal::sensor::kernel::ioc::{INT, ior, iow};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sony's `FPC_IOC_MAGIC` (fpc1145_platform.c) and the OnePlus 2 driver's `'K'` (fpc1020_ioctl.h).
const SONY: u32 = 0x1145;
const K: u32 = b'K' as u32;
const FRAMES: &str = "/dev/fp_frames";

struct Rig {
    kernel: Arc<FakeKernel>,
    dir: PathBuf,
    dev: Option<Device>,
    seen: Arc<Mutex<Vec<Message>>>,
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fphal-kernel-sensor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("group")).unwrap();
    dir
}

/// A configuration for `kind` with `sensor_keys`, keys in `dir`, one touch per enrollment.
fn config(dir: &Path, sensor_keys: &str) -> Config {
    let text = format!(
        "[sensor]\n{sensor_keys}\n[trustlet]\nkey_dir = \"{}\"\n[enroll]\nsamples = 1\n",
        dir.join("keys").display()
    );
    Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn frame(finger: u64, impression: u32) -> Vec<u8> {
    let touch = fphal_synth::Touch::nth(finger, impression, 160, 500);
    fphal_synth::impression(&fphal_synth::Master::grow(finger), &touch).pixels
}

const FRAME_KEYS: &str = "frame_width = 160\nframe_height = 160\nframe_dpi = 500\n";

impl Rig {
    fn open(name: &str, kernel: Arc<FakeKernel>, sensor_keys: &str) -> Rig {
        // With FPHAL_LOG=debug, the library's log lines go to stderr.
        if std::env::var_os("FPHAL_LOG").is_some() {
            fphal::logging::init(None);
        }
        let dir = scratch(name);
        let cfg = config(&dir, sensor_keys);
        let dev = Device::open_on(&cfg, kernel.clone()).unwrap_or_else(|e| panic!("open: {e}"));
        let seen: Arc<Mutex<Vec<Message>>> = Arc::default();
        let sink = Arc::clone(&seen);
        dev.set_sink(Some(Arc::new(move |m: &Message| sink.lock().push(m.clone()))));
        dev.set_active_group(0, dir.join("group").to_str().unwrap()).unwrap();
        Rig { kernel, dir, dev: Some(dev), seen }
    }

    fn dev(&self) -> &Device {
        self.dev.as_ref().unwrap()
    }

    fn enroll(&self) {
        let challenge = self.dev().pre_enroll().unwrap();
        let key = std::fs::read(self.dir.join("keys/auth_token.key")).unwrap();
        self.dev().enroll(auth_token::mint_password_token(&key, challenge, 1), 0, 60).unwrap();
    }

    /// Waits until a message matching `want` arrives (up to 20 s); returns everything seen.
    fn until(&self, want: impl Fn(&Message) -> bool) -> Vec<Message> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self.seen.lock().clone();
            if seen.iter().any(&want) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out; messages so far: {seen:?}; the sensor's calls: {:?}",
                self.kernel.calls()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn take(&self) -> Vec<Message> {
        std::mem::take(&mut *self.seen.lock())
    }

    /// Returns once the worker has finished the step it was in (a query is answered after it), so
    /// that what the test does next meets the sensor disarmed or armed, not half-way.
    fn sync(&self) {
        self.dev().worker_load().unwrap();
    }

    fn enrolled(&self) -> u32 {
        let seen = self.until(|m| matches!(m, Message::Enrolling { remaining: 0, .. }));
        assert!(seen.contains(&Message::Acquired(Acquired::Good)), "{seen:?}");
        self.sync();
        self.take();
        match seen.iter().find(|m| matches!(m, Message::Enrolling { .. })) {
            Some(Message::Enrolling { fid, .. }) => *fid,
            _ => unreachable!(),
        }
    }

    /// Waits for the touch to be answered with one "try again" and nothing else; returns when.
    fn tried_again(&self, why: &str) -> Instant {
        let seen = self.until(|m| matches!(m, Message::Acquired(_)));
        let when = Instant::now();
        assert_eq!(seen, vec![Message::Acquired(Acquired::Insufficient)], "{why}");
        self.sync();
        self.take();
        when
    }

    fn authenticated(&self) -> u32 {
        let seen = self.until(|m| matches!(m, Message::Authenticated { .. }));
        self.sync();
        self.take();
        match seen.iter().find(|m| matches!(m, Message::Authenticated { .. })) {
            Some(Message::Authenticated { fid, .. }) => *fid,
            _ => unreachable!(),
        }
    }

    /// Cancels and checks that exactly one `CANCELED` follows, and nothing after it.
    fn cancel_once(&self) {
        self.dev().cancel().unwrap();
        self.until(|m| *m == Message::Error(ErrorKind::Canceled));
        std::thread::sleep(Duration::from_millis(150));
        self.sync();
        let seen = self.take();
        let canceled = seen.iter().filter(|m| **m == Message::Error(ErrorKind::Canceled)).count();
        assert_eq!(canceled, 1, "{seen:?}");
        assert_eq!(seen.last(), Some(&Message::Error(ErrorKind::Canceled)), "{seen:?}");
    }

    fn ioctls(&self) -> Vec<(u32, Vec<u8>)> {
        self.kernel
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Ioctl { request, arg, .. } => Some((request, arg)),
                _ => None,
            })
            .collect()
    }

    fn value_ioctls(&self) -> Vec<(u32, u64)> {
        self.kernel
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::IoctlValue { request, value, .. } => Some((request, value)),
                _ => None,
            })
            .collect()
    }

    fn writes(&self, path: &str) -> Vec<String> {
        self.kernel
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Write(p, v) if p == Path::new(path) => Some(String::from_utf8(v).unwrap()),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        drop(self.dev.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `cond` holds (up to 10 s).
fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A finger lands on `device`'s sensor and its frame comes after the interrupt, as a driver sends
/// it (a frame that comes with no finger on the sensor belongs to no touch and is thrown away):
/// once the worker has read the frame node since the touch.
fn touch_with_frame(rig: &Rig, device: &FakeDevice, frames: &FakeDevice, frame: Vec<u8>) {
    let reads = || rig.kernel.calls().iter().filter(|c| matches!(c, Call::Read(_))).count();
    let before = reads();
    device.touch(None);
    wait_for("the frame read to start", || reads() > before);
    frames.push_frame(frame);
}

/// The finger of a running operation leaves, and the worker has looked at the line since (the lift
/// is checked on a timer), so that the next touch is a touch of its own.
fn lift_seen(rig: &Rig, device: &FakeDevice) {
    let checks = || rig.kernel.calls().iter().filter(|c| matches!(c, Call::ReadAt(_) | Call::Ioctl { .. })).count();
    let before = checks();
    device.lift();
    wait_for("the lift to be seen", || checks() > before);
    // That check may have looked at the line just before the lift: the next one, 30 ms on, saw it.
    std::thread::sleep(Duration::from_millis(50));
}

/// Sleeps until a second after `given_up`, when touches are taken again.
fn after_the_window(given_up: Instant) {
    std::thread::sleep((given_up + Duration::from_secs(1)).saturating_duration_since(Instant::now()));
}

/// Enrolls the owner's finger (synthetic finger 3) with one touch on `irq`; the finger lifts.
fn enroll_owner(rig: &Rig, irq: &FakeDevice, frames: &FakeDevice) -> u32 {
    rig.enroll();
    touch_with_frame(rig, irq, frames, frame(3, 1));
    let owner = rig.enrolled();
    irq.lift();
    owner
}

fn sysfs_rig(name: &str, extra: &str) -> (Rig, Arc<FakeDevice>, Arc<FakeDevice>) {
    let kernel = FakeKernel::new(name);
    let (_, irq) = kernel.fpc1020_sysfs("soc:fp_fpc1020");
    let frames = kernel.device(Path::new(FRAMES), Model::Frames);
    let keys =
        format!("kind = \"fpc1020-sysfs\"\n{FRAME_KEYS}frame_device = \"{FRAMES}\"\nwakelock = \"sysfs\"\n{extra}");
    (Rig::open(name, kernel, &keys), irq, frames)
}

#[test]
fn fpc1020_sysfs_finger_down_capture_and_result() {
    let (rig, irq, frames) = sysfs_rig("sysfs-touch", "");
    let dir = "/sys/bus/platform/devices/soc:fp_fpc1020";
    // Found by name, reset, powered, and the irq attribute read once to set the notify baseline.
    assert_eq!(rig.writes(&format!("{dir}/hw_reset")), ["reset"]);
    assert_eq!(rig.writes(&format!("{dir}/device_prepare")), ["enable"]);
    assert!(rig.kernel.calls().contains(&Call::ReadAt(PathBuf::from(format!("{dir}/irq")))));

    rig.enroll();
    touch_with_frame(&rig, &irq, &frames, frame(3, 1));
    let fid = rig.enrolled();
    assert_ne!(fid, 0);
    // A wakelock from the interrupt to the result, with the kernel's own timeout as a safety net.
    assert_eq!(rig.writes("/sys/power/wake_lock"), ["fphal 1000000000"]);
    assert_eq!(rig.writes("/sys/power/wake_unlock"), ["fphal"]);

    irq.lift();
    rig.dev().authenticate(7, 0).unwrap();
    touch_with_frame(&rig, &irq, &frames, frame(3, 1));
    assert_eq!(rig.authenticated(), fid);
    irq.lift();
    rig.dev().authenticate(8, 0).unwrap();
    touch_with_frame(&rig, &irq, &frames, frame(11, 1));
    assert_eq!(rig.authenticated(), 0, "another finger does not match");
    rig.cancel_once();
}

#[test]
fn misc_ioctl_sends_sonys_request_numbers() {
    let kernel = FakeKernel::new("misc");
    let dev = kernel.device(Path::new("/dev/fingerprint"), Model::Misc);
    let frames = kernel.device(Path::new(FRAMES), Model::Frames);
    let keys = format!(
        "kind = \"misc-ioctl\"\n{FRAME_KEYS}frame_device = \"{FRAMES}\"\npower = \"operation\"\nwakelock = \"driver\"\n"
    );
    let rig = Rig::open("misc", kernel, &keys);
    let int = |v: i32| v.to_ne_bytes().to_vec();
    // FPC_IOCRHWTYPE _IOR(0x1145, 0x85, int) asked at open; FPC_IOCWRESET _IOW(0x1145, 0x03, int).
    assert_eq!(rig.ioctls()[0].0, ior(SONY, 0x85, INT));
    assert_eq!(rig.value_ioctls(), [(iow(SONY, 0x03, INT), 0)]);
    rig.kernel.clear_calls();

    rig.enroll();
    // Power follows the operation: FPC_IOCWPREPARE _IOW(0x1145, 0x01, int), by value.
    wait_for("power on", || rig.value_ioctls() == [(iow(SONY, 0x01, INT), 1)]);
    touch_with_frame(&rig, &dev, &frames, frame(5, 1));
    rig.enrolled();
    let ioctls = rig.ioctls();
    // FPC_IOCRIRQ _IOR(0x1145, 0x83, int) reads the level after the wake; FPC_IOCWAWAKE
    // _IOW(0x1145, 0x04, int) passes struct { int awake; unsigned timeout_ms; }, capped at 400 ms.
    assert_eq!(ioctls[0].0, ior(SONY, 0x83, INT));
    let awake: Vec<&Vec<u8>> = ioctls.iter().filter(|(r, _)| *r == iow(SONY, 0x04, INT)).map(|(_, a)| a).collect();
    assert_eq!(awake, [&[int(1), 400u32.to_ne_bytes().to_vec()].concat(), &vec![0u8; 8]]);
    // The enrollment is over: power goes off.
    wait_for("power off", || rig.value_ioctls().last() == Some(&(iow(SONY, 0x01, INT), 0)));
}

#[test]
fn blocking_ioctl_waits_in_a_helper_thread_and_cancel_aborts_it() {
    let kernel = FakeKernel::new("blocking");
    let dev = kernel.device(Path::new("/dev/fpc1020"), Model::Blocking);
    let keys = format!("kind = \"blocking-ioctl\"\n{FRAME_KEYS}");
    let rig = Rig::open("blocking", kernel, &keys);
    // FPC_HW_RESET _IOW('K', 0, int), called without an argument.
    assert_eq!(rig.value_ioctls(), [(iow(K, 0, INT), 0)]);

    rig.dev().authenticate(1, 0).unwrap();
    // FPC_GET_INTERRUPT _IOR('K', 1, int): the helper sleeps in it.
    wait_for("the helper to wait", || rig.ioctls().iter().any(|(r, _)| *r == ior(K, 1, INT)));
    rig.cancel_once();
    // FPC_ABORT _IOR('K', 6, int) woke it; then one abort-and-ask round, which returns at once,
    // leaves the driver's wakelock dropped: the helper is not in the driver afterwards.
    let requests = || rig.ioctls().into_iter().map(|(r, _)| r).collect::<Vec<u32>>();
    assert!(requests().contains(&ior(K, 6, INT)), "{:?}", requests());
    wait_for("the release round", || requests().ends_with(&[ior(K, 6, INT), ior(K, 1, INT)]));

    // Frames come from the device node itself (the driver's read fop).
    rig.enroll();
    dev.touch(Some(frame(9, 1)));
    let fid = rig.enrolled();
    dev.lift();
    rig.dev().authenticate(2, 0).unwrap();
    wait_for("the helper to wait again", || rig.ioctls().iter().filter(|(r, _)| *r == ior(K, 1, INT)).count() >= 3);
    dev.touch(Some(frame(9, 1)));
    assert_eq!(rig.authenticated(), fid);
}

#[test]
fn cancel_while_waiting_is_one_canceled_for_every_kind() {
    for kind in ["fpc1020-sysfs", "misc-ioctl", "blocking-ioctl"] {
        let kernel = FakeKernel::new(&format!("cancel-{kind}"));
        kernel.fpc1020_sysfs("soc:fpc1020");
        kernel.device(Path::new("/dev/fingerprint"), Model::Misc);
        kernel.device(Path::new("/dev/fpc1020"), Model::Blocking);
        kernel.device(Path::new(FRAMES), Model::Frames);
        let keys = format!("kind = \"{kind}\"\n{FRAME_KEYS}frame_device = \"{FRAMES}\"\n");
        let rig = Rig::open(&format!("cancel-{kind}"), kernel, &keys);
        rig.dev().authenticate(1, 0).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        rig.cancel_once();
        // Twice in a row, and a cancel with nothing running, each answered once.
        rig.dev().authenticate(2, 0).unwrap();
        rig.cancel_once();
        rig.cancel_once();
    }
}

/// A large frame (384 px at 500 dpi), so that the trustlet is still working on it when the cancel
/// comes.
fn big_frame(finger: u64, impression: u32) -> Vec<u8> {
    let touch = fphal_synth::Touch::nth(finger, impression, 384, 500);
    fphal_synth::impression(&fphal_synth::Master::grow(finger), &touch).pixels
}

#[test]
fn cancel_during_a_capture_ends_the_touch_with_one_canceled() {
    let kernel = FakeKernel::new("capture-cancel");
    let (_, irq) = kernel.fpc1020_sysfs("soc:fp_fpc1020");
    let frames = kernel.device(Path::new(FRAMES), Model::Frames);
    let keys =
        format!("kind = \"fpc1020-sysfs\"\nframe_width = 384\nframe_height = 384\nframe_device = \"{FRAMES}\"\n");
    let rig = Rig::open("capture-cancel", kernel, &keys);
    let enrolled = big_frame(1, 1);
    rig.enroll();
    touch_with_frame(&rig, &irq, &frames, enrolled.clone());
    let fid = rig.enrolled();
    irq.lift();

    // The frame has not arrived when the cancel comes: the worker waits in its poll, not in a read.
    rig.dev().authenticate(3, 0).unwrap();
    rig.sync();
    rig.kernel.clear_calls();
    irq.touch(None);
    wait_for("the frame read to start", || rig.kernel.calls().iter().any(|c| matches!(c, Call::Read(_))));
    rig.cancel_once();
    let given_up = Instant::now();
    irq.lift();
    // The driver answers the cancelled touch late, while no operation runs: the next operation
    // throws that frame away (no finger is on the sensor), and takes its touches from a second
    // after the cancel.
    frames.push_frame(big_frame(2, 1));

    // The frame is there and the trustlet works on it when the cancel comes: the touch ends
    // without a result of its own (or, if the cancel came after it, with its result first).
    let mut cut_short = 0;
    for op in 4..8 {
        rig.dev().authenticate(op, 0).unwrap();
        wait_for("the late frame to be thrown away", || frames.frames_waiting() == 0);
        after_the_window(given_up);
        rig.sync();
        touch_with_frame(&rig, &irq, &frames, enrolled.clone());
        wait_for("the frame to be taken", || frames.frames_waiting() == 0);
        rig.dev().cancel().unwrap();
        let seen = rig.until(|m| *m == Message::Error(ErrorKind::Canceled));
        std::thread::sleep(Duration::from_millis(100));
        rig.sync();
        let after = rig.take();
        assert_eq!(after.iter().filter(|m| **m == Message::Error(ErrorKind::Canceled)).count(), 1, "{after:?}");
        assert_eq!(after.last(), Some(&Message::Error(ErrorKind::Canceled)), "{after:?}");
        if !seen.iter().any(|m| matches!(m, Message::Authenticated { .. })) {
            cut_short += 1;
        }
        irq.lift();
    }
    assert!(cut_short > 0, "no cancel landed while the trustlet worked on the touch");
    // And the touch after them is whole.
    rig.dev().authenticate(9, 0).unwrap();
    rig.sync();
    touch_with_frame(&rig, &irq, &frames, enrolled);
    assert_eq!(rig.authenticated(), fid);
}

/// A frame that comes late keeps the worker asleep in its poll until it does.
#[test]
fn a_slow_frame_is_waited_for_without_spinning() {
    let (rig, irq, frames) = sysfs_rig("slow-frame", "");
    let (wakes, cpu, touched) = frame_awaited(&rig, &irq, || {});
    // The interrupt, and the query itself; no timer while the frame is awaited.
    assert!(wakes <= 4, "{wakes} wakes while the frame was late");
    assert!(cpu < Duration::from_millis(50), "{cpu:?} of worker CPU while waiting");
    frame_comes_at_last(&rig, &frames, touched);
}

/// While enrollment waits, a touch's interrupt comes and `meanwhile` runs; 150 ms pass, well inside
/// the 500 ms the worker waits for a frame (so that a loaded machine still pushes the frame before
/// the worker gives it up). The worker's wakes and CPU time over them, and when the touch came.
fn frame_awaited(rig: &Rig, irq: &FakeDevice, meanwhile: impl FnOnce()) -> (u64, Duration, Instant) {
    rig.enroll();
    rig.sync();
    let (wakes0, cpu0) = rig.dev().worker_load().unwrap();
    irq.touch(None);
    let touched = Instant::now();
    meanwhile();
    std::thread::sleep(Duration::from_millis(150));
    let (wakes1, cpu1) = rig.dev().worker_load().unwrap();
    (wakes1 - wakes0, cpu1 - cpu0, touched)
}

/// The awaited frame of the touch made at `touched` comes: it enrolls. Only a machine so loaded
/// that the test slept well past the worker's 500 ms may see the touch given up instead.
fn frame_comes_at_last(rig: &Rig, frames: &FakeDevice, touched: Instant) {
    frames.push_frame(frame(3, 1));
    let in_time = touched.elapsed() < Duration::from_millis(250);
    let seen = rig.until(|m| matches!(m, Message::Enrolling { .. } | Message::Acquired(Acquired::Insufficient)));
    if in_time || !seen.contains(&Message::Acquired(Acquired::Insufficient)) {
        assert!(!seen.contains(&Message::Acquired(Acquired::Insufficient)), "a frame in time was taken: {seen:?}");
        rig.enrolled();
    }
}

/// A frame node that polls readable with nothing to read while the frame is awaited (a driver
/// whose `poll` says readable while its capture runs) does not keep the worker spinning.
#[test]
fn a_frame_node_readable_with_nothing_is_waited_on_without_spinning() {
    let (rig, irq, frames) = sysfs_rig("readable-with-nothing", "");
    let (wakes, _, touched) = frame_awaited(&rig, &irq, || frames.readable_with_nothing());
    // Two wakes every 5 ms (the rest's end, then the node) is about 60; a spinning worker wakes
    // tens of thousands of times.
    assert!(wakes <= 300, "{wakes} wakes while the node said readable with nothing");
    frame_comes_at_last(&rig, &frames, touched);
}

/// A touch whose frame never comes is lost with "try again" (ACQUIRED_INSUFFICIENT) once the
/// worker gives the frame up, and the operation goes on. Touches within a second after that are
/// not taken either (the given-up frame could still come and be taken for theirs); the first
/// touch after that second enrolls.
#[test]
fn a_touch_whose_frame_never_comes_tells_the_person_to_try_again() {
    let (rig, irq, frames) = sysfs_rig("lost-frame", "");
    rig.enroll();
    rig.sync();
    irq.touch(None);
    let given_up = rig.tried_again("one try-again, nothing else");
    lift_seen(&rig, &irq);
    // This touch's frame comes, but the given-up one might have come instead.
    irq.touch(None);
    frames.push_frame(frame(3, 1));
    rig.tried_again("not taken while the frame may come");
    lift_seen(&rig, &irq);
    assert_eq!(frames.frames_waiting(), 0, "thrown away at the lift");
    after_the_window(given_up);
    touch_with_frame(&rig, &irq, &frames, frame(3, 1));
    rig.enrolled();
}

/// A frame that comes after the worker gave its touch up belongs to no touch. It may show the
/// owner's finger, so a later touch (anyone's) must be judged on its own frame, not on that one.
#[test]
fn a_frame_that_comes_after_its_touch_was_given_up_is_not_a_later_touchs() {
    let (rig, irq, frames) = sysfs_rig("late-frame", "");
    let owner = enroll_owner(&rig, &irq, &frames);

    rig.dev().authenticate(7, 0).unwrap();
    rig.sync();
    irq.touch(None);
    let given_up = rig.tried_again("the touch is given up");
    // The owner's frame comes after all, while the finger is still on the sensor; then the owner
    // lifts, and another person touches at once and again a second later.
    frames.push_frame(frame(3, 1));
    lift_seen(&rig, &irq);
    wait_for("the late frame to be thrown away at the lift", || frames.frames_waiting() == 0);
    irq.touch(None);
    rig.tried_again("not taken within the second");
    lift_seen(&rig, &irq);
    judged_on_their_own_frames(&rig, &irq, &frames, given_up, owner);
}

/// A frame that comes after its operation was cancelled is not taken by a touch of the next
/// operation either.
#[test]
fn a_frame_that_comes_after_a_cancel_is_not_the_next_operations() {
    let (rig, irq, frames) = sysfs_rig("frame-after-cancel", "");
    let owner = enroll_owner(&rig, &irq, &frames);

    rig.dev().authenticate(7, 0).unwrap();
    rig.sync();
    let reads = || rig.kernel.calls().iter().filter(|c| matches!(c, Call::Read(_))).count();
    let before = reads();
    irq.touch(None);
    wait_for("the frame read to start", || reads() > before);
    rig.cancel_once();
    let given_up = Instant::now();
    // The owner's frame comes after the cancel; the owner lifts, and another person touches for
    // the next authentication.
    frames.push_frame(frame(3, 1));
    irq.lift();
    rig.take();
    rig.dev().authenticate(8, 0).unwrap();
    wait_for("the late frame to be thrown away", || frames.frames_waiting() == 0);
    judged_on_their_own_frames(&rig, &irq, &frames, given_up, owner);
}

/// A second after `given_up`, in a running authentication: another person's touch is judged on
/// its own frame (no match), and then the owner's (the authentication goes on after a finger that
/// does not match; the owner is recognised).
fn judged_on_their_own_frames(rig: &Rig, irq: &FakeDevice, frames: &FakeDevice, given_up: Instant, owner: u32) {
    after_the_window(given_up);
    touch_with_frame(rig, irq, frames, frame(11, 1));
    assert_eq!(rig.authenticated(), 0, "the other person's touch is judged on its own frame");
    lift_seen(rig, irq);
    rig.dev().authenticate(9, 0).unwrap();
    touch_with_frame(rig, irq, frames, frame(3, 2));
    assert_eq!(rig.authenticated(), owner);
    rig.cancel_once();
}

/// A rig of `kind` on a fake kernel with every node, and the node whose interrupt it watches.
fn any_kind(name: &str, kind: &str) -> (Rig, Arc<FakeDevice>, Arc<FakeDevice>) {
    let kernel = FakeKernel::new(name);
    let (_, irq) = kernel.fpc1020_sysfs("soc:fpc1020");
    let misc = kernel.device(Path::new("/dev/fingerprint"), Model::Misc);
    let blocking = kernel.device(Path::new("/dev/fpc1020"), Model::Blocking);
    let frames = kernel.device(Path::new(FRAMES), Model::Frames);
    let device = match kind {
        "fpc1020-sysfs" => irq,
        "misc-ioctl" => misc,
        _ => blocking,
    };
    let keys = format!("kind = \"{kind}\"\n{FRAME_KEYS}frame_device = \"{FRAMES}\"\n");
    (Rig::open(name, kernel, &keys), device, frames)
}

#[test]
fn an_interrupt_storm_costs_at_most_one_short_wake_per_interrupt() {
    for kind in ["fpc1020-sysfs", "misc-ioctl", "blocking-ioctl"] {
        let (rig, irq, _) = any_kind(&format!("storm-{kind}"), kind);
        // Idle, nothing watches the interrupt at all.
        let (idle_wakes, _) = rig.dev().worker_load().unwrap();
        for _ in 0..200 {
            irq.spurious();
        }
        std::thread::sleep(Duration::from_millis(50));
        let (after_idle, _) = rig.dev().worker_load().unwrap();
        assert!(after_idle - idle_wakes <= 2, "{kind}: {} wakes while idle", after_idle - idle_wakes);

        rig.dev().authenticate(1, 0).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let (wakes0, cpu0) = rig.dev().worker_load().unwrap();
        const STORM: u64 = 1000;
        for _ in 0..STORM {
            irq.spurious();
            std::thread::sleep(Duration::from_micros(100));
        }
        std::thread::sleep(Duration::from_millis(50));
        let (wakes1, cpu1) = rig.dev().worker_load().unwrap();
        let (wakes, cpu) = (wakes1 - wakes0, cpu1 - cpu0);
        println!("{kind}: {STORM} spurious interrupts: {wakes} worker wakes, {} µs worker CPU", cpu.as_micros());
        // At most one wake per interrupt (plus the queries'), and at most 250 µs of CPU for each:
        // a line read and nothing else.
        assert!(wakes <= STORM + 4, "{kind}: {wakes} wakes");
        assert!(cpu <= Duration::from_micros(250 * STORM), "{kind}: {cpu:?} of worker CPU");
        assert!(rig.take().is_empty(), "{kind}: spurious interrupts make no messages");
        // And the operation still waits for a real finger.
        rig.cancel_once();
    }
}

/// A finger left on a level-triggered sensor (Sony's reports readable while the line is high) is
/// checked on a timer, not by waking on the line.
#[test]
fn a_finger_left_on_the_sensor_is_checked_on_a_timer() {
    let (rig, dev, frames) = any_kind("held", "misc-ioctl");
    rig.enroll();
    rig.sync();
    touch_with_frame(&rig, &dev, &frames, frame(6, 1));
    rig.enrolled();
    rig.dev().authenticate(1, 0).unwrap();
    // The finger still on the sensor is a touch for the new operation; the driver sends no frame
    // for it, so it is given up after 500 ms.
    let seen = rig.until(|m| matches!(m, Message::Acquired(_)));
    assert_eq!(seen, vec![Message::Acquired(Acquired::Insufficient)]);
    rig.sync();
    rig.take();
    let (wakes0, _) = rig.dev().worker_load().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (wakes1, _) = rig.dev().worker_load().unwrap();
    // One check per 30 ms: about 10, however long the line stays high.
    assert!(wakes1 - wakes0 <= 20, "{} wakes while the finger stayed", wakes1 - wakes0);
    lift_seen(&rig, &dev);
    // A second after the given-up frame, a touch is taken again (before, it might be that frame's).
    std::thread::sleep(Duration::from_millis(1000));
    touch_with_frame(&rig, &dev, &frames, frame(6, 1));
    assert_ne!(rig.authenticated(), 0, "the next touch after the lift is taken");
}

#[test]
fn a_missing_or_refused_driver_fails_open_with_the_path() {
    let dir = scratch("missing");
    let kernel = FakeKernel::new("missing");
    let cfg = config(&dir, &format!("kind = \"misc-ioctl\"\n{FRAME_KEYS}frame_device = \"{FRAMES}\"\n"));
    let e = Device::open_on(&cfg, kernel.clone()).err().expect("no /dev/fingerprint");
    assert_eq!(e.errno(), -libc::ENODEV, "{e}");
    assert!(e.to_string().contains("/dev/fingerprint"), "{e}");

    kernel.device(Path::new("/dev/fingerprint"), Model::Misc);
    kernel.refuse(Path::new("/dev/fingerprint"), libc::EACCES);
    let e = Device::open_on(&cfg, kernel.clone()).err().expect("refused");
    assert_eq!(e.errno(), -libc::EACCES, "{e}");
    assert!(e.to_string().contains("/dev/fingerprint") && e.to_string().contains("SELinux"), "{e}");

    // No fpc1020 device under /sys/bus/platform/devices: -ENODEV naming where it looked.
    let sysfs = config(&dir, &format!("kind = \"fpc1020-sysfs\"\n{FRAME_KEYS}frame_device = \"{FRAMES}\"\n"));
    let e = Device::open_on(&sysfs, kernel.clone()).err().expect("no sysfs device");
    assert_eq!(e.errno(), -libc::ENODEV, "{e}");
    assert!(e.to_string().contains("/sys/bus/platform/devices"), "{e}");
    // A node of another kind of driver: its requests are unknown there (ENOTTY), -EINVAL naming the kind.
    kernel.device(Path::new("/dev/fpc1020"), Model::Blocking);
    let cfg = config(
        &dir,
        &format!("kind = \"misc-ioctl\"\ndevice = \"/dev/fpc1020\"\n{FRAME_KEYS}frame_device = \"{FRAMES}\"\n"),
    );
    let e = Device::open_on(&cfg, kernel.clone()).err().expect("the wrong kind");
    assert_eq!(e.errno(), -libc::EINVAL, "{e}");
    assert!(e.to_string().contains("sensor.kind"), "{e}");
    // Power per operation on a driver without a power attribute: -EINVAL naming sensor.power.
    let (sysfs_dir, _) = kernel.fpc1020_sysfs("soc:motorola");
    std::fs::remove_file(kernel.map(&sysfs_dir.join("device_prepare"))).unwrap();
    let keys = format!("kind = \"fpc1020-sysfs\"\ndevice = \"{}\"\npower = \"operation\"\n", sysfs_dir.display());
    let cfg = config(&dir, &format!("{keys}{FRAME_KEYS}frame_device = \"{FRAMES}\"\n"));
    let e = Device::open_on(&cfg, kernel.clone()).err().expect("no power control");
    assert_eq!(e.errno(), -libc::EINVAL, "{e}");
    assert!(e.to_string().contains("sensor.power"), "{e}");
    // Two of them: -EINVAL naming the key that picks one.
    kernel.fpc1020_sysfs("soc:fpc1020");
    kernel.fpc1020_sysfs("soc:fp_fpc1020");
    let e = Device::open_on(&sysfs, kernel.clone()).err().expect("ambiguous");
    assert_eq!(e.errno(), -libc::EINVAL, "{e}");
    assert!(e.to_string().contains("sensor.device"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_sensor_keys_are_refused_by_name() {
    let dir = scratch("keys");
    for (keys, named) in [
        ("kind = \"misc-ioctl\"\npower = \"sometimes\"\n", "sensor.power"),
        ("kind = \"blocking-ioctl\"\npower = \"operation\"\n", "sensor.power"),
        ("kind = \"blocking-ioctl\"\nwakelock = \"driver\"\n", "sensor.wakelock"),
        ("kind = \"misc-ioctl\"\nwakelock_ms = 50\n", "sensor.wakelock_ms"),
        ("kind = \"misc-ioctl\"\n", "sensor.frame_width"),
        ("kind = \"misc-ioctl\"\nframe_width = 160\nframe_height = 0\n", "sensor.frame_height"),
        ("kind = \"misc-ioctl\"\nframe_width = 160\nframe_height = 160\nframe_bits = 17\n", "sensor.frame_bits"),
        ("kind = \"misc-ioctl\"\nframe_width = 1000\nframe_height = 1000\nframe_dpi = 250\n", "sensor.frame_width"),
        ("kind = \"fpc1020-sysfs\"\nframe_width = 160\nframe_height = 160\n", "sensor.frame_device"),
        ("kind = \"misc-ioctl\"\nframe_width = 160\nframe_height = 160\n", "sensor.frame_device"),
        ("kind = \"blocking-ioctl\"\nframe_bits = 12\n", "sensor.frame_width"),
        (
            "kind = \"blocking-ioctl\"\nframe_width = 160\nframe_height = 160\nmin_contact_ms = 80\n",
            "sensor.min_contact_ms",
        ),
        (
            "kind = \"blocking-ioctl\"\nframe_width = 160\nframe_height = 160\nruntime_dir = \"/tmp\"\n",
            "sensor.runtime_dir",
        ),
        ("kind = \"misc-ioctl\"\ndevice_name = \"fpc\"\n", "sensor.device_name"),
        ("kind = \"misc-ioctl\"\ndevice = \"dev/fingerprint\"\n", "sensor.device"),
        ("device = \"/dev/fingerprint\"\n", "sensor.device"),
        ("kind = \"goodix-netlink\"\n", "sensor.kind"),
    ] {
        let text = format!("[sensor]\n{keys}[trustlet]\nkey_dir = \"{}\"\n", dir.display());
        let e = Config::from_toml(&text).err().unwrap_or_else(|| panic!("{keys:?} must be refused"));
        assert!(e.0.contains(named), "the error for {keys:?} must name {named}: {e}");
        assert_eq!(HalError::InvalidArgument(e.0).errno(), -libc::EINVAL);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_driver_that_disappears_fails_the_operation_and_the_next_one_recovers() {
    for kind in ["fpc1020-sysfs", "misc-ioctl", "blocking-ioctl"] {
        let (rig, device, frames) = any_kind(&format!("unplug-{kind}"), kind);
        rig.enroll();
        touch_with_frame(&rig, &device, &frames, frame(4, 1));
        let fid = rig.enrolled();
        device.lift();

        rig.dev().authenticate(1, 0).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        device.unplug();
        let seen = rig.until(|m| matches!(m, Message::Error(_)));
        assert_eq!(seen, [Message::Error(ErrorKind::HwUnavailable)], "{kind}");
        rig.take();

        // While it is gone, the next operation fails the same way, and nothing hangs.
        rig.dev().authenticate(2, 0).unwrap();
        assert_eq!(rig.until(|m| matches!(m, Message::Error(_))), [Message::Error(ErrorKind::HwUnavailable)]);
        rig.take();

        device.replug();
        rig.dev().authenticate(3, 0).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        touch_with_frame(&rig, &device, &frames, frame(4, 1));
        assert_eq!(rig.authenticated(), fid, "{kind} recovers");
    }
}
