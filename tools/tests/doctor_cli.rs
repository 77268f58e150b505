//! `fphal-doctor` on fixture device trees the tests build (no real firmware: small files holding
//! the strings the doctor looks for).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DOCTOR: &str = env!("CARGO_BIN_EXE_fphal-doctor");

/// The log of a Xiaomi Mi 4s on a custom Android 7 ROM whose keymaster refused the FPC trustlet.
const MI4S_LOG: &str = "\
10-08 19:59:21.695  1732  1732 D fpc_tac : fpc_km_tac_get_encapsulated_key begin
10-08 19:59:21.695  1732  1732 D QSEECOMAPI: : QSEECom_get_handle sb_length = 0x400
10-08 19:59:21.696  1732  1732 D QSEECOMAPI: : App is already loaded QSEE and app id = 3
10-08 19:59:21.699  1732  1732 E fpc_tac : fpc_km_tac_get_encapsulated_key KEYMASTER_GET_AUTH_TOKEN_KEY returned status=-16773124
10-08 19:59:21.700  1732  1732 D QSEECOMAPI: : QSEECom_dealloc_memory
10-08 19:59:21.700  1732  1732 D QSEECOMAPI: : QSEECom_shutdown_app, app_id = 3
";

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fphal-doctor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn put(root: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(DOCTOR)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// A device tree with two keymaster images, of which only the second's whitelist names the
/// device's fingerprint trustlet.
fn firmware_tree(root: &Path) {
    put(root, "firmware/image/keymaster.mdt", b"\x7fELF\x01\x01\x01\0mdt header\0");
    put(root, "firmware/image/keymaster.b00", b"\0\0widevine\0fingerprint\0playready\0Copyright\0");
    put(root, "firmware/image/keymaster.b01", b"\0\0\0\0");
    put(root, "vendor/firmware/keymaster64.mbn", b"\x7fELF\x02\x01\x01\0\0widevine\0fpctzappfingerprint\0soter64\0");
    put(root, "firmware/image/fpctzappfingerprint.mdt", b"\x7fELF\x01\x01\x01\0");
    put(root, "firmware/image/fpctzappfingerprint.b00", b"\0fpc tz app\0");
    put(root, "firmware/image/widevine.mdt", b"\x7fELF\0");
}

#[test]
fn the_mi4s_log_is_explained_down_to_the_keymaster_image_that_fixes_it() {
    let root = scratch("mi4s");
    firmware_tree(&root);
    let out = run(&["explain", "--root", root.to_str().unwrap()], Some(MI4S_LOG));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a recognised failure exits 1: {text}");
    assert!(text.contains("QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME") && text.contains("0xFF000FFC"), "{text}");
    assert!(text.contains("whitelist"), "the cause: {text}");
    assert!(
        text.contains("keymaster image /firmware/image/keymaster.mdt: whitelist names widevine, fingerprint"),
        "{text}"
    );
    assert!(text.contains("fingerprint trustlets on the device: fpctzappfingerprint"), "{text}");
    assert!(text.contains("FIX: /vendor/firmware/keymaster64.mbn names fpctzappfingerprint"), "{text}");
    assert!(!text.contains("FIX: /firmware/image/keymaster.mdt"), "{text}");
    assert!(text.contains("summary: 6 lines read, 1 recognised, 1 failure(s)"), "{text}");

    // The same as JSON, from a file.
    let log = put(&root, "logcat.txt", MI4S_LOG.as_bytes());
    let out = run(&["explain", "--json", "--root", root.to_str().unwrap(), log.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["failed"], true);
    assert_eq!(v["findings"][0]["code"]["name"], "QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME");
    assert_eq!(v["findings"][0]["category"], "qsee_status");
    assert_eq!(v["firmware"]["keymasters"].as_array().unwrap().len(), 2);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn without_a_keymaster_that_names_the_trustlet_the_doctor_says_so() {
    let root = scratch("none");
    put(&root, "firmware/image/keymaster.mdt", b"\0widevine\0fingerprint\0");
    put(&root, "firmware/image/fpctzappfingerprint.mdt", b"\0");
    let out = run(&["explain", "--root", root.to_str().unwrap()], Some(MI4S_LOG));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("no keymaster image here names a fingerprint trustlet of this device"), "{text}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_log_with_nothing_failing_exits_0() {
    let out = run(
        &["explain"],
        Some("I ActivityManager: Start proc\nD fpc_tac : KEYMASTER_GET_AUTH_TOKEN_KEY returned status=0\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("summary: 2 lines read, 1 recognised, 0 failure(s)"));
}

/// A shared library exporting `HMI` (or not), built with the system C compiler.
fn module(path: &Path, with_hmi: bool) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let src = path.with_extension("c");
    std::fs::write(&src, if with_hmi { "int HMI = 1;\n" } else { "int other = 1;\n" }).unwrap();
    let status = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(path).arg(&src).status().unwrap();
    assert!(status.success());
    std::fs::remove_file(src).unwrap();
}

fn check(root: &Path) -> (Option<i32>, String) {
    let out = run(&["check", "--root", root.to_str().unwrap()], None);
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn check_walks_the_stack_and_names_the_failing_step() {
    let root = scratch("check");
    put(&root, "vendor/build.prop", b"ro.vendor.build.id=X\nro.hardware=qcom\n");
    put(
        &root,
        "vendor/etc/fphal.toml",
        b"[sensor]\nkind = \"misc-ioctl\"\nframe_width = 160\nframe_height = 160\nframe_device = \"/dev/fp_frames\"\n\
          [trustlet]\nkey_dir = \"/data/vendor/fphal\"\n",
    );
    let node = put(&root, "dev/fingerprint", b"");
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::create_dir_all(root.join("data/vendor/fphal")).unwrap();
    std::fs::set_permissions(root.join("data/vendor/fphal"), std::fs::Permissions::from_mode(0o700)).unwrap();

    // No module yet.
    let (code, text) = check(&root);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("OK      configuration") && text.contains("misc-ioctl"), "{text}");
    assert!(text.contains("OK      variant        qcom (ro.hardware in"), "{text}");
    assert!(text.contains("FAILED  module") && text.contains("fingerprint.qcom.so"), "{text}");

    // A module that is not a HAL module, then a 64-bit one in the 32-bit directory.
    module(&root.join("vendor/lib64/hw/fingerprint.qcom.so"), false);
    let (_, text) = check(&root);
    assert!(text.contains("does not export HMI"), "{text}");
    std::fs::remove_file(root.join("vendor/lib64/hw/fingerprint.qcom.so")).unwrap();
    module(&root.join("vendor/lib/hw/fingerprint.qcom.so"), true);
    let (_, text) = check(&root);
    assert!(text.contains("is 64-bit in a 32-bit directory"), "{text}");
    std::fs::remove_dir_all(root.join("vendor/lib")).unwrap();
    module(&root.join("vendor/lib64/hw/fingerprint.qcom.so"), true);
    let (_, text) = check(&root);
    assert!(text.contains("OK      module") && text.contains("exports HMI"), "{text}");

    // The node belongs to root with mode 0600: the system user cannot use it.
    assert!(text.contains("FAILED  sensor") && text.contains("/dev/fingerprint is owned by uid"), "{text}");
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, text) = check(&root);
    assert!(text.contains("OK      sensor"), "{text}");
    assert!(
        text.contains("skipped firmware") && text.contains("OK      key directory") && text.contains("OK      store"),
        "{text}"
    );
    assert_eq!(code, Some(0), "{text}");

    // A configuration that open() would refuse.
    put(&root, "vendor/etc/fphal.toml", b"[sensor]\nkind = \"misc-ioctl\"\npower = \"sometimes\"\n");
    let (code, text) = check(&root);
    assert_eq!(code, Some(1));
    assert!(text.contains("FAILED  configuration") && text.contains("sensor.power"), "{text}");
    let out = run(&["check", "--json", "--root", root.to_str().unwrap()], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["failed"].clone(), v["steps"][0]["status"].clone()),
        (serde_json::json!(true), serde_json::json!("failed"))
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn check_finds_the_qsee_trustlet_keymaster_and_library() {
    let root = scratch("qsee");
    put(&root, "vendor/build.prop", b"ro.hardware=tama\n");
    put(
        &root,
        "vendor/etc/fphal.toml",
        b"[sensor]\nkind = \"misc-ioctl\"\n[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\n",
    );
    put(&root, "vendor/firmware_mnt/image/fpctzfingerprint.mdt", b"\x7fELF\x01\x01\x01\0");
    put(&root, "vendor/firmware_mnt/image/keymaster64.mdt", b"\x7fELF\x01\x01\x01\0");
    let step = |text: &str| text.lines().find(|l| l.contains("firmware")).unwrap_or("").to_string();
    let (_, text) = check(&root);
    assert!(
        step(&text).contains("FAILED") && text.contains("set qsee.app_path = \"/vendor/firmware_mnt/image\""),
        "{text}"
    );
    std::fs::rename(root.join("vendor/firmware_mnt/image/fpctzfingerprint.mdt"), {
        std::fs::create_dir_all(root.join("odm/firmware")).unwrap();
        root.join("odm/firmware/fpctzfingerprint.mdt")
    })
    .unwrap();
    let (_, text) = check(&root);
    assert!(step(&text).contains("FAILED") && text.contains("libQSEEComAPI.so is not in the vendor library"), "{text}");
    put(&root, "vendor/lib64/libQSEEComAPI.so", b"\x7fELF");
    let (_, text) = check(&root);
    assert!(
        step(&text).contains("OK")
            && text.contains("/odm/firmware/fpctzfingerprint.mdt")
            && text.contains("tama protocol"),
        "{text}"
    );
    assert!(text.contains("skipped key directory") && text.contains("skipped store"), "{text}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// The sensor step of `check --json`: its status and detail.
fn sensor_step(root: &Path) -> (String, String) {
    let out = run(&["check", "--json", "--root", root.to_str().unwrap()], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = v["steps"].as_array().unwrap();
    let step = steps.iter().find(|s| s["name"] == "sensor").expect("a sensor step");
    let text = |key: &str| step[key].as_str().unwrap_or("").to_string();
    (text("status"), format!("{} / {}", text("detail"), text("fix")))
}

/// The virtual sensor (the example configuration, or no configuration at all) on a device whose
/// kernel has a fingerprint driver of one of the kernel kinds fails the sensor step, with the kind
/// to set; without such a driver (an emulator, a board without a sensor) the step is skipped.
#[test]
fn a_virtual_sensor_on_a_device_with_a_fingerprint_driver_is_named() {
    let root = scratch("virtual-on-a-phone");
    let (status, text) = sensor_step(&root);
    assert_eq!(status, "skipped", "{text}");
    // A platform device of that name without an interrupt attribute is no driver fphal can use.
    std::fs::create_dir_all(root.join("sys/bus/platform/devices/soc:fp_fpc1020")).unwrap();
    assert_eq!(sensor_step(&root).0, "skipped");
    put(&root, "sys/bus/platform/devices/soc:fp_fpc1020/irq", b"0\n");
    let (status, text) = sensor_step(&root);
    assert_eq!(status, "failed", "{text}");
    assert!(
        text.contains("/sys/bus/platform/devices/soc:fp_fpc1020") && text.contains("kind = \"fpc1020-sysfs\""),
        "{text}"
    );
    std::fs::remove_dir_all(root.join("sys")).unwrap();
    put(&root, "vendor/etc/fphal.toml", b"[sensor]\nkind = \"virtual\"\n");
    put(&root, "dev/fpc1020", b"");
    let (status, text) = sensor_step(&root);
    assert_eq!(status, "failed", "{text}");
    assert!(text.contains("kind = \"blocking-ioctl\""), "{text}");
    put(&root, "dev/fingerprint", b"");
    let (_, text) = check(&root);
    assert!(text.contains("FAILED  sensor") && text.contains("sensor.kind = \"misc-ioctl\""), "{text}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// The live-device touch step, driven through the system double of the kernel sensor kinds.
#[test]
fn the_touch_step_reports_an_interrupt_or_its_absence() {
    use fphal::sensor::kernel::double::{FakeKernel, Model};
    use fphal_tools::doctor::{Status, touch};
    use std::time::Duration;
    let kernel = FakeKernel::new("doctor-touch");
    let dev = kernel.device(Path::new("/dev/fingerprint"), Model::Misc);
    let config = fphal::config::Config::from_toml("[sensor]\nkind = \"misc-ioctl\"\n[trustlet]\nkind = \"soft\"\n");
    // Without frames the software trustlet is refused; the touch step only needs the interrupt.
    assert!(config.is_err());
    let mut config = fphal::config::Config::default();
    config.sensor.kind = "misc-ioctl".into();
    let mut prompt = Vec::new();
    let step = touch(&config, kernel.clone(), Duration::from_millis(300), &mut prompt);
    assert_eq!(step.status, Status::Failed, "{step:?}");
    assert!(step.detail.contains("no touch came"), "{step:?}");
    assert!(String::from_utf8_lossy(&prompt).contains("touch the fingerprint sensor"));

    let toucher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        dev.touch(None);
    });
    let step = touch(&config, kernel.clone(), Duration::from_secs(10), &mut Vec::new());
    toucher.join().unwrap();
    assert_eq!(step.status, Status::Ok, "{step:?}");
    assert!(step.detail.contains("interrupt fired"), "{step:?}");
}

/// docs/porting.md shows the Mi 4s explanation as the command prints it for [`firmware_tree`].
#[test]
fn the_example_in_porting_md_is_what_the_command_prints() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/porting.md")).unwrap();
    let block = &doc[doc.find("<!-- doctor-example").expect("the marked example")..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let shown = &block[..block.find("```").unwrap()];
    let root = scratch("docs");
    firmware_tree(&root);
    let out = run(&["explain", "--root", root.to_str().unwrap()], Some(MI4S_LOG));
    assert_eq!(String::from_utf8_lossy(&out.stdout), shown);
    let log_block = &doc[doc.find("The Xiaomi Mi 4s").unwrap()..];
    let log_block = &log_block[log_block.find("```text\n").unwrap() + 8..];
    assert_eq!(&log_block[..log_block.find("```").unwrap()], MI4S_LOG);
    std::fs::remove_dir_all(&root).unwrap();
}
