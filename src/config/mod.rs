//! Configuration: one TOML file whose every key has a documented default.
//!
//! The file is named by `FPHAL_CONFIG`; on Android, when that variable is unset,
//! `/vendor/etc/fphal.toml` is read if it exists. With no file at all the embedded defaults run the
//! software stack (virtual sensor and in-process trustlet). A file that cannot be read or parsed,
//! or that has an unknown key or a value out of range, is refused as a whole: `open` fails with
//! `-EINVAL` and the log says which key is wrong.

mod reader;

use crate::fsutil::{self, FileRules, Owner};
use crate::matcher::{MIN_THRESHOLD, SCORE_RANGE};
use std::path::{Path, PathBuf};

/// Largest configuration file read: the example with every key is about 2 KiB.
pub const MAX_CONFIG_LEN: u64 = 64 * 1024;
/// CDD 7.3.10: at most this many false trials before a lockout ...
pub const CDD_MAX_FALSE_TRIALS: u32 = 5;
/// ... and a lockout of at least this long (milliseconds).
pub const CDD_MIN_LOCKOUT_MS: u64 = 30_000;
/// Limits no switch lifts: trials, lockout length (a day), fingers per group, token age (an hour).
pub const MAX_FALSE_TRIALS: u32 = 20;
pub const MAX_LOCKOUT_MS: u64 = 24 * 60 * 60 * 1000;
pub const MAX_FINGERS: u32 = 20;
pub const MAX_TOKEN_AGE_SEC: u64 = 3600;
/// The longest settle time a sensor may ask for (milliseconds).
pub const MAX_MIN_CONTACT_MS: u32 = 5000;

/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "FPHAL_CONFIG";
/// Fixed vendor path read on Android when `FPHAL_CONFIG` is unset.
pub const ANDROID_CONFIG_PATH: &str = "/vendor/etc/fphal.toml";
/// Android's default key directory from 8.0, where `/data/vendor` holds vendor processes' data.
pub const ANDROID_DATA_DIR: &str = "/data/vendor/fphal";
/// Android's default key directory on 6.x and 7.x, which have no `/data/vendor`.
pub const ANDROID_LEGACY_DATA_DIR: &str = "/data/misc/fphal";
/// Android's default runtime directory: this subdirectory of the key directory.
pub const ANDROID_RUN_SUBDIR: &str = "run";

/// The Android data directory of this device when the configuration names none: the legacy one only
/// when `/data/vendor` is known to be missing (6.x-7.x). Any other answer (a denied `stat`, say) keeps
/// [`ANDROID_DATA_DIR`], so that keys never move because of a transient error. A path set in the
/// configuration file always wins over both. Decided once per process (the key and runtime
/// directories both derive from it, and `/data/vendor` does not come or go while Android runs).
fn android_data_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(choose_android_data_dir).clone()
}

fn choose_android_data_dir() -> PathBuf {
    match std::fs::metadata("/data/vendor") {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            log::info!("no /data/vendor (Android 6.x-7.x): default data directory {ANDROID_LEGACY_DATA_DIR}");
            PathBuf::from(ANDROID_LEGACY_DATA_DIR)
        }
        Ok(m) if !m.is_dir() => {
            log::warn!("/data/vendor is not a directory: default data directory {ANDROID_LEGACY_DATA_DIR}");
            PathBuf::from(ANDROID_LEGACY_DATA_DIR)
        }
        _ => PathBuf::from(ANDROID_DATA_DIR),
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub log: LogConfig,
    pub sensor: SensorConfig,
    pub trustlet: TrustletConfig,
    pub qsee: QseeConfig,
    pub enroll: EnrollConfig,
    pub lockout: LockoutConfig,
    pub matcher: MatcherConfig,
    pub quality: QualityConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`. `FPHAL_LOG` overrides it. Default `info`.
    pub level: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SensorConfig {
    /// `virtual` (a Unix socket that takes images), or a kernel driver: `fpc1020-sysfs`,
    /// `misc-ioctl` or `blocking-ioctl` (see `sensor::kernel`).
    pub kind: String,
    /// Directory for the virtual sensor's socket: created 0700, and refused when it belongs to
    /// another user or others may write it. Default: `$XDG_RUNTIME_DIR/fphal`, else
    /// `/tmp/fphal-<uid>` (on Android `/data/vendor/fphal/run`, or `/data/misc/fphal/run` on 6.x–7.x,
    /// which have no `/data/vendor`). The socket is
    /// `fphal-sensor-<pid>-<n>.sock`.
    pub runtime_dir: Option<PathBuf>,
    /// A finger lifted sooner than this after its image was taken was too fast
    /// (ACQUIRED_TOO_FAST); the virtual sensor waits this long before handing an image on.
    /// 0 turns the check off. Default 40.
    pub min_contact_ms: u32,
    /// Kernel kinds: the driver's node. `fpc1020-sysfs`: its sysfs directory (default: the one
    /// device under `/sys/bus/platform/devices` whose name contains `device_name`); `misc-ioctl`:
    /// default `/dev/fingerprint`; `blocking-ioctl`: default `/dev/fpc1020`.
    pub device: Option<PathBuf>,
    /// `fpc1020-sysfs`: the fragment of the platform device's name searched for. Default `fpc1020`.
    pub device_name: String,
    /// Kernel kinds: `always` (powered from open to close) or `operation` (powered only while an
    /// operation waits for a finger; some sensors stop answering when power is toggled). Default
    /// `always`.
    pub power: String,
    /// Kernel kinds: pulse the reset line at open. Default true.
    pub reset_on_open: bool,
    /// Kernel kinds: the wakelock held from an interrupt to its result: `auto` (on Android the
    /// driver's for `misc-ioctl`, else `sysfs`; none elsewhere), `sysfs` (`/sys/power/wake_lock`),
    /// `driver`, or `none`. Default `auto`.
    pub wakelock: String,
    /// Kernel kinds: the wakelock's timeout, after which the kernel drops it even if fphal does not,
    /// 100..=10000 ms. Default 1000.
    pub wakelock_ms: u32,
    /// Kernel kinds: the frame the driver hands over after an interrupt, `frame_width` ×
    /// `frame_height` samples of `frame_bits` bits at `frame_dpi`. A width of 0 (the default)
    /// means the driver hands over no image: the trustlet captures.
    pub frame_width: u32,
    pub frame_height: u32,
    /// 8 (a byte a sample), or 9..=16 (two bytes, little-endian). Default 8.
    pub frame_bits: u32,
    /// Default 500.
    pub frame_dpi: u32,
    /// The node frames are read from. Default: the kind's device node.
    pub frame_device: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrustletConfig {
    /// Only `soft` (the in-process software trustlet) exists in this build.
    pub kind: String,
    /// Directory for the device key and, unless `auth_key_file` is set, the auth-token key.
    /// Must be outside every group path. Default: `$XDG_STATE_HOME/fphal`, else
    /// `$HOME/.local/state/fphal`, else `/tmp/fphal-<uid>` (on Android `/data/vendor/fphal`, or
    /// `/data/misc/fphal` on 6.x–7.x).
    pub key_dir: Option<PathBuf>,
    /// The 32-byte auth-token key shared with the gatekeeper. Default: `<key_dir>/auth_token.key`,
    /// created on first use.
    pub auth_key_file: Option<PathBuf>,
    /// Accept and mint tokens with an all-zero HMAC, as the emulator does. Never on a real device.
    pub insecure_zero_hmac: bool,
    /// Oldest enroll token accepted, in seconds of `CLOCK_BOOTTIME`, 1..=3600. Default 600.
    pub token_max_age_sec: u64,
    /// Fingers a group may hold, 1..=20. Default 5.
    pub max_fingers: u32,
}

/// The QSEE bridge (`trustlet.kind = "qsee-fpc"`): Qualcomm's QSEECom library, the FPC trustlet and
/// the keymaster trustlet that hands it the auth-token key. Only that kind reads these keys.
#[derive(Debug, Clone, PartialEq)]
pub struct QseeConfig {
    /// The QSEECom client library, opened at run time. Default `libQSEEComAPI.so`.
    pub library: String,
    /// The FPC trustlet's protocol generation: `loire` (loire, tone), `yoshino`, `nile` or `tama`.
    /// No default: a wrong generation sends wrong commands.
    pub generation: String,
    /// The trustlet's image name. Default: the generation's (`tzfingerprint`, `fpctzapp`,
    /// `fpctzfingerprint`).
    pub app_name: String,
    /// The directory of the trustlet's image. Default: the generation's.
    pub app_path: Option<PathBuf>,
    /// The trustlet's QSEECom buffer, 1024..=1048576 bytes. Default 1024.
    pub app_buffer_size: u32,
    /// The keymaster trustlet's names, tried in order, comma-separated. Default: the generation's
    /// (`keymaster64,keymaster`; loire `keymaste,keymaster`).
    pub keymaster_names: String,
    /// The directory of the keymaster's image. Default: the generation's (the library's own default
    /// directory, or `/vendor/firmware_mnt/image` on loire).
    pub keymaster_path: Option<PathBuf>,
    /// Where the buffers that carry commands come from: `auto` (the DMA-BUF heap node if present,
    /// else ION, legacy on kernels before 4.12), `dmabuf`, `ion`, `ion-legacy`, or `memfd` (hosts and
    /// tests, where no secure world reads them). Default `auto`.
    pub shared_heap: String,
    /// The DMA-BUF heap node. Default `/dev/dma_heap/qcom,qseecom`.
    pub heap_node: Option<PathBuf>,
    /// The ION heap, 0..=31. Default 27 (`ION_QSECOM_HEAP_ID` of Qualcomm's `msm_ion.h`).
    pub ion_heap_id: u32,
    /// Trustlet errors in a row after which the whole session is restarted, 1..=100. Default 3.
    pub max_errors: u32,
    /// The longest wait between restarts of a failing trustlet, 100..=600000 ms; the wait starts
    /// at 250 ms and doubles. Default 16000.
    pub restart_max_ms: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrollConfig {
    /// Good touches an enrollment needs. Default 14: on a 160-px sensor with placements within
    /// ±1/4 of the side and ±15°, 10 already cover 97.5% of a later touch on average
    /// (`fphal-synth-bench --coverage`), but more views give a touch more chances to meet one
    /// it lines up with: at FAR ≤ 1/50,000 the synthetic FRR was 7.25% with 14 against 12.8% with 10
    /// (both measured before bifurcations were oriented by tracing; with 14 views 1.95% at the
    /// threshold now, on synthetic fingers that differ as real ones do and probes turned any way).
    pub samples: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockoutConfig {
    /// False trials in a row that lock the group, 1..=5 (CDD 7.3.10); up to 20 with
    /// `insecure_weak`. Default 5.
    pub max_false_trials: u32,
    /// How long a lockout lasts, in milliseconds: 30,000 (CDD 7.3.10) to 86,400,000 (a day); less
    /// only with `insecure_weak`. Default 30000.
    pub duration_ms: u64,
    /// Allows a lockout weaker than CDD 7.3.10 (more trials, a shorter duration), for tests and
    /// development boards only. Logged as INSECURE at every open. Default false.
    pub insecure_weak: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatcherConfig {
    /// Score at or above which a capture matches a finger, `matcher::MIN_THRESHOLD` (0.17) to 1.
    /// Default: the engine's operating point (`matcher::DEFAULT_THRESHOLD`, 0.17, derived from
    /// synthetic and real impostor comparisons; it is the floor too, so without
    /// `insecure_low_threshold` it may only be raised).
    pub threshold: f32,
    /// Allows a threshold below `matcher::MIN_THRESHOLD` (never below 0), for a device maker who
    /// measured its own sensor's impostors. Logged as INSECURE at every open. Default false.
    pub insecure_low_threshold: bool,
    /// A match scoring at least this adds its capture to the finger's template when the capture
    /// shows skin no view of it shows (template update). From `threshold` to 1. Default 0.30, above
    /// every impostor measured (synthetic comparisons at most 0.166, real ones at most 0.161).
    pub update_score: f32,
    /// Views a template may grow to by updates; at or below `enroll.samples` no update happens.
    /// Default 20.
    pub update_max_views: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QualityConfig {
    /// A capture whose ridge flow is less clear than this (mean coherence, 0..1) is
    /// INSUFFICIENT: smeared, blurred or noisy. Default 0.45 (clean touches measure about 0.8).
    pub min_clarity: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig { min_clarity: 0.45 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into() }
    }
}

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            kind: "virtual".into(),
            runtime_dir: None,
            min_contact_ms: 40,
            device: None,
            device_name: "fpc1020".into(),
            power: "always".into(),
            reset_on_open: true,
            wakelock: "auto".into(),
            wakelock_ms: 1000,
            frame_width: 0,
            frame_height: 0,
            frame_bits: 8,
            frame_dpi: 500,
            frame_device: None,
        }
    }
}

impl Default for QseeConfig {
    fn default() -> Self {
        QseeConfig {
            library: "libQSEEComAPI.so".into(),
            generation: String::new(),
            app_name: String::new(),
            app_path: None,
            app_buffer_size: 1024,
            keymaster_names: String::new(),
            keymaster_path: None,
            shared_heap: "auto".into(),
            heap_node: None,
            ion_heap_id: 27,
            max_errors: 3,
            restart_max_ms: 16_000,
        }
    }
}

impl Default for TrustletConfig {
    fn default() -> Self {
        TrustletConfig {
            kind: "soft".into(),
            key_dir: None,
            auth_key_file: None,
            insecure_zero_hmac: false,
            token_max_age_sec: 600,
            max_fingers: 5,
        }
    }
}

impl Default for EnrollConfig {
    fn default() -> Self {
        EnrollConfig { samples: 14 }
    }
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig { max_false_trials: 5, duration_ms: 30_000, insecure_weak: false }
    }
}

impl Default for MatcherConfig {
    fn default() -> Self {
        MatcherConfig {
            threshold: crate::matcher::DEFAULT_THRESHOLD,
            insecure_low_threshold: false,
            update_score: 0.30,
            update_max_views: 20,
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Loads the configuration the process environment names, or the embedded default.
    pub fn load() -> Result<Config, ConfigError> {
        match std::env::var_os(CONFIG_ENV) {
            Some(path) if !path.is_empty() => Config::from_file(Path::new(&path)),
            _ if cfg!(target_os = "android") && Path::new(ANDROID_CONFIG_PATH).exists() => {
                Config::from_file(Path::new(ANDROID_CONFIG_PATH))
            }
            _ => Ok(Config::default()),
        }
    }

    /// Reads `path` as [`fsutil::read_bounded`] does: a regular file (no link, FIFO or device) of
    /// this user or root that not every user may write, at most [`MAX_CONFIG_LEN`] bytes.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let rules = FileRules {
            max_len: MAX_CONFIG_LEN,
            owner: Owner::MeOrRoot,
            forbidden_mode: 0o002,
            mode_rule: "not writable by every user",
        };
        let bytes = fsutil::read_bounded(path, rules)
            .map_err(String::from)
            .and_then(|b| b.ok_or_else(|| format!("{} does not exist", path.display())))
            .map_err(|e| ConfigError(format!("cannot read configuration: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ConfigError(format!("configuration {} is not UTF-8", path.display())))?;
        Config::from_toml(&text).map_err(|ConfigError(e)| ConfigError(format!("{}: {e}", path.display())))
    }

    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let mut keys = reader::Keys::parse(text)?;
        let mut c = Config::default();
        keys.text("log", "level", &mut c.log.level)?;
        keys.text("sensor", "kind", &mut c.sensor.kind)?;
        keys.path("sensor", "runtime_dir", &mut c.sensor.runtime_dir)?;
        keys.whole("sensor", "min_contact_ms", &mut c.sensor.min_contact_ms)?;
        let k = &mut c.sensor;
        keys.path("sensor", "device", &mut k.device)?;
        keys.text("sensor", "device_name", &mut k.device_name)?;
        keys.text("sensor", "power", &mut k.power)?;
        keys.flag("sensor", "reset_on_open", &mut k.reset_on_open)?;
        keys.text("sensor", "wakelock", &mut k.wakelock)?;
        keys.whole("sensor", "wakelock_ms", &mut k.wakelock_ms)?;
        keys.whole("sensor", "frame_width", &mut k.frame_width)?;
        keys.whole("sensor", "frame_height", &mut k.frame_height)?;
        keys.whole("sensor", "frame_bits", &mut k.frame_bits)?;
        keys.whole("sensor", "frame_dpi", &mut k.frame_dpi)?;
        keys.path("sensor", "frame_device", &mut k.frame_device)?;
        let t = &mut c.trustlet;
        keys.text("trustlet", "kind", &mut t.kind)?;
        keys.path("trustlet", "key_dir", &mut t.key_dir)?;
        keys.path("trustlet", "auth_key_file", &mut t.auth_key_file)?;
        keys.flag("trustlet", "insecure_zero_hmac", &mut t.insecure_zero_hmac)?;
        keys.whole("trustlet", "token_max_age_sec", &mut t.token_max_age_sec)?;
        keys.whole("trustlet", "max_fingers", &mut t.max_fingers)?;
        let q = &mut c.qsee;
        keys.text("qsee", "library", &mut q.library)?;
        keys.text("qsee", "generation", &mut q.generation)?;
        keys.text("qsee", "app_name", &mut q.app_name)?;
        keys.path("qsee", "app_path", &mut q.app_path)?;
        keys.whole("qsee", "app_buffer_size", &mut q.app_buffer_size)?;
        keys.text("qsee", "keymaster_names", &mut q.keymaster_names)?;
        keys.path("qsee", "keymaster_path", &mut q.keymaster_path)?;
        keys.text("qsee", "shared_heap", &mut q.shared_heap)?;
        keys.path("qsee", "heap_node", &mut q.heap_node)?;
        keys.whole("qsee", "ion_heap_id", &mut q.ion_heap_id)?;
        keys.whole("qsee", "max_errors", &mut q.max_errors)?;
        keys.whole("qsee", "restart_max_ms", &mut q.restart_max_ms)?;
        keys.whole("enroll", "samples", &mut c.enroll.samples)?;
        let l = &mut c.lockout;
        keys.whole("lockout", "max_false_trials", &mut l.max_false_trials)?;
        keys.whole("lockout", "duration_ms", &mut l.duration_ms)?;
        keys.flag("lockout", "insecure_weak", &mut l.insecure_weak)?;
        let m = &mut c.matcher;
        keys.number("matcher", "threshold", &mut m.threshold)?;
        keys.flag("matcher", "insecure_low_threshold", &mut m.insecure_low_threshold)?;
        keys.number("matcher", "update_score", &mut m.update_score)?;
        keys.whole("matcher", "update_max_views", &mut m.update_max_views)?;
        keys.number("quality", "min_clarity", &mut c.quality.min_clarity)?;
        keys.finish(&["log", "sensor", "trustlet", "qsee", "enroll", "lockout", "matcher", "quality"])?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        if log_level(&self.log.level).is_none() {
            return bad("log.level", "must be one of error, warn, info, debug, trace");
        }
        for (key, kind, kinds) in [
            ("sensor.kind", &self.sensor.kind, crate::sensor::KINDS),
            ("trustlet.kind", &self.trustlet.kind, crate::tee::KINDS),
        ] {
            if !kinds.contains(&kind.as_str()) {
                return bad(key, &format!("{kind:?} is not one of this build's kinds: {kinds:?}"));
            }
        }
        for (key, p) in [
            ("sensor.runtime_dir", &self.sensor.runtime_dir),
            ("trustlet.key_dir", &self.trustlet.key_dir),
            ("trustlet.auth_key_file", &self.trustlet.auth_key_file),
            ("sensor.device", &self.sensor.device),
            ("sensor.frame_device", &self.sensor.frame_device),
        ] {
            if let Some(p) = p {
                if !p.is_absolute() {
                    return bad(key, "must be an absolute path");
                }
            }
        }
        if !(1..=MAX_FINGERS).contains(&self.trustlet.max_fingers) {
            return bad("trustlet.max_fingers", &format!("must be 1..={MAX_FINGERS}"));
        }
        if !(1..=MAX_TOKEN_AGE_SEC).contains(&self.trustlet.token_max_age_sec) {
            return bad("trustlet.token_max_age_sec", &format!("must be 1..={MAX_TOKEN_AGE_SEC}"));
        }
        if !(1..=crate::matcher::MAX_VIEWS as u32).contains(&self.enroll.samples) {
            return bad("enroll.samples", &format!("must be 1..={}", crate::matcher::MAX_VIEWS));
        }
        if self.sensor.min_contact_ms > MAX_MIN_CONTACT_MS {
            return bad("sensor.min_contact_ms", &format!("must be 0..={MAX_MIN_CONTACT_MS}"));
        }
        if !(0.0..=1.0).contains(&self.quality.min_clarity) {
            return bad("quality.min_clarity", "must be between 0 and 1");
        }
        self.validate_kernel_sensor()?;
        self.validate_qsee()?;
        self.validate_lockout()?;
        self.validate_matcher()?;
        if self.matcher.update_max_views as usize > crate::matcher::MAX_VIEWS {
            return bad("matcher.update_max_views", &format!("must be at most {}", crate::matcher::MAX_VIEWS));
        }
        Ok(())
    }

    /// The QSEE bridge's keys: their values, and only with the kind that uses them.
    fn validate_qsee(&self) -> Result<(), ConfigError> {
        let q = &self.qsee;
        let bad = |key: &str, why: String| Err(ConfigError(format!("qsee.{key}: {why}")));
        if self.trustlet.kind != crate::tee::QSEE_FPC {
            if *q != QseeConfig::default() {
                return Err(ConfigError(format!(
                    "qsee: only trustlet.kind \"{}\" uses the [qsee] keys, not \"{}\"",
                    crate::tee::QSEE_FPC,
                    self.trustlet.kind
                )));
            }
            return Ok(());
        }
        let (t, d) = (&self.trustlet, TrustletConfig::default());
        for (key, set) in [
            ("insecure_zero_hmac", t.insecure_zero_hmac != d.insecure_zero_hmac),
            ("token_max_age_sec", t.token_max_age_sec != d.token_max_age_sec),
            ("auth_key_file", t.auth_key_file.is_some()),
        ] {
            if set {
                return Err(ConfigError(format!(
                    "trustlet.{key}: only the software trustlet uses it; the qsee-fpc trustlet checks enroll tokens \
                     itself, with the keymaster's key"
                )));
            }
        }
        let names = crate::tee::qsee::fpc::generation_names();
        if crate::tee::qsee::fpc::generation(&q.generation).is_none() {
            return bad(
                "generation",
                format!("{:?} is not one of {names:?} (trustlet.kind \"qsee-fpc\" needs it)", q.generation),
            );
        }
        if q.library.is_empty() || q.library.contains('\0') {
            return bad("library", "must name a library".into());
        }
        if q.app_name.contains('/') || q.app_name.contains('\0') {
            return bad("app_name", "must be a trustlet name, not a path".into());
        }
        if q.keymaster_names.split(',').any(|n| n.contains('/') || n.contains('\0'))
            || (!q.keymaster_names.is_empty() && q.keymaster_names.split(',').any(|n| n.trim().is_empty()))
        {
            return bad("keymaster_names", "must be trustlet names separated by commas".into());
        }
        for (key, p) in [("app_path", &q.app_path), ("keymaster_path", &q.keymaster_path), ("heap_node", &q.heap_node)]
        {
            if p.as_ref().is_some_and(|p| !p.is_absolute()) {
                return bad(key, "must be an absolute path".into());
            }
        }
        if !(1024..=1 << 20).contains(&q.app_buffer_size) {
            return bad("app_buffer_size", "must be 1024..=1048576 (smaller buffers fail in the trustlet)".into());
        }
        if !["auto", "dmabuf", "ion", "ion-legacy", "memfd"].contains(&q.shared_heap.as_str()) {
            return bad(
                "shared_heap",
                format!("{:?} is not one of auto, dmabuf, ion, ion-legacy, memfd", q.shared_heap),
            );
        }
        if q.ion_heap_id > 31 {
            return bad("ion_heap_id", "must be 0..=31".into());
        }
        if !(1..=100).contains(&q.max_errors) {
            return bad("max_errors", "must be 1..=100".into());
        }
        if !(100..=600_000).contains(&q.restart_max_ms) {
            return bad("restart_max_ms", "must be 100..=600000".into());
        }
        if self.sensor.frame_width != 0 {
            return Err(ConfigError(format!(
                "sensor.frame_width: the FPC trustlet captures from the sensor itself; trustlet.kind \"{}\" takes no \
                 frames from the driver",
                crate::tee::QSEE_FPC
            )));
        }
        Ok(())
    }

    /// The kernel kinds' keys: their values, and only with a kind that uses them.
    fn validate_kernel_sensor(&self) -> Result<(), ConfigError> {
        use crate::sensor::kernel::{BLOCKING_IOCTL, FPC1020_SYSFS, MISC_IOCTL};
        let s = &self.sensor;
        let d = SensorConfig::default();
        let bad = |key: &str, why: String| Err(ConfigError(format!("sensor.{key}: {why}")));
        let kernel = s.kind != "virtual";
        if !kernel {
            for (key, set) in [
                ("device", s.device.is_some()),
                ("device_name", s.device_name != d.device_name),
                ("power", s.power != d.power),
                ("reset_on_open", s.reset_on_open != d.reset_on_open),
                ("wakelock", s.wakelock != d.wakelock),
                ("wakelock_ms", s.wakelock_ms != d.wakelock_ms),
                ("frame_width", s.frame_width != d.frame_width),
                ("frame_height", s.frame_height != d.frame_height),
                ("frame_bits", s.frame_bits != d.frame_bits),
                ("frame_dpi", s.frame_dpi != d.frame_dpi),
                ("frame_device", s.frame_device.is_some()),
            ] {
                if set {
                    return bad(key, "only the kernel sensor kinds use it, not sensor.kind \"virtual\"".into());
                }
            }
            return Ok(());
        }
        // What only the virtual sensor does: kernel drivers report no contact time and need no socket.
        if s.min_contact_ms != d.min_contact_ms {
            return bad("min_contact_ms", "only the virtual sensor measures contact time".into());
        }
        if s.runtime_dir.is_some() {
            return bad("runtime_dir", "only the virtual sensor has a socket".into());
        }
        if s.device_name != d.device_name && s.kind != FPC1020_SYSFS {
            return bad("device_name", format!("only sensor.kind \"{FPC1020_SYSFS}\" searches by name"));
        }
        if s.device_name.is_empty() || s.device_name.contains('/') {
            return bad("device_name", "must be a non-empty part of a device name, without '/'".into());
        }
        match (s.power.as_str(), s.kind.as_str()) {
            ("always", _) => {}
            ("operation", BLOCKING_IOCTL) => {
                return bad("power", format!("sensor.kind \"{BLOCKING_IOCTL}\" has no power control"));
            }
            ("operation", _) => {}
            (other, _) => return bad("power", format!("{other:?} is not one of always, operation")),
        }
        match (s.wakelock.as_str(), s.kind.as_str()) {
            ("auto" | "sysfs" | "none", _) => {}
            ("driver", BLOCKING_IOCTL) => {
                return bad("wakelock", format!("sensor.kind \"{BLOCKING_IOCTL}\" has no wakelock of its own"));
            }
            ("driver", _) => {}
            (other, _) => return bad("wakelock", format!("{other:?} is not one of auto, sysfs, driver, none")),
        }
        if !(100..=10_000).contains(&s.wakelock_ms) {
            return bad("wakelock_ms", "must be 100..=10000".into());
        }
        if s.frame_width == 0 {
            let others = s.frame_height != 0 || s.frame_device.is_some();
            if others || s.frame_bits != d.frame_bits || s.frame_dpi != d.frame_dpi {
                return bad("frame_width", "must be set with the other frame keys".into());
            }
            if self.trustlet.kind == "soft" {
                return bad(
                    "frame_width",
                    format!(
                        "sensor.kind \"{}\" with the software trustlet needs frames from the driver (set \
                         sensor.frame_width, frame_height and frame_dpi); only a TEE trustlet captures from the \
                         sensor itself",
                        s.kind
                    ),
                );
            }
            return Ok(());
        }
        let side = 1..=crate::image::MAX_SIDE;
        for (key, v) in [("frame_width", s.frame_width), ("frame_height", s.frame_height)] {
            if !side.contains(&v) {
                return bad(key, format!("must be 1..={} with frames", crate::image::MAX_SIDE));
            }
        }
        if !(8..=16).contains(&s.frame_bits) {
            return bad("frame_bits", "must be 8..=16".into());
        }
        if let Err(why) = crate::image::check_capture_size(s.frame_width, s.frame_height, s.frame_dpi) {
            return bad(
                "frame_width",
                format!("a {}x{} frame at {} dpi: {why}", s.frame_width, s.frame_height, s.frame_dpi),
            );
        }
        if (s.kind == FPC1020_SYSFS || s.kind == MISC_IOCTL) && s.frame_device.is_none() {
            return bad(
                "frame_device",
                format!("sensor.kind \"{}\" has no node that reads frames (Sony's misc device has no read)", s.kind),
            );
        }
        Ok(())
    }

    /// Lockout: hard limits, and CDD 7.3.10's only with `lockout.insecure_weak`.
    fn validate_lockout(&self) -> Result<(), ConfigError> {
        let l = &self.lockout;
        let bad = |key: &str, why: String| Err(ConfigError(format!("{key}: {why}")));
        if !(1..=MAX_FALSE_TRIALS).contains(&l.max_false_trials) {
            return bad("lockout.max_false_trials", format!("must be 1..={MAX_FALSE_TRIALS}"));
        }
        if l.duration_ms > MAX_LOCKOUT_MS {
            return bad("lockout.duration_ms", format!("must be at most {MAX_LOCKOUT_MS} (a day)"));
        }
        let weak_trials = l.max_false_trials > CDD_MAX_FALSE_TRIALS;
        let weak_duration = l.duration_ms < CDD_MIN_LOCKOUT_MS;
        if !l.insecure_weak {
            if weak_trials {
                return bad(
                    "lockout.max_false_trials",
                    format!("more than {CDD_MAX_FALSE_TRIALS} is weaker than CDD 7.3.10 (set lockout.insecure_weak)"),
                );
            }
            if weak_duration {
                return bad(
                    "lockout.duration_ms",
                    format!("less than {CDD_MIN_LOCKOUT_MS} is weaker than CDD 7.3.10 (set lockout.insecure_weak)"),
                );
            }
        }
        if weak_trials {
            log::warn!("INSECURE: lockout.max_false_trials = {} is weaker than CDD 7.3.10", l.max_false_trials);
        }
        if weak_duration {
            log::warn!("INSECURE: lockout.duration_ms = {} is weaker than CDD 7.3.10", l.duration_ms);
        }
        Ok(())
    }

    /// The threshold within the score range, at or above the floor unless
    /// `matcher.insecure_low_threshold`; template updates only from scores at or above it.
    fn validate_matcher(&self) -> Result<(), ConfigError> {
        let m = &self.matcher;
        let bad = |key: &str, why: String| Err(ConfigError(format!("{key}: {why}")));
        if !SCORE_RANGE.contains(&m.threshold) {
            return bad("matcher.threshold", "must be a number from 0 to 1".into());
        }
        if m.threshold < MIN_THRESHOLD {
            if !m.insecure_low_threshold {
                return bad(
                    "matcher.threshold",
                    format!("below {MIN_THRESHOLD} the FAR exceeds CDD 7.3.10 (set matcher.insecure_low_threshold)"),
                );
            }
            log::warn!("INSECURE: matcher.threshold = {} is below {MIN_THRESHOLD}: more false accepts", m.threshold);
        }
        if !(m.threshold..=1.0).contains(&m.update_score) {
            return bad("matcher.update_score", format!("must be from matcher.threshold ({}) to 1", m.threshold));
        }
        Ok(())
    }

    pub fn runtime_dir(&self) -> PathBuf {
        if let Some(d) = &self.sensor.runtime_dir {
            return d.clone();
        }
        if cfg!(target_os = "android") {
            return android_data_dir().join(ANDROID_RUN_SUBDIR);
        }
        match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d).join("fphal"),
            _ => PathBuf::from(format!("/tmp/fphal-{}", rustix::process::geteuid().as_raw())),
        }
    }

    pub fn key_dir(&self) -> PathBuf {
        if let Some(d) = &self.trustlet.key_dir {
            return d.clone();
        }
        if cfg!(target_os = "android") {
            return android_data_dir();
        }
        let abs = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
        if let Some(d) = abs(std::env::var_os("XDG_STATE_HOME")) {
            return d.join("fphal");
        }
        if let Some(h) = abs(std::env::var_os("HOME")) {
            return h.join(".local/state/fphal");
        }
        let uid = rustix::process::geteuid().as_raw();
        PathBuf::from(format!("/tmp/fphal-{uid}"))
    }

    pub fn auth_key_file(&self) -> PathBuf {
        self.trustlet.auth_key_file.clone().unwrap_or_else(|| self.key_dir().join("auth_token.key"))
    }
}

/// Parses a level name.
pub fn log_level(name: &str) -> Option<log::LevelFilter> {
    match name.to_ascii_lowercase().as_str() {
        "off" => Some(log::LevelFilter::Off),
        "error" => Some(log::LevelFilter::Error),
        "warn" => Some(log::LevelFilter::Warn),
        "info" => Some(log::LevelFilter::Info),
        "debug" => Some(log::LevelFilter::Debug),
        "trace" => Some(log::LevelFilter::Trace),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_in_docs_states_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fphal.toml");
        assert_eq!(Config::from_file(&path).unwrap(), Config::default());
    }

    #[test]
    fn empty_file_is_the_default() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn the_qsee_keys_are_read_with_their_kind_only() {
        let c = Config::from_toml(
            "[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"nile\"\nkeymaster_names = \"keymaster64, km2\"\n",
        )
        .unwrap();
        assert_eq!((c.qsee.generation.as_str(), c.qsee.keymaster_names.as_str()), ("nile", "keymaster64, km2"));
        for (text, key) in [
            ("[qsee]\ngeneration = \"tama\"\n", "qsee: only trustlet.kind"),
            ("[trustlet]\nkind = \"qsee-fpc\"\n", "qsee.generation"),
            ("[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"kumano\"\n", "qsee.generation"),
            (
                "[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\napp_buffer_size = 512\n",
                "qsee.app_buffer_size",
            ),
            ("[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\napp_name = \"/x/y\"\n", "qsee.app_name"),
            (
                "[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\nkeymaster_names = \"a,,b\"\n",
                "qsee.keymaster_names",
            ),
            (
                "[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\nshared_heap = \"gem\"\n",
                "qsee.shared_heap",
            ),
            ("[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\nheap_node = \"dma\"\n", "qsee.heap_node"),
            ("[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\nion_heap_id = 32\n", "qsee.ion_heap_id"),
            ("[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\nmax_errors = 0\n", "qsee.max_errors"),
            (
                "[trustlet]\nkind = \"qsee-fpc\"\n[qsee]\ngeneration = \"tama\"\nrestart_max_ms = 50\n",
                "qsee.restart_max_ms",
            ),
            (
                "[trustlet]\nkind = \"qsee-fpc\"\ntoken_max_age_sec = 60\n[qsee]\ngeneration = \"tama\"\n",
                "trustlet.token_max_age_sec",
            ),
            (
                "[trustlet]\nkind = \"qsee-fpc\"\ninsecure_zero_hmac = true\n[qsee]\ngeneration = \"tama\"\n",
                "trustlet.insecure_zero_hmac",
            ),
            (
                "[sensor]\nkind = \"blocking-ioctl\"\nframe_width = 160\nframe_height = 160\n[trustlet]\nkind = \"qsee-fpc\"\n\
                 [qsee]\ngeneration = \"tama\"\n",
                "sensor.frame_width",
            ),
        ] {
            let e = Config::from_toml(text).unwrap_err();
            assert!(e.0.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn keys_are_read_and_bad_ones_named() {
        let c =
            Config::from_toml("[enroll]\nsamples = 3\n[lockout]\nduration_ms = 50\ninsecure_weak = true\n").unwrap();
        assert_eq!(c.enroll.samples, 3);
        assert_eq!(c.lockout.duration_ms, 50);
        let e = Config::from_toml("[enroll]\nsampels = 3\n").unwrap_err();
        assert!(e.0.contains("sampels"), "{e}");
        let e = Config::from_toml("[enroll]\nsamples = 0\n").unwrap_err();
        assert!(e.0.contains("enroll.samples"), "{e}");
        let e = Config::from_toml("[trustlet]\nkey_dir = \"relative\"\n").unwrap_err();
        assert!(e.0.contains("trustlet.key_dir"), "{e}");
        assert!(Config::from_toml("not toml [").is_err());
    }

    #[test]
    fn every_refusal_names_the_key_or_table() {
        for (text, names) in [
            ("[enroll]\nsamples = \"14\"\n", "enroll.samples"),
            ("[enroll]\nsamples = 1.5\n", "enroll.samples"),
            ("[enroll]\nsamples = -1\n", "enroll.samples"),
            ("[trustlet]\ninsecure_zero_hmac = 1\n", "trustlet.insecure_zero_hmac"),
            ("[matcher]\nthreshold = \"high\"\n", "matcher.threshold"),
            ("[matcher]\nthreshold = [0.5]\n", "matcher.threshold"),
            ("[log]\nlevel = info\n", "log.level"),
            ("[sensors]\nkind = \"virtual\"\n", "[sensors]"),
            ("[sensor.extra]\nkind = \"virtual\"\n", "sensor.extra"),
            ("[sensor]\nkind = \"goodix-netlink\"\n", "sensor.kind"),
            ("[trustlet]\nkind = \"qsee\"\n", "trustlet.kind"),
        ] {
            let e = Config::from_toml(text).unwrap_err();
            assert!(e.0.contains(names), "the error for {text:?} must name {names}: {e}");
        }
        assert_eq!(Config::from_toml("[matcher]\nthreshold = 1\nupdate_score = 1\n").unwrap().matcher.threshold, 1.0);
    }

    /// Accepted, or refused with an error naming `key`.
    fn verdict(toml: &str, key: &str) -> Result<Config, String> {
        Config::from_toml(toml).map_err(|ConfigError(e)| {
            assert!(e.contains(key), "the error for {toml:?} must name {key}: {e}");
            e
        })
    }

    #[test]
    fn recognition_cannot_be_disarmed_by_the_threshold() {
        let min = crate::matcher::MIN_THRESHOLD;
        for refused in ["-1.0", "1e30", "1.01", "nan", "inf"] {
            assert!(verdict(&format!("[matcher]\nthreshold = {refused}\n"), "matcher.threshold").is_err(), "{refused}");
        }
        // Below the floor: only with the insecure switch, and never outside the score range.
        let below = format!("[matcher]\nthreshold = {}\n", min - 0.01);
        assert!(verdict(&below, "matcher.threshold").is_err());
        let c = verdict(&format!("{below}insecure_low_threshold = true\n"), "").unwrap();
        assert!((c.matcher.threshold - (min - 0.01)).abs() < 1e-6);
        assert!(verdict("[matcher]\nthreshold = -0.5\ninsecure_low_threshold = true\n", "matcher.threshold").is_err());
        assert!(verdict("[matcher]\nthreshold = 0\nupdate_score = 0\ninsecure_low_threshold = true\n", "").is_ok());
        assert!(verdict(&format!("[matcher]\nthreshold = {min}\n"), "").is_ok());
        assert!(verdict("[matcher]\nthreshold = 1.0\nupdate_score = 1.0\n", "").is_ok());
    }

    #[test]
    fn the_insecure_switches_are_logged_loudly() {
        crate::test_log::capture();
        let min = crate::matcher::MIN_THRESHOLD;
        // Values no other test uses, so that the lines found are this test's.
        assert!(min > 0.0123);
        Config::from_toml("[matcher]\nthreshold = 0.0123\ninsecure_low_threshold = true\n").unwrap();
        crate::test_log::assert_logged(log::Level::Warn, &["INSECURE", "matcher.threshold = 0.0123"]);
        Config::from_toml("[lockout]\nmax_false_trials = 17\ninsecure_weak = true\n").unwrap();
        crate::test_log::assert_logged(log::Level::Warn, &["INSECURE", "lockout.max_false_trials = 17"]);
        Config::from_toml("[lockout]\nduration_ms = 1234\ninsecure_weak = true\n").unwrap();
        crate::test_log::assert_logged(log::Level::Warn, &["INSECURE", "lockout.duration_ms = 1234"]);
    }

    #[test]
    fn template_update_needs_a_score_at_least_the_threshold() {
        for refused in ["-5", "0.1", "1.5", "nan"] {
            assert!(verdict(&format!("[matcher]\nupdate_score = {refused}\n"), "matcher.update_score").is_err());
        }
        assert!(verdict("[matcher]\nupdate_score = 0.3\n", "").is_ok());
        let at = crate::matcher::DEFAULT_THRESHOLD;
        assert!(verdict(&format!("[matcher]\nupdate_score = {at}\n"), "").is_ok(), "equal to the threshold");
    }

    #[test]
    fn lockout_cannot_be_disarmed() {
        for (toml, key) in [
            ("[lockout]\nmax_false_trials = 0\n", "lockout.max_false_trials"),
            ("[lockout]\nmax_false_trials = 6\n", "lockout.max_false_trials"),
            ("[lockout]\nmax_false_trials = 21\ninsecure_weak = true\n", "lockout.max_false_trials"),
            ("[lockout]\nmax_false_trials = 4294967295\ninsecure_weak = true\n", "lockout.max_false_trials"),
            ("[lockout]\nduration_ms = 29999\n", "lockout.duration_ms"),
            ("[lockout]\nduration_ms = 86400001\ninsecure_weak = true\n", "lockout.duration_ms"),
            ("[lockout]\nduration_ms = 18446744073709551615\n", "lockout.duration_ms"),
        ] {
            assert!(verdict(toml, key).is_err(), "{toml:?} must be refused");
        }
        for accepted in [
            "[lockout]\nmax_false_trials = 1\n",
            "[lockout]\nmax_false_trials = 5\n",
            "[lockout]\nmax_false_trials = 20\ninsecure_weak = true\n",
            "[lockout]\nduration_ms = 30000\n",
            "[lockout]\nduration_ms = 86400000\n",
            "[lockout]\nduration_ms = 0\ninsecure_weak = true\n",
        ] {
            assert!(verdict(accepted, "").is_ok(), "{accepted:?} must be accepted");
        }
    }

    #[test]
    fn every_other_key_has_a_range() {
        for (toml, key) in [
            ("[trustlet]\nmax_fingers = 0\n", "trustlet.max_fingers"),
            ("[trustlet]\nmax_fingers = 21\n", "trustlet.max_fingers"),
            ("[trustlet]\ntoken_max_age_sec = 0\n", "trustlet.token_max_age_sec"),
            ("[trustlet]\ntoken_max_age_sec = 3601\n", "trustlet.token_max_age_sec"),
            ("[enroll]\nsamples = 0\n", "enroll.samples"),
            ("[enroll]\nsamples = 65\n", "enroll.samples"),
            ("[quality]\nmin_clarity = -0.1\n", "quality.min_clarity"),
            ("[sensor]\nmin_contact_ms = 5001\n", "sensor.min_contact_ms"),
            ("[quality]\nmin_clarity = 1.5\n", "quality.min_clarity"),
            ("[matcher]\nupdate_max_views = 65\n", "matcher.update_max_views"),
        ] {
            assert!(verdict(toml, key).is_err(), "{toml:?} must be refused");
        }
        for accepted in [
            "[trustlet]\nmax_fingers = 1\n",
            "[trustlet]\nmax_fingers = 20\n",
            "[trustlet]\ntoken_max_age_sec = 1\n",
            "[trustlet]\ntoken_max_age_sec = 3600\n",
            "[enroll]\nsamples = 3\n",
            "[enroll]\nsamples = 64\n",
            "[sensor]\nmin_contact_ms = 0\n",
            "[sensor]\nmin_contact_ms = 5000\n",
            "[quality]\nmin_clarity = 0\n",
            "[quality]\nmin_clarity = 1\n",
            "[matcher]\nupdate_max_views = 0\n",
            "[matcher]\nupdate_max_views = 64\n",
        ] {
            assert!(verdict(accepted, "").is_ok(), "{accepted:?} must be accepted");
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fphal-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Runs `from_file` on another thread: a read that blocks forever fails the test instead of
    /// hanging it.
    fn load_soon(path: &Path) -> Result<Config, ConfigError> {
        let path = path.to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(Config::from_file(&path));
        });
        rx.recv_timeout(std::time::Duration::from_secs(20)).expect("reading the configuration blocked")
    }

    #[test]
    fn a_fifo_a_device_a_link_or_a_huge_file_is_not_a_configuration() {
        let d = scratch("hostile");
        let fifo = d.join("fifo.toml");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = load_soon(&fifo).unwrap_err();
        assert!(e.0.contains("not a regular file"), "{e}");
        let e = load_soon(Path::new("/dev/zero")).unwrap_err();
        assert!(e.0.contains("not a regular file"), "{e}");
        let real = d.join("real.toml");
        std::fs::write(&real, "[enroll]\nsamples = 3\n").unwrap();
        assert!(load_soon(&real).is_ok());
        let link = d.join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = load_soon(&link).unwrap_err();
        assert!(e.0.contains("symbolic link"), "{e}");
        let huge = d.join("huge.toml");
        std::fs::File::create(&huge).unwrap().set_len(1 << 30).unwrap();
        let e = load_soon(&huge).unwrap_err();
        assert!(e.0.contains("larger than"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
