use super::*;

/// A ridge pattern: concentric-ish ridges around a core, warped by a seed-dependent wave.
pub(crate) fn ridges(seed: u32, w: u32, h: u32, dx: f32, dy: f32, degrees: f32) -> GrayImage {
    let s = seed as f32;
    let (core_x, core_y) = (w as f32 * (0.3 + 0.05 * (s % 7.0)), h as f32 * (0.35 + 0.04 * (s % 5.0)));
    let period = 8.5 + (s % 3.0);
    let (sn, cs) = degrees.to_radians().sin_cos();
    let (mx, my) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut px = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            // Sample the finger at the point this sensor pixel sees (placement: shift then rotate).
            let (ux, uy) = (x as f32 - mx - dx, y as f32 - my - dy);
            let (fx, fy) = (cs * ux - sn * uy + mx, sn * ux + cs * uy + my);
            let (ax, ay) = (fx - core_x, (fy - core_y) * (1.2 + 0.1 * (s % 4.0)));
            // Odd seeds are loops around a core; even seeds are arches (ridges across the finger).
            let r = if seed % 2 == 1 {
                (ax * ax + ay * ay).sqrt() + 6.0 * (fx / (23.0 + s)).sin() + 5.0 * (fy / (17.0 + 2.0 * s)).cos()
            } else {
                fy + 14.0 * (fx / (20.0 + s)).sin() + 4.0 * (fx / 9.0 + fy / 31.0).cos()
            };
            let v = 128.0 + 90.0 * (std::f32::consts::TAU * r / period).cos();
            px.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    GrayImage::new(w, h, 500, px).unwrap()
}

/// `len` bytes of white noise (xorshift from a nonzero `seed`): no ridge flow at all.
pub(crate) fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn a_shifted_and_rotated_copy_scores_as_genuine_and_another_finger_does_not() {
    // Enrolled from a few touches, as the HAL does (a finger scores the mean of its two best views).
    let t = Template::from_views((1..=4).map(|i| extract(&synthetic(31, i, |_| {})).unwrap()).collect());
    let genuine = extract(&synthetic(31, 5, |t| {
        t.dx += 12.0;
        t.dy -= 9.0;
        t.rotation += 10.0;
    }))
    .unwrap();
    let impostor = extract(&synthetic(32, 5, |_| {})).unwrap();
    let g = score(&genuine, &t);
    let i = score(&impostor, &t);
    assert!(g >= DEFAULT_THRESHOLD, "genuine scored {g}");
    assert!(i < DEFAULT_THRESHOLD, "impostor scored {i}");
}

#[test]
fn the_same_image_scores_near_one() {
    let img = ridges(2, 192, 192, 0.0, 0.0, 0.0);
    let a = extract(&img).unwrap();
    let b = extract(&img).unwrap();
    assert!(score_pair(&a, &b) > 0.9);
}

#[test]
fn templates_round_trip_and_bad_bytes_are_refused() {
    let f = extract(&ridges(3, 160, 160, 0.0, 0.0, 0.0)).unwrap();
    let probe = extract(&ridges(3, 160, 160, 4.0, 4.0, 0.0)).unwrap();
    let t = Template::from_views(vec![f]);
    let back = Template::from_bytes(&t.to_bytes()).unwrap();
    assert!((score(&probe, &t) - score(&probe, &back)).abs() < 0.05);
    let mut bytes = t.to_bytes();
    bytes.pop();
    assert!(Template::from_bytes(&bytes).is_err());
    assert!(Template::from_bytes(b"FPM1").is_err());
}

/// Impression `impression` of synthetic finger `finger` on a 160-px, 500-dpi sensor, its touch
/// changed by `edit` first.
pub(crate) fn synthetic(finger: u64, impression: u32, edit: impl FnOnce(&mut fphal_synth::Touch)) -> GrayImage {
    let mut touch = fphal_synth::Touch::nth(finger, impression, 160, 500);
    edit(&mut touch);
    let i = fphal_synth::impression(&fphal_synth::Master::grow(finger), &touch);
    GrayImage::new(i.width, i.height, i.dpi, i.pixels).unwrap()
}

#[test]
fn a_template_stores_a_view_in_1806_bytes_and_151_per_minutia_and_older_templates_still_score() {
    let views: Vec<Features> = (1..=14).map(|k| extract(&synthetic(11, k, |_| {})).unwrap()).collect();
    let mut t = Template::from_views(views);
    let bytes = t.to_bytes();
    assert_eq!(&bytes[..4], b"FPM5");
    // Half the band at 4 bits (1,796 bytes), the centre and count (10), 6 + 145 per minutia: real
    // 160-px crops have about 10 minutiae, so 14 views take about 47 KB (BENCHMARKS.md).
    let minutiae: usize = t.views.iter().map(|v| v.minutiae.len()).sum();
    assert_eq!(bytes.len(), 12 + 14 * 1806 + minutiae * 151);
    // What is stored is what scores: the template read back scores exactly as the one in memory.
    let probe = extract(&synthetic(11, 20, |_| {})).unwrap();
    let back = Template::from_bytes(&bytes).unwrap();
    assert_eq!(score(&probe, &t), score(&probe, &back));
    assert_eq!(back.to_bytes(), bytes);
    // The same finger stored as FPM3 (a byte per phase and per patch sample) loads, scores alike,
    // and is written back as FPM5.
    let old = t.to_bytes_v3();
    assert!(old.len() > 2 * bytes.len(), "{} bytes as FPM3", old.len());
    let old = Template::from_bytes(&old).unwrap();
    assert!((score(&probe, &old) - score(&probe, &t)).abs() < 0.01);
    assert_eq!(&old.to_bytes()[..4], b"FPM5");
    let impostor = extract(&synthetic(12, 20, |_| {})).unwrap();
    assert!(score(&probe, &t) > score(&impostor, &t) + 0.1);

    // Views template update adds are told apart from the enrolled ones, stored and read back; an
    // FPM4 template (the same views, no enrolled count) counts every view as enrolled.
    assert!(t.add_view(extract(&synthetic(11, 21, |_| {})).unwrap()));
    assert_eq!((t.view_count(), t.enrolled_views()), (15, 14));
    let grown = t.to_bytes();
    let back = Template::from_bytes(&grown).unwrap();
    assert_eq!((back.view_count(), back.enrolled_views()), (15, 14));
    let mut v4 = [b"FPM4".as_slice(), &grown[4..8], &grown[12..]].concat();
    let read = Template::from_bytes(&v4).unwrap();
    assert_eq!((read.view_count(), read.enrolled_views()), (15, 15));
    assert_eq!(score(&probe, &read), score(&probe, &back));
    // An enrolled count of 0, or above the view count, is refused.
    for enrolled in [0u32, 16] {
        let mut bad = grown.clone();
        bad[8..12].copy_from_slice(&enrolled.to_le_bytes());
        assert!(Template::from_bytes(&bad).is_err(), "{enrolled} enrolled views of 15");
    }
    v4.truncate(6);
    assert!(Template::from_bytes(&v4).is_err());
}

#[test]
fn templates_without_patches_load_and_score_on_correlation_alone() {
    let t = Template::from_views(vec![extract(&synthetic(7, 1, |_| {})).unwrap()]);
    let probe = extract(&synthetic(7, 2, |_| {})).unwrap();
    // The same view stored as FPM2 (no patches) still loads; its minutiae pairs count for nothing.
    let minutiae = t.views[0].minutiae.len();
    let mut old = t.to_bytes_v3();
    old.truncate(old.len() - minutiae * patch::BYTES);
    old[..4].copy_from_slice(b"FPM2");
    let old = Template::from_bytes(&old).unwrap();
    assert_eq!(old.views[0].minutiae.len(), minutiae);
    assert!(minutiae > 0 && score(&probe, &old) < score(&probe, &t));
}

#[test]
fn quality_names_uniform_partial_and_good_captures() {
    assert_eq!(assess(&GrayImage::new(160, 160, 500, vec![200; 160 * 160]).unwrap()), Quality::Dirty);
    let full = ridges(1, 160, 160, 0.0, 0.0, 0.0);
    assert_eq!(assess(&full), Quality::Good);
    let mut px = full.pixels().to_vec();
    for (i, p) in px.iter_mut().enumerate() {
        if (i % 160) > 40 {
            *p = 230;
        }
    }
    assert_eq!(assess(&GrayImage::new(160, 160, 500, px).unwrap()), Quality::Partial);
    let faint: Vec<u8> = full.pixels().iter().map(|p| 110 + p / 12).collect();
    assert_eq!(assess(&GrayImage::new(160, 160, 500, faint).unwrap()), Quality::Insufficient);
}

#[test]
fn hostile_sizes_and_resolutions_are_errors() {
    assert!(extract(&GrayImage::new(20, 20, 500, vec![0; 400]).unwrap()).is_err());
    assert!(extract(&GrayImage::new(160, 160, 200, vec![0; 160 * 160]).unwrap()).is_err());
    assert!(matches!(extract(&GrayImage::new(160, 160, 500, vec![0; 160 * 160]).unwrap()), Err(EngineError::NoRidges)));
}

#[test]
fn a_capture_with_saturated_areas_still_matches_itself() {
    // Optical sensors clip to white where the finger does not touch; a flat region must not
    // turn the normalisation into NaN (which made such captures match nothing).
    let img = ridges(5, 192, 192, 0.0, 0.0, 0.0);
    let mut px = img.pixels().to_vec();
    // Bottom right, where the integral image's sums are largest and rounding is worst.
    for y in 100..192 {
        for x in 100..192 {
            px[y * 192 + x] = 255;
        }
    }
    let img = GrayImage::new(192, 192, 500, px).unwrap();
    let a = extract(&img).unwrap();
    let b = extract(&img).unwrap();
    let s = score_pair(&a, &b);
    assert!(s > 0.9, "self score {s}");
}

/// Straight ridges running at `degrees` (image coordinates, rows down) with the given period,
/// plus uniform noise of amplitude `noise` from a fixed generator.
fn straight_ridges(size: u32, degrees: f32, period: f32, noise: f32) -> GrayImage {
    let (s, c) = degrees.to_radians().sin_cos();
    let mut state = 12345u32;
    let mut px = Vec::new();
    for y in 0..size {
        for x in 0..size {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            let n = ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0 * noise;
            let phase = (-(x as f32) * s + y as f32 * c) / period;
            px.push((128.0 + 80.0 * (std::f32::consts::TAU * phase).cos() + n).clamp(0.0, 255.0) as u8);
        }
    }
    GrayImage::new(size, size, 500, px).unwrap()
}

/// Smallest difference between two undirected angles, in degrees.
fn angle_error(a: f32, b: f32) -> f32 {
    let d = (a - b).to_degrees().rem_euclid(180.0);
    d.min(180.0 - d)
}

#[test]
fn orientation_is_within_two_degrees_on_straight_ridges_at_any_angle() {
    for deg in [0.0f32, 22.5, 45.0, 67.5, 90.0, 120.0, 160.0] {
        let a = analyse(&straight_ridges(160, deg, 9.0, 0.0)).unwrap();
        let (w, h) = (a.flow.w, a.flow.h);
        let mut errors = Vec::new();
        for y in 20..h - 20 {
            for x in 20..w - 20 {
                errors.push(angle_error(a.flow.theta[y * w + x], deg.to_radians()));
            }
        }
        let mean = errors.iter().sum::<f32>() / errors.len() as f32;
        assert!(mean < 2.0, "ridges at {deg}°: mean orientation error {mean:.2}°");
        assert!(a.flow.coherence[80 * w + 80] > 0.9, "parallel ridges must be coherent");
    }
}

#[test]
fn orientation_follows_circular_ridges() {
    // Concentric rings: the ridge direction at every point is tangent to the circle through it.
    let n = 192u32;
    let mid = n as f32 / 2.0;
    let px = (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32 - mid, (i / n) as f32 - mid);
            (128.0 + 80.0 * (std::f32::consts::TAU * (x * x + y * y).sqrt() / 9.0).cos()) as u8
        })
        .collect();
    let a = analyse(&GrayImage::new(n, n, 500, px).unwrap()).unwrap();
    let w = a.flow.w;
    let mut errors = Vec::new();
    for y in 16..a.flow.h - 16 {
        for x in 16..w - 16 {
            let (dx, dy) = (x as f32 - mid, y as f32 - mid);
            if (dx * dx + dy * dy).sqrt() < 30.0 {
                continue;
            }
            let tangent = dy.atan2(dx) + std::f32::consts::FRAC_PI_2;
            errors.push(angle_error(a.flow.theta[y * w + x], tangent));
        }
    }
    let mean = errors.iter().sum::<f32>() / errors.len() as f32;
    assert!(mean < 4.0, "mean orientation error on rings {mean:.2}°");
}

#[test]
fn ridge_period_is_measured_within_half_a_pixel() {
    for period in [6.0f32, 8.0, 9.5, 12.0] {
        let a = analyse(&straight_ridges(160, 35.0, period, 10.0)).unwrap();
        let got = a.flow.median_period;
        assert!((got - period).abs() < 0.5, "period {period} px measured as {got:.2}");
    }
    // Resampling: the same ridges captured at 1000 dpi have the same physical period.
    let img = straight_ridges(320, 35.0, 18.0, 0.0);
    let img = GrayImage::new(320, 320, 1000, img.pixels().to_vec()).unwrap();
    let got = analyse(&img).unwrap().flow.median_period;
    assert!((got - 9.0).abs() < 0.5, "18 px at 1000 dpi is 9 px at 500 dpi, measured {got:.2}");
}

fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let (ma, mb) = (a.iter().sum::<f32>() / a.len() as f32, b.iter().sum::<f32>() / b.len() as f32);
    let (mut ab, mut aa, mut bb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    ab / (aa * bb).sqrt()
}

#[test]
fn enhancement_recovers_ridges_from_heavy_noise() {
    let clean = analyse(&straight_ridges(160, 60.0, 9.0, 0.0)).unwrap();
    let noisy = analyse(&straight_ridges(160, 60.0, 9.0, 220.0)).unwrap();
    let interior = |v: &[f32]| -> Vec<f32> {
        (20..140).flat_map(|y| (20..140).map(move |x| (y, x))).map(|(y, x)| v[y * 160 + x]).collect()
    };
    let truth = interior(&clean.normalised.pixels);
    let before = correlation(&interior(&noisy.normalised.pixels), &truth);
    let after = correlation(&interior(&noisy.enhanced), &truth);
    assert!(
        after > 0.8 && after > before + 0.3,
        "correlation with the clean ridges: noisy {before:.2}, enhanced {after:.2}"
    );
}

#[test]
fn hostile_images_get_an_error_or_a_result_never_a_panic() {
    let mut state = 99u32;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                (state >> 24) as u8
            })
            .collect()
    };
    // Random bytes at the largest accepted size: bounded work, no panic.
    let big = GrayImage::new(1024, 1024, 500, noise(1024 * 1024)).unwrap();
    let _ = extract(&big);
    let _ = assess(&big);
    // Constant and tiny images: a clear error.
    for (w, h) in [(160, 160), (64, 64)] {
        let flat = GrayImage::new(w, h, 500, vec![128; (w * h) as usize]).unwrap();
        assert_eq!(extract(&flat).err(), Some(EngineError::NoRidges));
        assert_eq!(assess(&flat), Quality::Dirty);
    }
    let tiny = GrayImage::new(40, 300, 500, noise(40 * 300)).unwrap();
    assert!(matches!(extract(&tiny), Err(EngineError::Image(_))));
    // Resolutions outside 300..=1000 dpi are refused, not silently rescaled.
    for dpi in [100, 299, 1001, 5000] {
        let img = GrayImage::new(160, 160, dpi, noise(160 * 160)).unwrap();
        assert!(matches!(extract(&img), Err(EngineError::Image(_))), "{dpi} dpi");
    }
    // A 300-dpi 64 px image shrinks below the grid's minimum after resampling: still an error, not a panic.
    let small = GrayImage::new(64, 64, 300, noise(64 * 64)).unwrap();
    let _ = extract(&small);
    let _ = analyse(&small);
}

/// Horizontal ridges of period 9 px with one extra ridge starting at (x0, y0): the phase winds
/// once around that point, which makes exactly one minutia there. `invert` swaps ridges and
/// valleys, which turns a ridge ending into a bifurcation and back.
fn one_minutia(x0: f32, y0: f32, invert: bool) -> GrayImage {
    let n = 160u32;
    let px = (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32, (i / n) as f32);
            let phase = y / 9.0 + (y - y0).atan2(x - x0) / std::f32::consts::TAU;
            let v = 80.0 * (std::f32::consts::TAU * phase).cos();
            (128.0 + if invert { -v } else { v }) as u8
        })
        .collect();
    GrayImage::new(n, n, 500, px).unwrap()
}

#[test]
fn a_single_minutia_is_found_where_it_is_with_its_type_and_direction() {
    let mut kinds = Vec::new();
    for invert in [false, true] {
        let a = analyse(&one_minutia(83.0, 77.0, invert)).unwrap();
        let near: Vec<_> = a.minutiae.iter().filter(|m| (m.x - 83.0).hypot(m.y - 77.0) < 8.0).collect();
        assert_eq!(near.len(), 1, "invert={invert}: minutiae near the point: {:?}", a.minutiae);
        assert_eq!(a.minutiae.len(), 1, "invert={invert}: spurious minutiae elsewhere: {:?}", a.minutiae);
        let m = near[0];
        // Ridges run horizontally, so the minutia points along ±x.
        assert!(m.direction.sin().abs() < 0.35, "direction {:.1}°", m.direction.to_degrees());
        assert!(m.quality > 0.5, "quality {}", m.quality);
        kinds.push(m.kind);
    }
    assert_ne!(kinds[0], kinds[1], "swapping ridges and valleys must swap ending and bifurcation");
}

#[test]
fn a_minutia_points_the_same_way_wherever_it_falls_between_pixels() {
    // Thinning leaves the pixels right at a fork in shapes that change with the sub-pixel
    // position; the direction must not. Both kinds point to the side the extra line lies on.
    let mut sides = Vec::new();
    for invert in [false, true] {
        for k in 0..12 {
            let (x0, y0) = (78.0 + k as f32 * 0.37, 75.0 + k as f32 * 0.61);
            let a = analyse(&one_minutia(x0, y0, invert)).unwrap();
            let m = a.minutiae.iter().find(|m| (m.x - x0).hypot(m.y - y0) < 8.0).expect("the minutia is found");
            sides.push((invert, k, m.direction.cos() > 0.0));
        }
    }
    let first = sides[0].2;
    assert!(sides.iter().all(|s| s.2 == first), "(inverted, position, points to +x): {sides:?}");
}

#[test]
fn alignment_maps_points_of_a_capture_onto_a_shifted_and_rotated_one() {
    let (dx, dy, deg) = (14.0f32, -10.0f32, 12.0f32);
    let a = ridges(3, 192, 192, 0.0, 0.0, 0.0);
    let b = ridges(3, 192, 192, dx, dy, deg);
    let al = align(&a, &b).unwrap();
    assert!(al.score > DEFAULT_THRESHOLD, "score {}", al.score);
    // Where `ridges` puts finger point p of `a` in `b`: rotate by -deg about the centre, then shift.
    let m = 96.0;
    let (s, c) = (-deg).to_radians().sin_cos();
    for (x, y) in [(96.0f32, 96.0f32), (70.0, 120.0), (120.0, 80.0)] {
        let (ux, uy) = (x - m, y - m);
        let expect = (c * ux - s * uy + m + dx, s * ux + c * uy + m + dy);
        let got = al.map(x, y);
        let err = (got.0 - expect.0).hypot(got.1 - expect.1);
        assert!(err < 4.0, "({x},{y}) mapped to {got:?}, expected {expect:?} (rotation found {}°)", al.degrees);
    }
}

/// Synthetic fingers 500.. enrolled upright (14 touches, the HAL's default, within ±15°), made once
/// for the tests that share them.
const UPRIGHT_FINGERS: u64 = 20;

fn upright_templates() -> &'static [Template] {
    static TEMPLATES: std::sync::OnceLock<Vec<Template>> = std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| {
        (0..UPRIGHT_FINGERS)
            .map(|f| {
                Template::from_views((1..=14).filter_map(|i| extract(&synthetic(500 + f, i, |_| {})).ok()).collect())
            })
            .collect()
    })
}

/// A finger enrolled upright (14 touches, the HAL's default, within ±15°) is recognised when it
/// comes back turned a quarter or half a turn, and the turned touch is not taken for any other
/// finger, at the shipped threshold: at least 19 of 20. (Second looks included: they must not
/// lift an impostor finger either.)
#[test]
fn fingers_enrolled_upright_are_recognised_turned_90_and_180_degrees_and_no_other_finger_is() {
    const FINGERS: u64 = UPRIGHT_FINGERS;
    let templates = upright_templates();
    for turn in [90.0f32, 180.0] {
        let mut recognised = 0;
        for f in 0..FINGERS {
            // Scored as the HAL scores a touch, its second look included.
            let img = synthetic(500 + f, 20, |t| t.rotation += turn);
            let touch = Touch::new(&img, extract(&img).unwrap());
            let scores: Vec<f32> = templates.iter().map(|t| touch.score(t, DEFAULT_THRESHOLD).score).collect();
            recognised += usize::from(scores[f as usize] >= DEFAULT_THRESHOLD);
            for (other, s) in scores.iter().enumerate().filter(|(other, _)| *other as u64 != f) {
                assert!(*s < DEFAULT_THRESHOLD, "finger {f} turned {turn}° taken for finger {other}: {s}");
            }
        }
        assert!(recognised >= 19, "{recognised} of {FINGERS} fingers recognised turned {turn}°");
    }
}

/// The turns each view's alike minutiae pairs vote for ([`verify::turn_votes`]).
fn votes_of(probe: &Features, template: &Template) -> Vec<[f32; verify::TURN_BINS]> {
    template
        .views
        .iter()
        .map(|view| {
            let mut votes = [0.0; verify::TURN_BINS];
            verify::turn_votes(probe.marks(), view.marks(), &mut votes);
            votes
        })
        .collect()
}

/// A finger turned far whose views found no pose of their own (as a weak touch's anchors often find
/// none) is laid at the turn its views' alike minutiae vote for, near the turn it was given (each
/// touch was drawn up to 15° either way, so the turn that most views vote for lies within 30° of
/// it), and is recognised there.
#[test]
fn a_turned_touch_whose_views_found_no_pose_is_laid_at_the_turn_they_vote_for() {
    let templates = upright_templates();
    for (f, template) in templates.iter().enumerate().take(4) {
        let probe = extract(&synthetic(500 + f as u64, 20, |t| t.rotation += 120.0)).unwrap();
        let clearest = |matches: &[ViewMatch]| -> ViewMatch {
            *matches.iter().max_by(|a, b| a.evidence().total_cmp(&b.evidence())).unwrap()
        };
        let none = ViewMatch { peak: 0.0, minutiae: verify::Agreement::default(), pose: None };
        let mut matches = vec![none; template.views.len()];
        let votes = votes_of(&probe, template);
        try_the_voted_turn(&probe, template, &votes, &mut matches);
        let voted = clearest(&matches).pose.expect("a view correlated at the voted turn").degrees;
        let apart = (voted - 120.0 + 540.0).rem_euclid(360.0) - 180.0;
        assert!(apart.abs() <= 30.0, "finger {f}: laid at {voted}° by the vote, turned by 120°");
        assert!(score_of(&matches) >= DEFAULT_THRESHOLD, "finger {f}: {} at the voted turn", score_of(&matches));
    }
}

/// Weak touches turned far are recognised through [`view_matches`] at the turn the views vote for:
/// one of the finger's two best views lies at the voted turn (the votes' mean turn, which no other
/// stage tries). The three harshly drawn touches (faint or flattened, dry, distorted, stretched;
/// `Touch::harsh`) were chosen among 960 of fingers 500–519 (impressions 20–25, plain and harsh,
/// turned 60, 100, 140 and 170°) as those that score below 0.17 with the vote left out of
/// `view_matches_searching` and 0.176–0.180 with it; at least two of them must stay recognised there.
#[test]
fn weak_turned_touches_are_recognised_at_the_turn_the_views_vote_for() {
    let templates = upright_templates();
    let mut recognised = 0;
    for (f, impression, turn) in [(1u64, 21u32, 140.0f32), (9, 20, 100.0), (10, 25, 140.0)] {
        let probe = harsh_touch(f, impression, turn);
        let template = &templates[f as usize];
        let votes = votes_of(&probe, template);
        let (_, voted) = voted_turn(&votes).expect("the views vote");
        let mut matches = view_matches(&probe, template);
        let scored = score_of(&matches);
        matches.sort_by(|a, b| b.evidence().total_cmp(&a.evidence()));
        let at_the_vote = matches[..2].iter().any(|m| m.pose.is_some_and(|pose| pose.degrees == voted));
        recognised += usize::from(scored >= DEFAULT_THRESHOLD && at_the_vote);
    }
    assert!(recognised >= 2, "{recognised} of 3 weak turned touches recognised at the voted turn");
}

/// A turn only the vote finds is spread to the finger's other views: the vote comes before the
/// consensus (`try_the_clearest_turn`), which tries the less sure views at the clearest turn. The
/// three harshly drawn touches were chosen among the same 960 as above as those that the other
/// order (the consensus first) left below 0.17 (0.120, 0.169 and 0.167) and this one recognises
/// (0.200, 0.185 and 0.180); at least two of them must stay recognised, and none be taken for
/// another finger.
#[test]
fn a_turn_only_the_vote_found_is_tried_on_the_other_views_too() {
    let recognised = harsh_touches_recognised(&[(0, 21, 100.0), (4, 21, 170.0), (16, 24, 100.0)]);
    assert!(recognised >= 2, "{recognised} of 3 weak turned touches recognised once the vote's turn is spread");
}

/// Upright as turned, a weak touch's views less sure than its clearest (most of them not correlated
/// over the rotations) are tried at the clearest view's pose; none of the touches is taken for
/// another finger. The three harshly drawn touches (turned 10°, -10° and 0°) were
/// chosen among 720 of fingers 500-519 (impressions 20-25, plain and harsh, turned 0 and ±10°) as
/// those left below 0.17 without it (0.164, 0.167 and 0.147) and recognised with it (0.172, 0.180
/// and 0.173); none of the 720 fell out of recognition or by more than 0.02 with it. At least two
/// must stay recognised.
#[test]
fn an_upright_touch_has_its_less_sure_views_tried_at_its_clearest_pose() {
    let recognised = harsh_touches_recognised(&[(5, 21, 10.0), (10, 24, -10.0), (15, 25, 0.0)]);
    assert!(recognised >= 2, "{recognised} of 3 weak upright touches recognised at their clearest pose");
}

/// A harshly drawn touch (`Touch::harsh`) of synthetic finger 500 + `f`, turned by `turn` degrees
/// more than it was drawn.
fn harsh_touch(f: u64, impression: u32, turn: f32) -> Features {
    extract(&synthetic(500 + f, impression, |t| {
        *t = t.clone().harsh();
        t.rotation += turn;
    }))
    .unwrap()
}

/// How many of the harsh touches (finger, impression, turn) their finger's upright template
/// recognises; each must score below the threshold against every other finger's template.
fn harsh_touches_recognised(touches: &[(u64, u32, f32)]) -> usize {
    let templates = upright_templates();
    let mut recognised = 0;
    for &(f, impression, turn) in touches {
        let probe = harsh_touch(f, impression, turn);
        recognised += usize::from(score(&probe, &templates[f as usize]) >= DEFAULT_THRESHOLD);
        for (other, template) in templates.iter().enumerate().filter(|(other, _)| *other as u64 != f) {
            let s = score(&probe, template);
            assert!(s < DEFAULT_THRESHOLD, "finger {f}'s touch taken for finger {other}: {s}");
        }
    }
    recognised
}

/// The coarse correlation only chooses which rotations the full one compares: for a capture of the
/// same finger, shifted and turned, the pose it leads to is the one the full correlation of every
/// rotation finds, and a capture against itself peaks near 1 on the coarse surface too.
#[test]
fn the_coarse_correlation_leads_to_the_pose_the_full_search_finds() {
    for (seed, degrees) in [(3, 12.0), (4, -6.0), (5, 17.0), (8, -15.0), (9, 2.0), (11, 0.0)] {
        let a = extract(&ridges(seed, 192, 192, 0.0, 0.0, 0.0)).unwrap();
        let b = extract(&ridges(seed, 192, 192, 11.0, -8.0, degrees)).unwrap();
        let rotations: Vec<&Spectrum> = a.rotations.iter().collect();
        let full = fft::correlation_peaks(&rotations, b.unrotated());
        let (r, &(peak, x, y)) = full.iter().enumerate().max_by(|p, q| p.1.0.total_cmp(&q.1.0)).unwrap();
        let expected = Alignment::from_peak(peak, ANGLES[r], (x, y), a.centre, b.centre);
        // The same pose; the height may differ in the last bit (another rotation shares its transform).
        let found = best_pose(&a, &super::tapered(&a.rotations), b.unrotated(), b.centre);
        assert_eq!((found.degrees, found.shift), (expected.degrees, expected.shift), "seed {seed} turned {degrees}°");
        assert!((found.score - expected.score).abs() < 1e-5, "seed {seed}: {} against {}", found.score, expected.score);
        let itself = fft::coarse_peaks(&[&a.unrotated().tapered()], a.unrotated())[0];
        assert!(itself > 0.95, "seed {seed}: a capture against itself peaks at {itself} on the coarse surface");
    }
}

/// A loop finger of clean, wide ridges (the C tests' pattern): its coarse heights at -6°, 0° and 6°
/// lie within a few hundredths of each other, and the best two by them missed the 0° the full
/// search finds, which turned a match into a rejection.
#[test]
fn the_rotations_correlated_in_full_hold_the_best_one_when_the_coarse_heights_are_close() {
    let views: Vec<_> = (0..3)
        .map(|i| extract(&ridges(1, 160, 160, i as f32 * 16.0 - 16.0, -14.0, (i % 2) as f32 * 4.0)).unwrap())
        .collect();
    let template = Template::from_views(views);
    let probe = extract(&ridges(1, 160, 160, 5.0, -4.0, 3.0)).unwrap();
    let rotations: Vec<&fft::Spectrum> = probe.rotations.iter().collect();
    for (v, view) in template.views.iter().enumerate() {
        let full = fft::correlation_peaks(&rotations, &view.band).iter().map(|p| p.0).fold(f32::MIN, f32::max);
        let chosen = super::best_rotation(
            &probe.rotations,
            &super::tapered(&probe.rotations),
            probe.centre,
            &view.band,
            view.centre,
        );
        // Within the rounding that a rotation's partner in a packed transform brings.
        assert!((chosen.score - full).abs() < 1e-5, "view {v}: {} against {full}", chosen.score);
    }
    assert!(score(&probe, &template) >= DEFAULT_THRESHOLD);
}

/// Only the views a cheap look ranks highest are searched over every rotation; the rest keep what
/// their minutiae say. A returning finger, upright (where the ranking decides: a turned touch's views
/// are found through its minutiae either way) or turned, scores as the search of every view scores
/// it (within 0.015: a view searched in full, or not, pairs its minutiae and seeks the rest under
/// a pose of its own, and the two differ by up to 0.013 on these fingers, either way): the cheap
/// look holds the views that make its score.
#[test]
fn the_views_searched_in_full_are_those_that_make_a_returning_fingers_score() {
    let templates = upright_templates();
    for (f, template) in templates.iter().enumerate().take(6) {
        for (impression, turn) in [(21, 0.0f32), (23, 0.0), (22, 90.0)] {
            let probe = extract(&synthetic(500 + f as u64, impression, |t| t.rotation += turn)).unwrap();
            let searched = score_of(&view_matches_searching(&probe, template, SEARCHED_VIEWS));
            let every_view = score_of(&view_matches_searching(&probe, template, template.views.len()));
            assert!(
                every_view >= DEFAULT_THRESHOLD,
                "finger {f} turned {turn}°: {every_view} with every view searched"
            );
            assert!(
                (searched - every_view).abs() < 0.015,
                "finger {f} turned {turn}°: {searched} with {SEARCHED_VIEWS} views searched, {every_view} with all"
            );
        }
    }
}

/// Template update must not take a touch for new skin when it lies where a view lay, whether or not
/// the match correlated that view, or laid it a step off.
#[test]
fn a_touch_where_a_view_lay_is_not_new_skin_even_when_that_view_was_not_correlated() {
    let template = &upright_templates()[0];
    let again = extract(&synthetic(500, 1, |_| {})).unwrap();
    let mut matches = view_matches(&again, template);
    assert!(!shows_new_skin(&again, template, &matches));
    for m in &mut matches {
        (m.pose, m.peak) = (None, 0.0);
    }
    assert!(!shows_new_skin(&again, template, &matches), "the views outside the search are correlated too");
    for (m, view) in matches.iter_mut().zip(&template.views) {
        m.pose = Some(again.turned_pose(TURN_STEP.to_radians(), view));
    }
    assert!(!shows_new_skin(&again, template, &matches), "a view laid a step off by the consensus is correlated again");
    let elsewhere = extract(&synthetic(501, 1, |_| {})).unwrap();
    assert!(shows_new_skin(&elsewhere, template, &view_matches(&elsewhere, template)), "another finger's touch");
}

/// A band turned a quarter circle by moving its bins is the band of the capture turned by 90°
/// (and twice, 180°; three times, 270°), at every one of the correlation's rotations: the two
/// correlate at (0, 0), as high as a capture against itself.
#[test]
fn a_band_turned_by_quarters_is_the_band_of_the_capture_turned_as_far() {
    let probe = extract(&synthetic(41, 5, |t| t.dx += 7.0)).unwrap();
    for (r, &degrees) in ANGLES.iter().enumerate() {
        let band = turned_band(&probe.prepared, degrees);
        for quarters in -1..=3 {
            let band = band.quarters_turned(quarters);
            let turned = turned_band(&probe.prepared, degrees + 90.0 * quarters as f32);
            let (peak, x, y) = fft::correlation_peaks(&[&band], &turned)[0];
            assert!(peak > 0.99, "rotation {r}, {quarters} quarters: peak {peak}");
            assert_eq!((x, y), (0, 0), "rotation {r}, {quarters} quarters: moved");
        }
        let (own, ..) = fft::correlation_peaks(&[&probe.rotations[r]], &turned_band(&probe.prepared, degrees))[0];
        assert!(own > 0.99, "rotation {r} against itself: {own}");
    }
}

/// Every turn a probe is tried at comes out as the band of the capture turned that far, whether it
/// is one of the correlation's rotations, a turn within 45° of upright transformed anew, or a
/// quarter circle or more from either; and the turns within 45° kept for the others are the bands
/// of their own turns.
#[test]
fn a_turned_band_is_the_band_of_its_turn_however_it_is_come_by() {
    let probe = extract(&synthetic(43, 6, |t| t.dy -= 5.0)).unwrap();
    let mut turned = Vec::new();
    for step in [-30, -23, -22, -16, -15, -8, -7, -3, 0, 4, 7, 8, 11, 15, 22, 23, 29] {
        let at = probe.band_at_step(&mut turned, step);
        assert_eq!(turned[at].0, step);
        let (peak, x, y) =
            fft::correlation_peaks(&[&turned[at].1], &turned_band(&probe.prepared, step as f32 * TURN_STEP))[0];
        assert!(peak > 0.99 && (x, y) == (0, 0), "step {step}: peak {peak} at ({x}, {y})");
    }
    for (step, band) in &turned {
        let (peak, x, y) = fft::correlation_peaks(&[band], &turned_band(&probe.prepared, *step as f32 * TURN_STEP))[0];
        assert!(peak > 0.99 && (x, y) == (0, 0), "kept step {step}: peak {peak} at ({x}, {y})");
    }
    assert!(turned.iter().any(|(s, _)| *s == 7) && turned.iter().any(|(s, _)| *s == -7), "turns within 45° kept");
}

/// A touch that almost matched is looked at again ([`Touch`]): a harsh touch of finger 515 whose
/// first look scores just under the threshold is recognised at the second, and taken for no other
/// finger; a touch that matched at once, or scored far below, keeps its first look's score.
#[test]
fn a_touch_that_almost_matched_is_recognised_at_a_second_look_and_no_other_finger_is() {
    let templates = upright_templates();
    let look = |f: u64, impression: u32| {
        let img = synthetic(500 + f, impression, |t| *t = t.clone().harsh());
        let first = extract(&img).unwrap();
        (img, first)
    };
    let (img, first) = look(15, 22);
    let touch = Touch::new(&img, first);
    let own = touch.score(&templates[15], DEFAULT_THRESHOLD);
    assert!(
        (SECOND_LOOK_FROM..DEFAULT_THRESHOLD).contains(&own.first) && own.score >= DEFAULT_THRESHOLD,
        "first look {}, after the second {}",
        own.first,
        own.score
    );
    for (other, template) in templates.iter().enumerate().filter(|(other, _)| *other != 15) {
        let s = touch.score(template, DEFAULT_THRESHOLD).score;
        assert!(s < DEFAULT_THRESHOLD, "finger 15's touch taken for finger {other}: {s}");
    }
    // Matched at once: no second look (with the band reaching higher, one would lift the score).
    let (img, first) = look(5, 21);
    let touch = Touch::new(&img, first);
    let own = touch.score(&templates[5], DEFAULT_THRESHOLD);
    assert!(own.first >= DEFAULT_THRESHOLD && own.score == own.first, "{} then {}", own.first, own.score);
    assert!(touch.score(&templates[5], 1.0).score > own.first, "a second look would lift this touch");
    // Far below: no second look either.
    let (img, first) = look(19, 21);
    let own = Touch::new(&img, first).score(&templates[19], DEFAULT_THRESHOLD);
    assert!(own.first < SECOND_LOOK_FROM && own.score == own.first, "{} then {}", own.first, own.score);
}
