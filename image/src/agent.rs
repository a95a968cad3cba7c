//! Checks on the agent binary before it becomes /init: the initramfs has no
//! dynamic loader and no libc, so a dynamically linked agent would make the
//! kernel panic with "No working init found" at boot; better to fail the build.

use crate::error::{Error, Result};
use object::elf::PT_INTERP;
use object::read::elf::{ElfFile64, ProgramHeader};
use object::{Architecture, Endianness, Object};
use std::path::Path;

pub fn check(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |message: String| Error::Agent { path: path.to_path_buf(), message };
    let elf =
        ElfFile64::<Endianness>::parse(bytes).map_err(|e| fail(format!("is not a 64-bit ELF executable ({e})")))?;
    if elf.architecture() != Architecture::X86_64 {
        return Err(fail(format!("is built for {:?}; the appliance is x86_64", elf.architecture())));
    }
    let endian = elf.endian();
    let interp = elf.elf_program_headers().iter().find(|ph| ph.p_type(endian) == PT_INTERP);
    if let Some(ph) = interp {
        let needs = ph
            .data(endian, bytes)
            .ok()
            .map(|d| String::from_utf8_lossy(d).trim_end_matches('\0').to_string())
            .unwrap_or_else(|| "a dynamic loader".into());
        return Err(fail(format!(
            "is dynamically linked (needs {needs}), and the initramfs has no loader; \
             build a static agent with `make static` (musl)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_judged() {
        // Test binaries are dynamically linked on glibc hosts: refused with the fix.
        let me = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&me).unwrap();
        match check(&me, &bytes) {
            Ok(()) => {} // a static test build: nothing to say
            Err(e) => assert!(e.to_string().contains("make static"), "{e}"),
        }
        let err = check(Path::new("x"), b"#!/bin/sh\n").unwrap_err().to_string();
        assert!(err.contains("is not a 64-bit ELF executable"), "{err}");
    }
}
