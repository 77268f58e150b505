//! The porter files (android/, Android.bp, Android.mk, docs/porting.md) name the same paths as the
//! library's built-in Android defaults, so that a device built from them finds what fphal looks for.

use fphal::config::{
    ANDROID_CONFIG_PATH, ANDROID_DATA_DIR, ANDROID_LEGACY_DATA_DIR, ANDROID_RUN_SUBDIR, Config, MatcherConfig,
};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const ANDROID_TRIPLES: [&str; 4] =
    ["aarch64-linux-android", "armv7-linux-androideabi", "x86_64-linux-android", "i686-linux-android"];

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn porter_files() -> Vec<String> {
    let mut files = vec!["Android.bp".to_string(), "Android.mk".to_string(), "docs/porting.md".to_string()];
    let mut dirs = vec![PathBuf::from(ROOT).join("android")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path.strip_prefix(ROOT).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    files
}

fn run_dir(data: &str) -> String {
    format!("{data}/{ANDROID_RUN_SUBDIR}")
}

/// Every path below fphal's Android directories or its configuration path, as written in `text`.
fn fphal_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for start in ["/data/vendor/fphal", "/data/misc/fphal", "/vendor/etc/fphal", "/system/vendor/etc/fphal"] {
        let mut rest = text;
        while let Some(at) = rest.find(start) {
            let tail = &rest[at..];
            let end = tail.find(|c: char| c.is_whitespace() || "`'\"():;,|".contains(c)).unwrap_or(tail.len());
            found.push(tail[..end].trim_end_matches(['.', '/']).to_string());
            rest = &tail[start.len()..];
        }
    }
    found
}

#[test]
fn every_fphal_path_in_the_porter_files_is_a_built_in_default() {
    let mut allowed = vec![
        ANDROID_CONFIG_PATH.to_string(),
        format!("/system{ANDROID_CONFIG_PATH}"),
        ANDROID_DATA_DIR.to_string(),
        ANDROID_LEGACY_DATA_DIR.to_string(),
    ];
    allowed.extend([run_dir(ANDROID_DATA_DIR), run_dir(ANDROID_LEGACY_DATA_DIR)]);
    let mut seen = 0;
    for file in porter_files() {
        for path in fphal_paths(&read(&file)) {
            let socket = [ANDROID_DATA_DIR, ANDROID_LEGACY_DATA_DIR]
                .iter()
                .any(|d| path.starts_with(&format!("{}/fphal-sensor-", run_dir(d))));
            assert!(
                allowed.contains(&path) || socket,
                "{file} names {path}, which is none of fphal's Android defaults"
            );
            seen += 1;
        }
    }
    assert!(seen >= 20, "the porter files name fphal's paths ({seen} found)");
}

/// The `mkdir` lines of an init snippet: (path, mode, owner, group).
fn mkdirs(rc: &str) -> Vec<(String, String, String, String)> {
    rc.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&"mkdir")).then(|| (f[1].into(), f[2].into(), f[3].into(), f[4].into()))
        })
        .collect()
}

#[test]
fn the_init_snippets_create_the_default_directories_private_to_the_service_user() {
    for (rc, data) in
        [("android/init/fphal.rc", ANDROID_DATA_DIR), ("android/init/fphal-legacy.rc", ANDROID_LEGACY_DATA_DIR)]
    {
        let dirs = mkdirs(&read(rc));
        let paths: Vec<&str> = dirs.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(paths, [data.to_string(), run_dir(data)], "{rc}");
        for (path, mode, owner, group) in &dirs {
            assert_eq!((mode.as_str(), owner.as_str(), group.as_str()), ("0700", "system", "system"), "{rc}: {path}");
        }
    }
    // fingerprintd (6.x-7.x) has no service of its own in AOSP: the snippet defines it, as system.
    let legacy = read("android/init/fphal-legacy.rc");
    assert!(legacy.contains("service fingerprintd /system/bin/fingerprintd\n    class late_start\n    user system\n"));
}

#[test]
fn the_selinux_file_contexts_label_the_default_directories() {
    for (contexts, data) in [
        ("android/sepolicy/vendor/file_contexts", ANDROID_DATA_DIR),
        ("android/sepolicy/legacy/file_contexts", ANDROID_LEGACY_DATA_DIR),
    ] {
        let text = read(contexts);
        let line = format!("{data}(/.*)?");
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == [line.as_str(), "u:object_r:fphal_data_file:s0"]),
            "{contexts} must label {line} as fphal_data_file"
        );
    }
}

#[test]
fn the_shipped_configurations_are_the_built_in_android_defaults_written_out() {
    for (file, data) in
        [("android/fphal.toml", ANDROID_DATA_DIR), ("android/fphal-legacy.toml", ANDROID_LEGACY_DATA_DIR)]
    {
        let shipped = Config::from_toml(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(shipped.trustlet.key_dir.as_deref(), Some(Path::new(data)), "{file}");
        assert_eq!(shipped.sensor.runtime_dir, Some(PathBuf::from(run_dir(data))), "{file}");
        let mut as_default = shipped.clone();
        as_default.trustlet.key_dir = None;
        as_default.sensor.runtime_dir = None;
        assert_eq!(as_default, Config::default(), "every other value in {file} is the default");
    }
    assert_eq!(Config::default().matcher, MatcherConfig::default());
    // Both build files install it under the name and directory fphal reads.
    let (dir, name) = ANDROID_CONFIG_PATH.rsplit_once('/').unwrap();
    assert_eq!((dir, name), ("/vendor/etc", "fphal.toml"));
    let bp = read("Android.bp");
    assert!(
        bp.contains("prebuilt_etc {\n    name: \"fphal.toml\",\n    src: \"android/fphal.toml\",\n    vendor: true,")
    );
    let mk = read("Android.mk");
    assert!(mk.contains("LOCAL_MODULE := fphal.toml\nLOCAL_MODULE_CLASS := ETC\nLOCAL_PROPRIETARY_MODULE := true"));
    assert!(
        mk.contains("LOCAL_SRC_FILES := android/fphal-legacy.toml")
            && mk.contains("LOCAL_SRC_FILES := android/fphal.toml")
    );
}

#[test]
fn the_build_files_take_the_libraries_where_the_cross_build_leaves_them() {
    let cross = read("scripts/cross.sh");
    for triple in ANDROID_TRIPLES {
        assert!(cross.contains(triple), "scripts/cross.sh builds {triple}");
        let lib = format!("target/{triple}/release/libfphal.so");
        for file in ["Android.bp", "Android.mk"] {
            assert!(read(file).contains(&lib), "{file} takes {lib}");
        }
    }
    for (file, line) in
        [("Android.bp", "relative_install_path: \"hw\","), ("Android.mk", "LOCAL_MODULE_RELATIVE_PATH := hw\n")]
    {
        assert!(read(file).contains(line), "{file} installs into lib*/hw ({line})");
    }
    assert_eq!(read("Android.bp").matches("relative_install_path: \"hw\",").count(), 2, "both Android.bp modules");
    assert!(read("android/device.mk").contains("ro.hardware.fingerprint=$(FPHAL_VARIANT)"));
    // Soong gives the Rust sources CARGO_PKG_VERSION only as Android.bp states it.
    let version = format!("cargo_pkg_version: \"{}\",", env!("CARGO_PKG_VERSION"));
    assert!(read("Android.bp").contains(&version), "Android.bp must say {version}");
}

/// The configuration examples in porting.md's sensor section are what the library reads: each parses,
/// except the one the text says needs a TEE trustlet (refused by naming the key); so does section 10's.
#[test]
fn the_sensor_kind_examples_in_porting_md_are_read_as_documented() {
    let text = read("docs/porting.md");
    let toml_blocks = |from: &str, to: Option<&str>| -> Vec<String> {
        let start = text.find(from).expect(from);
        let end = to.map_or(text.len(), |t| text.find(t).expect(t));
        let section = &text[start..end];
        section.split("```toml\n").skip(1).map(|b| b[..b.find("```").unwrap()].to_string()).collect()
    };
    let blocks = toml_blocks("## 8. Which sensor kind", Some("## 9."));
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    let e = Config::from_toml(&blocks[0]).expect_err("a TEE-only sensor needs a TEE trustlet");
    assert!(e.0.contains("sensor.frame_width"), "{e}");
    let c = Config::from_toml(&blocks[1]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((c.sensor.kind.as_str(), c.sensor.frame_width), ("blocking-ioctl", 192));
    // Section 10's QSEE example is read as it stands.
    let blocks = toml_blocks("## 10. A QSEE phone", None);
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    let c = Config::from_toml(&blocks[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((c.trustlet.kind.as_str(), c.qsee.generation.as_str()), ("qsee-fpc", "tama"));
}
