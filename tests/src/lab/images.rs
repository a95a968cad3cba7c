//! Appliance images for lab tests, built with the real `lvs-image` binary and
//! the static agent, the way a user builds them (`make static`, `lvs-image build`).

use super::error::{LabError, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What one `lvs-image build` wrote.
#[derive(Clone, Debug)]
pub struct Image {
    pub dir: PathBuf,
    pub vmlinux: PathBuf,
    pub initramfs: PathBuf,
    pub disk: PathBuf,
}

fn repo() -> PathBuf {
    crate::repo_root()
}

/// `path` if it is a file, else an error that says it is missing and `remedy`.
pub(crate) fn present(path: PathBuf, remedy: &str) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(LabError::Unavailable(format!("{} is missing: {remedy}", path.display())))
    }
}

/// The static agent `make static` leaves in out/.
pub fn agent_binary() -> Result<PathBuf> {
    present(repo().join("out/lvs-agent"), "lab tests boot the static agent; run `make static` (make test does)")
}

fn image_binary() -> Result<PathBuf> {
    present(repo().join("target/release/lvs-image"), "run `cargo build --release -p lvs-image` (make test does)")
}

/// Builds an image named `name` for `config` (a path relative to the repo),
/// with `extras` as (source, path in the image). Output under target/lab-images/.
pub fn build(name: &str, config: &str, extras: &[(PathBuf, String)]) -> Result<Image> {
    build_image(name, config, extras, None)
}

/// [`build`], with `lvs-image build --pki DIR`: the appliance's `ca.pem` and
/// `server.pem` from `pki` (made by `lvs-agent pki init`) go onto the disk
/// image's config partition, under `pki/`. Only the disk image has them.
pub fn build_with_pki(name: &str, config: &str, extras: &[(PathBuf, String)], pki: &Path) -> Result<Image> {
    build_image(name, config, extras, Some(pki))
}

fn build_image(name: &str, config: &str, extras: &[(PathBuf, String)], pki: Option<&Path>) -> Result<Image> {
    let dir = repo().join("target/lab-images").join(name);
    // lvs-image copies the kernel over an existing file in place, which would
    // write through a link made by `share` into every other image.
    for kernel in ["vmlinux", "vmlinuz"] {
        let _ = std::fs::remove_file(dir.join(kernel));
    }
    let mut cmd = Command::new(image_binary()?);
    cmd.current_dir(repo())
        .arg("build")
        .arg("--config")
        .arg(config)
        .arg("--agent")
        .arg(agent_binary()?)
        .arg("--out")
        .arg(&dir)
        // A test image must not stop building the day Debian drops the locked
        // kernel: the archive's current one stands in, and the line that says
        // so is passed on. A user's `lvs-image build` refuses instead.
        .arg("--stale-fallback");
    for (src, dst) in extras {
        cmd.arg("--extra").arg(format!("{}:{dst}", src.display()));
    }
    if let Some(pki) = pki {
        cmd.arg("--pki").arg(pki);
    }
    let out = run(cmd, &format!("lvs-image build {name}"))?;
    for line in stale_lines(&String::from_utf8_lossy(&out.stderr)) {
        super::debs::loud(line);
    }
    for kernel in ["vmlinux", "vmlinuz"] {
        share(&dir.join(kernel))?;
    }
    Ok(Image {
        vmlinux: dir.join("vmlinux"),
        initramfs: dir.join("initramfs.cpio.gz"),
        disk: dir.join("disk.img"),
        dir,
    })
}

/// Replaces `file` with a hard link to an identical copy under
/// target/lab-images/shared/, the first one seen becoming that copy. Every lab
/// image carries the same pinned kernel (65 MB as vmlinux plus vmlinuz), and a
/// fresh clone's make test builds about 30 images on a disk CI shares.
/// `build` unlinks the kernel files before lvs-image writes them, so the link
/// never carries a write from one image into another.
fn share(file: &Path) -> Result<()> {
    let Some(name) = file.file_name() else { return Ok(()) };
    if !file.is_file() {
        return Ok(());
    }
    let shared_dir = repo().join("target/lab-images/shared");
    let io = |what: String, e| LabError::io(what, e);
    std::fs::create_dir_all(&shared_dir).map_err(|e| io(format!("creating {}", shared_dir.display()), e))?;
    let bytes = std::fs::read(file).map_err(|e| io(format!("reading {}", file.display()), e))?;
    // Keyed by size, checked byte for byte: a re-pinned kernel gets a copy
    // of its own, and one of the same size that differs is left unshared.
    let shared = shared_dir.join(format!("{}-{}", name.to_string_lossy(), bytes.len()));
    match std::fs::read(&shared) {
        Ok(old) if old == bytes => {}
        Ok(_) => return Ok(()),
        Err(_) => {
            // Builds race here (threads of build_all, test processes): each
            // writes a temp file of its own, and the rename leaves one whole copy.
            let image = file.parent().and_then(Path::file_name).unwrap_or_default().to_string_lossy();
            let tmp = shared_dir.join(format!(".{}.{}.{image}", name.to_string_lossy(), std::process::id()));
            std::fs::write(&tmp, &bytes).map_err(|e| io(format!("writing {}", tmp.display()), e))?;
            std::fs::rename(&tmp, &shared).map_err(|e| io(format!("renaming to {}", shared.display()), e))?;
        }
    }
    let tmp = file.with_extension("link");
    let _ = std::fs::remove_file(&tmp);
    std::fs::hard_link(&shared, &tmp)
        .map_err(|e| io(format!("linking {} to {}", tmp.display(), shared.display()), e))?;
    std::fs::rename(&tmp, file).map_err(|e| io(format!("renaming to {}", file.display()), e))
}

/// What [`build_all`] builds: an image's name, its config, its extras.
pub type Job = (String, PathBuf, Vec<(PathBuf, String)>);

/// Builds each of `jobs` on a thread of its own: a lab's images are
/// independent and its VMs boot together, so the lab waits for the slowest
/// build, not the sum. The first error in `jobs`' order.
pub fn build_all(jobs: &[Job]) -> Result<Vec<Image>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(name, config, extras)| scope.spawn(move || build(name, &config.to_string_lossy(), extras)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// An extra that makes `/bin/lvs-agent` in a test image a symlink to `/init`,
/// so guest scripts call the command line by its name (the agent is the
/// command line whenever it is not PID 1). `lvs-image build` copies a host
/// symlink as a symlink but first checks that it resolves on the host, so the
/// link is relative (`../init`) and sits in a host folder laid out like the
/// image, where `init` is the static agent.
pub fn agent_cli_link() -> Result<(PathBuf, String)> {
    let tree = repo().join("target/lab-images/agent-cli-link");
    let io = |what: &str, e| LabError::io(format!("{what} in {}", tree.display()), e);
    std::fs::create_dir_all(tree.join("bin")).map_err(|e| io("creating bin/", e))?;
    for (link, target) in [(tree.join("init"), agent_binary()?), (tree.join("bin/lvs-agent"), PathBuf::from("../init"))]
    {
        if std::fs::read_link(&link).ok().as_ref() != Some(&target) {
            let _ = std::fs::remove_file(&link);
            // Another test process may have made the same link meanwhile.
            if let Err(e) = std::os::unix::fs::symlink(&target, &link) {
                if std::fs::read_link(&link).ok().as_ref() != Some(&target) {
                    return Err(io("linking", e));
                }
            }
        }
    }
    Ok((tree.join("bin/lvs-agent"), "/bin/lvs-agent".into()))
}

/// `lvs-agent pki init DIR --name NAME --address IP...` with the static
/// agent (it runs on the host as well): the CA, the appliance's `server.pem`
/// with NAME and each address as subject alternative names, and an
/// operator's `admin.pem`. DIR must not hold a pki yet.
pub fn pki_init(dir: &Path, name: &str, addresses: &[std::net::IpAddr]) -> Result<()> {
    let mut cmd = Command::new(agent_binary()?);
    cmd.current_dir(repo()).args(["pki", "init"]).arg(dir).args(["--name", name]);
    for a in addresses {
        cmd.arg("--address").arg(a.to_string());
    }
    run(cmd, &format!("lvs-agent pki init {}", dir.display())).map(|_| ())
}

/// `lvs-image set-config DISK CONFIG`.
pub fn set_config(disk: &Path, config: &str) -> Result<()> {
    let mut cmd = Command::new(image_binary()?);
    cmd.current_dir(repo()).arg("set-config").arg(disk).arg(config);
    run(cmd, "lvs-image set-config").map(|_| ())
}

/// The STALE LOCK lines in a build's stderr.
fn stale_lines(stderr: &str) -> impl Iterator<Item = &str> {
    stderr.lines().filter(|l| l.contains(lvs_image::stale::MARK))
}

fn run(mut cmd: Command, what: &str) -> Result<Output> {
    let out = cmd.output().map_err(|e| LabError::io(what.to_string(), e))?;
    if out.status.success() {
        return Ok(out);
    }
    Err(LabError::Command {
        what: what.to_string(),
        command: format!("{cmd:?}"),
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn stale_lines_are_picked_out_of_a_builds_stderr() {
        let stderr =
            "lvs-image: downloading x 1\nlvs-image: STALE LOCK image/kernel.lock: x 1 is gone\nlvs-image: built\n";
        let lines: Vec<&str> = super::stale_lines(stderr).collect();
        assert_eq!(lines, ["lvs-image: STALE LOCK image/kernel.lock: x 1 is gone"]);
    }
}
