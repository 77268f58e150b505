//! Does the gatekeeper's job for tools, tests and demos: prints a PASSWORD auth token for a
//! challenge, signed with the auth-token key, as hex on one line. `--verify HEX` checks one instead.
//!
//!   fphal-token --key FILE --challenge N [--user-id U]
//!   fphal-token --key FILE --verify HEX
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use clap::Parser;
use fphal::auth_token::{self, AuthToken, HAT_LEN};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "fphal-token",
    version,
    about = "Mint or verify a 69-byte hardware auth token with the auth-token key",
    after_help = "Exit status: 0 token printed or verified, 1 error, 2 the token does not verify, 64 usage error."
)]
struct Cli {
    /// The 32-byte auth-token key file (mode 0600, owned by this user).
    #[arg(long)]
    key: PathBuf,
    /// The challenge pre_enroll returned (decimal or 0x-prefixed hex).
    #[arg(long, value_parser = parse_u64, required_unless_present = "verify")]
    challenge: Option<u64>,
    /// The secure user id to record with the enrolled finger.
    #[arg(long, value_parser = parse_u64, default_value = "1")]
    user_id: u64,
    /// Decode and verify a token given as hex instead of minting one.
    #[arg(long, conflicts_with = "challenge")]
    verify: Option<String>,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("{s}: {e}"))
}

fn main() -> std::process::ExitCode {
    match run(fphal_tools::parse_args::<Cli>()) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(2),
        Err(e) => {
            eprintln!("fphal-token: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    let key = fphal::tee::soft::keys::load(&cli.key).map_err(anyhow::Error::msg).context("auth-token key")?;
    if let Some(hex) = cli.verify {
        let bytes = decode_hex(hex.trim())?;
        let Ok(raw) = <[u8; HAT_LEN]>::try_from(bytes.as_slice()) else {
            bail!("a token is {HAT_LEN} bytes, got {}", bytes.len());
        };
        let t = AuthToken::from_bytes(&raw);
        let ok = t.verify(&key[..]);
        println!(
            "version={} challenge={:#x} user_id={:#x} authenticator_id={:#x} type={} timestamp_ms={} hmac={}",
            t.version,
            t.challenge,
            t.user_id,
            t.authenticator_id,
            t.authenticator_type,
            t.timestamp,
            if ok { "valid" } else { "INVALID" }
        );
        return Ok(ok);
    }
    let challenge = cli.challenge.context("--challenge is required")?;
    let token = auth_token::mint_password_token(&key[..], challenge, cli.user_id);
    println!("{}", token.iter().map(|b| format!("{b:02x}")).collect::<String>());
    Ok(true)
}

fn decode_hex(s: &str) -> Result<Vec<u8>> {
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("not a hex string");
    }
    Ok((0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits checked")).collect())
}
