//! Sessions driven by commands, one per line, from a file or typed by hand:
//!
//!   group GID [PATH]        set_active_group (PATH: a fresh temporary directory when omitted)
//!   enroll [TIMEOUT_SEC]    pre_enroll, a PASSWORD token signed with --key, enroll
//!   post_enroll | auth_id | enumerate | cancel | close
//!   authenticate [OPID]
//!   remove FID | remove all
//!   touch FINGER [IMPRESSION] [coverage=0.3 dx=.. dy=.. rotation=.. pressure=.. noise=.. dirt=SEED hold=MS]
//!   image PATH [dpi=500 hold=MS]
//!   wait TYPE [SECONDS]     print messages until one of TYPE (e.g. AUTHENTICATED) arrives
//!   sleep MS
//!   # comment

use crate::events::Msg;
use crate::session::Session;
use anyhow::{Context, Result, anyhow, bail};
use fphal_tools::touch::SyntheticTouch;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

pub struct Runner {
    pub session: Session,
    gid: u32,
    temp_dirs: Vec<PathBuf>,
}

fn option<T: std::str::FromStr>(args: &[&str], name: &str) -> Result<Option<T>> {
    for a in args {
        if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            return v.parse().map(Some).map_err(|_| anyhow!("{name}={v}: not a valid value"));
        }
    }
    Ok(None)
}

fn number<T: std::str::FromStr>(word: Option<&&str>, what: &str) -> Result<Option<T>> {
    match word {
        None => Ok(None),
        Some(w) if w.contains('=') => Ok(None),
        Some(w) => {
            let parsed = match w.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok().and_then(|v| v.to_string().parse().ok()),
                None => w.parse().ok(),
            };
            parsed.map(Some).ok_or_else(|| anyhow!("{w}: not a valid {what}"))
        }
    }
}

impl Runner {
    pub fn new(session: Session) -> Runner {
        Runner { session, gid: 0, temp_dirs: Vec::new() }
    }

    /// Runs lines from `input`; stops at the first failing command unless interactive.
    pub fn run(&mut self, input: impl BufRead, interactive: bool) -> Result<()> {
        let prompt = interactive && std::io::stdin().is_terminal();
        if prompt {
            print!("fphal-host> ");
            std::io::stdout().flush()?;
        }
        for (n, line) in input.lines().enumerate() {
            let line = line?;
            let line = line.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                if let Err(e) = self.command(line) {
                    if !interactive {
                        return Err(e.context(format!("line {}: {line}", n + 1)));
                    }
                    println!("error: {e:#}");
                }
            }
            if prompt {
                print!("fphal-host> ");
                std::io::stdout().flush()?;
            }
        }
        Ok(())
    }

    fn command(&mut self, line: &str) -> Result<()> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let args = &words[1..];
        let s = &mut self.session;
        match words[0] {
            "group" => {
                let gid = number(args.first(), "gid")?.context("group GID [PATH]")?;
                let path = match args.get(1) {
                    Some(p) => PathBuf::from(p),
                    None => {
                        let d = std::env::temp_dir().join(format!("fphal-host-{}-g{gid}", std::process::id()));
                        std::fs::create_dir_all(&d)?;
                        self.temp_dirs.push(d.clone());
                        d
                    }
                };
                s.say(&format!("set_active_group({gid}, {})", path.display()));
                let rc = s.device()?.set_active_group(gid, &path).map_err(anyhow::Error::msg)?;
                s.checker.returned("set_active_group", rc);
                s.say(&format!("= {rc}"));
                self.gid = gid;
            }
            "auth_id" => {
                let id = s.device()?.get_authenticator_id().map_err(anyhow::Error::msg)?;
                s.say(&format!("get_authenticator_id = {id:#018x}"));
                s.checker.authenticator_id(id);
            }
            "enroll" => {
                let Some(key) = s.key.clone() else {
                    bail!(
                        "enrollment cannot be authorised without the auth-token key \
                         (--key FILE), as the gatekeeper would sign it"
                    );
                };
                let timeout: u32 = number(args.first(), "timeout")?.unwrap_or(60);
                let challenge = s.device()?.pre_enroll().map_err(anyhow::Error::msg)?;
                s.say(&format!("pre_enroll = {challenge:#018x}; token signed with the key"));
                let hat = fphal::auth_token::mint_password_token(&key, challenge, 1);
                s.checker.operation_started();
                let rc = s.device()?.enroll(&hat, self.gid, timeout).map_err(anyhow::Error::msg)?;
                s.checker.returned("enroll", rc);
                s.say(&format!("enroll = {rc}"));
            }
            "post_enroll" => {
                let rc = s.device()?.post_enroll().map_err(anyhow::Error::msg)?;
                s.checker.returned("post_enroll", rc);
                s.say(&format!("post_enroll = {rc}"));
            }
            "authenticate" => {
                let op: u64 = number(args.first(), "operation id")?.unwrap_or(0);
                s.checker.operation_started();
                let rc = s.device()?.authenticate(op, self.gid).map_err(anyhow::Error::msg)?;
                s.checker.returned("authenticate", rc);
                s.say(&format!("authenticate({op:#x}) = {rc}"));
            }
            "enumerate" => {
                s.checker.operation_started();
                let rc = s.device()?.enumerate().map_err(anyhow::Error::msg)?;
                s.checker.returned("enumerate", rc);
                s.say(&format!("enumerate = {rc}"));
            }
            "remove" => {
                let fid = match args.first() {
                    Some(&"all") => 0,
                    other => number(other, "fid")?.context("remove FID | remove all")?,
                };
                s.checker.operation_started();
                let rc = s.device()?.remove(self.gid, fid).map_err(anyhow::Error::msg)?;
                s.checker.returned("remove", rc);
                s.say(&format!("remove({}, {fid}) = {rc}", self.gid));
            }
            "cancel" => {
                s.checker.cancel_called();
                let rc = s.device()?.cancel().map_err(anyhow::Error::msg)?;
                s.checker.returned("cancel", rc);
                s.say(&format!("cancel = {rc}"));
            }
            "touch" => {
                let finger = number(args.first(), "finger")?.context("touch FINGER [IMPRESSION] [options]")?;
                let impression = number(args.get(1), "impression")?.unwrap_or(1);
                let t = SyntheticTouch {
                    dx: option(args, "dx")?,
                    dy: option(args, "dy")?,
                    rotation: option(args, "rotation")?,
                    pressure: option(args, "pressure")?,
                    noise: option(args, "noise")?,
                    coverage: option(args, "coverage")?,
                    dirt: option(args, "dirt")?,
                    ..SyntheticTouch::new(finger, impression)
                };
                let hold = option(args, "hold")?.unwrap_or(150);
                s.say(&format!("touch: finger {finger}, impression {impression}"));
                let answer = s.touch(&t.render()?, hold)?;
                s.drain(Duration::from_millis(50));
                s.say(&format!("sensor: {answer}"));
            }
            "image" => {
                let path = args.first().context("image PATH [dpi=500] [hold=MS]")?;
                let img = fphal_tools::load_capture(std::path::Path::new(path), option(args, "dpi")?.unwrap_or(500))?;
                s.say(&format!("touch: {path}"));
                let answer = s.touch(&img, option(args, "hold")?.unwrap_or(150))?;
                s.drain(Duration::from_millis(50));
                s.say(&format!("sensor: {answer}"));
            }
            "wait" => {
                let kind = args.first().context("wait TYPE [SECONDS]")?.to_ascii_uppercase();
                let secs: u64 = number(args.get(1), "seconds")?.unwrap_or(10);
                if s.wait_for(Duration::from_secs(secs), |m: &Msg| m.type_name() == kind).is_none() {
                    bail!("no {kind} within {secs} s");
                }
            }
            "sleep" => {
                let ms: u64 = number(args.first(), "milliseconds")?.context("sleep MS")?;
                s.drain(Duration::from_millis(ms.max(1)));
            }
            "close" => s.close()?,
            other => bail!("unknown command {other:?}"),
        }
        // Show what the call caused right away.
        s.drain(Duration::from_millis(50));
        Ok(())
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.session.close();
        for d in &self.temp_dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
