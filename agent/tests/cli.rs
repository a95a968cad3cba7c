//! The `lvs-agent` binary as a user runs it: exit statuses, and what it prints.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvs-agent")).args(args).current_dir(repo()).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn examples() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| format!("examples/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".ron"))
        .collect();
    v.sort();
    v
}

#[test]
fn check_reports_every_example_and_refuses_the_8099_port_map() {
    let files = examples();
    assert!(files.len() >= 14, "{files:?}");
    let args: Vec<&str> = std::iter::once("check").chain(files.iter().map(String::as_str)).collect();
    let out = agent(&args);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    for f in &files {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{f}: ")))
            .unwrap_or_else(|| panic!("{f} not reported:\n{stdout}"));
        if f.contains("8099") {
            assert!(line.contains("invalid: 2 errors"), "{line}");
        } else {
            assert!(line.contains(": ok: "), "{line}");
        }
    }
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("examples/001-dr-portmap-8099-refused.ron:22:41: error: real server 192.168.56.183:80 listens on port 80, but service TCP 192.168.56.186:8099 forwards by DirectRouting, which cannot change the port"),
        "{stderr}"
    );
    assert!(stderr.contains("help: "), "{stderr}");
}

#[test]
fn check_summarises_a_good_file_on_one_line() {
    let out = agent(&["check", "examples/001-dr-wrr-director.ron"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "examples/001-dr-wrr-director.ron: ok: director \"ds1\", 1 service, 2 real servers, 0 warnings\n"
    );
    let print = agent(&["check", "--print", "examples/001-dr-wrr-director.ron"]);
    assert!(text(&print.stdout).contains("weight: 2"), "{}", text(&print.stdout));
}

#[test]
fn check_of_a_missing_file_says_so() {
    let out = agent(&["check", "examples/no-such-file.ron"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("examples/no-such-file.ron: cannot read the config file"));
}

#[test]
fn import_reads_stdin_and_writes_a_file_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("imported.ron");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lvs-agent"))
        .args(["import", "ipvsadm", "-", "-o", out_file.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rules = std::fs::read(repo().join("tests/data/004-step4-rules.txt")).unwrap();
    child.stdin.take().unwrap().write_all(&rules).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("<stdin>:6: warning: skipped: no such real server 192.168.2.202:80"),
        "{}",
        text(&out.stderr)
    );
    let check = agent(&["check", out_file.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let export = agent(&["export", "ipvsadm", out_file.to_str().unwrap()]);
    let rules = text(&export.stdout);
    for expected in [
        "-A -t 192.168.4.5:80 -s rr",
        "-r 192.168.2.200:80 -m -w 2",
        "-r 192.168.2.201:80 -m -w 3",
        "-A -t 192.168.4.5:3306 -s lc",
    ] {
        assert!(rules.contains(expected), "{expected} missing from:\n{rules}");
    }
}

#[test]
fn import_errors_name_the_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.txt");
    std::fs::write(&rules, "-A -t 192.0.2.80:80 -s rr\n-a -t 192.0.2.80:80 -r 192.0.2.21 -w lots\n").unwrap();
    let out = agent(&["import", "ipvsadm", rules.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("rules.txt:2: error: "), "{stderr}");
    assert!(stderr.contains("| -a -t 192.0.2.80:80 -r 192.0.2.21 -w lots"), "{stderr}");
}

#[test]
fn export_writes_ipvsadm_restore_input() {
    let out = agent(&["export", "ipvsadm", "examples/003-dr-wrr-persistent-director.ron"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "--set 30 6 60\n\
         -A -t 192.168.128.181:80 -s wrr -p 20\n\
         -a -t 192.168.128.181:80 -r 192.168.128.131:80 -g -w 1\n\
         -a -t 192.168.128.181:80 -r 192.168.128.132:80 -g -w 1\n"
    );
    let rs = agent(&["export", "ipvsadm", "examples/001-dr-realserver.ron"]);
    assert_eq!(rs.status.code(), Some(2));
    let bad = agent(&["export", "ipvsadm", "examples/001-dr-portmap-8099-refused.ron"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
}

/// `import ipvsadm` with `input` on stdin and `args` after it.
fn import_stdin(input: &[u8], args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lvs-agent"))
        .args(["import", "ipvsadm"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // import may stop reading early (input too large): a broken pipe is its answer.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn import_refuses_rules_whose_config_check_refuses_and_names_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("imported.ron");
    let rules = "-A -t 192.0.2.80:80 -s rr\n\
                 -a -t 192.0.2.80:80 -r 192.0.2.21\n\
                 --start-daemon backup --mcast-interface eth1 --sync-maxlen 100\n";
    for strict in [false, true] {
        let mut args = vec!["-", "-o", out_file.to_str().unwrap()];
        if strict {
            args.push("--strict");
        }
        let out = import_stdin(rules.as_bytes(), &args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(
                "<stdin>:3: error: sync_maxlen 100 is outside 1024 to 65507 for a backup daemon \
                 (config: role.sync_daemons[0].sync_maxlen)\n  \
                 | --start-daemon backup --mcast-interface eth1 --sync-maxlen 100\n  help: "
            ),
            "{stderr}"
        );
        assert!(stderr.contains("`lvs-agent check` refuses (1 error): nothing written"), "{stderr}");
        assert!(!out_file.exists());
        assert!(out.stdout.is_empty());
    }
    // The same rules without the daemon's option: check accepts what import writes.
    let good = rules.replace(" --sync-maxlen 100", "");
    let out = import_stdin(good.as_bytes(), &["-", "-o", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let check = agent(&["check", out_file.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn import_refuses_input_over_16_mib_and_bytes_that_are_not_text() {
    let mut big = "# padding\n".repeat((16 << 20) / 10);
    big.push_str("-A -t 192.0.2.80:80\n".repeat(10).as_str());
    assert!(big.len() > 16 << 20);
    let out = import_stdin(big.as_bytes(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "<stdin>: error: the input is larger than 16 MiB, the most import reads; nothing written\n"
    );
    assert!(out.stdout.is_empty());
    // Just under the bound, it is read.
    let under = &big.as_bytes()[big.len() - (16 << 20)..];
    assert_eq!(import_stdin(under, &[]).status.code(), Some(0));

    let out = import_stdin(b"-A -t 192.0.2.80:80\n-A -t 192.0.2.81:80 -s r\xffr\n", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "<stdin>:2: error: the line is not UTF-8 text (byte 25 of it)\n  | -A -t 192.0.2.81:80 -s r\u{fffd}r\n"
    );
}
