//! Which kernel modules an appliance needs, and the order to load them in.
//!
//! The wanted list follows from the role (docs/BOOT.md); each module's needs come
//! from its own `.modinfo` (see [`crate::modinfo`]): `softdep` pre-modules first,
//! then `depends` (recursively), the module itself, then `softdep` post-modules —
//! the order `modprobe --show-depends` prints — each module once.

use crate::error::{Error, Result};
use crate::modinfo::{normalize, ModInfo, ModinfoError};
use lvs_config::model::{Appliance, Role};
use lvs_ipvs::Forward;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Every scheduler IPVS has upstream; a kernel older than one of them (twos is
/// 6.7+) just lacks that module.
pub const SCHEDULERS: [&str; 14] =
    ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"];

/// One module the appliance asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Want {
    pub name: String,
    /// Without it the appliance cannot work at all: the build fails.
    pub required: bool,
}

impl Want {
    fn optional(name: &str) -> Want {
        Want { name: normalize(name), required: false }
    }
}

/// The modules an appliance with this config needs.
pub fn wanted(appliance: &Appliance) -> Vec<Want> {
    // Disks and NICs under qemu (virtio, or e1000 where the kernel has it), and
    // the FAT partitions with the code pages vfat mounts with. nls_ascii is
    // Debian's default FAT iocharset: without it vfat refuses to mount at all.
    let mut wants: Vec<Want> = [
        "virtio_pci",
        "virtio_blk",
        "virtio_net",
        "e1000",
        "vfat",
        "nls_cp437",
        "nls_utf8",
        "nls_iso8859-1",
        "nls_ascii",
    ]
    .into_iter()
    .map(Want::optional)
    .collect();
    match &appliance.role {
        Role::Director(director) => {
            wants.push(Want { name: "ip_vs".into(), required: true });
            wants.extend(SCHEDULERS.iter().map(|s| Want::optional(&format!("ip_vs_{s}"))));
            if director.services.iter().any(|s| s.service.pe.as_deref() == Some("sip")) {
                wants.push(Want::optional("ip_vs_pe_sip"));
            }
        }
        Role::RealServer(rs) => {
            // tunl0, which receives a tunnel real server's packets and holds
            // its VIPs, exists only with ipip: without it nothing reaches the
            // workloads, so the build fails rather than the appliance.
            if rs.mode == Forward::Tunnel {
                wants.push(Want { name: "ipip".into(), required: true });
            }
        }
    }
    wants
}

/// What the error says when a required module is missing.
fn why_required(name: &str) -> &'static str {
    match name {
        "ipip" => {
            "a tunnel real server cannot receive its packets without it: tunl0 comes with it \
             (use a kernel built with CONFIG_NET_IPIP=m or =y)"
        }
        "ip_vs" => "an IPVS director cannot work without it (use a kernel built with CONFIG_IP_VS=m)",
        _ => "the appliance cannot work without it",
    }
}

/// The code page and I/O charset modules vfat asks for when mounting with the
/// kernel's defaults (`CONFIG_FAT_DEFAULT_CODEPAGE`, `CONFIG_FAT_DEFAULT_IOCHARSET`
/// in its build config): a missing one makes every FAT mount fail with EINVAL.
pub fn fat_defaults(kernel_config: &str) -> Vec<Want> {
    let mut wants = Vec::new();
    for line in kernel_config.lines() {
        if let Some(cp) = line.strip_prefix("CONFIG_FAT_DEFAULT_CODEPAGE=") {
            wants.push(Want::optional(&format!("nls_cp{}", cp.trim())));
        } else if let Some(cs) = line.strip_prefix("CONFIG_FAT_DEFAULT_IOCHARSET=") {
            let cs = cs.trim().trim_matches('"');
            // utf8 is nls_utf8; everything else is nls_<name> as well.
            if !cs.is_empty() {
                wants.push(Want::optional(&format!("nls_{cs}")));
            }
        }
    }
    wants
}

/// One module to put in the initramfs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// The module's name, '-' written '_' (as the kernel names it).
    pub name: String,
    pub path: PathBuf,
}

/// What resolution found: modules in load order, and what was left out and why.
#[derive(Clone, Debug, Default)]
pub struct LoadOrder {
    pub modules: Vec<Module>,
    pub skipped: Vec<String>,
}

/// The modules of one kernel, by name.
pub struct ModuleTree {
    dir: PathBuf,
    files: BTreeMap<String, PathBuf>,
    /// Names listed in `modules.builtin`: nothing to load for them.
    builtin: Vec<String>,
    /// Compressed modules, which the appliance's init cannot load (named in errors).
    compressed: BTreeMap<String, PathBuf>,
    infos: HashMap<String, ModInfo>,
    /// alias -> modules, built on first need (it reads every module's .modinfo).
    aliases: Option<BTreeMap<String, Vec<String>>>,
}

impl ModuleTree {
    /// Indexes `lib/modules/<release>/` (every `*.ko` under it).
    pub fn open(dir: &Path) -> Result<ModuleTree> {
        let mut tree = ModuleTree {
            dir: dir.to_path_buf(),
            files: BTreeMap::new(),
            builtin: Vec::new(),
            compressed: BTreeMap::new(),
            infos: HashMap::new(),
            aliases: None,
        };
        let mut stack = vec![dir.to_path_buf()];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(&folder).map_err(Error::io("reading", &folder))? {
                let entry = entry.map_err(Error::io("reading", &folder))?;
                let path = entry.path();
                let file_type = entry.file_type().map_err(Error::io("reading", &path))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if file_type.is_dir() {
                    stack.push(path);
                } else if let Some(stem) = name.strip_suffix(".ko") {
                    tree.files.insert(normalize(stem), path);
                } else if let Some((stem, _)) = name.split_once(".ko.") {
                    tree.compressed.insert(normalize(stem), path);
                }
            }
        }
        let builtin = dir.join("modules.builtin");
        if builtin.is_file() {
            let text = std::fs::read_to_string(&builtin).map_err(Error::io("reading", &builtin))?;
            tree.builtin =
                text.lines().filter_map(|l| l.rsplit('/').next()?.strip_suffix(".ko")).map(normalize).collect();
        }
        Ok(tree)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    fn is_builtin(&self, name: &str) -> bool {
        self.builtin.iter().any(|b| b == name)
    }

    fn info(&mut self, name: &str) -> Result<&ModInfo> {
        if !self.infos.contains_key(name) {
            let info = ModInfo::read(&self.files[name])?;
            self.infos.insert(name.to_string(), info);
        }
        Ok(&self.infos[name])
    }

    /// Modules a softdep name stands for: the module of that name, else every
    /// module that declares it as an alias (`crc32c` is crc32c_intel and
    /// crc32c_generic), as modprobe resolves it.
    fn lookup(&mut self, name: &str) -> Result<Vec<String>> {
        if self.files.contains_key(name) {
            return Ok(vec![name.to_string()]);
        }
        if self.aliases.is_none() {
            let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let names: Vec<String> = self.files.keys().cloned().collect();
            for module in names {
                for alias in self.info(&module)?.aliases.clone() {
                    aliases.entry(normalize(&alias)).or_default().push(module.clone());
                }
            }
            self.aliases = Some(aliases);
        }
        Ok(self.aliases.as_ref().and_then(|a| a.get(name)).cloned().unwrap_or_default())
    }

    /// The load order for `wants`: dependencies first, each module once.
    pub fn resolve(&mut self, wants: &[Want]) -> Result<LoadOrder> {
        let mut walk = Walk::default();
        for want in wants {
            if self.files.contains_key(&want.name) {
                self.visit(&want.name, &mut walk)?;
            } else if self.is_builtin(&want.name) {
                walk.skipped.push(format!("{}: built into the kernel", want.name));
            } else if let Some(path) = self.compressed.get(&want.name) {
                return Err(Error::Modinfo { path: path.clone(), source: ModinfoError::Compressed });
            } else if want.required {
                return Err(Error::MissingModule {
                    name: want.name.clone(),
                    modules_dir: self.dir.clone(),
                    why: why_required(&want.name),
                });
            } else {
                walk.skipped.push(format!("{}: the kernel has no such module", want.name));
            }
        }
        let modules = walk.order.into_iter().map(|name| Module { path: self.files[&name].clone(), name }).collect();
        Ok(LoadOrder { modules, skipped: walk.skipped })
    }

    fn visit(&mut self, name: &str, walk: &mut Walk) -> Result<()> {
        if walk.seen.contains(name) {
            // Done already, or on the current path: a softdep cycle, which
            // modprobe also breaks by loading each module once.
            return Ok(());
        }
        walk.seen.insert(name.to_string());
        let info = self.info(name)?.clone();
        for soft in &info.pre {
            self.visit_soft(name, soft, walk)?;
        }
        for dep in &info.depends {
            if !self.files.contains_key(dep) {
                return Err(Error::Modinfo {
                    path: self.files[name].clone(),
                    source: ModinfoError::MissingDependency { dep: dep.clone(), modules_dir: self.dir.clone() },
                });
            }
            self.visit(dep, walk)?;
        }
        walk.order.push(name.to_string());
        for soft in &info.post {
            self.visit_soft(name, soft, walk)?;
        }
        Ok(())
    }

    /// A softdep is a wish, not a need: one the kernel lacks is noted and skipped.
    fn visit_soft(&mut self, of: &str, soft: &str, walk: &mut Walk) -> Result<()> {
        let found = self.lookup(soft)?;
        if found.is_empty() {
            let why = if self.is_builtin(soft) { "built in" } else { "no such module" };
            let note = format!("{soft} (softdep of {of}): {why}");
            if !walk.skipped.contains(&note) {
                walk.skipped.push(note);
            }
        }
        for module in found {
            self.visit(&module, walk)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appliance(text: &str) -> Appliance {
        lvs_config::parse(text, Path::new("t.ron")).expect("valid").model
    }

    fn required(text: &str) -> Vec<String> {
        wanted(&appliance(text)).into_iter().filter(|w| w.required).map(|w| w.name).collect()
    }

    #[test]
    fn ipip_is_required_for_a_tunnel_real_server_only() {
        assert_eq!(required(r#"Appliance(role: RealServer(mode: Tunnel, vips: ["192.0.2.10"]))"#), ["ipip"]);
        assert_eq!(
            required(r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"]))"#),
            Vec::<String>::new()
        );
        assert_eq!(required(r#"Appliance(role: RealServer(mode: Nat, gateway: "192.0.2.1"))"#), Vec::<String>::new());
        for text in [
            r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"]))"#,
            r#"Appliance(role: Director(services: [Service(address: "192.0.2.10:80", forwarding: Tunnel, real_servers: [RealServer(address: "198.51.100.21:80")])]))"#,
        ] {
            assert!(!wanted(&appliance(text)).iter().any(|w| w.name == "ipip"), "{text}");
        }
    }

    #[test]
    fn a_kernel_without_ipip_fails_a_tunnel_real_server_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut tree = ModuleTree::open(dir.path()).unwrap();
        let err = tree
            .resolve(&wanted(&appliance(r#"Appliance(role: RealServer(mode: Tunnel, vips: ["192.0.2.10"]))"#)))
            .unwrap_err();
        assert!(matches!(err, Error::MissingModule { ref name, .. } if name == "ipip"), "{err}");
        let text = err.to_string();
        assert!(text.contains("has no module ipip"), "{text}");
        assert!(text.contains("a tunnel real server cannot receive its packets without it"), "{text}");
        assert!(text.contains("CONFIG_NET_IPIP"), "{text}");
        // Other roles build on the same kernel (its optional modules skipped).
        let dr = tree
            .resolve(&wanted(&appliance(r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"]))"#)))
            .unwrap();
        assert!(dr.modules.is_empty());
    }

    #[test]
    fn fat_defaults_from_a_debian_config() {
        let config = "CONFIG_VFAT_FS=m\nCONFIG_FAT_DEFAULT_CODEPAGE=437\nCONFIG_FAT_DEFAULT_IOCHARSET=\"ascii\"\n";
        let names: Vec<String> = fat_defaults(config).into_iter().map(|w| w.name).collect();
        assert_eq!(names, ["nls_cp437", "nls_ascii"]);
        assert!(fat_defaults("# CONFIG_VFAT_FS is not set\n").is_empty());
    }
}

#[derive(Default)]
struct Walk {
    order: Vec<String>,
    seen: HashSet<String>,
    skipped: Vec<String>,
}
