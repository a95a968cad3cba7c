//! The ELF `vmlinux` inside a bzImage, for PVH boots (`qemu -kernel vmlinux`),
//! which skip the decompressor and save about half a second per VM.
//!
//! A bzImage is real-mode setup sectors, then the protected-mode part, which holds
//! the compressed kernel at `payload_offset` (boot protocol 2.08+). Debian's cloud
//! kernel compresses it with LZ4 in the legacy frame format; gzip (other builds)
//! is handled too. Other formats (XZ, zstd) are reported, not guessed at.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Where the boot protocol's setup header fields sit in a bzImage.
const SETUP_SECTS: usize = 0x1f1;
const HEADER_MAGIC: usize = 0x202;
const PAYLOAD_OFFSET: usize = 0x248;
const PAYLOAD_LENGTH: usize = 0x24c;

const LZ4_LEGACY_MAGIC: u32 = 0x184C_2102;
/// The legacy LZ4 format's fixed block size: no block decompresses to more.
const LZ4_LEGACY_BLOCK: usize = 8 << 20;

/// Why no ELF kernel came out of a bzImage.
#[derive(Debug, thiserror::Error)]
pub enum VmlinuxError {
    #[error("not a bzImage (no HdrS setup header)")]
    NotBzImage,
    #[error("payload {offset:#x}+{length:#x} lies past the end ({end:#x})")]
    PastTheEnd { offset: usize, length: usize, end: usize },
    #[error("gzip payload: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("LZ4 block at payload offset {at:#x}: {source}")]
    Lz4 { at: usize, source: lz4_flex::block::DecompressError },
    #[error("payload is {0}; only LZ4 and gzip are extracted")]
    Unsupported(&'static str),
    #[error("payload is in an unknown compression format")]
    UnknownFormat,
    #[error("the decompressed payload is not an ELF file")]
    NotElf,
}

/// The compressed kernel inside a bzImage.
pub fn payload(bz: &[u8]) -> Result<&[u8], VmlinuxError> {
    if bz.len() < 0x250 || &bz[HEADER_MAGIC..HEADER_MAGIC + 4] != b"HdrS" {
        return Err(VmlinuxError::NotBzImage);
    }
    let setup_sects = match bz[SETUP_SECTS] {
        0 => 4,
        n => usize::from(n),
    };
    let protected_mode = (setup_sects + 1) * 512;
    let offset = protected_mode + le32(bz, PAYLOAD_OFFSET) as usize;
    let length = le32(bz, PAYLOAD_LENGTH) as usize;
    bz.get(offset..offset + length).ok_or(VmlinuxError::PastTheEnd { offset, length, end: bz.len() })
}

/// Decompresses a bzImage's payload to the ELF kernel.
pub fn extract(bz: &[u8]) -> Result<Vec<u8>, VmlinuxError> {
    let payload = payload(bz)?;
    let elf = match payload {
        [0x02, 0x21, 0x4c, 0x18, ..] => lz4_legacy(payload)?,
        [0x1f, 0x8b, ..] => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(payload).read_to_end(&mut out).map_err(VmlinuxError::Gzip)?;
            out
        }
        [0xfd, b'7', b'z', b'X', b'Z', ..] => return Err(VmlinuxError::Unsupported("XZ")),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => return Err(VmlinuxError::Unsupported("zstd")),
        _ => return Err(VmlinuxError::UnknownFormat),
    };
    if !elf.starts_with(b"\x7fELF") {
        return Err(VmlinuxError::NotElf);
    }
    Ok(elf)
}

/// LZ4 legacy frames: the magic, then blocks of `[u32 LE size][compressed block]`.
/// The kernel's build appends the decompressed length as a last u32, and frames
/// may follow one another, each starting with the magic again.
fn lz4_legacy(data: &[u8]) -> Result<Vec<u8>, VmlinuxError> {
    let mut out = Vec::with_capacity(data.len() * 3);
    let mut at = 4;
    while at + 4 <= data.len() {
        let size = le32(data, at);
        if size == LZ4_LEGACY_MAGIC {
            at += 4;
            continue;
        }
        let size = size as usize;
        let Some(block) = data.get(at + 4..at + 4 + size) else {
            // The trailing length word (or padding): no room for a block this big.
            break;
        };
        let start = out.len();
        out.resize(start + LZ4_LEGACY_BLOCK, 0);
        let n = lz4_flex::block::decompress_into(block, &mut out[start..])
            .map_err(|source| VmlinuxError::Lz4 { at, source })?;
        out.truncate(start + n);
        at += 4 + size;
    }
    Ok(out)
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads `vmlinuz`, extracts, names the file in errors.
pub fn extract_file(vmlinuz: &Path) -> Result<Vec<u8>> {
    let bz = std::fs::read(vmlinuz).map_err(Error::io("reading", vmlinuz))?;
    extract(&bz).map_err(|source| Error::Vmlinux { path: vmlinuz.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake bzImage: one setup sector count, the header magic, and the payload
    /// placed where the header says.
    fn bz_image(payload: &[u8]) -> Vec<u8> {
        let setup_sects = 1u8;
        let pm = (usize::from(setup_sects) + 1) * 512;
        let mut bz = vec![0u8; pm + 0x40];
        bz[SETUP_SECTS] = setup_sects;
        bz[HEADER_MAGIC..HEADER_MAGIC + 4].copy_from_slice(b"HdrS");
        bz[PAYLOAD_OFFSET..PAYLOAD_OFFSET + 4].copy_from_slice(&0x40u32.to_le_bytes());
        bz[PAYLOAD_LENGTH..PAYLOAD_LENGTH + 4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        bz.extend_from_slice(payload);
        bz.extend_from_slice(&[0u8; 16]);
        bz
    }

    fn fake_elf(len: usize) -> Vec<u8> {
        let mut elf = b"\x7fELF".to_vec();
        elf.extend((0..len).map(|i| (i % 251) as u8 / 3));
        elf
    }

    #[test]
    fn lz4_legacy_payload_with_trailing_length() {
        let elf = fake_elf(LZ4_LEGACY_BLOCK + 1000);
        let mut payload = LZ4_LEGACY_MAGIC.to_le_bytes().to_vec();
        for chunk in elf.chunks(LZ4_LEGACY_BLOCK) {
            let block = lz4_flex::block::compress(chunk);
            payload.extend_from_slice(&(block.len() as u32).to_le_bytes());
            payload.extend_from_slice(&block);
        }
        payload.extend_from_slice(&(elf.len() as u32).to_le_bytes());
        assert_eq!(extract(&bz_image(&payload)).unwrap(), elf);
    }

    #[test]
    fn gzip_payload() {
        use std::io::Write;
        let elf = fake_elf(5000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&elf).unwrap();
        assert_eq!(extract(&bz_image(&gz.finish().unwrap())).unwrap(), elf);
    }

    #[test]
    fn refusals_say_why() {
        assert!(extract(b"plain text").unwrap_err().to_string().contains("not a bzImage"));
        let xz = bz_image(b"\xfd7zXZ\0rest");
        assert!(extract(&xz).unwrap_err().to_string().contains("XZ"));
        let mut not_elf = LZ4_LEGACY_MAGIC.to_le_bytes().to_vec();
        let block = lz4_flex::block::compress(b"MZ not an elf");
        not_elf.extend_from_slice(&(block.len() as u32).to_le_bytes());
        not_elf.extend_from_slice(&block);
        assert!(extract(&bz_image(&not_elf)).unwrap_err().to_string().contains("not an ELF"));
    }
}
