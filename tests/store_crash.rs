//! The template store under SIGKILL: a child process runs write/remove cycles on a group store
//! and reports each one when the store call has returned; the parent kills it at a random moment,
//! then checks that every file on disk opens (nothing torn) and that every reported operation is
//! reflected (nothing lost). The one operation in flight at the kill may have happened or not.

use fphal::tee::soft::keys;
use fphal::tee::soft::store::GroupStore;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_ENV: &str = "FPHAL_STORE_CRASH_CHILD";
const GID: u32 = 3;
const FIDS: u32 = 6;
/// Completed operations the whole test must see reported before it stops.
const TARGET_OPS: usize = 1000;

/// A small deterministic generator, so the parent can replay the child's sequence of operations.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[derive(Clone, Debug)]
enum Op {
    Write { fid: u32, content: Vec<u8> },
    Remove { fid: u32 },
}

fn op(rng: &mut Lcg, round: u64, k: usize) -> Op {
    let fid = 1 + (rng.next() % FIDS as u64) as u32;
    if rng.next() % 3 == 0 {
        return Op::Remove { fid };
    }
    // Sizes up to 256 KiB, so that some writes are long enough to be cut in the middle.
    let len = (rng.next() % (256 << 10)) as usize;
    let mut content = format!("{fid}:{round}:{k}:").into_bytes();
    content.extend((0..len).map(|i| (i as u64 ^ round) as u8));
    Op::Write { fid, content }
}

fn paths() -> (PathBuf, PathBuf) {
    let root = std::env::var(CHILD_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join(format!("fphal-store-crash-{}", std::process::id())));
    (root.join("keys/device.key"), root.join("group"))
}

fn store(key_file: &Path, group: &Path) -> GroupStore {
    let key = keys::load_or_create(key_file, true).expect("device key");
    GroupStore::open(group, GID, &key)
}

/// In the child process: run operations until killed, one line per completed one. Ignored in a
/// plain test run: only the parent below starts it (with `--include-ignored`), in a process of its
/// own that it kills.
#[test]
#[ignore = "the child of a_store_killed_at_random_points_is_never_torn_and_loses_nothing_reported"]
fn store_crash_child() {
    let seed = std::env::var("FPHAL_STORE_CRASH_ROUND").expect("started by the parent test, which sets the round");
    let round: u64 = seed.parse().unwrap();
    let (key_file, group) = paths();
    let s = store(&key_file, &group);
    let mut rng = Lcg(round);
    for k in 0.. {
        match op(&mut rng, round, k) {
            Op::Write { fid, content } => s.write_template(fid, round, &content).unwrap(),
            Op::Remove { fid } => s.remove_template(fid).unwrap(),
        }
        // The harness may have written "test ... " on this line already: parse with contains().
        println!("DONE {k}");
    }
}

#[test]
fn a_store_killed_at_random_points_is_never_torn_and_loses_nothing_reported() {
    let root = std::env::temp_dir().join(format!("fphal-store-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("keys")).unwrap();
    std::fs::create_dir_all(root.join("group")).unwrap();
    let (key_file, group) = (root.join("keys/device.key"), root.join("group"));
    let mut expected: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut completed = 0;
    let mut kills_mid_write = 0;
    let mut chooser = Lcg(std::process::id() as u64);
    let mut round = 1u64;
    while completed < TARGET_OPS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "store_crash_child", "--include-ignored", "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, &root)
            .env("FPHAL_STORE_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout).lines().map_while(Result::ok).filter(|l| l.contains("DONE ")).count()
        });
        std::thread::sleep(Duration::from_millis(5 + chooser.next() % 40));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let reported = reader.join().unwrap();

        // Replay the child's sequence: `reported` operations happened, the next one may have.
        let mut rng = Lcg(round);
        for k in 0..reported {
            match op(&mut rng, round, k) {
                Op::Write { fid, content } => {
                    expected.insert(fid, content);
                }
                Op::Remove { fid } => {
                    expected.remove(&fid);
                }
            }
        }
        let in_flight = op(&mut rng, round, reported);

        let s = store(&key_file, &group);
        let on_disk: BTreeMap<u32, Vec<u8>> = s.load_all().into_iter().map(|f| (f.fid, f.template.to_vec())).collect();
        let files = std::fs::read_dir(&group).unwrap().count();
        assert_eq!(files, on_disk.len(), "round {round}: a file on disk does not open (torn) or a temp file was left");
        for fid in 1..=FIDS {
            let got = on_disk.get(&fid);
            let before = expected.get(&fid);
            let after = match &in_flight {
                Op::Write { fid: f, content } if *f == fid => Some(content),
                Op::Remove { fid: f } if *f == fid => None,
                _ => before,
            };
            assert!(
                got == before || got == after,
                "round {round}, finger {fid}: on disk {:?}, reported state {:?}",
                got.map(|c| String::from_utf8_lossy(&c[..c.len().min(16)]).into_owned()),
                before.map(|c| String::from_utf8_lossy(&c[..c.len().min(16)]).into_owned()),
            );
            if got != before {
                kills_mid_write += 1;
            }
        }
        // Continue from what is actually there.
        expected = on_disk;
        completed += reported;
        round += 1;
    }
    eprintln!(
        "{completed} reported operations over {} kills; {kills_mid_write} in-flight operations had landed",
        round - 1
    );
    std::fs::remove_dir_all(&root).unwrap();
}
