//! Why a fingerprint stack fails, read from its logs and its files: the code tables (each with its
//! source), the recognisers of logcat and dmesg lines, and the firmware whitelist scan. The
//! `fphal-doctor` tool only reads and prints; fphal's own error lines carry the ids of [`ids`].

pub mod codes;
pub mod firmware;
pub mod ids;
mod rules;

use serde::Serialize;

/// What part of the stack a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A QSEE inter-app message status (`QSEE_MESSAGE_ERROR_*`).
    QseeStatus,
    /// A keymaster status (`keymaster_error_t`).
    KeymasterStatus,
    /// A trustlet that did not load, or a trustlet command that failed.
    TrustletLoad,
    /// libhardware finding and loading the module.
    ModuleLoad,
    /// The HIDL 2.1 default service.
    HidlService,
    /// The legacy fingerprintd (Android 6.x and 7.x).
    Fingerprintd,
    /// An SELinux denial touching the fingerprint stack.
    Selinux,
    /// fphal's own lines.
    Fphal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The stack fails here.
    Failure,
    /// Worth knowing; the stack may go on.
    Note,
}

/// A number from a line, decoded against a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoded {
    /// As written in the line.
    pub written: String,
    /// As a signed 32-bit value.
    pub signed: i64,
    /// As unsigned 32-bit hex.
    pub hex: String,
    /// The name, when a table knows the value.
    pub name: Option<String>,
    /// Where the table comes from (or which tables were searched, for an unknown code).
    pub source: String,
}

/// What one recognised line means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub line_number: usize,
    pub line: String,
    pub category: Category,
    pub severity: Severity,
    pub code: Option<Decoded>,
    pub meaning: String,
    /// Most likely first.
    pub fixes: Vec<String>,
}

/// Everything recognised in a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub lines_read: usize,
    pub findings: Vec<Finding>,
}

impl Explanation {
    /// Whether any recognised line says the stack fails.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Failure)
    }

    /// How many findings of each category, in category order.
    pub fn counts(&self) -> Vec<(Category, usize)> {
        let mut counts: Vec<(Category, usize)> = Vec::new();
        for f in &self.findings {
            match counts.iter_mut().find(|(c, _)| *c == f.category) {
                Some((_, n)) => *n += 1,
                None => counts.push((f.category, 1)),
            }
        }
        counts.sort();
        counts
    }
}

/// Reads logcat or dmesg text: every line it recognises, with what it means; unknown lines are
/// skipped.
pub fn explain(text: &str) -> Explanation {
    let lines: Vec<&str> = text.lines().collect();
    let mut findings = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(mut f) = rules::recognise(line) {
            f.line_number = i + 1;
            f.line = line.trim_end().to_string();
            findings.push(f);
        }
    }
    Explanation { lines_read: lines.len(), findings }
}

/// Whether a finding is the keymaster refusing the fingerprint trustlet's name, for which the
/// firmware's whitelists say more.
pub fn is_bad_dest_appname(f: &Finding) -> bool {
    f.code.as_ref().is_some_and(is_bad_dest_appname_code)
}

fn is_bad_dest_appname_code(c: &Decoded) -> bool {
    c.name.as_deref() == Some("QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line of each category the doctor knows, with what it must say of it.
    const FIXTURES: &[(&str, Category, Severity, &str)] = &[
        (
            "10-08 19:59:21.699  1732  1732 E fpc_tac : fpc_km_tac_get_encapsulated_key KEYMASTER_GET_AUTH_TOKEN_KEY returned status=-16773124",
            Category::QseeStatus,
            Severity::Failure,
            "QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME",
        ),
        (
            "E FPC IMP: Keymaster Response Code : 4294967272",
            Category::KeymasterStatus,
            Severity::Failure,
            "KM_ERROR_KEY_NOT_YET_VALID",
        ),
        (
            "E [gf_keymaster]: [gf_km_get_key] km get key ret:0, token_rsp:0x7f12, rsp.status:0xffffffe8, rsp.offset:0, rsp.len:0",
            Category::KeymasterStatus,
            Severity::Failure,
            "KM_ERROR_KEY_NOT_YET_VALID",
        ),
        (
            "E FPC IMP: FPC_SET_KEY_DATA Result: -6",
            Category::TrustletLoad,
            Severity::Failure,
            "refused the auth-token key",
        ),
        (
            "E QSEECOMAPI: Error::Cannot open the file /vendor/firmware_mnt/image/fpctzappfingerprint.mdt errno = 2",
            Category::TrustletLoad,
            Severity::Failure,
            "is not there",
        ),
        (
            "E QSEECOMAPI: Error::Cannot open the file /vendor/firmware_mnt/image/keymaster.mdt errno = 13",
            Category::TrustletLoad,
            Severity::Failure,
            "may not be read",
        ),
        (
            "<3>[ 5.1] QSEECOM: qseecom_load_app: scm_call to load app failed",
            Category::TrustletLoad,
            Severity::Failure,
            "TrustZone refused",
        ),
        ("E fpc_tac : fpc_tac_open start_app failed: -1", Category::TrustletLoad, Severity::Failure, "did not start"),
        (
            "E HAL     : load: module=/vendor/lib64/hw/fingerprint.msm8952.so",
            Category::ModuleLoad,
            Severity::Failure,
            "could not load it",
        ),
        (
            "E HAL     : dlopen failed: cannot locate symbol \"__register_atfork\" referenced by \"/vendor/lib64/hw/fingerprint.msm8952.so\"...",
            Category::ModuleLoad,
            Severity::Failure,
            "symbol",
        ),
        (
            "E HAL     : dlopen failed: library \"libfpc_tac.so\" not found",
            Category::ModuleLoad,
            Severity::Failure,
            "not found",
        ),
        (
            "E HAL     : dlopen failed: \"/vendor/lib/hw/fingerprint.x.so\" is 32-bit instead of 64-bit",
            Category::ModuleLoad,
            Severity::Failure,
            "word size",
        ),
        ("E HAL     : load: couldn't find symbol HMI", Category::ModuleLoad, Severity::Failure, "does not export HMI"),
        (
            "E android.hardware.biometrics.fingerprint@2.1-service: Can't open fingerprint HW Module, error: -2",
            Category::HidlService,
            Severity::Failure,
            "no fingerprint module file",
        ),
        (
            "E android.hardware.biometrics.fingerprint@2.1-service: Can't open fingerprint methods, error: -19",
            Category::HidlService,
            Severity::Failure,
            "FPH-0101",
        ),
        (
            "E android.hardware.biometrics.fingerprint@2.1-service: Wrong fp version. Expected 513, got 512",
            Category::HidlService,
            Severity::Failure,
            "2.1 module",
        ),
        (
            "E fingerprintd: Failed in call to set_notify(), err=-22",
            Category::Fingerprintd,
            Severity::Failure,
            "set_notify",
        ),
        (
            "W fingerprint@2.1: type=1400 audit(0.0:42): avc: denied { read write } for name=\"fingerprint\" dev=\"tmpfs\" \
             ino=1234 scontext=u:r:hal_fingerprint_default:s0 tcontext=u:object_r:device:s0 tclass=chr_file permissive=0",
            Category::Selinux,
            Severity::Failure,
            "allow hal_fingerprint_default device:chr_file { read write };",
        ),
        (
            "E fphal   : FPH-0101 sensor: open /dev/fingerprint: No such file or directory (os error 2)",
            Category::Fphal,
            Severity::Failure,
            "driver node is not there",
        ),
    ];

    fn text(f: &Finding) -> String {
        format!("{} {} {:?}", f.meaning, f.fixes.join(" "), f.code.as_ref().and_then(|c| c.name.clone()))
    }

    #[test]
    fn every_category_is_recognised_with_its_diagnosis() {
        for (line, category, severity, says) in FIXTURES {
            let e = explain(line);
            assert_eq!(e.findings.len(), 1, "{line}");
            let f = &e.findings[0];
            assert_eq!((f.category, f.severity), (*category, *severity), "{line}");
            assert!(text(f).contains(says), "{line}: {}", text(f));
        }
    }

    #[test]
    fn an_unknown_code_is_reported_unknown_and_an_unknown_line_skipped() {
        let e = explain(
            "I ActivityManager: Start proc 1234:com.android.settings\n\
             E fpc_tac : KEYMASTER_GET_AUTH_TOKEN_KEY returned status=-7777\n\
             avc: denied { read } for scontext=u:r:untrusted_app:s0 tcontext=u:object_r:proc:s0 tclass=file permissive=0\n",
        );
        assert_eq!(e.lines_read, 3);
        assert_eq!(e.findings.len(), 1, "{e:?}");
        let f = &e.findings[0];
        let code = f.code.as_ref().unwrap();
        assert_eq!(code.name, None);
        assert!(
            f.meaning.contains("unknown")
                && code.source.contains("qsee_message.h")
                && code.source.contains("keymaster_defs.h")
        );
        assert!(e.failed());
    }

    #[test]
    fn a_log_of_successes_fails_nothing() {
        let e = explain(
            "D fpc_tac : KEYMASTER_GET_AUTH_TOKEN_KEY returned status=0\nD QSEECOM: qseecom_load_app: App (keymaster) does'nt exist, loading apps for first time\n",
        );
        assert_eq!(e.findings.len(), 2);
        assert!(!e.failed());
    }
}
