//! What every tool does alike: `--version`, exit statuses in `--help`, and 64 for a usage error
//! (never 2, which `fphal-host` and `fphal-token` use for a broken contract and a bad token).

use std::process::Command;

const TOOLS: [&str; 8] = [
    env!("CARGO_BIN_EXE_fphal-doctor"),
    env!("CARGO_BIN_EXE_fphal-host"),
    env!("CARGO_BIN_EXE_fphal-token"),
    env!("CARGO_BIN_EXE_fphal-touch"),
    env!("CARGO_BIN_EXE_fphal-eval"),
    env!("CARGO_BIN_EXE_fphal-picture"),
    env!("CARGO_BIN_EXE_fphal-bench"),
    env!("CARGO_BIN_EXE_fphal-synth-bench"),
];

#[test]
fn every_tool_answers_version_and_help_and_exits_64_on_a_usage_error() {
    for tool in TOOLS {
        let name = std::path::Path::new(tool).file_name().unwrap().to_string_lossy().into_owned();
        let version = Command::new(tool).arg("--version").output().unwrap();
        assert!(version.status.success(), "{name} --version failed");
        assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("{name} {}", env!("CARGO_PKG_VERSION")));

        let help = Command::new(tool).arg("--help").output().unwrap();
        assert!(help.status.success(), "{name} --help failed");
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(help.contains("Exit status: 0 ") && help.contains("64 usage error"), "{name} --help: {help}");

        let wrong = Command::new(tool).arg("--no-such-option").output().unwrap();
        assert_eq!(wrong.status.code(), Some(64), "{name} on a usage error");
        assert!(String::from_utf8_lossy(&wrong.stderr).contains("--no-such-option"), "{name} names the bad option");
    }
}
