//! lvs-image: builds what an LVS appliance boots from (see docs/IMAGE.md).
//! Exit statuses as lvs-agent's: 2 for wrong input (an invalid RON file), 1 for
//! anything else.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use lvs_config::{self as config, ConfigError, Loaded};
use lvs_image::apt::Apt;
use lvs_image::build::{self, INITRAMFS_BUDGET};
use lvs_image::fetch::Fetched;
use lvs_image::kernel::KernelTree;
use lvs_image::lock::KernelLock;
use lvs_image::progress::{note, size};
use lvs_image::rootfs::Extra;
use lvs_image::stale::{OnStale, Replacement};
use lvs_image::{disk, fetch, stale};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_INVALID: u8 = 2;

#[derive(Parser)]
#[command(name = "lvs-image", version, about = "Build bootable LVS appliance images")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// disk.img only.
    Raw,
    /// disk.img and disk.qcow2 (by qemu-img).
    Qcow2,
}

// Parsed once per run: the size of the biggest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Build kernel, initramfs, UKI and GPT disk image for one appliance config.
    Build {
        /// The appliance's RON file (validated first).
        #[arg(long)]
        config: PathBuf,
        /// The static lvs-agent binary that becomes /init (`make static` puts it in out/lvs-agent).
        #[arg(long)]
        agent: PathBuf,
        /// Where to write vmlinuz, vmlinux, initramfs.cpio.gz, BOOTX64.EFI and disk.img.
        #[arg(long)]
        out: PathBuf,
        /// A kernel tree to use instead of the locked Debian kernel: a folder with
        /// `vmlinuz` or `boot/vmlinuz-*`, and `lib/modules/<release>/`.
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// The EFI stub to build the UKI from instead of the locked systemd-boot-efi's.
        #[arg(long)]
        stub: Option<PathBuf>,
        /// Files copied into the image's root (its README.md left out).
        /// Default: rootfs-overlay, when there is one.
        #[arg(long)]
        overlay: Option<PathBuf>,
        /// An `lvs-agent pki init` folder: its ca.pem and server.pem (and crl.pem when there
        /// is one) go on the config partition under pki/, for the management API. Never
        /// its ca.key or an operator's identity.
        #[arg(long, value_name = "DIR")]
        pki: Option<PathBuf>,
        /// A host file or folder SRC copied to DST in the image, after the overlay.
        #[arg(long, value_name = "SRC:DST")]
        extra: Vec<Extra>,
        /// Download and unpack cache. Default: .cache at the repository root.
        #[arg(long)]
        cache: Option<PathBuf>,
        /// The lock file pinning the Debian packages. Default: image/kernel.lock.
        #[arg(long)]
        lock: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Raw)]
        format: Format,
        /// Added to the UKI's built-in kernel command line.
        #[arg(long, value_name = "EXTRA", allow_hyphen_values = true)]
        cmdline: Option<String>,
        /// The objcopy that joins the UKI.
        #[arg(long, default_value = "objcopy")]
        objcopy: String,
        /// When a pinned package is gone from Debian's archive, build with the
        /// archive's current version instead (its .deb checked against the sha256
        /// in apt's index) and, once the image is built, write it into the lock
        /// (review and commit it). Without it, a stale pin fails the build.
        #[arg(long, conflicts_with = "stale_fallback")]
        repin: bool,
        /// For test images (the lab passes it), not products: when a pinned package
        /// is gone, build with the archive's current version (checked against apt's
        /// index), leave the lock as it is, and print one STALE LOCK line.
        #[arg(long)]
        stale_fallback: bool,
    },
    /// Replace appliance.ron on the lvs-config partition of a disk image, offline.
    SetConfig {
        /// A disk.img written by `lvs-image build` (raw, not qcow2).
        disk: PathBuf,
        /// The new RON file; validated first, and the disk is left alone if invalid.
        config: PathBuf,
    },
    /// Pin today's Debian kernel and systemd-boot-efi (apt-get update, download, sha256).
    Lock {
        /// The lock file to write. Default: image/kernel.lock.
        #[arg(long)]
        lock: Option<PathBuf>,
        /// Download cache. Default: .cache at the repository root.
        #[arg(long)]
        cache: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lvs-image: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Build {
            config,
            agent,
            out,
            kernel,
            stub,
            overlay,
            pki,
            extra,
            cache,
            lock,
            format,
            cmdline,
            objcopy,
            repin,
            stale_fallback,
        } => {
            let Some(loaded) = load_config(&config) else {
                return Ok(ExitCode::from(EXIT_INVALID));
            };
            note(format!("{}: valid {}", config.display(), loaded.model.role.name()));
            let root = repo_root();
            let cache = cache.unwrap_or_else(|| root.join(".cache"));
            let default_lock = root.join("image/kernel.lock");
            let lock_path = lock.unwrap_or_else(|| default_lock.clone());
            let on_stale = match (repin, stale_fallback) {
                (true, _) => OnStale::Repin,
                (false, true) => OnStale::FallBack,
                (false, false) => OnStale::Refuse,
            };
            let overlay = match overlay {
                Some(dir) if dir.is_dir() => Some(dir),
                Some(dir) => bail!("--overlay {}: not a folder", dir.display()),
                None => {
                    ["rootfs-overlay".into(), root.join("rootfs-overlay")].into_iter().find(|d: &PathBuf| d.is_dir())
                }
            };

            // A pki folder short of a file stops the build before the fetches, which take a while.
            if let Some(dir) = &pki {
                lvs_image::pki::files(dir)?;
            }

            // The lock and apt are needed only for what --kernel and --stub leave to them.
            let mut repinned = None;
            let (kernel_dir, stub) = match (kernel, stub) {
                (Some(kernel), Some(stub)) => (kernel, stub),
                (kernel, stub) => {
                    let lock = KernelLock::read(&lock_path).with_context(|| {
                        "the build needs the lock that pins its Debian packages (`lvs-image lock` writes it)"
                    })?;
                    let apt = Apt::new(&cache.join("debs"))?;
                    let mut replaced = Vec::new();
                    let kernel = match kernel {
                        Some(dir) => dir,
                        None => take(fetch::kernel(&apt, &cache, &lock, on_stale)?, &mut replaced),
                    };
                    let stub = match stub {
                        Some(file) => file,
                        None => take(fetch::stub(&apt, &cache, &lock, on_stale)?, &mut replaced),
                    };
                    if !replaced.is_empty() {
                        if on_stale == OnStale::Repin {
                            repinned = Some(stale::repin(&lock, &replaced));
                        }
                        let relock = if lock_path == default_lock {
                            "make image-lock".to_string()
                        } else {
                            format!("lvs-image lock --lock {}", lock_path.display())
                        };
                        // As the repository names it: `make image-lock` runs there.
                        let shown = lock_path.strip_prefix(&root).unwrap_or(&lock_path);
                        note(stale::line(shown, &replaced, on_stale, &relock));
                    }
                    (kernel, stub)
                }
            };
            let tree = KernelTree::open(&kernel_dir)?;
            let report = build::build(&build::Options {
                appliance: &loaded.model,
                config_file: &config,
                agent: &agent,
                out: &out,
                kernel: &tree,
                stub: &stub,
                overlay: overlay.as_deref(),
                pki: pki.as_deref(),
                extras: &extra,
                qcow2: format == Format::Qcow2,
                cmdline_extra: cmdline.as_deref(),
                objcopy: &objcopy,
            })?;
            // Only versions that made an image go into the lock.
            if let Some(new) = repinned {
                new.write(&lock_path)?;
                note(format!(
                    "re-pinned {}: {} {}, {} {}; review and commit it",
                    lock_path.display(),
                    new.kernel.name,
                    new.kernel.version,
                    new.stub.name,
                    new.stub.version
                ));
            }
            summary(&agent, &report);
            Ok(ExitCode::SUCCESS)
        }
        Command::SetConfig { disk: image, config } => {
            let Some(loaded) = load_config(&config) else {
                eprintln!("lvs-image: {} left as it was", image.display());
                return Ok(ExitCode::from(EXIT_INVALID));
            };
            let text = std::fs::read(&config).with_context(|| format!("reading {}", config.display()))?;
            disk::replace_file(&image, disk::CONFIG, disk::CONFIG_FILE, &text)?;
            println!(
                "{}: {}/{} replaced by {} ({}, {} bytes)",
                image.display(),
                disk::CONFIG,
                disk::CONFIG_FILE,
                config.display(),
                loaded.model.role.name(),
                text.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Lock { lock, cache } => {
            let root = repo_root();
            let lock_path = lock.unwrap_or_else(|| root.join("image/kernel.lock"));
            let cache = cache.unwrap_or_else(|| root.join(".cache"));
            let apt = Apt::new(&cache.join("debs"))?;
            let new = fetch::relock(&apt)?;
            new.write(&lock_path)?;
            println!(
                "{}: {} {}, {} {}",
                lock_path.display(),
                new.kernel.name,
                new.kernel.version,
                new.stub.name,
                new.stub.version
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The fetched value, with the stale pin it replaced (if any) put aside for
/// the one line that reports them all.
fn take<T>(fetched: Fetched<T>, replaced: &mut Vec<Replacement>) -> T {
    replaced.extend(fetched.replaced);
    fetched.value
}

/// Loads and validates a config, printing every diagnostic; None when it is invalid.
fn load_config(path: &Path) -> Option<Loaded> {
    match config::load(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{w}");
            }
            Some(loaded)
        }
        Err(ConfigError::Invalid { errors, warnings }) => {
            for d in warnings.iter().chain(&errors) {
                eprintln!("{d}");
            }
            let n = errors.len();
            eprintln!("{}: invalid: {n} error{}", path.display(), if n == 1 { "" } else { "s" });
            None
        }
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// The workspace this binary belongs to: the nearest folder up from here with
/// `image/Cargo.toml`, else the one it was built in, else here.
fn repo_root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(root) = here.ancestors().find(|d| d.join("image/Cargo.toml").is_file()) {
        return root.to_path_buf();
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if built_in.join("image/Cargo.toml").is_file() {
        return built_in;
    }
    here
}

fn budget(size: u64, limit: u64) -> String {
    if size < limit {
        format!("under {} (budget ok)", lvs_image::progress::size(limit))
    } else {
        format!("NOT under {} (over budget)", lvs_image::progress::size(limit))
    }
}

fn summary(agent: &Path, r: &build::Report) {
    println!("lvs-image: built {}", r.disk.parent().unwrap_or(Path::new(".")).display());
    println!("  agent      {:>10}  {}", size(r.agent_size), agent.display());
    println!(
        "  initramfs  {:>10}  {}  {} ({} uncompressed, {} modules)",
        size(r.initramfs_size),
        r.initramfs.display(),
        budget(r.initramfs_size, INITRAMFS_BUDGET),
        size(r.initramfs_uncompressed),
        r.modules.len()
    );
    println!("  vmlinuz    {:>10}  {}", size(r.vmlinuz_size), r.vmlinuz.display());
    match &r.vmlinux {
        Ok((path, len)) => println!("  vmlinux    {:>10}  {}", size(*len), path.display()),
        Err(why) => println!("  vmlinux    {:>10}  not extracted: {why}", "-"),
    }
    println!("  UKI        {:>10}  {}", size(r.uki_size), r.uki.display());
    println!("  disk.img   {:>10}  {}", size(r.disk_size), r.disk.display());
    if let Some((path, len)) = &r.qcow2 {
        println!("  disk.qcow2 {:>10}  {}", size(*len), path.display());
    }
}
