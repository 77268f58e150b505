//! fphal-eval as a protocol script drives it: files in, one output line per pair, in order.

use std::path::{Path, PathBuf};
use std::process::Command;

fn eval() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fphal-eval"))
}

fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fphal-eval-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Synthetic finger `finger` (fphal-synth), seen through a 500-dpi sensor window shifted by (dx, dy).
fn print_pixels(finger: u32, size: u32, dx: f32, dy: f32) -> Vec<u8> {
    let touch = fphal_synth::Touch { dx, dy, rotation: 0.0, ..fphal_synth::Touch::nth(finger as u64, 1, size, 500) };
    fphal_synth::impression(&fphal_synth::Master::grow(finger as u64), &touch).pixels
}

fn write_pgm(path: &Path, size: u32, pixels: &[u8]) {
    let mut data = format!("P5\n{size} {size}\n255\n").into_bytes();
    data.extend_from_slice(pixels);
    std::fs::write(path, data).unwrap();
}

#[test]
fn enroll_then_score_prints_one_line_per_pair_in_order_with_the_match_decision() {
    let d = workdir("format");
    let mut templates = Vec::new();
    for finger in 1..=2 {
        let mut touches = Vec::new();
        for (k, (dx, dy)) in [(0.0, 0.0), (20.0, -14.0), (-18.0, 12.0)].into_iter().enumerate() {
            let p = d.join(format!("f{finger}_{k}.pgm"));
            write_pgm(&p, 160, &print_pixels(finger, 160, dx, dy));
            touches.push(p);
        }
        // One PNG touch as well: both formats must decode the same way.
        let png = d.join(format!("f{finger}_png.png"));
        image::GrayImage::from_raw(160, 160, print_pixels(finger, 160, 5.0, 5.0)).unwrap().save(&png).unwrap();
        touches.push(png);
        let t = d.join(format!("f{finger}.tpl"));
        let out = eval().args(["enroll", "--dpi", "500", "--out"]).arg(&t).args(&touches).output().unwrap();
        assert!(out.status.success(), "enroll failed: {}", String::from_utf8_lossy(&out.stderr));
        templates.push(t);
    }
    let probes: Vec<PathBuf> = (1..=2)
        .map(|finger| {
            let p = d.join(format!("probe{finger}.pgm"));
            write_pgm(&p, 160, &print_pixels(finger, 160, 7.0, -6.0));
            p
        })
        .collect();
    let mut pairs = String::new();
    let mut expected = Vec::new();
    for p in &probes {
        for t in &templates {
            pairs += &format!("{},{}\n", t.display(), p.display());
            expected.push((t.display().to_string(), p.display().to_string()));
        }
    }
    std::fs::write(d.join("pairs.csv"), pairs).unwrap();
    let out = eval().args(["score", "--dpi", "500"]).arg(d.join("pairs.csv")).output().unwrap();
    assert!(out.status.success(), "score failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for ((line, (t, p)), genuine) in lines.iter().zip(&expected).zip([true, false, false, true]) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert_eq!((fields[0], fields[1]), (t.as_str(), p.as_str()), "output order differs from input order");
        let score: f32 = fields[2].parse().unwrap();
        let matched = fields[3];
        assert_eq!(matched == "1", score >= fphal::matcher::DEFAULT_THRESHOLD, "{line}");
        assert_eq!(matched == "1", genuine, "genuine={genuine}: {line}");
    }
    // With --views-csv the same scores, and a row per pair and view (4 views a template), in the
    // output's order, whose two highest evidences make the pair's score. The pairs repeated past
    // one block of lines, so that full blocks write their rows too.
    let repeated = std::fs::read_to_string(d.join("pairs.csv")).unwrap().repeat(130);
    std::fs::write(d.join("many.csv"), &repeated).unwrap();
    let views = d.join("views.csv");
    let out =
        eval().args(["score", "--dpi", "500", "--views-csv"]).arg(&views).arg(d.join("many.csv")).output().unwrap();
    assert!(out.status.success(), "score failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text.repeat(130));
    let rows = std::fs::read_to_string(&views).unwrap();
    let mut rows = rows.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let evidence = header.iter().position(|h| *h == "evidence").unwrap();
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), 130 * expected.len() * 4);
    for (i, (line, (t, p))) in lines.iter().cycle().zip(expected.iter().cycle()).take(130 * expected.len()).enumerate()
    {
        let own = &rows[i * 4..i * 4 + 4];
        for (v, r) in own.iter().enumerate() {
            assert_eq!(r.len(), header.len(), "{r:?}");
            assert_eq!((r[0], r[1], r[2]), (t.as_str(), p.as_str(), v.to_string().as_str()), "row order");
        }
        let mut e: Vec<f32> = own.iter().map(|r| r[evidence].parse().unwrap()).collect();
        e.sort_by(|a, b| b.total_cmp(a));
        let score: f32 = line.split(',').nth(2).unwrap().parse().unwrap();
        assert!(((e[0] + e[1]) / 2.0 - score).abs() < 2e-5, "{line}: {e:?}");
    }
    // A run that stops on a bad line leaves no views file behind.
    std::fs::write(d.join("bad.csv"), format!("{}no comma here\n", repeated)).unwrap();
    let bad_views = d.join("bad-views.csv");
    let out =
        eval().args(["score", "--dpi", "500", "--views-csv"]).arg(&bad_views).arg(d.join("bad.csv")).output().unwrap();
    assert!(!out.status.success());
    assert!(!bad_views.exists() && !d.join("bad-views.csv.partial").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_inputs_get_a_clear_error_and_a_failure_status() {
    let d = workdir("bad");
    std::fs::write(d.join("random.png"), (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<_>>()).unwrap();
    write_pgm(&d.join("flat.pgm"), 160, &[128; 160 * 160]);
    let huge = d.join("huge.png");
    image::GrayImage::from_raw(2000, 40, vec![0u8; 2000 * 40]).unwrap().save(&huge).unwrap();
    let good = d.join("good.pgm");
    write_pgm(&good, 160, &print_pixels(1, 160, 0.0, 0.0));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["random.png".into()], "cannot"),
        (vec!["flat.pgm".into()], "no ridge area"),
        (vec!["huge.png".into()], "each side must be"),
        (vec!["missing.pgm".into()], "cannot open"),
    ];
    for (images, why) in cases {
        let out =
            eval().current_dir(&d).args(["enroll", "--dpi", "500", "--out", "t.tpl"]).args(&images).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{images:?} was accepted");
        assert!(err.contains(why), "{images:?}: stderr lacks {why:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = eval().current_dir(&d).args(["enroll", "--dpi", "2000", "--out", "t.tpl", "good.pgm"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dpi"));
    std::fs::write(d.join("pairs.csv"), "no comma here\n").unwrap();
    let out = eval().current_dir(&d).args(["score", "--dpi", "500", "pairs.csv"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pairs.csv:1"));
    std::fs::remove_dir_all(&d).unwrap();
}
