//! `lvs-agent logs [-f] [-n N]` on this machine: the tail of the running
//! agent's log file (`<run-dir>/agent.log`), and with `-f` each line as it is
//! written, as `tail -f` shows it. With `--endpoint` the appliance's
//! in-memory log is asked instead (remote::ops::logs).

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// The most of the file read back to find the last lines: lines are short,
/// and this bounds the cost of a file whose last "line" is huge.
const TAIL_MAX_BYTES: u64 = 16 << 20;
const READ_BLOCK: u64 = 64 << 10;
/// How often a followed file is looked at.
const POLL: Duration = Duration::from_millis(250);

pub fn run(run_dir: &Path, lines: usize, follow: bool) -> Result<i32> {
    let path = run_dir.join("agent.log");
    let mut file = File::open(&path)
        .with_context(|| format!("cannot read {} (is the agent running here? --run-dir says where)", path.display()))?;
    let (text, end) = tail(&mut file, lines).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    if out.write_all(&text).and_then(|()| out.flush()).is_err() || !follow {
        return Ok(0);
    }
    follow_file(&path, file, end, &mut out).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(0)
}

/// The last `lines` lines of `file` and where it ended.
fn tail(file: &mut File, lines: usize) -> std::io::Result<(Vec<u8>, u64)> {
    let end = file.seek(SeekFrom::End(0))?;
    let floor = end.saturating_sub(TAIL_MAX_BYTES);
    let mut start = end;
    let mut bytes: Vec<u8> = Vec::new();
    // A last line without its newline counts as a line too.
    let wanted = lines.saturating_add(1);
    while start > floor && bytes.iter().filter(|b| **b == b'\n').count() < wanted {
        let from = start.saturating_sub(READ_BLOCK).max(floor);
        let mut block = vec![0; usize::try_from(start.saturating_sub(from)).unwrap_or(0)];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut block)?;
        block.extend_from_slice(&bytes);
        bytes = block;
        start = from;
    }
    Ok((last_lines(&bytes, lines).to_vec(), end))
}

/// The last `n` lines of `bytes` (the last one may lack its newline).
fn last_lines(bytes: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return &bytes[i + 1..];
            }
        }
    }
    bytes
}

/// Prints what is appended to `path` from `pos` on, until stdout closes. A
/// file replaced or cut short (a new boot's /run, an agent started again) is
/// read from its start.
fn follow_file(path: &Path, mut file: File, mut pos: u64, out: &mut impl Write) -> std::io::Result<()> {
    let mut buf = vec![0; 64 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n > 0 {
            pos = pos.saturating_add(n as u64);
            if out.write_all(&buf[..n]).and_then(|()| out.flush()).is_err() {
                return Ok(());
            }
            continue;
        }
        std::thread::sleep(POLL);
        let (now, opened) = (std::fs::metadata(path), file.metadata()?);
        let replaced = now.as_ref().is_ok_and(|m| (m.dev(), m.ino()) != (opened.dev(), opened.ino()));
        if replaced || opened.len() < pos {
            if let Ok(f) = File::open(path) {
                file = f;
                pos = 0;
            } else {
                file.seek(SeekFrom::Start(0))?;
                pos = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_with_or_without_a_final_newline() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(last_lines(b"a\nb\nc", 2), b"b\nc");
        assert_eq!(last_lines(b"a\nb\nc\n", 5), b"a\nb\nc\n");
        assert_eq!(last_lines(b"a\nb\nc\n", 0), b"");
        assert_eq!(last_lines(b"", 3), b"");
    }

    #[test]
    fn the_tail_of_a_file_longer_than_one_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.log");
        let text: String = (0..20_000).map(|i| format!("lvs-agent: T=1.000 line {i}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        let (tail, end) = tail(&mut File::open(&path).unwrap(), 3).unwrap();
        assert_eq!(
            String::from_utf8(tail).unwrap(),
            "lvs-agent: T=1.000 line 19997\nlvs-agent: T=1.000 line 19998\nlvs-agent: T=1.000 line 19999\n"
        );
        assert_eq!(end, text.len() as u64);
    }
}
