//! `lvs-agent check` of a config with `management`: the pki folder is checked
//! as the agent checks it at boot, where this machine has it.

use std::path::Path;
use std::process::{Command, Output};

fn check(config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvs-agent")).arg("check").arg(config).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A config whose management's pki is `pki`, written to `dir/a.ron`.
fn config(dir: &Path, pki: &Path) -> std::path::PathBuf {
    let path = dir.join("a.ron");
    let text = format!(
        "Appliance(\n    role: Director(services: []),\n    management: Management(listen: [\"192.0.2.10:9443\"], pki: {:?}),\n)\n",
        pki.display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_unusable_pki_folder_here_is_an_error_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    let file = config(dir.path(), &pki);
    let out = check(&file);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(stdout, format!("{}: invalid: 1 error\n", file.display()));
    let at = format!(
        "{}:3:62: error: management pki folder {} is not usable: {}/",
        file.display(),
        pki.display(),
        pki.display()
    );
    assert!(stderr.contains(&at), "{stderr}");
    assert!(stderr.contains("help: run `lvs-agent pki init DIR"), "{stderr}");
}

#[test]
fn a_missing_pki_folder_in_a_folder_that_is_here_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let file = config(dir.path(), &pki);
    let out = check(&file);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let at = format!("{}:3:62: error: management pki folder {} does not exist", file.display(), pki.display());
    assert!(stderr.contains(&at), "{stderr}");
}

#[test]
fn a_pki_folder_not_on_this_machine_is_a_warning_and_the_file_is_ok() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("not-here/pki");
    let file = config(dir.path(), &pki);
    let out = check(&file);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, format!("{}: ok: director, 0 services, 0 real servers, 2 warnings\n", file.display()));
    let at =
        format!("{}:3:62: warning: management pki folder {} is not on this machine", file.display(), pki.display());
    assert!(stderr.contains(&at), "{stderr}");
    assert!(stderr.contains("the agent checks it at boot"), "{stderr}");
}

#[test]
fn a_pki_folder_made_by_pki_init_is_usable() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let init = Command::new(env!("CARGO_BIN_EXE_lvs-agent"))
        .args(["pki", "init"])
        .arg(&pki)
        .args(["--name", "ds1", "--address", "192.0.2.10"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", text(&init.stderr));
    let file = config(dir.path(), &pki);
    let out = check(&file);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with(&format!("{}: ok: director", file.display())), "{stdout}");
    assert!(!stderr.contains("pki"), "{stderr}");
}
