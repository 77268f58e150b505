//! Smoke run of the per-kind cancel benchmark (`fphal-bench --sensor-cancel`), whose full run is
//! recorded in BENCHMARKS.md.

use std::process::Command;

#[test]
fn the_sensor_cancel_benchmark_prints_a_row_per_kernel_kind() {
    let out = Command::new(env!("CARGO_BIN_EXE_fphal-bench"))
        .args(["--sensor-cancel", "--iterations", "5"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for kind in ["fpc1020-sysfs", "misc-ioctl", "blocking-ioctl"] {
        let row = stdout.lines().find(|l| l.starts_with(&format!("| {kind} |"))).unwrap_or_else(|| panic!("{stdout}"));
        let cells: Vec<f64> = row.split('|').filter_map(|c| c.trim().parse().ok()).collect();
        assert_eq!(cells.len(), 4, "{row}");
        assert!(cells.iter().all(|v| *v > 0.0 && *v < 5_000_000.0), "{row}");
    }
}
