//! .modinfo parsing on real ELF files and load-order resolution, on a fake
//! kernel tree whose modules declare what Debian's 6.1 modules declare.

mod common;

use common::{appliance, kernel_tree, module_elf, Ko, DEBIAN_LIKE, DIRECTOR, RELEASE, TUN_REAL_SERVER};
use lvs_image::modinfo::ModInfo;
use lvs_image::modules::{wanted, ModuleTree, Want};
use lvs_image::Error;

fn names(order: &lvs_image::modules::LoadOrder) -> Vec<&str> {
    order.modules.iter().map(|m| m.name.as_str()).collect()
}

fn want(names: &[&str]) -> Vec<Want> {
    names.iter().map(|n| Want { name: n.replace('-', "_"), required: *n == "ip_vs" }).collect()
}

fn tree(modules: &[Ko]) -> (tempfile::TempDir, ModuleTree) {
    let dir = tempfile::tempdir().unwrap();
    kernel_tree(dir.path(), modules);
    let modules = ModuleTree::open(&dir.path().join("lib/modules").join(RELEASE)).unwrap();
    (dir, modules)
}

/// Where `name` sits in the order; panics when it is missing.
fn at(order: &[&str], name: &str) -> usize {
    order.iter().position(|n| *n == name).unwrap_or_else(|| panic!("{name} not in {order:?}"))
}

#[test]
fn modinfo_is_read_from_an_elf_section() {
    let elf = module_elf("ip_vs", &["license=GPL", "depends=nf_conntrack,libcrc32c", "softdep=pre: crc32c"]);
    let info = ModInfo::from_elf(&elf).unwrap();
    assert_eq!(info.name.as_deref(), Some("ip_vs"));
    assert_eq!(info.depends, ["nf_conntrack", "libcrc32c"]);
    assert_eq!(info.pre, ["crc32c"]);
}

#[test]
fn director_modules_load_after_what_they_need() {
    let (_dir, mut modules) = tree(DEBIAN_LIKE);
    let order = modules.resolve(&wanted(&appliance(DIRECTOR))).unwrap();
    let order = names(&order);
    // Every module after what its .modinfo says it needs.
    for Ko(_, name, info) in DEBIAN_LIKE {
        let name = name.replace('-', "_");
        if !order.contains(&name.as_str()) {
            continue;
        }
        let parsed = ModInfo::parse(info.join("\0").as_bytes());
        for dep in parsed.depends.iter().chain(&parsed.pre) {
            let dep = if dep == "crc32c" { "crc32c_intel" } else { dep.as_str() };
            assert!(at(&order, dep) < at(&order, &name), "{dep} after {name}: {order:?}");
        }
    }
    // The chain LAB-NOTES measured with modprobe, in the parts that are forced.
    for (before, after) in [("crc32c_intel", "libcrc32c"), ("libcrc32c", "nf_conntrack"), ("nf_conntrack", "ip_vs")] {
        assert!(at(&order, before) < at(&order, after), "{order:?}");
    }
    for sched in ["ip_vs_rr", "ip_vs_wrr"] {
        assert!(at(&order, sched) > at(&order, "ip_vs"), "{order:?}");
    }
    // '-' in file names is '_' in module names.
    assert!(order.contains(&"nls_iso8859_1"));
    // Each once.
    let mut unique = order.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), order.len(), "{order:?}");
    // Not asked for: sip (no service uses it), ipip (not a tunnel real server).
    assert!(!order.contains(&"ip_vs_pe_sip") && !order.contains(&"ipip"));
}

#[test]
fn schedulers_the_kernel_lacks_are_skipped_with_a_note() {
    let (_dir, mut modules) = tree(DEBIAN_LIKE);
    let order = modules.resolve(&wanted(&appliance(DIRECTOR))).unwrap();
    for missing in ["ip_vs_twos", "ip_vs_mh", "e1000"] {
        assert!(
            order.skipped.iter().any(|s| s.starts_with(&format!("{missing}: "))),
            "{missing} not noted in {:?}",
            order.skipped
        );
    }
}

#[test]
fn sip_engine_and_tunnel_real_server_add_their_modules() {
    let sip = DIRECTOR
        .replace(
            "forwarding: DirectRouting,",
            "forwarding: DirectRouting, persistence: Persistence(timeout: \"60s\", engine: Sip),",
        )
        .replace("protocol: Tcp", "protocol: Udp");
    let (_dir, mut modules) = tree(DEBIAN_LIKE);
    let order = modules.resolve(&wanted(&appliance(&sip))).unwrap();
    assert!(at(&names(&order), "ip_vs_pe_sip") > at(&names(&order), "ip_vs"));

    let rs = wanted(&appliance(TUN_REAL_SERVER));
    assert!(rs.iter().any(|w| w.name == "ipip"));
    assert!(!rs.iter().any(|w| w.name.starts_with("ip_vs")));
    let order = modules.resolve(&rs).unwrap();
    let order = names(&order);
    assert!(at(&order, "ip_tunnel") < at(&order, "ipip") && at(&order, "tunnel4") < at(&order, "ipip"));
}

#[test]
fn a_kernel_without_ip_vs_fails_for_a_director() {
    let without: Vec<Ko> =
        DEBIAN_LIKE.iter().filter(|k| !k.1.starts_with("ip_vs")).map(|k| Ko(k.0, k.1, k.2)).collect();
    let (_dir, mut modules) = tree(&without);
    let err = modules.resolve(&wanted(&appliance(DIRECTOR))).unwrap_err();
    assert!(matches!(err, Error::MissingModule { ref name, .. } if name == "ip_vs"), "{err}");
    assert!(err.to_string().contains("has no module ip_vs"), "{err}");
    // A real server does not need it.
    modules.resolve(&wanted(&appliance(TUN_REAL_SERVER))).unwrap();
}

#[test]
fn softdeps_pre_and_post_and_cycles() {
    let (_dir, mut modules) = tree(&[
        Ko("a", "main-mod", &["softdep=pre: first post: after", "depends=dep"]),
        Ko("a", "first", &["depends="]),
        Ko("a", "dep", &["depends="]),
        // after wants main_mod before it: a cycle, broken by loading each once.
        Ko("a", "after", &["softdep=pre: main_mod", "depends="]),
        Ko("a", "lonely", &["softdep=pre: not_there", "depends="]),
    ]);
    let order = modules.resolve(&want(&["main_mod", "lonely"])).unwrap();
    assert_eq!(names(&order), ["first", "dep", "main_mod", "after", "lonely"]);
    assert!(order.skipped.iter().any(|s| s.contains("not_there (softdep of lonely)")), "{:?}", order.skipped);
}

#[test]
fn a_missing_hard_dependency_names_the_module_file() {
    let (_dir, mut modules) = tree(&[Ko("x", "needy", &["depends=gone"])]);
    let err = modules.resolve(&want(&["needy"])).unwrap_err().to_string();
    assert!(err.contains("needy.ko") && err.contains("depends on gone"), "{err}");
}

#[test]
fn builtin_modules_are_noted_not_loaded() {
    let (_dir, mut modules) = tree(DEBIAN_LIKE);
    let order = modules.resolve(&want(&["crc32c_generic"])).unwrap();
    assert!(order.modules.is_empty());
    assert_eq!(order.skipped, ["crc32c_generic: built into the kernel"]);
}
