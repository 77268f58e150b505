//! The line recognisers. Each knows a family of lines by fixed text that its source prints (the
//! source is named with each), takes the number it carries and decodes it against the right table.

use super::codes::{self, Code};
use super::{Category, Decoded, Finding, Severity, ids};

/// The first recogniser that knows `line`.
pub(super) fn recognise(line: &str) -> Option<Finding> {
    const RULES: &[fn(&str) -> Option<Finding>] =
        &[fphal_line, selinux, key_status, trustlet_load, module_load, service];
    RULES.iter().find_map(|rule| rule(line))
}

fn finding(category: Category, severity: Severity, code: Option<Decoded>, meaning: String, fixes: &[&str]) -> Finding {
    Finding {
        line_number: 0,
        line: String::new(),
        category,
        severity,
        code,
        meaning,
        fixes: fixes.iter().map(|s| s.to_string()).collect(),
    }
}

/// The integer right after `marker` in `line` (decimal with an optional sign, or `0x` hex), as
/// written and as a value.
fn number_after<'a>(line: &'a str, marker: &str) -> Option<(&'a str, i64)> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let rest = rest.trim_start_matches([' ', ':', '=']);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(rest.len());
    let written = &rest[..end];
    let value = match written.strip_prefix("0x").or_else(|| written.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => written.parse::<i64>().ok()?,
    };
    Some((written, value))
}

/// `value` as the 32-bit status it is: the same bits signed and unsigned (-24, 4294967272 and
/// 0xFFFFFFE8 are one code). `None` when it does not fit 32 bits.
fn as_u32(value: i64) -> Option<u32> {
    if (i32::MIN as i64..=u32::MAX as i64).contains(&value) { Some(value as u32) } else { None }
}

/// Decodes `value` against `tables` (the signed value is looked up, or the unsigned one for a table
/// of unsigned codes); an unknown value names the tables searched.
fn decode(written: &str, value: i64, tables: &[(&'static [Code], &'static str)]) -> Decoded {
    let bits = as_u32(value);
    let signed = bits.map_or(value, |b| b as i32 as i64);
    let hex = bits.map_or_else(|| format!("{value:#x}"), |b| format!("0x{b:08X}"));
    for (table, source) in tables {
        let hit = codes::find(table, signed).or_else(|| bits.and_then(|b| codes::find(table, b as i64)));
        if let Some(code) = hit {
            return Decoded {
                written: written.to_string(),
                signed,
                hex,
                name: Some(code.name.to_string()),
                source: source.to_string(),
            };
        }
    }
    let searched: Vec<&str> = tables.iter().map(|(_, s)| *s).collect();
    Decoded { written: written.to_string(), signed, hex, name: None, source: searched.join("; ") }
}

fn meaning_of(code: &Decoded, tables: &[&'static [Code]]) -> &'static str {
    let name = code.name.as_deref().unwrap_or("");
    tables.iter().flat_map(|t| t.iter()).find(|c| c.name == name).map_or("", |c| c.meaning)
}

/// fphal's own lines, by their stable id.
fn fphal_line(line: &str) -> Option<Finding> {
    let m = ids::find(line)?;
    // fphal's keymaster lines carry the keymaster's status with the vendor HALs' wording: decoded
    // by the same tables.
    let code = key_status(line).and_then(|f| f.code);
    Some(finding(Category::Fphal, Severity::Failure, code, format!("{}: {}", m.id, m.meaning), m.fixes))
}

/// Vendor HAL lines that carry the keymaster trustlet's answer to "give me the auth-token key":
/// FPC's `fpc_tac` (`KEYMASTER_GET_AUTH_TOKEN_KEY returned status=%d`, techyminati/
/// android_vendor_oplus_secure fpc sw28 `fpc_tee_hw_auth_qsee.c`, and the older
/// `fpc_km_tac_get_encapsulated_key`), Sony's (`Keymaster Response Code : %u`,
/// `fpc_imp_yoshino_nile_tama.c` and `QSEEKeymasterTrustlet.cpp`), Egistec's (`get master key failed
/// , status = %d`, oplus `qsee_keymaster.c`) and Goodix's (`rsp.status:0x%x` in `gf_keymaster.c`,
/// `response status:0x%x` in `CaEntry.cpp`). The fingerprint TA's own answer to the key
/// (`FPC_SET_KEY_DATA Result: %d`) has no public table.
fn key_status(line: &str) -> Option<Finding> {
    const MARKERS: &[&str] = &[
        "KEYMASTER_GET_AUTH_TOKEN_KEY returned status",
        "Keymaster Response Code",
        "get master key failed , status",
        "rsp.status:",
        "response status:",
    ];
    if let Some((written, value)) = number_after(line, "FPC_SET_KEY_DATA Result") {
        if value == 0 {
            return None;
        }
        let code = decode(written, value, &[]);
        return Some(finding(
            Category::TrustletLoad,
            Severity::Failure,
            Some(Decoded { source: "FPC's trustlet status codes are not public".into(), ..code }),
            "the fingerprint trustlet refused the auth-token key it was given (FPC_SET_KEY_DATA); this usually \
             follows a keymaster answer that was not a key"
                .into(),
            &[
                "look at the keymaster status just before it (Keymaster Response Code) and fix that first",
                "the fingerprint trustlet and the keymaster trustlet may come from different firmware builds",
            ],
        ));
    }
    let (written, value) = MARKERS.iter().find_map(|m| number_after(line, m))?;
    let tables = [(codes::QSEE_MESSAGE, codes::QSEE_MESSAGE_SOURCE), (codes::KEYMASTER, codes::KEYMASTER_SOURCE)];
    let code = decode(written, value, &tables);
    if value == 0 {
        return Some(finding(
            Category::KeymasterStatus,
            Severity::Note,
            Some(code),
            "the keymaster trustlet answered with success".into(),
            &[],
        ));
    }
    let qsee = codes::find(codes::QSEE_MESSAGE, code.signed as u32 as i64).is_some();
    let category = if qsee { Category::QseeStatus } else { Category::KeymasterStatus };
    if super::is_bad_dest_appname_code(&code) {
        return Some(finding(
            category,
            Severity::Failure,
            Some(code),
            format!(
                "{}. The keymaster will not hand the auth-token key to the fingerprint trustlet, so the \
                 fingerprint HAL cannot start",
                codes::find(codes::QSEE_MESSAGE, 0xFF00_0FFC).map_or("", |c| c.meaning)
            ),
            &[
                "use a keymaster image whose whitelist names this device's fingerprint trustlet (run \
                 `fphal-doctor explain --root <device files>` to see which keymaster image names it)",
                "or use a fingerprint trustlet whose name the installed keymaster's whitelist holds (a keymaster and \
                 fingerprint firmware pair from the same ROM)",
                "check the order: the fingerprint trustlet must be loaded before the key is requested",
            ],
        ));
    }
    let meaning = match &code.name {
        Some(name) => format!(
            "the keymaster trustlet answered {name}: {}",
            meaning_of(&code, &[codes::QSEE_MESSAGE, codes::KEYMASTER])
        ),
        None => format!(
            "the keymaster trustlet answered {} ({}), a code in none of the known tables: unknown",
            code.written, code.hex
        ),
    };
    Some(finding(
        category,
        Severity::Failure,
        Some(code),
        meaning,
        &[
            "the keymaster firmware and the fingerprint HAL may come from different builds: use a matched pair",
            "look for QSEECOM and app-load lines just before this one",
        ],
    ))
}

/// Trustlets that did not load: libQSEEComAPI (`Error::Cannot open the file %s errno = %d`,
/// `Error::Loading image failed`, `Error::Load image request failed`; logcat of many devices), the
/// kernel's `drivers/misc/qseecom.c` (CAF msm-4.9: `scm_call to load app failed`, `failed to load
/// cmnlib`), and the vendor HALs' start_app lines (Sony `QSEEComFunc.c` "Could not load app", FPC
/// "start_app failed", Goodix "Load ta: ... failed" / "Loading ... failed", Egistec "Loading app ...
/// failed").
fn trustlet_load(line: &str) -> Option<Finding> {
    if let Some(at) = line.find("Error::Cannot open the file ") {
        let rest = &line[at + "Error::Cannot open the file ".len()..];
        let path = rest.split_whitespace().next().unwrap_or("");
        let errno =
            number_after(line, "errno").map(|(w, v)| decode(w, -v.abs(), &[(codes::ERRNO, codes::ERRNO_SOURCE)]));
        let (meaning, fixes): (String, &[&str]) = match errno.as_ref().map(|e| e.signed) {
            Some(-13) => (
                format!("the trustlet image {path} is there but may not be read (permission or SELinux)"),
                &["look for avc denials on firmware files (firmware_file, vendor_firmware_file) and allow them"],
            ),
            _ => (
                format!("the trustlet image {path} is not there"),
                &[
                    "check that the firmware partition is mounted at that path (/vendor/firmware_mnt, /firmware)",
                    "the HAL may look in the wrong directory or for the wrong name: compare with the .mdt files present",
                ],
            ),
        };
        return Some(finding(Category::TrustletLoad, Severity::Failure, errno, meaning, fixes));
    }
    let refused = [
        "Error::Loading image failed",
        "Error::Load image request failed",
        "scm_call to load app failed",
        "SCM_CALL to load app failed",
    ];
    if refused.iter().any(|m| line.contains(m)) {
        return Some(finding(
            Category::TrustletLoad,
            Severity::Failure,
            None,
            "TrustZone refused to load a trustlet image".into(),
            &[
                "the image is signed for another device or firmware version: take it from this device's own firmware",
                "a 32/64-bit common library (cmnlib, cmnlib64) must load first: check that its images are present",
                "the same trustlet may be loaded already under another name",
            ],
        ));
    }
    if line.contains("failed to load cmnlib") {
        return Some(finding(
            Category::TrustletLoad,
            Severity::Failure,
            None,
            "the common library trustlet (cmnlib/cmnlib64) did not load, so no trustlet that needs it can".into(),
            &["check that cmnlib.mdt/cmnlib64.mdt and their .bNN parts are in the firmware directory"],
        ));
    }
    if line.contains("does'nt exist, loading apps for first time") {
        return Some(finding(
            Category::TrustletLoad,
            Severity::Note,
            None,
            "the kernel loads a trustlet for the first time (not an error)".into(),
            &[],
        ));
    }
    let start_failed =
        ["start_app failed", "QSEECom_start_app failed", "fail to start keymaster TA", "Could not load app"];
    let named_failed = (line.contains("Load ta:") || line.contains("Loading app") || line.contains("] Loading "))
        && line.contains("failed");
    if start_failed.iter().any(|m| line.contains(m)) || named_failed {
        return Some(finding(
            Category::TrustletLoad,
            Severity::Failure,
            None,
            "a trustlet did not start; the QSEECOM lines just before it say why".into(),
            &[
                "check that the trustlet's image (name.mdt and name.b00..bNN, or name.mbn) is in the directory the HAL \
                 loads from",
                "the trustlet name the HAL asks for may differ from the image's name on this firmware",
            ],
        ));
    }
    None
}

/// libhardware (`hardware/libhardware/hardware.c`: `load: module=%s\n%s`, `load: couldn't find
/// symbol %s`, `load: id=%s != hmi->id=%s`) and the dynamic linker's reasons (bionic
/// `linker/linker.cpp`, `linker_phdr.cpp`: `dlopen failed: library "%s" not found`, `cannot locate
/// symbol "%s" referenced by "%s"`, `"%s" is 32-bit instead of 64-bit`).
fn module_load(line: &str) -> Option<Finding> {
    let (meaning, fixes): (String, &[&str]) = if line.contains("load: module=") {
        let module = line[line.find("load: module=")? + 13..].split_whitespace().next().unwrap_or("").to_string();
        (
            format!("libhardware found {module} but the dynamic linker could not load it; the next line says why"),
            &["read the dlopen line that follows"],
        )
    } else if line.contains("dlopen failed: library \"") && line.contains("not found") {
        (
            "a library the module needs is not found (or not visible from the vendor namespace)".into(),
            &[
                "ship the library in /vendor/lib*/ beside the module",
                "a /system library a vendor module links to is invisible to it from Android 8 on (VNDK): link \
                 it statically or use a VNDK library",
            ],
        )
    } else if line.contains("cannot locate symbol \"") {
        (
            "the module uses a symbol this Android's libraries do not have (built for a newer API level or another \
             libc)"
                .into(),
            &["rebuild the module for this device's API level (fphal's Android libraries target API 23)"],
        )
    } else if line.contains("is 32-bit instead of 64-bit") || line.contains("is 64-bit instead of 32-bit") {
        (
            "a module of the wrong word size: 64-bit processes load from lib64/hw, 32-bit ones from lib/hw".into(),
            &["install the arm64 build in /vendor/lib64/hw and the arm build in /vendor/lib/hw"],
        )
    } else if line.contains("load: couldn't find symbol") {
        (
            "the file is not a HAL module: it does not export HMI".into(),
            &["install fphal's libfphal.so as fingerprint.<variant>.so; check with readelf --dyn-syms | grep HMI"],
        )
    } else if line.contains("load: id=") && line.contains("!= hmi->id=") {
        (
            "the module's HMI says it is another kind of HAL than fingerprint".into(),
            &["a module of another HAL was installed under the fingerprint name"],
        )
    } else {
        return None;
    };
    Some(finding(Category::ModuleLoad, Severity::Failure, None, meaning, fixes))
}

/// What each errno from the module's `open` means for fphal (`src/error.rs`, `src/ffi/module.rs`).
fn open_errno_meaning(errno: i64) -> (&'static str, &'static [&'static str]) {
    match errno {
        -19 => ("the sensor's driver node is missing (fphal: FPH-0101)", ids::SENSOR_MISSING.fixes),
        -13 => ("a node or directory refused the service (fphal: FPH-0102)", ids::SENSOR_DENIED.fixes),
        -22 => ("the configuration was refused (fphal: FPH-0001 or FPH-0103)", ids::CONFIG_REFUSED.fixes),
        -16 => ("the device is open already in this process", &["only one client may open the sensor at a time"]),
        _ => ("the module's open failed; its own log lines say why", &["read the module's lines before this one"]),
    }
}

/// The HIDL 2.1 default service (`hardware/interfaces/biometrics/fingerprint/2.1/default/
/// BiometricsFingerprint.cpp`) and fingerprintd (`system/core/fingerprintd/FingerprintDaemonProxy.cpp`,
/// Android 6.x–7.x), which print the same open errors.
fn service(line: &str) -> Option<Finding> {
    let legacy = line.contains("fingerprintd");
    let category = if legacy { Category::Fingerprintd } else { Category::HidlService };
    let errno =
        |marker: &str| number_after(line, marker).map(|(w, v)| decode(w, v, &[(codes::ERRNO, codes::ERRNO_SOURCE)]));
    if let Some(code) = errno("Can't open fingerprint HW Module, error:") {
        let (meaning, fixes): (&str, &[&str]) = if code.signed == -2 {
            (
                "no fingerprint module file was found: libhardware tries fingerprint.<ro.hardware.fingerprint>.so, \
                 then the names from ro.hardware, ro.product.board, ro.board.platform, ro.arch and default, in \
                 /odm, /vendor and /system lib*/hw, and logs nothing when none exists",
                &[
                    "install the module as fingerprint.<variant>.so where variant is ro.hardware.fingerprint (set it) or \
                     ro.hardware",
                    "check the word size: a 64-bit service looks in lib64/hw",
                ],
            )
        } else {
            ("the module was found but could not be loaded", &["read the load: and dlopen lines before this one"])
        };
        return Some(finding(category, Severity::Failure, Some(code), meaning.into(), fixes));
    }
    if let Some(code) = errno("Can't open fingerprint methods, error:") {
        let (meaning, fixes) = open_errno_meaning(code.signed);
        return Some(finding(
            category,
            Severity::Failure,
            Some(code),
            format!("the module's open() failed: {meaning}"),
            fixes,
        ));
    }
    let notify = errno("Can't register fingerprint module callback, error:")
        .or_else(|| errno("Failed in call to set_notify(), err="));
    if let Some(code) = notify {
        return Some(finding(
            category,
            Severity::Failure,
            Some(code),
            "the module refused the notify callback (set_notify)".into(),
            &["the device is not the module's own, or it closed; read the module's lines before this one"],
        ));
    }
    if line.contains("Wrong fp version. Expected") {
        let (severity, meaning) = if legacy {
            (Severity::Note, "fingerprintd expected another module_api_version (it goes on regardless)")
        } else {
            (Severity::Failure, "the HIDL service needs a 2.1 module (module_api_version 0x0201) and stops here")
        };
        return Some(finding(category, severity, None, meaning.into(), &["use a module that reports version 2.1"]));
    }
    if line.contains("Can't open HAL module")
        || line.contains("No valid fingerprint module")
        || line.contains("No valid open method")
    {
        return Some(finding(
            category,
            Severity::Failure,
            None,
            "the service has no fingerprint HAL; the lines before it say why".into(),
            &["read the module-load and open lines before this one"],
        ));
    }
    None
}

/// The domains and file types of the fingerprint stack, for [`selinux`].
const STACK_TYPES: &[&str] = &[
    "fingerprintd",
    "fphal_data_file",
    "fingerprintd_data_file",
    "fingerprint_device",
    "fingerprint_vendor_data_file",
    "sysfs_fingerprint",
    "tee_device",
];

/// An SELinux denial (`security/selinux/avc.c`: `avc: denied { perms } for ... scontext=%s
/// tcontext=%s tclass=%s permissive=%u`; logd keeps that text) whose source or target belongs to the
/// fingerprint stack: the rule that would allow it.
fn selinux(line: &str) -> Option<Finding> {
    let at = line.find("avc:")?;
    let rest = &line[at..];
    if !rest.contains("denied") {
        return None;
    }
    let perms = &rest[rest.find('{')? + 1..rest.find('}')?];
    let field = |name: &str| -> Option<&str> {
        let v = &rest[rest.find(&format!(" {name}="))? + name.len() + 2..];
        Some(v.split_whitespace().next().unwrap_or(""))
    };
    let type_of = |context: &str| context.split(':').nth(2).unwrap_or("").to_string();
    let source = type_of(field("scontext")?);
    let target = type_of(field("tcontext")?);
    let class = field("tclass")?.to_string();
    let ours = |t: &str| t.starts_with("hal_fingerprint") || STACK_TYPES.contains(&t) || t.contains("fingerprint");
    if !ours(&source) && !ours(&target) {
        return None;
    }
    let permissive = field("permissive") == Some("1");
    let rule = format!("allow {source} {target}:{class} {{ {} }};", perms.trim());
    let meaning = format!(
        "SELinux {} {source} {} on {target} ({class}){}",
        if permissive { "would deny" } else { "denied" },
        perms.trim(),
        if permissive { ", allowed only because the domain is permissive" } else { "" }
    );
    let mut f =
        finding(Category::Selinux, if permissive { Severity::Note } else { Severity::Failure }, None, meaning, &[]);
    f.fixes = vec![
        format!("add to the device's policy: {rule}"),
        "or label the file with a type the domain may use already (file_contexts, genfs_contexts)".into(),
    ];
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_signed_unsigned_and_hex() {
        assert_eq!(number_after("status=-16773124 x", "status"), Some(("-16773124", -16773124)));
        assert_eq!(number_after("Code : 4294967272", "Code"), Some(("4294967272", 4294967272)));
        assert_eq!(number_after("rsp.status:0xff000ffc,", "rsp.status:"), Some(("0xff000ffc", 0xFF00_0FFC)));
        assert_eq!(number_after("status=abc", "status"), None);
        let tables = [(codes::KEYMASTER, "km")];
        for written in ["-24", "4294967272", "0xFFFFFFE8"] {
            let (_, v) = number_after(&format!("s={written}"), "s").unwrap();
            assert_eq!(decode(written, v, &tables).name.as_deref(), Some("KM_ERROR_KEY_NOT_YET_VALID"), "{written}");
        }
        let unknown = decode("-7777", -7777, &tables);
        assert_eq!((unknown.name, unknown.source.as_str()), (None, "km"));
        assert_eq!(decode("99999999999", 99_999_999_999, &tables).name, None, "wider than 32 bits: no guess");
    }
}
