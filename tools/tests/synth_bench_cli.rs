//! fphal-synth-bench's diagnostics: the per-view rows someone looking for why a score is low reads,
//! and how consistently minutiae are oriented.

use std::process::Command;

#[test]
fn views_csv_has_a_row_per_probe_and_view_compared_with_the_truth_on_genuine_rows() {
    let path = std::env::temp_dir().join(format!("fphal-synth-bench-views-{}.csv", std::process::id()));
    let scores = std::env::temp_dir().join(format!("fphal-synth-bench-scores-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_fphal-synth-bench"))
        .args([
            "--fingers",
            "8",
            "--views",
            "3",
            "--impostors",
            "3",
            "--group",
            "2",
            "--attempts",
            "48",
            "--threads",
            "2",
            // Probes drawn as enrollment touches (within ±15°), so every true turn is within 30°.
            "--probe-turn",
            "15",
            "--views-csv",
        ])
        .arg(&path)
        .arg("--out")
        .arg(&scores)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("operating threshold"));
    let text = std::fs::read_to_string(&path).unwrap();
    let genuine_scores = std::fs::read_to_string(scores.join("genuine.csv")).unwrap();
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir_all(&scores);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 8 fingers × 2 probes, each against its own finger and 3 others, 3 views each.
    assert_eq!(rows.len(), 16 * 4 * 3);
    for r in &rows {
        assert_eq!(r.len(), header.len());
        let genuine = r[column("genuine")] == "1";
        let cover = r[column("true_cover")];
        assert_eq!(!cover.is_empty(), genuine, "{r:?}");
        if genuine {
            let cover: f32 = cover.parse().unwrap();
            assert!((0.0..=1.0).contains(&cover));
            assert!(r[column("true_turn")].parse::<f32>().unwrap().abs() <= 30.0);
        }
        let peak: f32 = r[column("peak")].parse().unwrap();
        assert!((0.0..=1.0).contains(&peak));
    }
    // The evidence column rescores the bench: a probe's genuine score is the mean of its finger's
    // two highest view evidences (scripts/redraw_threshold.py relies on this).
    let mut from_rows: Vec<f32> = (0..16)
        .map(|probe| {
            let mut evidence: Vec<f32> = rows
                .iter()
                .filter(|r| r[column("probe")] == probe.to_string() && r[column("genuine")] == "1")
                .map(|r| r[column("evidence")].parse().unwrap())
                .collect();
            evidence.sort_by(|a, b| b.total_cmp(a));
            (evidence[0] + evidence[1]) / 2.0
        })
        .collect();
    let mut bench: Vec<f32> = genuine_scores.lines().map(|l| l.parse().unwrap()).collect();
    from_rows.sort_by(f32::total_cmp);
    bench.sort_by(f32::total_cmp);
    assert_eq!(bench.len(), from_rows.len());
    for (a, b) in from_rows.iter().zip(&bench) {
        assert!((a - b).abs() < 1e-4, "rows give {a}, the bench scored {b}");
    }
}

#[test]
fn minutiae_seen_again_point_the_same_way() {
    let out = Command::new(env!("CARGO_BIN_EXE_fphal-synth-bench"))
        .args(["directions", "--fingers", "6", "--threads", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for kind in ["endings", "bifurcations"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(kind))
            .unwrap_or_else(|| panic!("no {kind} line in {text}"));
        let seen: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let same: f32 = line.split("same way ").nth(1).unwrap().split('%').next().unwrap().parse().unwrap();
        assert!(seen >= 50, "{line}");
        // A minutia whose direction flips between touches cannot pair with itself.
        assert!(same >= 90.0, "{line}");
    }
}
