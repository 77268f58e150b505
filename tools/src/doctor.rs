//! `fphal-doctor check`: the fingerprint stack walked step by step on a device's filesystem (or a
//! copy of it under `--root`), each step OK, failed with its meaning and fix, or skipped.

use fphal::config::Config;
use fphal::diagnose::firmware;
use fphal::sensor::kernel::{BLOCKING_IOCTL, BLOCKING_IOCTL_DEVICE, FPC1020_SYSFS, MISC_IOCTL, MISC_IOCTL_DEVICE};
use serde::Serialize;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Android's `system` user, which both fingerprint services run as.
pub const SYSTEM_UID: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    Skipped,
}

/// One step of the walk.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do, when the step failed.
    pub fix: Option<String>,
}

fn ok(name: &'static str, detail: impl Into<String>) -> Step {
    Step { name, status: Status::Ok, detail: detail.into(), fix: None }
}

fn failed(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Step {
    Step { name, status: Status::Failed, detail: detail.into(), fix: Some(fix.into()) }
}

fn skipped(name: &'static str, detail: impl Into<String>) -> Step {
    Step { name, status: Status::Skipped, detail: detail.into(), fix: None }
}

/// What `check` was asked to look at.
pub struct Target {
    pub root: PathBuf,
    pub config: Option<PathBuf>,
    pub variant: Option<String>,
    /// On a live device: wait this long for a touch on the kernel sensor (its interrupt fires).
    pub touch: Option<std::time::Duration>,
}

impl Target {
    /// An absolute device path as it lies under the root.
    pub fn on_device(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }
}

/// Every step, in the order the stack depends on them.
pub fn check(t: &Target) -> Vec<Step> {
    let mut steps = Vec::new();
    let config = configuration(t, &mut steps);
    let variant = variant(t, &mut steps);
    steps.push(module(t, variant.as_deref()));
    if let Some(config) = &config {
        steps.push(sensor_nodes(t, config));
        if let Some(timeout) = t.touch {
            steps.push(if t.root == Path::new("/") {
                touch(config, std::sync::Arc::new(fphal::sensor::kernel::node::System), timeout, &mut std::io::stderr())
            } else {
                skipped("touch", "only on a live device (--root /)")
            });
        }
        steps.push(trustlet_firmware(t, config));
        if config.trustlet.kind == fphal::tee::QSEE_FPC {
            let why = "not used by the qsee-fpc trustlet: keys and templates stay in the secure world";
            steps.push(skipped("key directory", why));
            steps.push(skipped("store", why));
        } else {
            steps.push(key_directory(t, config));
            steps.push(store_round_trip(t, config));
        }
    }
    steps
}

fn configuration(t: &Target, steps: &mut Vec<Step>) -> Option<Config> {
    const NAME: &str = "configuration";
    let path = t.config.clone().unwrap_or_else(|| t.on_device(Path::new(fphal::config::ANDROID_CONFIG_PATH)));
    if !path.exists() {
        if t.config.is_some() {
            steps.push(failed(NAME, format!("{} does not exist", path.display()), "name an existing file"));
            return None;
        }
        steps.push(ok(
            NAME,
            format!("no {}: the built-in defaults (virtual sensor, software trustlet)", path.display()),
        ));
        return Some(Config::default());
    }
    match Config::from_file(&path) {
        Ok(c) => {
            steps.push(ok(
                NAME,
                format!("{} is valid (sensor {}, trustlet {})", path.display(), c.sensor.kind, c.trustlet.kind),
            ));
            Some(c)
        }
        Err(e) => {
            steps.push(failed(
                NAME,
                e.to_string(),
                "fix the key the message names; open() refuses this file with -EINVAL",
            ));
            None
        }
    }
}

/// `ro.hardware.fingerprint`, else `ro.hardware`, from the property files under the root.
fn variant(t: &Target, steps: &mut Vec<Step>) -> Option<String> {
    const NAME: &str = "variant";
    if let Some(v) = &t.variant {
        steps.push(ok(NAME, format!("{v} (given)")));
        return Some(v.clone());
    }
    let files = [
        "vendor/build.prop",
        "odm/etc/build.prop",
        "odm/build.prop",
        "system/build.prop",
        "system/system/build.prop",
        "vendor/default.prop",
        "default.prop",
    ];
    let mut props: Vec<(String, String, PathBuf)> = Vec::new();
    for f in files {
        let path = t.root.join(f);
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for line in text.lines() {
            if let Some((k, v)) = line.trim().split_once('=') {
                props.push((k.trim().to_string(), v.trim().to_string(), path.clone()));
            }
        }
    }
    for key in ["ro.hardware.fingerprint", "ro.hardware"] {
        if let Some((_, v, from)) = props.iter().find(|(k, v, _)| k == key && !v.is_empty()) {
            steps.push(ok(NAME, format!("{v} ({key} in {})", from.display())));
            return Some(v.clone());
        }
    }
    steps.push(failed(
        NAME,
        format!(
            "neither ro.hardware.fingerprint nor ro.hardware is set in the build.prop files under {}",
            t.root.display()
        ),
        "pass --variant, or on the device read it with getprop ro.hardware",
    ));
    None
}

/// `fingerprint.<variant>.so` (or `fingerprint.default.so`) where libhardware looks, with `HMI`
/// exported and an ELF class that fits its directory.
fn module(t: &Target, variant: Option<&str>) -> Step {
    const NAME: &str = "module";
    let mut names: Vec<String> = variant.map(|v| format!("fingerprint.{v}.so")).into_iter().collect();
    names.push("fingerprint.default.so".into());
    let mut found = Vec::new();
    for part in ["odm", "vendor", "system"] {
        for (lib, bits) in [("lib64", 64), ("lib", 32)] {
            for name in &names {
                let path = t.root.join(part).join(lib).join("hw").join(name);
                if path.is_file() {
                    found.push((path, bits));
                }
            }
        }
    }
    if found.is_empty() {
        return failed(
            NAME,
            format!("no {} under odm, vendor or system lib64/hw or lib/hw", names.join(" or ")),
            "install libfphal.so as fingerprint.<variant>.so in /vendor/lib64/hw (and lib/hw for 32-bit services)",
        );
    }
    let mut notes = Vec::new();
    for (path, bits) in &found {
        match inspect_elf(path) {
            Err(e) => {
                return failed(
                    NAME,
                    format!("{}: {e}", path.display()),
                    "install a shared library built for this device",
                );
            }
            Ok((class, hmi)) => {
                if class != *bits {
                    return failed(
                        NAME,
                        format!("{} is {class}-bit in a {bits}-bit directory", path.display()),
                        "64-bit builds go to lib64/hw, 32-bit ones to lib/hw",
                    );
                }
                if !hmi {
                    return failed(
                        NAME,
                        format!(
                            "{} does not export HMI: libhardware will log \"load: couldn't find symbol HMI\"",
                            path.display()
                        ),
                        "install fphal's libfphal.so, which exports HMI",
                    );
                }
                notes.push(format!("{} ({class}-bit, exports HMI)", path.display()));
            }
        }
    }
    ok(NAME, notes.join("; "))
}

/// The ELF class (32 or 64) of `path` and whether its dynamic symbols define `HMI`.
fn inspect_elf(path: &Path) -> Result<(u32, bool), String> {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    let file = object::File::parse(&*data).map_err(|e| format!("not an ELF shared library ({e})"))?;
    if file.format() != object::BinaryFormat::Elf {
        return Err("not an ELF file".into());
    }
    let class = if file.is_64() { 64 } else { 32 };
    let hmi = file.dynamic_symbols().any(|s| s.name() == Ok("HMI") && !s.is_undefined());
    Ok((class, hmi))
}

/// The kernel sensor's nodes: present, and usable by the `system` user.
fn sensor_nodes(t: &Target, config: &Config) -> Step {
    const NAME: &str = "sensor";
    let s = &config.sensor;
    let nodes: Vec<PathBuf> = match s.kind.as_str() {
        "virtual" => return virtual_sensor(t),
        "fpc1020-sysfs" => match &s.device {
            Some(dir) => ["irq", "hw_reset", "device_prepare", "wakeup_enable"]
                .iter()
                .map(|a| dir.join(a))
                .filter(|p| *p == dir.join("irq") || t.on_device(p).exists())
                .collect(),
            None => {
                let found: Vec<PathBuf> =
                    platform_devices_named(t, &s.device_name).into_iter().map(|dir| dir.join("irq")).collect();
                if found.is_empty() {
                    return failed(
                        NAME,
                        format!("nothing under /sys/bus/platform/devices contains {:?}", s.device_name),
                        "check that the driver probed (dmesg | grep -i fpc), or set sensor.device",
                    );
                }
                found
            }
        },
        "misc-ioctl" => vec![s.device.clone().unwrap_or_else(|| MISC_IOCTL_DEVICE.into())],
        _ => vec![s.device.clone().unwrap_or_else(|| BLOCKING_IOCTL_DEVICE.into())],
    };
    let mut seen = Vec::new();
    for node in &nodes {
        let path = t.on_device(node);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(_) => {
                return failed(
                    NAME,
                    format!("{} is missing (open would answer -ENODEV)", node.display()),
                    "check the driver and sensor.kind (docs/porting.md section 8)",
                );
            }
        };
        let usable = meta.uid() == SYSTEM_UID && meta.mode() & 0o600 == 0o600 || meta.mode() & 0o006 == 0o006;
        if !usable {
            return failed(
                NAME,
                format!(
                    "{} is owned by uid {} with mode {:o}: the system user cannot read and write it",
                    node.display(),
                    meta.uid(),
                    meta.mode() & 0o777
                ),
                "chown it to system in the device's init.rc (see the commented lines in android/init/*.rc)",
            );
        }
        seen.push(node.display().to_string());
    }
    ok(NAME, format!("{} present and usable by system", seen.join(", ")))
}

/// The platform devices (`/sys/bus/platform/devices/…`, as on the device) whose name contains
/// `name`.
fn platform_devices_named(t: &Target, name: &str) -> Vec<PathBuf> {
    let root = Path::new("/sys/bus/platform/devices");
    std::fs::read_dir(t.on_device(root))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(name))
        .map(|e| root.join(e.file_name()))
        .collect()
}

/// The virtual sensor is right for emulators, boards without a sensor and bring-up. On a device
/// whose kernel has a fingerprint driver fphal can drive, it is most often the example
/// configuration installed unchanged: fphal would never listen to the real sensor.
fn virtual_sensor(t: &Target) -> Step {
    const NAME: &str = "sensor";
    let driver = platform_devices_named(t, &Config::default().sensor.device_name)
        .into_iter()
        .find(|dir| t.on_device(&dir.join("irq")).exists())
        .map(|dir| (dir, "the fpc1020 platform driver", FPC1020_SYSFS))
        .or_else(|| {
            [
                (MISC_IOCTL_DEVICE, "a misc device, as Sony's driver makes", MISC_IOCTL),
                (BLOCKING_IOCTL_DEVICE, "the OnePlus 2 generation's driver", BLOCKING_IOCTL),
            ]
            .into_iter()
            .map(|(node, what, kind)| (PathBuf::from(node), what, kind))
            .find(|(node, _, _)| t.on_device(node).exists())
        });
    match driver {
        Some((node, what, kind)) => failed(
            NAME,
            format!(
                "sensor.kind is \"virtual\" (the example configuration and the built-in default), but this device has \
                 {} ({what}): fphal does not listen to its sensor",
                node.display()
            ),
            format!(
                "set sensor.kind = \"{kind}\" (docs/porting.md section 8 tells the drivers apart and says \
                 which keys go with it); during bring-up with fphal-touch the virtual sensor is meant, and this \
                 step can be ignored"
            ),
        ),
        None => skipped(NAME, "the virtual sensor has no device node (and this tree has no kernel fingerprint driver)"),
    }
}

/// The trustlet's and keymaster's firmware.
fn trustlet_firmware(t: &Target, config: &Config) -> Step {
    const NAME: &str = "firmware";
    if config.trustlet.kind == "soft" {
        let keymasters: Vec<String> = firmware::images(&t.root)
            .into_iter()
            .filter(|i| fphal::diagnose::codes::KEYMASTER_TA_NAMES.contains(&i.name.as_str()))
            .map(|i| i.files[0].display().to_string())
            .collect();
        let seen = if keymasters.is_empty() {
            String::new()
        } else {
            format!(" (keymaster images seen: {})", keymasters.join(", "))
        };
        return skipped(NAME, format!("the software trustlet needs no firmware{seen}"));
    }
    if config.trustlet.kind == fphal::tee::QSEE_FPC {
        return qsee_firmware(t, config);
    }
    failed(
        NAME,
        format!("trustlet.kind {:?} is not one this doctor knows", config.trustlet.kind),
        "use a doctor of the same release",
    )
}

/// `qsee-fpc`: the fingerprint trustlet's image where `qsee.app_path` says, a keymaster image of one
/// of `qsee.keymaster_names`, and the QSEECom library in a vendor library directory.
fn qsee_firmware(t: &Target, config: &Config) -> Step {
    const NAME: &str = "firmware";
    let s = match fphal::tee::qsee::QseeSettings::from_config(config) {
        Ok(s) => s,
        Err(e) => return failed(NAME, e, "fix the [qsee] keys"),
    };
    let images = firmware::images(&t.root);
    let shown = |p: &Path| format!("/{}", p.strip_prefix(&t.root).unwrap_or(p).display());
    let app: Vec<&firmware::Image> = images.iter().filter(|i| i.name == s.app_name).collect();
    let Some(found) = app.first() else {
        return failed(
            NAME,
            format!(
                "no image of the fingerprint trustlet {} ({}.mdt or .mbn) in the firmware directories",
                s.app_name, s.app_name
            ),
            "set qsee.app_name to the fingerprint trustlet this firmware has (docs/porting.md section 10 lists them per platform)",
        );
    };
    let app_file = shown(&found.files[0]);
    let wanted_dir = Path::new(&s.app_path);
    if !app.iter().any(|i| shown(&i.files[0]).starts_with(&format!("{}/", wanted_dir.display()))) {
        return failed(
            NAME,
            format!("the fingerprint trustlet is at {app_file}, not in qsee.app_path {}", s.app_path),
            format!(
                "set qsee.app_path = {:?}",
                Path::new(&app_file).parent().map_or(String::new(), |p| p.display().to_string())
            ),
        );
    }
    let in_dir = |i: &&firmware::Image| {
        s.keymaster_path.is_empty() || shown(&i.files[0]).starts_with(&format!("{}/", s.keymaster_path))
    };
    let Some(km) = s.keymaster_names.iter().find_map(|n| images.iter().filter(in_dir).find(|i| &i.name == n)) else {
        if let Some(elsewhere) = s.keymaster_names.iter().find_map(|n| images.iter().find(|i| &i.name == n)) {
            let file = shown(&elsewhere.files[0]);
            return failed(
                NAME,
                format!("the keymaster image is at {file}, not in qsee.keymaster_path {}", s.keymaster_path),
                format!(
                    "set qsee.keymaster_path = {:?}",
                    Path::new(&file).parent().map_or(String::new(), |p| p.display().to_string())
                ),
            );
        }
        return failed(
            NAME,
            format!("no keymaster image named {} in the firmware directories", s.keymaster_names.join(" or ")),
            "set qsee.keymaster_names to the keymaster this firmware has (its .mdt or .mbn name)",
        );
    };
    let library = if s.library.contains('/') {
        vec![PathBuf::from(&s.library)]
    } else {
        ["vendor/lib64", "vendor/lib", "system/vendor/lib64", "system/vendor/lib", "system/lib64", "system/lib"]
            .iter()
            .map(|d| Path::new("/").join(d).join(&s.library))
            .collect()
    };
    let Some(lib) = library.iter().find(|p| t.on_device(p).is_file()) else {
        return failed(
            NAME,
            format!("{} is not in the vendor library directories", s.library),
            "the QSEECom library comes with the vendor's blobs (libQSEEComAPI.so); set qsee.library to where it is",
        );
    };
    ok(
        NAME,
        format!(
            "fingerprint trustlet {app_file}, keymaster {}, {} ({} protocol)",
            shown(&km.files[0]),
            lib.display(),
            s.generation.name
        ),
    )
}

fn key_directory(t: &Target, config: &Config) -> Step {
    const NAME: &str = "key directory";
    let dir = config.key_dir();
    let path = t.on_device(&dir);
    let Ok(meta) = std::fs::metadata(&path) else {
        return failed(
            NAME,
            format!("{} does not exist yet", dir.display()),
            "fphal creates it on first open if its parent is writable; on Android the init snippet creates it at post-fs-data",
        );
    };
    if meta.mode() & 0o077 != 0 {
        return failed(
            NAME,
            format!("{} has mode {:o}: others may enter it", dir.display(), meta.mode() & 0o777),
            "make it 0700 (fphal refuses a directory others can reach)",
        );
    }
    if t.root == Path::new("/") && meta.uid() != rustix::process::geteuid().as_raw() && meta.uid() != SYSTEM_UID {
        return failed(
            NAME,
            format!("{} belongs to uid {}, neither this user nor system", dir.display(), meta.uid()),
            "chown it to the service's user",
        );
    }
    ok(NAME, format!("{} (uid {}, mode {:o})", dir.display(), meta.uid(), meta.mode() & 0o777))
}

/// Writes a sealed template and reads it back in a scratch group directory, with a throwaway key:
/// the filesystem takes atomic renames and fsync, and the crypto works on this build.
fn store_round_trip(t: &Target, config: &Config) -> Step {
    use fphal::tee::soft::store::GroupStore;
    const NAME: &str = "store";
    let base = t.on_device(&config.key_dir());
    let base = if base.is_dir() { base } else { std::env::temp_dir() };
    let scratch = base.join(format!("fphal-doctor-{}", std::process::id()));
    let result = (|| -> Result<(), String> {
        std::fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| e.to_string())?;
        let key = zeroize::Zeroizing::new(key);
        let store = GroupStore::open(&scratch, 0, &key);
        let template: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
        store.write_template(1, 42, &template)?;
        let back = store.load_finger(1)?;
        if back.user_id != 42 || *back.template != template {
            return Err("the template read back differs from the one written".into());
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(()) => ok(NAME, format!("a sealed template written and read back in {}", base.display())),
        Err(e) => failed(NAME, e, "check the filesystem under the key directory (full, read-only, or no rename)"),
    }
}

/// The name of the step that waits for a touch.
const TOUCH_STEP: &str = "touch";

/// Opens the configured kernel sensor through `backend`, arms it, asks for a touch (on `prompt`)
/// and waits up to `timeout` for its interrupt: the driver, its node and the line all work.
pub fn touch(
    config: &Config,
    backend: std::sync::Arc<dyn fphal::sensor::kernel::node::Backend>,
    timeout: std::time::Duration,
    prompt: &mut dyn std::io::Write,
) -> Step {
    use std::time::Instant;
    const NAME: &str = TOUCH_STEP;
    if config.sensor.kind == "virtual" {
        return skipped(NAME, "the virtual sensor has no interrupt");
    }
    let mut sensor = match fphal::sensor::open_on(config, 0, backend) {
        Ok(s) => s,
        Err(e) => return failed(NAME, format!("cannot open the sensor: {e}"), "fix the sensor step first"),
    };
    if let Err(e) = sensor.arm(true) {
        return failed(NAME, format!("cannot arm the sensor: {e}"), "check the driver's power and reset nodes");
    }
    let _ = writeln!(prompt, "touch the fingerprint sensor (waiting {} s)...", timeout.as_secs());
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = sensor.due_in().map_or(left, |d| d.min(left));
        let ready = fphal::sys::wait(&sensor.watches(), Some(wait));
        for r in &ready {
            let event = sensor.service(r, true);
            if let Some(step) = touch_verdict(&mut sensor, event) {
                return step;
            }
        }
        let event = sensor.settled();
        if let Some(step) = touch_verdict(&mut sensor, event) {
            return step;
        }
    }
    let _ = sensor.arm(false);
    failed(
        NAME,
        format!("no touch came within {} s", timeout.as_secs()),
        "if the sensor was touched, its interrupt does not reach this node: check the irq GPIO in the device tree and dmesg",
    )
}

/// What one sensor event says of the touch step, `None` while there is nothing to say yet; the
/// sensor is disarmed once a touch came, whatever became of its frame.
fn touch_verdict(
    sensor: &mut Box<dyn fphal::sensor::Sensor>,
    event: Result<Option<fphal::sensor::SensorEvent>, fphal::sensor::SensorFault>,
) -> Option<Step> {
    use fphal::sensor::SensorEvent;
    const NAME: &str = TOUCH_STEP;
    let step = match event {
        Err(e) => {
            return Some(failed(NAME, format!("the driver failed: {e}"), "look in dmesg for the driver's errors"));
        }
        Ok(Some(SensorEvent::FingerDown { image, .. })) => {
            ok(NAME, format!("the interrupt fired and a {}x{} frame was read", image.width(), image.height()))
        }
        Ok(Some(SensorEvent::FingerDetected)) => ok(NAME, "the interrupt fired with the line high (a finger)"),
        // The interrupt came, but the frame node gave no whole frame: not a dead interrupt line.
        Ok(Some(SensorEvent::TouchLost)) => failed(
            NAME,
            "the interrupt fired, but no whole frame came from the frame node in time (the log says \"frame dropped\" and why)",
            "check sensor.frame_device, frame_width, frame_height and frame_dpi against the driver's frame node",
        ),
        Ok(Some(SensorEvent::FingerUp { .. }) | None) => return None,
    };
    let _ = sensor.arm(false);
    Some(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fphal::sensor::kernel::double::{FakeKernel, Model};
    use std::time::Duration;

    #[test]
    fn a_touch_whose_frame_never_comes_is_named_and_not_taken_for_a_dead_interrupt() {
        let kernel = FakeKernel::new("doctor-lost-frame");
        let (_, irq) = kernel.fpc1020_sysfs("soc:fp_fpc1020");
        let _frames = kernel.device(std::path::Path::new("/dev/fp_frames"), Model::Frames);
        let config = Config::from_toml(
            "[sensor]\nkind = \"fpc1020-sysfs\"\nframe_width = 160\nframe_height = 160\nframe_dpi = 500\n\
             frame_device = \"/dev/fp_frames\"\n",
        )
        .unwrap();
        let toucher = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            irq.touch(None);
        });
        let step = touch(&config, kernel, Duration::from_secs(20), &mut Vec::new());
        toucher.join().unwrap();
        assert_eq!(step.status, Status::Failed, "{step:?}");
        assert!(step.detail.contains("no whole frame"), "{}", step.detail);
        assert!(step.fix.unwrap().contains("frame_device"));
    }
}
