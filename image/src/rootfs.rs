//! What goes into an appliance's initramfs (docs/BOOT.md, "Initramfs"): the
//! agent as /init, the RON file, the modules and their load order, the empty
//! mount points, then the overlay folder and `--extra` files on top.

use crate::error::{Error, Result};
use crate::initramfs::Tree;
use crate::modules::Module;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Mount points PID 1 uses; they must exist in the initramfs.
pub const MOUNT_POINTS: [&str; 7] = ["dev", "proc", "sys", "run", "tmp", "config", "state"];

/// `--extra SRC:DST`: a host file or folder copied to DST in the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extra {
    pub src: PathBuf,
    pub dst: String,
}

impl FromStr for Extra {
    type Err = Error;
    fn from_str(spec: &str) -> Result<Extra> {
        let bad = |message: &str| Error::Extra { spec: spec.to_string(), message: message.to_string() };
        // The image path is ours and has no ':'; a host path might.
        let (src, dst) = spec.rsplit_once(':').ok_or_else(|| bad("write it as SRC:DST"))?;
        if src.is_empty() || dst.trim_matches('/').is_empty() {
            return Err(bad("both SRC and DST must be given, and DST cannot be the root"));
        }
        Ok(Extra { src: PathBuf::from(src), dst: dst.to_string() })
    }
}

/// Everything the initramfs is made of.
pub struct Inputs<'a> {
    pub agent: &'a [u8],
    pub config: &'a [u8],
    pub modules: &'a [Module],
    pub overlay: Option<&'a Path>,
    pub extras: &'a [Extra],
}

/// The image tree, plus notes on files the overlay or extras replaced.
pub fn tree(inputs: &Inputs) -> Result<(Tree, Vec<String>)> {
    let mut tree = Tree::new();
    let mut notes = Vec::new();
    tree.file("init", inputs.agent.to_vec(), 0o755)?;
    tree.file("etc/lvs/appliance.ron", inputs.config.to_vec(), 0o644)?;
    let mut list = String::new();
    for module in inputs.modules {
        let data = std::fs::read(&module.path).map_err(Error::io("reading", &module.path))?;
        let image_path = format!("/lib/modules/{}.ko", module.name);
        tree.file(&image_path, data, 0o644)?;
        list.push_str(&image_path);
        list.push('\n');
    }
    tree.file("etc/lvs/modules", list.into_bytes(), 0o644)?;
    for dir in MOUNT_POINTS {
        tree.dir(dir)?;
    }
    if let Some(overlay) = inputs.overlay {
        for path in tree.add_folder(overlay, "", &["README.md"])? {
            notes.push(format!("{path} from {} replaces the built-in one", overlay.display()));
        }
    }
    for extra in inputs.extras {
        if !extra.src.exists() {
            return Err(Error::Extra {
                spec: format!("{}:{}", extra.src.display(), extra.dst),
                message: format!("{} does not exist", extra.src.display()),
            });
        }
        for path in tree.add_path(&extra.src, &extra.dst)? {
            notes.push(format!("{path} from --extra {} replaces an earlier one", extra.src.display()));
        }
    }
    Ok((tree, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_specs() {
        let e: Extra = "certs/ca.pem:/etc/ssl/ca.pem".parse().unwrap();
        assert_eq!(e.src, PathBuf::from("certs/ca.pem"));
        assert_eq!(e.dst, "/etc/ssl/ca.pem");
        for bad in ["nocolon", ":/x", "a:", "a:/"] {
            let err = bad.parse::<Extra>().unwrap_err().to_string();
            assert!(err.starts_with(&format!("--extra {bad}:")), "{err}");
        }
    }
}
