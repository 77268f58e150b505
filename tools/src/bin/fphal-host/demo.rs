//! The demo: one complete software-mode session on a fresh store and key, ending in a summary.

use crate::events::{Msg, acquired_name};
use crate::session::Session;
use anyhow::{Context, Result, bail};
use fphal_synth::Master;
use fphal_tools::touch::SyntheticTouch;
use std::path::Path;
use std::time::Duration;

const FINGER_A: u64 = 21;
const FINGER_B: u64 = 58;
const GID: u32 = 0;
const STEP: Duration = Duration::from_secs(10);

/// A touch of finger `finger`: impression `n` with its own noise and pressure, but placed where
/// a user aims (near the centre of the finger, small rotation).
fn aimed(finger: u64, n: u32, dx: f32, dy: f32) -> SyntheticTouch {
    SyntheticTouch { dx: Some(dx), dy: Some(dy), rotation: Some(0.0), ..SyntheticTouch::new(finger, n) }
}

pub fn run(module: &Path, dir: &Path) -> Result<bool> {
    let group = dir.join("group0");
    std::fs::create_dir_all(&group)?;
    let mut s = Session::open(module)?;
    let key_file = dir.join("keys").join("auth_token.key");
    s.key = Some(
        fphal::tee::soft::keys::load(&key_file)
            .map_err(anyhow::Error::msg)
            .context("the auth-token key fphal created")?
            .to_vec(),
    );

    s.say(&format!("set_active_group({GID}, {})", group.display()));
    let rc = s.device()?.set_active_group(GID, &group).map_err(anyhow::Error::msg)?;
    s.expect_ok("set_active_group", rc)?;
    let id = s.device()?.get_authenticator_id().map_err(anyhow::Error::msg)?;
    s.say(&format!("get_authenticator_id = {id:#018x}"));
    s.checker.authenticator_id(id);

    s.say("enumerate (the group is empty)");
    s.checker.operation_started();
    s.checker.expect_empty_enumeration();
    let rc = s.device()?.enumerate().map_err(anyhow::Error::msg)?;
    s.expect_ok("enumerate", rc)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Enumerating { remaining: 0, .. }));

    // Enrollment: the gatekeeper's part is played with the auth-token key.
    let challenge = s.device()?.pre_enroll().map_err(anyhow::Error::msg)?;
    s.say(&format!("pre_enroll = {challenge:#018x}; gatekeeper signs a PASSWORD token for it"));
    let hat = fphal::auth_token::mint_password_token(s.key.as_deref().unwrap_or_default(), challenge, 0x1000);
    s.say("enroll(token, gid 0, timeout 60 s): finger A");
    s.checker.operation_started();
    let rc = s.device()?.enroll(&hat, GID, 60).map_err(anyhow::Error::msg)?;
    s.expect_ok("enroll", rc)?;
    let a = Master::grow(FINGER_A);
    let b = Master::grow(FINGER_B);
    // One touch that barely covers the sensor first: the HAL must not count it.
    let partial = SyntheticTouch { coverage: Some(0.3), ..aimed(FINGER_A, 1, 0.0, 0.0) };
    s.say("touch: finger A, only the tip on the sensor");
    s.touch(&partial.render_with(&a)?, 150)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Acquired(_)));
    // Then the user moves the finger around the sensor, as a guided enrollment asks.
    let spots = [
        (0.0, 0.0),
        (-30.0, -25.0),
        (30.0, -25.0),
        (-30.0, 25.0),
        (30.0, 25.0),
        (0.0, -40.0),
        (0.0, 40.0),
        (-40.0, 0.0),
        (40.0, 0.0),
        (15.0, 10.0),
        (-15.0, -10.0),
        (20.0, -5.0),
        (-20.0, 35.0),
        (20.0, -35.0),
        (35.0, 10.0),
        (-35.0, -10.0),
        (10.0, 30.0),
        (-10.0, -30.0),
    ];
    let mut enrolled_fid = 0;
    for (n, (dx, dy)) in spots.iter().enumerate() {
        s.say(&format!("touch: finger A, placement {} of the enrollment", n + 1));
        s.touch(&aimed(FINGER_A, 2 + n as u32, *dx, *dy).render_with(&a)?, 150)?;
        match s.wait_for(STEP, |m| matches!(m, Msg::Acquired(_) | Msg::Error(_))) {
            Some(Msg::Acquired(0)) => {
                if let Some(Msg::Enrolling { fid, remaining: 0, .. }) =
                    s.wait_for(STEP, |m| matches!(m, Msg::Enrolling { .. } | Msg::Error(_)))
                {
                    enrolled_fid = fid;
                    break;
                }
            }
            Some(Msg::Error(c)) => bail!("enrollment ended with ERROR({c})"),
            _ => {}
        }
    }
    if enrolled_fid == 0 {
        bail!("enrollment did not finish");
    }
    let rc = s.device()?.post_enroll().map_err(anyhow::Error::msg)?;
    s.say(&format!("post_enroll = {rc}"));
    s.checker.returned("post_enroll", rc);

    // Authentication with a new impression of A.
    let operation_id = 0x00c0_ffee_0000_0001u64;
    s.say(&format!("authenticate(operation_id {operation_id:#x}, gid 0)"));
    s.checker.operation_started();
    let rc = s.device()?.authenticate(operation_id, GID).map_err(anyhow::Error::msg)?;
    s.expect_ok("authenticate", rc)?;
    s.say("touch: finger A, a new impression");
    s.touch(&aimed(FINGER_A, 40, 8.0, -6.0).render_with(&a)?, 150)?;
    let matched = s.wait_for(STEP, |m| matches!(m, Msg::Authenticated { .. }));
    let match_latency = s.log.last().and_then(|(_, d)| *d);

    // Another finger: rejected, and after five false trials in a row, a lockout.
    s.say("authenticate again; finger B touches five times");
    s.checker.operation_started();
    let rc = s.device()?.authenticate(operation_id + 1, GID).map_err(anyhow::Error::msg)?;
    s.expect_ok("authenticate", rc)?;
    let mut locked = false;
    for n in 0..5 {
        s.say(&format!("touch: finger B ({} of 5)", n + 1));
        s.touch(&aimed(FINGER_B, 1 + n, 0.0, 0.0).render_with(&b)?, 150)?;
        s.wait_for(STEP, |m| matches!(m, Msg::Authenticated { .. }));
        if n == 4 {
            locked = matches!(s.wait_for(STEP, |m| matches!(m, Msg::Error(_))), Some(Msg::Error(7)));
        }
    }
    s.say("authenticate during the lockout");
    s.checker.operation_started();
    let rc = s.device()?.authenticate(operation_id + 2, GID).map_err(anyhow::Error::msg)?;
    s.expect_ok("authenticate", rc)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Error(_)));

    s.say("enumerate");
    s.checker.operation_started();
    let rc = s.device()?.enumerate().map_err(anyhow::Error::msg)?;
    s.expect_ok("enumerate", rc)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Enumerating { remaining: 0, .. }));

    s.say(&format!("remove(gid 0, fid {enrolled_fid})"));
    s.checker.operation_started();
    let rc = s.device()?.remove(GID, enrolled_fid).map_err(anyhow::Error::msg)?;
    s.expect_ok("remove", rc)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Removed { .. } | Msg::Error(_)));
    s.say("remove(gid 0, fid 12345): a finger that does not exist");
    s.checker.operation_started();
    s.checker.expect_missing_remove();
    let rc = s.device()?.remove(GID, 12345).map_err(anyhow::Error::msg)?;
    s.expect_ok("remove", rc)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Removed { .. } | Msg::Error(_)));
    s.say("enumerate (empty again)");
    s.checker.operation_started();
    s.checker.expect_empty_enumeration();
    let rc = s.device()?.enumerate().map_err(anyhow::Error::msg)?;
    s.expect_ok("enumerate", rc)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Enumerating { remaining: 0, .. }));
    s.say("authenticate (still locked out: removing fingers does not end a lockout), then cancel");
    s.checker.operation_started();
    let rc = s.device()?.authenticate(operation_id + 3, GID).map_err(anyhow::Error::msg)?;
    s.expect_ok("authenticate", rc)?;
    s.checker.cancel_called();
    let rc = s.device()?.cancel().map_err(anyhow::Error::msg)?;
    s.expect_ok("cancel", rc)?;
    s.wait_for(STEP, |m| matches!(m, Msg::Error(5)));
    s.drain(Duration::from_millis(200));
    s.checker.settle();
    s.close()?;

    summary(&s, enrolled_fid, matched.as_ref(), match_latency, locked);
    Ok(s.checker.violations.is_empty())
}

fn summary(s: &Session, fid: u32, matched: Option<&Msg>, latency: Option<Duration>, locked: bool) {
    let count = |f: &dyn Fn(&Msg) -> bool| s.log.iter().filter(|(m, _)| f(m)).count();
    let mut acquired: Vec<(i32, usize)> = Vec::new();
    for (m, _) in &s.log {
        if let Msg::Acquired(c) = m {
            match acquired.iter_mut().find(|(k, _)| k == c) {
                Some((_, n)) => *n += 1,
                None => acquired.push((*c, 1)),
            }
        }
    }
    let counted = count(&|m| matches!(m, Msg::Enrolling { .. }));
    let rejected = count(&|m| matches!(m, Msg::Authenticated { fid: 0, .. }));
    let row = |k: &str, v: String| println!("  {k:<24} {v}");
    println!();
    println!("summary");
    row("touches sent", s.touches.to_string());
    row("enrolled", format!("finger A as fid {fid} after {counted} counted touches"));
    row(
        "acquired codes",
        acquired.iter().map(|(c, n)| format!("{} x{n}", acquired_name(*c))).collect::<Vec<_>>().join(", "),
    );
    row(
        "finger A (new touch)",
        match (matched, latency) {
            (Some(Msg::Authenticated { fid, .. }), Some(d)) if *fid != 0 => {
                format!("matched fid {fid}, {:.1} ms from touch to AUTHENTICATED", d.as_secs_f64() * 1e3)
            }
            _ => "NOT matched".into(),
        },
    );
    row(
        "finger B",
        format!("{rejected} touches rejected; {}", if locked { "LOCKOUT after the 5th" } else { "no lockout" }),
    );
    row(
        "messages",
        ["ACQUIRED", "TEMPLATE_ENROLLING", "AUTHENTICATED", "ERROR", "TEMPLATE_ENUMERATING", "TEMPLATE_REMOVED"]
            .iter()
            .map(|t| format!("{t} {}", count(&|m| m.type_name() == *t)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    row(
        "contract violations",
        if s.checker.violations.is_empty() { "none".into() } else { s.checker.violations.join("; ") },
    );
}
