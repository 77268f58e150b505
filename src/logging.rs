//! Library logging through the `log` facade: stderr on Linux, logcat on Android.
//! The level comes from `FPHAL_LOG` when set, else from the configuration (`log.level`).

use std::sync::{Once, OnceLock};

struct Logger;

static INSTALLED: OnceLock<bool> = OnceLock::new();

#[cfg(target_os = "android")]
mod sink {
    use std::ffi::CString;
    pub fn write(level: log::Level, text: &str) {
        let prio = match level {
            log::Level::Error => 6,
            log::Level::Warn => 5,
            log::Level::Info => 4,
            log::Level::Debug => 3,
            log::Level::Trace => 2,
        };
        let Ok(text) = CString::new(text.replace('\0', " ")) else { return };
        crate::sys::android_log_write(prio, c"fphal", &text);
    }
}

#[cfg(not(target_os = "android"))]
mod sink {
    use std::io::Write;
    pub fn write(level: log::Level, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "fphal {level:<5} {text}");
    }
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) && r.target().starts_with("fphal") {
            sink::write(r.level(), &r.args().to_string());
        }
    }
    fn flush(&self) {}
}

/// Installs the logger once (unless the host already has one) and sets the level:
/// `FPHAL_LOG` wins over `configured`; without either, `info`.
pub fn init(configured: Option<&str>) {
    INSTALLED.get_or_init(|| log::set_logger(&Logger).is_ok());
    let env = std::env::var("FPHAL_LOG").ok();
    let level = env
        .as_deref()
        .and_then(crate::config::log_level)
        .or_else(|| configured.and_then(crate::config::log_level))
        .unwrap_or(log::LevelFilter::Info);
    log::set_max_level(level);
}

static PANIC_HOOK: Once = Once::new();

/// Makes every panic in this library's code log its message, thread and location once, at ERROR
/// (so in logcat on Android, where stderr goes nowhere), before the panic boundary turns it into
/// an error code. Installed by the module's `open`; a library that only links fphal keeps its own
/// hook.
pub fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            let location = info.location().map_or_else(|| "an unknown place".into(), |l| l.to_string());
            let thread = std::thread::current();
            log::error!("panic in thread {}: {message}, at {location}", thread.name().unwrap_or("unnamed"));
        }));
    });
}
