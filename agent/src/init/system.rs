//! The system calls PID 1 makes, behind a trait so that its logic runs in tests
//! against a fake that records calls and returns the kernel's errors.

use nix::errno::Errno;
use std::path::Path;

/// What PID 1 asks of the kernel. Errors are errnos, as the kernel gives them.
pub trait System {
    fn mount(&mut self, source: &str, target: &Path, fstype: &str, flags: MountFlags, data: &str) -> Result<(), Errno>;
    fn load_module(&mut self, path: &Path) -> Result<(), Errno>;
    fn set_hostname(&mut self, name: &str) -> Result<(), Errno>;
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MountFlags {
    pub read_only: bool,
    pub no_exec: bool,
}

/// The real kernel.
pub struct Linux;

impl System for Linux {
    fn mount(&mut self, source: &str, target: &Path, fstype: &str, flags: MountFlags, data: &str) -> Result<(), Errno> {
        use nix::mount::MsFlags;
        let mut ms = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
        if flags.read_only {
            ms |= MsFlags::MS_RDONLY;
        }
        if flags.no_exec {
            ms |= MsFlags::MS_NOEXEC;
        }
        if fstype == "devtmpfs" {
            // Device nodes are the point of devtmpfs.
            ms.remove(MsFlags::MS_NODEV);
        }
        std::fs::create_dir_all(target).map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0)))?;
        nix::mount::mount(Some(source), target, Some(fstype), ms, Some(data))
    }

    fn load_module(&mut self, path: &Path) -> Result<(), Errno> {
        let file = std::fs::File::open(path).map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0)))?;
        nix::kmod::finit_module(&file, c"", nix::kmod::ModuleInitFlags::empty())
    }

    fn set_hostname(&mut self, name: &str) -> Result<(), Errno> {
        nix::unistd::sethostname(name)
    }
}
