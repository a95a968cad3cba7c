//! Stale pins: locked package versions the archive no longer has. Debian drops
//! a version when it publishes the next one, so every lock goes stale sooner or
//! later. What a build does then is its caller's choice ([`OnStale`]); what it
//! says is one line ([`line`]), the same from lvs-image and the lab harness.

use crate::lock::{KernelLock, Pinned};
use std::path::Path;

/// Every stale-lock line carries this, so a harness can pick it out of a
/// build's stderr.
pub const MARK: &str = "STALE LOCK";

/// What a build does with a pin whose version the archive no longer has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStale {
    /// Fail, naming the package, the version and the command that re-pins: a
    /// product image is built from what the lock names or not at all.
    Refuse,
    /// Build with the archive's current version, its .deb checked against the
    /// sha256 in apt's index, and leave the lock alone (`--stale-fallback`:
    /// test and lab images, which must not stop working the day Debian moves).
    FallBack,
    /// As FallBack, and write the new pins into the lock (`--repin`).
    Repin,
}

/// A pin the archive dropped, and what the build used in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    pub was: Pinned,
    pub now: Pinned,
}

/// The one line that says `lock` is stale: what is gone, what was used
/// instead (with the sha256 it was checked against), and what to run.
/// `relock` is the command that re-pins the whole lock.
pub fn line(lock: &Path, replaced: &[Replacement], on_stale: OnStale, relock: &str) -> String {
    let swaps: Vec<String> = replaced
        .iter()
        .map(|r| {
            format!(
                "{} {} is gone from Debian's archive, using {} {} (sha256 {}, as apt's index lists it)",
                r.was.name, r.was.version, r.now.name, r.now.version, r.now.sha256
            )
        })
        .collect();
    let swaps = swaps.join("; ");
    let lock = lock.display();
    match on_stale {
        OnStale::Repin => {
            format!("{MARK} {lock}: {swaps}; --repin: the new pins go into {lock} once the image is built")
        }
        OnStale::FallBack | OnStale::Refuse => {
            format!("{MARK} {lock}: {swaps}; the lock is left as it is: re-pin with `{relock}` and commit {lock}")
        }
    }
}

/// `lock` with each replaced pin swapped for its replacement; the pins the
/// archive still has stay as they were (`lvs-image lock` moves those too).
pub fn repin(lock: &KernelLock, replaced: &[Replacement]) -> KernelLock {
    let swap = |pin: &Pinned| replaced.iter().find(|r| r.was == *pin).map_or_else(|| pin.clone(), |r| r.now.clone());
    KernelLock { flavour: lock.flavour.clone(), kernel: swap(&lock.kernel), stub: swap(&lock.stub) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(name: &str, version: &str, sha: &str) -> Pinned {
        Pinned { name: name.into(), version: version.into(), sha256: sha.repeat(64) }
    }

    fn kernel_moved() -> Replacement {
        Replacement {
            was: pin("linux-image-6.1.0-56-cloud-amd64-unsigned", "6.1.192-2", "a"),
            now: pin("linux-image-6.1.0-57-cloud-amd64-unsigned", "6.1.192-3", "b"),
        }
    }

    #[test]
    fn one_line_names_what_is_gone_what_is_used_and_the_command() {
        let stub =
            Replacement { was: pin("systemd-boot-efi", "0.0.0-x", "c"), now: pin("systemd-boot-efi", "252", "d") };
        let text = line(Path::new("image/kernel.lock"), &[kernel_moved(), stub], OnStale::FallBack, "make image-lock");
        assert!(!text.contains('\n'), "{text}");
        assert!(text.starts_with("STALE LOCK image/kernel.lock: linux-image-6.1.0-56-cloud-amd64-unsigned 6.1.192-2 is gone from Debian's archive, using linux-image-6.1.0-57-cloud-amd64-unsigned 6.1.192-3 (sha256 bbbb"), "{text}");
        assert!(
            text.contains(
                "; systemd-boot-efi 0.0.0-x is gone from Debian's archive, using systemd-boot-efi 252 (sha256 dddd"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("the lock is left as it is: re-pin with `make image-lock` and commit image/kernel.lock"),
            "{text}"
        );
        let repinned = line(Path::new("k.lock"), &[kernel_moved()], OnStale::Repin, "make image-lock");
        assert!(repinned.ends_with("--repin: the new pins go into k.lock once the image is built"), "{repinned}");
    }

    #[test]
    fn repin_swaps_only_what_was_replaced() {
        let lock = KernelLock {
            flavour: "linux-image-cloud-amd64".into(),
            kernel: kernel_moved().was,
            stub: pin("systemd-boot-efi", "252.39-1~deb12u2", "e"),
        };
        let new = repin(&lock, &[kernel_moved()]);
        assert_eq!(new.kernel, kernel_moved().now);
        assert_eq!(new.stub, lock.stub);
        assert_eq!(new.flavour, lock.flavour);
    }
}
