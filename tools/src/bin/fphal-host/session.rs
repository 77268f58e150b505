//! One client session with a loaded module: calls, narration, every callback printed as one
//! aligned line with its time since the session began and since the last touch, and the checker
//! watching both.

use crate::checker::Checker;
use crate::events::{self, Event, Msg};
use crate::module::{Device, Module};
use anyhow::{Context, Result, anyhow, bail};
use fphal::image::GrayImage;
use fphal::sensor::client::SensorClient;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub struct Session {
    // Field order matters: the device is closed (in `close`) before the module is unloaded.
    device: Option<Device>,
    _module: Module,
    events: Receiver<Event>,
    pub checker: Checker,
    pub key: Option<Vec<u8>>,
    sensor: Option<SensorClient>,
    start: Instant,
    last_touch: Option<Instant>,
    /// Every message received, with its delay after the touch that preceded it.
    pub log: Vec<(Msg, Option<Duration>)>,
    pub touches: u32,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Session {
    pub fn open(module_path: &Path) -> Result<Session> {
        let events = events::collect();
        let module = Module::load(module_path).map_err(|e| anyhow!("{}: {e}", module_path.display()))?;
        let start = Instant::now();
        let device = module.open().map_err(|e| anyhow!("{}: {e}", module_path.display()))?;
        let mut s = Session {
            device: None,
            _module: module,
            events,
            checker: Checker::default(),
            key: None,
            sensor: None,
            start,
            last_touch: None,
            log: Vec::new(),
            touches: 0,
        };
        s.say(&format!("open: {}; device version {:#06x}", s._module.describe(), device.version()));
        s.checker.opened(device.version());
        let (rc, stored) = device.set_notify(Some(crate::module::on_notify)).map_err(|e| anyhow!(e))?;
        s.say(&format!("set_notify = {rc}"));
        s.checker.notify_set(rc, stored);
        if let Some(path) = device.sensor_path() {
            s.sensor = Some(SensorClient::connect(&path).map_err(anyhow::Error::msg)?);
            s.say(&format!("virtual sensor at {}", path.display()));
        }
        s.device = Some(device);
        Ok(s)
    }

    pub fn device(&self) -> Result<&Device> {
        self.device.as_ref().context("the device is closed")
    }

    fn stamp(&self) -> String {
        format!("{:>9.1} ms", ms(self.start.elapsed()))
    }

    /// A narration line: what the host is doing. It starts a new step, so later messages are no
    /// longer timed from the previous touch.
    pub fn say(&mut self, text: &str) {
        self.last_touch = None;
        println!("{}  {:>9}  -> {text}", self.stamp(), "");
    }

    fn show(&mut self, ev: Event) {
        let since_touch = self.last_touch.map(|t| ev.at.saturating_duration_since(t));
        let rel = since_touch.map_or(String::new(), |d| format!("+{:.1} ms", ms(d)));
        let at = format!("{:>9.1} ms", ms(ev.at.saturating_duration_since(self.start)));
        println!("{at}  {rel:>9}  {:<22} {}", ev.msg.type_name(), ev.msg.details(self.key.as_deref()));
        self.checker.message(&ev.msg);
        self.log.push((ev.msg, since_touch));
    }

    /// Prints messages until one satisfies `until` (returned) or `timeout` passes (None).
    pub fn wait_for(&mut self, timeout: Duration, until: impl Fn(&Msg) -> bool) -> Option<Msg> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(ev) => {
                    let hit = until(&ev.msg).then(|| ev.msg.clone());
                    self.show(ev);
                    if hit.is_some() {
                        return hit;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Prints whatever arrives until nothing has for `quiet`.
    pub fn drain(&mut self, quiet: Duration) {
        while let Ok(ev) = self.events.recv_timeout(quiet) {
            self.show(ev);
        }
    }

    /// Checks an int return value and fails the step when it is not 0.
    pub fn expect_ok(&mut self, call: &str, rc: i32) -> Result<()> {
        self.checker.returned(call, rc);
        if rc != 0 {
            bail!("{call} returned {rc}");
        }
        Ok(())
    }

    /// Puts a finger on the sensor and lifts it after `hold_ms`.
    pub fn touch(&mut self, img: &GrayImage, hold_ms: u64) -> Result<String> {
        let sensor = self.sensor.as_ref().context("this module has no fphal virtual sensor to touch")?;
        self.touches += 1;
        self.last_touch = Some(Instant::now());
        let (status, reason) = sensor.touch(img).map_err(anyhow::Error::msg)?;
        if hold_ms > 0 {
            std::thread::sleep(Duration::from_millis(hold_ms));
        }
        sensor.lift().map_err(anyhow::Error::msg)?;
        Ok(format!("{status:?} {reason}").trim().to_string())
    }

    pub fn close(&mut self) -> Result<()> {
        if let Some(dev) = self.device.take() {
            self.say("close");
            let rc = dev.close().map_err(|e| anyhow!(e))?;
            self.checker.returned("close", rc);
        }
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
