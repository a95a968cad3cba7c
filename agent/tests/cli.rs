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

#[test]
fn try_refuses_a_within_past_a_day_with_exit_2_and_no_panic() {
    let run_dir = tempfile::tempdir().unwrap();
    let run_dir = run_dir.path().to_str().unwrap();
    for (within, says) in [("500000000000y", "at most 24h"), ("25h", "at most 24h"), ("0s", "0s would be over")] {
        let out = agent(&["try", "examples/001-dr-wrr-director.ron", "--within", within, "--run-dir", run_dir]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--within {within}: {stderr}");
        assert!(stderr.contains(&format!("invalid value '{within}' for '--within <WITHIN>'")), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A day is allowed: this one gets as far as looking for the running agent.
    let out = agent(&["try", "examples/001-dr-wrr-director.ron", "--within", "24h", "--run-dir", run_dir]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no running agent"), "{}", text(&out.stderr));
}

/// A file of `len` bytes that takes no room: reading it whole would.
fn sparse(path: &std::path::Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

#[test]
fn a_config_over_4_mib_is_refused_by_size_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.ron");
    sparse(&big, 5 << 20);
    let big = big.to_str().unwrap();
    let run_dir = dir.path().to_str().unwrap();
    let says =
        format!("{big}: error: the file is 5242880 bytes, more than a config file may be (4194304 bytes at most)");
    for args in [
        &["check", big][..],
        &["export", "ipvsadm", big],
        &["plan", big],
        &["apply", big],
        &["try", big, "--run-dir", run_dir],
    ] {
        let out = agent(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&says), "{args:?}: {stderr}");
    }
}

#[test]
fn restore_refuses_an_empty_blank_or_oversized_file_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.ron");
    for blank in ["", "\n", " \n\t\n"] {
        std::fs::write(&state, blank).unwrap();
        let out = agent(&["restore", state.to_str().unwrap()]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{blank:?}: {stderr}");
        assert!(stderr.contains(&format!("lvs-agent: {}: the file is empty", state.display())), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing restored: {}", text(&out.stdout));
    }
    sparse(&state, 17 << 20);
    let out = agent(&["restore", state.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} is 17825792 bytes, more than a state file or ipvsadm rules file may be (16777216 bytes at most); nothing restored",
            state.display()
        )),
        "{stderr}"
    );
}

/// As the README says: 2 for a file that is wrong, 1 for one that cannot be
/// read, for every command that reads a config (they all do it as `check` does).
#[test]
fn a_missing_config_exits_1_and_a_wrong_one_2_for_every_command() {
    let run_dir = tempfile::tempdir().unwrap();
    let run_dir = run_dir.path().to_str().unwrap();
    for file in ["examples/no-such-file.ron", "examples/001-dr-portmap-8099-refused.ron"] {
        let (status, says) = match file.contains("no-such") {
            true => (1, format!("{file}: cannot read the config file")),
            false => (2, format!("{file}:22:41: error: ")),
        };
        for args in [
            &["check", file][..],
            &["export", "ipvsadm", file],
            &["plan", file],
            &["apply", file],
            &["try", file, "--run-dir", run_dir],
        ] {
            let out = agent(args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
            assert!(stderr.contains(&says), "{args:?}: {stderr}");
        }
    }
    let out = agent(&["restore", "examples/no-such-file.ron"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot read examples/no-such-file.ron"), "{}", text(&out.stderr));
}

/// One line per file whatever the file holds: a hostname with a newline
/// (which validation may or may not refuse) cannot add a line to the summary.
#[test]
fn check_prints_one_line_per_file_whatever_its_values_hold() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("host.ron");
    let forged = "ds1\\nexamples/001-dr-wrr-director.ron: ok: director\\r\\u{1b}[2K";
    std::fs::write(&file, format!("Appliance(hostname: \"{forged}\", role: Director(services: []))")).unwrap();
    let out = agent(&["check", file.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with(&format!("{}: ", file.display())), "{stdout}");
    assert!(!stdout.contains('\r') && !stdout.contains('\u{1b}'), "{stdout:?}");
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
