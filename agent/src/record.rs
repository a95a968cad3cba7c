//! The agent's own files: the state file and the run dir's records (what
//! network setup added, the sysctls it changed). Each is a serde value written
//! as RON after one header line:
//!
//! ```text
//! <magic> <version> <body length in bytes> <FNV-1a 64 of the body, hex>
//! <the value, as pretty RON>
//! ```
//!
//! The magic says which kind of file it is, so one is never read as another.
//! The length and checksum catch what a power cut leaves behind (a file cut
//! short or empty, a block of zeros, a stale block) before the RON parser sees
//! it, so a damaged file is never half-believed. FNV is not a defence against
//! anyone who can write the file: they could write any content anyway. Each
//! kind has a size cap: a bigger file is damaged, and is refused without
//! being read whole; the agent never writes one.
//!
//! Files are written through [`crate::atomic_file::write`]: a crash leaves the
//! old file or the new one.

use crate::capped::{self, CappedReadError, Size};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

/// One kind of file: its header's first two words, and what to call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    /// The header's first word, e.g. `lvs-agent-state`.
    pub magic: &'static str,
    /// The header's second word. A file of another version is refused.
    pub version: u32,
    /// What a file of this kind is, for messages: "state file".
    pub what: &'static str,
    /// The most bytes a file of this kind may have, header included.
    pub max_bytes: u64,
}

/// The cap of the agent's records: far above what a config of
/// [`crate::capped::CONFIG_MAX_BYTES`] makes them (the state file holds a copy
/// of the config, the table written as one, and a line per checked server).
pub const RECORD_MAX_BYTES: u64 = 16 << 20;

/// What is wrong with the bytes of a file that is not one this agent can
/// believe. The variants say which part is wrong and how, for the log; the
/// path is added by [`RecordError::Decode`] where there is one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty{} (cut short: a power cut can leave this)", if *whitespace { " but for white space" } else { "" })]
    Empty { whitespace: bool },
    #[error("{}, more than a {what} may be ({cap} bytes at most): damaged, or not the agent's", Size(*size, *cap))]
    TooBig { what: &'static str, size: Option<u64>, cap: u64 },
    #[error("no header line (the file is cut short or empty)")]
    NoHeader,
    #[error("the header is not text")]
    HeaderNotText,
    #[error("the header `{}` is not `{magic} VERSION LENGTH CHECKSUM`", header.escape_debug())]
    HeaderShape { header: String, magic: &'static str },
    #[error("not a {what} (it starts with `{}`)", found.escape_debug())]
    OtherKind { found: String, what: &'static str },
    #[error("format version {}; this agent reads version {reads}", found.escape_debug())]
    Version { found: String, reads: u32 },
    #[error("bad length `{}` in the header", found.escape_debug())]
    Length { found: String },
    #[error("the body has {body} bytes, the header says {header} (cut short or overwritten)")]
    BodyLength { body: usize, header: usize },
    #[error("checksum {body}, the header says {} (damaged)", header.escape_debug())]
    Checksum { body: String, header: String },
    #[error("the body is not UTF-8")]
    BodyNotUtf8,
    #[error("unreadable body: {0}")]
    Body(Box<ron::error::SpannedError>),
    /// For a kind whose body repeats its version (the state file).
    #[error("format version {found} in the body; this agent reads version {reads}")]
    BodyVersion { found: u32, reads: u32 },
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: {source}")]
    Decode { path: PathBuf, source: DecodeError },
    #[error("cannot write {path}: the {what} cannot be written as RON: {source}")]
    Encode { path: PathBuf, what: &'static str, source: Box<ron::Error> },
    #[error("cannot write {path}: the {what} would be {size} bytes, more than the {cap} an agent reads back")]
    TooBig { path: PathBuf, what: &'static str, size: usize, cap: u64 },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

impl RecordError {
    /// The I/O error underneath, for a caller whose own error names the file
    /// and takes an `io::Error`; an encoding or decoding failure becomes one
    /// of kind `InvalidData`.
    pub fn into_io(self) -> io::Error {
        match self {
            RecordError::Read { source, .. } | RecordError::Write { source, .. } => source,
            RecordError::Decode { source, .. } => io::Error::new(io::ErrorKind::InvalidData, source),
            RecordError::Encode { source, .. } => io::Error::new(io::ErrorKind::InvalidData, source),
            e @ RecordError::TooBig { .. } => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
        }
    }
}

/// FNV-1a, 64 bits: a few lines of std rather than a hashing crate; it only
/// has to notice accidents.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// `value` as a file of `kind`: the header line, then the RON body.
pub fn encode<T: Serialize>(kind: &Kind, value: &T) -> Result<String, ron::Error> {
    let pretty = ron::ser::PrettyConfig::new()
        .struct_names(true)
        .indentor("    ".to_string())
        .extensions(ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES);
    Ok(frame(kind, &ron::Options::default().to_string_pretty(value, pretty)?))
}

/// The header line for `body`, then `body` and a newline (counted in the
/// length and the checksum).
pub fn frame(kind: &Kind, body: &str) -> String {
    let body = format!("{body}\n");
    format!("{} {} {} {:016x}\n{body}", kind.magic, kind.version, body.len(), fnv1a64(body.as_bytes()))
}

/// Checks the size and the header, then parses the body. A position in an
/// error is the file's line and column: the header is line 1.
pub fn decode<T: DeserializeOwned>(kind: &Kind, text: &[u8]) -> Result<T, DecodeError> {
    if text.len() as u64 > kind.max_bytes {
        return Err(DecodeError::TooBig { what: kind.what, size: Some(text.len() as u64), cap: kind.max_bytes });
    }
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty { whitespace: !text.is_empty() });
    }
    let newline = text.iter().position(|b| *b == b'\n').ok_or(DecodeError::NoHeader)?;
    let header = std::str::from_utf8(&text[..newline]).map_err(|_| DecodeError::HeaderNotText)?;
    let body = &text[newline + 1..];
    let fields: Vec<&str> = header.split(' ').collect();
    let [magic, version, len, sum] = fields[..] else {
        return Err(DecodeError::HeaderShape { header: header.to_string(), magic: kind.magic });
    };
    if magic != kind.magic {
        return Err(DecodeError::OtherKind { found: magic.to_string(), what: kind.what });
    }
    if version != kind.version.to_string() {
        return Err(DecodeError::Version { found: version.to_string(), reads: kind.version });
    }
    let len: usize = len.parse().map_err(|_| DecodeError::Length { found: len.to_string() })?;
    if body.len() != len {
        return Err(DecodeError::BodyLength { body: body.len(), header: len });
    }
    // Compared as text: a parse would take `A` for `a`, and miss that flip.
    let have = format!("{:016x}", fnv1a64(body));
    if have != sum {
        return Err(DecodeError::Checksum { body: have, header: sum.to_string() });
    }
    let body = std::str::from_utf8(body).map_err(|_| DecodeError::BodyNotUtf8)?;
    lvs_config::ron_options().from_str(body).map_err(|mut e| {
        e.span.start.line += 1;
        e.span.end.line += 1;
        DecodeError::Body(Box::new(e))
    })
}

/// The file at `path`, or None when there is none.
pub fn load<T: DeserializeOwned>(path: &Path, kind: &Kind) -> Result<Option<T>, RecordError> {
    let Some(bytes) = read(path, kind)? else { return Ok(None) };
    decode(kind, &bytes).map(Some).map_err(|source| RecordError::Decode { path: path.into(), source })
}

/// The bytes of the file at `path`, a file of `kind`, or None when there is
/// none: for a kind that checks more than [`decode`] does (the state file's
/// body version). A file over the kind's cap is damaged, and not read whole.
pub fn read(path: &Path, kind: &Kind) -> Result<Option<Vec<u8>>, RecordError> {
    match capped::read(path, kind.max_bytes, kind.what) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(CappedReadError::Io { error, .. }) => Err(RecordError::Read { path: path.into(), source: error }),
        Err(CappedReadError::TooBig { size, cap, .. }) => {
            Err(RecordError::Decode { path: path.into(), source: DecodeError::TooBig { what: kind.what, size, cap } })
        }
    }
}

/// Writes `value` to `path` atomically.
pub fn store<T: Serialize>(path: &Path, kind: &Kind, value: &T) -> Result<(), RecordError> {
    let text = encode(kind, value).map_err(|source| RecordError::Encode {
        path: path.into(),
        what: kind.what,
        source: Box::new(source),
    })?;
    if text.len() as u64 > kind.max_bytes {
        return Err(RecordError::TooBig { path: path.into(), what: kind.what, size: text.len(), cap: kind.max_bytes });
    }
    crate::atomic_file::write(path, text.as_bytes()).map_err(|source| RecordError::Write { path: path.into(), source })
}

/// A run-dir record: missing is empty (the first start since boot).
/// Unreadable or damaged is empty too, with a warning that names the file,
/// says what is wrong and ends in `lost`: what the agent will not do for want
/// of the record, which is always the safe way to be wrong.
pub fn load_or_empty<T: DeserializeOwned + Default>(path: &Path, kind: &Kind, lost: &str) -> (T, Option<String>) {
    match load(path, kind) {
        Ok(record) => (record.unwrap_or_default(), None),
        Err(e) => (T::default(), Some(format!("{e}; it is ignored, so {lost}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const KIND: Kind = Kind { magic: "lvs-agent-test", version: 3, what: "test record", max_bytes: 1000 };

    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "Sample", deny_unknown_fields)]
    struct Sample {
        name: String,
        values: Vec<u32>,
        maybe: Option<String>,
    }

    fn sample() -> Sample {
        Sample { name: "a \"quoted\"\tname\n".into(), values: vec![1, 22, 333], maybe: Some("x".into()) }
    }

    #[test]
    fn encode_then_decode_gives_the_same_value() {
        let text = encode(&KIND, &sample()).unwrap();
        let (header, body) = text.split_once('\n').unwrap();
        assert_eq!(header, format!("lvs-agent-test 3 {} {:016x}", body.len(), fnv1a64(body.as_bytes())));
        assert!(body.contains("Sample(") && body.ends_with(")\n"), "{body}");
        assert_eq!(decode::<Sample>(&KIND, text.as_bytes()), Ok(sample()));
        let none = Sample { maybe: None, ..Sample::default() };
        assert_eq!(decode::<Sample>(&KIND, encode(&KIND, &none).unwrap().as_bytes()), Ok(none));
    }

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_file_cut_short_at_any_offset_is_refused() {
        let text = encode(&KIND, &sample()).unwrap();
        for cut in 0..text.len() {
            assert!(decode::<Sample>(&KIND, &text.as_bytes()[..cut]).is_err(), "cut at {cut} was accepted");
        }
    }

    #[test]
    fn a_flipped_or_zeroed_byte_anywhere_is_refused() {
        let text = encode(&KIND, &sample()).unwrap().into_bytes();
        for at in 0..text.len() {
            let mut damaged = text.clone();
            damaged[at] ^= 0x20;
            assert!(decode::<Sample>(&KIND, &damaged).is_err(), "a flip at {at} was accepted");
            damaged[at] = 0;
            assert!(decode::<Sample>(&KIND, &damaged).is_err(), "a zero at {at} was accepted");
        }
    }

    #[test]
    fn another_kind_or_version_is_refused_by_name() {
        let text = encode(&KIND, &sample()).unwrap();
        let other = Kind { magic: "lvs-agent-other", what: "other record", ..KIND };
        assert_eq!(
            decode::<Sample>(&other, text.as_bytes()).unwrap_err().to_string(),
            "not a other record (it starts with `lvs-agent-test`)"
        );
        let newer = text.replacen("lvs-agent-test 3 ", "lvs-agent-test 4 ", 1);
        assert_eq!(
            decode::<Sample>(&KIND, newer.as_bytes()).unwrap_err().to_string(),
            "format version 4; this agent reads version 3"
        );
    }

    #[test]
    fn a_sound_frame_around_a_wrong_body_is_refused() {
        let wrong = frame(&KIND, "Sample(name: \"x\", values: [1], maybe: None, extra: 1)");
        let e = decode::<Sample>(&KIND, wrong.as_bytes()).unwrap_err();
        assert!(matches!(e, DecodeError::Body(_)), "{e:?}");
        assert!(e.to_string().starts_with("unreadable body: "), "{e}");
    }

    #[test]
    fn an_empty_or_blank_file_is_damaged_not_empty() {
        assert_eq!(decode::<Sample>(&KIND, b""), Err(DecodeError::Empty { whitespace: false }));
        for blank in [&b"\n"[..], b"   ", b"\n\n\t \r\n"] {
            assert_eq!(decode::<Sample>(&KIND, blank), Err(DecodeError::Empty { whitespace: true }));
        }
        assert_eq!(
            DecodeError::Empty { whitespace: true }.to_string(),
            "the file is empty but for white space (cut short: a power cut can leave this)"
        );
    }

    #[test]
    fn a_file_over_the_cap_is_damaged_and_never_written() {
        let big = frame(&KIND, &format!("Sample(name: \"{}\", values: [], maybe: None)", "x".repeat(1000)));
        assert_eq!(
            decode::<Sample>(&KIND, big.as_bytes()).unwrap_err().to_string(),
            format!(
                "{} bytes, more than a test record may be (1000 bytes at most): damaged, or not the agent's",
                big.len()
            )
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.ron");
        // Sparse: 1 GiB that is never read.
        std::fs::File::create(&path).unwrap().set_len(1 << 30).unwrap();
        assert_eq!(
            load::<Sample>(&path, &KIND).unwrap_err().to_string(),
            format!(
                "{}: 1073741824 bytes, more than a test record may be (1000 bytes at most): damaged, or not the agent's",
                path.display()
            )
        );
        let long = Sample { name: "x".repeat(1000), ..sample() };
        let e = store(&path, &KIND, &long).unwrap_err();
        assert!(matches!(e, RecordError::TooBig { cap: 1000, .. }), "{e:?}");
        assert!(e.to_string().ends_with("more than the 1000 an agent reads back"), "{e}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 30, "the file is left as it was");
    }

    #[test]
    fn a_position_in_the_body_is_the_files_line() {
        // Line 1 is the header, so the body's second line is the file's third.
        let wrong = frame(&KIND, "Sample(\n    name: 5,\n    values: [], maybe: None)");
        let e = decode::<Sample>(&KIND, wrong.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with("unreadable body: 3:"), "{e}");
        let text = std::str::from_utf8(wrong.as_bytes()).unwrap();
        assert!(text.lines().nth(2).unwrap().contains("name: 5"), "{text}");
    }

    #[test]
    fn stores_loads_and_names_the_file_when_it_cannot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/sample.ron");
        assert_eq!(load::<Sample>(&path, &KIND).unwrap(), None, "missing is None");
        store(&path, &KIND, &sample()).unwrap();
        assert_eq!(load::<Sample>(&path, &KIND).unwrap(), Some(sample()));
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["sample.ron"], "no temporary file is left behind");

        std::fs::write(&path, b"lvs-agent-test 3 10 00").unwrap();
        let e = load::<Sample>(&path, &KIND).unwrap_err().to_string();
        assert_eq!(e, format!("{}: no header line (the file is cut short or empty)", path.display()));

        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"").unwrap();
        let e = store(&blocker.join("sample.ron"), &KIND, &sample()).unwrap_err();
        assert!(matches!(e, RecordError::Write { .. }), "{e:?}");
        assert!(e.to_string().starts_with(&format!("cannot write {}", blocker.join("sample.ron").display())), "{e}");
    }

    #[test]
    fn a_missing_record_is_empty_and_a_damaged_one_is_empty_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.ron");
        assert_eq!(load_or_empty::<Sample>(&path, &KIND, "nothing is done"), (Sample::default(), None));
        store(&path, &KIND, &sample()).unwrap();
        assert_eq!(load_or_empty::<Sample>(&path, &KIND, "nothing is done"), (sample(), None));
        std::fs::write(&path, "not a record at all (\n").unwrap();
        let (record, warning) = load_or_empty::<Sample>(&path, &KIND, "nothing is done");
        assert_eq!(record, Sample::default());
        assert_eq!(
            warning.unwrap(),
            format!(
                "{}: the header `not a record at all (` is not `lvs-agent-test VERSION LENGTH CHECKSUM`; \
                 it is ignored, so nothing is done",
                path.display()
            )
        );
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let (record, warning) = load_or_empty::<Sample>(&path, &KIND, "nothing is done");
        assert_eq!(record, Sample::default());
        let warning = warning.unwrap();
        assert!(warning.starts_with(&format!("cannot read {}: ", path.display())), "{warning}");
        assert!(warning.ends_with("; it is ignored, so nothing is done"), "{warning}");
    }
}
