//! fphal-picture and fphal-touch --save: files a person can open, with the numbers they print.

use std::process::Command;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("fphal-picture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pictures_of_a_touch_a_pair_and_a_coverage_map_are_written() {
    let d = tmp("all");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let touch = env!("CARGO_BIN_EXE_fphal-touch");
    let picture = env!("CARGO_BIN_EXE_fphal-picture");
    run(touch, &["synthetic", "--finger", "9", "--impression", "1", "--dx", "0", "--dy", "0", "--save", &p("a.png")]);
    run(touch, &["synthetic", "--finger", "9", "--impression", "2", "--dx", "10", "--dy", "-8", "--save", &p("b.png")]);
    assert_eq!(image::image_dimensions(p("a.png")).unwrap(), (160, 160));

    let shown = run(picture, &["show", &p("a.png"), "--out", &p("show.png")]);
    assert!(shown.contains("minutiae"), "{shown}");
    assert_eq!(image::image_dimensions(p("show.png")).unwrap(), (320, 320), "drawn at twice the 500-dpi size");

    let paired = run(picture, &["pair", &p("a.png"), &p("b.png"), "--out", &p("pair.png")]);
    assert!(paired.contains("(match)"), "two touches of one finger: {paired}");

    let cov = run(picture, &["coverage", "--finger", "9", "--touches", "12", "--out", &p("cov.png")]);
    let percent: f32 =
        cov.split(" cover ").nth(1).and_then(|r| r.split('%').next()).and_then(|v| v.parse().ok()).expect(&cov);
    let few = run(picture, &["coverage", "--finger", "9", "--touches", "2", "--out", &p("cov2.png")]);
    let few_percent: f32 =
        few.split(" cover ").nth(1).and_then(|r| r.split('%').next()).and_then(|v| v.parse().ok()).expect(&few);
    assert!(percent > few_percent && percent <= 100.0, "12 touches {percent}%, 2 touches {few_percent}%");
    std::fs::remove_dir_all(&d).unwrap();
}
