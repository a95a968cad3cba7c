//! A recording fake of the disk, and power cuts at every step and after
//! every byte of every write.

use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io;

const OLD: &str = "Appliance(role: Director(services: []), log_level: Warn)";
const NEW: &str = "Appliance(\n    hostname: \"lb1\",\n    role: Director(services: []),\n)";
const OLDER: &str = "Appliance(role: Director(services: []), log_level: Debug)";

fn config() -> ConfigFile {
    ConfigFile { path: PathBuf::from("/config/appliance.ron"), remount: Some(PathBuf::from("/config")) }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Remount { read_only: bool },
    Read(PathBuf),
    Write(PathBuf, usize),
    Sync(PathBuf),
    Rename(PathBuf, PathBuf),
    SyncDir(PathBuf),
}

/// A file system in memory that records each call. `budget` is how much
/// more happens before the power goes: a call costs one, and a write one
/// per byte, so that it can be cut after any byte; once it is spent every
/// call fails and changes nothing. `fail` makes the call of that number
/// fail with EIO.
#[derive(Default)]
struct Fake {
    files: BTreeMap<PathBuf, Vec<u8>>,
    /// Files written since their last fsync: a power cut may lose their data.
    unsynced: BTreeSet<PathBuf>,
    read_only: bool,
    ops: Vec<Op>,
    budget: Option<usize>,
    fail: Option<usize>,
    /// Whether the power went during the run.
    cut: bool,
}

impl Fake {
    fn with(files: &[(&str, &str)]) -> Fake {
        let files = files.iter().map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec())).collect();
        Fake { files, read_only: true, ..Fake::default() }
    }

    /// Spends `cost`; false when the power is gone (or goes now).
    fn spend(&mut self, cost: usize) -> bool {
        match &mut self.budget {
            Some(left) if *left < cost => {
                *left = 0;
                self.cut = true;
                false
            }
            Some(left) => {
                *left -= cost;
                true
            }
            None => true,
        }
    }

    fn call(&mut self, op: Op) -> io::Result<()> {
        self.ops.push(op.clone());
        if self.cut || self.fail == Some(self.ops.len() - 1) {
            return Err(io::Error::from_raw_os_error(libc_eio()));
        }
        if self.read_only && matches!(op, Op::Write(..) | Op::Rename(..)) {
            return Err(io::Error::from_raw_os_error(Errno::EROFS as i32));
        }
        if !matches!(op, Op::Write(..)) && !self.spend(1) {
            return Err(io::Error::from_raw_os_error(libc_eio()));
        }
        Ok(())
    }

    /// What a boot reads: the file if it is a valid config, else `.prev` if
    /// it is; `lossy` also loses the data of files written but not synced.
    fn boot(&self, lossy: bool) -> Option<String> {
        let file = config();
        [file.path.clone(), file.prev()].into_iter().find_map(|p| {
            let bytes = self.files.get(&p)?;
            let bytes = if lossy && self.unsynced.contains(&p) { &[][..] } else { &bytes[..] };
            let text = std::str::from_utf8(bytes).ok()?;
            lvs_config::parse(text, &p).ok().map(|_| text.to_string())
        })
    }
}

fn libc_eio() -> i32 {
    Errno::EIO as i32
}

impl Disk for Fake {
    fn remount(&mut self, _: &Path, read_only: bool) -> Result<(), Errno> {
        self.call(Op::Remount { read_only }).map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0)))?;
        self.read_only = read_only;
        Ok(())
    }

    fn read(&mut self, path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>> {
        self.call(Op::Read(path.to_path_buf()))?;
        Ok(self.files.get(path).map(|b| b.iter().copied().take(cap as usize + 1).collect()))
    }

    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.call(Op::Write(path.to_path_buf(), bytes.len()))?;
        // Creating (truncating) costs one, then each byte one.
        if !self.spend(1) {
            return Err(io::Error::from_raw_os_error(libc_eio()));
        }
        self.files.insert(path.to_path_buf(), Vec::new());
        self.unsynced.insert(path.to_path_buf());
        for &b in bytes {
            if !self.spend(1) {
                return Err(io::Error::from_raw_os_error(libc_eio()));
            }
            self.files.get_mut(path).unwrap().push(b);
        }
        Ok(())
    }

    fn sync(&mut self, path: &Path) -> io::Result<()> {
        self.call(Op::Sync(path.to_path_buf()))?;
        self.unsynced.remove(path);
        Ok(())
    }

    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        self.call(Op::Rename(from.to_path_buf(), to.to_path_buf()))?;
        let bytes = self.files.remove(from).ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        self.files.insert(to.to_path_buf(), bytes);
        if self.unsynced.remove(from) {
            self.unsynced.insert(to.to_path_buf());
        } else {
            self.unsynced.remove(to);
        }
        Ok(())
    }

    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        self.call(Op::SyncDir(dir.to_path_buf()))
    }
}

fn p(s: &str) -> PathBuf {
    PathBuf::from(s)
}

#[test]
fn the_steps_in_order_and_the_files_they_leave() {
    let mut fake = Fake::with(&[("/config/appliance.ron", OLD), ("/config/appliance.ron.prev", OLDER)]);
    config().write_with(&mut fake, NEW).unwrap();
    let (tmp, prev_tmp) = (p("/config/.appliance.ron.tmp"), p("/config/.appliance.ron.prev.tmp"));
    assert_eq!(
        fake.ops,
        [
            Op::Remount { read_only: false },
            Op::Write(tmp.clone(), NEW.len()),
            Op::Sync(tmp.clone()),
            Op::Read(p("/config/appliance.ron")),
            Op::Write(prev_tmp.clone(), OLD.len()),
            Op::Sync(prev_tmp.clone()),
            Op::Rename(prev_tmp, p("/config/appliance.ron.prev")),
            Op::Rename(tmp, p("/config/appliance.ron")),
            Op::SyncDir(p("/config")),
            Op::Remount { read_only: true },
        ]
    );
    let files: Vec<(&str, &str)> =
        fake.files.iter().map(|(p, b)| (p.to_str().unwrap(), std::str::from_utf8(b).unwrap())).collect();
    assert_eq!(files, [("/config/appliance.ron", NEW), ("/config/appliance.ron.prev", OLD)]);
    assert!(fake.read_only && fake.unsynced.is_empty());
}

#[test]
fn a_power_cut_anywhere_leaves_a_whole_config_old_or_new() {
    for before in [
        &[("/config/appliance.ron", OLD), ("/config/appliance.ron.prev", OLDER)][..],
        &[("/config/appliance.ron", OLD)][..],
        // A current file damaged by hand: .prev stays the last good one.
        &[("/config/appliance.ron", "Appliance(role: "), ("/config/appliance.ron.prev", OLDER)][..],
    ] {
        let mut whole = Fake::with(before);
        config().write_with(&mut whole, NEW).unwrap();
        let total: usize = whole
            .ops
            .iter()
            .map(|op| match op {
                Op::Write(_, n) => n + 1,
                _ => 1,
            })
            .sum();
        let old = Fake::with(before).boot(false).unwrap();
        let mut seen = BTreeSet::new();
        for budget in 0..=total {
            let mut fake = Fake { budget: Some(budget), ..Fake::with(before) };
            let result = config().write_with(&mut fake, NEW);
            assert_eq!(result.is_err(), fake.cut, "budget {budget}: {result:?}");
            for lossy in [false, true] {
                let booted = fake.boot(lossy);
                assert!(
                    booted.as_deref() == Some(&old) || booted.as_deref() == Some(NEW),
                    "budget {budget} of {total}, lossy {lossy}: a boot reads {booted:?}\n{:?}",
                    fake.ops
                );
                seen.insert(booted.unwrap());
                // .prev, when there is one, is whole at every instant.
                if let Some(prev) = fake.files.get(&config().prev()) {
                    let prev = if lossy && fake.unsynced.contains(&config().prev()) { &[][..] } else { &prev[..] };
                    let text = std::str::from_utf8(prev).unwrap();
                    assert!(lvs_config::parse(text, Path::new("p")).is_ok(), "budget {budget}: .prev is {text:?}");
                }
            }
            if result.is_ok() {
                // A write that returned lasts, even where unsynced data is lost.
                assert_eq!(fake.boot(true).as_deref(), Some(NEW), "budget {budget}");
            }
        }
        // Both ends were reached: the cuts covered the whole sequence.
        assert_eq!(seen.len(), 2, "{before:?}");
    }
}

#[test]
fn a_failed_step_names_the_file_and_errno_and_the_partition_goes_back_to_read_only() {
    let before = [("/config/appliance.ron", OLD)];
    let steps = {
        let mut whole = Fake::with(&before);
        config().write_with(&mut whole, NEW).unwrap();
        whole.ops.len()
    };
    // Every step but the first remount (which leaves nothing to undo) and the last.
    for fail in 1..steps - 1 {
        let mut fake = Fake { fail: Some(fail), ..Fake::with(&before) };
        let e = config().write_with(&mut fake, NEW).unwrap_err();
        assert!(e.to_string().contains("/config"), "{e}");
        assert!(e.to_string().contains("os error 5"), "{e}");
        assert_eq!(fake.ops.last(), Some(&Op::Remount { read_only: true }), "step {fail}: {e}");
        assert!(fake.read_only);
        let booted = fake.boot(true).unwrap();
        assert!(booted == OLD || booted == NEW, "{booted}");
    }
    let mut fake = Fake { fail: Some(0), ..Fake::with(&before) };
    let e = config().write_with(&mut fake, NEW).unwrap_err();
    assert_eq!(e.to_string(), "cannot remount /config read-write: EIO: I/O error");
    assert_eq!(fake.ops, [Op::Remount { read_only: false }]);
    let mut fake = Fake { fail: Some(steps - 1), ..Fake::with(&before) };
    let e = config().write_with(&mut fake, NEW).unwrap_err();
    assert_eq!(e.to_string(), "cannot remount /config read-only: EIO: I/O error");
    assert_eq!(fake.boot(true).as_deref(), Some(NEW));
}

#[test]
fn without_a_remount_the_write_fails_on_a_read_only_file_system() {
    let mut fake = Fake::with(&[("/config/appliance.ron", OLD)]);
    let file = ConfigFile { remount: None, ..config() };
    let e = file.write_with(&mut fake, NEW).unwrap_err();
    assert!(e.to_string().starts_with("cannot write /config/.appliance.ron.tmp: Read-only file system"), "{e}");
    fake.read_only = false;
    file.write_with(&mut fake, NEW).unwrap();
    assert!(!fake.ops.iter().any(|op| matches!(op, Op::Remount { .. })));
}

#[test]
fn the_real_disk_replaces_the_file_and_keeps_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let file = ConfigFile { path: dir.path().join("appliance.ron"), remount: None };
    file.write(OLD).unwrap();
    assert!(!file.prev().exists());
    file.write(NEW).unwrap();
    assert_eq!(std::fs::read_to_string(&file.path).unwrap(), NEW);
    assert_eq!(std::fs::read_to_string(file.prev()).unwrap(), OLD);
    let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["appliance.ron", "appliance.ron.prev"]);
    let gone = ConfigFile { path: dir.path().join("no/such/appliance.ron"), remount: None };
    let e = gone.write(NEW).unwrap_err();
    assert!(e.to_string().contains("no/such/.appliance.ron.tmp: No such file or directory (os error 2)"), "{e}");
}
